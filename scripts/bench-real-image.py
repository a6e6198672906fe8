#!/usr/bin/env python3
"""Builds a realistic multi-GB GPU image from real bytes, reproducibly, for benchmarks.

Usage: scripts/bench-real-image.py OUT_DIR [--small] [--keep-layers] [--no-usrmerge]

The image: a Debian 12 base unpacked from the real .debs vendored in tests/fixtures/debs, then
torch 2.5.1 and its real CUDA 12.4 dependency set installed from PyPI's wheels into
usr/local/lib/python3.12/site-packages, in five layers:

  1. Debian base (the .debs unpacked as dpkg does, with var/lib/dpkg/status and info/*.list)
  2. torch
  3. nvidia-cudnn-cu12
  4. cuBLAS, cuFFT, cuSPARSE, cuSOLVER, cuRAND
  5. the remaining nvidia-* wheels

--small builds layer 1 plus one layer with nvidia-cuda-runtime-cu12 and nvidia-nvtx-cu12 (a few
MB) for quick checks.

Written to OUT_DIR, all of one image (the same layer tars, so the same diff_ids):
  wheels/           the downloaded wheels (pip download, checked against the pinned sha256)
  oci/              an OCI image layout, layers gzip-compressed (ref name "bench")
  bench.docker.tar  a `docker save` archive (Docker 25+ shape: uncompressed blobs/sha256/<diff_id>)
  bench.oci.tar     the OCI layout as an oci-archive
  image.json        what was built: layers, digests, sizes

Every step whose output exists is skipped, so a second run only prints the summary. The
uncompressed layer tars (layers/) are temporary: removed once every form is written, unless
--keep-layers. Layer tars are byte-for-byte reproducible (uid/gid 0, mtime 0, sorted entries);
the gzip blobs are reproducible for a given compressor (pigz if on PATH, else Python's zlib;
image.json records which), since the two produce different deflate streams.

Standard library only. Large files are streamed: no wheel, layer or blob is held in memory.
"""

import concurrent.futures
import configparser
import csv
import base64
import gzip
import hashlib
import io
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEBS_DIR = os.path.join(REPO, "tests", "fixtures", "debs")
SITE = "usr/local/lib/python3.12/site-packages"
BIN = "usr/local/bin"
PYTHON = "/usr/local/bin/python3.12"
PLATFORM = "manylinux2014_x86_64"
PY_VERSION = "3.12"
CHUNK = 1 << 20
CREATED = "2024-10-29T00:00:00Z"  # torch 2.5.1's release day; fixed, for reproducibility
ENV = [
    "PATH=/usr/local/nvidia/bin:/usr/local/cuda/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "CUDA_VERSION=12.4.127",
]

# name, version, file PyPI serves for manylinux2014_x86_64 / cp312, its size and sha256
# (from PyPI's index). torch 2.5.1's METADATA names exactly these nvidia-* pins for Linux x86_64;
# the script re-reads that METADATA after downloading torch and follows it if it ever differs.
WHEELS = {
    "torch": ("2.5.1", "torch-2.5.1-cp312-cp312-manylinux1_x86_64.whl", 906389343,
              "ed231a4b3a5952177fafb661213d690a72caaad97d5824dd4fc17ab9e15cec03"),
    "nvidia-cudnn-cu12": ("9.1.0.70", "nvidia_cudnn_cu12-9.1.0.70-py3-none-manylinux2014_x86_64.whl", 664752741,
                          "165764f44ef8c61fcdfdfdbe769d687e06374059fbb388b6c89ecb0e28793a6f"),
    "nvidia-cublas-cu12": ("12.4.5.8", "nvidia_cublas_cu12-12.4.5.8-py3-none-manylinux2014_x86_64.whl", 363438805,
                           "2fc8da60df463fdefa81e323eef2e36489e1c94335b5358bcb38360adf75ac9b"),
    "nvidia-cuda-runtime-cu12": ("12.4.127", "nvidia_cuda_runtime_cu12-12.4.127-py3-none-manylinux2014_x86_64.whl", 883737,
                                 "64403288fa2136ee8e467cdc9c9427e0434110899d07c779f25b5c068934faa5"),
    "nvidia-cuda-nvrtc-cu12": ("12.4.127", "nvidia_cuda_nvrtc_cu12-12.4.127-py3-none-manylinux2014_x86_64.whl", 24640306,
                               "a178759ebb095827bd30ef56598ec182b85547f1508941a3d560eb7ea1fbf338"),
    "nvidia-cuda-cupti-cu12": ("12.4.127", "nvidia_cuda_cupti_cu12-12.4.127-py3-none-manylinux2014_x86_64.whl", 13813957,
                               "9dec60f5ac126f7bb551c055072b69d85392b13311fcc1bcda2202d172df30fb"),
    "nvidia-cufft-cu12": ("11.2.1.3", "nvidia_cufft_cu12-11.2.1.3-py3-none-manylinux2014_x86_64.whl", 211459117,
                          "f083fc24912aa410be21fa16d157fed2055dab1cc4b6934a0e03cba69eb242b9"),
    "nvidia-curand-cu12": ("10.3.5.147", "nvidia_curand_cu12-10.3.5.147-py3-none-manylinux2014_x86_64.whl", 56305206,
                           "a88f583d4e0bb643c49743469964103aa59f7f708d862c3ddb0fc07f851e3b8b"),
    "nvidia-cusolver-cu12": ("11.6.1.9", "nvidia_cusolver_cu12-11.6.1.9-py3-none-manylinux2014_x86_64.whl", 127936057,
                             "19e33fa442bcfd085b3086c4ebf7e8debc07cfe01e11513cc6d332fd918ac260"),
    "nvidia-cusparse-cu12": ("12.3.1.170", "nvidia_cusparse_cu12-12.3.1.170-py3-none-manylinux2014_x86_64.whl", 207454763,
                             "ea4f11a2904e2a8dc4b1833cc1b5181cde564edd0d5cd33e3c168eff2d1863f1"),
    "nvidia-nccl-cu12": ("2.21.5", "nvidia_nccl_cu12-2.21.5-py3-none-manylinux2014_x86_64.whl", 188654414,
                         "8579076d30a8c24988834445f8d633c697d42397e92ffc3f63fa26766d25e0a0"),
    "nvidia-nvjitlink-cu12": ("12.4.127", "nvidia_nvjitlink_cu12-12.4.127-py3-none-manylinux2014_x86_64.whl", 21066810,
                              "06b3b9b25bf3f8af351d664978ca26a16d2c5127dbd53c0497e28d1fb9611d57"),
    "nvidia-nvtx-cu12": ("12.4.127", "nvidia_nvtx_cu12-12.4.127-py3-none-manylinux2014_x86_64.whl", 99144,
                         "781e950d9b9f60d8241ccea575b32f5105a5baf4c2351cab5256a24869f12a1a"),
}

