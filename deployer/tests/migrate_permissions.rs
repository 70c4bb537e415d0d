#![cfg(feature = "deploy")]
//! Every request `migrate` sends — reading the seed's stack, retaining the
//! bucket, claiming it, `up`, DeleteStack — is in the permissions table, and
//! each one's IAM actions are in the policy `permissions
//! --from-cloudformation STACK` prints (recorded against moto).

mod seed_stack;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use seed_stack::*;
use showcase_deploy::aws::Aws;
use showcase_deploy::config::{self, FunctionName, Vars};
use showcase_deploy::migrate::{self, Survey};
use showcase_deploy::permissions;
use showcase_deploy::resources::function::Code;
use showcase_deploy::session::Session;
use showcase_testkit::MotoServer;

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_migrate_makes_is_in_its_policy() {
    let moto = MotoServer::start();
    deploy_seed(&moto).await;
    let aws = Aws::connect_with(REGION, moto.config_loader()).await;
    let dir = tempfile::tempdir().unwrap();
    let stack = config::parse(
        &STACK_TOML.replace("${var.bucket}", LAKE),
        Path::new("stack.toml"),
        &Vars::default(),
    )
    .unwrap();
    let session = Session::new(aws.clone(), stack.clone(), fake_code(dir.path()));
    let Survey::Pending(pending) = migrate::survey(&session, CFN_STACK, None).await.unwrap() else {
        panic!("the seed's stack is there to migrate")
    };
    migrate::carry_out(&session, &pending, &|_| {}, &|_| {}, &|_| {})
        .await
        .unwrap();
    assert!(matches!(
        migrate::survey(&session, CFN_STACK, None).await.unwrap(),
        Survey::Done
    ));

    let sent: BTreeSet<(String, String)> = aws
        .requests
        .all()
        .into_iter()
        .map(|r| (r.service, r.operation))
        .collect();
    let policy = policy_actions(&migrate::permissions::policy(
        &stack,
        "123456789012",
        CFN_STACK,
    ));
    for (service, operation) in &sent {
        let (actions, _) = permissions::required(service, operation)
            .unwrap_or_else(|| panic!("{service}:{operation} is not in the permissions table"));
        for action in actions {
            assert!(
                policy.contains(action),
                "{action} ({operation}) not in the migrate policy"
            );
        }
    }
    for expected in [
        "DescribeStacks",
        "ListStackResources",
        "GetTemplate",
        "UpdateStack",
        "DeleteStack",
        "ListStacks",
        "PutBucketTagging",
    ] {
        assert!(
            sent.iter().any(|(_, o)| o == expected),
            "{expected} never sent: {sent:?}"
        );
    }
}
