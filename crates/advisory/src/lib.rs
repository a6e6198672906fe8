//! Known vulnerabilities, offline: OSV advisories matched against an inventory.
//!
//! General scanners match PyPI and distro feeds; they say nothing about a
//! bare libnvinfer. gpubom matches whatever OSV records it is given
//! (`--advisories PATH`: the PyPI or Debian exports an organisation mirrors,
//! or records of its own for NVIDIA's stack) by **identity, never by bare
//! name**: an advisory names a package by purl, or by ecosystem and name,
//! which become the purl gpubom gives the component (`pkg:pypi/torch`,
//! `pkg:deb/debian/nvidia-container-toolkit`, `pkg:generic/nvidia/tensorrt`).
//! Versions are ordered by the component's ecosystem: PEP 440 for PyPI,
//! dpkg's for Debian (so `8.9.3.28-1+cuda12.1` sorts as dpkg sorts it), and
//! dotted numbers for NVIDIA's four-part versions. A component whose version
//! is unknown (known only from a SONAME) matches nothing, and the scan says so.

mod builtin;
#[doc(hidden)]
pub mod fuzzing;
mod osv;
mod vex;

pub use builtin::DATA_VERSION;
pub use osv::Advisory;
pub use vex::{Vex, MAX_VEX_FILE_BYTES};

use gpubom_inventory::file::read_regular_bytes;
use gpubom_inventory::version::{Ecosystem, Version};
use gpubom_inventory::{
    props, Component, Fact, Inventory, NotChecked, Severity, VulnerabilityFact,
};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The largest advisory file read (16 MiB): one OSV record per file, and the largest of the
/// built-in records (`advisories/`) is about 5 KB.
pub const MAX_ADVISORY_FILE_BYTES: u64 = 16 << 20;

/// Advisories loaded from files, each with where it came from.
#[derive(Debug, Default)]
pub struct Database {
    advisories: Vec<(Advisory, PathBuf)>,
    /// Package purl (without version) → the advisories that name it, so a
    /// component costs one lookup however large a mirrored export is.
    by_package: BTreeMap<String, Vec<usize>>,
    /// How many records came from the user's files.
    from_files: usize,
}

/// One advisory as `gpubom advisories list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    pub id: String,
    pub aliases: Vec<String>,
    /// The packages it names, as purls without a version.
    pub packages: Vec<String>,
    pub source: PathBuf,
}

