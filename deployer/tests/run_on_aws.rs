#![cfg(feature = "deploy")]
//! The end-to-end proof of `run` on AWS: the task graph run against moto's
//! S3, the Lambda `Invoke` stand-in running the real extractor binary, and
//! the Redshift Data API stand-in running the pipeline's Redshift SQL (COPY
//! from moto's S3 included) on PostgreSQL. Every warehouse table after three
//! days equals, row for row, what `run --local` leaves for the same days, and
//! each day prints the same line. A failing check stops the day naming it,
//! before any dimension or fact is touched; a function error fails the
//! extract task with the function's message.

use std::time::Duration;

use std::collections::BTreeMap;

use showcase_dataset::Day;
use showcase_deploy::aws::Aws;
use showcase_deploy::aws_run::{
    AwsPipeline, AwsRunError, AwsTarget, ExtractError, Polling, SqlAuth, SqlEndpoint, SqlNames,
    SqlTarget, TaskError,
};
use showcase_deploy::config::{self, FunctionName, Vars};
use showcase_deploy::local::Pipeline;
use showcase_deploy::local::warehouse::Warehouse;
use showcase_deploy::report::day_line;
use showcase_deploy::resources::function::Code;
use showcase_deploy::session::Session;
use showcase_testkit::{
    LambdaFunction, LambdaInvoke, MotoServer, Postgres, RedshiftData, RedshiftDataSettings,
    cargo_bin,
};

const ROWS: u64 = 200;
const SCHEMA: &str = "showcase_data_pipeline";
const BUCKET: &str = "demo-lake";
const PREFIX: &str = "raw/";
const EXTRACTOR: &str = "demo-extractor";
const CLUSTER: &str = "demo-warehouse";
const COPY_ROLE: &str = "arn:aws:iam::123456789012:role/demo-warehouse-copy-role";

fn day(text: &str) -> Day {
    text.parse().unwrap()
}

/// moto, both stand-ins, a data API on localhost and one PostgreSQL server
/// (database `showcase` behind the Data API; others for local runs).
struct Stage {
    moto: MotoServer,
    lambda: LambdaInvoke,
    warehouse: RedshiftData,
    postgres: Postgres,
    aws: Aws,
    extractor: std::path::PathBuf,
    servers: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Stage {
    fn drop(&mut self) {
        for server in &self.servers {
            server.abort();
        }
    }
}

impl Stage {
    /// `lake`: make the lake bucket by hand (else `up` makes it).
    async fn start(lake: bool) -> Stage {
        let extractor =
            tokio::task::spawn_blocking(|| cargo_bin("showcase-extractor", "extractor"))
                .await
                .unwrap();
        let moto = MotoServer::start();
        let aws = Aws::connect_with("us-east-1", moto.config_loader()).await;
        if lake {
            aws.s3.create_bucket().bucket(BUCKET).send().await.unwrap();
        }
        let lambda = LambdaInvoke::new();
        moto.serve_lambda(&lambda);
        let postgres = Postgres::start();
        postgres.create_database("showcase").await;
        let warehouse = RedshiftData::new(&postgres.url("postgres"));
        moto.serve_redshift_data(&warehouse);
        let mut stage = Stage {
            moto,
            lambda,
            warehouse,
            postgres,
            aws,
            extractor,
            servers: Vec::new(),
        };
        let api = stage
            .serve(showcase_data_api::router(showcase_data_api::ApiSettings {
                sales_per_day: ROWS,
            }))
            .await;
        stage.register(EXTRACTOR, &api);
        stage
    }

