#![cfg(feature = "deploy")]
//! Secrets never show: a whole life cycle of the built binary against moto
//! (`up`, `plan`, `drift`, `outputs`, a hand change of the key's SSM copy and
//! its repair, `down --delete-data`), in plain text, JSON and GitHub Actions
//! form, and every byte it printed and every file it wrote (the stack's
//! directory, the job summary, the Lambda build directory it controls) holds
//! none of: the data API key's value (read by hand from API Gateway), the
//! value put into SSM by hand, the AWS secret access key and session token it
//! ran with. `outputs --show-secrets` is the one place the key appears,
//! which proves the search finds it when it is there.
//!
//! The warehouse cluster is in the stack: its admin password is created and
//! kept by AWS (`ManageMasterPassword`), so the tool has none to print; moto
//! 5.2.5 makes no secret for it either (no `MasterPasswordSecretArn`), so
//! there is no such value to search for — the test says so if that changes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::SystemTime;

use showcase_testkit::MotoServer;

const STACK: &str = r#"
[stack]
name = "sec"
region = "us-east-1"

[lake]
bucket = "sec-lake"

[warehouse]
kind = "cluster"
database = "showcase"
"#;

/// Credentials the tool runs with: moto takes any, so these are unique and
/// findable.
const SECRET_ACCESS_KEY: &str = "sEcReTaCcEsSkEy0fThEdEpLoYeR0123456789xyz";
const SESSION_TOKEN: &str = "SeSsIoNtOkEn0fThEdEpLoYeR0123456789xyz";

struct Run {
    moto: MotoServer,
    dir: tempfile::TempDir,
    /// Everything printed, by every command but `outputs --show-secrets`.
    printed: Vec<(String, Vec<u8>)>,
}

impl Run {
    fn command(&self, args: &[&str], github: bool) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_showcase-deploy"));
        command
            .current_dir(showcase_testkit::workspace_root())
            .args(args)
            .arg("--stack")
            .arg(self.dir.path().join("stack.toml"))
            .envs(self.moto.aws_env())
            .env("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
            .env("AWS_SESSION_TOKEN", SESSION_TOKEN)
            .env("CI", "true")
            .env("GITHUB_STEP_SUMMARY", self.dir.path().join("summary.md"));
        if github {
            command.env("GITHUB_ACTIONS", "true");
        }
        command.output().unwrap()
    }

    /// Runs, keeps what it printed, checks the exit code.
    fn run(&mut self, args: &[&str], github: bool, code: i32) -> Output {
        let output = self.command(args, github);
        let label = format!("{args:?} (GitHub Actions: {github})");
        assert_eq!(
            output.status.code(),
            Some(code),
            "{label}: {}",
            text(&output)
        );
        self.printed
            .push((format!("{label} stdout"), output.stdout.clone()));
        self.printed
            .push((format!("{label} stderr"), output.stderr.clone()));
        output
    }
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every file under `dir` modified at or after `since`.
fn written_since(dir: &Path, since: SystemTime, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            written_since(&path, since, found);
        } else if meta.is_file() && meta.modified().is_ok_and(|m| m >= since) {
            found.push(path);
        }
    }
}

