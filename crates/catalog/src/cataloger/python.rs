//! Python distributions installed anywhere in the tree.
//!
//! `*.dist-info/METADATA` (wheels), `*.egg-info/PKG-INFO` and bare
//! `*.egg-info` files (distutils) give name and version; `RECORD` lists the
//! files a wheel installed with their sha256, which later lets a native
//! library be tied to its wheel by content, not only by path. Site-packages,
//! dist-packages, virtualenvs and conda trees are all found the same way,
//! because claims are by file name, not by a fixed prefix.

use super::{display_path, Cataloger, Claim, Context, Declared, Found, Owner};
use crate::facts::Fact;
use crate::merge::MergedView;
use gpubom_formats::python::{
    classify, normalize_name, parse_metadata, parse_record, record_path_to_image_path, PythonDist,
    PythonFile,
};
use gpubom_inventory::purl::Purl;
use gpubom_inventory::{props, Component, ComponentKind, Evidence, LayerRef, Location, Technique};

pub(crate) struct PythonCataloger;

impl Cataloger for PythonCataloger {
    fn claim(&self, path: &str, _size: u64) -> Option<Claim> {
        classify(path).map(|_| Claim::Whole {
            max_bytes: 16 << 20,
        })
    }

    fn parse(&self, path: &str, bytes: &[u8]) -> Vec<Fact> {
        let text = String::from_utf8_lossy(bytes);
        match classify(path) {
            Some(PythonFile::Record { .. }) => vec![Fact::PythonRecord(parse_record(&text))],
            Some(_) => parse_metadata(&text)
                .map(Fact::PythonMetadata)
                .into_iter()
                .collect(),
            None => Vec::new(),
        }
    }

    fn resolve(&self, view: &MergedView, _context: &Context, found: &mut Found) {
        for file_fact in view.surviving() {
            let layer = file_fact.layer;
            let Fact::PythonMetadata(dist) = file_fact.fact else {
                continue;
            };
            // The distribution's directory (or, for a bare .egg-info file, the file).
            let dist_dir = match classify(file_fact.path) {
                Some(PythonFile::Metadata { dist_dir }) => dist_dir.to_string(),
                Some(PythonFile::PkgInfo { egg_dir }) => egg_dir.to_string(),
                _ => file_fact.path.to_string(),
            };
            let layer_ref = Some(LayerRef { index: layer });
            let mut properties = std::collections::BTreeMap::new();
            if let Some(requires_python) = &dist.requires_python {
                properties.insert(
                    props::PYTHON_REQUIRES_PYTHON.into(),
                    requires_python.clone(),
                );
            }
            let index = found.components.len();
            found.components.push(Component {
                kind: ComponentKind::Python,
                name: dist.name.clone(),
                version: Some(dist.version.clone()),
                purl: Some(purl(dist)),
                supplier: dist.author.clone(),
                description: dist.summary.clone(),
                licenses: dist.license.iter().cloned().collect(),
                locations: vec![Location {
                    path: display_path(&dist_dir),
                    layer: layer_ref,
                }],
                layer: layer_ref,
                evidence: vec![Evidence {
                    technique: Technique::PackageRecord,
                    confidence: Technique::PackageRecord.default_confidence(),
                    source: display_path(file_fact.path),
                    version: Some(dist.version.clone()),
                }],
                properties,
                ..Default::default()
            });
            record_ownership(view, &dist_dir, index, found);
            found.declared.push(Declared::Python {
                component: index,
                dist_dir,
                requires: dist.requires_dist.clone(),
            });
        }
    }
}

/// `pkg:pypi/<normalised name>@<version>`.
fn purl(dist: &PythonDist) -> String {
    Purl::new("pypi", &normalize_name(&dist.name))
        .version(&dist.version)
        .to_string()
}

fn record_ownership(view: &MergedView, dist_dir: &str, component: usize, found: &mut Found) {
    for file_fact in view.facts_at(&format!("{dist_dir}/RECORD")) {
        let Fact::PythonRecord(entries) = file_fact.fact else {
            continue;
        };
        for entry in entries {
            let Some(path) = record_path_to_image_path(dist_dir, &entry.path) else {
                continue;
            };
            found.owners.entry(path).or_insert(Owner {
                component,
                sha256: entry.sha256_hex.clone(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn purl_uses_the_normalised_name_synthetic() {
        let dist = gpubom_formats::python::parse_metadata("Name: Foo_Bar\nVersion: 1.0\n").unwrap();
        assert_eq!(super::purl(&dist), "pkg:pypi/foo-bar@1.0");
    }
}