impl Database {
    /// The built-in advisories, then the OSV JSON files at `paths` (or
    /// directories of them, recursively). An advisory whose ranges cannot be
    /// read is an error naming the file.
    pub fn load(paths: &[PathBuf]) -> Result<Database, String> {
        let mut advisories = Vec::new();
        for (path, text) in builtin::BUILTIN {
            let advisory = Advisory::parse(text.as_bytes())
                .map_err(|why| format!("built-in {path}: {why}"))?;
            advisories.push((advisory, PathBuf::from(format!("built-in:{path}"))));
        }
        let mut files = Vec::new();
        for path in paths {
            collect(path, &mut files)?;
        }
        if files.is_empty() && !paths.is_empty() {
            return Err(format!(
                "no advisories (*.json) in {}",
                paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let built_in = advisories.len();
        let mut from_files = 0;
        let mut superseded = BTreeSet::new();
        for file in files {
            let bytes = read_regular_bytes(&file, MAX_ADVISORY_FILE_BYTES)
                .map_err(|e| e.describe(&file, "an advisory file", MAX_ADVISORY_FILE_BYTES))?;
            let advisory =
                Advisory::parse(&bytes).map_err(|why| format!("{}: {why}", file.display()))?;
            // The user's copy of a built-in record (same id, or an alias such as its CVE or
            // GHSA) replaces it: a mirrored export is newer, and one vulnerability is listed once.
            let names: BTreeSet<&str> = advisory.names().collect();
            for (i, (known, _)) in advisories[..built_in].iter().enumerate() {
                if known.names().any(|n| names.contains(n)) {
                    superseded.insert(i);
                }
            }
            advisories.push((advisory, file));
            from_files += 1;
        }
        let advisories: Vec<(Advisory, PathBuf)> = advisories
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !superseded.contains(i))
            .map(|(_, a)| a)
            .collect();
        let mut by_package: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, (advisory, _)) in advisories.iter().enumerate() {
            for package in advisory.packages() {
                let named = by_package.entry(package).or_default();
                if named.last() != Some(&i) {
                    named.push(i);
                }
            }
        }
        Ok(Database {
            advisories,
            by_package,
            from_files,
        })
    }

    /// What an SBOM says of the data: `built-in data of 2026-11-26, 120 from
    /// --advisories`. Nothing in it depends on the day, so two scans of one
    /// image stay byte-identical; the table view adds the data's age.
    pub fn describe(&self) -> String {
        let mut text = format!("built-in data of {DATA_VERSION}");
        if self.from_files > 0 {
            text.push_str(&format!(", {} from --advisories", self.from_files));
        }
        text
    }

    pub fn list(&self) -> Vec<Listing> {
        self.advisories
            .iter()
            .map(|(a, source)| Listing {
                id: a.id.clone(),
                aliases: a.aliases.clone(),
                packages: a.packages(),
                source: source.clone(),
            })
            .collect()
    }

    /// Marks every component an advisory covers (`gpubom:advisories`, and the
    /// highest severity) unless a VEX statement says it is not affected or
    /// fixed, and records each advisory, with its VEX analysis, in
    /// `inventory.vulnerabilities`. Advisories a component already carries (an
    /// SBOM read back) are kept, unless a VEX statement now waives them. A
    /// component whose version is unknown is declared not checked. Returns
    /// what the user should be told: components an advisory names whose
    /// version is unknown, so nothing could be matched.
    pub fn annotate(&self, inventory: &mut Inventory, vex: &Vex) -> Vec<String> {
        let mut warnings = Vec::new();
        let mut unmatched = Vec::new();
        // Per advisory: the components it covers, their fixes, and a VEX analysis.
        let mut facts: BTreeMap<usize, VulnerabilityFact> = BTreeMap::new();
        for (index, component) in inventory.components.iter_mut().enumerate() {
            let identity = component.purl.as_deref().map(purl_base);
            let ecosystem = identity
                .as_deref()
                .map_or(Ecosystem::of(component.kind), ecosystem_of_purl);
            let version = component
                .version
                .as_deref()
                .and_then(|v| Version::parse(ecosystem, v));
            if version.is_none() && !component.kind.is_model_like() {
                unmatched.push(NotChecked::about(
                    Fact::Advisories,
                    component,
                    unknown_version_reason(component),
                ));
            }
            let (Some(purl), Some(identity)) = (component.purl.clone(), identity) else {
                continue;
            };
            let naming = self
                .by_package
                .get(&identity)
                .map_or(&[][..], Vec::as_slice);
            let Some(version) = version else {
                if !naming.is_empty() {
                    warnings.push(format!(
                        "{} advisory(ies) name {} ({identity}), but its version is unknown: not matched",
                        naming.len(),
                        component.name
                    ));
                }
                continue;
            };
            let mut counted = self.still_counted(component, vex, &purl, naming);
            for &i in naming {
                let advisory = &self.advisories[i].0;
                if !advisory.affects(&identity, &version) {
                    continue;
                }
                let fact = facts.entry(i).or_insert_with(|| VulnerabilityFact {
                    id: advisory.id.clone(),
                    aliases: advisory.aliases.clone(),
                    summary: advisory.summary.clone(),
                    severity: advisory.severity.map(|s| s.as_str().to_string()),
                    references: advisory.references.clone(),
                    ratings: advisory.ratings.clone(),
                    published: advisory.published.clone(),
                    modified: advisory.modified.clone(),
                    ..Default::default()
                });
                fact.affects.push(index);
                if let Some(fixed) = advisory.fixed_above(&identity, &version) {
                    let fixed = fixed.to_string();
                    if !fact.fixed.contains(&fixed) {
                        fact.fixed.push(fixed);
                    }
                }
                let analysis = vex.about(&|name| advisory.known_as(name), &purl);
                if let Some(analysis) = analysis {
                    fact.analysis = Some(analysis.clone());
                }
                if !analysis.is_some_and(vex::suppresses) {
                    counted.ids.insert(advisory.id.clone());
                    counted.severity = counted.severity.max(advisory.severity);
                }
            }
            let properties = &mut component.properties;
            if counted.ids.is_empty() {
                properties.remove(props::ADVISORIES);
                properties.remove(props::ADVISORY_SEVERITY);
                continue;
            }
            properties.insert(
                props::ADVISORIES.into(),
                counted.ids.into_iter().collect::<Vec<_>>().join(","),
            );
            if let Some(severity) = counted.severity {
                properties.insert(props::ADVISORY_SEVERITY.into(), severity.as_str().into());
            }
        }
        inventory.vulnerabilities = facts.into_values().collect();
        inventory.declare_not_checked(unmatched);
        warnings
    }

    /// The advisories `component` already carries (from an SBOM read back) that
    /// no VEX statement waives; `naming` are the loaded advisories that name its
    /// package (the index, not a pass over every advisory). Their recorded
    /// severity is the highest of all of them, so it stays while any of them
    /// does: an over-estimate, never an under-estimate.
    fn still_counted(
        &self,
        component: &Component,
        vex: &Vex,
        purl: &str,
        naming: &[usize],
    ) -> Counted {
        let recorded = component
            .properties
            .get(props::ADVISORIES)
            .map(String::as_str)
            .unwrap_or_default();
        let ids: BTreeSet<String> = recorded
            .split(',')
            .filter(|id| !id.is_empty())
            .filter(|id| {
                // Known here under this id or as an alias (built in, or loaded
                // again): a VEX statement may name it by any of its names.
                let known = naming
                    .iter()
                    .map(|&i| &self.advisories[i].0)
                    .find(|a| a.known_as(id));
                let names = |name: &str| known.map_or(name == *id, |a| a.known_as(name));
                !vex.about(&names, purl).is_some_and(vex::suppresses)
            })
            .map(str::to_owned)
            .collect();
        let severity = component
            .properties
            .get(props::ADVISORY_SEVERITY)
            .and_then(|s| s.parse().ok())
            .filter(|_| !ids.is_empty());
        Counted { ids, severity }
    }
}

/// A component's advisories that count, and the highest of their severities.
struct Counted {
    ids: BTreeSet<String>,
    severity: Option<Severity>,
}

/// Why no advisory can be matched against a component, and what would let it.
fn unknown_version_reason(component: &Component) -> String {
    match component.properties.get(props::NVIDIA_SONAME_MAJOR) {
        Some(major) => format!(
            "its version is unknown (its SONAME says only {major}), so no advisory can be matched; install it from NVIDIA's package or wheel, or add its sha256 with --fingerprints"
        ),
        None => "its version is unknown, so no advisory can be matched".into(),
    }
}

fn collect(path: &Path, files: &mut Vec<PathBuf>) -> Result<(), String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    // Anything but a directory is a file named: reading it says what it is if it is not one.
    if !meta.is_dir() {
        files.push(path.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            collect(&entry, files)?;
        } else if entry.extension().is_some_and(|x| x == "json") {
            files.push(entry);
        }
    }
    Ok(())
}

