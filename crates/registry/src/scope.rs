//! Where the environment's credentials may go.
//!
//! `GPUBOM_REGISTRY_USERNAME`/`PASSWORD` are one secret for one registry, set in CI where
//! the image reference may come from a pull request. They apply to the registry named by
//! `GPUBOM_REGISTRY_HOST`, or, when that is unset, to the registry of the reference
//! being scanned ([`applies_to`]), and they leave that host only for hosts the
//! organisation lists in `.gpubom.toml` (`[registry] credential_hosts`).
//!
//! Two ways lead elsewhere. A redirect: reqwest drops `Authorization` when a redirect
//! changes the host, port or scheme, and `oci-client` adds credentials only to requests
//! addressed to the registry itself. A token realm: the registry's `Bearer` challenge
//! names the token service, and `oci-client` sends the credentials to whatever URL it
//! names. So before the credentials are handed over, [`confine`] asks the registry for its
//! challenge, parsed as `oci-client` parses it, and keeps them only when they would go to
//! the registry (a `Basic` challenge) or to a realm on an allowed host. The registry could
//! answer `oci-client` differently a moment later; but a registry that gets the
//! credentials anyway (it is their host) gains nothing by that, and one that is not their
//! host never reaches this check.

use crate::auth::{self, Origin};
use crate::client::{retrying, Registry, CONNECT_TIMEOUT, READ_TIMEOUT};
use http_auth::parser::ChallengeParser;
use oci_client::errors::OciDistributionError;
use oci_client::secrets::RegistryAuth;
use reqwest::Url;

/// Whether the environment's credentials are for `registry` (as a reference spells it).
/// Host names are compared as written, never resolved: `localhost` is not `127.0.0.1`.
pub(crate) fn applies_to(registry: &str) -> bool {
    match std::env::var(auth::HOST_VAR) {
        Ok(host) if !host.trim().is_empty() => same_registry(host.trim(), registry),
        _ => true,
    }
}

/// Docker Hub answers to several names; any other registry to its one `host[:port]`.
fn same_registry(a: &str, b: &str) -> bool {
    let canonical = |name: &str| {
        let name = name.trim_end_matches('/').to_ascii_lowercase();
        match name.as_str() {
            "index.docker.io" | "registry-1.docker.io" => "docker.io".to_string(),
            _ => name,
        }
    };
    canonical(a) == canonical(b)
}

/// What the registry asks for, as `oci-client` reads its `WWW-Authenticate`: the first
/// `Bearer` challenge with a realm; any other header means basic auth with the registry.
#[derive(Debug, PartialEq, Eq)]
enum Challenge {
    None,
    Basic,
    Bearer { realm: String },
}

fn parse_challenge(header: Option<&str>) -> Challenge {
    let Some(header) = header else {
        return Challenge::None;
    };
    let realm = ChallengeParser::new(header)
        .filter_map(Result::ok)
        .filter(|c| c.scheme.eq_ignore_ascii_case("Bearer"))
        .find_map(|c| {
            c.params
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("realm"))
                .map(|(_, v)| v.to_unescaped())
        });
    match realm {
        Some(realm) => Challenge::Bearer { realm },
        None => Challenge::Basic,
    }
}

/// Whether a token realm may receive the credentials of the registry at `registry_url`:
/// on the registry's own host and port, or on a host of `allowed` (`host`, on the realm
/// scheme's default port, or `host:port`); and over https unless the registry itself is
/// spoken to in plain HTTP.
fn realm_allowed(realm: &Url, registry_url: &Url, allowed: &[String]) -> bool {
    if realm.scheme() != "https" && registry_url.scheme() == "https" {
        return false;
    }
    let same_place = |other: &Url| {
        other.host_str() == realm.host_str()
            && other.port_or_known_default() == realm.port_or_known_default()
    };
    same_place(registry_url)
        || allowed.iter().any(|host| {
            Url::parse(&format!("{}://{host}/", realm.scheme())).is_ok_and(|u| same_place(&u))
        })
}

