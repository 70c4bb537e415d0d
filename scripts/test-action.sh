#!/usr/bin/env bash
# Tests the GitHub Action's scripts (action.yml) offline.
# scripts/install-release.sh (what the action installs with), against fake releases: a small executable and a SHA256SUMS file, served from
# a local directory and over HTTP on loopback. A good binary is installed; a
# tampered one is refused (exit 1, "checksum mismatch", nothing installed); a
# release without this platform's binary says so with exit 3 (the action then
# builds from source).
# scripts/action-run.sh (the action's run step), with a fake showcase-deploy:
# exit 2 from plan/drift is has-changes=true and not a failure, other codes fail
# the step, vars and args reach the tool as separate arguments, the JSON report
# and the Markdown summary are files of their own.
# Prints "N passed, N failed"; exit 0 only if all passed.
set -euo pipefail
cd "$(dirname "$0")/.."
install=$PWD/scripts/install-release.sh
tmp=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }
not_ok() { failed=$((failed + 1)); echo "FAILED: $*"; }

target=x86_64-unknown-linux-gnu
asset=showcase-deploy-$target

# release DIR: a fake release in DIR (the binary for $target and one other, and SHA256SUMS).
release() {
  mkdir -p "$1"
  printf '#!/bin/sh\necho "showcase-deploy 9.9.9 (fake release)"\n' >"$1/$asset"
  printf '#!/bin/sh\necho other\n' >"$1/showcase-deploy-aarch64-apple-darwin"
  (cd "$1" && sha256sum showcase-deploy-* >SHA256SUMS)
}

# run NAME EXPECTED_EXIT ARGS...: runs the install script, keeps its stderr in $tmp/NAME.err.
run() {
  local name=$1 want=$2 code=0
  shift 2
  "$install" "$@" 2>"$tmp/$name.err" || code=$?
  if [ "$code" = "$want" ]; then
    return 0
  fi
  not_ok "$name: exit $code, expected $want: $(cat "$tmp/$name.err")"
  return 1
}

# 1. A good release from a directory installs a binary that runs.
release "$tmp/good"
if run good 0 --from "$tmp/good" --dest "$tmp/bin-good" --target "$target"; then
  if [ "$("$tmp/bin-good/showcase-deploy")" = "showcase-deploy 9.9.9 (fake release)" ]; then
    ok "a verified binary is installed and runs"
  else
    not_ok "the installed binary does not run as released"
  fi
fi

# 2. A tampered binary (the checksum file unchanged) is refused, and nothing is installed.
release "$tmp/tampered"
printf 'echo pwned\n' >>"$tmp/tampered/$asset"
if run tampered 1 --from "$tmp/tampered" --dest "$tmp/bin-tampered" --target "$target"; then
  if grep -q "checksum mismatch for $asset" "$tmp/tampered.err" && grep -q "refusing to install" "$tmp/tampered.err" &&
    [ ! -e "$tmp/bin-tampered/showcase-deploy" ] && [ ! -e "$tmp/bin-tampered/.showcase-deploy.partial" ]; then
    ok "a tampered binary is refused: $(cat "$tmp/tampered.err")"
  else
    not_ok "tampered: wrong message or something was installed: $(cat "$tmp/tampered.err")"
  fi
fi

# 3. A tampered binary does not replace an installed good one.
cp "$tmp/bin-good/showcase-deploy" "$tmp/keep"
if run tampered-over-good 1 --from "$tmp/tampered" --dest "$tmp/bin-good" --target "$target" &&
  cmp -s "$tmp/keep" "$tmp/bin-good/showcase-deploy"; then
  ok "a refused download leaves the installed binary alone"
else
  not_ok "a refused download changed the installed binary"
fi

# 4. A release without this target's binary: exit 3 (the action falls back to cargo install).
if run missing 3 --from "$tmp/good" --dest "$tmp/bin-missing" --target aarch64-unknown-linux-gnu; then
  if grep -q "has no showcase-deploy-aarch64-unknown-linux-gnu" "$tmp/missing.err"; then
    ok "no asset for the target: exit 3, said so"
  else
    not_ok "missing: message: $(cat "$tmp/missing.err")"
  fi
fi