# The wheel layers after the Debian base: (wheel names, history created_by).
FULL_LAYERS = [
    ["torch"],
    ["nvidia-cudnn-cu12"],
    ["nvidia-cublas-cu12", "nvidia-cufft-cu12", "nvidia-cusparse-cu12", "nvidia-cusolver-cu12",
     "nvidia-curand-cu12"],
    ["nvidia-cuda-runtime-cu12", "nvidia-cuda-nvrtc-cu12", "nvidia-cuda-cupti-cu12", "nvidia-nccl-cu12",
     "nvidia-nvjitlink-cu12", "nvidia-nvtx-cu12"],
]
SMALL_LAYERS = [["nvidia-cuda-runtime-cu12", "nvidia-nvtx-cu12"]]

DEBIAN_OS_RELEASE = b"""PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
"""
# Debian 12 images are merged-/usr: these are symlinks, and dpkg writes through them.
USRMERGE = {"bin": "usr/bin", "lib": "usr/lib", "lib64": "usr/lib64", "sbin": "usr/sbin"}


def log(msg):
    print(msg, flush=True)


def warn(msg):
    print(f"warning: {msg}", file=sys.stderr, flush=True)


def human(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{n} B"
        n /= 1024
    return f"{n}"


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            block = f.read(CHUNK)
            if not block:
                return h.hexdigest()
            h.update(block)


def write_atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def canonical_json(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


# ---------------------------------------------------------------------------------------------
# Wheels


def normalize(name):
    return re.sub(r"[-_.]+", "_", name).lower()


def pip_download(name, version, dest):
    env = dict(os.environ)
    env.pop("PIP_FIND_LINKS", None)  # from PyPI only, not a local wheel directory
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
           "--platform", PLATFORM, "--python-version", PY_VERSION, f"{name}=={version}", "-d", dest]
    log("$ " + " ".join(cmd))
    subprocess.run(cmd, check=True, env=env)


def find_wheel(dest, name, version):
    hits = sorted(f for f in os.listdir(dest) if f.endswith(".whl") and len(f.split("-")) >= 5
                  and normalize(f.split("-")[0]) == normalize(name) and f.split("-")[1] == version)
    return os.path.join(dest, hits[0]) if hits else None


def fetch_wheel(name, version, dest):
    """Downloads NAME==VERSION (unless present and intact); returns (path, sha256)."""
    pinned = WHEELS.get(name)
    expected = pinned[3] if pinned and pinned[0] == version else None
    path = os.path.join(dest, pinned[1]) if expected else find_wheel(dest, name, version)
    if path and os.path.exists(path):
        digest = sha256_file(path)
        if expected is None or digest == expected:
            return path, digest
        warn(f"{path}: sha256 {digest} is not the pinned {expected}; downloading again")
        os.remove(path)
    pip_download(name, version, dest)
    path = os.path.join(dest, pinned[1]) if expected else find_wheel(dest, name, version)
    if not path or not os.path.exists(path):
        sys.exit(f"pip download {name}=={version} wrote no wheel into {dest}")
    digest = sha256_file(path)
    if expected is not None and digest != expected:
        sys.exit(f"{path}: sha256 {digest}, expected {expected} (PyPI's, pinned in this script)")
    return path, digest


def torch_cuda_pins(torch_wheel):
    """The nvidia-* pins torch's METADATA requires on Linux x86_64: {name: version}."""
    with zipfile.ZipFile(torch_wheel) as zf:
        meta = next(n for n in zf.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n))
        text = zf.read(meta).decode()
    pins = {}
    for line in text.splitlines():
        m = re.match(r"Requires-Dist:\s*(nvidia-[A-Za-z0-9._-]+)\s*==\s*([^;\s]+)\s*(;.*)?$", line)
        if m and (m.group(3) is None or "x86_64" in m.group(3) or "Linux" in m.group(3)):
            pins[m.group(1).lower()] = m.group(2)
    return pins


