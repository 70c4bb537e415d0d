//! A Lambda `Invoke` stand-in that runs the real `bootstrap` binaries.
//!
//! moto's Invoke never runs code (STAND-INS.md), so the tests of anything that
//! invokes the pipeline's functions (the tool's `run` on AWS, Airflow's
//! `LambdaInvokeFunctionOperator`, boto3) talk to this instead. It speaks
//! Lambda's REST-JSON wire protocol for one call, `Invoke`: `POST
//! /2015-03-31/functions/{FunctionName}/invocations` (the name, a full or
//! partial ARN, `name:qualifier`, or `?Qualifier=`; only `$LATEST` or no
//! qualifier), the payload as the body. In tests it is served behind
//! testkit's front for moto (`MotoServer::serve_lambda`), so one endpoint
//! answers every AWS call and every other Lambda call (create, update,
//! configuration…) still goes to moto; `airflow --local` serves it on
//! [`crate::front`].
//!
//! **In process:** a function registered with [`LambdaFunction::in_process`]
//! runs as a call in this process (how `airflow --local` runs the extractor:
//! the product has no bootstrap binary), answered as below, with its timeout;
//! no environment, no output in `X-Amz-Log-Result` but START/END/REPORT.
//!
//! **How a function runs:** the test registers a function name with its
//! bootstrap (any executable that speaks the Lambda Runtime API) and its
//! environment. An invocation takes an idle execution environment of that
//! function or starts one: a `RuntimeApi` (testkit's Runtime API endpoint) and
//! the bootstrap as a child process with a clean environment: what Lambda sets
//! (`AWS_LAMBDA_RUNTIME_API`, `AWS_LAMBDA_FUNCTION_NAME`/`_MEMORY_SIZE`/`_VERSION`,
//! `AWS_LAMBDA_LOG_GROUP_NAME`, `AWS_REGION`, `LAMBDA_TASK_ROOT`, `_HANDLER`,
//! `TZ`, `PATH`…), the AWS endpoint and test credentials (moto's, when served on
//! a `MotoServer`: in place of the execution role's), then the test's variables
//! (which win). The event goes through `…/invocation/next`; the answer comes
//! back on `…/response` or `…/error`, and the environment is kept warm for the
//! next invocation, as Lambda does. Concurrent invocations get environments of
//! their own.
//!
//! **Answers**, as Lambda's:
//! - `RequestResponse` (the default): 200, the function's payload byte for
//!   byte, `X-Amz-Executed-Version: $LATEST`. A function error: still 200, with
//!   `X-Amz-Function-Error: Unhandled` and the error document the runtime posted
//!   (`{"errorType", "errorMessage"}`). The bootstrap exiting mid-invocation:
//!   `Runtime.ExitError`; an init error: the document posted on
//!   `…/init/error`; past the function's timeout (default 300 s):
//!   `Sandbox.Timedout` and the environment is killed; a response over 6 MB:
//!   `Function.ResponseSizeTooLarge` (the Runtime API refuses it); a bootstrap that cannot start:
//!   `Runtime.InvalidEntrypoint`. `X-Amz-Log-Type: Tail` → `X-Amz-Log-Result`,
//!   the last 4 KB of what the environment printed during the invocation
//!   between START/END/REPORT lines.
//! - `Event`: 202 at once, the function runs in the background. `DryRun`: 204.
//! - Errors, status + `X-Amzn-ErrorType` + `{"Type": "User", "Message": …}`:
//!   an unregistered function → 404 `ResourceNotFoundException`; a payload that
//!   is not JSON → 400 `InvalidRequestContentException`; over 6 MB (256 KB for
//!   `Event`) → 413 `RequestTooLargeException`; another invocation type → 400
//!   `ValidationException`.
//!
//! **Not checked / not served:** that the function exists in moto or what its
//! deployed configuration says (the environment, timeout and memory are the
//! test's; the deployed `Environment` is not read), permissions and
//! resource policies, versions and aliases (only `$LATEST`),
//! `X-Amz-Client-Context` (not passed to the function), reserved or account
//! concurrency, `InvokeWithResponseStream`, `InvokeAsync`, retries and
//! destinations of `Event` invocations, memory limits.

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use base64::Engine as _;
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;

use crate::runtime_api::RuntimeApi;

mod answers;
mod environment;

use self::answers::{arn, error, error_document, failure, insert, resolve, tail_of};

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";
/// Lambda's synchronous payload limit, each way.
const MAX_PAYLOAD: usize = 6 * 1024 * 1024;
const MAX_EVENT_PAYLOAD: usize = 256 * 1024;

