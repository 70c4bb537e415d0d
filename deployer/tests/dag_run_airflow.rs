#![cfg(feature = "deploy")]
//! `airflow dags test` of the rendered DAG for a date, in the real Airflows
//! MWAA runs (2.11.0 with providers-amazon 9.8.0, 3.0.6 with 9.12.0; the
//! virtualenvs scripts/stand-ins.sh installs), against the stand-ins: the
//! Amazon provider's `aws_default` connection points at testkit's front for
//! moto, which routes Lambda `Invoke` to the stand-in running the real
//! extractor binary and the Redshift Data API to the stand-in running the
//! statements on PostgreSQL (COPY from moto's S3). Every task succeeds, each
//! SQL task reached the warehouse as the task it is, and afterwards every
//! warehouse table equals, row for row, what `run --local` leaves for the day.
//! One Airflow at a time (a lock): they are heavy on a small machine.

use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use showcase_dataset::Day;
use showcase_deploy::aws::Aws;
use showcase_deploy::aws_run::{AwsTarget, SqlAuth, SqlEndpoint, SqlNames, SqlTarget};
use showcase_deploy::dag::{self, DagInput};
use showcase_deploy::local::Pipeline;
use showcase_deploy::local::warehouse::Warehouse;
use showcase_deploy::pipeline::{Step, TASKS};
use showcase_testkit::{
    LambdaFunction, LambdaInvoke, MotoServer, Postgres, RedshiftData, cargo_bin,
};

const DAY: &str = "2024-03-05";
const ROWS: u64 = 200;
const SCHEMA: &str = "showcase_data_pipeline";
const BUCKET: &str = "demo-lake";
const PREFIX: &str = "raw/";
const EXTRACTOR: &str = "demo-extractor";
const CLUSTER: &str = "demo-warehouse";
const COPY_ROLE: &str = "arn:aws:iam::123456789012:role/demo-warehouse-copy-role";
/// The longest one `airflow db migrate` + `airflow dags test` may take.
const AIRFLOW_LIMIT: Duration = Duration::from_secs(420);

/// One Airflow at a time.
static ONE_AIRFLOW: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn home() -> PathBuf {
    PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
}

/// The virtualenv's python: SHOWCASE_AIRFLOW_VENV / SHOWCASE_AIRFLOW3_VENV,
/// else where scripts/stand-ins.sh installs it.
fn airflow_python(version: &str) -> Option<PathBuf> {
    let variable = if version.starts_with('2') {
        "SHOWCASE_AIRFLOW_VENV"
    } else {
        "SHOWCASE_AIRFLOW3_VENV"
    };
    let venv = std::env::var_os(variable)
        .map(PathBuf::from)
        .unwrap_or_else(|| home().join(format!(".cache/showcase-deploy/airflow-{version}")));
    let python = venv.join("bin/python");
    python.is_file().then_some(python)
}

/// moto, both stand-ins, the data API on localhost and one PostgreSQL server
/// (database `showcase` behind the Data API, `local` for `run --local`).
struct Stage {
    moto: MotoServer,
    lambda: LambdaInvoke,
    warehouse: RedshiftData,
    postgres: Postgres,
    _api: tokio::task::JoinHandle<()>,
}

impl Stage {
    async fn start() -> Stage {
        let extractor =
            tokio::task::spawn_blocking(|| cargo_bin("showcase-extractor", "extractor"))
                .await
                .unwrap();
        let moto = MotoServer::start();
        let aws = Aws::connect_with("us-east-1", moto.config_loader()).await;
        aws.s3.create_bucket().bucket(BUCKET).send().await.unwrap();
        let lambda = LambdaInvoke::new();
        moto.serve_lambda(&lambda);
        let postgres = Postgres::start();
        postgres.create_database("showcase").await;
        let warehouse = RedshiftData::new(&postgres.url("postgres"));
        moto.serve_redshift_data(&warehouse);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let api = format!("http://{}", listener.local_addr().unwrap());
        let router = showcase_data_api::router(showcase_data_api::ApiSettings {
            sales_per_day: ROWS,
        });
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        lambda.register(
            EXTRACTOR,
            LambdaFunction::new(&extractor)
                .env([
                    ("API_BASE_URL", api),
                    ("LAKE_URL", format!("s3://{BUCKET}/{PREFIX}")),
                ])
                .timeout(Duration::from_secs(120)),
        );
        Stage {
            moto,
            lambda,
            warehouse,
            postgres,
            _api: server,
        }
    }

