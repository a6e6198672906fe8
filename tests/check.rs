//! End-to-end tests of `gpubom check` and `gpubom policy`.

mod common;

use common::*;
use gpubom_testkit::image::{ImageSpec, Layer};

fn base(user: Option<&str>, ports: &[&str]) -> ImageSpec {
    let mut spec = ImageSpec::new("example.com/ml/serving", "2.3")
        .label(
            "org.opencontainers.image.source",
            "https://example.com/serving",
        )
        .label("org.opencontainers.image.revision", "0123abc")
        .layer(
            Layer::new()
                .file("usr/lib/os-release", "ID=debian\nVERSION_ID=\"12\"\n")
                .created_by("ADD rootfs /"),
        );
    if let Some(user) = user {
        spec = spec.user(user);
    }
    for port in ports {
        spec = spec.expose(port);
    }
    spec
}

/// The rule ids of a JSON report's findings, in report order.
fn rules_of(report: &serde_json::Value) -> Vec<&str> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect()
}

/// `gpubom check SOURCE --config CONFIG -f json EXTRA…`: the exit code, the report and stderr.
fn check_json(
    source: &str,
    config: &std::path::Path,
    extra: &[&str],
) -> (Option<i32>, serde_json::Value, String) {
    let mut args = vec![
        "check",
        source,
        "--config",
        config.to_str().unwrap(),
        "-f",
        "json",
    ];
    args.extend(extra);
    let out = run(&args);
    let report = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code(), report, stderr(&out))
}

fn oci(spec: &ImageSpec, dir: &std::path::Path) -> String {
    let path = dir.join("oci");
    spec.write_oci_dir(&path);
    format!("oci-dir:{}", path.display())
}

