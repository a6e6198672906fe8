//! The version record Cedar rules compare: `principal.cuda_min`,
//! `resource.version`, a model's `builder_version`.
//!
//! The configuration parses its floors into it, the organisation's own values
//! hold it, and the entities carry it, so it sits below all three.

use gpubom_inventory::version::{self as known, Ecosystem};
use serde_json::{json, Value};

/// A version as Cedar sees it: the release numbers as four Longs, whether it
/// is a pre-release, and one ordering key.
///
/// The precise order lives in [`gpubom_inventory::version`] (PEP 440, dpkg,
/// dotted numbers); Cedar has no version type, so rules get this projection.
/// Epochs and Debian revisions are left out: rules compare upstream releases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Version {
    pub major: i64,
    pub minor: i64,
    pub patch: i64,
    pub build: i64,
    /// Sorts below its release: `2.6.0rc1`, `2.6.0a0+ecf3bae40a.nv25.01`, `1.0~rc1`.
    pub prerelease: bool,
}

impl Version {
    /// The record of a parsed version; `None` when it has no release numbers.
    pub fn of(version: &known::Version) -> Option<Version> {
        let release = version.release();
        if release.is_empty() {
            return None;
        }
        let part = |i: usize| release.get(i).map_or(0, |&n| n.min(i64::MAX as u64) as i64);
        Some(Version {
            major: part(0),
            minor: part(1),
            patch: part(2),
            build: part(3),
            prerelease: version.is_prerelease(),
        })
    }

    /// Parses `text` by `ecosystem`'s rules: `2.6.0+cu124` (PyPI) → 2.6.0.0,
    /// `2.6.0rc1` → 2.6.0.0 pre-release, `8.9.2.26` → 8.9.2.26, Debian
    /// `1:2.36-9+deb12u4` → 2.36.0.0. `None` when there is no version there.
    pub fn parse(ecosystem: Ecosystem, text: &str) -> Option<Version> {
        Version::of(&known::Version::parse(ecosystem, text)?)
    }

    /// One Long that orders versions: major·10⁹ + minor·10⁶ + patch·10³ + build,
    /// each part clamped so it cannot overflow, minus one for a pre-release. So
    /// `key < X.key` holds for every pre-release of X (they share that key).
    pub fn key(&self) -> i64 {
        self.major.min(9_000_000) * 1_000_000_000
            + self.minor.min(999) * 1_000_000
            + self.patch.min(999) * 1_000
            + self.build.min(999)
            - i64::from(self.prerelease)
    }

    pub fn to_json(self) -> Value {
        json!({
            "major": self.major, "minor": self.minor, "patch": self.patch, "build": self.build,
            "prerelease": self.prerelease,
            "key": self.key(),
            "mmp": format!("{}.{}.{}", self.major, self.minor, self.patch),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(major: i64, minor: i64, patch: i64, build: i64) -> Version {
        Version {
            major,
            minor,
            patch,
            build,
            prerelease: false,
        }
    }

    #[test]
    fn versions() {
        let v = |e, s| Version::parse(e, s).unwrap();
        let (pypi, deb, generic) = (Ecosystem::Pypi, Ecosystem::Debian, Ecosystem::Generic);
        assert_eq!(v(pypi, "2.6.0+cu124"), release(2, 6, 0, 0));
        assert_eq!(v(generic, "8.9.2.26"), release(8, 9, 2, 26));
        assert_eq!(v(deb, "1:2.36-9+deb12u4"), release(2, 36, 0, 0));
        assert_eq!(v(generic, "12.1.105").key(), 12_001_105_000);
        assert!(v(pypi, "2.5.1").key() < v(pypi, "2.6.0").key());
        assert!(v(generic, "10.16.1").key() > v(generic, "10.9.0").key());
        assert_eq!(Version::parse(generic, "abc"), None);
        assert_eq!(Version::parse(pypi, ""), None);
    }

    #[test]
    fn prereleases_key_below_their_release() {
        let v = |e, s| Version::parse(e, s).unwrap();
        let pypi = Ecosystem::Pypi;
        let bar = v(pypi, "2.6.0").key();
        for pre in [
            "2.6.0rc1",
            "2.6.0a0+ecf3bae40a.nv25.01",
            "2.6.0.dev20241112",
        ] {
            let pre = v(pypi, pre);
            assert!(pre.prerelease && pre.key() < bar, "{pre:?}");
            assert!(pre.key() > v(pypi, "2.5.1").key(), "{pre:?}");
            assert_eq!(pre.to_json()["mmp"], "2.6.0");
        }
        for not in ["2.6.0", "2.6.0+cu124", "2.6.0.post1"] {
            let not = v(pypi, not);
            assert!(!not.prerelease && not.key() == bar, "{not:?}");
        }
        assert!(v(Ecosystem::Debian, "11.8.0~rc1-1").key() < v(Ecosystem::Generic, "11.8").key());
        assert_eq!(v(pypi, "2.6.0rc1").to_json()["prerelease"], true);
    }
}
