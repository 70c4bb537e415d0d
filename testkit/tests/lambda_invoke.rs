//! The Lambda `Invoke` stand-in, driven by the real AWS SDK client through
//! moto's front: a tiny bootstrap of testkit's own for the protocol's corners,
//! and the real extractor binary.

use std::time::{Duration, Instant};

use aws_sdk_lambda::Client;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{InvocationType, LogType};
use base64::Engine as _;
use serde_json::{Value, json};
use showcase_testkit::{LambdaFunction, LambdaInvoke, MotoServer};

const ECHO: &str = env!("CARGO_BIN_EXE_echo-bootstrap");

async fn setup() -> (MotoServer, LambdaInvoke, Client) {
    let moto = MotoServer::start();
    let lambda = LambdaInvoke::new();
    moto.serve_lambda(&lambda);
    let client = Client::new(&moto.sdk_config("us-east-1").await);
    (moto, lambda, client)
}

fn payload(output: &aws_sdk_lambda::operation::invoke::InvokeOutput) -> Value {
    serde_json::from_slice(output.payload().unwrap().as_ref()).unwrap()
}

async fn invoke(
    client: &Client,
    function: &str,
    event: Value,
) -> aws_sdk_lambda::operation::invoke::InvokeOutput {
    client
        .invoke()
        .function_name(function)
        .payload(Blob::new(event.to_string()))
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_runs_the_bootstrap_and_returns_its_payload() {
    let (moto, lambda, client) = setup().await;
    lambda.register(
        "echo",
        LambdaFunction::new(ECHO).env([("GREETING", "hello"), ("AWS_REGION", "eu-west-1")]),
    );
    let answer = invoke(&client, "echo", json!({"echo": {"a": [1, 2], "b": "ü"}})).await;
    assert_eq!(answer.status_code(), 200);
    assert_eq!(answer.function_error(), None);
    assert_eq!(answer.executed_version(), Some("$LATEST"));
    assert_eq!(payload(&answer), json!({"a": [1, 2], "b": "ü"}));

    // The environment: the test's variables (winning), Lambda's, and moto's endpoint.
    let env = async |name: &str| payload(&invoke(&client, "echo", json!({"env": name})).await);
    assert_eq!(env("GREETING").await, "hello");
    assert_eq!(env("AWS_REGION").await, "eu-west-1");
    assert_eq!(env("AWS_LAMBDA_FUNCTION_NAME").await, "echo");
    assert_eq!(
        env("AWS_ENDPOINT_URL").await,
        Value::String(moto.endpoint())
    );
    assert_eq!(env("HOME").await, Value::Null, "a clean environment");

    // By ARN, with $LATEST; the log tail holds what the function printed.
    let answer = client
        .invoke()
        .function_name("arn:aws:lambda:us-east-1:123456789012:function:echo")
        .qualifier("$LATEST")
        .log_type(LogType::Tail)
        .payload(Blob::new(
            json!({"print": "printed by the function"}).to_string(),
        ))
        .send()
        .await
        .unwrap();
    let tail = base64::engine::general_purpose::STANDARD
        .decode(answer.log_result().unwrap())
        .unwrap();
    let tail = String::from_utf8(tail).unwrap();
    assert!(tail.starts_with("START RequestId: "), "{tail}");
    assert!(
        tail.contains("printed by the function\nEND RequestId: "),
        "{tail}"
    );
    assert!(lambda.log("echo").contains("printed by the function"));

    // Warm: one environment served all of these, one after the other.
    let pids: Vec<Value> = vec![
        env("AWS_LAMBDA_RUNTIME_API").await,
        env("AWS_LAMBDA_RUNTIME_API").await,
    ];
    assert_eq!(pids[0], pids[1]);
    assert_eq!(lambda.invocations().len(), 9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_come_back_as_lambda_reports_them() {
    let (_moto, lambda, client) = setup().await;
    lambda.register(
        "echo",
        LambdaFunction::new(ECHO).timeout(Duration::from_secs(1)),
    );

    let failed = invoke(&client, "echo", json!({"fail": "the day has no sales"})).await;
    assert_eq!(failed.status_code(), 200);
    assert_eq!(failed.function_error(), Some("Unhandled"));
    assert_eq!(
        payload(&failed),
        json!({"errorType": "TestError", "errorMessage": "the day has no sales"})
    );

    let exited = invoke(&client, "echo", json!({"exit": 3})).await;
    assert_eq!(exited.function_error(), Some("Unhandled"));
    assert_eq!(payload(&exited)["errorType"], "Runtime.ExitError");
    assert!(
        payload(&exited)["errorMessage"]
            .as_str()
            .unwrap()
            .contains("exit status: 3")
    );

    let slow = invoke(&client, "echo", json!({"sleep_ms": 5000})).await;
    assert_eq!(slow.function_error(), Some("Unhandled"));
    assert_eq!(payload(&slow)["errorType"], "Sandbox.Timedout");
    assert!(
        payload(&slow)["errorMessage"]
            .as_str()
            .unwrap()
            .ends_with("Task timed out after 1.00 seconds")
    );

    let too_big = invoke(&client, "echo", json!({"big": 7 * 1024 * 1024})).await;
    assert_eq!(
        payload(&too_big)["errorType"],
        "Function.ResponseSizeTooLarge"
    );

    // The function still works after each of those.
    let fine = invoke(&client, "echo", json!({"echo": 1})).await;
    assert_eq!(fine.function_error(), None);
    assert_eq!(payload(&fine), json!(1));

    lambda.register("broken", LambdaFunction::new("/nonexistent/bootstrap"));
    let broken = invoke(&client, "broken", json!({})).await;
    assert_eq!(payload(&broken)["errorType"], "Runtime.InvalidEntrypoint");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_lambda_refuses_are_refused_in_its_shapes() {
    let (_moto, lambda, client) = setup().await;
    lambda.register("echo", LambdaFunction::new(ECHO));

    let missing = client
        .invoke()
        .function_name("not-registered")
        .send()
        .await
        .unwrap_err();
    assert!(
        missing
            .as_service_error()
            .unwrap()
            .is_resource_not_found_exception(),
        "{missing:?}"
    );
    let alias = client
        .invoke()
        .function_name("echo")
        .qualifier("prod")
        .send()
        .await
        .unwrap_err();
    assert!(
        alias
            .as_service_error()
            .unwrap()
            .is_resource_not_found_exception()
    );
    let not_json = client
        .invoke()
        .function_name("echo")
        .payload(Blob::new("not json"))
        .send()
        .await
        .unwrap_err();
    assert!(
        not_json
            .as_service_error()
            .unwrap()
            .is_invalid_request_content_exception(),
        "{not_json:?}"
    );

    let dry = client
        .invoke()
        .function_name("echo")
        .invocation_type(InvocationType::DryRun)
        .send()
        .await
        .unwrap();
    assert_eq!(dry.status_code(), 204);
    let event = client
        .invoke()
        .function_name("echo")
        .invocation_type(InvocationType::Event)
        .payload(Blob::new(json!({"print": "in the background"}).to_string()))
        .send()
        .await
        .unwrap();
    assert_eq!(event.status_code(), 202);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !lambda.log("echo").contains("in the background") {
        assert!(Instant::now() < deadline, "the Event invocation never ran");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // moto still serves the rest of Lambda through the same endpoint.
    let listed = client.list_functions().send().await.unwrap();
    assert!(listed.functions().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_invocations_run_in_environments_of_their_own() {
    let (_moto, lambda, client) = setup().await;
    lambda.register("echo", LambdaFunction::new(ECHO));
    let started = Instant::now();
    let calls = (0..3).map(|_| invoke(&client, "echo", json!({"sleep_ms": 800})));
    let answers = futures_util::future::join_all(calls).await;
    assert!(answers.iter().all(|a| a.function_error().is_none()));
    assert!(
        started.elapsed() < Duration::from_millis(2000),
        "took {:?}: run one after the other",
        started.elapsed()
    );
}
