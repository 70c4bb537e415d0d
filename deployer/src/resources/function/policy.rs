//! Who else may invoke the function. The stack grants exactly one policy
//! statement (the data API's, see [`PERMISSION_ID`]) and no function URL; any
//! other statement (a public invoke, another account) or a URL made by hand is
//! drift, and `up` removes it.
//!
//! [`PERMISSION_ID`]: crate::resources::data_api::PERMISSION_ID

use super::Function;
use crate::aws::{Aws, describe, error_code};
use crate::resources::data_api::PERMISSION_ID;
use crate::resources::{FieldValue, Resource, ResourceError};

/// The `other_permissions` field: the statement ids the stack did not grant, sorted.
pub(super) fn field(statement_ids: Vec<String>) -> FieldValue {
    FieldValue::Json(serde_json::json!(statement_ids))
}

/// Statement ids in a policy document other than the stack's own.
fn foreign_statement_ids(policy: &str) -> Vec<String> {
    let document: serde_json::Value = serde_json::from_str(policy).unwrap_or_default();
    let mut ids: Vec<String> = document["Statement"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|statement| statement["Sid"].as_str())
        .filter(|sid| *sid != PERMISSION_ID)
        .map(str::to_owned)
        .collect();
    ids.sort();
    ids
}

/// The `function_url` field: `none`, or the live URL's auth type.
pub(super) fn url_field(auth_type: Option<&str>) -> FieldValue {
    FieldValue::Text(auth_type.map_or_else(
        || "none".to_owned(),
        |auth| format!("a URL with auth {auth}"),
    ))
}

impl Function {
    /// The auth type of the function's URL, if it has one.
    pub(super) async fn url_auth_type(&self, aws: &Aws) -> Result<Option<String>, ResourceError> {
        match aws
            .lambda
            .get_function_url_config()
            .function_name(&self.name)
            .send()
            .await
        {
            Ok(found) => Ok(Some(found.auth_type().as_str().to_owned())),
            Err(e) if error_code(&e) == Some("ResourceNotFoundException") => Ok(None),
            Err(e) => Err(self.error("GetFunctionUrlConfig", describe(&e))),
        }
    }

    pub(super) async fn delete_url(&self, aws: &Aws) -> Result<(), ResourceError> {
        match aws
            .lambda
            .delete_function_url_config()
            .function_name(&self.name)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if error_code(&e) == Some("ResourceNotFoundException") => Ok(()),
            Err(e) => Err(self.error("DeleteFunctionUrlConfig", describe(&e))),
        }
    }

    /// The grants besides the stack's (none when the function has no policy).
    pub(super) async fn foreign_permissions(
        &self,
        aws: &Aws,
    ) -> Result<Vec<String>, ResourceError> {
        match aws
            .lambda
            .get_policy()
            .function_name(&self.name)
            .send()
            .await
        {
            Ok(found) => Ok(found
                .policy()
                .map(foreign_statement_ids)
                .unwrap_or_default()),
            Err(e) if error_code(&e) == Some("ResourceNotFoundException") => Ok(Vec::new()),
            Err(e) => Err(self.error("GetPolicy", describe(&e))),
        }
    }

    /// Removes every grant the stack did not make.
    pub(super) async fn revoke_foreign_permissions(&self, aws: &Aws) -> Result<(), ResourceError> {
        for statement_id in self.foreign_permissions(aws).await? {
            aws.lambda
                .remove_permission()
                .function_name(&self.name)
                .statement_id(statement_id)
                .send()
                .await
                .map_err(|e| self.error("RemovePermission", describe(&e)))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_statements_the_stack_did_not_grant_are_foreign() {
        let policy = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": PERMISSION_ID, "Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"}},
                {"Sid": "public", "Effect": "Allow", "Principal": "*"},
                {"Sid": "another-account", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}},
            ]
        });
        assert_eq!(
            foreign_statement_ids(&policy.to_string()),
            ["another-account", "public"]
        );
        assert!(foreign_statement_ids("not json").is_empty());
    }
}
