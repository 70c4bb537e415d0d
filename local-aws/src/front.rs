//! One endpoint for both stand-ins, as the AWS SDKs reach a custom endpoint:
//! Lambda `Invoke` (`POST /2015-03-31/functions/{name}/invocations`) and the
//! Redshift Data API (`POST /` with `X-Amz-Target: RedshiftData.*`). Anything
//! else is answered 404 `UnknownOperationException`, saying what is served.

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;

use crate::{LambdaInvoke, RedshiftData};

#[derive(Clone)]
struct Served {
    lambda: LambdaInvoke,
    redshift_data: RedshiftData,
}

/// The router answering both services.
pub fn router(lambda: LambdaInvoke, redshift_data: RedshiftData) -> Router {
    Router::new().fallback(route).with_state(Served {
        lambda,
        redshift_data,
    })
}

/// The function name of a Lambda `Invoke` path.
pub fn invoked_function(path: &str) -> Option<&str> {
    path.strip_prefix("/2015-03-31/functions/")
        .and_then(|rest| rest.strip_suffix("/invocations"))
        .filter(|name| !name.is_empty() && !name.contains('/'))
}

async fn route(State(served): State<Served>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, 16 * 1024 * 1024).await else {
        return refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            "the request body is too large",
        );
    };
    if parts.method != Method::POST {
        return refuse(StatusCode::NOT_FOUND, "only POST requests are served");
    }
    if let Some(target) = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .filter(|t| t.starts_with("RedshiftData."))
    {
        return served.redshift_data.handle(target, &body).await;
    }
    if let Some(name) = invoked_function(parts.uri.path()) {
        return served
            .lambda
            .handle(name, parts.uri.query(), &parts.headers, body)
            .await;
    }
    refuse(
        StatusCode::NOT_FOUND,
        "this local endpoint serves Lambda Invoke and the Redshift Data API only",
    )
}

fn refuse(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({"__type": "UnknownOperationException", "message": message});
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    response
}
