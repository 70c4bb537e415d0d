//! A small HTTP front for moto's server, used by every test that talks to it:
//!
//! - moto 5.2.5 serialises some S3 rest-xml responses with a generic
//!   `<{Operation}Response>` root where S3 (and the Rust SDK, which checks)
//!   expects the documented root, e.g. `<VersioningConfiguration>` for
//!   GetBucketVersioning. boto3 ignores the root, the Rust SDK does not. The
//!   proxy renames those roots; nothing else is touched. (A test-side
//!   workaround for the emulator: the product speaks real S3.)
//! - it applies the tags a CreateBucket carries, which S3 applies in that
//!   call and moto 5.2.5 ignores (`create_bucket_tags`).
//! - optionally it delays every request, to measure against a real region's
//!   round trip.
//! - it routes what moto cannot serve to testkit's stand-ins, once a test has
//!   installed them: Lambda `Invoke` (`POST
//!   /2015-03-31/functions/{name}/invocations`) to `LambdaInvoke`, and the
//!   Redshift Data API (`X-Amz-Target: RedshiftData.*`) to `RedshiftData`,
//!   and Redshift Serverless (`RedshiftServerless.*`) to `RedshiftServerless`.
//!   Everything else, and those too while no stand-in is installed, goes to
//!   moto; so the tool, boto3 and Airflow reach every service at one endpoint.
//! - once a test asks (`MotoServer::page_api_gateway_listings`), it pages API
//!   Gateway's listings (`GET /restapis`, `/apikeys`, `/usageplans`, a REST
//!   API's `/resources`, a plan's `/keys`) as API Gateway does, by `limit`
//!   and an opaque `position`: moto answers every item at once, so without
//!   this a client that stops after the first page would pass every test.
//! - it answers Redshift's `ModifyClusterIamRoles`, which moto lacks, and
//!   shows the roles it set in `DescribeClusters` (see `cluster_iam_roles`).
//! - once a test asks (`MotoServer::add_cloudformation_bucket_tags`), a
//!   bucket carries CloudFormation's `aws:` system tags as on AWS (see
//!   `system_tags`).
//! - once a test asks (`MotoServer::inject_faults`), it injects the faults
//!   `faults` describes (throttling, 500s, dropped connections, denials, a
//!   kill point) before forwarding.

use std::net::SocketAddr;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;

use crate::faults::Verdict;

/// The stand-ins a test installed on the front.
#[derive(Clone, Default)]
pub(crate) struct StandIns {
    pub(crate) redshift_data: Option<crate::RedshiftData>,
    pub(crate) lambda: Option<crate::LambdaInvoke>,
    pub(crate) redshift_serverless: Option<crate::RedshiftServerless>,
    /// Items per page of API Gateway's listings (the smaller of this and the
    /// request's `limit`); `None`: moto's single page.
    pub(crate) api_gateway_page: Option<usize>,
    /// Buckets that carry CloudFormation's system tags (see `system_tags`).
    pub(crate) system_tags: std::collections::BTreeMap<String, Vec<(String, String)>>,
    pub(crate) faults: Option<crate::faults::Faults>,
}

pub(crate) type SharedStandIns = Arc<RwLock<StandIns>>;

#[derive(Clone)]
struct Upstream {
    base: String,
    client: reqwest::Client,
    latency: Duration,
    stand_ins: SharedStandIns,
    /// Roles set through `ModifyClusterIamRoles` (see `cluster_iam_roles`).
    cluster_roles: Arc<RwLock<crate::cluster_iam_roles::ClusterRoles>>,
}

/// A Redshift query-protocol request (a POSTed form with an `Action`).
fn redshift_query(
    parts: &axum::http::request::Parts,
    body: &Bytes,
) -> Option<crate::cluster_iam_roles::QueryRequest> {
    let form = parts
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let redshift = parts
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("/redshift/aws4_request"));
    (parts.method == axum::http::Method::POST && form && redshift)
        .then(|| crate::cluster_iam_roles::QueryRequest::parse(body))
        .flatten()
}

