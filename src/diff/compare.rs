//! The comparison itself: pure functions from two inventories and their
//! findings to a [`Diff`], so that every rule about what counts as a change
//! is testable without files or a policy pack.

use gpubom_inventory::version::{Ecosystem, Version};
use gpubom_inventory::{props, Component, ComponentKind, ImageFacts, Inventory};
use gpubom_policy::Finding;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// What changed between two SBOMs, most important first within each list.
#[derive(Debug, Default)]
pub struct Diff {
    /// NVIDIA libraries, then models and data files, then everything else.
    pub components: Vec<ComponentChange>,
    /// The image user, old then new, as written (empty: none set, so root).
    pub user: Option<(String, String)>,
    pub ports_opened: Vec<String>,
    pub ports_closed: Vec<String>,
    pub new_findings: Vec<Finding>,
    pub resolved_findings: Vec<Finding>,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.components.is_empty()
            && self.user.is_none()
            && self.ports_opened.is_empty()
            && self.ports_closed.is_empty()
            && self.new_findings.is_empty()
            && self.resolved_findings.is_empty()
    }

    pub fn changes(&self, change: Change) -> impl Iterator<Item = &ComponentChange> {
        self.components.iter().filter(move |c| c.change == change)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Upgraded,
    Downgraded,
    /// Both versions known but not ordered: different ecosystems' syntax,
    /// unparsable text, one side unknown, or a model file's content replaced.
    Changed,
    Added,
    Removed,
}

impl Change {
    pub const ALL: [Change; 5] = [
        Change::Added,
        Change::Removed,
        Change::Upgraded,
        Change::Downgraded,
        Change::Changed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Change::Upgraded => "upgraded",
            Change::Downgraded => "downgraded",
            Change::Changed => "changed",
            Change::Added => "added",
            Change::Removed => "removed",
        }
    }
}

/// Which group a component is reported in; the order is the report's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    Nvidia,
    Model,
    Other,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ComponentChange {
    pub change: Change,
    pub group: Group,
    pub kind: ComponentKind,
    pub name: String,
    pub family: Option<String>,
    /// Primary location: the new side's, or the old side's for a removal.
    pub path: Option<String>,
    /// `None` for an addition, and for a version nobody knew.
    pub from: Option<String>,
    /// `None` for a removal, and for a version nobody knew.
    pub to: Option<String>,
    /// Models and data files: the pickle verdict and format of the side shown.
    pub verdict: Option<String>,
    pub format: Option<String>,
}

/// What makes two components "the same thing" across the two SBOMs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Identity {
    group: Group,
    kind: ComponentKind,
    family: String,
    /// The name, PEP 503-normalised for Python (Syft and pip spell it
    /// differently); a model's path, because model names are bare file names
    /// and two `model.onnx` in different directories are different models.
    name: String,
}

fn group_of(c: &Component) -> Group {
    if c.properties.contains_key(props::NVIDIA_FAMILY) {
        Group::Nvidia
    } else if c.kind.is_model_like() {
        Group::Model
    } else {
        Group::Other
    }
}

fn primary_path(c: &Component) -> Option<&str> {
    c.locations.first().map(|l| l.path.as_str())
}

fn identity(c: &Component) -> Identity {
    let group = group_of(c);
    let name = match c.kind {
        ComponentKind::Python => gpubom_catalog::python::normalize_name(&c.name),
        k if k.is_model_like() => primary_path(c).unwrap_or(&c.name).to_string(),
        _ => c.name.clone(),
    };
    Identity {
        group,
        kind: c.kind,
        family: c
            .properties
            .get(props::NVIDIA_FAMILY)
            .cloned()
            .unwrap_or_default(),
        name,
    }
}

/// The value whose change is reported. A model file rarely has a version, but
/// replaced weights are a change a reviewer must see: its SHA-256 stands in.
fn version_of(c: &Component) -> Option<String> {
    if c.version.is_none() && c.kind.is_model_like() {
        return c
            .hashes
            .iter()
            .find(|h| h.alg == "SHA-256")
            .map(|h| format!("sha256:{}", h.hex));
    }
    c.version.clone()
}

/// `Some(Equal)` means the same version spelt differently (`2.0` and `2.0.0`): no change.
fn order(kind: ComponentKind, from: &Option<String>, to: &Option<String>) -> Option<Ordering> {
    let ecosystem = Ecosystem::of(kind);
    let from = Version::parse(ecosystem, from.as_deref()?)?;
    let to = Version::parse(ecosystem, to.as_deref()?)?;
    to.partial_cmp(&from)
}

/// One side's components of one identity, by version.
type Side<'a> = BTreeMap<Option<String>, &'a Component>;

