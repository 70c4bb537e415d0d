#![cfg(feature = "deploy")]
//! `run` with `[orchestrator] mwaa_environment`: the day's DAG run triggered
//! through MWAA's InvokeRestApi (the stand-in) and followed to its end, each
//! task's state printed, a failed task named in a non-zero exit; and
//! `permissions --mwaa`, the execution role's policy.

use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;
use showcase_deploy::pipeline::TASKS;
use showcase_testkit::{MotoServer, Mwaa, MwaaEnvironment};

const STACK: &str = r#"
[stack]
name = "mw"
region = "us-east-1"

[lake]
bucket = "mw-lake"

[warehouse]
kind = "existing"
cluster = "analytics"

[orchestrator]
mwaa_environment = "mw-env"
schedule = "30 2 * * *"
"#;

struct Setup {
    moto: MotoServer,
    mwaa: Mwaa,
    dir: tempfile::TempDir,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("stack.toml"), STACK).unwrap();
    let mwaa = Mwaa::start();
    mwaa.add_environment(MwaaEnvironment::available("mw-env", "mw-airflow"));
    let tasks: Vec<&str> = TASKS.iter().map(|t| t.id).collect();
    mwaa.register_dag("mw_pipeline", &tasks);
    mwaa.set_task_time(Duration::from_millis(100));
    Setup {
        moto: MotoServer::start(),
        mwaa,
        dir,
    }
}

impl Setup {
    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_showcase-deploy"))
            .args(args)
            .arg("--stack")
            .arg(self.dir.path().join("stack.toml"))
            .envs(self.moto.aws_env())
            .envs(self.mwaa.aws_env())
            .env("CI", "true")
            .output()
            .unwrap()
    }
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn run_triggers_the_day_on_mwaa_and_follows_every_task() {
    let setup = setup();
    let output = setup.run(&["run", "--date", "2024-03-01"]);
    let shown = text(&output);
    assert!(output.status.success(), "{shown}");
    for task in &TASKS {
        assert!(
            shown.contains(&format!("  {}: success", task.id)),
            "{shown}"
        );
    }
    assert!(
        shown.contains("2024-03-01: DAG run showcase__2024-03-01"),
        "{shown}"
    );
    assert!(shown.contains("2024-03-01: success"), "{shown}");
    let trigger = setup
        .mwaa
        .calls()
        .into_iter()
        .find(|c| c.operation == "InvokeRestApi" && c.body.contains("\"POST\""))
        .unwrap();
    let body: Value = serde_json::from_str(&trigger.body).unwrap();
    assert_eq!(body["Path"], "/dags/mw_pipeline/dagRuns");
    // The schedule's time on that day: ds is the day.
    assert_eq!(body["Body"]["logical_date"], "2024-03-01T02:30:00+00:00");
    assert_eq!(body["Body"]["dag_run_id"], "showcase__2024-03-01");

    // Again for the same day: the run is followed, not started twice.
    let again = setup.run(&["run", "--date", "2024-03-01", "--output", "markdown"]);
    assert!(again.status.success(), "{}", text(&again));
    assert!(text(&again).contains("2024-03-01: success"));
    assert!(
        String::from_utf8_lossy(&again.stdout).contains(&format!(
            "| 2024-03-01 | showcase__2024-03-01 | success | {} |",
            TASKS.len()
        )),
        "{}",
        text(&again)
    );
}

#[test]
fn direct_runs_the_task_graph_from_the_tool() {
    let setup = setup();
    let output = setup.run(&["run", "--direct", "--date", "2024-03-01"]);
    let shown = text(&output);
    // The direct path reads the warehouse itself (none exists on moto here).
    assert!(!output.status.success(), "{shown}");
    assert!(
        shown.contains("cluster analytics does not exist"),
        "{shown}"
    );
    assert!(setup.mwaa.calls().is_empty(), "{:?}", setup.mwaa.calls());
}

#[test]
fn a_failed_task_fails_run_naming_it() {
    let setup = setup();
    setup.mwaa.fail_task("mw_pipeline", "check_sales");
    let output = setup.run(&["run", "--from", "2024-03-01", "--to", "2024-03-02"]);
    let shown = text(&output);
    assert!(!output.status.success(), "{shown}");
    assert!(shown.contains("  check_sales: failed"), "{shown}");
    assert!(shown.contains("  fact_sales: upstream_failed"), "{shown}");
    assert!(
        shown.contains("2024-03-01: DAG run showcase__2024-03-01 failed at check_sales"),
        "{shown}"
    );
    assert!(
        !shown.contains("2024-03-02"),
        "the next day is not started: {shown}"
    );
}

#[test]
fn a_paused_or_missing_dag_is_explained() {
    let setup = setup();
    setup.mwaa.pause_dag("mw_pipeline");
    let shown = text(&setup.run(&["run", "--date", "2024-03-01"]));
    assert!(shown.contains("DAG mw_pipeline is paused"), "{shown}");
    assert!(shown.contains("--direct"), "{shown}");
    let missing = Setup {
        moto: MotoServer::start(),
        mwaa: Mwaa::start(),
        dir: tempfile::tempdir().unwrap(),
    };
    std::fs::write(missing.dir.path().join("stack.toml"), STACK).unwrap();
    missing
        .mwaa
        .add_environment(MwaaEnvironment::available("mw-env", "mw-airflow"));
    let shown = text(&missing.run(&["run", "--date", "2024-03-01"]));
    assert!(
        shown.contains("DAG mw_pipeline is not in the environment's Airflow yet"),
        "{shown}"
    );
}

#[test]
fn permissions_mwaa_is_the_execution_role_s_policy_for_the_stack() {
    let setup = setup();
    let output = setup.run(&["permissions", "--mwaa", "--account", "123456789012"]);
    assert!(output.status.success(), "{}", text(&output));
    let policy: Value = serde_json::from_slice(&output.stdout).unwrap();
    let statements = policy["Statement"].as_array().unwrap();
    let by_sid = |sid: &str| {
        statements
            .iter()
            .find(|s| s["Sid"] == sid)
            .unwrap_or_else(|| panic!("{sid} in {policy}"))
    };
    assert_eq!(
        by_sid("InvokeExtractor")["Resource"],
        "arn:aws:lambda:us-east-1:123456789012:function:mw-extractor"
    );
    assert_eq!(
        by_sid("RunStatements")["Resource"],
        "arn:aws:redshift:us-east-1:123456789012:cluster:analytics"
    );
    assert!(
        by_sid("ManagedPassword")["Resource"]
            .as_str()
            .unwrap()
            .contains("secret:redshift!analytics-")
    );
    let all = policy.to_string();
    for forbidden in ["DescribeClusters", "iam:", "Put", "Delete", "airflow:"] {
        assert!(!all.contains(forbidden), "{forbidden} in {all}");
    }
    // `run` itself triggers DAG runs there.
    let output = setup.run(&["permissions", "--run", "--account", "123456789012"]);
    let policy: Value = serde_json::from_slice(&output.stdout).unwrap();
    let trigger = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == "TriggerDagRuns")
        .unwrap_or_else(|| panic!("{policy}"));
    assert_eq!(trigger["Action"], "airflow:InvokeRestApi");
    assert_eq!(
        trigger["Resource"],
        "arn:aws:airflow:us-east-1:123456789012:role/mw-env/User"
    );
}
