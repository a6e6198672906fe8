#!/usr/bin/env bash
# The README's test command: every test in the workspace, then one summary line.
#
# A test skips only when a real fixture from PyPI or npm cannot be fetched (offline), and only
# outside CI: with CI=true that test fails instead. Skips are logged by the testkit to
# skipped.log in the fixture cache; this script clears it first and reports it last.
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${GPUBOM_FIXTURES:-.fixtures}"
log="$cache/skipped.log"
mkdir -p "$cache"
rm -f "$log"
output="$(mktemp)"
trap 'rm -f "$output"' EXIT
status=0
cargo test --workspace --no-fail-fast "$@" 2>&1 | tee "$output" || status=$?
skipped=0
[ -s "$log" ] && skipped=$(wc -l <"$log")
[ "$skipped" -eq 0 ] || { echo "skipped for want of a real fixture:"; sed 's/^/  /' "$log"; }
# One closing line over every test binary: passed and failed summed, skips counted.
awk -v skipped="$skipped" '
  /^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
  END { printf "gpubom: %d passed, %d failed, %d skipped\n", p, f, skipped }
' "$output"
exit "$status"
