#![cfg(feature = "deploy")]
//! `migrate` killed with SIGKILL after each of its mutating steps — the
//! UpdateStack that retains the bucket, the bucket's claim, part-way through
//! `up`, the DeleteStack — and run again: the same end state as a run that
//! was never interrupted (every object version byte-identical, the seed's
//! stack, functions and roles gone, ours up, drift clean). Requests are
//! slowed by 30 ms so that the kill lands between steps.

mod seed_stack;

use std::process::Stdio;
use std::time::{Duration, Instant};

use seed_stack::*;
use showcase_testkit::MotoServer;

#[derive(Debug, Clone, Copy)]
enum KillAfter {
    /// The template retains the bucket.
    Retained,
    /// The bucket carries the stack's tag.
    Claimed,
    /// One of our functions exists (up is part-way).
    MidUp,
    /// The CloudFormation stack is being (or has been) deleted.
    DeleteStarted,
}

async fn reached(moto: &MotoServer, point: KillAfter) -> bool {
    match point {
        KillAfter::Retained => bucket_deletion_policy(moto).await.as_deref() == Some("Retain"),
        KillAfter::Claimed => bucket_tags(moto).await.contains_key("showcase:stack"),
        KillAfter::MidUp => function_names(moto)
            .await
            .iter()
            .any(|f| f.starts_with("seedmig-")),
        KillAfter::DeleteStarted => !matches!(
            cfn_status(moto).await.as_deref(),
            Some("CREATE_COMPLETE" | "UPDATE_COMPLETE" | "UPDATE_IN_PROGRESS")
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_killed_after_any_step_ends_the_same_on_rerun() {
    build_once();
    for point in [
        KillAfter::Retained,
        KillAfter::Claimed,
        KillAfter::MidUp,
        KillAfter::DeleteStarted,
    ] {
        let moto = MotoServer::start_with_latency(Duration::from_millis(30));
        let before = deploy_seed(&moto).await;
        moto.add_cloudformation_bucket_tags(LAKE, CFN_STACK, "PipelineBucket");
        let dir = tempfile::tempdir().unwrap();
        let stack_toml = dir.path().join("stack.toml");
        std::fs::write(&stack_toml, STACK_TOML).unwrap();
        let args = [
            "migrate",
            "--from-cloudformation",
            CFN_STACK,
            "--yes",
            "--skip-build",
        ];
        let mut child = command(&moto, &stack_toml, LAKE, &args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(120);
        while !reached(&moto, point).await {
            assert!(Instant::now() < deadline, "{point:?} never happened");
            if child.try_wait().unwrap().is_some() {
                // moto deletes a stack at once: the run may end as it is seen.
                assert!(
                    reached(&moto, point).await,
                    "migrate ended before {point:?}"
                );
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let _ = child.kill(); // SIGKILL: no cleanup of any kind
        let _ = child.wait();

        let rerun = command(&moto, &stack_toml, LAKE, &args).output().unwrap();
        assert_eq!(
            rerun.status.code(),
            Some(0),
            "rerun after a kill at {point:?}: {}",
            text(&rerun)
        );
        // The rerun continued from where the kill left it: what was done is not redone.
        let said = text(&rerun);
        match point {
            KillAfter::DeleteStarted => assert!(
                said.contains("Nothing left to migrate") || said.contains("Migrated"),
                "{said}"
            ),
            _ => {
                assert!(said.contains("Migrated"), "{point:?}: {said}");
                assert!(
                    !said.contains("Setting DeletionPolicy"),
                    "{point:?}: {said}"
                );
            }
        }
        if matches!(point, KillAfter::Claimed | KillAfter::MidUp) {
            assert!(!said.contains("Tagging bucket"), "{point:?}: {said}");
        }
        assert_migrated(&moto, &stack_toml, &before).await;
    }
}
