//! The in-memory model of Airflow's REST API behind `InvokeRestApi` (the
//! limits are in the module above): DAGs, their runs, and their tasks, which
//! finish one after another by time.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// A triggered run of a DAG.
pub(super) struct DagRun {
    pub(super) dag_id: String,
    pub(super) run_id: String,
    logical_date: String,
    tasks: Vec<(String, &'static str)>,
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

/// The in-memory Airflow REST API (see the module's limits).
pub(super) fn airflow(
    runs: &mut Vec<DagRun>,
    dags: &Dags,
    failing: &HashMap<String, String>,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let missing = |what: &str| {
        (
            404,
            json!({"title": format!("{what} not found"), "status": 404}),
        )
    };
    match (method, parts.as_slice()) {
        ("GET", ["dags", dag_id]) => match dags.tasks.get(*dag_id) {
            None => missing("DAG"),
            Some(_) => (
                200,
                json!({"dag_id": dag_id, "is_paused": dags.paused.contains(*dag_id)}),
            ),
        },
        ("POST", ["dags", dag_id, "dagRuns"]) => {
            let Some(tasks) = dags.tasks.get(*dag_id) else {
                return missing("DAG");
            };
            let logical_date = body
                .and_then(|b| b.get("logical_date"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let run_id = body
                .and_then(|b| b.get("dag_run_id"))
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| format!("manual__{logical_date}"));
            if runs
                .iter()
                .any(|r| r.dag_id == *dag_id && r.run_id == run_id)
            {
                return (
                    409,
                    json!({"title": "DAGRun already exists", "status": 409}),
                );
            }
            let run = DagRun {
                dag_id: (*dag_id).to_owned(),
                run_id,
                logical_date,
                tasks: tasks.iter().map(|t| (t.clone(), "queued")).collect(),
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
                return missing("DAGRun");
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
                return missing("DAGRun");
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
        _ => missing("path"),
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
        if !matches!(run.tasks[index].1, "queued" | "running") {
            continue;
        }
        if Some(run.tasks[index].0.as_str()) == failing {
            run.tasks[index].1 = "failed";
            for (_, state) in run.tasks.iter_mut().filter(|(_, s)| *s == "queued") {
                *state = "upstream_failed";
            }
            run.state = "failed";
            return;
        }
        run.tasks[index].1 = "success";
    }
    if let Some(next) = run.tasks.iter_mut().find(|(_, state)| *state == "queued") {
        next.1 = "running";
    }
    if run.tasks.iter().all(|(_, state)| *state == "success") {
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
