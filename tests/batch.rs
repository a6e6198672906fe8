//! `gpubom scan --from FILE`: a list of images, one SBOM each and a summary;
//! one image that cannot be scanned costs only its own SBOM. Synthetic images.

mod common;

use common::*;
use gpubom_testkit::image::{ImageSpec, Layer};

fn image(name: &str, version: &str) -> ImageSpec {
    ImageSpec::new(&format!("example.com/synthetic/{name}"), "1").layer(Layer::new().file(
        &format!("{SITE}/synthetic_{name}-{version}.dist-info/METADATA"),
        format!("Metadata-Version: 2.1\nName: synthetic-{name}\nVersion: {version}\n"),
    ))
}

#[test]
fn a_list_of_images_gives_one_sbom_each_and_a_summary_synthetic() {
    let dir = tmp();
    let first = dir.path().join("first");
    image("first", "1.0").write_oci_dir(&first);
    let second = dir.path().join("second.tar");
    image("second", "2.0").write_oci_archive(&second);
    let missing = dir.path().join("missing.tar");
    let list = dir.path().join("images.txt");
    std::fs::write(
        &list,
        format!(
            "# nightly inventory\n{}\n\noci-archive:{}   # the release\n{}\n",
            first.display(),
            second.display(),
            missing.display()
        ),
    )
    .unwrap();
    let out_dir = dir.path().join("sboms");
    let out = run(&[
        "scan",
        "--from",
        list.to_str().unwrap(),
        "--output-dir",
        out_dir.to_str().unwrap(),
        "--jobs",
        "2",
    ]);
    // Not everything was scanned: exit 2, and everything that was is written.
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(
        (&summary["images"], &summary["scanned"], &summary["failed"]),
        (
            &serde_json::json!(3),
            &serde_json::json!(2),
            &serde_json::json!(1)
        )
    );
    let results = summary["results"].as_array().unwrap();
    assert!(results[2]["error"]
        .as_str()
        .unwrap()
        .contains("missing.tar"));
    for (result, package) in results[..2]
        .iter()
        .zip(["synthetic-first@1.0", "synthetic-second@2.0"])
    {
        let sbom = out_dir.join(result["sbom"].as_str().unwrap());
        let bom: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&sbom).unwrap()).unwrap();
        assert_eq!(names_versions(&bom, "pkg:pypi/"), vec![package]);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("2 of 3 image(s) scanned"), "{text}");

    // An empty list is bad input.
    std::fs::write(&list, "# nothing\n").unwrap();
    let out = run(&["scan", "--from", list.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no images listed"),
        "{}",
        stderr(&out)
    );
}
