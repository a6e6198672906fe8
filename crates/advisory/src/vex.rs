//! VEX: an organisation's statements that a vulnerability does not affect a
//! product (or is fixed in it), so the finding is suppressed and the
//! justification kept. Read from OpenVEX documents and from CycloneDX
//! documents with a `vulnerabilities[].analysis`.

use crate::purl_base;
use gpubom_inventory::file::read_regular_bytes;
use gpubom_inventory::VexAnalysis;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The largest VEX document read (64 MiB): room for a statement of a few hundred bytes about
/// each of the 100,000 components an image may have.
pub const MAX_VEX_FILE_BYTES: u64 = 64 << 20;

/// One statement: a vulnerability, the products (purls) it is about, and the verdict.
#[derive(Debug, Clone)]
pub(crate) struct Statement {
    vulnerability: String,
    products: Vec<String>,
    analysis: VexAnalysis,
}

/// The statements of every VEX document given.
#[derive(Debug, Default)]
pub struct Vex {
    statements: Vec<Statement>,
}

impl Vex {
    pub fn load(files: &[PathBuf]) -> Result<Vex, String> {
        let mut statements = Vec::new();
        for file in files {
            let text = read_regular_bytes(file, MAX_VEX_FILE_BYTES)
                .map_err(|e| e.describe(file, "a VEX document", MAX_VEX_FILE_BYTES))?;
            statements.extend(Vex::parse(&text, file)?.statements);
        }
        Ok(Vex { statements })
    }

    /// The statements of one document, `text`, read from `file` (named in errors and in
    /// each statement's source).
    pub fn parse(text: &[u8], file: &Path) -> Result<Vex, String> {
        let doc: Value = serde_json::from_slice(text)
            .map_err(|e| format!("{}: not JSON: {e}", file.display()))?;
        let statements = if doc.get("statements").is_some() {
            openvex(&doc, file)
        } else if doc["bomFormat"] == "CycloneDX" {
            cyclonedx(&doc, file)
        } else {
            Err(
                "neither an OpenVEX document (statements) nor CycloneDX VEX (vulnerabilities)"
                    .into(),
            )
        }
        .map_err(|why| format!("{}: {why}", file.display()))?;
        Ok(Vex { statements })
    }

    /// Each statement's vulnerability and products.
    pub(crate) fn named(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.statements
            .iter()
            .map(|s| (s.vulnerability.as_str(), s.products.as_slice()))
    }

    /// The statement about `names` (an advisory's id and aliases) for the
    /// component whose purl is `purl`, if there is one.
    pub(crate) fn about(&self, names: &dyn Fn(&str) -> bool, purl: &str) -> Option<&VexAnalysis> {
        let base = purl_base(purl);
        self.statements
            .iter()
            .find(|s| {
                names(&s.vulnerability)
                    && s.products
                        .iter()
                        .any(|p| p == purl || purl_base(p) == base && !p.contains('@'))
            })
            .map(|s| &s.analysis)
    }
}

/// Whether a VEX status takes a finding away.
pub(crate) fn suppresses(analysis: &VexAnalysis) -> bool {
    matches!(analysis.status.as_str(), "not_affected" | "fixed")
}

fn text(value: &Value) -> Option<String> {
    value.as_str().map(str::to_owned)
}

fn openvex(doc: &Value, file: &Path) -> Result<Vec<Statement>, String> {
    let statements = doc["statements"]
        .as_array()
        .ok_or("statements is not a list")?;
    let mut out = Vec::new();
    for statement in statements {
        let vulnerability = text(&statement["vulnerability"]["name"])
            .or_else(|| text(&statement["vulnerability"]))
            .ok_or("a statement names no vulnerability")?;
        let products = statement["products"]
            .as_array()
            .ok_or_else(|| format!("the statement about {vulnerability} names no products"))?
            .iter()
            .filter_map(|p| text(&p["@id"]).or_else(|| text(p)))
            .collect();
        let status = text(&statement["status"])
            .ok_or_else(|| format!("the statement about {vulnerability} has no status"))?;
        let justification = text(&statement["justification"])
            .into_iter()
            .chain(text(&statement["impact_statement"]))
            .collect::<Vec<_>>();
        out.push(Statement {
            vulnerability,
            products,
            analysis: VexAnalysis {
                status,
                justification: (!justification.is_empty()).then(|| justification.join(": ")),
                source: file.display().to_string(),
            },
        });
    }
    Ok(out)
}

fn cyclonedx(doc: &Value, file: &Path) -> Result<Vec<Statement>, String> {
    let vulnerabilities = doc["vulnerabilities"]
        .as_array()
        .ok_or("a CycloneDX document without vulnerabilities is no VEX")?;
    let mut out = Vec::new();
    for v in vulnerabilities {
        let Some(state) = text(&v["analysis"]["state"]) else {
            continue;
        };
        let vulnerability = text(&v["id"]).ok_or("a vulnerability without an id")?;
        // CycloneDX's states, in OpenVEX's words.
        let status = match state.as_str() {
            "not_affected" | "false_positive" => "not_affected",
            "resolved" | "resolved_with_pedigree" => "fixed",
            "exploitable" => "affected",
            _ => "under_investigation",
        };
        let justification = [&v["analysis"]["justification"], &v["analysis"]["detail"]]
            .into_iter()
            .filter_map(text)
            .collect::<Vec<_>>();
        out.push(Statement {
            vulnerability,
            products: v["affects"]
                .as_array()
                .map(|a| a.iter().filter_map(|t| text(&t["ref"])).collect())
                .unwrap_or_default(),
            analysis: VexAnalysis {
                status: status.into(),
                justification: (!justification.is_empty()).then(|| justification.join(": ")),
                source: file.display().to_string(),
            },
        });
    }
    Ok(out)
}
