//! A [`Diff`] for people (text, Markdown for a pull-request comment) and for
//! machines (JSON). All three lead with the same headline, so a bot that posts
//! the JSON's `summary` says what a person reading the text would see first.

use super::compare::{Change, ComponentChange, Diff, Group, NotCompared};
use gpubom_inventory::text::{for_terminal, markdown};
use gpubom_policy::Finding;
use serde_json::{json, Value};
use std::fmt::Write;

/// One side of the comparison, as the report names it.
pub struct Side {
    /// The SBOM file as given on the command line.
    pub sbom: String,
    /// What the SBOM describes: `name:tag@digest`, or its location.
    pub subject: String,
}

/// How many changes the headline names before it counts the rest.
const HEADLINE_ITEMS: usize = 6;

/// The names NVIDIA and reviewers use, for the families gpubom knows; others
/// are shown as the component's name.
fn family_name(family: &str) -> Option<&'static str> {
    Some(match family {
        "cuda-runtime" => "CUDA runtime",
        "cuda-driver" => "CUDA driver",
        "cuda-driver-stub" => "CUDA driver stub",
        "cublas" => "cuBLAS",
        "cufft" => "cuFFT",
        "curand" => "cuRAND",
        "cusparse" => "cuSPARSE",
        "cusolver" => "cuSOLVER",
        "cusparselt" => "cuSPARSELt",
        "nvrtc" => "NVRTC",
        "nvjitlink" => "nvJitLink",
        "cupti" => "CUPTI",
        "nvtx" => "NVTX",
        "npp" => "NPP",
        "nvjpeg" => "nvJPEG",
        "cudnn" => "cuDNN",
        "tensorrt" => "TensorRT",
        "nccl" => "NCCL",
        "cufile" => "cuFile",
        "nvshmem" => "NVSHMEM",
        _ => return None,
    })
}

/// The component as a reviewer would name it: `cuDNN`, `model /models/x.pkl`, `numpy`.
fn label(c: &ComponentChange) -> String {
    match (c.group, &c.family) {
        (Group::Model, _) => format!(
            "{} {}",
            c.kind.as_str(),
            c.path.as_deref().unwrap_or(&c.name)
        ),
        // A wheel or deb of the family keeps its own name (nvidia-cudnn-cu12).
        (_, Some(family)) if c.name == *family => {
            family_name(family).map_or_else(|| c.name.clone(), str::to_owned)
        }
        _ => c.name.clone(),
    }
}

/// A version for reading: a model's content hash is shortened to what tells two apart.
fn version(v: &Option<String>) -> String {
    match v.as_deref() {
        None => "unknown".into(),
        Some(v) if v.starts_with("sha256:") && v.len() > 19 => format!("{}…", &v[..19]),
        Some(v) => v.into(),
    }
}

/// `8.9.2.26 → 9.1.0.70` for a change, the one version for an addition or removal.
fn versions(c: &ComponentChange) -> String {
    match c.change {
        Change::Added => version(&c.to),
        Change::Removed => version(&c.from),
        _ => format!("{} → {}", version(&c.from), version(&c.to)),
    }
}

/// What a model's loading would do, when that is the news: `unsafe pickle`.
fn concern(c: &ComponentChange) -> Option<String> {
    let verdict = c.verdict.as_deref().filter(|v| *v != "safe")?;
    Some(match &c.format {
        Some(format) => format!("{verdict} {format}"),
        None => verdict.to_string(),
    })
}

/// `text (unsafe pickle)` when that is the news.
fn with_concern(mut text: String, c: &ComponentChange) -> String {
    if let Some(concern) = concern(c) {
        let _ = write!(text, " ({concern})");
    }
    text
}

/// `cuDNN 8.9.2.26 → 9.1.0.70`, `model /models/x.pkl (unsafe pickle)`.
fn describe(c: &ComponentChange) -> String {
    // A model's path is its identity; its hash only says which change it was.
    let text = match (c.group, c.change) {
        (Group::Model, Change::Added | Change::Removed) => label(c),
        _ => format!("{} {}", label(c), versions(c)),
    };
    with_concern(text, c)
}

fn verb(change: Change) -> &'static str {
    match change {
        Change::Upgraded => "upgrades",
        Change::Downgraded => "downgrades",
        Change::Changed => "changes",
        Change::Added => "adds",
        Change::Removed => "removes",
    }
}

/// An empty user is the config naming none: the container runs as root.
fn user(u: &str) -> &str {
    if u.is_empty() {
        "root"
    } else {
        u
    }
}

fn ports_phrase(verb: &str, ports: &[String]) -> Option<String> {
    match ports {
        [] => None,
        [one] => Some(format!("{verb} port {one}")),
        many => Some(format!("{verb} ports {}", many.join(", "))),
    }
}

