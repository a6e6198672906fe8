//! Model files in images and standalone: TensorRT engines, ONNX, PyTorch
//! checkpoints and archives, pickles, NumPy arrays, safetensors.
//!
//! Every regular file is a candidate, whatever its name: the first bytes
//! decide (content before name), and a file whose first bytes say "not a
//! model" is dropped without being read further or hashed. A model is
//! buffered in memory up to [`IN_MEMORY`] and spilled to an anonymous
//! temporary file beyond, because zips and protobufs need random access;
//! nothing is unpacked or loaded.
//!
//! A model file that an installed package owns (its RECORD or dpkg `.list`
//! lists it) is that package's content — onnx's and numpy's test data, for
//! instance — not the image's model inventory: it is counted on the package
//! and reported on its own only when it is `unsafe` (a package that ships a
//! code-execution primitive in a pickle is news; one whose test pickles import
//! its own classes is not).

use super::{display_path, Cataloger, Claim, Context, Found, StreamSink};
use crate::facts::{Fact, ModelFact};
use crate::merge::MergedView;
use gpubom_formats::model::globals::Risk;
use gpubom_formats::model::{
    analyze, sniff, Limits, ModelFormat, ModelReport, Sniffed, Verdict, SNIFF_BYTES,
    TRT_VERSION_CONFIDENCE,
};
use gpubom_inventory::{
    props, Component, ComponentKind, Evidence, Hash, LayerRef, Location, Technique,
};
use std::collections::{BTreeMap, HashMap};
use std::io::{Cursor, Seek, SeekFrom, Write};

/// Larger candidates (zips are common: wheels, jars) go to a temporary file,
/// so memory stays flat however many layers are analysed at once.
const IN_MEMORY: usize = 16 << 20;

pub(crate) struct ModelCataloger;

impl Cataloger for ModelCataloger {
    fn claim(&self, _path: &str, size: u64) -> Option<Claim> {
        (size >= 4).then_some(Claim::Stream)
    }

    fn open_stream(&self, path: &str, size: u64) -> Option<Box<dyn StreamSink>> {
        Some(Box::new(ModelSink {
            path: path.to_string(),
            size,
            sniffed: None,
            decided: false,
            memory: Vec::new(),
            spill: None,
            error: None,
        }))
    }

    fn resolve(&self, view: &MergedView, context: &Context, found: &mut Found) {
        // Per owning package: (files, files that are not safe but not unsafe either).
        let mut owned_counts: BTreeMap<usize, (usize, usize)> = BTreeMap::new();
        for visible in view.surviving() {
            let Fact::Model(model) = visible.fact else {
                continue;
            };
            let owner = found.owners.get(visible.path).map(|o| o.component);
            if let Some(owner) = owner {
                let counts = owned_counts.entry(owner).or_default();
                counts.0 += 1;
                match model.report.verdict {
                    Verdict::Unsafe => {}
                    Verdict::Safe => continue,
                    // Test data that imports the package's own classes: as
                    // trusted as the package, counted rather than listed.
                    Verdict::Suspicious | Verdict::Unknown => {
                        counts.1 += 1;
                        continue;
                    }
                }
            }
            let sha256 = visible.sha256.unwrap_or_default();
            let mut c = component(visible.path, visible.layer, model, sha256, context);
            if let Some(package) = owner.and_then(|i| found.components.get(i)) {
                let id = match &package.version {
                    Some(v) => format!("{}@{v}", package.name),
                    None => package.name.clone(),
                };
                c.properties.insert(props::MODEL_OWNER.into(), id);
            }
            found.components.push(c);
        }
        for (owner, (files, needing_trust)) in owned_counts {
            if let Some(package) = found.components.get_mut(owner) {
                package
                    .properties
                    .insert(props::PACKAGE_MODEL_FILES.into(), files.to_string());
                if needing_trust > 0 {
                    package.properties.insert(
                        props::PACKAGE_MODEL_FILES_NEEDING_TRUST.into(),
                        needing_trust.to_string(),
                    );
                }
            }
        }
    }
}

struct ModelSink {
    path: String,
    size: u64,
    sniffed: Option<Sniffed>,
    decided: bool,
    memory: Vec<u8>,
    spill: Option<std::fs::File>,
    error: Option<String>,
}

