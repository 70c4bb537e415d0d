//! AWS clients from the standard credential chain (profiles, environment, SSO,
//! web identity for GitHub OIDC), honouring `AWS_ENDPOINT_URL`, with adaptive
//! retries. Every HTTP request is recorded, so that a test or the benchmark can
//! prove a no-op `up` made read requests only.

mod request_log;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;

pub use request_log::{Request, RequestLog};

#[derive(Debug, Clone)]
pub struct Aws {
    pub s3: aws_sdk_s3::Client,
    pub region: String,
    pub requests: RequestLog,
}

impl Aws {
    /// Clients from the standard chain (what the commands use).
    pub async fn connect(region: &str) -> Aws {
        Aws::connect_with(region, aws_config::defaults(BehaviorVersion::latest())).await
    }

    /// Clients from a prepared loader (tests point it at a local endpoint).
    pub async fn connect_with(region: &str, loader: aws_config::ConfigLoader) -> Aws {
        let shared = loader
            .region(aws_config::Region::new(region.to_owned()))
            .retry_config(RetryConfig::adaptive().with_max_attempts(5))
            .load()
            .await;
        let requests = RequestLog::default();
        let custom_endpoint = shared.endpoint_url().is_some();
        let s3 = aws_sdk_s3::config::Builder::from(&shared)
            .force_path_style(custom_endpoint)
            .interceptor(requests.clone())
            .build();
        Aws {
            s3: aws_sdk_s3::Client::from_conf(s3),
            region: region.to_owned(),
            requests,
        }
    }
}

/// An SDK error as a person reads it: the service's code and message, or the
/// chain of causes for a transport error (the SDK's own `Display` says only
/// "service error" or "dispatch failure").
pub fn describe<E, R>(error: &aws_sdk_s3::error::SdkError<E, R>) -> String
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    if let Some(service) = error.as_service_error() {
        return format!(
            "{}: {}",
            service.code().unwrap_or("unknown error"),
            service.message().unwrap_or("no message")
        );
    }
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The service error code, if the error came from the service.
pub fn error_code<E, R>(error: &aws_sdk_s3::error::SdkError<E, R>) -> Option<&str>
where
    E: aws_sdk_s3::error::ProvideErrorMetadata,
{
    error.as_service_error().and_then(|e| e.code())
}
