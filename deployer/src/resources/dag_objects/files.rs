//! The stack's DAG objects as `stack.toml` wants them: one per file the DAG
//! renders, their text once the names it holds are known.

use std::collections::BTreeMap;

use super::{DagObject, DagObjectId, SCHEMA};
use crate::config::Stack;
use crate::resources::KNOWN_AFTER_APPLY;

/// The DAG's files for the stack: their paths never depend on what AWS holds
/// (the set of resources is the same before and after discovery); their text
/// does, and is `None` until the names are known.
pub fn objects(
    stack: &Stack,
    rendered: Option<&crate::stack::DagContext>,
    tags: BTreeMap<String, String>,
) -> Vec<DagObject> {
    let Some(environment) = stack
        .orchestrator
        .as_ref()
        .and_then(|o| o.mwaa_environment.clone())
    else {
        return Vec::new();
    };
    let files = match rendered {
        Some(context) => context
            .files
            .iter()
            .map(|f| (f.path.clone(), Some(f.text.clone())))
            .collect(),
        None => paths(stack)
            .into_iter()
            .map(|p| (p, None))
            .collect::<Vec<_>>(),
    };
    files
        .into_iter()
        .map(|(path, text)| DagObject {
            id: DagObjectId {
                environment: environment.clone(),
                stack: stack.name.clone(),
                path,
            },
            text,
            airflow_version: rendered.map(|c| c.airflow_version.clone()),
            folder: rendered.map(|c| (c.bucket.clone(), c.folder.clone())),
            tags: tags.clone(),
        })
        .collect()
}

/// The rendered paths, from placeholder names (the paths are the task graph's).
fn paths(stack: &Stack) -> Vec<String> {
    use crate::aws_run::statements::SqlNames;
    use crate::aws_run::{AwsTarget, SqlAuth, SqlEndpoint, SqlTarget};
    let unknown = || KNOWN_AFTER_APPLY.to_owned();
    let target = AwsTarget {
        extractor_function: unknown(),
        sql: SqlTarget {
            endpoint: SqlEndpoint::Cluster(unknown()),
            database: unknown(),
            auth: SqlAuth::Iam,
        },
        names: SqlNames {
            schema: SCHEMA.to_owned(),
            lake_bucket: unknown(),
            lake_prefix: String::new(),
            copy_role_arn: unknown(),
        },
    };
    crate::dag::render(&crate::dag::DagInput {
        stack_name: &stack.name,
        region: &stack.region,
        target: &target,
        schedule: crate::dag::DagSchedule::of(stack),
    })
    .map(|files| files.into_iter().map(|f| f.path).collect())
    .unwrap_or_default()
}
