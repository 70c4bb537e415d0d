#![cfg(feature = "deploy")]
//! `up` killed with SIGKILL part-way (after the bucket, mid-functions, mid-API)
//! and run again converges: no duplicate APIs, roles, keys or plans, and
//! `drift` is clean. Requests are slowed by 30 ms so the kill lands mid-run.

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use showcase_testkit::{MotoServer, workspace_root};

const STACK: &str = r#"
[stack]
name = "crash"
region = "us-east-1"

[lake]
bucket = "crash-lake"
"#;

fn command(moto: &MotoServer, stack: &std::path::Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_showcase-deploy"));
    command
        .current_dir(workspace_root())
        .args(args)
        .arg("--stack")
        .arg(stack)
        .envs(moto.aws_env())
        .env("CI", "true");
    command
}

fn finish(output: Output) -> (Option<i32>, String) {
    (
        output.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

#[derive(Debug, Clone, Copy)]
enum KillWhen {
    BucketTagged,
    AFunctionExists,
    ApiExists,
}

async fn reached(moto: &MotoServer, point: KillWhen) -> bool {
    let config = moto.sdk_config("us-east-1").await;
    match point {
        // "After the bucket": once it carries the stack's tag. (AWS tags it in
        // CreateBucket itself; moto ignores those tags, so here a kill between
        // CreateBucket and PutBucketTagging would leave an untagged bucket, which
        // the next `up` refuses with a hint how to claim it.)
        KillWhen::BucketTagged => aws_sdk_s3::Client::new(&config)
            .get_bucket_tagging()
            .bucket("crash-lake")
            .send()
            .await
            .is_ok_and(|out| out.tag_set().iter().any(|t| t.key() == "showcase:stack")),
        KillWhen::AFunctionExists => aws_sdk_lambda::Client::new(&config)
            .list_functions()
            .send()
            .await
            .is_ok_and(|out| !out.functions().is_empty()),
        KillWhen::ApiExists => aws_sdk_apigateway::Client::new(&config)
            .get_rest_apis()
            .send()
            .await
            .is_ok_and(|out| !out.items().is_empty()),
    }
}

fn kill(mut child: Child) {
    let _ = child.kill(); // SIGKILL on Unix: no cleanup of any kind
    let _ = child.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_killed_at_any_point_converges_on_rerun() {
    // Build once up front, so that every `up` below starts calling AWS at once.
    let build = Command::new(env!("CARGO_BIN_EXE_showcase-deploy"))
        .current_dir(workspace_root())
        .arg("build")
        .output()
        .unwrap();
    assert!(
        build.status.success(),
        "{}",
        String::from_utf8_lossy(&build.stderr)
    );
    for point in [
        KillWhen::BucketTagged,
        KillWhen::AFunctionExists,
        KillWhen::ApiExists,
    ] {
        let moto = MotoServer::start_with_latency(Duration::from_millis(30));
        let dir = tempfile::tempdir().unwrap();
        let stack = dir.path().join("stack.toml");
        std::fs::write(&stack, STACK).unwrap();
        let child = command(&moto, &stack, &["up", "--skip-build"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while !reached(&moto, point).await {
            assert!(Instant::now() < deadline, "{point:?} never happened");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        kill(child);

        let (code, text) = finish(
            command(&moto, &stack, &["up", "--skip-build"])
                .output()
                .unwrap(),
        );
        assert_eq!(code, Some(0), "rerun after a kill at {point:?}: {text}");
        let (code, text) = finish(command(&moto, &stack, &["drift"]).output().unwrap());
        assert_eq!(code, Some(0), "drift after the rerun ({point:?}): {text}");

        let config = moto.sdk_config("us-east-1").await;
        let gateway = aws_sdk_apigateway::Client::new(&config);
        let apis = gateway.get_rest_apis().send().await.unwrap();
        assert_eq!(apis.items().len(), 1, "one API ({point:?})");
        assert_eq!(
            gateway.get_api_keys().send().await.unwrap().items().len(),
            1,
            "one key ({point:?})"
        );
        assert_eq!(
            gateway
                .get_usage_plans()
                .send()
                .await
                .unwrap()
                .items()
                .len(),
            1,
            "one plan ({point:?})"
        );
        let roles = aws_sdk_iam::Client::new(&config)
            .list_roles()
            .send()
            .await
            .unwrap();
        let ours = roles
            .roles()
            .iter()
            .filter(|r| r.role_name().starts_with("crash-"))
            .count();
        assert_eq!(ours, 2, "two roles ({point:?})");
        let functions = aws_sdk_lambda::Client::new(&config)
            .list_functions()
            .send()
            .await
            .unwrap();
        assert_eq!(functions.functions().len(), 2, "two functions ({point:?})");
    }
}
