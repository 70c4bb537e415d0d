#!/usr/bin/env bash
# The whole reliability battery (issue 11), one command:
#
#   bench/reliability.sh [--quick]
#
# runs the same tests CI runs as a sample, at full size: faults over ten
# seeds, a kill after every mutating request of `up` and of `down`, 10^6
# generated and mutated stack files, and the bad-data and lock tests; then
# prints the figures as the Markdown rows bench/results/reliability.md holds
# (each test appends its rows to $SHOWCASE_RELIABILITY_REPORT).
# --quick: two seeds, every 7th kill, 20,000 stack files (a few minutes).
# Needs what scripts/test.sh installs (moto's server, PostgreSQL, cargo-zigbuild).
set -euo pipefail
cd "$(dirname "$0")/.."

seeds=1-10 stride=1 cases=1000000
if [[ "${1:-}" == "--quick" ]]; then
  seeds=1-2 stride=7 cases=20000
fi
report=$(mktemp)
export SHOWCASE_RELIABILITY_REPORT=$report
export SHOWCASE_FAULT_SEEDS=$seeds SHOWCASE_KILL_STRIDE=$stride SHOWCASE_PROPTEST_CASES=$cases
export PATH="$PWD/.venv/bin:$PATH"

started=$(date +%s)
cargo test -p showcase-deploy --no-run \
  --test reliability_faults --test reliability_kills --test reliability_lock \
  --test stack_fuzz --test bad_lake_objects
cargo test -p showcase-extractor --no-run --test bad_pages --test failures

run() { echo "== $*" >&2; cargo test "$@" -- --nocapture --test-threads 1 >&2; }
run -p showcase-deploy --test stack_fuzz
run -p showcase-deploy --test reliability_faults
run -p showcase-deploy --test reliability_kills
run -p showcase-deploy --test reliability_lock
run -p showcase-deploy --test bad_lake_objects
run -p showcase-extractor --test bad_pages --test failures
echo "| all | seeds $seeds, kill stride $stride, $cases stack files | $(( $(date +%s) - started )) s in all | load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) |" >>"$report"
cat "$report"
