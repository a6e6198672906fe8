//! Images where they live: OCI registries.
//!
//! [`reference::recognise`] says whether a source is a registry reference;
//! [`open`] resolves it (tag → digest, index → the platform's manifest) and
//! returns the same [`gpubom_image::Image`] a local layout gives, its layers
//! streaming from the registry as they are analysed. [`attach`] pushes an
//! SBOM as an OCI 1.1 referrer of the image.
//!
//! TLS is always verified; plain HTTP is used only when the caller asks
//! (`--plain-http`), never as a fallback. Whatever the registry sends is bounded:
//! documents by size ([`MAX_TOKEN_BYTES`], [`MAX_REFERRERS_BYTES`],
//! [`gpubom_image::MAX_MANIFEST_BYTES`]), every request and the whole scan by time
//! ([`DOCUMENT_TIMEOUT`], [`Options::timeout`]).

mod answer;
pub mod attach;
pub mod attest;
pub mod auth;
mod client;
mod deadline;
mod download;
#[doc(hidden)]
pub mod fuzzing;
mod http;
pub mod reference;
mod scope;
mod token;

pub use client::Registry;
pub use deadline::{DEFAULT_TIMEOUT, DOCUMENT_TIMEOUT};
pub use http::MAX_REFERRERS_BYTES;
use std::sync::Arc;
use std::time::Duration;
pub use token::MAX_TOKEN_BYTES;

/// Why a registry image could not be read. Each says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Reference(String),
    #[error("{0}")]
    Credentials(String),
    #[error(
        "{registry}: access denied with {origin}; log in with `docker login {registry}`, \
         or set {user}/{password} to a user allowed to pull",
        user = auth::USERNAME_VAR,
        password = auth::PASSWORD_VAR
    )]
    Auth { registry: String, origin: String },
    #[error("{reference}: not found (no such repository, tag or digest in the registry)")]
    NotFound { reference: String },
    #[error("cannot reach {registry}: {why}")]
    Unreachable { registry: String, why: String },
    #[error("{what}: {why}")]
    Protocol { what: String, why: String },
    /// A document past its limit, refused as soon as that was known.
    #[error(
        "{what} from {from} is over {}, the most gpubom reads of {kind}; \
         refused without reading the rest",
        size_text(*limit)
    )]
    TooLarge {
        what: String,
        from: String,
        limit: u64,
        kind: &'static str,
    },
    #[error("timed out after {after} fetching {what} from {registry}; {hint}")]
    Timeout {
        what: String,
        registry: String,
        after: String,
        hint: String,
    },
    #[error(transparent)]
    Image(#[from] gpubom_image::Error),
}

/// "4 MiB", "64 KiB", or bytes.
fn size_text(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

/// How to reach the registry and which image of an index to take.
#[derive(Debug, Clone)]
pub struct Options {
    /// `os/arch[/variant]` the user asked for, if any.
    pub platform: Option<String>,
    pub plain_http: bool,
    /// Hosts other than the registry's that may receive the environment's credentials
    /// (`[registry] credential_hosts`): a token service of its own, say.
    pub credential_hosts: Vec<String>,
    /// The longest the scan's whole traffic with the registry may take, from
    /// connecting to the last byte of the last layer (`--timeout`); `None`:
    /// [`DEFAULT_TIMEOUT`]. Each document has [`DOCUMENT_TIMEOUT`] besides.
    pub timeout: Option<Duration>,
}

/// Opens the image `reference_text` names (as [`reference::recognise`] returned it).
pub fn open(reference_text: &str, options: &Options) -> Result<gpubom_image::Image, Error> {
    let reference = reference::parse(reference_text).map_err(Error::Reference)?;
    let registry = Registry::connect(reference, options)?;
    let top = registry.resolve(reference_text)?;
    let remote: Arc<dyn gpubom_image::RemoteBlobs> = Arc::new(registry);
    Ok(gpubom_image::open_remote(
        remote,
        &top,
        options.platform.as_deref(),
    )?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn limits_read_as_people_write_them() {
        assert_eq!(super::size_text(4 << 20), "4 MiB");
        assert_eq!(super::size_text(64 << 10), "64 KiB");
        assert_eq!(super::size_text(1000), "1000 bytes");
    }
}