    /// Serves `router` on localhost; its base URL.
    async fn serve(&mut self, router: axum::Router) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        self.servers.push(tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        }));
        url
    }

    /// An extractor function reading `api` and writing the lake, as `up` configures it.
    fn register(&self, name: &str, api: &str) {
        self.lambda.register(
            name,
            LambdaFunction::new(&self.extractor)
                .env([
                    ("API_BASE_URL", api.to_owned()),
                    ("LAKE_URL", format!("s3://{BUCKET}/{PREFIX}")),
                ])
                .timeout(Duration::from_secs(120)),
        );
    }

    fn pipeline_for(&self, target: AwsTarget) -> AwsPipeline {
        AwsPipeline::new(
            self.aws.lambda.clone(),
            self.aws.redshiftdata.clone(),
            target,
            Polling {
                first: Duration::from_millis(10),
                max: Duration::from_millis(200),
                limit: Duration::from_secs(120),
            },
        )
    }

    fn pipeline(&self, extractor: &str) -> AwsPipeline {
        self.pipeline_for(AwsTarget {
            extractor_function: extractor.to_owned(),
            sql: SqlTarget {
                endpoint: SqlEndpoint::Cluster(CLUSTER.to_owned()),
                database: "showcase".to_owned(),
                auth: SqlAuth::DbUser("showcase_admin".to_owned()),
            },
            names: SqlNames {
                schema: SCHEMA.to_owned(),
                lake_bucket: BUCKET.to_owned(),
                lake_prefix: PREFIX.to_owned(),
                copy_role_arn: COPY_ROLE.to_owned(),
            },
        })
    }

    async fn rows(&self, database: &str, query: &str) -> Vec<Vec<String>> {
        self.postgres.rows(database, query).await
    }

    /// Every table of the schema, each fully ordered by all its columns.
    async fn dump(&self, database: &str) -> Vec<Vec<String>> {
        self.postgres.dump_schema(database, SCHEMA).await
    }

    /// The star schema only (what a failed check must leave as it was).
    async fn star_schema(&self, database: &str) -> Vec<Vec<String>> {
        let mut all = Vec::new();
        for table in [
            "dim_date",
            "dim_products",
            "dim_customers",
            "fact_sales",
            "fact_sales_aggregate",
        ] {
            all.push(vec![format!("-- {table}")]);
            all.extend(
                self.rows(
                    database,
                    &format!("SELECT * FROM {SCHEMA}.{table} ORDER BY 1"),
                )
                .await,
            );
        }
        all
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_days_on_aws_leave_every_table_as_the_local_run_does() {
    let stage = Stage::start(true).await;
    let days: Vec<Day> = day("2024-03-01").through(day("2024-03-03")).collect();

    let mut on_aws = stage.pipeline(EXTRACTOR);
    let mut aws_lines = Vec::new();
    for d in &days {
        let outcome = on_aws.run_day(*d).await.unwrap_or_else(|e| {
            panic!(
                "{e}\nextractor log:\n{}\nmoto log tail:\n{}",
                stage.lambda.log(EXTRACTOR),
                stage
                    .moto
                    .log()
                    .lines()
                    .rev()
                    .take(20)
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        });
        assert_eq!(
            outcome.extracted_rows(showcase_extractor::Entity::Sales),
            ROWS
        );
        aws_lines.push(day_line(&outcome));
    }

    stage.postgres.create_database("local").await;
    let lake = tempfile::tempdir().unwrap();
    let warehouse = Warehouse::connect(&stage.postgres.url("local"), SCHEMA)
        .await
        .unwrap();
    let mut local = Pipeline::start(ROWS, lake.path(), warehouse).await.unwrap();
    let mut local_lines = Vec::new();
    for d in &days {
        local_lines.push(day_line(&local.run_day(*d).await.unwrap()));
    }

    assert_eq!(aws_lines, local_lines);
    let aws_tables = stage.dump("showcase").await;
    let local_tables = stage.dump("local").await;
    assert!(
        aws_tables.len() > 3 * ROWS as usize,
        "{} rows in all",
        aws_tables.len()
    );
    assert_eq!(aws_tables, local_tables);

    // Each SQL task ran as one batch (one transaction), and the COPY named
    // the stack's lake and role.
    let statements = stage.warehouse.statements();
    let copies: Vec<&String> = statements
        .iter()
        .flat_map(|s| &s.sqls)
        .filter(|sql| sql.contains("IAM_ROLE"))
        .collect();
    assert_eq!(copies.len(), 9, "three loads a day");
    assert!(copies.iter().all(|sql| sql.contains(COPY_ROLE)));
    assert!(
        copies
            .iter()
            .any(|sql| sql.contains(&format!("s3://{BUCKET}/{PREFIX}2024-03-02/sales.parquet")))
    );
    assert!(
        statements
            .iter()
            .all(|s| s.cluster_identifier.as_deref() == Some(CLUSTER)
                && s.db_user.as_deref() == Some("showcase_admin"))
    );
    // tune.sql ran once, after the first setup.
    let tunes = statements
        .iter()
        .filter(|s| s.sqls.iter().any(|sql| sql.contains("ALTER SORTKEY")))
        .count();
    assert!(tunes > 0);
    let mut again = stage.pipeline(EXTRACTOR);
    again.run_day(day("2024-03-03")).await.unwrap();
    let tunes_after = stage
        .warehouse
        .statements()
        .iter()
        .filter(|s| s.sqls.iter().any(|sql| sql.contains("ALTER SORTKEY")))
        .count();
    assert_eq!(tunes, tunes_after, "tune.sql runs only for a new schema");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_check_stops_the_day_naming_it_and_a_function_error_fails_the_extract() {
    let mut stage = Stage::start(true).await;
    stage
        .pipeline(EXTRACTOR)
        .run_day(day("2024-03-01"))
        .await
        .unwrap();
    let before = stage.star_schema("showcase").await;

    // A day without a single sale: check_sales fails, nothing downstream runs.
    let empty = stage
        .serve(showcase_data_api::router(showcase_data_api::ApiSettings {
            sales_per_day: 0,
        }))
        .await;
    stage.register("demo-extractor-empty", &empty);
    let error = stage
        .pipeline("demo-extractor-empty")
        .run_day(day("2024-03-02"))
        .await
        .unwrap_err();
    match &error {
        AwsRunError::Task {
            task: "check_sales",
            source: TaskError::CheckFailed { failed, .. },
            ..
        } => assert!(failed.contains(&"has_sales_rows".to_owned()), "{failed:?}"),
        other => panic!("expected check_sales to fail, got {other}"),
    }
    assert!(
        error
            .to_string()
            .starts_with("2024-03-02 check_sales: checks/sales.sql failed: has_sales_rows"),
        "{error}"
    );
    assert_eq!(stage.star_schema("showcase").await, before);

    // An API that refuses the key: the function fails, the task says why.
    let refusing = stage
        .serve(axum::Router::new().fallback(|| async {
            (
                axum::http::StatusCode::FORBIDDEN,
                r#"{"message":"Forbidden"}"#,
            )
        }))
        .await;
    stage.register("demo-extractor-refused", &refusing);
    let error = stage
        .pipeline("demo-extractor-refused")
        .run_day(day("2024-03-02"))
        .await
        .unwrap_err();
    match &error {
        AwsRunError::Task {
            task,
            source: TaskError::Extract(ExtractError::Function { function, message }),
            ..
        } => {
            assert!(task.starts_with("extract_"), "{task}");
            assert_eq!(function, "demo-extractor-refused");
            assert!(message.contains("403"), "{message}");
        }
        other => panic!("expected an extract to fail, got {other}"),
    }
    assert_eq!(stage.star_schema("showcase").await, before);

    // An answer that does not name the object the load reads fails the extract.
    let elsewhere = AwsTarget {
        names: SqlNames {
            lake_bucket: "another-lake".into(),
            ..stage.pipeline(EXTRACTOR).target().names.clone()
        },
        ..stage.pipeline(EXTRACTOR).target().clone()
    };
    let error = stage
        .pipeline_for(elsewhere.clone())
        .run_day(day("2024-03-02"))
        .await
        .unwrap_err();
    match &error {
        AwsRunError::Task {
            source: TaskError::Extract(ExtractError::Answer { problem, .. }),
            ..
        } => assert!(
            problem.contains("did not write s3://another-lake/raw/2024-03-02/"),
            "{problem}"
        ),
        other => panic!("expected the extract's answer to be refused, got {other}"),
    }

    // A failing statement names the task, the file and PostgreSQL's error.
    let missing_database = AwsTarget {
        sql: SqlTarget {
            database: "no_such_database".into(),
            ..elsewhere.sql.clone()
        },
        ..stage.pipeline(EXTRACTOR).target().clone()
    };
    let error = stage
        .pipeline_for(missing_database)
        .run_day(day("2024-03-02"))
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(
        text.starts_with("2024-03-02 setup_schema: sql/setup/schema.sql: ")
            && text.contains("no_such_database"),
        "{text}"
    );
    assert_eq!(stage.star_schema("showcase").await, before);
}

const STACK_TOML: &str = r#"
[stack]
name = "demo"
region = "us-east-1"

[lake]
bucket = "demo-lake"
prefix = "raw/"

[warehouse]
kind = "cluster"
database = "showcase"
"#;

/// The functions' code for `up` (Invoke runs the real extractor through the stand-in).
fn code(dir: &std::path::Path) -> BTreeMap<FunctionName, Code> {
    FunctionName::ALL
        .into_iter()
        .map(|f| {
            let zip = showcase_deploy::build::bootstrap_zip(f.as_str().as_bytes()).unwrap();
            let path = dir.join(format!("{}.zip", f.as_str()));
            std::fs::write(&path, &zip).unwrap();
            let sha256 = showcase_deploy::build::code_sha256(&zip);
            (f, Code { zip: path, sha256 })
        })
        .collect()
}

/// The issue's proof, as a user runs it: `up` on moto (the lake, the COPY
/// role, the cluster `demo-warehouse`, the function `demo-extractor`), then
/// the binary's `run --from D1 --to D5` at moto's endpoint: every table and
/// every day's figures equal what `run --local` gives for the same days.
/// Then `sql` prints what it sent, and a stack without a warehouse is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_then_run_from_d1_to_d5_on_the_stack_equals_run_local() {
    let stage = Stage::start(false).await;
    let dir = tempfile::tempdir().unwrap();
    let stack = dir.path().join("stack.toml");
    std::fs::write(&stack, STACK_TOML).unwrap();
    let parsed = config::parse(STACK_TOML, &stack, &Vars::default()).unwrap();
    Session::new(stage.aws.clone(), parsed, code(dir.path()))
        .up(false, &|_| {}, &|_| {})
        .await
        .unwrap();
    let copy_role = stage
        .aws
        .iam
        .get_role()
        .role_name("demo-warehouse-copy-role")
        .send()
        .await
        .unwrap()
        .role()
        .unwrap()
        .arn()
        .to_owned();
    assert_eq!(copy_role, COPY_ROLE);
    // moto evaluates the lake's TLS-only policy and its endpoint is plain
    // HTTP: without the policy the extractor and the COPY reach the lake.
    stage
        .aws
        .s3
        .delete_bucket_policy()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();

    let binary = env!("CARGO_BIN_EXE_showcase-deploy");
    let run = |args: Vec<&str>| {
        let binary = binary.to_owned();
        let env = stage.moto.aws_env();
        let args: Vec<String> = args.into_iter().map(str::to_owned).collect();
        let stack = stack.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                std::process::Command::new(binary)
                    .args(&args)
                    .arg("--stack")
                    .arg(&stack)
                    .envs(env)
                    .env("CI", "true")
                    .output()
                    .unwrap()
            })
            .await
            .unwrap()
        }
    };

    let output = run(vec![
        "run",
        "--from",
        "2024-03-01",
        "--to",
        "2024-03-04",
        "--output",
        "json",
    ])
    .await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{stderr}\n{}\n{}",
        stage.lambda.log(EXTRACTOR),
        stage
            .moto
            .log()
            .lines()
            .filter(|l| l.contains("demo-lake"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let days: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(days.as_array().unwrap().len(), 4, "{days}");
    let json_run = output;
    let output = run(vec!["run", "--date", "2024-03-05"]).await;
    // The data API's key (the extractor reads it from SSM inside the Lambda)
    // shows nowhere in what `run` prints, in JSON or in text.
    let keys = stage
        .aws
        .apigateway
        .get_api_keys()
        .include_values(true)
        .send()
        .await
        .unwrap();
    let key_values: Vec<&str> = keys.items().iter().filter_map(|k| k.value()).collect();
    assert!(!key_values.is_empty(), "up made the data API's key");
    for printed in [
        &json_run.stdout,
        &json_run.stderr,
        &output.stdout,
        &output.stderr,
    ] {
        let printed = String::from_utf8_lossy(printed);
        for key in &key_values {
            assert!(
                !printed.contains(key),
                "the API key in run's output:\n{printed}"
            );
        }
    }
    let last_line = String::from_utf8_lossy(&output.stdout)
        .trim_end()
        .to_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "cluster demo-warehouse database showcase as database user showcase_admin with IAM credentials"
        ),
        "{stderr}"
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // The same five days with run --local's pipeline, on a database of its own.
    stage.postgres.create_database("local").await;
    let lake = tempfile::tempdir().unwrap();
    let warehouse = Warehouse::connect(&stage.postgres.url("local"), SCHEMA)
        .await
        .unwrap();
    let mut local = Pipeline::start(ROWS, lake.path(), warehouse).await.unwrap();
    let mut local_days = Vec::new();
    for d in day("2024-03-01").through(day("2024-03-05")) {
        local_days.push(local.run_day(d).await.unwrap());
    }
    for (i, on_aws) in days.as_array().unwrap().iter().enumerate() {
        let expected = serde_json::to_value(&local_days[i]).unwrap();
        assert_eq!(on_aws["day"], expected["day"]);
        assert_eq!(on_aws["figures"], expected["figures"], "day {i}");
        for (got, want) in on_aws["extracted"]
            .as_array()
            .unwrap()
            .iter()
            .zip(expected["extracted"].as_array().unwrap())
        {
            assert_eq!(
                (&got["entity"], &got["rows"]),
                (&want["entity"], &want["rows"])
            );
        }
    }
    assert_eq!(last_line, day_line(&local_days[4]));
    assert_eq!(stage.dump("showcase").await, stage.dump("local").await);

    // Who ran what: the stack's cluster and database; moto reports no
    // MasterPasswordSecretArn, so the admin user with IAM credentials.
    let statements = stage.warehouse.statements();
    assert!(statements.iter().all(|s| {
        s.cluster_identifier.as_deref() == Some(CLUSTER)
            && s.db_user.as_deref() == Some("showcase_admin")
            && s.database == "showcase"
    }));

    let output = run(vec!["sql", "--date", "2024-03-04"]).await;
    let sql = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for expected in [
        "-- task setup_schema: one transaction",
        "-- task extract_sales: Invoke demo-extractor {\"date\": \"2024-03-04\", \"entity\": \"sales\"}",
        "FROM 's3://demo-lake/raw/2024-03-04/sales.parquet'",
        &format!("IAM_ROLE '{COPY_ROLE}'"),
        "-- task check_sales: one transaction",
        "-- task fact_sales_aggregate: one transaction",
    ] {
        assert!(sql.contains(expected), "{expected} not in:\n{sql}");
    }
    assert!(!sql.contains("{{"), "{sql}");
    let output = run(vec![
        "sql",
        "--date",
        "2024-03-04",
        "--account",
        "210987654321",
    ])
    .await;
    let other = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    assert_eq!(
        other,
        sql.replace("123456789012", "210987654321"),
        "only the account differs"
    );

    // A stack without a warehouse says what to do.
    std::fs::write(&stack, STACK_TOML.split("[warehouse]").next().unwrap()).unwrap();
    let output = run(vec!["run", "--date", "2024-03-05"]).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("has no [warehouse]"), "{stderr}");
}

