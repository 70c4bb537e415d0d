#![cfg(feature = "deploy")]
//! Settings stack.toml never names still have a desired value (AWS's default,
//! or none), so what a careless colleague or an attacker with console access
//! changes by hand is drift, and `up` undoes it: per kind, against moto. Also:
//! emptying a bucket S3 will not empty fails naming the keys (and ends), and
//! every kind refuses to update a field it does not know.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use showcase_deploy::aws::Aws;
use showcase_deploy::config::{self, FunctionName, Stack, Vars};
use showcase_deploy::engine::{self, Action, DestroyOutcome};
use showcase_deploy::resources::api_key_parameter::Secret;
use showcase_deploy::resources::function::Code;
use showcase_deploy::resources::lake_bucket::BucketId;
use showcase_deploy::resources::{FieldChange, FieldValue, Handle, Live, Owned, Resource};
use showcase_deploy::stack::Context;
use showcase_testkit::MotoServer;

const REGION: &str = "eu-west-1";
const ACCOUNT: &str = "123456789012";

const STACK: &str = r#"
[stack]
name = "safety"
region = "eu-west-1"

[lake]
bucket = "${var.bucket}"
"#;

fn stack(bucket: &str) -> Stack {
    config::parse(
        STACK,
        Path::new("stack.toml"),
        &Vars::default().with("bucket", bucket),
    )
    .unwrap()
}

fn quiet(_: engine::Event) {}

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

/// A moto server, the tool's clients, a hand's SDK config, and the stack's
/// resources (the API key parameter included: the context knows a key).
struct Setup {
    _moto: MotoServer,
    _dir: tempfile::TempDir,
    aws: Aws,
    hand: aws_config::SdkConfig,
    resources: Vec<Box<dyn Resource>>,
}

async fn setup(bucket: &str) -> Setup {
    let moto = MotoServer::start();
    let aws = Aws::connect_with(REGION, moto.config_loader()).await;
    let hand = moto.sdk_config(REGION).await;
    let dir = tempfile::tempdir().unwrap();
    let context = Context {
        account: aws.account_id().await.unwrap(),
        code: fake_code(dir.path()),
        api_url: None,
        api_key: Some(Secret("safety-key-0123456789abcdef".into())),
        dag: None,
    };
    let resources = showcase_deploy::stack::resources(&stack(bucket), &context);
    Setup {
        _moto: moto,
        _dir: dir,
        aws,
        hand,
        resources,
    }
}

impl Setup {
    async fn plan(&self) -> engine::Plan {
        engine::plan(&self.aws, &self.resources, &[]).await.unwrap()
    }

    async fn up(&self) -> engine::Plan {
        let plan = self.plan().await;
        engine::apply(
            &self.aws,
            &self.resources,
            &[],
            &plan,
            engine::Consent::NONE,
            &quiet,
        )
        .await
        .unwrap();
        plan
    }

    /// `up`, then a plan that must find nothing left to do.
    async fn up_repairs(&self) {
        self.up().await;
        let after = self.plan().await;
        assert!(!after.has_changes(), "up left drift: {after:?}");
    }
}

/// `(address, fields)` of each update or replace in the plan, of one kind.
fn changed(plan: &engine::Plan, kind: &str) -> Vec<(String, Vec<&'static str>)> {
    plan.changes
        .iter()
        .filter(|c| c.address.kind == kind)
        .filter_map(|c| match &c.action {
            Action::Update { fields } | Action::Replace { fields, .. } => Some((
                c.address.to_string(),
                fields.iter().map(|f| f.field).collect(),
            )),
            _ => None,
        })
        .collect()
}

