//! End-to-end tests of `gpubom diff`: two CycloneDX SBOMs written in the
//! shape `gpubom scan` writes them (copied from a real scan of a test image:
//! purls, `gpubom:` properties, occurrences), so every kind of change can be
//! set up exactly; hence the `_synthetic` names.

mod common;

use common::*;
use gpubom_testkit::elf::synthetic_shared_object;
use gpubom_testkit::image::{ImageSpec, Layer};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Output;

const LIB: &str = "/usr/lib/x86_64-linux-gnu";
const SITE: &str = "/usr/local/lib/python3.11/site-packages";
const DIFF_ID: &str = "sha256:1c07973f376f0ab059c589a2a4579516abc4e2b4b2744e99e5559f2b7c9c5d29";

fn props(kind: &str, extra: &[(&str, &str)]) -> Vec<Value> {
    let mut out = vec![
        json!({ "name": "gpubom:kind", "value": kind }),
        json!({ "name": "gpubom:layer:index", "value": "0" }),
        json!({ "name": "gpubom:layer:diff_id", "value": DIFF_ID }),
        json!({ "name": "gpubom:layer:created_by", "value": "ADD rootfs /" }),
    ];
    out.extend(
        extra
            .iter()
            .map(|(name, value)| json!({ "name": name, "value": value })),
    );
    out
}

fn occurrence(path: &str) -> Value {
    json!({ "occurrences": [{ "location": path }] })
}

/// cuDNN found by its file name, as the NVIDIA cataloger writes it.
fn cudnn(version: &str, file: &str) -> Value {
    let path = format!("{LIB}/{file}");
    let purl = format!("pkg:generic/nvidia/cudnn@{version}");
    let major = version.split('.').next().unwrap();
    json!({
        "type": "library", "bom-ref": format!("{purl}#{path}"),
        "supplier": { "name": "NVIDIA Corporation" },
        "name": "cudnn", "version": version, "purl": purl,
        "properties": props("native-library", &[
            ("gpubom:evidence:confidence", "0.70"),
            ("gpubom:nvidia:family", "cudnn"),
            ("gpubom:nvidia:library", file),
            ("gpubom:nvidia:soname", &format!("libcudnn.so.{major}")),
            ("gpubom:nvidia:soname_major", major),
        ]),
        "evidence": occurrence(&path),
    })
}

fn wheel(name: &str, version: &str) -> Value {
    let purl = format!("pkg:pypi/{name}@{version}");
    json!({
        "type": "library", "bom-ref": purl, "name": name, "version": version, "purl": purl,
        "properties": props("python", &[]),
        "evidence": occurrence(&format!("{SITE}/{name}-{version}.dist-info")),
    })
}

fn deb(name: &str, version: &str) -> Value {
    let purl = format!("pkg:deb/debian/{name}@{version}?arch=amd64&distro=debian-12");
    json!({
        "type": "library", "bom-ref": purl, "name": name, "version": version, "purl": purl,
        "properties": props("deb", &[]),
        "evidence": occurrence("/var/lib/dpkg/status"),
    })
}

fn model(path: &str, format: &str, verdict: &str, sha256: &str) -> Value {
    let name = path.rsplit('/').next().unwrap();
    let mut extra = vec![
        ("gpubom:model:format", format),
        ("gpubom:model:verdict", verdict),
    ];
    if verdict == "unsafe" {
        extra.push(("gpubom:model:globals", "os.system"));
        extra.push(("gpubom:model:unsafe_globals", "os.system (STACK_GLOBAL)"));
    }
    json!({
        "type": "machine-learning-model", "bom-ref": format!("model:{name}@#{path}"),
        "name": name,
        "hashes": [{ "alg": "SHA-256", "content": sha256 }],
        "properties": props("model", &extra),
        "evidence": occurrence(path),
    })
}