/// A statement that does not finish within the polling bound fails the task
/// saying so, and is cancelled (ABORTED), not left running.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_that_runs_too_long_fails_its_task_and_is_cancelled() {
    let moto = MotoServer::start();
    let aws = Aws::connect_with("us-east-1", moto.config_loader()).await;
    let postgres = Postgres::start();
    postgres.create_database("showcase").await;
    let warehouse = RedshiftData::with_settings(
        &postgres.url("postgres"),
        RedshiftDataSettings {
            min_running: Duration::from_secs(2),
            ..RedshiftDataSettings::default()
        },
    );
    moto.serve_redshift_data(&warehouse);
    let mut pipeline = AwsPipeline::new(
        aws.lambda.clone(),
        aws.redshiftdata.clone(),
        AwsTarget {
            extractor_function: EXTRACTOR.to_owned(),
            sql: SqlTarget {
                endpoint: SqlEndpoint::Cluster(CLUSTER.to_owned()),
                database: "showcase".to_owned(),
                auth: SqlAuth::DbUser("showcase_admin".to_owned()),
            },
            names: SqlNames {
                schema: SCHEMA.to_owned(),
                lake_bucket: BUCKET.to_owned(),
                lake_prefix: PREFIX.to_owned(),
                copy_role_arn: COPY_ROLE.to_owned(),
            },
        },
        Polling {
            first: Duration::from_millis(10),
            max: Duration::from_millis(50),
            limit: Duration::from_millis(400),
        },
    );
    let started = std::time::Instant::now();
    let error = pipeline.run_day(day("2024-03-01")).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2), "bounded");
    let text = error.to_string();
    assert!(
        text.starts_with("2024-03-01 setup_schema: sql/setup/schema.sql: statement ")
            && text.contains("not finished after")
            && text.ends_with("cancelled"),
        "{text}"
    );
    // The stand-in ends a cancelled statement once its held time is up:
    // ABORTED then, where one not cancelled would be FINISHED.
    let mut statements = warehouse.statements();
    while statements[0].status == "STARTED" && started.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(20)).await;
        statements = warehouse.statements();
    }
    assert_eq!(statements.len(), 1, "nothing ran after it");
    assert_eq!(statements[0].status, "ABORTED");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "cancelled, not finished"
    );
}

