#![cfg(feature = "deploy")]
//! The tool under the faults a real account produces under load: moto's
//! front answers ~10 % of requests with AWS's throttling errors and plain
//! 500s (in each protocol's shape) and drops ~1 % of connections mid-request
//! (half before moto acts, half after: the answer lost). `up` from nothing,
//! `up` after a change, `drift` and `down --delete-data` each converge —
//! rerun as a user would, at most [`TRIES`] times — and then, faults off,
//! `drift` exits 0, the account holds exactly one of everything (no
//! duplicate REST API, key, plan or role), and after `down` nothing at all.
//! Seeds: `SHOWCASE_FAULT_SEEDS` (`1-10`, `3,7`; default one seed), so CI
//! runs a sample and `bench/reliability.sh` the battery. An `AccessDenied`
//! fails `up` at once, naming the resource and the operation.

mod reliability;

use std::time::Duration;

use reliability::{Bench, Inventory, Run, STACK_CHANGED, numbers_from_env, report};
use showcase_testkit::faults::Faults;

/// Runs per command a user would try before calling it broken.
const TRIES: usize = 3;
/// ‰ of requests answered with an error, ‰ of connections dropped.
const ERRORS_PER_MILLE: u64 = 100;
const DROPS_PER_MILLE: u64 = 10;