/// Starts the proxy on its own thread and runtime (so sync and async tests
/// alike can use it, and the stand-ins' work outlives no test runtime);
/// returns its address and the stand-ins it routes to.
pub fn start(upstream_port: u16, latency: Duration) -> (SocketAddr, SharedStandIns) {
    let stand_ins = SharedStandIns::default();
    let routes = stand_ins.clone();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(error) => panic!("moto proxy runtime: {error}"),
        };
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .unwrap_or_else(|e| panic!("moto proxy: {e}"));
            let _ = sender.send(
                listener
                    .local_addr()
                    .unwrap_or_else(|e| panic!("moto proxy: {e}")),
            );
            let upstream = Upstream {
                base: format!("http://127.0.0.1:{upstream_port}"),
                client: reqwest::Client::new(),
                latency,
                stand_ins: routes,
                cluster_roles: Arc::default(),
            };
            let app = Router::new().fallback(forward).with_state(upstream);
            let _ = axum::serve(listener, app).await;
        });
    });
    let address = receiver
        .recv()
        .unwrap_or_else(|e| panic!("moto proxy did not start: {e}"));
    (address, stand_ins)
}

/// The stand-in's answer when the request is one of theirs and one is installed.
async fn stand_in(
    upstream: &Upstream,
    parts: &axum::http::request::Parts,
    body: &Bytes,
) -> Option<Response> {
    let installed = upstream
        .stand_ins
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    if let Some(redshift_data) = installed.redshift_data
        && parts.method == axum::http::Method::POST
        && let Some(target) = parts
            .headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .filter(|t| t.starts_with("RedshiftData."))
    {
        return Some(redshift_data.handle(target, body).await);
    }
    if let Some(serverless) = installed.redshift_serverless
        && parts.method == axum::http::Method::POST
        && let Some(target) = parts
            .headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .filter(|t| t.starts_with("RedshiftServerless."))
    {
        return Some(serverless.handle(target, &parts.headers, body));
    }
    if let Some(lambda) = installed.lambda
        && parts.method == axum::http::Method::POST
        && let Some(name) = parts
            .uri
            .path()
            .strip_prefix("/2015-03-31/functions/")
            .and_then(|rest| rest.strip_suffix("/invocations"))
            .filter(|name| !name.is_empty() && !name.contains('/'))
    {
        return Some(
            lambda
                .handle(name, parts.uri.query(), &parts.headers, body.clone())
                .await,
        );
    }
    None
}

async fn forward(State(upstream): State<Upstream>, request: Request) -> Response {
    if !upstream.latency.is_zero() {
        tokio::time::sleep(upstream.latency).await;
    }
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let faults = upstream
        .stand_ins
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .faults
        .clone();
    let verdict = faults.map(|faults| faults.decide(&parts, &body));
    let after = match verdict {
        Some(Verdict::Answer(response)) => return response,
        Some(Verdict::CloseUnsent) => crate::faults::close_connection(),
        Some(Verdict::Hold(release)) => return held(&release).await,
        other => other,
    };
    let response = forward_to_moto(&upstream, parts, body).await;
    match after {
        Some(Verdict::CloseAfter) => crate::faults::close_connection(),
        Some(Verdict::HoldAfter(release, reached)) => {
            // Told only now that moto has acted: the test kills the client
            // next, and a killed client's request is dropped where it is.
            if let Some(reached) = reached {
                reached.tell();
            }
            held(&release).await
        }
        _ => response,
    }
}

/// A request held at a kill point: answered (a 502 its killed client never
/// reads) once the test lets go, or after ten minutes.
async fn held(release: &tokio::sync::Notify) -> Response {
    let _ = tokio::time::timeout(Duration::from_secs(600), release.notified()).await;
    Response::builder()
        .status(StatusCode::BAD_GATEWAY)
        .body(Body::empty())
        .unwrap_or_default()
}

