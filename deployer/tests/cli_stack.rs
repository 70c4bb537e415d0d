#![cfg(feature = "deploy")]
//! The stack commands as a user (or a CI job) runs them, against moto's
//! server: exit codes, readable text, JSON, confirmation.

mod common;

use std::process::Command;

use common::{Cli, STACK, text};

#[test]
fn plan_up_drift_down_with_their_exit_codes() {
    let cli = Cli::new();
    let plan = cli.run(&["plan"]);
    assert_eq!(
        plan.status.code(),
        Some(2),
        "changes pending: {}",
        text(&plan)
    );
    assert!(
        text(&plan).contains("+ lake_bucket.cli-lake  create"),
        "{}",
        text(&plan)
    );

    let up = cli.run(&["up"]);
    assert_eq!(up.status.code(), Some(0), "{}", text(&up));
    assert!(
        text(&up).contains("lake_bucket.cli-lake: created"),
        "{}",
        text(&up)
    );
    assert!(
        text(&up).contains("s3://cli-lake/"),
        "outputs at the end: {}",
        text(&up)
    );

    let plan = cli.run(&["plan", "--output", "json"]);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));
    let json: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    assert_eq!(json["changes"][0]["action"], "no_change");

    let drift = cli.run(&["drift"]);
    assert_eq!(drift.status.code(), Some(0), "{}", text(&drift));

    // Someone removes the encryption by hand.
    let hand = tokio::runtime::Runtime::new().unwrap();
    hand.block_on(async {
        let config = cli.moto.sdk_config("us-east-1").await;
        let s3 = aws_sdk_s3::Client::new(&config);
        s3.delete_bucket_encryption()
            .bucket("cli-lake")
            .send()
            .await
            .unwrap();
    });
    let drift = cli.run(&["drift"]);
    assert_eq!(drift.status.code(), Some(2), "{}", text(&drift));
    assert!(
        text(&drift).contains("encryption: live (absent) → \"AES256\""),
        "{}",
        text(&drift)
    );
    let json = cli.run(&["drift", "--output", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["drifted"], true);
    assert_eq!(report["resources"][0]["fields"][0]["field"], "encryption");

    assert_eq!(cli.run(&["up"]).status.code(), Some(0));
    assert_eq!(
        cli.run(&["drift"]).status.code(),
        Some(0),
        "up repaired the drift"
    );

    let refused = cli.run(&["down"]);
    assert_eq!(
        refused.status.code(),
        Some(1),
        "no --yes outside a terminal"
    );
    assert!(text(&refused).contains("--yes"), "{}", text(&refused));
    let down = cli.run(&["down", "--yes"]);
    assert_eq!(down.status.code(), Some(0), "{}", text(&down));
    // The plan first (what goes, what stays and why), then what became of each.
    let plan_line = text(&down)
        .find("lake_bucket.cli-lake  kept: holds data")
        .unwrap_or_else(|| panic!("no down plan: {}", text(&down)));
    let outcome = text(&down)
        .find("lake_bucket.cli-lake: kept with its data")
        .unwrap_or_else(|| panic!("no outcome: {}", text(&down)));
    assert!(plan_line < outcome, "{}", text(&down));
    let down = cli.run(&["down", "--yes", "--delete-data"]);
    assert!(
        text(&down).contains("lake_bucket.cli-lake: deleted"),
        "{}",
        text(&down)
    );
    let again = cli.run(&["down", "--yes", "--delete-data"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert!(
        text(&again).contains("Nothing to delete: no resource of the stack exists."),
        "{}",
        text(&again)
    );
}

#[test]
fn a_bad_stack_file_fails_before_any_aws_call() {
    let cli = Cli::new();
    std::fs::write(
        cli.dir.path().join("stack.toml"),
        STACK.replace("us-east-1", "us-east-9"),
    )
    .unwrap();
    let plan = cli.run(&["plan"]);
    assert_eq!(plan.status.code(), Some(1));
    assert!(
        text(&plan).contains("stack.toml:4:10: stack.region: 'us-east-9' is not an AWS region"),
        "{}",
        text(&plan)
    );
}

#[test]
fn up_wires_the_api_url_into_the_extractor_and_outputs_hide_the_key_value() {
    let cli = Cli::new();
    let up = cli.run(&["up"]);
    assert_eq!(up.status.code(), Some(0), "{}", text(&up));
    let outputs = cli.run(&["outputs", "--output", "json"]);
    assert_eq!(outputs.status.code(), Some(0), "{}", text(&outputs));
    let outputs: serde_json::Value = serde_json::from_slice(&outputs.stdout).unwrap();
    let url = outputs["api_url"].as_str().unwrap().to_owned();
    assert!(
        url.starts_with("https://") && url.ends_with(".execute-api.us-east-1.amazonaws.com/prod"),
        "{url}"
    );
    assert!(outputs["api_key_id"].is_string());
    assert!(
        outputs.get("api_key_value").is_none(),
        "the key's value is a secret"
    );
    let secrets = cli.run(&["outputs", "--output", "json", "--show-secrets"]);
    let secrets: serde_json::Value = serde_json::from_slice(&secrets.stdout).unwrap();
    assert!(
        secrets["api_key_value"]
            .as_str()
            .is_some_and(|v| v.len() >= 20),
        "{secrets}"
    );

    // The extractor was given the API's URL in the same `up` that created the API.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let environment = runtime.block_on(async {
        let config = cli.moto.sdk_config("us-east-1").await;
        let lambda = aws_sdk_lambda::Client::new(&config);
        let function = lambda
            .get_function()
            .function_name("cli-extractor")
            .send()
            .await
            .unwrap();
        function
            .configuration()
            .unwrap()
            .environment()
            .unwrap()
            .variables()
            .unwrap()
            .clone()
    });
    assert_eq!(environment["API_BASE_URL"], url);
    // The key reaches it through SSM, by name: never as a value in its configuration.
    assert_eq!(
        environment["API_KEY_PARAMETER"],
        "/showcase/cli/data-api-key"
    );
    let key = secrets["api_key_value"].as_str().unwrap().to_owned();
    assert!(!environment.values().any(|v| v == &key));
    let stored = runtime.block_on(async {
        let ssm = aws_sdk_ssm::Client::new(&cli.moto.sdk_config("us-east-1").await);
        let found = ssm
            .get_parameter()
            .name("/showcase/cli/data-api-key")
            .with_decryption(true)
            .send()
            .await
            .unwrap();
        let parameter = found.parameter().unwrap().clone();
        (
            parameter.r#type().map(|t| t.as_str().to_owned()),
            parameter.value().map(str::to_owned),
        )
    });
    assert_eq!(stored, (Some("SecureString".to_owned()), Some(key.clone())));
    let up_again = cli.run(&["up"]);
    assert!(
        !text(&up_again).contains(&key),
        "the key never appears in output"
    );
    let plan = cli.run(&["plan"]);
    assert_eq!(plan.status.code(), Some(0), "converged: {}", text(&plan));
}

