//! Authorizing requests to a registry: its challenge, and the token exchange.
//!
//! This is done here and not by `oci-client`, which reads a token service's answer
//! whole: an endless answer exhausted memory, and a 50 MB one went back to the
//! registry as a 50 MB `Authorization` header. The protocol is the one `oci-client`
//! speaks (Docker's token authentication): the registry's `/v2/` answers with a
//! `WWW-Authenticate` challenge; its first `Bearer` challenge with a realm sends the
//! client to that realm for a token, with the user's basic credentials if any, and any
//! other challenge means basic credentials with the registry itself. A token is asked
//! per scope (`repository:NAME:pull`, or `pull,push` to attach), read to at most
//! [`MAX_TOKEN_BYTES`], and kept until shortly before it expires.

use crate::answer::{read_capped, read_prefix, status_failure, Failure};
use crate::deadline::Deadlines;
use crate::Error;
use http_auth::parser::ChallengeParser;
use oci_client::errors::OciDistributionError;
use oci_client::secrets::RegistryAuth;
use reqwest::header::HeaderValue;
use reqwest::{RequestBuilder, Url};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// The most of a token service's answer that is read. A registry token is a JWT of a
/// few KB, or an opaque string shorter still; anything near this is not one.
pub const MAX_TOKEN_BYTES: u64 = 64 << 10;

/// How long a token lives when its answer does not say: the token specification's
/// default, and also its minimum.
const TOKEN_LIFETIME: Duration = Duration::from_secs(60);
/// A token is renewed this long before it expires, so no request carries a token
/// that expires on the way.
const RENEW_BEFORE: Duration = Duration::from_secs(10);

/// What the registry asks for, as `oci-client` reads its `WWW-Authenticate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Challenge {
    None,
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
    },
}

/// The first `Bearer` challenge with a realm; any other header means basic auth with
/// the registry, and a header that is not text is no challenge `oci-client` can parse.
pub(crate) fn parse_challenge(header: Option<&HeaderValue>) -> Challenge {
    let Some(header) = header else {
        return Challenge::None;
    };
    let bearer = ChallengeParser::new(header.to_str().unwrap_or_default())
        .filter_map(Result::ok)
        .filter(|c| c.scheme.eq_ignore_ascii_case("Bearer"))
        .find_map(|c| {
            let param = |name: &str| {
                c.params
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.to_unescaped())
            };
            Some((param("realm")?, param("service")))
        });
    match bearer {
        Some((realm, service)) => Challenge::Bearer { realm, service },
        None => Challenge::Basic,
    }
}

/// The scope a token is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Access {
    Pull,
    Push,
}

struct Token {
    value: String,
    renew_at: Instant,
}

/// How every request to one registry is authorized.
pub(crate) struct Authorizer {
    credentials: RegistryAuth,
    challenge: Challenge,
    repository: String,
    /// The registry, for messages.
    registry: String,
    tokens: Mutex<HashMap<Access, Token>>,
}

impl Authorizer {
    /// `credentials` as the registry's `challenge` asks for them (a `Bearer` identity
    /// token is sent as it is, whatever the challenge, as `oci-client` does).
    pub(crate) fn new(
        credentials: RegistryAuth,
        challenge: Challenge,
        repository: &str,
        registry: &str,
    ) -> Authorizer {
        Authorizer {
            credentials,
            challenge,
            repository: repository.to_string(),
            registry: registry.to_string(),
            tokens: Mutex::new(HashMap::new()),
        }
    }

    /// `request` with the `Authorization` the registry wants for `access`, if any.
    pub(crate) async fn authorize(
        &self,
        http: &reqwest::Client,
        deadlines: &Deadlines,
        request: RequestBuilder,
        access: Access,
    ) -> Result<RequestBuilder, Failure> {
        Ok(match self.credentials_for(http, deadlines, access).await? {
            RegistryAuth::Anonymous => request,
            RegistryAuth::Basic(user, password) => request.basic_auth(user, Some(password)),
            RegistryAuth::Bearer(token) => request.bearer_auth(token),
        })
    }

    /// What a request for `access` carries: the user's credentials, or a token for them.
    /// Also what `oci-client` is given to push with, so that it never asks a token
    /// service itself.
    pub(crate) async fn credentials_for(
        &self,
        http: &reqwest::Client,
        deadlines: &Deadlines,
        access: Access,
    ) -> Result<RegistryAuth, Failure> {
        match (&self.credentials, &self.challenge) {
            (RegistryAuth::Bearer(_), _) | (_, Challenge::Basic) => Ok(self.credentials.clone()),
            (_, Challenge::None) => Ok(RegistryAuth::Anonymous),
            (_, Challenge::Bearer { realm, service }) => Ok(RegistryAuth::Bearer(
                self.token(http, deadlines, access, realm, service.as_deref())
                    .await?,
            )),
        }
    }

