#![cfg(feature = "deploy")]
//! The warehouse as Redshift Serverless, against moto's server and testkit's
//! Redshift Serverless stand-in behind it (statuses that move: up must wait):
//! a namespace with the COPY role attached and AWS keeping the admin password,
//! a private workgroup with the stack's capacity and network; every hand
//! change found by drift and repaired; a killed `up`'s half-made workgroup
//! waited for, never made twice; a namespace or workgroup of the same name
//! that is not the stack's refused and untouched; `down` keeps the warehouse,
//! or deletes it with or without a final snapshot; every request in the
//! permissions table.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use aws_sdk_redshiftserverless::Client as Serverless;
use aws_sdk_redshiftserverless::types::Tag;
use showcase_deploy::aws::Aws;
use showcase_deploy::config::{self, FunctionName, Vars};
use showcase_deploy::engine::{Action, Event, Plan};
use showcase_deploy::permissions::{self, Access};
use showcase_deploy::resources::function::Code;
use showcase_deploy::session::Session;
use showcase_testkit::{MotoServer, RedshiftServerless, RedshiftServerlessSettings};

const STACK: &str = r#"
[stack]
name = "sv"
region = "us-east-1"

[lake]
bucket = "sv-lake"
prefix = "raw/"

[warehouse]
kind = "serverless"
base_capacity = 8
max_capacity = 64
subnet_ids = ["subnet-aaa", "subnet-bbb"]
security_group_ids = ["sg-111"]
"#;

const NAMESPACE: &str = "redshift_namespace.sv-warehouse";
const WORKGROUP: &str = "redshift_workgroup.sv-warehouse";
const COPY_ROLE: &str = "arn:aws:iam::123456789012:role/sv-warehouse-copy-role";

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

struct World {
    moto: MotoServer,
    stand_in: RedshiftServerless,
    session: Session,
    hand: Serverless,
    _dir: tempfile::TempDir,
}

async fn world(settle: Duration) -> World {
    let moto = MotoServer::start();
    let stand_in = RedshiftServerless::new(RedshiftServerlessSettings {
        settle,
        ..RedshiftServerlessSettings::default()
    });
    moto.serve_redshift_serverless(&stand_in);
    let dir = tempfile::tempdir().unwrap();
    let stack = config::parse(STACK, Path::new("stack.toml"), &Vars::default()).unwrap();
    let aws = Aws::connect_with("us-east-1", moto.config_loader()).await;
    let session = Session::new(aws, stack, code(dir.path()));
    let hand = Serverless::new(&moto.sdk_config("us-east-1").await);
    World {
        moto,
        stand_in,
        session,
        hand,
        _dir: dir,
    }
}

fn change_of<'p>(plan: &'p Plan, address: &str) -> &'p Action {
    &plan
        .changes
        .iter()
        .find(|c| c.address.to_string() == address)
        .unwrap_or_else(|| panic!("{address} not in {plan:#?}"))
        .action
}

fn fields_of(action: &Action) -> Vec<&'static str> {
    let mut fields: Vec<&'static str> = match action {
        Action::Update { fields } | Action::Replace { fields, .. } => {
            fields.iter().map(|f| f.field).collect()
        }
        _ => Vec::new(),
    };
    fields.sort_unstable();
    fields
}

async fn workgroup(hand: &Serverless) -> aws_sdk_redshiftserverless::types::Workgroup {
    hand.get_workgroup()
        .workgroup_name("sv-warehouse")
        .send()
        .await
        .unwrap()
        .workgroup()
        .unwrap()
        .clone()
}

async fn namespace(hand: &Serverless) -> aws_sdk_redshiftserverless::types::Namespace {
    hand.get_namespace()
        .namespace_name("sv-warehouse")
        .send()
        .await
        .unwrap()
        .namespace()
        .unwrap()
        .clone()
}

async fn tags(hand: &Serverless, arn: &str) -> BTreeMap<String, String> {
    hand.list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap()
        .tags()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect()
}

