#!/usr/bin/env bash
# Lints the action (.ci/run runs this): shellcheck on its scripts, the pre-push hook and
# docker-push-checked, actionlint on gpubom's own workflows and the example workflows as
# published, then on the examples with `uses: gpubom/gpubom@v0` pointing at this checkout's
# action.yml, so that every `with:` key must be one of its inputs. ACTIONLINT names the
# binary (default: on PATH).
set -euo pipefail
cd "$(dirname "$0")/../.."
actionlint="${ACTIONLINT:-actionlint}"
shellcheck -x scripts/action/*.sh scripts/pre-push scripts/docker-push-checked
"$actionlint" docs/examples/*.yml .github/workflows/*.yml
# actionlint reads `uses: ./` only in a git project; a scratch one holds the copies.
project="$(mktemp -d)"
trap 'rm -rf "$project"' EXIT
mkdir -p "$project/.github/workflows"
cp action.yml "$project/"
for example in docs/examples/*.yml; do
  sed 's|uses: gpubom/gpubom@v0$|uses: ./|' "$example" >"$project/.github/workflows/${example##*/}"
done
git -C "$project" init -q
"$actionlint" "$project"/.github/workflows/*.yml
echo "action lint: clean"