def resolve_wheels(out, small):
    """Downloads the wheels; returns ({name: (version, path, sha256)}, layers as name lists)."""
    dest = os.path.join(out, "wheels")
    os.makedirs(dest, exist_ok=True)
    layers = [list(layer) for layer in (SMALL_LAYERS if small else FULL_LAYERS)]
    versions = {name: WHEELS[name][0] for layer in layers for name in layer}
    got = {}
    if not small:
        path, digest = fetch_wheel("torch", versions["torch"], dest)
        got["torch"] = (versions["torch"], path, digest)
        pins = torch_cuda_pins(path)
        for name, version in sorted(pins.items()):
            if name not in versions:
                warn(f"torch's METADATA also requires {name}=={version}: added to the last layer")
                layers[-1].append(name)
                versions[name] = version
            elif versions[name] != version:
                warn(f"torch's METADATA pins {name}=={version}, not {versions[name]}: following torch")
                versions[name] = version
        for name in sorted(set(versions) - set(pins) - {"torch"}):
            warn(f"{name} is not among torch's METADATA requirements {sorted(pins)}")
    for layer in layers:
        for name in layer:
            if name not in got:
                path, digest = fetch_wheel(name, versions[name], dest)
                got[name] = (versions[name], path, digest)
    log("wheels (sha256, verified against the pins taken from PyPI's index):")
    for name in sorted(got):
        version, path, digest = got[name]
        log(f"  {digest}  {os.path.basename(path)}  ({human(os.path.getsize(path))})")
    return got, layers


# ---------------------------------------------------------------------------------------------
# Layer entries: path -> Entry; written sorted, directories before their contents.


class Entry:
    __slots__ = ("kind", "mode", "size", "data", "zip", "member", "link")

    def __init__(self, kind, mode=0o644, size=0, data=None, zip=None, member=None, link=""):
        self.kind, self.mode, self.size = kind, mode, size
        self.data, self.zip, self.member, self.link = data, zip, member, link


def file_mode(path, source_mode):
    name = path.rsplit("/", 1)[-1]
    shared = name.endswith(".so") or ".so." in name
    return 0o755 if shared or (source_mode & 0o111) else 0o644


def add_parents(entries, path):
    parts = path.split("/")[:-1]
    for i in range(1, len(parts) + 1):
        d = "/".join(parts[:i])
        if d not in entries:
            entries[d] = Entry("dir", 0o755)
        elif entries[d].kind != "dir":
            raise ValueError(f"{d} is both a directory and a {entries[d].kind}")


def add_bytes(entries, path, data, mode=None):
    add_parents(entries, path)
    entries[path] = Entry("file", file_mode(path, 0) if mode is None else mode, len(data), data=data)


def sort_key(path):
    return path.split("/")


def tarinfo(path, entry):
    info = tarfile.TarInfo(path)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mtime = 0
    info.mode = entry.mode
    if entry.kind == "dir":
        info.type = tarfile.DIRTYPE
        info.mode = 0o755
    elif entry.kind == "symlink":
        info.type, info.linkname, info.mode = tarfile.SYMTYPE, entry.link, 0o777
    elif entry.kind == "hardlink":
        info.type, info.linkname = tarfile.LNKTYPE, entry.link
    else:
        info.size = entry.size
    return info


class HashingWriter:
    """A write-only file that hashes and counts what passes through it."""

    def __init__(self, f):
        self.f, self.h, self.n = f, hashlib.sha256(), 0

    def write(self, b):
        self.h.update(b)
        self.n += len(b)
        return self.f.write(b)

    def tell(self):
        return self.n

    def flush(self):
        self.f.flush()