#[test]
fn root_with_ssh_and_jupyter_fails_with_three_findings() {
    let dir = tmp();
    let source = oci(&base(None, &["22/tcp", "8888/tcp"]), dir.path());
    let out = run(&["check", &source, "-f", "json", "-q"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules = rules_of(&report);
    assert_eq!(
        rules,
        vec![
            "image-runs-as-root",
            "jupyter-port-exposed",
            "ssh-port-exposed"
        ]
    );
    assert_eq!(report["failing"], 3);

    let text = run(&["check", &source, "-q"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("exposes SSH (22)")
            && text.contains("exposes Jupyter (8888)")
            && text.contains("runs as root"),
        "{text}"
    );
    assert!(!text.contains("\x1b["), "no colour when not a terminal");
}

#[test]
fn non_root_with_8000_passes() {
    let dir = tmp();
    let source = oci(&base(Some("1001"), &["8000/tcp"]), dir.path());
    let out = run(&["check", &source, "-q"]);
    assert_exit(&out, 0);
    assert!(String::from_utf8_lossy(&out.stdout).contains("PASS"));
}

#[test]
fn fail_on_decides_the_exit_code() {
    let dir = tmp();
    let source = oci(&base(Some("1001"), &["6006/tcp"]), dir.path());
    assert_eq!(
        run(&["check", &source, "-q"]).status.code(),
        Some(0),
        "tensorboard is medium; default fails on high"
    );
    assert_eq!(
        run(&["check", &source, "--fail-on", "medium", "-q"])
            .status
            .code(),
        Some(1)
    );
}

/// The process umask, from the kernel's view of this test process.
fn umask() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("Umask:")).unwrap();
    u32::from_str_radix(line["Umask:".len()..].trim(), 8).unwrap()
}

#[test]
fn one_evaluation_writes_every_report_and_the_sbom() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tmp();
    let source = oci(&base(None, &["22/tcp"]), dir.path());
    let file = |name: &str| dir.path().join(name).display().to_string();
    let out = run(&[
        "check",
        &source,
        "-q",
        "-o",
        &format!("json={}", file("report.json")),
        "-o",
        &format!("sarif={}", file("report.sarif")),
        "-o",
        &format!("markdown={}", file("summary.md")),
        "-o",
        &format!("cyclonedx-json={}", file("sbom.cdx.json")),
        "-o",
        "text",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("FAIL"));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(file("report.json")).unwrap()).unwrap();
    assert_eq!(
        rules_of(&report),
        vec!["image-runs-as-root", "ssh-port-exposed"]
    );
    let sarif: serde_json::Value =
        serde_json::from_slice(&std::fs::read(file("report.sarif")).unwrap()).unwrap();
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 2);
    assert!(std::fs::read_to_string(file("summary.md"))
        .unwrap()
        .contains("FAIL"));
    let sbom: serde_json::Value =
        serde_json::from_slice(&std::fs::read(file("sbom.cdx.json")).unwrap()).unwrap();
    assert_eq!(sbom["bomFormat"], "CycloneDX");
    // Reports are for sharing: they take the umask like any new file, not 0600.
    let mode = std::fs::metadata(file("report.json"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o666 & !umask());

    // The SBOM it wrote is the SBOM a scan writes, and checks the same.
    let again = run(&[
        "check",
        "--sbom",
        &file("sbom.cdx.json"),
        "-f",
        "json",
        "-q",
    ]);
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(rules_of(&again), rules_of(&report));

    // Two reports cannot share stdout.
    let out = run(&["check", &source, "-q", "-o", "json", "-o", "sarif"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("-o FORMAT=FILE"), "{}", stderr(&out));
}

#[test]
fn fail_on_none_reports_without_failing() {
    let dir = tmp();
    let source = oci(&base(None, &["22/tcp"]), dir.path());
    let out = run(&["check", &source, "--fail-on", "none", "-q"]);
    assert_exit(&out, 0);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("REPORT ONLY") && text.contains("ssh-port-exposed"),
        "{text}"
    );
    let out = run(&["check", &source, "--fail-on", "none", "-f", "json", "-q"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (report["fail_on"].as_str(), report["failing"].as_i64()),
        (Some("none"), Some(0))
    );
}

#[test]
fn a_misspelt_policy_exits_2_with_its_location() {
    let dir = tmp();
    let source = oci(&base(Some("1001"), &[]), dir.path());
    let policy = dir.path().join("org.cedar");
    std::fs::write(
        &policy,
        "@id(\"no-jupyter\")\n@severity(\"high\")\n@message(\"m\")\n@remediation(\"r\")\nforbid (principal, action == Gpubom::Action::\"ship\", resource)\nwhen { resource.exposed_port.contains(8888) };\n",
    )
    .unwrap();
    let out = run(&["check", &source, "--policy", policy.to_str().unwrap(), "-q"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains(&format!("{}:6:8", policy.display())), "{err}");
    assert!(err.contains("did you mean"), "{err}");
    let out = run(&["policy", "validate", policy.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn sarif_is_valid_and_points_at_the_dockerfile() {
    let dir = tmp();
    let source = oci(&base(None, &["22/tcp"]), dir.path());
    let dockerfile = dir.path().join("Dockerfile");
    std::fs::write(&dockerfile, "FROM debian:12\nEXPOSE 22\nCMD [\"serve\"]\n").unwrap();
    let config = dir.path().join("waivers.toml");
    std::fs::write(
        &config,
        "[[waivers]]\nrule = \"image-runs-as-root\"\nmatch = \"example.com/ml/serving:2.3\"\n\
         reason = \"base image migration\"\nexpires = \"2999-01-01\"\n\
         [[waivers]]\nrule = \"ssh-port-exposed\"\nmatch = \"example.com/*\"\nreason = \"old\"\nexpires = \"2000-01-01\"\n",
    )
    .unwrap();
    let sarif = dir.path().join("gpubom.sarif");
    let check_sarif = |source: &str, sarif: &std::path::Path| {
        let out = run(&[
            "check",
            source,
            "-f",
            "sarif",
            "-o",
            sarif.to_str().unwrap(),
            "--dockerfile",
            dockerfile.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
            "-q",
        ]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        serde_json::from_slice::<serde_json::Value>(&std::fs::read(sarif).unwrap()).unwrap()
    };
    let doc = check_sarif(&source, &sarif);
    assert_eq!(doc["version"], "2.1.0");
    let results = doc["runs"][0]["results"].as_array().unwrap();
    let result = |rule: &str| results.iter().find(|r| r["ruleId"] == rule).unwrap();
    let ssh = result("ssh-port-exposed");
    assert_eq!(
        ssh["locations"][0]["physicalLocation"]["region"]["startLine"],
        2
    );
    assert_eq!(ssh["level"], "error");
    // A waived finding stays, as a suppression that carries the waiver's reason and expiry.
    let suppression = &result("image-runs-as-root")["suppressions"][0];
    assert_eq!(suppression["justification"], "base image migration");
    assert_eq!(suppression["properties"]["expires"], "2999-01-01");
    // waiver-expired has a rule entry like every other result.
    let rules = doc["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let index = result("waiver-expired")["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(rules[index]["id"], "waiver-expired");

    // Fingerprints name what a finding is about, never a digest: a rebuild
    // (other bytes, another digest) keeps every alert's identity.
    let fingerprints = |doc: &serde_json::Value| -> Vec<String> {
        let mut all: Vec<String> = doc["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r["partialFingerprints"]["gpubom/v2"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        all.sort();
        all
    };
    let rebuilt_dir = tmp();
    let rebuilt = base(None, &["22/tcp"]).layer(Layer::new().file("srv/build-id", "2\n"));
    let rebuilt = oci(&rebuilt, rebuilt_dir.path());
    let again = check_sarif(&rebuilt, &rebuilt_dir.path().join("again.sarif"));
    assert_eq!(fingerprints(&again), fingerprints(&doc));
    assert!(!fingerprints(&doc).iter().any(|f| f.contains("sha256")));

    validate_sarif("sarif_is_valid_and_points_at_the_dockerfile", &sarif);
}

#[test]
fn markdown_for_job_summaries() {
    let dir = tmp();
    let source = oci(&base(None, &[]), dir.path());
    let out = run(&["check", &source, "-f", "markdown", "-q"]);
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(md.starts_with("### gpubom check: ❌ **FAIL**"), "{md}");
    assert!(md.contains("| high | `image-runs-as-root` |"), "{md}");
}

#[test]
fn checks_sboms_from_gpubom_and_from_other_tools() {
    let dir = tmp();
    let source = oci(&base(None, &["8888/tcp"]), dir.path());
    let sbom = dir.path().join("sbom.cdx.json");
    assert!(run(&["scan", &source, "-o", sbom.to_str().unwrap(), "-q"])
        .status
        .success());
    let out = run(&["check", "--sbom", sbom.to_str().unwrap(), "-f", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules = rules_of(&report);
    assert_eq!(rules, vec!["image-runs-as-root", "jupyter-port-exposed"]);

    // A CycloneDX 1.6 SBOM in the shape Syft writes (synthetic content): no image
    // config facts, but its packages are checked.
    let syft = serde_json::json!({
        "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
        "metadata": { "component": { "type": "container", "name": "example.com/app", "version": "sha256:abc" } },
        "components": [{
            "type": "library", "name": "torch", "version": "2.1.0", "purl": "pkg:pypi/torch@2.1.0",
            "properties": [{ "name": "syft:location:0:path", "value": "/usr/lib/python3/dist-packages/torch-2.1.0.dist-info/METADATA" }]
        }]
    });
    let path = dir.path().join("syft.cdx.json");
    std::fs::write(&path, syft.to_string()).unwrap();
    let out = run(&["check", "--sbom", path.to_str().unwrap(), "-f", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let torch = finding_of(&report, "pytorch-weights-only-bypass");
    assert!(
        torch.is_some_and(|f| f["subject"]["path"]
            .as_str()
            .unwrap()
            .contains("torch-2.1.0")),
        "{report:#}"
    );

    std::fs::write(&path, "{\"not\": \"an sbom\"}").unwrap();
    let out = run(&["check", "--sbom", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not a CycloneDX SBOM"),
        "{}",
        stderr(&out)
    );
}

/// A CycloneDX 1.6 SBOM in the shape Syft 1.x writes for an image (synthetic
/// content, real field names): a container root, Debian and PyPI packages, the
/// distro, Syft's own properties, and no gpubom facts at all.
fn syft_sbom_of_a_non_root_image() -> serde_json::Value {
    let layer = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef";
    let deb = |name: &str, version: &str, source: &str, path: &str| {
        let purl = format!("pkg:deb/debian/{name}@{version}?arch=amd64&distro=debian-12");
        serde_json::json!({
            "bom-ref": format!("{purl}&package-id=0f3c2a9b1d7e4c65"),
            "type": "library", "publisher": "GNU Libc Maintainers <debian-glibc@lists.debian.org>",
            "name": name, "version": version,
            "cpe": format!("cpe:2.3:a:{name}:{name}:{version}:*:*:*:*:*:*:*"),
            "purl": purl,
            "properties": [
                { "name": "syft:package:foundBy", "value": "dpkg-db-cataloger" },
                { "name": "syft:package:type", "value": "deb" },
                { "name": "syft:package:metadataType", "value": "dpkg-db-entry" },
                { "name": "syft:location:0:layerID", "value": layer },
                { "name": "syft:location:0:path", "value": "/var/lib/dpkg/status" },
                { "name": "syft:location:1:layerID", "value": layer },
                { "name": "syft:location:1:path", "value": path },
                { "name": "syft:metadata:source", "value": source }
            ]
        })
    };
    let wheel = |name: &str, version: &str| {
        let site = "/usr/local/lib/python3.11/site-packages";
        serde_json::json!({
            "bom-ref": format!("pkg:pypi/{name}@{version}?package-id=8e1d5c7a2b3f9064"),
            "type": "library", "name": name, "version": version,
            "licenses": [{ "license": { "id": "BSD-3-Clause" } }],
            "cpe": format!("cpe:2.3:a:python-{name}:python-{name}:{version}:*:*:*:*:*:*:*"),
            "purl": format!("pkg:pypi/{name}@{version}"),
            "properties": [
                { "name": "syft:package:foundBy", "value": "python-installed-package-cataloger" },
                { "name": "syft:package:language", "value": "python" },
                { "name": "syft:package:type", "value": "python" },
                { "name": "syft:package:metadataType", "value": "python-package" },
                { "name": "syft:location:0:layerID", "value": layer },
                { "name": "syft:location:0:path", "value": format!("{site}/{name}-{version}.dist-info/METADATA") },
                { "name": "syft:location:1:layerID", "value": layer },
                { "name": "syft:location:1:path", "value": format!("{site}/{name}-{version}.dist-info/RECORD") }
            ]
        })
    };
    serde_json::json!({
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX", "specVersion": "1.6",
        "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79", "version": 1,
        "metadata": {
            "timestamp": "2025-06-01T12:00:00Z",
            "tools": { "components": [{ "type": "application", "author": "anchore", "name": "syft", "version": "1.26.1" }] },
            "component": {
                "bom-ref": "2b8b2f6a9c1d4e07", "type": "container",
                "name": "registry.example.com/ml/serving",
                "version": "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
            }
        },
        "components": [
            deb("bash", "5.2.15-2+b7", "", "/usr/share/doc/bash/copyright"),
            deb("libc6", "2.36-9+deb12u10", "glibc", "/usr/share/doc/libc6/copyright"),
            deb("tzdata", "2025b-0+deb12u1", "", "/usr/share/doc/tzdata/copyright"),
            wheel("numpy", "1.26.4"),
            wheel("torch", "2.6.0+cu124"),
            {
                "bom-ref": "os:debian@12", "type": "operating-system", "name": "debian", "version": "12",
                "description": "Debian GNU/Linux 12 (bookworm)",
                "swid": { "tagId": "debian", "name": "debian", "version": "12" },
                "properties": [
                    { "name": "syft:distro:id", "value": "debian" },
                    { "name": "syft:distro:prettyName", "value": "Debian GNU/Linux 12 (bookworm)" },
                    { "name": "syft:distro:versionCodename", "value": "bookworm" },
                    { "name": "syft:distro:versionID", "value": "12" }
                ]
            }
        ],
        "dependencies": [{ "ref": "2b8b2f6a9c1d4e07", "dependsOn": [] }]
    })
}

#[test]
fn a_foreign_sbom_without_a_user_is_not_judged_root() {
    // Syft records no image config: the user is unknown, not root, and the rules
    // about the config (user, labels, reference) have nothing to judge.
    let dir = tmp();
    let path = dir.path().join("syft.cdx.json");
    std::fs::write(&path, syft_sbom_of_a_non_root_image().to_string()).unwrap();
    let out = run(&["check", "--sbom", path.to_str().unwrap(), "-f", "json"]);
    assert_exit(&out, 0);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rules_of(&report), Vec::<&str>::new(), "{report:#}");
    // torch 2.6.0+cu124 is 2.6.0 with a local label: at the minimum, not below it.
    let out = run(&[
        "check",
        "--sbom",
        path.to_str().unwrap(),
        "--fail-on",
        "low",
        "-q",
    ]);
    assert_exit(&out, 0);
}

#[test]
fn a_directory_has_no_image_config_to_judge() {
    let dir = tmp();
    let rootfs = dir.path().join("rootfs");
    let dist = rootfs.join("usr/local/lib/python3.11/site-packages/requests-2.32.3.dist-info");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(
        dist.join("METADATA"),
        "Metadata-Version: 2.1\nName: requests\nVersion: 2.32.3\n",
    )
    .unwrap();
    let source = format!("dir:{}", rootfs.display());
    let out = run(&["check", &source, "--fail-on", "low", "-f", "json", "-q"]);
    assert_exit(&out, 0);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules = rules_of(&report);
    for image_rule in [
        "image-runs-as-root",
        "image-reference-unpinned",
        "missing-source-labels",
    ] {
        assert!(!rules.contains(&image_rule), "{image_rule}: {report:#}");
    }
    assert!(rules.is_empty(), "{report:#}");
    // The package was found, so the check did look inside.
    let bom = scan_json(&source);
    assert_eq!(names_versions(&bom, "pkg:pypi/"), vec!["requests@2.32.3"]);
}

#[test]
fn config_values_and_waivers_from_toml() {
    let dir = tmp();
    let source = oci(&base(None, &["8080/tcp"]), dir.path());
    let config = dir.path().join("gpubom.toml");
    std::fs::write(
        &config,
        "[ports]\nallowed = [8000]\n\n[[waivers]]\nrule = \"image-runs-as-root\"\nmatch = \"example.com/*\"\nreason = \"migrating base image\"\nexpires = \"2999-01-01\"\n",
    )
    .unwrap();
    let (code, report, _) = check_json(&source, &config, &["--fail-on", "low", "-q"]);
    let findings = report["findings"].as_array().unwrap();
    let root = finding_of(&report, "image-runs-as-root").unwrap();
    assert_eq!(root["waived"]["reason"], "migrating base image");
    assert_eq!(root["waived"]["expires"], "2999-01-01");
    assert!(findings
        .iter()
        .any(|f| f["rule"] == "port-not-allowed" && f["waived"].is_null()));
    assert_eq!(code, Some(1));

    std::fs::write(&config, "[portz]\nallowed = [1]\n").unwrap();
    let out = run(&["check", &source, "--config", config.to_str().unwrap(), "-q"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("gpubom.toml"), "{}", stderr(&out));
}

#[test]
fn a_waiver_means_the_same_for_every_form_of_the_image() {
    let dir = tmp();
    let spec = base(None, &[]);
    let layout = oci(&spec, dir.path());
    let saved = dir.path().join("saved.tar");
    spec.write_docker_archive(&saved, gpubom_testkit::image::DockerForm::Legacy);
    let config = dir.path().join("gpubom.toml");
    std::fs::write(
        &config,
        "[[waivers]]\nrule = \"image-runs-as-root\"\nmatch = \"example.com/ml/serving:2.3\"\n\
         reason = \"r\"\nexpires = \"2999-01-01\"\n\
         [[waivers]]\nrule = \"ssh-port-exposed\"\nmatch = \"example.com/*\"\n\
         reason = \"no ssh any more\"\nexpires = \"2999-01-01\"\n",
    )
    .unwrap();
    for source in [layout, format!("docker-archive:{}", saved.display())] {
        let (code, report, err) = check_json(&source, &config, &[]);
        let root = finding_of(&report, "image-runs-as-root")
            .unwrap_or_else(|| panic!("{source}: {report}"));
        assert_eq!(root["waived"]["reason"], "r", "{source}");
        assert_eq!(code, Some(0), "{source}: {err}");
        // The ssh waiver matched nothing: said, not silently kept.
        assert!(
            err.contains(
                "warning: waiver for ssh-port-exposed matching \"example.com/*\" matched nothing"
            ),
            "{source}: {err}"
        );
    }
}

#[test]
fn policy_test_runs_fixtures() {
    let dir = tmp();
    let fixture = |name: &str, fires: &str, silent: &str| {
        serde_json::json!({
            "name": name,
            "inventory": {
                "subject": { "kind": "oci-archive", "location": "x", "name": "example.com/x", "tag": "1", "digest": "sha256:00" },
                "image": { "user": "", "exposed_ports": ["22/tcp"], "env": [], "labels": {}, "entrypoint": [], "cmd": [] },
                "layers": [], "components": []
            },
            "expect": { "fires": [fires], "silent": [silent] }
        })
        .to_string()
    };
    std::fs::write(
        dir.path().join("ok.test.json"),
        fixture("root ssh", "ssh-port-exposed", "jupyter-port-exposed"),
    )
    .unwrap();
    let out = run(&["policy", "test", dir.path().to_str().unwrap()]);
    assert_exit(&out, 0);
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 passed, 0 failed"));

    std::fs::write(
        dir.path().join("bad.test.json"),
        fixture(
            "wrong expectation",
            "jupyter-port-exposed",
            "ssh-port-exposed",
        ),
    )
    .unwrap();
    let out = run(&["policy", "test", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("FAIL wrong expectation")
            && text.contains("expected jupyter-port-exposed to fire"),
        "{text}"
    );
}

/// An image whose cuDNN is `version`, as apt installs it (the full version in the file name).
fn cudnn_image(version: &str) -> ImageSpec {
    let major = version.split('.').next().unwrap();
    let lib = gpubom_testkit::elf::synthetic_shared_object(&format!("libcudnn.so.{major}"), &[]);
    base(Some("1001"), &[]).layer(Layer::new().file(
        &format!("usr/lib/x86_64-linux-gnu/libcudnn.so.{version}"),
        lib,
    ))
}

#[test]
fn policy_tests_live_beside_their_policies_and_check_real_sboms() {
    let dir = tmp();
    let policies = dir.path().join("org-policies");
    let tests = policies.join("tests");
    std::fs::create_dir_all(&tests).unwrap();
    // "cuDNN at least 9", with no hand-computed number: the floor is a config value.
    std::fs::write(
        policies.join("cudnn.cedar"),
        r#"@id("cudnn-below-minimum")
@severity("high")
@message("cuDNN {resource.version_string} is below {principal.cudnn_min.mmp}")
@remediation("move to a cuDNN 9 base image")
forbid (principal, action == Gpubom::Action::"include", resource)
when { resource.family == Gpubom::Family::"cudnn" && resource has version && resource.version.key < principal.cudnn_min.key };
"#,
    )
    .unwrap();
    // The fixtures are SBOMs gpubom wrote for two images.
    for (name, version) in [("old", "8.9.2"), ("new", "9.1.0")] {
        let layout = oci(&cudnn_image(version), &dir.path().join(name));
        let sbom = tests.join(format!("{name}.cdx.json"));
        let out = run(&["scan", &layout, "-o", sbom.to_str().unwrap(), "-q"]);
        assert_exit(&out, 0);
    }
    let fixture = |name: &str, body: serde_json::Value| {
        std::fs::write(tests.join(format!("{name}.test.json")), body.to_string()).unwrap();
    };
    // The organisation's configuration, as CI uses it; one fixture brings its own.
    let org = dir.path().join(".gpubom.toml");
    std::fs::write(&org, "[versions]\ncudnn_min = \"9.0\"\n").unwrap();
    fixture(
        "old",
        serde_json::json!({"name": "cuDNN 8 image", "sbom": "old.cdx.json",
            "expect": {"fires": ["cudnn-below-minimum"]}}),
    );
    fixture(
        "new",
        serde_json::json!({"name": "cuDNN 9 image", "sbom": "new.cdx.json",
            "config": "[versions]\ncudnn_min = \"9.1\"\n",
            "expect": {"silent": ["cudnn-below-minimum"]}}),
    );
    // A partial inventory: only the facts the test is about.
    fixture(
        "partial",
        serde_json::json!({"name": "root, nothing else", "inventory": {"image": {"user": "root"}},
            "expect": {"fires": ["image-runs-as-root"], "silent": ["ssh-port-exposed"]}}),
    );
    let policy_test = || {
        let config = org.to_str().unwrap();
        run(&[
            "policy",
            "test",
            tests.to_str().unwrap(),
            "--config",
            config,
        ])
    };
    let out = policy_test();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_exit(&out, 0);
    assert!(text.contains("3 passed, 0 failed"), "{text}");
    assert!(text.contains("org-policies"), "names what it tests: {text}");

    // A broken fixture fails on its own; the others still run and pass.
    std::fs::write(tests.join("broken.test.json"), "{ not json").unwrap();
    let out = policy_test();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("3 passed, 1 failed"), "{text}");
    assert!(text.contains("broken.test.json: not a fixture"), "{text}");
}
