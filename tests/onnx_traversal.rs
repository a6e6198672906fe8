//! ONNX external data wherever the ONNX loader resolves it: node attribute
//! tensors (`Constant`), subgraphs (`If`, `Loop` bodies), sparse initializers,
//! model-local functions. The models are written at test time by the real onnx
//! package (`onnx.helper`, `onnx.save`); each traversal location must be reported.

mod common;

use common::*;
use gpubom_formats::model::onnx;
use std::path::Path;

/// Writes the models into `dir`. No tensor carries `raw_data`, so `onnx.save`
/// writes no external file, wherever its location points. The pure-Python
/// protobuf is used because upb refuses to build messages nested as deep as
/// `deep_if.onnx`; the encoding is the same.
const MAKE_MODELS: &str = r#"
import os, sys
import onnx
from onnx import TensorProto, helper

out = sys.argv[1]

def external(name, location, dims=(2,)):
    t = TensorProto()
    t.name = name
    t.data_type = TensorProto.FLOAT
    t.dims.extend(dims)
    t.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", str(4 * dims[0]))):
        e = t.external_data.add()
        e.key, e.value = key, value
    return t

def model(graph, functions=()):
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], functions=list(functions))
    m.producer_name = "gpubom-tests"
    return m

def save(m, name):
    # onnx.save writes the raw_data of external tensors to their location: none has any.
    from onnx.external_data_helper import _get_all_tensors
    for t in _get_all_tensors(m):
        assert not t.HasField("raw_data")
    onnx.save(m, os.path.join(out, name), save_as_external_data=False)

y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])

# A Constant node whose value tensor lives at ../../etc/passwd.
const = helper.make_node("Constant", [], ["y"], value=external("c", "../../etc/passwd"))
save(model(helper.make_graph([const], "constant", [], [y])), "constant_traversal.onnx")

# An If whose then_branch has an initializer at /etc/shadow.
then_g = helper.make_graph(
    [helper.make_node("Identity", ["w"], ["t"])], "then", [],
    [helper.make_tensor_value_info("t", TensorProto.FLOAT, [2])],
    initializer=[external("w", "/etc/shadow")])
else_g = helper.make_graph(
    [helper.make_node("Identity", ["x"], ["e"])], "else", [],
    [helper.make_tensor_value_info("e", TensorProto.FLOAT, [2])])
cond = helper.make_tensor_value_info("cond", TensorProto.BOOL, [])
if_node = helper.make_node("If", ["cond"], ["y"], then_branch=then_g, else_branch=else_g)
save(model(helper.make_graph([if_node], "branch", [cond, x], [y])), "if_traversal.onnx")

# A sparse initializer whose values live at ../x (its indices at a benign name).
values = external("sv", "../x", dims=(2,))
indices = external("si", "indices.bin", dims=(2,))
indices.data_type = TensorProto.INT64
sparse = helper.make_sparse_tensor(values, indices, [4])
g = helper.make_graph([helper.make_node("Identity", ["sv"], ["y"])], "sparse", [], [y],
                      sparse_initializer=[sparse])
save(model(g), "sparse_traversal.onnx")

# Windows-style traversal: a Loop body holding a Constant at ..\..\secret.bin, a node
# attribute list of tensors (AttributeProto.tensors) with C:\weights.bin, and a
# model-local function whose Constant lives at \\server\share\w.bin.
body = helper.make_graph(
    [helper.make_node("Constant", [], ["b"], value=external("bc", "..\\..\\secret.bin"))],
    "body", [], [helper.make_tensor_value_info("b", TensorProto.FLOAT, [2])])
loop = helper.make_node("Loop", ["", ""], ["l"], body=body)
custom = helper.make_node("Pack", [], ["p"], domain="gpubom.test",
                          weights=[external("t0", "ok.bin"), external("t1", "C:\\weights.bin")])
fn = helper.make_function(
    "gpubom.test", "Fn", [], ["f"],
    [helper.make_node("Constant", [], ["f"], value=external("fc", "\\\\server\\share\\w.bin"))],
    [helper.make_opsetid("", 17)])
call = helper.make_node("Fn", [], ["y"], domain="gpubom.test")
m = model(helper.make_graph([loop, custom, call], "windows", [], [y]), functions=[fn])
m.opset_import.append(helper.make_opsetid("gpubom.test", 1))
save(m, "windows_traversal.onnx")

# A benign model: one initializer in weights.bin beside the model.
g = helper.make_graph([helper.make_node("Identity", ["w"], ["y"])], "benign", [], [y],
                      initializer=[external("w", "weights.bin")])
save(model(g), "benign_external.onnx")

# Ifs nested 70 deep: the innermost then_branch holds /etc/deep, past the walk's cap.
inner = helper.make_graph([helper.make_node("Identity", ["d"], ["o"])], "level70", [],
                          [helper.make_tensor_value_info("o", TensorProto.FLOAT, [2])],
                          initializer=[external("d", "/etc/deep")])
