//! Workgroups: create, update (one parameter a request), delete.

use std::time::SystemTime;

use serde_json::{Value, json};

use super::input::*;
use super::shapes::workgroup_value;
use super::{DEFAULT_SECURITY_GROUP, DEFAULT_SUBNETS, RedshiftServerless, State, Workgroup};

impl RedshiftServerless {
    pub(super) fn create_workgroup(
        &self,
        state: &mut State,
        input: &Input,
        region: &str,
    ) -> Result<Value, ApiError> {
        let name = required(input, "workgroupName")?;
        check_name("workgroup", &name)?;
        let namespace = required(input, "namespaceName")?;
        if state.workgroups.contains_key(&name) {
            return Err(conflict(format!("Workgroup {name} already exists")));
        }
        if !state.namespaces.contains_key(&namespace) {
            return Err(not_found(format!("namespace {namespace} not found")));
        }
        if state.workgroups.values().any(|w| w.namespace == namespace) {
            return Err(conflict(format!(
                "Namespace {namespace} already has a workgroup"
            )));
        }
        let base = number(input, "baseCapacity")?.unwrap_or(128);
        let max = number(input, "maxCapacity")?;
        check_capacity(base, max)?;
        let port = number(input, "port")?.unwrap_or(5439);
        check_port(port)?;
        let subnet_ids = strings(input, "subnetIds")?
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| DEFAULT_SUBNETS.iter().map(|s| (*s).to_owned()).collect());
        let security_group_ids = strings(input, "securityGroupIds")?
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| vec![DEFAULT_SECURITY_GROUP.to_owned()]);
        let id = showcase_local_aws::new_uuid();
        let workgroup = Workgroup {
            arn: format!(
                "arn:aws:redshift-serverless:{region}:{}:workgroup/{id}",
                self.settings.account
            ),
            id,
            namespace,
            base_capacity: base,
            max_capacity: max,
            subnet_ids,
            security_group_ids,
            publicly_accessible: flag(input, "publiclyAccessible")?.unwrap_or(false),
            port,
            created: SystemTime::now(),
            busy: Some(("CREATING", self.busy_until())),
        };
        state
            .tags
            .insert(workgroup.arn.clone(), tags_of(input, "tags")?);
        let answer = workgroup_value(&name, &workgroup);
        state.workgroups.insert(name, workgroup);
        Ok(json!({ "workgroup": answer }))
    }

    pub(super) fn update_workgroup(
        &self,
        state: &mut State,
        input: &Input,
    ) -> Result<Value, ApiError> {
        let name = required(input, "workgroupName")?;
        let until = self.busy_until();
        let workgroup = state
            .workgroups
            .get_mut(&name)
            .ok_or_else(|| not_found(format!("workgroup {name} not found")))?;
        if workgroup.busy.is_some() {
            return Err(conflict(format!(
                "There is an operation running on the workgroup {name}: try again once it is AVAILABLE"
            )));
        }
        let parameters: Vec<&String> = input.keys().filter(|k| *k != "workgroupName").collect();
        if parameters.len() > 1 {
            return Err(validation(
                "You can't update multiple parameters in one request",
            ));
        }
        let base = number(input, "baseCapacity")?.unwrap_or(workgroup.base_capacity);
        let max = match number(input, "maxCapacity")? {
            Some(max) => Some(max),
            None => workgroup.max_capacity,
        };
        check_capacity(base, max)?;
        if let Some(port) = number(input, "port")? {
            check_port(port)?;
            workgroup.port = port;
        }
        workgroup.base_capacity = base;
        workgroup.max_capacity = max;
        if let Some(public) = flag(input, "publiclyAccessible")? {
            workgroup.publicly_accessible = public;
        }
        if let Some(subnets) = strings(input, "subnetIds")? {
            workgroup.subnet_ids = subnets;
        }
        if let Some(groups) = strings(input, "securityGroupIds")? {
            workgroup.security_group_ids = groups;
        }
        workgroup.busy = Some(("MODIFYING", until));
        Ok(json!({ "workgroup": workgroup_value(&name, workgroup) }))
    }

    pub(super) fn delete_workgroup(
        &self,
        state: &mut State,
        input: &Input,
    ) -> Result<Value, ApiError> {
        let name = required(input, "workgroupName")?;
        let until = self.busy_until();
        let workgroup = state
            .workgroups
            .get_mut(&name)
            .ok_or_else(|| not_found(format!("workgroup {name} not found")))?;
        if workgroup.busy.is_some() {
            return Err(conflict(format!(
                "There is an operation running on the workgroup {name}: try again once it is AVAILABLE"
            )));
        }
        workgroup.busy = Some(("DELETING", until));
        Ok(json!({ "workgroup": workgroup_value(&name, workgroup) }))
    }
}
