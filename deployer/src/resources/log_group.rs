//! A function's CloudWatch log group, created ahead of the function so that
//! its retention is set (Lambda would otherwise create it with no expiry).

use std::collections::BTreeMap;

use futures_util::future::BoxFuture;

use super::tags::{claim, tag_delta};
use super::{Address, Deleted, FieldChange, FieldValue, Fields, Live, Resource, ResourceError};
use crate::aws::{Aws, describe, error_code};

pub const KIND: &str = "log_group";

pub struct LogGroup {
    /// `/aws/lambda/<function name>`.
    pub name: String,
    pub stack: String,
    pub retention_days: u32,
    pub tags: BTreeMap<String, String>,
}

/// Names of the region's log groups that start with `prefix`.
pub async fn names_starting_with(aws: &Aws, prefix: &str) -> Result<Vec<String>, ResourceError> {
    let mut names = Vec::new();
    let mut pages = aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix(prefix)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page =
            page.map_err(|e| ResourceError::listing(KIND, "DescribeLogGroups", describe(&e)))?;
        names.extend(
            page.log_groups()
                .iter()
                .filter_map(|group| group.log_group_name())
                .map(str::to_owned),
        );
    }
    Ok(names)
}

impl LogGroup {
    /// The group's ARN without the trailing `:*` that DescribeLogGroups adds.
    async fn arn(&self, aws: &Aws) -> Result<Option<(String, Option<i32>)>, ResourceError> {
        let found = aws
            .logs
            .describe_log_groups()
            .log_group_name_prefix(&self.name)
            .send()
            .await
            .map_err(|e| self.error("DescribeLogGroups", describe(&e)))?;
        Ok(found
            .log_groups()
            .iter()
            .find(|g| g.log_group_name() == Some(self.name.as_str()))
            .map(|g| {
                (
                    g.arn()
                        .unwrap_or_default()
                        .trim_end_matches(":*")
                        .to_owned(),
                    g.retention_in_days(),
                )
            }))
    }

    async fn read_live(&self, aws: &Aws) -> Result<Option<Live>, ResourceError> {
        let Some((arn, retention)) = self.arn(aws).await? else {
            return Ok(None);
        };
        let tags: BTreeMap<String, String> = match aws
            .logs
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
        {
            Ok(out) => out
                .tags()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .collect(),
            Err(e) if error_code(&e) == Some("ResourceNotFoundException") => BTreeMap::new(),
            Err(e) => return Err(self.error("ListTagsForResource", describe(&e))),
        };
        let mut fields = match claim(tags, &self.stack) {
            Ok(fields) => fields,
            Err(foreign) => return Ok(Some(foreign)),
        };
        if let Some(days) = retention {
            fields.insert("retention_days", FieldValue::Number(i64::from(days)));
        }
        Ok(Some(Live {
            ownership: super::Ownership::Ours,
            fields,
        }))
    }

    async fn put_retention(&self, aws: &Aws) -> Result<(), ResourceError> {
        aws.logs
            .put_retention_policy()
            .log_group_name(&self.name)
            .retention_in_days(self.retention_days as i32)
            .send()
            .await
            .map_err(|e| self.error("PutRetentionPolicy", describe(&e)))?;
        Ok(())
    }
}

impl Resource for LogGroup {
    fn address(&self) -> Address {
        Address {
            kind: KIND,
            name: self.name.clone(),
        }
    }

    fn desired(&self) -> Fields {
        let mut fields = Fields::new();
        fields.insert("tags", FieldValue::Map(self.tags.clone()));
        fields.insert(
            "retention_days",
            FieldValue::Number(i64::from(self.retention_days)),
        );
        fields
    }

    fn read<'a>(&'a self, aws: &'a Aws) -> BoxFuture<'a, Result<Option<Live>, ResourceError>> {
        Box::pin(self.read_live(aws))
    }

    fn create<'a>(&'a self, aws: &'a Aws) -> BoxFuture<'a, Result<(), ResourceError>> {
        Box::pin(async move {
            let created = aws
                .logs
                .create_log_group()
                .log_group_name(&self.name)
                .set_tags(Some(self.tags.clone().into_iter().collect()))
                .send()
                .await;
            match created {
                Ok(_) => {}
                Err(e) if error_code(&e) == Some("ResourceAlreadyExistsException") => {}
                Err(e) => return Err(self.error("CreateLogGroup", describe(&e))),
            }
            self.put_retention(aws).await
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
                    "retention_days" => self.put_retention(aws).await?,
                    "tags" => {
                        let Some((arn, _)) = self.arn(aws).await? else {
                            continue;
                        };
                        let (set, removed) = tag_delta(change);
                        if !removed.is_empty() {
                            aws.logs
                                .untag_resource()
                                .resource_arn(&arn)
                                .set_tag_keys(Some(removed))
                                .send()
                                .await
                                .map_err(|e| self.error("UntagResource", describe(&e)))?;
                        }
                        aws.logs
                            .tag_resource()
                            .resource_arn(&arn)
                            .set_tags(Some(set.into_iter().collect()))
                            .send()
                            .await
                            .map_err(|e| self.error("TagResource", describe(&e)))?;
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
            match aws
                .logs
                .delete_log_group()
                .log_group_name(&self.name)
                .send()
                .await
            {
                Ok(_) => Ok(Deleted::Deleted),
                Err(e) if error_code(&e) == Some("ResourceNotFoundException") => {
                    Ok(Deleted::Deleted)
                }
                Err(e) => Err(self.error("DeleteLogGroup", describe(&e))),
            }
        })
    }
}
