//! The pipeline's task graph and its SQL, defined once: the local runner
//! executes them, and the MWAA DAG is rendered from them.

mod figures;
mod graph;
mod sql;

pub use figures::figures_query;
pub use graph::{GraphError, Step, TASKS, Task, execution_layers};
pub use sql::{RenderError, SqlFile, SqlParams, check_schema_name, files, render};
