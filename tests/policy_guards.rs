//! End-to-end tests of what the gate refuses rather than passes quietly:
//! policies that could never decide, waivers an auditor could not trust,
//! fixtures that do not say what they test, and default rules that said
//! untrue things (a `docker save` archive "unpinned: no digest", `8000/udp`
//! through an allowed `8000`). Each case is an exit 2 naming the mistake,
//! or a finding, never a quiet PASS.

mod common;

use common::*;
use gpubom_testkit::image::{DockerForm, ImageSpec, Layer};
use std::path::Path;

fn base() -> ImageSpec {
    ImageSpec::new("example.com/ml/serving", "2.3")
        .user("1001")
        .label(
            "org.opencontainers.image.source",
            "https://example.com/serving",
        )
        .label("org.opencontainers.image.revision", "0123abc")
        .layer(Layer::new().file("usr/lib/os-release", "ID=debian\nVERSION_ID=\"12\"\n"))
}

fn oci(spec: &ImageSpec, dir: &Path) -> String {
    let path = dir.join("oci");
    spec.write_oci_dir(&path);
    format!("oci-dir:{}", path.display())
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// `DIR/ID.cedar`: a rule that is valid in every way but its effect,
/// action, message and condition. Its path.
fn rule(dir: &Path, [id, effect, action, message, when]: [&str; 5]) -> String {
    write(
        dir,
        &format!("{id}.cedar"),
        &format!(
            "@id(\"{id}\")\n@severity(\"high\")\n@message(\"{message}\")\n@remediation(\"fix it\")\n\
             {effect} (principal, action == Gpubom::Action::\"{action}\", resource)\nwhen {{ {when} }};\n"
        ),
    )
}

/// A rule against port 2222, named `id`.
fn port_2222(id: &str) -> [&str; 5] {
    [
        id,
        "forbid",
        "ship",
        "m",
        "resource.exposed_ports.contains(2222)",
    ]
}

/// A rule about the image's own models, named `id`, saying `message`.
fn own_models<'a>(id: &'a str, message: &'a str) -> [&'a str; 5] {
    [
        id,
        "forbid",
        "include_model",
        message,
        "resource.owner == \"\"",
    ]
}

/// `gpubom policy validate FILE EXTRA…`: exit 2 and the one error line.
fn refused(file: &str, extra: &[&str]) -> String {
    let mut args = vec!["policy", "validate", file];
    args.extend(extra);
    let out = run(&args);
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert!(err.starts_with("gpubom: error: "), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    err
}

#[test]
fn policy_validate_refuses_what_could_never_work() {
    let dir = tmp();
    let d = dir.path();
    // A permit: "ok: 0 rule(s)" before.
    let permit = rule(d, ["allow-all", "permit", "ship", "m", "true"]);
    let err = refused(&permit, &[]);
    assert!(
        err.contains(&format!(
            "{permit}:5:1: permit allow-all is refused: the pack is forbid-only"
        )),
        "{err}"
    );
    // Closed values compared as strings, which never match.
    for (id, action, when, values) in [
        (
            "org-unsafe",
            "include_model",
            r#"resource.verdict == "Unsafe""#,
            r#"Gpubom::Verdict::"unsafe"; its values are: safe, suspicious, unsafe, unknown, none"#,
        ),
        (
            "org-pypi",
            "include",
            r#"resource.kind == "pypi""#,
            "its values are: deb, python, native-library, operating-system, other",
        ),
    ] {
        let file = rule(d, [id, "forbid", action, "m", when]);
        let err = refused(&file, &[]);
        assert!(
            err.contains(&format!("{file}:6:")) && err.contains(values),
            "{err}"
        );
    }
    // A placeholder that would print as written.
    let placeholder = rule(d, own_models("org-model", "found {resource.pth}"));
    let err = refused(&placeholder, &[]);
    assert!(
        err.contains(&format!("{placeholder}:3:1: rule org-model: @message placeholder {{resource.pth}} names pth, which Model does not have; its attributes are:")),
        "{err}"
    );
    // An optional attribute needs a fallback.
    let optional = rule(
        d,
        own_models("org-engine", "built by {resource.builder_version.mmp}"),
    );
    assert!(refused(&optional, &[]).contains("reaches Model.builder_version"));
}

#[test]
fn policy_validate_catches_id_clashes_with_the_default_pack() {
    let dir = tmp();
    let clash = rule(dir.path(), port_2222("ssh-port-exposed"));
    let err = refused(&clash, &[]);
    assert!(
        err.contains(&format!("{clash}:1: @id(\"ssh-port-exposed\") is already used at policies/ssh-port-exposed.cedar:1")),
        "{err}"
    );
    // Without the default pack, as `check --no-default-policies` runs, it is fine.
    let out = run(&["policy", "validate", &clash, "--no-default-policies"]);
    assert_exit(&out, 0);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ok: 1 rule(s)"));
    // And a rule of its own validates with the default pack beside it.
    let own = rule(dir.path(), port_2222("org-ssh-2222"));
    let out = run(&["policy", "validate", &own]);
    assert_exit(&out, 0);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with(
            "ok: 1 rule(s) valid against the gpubom schema, no @id clashes with the default pack"
        ),
        "{text}"
    );
}

