//! An Amazon MWAA control-plane stand-in (moto has no MWAA at all).
//!
//! It answers MWAA's real restJson1 wire format (the shapes of botocore's and
//! aws-sdk-rust's `mwaa` model) for the calls the tool makes:
//! - `GetEnvironment`: `GET /environments/{Name}` → `{"Environment": {…}}`
//!   (`Name`, `Arn`, `Status`, `AirflowVersion`, `SourceBucketArn`,
//!   `DagS3Path`, `ExecutionRoleArn`, `RequirementsS3Path`,
//!   `RequirementsS3ObjectVersion`, `CreatedAt`, `LastUpdate`).
//! - `UpdateEnvironment`: `PATCH /environments/{Name}` → `{"Arn"}`; the
//!   environment is `UPDATING` (`LastUpdate.Status` `PENDING`) for
//!   [`Mwaa::set_update_delay`] (default 1 s),
//!   then `AVAILABLE` with the new settings, or, when the test asked
//!   ([`Mwaa::fail_next_update`]), back to `UPDATE_FAILED` with
//!   `LastUpdate.Error` and the old settings, as MWAA rolls back. An update of
//!   an environment that is not `AVAILABLE`/`UPDATE_FAILED` is a 400
//!   `ValidationException`.
//! - `InvokeRestApi`: `POST /restapi/{Name}` with `Method`, `Path`,
//!   `QueryParameters`, `Body` → Airflow's answer wrapped as MWAA wraps it: a
//!   2xx is a 200 `{"RestApiStatusCode", "RestApiResponse"}`; a 4xx a 400
//!   `RestApiClientException` and a 5xx a 500 `RestApiServerException`,
//!   each carrying both. "Airflow" is the in-memory model below, or in
//!   forward mode a real one.
//!
//! Errors are `x-amzn-ErrorType` + `{"message"}`: an unknown environment is a
//! 404 `ResourceNotFoundException`.
//!
//! **The host prefix.** The SDK sends every MWAA control-plane call to
//! `api.<endpoint host>` (`EndpointPrefix` in the model), also with a custom
//! endpoint URL, and nothing here resolves `api.127.0.0.1`. [`Mwaa::aws_env`]
//! therefore sets `AWS_ENDPOINT_URL_MWAA=http://mwaa@127.0.0.1:PORT`: the SDK
//! puts its prefix in front of the authority, which makes it
//! `api.mwaa@127.0.0.1:PORT` — the prefix lands in the URL's user-info, and
//! the connection goes to the loopback address. A test setting only: the
//! product sends MWAA's real requests with the real prefix.
//!
//! **Forward mode** ([`Mwaa::forward_to_airflow`] with a [`RealAirflow`]:
//! base URL, version, user, password): `InvokeRestApi` for that environment
//! calls `{base}/api/v1{Path}` (Airflow 2.x, basic auth) or
//! `{base}/api/v2{Path}` (3.x, a bearer token from the simple auth manager's
//! `POST /auth/token`, fetched again after a 401) with the request's method,
//! query parameters and JSON body, and wraps the answer as above. An Airflow
//! that does not answer is a 500 `InternalServerException`. Limits: what
//! MWAA does on its side is not there (its IAM check of the caller's
//! `airflow:InvokeRestApi` on the environment's role, its request size and
//! rate limits, its webserver's own Airflow user); Airflow's answer is passed
//! as JSON (a non-JSON answer as a string, an empty one as null).
//!
//! **Limits.** Signatures are not checked; the environment's settings are the
//! test's (no VPC, no webserver). An update takes
//! any requirements path and version without looking at the bucket (MWAA
//! checks the object exists), and never installs anything: a failure comes
//! only from [`Mwaa::fail_next_update`]. While it runs, `GetEnvironment`
//! shows the old settings. Without forward mode `InvokeRestApi`
//! answers from an in-memory model of Airflow's REST API (`airflow.rs`; its
//! answers have real Airflow's shapes, v1's for a 2.x environment and v2's
//! for 3.x, held to the same contract as real Airflow by
//! `deployer/tests/mwaa_run_airflow.rs`): `POST /dags/{id}/dagRuns` creates a
//! run of the tasks the test registered ([`Mwaa::register_dag`]), a run id
//! or logical date already taken being a 409; the tasks have no state (null)
//! at first, then finish one after another, each in [`Mwaa::set_task_time`]
//! (default 100 ms): `success`, or `failed` for the task [`Mwaa::fail_task`]
//! named, after which the rest are `upstream_failed` and the run `failed`.
//! `GET /dags/{id}` says whether it is paused ([`Mwaa::pause_dag`]; a paused
//! DAG's runs still progress here), `GET /dags/{id}/dagRuns/{run}` and
//! `…/taskInstances` show the run and its tasks. No scheduling,
//! dependencies, pools, logs or pagination; other paths are 404s from
//! "Airflow". Nothing of `CreateEnvironment`, `DeleteEnvironment`, tokens,
//! tags or metrics.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};

mod airflow;
mod forward;
mod rest_api;
mod wire;

