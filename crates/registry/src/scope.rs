//! Where the environment's credentials may go.
//!
//! `GPUBOM_REGISTRY_USERNAME`/`PASSWORD` are one secret for one registry, set in CI where
//! the image reference may come from a pull request. They apply to the registry named by
//! `GPUBOM_REGISTRY_HOST`, or, when that is unset, to the registry of the reference
//! being scanned ([`crate::auth::applies_to`]), and they leave that host only for hosts the
//! organisation lists in `.gpubom.toml` (`[registry] credential_hosts`).
//!
//! Two ways lead elsewhere. A redirect: reqwest drops `Authorization` when a redirect
//! changes the host, port or scheme, and requests are addressed to the registry itself
//! only. A token realm: the registry's `Bearer` challenge names the token service, and
//! the token exchange ([`crate::token`]) sends the credentials to whatever URL it names.
//! So when the registry's challenge has been read, [`confine`] keeps the credentials
//! only when they would go to the registry (a `Basic` challenge) or to a realm on an
//! allowed host. The exchange follows that same challenge, read once.

use crate::auth::Origin;
use crate::token::Challenge;
use oci_client::secrets::RegistryAuth;
use reqwest::Url;

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

/// The environment's `credentials` for the registry at `registry_url`, as its
/// `challenge` would route them: kept when they stay on the registry or go to a realm on
/// an allowed host; otherwise none, with an origin that says why.
pub(crate) fn confine(
    credentials: RegistryAuth,
    challenge: &Challenge,
    registry_url: &Url,
    allowed: &[String],
) -> (RegistryAuth, Origin) {
    match challenge {
        // Nothing asked: nothing is sent.
        Challenge::None => (RegistryAuth::Anonymous, Origin::Anonymous),
        Challenge::Basic => (credentials, Origin::Environment),
        Challenge::Bearer { realm, .. } => match Url::parse(realm) {
            Ok(url) if realm_allowed(&url, registry_url, allowed) => {
                (credentials, Origin::Environment)
            }
            Ok(url) => (
                RegistryAuth::Anonymous,
                Origin::Withheld(authority(&url).unwrap_or_else(|| realm.clone())),
            ),
            Err(_) => (RegistryAuth::Anonymous, Origin::Withheld(realm.clone())),
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
}