fn waiver(rule: &str, pattern: &str, expires: &str) -> String {
    format!(
        "[[waivers]]\nrule = \"{rule}\"\nmatch = \"{pattern}\"\nreason = \"accepted for the migration\"\nexpires = \"{expires}\"\n"
    )
}

/// A date `days` from today, as waivers are judged on the day of the check.
fn days_from_today(days: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    gpubom_inventory::time::rfc3339_from_epoch(now + days * 86_400)[..10].to_string()
}

#[test]
fn untrustworthy_waivers_are_errors_in_validate_and_check() {
    let dir = tmp();
    let d = dir.path();
    let own = rule(d, port_2222("org-ssh-2222"));
    let source = oci(&base(), d);
    let in_90 = days_from_today(90);
    for (config, says) in [
        (
            waiver("ssh-port-exposed", "example.com/*", "2027-02-30"),
            "the waiver for ssh-port-exposed matching \"example.com/*\" has expires = \"2027-02-30\", which is not a date".to_string(),
        ),
        (
            waiver("ssh-port-exposd", "example.com/*", &in_90),
            "the waiver for ssh-port-exposd matching \"example.com/*\" waives \"ssh-port-exposd\", which is no rule; the rules are:".to_string(),
        ),
        (
            waiver("ssh-port-exposed", "*", &in_90),
            "the waiver for ssh-port-exposed matching \"*\" covers every subject".to_string(),
        ),
        (
            format!("[waiver_limits]\nmax_days = 30\n{}", waiver("ssh-port-exposed", "example.com/*", &in_90)),
            format!("the waiver for ssh-port-exposed matching \"example.com/*\" expires on {in_90}, 90 days from today"),
        ),
    ] {
        let file = write(d, "waivers.toml", &config);
        let err = refused(&own, &["--config", &file]);
        assert!(
            err.contains(&format!("{file}: {says}")),
            "validate names the file and the waiver: {err}"
        );
        // check refuses it too, before it scans anything.
        let out = run(&["check", &source, "--config", &file, "-q"]);
        assert_exit(&out, 2);
        assert!(stderr(&out).contains(&says), "check: {}", stderr(&out));
    }
    // The organisation may allow wildcards, and a waiver within max_days is fine.
    let allowed = write(
        d,
        "allowed.toml",
        &format!(
            "[waiver_limits]\nmax_days = 90\nallow_wildcards = true\n{}",
            waiver("ssh-port-exposed", "*", &in_90)
        ),
    );
    let out = run(&["policy", "validate", &own, "--config", &allowed]);
    assert_exit(&out, 0);
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 waiver(s) valid"));
    // The configuration alone, against the default pack: no policy of one's own needed.
    let out = run(&["policy", "validate", "--config", &allowed]);
    assert_exit(&out, 0);
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 waiver(s) valid"));
    let out = run(&["policy", "validate", "--no-default-policies"]);
    assert_exit(&out, 2);
    // .gpubom.toml in the current directory is the default, as for check.
    write(d, ".gpubom.toml", &waiver("no-such-rule", "x", &in_90));
    let out = gpubom()
        .args(["policy", "validate", &own])
        .current_dir(d)
        .output()
        .unwrap();
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("waives \"no-such-rule\""),
        "{}",
        stderr(&out)
    );
}

