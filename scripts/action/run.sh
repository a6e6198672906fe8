#!/usr/bin/env bash
# The action's check step. One `gpubom check` writes the SBOM, the SARIF and the JSON and
# Markdown reports; this script turns them into the job summary, the step outputs and the
# pull request comment.
#
# Inputs arrive only as INPUT_* environment variables, and each value is passed to gpubom
# as one argument: an input is data, never shell text (see GitHub's security hardening
# guide on script injection). GPUBOM_BIN names the binary (the install step's, or a test's).
#
# Everything gpubom prints carries strings from the image, which the pull request's author
# controls: it is printed with the runner's workflow commands off (lib.sh's
# without_workflow_commands), and goes into Markdown only as gpubom escaped it or inside a
# code block no line can close. The comment it edits is found by its author, never by its
# text alone.
#
# Exit status: 0 the gate passed, 1 it failed, 2 gpubom could not run.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"
# shellcheck source-path=SCRIPTDIR source=trusted.sh
. "$here/trusted.sh"
# One stream: the runner reads stdout and stderr as two pipes, in no guaranteed order, and
# a line that ends the workflow-command pause must come after everything it covers.
exec 2>&1

bin="${GPUBOM_BIN:-gpubom}"
image="${INPUT_IMAGE:-}"
[ -n "$image" ] || die "the image input is empty"
# Unset means the action's default; set and empty means "do not write this one".
sbom="${INPUT_SBOM_OUTPUT-gpubom.cdx.json}"
sarif="${INPUT_SARIF_OUTPUT-gpubom.sarif}"
comment=false
is_true comment "${INPUT_COMMENT:-false}" && comment=true

work="$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/gpubom.XXXXXX")"
trap 'rm -rf "$work"' EXIT
trusted_setup
echo "gpubom: rules from ${rules_from//\`/}"

# The text report goes to the log; the rest to files, all from the one evaluation. Options
# take their value after `=`, so that a value starting with a dash is still a value.
args=(check "--fail-on=${INPUT_FAIL_ON:-high}" --output=text "--output=json=$work/report.json"
  "--output=markdown=$work/report.md")
# A missing parent directory of an output is made, as upload steps expect of a path.
output() {
  [ -n "$2" ] || return 0
  mkdir -p -- "$(dirname -- "$2")"
  args+=("--output=$1=$2")
}
output cyclonedx-json "$sbom"
output sarif "$sarif"

# Options given only when their input is: gpubom's own defaults (./.gpubom.toml,
# ./Dockerfile) apply otherwise. The rules (config and policies) go to `gpubom diff` too,
# so that its new and resolved findings are the check's. Files that decide the verdict
# (config, policies, keys, model hashes) go through trusted.sh: with trusted-config: base,
# they are the base commit's.
rules=()
config_option="$(trusted_config_option)" || exit 2
[ -z "$config_option" ] || rules+=("$config_option")
option() {
  [ -z "$2" ] || args+=("$1=$2")
}
option --platform "${INPUT_PLATFORM:-}"
option --dockerfile "${INPUT_DOCKERFILE:-}"
if [ -n "${INPUT_EXPECT_SHA256:-}" ]; then
  expected="$(trusted_path "$INPUT_EXPECT_SHA256")" || exit 2
  option --expect-sha256 "$expected"
fi

# List inputs: one item a line (so a path may hold spaces), or, on a single line, items
# separated by blanks. Neither way globs or expands anything. Appends to the array named.
repeated() {
  local -n into="$1"
  local flag="$2" item path items=()
  if [[ "$3" == *$'\n'* ]]; then
    mapfile -t items <<<"$3"
  else
    read -r -a items <<<"$3" || true
  fi
  for item in "${items[@]}"; do
    item="${item#"${item%%[![:space:]]*}"}"
    item="${item%"${item##*[![:space:]]}"}"
    [ -n "$item" ] || continue
    path="$(trusted_path "$item")" || exit 2
    into+=("$flag=$path")
  done
}
repeated rules --policy "${INPUT_POLICIES:-}"
repeated args --key "${INPUT_KEYS:-}"

# `--` ends the options: an image input that starts with a dash is still a source.
args+=("${rules[@]}" -- "$image")

# The text report and the warnings, in the log; stderr is kept for the summary of a run
# that could not finish.
# shellcheck disable=SC2317 # run by without_workflow_commands
check() {
  local status=0
  "$bin" "${args[@]}" 2>"$work/stderr" || status=$?
  cat "$work/stderr"
  return "$status"
}
status=0
without_workflow_commands check || status=$?

summary() {
  [ -z "${GITHUB_STEP_SUMMARY:-}" ] || cat "$@" >>"$GITHUB_STEP_SUMMARY"
}

# The SBOM diff against the base branch's, when one is given and can be had.
compare_with_base() {
  local base="${INPUT_BASE_SBOM:-}"
  [ -n "$base" ] || return 1
  if [ -z "$sbom" ]; then
    warn "base-sbom is given but sbom-output is empty: nothing to compare"
  elif [ ! -f "$base" ]; then
    # The first run on a repository has no base SBOM yet: not an error.
    echo "gpubom: no base SBOM at $base; no diff"
  elif "$bin" diff -f markdown -o "$work/diff.md" "${rules[@]}" -- "$base" "$sbom" \
    2>"$work/diff.stderr"; then
    return 0
  else
    warn "gpubom diff failed: $(tail -n 1 "$work/diff.stderr")"
  fi
  return 1
}

# GitHub's REST API. The token goes into curl's config on stdin, never onto a command line.
github() {
  printf 'header = "Authorization: Bearer %s"\n' "$token" |
    curl -sS --retry 2 -K - -H "Accept: application/vnd.github+json" \
      -H "X-GitHub-Api-Version: 2022-11-28" "$@"
}

# The login the token writes comments as. A user's token (a PAT) is answered by GET /user.
# An installation token is refused it with 403 "Resource not accessible by integration";
# github.token is one, and its comments are github-actions[bot]'s. (Another GitHub App's
# token then finds no comment of its own, and posts a new one: never someone else's.)
token_login() {
  local status login
  status="$(github -o "$work/user.json" -w '%{http_code}' "${GITHUB_API_URL:-https://api.github.com}/user")" ||
    return 1
  case "$status" in
    200) login="$(jq -r '.login // empty' "$work/user.json")" ;;
    403) login='github-actions[bot]' ;;
    *) return 1 ;;
  esac
  # GitHub's logins: letters, digits and dashes; an app's ends in [bot].
  [[ "$login" =~ ^[A-Za-z0-9-]+(\[bot\])?$ ]] || return 1
  printf '%s\n' "$login"
}

