//! The built binary run as a user (or a CI job) runs it, against moto's server.

use std::process::{Command, Output};

use showcase_testkit::MotoServer;

pub const STACK: &str = r#"
[stack]
name = "cli"
region = "us-east-1"

[lake]
bucket = "${var.bucket}"
"#;

pub struct Cli {
    pub moto: MotoServer,
    pub dir: tempfile::TempDir,
}

impl Cli {
    pub fn new() -> Cli {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("stack.toml"), STACK).unwrap();
        Cli {
            moto: MotoServer::start(),
            dir,
        }
    }

    /// `showcase-deploy ARGS --stack … --var bucket=cli-lake`.
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with_bucket("cli-lake", args)
    }

    /// `run` with extra environment (GitHub Actions' variables, say).
    #[allow(dead_code)]
    pub fn run_with_env(&self, env: &[(&str, &str)], args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_showcase-deploy"))
            .current_dir(showcase_testkit::workspace_root())
            .args(args)
            .args(["--stack"])
            .arg(self.dir.path().join("stack.toml"))
            .args(["--var", "bucket=cli-lake"])
            .envs(self.moto.aws_env())
            .env("CI", "true")
            .envs(env.iter().copied())
            .output()
            .unwrap()
    }

    pub fn run_with_bucket(&self, bucket: &str, args: &[&str]) -> Output {
        // From the repository root: `up` builds the real functions there.
        Command::new(env!("CARGO_BIN_EXE_showcase-deploy"))
            .current_dir(showcase_testkit::workspace_root())
            .args(args)
            .args(["--stack"])
            .arg(self.dir.path().join("stack.toml"))
            .args(["--var", &format!("bucket={bucket}")])
            .envs(self.moto.aws_env())
            .env("CI", "true")
            .output()
            .unwrap()
    }
}

/// stdout and stderr, as a person reads them.
pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