fn sides(inventory: &Inventory) -> BTreeMap<Identity, Side<'_>> {
    let mut out: BTreeMap<Identity, Side<'_>> = BTreeMap::new();
    for c in &inventory.components {
        // The first component of a version keeps its place: components are
        // sorted, so that is the same one on every run.
        out.entry(identity(c))
            .or_default()
            .entry(version_of(c))
            .or_insert(c);
    }
    out
}

fn change(
    change: Change,
    id: &Identity,
    shown: &Component,
    from: Option<String>,
    to: Option<String>,
) -> ComponentChange {
    let prop = |k: &str| shown.properties.get(k).cloned();
    ComponentChange {
        change,
        group: id.group,
        kind: id.kind,
        name: shown.name.clone(),
        family: prop(props::NVIDIA_FAMILY),
        path: primary_path(shown).map(str::to_owned),
        from,
        to,
        verdict: prop(props::MODEL_VERDICT),
        format: prop(props::MODEL_FORMAT),
    }
}

/// Components added, removed and changed. The same library at several paths
/// is one identity with a set of versions; versions on both sides are not
/// changes, and when exactly one version left and one came it is an upgrade
/// (or downgrade): `cuDNN {8.9.2, 8.9.7} → {8.9.7, 9.1.0}` upgrades 8.9.2.
pub fn components(old: &Inventory, new: &Inventory) -> Vec<ComponentChange> {
    let old = sides(old);
    let new = sides(new);
    let ids: BTreeSet<&Identity> = old.keys().chain(new.keys()).collect();
    let empty = Side::new();
    let mut out = Vec::new();
    for id in ids {
        let before = old.get(id).unwrap_or(&empty);
        let after = new.get(id).unwrap_or(&empty);
        let gone: Vec<(&Option<String>, &&Component)> = before
            .iter()
            .filter(|(v, _)| !after.contains_key(*v))
            .collect();
        let came: Vec<(&Option<String>, &&Component)> = after
            .iter()
            .filter(|(v, _)| !before.contains_key(*v))
            .collect();
        if let ([(from, _)], [(to, shown)]) = (gone.as_slice(), came.as_slice()) {
            let kind = match order(id.kind, from, to) {
                Some(Ordering::Equal) => continue,
                Some(Ordering::Greater) => Change::Upgraded,
                Some(Ordering::Less) => Change::Downgraded,
                None => Change::Changed,
            };
            out.push(change(kind, id, shown, (*from).clone(), (*to).clone()));
            continue;
        }
        for (version, shown) in gone {
            out.push(change(Change::Removed, id, shown, version.clone(), None));
        }
        for (version, shown) in came {
            out.push(change(Change::Added, id, shown, None, version.clone()));
        }
    }
    // Identities sort by group first, so the report's order comes for free.
    out
}

/// `8888` and `8888/tcp` are the same port: Docker defaults the protocol.
fn port_spec(p: &str) -> String {
    if p.contains('/') {
        p.to_ascii_lowercase()
    } else {
        format!("{p}/tcp")
    }
}

/// The user and ports, only when both SBOMs recorded the image config: a
/// Syft or Trivy SBOM says nothing about them, and nothing is not "closed".
fn image(old: &Option<ImageFacts>, new: &Option<ImageFacts>, diff: &mut Diff) {
    let (Some(old), Some(new)) = (old, new) else {
        return;
    };
    let old_user = old.user.clone().unwrap_or_default();
    let new_user = new.user.clone().unwrap_or_default();
    if old_user != new_user {
        diff.user = Some((old_user, new_user));
    }
    let ports = |f: &ImageFacts| -> BTreeSet<String> {
        f.exposed_ports.iter().map(|p| port_spec(p)).collect()
    };
    let (before, after) = (ports(old), ports(new));
    diff.ports_opened = after.difference(&before).cloned().collect();
    diff.ports_closed = before.difference(&after).cloned().collect();
}

/// What makes a finding "the same" across two builds. The image's subject is
/// its reference, digest included, which every rebuild changes; a component's
/// path names its version (`libcudnn.so.8.9.2`, `torch-2.5.1.dist-info`), so
/// its directory stands in and a rule that still fires after an upgrade is
/// neither new nor resolved. A model's path is its identity.
fn finding_key(f: &Finding) -> (String, String, String) {
    let s = &f.subject;
    let place = match s.kind.as_str() {
        "image" => String::new(),
        "component" => {
            let dir = s
                .path
                .as_deref()
                .and_then(|p| p.rsplit_once('/'))
                .map_or("", |(dir, _)| dir);
            format!("{}\n{dir}", s.name)
        }
        _ => s.path.clone().unwrap_or_else(|| s.name.clone()),
    };
    (f.rule.clone(), s.kind.clone(), place)
}

