//! The provisioned Redshift cluster the stack owns (`[warehouse] kind =
//! "cluster"`): encrypted, never publicly accessible, its admin password
//! managed by AWS in Secrets Manager (the tool never sees it), the COPY role
//! attached. It holds the warehouse's data: never deleted or replaced
//! without `--delete-data`, and then only after a final snapshot.
//!
//! What AWS changes by itself (revision, patch version, maintenance
//! bookkeeping, the endpoint's address) is not compared: only what
//! `stack.toml` decides, and what would widen access (public access,
//! encryption, attached roles).

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_redshift::client::Waiters;
use aws_sdk_redshift::types::Tag;
use futures_util::future::BoxFuture;

use super::tags::{claim, tag_delta};
use super::{
    Address, Deleted, Discovered, FieldChange, FieldSpec, FieldValue, Fields, Handle, Kind, Live,
    Owned, Resource, ResourceError,
};
use crate::aws::{Aws, describe, error_code};
use crate::config::{ClusterConfig, Stack};
use crate::permissions::{Grant, read, write};

pub const KIND: &str = "redshift_cluster";
const NONE: &str = "none";
/// How long `up` waits for a new or changed cluster (AWS: usually 5–15 minutes).
const AVAILABLE_WITHIN: Duration = Duration::from_secs(45 * 60);

/// The cluster's fields, declared once.
mod field {
    pub const TAGS: &str = "tags";
    pub const NODE_TYPE: &str = "node_type";
    pub const NODES: &str = "nodes";
    pub const ENCRYPTED: &str = "encrypted";
    pub const PUBLICLY_ACCESSIBLE: &str = "publicly_accessible";
    /// The ARNs of the IAM roles attached: the COPY role only.
    pub const IAM_ROLES: &str = "iam_roles";
    pub const SUBNET_GROUP: &str = "subnet_group";
    pub const SECURITY_GROUPS: &str = "security_groups";
    pub const PORT: &str = "port";
    pub const DATABASE: &str = "database";
    pub const ADMIN_USER: &str = "admin_user";
    pub const SNAPSHOT_RETENTION_DAYS: &str = "snapshot_retention_days";
    pub const MAINTENANCE_WINDOW: &str = "maintenance_window";
}

/// The database, its admin user and the subnet group are fixed at creation:
/// changing them means a new cluster (and, without a restore, losing the data).
const FIELDS: &[FieldSpec] = &[
    FieldSpec::update(field::TAGS),
    FieldSpec::update(field::NODE_TYPE),
    FieldSpec::update(field::NODES),
    FieldSpec::update(field::ENCRYPTED),
    FieldSpec::update(field::PUBLICLY_ACCESSIBLE),
    FieldSpec::update(field::IAM_ROLES),
    FieldSpec::replace(field::SUBNET_GROUP),
    FieldSpec::update(field::SECURITY_GROUPS),
    FieldSpec::update(field::PORT),
    FieldSpec::replace(field::DATABASE),
    FieldSpec::replace(field::ADMIN_USER),
    FieldSpec::update(field::SNAPSHOT_RETENTION_DAYS),
    FieldSpec::update(field::MAINTENANCE_WINDOW),
];

mod live;

/// `<stack>-warehouse`.
pub fn name(stack: &Stack) -> String {
    format!("{}-warehouse", stack.name)
}

/// The cluster by its identity: what reads and deletes it.
pub struct ClusterId {
    pub name: String,
    pub stack: String,
    /// What must exist first (and go after it): the COPY role, the subnet group.
    pub depends: Vec<Address>,
}

/// What a read found: whether the cluster is still coming up (a killed `up`
/// resumes the wait instead of creating a second one).
struct Found {
    status: String,
}

