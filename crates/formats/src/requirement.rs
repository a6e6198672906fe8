//! `Requires-Dist` values: PEP 508 requirement strings from a distribution's
//! metadata, read by `pep508_rs` behind bounds, with their environment markers
//! evaluated for an image instead of for the interpreter running gpubom.
//!
//! An image says less than a running interpreter: the Python version comes from
//! a `pythonX.Y` directory and the machine from the image's architecture, and
//! either may be unknown. A marker is therefore judged over every value an
//! unknown variable could take, and the answer is three-valued ([`Applies`]):
//! `Maybe` when the image does not say.
//!
//! Only the name, the extras and the marker are kept. A direct reference
//! (`name @ URL`) has its URL cut out before parsing, so nothing from the image
//! reaches `pep508_rs`'s URL handling (which expands `${VAR}` from the process
//! environment).

use pep508_rs::{ExtraName, MarkerEnvironment, MarkerTree, Requirement as Pep508, StringVersion};
use std::str::FromStr;

/// Longest requirement string read; real ones are well under 200 bytes.
pub const MAX_REQUIREMENT_LEN: usize = 1024;
/// Deepest parenthesis nesting read, so a crafted marker cannot recurse deep.
const MAX_NESTING: usize = 16;
/// Python minor versions a marker is judged over when the image does not say (3.0 to 3.20).
const PYTHON_3_MINORS: std::ops::RangeInclusive<u32> = 0..=20;
/// Machines a marker is judged over when the image does not say.
const MACHINES: &[&str] = &["x86_64", "aarch64"];

/// One parsed requirement: the distribution it names, the extras it asks of it, and when it applies.
#[derive(Debug, Clone)]
pub struct Requirement {
    /// PEP 503-normalised, as `normalize_name` spells it.
    pub name: String,
    /// The extras requested of `name` (`torch[opt-einsum]`), normalised.
    pub extras: Vec<String>,
    marker: Option<MarkerTree>,
    /// The marker's length as written, what judging it costs.
    marker_len: usize,
    /// Whether the marker tests `extra` at all (most do not).
    marker_tests_extra: bool,
}

/// What the image says about the interpreter a distribution is installed for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Environment {
    /// `(3, 12)` from `lib/python3.12/site-packages`.
    pub python: Option<(u32, u32)>,
    /// `platform_machine`: `x86_64`, `aarch64`, …
    pub machine: Option<String>,
}

/// Every marker environment an [`Environment`] allows (one when the image says
/// everything, 42 when it says nothing), built once to judge many requirements.
pub struct Candidates(Vec<MarkerEnvironment>);

