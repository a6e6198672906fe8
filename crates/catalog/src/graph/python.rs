//! `Requires-Dist` edges: each requirement of a distribution, its marker
//! evaluated for the interpreter the distribution is installed for, resolved to
//! a distribution installed beside it.
//!
//! - **Where**: the same site directory first; else another directory of the image
//!   for the same Python version (a venv, `/usr/local/lib/python3.X/dist-packages`
//!   beside `/usr/lib/python3/dist-packages`), the first in path order. Names match
//!   by PEP 503 normalisation; version specifiers are not checked (what is
//!   installed is what is used).
//! - **Markers**: `python_version` from the `pythonX.Y` directory (for
//!   `/usr/lib/python3/dist-packages`, the image's `python3.X`), `platform_machine`
//!   from the image's architecture, CPython on Linux for the rest. When the image
//!   does not say, a marker true for some values is an edge if the requirement is
//!   installed and is not listed as unresolved if it is not.
//! - **Extras** are not active unless asked for: a requirement guarded by
//!   `extra == "x"` counts only when a resolved edge asks for `name[x]`, as pip
//!   installed it. What the user typed (`pip install torch[opt-einsum]`) is not
//!   recorded in the image, so an extra asked for only on the command line is missed.
//!
//! `.egg-info` distributions list requirements in `requires.txt`, which is not read.

use super::{Graph, Platform};
use crate::cataloger::{Declared, Found};
use crate::merge::MergedView;
use gpubom_formats::python::normalize_name;
use gpubom_formats::requirement::{Applies, Candidates, Environment, Requirement};
use gpubom_inventory::{props, DependencyKind};
use std::collections::{BTreeSet, HashMap, VecDeque};

/// Requirements read per distribution (torch lists 25; the largest real ones a few hundred).
const MAX_REQUIREMENTS: usize = 1024;
/// Extras activated per distribution; each costs a pass over its requirements.
const MAX_EXTRAS: usize = 32;
/// The newest Python 3 minor version looked for when a path does not name one.
const NEWEST_PYTHON_3_MINOR: u32 = 20;
/// Bytes of marker judged in all (each marker once per environment the image
/// leaves possible): real images judge well under a megabyte. Crafted 1 KiB
/// markers judge at about 110 MB/s in a debug build (measured), so this bounds the
/// work to seconds; the rest is left unjudged, with a warning.
pub(crate) const MAX_MARKER_WORK: usize = 1 << 30;

/// One installed distribution and what it requires.
struct Dist<'a> {
    component: usize,
    site: &'a str,
    env: Environment,
    /// Position of its environment's [`Candidates`] in [`Installed::environments`].
    candidates: usize,
    requirements: Vec<Requirement>,
}

pub(super) fn resolve(view: &MergedView, found: &Found, platform: &Platform, graph: &mut Graph) {
    let machine = platform.architecture.and_then(platform_machine);
    let image_python = image_python(view);
    let mut environments: Vec<Candidates> = Vec::new();
    let mut known: HashMap<Environment, usize> = HashMap::new();
    let dists: Vec<Dist> = found
        .declared
        .iter()
        .filter_map(|declared| match declared {
            Declared::Python {
                component,
                dist_dir,
                requires,
            } => {
                let site = dist_dir.rsplit_once('/').map_or("", |(site, _)| site);
                let env = Environment {
                    python: python_in_path(site).or(image_python),
                    machine: machine.map(str::to_string),
                };
                let candidates = *known.entry(env.clone()).or_insert_with(|| {
                    environments.push(Candidates::of(&env));
                    environments.len() - 1
                });
                Some(Dist {
                    component: *component,
                    site,
                    env,
                    candidates,
                    requirements: requires
                        .iter()
                        .take(MAX_REQUIREMENTS)
                        .filter_map(|text| Requirement::parse(text).ok())
                        .collect(),
                })
            }
            Declared::Deb { .. } => None,
        })
        .collect();
    let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, dist) in dists.iter().enumerate() {
        if let Some(component) = found.components.get(dist.component) {
            by_name
                .entry(normalize_name(&component.name))
                .or_default()
                .push(i);
        }
    }
    let installed = Installed {
        dists,
        environments,
        by_name,
    };
    installed.walk(graph);
}

struct Installed<'a> {
    dists: Vec<Dist<'a>>,
    environments: Vec<Candidates>,
    /// Normalised name → positions in `dists`, in the order the catalogers found them.
    by_name: HashMap<String, Vec<usize>>,
}

