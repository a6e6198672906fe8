//! A PASS means gpubom looked: what it could not check it says, on stderr, in
//! every report and in the SBOM, and `[signatures] required = true` makes it
//! fail closed. Images are built in code (synthetic content); the keys are
//! real P-256 keys made by `tests/fixtures/cosign/sign.py keygen`.

mod common;

use common::*;
use gpubom_testkit::image::{DockerForm, ImageSpec, Layer};
use gpubom_testkit::registry;
use std::path::Path;
use std::process::Output;

const ARCHIVE_REASON: &str = "a docker-archive carries none (docker save drops them); scan the pushed reference, or an OCI layout written by cosign save";

/// A root image exposing SSH, with a model nobody pinned.
fn image() -> ImageSpec {
    ImageSpec::new("example.com/ml/serving", "2.3")
        .expose("22/tcp")
        .layer(
            Layer::new()
                .file("usr/lib/os-release", "ID=debian\nVERSION_ID=\"12\"\n")
                // Protocol 2, an empty dict: a safe pickle.
                .file("models/weights.pkl", b"\x80\x02}q\x00.".to_vec()),
        )
}

fn docker_archive(dir: &Path) -> String {
    let path = dir.join("image.docker.tar");
    image().write_docker_archive(&path, DockerForm::Blobs);
    path.display().to_string()
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(out)))
}

