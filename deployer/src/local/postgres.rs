//! A throwaway PostgreSQL cluster for the local run: `initdb` and `pg_ctl` of
//! the installed PostgreSQL, a free port, data under the project's state
//! directory. Stopped when dropped, unless kept for inspection.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[derive(Debug, thiserror::Error)]
pub enum PostgresError {
    #[error(
        "PostgreSQL is not installed (no initdb/pg_ctl on PATH or in /usr/lib/postgresql/*/bin).\n  \
         Install it (Debian/Ubuntu: `sudo apt-get install -y postgresql`; macOS: `brew install postgresql@15`),\n  \
         or point DATABASE_URL at an existing database"
    )]
    NotInstalled,
    #[error("`{command}` failed: {detail}")]
    Command { command: String, detail: String },
    #[error(
        "PostgreSQL runs as the `postgres` user here (initdb refuses root), and that user cannot \
         enter {0}.\n  Choose a --state-dir it can reach (the default .showcase in the repository \
         works), or let it in: `chmod o+x {0}`"
    )]
    Unreachable(PathBuf),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

pub struct LocalPostgres {
    bin_dir: PathBuf,
    data_dir: PathBuf,
    socket_dir: PathBuf,
    port: u16,
    run_as_postgres: bool,
    keep: bool,
}

impl LocalPostgres {
    /// Creates (or reuses) a cluster in `dir` and starts it on a free port.
    pub fn start(dir: &Path) -> Result<LocalPostgres, PostgresError> {
        let bin_dir = find_binaries().ok_or(PostgresError::NotInstalled)?;
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| PostgresError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let dir = dir.canonicalize().map_err(io(dir))?;
        // initdb refuses to run as root; the cluster then belongs to the `postgres` user.
        let run_as_postgres = is_root();
        let cluster = LocalPostgres {
            bin_dir,
            data_dir: dir.join("data"),
            socket_dir: dir.clone(),
            port: free_port().map_err(io(&dir))?,
            run_as_postgres,
            keep: false,
        };
        if run_as_postgres {
            cluster.run(
                Command::new("chown")
                    .args(["-R", "postgres:postgres"])
                    .arg(&dir),
                false,
            )?;
            cluster.ensure_reachable(&dir)?;
        }
        if !cluster.data_dir.join("PG_VERSION").is_file() {
            let mut initdb = Command::new(cluster.bin_dir.join("initdb"));
            initdb.arg("-D").arg(&cluster.data_dir).args([
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ]);
            cluster.run(&mut initdb, true)?;
        }
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            cluster.port,
            cluster.socket_dir.display()
        );
        let mut start = Command::new(cluster.bin_dir.join("pg_ctl"));
        start
            .arg("-D")
            .arg(&cluster.data_dir)
            .args(["-o", &options, "-l"])
            .arg(dir.join("postgres.log"))
            .args(["-w", "start"]);
        cluster.run(&mut start, true)?;
        Ok(cluster)
    }

    /// A tokio-postgres connection string.
    pub fn url(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user=postgres dbname=postgres",
            self.port
        )
    }

    /// How a user inspects the cluster.
    pub fn psql_command(&self) -> String {
        format!("psql -h 127.0.0.1 -p {} -U postgres postgres", self.port)
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Leaves the server running when this handle is dropped.
    pub fn keep(&mut self) {
        self.keep = true;
    }

    /// A private directory above the cluster (`mktemp -d` makes them) would
    /// stop initdb with a bare "Permission denied": name it instead.
    fn ensure_reachable(&self, dir: &Path) -> Result<(), PostgresError> {
        for ancestor in dir.ancestors().collect::<Vec<_>>().into_iter().rev() {
            let mut enter = Command::new("test");
            enter.arg("-x").arg(ancestor);
            if self.run(&mut enter, true).is_err() {
                return Err(PostgresError::Unreachable(ancestor.to_owned()));
            }
        }
        Ok(())
    }

    fn run(&self, command: &mut Command, as_postgres: bool) -> Result<(), PostgresError> {
        let mut command = if as_postgres && self.run_as_postgres {
            let mut wrapped = Command::new("runuser");
            wrapped
                .args(["-u", "postgres", "--"])
                .arg(command.get_program())
                .args(command.get_args());
            wrapped
        } else {
            std::mem::replace(command, Command::new("true"))
        };
        let described = format!("{command:?}");
        let output = command
            .stdin(Stdio::null())
            .output()
            .map_err(|e| PostgresError::Command {
                command: described.clone(),
                detail: e.to_string(),
            })?;
        if output.status.success() {
            Ok(())
        } else {
            let detail = format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            Err(PostgresError::Command {
                command: described,
                detail: detail.trim().to_owned(),
            })
        }
    }
}

impl Drop for LocalPostgres {
    fn drop(&mut self) {
        if !self.keep {
            let mut stop = Command::new(self.bin_dir.join("pg_ctl"));
            stop.arg("-D")
                .arg(&self.data_dir)
                .args(["-m", "fast", "-w", "stop"]);
            let _ = self.run(&mut stop, true);
        }
    }
}

fn find_binaries() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file());
    if on_path.is_some() {
        return on_path;
    }
    // Debian keeps the server binaries off PATH, one directory per major version.
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            Some((
                entry.file_name().to_str()?.parse().ok()?,
                entry.path().join("bin"),
            ))
        })
        .filter(|(_, bin)| bin.join("initdb").is_file())
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn free_port() -> std::io::Result<u16> {
    std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()
        .map(|a| a.port())
}
