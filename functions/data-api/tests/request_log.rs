//! The log: one JSON line per request, from the real binary driven through the
//! Lambda Runtime API stand-in with API Gateway REST events, as deployed.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use showcase_testkit::{Outcome, RuntimeApi};

const API_KEY: &str = "key-that-must-not-be-logged";

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// An API Gateway REST proxy event for `GET /prod{path}` with the API key.
fn rest_event(path: &str, query: &[(&str, &str)]) -> Value {
    let single: serde_json::Map<String, Value> = query
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    let multi: serde_json::Map<String, Value> = query
        .iter()
        .map(|(k, v)| (k.to_string(), json!([v])))
        .collect();
    let query = |map: serde_json::Map<String, Value>| {
        if map.is_empty() {
            Value::Null
        } else {
            Value::Object(map)
        }
    };
    json!({
        "resource": path, "path": path, "httpMethod": "GET",
        "headers": {"Host": "abc123.execute-api.us-east-1.amazonaws.com", "x-api-key": API_KEY},
        "multiValueHeaders": {"Host": ["abc123.execute-api.us-east-1.amazonaws.com"], "x-api-key": [API_KEY]},
        "queryStringParameters": query(single),
        "multiValueQueryStringParameters": query(multi),
        "pathParameters": null, "stageVariables": null,
        "requestContext": {
            "accountId": "123456789012", "resourceId": "r1", "stage": "prod", "requestId": "gw-1",
            "identity": {"sourceIp": "127.0.0.1", "apiKey": API_KEY}, "resourcePath": path,
            "httpMethod": "GET", "apiId": "abc123", "path": format!("/prod{path}"),
            "protocol": "HTTP/1.1", "requestTimeEpoch": 0
        },
        "body": null, "isBase64Encoded": false
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_request_logs_one_json_line_with_what_was_served() {
    let runtime = RuntimeApi::start(vec![
        rest_event("/sales", &[("date", "2024-01-05"), ("limit", "20")]),
        rest_event("/customers", &[("date", "2024-01-05")]),
        rest_event("/sales", &[("date", "2024-02-30")]),
        rest_event("/orders", &[]),
    ])
    .await;
    let mut function = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_data-api"))
            .env_clear()
            .envs(runtime.lambda_env("data-api"))
            .env("SALES_ROWS_PER_DAY", "45")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let answered = runtime.answered(4, Duration::from_secs(30)).await;
    // Each line is written before its answer is sent, so all are in the pipe.
    function.0.kill().unwrap();
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut function.0.stdout.take().unwrap(), &mut stdout).unwrap();
    let lines: Vec<Value> = stdout
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"))
        })
        .collect();
    assert_eq!(lines.len(), 4, "one line per request:\n{stdout}");
    assert!(
        !stdout.contains(API_KEY),
        "the API key is logged:\n{stdout}"
    );

    let expected = [
        ("/sales", 200, "INFO"),
        ("/customers", 200, "INFO"),
        ("/sales", 400, "WARN"),
        ("/orders", 404, "WARN"),
    ];
    for (invocation, (route, status, level)) in answered.iter().zip(expected) {
        let Outcome::Response(response) = &invocation.outcome else {
            panic!("function error: {invocation:?}");
        };
        let line = lines
            .iter()
            .find(|line| line["request_id"] == invocation.request_id)
            .unwrap_or_else(|| panic!("no line for {}:\n{stdout}", invocation.request_id));
        assert_eq!(line["message"], "served", "{line}");
        assert_eq!(line["level"], level, "{line}");
        assert_eq!(line["route"], route, "{line}");
        assert_eq!(line["status"], status, "{line}");
        assert_eq!(response["statusCode"], status);
        let body = response["body"].as_str().unwrap();
        assert_eq!(line["bytes"], body.len(), "{line}");
        assert!(line["duration_ms"].as_f64().unwrap() > 0.0, "{line}");
        let body: Value = serde_json::from_str(body).unwrap();
        if status == 200 {
            assert_eq!(line["date"], "2024-01-05", "{line}");
            assert_eq!(
                line["rows"],
                body["rows"].as_array().unwrap().len(),
                "{line}"
            );
            assert!(line.get("error").is_none(), "{line}");
        } else {
            assert!(line.get("rows").is_none(), "{line}");
            assert_eq!(line["error"], body["message"], "{line}");
        }
    }
    assert_eq!(lines[0]["rows"], 20);
}