/// Findings of `ours` whose key `theirs` lacks; waived ones count for neither.
fn only_in(ours: &[Finding], theirs: &[Finding]) -> Vec<Finding> {
    let active = |f: &&Finding| f.waived.is_none();
    let known: HashSet<_> = theirs.iter().filter(active).map(finding_key).collect();
    let mut reported = HashSet::new();
    ours.iter()
        .filter(active)
        .filter(|f| {
            let key = finding_key(f);
            !known.contains(&key) && reported.insert(key)
        })
        .cloned()
        .collect()
}

pub fn diff(
    old: &Inventory,
    new: &Inventory,
    old_findings: &[Finding],
    new_findings: &[Finding],
) -> Diff {
    let mut diff = Diff {
        components: components(old, new),
        new_findings: only_in(new_findings, old_findings),
        resolved_findings: only_in(old_findings, new_findings),
        ..Default::default()
    };
    image(&old.image, &new.image, &mut diff);
    diff
}

#[cfg(test)]
mod tests {
    use super::*;
    use gpubom_inventory::{Hash, Location};

    fn component(kind: ComponentKind, name: &str, version: &str, path: &str) -> Component {
        Component {
            kind,
            name: name.into(),
            version: (!version.is_empty()).then(|| version.into()),
            locations: vec![Location {
                path: path.into(),
                layer: None,
            }],
            ..Default::default()
        }
    }

    fn cudnn(version: &str, path: &str) -> Component {
        let mut c = component(ComponentKind::NativeLibrary, "cudnn", version, path);
        c.properties
            .insert(props::NVIDIA_FAMILY.into(), "cudnn".into());
        c
    }

    fn inventory(components: Vec<Component>) -> Inventory {
        let mut inventory = Inventory {
            components,
            ..Default::default()
        };
        inventory.normalize();
        inventory
    }

    fn summary(changes: &[ComponentChange]) -> Vec<String> {
        changes
            .iter()
            .map(|c| {
                format!(
                    "{} {} {}→{}",
                    c.change.as_str(),
                    c.name,
                    c.from.as_deref().unwrap_or("-"),
                    c.to.as_deref().unwrap_or("-")
                )
            })
            .collect()
    }

    /// The change from one component to another, summarised.
    fn between(old: Component, new: Component) -> Vec<String> {
        summary(&components(&inventory(vec![old]), &inventory(vec![new])))
    }

    #[test]
    fn pep440_orders_2_10_above_2_9_synthetic() {
        let wheel = |v| component(ComponentKind::Python, "torch", v, "/site/torch.dist-info");
        assert_eq!(
            between(wheel("2.9.1"), wheel("2.10.0")),
            ["upgraded torch 2.9.1→2.10.0"]
        );
        // A release candidate is below its release, whatever the strings say.
        assert_eq!(
            between(wheel("2.6.0"), wheel("2.6.0rc1")),
            ["downgraded torch 2.6.0→2.6.0rc1"]
        );
        // The same version spelt differently is not a change.
        assert!(between(wheel("2.0"), wheel("2.0.0")).is_empty());
    }

    #[test]
    fn debian_epoch_outranks_upstream_synthetic() {
        let deb = |v| component(ComponentKind::Deb, "zlib1g", v, "/var/lib/dpkg/status");
        assert_eq!(
            between(deb("1:1.2.13.dfsg-1"), deb("2.0-1")),
            ["downgraded zlib1g 1:1.2.13.dfsg-1→2.0-1"]
        );
    }

    #[test]
    fn python_names_match_whatever_the_spelling_synthetic() {
        let wheel = |name| component(ComponentKind::Python, name, "4.12.2", "/a");
        assert!(between(wheel("Typing_Extensions"), wheel("typing-extensions")).is_empty());
    }

    #[test]
    fn several_copies_compare_as_sets_synthetic() {
        let lib = "/usr/lib/x86_64-linux-gnu";
        let old = inventory(vec![
            cudnn("8.9.2", &format!("{lib}/libcudnn.so.8.9.2")),
            cudnn("8.9.7", "/opt/cudnn/libcudnn.so.8.9.7"),
        ]);
        let new = inventory(vec![
            cudnn("8.9.7", "/opt/cudnn/libcudnn.so.8.9.7"),
            cudnn("9.1.0", &format!("{lib}/libcudnn.so.9.1.0")),
        ]);
        let changes = components(&old, &new);
        assert_eq!(summary(&changes), ["upgraded cudnn 8.9.2→9.1.0"]);
        assert_eq!(
            changes[0].path.as_deref(),
            Some("/usr/lib/x86_64-linux-gnu/libcudnn.so.9.1.0")
        );
        // A second copy at a version already there changes nothing.
        let mut more = new.clone();
        more.components
            .push(cudnn("9.1.0", "/opt/other/libcudnn.so.9.1.0"));
        more.normalize();
        assert!(components(&new, &more).is_empty());
        // Two versions gone and one come cannot be paired: each is reported.
        let one = inventory(vec![cudnn("9.2.0", "/opt/cudnn/libcudnn.so.9.2.0")]);
        assert_eq!(
            summary(&components(&old, &one)),
            [
                "removed cudnn 8.9.2→-",
                "removed cudnn 8.9.7→-",
                "added cudnn -→9.2.0"
            ]
        );
    }