# 5. A malformed checksum line is an error, not a fallback.
release "$tmp/malformed"
printf 'nothex  %s\n' "$asset" >"$tmp/malformed/SHA256SUMS"
run malformed 1 --from "$tmp/malformed" --dest "$tmp/bin-malformed" --target "$target" &&
  ok "a malformed SHA256SUMS is refused"

# 6. The same over HTTP (how the action downloads): good, tampered, and a release that does not exist (404).
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$tmp" >"$tmp/http.log" 2>&1 &
server=$!
for _ in $(seq 50); do
  curl -s -o /dev/null "http://127.0.0.1:$port/" && break
  sleep 0.1
done
base=http://127.0.0.1:$port
if run http-good 0 --from "$base/good" --dest "$tmp/bin-http" --target "$target" &&
  [ "$("$tmp/bin-http/showcase-deploy")" = "showcase-deploy 9.9.9 (fake release)" ]; then
  ok "over HTTP: a verified binary is installed"
else
  not_ok "over HTTP: the good release was not installed"
fi
if run http-tampered 1 --from "$base/tampered" --dest "$tmp/bin-http-tampered" --target "$target" &&
  grep -q "checksum mismatch" "$tmp/http-tampered.err" && [ ! -e "$tmp/bin-http-tampered/showcase-deploy" ]; then
  ok "over HTTP: a tampered binary is refused"
else
  not_ok "over HTTP: tampered: $(cat "$tmp/http-tampered.err" 2>/dev/null)"
fi
run http-no-release 3 --from "$base/no-such-release" --dest "$tmp/bin-none" --target "$target" &&
  ok "over HTTP: no such release (404): exit 3"

# 7. This machine's own target is detected (x86_64/arm64 Linux, arm64 macOS).
case "$(uname -s)/$(uname -m)" in
  Linux/x86_64) here=x86_64-unknown-linux-gnu ;;
  Linux/aarch64) here=aarch64-unknown-linux-gnu ;;
  Darwin/arm64) here=aarch64-apple-darwin ;;
  *) here="" ;;
esac
if [ -n "$here" ]; then
  release "$tmp/native"
  printf '#!/bin/sh\necho native\n' >"$tmp/native/showcase-deploy-$here"
  (cd "$tmp/native" && sha256sum showcase-deploy-* >SHA256SUMS)
  run native 0 --from "$tmp/native" --dest "$tmp/bin-native" && [ "$("$tmp/bin-native/showcase-deploy")" = native ] &&
    ok "this machine's target ($here) is detected"
fi

# 8. The action's run step, with a fake tool that records its arguments.
cat >"$tmp/fake-tool" <<'FAKE'
#!/usr/bin/env bash
printf '%s\n' "$@" >"$FAKE_ARGS"
[ -z "${GITHUB_STEP_SUMMARY:-}" ] || echo "| resource | action |" >>"$GITHUB_STEP_SUMMARY"
if [ "$1" = plan ] || [ "$1" = drift ]; then
  echo '{'
  echo '  "drifted": true'
  echo '}'
  echo '::warning title=drift: function.x::memory_mb: live 512, stack.toml 256'
fi
exit "$FAKE_EXIT"
FAKE
chmod +x "$tmp/fake-tool"
# action NAME EXPECTED_EXIT FAKE_EXIT COMMAND ARGS: runs action-run.sh; its outputs in $tmp/NAME.out.
action() {
  local name=$1 want=$2 fake=$3 command=$4 extra=$5 code=0
  : >"$tmp/$name.out"
  : >"$tmp/$name.summary"
  env COMMAND="$command" STACK_FILE="stacks/my stack.toml" ARGS="$extra" \
    VARS=$'lake_bucket=acme-lake\n\n  # a comment\nnote=two words  \n' \
    SHOWCASE_DEPLOY="$tmp/fake-tool" FAKE_EXIT="$fake" FAKE_ARGS="$tmp/$name.args" \
    GITHUB_OUTPUT="$tmp/$name.out" GITHUB_STEP_SUMMARY="$tmp/$name.summary" RUNNER_TEMP="$tmp/runner" \
    scripts/action-run.sh >"$tmp/$name.log" 2>&1 || code=$?
  if [ "$code" != "$want" ]; then
    not_ok "action $name: exit $code, expected $want: $(cat "$tmp/$name.log")"
    return 1
  fi
}
output() { sed -n "s/^$2=//p" "$tmp/$1.out"; }

