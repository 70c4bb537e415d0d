#![cfg(feature = "deploy")]
//! The deploy session against moto's server, as a newcomer meets it: parts
//! named like the stack's but made by hand (no tag) are never deleted,
//! enabled, linked or adopted; a plan lists everything `up` then writes to;
//! `down` plans before it deletes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use showcase_deploy::aws::Aws;
use showcase_deploy::config::{self, FunctionName, Vars};
use showcase_deploy::engine::{Action, Event, Plan};
use showcase_deploy::resources::function::Code;
use showcase_deploy::session::Session;
use showcase_testkit::MotoServer;

const STACK: &str = r#"
[stack]
name = "owner"
region = "us-east-1"

[lake]
bucket = "owner-lake"
"#;

fn quiet(_: Event) {}
fn no_plan(_: &Plan) {}

fn code(dir: &Path) -> BTreeMap<FunctionName, Code> {
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

async fn session(moto: &MotoServer, dir: &Path) -> Session {
    let stack = config::parse(STACK, Path::new("stack.toml"), &Vars::default()).unwrap();
    let aws = Aws::connect_with("us-east-1", moto.config_loader()).await;
    Session::new(aws, stack, code(dir))
}

/// The addresses a plan says `up` creates, updates or replaces.
fn announced(plan: &Plan) -> BTreeSet<String> {
    plan.changes
        .iter()
        .filter(|c| {
            matches!(
                c.action,
                Action::Create | Action::Update { .. } | Action::Replace { .. }
            )
        })
        .map(|c| c.address.to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hand_made_look_alikes_are_never_taken() {
    let moto = MotoServer::start();
    let dir = tempfile::tempdir().unwrap();
    let session = session(&moto, dir.path()).await;
    let hand = moto.sdk_config("us-east-1").await;
    let gateway = aws_sdk_apigateway::Client::new(&hand);
    // Before the first up: an untagged plan, a disabled key and an API, named as the stack names its own.
    let their_plan = gateway
        .create_usage_plan()
        .name("owner-data-api-plan")
        .send()
        .await
        .unwrap();
    let their_key = gateway
        .create_api_key()
        .name("owner-data-api-key")
        .enabled(false)
        .send()
        .await
        .unwrap();
    let their_api = gateway
        .create_rest_api()
        .name("owner-data-api")
        .send()
        .await
        .unwrap();

    session.up(false, &no_plan, &quiet).await.unwrap();

    // Theirs: all still there, unchanged and unlinked.
    let plans = gateway.get_usage_plans().send().await.unwrap();
    let theirs = plans
        .items()
        .iter()
        .find(|p| p.id() == their_plan.id())
        .expect("the hand-made usage plan was deleted");
    assert!(theirs.api_stages().is_empty(), "{theirs:?}");
    let linked = gateway
        .get_usage_plan_keys()
        .usage_plan_id(their_plan.id().unwrap())
        .send()
        .await
        .unwrap();
    assert!(linked.items().is_empty(), "a key was linked to their plan");
    let key = gateway
        .get_api_key()
        .api_key(their_key.id().unwrap())
        .send()
        .await
        .unwrap();
    assert!(!key.enabled(), "the hand-made key was enabled");
    let apis = gateway.get_rest_apis().send().await.unwrap();
    assert!(apis.items().iter().any(|a| a.id() == their_api.id()));

    // Ours: a key of its own, enabled, tagged, linked to the stack's plan, in SSM for the extractor.
    let keys = gateway
        .get_api_keys()
        .include_values(true)
        .send()
        .await
        .unwrap();
    let ours = keys
        .items()
        .iter()
        .find(|k| k.id() != their_key.id())
        .expect("the stack created no key of its own");
    assert!(ours.enabled());
    assert_eq!(ours.tags().unwrap()["showcase:stack"], "owner");
    let our_plan = plans
        .items()
        .iter()
        .find(|p| p.id() != their_plan.id())
        .expect("the stack created no usage plan");
    let our_links = gateway
        .get_usage_plan_keys()
        .usage_plan_id(our_plan.id().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(our_links.items().len(), 1);
    assert_eq!(our_links.items()[0].id(), ours.id());
    let ssm = aws_sdk_ssm::Client::new(&hand);
    let parameter = ssm
        .get_parameter()
        .name("/showcase/owner/data-api-key")
        .with_decryption(true)
        .send()
        .await
        .expect("the key's SSM parameter was not created");
    assert_eq!(parameter.parameter().unwrap().value(), ours.value());

    let drift = session.plan().await.unwrap();
    assert!(!drift.has_changes(), "{drift:#?}");

    // Tags AWS keeps for itself (CloudFormation's on an adopted resource) are
    // no drift: nobody could remove them.
    let lambda = aws_sdk_lambda::Client::new(&hand);
    let function = lambda
        .get_function()
        .function_name("owner-extractor")
        .send()
        .await
        .unwrap();
    let arn = function
        .configuration()
        .unwrap()
        .function_arn()
        .unwrap()
        .to_owned();
    lambda
        .tag_resource()
        .resource(&arn)
        .tags("aws:cloudformation:stack-name", "showcase-data-pipeline")
        .send()
        .await
        .unwrap();
    let tagged = lambda.list_tags().resource(&arn).send().await.unwrap();
    assert!(
        tagged
            .tags()
            .unwrap()
            .contains_key("aws:cloudformation:stack-name")
    );
    let drift = session.plan().await.unwrap();
    assert!(!drift.has_changes(), "aws: tags are drift: {drift:#?}");

    // down removes ours and leaves theirs.
    let (prepared, plan) = session.down_plan().await.unwrap();
    session.down(&prepared, &plan, true, &quiet).await.unwrap();
    let plans = gateway.get_usage_plans().send().await.unwrap();
    assert_eq!(plans.items().len(), 1);
    assert_eq!(plans.items()[0].id(), their_plan.id());
    let keys = gateway.get_api_keys().send().await.unwrap();
    assert_eq!(keys.items().len(), 1);
    assert_eq!(keys.items()[0].id(), their_key.id());
    let apis = gateway.get_rest_apis().send().await.unwrap();
    assert_eq!(apis.items().len(), 1);
    assert_eq!(apis.items()[0].id(), their_api.id());
}

/// A fresh stack's plan lists every resource `up` then writes to, values that
/// exist only afterwards shown as known after apply; nothing else is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_lists_everything_up_writes() {
    let moto = MotoServer::start();
    let dir = tempfile::tempdir().unwrap();
    let session = session(&moto, dir.path()).await;

    let plan = session.plan().await.unwrap();
    let parameter = plan
        .changes
        .iter()
        .find(|c| c.address.kind == "api_key_parameter")
        .expect("the plan does not show the key's parameter");
    assert_eq!(parameter.action, Action::Create);
    assert_eq!(parameter.known_after_apply, ["value"]);
    let extractor = plan
        .changes
        .iter()
        .find(|c| c.address.to_string() == "function.owner-extractor")
        .unwrap();
    assert_eq!(extractor.known_after_apply, ["environment"]);
    let text = showcase_deploy::report::plan_text(&plan);
    assert!(
        text.contains("function.owner-extractor  create (environment known after apply)"),
        "{text}"
    );

    session.aws.requests.clear();
    session.up(false, &no_plan, &quiet).await.unwrap();
    let written: BTreeSet<String> = session
        .aws
        .requests
        .mutating()
        .into_iter()
        .map(|r| {
            r.resource
                .unwrap_or_else(|| panic!("{} sent outside any resource", r.operation))
        })
        // The stack's lock is taken and given back around the changes.
        .filter(|resource| resource != "lock./showcase/owner/lock")
        .collect();
    assert_eq!(written, announced(&plan));

    // A second plan: nothing left, and no value waits any more.
    let again = session.plan().await.unwrap();
    assert!(!again.has_changes(), "{again:#?}");
    assert!(!again.has_deferred());
}

/// `down` says before it asks what it deletes and what it keeps; then does
/// exactly that.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn down_plans_before_it_deletes() {
    let moto = MotoServer::start();
    let dir = tempfile::tempdir().unwrap();
    let session = session(&moto, dir.path()).await;
    session.up(false, &no_plan, &quiet).await.unwrap();

    let (prepared, plan) = session.down_plan().await.unwrap();
    let text = showcase_deploy::report::down_plan_text(&plan, false);
    assert!(
        text.contains("lake_bucket.owner-lake  kept: holds data"),
        "{text}"
    );
    assert!(
        text.contains("  - function.owner-extractor  delete"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "Down: {} to delete, 1 kept.",
            plan.changes.len() - 1
        )),
        "{text}"
    );
    session.aws.requests.clear();
    session.down(&prepared, &plan, false, &quiet).await.unwrap();
    let deleted: BTreeSet<String> = session
        .aws
        .requests
        .mutating()
        .into_iter()
        .filter_map(|r| r.resource)
        .filter(|resource| resource != "lock./showcase/owner/lock")
        .collect();
    let expected: BTreeSet<String> = plan
        .changes
        .iter()
        .filter(|c| c.address.kind != "lake_bucket")
        .map(|c| c.address.to_string())
        .collect();
    assert_eq!(deleted, expected);
}

/// Each kind finds its own: a role of another kind named like a function's
/// role (`<stack>-…-role`) and a bucket of another kind, both carrying the
/// stack's tag, are neither pruned by `up` nor deleted by `down`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_kind_of_the_same_aws_type_is_never_a_leftover() {
    let moto = MotoServer::start();
    let dir = tempfile::tempdir().unwrap();
    let session = session(&moto, dir.path()).await;
    let hand = moto.sdk_config("us-east-1").await;
    let iam = aws_sdk_iam::Client::new(&hand);
    let s3 = aws_sdk_s3::Client::new(&hand);
    let iam_tag = |k: &str, v: &str| {
        aws_sdk_iam::types::Tag::builder()
            .key(k)
            .value(v)
            .build()
            .unwrap()
    };
    iam.create_role()
        .role_name("owner-scheduler-role")
        .assume_role_policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"redshift.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#)
        .tags(iam_tag("showcase:stack", "owner"))
        .tags(iam_tag("showcase:kind", "scheduler_role"))
        .send()
        .await
        .unwrap();
    s3.create_bucket()
        .bucket("owner-dags")
        .send()
        .await
        .unwrap();
    let s3_tag = |k: &str, v: &str| {
        aws_sdk_s3::types::Tag::builder()
            .key(k)
            .value(v)
            .build()
            .unwrap()
    };
    s3.put_bucket_tagging()
        .bucket("owner-dags")
        .tagging(
            aws_sdk_s3::types::Tagging::builder()
                .tag_set(s3_tag("showcase:stack", "owner"))
                .tag_set(s3_tag("showcase:kind", "dag_bucket"))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    session.up(true, &no_plan, &quiet).await.unwrap();
    let drift = session.plan().await.unwrap();
    assert!(!drift.has_changes(), "{drift:#?}");
    let (prepared, plan) = session.down_plan().await.unwrap();
    assert!(
        plan.changes
            .iter()
            .all(|c| !c.address.name.contains("scheduler") && c.address.name != "owner-dags"),
        "{plan:#?}"
    );
    session.down(&prepared, &plan, true, &quiet).await.unwrap();
    iam.get_role()
        .role_name("owner-scheduler-role")
        .send()
        .await
        .expect("the other kind's role was deleted");
    s3.head_bucket()
        .bucket("owner-dags")
        .send()
        .await
        .expect("the other kind's bucket was deleted");
    // The stack's own are gone.
    assert!(
        iam.get_role()
            .role_name("owner-extractor-role")
            .send()
            .await
            .is_err()
    );
}

/// A resource that holds data and must be replaced to change: the engine's
/// data rule, whatever the kind (the warehouse will be one).
mod data_rule {
    use std::sync::{Arc, Mutex};

    use futures_util::future::BoxFuture;
    use showcase_deploy::engine::{self, EngineError};
    use showcase_deploy::resources::{
        Address, Deleted, FieldChange, FieldSpec, FieldValue, Fields, Handle, Live, Owned,
        Resource, ResourceError,
    };

    use super::*;

    /// A cluster-like resource: its node type can only change by replacement.
    struct Warehouse {
        calls: Arc<Mutex<Vec<String>>>,
    }

    const FIELDS: &[FieldSpec] = &[FieldSpec::replace("node_type")];

    impl Owned for Warehouse {
        fn address(&self) -> Address {
            Address {
                kind: "warehouse",
                name: "w".into(),
            }
        }
        fn holds_data(&self) -> bool {
            true
        }
        fn read<'a>(&'a self, _: &'a Aws) -> BoxFuture<'a, Result<Option<Live>, ResourceError>> {
            let fields: Fields = [("node_type", FieldValue::Text("small".into()))].into();
            Box::pin(async move { Ok(Some(Live::ours(fields, Handle::default()))) })
        }
        fn delete<'a>(
            &'a self,
            _: &'a Aws,
            _: &'a Live,
            delete_data: bool,
        ) -> BoxFuture<'a, Result<Deleted, ResourceError>> {
            self.calls
                .lock()
                .unwrap()
                .push(format!("delete {delete_data}"));
            Box::pin(async move {
                Ok(if delete_data {
                    Deleted::Deleted
                } else {
                    Deleted::KeptData
                })
            })
        }
    }

    impl Resource for Warehouse {
        fn id(&self) -> &dyn Owned {
            self
        }
        fn fields(&self) -> &'static [FieldSpec] {
            FIELDS
        }
        fn desired(&self) -> Fields {
            [("node_type", FieldValue::Text("large".into()))].into()
        }
        fn create<'a>(&'a self, _: &'a Aws) -> BoxFuture<'a, Result<(), ResourceError>> {
            self.calls.lock().unwrap().push("create".into());
            Box::pin(async { Ok(()) })
        }
        fn update<'a>(
            &'a self,
            _: &'a Aws,
            _: &'a Live,
            _: &'a [FieldChange],
        ) -> BoxFuture<'a, Result<(), ResourceError>> {
            Box::pin(async { Ok(()) })
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn replacing_what_holds_data_needs_delete_data_and_the_plan_says_so() {
        let moto = MotoServer::start();
        let aws = Aws::connect_with("us-east-1", moto.config_loader()).await;
        let calls = Arc::new(Mutex::new(Vec::new()));
        let declared: Vec<Box<dyn Resource>> = vec![Box::new(Warehouse {
            calls: Arc::clone(&calls),
        })];
        let plan = engine::plan(&aws, &declared, &[]).await.unwrap();
        let text = showcase_deploy::report::plan_text(&plan);
        assert!(
            text.contains("± warehouse.w  replace: deletes data, refused without --delete-data"),
            "{text}"
        );
        let refused = engine::apply(&aws, &declared, &[], &plan, engine::Consent::NONE, &|_| {})
            .await
            .unwrap_err();
        assert!(
            matches!(refused, EngineError::WouldDeleteData(_)),
            "{refused}"
        );
        assert!(refused.to_string().contains("warehouse.w"), "{refused}");
        assert!(calls.lock().unwrap().is_empty(), "touched before refusing");
        engine::apply(
            &aws,
            &declared,
            &[],
            &plan,
            engine::Consent::DELETE_DATA,
            &|_| {},
        )
        .await
        .unwrap();
        assert_eq!(*calls.lock().unwrap(), ["delete true", "create"]);
    }
}

