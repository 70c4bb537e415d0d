#![cfg(feature = "deploy")]
//! The rendered DAG in a real Airflow, the two MWAA runs with their pins:
//! apache-airflow 2.11.0 with apache-airflow-providers-amazon 9.8.0, and
//! 3.0.6 with 9.12.0 (Python 3.12; skipped, saying so, on a machine without
//! one) — installed by scripts/stand-ins.sh into virtualenvs outside the clone. The DagBag loads the folder with no
//! import error; task ids and edges are the task graph's; for a date every
//! task's templates, rendered by Airflow, are what `run` sends (`sql --date`
//! prints the same): the same statements in the same batches, the same
//! payloads; the schedule gives the run for day D `ds` = D; a check fails
//! its task exactly when `run` would.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use showcase_dataset::Day;
use showcase_deploy::aws_run::{AwsTarget, SqlAuth, SqlEndpoint, SqlNames, SqlTarget, statements};
use showcase_deploy::dag::{self, DagInput};
use showcase_deploy::pipeline::{Step, TASKS};

const DAY: &str = "2024-03-05";

/// An Airflow scripts/stand-ins.sh installs: its virtualenv's python.
#[derive(Clone, Copy)]
struct Airflow {
    version: &'static str,
    /// SHOWCASE_AIRFLOW_VENV / SHOWCASE_AIRFLOW3_VENV.
    variable: &'static str,
}

const AIRFLOW_2: Airflow = Airflow {
    version: "2.11.0",
    variable: "SHOWCASE_AIRFLOW_VENV",
};
const AIRFLOW_3: Airflow = Airflow {
    version: "3.0.6",
    variable: "SHOWCASE_AIRFLOW3_VENV",
};

impl Airflow {
    fn python(self) -> PathBuf {
        let venv = std::env::var_os(self.variable)
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                home().join(format!(".cache/showcase-deploy/airflow-{}", self.version))
            });
        venv.join("bin/python")
    }
}

fn home() -> PathBuf {
    PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
}

