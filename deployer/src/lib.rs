//! `showcase-deploy`: builds, runs, deploys and checks the showcase data pipeline.

pub mod build;
pub mod config;
pub mod local;
pub mod pipeline;
pub mod report;
