#!/usr/bin/env bash
# Measures `gpubom scan` wall time and peak memory on a generated CUDA-shaped image:
# three cold scans (--no-cache: every layer read, decompressed and hashed), then a rescan
# of the unchanged image from the layer cache.
# Usage: scripts/bench.sh [SIZE_MB]   (default 1024)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-image.sh
bytes=$(stat -c %s "$image")
echo "image: $image ($((bytes >> 20)) MiB on disk), $(nproc) cores"
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT
for run in 1 2 3; do
  /usr/bin/time -f "cold $run: %e s wall, %M KiB max RSS, %P CPU" \
    ./target/release/gpubom scan "$image" --no-cache -f cyclonedx-json -o "$out/bench.cdx.json" -q
done
# The first cached run fills the cache; the second is the rescan a CI job or a pre-push hook sees.
XDG_CACHE_HOME="$cache" ./target/release/gpubom scan "$image" -f cyclonedx-json -o "$out/fill.cdx.json" -q
XDG_CACHE_HOME="$cache" /usr/bin/time -f "rescan (cache): %e s wall, %M KiB max RSS, %P CPU" \
  ./target/release/gpubom scan "$image" -f cyclonedx-json -o "$out/rescan.cdx.json" -q
cmp "$out/bench.cdx.json" "$out/rescan.cdx.json" && echo "rescan SBOM: identical to the cold scan's"
components=$(python3 -c "import json;print(len(json.load(open('$out/bench.cdx.json'))['components']))")
echo "components: $components"
