//! The catalogers and their registration.
//!
//! A cataloger is one module here: it claims files by path during the layer
//! pass, parses the bytes it claimed into [`Fact`]s, and, once layers are
//! merged, turns the surviving facts into components. Adding one is a new
//! module and one line in [`CATALOGERS`]. Their order is the resolution
//! order: later catalogers may use what earlier ones found (the distro for
//! purls, file ownership for native libraries).

mod dpkg;
mod ld_so_conf;
mod model;
mod nvidia;
mod os_release;
mod python;

use crate::facts::Fact;
use crate::merge::MergedView;
use gpubom_inventory::{Component, Distro};
use std::collections::HashMap;

pub(crate) static CATALOGERS: &[&dyn Cataloger] = &[
    &os_release::OsReleaseCataloger,
    &ld_so_conf::LdSoConfCataloger,
    &dpkg::DpkgCataloger,
    &python::PythonCataloger,
    // After the package catalogers: it needs their file ownership.
    &nvidia::NvidiaCataloger,
    &model::ModelCataloger,
];

/// How much of a claimed file a cataloger needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Claim {
    /// The whole file in memory, if it is no larger than `max_bytes`.
    Whole { max_bytes: u64 },
    /// The file fed in chunks to the sink from [`Cataloger::open_stream`], of any size.
    Stream,
}

/// Receives a claimed file chunk by chunk, so large files are never held whole.
pub(crate) trait StreamSink: Send {
    fn feed(&mut self, chunk: &[u8]);
    /// False once the sink has seen enough to know the file is not for it;
    /// a file no sink wants is neither read further nor hashed.
    fn wants_more(&self) -> bool {
        true
    }
    /// Called after the last chunk with the file's sha256 (hex).
    fn finish(self: Box<Self>, sha256: &str) -> Vec<Fact>;
}

/// What resolution may consult besides the merged layers.
pub(crate) struct Context<'a> {
    /// Image environment, `KEY=value`, for declared versions.
    pub env: &'a [String],
    pub fingerprints: &'a crate::nvidia::FingerprintTable,
    /// Path (or file name) → expected sha256, from `--expect-sha256`.
    pub expected_sha256: Option<&'a std::collections::HashMap<String, String>>,
}

/// Which package owns a file, and the hash its package record gives for it.
#[derive(Debug, Clone)]
pub(crate) struct Owner {
    /// Index into [`Found::components`].
    pub component: usize,
    /// sha256 hex from the package's file list (wheel RECORD), when it has one.
    pub sha256: Option<String>,
}

/// What resolution has produced so far.
#[derive(Debug, Default)]
pub(crate) struct Found {
    pub distro: Option<Distro>,
    pub components: Vec<Component>,
    /// Image path (relative, normalised) → owning package.
    pub owners: HashMap<String, Owner>,
    /// What each package says it needs, for the dependency graph.
    pub declared: Vec<Declared>,
    /// Directories the loader's cache covers, from `ld.so.conf`, in its order (no leading `/`).
    pub library_dirs: Vec<String>,
}

/// A package's own statement of what it needs, as its metadata gives it.
#[derive(Debug)]
pub(crate) enum Declared {
    /// A Python distribution's `Requires-Dist` values, as written.
    Python {
        component: usize,
        /// The `.dist-info` (or `.egg-info`) directory: its parent is the site directory.
        dist_dir: String,
        requires: Vec<String>,
    },
    /// A Debian package's `Pre-Depends` and `Depends`, and what it `Provides`.
    Deb {
        component: usize,
        architecture: Option<String>,
        depends: Vec<Vec<String>>,
        provides: Vec<String>,
    },
}

pub(crate) trait Cataloger: Sync {
    /// Cheap test run on every regular file of every layer.
    fn claim(&self, path: &str, size: u64) -> Option<Claim>;
    /// Parses a file claimed [`Claim::Whole`]; may yield nothing for a file that turns out not to fit.
    fn parse(&self, _path: &str, _bytes: &[u8]) -> Vec<Fact> {
        Vec::new()
    }
    /// A sink for a file claimed [`Claim::Stream`].
    fn open_stream(&self, _path: &str, _size: u64) -> Option<Box<dyn StreamSink>> {
        None
    }
    /// Turns the surviving facts into components.
    fn resolve(&self, view: &MergedView, context: &Context, found: &mut Found);
}

/// `/`-prefixed form of a relative image path, as shown to users.
pub(crate) fn display_path(path: &str) -> String {
    format!("/{path}")
}
