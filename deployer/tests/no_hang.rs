#![cfg(feature = "deploy")]
//! No command hangs on a connection that takes the request and never
//! answers: the built binary pointed at testkit's black hole fails, within
//! the bound `SHOWCASE_AWS_TIMEOUT_SECS` sets, with a message that names the
//! operation and says it timed out (not a panic, not a bare "dispatch
//! failure"). The standard bounds (README, "Deploying to AWS") are the same
//! code with larger numbers.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use showcase_testkit::black_hole::BlackHole;

const STACK: &str = r#"
[stack]
name = "hang"
region = "us-east-1"

[lake]
bucket = "hang-lake"
"#;

/// The cap the test sets on every AWS timeout.
const BOUND: Duration = Duration::from_secs(3);
/// Process start, credentials from the environment, the stack file: well
/// under this on a loaded 2-core machine.
const SLACK: Duration = Duration::from_secs(10);

fn run(hole: &BlackHole, stack: &std::path::Path, args: &[&str]) -> (Output, Duration) {
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_showcase-deploy"))
        .current_dir(showcase_testkit::workspace_root())
        .args(args)
        .arg("--stack")
        .arg(stack)
        .envs(hole.aws_env())
        .env("SHOWCASE_AWS_TIMEOUT_SECS", BOUND.as_secs().to_string())
        .env("CI", "true")
        .output()
        .unwrap();
    (output, started.elapsed())
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn plan_drift_and_down_give_up_on_an_endpoint_that_never_answers() {
    let dir = tempfile::tempdir().unwrap();
    let stack = dir.path().join("stack.toml");
    std::fs::write(&stack, STACK).unwrap();
    for args in [
        &["plan"][..],
        &["drift"],
        &["down", "--delete-data", "--yes"],
    ] {
        let hole = BlackHole::start();
        let (output, took) = run(&hole, &stack, args);
        let message = text(&output);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{args:?}: a failure, not a panic or a signal: {message}"
        );
        assert!(
            took >= BOUND && took < BOUND + SLACK,
            "{args:?} took {took:?} (bound {BOUND:?}): {message}"
        );
        assert!(
            hole.connections() >= 1 && hole.bytes_received() > 0,
            "{args:?}: the request reached the black hole: {message}"
        );
        assert!(
            message.contains("sts:GetCallerIdentity timed out")
                && message.contains("occurred after 3s"),
            "{args:?}: names the operation and the timeout: {message}"
        );
        assert!(
            !message.contains("panicked") && !message.contains("check your credentials"),
            "{args:?}: {message}"
        );
    }
}
