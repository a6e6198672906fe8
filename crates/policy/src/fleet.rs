//! The organisation's GPU fleet (`[fleet]` in `.gpubom.toml`), and whether a component's
//! device code runs on it.
//!
//! ```toml
//! [fleet]
//! driver = "535.183.01"         # the oldest driver the fleet runs
//! gpus = ["A100", "H100", "sm_89"]   # NVIDIA names, or compute capabilities
//! ```
//!
//! Whether SASS or PTX runs on a GPU is decided here ([`FleetCheck::unsupported`]), in Rust, by NVIDIA's documented rules
//! ([`gpubom_inventory::gpu`]), and handed to Cedar as `unsupported_gpus`: Cedar cannot
//! compare architectures, but rules still see the raw `sass_archs`, `ptx_archs` and
//! `min_driver` to write their own variants.

use gpubom_inventory::gpu::{self, tables, GpuArch};
use gpubom_inventory::version::GenericVersion;
use gpubom_inventory::{props, Component, Fact, Inventory, NotChecked};
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Fleet {
    /// The oldest host driver in the fleet, e.g. `535.183.01`; empty when not said.
    pub driver: String,
    /// GPUs by NVIDIA name (`A100`) or architecture (`sm_80`, `8.0`).
    pub gpus: Vec<String>,
}

/// One fleet GPU: as the user wrote it, and its compute capability.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetGpu {
    pub label: String,
    pub arch: GpuArch,
}

impl FleetGpu {
    /// `A100 (sm_80)`, or `sm_80` when written as an architecture.
    pub fn describe(&self) -> String {
        let arch = self.arch.to_string();
        if self.label == arch {
            arch
        } else {
            format!("{} ({arch})", self.label)
        }
    }
}

impl Fleet {
    /// The GPUs, checked: an unknown name is an error that says what to write instead.
    pub fn gpus(&self) -> Result<Vec<FleetGpu>, String> {
        self.gpus
            .iter()
            .map(|written| {
                let arch = tables::gpu_by_name(written)
                    .or_else(|| written.parse::<GpuArch>().ok())
                    .ok_or_else(|| {
                        let known: Vec<&str> = tables::GPUS.iter().map(|(n, _)| *n).collect();
                        format!(
                            "[fleet] gpus: {written:?} is neither a GPU gpubom knows ({}) nor an architecture; write its compute capability, e.g. \"sm_86\" or \"8.6\"",
                            known.join(", ")
                        )
                    })?;
                Ok(FleetGpu {
                    label: written.trim().to_string(),
                    arch,
                })
            })
            .collect()
    }

    /// Whether forward compatibility (`cuda-compat`) applies to the whole fleet: every GPU is
    /// named, and is a data center GPU or a Jetson board. GPUs given only by architecture
    /// could be GeForce cards, so they do not count.
    pub fn forward_compat_applies(&self) -> bool {
        !self.gpus.is_empty() && self.gpus.iter().all(|g| tables::forward_compat_applies(g))
    }

    /// The driver, checked.
    pub fn driver(&self) -> Result<Option<GenericVersion>, String> {
        if self.driver.trim().is_empty() {
            return Ok(None);
        }
        gpu::driver(&self.driver).map(Some).ok_or_else(|| {
            format!(
                "[fleet] driver = {:?} is not a driver version such as \"535.183.01\"",
                self.driver
            )
        })
    }

    /// What the gate cannot judge for want of a fleet: GPU architectures without `gpus`, the
    /// host driver without `driver`. Said only when a component has device code or needs a
    /// driver, so an image without CUDA is not told about GPUs.
    pub fn not_checked(&self, inventory: &Inventory) -> Vec<NotChecked> {
        let any = |keys: &[&str]| {
            inventory
                .components
                .iter()
                .any(|c| keys.iter().any(|k| c.properties.contains_key(*k)))
        };
        let mut out = Vec::new();
        if self.gpus.is_empty() && any(&[props::NVIDIA_SM_ARCHS, props::NVIDIA_PTX_ARCHS]) {
            out.push(NotChecked::image(
                Fact::GpuArchitectures,
                "no [fleet] gpus in .gpubom.toml; name the GPUs the image must run on (gpus = [\"A100\", \"sm_89\"])",
            ));
        }
        if self.driver.trim().is_empty() && any(&[props::NVIDIA_MIN_DRIVER]) {
            out.push(NotChecked::image(
                Fact::Driver,
                "no [fleet] driver in .gpubom.toml; give the oldest host driver the fleet runs (driver = \"535.183.01\")",
            ));
        }
        out
    }

    /// The GPUs and driver, parsed once for judging every component. A fleet that does not
    /// parse ([`crate::config::Config::parse`] refuses it) judges nothing.
    pub fn check(&self) -> FleetCheck {
        match (self.gpus(), self.driver()) {
            (Ok(gpus), Ok(driver)) => FleetCheck { gpus, driver },
            _ => FleetCheck::default(),
        }
    }
}

/// A parsed fleet, ready to judge components.
#[derive(Debug, Clone, Default)]
pub struct FleetCheck {
    gpus: Vec<FleetGpu>,
    driver: Option<GenericVersion>,
}

