//! `gpubom policy test`: fixtures with expected decisions, like `opa test`
//! or `conftest verify`.
//!
//! A fixture is a `*.test.json` file. What it checks is either an inventory,
//! written with only the facts the test is about, or a real SBOM file:
//! ```json
//! { "name": "root image with ssh",
//!   "inventory": { "image": { "user": "root", "exposed_ports": ["22/tcp"] } },
//!   "config": "optional .gpubom.toml text",
//!   "today": "2026-06-01",
//!   "expect": { "fires": ["image-runs-as-root"], "silent": ["jupyter-port-exposed"] } }
//!
//! { "name": "the release image", "sbom": "release.cdx.json",
//!   "expect": { "fires": ["cudnn-below-9"] } }
//! ```
//! `sbom` is relative to the fixture; `today` fixes the day waivers are
//! judged on, so a fixture about a waiver does not break when it expires.
//! Every rule in `fires` must produce a finding; none in `silent` may. The
//! format is strict (policies/README.md documents every key): a key that is
//! not one, at any level, and a component property gpubom does not know, fail
//! the fixture with its name, never an expectation that silently cannot hold.
//! Each fixture passes or fails on its own: one that cannot be read or
//! evaluated is a failure with its reason, and the others still run.

use crate::{evaluate, Config, Error, Pack};
use gpubom_inventory::file::{open_regular, read_regular};
use gpubom_inventory::Inventory;
use serde::Deserialize;
use std::collections::hash_map::{Entry, HashMap};
use std::path::{Path, PathBuf};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    name: String,
    #[serde(default)]
    inventory: Option<Inventory>,
    #[serde(default)]
    sbom: Option<PathBuf>,
    #[serde(default)]
    config: Option<String>,
    /// `YYYY-MM-DD`: the day waivers are judged on, instead of the real one.
    #[serde(default)]
    today: Option<String>,
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

impl TestReport {
    /// `PASS name` and `FAIL name: why` a line each, then `N passed, N failed`: what
    /// `gpubom policy test` prints, as Conftest's `verify` does.
    pub fn lines(&self) -> Vec<String> {
        let passed = self.passed.iter().map(|name| format!("PASS {name}"));
        let failed = (self.failed.iter()).map(|(name, why)| format!("FAIL {name}: {why}"));
        let total = format!("{} passed, {} failed", self.passed.len(), self.failed.len());
        passed.chain(failed).chain([total]).collect()
    }
}

/// The largest fixture read (4 MiB): a fixture is a small inventory or the name of an SBOM.
pub const MAX_FIXTURE_BYTES: u64 = 4 << 20;

/// Which policies the fixtures test, and the configuration a fixture without
/// its own `config` gets.
pub struct Policies<'a> {
    pub paths: &'a [PathBuf],
    pub include_default: bool,
    pub config: &'a Config,
}

/// Runs every `*.test.json` under `dir`. `read_sbom` reads an SBOM file, opened once it is
/// known to be a regular file, into an inventory (the SBOM reader lives in another crate).
/// A fixture or SBOM that is not a regular file, or a fixture past [`MAX_FIXTURE_BYTES`],
/// stops the run: it is no test of the policies.
pub fn run(
    policies: &Policies,
    dir: &Path,
    today: &str,
    read_sbom: &dyn Fn(std::fs::File) -> Result<Inventory, String>,
) -> Result<TestReport, Error> {
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
    // Fixtures mostly share a configuration: the pack is loaded once for each.
    let mut packs: HashMap<Option<String>, Pack> = HashMap::new();
    for file in files {
        let label = file.display().to_string();
        let text = read_regular(&file, MAX_FIXTURE_BYTES)
            .map_err(|e| Error::Load(e.describe(&file, "a fixture", MAX_FIXTURE_BYTES)))?;
        let outcome = match serde_json::from_str::<Fixture>(&text) {
            Ok(fixture) => {
                let sbom = fixture.sbom.as_deref().map(|name| open_sbom(&file, name));
                run_one(
                    policies,
                    fixture,
                    sbom.transpose()?,
                    today,
                    read_sbom,
                    &mut packs,
                )
            }
            Err(e) => Err(format!("not a fixture: {e}")),
        };
        match outcome {
            Ok((name, problems)) if problems.is_empty() => {
                report.passed.push(format!("{name} ({label})"))
            }
            Ok((name, problems)) => report
                .failed
                .push((format!("{name} ({label})"), problems.join("; "))),
            Err(why) => report.failed.push((label, why)),
        }
    }
    Ok(report)
}

