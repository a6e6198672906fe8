//! Images where they live: OCI registries.
//!
//! [`reference::recognise`] says whether a source is a registry reference;
//! [`open`] resolves it (tag → digest, index → the platform's manifest) and
//! returns the same [`gpubom_image::Image`] a local layout gives, its layers
//! streaming from the registry as they are analysed. [`attach`] pushes an
//! SBOM as an OCI 1.1 referrer of the image.
//!
//! TLS is always verified; plain HTTP is used only when the caller asks
//! (`--plain-http`), never as a fallback.

pub mod attach;
pub mod auth;
mod client;
pub mod reference;
mod scope;

pub use client::Registry;
use std::sync::Arc;

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
    #[error(transparent)]
    Image(#[from] gpubom_image::Error),
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
}

/// Opens the image `reference_text` names (as [`reference::recognise`] returned it).
pub fn open(reference_text: &str, options: &Options) -> Result<gpubom_image::Image, Error> {
    let reference = reference::parse(reference_text).map_err(Error::Reference)?;
    let registry = Registry::connect(reference, options.plain_http, &options.credential_hosts)?;
    let top = registry.resolve(reference_text)?;
    let remote: Arc<dyn gpubom_image::RemoteBlobs> = Arc::new(registry);
    Ok(gpubom_image::open_remote(
        remote,
        &top,
        options.platform.as_deref(),
    )?)
}
