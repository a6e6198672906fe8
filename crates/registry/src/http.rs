//! Requests to one registry: each under a deadline, every body read to a limit.
//!
//! `oci-client` reads answers whole and its callers can only check their size after
//! the fact: an endless manifest or referrers list exhausted memory before the 4 MiB
//! limit was ever looked at. So gpubom pulls through [`Session`]: a document is read
//! chunk by chunk and refused as soon as it passes its limit (or declares a length
//! past it), an error answer is read only as far as a message needs, and every
//! request runs under a [`crate::deadline::Deadline`]. `oci-client` is kept for
//! pushing (`gpubom attach`), and its errors are what this module speaks: the
//! registry's answers become the same [`OciDistributionError`]s, so one
//! [`crate::answer::classify`] and one [`crate::answer::retrying`] serve pulls and
//! pushes alike.

use crate::answer::{
    classify, describe_request_error, is_not_found, read_capped, retrying, status_failure, Failure,
};
use crate::auth::Origin;
use crate::deadline::Deadlines;
use crate::token::{parse_challenge, Access, Authorizer, Challenge};
use crate::{Error, Options};
use oci_client::errors::OciDistributionError;
use oci_client::secrets::RegistryAuth;
use oci_client::Reference;
use reqwest::header::{HeaderMap, ACCEPT, RANGE, WWW_AUTHENTICATE};
use reqwest::{Response, StatusCode, Url};
use std::time::Duration;

pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest wait for the next bytes of a response.
pub(crate) const READ_TIMEOUT: Duration = Duration::from_secs(60);
/// The most of a referrers list that is read. Each entry is a descriptor of a few
/// hundred bytes, so this holds thousands of signatures, attestations and SBOMs,
/// where an image has a handful; gpubom looks at the first
/// [`gpubom_image::MAX_ATTACHED`] anyway.
pub const MAX_REFERRERS_BYTES: u64 = 4 << 20;

pub(crate) const USER_AGENT: &str = concat!("gpubom/", env!("CARGO_PKG_VERSION"));

/// The most of one kind of document that is read, and the kind, for messages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cap {
    pub(crate) bytes: u64,
    /// "a manifest or index", "a referrers list".
    pub(crate) kind: &'static str,
}

/// One repository on one registry, reached over HTTP(S), authorized as it asks.
pub(crate) struct Session {
    http: reqwest::Client,
    /// `scheme://host[:port]/`, where requests go.
    base: Url,
    /// The registry as the reference spells it, for messages.
    registry: String,
    repository: String,
    plain_http: bool,
    origin: Origin,
    auth: Authorizer,
    deadlines: Deadlines,
}

impl Session {
    /// Asks the registry how to authenticate and settles which credentials go with its
    /// requests: `credentials` from `origin`, confined by [`crate::scope::confine`] when
    /// they come from the environment.
    pub(crate) async fn connect(
        reference: &Reference,
        options: &Options,
        credentials: RegistryAuth,
        origin: Origin,
        deadlines: Deadlines,
    ) -> Result<Session, Error> {
        let registry = reference.registry().to_string();
        let scheme = if options.plain_http { "http" } else { "https" };
        let base = Url::parse(&format!("{scheme}://{}/", reference.resolve_registry()))
            .map_err(|e| Error::Reference(format!("{registry}: not a registry host ({e})")))?;
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(READ_TIMEOUT)
            .user_agent(USER_AGENT)
            .build()
            .map_err(|e| Error::Unreachable {
                registry: registry.clone(),
                why: describe_request_error(&e),
            })?;
        // An identity token is sent as it is, whatever the registry asks.
        let challenge = if matches!(credentials, RegistryAuth::Bearer(_)) {
            Challenge::None
        } else {
            let probe = retrying(|| challenge_of(&http, &base));
            deadlines
                .for_document()
                .bound(probe, "/v2/", &registry)
                .await
                .map_err(|e| classify(e, "/v2/", &registry, options.plain_http, &origin))?
        };
        let (credentials, origin) = if origin == Origin::Environment {
            crate::scope::confine(credentials, &challenge, &base, &options.credential_hosts)
        } else {
            (credentials, origin)
        };
        Ok(Session {
            auth: Authorizer::new(credentials, challenge, reference.repository(), &registry),
            http,
            base,
            registry,
            repository: reference.repository().to_string(),
            plain_http: options.plain_http,
            origin,
            deadlines,
        })
    }

