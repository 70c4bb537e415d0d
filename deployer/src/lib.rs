//! `showcase-deploy`: builds, runs, deploys and checks the showcase data pipeline.

pub mod aws;
pub mod build;
pub mod config;
pub mod engine;
mod layers;
pub mod local;
pub mod permissions;
pub mod pipeline;
pub mod report;
pub mod resources;
pub mod stack;
