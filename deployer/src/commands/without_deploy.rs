//! The stack commands in a build without the `deploy` feature (the quick
//! first build the README starts with): each says how to get them.

use super::{AirflowArgs, RunArgs, StackArgs, Status};

fn unavailable() -> Result<Status, String> {
    Err(
        "this build of showcase-deploy has no deploy commands (it was built with \
         --no-default-features, for a quick local run): run it with \
         `cargo run -p showcase-deploy -- <command>`"
            .into(),
    )
}

pub fn validate(_: &StackArgs) -> Result<Status, String> {
    unavailable()
}

pub fn plan(_: &StackArgs) -> Result<Status, String> {
    unavailable()
}

pub fn drift(_: &StackArgs) -> Result<Status, String> {
    unavailable()
}

pub fn up(_: &StackArgs, _: bool, _: bool, _: bool) -> Result<Status, String> {
    unavailable()
}

pub fn down(_: &StackArgs, _: bool, _: bool, _: bool) -> Result<Status, String> {
    unavailable()
}

pub fn outputs(_: &StackArgs, _: bool) -> Result<Status, String> {
    unavailable()
}

pub fn permissions(
    _: &StackArgs,
    _: bool,
    _: bool,
    _: bool,
    _: Option<String>,
    _: Option<String>,
) -> Result<Status, String> {
    unavailable()
}

pub fn unlock(_: &StackArgs) -> Result<Status, String> {
    unavailable()
}

pub fn run_on_aws(_: RunArgs, _: &StackArgs) -> Result<(), String> {
    unavailable().map(|_| ())
}

pub fn print_sql(_: RunArgs, _: &StackArgs, _: Option<String>) -> Result<(), String> {
    unavailable().map(|_| ())
}

pub fn write_dag(_: &StackArgs, _: &std::path::Path, _: &str) -> Result<(), String> {
    unavailable().map(|_| ())
}

/// What `migrate` was asked to do (unused without the deploy feature).
#[allow(dead_code)]
pub struct MigrateArgs {
    pub from_cloudformation: String,
    pub seed_dags: Option<std::path::PathBuf>,
    pub yes: bool,
    pub dry_run: bool,
    pub skip_build: bool,
}

pub fn migrate(_: &StackArgs, _: &MigrateArgs) -> Result<Status, String> {
    unavailable()
}

pub fn airflow_local(_: AirflowArgs) -> Result<(), String> {
    unavailable().map(|_| ())
}
