//! The Redshift Serverless namespace the stack owns: the warehouse's data,
//! database and admin user (its password managed by AWS in Secrets Manager:
//! the tool never sees it), the COPY role attached and the default role.
//! What AWS keeps for itself (KMS key, log exports, dates) is not compared.

use std::collections::BTreeMap;

use futures_util::future::BoxFuture;

use super::{AVAILABLE, read_tags, serverless_tags, set_tags, sorted, wait_until_available};
use crate::aws::{Aws, describe, error_code};
use crate::config::Stack;
use crate::permissions::{Grant, read, write};
use crate::resources::tags::claim;
use crate::resources::{
    Address, Deleted, Discovered, FieldChange, FieldSpec, FieldValue, Fields, Handle, Kind, Live,
    Owned, Resource, ResourceError, final_snapshot,
};

pub const KIND: &str = "redshift_namespace";
const NOT_FOUND: &str = "ResourceNotFoundException";

mod field {
    pub const TAGS: &str = "tags";
    /// AVAILABLE once made or changed: anything else (a killed `up` left it
    /// coming up) is a change `up` finishes by waiting, never by making another.
    pub const STATUS: &str = "status";
    /// The ARNs of the IAM roles attached: the COPY role only.
    pub const IAM_ROLES: &str = "iam_roles";
    pub const DEFAULT_IAM_ROLE: &str = "default_iam_role";
    /// Whether Secrets Manager keeps the admin password (AWS's managed password).
    pub const MANAGED_PASSWORD: &str = "managed_admin_password";
    pub const DATABASE: &str = "database";
    pub const ADMIN_USER: &str = "admin_user";
}

/// The database and admin user are fixed at creation (a new admin user needs
/// a password, which the tool never handles): a change means a new namespace.
const FIELDS: &[FieldSpec] = &[
    FieldSpec::update(field::TAGS),
    FieldSpec::update(field::STATUS),
    FieldSpec::update(field::IAM_ROLES),
    FieldSpec::update(field::DEFAULT_IAM_ROLE),
    FieldSpec::update(field::MANAGED_PASSWORD),
    FieldSpec::replace(field::DATABASE),
    FieldSpec::replace(field::ADMIN_USER),
];

/// The namespace by its identity: what reads and deletes it.
pub struct NamespaceId {
    pub name: String,
    pub stack: String,
    /// The COPY role: made first, deleted after.
    pub depends: Vec<Address>,
}

/// What a read found: the ARN its tags go by, and whether it is busy (a
/// killed `up` resumes the wait instead of making a second one).
struct Found {
    arn: String,
    status: String,
}

pub struct Namespace {
    pub id: NamespaceId,
    pub database: String,
    pub admin_user: String,
    pub copy_role_arn: String,
    pub tags: BTreeMap<String, String>,
}

impl NamespaceId {
    async fn get(
        &self,
        aws: &Aws,
    ) -> Result<Option<aws_sdk_redshiftserverless::types::Namespace>, ResourceError> {
        match aws
            .redshiftserverless
            .get_namespace()
            .namespace_name(&self.name)
            .send()
            .await
        {
            Ok(out) => Ok(out.namespace().cloned()),
            Err(e) if error_code(&e) == Some(NOT_FOUND) => Ok(None),
            Err(e) => Err(self.error("GetNamespace", describe(&e))),
        }
    }

    /// Its status, `None` once gone.
    async fn status(&self, aws: &Aws) -> Result<Option<String>, ResourceError> {
        Ok(self.get(aws).await?.map(|n| {
            n.status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default()
        }))
    }

    async fn wait_until_available(&self, aws: &Aws) -> Result<(), ResourceError> {
        wait_until_available(
            "GetNamespace (waiting for AVAILABLE)",
            || self.status(aws),
            |op, detail| self.error(op, detail),
        )
        .await
    }