def write_layer_tar(path, entries):
    """Writes the entries as a tar at path; returns (sha256 hex, size)."""
    tmp = path + ".tmp"
    with open(tmp, "wb", buffering=CHUNK) as raw:
        out = HashingWriter(raw)
        with tarfile.TarFile(fileobj=out, mode="w", format=tarfile.PAX_FORMAT, copybufsize=CHUNK) as tar:
            for p in sorted(entries, key=sort_key):
                e = entries[p]
                info = tarinfo(p, e)
                if e.kind != "file":
                    tar.addfile(info)
                elif e.data is not None:
                    tar.addfile(info, io.BytesIO(e.data))
                else:
                    with e.zip.open(e.member) as src:
                        tar.addfile(info, src)
        digest, size = out.h.hexdigest(), out.n
    os.replace(tmp, path)
    return digest, size


# ---------------------------------------------------------------------------------------------
# Debian base


def ar_members(path):
    """(name, bytes) of each member of an ar archive (a .deb's are small)."""
    with open(path, "rb") as f:
        if f.read(8) != b"!<arch>\n":
            raise ValueError(f"{path}: not an ar archive")
        while True:
            header = f.read(60)
            if len(header) < 60:
                return
            name = header[:16].decode().strip().rstrip("/")
            size = int(header[48:58].decode().strip())
            data = f.read(size)
            if size % 2:
                f.read(1)
            yield name, data


def open_member_tar(name, data):
    """A tarfile over a .deb member (control.tar.* / data.tar.*), or None when it can't be read."""
    if name.endswith(".zst"):
        if not shutil.which("zstd"):
            warn(f"{name}: zstd is not on PATH; skipped")
            return None
        data = subprocess.run(["zstd", "-dc"], input=data, stdout=subprocess.PIPE, check=True).stdout
        return tarfile.open(fileobj=io.BytesIO(data), mode="r:")
    return tarfile.open(fileobj=io.BytesIO(data), mode="r:*")  # xz, gz, bz2 or plain


def natural_key(version):
    return [(int(p), "") if p.isdigit() else (-1, p) for p in re.split(r"(\d+)", version)]


def parse_control(text):
    fields = {}
    for line in text.splitlines():
        m = re.match(r"([A-Za-z0-9-]+):\s*(.*)", line)
        if m:
            fields[m.group(1)] = m.group(2)
    return fields


def read_deb(path):
    control, info_files, data_members = None, {}, []
    for name, data in ar_members(path):
        if name.startswith("control.tar"):
            with open_member_tar(name, data) as tar:
                for m in tar:
                    base = m.name.lstrip("./")
                    if m.isfile() and base and "/" not in base:
                        blob = tar.extractfile(m).read()
                        if base == "control":
                            control = blob.decode()
                        else:
                            info_files[base] = (blob, m.mode)
        elif name.startswith("data.tar"):
            tar = open_member_tar(name, data)
            if tar is None:
                return None
            with tar:
                for m in tar:
                    p = posixpath.normpath("/" + m.name).lstrip("/")
                    if not p:
                        continue  # the "./" root
                    blob = tar.extractfile(m).read() if m.isfile() else None
                    data_members.append((p, m, blob))
    if control is None:
        raise ValueError(f"{path}: no control file")
    return control, info_files, data_members


def merged(path, usrmerge):
    head, _, rest = path.partition("/")
    if usrmerge and head in USRMERGE:
        return USRMERGE[head] + ("/" + rest if rest else "")
    return path


def debian_entries(usrmerge):
    debs = sorted(f for f in os.listdir(DEBS_DIR) if f.endswith(".deb"))
    packages = {}
    for deb in debs:
        read = read_deb(os.path.join(DEBS_DIR, deb))
        if read is None:
            continue
        fields = parse_control(read[0])
        name = fields["Package"]
        if name in packages and natural_key(packages[name][1]["Version"]) > natural_key(fields["Version"]):
            continue  # only the newest of two versions of one package (libexpat1's deb12u5)
        packages[name] = (deb, fields, read)
    entries = {}
    if usrmerge:
        for link, target in USRMERGE.items():
            entries[link] = Entry("symlink", link=target)
            add_parents(entries, target + "/x")
    stanzas = []
    for name in sorted(packages):
        deb, fields, (control, info_files, members) = packages[name]
        log(f"  {deb}: {name} {fields['Version']}")
        listed = ["/."]
        md5 = {}
        for p, m, blob in members:
            listed.append("/" + p)
            target = merged(p, usrmerge)
            if usrmerge and target != p and p in USRMERGE:
                continue  # the directory itself is the usrmerge symlink
            if m.isdir():
                add_parents(entries, target + "/x")
            elif m.issym():
                add_parents(entries, target)
                entries[target] = Entry("symlink", link=m.linkname)
            elif m.islnk():
                add_parents(entries, target)
                link = posixpath.normpath("/" + m.linkname).lstrip("/")
                entries[target] = Entry("hardlink", link=merged(link, usrmerge))
            elif m.isfile():
                add_parents(entries, target)
                entries[target] = Entry("file", file_mode(target, m.mode), len(blob), data=blob)
                md5["/" + p] = hashlib.md5(blob).hexdigest()
        arch = fields.get("Architecture", "all")
        stem = f"{name}:{arch}" if fields.get("Multi-Arch") == "same" else name
        info = "var/lib/dpkg/info"
        add_bytes(entries, f"{info}/{stem}.list", ("\n".join(listed) + "\n").encode())
        for base, (blob, mode) in sorted(info_files.items()):
            add_bytes(entries, f"{info}/{stem}.{base}", blob, 0o755 if mode & 0o111 else 0o644)
        lines = control.rstrip("\n").split("\n")
        out = []
        for line in lines:
            if line.startswith("Description:") and "conffiles" in info_files:
                out.append("Conffiles:")
                for conf in info_files["conffiles"][0].decode().split():
                    out.append(f" {conf} {md5.get(conf, 'newconffile')}")
            out.append(line)
            if line.startswith("Package:"):
                out.append("Status: install ok installed")
        stanzas.append("\n".join(out) + "\n")
    add_bytes(entries, "var/lib/dpkg/status", "\n".join(stanzas).encode())
    if "usr/lib/os-release" not in entries:
        warn("base-files ships no usr/lib/os-release; writing Debian 12's")
        add_bytes(entries, "usr/lib/os-release", DEBIAN_OS_RELEASE)
    if "etc/os-release" not in entries:
        add_parents(entries, "etc/os-release")
        entries["etc/os-release"] = Entry("symlink", link="../usr/lib/os-release")
    return entries


