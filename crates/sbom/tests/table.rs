//! The table view, as a snapshot: what a developer reads before pushing fits
//! a 100-column terminal (long paths shortened in the middle, the SBOM keeping
//! them whole), and models are listed under their own headings, by their path.

use gpubom_inventory::{props, Component, ComponentKind, Inventory, LayerRef, Location, Subject};
use gpubom_sbom::{render, Format};

/// Synthetic: a package found at a deep path, a wheel, and a model whose
/// verdict has a long reason.
fn inventory() -> Inventory {
    let at = |path: &str, layer: usize| Location {
        path: path.to_string(),
        layer: Some(LayerRef { index: layer }),
    };
    let deep = "/usr/local/lib/python3.11/site-packages/nvidia/cuda_runtime/lib/\
                libcudart_with_a_very_long_name_to_show_shortening.so.12";
    let cudart = Component {
        kind: ComponentKind::NativeLibrary,
        name: "cuda-runtime".into(),
        version: Some("12.1.105".into()),
        locations: vec![at(deep, 1), at("/opt/app/lib/libcudart.so.12", 2)],
        layer: Some(LayerRef { index: 1 }),
        properties: [(props::NVIDIA_FAMILY.to_string(), "cuda-runtime".to_string())].into(),
        ..Component::default()
    };
    let six = Component {
        kind: ComponentKind::Python,
        name: "six".into(),
        version: Some("1.16.0".into()),
        locations: vec![at(
            "/usr/local/lib/python3.11/site-packages/six-1.16.0.dist-info",
            1,
        )],
        layer: Some(LayerRef { index: 1 }),
        ..Component::default()
    };
    let model = Component {
        kind: ComponentKind::Model,
        name: "malicious_checkpoint.pt".into(),
        locations: vec![at("/models/malicious_checkpoint.pt", 3)],
        layer: Some(LayerRef { index: 3 }),
        properties: [
            (props::MODEL_FORMAT, "pytorch"),
            (props::MODEL_VERDICT, "unsafe"),
            (
                props::MODEL_VERDICT_REASON,
                "imports os.system, which runs a command when the pickle is loaded",
            ),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .into(),
        ..Component::default()
    };
    Inventory {
        subject: Subject {
            kind: "docker".into(),
            location: "app:dev".into(),
            name: Some("app".into()),
            tag: Some("dev".into()),
            ..Subject::default()
        },
        components: vec![cudart, six, model],
        ..Inventory::default()
    }
}

const EXPECTED: &str = "\
Subject:   app:dev (docker)

NVIDIA stack (1)
NAME          VERSION   TYPE          EVIDENCE  LOCATION
cuda-runtime  12.1.105  cuda-runtime  -         /usr/local/l…to_show_shortening.so.12 (+1) [layer 1]

Models (1)
FORMAT   VERDICT  REASON                                   LOCATION
pytorch  UNSAFE   imports os.s… when the pickle is loaded  /models/malicious_checkpoint.pt [layer 3]

Packages (1)
NAME  VERSION  TYPE    EVIDENCE  LOCATION
six   1.16.0   python  wheel     /usr/local/lib/pyt….11/site-packages/six-1.16.0.dist-info [layer 1]

3 components: 0 deb, 1 python, 1 native, 1 models
";

#[test]
fn the_table_fits_100_columns_and_models_have_their_own_headings() {
    let inventory = inventory();
    let table = String::from_utf8(render(&inventory, Format::Table, "0").unwrap()).unwrap();
    for line in table.lines() {
        assert!(
            line.chars().count() <= 100,
            "{} columns: {line}",
            line.chars().count()
        );
    }
    assert_eq!(table, EXPECTED, "\n{table}");
    // The SBOM keeps the whole path.
    let json = String::from_utf8(render(&inventory, Format::CycloneDxJson, "0").unwrap()).unwrap();
    assert!(json.contains("libcudart_with_a_very_long_name_to_show_shortening.so.12"));
}
