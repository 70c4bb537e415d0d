//! AWS clients from the standard credential chain (profiles, environment, SSO,
//! web identity for GitHub OIDC), honouring `AWS_ENDPOINT_URL`, with standard
//! retries and timeouts (no request waits forever on a connection that never
//! answers; see [`timeouts`]). Every HTTP request is recorded, so that a test
//! or the benchmark can prove a no-op `up` made read requests only.

mod read_cache;
mod request_log;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

pub use read_cache::{reading, shared};
pub use request_log::{Request, RequestLog, acting_on};
pub use timeouts::Timeouts;

#[derive(Debug, Clone)]
pub struct Aws {
    pub s3: aws_sdk_s3::Client,
    pub apigateway: aws_sdk_apigateway::Client,
    /// `migrate --from-cloudformation`: the seed's SAM stack.
    pub cloudformation: aws_sdk_cloudformation::Client,
    pub iam: aws_sdk_iam::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub redshift: aws_sdk_redshift::Client,
    /// The warehouse's SQL (`run` on AWS): statements through the Redshift Data API.
    pub redshiftdata: aws_sdk_redshiftdata::Client,
    /// The warehouse as a Redshift Serverless namespace and workgroup.
    pub redshiftserverless: aws_sdk_redshiftserverless::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    /// The MWAA environment the DAG goes to (read; `run` triggers DAG runs through it).
    pub mwaa: aws_sdk_mwaa::Client,
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
    /// Timeouts are [`timeouts::Timeouts::from_env`]'s: the standard ones, or
    /// all capped by `SHOWCASE_AWS_TIMEOUT_SECS`.
    pub async fn connect_with(region: &str, loader: aws_config::ConfigLoader) -> Aws {
        let timeouts = timeouts::Timeouts::from_env();
        let shared = loader
            .region(aws_config::Region::new(region.to_owned()))
            // Standard, not adaptive: adaptive's client-side rate limiter takes every
            // throttling error as a sign to slow down, to as little as one request
            // every 2 s; with 10 % of answers throttled a fresh `up` took 3.5 minutes
            // instead of 5 s (tests/reliability_faults.rs). Standard retries each
            // throttled request with jittered backoff and leaves the rest alone.
            .retry_config(RetryConfig::standard().with_max_attempts(5))
            .timeout_config(timeouts.standard())
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
        let cloudformation = aws_sdk_cloudformation::config::Builder::from(&shared)
            .interceptor(requests.clone())
            .build();
        let iam = aws_sdk_iam::config::Builder::from(&shared)
            .interceptor(requests.clone())
            .build();
        let lambda = aws_sdk_lambda::config::Builder::from(&shared)
            .interceptor(requests.clone())
            .interceptor(timeouts::LambdaLongCalls::new(timeouts))
            .build();
        let redshift = aws_sdk_redshift::config::Builder::from(&shared)
            .interceptor(requests.clone())
            .build();
        let redshiftdata = aws_sdk_redshiftdata::config::Builder::from(&shared)
            .interceptor(requests.clone())
            .build();
        let redshiftserverless = aws_sdk_redshiftserverless::config::Builder::from(&shared)
            .interceptor(requests.clone())
            .build();
        let logs = aws_sdk_cloudwatchlogs::config::Builder::from(&shared)
            .interceptor(requests.clone())
            .build();
        let mwaa = aws_sdk_mwaa::config::Builder::from(&shared)
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
            cloudformation: aws_sdk_cloudformation::Client::from_conf(cloudformation),
            iam: aws_sdk_iam::Client::from_conf(iam),
            lambda: aws_sdk_lambda::Client::from_conf(lambda),
            redshift: aws_sdk_redshift::Client::from_conf(redshift),
            redshiftdata: aws_sdk_redshiftdata::Client::from_conf(redshiftdata),
            redshiftserverless: aws_sdk_redshiftserverless::Client::from_conf(redshiftserverless),
            logs: aws_sdk_cloudwatchlogs::Client::from_conf(logs),
            mwaa: aws_sdk_mwaa::Client::from_conf(mwaa),
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
            if let Some(timeout) = timeouts::timed_out(&e) {
                return format!(
                    "cannot identify the AWS account: sts:GetCallerIdentity timed out ({timeout}); \
                     is AWS_ENDPOINT_URL or the network reachable?"
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

/// How long any one AWS call may take, so that no command hangs on a
/// connection that takes the request and never answers (the SDK sets no read,
/// attempt or operation timeout unless asked).
///
/// Every call gets `STANDARD`: a connection within 5 s, the answer's first
/// byte within 20 s of sending, an attempt within 30 s, and the whole operation,
/// retries included, within 60 s — AWS answers control-plane calls in a second
/// or two. Two Lambda calls get more: `UPLOAD` for `CreateFunction` and
/// `UpdateFunctionCode`, whose request carries the zip (~7 MB, ~9.3 MB as
/// base64: 120 s is ~80 KB/s), and `INVOKE` for `Invoke`, which returns only
/// when the function does (its timeout is at most 900 s).
///
/// `SHOWCASE_AWS_TIMEOUT_SECS=N` scales these down so that no operation takes
/// more than N seconds, each limit keeping its share (N = 6: reads 2 s,
/// attempts 3 s, operations 6 s): the tests use it to see a hang fail, or be
/// retried, in seconds.
pub mod timeouts {
    use std::time::Duration;

    use aws_smithy_runtime_api::box_error::BoxError;
    use aws_smithy_runtime_api::client::interceptors::Intercept;
    use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
    use aws_smithy_runtime_api::client::result::SdkError;
    use aws_smithy_types::config_bag::ConfigBag;
    use aws_smithy_types::timeout::TimeoutConfig;

    /// The environment variable that bounds every operation, in whole seconds.
    pub const ENV: &str = "SHOWCASE_AWS_TIMEOUT_SECS";

    /// One class of call's limits.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Limits {
        /// To open the TCP (and TLS) connection.
        pub connect: Duration,
        /// From sending the request (its body included) to the answer's first byte.
        pub read: Duration,
        /// One attempt, the answer read in full.
        pub attempt: Duration,
        /// The whole operation, every retry included: the bound a caller sees.
        pub operation: Duration,
    }

    const fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    /// Every call but the two below.
    pub const STANDARD: Limits = Limits {
        connect: secs(5),
        read: secs(20),
        attempt: secs(30),
        operation: secs(60),
    };

    /// Lambda `CreateFunction` and `UpdateFunctionCode` (the zip in the request).
    pub const UPLOAD: Limits = Limits {
        connect: secs(5),
        read: secs(120),
        attempt: secs(150),
        operation: secs(300),
    };

    /// Lambda `Invoke`: as long as the function may run (900 s at most) and a minute.
    pub const INVOKE: Limits = Limits {
        connect: secs(5),
        read: secs(960),
        attempt: secs(960),
        operation: secs(1000),
    };

    impl Limits {
        /// Scaled down so that the operation takes at most `cap`, every other
        /// limit keeping its share (so retries still happen within it).
        fn capped(self, cap: Option<Duration>) -> Limits {
            let Some(cap) = cap.filter(|cap| *cap < self.operation) else {
                return self;
            };
            let share = cap.as_secs_f64() / self.operation.as_secs_f64();
            Limits {
                connect: self.connect.mul_f64(share),
                read: self.read.mul_f64(share),
                attempt: self.attempt.mul_f64(share),
                operation: cap,
            }
        }

        pub fn config(self) -> TimeoutConfig {
            TimeoutConfig::builder()
                .connect_timeout(self.connect)
                .read_timeout(self.read)
                .operation_attempt_timeout(self.attempt)
                .operation_timeout(self.operation)
                .build()
        }
    }

    /// The limits in force: the constants above, scaled down by [`ENV`] if set.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
    pub struct Timeouts {
        cap: Option<Duration>,
    }

    impl Timeouts {
        /// Capped at `cap` (none: the constants as they are).
        pub fn capped_at(cap: Option<Duration>) -> Timeouts {
            Timeouts { cap }
        }

        /// From [`ENV`]; a value that is not a whole number of seconds above
        /// zero is said on stderr and ignored.
        pub fn from_env() -> Timeouts {
            match std::env::var(ENV) {
                Err(_) => Timeouts::default(),
                Ok(value) => match parse(&value) {
                    Some(cap) => Timeouts::capped_at(Some(cap)),
                    None => {
                        eprintln!(
                            "warning: {ENV}={value:?} is not a whole number of seconds above 0; \
                             using the standard AWS timeouts"
                        );
                        Timeouts::default()
                    }
                },
            }
        }

        pub fn limits(self, class: Limits) -> Limits {
            class.capped(self.cap)
        }

        /// What every client starts from.
        pub fn standard(self) -> TimeoutConfig {
            self.limits(STANDARD).config()
        }
    }

    fn parse(value: &str) -> Option<Duration> {
        value
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|s| *s > 0)
            .map(Duration::from_secs)
    }

    /// Gives Lambda's long calls ([`UPLOAD`], [`INVOKE`]) their limits: set
    /// before the operation runs, it outranks the client's.
    #[derive(Debug)]
    pub struct LambdaLongCalls(Timeouts);

    impl LambdaLongCalls {
        pub fn new(timeouts: Timeouts) -> LambdaLongCalls {
            LambdaLongCalls(timeouts)
        }
    }

    impl Intercept for LambdaLongCalls {
        fn name(&self) -> &'static str {
            "LambdaLongCalls"
        }

        fn read_before_execution(
            &self,
            context: &BeforeSerializationInterceptorContextRef<'_>,
            cfg: &mut ConfigBag,
        ) -> Result<(), BoxError> {
            use aws_sdk_lambda::operation::{
                create_function::CreateFunctionInput, invoke::InvokeInput,
                update_function_code::UpdateFunctionCodeInput,
            };
            let input = context.input();
            let class = if input.downcast_ref::<InvokeInput>().is_some() {
                INVOKE
            } else if input.downcast_ref::<CreateFunctionInput>().is_some()
                || input.downcast_ref::<UpdateFunctionCodeInput>().is_some()
            {
                UPLOAD
            } else {
                return Ok(());
            };
            cfg.interceptor_state()
                .store_put(self.0.limits(class).config());
            Ok(())
        }
    }

    /// If `error` is a timeout (no connection, no answer, or an attempt or the
    /// operation out of time), what ran out, e.g. "operation timeout (all
    /// attempts including retries) occurred after 60s".
    pub fn timed_out<E, R>(error: &SdkError<E, R>) -> Option<String>
    where
        E: std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        let timeout = match error {
            SdkError::TimeoutError(_) => true,
            SdkError::DispatchFailure(failure) => failure.is_timeout(),
            _ => false,
        };
        timeout.then(|| {
            let mut innermost: &(dyn std::error::Error + 'static) = error;
            while let Some(next) = innermost.source() {
                innermost = next;
            }
            innermost.to_string()
        })
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_cap_bounds_every_limit_and_bad_values_are_ignored() {
            assert_eq!(parse("3"), Some(secs(3)));
            assert_eq!(parse("0"), None);
            assert_eq!(parse("soon"), None);
            let capped = Timeouts::capped_at(Some(secs(6)));
            for class in [STANDARD, UPLOAD, INVOKE] {
                assert!(class.read <= class.attempt && class.attempt <= class.operation);
                let limits = capped.limits(class);
                assert_eq!(limits.operation, secs(6));
                assert!(limits.read <= limits.attempt && limits.attempt <= limits.operation);
            }
            assert_eq!(
                capped.limits(STANDARD),
                Limits {
                    connect: Duration::from_millis(500),
                    read: secs(2),
                    attempt: secs(3),
                    operation: secs(6)
                }
            );
            assert_eq!(Timeouts::default().limits(UPLOAD), UPLOAD);
            assert_eq!(Timeouts::capped_at(Some(secs(600))).limits(UPLOAD), UPLOAD);
        }

        /// Records the timeouts each request would be sent with, then stops it.
        #[derive(Debug, Default, Clone)]
        struct Seen(std::sync::Arc<std::sync::Mutex<Vec<TimeoutConfig>>>);

        impl Intercept for Seen {
            fn name(&self) -> &'static str {
                "Seen"
            }

            fn read_before_transmit(
                &self,
                _context: &aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef<'_>,
                _components: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
                cfg: &mut ConfigBag,
            ) -> Result<(), BoxError> {
                if let Some(config) = cfg.load::<TimeoutConfig>() {
                    self.0.lock().unwrap().push(config.clone());
                }
                Err("stopped before sending".into())
            }
        }

        #[tokio::test]
        async fn lambdas_long_calls_get_their_limits_and_the_rest_the_standard_ones() {
            let seen = Seen::default();
            let timeouts = Timeouts::default();
            let config = aws_sdk_lambda::Config::builder()
                .behavior_version(aws_config::BehaviorVersion::latest())
                .region(aws_config::Region::new("us-east-1"))
                .endpoint_url("http://127.0.0.1:9")
                .credentials_provider(aws_credential_types::Credentials::for_tests())
                .timeout_config(timeouts.standard())
                .interceptor(LambdaLongCalls::new(timeouts))
                .interceptor(seen.clone())
                .build();
            let lambda = aws_sdk_lambda::Client::from_conf(config);
            let _ = lambda.list_functions().send().await;
            let _ = lambda.invoke().function_name("f").send().await;
            let _ = lambda
                .update_function_code()
                .function_name("f")
                .zip_file(aws_smithy_types::Blob::new(vec![0_u8; 16]))
                .send()
                .await;
            let _ = lambda.get_function().function_name("f").send().await;
            let seen: Vec<_> = seen
                .0
                .lock()
                .unwrap()
                .iter()
                .map(|c| {
                    (
                        c.read_timeout(),
                        c.operation_attempt_timeout(),
                        c.operation_timeout(),
                    )
                })
                .collect();
            let limits = |l: Limits| (Some(l.read), Some(l.attempt), Some(l.operation));
            assert_eq!(
                seen,
                [
                    limits(STANDARD),
                    limits(INVOKE),
                    limits(UPLOAD),
                    limits(STANDARD)
                ]
            );
        }
    }
}
