//! Versions, one type per ecosystem.
//!
//! `2.6.0rc1`, `2.6.0a0+ecf3bae40a.nv25.01`, `1:2.36-9+deb12u4` and `12.1.105`
//! are all "versions", but each ecosystem orders its own by different rules:
//!
//! - **PyPI** ([`PypiVersion`]) follows PEP 440, through the `pep440_rs` crate:
//!   `2.6.0.dev1 < 2.6.0a0 < 2.6.0rc1 < 2.6.0 < 2.6.0+cu124 < 2.6.0.post1`. A local
//!   label (`+cu124`, `+nv25.01`) never lowers a version; a pre- or dev release
//!   always sorts below its release, whatever local label it carries.
//! - **Debian** ([`DebianVersion`]) follows dpkg: the epoch first, then the
//!   upstream version, then the revision, each compared as alternating runs of
//!   non-digits (letters before other characters, `~` before everything, even
//!   the end of the string) and numbers. So `1.0~rc1 < 1.0`, `1:0.9 > 2.0` and
//!   `1.0-1 < 1.0-1+deb12u1`.
//! - **Everything else** ([`GenericVersion`]: NVIDIA libraries, TensorRT engine
//!   builders, foreign SBOM components of unknown kind) is dotted numbers with
//!   an optional suffix; a suffix starting with `~` or naming a pre-release
//!   (`-rc1`, `.beta`, `-alpha2`, `-pre`, `-preview`, `.dev0`) sorts below the
//!   release, anything else (`+build`, `-1`, `p1`) does not lower it.
//!
//! Comparing by leading numbers alone, as gpubom once did, made `2.6.0rc1`
//! equal to `2.6.0`, so a rule for "torch below 2.6.0" missed release
//! candidates and NGC's `2.6.0a0+…nv25.01` builds. Versions of different
//! ecosystems are not comparable ([`Version::partial_cmp`] is `None`): a Debian
//! revision and a PEP 440 post release mean different things.

use crate::ComponentKind;
use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// Whose rules order a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ecosystem {
    Pypi,
    Debian,
    Generic,
}

impl Ecosystem {
    /// The ecosystem of a component's version.
    pub fn of(kind: ComponentKind) -> Ecosystem {
        match kind {
            ComponentKind::Python => Ecosystem::Pypi,
            ComponentKind::Deb => Ecosystem::Debian,
            _ => Ecosystem::Generic,
        }
    }
}

/// A parsed version of some ecosystem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Version {
    Pypi(PypiVersion),
    Debian(DebianVersion),
    Generic(GenericVersion),
}

impl Version {
    /// Parses `text` by `ecosystem`'s rules. A Python version that is not PEP 440
    /// (pip refuses those, but old installs have them) falls back to [`GenericVersion`].
    /// `None` when nothing version-like is there.
    pub fn parse(ecosystem: Ecosystem, text: &str) -> Option<Version> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        match ecosystem {
            Ecosystem::Pypi => match PypiVersion::parse(text) {
                Some(v) => Some(Version::Pypi(v)),
                None => GenericVersion::parse(text).map(Version::Generic),
            },
            Ecosystem::Debian => DebianVersion::parse(text).map(Version::Debian),
            Ecosystem::Generic => GenericVersion::parse(text).map(Version::Generic),
        }
    }

    pub fn ecosystem(&self) -> Ecosystem {
        match self {
            Version::Pypi(_) => Ecosystem::Pypi,
            Version::Debian(_) => Ecosystem::Debian,
            Version::Generic(_) => Ecosystem::Generic,
        }
    }

    /// The release numbers: PEP 440's release segment, the leading numbers of a
    /// Debian upstream version (epoch and revision left out), or the leading
    /// numbers of a generic version. Empty when the version has none (a Debian
    /// upstream version may start with a letter).
    pub fn release(&self) -> Vec<u64> {
        match self {
            Version::Pypi(v) => v.release().to_vec(),
            Version::Debian(v) => v.release(),
            Version::Generic(v) => v.release.clone(),
        }
    }

    /// Whether the version sorts below its own release ([`Version::release`]): a
    /// PEP 440 pre- or dev release (`2.6.0rc1`, `2.6.0a0+nv25.01`, `2.6.0.dev3`),
    /// a Debian `1.0~rc1`, a generic `12.4.0-rc1`.
    pub fn is_prerelease(&self) -> bool {
        match self {
            Version::Pypi(v) => v.is_prerelease(),
            Version::Debian(v) => v.is_prerelease(),
            Version::Generic(v) => v.is_prerelease(),
        }
    }
}

