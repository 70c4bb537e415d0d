#![cfg(feature = "deploy")]
//! `run --date D` on MWAA against a real Airflow: the MWAA stand-in's
//! forward mode passes the tool's `InvokeRestApi` calls to the stack's DAG
//! in a real Airflow 3.0.6 (`/api/v2`) and 2.11.0 (`/api/v1`) served by
//! `airflow --local`, so the paths, bodies and answers the tool relies on are
//! the ones real Airflow accepts and gives. The run ends with every task
//! `success`; Airflow holds the run `showcase__D` at D's logical date; a
//! second `run` for D follows that run (Airflow's 409 for the repeated run
//! id) instead of starting another; a DAG paused in Airflow is refused with
//! the tool's "paused" message. Each call's answer the tool relies on is
//! held to one contract (`answers_as_the_tool_expects`) by real Airflow and
//! by the stand-in's in-memory model (which `mwaa_run.rs` runs against; a
//! fast test here). One Airflow at a time, loopback only; without the
//! virtualenvs the real-Airflow tests are skipped, except under CI.

#[path = "common/airflow.rs"]
mod airflow_common;

use std::time::{Duration, Instant};

use airflow_common::{
    ONE_AIRFLOW, ServedAirflow, cli, failed_task_logs, run_bounded, text, venv_or_skip,
};
use serde_json::{Value, json};
use showcase_deploy::airflow::{AirflowVersion, login};
use showcase_deploy::pipeline::TASKS;
use showcase_testkit::{Mwaa, MwaaEnvironment, RealAirflow};

/// The stack `airflow --local` renders its DAG for (`local_pipeline`), with
/// the default schedule (midnight UTC) the local DAG has.
const STACK: &str = r#"
[stack]
name = "local"
region = "us-east-1"

[lake]
bucket = "local-lake"

[warehouse]
kind = "existing"
cluster = "local-warehouse"

[orchestrator]
mwaa_environment = "local-env"
"#;

const DAG: &str = "local_pipeline";
const DAY: &str = "2024-03-05";

/// `showcase-deploy run ARGS` for the stack, its MWAA calls to `mwaa`,
/// anything else to a closed loopback port (nothing reaches AWS).
fn run(dir: &std::path::Path, mwaa: &Mwaa, args: &[&str]) -> std::process::Output {
    tokio::task::block_in_place(|| {
        run_bounded(
            cli()
                .arg("run")
                .args(args)
                .arg("--stack")
                .arg(dir.join("stack.toml"))
                .envs(mwaa.aws_env())
                .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
                .env("AWS_ACCESS_KEY_ID", "testing")
                .env("AWS_SECRET_ACCESS_KEY", "testing")
                .env("AWS_REGION", "us-east-1")
                .env("AWS_EC2_METADATA_DISABLED", "true")
                .env("CI", "true"),
            Duration::from_secs(600),
        )
    })
}

/// Airflow's own answer (not through MWAA), which must be a success.
async fn ask(airflow: &RealAirflow, method: &str, path: &str, query: Option<Value>) -> Value {
    let (status, answer) = airflow
        .call(method, path, query.as_ref(), None)
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    assert!(
        (200..300).contains(&status),
        "{method} {path}: {status} {answer}"
    );
    answer
}

