//! `run --local`: the whole pipeline on one machine, no AWS account. The data
//! API is served on localhost from the Lambda's own router, the extractor
//! writes a local lake directory, and the warehouse SQL runs on PostgreSQL,
//! task by task in the order of the pipeline's one task graph.

pub mod postgres;
mod runner;
pub mod warehouse;

pub use runner::{DayOutcome, LocalRun, LocalRunError, PhaseTimes, Pipeline};
