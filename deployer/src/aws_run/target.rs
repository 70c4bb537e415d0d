//! The deployed stack's names for `run`: the extractor function, the
//! warehouse (and who the SQL runs as), the lake and the COPY role — from
//! `stack.toml`, the account, and one `DescribeClusters` (or `GetWorkgroup`
//! and `GetNamespace` for a serverless warehouse).

use crate::aws::{Aws, describe, error_code};
use crate::config::{ExistingWarehouse, FunctionName, Stack, WarehouseKind};
use crate::resources::{cluster, copy_role, function, serverless};

use super::{AwsTarget, SqlAuth, SqlEndpoint, SqlNames, SqlTarget};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error(
        "stack {0} has no [warehouse] in its stack.toml: add one and `showcase-deploy up`, or run the pipeline with --local"
    )]
    NoWarehouse(String),
    #[error("the warehouse workgroup {0} does not exist: create it with `showcase-deploy up`")]
    NoWorkgroup(String),
    #[error(
        "the warehouse workgroup {workgroup} is {status}, not AVAILABLE: wait for it (or for `up`) and run again"
    )]
    WorkgroupNotAvailable { workgroup: String, status: String },
    #[error("reading the warehouse workgroup {workgroup}: {detail}")]
    DescribeWorkgroup { workgroup: String, detail: String },
    #[error("the warehouse cluster {0} does not exist: create it with `showcase-deploy up`")]
    NoCluster(String),
    #[error(
        "the warehouse cluster {cluster} is {status}, not available: wait for it (or for `up`) and run again"
    )]
    NotAvailable { cluster: String, status: String },
    #[error("reading the warehouse cluster {cluster}: {detail}")]
    Describe { cluster: String, detail: String },
    #[error("{0}")]
    Account(String),
}

/// The names the SQL is rendered with: no AWS call (the account is given).
pub fn sql_names(stack: &Stack, schema: &str, account: &str) -> Result<SqlNames, TargetError> {
    if stack.warehouse.is_none() {
        return Err(TargetError::NoWarehouse(stack.name.clone()));
    }
    Ok(SqlNames {
        schema: schema.to_owned(),
        lake_bucket: stack.lake.bucket.clone(),
        lake_prefix: stack.lake.prefix.clone(),
        copy_role_arn: copy_role::arn(stack, account),
    })
}

/// The extractor function `run` invokes.
pub fn extractor_function(stack: &Stack) -> String {
    function::name(stack, FunctionName::Extractor)
}

/// Everything `run` needs, for the stack as `stack.toml` describes it.
pub async fn resolve(aws: &Aws, stack: &Stack, schema: &str) -> Result<AwsTarget, TargetError> {
    let warehouse = stack
        .warehouse
        .as_ref()
        .ok_or_else(|| TargetError::NoWarehouse(stack.name.clone()))?;
    let account = aws.account_id().await.map_err(TargetError::Account)?;
    let names = sql_names(stack, schema, &account)?;
    let (endpoint, auth) = match &warehouse.kind {
        WarehouseKind::Cluster(config) => {
            let id = cluster::name(stack);
            let auth = cluster_auth(aws, &id, &config.admin_user).await?;
            (SqlEndpoint::Cluster(id), auth)
        }
        WarehouseKind::Existing(ExistingWarehouse::Cluster(id)) => {
            let auth = cluster_auth(aws, id, "").await?;
            (SqlEndpoint::Cluster(id.clone()), auth)
        }
        WarehouseKind::Existing(ExistingWarehouse::Workgroup(name)) => {
            // The user's workgroup: SQL runs as the caller's IAM identity.
            workgroup_secret(aws, name).await?;
            (SqlEndpoint::Workgroup(name.clone()), SqlAuth::Iam)
        }
        WarehouseKind::Serverless(_) => {
            let name = serverless::name(stack);
            let auth = match workgroup_secret(aws, &name).await? {
                Some(secret) => SqlAuth::Secret(secret),
                None => SqlAuth::Iam,
            };
            (SqlEndpoint::Workgroup(name), auth)
        }
    };
    Ok(AwsTarget {
        extractor_function: extractor_function(stack),
        sql: SqlTarget {
            endpoint,
            database: warehouse.database.clone(),
            auth,
        },
        names,
    })
}

/// The secret of the cluster's AWS-managed admin password when AWS reports
/// one; else the admin user with IAM temporary credentials
/// (`GetClusterCredentials`, which the Data API calls for a `DbUser`).
async fn cluster_auth(aws: &Aws, id: &str, admin_user: &str) -> Result<SqlAuth, TargetError> {
    let answer = aws
        .redshift
        .describe_clusters()
        .cluster_identifier(id)
        .send()
        .await;
    let answer = match answer {
        Ok(answer) => answer,
        Err(e) if error_code(&e) == Some("ClusterNotFound") => {
            return Err(TargetError::NoCluster(id.to_owned()));
        }
        Err(e) => {
            return Err(TargetError::Describe {
                cluster: id.to_owned(),
                detail: describe(&e),
            });
        }
    };
    let Some(found) = answer.clusters().first() else {
        return Err(TargetError::NoCluster(id.to_owned()));
    };
    let status = found.cluster_status().unwrap_or_default();
    if !status.is_empty() && status != "available" {
        return Err(TargetError::NotAvailable {
            cluster: id.to_owned(),
            status: status.to_owned(),
        });
    }
    if let Some(secret) = found.master_password_secret_arn().filter(|s| !s.is_empty()) {
        return Ok(SqlAuth::Secret(secret.to_owned()));
    }
    let user = found
        .master_username()
        .filter(|u| !u.is_empty())
        .unwrap_or(admin_user);
    Ok(SqlAuth::DbUser(user.to_owned()))
}

/// Checks that the workgroup exists and is AVAILABLE; the secret of its
/// namespace's AWS-managed admin password, if AWS reports one (else SQL runs
/// as the caller's IAM identity, which the Data API maps to a database user).
async fn workgroup_secret(aws: &Aws, name: &str) -> Result<Option<String>, TargetError> {
    let describe_error = |detail: String| TargetError::DescribeWorkgroup {
        workgroup: name.to_owned(),
        detail,
    };
    let found = match aws
        .redshiftserverless
        .get_workgroup()
        .workgroup_name(name)
        .send()
        .await
    {
        Ok(answer) => answer.workgroup().cloned(),
        Err(e) if error_code(&e) == Some("ResourceNotFoundException") => None,
        Err(e) => return Err(describe_error(describe(&e))),
    };
    let Some(workgroup) = found else {
        return Err(TargetError::NoWorkgroup(name.to_owned()));
    };
    let status = workgroup.status().map(|s| s.as_str()).unwrap_or_default();
    if status != "AVAILABLE" {
        return Err(TargetError::WorkgroupNotAvailable {
            workgroup: name.to_owned(),
            status: status.to_owned(),
        });
    }
    let Some(namespace) = workgroup.namespace_name() else {
        return Ok(None);
    };
    let namespace = aws
        .redshiftserverless
        .get_namespace()
        .namespace_name(namespace)
        .send()
        .await
        .map_err(|e| describe_error(describe(&e)))?;
    Ok(namespace
        .namespace()
        .and_then(|n| n.admin_password_secret_arn())
        .filter(|s| !s.is_empty())
        .map(str::to_owned))
}
