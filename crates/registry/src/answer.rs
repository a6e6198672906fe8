//! What a registry answered, read with bounds: a body up to its limit, an error answer
//! only as far as its message, and every failure turned into an error that says what to
//! do. Both the pulling [`crate::http::Session`] and the token exchange use these, so they
//! sit below both.

use crate::auth::Origin;
use crate::Error;
use oci_client::errors::{OciDistributionError, OciEnvelope, OciErrorCode};
use reqwest::{Response, StatusCode};
use std::future::Future;
use std::time::Duration;

/// Attempts per request, the first included.
const MAX_ATTEMPTS: u32 = 4;
pub(crate) const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// The most of an error answer that is read: enough for any message worth showing.
const MAX_ERROR_BODY_BYTES: u64 = 64 << 10;

/// Why a request did not succeed: an answer or a network failure (retried when
/// transient), or gpubom's own refusal (a limit, a deadline), which no retry changes.
#[derive(Debug)]
pub(crate) enum Failure {
    Registry(OciDistributionError),
    Refused(Error),
}

impl From<OciDistributionError> for Failure {
    fn from(e: OciDistributionError) -> Failure {
        Failure::Registry(e)
    }
}

impl From<reqwest::Error> for Failure {
    fn from(e: reqwest::Error) -> Failure {
        Failure::Registry(OciDistributionError::RequestError(e))
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::Refused(e)
    }
}

/// The whole body, or `None` once it passes `limit` bytes: the declared length is
/// looked at first, the bytes as they arrive after, so at most `limit` plus one chunk
/// is ever held.
pub(crate) async fn read_capped(
    mut response: Response,
    limit: u64,
) -> Result<Option<Vec<u8>>, reqwest::Error> {
    if response
        .content_length()
        .is_some_and(|declared| declared > limit)
    {
        return Ok(None);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if (body.len() + chunk.len()) as u64 > limit {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

/// The start of an error answer's body, enough for its message; the rest is not read.
pub(crate) async fn read_prefix(mut response: Response) -> Vec<u8> {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = MAX_ERROR_BODY_BYTES as usize - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() as u64 >= MAX_ERROR_BODY_BYTES {
            break;
        }
    }
    body
}

/// An answer other than the one asked for, as `oci-client` reports it: 401 is
/// unauthorized, a 4xx with the distribution spec's error envelope is that, anything
/// else a server error with the start of its body.
pub(crate) async fn status_failure(response: Response, url: &str) -> Failure {
    let status = response.status();
    let url = url.to_string();
    if status == StatusCode::UNAUTHORIZED {
        return OciDistributionError::UnauthorizedError { url }.into();
    }
    let body = read_prefix(response).await;
    let message = || String::from_utf8_lossy(&body).into_owned();
    if status.is_success() {
        return OciDistributionError::SpecViolationError(format!(
            "Expected HTTP Status 200 OK, got {status} instead"
        ))
        .into();
    }
    if status.is_client_error() {
        if let Ok(envelope) = serde_json::from_slice::<OciEnvelope>(&body) {
            return OciDistributionError::RegistryError { envelope, url }.into();
        }
    }
    OciDistributionError::ServerError {
        code: status.as_u16(),
        url,
        message: message(),
    }
    .into()
}

/// Runs `attempt` until it succeeds, fails for good, or runs out of tries.
pub(crate) async fn retrying<T, F, Fut>(mut attempt: F) -> Result<T, Failure>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Failure>>,
{
    let mut delay = FIRST_BACKOFF;
    let mut tries = 1;
    loop {
        match attempt().await {
            Err(Failure::Registry(e)) if tries < MAX_ATTEMPTS && is_transient(&e) => {
                tokio::time::sleep(delay).await;
                delay *= 2;
                tries += 1;
            }
            other => return other,
        }
    }
}

/// Turns a failure into an error that says what to do.
pub(crate) fn classify(
    failure: Failure,
    what: &str,
    registry: &str,
    plain_http: bool,
    origin: &Origin,
) -> Error {
    let e = match failure {
        Failure::Refused(e) => return e,
        Failure::Registry(e) => e,
    };
    let registry = registry.to_string();
    if is_denied(&e) {
        return Error::Auth {
            registry,
            origin: origin.to_string(),
        };
    }
    if is_not_found(&e) {
        return Error::NotFound {
            reference: what.to_string(),
        };
    }
    match e {
        OciDistributionError::RequestError(e) if e.is_connect() || e.is_timeout() => {
            // Over TLS, a plain-HTTP registry fails like an unreachable one.
            let hint = if plain_http {
                ""
            } else {
                " (a registry that serves plain HTTP needs --plain-http)"
            };
            Error::Unreachable {
                registry,
                why: format!("{}{hint}", describe_request_error(&e)),
            }
        }
        other => Error::Protocol {
            what: what.to_string(),
            why: other.to_string(),
        },
    }
}

fn codes(e: &OciDistributionError) -> Vec<&OciErrorCode> {
    match e {
        OciDistributionError::RegistryError { envelope, .. } => {
            envelope.errors.iter().map(|e| &e.code).collect()
        }
        _ => Vec::new(),
    }
}

fn is_transient(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::ServerError { code, .. } => *code == 429 || *code >= 500,
        OciDistributionError::RequestError(e) => e.is_connect() || e.is_timeout() || e.is_body(),
        OciDistributionError::IoError(_) => true,
        other => codes(other)
            .iter()
            .any(|c| matches!(c, OciErrorCode::Toomanyrequests)),
    }
}

pub(crate) fn is_not_found(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::ImageManifestNotFoundError(_) => true,
        OciDistributionError::ServerError { code, .. } => *code == 404,
        other => codes(other).iter().any(|c| {
            matches!(
                c,
                OciErrorCode::ManifestUnknown
                    | OciErrorCode::NameUnknown
                    | OciErrorCode::NotFound
                    | OciErrorCode::BlobUnknown
            )
        }),
    }
}

fn is_denied(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::UnauthorizedError { .. }
        | OciDistributionError::AuthenticationFailure(_) => true,
        OciDistributionError::ServerError { code, .. } => *code == 401 || *code == 403,
        other => codes(other)
            .iter()
            .any(|c| matches!(c, OciErrorCode::Unauthorized | OciErrorCode::Denied)),
    }
}

/// reqwest's message plus its causes: "error sending request" alone says nothing.
pub(crate) fn describe_request_error(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}
