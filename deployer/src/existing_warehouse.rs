//! `[warehouse] kind = "existing"`: the user's cluster or workgroup, read and
//! never modified. `plan` and `drift` say whether the stack's COPY role is
//! attached to it and, when it is not, the exact AWS CLI command that attaches
//! it: the tool owns the role, the user owns the warehouse.
//!
//! A missing attachment is drift (`drift` exits 2): the pipeline's COPY
//! cannot read the lake until it is attached, and `up` will not do it.

use crate::aws::{Aws, describe, error_code};
use crate::config::{ExistingWarehouse, Stack, WarehouseKind};
use crate::resources::copy_role;

/// What the read found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ExistingCheck {
    /// `cluster <id>` or `workgroup <name> (namespace <name>)`.
    pub warehouse: String,
    pub copy_role_arn: String,
    pub copy_role_attached: bool,
    /// The AWS CLI command that attaches the role, when it is not attached.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attach_command: Option<String>,
}

impl ExistingCheck {
    /// What `plan` and `drift` print about it.
    pub fn text(&self) -> String {
        match &self.attach_command {
            None => format!(
                "    existing warehouse {}: the COPY role {} is attached\n",
                self.warehouse, self.copy_role_arn
            ),
            Some(command) => format!(
                "  ! existing warehouse {}: the COPY role {} is NOT attached, so the pipeline's COPY cannot read the lake.\n    The tool never changes your warehouse; attach the role with:\n      {command}\n",
                self.warehouse, self.copy_role_arn
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExistingError {
    #[error(
        "the existing warehouse cluster {id} (warehouse.cluster in stack.toml) does not exist in {region}: check the identifier and the region"
    )]
    NoCluster { id: String, region: String },
    #[error(
        "the existing warehouse workgroup {name} (warehouse.workgroup in stack.toml) does not exist in {region}: check the name and the region"
    )]
    NoWorkgroup { name: String, region: String },
    #[error("reading the existing warehouse {what}: {detail}")]
    Read { what: String, detail: String },
}

/// Reads the existing warehouse `stack.toml` names; `None` when its warehouse
/// is not of kind `existing`.
pub async fn check(
    aws: &Aws,
    stack: &Stack,
    account: &str,
) -> Result<Option<ExistingCheck>, ExistingError> {
    let Some(WarehouseKind::Existing(existing)) = stack.warehouse.as_ref().map(|w| &w.kind) else {
        return Ok(None);
    };
    let role = copy_role::arn(stack, account);
    let region = &stack.region;
    let check = match existing {
        ExistingWarehouse::Cluster(id) => {
            let read_error = |detail| ExistingError::Read {
                what: format!("cluster {id}"),
                detail,
            };
            let cluster = match aws
                .redshift
                .describe_clusters()
                .cluster_identifier(id)
                .send()
                .await
            {
                Ok(answer) => answer.clusters().first().cloned(),
                Err(e) if error_code(&e) == Some("ClusterNotFound") => None,
                Err(e) => return Err(read_error(describe(&e))),
            };
            let cluster = cluster.ok_or_else(|| ExistingError::NoCluster {
                id: id.clone(),
                region: region.clone(),
            })?;
            let attached = cluster
                .iam_roles()
                .iter()
                .any(|r| r.iam_role_arn() == Some(role.as_str()));
            ExistingCheck {
                warehouse: format!("cluster {id}"),
                attach_command: (!attached).then(|| {
                    format!(
                        "aws redshift modify-cluster-iam-roles --cluster-identifier {id} --add-iam-roles {role} --region {region}"
                    )
                }),
                copy_role_arn: role,
                copy_role_attached: attached,
            }
        }
        ExistingWarehouse::Workgroup(name) => {
            let read_error = |detail| ExistingError::Read {
                what: format!("workgroup {name}"),
                detail,
            };
            let workgroup = match aws
                .redshiftserverless
                .get_workgroup()
                .workgroup_name(name)
                .send()
                .await
            {
                Ok(answer) => answer.workgroup().cloned(),
                Err(e) if error_code(&e) == Some("ResourceNotFoundException") => None,
                Err(e) => return Err(read_error(describe(&e))),
            };
            let workgroup = workgroup.ok_or_else(|| ExistingError::NoWorkgroup {
                name: name.clone(),
                region: region.clone(),
            })?;
            let namespace_name = workgroup.namespace_name().unwrap_or_default().to_owned();
            let namespace = aws
                .redshiftserverless
                .get_namespace()
                .namespace_name(&namespace_name)
                .send()
                .await
                .map_err(|e| read_error(describe(&e)))?;
            let roles: Vec<String> = namespace
                .namespace()
                .map(|n| {
                    n.iam_roles()
                        .iter()
                        .map(|r| crate::resources::serverless::role_arn(r))
                        .collect()
                })
                .unwrap_or_default();
            let attached = roles.iter().any(|r| r == &role);
            // UpdateNamespace's iamRoles replaces the list: keep theirs, add ours.
            let mut wanted = roles.clone();
            wanted.push(role.clone());
            ExistingCheck {
                warehouse: format!("workgroup {name} (namespace {namespace_name})"),
                attach_command: (!attached).then(|| {
                    format!(
                        "aws redshift-serverless update-namespace --namespace-name {namespace_name} --iam-roles {} --region {region}",
                        wanted.join(" ")
                    )
                }),
                copy_role_arn: role,
                copy_role_attached: attached,
            }
        }
    };
    Ok(Some(check))
}
