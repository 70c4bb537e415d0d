//! A function's CloudWatch log group, created ahead of the function so that
//! its retention is set (Lambda would otherwise create it with no expiry).
//!
//! Besides retention, two settings decide who ends up with the logs: a
//! subscription filter (a copy of every event streamed to a Lambda, Kinesis
//! or Firehose, possibly in another account) and a KMS key (whose owner can
//! make the logs unreadable and unwritable). Neither is set by the stack:
//! both are drift, and `up` removes them.

use std::collections::BTreeMap;

use futures_util::future::BoxFuture;

use super::tags::{claim, tag_delta};
use super::{
    Address, Deleted, FieldChange, FieldSpec, FieldValue, Fields, Handle, Live, Owned, Resource,
    ResourceError,
};
use super::{Discovered, Kind};
use crate::aws::{Aws, describe, error_code};
use crate::config::{FunctionName, Stack};
use crate::permissions::{Grant, listing, read, write};

pub const KIND: &str = "log_group";

/// The log group's fields, declared once.
mod field {
    pub const TAGS: &str = "tags";
    pub const RETENTION_DAYS: &str = "retention_days";
    /// `filter name → destination ARN` of each subscription filter: none.
    pub const SUBSCRIPTION_FILTERS: &str = "subscription_filters";
    /// The KMS key the group is encrypted with: none (CloudWatch's own).
    pub const KMS_KEY: &str = "kms_key";
}

const NONE: &str = "none";

/// What DescribeLogGroups says about the group.
struct Described {
    /// Without the trailing `:*` that DescribeLogGroups adds.
    arn: String,
    retention_days: Option<i32>,
    kms_key: Option<String>,
}

/// A log group by its identity: what reads and deletes it.
pub struct LogGroupId {
    /// `/aws/lambda/<function name>`.
    pub name: String,
    pub stack: String,
}

/// What a read found: the group's ARN (tags are set by ARN).
struct Found {
    arn: String,
}

pub struct LogGroup {
    pub id: LogGroupId,
    pub retention_days: u32,
    pub tags: BTreeMap<String, String>,
}

/// The region's log groups whose names start with `prefix`, all pages: one
/// listing per read phase, shared by prune's discovery and every group's read.
async fn groups_starting_with(
    aws: &Aws,
    prefix: &str,
) -> Result<Vec<aws_sdk_cloudwatchlogs::types::LogGroup>, ResourceError> {
    crate::aws::shared(format!("logs:DescribeLogGroups:{prefix}"), async {
        aws.logs
            .describe_log_groups()
            .log_group_name_prefix(prefix)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| ResourceError::listing(KIND, "DescribeLogGroups", describe(&e)))
    })
    .await
}

/// Names of the region's log groups that start with `prefix`.
pub async fn names_starting_with(aws: &Aws, prefix: &str) -> Result<Vec<String>, ResourceError> {
    Ok(groups_starting_with(aws, prefix)
        .await?
        .iter()
        .filter_map(|group| group.log_group_name())
        .map(str::to_owned)
        .collect())
}

const FIELDS: &[FieldSpec] = &[
    FieldSpec::update(field::TAGS),
    FieldSpec::update(field::RETENTION_DAYS),
    FieldSpec::update(field::SUBSCRIPTION_FILTERS),
    FieldSpec::update(field::KMS_KEY),
];

impl LogGroupId {
    /// The group as DescribeLogGroups lists it, `None` if it does not exist.
    /// Groups come in name order, so ours (a prefix of every other match)
    /// is on the first page; the pages are followed anyway until it shows.
    async fn describe(&self, aws: &Aws) -> Result<Option<Described>, ResourceError> {
        // The stack's groups share a prefix: one listing serves them all (and prune).
        let stack_prefix = format!("/aws/lambda/{}-", self.stack);
        let prefix = if self.name.starts_with(&stack_prefix) {
            stack_prefix.as_str()
        } else {
            self.name.as_str()
        };
        let groups = groups_starting_with(aws, prefix).await?;
        let Some(group) = groups
            .iter()
            .find(|g| g.log_group_name() == Some(self.name.as_str()))
        else {
            return Ok(None);
        };
        let arn = group
            .arn()
            .ok_or_else(|| self.error("DescribeLogGroups", "the log group has no ARN".into()))?;
        Ok(Some(Described {
            arn: arn.trim_end_matches(":*").to_owned(),
            retention_days: group.retention_in_days(),
            kms_key: group.kms_key_id().map(str::to_owned),
        }))
    }