async fn runs_a_day_on_real_airflow(version: &str) {
    let Some(venv) = venv_or_skip(version) else {
        return;
    };
    let _one = ONE_AIRFLOW.lock().await;
    let state = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let served = tokio::task::block_in_place(|| ServedAirflow::start(version, &venv, state.path()));
    eprintln!(
        "Airflow {version} up in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    let airflow_version = if version.starts_with('3') {
        AirflowVersion::V3_0_6
    } else {
        AirflowVersion::V2_11_0
    };
    let (user, password) = login(&state.path().join("airflow-home"), airflow_version)
        .expect("airflow --local wrote its login");
    let airflow = RealAirflow::new(
        &format!("http://127.0.0.1:{}", served.port),
        version,
        &user,
        &password,
    );
    let mwaa = Mwaa::start();
    let mut environment = MwaaEnvironment::available("local-env", "local-airflow");
    environment.airflow_version = version.to_owned();
    mwaa.add_environment(environment);
    mwaa.forward_to_airflow("local-env", airflow.clone());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("stack.toml"), STACK).unwrap();

    // The day, triggered through MWAA and followed to its end.
    let started = Instant::now();
    let output = run(dir.path(), &mwaa, &["--date", DAY]);
    let shown = text(&output);
    assert!(
        output.status.success(),
        "{shown}\n{}",
        failed_task_logs(&state.path().join("airflow-home/logs"))
    );
    eprintln!(
        "run --date {DAY} in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    for task in &TASKS {
        assert!(
            shown.contains(&format!("  {}: success", task.id)),
            "{}: {shown}",
            task.id
        );
    }
    assert!(
        shown.contains(&format!("{DAY}: DAG run showcase__{DAY}")),
        "{shown}"
    );
    assert!(shown.contains(&format!("{DAY}: success")), "{shown}");

    // Airflow itself holds that run, at the day's logical date.
    let dag_run = ask(
        &airflow,
        "GET",
        &format!("/dags/{DAG}/dagRuns/showcase__{DAY}"),
        None,
    )
    .await;
    assert_eq!(dag_run["state"], "success", "{dag_run}");
    let logical = dag_run["logical_date"].as_str().unwrap_or_default();
    assert!(logical.starts_with(&format!("{DAY}T00:00:00")), "{dag_run}");
    let runs = ask(&airflow, "GET", &format!("/dags/{DAG}/dagRuns"), None).await;
    assert_eq!(runs["total_entries"], 1, "{runs}");

    // Again for the same day: the run is followed, no second one started.
    let again = run(dir.path(), &mwaa, &["--date", DAY]);
    assert!(again.status.success(), "{}", text(&again));
    assert!(
        text(&again).contains(&format!("{DAY}: success")),
        "{}",
        text(&again)
    );
    let runs = ask(&airflow, "GET", &format!("/dags/{DAG}/dagRuns"), None).await;
    assert_eq!(runs["total_entries"], 1, "{runs}");

    // Paused in Airflow: refused, nothing triggered.
    let (status, paused) = airflow
        .call(
            "PATCH",
            &format!("/dags/{DAG}"),
            Some(&json!({"update_mask": "is_paused"})),
            Some(&json!({"is_paused": true})),
        )
        .await
        .unwrap();
    assert_eq!(
        (status, &paused["is_paused"]),
        (200, &json!(true)),
        "{paused}"
    );
    let refused = run(dir.path(), &mwaa, &["--date", "2024-03-06"]);
    assert!(!refused.status.success(), "{}", text(&refused));
    assert!(
        text(&refused).contains(&format!("DAG {DAG} is paused")),
        "{}",
        text(&refused)
    );
    let runs = ask(&airflow, "GET", &format!("/dags/{DAG}/dagRuns"), None).await;
    assert_eq!(runs["total_entries"], 1, "{runs}");

    // What the tool relies on, call by call (the DAG paused: the probe's run waits).
    answers_as_the_tool_expects(&mwaa, version, true).await;

    let port = served.port;
    tokio::task::block_in_place(|| served.stop());
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "Airflow still listens after Ctrl-C"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_on_mwaa_runs_a_day_in_real_airflow_3_0() {
    runs_a_day_on_real_airflow("3.0.6").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_on_mwaa_runs_a_day_in_real_airflow_2_11() {
    runs_a_day_on_real_airflow("2.11.0").await;
}

/// MWAA's `InvokeRestApi` on the stand-in, as raw HTTP: the HTTP status, the
/// error type (none on success) and the body.
async fn invoke(
    mwaa: &Mwaa,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Option<String>, Value) {
    let endpoint = mwaa
        .aws_env()
        .into_iter()
        .find(|(key, _)| key == "AWS_ENDPOINT_URL_MWAA")
        .map(|(_, url)| url.replace("mwaa@", ""))
        .unwrap();
    let mut request = json!({"Name": "local-env", "Method": method, "Path": path});
    if let Some(body) = body {
        request["Body"] = body;
    }
    let answer = reqwest::Client::new()
        .post(format!("{endpoint}/restapi/local-env"))
        .header("content-type", "application/json")
        .body(request.to_string())
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    let kind = answer
        .headers()
        .get("x-amzn-ErrorType")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body: Value = serde_json::from_str(&answer.text().await.unwrap()).unwrap();
    eprintln!("{method} {path}: {status} {kind:?} {body}");
    (status, kind, body)
}

/// Each call the tool makes through `InvokeRestApi`, and the answers it
/// relies on: the DAG's `is_paused`; a trigger's run id and logical date; a
/// repeated run id a 409 (a 400 `RestApiClientException` from MWAA); the
/// run's state; its task instances' `task_id`s and states; an unknown DAG
/// or run a 404. Held by real Airflow and by the in-memory model alike.
async fn answers_as_the_tool_expects(mwaa: &Mwaa, version: &str, paused: bool) {
    let tasks: Vec<&str> = TASKS.iter().map(|t| t.id).collect();
    let (status, kind, dag) = invoke(mwaa, "GET", &format!("/dags/{DAG}"), None).await;
    assert_eq!((status, kind), (200, None), "{dag}");
    assert_eq!(dag["RestApiStatusCode"], 200, "{dag}");
    assert_eq!(dag["RestApiResponse"]["dag_id"], DAG, "{dag}");
    assert_eq!(dag["RestApiResponse"]["is_paused"], json!(paused), "{dag}");

    let (status, kind, missing) = invoke(mwaa, "GET", "/dags/no_such_dag", None).await;
    assert_eq!(
        (status, kind.as_deref()),
        (400, Some("RestApiClientException")),
        "{missing}"
    );
    assert_eq!(missing["RestApiStatusCode"], 404, "{missing}");
    assert!(
        missing["RestApiResponse"]["detail"].is_string(),
        "{missing}"
    );

    let path = format!("/dags/{DAG}/dagRuns");
    let trigger = json!({
        "dag_run_id": "probe__2024-04-01",
        "logical_date": "2024-04-01T00:00:00+00:00",
        "conf": {},
    });
    let (status, kind, created) = invoke(mwaa, "POST", &path, Some(trigger.clone())).await;
    assert_eq!((status, kind), (200, None), "{created}");
    assert_eq!(created["RestApiStatusCode"], 200, "{created}");
    let run = &created["RestApiResponse"];
    assert_eq!(run["dag_run_id"], "probe__2024-04-01", "{created}");
    // v2 writes UTC as `Z`, v1 as `+00:00`.
    let logical = if version.starts_with('3') {
        "2024-04-01T00:00:00Z"
    } else {
        "2024-04-01T00:00:00+00:00"
    };
    assert_eq!(run["logical_date"], logical, "{created}");
    assert_eq!(run["state"], "queued", "{created}");

    let (status, kind, again) = invoke(mwaa, "POST", &path, Some(trigger)).await;
    assert_eq!(
        (status, kind.as_deref()),
        (400, Some("RestApiClientException")),
        "{again}"
    );
    assert_eq!(again["RestApiStatusCode"], 409, "{again}");
    // Another run id at the same logical date: also a 409 (the date is taken).
    let same_date = json!({
        "dag_run_id": "other__2024-04-01",
        "logical_date": "2024-04-01T00:00:00+00:00",
    });
    let (_, _, taken) = invoke(mwaa, "POST", &path, Some(same_date)).await;
    assert_eq!(taken["RestApiStatusCode"], 409, "{taken}");

    let (status, _, shown) = invoke(mwaa, "GET", &format!("{path}/probe__2024-04-01"), None).await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown["RestApiResponse"]["dag_run_id"], "probe__2024-04-01");
    assert_eq!(shown["RestApiResponse"]["logical_date"], logical, "{shown}");
    assert!(shown["RestApiResponse"]["state"].is_string(), "{shown}");

    let (status, _, instances) = invoke(
        mwaa,
        "GET",
        &format!("{path}/probe__2024-04-01/taskInstances"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{instances}");
    let listed = instances["RestApiResponse"]["task_instances"]
        .as_array()
        .unwrap_or_else(|| panic!("{instances}"));
    let mut ids: Vec<&str> = listed
        .iter()
        .map(|t| t["task_id"].as_str().unwrap_or_default())
        .collect();
    ids.sort_unstable();
    let mut expected = tasks.clone();
    expected.sort_unstable();
    assert_eq!(ids, expected, "{instances}");
    for instance in listed {
        let state = &instance["state"];
        assert!(state.is_null() || state.is_string(), "{instance}");
    }

    let (status, kind, missing) = invoke(mwaa, "GET", &format!("{path}/no_such_run"), None).await;
    assert_eq!(
        (status, kind.as_deref()),
        (400, Some("RestApiClientException")),
        "{missing}"
    );
    assert_eq!(missing["RestApiStatusCode"], 404, "{missing}");
    assert!(
        missing["RestApiResponse"]["detail"].is_string(),
        "{missing}"
    );
}

/// The same answers from the stand-in's in-memory model (no Airflow: fast),
/// which `mwaa_run.rs`'s tests run against, in a 2.11.0 and a 3.0.6
/// environment.
#[tokio::test]
async fn the_in_memory_model_answers_as_real_airflow() {
    for version in ["2.11.0", "3.0.6"] {
        let mwaa = Mwaa::start();
        let mut environment = MwaaEnvironment::available("local-env", "local-airflow");
        environment.airflow_version = version.to_owned();
        mwaa.add_environment(environment);
        let tasks: Vec<&str> = TASKS.iter().map(|t| t.id).collect();
        mwaa.register_dag(DAG, &tasks);
        mwaa.set_task_time(Duration::from_secs(60));
        answers_as_the_tool_expects(&mwaa, version, false).await;
        mwaa.pause_dag(DAG);
        let (_, _, dag) = invoke(&mwaa, "GET", &format!("/dags/{DAG}"), None).await;
        assert_eq!(dag["RestApiResponse"]["is_paused"], true, "{dag}");
    }
}