/// A person's change goes through; they wait until it is done, as the console does.
async fn settled(hand: &Serverless) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let w = workgroup(hand).await;
        let n = namespace(hand).await;
        let available = |s: Option<&str>| s == Some("AVAILABLE");
        if available(w.status().map(|s| s.as_str())) && available(n.status().map(|s| s.as_str())) {
            return;
        }
        assert!(Instant::now() < deadline, "never AVAILABLE");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_serverless_lifecycle_drift_repaired_and_every_request_in_the_policy() {
    let World {
        session,
        hand,
        stand_in,
        moto: _moto,
        _dir,
    } = world(Duration::from_millis(300)).await;
    let aws = session.aws.clone();

    let plan = session.plan().await.unwrap();
    assert_eq!(change_of(&plan, NAMESPACE), &Action::Create);
    assert_eq!(change_of(&plan, WORKGROUP), &Action::Create);
    let reads_before_up = aws.requests.all();
    aws.requests.clear();
    session.up(false, &no_plan, &quiet).await.unwrap();

    // up waited: both are AVAILABLE the moment it returns.
    let made = workgroup(&hand).await;
    assert_eq!(made.status().map(|s| s.as_str()), Some("AVAILABLE"));
    assert_eq!(made.base_capacity(), Some(8));
    assert_eq!(made.max_capacity(), Some(64));
    assert_eq!(made.publicly_accessible(), Some(false));
    assert_eq!(made.namespace_name(), Some("sv-warehouse"));
    assert_eq!(made.subnet_ids(), ["subnet-aaa", "subnet-bbb"]);
    assert_eq!(made.security_group_ids(), ["sg-111"]);
    let ns = namespace(&hand).await;
    assert_eq!(
        ns.iam_roles(),
        [format!(
            "IamRole(applyStatus=in-sync, iamRoleArn={COPY_ROLE})"
        )]
    );
    assert_eq!(ns.default_iam_role_arn(), Some(COPY_ROLE));
    assert_eq!(ns.db_name(), Some("showcase"));
    assert_eq!(ns.admin_username(), Some("showcase_admin"));
    assert!(
        ns.admin_password_secret_arn().is_some(),
        "AWS keeps the password"
    );
    let workgroup_tags = tags(&hand, made.workgroup_arn().unwrap()).await;
    assert_eq!(workgroup_tags["showcase:stack"], "sv");
    assert_eq!(workgroup_tags["showcase:kind"], "redshift_workgroup");
    let namespace_tags = tags(&hand, ns.namespace_arn().unwrap()).await;
    assert_eq!(namespace_tags["showcase:kind"], "redshift_namespace");
    let sent = aws.requests.all();
    let create = sent
        .iter()
        .position(|r| r.operation == "CreateNamespace")
        .unwrap();
    let create_workgroup = sent
        .iter()
        .position(|r| r.operation == "CreateWorkgroup")
        .unwrap();
    assert!(create < create_workgroup, "the namespace first");
    assert!(!session.plan().await.unwrap().has_changes());

    // By hand, each a call of its own (AWS takes one parameter per request):
    // made public, resized, moved, another role attached, tags changed.
    let updates: Vec<aws_sdk_redshiftserverless::operation::update_workgroup::builders::UpdateWorkgroupFluentBuilder> = vec![
        hand.update_workgroup().publicly_accessible(true),
        hand.update_workgroup().base_capacity(32),
        hand.update_workgroup().max_capacity(128),
        hand.update_workgroup().subnet_ids("subnet-ccc"),
        hand.update_workgroup().security_group_ids("sg-999"),
    ];
    for update in updates {
        update.workgroup_name("sv-warehouse").send().await.unwrap();
        settled(&hand).await;
    }
    hand.update_namespace()
        .namespace_name("sv-warehouse")
        .iam_roles("arn:aws:iam::123456789012:role/someone-elses")
        .default_iam_role_arn("arn:aws:iam::123456789012:role/someone-elses")
        .send()
        .await
        .unwrap();
    settled(&hand).await;
    hand.tag_resource()
        .resource_arn(made.workgroup_arn().unwrap())
        .tags(Tag::builder().key("team").value("ops").build().unwrap())
        .send()
        .await
        .unwrap();
    hand.untag_resource()
        .resource_arn(ns.namespace_arn().unwrap())
        .tag_keys("showcase:kind")
        .send()
        .await
        .unwrap();

    aws.requests.clear();
    let drift = session.plan().await.unwrap();
    let reads_of_drift = aws.requests.all();
    assert_eq!(
        fields_of(change_of(&drift, WORKGROUP)),
        [
            "base_capacity",
            "max_capacity",
            "publicly_accessible",
            "security_groups",
            "subnets",
            "tags"
        ]
    );
    assert_eq!(
        fields_of(change_of(&drift, NAMESPACE)),
        ["default_iam_role", "iam_roles", "tags"]
    );
    aws.requests.clear();
    session.up(false, &no_plan, &quiet).await.unwrap();
    let repaired = workgroup(&hand).await;
    assert_eq!(repaired.publicly_accessible(), Some(false));
    assert_eq!(repaired.base_capacity(), Some(8));
    assert_eq!(repaired.max_capacity(), Some(64));
    assert_eq!(repaired.subnet_ids(), ["subnet-aaa", "subnet-bbb"]);
    assert_eq!(repaired.security_group_ids(), ["sg-111"]);
    assert!(
        !tags(&hand, repaired.workgroup_arn().unwrap())
            .await
            .contains_key("team")
    );
    assert_eq!(
        namespace(&hand).await.iam_roles(),
        [format!(
            "IamRole(applyStatus=in-sync, iamRoleArn={COPY_ROLE})"
        )]
    );
    assert!(
        !session.plan().await.unwrap().has_changes(),
        "AWS's churn (versions) is not drift"
    );

    // down without --delete-data keeps the warehouse whole.
    let (prepared, plan) = session.down_plan().await.unwrap();
    let text = showcase_deploy::report::down_plan_text(&plan, false);
    assert!(
        text.contains(&format!("{NAMESPACE}  kept: holds data")),
        "{text}"
    );
    session.down(&prepared, &plan, false, &quiet).await.unwrap();
    workgroup(&hand).await;
    namespace(&hand).await;
    // With it: the workgroup, then the namespace after a final snapshot.
    let (prepared, plan) = session.down_plan().await.unwrap();
    session.down(&prepared, &plan, true, &quiet).await.unwrap();
    let repairs_and_down = aws.requests.all();
    assert!(
        hand.get_namespace()
            .namespace_name("sv-warehouse")
            .send()
            .await
            .is_err()
    );
    let snapshots = stand_in.snapshots();
    assert_eq!(snapshots.len(), 1, "{snapshots:?}");
    assert!(snapshots[0].starts_with("sv-warehouse-final-"));
    let snapshot = hand
        .get_snapshot()
        .snapshot_name(&snapshots[0])
        .send()
        .await
        .unwrap();
    assert_eq!(
        snapshot.snapshot().and_then(|s| s.namespace_name()),
        Some("sv-warehouse")
    );

    // Every request is in the table; reads in the read-only policy.
    let stack = &session.stack;
    let read_only: String = permissions::policy(stack, "123456789012", Access::Read).to_string();
    let full: String = permissions::policy(stack, "123456789012", Access::Write).to_string();
    let distinct = |requests: &[showcase_deploy::aws::Request]| -> BTreeSet<(String, String)> {
        requests
            .iter()
            .filter(|r| r.service == "Redshift Serverless")
            .map(|r| (r.service.clone(), r.operation.clone()))
            .collect()
    };
    let reads: BTreeSet<_> = distinct(&reads_before_up)
        .union(&distinct(&reads_of_drift))
        .cloned()
        .collect();
    let writes: BTreeSet<_> = distinct(&sent)
        .union(&distinct(&repairs_and_down))
        .cloned()
        .collect();
    for (service, operation) in &reads {
        let (actions, access) = permissions::required(service, operation)
            .unwrap_or_else(|| panic!("{operation} not in the table"));
        assert_eq!(access, Access::Read, "{operation}");
        for action in actions {
            assert!(read_only.contains(action), "{action} not read-only");
        }
    }
    for (service, operation) in &writes {
        let (actions, _) = permissions::required(service, operation)
            .unwrap_or_else(|| panic!("{operation} not in the table"));
        for action in actions {
            assert!(full.contains(action), "{action} not in the policy");
        }
    }
    let written: BTreeSet<&str> = writes.iter().map(|(_, o)| o.as_str()).collect();
    for expected in [
        "CreateNamespace",
        "CreateWorkgroup",
        "UpdateWorkgroup",
        "UpdateNamespace",
        "TagResource",
        "UntagResource",
        "DeleteWorkgroup",
        "DeleteNamespace",
    ] {
        assert!(written.contains(expected), "{expected}: {written:?}");
    }
    assert!(
        full.contains("\"redshift.amazonaws.com\"") && full.contains("PassCopyRole"),
        "{full}"
    );
}

