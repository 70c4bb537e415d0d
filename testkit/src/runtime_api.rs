//! A local endpoint speaking the Lambda Runtime API, the protocol between
//! Lambda and a `bootstrap`: it hands out queued events on `…/invocation/next`
//! and records what comes back on `…/response` and `…/error`.

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

#[derive(Default)]
struct Shared {
    queue: Mutex<VecDeque<(String, Value)>>,
    done: Mutex<Vec<Invocation>>,
    init_errors: Mutex<Vec<Value>>,
    changed: Notify,
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
        lock(&shared.queue).extend(
            events
                .into_iter()
                .enumerate()
                .map(|(i, event)| (format!("request-{i}"), event)),
        );
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
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

async fn next(State(shared): State<Arc<Shared>>) -> (StatusCode, HeaderMap, String) {
    loop {
        let notified = shared.changed.notified();
        let queued = lock(&shared.queue).pop_front();
        if let Some((id, event)) = queued {
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() + 900_000)
                .unwrap_or_default();
            let mut headers = HeaderMap::new();
            let mut set = |name: &'static str, value: String| {
                if let Ok(value) = HeaderValue::from_str(&value) {
                    headers.insert(name, value);
                }
            };
            set("lambda-runtime-aws-request-id", id);
            set("lambda-runtime-deadline-ms", deadline.to_string());
            set(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:test".into(),
            );
            set(
                "lambda-runtime-trace-id",
                "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0".into(),
            );
            return (StatusCode::OK, headers, event.to_string());
        }
        notified.await;
    }
}

fn record(shared: &Shared, request_id: String, outcome: Outcome) -> StatusCode {
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
    record(&shared, id, Outcome::Response(json(&body)))
}

async fn error(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    record(&shared, id, Outcome::Error(json(&body)))
}

async fn init_error(State(shared): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    lock(&shared.init_errors).push(json(&body));
    shared.changed.notify_waiters();
    StatusCode::ACCEPTED
}
