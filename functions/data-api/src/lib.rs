//! The data API: the simulated source systems behind one HTTP router.
//!
//! The same [`router`] runs on Lambda (through `lambda_http`) and on localhost
//! (through [`serve`]), so tests and the local pipeline exercise the exact
//! handler code that is deployed.

mod errors;
mod log;
mod paging;
mod routes;
mod settings;

pub use errors::ApiError;
pub use log::logged;
pub use paging::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page};
pub use routes::router;
pub use settings::{ApiSettings, IGNORE_STAGE_IN_PATH, SET_BY_DEPLOY, SettingsError};

/// Serves the API on an already bound listener until the task is dropped.
pub async fn serve(
    listener: tokio::net::TcpListener,
    settings: ApiSettings,
) -> std::io::Result<()> {
    axum::serve(listener, router(settings)).await
}
