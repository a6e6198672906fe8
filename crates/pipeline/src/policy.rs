//! Developing an organisation's own rules (`gpubom policy validate|test`):
//! the pack `check` would load, validated, and fixtures run against it.

use crate::check::load_pack;
use anyhow::{bail, Result};
use gpubom_policy::test_runner::{self, Policies, TestReport};
use gpubom_policy::Config;
use std::path::{Path, PathBuf};

/// A pack that validated, as the report counts it.
pub struct Validated {
    /// The rules of `paths`, the built-in ones not counted.
    pub own_rules: usize,
    /// Whether the default pack was loaded beside them (and so checked for @id clashes).
    pub with_default_pack: bool,
    pub waivers: usize,
}

/// `ok: N rule(s) valid …`: what `gpubom policy validate` prints when all is valid.
impl std::fmt::Display for Validated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let clashes = match self.with_default_pack {
            true => ", no @id clashes with the default pack",
            false => "",
        };
        let (rules, waivers) = (self.own_rules, self.waivers);
        write!(f, "ok: {rules} rule(s) valid against the gpubom schema{clashes}; {waivers} waiver(s) valid")
    }
}

/// `testing the default pack and a.cedar, b.cedar`: what `gpubom policy test` says it tests.
pub fn under_test(policies: &[PathBuf], default_policies: bool) -> String {
    let listed: Vec<String> = policies.iter().map(|p| p.display().to_string()).collect();
    let mut testing = vec![listed.join(", ")];
    testing.retain(|list| !list.is_empty());
    if default_policies {
        testing.insert(0, "the default pack".into());
    }
    format!("testing {}", testing.join(" and "))
}

/// Loads the pack `check` would load, so that an @id clash or a waiver for a
/// rule that is not there fails here, not in CI.
pub fn validate(paths: &[PathBuf], default_policies: bool, config: &Config) -> Result<Validated> {
    let pack = load_pack(
        paths,
        default_policies,
        config,
        &gpubom_inventory::time::today(),
        "nothing to validate: --no-default-policies was given without any policy path",
    )?;
    Ok(Validated {
        own_rules: pack.rules.values().filter(|r| !r.builtin).count(),
        with_default_pack: default_policies,
        waivers: config.waivers.len(),
    })
}

/// The policies fixtures are tested against: `policies`, else those beside
/// the fixtures (or in their parent directory). Without the built-in pack,
/// none at all is an error.
pub fn policies_under_test(
    fixtures: &Path,
    policies: Vec<PathBuf>,
    default_policies: bool,
) -> Result<Vec<PathBuf>> {
    let policies = if policies.is_empty() {
        test_runner::policies_beside(fixtures)
    } else {
        policies
    };
    if policies.is_empty() && !default_policies {
        bail!(
            "no policies to test: none beside {} or in its parent; give them with --policy DIR",
            fixtures.display()
        );
    }
    Ok(policies)
}

/// Runs the `*.test.json` fixtures under `fixtures` against `policies` (and
/// the built-in pack unless left out).
pub fn run_tests(
    fixtures: &Path,
    policies: &[PathBuf],
    default_policies: bool,
    config: &Config,
) -> Result<TestReport> {
    Ok(test_runner::run(
        &Policies {
            paths: policies,
            include_default: default_policies,
            config,
        },
        fixtures,
        &gpubom_inventory::time::today(),
        &crate::sbom::read_sbom_from,
    )?)
}
