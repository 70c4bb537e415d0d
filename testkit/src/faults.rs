//! Faults the moto front injects once a test asks (`MotoServer::inject_faults`),
//! as a real account under load produces them, in each protocol's shape:
//!
//! - errors AWS sends when it sheds load, answered instead of the request
//!   (it never reaches moto): awsJson (SSM, Logs, the tagging API)
//!   `400 ThrottlingException`; restJson (Lambda, API Gateway) `429
//!   TooManyRequestsException`; awsQuery (IAM, STS, Redshift) `400
//!   Throttling`; S3 `503 SlowDown`; and a plain `500` in each one's shape
//!   (`InternalFailure`, `ServiceException`, `InternalError`);
//! - connections dropped mid-request: the request is read, then the
//!   connection is closed with no answer, half of the time before the request
//!   reaches moto (it never happened) and half after (it happened, its answer
//!   is lost — what exposes a create that is not idempotent);
//! - an `AccessDenied` (in the protocol's shape) for every request of the
//!   operations a test names: not retryable, the tool must fail at once;
//! - a kill point: the Nth mutating request (a create, put, update, delete,
//!   tag…) reaches moto, then it and every later request are held without an
//!   answer, and the test is told, so that it kills its child at exactly N.
//!
//! Which request gets a fault is a pure function of the seed, the request
//! (method, path, operation, body) and how many times that same request was
//! seen before: a rerun with the same seed meets the same faults whatever
//! the interleaving of concurrent requests, and a retry is a new draw.
//!
//! Limits: the service is told from the SigV4 credential scope (`…/s3/…`),
//! so unsigned requests are never faulted; a dropped connection is closed by
//! unwinding the front's connection task (`resume_unwind`, no panic message),
//! which needs the test profile's `panic = "unwind"`; error bodies carry the
//! fields the SDKs read (code, message, request id), not every field AWS adds.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::Response;

/// What the front injects; share it with the test to read the counts.
#[derive(Clone, Default)]
pub struct Faults(Arc<Inner>);

#[derive(Default)]
struct Inner {
    settings: Mutex<Settings>,
    /// How many times each request was seen (for the seeded draw).
    seen: Mutex<HashMap<u64, u64>>,
    requests: AtomicUsize,
    mutating: AtomicUsize,
    throttled: AtomicUsize,
    server_errors: AtomicUsize,
    dropped_unsent: AtomicUsize,
    dropped_after: AtomicUsize,
    denied: AtomicUsize,
    kill: Mutex<Option<KillPoint>>,
}

#[derive(Clone, Default)]
struct Settings {
    seed: u64,
    /// Per mille of requests answered with an error.
    error_per_mille: u64,
    /// Per mille of connections dropped mid-request.
    drop_per_mille: u64,
    /// Operations (`CreateRole`) answered `AccessDenied`.
    denied: Vec<String>,
    /// The first of each distinct mutating request reaches moto and its
    /// answer is lost; the retry goes through.
    lose_first_answers: bool,
    enabled: bool,
}

struct KillPoint {
    at: usize,
    reached: Option<std::sync::mpsc::Sender<String>>,
    /// Set once the Nth mutating request went through: all later ones wait.
    holding: bool,
    release: Arc<tokio::sync::Notify>,
}

/// The counts so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultCounts {
    pub requests: usize,
    pub mutating: usize,
    pub throttled: usize,
    pub server_errors: usize,
    /// Connections closed before the request reached moto.
    pub dropped_unsent: usize,
    /// Connections closed after moto acted (the answer lost).
    pub dropped_after: usize,
    pub denied: usize,
}

impl FaultCounts {
    /// Every fault injected (denials excluded: they are not load).
    pub fn injected(&self) -> usize {
        self.throttled + self.server_errors + self.dropped_unsent + self.dropped_after
    }
}

/// What becomes of one request.
pub(crate) enum Verdict {
    Forward,
    /// Answered by the front, never sent to moto.
    Answer(Response),
    /// The connection closed before forwarding.
    CloseUnsent,
    /// Forwarded, then the connection closed.
    CloseAfter,
    /// Forwarded, then the test told (once moto has acted), then held until
    /// the test releases the kill point.
    HoldAfter(Arc<tokio::sync::Notify>, Option<Reached>),
    /// Not forwarded, held until released.
    Hold(Arc<tokio::sync::Notify>),
}

