//! The DAG file's Python text. Every value from the stack is written as a
//! JSON string literal, which Python reads as the same string.

use std::fmt::Write;

use super::{DagInput, DagTask, PROVIDER, edges, warehouse_kwargs};
use crate::pipeline::Task;

/// The environment variable that sets how often the SQL tasks look whether
/// their statement finished (default 5 s).
pub const POLL_SECONDS_VARIABLE: &str = "SHOWCASE_REDSHIFT_POLL_SECONDS";

/// A Python string literal of `text`.
fn py(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

const HEADER: &str = r#"# Airflow 2.x and 3.x: the same ds (the run's day) on both, since the
# schedule is an interval timetable (Airflow 3's "@daily" would shift it).
# Light imports only: MWAA times out slow DAG parsing.
import os
from datetime import datetime, timedelta, timezone

try:
    from airflow.sdk import DAG, Param
except ImportError:
    from airflow import DAG
    from airflow.models.param import Param
from airflow.exceptions import AirflowFailException
from airflow.providers.amazon.aws.operators.lambda_function import (
    LambdaInvokeFunctionOperator,
)
from airflow.providers.amazon.aws.operators.redshift_data import RedshiftDataOperator
from airflow.timetables.interval import CronDataIntervalTimetable


def check_row(sql_file, result):
    """Fails unless the check's one row is all true, naming the false or NULL
    columns: what `showcase-deploy run` decides."""
    records = result.get("Records") or []
    if not records:
        raise AirflowFailException(f"{sql_file}: a check must return one row")
    row = records[0]
    columns = [column.get("name", "") for column in result.get("ColumnMetadata") or []]
    failed = [
        name
        for i, name in enumerate(columns)
        if i >= len(row)
        or not (row[i].get("booleanValue") is True or row[i].get("stringValue") == "t")
    ]
    if failed:
        raise AirflowFailException(f"{sql_file} failed: {', '.join(failed)}")


def check_summary(answer, day, entity, expected_key):
    """Fails unless the extractor's answer is its summary for this day and
    entity and names the lake object the load reads: what `showcase-deploy
    run` checks."""
    import json

    try:
        summary = json.loads(answer)
    except (TypeError, ValueError) as e:
        raise AirflowFailException(f"the extractor answered {answer!r}: not an extraction summary ({e})")
    if not isinstance(summary, dict):
        raise AirflowFailException(f"the extractor answered {answer!r}: not an extraction summary")
    if summary.get("date") != day or summary.get("entity") != entity:
        raise AirflowFailException(
            f"the extractor answered a summary of {summary.get('date')} {summary.get('entity')}, not of {day} {entity}"
        )
    if expected_key not in (summary.get("keys") or []):
        raise AirflowFailException(
            f"the extractor did not write {expected_key}, which the load reads (is its LAKE_URL the stack's lake?)"
        )


class ExtractOperator(LambdaInvokeFunctionOperator):
    """An extract: the extractor invoked (a function error fails the task),
    then its summary checked (check_summary)."""

    template_fields = (*LambdaInvokeFunctionOperator.template_fields, "expected_key")

    def __init__(self, *, entity, expected_key, **kwargs):
        super().__init__(**kwargs)
        self.entity = entity
        self.expected_key = expected_key

    def execute(self, context):
        answer = super().execute(context)
        check_summary(answer, context["ds"], self.entity, self.expected_key)
        return answer


class RedshiftCheckOperator(RedshiftDataOperator):
    """A check: its query through the Redshift Data API, then check_row."""

    def __init__(self, *, sql_file, **kwargs):
        super().__init__(return_sql_result=True, **kwargs)
        self.sql_file = sql_file

    def execute(self, context):
        results = super().execute(context)
        check_row(self.sql_file, results[-1])


class RedshiftSetupOperator(RedshiftDataOperator):
    """setup_schema: its statements in one batch; when that created the schema,
    tune.sql a statement at a time (Redshift alters distribution and sort keys
    outside transactions): what `showcase-deploy run` does."""

    template_fields = (*RedshiftDataOperator.template_fields, "exists_sql", "tune_sql")

    def __init__(self, *, exists_sql, tune_sql, **kwargs):
        super().__init__(**kwargs)
        self.exists_sql = exists_sql
        self.tune_sql = tune_sql

    def run_one(self, sql, name):
        return self.hook.execute_query(
            sql=sql,
            database=self.database,
            cluster_identifier=self.cluster_identifier,
            workgroup_name=self.workgroup_name,
            db_user=self.db_user,
            secret_arn=self.secret_arn,
            statement_name=name,
            wait_for_completion=True,
            poll_interval=self.poll_interval,
        ).statement_id

    def execute(self, context):
        answer = self.hook.conn.get_statement_result(
            Id=self.run_one(self.exists_sql, "showcase-schema-exists")
        )
        records = answer.get("Records") or [[]]
        field = records[0][0] if records[0] else {}
        count = str(field["longValue"]) if "longValue" in field else field.get("stringValue")
        existed = count is not None and count != "0"
        super().execute(context)
        if not existed:
            for i, sql in enumerate(self.tune_sql):
                self.run_one(sql, f"showcase-tune-{i}")


"#;

pub(super) fn dag_file(input: &DagInput<'_>, id: &str, tasks: &[(&Task, DagTask)]) -> String {
    let target = input.target;
    let names = &target.names;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\"\"\"The showcase data pipeline of stack {}, rendered from its task graph by\n\
         `showcase-deploy dag`: do not edit, render again. Needs {PROVIDER}.\"\"\"\n",
        input.stack_name
    );
    out.push_str(HEADER);
    let (year, month, day) = date_parts(&input.schedule.start_date);
    let _ = writeln!(out, "REGION = {}", py(input.region));
    // Redshift statements take seconds: 5 s between looks, as the provider's
    // default. A local Airflow whose warehouse answers at once sets 1.
    let _ = writeln!(
        out,
        "POLL_SECONDS = int(os.environ.get({}, \"5\"))",
        py(POLL_SECONDS_VARIABLE)
    );
    // A synchronous invoke waits for the function's end (up to Lambda's 15
    // minutes), not botocore's 60 s read timeout, after which it would invoke
    // again while the first still runs.
    let _ = writeln!(
        out,
        "INVOKE_CONFIG = {{\"read_timeout\": 900, \"connect_timeout\": 10, \"retries\": {{\"mode\": \"standard\", \"max_attempts\": 3}}}}"
    );
    let _ = writeln!(out, "REDSHIFT = {{");
    for (key, value) in warehouse_kwargs(target) {
        let _ = writeln!(out, "    {}: {},", py(key), py(&value));
    }
    let _ = writeln!(out, "    \"region_name\": REGION,");
    let _ = writeln!(out, "    \"wait_for_completion\": True,");
    let _ = writeln!(out, "    \"poll_interval\": POLL_SECONDS,");
    let _ = writeln!(out, "}}\n");
    let _ = writeln!(
        out,
        "with DAG(
    dag_id={dag_id},
    description=\"Extract the day from the data API into the lake, load and transform it on Redshift.\",
    schedule=CronDataIntervalTimetable({cron}, timezone=\"UTC\"),
    start_date=datetime({year}, {month}, {day}, tzinfo=timezone.utc),
    catchup=True,
    max_active_runs=1,
    # One retry: a task that fails before it starts (Airflow 3.0 sometimes
    # loses a task to a DAG being re-serialized) or meets a passing fault.
    default_args={{\"depends_on_past\": True, \"retries\": 1, \"retry_delay\": timedelta(seconds=30)}},
    # The stack's names: a run triggered with other values is refused.
    params={{
        \"schema\": Param({schema}, const={schema}),
        \"lake_bucket\": Param({bucket}, const={bucket}),
        \"lake_prefix\": Param({prefix}, const={prefix}),
        \"copy_role_arn\": Param({role}, const={role}),
    }},
    tags=[\"showcase\", {stack}],
) as dag:
    tasks = {{}}",
        dag_id = py(id),
        cron = py(&input.schedule.cron),
        schema = py(&names.schema),
        bucket = py(&names.lake_bucket),
        prefix = py(&names.lake_prefix),
        role = py(&names.copy_role_arn),
        stack = py(input.stack_name),
    );
    for (task, dag_task) in tasks {
        let task_id = py(task.id);
        let statement_name = py(&format!("showcase-{}-{{{{ ds }}}}", task.id));
        match dag_task {
            DagTask::Extract {
                payload,
                entity,
                expected_key,
            } => {
                let _ = writeln!(
                    out,
                    "    tasks[{task_id}] = ExtractOperator(
        task_id={task_id},
        function_name={function},
        invocation_type=\"RequestResponse\",
        botocore_config=INVOKE_CONFIG,
        payload={payload},
        entity={entity},
        expected_key={expected_key},
        region_name=REGION,
    )",
                    function = py(&target.extractor_function),
                    payload = py(payload),
                    entity = py(entity),
                    expected_key = py(expected_key),
                );
            }
            DagTask::Batch { files } => {
                let _ = writeln!(
                    out,
                    "    tasks[{task_id}] = RedshiftDataOperator(\n        task_id={task_id},\n        sql={},",
                    list(files)
                );
                let _ = writeln!(
                    out,
                    "        statement_name={statement_name},\n        **REDSHIFT,\n    )"
                );
            }
            DagTask::Setup {
                files,
                exists_sql,
                tune_files,
            } => {
                let _ = writeln!(
                    out,
                    "    tasks[{task_id}] = RedshiftSetupOperator(\n        task_id={task_id},\n        sql={},",
                    list(files)
                );
                let _ = writeln!(
                    out,
                    "        exists_sql={},\n        tune_sql={},",
                    py(exists_sql),
                    list(tune_files)
                );
                let _ = writeln!(
                    out,
                    "        statement_name={statement_name},\n        **REDSHIFT,\n    )"
                );
            }
            DagTask::Check { file, sql_file } => {
                let _ = writeln!(
                    out,
                    "    tasks[{task_id}] = RedshiftCheckOperator(
        task_id={task_id},
        sql={file},
        sql_file={sql_file},
        statement_name={statement_name},
        **REDSHIFT,
    )",
                    file = py(file),
                    sql_file = py(sql_file),
                );
            }
        }
    }
    let _ = writeln!(out, "    for upstream, downstream in [");
    for (up, down) in edges() {
        let _ = writeln!(out, "        ({}, {}),", py(up), py(down));
    }
    let _ = writeln!(out, "    ]:\n        tasks[upstream] >> tasks[downstream]");
    out
}

/// A Python list of string literals, one a line.
fn list(items: &[String]) -> String {
    let mut text = String::from("[\n");
    for item in items {
        let _ = writeln!(text, "            {},", py(item));
    }
    text.push_str("        ]");
    text
}

/// `YYYY-MM-DD` → the numbers Python's `datetime` takes (no leading zeros).
fn date_parts(date: &str) -> (u32, u32, u32) {
    let mut parts = date.split('-').map(|p| p.parse::<u32>().unwrap_or(0));
    let mut next = || parts.next().unwrap_or(0);
    (next(), next(), next())
}