/// Every listing pages to the end: with API Gateway answering two items a
/// page and the stack's API, key and plan behind others' on later pages, the
/// stack is still found whole (a read that stopped at the first page would
/// plan to create them again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_listing_pages_to_the_end() {
    let moto = MotoServer::start();
    let dir = tempfile::tempdir().unwrap();
    let session = session(&moto, dir.path()).await;
    let hand = moto.sdk_config("us-east-1").await;
    let gateway = aws_sdk_apigateway::Client::new(&hand);
    for i in 0..5 {
        gateway
            .create_rest_api()
            .name(format!("someone-else-{i}"))
            .send()
            .await
            .unwrap();
        gateway
            .create_api_key()
            .name("owner-data-api-key")
            .send()
            .await
            .unwrap();
        gateway
            .create_usage_plan()
            .name("owner-data-api-plan")
            .send()
            .await
            .unwrap();
    }
    moto.page_api_gateway_listings(2);
    session.up(false, &no_plan, &quiet).await.unwrap();
    let drift = session.plan().await.unwrap();
    assert!(!drift.has_changes(), "{drift:#?}");
    // The front really pages: a listing gives two items at a time.
    let plans = gateway.get_usage_plans().limit(500).send().await.unwrap();
    assert_eq!(plans.items().len(), 2, "a page of two");
}
