//! A throwaway PostgreSQL cluster for tests: the installed server's `initdb`
//! and `pg_ctl` (as the `postgres` user when running as root, since initdb
//! refuses root), a temporary directory and a free port. Stopped and deleted
//! when the handle drops. (showcase-deploy has its own for the local run; this
//! one is the tests', so that testkit depends on nothing it tests.)

use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::tools::free_port;

pub struct Postgres {
    bin_dir: PathBuf,
    data_dir: PathBuf,
    port: u16,
    as_postgres: bool,
    _dir: tempfile::TempDir,
}

impl Postgres {
    /// Creates a cluster in a temporary directory and starts it; panics with
    /// the install command when PostgreSQL's server binaries are missing.
    pub fn start() -> Postgres {
        let bin_dir = find_binaries().unwrap_or_else(|| {
            panic!(
                "PostgreSQL's server binaries (initdb, pg_ctl) are not installed: \
                 `apt-get install -y postgresql`"
            )
        });
        let dir = tempfile::Builder::new()
            .prefix("testkit-postgres-")
            .tempdir()
            .unwrap_or_else(|e| panic!("temporary directory for PostgreSQL: {e}"));
        let as_postgres = is_root();
        if as_postgres {
            run(
                Command::new("chown")
                    .args(["-R", "postgres:postgres"])
                    .arg(dir.path()),
                false,
            );
        }
        let data_dir = dir.path().join("data");
        run(
            Command::new(bin_dir.join("initdb"))
                .arg("-D")
                .arg(&data_dir)
                .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]),
            as_postgres,
        );
        for _ in 0..5 {
            let port = free_port();
            let options = format!(
                "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off \
                 -c synchronous_commit=off -c full_page_writes=off",
                dir.path().display()
            );
            let started = try_run(
                Command::new(bin_dir.join("pg_ctl"))
                    .arg("-D")
                    .arg(&data_dir)
                    .args(["-o", &options, "-l"])
                    .arg(dir.path().join("postgres.log"))
                    .args(["-w", "start"]),
                as_postgres,
            );
            if started.is_ok() {
                return Postgres {
                    bin_dir,
                    data_dir,
                    port,
                    as_postgres,
                    _dir: dir,
                };
            }
        }
        panic!(
            "PostgreSQL did not start; its log:\n{}",
            std::fs::read_to_string(dir.path().join("postgres.log")).unwrap_or_default()
        )
    }

    /// A tokio-postgres connection string for `database` (`postgres` exists from the start).
    pub fn url(&self, database: &str) -> String {
        format!(
            "host=127.0.0.1 port={} user=postgres dbname={database}",
            self.port
        )
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Creates another database (e.g. the one a Redshift client names in `Database`).
    pub async fn create_database(&self, name: &str) {
        let client = self.connect("postgres").await;
        client
            .batch_execute(&format!(
                "CREATE DATABASE \"{}\"",
                name.replace('"', "\"\"")
            ))
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e:?}"));
    }

    /// A connection to `database` (its driver runs on the caller's runtime).
    pub async fn connect(&self, database: &str) -> tokio_postgres::Client {
        let (client, connection) =
            tokio_postgres::connect(&self.url(database), tokio_postgres::NoTls)
                .await
                .unwrap_or_else(|e| panic!("connect to PostgreSQL ({database}): {e}"));
        tokio::spawn(async move {
            let _ = connection.await;
        });
        client
    }

    /// Every row `query` returns in `database`, each value as text (`NULL`
    /// for a null): what tests compare warehouses by.
    pub async fn rows(&self, database: &str, query: &str) -> Vec<Vec<String>> {
        let client = self.connect(database).await;
        client
            .simple_query(query)
            .await
            .unwrap_or_else(|e| panic!("{query}: {e:?}"))
            .into_iter()
            .filter_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(row) => Some(
                    (0..row.len())
                        .map(|i| row.get(i).unwrap_or("NULL").to_owned())
                        .collect(),
                ),
                _ => None,
            })
            .collect()
    }

    /// Every table of `schema` (at least ten: the pipeline's), each under a
    /// `-- table` line and fully ordered by all its columns: two warehouses
    /// hold the same data exactly when their dumps are equal.
    pub async fn dump_schema(&self, database: &str, schema: &str) -> Vec<Vec<String>> {
        let tables = self
            .rows(
                database,
                &format!(
                    "SELECT table_name, COUNT(*) FROM information_schema.columns \
                     WHERE table_schema = '{schema}' GROUP BY table_name ORDER BY table_name"
                ),
            )
            .await;
        assert!(tables.len() >= 10, "{tables:?}");
        let mut all = Vec::new();
        for table in tables {
            let columns: usize = table[1].parse().unwrap_or_default();
            let order: Vec<String> = (1..=columns).map(|i| i.to_string()).collect();
            all.push(vec![format!("-- {}", table[0])]);
            all.extend(
                self.rows(
                    database,
                    &format!(
                        "SELECT * FROM {schema}.{} ORDER BY {}",
                        table[0],
                        order.join(", ")
                    ),
                )
                .await,
            );
        }
        all
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = try_run(
            Command::new(self.bin_dir.join("pg_ctl"))
                .arg("-D")
                .arg(&self.data_dir)
                .args(["-m", "immediate", "-w", "stop"]),
            self.as_postgres,
        );
    }
}

fn run(command: &mut Command, as_postgres: bool) {
    if let Err(error) = try_run(command, as_postgres) {
        panic!("{error}");
    }
}

fn try_run(command: &mut Command, as_postgres: bool) -> Result<(), String> {
    let mut command = if as_postgres {
        let mut wrapped = Command::new("runuser");
        wrapped
            .args(["-u", "postgres", "--"])
            .arg(command.get_program())
            .args(command.get_args());
        wrapped
    } else {
        std::mem::replace(command, Command::new("true"))
    };
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{command:?}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
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
