//! The comparison itself: pure functions from two inventories and their
//! findings to a [`Diff`], so that every rule about what counts as a change
//! is testable without files or a policy pack.

use gpubom_inventory::not_checked::by_reason;
use gpubom_inventory::version::{Ecosystem, Version};
use gpubom_inventory::{
    props, purl, Component, ComponentKind, Fact, ImageFacts, Inventory, NotChecked,
};
use gpubom_policy::Finding;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

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
    /// The user or ports, when one side or both did not record them.
    pub facts_not_compared: Vec<NotCompared>,
    /// Findings on one side only because the other did not record what their
    /// rule reads (a Syft SBOM and `image-runs-as-root`): neither new nor resolved.
    pub findings_not_compared: Vec<Finding>,
}

/// Image facts left out of the comparison, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotCompared {
    pub facts: Vec<Fact>,
    /// `old`, `new`, or both: the SBOMs that do not record them.
    pub sides: Vec<String>,
    /// That SBOM's reason (`this SBOM records no image config; …`).
    pub reason: String,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.components.is_empty()
            && self.user.is_none()
            && self.ports_opened.is_empty()
            && self.ports_closed.is_empty()
            && self.new_findings.is_empty()
            && self.resolved_findings.is_empty()
            && self.findings_not_compared.is_empty()
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

/// What makes two components "the same thing" across two SBOMs, whichever
/// tool wrote them: never the path of a metadata file (Syft points a wheel at
/// its `METADATA`, gpubom at its `.dist-info`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Identity {
    /// A model or data file, by path: model names are bare file names, and two
    /// `model.onnx` in different directories are different models.
    File(String),
    /// A package or library by its purl without version, qualifiers or
    /// subpath (`pypi/torch`, `deb/debian/zlib1g`, `generic/nvidia/cudnn`),
    /// the name PEP 503-normalised for PyPI (Syft and pip spell it differently).
    /// An NVIDIA library without a purl is its family's.
    Package(String),
    /// Nothing better: its kind and name (PEP 503-normalised for Python).
    Named(ComponentKind, String),
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
    if c.kind.is_model_like() {
        return Identity::File(primary_path(c).unwrap_or(&c.name).to_string());
    }
    if let Some(package) = c.purl.as_deref().and_then(purl_identity) {
        return Identity::Package(package);
    }
    if let Some(family) = c.properties.get(props::NVIDIA_FAMILY) {
        return Identity::Package(format!("generic/nvidia/{family}"));
    }
    let name = match c.kind {
        ComponentKind::Python => gpubom_formats::python::normalize_name(&c.name),
        _ => c.name.clone(),
    };
    Identity::Named(c.kind, name)
}

/// `pkg:pypi/Typing_Extensions@4.12.2?x=y` → `pypi/typing-extensions`.
fn purl_identity(purl: &str) -> Option<String> {
    let rest = purl.strip_prefix("pkg:")?;
    let rest = &rest[..rest.find(['@', '?', '#']).unwrap_or(rest.len())];
    let (ty, path) = rest.split_once('/')?;
    let ty = ty.to_ascii_lowercase();
    let (namespace, name) = match path.rsplit_once('/') {
        Some((namespace, name)) => (Some(purl::decode(namespace)), purl::decode(name)),
        None => (None, purl::decode(path)),
    };
    let name = match ty.as_str() {
        "pypi" => gpubom_formats::python::normalize_name(&name),
        _ => name,
    };
    Some(match namespace {
        Some(namespace) => format!("{ty}/{namespace}/{name}"),
        None => format!("{ty}/{name}"),
    })
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

/// One side's components of one identity, by version, each version once. Nearly always one:
/// a list, where a map per identity cost each component of a large SBOM a B-tree node.
#[derive(Default)]
struct Side<'a>(Vec<(Option<String>, &'a Component)>);

impl<'a> Side<'a> {
    fn has(&self, version: &Option<String>) -> bool {
        self.0.iter().any(|(v, _)| v == version)
    }

    /// Keeps `c` for `version` unless that version already has a component.
    fn add(&mut self, version: Option<String>, c: &'a Component) {
        if !self.has(&version) {
            self.0.push((version, c));
        }
    }

    /// Puts the versions in order, as the map this replaced kept them.
    fn sort(&mut self) {
        self.0.sort_by(|a, b| a.0.cmp(&b.0));
    }
}

fn sides(inventory: &Inventory) -> BTreeMap<Identity, Side<'_>> {
    let mut out: BTreeMap<Identity, Side<'_>> = BTreeMap::new();
    for c in &inventory.components {
        // The first component of a version keeps its place: components are
        // sorted, so that is the same one on every run.
        out.entry(identity(c)).or_default().add(version_of(c), c);
    }
    out.values_mut().for_each(Side::sort);
    out
}