/// `pkg:type/namespace/name`: a purl without version, qualifiers or subpath, lowercased.
pub(crate) fn purl_base(purl: &str) -> String {
    let cut = purl.find(['@', '?', '#']).unwrap_or(purl.len());
    purl[..cut].to_ascii_lowercase()
}

/// Whose rules order the versions of the package a purl names.
pub(crate) fn ecosystem_of_purl(base: &str) -> Ecosystem {
    if base.starts_with("pkg:pypi/") {
        Ecosystem::Pypi
    } else if base.starts_with("pkg:deb/") {
        Ecosystem::Debian
    } else {
        Ecosystem::Generic
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gpubom_inventory::{Component, ComponentKind};

    fn tensorrt(version: Option<&str>) -> Component {
        Component {
            kind: ComponentKind::NativeLibrary,
            name: "tensorrt".into(),
            version: version.map(str::to_owned),
            purl: Some(match version {
                Some(v) => format!("pkg:generic/nvidia/tensorrt@{v}"),
                None => "pkg:generic/nvidia/tensorrt".into(),
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_version_known_only_from_a_soname_matches_nothing_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("synthetic.json");
        std::fs::write(
            &file,
            br#"{"id":"SYNTHETIC-TRT","affected":[{"package":{"purl":"pkg:generic/nvidia/tensorrt"},
            "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"10.16.1"}]}]}],
            "database_specific":{"severity":"CRITICAL"}}"#,
        )
        .unwrap();
        let database = Database::load(&[dir.path().to_path_buf()]).unwrap();
        let mut inventory = Inventory {
            components: vec![tensorrt(Some("10.3.0.26")), tensorrt(None)],
            ..Default::default()
        };
        let warnings = database.annotate(&mut inventory, &Vex::default());
        let known = &inventory.components[0].properties;
        assert!(known[props::ADVISORIES]
            .split(',')
            .any(|id| id == "SYNTHETIC-TRT"));
        assert_eq!(known[props::ADVISORY_SEVERITY], "critical");
        assert!(!inventory.components[1]
            .properties
            .contains_key(props::ADVISORIES));
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("version is unknown"), "{warnings:?}");
        // …and the gate is told it could not check that one.
        assert_eq!(
            inventory.not_checked,
            [NotChecked {
                fact: Fact::Advisories,
                subject: Some("tensorrt".into()),
                reason: "its version is unknown, so no advisory can be matched".into(),
            }]
        );
    }

    #[test]
    fn advisories_an_sbom_carries_stay_unless_a_vex_statement_waives_them_synthetic() {
        let mut torch = Component {
            kind: ComponentKind::Python,
            name: "torch".into(),
            version: Some("2.7.0".into()),
            purl: Some("pkg:pypi/torch@2.7.0".into()),
            ..Default::default()
        };
        // Matched when the SBOM was made, against data not loaded now.
        torch
            .properties
            .insert(props::ADVISORIES.into(), "SYNTHETIC-1,SYNTHETIC-2".into());
        torch
            .properties
            .insert(props::ADVISORY_SEVERITY.into(), "high".into());
        let database = Database::load(&[]).unwrap();
        let annotate = |vex: &Vex| {
            let mut inventory = Inventory {
                components: vec![torch.clone()],
                ..Default::default()
            };
            database.annotate(&mut inventory, vex);
            inventory.components.remove(0).properties
        };
        let kept = annotate(&Vex::default());
        assert_eq!(kept[props::ADVISORIES], "SYNTHETIC-1,SYNTHETIC-2");
        assert_eq!(kept[props::ADVISORY_SEVERITY], "high");

        let dir = tempfile::tempdir().unwrap();
        let statement = |id: &str| {
            let file = dir.path().join(format!("{id}.json"));
            std::fs::write(
                &file,
                format!(
                    r#"{{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{{
                    "vulnerability":{{"name":"{id}"}},"products":[{{"@id":"pkg:pypi/torch"}}],
                    "status":"not_affected","justification":"component_not_present"}}]}}"#
                ),
            )
            .unwrap();
            file
        };
        let one = Vex::load(&[statement("SYNTHETIC-1")]).unwrap();
        assert_eq!(annotate(&one)[props::ADVISORIES], "SYNTHETIC-2");
        let both = Vex::load(&[statement("SYNTHETIC-1"), statement("SYNTHETIC-2")]).unwrap();
        let waived = annotate(&both);
        assert!(!waived.contains_key(props::ADVISORIES), "{waived:?}");
        assert!(!waived.contains_key(props::ADVISORY_SEVERITY), "{waived:?}");
    }
}
