//! The Redshift Serverless workgroup the stack owns: the warehouse's compute
//! (base and maximum RPUs), its network (the user's subnets and security
//! groups, or the default VPC's when `stack.toml` names none) and port; never
//! publicly accessible. Kept by `down` with its namespace unless
//! `--delete-data`: without it the namespace's data cannot be queried.
//! What AWS changes by itself (workgroup and patch versions, the endpoint's
//! address, the track) is not compared.

use std::collections::BTreeMap;

use futures_util::future::BoxFuture;

use super::{
    AVAILABLE, AWS_CHOICE, read_tags, serverless_tags, set_tags, sorted, wait_until_available,
    wait_until_gone,
};
use crate::aws::{Aws, describe, error_code};
use crate::config::{ServerlessConfig, Stack};
use crate::permissions::{Grant, read, write};
use crate::resources::tags::claim;
use crate::resources::{
    Address, Deleted, Discovered, FieldChange, FieldSpec, FieldValue, Fields, Handle, Kind, Live,
    Owned, Resource, ResourceError,
};

pub const KIND: &str = "redshift_workgroup";
const NOT_FOUND: &str = "ResourceNotFoundException";

mod field {
    pub const TAGS: &str = "tags";
    /// AVAILABLE once made or changed: anything else (a killed `up` left it
    /// coming up) is a change `up` finishes by waiting, never by making another.
    pub const STATUS: &str = "status";
    pub const BASE_CAPACITY: &str = "base_capacity";
    pub const MAX_CAPACITY: &str = "max_capacity";
    pub const PUBLICLY_ACCESSIBLE: &str = "publicly_accessible";
    pub const SUBNETS: &str = "subnets";
    pub const SECURITY_GROUPS: &str = "security_groups";
    pub const PORT: &str = "port";
    /// The namespace it serves: fixed at creation.
    pub const NAMESPACE: &str = "namespace";
}

mod live;

const FIELDS: &[FieldSpec] = &[
    FieldSpec::update(field::TAGS),
    FieldSpec::update(field::STATUS),
    FieldSpec::update(field::BASE_CAPACITY),
    FieldSpec::update(field::MAX_CAPACITY),
    FieldSpec::update(field::PUBLICLY_ACCESSIBLE),
    FieldSpec::update(field::SUBNETS),
    FieldSpec::update(field::SECURITY_GROUPS),
    FieldSpec::update(field::PORT),
    FieldSpec::replace(field::NAMESPACE),
];

/// The workgroup by its identity: what reads and deletes it.
pub struct WorkgroupId {
    pub name: String,
    pub stack: String,
    /// Its namespace: made first, deleted after.
    pub depends: Vec<Address>,
}

struct Found {
    arn: String,
    status: String,
}

pub struct Workgroup {
    pub id: WorkgroupId,
    pub namespace: String,
    pub config: ServerlessConfig,
    pub tags: BTreeMap<String, String>,
}

impl Workgroup {
    fn desired_subnets(&self) -> FieldValue {
        match &self.config.network.subnet_ids {
            ids if ids.is_empty() => FieldValue::Text(AWS_CHOICE.to_owned()),
            ids => sorted(ids.clone()),
        }
    }

    fn desired_security_groups(&self) -> FieldValue {
        match &self.config.network.security_group_ids {
            ids if ids.is_empty() => FieldValue::Text(AWS_CHOICE.to_owned()),
            ids => sorted(ids.clone()),
        }
    }

    fn desired_max_capacity(&self) -> FieldValue {
        match self.config.max_capacity {
            Some(max) => FieldValue::Number(i64::from(max)),
            None => FieldValue::Text(AWS_CHOICE.to_owned()),
        }
    }