impl Installed<'_> {
    /// Evaluates every distribution's requirements without extras, then again for
    /// each extra a resolved edge asks of it, until no edge asks for a new one.
    fn walk(&self, graph: &mut Graph) {
        let mut active: Vec<BTreeSet<String>> = vec![BTreeSet::new(); self.dists.len()];
        let mut pending: VecDeque<(usize, Option<String>)> =
            (0..self.dists.len()).map(|i| (i, None)).collect();
        let mut work_left = MAX_MARKER_WORK;
        while let Some((from, extra)) = pending.pop_front() {
            let (Some(dist), Some(candidates)) = (
                self.dists.get(from),
                self.dists
                    .get(from)
                    .and_then(|d| self.environments.get(d.candidates)),
            ) else {
                continue;
            };
            for requirement in &dist.requirements {
                if extra.is_some() && !requirement.depends_on_extra() {
                    continue; // Already counted without the extra.
                }
                let cost = requirement.judging_cost(candidates);
                if cost > work_left {
                    graph.warn(format!(
                        "dependency graph: Python requirements left unjudged after \
                         {MAX_MARKER_WORK} bytes of environment markers"
                    ));
                    return;
                }
                work_left -= cost;
                let applies = requirement.applies_in(candidates, extra.as_deref());
                if applies == Applies::No {
                    continue;
                }
                let Some(to) = self.installed(from, &requirement.name) else {
                    if applies == Applies::Yes {
                        graph.unresolved(
                            dist.component,
                            props::UNRESOLVED_REQUIRES,
                            &requirement.name,
                        );
                    }
                    continue;
                };
                if let Some(target) = self.dists.get(to) {
                    graph.edge(dist.component, target.component, DependencyKind::Requires);
                }
                for asked in &requirement.extras {
                    let Some(extras) = active.get_mut(to) else {
                        continue;
                    };
                    if extras.len() < MAX_EXTRAS && extras.insert(asked.clone()) {
                        pending.push_back((to, Some(asked.clone())));
                    }
                }
            }
        }
    }

    /// The distribution named `name` that `from` imports.
    fn installed(&self, from: usize, name: &str) -> Option<usize> {
        let candidates = self.by_name.get(name)?;
        let from = self.dists.get(from)?;
        let dist = |i: &usize| self.dists.get(*i);
        candidates
            .iter()
            .find(|i| dist(i).is_some_and(|d| d.site == from.site))
            .or_else(|| {
                candidates
                    .iter()
                    .filter(|i| {
                        dist(i).is_some_and(|d| match (d.env.python, from.env.python) {
                            (Some(a), Some(b)) => a == b,
                            _ => true,
                        })
                    })
                    .min_by_key(|i| dist(i).map(|d| d.site))
            })
            .copied()
    }
}

/// `(3, 12)` from a path with a `python3.12` directory in it.
fn python_in_path(path: &str) -> Option<(u32, u32)> {
    path.split('/').find_map(|part| {
        let (major, minor) = part.strip_prefix("python")?.split_once('.')?;
        Some((major.parse().ok()?, minor.parse().ok()?))
    })
}

/// The image's `python3`: the newest `python3.X` interpreter or standard library it
/// holds, for distributions in a directory that names no version (Debian's
/// `/usr/lib/python3/dist-packages`).
fn image_python(view: &MergedView) -> Option<(u32, u32)> {
    (0..=NEWEST_PYTHON_3_MINOR).rev().find_map(|minor| {
        let present = ["usr/bin", "usr/lib", "usr/local/bin", "usr/local/lib"]
            .iter()
            .any(|dir| view.exists(&format!("{dir}/python3.{minor}")));
        present.then_some((3, minor))
    })
}

/// `platform.machine()` on Linux for an OCI architecture.
fn platform_machine(architecture: &str) -> Option<&'static str> {
    Some(match architecture {
        "amd64" => "x86_64",
        "arm64" => "aarch64",
        "ppc64le" => "ppc64le",
        "s390x" => "s390x",
        "386" => "i686",
        "riscv64" => "riscv64",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_versions_in_paths() {
        assert_eq!(
            python_in_path("usr/local/lib/python3.12/site-packages"),
            Some((3, 12))
        );
        assert_eq!(
            python_in_path("opt/conda/envs/x/lib/python3.10/site-packages"),
            Some((3, 10))
        );
        assert_eq!(python_in_path("usr/lib/python3/dist-packages"), None);
        assert_eq!(python_in_path("a/pythonx.y/b"), None);
        assert_eq!(platform_machine("arm64"), Some("aarch64"));
        assert_eq!(platform_machine("mips"), None);
    }
}
