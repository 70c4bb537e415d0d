//! The seed as its users run it, on moto: `seed-stack.cfn.json` (the seed's
//! `template.yaml` expanded to plain CloudFormation; copied from
//! `../shared/seed/original/`) deployed as CloudFormation stack
//! `showcase-data-pipeline`, and its lake bucket filled with days in the
//! seed's layout, some keys with several versions. `dags/` is a DAG folder
//! shaped like the seed's (its cluster in `redshift_config.txt`, a COPY with a
//! hard-coded role).
// Each test binary uses a part of this.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use showcase_testkit::{MotoServer, workspace_root};

pub const CFN_STACK: &str = "showcase-data-pipeline";
pub const LAKE: &str = "showcase-data-pipeline";
pub const REGION: &str = "us-east-1";

pub const STACK_TOML: &str = r#"
[stack]
name = "seedmig"
region = "us-east-1"

[lake]
bucket = "${var.bucket}"
"#;

/// Every object version: `(key, version id)` → bytes.
pub type Versions = BTreeMap<(String, String), Vec<u8>>;

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/seed_stack")
}

/// Deploys the seed's stack and fills its lake; returns what the lake holds.
pub async fn deploy_seed(moto: &MotoServer) -> Versions {
    let config = moto.sdk_config(REGION).await;
    let s3 = aws_sdk_s3::Client::new(&config);
    // The functions' code, where the expanded template's CodeUri points.
    s3.create_bucket()
        .bucket("seed-artifacts")
        .send()
        .await
        .unwrap();
    let zip = showcase_deploy::build::bootstrap_zip(b"the seed's python").unwrap();
    s3.put_object()
        .bucket("seed-artifacts")
        .key("code.zip")
        .body(zip.into())
        .send()
        .await
        .unwrap();
    let template = std::fs::read_to_string(fixtures().join("seed-stack.cfn.json")).unwrap();
    let cfn = aws_sdk_cloudformation::Client::new(&config);
    cfn.create_stack()
        .stack_name(CFN_STACK)
        .template_body(template)
        .capabilities(aws_sdk_cloudformation::types::Capability::CapabilityIam)
        .send()
        .await
        .unwrap();
    assert_eq!(cfn_status(moto).await.as_deref(), Some("CREATE_COMPLETE"));
    // The seed's bucket had no versioning; this user turned it on, so history has versions.
    s3.put_bucket_versioning()
        .bucket(LAKE)
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    for day in ["2024-03-01", "2024-03-02", "2024-03-03"] {
        for (file, writes) in [
            ("sales.parquet", 3),
            ("products.csv", 2),
            ("customers.csv", 1),
        ] {
            for n in 0..writes {
                let body: Vec<u8> = format!("{day}/{file} version {n}\n")
                    .into_bytes()
                    .into_iter()
                    .chain((0..=255u8).cycle().take(300 + n * 17))
                    .collect();
                s3.put_object()
                    .bucket(LAKE)
                    .key(format!("{day}/{file}"))
                    .body(body.into())
                    .send()
                    .await
                    .unwrap();
            }
        }
    }
    let versions = lake_versions(moto).await;
    assert_eq!(versions.len(), 3 * (3 + 2 + 1));
    versions
}

/// Every version of every object in the lake, read back byte by byte.
/// (moto applies our TLS-only policy to its plain-HTTP endpoint: call this
/// once drift has been checked, after lifting the policy.)
pub async fn lake_versions(moto: &MotoServer) -> Versions {
    let s3 = aws_sdk_s3::Client::new(&moto.sdk_config(REGION).await);
    let listed = s3.list_object_versions().bucket(LAKE).send().await.unwrap();
    assert!(!listed.is_truncated().unwrap_or(false));
    assert!(listed.delete_markers().is_empty(), "no object was deleted");
    let mut versions = Versions::new();
    for v in listed.versions() {
        let (key, id) = (v.key().unwrap(), v.version_id().unwrap());
        let body = s3
            .get_object()
            .bucket(LAKE)
            .key(key)
            .version_id(id)
            .send()
            .await
            .unwrap()
            .body
            .collect()
            .await
            .unwrap()
            .into_bytes()
            .to_vec();
        versions.insert((key.to_owned(), id.to_owned()), body);
    }
    versions
}

/// The seed stack's status; `None` once it is gone.
pub async fn cfn_status(moto: &MotoServer) -> Option<String> {
    let cfn = aws_sdk_cloudformation::Client::new(&moto.sdk_config(REGION).await);
    let out = cfn
        .describe_stacks()
        .stack_name(CFN_STACK)
        .send()
        .await
        .ok()?;
    out.stacks()
        .first()
        .and_then(|s| s.stack_status())
        .map(|s| s.as_str().to_owned())
}

