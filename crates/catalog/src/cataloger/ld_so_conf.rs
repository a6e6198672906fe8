//! The loader's configured library directories, from `/etc/ld.so.conf` and the
//! files under `/etc/ld.so.conf.d/`.
//!
//! It makes no component: it tells the dependency graph where the image's
//! loader finds a `DT_NEEDED` library (CUDA images add
//! `/usr/local/cuda/targets/x86_64-linux/lib` here). Includes are followed only
//! into `/etc/ld.so.conf.d/`, the files claimed during the layer pass; an
//! include elsewhere is not read.

use super::{Cataloger, Claim, Context, Found};
use crate::facts::Fact;
use crate::merge::MergedView;
use gpubom_formats::ld_so_conf::{matches, parse, Entry};

const MAIN: &str = "etc/ld.so.conf";
const INCLUDE_DIR: &str = "etc/ld.so.conf.d/";
/// Most directories kept in all (a real image lists about ten).
const MAX_DIRS: usize = 256;
/// Most files read, nested includes counted.
const MAX_FILES: usize = 256;
/// Most `include` lines followed, and files each may match: a real image has one
/// include matching a dozen files, and each costs a pass over the claimed files.
const MAX_INCLUDES: usize = 64;
const MAX_CANDIDATES: usize = 1024;

pub(crate) struct LdSoConfCataloger;

impl Cataloger for LdSoConfCataloger {
    fn claim(&self, path: &str, _size: u64) -> Option<Claim> {
        let included = path
            .strip_prefix(INCLUDE_DIR)
            .is_some_and(|name| !name.is_empty() && !name.contains('/'));
        (path == MAIN || included).then_some(Claim::Whole {
            max_bytes: 64 << 10,
        })
    }

    fn parse(&self, path: &str, bytes: &[u8]) -> Vec<Fact> {
        vec![Fact::LdSoConf(parse(path, &String::from_utf8_lossy(bytes)))]
    }

    fn resolve(&self, view: &MergedView, _context: &Context, found: &mut Found) {
        let files: Vec<(&str, &[Entry])> = view
            .surviving()
            .iter()
            .filter_map(|f| match f.fact {
                Fact::LdSoConf(entries) => Some((f.path, entries.as_slice())),
                _ => None,
            })
            .take(MAX_CANDIDATES)
            .collect();
        let mut dirs = Vec::new();
        let mut budget = Budget {
            files: MAX_FILES,
            includes: MAX_INCLUDES,
        };
        expand(MAIN, &files, &mut dirs, &mut budget);
        let mut seen = std::collections::HashSet::new();
        dirs.retain(|d| seen.insert(d.clone()));
        dirs.truncate(MAX_DIRS);
        found.library_dirs = dirs;
    }
}

/// What is left to read: a file that includes itself, or thousands of files, end here.
struct Budget {
    files: usize,
    includes: usize,
}

/// Appends the directories `path` lists, its includes expanded in place (in
/// sorted order, as `glob(3)` returns them), within `budget`.
fn expand(path: &str, files: &[(&str, &[Entry])], dirs: &mut Vec<String>, budget: &mut Budget) {
    let Some((_, entries)) = files.iter().find(|(p, _)| *p == path) else {
        return;
    };
    if budget.files == 0 || dirs.len() >= MAX_DIRS {
        return;
    }
    budget.files -= 1;
    for entry in *entries {
        match entry {
            Entry::Dir(dir) => dirs.push(dir.clone()),
            Entry::Include(_) if budget.includes == 0 => {}
            Entry::Include(pattern) => {
                budget.includes -= 1;
                // `surviving` is in path order, so the matches are already sorted.
                let included: Vec<&str> = files
                    .iter()
                    .map(|(p, _)| *p)
                    .filter(|p| *p != MAIN && matches(pattern, p))
                    .collect();
                for file in included {
                    expand(file, files, dirs, budget);
                }
            }
        }
    }
}
