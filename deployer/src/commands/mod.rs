//! The commands' glue: arguments in, library calls, results out through the
//! reporting layer. No logic of their own.

mod local;
mod stack;

pub use local::{RunArgs, run_local};
pub use stack::{StackArgs, down, drift, outputs, permissions, plan, up, validate};

/// Exit status of a successful command: 0, or 2 for "changes pending" / "drift found".
pub type Status = u8;
pub const CHANGES_PENDING: Status = 2;
