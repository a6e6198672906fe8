#!/usr/bin/env python3
"""NVIDIA's cuobjdump as the oracle for gpubom's GPU architectures.

`cuobjdump --all-fatbin --list-elf FILE` names every cubin of a file's fatbins
(`_C.3.sm_90a.cubin`) and `--list-ptx` every PTX (`_C.1.sm_80.ptx`), in
`.nv_fatbin` and `__nv_relfatbin` alike; a standalone `.cubin` lists itself. The
architecture is the last dotted field before the extension. cuobjdump comes in
NVIDIA's own wheel and runs on a CPU machine:

    python3 -m venv /tmp/cuobj && /tmp/cuobj/bin/pip download --no-deps \\
        nvidia-cuda-cuobjdump==13.5.37 -d /tmp/cuobj && unzip the wheel;
    the binary is nvidia/cu13/bin/cuobjdump.

Subcommands:

  record --cuobjdump BIN WHEEL|DIR [MEMBER...] > TRANSCRIPT
      Runs cuobjdump on members of a wheel or a directory (all its ELF files and
      fatbins when none are named) from its root, and prints a transcript: each command as
      `$ cuobjdump --all-fatbin --list-elf MEMBER`, then its output unedited, a
      `[exit N] <stderr>` line when it did not exit 0, and a `# sha256 MEMBER <hex>`
      line per member. The tests keep these under tests/fixtures/cuobjdump/pypi/.

  table TRANSCRIPT...
      Turns transcripts into the tests' table on stdout: one row per member,
      tab-separated `source  member  sha256_16  sass  ptx` (source is the
      transcript's file name without `.txt`), architectures in compute-capability
      order, space-separated, `-` for none.

  survey --cuobjdump BIN --gpubom BIN --out DIR WHEEL...
      For each wheel: every member that is an ELF file or a fatbin, listed by
      cuobjdump (raw output kept under DIR) and scanned alone by gpubom
      (`gpubom scan file:MEMBER`); then the wheel installed into a directory and
      scanned whole, to check that each file's architectures reach the component
      that owns it. Prints one row per member with device code and whether the
      two agree, and a summary per wheel. Nothing from the wheel is executed.
"""

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile

ELF_MAGIC = b"\x7fELF"
FATBIN_MAGIC = bytes([0x50, 0xED, 0x55, 0xBA, 0x01, 0x00, 0x10, 0x00])
LISTED = re.compile(r"^(ELF|PTX) file\s+\d+: (.*)$")


def arch_key(arch):
    """sm_90a -> (90, 'a'): compute-capability order, as gpubom writes lists."""
    m = re.fullmatch(r"sm_(\d+)([a-z]?)", arch)
    return (int(m.group(1)), m.group(2)) if m else (10**6, arch)


def listed_archs(text):
    """The set of architectures in one raw --list-elf or --list-ptx output."""
    archs = set()
    for line in text.splitlines():
        m = LISTED.match(line.strip())
        if m:
            name = m.group(2)
            stem = name.rsplit(".", 1)[0]
            archs.add(stem.rsplit(".", 1)[-1])
    return sorted(archs, key=arch_key)


def joined(archs):
    return " ".join(archs) if archs else "-"


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def run_cuobjdump(binary, path):
    """(list-elf output, list-ptx output, note): the note says when cuobjdump failed."""
    outs, notes = [], []
    for flag in ("--list-elf", "--list-ptx"):
        p = subprocess.run(
            [binary, "--all-fatbin", flag, path], capture_output=True, text=True
        )
        outs.append(p.stdout)
        err = p.stderr.strip()
        if p.returncode != 0 and "does not contain device code" not in err:
            notes.append(f"{flag}: exit {p.returncode}: {err}")
    return outs[0], outs[1], "; ".join(notes)


def transcript(binary, root, members):
    """The transcript of cuobjdump run on each member, from the wheel's root."""
    lines = []
    for member in members:
        for flag in ("--list-elf", "--list-ptx"):
            p = subprocess.run(
                [binary, "--all-fatbin", flag, member],
                capture_output=True,
                text=True,
                cwd=root,
            )
            lines.append(f"$ cuobjdump --all-fatbin {flag} {member}")
            lines.extend(p.stdout.splitlines())
            if p.returncode != 0:
                lines.append(f"[exit {p.returncode}] {p.stderr.strip()}")
        lines.append(f"# sha256 {member} {sha256_file(os.path.join(root, member))}")
    return "\n".join(lines) + "\n"


def record(binary, wheel, members):
    with tempfile.TemporaryDirectory() as unpacked:
        root = wheel if os.path.isdir(wheel) else unpacked
        if root == unpacked:
            with zipfile.ZipFile(wheel) as z:
                z.extractall(root)
        if not members:
            members = sorted(
                os.path.relpath(os.path.join(d, n), root)
                for d, _, names in os.walk(root)
                for n in names
                if device_code_candidate(os.path.join(d, n))
            )
        sys.stdout.write(transcript(binary, root, members))


def parse_transcript(text):
    """member -> (sha256, [sass], [ptx]) from a transcript."""
    rows, current, outputs = {}, None, {}
    for line in text.splitlines():
        if line.startswith("$ cuobjdump"):
            flag, member = line.split()[3], line.split(maxsplit=4)[4]
            current = (member, flag)
            outputs.setdefault(current, [])
        elif line.startswith("# sha256 "):
            member, sha = line[len("# sha256 "):].rsplit(" ", 1)
            elf = listed_archs("\n".join(outputs.get((member, "--list-elf"), [])))
            ptx = listed_archs("\n".join(outputs.get((member, "--list-ptx"), [])))
            rows[member] = (sha, elf, ptx)
        elif current is not None:
            outputs[current].append(line)
    return rows


