#![cfg(feature = "deploy")]
//! `showcase-deploy permissions` is generated from a table of the operations
//! the tool calls. This drives a stack through its whole life against moto —
//! plan, up, outputs, changes by hand, drift, stack.toml changes, prune,
//! down --delete-data — records every request, and checks that each one is in
//! the table, and that the read-only policy covers (and only covers) what the
//! reading commands sent.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use showcase_deploy::aws::{Aws, Request};
use showcase_deploy::config::{self, FunctionName, Stack, Vars};
use showcase_deploy::engine::{self, Plan};
use showcase_deploy::permissions::{self, Access};
use showcase_deploy::resources::function::Code;
use showcase_deploy::session::Session;
use showcase_testkit::{MotoServer, Mwaa, MwaaEnvironment};

mod user_warehouse;

const REGION: &str = "eu-west-1";

const V1: &str = r#"
[stack]
name = "perm"
region = "eu-west-1"
tags = { team = "data" }

[lake]
bucket = "perm-lake"
lifecycle = [{ abort_incomplete_upload_days = 7 }]

[api]
routes = ["/sales", "/products", "/customers"]
quota_limit = 1000
quota_period = "DAY"

[warehouse]
kind = "existing"
workgroup = "perm-analytics"

[orchestrator]
mwaa_environment = "perm-env"
requirements = ["tomli==2.0.1"]
"#;

/// Every kind changes: lifecycle gone, memory and reserved concurrency,
/// retention, a route fewer, another quota and rate. (Tags change by hand
/// below: moto tags API Gateway stages only, not REST APIs.)
const V2: &str = r#"
[stack]
name = "perm"
region = "eu-west-1"
tags = { team = "data" }

[lake]
bucket = "perm-lake"

[functions.extractor]
memory_mb = 512
reserved_concurrency = 5

[functions.data-api]
log_retention_days = 30

[api]
routes = ["/sales"]
rate_limit = 5
quota_limit = 2000
quota_period = "WEEK"

[warehouse]
kind = "existing"
workgroup = "perm-analytics"

[orchestrator]
mwaa_environment = "perm-env"
start_date = "2024-02-01"
requirements = ["tomli==2.0.1", "pendulum>=3"]
"#;

fn stack(text: &str) -> Stack {
    config::parse(text, Path::new("stack.toml"), &Vars::default()).unwrap()
}

fn fake_code(dir: &Path) -> BTreeMap<FunctionName, Code> {
    FunctionName::ALL
        .into_iter()
        .map(|function| {
            let zip = showcase_deploy::build::bootstrap_zip(function.as_str().as_bytes()).unwrap();
            let path = dir.join(format!("{}.zip", function.as_str()));
            std::fs::write(&path, &zip).unwrap();
            let sha256 = showcase_deploy::build::code_sha256(&zip);
            (function, Code { zip: path, sha256 })
        })
        .collect()
}

fn quiet(_: engine::Event) {}

fn session(aws: &Aws, stack: &Stack, code: &BTreeMap<FunctionName, Code>) -> Session {
    Session::new(aws.clone(), stack.clone(), code.clone())
}

/// What plan and drift do.
async fn read_plan(aws: &Aws, stack: &Stack, code: &BTreeMap<FunctionName, Code>) -> Plan {
    session(aws, stack, code).plan().await.unwrap()
}

/// What up does (`--allow-env-update` too: the requirements change).
async fn up(aws: &Aws, stack: &Stack, code: &BTreeMap<FunctionName, Code>, delete_data: bool) {
    let consent = engine::Consent {
        delete_data,
        disruption: true,
    };
    session(aws, stack, code)
        .up_with(consent, &|_| {}, &quiet)
        .await
        .unwrap();
}

/// What outputs does, secrets included.
async fn outputs(aws: &Aws, stack: &Stack) {
    let outputs = session(aws, stack, &BTreeMap::new())
        .outputs(true)
        .await
        .unwrap();
    assert!(outputs["api_key_value"].is_string());
}

