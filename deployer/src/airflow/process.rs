//! Airflow itself: `airflow standalone` (metadata database, scheduler, the
//! webserver or api-server, triggerer, and on 3.x the DAG processor) in a
//! process group of its own, so that stopping it stops every process it
//! started. Configured through its environment only: loopback, the port
//! asked for, the DAG folder, the `aws_default` connection pointing at the
//! local AWS endpoint, no cron scheduling (runs are triggered: the DAG's
//! catch-up from its start date would otherwise begin at once).

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::venv::AirflowVersion;

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("port {0} on 127.0.0.1 is taken: stop what listens there, or give --port")]
    PortTaken(u16),
    #[error("cannot start Airflow ({python}): {source}")]
    Spawn {
        python: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Io(String),
}

/// A running Airflow; stopped (its whole process group) when dropped.
pub struct AirflowProcess {
    child: Child,
    pub home: PathBuf,
    pub log: PathBuf,
    pub port: u16,
    pub version: AirflowVersion,
}

/// A port nobody listens on now (for Airflow's log servers).
fn free_port() -> Result<u16, ProcessError> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| ProcessError::Io(format!("no free port: {e}")))
}

/// 32 random bytes, hex: this Airflow's JWT secret (never printed).
fn random_secret() -> Result<String, ProcessError> {
    use std::io::Read;
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| ProcessError::Io(format!("/dev/urandom: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Fails when `port` is taken on loopback.
pub fn check_port(port: u16) -> Result<(), ProcessError> {
    std::net::TcpListener::bind(("127.0.0.1", port))
        .map(drop)
        .map_err(|_| ProcessError::PortTaken(port))
}

impl AirflowProcess {
    /// Starts `airflow standalone` from `python`'s virtualenv with its home
    /// in `home` (kept between runs: the metadata database and the logs).
    pub fn start(
        python: &Path,
        version: AirflowVersion,
        home: &Path,
        dags: &Path,
        port: u16,
        aws_endpoint: &str,
    ) -> Result<AirflowProcess, ProcessError> {
        check_port(port)?;
        std::fs::create_dir_all(home)
            .map_err(|e| ProcessError::Io(format!("{}: {e}", home.display())))?;
        let log = home.join("standalone.log");
        let file = std::fs::File::create(&log)
            .map_err(|e| ProcessError::Io(format!("{}: {e}", log.display())))?;
        let errors = file
            .try_clone()
            .map_err(|e| ProcessError::Io(format!("{}: {e}", log.display())))?;
        // The provider's connection: test credentials, the local endpoint.
        let connection = serde_json::json!({
            "conn_type": "aws",
            "login": "local",
            "password": "local",
            "extra": {"endpoint_url": aws_endpoint, "region_name": "us-east-1"},
        });
        // standalone starts its parts as `airflow …` from PATH: a shim that
        // runs this virtualenv's (its own bin/airflow may name the python of
        // wherever the virtualenv was built, if it was moved since).
        let shims = home.join("bin");
        let shim = shims.join("airflow");
        let io = |e: std::io::Error| ProcessError::Io(format!("{}: {e}", shim.display()));
        std::fs::create_dir_all(&shims).map_err(io)?;
        std::fs::write(
            &shim,
            format!(
                "#!/bin/sh\nexec '{}' -m airflow \"$@\"\n",
                python.display().to_string().replace('\'', "'\\''")
            ),
        )
        .map_err(io)?;
        std::fs::set_permissions(&shim, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .map_err(io)?;
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut paths = vec![shims.clone()];
        paths.extend(std::env::split_paths(&path));
        let path = std::env::join_paths(paths).map_err(|e| ProcessError::Io(e.to_string()))?;
        let mut command = Command::new(python);
        command
            .args(["-m", "airflow", "standalone"])
            .env("PATH", path)
            .env("AIRFLOW_HOME", home)
            .env("AIRFLOW__CORE__DAGS_FOLDER", dags)
            .env("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
            .env("AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION", "False")
            .env("AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE", "False")
            .env("AIRFLOW_CONN_AWS_DEFAULT", connection.to_string())
            // The local warehouse answers at once: no need to wait 5 s per statement.
            .env(crate::dag::POLL_SECONDS_VARIABLE, "1")
            .env(
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT",
                free_port()?.to_string(),
            )
            .env(
                "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT",
                free_port()?.to_string(),
            );
        if version.is_3() {
            command
                .env("AIRFLOW__API__HOST", "127.0.0.1")
                .env("AIRFLOW__API__PORT", port.to_string())
                .env("AIRFLOW__API__WORKERS", "1")
                .env(
                    "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
                    format!("http://127.0.0.1:{port}/execution/"),
                )
                .env("AIRFLOW__API__BASE_URL", format!("http://127.0.0.1:{port}"))
                // One signing secret for every part (the scheduler signs the
                // tasks' tokens, the api-server checks them) and an issuer:
                // 3.0.6 cannot sign a token without one.
                .env("AIRFLOW__API_AUTH__JWT_SECRET", random_secret()?)
                .env("AIRFLOW__API_AUTH__JWT_ISSUER", "showcase-local");
        } else {
            command
                .env("AIRFLOW__WEBSERVER__WEB_SERVER_HOST", "127.0.0.1")
                .env("AIRFLOW__WEBSERVER__WEB_SERVER_PORT", port.to_string())
                .env("AIRFLOW__WEBSERVER__WORKERS", "1")
                .env(
                    "AIRFLOW__API__AUTH_BACKENDS",
                    "airflow.api.auth.backend.basic_auth,airflow.api.auth.backend.session",
                );
        }
        // The AWS endpoint is the connection's: none of the user's AWS
        // settings may send the DAG's calls elsewhere.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("AWS_") {
                command.env_remove(name);
            }
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(errors)
            .process_group(0)
            .spawn()
            .map_err(|source| ProcessError::Spawn {
                python: python.to_owned(),
                source,
            })?;
        Ok(AirflowProcess {
            child,
            home: home.to_owned(),
            log,
            port,
            version,
        })
    }

    /// `Some(why)` once Airflow has exited by itself.
    pub fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(format!(
                "Airflow exited ({status}); the end of {}:\n{}",
                self.log.display(),
                self.log_tail(40)
            )),
            _ => None,
        }
    }

    /// The last `lines` lines Airflow printed.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Stops every process of the group: SIGTERM, then SIGKILL after 15 s.
    pub fn stop(&mut self) {
        let Ok(group) = i32::try_from(self.child.id()) else {
            return;
        };
        // SAFETY: kill(2) on the process group this process made for Airflow.
        unsafe { libc::kill(-group, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline && group_alive(group) {
            let _ = self.child.try_wait();
            std::thread::sleep(Duration::from_millis(100));
        }
        // SAFETY: as above; whatever did not stop on SIGTERM.
        unsafe { libc::kill(-group, libc::SIGKILL) };
        let _ = self.child.wait();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && group_alive(group) {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Whether any process of the group is left (zombies of ours aside).
fn group_alive(group: i32) -> bool {
    // SAFETY: signal 0 only checks that the group exists.
    unsafe { libc::kill(-group, 0) == 0 }
}

impl Drop for AirflowProcess {
    fn drop(&mut self) {
        self.stop();
    }
}
