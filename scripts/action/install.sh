#!/usr/bin/env bash
# Puts a gpubom binary on the runner for the action.
#
#   install.sh download   the checksum-verified release binary for the version, if there is
#                         one; otherwise says (output build=true) that it must be built, and
#                         with which cache key
#   install.sh build      cargo install from the action's own source, into GPUBOM_ROOT
#
# Outputs: version, root, bin, build, source-hash. The binary's directory joins the job's
# PATH, so later steps can run `gpubom attach` and the like. A GPUBOM_BIN already set (a
# self-hosted runner with gpubom installed) is used as it is.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"
source_dir="${GITHUB_ACTION_PATH:-$(cd "$here/../.." && pwd)}"

# The default version is the one this copy of the action was released with, so the binary
# and the scripts driving it always match.
resolve_version() {
  local version="${INPUT_VERSION:-}"
  if [ -z "$version" ]; then
    version="$(sed -n '/^\[workspace\.package\]/,/^\[/s/^version *= *"\([^"]*\)".*/\1/p' "$source_dir/Cargo.toml")"
  fi
  version="${version#v}"
  # It becomes part of a URL and a file name.
  [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$ ]] || die "not a version: '$version'"
  printf '%s\n' "$version"
}

# What a cached build depends on. hashFiles() only sees files under GITHUB_WORKSPACE, and
# the action's checkout is outside it; the source goes in too, so that an action used at a
# branch does not run a stale binary built from an older commit of the same version.
source_hash() {
  (
    cd "$source_dir"
    find Cargo.toml Cargo.lock src crates policies schemas -type f -print0 2>/dev/null |
      LC_ALL=C sort -z | xargs -0 sha256sum
  ) | sha256sum | cut -c1-16
}

# Release assets exist for linux x86_64 and aarch64 (.github/workflows/release.yml);
# elsewhere the binary is built.
release_target() {
  [ "$(uname -s)" = Linux ] || return 1
  case "$(uname -m)" in
    x86_64) echo x86_64-unknown-linux-gnu ;;
    aarch64 | arm64) echo aarch64-unknown-linux-gnu ;;
    *) return 1 ;;
  esac
}

fetch() {
  curl -fsSL --retry 3 --connect-timeout 20 -o "$2" "$1" 2>/dev/null
}

# Fetches the release asset and its .sha256 into $work. 1: there is none to use (not
# published, or not for this runner): the binary is built instead.
fetch_release() {
  local version="$1" target base
  target="$(release_target)" || return 1
  asset="gpubom-$version-$target.tar.gz"
  base="${GPUBOM_RELEASE_URL:-https://github.com/gpubom/gpubom/releases/download}/v$version"
  work="$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/gpubom-download.XXXXXX")"
  fetch "$base/$asset.sha256" "$work/sha256" && fetch "$base/$asset" "$work/$asset" && return 0
  echo "gpubom: no release v$version for $target; building from source"
  return 1
}

# A checksum that does not match is not a reason to build instead: it stops the job.
install_release() {
  local root="$1" expected binary
  # The .sha256 file's own file name is not trusted: the line checked names the file fetched.
  expected="$(awk 'NR == 1 { print tolower($1) }' "$work/sha256")"
  [[ "$expected" =~ ^[0-9a-f]{64}$ ]] || die "$asset.sha256 holds no sha256"
  (cd "$work" && printf '%s  %s\n' "$expected" "$asset" | sha256sum -c --quiet -) ||
    die "$asset does not match its published sha256; refusing to install it"
  mkdir -p "$work/x" "$root/bin"
  tar -xzf "$work/$asset" -C "$work/x" --no-same-owner
  binary="$(find "$work/x" -maxdepth 2 -type f -name gpubom | head -n 1)"
  [ -n "$binary" ] || die "$asset holds no gpubom binary"
  install -m 0755 "$binary" "$root/bin/gpubom"
  rm -rf "$work"
  echo "gpubom: installed release $asset (sha256 $expected)"
}

case "${1:-}" in
  download)
    if [ -n "${GPUBOM_BIN:-}" ]; then
      [ -x "$GPUBOM_BIN" ] || die "GPUBOM_BIN is not an executable: $GPUBOM_BIN"
      set_output bin "$GPUBOM_BIN"
      set_output build false
      exit 0
    fi
    version="$(resolve_version)"
    root="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/gpubom-$version"
    set_output version "$version"
    set_output root "$root"
    set_output bin "$root/bin/gpubom"
    [ -z "${GITHUB_PATH:-}" ] || printf '%s\n' "$root/bin" >>"$GITHUB_PATH"
    if fetch_release "$version"; then
      install_release "$root"
      set_output build false
    else
      set_output build true
      set_output source-hash "$(source_hash)"
    fi
    ;;
  build)
    [ -n "${GPUBOM_ROOT:-}" ] || die "GPUBOM_ROOT is not set"
    command -v cargo >/dev/null || die "no release binary for this runner and no cargo to build one (install Rust first)"
    # --force: a root left by an older build of the same version is rebuilt, not kept.
    cargo install --locked --force --path "$source_dir" --root "$GPUBOM_ROOT"
    ;;
  *)
    die "usage: install.sh download|build"
    ;;
esac
