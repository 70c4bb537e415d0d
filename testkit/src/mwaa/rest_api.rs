//! `InvokeRestApi`: the request passed to the environment's "Airflow" — the
//! in-memory model, or a real Airflow in forward mode — and its answer
//! wrapped as MWAA wraps it (the module above has the details and limits).

use std::sync::PoisonError;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::forward::RealAirflow;
use super::{Mwaa, MwaaCall, Shared, airflow, error, not_found, ok};

impl Mwaa {
    /// The tasks of a DAG, in the order runs finish them (unpaused).
    pub fn register_dag(&self, dag_id: &str, tasks: &[&str]) {
        self.with(|m| {
            m.dags.tasks.insert(
                dag_id.to_owned(),
                tasks.iter().map(|t| (*t).to_owned()).collect(),
            )
        });
    }

    /// Pauses a DAG, as MWAA creates new ones.
    pub fn pause_dag(&self, dag_id: &str) {
        self.with(|m| m.dags.paused.insert(dag_id.to_owned()));
    }

    /// How long each task of a run takes.
    pub fn set_task_time(&self, time: Duration) {
        self.with(|m| m.dags.task_time = time);
    }

    /// Runs of `dag_id` fail at `task_id`.
    pub fn fail_task(&self, dag_id: &str, task_id: &str) {
        self.with(|m| {
            m.failing_tasks
                .insert(dag_id.to_owned(), task_id.to_owned())
        });
    }

    /// Forward mode: `InvokeRestApi` for `environment` goes to this real
    /// Airflow instead of the in-memory model.
    pub fn forward_to_airflow(&self, environment: &str, airflow: RealAirflow) {
        self.with(|m| m.forwards.insert(environment.to_owned(), airflow));
    }
}

/// Airflow's status and answer as MWAA returns them: a 2xx is MWAA's 200;
/// a 4xx its 400 `RestApiClientException`, a 5xx its 500
/// `RestApiServerException`, each still carrying both.
fn wrapped(status: u16, response: Value) -> Response {
    let body = json!({"RestApiStatusCode": status, "RestApiResponse": response});
    if status < 400 {
        return ok(body);
    }
    let (code, kind) = if status >= 500 {
        (StatusCode::INTERNAL_SERVER_ERROR, "RestApiServerException")
    } else {
        (StatusCode::BAD_REQUEST, "RestApiClientException")
    };
    (
        code,
        [
            ("x-amzn-ErrorType", kind),
            ("content-type", "application/json"),
        ],
        body.to_string(),
    )
        .into_response()
}

/// What the model decided under its lock: an answer, or a forward to a real Airflow.
enum Next {
    Answer(Response),
    Forward(RealAirflow, Value),
}

pub(super) async fn invoke_rest_api(
    State(model): State<Shared>,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    let text = String::from_utf8_lossy(&body).into_owned();
    // No lock held while a real Airflow answers.
    let (real, request) = match answer_or_forward(&model, &name, text) {
        Next::Answer(response) => return response,
        Next::Forward(real, request) => (real, request),
    };
    let method = request["Method"].as_str().unwrap_or_default();
    let path = request["Path"].as_str().unwrap_or_default();
    match real
        .call(
            method,
            path,
            request.get("QueryParameters"),
            request.get("Body"),
        )
        .await
    {
        Ok((status, response)) => wrapped(status, response),
        Err(why) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerException",
            &format!("the environment's Airflow did not answer: {why}"),
        ),
    }
}

fn answer_or_forward(model: &Shared, name: &str, text: String) -> Next {
    let mut guard = model.lock().unwrap_or_else(PoisonError::into_inner);
    let model = &mut *guard;
    model.calls.push(MwaaCall {
        operation: "InvokeRestApi",
        environment: name.to_owned(),
        body: text.clone(),
    });
    let request: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let (Some(method), Some(path)) = (
        request.get("Method").and_then(Value::as_str),
        request.get("Path").and_then(Value::as_str),
    ) else {
        return Next::Answer(error(
            StatusCode::BAD_REQUEST,
            "ValidationException",
            "Method and Path are required",
        ));
    };
    let Some(env) = model.environments.get_mut(name) else {
        return Next::Answer(not_found(name));
    };
    if let Some(real) = model.forwards.get(name) {
        return Next::Forward(real.clone(), request);
    }
    let major = if env.settings.airflow_version.starts_with('2') {
        2
    } else {
        3
    };
    let (status, response) = airflow::airflow(
        &mut env.runs,
        &model.dags,
        &model.failing_tasks,
        major,
        (method, path),
        request.get("Body"),
    );
    Next::Answer(wrapped(status, response))
}
