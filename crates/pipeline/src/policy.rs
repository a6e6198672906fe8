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
