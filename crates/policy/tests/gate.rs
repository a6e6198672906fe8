//! The default pack over inventories built in code (all synthetic facts).

use gpubom_inventory::{props, Component, ComponentKind, ImageFacts, Inventory, Subject};
use gpubom_policy::{evaluate, Config, Error, Pack, Severity};
use std::collections::BTreeMap;

fn image(user: &str, ports: &[&str]) -> Inventory {
    let labels: BTreeMap<String, String> = [
        (
            "org.opencontainers.image.source",
            "https://example.com/repo",
        ),
        ("org.opencontainers.image.revision", "abc123"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    Inventory {
        subject: Subject {
            kind: "oci-archive".into(),
            location: "synthetic.tar".into(),
            name: Some("example.com/synthetic/app".into()),
            tag: Some("1.0".into()),
            digest: Some(
                "sha256:0000000000000000000000000000000000000000000000000000000000000000".into(),
            ),
            ..Default::default()
        },
        image: Some(ImageFacts {
            user: Some(user.to_string()),
            exposed_ports: ports.iter().map(|p| p.to_string()).collect(),
            labels,
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn with(mut inventory: Inventory, components: Vec<Component>) -> Inventory {
    inventory.components = components;
    inventory
}

fn component(
    kind: ComponentKind,
    name: &str,
    version: &str,
    properties: &[(&str, &str)],
) -> Component {
    Component {
        kind,
        name: name.into(),
        version: Some(version.into()),
        properties: properties
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    }
}

fn rules_fired(inventory: &Inventory, config: &Config) -> Vec<String> {
    let pack = Pack::load(&[], true).expect("default pack loads");
    let mut ids: Vec<String> = evaluate(&pack, inventory, config, "2026-06-01")
        .expect("evaluates")
        .into_iter()
        .filter(|f| f.waived.is_none())
        .map(|f| f.rule)
        .collect();
    ids.sort();
    ids
}

#[test]
fn root_with_ssh_and_jupyter_is_three_findings() {
    let fired = rules_fired(&image("", &["22/tcp", "8888/tcp"]), &Config::default());
    assert_eq!(
        fired,
        vec![
            "image-runs-as-root",
            "jupyter-port-exposed",
            "ssh-port-exposed"
        ]
    );
}

#[test]
fn non_root_with_port_8000_passes() {
    assert!(rules_fired(&image("1001", &["8000/tcp"]), &Config::default()).is_empty());
}

#[test]
fn ports_training_tensorboard_and_allow_list() {
    let fired = rules_fired(
        &image("app", &["6006/tcp", "29500/tcp"]),
        &Config::default(),
    );
    assert_eq!(
        fired,
        vec![
            "distributed-training-port-exposed",
            "tensorboard-port-exposed"
        ]
    );
    let config = Config::parse("[ports]\nallowed = [8000]\n", "t.toml").unwrap();
    assert_eq!(
        rules_fired(&image("app", &["8080/tcp"]), &config),
        vec!["port-not-allowed"]
    );
    assert!(rules_fired(&image("app", &["8000/tcp"]), &config).is_empty());
}

#[test]
fn unpinned_latest_and_labels() {
    let mut inv = image("1001", &[]);
    inv.subject.tag = Some("latest".into());
    inv.image.as_mut().unwrap().labels.clear();
    assert_eq!(
        rules_fired(&inv, &Config::default()),
        vec!["image-reference-unpinned", "missing-source-labels"]
    );
}

fn signature(verified: bool) -> gpubom_inventory::SignatureFact {
    gpubom_inventory::SignatureFact {
        source: gpubom_inventory::SignatureSource::Tag,
        manifest: "sha256:5e1".into(),
        verified,
        key: verified.then(|| "sha256:key".into()),
        identity: None,
        reason: if verified {
            "verified"
        } else {
            "signed by another key"
        }
        .into(),
    }
}

#[test]
fn signatures_are_required_only_when_someone_is_trusted() {
    let mut trusting = Config::default();
    trusting.signatures.keys = vec!["cosign.pub".into()];
    let mut inv = image("1001", &[]);
    // Nobody looked (a directory, a foreign SBOM): no judgement either way.
    assert!(rules_fired(&inv, &trusting).is_empty());
    // Looked, found none.
    inv.signatures = Some(vec![]);
    assert_eq!(
        rules_fired(&inv, &trusting),
        vec!["image-signature-untrusted"]
    );
    assert!(rules_fired(&inv, &Config::default()).is_empty());
    // Found one that did not verify, then one that did.
    inv.signatures = Some(vec![signature(false)]);
    assert_eq!(
        rules_fired(&inv, &trusting),
        vec!["image-signature-untrusted"]
    );
    inv.signatures = Some(vec![signature(false), signature(true)]);
    assert!(rules_fired(&inv, &trusting).is_empty());
}

#[test]
fn the_signature_finding_says_what_was_found() {
    let mut trusting = Config::default();
    trusting.signatures.keys = vec!["cosign.pub".into()];
    let mut inv = image("1001", &[]);
    inv.signatures = Some(vec![signature(false)]);
    let pack = Pack::load(&[], true).unwrap();
    let findings = gpubom_policy::evaluate(&pack, &inv, &trusting, "2026-01-01").unwrap();
    let finding = findings
        .iter()
        .find(|f| f.rule == "image-signature-untrusted")
        .unwrap();
    assert!(
        finding
            .message
            .contains("tag sha256:5e1: signed by another key"),
        "{}",
        finding.message
    );
}

#[test]
fn pytorch_below_2_6_0() {
    let torch = |v: &str| {
        with(
            image("1001", &[]),
            vec![component(ComponentKind::Python, "torch", v, &[])],
        )
    };
    assert_eq!(
        rules_fired(&torch("2.5.1+cu121"), &Config::default()),
        vec!["pytorch-weights-only-bypass"]
    );
    assert!(rules_fired(&torch("2.6.0"), &Config::default()).is_empty());
}

#[test]
fn pytorch_prereleases_of_2_6_0_are_below_it() {
    let torch = |v: &str| {
        with(
            image("1001", &[]),
            vec![component(ComponentKind::Python, "torch", v, &[])],
        )
    };
    // A release candidate, and the NGC PyTorch form (an alpha with a local label).
    for below in [
        "2.6.0rc1",
        "2.6.0a0+ecf3bae40a.nv25.01",
        "2.6.0.dev20241112",
    ] {
        assert_eq!(
            rules_fired(&torch(below), &Config::default()),
            vec!["pytorch-weights-only-bypass"],
            "{below}"
        );
    }
    // Local labels do not lower a version; a post release is above it.
    for at_or_above in ["2.6.0", "2.6.0+cu124", "2.6.0.post1", "2.7.0"] {
        assert!(
            rules_fired(&torch(at_or_above), &Config::default()).is_empty(),
            "{at_or_above}"
        );
    }
}

#[test]
fn an_unknown_version_matches_no_threshold() {
    let unknown = |kind, name: &str, version: Option<&str>, properties: &[(&str, &str)]| {
        let mut c = component(kind, name, "", properties);
        c.version = version.map(str::to_owned);
        c
    };
    let cuda = [(props::NVIDIA_FAMILY, "cuda-runtime")];
    let trt = [(props::NVIDIA_FAMILY, "tensorrt")];
    let inv = with(
        image("1001", &[]),
        vec![
            unknown(ComponentKind::NativeLibrary, "cuda-runtime", None, &cuda),
            unknown(
                ComponentKind::NativeLibrary,
                "cuda-runtime",
                Some(""),
                &cuda,
            ),
            unknown(ComponentKind::Other, "cuda-runtime", Some("unknown"), &cuda),
            unknown(ComponentKind::NativeLibrary, "tensorrt", None, &trt),
            unknown(ComponentKind::Python, "torch", None, &[]),
            unknown(ComponentKind::Python, "torch", Some("unknown"), &[]),
            unknown(
                ComponentKind::Model,
                "detector.engine",
                None,
                &[
                    (props::MODEL_FORMAT, "tensorrt-engine"),
                    (props::MODEL_VERDICT, "safe"),
                    (props::MODEL_HASH_VERIFIED, "true"),
                ],
            ),
        ],
    );
    // A minimum so high that every known version would be below it.
    let config = Config::parse(
        "[versions]\ncuda_min = \"99.0\"\npytorch_min = \"99.0\"\ntensorrt_denied = [\"0.0.0\"]\n",
        "t.toml",
    )
    .unwrap();
    assert!(rules_fired(&inv, &config).is_empty());

    // A rule that reads a version without asking whether there is one does not load.
    let careless = "@id(\"x\")\n@severity(\"high\")\n@message(\"m\")\n@remediation(\"r\")\nforbid (principal, action == Gpubom::Action::\"include\", resource)\nwhen { resource.has_version && resource.version.key < principal.cuda_min.key };\n";
    let err = load_one(careless).err().expect("must not load").to_string();
    assert!(
        err.contains("does not match the schema") && err.contains("has version"),
        "{err}"
    );
    let careful = careless.replace("resource.has_version", "resource has version");
    assert!(load_one(&careful).is_ok());
}

#[test]
fn image_rules_need_an_image_config() {
    // A directory or a file: no config, so no user, labels or reference to judge.
    for kind in ["dir", "file", "sbom"] {
        let inv = Inventory {
            subject: Subject {
                kind: kind.into(),
                location: "/rootfs".into(),
                ..Default::default()
            },
            image: None,
            ..Default::default()
        };
        assert!(rules_fired(&inv, &Config::default()).is_empty(), "{kind}");
    }
    // The same facts with a config: a known root user, no labels, no digest.
    let mut inv = image("", &[]);
    inv.subject.digest = None;
    inv.image.as_mut().unwrap().labels.clear();
    assert_eq!(
        rules_fired(&inv, &Config::default()),
        vec![
            "image-reference-unpinned",
            "image-runs-as-root",
            "missing-source-labels"
        ]
    );
    // A config that names no USER runs as root.
    inv.image.as_mut().unwrap().user = None;
    assert!(rules_fired(&inv, &Config::default()).contains(&"image-runs-as-root".to_string()));
}

#[test]
fn model_verdicts_in_four_levels() {
    let model = |verdict: &str| {
        with(
            image("1001", &[]),
            vec![component(
                ComponentKind::Model,
                "checkpoint.pt",
                "",
                &[
                    (props::MODEL_FORMAT, "pytorch"),
                    (props::MODEL_VERDICT, verdict),
                    (props::MODEL_HASH_VERIFIED, "true"),
                ],
            )],
        )
    };
    let fired = |verdict| rules_fired(&model(verdict), &Config::default());
    assert!(fired("safe").is_empty());
    assert_eq!(fired("suspicious"), vec!["model-requires-trusted-code"]);
    assert_eq!(fired("unsafe"), vec!["unsafe-pickle"]);
    assert_eq!(fired("unknown"), vec!["model-unverifiable"]);

    let pack = Pack::load(&[], true).unwrap();
    let severity = |id: &str| pack.rules[id].severity;
    assert_eq!(severity("unsafe-pickle"), Severity::Critical);
    assert_eq!(severity("model-requires-trusted-code"), Severity::Medium);
    assert_eq!(severity("model-unverifiable"), Severity::Low);
    assert!(pack.rules["unsafe-pickle"]
        .message
        .contains("a code-execution primitive"));
}

/// The one finding `rule` produced for `inventory` under `config`.
fn finding(inventory: &Inventory, config: &Config, rule: &str) -> gpubom_policy::Finding {
    let pack = Pack::load(&[], true).expect("default pack loads");
    let findings = evaluate(&pack, inventory, config, "2026-06-01").expect("evaluates");
    let mut of_rule = findings.into_iter().filter(|f| f.rule == rule);
    let found = of_rule
        .next()
        .unwrap_or_else(|| panic!("{rule} did not fire"));
    assert!(of_rule.next().is_none(), "{rule} fired twice");
    found
}

#[test]
fn findings_name_the_values_that_triggered_them() {
    let config = Config::parse("[ports]\nallowed = [8000]\n", "t.toml").unwrap();
    let ports = finding(
        &image("app", &["8000/tcp", "22/tcp"]),
        &config,
        "port-not-allowed",
    );
    assert!(ports.message.contains("port(s) 22,"), "{}", ports.message);
    assert_eq!(
        ports.evidence["resource.exposed_ports - principal.allowed_ports"],
        "22"
    );

    let mut unlabelled = image("app", &[]);
    let labels = &mut unlabelled.image.as_mut().unwrap().labels;
    labels.remove("org.opencontainers.image.revision");
    let labels = finding(&unlabelled, &Config::default(), "missing-source-labels");
    assert!(
        labels
            .message
            .ends_with("org.opencontainers.image.revision"),
        "{}",
        labels.message
    );
    assert!(
        !labels.message.contains("image.source"),
        "{}",
        labels.message
    );

    let pickle = with(
        image("app", &[]),
        vec![component(
            ComponentKind::Model,
            "checkpoint.pt",
            "",
            &[
                (props::MODEL_VERDICT, "unsafe"),
                (props::MODEL_UNSAFE_GLOBALS, "posix.system"),
                (props::MODEL_HASH_VERIFIED, "true"),
            ],
        )],
    );
    let pickle = finding(&pickle, &Config::default(), "unsafe-pickle");
    assert!(
        pickle.message.contains("imports posix.system"),
        "{}",
        pickle.message
    );

    let cuda = with(
        image("app", &[]),
        vec![component(
            ComponentKind::NativeLibrary,
            "cuda-runtime",
            "11.7.99",
            &[(props::NVIDIA_FAMILY, "cuda-runtime")],
        )],
    );
    let cuda = finding(&cuda, &Config::default(), "cuda-below-minimum");
    assert!(
        cuda.message.contains("11.7.99") && cuda.message.contains("minimum 11.8.0"),
        "{}",
        cuda.message
    );
}

/// A package's own files are as trusted as the package: only a primitive fires there.
#[test]
fn package_owned_model_files_fire_only_when_unsafe() {
    let owned = |verdict: &str| {
        with(
            image("1001", &[]),
            vec![component(
                ComponentKind::Model,
                "generator_pcg64.pkl.gz",
                "",
                &[
                    (props::MODEL_FORMAT, "pickle-compressed"),
                    (props::MODEL_VERDICT, verdict),
                    (props::MODEL_OWNER, "numpy@2.4.6"),
                ],
            )],
        )
    };
    let fired = |verdict| rules_fired(&owned(verdict), &Config::default());
    assert!(fired("suspicious").is_empty());
    assert!(fired("unknown").is_empty());
    assert_eq!(fired("unsafe"), vec!["unsafe-pickle"]);
}

#[test]
fn tensorrt_deny_list_and_engines() {
    let trt = |v: &str| {
        with(
            image("1001", &[]),
            vec![component(
                ComponentKind::NativeLibrary,
                "tensorrt",
                v,
                &[(props::NVIDIA_FAMILY, "tensorrt")],
            )],
        )
    };
    assert_eq!(
        rules_fired(&trt("8.5.2.2"), &Config::default()),
        vec!["tensorrt-denied-version"]
    );
    assert!(rules_fired(&trt("8.6.1"), &Config::default()).is_empty());
    let engine = |v: &str| {
        with(
            image("1001", &[]),
            vec![component(
                ComponentKind::Model,
                "detector.engine",
                "",
                &[
                    (props::MODEL_FORMAT, "tensorrt-engine"),
                    (props::MODEL_VERDICT, "safe"),
                    (props::MODEL_TRT_VERSION, v),
                    (props::MODEL_HASH_VERIFIED, "true"),
                ],
            )],
        )
    };
    assert_eq!(
        rules_fired(&engine("8.5.1"), &Config::default()),
        vec!["engine-built-by-denied-tensorrt"]
    );
    assert!(rules_fired(&engine("10.3.0"), &Config::default()).is_empty());
}

#[test]
fn models_cuda_and_advisories() {
    let inv = with(
        image("1001", &[]),
        vec![
            component(
                ComponentKind::Model,
                "evil.pt",
                "",
                &[
                    (props::MODEL_VERDICT, "unsafe"),
                    (props::MODEL_HASH_VERIFIED, "true"),
                ],
            ),
            component(
                ComponentKind::Model,
                "m.onnx",
                "",
                &[
                    (props::MODEL_VERDICT, "safe"),
                    (props::MODEL_EXTERNAL_DATA_TRAVERSAL, "true"),
                ],
            ),
            component(
                ComponentKind::NativeLibrary,
                "cuda-runtime",
                "11.7.99",
                &[
                    (props::NVIDIA_FAMILY, "cuda-runtime"),
                    (props::VERSION_CONFLICT, "true"),
                ],
            ),
            component(
                ComponentKind::Python,
                "pillow",
                "9.0.0",
                &[("gpubom:advisories", "CVE-0000-0000-synthetic")],
            ),
        ],
    );
    assert_eq!(
        rules_fired(&inv, &Config::default()),
        vec![
            "component-known-advisory",
            "cuda-below-minimum",
            "cuda-version-conflict",
            "model-hash-unverified",
            "onnx-external-data-traversal",
            "unsafe-pickle",
        ]
    );
}

#[test]
fn waivers_suppress_until_they_expire() {
    let inv = image("", &[]);
    let live = Config::parse(
        "[[waivers]]\nrule = \"image-runs-as-root\"\nmatch = \"example.com/*\"\nreason = \"base image migration\"\nexpires = \"2999-12-31\"\n",
        "t.toml",
    )
    .unwrap();
    assert!(rules_fired(&inv, &live).is_empty());
    let expired = Config::parse(
        "[[waivers]]\nrule = \"image-runs-as-root\"\nmatch = \"*\"\nreason = \"old\"\nexpires = \"2000-01-01\"\n",
        "t.toml",
    )
    .unwrap();
    assert_eq!(
        rules_fired(&inv, &expired),
        vec!["image-runs-as-root", "waiver-expired"]
    );
    let unknown = Config::parse(
        "[[waivers]]\nrule = \"no-such-rule\"\nmatch = \"*\"\nreason = \"r\"\nexpires = \"2999-01-01\"\n",
        "t.toml",
    )
    .unwrap();
    let pack = Pack::load(&[], true).unwrap();
    let err = evaluate(&pack, &inv, &unknown, "2026-06-01").unwrap_err();
    assert!(err.to_string().contains("no-such-rule"), "{err}");
}

fn load_one(text: &str) -> Result<Pack, Error> {
    Pack::from_sources(&[("org/rule.cedar".to_string(), text.to_string())])
}

#[test]
fn a_misspelt_attribute_is_an_error_with_its_location() {
    let text = "@id(\"x\")\n@severity(\"high\")\n@message(\"m\")\n@remediation(\"r\")\nforbid (principal, action == Gpubom::Action::\"ship\", resource)\nwhen { resource.exposed_prots.contains(22) };\n";
    let err = load_one(text).err().expect("must not load").to_string();
    assert!(
        err.starts_with("org/rule.cedar:6:8: does not match the schema"),
        "{err}"
    );
    assert!(
        err.contains("exposed_ports"),
        "should suggest the right name: {err}"
    );
}

#[test]
fn rules_need_their_annotations() {
    let missing = "@id(\"x\")\n@severity(\"high\")\nforbid (principal, action, resource);\n";
    let err = load_one(missing).err().unwrap().to_string();
    assert!(err.contains("@message"), "{err}");
    let bad = "@id(\"x\")\n@severity(\"urgent\")\n@message(\"m\")\n@remediation(\"r\")\nforbid (principal, action, resource);\n";
    assert!(load_one(bad)
        .err()
        .unwrap()
        .to_string()
        .contains("low, medium, high or critical"));
    let no_id = "forbid (principal, action, resource);\n";
    assert!(load_one(no_id).err().unwrap().to_string().contains("@id"));
    let syntax = "@id(\"x\") forbid (principal, action resource);";
    assert!(load_one(syntax)
        .err()
        .unwrap()
        .to_string()
        .starts_with("org/rule.cedar:1:"));
}

#[test]
fn duplicate_ids_name_both_places() {
    let rule = "@id(\"image-runs-as-root\")\n@severity(\"low\")\n@message(\"m\")\n@remediation(\"r\")\nforbid (principal, action, resource);\n";
    let sources = vec![
        (
            "policies/image-runs-as-root.cedar".to_string(),
            gpubom_policy::DEFAULT_PACK[0].1.to_string(),
        ),
        ("org/dup.cedar".to_string(), rule.to_string()),
    ];
    let err = Pack::from_sources(&sources).err().unwrap().to_string();
    assert!(
        err.contains("org/dup.cedar:1") && err.contains("policies/image-runs-as-root.cedar:1"),
        "{err}"
    );
}

#[test]
fn every_policy_file_is_in_the_default_pack() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies");
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".cedar"))
        .collect();
    on_disk.sort();
    let mut embedded: Vec<String> = gpubom_policy::DEFAULT_PACK
        .iter()
        .map(|(n, _)| n.to_string())
        .collect();
    embedded.sort();
    assert_eq!(on_disk, embedded);
}

fn cudnn(version: &str) -> Inventory {
    with(
        image("app", &[]),
        vec![component(
            ComponentKind::NativeLibrary,
            "cudnn",
            version,
            &[(props::NVIDIA_FAMILY, "cudnn")],
        )],
    )
}

/// `rules_fired` with the default pack plus `policy`, loaded for `config`.
fn fired_with(policy: &str, inventory: &Inventory, config: &Config) -> Result<Vec<String>, Error> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("org.cedar");
    std::fs::write(&file, policy).unwrap();
    let pack = Pack::load_for(&[file], true, config)?;
    let mut ids: Vec<String> = evaluate(&pack, inventory, config, "2026-06-01")?
        .into_iter()
        .map(|f| f.rule)
        .collect();
    ids.sort();
    Ok(ids)
}

const CUDNN_FLOOR: &str = r#"@id("cudnn-below-9")
@severity("high")
@message("cuDNN {resource.version_string} is below {principal.cudnn_min.mmp}")
@remediation("move to cuDNN 9")
forbid (principal, action == Gpubom::Action::"include", resource)
when { resource.family == Gpubom::Family::"cudnn" && resource has version && resource.version.key < principal.cudnn_min.key };
"#;

#[test]
fn an_org_version_floor_needs_no_hand_computed_number() {
    let config = Config::parse("[versions]\ncudnn_min = \"9.0\"\n", "org.toml").unwrap();
    assert_eq!(
        fired_with(CUDNN_FLOOR, &cudnn("8.9.2.26"), &config).unwrap(),
        vec!["cudnn-below-9"]
    );
    assert!(fired_with(CUDNN_FLOOR, &cudnn("9.1.0.70"), &config)
        .unwrap()
        .is_empty());
    // The same rule by the record's parts, with no configuration at all.
    let by_major = CUDNN_FLOOR.replace(
        "resource.version.key < principal.cudnn_min.key",
        "resource.version.major < 9",
    );
    assert_eq!(
        fired_with(&by_major, &cudnn("8.9.2.26"), &Config::default()).unwrap(),
        vec!["cudnn-below-9"]
    );
    // Without the value in the configuration the rule does not validate, and says where it goes.
    let err = fired_with(CUDNN_FLOOR, &cudnn("8.9.2.26"), &Config::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cudnn_min") && err.contains("[versions]"),
        "{err}"
    );
}

#[test]
fn org_values_of_every_type_reach_policies() {
    let config = Config::parse(
        "[org]\nteam = \"ml\"\nmax_ports = 1\nstrict = true\nregions = [\"eu\"]\n",
        "org.toml",
    )
    .unwrap();
    let policy = r#"@id("too-many-ports")
@severity("low")
@message("{principal.team}: more than {principal.max_ports} port")
@remediation("r")
forbid (principal, action == Gpubom::Action::"ship", resource)
when { principal.strict && principal.regions.contains("eu") && resource.exposed_ports.contains(8000) && principal.max_ports < 2 };
"#;
    assert_eq!(
        fired_with(policy, &image("app", &["8000/tcp"]), &config).unwrap(),
        vec!["too-many-ports"]
    );
}

#[test]
fn a_misspelt_family_is_a_validation_error() {
    for misspelt in [
        r#"resource.family == Gpubom::Family::"cuddn""#,
        r#"resource.family == "cudnn""#,
    ] {
        let policy = CUDNN_FLOOR.replace(r#"resource.family == Gpubom::Family::"cudnn""#, misspelt);
        let config = Config::parse("[versions]\ncudnn_min = \"9.0\"\n", "org.toml").unwrap();
        let err = fired_with(&policy, &cudnn("8.9.2.26"), &config).unwrap_err();
        assert!(matches!(err, Error::Policy(_)), "{misspelt}: {err}");
        assert!(
            err.to_string().contains("Gpubom::Family::\"cudnn\""),
            "{err}"
        );
    }
}

#[test]
fn default_rules_can_be_disabled_or_reweighted_by_id() {
    let inventory = image("", &["22/tcp"]);
    let config = Config::parse(
        "[rules]\ndisable = [\"image-runs-as-root\"]\nseverity = { \"ssh-port-exposed\" = \"low\" }\n",
        "org.toml",
    )
    .unwrap();
    let pack = Pack::load_for(&[], true, &config).unwrap();
    let findings = evaluate(&pack, &inventory, &config, "2026-06-01").unwrap();
    let fired: Vec<(&str, Severity)> = findings
        .iter()
        .map(|f| (f.rule.as_str(), f.severity))
        .collect();
    assert_eq!(fired, vec![("ssh-port-exposed", Severity::Low)]);
    assert!(!pack.rules.contains_key("image-runs-as-root"));

    let typo = Config::parse("[rules]\ndisable = [\"image-runs-as-rot\"]\n", "org.toml").unwrap();
    let err = Pack::load_for(&[], true, &typo).err().unwrap().to_string();
    assert!(
        err.contains("image-runs-as-rot") && err.contains("image-runs-as-root"),
        "{err}"
    );
    let bad = Config::parse(
        "[rules]\nseverity = { \"ssh-port-exposed\" = \"urgent\" }\n",
        "o.toml",
    );
    assert!(bad.unwrap_err().contains("urgent"));
}
