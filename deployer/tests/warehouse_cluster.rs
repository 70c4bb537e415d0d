#![cfg(feature = "deploy")]
//! The warehouse cluster in the stack, against moto's server: created
//! encrypted, private, with the COPY role attached and its password managed
//! by AWS; hand changes found by drift and repaired; a cluster of the same
//! name that is not the stack's refused and untouched; a change that needs a
//! new cluster refused without --delete-data; `down` keeps it, or deletes it
//! after a final snapshot.

use std::collections::BTreeMap;
use std::path::Path;

use showcase_deploy::aws::Aws;
use showcase_deploy::config::{self, FunctionName, Vars};
use showcase_deploy::engine::{Action, Event, Plan};
use showcase_deploy::resources::function::Code;
use showcase_deploy::session::Session;
use showcase_testkit::MotoServer;

const STACK: &str = r#"
[stack]
name = "wh"
region = "us-east-1"

[lake]
bucket = "wh-lake"
prefix = "raw/"

[warehouse]
kind = "cluster"
database = "${var.database}"
nodes = 2
snapshot_retention_days = 3
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

async fn session(moto: &MotoServer, dir: &Path, database: &str) -> Session {
    let stack = config::parse(
        STACK,
        Path::new("stack.toml"),
        &Vars::default().with("database", database),
    )
    .unwrap();
    let aws = Aws::connect_with("us-east-1", moto.config_loader()).await;
    Session::new(aws, stack, code(dir))
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
    match action {
        Action::Update { fields } | Action::Replace { fields, .. } => {
            fields.iter().map(|f| f.field).collect()
        }
        _ => Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cluster_lifecycle() {
    let moto = MotoServer::start();
    let dir = tempfile::tempdir().unwrap();
    let session = session(&moto, dir.path(), "showcase").await;
    let hand = moto.sdk_config("us-east-1").await;
    let redshift = aws_sdk_redshift::Client::new(&hand);
    let iam = aws_sdk_iam::Client::new(&hand);

    let plan = session.plan().await.unwrap();
    assert_eq!(
        change_of(&plan, "copy_role.wh-warehouse-copy-role"),
        &Action::Create
    );
    assert_eq!(
        change_of(&plan, "redshift_cluster.wh-warehouse"),
        &Action::Create
    );
    session.up(false, &no_plan, &quiet).await.unwrap();

    let described = redshift
        .describe_clusters()
        .cluster_identifier("wh-warehouse")
        .send()
        .await
        .unwrap();
    let cluster = &described.clusters()[0];
    assert_eq!(cluster.encrypted(), Some(true));
    assert_eq!(cluster.publicly_accessible(), Some(false));
    assert_eq!(cluster.node_type(), Some("ra3.large"));
    assert_eq!(cluster.number_of_nodes(), Some(2));
    assert_eq!(cluster.db_name(), Some("showcase"));
    assert_eq!(cluster.master_username(), Some("showcase_admin"));
    assert_eq!(cluster.automated_snapshot_retention_period(), Some(3));
    let roles: Vec<&str> = cluster
        .iam_roles()
        .iter()
        .filter_map(|r| r.iam_role_arn())
        .collect();
    assert_eq!(
        roles,
        ["arn:aws:iam::123456789012:role/wh-warehouse-copy-role"]
    );
    let tags: BTreeMap<&str, &str> = cluster
        .tags()
        .iter()
        .filter_map(|t| Some((t.key()?, t.value()?)))
        .collect();
    assert_eq!(tags["showcase:stack"], "wh");
    assert_eq!(tags["showcase:kind"], "redshift_cluster");
    let role = iam
        .get_role()
        .role_name("wh-warehouse-copy-role")
        .send()
        .await
        .unwrap();
    let trust = percent_decode(role.role().unwrap().assume_role_policy_document().unwrap());
    assert!(trust.contains("redshift.amazonaws.com"), "{trust}");
    let policy = iam
        .get_role_policy()
        .role_name("wh-warehouse-copy-role")
        .policy_name("least-privilege")
        .send()
        .await
        .unwrap();
    let policy = percent_decode(policy.policy_document());
    assert!(
        policy.contains("arn:aws:s3:::wh-lake/raw/*") && !policy.contains("PutObject"),
        "{policy}"
    );
    let drift = session.plan().await.unwrap();
    assert!(!drift.has_changes(), "{drift:#?}");

    // By hand: made public and shrunk to one node. Drift says so; up undoes it.
    redshift
        .modify_cluster()
        .cluster_identifier("wh-warehouse")
        .publicly_accessible(true)
        .number_of_nodes(1)
        .cluster_type("single-node")
        .send()
        .await
        .unwrap();
    let drift = session.plan().await.unwrap();
    let mut drifted = fields_of(change_of(&drift, "redshift_cluster.wh-warehouse"));
    drifted.sort_unstable();
    assert_eq!(drifted, ["nodes", "publicly_accessible"]);
    session.up(false, &no_plan, &quiet).await.unwrap();
    let cluster = redshift
        .describe_clusters()
        .cluster_identifier("wh-warehouse")
        .send()
        .await
        .unwrap()
        .clusters()[0]
        .clone();
    assert_eq!(cluster.publicly_accessible(), Some(false));
    assert_eq!(cluster.number_of_nodes(), Some(2));
    assert!(!session.plan().await.unwrap().has_changes());

    // By hand: another role attached, then the COPY role detached. Drift
    // says so; up attaches the COPY role again and detaches the other.
    let copy_role = "arn:aws:iam::123456789012:role/wh-warehouse-copy-role";
    let theirs = "arn:aws:iam::123456789012:role/someone-elses";
    redshift
        .modify_cluster_iam_roles()
        .cluster_identifier("wh-warehouse")
        .add_iam_roles(theirs)
        .send()
        .await
        .unwrap();
    redshift
        .modify_cluster_iam_roles()
        .cluster_identifier("wh-warehouse")
        .remove_iam_roles(copy_role)
        .send()
        .await
        .unwrap();
    let roles = |cluster: &aws_sdk_redshift::types::Cluster| -> Vec<String> {
        cluster
            .iam_roles()
            .iter()
            .filter_map(|r| r.iam_role_arn().map(str::to_owned))
            .collect()
    };
    let described = redshift
        .describe_clusters()
        .cluster_identifier("wh-warehouse")
        .send()
        .await
        .unwrap();
    assert_eq!(roles(&described.clusters()[0]), [theirs]);
    let drift = session.plan().await.unwrap();
    assert_eq!(
        fields_of(change_of(&drift, "redshift_cluster.wh-warehouse")),
        ["iam_roles"]
    );
    session.up(false, &no_plan, &quiet).await.unwrap();
    let described = redshift
        .describe_clusters()
        .cluster_identifier("wh-warehouse")
        .send()
        .await
        .unwrap();
    assert_eq!(roles(&described.clusters()[0]), [copy_role]);
    assert!(!session.plan().await.unwrap().has_changes());

    // `down` without --delete-data keeps the cluster (and says so first).
    let (prepared, plan) = session.down_plan().await.unwrap();
    let text = showcase_deploy::report::down_plan_text(&plan, false);
    assert!(
        text.contains("redshift_cluster.wh-warehouse  kept: holds data"),
        "{text}"
    );
    session.down(&prepared, &plan, false, &quiet).await.unwrap();
    assert!(
        redshift
            .describe_clusters()
            .cluster_identifier("wh-warehouse")
            .send()
            .await
            .is_ok(),
        "the cluster was deleted without --delete-data"
    );

    // With --delete-data: a final snapshot first, then the cluster goes.
    let (prepared, plan) = session.down_plan().await.unwrap();
    session.down(&prepared, &plan, true, &quiet).await.unwrap();
    assert!(
        redshift
            .describe_clusters()
            .cluster_identifier("wh-warehouse")
            .send()
            .await
            .is_err()
    );
    let snapshots = redshift.describe_cluster_snapshots().send().await.unwrap();
    assert!(
        snapshots.snapshots().iter().any(|s| s
            .snapshot_identifier()
            .is_some_and(|id| id.starts_with("wh-warehouse-final-"))),
        "{snapshots:?}"
    );
}

/// A new database name needs a new cluster: the plan says it deletes data,
/// and up refuses without --delete-data, touching nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_that_needs_a_new_cluster_is_refused_without_delete_data() {
    let moto = MotoServer::start();
    let dir = tempfile::tempdir().unwrap();
    session(&moto, dir.path(), "showcase")
        .await
        .up(false, &no_plan, &quiet)
        .await
        .unwrap();
    let renamed = session(&moto, dir.path(), "warehouse").await;
    let plan = renamed.plan().await.unwrap();
    assert!(
        matches!(
            change_of(&plan, "redshift_cluster.wh-warehouse"),
            Action::Replace {
                deletes_data: true,
                ..
            }
        ),
        "{plan:#?}"
    );
    renamed.aws.requests.clear();
    let refused = renamed.up(false, &no_plan, &quiet).await.unwrap_err();
    assert!(refused.to_string().contains("--delete-data"), "{refused}");
    assert!(renamed.aws.requests.mutating().is_empty());
}

/// A cluster of the stack's name made by hand is never adopted, changed or deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_cluster_of_the_same_name_is_refused_and_untouched() {
    let moto = MotoServer::start();
    let dir = tempfile::tempdir().unwrap();
    let session = session(&moto, dir.path(), "showcase").await;
    let hand = moto.sdk_config("us-east-1").await;
    let redshift = aws_sdk_redshift::Client::new(&hand);
    redshift
        .create_cluster()
        .cluster_identifier("wh-warehouse")
        .node_type("ra3.large")
        .cluster_type("single-node")
        .master_username("theirs")
        .master_user_password("Theirs-Passw0rd")
        .send()
        .await
        .unwrap();
    let plan = session.plan().await.unwrap();
    assert!(
        matches!(
            change_of(&plan, "redshift_cluster.wh-warehouse"),
            Action::Refuse { .. }
        ),
        "{plan:#?}"
    );
    assert!(session.up(false, &no_plan, &quiet).await.is_err());
    let (prepared, plan) = session.down_plan().await.unwrap();
    session.down(&prepared, &plan, true, &quiet).await.unwrap();
    let theirs = redshift
        .describe_clusters()
        .cluster_identifier("wh-warehouse")
        .send()
        .await
        .expect("their cluster was deleted");
    assert_eq!(theirs.clusters()[0].master_username(), Some("theirs"));
}