def table(transcripts):
    print("source\tmember\tsha256_16\tcuobjdump_sass\tcuobjdump_ptx")
    for path in transcripts:
        source = os.path.basename(path)[: -len(".txt")]
        with open(path) as f:
            rows = parse_transcript(f.read())
        for member, (sha, sass, ptx) in sorted(rows.items()):
            print(f"{source}\t{member}\t{sha[:16]}\t{joined(sass)}\t{joined(ptx)}")


def device_code_candidate(path):
    with open(path, "rb") as f:
        head = f.read(8)
    return head.startswith(ELF_MAGIC) or head == FATBIN_MAGIC


def gpubom_scan(gpubom, source):
    p = subprocess.run(
        [gpubom, "scan", source, "-o", "cyclonedx-json=-"],
        capture_output=True,
        text=True,
    )
    if p.returncode != 0:
        raise RuntimeError(f"gpubom scan {source}: {p.stderr.strip()}")
    return json.loads(p.stdout)


def props(component):
    return {p["name"]: p.get("value", "") for p in component.get("properties", [])}


def archs_of(properties):
    split = lambda v: [a for a in v.split(",") if a]
    return (
        split(properties.get("gpubom:nvidia:sm_archs", "")),
        split(properties.get("gpubom:nvidia:ptx_archs", "")),
    )


def survey(cuobjdump, gpubom, out_dir, wheels):
    failures = 0
    print("wheel\tmember\tsha256_16\tcuobjdump_sass\tcuobjdump_ptx\tgpubom_file\tgpubom_component\tnote")
    for wheel in wheels:
        wname = os.path.basename(wheel)
        with tempfile.TemporaryDirectory() as tmp:
            site = os.path.join(tmp, "site-packages")
            with zipfile.ZipFile(wheel) as z:
                z.extractall(site)
            per_file = {}
            for root, _, names in os.walk(site):
                for n in sorted(names):
                    path = os.path.join(root, n)
                    if os.path.islink(path) or not device_code_candidate(path):
                        continue
                    rel = os.path.relpath(path, site)
                    elf, ptx, note = run_cuobjdump(cuobjdump, path)
                    raw = os.path.join(out_dir, wname, rel)
                    os.makedirs(os.path.dirname(raw), exist_ok=True)
                    with open(raw + ".list-elf.txt", "w") as f:
                        f.write(elf)
                    with open(raw + ".list-ptx.txt", "w") as f:
                        f.write(ptx)
                    sass_truth, ptx_truth = listed_archs(elf), listed_archs(ptx)
                    if not (sass_truth or ptx_truth or note):
                        continue
                    bom = gpubom_scan(gpubom, f"file:{path}")
                    got = ([], [])
                    for c in bom.get("components", []):
                        s, p = archs_of(props(c))
                        if s or p:
                            got = (s, p)
                    per_file[rel] = (sha256_file(path)[:16], sass_truth, ptx_truth, got, note)
            # The wheel as pip installs it: the components that own each member.
            bom = gpubom_scan(gpubom, f"dir:{site}")
            owner_of = {}
            for c in bom.get("components", []):
                p = props(c)
                files = [f for f in p.get("gpubom:nvidia:device_code_files", "").split(",") if f]
                for f in files:
                    owner_of[f.lstrip("/")] = (c.get("name"), archs_of(p))
            ok_wheel = 0
            for rel, (sha, sass_truth, ptx_truth, got, note) in sorted(per_file.items()):
                file_ok = (sass_truth, ptx_truth) == (got[0], got[1])
                owner = owner_of.get(rel)
                in_owner = owner is not None and set(sass_truth) <= set(owner[1][0]) and set(ptx_truth) <= set(owner[1][1])
                verdict = "equal" if file_ok and in_owner else "DIFFERENT"
                if note:
                    verdict = f"cuobjdump failed: {note}"
                elif verdict == "equal":
                    ok_wheel += 1
                else:
                    failures += 1
                print(
                    f"{wname}\t{rel}\t{sha}\t{joined(sass_truth)}\t{joined(ptx_truth)}\t"
                    f"{joined(got[0])}|{joined(got[1])}\t{owner[0] if owner else '-'}\t{verdict}"
                )
            print(f"# {wname}: {len(per_file)} files with device code, {ok_wheel} equal", file=sys.stderr)
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("table")
    t.add_argument("transcripts", nargs="+")
    r = sub.add_parser("record")
    r.add_argument("--cuobjdump", required=True)
    r.add_argument("wheel")
    r.add_argument("members", nargs="*")
    s = sub.add_parser("survey")
    s.add_argument("--cuobjdump", required=True)
    s.add_argument("--gpubom", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("wheels", nargs="+")
    args = parser.parse_args()
    if args.command == "table":
        table(args.transcripts)
    elif args.command == "record":
        record(args.cuobjdump, args.wheel, args.members)
    else:
        sys.exit(1 if survey(args.cuobjdump, args.gpubom, args.out, args.wheels) else 0)


if __name__ == "__main__":
    main()