/// A gpubom SBOM of `example.com/ml/serving` built from one Dockerfile at two commits.
fn bom(digest: &str, config: Option<(&str, &[&str])>, components: Vec<Value>) -> Value {
    let mut meta = vec![
        json!({ "name": "gpubom:source:kind", "value": "oci-dir" }),
        json!({ "name": "gpubom:image:digest", "value": format!("sha256:{digest}") }),
    ];
    // A foreign SBOM records no image config: no user property at all.
    if let Some((user, ports)) = config {
        meta.push(json!({ "name": "gpubom:image:user", "value": user }));
        for port in ports {
            meta.push(json!({ "name": "gpubom:image:exposed_port", "value": port }));
        }
    }
    let mut all = vec![json!({
        "type": "operating-system", "bom-ref": "os:debian@12", "name": "debian", "version": "12",
        "evidence": occurrence("/usr/lib/os-release"),
    })];
    all.extend(components);
    json!({
        "bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
        "metadata": {
            "tools": [{ "vendor": "gpubom", "name": "gpubom", "version": "0.1.0" }],
            "component": {
                "type": "container", "bom-ref": "subject:example.com/ml/serving",
                "name": "example.com/ml/serving", "version": "2.3",
            },
            "properties": meta,
        },
        "components": all,
    })
}

const RESNET_OLD: &str = "aa00000000000000000000000000000000000000000000000000000000000000";
const RESNET_NEW: &str = "bb00000000000000000000000000000000000000000000000000000000000000";
const PICKLE: &str = "8cb11489900595ea32eb3f8b648aa9c6aa40325b9b788ff44c43c0a7bab6081b";

/// Before: root, Jupyter exposed, cuDNN 8, torch 2.9.1, numpy 2.0.1, requests.
fn old_bom() -> Value {
    bom(
        &"1".repeat(64),
        Some(("", &["8888/tcp", "8000/tcp"])),
        vec![
            cudnn("8.9.2.26", "libcudnn.so.8.9.2"),
            model("/models/resnet.onnx", "onnx", "safe", RESNET_OLD),
            deb("libc6", "2.36-9+deb12u10"),
            wheel("numpy", "2.0.1"),
            wheel("requests", "2.31.0"),
            wheel("torch", "2.9.1"),
        ],
    )
}

/// After: user 1000, only 8000, cuDNN 9, torch 2.10.0 (above 2.9.1, though
/// not as strings), numpy pinned back, requests gone, a pickle added and
/// the ONNX weights replaced.
fn new_bom() -> Value {
    bom(
        &"2".repeat(64),
        Some(("1000", &["8000/tcp"])),
        vec![
            cudnn("9.1.0.70", "libcudnn.so.9.1.0"),
            model("/models/resnet.onnx", "onnx", "safe", RESNET_NEW),
            model("/models/x.pkl", "pickle", "unsafe", PICKLE),
            deb("libc6", "2.36-9+deb12u10"),
            wheel("numpy", "1.26.4"),
            wheel("torch", "2.10.0"),
        ],
    )
}

/// Writes `dir/name`, returning its path for the command line.
fn file(dir: &Path, name: &str, contents: impl AsRef<[u8]>) -> String {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path.display().to_string()
}

fn write(dir: &Path, name: &str, doc: &Value) -> String {
    file(dir, name, serde_json::to_vec_pretty(doc).unwrap())
}

/// Runs `gpubom diff` in `dir`, so no `.gpubom.toml` around the checkout is read.
fn diff(dir: &Path, args: &[&str]) -> Output {
    gpubom()
        .arg("diff")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run gpubom")
}