/// `2 new findings (unsafe-pickle, model-hash-unverified)`; the plural goes
/// on `finding`: `2 findings not compared (…)`.
fn findings_phrase(what: &str, findings: &[Finding]) -> Option<String> {
    if findings.is_empty() {
        return None;
    }
    let mut rules: Vec<&str> = Vec::new();
    for f in findings {
        if !rules.contains(&f.rule.as_str()) {
            rules.push(&f.rule);
        }
    }
    let what = match findings.len() {
        1 => what.to_string(),
        _ => what.replacen("finding", "findings", 1),
    };
    Some(format!("{} {what} ({})", findings.len(), rules.join(", ")))
}

/// `user, ports`: the image facts a side did not record, once each.
fn facts_not_compared(diff: &Diff) -> Option<String> {
    let mut facts: Vec<&str> = Vec::new();
    for fact in diff.facts_not_compared.iter().flat_map(|n| &n.facts) {
        if !facts.contains(&fact.as_str()) {
            facts.push(fact.as_str());
        }
    }
    (!facts.is_empty()).then(|| facts.join(", "))
}

fn fact_names(n: &NotCompared) -> Vec<&'static str> {
    n.facts.iter().map(|f| f.as_str()).collect()
}

/// `user, ports (new SBOM): this SBOM records no image config; …`.
fn not_compared_line(n: &NotCompared) -> String {
    format!(
        "{} ({} SBOM): {}",
        fact_names(n).join(", "),
        n.sides.join(" and "),
        n.reason
    )
}