    async fn read_live(&self, aws: &Aws) -> Result<Option<Live>, ResourceError> {
        let Some(namespace) = self.get(aws).await? else {
            return Ok(None);
        };
        let status = namespace
            .status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default();
        if status == "DELETING" {
            // On its way out: for the stack it is gone (a rerun of down, say).
            return Ok(None);
        }
        let arn = namespace.namespace_arn().unwrap_or_default().to_owned();
        let tags = read_tags(aws, &arn)
            .await
            .map_err(|e| self.error("ListTagsForResource", e))?;
        let mut fields = match claim(tags, &self.stack) {
            Ok(fields) => fields,
            Err(foreign) => return Ok(Some(foreign)),
        };
        let text = |v: Option<&str>| FieldValue::Text(v.unwrap_or(super::AWS_CHOICE).to_owned());
        let roles = namespace.iam_roles().iter().map(|r| super::role_arn(r));
        fields.insert(field::IAM_ROLES, sorted(roles.collect()));
        fields.insert(
            field::DEFAULT_IAM_ROLE,
            text(namespace.default_iam_role_arn()),
        );
        fields.insert(
            field::MANAGED_PASSWORD,
            FieldValue::Bool(
                namespace
                    .admin_password_secret_arn()
                    .is_some_and(|s| !s.is_empty()),
            ),
        );
        fields.insert(field::STATUS, FieldValue::Text(status.clone()));
        fields.insert(field::DATABASE, text(namespace.db_name()));
        fields.insert(field::ADMIN_USER, text(namespace.admin_username()));
        Ok(Some(Live::ours(fields, Handle::new(Found { arn, status }))))
    }
}

impl Owned for NamespaceId {
    fn address(&self) -> Address {
        Address {
            kind: KIND,
            name: self.name.clone(),
        }
    }

    fn holds_data(&self) -> bool {
        true
    }

    fn depends_on(&self) -> Vec<Address> {
        self.depends.clone()
    }

    fn read<'a>(&'a self, aws: &'a Aws) -> BoxFuture<'a, Result<Option<Live>, ResourceError>> {
        Box::pin(self.read_live(aws))
    }

    /// After its workgroup (deleted first, and waited for: AWS refuses to
    /// delete a namespace that still has one); a final snapshot
    /// `<name>-final-<UTC time>` unless `--skip-final-snapshot`.
    fn delete<'a>(
        &'a self,
        aws: &'a Aws,
        live: &'a Live,
        delete_data: bool,
    ) -> BoxFuture<'a, Result<Deleted, ResourceError>> {
        Box::pin(async move {
            if !delete_data {
                return Ok(Deleted::KeptData);
            }
            if live
                .handle
                .get::<Found>()
                .is_some_and(|found| found.status != AVAILABLE)
            {
                self.wait_until_available(aws).await?;
            }
            let snapshot = (!final_snapshot::skipped())
                .then(|| format!("{}-final-{}", self.name, final_snapshot::utc_stamp()));
            match aws
                .redshiftserverless
                .delete_namespace()
                .namespace_name(&self.name)
                .set_final_snapshot_name(snapshot)
                .send()
                .await
            {
                Ok(_) => Ok(Deleted::Deleted),
                Err(e) if error_code(&e) == Some(NOT_FOUND) => Ok(Deleted::Deleted),
                Err(e) => Err(self.error("DeleteNamespace", describe(&e))),
            }
        })
    }
}

impl Namespace {
    async fn create_namespace(&self, aws: &Aws) -> Result<(), ResourceError> {
        let created = aws
            .redshiftserverless
            .create_namespace()
            .namespace_name(&self.id.name)
            .db_name(&self.database)
            .admin_username(&self.admin_user)
            // Secrets Manager keeps the password; the tool never sees it.
            .manage_admin_password(true)
            .iam_roles(&self.copy_role_arn)
            .default_iam_role_arn(&self.copy_role_arn)
            .set_tags(Some(serverless_tags(&self.tags)))
            .send()
            .await;
        match created {
            Ok(_) => {}
            // A killed earlier `up` made it (tagged in the same call): wait for it.
            Err(e) if error_code(&e) == Some("ConflictException") => {}
            Err(e) => return Err(self.error("CreateNamespace", describe(&e))),
        }
        self.id.wait_until_available(aws).await
    }
}

