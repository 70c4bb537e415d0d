//! The MWAA environment `[orchestrator] mwaa_environment` names: the user's,
//! only read (`GetEnvironment`), never changed. Its source bucket and DAG
//! path say where the stack's DAG goes; its Airflow version and status are
//! part of what `drift` compares.

use crate::aws::{Aws, describe, error_code};

use super::KIND;
use crate::resources::ResourceError;

/// What the tool needs of the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    pub name: String,
    /// The DAG bucket (from `SourceBucketArn`).
    pub bucket: String,
    /// The DAG folder's key prefix, without a trailing `/` (`DagS3Path`).
    pub dag_path: String,
    pub airflow_version: String,
    pub execution_role_arn: String,
    /// `AVAILABLE`, `UPDATING`, `UPDATE_FAILED`, …
    pub status: String,
    /// The requirements file it installs (`RequirementsS3Path`), if any.
    pub requirements_path: Option<String>,
    /// Which version of that file (`RequirementsS3ObjectVersion`).
    pub requirements_version: Option<String>,
    /// How its last update went: `SUCCESS`, `PENDING`, `FAILED` (`LastUpdate.Status`).
    pub last_update_status: Option<String>,
    /// The last update's error, `CODE: message` (`LastUpdate.Error`).
    pub last_update_error: Option<String>,
}

impl Environment {
    /// Where the stack's DAG folder starts in the bucket: a folder of its own.
    pub fn stack_prefix(&self, stack: &str) -> String {
        if self.dag_path.is_empty() {
            format!("{stack}/")
        } else {
            format!("{}/{stack}/", self.dag_path)
        }
    }
}

/// The environment, read once per read phase however many objects ask.
pub async fn read(aws: &Aws, name: &str) -> Result<Environment, ResourceError> {
    crate::aws::shared(format!("mwaa:GetEnvironment:{name}"), read_now(aws, name)).await
}

/// The environment as it is now, never a read phase's earlier answer (for
/// following an update).
pub async fn read_now(aws: &Aws, name: &str) -> Result<Environment, ResourceError> {
    let fail = |detail: String| ResourceError::Aws {
        address: crate::resources::Address {
            kind: KIND,
            name: format!("mwaa:{name}"),
        },
        operation: "GetEnvironment",
        detail,
    };
    let answer = match aws.mwaa.get_environment().name(name).send().await {
        Ok(answer) => answer,
        Err(e) if error_code(&e) == Some("ResourceNotFoundException") => {
            return Err(fail(format!(
                "no MWAA environment {name} in this region: [orchestrator] mwaa_environment names an existing environment (the tool does not create one); without it, remove mwaa_environment from stack.toml (the DAG files in its bucket are then yours to delete)"
            )));
        }
        Err(e) => return Err(fail(describe(&e))),
    };
    let Some(environment) = answer.environment() else {
        return Err(fail("the answer has no environment".into()));
    };
    let bucket = environment
        .source_bucket_arn()
        .and_then(|arn| arn.strip_prefix("arn:aws:s3:::"))
        .filter(|bucket| !bucket.is_empty())
        .ok_or_else(|| fail("the environment has no source bucket".into()))?;
    Ok(Environment {
        name: name.to_owned(),
        bucket: bucket.to_owned(),
        dag_path: environment
            .dag_s3_path()
            .unwrap_or_default()
            .trim_matches('/')
            .to_owned(),
        airflow_version: environment.airflow_version().unwrap_or_default().to_owned(),
        execution_role_arn: environment
            .execution_role_arn()
            .unwrap_or_default()
            .to_owned(),
        status: environment
            .status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        requirements_path: environment
            .requirements_s3_path()
            .filter(|p| !p.is_empty())
            .map(str::to_owned),
        requirements_version: environment
            .requirements_s3_object_version()
            .filter(|v| !v.is_empty())
            .map(str::to_owned),
        last_update_status: environment
            .last_update()
            .and_then(|u| u.status())
            .map(|s| s.as_str().to_owned()),
        last_update_error: environment.last_update().and_then(|u| u.error()).map(|e| {
            format!(
                "{}: {}",
                e.error_code().unwrap_or("(no code)"),
                e.error_message().unwrap_or("(no message)")
            )
        }),
    })
}