/// Changes a person makes with the console or the CLI: not recorded.
async fn by_hand(config: &aws_config::SdkConfig) {
    let iam = aws_sdk_iam::Client::new(config);
    let role = iam
        .create_role()
        .role_name("perm-old-role")
        .assume_role_policy_document("{}")
        .tags(
            aws_sdk_iam::types::Tag::builder()
                .key("showcase:stack")
                .value("perm")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let lambda = aws_sdk_lambda::Client::new(config);
    lambda
        .create_function()
        .function_name("perm-old")
        .runtime(aws_sdk_lambda::types::Runtime::Providedal2023)
        .handler("bootstrap")
        .role(role.role().unwrap().arn())
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_sdk_lambda::primitives::Blob::new(
                    showcase_deploy::build::bootstrap_zip(b"old").unwrap(),
                ))
                .build(),
        )
        .tags("showcase:stack", "perm")
        .send()
        .await
        .unwrap();
    lambda
        .create_function_url_config()
        .function_name("perm-extractor")
        .auth_type(aws_sdk_lambda::types::FunctionUrlAuthType::None)
        .send()
        .await
        .unwrap();
    lambda
        .add_permission()
        .function_name("perm-extractor")
        .statement_id("public")
        .action("lambda:InvokeFunction")
        .principal("*")
        .send()
        .await
        .unwrap();
    lambda
        .update_function_configuration()
        .function_name("perm-data-api")
        .memory_size(1024)
        .send()
        .await
        .unwrap();
    let s3 = aws_sdk_s3::Client::new(config);
    s3.delete_bucket_encryption()
        .bucket("perm-lake")
        .send()
        .await
        .unwrap();
    // A tag added to each kind, which up removes.
    let extra = || {
        aws_sdk_iam::types::Tag::builder()
            .key("extra")
            .value("x")
            .build()
            .unwrap()
    };
    iam.tag_role()
        .role_name("perm-extractor-role")
        .tags(extra())
        .send()
        .await
        .unwrap();
    let function = lambda
        .get_function()
        .function_name("perm-extractor")
        .send()
        .await
        .unwrap();
    lambda
        .tag_resource()
        .resource(function.configuration().unwrap().function_arn().unwrap())
        .tags("extra", "x")
        .send()
        .await
        .unwrap();
    let logs = aws_sdk_cloudwatchlogs::Client::new(config);
    let groups = logs
        .describe_log_groups()
        .log_group_name_prefix("/aws/lambda/perm-extractor")
        .send()
        .await
        .unwrap();
    let group_arn = groups.log_groups()[0].arn().unwrap().trim_end_matches(":*");
    logs.tag_resource()
        .resource_arn(group_arn)
        .tags("extra", "x")
        .send()
        .await
        .unwrap();
    aws_sdk_ssm::Client::new(config)
        .add_tags_to_resource()
        .resource_type(aws_sdk_ssm::types::ResourceTypeForTagging::Parameter)
        .resource_id("/showcase/perm/data-api-key")
        .tags(
            aws_sdk_ssm::types::Tag::builder()
                .key("extra")
                .value("x")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let tagging = s3
        .get_bucket_tagging()
        .bucket("perm-lake")
        .send()
        .await
        .unwrap();
    let mut tags = tagging.tag_set().to_vec();
    tags.push(
        aws_sdk_s3::types::Tag::builder()
            .key("extra")
            .value("x")
            .build()
            .unwrap(),
    );
    s3.put_bucket_tagging()
        .bucket("perm-lake")
        .tagging(
            aws_sdk_s3::types::Tagging::builder()
                .set_tag_set(Some(tags))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
}

/// Objects (and versions) for down --delete-data to remove. moto applies the
/// TLS-only policy to its plain-HTTP endpoint: lifted to write, as drift shows.
async fn lake_data(config: &aws_config::SdkConfig) {
    let s3 = aws_sdk_s3::Client::new(config);
    s3.delete_bucket_policy()
        .bucket("perm-lake")
        .send()
        .await
        .unwrap();
    for body in ["v1", "v2"] {
        s3.put_object()
            .bucket("perm-lake")
            .key("2024-03-01/sales.parquet")
            .body(body.as_bytes().to_vec().into())
            .send()
            .await
            .unwrap();
    }
}

fn policy_actions(policy: &serde_json::Value) -> BTreeSet<String> {
    policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|statement| match &statement["Action"] {
            serde_json::Value::Array(list) => list
                .iter()
                .map(|a| a.as_str().unwrap().to_owned())
                .collect(),
            single => vec![single.as_str().unwrap().to_owned()],
        })
        .collect()
}

