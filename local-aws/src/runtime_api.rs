//! A local endpoint speaking the Lambda Runtime API, the protocol between
//! Lambda and a `bootstrap`: it hands out queued events on `…/invocation/next`
//! and records what comes back on `…/response` and `…/error`. Used directly by
//! tests that drive a bootstrap, and by the Lambda `Invoke` stand-in
//! (`lambda_invoke`), which queues one event per invocation.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::Notify;

/// What the function sent back for one event.
#[derive(Debug, Clone)]
pub enum Outcome {
    Response(Value),
    Error(Value),
}

#[derive(Debug, Clone)]
pub struct Invocation {
    pub request_id: String,
    pub outcome: Outcome,
    pub answered_at: Instant,
}

/// Lambda's limit on a synchronous invocation's response.
const MAX_RESPONSE: usize = 6 * 1024 * 1024;

/// An event waiting for `…/invocation/next`.
struct Pending {
    request_id: String,
    payload: Bytes,
    deadline_ms: u128,
}

/// What came back for a request, byte for byte (Lambda returns the payload as sent).
#[derive(Debug, Clone)]
pub(crate) struct RawAnswer {
    pub(crate) is_error: bool,
    pub(crate) body: Bytes,
}

struct Shared {
    queue: Mutex<VecDeque<Pending>>,
    done: Mutex<Vec<Invocation>>,
    raw: Mutex<std::collections::HashMap<String, RawAnswer>>,
    init_errors: Mutex<Vec<Value>>,
    function_arn: Mutex<String>,
    changed: Notify,
}

impl Default for Shared {
    fn default() -> Shared {
        Shared {
            queue: Mutex::default(),
            done: Mutex::default(),
            raw: Mutex::default(),
            init_errors: Mutex::default(),
            function_arn: Mutex::new("arn:aws:lambda:us-east-1:123456789012:function:test".into()),
            changed: Notify::new(),
        }
    }
}

/// Milliseconds since the Unix epoch, `ahead` from now.
fn deadline_after(ahead: Duration) -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| (d + ahead).as_millis())
        .unwrap_or_default()
}

pub struct RuntimeApi {
    address: std::net::SocketAddr,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl RuntimeApi {
    /// Serves `events` in order; once they are used up, `next` waits forever, as Lambda does.
    pub async fn start(events: Vec<Value>) -> RuntimeApi {
        let shared = Arc::new(Shared::default());
        lock(&shared.queue).extend(events.into_iter().enumerate().map(|(i, event)| Pending {
            request_id: format!("request-{i}"),
            payload: Bytes::from(event.to_string()),
            deadline_ms: deadline_after(Duration::from_secs(900)),
        }));
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            // Lambda takes responses up to 6 MB (axum's default limit is 2 MB);
            // `response` refuses bigger ones as Lambda does.
            .layer(axum::extract::DefaultBodyLimit::max(2 * MAX_RESPONSE))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("bind runtime API: {e}"));
        let address = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("runtime API address: {e}"));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        RuntimeApi {
            address,
            shared,
            server,
        }
    }

    /// The environment a `bootstrap` needs to run against this endpoint.
    pub fn lambda_env(&self, function_name: &str) -> Vec<(String, String)> {
        [
            ("AWS_LAMBDA_RUNTIME_API", self.address.to_string()),
            ("AWS_LAMBDA_FUNCTION_NAME", function_name.to_owned()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".to_owned()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
            ("AWS_LAMBDA_LOG_FORMAT", "Text".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// Queues one more event (the bytes are handed out as they are).
    pub(crate) fn push(&self, request_id: &str, payload: Bytes, timeout: Duration) {
        lock(&self.shared.queue).push_back(Pending {
            request_id: request_id.to_owned(),
            payload,
            deadline_ms: deadline_after(timeout),
        });
        self.shared.changed.notify_waiters();
    }

    /// The ARN handed to the function in `Lambda-Runtime-Invoked-Function-Arn`.
    pub(crate) fn set_function_arn(&self, arn: &str) {
        *lock(&self.shared.function_arn) = arn.to_owned();
    }

    /// Waits for the answer to `request_id`; `Err` with the payload when the
    /// function reported an initialisation error instead. Never times out:
    /// the caller bounds it.
    pub(crate) async fn answer(&self, request_id: &str) -> Result<RawAnswer, Value> {
        loop {
            let notified = self.shared.changed.notified();
            if let Some(answer) = lock(&self.shared.raw).remove(request_id) {
                return Ok(answer);
            }
            if let Some(error) = lock(&self.shared.init_errors).first() {
                return Err(error.clone());
            }
            notified.await;
        }
    }

    /// Waits until `count` invocations are answered (or panics after `timeout`).
    pub async fn answered(&self, count: usize, timeout: Duration) -> Vec<Invocation> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.changed.notified();
            {
                let done = lock(&self.shared.done);
                if done.len() >= count {
                    return done.clone();
                }
            }
            let init_errors = lock(&self.shared.init_errors).clone();
            assert!(
                init_errors.is_empty(),
                "the function failed to initialise: {init_errors:?}"
            );
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!(
                    "only {} of {count} invocations answered within {timeout:?}",
                    lock(&self.shared.done).len()
                );
            }
        }
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn next(State(shared): State<Arc<Shared>>) -> (StatusCode, HeaderMap, Bytes) {
    loop {
        let notified = shared.changed.notified();
        let queued = lock(&shared.queue).pop_front();
        if let Some(Pending {
            request_id: id,
            payload,
            deadline_ms: deadline,
        }) = queued
        {
            let arn = lock(&shared.function_arn).clone();
            let mut headers = HeaderMap::new();
            let mut set = |name: &'static str, value: String| {
                if let Ok(value) = HeaderValue::from_str(&value) {
                    headers.insert(name, value);
                }
            };
            set("lambda-runtime-aws-request-id", id);
            set("lambda-runtime-deadline-ms", deadline.to_string());
            set("lambda-runtime-invoked-function-arn", arn);
            set(
                "lambda-runtime-trace-id",
                "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0".into(),
            );
            return (StatusCode::OK, headers, payload);
        }
        notified.await;
    }
}

fn record(shared: &Shared, request_id: String, outcome: Outcome, body: &Bytes) -> StatusCode {
    lock(&shared.raw).insert(
        request_id.clone(),
        RawAnswer {
            is_error: matches!(outcome, Outcome::Error(_)),
            body: body.clone(),
        },
    );
    lock(&shared.done).push(Invocation {
        request_id,
        outcome,
        answered_at: Instant::now(),
    });
    shared.changed.notify_waiters();
    StatusCode::ACCEPTED
}

fn json(body: &Bytes) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

async fn response(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    if body.len() > MAX_RESPONSE {
        // What Lambda reports to the caller; the runtime is told 413.
        let error = serde_json::json!({
            "errorType": "Function.ResponseSizeTooLarge",
            "errorMessage": format!(
                "Response payload size ({} bytes) exceeded maximum allowed payload size ({MAX_RESPONSE} bytes).",
                body.len()
            ),
        });
        let document = Bytes::from(error.to_string());
        record(&shared, id, Outcome::Error(error), &document);
        return StatusCode::PAYLOAD_TOO_LARGE;
    }
    record(&shared, id, Outcome::Response(json(&body)), &body)
}

async fn error(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    record(&shared, id, Outcome::Error(json(&body)), &body)
}

async fn init_error(State(shared): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    lock(&shared.init_errors).push(json(&body));
    shared.changed.notify_waiters();
    StatusCode::ACCEPTED
}