/// IAM answers policy documents URL-encoded.
fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// The policy the tool needs gains the cluster's rows, the COPY role may be
/// handed to Redshift only, and the read-only policy still changes nothing.
#[test]
fn the_policy_covers_the_warehouse_and_passes_the_copy_role_to_redshift_only() {
    let stack = config::parse(
        STACK,
        Path::new("stack.toml"),
        &Vars::default().with("database", "showcase"),
    )
    .unwrap();
    use showcase_deploy::permissions::{Access, policy, required};
    for operation in [
        "CreateCluster",
        "DescribeClusters",
        "ModifyCluster",
        "ModifyClusterIamRoles",
        "DeleteCluster",
    ] {
        assert!(required("Redshift", operation).is_some(), "{operation}");
    }
    let write = policy(&stack, "123456789012", Access::Write).to_string();
    assert!(
        write.contains("arn:aws:redshift:us-east-1:123456789012:cluster:wh-warehouse"),
        "{write}"
    );
    let statements = policy(&stack, "123456789012", Access::Write)["Statement"].clone();
    let pass = statements
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == "PassCopyRole")
        .unwrap()
        .clone();
    assert_eq!(
        pass["Resource"],
        "arn:aws:iam::123456789012:role/wh-warehouse-copy-role"
    );
    assert_eq!(
        pass["Condition"]["StringEquals"]["iam:PassedToService"],
        "redshift.amazonaws.com"
    );
    let read = policy(&stack, "123456789012", Access::Read).to_string();
    assert!(read.contains("redshift:DescribeClusters"), "{read}");
    assert!(
        !read.contains("CreateCluster") && !read.contains("PassRole"),
        "{read}"
    );
}
