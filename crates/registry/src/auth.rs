//! Credentials, found where docker, skopeo and cosign look for them.
//!
//! In order: `GPUBOM_REGISTRY_USERNAME` / `GPUBOM_REGISTRY_PASSWORD` (for CI,
//! where a config file is one more secret to write), for the registry
//! `GPUBOM_REGISTRY_HOST` names (unset: the one being pulled from; see
//! [`crate::scope`] for where else they may go), then the docker config
//! (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`): a per-registry
//! `credHelpers` entry, an inline `auths` entry, the default `credsStore`.
//! Nothing found means an anonymous pull; the registry's bearer-token
//! challenge is answered by `oci-client` with whatever was found.

use base64::Engine;
use oci_client::secrets::RegistryAuth;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub const USERNAME_VAR: &str = "GPUBOM_REGISTRY_USERNAME";
pub const PASSWORD_VAR: &str = "GPUBOM_REGISTRY_PASSWORD";
/// The registry the two variables above are for.
pub const HOST_VAR: &str = "GPUBOM_REGISTRY_HOST";

/// Where the credentials came from, for messages (never the secret itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Anonymous,
    Environment,
    /// The environment's credentials are for another registry (`GPUBOM_REGISTRY_HOST`).
    EnvironmentElsewhere(String),
    /// The environment's credentials were kept from the registry's token service, on
    /// this host, which the organisation does not list.
    Withheld(String),
    DockerConfig(PathBuf),
    Helper(String),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Anonymous => write!(f, "no credentials (anonymous)"),
            Origin::Environment => write!(f, "credentials from {USERNAME_VAR}/{PASSWORD_VAR}"),
            Origin::EnvironmentElsewhere(host) => write!(
                f,
                "no credentials ({USERNAME_VAR}/{PASSWORD_VAR} are for {host}, \
                 the registry {HOST_VAR} names)"
            ),
            Origin::Withheld(host) => write!(
                f,
                "no credentials ({USERNAME_VAR}/{PASSWORD_VAR} were kept from the token \
                 service at {host}, not the registry's host; list it in [registry] \
                 credential_hosts of .gpubom.toml if it is yours)"
            ),
            Origin::DockerConfig(p) => write!(f, "credentials from {}", p.display()),
            Origin::Helper(h) => write!(f, "credentials from docker-credential-{h}"),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct DockerConfig {
    #[serde(default)]
    auths: BTreeMap<String, DockerAuth>,
    #[serde(default)]
    cred_helpers: BTreeMap<String, String>,
    #[serde(default)]
    creds_store: Option<String>,
}

#[derive(Deserialize, Default)]
struct DockerAuth {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

/// Credentials for `registry` (as `oci_client::Reference::registry` spells it).
pub fn for_registry(registry: &str) -> Result<(RegistryAuth, Origin), String> {
    let user = std::env::var(USERNAME_VAR).ok().filter(|u| !u.is_empty());
    let password = std::env::var(PASSWORD_VAR).ok();
    let mut elsewhere = None;
    match (user, password) {
        (Some(u), Some(p)) if applies_to(registry) => {
            return Ok((RegistryAuth::Basic(u, p), Origin::Environment))
        }
        (Some(_), Some(_)) => elsewhere = std::env::var(HOST_VAR).ok(),
        (Some(_), None) => return Err(format!("{USERNAME_VAR} is set but {PASSWORD_VAR} is not")),
        _ => {}
    }
    let found = match docker_config_path() {
        Some(path) => from_docker_config(&path, registry)?,
        None => (RegistryAuth::Anonymous, Origin::Anonymous),
    };
    // Nothing else either: say so, or "access denied" would not say why.
    Ok(match (found, elsewhere) {
        ((RegistryAuth::Anonymous, Origin::Anonymous), Some(host)) => {
            (RegistryAuth::Anonymous, Origin::EnvironmentElsewhere(host))
        }
        (found, _) => found,
    })
}

fn docker_config_path() -> Option<PathBuf> {
    let dir = match std::env::var_os("DOCKER_CONFIG") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME")?).join(".docker"),
    };
    let path = dir.join("config.json");
    path.is_file().then_some(path)
}

/// The keys docker writes for a registry: Docker Hub's legacy URL, with and
/// without a scheme.
fn keys_for(registry: &str) -> Vec<String> {
    if matches!(
        registry,
        "docker.io" | "index.docker.io" | "registry-1.docker.io"
    ) {
        return vec![
            "https://index.docker.io/v1/".into(),
            "index.docker.io".into(),
            "docker.io".into(),
        ];
    }
    vec![
        registry.to_string(),
        format!("https://{registry}"),
        format!("http://{registry}"),
        format!("https://{registry}/v1/"),
    ]
}

pub(crate) fn from_docker_config(
    path: &Path,
    registry: &str,
) -> Result<(RegistryAuth, Origin), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let config: DockerConfig = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not a docker config.json: {e}", path.display()))?;
    let keys = keys_for(registry);
    if let Some(helper) = keys.iter().find_map(|k| config.cred_helpers.get(k)) {
        return helper_get(helper, &keys[0]);
    }
    if let Some(entry) = keys.iter().find_map(|k| config.auths.get(k)) {
        if let Some(auth) = inline(entry, path)? {
            return Ok((auth, Origin::DockerConfig(path.to_path_buf())));
        }
    }
    match &config.creds_store {
        Some(store) if !store.is_empty() => helper_get(store, &keys[0]),
        _ => Ok((RegistryAuth::Anonymous, Origin::Anonymous)),
    }
}

