//! Which GPUs a library's device code runs on, and which driver it needs.
//!
//! The catalogers record what a fatbin holds (`sm_90a` SASS, `sm_120` PTX); the gate asks
//! whether that runs on the organisation's fleet. Both sides meet here, so the rules of
//! NVIDIA's binary and PTX compatibility are written once. The rules and every number in
//! the tables come from NVIDIA's documents, cited beside them.

use crate::version::GenericVersion;
use std::fmt;

pub mod tables;
use std::str::FromStr;

/// What a build targets beyond its compute capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Variant {
    /// `sm_80`: runs on its own and later minor revisions of the same major.
    Portable,
    /// `sm_90a`: architecture-specific features, runs on exactly that compute capability.
    ArchSpecific,
    /// `sm_100f`: family-specific features, runs on the same major with a minor ≥ its own.
    FamilySpecific,
}

/// A GPU architecture as `nvcc` and `cuobjdump` name it: `sm_75`, `sm_90a`, `sm_100f`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GpuArch {
    pub major: u32,
    pub minor: u32,
    pub variant: Variant,
}

impl GpuArch {
    pub const fn new(major: u32, minor: u32) -> GpuArch {
        GpuArch {
            major,
            minor,
            variant: Variant::Portable,
        }
    }

    /// `sm_90` from NVIDIA's number 90 (major·10 + minor), as fatbin headers carry it.
    pub fn from_number(number: u32, variant: Variant) -> GpuArch {
        GpuArch {
            major: number / 10,
            minor: number % 10,
            variant,
        }
    }

    /// Whether SASS built for `self` runs on a GPU of compute capability `gpu`.
    ///
    /// NVIDIA CUDA C++ Programming Guide, "Binary Compatibility": a cubin for compute
    /// capability X.y runs only on X.z with z ≥ y; `a` targets run only on exactly X.y;
    /// `f` targets on devices of the same family (major) with z ≥ y.
    pub fn sass_runs_on(&self, gpu: GpuArch) -> bool {
        match self.variant {
            Variant::ArchSpecific => self.major == gpu.major && self.minor == gpu.minor,
            Variant::Portable | Variant::FamilySpecific => {
                self.major == gpu.major && gpu.minor >= self.minor
            }
        }
    }

    /// Whether PTX written for `self` can be JIT-compiled for `gpu` ("PTX Compatibility":
    /// PTX for compute capability X.y compiles for any compute capability ≥ X.y, unless it
    /// uses architecture- or family-specific features).
    pub fn ptx_compiles_for(&self, gpu: GpuArch) -> bool {
        match self.variant {
            Variant::Portable => (gpu.major, gpu.minor) >= (self.major, self.minor),
            _ => self.sass_runs_on(gpu),
        }
    }
}

impl fmt::Display for GpuArch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let suffix = match self.variant {
            Variant::Portable => "",
            Variant::ArchSpecific => "a",
            Variant::FamilySpecific => "f",
        };
        write!(f, "sm_{}{suffix}", self.major * 10 + self.minor)
    }
}

impl FromStr for GpuArch {
    type Err = String;

    /// `sm_90a`, `sm_120`, `compute_80`, or a compute capability `8.6`.
    fn from_str(text: &str) -> Result<GpuArch, String> {
        let t = text.trim().to_ascii_lowercase();
        if let Some((major, minor)) = t.split_once('.') {
            if let (Ok(major), Ok(minor)) = (major.parse(), minor.parse()) {
                if minor < 10 {
                    return Ok(GpuArch::new(major, minor));
                }
            }
        }
        let digits = t
            .strip_prefix("sm_")
            .or_else(|| t.strip_prefix("compute_"))
            .ok_or_else(|| format!("{text:?} is not an architecture such as sm_80 or 8.0"))?;
        let (number, variant) = match digits.as_bytes().last() {
            Some(b'a') => (&digits[..digits.len() - 1], Variant::ArchSpecific),
            Some(b'f') => (&digits[..digits.len() - 1], Variant::FamilySpecific),
            _ => (digits, Variant::Portable),
        };
        let number: u32 = number
            .parse()
            .map_err(|_| format!("{text:?} is not an architecture such as sm_80 or 8.0"))?;
        if !(10..=1000).contains(&number) {
            return Err(format!("{text:?}: no GPU has that compute capability"));
        }
        Ok(GpuArch::from_number(number, variant))
    }
}

/// Parses a comma-separated architecture list (a property's value), skipping what does not parse.
pub fn parse_list(text: &str) -> Vec<GpuArch> {
    let mut list: Vec<GpuArch> = text.split(',').filter_map(|a| a.parse().ok()).collect();
    list.sort();
    list.dedup();
    list
}

/// Writes a list in compute-capability order: `sm_75,sm_80,sm_90a,sm_100`.
pub fn format_list(list: &[GpuArch]) -> String {
    list.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// A driver version, ordered numerically (`580.65.06` > `575.57.08`).
pub fn driver(text: &str) -> Option<GenericVersion> {
    GenericVersion::parse(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arch(s: &str) -> GpuArch {
        s.parse().unwrap()
    }

    #[test]
    fn names_round_trip_and_order_numerically() {
        for name in ["sm_75", "sm_90a", "sm_100f", "sm_121"] {
            assert_eq!(arch(name).to_string(), name);
        }
        assert_eq!(arch("8.6"), arch("sm_86"));
        assert_eq!(arch("compute_120"), arch("sm_120"));
        assert_eq!(
            format_list(&parse_list("sm_100,sm_75,sm_90a,sm_90,bogus,sm_75")),
            "sm_75,sm_90,sm_90a,sm_100"
        );
        assert!("sm_".parse::<GpuArch>().is_err());
        assert!("sm_5".parse::<GpuArch>().is_err());
        assert!("A100".parse::<GpuArch>().is_err());
    }

    #[test]
    fn binary_compatibility_follows_the_programming_guide() {
        // Same major, minor at or above: sm_80 SASS runs on 8.6, not on 7.5 or 9.0.
        assert!(arch("sm_80").sass_runs_on(arch("8.6")));
        assert!(!arch("sm_86").sass_runs_on(arch("8.0")));
        assert!(!arch("sm_80").sass_runs_on(arch("9.0")));
        assert!(!arch("sm_75").sass_runs_on(arch("8.0")));
        // `a` only on exactly its own compute capability.
        assert!(arch("sm_90a").sass_runs_on(arch("9.0")));
        assert!(!arch("sm_100a").sass_runs_on(arch("10.3")));
        // `f` across its family.
        assert!(arch("sm_100f").sass_runs_on(arch("10.3")));
        assert!(!arch("sm_100f").sass_runs_on(arch("11.0")));
        // PTX forward across majors, but not backward.
        assert!(arch("sm_80").ptx_compiles_for(arch("12.0")));
        assert!(!arch("sm_121").ptx_compiles_for(arch("12.0")));
        assert!(!arch("sm_90a").ptx_compiles_for(arch("10.0")));
    }
}
