#!/usr/bin/env bash
# Measures `gpubom scan` wall time and peak memory on a generated CUDA-shaped image.
# Usage: scripts/bench.sh [SIZE_MB]   (default 1024)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-image.sh
bytes=$(stat -c %s "$image")
echo "image: $image ($((bytes >> 20)) MiB on disk), $(nproc) cores"
for run in 1 2 3; do
  /usr/bin/time -f "run $run: %e s wall, %M KiB max RSS, %P CPU" \
    ./target/release/gpubom scan "$image" -f cyclonedx-json -o "$out/bench.cdx.json" -q
done
components=$(python3 -c "import json;print(len(json.load(open('$out/bench.cdx.json'))['components']))")
echo "components: $components"
