#![cfg(feature = "deploy")]
//! The lock of a run that changes the stack is renewed while the run works:
//! with a 3-second lease, a lock held for three leases still stops another
//! run, its lease end keeps moving ahead, and it is gone once released. The
//! lease is set for this test binary alone (`SHOWCASE_LOCK_LEASE_SECS`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use showcase_deploy::aws::Aws;
use showcase_deploy::config::{self, Vars};
use showcase_deploy::lock::{Holder, Lock, LockError};
use showcase_testkit::MotoServer;

const LEASE_SECS: u64 = 3;

async fn holder(moto: &MotoServer) -> Option<Holder> {
    let config = moto.sdk_config("us-east-1").await;
    aws_sdk_ssm::Client::new(&config)
        .get_parameter()
        .name("/showcase/renew/lock")
        .send()
        .await
        .ok()
        .and_then(|out| serde_json::from_str(out.parameter()?.value()?).ok())
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_lock_outlives_its_lease_while_its_run_works() {
    // SAFETY of the test: the only test of this binary, before any AWS client reads the environment.
    unsafe { std::env::set_var("SHOWCASE_LOCK_LEASE_SECS", LEASE_SECS.to_string()) };
    let moto = MotoServer::start();
    let stack = config::parse(
        "[stack]\nname = \"renew\"\nregion = \"us-east-1\"\n[lake]\nbucket = \"renew-lake\"\n",
        std::path::Path::new("stack.toml"),
        &Vars::default(),
    )
    .unwrap();
    let aws = Aws::connect_with("us-east-1", moto.config_loader()).await;
    let lock = Lock::acquire(&aws, &stack, "up")
        .await
        .unwrap()
        .renewed(&aws);
    let first = holder(&moto).await.expect("the lock exists");

    // Three leases later: still held, its end moved ahead, the same holder.
    tokio::time::sleep(Duration::from_secs(3 * LEASE_SECS)).await;
    let later = holder(&moto).await.expect("still held");
    assert_eq!(later.token, first.token, "the same run holds it");
    assert_eq!(later.since, first.since);
    assert!(later.until > first.until, "renewed: {first:?} → {later:?}");
    assert!(later.until > now(), "not expired: {later:?}");
    // Another run (one of this machine whose process is alive) is refused.
    let other = Aws::connect_with("us-east-1", moto.config_loader()).await;
    match Lock::acquire(&other, &stack, "down").await {
        Err(LockError::Held { holder, .. }) => assert_eq!(holder.token, first.token),
        other => panic!("expected Held: {other:?}"),
    }

    // Released: gone, and not renewed back into being.
    lock.release(&aws).await.unwrap();
    assert!(holder(&moto).await.is_none(), "released");
    tokio::time::sleep(Duration::from_secs(LEASE_SECS)).await;
    assert!(holder(&moto).await.is_none(), "no renewal after release");

    // Without renewal (a killed run's), the lease ends and another run takes over.
    let killed = Lock::acquire(&aws, &stack, "up").await.unwrap();
    std::mem::forget(killed);
    tokio::time::sleep(Duration::from_secs(LEASE_SECS + 1)).await;
    let taken = Lock::acquire(&other, &stack, "up").await;
    assert!(taken.is_ok(), "{taken:?}");
}
