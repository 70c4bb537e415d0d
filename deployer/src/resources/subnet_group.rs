//! The cluster subnet group the stack makes from `[warehouse] subnet_ids`:
//! which of the user's subnets the cluster lives in.

use std::collections::BTreeMap;

use aws_sdk_redshift::types::Tag;
use futures_util::future::BoxFuture;

use super::tags::{claim, tag_delta};
use super::{
    Address, Deleted, Discovered, FieldChange, FieldSpec, FieldValue, Fields, Handle, Kind, Live,
    Owned, Resource, ResourceError,
};
use crate::aws::{Aws, describe, error_code};
use crate::config::Stack;
use crate::permissions::{Grant, read, write};

pub const KIND: &str = "warehouse_subnet_group";

mod field {
    pub const TAGS: &str = "tags";
    pub const SUBNETS: &str = "subnets";
}

const FIELDS: &[FieldSpec] = &[
    FieldSpec::update(field::TAGS),
    FieldSpec::update(field::SUBNETS),
];

/// `<stack>-warehouse`.
pub fn name(stack: &Stack) -> String {
    format!("{}-warehouse", stack.name)
}

pub struct SubnetGroupId {
    pub name: String,
    pub stack: String,
}

pub struct SubnetGroup {
    pub id: SubnetGroupId,
    pub subnet_ids: Vec<String>,
    pub region: String,
    pub account: String,
    pub tags: BTreeMap<String, String>,
}

fn subnets_field(mut ids: Vec<String>) -> FieldValue {
    ids.sort();
    FieldValue::Json(serde_json::Value::from(ids))
}

fn redshift_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

impl SubnetGroupId {
    async fn read_live(&self, aws: &Aws) -> Result<Option<Live>, ResourceError> {
        let found = match aws
            .redshift
            .describe_cluster_subnet_groups()
            .cluster_subnet_group_name(&self.name)
            .send()
            .await
        {
            Ok(out) => out
                .cluster_subnet_groups()
                .iter()
                .find(|g| g.cluster_subnet_group_name() == Some(self.name.as_str()))
                .cloned(),
            Err(e) if error_code(&e) == Some("ClusterSubnetGroupNotFoundFault") => None,
            Err(e) => return Err(self.error("DescribeClusterSubnetGroups", describe(&e))),
        };
        let Some(group) = found else { return Ok(None) };
        let tags: BTreeMap<String, String> = group
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned())))
            .collect();
        let mut fields = match claim(tags, &self.stack) {
            Ok(fields) => fields,
            Err(foreign) => return Ok(Some(foreign)),
        };
        let subnets = group
            .subnets()
            .iter()
            .filter_map(|s| s.subnet_identifier())
            .map(str::to_owned)
            .collect();
        fields.insert(field::SUBNETS, subnets_field(subnets));
        Ok(Some(Live::ours(fields, Handle::default())))
    }
}

impl Owned for SubnetGroupId {
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
                .redshift
                .delete_cluster_subnet_group()
                .cluster_subnet_group_name(&self.name)
                .send()
                .await
            {
                Ok(_) => Ok(Deleted::Deleted),
                Err(e) if error_code(&e) == Some("ClusterSubnetGroupNotFoundFault") => {
                    Ok(Deleted::Deleted)
                }
                Err(e) => Err(self.error("DeleteClusterSubnetGroup", describe(&e))),
            }
        })
    }
}

impl Resource for SubnetGroup {
    fn id(&self) -> &dyn Owned {
        &self.id
    }

    fn fields(&self) -> &'static [FieldSpec] {
        FIELDS
    }

    fn desired(&self) -> Fields {
        let mut fields = Fields::new();
        fields.insert(field::TAGS, FieldValue::Map(self.tags.clone()));
        fields.insert(field::SUBNETS, subnets_field(self.subnet_ids.clone()));
        fields
    }

    fn create<'a>(&'a self, aws: &'a Aws) -> BoxFuture<'a, Result<(), ResourceError>> {
        Box::pin(async move {
            match aws
                .redshift
                .create_cluster_subnet_group()
                .cluster_subnet_group_name(&self.id.name)
                .description(format!(
                    "showcase-deploy: the warehouse of stack {}",
                    self.id.stack
                ))
                .set_subnet_ids(Some(self.subnet_ids.clone()))
                .set_tags(Some(redshift_tags(&self.tags)))
                .send()
                .await
            {
                Ok(_) => Ok(()),
                Err(e) if error_code(&e) == Some("ClusterSubnetGroupAlreadyExists") => Ok(()),
                Err(e) => Err(self.error("CreateClusterSubnetGroup", describe(&e))),
            }
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
                    field::SUBNETS => {
                        aws.redshift
                            .modify_cluster_subnet_group()
                            .cluster_subnet_group_name(&self.id.name)
                            .set_subnet_ids(Some(self.subnet_ids.clone()))
                            .send()
                            .await
                            .map_err(|e| self.error("ModifyClusterSubnetGroup", describe(&e)))?;
                    }
                    field::TAGS => {
                        let arn = format!(
                            "arn:aws:redshift:{}:{}:subnetgroup:{}",
                            self.region, self.account, self.id.name
                        );
                        let (set, removed) = tag_delta(change);
                        if !removed.is_empty() {
                            aws.redshift
                                .delete_tags()
                                .resource_name(&arn)
                                .set_tag_keys(Some(removed))
                                .send()
                                .await
                                .map_err(|e| self.error("DeleteTags", describe(&e)))?;
                        }
                        aws.redshift
                            .create_tags()
                            .resource_name(&arn)
                            .set_tags(Some(redshift_tags(&set)))
                            .send()
                            .await
                            .map_err(|e| self.error("CreateTags", describe(&e)))?;
                    }
                    other => return Err(ResourceError::not_updatable(self.address(), other)),
                }
            }
            Ok(())
        })
    }
}

fn arns(stack: &Stack, account: &str) -> Vec<String> {
    vec![format!(
        "arn:aws:redshift:{}:{account}:subnetgroup:{}",
        stack.region,
        name(stack)
    )]
}

fn discover<'a>(
    _aws: &'a Aws,
    stack: &'a Stack,
) -> BoxFuture<'a, Result<Discovered, ResourceError>> {
    Box::pin(async move {
        let id: Box<dyn Owned> = Box::new(SubnetGroupId {
            name: name(stack),
            stack: stack.name.clone(),
        });
        Ok(vec![id])
    })
}

pub const SPEC: Kind = Kind {
    name: KIND,
    discover,
    permissions: &[Grant {
        sid: "WarehouseSubnetGroup",
        resources: arns,
        operations: &[
            read(
                "Redshift",
                "DescribeClusterSubnetGroups",
                &["redshift:DescribeClusterSubnetGroups"],
            ),
            write(
                "Redshift",
                "CreateClusterSubnetGroup",
                &["redshift:CreateClusterSubnetGroup", "redshift:CreateTags"],
            ),
            write(
                "Redshift",
                "ModifyClusterSubnetGroup",
                &["redshift:ModifyClusterSubnetGroup"],
            ),
            write(
                "Redshift",
                "DeleteClusterSubnetGroup",
                &["redshift:DeleteClusterSubnetGroup"],
            ),
            write("Redshift", "CreateTags", &["redshift:CreateTags"]),
            write("Redshift", "DeleteTags", &["redshift:DeleteTags"]),
        ],
    }],
};