/// The kill point's message to the test, sent once the request is done.
pub(crate) struct Reached {
    sender: std::sync::mpsc::Sender<String>,
    what: String,
}

impl Reached {
    pub(crate) fn tell(self) {
        let _ = self.sender.send(self.what);
    }
}

/// The wire protocol a request speaks, for the error's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    AwsJson,
    RestJson,
    Query,
    S3,
}

impl Faults {
    /// Errors on `error_per_mille` ‰ of requests and drops on `drop_per_mille`
    /// ‰, drawn from `seed`. Enabled at once.
    pub fn seeded(seed: u64, error_per_mille: u64, drop_per_mille: u64) -> Faults {
        let faults = Faults::default();
        {
            let mut settings = faults.settings();
            settings.seed = seed;
            settings.error_per_mille = error_per_mille;
            settings.drop_per_mille = drop_per_mille;
            settings.enabled = true;
        }
        faults
    }

    /// Counts only (no fault) until something is set.
    pub fn counting() -> Faults {
        let faults = Faults::default();
        faults.settings().enabled = true;
        faults
    }

    fn settings(&self) -> std::sync::MutexGuard<'_, Settings> {
        self.0
            .settings
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Answers every request of `operation` (`CreateRole`) with `AccessDenied`.
    pub fn deny(&self, operation: &str) {
        self.settings().denied.push(operation.to_owned());
    }

    /// From now on the first of each distinct mutating request (method, path,
    /// operation) is done by moto and its answer lost: every create, put and
    /// delete meets its retry finding its own work done (but for the deletes
    /// moto answers wrongly when repeated: `moto_cannot_repeat`).
    pub fn lose_each_first_answer(&self) {
        self.settings().lose_first_answers = true;
    }

    /// Injects (and counts) only while enabled: a test turns it off to look
    /// at what the tool left behind.
    pub fn set_enabled(&self, enabled: bool) {
        self.settings().enabled = enabled;
    }

    pub fn counts(&self) -> FaultCounts {
        let load = |counter: &AtomicUsize| counter.load(Ordering::SeqCst);
        FaultCounts {
            requests: load(&self.0.requests),
            mutating: load(&self.0.mutating),
            throttled: load(&self.0.throttled),
            server_errors: load(&self.0.server_errors),
            dropped_unsent: load(&self.0.dropped_unsent),
            dropped_after: load(&self.0.dropped_after),
            denied: load(&self.0.denied),
        }
    }

    /// From now on: the `at`-th mutating request (counted from this call) goes
    /// through, then it and every later request are held unanswered, and
    /// `reached` gets that request's description.
    pub fn kill_after_mutating(&self, at: usize, reached: std::sync::mpsc::Sender<String>) {
        self.0.mutating.store(0, Ordering::SeqCst);
        *self.0.kill.lock().unwrap_or_else(PoisonError::into_inner) = Some(KillPoint {
            at,
            reached: Some(reached),
            holding: false,
            release: Arc::new(tokio::sync::Notify::new()),
        });
    }