impl FleetCheck {
    /// The fleet GPUs none of whose code in `component` can run: no SASS for it, and no PTX
    /// that JIT-compiles for it on the fleet's driver. Empty for a component with no device
    /// code (nothing to run), with fatbins outside `.nv_fatbin` (not all its kernels are
    /// known), or when the fleet names no GPUs.
    pub fn unsupported(&self, component: &Component) -> Vec<String> {
        let (gpus, driver) = (&self.gpus, &self.driver);
        let list =
            |key: &str| gpu::parse_list(component.properties.get(key).map_or("", String::as_str));
        let (sass, ptx) = (list(props::NVIDIA_SM_ARCHS), list(props::NVIDIA_PTX_ARCHS));
        // Kernels outside `.nv_fatbin` (cuFFT) are loaded by the library itself: not judged.
        let elsewhere = component
            .properties
            .contains_key(props::NVIDIA_FATBINS_ELSEWHERE);
        if (sass.is_empty() && ptx.is_empty()) || elsewhere {
            return Vec::new();
        }
        // PTX is JIT-compiled only by a driver that knows its ISA; unknown driver: assume it does.
        let jit_possible = match (
            driver,
            component
                .properties
                .get(props::NVIDIA_PTX_ISA)
                .and_then(|isa| tables::ptx_isa_driver(isa)),
        ) {
            (Some(fleet), Some((_, needed))) => {
                gpu::driver(needed).is_some_and(|needed| *fleet >= needed)
            }
            _ => true,
        };
        gpus.iter()
            .filter(|gpu| {
                let sass_runs = sass.iter().any(|s| s.sass_runs_on(gpu.arch));
                let ptx_compiles = jit_possible && ptx.iter().any(|p| p.ptx_compiles_for(gpu.arch));
                !(sass_runs || ptx_compiles)
            })
            .map(FleetGpu::describe)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn library(sass: &str, ptx: &str, isa: Option<&str>) -> Component {
        let mut c = Component::default();
        c.properties
            .insert(props::NVIDIA_SM_ARCHS.into(), sass.into());
        c.properties
            .insert(props::NVIDIA_PTX_ARCHS.into(), ptx.into());
        if let Some(isa) = isa {
            c.properties
                .insert(props::NVIDIA_PTX_ISA.into(), isa.into());
        }
        c
    }

    fn fleet(driver: &str, gpus: &[&str]) -> Fleet {
        Fleet {
            driver: driver.into(),
            gpus: gpus.iter().map(|g| g.to_string()).collect(),
        }
    }

    #[test]
    fn names_and_architectures_are_accepted_and_typos_explained() {
        let gpus = fleet("", &["A100", "sm_90a", "8.9"]).gpus().unwrap();
        let described: Vec<String> = gpus.iter().map(FleetGpu::describe).collect();
        assert_eq!(described, ["A100 (sm_80)", "sm_90a", "8.9 (sm_89)"]);
        let err = fleet("", &["A10G"]).gpus().unwrap_err();
        assert!(err.contains("\"A10G\"") && err.contains("sm_86"), "{err}");
        assert!(fleet("latest", &[]).driver().is_err());
        assert!(fleet("", &["A100", "H100"]).forward_compat_applies());
        assert!(!fleet("", &["A100", "RTX 4090"]).forward_compat_applies());
        assert!(!fleet("", &["sm_80"]).forward_compat_applies());
    }

    #[test]
    fn sass_ptx_and_the_driver_decide_together() {
        // curand 10.4.0.35 (CUDA 13): SASS sm_75…sm_121, PTX sm_121 at ISA 9.0.
        let curand = library(
            "sm_75,sm_80,sm_86,sm_89,sm_90,sm_100,sm_103,sm_120,sm_121",
            "sm_121",
            Some("9.0"),
        );
        assert!(fleet("535.183.01", &["A100", "H100", "L4"])
            .check()
            .unsupported(&curand)
            .is_empty());
        assert_eq!(
            fleet("580.65.06", &["V100", "A100"])
                .check()
                .unsupported(&curand),
            ["V100 (sm_70)"]
        );
        // PTX for sm_80 JITs for a later GPU only on a driver that knows its ISA.
        let ptx_only = library("sm_80", "sm_80", Some("9.0"));
        assert!(fleet("580.65.06", &["sm_90"])
            .check()
            .unsupported(&ptx_only)
            .is_empty());
        assert_eq!(
            fleet("535.183.01", &["sm_90"])
                .check()
                .unsupported(&ptx_only),
            ["sm_90"]
        );
        assert!(fleet("", &["sm_90"])
            .check()
            .unsupported(&ptx_only)
            .is_empty());
        // `a` SASS runs only on its own architecture.
        let hopper_only = library("sm_90a", "", None);
        assert_eq!(
            fleet("", &["GB200"]).check().unsupported(&hopper_only),
            ["GB200 (sm_100)"]
        );
        // No device code: nothing to run, nothing unsupported.
        assert!(fleet("", &["V100"])
            .check()
            .unsupported(&library("", "", None))
            .is_empty());
    }
}