# ---------------------------------------------------------------------------------------------
# Wheels installed as pip installs them


def record_hash(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def console_script(spec):
    module, _, attr = spec.partition(":")
    module, attr = module.strip(), attr.strip().split()[0] if attr.strip() else ""
    head = attr.split(".")[0]
    return (f"#!{PYTHON}\n# -*- coding: utf-8 -*-\nimport re\nimport sys\nfrom {module} import {head}\n"
            f"if __name__ == '__main__':\n"
            f"    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n"
            f"    sys.exit({attr}())\n").encode()


def wheel_entries(entries, zf):
    """Adds the wheel's files as pip installs them: purelib/platlib and the rest into
    site-packages, .data/scripts into usr/local/bin, .data/data under usr/local, .data/headers
    under usr/local/include; plus INSTALLER, the console scripts of entry_points.txt and RECORD
    rewritten to list them (pip's compiled __pycache__ files are left out)."""
    names = zf.namelist()
    dist_info = next(n.split("/")[0] for n in names if re.fullmatch(r"[^/]+\.dist-info/METADATA", n))
    data_dir = dist_info[: -len(".dist-info")] + ".data"
    record_name = f"{dist_info}/RECORD"

    def installed(name):
        """Where pip puts the wheel member name, relative to the image root."""
        if not name.startswith(data_dir + "/"):
            return f"{SITE}/{name}"
        _, scheme, rest = name.split("/", 2)
        return {"purelib": f"{SITE}/{rest}", "platlib": f"{SITE}/{rest}", "scripts": f"{BIN}/{rest}",
                "data": f"usr/local/{rest}",
                "headers": f"usr/local/include/python3.12/{dist_info.split('-')[0]}/{rest}"}[scheme]

    for info in zf.infolist():
        name = info.filename
        if name.endswith("/") or name == record_name:
            continue
        target = installed(name)
        mode = (info.external_attr >> 16) & 0o7777
        if name.startswith(f"{data_dir}/scripts/"):
            mode |= 0o755
        add_parents(entries, target)
        entries[target] = Entry("file", file_mode(target, mode), info.file_size, zip=zf, member=info)
    generated = {f"{dist_info}/INSTALLER": b"pip\n"}
    if f"{dist_info}/entry_points.txt" in names:
        parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
        parser.optionxform = str
        parser.read_string(zf.read(f"{dist_info}/entry_points.txt").decode())
        for section in ("console_scripts", "gui_scripts"):
            if parser.has_section(section):
                for script, spec in parser.items(section):
                    generated[os.path.relpath(f"{BIN}/{script}", SITE)] = console_script(spec)
    with zf.open(record_name) as f:
        rows = list(csv.reader(io.TextIOWrapper(f, encoding="utf-8", newline="")))
    out_rows = []
    for row in rows:
        if row and row[0] != record_name:
            row[0] = os.path.relpath(installed(row[0]), SITE)
            out_rows.append(row)
    for rel, data in generated.items():
        add_bytes(entries, os.path.normpath(f"{SITE}/{rel}"), data, 0o755 if rel.startswith("../") else 0o644)
        out_rows.append([rel, record_hash(data), str(len(data))])
    out_rows.append([record_name, "", ""])
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for row in out_rows:
        writer.writerow(row)
    add_bytes(entries, f"{SITE}/{record_name}", buf.getvalue().encode(), 0o644)


# ---------------------------------------------------------------------------------------------
# Image forms


def layer_specs(wheels, wheel_layers, usrmerge):
    usr = "merged /usr" if usrmerge else "unmerged /usr"
    specs = [(f"ADD debian-12-bookworm-rootfs.tar / # {usr}; the newest of each package in "
              "tests/fixtures/debs, unpacked as dpkg does", "debian", None)]
    for layer in wheel_layers:
        pins = " ".join(f"{n}=={wheels[n][0]}" for n in layer)
        specs.append((f"RUN /bin/sh -c pip install --no-deps {pins} # buildkit", "wheels", layer))
    return specs


def build_layer(out, index, spec, wheels, usrmerge):
    """Builds layers/NN.tar (unless done); returns its record (diff_id, size, created_by)."""
    created_by, kind, names = spec
    layers = os.path.join(out, "layers")
    os.makedirs(layers, exist_ok=True)
    tar_path = os.path.join(layers, f"{index:02d}.tar")
    meta_path = tar_path + ".json"
    if os.path.exists(tar_path) and os.path.exists(meta_path):
        with open(meta_path) as f:
            meta = json.load(f)
        if meta.get("created_by") == created_by:
            return meta
    started = time.time()
    zips = []
    try:
        if kind == "debian":
            entries = debian_entries(usrmerge)
        else:
            entries = {}
            for name in names:
                zf = zipfile.ZipFile(wheels[name][1])
                zips.append(zf)
                wheel_entries(entries, zf)
        digest, size = write_layer_tar(tar_path, entries)
    finally:
        for zf in zips:
            zf.close()
    meta = {"index": index, "created_by": created_by, "diff_id": f"sha256:{digest}", "size": size,
            "entries": len(entries)}
    write_atomic(meta_path, json.dumps(meta, indent=1).encode())
    log(f"  layer {index}: {human(size)}, {len(entries)} entries, sha256:{digest[:16]}… "
        f"({time.time() - started:.1f}s)")
    return meta


def gzip_layer(src, blobs_dir):
    """Compresses src into blobs_dir at level 6; returns (sha256 hex, size)."""
    tmp = os.path.join(blobs_dir, os.path.basename(src) + ".gz.tmp")
    h, n = hashlib.sha256(), 0
    if shutil.which("pigz"):
        with open(src, "rb") as fin, open(tmp, "wb") as fout:
            proc = subprocess.Popen(["pigz", "-6", "-n", "-T", "-c"], stdin=fin, stdout=subprocess.PIPE)
            while True:
                block = proc.stdout.read(CHUNK)
                if not block:
                    break
                h.update(block)
                n += len(block)
                fout.write(block)
            if proc.wait() != 0:
                raise RuntimeError(f"pigz failed on {src}")
    else:
        with open(src, "rb") as fin, open(tmp, "wb") as raw:
            out = HashingWriter(raw)
            with gzip.GzipFile(filename="", mode="wb", compresslevel=6, fileobj=out, mtime=0) as gz:
                while True:
                    block = fin.read(CHUNK)
                    if not block:
                        break
                    gz.write(block)
            h, n = out.h, out.n
    digest = h.hexdigest()
    os.replace(tmp, os.path.join(blobs_dir, digest))
    return digest, n


def config_blob(layer_metas):
    return canonical_json({
        "architecture": "amd64",
        "os": "linux",
        "created": CREATED,
        "config": {"User": "1000", "Env": ENV, "WorkingDir": "/", "Cmd": ["python3"]},
        "rootfs": {"type": "layers", "diff_ids": [m["diff_id"] for m in layer_metas]},
        "history": [{"created": CREATED, "created_by": m["created_by"]} for m in layer_metas],
    })


def manifest_blob(config, layer_media_type, layers):
    """An OCI image manifest for `config` (bytes) and `layers`, (digest, size) pairs."""
    return canonical_json({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": "sha256:" + hashlib.sha256(config).hexdigest(), "size": len(config)},
        "layers": [{"mediaType": layer_media_type, "digest": d, "size": n} for d, n in layers],
    })


def write_oci_dir(out, layer_metas):
    final = os.path.join(out, "oci")
    tmp = final + ".tmp"
    blobs = os.path.join(tmp, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)
    srcs = [os.path.join(out, "layers", f"{m['index']:02d}.tar") for m in layer_metas]
    compressor = "pigz -6 -n -T" if shutil.which("pigz") else "python gzip level 6, mtime 0"
    log(f"compressing {len(srcs)} layers ({compressor})")
    started = time.time()
    if shutil.which("pigz"):
        results = [gzip_layer(s, blobs) for s in srcs]  # pigz uses every core itself
    else:
        # zlib and hashlib release the GIL, so threads compress layers side by side.
        with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            results = list(pool.map(lambda s: gzip_layer(s, blobs), srcs))
    log(f"  compressed in {time.time() - started:.1f}s")
    config = config_blob(layer_metas)
    config_hex = hashlib.sha256(config).hexdigest()
    write_atomic(os.path.join(blobs, config_hex), config)
    manifest = manifest_blob(config, "application/vnd.oci.image.layer.v1.tar+gzip",
                             [(f"sha256:{d}", n) for d, n in results])
    manifest_hex = hashlib.sha256(manifest).hexdigest()
    write_atomic(os.path.join(blobs, manifest_hex), manifest)
    index = canonical_json({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "digest": f"sha256:{manifest_hex}", "size": len(manifest),
                       "platform": {"architecture": "amd64", "os": "linux"},
                       "annotations": {"org.opencontainers.image.ref.name": "bench",
                                       "io.containerd.image.name": "bench:1"}}],
    })
    write_atomic(os.path.join(tmp, "index.json"), index)
    write_atomic(os.path.join(tmp, "oci-layout"), b'{"imageLayoutVersion":"1.0.0"}')
    if os.path.exists(final):
        shutil.rmtree(final)
    os.replace(tmp, final)
    return {"compressor": compressor, "config": f"sha256:{config_hex}", "manifest": f"sha256:{manifest_hex}",
            "blobs": [{"digest": f"sha256:{d}", "size": n} for d, n in results]}