/// Ctrl-C during a run cancels the statement it was waiting for: the tool's
/// process ends, Redshift's statement does not by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_cancels_the_statement_the_run_waits_for() {
    let moto = MotoServer::start();
    let aws = Aws::connect_with("us-east-1", moto.config_loader()).await;
    aws.redshift
        .create_cluster()
        .cluster_identifier(CLUSTER)
        .node_type("ra3.large")
        .cluster_type("single-node")
        .db_name("showcase")
        .master_username("showcase_admin")
        .master_user_password("Unused-Passw0rd")
        .send()
        .await
        .unwrap();
    let postgres = Postgres::start();
    postgres.create_database("showcase").await;
    let warehouse = RedshiftData::with_settings(
        &postgres.url("postgres"),
        RedshiftDataSettings {
            min_running: Duration::from_secs(3),
            ..RedshiftDataSettings::default()
        },
    );
    moto.serve_redshift_data(&warehouse);
    let dir = tempfile::tempdir().unwrap();
    let stack = dir.path().join("stack.toml");
    std::fs::write(&stack, STACK_TOML).unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_showcase-deploy"))
        .args(["run", "--date", "2024-03-01", "--stack"])
        .arg(&stack)
        .envs(moto.aws_env())
        .env("CI", "true")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !warehouse.statements().iter().any(|s| s.status == "STARTED") {
        assert!(started.elapsed() < Duration::from_secs(30), "no statement");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // SIGINT, as Ctrl-C at a terminal sends.
    let pid = i32::try_from(child.id()).unwrap();
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("2024-03-01: interrupted; statement ")
            && stderr.contains("cancelled on Redshift"),
        "{stderr}"
    );
    let mut statements = warehouse.statements();
    while statements.iter().any(|s| s.status == "STARTED")
        && started.elapsed() < Duration::from_secs(30)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
        statements = warehouse.statements();
    }
    assert_eq!(statements.len(), 1, "nothing ran after it");
    assert_eq!(statements[0].status, "ABORTED");
}

