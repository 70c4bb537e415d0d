#!/usr/bin/env bash
# The GitHub Action's run step (scripts/action-run.sh) with the real tool
# against moto's server, as a job would run it (GITHUB_ACTIONS=true): plan and
# drift of a stack that is not deployed exit 2, which is has-changes=true and
# no failure; the JSON report parses (the ::warning annotations drift prints are
# in the log, not in the JSON); the Markdown lands in its file and the job
# summary; a broken stack file fails the step.
#
#   scripts/test-action-tool.sh path/to/showcase-deploy
#
# Needs moto_server on PATH (scripts/stand-ins.sh). Prints "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
tool=$(cd "$(dirname "${1:?usage: $0 path/to/showcase-deploy}")" && pwd)/$(basename "$1")
[ -x "$tool" ] || { echo "no showcase-deploy at $1" >&2; exit 1; }
tmp=$(mktemp -d)
moto="" serverless=""
cleanup() {
  if [ -n "$moto" ]; then kill "$moto" 2>/dev/null || true; fi
  if [ -n "$serverless" ]; then kill "$serverless" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }
not_ok() { failed=$((failed + 1)); echo "FAILED: $*"; }

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
moto_server -H 127.0.0.1 -p "$port" >"$tmp/moto.log" 2>&1 &
moto=$!
for _ in $(seq 100); do
  curl -s -o /dev/null "http://127.0.0.1:$port/moto-api/" && break
  sleep 0.1
done

# Redshift Serverless, which moto lacks: the stack here has no serverless
# warehouse, so AWS answers each lookup of one ResourceNotFoundException
# (JSON 1.1); this stand-in answers every request that way and nothing else.
sport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 - "$sport" >"$tmp/serverless.log" 2>&1 <<'PY' &
import http.server, sys
class NotFound(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        body = b'{"__type":"ResourceNotFoundException","message":"not found"}'
        self.send_response(400)
        self.send_header("content-type", "application/x-amz-json-1.1")
        self.send_header("x-amzn-errortype", "ResourceNotFoundException")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), NotFound).serve_forever()
PY
serverless=$!

# step NAME COMMAND [STACK_FILE]: one run of the action's step; exit code in $tmp/NAME.code.
step() {
  local name=$1 command=$2 stack=${3:-} code=0
  : >"$tmp/$name.out"
  : >"$tmp/$name.summary"
  env COMMAND="$command" STACK_FILE="$stack" VARS=$'lake_bucket=acme-showcase-lake\n' ARGS="" \
    SHOWCASE_DEPLOY="$tool" GITHUB_ACTIONS=true \
    GITHUB_OUTPUT="$tmp/$name.out" GITHUB_STEP_SUMMARY="$tmp/$name.summary" RUNNER_TEMP="$tmp/runner" \
    AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ENDPOINT_URL_REDSHIFT_SERVERLESS="http://127.0.0.1:$sport" \
    AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
    AWS_REGION=eu-west-1 AWS_EC2_METADATA_DISABLED=true \
    timeout 300 scripts/action-run.sh >"$tmp/$name.log" 2>&1 || code=$?
  echo "$code" >"$tmp/$name.code"
}
output() { sed -n "s/^$2=//p" "$tmp/$1.out"; }

step validate validate
if [ "$(cat "$tmp/validate.code")" = 0 ] && [ "$(output validate exit-code)" = 0 ] && [ "$(output validate has-changes)" = false ]; then
  ok "validate: exit 0, has-changes=false"
else
  not_ok "validate: $(cat "$tmp/validate.log")"
fi

step plan plan
json=$(output plan plan-json)
if [ "$(cat "$tmp/plan.code")" = 0 ] && [ "$(output plan exit-code)" = 2 ] && [ "$(output plan has-changes)" = true ] &&
  python3 -c 'import json, sys; assert any(c["action"] == "create" for c in json.load(open(sys.argv[1]))["changes"])' "$json" &&
  grep -q '^### showcase-deploy plan' "$(output plan markdown-file)" &&
  grep -q 'lake_bucket.acme-showcase-lake' "$tmp/plan.summary"; then
  ok "plan of an undeployed stack: exit-code=2, has-changes=true, the step passes; JSON and Markdown files, summary"
else
  not_ok "plan: code $(cat "$tmp/plan.code"), outputs $(cat "$tmp/plan.out"): $(tail -n 20 "$tmp/plan.log")"
fi

step drift drift
json=$(output drift plan-json)
if [ "$(cat "$tmp/drift.code")" = 0 ] && [ "$(output drift has-changes)" = true ] &&
  python3 -c 'import json, sys; assert json.load(open(sys.argv[1]))["drifted"] is True' "$json" &&
  grep -q '^::warning title=drift: lake_bucket.acme-showcase-lake::missing' "$tmp/drift.log" &&
  ! grep -q '::warning' "$json" && [ -s "$tmp/drift.summary" ]; then
  ok "drift: has-changes=true; annotations in the log, not in the JSON; the table in the summary"
else
  not_ok "drift: code $(cat "$tmp/drift.code"), outputs $(cat "$tmp/drift.out"): $(tail -n 20 "$tmp/drift.log")"
fi

printf '[stack]\nname = "Not A Valid Name"\n' >"$tmp/broken.toml"
step broken plan "$tmp/broken.toml"
if [ "$(cat "$tmp/broken.code")" = 1 ] && [ "$(output broken exit-code)" = 1 ] && [ "$(output broken has-changes)" = false ]; then
  ok "a broken stack file: exit 1 fails the step"
else
  not_ok "broken stack: code $(cat "$tmp/broken.code"), outputs $(cat "$tmp/broken.out"): $(cat "$tmp/broken.log")"
fi

echo "action with the tool: $passed passed, $failed failed"
[ "$failed" = 0 ]
