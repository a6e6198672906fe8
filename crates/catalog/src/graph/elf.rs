//! `DT_NEEDED` edges: each library an ELF file names, found where the image's
//! loader would find it, and attributed to the component that ships that file.
//!
//! The search follows glibc's `ld.so`, for a library loaded directly: the file's
//! `DT_RPATH` (only when it has no `DT_RUNPATH`), the image's `LD_LIBRARY_PATH`,
//! its `DT_RUNPATH`, the directories of `ld.so.conf` (what `ldconfig` caches),
//! then the system directories, multiarch first. `$ORIGIN` is the file's own
//! directory; entries with `$LIB` or `$PLATFORM` and relative ones are skipped,
//! and `DT_RPATH` is not inherited from the loading object. A file is attributed
//! to a library component by its location, else to the package that lists it
//! (wheel `RECORD`, dpkg `.list`). A name found in no directory is listed as
//! unresolved; a file found that no component owns gives no edge.
//!
//! Which files are read is the NVIDIA cataloger's choice: each `NativeLibrary`
//! fact with ELF facts is a file whose needs are known.

use super::{Graph, Platform};
use crate::cataloger::Found;
use crate::facts::{Fact, FileKind};
use crate::merge::MergedView;
use gpubom_formats::elf::ElfFacts;
use gpubom_inventory::{props, ComponentKind, DependencyKind};
use std::collections::HashMap;

/// `DT_NEEDED` names read per file (real libraries name up to about 40).
const MAX_NEEDED: usize = 256;
/// Entries read from one search path (`DT_RUNPATH`, `LD_LIBRARY_PATH`).
const MAX_PATH_ENTRIES: usize = 32;
/// Directory probes in all, so crafted search paths cannot make the walk quadratic.
pub(crate) const MAX_PROBES: usize = 2_000_000;
/// The longest library name looked up (NAME_MAX).
const MAX_NAME: usize = 255;

pub(super) fn resolve(view: &MergedView, found: &Found, platform: &Platform, graph: &mut Graph) {
    let owners = Owners::new(found);
    let ld_library_path: Vec<String> = platform
        .env
        .iter()
        .find_map(|kv| kv.strip_prefix("LD_LIBRARY_PATH="))
        .map(|value| absolute_entries(value, None))
        .unwrap_or_default();
    let mut finder = Finder {
        view,
        probes_left: MAX_PROBES,
        found_in: HashMap::new(),
    };
    for file in view.surviving() {
        let Fact::NativeLibrary(library) = file.fact else {
            continue;
        };
        let (Some(elf), Some(from)) = (&library.elf, owners.of(file.path)) else {
            continue;
        };
        let dirs = search_dirs(file.path, elf, &ld_library_path, &found.library_dirs);
        for name in elf.needed.iter().take(MAX_NEEDED) {
            match finder.find(name, &dirs) {
                Some(path) => {
                    if let Some(to) = owners.of(&path) {
                        graph.edge(from, to, DependencyKind::Links);
                    }
                }
                None if finder.probes_left == 0 => {}
                None => graph.unresolved(from, props::UNRESOLVED_NEEDED, name),
            }
        }
    }
    if finder.probes_left == 0 {
        graph.warn(format!(
            "dependency graph: library lookups stopped after {MAX_PROBES} directory probes"
        ));
    }
}

/// Which component ships a file.
struct Owners<'a> {
    /// Library components by the files they stand for.
    libraries: HashMap<&'a str, usize>,
    found: &'a Found,
}

impl<'a> Owners<'a> {
    fn new(found: &'a Found) -> Self {
        let mut libraries = HashMap::new();
        for (index, component) in found.components.iter().enumerate() {
            if component.kind != ComponentKind::NativeLibrary {
                continue;
            }
            for location in &component.locations {
                libraries
                    .entry(location.path.trim_start_matches('/'))
                    .or_insert(index);
            }
        }
        Owners { libraries, found }
    }

    fn of(&self, path: &str) -> Option<usize> {
        self.libraries
            .get(path)
            .copied()
            .or_else(|| self.found.owners.get(path).map(|owner| owner.component))
    }
}

/// Where the loader looks for what `path` needs, in order (no leading `/`).
fn search_dirs(
    path: &str,
    elf: &ElfFacts,
    ld_library_path: &[String],
    conf_dirs: &[String],
) -> Vec<String> {
    let origin = path.rsplit_once('/').map_or("", |(dir, _)| dir);
    let own = |list: &Option<String>| {
        list.as_deref()
            .map(|value| absolute_entries(value, Some(origin)))
            .unwrap_or_default()
    };
    let mut dirs = Vec::new();
    if elf.runpath.is_none() {
        dirs.extend(own(&elf.rpath));
    }
    dirs.extend(ld_library_path.iter().cloned());
    dirs.extend(own(&elf.runpath));
    dirs.extend(conf_dirs.iter().cloned());
    dirs.extend(system_dirs(&elf.machine));
    let mut seen = std::collections::HashSet::new();
    dirs.retain(|d| seen.insert(d.clone()));
    dirs
}

