//! Triton Inference Server, as NVIDIA's container images declare it.
//!
//! Triton's own image build (`build.py` in triton-inference-server/server) sets
//! `ENV NVIDIA_TRITON_SERVER_VERSION ${TRITON_CONTAINER_VERSION}` (the container release,
//! `24.11`) and `ENV TRITON_SERVER_VERSION ${TRITON_VERSION}` (the server, `2.52.0`). NVIDIA's
//! security bulletins version Triton by container release, so that is the component's
//! version, and its purl is the one the built-in Triton advisories name. The evidence is
//! declared (the image says so), not observed.

use super::evidence::{env_value, evidence};
use gpubom_inventory::{props, Component, ComponentKind, Technique};

const CONTAINER_RELEASE: &str = "NVIDIA_TRITON_SERVER_VERSION";
const SERVER_VERSION: &str = "TRITON_SERVER_VERSION";

/// The Triton server an image's environment declares, if any.
pub(super) fn declared_server(env: &[String]) -> Option<Component> {
    let value = |name: &str| -> Option<String> {
        env_value(env, name)
            .map(|v| v.trim().trim_start_matches('r').to_string())
            .filter(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_digit() || c == '.'))
    };
    let release = value(CONTAINER_RELEASE)?;
    let mut component = Component {
        kind: ComponentKind::NativeLibrary,
        name: "triton-server".to_string(),
        version: Some(release.clone()),
        purl: Some(format!("pkg:generic/nvidia/triton-server@{release}")),
        supplier: Some("NVIDIA Corporation".to_string()),
        evidence: vec![evidence(
            Technique::Declared,
            format!("env:{CONTAINER_RELEASE}"),
            Some(release),
        )],
        ..Default::default()
    };
    component.properties.insert(
        props::DECLARED_SOURCE.to_string(),
        format!("env:{CONTAINER_RELEASE}"),
    );
    if let Some(server) = value(SERVER_VERSION) {
        component
            .properties
            .insert(props::NVIDIA_TRITON_SERVER_VERSION.to_string(), server);
    }
    Some(component)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_container_release_is_the_version_synthetic_env() {
        let env = [
            "PATH=/opt/tritonserver/bin:/usr/bin".to_string(),
            "TRITON_SERVER_VERSION=2.52.0".to_string(),
            "NVIDIA_TRITON_SERVER_VERSION=24.11".to_string(),
        ];
        let triton = declared_server(&env).unwrap();
        assert_eq!(triton.version.as_deref(), Some("24.11"));
        assert_eq!(
            triton.purl.as_deref(),
            Some("pkg:generic/nvidia/triton-server@24.11")
        );
        assert_eq!(
            triton.properties[props::NVIDIA_TRITON_SERVER_VERSION],
            "2.52.0"
        );
        assert!(declared_server(&env[..2]).is_none());
        assert!(declared_server(&["NVIDIA_TRITON_SERVER_VERSION=$X".into()]).is_none());
    }
}
