//! moto's standalone server: the AWS control plane (S3, IAM, Lambda, API
//! Gateway, Redshift, STS) on one local port, behind testkit's front
//! (`moto_proxy`), which can also route Lambda `Invoke` and the Redshift Data
//! API to testkit's stand-ins (`serve_lambda`, `serve_redshift_data`).
//! Redshift Serverless, which moto lacks, is always served by testkit's
//! stand-in (an empty account's, as on AWS: the tool looks for the stack's
//! namespace and workgroup in every plan).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::tools::{free_port, tool};

pub struct MotoServer {
    child: Child,
    /// moto's own port, behind the front.
    port: u16,
    /// The proxy in front of moto (see `moto_proxy`): what clients talk to.
    front: std::net::SocketAddr,
    stand_ins: crate::moto_proxy::SharedStandIns,
    log: tempfile::NamedTempFile,
}

impl MotoServer {
    /// Starts a fresh server and waits until it answers.
    pub fn start() -> MotoServer {
        MotoServer::start_with_env(&[])
    }

    /// Starts a fresh server with extra moto settings (e.g. `S3_UPLOAD_PART_MIN_SIZE`).
    pub fn start_with_env(settings: &[(&str, &str)]) -> MotoServer {
        MotoServer::start_with(settings, Duration::ZERO)
    }

    /// Starts a server whose every request is delayed by `latency` (a real region's round trip).
    pub fn start_with_latency(latency: Duration) -> MotoServer {
        MotoServer::start_with(&[], latency)
    }

    fn start_with(settings: &[(&str, &str)], latency: Duration) -> MotoServer {
        let log = tempfile::NamedTempFile::new()
            .unwrap_or_else(|e| panic!("temp file for moto's log: {e}"));
        let output = log.reopen().unwrap_or_else(|e| panic!("moto log: {e}"));
        let errors = log.reopen().unwrap_or_else(|e| panic!("moto log: {e}"));
        for _ in 0..5 {
            let port = free_port();
            let mut child = Command::new(tool("moto_server"))
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
                .envs(settings.iter().copied())
                .stdin(Stdio::null())
                .stdout(
                    output
                        .try_clone()
                        .unwrap_or_else(|e| panic!("moto log: {e}")),
                )
                .stderr(
                    errors
                        .try_clone()
                        .unwrap_or_else(|e| panic!("moto log: {e}")),
                )
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start moto_server: {e}"));
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    let (front, stand_ins) = crate::moto_proxy::start(port, latency);
                    stand_ins
                        .write()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .redshift_serverless = Some(crate::RedshiftServerless::default());
                    return MotoServer {
                        child,
                        port,
                        front,
                        stand_ins,
                        log,
                    };
                }
                if let Ok(Some(_)) = child.try_wait() {
                    break; // lost the port race: try another
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!(
            "moto_server did not start; its log:\n{}",
            std::fs::read_to_string(log.path()).unwrap_or_default()
        )
    }

    /// `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.front)
    }

    /// The environment a child process needs to talk to this server as AWS.
    pub fn aws_env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
            // boto3 (Airflow) reads this one, not AWS_REGION.
            ("AWS_DEFAULT_REGION", "us-east-1".to_owned()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// An AWS config loader pointed at this server with test credentials
    /// (region still to be set), e.g. for `Aws::connect_with`.
    pub fn config_loader(&self) -> aws_config::ConfigLoader {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(self.endpoint())
            .credentials_provider(aws_credential_types::Credentials::new(
                "testing", "testing", None, None, "moto",
            ))
    }

    /// A loaded config for clients that act "by hand" in tests (S3 picks path
    /// style by itself for an IP endpoint).
    pub async fn sdk_config(&self, region: &str) -> aws_config::SdkConfig {
        self.config_loader()
            .region(aws_config::Region::new(region.to_owned()))
            .load()
            .await
    }

    /// Routes the Redshift Data API (`X-Amz-Target: RedshiftData.*`) to
    /// `stand_in` from now on; its COPY reads moto's S3 unless its settings
    /// name another endpoint.
    pub fn serve_redshift_data(&self, stand_in: &crate::RedshiftData) {
        stand_in.default_s3_endpoint(&format!("http://127.0.0.1:{}", self.port));
        self.stand_ins
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .redshift_data = Some(stand_in.clone());
    }

    /// Routes Redshift Serverless (`X-Amz-Target: RedshiftServerless.*`) to
    /// `stand_in` from now on, instead of the default one every server starts
    /// with (moto has no Redshift Serverless at all).
    pub fn serve_redshift_serverless(&self, stand_in: &crate::RedshiftServerless) {
        self.stand_ins
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .redshift_serverless = Some(stand_in.clone());
    }

    /// Routes Lambda `Invoke` to `stand_in` from now on; the functions it runs
    /// get this endpoint and test credentials in their environment.
    pub fn serve_lambda(&self, stand_in: &crate::LambdaInvoke) {
        stand_in.set_base_env(self.aws_env());
        self.stand_ins
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .lambda = Some(stand_in.clone());
    }

    /// From now on API Gateway's listings come in pages of at most `items`
    /// (moto answers everything at once), so that paging is exercised.
    pub fn page_api_gateway_listings(&self, items: usize) {
        self.stand_ins
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .api_gateway_page = Some(items);
    }

    /// From now on `bucket` carries CloudFormation's system tags as on AWS
    /// (`aws:cloudformation:stack-name`, `…:stack-id`, `…:logical-id`): listed
    /// by GetBucketTagging, and required unchanged in PutBucketTagging (see
    /// `system_tags`; moto has neither).
    pub fn add_cloudformation_bucket_tags(&self, bucket: &str, stack: &str, logical_id: &str) {
        let tags = [
            ("aws:cloudformation:stack-name", stack.to_owned()),
            (
                "aws:cloudformation:stack-id",
                format!("arn:aws:cloudformation:us-east-1:123456789012:stack/{stack}/seed"),
            ),
            ("aws:cloudformation:logical-id", logical_id.to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        self.stand_ins
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .system_tags
            .insert(bucket.to_owned(), tags);
    }

    /// From now on the front injects `faults` (see `faults`); `None` stops it.
    pub fn inject_faults(&self, faults: Option<crate::faults::Faults>) {
        self.stand_ins
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .faults = faults;
    }

    /// What moto logged: the real reason behind an SDK parse error is here.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        // The front outlives the server (its thread never ends): let go of the
        // stand-ins, so that their warm Lambda environments are killed.
        *self
            .stand_ins
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Default::default();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