/// Airflow 3.0.6 needs Python 3.12 (MWAA runs 3.12): one that runs, on PATH
/// or pyenv's, as scripts/stand-ins.sh looks for it.
fn python_3_12_exists() -> bool {
    let pyenv: Vec<PathBuf> = std::fs::read_dir(home().join(".pyenv/versions"))
        .map(|dirs| {
            dirs.flatten()
                .filter(|d| d.file_name().to_string_lossy().starts_with("3.12"))
                .map(|d| d.path().join("bin/python3.12"))
                .collect()
        })
        .unwrap_or_default();
    std::iter::once(PathBuf::from("python3.12"))
        .chain(pyenv)
        .any(|python| {
            Command::new(python)
                .args([
                    "-c",
                    "import sys; sys.exit(sys.version_info[:2] != (3, 12))",
                ])
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

fn target(auth: SqlAuth) -> AwsTarget {
    AwsTarget {
        extractor_function: "demo-extractor".into(),
        sql: SqlTarget {
            endpoint: SqlEndpoint::Cluster("demo-warehouse".into()),
            database: "showcase".into(),
            auth,
        },
        names: SqlNames {
            schema: "showcase_data_pipeline".into(),
            lake_bucket: "demo-lake".into(),
            lake_prefix: "raw/".into(),
            copy_role_arn: "arn:aws:iam::123456789012:role/demo-warehouse-copy-role".into(),
        },
    }
}

/// Renders the DAG into a fresh folder and asks Airflow what it sees.
fn inspect(airflow: Airflow, target: &AwsTarget) -> Value {
    let folder = tempfile::tempdir().unwrap();
    let files = dag::render(&DagInput {
        stack_name: "demo",
        region: "us-east-1",
        target,
        schedule: Default::default(),
    })
    .unwrap();
    for file in &files {
        let path = folder.path().join(&file.path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, &file.text).unwrap();
    }
    inspect_folder(airflow, folder.path(), &dag::dag_id("demo"))
}

/// What Airflow sees in a DAG folder (scripts/airflow-dag-inspect.py).
fn inspect_folder(airflow: Airflow, folder: &Path, dag_id: &str) -> Value {
    let python = airflow.python();
    assert!(
        python.is_file(),
        "no Airflow {} at {}: run scripts/stand-ins.sh (installs it there)",
        airflow.version,
        python.display()
    );
    let home = tempfile::tempdir().unwrap();
    let script = showcase_testkit::workspace_root().join("scripts/airflow-dag-inspect.py");
    let output = Command::new(python)
        .arg(script)
        .arg(folder)
        .arg(dag_id)
        .arg(DAY)
        .arg(home.path().join("inspect.json"))
        .env("AIRFLOW_HOME", home.path())
        .env("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
        .env("AIRFLOW__CORE__DAGS_FOLDER", folder)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json = std::fs::read(home.path().join("inspect.json")).unwrap();
    let seen: Value = serde_json::from_slice(&json)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&json)));
    assert_eq!(seen["airflow_version"], airflow.version);
    seen
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {value}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn airflow_2_11_loads_the_dag_and_renders_what_run_sends() {
    loads_the_dag_and_renders_what_run_sends(AIRFLOW_2);
}

#[test]
fn airflow_3_0_loads_the_dag_and_renders_what_run_sends() {
    if !python_3_12_exists() {
        eprintln!("skipped: Airflow 3.0.6 needs Python 3.12, and this machine has none");
        return;
    }
    loads_the_dag_and_renders_what_run_sends(AIRFLOW_3);
}

fn loads_the_dag_and_renders_what_run_sends(airflow: Airflow) {
    let target = target(SqlAuth::Secret(
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:redshift!demo-warehouse-admin-AbCdEf"
            .into(),
    ));
    let seen = inspect(airflow, &target);
    assert_eq!(seen["import_errors"], serde_json::json!({}), "{seen:#}");
    assert_eq!(strings(&seen["dag_ids"]), [dag::dag_id("demo")]);
    eprintln!(
        "Airflow {}: the DagBag loaded the folder in {:.1} s, the DAG file parsed in {:.2} s",
        airflow.version,
        seen["load_seconds"].as_f64().unwrap_or_default(),
        seen["parse_seconds"].as_f64().unwrap_or_default()
    );
    // MWAA gives up on a file after dagbag_import_timeout (30 s); a loaded CI
    // machine doubles the time measured idle.
    assert!(seen["parse_seconds"].as_f64().unwrap() < 20.0, "{seen:#}");

    // The graph, exactly.
    let tasks = seen["tasks"].as_object().unwrap();
    let ids: BTreeSet<&str> = tasks.keys().map(String::as_str).collect();
    assert_eq!(ids, TASKS.iter().map(|t| t.id).collect::<BTreeSet<_>>());
    let mut edges: BTreeSet<(String, String)> = BTreeSet::new();
    for (id, task) in tasks {
        for up in strings(&task["upstream"]) {
            edges.insert((up, id.clone()));
        }
    }
    let graph: BTreeSet<(String, String)> = dag::edges()
        .into_iter()
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect();
    assert_eq!(edges, graph);

    // The schedule: daily, catch-up, one run at a time, ds = the run's day.
    let settings = &seen["dag"];
    assert_eq!(settings["timetable"], "CronDataIntervalTimetable");
    assert_eq!(settings["catchup"], true);
    assert_eq!(settings["max_active_runs"], 1);
    assert_eq!(settings["first_ds"], dag::START_DATE);
    assert_eq!(settings["next_ds_after_previous_day"], DAY);
    assert_eq!(
        settings["params"],
        serde_json::json!({
            "schema": "showcase_data_pipeline",
            "lake_bucket": "demo-lake",
            "lake_prefix": "raw/",
            "copy_role_arn": "arn:aws:iam::123456789012:role/demo-warehouse-copy-role",
        })
    );
    assert_eq!(
        settings["other_schema"], "refused: ParamValidationError",
        "a run triggered with another schema"
    );

    // Every task's rendered templates are what `run` sends for the day.
    let day: Day = DAY.parse().unwrap();
    let plan = statements::day_plan(&target.names, day).unwrap();
    for (task, expected) in plan {
        let seen_task = &tasks[task.id];
        assert_eq!(seen_task["depends_on_past"], true, "{}", task.id);
        let rendered = &seen_task["rendered"];
        let arguments = &seen_task["arguments"];
        match (task.step, expected) {
            (Step::Extract(entity), None) => {
                // The provider's LambdaInvokeFunctionOperator, then run's check of the summary.
                assert_eq!(seen_task["operator"], "ExtractOperator");
                assert_eq!(rendered["function_name"], "demo-extractor");
                assert_eq!(
                    rendered["expected_key"],
                    target.lake().object(day, entity),
                    "the object the load reads"
                );
                assert_eq!(arguments["invocation_type"], "RequestResponse");
                let payload: Value =
                    serde_json::from_str(rendered["payload"].as_str().unwrap()).unwrap();
                assert_eq!(
                    payload,
                    serde_json::json!({"date": DAY, "entity": entity.as_str()})
                );
            }
            (Step::Check(file), Some(expected)) => {
                assert_eq!(seen_task["operator"], "RedshiftCheckOperator");
                assert_eq!(arguments["return_sql_result"], true);
                // `run` sends a check as one statement (its pieces joined).
                assert_eq!(rendered["sql"], expected.join(";\n"), "{}", file.path);
                warehouse(task.id, arguments, rendered);
            }
            (_, Some(expected)) if task.id == "setup_schema" => {
                assert_eq!(seen_task["operator"], "RedshiftSetupOperator");
                assert_eq!(strings(&rendered["sql"]), expected);
                assert_eq!(
                    strings(&rendered["tune_sql"]),
                    statements::tune(&target.names, day).unwrap()
                );
                assert_eq!(
                    rendered["exists_sql"],
                    statements::schema_exists_query(&target.names.schema)
                );
                warehouse(task.id, arguments, rendered);
            }
            (_, Some(expected)) => {
                assert_eq!(seen_task["operator"], "RedshiftDataOperator");
                // A list: one BatchExecuteStatement, one transaction.
                assert_eq!(strings(&rendered["sql"]), expected, "{}", task.id);
                warehouse(task.id, arguments, rendered);
            }
            (step, expected) => panic!("{}: {step:?} {expected:?}", task.id),
        }
    }

    // A check fails its task exactly when `run` fails the day.
    let check = &seen["check"];
    assert_eq!(check["all_true"], Value::Null);
    assert_eq!(
        check["false_and_null"],
        "AirflowFailException: checks/sales.sql failed: b, c"
    );
    assert!(
        check["no_row"].as_str().unwrap().contains("one row"),
        "{check}"
    );
    executions(&seen["execute"], &target, day);
}

/// The tasks' own execute() against fake hooks: the calls `run` makes, the
/// failures `run` reports.
fn executions(seen: &Value, target: &AwsTarget, day: Day) {
    let sqls = |outcome: &Value| -> Vec<(Value, Value)> {
        outcome["calls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["statement_name"].clone(), c["sql"].clone()))
            .collect()
    };
    let exists = (
        Value::from("showcase-schema-exists"),
        Value::from(statements::schema_exists_query(&target.names.schema)),
    );
    let plan = statements::day_plan(&target.names, day).unwrap();
    let setup = plan[0].1.clone().unwrap();
    let batch = (
        Value::from(format!("showcase-setup_schema-{DAY}")),
        Value::from(setup),
    );
    let mut new = vec![exists.clone(), batch.clone()];
    for (i, sql) in statements::tune(&target.names, day)
        .unwrap()
        .into_iter()
        .enumerate()
    {
        new.push((format!("showcase-tune-{i}").into(), sql.into()));
    }
    assert_eq!(seen["setup_new"]["ok"], Value::Null, "{seen:#}");
    assert_eq!(sqls(&seen["setup_new"]), new);
    assert_eq!(sqls(&seen["setup_existing"]), [exists, batch]);
    assert_eq!(
        seen["check_false"]["failed"],
        "AirflowFailException: checks/sales.sql failed: has_sales_rows"
    );
    assert!(seen["check_true"]["failed"].is_null(), "{seen:#}");
    let failed = seen["extract_function_error"]["failed"].as_str().unwrap();
    assert!(
        failed.starts_with("ValueError: ('Lambda function execution resulted in error'")
            && failed.contains("the data API answered 500"),
        "{failed}"
    );
    let call = &seen["extract_ok"]["calls"][0];
    assert_eq!(call["function_name"], "demo-extractor");
    assert_eq!(call["invocation_type"], "RequestResponse");
    assert_eq!(
        serde_json::from_str::<Value>(call["payload"].as_str().unwrap()).unwrap(),
        serde_json::json!({"date": DAY, "entity": "sales"})
    );
    let answered: Value = serde_json::from_str(seen["extract_ok"]["ok"].as_str().unwrap()).unwrap();
    assert_eq!(answered["rows"], 50);
    assert_eq!(
        seen["extract_other_key"]["failed"],
        format!(
            "AirflowFailException: the extractor did not write {}, which the load reads (is its LAKE_URL the stack's lake?)",
            target.lake().object(day, showcase_extractor::Entity::Sales)
        )
    );
    assert_eq!(
        seen["extract_other_day"]["failed"],
        format!(
            "AirflowFailException: the extractor answered a summary of 2020-01-01 sales, not of {DAY} sales"
        )
    );
}

fn warehouse(id: &str, arguments: &Value, rendered: &Value) {
    let expected: BTreeMap<&str, Value> = [
        ("cluster_identifier", "demo-warehouse".into()),
        ("database", "showcase".into()),
        (
            "secret_arn",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:redshift!demo-warehouse-admin-AbCdEf"
                .into(),
        ),
        ("db_user", Value::Null),
        ("workgroup_name", Value::Null),
        ("region_name", "us-east-1".into()),
        ("wait_for_completion", true.into()),
    ]
    .into_iter()
    .collect();
    for (name, value) in expected {
        assert_eq!(arguments[name], value, "{id} {name}");
    }
    assert_eq!(rendered["statement_name"], format!("showcase-{id}-{DAY}"));
}

#[test]
fn airflow_2_11_takes_an_iam_user_or_a_workgroup() {
    let user = inspect(AIRFLOW_2, &target(SqlAuth::DbUser("admin".into())));
    assert_eq!(user["import_errors"], serde_json::json!({}), "{user:#}");
    let args = &user["tasks"]["fact_sales"]["arguments"];
    assert_eq!(args["db_user"], "admin");
    assert_eq!(args["secret_arn"], Value::Null);
    let mut workgroup = target(SqlAuth::Iam);
    workgroup.sql.endpoint = SqlEndpoint::Workgroup("demo-wg".into());
    let seen = inspect(AIRFLOW_2, &workgroup);
    let args = &seen["tasks"]["check_products"]["arguments"];
    assert_eq!(args["workgroup_name"], "demo-wg");
    assert_eq!(args["cluster_identifier"], Value::Null);
    assert_eq!(args["db_user"], Value::Null);
    assert_eq!(args["secret_arn"], Value::Null);
}

const CLI_STACK: &str = r#"
[stack]
name = "seed"
region = "us-east-1"

[lake]
bucket = "seed-lake"

[warehouse]
kind = "existing"
cluster = "seed-cluster"
database = "dev"
"#;

/// `showcase-deploy dag --out DIR` on a stack whose cluster exists (moto):
/// the names `run` resolves, the same bytes twice, a file no longer rendered
/// removed from the DAG's own folder and nothing else touched; Airflow loads it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dag_command_writes_the_stacks_dag_the_same_every_time() {
    let moto = showcase_testkit::MotoServer::start();
    let aws = showcase_deploy::aws::Aws::connect_with("us-east-1", moto.config_loader()).await;
    aws.redshift
        .create_cluster()
        .cluster_identifier("seed-cluster")
        .node_type("ra3.large")
        .cluster_type("single-node")
        .db_name("dev")
        .master_username("seed_admin")
        .master_user_password("Unused-Passw0rd")
        .send()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let stack = dir.path().join("stack.toml");
    std::fs::write(&stack, CLI_STACK).unwrap();
    let out = dir.path().join("dags");
    let render = || {
        let output = Command::new(env!("CARGO_BIN_EXE_showcase-deploy"))
            .args(["dag", "--out"])
            .arg(&out)
            .arg("--stack")
            .arg(&stack)
            .envs(moto.aws_env())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let mut files = BTreeMap::new();
        for entry in walk(&out) {
            let relative = entry
                .strip_prefix(&out)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            files.insert(relative, std::fs::read(&entry).unwrap());
        }
        files
    };
    let first = tokio::task::block_in_place(render);
    let dag_file = String::from_utf8(first["seed_pipeline.py"].clone()).unwrap();
    for expected in [
        "\"cluster_identifier\": \"seed-cluster\"",
        "\"database\": \"dev\"",
        "\"db_user\": \"seed_admin\"",
        "function_name=\"seed-extractor\"",
        "\"lake_bucket\": Param(\"seed-lake\"",
        "\"copy_role_arn\": Param(\"arn:aws:iam::123456789012:role/seed-warehouse-copy-role\"",
    ] {
        assert!(
            dag_file.contains(expected),
            "{expected} not in:\n{dag_file}"
        );
    }
    std::fs::write(out.join("seed_pipeline/stale.sql"), "SELECT 1").unwrap();
    std::fs::write(out.join("theirs.py"), "# someone else's").unwrap();
    let second = tokio::task::block_in_place(render);
    let mut expected = first.clone();
    expected.insert("theirs.py".into(), b"# someone else's".to_vec());
    assert_eq!(second, expected, "the same stack gives the same bytes");
    std::fs::remove_file(out.join("theirs.py")).unwrap();
    let seen = tokio::task::block_in_place(|| inspect_folder(AIRFLOW_2, &out, "seed_pipeline"));
    assert_eq!(seen["import_errors"], serde_json::json!({}), "{seen:#}");
    assert_eq!(seen["tasks"].as_object().unwrap().len(), TASKS.len());
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// `[orchestrator] start_date` and a once-a-day `schedule` other than
/// midnight: Airflow loads the DAG, and the first run's `ds` is the start
/// date (logical date that day at the schedule's time, as `run` triggers a
/// day through MWAA).
fn a_stack_schedule_gives_each_day_its_ds(airflow: Airflow) {
    let target = target(SqlAuth::Iam);
    let folder = tempfile::tempdir().unwrap();
    let files = dag::render(&DagInput {
        stack_name: "demo",
        region: "us-east-1",
        target: &target,
        schedule: dag::DagSchedule {
            start_date: "2024-03-01".into(),
            cron: "30 2 * * *".into(),
        },
    })
    .unwrap();
    for file in &files {
        let path = folder.path().join(&file.path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, &file.text).unwrap();
    }
    let seen = inspect_folder(airflow, folder.path(), &dag::dag_id("demo"));
    assert_eq!(seen["import_errors"], serde_json::json!({}), "{seen:#}");
    let settings = &seen["dag"];
    assert_eq!(settings["timetable"], "CronDataIntervalTimetable");
    assert_eq!(settings["first_ds"], "2024-03-01");
    assert_eq!(settings["start_date"], "2024-03-01T00:00:00+00:00");
}

#[test]
fn airflow_2_11_runs_the_stack_s_schedule() {
    a_stack_schedule_gives_each_day_its_ds(AIRFLOW_2);
}

#[test]
fn airflow_3_0_runs_the_stack_s_schedule() {
    if !python_3_12_exists() {
        eprintln!("skipped: Airflow 3.0.6 needs Python 3.12, and this machine has none");
        return;
    }
    a_stack_schedule_gives_each_day_its_ds(AIRFLOW_3);
}
