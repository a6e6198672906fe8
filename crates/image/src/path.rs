//! Normalising paths from tar headers so they can never escape the image.

/// `./usr//lib/` → `usr/lib`; `None` for the root itself.
///
/// `..` is resolved lexically and clamped at the root, as moby and containerd
/// do when they extract a layer: `x/../models/a.pt` lands at `models/a.pt` and
/// `../../etc/x` at `etc/x`. Dropping such entries instead would hide files a
/// container really gets.
pub(crate) fn normalize(raw: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in raw.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// A member named by an archive's own metadata: relative, and never climbing
/// above the archive's root. Unlike layer entries these are refused rather than
/// clamped, since a manifest pointing outside its archive is broken or hostile.
/// `Err` completes "refers to PATH …".
pub(crate) fn inside(raw: &str) -> Result<String, &'static str> {
    if raw.starts_with('/') {
        return Err("outside the archive (an absolute path)");
    }
    let mut depth = 0usize;
    for part in raw.split('/') {
        match part {
            "" | "." => {}
            ".." if depth == 0 => return Err("outside the archive"),
            ".." => depth -= 1,
            _ => depth += 1,
        }
    }
    normalize(raw).ok_or("which is not a file")
}

/// Whether an archive's member is named as image archives name them: a
/// relative path without `..`. `Err` says what is wrong with the name. Unlike
/// a layer's entries, which runtimes clamp at the root, a member named
/// `../../blobs/sha256/…` would be read as `blobs/sha256/…`: some other file
/// standing in for the blob it names.
pub(crate) fn plain_member(raw: &[u8]) -> Result<(), &'static str> {
    if raw.starts_with(b"/") {
        return Err("an absolute name");
    }
    if raw.split(|b| *b == b'/').any(|part| part == b"..") {
        return Err("a name with a \"..\" component");
    }
    Ok(())
}

/// A path as the bytes it is, in a string: valid UTF-8 is kept, a byte that
/// is not is written `\xHH`, and a backslash is doubled so that no name can
/// pass for another. Container runtimes compare names as bytes; a lossy
/// conversion would let `.wh.model\xfe.pkl` white out `model\xff.pkl`, or a
/// benign file replace an evil one with a different name.
pub fn exact(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '\\' {
                out.push_str("\\\\");
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// Splits `dir/name` into (`dir`, `name`); the directory is empty at the root.
pub(crate) fn split(path: &str) -> (&str, &str) {
    path.rsplit_once('/').unwrap_or(("", path))
}

pub(crate) fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes() {
        assert_eq!(normalize("./usr//lib/").as_deref(), Some("usr/lib"));
        assert_eq!(normalize("/etc/passwd").as_deref(), Some("etc/passwd"));
        assert_eq!(normalize("a/../../etc").as_deref(), Some("etc"));
        assert_eq!(
            normalize("x/../models/evil.pt").as_deref(),
            Some("models/evil.pt")
        );
        assert_eq!(normalize("../../etc/x").as_deref(), Some("etc/x"));
        assert_eq!(normalize("a/.."), None);
        assert_eq!(normalize("./"), None);
    }

    #[test]
    fn inside_the_archive() {
        assert_eq!(inside("a/../b/layer.tar"), Ok("b/layer.tar".into()));
        assert_eq!(inside("../x"), Err("outside the archive"));
        assert_eq!(inside("a/../../x"), Err("outside the archive"));
        assert!(inside("/etc/passwd").is_err());
        assert!(inside("").is_err());
        assert!(inside("a/..").is_err());
    }

    #[test]
    fn plain_members() {
        assert_eq!(plain_member(b"blobs/sha256/ab"), Ok(()));
        assert_eq!(plain_member(b"./index.json"), Ok(()));
        assert!(plain_member(b"../../blobs/sha256/ab").is_err());
        assert!(plain_member(b"blobs/../index.json").is_err());
        assert!(plain_member(b"/index.json").is_err());
        assert_eq!(
            plain_member(b"..data/x"),
            Ok(()),
            "a name that only begins with dots"
        );
    }
}
