#![cfg(feature = "deploy")]
//! `[warehouse] kind = "existing"`: the user's cluster (moto) or workgroup
//! (testkit's Redshift Serverless stand-in) is read, never modified; plan and
//! drift say whether the stack's COPY role is attached and print the exact
//! command that attaches it; drift exits 2 while it is not; a warehouse that
//! does not exist is an error naming it.

use std::path::Path;
use std::process::Output;

use showcase_deploy::aws::Aws;
use showcase_deploy::config::FunctionName;
use showcase_deploy::config::{self, Vars};
use showcase_deploy::existing_warehouse::check;
use showcase_deploy::resources::function::Code;
use showcase_deploy::session::Session;
use showcase_testkit::{MotoServer, RedshiftServerless};

const COPY_ROLE: &str = "arn:aws:iam::123456789012:role/ex-warehouse-copy-role";

fn stack_toml(existing: &str) -> String {
    format!(
        "[stack]\nname = \"ex\"\nregion = \"us-east-1\"\n\n[lake]\nbucket = \"ex-lake\"\n\n[warehouse]\nkind = \"existing\"\n{existing}\n"
    )
}

fn stack(existing: &str) -> config::Stack {
    config::parse(
        &stack_toml(existing),
        Path::new("stack.toml"),
        &Vars::default(),
    )
    .unwrap()
}

/// `showcase-deploy ARGS --stack <dir>/stack.toml` against moto, as a CI job
/// runs it; with no build of the functions to compare (an empty target
/// directory), so that only the warehouse decides whether it drifted.
fn cli(moto: &MotoServer, dir: &Path, toml: &str, args: &[&str]) -> Output {
    let path = dir.join("stack.toml");
    std::fs::write(&path, toml).unwrap();
    std::process::Command::new(env!("CARGO_BIN_EXE_showcase-deploy"))
        .current_dir(showcase_testkit::workspace_root())
        .args(args)
        .arg("--stack")
        .arg(&path)
        .envs(moto.aws_env())
        .env("CI", "true")
        .env("CARGO_TARGET_DIR", dir.join("no-build"))
        .output()
        .unwrap()
}