impl PartialOrd for Version {
    /// Within one ecosystem, that ecosystem's order; across ecosystems, `None`.
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match (self, other) {
            (Version::Pypi(a), Version::Pypi(b)) => Some(a.cmp(b)),
            (Version::Debian(a), Version::Debian(b)) => Some(a.cmp(b)),
            (Version::Generic(a), Version::Generic(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Version::Pypi(v) => v.fmt(f),
            Version::Debian(v) => v.fmt(f),
            Version::Generic(v) => v.fmt(f),
        }
    }
}

/// A PEP 440 version, ordered by PEP 440.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PypiVersion(pep440_rs::Version);

impl PypiVersion {
    pub fn parse(text: &str) -> Option<PypiVersion> {
        pep440_rs::Version::from_str(text.trim())
            .ok()
            .map(PypiVersion)
    }

    pub fn release(&self) -> &[u64] {
        self.0.release()
    }

    /// Below its release: a pre-release (`a`, `b`, `rc`) or a dev release of the
    /// release itself. `2.6.0.post1.dev0` is above 2.6.0, so not a pre-release.
    pub fn is_prerelease(&self) -> bool {
        let release = self.0.only_release().with_epoch(self.0.epoch());
        self.0 < release
    }
}

impl fmt::Display for PypiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A Debian package version, `[epoch:]upstream[-revision]`, ordered as dpkg does.
#[derive(Debug, Clone)]
pub struct DebianVersion {
    pub epoch: u64,
    pub upstream: String,
    /// Empty when the version has none (a native package).
    pub revision: String,
}

impl DebianVersion {
    /// Splits at the first `:` (the epoch, digits only) and the last `-` (the
    /// revision). `None` for an empty upstream version or a non-numeric epoch.
    pub fn parse(text: &str) -> Option<DebianVersion> {
        let text = text.trim();
        let (epoch, rest) = match text.split_once(':') {
            Some((epoch, rest)) => {
                if epoch.is_empty() || !epoch.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                (epoch.parse().ok()?, rest)
            }
            None => (0, text),
        };
        let (upstream, revision) = match rest.rsplit_once('-') {
            Some((upstream, revision)) => (upstream, revision),
            None => (rest, ""),
        };
        if upstream.is_empty() || upstream.chars().any(char::is_whitespace) {
            return None;
        }
        Some(DebianVersion {
            epoch,
            upstream: upstream.to_string(),
            revision: revision.to_string(),
        })
    }

    /// The leading dotted numbers of the upstream version: `2.36` → [2, 36],
    /// `1.2.13.dfsg` → [1, 2, 13], `9.2p1` → [9, 2], `1.0~rc1` → [1, 0].
    pub fn release(&self) -> Vec<u64> {
        leading_numbers(&self.upstream).0
    }

    /// Below the bare release of its leading numbers (same epoch, no revision):
    /// `1.0~rc1-1` is, `1.0+dfsg-1` and `9.2p1-2` are not.
    pub fn is_prerelease(&self) -> bool {
        let release = self.release();
        if release.is_empty() {
            return false;
        }
        let bare = DebianVersion {
            epoch: self.epoch,
            upstream: join(&release),
            revision: String::new(),
        };
        *self < bare
    }
}

impl Ord for DebianVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| dpkg_compare(&self.upstream, &other.upstream))
            .then_with(|| dpkg_compare(&self.revision, &other.revision))
    }
}

impl PartialOrd for DebianVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Equal as dpkg sees it: `1.0` equals `1.00` and `0:1.0`.
impl PartialEq for DebianVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for DebianVersion {}