fn diff_json(dir: &Path, args: &[&str]) -> Value {
    let out = diff(dir, &[args, &["-f", "json"]].concat());
    assert_exit(&out, 0);
    serde_json::from_slice(&out.stdout).expect("diff JSON")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The rule ids of a finding list, in report order.
fn rules(findings: &Value) -> Vec<&str> {
    findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect()
}

fn pair() -> (tempfile::TempDir, String, String) {
    let dir = tmp();
    let old = write(dir.path(), "old.cdx.json", &old_bom());
    let new = write(dir.path(), "new.cdx.json", &new_bom());
    (dir, old, new)
}

#[test]
fn every_kind_of_change_in_json_synthetic() {
    let (dir, old, new) = pair();
    let report = diff_json(dir.path(), &[&old, &new]);
    let c = &report["components"];
    assert_eq!(
        c["upgraded"],
        json!([
            { "name": "cudnn", "kind": "native-library", "family": "cudnn",
              "path": format!("{LIB}/libcudnn.so.9.1.0"), "from": "8.9.2.26", "to": "9.1.0.70" },
            { "name": "torch", "kind": "python",
              "path": format!("{SITE}/torch-2.10.0.dist-info"), "from": "2.9.1", "to": "2.10.0" },
        ])
    );
    assert_eq!(
        c["downgraded"],
        json!([{ "name": "numpy", "kind": "python",
                 "path": format!("{SITE}/numpy-1.26.4.dist-info"), "from": "2.0.1", "to": "1.26.4" }])
    );
    assert_eq!(
        c["added"],
        json!([{ "name": "x.pkl", "kind": "model", "path": "/models/x.pkl",
                 "version": format!("sha256:{PICKLE}"), "verdict": "unsafe", "format": "pickle" }])
    );
    assert_eq!(
        c["removed"],
        json!([{ "name": "requests", "kind": "python",
                 "path": format!("{SITE}/requests-2.31.0.dist-info"), "version": "2.31.0" }])
    );
    assert_eq!(
        c["changed"],
        json!([{ "name": "resnet.onnx", "kind": "model", "path": "/models/resnet.onnx",
                 "from": format!("sha256:{RESNET_OLD}"), "to": format!("sha256:{RESNET_NEW}"),
                 "verdict": "safe", "format": "onnx" }])
    );
    assert_eq!(
        report["image"],
        json!({ "user": { "from": "", "to": "1000" }, "ports_opened": [], "ports_closed": ["8888/tcp"],
                "not_compared": [] })
    );
    // A new critical pickle, and the new model is unpinned; the root user and
    // Jupyter are fixed. The image's other findings (its subject names a new
    // digest) and resnet's unpinned hash are on both sides: not reported.
    let findings = &report["findings"];
    assert_eq!(
        rules(&findings["new"]),
        ["unsafe-pickle", "model-hash-unverified"]
    );
    assert_eq!(findings["new"][0]["subject"]["path"], "/models/x.pkl");
    assert_eq!(
        rules(&findings["resolved"]),
        ["image-runs-as-root", "jupyter-port-exposed"]
    );
    assert_eq!(report["old"]["sbom"], old);
    assert_eq!(
        report["new"]["subject"],
        format!("example.com/ml/serving:2.3@sha256:{}", "2".repeat(64))
    );
    assert!(report["summary"]
        .as_str()
        .unwrap()
        .starts_with("Upgrades cuDNN 8.9.2.26 → 9.1.0.70, "));
}

#[test]
fn text_leads_with_the_headline_synthetic() {
    let (dir, old, new) = pair();
    let out = diff(dir.path(), &[&old, &new]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    let headline = text.lines().next().unwrap();
    assert_eq!(
        headline,
        "Upgrades cuDNN 8.9.2.26 → 9.1.0.70, replaces model /models/resnet.onnx, \
         adds model /models/x.pkl (unsafe pickle), changes user root → 1000, closes port 8888/tcp, and 3 more changes; \
         2 new findings (unsafe-pickle, model-hash-unverified), \
         2 resolved findings (image-runs-as-root, jupyter-port-exposed)."
    );
    for line in [
        "  upgraded    cuDNN 8.9.2.26 → 9.1.0.70  [native-library at /usr/lib/x86_64-linux-gnu/libcudnn.so.9.1.0]",
        "  upgraded    torch 2.9.1 → 2.10.0  [python at /usr/local/lib/python3.11/site-packages/torch-2.10.0.dist-info]",
        "  downgraded  numpy 2.0.1 → 1.26.4  [python at /usr/local/lib/python3.11/site-packages/numpy-1.26.4.dist-info]",
        "  removed     requests 2.31.0  [python at /usr/local/lib/python3.11/site-packages/requests-2.31.0.dist-info]",
        "  added       model /models/x.pkl (unsafe pickle)",
        "  changed     model /models/resnet.onnx sha256:aa0000000000… → sha256:bb0000000000…",
        "  user        root → 1000",
        "  port 8888/tcp exposed → -",
    ] {
        assert!(text.lines().any(|l| l == line), "no line {line:?} in\n{text}");
    }
    assert!(
        text.contains("new         critical [unsafe-pickle]"),
        "{text}"
    );
    assert!(
        text.contains("resolved    high     [jupyter-port-exposed]"),
        "{text}"
    );
    assert!(
        !text.contains("libc6"),
        "unchanged components are not reported:\n{text}"
    );
}

#[test]
fn markdown_for_a_pull_request_comment_synthetic() {
    let (dir, old, new) = pair();
    let path = dir.path().join("diff.md");
    let out = diff(
        dir.path(),
        &[&old, &new, "-f", "markdown", "-o", path.to_str().unwrap()],
    );
    assert_exit(&out, 0);
    assert!(out.stdout.is_empty(), "-o writes the file, not stdout");
    let md = markdown_unescaped(&std::fs::read_to_string(&path).unwrap());
    assert!(md.starts_with("### gpubom diff\n"), "{md}");
    assert!(md.contains("Upgrades cuDNN 8.9.2.26 → 9.1.0.70"), "{md}");
    for row in [
        "| upgraded | cuDNN | native-library | 8.9.2.26 → 9.1.0.70 |",
        "| added | model /models/x.pkl (unsafe pickle) | model | sha256:8cb114899005… |",
        "| user | root | 1000 |",
        "| new | critical | unsafe-pickle |",
        "| resolved | high | jupyter-port-exposed |",
    ] {
        assert!(md.contains(row), "no {row:?} in\n{md}");
    }
}

#[test]
fn waived_findings_are_neither_new_nor_resolved_synthetic() {
    let (dir, old, new) = pair();
    let config = file(
        dir.path(),
        "gpubom.toml",
        "[[waivers]]\nrule = \"unsafe-pickle\"\nmatch = \"/models/*\"\nreason = \"vendor checkpoint, sandboxed\"\nexpires = \"2999-01-01\"\n",
    );
    let report = diff_json(dir.path(), &[&old, &new, "--config", &config]);
    assert_eq!(rules(&report["findings"]["new"]), ["model-hash-unverified"]);
    // Found in the working directory as well, the way `check` finds it.
    std::fs::rename(&config, dir.path().join(".gpubom.toml")).unwrap();
    let report = diff_json(dir.path(), &[&old, &new]);
    assert_eq!(rules(&report["findings"]["new"]), ["model-hash-unverified"]);
}

#[test]
fn own_policies_alone_or_none_synthetic() {
    let (dir, old, new) = pair();
    let report = diff_json(dir.path(), &[&old, &new, "--no-default-policies"]);
    assert_eq!(
        report["findings"],
        json!({ "new": [], "resolved": [], "not_compared": [] })
    );
    assert_eq!(report["components"]["upgraded"][0]["to"], "9.1.0.70");

    let policy = file(
        dir.path(),
        "no-cudnn-9.cedar",
        "@id(\"no-cudnn-9\")\n@severity(\"low\")\n@message(\"cuDNN 9 is not qualified yet\")\n@remediation(\"stay on cuDNN 8\")\nforbid (principal, action == Gpubom::Action::\"include\", resource)\nwhen { resource.family == Gpubom::Family::\"cudnn\" && resource has version && resource.version.major >= 9 };\n",
    );
    let args = [&old, &new, "--no-default-policies", "--policy", &policy];
    let report = diff_json(dir.path(), &args);
    assert_eq!(rules(&report["findings"]["new"]), ["no-cudnn-9"]);
    assert_eq!(rules(&report["findings"]["resolved"]), Vec::<&str>::new());
}

#[test]
fn a_foreign_sbom_says_nothing_of_user_or_ports_synthetic() {
    let dir = tmp();
    let old = write(dir.path(), "old.cdx.json", &old_bom());
    // The same components, from a tool that records no image config.
    let mut foreign = old_bom();
    foreign["metadata"]["properties"] = json!([]);
    let new = write(dir.path(), "foreign.cdx.json", &foreign);
    let report = diff_json(dir.path(), &[&old, &new]);
    let no_config =
        "this SBOM records no image config; check the image itself (gpubom check IMAGE)";
    assert_eq!(
        report["image"],
        json!({ "ports_opened": [], "ports_closed": [], "not_compared": [
            { "facts": ["user", "ports"], "sides": ["new"], "reason": no_config },
        ] })
    );
    for change in ["added", "removed", "upgraded", "downgraded", "changed"] {
        assert_eq!(report["components"][change], json!([]), "{change}");
    }
    // Root and Jupyter are not fixed: the new SBOM is silent about them.
    let findings = &report["findings"];
    assert_eq!(
        rules(&findings["resolved"]),
        Vec::<&str>::new(),
        "{report:#}"
    );
    assert_eq!(
        rules(&findings["not_compared"]),
        [
            "image-runs-as-root",
            "jupyter-port-exposed",
            "missing-source-labels"
        ]
    );
    assert!(report["summary"].as_str().unwrap().ends_with(
        "3 findings not compared (image-runs-as-root, jupyter-port-exposed, missing-source-labels), \
         user, ports not compared."
    ), "{report:#}");
    // Nor are they new the other way round.
    let report = diff_json(dir.path(), &[&new, &old]);
    assert_eq!(rules(&report["findings"]["new"]), Vec::<&str>::new());
    assert_eq!(
        report["findings"]["not_compared"].as_array().unwrap().len(),
        3
    );
    let out = diff(dir.path(), &[&new, &old]);
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "Not compared:\n  user, ports (old SBOM): {no_config}\n"
        )),
        "{text}"
    );
    assert!(
        text.contains("not compared high     [image-runs-as-root]"),
        "{text}"
    );
}

