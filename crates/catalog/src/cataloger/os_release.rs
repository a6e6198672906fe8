//! The operating system, from `os-release`.
//!
//! Debian and Ubuntu ship `/etc/os-release` as a symlink to
//! `../usr/lib/os-release`, so both paths are claimed and `/etc/os-release`
//! is resolved through the merged filesystem, as a process in the container
//! would see it.

use super::{display_path, Cataloger, Claim, Context, Found};
use crate::facts::Fact;
use crate::merge::MergedView;
use gpubom_formats::os_release::{parse, PATHS};
use gpubom_inventory::{Distro, LayerRef};

pub(crate) struct OsReleaseCataloger;

impl Cataloger for OsReleaseCataloger {
    fn claim(&self, path: &str, _size: u64) -> Option<Claim> {
        PATHS.contains(&path).then_some(Claim::Whole {
            max_bytes: 64 << 10,
        })
    }

    fn parse(&self, _path: &str, bytes: &[u8]) -> Vec<Fact> {
        parse(&String::from_utf8_lossy(bytes))
            .map(Fact::OsRelease)
            .into_iter()
            .collect()
    }

    fn resolve(&self, view: &MergedView, _context: &Context, found: &mut Found) {
        for candidate in PATHS {
            let Some(real) = view.resolve(candidate) else {
                continue;
            };
            for file_fact in view.facts_at(&real) {
                let layer = file_fact.layer;
                if let Fact::OsRelease(os) = file_fact.fact {
                    found.distro = Some(Distro {
                        id: os.id.clone(),
                        version_id: os.version_id.clone(),
                        codename: os.version_codename.clone(),
                        pretty_name: os.pretty_name.clone(),
                        id_like: os.id_like.clone(),
                        path: display_path(&real),
                        layer: Some(LayerRef { index: layer }),
                    });
                    return;
                }
            }
        }
    }
}
