"""What a real Airflow makes of a DAG folder, as JSON into OUT (Airflow logs
to stdout) for deployer/tests/dag_airflow.rs.

    python airflow-dag-inspect.py DAG_FOLDER DAG_ID YYYY-MM-DD OUT

- the DagBag's import errors and DAG ids, and how long the folder took to load;
- the DAG's schedule settings, and the ds of its first run and of the run
  that follows the previous day's (the scheduler's own timetable answers);
- every task: operator, upstream ids, arguments, and its template fields
  rendered for the date as a run for that day renders them (ds, ds_nodash,
  the DAG's params; SQL file paths read from the DAG folder);
- the DAG file's check function applied to sample answers of the Redshift
  Data API (its messages, or null when it passes);
- the tasks' own execute() run against fake AWS hooks (the calls they make,
  and how they end): setup_schema on a new and on an existing schema, a check
  answered false, an extract answered with a FunctionError and with a summary.
"""

import json
import sys
import time
from datetime import datetime, timedelta, timezone

folder, dag_id, day, result = sys.argv[1:5]


def report(out):
    with open(result, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True, default=str)


started = time.monotonic()
from airflow.models.dagbag import DagBag  # noqa: E402

bag = DagBag(dag_folder=folder, include_examples=False)
load_seconds = time.monotonic() - started
import airflow  # noqa: E402

out = {
    "airflow_version": airflow.__version__,
    "import_errors": {k: str(v) for k, v in bag.import_errors.items()},
    "dag_ids": sorted(bag.dags),
    "load_seconds": load_seconds,
    # The DAG file's own parse time, as Airflow measures it against
    # dagbag_import_timeout (30 s by default, on MWAA too).
    "parse_seconds": sum(
        stat.duration.total_seconds() if hasattr(stat.duration, "total_seconds") else stat.duration
        for stat in bag.dagbag_stats
    ),
}
dag = bag.dags.get(dag_id)
if dag is None:
    report(out)
    sys.exit(0)

from airflow.timetables.base import DataInterval, TimeRestriction  # noqa: E402

d = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=timezone.utc)
restriction = TimeRestriction(earliest=dag.start_date, latest=None, catchup=True)
first = dag.timetable.next_dagrun_info(last_automated_data_interval=None, restriction=restriction)
after = dag.timetable.next_dagrun_info(
    last_automated_data_interval=DataInterval(d - timedelta(days=1), d), restriction=restriction
)


def ds(info):
    # ds is the run's logical date on Airflow 2 and 3.
    return info.logical_date.strftime("%Y-%m-%d")


out["dag"] = {
    "timetable": type(dag.timetable).__name__,
    "catchup": dag.catchup,
    "max_active_runs": dag.max_active_runs,
    "start_date": dag.start_date.isoformat(),
    "first_ds": ds(first),
    "next_ds_after_previous_day": ds(after),
    "params": {k: dag.params[k] for k in dag.params.keys()},
}

# A run triggered with another schema than the stack's is refused.
try:
    import copy

    params = copy.deepcopy(dag.params)
    params["schema"] = "someone_elses"
    params.validate()
    out["dag"]["other_schema"] = "accepted"
except Exception as e:
    out["dag"]["other_schema"] = f"refused: {type(e).__name__}"

tasks = {}
for task in dag.tasks:
    context = {
        "ds": day,
        "ds_nodash": day.replace("-", ""),
        "params": task.params,
        "dag": dag,
        "task": task,
    }
    task.render_template_fields(context)
    fields = {}
    for name in task.template_fields:
        value = getattr(task, name, None)
        if isinstance(value, (str, list)) or value is None:
            fields[name] = value
    arguments = {}
    for name in (
        "cluster_identifier",
        "workgroup_name",
        "database",
        "db_user",
        "secret_arn",
        "region_name",
        "wait_for_completion",
        "return_sql_result",
        "invocation_type",
        "aws_conn_id",
    ):
        if hasattr(task, name):
            arguments[name] = getattr(task, name)
    tasks[task.task_id] = {
        "operator": type(task).__name__,
        "upstream": sorted(task.upstream_task_ids),
        "depends_on_past": task.depends_on_past,
        "arguments": arguments,
        "rendered": fields,
    }
out["tasks"] = tasks

module = sys.modules[type(dag.get_task("check_sales")).__module__]


