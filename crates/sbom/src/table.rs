//! The table view: what a person at a terminal wants to see first.
//!
//! NVIDIA components lead (they are why gpubom exists), then models, then
//! everything else; each row says how the version was established, and each
//! model's row what loading it would do (its verdict and why). Every line fits
//! [`WIDTH`] columns: what does not fit is shortened in the middle.

use gpubom_inventory::gpu::{self, GpuArch};
use gpubom_inventory::text::for_terminal;
use gpubom_inventory::version::GenericVersion;
use gpubom_inventory::{props, Component, ComponentKind, Inventory, Technique};
use std::fmt::Write;

/// Writes one section's rows: [`table`], or [`model_table`] for models.
type Section = fn(&[&Component], &mut String);

pub fn render(inventory: &Inventory) -> String {
    let mut out = String::new();
    header(inventory, &mut out);
    let nvidia: Vec<&Component> = inventory
        .components
        .iter()
        .filter(|c| c.properties.contains_key(props::NVIDIA_FAMILY))
        .collect();
    let models: Vec<&Component> = inventory
        .components
        .iter()
        .filter(|c| c.kind.is_model_like())
        .collect();
    let rest: Vec<&Component> = inventory
        .components
        .iter()
        .filter(|c| !c.kind.is_model_like() && !c.properties.contains_key(props::NVIDIA_FAMILY))
        .collect();
    vulnerable(inventory, &mut out);
    let sections: [(_, _, Section); 3] = [
        ("NVIDIA stack", &nvidia, table),
        ("Models", &models, model_table),
        ("Packages", &rest, table),
    ];
    for (title, rows, write) in sections {
        if !rows.is_empty() {
            let _ = writeln!(out, "\n{title} ({})", rows.len());
            write(rows, &mut out);
        }
    }
    summary(inventory, &mut out);
    out
}

/// Components with known advisories, first: what a reader of the table acts on.
fn vulnerable(inventory: &Inventory, out: &mut String) {
    let rows: Vec<String> = inventory
        .vulnerabilities
        .iter()
        .flat_map(|v| {
            v.affects.iter().filter_map(move |&i| {
                let c = inventory.components.get(i)?;
                let counted = c
                    .properties
                    .get(props::ADVISORIES)
                    .is_some_and(|ids| ids.split(',').any(|id| id == v.id));
                let status = match (&v.analysis, counted) {
                    (Some(a), false) => format!("VEX {}", a.status),
                    _ => v.severity.clone().unwrap_or_else(|| "unrated".into()),
                };
                let fix = if v.fixed.is_empty() {
                    String::new()
                } else {
                    format!(", fixed in {}", v.fixed.join(" or "))
                };
                let row = format!(
                    "  {} {}  {} ({status}{fix})",
                    c.name,
                    c.version.as_deref().unwrap_or("?"),
                    v.id
                );
                Some(shorten(&for_terminal(&row), WIDTH))
            })
        })
        .collect();
    if !rows.is_empty() {
        let _ = writeln!(out, "\nVulnerable ({})", rows.len());
        for row in rows {
            let _ = writeln!(out, "{row}");
        }
    }
}

/// One line on what the image needs to run: the highest driver any component needs, and
/// the architectures every library with device code has kernels for, e.g.
/// `needs driver >= 580 (CUDA runtime 13.0); kernels for sm_75–sm_120 in all 9 libraries`.
fn gpu_summary(inventory: &Inventory) -> Option<String> {
    let driver = inventory
        .components
        .iter()
        .filter_map(|c| {
            let driver = c.properties.get(props::NVIDIA_MIN_DRIVER)?;
            Some((GenericVersion::parse(driver)?, driver, c))
        })
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, driver, c)| {
            let why = c
                .properties
                .get(props::NVIDIA_MIN_DRIVER_REASON)
                .map(|r| format!(" ({r})"))
                .unwrap_or_default();
            format!("needs driver >= {driver}{why}")
        });
    // Per component with device code: its lowest and highest architecture with kernels.
    let spans: Vec<(GpuArch, GpuArch, bool)> = inventory
        .components
        .iter()
        .filter(|c| !c.properties.contains_key(props::NVIDIA_FATBINS_ELSEWHERE))
        .filter_map(|c| {
            let list = |k: &str| gpu::parse_list(c.properties.get(k).map_or("", String::as_str));
            let (sass, ptx) = (list(props::NVIDIA_SM_ARCHS), list(props::NVIDIA_PTX_ARCHS));
            let all: Vec<GpuArch> = sass.iter().chain(&ptx).copied().collect();
            Some((*all.iter().min()?, *all.iter().max()?, !ptx.is_empty()))
        })
        .collect();
    let kernels = (!spans.is_empty()).then(|| {
        let low = spans.iter().map(|s| s.0).max().expect("not empty");
        let high = spans.iter().map(|s| s.1).min().expect("not empty");
        let later = if spans.iter().all(|s| s.2) {
            " and later (PTX)"
        } else {
            ""
        };
        let n = spans.len();
        if low <= high {
            format!("kernels for {low}–{high}{later} in all {n} components with device code")
        } else {
            format!("no architecture has kernels in all {n} components with device code")
        }
    });
    match (driver, kernels) {
        (None, None) => None,
        (Some(d), None) => Some(d),
        (None, Some(k)) => Some(k),
        (Some(d), Some(k)) => Some(format!("{d}; {k}")),
    }
}

