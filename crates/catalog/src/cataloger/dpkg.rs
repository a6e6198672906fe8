//! Debian packages from the dpkg database.
//!
//! Reads `var/lib/dpkg/status`, distroless `status.d/*` files, the
//! `info/*.list` files that say which package owns which path, and DEP-5
//! `copyright` files for licenses. A package is attributed to the lowest layer
//! from which the status database has continuously listed it at that version,
//! so an `apt-get install` in layer 3 is reported in layer 3 even though every
//! later install rewrote the status file.

use super::{display_path, Cataloger, Claim, Context, Declared, Found, Owner};
use crate::facts::{Fact, FileKind};
use crate::merge::MergedView;
use gpubom_formats::dpkg::{
    classify, copyright_path_package, licenses_from_copyright, parse_list, parse_status, DpkgFile,
    DpkgPackage,
};
use gpubom_inventory::purl::Purl;
use gpubom_inventory::{props, Component, ComponentKind, Evidence, LayerRef, Location, Technique};

const STATUS: &str = "var/lib/dpkg/status";
const INFO_DIR: &str = "var/lib/dpkg/info";

pub(crate) struct DpkgCataloger;

impl Cataloger for DpkgCataloger {
    fn claim(&self, path: &str, _size: u64) -> Option<Claim> {
        match classify(path) {
            Some(DpkgFile::Status | DpkgFile::StatusD | DpkgFile::List { .. }) => {
                // The largest real status databases and lists are a few MiB.
                Some(Claim::Whole {
                    max_bytes: 16 << 20,
                })
            }
            _ => copyright_path_package(path).map(|_| Claim::Whole { max_bytes: 1 << 20 }),
        }
    }

    fn parse(&self, path: &str, bytes: &[u8]) -> Vec<Fact> {
        let text = String::from_utf8_lossy(bytes);
        let fact = match classify(path) {
            Some(DpkgFile::Status | DpkgFile::StatusD) => Fact::DpkgStatus(parse_status(&text)),
            // Listed paths are bytes, spelled as the layer walk spells names.
            Some(DpkgFile::List { .. }) => {
                let lines: Vec<String> = bytes
                    .split(|b| *b == b'\n')
                    .map(gpubom_image::exact_path)
                    .collect();
                Fact::DpkgList(parse_list(&lines.join("\n")))
            }
            _ => Fact::DpkgCopyright(licenses_from_copyright(&text)),
        };
        vec![fact]
    }

    fn resolve(&self, view: &MergedView, _context: &Context, found: &mut Found) {
        let distro = found
            .distro
            .as_ref()
            .map(|d| (d.id.clone(), d.version_id.clone()));
        let distro = distro.as_ref().map(|(id, v)| (id.as_str(), v.as_deref()));
        for file_fact in view.surviving() {
            let layer = file_fact.layer;
            let Fact::DpkgStatus(packages) = file_fact.fact else {
                continue;
            };
            let in_main_db = file_fact.path == STATUS;
            for pkg in packages {
                let introduced = if in_main_db {
                    introducing_layer(view, layer, pkg)
                } else {
                    layer
                };
                let list = list_path(view, pkg);
                let component = component(
                    view,
                    pkg,
                    list.as_deref(),
                    file_fact.path,
                    introduced,
                    distro,
                );
                let index = found.components.len();
                if let Some(list) = &list {
                    record_ownership(view, list, index, found);
                }
                found.components.push(component);
                found.declared.push(Declared::Deb {
                    component: index,
                    architecture: pkg.architecture.clone(),
                    depends: pkg.depends.clone(),
                    provides: pkg.provides.clone(),
                });
            }
        }
    }
}

/// The lowest layer from which every status database up to `top` lists `pkg` at its version.
fn introducing_layer(view: &MergedView, top: usize, pkg: &DpkgPackage) -> usize {
    let mut introduced = top;
    for file_fact in view.history(STATUS).into_iter().rev() {
        let layer = file_fact.layer;
        if layer > top {
            continue;
        }
        let Fact::DpkgStatus(packages) = file_fact.fact else {
            continue;
        };
        let same = packages.iter().any(|p| {
            p.name == pkg.name && p.version == pkg.version && p.architecture == pkg.architecture
        });
        if !same {
            break;
        }
        introduced = layer;
    }
    introduced
}