def archive_info(name, size=None, kind="file"):
    info = tarfile.TarInfo(name)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mtime = 0
    if kind == "dir":
        info.type, info.mode = tarfile.DIRTYPE, 0o755
    else:
        info.mode, info.size = 0o644, size
    return info


def write_archive(path, members):
    """Writes a tar of members: (name, bytes | file path | None for a directory), sorted."""
    tmp = path + ".tmp"
    with open(tmp, "wb", buffering=CHUNK) as raw:
        with tarfile.TarFile(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT, copybufsize=CHUNK) as tar:
            for name, source in sorted(members, key=lambda m: sort_key(m[0])):
                if source is None:
                    tar.addfile(archive_info(name, kind="dir"))
                elif isinstance(source, bytes):
                    tar.addfile(archive_info(name, len(source)), io.BytesIO(source))
                else:
                    with open(source, "rb") as f:
                        tar.addfile(archive_info(name, os.path.getsize(source)), f)
    os.replace(tmp, path)


def write_oci_archive(out):
    layout = os.path.join(out, "oci")
    members = []
    for root, dirs, files in os.walk(layout):
        rel = os.path.relpath(root, layout)
        if rel != ".":
            members.append((rel.replace(os.sep, "/"), None))
        for f in files:
            name = f if rel == "." else f"{rel}/{f}".replace(os.sep, "/")
            members.append((name, os.path.join(root, f)))
    write_archive(os.path.join(out, "bench.oci.tar"), members)