fn fake_code(dir: &Path) -> std::collections::BTreeMap<FunctionName, Code> {
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

async fn their_cluster(redshift: &aws_sdk_redshift::Client, id: &str, roles: &[&str]) {
    redshift
        .create_cluster()
        .cluster_identifier(id)
        .node_type("ra3.large")
        .cluster_type("single-node")
        .master_username("theirs")
        .master_user_password("Theirs-Passw0rd")
        .set_iam_roles(Some(roles.iter().map(|r| (*r).to_owned()).collect()))
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_cluster_is_read_and_the_missing_copy_role_is_drift_with_its_command() {
    let moto = MotoServer::start();
    let aws = Aws::connect_with("us-east-1", moto.config_loader()).await;
    let redshift = aws_sdk_redshift::Client::new(&moto.sdk_config("us-east-1").await);
    their_cluster(&redshift, "their-cluster", &[]).await;
    their_cluster(&redshift, "their-attached", &[COPY_ROLE]).await;

    aws.requests.clear();
    let found = check(&aws, &stack("cluster = \"their-cluster\""), "123456789012")
        .await
        .unwrap()
        .unwrap();
    assert!(!found.copy_role_attached);
    assert_eq!(
        found.attach_command.as_deref(),
        Some(
            "aws redshift modify-cluster-iam-roles --cluster-identifier their-cluster --add-iam-roles arn:aws:iam::123456789012:role/ex-warehouse-copy-role --region us-east-1"
        )
    );
    assert!(aws.requests.mutating().is_empty(), "read only");
    let attached = check(&aws, &stack("cluster = \"their-attached\""), "123456789012")
        .await
        .unwrap()
        .unwrap();
    assert!(attached.copy_role_attached && attached.attach_command.is_none());

    // Through the binary, as a scheduled drift job runs it, on a stack `up` made.
    let dir = tempfile::tempdir().unwrap();
    Session::new(
        aws.clone(),
        stack("cluster = \"their-cluster\""),
        fake_code(dir.path()),
    )
    .up(false, &|_| {}, &|_| {})
    .await
    .unwrap();
    let output = cli(
        &moto,
        dir.path(),
        &stack_toml("cluster = \"their-cluster\""),
        &["drift", "--output", "json"],
    );
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["drifted"], true);
    assert_eq!(report["existing_warehouse"]["copy_role_attached"], false);
    assert_eq!(
        report["existing_warehouse"]["attach_command"],
        found.attach_command.clone().unwrap()
    );
    let output = cli(
        &moto,
        dir.path(),
        &stack_toml("cluster = \"their-cluster\""),
        &["plan"],
    );
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("existing warehouse cluster their-cluster: the COPY role")
            && text.contains("NOT attached")
            && text.contains(found.attach_command.as_deref().unwrap()),
        "{text}"
    );
    let output = cli(
        &moto,
        dir.path(),
        &stack_toml("cluster = \"their-attached\""),
        &["drift"],
    );
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "in sync once attached: {text}"
    );
    assert!(
        text.contains("existing warehouse cluster their-attached: the COPY role")
            && text.contains("is attached"),
        "{text}"
    );

    // A missing cluster is an error naming it.
    let output = cli(
        &moto,
        dir.path(),
        &stack_toml("cluster = \"no-such-cluster\""),
        &["drift"],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("the existing warehouse cluster no-such-cluster")
            && stderr.contains("does not exist"),
        "{stderr}"
    );

    // Never modified: their clusters are as they were.
    let theirs = redshift
        .describe_clusters()
        .cluster_identifier("their-cluster")
        .send()
        .await
        .unwrap();
    assert!(theirs.clusters()[0].iam_roles().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_workgroup_is_read_through_its_namespace() {
    let moto = MotoServer::start();
    let serverless = RedshiftServerless::default();
    moto.serve_redshift_serverless(&serverless);
    let aws = Aws::connect_with("us-east-1", moto.config_loader()).await;
    let hand = aws_sdk_redshiftserverless::Client::new(&moto.sdk_config("us-east-1").await);
    let theirs = "arn:aws:iam::123456789012:role/their-own";
    hand.create_namespace()
        .namespace_name("their-ns")
        .iam_roles(theirs)
        .send()
        .await
        .unwrap();
    hand.create_workgroup()
        .workgroup_name("their-wg")
        .namespace_name("their-ns")
        .base_capacity(8)
        .send()
        .await
        .unwrap();

    aws.requests.clear();
    let found = check(&aws, &stack("workgroup = \"their-wg\""), "123456789012")
        .await
        .unwrap()
        .unwrap();
    assert!(aws.requests.mutating().is_empty(), "read only");
    assert_eq!(found.warehouse, "workgroup their-wg (namespace their-ns)");
    assert!(!found.copy_role_attached);
    // UpdateNamespace replaces the list: the command keeps their role.
    assert_eq!(
        found.attach_command.as_deref(),
        Some(
            "aws redshift-serverless update-namespace --namespace-name their-ns --iam-roles arn:aws:iam::123456789012:role/their-own arn:aws:iam::123456789012:role/ex-warehouse-copy-role --region us-east-1"
        )
    );

    // Once they run it, the role is attached.
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    hand.update_namespace()
        .namespace_name("their-ns")
        .iam_roles(theirs)
        .iam_roles(COPY_ROLE)
        .send()
        .await
        .unwrap();
    let found = check(&aws, &stack("workgroup = \"their-wg\""), "123456789012")
        .await
        .unwrap()
        .unwrap();
    assert!(found.copy_role_attached && found.attach_command.is_none());

    let missing = check(&aws, &stack("workgroup = \"no-such-wg\""), "123456789012")
        .await
        .unwrap_err();
    assert!(
        missing.to_string().contains("workgroup no-such-wg")
            && missing.to_string().contains("does not exist"),
        "{missing}"
    );
}
