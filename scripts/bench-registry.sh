#!/usr/bin/env bash
# A registry pull against the same image as an OCI layout: wall time and max RSS of
# `gpubom scan` on each, and a check that both give the same components.
# Needs docker-registry and skopeo (apt-get install docker-registry skopeo).
# Usage: scripts/bench-registry.sh [SIZE_MB]   (default 1024)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-image.sh
archive=$image

work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
layout="$work/layout"
mkdir -p "$layout"
tar -xf "$archive" -C "$layout"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/config.yml" <<YAML
version: 0.1
log: { level: error, accesslog: { disabled: true } }
storage: { filesystem: { rootdirectory: $work/storage } }
http: { addr: 127.0.0.1:$port }
YAML
docker-registry serve "$work/config.yml" >"$work/registry.log" 2>&1 &
pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.2; done
reference="127.0.0.1:$port/bench/image:latest"
skopeo --insecure-policy copy --quiet --preserve-digests --dest-tls-verify=false \
  "oci:$layout" "docker://$reference"

echo "image: $archive ($(($(stat -c %s "$archive") >> 20)) MiB), $(nproc) cores"
for source in "oci-dir:$layout" "$reference"; do
  for run in 1 2 3; do
    /usr/bin/time -f "$source run $run: %e s wall, %M KiB max RSS, %P CPU" \
      ./target/release/gpubom scan "$source" --plain-http -q -f cyclonedx-json \
      -o "$work/$run.cdx.json"
  done
  python3 - "$work/3.cdx.json" >"$work/components-$(echo "$source" | cut -c1-3).txt" <<'PY'
import json, sys
bom = json.load(open(sys.argv[1]))
for c in sorted((c.get("purl") or c["name"], c.get("version", "")) for c in bom["components"]):
    print(*c)
PY
done
if cmp -s "$work/components-oci.txt" "$work/components-127.txt"; then
  echo "components: identical ($(wc -l <"$work/components-oci.txt") from each source)"
else
  echo "components differ between the layout and the registry" >&2
  exit 1
fi
