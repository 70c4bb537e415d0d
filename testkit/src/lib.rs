//! Test harness for the real stand-ins (SYSTEM.md §4): each is a real process or
//! server started on a free port and stopped when its handle drops. A missing
//! stand-in fails the test with the command that installs it; nothing is skipped.

pub mod black_hole;
mod cargo;
mod lambda_invoke;
mod moto;
mod moto_proxy;
mod mwaa;
mod postgres;
mod redshift_data;
mod runtime_api;
mod system_tags;
mod tools;

pub use cargo::cargo_bin;
pub use lambda_invoke::{InvokeRecord, LambdaFunction, LambdaInvoke};
pub use moto::MotoServer;
pub use mwaa::{Mwaa, MwaaCall, MwaaEnvironment};
pub use postgres::Postgres;
pub use redshift_data::{RedshiftData, RedshiftDataSettings, StatementRecord};
pub use runtime_api::{Invocation, Outcome, RuntimeApi};
pub use tools::{free_port, tool, workspace_root};
