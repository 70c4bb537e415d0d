//! Creating what API Gateway lets repeat (REST APIs, API keys, usage plans
//! of one name) at most once. The SDK retries a request whose answer never
//! came (a dropped connection, a timeout, a 5xx) as it was: for these
//! creates that makes a second one when AWS had acted on the first — a
//! duplicate the next `drift` reports. So each try goes out once, without
//! the SDK's retries, and before trying again after a transient failure the
//! stack's copy is looked for: found, it is the one created.

use std::future::Future;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response;
use backon::{BackoffBuilder, ExponentialBuilder};

use crate::aws::describe;
use crate::resources::ResourceError;

/// A config override that sends a request once (no SDK retry).
pub(super) fn no_retries() -> aws_sdk_apigateway::config::Builder {
    aws_sdk_apigateway::config::Builder::default().retry_config(RetryConfig::disabled())
}

/// Whether AWS may have acted, or may act if asked again: no answer, a
/// throttle or a 5xx (a 4xx other than 429 is final).
pub(super) fn transient<E>(error: &SdkError<E, Response>) -> bool {
    match error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            status == 429 || status >= 500
        }
        _ => false,
    }
}

/// A failed try: what to say, and whether another may be made.
pub(super) struct Failure {
    pub detail: String,
    pub transient: bool,
}

impl Failure {
    pub(super) fn of<E>(error: &SdkError<E, Response>) -> Failure
    where
        E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
    {
        Failure {
            detail: describe(error),
            transient: transient(error),
        }
    }
}

/// The id a create answered with (an answer without one is final).
pub(super) fn answered_id(id: Option<&str>) -> Result<String, Failure> {
    id.filter(|id| !id.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| Failure {
            detail: "the answer carried no id".into(),
            transient: false,
        })
}

/// `create` (sent once per try) until it answers with an id; after a
/// transient failure, `look` first (the stack's copy, if the lost try made
/// it). Up to five tries, with jittered backoff between them.
pub(super) async fn create_once<C, CF, L, LF>(
    create: C,
    look: L,
    error: impl Fn(String) -> ResourceError,
) -> Result<String, ResourceError>
where
    C: Fn() -> CF,
    CF: Future<Output = Result<String, Failure>>,
    L: Fn() -> LF,
    LF: Future<Output = Result<Option<String>, ResourceError>>,
{
    let mut delays = ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(200))
        .with_max_delay(Duration::from_secs(5))
        .with_max_times(4)
        .with_jitter()
        .build();
    loop {
        let failure = match create().await {
            Ok(id) => return Ok(id),
            Err(failure) => failure,
        };
        match delays.next() {
            Some(delay) if failure.transient => tokio::time::sleep(delay).await,
            _ => return Err(error(failure.detail)),
        }
        if let Some(id) = look().await? {
            return Ok(id);
        }
    }
}
