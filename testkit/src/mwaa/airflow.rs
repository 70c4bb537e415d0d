//! The in-memory model of Airflow's REST API behind `InvokeRestApi` (the
//! limits are in the module above): DAGs, their runs, and their tasks, which
//! finish one after another by time. Its answers have the shapes real
//! Airflow 2.11.0 (`/api/v1`) and 3.0.6 (`/api/v2`) gave for the same calls
//! (`deployer/tests/mwaa_run_airflow.rs` holds both to one contract): a new
//! run's tasks have no state (null) until the scheduler takes them; a run
//! id or a logical date already taken is a 409; errors are v1's problem
//! JSON (`detail`, `status`, `title`, `type`) or v2's `{"detail"}`;
//! v2 writes dates with `Z`, v1 with `+00:00`.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// A triggered run of a DAG.
pub(super) struct DagRun {
    pub(super) dag_id: String,
    pub(super) run_id: String,
    logical_date: String,
    /// Each task and its state (none: not scheduled yet, null in the API).
    tasks: Vec<(String, Option<&'static str>)>,
    state: &'static str,
    started: Instant,
}

/// The DAGs "Airflow" knows.
#[derive(Default)]
pub(super) struct Dags {
    pub(super) tasks: HashMap<String, Vec<String>>,
    pub(super) paused: HashSet<String>,
    /// How long each task takes (default 100 ms).
    pub(super) task_time: Duration,
}

/// An error as Airflow `major` answered it: v1's problem JSON (`title`,
/// and `type`'s section `kind`) with `v1`'s detail, or v2's `{"detail"}`.
fn problem(
    major: u8,
    status: u16,
    (title, kind): (&str, &str),
    v1: String,
    v2: Value,
) -> (u16, Value) {
    if major >= 3 {
        return (status, json!({ "detail": v2 }));
    }
    (
        status,
        json!({
            "detail": v1,
            "status": status,
            "title": title,
            "type": format!("https://airflow.apache.org/docs/apache-airflow/2.11.0/stable-rest-api-ref.html#section/Errors/{kind}"),
        }),
    )
}

/// A date as Airflow `major` writes it: `…Z` on 3.x, `…+00:00` on 2.x.
fn airflow_date(major: u8, date: &str) -> String {
    match (
        major >= 3,
        date.strip_suffix("+00:00"),
        date.strip_suffix('Z'),
    ) {
        (true, Some(utc), _) => format!("{utc}Z"),
        (false, _, Some(utc)) => format!("{utc}+00:00"),
        _ => date.to_owned(),
    }
}

/// The in-memory Airflow REST API of Airflow `major` (2 or 3; see the
/// module's limits).
pub(super) fn airflow(
    runs: &mut Vec<DagRun>,
    dags: &Dags,
    failing: &HashMap<String, String>,
    major: u8,
    (method, path): (&str, &str),
    body: Option<&Value>,
) -> (u16, Value) {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let no_dag =
        |v1: String, v2: String| problem(major, 404, ("DAG not found", "NotFound"), v1, json!(v2));
    let no_run = |dag_id: &str, run_id: &str| {
        problem(
            major,
            404,
            ("DAGRun not found", "NotFound"),
            format!("DAGRun with DAG ID: '{dag_id}' and DagRun ID: '{run_id}' not found"),
            json!(format!(
                "The DagRun with dag_id: `{dag_id}` and run_id: `{run_id}` was not found"
            )),
        )
    };
    match (method, parts.as_slice()) {
        ("GET", ["dags", dag_id]) => match dags.tasks.get(*dag_id) {
            None => no_dag(
                format!("The DAG with dag_id: {dag_id} was not found"),
                format!("Dag with id {dag_id} was not found"),
            ),
            Some(_) => (
                200,
                json!({"dag_id": dag_id, "is_paused": dags.paused.contains(*dag_id)}),
            ),
        },
        ("POST", ["dags", dag_id, "dagRuns"]) => {
            let Some(tasks) = dags.tasks.get(*dag_id) else {
                let detail = format!("DAG with dag_id: '{dag_id}' not found");
                return no_dag(detail.clone(), detail);
            };
            let logical_date = airflow_date(
                major,
                body.and_then(|b| b.get("logical_date"))
                    .and_then(Value::as_str)
                    .unwrap_or_default(),
            );
            let run_id = body
                .and_then(|b| b.get("dag_run_id"))
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| format!("manual__{logical_date}"));
            // Both versions refuse a run id or a logical date already taken.
            if runs.iter().any(|r| {
                r.dag_id == *dag_id
                    && (r.run_id == run_id
                        || (!logical_date.is_empty() && r.logical_date == logical_date))
            }) {
                // v2's is its database's unique-constraint error.
                return problem(
                    major,
                    409,
                    ("Conflict", "AlreadyExists"),
                    format!(
                        "DAGRun with DAG ID: '{dag_id}' and DAGRun ID: '{run_id}' already exists"
                    ),
                    json!({"reason": "Unique constraint violation", "message": "Serious error when handling your request."}),
                );
            }
            let run = DagRun {
                dag_id: (*dag_id).to_owned(),
                run_id,
                logical_date,
                tasks: tasks.iter().map(|t| (t.clone(), None)).collect(),
                state: "queued",
                started: Instant::now(),
            };
            let shown = run_json(&run);
            runs.push(run);
            (200, shown)
        }
        ("GET", ["dags", dag_id, "dagRuns", run_id]) => {
            let Some(run) = runs
                .iter_mut()
                .find(|r| r.dag_id == *dag_id && r.run_id == *run_id)
            else {
                return no_run(dag_id, run_id);
            };
            progress(
                run,
                failing.get(*dag_id).map(String::as_str),
                dags.task_time,
            );
            (200, run_json(run))
        }
        ("GET", ["dags", dag_id, "dagRuns", run_id, "taskInstances"]) => {
            let Some(run) = runs
                .iter_mut()
                .find(|r| r.dag_id == *dag_id && r.run_id == *run_id)
            else {
                return no_run(dag_id, run_id);
            };
            progress(
                run,
                failing.get(*dag_id).map(String::as_str),
                dags.task_time,
            );
            let run = &*run;
            let instances: Vec<Value> = run
                .tasks
                .iter()
                .map(|(task, state)| {
                    json!({"task_id": task, "dag_id": run.dag_id, "dag_run_id": run.run_id, "state": state})
                })
                .collect();
            (
                200,
                json!({"task_instances": instances, "total_entries": instances.len()}),
            )
        }
        _ => problem(
            major,
            404,
            ("Not Found", "NotFound"),
            format!("{method} {path}: not in the model"),
            json!("Not Found"),
        ),
    }
}

