//! `showcase-deploy`: builds, runs, deploys and checks the showcase data pipeline.

pub mod build;
pub mod local;