fn change(
    change: Change,
    shown: &Component,
    from: Option<String>,
    to: Option<String>,
) -> ComponentChange {
    let prop = |k: &str| shown.properties.get(k).cloned();
    ComponentChange {
        change,
        group: group_of(shown),
        kind: shown.kind,
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
    let empty = Side::default();
    let mut out = Vec::new();
    for id in ids {
        let before = old.get(id).unwrap_or(&empty);
        let after = new.get(id).unwrap_or(&empty);
        let gone: Vec<(&Option<String>, &&Component)> = before
            .0
            .iter()
            .filter(|(v, _)| !after.has(v))
            .map(|(v, c)| (v, c))
            .collect();
        let came: Vec<(&Option<String>, &&Component)> = after
            .0
            .iter()
            .filter(|(v, _)| !before.has(v))
            .map(|(v, c)| (v, c))
            .collect();
        if let ([(from, _)], [(to, shown)]) = (gone.as_slice(), came.as_slice()) {
            let kind = match order(shown.kind, from, to) {
                Some(Ordering::Equal) => continue,
                Some(Ordering::Greater) => Change::Upgraded,
                Some(Ordering::Less) => Change::Downgraded,
                None => Change::Changed,
            };
            out.push(change(kind, shown, (*from).clone(), (*to).clone()));
            continue;
        }
        for (version, shown) in gone {
            out.push(change(Change::Removed, shown, version.clone(), None));
        }
        for (version, shown) in came {
            out.push(change(Change::Added, shown, None, version.clone()));
        }
    }
    // NVIDIA first, then models, then the rest; by identity within each (a stable sort).
    out.sort_by_key(|c| c.group);
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

/// Where a finding is, the same across two builds and two tools.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Place {
    /// The image: its reference, digest included, changes with every rebuild.
    Image,
    /// A component or model, by [`identity`]: a rule that still fires after an
    /// upgrade (the path names the version: `libcudnn.so.8.9.2`) is neither
    /// new nor resolved, and Syft's `…/METADATA` is gpubom's `….dist-info`.
    Component(Identity),
    /// Anything else (an expired waiver), by name.
    Named(String),
}

type FindingKey = (String, Place);

/// The keys of `findings` about `inventory`.
fn keyed<'a>(inventory: &Inventory, findings: &'a [Finding]) -> Vec<(FindingKey, &'a Finding)> {
    let identities: HashMap<(&str, Option<&str>), Identity> = inventory
        .components
        .iter()
        .map(|c| ((c.name.as_str(), primary_path(c)), identity(c)))
        .collect();
    findings
        .iter()
        .map(|f| {
            let s = &f.subject;
            let place = match s.kind.as_str() {
                "image" => Place::Image,
                "component" | "model" => {
                    match identities.get(&(s.name.as_str(), s.path.as_deref())) {
                        Some(id) => Place::Component(id.clone()),
                        // Not in this inventory (findings made elsewhere): a model is its path.
                        None if s.kind == "model" => Place::Component(Identity::File(
                            s.path.clone().unwrap_or_else(|| s.name.clone()),
                        )),
                        None => Place::Named(s.name.clone()),
                    }
                }
                _ => Place::Named(s.name.clone()),
            };
            ((f.rule.clone(), place), f)
        })
        .collect()
}

/// Findings of `ours` whose key `theirs` lacks, once each; waived ones count for neither.
fn only_in(
    ours: &[(FindingKey, &Finding)],
    theirs: &[(FindingKey, &Finding)],
) -> Vec<(FindingKey, Finding)> {
    let active = |(_, f): &&(FindingKey, &Finding)| f.waived.is_none();
    let known: HashSet<&FindingKey> = theirs.iter().filter(active).map(|(k, _)| k).collect();
    let mut reported = HashSet::new();
    ours.iter()
        .filter(active)
        .filter(|(key, _)| !known.contains(key) && reported.insert(key.clone()))
        .map(|(key, f)| (key.clone(), (*f).clone()))
        .collect()
}

/// The image facts `side` does not record and `other` does (an SBOM from
/// Syft against one from gpubom: user, ports, labels, signatures).
pub fn unrecorded(side: &Inventory, other: &Inventory) -> BTreeSet<Fact> {
    let image_facts = |i: &Inventory| -> BTreeSet<Fact> {
        i.facts_not_checked(None)
            .into_iter()
            .filter(|f| f.is_about_the_image())
            .collect()
    };
    image_facts(side)
        .difference(&image_facts(other))
        .copied()
        .collect()
}

