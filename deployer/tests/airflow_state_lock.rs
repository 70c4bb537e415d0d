#![cfg(feature = "deploy")]
//! `airflow --local` refuses a state directory another one is using (they
//! would share its PostgreSQL, lake and Airflow home), before starting
//! anything, naming the holder's pid; the lock goes with its holder.

use std::process::{Command, Output, Stdio};

fn airflow_local(state: &std::path::Path, venv: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_showcase-deploy"))
        .args(["airflow", "--local", "--exit", "--date", "2024-01-02"])
        .arg("--state-dir")
        .arg(state)
        .arg("--venv")
        .arg(venv)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn a_state_directory_in_use_is_refused_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let no_venv = dir.path().join("no-venv");
    // This test process plays the first `airflow --local`.
    let held = showcase_deploy::airflow::lock_state_dir(&state).unwrap();
    let refused = airflow_local(&state, &no_venv);
    let text = String::from_utf8_lossy(&refused.stderr).into_owned();
    assert_eq!(refused.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!(
            "another `showcase-deploy airflow --local` (pid {}) is using the state directory {}",
            std::process::id(),
            state.display()
        )),
        "{text}"
    );
    let entries: Vec<String> = std::fs::read_dir(&state)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(entries, [".lock"], "nothing started");

    drop(held);
    let next = airflow_local(&state, &no_venv);
    let text = String::from_utf8_lossy(&next.stderr).into_owned();
    assert_eq!(next.status.code(), Some(1), "{text}");
    assert!(!text.contains("another `showcase-deploy"), "{text}");
    assert!(
        text.contains(&no_venv.display().to_string()),
        "the venv is next: {text}"
    );
}
