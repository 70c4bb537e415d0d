//! The API's configuration, read once at start-up: a bad value stops the
//! function from starting instead of failing every request.

use showcase_dataset::sales::{DEFAULT_SALES_PER_DAY, parse_volume};

/// The environment variable that sets the daily sales volume.
pub const SALES_ROWS_PER_DAY: &str = "SALES_ROWS_PER_DAY";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiSettings {
    /// Sales transactions per day.
    pub sales_per_day: u64,
}

#[derive(Debug, thiserror::Error)]
#[error("{SALES_ROWS_PER_DAY}: {0}")]
pub struct SettingsError(#[from] showcase_dataset::SalesVolumeError);

impl Default for ApiSettings {
    fn default() -> Self {
        ApiSettings {
            sales_per_day: DEFAULT_SALES_PER_DAY,
        }
    }
}

impl ApiSettings {
    /// Reads [`SALES_ROWS_PER_DAY`] (default 50, like the seed).
    pub fn from_env() -> Result<ApiSettings, SettingsError> {
        match std::env::var(SALES_ROWS_PER_DAY) {
            Ok(text) => Ok(ApiSettings {
                sales_per_day: parse_volume(&text)?,
            }),
            Err(_) => Ok(ApiSettings::default()),
        }
    }
}