impl fmt::Display for DebianVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.epoch != 0 {
            write!(f, "{}:", self.epoch)?;
        }
        f.write_str(&self.upstream)?;
        if !self.revision.is_empty() {
            write!(f, "-{}", self.revision)?;
        }
        Ok(())
    }
}

/// dpkg's `order()`: `~` first, then the end of a part and digits, then
/// letters, then everything else.
fn dpkg_order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(b'~') => -1,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => c as i32,
        Some(c) => c as i32 + 256,
    }
}

/// dpkg's `verrevcmp()`: alternating runs of non-digits (by [`dpkg_order`]) and
/// numbers (by value, leading zeros ignored).
fn dpkg_compare(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        while (i < a.len() && !a[i].is_ascii_digit()) || (j < b.len() && !b[j].is_ascii_digit()) {
            let (ac, bc) = (dpkg_order(a.get(i).copied()), dpkg_order(b.get(j).copied()));
            if ac != bc {
                return ac.cmp(&bc);
            }
            i += 1;
            j += 1;
        }
        while i < a.len() && a[i] == b'0' {
            i += 1;
        }
        while j < b.len() && b[j] == b'0' {
            j += 1;
        }
        let mut first_diff = Ordering::Equal;
        while i < a.len() && j < b.len() && a[i].is_ascii_digit() && b[j].is_ascii_digit() {
            if first_diff == Ordering::Equal {
                first_diff = a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
        }
        if i < a.len() && a[i].is_ascii_digit() {
            return Ordering::Greater;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            return Ordering::Less;
        }
        if first_diff != Ordering::Equal {
            return first_diff;
        }
    }
    Ordering::Equal
}

/// Dotted numbers and an optional suffix, for ecosystems without a version
/// standard of their own (NVIDIA libraries, TensorRT engine builders).
#[derive(Debug, Clone)]
pub struct GenericVersion {
    pub release: Vec<u64>,
    /// What follows the numbers: `-rc1`, `+cu124`, `p1`, or empty.
    pub suffix: String,
}

/// Suffix words that name a pre-release.
const PRERELEASE_WORDS: &[&str] = &["alpha", "beta", "rc", "pre", "preview", "dev"];

impl GenericVersion {
    /// `v12.1.105` → [12, 1, 105]; a leading `N:` epoch is dropped. `None` when
    /// no number leads.
    pub fn parse(text: &str) -> Option<GenericVersion> {
        let text = text.trim();
        let text = match text.split_once(':') {
            Some((epoch, rest))
                if !epoch.is_empty() && epoch.bytes().all(|b| b.is_ascii_digit()) =>
            {
                rest
            }
            _ => text,
        };
        let text = text.trim_start_matches(['v', 'V']);
        let (release, consumed) = leading_numbers(text);
        if release.is_empty() {
            return None;
        }
        Some(GenericVersion {
            release,
            suffix: text[consumed..].to_string(),
        })
    }

    /// A suffix starting with `~`, or naming a pre-release word after an
    /// optional `-`, `.` or `_`: `~beta`, `-rc1`, `.dev0`, `alpha2`.
    pub fn is_prerelease(&self) -> bool {
        let s = self.suffix.to_ascii_lowercase();
        if s.starts_with('~') {
            return true;
        }
        let s = s.strip_prefix(['-', '.', '_']).unwrap_or(&s);
        PRERELEASE_WORDS.iter().any(|w| {
            s.strip_prefix(w)
                .is_some_and(|rest| !rest.starts_with(|c: char| c.is_ascii_alphabetic()))
        })
    }
}

impl Ord for GenericVersion {
    /// Release numbers (missing ones are 0), then a pre-release below the rest,
    /// then pre-release suffixes as text. Other suffixes (`+cu124`) do not order.
    fn cmp(&self, other: &Self) -> Ordering {
        let len = self.release.len().max(other.release.len());
        let part = |v: &GenericVersion, i: usize| v.release.get(i).copied().unwrap_or(0);
        (0..len)
            .map(|i| part(self, i).cmp(&part(other, i)))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
            .then_with(|| match (self.is_prerelease(), other.is_prerelease()) {
                (true, false) => Ordering::Less,
                (false, true) => Ordering::Greater,
                (true, true) => self.suffix.cmp(&other.suffix),
                (false, false) => Ordering::Equal,
            })
    }
}