    /// Every subscription filter's name and destination, all pages; none
    /// when the group does not exist.
    async fn subscription_filters(
        &self,
        aws: &Aws,
    ) -> Result<Vec<(String, String)>, ResourceError> {
        let filters = match aws
            .logs
            .describe_subscription_filters()
            .log_group_name(&self.name)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
        {
            Ok(filters) => filters,
            Err(e) if error_code(&e) == Some("ResourceNotFoundException") => Vec::new(),
            Err(e) => return Err(self.error("DescribeSubscriptionFilters", describe(&e))),
        };
        filters
            .iter()
            .map(|f| match f.filter_name() {
                Some(name) => Ok((
                    name.to_owned(),
                    f.destination_arn().unwrap_or_default().to_owned(),
                )),
                None => Err(self.error(
                    "DescribeSubscriptionFilters",
                    "a subscription filter without a name".into(),
                )),
            })
            .collect()
    }

    async fn read_live(&self, aws: &Aws) -> Result<Option<Live>, ResourceError> {
        // The filters are listed by name: alongside the describe, one round trip.
        let (described, filters) = tokio::join!(self.describe(aws), self.subscription_filters(aws));
        let Some(described) = described? else {
            return Ok(None);
        };
        let tags: BTreeMap<String, String> = match aws
            .logs
            .list_tags_for_resource()
            .resource_arn(&described.arn)
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
        if let Some(days) = described.retention_days {
            fields.insert(field::RETENTION_DAYS, FieldValue::Number(i64::from(days)));
        }
        fields.insert(field::SUBSCRIPTION_FILTERS, filters_field(filters?));
        fields.insert(
            field::KMS_KEY,
            FieldValue::Text(described.kms_key.unwrap_or_else(|| NONE.to_owned())),
        );
        Ok(Some(Live::ours(
            fields,
            Handle::new(Found { arn: described.arn }),
        )))
    }

    async fn delete_subscription_filters(&self, aws: &Aws) -> Result<(), ResourceError> {
        for (name, _) in self.subscription_filters(aws).await? {
            match aws
                .logs
                .delete_subscription_filter()
                .log_group_name(&self.name)
                .filter_name(&name)
                .send()
                .await
            {
                Ok(_) => {}
                Err(e) if error_code(&e) == Some("ResourceNotFoundException") => {}
                Err(e) => return Err(self.error("DeleteSubscriptionFilter", describe(&e))),
            }
        }
        Ok(())
    }
}

impl LogGroup {
    async fn put_retention(&self, aws: &Aws) -> Result<(), ResourceError> {
        aws.logs
            .put_retention_policy()
            .log_group_name(&self.id.name)
            .retention_in_days(self.retention_days as i32)
            .send()
            .await
            .map_err(|e| self.error("PutRetentionPolicy", describe(&e)))?;
        Ok(())
    }
}

/// The `subscription_filters` field: `name → destination`, sorted.
fn filters_field(filters: Vec<(String, String)>) -> FieldValue {
    let mut shown: Vec<String> = filters
        .into_iter()
        .map(|(name, destination)| format!("{name} → {destination}"))
        .collect();
    shown.sort();
    FieldValue::Json(serde_json::Value::from(shown))
}