def outcome(result):
    try:
        module.check_row("checks/sales.sql", result)
        return None
    except Exception as e:  # the task's failure
        return f"{type(e).__name__}: {e}"


columns = [{"name": "a"}, {"name": "b"}, {"name": "c"}]
out["check"] = {
    "all_true": outcome(
        {"ColumnMetadata": columns, "Records": [[{"booleanValue": True}] * 3]}
    ),
    "false_and_null": outcome(
        {
            "ColumnMetadata": columns,
            "Records": [[{"booleanValue": True}, {"booleanValue": False}, {"isNull": True}]],
        }
    ),
    "no_row": outcome({"ColumnMetadata": columns, "Records": []}),
}


class FakeConn:
    def __init__(self, results):
        self.results = results

    def describe_statement(self, Id):
        return {"Id": Id}

    def get_statement_result(self, Id):
        return self.results[Id]


class FakeRedshiftHook:
    """Records execute_query calls; answers get_statement_result by statement."""

    def __init__(self, results_by_name):
        self.calls = []
        self.results_by_name = results_by_name
        self.conn = FakeConn({})

    def execute_query(self, sql, statement_name=None, **kwargs):
        sid = f"s{len(self.calls)}"
        self.calls.append({"sql": sql, "statement_name": statement_name})
        self.conn.results[sid] = self.results_by_name.get(statement_name, {})
        from types import SimpleNamespace

        return SimpleNamespace(statement_id=sid, session_id=None)


class FakeLambdaHook:
    def __init__(self, response):
        self.response = response
        self.calls = []

    def invoke_lambda(self, **kwargs):
        import io

        self.calls.append({k: v for k, v in kwargs.items() if v is not None})
        response = dict(self.response)
        response["Payload"] = io.BytesIO(response["Payload"])
        return response


def run(task_id, hook):
    task = dag.get_task(task_id)
    task.__dict__["hook"] = hook
    try:
        value = task.execute({"ds": day, "params": task.params, "dag": dag, "task": task})
        outcome = {"ok": value if isinstance(value, (str, type(None))) else repr(value)}
    except Exception as e:
        outcome = {"failed": f"{type(e).__name__}: {e}"}
    outcome["calls"] = hook.calls
    return outcome


def summary(date, key):
    """The extractor's answer (functions/extractor's ExtractSummary)."""
    return json.dumps({"date": date, "entity": "sales", "rows": 50, "bytes": 1234, "keys": [key]}).encode()


def count(n):
    return {"ColumnMetadata": [{"name": "count"}], "Records": [[{"longValue": n}]]}


out["execute"] = {
    "setup_new": run("setup_schema", FakeRedshiftHook({"showcase-schema-exists": count(0)})),
    "setup_existing": run("setup_schema", FakeRedshiftHook({"showcase-schema-exists": count(1)})),
    "check_false": run(
        "check_sales",
        FakeRedshiftHook(
            {
                f"showcase-check_sales-{day}": {
                    "ColumnMetadata": [{"name": "has_sales_rows"}, {"name": "quality_recorded"}],
                    "Records": [[{"booleanValue": False}, {"booleanValue": True}]],
                }
            }
        ),
    ),
    "check_true": run(
        "check_sales",
        FakeRedshiftHook(
            {
                f"showcase-check_sales-{day}": {
                    "ColumnMetadata": [{"name": "has_sales_rows"}],
                    "Records": [[{"booleanValue": True}]],
                }
            }
        ),
    ),
    "extract_function_error": run(
        "extract_sales",
        FakeLambdaHook(
            {
                "StatusCode": 200,
                "FunctionError": "Unhandled",
                "Payload": b'{"errorType":"ExtractError","errorMessage":"the data API answered 500"}',
            }
        ),
    ),
    "extract_ok": run(
        "extract_sales",
        FakeLambdaHook({"StatusCode": 200, "Payload": summary(day, dag.get_task("extract_sales").expected_key)}),
    ),
    "extract_other_key": run(
        "extract_sales",
        FakeLambdaHook({"StatusCode": 200, "Payload": summary(day, "s3://elsewhere/sales.parquet")}),
    ),
    "extract_other_day": run(
        "extract_sales",
        FakeLambdaHook({"StatusCode": 200, "Payload": summary("2020-01-01", dag.get_task("extract_sales").expected_key)}),
    ),
}
report(out)
