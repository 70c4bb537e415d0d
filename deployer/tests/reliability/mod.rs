#![allow(dead_code)] // each test binary uses part of it
//! What the reliability tests share: the built binary run as a user runs it
//! (bounded in time), against moto behind testkit's front, which injects
//! faults or holds a kill point; an inventory of what the stack left in the
//! account; and the figures the bench command collects.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use showcase_testkit::{MotoServer, workspace_root};

pub const STACK: &str = r#"
[stack]
name = "rel"
region = "us-east-1"

[lake]
bucket = "rel-lake"
"#;

/// The same stack with changes that update in place: the bucket's lifecycle,
/// a function's memory and its log group's retention, the API's throttling.
/// (Not the stack's tags: moto 5.2.5 routes API Gateway's TagResource only
/// for stage ARNs, so a REST API's tags cannot change on it.)
pub const STACK_CHANGED: &str = r#"
[stack]
name = "rel"
region = "us-east-1"

[lake]
bucket = "rel-lake"
lifecycle = [{ prefix = "tmp/", expire_days = 7 }]

[functions.extractor]
memory_mb = 512
log_retention_days = 30

[api]
rate_limit = 5
burst_limit = 10
"#;

/// Longer than any command may take here: a command still running then is a hang.
pub const COMMAND_LIMIT: Duration = Duration::from_secs(300);

/// A stack file in a temporary folder, the moto it runs against.
pub struct Bench {
    pub moto: MotoServer,
    pub dir: tempfile::TempDir,
}

/// One command's run.
pub struct Run {
    pub code: Option<i32>,
    pub text: String,
    pub took: Duration,
}

/// The Lambda zips, built once per test binary (every `up` then skips the build).
pub fn build_once() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let build = Command::new(env!("CARGO_BIN_EXE_showcase-deploy"))
            .current_dir(workspace_root())
            .arg("build")
            .output()
            .unwrap();
        assert!(
            build.status.success(),
            "{}",
            String::from_utf8_lossy(&build.stderr)
        );
    });
}

impl Bench {
    pub fn new() -> Bench {
        build_once();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("stack.toml"), STACK).unwrap();
        Bench {
            moto: MotoServer::start(),
            dir,
        }
    }

    pub fn stack(&self) -> PathBuf {
        self.dir.path().join("stack.toml")
    }

    pub fn write_stack(&self, text: &str) {
        std::fs::write(self.stack(), text).unwrap();
    }

    /// `showcase-deploy ARGS --stack …`, as a child process.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_showcase-deploy"));
        command
            .current_dir(workspace_root())
            .args(args)
            .arg("--stack")
            .arg(self.stack())
            .envs(self.moto.aws_env())
            .env("CI", "true");
        command
    }

    /// Runs a command to its end, killing it past [`COMMAND_LIMIT`] (then
    /// `code` is `None`: a hang).
    pub fn run(&self, args: &[&str]) -> Run {
        let started = Instant::now();
        let child = self
            .command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let output = wait_bounded(child, COMMAND_LIMIT);
        Run {
            code: output.status.code(),
            text: format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
            took: started.elapsed(),
        }
    }

    /// What the stack has in the account (read straight from moto, no fault).
    pub async fn inventory(&self) -> Inventory {
        let config = self.moto.sdk_config("us-east-1").await;
        let gateway = aws_sdk_apigateway::Client::new(&config);
        let rest_apis = gateway
            .get_rest_apis()
            .limit(500)
            .send()
            .await
            .unwrap()
            .items()
            .len();
        let api_keys = gateway
            .get_api_keys()
            .limit(500)
            .send()
            .await
            .unwrap()
            .items()
            .len();
        let usage_plans = gateway
            .get_usage_plans()
            .limit(500)
            .send()
            .await
            .unwrap()
            .items()
            .len();
        let roles = aws_sdk_iam::Client::new(&config)
            .list_roles()
            .send()
            .await
            .unwrap()
            .roles()
            .iter()
            .filter(|r| r.role_name().starts_with("rel-"))
            .count();
        let functions = aws_sdk_lambda::Client::new(&config)
            .list_functions()
            .send()
            .await
            .unwrap()
            .functions()
            .len();
        let log_groups = aws_sdk_cloudwatchlogs::Client::new(&config)
            .describe_log_groups()
            .log_group_name_prefix("/aws/lambda/rel-")
            .send()
            .await
            .unwrap()
            .log_groups()
            .len();
        let parameters = aws_sdk_ssm::Client::new(&config)
            .get_parameters_by_path()
            .path("/showcase/rel/")
            .recursive(true)
            .send()
            .await
            .unwrap()
            .parameters()
            .len();
        let buckets = aws_sdk_s3::Client::new(&config)
            .list_buckets()
            .send()
            .await
            .unwrap()
            .buckets()
            .len();
        Inventory {
            rest_apis,
            api_keys,
            usage_plans,
            roles,
            functions,
            log_groups,
            parameters,
            buckets,
        }
    }
}

