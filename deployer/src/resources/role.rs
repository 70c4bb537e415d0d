//! An IAM role a service assumes, with one inline least-privilege policy:
//! what the function roles and the warehouse's COPY role are made of. Two
//! kinds share it (`function_role`, `copy_role`); each says which service
//! may assume it and what its policy allows.
//!
//! Settings the kinds do not name still have a desired value: no managed
//! policy attached, no inline policy but ours, no permissions boundary. One
//! added by hand is drift, and `up` takes it away.

use std::collections::BTreeMap;

use aws_sdk_iam::types::Tag;
use futures_util::future::BoxFuture;
use serde_json::json;

use super::tags::{claim, tag_delta};
use super::{
    Address, Deleted, FieldChange, FieldSpec, FieldValue, Fields, Handle, Live, Owned, Resource,
    ResourceError,
};
use crate::aws::{Aws, describe, error_code};
use crate::permissions::{Operation, listing, read, write};

const POLICY_NAME: &str = "least-privilege";

/// The role's fields, declared once.
mod field {
    pub const TAGS: &str = "tags";
    pub const TRUST_POLICY: &str = "trust_policy";
    /// Our inline policy's document.
    pub const POLICY: &str = "policy";
    /// The names of every inline policy: ours only.
    pub const INLINE_POLICIES: &str = "inline_policies";
    /// The ARNs of attached managed policies: none.
    pub const MANAGED_POLICIES: &str = "managed_policies";
    /// The permissions boundary's ARN: none.
    pub const PERMISSIONS_BOUNDARY: &str = "permissions_boundary";
}

const NONE: &str = "none";

/// A role by its identity: what reads and deletes it.
pub struct RoleId {
    /// Which kind of role (`function_role`, `copy_role`).
    pub kind: &'static str,
    /// e.g. `showcase-extractor-role`.
    pub name: String,
    pub stack: String,
}

pub struct ServiceRole {
    pub id: RoleId,
    /// The one service that may assume it, e.g. `lambda.amazonaws.com`.
    pub service: &'static str,
    pub tags: BTreeMap<String, String>,
    /// The inline policy document.
    pub policy: serde_json::Value,
}

/// Names of the account's roles that start with `prefix`.
pub async fn names_starting_with(aws: &Aws, prefix: &str) -> Result<Vec<String>, ResourceError> {
    let mut names = Vec::new();
    let mut pages = aws.iam.list_roles().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| ResourceError::listing("role", "ListRoles", describe(&e)))?;
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

/// `service` may assume the role; nothing else.
pub fn trust_policy(service: &str) -> serde_json::Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]
    })
}

/// IAM returns policy documents URL-encoded.
fn decode(document: &str) -> FieldValue {
    let decoded = percent_encoding::percent_decode_str(document).decode_utf8_lossy();
    FieldValue::json(&decoded)
}

/// A list of names or ARNs as a field value, sorted.
fn list_field(mut items: Vec<String>) -> FieldValue {
    items.sort();
    FieldValue::Json(serde_json::Value::from(items))
}

const FIELDS: &[FieldSpec] = &[
    FieldSpec::update(field::TAGS),
    FieldSpec::update(field::TRUST_POLICY),
    FieldSpec::update(field::POLICY),
    FieldSpec::update(field::INLINE_POLICIES),
    FieldSpec::update(field::MANAGED_POLICIES),
    FieldSpec::update(field::PERMISSIONS_BOUNDARY),
];

