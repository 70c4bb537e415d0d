#![cfg(feature = "deploy")]
//! Two `up`s on one stack, against moto's server: the second stops naming
//! the holder and since when; a no-op `up` never takes the lock; a killed
//! run's lock expires with its lease; `unlock` removes it; `up` gives it back
//! when done, failed or not.

mod common;

use common::{Cli, text};
use showcase_deploy::aws::Aws;
use showcase_deploy::config::{self, Vars};
use showcase_deploy::lock::Lock;

fn stack() -> config::Stack {
    config::parse(
        common::STACK,
        std::path::Path::new("stack.toml"),
        &Vars::default().with("bucket", "cli-lake"),
    )
    .unwrap()
}

async fn lock_parameter(cli: &Cli) -> Option<String> {
    let config = cli.moto.sdk_config("us-east-1").await;
    aws_sdk_ssm::Client::new(&config)
        .get_parameter()
        .name("/showcase/cli/lock")
        .send()
        .await
        .ok()
        .and_then(|out| out.parameter()?.value().map(str::to_owned))
}

#[test]
fn one_change_at_a_time_and_a_killed_run_s_lock_expires() {
    let cli = Cli::new();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let up = cli.run(&["up"]);
    assert_eq!(up.status.code(), Some(0), "{}", text(&up));
    assert_eq!(
        runtime.block_on(lock_parameter(&cli)),
        None,
        "up kept its lock"
    );

    // Another run holds the lock (say, a CI job in the middle of an up).
    let aws = runtime.block_on(Aws::connect_with("us-east-1", cli.moto.config_loader()));
    let held = runtime
        .block_on(Lock::acquire(&aws, &stack(), "up"))
        .unwrap();

    // A no-op up stays read-only: it neither waits for nor takes the lock.
    let noop = cli.run(&["up", "--skip-build"]);
    assert_eq!(noop.status.code(), Some(0), "{}", text(&noop));

    // An up with changes stops, naming the holder and since when.
    runtime.block_on(async {
        let config = cli.moto.sdk_config("us-east-1").await;
        aws_sdk_cloudwatchlogs::Client::new(&config)
            .put_retention_policy()
            .log_group_name("/aws/lambda/cli-extractor")
            .retention_in_days(3)
            .send()
            .await
            .unwrap();
    });
    let blocked = cli.run(&["up", "--skip-build"]);
    assert_eq!(blocked.status.code(), Some(1), "{}", text(&blocked));
    let message = text(&blocked);
    assert!(
        message.contains("stack cli is being changed by")
            && message.contains("(up) since ")
            && message.contains("showcase-deploy unlock"),
        "{message}"
    );

    // The holder gives it back: the next up goes through.
    runtime.block_on(held.release(&aws)).unwrap();
    let up = cli.run(&["up", "--skip-build"]);
    assert_eq!(up.status.code(), Some(0), "{}", text(&up));
    assert_eq!(runtime.block_on(lock_parameter(&cli)), None);

    // A run killed while holding the lock: its lease ends, and the next run takes over.
    let short = std::env::var("SHOWCASE_LOCK_LEASE_SECS").ok();
    // SAFETY of the test: only this test reads the variable, before any thread uses it.
    unsafe { std::env::set_var("SHOWCASE_LOCK_LEASE_SECS", "1") };
    let killed = runtime
        .block_on(Lock::acquire(&aws, &stack(), "up"))
        .unwrap();
    std::mem::forget(killed);
    match short {
        Some(value) => unsafe { std::env::set_var("SHOWCASE_LOCK_LEASE_SECS", value) },
        None => unsafe { std::env::remove_var("SHOWCASE_LOCK_LEASE_SECS") },
    }
    std::thread::sleep(std::time::Duration::from_millis(2100));
    runtime.block_on(async {
        let config = cli.moto.sdk_config("us-east-1").await;
        aws_sdk_cloudwatchlogs::Client::new(&config)
            .put_retention_policy()
            .log_group_name("/aws/lambda/cli-extractor")
            .retention_in_days(3)
            .send()
            .await
            .unwrap();
    });
    let after = cli.run(&["up", "--skip-build"]);
    assert_eq!(after.status.code(), Some(0), "{}", text(&after));

    // unlock, for a person who knows the holder is gone.
    let _held = runtime
        .block_on(Lock::acquire(&aws, &stack(), "down"))
        .unwrap();
    let unlock = cli.run(&["unlock"]);
    assert_eq!(unlock.status.code(), Some(0), "{}", text(&unlock));
    assert!(
        text(&unlock).contains("Removed the lock of stack cli held by"),
        "{}",
        text(&unlock)
    );
    assert_eq!(runtime.block_on(lock_parameter(&cli)), None);
    let again = cli.run(&["unlock"]);
    assert!(text(&again).contains("is not locked"), "{}", text(&again));
}
