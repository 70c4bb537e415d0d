#![cfg(feature = "deploy")]
//! The DAG in an MWAA environment's DAG folder, against moto's S3 and the
//! MWAA stand-in: only changed objects written, hand edits and deletes found
//! as drift and repaired, an Airflow upgrade of the environment found, a
//! foreign object never touched, `down` removing only the stack's.

use std::collections::BTreeMap;
use std::path::Path;

use aws_sdk_s3::primitives::ByteStream;
use showcase_deploy::aws::Aws;
use showcase_deploy::config::{self, Stack, Vars};
use showcase_deploy::engine::{self, Action, Plan};
use showcase_deploy::resources::{Owned, Resource};
use showcase_deploy::stack::Context;
use showcase_testkit::{MotoServer, Mwaa, MwaaEnvironment};

mod user_warehouse;

const STACK: &str = r#"
[stack]
name = "mw"
region = "us-east-1"

[lake]
bucket = "mw-lake"

[warehouse]
kind = "existing"
workgroup = "analytics"

[orchestrator]
mwaa_environment = "mw-env"
start_date = "2024-03-01"
"#;

const BUCKET: &str = "mw-airflow";

fn quiet(_: engine::Event) {}

struct Setup {
    _moto: MotoServer,
    mwaa: Mwaa,
    aws: Aws,
    s3: aws_sdk_s3::Client,
    stack: Stack,
}

async fn setup() -> Setup {
    let moto = MotoServer::start();
    let mwaa = Mwaa::start();
    mwaa.add_environment(MwaaEnvironment::available("mw-env", BUCKET));
    let mut aws = Aws::connect_with("us-east-1", moto.config_loader()).await;
    // The tool's MWAA client, pointed at the stand-in (its doc: the host prefix).
    let (_, endpoint) = mwaa.aws_env().remove(0);
    let config = moto.sdk_config("us-east-1").await;
    aws.mwaa = aws_sdk_mwaa::Client::from_conf(
        aws_sdk_mwaa::config::Builder::from(&config)
            .endpoint_url(endpoint)
            .interceptor(aws.requests.clone())
            .build(),
    );
    let s3 = aws_sdk_s3::Client::new(&config);
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    user_warehouse::make_workgroup(&config, "analytics-ns", "analytics").await;
    let stack = config::parse(STACK, Path::new("stack.toml"), &Vars::default()).unwrap();
    Setup {
        _moto: moto,
        mwaa,
        aws,
        s3,
        stack,
    }
}

impl Setup {
    /// The stack's DAG objects as stack.toml and AWS make them now.
    async fn objects(&self) -> Vec<Box<dyn Resource>> {
        let context = Context::discover(&self.aws, &self.stack, BTreeMap::new())
            .await
            .unwrap();
        assert!(context.dag.is_some(), "the names are known");
        showcase_deploy::stack::resources(&self.stack, &context)
            .into_iter()
            .filter(|r| r.address().kind == "dag_object")
            .collect()
    }

    async fn leftovers(&self, declared: &[Box<dyn Resource>]) -> Vec<Box<dyn Owned>> {
        showcase_deploy::stack::leftovers(&self.aws, &self.stack, declared)
            .await
            .unwrap()
            .into_iter()
            .filter(|o| o.address().kind == "dag_object")
            .collect()
    }

    async fn plan(&self) -> Plan {
        let declared = self.objects().await;
        let leftovers = self.leftovers(&declared).await;
        engine::plan(&self.aws, &declared, &leftovers)
            .await
            .unwrap()
    }

    /// Plans and applies; the plan and how many objects were written.
    async fn up(&self) -> (Plan, usize) {
        let declared = self.objects().await;
        let leftovers = self.leftovers(&declared).await;
        let plan = engine::plan(&self.aws, &declared, &leftovers)
            .await
            .unwrap();
        self.aws.requests.clear();
        engine::apply(
            &self.aws,
            &declared,
            &leftovers,
            &plan,
            engine::Consent::NONE,
            &quiet,
        )
        .await
        .unwrap();
        let requests = self.aws.requests.all();
        assert!(
            !requests.iter().any(|r| r.operation == "GetEnvironment"),
            "writing needs no second GetEnvironment"
        );
        let puts = requests
            .iter()
            .filter(|r| r.operation == "PutObject")
            .count();
        (plan, puts)
    }

    async fn keys(&self) -> Vec<String> {
        let listed = self
            .s3
            .list_objects_v2()
            .bucket(BUCKET)
            .send()
            .await
            .unwrap();
        listed
            .contents()
            .iter()
            .filter_map(|o| o.key().map(str::to_owned))
            .collect()
    }

    async fn text(&self, key: &str) -> String {
        let object = self
            .s3
            .get_object()
            .bucket(BUCKET)
            .key(key)
            .send()
            .await
            .unwrap();
        String::from_utf8(object.body.collect().await.unwrap().to_vec()).unwrap()
    }
}

