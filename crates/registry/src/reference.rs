//! Which sources are registry references.
//!
//! `registry:` and `docker://` say so outright. A bare `ghcr.io/org/img:tag`
//! is a reference only when no such local path exists and it reads like one —
//! a host-like first component, or a tag or digest — so that a mistyped file
//! name gets "no such file", not a network error from Docker Hub.

use oci_client::Reference;
use std::path::Path;

/// `spec` without a `registry:` or `docker://` prefix, when it has one.
pub fn strip_scheme(spec: &str) -> Option<&str> {
    spec.strip_prefix("registry:")
        .or_else(|| spec.strip_prefix("docker://"))
}

/// The reference text of `spec` when it names a registry image.
pub fn recognise(spec: &str) -> Option<&str> {
    if let Some(rest) = strip_scheme(spec) {
        return Some(rest);
    }
    if Path::new(spec).exists() {
        return None;
    }
    if let Some((scheme, _)) = spec.split_once(':') {
        // A spec starting with a local scheme, or an engine's, is never a reference.
        let engine = matches!(scheme, "docker" | "podman");
        if engine || gpubom_image::local_schemes().any(|local| local == scheme) {
            return None;
        }
    }
    let last = spec.rsplit('/').next().unwrap_or(spec);
    let pinned = last.contains(':') || spec.contains('@');
    ((host_like(spec) || pinned) && parse(spec).is_ok()).then_some(spec)
}

/// Whether `spec` names its registry: a `registry:` or `docker://` scheme, or
/// a host-like first component (`ghcr.io/…`, `localhost:5000/…`). A reference
/// that does not (`app:dev`, `team/app:1`) may be an image built locally.
pub fn names_its_registry(spec: &str) -> bool {
    strip_scheme(spec).is_some() || host_like(spec)
}

fn host_like(spec: &str) -> bool {
    let first = spec.split('/').next().unwrap_or(spec);
    spec.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost")
}

/// Parses a reference, defaulting the registry to Docker Hub and the tag to `latest`.
pub fn parse(text: &str) -> Result<Reference, String> {
    text.parse::<Reference>().map_err(|e| {
        format!("{text:?} is not an image reference ({e}); write HOST[:PORT]/REPOSITORY[:TAG|@sha256:DIGEST]")
    })
}

/// `host/repository` as users write it (`docker.io/library/ubuntu`).
pub fn name(reference: &Reference) -> String {
    format!("{}/{}", reference.registry(), reference.repository())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_schemes_are_references() {
        assert_eq!(
            recognise("registry:localhost:5000/a:1"),
            Some("localhost:5000/a:1")
        );
        assert_eq!(recognise("docker://ghcr.io/a/b"), Some("ghcr.io/a/b"));
    }

    #[test]
    fn bare_references_need_a_host_or_a_tag() {
        assert_eq!(
            recognise("ghcr.io/acme/infer:1.0"),
            Some("ghcr.io/acme/infer:1.0")
        );
        assert_eq!(
            recognise("nvcr.io/nvidia/tensorrt:24.07-py3"),
            Some("nvcr.io/nvidia/tensorrt:24.07-py3")
        );
        assert_eq!(recognise("localhost:5000/x"), Some("localhost:5000/x"));
        assert_eq!(recognise("ubuntu:22.04"), Some("ubuntu:22.04"));
        assert!(recognise(
            "ghcr.io/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
        )
        .is_some());
        // Typos of local files stay local.
        assert_eq!(recognise("image.tar"), None);
        assert_eq!(recognise("images/app.tar"), None);
        assert_eq!(recognise("oci-archive:missing.tar"), None);
        assert_eq!(recognise("dir:/nowhere"), None);
        // skopeo's and Syft's oci: is a layout or an archive, never Docker Hub's `oci`.
        assert_eq!(recognise("oci:x.tar"), None);
        assert_eq!(recognise("docker:app:dev"), None);
        assert_eq!(recognise("podman:app"), None);
    }

    #[test]
    fn only_a_host_or_a_scheme_names_the_registry() {
        assert!(names_its_registry("ghcr.io/acme/infer:1.0"));
        assert!(names_its_registry("localhost:5000/x"));
        assert!(names_its_registry("registry:app:dev"));
        assert!(!names_its_registry("app:dev"));
        assert!(!names_its_registry("team/app:1"));
    }

    #[test]
    fn an_existing_path_wins() {
        let dir = tempfile::tempdir().unwrap();
        let odd = dir.path().join("host.example:1");
        std::fs::write(&odd, b"").unwrap();
        assert_eq!(recognise(odd.to_str().unwrap()), None);
    }

    #[test]
    fn names_keep_the_registry() {
        let r = parse("ubuntu:22.04").unwrap();
        assert_eq!(name(&r), "docker.io/library/ubuntu");
        assert_eq!(r.tag(), Some("22.04"));
        assert!(parse("ghcr.io/a/b@sha256:not-hex").is_err());
    }
}
