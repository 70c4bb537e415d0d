//! `showcase-deploy airflow --local`: the stack's DAG in a real Airflow on
//! this machine, as the seed's users ran it with docker-compose, but with no
//! Docker and no AWS account. The same DAG file as for MWAA (rendered for
//! local names), its operators' AWS calls answered in process by
//! `showcase-local-aws` (Lambda `Invoke` running the extractor, the Redshift
//! Data API running the SQL on a throwaway PostgreSQL, COPY reading the lake
//! directory). Runs are triggered through Airflow's REST API, one day after
//! the other, each reported with `run --local`'s line.

mod process;
mod rest;
mod stage;
mod state_lock;
mod venv;

use std::path::PathBuf;
use std::time::Duration;

use showcase_dataset::Day;

pub use process::{AirflowProcess, ProcessError, check_port};
pub use rest::{AirflowApi, RestError, RunEnd, login};
pub use stage::{STACK, Stage, StageError};
pub use state_lock::{StateLock, StateLockError, lock as lock_state_dir};
pub use venv::{AirflowVersion, VenvError};

use crate::local::DayOutcome;
use crate::local::postgres::LocalPostgres;
use crate::local::warehouse::Warehouse;

/// What `airflow --local` was asked.
#[derive(Debug, Clone)]
pub struct LocalAirflow {
    pub port: u16,
    pub version: AirflowVersion,
    pub state_dir: PathBuf,
    /// A virtualenv to use instead of building one under the state directory.
    pub venv: Option<PathBuf>,
    /// The days to run, first to last; none: serve until Ctrl-C.
    pub days: Option<(Day, Day)>,
    /// Stop once the days ran.
    pub exit: bool,
    pub rows: u64,
    pub schema: String,
    /// The warehouse's PostgreSQL (DATABASE_URL); none: a throwaway cluster
    /// under the state directory.
    pub database_url: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AirflowError {
    #[error(transparent)]
    Venv(#[from] VenvError),
    #[error(transparent)]
    Process(#[from] ProcessError),
    #[error(transparent)]
    Rest(#[from] RestError),
    #[error(transparent)]
    Stage(#[from] StageError),
    #[error("PostgreSQL: {0}")]
    Postgres(String),
    #[error("{0}")]
    Airflow(String),
    #[error("the run for {day} failed: {tasks}; the task logs are under {logs}")]
    RunFailed {
        day: Day,
        tasks: String,
        logs: PathBuf,
    },
}

/// How long Airflow may take to start and list the DAG, and to run a day.
const START_LIMIT: Duration = Duration::from_secs(300);
const DAY_LIMIT: Duration = Duration::from_secs(1800);

impl LocalAirflow {
    /// The virtualenv's python: `--venv`'s, or the state directory's (built
    /// the first time).
    pub fn python(&self) -> Result<PathBuf, VenvError> {
        match &self.venv {
            Some(dir) => venv::given(dir),
            None => venv::ensure(
                &self
                    .state_dir
                    .join(format!("airflow-{}", self.version.as_str())),
                self.version,
            ),
        }
    }
}

/// Everything running; dropping it stops Airflow first, then the endpoints
/// and PostgreSQL.
pub struct Running {
    pub airflow: AirflowProcess,
    pub stage: Stage,
    pub api: AirflowApi,
    pub dag_id: String,
    pub postgres_url: String,
    pub login_file: PathBuf,
    /// The throwaway cluster, unless DATABASE_URL named a server.
    pub postgres: Option<LocalPostgres>,
}

/// Starts PostgreSQL, the local AWS endpoints and Airflow with the DAG, and
/// waits until Airflow lists it. `say` reports each step.
pub async fn start(
    settings: &LocalAirflow,
    python: &std::path::Path,
    say: &dyn Fn(&str),
) -> Result<Running, AirflowError> {
    check_port(settings.port)?;
    // As `run --local`: DATABASE_URL's server and database, else a throwaway cluster.
    let (postgres, postgres_url) = match &settings.database_url {
        Some(url) => (None, url.clone()),
        None => {
            let cluster = LocalPostgres::start(&settings.state_dir.join("postgres"))
                .map_err(|e| AirflowError::Postgres(e.to_string()))?;
            let url = cluster.url();
            (Some(cluster), url)
        }
    };
    let database = postgres_url
        .parse::<tokio_postgres::Config>()
        .map_err(|e| AirflowError::Postgres(format!("DATABASE_URL: {e}")))?
        .get_dbname()
        .unwrap_or("postgres")
        .to_owned();
    let lake = settings.state_dir.join("lake");
    let stage = Stage::start(
        settings.rows,
        &lake,
        &postgres_url,
        &database,
        &settings.schema,
    )
    .await?;
    say(&format!(
        "data API on {}, lake in {}, Lambda and Redshift Data API on {}",
        stage.api_url,
        lake.display(),
        stage.aws_endpoint
    ));
    // A fresh home each time: the warehouse is a fresh one too.
    let home = settings.state_dir.join("airflow-home");
    if home.exists() {
        std::fs::remove_dir_all(&home)
            .map_err(|e| AirflowError::Airflow(format!("{}: {e}", home.display())))?;
    }
    let dag_id = stage.write_dag(&home.join("dags"))?;
    let mut airflow = AirflowProcess::start(
        python,
        settings.version,
        &home,
        &home.join("dags"),
        settings.port,
        &stage.aws_endpoint,
    )?;
    say(&format!(
        "starting Airflow {} (its log: {})",
        settings.version.as_str(),
        airflow.log.display()
    ));
    let deadline = tokio::time::Instant::now() + START_LIMIT;
    let (user, password) = loop {
        if let Some(login) = login(&home, settings.version) {
            break login;
        }
        if let Some(why) = airflow.exited() {
            return Err(AirflowError::Airflow(why));
        }
        if tokio::time::Instant::now() > deadline {
            return Err(AirflowError::Airflow(format!(
                "Airflow wrote no login within {} s; the end of its log:\n{}",
                START_LIMIT.as_secs(),
                airflow.log_tail(40)
            )));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let login_file = if settings.version.is_3() {
        home.join("simple_auth_manager_passwords.json.generated")
    } else {
        home.join("standalone_admin_password.txt")
    };
    let mut api = AirflowApi::new(settings.port, settings.version, user, password);
    tokio::select! {
        listed = api.wait_for_dag(&dag_id, START_LIMIT) => listed?,
        why = exited(&mut airflow) => return Err(AirflowError::Airflow(why)),
    }
    api.unpause(&dag_id).await?;
    Ok(Running {
        airflow,
        stage,
        api,
        dag_id,
        postgres_url,
        login_file,
        postgres,
    })
}

/// Resolves once Airflow has exited by itself, with why.
pub async fn exited(airflow: &mut AirflowProcess) -> String {
    loop {
        if let Some(why) = airflow.exited() {
            return why;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

impl Running {
    /// Triggers the run for `day`, follows it to its end; the day's outcome
    /// as `run --local` reports it. Airflow exiting meanwhile is an error.
    pub async fn run_day(&mut self, day: Day, schema: &str) -> Result<DayOutcome, AirflowError> {
        let api = &mut self.api;
        let dag_id = &self.dag_id;
        let end = tokio::select! {
            end = async {
                let run_id = api.trigger(dag_id, day).await?;
                api.follow(dag_id, &run_id, DAY_LIMIT).await
            } => end?,
            why = exited(&mut self.airflow) => return Err(AirflowError::Airflow(why)),
        };
        if end.state != "success" {
            return Err(AirflowError::RunFailed {
                day,
                tasks: end.failed_tasks.join(", "),
                logs: self.airflow.home.join("logs"),
            });
        }
        let warehouse = Warehouse::connect(&self.postgres_url, schema)
            .await
            .map_err(|e| AirflowError::Postgres(e.to_string()))?;
        let figures = warehouse
            .day_figures(day)
            .await
            .map_err(|e| AirflowError::Postgres(e.to_string()))?;
        Ok(DayOutcome {
            day,
            extracted: self.stage.extracted(day),
            figures,
            times: Default::default(),
        })
    }
}
