#![cfg(feature = "deploy")]
//! `showcase-deploy airflow --local` as a user runs it, with the Airflow
//! virtualenvs scripts/stand-ins.sh installs (`--venv`: no new one is built):
//! a day on Airflow 3.0.6 and a three-day catch-up on 2.11.0, each through
//! Airflow's scheduler and REST API, print `run --local`'s lines and leave
//! every warehouse table as `run --local` does; Ctrl-C (SIGINT) leaves no
//! process and no listening port; a taken port, a wrong virtualenv and a
//! missing Python 3 fail clearly. One Airflow at a time: they are heavy.

#[path = "common/airflow.rs"]
mod airflow_common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use airflow_common::{
    ONE_AIRFLOW, cli, failed_task_logs, interrupt, run_bounded, serve_airflow, text, venv,
};
use showcase_testkit::{Postgres, free_port};

const ROWS: &str = "50";
const SCHEMA: &str = "showcase_data_pipeline";

/// The lines a run printed for its days.
fn day_lines(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| l.starts_with("20"))
        .map(str::to_owned)
        .collect()
}

/// `airflow --local` for `days` (`--date D` or `--from A --to B`) with
/// `--exit`, then `run --local` for the same days: the same lines, the same
/// tables.
async fn runs_as_run_local(version: &str, days: &[&str], limit: Duration) {
    let Some(venv) = venv(version) else {
        assert!(
            version.starts_with('3'),
            "no Airflow {version}: run scripts/stand-ins.sh"
        );
        eprintln!("skipped: no Airflow {version} (stand-ins.sh installs it with Python 3.12)");
        return;
    };
    let _one = ONE_AIRFLOW.lock().await;
    let postgres = Postgres::start();
    postgres.create_database("airflow").await;
    postgres.create_database("local").await;
    let state = tempfile::tempdir().unwrap();
    let port = free_port().to_string();
    let started = Instant::now();
    let airflow = tokio::task::block_in_place(|| {
        run_bounded(
            cli()
                .args([
                    "airflow", "--local", "--exit", "--rows", ROWS, "--port", &port,
                ])
                .args(["--airflow", version])
                .arg("--venv")
                .arg(&venv)
                .arg("--state-dir")
                .arg(state.path().join("airflow"))
                .args(days)
                .env("DATABASE_URL", postgres.url("airflow")),
            limit,
        )
    });
    assert!(
        airflow.status.success(),
        "{}\n{}",
        text(&airflow),
        failed_task_logs(&state.path().join("airflow/airflow-home/logs"))
    );
    eprintln!(
        "airflow --local {} ran in {:.0} s",
        days.join(" "),
        started.elapsed().as_secs_f64()
    );
    let stderr = String::from_utf8_lossy(&airflow.stderr);
    assert!(
        stderr.contains(&format!("http://127.0.0.1:{port}/")),
        "{stderr}"
    );
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap())).is_err(),
        "Airflow still listens after --exit"
    );

    let local = tokio::task::block_in_place(|| {
        run_bounded(
            cli()
                .args(["run", "--local", "--rows", ROWS])
                .arg("--state-dir")
                .arg(state.path().join("local"))
                .args(days)
                .env("DATABASE_URL", postgres.url("local")),
            Duration::from_secs(300),
        )
    });
    assert!(local.status.success(), "{}", text(&local));
    let lines = day_lines(&airflow);
    let expected_days = if days[0] == "--date" { 1 } else { 3 };
    assert_eq!(lines.len(), expected_days, "{}", text(&airflow));
    assert_eq!(lines, day_lines(&local));
    let on_airflow = postgres.dump_schema("airflow", SCHEMA).await;
    assert!(on_airflow.len() > 50, "{} rows", on_airflow.len());
    assert_eq!(on_airflow, postgres.dump_schema("local", SCHEMA).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn airflow_3_0_local_runs_a_day_as_run_local_does() {
    runs_as_run_local("3.0.6", &["--date", "2024-03-05"], Duration::from_secs(900)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn airflow_2_11_local_catches_up_three_days_as_run_local_does() {
    runs_as_run_local(
        "2.11.0",
        &["--from", "2024-03-01", "--to", "2024-03-03"],
        Duration::from_secs(1800),
    )
    .await;
}

/// Processes whose command line or environment names `dir`.
fn processes_naming(dir: &Path) -> Vec<String> {
    let needle = dir.to_string_lossy().into_owned();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let path = entry.path();
        if !entry
            .file_name()
            .to_string_lossy()
            .chars()
            .all(|c| c.is_ascii_digit())
        {
            continue;
        }
        let cmdline = std::fs::read(path.join("cmdline")).unwrap_or_default();
        let environ = std::fs::read(path.join("environ")).unwrap_or_default();
        let contains = |bytes: &[u8]| String::from_utf8_lossy(bytes).contains(&needle);
        if contains(&cmdline) || contains(&environ) {
            found.push(String::from_utf8_lossy(&cmdline).replace('\0', " "));
        }
    }
    found
}

#[test]
fn ctrl_c_stops_airflow_postgres_and_the_endpoints() {
    let venv = venv("2.11.0").expect("no Airflow 2.11.0: run scripts/stand-ins.sh");
    let _one = ONE_AIRFLOW.blocking_lock();
    let state = tempfile::tempdir().unwrap();
    let (child, port) = serve_airflow("2.11.0", &venv, state.path(), &[]);
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
    assert!(
        !processes_naming(state.path()).is_empty(),
        "the test cannot see Airflow's processes"
    );
    interrupt(child);
    let left = processes_naming(state.path());
    assert!(left.is_empty(), "left running after Ctrl-C: {left:#?}");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "port {port} still listening after Ctrl-C"
    );
}

#[test]
fn a_taken_port_a_wrong_venv_and_no_python_fail_clearly() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let state = tempfile::tempdir().unwrap();
    let output = cli()
        .args([
            "airflow",
            "--local",
            "--port",
            &port,
            "--venv",
            "/nonexistent",
        ])
        .arg("--state-dir")
        .arg(state.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(
        text(&output).contains(&format!("port {port} on 127.0.0.1 is taken")),
        "{}",
        text(&output)
    );
    drop(taken);

    let free = free_port().to_string();
    let output = cli()
        .args(["airflow", "--local", "--port", &free, "--venv"])
        .arg(state.path())
        .arg("--state-dir")
        .arg(state.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(
        text(&output).contains("is not an Airflow virtualenv"),
        "{}",
        text(&output)
    );

    // No --venv and no Python on PATH: said before anything is built.
    let output = cli()
        .args(["airflow", "--local", "--port", &free])
        .arg("--state-dir")
        .arg(state.path())
        .env("PATH", state.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(
        text(&output).contains("no Python 3 found"),
        "{}",
        text(&output)
    );
    assert!(!state.path().join("airflow-2.11.0").exists());
}

/// Debian's chromium (`apt-get install chromium`), if installed.
fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

/// The DAG's graph page in a real headless browser (Debian's chromium,
/// driven by scripts/browser-page.py) shows every task id; the screenshot is
/// written to
/// `$CARGO_TARGET_TMPDIR/airflow-graph.png` (the README's picture).
/// Anonymous users are admins here (Flask-AppBuilder's `AUTH_ROLE_PUBLIC`,
/// in a webserver config file of the test's): the browser has no login to
/// type.
#[test]
fn the_graph_page_shows_every_task_in_a_headless_browser() {
    let Some(chromium) = chromium() else {
        // scripts/stand-ins.sh installs it: CI must not pass by skipping.
        assert!(
            std::env::var_os("CI").is_none(),
            "no chromium under CI: scripts/stand-ins.sh installs it (`apt-get install -y chromium`)"
        );
        eprintln!("skipped: no chromium (`apt-get install -y chromium`)");
        return;
    };
    let venv = venv("2.11.0").expect("no Airflow 2.11.0: run scripts/stand-ins.sh");
    let _one = ONE_AIRFLOW.blocking_lock();
    let state = tempfile::tempdir().unwrap();
    // Flask-AppBuilder's settings file, as Airflow's default but for the
    // public role (the webserver reads it from [webserver] config_file).
    let config = state.path().join("webserver_config.py");
    std::fs::write(
        &config,
        "from flask_appbuilder.const import AUTH_DB\n\
         AUTH_TYPE = AUTH_DB\n\
         AUTH_ROLE_PUBLIC = \"Admin\"\n\
         WTF_CSRF_ENABLED = True\n",
    )
    .unwrap();
    let (child, port) = serve_airflow(
        "2.11.0",
        &venv,
        state.path(),
        &[("AIRFLOW__WEBSERVER__CONFIG_FILE", config.to_str().unwrap())],
    );
    let url = format!("http://127.0.0.1:{port}/dags/local_pipeline/grid?tab=graph");
    let screenshot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("airflow-graph.png");
    let ids: Vec<&str> = showcase_deploy::pipeline::TASKS
        .iter()
        .map(|t| t.id)
        .collect();
    let page = run_bounded(
        Command::new(venv.join("bin/python"))
            .arg(showcase_testkit::workspace_root().join("scripts/browser-page.py"))
            .arg(&chromium)
            .arg(&url)
            .arg(&screenshot)
            .arg("120")
            .args(&ids),
        Duration::from_secs(240),
    );
    interrupt(child);
    assert!(page.status.success(), "{}", text(&page));
    let shown = String::from_utf8_lossy(&page.stdout);
    let missing: Vec<&str> = ids
        .iter()
        .copied()
        .filter(|id| !shown.contains(id))
        .collect();
    assert!(
        missing.is_empty(),
        "not on the graph page: {missing:?}\n{}",
        &shown[..shown.len().min(3000)]
    );
    assert!(screenshot.is_file());
    eprintln!("screenshot: {}", screenshot.display());
}
