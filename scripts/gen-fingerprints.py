#!/usr/bin/env python3
"""Generate crates/catalog/data/fingerprints.tsv from real NVIDIA wheels on PyPI.

For every release of each package that pip can download for x86_64 (manylinux), the
wheel's RECORD gives the sha256 of each shared library it installs; the script checks
that hash against the library's actual bytes and writes one row per library:

    sha256  product  version  file  source

Only facts read from real bytes go in the table. Wheels are cached in .fixtures/wheels.

A wheel larger than 1 GB is not downloaded: its size is read from PyPI's simple index
first, and it is listed as skipped in the table's header.

Usage: scripts/gen-fingerprints.py [--include-big] [--only PACKAGE]... [--out PATH]
"""
import argparse, base64, csv, hashlib, io, json, os, re, subprocess, sys, urllib.request, zipfile

# package -> (product name used in purls, minimum version to include, big?)
PACKAGES = {
    "nvidia-cuda-runtime-cu11": ("cuda-runtime", "11.8", False),
    "nvidia-cuda-runtime-cu12": ("cuda-runtime", "12.0", False),
    "nvidia-nvtx-cu12": ("nvtx", "12.0", False),
    "nvidia-cuda-nvrtc-cu12": ("nvrtc", "12.0", False),
    "nvidia-nccl-cu12": ("nccl", "2.18", False),
    "nvidia-cudnn-cu12": ("cudnn", "8.9", True),
    "nvidia-cudnn-cu11": ("cudnn", "8.9", True),
    # CUDA 13: the toolkit wheels drop the -cuXX suffix; cuDNN and NCCL keep it.
    "nvidia-cuda-runtime": ("cuda-runtime", "13.0", False),
    "nvidia-cuda-nvrtc": ("nvrtc", "13.0", False),
    "nvidia-nccl-cu13": ("nccl", "2.0", False),
    "nvidia-cudnn-cu13": ("cudnn", "9.0", True),
}
# Every x86_64 manylinux tag pip may meet: newer wheels (NCCL 2.28+) no longer use manylinux2014.
PLATFORMS = ["manylinux2014_x86_64"] + [f"manylinux_2_{m}_x86_64" for m in range(17, 40)]
# Wheels above this size are deleted once hashed, so cuDNN's ~600 MB releases don't fill the disk.
KEEP_BYTES = 64 << 20
# Wheels above this size are not downloaded at all (and are reported as skipped).
MAX_WHEEL_BYTES = 1_000_000_000
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The same cache the tests use ($GPUBOM_FIXTURES, else .fixtures at the workspace root).
CACHE = os.path.join(os.environ.get("GPUBOM_FIXTURES") or os.path.join(ROOT, ".fixtures"), "wheels")
LIB = re.compile(r"(^|/)lib[^/]*\.(so(\.[0-9.]+)?|a)$")


def versions(package):
    out = subprocess.run([sys.executable, "-m", "pip", "index", "versions", package],
                         capture_output=True, text=True, check=True).stdout
    line = next(l for l in out.splitlines() if l.startswith("Available versions:"))
    return [v.strip() for v in line.split(":", 1)[1].split(",")]


def vkey(v):
    return [int(x) if x.isdigit() else 0 for x in re.split(r"[.]", re.sub(r"\.post\d+$", "", v))]


