//! Who else may invoke the function. The stack grants exactly one policy
//! statement (the data API's, see [`PERMISSION_ID`]) and no function URL; any
//! other statement (a public invoke, another account) or a URL made by hand is
//! drift, and `up` removes it. A policy the tool cannot read (it does not
//! parse, or a statement has no id) is drift too: fail closed, never "no
//! foreign grants".
//!
//! [`PERMISSION_ID`]: crate::resources::data_api::PERMISSION_ID

use super::FunctionId;
use crate::aws::{Aws, describe, error_code};
use crate::resources::data_api::PERMISSION_ID;
use crate::resources::{FieldValue, Owned, ResourceError};

/// The grants besides the stack's: their statement ids, or why the policy
/// could not be read.
pub(super) type ForeignGrants = Result<Vec<String>, String>;

/// The `other_permissions` field: the statement ids the stack did not grant,
/// sorted; an unreadable policy shows as such (and differs from "none").
pub(super) fn field(grants: ForeignGrants) -> FieldValue {
    match grants {
        Ok(statement_ids) => FieldValue::Json(serde_json::json!(statement_ids)),
        Err(why) => FieldValue::Text(format!("a policy that cannot be read: {why}")),
    }
}

/// Statement ids in a policy document other than the stack's own; an error
/// when the document cannot be read whole (then nothing says it grants
/// nothing else).
fn foreign_statement_ids(policy: &str) -> ForeignGrants {
    let document: serde_json::Value =
        serde_json::from_str(policy).map_err(|e| format!("not JSON ({e})"))?;
    let statements = match &document["Statement"] {
        serde_json::Value::Array(statements) => statements.as_slice(),
        single @ serde_json::Value::Object(_) => std::slice::from_ref(single),
        _ => return Err("no Statement list".into()),
    };
    let mut ids = Vec::new();
    for statement in statements {
        let sid = statement["Sid"]
            .as_str()
            .ok_or_else(|| format!("a statement without a Sid: {statement}"))?;
        if sid != PERMISSION_ID {
            ids.push(sid.to_owned());
        }
    }
    ids.sort();
    Ok(ids)
}

/// The `function_url` field: `none`, or the live URL's auth type.
pub(super) fn url_field(auth_type: Option<&str>) -> FieldValue {
    FieldValue::Text(auth_type.map_or_else(
        || "none".to_owned(),
        |auth| format!("a URL with auth {auth}"),
    ))
}

/// The function's resource policy (`None`: it has none). One GetPolicy per
/// read phase: the function's read and the data API's both look at it.
pub async fn policy_document(aws: &Aws, function: &str) -> Result<Option<String>, String> {
    crate::aws::shared(format!("lambda:GetPolicy:{function}"), async {
        match aws.lambda.get_policy().function_name(function).send().await {
            Ok(found) => Ok(found.policy().map(str::to_owned)),
            Err(e) if error_code(&e) == Some("ResourceNotFoundException") => Ok(None),
            Err(e) => Err(describe(&e)),
        }
    })
    .await
}

impl FunctionId {
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
    ) -> Result<ForeignGrants, ResourceError> {
        Ok(policy_document(aws, &self.name)
            .await
            .map_err(|detail| self.error("GetPolicy", detail))?
            .map_or_else(|| Ok(Vec::new()), |p| foreign_statement_ids(&p)))
    }

    /// Removes every grant the stack did not make; a policy that cannot be
    /// read is an error (which statements to keep is then unknown).
    pub(super) async fn revoke_foreign_permissions(&self, aws: &Aws) -> Result<(), ResourceError> {
        let statement_ids =
            self.foreign_permissions(aws)
                .await?
                .map_err(|why| ResourceError::Invalid {
                    address: self.address(),
                    detail: format!(
                        "its resource policy cannot be read ({why}): review it with `aws lambda get-policy --function-name {}` and remove the grants the stack did not make by hand",
                        self.name
                    ),
                })?;
        for statement_id in statement_ids {
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
            foreign_statement_ids(&policy.to_string()).unwrap(),
            ["another-account", "public"]
        );
        let ours = serde_json::json!({"Statement": [{"Sid": PERMISSION_ID}]});
        assert!(foreign_statement_ids(&ours.to_string()).unwrap().is_empty());
    }

    #[test]
    fn a_policy_that_cannot_be_read_is_drift_not_an_empty_list() {
        let none = field(Ok(Vec::new()));
        for unreadable in [
            "not json",
            r#"{"Version":"2012-10-17"}"#,
            r#"{"Statement":"everyone"}"#,
            r#"{"Statement":[{"Sid":"ours-or-not","Effect":"Allow"},{"Effect":"Allow","Principal":"*"}]}"#,
        ] {
            let grants = foreign_statement_ids(unreadable);
            assert!(grants.is_err(), "{unreadable} read as {grants:?}");
            let shown = field(grants);
            assert_ne!(shown, none, "{unreadable} compared equal to no grants");
            assert!(
                shown.display().contains("cannot be read"),
                "{}",
                shown.display()
            );
        }
        // IAM-style single statement object still reads.
        let single = serde_json::json!({"Statement": {"Sid": "public", "Principal": "*"}});
        assert_eq!(
            foreign_statement_ids(&single.to_string()).unwrap(),
            ["public"]
        );
    }
}