/// A command rerun until it exits with one of `success` (at most [`TRIES`]
/// runs): the runs it took, the longest, and the last run.
fn converge(bench: &Bench, args: &[&str], success: &[i32]) -> (usize, Duration, Run) {
    let mut longest = Duration::ZERO;
    for attempt in 1..=TRIES {
        let run = bench.run(args);
        longest = longest.max(run.took);
        assert!(
            run.code.is_some(),
            "{args:?} hung past {:?}: {}",
            reliability::COMMAND_LIMIT,
            run.text
        );
        assert!(!run.text.contains("panicked"), "{args:?}: {}", run.text);
        if run.code.is_some_and(|code| success.contains(&code)) || attempt == TRIES {
            return (attempt, longest, run);
        }
        eprintln!("seed run {args:?} attempt {attempt} failed: {}", run.text);
    }
    unreachable!()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_change_drift_and_down_converge_under_injected_faults() {
    for seed in numbers_from_env("SHOWCASE_FAULT_SEEDS", &[1]) {
        let bench = Bench::new();
        let faults = Faults::seeded(seed, ERRORS_PER_MILLE, DROPS_PER_MILLE);
        bench.moto.inject_faults(Some(faults.clone()));
        let mut runs = Vec::new();
        let mut longest = Duration::ZERO;
        let mut differences = 0;
        let mut step = |name: &str, args: &[&str], success: &[i32], expected: Inventory| {
            let (tries, took, run) = converge(&bench, args, success);
            longest = longest.max(took);
            runs.push(format!("{name} {tries}"));
            (run, expected)
        };
        let mut check = async |what: &str, run: Run, expected: Inventory| {
            assert!(
                run.code == Some(0),
                "seed {seed}: {what} did not converge in {TRIES} runs: {}",
                run.text
            );
            faults.set_enabled(false);
            let drift = bench.run(&["drift"]);
            let inventory = bench.inventory().await;
            faults.set_enabled(true);
            assert_eq!(
                drift.code,
                Some(0),
                "seed {seed}: drift after {what}: {}",
                drift.text
            );
            differences += inventory.difference(&expected);
            assert_eq!(inventory, expected, "seed {seed}: after {what}");
        };

        let (run, expected) = step("up", &["up", "--skip-build"], &[0], Inventory::DEPLOYED);
        check("up", run, expected).await;
        bench.write_stack(STACK_CHANGED);
        let (run, expected) = step(
            "up-change",
            &["up", "--skip-build"],
            &[0],
            Inventory::DEPLOYED,
        );
        check("up after a change", run, expected).await;
        let (run, expected) = step("drift", &["drift"], &[0], Inventory::DEPLOYED);
        check("drift", run, expected).await;
        let (run, _) = step(
            "down",
            &["down", "--delete-data", "--yes"],
            &[0],
            Inventory::EMPTY,
        );
        assert_eq!(
            run.code,
            Some(0),
            "seed {seed}: down did not converge: {}",
            run.text
        );
        faults.set_enabled(false);
        let inventory = bench.inventory().await;
        let again = bench.run(&["down", "--delete-data", "--yes"]);
        differences += inventory.difference(&Inventory::EMPTY);
        assert_eq!(inventory, Inventory::EMPTY, "seed {seed}: left behind");
        assert!(
            again
                .text
                .contains("Nothing to delete: no resource of the stack exists."),
            "seed {seed}: {}",
            again.text
        );
        let counts = faults.counts();
        assert!(
            counts.injected() > 0,
            "seed {seed}: no fault was injected: {counts:?}"
        );
        report(&format!(
            "| faults | seed {seed} | {} requests | {} throttled, {} 500s, {} dropped before, {} dropped after | runs: {} | longest {:.1} s | lost or extra: {differences} |",
            counts.requests,
            counts.throttled,
            counts.server_errors,
            counts.dropped_unsent,
            counts.dropped_after,
            runs.join(", "),
            longest.as_secs_f64(),
        ));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_denied_fails_at_once_naming_the_resource_and_the_operation() {
    let bench = Bench::new();
    let faults = Faults::counting();
    faults.deny("CreateRole");
    bench.moto.inject_faults(Some(faults.clone()));
    let run = bench.run(&["up", "--skip-build"]);
    assert_eq!(run.code, Some(1), "{}", run.text);
    let error = run
        .text
        .lines()
        .find(|line| line.starts_with("error: "))
        .unwrap_or_else(|| panic!("an error line: {}", run.text));
    assert!(
        error.contains("function_role.rel-") && error.contains("CreateRole failed"),
        "names the resource and the operation: {}",
        run.text
    );
    assert!(error.contains("AccessDenied"), "{}", run.text);
    // Not retried: at most one CreateRole per role (two roles, in one layer).
    let denied = faults.counts().denied;
    assert!((1..=2).contains(&denied), "{denied} CreateRole sent");
    assert!(
        run.took < Duration::from_secs(30),
        "failed at once, not after retries: {:?}",
        run.took
    );
    report(&format!(
        "| access denied | CreateRole | {denied} sent, not retried | failed in {:.1} s | `{}` |",
        run.took.as_secs_f64(),
        error
    ));
}

/// Every mutating request's first answer lost after AWS acted (the retry
/// finds the work done): `up` from nothing, `up` after a change and `down`
/// each finish in one run, with exactly one of everything — no create sent
/// twice where AWS lets names repeat (REST API, API key, usage plan).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_first_answer_lost_makes_no_duplicate() {
    let bench = Bench::new();
    let faults = Faults::counting();
    faults.lose_each_first_answer();
    bench.moto.inject_faults(Some(faults.clone()));
    let mut outcomes = Vec::new();
    for (what, args, expected) in [
        ("up", &["up", "--skip-build"][..], Inventory::DEPLOYED),
        (
            "up after a change",
            &["up", "--skip-build"][..],
            Inventory::DEPLOYED,
        ),
        (
            "down",
            &["down", "--delete-data", "--yes"][..],
            Inventory::EMPTY,
        ),
    ] {
        if what == "up after a change" {
            bench.write_stack(STACK_CHANGED);
        }
        let lost_before = faults.counts().dropped_after;
        let run = bench.run(args);
        faults.set_enabled(false);
        let inventory = bench.inventory().await;
        let drift = bench.run(&["drift"]);
        faults.set_enabled(true);
        let lost = faults.counts().dropped_after - lost_before;
        outcomes.push(format!("{what}: {lost} answers lost, exit {:?}", run.code));
        assert_eq!(
            run.code,
            Some(0),
            "{what} with {lost} answers lost: {}",
            run.text
        );
        assert_eq!(inventory, expected, "{what}: {}", run.text);
        if what != "down" {
            assert_eq!(drift.code, Some(0), "drift after {what}: {}", drift.text);
        }
        assert!(lost > 0, "{what}: no answer was lost");
    }
    report(&format!(
        "| lost answers | every mutating request's first answer | {} | no duplicate, nothing left |",
        outcomes.join("; ")
    ));
}