/// The SBOM a fixture names, beside it, opened if it is a regular file.
fn open_sbom(fixture: &Path, name: &Path) -> Result<(PathBuf, std::fs::File), Error> {
    let path = fixture.parent().unwrap_or(Path::new("")).join(name);
    match open_regular(&path) {
        Ok(opened) => Ok((path, opened)),
        Err(e) => Err(Error::Load(e.describe(&path, "an SBOM", 0))),
    }
}

/// The fixture's name and what it expected that did not happen.
fn run_one(
    policies: &Policies,
    fixture: Fixture,
    sbom: Option<(PathBuf, std::fs::File)>,
    today: &str,
    read_sbom: &dyn Fn(std::fs::File) -> Result<Inventory, String>,
    packs: &mut HashMap<Option<String>, Pack>,
) -> Result<(String, Vec<String>), String> {
    if fixture.expect.fires.is_empty() && fixture.expect.silent.is_empty() {
        return Err("expects nothing: name rules in \"fires\" or \"silent\"".into());
    }
    let today = match &fixture.today {
        Some(day) if gpubom_inventory::time::is_date(day) => day.as_str(),
        Some(day) => {
            return Err(format!(
                "\"today\": {day:?} is not a date; write YYYY-MM-DD"
            ))
        }
        None => today,
    };
    let inventory = match (fixture.inventory, &fixture.sbom) {
        (Some(inventory), None) => {
            known_properties(&inventory)?;
            inventory
        }
        (None, Some(_)) => {
            let (path, opened) = sbom.ok_or("its SBOM was not opened")?;
            read_sbom(opened).map_err(|e| format!("{}: {e}", path.display()))?
        }
        _ => return Err("give either \"inventory\" or \"sbom\", not both or neither".into()),
    };
    let own;
    let config = match &fixture.config {
        Some(toml) => {
            own = Config::parse(toml, "its config")?;
            &own
        }
        None => policies.config,
    };
    let pack = match packs.entry(fixture.config.clone()) {
        Entry::Occupied(loaded) => loaded.into_mut(),
        Entry::Vacant(slot) => slot.insert(
            Pack::load_for(policies.paths, policies.include_default, config)
                .map_err(|e| e.to_string())?,
        ),
    };
    for rule in fixture.expect.fires.iter().chain(&fixture.expect.silent) {
        if !pack.rules.contains_key(rule) {
            return Err(format!("expects unknown rule {rule:?}"));
        }
    }
    let findings = evaluate(pack, &inventory, config, today).map_err(|e| e.to_string())?;
    let fired: Vec<&str> = findings
        .iter()
        .filter(|f| f.waived.is_none())
        .map(|f| f.rule.as_str())
        .collect();
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
    Ok((fixture.name, problems))
}

/// Every component property is one gpubom knows: a misspelt name would
/// leave the fact unset and the fixture testing something else.
fn known_properties(inventory: &Inventory) -> Result<(), String> {
    for component in &inventory.components {
        if let Some(name) = component
            .properties
            .keys()
            .find(|name| !gpubom_inventory::props::COMPONENT.contains(&name.as_str()))
        {
            return Err(format!(
                "component {:?} has property {name:?}, which is not one gpubom knows; \
                 the properties are: {}",
                component.name,
                gpubom_inventory::props::COMPONENT.join(", ")
            ));
        }
    }
    Ok(())
}

/// Policies kept beside their tests: `*.cedar` in the fixture directory or,
/// when that is a `tests` directory, in its parent (`org-policies/tests/`
/// tests `org-policies/`). Nowhere else: a stray `.cedar` file in some parent
/// directory must not join the pack under test.
pub fn policies_beside(fixtures: &Path) -> Vec<PathBuf> {
    let absolute = std::path::absolute(fixtures).unwrap_or_else(|_| fixtures.to_path_buf());
    let dir = if absolute.is_dir() {
        absolute.as_path()
    } else {
        absolute.parent().unwrap_or(Path::new("/"))
    };
    let is_tests = dir.file_name().is_some_and(|n| n == "tests" || n == "test");
    let has_cedar = |d: &Path| {
        std::fs::read_dir(d).is_ok_and(|entries| {
            entries
                .flatten()
                .any(|e| e.path().extension().is_some_and(|x| x == "cedar"))
        })
    };
    let found = [Some(dir), dir.parent().filter(|_| is_tests)]
        .into_iter()
        .flatten()
        .find(|d| has_cedar(d))
        .map(|d| vec![d.to_path_buf()])
        .unwrap_or_default();
    found
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
