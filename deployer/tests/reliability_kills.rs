#![cfg(feature = "deploy")]
//! `up` and `down` killed (SIGKILL: no cleanup of any kind) right after
//! their Nth mutating request, for N from 1 to the number a fresh run makes
//! (counted first), then rerun: the rerun exits 0, `drift` is clean, and the
//! account holds exactly one of everything after `up` and nothing after
//! `down --delete-data` (no duplicate, no orphan). moto's front holds the Nth
//! mutating request's answer (moto did act on it) and every later request,
//! and tells the test, which kills the child then. `SHOWCASE_KILL_STRIDE`
//! (default 7: N = 1, 8, 15, …) picks the sample; the bench runs every N.

mod reliability;

use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use reliability::{Bench, Inventory, numbers_from_env, report};
use showcase_testkit::faults::Faults;

/// How long a child may take to reach its kill point.
const REACH: Duration = Duration::from_secs(120);

fn stride() -> usize {
    numbers_from_env("SHOWCASE_KILL_STRIDE", &[7])
        .first()
        .map_or(7, |s| usize::try_from(*s).unwrap().max(1))
}

/// Starts `args` with a kill point at the `at`-th mutating request; kills the
/// child once reached. Returns what the Nth request was, or `None` when the
/// command ended before (fewer mutating requests than `at`).
fn kill_at(bench: &Bench, faults: &Faults, args: &[&str], at: usize) -> Option<String> {
    let (reached, told) = mpsc::channel();
    faults.kill_after_mutating(at, reached);
    let mut child = bench
        .command(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let what = loop {
        if let Ok(what) = told.recv_timeout(Duration::from_millis(20)) {
            break Some(what);
        }
        if child.try_wait().unwrap().is_some() {
            break None;
        }
        assert!(started.elapsed() < REACH, "{args:?} never reached N = {at}");
    };
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
    faults.clear_kill_point();
    what
}

/// Mutating requests a whole `args` run makes.
fn count(bench: &Bench, faults: &Faults, args: &[&str]) -> usize {
    let before = faults.counts().mutating;
    let run = bench.run(args);
    assert_eq!(run.code, Some(0), "{args:?}: {}", run.text);
    faults.counts().mutating - before
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_killed_after_every_mutating_request_converges_on_rerun() {
    let counting = Bench::new();
    let faults = Faults::counting();
    counting.moto.inject_faults(Some(faults.clone()));
    let total = count(&counting, &faults, &["up", "--skip-build"]);
    drop(counting);
    let up = ["up", "--skip-build"];
    let (mut tried, mut converged, mut lost) = (0, 0, 0);
    for at in (1..=total).step_by(stride()) {
        let bench = Bench::new();
        let faults = Faults::counting();
        bench.moto.inject_faults(Some(faults.clone()));
        let Some(what) = kill_at(&bench, &faults, &up, at) else {
            panic!("a fresh up made {total} mutating requests, this one fewer than {at}");
        };
        tried += 1;
        let rerun = bench.run(&up);
        assert_eq!(
            rerun.code,
            Some(0),
            "rerun after a kill at N = {at} ({what}): {}",
            rerun.text
        );
        let drift = bench.run(&["drift"]);
        assert_eq!(
            drift.code,
            Some(0),
            "drift after the rerun (N = {at}, {what}): {}",
            drift.text
        );
        let inventory = bench.inventory().await;
        lost += inventory.difference(&Inventory::DEPLOYED);
        assert_eq!(inventory, Inventory::DEPLOYED, "N = {at} ({what})");
        converged += 1;
    }
    report(&format!(
        "| kills | up | {total} mutating requests | {tried} kills (every {}th N) | {converged} reruns converged | lost or extra: {lost} |",
        stride()
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn down_killed_after_every_mutating_request_converges_on_rerun() {
    let down = ["down", "--delete-data", "--yes"];
    let counting = Bench::new();
    let faults = Faults::counting();
    counting.moto.inject_faults(Some(faults.clone()));
    count(&counting, &faults, &["up", "--skip-build"]);
    let total = count(&counting, &faults, &down);
    drop(counting);
    let (mut tried, mut converged, mut lost) = (0, 0, 0);
    for at in (1..=total).step_by(stride()) {
        let bench = Bench::new();
        let up = bench.run(&["up", "--skip-build"]);
        assert_eq!(up.code, Some(0), "{}", up.text);
        let faults = Faults::counting();
        bench.moto.inject_faults(Some(faults.clone()));
        let Some(what) = kill_at(&bench, &faults, &down, at) else {
            panic!("a whole down made {total} mutating requests, this one fewer than {at}");
        };
        tried += 1;
        let rerun = bench.run(&down);
        assert_eq!(
            rerun.code,
            Some(0),
            "rerun after a kill at N = {at} ({what}): {}",
            rerun.text
        );
        let inventory = bench.inventory().await;
        lost += inventory.difference(&Inventory::EMPTY);
        assert_eq!(inventory, Inventory::EMPTY, "N = {at} ({what})");
        let again = bench.run(&down);
        assert!(
            again
                .text
                .contains("Nothing to delete: no resource of the stack exists."),
            "N = {at} ({what}): {}",
            again.text
        );
        converged += 1;
    }
    report(&format!(
        "| kills | down --delete-data | {total} mutating requests | {tried} kills (every {}th N) | {converged} reruns converged | lost or extra: {lost} |",
        stride()
    ));
}
