//! Where an engine listens, found the way its own client finds it.
//!
//! Docker's CLI takes `DOCKER_HOST` first; else the current context
//! (`DOCKER_CONTEXT`, else `currentContext` in `$DOCKER_CONFIG/config.json`,
//! `~/.docker` by default), whose endpoint is in
//! `contexts/meta/<sha256 of the name>/meta.json` and whose TLS files are in
//! `contexts/tls/<sha256>/docker/`; else `/var/run/docker.sock`. A `tcp://`
//! host speaks TLS when `DOCKER_TLS_VERIFY` or `DOCKER_TLS` is set, with
//! `ca.pem`, `cert.pem` and `key.pem` from `DOCKER_CERT_PATH` (`~/.docker` by
//! default): the server is always verified against that `ca.pem`. Podman's
//! remote client takes `CONTAINER_HOST`, else the user's service socket
//! `$XDG_RUNTIME_DIR/podman/podman.sock`, else the system's
//! `/run/podman/podman.sock`.
//!
//! `ssh://` hosts are refused with a way round (forward the socket): gpubom
//! does not run ssh.

use crate::Engine;
use std::path::{Path, PathBuf};

/// How to reach one engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Unix(PathBuf),
    Tcp {
        /// `host:port`.
        address: String,
        /// The directory holding `ca.pem`, `cert.pem`, `key.pem`; `None`: plain HTTP.
        tls: Option<PathBuf>,
    },
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Unix(path) => write!(f, "unix://{}", path.display()),
            Endpoint::Tcp { address, tls } => {
                let how = if tls.is_some() { " (TLS)" } else { "" };
                write!(f, "tcp://{address}{how}")
            }
        }
    }
}

/// What the environment holds, read once so tests can give their own.
#[derive(Debug, Default, Clone)]
pub struct Environment {
    pub vars: Vec<(String, String)>,
    pub home: Option<PathBuf>,
}

impl Environment {
    pub fn current() -> Environment {
        Environment {
            vars: std::env::vars().collect(),
            home: std::env::var_os("HOME").map(PathBuf::from),
        }
    }

    fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    fn docker_config(&self) -> Option<PathBuf> {
        match self.var("DOCKER_CONFIG") {
            Some(dir) => Some(PathBuf::from(dir)),
            None => self.home.as_ref().map(|h| h.join(".docker")),
        }
    }
}

/// The endpoints to try for `engine`, in order; the first is the one its own
/// client would use, so only podman, whose client falls back from the user's
/// socket to the system's, has more than one. `Err` says why none can be used.
pub fn candidates(engine: Engine, env: &Environment) -> Result<Vec<Endpoint>, String> {
    match engine {
        Engine::Docker => docker(env).map(|endpoint| vec![endpoint]),
        Engine::Podman => {
            if let Some(host) = env.var("CONTAINER_HOST") {
                return parse_host(host, "CONTAINER_HOST", None).map(|e| vec![e]);
            }
            let mut out = Vec::new();
            if let Some(runtime) = env.var("XDG_RUNTIME_DIR") {
                out.push(Endpoint::Unix(
                    Path::new(runtime).join("podman/podman.sock"),
                ));
            }
            out.push(Endpoint::Unix("/run/podman/podman.sock".into()));
            Ok(out)
        }
    }
}

fn docker(env: &Environment) -> Result<Endpoint, String> {
    let tls_dir = || {
        let wanted = env.var("DOCKER_TLS_VERIFY").is_some() || env.var("DOCKER_TLS").is_some();
        wanted.then(|| match env.var("DOCKER_CERT_PATH") {
            Some(dir) => PathBuf::from(dir),
            None => env.docker_config().unwrap_or_else(|| ".docker".into()),
        })
    };
    if let Some(host) = env.var("DOCKER_HOST") {
        return parse_host(host, "DOCKER_HOST", tls_dir());
    }
    if let Some(endpoint) = context(env)? {
        return Ok(endpoint);
    }
    Ok(Endpoint::Unix("/var/run/docker.sock".into()))
}

/// The current context's endpoint; `None` for the default context.
fn context(env: &Environment) -> Result<Option<Endpoint>, String> {
    let Some(config_dir) = env.docker_config() else {
        return Ok(None);
    };
    let name = match env.var("DOCKER_CONTEXT") {
        Some(name) => name.to_string(),
        None => {
            let config = config_dir.join("config.json");
            let Some(json) = read_small_json(&config)? else {
                return Ok(None);
            };
            match json.get("currentContext").and_then(|c| c.as_str()) {
                Some(name) if !name.is_empty() => name.to_string(),
                _ => return Ok(None),
            }
        }
    };
    if name == "default" {
        return Ok(None);
    }
    let id = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(name.as_bytes()));
    let meta = config_dir.join("contexts/meta").join(&id).join("meta.json");
    let json = read_small_json(&meta)?.ok_or_else(|| {
        format!(
            "the docker context {name:?} has no {} (docker context ls lists the contexts)",
            meta.display()
        )
    })?;
    let endpoint = &json["Endpoints"]["docker"];
    let host = endpoint["Host"]
        .as_str()
        .ok_or_else(|| format!("{}: no Endpoints.docker.Host", meta.display()))?;
    let tls = config_dir.join("contexts/tls").join(&id).join("docker");
    let tls = tls.join("ca.pem").is_file().then_some(tls);
    parse_host(host, &format!("docker context {name:?}"), tls).map(Some)
}

/// Most bytes of a client configuration file read.
const MAX_CONFIG_BYTES: u64 = 1 << 20;