impl Resource for Namespace {
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
        fields.insert(field::IAM_ROLES, sorted(vec![self.copy_role_arn.clone()]));
        fields.insert(
            field::DEFAULT_IAM_ROLE,
            FieldValue::Text(self.copy_role_arn.clone()),
        );
        fields.insert(field::MANAGED_PASSWORD, FieldValue::Bool(true));
        fields.insert(field::DATABASE, FieldValue::Text(self.database.clone()));
        fields.insert(field::ADMIN_USER, FieldValue::Text(self.admin_user.clone()));
        fields
    }

    fn create<'a>(&'a self, aws: &'a Aws) -> BoxFuture<'a, Result<(), ResourceError>> {
        Box::pin(self.create_namespace(aws))
    }

    fn update<'a>(
        &'a self,
        aws: &'a Aws,
        live: &'a Live,
        changes: &'a [FieldChange],
    ) -> BoxFuture<'a, Result<(), ResourceError>> {
        Box::pin(async move {
            if let Some(unknown) = changes.iter().find(|c| {
                ![
                    field::TAGS,
                    field::STATUS,
                    field::IAM_ROLES,
                    field::DEFAULT_IAM_ROLE,
                    field::MANAGED_PASSWORD,
                ]
                .contains(&c.field)
            }) {
                return Err(ResourceError::not_updatable(self.address(), unknown.field));
            }
            let Some(found) = live.handle.get::<Found>() else {
                return Err(self.error("UpdateNamespace", "read without its ARN".into()));
            };
            // AWS refuses changes while it is busy (a killed `up` left it so).
            if found.status != AVAILABLE {
                self.id.wait_until_available(aws).await?;
            }
            let changed = |name: &str| changes.iter().any(|c| c.field == name);
            if changed(field::IAM_ROLES) || changed(field::DEFAULT_IAM_ROLE) {
                aws.redshiftserverless
                    .update_namespace()
                    .namespace_name(&self.id.name)
                    .iam_roles(&self.copy_role_arn)
                    .default_iam_role_arn(&self.copy_role_arn)
                    .send()
                    .await
                    .map_err(|e| self.error("UpdateNamespace", describe(&e)))?;
                self.id.wait_until_available(aws).await?;
            }
            if changed(field::MANAGED_PASSWORD) {
                aws.redshiftserverless
                    .update_namespace()
                    .namespace_name(&self.id.name)
                    .manage_admin_password(true)
                    .send()
                    .await
                    .map_err(|e| self.error("UpdateNamespace", describe(&e)))?;
                self.id.wait_until_available(aws).await?;
            }
            if let Some(change) = changes.iter().find(|c| c.field == field::TAGS) {
                set_tags(aws, &found.arn, change, |op, detail| self.error(op, detail)).await?;
            }
            Ok(())
        })
    }
}

/// One namespace of one name.
fn discover<'a>(
    _aws: &'a Aws,
    stack: &'a Stack,
) -> BoxFuture<'a, Result<Discovered, ResourceError>> {
    Box::pin(async move {
        let id: Box<dyn Owned> = Box::new(id(stack));
        Ok(vec![id])
    })
}

/// The namespace of `stack`, deleted before its COPY role.
pub fn id(stack: &Stack) -> NamespaceId {
    NamespaceId {
        name: super::name(stack),
        stack: stack.name.clone(),
        depends: vec![Address {
            kind: crate::resources::copy_role::KIND,
            name: crate::resources::copy_role::name(stack),
        }],
    }
}

pub const SPEC: Kind = Kind {
    name: KIND,
    discover,
    permissions: &[
        Grant {
            sid: "WarehouseNamespace",
            resources: |stack, account| super::arns(stack, account, "namespace"),
            operations: &[
                read(
                    "Redshift Serverless",
                    "GetNamespace",
                    &["redshift-serverless:GetNamespace"],
                ),
                read(
                    "Redshift Serverless",
                    "ListTagsForResource",
                    &["redshift-serverless:ListTagsForResource"],
                ),
                write(
                    "Redshift Serverless",
                    "CreateNamespace",
                    &[
                        "redshift-serverless:CreateNamespace",
                        "redshift-serverless:TagResource",
                    ],
                ),
                write(
                    "Redshift Serverless",
                    "UpdateNamespace",
                    &["redshift-serverless:UpdateNamespace"],
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
                    "DeleteNamespace",
                    &["redshift-serverless:DeleteNamespace"],
                ),
            ],
        },
        // The final snapshot DeleteNamespace takes.
        Grant {
            sid: "WarehouseFinalSnapshot",
            resources: |stack, account| super::arns(stack, account, "snapshot"),
            operations: &[write(
                "Redshift Serverless",
                "DeleteNamespace",
                &["redshift-serverless:CreateSnapshot"],
            )],
        },
    ],
};
