//! `showcase-deploy`: builds, runs, deploys and checks the showcase data pipeline.

//!
//! The `deploy` feature (on by default) brings the AWS half: [`aws`],
//! [`resources`], [`engine`], [`stack`] and [`permissions`].

#[cfg(feature = "deploy")]
pub mod airflow;
#[cfg(feature = "deploy")]
pub mod aws;
#[cfg(feature = "deploy")]
pub mod aws_run;
pub mod build;
pub mod config;
#[cfg(feature = "deploy")]
pub mod dag;
#[cfg(feature = "deploy")]
pub mod engine;
#[cfg(feature = "deploy")]
pub mod existing_warehouse;
mod layers;
pub mod local;
#[cfg(feature = "deploy")]
pub mod lock;
#[cfg(feature = "deploy")]
pub mod migrate;
#[cfg(feature = "deploy")]
pub mod permissions;
pub mod pipeline;
pub mod report;
#[cfg(feature = "deploy")]
pub mod resources;
#[cfg(feature = "deploy")]
pub mod session;
#[cfg(feature = "deploy")]
pub mod stack;