/// The seed stack's bucket `DeletionPolicy` in its live template.
pub async fn bucket_deletion_policy(moto: &MotoServer) -> Option<String> {
    let cfn = aws_sdk_cloudformation::Client::new(&moto.sdk_config(REGION).await);
    let out = cfn.get_template().stack_name(CFN_STACK).send().await.ok()?;
    let template: serde_json::Value = serde_json::from_str(out.template_body()?).ok()?;
    template["Resources"]["PipelineBucket"]["DeletionPolicy"]
        .as_str()
        .map(str::to_owned)
}

pub async fn bucket_tags(moto: &MotoServer) -> BTreeMap<String, String> {
    let s3 = aws_sdk_s3::Client::new(&moto.sdk_config(REGION).await);
    match s3.get_bucket_tagging().bucket(LAKE).send().await {
        Ok(out) => out
            .tag_set()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect(),
        Err(_) => BTreeMap::new(),
    }
}

pub async fn function_names(moto: &MotoServer) -> Vec<String> {
    let lambda = aws_sdk_lambda::Client::new(&moto.sdk_config(REGION).await);
    let mut names: Vec<String> = lambda
        .list_functions()
        .send()
        .await
        .unwrap()
        .functions()
        .iter()
        .filter_map(|f| f.function_name().map(str::to_owned))
        .collect();
    names.sort();
    names
}

pub async fn role_names(moto: &MotoServer) -> Vec<String> {
    let iam = aws_sdk_iam::Client::new(&moto.sdk_config(REGION).await);
    let mut names: Vec<String> = iam
        .list_roles()
        .send()
        .await
        .unwrap()
        .roles()
        .iter()
        .map(|r| r.role_name().to_owned())
        .collect();
    names.sort();
    names
}

/// The built binary, as a user runs it, from the repository root.
pub fn command(moto: &MotoServer, stack_toml: &Path, bucket: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_showcase-deploy"));
    command
        .current_dir(workspace_root())
        .args(args)
        .arg("--stack")
        .arg(stack_toml)
        .args(["--var", &format!("bucket={bucket}")])
        .envs(moto.aws_env())
        .env("CI", "true");
    command
}

pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The Lambda zips `--skip-build` uses, built once per test binary.
pub fn build_once() {
    static BUILT: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    BUILT.get_or_init(|| {
        let build = Command::new(env!("CARGO_BIN_EXE_showcase-deploy"))
            .current_dir(workspace_root())
            .arg("build")
            .output()
            .unwrap();
        assert!(build.status.success(), "{}", text(&build));
    });
}

/// The end state of a migration: the seed's stack, functions and roles gone,
/// ours up and in sync, every object version as it was.
pub async fn assert_migrated(moto: &MotoServer, stack_toml: &Path, before: &Versions) {
    assert_eq!(
        cfn_status(moto).await,
        None,
        "the CloudFormation stack is gone"
    );
    let functions = function_names(moto).await;
    assert_eq!(
        functions,
        ["seedmig-data-api", "seedmig-extractor"],
        "the seed's five functions are gone, ours are up"
    );
    let roles = role_names(moto).await;
    assert!(
        roles
            .iter()
            .all(|r| !r.starts_with("showcase-data-pipeline")),
        "the seed's roles are gone: {roles:?}"
    );
    assert_eq!(
        roles.iter().filter(|r| r.starts_with("seedmig-")).count(),
        2,
        "{roles:?}"
    );
    let tags = bucket_tags(moto).await;
    assert_eq!(
        tags.get("showcase:stack").map(String::as_str),
        Some("seedmig")
    );
    assert_eq!(
        tags.get("showcase:kind").map(String::as_str),
        Some("lake_bucket")
    );
    let drift = command(moto, stack_toml, LAKE, &["drift"])
        .output()
        .unwrap();
    assert_eq!(drift.status.code(), Some(0), "drift: {}", text(&drift));

    // Lift the TLS-only policy (moto's endpoint is plain HTTP) to read the objects.
    let s3 = aws_sdk_s3::Client::new(&moto.sdk_config(REGION).await);
    s3.delete_bucket_policy().bucket(LAKE).send().await.unwrap();
    let after = lake_versions(moto).await;
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>(),
        "the same keys with the same versions"
    );
    for (version, bytes) in before {
        assert!(after[version] == *bytes, "{version:?} changed");
    }
}
