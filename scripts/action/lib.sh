# shellcheck shell=bash
# Shared by the action's scripts (sourced, not run). Values that came from inputs are
# only ever passed as single arguments: nothing here evaluates or word-splits them.

# A workflow command makes the message an annotation on the run; its data escapes % and
# line breaks as the runner expects, so a message cannot end the command early.
annotate() {
  local message="${2//'%'/%25}"
  message="${message//$'\r'/%0D}"
  printf '::%s title=gpubom::%s\n' "$1" "${message//$'\n'/%0A}" >&2
}

die() {
  annotate error "$1"
  exit 2
}

warn() {
  annotate warning "$1"
}

# 128 random bits as hex, new on every call: what a hostile string cannot guess.
random_token() {
  printf 'gpubom_%s\n' "$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
}

# Writes a step output. A value with a line break (a hostile path, say) takes the heredoc
# form with a random delimiter, so that it cannot forge a second output.
set_output() {
  local name="$1" value="$2" delimiter
  [ -n "${GITHUB_OUTPUT:-}" ] || return 0
  if [[ "$value" != *$'\n'* ]]; then
    printf '%s=%s\n' "$name" "$value" >>"$GITHUB_OUTPUT"
    return 0
  fi
  delimiter="$(random_token)"
  printf '%s<<%s\n%s\n%s\n' "$name" "$delimiter" "$value" "$delimiter" >>"$GITHUB_OUTPUT"
}

# true/false inputs as GitHub documents them; anything else is a typo worth stopping on.
# Takes the input's name and its value.
is_true() {
  case "${2,,}" in
    true) return 0 ;;
    false | "") return 1 ;;
    *) die "$1: expected true or false, got '$2'" ;;
  esac
}

# Runs a command whose output carries text from the image (file names, pickle globals,
# labels) with the runner's workflow commands switched off: `::stop-commands::TOKEN`
# before, `::TOKEN::` after, with a token made for this call. Inside, no line the image
# wrote (`::error::`, `##[error]`, a forged `::TOKEN::`) is obeyed. The caller sends
# stderr to stdout first: two pipes reach the runner in no guaranteed order.
without_workflow_commands() {
  local token status=0
  token="$(random_token)"
  printf '::stop-commands::%s\n' "$token"
  "$@" || status=$?
  # A last line without its newline would swallow the token and leave commands off.
  printf '\n::%s::\n' "$token"
  return "$status"
}

# Prints stdin as a Markdown code block whose fence is longer than any run of backticks in
# it, so that nothing inside can close the block and be rendered.
code_block() {
  local text fence='```'
  text="$(cat)"
  while [[ "$text" == *"$fence"* ]]; do
    fence+='`'
  done
  printf '%s\n%s\n%s\n' "$fence" "$text" "$fence"
}