async fn forward_to_moto(
    upstream: &Upstream,
    parts: axum::http::request::Parts,
    body: Bytes,
) -> Response {
    if let Some(response) = stand_in(upstream, &parts, &body).await {
        return response;
    }
    let query = redshift_query(&parts, &body);
    if let Some(query) = &query {
        if query.is_modify_roles() {
            return crate::cluster_iam_roles::modify(
                &upstream.client,
                &upstream.base,
                &parts.headers,
                query,
                &upstream.cluster_roles,
            )
            .await;
        }
        if query.resets_roles() {
            upstream
                .cluster_roles
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&query.cluster);
        }
    }
    let host = parts.headers.get("host").and_then(|h| h.to_str().ok());
    let system_tags = crate::system_tags::tagging_bucket(host, parts.uri.path(), parts.uri.query())
        .and_then(|bucket| {
            let installed = upstream
                .stand_ins
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            installed.system_tags.get(bucket).cloned()
        });
    let mut body = body;
    let rewritten = system_tags.is_some() && parts.method == axum::http::Method::PUT;
    if let Some(system) = system_tags.as_ref().filter(|_| rewritten) {
        match crate::system_tags::check_request(&body, system) {
            Ok(stripped) => body = stripped,
            Err(message) => {
                return Response::builder()
                    .status(StatusCode::BAD_REQUEST)
                    .header("content-type", "application/xml")
                    .body(Body::from(crate::system_tags::invalid_tag(&message)))
                    .unwrap_or_default();
            }
        }
    }
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut outgoing = upstream
        .client
        .request(parts.method.clone(), format!("{}{path}", upstream.base));
    for (name, value) in &parts.headers {
        // A rewritten body no longer matches the client's checksum.
        let checksum = name == "content-md5" || name.as_str().starts_with("x-amz-checksum-");
        if name != "host" && name != "content-length" && !(rewritten && checksum) {
            outgoing = outgoing.header(name, value);
        }
    }
    let tags = crate::moto_s3_fixes::create_bucket_tags(&parts, &body);
    let answer = match outgoing.body(body).send().await {
        Ok(answer) => answer,
        Err(error) => {
            return Response::builder()
                .status(StatusCode::BAD_GATEWAY)
                .body(Body::from(format!("moto proxy: {error}")))
                .unwrap_or_default();
        }
    };
    let mut status = answer.status();
    if let Some(tags) = tags.filter(|_| status.is_success()) {
        tag_new_bucket(upstream, &parts, tags).await;
    }
    let headers = answer.headers().clone();
    let mut bytes = answer.bytes().await.unwrap_or_default();
    if let Some(system) = &system_tags
        && parts.method == axum::http::Method::GET
    {
        // No tag set at moto is still a set of system tags at S3.
        let moto_set = status.is_success().then_some(&bytes);
        if moto_set.is_some()
            || std::str::from_utf8(&bytes).is_ok_and(|t| t.contains("NoSuchTagSet"))
        {
            bytes = crate::system_tags::add_to_answer(moto_set, system);
            status = StatusCode::OK;
        }
    }
    if query.is_some_and(|q| q.action == "DescribeClusters") && status.is_success() {
        let roles = upstream
            .cluster_roles
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        if !roles.is_empty() {
            let text = String::from_utf8_lossy(&bytes);
            bytes = Bytes::from(crate::cluster_iam_roles::rewrite_describe(&text, &roles));
        }
    }
    let page_size = upstream
        .stand_ins
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .api_gateway_page;
    let fixed = match page_size {
        Some(size) if parts.method == axum::http::Method::GET && status.is_success() => {
            crate::api_gateway_pages::page_listing(
                parts.uri.path(),
                parts.uri.query(),
                size,
                &bytes,
            )
            .unwrap_or_else(|| crate::moto_s3_fixes::fix_root(&bytes))
        }
        _ => crate::moto_s3_fixes::fix_root(&bytes),
    };
    let mut response = Response::builder().status(status);
    for (name, value) in &headers {
        if name != "content-length" && name != "transfer-encoding" && name != "connection" {
            response = response.header(name, value);
        }
    }
    let length = HeaderValue::from(fixed.len());
    response
        .header("content-length", length)
        .body(Body::from(fixed))
        .unwrap_or_default()
}

async fn tag_new_bucket(upstream: &Upstream, parts: &axum::http::request::Parts, tags: String) {
    let mut tagging = upstream.client.put(format!(
        "{}{}?tagging",
        upstream.base,
        parts.uri.path().trim_end_matches('/')
    ));
    // moto tells S3 from the credential scope; it checks no signature.
    for name in ["authorization", "x-amz-date", "x-amz-security-token"] {
        if let Some(value) = parts.headers.get(name) {
            tagging = tagging.header(name, value);
        }
    }
    let _ = tagging
        .body(format!(
            "<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet>{tags}</TagSet></Tagging>"
        ))
        .send()
        .await;
}