/// How the plan shows the live value of one field.
fn live_shown(plan: &engine::Plan, address: &str, field: &str) -> String {
    plan.changes
        .iter()
        .filter(|c| c.address.to_string() == address)
        .find_map(|c| match &c.action {
            Action::Update { fields } | Action::Replace { fields, .. } => {
                fields.iter().find(|f| f.field == field).map(|f| {
                    f.live
                        .as_ref()
                        .map_or("(absent)".into(), FieldValue::display)
                })
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("no change of {address} {field} in {plan:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_widened_by_hand_is_drift_up_narrows_it_and_down_deletes_it() {
    let setup = setup("safety-roles-lake").await;
    let iam = aws_sdk_iam::Client::new(&setup.hand);
    setup.up().await;

    let admin = "arn:aws:iam::aws:policy/AdministratorAccess";
    let widen = || async {
        iam.attach_role_policy()
            .role_name("safety-extractor-role")
            .policy_arn(admin)
            .send()
            .await
            .unwrap();
        iam.put_role_policy()
            .role_name("safety-extractor-role")
            .policy_name("backdoor")
            .policy_document(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
            )
            .send()
            .await
            .unwrap();
    };
    widen().await;
    iam.put_role_permissions_boundary()
        .role_name("safety-data-api-role")
        .permissions_boundary("arn:aws:iam::aws:policy/PowerUserAccess")
        .send()
        .await
        .unwrap();

    let drift = setup.plan().await;
    assert_eq!(
        changed(&drift, "function_role"),
        [
            (
                "function_role.safety-data-api-role".to_string(),
                vec!["permissions_boundary"]
            ),
            (
                "function_role.safety-extractor-role".to_string(),
                vec!["inline_policies", "managed_policies"]
            ),
        ]
    );
    let extractor = "function_role.safety-extractor-role";
    assert!(live_shown(&drift, extractor, "managed_policies").contains("AdministratorAccess"));
    assert!(live_shown(&drift, extractor, "inline_policies").contains("backdoor"));

    setup.up_repairs().await;
    let attached = iam
        .list_attached_role_policies()
        .role_name("safety-extractor-role")
        .send()
        .await
        .unwrap();
    assert!(attached.attached_policies().is_empty());
    let inline = iam
        .list_role_policies()
        .role_name("safety-extractor-role")
        .send()
        .await
        .unwrap();
    assert_eq!(inline.policy_names(), ["least-privilege"]);
    let role = iam
        .get_role()
        .role_name("safety-data-api-role")
        .send()
        .await
        .unwrap();
    assert!(role.role().unwrap().permissions_boundary().is_none());

    // Down detaches what was attached by hand before DeleteRole (IAM refuses otherwise).
    widen().await;
    let outcomes = engine::destroy(&setup.aws, &setup.resources, &[], false, &quiet)
        .await
        .unwrap();
    for role in ["safety-extractor-role", "safety-data-api-role"] {
        assert!(
            outcomes
                .iter()
                .any(|(a, o)| a.name == role && *o == DestroyOutcome::Deleted),
            "{outcomes:?}"
        );
        assert!(iam.get_role().role_name(role).send().await.is_err());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bucket_opened_or_copied_elsewhere_by_hand_is_drift_and_up_closes_it() {
    let bucket = "safety-bucket-lake";
    let setup = setup(bucket).await;
    let s3 = aws_sdk_s3::Client::new(&setup.hand);
    setup.up().await;
    let ownership = s3
        .get_bucket_ownership_controls()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(
        ownership.ownership_controls().unwrap().rules()[0]
            .object_ownership()
            .as_str(),
        "BucketOwnerEnforced"
    );

    // ACLs back on, with a grant to everyone; every object copied to another account.
    let writer = aws_sdk_s3::types::OwnershipControls::builder()
        .rules(
            aws_sdk_s3::types::OwnershipControlsRule::builder()
                .object_ownership(aws_sdk_s3::types::ObjectOwnership::ObjectWriter)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    s3.put_bucket_ownership_controls()
        .bucket(bucket)
        .ownership_controls(writer)
        .send()
        .await
        .unwrap();
    // (A canned ACL has no body, and moto behind the test proxy answers 411.)
    let acl = s3.get_bucket_acl().bucket(bucket).send().await.unwrap();
    let everyone = aws_sdk_s3::types::Grant::builder()
        .grantee(
            aws_sdk_s3::types::Grantee::builder()
                .r#type(aws_sdk_s3::types::Type::Group)
                .uri("http://acs.amazonaws.com/groups/global/AllUsers")
                .build()
                .unwrap(),
        )
        .permission(aws_sdk_s3::types::Permission::Read)
        .build();
    let public = aws_sdk_s3::types::AccessControlPolicy::builder()
        .owner(acl.owner().unwrap().clone())
        .set_grants(Some(acl.grants().to_vec()))
        .grants(everyone)
        .build();
    s3.put_bucket_acl()
        .bucket(bucket)
        .access_control_policy(public)
        .send()
        .await
        .unwrap();
    let opened = s3.get_bucket_acl().bucket(bucket).send().await.unwrap();
    assert!(
        opened
            .grants()
            .iter()
            .any(|g| g.grantee().and_then(|g| g.uri()).is_some()),
        "the hand change took: {:?}",
        opened.grants()
    );
    let elsewhere = aws_sdk_s3::types::Destination::builder()
        .bucket("arn:aws:s3:::someone-elses-bucket")
        .account("999999999999")
        .build()
        .unwrap();
    let replication = aws_sdk_s3::types::ReplicationConfiguration::builder()
        .role(format!("arn:aws:iam::{ACCOUNT}:role/copier"))
        .rules(
            aws_sdk_s3::types::ReplicationRule::builder()
                .id("copy-all")
                .priority(1)
                .status(aws_sdk_s3::types::ReplicationRuleStatus::Enabled)
                .filter(
                    aws_sdk_s3::types::ReplicationRuleFilter::builder()
                        .prefix("")
                        .build(),
                )
                .destination(elsewhere)
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    s3.put_bucket_replication()
        .bucket(bucket)
        .replication_configuration(replication)
        .send()
        .await
        .unwrap();

    let drift = setup.plan().await;
    let address = format!("lake_bucket.{bucket}");
    assert_eq!(
        changed(&drift, "lake_bucket"),
        [(address.clone(), vec!["object_ownership", "replication"])]
    );
    assert!(live_shown(&drift, &address, "replication").contains("someone-elses-bucket"));
    assert_eq!(
        live_shown(&drift, &address, "object_ownership"),
        r#""ObjectWriter""#
    );

    setup.up_repairs().await;
    assert!(
        s3.get_bucket_replication()
            .bucket(bucket)
            .send()
            .await
            .is_err(),
        "replication is gone"
    );
    let acl = s3.get_bucket_acl().bucket(bucket).send().await.unwrap();
    assert!(
        acl.grants()
            .iter()
            .all(|g| g.grantee().and_then(|g| g.uri()).is_none()),
        "no grant to a group is left: {:?}",
        acl.grants()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emptying_a_bucket_s3_will_not_empty_fails_naming_the_keys() {
    let moto = MotoServer::start();
    let aws = Aws::connect_with(REGION, moto.config_loader()).await;
    let s3 = aws_sdk_s3::Client::new(&moto.sdk_config(REGION).await);
    let bucket = "safety-locked-lake";
    // Object lock with a legal hold: S3 refuses to delete that version, per key.
    s3.create_bucket()
        .bucket(bucket)
        .object_lock_enabled_for_bucket(true)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let tags = aws_sdk_s3::types::Tagging::builder()
        .tag_set(
            aws_sdk_s3::types::Tag::builder()
                .key("showcase:stack")
                .value("safety")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    s3.put_bucket_tagging()
        .bucket(bucket)
        .tagging(tags)
        .send()
        .await
        .unwrap();
    s3.put_object()
        .bucket(bucket)
        .key("raw/held.parquet")
        .body(b"held".to_vec().into())
        .object_lock_legal_hold_status(aws_sdk_s3::types::ObjectLockLegalHoldStatus::On)
        .send()
        .await
        .unwrap();
    s3.put_object()
        .bucket(bucket)
        .key("raw/free.csv")
        .body(b"free".to_vec().into())
        .send()
        .await
        .unwrap();

    let lake = BucketId {
        bucket: bucket.into(),
        stack: "safety".into(),
    };
    let live = Live::ours(Default::default(), Handle::default());
    let deleted = tokio::time::timeout(Duration::from_secs(60), lake.delete(&aws, &live, true))
        .await
        .expect("emptying ends instead of listing the held key for ever");
    let error = deleted.unwrap_err().to_string();
    assert!(
        error.contains("DeleteObjects") && error.contains("raw/held.parquet"),
        "{error}"
    );
    assert!(!error.contains("raw/free.csv"), "{error}");
    let left = s3
        .list_object_versions()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    let keys: Vec<&str> = left.versions().iter().filter_map(|v| v.key()).collect();
    assert_eq!(keys, ["raw/held.parquet"], "the rest was deleted");
    assert!(
        s3.head_bucket().bucket(bucket).send().await.is_ok(),
        "the bucket stays"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_extended_by_hand_is_drift_and_up_takes_it_back() {
    let setup = setup("safety-functions-lake").await;
    let lambda = aws_sdk_lambda::Client::new(&setup.hand);
    setup.up().await;
    let function = "safety-extractor";

    // A layer (an extension runs beside the code), a VPC, and every result sent elsewhere.
    let layer = lambda
        .publish_layer_version()
        .layer_name("spy")
        .content(
            aws_sdk_lambda::types::LayerVersionContentInput::builder()
                .zip_file(
                    showcase_deploy::build::bootstrap_zip(b"spy")
                        .unwrap()
                        .into(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    lambda
        .update_function_configuration()
        .function_name(function)
        .layers(layer.layer_version_arn().unwrap())
        .vpc_config(
            aws_sdk_lambda::types::VpcConfig::builder()
                .subnet_ids("subnet-0123456789")
                .security_group_ids("sg-0123456789")
                .build(),
        )
        .send()
        .await
        .unwrap();
    lambda
        .put_function_event_invoke_config()
        .function_name(function)
        .destination_config(
            aws_sdk_lambda::types::DestinationConfig::builder()
                .on_success(
                    aws_sdk_lambda::types::OnSuccess::builder()
                        .destination("arn:aws:sqs:eu-west-1:999999999999:elsewhere")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    // (dead_letter, kms_key and logs_to are read and put back the same way, but
    // moto's UpdateFunctionConfiguration ignores DeadLetterConfig, KMSKeyArn and
    // LoggingConfig, so no hand change of them can be made here.)

    let drift = setup.plan().await;
    let address = format!("function.{function}");
    assert_eq!(
        changed(&drift, "function"),
        [(address.clone(), vec!["async_invoke", "layers", "vpc"])]
    );
    assert!(live_shown(&drift, &address, "layers").contains("spy"));
    assert!(live_shown(&drift, &address, "async_invoke").contains("elsewhere"));

    setup.aws.requests.clear();
    setup.up().await;
    let writes: Vec<String> = setup
        .aws
        .requests
        .mutating()
        .into_iter()
        .map(|r| r.operation)
        .collect();
    assert_eq!(
        writes,
        [
            "UpdateFunctionConfiguration",
            "DeleteFunctionEventInvokeConfig"
        ]
    );
    assert!(!setup.plan().await.has_changes());
    let live = lambda
        .get_function()
        .function_name(function)
        .send()
        .await
        .unwrap();
    let configuration = live.configuration().unwrap();
    assert!(configuration.layers().is_empty());
    assert!(
        configuration
            .vpc_config()
            .is_none_or(|v| v.subnet_ids().is_empty())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_copied_elsewhere_or_under_another_key_are_drift() {
    let setup = setup("safety-logs-lake").await;
    let logs = aws_sdk_cloudwatchlogs::Client::new(&setup.hand);
    setup.up().await;
    let group = "/aws/lambda/safety-extractor";
    let address = format!("log_group.{group}");

    // Every event streamed to a function (a Kinesis stream or Firehose in
    // another account would do the same).
    logs.put_subscription_filter()
        .log_group_name(group)
        .filter_name("copy")
        .filter_pattern("")
        .destination_arn(format!(
            "arn:aws:lambda:{REGION}:{ACCOUNT}:function:safety-data-api"
        ))
        .send()
        .await
        .unwrap();
    let drift = setup.plan().await;
    assert_eq!(
        changed(&drift, "log_group"),
        [(address.clone(), vec!["subscription_filters"])]
    );
    assert!(live_shown(&drift, &address, "subscription_filters").contains("copy →"));
    setup.up_repairs().await;
    let filters = logs
        .describe_subscription_filters()
        .log_group_name(group)
        .send()
        .await
        .unwrap();
    assert!(filters.subscription_filters().is_empty());

    // A KMS key: moto has no AssociateKmsKey (nor DisassociateKmsKey, so `up`
    // cannot be shown repairing it here); a group made with one is drift.
    logs.delete_log_group()
        .log_group_name(group)
        .send()
        .await
        .unwrap();
    logs.create_log_group()
        .log_group_name(group)
        .kms_key_id(format!("arn:aws:kms:{REGION}:999999999999:key/elsewhere"))
        .tags("showcase:stack", "safety")
        .send()
        .await
        .unwrap();
    logs.put_retention_policy()
        .log_group_name(group)
        .retention_in_days(14)
        .send()
        .await
        .unwrap();
    let drift = setup.plan().await;
    assert_eq!(
        changed(&drift, "log_group"),
        [(address.clone(), vec!["kms_key"])]
    );
    assert!(live_shown(&drift, &address, "kms_key").contains("key/elsewhere"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_key_parameter_loosened_by_hand_is_drift_and_up_restores_it() {
    let setup = setup("safety-parameter-lake").await;
    let ssm = aws_sdk_ssm::Client::new(&setup.hand);
    setup.up().await;
    let name = "/showcase/safety/data-api-key";
    let address = format!("api_key_parameter.{name}");
    let value = "safety-key-0123456789abcdef";
    let live_type = || async {
        ssm.get_parameter()
            .name(name)
            .send()
            .await
            .unwrap()
            .parameter()
            .unwrap()
            .r#type()
            .unwrap()
            .clone()
    };
    assert_eq!(
        live_type().await,
        aws_sdk_ssm::types::ParameterType::SecureString
    );

    // Readable without KMS: a plain String. Replaced (a new SecureString).
    ssm.put_parameter()
        .name(name)
        .value(value)
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .overwrite(true)
        .send()
        .await
        .unwrap();
    let drift = setup.plan().await;
    assert_eq!(
        changed(&drift, "api_key_parameter"),
        [(address.clone(), vec!["parameter_type"])]
    );
    assert!(
        drift
            .changes
            .iter()
            .any(|c| c.address.to_string() == address
                && matches!(c.action, Action::Replace { .. })),
        "{drift:?}"
    );
    setup.up_repairs().await;
    assert_eq!(
        live_type().await,
        aws_sdk_ssm::types::ParameterType::SecureString
    );

    // Another account's key: overwritten under SSM's own.
    ssm.put_parameter()
        .name(name)
        .value(value)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .key_id("arn:aws:kms:eu-west-1:999999999999:key/elsewhere")
        .overwrite(true)
        .send()
        .await
        .unwrap();
    let drift = setup.plan().await;
    assert_eq!(
        changed(&drift, "api_key_parameter"),
        [(address.clone(), vec!["key_id"])]
    );
    setup.up_repairs().await;

    // Advanced, with a policy that deletes the key on a date. (moto takes the
    // policies as a list of strings and answers them as such.)
    ssm.put_parameter()
        .name(name)
        .value(value)
        .tier(aws_sdk_ssm::types::ParameterTier::Advanced)
        .policies(
            r#"["{\"Type\":\"Expiration\",\"Version\":\"1.0\",\"Attributes\":{\"Timestamp\":\"2030-01-01T00:00:00.000Z\"}}"]"#,
        )
        .overwrite(true)
        .send()
        .await
        .unwrap();
    let drift = setup.plan().await;
    assert_eq!(
        changed(&drift, "api_key_parameter"),
        [(address.clone(), vec!["policies", "tier"])]
    );
    assert!(live_shown(&drift, &address, "policies").contains("Expiration"));
    setup.up_repairs().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_refuses_to_update_a_field_it_does_not_know() {
    let setup = setup("safety-fields-lake").await;
    let unknown = [FieldChange {
        field: "no_such_field",
        live: None,
        desired: FieldValue::Text("x".into()),
    }];
    let mine = [
        "lake_bucket",
        "function_role",
        "log_group",
        "function",
        "data_api",
        "api_key_parameter",
    ];
    let live = Live::ours(Default::default(), Handle::default());
    let mut seen = Vec::new();
    for resource in setup
        .resources
        .iter()
        .filter(|r| mine.contains(&r.address().kind))
    {
        setup.aws.requests.clear();
        let error = resource
            .update(&setup.aws, &live, &unknown)
            .await
            .expect_err("an unknown field is an error, not an update");
        assert!(
            error.to_string().contains("no_such_field"),
            "{}: {error}",
            resource.address()
        );
        assert!(
            setup.aws.requests.all().is_empty(),
            "{} sent requests before refusing",
            resource.address()
        );
        seen.push(resource.address().kind);
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), mine.len(), "{seen:?}");
}