#[test]
fn identical_sboms_have_nothing_to_say_synthetic() {
    let dir = tmp();
    let old = write(dir.path(), "a.cdx.json", &old_bom());
    let out = diff(dir.path(), &[&old, &old]);
    assert_exit(&out, 0);
    assert_eq!(
        stdout(&out),
        "No changes to components, image user, ports or findings.\n"
    );
}

#[test]
fn what_is_not_an_sbom_exits_2_with_one_line() {
    let dir = tmp();
    let good = write(dir.path(), "good.cdx.json", &old_bom());
    let spdx = write(
        dir.path(),
        "spdx.json",
        &json!({ "spdxVersion": "SPDX-2.3", "packages": [] }),
    );
    let missing = dir.path().join("missing.json").display().to_string();
    for (args, says) in [
        ([good.as_str(), spdx.as_str()], "not a CycloneDX SBOM"),
        ([missing.as_str(), good.as_str()], "cannot read"),
    ] {
        let out = diff(dir.path(), &args);
        assert_exit(&out, 2);
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with("gpubom: error: ") && err.contains(says),
            "{err}"
        );
        assert!(out.stdout.is_empty());
    }
}

/// A build of the serving image: cuDNN from `cudnn_file`, maybe a pickle, as
/// `user` with `ports`.
fn build(cudnn_file: &str, pickle: bool, user: Option<&str>, ports: &[&str]) -> ImageSpec {
    let soname = cudnn_file
        .splitn(4, '.')
        .take(3)
        .collect::<Vec<_>>()
        .join(".");
    let mut layer = Layer::new()
        .file("usr/lib/os-release", "ID=debian\nVERSION_ID=\"12\"\n")
        .file(
            &format!("{}/{cudnn_file}", &LIB[1..]),
            synthetic_shared_object(&soname, &["cudnn"]),
        );
    if pickle {
        // `os.system` by STACK_GLOBAL: what Python's pickle writes for it.
        layer = layer.file(
            "models/x.pkl",
            b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x94\x8c\x06system\x94\x93\x94."
                .to_vec(),
        );
    }
    let mut spec = ImageSpec::new("example.com/ml/serving", "2.3").layer(layer);
    if let Some(user) = user {
        spec = spec.user(user);
    }
    for port in ports {
        spec = spec.expose(port);
    }
    spec
}

