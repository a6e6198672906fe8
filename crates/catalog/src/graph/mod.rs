//! The dependency graph: which component needs which, each edge read from
//! metadata in the image.
//!
//! It runs once every cataloger has resolved, over the final list of
//! components (before it is sorted: [`Inventory::normalize`] carries the edges
//! through the sort). Four sources give edges:
//!
//! - a wheel's `Requires-Dist`, resolved to the distributions installed beside
//!   it, markers and extras evaluated ([`python`]);
//! - a Debian package's `Pre-Depends` and `Depends`, resolved to installed
//!   packages or to the installed provider of a virtual one ([`dpkg`]);
//! - an ELF library's `DT_NEEDED`, resolved through the loader's search path to
//!   the file, and from the file to the component that ships it ([`elf`]);
//! - `gpubom:bundled_by`: the package that ships a library it is not ([`bundles`]).
//!
//! A requirement that resolves to nothing in the image is not an edge: its name
//! is listed on the component instead ([`props::UNRESOLVED_REQUIRES`],
//! [`props::UNRESOLVED_NEEDED`]). Every input is hostile, so lookups go through
//! indexes by name or path, never over all components, and the number of edges is
//! capped per component and in all.
//!
//! [`Inventory::normalize`]: gpubom_inventory::Inventory::normalize

mod dpkg;
mod elf;
mod python;

use crate::cataloger::Found;
use crate::merge::MergedView;
use gpubom_inventory::{props, Dependency, DependencyKind};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Most edges from one component (a real package needs tens; torch's libraries ~40).
pub(crate) const MAX_EDGES_PER_COMPONENT: usize = 1024;
/// Most edges in one inventory (a large real image has tens of thousands).
pub(crate) const MAX_EDGES: usize = 500_000;
/// Most unresolved names listed on one component; the rest are counted.
const MAX_UNRESOLVED_LISTED: usize = 64;
/// Longest unresolved name listed; a longer one is counted, not listed.
const MAX_UNRESOLVED_NAME: usize = 256;

/// What the image says about where it runs.
pub(crate) struct Platform<'a> {
    /// The image configuration's architecture (`amd64`, `arm64`), when it has one.
    pub architecture: Option<&'a str>,
    /// The image configuration's environment, `KEY=value`.
    pub env: &'a [String],
}

/// The edges between `found`'s components, as indices into it; names that
/// resolved to nothing are written on their components. Also returns what the
/// user should be told (edges left out at a cap).
pub(crate) fn build(
    view: &MergedView,
    found: &mut Found,
    platform: &Platform,
) -> (Vec<Dependency>, Vec<String>) {
    let mut graph = Graph::default();
    python::resolve(view, found, platform, &mut graph);
    dpkg::resolve(found, &mut graph);
    elf::resolve(view, found, platform, &mut graph);
    bundles(found, &mut graph);
    graph.finish(found)
}

/// A `Bundles` edge from the package that ships each bundled library: the
/// owner of the library's files, whose purl `gpubom:bundled_by` names.
fn bundles(found: &Found, graph: &mut Graph) {
    for (index, component) in found.components.iter().enumerate() {
        if !component.properties.contains_key(props::BUNDLED_BY) {
            continue;
        }
        for location in &component.locations {
            let path = location.path.trim_start_matches('/');
            if let Some(owner) = found.owners.get(path) {
                graph.edge(owner.component, index, DependencyKind::Bundles);
            }
        }
    }
}

/// Edges and unresolved names as they are found, within the caps.
#[derive(Default)]
struct Graph {
    edges: BTreeSet<Dependency>,
    from_counts: HashMap<usize, usize>,
    left_out: usize,
    /// (component, property) → names that resolved to nothing.
    unresolved: BTreeMap<(usize, &'static str), BTreeSet<String>>,
    warnings: Vec<String>,
}

impl Graph {
    /// Adds `from → to`; an edge to itself (two files of one component) is none.
    fn edge(&mut self, from: usize, to: usize, kind: DependencyKind) {
        if from == to {
            return;
        }
        let edge = Dependency { from, to, kind };
        if self.edges.contains(&edge) {
            return;
        }
        let count = self.from_counts.entry(from).or_default();
        if *count >= MAX_EDGES_PER_COMPONENT || self.edges.len() >= MAX_EDGES {
            self.left_out = self.left_out.saturating_add(1);
            return;
        }
        *count += 1;
        self.edges.insert(edge);
    }

