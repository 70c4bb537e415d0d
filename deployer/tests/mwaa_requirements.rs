#![cfg(feature = "deploy")]
//! `[orchestrator] requirements`: the stack's requirements.txt in the MWAA
//! environment's (versioned) bucket on moto's S3, installed through the MWAA
//! stand-in's `UpdateEnvironment` — only with consent (`--allow-env-update`),
//! followed to its end, its failure reported with MWAA's error, a running
//! update (a killed `up`'s) followed rather than repeated, a user's own
//! requirements file never replaced, and `up`/`plan`/`drift` as a user runs them.

mod user_warehouse;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use showcase_deploy::aws::Aws;
use showcase_deploy::config::{self, Stack, Vars};
use showcase_deploy::engine::{self, Action, Consent, EngineError, Plan};
use showcase_deploy::resources::mwaa_requirements::{self, KIND};
use showcase_deploy::resources::{Owned, Resource};
use showcase_deploy::stack::Context;
use showcase_testkit::{MotoServer, Mwaa, MwaaEnvironment};

const BUCKET: &str = "mw-airflow";
const ENVIRONMENT: &str = "mw-env";

fn stack_text(requirements: &[&str]) -> String {
    let list = requirements
        .iter()
        .map(|r| format!("{r:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        r#"
[stack]
name = "mw"
region = "us-east-1"

[lake]
bucket = "mw-lake"

[warehouse]
kind = "existing"
workgroup = "analytics"

[orchestrator]
mwaa_environment = "{ENVIRONMENT}"
requirements = [{list}]
"#
    )
}

fn stack(requirements: &[&str]) -> Stack {
    config::parse(
        &stack_text(requirements),
        Path::new("stack.toml"),
        &Vars::default(),
    )
    .unwrap()
}

fn quiet(_: engine::Event) {}

const ALLOWED: Consent = Consent {
    delete_data: false,
    disruption: true,
};

struct Setup {
    moto: MotoServer,
    mwaa: Mwaa,
    aws: Aws,
    s3: aws_sdk_s3::Client,
}

async fn setup() -> Setup {
    let moto = MotoServer::start();
    let mwaa = Mwaa::start();
    mwaa.add_environment(MwaaEnvironment::available(ENVIRONMENT, BUCKET));
    mwaa.set_update_delay(Duration::from_millis(1500));
    let mut aws = Aws::connect_with("us-east-1", moto.config_loader()).await;
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
    // MWAA requires its source bucket to be versioned.
    s3.put_bucket_versioning()
        .bucket(BUCKET)
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    user_warehouse::make_workgroup(&config, "analytics-ns", "analytics").await;
    Setup {
        moto,
        mwaa,
        aws,
        s3,
    }
}

impl Setup {
    async fn declared(&self, stack: &Stack) -> Vec<Box<dyn Resource>> {
        let context = Context::discover(&self.aws, stack, BTreeMap::new())
            .await
            .unwrap();
        showcase_deploy::stack::resources(stack, &context)
            .into_iter()
            .filter(|r| r.address().kind == KIND)
            .collect()
    }

    async fn leftovers(
        &self,
        stack: &Stack,
        declared: &[Box<dyn Resource>],
    ) -> Vec<Box<dyn Owned>> {
        showcase_deploy::stack::leftovers(&self.aws, stack, declared)
            .await
            .unwrap()
            .into_iter()
            .filter(|o| o.address().kind == KIND)
            .collect()
    }

    async fn plan(&self, stack: &Stack) -> Plan {
        let declared = self.declared(stack).await;
        let leftovers = self.leftovers(stack, &declared).await;
        engine::plan(&self.aws, &declared, &leftovers)
            .await
            .unwrap()
    }

    async fn up(&self, stack: &Stack, consent: Consent) -> Result<Plan, EngineError> {
        let declared = self.declared(stack).await;
        let leftovers = self.leftovers(stack, &declared).await;
        let plan = engine::plan(&self.aws, &declared, &leftovers)
            .await
            .unwrap();
        engine::apply(&self.aws, &declared, &leftovers, &plan, consent, &quiet).await?;
        Ok(plan)
    }

    fn updates(&self) -> usize {
        self.mwaa
            .calls()
            .iter()
            .filter(|c| c.operation == "UpdateEnvironment")
            .count()
    }

    fn environment(&self) -> MwaaEnvironment {
        self.mwaa.environment(ENVIRONMENT).unwrap()
    }

    /// The object's current version and text.
    async fn file(&self) -> Option<(String, String)> {
        let object = self
            .s3
            .get_object()
            .bucket(BUCKET)
            .key(mwaa_requirements::key("mw"))
            .send()
            .await
            .ok()?;
        let version = object.version_id().unwrap().to_owned();
        let text = String::from_utf8(object.body.collect().await.unwrap().to_vec()).unwrap();
        Some((version, text))
    }

    async fn versions(&self) -> usize {
        self.s3
            .list_object_versions()
            .bucket(BUCKET)
            .prefix(mwaa_requirements::key("mw"))
            .send()
            .await
            .unwrap()
            .versions()
            .len()
    }
}

/// The one change of the kind: its action and changed fields.
fn change(plan: &Plan) -> (String, Option<&'static str>) {
    let change = plan
        .changes
        .iter()
        .find(|c| c.address.kind == KIND)
        .expect("the requirements file is planned");
    let what = match &change.action {
        Action::Update { fields } => fields.iter().map(|f| f.field).collect::<Vec<_>>().join(","),
        Action::Create => "create".to_owned(),
        Action::Delete { .. } => "delete".to_owned(),
        Action::NoChange => "no change".to_owned(),
        other => format!("{other:?}"),
    };
    (what, change.disrupts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requirements_through_their_life_update_the_environment_only_with_consent() {
    let setup = setup().await;
    let first = stack(&["apache-airflow-providers-slack==9.1.0"]);

    // Without consent: refused before anything is written.
    let plan = setup.plan(&first).await;
    let (what, disrupts) = change(&plan);
    assert_eq!(what, "create");
    assert!(disrupts.unwrap().contains("updates the MWAA environment"));
    let text = showcase_deploy::report::plan_text(&plan);
    assert!(
        text.contains("⚠ updates the MWAA environment to install requirements.txt (20–30 minutes; its scheduler and workers restart): refused without --allow-env-update"),
        "{text}"
    );
    let refused = setup.up(&first, Consent::NONE).await.unwrap_err();
    assert!(matches!(refused, EngineError::WouldDisrupt(_)), "{refused}");
    assert!(
        refused.to_string().contains("--allow-env-update"),
        "{refused}"
    );
    assert!(
        refused.to_string().contains("mwaa_requirements.mw"),
        "{refused}"
    );
    assert_eq!(setup.file().await, None, "nothing written");
    assert_eq!(setup.updates(), 0);

    // With consent: written once, tagged, installed by one update.
    setup.up(&first, ALLOWED).await.unwrap();
    let (version, text) = setup.file().await.unwrap();
    assert!(
        text.ends_with("\napache-airflow-providers-slack==9.1.0\n"),
        "{text}"
    );
    let tags = setup
        .s3
        .get_object_tagging()
        .bucket(BUCKET)
        .key(mwaa_requirements::key("mw"))
        .send()
        .await
        .unwrap();
    assert!(
        tags.tag_set()
            .iter()
            .any(|t| t.key() == "showcase:stack" && t.value() == "mw")
    );
    let environment = setup.environment();
    assert_eq!(environment.status, "AVAILABLE");
    assert_eq!(
        environment.requirements_s3_path.as_deref(),
        Some("showcase-deploy/mw/requirements.txt")
    );
    assert_eq!(
        environment.requirements_s3_object_version,
        Some(version.clone())
    );
    assert_eq!(setup.updates(), 1);
    assert_eq!(change(&setup.plan(&first).await).0, "no change");

    // Someone points the environment back at nothing: drift, repaired by one update.
    setup.mwaa.edit_environment(ENVIRONMENT, |e| {
        e.requirements_s3_path = None;
        e.requirements_s3_object_version = None;
    });
    let (what, disrupts) = change(&setup.plan(&first).await);
    assert_eq!(what, "installed");
    assert!(disrupts.is_some());
    setup.up(&first, ALLOWED).await.unwrap();
    assert_eq!(setup.updates(), 2);
    assert_eq!(
        setup.environment().requirements_s3_object_version,
        Some(version.clone()),
        "the same version again: no new one written"
    );
    assert_eq!(setup.versions().await, 1);

    // A tag added by hand: re-tagged in place, no new version, no update, no consent needed.
    setup
        .s3
        .put_object_tagging()
        .bucket(BUCKET)
        .key(mwaa_requirements::key("mw"))
        .tagging(
            aws_sdk_s3::types::Tagging::builder()
                .set_tag_set(Some(
                    tags.tag_set()
                        .iter()
                        .cloned()
                        .chain([aws_sdk_s3::types::Tag::builder()
                            .key("team")
                            .value("data")
                            .build()
                            .unwrap()])
                        .collect(),
                ))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let (what, disrupts) = change(&setup.plan(&first).await);
    assert_eq!((what.as_str(), disrupts), ("tags", None));
    setup.up(&first, Consent::NONE).await.unwrap();
    assert_eq!((setup.versions().await, setup.updates()), (1, 2));
    assert_eq!(change(&setup.plan(&first).await).0, "no change");

    // A new line in stack.toml: a new version, installed.
    let second = stack(&["apache-airflow-providers-slack==9.1.0", "tomli==2.0.1"]);
    let (what, disrupts) = change(&setup.plan(&second).await);
    assert_eq!(what, "sha256");
    assert!(disrupts.is_some());
    setup.up(&second, ALLOWED).await.unwrap();
    let (new_version, text) = setup.file().await.unwrap();
    assert_ne!(new_version, version);
    assert!(text.ends_with("\ntomli==2.0.1\n"), "{text}");
    assert_eq!(
        setup.environment().requirements_s3_object_version,
        Some(new_version.clone())
    );
    assert_eq!(setup.updates(), 3);

    // The list removed: the file is deleted; the version the environment
    // installed stays in the bucket's history, and the environment is untouched.
    let none = stack(&[]);
    assert!(setup.declared(&none).await.is_empty());
    let (what, _) = change(&setup.plan(&none).await);
    assert_eq!(what, "delete");
    setup.up(&none, Consent::NONE).await.unwrap();
    assert_eq!(setup.file().await, None);
    assert_eq!(setup.updates(), 3);
    let installed = setup
        .s3
        .get_object()
        .bucket(BUCKET)
        .key(mwaa_requirements::key("mw"))
        .version_id(&new_version)
        .send()
        .await;
    assert!(installed.is_ok(), "the installed version is kept");
    assert!(setup.plan(&none).await.changes.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_update_is_reported_with_mwaa_s_error_and_a_rerun_installs() {
    let setup = setup().await;
    let wanted = stack(&["no-such-package==0.0.1"]);
    setup.mwaa.fail_next_update(
        ENVIRONMENT,
        "INCORRECT_CONFIGURATION",
        "ERROR: No matching distribution found for no-such-package==0.0.1",
    );
    let error = setup.up(&wanted, ALLOWED).await.unwrap_err().to_string();
    assert!(error.contains("mwaa_requirements.mw"), "{error}");
    assert!(
        error.contains("INCORRECT_CONFIGURATION: ERROR: No matching distribution found for no-such-package==0.0.1"),
        "{error}"
    );
    let environment = setup.environment();
    assert_eq!(environment.status, "UPDATE_FAILED");
    assert_eq!(environment.requirements_s3_path, None, "rolled back");
    // The file is written; the environment does not install it: drift.
    assert_eq!(change(&setup.plan(&wanted).await).0, "installed");

    setup.up(&wanted, ALLOWED).await.unwrap();
    assert_eq!(setup.environment().status, "AVAILABLE");
    assert_eq!(setup.updates(), 2);
    assert_eq!(change(&setup.plan(&wanted).await).0, "no change");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_up_s_update_is_followed_not_repeated() {
    let setup = setup().await;
    setup.mwaa.set_update_delay(Duration::from_secs(3));
    let wanted = stack(&["tomli==2.0.1"]);
    let declared = setup.declared(&wanted).await;
    let plan = engine::plan(&setup.aws, &declared, &[]).await.unwrap();
    // `up` killed once the update is under way.
    let apply = engine::apply(&setup.aws, &declared, &[], &plan, ALLOWED, &quiet);
    let killed = tokio::time::timeout(Duration::from_secs(10), async {
        tokio::select! {
            _ = apply => panic!("the update takes 3 s"),
            _ = async {
                while setup.environment().status != "UPDATING" {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            } => {}
        }
    })
    .await;
    assert!(killed.is_ok(), "the update started");
    assert_eq!(setup.updates(), 1);

    // The rerun finds the environment updating, waits, and sends nothing more.
    let (what, _) = change(&setup.plan(&wanted).await);
    assert_eq!(what, "installed", "not installed while it updates");
    setup.up(&wanted, ALLOWED).await.unwrap();
    assert_eq!(setup.updates(), 1, "the running update was followed");
    let (version, _) = setup.file().await.unwrap();
    assert_eq!(
        setup.environment().requirements_s3_object_version,
        Some(version)
    );
    assert_eq!(change(&setup.plan(&wanted).await).0, "no change");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_requirements_file_of_the_user_s_is_never_replaced() {
    let setup = setup().await;
    setup
        .s3
        .put_object()
        .bucket(BUCKET)
        .key("requirements.txt")
        .body(ByteStream::from_static(b"their-package==1.0\n"))
        .send()
        .await
        .unwrap();
    setup.mwaa.edit_environment(ENVIRONMENT, |e| {
        e.requirements_s3_path = Some("requirements.txt".to_owned());
        e.requirements_s3_object_version = Some("theirs".to_owned());
    });
    let error = setup
        .up(&stack(&["tomli==2.0.1"]), ALLOWED)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("installs s3://mw-airflow/requirements.txt, which is not this stack's"),
        "{error}"
    );
    assert!(
        error.contains("\ntomli==2.0.1"),
        "the lines to add: {error}"
    );
    assert_eq!(setup.file().await, None, "nothing written");
    assert_eq!(setup.updates(), 0);
    assert_eq!(
        setup.environment().requirements_s3_path.as_deref(),
        Some("requirements.txt")
    );
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_warns_and_up_needs_allow_env_update_as_a_user_runs_them() {
    let setup = setup().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("stack.toml"), stack_text(&["tomli==2.0.1"])).unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_showcase-deploy"))
            .current_dir(showcase_testkit::workspace_root())
            .args(args)
            .arg("--stack")
            .arg(dir.path().join("stack.toml"))
            .envs(setup.moto.aws_env())
            .envs(setup.mwaa.aws_env())
            .env("CI", "true")
            .output()
            .unwrap()
    };
    let plan = run(&["plan"]);
    assert_eq!(plan.status.code(), Some(2), "{}", text(&plan));
    assert!(
        text(&plan)
            .contains("+ mwaa_requirements.mw  create\n      ⚠ updates the MWAA environment"),
        "{}",
        text(&plan)
    );
    let json = run(&["plan", "--output", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let planned = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"]["kind"] == KIND)
        .unwrap()
        .clone();
    assert!(
        planned["disrupts"]
            .as_str()
            .unwrap()
            .contains("20–30 minutes")
    );

    let refused = run(&["up"]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(
        text(&refused).contains("without --allow-env-update"),
        "{}",
        text(&refused)
    );
    let lake = setup.s3.head_bucket().bucket("mw-lake").send().await;
    assert!(lake.is_err(), "refused before anything was created");

    let up = run(&["up", "--allow-env-update"]);
    assert_eq!(up.status.code(), Some(0), "{}", text(&up));
    assert!(
        text(&up).contains("mwaa_requirements.mw: MWAA environment mw-env is UPDATING (0 min so far; an update takes 20–30 minutes)"),
        "progress on a plain log: {}",
        text(&up)
    );
    assert!(
        text(&up).contains("mwaa_requirements.mw: created"),
        "{}",
        text(&up)
    );
    // (drift exits 2 here for the user's workgroup without the COPY role.)
    let drift = run(&["drift"]);
    assert!(
        text(&drift).contains("    mwaa_requirements.mw  in sync\n"),
        "{}",
        text(&drift)
    );
}
