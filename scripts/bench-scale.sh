#!/usr/bin/env bash
# Measures gpubom at the limit on components per image (100,000): `scan` and `check` of an image
# of that many tiny Python distributions (a few MB: the shape of a component-count bomb), and
# `diff` of two SBOMs of that many components. All of it synthetic, written by Python here.
# Usage: scripts/bench-scale.sh [COUNT]   (default 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-100000}"
cargo build --release --quiet --bin gpubom
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
python3 - "$out" "$count" <<'PY'
import hashlib, io, json, os, sys, tarfile
out, count = sys.argv[1], int(sys.argv[2])
layout = os.path.join(out, "synthetic-many")
blobs = os.path.join(layout, "blobs", "sha256")
os.makedirs(blobs)
def blob(data):
    digest = hashlib.sha256(data).hexdigest()
    open(os.path.join(blobs, digest), "wb").write(data)
    return "sha256:" + digest, len(data)
layer = io.BytesIO()
with tarfile.open(fileobj=layer, mode="w", format=tarfile.PAX_FORMAT) as tar:
    for i in range(count):
        body = f"Metadata-Version: 2.1\nName: p{i}\nVersion: 1.0\n".encode()
        info = tarfile.TarInfo(f"usr/lib/python3/dist-packages/p{i}-1.0.dist-info/METADATA")
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body))
layer_digest, layer_size = blob(layer.getvalue())
config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                     "rootfs": {"type": "layers", "diff_ids": [layer_digest]}}).encode()
config_digest, config_size = blob(config)
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_size},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest, "size": layer_size}]}).encode()
manifest_digest, manifest_size = blob(manifest)
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
    "digest": manifest_digest, "size": manifest_size}]}, open(os.path.join(layout, "index.json"), "w"))
json.dump({"imageLayoutVersion": "1.0.0"}, open(os.path.join(layout, "oci-layout"), "w"))
for name, version in (("old", "1.0"), ("new", "1.1")):
    with open(os.path.join(out, f"synthetic-{name}.cdx.json"), "w") as f:
        f.write('{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"metadata":{"component":{"type":"container","name":"synthetic/many"}},"components":[')
        f.write(",".join(json.dumps({"type": "library", "bom-ref": f"pkg:pypi/p{i}@{version}", "name": f"p{i}",
            "version": version, "purl": f"pkg:pypi/p{i}@{version}"}) for i in range(count)))
        f.write("]}\n")
PY
echo "image: $(du -sh "$out/synthetic-many" | cut -f1) OCI layout, $count distributions; $(nproc) cores"
measure() {
  local label=$1
  shift
  /usr/bin/time -f "$label: %e s wall, %M KiB max RSS" "$@" >/dev/null
}
measure "scan" ./target/release/gpubom scan "oci-dir:$out/synthetic-many" --no-cache -q -f cyclonedx-json
measure "check" ./target/release/gpubom check "oci-dir:$out/synthetic-many" --no-cache -q --fail-on none -f json
measure "diff" ./target/release/gpubom diff "$out/synthetic-old.cdx.json" "$out/synthetic-new.cdx.json"