/// The entries of a `:`-separated search path as image paths: `$ORIGIN`
/// replaced by `origin`, relative and unexpandable entries left out.
fn absolute_entries(value: &str, origin: Option<&str>) -> Vec<String> {
    value
        .split(':')
        .take(MAX_PATH_ENTRIES)
        .filter_map(|entry| {
            let expanded = match origin {
                Some(origin) => entry
                    .replace("${ORIGIN}", &format!("/{origin}"))
                    .replace("$ORIGIN", &format!("/{origin}")),
                None => entry.to_string(),
            };
            (expanded.starts_with('/') && !expanded.contains('$'))
                .then(|| expanded.trim_matches('/').to_string())
        })
        .collect()
}

/// glibc's default directories for the file's machine, multiarch first.
fn system_dirs(machine: &str) -> Vec<String> {
    let triplet = match machine {
        "x86_64" => Some("x86_64-linux-gnu"),
        "aarch64" => Some("aarch64-linux-gnu"),
        "ppc64" => Some("powerpc64le-linux-gnu"),
        _ => None,
    };
    let mut dirs = Vec::new();
    if let Some(triplet) = triplet {
        dirs.push(format!("lib/{triplet}"));
        dirs.push(format!("usr/lib/{triplet}"));
    }
    dirs.extend(["lib64", "usr/lib64", "lib", "usr/lib"].map(String::from));
    dirs
}

/// Looks names up in directories of the merged filesystem, remembering each answer.
struct Finder<'v, 'a> {
    view: &'v MergedView<'a>,
    probes_left: usize,
    /// (directory, name) → the regular file it reaches, if any.
    found_in: HashMap<(String, String), Option<String>>,
}

impl Finder<'_, '_> {
    /// The image path of the regular file the loader would open for `name`.
    fn find(&mut self, name: &str, dirs: &[String]) -> Option<String> {
        if name.len() > MAX_NAME || name.is_empty() {
            return None;
        }
        if let Some(absolute) = name.strip_prefix('/') {
            return self.probe("", absolute);
        }
        if name.contains('/') {
            return None; // Relative to the process's directory, which the image does not fix.
        }
        dirs.iter().find_map(|dir| self.probe(dir, name))
    }

    fn probe(&mut self, dir: &str, name: &str) -> Option<String> {
        let key = (dir.to_string(), name.to_string());
        if let Some(known) = self.found_in.get(&key) {
            return known.clone();
        }
        if self.probes_left == 0 {
            return None;
        }
        self.probes_left -= 1;
        let candidate = if dir.is_empty() {
            name.to_string()
        } else {
            format!("{dir}/{name}")
        };
        let real = self.view.resolve(&candidate).filter(|real| {
            self.view.get(real).is_some_and(|(_, record)| {
                matches!(record.kind, FileKind::File | FileKind::Hardlink(_))
            })
        });
        self.found_in.insert(key, real.clone());
        real
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_order_synthetic() {
        let elf = ElfFacts {
            machine: "x86_64".into(),
            runpath: Some(
                "$ORIGIN/../../nvidia/cublas/lib:${ORIGIN}:relative:$LIB/x:/opt/a/".into(),
            ),
            rpath: Some("/ignored/because/runpath".into()),
            ..Default::default()
        };
        let dirs = search_dirs(
            "usr/lib/python3/site/torch/lib/libtorch_cuda.so",
            &elf,
            &["usr/local/nvidia/lib64".to_string()],
            &["usr/local/cuda/lib64".to_string(), "opt/a".to_string()],
        );
        assert_eq!(
            dirs,
            [
                "usr/local/nvidia/lib64",
                "usr/lib/python3/site/torch/lib/../../nvidia/cublas/lib",
                "usr/lib/python3/site/torch/lib",
                "opt/a",
                "usr/local/cuda/lib64",
                "lib/x86_64-linux-gnu",
                "usr/lib/x86_64-linux-gnu",
                "lib64",
                "usr/lib64",
                "lib",
                "usr/lib",
            ]
        );
        let rpath_only = ElfFacts {
            rpath: Some("/first".into()),
            ..Default::default()
        };
        let dirs = search_dirs("a/b.so", &rpath_only, &["second".to_string()], &[]);
        assert_eq!(dirs[..2], ["first", "second"]);
    }
}