/// The lines above the tables, each escaped whole: any of them may hold text
/// from the image, or from an SBOM gpubom did not write.
fn header(inventory: &Inventory, out: &mut String) {
    let mut put = |line: String| {
        let _ = writeln!(out, "{}", shorten(&for_terminal(&line), WIDTH));
    };
    let s = &inventory.subject;
    let name = s.name.clone().unwrap_or_else(|| s.location.clone());
    let reference = match &s.tag {
        Some(tag) => format!("{name}:{tag}"),
        None => name,
    };
    put(format!("Subject:   {reference} ({})", s.kind));
    if let Some(d) = &s.digest {
        put(format!("Digest:    {d}"));
    }
    if let Some(p) = &s.platform {
        put(format!("Platform:  {p}"));
    }
    if let Some(line) = gpu_summary(inventory) {
        put(format!("GPU:       {line}"));
    }
    if let Some(data) = &inventory.advisory_data {
        put(format!("Advisories: {data}"));
    }
    if let Some(d) = &inventory.distro {
        put(format!(
            "OS:        {}",
            d.pretty_name.as_deref().unwrap_or(&d.id)
        ));
    }
    if let Some(image) = &inventory.image {
        let user = match image.user.as_deref() {
            None | Some("") => "root (no USER)".to_string(),
            Some(u) => u.to_string(),
        };
        put(format!("User:      {user}"));
        let ports = if image.exposed_ports.is_empty() {
            "none".to_string()
        } else {
            image.exposed_ports.join(", ")
        };
        put(format!("Ports:     {ports}"));
    }
}

fn evidence_label(c: &Component) -> String {
    if c.kind.is_model_like() {
        // For a model the question is whether loading it runs code.
        return match c.properties.get(props::MODEL_VERDICT).map(String::as_str) {
            Some("unsafe") => "UNSAFE".to_string(),
            Some(other) => other.to_string(),
            None => "-".to_string(),
        };
    }
    let best = c
        .evidence
        .iter()
        .max_by(|a, b| a.confidence.total_cmp(&b.confidence));
    let label = match (c.kind, best.map(|e| e.technique)) {
        (ComponentKind::Deb, _) => "dpkg",
        (ComponentKind::Python, _) => "wheel",
        (_, Some(Technique::HashMatch)) => "sha256",
        (_, Some(Technique::BinaryAnalysis)) => "elf",
        (_, Some(Technique::FileName)) => "filename",
        (_, Some(Technique::PathHint)) => "path",
        (_, Some(Technique::Declared)) => "declared",
        (_, Some(Technique::PackageRecord | Technique::FileOwnership)) => "package",
        (_, None) => "-",
    };
    let mut label = label.to_string();
    if c.properties
        .get(props::VERSION_CONFLICT)
        .map(String::as_str)
        == Some("true")
    {
        label.push_str(" (conflict)");
    }
    label
}

/// Widest line the table view writes, in characters: it fits a 100-column
/// terminal. A longer cell is shortened in the middle with `…` (a path keeps
/// more of its end, the file name); the SBOM keeps every value whole.
pub const WIDTH: usize = 100;

/// `text` in at most `width` characters: the start and the end, `…` between.
fn shorten(text: &str, width: usize) -> String {
    let count = text.chars().count();
    if count <= width {
        return text.to_string();
    }
    let keep = width.saturating_sub(1);
    let head = keep / 3;
    let tail = keep - head;
    let start: String = text.chars().take(head).collect();
    let end: String = text.chars().skip(count - tail).collect();
    format!("{start}…{end}")
}

/// A row of a section: its cells, then the location, whose suffix (`(+2)
/// [layer 1]`) is never shortened. Every cell is already escaped.
type Row = (Vec<String>, String, String);

/// Where a component is: its first path, then how many more and its layer.
fn location(c: &Component) -> (String, String) {
    let path = c
        .locations
        .first()
        .map(|l| l.path.clone())
        .unwrap_or_default();
    let extra = c.locations.len().saturating_sub(1);
    let more = if extra > 0 {
        format!(" (+{extra})")
    } else {
        String::new()
    };
    let layer = c
        .layer
        .map(|l| l.index.to_string())
        .unwrap_or_else(|| "-".into());
    (path, format!("{more} [layer {layer}]"))
}