impl RoleId {
    async fn read_live(&self, aws: &Aws) -> Result<Option<Live>, ResourceError> {
        // All four at once (one round trip): the lists are only used once
        // GetRole says the role exists and is ours.
        let (role, policy, inline, managed) = tokio::join!(
            aws.iam.get_role().role_name(&self.name).send(),
            aws.iam
                .get_role_policy()
                .role_name(&self.name)
                .policy_name(POLICY_NAME)
                .send(),
            self.inline_policy_names(aws),
            self.managed_policy_arns(aws),
        );
        let role = match role {
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
            fields.insert(field::TRUST_POLICY, decode(document));
        }
        match policy {
            Ok(out) => {
                fields.insert(field::POLICY, decode(out.policy_document()));
            }
            Err(e) if error_code(&e) == Some("NoSuchEntity") => {}
            Err(e) => return Err(self.error("GetRolePolicy", describe(&e))),
        }
        fields.insert(field::INLINE_POLICIES, list_field(inline?));
        fields.insert(field::MANAGED_POLICIES, list_field(managed?));
        let boundary = role
            .permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn())
            .unwrap_or(NONE);
        fields.insert(
            field::PERMISSIONS_BOUNDARY,
            FieldValue::Text(boundary.to_owned()),
        );
        Ok(Some(Live::ours(fields, Handle::default())))
    }

    /// Every inline policy's name, all pages.
    async fn inline_policy_names(&self, aws: &Aws) -> Result<Vec<String>, ResourceError> {
        aws.iam
            .list_role_policies()
            .role_name(&self.name)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| self.error("ListRolePolicies", describe(&e)))
    }

    /// Every attached managed policy's ARN, all pages.
    async fn managed_policy_arns(&self, aws: &Aws) -> Result<Vec<String>, ResourceError> {
        let attached = aws
            .iam
            .list_attached_role_policies()
            .role_name(&self.name)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| self.error("ListAttachedRolePolicies", describe(&e)))?;
        attached
            .iter()
            .map(|policy| {
                policy.policy_arn().map(str::to_owned).ok_or_else(|| {
                    self.error(
                        "ListAttachedRolePolicies",
                        "an attached policy without an ARN".into(),
                    )
                })
            })
            .collect()
    }

    /// Deletes every inline policy but ours (all of them with `keep_ours` false).
    async fn delete_inline_policies(
        &self,
        aws: &Aws,
        keep_ours: bool,
    ) -> Result<(), ResourceError> {
        for policy in self.inline_policy_names(aws).await? {
            if keep_ours && policy == POLICY_NAME {
                continue;
            }
            match aws
                .iam
                .delete_role_policy()
                .role_name(&self.name)
                .policy_name(&policy)
                .send()
                .await
            {
                Ok(_) => {}
                Err(e) if error_code(&e) == Some("NoSuchEntity") => {}
                Err(e) => return Err(self.error("DeleteRolePolicy", describe(&e))),
            }
        }
        Ok(())
    }

    /// Detaches every managed policy.
    async fn detach_managed_policies(&self, aws: &Aws) -> Result<(), ResourceError> {
        for arn in self.managed_policy_arns(aws).await? {
            match aws
                .iam
                .detach_role_policy()
                .role_name(&self.name)
                .policy_arn(&arn)
                .send()
                .await
            {
                Ok(_) => {}
                Err(e) if error_code(&e) == Some("NoSuchEntity") => {}
                Err(e) => return Err(self.error("DetachRolePolicy", describe(&e))),
            }
        }
        Ok(())
    }
}

impl ServiceRole {
    async fn put_policy(&self, aws: &Aws) -> Result<(), ResourceError> {
        aws.iam
            .put_role_policy()
            .role_name(&self.id.name)
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

impl Owned for RoleId {
    fn address(&self) -> Address {
        Address {
            kind: self.kind,
            name: self.name.clone(),
        }
    }

    fn read<'a>(&'a self, aws: &'a Aws) -> BoxFuture<'a, Result<Option<Live>, ResourceError>> {
        Box::pin(self.read_live(aws))
    }

    fn delete<'a>(
        &'a self,
        aws: &'a Aws,
        _live: &'a Live,
        _delete_data: bool,
    ) -> BoxFuture<'a, Result<Deleted, ResourceError>> {
        Box::pin(async move {
            // IAM refuses DeleteRole while any policy is attached or inline.
            tokio::try_join!(
                self.detach_managed_policies(aws),
                self.delete_inline_policies(aws, false),
            )?;
            match aws.iam.delete_role().role_name(&self.name).send().await {
                Ok(_) => Ok(Deleted::Deleted),
                // Gone already: an earlier attempt took effect and its answer was lost.
                Err(e) if error_code(&e) == Some("NoSuchEntity") => Ok(Deleted::Deleted),
                Err(e) => Err(self.error("DeleteRole", describe(&e))),
            }
        })
    }
}

impl Resource for ServiceRole {
    fn id(&self) -> &dyn Owned {
        &self.id
    }

