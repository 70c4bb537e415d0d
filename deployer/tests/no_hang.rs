#![cfg(feature = "deploy")]
//! No command hangs on a connection that takes the request and never
//! answers: the built binary pointed at testkit's black hole fails, within
//! the bound `SHOWCASE_AWS_TIMEOUT_SECS` sets, with a message that names the
//! operation and says it timed out (not a panic, not a bare "dispatch
//! failure"). `down --delete-data` in front of moto with the network going
//! dark after two deletes (the hang issue 11 saw) fails the same way, naming
//! the resource; with one delete left unanswered it retries and finishes;
//! with each delete's answer lost after AWS acted, the retries find the
//! things gone and `down` still finishes (but for the gaps `known_gap` names).
//! The standard bounds (README, "Deploying to AWS") are the same code with
//! larger numbers.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use showcase_testkit::MotoServer;
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

/// `down` against moto, through a black hole in front of it: a bound that
/// leaves moto on a loaded machine time to answer (reads 4 s, attempts 6 s).
const DOWN_BOUND: Duration = Duration::from_secs(12);

fn down_through(hole: &BlackHole, stack: &std::path::Path) -> (Output, Duration) {
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_showcase-deploy"))
        .current_dir(showcase_testkit::workspace_root())
        .args(["down", "--delete-data", "--yes", "--stack"])
        .arg(stack)
        .envs(hole.aws_env())
        .env(
            "SHOWCASE_AWS_TIMEOUT_SECS",
            DOWN_BOUND.as_secs().to_string(),
        )
        .env("CI", "true")
        .output()
        .unwrap();
    (output, started.elapsed())
}

#[test]
fn down_delete_data_retries_one_lost_delete_and_gives_up_when_the_network_goes_dark() {
    let moto = MotoServer::start();
    let dir = tempfile::tempdir().unwrap();
    let stack = dir.path().join("stack.toml");
    std::fs::write(&stack, STACK).unwrap();
    let direct = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_showcase-deploy"))
            .current_dir(showcase_testkit::workspace_root())
            .args(args)
            .arg("--stack")
            .arg(&stack)
            .envs(moto.aws_env())
            .env("CI", "true")
            .output()
            .unwrap()
    };
    let up = direct(&["up"]);
    assert_eq!(up.status.code(), Some(0), "{}", text(&up));

    // One delete is left unanswered once: its retry goes through.
    let mut deletes = 0;
    let lossy = BlackHole::in_front_of(&moto.endpoint(), move |seen| {
        if seen.is_delete() {
            deletes += 1;
            deletes == 1
        } else {
            false
        }
    });
    let (output, took) = down_through(&lossy, &stack);
    let message = text(&output);
    assert_eq!(output.status.code(), Some(0), "{message}");
    assert_eq!(lossy.swallowed(), 1, "{message}");
    assert!(took < DOWN_BOUND + SLACK, "down took {took:?}: {message}");
    let again = direct(&["down", "--delete-data", "--yes"]);
    assert!(
        text(&again).contains("Nothing to delete: no resource of the stack exists."),
        "nothing left behind: {}",
        text(&again)
    );

    // Again, and this time two deletes go through, then nothing is answered
    // any more (the last: a run cut off like this may leave state that the
    // next run has to deal with, a lock say).
    let up = direct(&["up"]);
    assert_eq!(up.status.code(), Some(0), "{}", text(&up));
    let mut deletes = 0;
    let dark = BlackHole::in_front_of(&moto.endpoint(), move |seen| {
        if deletes >= 2 {
            return true;
        }
        if seen.is_delete() {
            deletes += 1;
        }
        false
    });
    let (output, took) = down_through(&dark, &stack);
    let message = text(&output);
    assert_eq!(output.status.code(), Some(1), "{message}");
    assert!(
        took < DOWN_BOUND * 2 + SLACK,
        "down took {took:?} (one operation's bound {DOWN_BOUND:?}): {message}"
    );
    assert!(dark.swallowed() >= 1, "{message}");
    // "error: data_api.hang-data-api: DeleteUsagePlan failed: request has
    // timed out: operation timeout (all attempts including retries) occurred
    // after 12s": the resource, the operation, the timeout.
    let error = message
        .lines()
        .find(|line| line.starts_with("error: "))
        .unwrap_or_else(|| panic!("an error line: {message}"));
    assert!(
        error.contains(" failed: ")
            && error.contains("timeout")
            && error.contains("occurred after"),
        "names the resource, the operation and the timeout: {message}"
    );
    assert!(!message.contains("panicked"), "{message}");
}

/// Deletes whose lost answer `down` does not survive yet, or moto cannot
/// show: the retry finds the thing gone and the error is taken for a failure.
fn known_gap(seen: &showcase_testkit::black_hole::Seen<'_>) -> Option<&'static str> {
    if ["/usageplans", "/restapis", "/apikeys"]
        .iter()
        .any(|p| seen.path.starts_with(p))
    {
        return Some(
            "moto 5.2.5 answers a repeated DeleteUsagePlanKey or DeleteUsagePlan with a 500 \
             (a KeyError) where API Gateway says 404 NotFound",
        );
    }
    None
}

#[test]
fn down_delete_data_converges_when_a_deletes_answer_is_lost() {
    use showcase_testkit::black_hole::Fate;
    let moto = MotoServer::start();
    let dir = tempfile::tempdir().unwrap();
    let stack = dir.path().join("stack.toml");
    std::fs::write(&stack, STACK).unwrap();
    let direct = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_showcase-deploy"))
            .current_dir(showcase_testkit::workspace_root())
            .args(args)
            .arg("--stack")
            .arg(&stack)
            .envs(moto.aws_env())
            .env("CI", "true")
            .output()
            .unwrap()
    };
    let up = direct(&["up"]);
    assert_eq!(up.status.code(), Some(0), "{}", text(&up));

    // Each delete is done, but its first answer never comes back (a
    // connection dropped after AWS acted): the retry finds the thing gone.
    let mut tried = std::collections::HashSet::new();
    let lost = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let noting = lost.clone();
    let hole = BlackHole::deciding(&moto.endpoint(), move |seen| {
        if !seen.is_delete() || known_gap(seen).is_some() {
            return Fate::Forward;
        }
        let request = format!(
            "{} {} {} {}",
            seen.method,
            seen.path,
            seen.header("x-amz-target").unwrap_or_default(),
            String::from_utf8_lossy(seen.body)
        );
        if tried.insert(request.clone()) {
            noting.lock().unwrap().push(request);
            Fate::LoseAnswer
        } else {
            Fate::Forward
        }
    });
    let (output, _) = down_through(&hole, &stack);
    let message = text(&output);
    let lost = lost.lock().unwrap().clone();
    assert_eq!(output.status.code(), Some(0), "lost {lost:#?}: {message}");
    // SSM's, Lambda's, CloudWatch Logs' and IAM's DeleteRolePolicy.
    assert!(lost.len() >= 7, "{lost:#?}");
    let again = direct(&["down", "--delete-data", "--yes"]);
    assert!(
        text(&again).contains("Nothing to delete: no resource of the stack exists."),
        "nothing left behind: {}",
        text(&again)
    );
}
