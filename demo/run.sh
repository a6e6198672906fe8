#!/usr/bin/env bash
# Builds the demo image from real Debian packages, NVIDIA wheels from PyPI and model files
# written by Python's own pickle module, then scans and checks it.
set -euo pipefail
cd "$(dirname "$0")/.."
# apt-get download needs package lists; a fresh machine may not have them yet.
if ! apt-cache show base-files >/dev/null 2>&1; then apt-get update -qq; fi
cargo build --release --quiet --bin gpubom
python3 tests/fixtures/models/make_models.py demo/out/models >/dev/null
cargo run --quiet -p gpubom-testkit --bin gpubom-demo-image -- demo/out/demo-image.tar demo/out/models
gpubom=./target/release/gpubom
$gpubom scan demo/out/demo-image.tar --format table
$gpubom scan demo/out/demo-image.tar -o demo/out/demo.cdx.json
echo "CycloneDX SBOM written to demo/out/demo.cdx.json"
echo
status=0
$gpubom check demo/out/demo-image.tar || status=$?
echo "gpubom check exited $status (0 pass, 1 findings at or above --fail-on, 2 could not decide)"