/// One sentence, most important first: the NVIDIA stack and models, then who
/// the container runs as and what it listens on, then the other packages.
pub fn headline(diff: &Diff) -> String {
    let unknown = facts_not_compared(diff);
    if diff.is_empty() {
        return match unknown {
            None => "No changes to components, image user, ports or findings.".into(),
            Some(facts) => format!("No changes to components or findings; {facts} not compared."),
        };
    }
    let component = |c: &ComponentChange| match (c.group, c.change) {
        // Two content hashes say nothing in a sentence; the sections show them.
        (Group::Model, Change::Changed) => with_concern(format!("replaces {}", label(c)), c),
        _ => format!("{} {}", verb(c.change), describe(c)),
    };
    let mut phrases: Vec<String> = diff
        .components
        .iter()
        .filter(|c| c.group != Group::Other)
        .map(component)
        .collect();
    if let Some((from, to)) = &diff.user {
        phrases.push(format!("changes user {} → {}", user(from), user(to)));
    }
    phrases.extend(ports_phrase("opens", &diff.ports_opened));
    phrases.extend(ports_phrase("closes", &diff.ports_closed));
    phrases.extend(
        diff.components
            .iter()
            .filter(|c| c.group == Group::Other)
            .map(component),
    );
    if phrases.len() > HEADLINE_ITEMS {
        let rest = phrases.len() - (HEADLINE_ITEMS - 1);
        phrases.truncate(HEADLINE_ITEMS - 1);
        phrases.push(format!("and {rest} more changes"));
    }
    let mut sentence = phrases.join(", ");
    let findings: Vec<String> = [
        findings_phrase("new finding", &diff.new_findings),
        findings_phrase("resolved finding", &diff.resolved_findings),
        findings_phrase("finding not compared", &diff.findings_not_compared),
        unknown.map(|facts| format!("{facts} not compared")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !findings.is_empty() {
        if !sentence.is_empty() {
            sentence.push_str("; ");
        }
        sentence.push_str(&findings.join(", "));
    }
    let mut chars = sentence.chars();
    let first = chars.next().map(|c| c.to_uppercase().to_string());
    format!("{}{}.", first.unwrap_or_default(), chars.as_str())
}

/// Where a finding is: a path, else the subject's name.
fn place(f: &Finding) -> &str {
    f.subject.path.as_deref().unwrap_or(&f.subject.name)
}

/// The finding lists, new first, as `(status, finding)`.
fn findings(diff: &Diff) -> impl Iterator<Item = (&'static str, &Finding)> {
    let new = diff.new_findings.iter().map(|f| ("new", f));
    new.chain(diff.resolved_findings.iter().map(|f| ("resolved", f)))
        .chain(
            diff.findings_not_compared
                .iter()
                .map(|f| ("not compared", f)),
        )
}

/// The image rows as `(what, old, new)`.
fn image_rows(diff: &Diff) -> Vec<(String, String, String)> {
    let mut rows = Vec::new();
    if let Some((from, to)) = &diff.user {
        rows.push(("user".into(), user(from).into(), user(to).into()));
    }
    let port = |p: &String, old: &str, new: &str| (format!("port {p}"), old.into(), new.into());
    rows.extend(diff.ports_opened.iter().map(|p| port(p, "-", "exposed")));
    rows.extend(diff.ports_closed.iter().map(|p| port(p, "exposed", "-")));
    rows
}

pub fn text(diff: &Diff) -> String {
    // Names, paths and versions come from the images: escaped for the terminal.
    let mut lines = vec![headline(diff)];
    if !diff.components.is_empty() {
        lines.push(String::new());
        lines.push("Components:".into());
        for c in &diff.components {
            let mut line = format!("  {:<11} {}", c.change.as_str(), describe(c));
            if c.group != Group::Model {
                let _ = write!(line, "  [{}", c.kind.as_str());
                if let Some(path) = &c.path {
                    let _ = write!(line, " at {path}");
                }
                line.push(']');
            }
            lines.push(line);
        }
    }
    let image = image_rows(diff);
    if !image.is_empty() {
        lines.push(String::new());
        lines.push("Image:".into());
        for (what, old, new) in image {
            lines.push(format!("  {what:<11} {old} → {new}"));
        }
    }
    if findings(diff).next().is_some() {
        lines.push(String::new());
        lines.push("Findings:".into());
        for (status, f) in findings(diff) {
            lines.push(format!(
                "  {status:<11} {:<8} [{}] {}: {}",
                f.severity.as_str(),
                f.rule,
                f.message,
                place(f)
            ));
        }
    }
    if !diff.facts_not_compared.is_empty() {
        lines.push(String::new());
        lines.push("Not compared:".into());
        for n in &diff.facts_not_compared {
            lines.push(format!("  {}", not_compared_line(n)));
        }
    }
    lines
        .iter()
        .map(|l| for_terminal(l) + "\n")
        .collect::<String>()
}

fn table(out: &mut String, header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) {
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| markdown::text(c)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out.push('\n');
}

pub fn markdown(diff: &Diff, old: &Side, new: &Side) -> String {
    let mut out = String::from("### gpubom diff\n\n");
    let _ = writeln!(
        out,
        "{} → {}\n\n{}\n",
        markdown::text(&old.subject),
        markdown::text(&new.subject),
        markdown::text(&headline(diff))
    );
    if !diff.components.is_empty() {
        let rows = diff.components.iter().map(|c| {
            vec![
                c.change.as_str().into(),
                with_concern(label(c), c),
                c.kind.as_str().into(),
                versions(c),
            ]
        });
        table(&mut out, &["Change", "Component", "Kind", "Version"], rows);
    }
    let image = image_rows(diff);
    if !image.is_empty() {
        let rows = image
            .into_iter()
            .map(|(what, old, new)| vec![what, old, new]);
        table(&mut out, &["Image", "Old", "New"], rows);
    }
    if findings(diff).next().is_some() {
        let rows = findings(diff).map(|(status, f)| {
            vec![
                status.into(),
                f.severity.as_str().into(),
                f.rule.clone(),
                f.message.clone(),
                place(f).into(),
            ]
        });
        table(
            &mut out,
            &["Finding", "Severity", "Rule", "Message", "Where"],
            rows,
        );
    }
    if !diff.facts_not_compared.is_empty() {
        let rows = diff.facts_not_compared.iter().map(|n| {
            vec![
                fact_names(n).join(", "),
                n.sides.join(" and "),
                n.reason.clone(),
            ]
        });
        table(&mut out, &["Not compared", "Not in", "Why"], rows);
    }
    out
}

/// One component change; the shape is documented in the README.
fn component_json(c: &ComponentChange) -> Value {
    let mut v = json!({ "name": c.name, "kind": c.kind.as_str() });
    let mut set = |key: &str, value: Value| {
        v[key] = value;
    };
    match c.change {
        Change::Added => set("version", json!(c.to)),
        Change::Removed => set("version", json!(c.from)),
        _ => {
            set("from", json!(c.from));
            set("to", json!(c.to));
        }
    }
    for (key, value) in [
        ("family", &c.family),
        ("path", &c.path),
        ("verdict", &c.verdict),
        ("format", &c.format),
    ] {
        if let Some(value) = value {
            set(key, json!(value));
        }
    }
    v
}

pub fn json(diff: &Diff, old: &Side, new: &Side) -> String {
    let side = |s: &Side| json!({ "sbom": s.sbom, "subject": s.subject });
    let mut components = serde_json::Map::new();
    for change in Change::ALL {
        let list: Vec<Value> = diff.changes(change).map(component_json).collect();
        components.insert(change.as_str().into(), Value::Array(list));
    }
    let mut image = json!({
        "ports_opened": diff.ports_opened,
        "ports_closed": diff.ports_closed,
    });
    if let Some((from, to)) = &diff.user {
        image["user"] = json!({ "from": from, "to": to });
    }
    image["not_compared"] = diff
        .facts_not_compared
        .iter()
        .map(|n| json!({ "facts": fact_names(n), "sides": n.sides, "reason": n.reason }))
        .collect();
    let doc = json!({
        "old": side(old),
        "new": side(new),
        "summary": headline(diff),
        "components": components,
        "image": image,
        "findings": {
            "new": diff.new_findings,
            "resolved": diff.resolved_findings,
            "not_compared": diff.findings_not_compared,
        },
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}
