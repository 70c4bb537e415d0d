//! The answers' shapes: a namespace, a workgroup and tags as AWS writes them.

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde_json::{Value, json};

use super::input::{ApiError, not_found, rfc3339};
use super::{Namespace, State, Workgroup};

pub(super) fn known_arn<'s>(
    state: &'s State,
    arn: &str,
) -> Result<&'s BTreeMap<String, String>, ApiError> {
    state
        .tags
        .get(arn)
        .ok_or_else(|| not_found(format!("resource {arn} not found")))
}

pub(super) fn tags_json(tags: &BTreeMap<String, String>) -> Value {
    Value::Array(
        tags.iter()
            .map(|(k, v)| json!({"key": k, "value": v}))
            .collect(),
    )
}

pub(super) fn namespace_value(name: &str, namespace: &Namespace, status: Option<&str>) -> Value {
    let status = status.unwrap_or(if namespace.busy_until.is_some() {
        "MODIFYING"
    } else {
        "AVAILABLE"
    });
    let mut value = json!({
        "namespaceName": name,
        "namespaceId": namespace.id,
        "namespaceArn": namespace.arn,
        "adminUsername": namespace.admin_username,
        "dbName": namespace.db_name,
        // As AWS answers them: a struct printed as text around each ARN.
        "iamRoles": namespace
            .iam_roles
            .iter()
            .map(|arn| format!("IamRole(applyStatus=in-sync, iamRoleArn={arn})"))
            .collect::<Vec<_>>(),
        "logExports": [],
        "status": status,
        "creationDate": rfc3339(namespace.created),
    });
    if let Some(default) = &namespace.default_iam_role_arn {
        value["defaultIamRoleArn"] = json!(default);
    }
    if let Some(secret) = &namespace.secret_arn {
        value["adminPasswordSecretArn"] = json!(secret);
    }
    value
}

pub(super) fn workgroup_json(state: &State, name: &str) -> Result<Value, ApiError> {
    let workgroup = state
        .workgroups
        .get(name)
        .ok_or_else(|| not_found(format!("workgroup {name} not found")))?;
    Ok(workgroup_value(name, workgroup))
}

pub(super) fn workgroup_value(name: &str, workgroup: &Workgroup) -> Value {
    let status = workgroup.busy.map_or("AVAILABLE", |(status, _)| status);
    let mut value = json!({
        "workgroupName": name,
        "workgroupId": workgroup.id,
        "workgroupArn": workgroup.arn,
        "namespaceName": workgroup.namespace,
        "baseCapacity": workgroup.base_capacity,
        "enhancedVpcRouting": false,
        "configParameters": [],
        "subnetIds": workgroup.subnet_ids,
        "securityGroupIds": workgroup.security_group_ids,
        "publiclyAccessible": workgroup.publicly_accessible,
        "port": workgroup.port,
        "status": status,
        "creationDate": rfc3339(workgroup.created),
        // What AWS changes by itself: never the same twice in a row here.
        "workgroupVersion": "1.0.99999",
        "patchVersion": format!(
            "1.0.{}",
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis()
                % 1000
        ),
        "endpoint": {
            "address": format!("{name}.{}.us-east-1.redshift-serverless.amazonaws.com", workgroup.id),
            "port": workgroup.port,
            "vpcEndpoints": [],
        },
    });
    if let Some(max) = workgroup.max_capacity {
        value["maxCapacity"] = json!(max);
    }
    value
}