/// Waits for `child`, killing it (SIGKILL) once `limit` has passed.
pub fn wait_bounded(mut child: Child, limit: Duration) -> Output {
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if started.elapsed() > limit => {
                let _ = child.kill();
                break;
            }
            _ => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    child.wait_with_output().unwrap()
}

/// How many of each thing the account holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inventory {
    pub rest_apis: usize,
    pub api_keys: usize,
    pub usage_plans: usize,
    pub roles: usize,
    pub functions: usize,
    pub log_groups: usize,
    /// Under `/showcase/rel/`: the API key's copy (and a lock, if one was left).
    pub parameters: usize,
    pub buckets: usize,
}

impl Inventory {
    /// A deployed stack: one of each, two roles, functions and log groups.
    pub const DEPLOYED: Inventory = Inventory {
        rest_apis: 1,
        api_keys: 1,
        usage_plans: 1,
        roles: 2,
        functions: 2,
        log_groups: 2,
        parameters: 1,
        buckets: 1,
    };

    /// After `down --delete-data`: nothing.
    pub const EMPTY: Inventory = Inventory {
        rest_apis: 0,
        api_keys: 0,
        usage_plans: 0,
        roles: 0,
        functions: 0,
        log_groups: 0,
        parameters: 0,
        buckets: 0,
    };

    /// Things more than `expected` (duplicates, leftovers) plus things fewer
    /// (lost): 0 when they are equal.
    pub fn difference(&self, expected: &Inventory) -> usize {
        let pairs = [
            (self.rest_apis, expected.rest_apis),
            (self.api_keys, expected.api_keys),
            (self.usage_plans, expected.usage_plans),
            (self.roles, expected.roles),
            (self.functions, expected.functions),
            (self.log_groups, expected.log_groups),
            (self.parameters, expected.parameters),
            (self.buckets, expected.buckets),
        ];
        pairs.iter().map(|(a, b)| a.abs_diff(*b)).sum()
    }
}

/// Appends a line to the bench's report (`SHOWCASE_RELIABILITY_REPORT`), if
/// one is being written; always prints it.
pub fn report(line: &str) {
    println!("{line}");
    if let Ok(path) = std::env::var("SHOWCASE_RELIABILITY_REPORT") {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(Path::new(&path))
            .unwrap();
        writeln!(file, "{line}").unwrap();
    }
}

/// A list of numbers from the environment: `1-10`, `3,5`, or `7`; `default`
/// when unset.
pub fn numbers_from_env(name: &str, default: &[u64]) -> Vec<u64> {
    let Ok(value) = std::env::var(name) else {
        return default.to_vec();
    };
    let mut numbers = Vec::new();
    for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((from, to)) => {
                numbers.extend(from.parse::<u64>().unwrap()..=to.parse::<u64>().unwrap())
            }
            None => numbers.push(part.parse().unwrap()),
        }
    }
    numbers
}
