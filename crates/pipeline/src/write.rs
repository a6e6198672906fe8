//! Writing a result to a file the user named, so that a failure never leaves a
//! partial file behind and a name that is not a regular file is never
//! replaced by one. The binary decides what goes where (`-o`); this is how
//! the bytes reach a path, shared by every command that writes one.

use anyhow::{bail, Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path`.
///
/// A regular file (or a new one) is written atomically: a temporary file in
/// the same directory, then a rename, with the permissions any new file would
/// get under the user's umask. A symlink is written through, as Syft does:
/// the link stays, its target gets the content. Anything that is not a regular
/// file (`/dev/null`, a FIFO, a terminal, `/dev/stdout`) is written in place,
/// never replaced: renaming over `/dev/null` as root would leave a regular
/// file there for every later process to write into.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    if is_descriptor(path) || std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
        return write_in_place(path, bytes);
    }
    let target = through_links(path)?;
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // tempfile's default is 0600; the umask narrows 0666 as for any new file.
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder
        .tempfile_in(dir)
        .with_context(|| format!("cannot write to {}", dir.display()))?;
    tmp.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    tmp.persist(&target)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// `/dev/stdout`, `/dev/fd/3`, `/proc/self/fd/1`: another name for an open
/// descriptor, which may lead to a regular file the shell opened (`> out`).
/// Replacing that file would leave the shell's descriptor on a deleted one.
fn is_descriptor(path: &Path) -> bool {
    path.starts_with("/dev/fd")
        || path.starts_with("/proc")
        || ["/dev/stdout", "/dev/stderr"]
            .iter()
            .any(|name| path == Path::new(name))
}

fn write_in_place(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.flush())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// The file a chain of symlinks at `path` ends at (`path` itself when it is
/// none), so that a rename replaces the file, not the link.
fn through_links(path: &Path) -> Result<PathBuf> {
    let mut current = path.to_path_buf();
    // As many hops as the kernel follows before ELOOP.
    for _ in 0..40 {
        match std::fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let next = std::fs::read_link(&current)
                    .with_context(|| format!("cannot read the link {}", current.display()))?;
                current = match current.parent() {
                    Some(dir) => dir.join(next),
                    None => next,
                };
            }
            _ => return Ok(current),
        }
    }
    bail!(
        "cannot write {}: too many levels of symlinks",
        path.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptor_names_are_never_replaced() {
        for name in ["/dev/stdout", "/dev/stderr", "/dev/fd/3", "/proc/self/fd/1"] {
            assert!(is_descriptor(Path::new(name)), "{name}");
        }
        for name in ["/dev/shm/sbom.json", "out.json", "/tmp/dev/stdout"] {
            assert!(!is_descriptor(Path::new(name)), "{name}");
        }
    }

    #[test]
    fn a_symlink_is_written_through_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("sbom.json");
        let link = dir.path().join("link.json");
        std::fs::write(&target, b"old").unwrap();
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write_file(&link, b"new").unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
    }
}