/// `side`'s image with the facts it does not record taken from `other`: what
/// its findings would have been had it recorded them. A finding that appears
/// only then depends on those facts, and is not compared.
///
/// The components are left out: image facts reach only the image's entity (a
/// component's rules see the component and the configuration), so their
/// findings would be `side`'s own, and a copy of 100,000 components would
/// double what a diff holds.
pub fn with_facts_of(side: &Inventory, other: &Inventory, facts: &BTreeSet<Fact>) -> Inventory {
    let mut borrowed = Inventory {
        subject: side.subject.clone(),
        image: side.image.clone(),
        distro: side.distro.clone(),
        layers: side.layers.clone(),
        signatures: side.signatures.clone(),
        advisory_data: side.advisory_data.clone(),
        not_checked: side
            .not_checked
            .iter()
            .filter(|i| i.subject.is_none())
            .cloned()
            .collect(),
        ..Default::default()
    };
    if facts.iter().any(|f| Fact::IMAGE_CONFIG.contains(f)) {
        borrowed.image = other.image.clone();
    }
    if facts.contains(&Fact::Signatures) {
        borrowed.signatures = other.signatures.clone();
    }
    if facts.contains(&Fact::Reference) {
        // How the image is named: name, tag and the digest that pins them.
        borrowed.subject.name = other.subject.name.clone();
        borrowed.subject.tag = other.subject.tag.clone();
        borrowed.subject.digest = other.subject.digest.clone();
    }
    borrowed
        .not_checked
        .retain(|i| !(i.subject.is_none() && facts.contains(&i.fact)));
    borrowed
}

/// The facts the image section compares (user, ports) that a side does not
/// record, grouped by reason. (Labels and signatures are not compared there;
/// the findings that read them are, given the other side's facts.)
fn facts_not_compared(old: &Inventory, new: &Inventory) -> Vec<NotCompared> {
    // Each item's subject names the side it is from, so a group lists the sides.
    let items: Vec<NotChecked> = [("old", old), ("new", new)]
        .into_iter()
        .flat_map(|(side, inventory)| {
            inventory
                .not_checked
                .iter()
                .filter(|i| i.subject.is_none() && matches!(i.fact, Fact::User | Fact::Ports))
                .map(move |i| NotChecked {
                    subject: Some(side.to_string()),
                    ..i.clone()
                })
        })
        .collect();
    by_reason(&items)
        .into_iter()
        .map(|group| NotCompared {
            facts: group.facts,
            sides: group.subjects.into_iter().map(str::to_owned).collect(),
            reason: group.reason.to_string(),
        })
        .collect()
}

/// The findings of each side, and of each side given the facts only the other
/// recorded (`None` when it records all the other does).
pub struct Findings<'a> {
    pub old: &'a [Finding],
    pub new: &'a [Finding],
    pub old_with_new_facts: Option<&'a [Finding]>,
    pub new_with_old_facts: Option<&'a [Finding]>,
}

