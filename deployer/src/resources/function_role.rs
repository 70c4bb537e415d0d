//! One IAM role per function, with one inline least-privilege policy: the
//! extractor may only write under the lake prefix; the API function may only
//! write its own logs.

use std::collections::BTreeMap;

use aws_sdk_iam::types::Tag;
use futures_util::future::BoxFuture;
use serde_json::json;

use super::tags::{claim, tag_delta};
use super::{Address, Deleted, FieldChange, FieldValue, Fields, Live, Resource, ResourceError};
use crate::aws::{Aws, describe, error_code};

pub const KIND: &str = "function_role";
const POLICY_NAME: &str = "least-privilege";

pub struct FunctionRole {
    /// e.g. `showcase-extractor-role`.
    pub name: String,
    pub stack: String,
    pub tags: BTreeMap<String, String>,
    /// The inline policy document.
    pub policy: serde_json::Value,
}

/// Names of the account's roles that start with `prefix`.
pub async fn names_starting_with(aws: &Aws, prefix: &str) -> Result<Vec<String>, ResourceError> {
    let mut names = Vec::new();
    let mut pages = aws.iam.list_roles().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| ResourceError::listing(KIND, "ListRoles", describe(&e)))?;
        names.extend(
            page.roles()
                .iter()
                .map(|role| role.role_name())
                .filter(|name| name.starts_with(prefix))
                .map(str::to_owned),
        );
    }
    Ok(names)
}

/// Lambda may assume the role; nothing else.
pub fn trust_policy() -> serde_json::Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    })
}

/// IAM returns policy documents URL-encoded.
fn decode(document: &str) -> FieldValue {
    let decoded = percent_encoding::percent_decode_str(document).decode_utf8_lossy();
    FieldValue::json(&decoded)
}

impl FunctionRole {
    async fn read_live(&self, aws: &Aws) -> Result<Option<Live>, ResourceError> {
        let role = match aws.iam.get_role().role_name(&self.name).send().await {
            Ok(out) => out.role,
            Err(e) if error_code(&e) == Some("NoSuchEntity") => return Ok(None),
            Err(e) => return Err(self.error("GetRole", describe(&e))),
        };
        let Some(role) = role else { return Ok(None) };
        let tags: BTreeMap<String, String> = role
            .tags()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect();
        let mut fields = match claim(tags, &self.stack) {
            Ok(fields) => fields,
            Err(foreign) => return Ok(Some(foreign)),
        };
        if let Some(document) = role.assume_role_policy_document() {
            fields.insert("trust_policy", decode(document));
        }
        match aws
            .iam
            .get_role_policy()
            .role_name(&self.name)
            .policy_name(POLICY_NAME)
            .send()
            .await
        {
            Ok(out) => {
                fields.insert("policy", decode(out.policy_document()));
            }
            Err(e) if error_code(&e) == Some("NoSuchEntity") => {}
            Err(e) => return Err(self.error("GetRolePolicy", describe(&e))),
        }
        Ok(Some(Live {
            ownership: super::Ownership::Ours,
            fields,
        }))
    }

    async fn put_policy(&self, aws: &Aws) -> Result<(), ResourceError> {
        aws.iam
            .put_role_policy()
            .role_name(&self.name)
            .policy_name(POLICY_NAME)
            .policy_document(self.policy.to_string())
            .send()
            .await
            .map_err(|e| self.error("PutRolePolicy", describe(&e)))?;
        Ok(())
    }

    fn iam_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
        tags.iter()
            .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
            .collect()
    }
}

impl Resource for FunctionRole {
    fn address(&self) -> Address {
        Address {
            kind: KIND,
            name: self.name.clone(),
        }
    }

    fn desired(&self) -> Fields {
        let mut fields = Fields::new();
        fields.insert("tags", FieldValue::Map(self.tags.clone()));
        fields.insert("trust_policy", FieldValue::Json(trust_policy()));
        fields.insert("policy", FieldValue::Json(self.policy.clone()));
        fields
    }

    fn read<'a>(&'a self, aws: &'a Aws) -> BoxFuture<'a, Result<Option<Live>, ResourceError>> {
        Box::pin(self.read_live(aws))
    }

    fn create<'a>(&'a self, aws: &'a Aws) -> BoxFuture<'a, Result<(), ResourceError>> {
        Box::pin(async move {
            // Tagged in the same call: a crash right after still leaves a role we recognise.
            let created = aws
                .iam
                .create_role()
                .role_name(&self.name)
                .assume_role_policy_document(trust_policy().to_string())
                .description(format!(
                    "showcase-deploy: {} (stack {})",
                    self.name, self.stack
                ))
                .set_tags(Some(Self::iam_tags(&self.tags)))
                .send()
                .await;
            match created {
                Ok(_) => {}
                Err(e) if error_code(&e) == Some("EntityAlreadyExists") => {}
                Err(e) => return Err(self.error("CreateRole", describe(&e))),
            }
            self.put_policy(aws).await
        })
    }

    fn update<'a>(
        &'a self,
        aws: &'a Aws,
        changes: &'a [FieldChange],
    ) -> BoxFuture<'a, Result<(), ResourceError>> {
        Box::pin(async move {
            for change in changes {
                match change.field {
                    "policy" => self.put_policy(aws).await?,
                    "trust_policy" => {
                        aws.iam
                            .update_assume_role_policy()
                            .role_name(&self.name)
                            .policy_document(trust_policy().to_string())
                            .send()
                            .await
                            .map_err(|e| self.error("UpdateAssumeRolePolicy", describe(&e)))?;
                    }
                    "tags" => {
                        let (set, removed) = tag_delta(change);
                        if !removed.is_empty() {
                            aws.iam
                                .untag_role()
                                .role_name(&self.name)
                                .set_tag_keys(Some(removed))
                                .send()
                                .await
                                .map_err(|e| self.error("UntagRole", describe(&e)))?;
                        }
                        aws.iam
                            .tag_role()
                            .role_name(&self.name)
                            .set_tags(Some(Self::iam_tags(&set)))
                            .send()
                            .await
                            .map_err(|e| self.error("TagRole", describe(&e)))?;
                    }
                    other => {
                        return Err(ResourceError::not_updatable(self.address(), other));
                    }
                }
            }
            Ok(())
        })
    }

    fn delete<'a>(
        &'a self,
        aws: &'a Aws,
        _delete_data: bool,
    ) -> BoxFuture<'a, Result<Deleted, ResourceError>> {
        Box::pin(async move {
            let policies = aws
                .iam
                .list_role_policies()
                .role_name(&self.name)
                .send()
                .await
                .map_err(|e| self.error("ListRolePolicies", describe(&e)))?;
            for policy in policies.policy_names() {
                aws.iam
                    .delete_role_policy()
                    .role_name(&self.name)
                    .policy_name(policy)
                    .send()
                    .await
                    .map_err(|e| self.error("DeleteRolePolicy", describe(&e)))?;
            }
            aws.iam
                .delete_role()
                .role_name(&self.name)
                .send()
                .await
                .map_err(|e| self.error("DeleteRole", describe(&e)))?;
            Ok(Deleted::Deleted)
        })
    }
}