def write_docker_archive(out, layer_metas):
    """`docker save` of Docker 25+: uncompressed layers and the config under blobs/sha256, an
    OCI index (layers as application/vnd.oci.image.layer.v1.tar), manifest.json, repositories."""
    config = config_blob(layer_metas)
    config_hex = hashlib.sha256(config).hexdigest()
    members = [("blobs", None), ("blobs/sha256", None), (f"blobs/sha256/{config_hex}", config)]
    layer_paths = []
    for m in layer_metas:
        hex_ = m["diff_id"].split(":", 1)[1]
        layer_paths.append(f"blobs/sha256/{hex_}")
        members.append((f"blobs/sha256/{hex_}", os.path.join(out, "layers", f"{m['index']:02d}.tar")))
    manifest = manifest_blob(config, "application/vnd.oci.image.layer.v1.tar",
                             [(m["diff_id"], m["size"]) for m in layer_metas])
    manifest_hex = hashlib.sha256(manifest).hexdigest()
    members.append((f"blobs/sha256/{manifest_hex}", manifest))
    members.append(("index.json", canonical_json({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "digest": f"sha256:{manifest_hex}", "size": len(manifest),
                       "annotations": {"io.containerd.image.name": "docker.io/library/bench:1",
                                       "org.opencontainers.image.ref.name": "1"}}],
    })))
    members.append(("manifest.json", json.dumps([{
        "Config": f"blobs/sha256/{config_hex}",
        "RepoTags": ["bench:1"],
        "Layers": layer_paths,
    }], separators=(",", ":")).encode()))
    members.append(("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'))
    members.append(("repositories", canonical_json(
        {"bench": {"1": layer_metas[-1]["diff_id"].split(":", 1)[1]}})))
    write_archive(os.path.join(out, "bench.docker.tar"), members)


def existing_oci(out, metas):
    """The layout's digests and blobs when oci/ holds this image (same diff_ids), else None."""
    try:
        with open(os.path.join(out, "oci", "index.json")) as f:
            manifest_hex = json.load(f)["manifests"][0]["digest"].split(":", 1)[1]
        blobs = os.path.join(out, "oci", "blobs", "sha256")
        with open(os.path.join(blobs, manifest_hex)) as f:
            manifest = json.load(f)
        with open(os.path.join(blobs, manifest["config"]["digest"].split(":", 1)[1])) as f:
            diff_ids = json.load(f)["rootfs"]["diff_ids"]
    except (OSError, ValueError, KeyError, IndexError):
        return None
    if diff_ids != [m["diff_id"] for m in metas]:
        return None
    return {"compressor": "(an existing layout)", "config": manifest["config"]["digest"],
            "manifest": f"sha256:{manifest_hex}",
            "blobs": [{"digest": l["digest"], "size": l["size"]} for l in manifest["layers"]]}


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    flags = {a for a in argv if a.startswith("--")}
    unknown = flags - {"--small", "--keep-layers", "--no-usrmerge"}
    if len(args) != 1 or unknown:
        sys.exit(__doc__.split("\n\n")[1])
    out = os.path.abspath(args[0])
    small, usrmerge = "--small" in flags, "--no-usrmerge" not in flags
    os.makedirs(out, exist_ok=True)
    summary_path = os.path.join(out, "image.json")
    forms = [os.path.join(out, "oci", "index.json"), os.path.join(out, "bench.oci.tar"),
             os.path.join(out, "bench.docker.tar")]
    started = time.time()

    wheels, wheel_layers = resolve_wheels(out, small)
    specs = layer_specs(wheels, wheel_layers, usrmerge)
    summary = None
    if os.path.exists(summary_path) and all(os.path.exists(f) for f in forms):
        with open(summary_path) as f:
            summary = json.load(f)
        if [m["created_by"] for m in summary["layers"]] != [s[0] for s in specs] or \
                summary.get("usrmerge") != usrmerge:
            summary = None
            for f in forms[1:]:
                os.remove(f)
            shutil.rmtree(os.path.join(out, "oci"))
            shutil.rmtree(os.path.join(out, "layers"), ignore_errors=True)
    if summary is None:
        free = shutil.disk_usage(out).free
        if not small and free < 16e9:
            warn(f"{human(free)} free under {out}; the full build needs about 15 GB at its peak "
                 "(layer tars ~5 GB, OCI blobs ~2.6 GB, docker archive ~5 GB, then the oci-archive "
                 "~2.6 GB once the layer tars are gone)")
        log(f"building {len(specs)} layers")
        workers = min(len(specs), os.cpu_count() or 1)
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            metas = list(pool.map(lambda ix: build_layer(out, ix[0] + 1, ix[1], wheels, usrmerge),
                                  enumerate(specs)))
        oci = existing_oci(out, metas)
        if oci is None:
            for f in forms[1:]:  # written from a layout that is no longer this image's
                if os.path.exists(f):
                    os.remove(f)
            oci = write_oci_dir(out, metas)
        elif os.path.exists(summary_path):
            with open(summary_path) as f:
                oci["compressor"] = json.load(f).get("compressor", oci["compressor"])
        log(f"  wrote {forms[0]}")
        if not os.path.exists(forms[2]):
            write_docker_archive(out, metas)
        log(f"  wrote {forms[2]}")
        if "--keep-layers" not in flags:
            shutil.rmtree(os.path.join(out, "layers"))  # before the oci-archive: less disk at peak
        if not os.path.exists(forms[1]):
            write_oci_archive(out)
        log(f"  wrote {forms[1]}")
        summary = {
            "small": small, "usrmerge": usrmerge, "compressor": oci["compressor"],
            "config": oci["config"], "manifest": oci["manifest"],
            "wheels": {n: {"version": v, "file": os.path.basename(p), "sha256": d, "size": os.path.getsize(p)}
                       for n, (v, p, d) in sorted(wheels.items())},
            "layers": [dict(m, blob=b) for m, b in zip(metas, oci["blobs"])],
        }
        write_atomic(summary_path, json.dumps(summary, indent=1).encode())
    wheels_total = sum(w["size"] for w in summary["wheels"].values())
    raw = sum(m["size"] for m in summary["layers"])
    gz = sum(m["blob"]["size"] for m in summary["layers"])
    summary_line = {"wheels_bytes": wheels_total, "raw_bytes": raw, "gzip_bytes": gz,
                    "layers": len(summary["layers"])}
    log(f"image: {len(summary['layers'])} layers; wheels {human(wheels_total)}, raw (uncompressed) "
        f"{human(raw)}, gzip {human(gz)} ({summary['compressor']})")
    for m in summary["layers"]:
        log(f"  {m['index']}: raw {human(m['size']):>10}  gzip {human(m['blob']['size']):>10}  "
            f"{m['diff_id'][:23]}…  {m['created_by'][:90]}")
    for f in forms:
        size = os.path.getsize(f) if os.path.isfile(f) and not f.endswith("index.json") else None
        if f.endswith("index.json"):
            f = os.path.dirname(f)
            size = sum(os.path.getsize(os.path.join(r, x)) for r, _, fs in os.walk(f) for x in fs)
        log(f"  {f}: {human(size)}")
    log("SIZES " + json.dumps(summary_line))
    log(f"done in {time.time() - started:.1f}s")


if __name__ == "__main__":
    main(sys.argv[1:])
