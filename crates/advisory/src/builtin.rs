//! The advisories that ship inside gpubom (`advisories/` at the top of the
//! repository; its README names the vendor document behind each record).

/// When the built-in records were last checked against their sources.
pub const DATA_VERSION: &str = "2026-11-26";

/// (path in the repository, OSV JSON).
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "advisories/nvidia-container-toolkit/CVE-2024-0132.json",
        include_str!("../../../advisories/nvidia-container-toolkit/CVE-2024-0132.json"),
    ),
    (
        "advisories/nvidia-container-toolkit/CVE-2024-0133.json",
        include_str!("../../../advisories/nvidia-container-toolkit/CVE-2024-0133.json"),
    ),
    (
        "advisories/nvidia-container-toolkit/CVE-2024-0134.json",
        include_str!("../../../advisories/nvidia-container-toolkit/CVE-2024-0134.json"),
    ),
    (
        "advisories/nvidia-container-toolkit/CVE-2024-0135.json",
        include_str!("../../../advisories/nvidia-container-toolkit/CVE-2024-0135.json"),
    ),
    (
        "advisories/nvidia-container-toolkit/CVE-2024-0136.json",
        include_str!("../../../advisories/nvidia-container-toolkit/CVE-2024-0136.json"),
    ),
    (
        "advisories/nvidia-container-toolkit/CVE-2024-0137.json",
        include_str!("../../../advisories/nvidia-container-toolkit/CVE-2024-0137.json"),
    ),
    (
        "advisories/nvidia-container-toolkit/CVE-2025-23359.json",
        include_str!("../../../advisories/nvidia-container-toolkit/CVE-2025-23359.json"),
    ),
    (
        "advisories/nvidia-container-toolkit/GPUBOM-NVIDIA-2025-23266.json",
        include_str!("../../../advisories/nvidia-container-toolkit/GPUBOM-NVIDIA-2025-23266.json"),
    ),
    (
        "advisories/nvidia-container-toolkit/GPUBOM-NVIDIA-2025-23267.json",
        include_str!("../../../advisories/nvidia-container-toolkit/GPUBOM-NVIDIA-2025-23267.json"),
    ),
    (
        "advisories/nvidia-container-toolkit/GPUBOM-NVIDIA-2026-24260.json",
        include_str!("../../../advisories/nvidia-container-toolkit/GPUBOM-NVIDIA-2026-24260.json"),
    ),
    (
        "advisories/onnx/GHSA-6rq9-53c3-f7vj.json",
        include_str!("../../../advisories/onnx/GHSA-6rq9-53c3-f7vj.json"),
    ),
    (
        "advisories/onnx/GHSA-whh8-fjgc-qp73.json",
        include_str!("../../../advisories/onnx/GHSA-whh8-fjgc-qp73.json"),
    ),
    (
        "advisories/onnx/PYSEC-2023-38.json",
        include_str!("../../../advisories/onnx/PYSEC-2023-38.json"),
    ),
    (
        "advisories/onnx/PYSEC-2024-223.json",
        include_str!("../../../advisories/onnx/PYSEC-2024-223.json"),
    ),
    (
        "advisories/onnx/PYSEC-2025-10.json",
        include_str!("../../../advisories/onnx/PYSEC-2025-10.json"),
    ),
    (
        "advisories/pytorch/GHSA-5pcm-hx3q-hm94.json",
        include_str!("../../../advisories/pytorch/GHSA-5pcm-hx3q-hm94.json"),
    ),
    (
        "advisories/pytorch/GHSA-pg7h-5qx3-wjr3.json",
        include_str!("../../../advisories/pytorch/GHSA-pg7h-5qx3-wjr3.json"),
    ),
    (
        "advisories/pytorch/PYSEC-2022-43015.json",
        include_str!("../../../advisories/pytorch/PYSEC-2022-43015.json"),
    ),
    (
        "advisories/pytorch/PYSEC-2024-250.json",
        include_str!("../../../advisories/pytorch/PYSEC-2024-250.json"),
    ),
    (
        "advisories/pytorch/PYSEC-2025-41.json",
        include_str!("../../../advisories/pytorch/PYSEC-2025-41.json"),
    ),
    (
        "advisories/tensorflow/GHSA-5w96-866f-6rm8.json",
        include_str!("../../../advisories/tensorflow/GHSA-5w96-866f-6rm8.json"),
    ),
    (
        "advisories/tensorflow/GHSA-6hg6-5c2q-7rcr.json",
        include_str!("../../../advisories/tensorflow/GHSA-6hg6-5c2q-7rcr.json"),
    ),
    (
        "advisories/tensorflow/GHSA-f49c-87jh-g47q.json",
        include_str!("../../../advisories/tensorflow/GHSA-f49c-87jh-g47q.json"),
    ),
    (
        "advisories/tensorflow/GHSA-f637-vh3r-vfh2.json",
        include_str!("../../../advisories/tensorflow/GHSA-f637-vh3r-vfh2.json"),
    ),
    (
        "advisories/tensorflow/GHSA-gw97-ff7c-9v96.json",
        include_str!("../../../advisories/tensorflow/GHSA-gw97-ff7c-9v96.json"),
    ),
    (
        "advisories/tensorrt/GPUBOM-NVIDIA-2026-24188.json",
        include_str!("../../../advisories/tensorrt/GPUBOM-NVIDIA-2026-24188.json"),
    ),
    (
        "advisories/tensorrt/GPUBOM-NVIDIA-2026-24227.json",
        include_str!("../../../advisories/tensorrt/GPUBOM-NVIDIA-2026-24227.json"),
    ),
    (
        "advisories/tensorrt/GPUBOM-NVIDIA-2026-24238.json",
        include_str!("../../../advisories/tensorrt/GPUBOM-NVIDIA-2026-24238.json"),
    ),
    (
        "advisories/tensorrt/GPUBOM-NVIDIA-2026-24268.json",
        include_str!("../../../advisories/tensorrt/GPUBOM-NVIDIA-2026-24268.json"),
    ),
    (
        "advisories/tensorrt/GPUBOM-NVIDIA-2026-24272.json",
        include_str!("../../../advisories/tensorrt/GPUBOM-NVIDIA-2026-24272.json"),
    ),
    (
        "advisories/triton/GPUBOM-NVIDIA-2025-23310.json",
        include_str!("../../../advisories/triton/GPUBOM-NVIDIA-2025-23310.json"),
    ),
    (
        "advisories/triton/GPUBOM-NVIDIA-2025-23311.json",
        include_str!("../../../advisories/triton/GPUBOM-NVIDIA-2025-23311.json"),
    ),
    (
        "advisories/triton/GPUBOM-NVIDIA-2025-23316.json",
        include_str!("../../../advisories/triton/GPUBOM-NVIDIA-2025-23316.json"),
    ),
    (
        "advisories/triton/GPUBOM-NVIDIA-2025-23317.json",
        include_str!("../../../advisories/triton/GPUBOM-NVIDIA-2025-23317.json"),
    ),
    (
        "advisories/triton/GPUBOM-NVIDIA-2026-24207.json",
        include_str!("../../../advisories/triton/GPUBOM-NVIDIA-2026-24207.json"),
    ),
    (
        "advisories/triton/GPUBOM-NVIDIA-2026-47627.json",
        include_str!("../../../advisories/triton/GPUBOM-NVIDIA-2026-47627.json"),
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// A record added to `advisories/` but not here would never be matched.
    #[test]
    fn every_file_in_the_advisories_directory_is_built_in() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../advisories");
        let mut on_disk = Vec::new();
        for dir in std::fs::read_dir(&root).unwrap().flatten() {
            if dir.path().is_dir() {
                for file in std::fs::read_dir(dir.path()).unwrap().flatten() {
                    let path = file.path();
                    let relative = path.strip_prefix(root.parent().unwrap()).unwrap();
                    on_disk.push(relative.display().to_string());
                }
            }
        }
        on_disk.sort();
        let built_in: Vec<String> = BUILTIN.iter().map(|(p, _)| p.to_string()).collect();
        assert_eq!(on_disk, built_in);
    }

    /// NVIDIA's records cite its bulletin; the PyPI ones their GHSA or PYSEC record.
    #[test]
    fn every_built_in_record_parses_and_cites_its_source() {
        for (path, text) in BUILTIN {
            crate::Advisory::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{path}: {e}"));
            let doc: serde_json::Value = serde_json::from_str(text).unwrap();
            assert!(doc["database_specific"]["source"].is_string(), "{path}");
            let cited = |prefix: &str| {
                doc["references"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|r| r["url"].as_str().is_some_and(|u| u.starts_with(prefix)))
            };
            let id = doc["id"].as_str().unwrap();
            if id.starts_with("GPUBOM-NVIDIA-") {
                assert!(cited("https://nvidia.custhelp.com/"), "{path}");
            } else {
                assert!(
                    cited("https://github.com/advisories/GHSA-")
                        || cited("https://github.com/pypa/advisory-database")
                        || cited("https://osv.dev/"),
                    "{path}: cite the GHSA or PYSEC record"
                );
            }
        }
    }
}