def x86_64_wheel_sizes(package):
    """File name -> size of the package's x86_64 manylinux wheels, from PyPI's simple index (PEP 691)."""
    req = urllib.request.Request(f"https://pypi.org/simple/{package}/",
                                 headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        files = json.load(r)["files"]
    return {f["filename"]: f.get("size") or 0 for f in files
            if f["filename"].endswith(".whl") and "manylinux" in f["filename"] and "x86_64" in f["filename"]}


def too_big(sizes, package, version):
    """The size of the release's x86_64 wheel when it is over MAX_WHEEL_BYTES, else None."""
    norm = package.replace("-", "_").lower()
    mine = [size for name, size in sizes.items() if name.lower().startswith(f"{norm}-{version}-")]
    return min(mine) if mine and min(mine) > MAX_WHEEL_BYTES else None


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


def common_version(a, b):
    """The dotted prefix two versions share: 13.2.51 and 13.2.86 -> 13.2."""
    out = []
    for x, y in zip(a.split("."), b.split(".")):
        if x != y:
            break
        out.append(x)
    return ".".join(out)


def merge_row(known, row):
    """One row per sha256. The same bytes in another wheel of the same release (cuDNN's
    dispatcher is identical in -cu12 and -cu13) keep the row already there; the same bytes
    in several releases (NVRTC 13.2.51, 13.2.78 and 13.2.86 ship one libnvrtc-builtins)
    date only what those releases share, 13.2, and the source names every release."""
    if known is None:
        return row
    if known[1] != row[1]:
        sys.exit(f"{row[0]} is {known[1]} in {known[4]} but {row[1]} in {row[4]}")
    release = row[4].split(" ")[0]
    if known[2] == row[2] or release in releases_of(known[4]):
        return known
    version = common_version(known[2], row[2])
    if not version:
        sys.exit(f"{row[0]}: the same bytes in {known[4]} and {row[4]} share no version")
    return (known[0], known[1], version, known[3], f"{known[4]}; same bytes in {release}")


def releases_of(source):
    """`pypi:name==version` of a row's source and of each release it says shares the bytes."""
    first = source.split(" ")[0]
    return {first} | {part.split("same bytes in ", 1)[1] for part in source.split("; ")[1:]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--include-big", action="store_true", help="also cuDNN (~600 MB a wheel)")
    ap.add_argument("--only", action="append", help="only this package (repeatable)")
    ap.add_argument("--out", default=os.path.join(ROOT, "crates/catalog/data/fingerprints.tsv"))
    args = ap.parse_args()
    os.makedirs(CACHE, exist_ok=True)
    table, covered, missing, skipped = {}, set(), [], []
    if os.path.exists(args.out):  # keep rows already generated (e.g. big wheels from an earlier run)
        for line in open(args.out):
            if line.startswith("# skipped, over 1 GB: "):
                skipped += line.split(": ", 1)[1].strip().split(", ")
            if line.startswith("# covers "):
                covered.add(line[len("# covers "):].strip())
            if line.strip() and not line.startswith("#"):
                cols = line.rstrip("\n").split("\t")
                table[cols[0]] = tuple(cols)
    for package, (product, minimum, big) in PACKAGES.items():
        if (big and not args.include_big) or (args.only and package not in args.only):
            continue
        sizes = x86_64_wheel_sizes(package)
        for version in sorted(versions(package), key=vkey):
            if vkey(version) < vkey(minimum):
                continue
            size = too_big(sizes, package, version)
            if size is not None:
                skipped.append(f"{package}=={version} ({size / 1e9:.2f} GB)")
                print(f"skipped {package}=={version}: {size} bytes", file=sys.stderr)
                continue
            wheel = download(package, version)
            if wheel is None:
                missing.append(f"{package}=={version}")
                continue
            for row in rows(package, product, version, wheel):
                table[row[0]] = merge_row(table.get(row[0]), row)
                covered.add(f"pypi:{package}=={version}")
            if os.path.getsize(wheel) > KEEP_BYTES:
                os.remove(wheel)
            print(f"ok {package}=={version}", file=sys.stderr)
    with open(args.out, "w") as out:
        out.write("# NVIDIA library fingerprints: sha256 -> product, version, file.\n")
        out.write("# Generated by scripts/gen-fingerprints.py from real wheels on PyPI; every hash is\n")
        out.write("# the library's own bytes, checked against the wheel's RECORD. Columns, tab-separated:\n")
        out.write("# sha256\tproduct\tversion\tfile\tsource\n")
        releases = sorted(set().union(*(releases_of(r[4]) for r in table.values())) | covered)
        out.write(f"# {len(releases)} wheel releases, one line each below; wheels that install no\n")
        out.write("# shared library (e.g. header-only nvtx3 releases) contribute no row.\n")
        for release in releases:
            out.write(f"# covers {release}\n")
        if missing:
            out.write("# not downloadable for x86_64 in the last run: " + ", ".join(missing) + "\n")
        if skipped:
            out.write("# skipped, over 1 GB: " + ", ".join(sorted(set(skipped))) + "\n")
        for row in sorted(table.values(), key=lambda r: (r[1], vkey(r[2]), r[3], r[0])):
            out.write("\t".join(row) + "\n")
    print(f"{len(table)} fingerprints written to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