    /// Every table of the schema, each fully ordered by all its columns.
    async fn dump(&self, database: &str) -> Vec<Vec<String>> {
        self.postgres.dump_schema(database, SCHEMA).await
    }
}

fn target() -> AwsTarget {
    AwsTarget {
        extractor_function: EXTRACTOR.into(),
        sql: SqlTarget {
            endpoint: SqlEndpoint::Cluster(CLUSTER.into()),
            database: "showcase".into(),
            auth: SqlAuth::DbUser("showcase_admin".into()),
        },
        names: SqlNames {
            schema: SCHEMA.into(),
            lake_bucket: BUCKET.into(),
            lake_prefix: PREFIX.into(),
            copy_role_arn: COPY_ROLE.into(),
        },
    }
}

/// A command run in its own process group, killed whole when it outlives
/// `limit`; its output goes to `log`.
fn run_bounded(command: &mut Command, log: &Path, limit: Duration) -> bool {
    let file = std::fs::File::create(log).unwrap();
    let mut child = command
        .stdin(Stdio::null())
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .process_group(0)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.success();
        }
        if Instant::now() > deadline {
            // SAFETY: kill(2) on the child's own process group.
            unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
            let _ = child.wait();
            panic!(
                "{command:?} took over {limit:?}; its output:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Every task instance's state in the Airflow's metadata database.
fn task_states(python: &Path, home: &Path) -> BTreeMap<String, String> {
    let output = Command::new(python)
        .arg("-c")
        .arg(
            "import json, sqlite3, sys\n\
             db = sqlite3.connect(sys.argv[1])\n\
             print(json.dumps(dict(db.execute('SELECT task_id, state FROM task_instance'))))",
        )
        .arg(home.join("airflow.db"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Renders the DAG, runs `airflow dags test` for DAY; the states of its tasks.
fn dags_test(python: &Path, moto: &MotoServer) -> BTreeMap<String, String> {
    let home = tempfile::tempdir().unwrap();
    let folder = home.path().join("dags");
    for file in dag::render(&DagInput {
        stack_name: "demo",
        region: "us-east-1",
        target: &target(),
        schedule: Default::default(),
    })
    .unwrap()
    {
        let path = folder.join(&file.path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, &file.text).unwrap();
    }
    // The provider's connection, as a user of a local Airflow would set it:
    // no AWS_* variable, so the endpoint can only come from here.
    let connection = serde_json::json!({
        "conn_type": "aws",
        "login": "testing",
        "password": "testing",
        "extra": {"endpoint_url": moto.endpoint(), "region_name": "us-east-1"},
    });
    let airflow = |args: &[&str]| {
        let mut command = Command::new(python);
        command
            .args(["-m", "airflow"])
            .args(args)
            .env("AIRFLOW_HOME", home.path())
            .env("AIRFLOW__CORE__DAGS_FOLDER", &folder)
            .env("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
            .env("AIRFLOW_CONN_AWS_DEFAULT", connection.to_string())
            // The stand-ins answer at once: a look a second, not every 5 s.
            .env(showcase_deploy::dag::POLL_SECONDS_VARIABLE, "1");
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("AWS_") {
                command.env_remove(name);
            }
        }
        command
    };
    let started = Instant::now();
    let migrate = home.path().join("migrate.log");
    assert!(
        run_bounded(&mut airflow(&["db", "migrate"]), &migrate, AIRFLOW_LIMIT),
        "{}",
        std::fs::read_to_string(&migrate).unwrap_or_default()
    );
    let log = home.path().join("dags-test.log");
    let ok = run_bounded(
        &mut airflow(&["dags", "test", &dag::dag_id("demo"), DAY]),
        &log,
        AIRFLOW_LIMIT.saturating_sub(started.elapsed()),
    );
    let states = task_states(python, home.path());
    let output = std::fs::read_to_string(&log).unwrap_or_default();
    let all_ok = states.len() == TASKS.len() && states.values().all(|s| s == "success");
    assert!(
        ok && all_ok,
        "airflow dags test: {states:?}\n{}",
        output
            .lines()
            .rev()
            .take(150)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n")
    );
    eprintln!(
        "airflow dags test ran the DAG for {DAY} in {:.0} s (with db migrate)",
        started.elapsed().as_secs_f64()
    );
    states
}

async fn dags_test_equals_run_local(version: &str) {
    let Some(python) = airflow_python(version) else {
        // stand-ins.sh installs 3.0.6 only where there is a Python 3.12.
        assert!(
            version.starts_with('3'),
            "no Airflow {version}: run scripts/stand-ins.sh (installs it)"
        );
        eprintln!(
            "skipped: no Airflow {version} (scripts/stand-ins.sh installs it with Python 3.12)"
        );
        return;
    };
    let _one = ONE_AIRFLOW.lock().await;
    let stage = Stage::start().await;
    let states = tokio::task::block_in_place(|| dags_test(&python, &stage.moto));
    assert_eq!(states.keys().map(String::as_str).collect::<Vec<_>>(), {
        let mut ids: Vec<&str> = TASKS.iter().map(|t| t.id).collect();
        ids.sort_unstable();
        ids
    });

    // Each extract invoked the function with the day's payload, through the
    // connection's endpoint.
    let invocations = stage.lambda.invocations();
    let extracts = TASKS
        .iter()
        .filter(|t| matches!(t.step, Step::Extract(_)))
        .count();
    assert_eq!(invocations.len(), extracts, "{invocations:?}");
    // Each SQL task reached the warehouse under its own statement name.
    let statements = stage.warehouse.statements();
    for task in TASKS.iter().filter(|t| !matches!(t.step, Step::Extract(_))) {
        let name = format!("showcase-{}-{DAY}", task.id);
        assert!(
            statements
                .iter()
                .any(|s| s.statement_name.as_deref() == Some(name.as_str())
                    && s.status == "FINISHED"
                    && s.cluster_identifier.as_deref() == Some(CLUSTER)),
            "{name} not run: {:?}",
            statements
                .iter()
                .map(|s| (&s.statement_name, &s.status, &s.error))
                .collect::<Vec<_>>()
        );
    }

    // `run --local` for the same day, in another database of the same server.
    stage.postgres.create_database("local").await;
    let lake = tempfile::tempdir().unwrap();
    let warehouse = Warehouse::connect(&stage.postgres.url("local"), SCHEMA)
        .await
        .unwrap();
    let mut local = Pipeline::start(ROWS, lake.path(), warehouse).await.unwrap();
    let day: Day = DAY.parse().unwrap();
    local.run_day(day).await.unwrap();

    let on_airflow = stage.dump("showcase").await;
    let on_local = stage.dump("local").await;
    assert!(
        on_airflow.len() > ROWS as usize,
        "{} rows",
        on_airflow.len()
    );
    assert_eq!(on_airflow, on_local);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn airflow_2_11_dags_test_leaves_the_warehouse_run_local_leaves() {
    dags_test_equals_run_local("2.11.0").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn airflow_3_0_dags_test_leaves_the_warehouse_run_local_leaves() {
    dags_test_equals_run_local("3.0.6").await;
}
