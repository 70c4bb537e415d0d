//! The simulated source systems of the pipeline.
//!
//! Everything here is a pure function of the calendar date (and, for sales, the
//! configured daily volume): a rerun of a day reproduces its data byte for byte,
//! which is what makes the warehouse's idempotency testable. Nothing is random.

pub mod day;
pub mod dimensions;
mod mix;
pub mod money;
pub mod sales;

pub use day::{Day, DayError};
pub use dimensions::{Customer, Dimension, Product};
pub use money::{Cents, MoneyError};
pub use sales::{Sale, SalesDay, SalesVolumeError};