impl StreamSink for ModelSink {
    fn feed(&mut self, chunk: &[u8]) {
        if self.decided && self.sniffed.is_none() {
            return;
        }
        if let Some(file) = &mut self.spill {
            if let Err(e) = file.write_all(chunk) {
                self.error
                    .get_or_insert(format!("cannot spill to a temporary file: {e}"));
            }
            return;
        }
        self.memory.extend_from_slice(chunk);
        if !self.decided
            && (self.memory.len() >= SNIFF_BYTES || self.memory.len() as u64 >= self.size)
        {
            self.decide();
        }
        if self.memory.len() > IN_MEMORY && self.sniffed.is_some() {
            match tempfile::tempfile().and_then(|mut f| f.write_all(&self.memory).map(|()| f)) {
                Ok(f) => {
                    self.spill = Some(f);
                    self.memory = Vec::new();
                }
                Err(e) => self.error = Some(format!("cannot spill to a temporary file: {e}")),
            }
        }
    }

    fn wants_more(&self) -> bool {
        !self.decided || self.sniffed.is_some()
    }

    fn finish(mut self: Box<Self>, _sha256: &str) -> Vec<Fact> {
        if !self.decided {
            self.decide();
        }
        let Some(sniffed) = self.sniffed else {
            return Vec::new();
        };
        let limits = Limits::default();
        let unreadable = |why: String| {
            let format = match sniffed {
                Sniffed::Format(f) => f,
                Sniffed::Zip => ModelFormat::PyTorchZip,
            };
            Some(ModelReport::unreadable(format, why))
        };
        let report = match (self.error.take(), self.spill.take()) {
            (Some(why), _) => unreadable(why),
            (None, Some(mut file)) => match file.seek(SeekFrom::Start(0)) {
                Ok(_) => analyze(sniffed, &mut file, self.size, &limits),
                Err(e) => unreadable(e.to_string()),
            },
            (None, None) => {
                let size = self.memory.len() as u64;
                analyze(sniffed, &mut Cursor::new(&self.memory), size, &limits)
            }
        };
        report
            .map(|report| {
                Fact::Model(Box::new(ModelFact {
                    report,
                    size: self.size,
                }))
            })
            .into_iter()
            .collect()
    }
}

impl ModelSink {
    fn decide(&mut self) {
        self.decided = true;
        let whole = self.memory.len() as u64 >= self.size;
        self.sniffed = sniff(&self.path, &self.memory, whole);
        if self.sniffed.is_none() {
            self.memory = Vec::new();
        } else {
            // Grown once to what will be held, not doubled past it.
            let held = (self.size as usize).min(IN_MEMORY + 1);
            self.memory
                .reserve_exact(held.saturating_sub(self.memory.len()));
        }
    }
}

fn component(
    path: &str,
    layer: usize,
    model: &ModelFact,
    sha256: &str,
    context: &Context,
) -> Component {
    let report = &model.report;
    let name = path.rsplit('/').next().unwrap_or(path).to_string();
    let producer = match (&report.producer, &report.producer_version) {
        (Some(p), Some(v)) => Some(format!("{p} {v}")),
        (Some(p), None) => Some(p.clone()),
        _ => None,
    };
    let mut properties = BTreeMap::new();
    add_verdict_properties(report, model.size, &mut properties);
    add_format_properties(report, &mut properties);
    if let Some(expected) = context.expected_sha256 {
        add_hash_check(expected, path, &name, sha256, &mut properties);
    }
    if let Some(p) = &producer {
        properties.insert(props::MODEL_PRODUCER.into(), p.clone());
    }
    let layer = Some(LayerRef { index: layer });
    Component {
        kind: if report.format.is_data() {
            ComponentKind::Data
        } else {
            ComponentKind::Model
        },
        name,
        version: None,
        purl: None,
        description: Some(match &producer {
            Some(p) => format!("{} model, produced by {p}", report.format.framework()),
            None => format!("{} model", report.format.framework()),
        }),
        hashes: vec![Hash {
            alg: "SHA-256".into(),
            hex: sha256.to_string(),
        }],
        locations: vec![Location {
            path: display_path(path),
            layer,
        }],
        layer,
        evidence: vec![Evidence {
            technique: Technique::BinaryAnalysis,
            confidence: if report.verdict == Verdict::Unknown {
                0.5
            } else {
                0.9
            },
            source: format!("{}: {} header", display_path(path), report.format.as_str()),
            version: None,
        }],
        properties,
        ..Default::default()
    }
}

type Properties = BTreeMap<String, String>;

