//! What the layer pass records, shared by the pass, the merge, the cache and
//! the catalogers.
//!
//! The per-layer walk produces these types, the merge folds them, the cache
//! stores them and the catalogers both fill them (while a layer streams past)
//! and read them back (once layers are merged). Kept here, apart from all four,
//! so that each depends on the data and none on another's internals: the
//! module imports none of them.

use gpubom_formats::dpkg::DpkgPackage;
use gpubom_formats::elf::ElfFacts;
use gpubom_formats::model::ModelReport;
use gpubom_formats::os_release::OsRelease;
use gpubom_formats::python::{PythonDist, RecordEntry};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

use crate::nvidia::LibraryMatch;

/// What a cataloger parsed out of one file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum Fact {
    OsRelease(OsRelease),
    DpkgStatus(Vec<DpkgPackage>),
    DpkgList(Vec<String>),
    DpkgCopyright(Vec<String>),
    PythonMetadata(PythonDist),
    PythonRecord(Vec<RecordEntry>),
    NativeLibrary(LibraryFact),
    Model(Box<ModelFact>),
    /// `key = value` pairs from a framework's generated build-info file.
    BuildInfo(Vec<(String, String)>),
    /// The directories and includes of an `ld.so.conf` file.
    LdSoConf(Vec<gpubom_formats::ld_so_conf::Entry>),
}

/// What the layer pass learnt about one shared object.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct LibraryFact {
    pub matched: Option<LibraryMatch>,
    pub elf: Option<ElfFacts>,
}

/// What the layer pass learnt about one model file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ModelFact {
    pub report: ModelReport,
    pub size: u64,
}

/// What kind of filesystem object a path is in one layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum FileKind {
    File,
    Dir,
    Symlink(String),
    Hardlink(String),
    Other,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct FileRecord {
    pub path: String,
    pub kind: FileKind,
}

/// A fact some cataloger parsed out of one file of one layer.
#[derive(Debug, Clone)]
pub(crate) struct FileFact {
    pub path: String,
    /// sha256 of the whole file, hex; present for every claimed regular file.
    pub sha256: Option<String>,
    /// Shared, so the hard links to a file (which carry no content of their own) cost a pointer each.
    pub fact: Arc<Fact>,
}

/// Everything one layer contributes, before layers are merged.
#[derive(Debug, Default, Clone)]
pub(crate) struct LayerAnalysis {
    pub index: usize,
    pub files: Vec<FileRecord>,
    pub whiteouts: Vec<String>,
    pub opaque_dirs: Vec<String>,
    pub facts: Vec<FileFact>,
    /// Files a cataloger wanted but could not read in full, with the reason.
    pub skipped: Vec<(String, String)>,
}
