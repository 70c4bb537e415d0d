//! MWAA's wire format shared by the operations: JSON answers and errors
//! (`x-amzn-ErrorType` + `{"message"}`), environment ARNs.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub(super) fn error(status: StatusCode, kind: &str, message: &str) -> Response {
    (
        status,
        [
            ("x-amzn-ErrorType", kind),
            ("content-type", "application/json"),
        ],
        json!({"message": message}).to_string(),
    )
        .into_response()
}

pub(super) fn ok(body: Value) -> Response {
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

pub(super) fn not_found(name: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "ResourceNotFoundException",
        &format!("Environment {name} not found"),
    )
}

pub(super) fn arn(name: &str) -> String {
    format!("arn:aws:airflow:us-east-1:123456789012:environment/{name}")
}