/// A workgroup a killed `up` left CREATING: the next plan says it is still
/// coming up, and `up` waits for it instead of making another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_up_s_workgroup_is_waited_for_not_made_again() {
    let World {
        session,
        hand,
        stand_in: _stand_in,
        moto: _moto,
        _dir,
    } = world(Duration::from_millis(1500)).await;
    session.up(false, &no_plan, &quiet).await.unwrap();
    // As a killed `up` leaves it: deleted and made again by the tool's own
    // call, then the process gone before it became AVAILABLE.
    let (prepared, plan) = session.down_plan().await.unwrap();
    let workgroup_only: Vec<_> = prepared
        .declared
        .iter()
        .filter(|r| r.address().kind == "redshift_workgroup")
        .collect();
    assert_eq!(workgroup_only.len(), 1);
    let live = plan.live(&workgroup_only[0].address()).unwrap();
    workgroup_only[0]
        .id()
        .delete(&session.aws, live, true)
        .await
        .unwrap();
    let created = tokio::time::timeout(
        Duration::from_millis(300),
        workgroup_only[0].create(&session.aws),
    )
    .await;
    assert!(created.is_err(), "create returned before AVAILABLE");
    assert_eq!(
        workgroup(&hand).await.status().map(|s| s.as_str()),
        Some("CREATING")
    );

    let plan = session.plan().await.unwrap();
    assert_eq!(fields_of(change_of(&plan, WORKGROUP)), ["status"]);
    session.aws.requests.clear();
    session.up(false, &no_plan, &quiet).await.unwrap();
    let operations: Vec<String> = session
        .aws
        .requests
        .all()
        .into_iter()
        .map(|r| r.operation)
        .collect();
    assert!(
        !operations.iter().any(|o| o.starts_with("Create")),
        "{operations:?}"
    );
    assert_eq!(
        workgroup(&hand).await.status().map(|s| s.as_str()),
        Some("AVAILABLE")
    );
}

