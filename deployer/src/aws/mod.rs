//! AWS clients from the standard credential chain (profiles, environment, SSO,
//! web identity for GitHub OIDC), honouring `AWS_ENDPOINT_URL`, with adaptive
//! retries. Every HTTP request is recorded, so that a test or the benchmark can
//! prove a no-op `up` made read requests only.

mod read_cache;
mod request_log;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

pub use read_cache::{reading, shared};
pub use request_log::{Request, RequestLog, acting_on};

#[derive(Debug, Clone)]
pub struct Aws {
    pub s3: aws_sdk_s3::Client,
    pub apigateway: aws_sdk_apigateway::Client,
    pub iam: aws_sdk_iam::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub redshift: aws_sdk_redshift::Client,
    /// The warehouse's SQL (`run` on AWS): statements through the Redshift Data API.
    pub redshiftdata: aws_sdk_redshiftdata::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub ssm: aws_sdk_ssm::Client,
    pub sts: aws_sdk_sts::Client,
    /// Finds the stack's resources by tag (buckets: S3 has no list-by-tag of its own).
    pub tagging: aws_sdk_resourcegroupstagging::Client,
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
        let apigateway = aws_sdk_apigateway::config::Builder::from(&shared)
            .interceptor(requests.clone())
            .build();
        let iam = aws_sdk_iam::config::Builder::from(&shared)
            .interceptor(requests.clone())
            .build();
        let lambda = aws_sdk_lambda::config::Builder::from(&shared)
            .interceptor(requests.clone())
            .build();
        let redshift = aws_sdk_redshift::config::Builder::from(&shared)
            .interceptor(requests.clone())
            .build();
        let redshiftdata = aws_sdk_redshiftdata::config::Builder::from(&shared)
            .interceptor(requests.clone())
            .build();
        let logs = aws_sdk_cloudwatchlogs::config::Builder::from(&shared)
            .interceptor(requests.clone())
            .build();
        let ssm = aws_sdk_ssm::config::Builder::from(&shared)
            .interceptor(requests.clone())
            .build();
        let sts = aws_sdk_sts::config::Builder::from(&shared)
            .interceptor(requests.clone())
            .build();
        let tagging = aws_sdk_resourcegroupstagging::config::Builder::from(&shared)
            .interceptor(requests.clone())
            .build();
        Aws {
            s3: aws_sdk_s3::Client::from_conf(s3),
            apigateway: aws_sdk_apigateway::Client::from_conf(apigateway),
            iam: aws_sdk_iam::Client::from_conf(iam),
            lambda: aws_sdk_lambda::Client::from_conf(lambda),
            redshift: aws_sdk_redshift::Client::from_conf(redshift),
            redshiftdata: aws_sdk_redshiftdata::Client::from_conf(redshiftdata),
            logs: aws_sdk_cloudwatchlogs::Client::from_conf(logs),
            ssm: aws_sdk_ssm::Client::from_conf(ssm),
            sts: aws_sdk_sts::Client::from_conf(sts),
            tagging: aws_sdk_resourcegroupstagging::Client::from_conf(tagging),
            region: region.to_owned(),
            requests,
        }
    }

    /// The account the credentials belong to (policies name exact ARNs).
    /// The first call of every command: where missing credentials show.
    pub async fn account_id(&self) -> Result<String, String> {
        let identity = self.sts.get_caller_identity().send().await.map_err(|e| {
            if let Some(credentials) = credentials_error(&e) {
                return format!(
                    "no usable AWS credentials ({credentials}).\n  Log in with `aws sso login --profile NAME` and set AWS_PROFILE=NAME, \
                     or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; in GitHub Actions use \
                     aws-actions/configure-aws-credentials (see .github/workflows/deploy.yml)"
                );
            }
            format!(
                "cannot identify the AWS account (check your credentials): {}",
                describe(&e)
            )
        })?;
        identity
            .account()
            .map(str::to_owned)
            .ok_or_else(|| "STS returned no account id".to_owned())
    }
}

/// The credential chain's failure inside an SDK error, if that is what it is.
fn credentials_error(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = next {
        if let Some(credentials) =
            current.downcast_ref::<aws_credential_types::provider::error::CredentialsError>()
        {
            return Some(match credentials {
                aws_credential_types::provider::error::CredentialsError::CredentialsNotLoaded(_) => {
                    "none found in the environment, profiles, SSO, web identity or instance metadata"
                        .to_owned()
                }
                other => showcase_extractor::lake::error_chain(other),
            });
        }
        next = current.source();
    }
    None
}

/// An SDK error as a person reads it (one helper for the extractor and the deployer).
pub use showcase_extractor::lake::describe_sdk_error as describe;

/// The service error code, if the error came from the service.
pub fn error_code<E, R>(error: &SdkError<E, R>) -> Option<&str>
where
    E: ProvideErrorMetadata,
{
    error.as_service_error().and_then(|e| e.code())
}
