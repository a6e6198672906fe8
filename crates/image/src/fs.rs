//! Plain directories (an unpacked root filesystem) and single files, walked
//! as one layer without following symlinks.

use crate::path::exact;
use crate::{Entry, EntryKind, Error};
use std::fs;
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

pub(crate) fn walk_dir(
    root: &Path,
    progress: &(dyn Fn(u64) + Sync),
    visit: &mut dyn FnMut(&Entry, &mut dyn Read) -> io::Result<()>,
) -> Result<(), Error> {
    // (image path as shown, real path on disk): names that are not UTF-8 are
    // shown escaped but opened by their real bytes.
    let mut stack = vec![(String::new(), root.to_path_buf())];
    while let Some((rel, dir)) = stack.pop() {
        let mut names: Vec<_> = fs::read_dir(&dir)
            .map_err(|e| Error::io(&dir, e))?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<Result<_, _>>()
            .map_err(|e| Error::io(&dir, e))?;
        names.sort();
        // Pushed in reverse so the walk is in sorted, depth-first order.
        let mut subdirs = Vec::new();
        for name in names {
            let shown = exact(name.as_bytes());
            let rel_path = if rel.is_empty() {
                shown
            } else {
                format!("{rel}/{shown}")
            };
            let full = dir.join(&name);
            let meta = fs::symlink_metadata(&full).map_err(|e| Error::io(&full, e))?;
            let kind = if meta.is_symlink() {
                let target = fs::read_link(&full).map_err(|e| Error::io(&full, e))?;
                EntryKind::Symlink {
                    target: exact(target.as_os_str().as_bytes()),
                }
            } else if meta.is_dir() {
                subdirs.push((rel_path.clone(), full.clone()));
                EntryKind::Dir
            } else if meta.is_file() {
                EntryKind::File
            } else {
                EntryKind::Other
            };
            visit_path(&full, rel_path, kind, &meta, progress, visit)?;
        }
        stack.extend(subdirs.into_iter().rev());
    }
    Ok(())
}

pub(crate) fn walk_file(
    path: &Path,
    progress: &(dyn Fn(u64) + Sync),
    visit: &mut dyn FnMut(&Entry, &mut dyn Read) -> io::Result<()>,
) -> Result<(), Error> {
    let meta = fs::metadata(path).map_err(|e| Error::io(path, e))?;
    let name = path
        .file_name()
        .map(|n| exact(n.as_bytes()))
        .unwrap_or_else(|| "file".into());
    visit_path(path, name, EntryKind::File, &meta, progress, visit)
}

fn visit_path(
    full: &Path,
    path: String,
    kind: EntryKind,
    meta: &fs::Metadata,
    progress: &(dyn Fn(u64) + Sync),
    visit: &mut dyn FnMut(&Entry, &mut dyn Read) -> io::Result<()>,
) -> Result<(), Error> {
    let on_disk = (kind == EntryKind::File).then(|| full.to_path_buf());
    let entry = Entry {
        size: if kind == EntryKind::File {
            meta.len()
        } else {
            0
        },
        path,
        kind,
        mode: meta.permissions().mode(),
        uid: u64::from(meta.uid()),
        gid: u64::from(meta.gid()),
        on_disk,
    };
    let result = if entry.kind == EntryKind::File {
        let mut file = fs::File::open(full).map_err(|e| Error::io(full, e))?;
        let r = visit(&entry, &mut file);
        progress(entry.size);
        r
    } else {
        visit(&entry, &mut io::empty())
    };
    result.map_err(|e| Error::io(full, e))
}