use airflow::{DagRun, Dags};
pub use forward::RealAirflow;
use wire::{arn, error, not_found, ok};

/// An environment as the test sets it up.
#[derive(Debug, Clone)]
pub struct MwaaEnvironment {
    pub name: String,
    /// The DAG bucket (on moto's S3).
    pub bucket: String,
    /// Relative to the bucket, e.g. `dags`.
    pub dag_s3_path: String,
    pub airflow_version: String,
    pub execution_role_arn: String,
    pub status: String,
    pub requirements_s3_path: Option<String>,
    pub requirements_s3_object_version: Option<String>,
}

impl MwaaEnvironment {
    /// An `AVAILABLE` Airflow 2.11.0 environment whose DAGs are under `dags/` of `bucket`.
    pub fn available(name: &str, bucket: &str) -> MwaaEnvironment {
        MwaaEnvironment {
            name: name.to_owned(),
            bucket: bucket.to_owned(),
            dag_s3_path: "dags".to_owned(),
            airflow_version: "2.11.0".to_owned(),
            execution_role_arn: format!("arn:aws:iam::123456789012:role/{name}-execution"),
            status: "AVAILABLE".to_owned(),
            requirements_s3_path: None,
            requirements_s3_object_version: None,
        }
    }
}

/// A call the stand-in received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MwaaCall {
    /// `GetEnvironment`, `UpdateEnvironment`, `InvokeRestApi`.
    pub operation: &'static str,
    pub environment: String,
    pub body: String,
}

/// The settings an update brings, or its error (code, message).
type UpdateOutcome = Result<MwaaEnvironment, (String, String)>;

struct Env {
    settings: MwaaEnvironment,
    last_update: Option<Value>,
    /// The update in progress: when it ends, and the settings it brings (or its error).
    pending: Option<(Instant, UpdateOutcome)>,
    runs: Vec<DagRun>,
}

#[derive(Default)]
struct Model {
    environments: HashMap<String, Env>,
    calls: Vec<MwaaCall>,
    update_delay: Option<Duration>,
    fail_next_update: HashMap<String, (String, String)>,
    dags: Dags,
    failing_tasks: HashMap<String, String>,
    /// Forward mode: the environments whose `InvokeRestApi` goes to a real Airflow.
    forwards: HashMap<String, RealAirflow>,
}

/// The stand-in: a local HTTP server, stopped with the test process.
#[derive(Clone)]
pub struct Mwaa {
    address: SocketAddr,
    model: Arc<Mutex<Model>>,
}

impl Mwaa {
    /// Starts the stand-in on a free loopback port, on its own thread and runtime.
    pub fn start() -> Mwaa {
        let mut initial = Model::default();
        initial.dags.task_time = Duration::from_millis(100);
        let model = Arc::new(Mutex::new(initial));
        let state = model.clone();
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(error) => panic!("MWAA stand-in runtime: {error}"),
            };
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .unwrap_or_else(|e| panic!("MWAA stand-in: {e}"));
                let _ = sender.send(
                    listener
                        .local_addr()
                        .unwrap_or_else(|e| panic!("MWAA stand-in: {e}")),
                );
                let app = Router::new()
                    .route(
                        "/environments/{name}",
                        get(get_environment).patch(update_environment),
                    )
                    .route("/restapi/{name}", post(rest_api::invoke_rest_api))
                    .with_state(state);
                let _ = axum::serve(listener, app).await;
            });
        });
        let address = receiver
            .recv()
            .unwrap_or_else(|e| panic!("MWAA stand-in did not start: {e}"));
        Mwaa { address, model }
    }

    /// The environment a child process needs for its MWAA client to reach
    /// this stand-in (see the module's doc on the host prefix).
    pub fn aws_env(&self) -> Vec<(String, String)> {
        vec![(
            "AWS_ENDPOINT_URL_MWAA".to_owned(),
            format!("http://mwaa@{}", self.address),
        )]
    }

    fn with<T>(&self, f: impl FnOnce(&mut Model) -> T) -> T {
        f(&mut self.model.lock().unwrap_or_else(PoisonError::into_inner))
    }

    pub fn add_environment(&self, environment: MwaaEnvironment) {
        self.with(|m| {
            m.environments.insert(
                environment.name.clone(),
                Env {
                    settings: environment,
                    last_update: None,
                    pending: None,
                    runs: Vec::new(),
                },
            )
        });
    }

    /// Changes an environment behind the tool's back (an upgrade, an outage).
    pub fn edit_environment(&self, name: &str, edit: impl FnOnce(&mut MwaaEnvironment)) {
        self.with(|m| {
            if let Some(env) = m.environments.get_mut(name) {
                edit(&mut env.settings);
            }
        });
    }

    /// The environment as it is now (an update that has ended applied).
    pub fn environment(&self, name: &str) -> Option<MwaaEnvironment> {
        self.with(|m| {
            let env = m.environments.get_mut(name)?;
            settle(env);
            Some(env.settings.clone())
        })
    }

    pub fn set_update_delay(&self, delay: Duration) {
        self.with(|m| m.update_delay = Some(delay));
    }

    /// The next `UpdateEnvironment` of `name` ends in `UPDATE_FAILED` with this error.
    pub fn fail_next_update(&self, name: &str, code: &str, message: &str) {
        self.with(|m| {
            m.fail_next_update
                .insert(name.to_owned(), (code.to_owned(), message.to_owned()))
        });
    }

    /// Every call received, in order.
    pub fn calls(&self) -> Vec<MwaaCall> {
        self.with(|m| m.calls.clone())
    }
}