#[test]
fn every_report_lists_what_was_waived() {
    let dir = tmp();
    let source = oci(&base().expose("22/tcp").expose("8888/tcp"), dir.path());
    let expires = days_from_today(30);
    let config = write(
        dir.path(),
        "gpubom.toml",
        &waiver("ssh-port-exposed", "example.com/ml/*", &expires),
    );
    let report = |format: &str| {
        let out = run(&["check", &source, "--config", &config, "-f", format, "-q"]);
        assert_exit(&out, 1);
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let text = report("text");
    assert!(
        text.contains("WAIVED (1)\n  [ssh-port-exposed] example.com/ml/serving:2.3@sha256:")
            && text.contains(&format!(
                ": waived until {expires}: accepted for the migration (match \"example.com/ml/*\")"
            )),
        "{text}"
    );
    assert!(text.contains("1 finding(s), 1 waived"), "{text}");
    let markdown = report("markdown");
    let waived = markdown
        .split("**Waived (1)**")
        .nth(1)
        .unwrap_or_else(|| panic!("no Waived section: {markdown}"));
    assert!(
        waived.contains("`ssh-port-exposed`")
            && waived.contains("accepted for the migration")
            && waived.contains(&format!("| {expires} |")),
        "{markdown}"
    );
    // The main table holds what still counts.
    assert!(
        !markdown.contains("| high | `ssh-port-exposed`"),
        "{markdown}"
    );
    let json: serde_json::Value = serde_json::from_str(&report("json")).unwrap();
    let ssh = finding_of(&json, "ssh-port-exposed").unwrap();
    assert_eq!(
        ssh["waived"],
        serde_json::json!({ "reason": "accepted for the migration", "expires": expires, "match": "example.com/ml/*" })
    );
}

/// `gpubom check SOURCE --config CONFIG --fail-on FAIL_ON -f json`: the exit
/// code, the report and stderr.
fn check_json(
    source: &str,
    config: &str,
    fail_on: &str,
) -> (Option<i32>, serde_json::Value, String) {
    let out = run(&[
        "check",
        source,
        "--config",
        config,
        "--fail-on",
        fail_on,
        "-f",
        "json",
    ]);
    let report = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code(), report, stderr(&out))
}

/// An image with `bytes` as its model file at /models/model.pt.
fn model_image(bytes: Vec<u8>, dir: &Path) -> String {
    oci(
        &base().layer(Layer::new().file("models/model.pt", bytes)),
        dir,
    )
}

fn real_model(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/real-models")
            .join(name),
    )
    .unwrap()
}

#[test]
fn a_pinned_waiver_covers_only_the_file_it_names() {
    let dir = tmp();
    let waived_bytes = real_model("state_dict.pt");
    let config = write(
        dir.path(),
        "gpubom.toml",
        &format!(
            "{}sha256 = \"{}\"\n",
            waiver(
                "model-hash-unverified",
                "/models/model.pt",
                &days_from_today(30)
            ),
            sha256_hex(&waived_bytes)
        ),
    );
    let check = |source: &str| check_json(source, &config, "medium");
    let (code, report, _) = check(&model_image(waived_bytes, &dir.path().join("a")));
    assert_eq!(code, Some(0), "{report:#}");
    assert!(finding_of(&report, "model-hash-unverified").unwrap()["waived"].is_object());
    // Other bytes at the same path: judged again, and the unused waiver is said.
    let (code, report, err) = check(&model_image(
        real_model("legacy_state_dict.pt"),
        &dir.path().join("b"),
    ));
    assert_eq!(code, Some(1), "{report:#}");
    assert!(finding_of(&report, "model-hash-unverified").unwrap()["waived"].is_null());
    assert!(err.contains("matched nothing"), "{err}");
}

#[test]
fn image_reference_unpinned_only_where_there_is_a_reference() {
    let dir = tmp();
    let d = dir.path();
    // What each form records: a docker save archive a name and tag but no manifest
    // digest; an OCI archive a name, tag and digest.
    let forms = |spec: &ImageSpec, name: &str| {
        let legacy = d.join(format!("{name}-legacy.tar"));
        spec.write_docker_archive(&legacy, DockerForm::Legacy);
        let blobs = d.join(format!("{name}-blobs.tar"));
        spec.write_docker_archive(&blobs, DockerForm::Blobs);
        let archive = d.join(format!("{name}-oci.tar"));
        spec.write_oci_archive(&archive);
        [
            format!("docker-archive:{}", legacy.display()),
            format!("docker-archive:{}", blobs.display()),
            format!("oci-archive:{}", archive.display()),
        ]
    };
    for source in forms(&base(), "versioned") {
        let out = run(&["check", &source, "--fail-on", "low", "-f", "json", "-q"]);
        assert_exit(&out, 0);
    }
    let latest = ImageSpec {
        tag: "latest".into(),
        ..base()
    };
    for source in forms(&latest, "latest") {
        let out = run(&["check", &source, "--fail-on", "low", "-f", "json", "-q"]);
        assert_exit(&out, 1);
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let message = finding_of(&report, "image-reference-unpinned").unwrap()["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            message.starts_with("the image reference example.com/ml/serving:latest")
                && message.contains("moving tag")
                && !message.contains("no digest"),
            "{source}: {message}"
        );
    }
}