    pub(crate) fn registry(&self) -> &str {
        &self.registry
    }

    pub(crate) fn deadlines(&self) -> &Deadlines {
        &self.deadlines
    }

    /// `/v2/<repository>/<rest>?<query>` on the registry.
    fn url(&self, rest: &str, query: &[(&str, &str)]) -> Result<Url, Failure> {
        let mut url = self
            .base
            .join(&format!("v2/{}/{rest}", self.repository))
            .map_err(|e| OciDistributionError::UrlParseError(e.to_string()))?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    /// A GET of `url`, authorized for pulling.
    async fn get(&self, url: &Url, accept: Option<&str>, from: u64) -> Result<Response, Failure> {
        let mut request = self.http.get(url.clone());
        if let Some(accept) = accept {
            request = request.header(ACCEPT, accept);
        }
        if from > 0 {
            request = request.header(RANGE, format!("bytes={from}-"));
        }
        let request = self
            .auth
            .authorize(&self.http, &self.deadlines, request, Access::Pull)
            .await?;
        Ok(request.send().await?)
    }

    /// The document at `/v2/<repository>/<rest>?<query>` (a manifest, an index, a
    /// referrers list), whole, with the answer's headers; `None` when the registry has
    /// none. Refused past `limit` bytes, and past its deadline.
    pub(crate) async fn document(
        &self,
        rest: &str,
        query: &[(&str, &str)],
        accept: &str,
        what: &str,
        cap: Cap,
    ) -> Result<Option<(Vec<u8>, HeaderMap)>, Error> {
        let fetch = retrying(|| async {
            let url = self.url(rest, query)?;
            let response = self.get(&url, Some(accept), 0).await?;
            if response.status() != StatusCode::OK {
                return Err(status_failure(response, url.as_str()).await);
            }
            let headers = response.headers().clone();
            match read_capped(response, cap.bytes).await? {
                Some(body) => Ok((body, headers)),
                None => Err(Failure::Refused(Error::TooLarge {
                    what: what.to_string(),
                    from: self.registry.clone(),
                    limit: cap.bytes,
                    kind: cap.kind,
                })),
            }
        });
        match self
            .deadlines
            .for_document()
            .bound(fetch, what, &self.registry)
            .await
        {
            Ok(found) => Ok(Some(found)),
            Err(Failure::Registry(e)) if is_not_found(&e) => Ok(None),
            Err(e) => Err(self.classify(e, what)),
        }
    }

    /// The answer to a GET of blob `digest` from byte `from` on, its body unread, and
    /// whether it starts there (206) rather than at the blob's first byte (200, a
    /// registry that ignores ranges). Retried; bounded by the document deadline, since
    /// only the answer's head is awaited.
    pub(crate) async fn blob(&self, digest: &str, from: u64) -> Result<(Response, bool), Failure> {
        let what = format!("blob {digest}");
        let fetch = retrying(|| async {
            let url = self.url(&format!("blobs/{digest}"), &[])?;
            let response = self.get(&url, None, from).await?;
            match response.status() {
                StatusCode::OK => Ok((response, false)),
                StatusCode::PARTIAL_CONTENT => Ok((response, true)),
                _ => Err(status_failure(response, url.as_str()).await),
            }
        });
        self.deadlines
            .for_document()
            .bound(fetch, &what, &self.registry)
            .await
    }

    /// The credentials `oci-client` pushes with: a token granted here for pushing, so
    /// that it never reads a token service's answer itself.
    pub(crate) async fn credentials_for_push(&self) -> Result<RegistryAuth, Error> {
        self.auth
            .credentials_for(&self.http, &self.deadlines, Access::Push)
            .await
            .map_err(|e| self.classify(e, "a token for pushing"))
    }

    /// Turns a failure into an error that says what to do.
    pub(crate) fn classify(&self, failure: Failure, what: &str) -> Error {
        classify(failure, what, &self.registry, self.plain_http, &self.origin)
    }
}

/// The registry's `WWW-Authenticate` on `/v2/`. Busy answers are retried; any other
/// answer is read only for that header, as `oci-client` reads it.
async fn challenge_of(http: &reqwest::Client, base: &Url) -> Result<Challenge, Failure> {
    let url = base.join("v2/").expect("a relative path joins");
    let response = http.get(url.clone()).send().await?;
    let status = response.status();
    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        return Err(status_failure(response, url.as_str()).await);
    }
    Ok(parse_challenge(response.headers().get(WWW_AUTHENTICATE)))
}