fn table(rows: &[&Component], out: &mut String) {
    let cells: Vec<Row> = rows
        .iter()
        .map(|c| {
            let kind = c
                .properties
                .get(props::NVIDIA_FAMILY)
                .cloned()
                .unwrap_or_else(|| c.kind.as_str().to_string());
            let version = c.version.clone().unwrap_or_else(|| "?".into());
            let (path, suffix) = location(c);
            escaped(
                [c.name.clone(), version, kind, evidence_label(c)],
                path,
                suffix,
            )
        })
        .collect();
    let titles = ["NAME", "VERSION", "TYPE", "EVIDENCE", "LOCATION"];
    grid(&titles, &[16, 10, 8, 8, 40], &cells, out);
}

/// Models by what matters before loading one: its format, the verdict on
/// whether loading it runs code, and why. A model is named by its file, so
/// its location, whose end a shortened path keeps, is its name too.
fn model_table(rows: &[&Component], out: &mut String) {
    let cells: Vec<Row> = rows
        .iter()
        .map(|c| {
            let property = |key: &str| c.properties.get(key).cloned().unwrap_or_default();
            let (path, suffix) = location(c);
            let path = if path.is_empty() {
                c.name.clone()
            } else {
                path
            };
            let cells = [
                property(props::MODEL_FORMAT),
                evidence_label(c),
                property(props::MODEL_VERDICT_REASON),
            ];
            escaped(cells, path, suffix)
        })
        .collect();
    let titles = ["FORMAT", "VERDICT", "REASON", "LOCATION"];
    grid(&titles, &[6, 7, 20, 48], &cells, out);
}

/// Every cell comes from the image: escaped before widths are measured, and
/// the whole line again once it is padded (see `grid`).
fn escaped<const N: usize>(cells: [String; N], path: String, suffix: String) -> Row {
    let escape = |cell: String| for_terminal(&cell).into_owned();
    (cells.map(escape).to_vec(), escape(path), escape(suffix))
}

/// Writes `rows` under `titles` (the last the location's) in at most [`WIDTH`]
/// characters a line: each column as wide as its widest cell, then the widest
/// column still above its `floor` narrowed a character at a time until the
/// line fits. The floors (and titles) of a section add up to less than
/// [`WIDTH`], so it always fits; a location keeps at least 40 characters (48
/// for a model, whose name it holds).
fn grid(titles: &[&str], floors: &[usize], rows: &[Row], out: &mut String) {
    let chars = |s: &str| s.chars().count();
    let last = titles.len() - 1;
    let mut widths: Vec<usize> = titles.iter().map(|t| chars(t)).collect();
    for (cells, path, suffix) in rows {
        for (w, cell) in widths.iter_mut().zip(cells) {
            *w = (*w).max(chars(cell));
        }
        widths[last] = widths[last].max(chars(path) + chars(suffix));
    }
    let gaps = 2 * last;
    while widths.iter().sum::<usize>() + gaps > WIDTH {
        let narrowable = |i: &usize| widths[*i] > floors[*i].max(chars(titles[*i]));
        let widest = (0..widths.len())
            .rev()
            .filter(narrowable)
            .max_by_key(|&i| widths[i]);
        match widest {
            Some(i) => widths[i] -= 1,
            None => break,
        }
    }
    let line = |cols: &[&str], out: &mut String| {
        let mut s = String::new();
        for (col, w) in cols.iter().zip(&widths).take(last) {
            let _ = write!(s, "{:<w$}  ", shorten(col, *w));
        }
        s.push_str(cols[last]);
        // The name starts the line, and cells of white space could leave a later
        // cell there: the padded line is escaped whole.
        let _ = writeln!(out, "{}", for_terminal(s.trim_end()));
    };
    line(titles, out);
    for (cells, path, suffix) in rows {
        let room = widths[last].saturating_sub(chars(suffix));
        let located = format!("{}{suffix}", shorten(path, room));
        let mut cols: Vec<&str> = cells.iter().map(String::as_str).collect();
        cols.push(&located);
        line(&cols, out);
    }
}

fn summary(inventory: &Inventory, out: &mut String) {
    let count = |k: ComponentKind| inventory.components.iter().filter(|c| c.kind == k).count();
    let _ = writeln!(
        out,
        "\n{} components: {} deb, {} python, {} native, {} models",
        inventory.components.len(),
        count(ComponentKind::Deb),
        count(ComponentKind::Python),
        count(ComponentKind::NativeLibrary),
        count(ComponentKind::Model) + count(ComponentKind::Data),
    );
}