#[test]
fn an_allowed_tcp_port_does_not_let_udp_through() {
    let dir = tmp();
    let config = write(dir.path(), "gpubom.toml", "[ports]\nallowed = [8000]\n");
    let check = |port: &str, name: &str| {
        let source = oci(&base().expose(port), &dir.path().join(name));
        let (code, report, _) = check_json(&source, &config, "medium");
        (code, report)
    };
    let (code, report) = check("8000/tcp", "tcp");
    assert_eq!(code, Some(0), "{report:#}");
    let (code, report) = check("8000/udp", "udp");
    assert_eq!(code, Some(1), "{report:#}");
    assert_eq!(
        finding_of(&report, "port-not-allowed").unwrap()["evidence"]
            ["resource.exposed_port_specs - principal.allowed_port_specs"],
        "8000/udp"
    );
    let udp = write(
        dir.path(),
        "udp.toml",
        "[ports]\nallowed = [\"8000/udp\"]\n",
    );
    let source = oci(&base().expose("8000/udp"), &dir.path().join("udp-allowed"));
    let out = run(&["check", &source, "--config", &udp, "--fail-on", "low", "-q"]);
    assert_exit(&out, 0);
}

#[test]
fn policy_test_fixtures_are_strict_and_can_fix_today() {
    let dir = tmp();
    let tests = dir.path().join("tests");
    std::fs::create_dir_all(&tests).unwrap();
    let fixture = |name: &str, body: serde_json::Value| {
        std::fs::write(tests.join(format!("{name}.test.json")), body.to_string()).unwrap();
    };
    // A waiver that expires: with "today" fixed, the test means the same next year.
    fixture(
        "waived",
        serde_json::json!({
            "name": "root is waived during the migration",
            "inventory": { "subject": { "name": "example.com/app", "tag": "1.0" }, "image": { "user": "" } },
            "config": "[[waivers]]\nrule = \"image-runs-as-root\"\nmatch = \"example.com/app*\"\nreason = \"migration\"\nexpires = \"2026-03-31\"\n",
            "today": "2026-03-01",
            "expect": { "silent": ["image-runs-as-root"] }
        }),
    );
    let policy_test = || {
        let out = run(&["policy", "test", tests.to_str().unwrap()]);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, text) = policy_test();
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("1 passed, 0 failed"), "{text}");

    // "family" where a component has "properties": the fixture fails, naming the key.
    fixture(
        "typo",
        serde_json::json!({
            "name": "cuDNN 8",
            "inventory": { "components": [ { "kind": "native-library", "name": "cudnn", "version": "8.9.2", "family": "cudnn" } ] },
            "expect": { "fires": ["cuda-version-conflict"] }
        }),
    );
    // A property name gpubom does not know, and a key the fixture does not have.
    fixture(
        "property",
        serde_json::json!({
            "name": "misspelt property",
            "inventory": { "components": [ { "kind": "native-library", "name": "cudnn", "properties": { "gpubom:nvidia:famly": "cudnn" } } ] },
            "expect": { "fires": ["cuda-version-conflict"] }
        }),
    );
    fixture(
        "key",
        serde_json::json!({ "name": "x", "inventory": {}, "expects": { "fires": ["ssh-port-exposed"] } }),
    );
    fixture(
        "date",
        serde_json::json!({ "name": "x", "inventory": {}, "today": "2026-02-30", "expect": { "silent": ["ssh-port-exposed"] } }),
    );
    fixture(
        "empty",
        serde_json::json!({ "name": "x", "inventory": {}, "expect": {} }),
    );
    let (code, text) = policy_test();
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("1 passed, 5 failed"), "{text}");
    let failure = |file: &str| {
        text.lines()
            .find(|l| l.starts_with("FAIL") && l.contains(file))
            .unwrap_or_else(|| panic!("no failure for {file}: {text}"))
            .to_string()
    };
    assert!(
        failure("typo.test.json").contains("unknown field `family`"),
        "{text}"
    );
    assert!(
        failure("property.test.json")
            .contains("has property \"gpubom:nvidia:famly\", which is not one gpubom knows"),
        "{text}"
    );
    assert!(
        failure("key.test.json").contains("unknown field `expects`"),
        "{text}"
    );
    assert!(
        failure("date.test.json").contains("\"2026-02-30\" is not a date"),
        "{text}"
    );
    assert!(
        failure("empty.test.json").contains("expects nothing"),
        "{text}"
    );
}