impl PartialOrd for GenericVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for GenericVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for GenericVersion {}

impl fmt::Display for GenericVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", join(&self.release), self.suffix)
    }
}

/// The leading `N(.N)*` of `text` and how many bytes it spans; a number too
/// large for u64 saturates.
fn leading_numbers(text: &str) -> (Vec<u64>, usize) {
    let bytes = text.as_bytes();
    let mut numbers = Vec::new();
    let mut end = 0;
    let mut i = 0;
    loop {
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            break;
        }
        numbers.push(text[start..i].parse().unwrap_or(u64::MAX));
        end = i;
        if i + 1 < bytes.len() && bytes[i] == b'.' && bytes[i + 1].is_ascii_digit() {
            i += 1;
        } else {
            break;
        }
    }
    (numbers, end)
}

fn join(numbers: &[u64]) -> String {
    numbers
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deb(s: &str) -> DebianVersion {
        DebianVersion::parse(s).unwrap_or_else(|| panic!("{s} parses"))
    }

    fn pypi(s: &str) -> PypiVersion {
        PypiVersion::parse(s).unwrap_or_else(|| panic!("{s} parses"))
    }

    fn generic(s: &str) -> GenericVersion {
        GenericVersion::parse(s).unwrap_or_else(|| panic!("{s} parses"))
    }

    /// Ascending chains: each version strictly below the next.
    fn ascending<T: Ord + fmt::Debug>(chain: &[T]) {
        for pair in chain.windows(2) {
            assert!(pair[0] < pair[1], "{:?} < {:?}", pair[0], pair[1]);
        }
    }

    #[test]
    fn dpkg_order_from_dpkgs_own_examples() {
        // The examples of deb-version(7) and dpkg's t-version tests.
        assert!(deb("1.0~rc1") < deb("1.0"));
        assert!(deb("1:0.9") > deb("2.0"));
        assert!(deb("1.0-1") < deb("1.0-1+deb12u1"));
        ascending(&[deb("~~"), deb("~~a"), deb("~"), deb("0"), deb("a")]);
        ascending(&[
            deb("1.0~~"),
            deb("1.0~~a"),
            deb("1.0~"),
            deb("1.0"),
            deb("1.0a"),
            deb("1.0+"),
            deb("1.0.1"),
        ]);
        ascending(&[deb("1.0-1"), deb("1.0-2"), deb("1.0-10"), deb("1.1-1")]);
        ascending(&[deb("2.36-9"), deb("2.36-9+deb12u4"), deb("2.36-9+deb12u10")]);
        ascending(&[deb("9.2p1-2"), deb("9.3p1-1"), deb("1:7.9p1-10")]);
        assert_eq!(deb("1.0"), deb("1.00"));
        assert_eq!(deb("0:1.0"), deb("1.0"));
        assert_eq!(deb("1.0"), deb("1.0-0"));
        assert!(deb("1.2.13.dfsg-1") > deb("1.2.13"));
        assert!(deb("1.2.13.dfsg-1") < deb("1.2.14"));
        // The last hyphen splits off the revision; the first colon the epoch.
        let v = deb("1:2.36-rc1-9+deb12u4");
        assert_eq!((v.epoch, v.upstream.as_str()), (1, "2.36-rc1"));
        assert_eq!(v.revision, "9+deb12u4");
        assert!(DebianVersion::parse("x:1.0").is_none());
        assert!(DebianVersion::parse("1:").is_none());
        assert!(DebianVersion::parse("").is_none());
    }

    #[test]
    fn debian_releases_and_prereleases() {
        assert_eq!(deb("1:2.36-9+deb12u4").release(), vec![2, 36]);
        assert_eq!(deb("1.2.13.dfsg-1").release(), vec![1, 2, 13]);
        assert_eq!(deb("9.2p1-2").release(), vec![9, 2]);
        for v in ["1.0~rc1", "1.0~rc1-1", "2:12.4.0~beta-1"] {
            assert!(deb(v).is_prerelease(), "{v}");
        }
        for v in [
            "1.0",
            "1.0-1",
            "1.0+dfsg-1",
            "9.2p1-2",
            "1.2.13.dfsg-1",
            "abc-1",
        ] {
            assert!(!deb(v).is_prerelease(), "{v}");
        }
    }

    #[test]
    fn pep440_order() {
        ascending(&[
            pypi("2.5.1+cu121"),
            pypi("2.6.0.dev20241112"),
            pypi("2.6.0a0+ecf3bae40a.nv25.01"),
            pypi("2.6.0b1"),
            pypi("2.6.0rc1"),
            pypi("2.6.0"),
            pypi("2.6.0+cu124"),
            pypi("2.6.0.post1"),
            pypi("2.7.0"),
        ]);
        assert!(pypi("1!1.0") > pypi("2.0"));
        assert_eq!(pypi("2.6"), pypi("2.6.0"));
        for v in [
            "2.6.0rc1",
            "2.6.0a0+ecf3bae40a.nv25.01",
            "2.6.0.dev1",
            "2.6.0b2.post1",
        ] {
            assert!(pypi(v).is_prerelease(), "{v}");
        }
        for v in [
            "2.6.0",
            "2.6.0+cu124",
            "2.6.0.post1",
            "2.6.0.post1.dev0",
            "1!2.0",
        ] {
            assert!(!pypi(v).is_prerelease(), "{v}");
        }
        assert_eq!(pypi("2.6.0a0+ecf3bae40a.nv25.01").release(), &[2, 6, 0]);
        assert!(PypiVersion::parse("not a version").is_none());
    }

    #[test]
    fn generic_order() {
        ascending(&[
            generic("11.8"),
            generic("12.1.105"),
            generic("12.4.0-rc1"),
            generic("12.4.0-rc2"),
            generic("12.4"),
            generic("12.4.1"),
        ]);
        assert_eq!(generic("12.4.0"), generic("12.4"));
        assert_eq!(generic("2.6.0+cu124"), generic("2.6.0"));
        assert_eq!(generic("v8.9.2.26").release, vec![8, 9, 2, 26]);
        assert_eq!(generic("1:2.3").release, vec![2, 3]);
        for v in [
            "1.0~beta",
            "1.0-rc1",
            "1.0.dev0",
            "1.0alpha2",
            "1.0-preview",
        ] {
            assert!(generic(v).is_prerelease(), "{v}");
        }
        for v in [
            "1.0",
            "1.0-1",
            "1.0+cu124",
            "1.1.1w",
            "9.2p1",
            "1.0-release",
            "1.0-ubuntu1",
        ] {
            assert!(!generic(v).is_prerelease(), "{v}");
        }
        assert!(GenericVersion::parse("abc").is_none());
    }

    #[test]
    fn parsed_by_ecosystem_and_compared_within_it() {
        let v = |e, s| Version::parse(e, s).unwrap();
        assert!(v(Ecosystem::Pypi, "2.6.0rc1") < v(Ecosystem::Pypi, "2.6.0"));
        assert!(v(Ecosystem::Debian, "1.0~rc1") < v(Ecosystem::Debian, "1.0"));
        assert_eq!(
            v(Ecosystem::Pypi, "2.6.0").partial_cmp(&v(Ecosystem::Generic, "2.6.0")),
            None
        );
        // Not PEP 440: read as a generic version rather than lost.
        assert_eq!(
            v(Ecosystem::Pypi, "1.0.0-SNAPSHOT").ecosystem(),
            Ecosystem::Generic
        );
        assert_eq!(Version::parse(Ecosystem::Pypi, ""), None);
        assert_eq!(Version::parse(Ecosystem::Generic, "unknown"), None);
        assert_eq!(Ecosystem::of(ComponentKind::Python), Ecosystem::Pypi);
        assert_eq!(Ecosystem::of(ComponentKind::Deb), Ecosystem::Debian);
        assert_eq!(
            Ecosystem::of(ComponentKind::NativeLibrary),
            Ecosystem::Generic
        );
    }
}