/// `address → what changes` for every change that is not "no change".
fn changes(plan: &Plan) -> BTreeMap<String, String> {
    plan.changes
        .iter()
        .filter_map(|c| {
            let what = match &c.action {
                Action::NoChange => return None,
                Action::Create => "create".to_owned(),
                Action::Update { fields } => {
                    fields.iter().map(|f| f.field).collect::<Vec<_>>().join(",")
                }
                Action::Delete { .. } => "delete".to_owned(),
                other => format!("{other:?}"),
            };
            Some((c.address.name.clone(), what))
        })
        .collect()
}

const DAG_KEY: &str = "dags/mw/mw_pipeline.py";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dag_in_the_environment_s_folder_through_its_life() {
    let setup = setup().await;
    // Someone else's DAG, and a file of theirs in the stack's folder.
    for key in ["dags/other_pipeline.py", "dags/mw/notes.sql"] {
        setup
            .s3
            .put_object()
            .bucket(BUCKET)
            .key(key)
            .body(ByteStream::from_static(b"theirs"))
            .send()
            .await
            .unwrap();
    }

    // First up: every rendered file is written once, tagged.
    let rendered = setup.objects().await.len();
    assert!(rendered > 20, "the DAG file and its SQL files: {rendered}");
    let (plan, puts) = setup.up().await;
    assert_eq!(changes(&plan).len(), rendered);
    assert!(changes(&plan).values().all(|c| c == "create"));
    assert_eq!(puts, rendered);
    let dag = setup.text(DAG_KEY).await;
    assert!(
        dag.contains("datetime(2024, 3, 1"),
        "start_date from stack.toml"
    );
    assert!(dag.contains("\"workgroup_name\": \"analytics\""), "{dag}");
    let tags = setup
        .s3
        .get_object_tagging()
        .bucket(BUCKET)
        .key(DAG_KEY)
        .send()
        .await
        .unwrap();
    let tags: BTreeMap<&str, &str> = tags
        .tag_set()
        .iter()
        .map(|t| (t.key(), t.value()))
        .collect();
    assert_eq!(tags["showcase:stack"], "mw");
    assert_eq!(tags["showcase:kind"], "dag_object");
    assert_eq!(tags["showcase:airflow-version"], "2.11.0");

    // Nothing changed: nothing written.
    let (plan, puts) = setup.up().await;
    assert_eq!(changes(&plan), BTreeMap::new());
    assert_eq!(puts, 0);

    // A SQL file edited by hand (tags kept) and another deleted: drift, then
    // exactly those two written back.
    let edited = "dags/mw/mw_pipeline/fact_sales/01.sql";
    let deleted = "dags/mw/mw_pipeline/dim_date/01.sql";
    let original = setup.text(edited).await;
    setup
        .s3
        .put_object()
        .bucket(BUCKET)
        .key(edited)
        .body(ByteStream::from_static(b"SELECT 1;\n"))
        .tagging("showcase%3Astack=mw&showcase%3Akind=dag_object&showcase%3Aairflow-version=2.11.0")
        .send()
        .await
        .unwrap();
    setup
        .s3
        .delete_object()
        .bucket(BUCKET)
        .key(deleted)
        .send()
        .await
        .unwrap();
    let drift = changes(&setup.plan().await);
    assert_eq!(
        drift,
        BTreeMap::from([
            (
                "mw/mw_pipeline/dim_date/01.sql".to_owned(),
                "create".to_owned()
            ),
            (
                "mw/mw_pipeline/fact_sales/01.sql".to_owned(),
                "sha256".to_owned()
            ),
        ])
    );
    let (_, puts) = setup.up().await;
    assert_eq!(puts, 2);
    assert_eq!(setup.text(edited).await, original);
    assert_eq!(changes(&setup.plan().await), BTreeMap::new());

    // A file no longer rendered (an old task's) carrying the stack's tag is
    // pruned; the foreign files stay.
    setup
        .s3
        .put_object()
        .bucket(BUCKET)
        .key("dags/mw/mw_pipeline/old_task/01.sql")
        .body(ByteStream::from_static(b"SELECT 2;\n"))
        .tagging("showcase%3Astack=mw&showcase%3Akind=dag_object")
        .send()
        .await
        .unwrap();
    let (plan, _) = setup.up().await;
    assert_eq!(
        changes(&plan),
        BTreeMap::from([(
            "mw/mw_pipeline/old_task/01.sql".to_owned(),
            "delete".to_owned()
        )])
    );
    let keys = setup.keys().await;
    assert!(!keys.iter().any(|k| k.contains("old_task")));
    assert!(keys.contains(&"dags/mw/notes.sql".to_owned()));
    assert!(keys.contains(&"dags/other_pipeline.py".to_owned()));
    assert_eq!(setup.text("dags/mw/notes.sql").await, "theirs");

    // The environment upgraded to Airflow 3.0.6: every object is drift, and
    // `up` writes them again for the new version.
    setup
        .mwaa
        .edit_environment("mw-env", |e| e.airflow_version = "3.0.6".to_owned());
    let drift = changes(&setup.plan().await);
    assert_eq!(drift.len(), rendered);
    assert!(drift.values().all(|c| c == "airflow_version"), "{drift:?}");
    let (_, puts) = setup.up().await;
    assert_eq!(puts, rendered);
    assert_eq!(changes(&setup.plan().await), BTreeMap::new());

    // A version the DAG is not written for: `up` refuses to write it, naming both.
    setup
        .mwaa
        .edit_environment("mw-env", |e| e.airflow_version = "2.10.3".to_owned());
    let declared = setup.objects().await;
    let leftovers = setup.leftovers(&declared).await;
    let plan = engine::plan(&setup.aws, &declared, &leftovers)
        .await
        .unwrap();
    let error = engine::apply(
        &setup.aws,
        &declared,
        &leftovers,
        &plan,
        engine::Consent::NONE,
        &quiet,
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(error.contains("runs Airflow 2.10.3"), "{error}");
    assert!(error.contains("2.11.0 or 3.0.6"), "{error}");
    setup
        .mwaa
        .edit_environment("mw-env", |e| e.airflow_version = "3.0.6".to_owned());
    assert_eq!(changes(&setup.plan().await), BTreeMap::new());

    // An environment that is not available is drift on the DAG file, which
    // `up` reports and cannot repair (the environment is the user's).
    setup
        .mwaa
        .edit_environment("mw-env", |e| e.status = "UPDATE_FAILED".to_owned());
    let drift = changes(&setup.plan().await);
    assert_eq!(
        drift,
        BTreeMap::from([(
            "mw/mw_pipeline.py".to_owned(),
            "environment_status".to_owned()
        )])
    );
    let declared = setup.objects().await;
    let leftovers = setup.leftovers(&declared).await;
    let plan = engine::plan(&setup.aws, &declared, &leftovers)
        .await
        .unwrap();
    let error = engine::apply(
        &setup.aws,
        &declared,
        &leftovers,
        &plan,
        engine::Consent::NONE,
        &quiet,
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(error.contains("UPDATE_FAILED"), "{error}");
    assert!(error.contains("never changes the environment"), "{error}");
    setup
        .mwaa
        .edit_environment("mw-env", |e| e.status = "AVAILABLE".to_owned());

    // down: the stack's objects go, the others stay; the environment was
    // never updated.
    let declared = setup.objects().await;
    let leftovers = setup.leftovers(&declared).await;
    engine::destroy(&setup.aws, &declared, &leftovers, false, &quiet)
        .await
        .unwrap();
    let mut keys = setup.keys().await;
    keys.sort();
    assert_eq!(keys, ["dags/mw/notes.sql", "dags/other_pipeline.py"]);
    assert!(
        setup
            .mwaa
            .calls()
            .iter()
            .all(|c| c.operation == "GetEnvironment"),
        "the tool only reads the environment"
    );
}

const WITH_A_NEW_CLUSTER: &str = r#"
[stack]
name = "mc"
region = "us-east-1"

[lake]
bucket = "mc-lake"

[warehouse]
kind = "cluster"

[orchestrator]
mwaa_environment = "mw-env"
"#;

/// A new cluster: its names are not known when `up` plans, so the DAG's
/// files are known after apply and go up in `up`'s later pass, naming the
/// cluster it made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_writes_the_dag_once_its_new_cluster_exists() {
    let setup = setup().await;
    let stack = config::parse(
        WITH_A_NEW_CLUSTER,
        Path::new("stack.toml"),
        &Vars::default(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let code = showcase_deploy::config::FunctionName::ALL
        .into_iter()
        .map(|function| {
            let zip = showcase_deploy::build::bootstrap_zip(function.as_str().as_bytes()).unwrap();
            let path = dir.path().join(format!("{}.zip", function.as_str()));
            std::fs::write(&path, &zip).unwrap();
            let sha256 = showcase_deploy::build::code_sha256(&zip);
            (
                function,
                showcase_deploy::resources::function::Code { zip: path, sha256 },
            )
        })
        .collect();
    let session = showcase_deploy::session::Session::new(setup.aws.clone(), stack, code);
    let plan = session.plan().await.unwrap();
    let dag_file = plan
        .changes
        .iter()
        .find(|c| c.address.to_string() == "dag_object.mc/mc_pipeline.py")
        .unwrap();
    assert_eq!(dag_file.action, Action::Create);
    assert!(dag_file.deferred(), "known after apply: {dag_file:?}");
    let plans = session.up(false, &|_| {}, &quiet).await.unwrap();
    assert!(plans.len() >= 2, "a later pass wrote the DAG");
    let dag = setup.text("dags/mc/mc_pipeline.py").await;
    assert!(
        dag.contains("\"cluster_identifier\": \"mc-warehouse\""),
        "{dag}"
    );
    assert!(!session.plan().await.unwrap().has_changes());
}