/// `(fact, subject, reason)` of a JSON report's `not_checked`.
fn not_checked(report: &serde_json::Value) -> Vec<(String, Option<String>, String)> {
    report["not_checked"]
        .as_array()
        .unwrap_or_else(|| panic!("no not_checked in {report:#}"))
        .iter()
        .map(|i| {
            (
                i["fact"].as_str().unwrap().to_string(),
                i["subject"].as_str().map(str::to_owned),
                i["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn facts(report: &serde_json::Value) -> Vec<String> {
    not_checked(report).into_iter().map(|(f, _, _)| f).collect()
}

/// A cosign key pair in `dir`; `None` (skipped) when `cryptography` cannot be had.
fn public_key(test: &str, dir: &Path) -> Option<String> {
    let (_, public) = registry::cosign_keygen(test, &dir.join("cosign"))?;
    Some(public.display().to_string())
}

/// `(fact, subject, reason)` of an SBOM's `gpubom:not_checked:*` groups.
fn sbom_not_checked(bom: &serde_json::Value) -> Vec<(String, String, String)> {
    let values: Vec<(&str, &str)> = bom["metadata"]["properties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["value"].as_str().unwrap()))
        .filter(|(name, _)| name.starts_with("gpubom:not_checked:"))
        .collect();
    values
        .chunks(3)
        .map(|group| {
            let names: Vec<&str> = group.iter().map(|(n, _)| *n).collect();
            assert_eq!(
                names,
                [
                    "gpubom:not_checked:fact",
                    "gpubom:not_checked:subject",
                    "gpubom:not_checked:reason"
                ]
            );
            (
                group[0].1.to_string(),
                group[1].1.to_string(),
                group[2].1.to_string(),
            )
        })
        .collect()
}

#[test]
fn a_docker_archive_checked_with_a_key_says_its_signatures_were_not_checked() {
    let test = "a_docker_archive_checked_with_a_key_says_its_signatures_were_not_checked";
    let dir = tmp();
    let source = docker_archive(dir.path());
    let Some(key) = public_key(test, dir.path()) else {
        return;
    };
    let sbom = dir.path().join("sbom.cdx.json");
    let out = run_in(
        dir.path(),
        &[
            "check",
            &source,
            "--key",
            &key,
            "-f",
            "json",
            "-o",
            &format!("cyclonedx-json={}", sbom.display()),
            "-o",
            "json",
        ],
    );
    assert_exit(&out, 1);
    // A warning on stderr: the key was given, and could not be used.
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "gpubom: warning: signatures were not checked, although keys or identities are trusted: {ARCHIVE_REASON}"
        )),
        "{err}"
    );
    let report = json(&out);
    assert!(finding_of(&report, "image-signature-untrusted").is_none());
    let items = not_checked(&report);
    assert!(
        items.contains(&("signatures".into(), None, ARCHIVE_REASON.into())),
        "{items:?}"
    );
    assert!(
        items.iter().any(|(fact, subject, _)| fact == "model-hash"
            && subject.as_deref() == Some("weights.pkl at /models/weights.pkl")),
        "{items:?}"
    );
    // The SBOM says signatures were not looked for, and why; it stays valid CycloneDX 1.5.
    let bom: serde_json::Value = serde_json::from_slice(&std::fs::read(&sbom).unwrap()).unwrap();
    validate_cyclonedx(&bom);
    assert!(
        sbom_not_checked(&bom).contains(&(
            "signatures".into(),
            String::new(),
            ARCHIVE_REASON.into()
        )),
        "{bom:#}"
    );
    assert!(!bom.to_string().contains("gpubom:signatures:checked"));
    // Checked again from that SBOM, the reasons are the scan's own.
    let again = json(&run_in(
        dir.path(),
        &[
            "check",
            "--sbom",
            sbom.to_str().unwrap(),
            "-f",
            "json",
            "-q",
        ],
    ));
    assert_eq!(not_checked(&again), items);

    // The text report ends with the section; -q keeps stderr quiet.
    let out = run_in(dir.path(), &["check", &source, "--key", &key, "-q"]);
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let section = text
        .split("Not checked (a PASS does not cover these):\n")
        .nth(1)
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        section.starts_with(&format!("  signatures: {ARCHIVE_REASON}\n")),
        "{text}"
    );
}

#[test]
fn required_signatures_fail_closed_where_nobody_could_check_them() {
    let test = "required_signatures_fail_closed_where_nobody_could_check_them";
    let dir = tmp();
    let source = docker_archive(dir.path());
    let Some(key) = public_key(test, dir.path()) else {
        return;
    };
    let config = dir.path().join("gpubom.toml");
    std::fs::write(
        &config,
        format!("[signatures]\nkeys = [{key:?}]\nrequired = true\n"),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let rootfs = dir.path().join("rootfs");
    image().write_rootfs(&rootfs);
    let syft = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/foreign-sboms/demo.syft.cdx.json");
    for (args, why) in [
        (vec!["check", &source], ARCHIVE_REASON),
        (
            vec!["check", &format!("dir:{}", rootfs.display())],
            "a directory carries none; scan the pushed reference",
        ),
        (
            vec!["check", "--sbom", syft.to_str().unwrap()],
            "this SBOM records no signature lookup; check the pushed reference (gpubom check REF --key cosign.pub)",
        ),
    ] {
        let out = run_in(dir.path(), &[&args[..], &["--config", config, "-f", "json"]].concat());
        assert_exit(&out, 1);
        let report = json(&out);
        let finding = finding_of(&report, "image-signature-untrusted")
            .unwrap_or_else(|| panic!("{args:?}: {report:#}"));
        assert_eq!(finding["severity"], "high");
        assert!(
            finding["message"]
                .as_str()
                .unwrap()
                .ends_with(&format!("signatures were not checked: {why}")),
            "{finding:#}"
        );
    }
    // Required with nobody to verify against can never pass: an error, said once.
    std::fs::write(
        dir.path().join(".gpubom.toml"),
        "[signatures]\nrequired = true\n",
    )
    .unwrap();
    let out = run_in(dir.path(), &["check", &source]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).starts_with("gpubom: error: [signatures] required = true, but no key"),
        "{}",
        stderr(&out)
    );
    // …unless --key names one.
    let out = run_in(dir.path(), &["check", &source, "--key", &key, "-q"]);
    assert_exit(&out, 1);
}

#[test]
fn a_directory_has_no_config_and_an_oci_layout_is_looked_at() {
    let dir = tmp();
    let rootfs = dir.path().join("rootfs");
    image().write_rootfs(&rootfs);
    let out = run_in(
        dir.path(),
        &["check", &format!("dir:{}", rootfs.display()), "-f", "json"],
    );
    let report = json(&out);
    let config = "a directory has no image config; check the image it came from";
    for fact in ["user", "ports", "labels"] {
        assert!(
            not_checked(&report).contains(&(fact.into(), None, config.into())),
            "{report:#}"
        );
    }
    // An OCI layout has a config and is looked at for signatures; pinned
    // models leave nothing unchecked.
    let layout = dir.path().join("layout");
    image().write_oci_dir(&layout);
    let sums = dir.path().join("SHA256SUMS");
    std::fs::write(
        &sums,
        format!("{}  models/weights.pkl\n", sha256_hex(b"\x80\x02}q\x00.")),
    )
    .unwrap();
    let out = run_in(
        dir.path(),
        &[
            "check",
            &format!("oci-dir:{}", layout.display()),
            "--expect-sha256",
            sums.to_str().unwrap(),
            "-f",
            "json",
        ],
    );
    assert_eq!(facts(&json(&out)), Vec::<String>::new());
}

#[test]
fn sarif_shows_what_was_not_checked_as_tool_notifications() {
    let dir = tmp();
    let source = docker_archive(dir.path());
    let sarif = dir.path().join("gpubom.sarif");
    let out = run_in(
        dir.path(),
        &[
            "check",
            &source,
            "-o",
            &format!("sarif={}", sarif.display()),
        ],
    );
    assert_exit(&out, 1);
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&sarif).unwrap()).unwrap();
    let notifications = doc["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    let texts: Vec<&str> = notifications
        .iter()
        .map(|n| n["message"]["text"].as_str().unwrap())
        .collect();
    assert!(
        texts.contains(&format!("not checked: signatures: {ARCHIVE_REASON}").as_str()),
        "{texts:?}"
    );
    validate_sarif(
        "sarif_shows_what_was_not_checked_as_tool_notifications",
        &sarif,
    );
}
#[test]
fn markdown_ends_with_what_was_not_checked() {
    let dir = tmp();
    let source = docker_archive(dir.path());
    let out = run_in(dir.path(), &["check", &source, "-f", "markdown"]);
    let md = String::from_utf8(out.stdout).unwrap();
    let section = md
        .split("\n**Not checked**: a PASS does not cover these.\n")
        .nth(1)
        .unwrap_or_else(|| panic!("{md}"));
    assert!(
        section.contains(r"- **signatures**: a docker\-archive carries none"),
        "{md}"
    );
    assert!(
        section.contains(r"- **model\-hash** (weights\.pkl at \/models\/weights\.pkl)"),
        "{md}"
    );
}