pub fn diff(old: &Inventory, new: &Inventory, findings: &Findings) -> Diff {
    let (old_keyed, new_keyed) = (keyed(old, findings.old), keyed(new, findings.new));
    // A finding the other side would have had, given the facts only this side
    // recorded, is neither new nor resolved: that side simply could not say.
    let would_have = |inventory: &Inventory, counterfactual: Option<&[Finding]>| {
        keyed(inventory, counterfactual.unwrap_or_default())
            .into_iter()
            .filter(|(_, f)| f.waived.is_none())
            .map(|(k, _)| k)
            .collect::<HashSet<FindingKey>>()
    };
    let new_would_have = would_have(new, findings.new_with_old_facts);
    let old_would_have = would_have(old, findings.old_with_new_facts);
    let mut diff = Diff {
        components: components(old, new),
        facts_not_compared: facts_not_compared(old, new),
        ..Default::default()
    };
    for (key, finding) in only_in(&new_keyed, &old_keyed) {
        if old_would_have.contains(&key) {
            diff.findings_not_compared.push(finding);
        } else {
            diff.new_findings.push(finding);
        }
    }
    for (key, finding) in only_in(&old_keyed, &new_keyed) {
        if new_would_have.contains(&key) {
            diff.findings_not_compared.push(finding);
        } else {
            diff.resolved_findings.push(finding);
        }
    }
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

    /// Findings of both sides, with nothing one side did not record.
    fn both<'a>(old: &'a [Finding], new: &'a [Finding]) -> Findings<'a> {
        Findings {
            old,
            new,
            old_with_new_facts: None,
            new_with_old_facts: None,
        }
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
        let diff = diff(
            &Inventory::default(),
            &Inventory::default(),
            &both(&old, &new),
        );
        assert_eq!(rules(&diff.new_findings), ["unsafe-pickle /n/a.pkl"]);
        assert_eq!(rules(&diff.resolved_findings), ["unsafe-pickle /m/a.pkl"]);
    }

    #[test]
    fn a_package_is_its_purl_whatever_the_tool_synthetic() {
        let site = "/usr/local/lib/python3.11/site-packages";
        // gpubom: the .dist-info directory, the NVIDIA family on an NVIDIA wheel.
        let mut ours = component(
            ComponentKind::Python,
            "nvidia-cuda-runtime-cu12",
            "12.1.105",
            &format!("{site}/nvidia_cuda_runtime_cu12-12.1.105.dist-info"),
        );
        ours.purl = Some("pkg:pypi/nvidia-cuda-runtime-cu12@12.1.105".into());
        ours.properties
            .insert(props::NVIDIA_FAMILY.into(), "cuda-runtime".into());
        // Syft: its METADATA file, its own spelling, no family.
        let mut theirs = component(
            ComponentKind::Python,
            "nvidia_cuda_runtime_cu12",
            "12.1.105",
            &format!("{site}/nvidia_cuda_runtime_cu12-12.1.105.dist-info/METADATA"),
        );
        theirs.purl = Some("pkg:pypi/nvidia_cuda_runtime_cu12@12.1.105".into());
        assert!(between(theirs.clone(), ours.clone()).is_empty());
        assert_eq!(identity(&ours), identity(&theirs));
        let deb = |purl: &str| {
            let mut c = component(ComponentKind::Deb, "libstdc++6", "12.2.0-14", "/s");
            c.purl = Some(purl.into());
            identity(&c)
        };
        assert_eq!(
            deb("pkg:deb/debian/libstdc%2B%2B6@12.2.0-14?arch=amd64"),
            deb("pkg:deb/debian/libstdc++6@12.2.0-14?arch=amd64&distro=debian-12")
        );
        // A finding about it is the same finding on both sides.
        let mut old = finding("pytorch-weights-only-bypass", "component", "x", None);
        old.subject.name = theirs.name.clone();
        old.subject.path = theirs.locations[0].path.clone().into();
        let mut new = old.clone();
        new.subject.name = ours.name.clone();
        new.subject.path = ours.locations[0].path.clone().into();
        let (old, new) = ([old], [new]);
        let diff = diff(
            &inventory(vec![theirs]),
            &inventory(vec![ours]),
            &both(&old, &new),
        );
        assert!(diff.new_findings.is_empty() && diff.resolved_findings.is_empty());
    }

    #[test]
    fn what_one_side_could_not_say_is_not_compared_synthetic() {
        let mut syft = Inventory::default();
        syft.declare_not_checked(NotChecked::image_config(
            "this SBOM records no image config",
        ));
        let gpubom = Inventory {
            image: facts("", &["22/tcp"]),
            ..Default::default()
        };
        assert_eq!(
            unrecorded(&syft, &gpubom),
            BTreeSet::from([Fact::User, Fact::Ports, Fact::Labels])
        );
        assert!(unrecorded(&gpubom, &syft).is_empty());
        let borrowed = with_facts_of(&syft, &gpubom, &unrecorded(&syft, &gpubom));
        assert_eq!(borrowed.image, gpubom.image);
        assert!(borrowed.not_checked.is_empty());

        let root = [finding("image-runs-as-root", "image", "x", None)];
        let old_only = diff(
            &gpubom,
            &syft,
            &Findings {
                old: &root,
                new: &[],
                old_with_new_facts: None,
                // Syft's SBOM given gpubom's config: it would have fired there too.
                new_with_old_facts: Some(&root),
            },
        );
        assert!(old_only.resolved_findings.is_empty());
        assert_eq!(old_only.findings_not_compared, root);
        assert_eq!(
            old_only.facts_not_compared,
            [NotCompared {
                facts: vec![Fact::User, Fact::Ports],
                sides: vec!["new".to_string()],
                reason: "this SBOM records no image config".into(),
            }]
        );
        // The other way round it is not new either.
        let new_only = diff(
            &syft,
            &gpubom,
            &Findings {
                old: &[],
                new: &root,
                old_with_new_facts: Some(&root),
                new_with_old_facts: None,
            },
        );
        assert!(new_only.new_findings.is_empty());
        assert_eq!(new_only.findings_not_compared, root);
    }
}
