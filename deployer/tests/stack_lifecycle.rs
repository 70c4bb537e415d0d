#![cfg(feature = "deploy")]
//! The deploy engine against moto's server: up from nothing, a no-op second up
//! with zero mutating requests, a change to stack.toml, changes made by hand
//! found by drift and repaired by up, a foreign bucket refused, and down.

use std::path::Path;

use showcase_deploy::aws::Aws;
use showcase_deploy::config::{self, Stack, Vars};
use showcase_deploy::engine::{self, Action, DestroyOutcome, EngineError};
use showcase_deploy::resources::Resource;
use showcase_deploy::resources::function::Code;
use showcase_deploy::stack::Context;
use showcase_testkit::MotoServer;

const STACK: &str = r#"
[stack]
name = "lifecycle"
region = "eu-west-1"
tags = { team = "data" }

[lake]
bucket = "${var.bucket}"
"#;

fn stack(text: &str, bucket: &str) -> Stack {
    config::parse(
        text,
        Path::new("stack.toml"),
        &Vars::default().with("bucket", bucket),
    )
    .unwrap()
}

async fn aws(moto: &MotoServer) -> Aws {
    Aws::connect_with("eu-west-1", moto.config_loader()).await
}

async fn hand_config(moto: &MotoServer) -> aws_config::SdkConfig {
    moto.sdk_config("eu-west-1").await
}

async fn s3(moto: &MotoServer) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::new(&hand_config(moto).await)
}

fn quiet(_: engine::Event) {}

/// Stand-in zips: the engine only cares about bytes and their hash.
fn fake_code(dir: &Path, label: &str) -> std::collections::BTreeMap<config::FunctionName, Code> {
    config::FunctionName::ALL
        .into_iter()
        .map(|function| {
            let zip = showcase_deploy::build::bootstrap_zip(
                format!("{label} {}", function.as_str()).as_bytes(),
            )
            .unwrap();
            let path = dir.join(format!("{label}-{}.zip", function.as_str()));
            std::fs::write(&path, &zip).unwrap();
            (
                function,
                Code {
                    zip: path,
                    sha256: showcase_deploy::build::code_sha256(&zip),
                },
            )
        })
        .collect()
}

async fn context(aws: &Aws, dir: &Path, label: &str) -> Context {
    Context {
        account: aws.account_id().await.unwrap(),
        code: fake_code(dir, label),
        api_url: None,
        api_key: None,
        dag: None,
    }
}

async fn up(aws: &Aws, resources: &[Box<dyn Resource>]) -> engine::Plan {
    let plan = engine::plan(aws, resources, &[]).await.unwrap();
    engine::apply(aws, resources, &[], &plan, engine::Consent::NONE, &quiet)
        .await
        .unwrap();
    plan
}

/// What `down` did to the lake bucket.
fn bucket_outcome(
    outcomes: &[(showcase_deploy::resources::Address, DestroyOutcome)],
) -> DestroyOutcome {
    outcomes
        .iter()
        .find(|(a, _)| a.kind == "lake_bucket")
        .map(|(_, o)| o.clone())
        .unwrap()
}