    /// Records that `component` needs `name`, which nothing in the image provides.
    /// Every distinct name is kept (each is text the metadata already holds), so
    /// the count of those not listed is exact.
    fn unresolved(&mut self, component: usize, property: &'static str, name: &str) {
        let names = self.unresolved.entry((component, property)).or_default();
        if !names.contains(name) {
            names.insert(name.to_string());
        }
    }

    /// Something the user should know about the graph (a bound that was reached).
    fn warn(&mut self, warning: String) {
        self.warnings.push(warning);
    }

    /// Writes the unresolved names on their components; returns the sorted edges and warnings.
    fn finish(self, found: &mut Found) -> (Vec<Dependency>, Vec<String>) {
        for ((component, property), names) in self.unresolved {
            let Some(component) = found.components.get_mut(component) else {
                continue;
            };
            component
                .properties
                .insert(property.to_string(), name_list(&names));
        }
        let mut warnings = self.warnings;
        if self.left_out > 0 {
            warnings.push(format!(
                "dependency graph: {} edges left out (at most {MAX_EDGES_PER_COMPONENT} from one \
                 component and {MAX_EDGES} in all)",
                self.left_out
            ));
        }
        (self.edges.into_iter().collect(), warnings)
    }
}

/// `a,b,c`, sorted; past [`MAX_UNRESOLVED_LISTED`] names, or for names too long
/// to list, a count: `a,b,+3 more`.
fn name_list(names: &BTreeSet<String>) -> String {
    let listable = |n: &&String| n.len() <= MAX_UNRESOLVED_NAME;
    let listed: Vec<&str> = names
        .iter()
        .filter(listable)
        .take(MAX_UNRESOLVED_LISTED)
        .map(String::as_str)
        .collect();
    let more = names.len().saturating_sub(listed.len());
    let mut text = listed.join(",");
    if more > 0 {
        if !text.is_empty() {
            text.push(',');
        }
        text.push_str(&format!("+{more} more"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_synthetic() {
        let mut graph = Graph::default();
        for to in 0..MAX_EDGES_PER_COMPONENT + 10 {
            graph.edge(usize::MAX, to, DependencyKind::Depends);
        }
        graph.edge(1, 1, DependencyKind::Links);
        graph.edge(1, 2, DependencyKind::Links);
        graph.edge(1, 2, DependencyKind::Links);
        graph.edge(1, 2, DependencyKind::Requires);
        assert_eq!(graph.edges.len(), MAX_EDGES_PER_COMPONENT + 2);
        assert_eq!(graph.left_out, 10);
    }

    #[test]
    fn unresolved_lists_are_bounded_synthetic() {
        let few: BTreeSet<String> = ["b", "a"].iter().map(|s| s.to_string()).collect();
        assert_eq!(name_list(&few), "a,b");
        let mut graph = Graph::default();
        for n in 0..10_000 {
            graph.unresolved(0, props::UNRESOLVED_REQUIRES, &format!("pkg{n:05}"));
        }
        graph.unresolved(0, props::UNRESOLVED_REQUIRES, &"x".repeat(1000));
        graph.unresolved(0, props::UNRESOLVED_REQUIRES, "pkg00000");
        let text = name_list(&graph.unresolved[&(0, props::UNRESOLVED_REQUIRES)]);
        assert!(text.starts_with("pkg00000,pkg00001,"), "{text}");
        assert_eq!(text.split(',').count(), MAX_UNRESOLVED_LISTED + 1);
        let more = 10_001 - MAX_UNRESOLVED_LISTED;
        assert!(text.ends_with(&format!(",+{more} more")), "{text}");
    }
}
