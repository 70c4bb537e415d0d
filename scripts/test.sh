#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs the stand-ins the tests
# run against (moto, PostgreSQL, cargo-zigbuild + zig, sqlfluff), then checks
# formatting and lints, then runs every test. Exit code 0 means all passed.
set -euo pipefail
cd "$(dirname "$0")/.."
tools=$(scripts/stand-ins.sh)
export PATH="$tools:$PATH"
echo "== the GitHub Action's scripts (install-release.sh against fake releases, action-run.sh)"
scripts/test-action.sh
echo "== actionlint and zizmor on every workflow and action.yml"
actionlint -version
actionlint .github/workflows/*.yml
zizmor --version
zizmor --offline --config .github/zizmor.yml .github/workflows action.yml
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo clippy, the quick local build (README's first command: no deploy feature)"
cargo clippy -p showcase-deploy -p showcase-extractor --no-default-features --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
echo "== the GitHub Action's run step with the real tool, against moto"
cargo build -q --locked -p showcase-deploy
scripts/test-action-tool.sh "${CARGO_TARGET_DIR:-target}/debug/showcase-deploy"
echo "== the README's first command, as a newcomer runs it"
state=$(mktemp -d)
chmod 755 "$state" # PostgreSQL runs as `postgres` when this runs as root
cargo run -q --locked -p showcase-deploy --no-default-features -- \
  run --local --date 2024-03-01 --state-dir "$state" | tee "$state/run.txt"
grep -q "^2024-03-01  extracted 50 sales" "$state/run.txt"
rm -rf "$state"
