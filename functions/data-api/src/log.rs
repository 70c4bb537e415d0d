//! One log line per request: Lambda's request id, route, status, date, rows,
//! bytes and duration, as `tracing` events. The binary wraps its router with
//! [`logged`] and installs the JSON subscriber; the local run serves the plain
//! [`crate::router`] and logs nothing.

use std::time::Instant;

use axum::Router;
use axum::body::HttpBody;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use showcase_dataset::Day;

use crate::errors::ApiError;

/// What a page response served, left by the route in the response's
/// extensions for its log line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Served {
    pub date: Day,
    pub rows: u64,
}

/// `router` with one log line per request (info, a client mistake warn, a
/// server error error). Never the headers: they carry the API key.
pub fn logged(router: Router) -> Router {
    router.layer(middleware::from_fn(log_request))
}

async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    // Present on Lambda only (lambda_http puts the invocation's context there).
    let request_id = request
        .extensions()
        .get::<lambda_http::Context>()
        .map(|context| context.request_id.clone());
    let method = request.method().to_string();
    let route = request.uri().path().to_owned();
    let response = next.run(request).await;
    // Whole microseconds: 0.168, not 0.16846999999999998.
    let duration_ms = started.elapsed().as_micros() as f64 / 1e3;
    let status = response.status().as_u16();
    let served = response.extensions().get::<Served>();
    let date = served.map(|served| served.date.to_string());
    let rows = served.map(|served| served.rows);
    // Exact for the JSON bodies every route returns.
    let bytes = response.body().size_hint().exact();
    let error = response
        .extensions()
        .get::<ApiError>()
        .map(|error| error.message.as_str());
    let request_id = request_id.as_deref();
    macro_rules! line {
        ($level:expr) => {
            tracing::event!(
                $level,
                request_id,
                method,
                route,
                status,
                date,
                rows,
                bytes,
                duration_ms,
                error,
                "served"
            )
        };
    }
    match status {
        500.. => line!(tracing::Level::ERROR),
        400.. => line!(tracing::Level::WARN),
        _ => line!(tracing::Level::INFO),
    }
    response
}