pub struct Cluster {
    pub id: ClusterId,
    pub config: ClusterConfig,
    pub database: String,
    /// The COPY role's ARN, attached to the cluster.
    pub copy_role_arn: String,
    /// The stack's subnet group, `None` for the account's default VPC.
    pub subnet_group: Option<String>,
    pub region: String,
    pub account: String,
    pub tags: BTreeMap<String, String>,
}

fn sorted(mut items: Vec<String>) -> FieldValue {
    items.sort();
    FieldValue::Json(serde_json::Value::from(items))
}

impl Cluster {
    fn arn(&self) -> String {
        format!(
            "arn:aws:redshift:{}:{}:cluster:{}",
            self.region, self.account, self.id.name
        )
    }

    fn redshift_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
        tags.iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect()
    }

    async fn create_cluster(&self, aws: &Aws) -> Result<(), ResourceError> {
        let single = self.config.nodes == 1;
        let created = aws
            .redshift
            .create_cluster()
            .cluster_identifier(&self.id.name)
            .node_type(&self.config.node_type)
            .cluster_type(if single { "single-node" } else { "multi-node" })
            .set_number_of_nodes((!single).then_some(self.config.nodes as i32))
            .db_name(&self.database)
            .master_username(&self.config.admin_user)
            // Secrets Manager keeps the password; the tool never sees it.
            .manage_master_password(true)
            .port(i32::from(self.config.port))
            .encrypted(true)
            .publicly_accessible(false)
            .iam_roles(&self.copy_role_arn)
            .set_cluster_subnet_group_name(self.subnet_group.clone())
            .set_vpc_security_group_ids(
                (!self.config.network.security_group_ids.is_empty())
                    .then(|| self.config.network.security_group_ids.clone()),
            )
            .automated_snapshot_retention_period(self.config.snapshot_retention_days as i32)
            .set_preferred_maintenance_window(self.config.maintenance_window.clone())
            .set_tags(Some(Self::redshift_tags(&self.tags)))
            .send()
            .await;
        match created {
            Ok(_) => {}
            // A killed earlier `up` created it (tagged in the same call): wait for it.
            Err(e) if error_code(&e) == Some("ClusterAlreadyExists") => {}
            Err(e) => return Err(self.error("CreateCluster", describe(&e))),
        }
        self.id.wait_until_available(aws).await
    }

    async fn modify(
        &self,
        aws: &Aws,
        changed: &(dyn Fn(&str) -> bool + Sync),
    ) -> Result<(), ResourceError> {
        let single = self.config.nodes == 1;
        let resize = changed(field::NODE_TYPE) || changed(field::NODES);
        aws.redshift
            .modify_cluster()
            .cluster_identifier(&self.id.name)
            .set_node_type(resize.then(|| self.config.node_type.clone()))
            .set_cluster_type(
                resize.then(|| if single { "single-node" } else { "multi-node" }.to_owned()),
            )
            .set_number_of_nodes((resize && !single).then_some(self.config.nodes as i32))
            .set_encrypted(changed(field::ENCRYPTED).then_some(true))
            .set_publicly_accessible(changed(field::PUBLICLY_ACCESSIBLE).then_some(false))
            .set_vpc_security_group_ids(
                changed(field::SECURITY_GROUPS)
                    .then(|| self.config.network.security_group_ids.clone()),
            )
            .set_port(changed(field::PORT).then_some(i32::from(self.config.port)))
            .set_automated_snapshot_retention_period(
                changed(field::SNAPSHOT_RETENTION_DAYS)
                    .then_some(self.config.snapshot_retention_days as i32),
            )
            .set_preferred_maintenance_window(
                changed(field::MAINTENANCE_WINDOW)
                    .then(|| self.config.maintenance_window.clone())
                    .flatten(),
            )
            .send()
            .await
            .map_err(|e| self.error("ModifyCluster", describe(&e)))?;
        self.id.wait_until_available(aws).await
    }

    /// Attaches the COPY role and detaches every other.
    async fn set_roles(&self, aws: &Aws, change: &FieldChange) -> Result<(), ResourceError> {
        let live: Vec<String> = match &change.live {
            Some(FieldValue::Json(serde_json::Value::Array(roles))) => roles
                .iter()
                .filter_map(|r| r.as_str().map(str::to_owned))
                .collect(),
            Some(FieldValue::Json(serde_json::Value::String(role))) => vec![role.clone()],
            _ => Vec::new(),
        };
        let remove: Vec<String> = live
            .iter()
            .filter(|r| **r != self.copy_role_arn)
            .cloned()
            .collect();
        let add = (!live.contains(&self.copy_role_arn)).then(|| vec![self.copy_role_arn.clone()]);
        aws.redshift
            .modify_cluster_iam_roles()
            .cluster_identifier(&self.id.name)
            .set_add_iam_roles(add)
            .set_remove_iam_roles((!remove.is_empty()).then_some(remove))
            .send()
            .await
            .map_err(|e| self.error("ModifyClusterIamRoles", describe(&e)))?;
        self.id.wait_until_available(aws).await
    }
}

