//! The files a user names — the configuration, policies and their test fixtures, advisories,
//! VEX statements, SBOMs — opened only when they are regular files and read only up to a limit.
//!
//! A path can name a FIFO, whose `open` blocks until someone writes to it, or a device such as
//! `/dev/zero`, which never ends; a file from a pull request can be any size. Each crate that
//! takes such a file reads it here, so none of them forgets the check. (Layout blobs are the
//! image crate's own, with the digest they must match.)

use std::fs::File;
use std::io::Read;
use std::path::Path;

/// The largest list a user writes read (16 MiB): `--expect-sha256` sums, `--fingerprints`,
/// a `--from` list of images. Each line is under 200 bytes, so this is 80,000 lines or more.
pub const MAX_LIST_BYTES: u64 = 16 << 20;

/// Why a file was not read.
#[derive(Debug)]
pub enum FileError {
    /// It holds more than the limit.
    TooLarge,
    /// It could not be opened or read, is not a regular file (a FIFO would block, a device
    /// never end), or is not UTF-8 where text was wanted.
    Unreadable(String),
}

impl FileError {
    /// One line naming the file and, for a file too large, `what` it is and the limit:
    /// `advisories/x.json: more than 16777216 bytes; an advisory file may be at most 16 MiB`.
    pub fn describe(&self, path: &Path, what: &str, limit: u64) -> String {
        match self {
            FileError::TooLarge => format!(
                "{}: more than {limit} bytes; {what} may be at most {}",
                path.display(),
                size_in_words(limit)
            ),
            FileError::Unreadable(why) => format!("cannot read {}: {why}", path.display()),
        }
    }
}

/// `path` opened if it is a regular file (a symlink to one is followed). Anything else is
/// refused by its type before it is opened, and the opened file is checked again in case the
/// path was replaced in between.
pub fn open_regular(path: &Path) -> Result<File, FileError> {
    let unreadable = |e: std::io::Error| FileError::Unreadable(e.to_string());
    regular(&std::fs::metadata(path).map_err(unreadable)?)?;
    let file = File::open(path).map_err(unreadable)?;
    regular(&file.metadata().map_err(unreadable)?)?;
    Ok(file)
}

/// The bytes of a regular file of at most `limit` bytes; a longer one is refused after
/// `limit + 1` bytes, so it costs no more than the limit to find out.
pub fn read_regular_bytes(path: &Path, limit: u64) -> Result<Vec<u8>, FileError> {
    let file = open_regular(path)?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| FileError::Unreadable(e.to_string()))?;
    if bytes.len() as u64 > limit {
        return Err(FileError::TooLarge);
    }
    Ok(bytes)
}

/// The text of a regular file of at most `limit` bytes (see [`read_regular_bytes`]).
pub fn read_regular(path: &Path, limit: u64) -> Result<String, FileError> {
    String::from_utf8(read_regular_bytes(path, limit)?)
        .map_err(|_| FileError::Unreadable("not UTF-8 text".into()))
}

/// `path` opened as by [`open_regular`], for reading as a stream that fails, naming `what` and
/// the limit, once more than `limit` bytes have come: for files read piece by piece (an SBOM),
/// so that none is held whole.
pub fn open_capped(path: &Path, what: &str, limit: u64) -> Result<Capped<File>, FileError> {
    Ok(Capped::new(open_regular(path)?, what, limit))
}

/// A reader that fails once more than its limit has been read (see [`open_capped`]).
pub struct Capped<R> {
    inner: R,
    left: u64,
    limit: u64,
    what: String,
}

impl<R> Capped<R> {
    /// `inner`, failing once more than `limit` bytes have come; the error names `what`.
    pub fn new(inner: R, what: &str, limit: u64) -> Capped<R> {
        Capped {
            inner,
            left: limit,
            limit,
            what: what.to_string(),
        }
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // One byte past the limit is asked for, so a file of exactly the limit ends cleanly.
        let room = usize::try_from(self.left.saturating_add(1)).unwrap_or(usize::MAX);
        let wanted = buf.len().min(room);
        let n = self.inner.read(&mut buf[..wanted])?;
        if n as u64 > self.left {
            return Err(std::io::Error::other(format!(
                "more than {} bytes; {} may be at most {}",
                self.limit,
                self.what,
                size_in_words(self.limit)
            )));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

fn regular(meta: &std::fs::Metadata) -> Result<(), FileError> {
    use std::os::unix::fs::FileTypeExt;
    let kind = meta.file_type();
    if kind.is_file() {
        return Ok(());
    }
    let what = if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "something else"
    };
    Err(FileError::Unreadable(format!("{what}, not a regular file")))
}

/// `16 MiB` for 16 << 20; bytes when the size is not a whole number of KiB.
pub fn size_in_words(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    UNITS
        .iter()
        .find(|(unit, _)| bytes >= *unit && bytes.is_multiple_of(*unit))
        .map_or_else(
            || format!("{bytes} bytes"),
            |(unit, name)| format!("{} {name}", bytes / unit),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_in_words() {
        assert_eq!(size_in_words(4 << 20), "4 MiB");
        assert_eq!(size_in_words(1 << 30), "1 GiB");
        assert_eq!(size_in_words(64 << 10), "64 KiB");
        assert_eq!(size_in_words(1000), "1000 bytes");
    }

    #[test]
    fn only_regular_files_within_the_limit_are_read() {
        let dir = std::env::temp_dir().join(format!("gpubom-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("ten");
        std::fs::write(&file, b"0123456789").unwrap();
        assert_eq!(read_regular(&file, 10).unwrap(), "0123456789");
        assert!(matches!(read_regular(&file, 9), Err(FileError::TooLarge)));
        let refused = read_regular_bytes(Path::new("/dev/zero"), 1 << 20).unwrap_err();
        assert!(
            matches!(&refused, FileError::Unreadable(why) if why == "a character device, not a regular file"),
            "{refused:?}"
        );
        assert!(matches!(
            read_regular_bytes(&dir, 10),
            Err(FileError::Unreadable(why)) if why.starts_with("a directory")
        ));
        let mut whole = Vec::new();
        open_capped(&file, "a test file", 10)
            .unwrap()
            .read_to_end(&mut whole)
            .unwrap();
        assert_eq!(whole, b"0123456789");
        let past = open_capped(&file, "a test file", 9)
            .unwrap()
            .read_to_end(&mut Vec::new())
            .unwrap_err();
        assert_eq!(
            past.to_string(),
            "more than 9 bytes; a test file may be at most 9 bytes"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
