#![cfg(feature = "ssm")] // the binary needs it
//! The log: one JSON line per invocation, from the real binary driven through
//! the Lambda Runtime API stand-in as Lambda drives the deployed bootstrap;
//! failures with their causes.

mod common;

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use serde_json::{Value, json};
use showcase_extractor::{Entity, ExtractRequest, Extractor, LakeLocation};
use showcase_testkit::{Invocation, Outcome, RuntimeApi};
use tracing::instrument::WithSubscriber;

const API_KEY: &str = "key-that-must-not-be-logged";

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs the extractor binary on Lambda's protocol until every event is
/// answered; returns the answers and every line it wrote to stdout, as JSON.
async fn invoke_binary(
    events: Vec<Value>,
    env: &[(&str, &str)],
) -> (Vec<Invocation>, Vec<Value>, String) {
    let count = events.len();
    let runtime = RuntimeApi::start(events).await;
    let mut function = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_extractor"))
            .env_clear()
            .envs(runtime.lambda_env("extractor"))
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let answered = runtime.answered(count, Duration::from_secs(60)).await;
    // Each line is written before its answer is sent, so all are in the pipe.
    function.0.kill().unwrap();
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut function.0.stdout.take().unwrap(), &mut stdout).unwrap();
    let lines = stdout
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"))
        })
        .collect();
    (answered, lines, stdout)
}

/// The invocation line of `request_id`; there must be exactly one line about
/// that invocation (ours, or one inside the runtime's span of it).
fn line_of<'a>(lines: &'a [Value], request_id: &str) -> &'a Value {
    let found: Vec<&Value> = lines
        .iter()
        .filter(|line| line["request_id"] == request_id || line["span"]["requestId"] == request_id)
        .collect();
    assert_eq!(found.len(), 1, "one line for {request_id}: {lines:#?}");
    found[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_invocation_logs_one_json_line_with_what_it_returned() {
    let api = serve_api(1234).await;
    let lake = tempfile::tempdir().unwrap();
    let (answered, lines, stdout) = invoke_binary(
        vec![
            json!({"date": "2024-01-05", "entity": "sales"}),
            json!({"date": "2024-01-05", "entity": "customers"}),
            json!({"date": "5 January", "entity": "sales"}),
        ],
        &[
            ("API_BASE_URL", &api),
            ("LAKE_URL", lake.path().to_str().unwrap()),
            ("API_KEY", API_KEY),
        ],
    )
    .await;

    for (invocation, entity) in [(&answered[0], "sales"), (&answered[1], "customers")] {
        let Outcome::Response(summary) = &invocation.outcome else {
            panic!("{invocation:?}");
        };
        let line = line_of(&lines, &invocation.request_id);
        assert_eq!(line["level"], "INFO", "{line}");
        assert_eq!(line["message"], "extracted", "{line}");
        assert_eq!(line["date"], "2024-01-05", "{line}");
        assert_eq!(line["entity"], entity, "{line}");
        assert_eq!(line["rows"], summary["rows"], "{line}");
        assert_eq!(line["bytes"], summary["bytes"], "{line}");
        assert!(line["bytes"].as_u64().unwrap() > 0, "{line}");
        assert!(line["duration_ms"].as_f64().unwrap() > 0.0, "{line}");
    }
    assert_eq!(line_of(&lines, &answered[0].request_id)["rows"], 1234);

    let Outcome::Error(error) = &answered[2].outcome else {
        panic!("a bad event must be a function error: {:?}", answered[2]);
    };
    let line = line_of(&lines, &answered[2].request_id);
    assert_eq!(line["level"], "ERROR", "{line}");
    assert_eq!(line["error"], error["errorMessage"], "{line}");
    assert!(
        line["error"].as_str().unwrap().contains("YYYY-MM-DD"),
        "{line}"
    );

    assert!(
        !stdout.contains(API_KEY),
        "the API key is logged:\n{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_invocation_logs_an_error_line_with_the_cause() {
    let api = serve_api(50).await;
    let dir = tempfile::tempdir().unwrap();
    // A lake "directory" below a regular file: creating it fails.
    std::fs::write(dir.path().join("file"), "").unwrap();
    let lake = dir.path().join("file/lake");
    let (answered, lines, _) = invoke_binary(
        vec![json!({"date": "2024-01-06", "entity": "products"})],
        &[("API_BASE_URL", &api), ("LAKE_URL", lake.to_str().unwrap())],
    )
    .await;
    let Outcome::Error(error) = &answered[0].outcome else {
        panic!("expected a function error: {:?}", answered[0]);
    };
    let line = line_of(&lines, &answered[0].request_id);
    assert_eq!(line["level"], "ERROR", "{line}");
    assert_eq!(line["message"], "extraction failed", "{line}");
    assert_eq!(line["date"], "2024-01-06", "{line}");
    assert_eq!(line["entity"], "products", "{line}");
    assert!(line.get("rows").is_none(), "{line}");
    let logged = line["error"].as_str().unwrap();
    assert!(
        logged.contains("to the lake failed") && logged.contains("Not a directory"),
        "{line}"
    );
    assert_eq!(logged, error["errorMessage"], "{line}");
}

/// A buffer the test's subscriber writes into.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn an_unreachable_api_is_logged_with_every_cause() {
    // A port nothing listens on: connections are refused at once.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let lake = tempfile::tempdir().unwrap();
    let extractor = Extractor::new(settings(
        &api,
        LakeLocation::Directory(lake.path().to_owned()),
    ))
    .await;
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_writer(move || writer.clone())
        .finish();
    let request = ExtractRequest {
        date: "2024-01-07".parse().unwrap(),
        entity: Entity::Sales,
    };
    let error = extractor
        .invoke(Some("req-unreachable"), &request)
        .with_subscriber(subscriber)
        .await
        .unwrap_err();

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let line = line_of(&lines, "req-unreachable");
    assert_eq!(line["level"], "ERROR", "{line}");
    let logged = line["error"].as_str().unwrap();
    assert_eq!(logged, error.to_string());
    // The outer message, reqwest's, hyper's and the OS's: the whole chain.
    for cause in [
        "cannot reach the data API",
        "error sending request",
        "tcp connect error",
        "Connection refused",
    ] {
        assert!(logged.contains(cause), "'{cause}' missing: {line}");
    }
}