/// (service, operation) pairs, each once.
fn distinct(requests: &[Request]) -> BTreeSet<(String, String)> {
    requests
        .iter()
        .map(|r| (r.service.clone(), r.operation.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_the_tool_makes_is_in_its_policy() {
    let moto = MotoServer::start();
    let mut aws = Aws::connect_with(REGION, moto.config_loader()).await;
    let hand = moto.sdk_config(REGION).await;
    // The DAG's MWAA environment: the stand-in, its bucket on moto.
    let mwaa = Mwaa::start();
    mwaa.add_environment(MwaaEnvironment::available("perm-env", "perm-airflow"));
    let (_, endpoint) = mwaa.aws_env().remove(0);
    aws.mwaa = aws_sdk_mwaa::Client::from_conf(
        aws_sdk_mwaa::config::Builder::from(&hand)
            .endpoint_url(endpoint)
            .interceptor(aws.requests.clone())
            .build(),
    );
    aws_sdk_s3::Client::new(&hand)
        .create_bucket()
        .bucket("perm-airflow")
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
                .build(),
        )
        .send()
        .await
        .unwrap();
    // MWAA's source bucket is versioned (requirements are installed by version).
    aws_sdk_s3::Client::new(&hand)
        .put_bucket_versioning()
        .bucket("perm-airflow")
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    mwaa.set_update_delay(std::time::Duration::from_millis(300));
    // The user's serverless warehouse the DAG names (kind = "existing").
    user_warehouse::make_workgroup(&hand, "perm-ns", "perm-analytics").await;
    let dir = tempfile::tempdir().unwrap();
    let code = fake_code(dir.path());
    let (v1, v2) = (stack(V1), stack(V2));
    let mut reads: Vec<Request> = Vec::new();
    let mut writes: Vec<Request> = Vec::new();
    let record = |into: &mut Vec<Request>| {
        into.extend(aws.requests.all());
        aws.requests.clear();
    };

    assert!(read_plan(&aws, &v1, &code).await.has_changes());
    record(&mut reads);
    up(&aws, &v1, &code, false).await;
    record(&mut writes);
    assert!(!read_plan(&aws, &v1, &code).await.has_changes());
    outputs(&aws, &v1).await;
    record(&mut reads);

    by_hand(&hand).await;
    assert!(read_plan(&aws, &v1, &code).await.has_changes(), "drift");
    record(&mut reads);
    up(&aws, &v2, &code, false).await;
    up(&aws, &v1, &code, false).await;
    record(&mut writes);
    assert!(!read_plan(&aws, &v1, &code).await.has_changes());
    record(&mut reads);

    lake_data(&hand).await;
    let down = session(&aws, &v1, &code);
    let (prepared, plan) = down.down_plan().await.unwrap();
    down.down(&prepared, &plan, true, &quiet).await.unwrap();
    record(&mut writes);
    assert!(
        aws_sdk_s3::Client::new(&hand)
            .head_bucket()
            .bucket("perm-lake")
            .send()
            .await
            .is_err(),
        "down --delete-data removed the lake"
    );

    let read_only = policy_actions(&permissions::policy(&v1, "123456789012", Access::Read));
    let full = policy_actions(&permissions::policy(&v1, "123456789012", Access::Write));
    let unknown: Vec<_> = distinct(&reads)
        .union(&distinct(&writes))
        .filter(|(service, operation)| permissions::required(service, operation).is_none())
        .cloned()
        .collect();
    assert!(
        unknown.is_empty(),
        "not in the permissions table: {unknown:?}"
    );
    for (service, operation) in distinct(&reads) {
        let (actions, access) = permissions::required(&service, &operation).unwrap();
        assert_eq!(
            access,
            Access::Read,
            "{service}:{operation} sent by a reading command"
        );
        for action in actions {
            assert!(
                read_only.contains(action),
                "{action} ({operation}) not in the read-only policy"
            );
        }
    }
    for (service, operation) in distinct(&writes) {
        let (actions, _) = permissions::required(&service, &operation).unwrap();
        for action in actions {
            assert!(
                full.contains(action),
                "{action} ({operation}) not in the policy"
            );
        }
    }
    // The run covered each kind's writes, not only creation.
    let written: BTreeSet<String> = distinct(&writes).into_iter().map(|(_, o)| o).collect();
    for expected in [
        "UpdateFunctionConfiguration",
        "PutFunctionConcurrency",
        "DeleteFunctionConcurrency",
        "DeleteBucketLifecycle",
        "PutBucketEncryption",
        "DeleteMethod",
        "UpdateStage",
        "DeleteFunction",
        "DeleteRole",
        "DeleteObjects",
        "UntagRole",
        "UntagResource",
        "RemoveTagsFromResource",
        "PutBucketTagging",
        "PutRetentionPolicy",
        "RemovePermission",
        "DeleteFunctionUrlConfig",
        "PutObject",
        "DeleteObject",
        "UpdateEnvironment",
    ] {
        assert!(
            written.contains(expected),
            "{expected} never sent: {written:?}"
        );
    }
}
