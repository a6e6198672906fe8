//! Images in a local container engine: `docker:REF` and `podman:REF`.
//!
//! Syft and Trivy read the engine a developer builds in; so does gpubom,
//! without a `docker save` to a file first. [`export`] finds the engine's
//! socket as its own client does ([`endpoint`]), checks that the image is
//! there (`GET /images/{name}/json`), and streams `GET /images/{name}/get`,
//! the same docker-archive `docker save` writes, to
//! [`gpubom_image::read_stream`], which hands out each layer as it arrives:
//! nothing is written to disk. [`holding`] tells whether an engine that
//! answers has an image, for a bare `app:dev` that is looked up locally
//! before any registry.
//!
//! An engine that does not answer, or that has no such image, is an [`Error`]
//! that says which and what to do.

mod client;
pub mod endpoint;

use client::{Client, Failure};
use endpoint::{Endpoint, Environment};
use gpubom_image::SourceKind;
use std::io::Read;

/// Which engine, by the scheme the user wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Docker,
    Podman,
}

impl Engine {
    /// `docker:REF` or `podman:REF`: the engine and the reference.
    pub fn of_spec(spec: &str) -> Option<(Engine, &str)> {
        if let Some(reference) = spec.strip_prefix("docker:") {
            Some((Engine::Docker, reference))
        } else {
            spec.strip_prefix("podman:")
                .map(|reference| (Engine::Podman, reference))
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Engine::Docker => "docker",
            Engine::Podman => "podman",
        }
    }

    pub fn source_kind(self) -> SourceKind {
        match self {
            Engine::Docker => SourceKind::Docker,
            Engine::Podman => SourceKind::Podman,
        }
    }

    fn how_to_start(self) -> &'static str {
        match self {
            Engine::Docker => "start Docker, or set DOCKER_HOST to the socket of an engine that runs",
            Engine::Podman => {
                "start its service (systemctl --user start podman.socket, or podman system service --time=0), or set CONTAINER_HOST"
            }
        }
    }
}

/// Why an engine's image could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{engine}: no engine answers at {endpoint} ({why}); {how}", engine = .engine.name(), how = .engine.how_to_start())]
    NotRunning {
        engine: Engine,
        endpoint: String,
        why: String,
    },
    #[error("{engine} has no image {reference} (engine at {endpoint}); build or pull it first, or scan registry:{reference} to read it from a registry", engine = .engine.name())]
    NoImage {
        engine: Engine,
        reference: String,
        endpoint: String,
    },
    #[error("{engine} at {endpoint}: cannot export {reference}: {message}", engine = .engine.name())]
    Refused {
        engine: Engine,
        reference: String,
        endpoint: String,
        message: String,
    },
    #[error("{0}")]
    Usage(String),
}

/// An image being exported: its docker-archive as it arrives.
pub struct Export {
    pub engine: Engine,
    /// Where the engine was reached, for messages.
    pub endpoint: String,
    /// The engine's image ID.
    pub id: String,
    /// What the engine says the image's layers take, for progress.
    pub size: Option<u64>,
    pub body: Box<dyn Read + Send>,
}

/// Starts exporting `reference` (a name, an ID or `name@digest`) from `engine`.
pub fn export(engine: Engine, reference: &str, platform: Option<&str>) -> Result<Export, Error> {
    check_reference(engine, reference)?;
    let candidates = endpoint::candidates(engine, &Environment::current()).map_err(Error::Usage)?;
    let (client, endpoint) = answering(engine, &candidates)?;
    let endpoint = endpoint.to_string();
    let failed = |failure: Failure| match failure {
        Failure::Unreachable(why) => Error::NotRunning {
            engine,
            endpoint: endpoint.clone(),
            why,
        },
        Failure::Refused { status: 404, .. } => Error::NoImage {
            engine,
            reference: reference.to_string(),
            endpoint: endpoint.clone(),
        },
        Failure::Refused { message, .. } => Error::Refused {
            engine,
            reference: reference.to_string(),
            endpoint: endpoint.clone(),
            message,
        },
    };
    let inspect = client
        .inspect(reference)
        .map_err(failed)?
        .ok_or(Error::NoImage {
            engine,
            reference: reference.to_string(),
            endpoint: endpoint.clone(),
        })?;
    let body = client.export(reference, platform).map_err(failed)?;
    Ok(Export {
        engine,
        endpoint,
        id: inspect.id,
        size: inspect.size,
        body,
    })
}

/// The first engine that answers and holds `reference`: docker's, then
/// podman's, as Trivy looks. `None` when none does (or none answers).
pub fn holding(reference: &str) -> Option<Engine> {
    let env = Environment::current();
    [Engine::Docker, Engine::Podman]
        .into_iter()
        .find(|&engine| {
            let Ok(candidates) = endpoint::candidates(engine, &env) else {
                return false;
            };
            check_reference(engine, reference).is_ok()
                && answering(engine, &candidates)
                    .is_ok_and(|(client, _)| matches!(client.inspect(reference), Ok(Some(_))))
        })
}

/// The first of `candidates` that answers a ping, with its client.
fn answering(engine: Engine, candidates: &[Endpoint]) -> Result<(Client, &Endpoint), Error> {
    let mut first_failure = None;
    for endpoint in candidates {
        let attempt = Client::new(endpoint).and_then(|client| client.ping().map(|()| client));
        match attempt {
            Ok(client) => return Ok((client, endpoint)),
            Err(failure) => {
                let why = match failure {
                    Failure::Unreachable(why) => why,
                    Failure::Refused { status, message } => format!("HTTP {status}: {message}"),
                };
                first_failure.get_or_insert((endpoint, why));
            }
        }
    }
    let (endpoint, why) = first_failure
        .map(|(endpoint, why)| (endpoint.to_string(), why))
        .unwrap_or_else(|| ("no endpoint".into(), "none configured".into()));
    Err(Error::NotRunning {
        engine,
        endpoint,
        why,
    })
}

/// Refuses a reference no engine would take, before it goes into a URL path.
fn check_reference(engine: Engine, reference: &str) -> Result<(), Error> {
    let plain = |b: u8| b.is_ascii_alphanumeric() || b"._-/:@".contains(&b);
    let odd_segment = reference
        .split('/')
        .any(|segment| matches!(segment, "" | "." | ".."));
    if reference.len() > 512 || odd_segment || !reference.bytes().all(plain) {
        return Err(Error::Usage(format!(
            "{}:{reference:?}: not an image name, ID or digest; write {}:NAME[:TAG], {0}:NAME@sha256:DIGEST or {0}:IMAGE_ID",
            engine.name(),
            engine.name(),
        )));
    }
    Ok(())
}
