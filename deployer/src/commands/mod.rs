//! The commands' glue: arguments in, library calls, results out through the
//! reporting layer. No logic of their own.

#[cfg(feature = "deploy")]
mod airflow;
#[cfg(feature = "deploy")]
mod dag;
mod local;
#[cfg(feature = "deploy")]
mod migrate;
#[cfg(feature = "deploy")]
mod on_aws;
#[cfg(feature = "deploy")]
mod on_mwaa;
#[cfg(feature = "deploy")]
mod stack;
#[cfg(not(feature = "deploy"))]
mod without_deploy;

#[cfg(feature = "deploy")]
pub use airflow::airflow_local;
#[cfg(feature = "deploy")]
pub use dag::write_dag;
pub use local::{RunArgs, days, run_local};
#[cfg(feature = "deploy")]
pub use migrate::{MigrateArgs, migrate};
#[cfg(feature = "deploy")]
pub use on_aws::{print_sql, run_on_aws};
#[cfg(feature = "deploy")]
pub use stack::{down, drift, outputs, permissions, plan, unlock, up, validate};
#[cfg(not(feature = "deploy"))]
pub use without_deploy::{
    MigrateArgs, airflow_local, down, drift, migrate, outputs, permissions, plan, print_sql,
    run_on_aws, unlock, up, validate, write_dag,
};

/// What `airflow --local` was given.
#[cfg_attr(not(feature = "deploy"), allow(dead_code))]
pub struct AirflowArgs {
    pub port: u16,
    /// "2.11.0" or "3.0.6".
    pub airflow: String,
    pub state_dir: std::path::PathBuf,
    pub venv: Option<std::path::PathBuf>,
    pub days: Option<(showcase_dataset::Day, showcase_dataset::Day)>,
    pub exit: bool,
    pub rows: u64,
    pub schema: String,
}

/// Which stack file, with which values, and how to print.
#[cfg_attr(not(feature = "deploy"), allow(dead_code))]
pub struct StackArgs {
    pub stack: std::path::PathBuf,
    pub vars: Vec<String>,
    pub json: bool,
    /// `--output markdown` (plan and drift; the other commands print text).
    pub markdown: bool,
}

/// Exit status of a successful command: 0, or 2 for "changes pending" / "drift found".
pub type Status = u8;
#[cfg(feature = "deploy")]
pub const CHANGES_PENDING: Status = 2;