    /// Ends the kill point: held requests are let go (their client is dead;
    /// they get a 502 nobody reads) and later ones pass.
    pub fn clear_kill_point(&self) {
        if let Some(point) = self
            .0
            .kill
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            point.release.notify_waiters();
        }
    }

    pub(crate) fn decide(&self, parts: &Parts, body: &[u8]) -> Verdict {
        let settings = self.settings().clone();
        if !settings.enabled {
            return Verdict::Forward;
        }
        let Some(service) = service(parts) else {
            return Verdict::Forward;
        };
        let protocol = protocol(&service, parts);
        let operation = operation(parts, body);
        self.0.requests.fetch_add(1, Ordering::SeqCst);
        let mutating = is_mutating(parts, operation.as_deref());
        if let Some(verdict) = self.kill_point(parts, operation.as_deref(), mutating) {
            return verdict;
        }
        if mutating {
            self.0.mutating.fetch_add(1, Ordering::SeqCst);
        }
        if let Some(operation) = &operation
            && settings.denied.iter().any(|d| d == operation)
        {
            self.0.denied.fetch_add(1, Ordering::SeqCst);
            return Verdict::Answer(access_denied(protocol, operation));
        }
        if settings.lose_first_answers && mutating && !moto_cannot_repeat(parts) {
            let first = self.first_time(parts, operation.as_deref());
            if first {
                self.0.dropped_after.fetch_add(1, Ordering::SeqCst);
                return Verdict::CloseAfter;
            }
            return Verdict::Forward;
        }
        let draw = self.draw(settings.seed, parts, operation.as_deref(), body) % 1000;
        if draw < settings.drop_per_mille {
            // Half before, half after moto acted.
            return if draw.is_multiple_of(2) {
                self.0.dropped_unsent.fetch_add(1, Ordering::SeqCst);
                Verdict::CloseUnsent
            } else {
                self.0.dropped_after.fetch_add(1, Ordering::SeqCst);
                Verdict::CloseAfter
            };
        }
        if draw < settings.drop_per_mille + settings.error_per_mille {
            // Three throttles to one plain 500.
            return Verdict::Answer(if draw % 4 == 3 {
                self.0.server_errors.fetch_add(1, Ordering::SeqCst);
                server_error(protocol)
            } else {
                self.0.throttled.fetch_add(1, Ordering::SeqCst);
                throttled(protocol)
            });
        }
        Verdict::Forward
    }

    /// The kill point's say on this request, if one is set.
    fn kill_point(
        &self,
        parts: &Parts,
        operation: Option<&str>,
        mutating: bool,
    ) -> Option<Verdict> {
        let mut kill = self.0.kill.lock().unwrap_or_else(PoisonError::into_inner);
        let point = kill.as_mut()?;
        if point.holding {
            return Some(Verdict::Hold(point.release.clone()));
        }
        if !mutating {
            return None;
        }
        let count = self.0.mutating.fetch_add(1, Ordering::SeqCst) + 1;
        if count < point.at {
            return Some(Verdict::Forward);
        }
        point.holding = true;
        let reached = point.reached.take().map(|sender| Reached {
            sender,
            what: format!(
                "{} {} {}",
                parts.method,
                parts.uri.path(),
                operation.unwrap_or_default()
            ),
        });
        Some(Verdict::HoldAfter(point.release.clone(), reached))
    }

    /// Whether this is the first request of its method, path and operation.
    fn first_time(&self, parts: &Parts, operation: Option<&str>) -> bool {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        ("first", parts.method.as_str(), parts.uri.path(), operation).hash(&mut hasher);
        let mut seen = self.0.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let count = seen.entry(hasher.finish()).or_insert(0);
        *count += 1;
        *count == 1
    }

    /// The seeded draw for this request and how often it was seen before.
    fn draw(&self, seed: u64, parts: &Parts, operation: Option<&str>, body: &[u8]) -> u64 {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        parts.method.as_str().hash(&mut hasher);
        parts.uri.path().hash(&mut hasher);
        parts.uri.query().hash(&mut hasher);
        operation.hash(&mut hasher);
        body.hash(&mut hasher);
        let request = hasher.finish();
        let occurrence = {
            let mut seen = self.0.seen.lock().unwrap_or_else(PoisonError::into_inner);
            let count = seen.entry(request).or_insert(0);
            *count += 1;
            *count
        };
        splitmix(seed ^ splitmix(request ^ splitmix(occurrence)))
    }
}

/// Deletes whose repetition moto 5.2.5 answers wrongly: a repeated delete
/// of an API Gateway usage plan (or its key), API key or REST API is a 500
/// (a KeyError) where API Gateway says 404 NotFound, so a lost answer there
/// cannot show what the tool does on AWS (it takes the 404 for done).
fn moto_cannot_repeat(parts: &Parts) -> bool {
    parts.method == Method::DELETE
        && ["/usageplans", "/apikeys", "/restapis"]
            .iter()
            .any(|prefix| parts.uri.path().starts_with(prefix))
}

fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The service a signed request is for, from its SigV4 credential scope
/// (`Credential=AKID/DATE/REGION/SERVICE/aws4_request`).
fn service(parts: &Parts) -> Option<String> {
    let authorization = parts.headers.get("authorization")?.to_str().ok()?;
    let credential = authorization.split("Credential=").nth(1)?;
    let scope: Vec<&str> = credential.split([',', ' ']).next()?.split('/').collect();
    scope.get(3).map(|s| (*s).to_owned())
}

fn protocol(service: &str, parts: &Parts) -> Protocol {
    if service == "s3" {
        Protocol::S3
    } else if parts.headers.contains_key("x-amz-target") {
        Protocol::AwsJson
    } else if matches!(service, "iam" | "sts" | "redshift") {
        Protocol::Query
    } else {
        Protocol::RestJson
    }
}

/// The operation's name where the wire carries it: `X-Amz-Target`'s last
/// part (awsJson) or the form's `Action` (awsQuery).
fn operation(parts: &Parts, body: &[u8]) -> Option<String> {
    if let Some(target) = parts
        .headers
        .get("x-amz-target")
        .and_then(|t| t.to_str().ok())
    {
        return target.rsplit('.').next().map(str::to_owned);
    }
    let form = std::str::from_utf8(body).ok()?;
    form.split('&')
        .find_map(|pair| pair.strip_prefix("Action="))
        .map(str::to_owned)
}

/// Whether the request changes something: by its operation's name where the
/// wire carries one (reads are Get…, List…, Describe…), else by its method.
fn is_mutating(parts: &Parts, operation: Option<&str>) -> bool {
    match operation {
        Some(operation) => !["Get", "List", "Describe", "Lookup", "Search"]
            .iter()
            .any(|read| operation.starts_with(read)),
        None => !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS),
    }
}

fn request_id() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    format!(
        "00000000-fa17-0000-0000-{:012}",
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

fn answer(status: StatusCode, content_type: &str, code: &str, body: String) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("x-amzn-requestid", request_id())
        .header("x-amzn-errortype", code)
        .body(Body::from(body))
        .unwrap_or_default()
}

fn json_error(status: StatusCode, code: &str, message: &str) -> Response {
    answer(
        status,
        "application/x-amz-json-1.1",
        code,
        serde_json::json!({"__type": code, "message": message}).to_string(),
    )
}

fn rest_json_error(status: StatusCode, code: &str, message: &str) -> Response {
    answer(
        status,
        "application/json",
        code,
        serde_json::json!({"message": message}).to_string(),
    )
}

fn query_error(status: StatusCode, kind: &str, code: &str, message: &str) -> Response {
    answer(
        status,
        "text/xml",
        code,
        format!(
            "<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
            request_id()
        ),
    )
}

fn s3_error(status: StatusCode, code: &str, message: &str) -> Response {
    answer(
        status,
        "application/xml",
        code,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>{}</RequestId></Error>",
            request_id()
        ),
    )
}

fn throttled(protocol: Protocol) -> Response {
    match protocol {
        Protocol::AwsJson => json_error(
            StatusCode::BAD_REQUEST,
            "ThrottlingException",
            "Rate exceeded",
        ),
        Protocol::RestJson => rest_json_error(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequestsException",
            "Too Many Requests",
        ),
        Protocol::Query => query_error(
            StatusCode::BAD_REQUEST,
            "Sender",
            "Throttling",
            "Rate exceeded",
        ),
        Protocol::S3 => s3_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "SlowDown",
            "Please reduce your request rate.",
        ),
    }
}

fn server_error(protocol: Protocol) -> Response {
    let status = StatusCode::INTERNAL_SERVER_ERROR;
    match protocol {
        Protocol::AwsJson => json_error(status, "InternalFailure", "Internal failure"),
        Protocol::RestJson => rest_json_error(status, "ServiceException", "Internal error"),
        Protocol::Query => query_error(status, "Receiver", "InternalFailure", "Internal failure"),
        Protocol::S3 => s3_error(
            status,
            "InternalError",
            "We encountered an internal error. Please try again.",
        ),
    }
}

