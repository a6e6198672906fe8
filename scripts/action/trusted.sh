# shellcheck shell=bash disable=SC2034,SC2154
# (It shares run.sh's variables: reads work, its scratch directory; sets rules_from.)
#
# Where the gate's rules come from (sourced by run.sh, after lib.sh).
#
# A pull request can edit .gpubom.toml, the policies, the signing keys and the model hash
# list in its own tree, and so waive its own findings. With `trusted-config: base` every
# one of them is read from the pull request's base commit instead: extracted with
# `git archive` into a directory of the run's own, and gpubom is given those copies.
# `head` (the default) reads the checked-out files.
#
# Sets trusted_dir (empty when the checked-out files are used), base_sha and rules_from
# (how the job summary and the comment name the rules' source).
trusted_setup() {
  local mode="${INPUT_TRUSTED_CONFIG:-head}"
  trusted_dir=""
  base_sha=""
  case "$mode" in
    head)
      rules_from="the checked-out files (\`trusted-config: head\`)"
      return 0
      ;;
    base) ;;
    *) die "trusted-config: expected head or base, got '$mode'" ;;
  esac
  # A merge queue's commit holds the pull request's changes too: its base is the trusted one.
  base_sha="$(jq -r '.pull_request.base.sha // .merge_group.base_sha // empty' \
    "${GITHUB_EVENT_PATH:-/dev/null}" 2>/dev/null || true)"
  if [ -z "$base_sha" ]; then
    # A push: the checked-out commit is the branch itself, which only its writers change.
    rules_from="the checked-out files (\`trusted-config: base\`, but this event has no base commit)"
    return 0
  fi
  [[ "$base_sha" =~ ^[0-9a-f]{40}$ ]] ||
    die "trusted-config: base: the event's base is not a commit SHA: '$base_sha'"
  if ! git cat-file -e "$base_sha^{commit}" 2>/dev/null; then
    # actions/checkout fetches one commit unless told otherwise; the base comes the same way.
    git fetch --quiet --no-tags --depth=1 origin "$base_sha" ||
      die "trusted-config: base: cannot fetch the base commit $base_sha; check the repository out here (actions/checkout with fetch-depth: 0 has it)"
  fi
  trusted_dir="$work/trusted"
  mkdir -p "$trusted_dir"
  rules_from="the base commit \`${base_sha:0:12}\` (\`trusted-config: base\`)"
}

# Prints the path to give gpubom for a rules file an input names: the path itself, or with
# trusted-config: base, its copy from the base commit. A path the base commit lacks stops
# the step (run it in a subshell and exit on failure): the rules would not be the trusted ones.
trusted_path() {
  local path="$1"
  if [ -z "$trusted_dir" ]; then
    printf '%s\n' "$path"
    return 0
  fi
  # Both would name files outside the checkout, which no commit holds.
  [[ "$path" != /* ]] || die "trusted-config: base reads files from the repository; '$path' is an absolute path"
  [[ "/$path/" != */../* ]] || die "trusted-config: base reads files from the repository; '$path' leaves the working directory"
  # Literal: a name with * or : is a file name, not a git pathspec pattern.
  git --literal-pathspecs archive --format=tar "$base_sha" -- "$path" 2>"$work/git-archive.stderr" |
    tar -x -C "$trusted_dir" ||
    die "trusted-config: base: '$path' is not in the base commit ${base_sha:0:12}: $(tail -n 1 "$work/git-archive.stderr")"
  printf '%s\n' "$trusted_dir/$path"
}

# The config gpubom is to read, as a --config argument (none: gpubom's own default). With
# trusted-config: base and no config input, the base commit's .gpubom.toml, or an empty
# config when the base has none: the pull request's own is never read.
trusted_config_option() {
  local config="${INPUT_CONFIG:-}" copy
  if [ -z "$trusted_dir" ]; then
    [ -z "$config" ] || printf -- '--config=%s\n' "$config"
    return 0
  fi
  if [ -z "$config" ]; then
    if ! git cat-file -e "$base_sha:./.gpubom.toml" 2>/dev/null; then
      : >"$work/defaults.toml"
      printf -- '--config=%s\n' "$work/defaults.toml"
      return 0
    fi
    config=.gpubom.toml
  fi
  copy="$(trusted_path "$config")" || exit 2
  # Keys and the trust root are named relative to the config: from the same commit, so a
  # pull request cannot swap in its own signing key. One the base lacks is left for
  # gpubom to report as unreadable.
  local named
  while IFS= read -r named; do
    [ -z "$named" ] || [[ "$named" == /* ]] ||
      (trusted_path "$(dirname -- "$config")/$named") >/dev/null 2>&1 || true
  done < <(signature_files "$copy")
  printf -- '--config=%s\n' "$copy"
}

# The strings of `keys`, `trusted` and `trusted_root` in a config's [signatures] table,
# one a line: basic or literal TOML strings, on one line or in an array over several.
signature_files() {
  awk '
    function strings(text) {
      while (match(text, /"[^"]*"|\047[^\047]*\047/)) {
        print substr(text, RSTART + 1, RLENGTH - 2)
        text = substr(text, RSTART + RLENGTH)
      }
    }
    open { strings($0); if ($0 ~ /\]/) open = 0; next }
    /^[ \t]*\[/ { table = $0; gsub(/[ \t]|#.*/, "", table); next }
    table == "[signatures]" && /^[ \t]*(keys|trusted|trusted_root)[ \t]*=/ {
      value = $0
      sub(/^[^=]*=/, "", value)
      strings(value)
      if (value ~ /^[ \t]*\[/ && value !~ /\]/) open = 1
    }
  ' "$1"
}
