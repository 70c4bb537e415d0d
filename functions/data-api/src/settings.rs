//! The API's configuration, read once at start-up: a bad value stops the
//! function from starting instead of failing every request.

use showcase_dataset::sales::{DEFAULT_SALES_PER_DAY, parse_volume};

/// The environment variable that sets the daily sales volume.
pub const SALES_ROWS_PER_DAY: &str = "SALES_ROWS_PER_DAY";

/// Tells `lambda_http` to drop the stage from API Gateway REST paths
/// ("/prod/sales" → "/sales"): the routes are stage-independent.
pub const IGNORE_STAGE_IN_PATH: &str = "AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH";

/// What the deploy tool sets for the deployed data API, so a stack file may not.
pub const SET_BY_DEPLOY: &[&str] = &[IGNORE_STAGE_IN_PATH];

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