impl Resource for Cluster {
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
            field::NODE_TYPE,
            FieldValue::Text(self.config.node_type.clone()),
        );
        fields.insert(
            field::NODES,
            FieldValue::Number(i64::from(self.config.nodes)),
        );
        fields.insert(field::ENCRYPTED, FieldValue::Bool(true));
        fields.insert(field::PUBLICLY_ACCESSIBLE, FieldValue::Bool(false));
        fields.insert(field::IAM_ROLES, sorted(vec![self.copy_role_arn.clone()]));
        fields.insert(
            field::SUBNET_GROUP,
            FieldValue::Text(self.subnet_group.clone().unwrap_or_else(|| NONE.to_owned())),
        );
        fields.insert(
            field::SECURITY_GROUPS,
            sorted(self.config.network.security_group_ids.clone()),
        );
        fields.insert(field::PORT, FieldValue::Number(i64::from(self.config.port)));
        fields.insert(field::DATABASE, FieldValue::Text(self.database.clone()));
        fields.insert(
            field::ADMIN_USER,
            FieldValue::Text(self.config.admin_user.clone()),
        );
        fields.insert(
            field::SNAPSHOT_RETENTION_DAYS,
            FieldValue::Number(i64::from(self.config.snapshot_retention_days)),
        );
        fields.insert(
            field::MAINTENANCE_WINDOW,
            FieldValue::Text(
                self.config
                    .maintenance_window
                    .clone()
                    .unwrap_or_else(|| NONE.to_owned()),
            ),
        );
        fields
    }

    /// A maintenance window stack.toml leaves to AWS is AWS's to pick (and
    /// move): whatever it is, it is not drift.
    fn read<'a>(&'a self, aws: &'a Aws) -> BoxFuture<'a, Result<Option<Live>, ResourceError>> {
        Box::pin(async move {
            let mut live = self.id.read_live(aws).await?;
            if self.config.maintenance_window.is_none()
                && let Some(live) = live
                    .as_mut()
                    .filter(|l| l.fields.contains_key(field::MAINTENANCE_WINDOW))
            {
                live.fields
                    .insert(field::MAINTENANCE_WINDOW, FieldValue::Text(NONE.to_owned()));
            }
            Ok(live)
        })
    }

    fn create<'a>(&'a self, aws: &'a Aws) -> BoxFuture<'a, Result<(), ResourceError>> {
        Box::pin(self.create_cluster(aws))
    }

    fn update<'a>(
        &'a self,
        aws: &'a Aws,
        live: &'a Live,
        changes: &'a [FieldChange],
    ) -> BoxFuture<'a, Result<(), ResourceError>> {
        Box::pin(async move {
            if let Some(unknown) = changes
                .iter()
                .find(|c| !FIELDS.iter().any(|f| f.name == c.field))
            {
                return Err(ResourceError::not_updatable(self.address(), unknown.field));
            }
            // A cluster a killed `up` left coming up: wait for it before changing it.
            if live
                .handle
                .get::<Found>()
                .is_some_and(|found| found.status != "available")
            {
                self.id.wait_until_available(aws).await?;
            }
            let changed = |name: &str| changes.iter().any(|c| c.field == name);
            // An unset maintenance window is AWS's choice: nothing to send.
            let window_is_ours =
                changed(field::MAINTENANCE_WINDOW) && self.config.maintenance_window.is_some();
            let modified = [
                field::NODE_TYPE,
                field::NODES,
                field::ENCRYPTED,
                field::PUBLICLY_ACCESSIBLE,
                field::SECURITY_GROUPS,
                field::PORT,
                field::SNAPSHOT_RETENTION_DAYS,
            ]
            .iter()
            .any(|f| changed(f))
                || window_is_ours;
            if modified {
                self.modify(aws, &changed).await?;
            }
            if let Some(change) = changes.iter().find(|c| c.field == field::IAM_ROLES) {
                self.set_roles(aws, change).await?;
            }
            if let Some(change) = changes.iter().find(|c| c.field == field::TAGS) {
                let (set, removed) = tag_delta(change);
                if !removed.is_empty() {
                    aws.redshift
                        .delete_tags()
                        .resource_name(self.arn())
                        .set_tag_keys(Some(removed))
                        .send()
                        .await
                        .map_err(|e| self.error("DeleteTags", describe(&e)))?;
                }
                aws.redshift
                    .create_tags()
                    .resource_name(self.arn())
                    .set_tags(Some(Self::redshift_tags(&set)))
                    .send()
                    .await
                    .map_err(|e| self.error("CreateTags", describe(&e)))?;
            }
            Ok(())
        })
    }
}