#[test]
fn a_whole_life_cycle_never_shows_a_secret() {
    // Seconds, as some file systems keep mtimes; a file written by this run is
    // never older than this.
    let start = SystemTime::now() - std::time::Duration::from_secs(2);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("stack.toml"), STACK).unwrap();
    let mut run = Run {
        moto: MotoServer::start(),
        dir,
        printed: Vec::new(),
    };

    run.run(&["plan"], false, 2);
    run.run(&["up"], true, 0);
    run.run(&["plan"], false, 0);
    run.run(&["plan", "--output", "json"], false, 0);
    run.run(&["drift"], false, 0);
    run.run(&["drift", "--output", "json"], true, 0);
    run.run(&["outputs"], false, 0);
    let outputs = run.run(&["outputs", "--output", "json"], false, 0);
    let outputs: serde_json::Value = serde_json::from_slice(&outputs.stdout).unwrap();
    let key_id = outputs["api_key_id"].as_str().unwrap().to_owned();

    // The secrets, read by hand.
    let hand = tokio::runtime::Runtime::new().unwrap();
    let hand_value = "hAnDsEtVaLuE0fThEpArAmEtEr0123456789xyz";
    let (key, secret_arn) = hand.block_on(async {
        let config = run.moto.sdk_config("us-east-1").await;
        let apigateway = aws_sdk_apigateway::Client::new(&config);
        let key = apigateway
            .get_api_key()
            .api_key(&key_id)
            .include_value(true)
            .send()
            .await
            .unwrap()
            .value()
            .unwrap()
            .to_owned();
        let redshift = aws_sdk_redshift::Client::new(&config);
        let clusters = redshift
            .describe_clusters()
            .cluster_identifier("sec-warehouse")
            .send()
            .await
            .unwrap();
        let secret_arn = clusters.clusters()[0]
            .master_password_secret_arn()
            .map(str::to_owned);
        // Someone overwrites the extractor's copy of the key by hand.
        aws_sdk_ssm::Client::new(&config)
            .put_parameter()
            .name("/showcase/sec/data-api-key")
            .value(hand_value)
            .overwrite(true)
            .send()
            .await
            .unwrap();
        (key, secret_arn)
    });
    assert!(key.len() >= 20, "a real key: {key}");
    assert_eq!(
        secret_arn, None,
        "moto now makes the cluster's password secret: search for its ARN too"
    );

    let drift = run.run(&["drift"], true, 2);
    assert!(
        text(&drift).contains("api_key_parameter"),
        "the hand change is drift: {}",
        text(&drift)
    );
    run.run(&["plan", "--output", "json"], false, 2);
    run.run(&["up"], false, 0);
    run.run(&["drift"], false, 0);

    // The one place the key's value appears: the search finds it there.
    let shown = run.command(&["outputs", "--show-secrets"], false);
    assert_eq!(shown.status.code(), Some(0), "{}", text(&shown));
    assert!(
        contains(&shown.stdout, key.as_bytes()),
        "--show-secrets prints the key: {}",
        text(&shown)
    );
    let shown = run.command(&["outputs", "--show-secrets", "--output", "json"], false);
    assert!(contains(&shown.stdout, key.as_bytes()), "{}", text(&shown));

    run.run(&["down", "--delete-data", "--yes"], true, 0);
    run.run(&["down", "--delete-data", "--yes"], false, 0);

    // Every file the run wrote: the stack's directory (stack.toml, the job
    // summary) and the Lambda build directory under CARGO_TARGET_DIR.
    let workspace = showcase_testkit::workspace_root();
    let cargo_target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"));
    let mut files = Vec::new();
    written_since(run.dir.path(), start, &mut files);
    written_since(
        &showcase_deploy::build::lambda_dir(&workspace, &cargo_target),
        start,
        &mut files,
    );
    assert!(
        files.iter().any(|f| f.ends_with("summary.md")),
        "the job summary was written: {files:?}"
    );
    let mut searched = run.printed.clone();
    for file in &files {
        if let Ok(bytes) = std::fs::read(file) {
            searched.push((file.display().to_string(), bytes));
        }
    }
    let secrets = [
        ("the API key's value", key.as_str()),
        ("the value put into SSM by hand", hand_value),
        ("the AWS secret access key", SECRET_ACCESS_KEY),
        ("the AWS session token", SESSION_TOKEN),
    ];
    for (what, bytes) in &searched {
        for (secret, value) in secrets {
            assert!(
                !contains(bytes, value.as_bytes()),
                "{secret} in {what}:\n{}",
                String::from_utf8_lossy(bytes)
            );
        }
    }
    assert!(
        searched.len() >= 30,
        "every command's output and the files: {}",
        searched.len()
    );
}
