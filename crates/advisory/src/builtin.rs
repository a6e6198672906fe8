//! The advisories that ship inside gpubom (`advisories/` at the top of the
//! repository; its README names the vendor document behind each record).

/// When the built-in records were last checked against their sources.
pub const DATA_VERSION: &str = "2026-11-25";

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

    #[test]
    fn every_built_in_record_parses_and_cites_a_vendor_bulletin() {
        for (path, text) in BUILTIN {
            crate::Advisory::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{path}: {e}"));
            let doc: serde_json::Value = serde_json::from_str(text).unwrap();
            let bulletin = doc["database_specific"]["bulletin"]
                .as_str()
                .unwrap_or_default();
            assert!(
                bulletin.starts_with("https://nvidia.custhelp.com/"),
                "{path}"
            );
            assert!(doc["database_specific"]["source"].is_string(), "{path}");
        }
    }
}
