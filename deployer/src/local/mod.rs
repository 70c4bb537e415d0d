//! `run --local`: the whole pipeline on one machine, no AWS account. The data
//! API is served on localhost from the Lambda's own router, the extractor
//! writes a local lake directory, and the warehouse SQL runs on PostgreSQL,
//! task by task in the order of the pipeline's one task graph. While a day's
//! SQL runs, the next day's extracts run beside the lake (PostgreSQL keeps one
//! core busy, the other is free); that day's files reach the lake only when it
//! is run. What only PostgreSQL needs for speed (an index, `TRUNCATE` and
//! `ANALYZE` of staging) is here and in `sql/postgres/`, never in what runs on
//! Redshift (see sql/README.md).

pub mod postgres;
mod runner;
pub mod warehouse;

pub use runner::{DayOutcome, LocalRun, LocalRunError, PhaseTimes, Pipeline};