/// Ends an update whose time has come.
fn settle(env: &mut Env) {
    let Some((ends, _)) = &env.pending else {
        return;
    };
    if Instant::now() < *ends {
        return;
    }
    let Some((_, outcome)) = env.pending.take() else {
        return;
    };
    let now = epoch_seconds();
    match outcome {
        Ok(settings) => {
            env.settings = settings;
            env.settings.status = "AVAILABLE".to_owned();
            env.last_update =
                Some(json!({"Status": "SUCCESS", "CreatedAt": now, "Source": "Customer"}));
        }
        Err((code, message)) => {
            env.settings.status = "UPDATE_FAILED".to_owned();
            env.last_update = Some(json!({
                "Status": "FAILED",
                "CreatedAt": now,
                "Source": "Customer",
                "Error": {"ErrorCode": code, "ErrorMessage": message},
            }));
        }
    }
}

fn epoch_seconds() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64().floor())
        .unwrap_or_default()
}

type Shared = Arc<Mutex<Model>>;

async fn get_environment(State(model): State<Shared>, Path(name): Path<String>) -> Response {
    let mut model = model.lock().unwrap_or_else(PoisonError::into_inner);
    model.calls.push(MwaaCall {
        operation: "GetEnvironment",
        environment: name.clone(),
        body: String::new(),
    });
    let Some(env) = model.environments.get_mut(&name) else {
        return not_found(&name);
    };
    settle(env);
    let s = &env.settings;
    let mut environment = json!({
        "Name": s.name,
        "Arn": arn(&s.name),
        "Status": s.status,
        "AirflowVersion": s.airflow_version,
        "SourceBucketArn": format!("arn:aws:s3:::{}", s.bucket),
        "DagS3Path": s.dag_s3_path,
        "ExecutionRoleArn": s.execution_role_arn,
        "CreatedAt": 1_700_000_000,
        "EnvironmentClass": "mw1.small",
        "WebserverUrl": format!("{}.airflow.us-east-1.on.aws", s.name),
    });
    if let Some(path) = &s.requirements_s3_path {
        environment["RequirementsS3Path"] = json!(path);
    }
    if let Some(version) = &s.requirements_s3_object_version {
        environment["RequirementsS3ObjectVersion"] = json!(version);
    }
    if let Some(last) = &env.last_update {
        environment["LastUpdate"] = last.clone();
    }
    ok(json!({ "Environment": environment }))
}

async fn update_environment(
    State(model): State<Shared>,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    let mut model = model.lock().unwrap_or_else(PoisonError::into_inner);
    let text = String::from_utf8_lossy(&body).into_owned();
    model.calls.push(MwaaCall {
        operation: "UpdateEnvironment",
        environment: name.clone(),
        body: text.clone(),
    });
    let Ok(request) = serde_json::from_str::<Value>(&text) else {
        return error(
            StatusCode::BAD_REQUEST,
            "ValidationException",
            "the body is not JSON",
        );
    };
    let delay = model.update_delay.unwrap_or(Duration::from_secs(1));
    let failure = model.fail_next_update.remove(&name);
    let Some(env) = model.environments.get_mut(&name) else {
        return not_found(&name);
    };
    settle(env);
    if !matches!(env.settings.status.as_str(), "AVAILABLE" | "UPDATE_FAILED") {
        return error(
            StatusCode::BAD_REQUEST,
            "ValidationException",
            &format!(
                "Environment {name} is {} and cannot be updated now",
                env.settings.status
            ),
        );
    }
    let mut next = env.settings.clone();
    let text_of = |key: &str| request.get(key).and_then(Value::as_str).map(str::to_owned);
    if let Some(path) = text_of("RequirementsS3Path") {
        next.requirements_s3_path = Some(path);
    }
    if let Some(version) = text_of("RequirementsS3ObjectVersion") {
        next.requirements_s3_object_version = Some(version);
    }
    if let Some(path) = text_of("DagS3Path") {
        next.dag_s3_path = path;
    }
    if let Some(version) = text_of("AirflowVersion") {
        next.airflow_version = version;
    }
    if let Some(role) = text_of("ExecutionRoleArn") {
        next.execution_role_arn = role;
    }
    env.settings.status = "UPDATING".to_owned();
    env.last_update =
        Some(json!({"Status": "PENDING", "CreatedAt": epoch_seconds(), "Source": "Customer"}));
    let outcome = match failure {
        Some(failure) => Err(failure),
        None => Ok(next),
    };
    env.pending = Some((Instant::now() + delay, outcome));
    ok(json!({"Arn": arn(&name)}))
}