fn arns(stack: &Stack, account: &str) -> Vec<String> {
    vec![
        format!(
            "arn:aws:redshift:{}:{account}:cluster:{}",
            stack.region,
            name(stack)
        ),
        // The final snapshot `down --delete-data` takes.
        format!(
            "arn:aws:redshift:{}:{account}:snapshot:{}/{}-final-*",
            stack.region,
            name(stack),
            name(stack)
        ),
    ]
}

/// One cluster of one name.
fn discover<'a>(
    _aws: &'a Aws,
    stack: &'a Stack,
) -> BoxFuture<'a, Result<Discovered, ResourceError>> {
    Box::pin(async move {
        let id: Box<dyn Owned> = Box::new(ClusterId {
            name: name(stack),
            stack: stack.name.clone(),
            // Deleted before its role and subnet group, if they go too.
            depends: vec![
                Address {
                    kind: super::copy_role::KIND,
                    name: super::copy_role::name(stack),
                },
                Address {
                    kind: super::subnet_group::KIND,
                    name: super::subnet_group::name(stack),
                },
            ],
        });
        Ok(vec![id])
    })
}

pub const SPEC: Kind = Kind {
    name: KIND,
    discover,
    permissions: &[Grant {
        sid: "WarehouseCluster",
        resources: arns,
        operations: &[
            read(
                "Redshift",
                "DescribeClusters",
                &["redshift:DescribeClusters"],
            ),
            write(
                "Redshift",
                "CreateCluster",
                &["redshift:CreateCluster", "redshift:CreateTags"],
            ),
            write("Redshift", "ModifyCluster", &["redshift:ModifyCluster"]),
            write(
                "Redshift",
                "ModifyClusterIamRoles",
                &["redshift:ModifyClusterIamRoles"],
            ),
            write("Redshift", "CreateTags", &["redshift:CreateTags"]),
            write("Redshift", "DeleteTags", &["redshift:DeleteTags"]),
            write(
                "Redshift",
                "DeleteCluster",
                &["redshift:DeleteCluster", "redshift:CreateClusterSnapshot"],
            ),
        ],
    }],
};