if action plan-changes 0 2 plan "--refresh-only  --foo"; then
  json=$(output plan-changes plan-json)
  if [ "$(output plan-changes exit-code)" = 2 ] && [ "$(output plan-changes has-changes)" = true ] &&
    python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["drifted"] is True' "$json" &&
    grep -q '^::warning title=drift: function.x::' "$tmp/plan-changes.log" &&
    grep -q '| resource | action |' "$tmp/plan-changes.summary" &&
    grep -q '| resource | action |' "$(output plan-changes markdown-file)" &&
    [ "$(cat "$tmp/plan-changes.args")" = "$(printf '%s\n' plan --stack 'stacks/my stack.toml' --var lake_bucket=acme-lake --var 'note=two words' --refresh-only --foo --output json)" ]; then
    ok "action: plan exit 2 is has-changes=true, exit-code=2, step passes; JSON, annotations and summary apart"
  else
    not_ok "action: plan with changes: outputs $(cat "$tmp/plan-changes.out"), args $(cat "$tmp/plan-changes.args")"
  fi
fi
action plan-clean 0 0 plan "" && [ "$(output plan-clean has-changes)" = false ] && [ "$(output plan-clean exit-code)" = 0 ] &&
  ok "action: plan exit 0 is has-changes=false"
action plan-error 1 1 plan "" && [ "$(output plan-error exit-code)" = 1 ] && [ "$(output plan-error has-changes)" = false ] &&
  ok "action: plan exit 1 fails the step"
action up-two 2 2 up "--skip-build" && [ "$(output up-two has-changes)" = false ] &&
  ok "action: exit 2 from up is a failure (only plan and drift mean changes by it)"
action drift-markdown 0 2 drift "--output markdown" && [ -z "$(output drift-markdown plan-json)" ] &&
  [ "$(output drift-markdown has-changes)" = true ] && ! grep -q -- '--output json' "$tmp/drift-markdown.args" &&
  ok "action: args that choose --output are kept, and plan-json is empty"
if env COMMAND='plan; rm -rf /' GITHUB_OUTPUT="$tmp/bad.out" RUNNER_TEMP="$tmp/runner" SHOWCASE_DEPLOY="$tmp/fake-tool" \
  scripts/action-run.sh >"$tmp/bad.log" 2>&1; then
  not_ok "action: a command that is not one word was run"
else
  ok "action: a command that is not one word is refused"
fi