/// What an in-process function's invocation gives: its answer, or its error
/// as `(errorType, errorMessage)`.
pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<Bytes, (String, String)>> + Send>>;

/// A function that runs in this process (`showcase-deploy airflow --local`
/// runs the extractor so: the product has no bootstrap binary to start).
#[derive(Clone)]
pub struct Handler(Arc<dyn Fn(Bytes) -> HandlerFuture + Send + Sync>);

impl std::fmt::Debug for Handler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Handler")
    }
}

/// One function the stand-in can run.
#[derive(Debug, Clone)]
pub struct LambdaFunction {
    bootstrap: PathBuf,
    /// Runs in process instead of a bootstrap.
    handler: Option<Handler>,
    env: Vec<(String, String)>,
    timeout: Duration,
    memory_mb: u32,
}

impl LambdaFunction {
    /// `bootstrap`: an executable speaking the Runtime API (a built `bootstrap`,
    /// or a debug binary of the same function).
    pub fn new(bootstrap: impl Into<PathBuf>) -> LambdaFunction {
        LambdaFunction {
            bootstrap: bootstrap.into(),
            handler: None,
            env: Vec::new(),
            timeout: Duration::from_secs(300),
            memory_mb: 128,
        }
    }

    /// A function run in this process by `handler` (each invocation its own
    /// call; the environment variables are not used).
    pub fn in_process(
        handler: impl Fn(Bytes) -> HandlerFuture + Send + Sync + 'static,
    ) -> LambdaFunction {
        LambdaFunction {
            handler: Some(Handler(Arc::new(handler))),
            ..LambdaFunction::new("in-process")
        }
    }

