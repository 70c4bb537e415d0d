//! Everything the user sees: progress, lines, JSON. Commands produce values;
//! this layer decides how to show them (a bar on a terminal, plain lines in
//! CI or a pipe, no colour under NO_COLOR).

#[cfg(feature = "deploy")]
mod apply;
pub mod github;
mod local_run;
#[cfg(feature = "deploy")]
mod markdown;
#[cfg(feature = "deploy")]
mod plan;
mod progress;

#[cfg(feature = "deploy")]
pub use apply::ApplyProgress;
pub use local_run::{day_line, run_markdown};
#[cfg(feature = "deploy")]
pub use markdown::{drift_markdown, plan_markdown};
#[cfg(feature = "deploy")]
pub use plan::{down_plan_text, drift_text, plan_text};
pub use progress::Progress;

/// Whether output goes to a person at a terminal (not CI, not a pipe).
pub fn interactive() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal()
        && std::env::var_os("CI").is_none_or(|v| v.is_empty() || v == "false")
}