# 9. The action's install step itself (its script read from action.yml), against a
#    release served over HTTP as GITHUB_SERVER_URL/OWNER/REPO/releases/download/TAG:
#    installs the verified binary; refuses a tampered one (and never builds it
#    instead); builds with `cargo install --git … --tag …` when no asset fits.
python3 -c 'import sys, yaml; print(yaml.safe_load(open("action.yml"))["runs"]["steps"][0]["run"])' >"$tmp/install-step.sh"
mkdir -p "$tmp/fakebin"
cat >"$tmp/fakebin/cargo" <<'FAKE'
#!/usr/bin/env bash
printf '%s\n' "$@" >"$FAKE_CARGO_ARGS"
root=""
while [ $# -gt 0 ]; do [ "$1" = --root ] && root=$2; shift; done
mkdir -p "$root/bin"
printf '#!/bin/sh\necho "showcase-deploy built by cargo"\n' >"$root/bin/showcase-deploy"
chmod +x "$root/bin/showcase-deploy"
FAKE
chmod +x "$tmp/fakebin/cargo"
for tag in v1.0.0 v1.0.1 v1.0.2; do mkdir -p "$tmp/acme/showcase/releases/download/$tag"; done
release "$tmp/acme/showcase/releases/download/v1.0.0"
release "$tmp/acme/showcase/releases/download/v1.0.1"
printf 'echo pwned\n' >>"$tmp/acme/showcase/releases/download/v1.0.1/$asset"
mkdir -p "$tmp/acme/showcase/releases/download/v1.0.2"
printf '%s  showcase-deploy-some-other-target\n' "$(printf x | sha256sum | cut -d' ' -f1)" >"$tmp/acme/showcase/releases/download/v1.0.2/SHA256SUMS"
# The action's path tells its repository and ref: make one that looks like the runner's.
mkdir -p "$tmp/_actions/acme/showcase"
for tag in v1.0.0 v1.0.1 v1.0.2; do ln -s "$PWD" "$tmp/_actions/acme/showcase/$tag"; done
install_step_at() {
  local name=$1 tag=$2 code=0
  : >"$tmp/$name.out"
  env PATH="$tmp/fakebin:$PATH" FAKE_CARGO_ARGS="$tmp/$name.cargo" VERSION="" ACTION_REF="" ACTION_REPOSITORY="" GH_TOKEN="" \
    GITHUB_ACTION_PATH="$tmp/_actions/acme/showcase/$tag" GITHUB_REPOSITORY=someone/else GITHUB_SERVER_URL="$base" \
    RUNNER_TEMP="$tmp/runner-$name" GITHUB_OUTPUT="$tmp/$name.out" \
    bash -e "$tmp/install-step.sh" >"$tmp/$name.log" 2>&1 || code=$?
  echo "$code" >"$tmp/$name.code"
}
install_step_at step-good v1.0.0
installed=$(sed -n 's/^path=//p' "$tmp/step-good.out")
if [ "$(cat "$tmp/step-good.code")" = 0 ] && [ -n "$installed" ] &&
  [ "$("$installed")" = "showcase-deploy 9.9.9 (fake release)" ] && [ ! -e "$tmp/step-good.cargo" ]; then
  ok "action install step: uses: acme/showcase@v1.0.0 installs that release's verified binary"
else
  not_ok "action install step, good release: $(cat "$tmp/step-good.log")"
fi
install_step_at step-tampered v1.0.1
if [ "$(cat "$tmp/step-tampered.code")" != 0 ] && grep -q "checksum mismatch" "$tmp/step-tampered.log" &&
  [ ! -e "$tmp/step-tampered.cargo" ] && [ -z "$(sed -n 's/^path=//p' "$tmp/step-tampered.out")" ]; then
  ok "action install step: a tampered release fails the step (no fallback build)"
else
  not_ok "action install step, tampered release: $(cat "$tmp/step-tampered.log")"
fi
install_step_at step-fallback v1.0.2
if [ "$(cat "$tmp/step-fallback.code")" = 0 ] &&
  [ "$(tr '\n' ' ' <"$tmp/step-fallback.cargo")" = "install --locked --git $base/acme/showcase --tag v1.0.2 --root $tmp/runner-step-fallback/showcase-deploy/v1.0.2 showcase-deploy " ] &&
  [ "$("$(sed -n 's/^path=//p' "$tmp/step-fallback.out")")" = "showcase-deploy built by cargo" ]; then
  ok "action install step: no asset for this runner builds the tag with cargo install --locked --git"
else
  not_ok "action install step, fallback: $(cat "$tmp/step-fallback.log") cargo: $(cat "$tmp/step-fallback.cargo" 2>/dev/null)"
fi
code=0
env PATH="$tmp/fakebin:$PATH" FAKE_CARGO_ARGS="$tmp/step-source.cargo" VERSION=source ACTION_REF="" ACTION_REPOSITORY="" \
  GH_TOKEN="" GITHUB_ACTION_PATH="$PWD" GITHUB_REPOSITORY=acme/showcase GITHUB_SERVER_URL="$base" \
  RUNNER_TEMP="$tmp/runner-source" GITHUB_OUTPUT="$tmp/step-source.out" \
  bash -e "$tmp/install-step.sh" >"$tmp/step-source.log" 2>&1 || code=$?
if [ "$code" = 0 ] &&
  [ "$(tr '\n' ' ' <"$tmp/step-source.cargo")" = "install --locked --path $PWD/deployer --root $tmp/runner-source/showcase-deploy/source " ]; then
  ok "action install step: version source builds the action's own checkout"
else
  not_ok "action install step, source: $(cat "$tmp/step-source.log")"
fi

echo "action: $passed passed, $failed failed"
[ "$failed" = 0 ]