fn list_path(view: &MergedView, pkg: &DpkgPackage) -> Option<String> {
    let qualified = pkg
        .architecture
        .as_ref()
        .map(|arch| format!("{INFO_DIR}/{}:{arch}.list", pkg.name));
    let plain = format!("{INFO_DIR}/{}.list", pkg.name);
    qualified
        .into_iter()
        .chain([plain])
        .find(|p| view.exists(p))
}

fn component(
    view: &MergedView,
    pkg: &DpkgPackage,
    list: Option<&str>,
    db_path: &str,
    layer: usize,
    distro: Option<(&str, Option<&str>)>,
) -> Component {
    let layer = Some(LayerRef { index: layer });
    let mut locations = vec![Location {
        path: display_path(db_path),
        layer,
    }];
    if let Some(list) = list {
        let list_layer = view.get(list).map(|(l, _)| LayerRef { index: l });
        locations.push(Location {
            path: display_path(list),
            layer: list_layer,
        });
    }
    let licenses = view
        .facts_at(&format!("usr/share/doc/{}/copyright", pkg.name))
        .into_iter()
        .find_map(|f| match f.fact {
            Fact::DpkgCopyright(licenses) => Some(licenses.clone()),
            _ => None,
        })
        .unwrap_or_default();
    let mut properties = std::collections::BTreeMap::new();
    if let Some(arch) = &pkg.architecture {
        properties.insert(props::DEB_ARCHITECTURE.into(), arch.clone());
    }
    if let Some(source) = &pkg.source {
        properties.insert(props::DEB_SOURCE.into(), source.clone());
    }
    if let Some(source_version) = &pkg.source_version {
        properties.insert(props::DEB_SOURCE_VERSION.into(), source_version.clone());
    }
    Component {
        kind: ComponentKind::Deb,
        name: pkg.name.clone(),
        version: Some(pkg.version.clone()),
        purl: Some(purl(pkg, distro)),
        supplier: pkg.maintainer.clone(),
        description: pkg.description.clone(),
        licenses,
        locations,
        layer,
        evidence: vec![Evidence {
            technique: Technique::PackageRecord,
            confidence: Technique::PackageRecord.default_confidence(),
            source: display_path(db_path),
            version: Some(pkg.version.clone()),
        }],
        properties,
        ..Default::default()
    }
}

/// Syft-compatible purl: `pkg:deb/<distro>/<name>@<version>?arch=…&distro=<id>-<version_id>`.
fn purl(pkg: &DpkgPackage, distro: Option<(&str, Option<&str>)>) -> String {
    let namespace = distro.map(|(id, _)| id).unwrap_or("debian");
    let mut p = Purl::new("deb", &pkg.name)
        .namespace(namespace)
        .version(&pkg.version)
        .qualifier("arch", pkg.architecture.as_deref().unwrap_or(""));
    if let Some((id, Some(version_id))) = distro {
        p = p.qualifier("distro", &format!("{id}-{version_id}"));
    }
    if let Some(source) = pkg.source.as_deref().filter(|s| *s != pkg.name) {
        let upstream = match &pkg.source_version {
            Some(v) => format!("{source}@{v}"),
            None => source.to_string(),
        };
        p = p.qualifier("upstream", &upstream);
    }
    p.to_string()
}

/// Marks every visible file listed in the package's `.list` as owned by it.
/// Listed paths are as shipped in the `.deb` (`/lib/…`), which on merged-/usr
/// systems reach the real file through a symlink, so they are resolved.
fn record_ownership(view: &MergedView, list: &str, component: usize, found: &mut Found) {
    for file_fact in view.facts_at(list) {
        let Fact::DpkgList(paths) = file_fact.fact else {
            continue;
        };
        for listed in paths {
            let real = if view.exists(listed) {
                Some(listed.clone())
            } else {
                view.resolve(listed)
            };
            let Some(real) = real else { continue };
            let is_file = view
                .get(&real)
                .is_some_and(|(_, r)| r.kind != FileKind::Dir);
            if is_file {
                found.owners.entry(real).or_insert(Owner {
                    component,
                    sha256: None,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purl_with_upstream() {
        let pkg = DpkgPackage {
            name: "libbz2-1.0".into(),
            version: "1.0.8-5+b1".into(),
            architecture: Some("amd64".into()),
            source: Some("bzip2".into()),
            source_version: Some("1.0.8-5".into()),
            ..Default::default()
        };
        assert_eq!(
            purl(&pkg, Some(("debian", Some("12")))),
            "pkg:deb/debian/libbz2-1.0@1.0.8-5%2Bb1?arch=amd64&distro=debian-12&upstream=bzip2%401.0.8-5"
        );
    }
}
