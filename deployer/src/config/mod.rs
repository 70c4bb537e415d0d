//! `stack.toml`: the one file that describes a stack. Parsed with spans, so
//! every mistake is reported as `file:line:column` with what is allowed, and
//! validated completely before any AWS call.

mod error;
mod model;
mod orchestrator;
mod rules;
mod schema;
mod source;
mod vars;
mod warehouse;

use std::path::Path;

pub use error::{ConfigError, ConfigErrors};
pub use model::{
    ApiConfig, Architecture, ClusterConfig, ExistingWarehouse, FunctionConfig, FunctionName,
    LakeConfig, LifecycleRule, OrchestratorConfig, QuotaPeriod, ServerlessConfig, Stack,
    WarehouseConfig, WarehouseKind, WarehouseNetwork,
};
pub use rules::{KIND_TAG, LOG_RETENTION_DAYS, REGIONS, ROUTES, STACK_TAG};
pub use schema::{json_schema, json_schema_text};
pub use vars::Vars;

/// Reads and validates a stack file.
pub fn load(path: &Path, vars: &Vars) -> Result<Stack, ConfigErrors> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigErrors(vec![ConfigError::whole_file(
            path,
            format!("cannot read the stack file: {e}"),
        )])
    })?;
    parse(&text, path, vars)
}

/// Validates stack-file text; `path` only names the file in messages.
pub fn parse(text: &str, path: &Path, vars: &Vars) -> Result<Stack, ConfigErrors> {
    let file = source::SourceFile::new(path, text);
    let raw: model::raw::StackFile =
        toml::from_str(text).map_err(|e| ConfigErrors(vec![file.toml_error(&e)]))?;
    rules::validate(raw, &file, vars)
}