for level in range(69, -1, -1):
    node = helper.make_node("If", ["cond"], ["o"], then_branch=inner, else_branch=else_g)
    inner = helper.make_graph([node], f"level{level}", [cond] if level == 0 else [],
                              [helper.make_tensor_value_info("o", TensorProto.FLOAT, [2])],
                              initializer=[external(f"w{level}", "../top.bin")] if level == 0 else [])
save(model(inner), "deep_if.onnx")
print("onnx traversal fixtures written")
"#;

fn fixtures(test: &str) -> Option<tempfile::TempDir> {
    python_fixtures(test, &["onnx==1.23.2"], |python| {
        python
            .env("PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION", "python")
            .arg("-c")
            .arg(MAKE_MODELS);
    })
}

fn facts(dir: &Path, name: &str) -> onnx::OnnxFacts {
    let bytes = std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    onnx::parse_partial(&mut std::io::Cursor::new(&bytes), bytes.len() as u64)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The one model component of a scan of `path`.
fn scanned(path: &Path) -> serde_json::Value {
    let bom = scan_json(&path.display().to_string());
    let models: Vec<&serde_json::Value> = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["type"] == "machine-learning-model")
        .collect();
    assert_eq!(models.len(), 1, "{bom:#}");
    models[0].clone()
}

#[test]
fn traversal_in_attributes_subgraphs_sparse_and_functions() {
    let test = "traversal_in_attributes_subgraphs_sparse_and_functions";
    let Some(holder) = fixtures(test) else { return };
    let dir = holder.path();
    let cases: [(&str, &[&str], &[&str]); 4] = [
        (
            "constant_traversal.onnx",
            &["../../etc/passwd"],
            &["../../etc/passwd"],
        ),
        ("if_traversal.onnx", &["/etc/shadow"], &["/etc/shadow"]),
        ("sparse_traversal.onnx", &["../x", "indices.bin"], &["../x"]),
        (
            "windows_traversal.onnx",
            &[
                "..\\..\\secret.bin",
                "ok.bin",
                "C:\\weights.bin",
                "\\\\server\\share\\w.bin",
            ],
            &[
                "..\\..\\secret.bin",
                "C:\\weights.bin",
                "\\\\server\\share\\w.bin",
            ],
        ),
    ];
    for (name, locations, traversal) in cases {
        let f = facts(dir, name);
        assert_eq!(f.external_data, locations, "{name}");
        assert_eq!(f.traversal, traversal, "{name}");
        assert_eq!(f.incomplete, None, "{name}");

        let m = scanned(&dir.join(name));
        assert_eq!(
            property(&m, "gpubom:model:onnx:external_data_traversal"),
            Some("true"),
            "{name}"
        );
        assert_eq!(
            property(&m, "gpubom:model:onnx:external_data"),
            Some(locations.join(",").as_str()),
            "{name}"
        );
    }
}

#[test]
fn benign_external_data_is_not_traversal() {
    let test = "benign_external_data_is_not_traversal";
    let Some(holder) = fixtures(test) else { return };
    let dir = holder.path();
    let f = facts(dir, "benign_external.onnx");
    assert_eq!(f.external_data, ["weights.bin"]);
    assert!(f.traversal.is_empty());
    let m = scanned(&dir.join("benign_external.onnx"));
    assert_eq!(property(&m, "gpubom:model:verdict"), Some("safe"));
    assert_eq!(
        property(&m, "gpubom:model:onnx:external_data_traversal"),
        Some("false")
    );
    assert_eq!(
        property(&m, "gpubom:model:onnx:external_data"),
        Some("weights.bin")
    );
}

#[test]
fn subgraphs_past_the_nesting_cap_make_the_report_unknown() {
    let test = "subgraphs_past_the_nesting_cap_make_the_report_unknown";
    let Some(holder) = fixtures(test) else { return };
    let dir = holder.path();
    // 70 nested Ifs: the innermost initializer (/etc/deep) is past the cap of 64.
    let f = facts(dir, "deep_if.onnx");
    assert_eq!(f.incomplete, Some(onnx::Incomplete::NestedTooDeep), "{f:?}");
    assert_eq!(f.traversal, ["../top.bin"]);
    let m = scanned(&dir.join("deep_if.onnx"));
    assert_eq!(property(&m, "gpubom:model:verdict"), Some("unknown"));
    let why = property(&m, "gpubom:model:verdict_reason").unwrap();
    assert!(why.contains("nested deeper than 64"), "{why}");
    // Traversal found above the cap still reaches the gate.
    assert_eq!(
        property(&m, "gpubom:model:onnx:external_data_traversal"),
        Some("true")
    );
}