    fn fields(&self) -> &'static [FieldSpec] {
        FIELDS
    }

    fn desired(&self) -> Fields {
        let mut fields = Fields::new();
        fields.insert(field::TAGS, FieldValue::Map(self.tags.clone()));
        fields.insert(
            field::TRUST_POLICY,
            FieldValue::Json(trust_policy(self.service)),
        );
        fields.insert(field::POLICY, FieldValue::Json(self.policy.clone()));
        fields.insert(field::INLINE_POLICIES, list_field(vec![POLICY_NAME.into()]));
        fields.insert(field::MANAGED_POLICIES, list_field(Vec::new()));
        fields.insert(
            field::PERMISSIONS_BOUNDARY,
            FieldValue::Text(NONE.to_owned()),
        );
        fields
    }

    fn create<'a>(&'a self, aws: &'a Aws) -> BoxFuture<'a, Result<(), ResourceError>> {
        Box::pin(async move {
            // Tagged in the same call: a crash right after still leaves a role we recognise.
            let created = aws
                .iam
                .create_role()
                .role_name(&self.id.name)
                .assume_role_policy_document(trust_policy(self.service).to_string())
                .description(format!(
                    "showcase-deploy: {} (stack {})",
                    self.id.name, self.id.stack
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
        _live: &'a Live,
        changes: &'a [FieldChange],
    ) -> BoxFuture<'a, Result<(), ResourceError>> {
        Box::pin(async move {
            for change in changes {
                match change.field {
                    field::POLICY => self.put_policy(aws).await?,
                    field::INLINE_POLICIES => self.id.delete_inline_policies(aws, true).await?,
                    field::MANAGED_POLICIES => self.id.detach_managed_policies(aws).await?,
                    field::PERMISSIONS_BOUNDARY => {
                        match aws
                            .iam
                            .delete_role_permissions_boundary()
                            .role_name(&self.id.name)
                            .send()
                            .await
                        {
                            Ok(_) => {}
                            Err(e) if error_code(&e) == Some("NoSuchEntity") => {}
                            Err(e) => {
                                return Err(
                                    self.error("DeleteRolePermissionsBoundary", describe(&e))
                                );
                            }
                        }
                    }
                    field::TRUST_POLICY => {
                        aws.iam
                            .update_assume_role_policy()
                            .role_name(&self.id.name)
                            .policy_document(trust_policy(self.service).to_string())
                            .send()
                            .await
                            .map_err(|e| self.error("UpdateAssumeRolePolicy", describe(&e)))?;
                    }
                    field::TAGS => {
                        let (set, removed) = tag_delta(change);
                        if !removed.is_empty() {
                            aws.iam
                                .untag_role()
                                .role_name(&self.id.name)
                                .set_tag_keys(Some(removed))
                                .send()
                                .await
                                .map_err(|e| self.error("UntagRole", describe(&e)))?;
                        }
                        aws.iam
                            .tag_role()
                            .role_name(&self.id.name)
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
}

/// What a role kind sends to IAM (each kind's grant names its own roles).
pub const OPERATIONS: &[Operation] = &[
    listing("IAM", "ListRoles", &["iam:ListRoles"]),
    read("IAM", "GetRole", &["iam:GetRole"]),
    read("IAM", "ListRolePolicies", &["iam:ListRolePolicies"]),
    read("IAM", "GetRolePolicy", &["iam:GetRolePolicy"]),
    read(
        "IAM",
        "ListAttachedRolePolicies",
        &["iam:ListAttachedRolePolicies"],
    ),
    write("IAM", "CreateRole", &["iam:CreateRole", "iam:TagRole"]),
    write("IAM", "PutRolePolicy", &["iam:PutRolePolicy"]),
    write("IAM", "TagRole", &["iam:TagRole"]),
    write("IAM", "UntagRole", &["iam:UntagRole"]),
    write(
        "IAM",
        "UpdateAssumeRolePolicy",
        &["iam:UpdateAssumeRolePolicy"],
    ),
    write("IAM", "DeleteRolePolicy", &["iam:DeleteRolePolicy"]),
    write("IAM", "DetachRolePolicy", &["iam:DetachRolePolicy"]),
    write(
        "IAM",
        "DeleteRolePermissionsBoundary",
        &["iam:DeleteRolePermissionsBoundary"],
    ),
    write("IAM", "DeleteRole", &["iam:DeleteRole"]),
];