fn inline(entry: &DockerAuth, path: &Path) -> Result<Option<RegistryAuth>, String> {
    if let Some(token) = entry.identitytoken.as_deref().filter(|t| !t.is_empty()) {
        return Ok(Some(RegistryAuth::Bearer(token.to_string())));
    }
    if let (Some(u), Some(p)) = (&entry.username, &entry.password) {
        return Ok(Some(RegistryAuth::Basic(u.clone(), p.clone())));
    }
    let Some(encoded) = entry.auth.as_deref().filter(|a| !a.is_empty()) else {
        return Ok(None);
    };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            format!(
                "{}: an `auth` entry is not base64 of user:password",
                path.display()
            )
        })?;
    let (user, password) = decoded
        .split_once(':')
        .ok_or_else(|| format!("{}: an `auth` entry is not user:password", path.display()))?;
    Ok(Some(RegistryAuth::Basic(user.into(), password.into())))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HelperAnswer {
    username: String,
    secret: String,
}

/// Runs `docker-credential-<helper> get`, which reads the server URL on stdin.
fn helper_get(helper: &str, server: &str) -> Result<(RegistryAuth, Origin), String> {
    let program = format!("docker-credential-{helper}");
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {program} (named by the docker config): {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(server.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("{program}: {e}"))?;
    if !out.status.success() {
        // "credentials not found in native keychain": an anonymous pull, as docker does.
        return Ok((RegistryAuth::Anonymous, Origin::Anonymous));
    }
    let answer: HelperAnswer = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("{program} get: unexpected answer: {e}"))?;
    let auth = if answer.username == "<token>" {
        RegistryAuth::Bearer(answer.secret)
    } else {
        RegistryAuth::Basic(answer.username, answer.secret)
    };
    Ok((auth, Origin::Helper(helper.to_string())))
}

/// Whether the environment's credentials are for `registry` (as a reference spells it).
/// Host names are compared as written, never resolved: `localhost` is not `127.0.0.1`.
pub(crate) fn applies_to(registry: &str) -> bool {
    match std::env::var(HOST_VAR) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, json: &str) -> PathBuf {
        let path = dir.join("config.json");
        std::fs::write(&path, json).unwrap();
        path
    }

    fn basic(auth: RegistryAuth) -> (String, String) {
        match auth {
            RegistryAuth::Basic(u, p) => (u, p),
            other => panic!("expected basic credentials, got {other:?}"),
        }
    }

    #[test]
    fn inline_auth_is_base64_user_password() {
        let dir = tempfile::tempdir().unwrap();
        // base64("ci:s3cret")
        let path = write(
            dir.path(),
            r#"{"auths":{"registry.example:5000":{"auth":"Y2k6czNjcmV0"}}}"#,
        );
        let (auth, origin) = from_docker_config(&path, "registry.example:5000").unwrap();
        assert_eq!(basic(auth), ("ci".into(), "s3cret".into()));
        assert_eq!(origin, Origin::DockerConfig(path.clone()));
        let (anon, _) = from_docker_config(&path, "other.example").unwrap();
        assert!(matches!(anon, RegistryAuth::Anonymous));
    }

    #[test]
    fn docker_hub_uses_the_legacy_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            r#"{"auths":{"https://index.docker.io/v1/":{"auth":"dTpw"}}}"#,
        );
        let (auth, _) = from_docker_config(&path, "docker.io").unwrap();
        assert_eq!(basic(auth), ("u".into(), "p".into()));
    }

    #[test]
    fn helpers_are_run_with_the_server_on_stdin() {
        let dir = tempfile::tempdir().unwrap();
        let helper = dir.path().join("docker-credential-gpubomtest");
        std::fs::write(
            &helper,
            "#!/bin/sh\nread server\n[ \"$server\" = \"registry.example\" ] || exit 1\n\
             echo '{\"ServerURL\":\"registry.example\",\"Username\":\"bot\",\"Secret\":\"tok\"}'\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = write(
            dir.path(),
            r#"{"credHelpers":{"registry.example":"gpubomtest"}}"#,
        );
        let old = std::env::var_os("PATH").unwrap_or_default();
        let mut paths = vec![dir.path().to_path_buf()];
        paths.extend(std::env::split_paths(&old));
        // Only this test touches PATH in this crate's test binary.
        std::env::set_var("PATH", std::env::join_paths(paths).unwrap());
        let (auth, origin) = from_docker_config(&path, "registry.example").unwrap();
        assert_eq!(basic(auth), ("bot".into(), "tok".into()));
        assert_eq!(origin, Origin::Helper("gpubomtest".into()));
        // A store that has nothing for this registry means anonymous, not an error.
        let store = write(dir.path(), r#"{"credsStore":"gpubomtest"}"#);
        let (auth, _) = from_docker_config(&store, "elsewhere.example").unwrap();
        assert!(matches!(auth, RegistryAuth::Anonymous));
    }

    #[test]
    fn a_missing_helper_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), r#"{"credsStore":"no-such-helper-gpubom"}"#);
        let err = from_docker_config(&path, "r.example").unwrap_err();
        assert!(
            err.contains("docker-credential-no-such-helper-gpubom"),
            "{err}"
        );
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
