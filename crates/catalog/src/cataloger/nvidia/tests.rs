use super::*;

fn library(path: &str, version: Option<&str>, sha256: &str) -> Library {
    let matched = classify(path).unwrap();
    Library {
        soname_major: matched.soname_major.clone(),
        version: version.map(str::to_string),
        dir: parent(path).to_string(),
        matched,
        elf: None,
        sha256: sha256.to_string(),
        location: Location {
            path: display_path(path),
            layer: Some(LayerRef { index: 0 }),
        },
        evidence: Vec::new(),
        bundled_by: None,
    }
}

fn grouped(libraries: Vec<Library>) -> Vec<(Option<String>, Vec<String>)> {
    one_component_each(libraries)
        .into_iter()
        .map(|g| {
            (
                g[0].version.clone(),
                g.iter().map(|l| file_name(&l.location.path)).collect(),
            )
        })
        .collect()
}

#[test]
fn agreeing_versions_in_one_directory_group_synthetic() {
    let d = "usr/lib/x86_64-linux-gnu";
    let groups = grouped(vec![
        library(&format!("{d}/libcudnn_ops.so.9.14.0"), Some("9.14.0"), "a"),
        library(&format!("{d}/libcudnn.so.9.14.0"), Some("9.14.0.64"), "b"),
        library(
            &format!("{d}/libcudnn_ops_infer.so.8.9.7"),
            Some("8.9.7"),
            "c",
        ),
        // SONAME only: joins the group its major agrees with.
        library(&format!("{d}/libcudnn_cnn.so.9"), None, "d"),
        library(&format!("{d}/libcudnn_adv_infer.so.8"), None, "e"),
        library("opt/other/libcudnn_ops.so.9.14.0", Some("9.14.0"), "f"),
    ]);
    assert_eq!(
        groups,
        vec![
            (Some("9.14.0".into()), vec!["libcudnn_ops.so.9.14.0".into()]),
            (
                Some("9.14.0.64".into()),
                vec![
                    "libcudnn.so.9.14.0".into(),
                    "libcudnn_ops.so.9.14.0".into(),
                    "libcudnn_cnn.so.9".into()
                ]
            ),
            (
                Some("8.9.7".into()),
                vec![
                    "libcudnn_ops_infer.so.8.9.7".into(),
                    "libcudnn_adv_infer.so.8".into()
                ]
            ),
        ]
    );
    // Nothing dates them: one versionless group per SONAME major.
    let groups = grouped(vec![
        library("opt/lib/libcudart.so.11.0", None, "a"),
        library("opt/lib/libcudart.so.12", None, "b"),
    ]);
    assert_eq!(groups.len(), 2, "{groups:?}");
}

#[test]
fn versions_agree_component_wise() {
    assert!(compatible("9.14.0", "9.14.0.64"));
    assert!(compatible("9", "9.14.0.64"));
    assert!(!compatible("9.1", "9.14"));
    assert_eq!(major_minor("12.1.105"), "12.1");
    assert_eq!(major_minor("12.1"), "12.1");
    assert_eq!(major_minor("12"), "12");
}

fn conflict(family: Family, version: &str, env: &str) -> bool {
    let path = match family {
        Family::CudaRuntime => "opt/libcudart.so.12",
        _ => "opt/libcudnn.so.9",
    };
    let mut c = new_component(&classify(path).unwrap(), version, 0);
    c.evidence = declared_evidence(family, &[env.to_string()]);
    finish_bare(&mut c);
    c.properties.contains_key(props::VERSION_CONFLICT)
}

#[test]
fn cuda_version_is_a_toolkit_release() {
    assert!(!conflict(
        Family::CudaRuntime,
        "12.1.105",
        "CUDA_VERSION=12.1.1"
    ));
    assert!(conflict(
        Family::CudaRuntime,
        "12.1.105",
        "CUDA_VERSION=12.4.1"
    ));
    // cuDNN's env is the library's own version: compared in full.
    assert!(!conflict(
        Family::Cudnn,
        "9.1.0.70",
        "NV_CUDNN_VERSION=9.1.0.70-1"
    ));
    assert!(conflict(
        Family::Cudnn,
        "9.1.0.70",
        "NV_CUDNN_VERSION=9.1.1.17-1"
    ));
}