fn read_small_json(path: &Path) -> Result<Option<serde_json::Value>, String> {
    use std::io::Read;
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(format!(
            "{}: larger than {MAX_CONFIG_BYTES} bytes",
            path.display()
        ));
    }
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| format!("{}: not JSON: {e}", path.display()))
}

/// `unix:///path` or `tcp://host[:port]`, as `origin` (a variable, a context) gave it.
fn parse_host(host: &str, origin: &str, tls: Option<PathBuf>) -> Result<Endpoint, String> {
    if let Some(path) = host.strip_prefix("unix://") {
        return Ok(Endpoint::Unix(PathBuf::from(path)));
    }
    if let Some(rest) = host.strip_prefix("tcp://") {
        let address = rest.trim_end_matches('/');
        let authority_only = !address.is_empty() && !address.contains(['/', '?', '#', '@']);
        if !authority_only {
            return Err(format!("{origin}={host}: expected tcp://HOST[:PORT]"));
        }
        let has_port = address
            .rsplit_once(':')
            .is_some_and(|(_, port)| port.parse::<u16>().is_ok() && !address.ends_with(']'));
        let address = if has_port {
            address.to_string()
        } else {
            // Docker's defaults: 2376 with TLS, 2375 without.
            format!("{address}:{}", if tls.is_some() { 2376 } else { 2375 })
        };
        return Ok(Endpoint::Tcp { address, tls });
    }
    let scheme = host.split_once("://").map_or(host, |(s, _)| s);
    Err(format!(
        "{origin}={host}: gpubom reaches an engine over unix:// or tcp://, not {scheme}; \
         for ssh, forward the socket (ssh -NL /tmp/docker.sock:/var/run/docker.sock HOST) \
         and set DOCKER_HOST=unix:///tmp/docker.sock"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)], home: Option<&Path>) -> Environment {
        Environment {
            vars: vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            home: home.map(Path::to_path_buf),
        }
    }

    #[test]
    fn docker_host_comes_first_and_reads_as_the_cli_reads_it() {
        let unix = env(&[("DOCKER_HOST", "unix:///tmp/d.sock")], None);
        assert_eq!(
            candidates(Engine::Docker, &unix).unwrap(),
            [Endpoint::Unix("/tmp/d.sock".into())]
        );
        let tcp = env(&[("DOCKER_HOST", "tcp://10.0.0.2")], None);
        assert_eq!(
            candidates(Engine::Docker, &tcp).unwrap(),
            [Endpoint::Tcp {
                address: "10.0.0.2:2375".into(),
                tls: None
            }]
        );
        let tls = env(
            &[
                ("DOCKER_HOST", "tcp://10.0.0.2:4000"),
                ("DOCKER_TLS_VERIFY", "1"),
                ("DOCKER_CERT_PATH", "/certs"),
            ],
            None,
        );
        assert_eq!(
            candidates(Engine::Docker, &tls).unwrap(),
            [Endpoint::Tcp {
                address: "10.0.0.2:4000".into(),
                tls: Some("/certs".into())
            }]
        );
        let ssh = env(&[("DOCKER_HOST", "ssh://me@host")], None);
        let why = candidates(Engine::Docker, &ssh).unwrap_err();
        assert!(why.contains("forward the socket"), "{why}");
    }

    #[test]
    fn the_current_context_is_found_by_the_sha256_of_its_name() {
        let home = tempfile::tempdir().unwrap();
        let config = home.path().join(".docker");
        // sha256("remote"), as `docker context create remote` names the directory.
        let id = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b"remote"));
        let meta = config.join("contexts/meta").join(id);
        std::fs::create_dir_all(&meta).unwrap();
        std::fs::write(
            meta.join("meta.json"),
            r#"{"Name":"remote","Metadata":{},"Endpoints":{"docker":{"Host":"tcp://build.example:2375","SkipTLSVerify":false}}}"#,
        )
        .unwrap();
        std::fs::write(config.join("config.json"), r#"{"currentContext":"remote"}"#).unwrap();
        let found = candidates(Engine::Docker, &env(&[], Some(home.path()))).unwrap();
        assert_eq!(
            found,
            [Endpoint::Tcp {
                address: "build.example:2375".into(),
                tls: None
            }]
        );
        // DOCKER_CONTEXT=default and DOCKER_HOST each win over the file.
        let default = env(&[("DOCKER_CONTEXT", "default")], Some(home.path()));
        assert_eq!(
            candidates(Engine::Docker, &default).unwrap(),
            [Endpoint::Unix("/var/run/docker.sock".into())]
        );
        let missing = env(&[("DOCKER_CONTEXT", "gone")], Some(home.path()));
        assert!(candidates(Engine::Docker, &missing)
            .unwrap_err()
            .contains("docker context ls"));
    }

    #[test]
    fn podman_tries_the_users_socket_then_the_systems() {
        let user = env(&[("XDG_RUNTIME_DIR", "/run/user/1000")], None);
        assert_eq!(
            candidates(Engine::Podman, &user).unwrap(),
            [
                Endpoint::Unix("/run/user/1000/podman/podman.sock".into()),
                Endpoint::Unix("/run/podman/podman.sock".into()),
            ]
        );
        let remote = env(&[("CONTAINER_HOST", "unix:///tmp/p.sock")], None);
        assert_eq!(
            candidates(Engine::Podman, &remote).unwrap(),
            [Endpoint::Unix("/tmp/p.sock".into())]
        );
    }
}
