//! Test harness for the real stand-ins (SYSTEM.md §4): each is a real process or
//! server started on a free port and stopped when its handle drops. A missing
//! stand-in fails the test with the command that installs it; nothing is skipped.

mod api_gateway_pages;
pub mod black_hole;
mod cargo;
mod cluster_iam_roles;
pub mod faults;
mod moto;
mod moto_proxy;
mod moto_s3_fixes;
mod mwaa;
mod postgres;
mod redshift_serverless;
mod system_tags;
mod tools;

pub use cargo::cargo_bin;
pub use moto::MotoServer;
pub use mwaa::{Mwaa, MwaaCall, MwaaEnvironment, RealAirflow};
pub use postgres::Postgres;
// The Lambda Invoke and Redshift Data API stand-ins live in showcase-local-aws
// (the product serves them too, for `airflow --local`).
pub use redshift_serverless::{RedshiftServerless, RedshiftServerlessSettings};
pub use showcase_local_aws::{
    Invocation, InvokeRecord, LakeDirectory, LambdaFunction, LambdaInvoke, ObjectSource, Outcome,
    RedshiftData, RedshiftDataSettings, RuntimeApi, S3Objects, StatementRecord,
};
pub use tools::{free_port, tool, workspace_root};
