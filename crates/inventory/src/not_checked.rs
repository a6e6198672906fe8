//! What a check could not establish, and why.
//!
//! A gate's PASS is worth what it looked at. When a fact the rules need cannot
//! be known — a `docker save` archive carries no signatures, a Syft SBOM
//! records no image config, a library known only by its SONAME has no version
//! to match advisories against — whoever finds that out (the scan, the
//! signature lookup, the SBOM reader, the advisory matcher, the fleet) records
//! a [`NotChecked`] with a reason that tells the user what to do instead. The
//! inventory carries them into the SBOM and back, the policy engine hands them
//! to Cedar (`resource.not_checked`) so that a rule can fail closed, and every
//! report ends with them. Nothing recorded here is ever read as "fine".

use crate::Component;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// A fact a rule may need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fact {
    /// Who the container runs as (the image config's `User`).
    User,
    /// The ports the image config exposes.
    Ports,
    /// The image config's labels.
    Labels,
    /// Whether a trusted key or identity signed the image's digest.
    Signatures,
    /// Whether the image is named by a registry reference that a tag or digest
    /// pins (an SBOM from another tool may name a file instead).
    Reference,
    /// Whether a model file's sha256 is the one `--expect-sha256` pins.
    ModelHash,
    /// Whether a component has known advisories: needs its version.
    Advisories,
    /// Whether a component's kernels run on the fleet's GPUs.
    GpuArchitectures,
    /// Whether the fleet's host driver is new enough for a component.
    Driver,
}

impl Fact {
    pub const ALL: [Fact; 9] = [
        Fact::User,
        Fact::Ports,
        Fact::Labels,
        Fact::Signatures,
        Fact::Reference,
        Fact::ModelHash,
        Fact::Advisories,
        Fact::GpuArchitectures,
        Fact::Driver,
    ];

    /// The name in SBOM properties, JSON reports and the Cedar `Fact` enum.
    pub fn as_str(self) -> &'static str {
        match self {
            Fact::User => "user",
            Fact::Ports => "ports",
            Fact::Labels => "labels",
            Fact::Signatures => "signatures",
            Fact::Reference => "reference",
            Fact::ModelHash => "model-hash",
            Fact::Advisories => "advisories",
            Fact::GpuArchitectures => "gpu-architectures",
            Fact::Driver => "driver",
        }
    }

    pub fn parse(text: &str) -> Option<Fact> {
        Fact::ALL.into_iter().find(|f| f.as_str() == text)
    }

    /// The facts an image config holds: none of them is known without one.
    pub const IMAGE_CONFIG: [Fact; 3] = [Fact::User, Fact::Ports, Fact::Labels];

    /// Facts about the image as a whole, rather than one of its components.
    pub fn is_about_the_image(self) -> bool {
        Fact::IMAGE_CONFIG.contains(&self) || matches!(self, Fact::Signatures | Fact::Reference)
    }
}

/// One fact that was not established, about the image (`subject` `None`) or
/// one component, and why.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NotChecked {
    pub fact: Fact,
    /// The component it is about, as [`Component::label`] names it; `None`
    /// for the image (or the whole check).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Why, and what to do about it: `a docker-archive carries none; scan the
    /// pushed reference`.
    pub reason: String,
}

impl NotChecked {
    /// A fact about the image (or the whole check).
    pub fn image(fact: Fact, reason: impl Into<String>) -> NotChecked {
        NotChecked {
            fact,
            subject: None,
            reason: reason.into(),
        }
    }

    /// A fact about one component.
    pub fn about(fact: Fact, component: &Component, reason: impl Into<String>) -> NotChecked {
        NotChecked {
            fact,
            subject: Some(component.label()),
            reason: reason.into(),
        }
    }

    /// User, ports and labels, all for want of an image config.
    pub fn image_config(reason: &str) -> impl Iterator<Item = NotChecked> + '_ {
        Fact::IMAGE_CONFIG
            .into_iter()
            .map(move |fact| NotChecked::image(fact, reason))
    }
}

/// Items that share a reason: one line of a report (`user, ports, labels:
/// this SBOM records no image config`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SameReason<'a> {
    /// Each once, in the order first met.
    pub facts: Vec<Fact>,
    /// The components they are about, each once; empty for the image.
    pub subjects: Vec<&'a str>,
    pub reason: &'a str,
}

/// `items` grouped by reason, in the order each reason is first met. Linear:
/// one reason (no `--expect-sha256`) may cover every model of a large image.
pub fn by_reason<'a>(items: impl IntoIterator<Item = &'a NotChecked>) -> Vec<SameReason<'a>> {
    let mut out: Vec<SameReason> = Vec::new();
    let mut group_of: HashMap<&str, usize> = HashMap::new();
    let mut seen: HashSet<(usize, &str)> = HashSet::new();
    for item in items {
        let at = *group_of.entry(&item.reason).or_insert_with(|| {
            out.push(SameReason {
                facts: Vec::new(),
                subjects: Vec::new(),
                reason: &item.reason,
            });
            out.len() - 1
        });
        let group = &mut out[at];
        // A handful of facts at most: a list is the set.
        if !group.facts.contains(&item.fact) {
            group.facts.push(item.fact);
        }
        if let Some(subject) = item.subject.as_deref() {
            if seen.insert((at, subject)) {
                group.subjects.push(subject);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_read_back_by_their_names() {
        for fact in Fact::ALL {
            assert_eq!(Fact::parse(fact.as_str()), Some(fact));
        }
        assert_eq!(Fact::parse("signature"), None);
    }
}
