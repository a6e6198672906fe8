#!/usr/bin/env python3
"""Generate crates/catalog/data/fingerprints.tsv from real NVIDIA wheels on PyPI.

For every release of each package that pip can download for x86_64 (manylinux), the
wheel's RECORD gives the sha256 of each shared library it installs; the script checks
that hash against the library's actual bytes and writes one row per library:

    sha256  product  version  file  source

Only facts read from real bytes go in the table. Wheels are cached in .fixtures/wheels.

Usage: scripts/gen-fingerprints.py [--include-big] [--only PACKAGE] [--out PATH]
"""
import argparse, base64, csv, hashlib, io, os, re, subprocess, sys, zipfile

# package -> (product name used in purls, minimum version to include, big?)
PACKAGES = {
    "nvidia-cuda-runtime-cu11": ("cuda-runtime", "11.8", False),
    "nvidia-cuda-runtime-cu12": ("cuda-runtime", "12.0", False),
    "nvidia-nvtx-cu12": ("nvtx", "12.0", False),
    "nvidia-cuda-nvrtc-cu12": ("nvrtc", "12.0", False),
    "nvidia-nccl-cu12": ("nccl", "2.18", False),
    "nvidia-cudnn-cu12": ("cudnn", "8.9", True),
    "nvidia-cudnn-cu11": ("cudnn", "8.9", True),
}
# Every x86_64 manylinux tag pip may meet: newer wheels (NCCL 2.28+) no longer use manylinux2014.
PLATFORMS = ["manylinux2014_x86_64"] + [f"manylinux_2_{m}_x86_64" for m in range(17, 40)]
# Wheels above this size are deleted once hashed, so cuDNN's ~600 MB releases don't fill the disk.
KEEP_BYTES = 64 << 20
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(ROOT, ".fixtures", "wheels")
LIB = re.compile(r"(^|/)lib[^/]*\.(so(\.[0-9.]+)?|a)$")


def versions(package):
    out = subprocess.run([sys.executable, "-m", "pip", "index", "versions", package],
                         capture_output=True, text=True, check=True).stdout
    line = next(l for l in out.splitlines() if l.startswith("Available versions:"))
    return [v.strip() for v in line.split(":", 1)[1].split(",")]


def vkey(v):
    return [int(x) if x.isdigit() else 0 for x in re.split(r"[.]", re.sub(r"\.post\d+$", "", v))]


def download(package, version):
    norm = package.replace("-", "_")
    for f in sorted(os.listdir(CACHE)):
        if f.lower().startswith(f"{norm}-{version}-") and f.endswith(".whl"):
            return os.path.join(CACHE, f)
    platforms = []
    for tag in PLATFORMS:
        platforms += ["--platform", tag]
    r = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--only-binary=:all:", *platforms,
                        "--python-version", "3.11", "--dest", CACHE, f"{package}=={version}"])
    if r.returncode != 0:
        return None
    return download(package, version) if any(
        f.lower().startswith(f"{norm}-{version}-") for f in os.listdir(CACHE)) else None


def rows(package, product, version, wheel):
    name = os.path.basename(wheel)
    with zipfile.ZipFile(wheel) as z:
        record_name = next(n for n in z.namelist() if n.endswith(".dist-info/RECORD"))
        record = {}
        for path, digest, _size in csv.reader(io.StringIO(z.read(record_name).decode())):
            if digest.startswith("sha256="):
                raw = base64.urlsafe_b64decode(digest[7:] + "=" * (-len(digest[7:]) % 4))
                record[path] = raw.hex()
        for path in sorted(record):
            if not LIB.search(path):
                continue
            h = hashlib.sha256()
            with z.open(path) as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            if h.hexdigest() != record[path]:
                sys.exit(f"{name}: RECORD hash of {path} does not match its bytes")
            yield (h.hexdigest(), product, version, os.path.basename(path),
                   f"pypi:{package}=={version} ({name} {path})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--include-big", action="store_true", help="also cuDNN (~600 MB a wheel)")
    ap.add_argument("--only", help="one package")
    ap.add_argument("--out", default=os.path.join(ROOT, "crates/catalog/data/fingerprints.tsv"))
    args = ap.parse_args()
    os.makedirs(CACHE, exist_ok=True)
    table, covered, missing = {}, [], []
    if os.path.exists(args.out):  # keep rows already generated (e.g. big wheels from an earlier run)
        for line in open(args.out):
            if line.strip() and not line.startswith("#"):
                cols = line.rstrip("\n").split("\t")
                table[cols[0]] = tuple(cols)
    for package, (product, minimum, big) in PACKAGES.items():
        if (big and not args.include_big) or (args.only and package != args.only):
            continue
        for version in sorted(versions(package), key=vkey):
            if vkey(version) < vkey(minimum):
                continue
            wheel = download(package, version)
            if wheel is None:
                missing.append(f"{package}=={version}")
                continue
            for row in rows(package, product, version, wheel):
                table[row[0]] = row
            if os.path.getsize(wheel) > KEEP_BYTES:
                os.remove(wheel)
            covered.append(f"{package}=={version}")
            print(f"ok {package}=={version}", file=sys.stderr)
    with open(args.out, "w") as out:
        out.write("# NVIDIA library fingerprints: sha256 -> product, version, file.\n")
        out.write("# Generated by scripts/gen-fingerprints.py from real wheels on PyPI; every hash is\n")
        out.write("# the library's own bytes, checked against the wheel's RECORD. Columns, tab-separated:\n")
        out.write("# sha256\tproduct\tversion\tfile\tsource\n")
        releases = sorted({r[4].split(" ")[0] for r in table.values()})
        out.write(f"# {len(releases)} wheel releases, one line each below; wheels that install no\n")
        out.write("# shared library (e.g. header-only nvtx3 releases) contribute no row.\n")
        for release in releases:
            out.write(f"# covers {release}\n")
        if missing:
            out.write("# not downloadable for x86_64 in the last run: " + ", ".join(missing) + "\n")
        for row in sorted(table.values(), key=lambda r: (r[1], vkey(r[2]), r[3], r[0])):
            out.write("\t".join(row) + "\n")
    print(f"{len(table)} fingerprints written to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