    /// A live token for `access`, from the cache or the token service.
    async fn token(
        &self,
        http: &reqwest::Client,
        deadlines: &Deadlines,
        access: Access,
        realm: &str,
        service: Option<&str>,
    ) -> Result<String, Failure> {
        if let Some(token) = self.tokens.lock().expect("token cache").get(&access) {
            if Instant::now() < token.renew_at {
                return Ok(token.value.clone());
            }
        }
        let what = format!("a token for {}", self.registry);
        let source = realm.split('?').next().unwrap_or(realm).to_string();
        let fetch = crate::answer::retrying(|| self.exchange(http, access, realm, service, &what));
        let (value, lifetime) = deadlines
            .for_document()
            .bound(fetch, &what, &source)
            .await?;
        let renew_at = Instant::now() + lifetime.saturating_sub(RENEW_BEFORE);
        self.tokens.lock().expect("token cache").insert(
            access,
            Token {
                value: value.clone(),
                renew_at,
            },
        );
        Ok(value)
    }

    /// One request to the token service: the token it grants, and how long that lives.
    async fn exchange(
        &self,
        http: &reqwest::Client,
        access: Access,
        realm: &str,
        service: Option<&str>,
        what: &str,
    ) -> Result<(String, Duration), Failure> {
        let mut url = Url::parse(realm).map_err(|e| {
            Failure::Refused(Error::Protocol {
                what: what.to_string(),
                why: format!("the registry's token realm {realm:?} is not a URL: {e}"),
            })
        })?;
        let actions = match access {
            Access::Pull => "pull",
            Access::Push => "pull,push",
        };
        url.query_pairs_mut().append_pair(
            "scope",
            &format!("repository:{}:{actions}", self.repository),
        );
        if let Some(service) = service {
            url.query_pairs_mut().append_pair("service", service);
        }
        let mut request = http.get(url.clone());
        if let RegistryAuth::Basic(user, password) = &self.credentials {
            request = request.basic_auth(user, Some(password));
        }
        let response = request.send().await?;
        let status = response.status();
        if status.as_u16() == 429 || status.is_server_error() {
            return Err(status_failure(response, url.as_str()).await);
        }
        if !status.is_success() {
            // Refused: the registry would refuse the request without a token alike.
            let reason = String::from_utf8_lossy(&read_prefix(response).await).into_owned();
            return Err(OciDistributionError::AuthenticationFailure(reason).into());
        }
        let source = realm.split('?').next().unwrap_or(realm);
        let body = read_capped(response, MAX_TOKEN_BYTES)
            .await?
            .ok_or_else(|| {
                Failure::Refused(Error::TooLarge {
                    what: what.to_string(),
                    from: source.to_string(),
                    limit: MAX_TOKEN_BYTES,
                    kind: "a token",
                })
            })?;
        parse_token(&body).map_err(|why| {
            Failure::Refused(Error::Protocol {
                what: format!("{what} from {source}"),
                why,
            })
        })
    }
}

/// The token service's JSON: `token` (or OAuth2's `access_token`) and its lifetime.
pub(crate) fn parse_token(body: &[u8]) -> Result<(String, Duration), String> {
    #[derive(serde::Deserialize)]
    struct Answer {
        token: Option<String>,
        access_token: Option<String>,
        expires_in: Option<u64>,
    }
    let answer: Answer =
        serde_json::from_slice(body).map_err(|e| format!("not a token service's JSON: {e}"))?;
    let token = answer
        .token
        .or(answer.access_token)
        .filter(|t| !t.is_empty())
        .ok_or("the answer has no token")?;
    if HeaderValue::from_str(&format!("Bearer {token}")).is_err() {
        return Err("the token is not text an HTTP header can carry".into());
    }
    let lifetime = answer
        .expires_in
        .map(Duration::from_secs)
        .unwrap_or(TOKEN_LIFETIME)
        .max(TOKEN_LIFETIME);
    Ok((token, lifetime))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn challenge(header: &str) -> Challenge {
        parse_challenge(Some(&HeaderValue::from_str(header).unwrap()))
    }

    #[test]
    fn challenges_are_read_as_oci_client_reads_them() {
        assert_eq!(parse_challenge(None), Challenge::None);
        assert_eq!(challenge(r#"Basic realm="registry""#), Challenge::Basic);
        assert_eq!(
            challenge(
                r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io""#
            ),
            Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
            }
        );
        // A Bearer challenge after another scheme is still the one oci-client follows.
        assert_eq!(
            challenge(r#"Basic realm="x", Bearer realm="https://a.example/t""#),
            Challenge::Bearer {
                realm: "https://a.example/t".into(),
                service: None,
            }
        );
        // Bearer without a realm: oci-client falls back to basic auth with the registry.
        assert_eq!(challenge(r#"Bearer service="x""#), Challenge::Basic);
    }

    #[test]
    fn tokens_are_read_from_either_field_and_live_at_least_a_minute() {
        let (token, lifetime) = parse_token(br#"{"token":"abc","expires_in":300}"#).unwrap();
        assert_eq!(token, "abc");
        assert_eq!(lifetime, Duration::from_secs(300));
        let (token, lifetime) = parse_token(br#"{"access_token":"xyz","expires_in":5}"#).unwrap();
        assert_eq!(token, "xyz");
        assert_eq!(lifetime, TOKEN_LIFETIME);
        assert!(parse_token(br#"{"token":""}"#).is_err());
        assert!(parse_token(b"{\"token\":\"a\\nb\"}").is_err());
        assert!(parse_token(b"<html>").is_err());
    }
}