#[test]
fn up_without_a_build_stops_before_any_aws_call() {
    let cli = Cli::new();
    let empty_target = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_showcase-deploy"))
        .current_dir(showcase_testkit::workspace_root())
        .args(["up", "--skip-build", "--stack"])
        .arg(cli.dir.path().join("stack.toml"))
        .args(["--var", "bucket=cli-lake"])
        .env("CARGO_TARGET_DIR", empty_target.path())
        .envs(cli.moto.aws_env())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output).contains("no build of data-api was found"),
        "{}",
        text(&output)
    );
    let plan = cli.run(&["plan"]);
    assert!(
        text(&plan).contains("+ lake_bucket.cli-lake  create"),
        "nothing was created: {}",
        text(&plan)
    );
}

#[test]
fn permissions_print_a_policy_scoped_to_the_stack() {
    let cli = Cli::new();
    let output = cli.run(&["permissions", "--read-only", "--account", "123456789012"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let policy: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let document = policy.to_string();
    assert!(
        document.contains("arn:aws:lambda:us-east-1:123456789012:function:cli-*"),
        "{document}"
    );
    assert!(document.contains("arn:aws:s3:::cli-lake"), "{document}");
    assert!(
        !document.contains("iam:PassRole") && !document.contains("Put"),
        "read-only: {document}"
    );
    // Without --account it asks STS (moto's account here).
    let output = cli.run(&["permissions"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let policy: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(policy.to_string().contains("iam:PassRole"));
    let bad = cli.run(&["permissions", "--account", "12345"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(text(&bad).contains("12 digits"), "{}", text(&bad));
}

#[test]
fn missing_credentials_say_how_to_get_them() {
    let home = tempfile::tempdir().unwrap();
    let stack = home.path().join("stack.toml");
    std::fs::write(&stack, STACK).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_showcase-deploy"))
        .args(["plan", "--var", "bucket=cli-lake", "--stack"])
        .arg(&stack)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("AWS_CONFIG_FILE", home.path().join("no-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            home.path().join("no-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let message = text(&output);
    assert!(
        message.contains("no usable AWS credentials (none found")
            && message.contains("AWS_PROFILE")
            && message.contains("configure-aws-credentials"),
        "{message}"
    );
}

/// `drift --output markdown` is the table a reviewer reads; under GitHub
/// Actions the same run annotates each drifted field and writes the table to
/// the job summary, with the exit code unchanged. From a real drift on moto.
#[test]
fn drift_as_markdown_and_as_github_annotations() {
    let cli = Cli::new();
    let up = cli.run(&["up"]);
    assert_eq!(up.status.code(), Some(0), "{}", text(&up));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let config = cli.moto.sdk_config("us-east-1").await;
        aws_sdk_cloudwatchlogs::Client::new(&config)
            .put_retention_policy()
            .log_group_name("/aws/lambda/cli-data-api")
            .retention_in_days(7)
            .send()
            .await
            .unwrap();
    });
    let expected = "### showcase-deploy drift\n\n\
        | resource | state | live → stack.toml |\n|---|---|---|\n\
        | `log_group./aws/lambda/cli-data-api` | drifted | **retention_days**: `7` → `14` |\n\
        \nDrift in 1 of 9 resources; `showcase-deploy up` repairs it.\n";

    let markdown = cli.run(&["drift", "--output", "markdown"]);
    assert_eq!(markdown.status.code(), Some(2), "{}", text(&markdown));
    assert_eq!(String::from_utf8_lossy(&markdown.stdout), expected);
    let plan = cli.run(&["plan", "--output", "markdown"]);
    assert_eq!(plan.status.code(), Some(2), "{}", text(&plan));
    assert_eq!(
        String::from_utf8_lossy(&plan.stdout),
        "### showcase-deploy plan\n\n\
         | resource | action | changes |\n|---|---|---|\n\
         | `log_group./aws/lambda/cli-data-api` | ✏️ update | **retention_days**: `7` → `14` |\n\
         \n**0** to create, **1** to update, **0** to replace, **0** to delete, **0** refused.\n"
    );

    let summary = cli.dir.path().join("summary.md");
    let summary_path = summary.to_string_lossy().into_owned();
    let actions = cli.run_with_env(
        &[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_STEP_SUMMARY", summary_path.as_str()),
        ],
        &["drift"],
    );
    assert_eq!(actions.status.code(), Some(2), "{}", text(&actions));
    let stdout = String::from_utf8_lossy(&actions.stdout);
    let annotations: Vec<&str> = stdout.lines().filter(|l| l.starts_with("::")).collect();
    assert_eq!(
        annotations,
        [
            "::warning title=drift: log_group./aws/lambda/cli-data-api::retention_days: live 7, stack.toml 14"
        ]
    );
    assert_eq!(
        std::fs::read_to_string(&summary).unwrap(),
        format!("{expected}\n")
    );
}
