//! Facts that could not be established reach Cedar (`not_checked`), so a rule
//! can fail closed, and the reports (inventories built in code: synthetic).

use gpubom_inventory::{props, Component, ComponentKind, Fact, ImageFacts, Inventory, NotChecked};
use gpubom_policy::report::{self, Format};
use gpubom_policy::{evaluate, not_checked, Config, Finding, Pack};

const ARCHIVE: &str = "a docker-archive carries none; scan the pushed reference";

/// A `docker save` archive of a non-root image: its config is known, its signatures are not.
fn docker_archive() -> Inventory {
    let mut inventory = Inventory {
        image: Some(ImageFacts {
            user: Some("1000".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    inventory.declare_not_checked([NotChecked::image(Fact::Signatures, ARCHIVE)]);
    inventory
}

fn findings(inventory: &Inventory, config: &str, pack: &Pack) -> Vec<Finding> {
    let config = Config::parse(config, "synthetic.toml").expect("config parses");
    evaluate(pack, inventory, &config, "2026-06-01").expect("evaluates")
}

fn rules(findings: &[Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.rule.as_str()).collect()
}

#[test]
fn signatures_nobody_could_check_fail_only_when_required() {
    let pack = Pack::load(&[], true).unwrap();
    let keys = "[signatures]\nkeys = [\"cosign.pub\"]\n";
    let signature_rule = |config: &str| {
        findings(&docker_archive(), config, &pack)
            .into_iter()
            .find(|f| f.rule == "image-signature-untrusted")
    };
    // A trusted key alone: nothing to judge (the reports say so instead).
    assert!(signature_rule(keys).is_none());
    // required = true: fail closed, saying why.
    let finding = signature_rule(&format!("{keys}required = true\n"))
        .expect("an archive without signatures fails when they are required");
    assert!(
        finding
            .message
            .ends_with(&format!("signatures were not checked: {ARCHIVE}")),
        "{}",
        finding.message
    );
    // Where signatures were looked for, required changes nothing: unsigned is unsigned.
    let mut looked = docker_archive();
    looked.not_checked.clear();
    looked.signatures = Some(vec![]);
    let unsigned = findings(&looked, keys, &pack)
        .into_iter()
        .find(|f| f.rule == "image-signature-untrusted")
        .expect("an unsigned image fails");
    assert!(unsigned
        .message
        .ends_with("no signature found (no .sig tag, referrer or bundle for this digest)"));
}

#[test]
fn required_signatures_with_nobody_to_trust_is_an_error() {
    let config = Config::parse("[signatures]\nrequired = true\n", "synthetic.toml").unwrap();
    let err = config.signatures.check().unwrap_err();
    assert!(
        err.contains("required = true") && err.contains("--key"),
        "{err}"
    );
    let config = Config::parse(
        "[signatures]\nrequired = true\nkeys = [\"cosign.pub\"]\n",
        "synthetic.toml",
    )
    .unwrap();
    assert!(config.signatures.check().is_ok());
}

#[test]
fn an_organisation_rule_can_fail_closed_on_any_fact() {
    let pack = Pack::from_sources(&[(
        "org/config-known.cedar".into(),
        r#"@id("image-config-unknown")
@severity("high")
@message("who the image runs as is unknown: {resource.not_checked}")
@remediation("check the image, not an SBOM that does not record its config")
forbid (principal, action == Gpubom::Action::"ship", resource)
when { resource.not_checked.contains(Gpubom::Fact::"user") };
@id("advisories-unknown")
@severity("medium")
@message("{resource.name} could not be matched against advisories")
@remediation("pin its version")
forbid (principal, action == Gpubom::Action::"include", resource)
when { resource.not_checked.contains(Gpubom::Fact::"advisories") };
"#
        .into(),
    )])
    .unwrap();
    let mut syft = Inventory {
        components: vec![
            Component {
                kind: ComponentKind::Deb,
                name: "known".into(),
                version: Some("1.0".into()),
                ..Default::default()
            },
            Component {
                kind: ComponentKind::Other,
                name: "mystery".into(),
                ..Default::default()
            },
        ],
        ..Default::default()
    };
    syft.declare_not_checked(NotChecked::image_config(
        "this SBOM records no image config",
    ));
    let item = NotChecked::about(
        Fact::Advisories,
        &syft.components[1],
        "its version is unknown",
    );
    syft.declare_not_checked([item]);
    let found = findings(&syft, "", &pack);
    assert_eq!(
        rules(&found),
        ["image-config-unknown", "advisories-unknown"]
    );
    assert_eq!(
        found[0].message,
        "who the image runs as is unknown: user, ports, labels"
    );
    assert_eq!(found[1].subject.name, "mystery");
    // A misspelt fact is a validation error, not a rule that never fires.
    let err = Pack::from_sources(&[(
        "org/typo.cedar".into(),
        r#"@id("typo") @severity("low") @message("m") @remediation("r")
forbid (principal, action == Gpubom::Action::"ship", resource)
when { resource.not_checked.contains(Gpubom::Fact::"signature") };"#
            .into(),
    )])
    .err()
    .expect("unknown fact");
    assert!(err.to_string().contains("org/typo.cedar:3"), "{err}");
}

/// A CUDA library with device code, and one whose kernels partly lie elsewhere.
fn gpu_image() -> Inventory {
    let library = |name: &str, elsewhere: bool| {
        let mut c = Component {
            kind: ComponentKind::NativeLibrary,
            name: name.into(),
            version: Some("12.0".into()),
            ..Default::default()
        };
        c.properties
            .insert(props::NVIDIA_SM_ARCHS.into(), "sm_80,sm_90".into());
        c.properties
            .insert(props::NVIDIA_MIN_DRIVER.into(), "525.60.13".into());
        if elsewhere {
            c.properties
                .insert(props::NVIDIA_FATBINS_ELSEWHERE.into(), "3".into());
        }
        c
    };
    let mut inventory = Inventory {
        components: vec![library("curand", false), library("cufft", true)],
        ..Default::default()
    };
    let item = NotChecked::about(
        Fact::GpuArchitectures,
        &inventory.components[1],
        "3 fatbin container(s) lie outside .nv_fatbin",
    );
    inventory.declare_not_checked([item]);
    inventory
}

#[test]
fn without_a_fleet_gpu_compatibility_is_not_checked() {
    let facts = |config: &str| -> Vec<(Fact, Option<String>)> {
        let config = Config::parse(config, "synthetic.toml").unwrap();
        not_checked(&gpu_image(), &config)
            .into_iter()
            .map(|i| (i.fact, i.subject))
            .collect()
    };
    // No fleet: one line each for architectures and driver, for every library at once.
    assert_eq!(
        facts(""),
        [(Fact::GpuArchitectures, None), (Fact::Driver, None)]
    );
    // A fleet: only the library whose kernels are not all known.
    assert_eq!(
        facts("[fleet]\ndriver = \"535.183.01\"\ngpus = [\"A100\"]\n"),
        [(Fact::GpuArchitectures, Some("cufft".into()))]
    );
    // An image without CUDA is not told about GPUs.
    let config = Config::parse("", "synthetic.toml").unwrap();
    assert!(not_checked(&Inventory::default(), &config).is_empty());
}

#[test]
fn every_report_ends_with_what_was_not_checked() {
    let pack = Pack::load(&[], true).unwrap();
    let inventory = docker_archive();
    let config = Config::default();
    let found = evaluate(&pack, &inventory, &config, "2026-06-01").unwrap();
    let items = not_checked(&inventory, &config);
    let ctx = report::Context {
        target: "image.tar",
        rules: &pack.rules,
        fail_on: Some(gpubom_policy::Severity::High),
        tool_version: "0.0.0",
        dockerfile: None,
        not_checked: &items,
    };
    let text = report::render(&found, Format::Text { colour: false }, &ctx);
    assert!(
        text.ends_with(&format!(
            "Not checked (a PASS does not cover these):\n  signatures: {ARCHIVE}\n"
        )),
        "{text}"
    );
    let markdown = report::render(&found, Format::Markdown, &ctx);
    assert!(
        markdown.contains("\n**Not checked**: a PASS does not cover these.\n"),
        "{markdown}"
    );
    assert!(
        markdown.trim_end().ends_with(
            r"- **signatures**: a docker\-archive carries none\; scan the pushed reference"
        ),
        "{markdown}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&report::render(&found, Format::Json, &ctx)).unwrap();
    assert_eq!(
        json["not_checked"],
        serde_json::json!([{ "fact": "signatures", "reason": ARCHIVE }])
    );
    let sarif: serde_json::Value =
        serde_json::from_str(&report::render(&found, Format::Sarif, &ctx)).unwrap();
    let invocation = &sarif["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], true);
    let notification = &invocation["toolExecutionNotifications"][0];
    assert_eq!(notification["level"], "warning");
    assert_eq!(
        notification["message"]["text"],
        format!("not checked: signatures: {ARCHIVE}")
    );
    // Nothing unchecked: no section, and an empty list for machines.
    let none = report::Context {
        not_checked: &[],
        ..ctx
    };
    assert!(!report::render(&found, Format::Text { colour: false }, &none).contains("Not checked"));
    let json: serde_json::Value =
        serde_json::from_str(&report::render(&found, Format::Json, &none)).unwrap();
    assert_eq!(json["not_checked"], serde_json::json!([]));
}