/// A namespace and workgroup of the stack's name made by hand are never
/// adopted, changed or deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_namespace_and_workgroup_are_refused_and_untouched() {
    let World {
        session,
        hand,
        stand_in: _stand_in,
        moto: _moto,
        _dir,
    } = world(Duration::from_millis(100)).await;
    hand.create_namespace()
        .namespace_name("sv-warehouse")
        .admin_username("theirs")
        .admin_user_password("Theirs-Passw0rd")
        .send()
        .await
        .unwrap();
    hand.create_workgroup()
        .workgroup_name("sv-warehouse")
        .namespace_name("sv-warehouse")
        .base_capacity(32)
        .send()
        .await
        .unwrap();
    settled(&hand).await;
    let plan = session.plan().await.unwrap();
    for address in [NAMESPACE, WORKGROUP] {
        assert!(
            matches!(change_of(&plan, address), Action::Refuse { .. }),
            "{plan:#?}"
        );
    }
    session.aws.requests.clear();
    assert!(session.up(false, &no_plan, &quiet).await.is_err());
    assert!(session.aws.requests.mutating().is_empty());
    let (prepared, plan) = session.down_plan().await.unwrap();
    session
        .down_with(&prepared, &plan, true, true, &quiet)
        .await
        .unwrap();
    assert_eq!(workgroup(&hand).await.base_capacity(), Some(32));
    assert_eq!(namespace(&hand).await.admin_username(), Some("theirs"));
}

/// `down --delete-data --skip-final-snapshot`: the warehouse goes with no
/// snapshot, serverless and cluster alike (moto skips a cluster's final
/// snapshot unless told not to: the tool says so explicitly either way).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn down_with_skip_final_snapshot_leaves_none() {
    let World {
        session,
        hand,
        stand_in,
        moto,
        _dir,
    } = world(Duration::from_millis(100)).await;
    session.up(false, &no_plan, &quiet).await.unwrap();
    let (prepared, plan) = session.down_plan().await.unwrap();
    session
        .down_with(&prepared, &plan, true, true, &quiet)
        .await
        .unwrap();
    assert!(
        hand.get_namespace()
            .namespace_name("sv-warehouse")
            .send()
            .await
            .is_err()
    );
    assert!(
        stand_in.snapshots().is_empty(),
        "{:?}",
        stand_in.snapshots()
    );

    let cluster_stack = STACK
        .replace("kind = \"serverless\"", "kind = \"cluster\"")
        .replace("base_capacity = 8\nmax_capacity = 64\n", "")
        .replace("subnet_ids = [\"subnet-aaa\", \"subnet-bbb\"]\n", "")
        .replace("security_group_ids = [\"sg-111\"]\n", "");
    let stack = config::parse(&cluster_stack, Path::new("stack.toml"), &Vars::default()).unwrap();
    let cluster = Session::new(session.aws.clone(), stack, session.code.clone());
    let redshift = aws_sdk_redshift::Client::new(&moto.sdk_config("us-east-1").await);
    for skip in [true, false] {
        cluster.up(false, &no_plan, &quiet).await.unwrap();
        let (prepared, plan) = cluster.down_plan().await.unwrap();
        cluster
            .down_with(&prepared, &plan, true, skip, &quiet)
            .await
            .unwrap();
        assert!(
            redshift
                .describe_clusters()
                .cluster_identifier("sv-warehouse")
                .send()
                .await
                .is_err()
        );
        let snapshots = redshift.describe_cluster_snapshots().send().await.unwrap();
        let finals = snapshots
            .snapshots()
            .iter()
            .filter(|s| {
                s.snapshot_identifier()
                    .is_some_and(|id| id.starts_with("sv-warehouse-final-"))
            })
            .count();
        assert_eq!(finals, usize::from(!skip), "skip = {skip}: {snapshots:?}");
    }
}