/// The same story end to end: two builds scanned by gpubom, then compared.
#[test]
fn two_scanned_builds_synthetic() {
    let dir = tmp();
    let mut sboms = Vec::new();
    for (name, spec) in [
        (
            "old",
            build("libcudnn.so.8.9.2", false, None, &["8888/tcp"]),
        ),
        ("new", build("libcudnn.so.9.1.0", true, Some("1000"), &[])),
    ] {
        let oci = dir.path().join(name);
        spec.write_oci_dir(&oci);
        sboms.push(write(
            dir.path(),
            &format!("{name}.cdx.json"),
            &scan_json(&oci.display().to_string()),
        ));
    }
    let report = diff_json(dir.path(), &[&sboms[0], &sboms[1]]);
    let names = |change: &str| -> Vec<String> {
        let list = report["components"][change].as_array().unwrap();
        list.iter().map(|c| c["name"].to_string()).collect()
    };
    assert_eq!(names("added"), ["\"x.pkl\""]);
    assert_eq!(names("upgraded"), ["\"cudnn\""]);
    for change in ["removed", "downgraded", "changed"] {
        assert!(names(change).is_empty(), "{change}");
    }
    let cudnn = &report["components"]["upgraded"][0];
    assert_eq!(
        (&cudnn["from"], &cudnn["to"]),
        (&json!("8.9.2"), &json!("9.1.0"))
    );
    assert_eq!(report["image"]["user"], json!({ "from": "", "to": "1000" }));
    assert_eq!(report["image"]["ports_closed"], json!(["8888/tcp"]));
    assert_eq!(
        rules(&report["findings"]["new"]),
        ["unsafe-pickle", "model-hash-unverified"]
    );
    assert_eq!(
        rules(&report["findings"]["resolved"]),
        ["image-runs-as-root", "jupyter-port-exposed"]
    );

    let out = diff(dir.path(), &[&sboms[0], &sboms[1]]);
    assert_exit(&out, 0);
    let text = stdout(&out);
    assert!(
        text.starts_with(
            "Upgrades cuDNN 8.9.2 → 9.1.0, adds model /models/x.pkl (unsafe pickle), \
             changes user root → 1000, closes port 8888/tcp; "
        ),
        "{text}"
    );
}