/// The credentials to hand to `oci-client` for `registry`: the environment's, when the
/// registry's challenge keeps them on an allowed host; otherwise none, with an origin that
/// says why.
pub(crate) fn confine(
    registry: &Registry,
    credentials: RegistryAuth,
    plain_http: bool,
    allowed: &[String],
) -> Result<(RegistryAuth, Origin), OciDistributionError> {
    let scheme = if plain_http { "http" } else { "https" };
    let host = registry.reference().resolve_registry();
    let registry_url = Url::parse(&format!("{scheme}://{host}/"))
        .map_err(|e| OciDistributionError::UrlParseError(e.to_string()))?;
    let client = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(READ_TIMEOUT)
        .user_agent(concat!("gpubom/", env!("CARGO_PKG_VERSION")))
        .build()?;
    let version_url = registry_url.join("v2/").expect("a relative path joins");
    let response = registry.block_on(retrying(|| async {
        let response = client.get(version_url.clone()).send().await?;
        let code = response.status().as_u16();
        if code == 429 || code >= 500 {
            return Err(OciDistributionError::ServerError {
                code,
                url: version_url.to_string(),
                message: "asking the registry how to authenticate".into(),
            });
        }
        Ok(response)
    }))?;
    // A header that is not text is no challenge oci-client can parse: basic auth, to it.
    let header = response
        .headers()
        .get(reqwest::header::WWW_AUTHENTICATE)
        .map(|h| h.to_str().unwrap_or_default());
    match parse_challenge(header) {
        // Nothing asked: oci-client would send nothing either.
        Challenge::None => Ok((RegistryAuth::Anonymous, Origin::Anonymous)),
        Challenge::Basic => Ok((credentials, Origin::Environment)),
        Challenge::Bearer { realm } => match Url::parse(&realm) {
            Ok(url) if realm_allowed(&url, &registry_url, allowed) => {
                Ok((credentials, Origin::Environment))
            }
            Ok(url) => Ok((
                RegistryAuth::Anonymous,
                Origin::Withheld(authority(&url).unwrap_or(realm)),
            )),
            Err(_) => Ok((RegistryAuth::Anonymous, Origin::Withheld(realm))),
        },
    }
}

/// `host[:port]` of a URL, as `credential_hosts` would list it.
fn authority(url: &Url) -> Option<String> {
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn challenges_are_read_as_oci_client_reads_them() {
        assert_eq!(parse_challenge(None), Challenge::None);
        assert_eq!(
            parse_challenge(Some(r#"Basic realm="registry""#)),
            Challenge::Basic
        );
        assert_eq!(
            parse_challenge(Some(
                r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io""#
            )),
            Challenge::Bearer {
                realm: "https://auth.docker.io/token".into()
            }
        );
        // A Bearer challenge after another scheme is still the one oci-client follows.
        assert_eq!(
            parse_challenge(Some(
                r#"Basic realm="x", Bearer realm="https://a.example/t""#
            )),
            Challenge::Bearer {
                realm: "https://a.example/t".into()
            }
        );
        // Bearer without a realm: oci-client falls back to basic auth with the registry.
        assert_eq!(
            parse_challenge(Some(r#"Bearer service="x""#)),
            Challenge::Basic
        );
    }

    #[test]
    fn realms_on_other_hosts_need_the_organisations_word() {
        let registry = url("https://registry.example/");
        let allowed = ["auth.example".to_string(), "auth2.example:8443".to_string()];
        for (realm, ok) in [
            ("https://registry.example/token", true),
            ("https://REGISTRY.example:443/token", true),
            ("https://registry.example:8443/token", false),
            ("http://registry.example/token", false),
            ("https://evil.example/token", false),
            ("https://auth.example/token", true),
            ("https://auth.example:444/token", false),
            ("http://auth.example/token", false),
            ("https://auth2.example:8443/token", true),
            ("https://auth2.example/token", false),
            ("https://registry.example.evil.example/token", false),
        ] {
            assert_eq!(
                realm_allowed(&url(realm), &registry, &allowed),
                ok,
                "{realm}"
            );
        }
        // A plain-HTTP registry (--plain-http) may have a plain-HTTP realm.
        let local = url("http://127.0.0.1:5000/");
        assert!(realm_allowed(&url("http://127.0.0.1:5000/t"), &local, &[]));
        assert!(!realm_allowed(&url("http://localhost:5000/t"), &local, &[]));
        assert!(realm_allowed(
            &url("http://localhost:5001/t"),
            &local,
            &["localhost:5001".into()]
        ));
    }

    #[test]
    fn docker_hub_is_one_registry_under_its_names() {
        assert!(same_registry("docker.io", "index.docker.io"));
        assert!(same_registry("registry-1.docker.io", "docker.io"));
        assert!(same_registry("GHCR.io", "ghcr.io"));
        assert!(!same_registry("ghcr.io", "ghcr.io:443"));
        assert!(!same_registry("localhost:5000", "127.0.0.1:5000"));
    }
}
