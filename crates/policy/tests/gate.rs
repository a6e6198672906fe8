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
fn ports_are_allowed_with_their_protocol() {
    // A bare number allows tcp; an OCI "8000" is 8000/tcp.
    let tcp_only = Config::parse("[ports]\nallowed = [8000]\n", "t.toml").unwrap();
    assert!(rules_fired(&image("app", &["8000"]), &tcp_only).is_empty());
    let udp = finding(&image("app", &["8000/udp"]), &tcp_only, "port-not-allowed");
    assert!(
        udp.message.contains("port(s) 8000/udp, outside"),
        "{}",
        udp.message
    );
    let both = Config::parse("[ports]\nallowed = [8000, \"8000/udp\"]\n", "t.toml").unwrap();
    assert!(rules_fired(&image("app", &["8000/tcp", "8000/udp"]), &both).is_empty());
    // The named-service rules are about their tcp services.
    assert!(rules_fired(&image("app", &["22/udp", "8888/udp"]), &Config::default()).is_empty());
    assert_eq!(
        rules_fired(&image("app", &["22"]), &Config::default()),
        vec!["ssh-port-exposed"]
    );
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

#[test]
fn only_a_named_image_has_a_reference_to_pin() {
    let unpinned = |name: Option<&str>, tag: Option<&str>, digest: Option<&str>| {
        let mut inv = image("1001", &[]);
        inv.subject.name = name.map(str::to_owned);
        inv.subject.tag = tag.map(str::to_owned);
        inv.subject.digest = digest.map(str::to_owned);
        rules_fired(&inv, &Config::default()) == vec!["image-reference-unpinned"]
    };
    let (name, digest) = (Some("example.com/app"), Some("sha256:0715"));
    // A docker save archive: a name and a tag, no manifest digest. The tag is the reference.
    assert!(!unpinned(name, Some("2.3"), None));
    assert!(unpinned(name, Some("latest"), None));
    // latest stays a moving reference even when the scanned bytes had a digest.
    assert!(unpinned(name, Some("latest"), digest));
    assert!(!unpinned(name, None, digest));
    assert!(unpinned(name, None, None));
    // Saved by id, or a layout without a name: nothing to pin, whatever the digest.
    assert!(!unpinned(None, None, None));
    assert!(!unpinned(None, Some("latest"), digest));
    let mut inv = image("1001", &[]);
    inv.subject.tag = Some("latest".into());
    let message = finding(&inv, &Config::default(), "image-reference-unpinned").message;
    assert!(
        message.starts_with("the image reference example.com/synthetic/app:latest@sha256:0000")
            && !message.contains("no digest"),
        "{message}"
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
    // The same facts with a config: a known root user, no labels.
    let mut inv = image("", &[]);
    inv.image.as_mut().unwrap().labels.clear();
    assert_eq!(
        rules_fired(&inv, &Config::default()),
        vec!["image-runs-as-root", "missing-source-labels"]
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
    assert!(
        ports.message.contains("port(s) 22/tcp,"),
        "{}",
        ports.message
    );
    assert_eq!(
        ports.evidence["resource.exposed_port_specs - principal.allowed_port_specs"],
        "22/tcp"
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
    // The deny-list is the organisation's: empty unless it names versions.
    let denying = Config::parse(
        "[versions]\ntensorrt_denied = [\"8.5.1\", \"8.5.2\"]\n",
        "t.toml",
    )
    .unwrap();
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
        rules_fired(&trt("8.5.2.2"), &denying),
        vec!["tensorrt-denied-version"]
    );
    assert!(rules_fired(&trt("8.5.2.2"), &Config::default()).is_empty());
    assert!(rules_fired(&trt("8.6.1"), &denying).is_empty());
    let denied = finding(&trt("8.5.2.2"), &denying, "tensorrt-denied-version");
    assert!(
        denied
            .message
            .contains("deny-list ([versions] tensorrt_denied: 8.5.1, 8.5.2)"),
        "{}",
        denied.message
    );
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
        rules_fired(&engine("8.5.1"), &denying),
        vec!["engine-built-by-denied-tensorrt"]
    );
    assert!(rules_fired(&engine("8.5.1"), &Config::default()).is_empty());
    assert!(rules_fired(&engine("10.3.0"), &denying).is_empty());
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
                &[(props::ADVISORIES, "CVE-0000-0000-synthetic")],
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
        "[[waivers]]\nrule = \"image-runs-as-root\"\nmatch = \"example.com/*\"\nreason = \"old\"\nexpires = \"2000-01-01\"\n",
        "t.toml",
    )
    .unwrap();
    assert_eq!(
        rules_fired(&inv, &expired),
        vec!["image-runs-as-root", "waiver-expired"]
    );
    let unknown = Config::parse(
        "[[waivers]]\nrule = \"no-such-rule\"\nmatch = \"x\"\nreason = \"r\"\nexpires = \"2999-01-01\"\n",
        "t.toml",
    )
    .unwrap();
    let pack = Pack::load(&[], true).unwrap();
    let err = evaluate(&pack, &inv, &unknown, "2026-06-01").unwrap_err();
    assert!(
        err.to_string().contains(
            "the waiver for no-such-rule matching \"x\" waives \"no-such-rule\", which is no rule"
        ),
        "{err}"
    );
    // A waiver for a rule the organisation disabled says so.
    let disabled = Config::parse(
        "[rules]\ndisable = [\"image-runs-as-root\"]\n[[waivers]]\nrule = \"image-runs-as-root\"\nmatch = \"x\"\nreason = \"r\"\nexpires = \"2999-01-01\"\n",
        "t.toml",
    )
    .unwrap();
    let pack = Pack::load_for(&[], true, &disabled).unwrap();
    let err = evaluate(&pack, &inv, &disabled, "2026-06-01").unwrap_err();
    assert!(
        err.to_string().contains("[rules] disable turns off"),
        "{err}"
    );
}

#[test]
fn a_waiver_lasts_at_most_max_days_from_the_check() {
    let inv = image("", &[]);
    let config = |expires: &str| {
        Config::parse(
            &format!(
                "[waiver_limits]\nmax_days = 90\n[[waivers]]\nrule = \"image-runs-as-root\"\n\
                 match = \"example.com/*\"\nreason = \"migrating\"\nexpires = \"{expires}\"\n"
            ),
            "t.toml",
        )
        .unwrap()
    };
    let pack = Pack::load(&[], true).unwrap();
    // 2026-06-01 + 90 days is 2026-08-30.
    let within = evaluate(&pack, &inv, &config("2026-08-30"), "2026-06-01").unwrap();
    assert!(within.iter().all(|f| f.waived.is_some()), "{within:?}");
    let err = evaluate(&pack, &inv, &config("2026-08-31"), "2026-06-01").unwrap_err();
    assert!(
        err.to_string().contains(
            "the waiver for image-runs-as-root matching \"example.com/*\" expires on 2026-08-31, 91 days from today (2026-06-01); [waiver_limits] max_days allows 90"
        ),
        "{err}"
    );
}

#[test]
fn a_pinned_waiver_covers_only_those_bytes() {
    let pinned = "0a".repeat(32);
    let model = |hex: &str| {
        let mut c = component(
            ComponentKind::Model,
            "checkpoint.pt",
            "",
            &[
                (props::MODEL_VERDICT, "unsafe"),
                (props::MODEL_HASH_VERIFIED, "true"),
            ],
        );
        c.locations = vec![gpubom_inventory::Location {
            path: "/models/checkpoint.pt".into(),
            layer: None,
        }];
        c.hashes = vec![gpubom_inventory::Hash {
            alg: "SHA-256".into(),
            hex: hex.into(),
        }];
        with(image("1001", &[]), vec![c])
    };
    let config = Config::parse(
        &format!(
            "[[waivers]]\nrule = \"unsafe-pickle\"\nmatch = \"/models/checkpoint.pt\"\n\
             reason = \"vendor checkpoint, sandboxed\"\nexpires = \"2026-12-31\"\nsha256 = \"{pinned}\"\n"
        ),
        "t.toml",
    )
    .unwrap();
    assert!(rules_fired(&model(&pinned), &config).is_empty());
    // Other bytes at the waived path: judged again, and the waiver matched nothing.
    let other = model(&"0b".repeat(32));
    assert_eq!(rules_fired(&other, &config), vec!["unsafe-pickle"]);
    let pack = Pack::load(&[], true).unwrap();
    let findings = evaluate(&pack, &other, &config, "2026-06-01").unwrap();
    assert_eq!(gpubom_policy::unused_waivers(&findings, &config).len(), 1);
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
    let by_major = CUDNN_FLOOR
        .replace(
            "resource.version.key < principal.cudnn_min.key",
            "resource.version.major < 9",
        )
        .replace("{principal.cudnn_min.mmp}", "9");
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

/// A rule about a model, with `when` as its condition.
fn model_rule(when: &str) -> String {
    format!(
        "@id(\"org-rule\")\n@severity(\"high\")\n@message(\"m\")\n@remediation(\"r\")\n\
         forbid (principal, action == Gpubom::Action::\"include_model\", resource)\nwhen {{ {when} }};\n"
    )
}

#[test]
fn closed_values_are_enums_and_a_wrong_literal_lists_them() {
    for (when, values) in [
        (
            r#"resource.verdict == "Unsafe""#,
            r#"Gpubom::Verdict::"unsafe"; its values are: safe, suspicious, unsafe, unknown, none"#,
        ),
        (
            r#"resource.verdict == Gpubom::Verdict::"Unsafe""#,
            r#"valid entity eids: "safe", "suspicious", "unsafe", "unknown", "none") (did you mean Gpubom::Verdict::"unsafe"?)"#,
        ),
        (
            r#"resource.format == "ONNX""#,
            r#"Gpubom::ModelFormat::"onnx"; its values are: tensorrt-engine, onnx,"#,
        ),
        (
            r#"resource.hash_verified == "true""#,
            "its values are: verified, unverified, no-manifest",
        ),
    ] {
        let err = load_one(&model_rule(when)).err().expect(when).to_string();
        assert!(
            err.starts_with("org/rule.cedar:6:") && err.contains(values),
            "{when}: {err}"
        );
    }
    let component = r#"@id("org-rule")
@severity("high")
@message("m")
@remediation("r")
forbid (principal, action == Gpubom::Action::"include", resource)
when { resource.kind == "pypi" || resource.advisory_severity == "critical" };
"#;
    let err = load_one(component).err().unwrap().to_string();
    assert!(
        err.contains("Gpubom::ComponentKind is an enum")
            && err.contains("deb, python, native-library, operating-system, other"),
        "{err}"
    );
    let severity = component.replace(r#"resource.kind == "pypi" || "#, "");
    let err = load_one(&severity).err().unwrap().to_string();
    assert!(
        err.contains(r#"Gpubom::Severity::"critical"; its values are: none, unrated, low, medium, high, critical"#),
        "{err}"
    );
    // Written as enums, they load and decide.
    let right = model_rule(r#"resource.verdict == Gpubom::Verdict::"unsafe""#);
    assert!(load_one(&right).is_ok());
}

#[test]
fn enums_carry_what_was_recorded_and_a_member_for_nothing() {
    let advisory = |properties: &[(&str, &str)]| {
        with(
            image("1001", &[]),
            vec![component(
                ComponentKind::Python,
                "pillow",
                "9.0.0",
                properties,
            )],
        )
    };
    let rule = |when: &str| {
        format!(
            "@id(\"org-rule\")\n@severity(\"high\")\n@message(\"{{resource.advisory_severity}} {{resource.kind}}\")\n@remediation(\"r\")\n\
             forbid (principal, action == Gpubom::Action::\"include\", resource)\nwhen {{ {when} }};\n"
        )
    };
    let critical = rule(r#"resource.advisory_severity == Gpubom::Severity::"critical""#);
    let rated = [
        (props::ADVISORIES, "CVE-0000-0001-synthetic"),
        (props::ADVISORY_SEVERITY, "critical"),
    ];
    assert!(fired_with(&critical, &advisory(&rated), &Config::default())
        .unwrap()
        .contains(&"org-rule".to_string()));
    let unrated = rule(r#"resource.advisory_severity == Gpubom::Severity::"unrated""#);
    let ids_only = [(props::ADVISORIES, "CVE-0000-0001-synthetic")];
    assert!(
        fired_with(&unrated, &advisory(&ids_only), &Config::default())
            .unwrap()
            .contains(&"org-rule".to_string())
    );
    let none = rule(
        r#"resource.advisory_severity == Gpubom::Severity::"none" && resource.kind == Gpubom::ComponentKind::"python""#,
    );
    assert_eq!(
        fired_with(&none, &advisory(&[]), &Config::default()).unwrap(),
        vec!["org-rule"]
    );
}

#[test]
fn a_permit_is_refused_with_where_it_is() {
    let permit = "// allow the base image\n@id(\"allow-base\")\npermit (principal, action, resource)\nwhen { resource has name };\n";
    let err = load_one(permit)
        .err()
        .expect("a permit must not load")
        .to_string();
    assert!(
        err.starts_with(
            "org/rule.cedar:3:1: permit allow-base is refused: the pack is forbid-only"
        ),
        "{err}"
    );
    let template = "@id(\"t\")\n@severity(\"low\")\n@message(\"m\")\n@remediation(\"r\")\nforbid (principal, action, resource == ?resource);\n";
    let err = load_one(template)
        .err()
        .expect("a template must not load")
        .to_string();
    assert!(err.contains("a template"), "{err}");
}

#[test]
fn placeholders_are_checked_against_the_schema() {
    let rule = |message: &str| {
        format!(
            "@id(\"org-rule\")\n@severity(\"low\")\n@message(\"{message}\")\n@remediation(\"r\")\n\
             forbid (principal, action == Gpubom::Action::\"include_model\", resource)\nwhen {{ resource.owner == \"\" }};\n"
        )
    };
    let err = load_one(&rule("found {resource.pth}"))
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.starts_with("org/rule.cedar:3:1: rule org-rule: @message placeholder {resource.pth} names pth, which Model does not have; its attributes are: ")
            && err.contains("path"),
        "{err}"
    );
    let err = load_one(&rule("built by {resource.builder_version.mmp}"))
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("reaches Model.builder_version") && err.contains("|TEXT}"),
        "{err}"
    );
    assert!(load_one(&rule(
        "built by {resource.builder_version.mmp|an unknown TensorRT}"
    ))
    .is_ok());
    let remediation = rule("m").replace(
        "@remediation(\"r\")",
        "@remediation(\"move {resource.paht}\")",
    );
    let err = load_one(&remediation).err().unwrap().to_string();
    assert!(
        err.contains("@remediation placeholder {resource.paht}"),
        "{err}"
    );
}

#[test]
fn a_fallback_is_shown_for_what_is_absent() {
    let policy = r#"@id("org-engine")
@severity("low")
@message("{resource.name} was built by TensorRT {resource.builder_version.mmp|of an unknown version}")
@remediation("rebuild {resource.path}")
forbid (principal, action == Gpubom::Action::"include_model", resource)
when { resource.format == Gpubom::ModelFormat::"tensorrt-engine" };
"#;
    let engine = |trt: &str| {
        let mut c = component(
            ComponentKind::Model,
            "detector.engine",
            "",
            &[
                (props::MODEL_FORMAT, "tensorrt-engine"),
                (props::MODEL_TRT_VERSION, trt),
            ],
        );
        c.locations = vec![gpubom_inventory::Location {
            path: "/models/detector.engine".into(),
            layer: None,
        }];
        with(image("1001", &[]), vec![c])
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("org.cedar");
    std::fs::write(&file, policy).unwrap();
    let pack = Pack::load_for(&[file], false, &Config::default()).unwrap();
    let message = |trt: &str| {
        let findings = evaluate(&pack, &engine(trt), &Config::default(), "2026-06-01").unwrap();
        (findings[0].message.clone(), findings[0].remediation.clone())
    };
    assert_eq!(
        message("10.3.0"),
        (
            "detector.engine was built by TensorRT 10.3.0".to_string(),
            "rebuild /models/detector.engine".to_string()
        )
    );
    assert_eq!(
        message("").0,
        "detector.engine was built by TensorRT of an unknown version"
    );
}