impl Candidates {
    pub fn of(env: &Environment) -> Candidates {
        Candidates(candidates(env).collect())
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Whether a requirement applies in an environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applies {
    Yes,
    No,
    /// True for some values the image leaves open and false for others.
    Maybe,
}

impl Requirement {
    /// Parses one `Requires-Dist` value; the error says why it was not read.
    pub fn parse(text: &str) -> Result<Requirement, String> {
        if text.len() > MAX_REQUIREMENT_LEN {
            return Err(format!(
                "longer than {MAX_REQUIREMENT_LEN} bytes ({} bytes)",
                text.len()
            ));
        }
        if nesting(text) > MAX_NESTING {
            return Err(format!(
                "parentheses nested deeper than {MAX_NESTING} levels"
            ));
        }
        let text = without_url(text);
        if !names_end_alphanumeric(&text) {
            return Err("a name or extra ends in `-`, `_` or `.`".to_string());
        }
        let parsed = Pep508::from_str(&text).map_err(|e| e.message.to_string())?;
        let marker_text = parsed.marker.as_ref().map(ToString::to_string);
        let marker_len = marker_text.as_ref().map_or(0, String::len);
        let marker_tests_extra = marker_text.is_some_and(|m| m.contains("extra"));
        Ok(Requirement {
            name: parsed.name.to_string(),
            extras: parsed.extras.iter().map(ToString::to_string).collect(),
            marker: parsed.marker,
            marker_len,
            marker_tests_extra,
        })
    }

    /// Whether the marker tests `extra`: only such a requirement can change
    /// when another distribution asks for one of this one's extras.
    pub fn depends_on_extra(&self) -> bool {
        self.marker_tests_extra
    }

    /// Bytes of marker judged by one [`Requirement::applies_in`] over `candidates`:
    /// what a caller bounds to keep crafted markers from costing minutes.
    pub fn judging_cost(&self, candidates: &Candidates) -> usize {
        self.marker_len.saturating_mul(candidates.len())
    }

    /// Whether the requirement applies in `env` when its distribution was
    /// installed with `extra` (`None`: with no extra), as pip evaluates a
    /// marker once for each requested extra.
    pub fn applies(&self, env: &Environment, extra: Option<&str>) -> Applies {
        self.applies_in(&Candidates::of(env), extra)
    }

    /// [`Requirement::applies`] over environments built once.
    pub fn applies_in(&self, candidates: &Candidates, extra: Option<&str>) -> Applies {
        let Some(marker) = &self.marker else {
            return Applies::Yes;
        };
        let extras: Vec<ExtraName> = extra
            .and_then(|e| ExtraName::from_str(e).ok())
            .into_iter()
            .collect();
        let (mut any_true, mut any_false) = (false, false);
        for candidate in &candidates.0 {
            if marker.evaluate(candidate, &extras) {
                any_true = true;
            } else {
                any_false = true;
            }
            if any_true && any_false {
                return Applies::Maybe;
            }
        }
        if any_true {
            Applies::Yes
        } else {
            Applies::No
        }
    }
}

/// Normalises an extra's name as requirements spell it (`opt_einsum` → `opt-einsum`);
/// `None` for a name PEP 685 does not allow.
pub fn normalize_extra(name: &str) -> Option<String> {
    ExtraName::from_str(name).ok().map(|e| e.to_string())
}

/// `name[extras] @ URL ; marker` without its URL: PEP 508 ends a URL at whitespace.
fn without_url(text: &str) -> std::borrow::Cow<'_, str> {
    let Some((head, rest)) = text.split_once('@') else {
        return text.into();
    };
    // An `@` inside the marker (a quoted string) is not a direct reference.
    if head.contains(';') {
        return text.into();
    }
    let after_url = rest
        .trim_start()
        .find(char::is_whitespace)
        .and_then(|end| rest.trim_start().get(end..))
        .unwrap_or("");
    format!("{head}{after_url}").into()
}

/// False when the distribution name, or an extra in `[…]`, ends in `-`, `_` or `.`.
///
/// PEP 508 forbids that, but pep508_rs (0.8 and 0.9) accepts such a name when a
/// space or bracket follows it (`a- ; …`, `a[b-]`) and then panics on its own
/// validation of it, so the requirement is refused here first.
fn names_end_alphanumeric(text: &str) -> bool {
    let is_name_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let ends_well = |name: &str| !name.ends_with(['-', '_', '.']);
    let text = text.trim_start();
    let name_end = text.find(|c| !is_name_char(c)).unwrap_or(text.len());
    let (name, rest) = text.split_at(name_end);
    if !ends_well(name) {
        return false;
    }
    let Some(extras) = rest.trim_start().strip_prefix('[') else {
        return true;
    };
    let extras = extras.split(']').next().unwrap_or(extras);
    extras.split(',').all(|extra| {
        let extra = extra.trim();
        let end = extra.find(|c| !is_name_char(c)).unwrap_or(extra.len());
        extra.get(..end).is_none_or(ends_well)
    })
}

/// The deepest parenthesis nesting in `text`.
fn nesting(text: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    for c in text.chars() {
        match c {
            '(' => {
                depth = depth.saturating_add(1);
                deepest = deepest.max(depth);
            }
            ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// Every marker environment the image allows: one when it says everything.
fn candidates(env: &Environment) -> impl Iterator<Item = MarkerEnvironment> + '_ {
    let pythons: Vec<(u32, u32)> = match env.python {
        Some(version) => vec![version],
        None => PYTHON_3_MINORS.map(|minor| (3, minor)).collect(),
    };
    let machines: Vec<&str> = match &env.machine {
        Some(machine) => vec![machine.as_str()],
        None => MACHINES.to_vec(),
    };
    pythons.into_iter().flat_map(move |python| {
        machines
            .clone()
            .into_iter()
            .filter_map(move |machine| linux_cpython(python, machine))
    })
}

/// CPython on Linux, as `packaging.markers.default_environment()` reports it there.
/// The patch release is not in a `pythonX.Y` path; `X.Y` compares as `X.Y.0`.
fn linux_cpython((major, minor): (u32, u32), machine: &str) -> Option<MarkerEnvironment> {
    let version = StringVersion::from_str(&format!("{major}.{minor}")).ok()?;
    Some(MarkerEnvironment {
        implementation_name: "cpython".to_string(),
        implementation_version: version.clone(),
        os_name: "posix".to_string(),
        platform_machine: machine.to_string(),
        platform_python_implementation: "CPython".to_string(),
        // The kernel is the host's, not the image's.
        platform_release: String::new(),
        platform_system: "Linux".to_string(),
        platform_version: String::new(),
        python_full_version: version.clone(),
        python_version: version,
        sys_platform: "linux".to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn linux(python: (u32, u32), machine: &str) -> Environment {
        Environment {
            python: Some(python),
            machine: Some(machine.to_string()),
        }
    }

    /// Requirement strings as torch 2.1.2's METADATA writes them (see
    /// tests/fixtures/metadata/README.md), and click 8.1.7's.
    #[test]
    fn real_markers() {
        let cudnn = Requirement::parse("nvidia-cudnn-cu12 (==8.9.2.26) ; platform_system == \"Linux\" and platform_machine == \"x86_64\"").unwrap();
        assert_eq!(cudnn.name, "nvidia-cudnn-cu12");
        assert_eq!(cudnn.applies(&linux((3, 11), "x86_64"), None), Applies::Yes);
        assert_eq!(cudnn.applies(&linux((3, 11), "aarch64"), None), Applies::No);
        let unknown_machine = Environment {
            python: Some((3, 11)),
            machine: None,
        };
        assert_eq!(cudnn.applies(&unknown_machine, None), Applies::Maybe);

        let einsum = Requirement::parse("opt-einsum (>=3.3) ; extra == 'opt-einsum'").unwrap();
        assert!(einsum.depends_on_extra());
        assert_eq!(einsum.applies(&linux((3, 11), "x86_64"), None), Applies::No);
        assert_eq!(
            einsum.applies(&linux((3, 11), "x86_64"), Some("opt-einsum")),
            Applies::Yes
        );

        let importlib = Requirement::parse("importlib-metadata; python_version < \"3.8\"").unwrap();
        assert_eq!(
            importlib.applies(&linux((3, 7), "x86_64"), None),
            Applies::Yes
        );
        assert_eq!(
            importlib.applies(&linux((3, 12), "x86_64"), None),
            Applies::No
        );
        let colorama = Requirement::parse("colorama; platform_system == \"Windows\"").unwrap();
        assert_eq!(colorama.applies(&Environment::default(), None), Applies::No);
    }

    #[test]
    fn names_and_extras_are_normalised_synthetic() {
        let r = Requirement::parse("Typing_Extensions[Some.Extra] >=4").unwrap();
        assert_eq!(r.name, "typing-extensions");
        assert_eq!(r.extras, vec!["some-extra"]);
        assert!(!r.depends_on_extra());
        assert_eq!(r.applies(&Environment::default(), None), Applies::Yes);
        assert_eq!(normalize_extra("Opt_Einsum").as_deref(), Some("opt-einsum"));
    }

    #[test]
    fn a_direct_reference_loses_its_url_synthetic() {
        let r = Requirement::parse(
            "pkg[x] @ https://example.invalid/${HOME}/p.whl ; python_version >= '3'",
        )
        .unwrap();
        assert_eq!(r.name, "pkg");
        assert_eq!(r.extras, vec!["x"]);
        assert_eq!(r.applies(&linux((3, 11), "x86_64"), None), Applies::Yes);
        let in_marker = Requirement::parse("pkg ; platform_release == 'a@b'").unwrap();
        assert_eq!(
            in_marker.applies(&linux((3, 11), "x86_64"), None),
            Applies::No
        );
    }

    #[test]
    fn bounds_synthetic() {
        let long = format!("a{}", "b".repeat(MAX_REQUIREMENT_LEN));
        assert!(Requirement::parse(&long)
            .unwrap_err()
            .contains("longer than"));
        let deep = format!(
            "a ; {}python_version > '3'{}",
            "(".repeat(MAX_NESTING + 1),
            ")".repeat(MAX_NESTING + 1)
        );
        assert!(Requirement::parse(&deep).unwrap_err().contains("nested"));
        let fits = format!(
            "a ; {}python_version > '3'{}",
            "(".repeat(MAX_NESTING),
            ")".repeat(MAX_NESTING)
        );
        assert!(Requirement::parse(&fits).is_ok());
        assert!(Requirement::parse("").is_err());
        // Each of these made pep508_rs 0.8.1 panic (found by a randomised run).
        for crafted in [
            "a- ; x", "a_ (>=1)", "a. [b]", "a[b-]", "a[b, c.]", "a [ b_ ]",
        ] {
            assert!(Requirement::parse(crafted).is_err(), "{crafted}");
        }
        assert!(Requirement::parse("a-b[c-d, e_f] (>=1)").is_ok());
        assert!(Requirement::parse("; ;").is_err());
    }
}