    async fn create_workgroup(&self, aws: &Aws) -> Result<(), ResourceError> {
        let network = &self.config.network;
        let created = aws
            .redshiftserverless
            .create_workgroup()
            .workgroup_name(&self.id.name)
            .namespace_name(&self.namespace)
            .base_capacity(self.config.base_capacity as i32)
            .set_max_capacity(self.config.max_capacity.map(|m| m as i32))
            .publicly_accessible(false)
            .port(i32::from(self.config.port))
            .set_subnet_ids((!network.subnet_ids.is_empty()).then(|| network.subnet_ids.clone()))
            .set_security_group_ids(
                (!network.security_group_ids.is_empty())
                    .then(|| network.security_group_ids.clone()),
            )
            .set_tags(Some(serverless_tags(&self.tags)))
            .send()
            .await;
        match created {
            Ok(_) => {}
            // A killed earlier `up` made it (tagged in the same call): wait for it.
            Err(e) if error_code(&e) == Some("ConflictException") => {}
            Err(e) => return Err(self.error("CreateWorkgroup", describe(&e))),
        }
        self.id.wait_until_available(aws).await
    }

    /// One `UpdateWorkgroup` per field (AWS takes one parameter per request),
    /// each waited for.
    async fn update_one(&self, aws: &Aws, field: &str) -> Result<(), ResourceError> {
        let network = &self.config.network;
        let call = aws
            .redshiftserverless
            .update_workgroup()
            .workgroup_name(&self.id.name);
        let call = match field {
            field::BASE_CAPACITY => call.base_capacity(self.config.base_capacity as i32),
            field::MAX_CAPACITY => match self.config.max_capacity {
                Some(max) => call.max_capacity(max as i32),
                // Left to AWS: whatever it is, it is not compared.
                None => return Ok(()),
            },
            field::PUBLICLY_ACCESSIBLE => call.publicly_accessible(false),
            field::PORT => call.port(i32::from(self.config.port)),
            field::SUBNETS if !network.subnet_ids.is_empty() => {
                call.set_subnet_ids(Some(network.subnet_ids.clone()))
            }
            field::SECURITY_GROUPS if !network.security_group_ids.is_empty() => {
                call.set_security_group_ids(Some(network.security_group_ids.clone()))
            }
            // Left to AWS (the default VPC's): nothing to send.
            field::SUBNETS | field::SECURITY_GROUPS => return Ok(()),
            other => return Err(ResourceError::not_updatable(self.address(), other)),
        };
        call.send()
            .await
            .map_err(|e| self.error("UpdateWorkgroup", describe(&e)))?;
        self.id.wait_until_available(aws).await
    }
}

impl Resource for Workgroup {
    fn id(&self) -> &dyn Owned {
        &self.id
    }

