//! The extractor: one entity of one day, from the data API into the lake.
//!
//! Pages are fetched one ahead of the encoder, encoded as they arrive (Parquet
//! for sales, CSV for dimensions) and streamed to the lake as multipart parts,
//! so memory stays near one page plus one row group whatever the day's volume.
//! An object becomes visible only when it is complete.

pub mod encode;
mod error;
mod extract;
mod invocation;
pub mod lake;
mod request;
mod settings;
mod source;

pub use error::ExtractError;
pub use extract::{ExtractSummary, Extractor};
pub use request::{Entity, ExtractRequest};
pub use settings::{ExtractorSettings, KeyLayout, LakeLocation, SettingsError, env};
pub use source::{ApiClient, RetryPolicy};