impl Owned for LogGroupId {
    fn address(&self) -> Address {
        Address {
            kind: KIND,
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

impl Resource for LogGroup {
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
            field::RETENTION_DAYS,
            FieldValue::Number(i64::from(self.retention_days)),
        );
        fields.insert(field::SUBSCRIPTION_FILTERS, filters_field(Vec::new()));
        fields.insert(field::KMS_KEY, FieldValue::Text(NONE.to_owned()));
        fields
    }

    fn create<'a>(&'a self, aws: &'a Aws) -> BoxFuture<'a, Result<(), ResourceError>> {
        Box::pin(async move {
            let created = aws
                .logs
                .create_log_group()
                .log_group_name(&self.id.name)
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
        live: &'a Live,
        changes: &'a [FieldChange],
    ) -> BoxFuture<'a, Result<(), ResourceError>> {
        Box::pin(async move {
            for change in changes {
                match change.field {
                    field::RETENTION_DAYS => self.put_retention(aws).await?,
                    field::SUBSCRIPTION_FILTERS => self.id.delete_subscription_filters(aws).await?,
                    field::KMS_KEY => {
                        aws.logs
                            .disassociate_kms_key()
                            .log_group_name(&self.id.name)
                            .send()
                            .await
                            .map_err(|e| self.error("DisassociateKmsKey", describe(&e)))?;
                    }
                    field::TAGS => {
                        let arn = &live
                            .handle
                            .get::<Found>()
                            .ok_or_else(|| self.error("TagResource", "read found no ARN".into()))?
                            .arn;
                        let (set, removed) = tag_delta(change);
                        if !removed.is_empty() {
                            aws.logs
                                .untag_resource()
                                .resource_arn(arn)
                                .set_tag_keys(Some(removed))
                                .send()
                                .await
                                .map_err(|e| self.error("UntagResource", describe(&e)))?;
                        }
                        aws.logs
                            .tag_resource()
                            .resource_arn(arn)
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
}

/// `/aws/lambda/<function name>`: where Lambda writes by default.
pub fn name(stack: &Stack, function: FunctionName) -> String {
    format!("/aws/lambda/{}", super::function::name(stack, function))
}

fn arns(stack: &Stack, account: &str) -> Vec<String> {
    vec![format!(
        "arn:aws:logs:{}:{account}:log-group:/aws/lambda/{}-*",
        stack.region, stack.name
    )]
}

fn discover<'a>(
    aws: &'a Aws,
    stack: &'a Stack,
) -> BoxFuture<'a, Result<Discovered, ResourceError>> {
    Box::pin(async move {
        let prefix = format!("/aws/lambda/{}-", stack.name);
        Ok(names_starting_with(aws, &prefix)
            .await?
            .into_iter()
            .map(|name| {
                Box::new(LogGroupId {
                    name,
                    stack: stack.name.clone(),
                }) as Box<dyn Owned>
            })
            .collect())
    })
}

pub const SPEC: Kind = Kind {
    name: KIND,
    discover,
    permissions: &[Grant {
        sid: "LogGroups",
        resources: arns,
        operations: &[
            listing(
                "CloudWatch Logs",
                "DescribeLogGroups",
                &["logs:DescribeLogGroups"],
            ),
            read(
                "CloudWatch Logs",
                "ListTagsForResource",
                &["logs:ListTagsForResource"],
            ),
            read(
                "CloudWatch Logs",
                "DescribeSubscriptionFilters",
                &["logs:DescribeSubscriptionFilters"],
            ),
            write(
                "CloudWatch Logs",
                "CreateLogGroup",
                &["logs:CreateLogGroup", "logs:TagResource"],
            ),
            write(
                "CloudWatch Logs",
                "PutRetentionPolicy",
                &["logs:PutRetentionPolicy"],
            ),
            write("CloudWatch Logs", "TagResource", &["logs:TagResource"]),
            write("CloudWatch Logs", "UntagResource", &["logs:UntagResource"]),
            write(
                "CloudWatch Logs",
                "DeleteSubscriptionFilter",
                &["logs:DeleteSubscriptionFilter"],
            ),
            write(
                "CloudWatch Logs",
                "DisassociateKmsKey",
                &["logs:DisassociateKmsKey"],
            ),
            write(
                "CloudWatch Logs",
                "DeleteLogGroup",
                &["logs:DeleteLogGroup"],
            ),
        ],
    }],
};