    fn fields(&self) -> &'static [FieldSpec] {
        FIELDS
    }

    fn desired(&self) -> Fields {
        let mut fields = Fields::new();
        fields.insert(field::TAGS, FieldValue::Map(self.tags.clone()));
        fields.insert(field::STATUS, FieldValue::Text(AVAILABLE.to_owned()));
        fields.insert(
            field::BASE_CAPACITY,
            FieldValue::Number(i64::from(self.config.base_capacity)),
        );
        fields.insert(field::MAX_CAPACITY, self.desired_max_capacity());
        fields.insert(field::PUBLICLY_ACCESSIBLE, FieldValue::Bool(false));
        fields.insert(field::SUBNETS, self.desired_subnets());
        fields.insert(field::SECURITY_GROUPS, self.desired_security_groups());
        fields.insert(field::PORT, FieldValue::Number(i64::from(self.config.port)));
        fields.insert(field::NAMESPACE, FieldValue::Text(self.namespace.clone()));
        fields
    }

    /// What `stack.toml` leaves to AWS (the default VPC's subnets and
    /// security group, the maximum capacity) is AWS's to pick: not drift.
    fn read<'a>(&'a self, aws: &'a Aws) -> BoxFuture<'a, Result<Option<Live>, ResourceError>> {
        Box::pin(async move {
            let mut live = self.id.read_live(aws).await?;
            if let Some(live) = live.as_mut().filter(|l| !l.fields.is_empty()) {
                let aws_choice = FieldValue::Text(AWS_CHOICE.to_owned());
                if self.config.network.subnet_ids.is_empty() {
                    live.fields.insert(field::SUBNETS, aws_choice.clone());
                }
                if self.config.network.security_group_ids.is_empty() {
                    live.fields
                        .insert(field::SECURITY_GROUPS, aws_choice.clone());
                }
                if self.config.max_capacity.is_none() {
                    live.fields.insert(field::MAX_CAPACITY, aws_choice);
                }
            }
            Ok(live)
        })
    }

    fn create<'a>(&'a self, aws: &'a Aws) -> BoxFuture<'a, Result<(), ResourceError>> {
        Box::pin(self.create_workgroup(aws))
    }

    fn update<'a>(
        &'a self,
        aws: &'a Aws,
        live: &'a Live,
        changes: &'a [FieldChange],
    ) -> BoxFuture<'a, Result<(), ResourceError>> {
        Box::pin(async move {
            let Some(found) = live.handle.get::<Found>() else {
                return Err(self.error("UpdateWorkgroup", "read without its ARN".into()));
            };
            // AWS refuses changes while it is busy (a killed `up` left it so).
            if found.status != AVAILABLE {
                self.id.wait_until_available(aws).await?;
            }
            // Public access first: the one that widens who can reach the data.
            let mut ordered: Vec<&FieldChange> = changes.iter().collect();
            ordered.sort_by_key(|c| c.field != field::PUBLICLY_ACCESSIBLE);
            for change in ordered {
                if change.field == field::TAGS {
                    set_tags(aws, &found.arn, change, |op, detail| self.error(op, detail)).await?;
                } else if change.field == field::STATUS {
                    // Waited for above.
                } else {
                    self.update_one(aws, change.field).await?;
                }
            }
            Ok(())
        })
    }
}

/// The workgroup of `stack`, deleted before its namespace.
pub fn id(stack: &Stack) -> WorkgroupId {
    WorkgroupId {
        name: super::name(stack),
        stack: stack.name.clone(),
        depends: vec![Address {
            kind: super::namespace::KIND,
            name: super::name(stack),
        }],
    }
}

fn discover<'a>(
    _aws: &'a Aws,
    stack: &'a Stack,
) -> BoxFuture<'a, Result<Discovered, ResourceError>> {
    Box::pin(async move {
        let id: Box<dyn Owned> = Box::new(id(stack));
        Ok(vec![id])
    })
}

pub const SPEC: Kind = Kind {
    name: KIND,
    discover,
    permissions: &[Grant {
        sid: "WarehouseWorkgroup",
        resources: |stack, account| super::arns(stack, account, "workgroup"),
        operations: &[
            read(
                "Redshift Serverless",
                "GetWorkgroup",
                &["redshift-serverless:GetWorkgroup"],
            ),
            read(
                "Redshift Serverless",
                "ListTagsForResource",
                &["redshift-serverless:ListTagsForResource"],
            ),
            write(
                "Redshift Serverless",
                "CreateWorkgroup",
                &[
                    "redshift-serverless:CreateWorkgroup",
                    "redshift-serverless:TagResource",
                ],
            ),
            write(
                "Redshift Serverless",
                "UpdateWorkgroup",
                &["redshift-serverless:UpdateWorkgroup"],
            ),
            write(
                "Redshift Serverless",
                "TagResource",
                &["redshift-serverless:TagResource"],
            ),
            write(
                "Redshift Serverless",
                "UntagResource",
                &["redshift-serverless:UntagResource"],
            ),
            write(
                "Redshift Serverless",
                "DeleteWorkgroup",
                &["redshift-serverless:DeleteWorkgroup"],
            ),
        ],
    }],
};
