//! `gpubom policy test`: fixtures with expected decisions, like `opa test`
//! or `conftest verify`.
//!
//! A fixture is a `*.test.json` file:
//! ```json
//! { "name": "root image with ssh",
//!   "inventory": { … an Inventory as JSON (gpubom's own model) … },
//!   "config": "optional TOML text",
//!   "expect": { "fires": ["image-runs-as-root"], "silent": ["jupyter-port-exposed"] } }
//! ```
//! Every rule in `fires` must produce a finding; none in `silent` may.

use crate::{evaluate, Config, Error, Pack};
use gpubom_inventory::Inventory;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    name: String,
    inventory: Inventory,
    #[serde(default)]
    config: Option<String>,
    expect: Expect,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    #[serde(default)]
    fires: Vec<String>,
    #[serde(default)]
    silent: Vec<String>,
}

#[derive(Debug, Default)]
pub struct TestReport {
    pub passed: Vec<String>,
    /// (fixture name, what went wrong)
    pub failed: Vec<(String, String)>,
}

/// Runs every `*.test.json` under `dir` against `pack`.
pub fn run(pack: &Pack, dir: &Path, today: &str) -> Result<TestReport, Error> {
    let mut files: Vec<PathBuf> = walk(dir)?;
    files.retain(|p| p.to_string_lossy().ends_with(".test.json"));
    files.sort();
    if files.is_empty() {
        return Err(Error::Load(format!(
            "{}: no *.test.json fixtures",
            dir.display()
        )));
    }
    let mut report = TestReport::default();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .map_err(|e| Error::Load(format!("{}: {e}", file.display())))?;
        let fixture: Fixture = serde_json::from_str(&text)
            .map_err(|e| Error::Load(format!("{}: {e}", file.display())))?;
        let config = match &fixture.config {
            Some(toml) => Config::parse(toml, &file.display().to_string()).map_err(Error::Load)?,
            None => Config::default(),
        };
        for rule in fixture.expect.fires.iter().chain(&fixture.expect.silent) {
            if !pack.rules.contains_key(rule) {
                return Err(Error::Load(format!(
                    "{}: expects unknown rule {rule:?}",
                    file.display()
                )));
            }
        }
        let findings = evaluate(pack, &fixture.inventory, &config, today)?;
        let fired: Vec<&str> = findings.iter().map(|f| f.rule.as_str()).collect();
        let mut problems = Vec::new();
        for rule in &fixture.expect.fires {
            if !fired.contains(&rule.as_str()) {
                problems.push(format!("expected {rule} to fire"));
            }
        }
        for rule in &fixture.expect.silent {
            if fired.contains(&rule.as_str()) {
                problems.push(format!("expected {rule} to stay silent"));
            }
        }
        let label = format!("{} ({})", fixture.name, file.display());
        if problems.is_empty() {
            report.passed.push(label);
        } else {
            report.failed.push((label, problems.join("; ")));
        }
    }
    Ok(report)
}

fn walk(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let meta =
        std::fs::metadata(dir).map_err(|e| Error::Load(format!("{}: {e}", dir.display())))?;
    if meta.is_file() {
        return Ok(vec![dir.to_path_buf()]);
    }
    let mut out = Vec::new();
    for entry in
        std::fs::read_dir(dir).map_err(|e| Error::Load(format!("{}: {e}", dir.display())))?
    {
        let path = entry.map_err(|e| Error::Load(e.to_string()))?.path();
        if path.is_dir() {
            out.extend(walk(&path)?);
        } else {
            out.push(path);
        }
    }
    Ok(out)
}
