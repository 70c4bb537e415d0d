#![cfg(feature = "deploy")]
//! Prune: what stack.toml no longer declares is deleted by `up` when it
//! carries the stack's tag, and nothing else is. Run as a user runs it (the
//! built binary) against moto's server; leftovers are made by hand with a
//! separate client, as an earlier stack.toml (or a renamed bucket) leaves them.

mod common;

use common::{Cli, text};

const REGION: &str = "us-east-1";

fn tag(stack: &str) -> aws_sdk_iam::types::Tag {
    aws_sdk_iam::types::Tag::builder()
        .key("showcase:stack")
        .value(stack)
        .build()
        .unwrap()
}

/// A role and a function made by hand; `owner` is the showcase:stack tag, if any.
async fn hand_made_function(
    config: &aws_config::SdkConfig,
    name: &str,
    owner: Option<&str>,
) -> String {
    let iam = aws_sdk_iam::Client::new(config);
    let mut role = iam
        .create_role()
        .role_name(format!("{name}-role"))
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        );
    if let Some(owner) = owner {
        role = role.tags(tag(owner));
    }
    let arn = role.send().await.unwrap().role().unwrap().arn().to_owned();
    let lambda = aws_sdk_lambda::Client::new(config);
    let zip = showcase_deploy::build::bootstrap_zip(b"hand made").unwrap();
    let mut function = lambda
        .create_function()
        .function_name(name)
        .runtime(aws_sdk_lambda::types::Runtime::Providedal2023)
        .handler("bootstrap")
        .role(&arn)
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_sdk_lambda::primitives::Blob::new(zip))
                .build(),
        );
    if let Some(owner) = owner {
        function = function.tags("showcase:stack", owner);
    }
    function.send().await.unwrap();
    arn
}

