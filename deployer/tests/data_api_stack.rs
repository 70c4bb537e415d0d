#![cfg(feature = "deploy")]
//! The data API in the stack, against moto's server: routes that need an API
//! key and proxy to the function, stage throttling, key and usage plan;
//! changes made by hand found as drift and repaired; a route removed from
//! stack.toml removed from the API; down removes API, key and plan.

use std::path::Path;

use aws_sdk_apigateway::types::{Op, PatchOperation};
use showcase_deploy::aws::Aws;
use showcase_deploy::config::{self, FunctionName, Vars};
use showcase_deploy::engine::{self, Action};
use showcase_deploy::resources::Resource;
use showcase_deploy::resources::function::Code;
use showcase_deploy::stack::Context;
use showcase_testkit::MotoServer;

const STACK: &str = r#"
[stack]
name = "apis"
region = "us-east-1"

[lake]
bucket = "apis-lake"

[api]
stage = "prod"
routes = ["/sales", "/products", "/customers"]
rate_limit = 25
burst_limit = 50
quota_limit = 5000
quota_period = "DAY"
"#;

fn quiet(_: engine::Event) {}

async fn setup(moto: &MotoServer, dir: &Path) -> (Aws, Context, aws_config::SdkConfig) {
    let aws = Aws::connect_with("us-east-1", moto.config_loader()).await;
    let code = FunctionName::ALL
        .into_iter()
        .map(|f| {
            let zip = showcase_deploy::build::bootstrap_zip(f.as_str().as_bytes()).unwrap();
            let path = dir.join(format!("{}.zip", f.as_str()));
            std::fs::write(&path, &zip).unwrap();
            (
                f,
                Code {
                    zip: path,
                    sha256: showcase_deploy::build::code_sha256(&zip),
                },
            )
        })
        .collect();
    let context = Context {
        account: aws.account_id().await.unwrap(),
        code,
        api_url: None,
        api_key: None,
        dag: None,
    };
    let hand = moto.sdk_config("us-east-1").await;
    (aws, context, hand)
}

fn resources(text: &str, context: &Context) -> Vec<Box<dyn Resource>> {
    let stack = config::parse(text, Path::new("stack.toml"), &Vars::default()).unwrap();
    showcase_deploy::stack::resources(&stack, context)
}

async fn up(aws: &Aws, resources: &[Box<dyn Resource>]) -> engine::Plan {
    let plan = engine::plan(aws, resources, &[]).await.unwrap();
    engine::apply(aws, resources, &[], &plan, engine::Consent::NONE, &quiet)
        .await
        .unwrap();
    plan
}

