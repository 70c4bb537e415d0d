#![cfg(feature = "deploy")]
//! `airflow --local`'s first-time virtualenv build, when pip cannot install
//! (no package index reachable): it says so up front, fails naming the step
//! and pip's last lines, starts nothing, and leaves no virtualenv a rerun
//! would take for finished (the rerun builds again). The successful build is
//! what scripts/stand-ins.sh does for the other Airflow tests, with the same
//! pins.

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn airflow_local(state: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_showcase-deploy"))
        .args(["airflow", "--local", "--exit", "--date", "2024-01-02"])
        .arg("--state-dir")
        .arg(state)
        // Nothing answers there: pip fails at once, offline.
        .env("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
        .env("PIP_NO_CACHE_DIR", "1")
        .env("PIP_RETRIES", "0")
        .env("PIP_TIMEOUT", "2")
        .env_remove("PIP_FIND_LINKS")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn a_failed_first_build_is_explained_and_redone_next_time() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let failed = airflow_local(&state);
    let text = String::from_utf8_lossy(&failed.stderr).into_owned();
    assert_eq!(failed.status.code(), Some(1), "{text}");
    assert!(
        text.contains("Building a virtualenv with Airflow 2.11.0 and MWAA's pins"),
        "said up front: {text}"
    );
    assert!(
        text.contains(&format!(
            "building the Airflow virtualenv in {} failed (pip install)",
            state.join("airflow-2.11.0").display()
        )),
        "{text}"
    );
    assert!(
        text.contains("apache-airflow==2.11.0"),
        "pip's own lines: {text}"
    );
    assert!(
        !state.join("airflow-2.11.0/.showcase-airflow").exists(),
        "not marked finished"
    );
    assert!(!state.join("postgres").exists(), "nothing started");

    let again = airflow_local(&state);
    let text = String::from_utf8_lossy(&again.stderr).into_owned();
    assert_eq!(again.status.code(), Some(1), "{text}");
    assert!(
        text.contains("Building a virtualenv with Airflow 2.11.0"),
        "built again, not taken for finished: {text}"
    );
}
