#!/usr/bin/env bash
# The GitHub Action's run step (action.yml): runs `showcase-deploy COMMAND`
# with the action's inputs, and writes its outputs to $GITHUB_OUTPUT:
#   exit-code     the tool's exit code;
#   has-changes   true when plan/drift exited 2 (changes pending, drift found);
#   plan-json     for plan and drift: the path of the report as JSON;
#   markdown-file the path of the Markdown the tool wrote for the job summary.
# Exit 2 from plan or drift is not a failure here: the workflow decides (with
# has-changes). Any other non-zero exit fails the step with the same code.
#
# Inputs come through the environment, never through the script's text:
#   COMMAND, STACK_FILE, VARS (NAME=VALUE per line), ARGS (split on whitespace,
#   no globbing), and SHOWCASE_DEPLOY (the binary; default: from PATH).
set -euo pipefail

: "${COMMAND:?the action needs a command (plan, up, drift, validate, …)}"
: "${GITHUB_OUTPUT:?not running under GitHub Actions (GITHUB_OUTPUT is unset)}"
tool=${SHOWCASE_DEPLOY:-showcase-deploy}
out_dir=${RUNNER_TEMP:-${TMPDIR:-/tmp}}/showcase-deploy-action
mkdir -p "$out_dir"

case "$COMMAND" in
  *[!a-z-]* | "") echo "::error title=showcase-deploy action::command must be one word (plan, up, drift, …)" >&2; exit 64 ;;
esac
args=("$COMMAND")
if [ -n "${STACK_FILE:-}" ]; then
  args+=(--stack "$STACK_FILE")
fi
while IFS= read -r line || [ -n "$line" ]; do
  # trim surrounding blanks; skip empty lines and comments
  line="${line#"${line%%[![:space:]]*}"}"
  line="${line%"${line##*[![:space:]]}"}"
  case "$line" in
    "" | "#"*) continue ;;
    [A-Za-z_]*=*) args+=(--var "$line") ;;
    *) echo "::error title=showcase-deploy action::vars: each line is NAME=VALUE, got: ${line%%=*}" >&2; exit 64 ;;
  esac
done <<<"${VARS:-}"
extra=()
if [ -n "${ARGS:-}" ]; then
  read -r -d '' -a extra <<<"$ARGS" || true # every line; read -d '' ends non-zero at the end
fi
args+=(${extra[@]+"${extra[@]}"})

# plan and drift: the report as JSON on stdout (unless args chose an output).
json=""
case "$COMMAND" in
  plan | drift)
    case " ${extra[*]-} " in
      *" --output "* | *" --output="*) ;;
      *)
        json="$out_dir/$COMMAND-$$.json"
        args+=(--output json)
        ;;
    esac
    ;;
esac

# The tool appends its Markdown to $GITHUB_STEP_SUMMARY under Actions: catch it
# in a file of its own (for a PR comment, say), then append it to the summary.
markdown="$out_dir/$COMMAND-$$.md"
: >"$markdown"
real_summary=${GITHUB_STEP_SUMMARY:-}

echo "showcase-deploy ${args[*]}"
code=0
if [ -n "$json" ]; then
  GITHUB_STEP_SUMMARY="$markdown" "$tool" "${args[@]}" >"$json.raw" || code=$?
  # Workflow commands (::warning, ::group::) go to the log, the rest is the JSON.
  grep '^::' "$json.raw" || true
  grep -v '^::' "$json.raw" >"$json" || true
  rm -f "$json.raw"
  echo "::group::the report as JSON ($json)"
  cat "$json"
  echo "::endgroup::"
else
  GITHUB_STEP_SUMMARY="$markdown" "$tool" "${args[@]}" || code=$?
fi
if [ -n "$real_summary" ] && [ -s "$markdown" ]; then
  cat "$markdown" >>"$real_summary"
fi

has_changes=false
case "$COMMAND/$code" in
  plan/2 | drift/2) has_changes=true ;;
esac
{
  echo "exit-code=$code"
  echo "has-changes=$has_changes"
  echo "plan-json=$json"
  echo "markdown-file=$markdown"
} >>"$GITHUB_OUTPUT"

if [ "$code" = 0 ] || [ "$has_changes" = true ]; then
  exit 0
fi
exit "$code"
