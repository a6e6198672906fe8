#!/usr/bin/env bash
# Builds the demo image from real bytes (Debian packages vendored in tests/fixtures/debs, NVIDIA
# wheels from PyPI, model files written by torch in tests/fixtures/real-models), then scans and
# checks it.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet -p gpubom -p gpubom-testkit --bin gpubom --bin gpubom-demo-image
./target/release/gpubom-demo-image demo/out/demo-image.tar tests/fixtures/real-models
gpubom=./target/release/gpubom
$gpubom scan demo/out/demo-image.tar --format table
$gpubom scan demo/out/demo-image.tar -o demo/out/demo.cdx.json
echo "CycloneDX SBOM written to demo/out/demo.cdx.json"
echo
status=0
$gpubom check demo/out/demo-image.tar || status=$?
echo "gpubom check exited $status (0 pass, 1 findings at or above --fail-on, 2 could not decide)"
# The demo image is built to fail the gate; anything else means the demo is broken.
[ "$status" -eq 1 ]