    #[test]
    fn nvidia_then_models_then_the_rest_synthetic() {
        let mut model = component(ComponentKind::Model, "x.pkl", "", "/models/x.pkl");
        model.hashes.push(Hash {
            alg: "SHA-256".into(),
            hex: "ab".into(),
        });
        let old = inventory(vec![component(
            ComponentKind::Deb,
            "adduser",
            "3.134",
            "/s",
        )]);
        let new = inventory(vec![
            model.clone(),
            cudnn("9.1.0", "/lib/libcudnn.so.9.1.0"),
            component(ComponentKind::Python, "Aaa_b", "1.0", "/site/aaa"),
        ]);
        let changes = components(&old, &new);
        assert_eq!(
            summary(&changes),
            [
                "added cudnn -→9.1.0",
                "added x.pkl -→sha256:ab",
                "removed adduser 3.134→-",
                "added Aaa_b -→1.0"
            ]
        );
        // Replaced weights are a change even without a version.
        let mut replaced = model;
        replaced.hashes[0].hex = "cd".into();
        let changes = components(&new, &inventory(vec![replaced]));
        assert_eq!(summary(&changes)[1], "changed x.pkl sha256:ab→sha256:cd");
    }

    fn facts(user: &str, ports: &[&str]) -> Option<ImageFacts> {
        Some(ImageFacts {
            user: Some(user.into()),
            exposed_ports: ports.iter().map(|p| p.to_string()).collect(),
            ..Default::default()
        })
    }

    #[test]
    fn image_facts_compare_only_when_both_are_known_synthetic() {
        let mut diff = Diff::default();
        image(
            &facts("", &["8888/tcp", "8000"]),
            &facts("1000", &["8000/tcp", "22/tcp"]),
            &mut diff,
        );
        assert_eq!(diff.user, Some((String::new(), "1000".into())));
        assert_eq!(diff.ports_opened, ["22/tcp"]);
        assert_eq!(diff.ports_closed, ["8888/tcp"]);
        let mut diff = Diff::default();
        image(&facts("", &["8888/tcp"]), &None, &mut diff);
        assert!(diff.is_empty());
    }

    fn finding(rule: &str, kind: &str, name: &str, path: Option<&str>) -> Finding {
        Finding {
            rule: rule.into(),
            severity: gpubom_policy::Severity::High,
            message: String::new(),
            remediation: String::new(),
            subject: gpubom_policy::Subject {
                kind: kind.into(),
                name: name.into(),
                identity: name.split('@').next().unwrap_or(name).into(),
                version: None,
                path: path.map(str::to_owned),
                sha256: None,
                layer: None,
                layer_created_by: None,
            },
            evidence: Default::default(),
            waived: None,
        }
    }

    #[test]
    fn findings_survive_rebuilds_and_upgrades_synthetic() {
        let old = [
            finding("image-runs-as-root", "image", "x@sha256:1", None),
            finding(
                "cuda-below-minimum",
                "component",
                "cuda-runtime",
                Some("/l/libcudart.so.11.7.99"),
            ),
            finding("unsafe-pickle", "model", "a.pkl", Some("/m/a.pkl")),
        ];
        let mut waived = finding("unsafe-pickle", "model", "b.pkl", Some("/m/b.pkl"));
        waived.waived = Some(gpubom_policy::Waived {
            reason: "vendor model".into(),
            expires: "2999-01-01".into(),
            pattern: "/m/b.pkl".into(),
            sha256: None,
        });
        let new = [
            finding("image-runs-as-root", "image", "x@sha256:2", None),
            finding(
                "cuda-below-minimum",
                "component",
                "cuda-runtime",
                Some("/l/libcudart.so.11.8.89"),
            ),
            finding("unsafe-pickle", "model", "a.pkl", Some("/n/a.pkl")),
            waived,
        ];
        let rules = |fs: &[Finding]| -> Vec<String> {
            fs.iter()
                .map(|f| format!("{} {}", f.rule, f.subject.path.as_deref().unwrap_or("")))
                .collect()
        };
        let diff = diff(&Inventory::default(), &Inventory::default(), &old, &new);
        assert_eq!(rules(&diff.new_findings), ["unsafe-pickle /n/a.pkl"]);
        assert_eq!(rules(&diff.resolved_findings), ["unsafe-pickle /m/a.pkl"]);
    }
}
