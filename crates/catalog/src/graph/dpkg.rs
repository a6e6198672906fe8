//! `Pre-Depends` and `Depends` edges between installed Debian packages.
//!
//! Each requirement is satisfied by its first alternative that is installed
//! (`a | b`), by name, or else by an installed package that `Provides` it;
//! among several packages of one name (multiarch), the one of the same
//! architecture, then `all`, is chosen. Version constraints are not checked:
//! dpkg already refused to install what they forbid.

use super::Graph;
use crate::cataloger::{Declared, Found};
use gpubom_inventory::{props, DependencyKind};
use std::collections::HashMap;

/// Requirements read per package (the largest real ones list about a hundred).
const MAX_REQUIREMENTS: usize = 512;
/// Alternatives read per requirement.
const MAX_ALTERNATIVES: usize = 16;

/// An installed package: its component and architecture.
type Installed<'a> = (usize, Option<&'a str>);

pub(super) fn resolve(found: &Found, graph: &mut Graph) {
    let mut by_name: HashMap<&str, Vec<Installed>> = HashMap::new();
    let mut providers: HashMap<&str, Vec<Installed>> = HashMap::new();
    let debs: Vec<(Installed, &Vec<Vec<String>>)> = found
        .declared
        .iter()
        .filter_map(|declared| match declared {
            Declared::Deb {
                component,
                architecture,
                depends,
                provides,
            } => {
                let name = found.components.get(*component)?.name.as_str();
                let installed = (*component, architecture.as_deref());
                by_name.entry(name).or_default().push(installed);
                for virtual_name in provides.iter().take(MAX_REQUIREMENTS) {
                    providers
                        .entry(virtual_name.as_str())
                        .or_default()
                        .push(installed);
                }
                Some((installed, depends))
            }
            Declared::Python { .. } => None,
        })
        .collect();
    for ((component, architecture), depends) in debs {
        for alternatives in depends.iter().take(MAX_REQUIREMENTS) {
            let alternatives = alternatives.get(..MAX_ALTERNATIVES).unwrap_or(alternatives);
            let satisfied = alternatives.iter().find_map(|name| {
                let name = name.as_str();
                by_name
                    .get(name)
                    .or_else(|| providers.get(name))
                    .and_then(|candidates| best(candidates, architecture))
            });
            match satisfied {
                Some(to) => graph.edge(component, to, DependencyKind::Depends),
                None => graph.unresolved(
                    component,
                    props::UNRESOLVED_REQUIRES,
                    &alternatives.join("|"),
                ),
            }
        }
    }
}

/// The candidate of `architecture`, else of `all`, else the first.
fn best(candidates: &[Installed], architecture: Option<&str>) -> Option<usize> {
    candidates
        .iter()
        .find(|(_, arch)| *arch == architecture)
        .or_else(|| candidates.iter().find(|(_, arch)| *arch == Some("all")))
        .or_else(|| candidates.first())
        .map(|(component, _)| *component)
}