fn access_denied(protocol: Protocol, operation: &str) -> Response {
    let message = format!(
        "User: arn:aws:iam::123456789012:user/tester is not authorized to perform: {operation}"
    );
    match protocol {
        Protocol::AwsJson => json_error(StatusCode::BAD_REQUEST, "AccessDeniedException", &message),
        Protocol::RestJson => {
            rest_json_error(StatusCode::FORBIDDEN, "AccessDeniedException", &message)
        }
        Protocol::Query => query_error(StatusCode::FORBIDDEN, "Sender", "AccessDenied", &message),
        Protocol::S3 => s3_error(StatusCode::FORBIDDEN, "AccessDenied", "Access Denied"),
    }
}

/// Closes the connection this request came on without an answer: the
/// front's connection task unwinds (no panic message: `resume_unwind`
/// skips the panic hook) and drops its socket.
pub(crate) fn close_connection() -> ! {
    std::panic::resume_unwind(Box::new("moto front: connection dropped on purpose"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(method: &str, path: &str, headers: &[(&str, &str)]) -> Parts {
        let mut request = axum::http::Request::builder().method(method).uri(path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(()).unwrap().into_parts().0
    }

    fn signed(service: &str) -> (&'static str, String) {
        (
            "authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=00"
            ),
        )
    }

    #[test]
    fn protocols_operations_and_mutations_are_told_apart() {
        let (name, value) = signed("iam");
        let iam = parts("POST", "/", &[(name, &value)]);
        assert_eq!(service(&iam).as_deref(), Some("iam"));
        assert_eq!(protocol("iam", &iam), Protocol::Query);
        let body = b"Action=CreateRole&Version=2010-05-08";
        assert_eq!(operation(&iam, body).as_deref(), Some("CreateRole"));
        assert!(is_mutating(&iam, Some("CreateRole")));
        assert!(!is_mutating(&iam, Some("GetRole")));
        let (name, value) = signed("ssm");
        let ssm = parts(
            "POST",
            "/",
            &[(name, &value), ("x-amz-target", "AmazonSSM.PutParameter")],
        );
        assert_eq!(protocol("ssm", &ssm), Protocol::AwsJson);
        assert_eq!(operation(&ssm, b"{}").as_deref(), Some("PutParameter"));
        let (name, value) = signed("s3");
        let s3 = parts("GET", "/bucket?tagging", &[(name, &value)]);
        assert_eq!(protocol("s3", &s3), Protocol::S3);
        assert!(!is_mutating(&s3, None));
        let lambda = parts("DELETE", "/2015-03-31/functions/f", &[]);
        assert_eq!(protocol("lambda", &lambda), Protocol::RestJson);
        assert!(is_mutating(&lambda, None));
        assert!(service(&lambda).is_none(), "unsigned: never faulted");
    }

    #[test]
    fn the_draw_is_seeded_and_near_its_rate() {
        let faults = Faults::seeded(7, 100, 10);
        let (name, value) = signed("logs");
        let mut answered = 0;
        let mut dropped = 0;
        for i in 0..10_000 {
            let request = parts(
                "POST",
                &format!("/?n={i}"),
                &[(name, &value), ("x-amz-target", "Logs_20140328.Get")],
            );
            match faults.decide(&request, b"{}") {
                Verdict::Answer(_) => answered += 1,
                Verdict::CloseUnsent | Verdict::CloseAfter => dropped += 1,
                _ => {}
            }
        }
        assert!((800..1200).contains(&answered), "{answered}");
        assert!((50..150).contains(&dropped), "{dropped}");
        let again = Faults::seeded(7, 100, 10);
        let first = parts(
            "POST",
            "/?n=1",
            &[(name, &value), ("x-amz-target", "X.Get")],
        );
        let a = matches!(faults.decide(&first, b"{}"), Verdict::Forward);
        let _ = again.decide(&first, b"{}");
        let b = matches!(again.decide(&first, b"{}"), Verdict::Forward);
        assert_eq!(a, b, "same seed, same request, same occurrence: same fate");
        let counts = faults.counts();
        assert_eq!(counts.injected(), answered + dropped);
        assert!(counts.throttled > counts.server_errors);
    }
}