/// The same proof on a serverless stack: `up` makes the namespace and
/// workgroup `demo-warehouse` (testkit's Redshift Serverless stand-in behind
/// moto's front), `run --from D1 --to D2` sends every statement with
/// `WorkgroupName` (no cluster) as the namespace's managed admin secret, and
/// the warehouse equals `run --local`'s; the DAG names the workgroup.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_then_run_on_a_serverless_stack_equals_run_local() {
    let stage = Stage::start(false).await;
    let serverless = showcase_testkit::RedshiftServerless::default();
    stage.moto.serve_redshift_serverless(&serverless);
    let dir = tempfile::tempdir().unwrap();
    let stack = dir.path().join("stack.toml");
    let toml = STACK_TOML.replace(
        "kind = \"cluster\"",
        "kind = \"serverless\"\nbase_capacity = 4",
    );
    std::fs::write(&stack, &toml).unwrap();
    let parsed = config::parse(&toml, &stack, &Vars::default()).unwrap();
    Session::new(stage.aws.clone(), parsed, code(dir.path()))
        .up(false, &|_| {}, &|_| {})
        .await
        .unwrap();
    let namespace = stage
        .aws
        .redshiftserverless
        .get_namespace()
        .namespace_name(CLUSTER)
        .send()
        .await
        .unwrap();
    let secret = namespace
        .namespace()
        .and_then(|n| n.admin_password_secret_arn())
        .unwrap()
        .to_owned();
    // See the cluster's proof: moto refuses plain-HTTP writes under the TLS-only policy.
    stage
        .aws
        .s3
        .delete_bucket_policy()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();

    let binary = env!("CARGO_BIN_EXE_showcase-deploy");
    let run = |args: &[&str]| {
        std::process::Command::new(binary)
            .args(args)
            .arg("--stack")
            .arg(&stack)
            .envs(stage.moto.aws_env())
            .env("CI", "true")
            .output()
            .unwrap()
    };
    let output = tokio::task::block_in_place(|| {
        run(&[
            "run",
            "--from",
            "2024-03-01",
            "--to",
            "2024-03-02",
            "--output",
            "json",
        ])
    });
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "workgroup {CLUSTER} database showcase as the admin password's secret {secret}"
        )),
        "{stderr}"
    );
    let days: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(days.as_array().unwrap().len(), 2, "{days}");

    stage.postgres.create_database("local").await;
    let lake = tempfile::tempdir().unwrap();
    let warehouse = Warehouse::connect(&stage.postgres.url("local"), SCHEMA)
        .await
        .unwrap();
    let mut local = Pipeline::start(ROWS, lake.path(), warehouse).await.unwrap();
    for (i, d) in day("2024-03-01").through(day("2024-03-02")).enumerate() {
        let expected = serde_json::to_value(local.run_day(d).await.unwrap()).unwrap();
        assert_eq!(days[i]["figures"], expected["figures"], "day {i}");
    }
    assert_eq!(stage.dump("showcase").await, stage.dump("local").await);
    let statements = stage.warehouse.statements();
    assert!(!statements.is_empty());
    assert!(
        statements.iter().all(|s| {
            s.workgroup_name.as_deref() == Some(CLUSTER)
                && s.cluster_identifier.is_none()
                && s.db_user.is_none()
                && s.secret_arn.as_deref() == Some(secret.as_str())
                && s.database == "showcase"
        }),
        "{:?}",
        statements.first()
    );

    let dags = tempfile::tempdir().unwrap();
    let output =
        tokio::task::block_in_place(|| run(&["dag", "--out", dags.path().to_str().unwrap()]));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let dag = std::fs::read_to_string(
        dags.path()
            .join(format!("{}.py", showcase_deploy::dag::dag_id("demo"))),
    )
    .unwrap();
    assert!(
        dag.contains(&format!("\"workgroup_name\": \"{CLUSTER}\""))
            && !dag.contains("\"cluster_identifier\": "),
        "{dag}"
    );
}
