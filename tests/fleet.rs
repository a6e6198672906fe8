//! The fleet-scale Kubernetes Job in docs/examples/kubernetes is checked
//! against the Kubernetes API schemas (kubernetes-validate, strict), so the
//! documented manifest is one a cluster accepts.

mod common;

use gpubom_testkit::real;
use std::path::Path;

const JOB: &str = "docs/examples/kubernetes/sbom-job.yaml";
const VALIDATOR: &str = "kubernetes-validate==1.37.0";

/// `kubernetes-validate --strict` on `manifest` against Kubernetes 1.33; `None` when it cannot run.
fn validate(test: &str, manifest: &Path) -> Option<std::process::Output> {
    let mut python = match real::python_with(&[VALIDATOR]) {
        Ok(python) => python,
        Err(why) => {
            real::skip(test, &why);
            return None;
        }
    };
    let out = python
        .args(["-m", "kubernetes_validate", "--strict", "-k", "1.33.0"])
        .arg(manifest)
        .output()
        .expect("run kubernetes-validate");
    Some(out)
}

#[test]
fn the_fleet_job_is_a_valid_kubernetes_manifest() {
    let test = "the_fleet_job_is_a_valid_kubernetes_manifest";
    let job = Path::new(env!("CARGO_MANIFEST_DIR")).join(JOB);
    let Some(out) = validate(test, &job) else {
        return;
    };
    let report =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{report}");
    assert!(
        report.contains("passed for resource job/gpubom-fleet-sbom"),
        "{report}"
    );

    // The validator is strict: a misspelt field is refused (so the check above can fail).
    let dir = common::tmp();
    let broken = dir.path().join("broken.yaml");
    let text = std::fs::read_to_string(&job).unwrap();
    std::fs::write(&broken, text.replace("completionMode:", "completionMod:")).unwrap();
    let out = validate(test, &broken).expect("ran once already");
    assert!(!out.status.success(), "a misspelt field passed");
}

#[test]
fn the_fleet_job_runs_one_pod_per_listed_image() {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(JOB)).unwrap();
    let listed = text
        .split("images.txt: |\n")
        .nth(1)
        .unwrap()
        .lines()
        .take_while(|l| l.starts_with("    "))
        .count();
    let completions: usize = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("completions: "))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        completions, listed,
        "completions must equal the number of images listed"
    );
    assert!(text.contains("completionMode: Indexed"));
    assert!(text.contains("gpubom attach \"$ref\""));
}