fn changed_fields(plan: &engine::Plan) -> Vec<&'static str> {
    plan.changes
        .iter()
        .flat_map(|c| match &c.action {
            Action::Update { fields } | Action::Replace { fields, .. } => {
                fields.iter().map(|f| f.field).collect()
            }
            _ => Vec::new(),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lake_bucket_lifecycle() {
    let moto = MotoServer::start();
    let aws = aws(&moto).await;
    let hand = s3(&moto).await;
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(&aws, dir.path(), "v1").await;
    let bucket = "lifecycle-lake";
    let resources = showcase_deploy::stack::resources(&stack(STACK, bucket), &ctx);

    // Up from nothing creates the bucket with every declared setting.
    let first = up(&aws, &resources).await;
    assert!(
        matches!(first.changes[0].action, Action::Create),
        "{first:?}"
    );
    let versioning = hand
        .get_bucket_versioning()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(versioning.status().map(|s| s.as_str()), Some("Enabled"));
    let encryption = hand
        .get_bucket_encryption()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    let rule = &encryption
        .server_side_encryption_configuration()
        .unwrap()
        .rules()[0];
    assert_eq!(
        rule.apply_server_side_encryption_by_default()
            .unwrap()
            .sse_algorithm()
            .as_str(),
        "AES256"
    );
    let access = hand
        .get_public_access_block()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    let access = access.public_access_block_configuration().unwrap();
    assert_eq!(
        (
            access.block_public_acls(),
            access.ignore_public_acls(),
            access.block_public_policy(),
            access.restrict_public_buckets()
        ),
        (Some(true), Some(true), Some(true), Some(true))
    );
    let policy = hand
        .get_bucket_policy()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    assert!(policy.policy().unwrap().contains("aws:SecureTransport"));
    let tags = hand
        .get_bucket_tagging()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    let tags: Vec<(&str, &str)> = tags
        .tag_set()
        .iter()
        .map(|t| (t.key(), t.value()))
        .collect();
    assert!(
        tags.contains(&("showcase:stack", "lifecycle")) && tags.contains(&("team", "data")),
        "{tags:?}"
    );

    // A second up changes nothing and sends read requests only.
    aws.requests.clear();
    let second = up(&aws, &resources).await;
    assert!(!second.has_changes(), "{second:?}");
    assert!(
        aws.requests.mutating().is_empty(),
        "mutating requests on a no-op up: {:?}",
        aws.requests.mutating()
    );
    assert!(!aws.requests.all().is_empty());

    // One change in stack.toml gives exactly that diff and that update.
    let with_rule = format!("{STACK}lifecycle = [{{ abort_incomplete_upload_days = 3 }}]\n");
    let changed = showcase_deploy::stack::resources(&stack(&with_rule, bucket), &ctx);
    let plan = engine::plan(&aws, &changed, &[]).await.unwrap();
    assert_eq!(changed_fields(&plan), ["lifecycle"]);
    aws.requests.clear();
    engine::apply(&aws, &changed, &[], &plan, engine::Consent::NONE, &quiet)
        .await
        .unwrap();
    let writes: Vec<String> = aws
        .requests
        .mutating()
        .into_iter()
        .map(|r| r.operation)
        .collect();
    assert_eq!(writes, ["PutBucketLifecycleConfiguration"]);
    assert!(
        !engine::plan(&aws, &changed, &[])
            .await
            .unwrap()
            .has_changes()
    );

    // Changes made by hand are drift, field by field; up repairs them.
    hand.delete_bucket_encryption()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    hand.put_bucket_policy().bucket(bucket).policy(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:DeleteBucket","Resource":"arn:aws:s3:::lifecycle-lake"}]}"#).send().await.unwrap();
    hand.delete_public_access_block()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    let drift = engine::plan(&aws, &changed, &[]).await.unwrap();
    assert_eq!(
        changed_fields(&drift),
        ["encryption", "policy", "public_access_block"]
    );
    up(&aws, &changed).await;
    assert!(
        !engine::plan(&aws, &changed, &[])
            .await
            .unwrap()
            .has_changes(),
        "up repaired the drift"
    );

    // Down keeps the data unless asked; with --delete-data it empties every version.
    let kept = engine::destroy(&aws, &changed, &[], false, &quiet)
        .await
        .unwrap();
    assert_eq!(bucket_outcome(&kept), DestroyOutcome::Kept);
    assert!(hand.head_bucket().bucket(bucket).send().await.is_ok());
    // moto refuses object writes under a Deny policy (a real bucket would take TLS writes).
    hand.delete_bucket_policy()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    for body in ["one", "two"] {
        hand.put_object()
            .bucket(bucket)
            .key("raw/2024-01-01/sales.parquet")
            .body(body.as_bytes().to_vec().into())
            .send()
            .await
            .unwrap();
    }
    let deleted = engine::destroy(&aws, &changed, &[], true, &quiet)
        .await
        .unwrap();
    assert_eq!(bucket_outcome(&deleted), DestroyOutcome::Deleted);
    assert!(
        hand.head_bucket().bucket(bucket).send().await.is_err(),
        "the bucket is gone"
    );
    let again = engine::destroy(&aws, &changed, &[], true, &quiet)
        .await
        .unwrap();
    assert!(
        again.iter().all(|(_, o)| *o == DestroyOutcome::Absent),
        "a second down is a no-op: {again:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bucket_of_the_same_name_without_the_tag_is_refused_and_untouched() {
    let moto = MotoServer::start();
    let aws = aws(&moto).await;
    let hand = s3(&moto).await;
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(&aws, dir.path(), "v1").await;
    let bucket = "someone-elses-lake";
    let location = aws_sdk_s3::types::CreateBucketConfiguration::builder()
        .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
        .build();
    hand.create_bucket()
        .bucket(bucket)
        .create_bucket_configuration(location)
        .send()
        .await
        .unwrap();
    let resources = showcase_deploy::stack::resources(&stack(STACK, bucket), &ctx);
    let plan = engine::plan(&aws, &resources, &[]).await.unwrap();
    assert!(
        matches!(&plan.changes[0].action, Action::Refuse { reason } if reason.contains("without the showcase:stack tag")),
        "{plan:?}"
    );
    aws.requests.clear();
    let error = engine::apply(&aws, &resources, &[], &plan, engine::Consent::NONE, &quiet)
        .await
        .unwrap_err();
    assert!(matches!(error, EngineError::Refused(_)), "{error}");
    assert!(error.to_string().contains(bucket), "{error}");
    assert!(aws.requests.all().is_empty(), "nothing was sent");
    let destroyed = engine::destroy(&aws, &resources, &[], true, &quiet)
        .await
        .unwrap();
    assert_eq!(bucket_outcome(&destroyed), DestroyOutcome::NotOurs);
    assert!(
        hand.get_bucket_tagging()
            .bucket(bucket)
            .send()
            .await
            .is_err(),
        "still untagged"
    );
    assert!(
        hand.get_bucket_policy()
            .bucket(bucket)
            .send()
            .await
            .is_err(),
        "still without our policy"
    );
    assert!(
        hand.head_bucket().bucket(bucket).send().await.is_ok(),
        "still there"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_and_log_groups_are_least_privilege_found_when_edited_and_repaired() {
    let moto = MotoServer::start();
    let aws = aws(&moto).await;
    let config = hand_config(&moto).await;
    let iam = aws_sdk_iam::Client::new(&config);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    let dir = tempfile::tempdir().unwrap();
    let resources = showcase_deploy::stack::resources(
        &stack(STACK, "roles-lake"),
        &context(&aws, dir.path(), "v1").await,
    );
    up(&aws, &resources).await;

    let role = iam
        .get_role()
        .role_name("lifecycle-extractor-role")
        .send()
        .await
        .unwrap();
    let role = role.role().unwrap();
    assert!(
        role.tags()
            .iter()
            .any(|t| t.key() == "showcase:stack" && t.value() == "lifecycle")
    );
    let inline = iam
        .get_role_policy()
        .role_name("lifecycle-extractor-role")
        .policy_name("least-privilege")
        .send()
        .await
        .unwrap();
    let document = percent_encoding::percent_decode_str(inline.policy_document())
        .decode_utf8_lossy()
        .into_owned();
    assert!(
        document.contains("arn:aws:s3:::roles-lake/*") && document.contains("s3:PutObject"),
        "{document}"
    );
    assert!(
        !document.contains("s3:GetObject") && !document.contains("s3:DeleteObject"),
        "{document}"
    );
    let api_policy = iam
        .get_role_policy()
        .role_name("lifecycle-data-api-role")
        .policy_name("least-privilege")
        .send()
        .await
        .unwrap();
    assert!(
        !api_policy.policy_document().contains("s3"),
        "the API function has no lake access"
    );
    let groups = logs
        .describe_log_groups()
        .log_group_name_prefix("/aws/lambda/lifecycle-")
        .send()
        .await
        .unwrap();
    let retention: Vec<(String, Option<i32>)> = groups
        .log_groups()
        .iter()
        .map(|g| {
            (
                g.log_group_name().unwrap().to_owned(),
                g.retention_in_days(),
            )
        })
        .collect();
    assert_eq!(
        retention,
        [
            ("/aws/lambda/lifecycle-data-api".into(), Some(14)),
            ("/aws/lambda/lifecycle-extractor".into(), Some(14))
        ]
    );

    // A wider policy and a shorter retention, set by hand, are drift.
    let wide = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
    iam.put_role_policy()
        .role_name("lifecycle-extractor-role")
        .policy_name("least-privilege")
        .policy_document(wide)
        .send()
        .await
        .unwrap();
    logs.put_retention_policy()
        .log_group_name("/aws/lambda/lifecycle-data-api")
        .retention_in_days(1)
        .send()
        .await
        .unwrap();
    let drift = engine::plan(&aws, &resources, &[]).await.unwrap();
    let drifted: Vec<(String, Vec<&str>)> = drift
        .changes
        .iter()
        .filter_map(|c| match &c.action {
            Action::Update { fields } => Some((
                c.address.to_string(),
                fields.iter().map(|f| f.field).collect(),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        drifted,
        [
            (
                "log_group./aws/lambda/lifecycle-data-api".to_string(),
                vec!["retention_days"]
            ),
            (
                "function_role.lifecycle-extractor-role".to_string(),
                vec!["policy"]
            ),
        ]
    );
    up(&aws, &resources).await;
    assert!(
        !engine::plan(&aws, &resources, &[])
            .await
            .unwrap()
            .has_changes()
    );

    // A role deleted by hand is found missing and recreated.
    iam.delete_role_policy()
        .role_name("lifecycle-data-api-role")
        .policy_name("least-privilege")
        .send()
        .await
        .unwrap();
    iam.delete_role()
        .role_name("lifecycle-data-api-role")
        .send()
        .await
        .unwrap();
    let missing = engine::plan(&aws, &resources, &[]).await.unwrap();
    assert!(missing.changes.iter().any(|c| c.address.to_string()
        == "function_role.lifecycle-data-api-role"
        && c.action == Action::Create));
    up(&aws, &resources).await;
    assert!(
        !engine::plan(&aws, &resources, &[])
            .await
            .unwrap()
            .has_changes()
    );

    let outcomes = engine::destroy(&aws, &resources, &[], false, &quiet)
        .await
        .unwrap();
    let deleted = outcomes
        .iter()
        .filter(|(_, o)| *o == DestroyOutcome::Deleted)
        .count();
    assert_eq!(
        deleted, 7,
        "two roles, two log groups, two functions, the API: {outcomes:?}"
    );
    assert!(
        iam.get_role()
            .role_name("lifecycle-extractor-role")
            .send()
            .await
            .is_err()
    );
    let again = engine::destroy(&aws, &resources, &[], false, &quiet)
        .await
        .unwrap();
    assert!(
        again
            .iter()
            .all(|(a, o)| *o == DestroyOutcome::Absent || a.kind == "lake_bucket"),
        "{again:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn functions_upload_code_only_when_it_changed_and_drift_field_by_field() {
    let moto = MotoServer::start();
    let aws = aws(&moto).await;
    let lambda = aws_sdk_lambda::Client::new(&hand_config(&moto).await);
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{STACK}\n[functions.extractor]\nmemory_mb = 512\nenvironment = {{ PAGE_SIZE = \"5000\" }}\n"
    );
    let v1 = context(&aws, dir.path(), "v1").await;
    let resources = showcase_deploy::stack::resources(&stack(&text, "functions-lake"), &v1);
    up(&aws, &resources).await;

    let live = lambda
        .get_function()
        .function_name("lifecycle-extractor")
        .send()
        .await
        .unwrap();
    let configuration = live.configuration().unwrap();
    assert_eq!(
        configuration.runtime().map(|r| r.as_str()),
        Some("provided.al2023")
    );
    assert_eq!(configuration.handler(), Some("bootstrap"));
    assert_eq!(configuration.memory_size(), Some(512));
    assert_eq!(configuration.timeout(), Some(300));
    assert_eq!(
        configuration.role(),
        Some("arn:aws:iam::123456789012:role/lifecycle-extractor-role")
    );
    assert_eq!(
        configuration.code_sha256(),
        Some(v1.code[&config::FunctionName::Extractor].sha256.as_str())
    );
    let environment = configuration.environment().unwrap().variables().unwrap();
    assert_eq!(environment["LAKE_URL"], "s3://functions-lake/");
    assert_eq!(environment["PAGE_SIZE"], "5000");
    let api = lambda
        .get_function()
        .function_name("lifecycle-data-api")
        .send()
        .await
        .unwrap();
    assert_eq!(
        api.configuration()
            .unwrap()
            .environment()
            .unwrap()
            .variables()
            .unwrap()["AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH"],
        "true"
    );

    // Nothing changed: nothing is sent but reads, and no code is uploaded.
    aws.requests.clear();
    assert!(!up(&aws, &resources).await.has_changes());
    assert!(
        aws.requests.mutating().is_empty(),
        "{:?}",
        aws.requests.mutating()
    );

    // New code for both functions: code uploads only.
    let v2 = Context {
        code: fake_code(dir.path(), "v2"),
        ..v1.clone()
    };
    let resources = showcase_deploy::stack::resources(&stack(&text, "functions-lake"), &v2);
    aws.requests.clear();
    let plan = up(&aws, &resources).await;
    assert_eq!(changed_fields(&plan), ["code_sha256", "code_sha256"]);
    let writes: Vec<String> = aws
        .requests
        .mutating()
        .into_iter()
        .map(|r| r.operation)
        .collect();
    assert_eq!(writes, ["UpdateFunctionCode", "UpdateFunctionCode"]);

    // One setting in stack.toml: exactly that field, one configuration update, no upload.
    let bigger = text.replace("memory_mb = 512", "memory_mb = 1024");
    let resources = showcase_deploy::stack::resources(&stack(&bigger, "functions-lake"), &v2);
    aws.requests.clear();
    let plan = up(&aws, &resources).await;
    assert_eq!(changed_fields(&plan), ["memory_mb"]);
    let writes: Vec<String> = aws
        .requests
        .mutating()
        .into_iter()
        .map(|r| r.operation)
        .collect();
    assert_eq!(writes, ["UpdateFunctionConfiguration"]);

    // By hand: memory and an environment variable changed, then the function deleted.
    lambda
        .update_function_configuration()
        .function_name("lifecycle-extractor")
        .memory_size(128)
        .environment(
            aws_sdk_lambda::types::Environment::builder()
                .variables("PAGE_SIZE", "1")
                .variables("LAKE_URL", "s3://functions-lake/")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let drift = engine::plan(&aws, &resources, &[]).await.unwrap();
    assert_eq!(changed_fields(&drift), ["environment", "memory_mb"]);
    up(&aws, &resources).await;
    assert!(
        !engine::plan(&aws, &resources, &[])
            .await
            .unwrap()
            .has_changes()
    );
    // By hand: a public URL on the data API function, and anyone may invoke the
    // extractor. Exposure the stack did not make is drift, and up removes it.
    lambda
        .create_function_url_config()
        .function_name("lifecycle-data-api")
        .auth_type(aws_sdk_lambda::types::FunctionUrlAuthType::None)
        .send()
        .await
        .unwrap();
    let drift = engine::plan(&aws, &resources, &[]).await.unwrap();
    assert_eq!(changed_fields(&drift), ["function_url"]);
    up(&aws, &resources).await;
    assert!(
        lambda
            .get_function_url_config()
            .function_name("lifecycle-data-api")
            .send()
            .await
            .is_err(),
        "the URL is gone"
    );
    lambda
        .add_permission()
        .function_name("lifecycle-extractor")
        .statement_id("public")
        .action("lambda:InvokeFunction")
        .principal("*")
        .send()
        .await
        .unwrap();
    let drift = engine::plan(&aws, &resources, &[]).await.unwrap();
    assert_eq!(changed_fields(&drift), ["other_permissions"]);
    let grant = drift
        .changes
        .iter()
        .find_map(|c| match &c.action {
            Action::Update { fields } => Some(fields[0].clone()),
            _ => None,
        })
        .unwrap();
    // (One statement shows as itself: JSON fields compare one-element lists as their element.)
    assert_eq!(grant.live.unwrap().display(), r#""public""#);
    aws.requests.clear();
    up(&aws, &resources).await;
    let writes: Vec<String> = aws
        .requests
        .mutating()
        .into_iter()
        .map(|r| r.operation)
        .collect();
    assert_eq!(writes, ["RemovePermission"]);
    assert!(
        !engine::plan(&aws, &resources, &[])
            .await
            .unwrap()
            .has_changes()
    );
    lambda
        .delete_function()
        .function_name("lifecycle-data-api")
        .send()
        .await
        .unwrap();
    let missing = engine::plan(&aws, &resources, &[]).await.unwrap();
    assert!(
        missing
            .changes
            .iter()
            .any(|c| c.address.to_string() == "function.lifecycle-data-api"
                && c.action == Action::Create)
    );
    up(&aws, &resources).await;
    assert!(
        !engine::plan(&aws, &resources, &[])
            .await
            .unwrap()
            .has_changes()
    );
}