#[test]
fn up_prunes_what_stack_toml_no_longer_declares_and_only_what_carries_the_tag() {
    let cli = Cli::new();
    let up = cli.run(&["up"]);
    assert_eq!(up.status.code(), Some(0), "{}", text(&up));

    // What an earlier stack.toml left: a function with its role and log group and
    // a parameter, all tagged; beside them a function of another stack and one
    // made by hand, whose names look like the stack's.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let config = runtime.block_on(cli.moto.sdk_config(REGION));
    runtime.block_on(async {
        hand_made_function(&config, "cli-legacy", Some("cli")).await;
        hand_made_function(&config, "cli-other", Some("other-stack")).await;
        hand_made_function(&config, "cli-handmade", None).await;
        aws_sdk_cloudwatchlogs::Client::new(&config)
            .create_log_group()
            .log_group_name("/aws/lambda/cli-legacy")
            .tags("showcase:stack", "cli")
            .send()
            .await
            .unwrap();
        aws_sdk_ssm::Client::new(&config)
            .put_parameter()
            .name("/showcase/cli/old-key")
            .value("old")
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .tags(
                aws_sdk_ssm::types::Tag::builder()
                    .key("showcase:stack")
                    .value("cli")
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        // moto applies the TLS-only policy to its plain-HTTP endpoint: lift it to
        // write (the bucket stops being the lake below, so its policy is not compared).
        let s3 = aws_sdk_s3::Client::new(&config);
        s3.delete_bucket_policy()
            .bucket("cli-lake")
            .send()
            .await
            .unwrap();
        s3.put_object()
            .bucket("cli-lake")
            .key("2024-03-01/sales.parquet")
            .body(b"data".to_vec().into())
            .send()
            .await
            .unwrap();
    });
    let leftovers = [
        "function.cli-legacy",
        "function_role.cli-legacy-role",
        "log_group./aws/lambda/cli-legacy",
        "api_key_parameter./showcase/cli/old-key",
    ];

    let drift = cli.run(&["drift"]);
    assert_eq!(drift.status.code(), Some(2), "{}", text(&drift));
    for leftover in leftovers {
        assert!(
            text(&drift).contains(&format!("+ {leftover}  not in stack.toml")),
            "{leftover}: {}",
            text(&drift)
        );
    }
    for untouchable in ["cli-other", "cli-handmade"] {
        assert!(!text(&drift).contains(untouchable), "{}", text(&drift));
    }

    // The lake moves to another bucket: the old one is now a leftover too.
    let text_plan = cli.run_with_bucket("cli-lake-2", &["plan"]);
    assert!(
        text(&text_plan).contains(
            "- lake_bucket.cli-lake  delete (carries the stack's tag, no longer in stack.toml; holds data: kept unless --delete-data)"
        ),
        "the plan warns before it happens: {}",
        text(&text_plan)
    );
    assert!(
        text(&text_plan).contains(
            "- function.cli-legacy  delete (carries the stack's tag, no longer in stack.toml)\n"
        ),
        "{}",
        text(&text_plan)
    );
    let plan = cli.run_with_bucket("cli-lake-2", &["plan", "--output", "json"]);
    assert_eq!(plan.status.code(), Some(2), "{}", text(&plan));
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let mut deletes: Vec<String> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] == "delete")
        .map(|c| {
            format!(
                "{}.{}",
                c["address"]["kind"].as_str().unwrap(),
                c["address"]["name"].as_str().unwrap()
            )
        })
        .collect();
    deletes.sort();
    let mut expected: Vec<String> = leftovers.iter().map(|s| s.to_string()).collect();
    expected.push("lake_bucket.cli-lake".into());
    expected.sort();
    assert_eq!(deletes, expected);

    let up = cli.run_with_bucket("cli-lake-2", &["up"]);
    assert_eq!(up.status.code(), Some(0), "{}", text(&up));
    for leftover in leftovers {
        assert!(
            text(&up).contains(&format!("{leftover}: deleted")),
            "{leftover}: {}",
            text(&up)
        );
    }
    assert!(
        text(&up).contains("lake_bucket.cli-lake: kept with its data"),
        "a bucket holding data is kept without --delete-data: {}",
        text(&up)
    );

    // Checked by hand: the tagged leftovers are gone, the others untouched.
    runtime.block_on(async {
        let lambda = aws_sdk_lambda::Client::new(&config);
        let iam = aws_sdk_iam::Client::new(&config);
        assert!(
            lambda
                .get_function()
                .function_name("cli-legacy")
                .send()
                .await
                .is_err()
        );
        assert!(
            iam.get_role()
                .role_name("cli-legacy-role")
                .send()
                .await
                .is_err()
        );
        for kept in ["cli-other", "cli-handmade"] {
            lambda
                .get_function()
                .function_name(kept)
                .send()
                .await
                .unwrap();
            iam.get_role()
                .role_name(format!("{kept}-role"))
                .send()
                .await
                .unwrap();
        }
        let groups = aws_sdk_cloudwatchlogs::Client::new(&config)
            .describe_log_groups()
            .log_group_name_prefix("/aws/lambda/cli-legacy")
            .send()
            .await
            .unwrap();
        assert!(groups.log_groups().is_empty());
        let parameter = aws_sdk_ssm::Client::new(&config)
            .get_parameter()
            .name("/showcase/cli/old-key")
            .send()
            .await;
        assert!(parameter.is_err());
        let object = aws_sdk_s3::Client::new(&config)
            .get_object()
            .bucket("cli-lake")
            .key("2024-03-01/sales.parquet")
            .send()
            .await;
        assert!(object.is_ok(), "the old lake's data is still there");
    });

    // Only the kept bucket is left to report; --delete-data lets up remove it.
    let drift = cli.run_with_bucket("cli-lake-2", &["drift"]);
    assert_eq!(drift.status.code(), Some(2), "{}", text(&drift));
    assert!(text(&drift).contains("+ lake_bucket.cli-lake  not in stack.toml"));
    assert!(
        text(&drift).contains("Drift in 1 resource(s)"),
        "{}",
        text(&drift)
    );
    let up = cli.run_with_bucket("cli-lake-2", &["up", "--delete-data"]);
    assert_eq!(up.status.code(), Some(0), "{}", text(&up));
    assert!(
        text(&up).contains("lake_bucket.cli-lake: deleted"),
        "{}",
        text(&up)
    );
    let drift = cli.run_with_bucket("cli-lake-2", &["drift"]);
    assert_eq!(drift.status.code(), Some(0), "{}", text(&drift));

    // down removes the stack and leaves the others' resources alone.
    let down = cli.run_with_bucket("cli-lake-2", &["down", "--yes", "--delete-data"]);
    assert_eq!(down.status.code(), Some(0), "{}", text(&down));
    runtime.block_on(async {
        let lambda = aws_sdk_lambda::Client::new(&config);
        assert!(
            lambda
                .get_function()
                .function_name("cli-extractor")
                .send()
                .await
                .is_err()
        );
        for kept in ["cli-other", "cli-handmade"] {
            lambda
                .get_function()
                .function_name(kept)
                .send()
                .await
                .unwrap();
        }
    });
}