# One comment per pull request and image, edited in place, so that a busy pull request does
# not collect a comment per push. Found again by its author, the token's own login, and
# its two marker lines: anyone can write the marker, so a comment by anyone else is never
# edited, whatever it says.
post_comment() {
  local body="$1" pr api marker login id="" page=1 response
  pr="$(jq -r '.pull_request.number // empty' "${GITHUB_EVENT_PATH:-/dev/null}" 2>/dev/null || true)"
  if [[ ! "$pr" =~ ^[0-9]+$ ]]; then
    echo "gpubom: not a pull request event; no comment"
    return 0
  fi
  token="${INPUT_GITHUB_TOKEN:-}"
  # The character check keeps a token from breaking out of curl's quoted config value.
  if [[ ! "$token" =~ ^[A-Za-z0-9_.-]+$ ]]; then
    warn "comment is true but github-token is empty or malformed; no comment"
    return 0
  fi
  api="${GITHUB_API_URL:-https://api.github.com}/repos/${GITHUB_REPOSITORY:?}/issues"
  marker="$(head -n 2 "$body")"
  login="$(token_login)" || return 1
  while [ -z "$id" ]; do
    response="$(github -f "$api/$pr/comments?per_page=100&page=$page")" || return 1
    id="$(jq -r --arg marker "$marker" --arg login "$login" \
      'map(select(.user.login == $login and ((.body // "") | startswith($marker))))
        | first | .id // empty' <<<"$response")"
    [ "$(jq length <<<"$response")" -eq 100 ] || break
    page=$((page + 1))
  done
  jq -n --rawfile body "$body" '{body: $body}' >"$work/comment.json" || return 1
  local method=POST url="$api/$pr/comments" done=posted
  [ -z "$id" ] || { method=PATCH url="$api/comments/$id" done=updated; }
  github -f -X "$method" -H "Content-Type: application/json" --data-binary "@$work/comment.json" \
    "$url" >/dev/null || return 1
  echo "gpubom: $done the comment on pull request #$pr as $login"
}

# The comment: the two marker lines, the check's Markdown report (or why there is none),
# where its rules came from, the diff, and a link to the run. GitHub refuses bodies past
# 65,536 characters.
comment_body() {
  local report="$1" with_diff="$2" full="$work/comment.full.md" body="$work/comment.md"
  {
    printf '<!-- gpubom -->\n<!-- gpubom image %s -->\n' \
      "$(printf '%s' "$image" | sha256sum | cut -c1-16)"
    cat "$report" "$work/rules.md"
    if [ "$with_diff" = true ]; then
      printf '\n'
      cat "$work/diff.md"
    fi
  } >"$full"
  head -c 60000 "$full" >"$body"
  [ "$(wc -c <"$full")" -le 60000 ] || printf '\n\n… (cut; the job summary has it all)\n' >>"$body"
  printf '\n<sub>gpubom · [job summary and full reports](%s/%s/actions/runs/%s)</sub>\n' \
    "${GITHUB_SERVER_URL:-https://github.com}" "${GITHUB_REPOSITORY:-}" "${GITHUB_RUN_ID:-}" >>"$body"
  printf '%s\n' "$body"
}

comment() {
  local body
  body="$(comment_body "$@")"
  post_comment "$body" ||
    warn "could not post the pull request comment (a pull request from a fork gets a read-only token)"
}

# Which rules gave the verdict: gpubom's words and a commit SHA, nothing from the image.
printf '\n<sub>Rules (config, policies, waivers) from %s.</sub>\n' "$rules_from" >"$work/rules.md"

if [ "$status" -ne 0 ] && [ "$status" -ne 1 ]; then
  # No report: the summary and the comment say why instead; a comment left as it was
  # would go on showing the last verdict. The error can quote the image (a config value,
  # a path): in a code block that no line of it can close.
  {
    printf '### gpubom check: ⚠️ **could not run**\n\n'
    tail -n 5 "$work/stderr" | code_block
  } >"$work/error.md"
  summary "$work/error.md" "$work/rules.md"
  [ "$comment" = false ] || comment "$work/error.md" false
  die "gpubom could not run: $(tail -n 1 "$work/stderr")"
fi

findings="$(jq '[.findings[] | select(.waived == null)] | length' "$work/report.json")"
verdict=pass
[ "$status" -eq 0 ] || verdict=fail
summary "$work/report.md" "$work/rules.md"
with_diff=false
if compare_with_base; then
  with_diff=true
  printf '\n' | summary - "$work/diff.md"
fi

set_output sbom "$sbom"
set_output sarif "$sarif"
set_output findings "$findings"
set_output verdict "$verdict"

[ "$comment" = false ] || comment "$work/report.md" "$with_diff"
echo "gpubom: $verdict ($findings unwaived finding(s), fail-on ${INPUT_FAIL_ON:-high})"
exit "$status"
