//! `showcase-deploy run --local` as a user runs it: the built binary, its own
//! throwaway PostgreSQL, output lines, exit codes and error messages.

use std::process::Command;

fn showcase_deploy() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_showcase-deploy"));
    command.env_remove("DATABASE_URL").env("CI", "true");
    command
}

#[test]
fn a_backfill_runs_every_day_in_order_and_stops_its_database() {
    let state = tempfile::tempdir().unwrap();
    let output = showcase_deploy()
        .args([
            "run",
            "--local",
            "--from",
            "2024-03-01",
            "--to",
            "2024-03-03",
            "--rows",
            "120",
            "--state-dir",
        ])
        .arg(state.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let days: Vec<&str> = stdout
        .lines()
        .map(|l| l.split_whitespace().next().unwrap_or(""))
        .collect();
    assert_eq!(days, ["2024-03-01", "2024-03-02", "2024-03-03"], "{stdout}");
    assert!(
        stdout
            .lines()
            .all(|l| l.contains("extracted 120 sales") && l.contains("facts 120")),
        "{stdout}"
    );
    assert!(stderr.contains("throwaway cluster"), "{stderr}");
    for day in ["2024-03-01", "2024-03-02", "2024-03-03"] {
        for file in ["sales.parquet", "products.csv", "customers.csv"] {
            assert!(
                state.path().join("lake").join(day).join(file).is_file(),
                "{day}/{file}"
            );
        }
    }
    // Stopped at the end: no postmaster.pid left in the cluster's directory.
    assert!(
        !state.path().join("postgres/data/postmaster.pid").exists(),
        "the cluster was stopped"
    );
}

#[test]
fn json_output_is_one_document_per_run() {
    let state = tempfile::tempdir().unwrap();
    let output = showcase_deploy()
        .args([
            "run",
            "--local",
            "--date",
            "2024-03-05",
            "--output",
            "json",
            "--state-dir",
        ])
        .arg(state.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let days: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(days[0]["day"], "2024-03-05");
    assert_eq!(days[0]["figures"]["facts_loaded"], 50);
    assert_eq!(days[0]["figures"]["transaction_count"], 50);
}

/// `--output markdown` ends with the days as a table (the day lines go to
/// stderr); under GitHub Actions the table also goes to the job summary.
#[test]
fn markdown_output_is_a_table_of_the_days_and_the_job_summary_gets_it() {
    let state = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        state.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let summary = state.path().join("summary.md");
    let output = showcase_deploy()
        .args([
            "run",
            "--local",
            "--from",
            "2024-03-05",
            "--to",
            "2024-03-06",
            "--output",
            "markdown",
            "--state-dir",
        ])
        .arg(state.path())
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.starts_with("### showcase-deploy run\n\n| day | sales |"),
        "{stdout}"
    );
    let rows: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("| 2024-"))
        .collect();
    assert_eq!(rows.len(), 2, "{stdout}");
    assert!(rows[0].starts_with("| 2024-03-05 | 50 |"), "{stdout}");
    assert!(stdout.ends_with("2 day(s) loaded.\n"), "{stdout}");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("2024-03-06  extracted 50 sales"),
        "the day lines go to stderr"
    );
    assert_eq!(
        std::fs::read_to_string(&summary).unwrap(),
        format!("{stdout}\n")
    );
}

#[test]
fn bad_input_is_refused_with_a_message_naming_it() {
    for (args, expected, code) in [
        (
            vec!["run", "--local", "--date", "2024-02-30"],
            "--date: '2024-02-30' is not a date",
            1,
        ),
        (
            vec![
                "run",
                "--local",
                "--from",
                "2024-03-05",
                "--to",
                "2024-03-01",
            ],
            "--from 2024-03-05 is after --to 2024-03-01",
            1,
        ),
        (
            vec![
                "run",
                "--local",
                "--date",
                "2024-03-01",
                "--schema",
                "Robert'); DROP",
            ],
            "--schema",
            1,
        ),
        (
            vec!["run", "--local", "--date", "2024-03-01", "--rows", "many"],
            "--rows",
            64,
        ),
        // Without --local, run is on the deployed stack: local-only flags are usage errors.
        (
            vec!["run", "--date", "2024-03-01", "--rows", "10"],
            "--local",
            64,
        ),
        (vec!["run", "--date", "2024-03-01", "--keep"], "--local", 64),
        (
            vec![
                "run",
                "--local",
                "--date",
                "2024-03-01",
                "--stack",
                "x.toml",
            ],
            "--stack",
            64,
        ),
        (vec!["deploy-everything"], "unrecognized subcommand", 64),
    ] {
        let output = showcase_deploy().args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

#[test]
fn a_database_that_cannot_be_reached_is_a_clear_error_without_the_password() {
    let output = showcase_deploy()
        .args(["run", "--local", "--date", "2024-03-01"])
        .env("DATABASE_URL", "postgres://me:hunter2@127.0.0.1:1/db")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot connect to PostgreSQL"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "the password leaked: {stderr}");
}

/// `mktemp -d` makes a private directory. As root, PostgreSQL runs as the
/// `postgres` user, which cannot enter it: the error names the directory and
/// the way out. As anyone else the cluster is theirs and the run works.
#[test]
fn a_state_dir_postgres_cannot_enter_is_named() {
    use std::os::unix::fs::PermissionsExt;
    let private = tempfile::tempdir().unwrap();
    std::fs::set_permissions(private.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let state = private.path().join("state");
    let output = showcase_deploy()
        .args(["run", "--local", "--date", "2024-03-01", "--state-dir"])
        .arg(&state)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        assert_eq!(output.status.code(), Some(1), "{text}");
        let private = private.path().canonicalize().unwrap();
        assert!(
            text.contains(&format!("that user cannot enter {}.", private.display()))
                && text.contains(&format!("chmod o+x {}", private.display())),
            "{text}"
        );
    } else {
        assert!(output.status.success(), "{text}");
    }
}