/// Where the run is by now: its tasks finish one after another, each taking
/// the model's task time, from the trigger on.
fn progress(run: &mut DagRun, failing: Option<&str>, task_time: Duration) {
    if matches!(run.state, "success" | "failed") {
        return;
    }
    let done = (run.started.elapsed().as_millis() / task_time.as_millis().max(1)) as usize;
    run.state = "running";
    for index in 0..done.min(run.tasks.len()) {
        if !matches!(run.tasks[index].1, None | Some("running")) {
            continue;
        }
        if Some(run.tasks[index].0.as_str()) == failing {
            run.tasks[index].1 = Some("failed");
            for (_, state) in run.tasks.iter_mut().filter(|(_, s)| s.is_none()) {
                *state = Some("upstream_failed");
            }
            run.state = "failed";
            return;
        }
        run.tasks[index].1 = Some("success");
    }
    let running = run.tasks.iter().any(|(_, s)| *s == Some("running"));
    if !running && let Some(next) = run.tasks.iter_mut().find(|(_, state)| state.is_none()) {
        next.1 = Some("running");
    }
    if run.tasks.iter().all(|(_, state)| *state == Some("success")) {
        run.state = "success";
    }
}

fn run_json(run: &DagRun) -> Value {
    json!({
        "dag_id": run.dag_id,
        "dag_run_id": run.run_id,
        "logical_date": run.logical_date,
        "state": run.state,
    })
}