fn api_changes(plan: &engine::Plan) -> Vec<&'static str> {
    plan.changes
        .iter()
        .filter(|c| c.address.kind == "data_api")
        .flat_map(|c| match &c.action {
            Action::Update { fields } => fields.iter().map(|f| f.field).collect(),
            Action::Create => vec!["(create)"],
            _ => Vec::new(),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_api_lifecycle() {
    let moto = MotoServer::start();
    let dir = tempfile::tempdir().unwrap();
    let (aws, context, hand) = setup(&moto, dir.path()).await;
    let gateway = aws_sdk_apigateway::Client::new(&hand);
    let lambda = aws_sdk_lambda::Client::new(&hand);
    let all = resources(STACK, &context);
    assert_eq!(api_changes(&up(&aws, &all).await), ["(create)"]);

    let apis = gateway.get_rest_apis().send().await.unwrap();
    let api = apis
        .items()
        .iter()
        .find(|a| a.name() == Some("apis-data-api"))
        .unwrap();
    let api_id = api.id().unwrap().to_owned();
    assert_eq!(api.tags().unwrap()["showcase:stack"], "apis");
    let routes = gateway
        .get_resources()
        .rest_api_id(&api_id)
        .send()
        .await
        .unwrap();
    let mut paths: Vec<&str> = routes.items().iter().filter_map(|r| r.path()).collect();
    paths.sort();
    assert_eq!(paths, ["/", "/customers", "/products", "/sales"]);
    for route in routes.items().iter().filter(|r| r.path() != Some("/")) {
        let method = gateway
            .get_method()
            .rest_api_id(&api_id)
            .resource_id(route.id().unwrap())
            .http_method("GET")
            .send()
            .await
            .unwrap();
        assert_eq!(method.api_key_required(), Some(true), "{:?}", route.path());
        let integration = method.method_integration().unwrap();
        assert_eq!(integration.r#type().map(|t| t.as_str()), Some("AWS_PROXY"));
        assert!(
            integration
                .uri()
                .unwrap()
                .ends_with("function:apis-data-api/invocations")
        );
    }
    let stage = gateway
        .get_stage()
        .rest_api_id(&api_id)
        .stage_name("prod")
        .send()
        .await
        .unwrap();
    let throttle = &stage.method_settings().unwrap()["*/*"];
    assert_eq!(
        (
            throttle.throttling_rate_limit(),
            throttle.throttling_burst_limit()
        ),
        (25.0, 50)
    );
    let policy = lambda
        .get_policy()
        .function_name("apis-data-api")
        .send()
        .await
        .unwrap();
    assert!(
        policy
            .policy()
            .unwrap()
            .contains(&format!(":{api_id}/*/GET/*")),
        "invoke permission scoped to this API"
    );
    let plans = gateway.get_usage_plans().send().await.unwrap();
    let plan = plans
        .items()
        .iter()
        .find(|p| p.name() == Some("apis-data-api-plan"))
        .unwrap();
    assert_eq!(plan.quota().map(|q| q.limit()), Some(5000));
    assert_eq!(plan.throttle().map(|t| t.rate_limit()), Some(25.0));
    let keys = gateway
        .get_usage_plan_keys()
        .usage_plan_id(plan.id().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(keys.items().len(), 1);

    // No-op: reads only.
    aws.requests.clear();
    assert!(!up(&aws, &all).await.has_changes());
    assert!(
        aws.requests.mutating().is_empty(),
        "{:?}",
        aws.requests.mutating()
    );

    // By hand: a route deleted, the stage throttling raised, the key disabled.
    let sales = routes
        .items()
        .iter()
        .find(|r| r.path() == Some("/sales"))
        .unwrap()
        .id()
        .unwrap();
    gateway
        .delete_resource()
        .rest_api_id(&api_id)
        .resource_id(sales)
        .send()
        .await
        .unwrap();
    gateway
        .update_stage()
        .rest_api_id(&api_id)
        .stage_name("prod")
        .patch_operations(
            PatchOperation::builder()
                .op(Op::Replace)
                .path("/*/*/throttling/rateLimit")
                .value("1000")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let key = gateway
        .get_api_keys()
        .name_query("apis-data-api-key")
        .send()
        .await
        .unwrap();
    let key_id = key.items()[0].id().unwrap();
    gateway
        .update_api_key()
        .api_key(key_id)
        .patch_operations(
            PatchOperation::builder()
                .op(Op::Replace)
                .path("/enabled")
                .value("false")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let drift = engine::plan(&aws, &all, &[]).await.unwrap();
    assert_eq!(api_changes(&drift), ["api_key", "routes", "stage"]);
    up(&aws, &all).await;
    assert!(
        !engine::plan(&aws, &all, &[]).await.unwrap().has_changes(),
        "up repaired the API"
    );

    // A route removed from stack.toml is removed from the API, and only that changes.
    let fewer = STACK.replace(
        r#"routes = ["/sales", "/products", "/customers"]"#,
        r#"routes = ["/sales", "/products"]"#,
    );
    let fewer = resources(&fewer, &context);
    assert_eq!(
        api_changes(&engine::plan(&aws, &fewer, &[]).await.unwrap()),
        ["routes"]
    );
    up(&aws, &fewer).await;
    let routes = gateway
        .get_resources()
        .rest_api_id(&api_id)
        .send()
        .await
        .unwrap();
    assert!(
        !routes
            .items()
            .iter()
            .any(|r| r.path() == Some("/customers"))
    );

    // Down removes the API, its key and its plan.
    engine::destroy(&aws, &fewer, &[], false, &quiet)
        .await
        .unwrap();
    assert!(
        gateway
            .get_rest_apis()
            .send()
            .await
            .unwrap()
            .items()
            .is_empty()
    );
    assert!(
        gateway
            .get_api_keys()
            .send()
            .await
            .unwrap()
            .items()
            .is_empty()
    );
    assert!(
        gateway
            .get_usage_plans()
            .send()
            .await
            .unwrap()
            .items()
            .is_empty()
    );
}

/// Two `up`s run at once can each create the API, its key and its plan (API
/// Gateway names need not be unique): drift reports the copies, up deletes
/// them, and a same-named API without the stack's tag is left alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copies_left_by_concurrent_ups_are_found_and_removed() {
    let moto = MotoServer::start();
    let dir = tempfile::tempdir().unwrap();
    let (aws, context, hand) = setup(&moto, dir.path()).await;
    let gateway = aws_sdk_apigateway::Client::new(&hand);
    let all = resources(STACK, &context);
    up(&aws, &all).await;
    let ours = || [("showcase:stack".to_owned(), "apis".to_owned())].into();
    // Creation dates have a resolution of seconds: the copies come a second later.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    let copy = gateway
        .create_rest_api()
        .name("apis-data-api")
        .set_tags(Some(ours()))
        .send()
        .await
        .unwrap();
    let foreign = gateway
        .create_rest_api()
        .name("apis-data-api")
        .send()
        .await
        .unwrap();
    let key_copy = gateway
        .create_api_key()
        .name("apis-data-api-key")
        .enabled(true)
        .set_tags(Some(ours()))
        .send()
        .await
        .unwrap();
    gateway
        .create_usage_plan()
        .name("apis-data-api-plan")
        .set_tags(Some(ours()))
        .send()
        .await
        .unwrap();

    let drift = engine::plan(&aws, &all, &[]).await.unwrap();
    let copies = drift
        .changes
        .iter()
        .find_map(|c| match &c.action {
            Action::Update { fields } => fields.iter().find(|f| f.field == "copies").cloned(),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no copies reported: {drift:?}"));
    assert_eq!(
        copies.live.unwrap().display(),
        r#"{"api_keys":1,"rest_apis":1,"usage_plans":1}"#
    );

    up(&aws, &all).await;
    assert!(!engine::plan(&aws, &all, &[]).await.unwrap().has_changes());
    let apis = gateway.get_rest_apis().send().await.unwrap();
    let mut ids: Vec<&str> = apis.items().iter().filter_map(|a| a.id()).collect();
    ids.sort_unstable();
    assert_eq!(ids.len(), 2, "the one in use and the foreign one");
    assert!(ids.contains(&foreign.id().unwrap()));
    assert!(!ids.contains(&copy.id().unwrap()));
    let keys = gateway.get_api_keys().send().await.unwrap();
    assert_eq!(keys.items().len(), 1);
    assert_ne!(keys.items()[0].id(), key_copy.id());
    let plans = gateway.get_usage_plans().send().await.unwrap();
    assert_eq!(plans.items().len(), 1);
}

/// What a colleague with console access could open up on the API, beyond
/// what stack.toml names: a resource policy, a second stage (without the
/// stage's throttling), a route switched to another authorization. Each is
/// drift, and up takes it back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_opened_by_hand_is_drift_and_up_closes_it() {
    let moto = MotoServer::start();
    let dir = tempfile::tempdir().unwrap();
    let (aws, context, hand) = setup(&moto, dir.path()).await;
    let gateway = aws_sdk_apigateway::Client::new(&hand);
    let all = resources(STACK, &context);
    up(&aws, &all).await;
    let apis = gateway.get_rest_apis().send().await.unwrap();
    let api_id = apis.items()[0].id().unwrap().to_owned();

    gateway
        .update_rest_api()
        .rest_api_id(&api_id)
        .patch_operations(
            PatchOperation::builder()
                .op(Op::Replace)
                .path("/policy")
                .value(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"*"}]}"#)
                .build(),
        )
        .send()
        .await
        .unwrap();
    gateway
        .create_deployment()
        .rest_api_id(&api_id)
        .stage_name("open")
        .send()
        .await
        .unwrap();
    let resources = gateway
        .get_resources()
        .rest_api_id(&api_id)
        .send()
        .await
        .unwrap();
    let sales = resources
        .items()
        .iter()
        .find(|r| r.path() == Some("/sales"))
        .and_then(|r| r.id())
        .unwrap()
        .to_owned();
    gateway
        .delete_method()
        .rest_api_id(&api_id)
        .resource_id(&sales)
        .http_method("GET")
        .send()
        .await
        .unwrap();
    gateway
        .put_method()
        .rest_api_id(&api_id)
        .resource_id(&sales)
        .http_method("GET")
        .authorization_type("AWS_IAM")
        .api_key_required(true)
        .send()
        .await
        .unwrap();

    let drift = engine::plan(&aws, &all, &[]).await.unwrap();
    let mut changed = api_changes(&drift);
    changed.sort_unstable();
    assert_eq!(
        changed,
        ["resource_policy", "routes", "stages"],
        "{drift:#?}"
    );

    up(&aws, &all).await;
    let again = engine::plan(&aws, &all, &[]).await.unwrap();
    assert!(!again.has_changes(), "{again:#?}");
    let stages = gateway
        .get_stages()
        .rest_api_id(&api_id)
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = stages
        .item()
        .iter()
        .filter_map(|s| s.stage_name())
        .collect();
    assert_eq!(names, ["prod"]);
}
