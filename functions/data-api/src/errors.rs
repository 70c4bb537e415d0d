//! Client mistakes become `400`/`404`/`405` with a JSON body that names the
//! parameter and what is allowed; nothing a client sends can cause a `500`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiError {
    #[serde(skip)]
    pub status: StatusCode,
    pub error: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed: Option<String>,
}

impl ApiError {
    pub fn bad_parameter(
        parameter: &str,
        message: impl Into<String>,
        allowed: impl Into<String>,
    ) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            error: "bad_request",
            parameter: Some(parameter.to_owned()),
            message: message.into(),
            allowed: Some(allowed.into()),
        }
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            error: "not_found",
            parameter: None,
            message: message.into(),
            allowed: Some(ROUTES.to_owned()),
        }
    }

    pub fn method_not_allowed(message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::METHOD_NOT_ALLOWED,
            error: "method_not_allowed",
            parameter: None,
            message: message.into(),
            allowed: Some("GET".to_owned()),
        }
    }
}

/// What a client may call, quoted in every 404.
pub const ROUTES: &str =
    "GET /sales?date=YYYY-MM-DD, GET /products[?date=YYYY-MM-DD], GET /customers[?date=YYYY-MM-DD]";

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(&self)).into_response();
        // For the request's log line (crate::log), which says why.
        response.extensions_mut().insert(self);
        response
    }
}