/// The real Syft and Trivy SBOMs of the demo image (tests/fixtures/foreign-sboms)
/// against gpubom's own SBOM of the very same image: packages match by purl
/// whatever path each tool points at, and what the other tools do not record
/// (user, ports, signatures) is not compared, never resolved or new.
#[test]
fn real_syft_and_trivy_sboms_against_gpubom_s_of_the_same_image() {
    let test = "real_syft_and_trivy_sboms_against_gpubom_s_of_the_same_image";
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let models = root.join("tests/fixtures/real-models");
    let Some(spec) = or_skip(test, gpubom_testkit::demo::build(models.to_str())) else {
        return;
    };
    let dir = tmp();
    let archive = dir.path().join("demo-image.docker.tar");
    spec.write_docker_archive(&archive, gpubom_testkit::image::DockerForm::Blobs);
    let ours = scan_json(&archive.display().to_string());
    // The layers the fixtures were made from (Trivy lists them), or they need making again.
    let diff_ids: Vec<&str> = ours["metadata"]["properties"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["name"].as_str().unwrap().ends_with(":diff_id"))
        .map(|p| p["value"].as_str().unwrap())
        .collect();
    assert_eq!(
        diff_ids,
        [
            "sha256:b65067da7a157d77e91a8ed2e3e4a56ca513cf804159db5fae9a8124a295ebaf",
            "sha256:773bfea4bc6ac86c089dc646fd9765be805c162e841092f4b48fae13cb48b099",
            "sha256:2c0b6bcbc6b2e143feb3bf5a19f49c8a84b5760483642906ef7907aeddcd2022",
            "sha256:0e7890431bc821fa451ac395fd55bed9a385886a6d384f82384a5fbd515383c4",
        ],
        "the demo image changed: make tests/fixtures/foreign-sboms again (its README says how)"
    );
    let ours = write(dir.path(), "gpubom.cdx.json", &ours);
    // What only gpubom finds: the bare CUDA runtime nobody installed, and the models.
    let only_gpubom = [
        "native-library /opt/app/lib/libcudart.so.12",
        "model /models/malicious_checkpoint.pt",
        "model /models/model.onnx",
        "model /models/state_dict.pt",
    ];
    let listed = |report: &Value, change: &str| -> Vec<String> {
        report["components"][change]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                format!(
                    "{} {}",
                    c["kind"].as_str().unwrap(),
                    c["path"].as_str().unwrap()
                )
            })
            .collect()
    };
    // (Not image-reference-unpinned: gpubom's side is named example.com/gpubom/demo:1.0,
    // and neither Syft nor Trivy says its name for the archive is a reference.)
    let image_rules = [
        "image-runs-as-root",
        "jupyter-port-exposed",
        "ssh-port-exposed",
        "missing-source-labels",
    ];
    for tool in ["syft", "trivy"] {
        let theirs = root
            .join(format!("tests/fixtures/foreign-sboms/demo.{tool}.cdx.json"))
            .display()
            .to_string();
        for (old, new, gained) in [(&theirs, &ours, "added"), (&ours, &theirs, "removed")] {
            let report = diff_json(dir.path(), &[old, new]);
            assert_eq!(listed(&report, gained), only_gpubom, "{tool}: {report:#}");
            for change in ["added", "removed", "upgraded", "downgraded", "changed"] {
                if change != gained {
                    assert_eq!(report["components"][change], json!([]), "{tool} {change}");
                }
            }
            // No fact one side did not record is news: root, SSH and Jupyter are not compared.
            let findings = &report["findings"];
            assert_eq!(rules(&findings["not_compared"]), image_rules, "{tool}");
            // Only the models' findings come or go, with the models; none both ways.
            let (with_models, without) = match gained {
                "added" => ("new", "resolved"),
                _ => ("resolved", "new"),
            };
            let fired = rules(&findings[with_models]);
            assert!(
                fired.len() == 4
                    && fired
                        .iter()
                        .all(|r| ["unsafe-pickle", "model-hash-unverified"].contains(r)),
                "{tool} {with_models}: {fired:?}"
            );
            assert_eq!(findings[without], json!([]), "{tool} {without}");
            let facts = &report["image"]["not_compared"][0];
            assert_eq!(facts["facts"], json!(["user", "ports"]), "{tool}");
            assert!(
                !report.to_string().contains("\"user\":{"),
                "{tool}: no user change"
            );
        }
    }
}
