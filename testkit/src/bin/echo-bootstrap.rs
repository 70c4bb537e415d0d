//! A tiny Lambda function for the Invoke stand-in's own tests, speaking the
//! Runtime API over plain HTTP/1.1 with the standard library only. Per event:
//! `{"echo": v}` answers `v`; `{"fail": "message"}` reports a function error;
//! `{"exit": code}` exits mid-invocation; `{"sleep_ms": n}` answers `n` after
//! sleeping; `{"env": "NAME"}` answers the variable's value (or null);
//! `{"print": "text"}` prints the text and answers it; `{"big": n}` answers a
//! string of n bytes. Anything else is answered as it came.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

fn main() {
    let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") else {
        eprintln!("AWS_LAMBDA_RUNTIME_API is not set");
        std::process::exit(2);
    };
    loop {
        let Some((request_id, event)) =
            request(&api, "GET", "/2018-06-01/runtime/invocation/next", b"")
        else {
            std::process::exit(1);
        };
        let event: serde_json::Value = serde_json::from_slice(&event).unwrap_or_default();
        let path = |kind: &str| format!("/2018-06-01/runtime/invocation/{request_id}/{kind}");
        let answer = if let Some(value) = event.get("echo") {
            value.clone()
        } else if let Some(message) = event.get("fail").and_then(|m| m.as_str()) {
            let error = serde_json::json!({"errorType": "TestError", "errorMessage": message});
            request(&api, "POST", &path("error"), error.to_string().as_bytes());
            continue;
        } else if let Some(code) = event.get("exit").and_then(serde_json::Value::as_i64) {
            std::process::exit(i32::try_from(code).unwrap_or(1));
        } else if let Some(ms) = event.get("sleep_ms").and_then(serde_json::Value::as_u64) {
            std::thread::sleep(std::time::Duration::from_millis(ms));
            serde_json::json!(ms)
        } else if let Some(name) = event.get("env").and_then(|n| n.as_str()) {
            std::env::var(name).map_or(serde_json::Value::Null, serde_json::Value::String)
        } else if let Some(text) = event.get("print").and_then(|t| t.as_str()) {
            println!("{text}");
            serde_json::json!(text)
        } else if let Some(n) = event.get("big").and_then(serde_json::Value::as_u64) {
            serde_json::json!("x".repeat(usize::try_from(n).unwrap_or(0)))
        } else {
            event
        };
        request(
            &api,
            "POST",
            &path("response"),
            answer.to_string().as_bytes(),
        );
    }
}

/// One HTTP request; the request id header and the body of the answer.
fn request(api: &str, method: &str, path: &str, body: &[u8]) -> Option<(String, Vec<u8>)> {
    let mut stream = TcpStream::connect(api).ok()?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {api}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).ok()?;
    stream.write_all(body).ok()?;
    let mut reader = BufReader::new(stream);
    let mut request_id = String::new();
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            let value = value.trim();
            if name.eq_ignore_ascii_case("lambda-runtime-aws-request-id") {
                request_id = value.to_owned();
            } else if name.eq_ignore_ascii_case("content-length") {
                length = value.parse::<usize>().ok();
            }
        }
    }
    let mut body = Vec::new();
    match length {
        Some(n) => {
            body.resize(n, 0);
            reader.read_exact(&mut body).ok()?;
        }
        None => {
            reader.read_to_end(&mut body).ok()?;
        }
    }
    Some((request_id, body))
}
