#!/usr/bin/env bash
# Builds the demo image from real Debian packages and PyPI wheels, then scans it.
set -euo pipefail
cd "$(dirname "$0")/.."
# apt-get download needs package lists; a fresh machine may not have them yet.
if ! apt-cache show base-files >/dev/null 2>&1; then apt-get update -qq; fi
cargo build --release --quiet --bin gpubom
cargo run --quiet -p gpubom-testkit --bin gpubom-demo-image -- demo/out/demo-image.tar
./target/release/gpubom scan demo/out/demo-image.tar --format table
./target/release/gpubom scan demo/out/demo-image.tar -o demo/out/demo.cdx.json
echo "CycloneDX SBOM written to demo/out/demo.cdx.json"
