//! Running `showcase-deploy airflow --local` from tests (airflow_local.rs,
//! mwaa_run_airflow.rs): the cached virtualenvs, bounded runs, serving
//! Airflow in the background and stopping it as Ctrl-C does.
// Each test binary uses its own part of these.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use showcase_testkit::free_port;

/// One Airflow at a time in a test binary: they are heavy.
pub static ONE_AIRFLOW: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The virtualenv of `version`; none: the test is skipped, except under CI
/// (`CI` set), where a missing virtualenv fails it.
pub fn venv_or_skip(version: &str) -> Option<PathBuf> {
    let found = venv(version);
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "no Airflow {version} under CI: run scripts/stand-ins.sh"
        );
        eprintln!("skipped: no Airflow {version} (scripts/stand-ins.sh installs it)");
    }
    found
}

/// The Airflow virtualenv of `version` scripts/stand-ins.sh installs, if there.
pub fn venv(version: &str) -> Option<PathBuf> {
    let variable = if version.starts_with('2') {
        "SHOWCASE_AIRFLOW_VENV"
    } else {
        "SHOWCASE_AIRFLOW3_VENV"
    };
    let home = PathBuf::from(std::env::var_os("HOME").unwrap_or_default());
    let dir = std::env::var_os(variable)
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(format!(".cache/showcase-deploy/airflow-{version}")));
    dir.join("bin/python").is_file().then_some(dir)
}

pub fn cli() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_showcase-deploy"));
    command.stdin(Stdio::null());
    command
}

/// Runs `command` in its own process group, killed whole past `limit`.
pub fn run_bounded(command: &mut Command, limit: Duration) -> Output {
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap();
    let group = child.id() as i32;
    let killer = std::thread::spawn(move || {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            // SAFETY: signal 0 only asks whether the group exists.
            if unsafe { libc::kill(-group, 0) } != 0 {
                return false;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        // SAFETY: kill(2) on the test's own child's process group.
        unsafe { libc::kill(-group, libc::SIGKILL) };
        true
    });
    let output = child.wait_with_output().unwrap();
    // SAFETY: as above: nothing of the run may outlive it.
    unsafe { libc::kill(-group, libc::SIGKILL) };
    assert!(
        !killer.join().unwrap(),
        "{command:?} took over {limit:?}:\n{}",
        text(&output)
    );
    output
}

pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Starts `airflow --local` of `version` serving (no days) and waits until
/// it is up; the child and its port.
pub fn serve_airflow(
    version: &str,
    venv: &Path,
    state: &Path,
    env: &[(&str, &str)],
) -> (std::process::Child, u16) {
    let port = free_port();
    let mut child = cli()
        .args(["airflow", "--local", "--port", &port.to_string()])
        .args(["--airflow", version])
        .arg("--venv")
        .arg(venv)
        .arg("--state-dir")
        .arg(state)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = sender.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        match receiver.recv_timeout(Duration::from_secs(1)) {
            Ok(line) => {
                let up = line.contains("is up:");
                seen.push(line);
                if up {
                    return (child, port);
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    // SAFETY: SIGINT to the child this test started: it stops what it started.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let _ = child.wait();
    panic!("Airflow did not come up:\n{}", seen.join("\n"));
}

/// Ctrl-C to `child`, and its end within a minute.
pub fn interrupt(mut child: std::process::Child) {
    // SAFETY: SIGINT to the child this test started, as Ctrl-C sends it.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = child.kill();
    panic!("still running 60 s after SIGINT");
}

/// `airflow --local` serving in the background; stopped as Ctrl-C stops it
/// when dropped (also when the test fails half-way).
pub struct ServedAirflow {
    child: Option<std::process::Child>,
    pub port: u16,
}

impl ServedAirflow {
    pub fn start(version: &str, venv: &Path, state: &Path) -> ServedAirflow {
        let (child, port) = serve_airflow(version, venv, state, &[]);
        ServedAirflow {
            child: Some(child),
            port,
        }
    }

    /// Ctrl-C, and its end within a minute (a failure otherwise).
    pub fn stop(mut self) {
        if let Some(child) = self.child.take() {
            interrupt(child);
        }
    }
}

impl Drop for ServedAirflow {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        // SAFETY: SIGINT to the child this test started, as Ctrl-C sends it.
        unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if matches!(child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// The logs of the tasks that failed (their last lines), for a failure's message.
pub fn failed_task_logs(logs: &std::path::Path) -> String {
    let mut out = String::new();
    let mut pending = vec![logs.to_owned()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if let Ok(log) = std::fs::read_to_string(&path)
                && (log.contains("ERROR")
                    || log.contains("Traceback")
                    // Airflow 3's task logs are JSON lines.
                    || log.contains("\"level\":\"error\""))
            {
                let lines: Vec<&str> = log.lines().collect();
                let tail = lines[lines.len().saturating_sub(40)..].join("\n");
                out.push_str(&format!("--- {}\n{tail}\n", path.display()));
            }
        }
    }
    out
}
