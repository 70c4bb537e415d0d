//! Namespaces: create, update, delete (with a final snapshot).

use std::time::SystemTime;

use serde_json::{Value, json};

use super::input::*;
use super::shapes::namespace_value;
use super::{Namespace, RedshiftServerless, Snapshot, State};

impl RedshiftServerless {
    pub(super) fn create_namespace(
        &self,
        state: &mut State,
        input: &Input,
        region: &str,
    ) -> Result<Value, ApiError> {
        let name = required(input, "namespaceName")?;
        check_name("namespace", &name)?;
        if state.namespaces.contains_key(&name) {
            return Err(conflict(format!("Namespace {name} already exists")));
        }
        let managed = flag(input, "manageAdminPassword")?.unwrap_or(false);
        if managed && input.contains_key("adminUserPassword") {
            return Err(validation(
                "You can't use adminUserPassword if manageAdminPassword is true",
            ));
        }
        let id = showcase_local_aws::new_uuid();
        let account = &self.settings.account;
        let namespace = Namespace {
            arn: format!("arn:aws:redshift-serverless:{region}:{account}:namespace/{id}"),
            id,
            admin_username: text(input, "adminUsername")?.unwrap_or_else(|| "admin".into()),
            db_name: text(input, "dbName")?.unwrap_or_else(|| "dev".into()),
            iam_roles: strings(input, "iamRoles")?.unwrap_or_default(),
            default_iam_role_arn: text(input, "defaultIamRoleArn")?,
            secret_arn: managed.then(|| {
                format!(
                    "arn:aws:secretsmanager:{region}:{account}:secret:redshift!{name}-admin-AbCdEf"
                )
            }),
            created: SystemTime::now(),
            busy_until: None,
        };
        state
            .tags
            .insert(namespace.arn.clone(), tags_of(input, "tags")?);
        let answer = namespace_value(&name, &namespace, None);
        state.namespaces.insert(name, namespace);
        Ok(json!({ "namespace": answer }))
    }

    pub(super) fn update_namespace(
        &self,
        state: &mut State,
        input: &Input,
    ) -> Result<Value, ApiError> {
        let name = required(input, "namespaceName")?;
        let until = self.busy_until();
        let namespace = state
            .namespaces
            .get_mut(&name)
            .ok_or_else(|| not_found(format!("namespace {name} not found")))?;
        if namespace.busy_until.is_some() {
            return Err(conflict(format!(
                "There is an operation running on the namespace {name}: try again once it is AVAILABLE"
            )));
        }
        let user = text(input, "adminUsername")?;
        let password = text(input, "adminUserPassword")?;
        if user.is_some() != password.is_some() {
            return Err(validation(
                "You must specify both adminUsername and adminUserPassword to update either",
            ));
        }
        let managed = flag(input, "manageAdminPassword")?;
        if managed == Some(true) && password.is_some() {
            return Err(validation(
                "You can't use adminUserPassword if manageAdminPassword is true",
            ));
        }
        if let Some(roles) = strings(input, "iamRoles")? {
            namespace.iam_roles = roles;
        }
        if let Some(default) = text(input, "defaultIamRoleArn")? {
            namespace.default_iam_role_arn = Some(default);
        }
        if let Some(user) = user {
            namespace.admin_username = user;
        }
        if password.is_some() || managed == Some(false) {
            namespace.secret_arn = None;
        }
        if managed == Some(true) && namespace.secret_arn.is_none() {
            namespace.secret_arn = Some(format!(
                "{}:secret:redshift!{name}-admin-AbCdEf",
                namespace
                    .arn
                    .split(":namespace/")
                    .next()
                    .unwrap_or_default()
                    .replace("redshift-serverless", "secretsmanager")
            ));
        }
        namespace.busy_until = Some(until);
        Ok(json!({ "namespace": namespace_value(&name, namespace, None) }))
    }

    pub(super) fn delete_namespace(
        &self,
        state: &mut State,
        input: &Input,
    ) -> Result<Value, ApiError> {
        let name = required(input, "namespaceName")?;
        let Some(namespace) = state.namespaces.get(&name) else {
            return Err(not_found(format!("namespace {name} not found")));
        };
        if namespace.busy_until.is_some() {
            return Err(conflict(format!(
                "There is an operation running on the namespace {name}: try again once it is AVAILABLE"
            )));
        }
        if state.workgroups.values().any(|w| w.namespace == name) {
            return Err(conflict(format!(
                "Namespace {name} has a workgroup: delete the workgroup first"
            )));
        }
        let snapshot = text(input, "finalSnapshotName")?;
        let retention = number(input, "finalSnapshotRetentionPeriod")?.unwrap_or(-1);
        if let Some(snapshot) = &snapshot {
            if state.snapshots.contains_key(snapshot) {
                return Err(conflict(format!("Snapshot {snapshot} already exists")));
            }
            state.snapshots.insert(
                snapshot.clone(),
                Snapshot {
                    namespace: name.clone(),
                    namespace_arn: namespace.arn.clone(),
                    retention,
                    created: SystemTime::now(),
                },
            );
        }
        let Some(namespace) = state.namespaces.remove(&name) else {
            return Err(not_found(format!("namespace {name} not found")));
        };
        state.tags.remove(&namespace.arn);
        Ok(json!({ "namespace": namespace_value(&name, &namespace, Some("DELETING")) }))
    }
}