/// What the file is and whether loading it can run code: what the gate reads.
fn add_verdict_properties(report: &ModelReport, size: u64, properties: &mut Properties) {
    let mut set = |k: &str, v: String| {
        properties.insert(k.to_string(), v);
    };
    set(props::MODEL_FORMAT, report.format.as_str().to_string());
    set(props::MODEL_VERDICT, report.verdict.as_str().to_string());
    set(
        props::MODEL_FRAMEWORK,
        report.format.framework().to_string(),
    );
    set(props::MODEL_SIZE, size.to_string());
    if !report.reasons.is_empty() {
        set(props::MODEL_VERDICT_REASON, report.reasons.join("; "));
    }
    if !report.globals.is_empty() {
        set(props::MODEL_GLOBALS, report.globals.join(","));
    }
    let primitives = report.flagged_of(Risk::Primitive);
    if !primitives.is_empty() {
        set(props::MODEL_UNSAFE_GLOBALS, primitives.join(","));
    }
    let mut untrusted = report.flagged_of(Risk::Unlisted);
    untrusted.extend(report.flagged_of(Risk::ArchiveCode));
    if !untrusted.is_empty() {
        set(props::MODEL_UNTRUSTED_GLOBALS, untrusted.join(","));
    }
    if report.numpy_object_array {
        set(props::MODEL_NUMPY_OBJECT_ARRAY, "true".into());
    }
}

/// What the format's own headers say: TensorRT's builder, ONNX's graph, safetensors' tensors.
fn add_format_properties(report: &ModelReport, properties: &mut Properties) {
    let mut set = |k: &str, v: String| {
        properties.insert(k.to_string(), v);
    };
    if let Some(v) = &report.trt_version {
        set(props::MODEL_TRT_VERSION, v.clone());
        set(
            props::MODEL_TRT_VERSION_CONFIDENCE,
            TRT_VERSION_CONFIDENCE.to_string(),
        );
    }
    if let Some(fields) = &report.ultralytics {
        set(props::MODEL_WRAPPER, "ultralytics".into());
        for (key, value) in fields {
            set(
                &format!("{}{key}", props::MODEL_ULTRALYTICS_PREFIX),
                value.clone(),
            );
        }
    }
    if let Some(tensors) = &report.safetensors {
        set(props::MODEL_TENSOR_COUNT, tensors.count.to_string());
        let dtypes: Vec<String> = tensors
            .dtypes
            .iter()
            .map(|(d, n)| format!("{d}:{n}"))
            .collect();
        set(props::MODEL_DTYPES, dtypes.join(","));
    }
    if let Some(onnx) = &report.onnx {
        if let Some(v) = onnx.ir_version {
            set(props::MODEL_ONNX_IR_VERSION, v.to_string());
        }
        let opsets: Vec<String> = onnx
            .opsets
            .iter()
            .map(|(d, v)| format!("{}:{v}", if d.is_empty() { "ai.onnx" } else { d }))
            .collect();
        if !opsets.is_empty() {
            set(props::MODEL_ONNX_OPSETS, opsets.join(","));
        }
        if let Some(g) = &onnx.graph_name {
            set(props::MODEL_ONNX_GRAPH, g.clone());
        }
        for (k, v) in onnx.metadata_props.iter().take(32) {
            set(
                &format!("{}{k}", props::MODEL_ONNX_METADATA_PREFIX),
                v.clone(),
            );
        }
        if !onnx.external_data.is_empty() {
            set(
                props::MODEL_ONNX_EXTERNAL_DATA,
                onnx.external_data.join(","),
            );
        }
        set(
            props::MODEL_EXTERNAL_DATA_TRAVERSAL,
            (!onnx.traversal.is_empty()).to_string(),
        );
    }
}

/// Whether the file is the one `--expect-sha256` named, by path or by file name.
fn add_hash_check(
    expected: &HashMap<String, String>,
    path: &str,
    name: &str,
    sha256: &str,
    properties: &mut Properties,
) {
    let wanted = expected
        .get(path)
        .or_else(|| expected.get(&format!("/{path}")))
        .or_else(|| expected.get(name));
    properties.insert(
        props::MODEL_HASH_VERIFIED.into(),
        wanted.is_some_and(|w| w == sha256).to_string(),
    );
    if let Some(w) = wanted.filter(|w| *w != sha256) {
        properties.insert(props::MODEL_EXPECTED_SHA256.into(), w.clone());
    }
}