    /// The function's environment variables (added to, and winning over, Lambda's own).
    pub fn env<K: Into<String>, V: Into<String>>(
        mut self,
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> LambdaFunction {
        self.env
            .extend(vars.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> LambdaFunction {
        self.timeout = timeout;
        self
    }

    pub fn memory_mb(mut self, memory_mb: u32) -> LambdaFunction {
        self.memory_mb = memory_mb;
        self
    }
}

/// One invocation, for tests to check.
#[derive(Debug, Clone)]
pub struct InvokeRecord {
    pub function: String,
    pub request_id: String,
    pub invocation_type: String,
    pub payload: Bytes,
    /// `Some("Unhandled")` when the invocation failed.
    pub function_error: Option<String>,
    pub response: Bytes,
}

/// The stand-in; clones share one state.
#[derive(Clone, Default)]
pub struct LambdaInvoke {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    functions: Mutex<HashMap<String, LambdaFunction>>,
    base_env: Mutex<Vec<(String, String)>>,
    idle: Mutex<HashMap<String, Vec<Environment>>>,
    logs: Mutex<HashMap<String, Arc<Mutex<Vec<u8>>>>>,
    records: Mutex<Vec<InvokeRecord>>,
}

/// A running bootstrap and its Runtime API endpoint.
struct Environment {
    api: RuntimeApi,
    child: tokio::process::Child,
    /// What this environment printed (stdout and stderr), for `Tail`.
    output: Arc<Mutex<Vec<u8>>>,
    _dir: tempfile::TempDir,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How an invocation ended.
struct Ended {
    request_id: String,
    function_error: bool,
    body: Bytes,
    tail: String,
}

impl LambdaInvoke {
    pub fn new() -> LambdaInvoke {
        LambdaInvoke::default()
    }

    /// Makes `name` invocable (again: a new registration applies to new environments).
    pub fn register(&self, name: &str, function: LambdaFunction) {
        lock(&self.inner.functions).insert(name.to_owned(), function);
        // Warm environments run the old definition: drop them.
        lock(&self.inner.idle).remove(name);
    }

    /// Variables every function gets before its own (the endpoint and credentials).
    pub fn set_base_env(&self, env: Vec<(String, String)>) {
        *lock(&self.inner.base_env) = env;
    }

    /// Every invocation answered so far, oldest first.
    pub fn invocations(&self) -> Vec<InvokeRecord> {
        lock(&self.inner.records).clone()
    }

    /// Everything the function's environments printed.
    pub fn log(&self, name: &str) -> String {
        lock(&self.inner.logs)
            .get(name)
            .map(|log| String::from_utf8_lossy(&lock(log)).into_owned())
            .unwrap_or_default()
    }

    /// Answers `POST /2015-03-31/functions/{raw_name}/invocations`.
    pub async fn handle(
        &self,
        raw_name: &str,
        query: Option<&str>,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Response {
        let name = percent_encoding::percent_decode_str(raw_name)
            .decode_utf8_lossy()
            .into_owned();
        let qualifier = query.and_then(|q| {
            q.split('&')
                .filter_map(|pair| pair.split_once('='))
                .find(|(k, _)| *k == "Qualifier")
                .map(|(_, v)| {
                    percent_encoding::percent_decode_str(v)
                        .decode_utf8_lossy()
                        .into_owned()
                })
        });
        let Some(function_name) = resolve(&name, qualifier.as_deref()) else {
            return error(
                StatusCode::NOT_FOUND,
                "ResourceNotFoundException",
                &format!("Function not found: {}", arn(&name)),
            );
        };
        let Some(function) = lock(&self.inner.functions).get(&function_name).cloned() else {
            let registered: Vec<String> = lock(&self.inner.functions).keys().cloned().collect();
            return error(
                StatusCode::NOT_FOUND,
                "ResourceNotFoundException",
                &format!(
                    "Function not found: {} (the Invoke stand-in runs the functions the test registered: {registered:?})",
                    arn(&function_name)
                ),
            );
        };
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let invocation_type = header("x-amz-invocation-type")
            .unwrap_or("RequestResponse")
            .to_owned();
        let limit = match invocation_type.as_str() {
            "RequestResponse" | "DryRun" => MAX_PAYLOAD,
            "Event" => MAX_EVENT_PAYLOAD,
            other => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "ValidationException",
                    &format!(
                        "1 validation error detected: Value '{other}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]"
                    ),
                );
            }
        };
        if body.len() > limit {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestTooLargeException",
                &format!(
                    "Request must be smaller than {limit} bytes for the InvokeFunction operation"
                ),
            );
        }
        // An empty body is an empty JSON document's stand-in, as Lambda treats it.
        let payload = if body.is_empty() {
            Bytes::from_static(b"{}")
        } else {
            body
        };
        if let Err(e) = serde_json::from_slice::<Value>(&payload) {
            return error(
                StatusCode::BAD_REQUEST,
                "InvalidRequestContentException",
                &format!("Could not parse request body into json: {e}"),
            );
        }
        match invocation_type.as_str() {
            "DryRun" => {
                let mut response = Response::new(Body::empty());
                *response.status_mut() = StatusCode::NO_CONTENT;
                response
            }
            "Event" => {
                let stand_in = self.clone();
                let request_id = crate::new_uuid();
                let id = request_id.clone();
                tokio::spawn(async move {
                    let ended = stand_in
                        .invoke(&function_name, &function, payload.clone(), id)
                        .await;
                    stand_in.record(&function_name, "Event", payload, &ended);
                });
                let mut response = Response::new(Body::empty());
                *response.status_mut() = StatusCode::ACCEPTED;
                insert(&mut response, "x-amzn-requestid", &request_id);
                response
            }
            _ => {
                let tail = header("x-amz-log-type") == Some("Tail");
                let request_id = crate::new_uuid();
                let ended = self
                    .invoke(&function_name, &function, payload.clone(), request_id)
                    .await;
                self.record(&function_name, "RequestResponse", payload, &ended);
                let mut response = Response::new(Body::from(ended.body.clone()));
                insert(&mut response, "content-type", "application/json");
                insert(&mut response, "x-amzn-requestid", &ended.request_id);
                insert(&mut response, "x-amz-executed-version", "$LATEST");
                if ended.function_error {
                    insert(&mut response, "x-amz-function-error", "Unhandled");
                }
                if tail {
                    let encoded =
                        base64::engine::general_purpose::STANDARD.encode(ended.tail.as_bytes());
                    insert(&mut response, "x-amz-log-result", &encoded);
                }
                response
            }
        }
    }

    fn record(&self, function: &str, invocation_type: &str, payload: Bytes, ended: &Ended) {
        lock(&self.inner.records).push(InvokeRecord {
            function: function.to_owned(),
            request_id: ended.request_id.clone(),
            invocation_type: invocation_type.to_owned(),
            payload,
            function_error: ended.function_error.then(|| "Unhandled".to_owned()),
            response: ended.body.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::resolve;

    #[test]
    fn names_arns_and_qualifiers_resolve_to_the_function() {
        assert_eq!(resolve("f", None).as_deref(), Some("f"));
        assert_eq!(resolve("f:$LATEST", None).as_deref(), Some("f"));
        assert_eq!(
            resolve("arn:aws:lambda:us-east-1:123456789012:function:f", None).as_deref(),
            Some("f")
        );
        assert_eq!(
            resolve("123456789012:function:f", Some("$LATEST")).as_deref(),
            Some("f")
        );
        assert_eq!(resolve("f:prod", None), None);
        assert_eq!(resolve("f", Some("3")), None);
    }
}
