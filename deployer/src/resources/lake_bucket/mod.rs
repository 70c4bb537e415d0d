//! The lake bucket: private (public access block), encrypted at rest (SSE-S3),
//! TLS-only (a bucket policy denying `aws:SecureTransport = false`),
//! versioned, tagged, with optional lifecycle rules.
//!
//! Two settings stack.toml does not name decide who else gets the data:
//! object ownership (anything but BucketOwnerEnforced turns ACLs back on, so
//! a grant can open an object or the bucket to another account) and
//! replication (a copy of every object written to another bucket, possibly
//! another account's). Desired: BucketOwnerEnforced and none; a hand change
//! is drift, and `up` puts them back.

use std::collections::BTreeMap;

use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, AccessControlPolicy, BucketLifecycleConfiguration,
    BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration, Delete,
    ExpirationStatus, Grant, Grantee, LifecycleExpiration, LifecycleRule as S3Rule,
    LifecycleRuleFilter, NoncurrentVersionExpiration, ObjectIdentifier, ObjectOwnership,
    OwnershipControls, OwnershipControlsRule, Permission, PublicAccessBlockConfiguration,
    ReplicationConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule, Tag, Tagging, Type,
    VersioningConfiguration,
};
use futures_util::future::BoxFuture;
use serde_json::json;

use super::tags::claim;
use super::{
    Address, Deleted, FieldChange, FieldSpec, FieldValue, Fields, Handle, Live, Owned, Resource,
    ResourceError,
};
use super::{Discovered, Kind};
use crate::aws::{Aws, describe, error_code};
use crate::config::Stack;
use crate::config::{LakeConfig, LifecycleRule};
use crate::permissions::{Grant as PolicyGrant, read, write};

use aws_sdk_resourcegroupstagging::types::TagFilter;

pub const KIND: &str = "lake_bucket";

/// The bucket's fields, declared once.
mod field {
    pub const TAGS: &str = "tags";
    pub const VERSIONING: &str = "versioning";
    pub const ENCRYPTION: &str = "encryption";
    pub const PUBLIC_ACCESS_BLOCK: &str = "public_access_block";
    pub const POLICY: &str = "policy";
    pub const LIFECYCLE: &str = "lifecycle";
    /// S3 Object Ownership: BucketOwnerEnforced (ACLs off).
    pub const OBJECT_OWNERSHIP: &str = "object_ownership";
    /// Where objects are replicated to: none.
    pub const REPLICATION: &str = "replication";
}

const NONE: &str = "none";
/// At most this many refused keys are named in an error (then a count).
const KEYS_NAMED: usize = 10;
const ALL_BLOCKED: &str =
    "BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets";

mod live;

pub use live::{BucketId, names_tagged};

pub struct LakeBucket {
    pub id: BucketId,
    pub lake: LakeConfig,
    /// `showcase:stack` and the user's tags.
    pub tags: BTreeMap<String, String>,
}

impl LakeBucket {
    fn policy(&self) -> serde_json::Value {
        let bucket = &self.lake.bucket;
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [format!("arn:aws:s3:::{bucket}"), format!("arn:aws:s3:::{bucket}/*")],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}
            }]
        })
    }

    async fn apply(&self, aws: &Aws, name: &str) -> Result<(), ResourceError> {
        let bucket = &self.lake.bucket;
        let s3 = &aws.s3;
        match name {
            field::TAGS => {
                // S3 refuses a tag set without the bucket's `aws:` tags
                // (CloudFormation's, on a bucket adopted from the seed's stack).
                let mut tags = self.tags.clone();
                match s3.get_bucket_tagging().bucket(bucket).send().await {
                    Ok(out) => tags.extend(
                        out.tag_set()
                            .iter()
                            .filter(|t| super::tags::is_aws_reserved(t.key()))
                            .map(|t| (t.key().to_owned(), t.value().to_owned())),
                    ),
                    Err(e) if error_code(&e) == Some("NoSuchTagSet") => {}
                    Err(e) => return Err(self.error("GetBucketTagging", describe(&e))),
                }
                let tags: Vec<Tag> = tags
                    .iter()
                    .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
                    .collect();
                let tagging = Tagging::builder()
                    .set_tag_set(Some(tags))
                    .build()
                    .map_err(|e| self.error("PutBucketTagging", e.to_string()))?;
                s3.put_bucket_tagging()
                    .bucket(bucket)
                    .tagging(tagging)
                    .send()
                    .await
                    .map_err(|e| self.error("PutBucketTagging", describe(&e)))?;
            }
            field::VERSIONING => {
                let status = if self.lake.versioning {
                    BucketVersioningStatus::Enabled
                } else {
                    BucketVersioningStatus::Suspended
                };
                let configuration = VersioningConfiguration::builder().status(status).build();
                s3.put_bucket_versioning()
                    .bucket(bucket)
                    .versioning_configuration(configuration)
                    .send()
                    .await
                    .map_err(|e| self.error("PutBucketVersioning", describe(&e)))?;
            }
            field::ENCRYPTION => {
                let default = ServerSideEncryptionByDefault::builder()
                    .sse_algorithm(ServerSideEncryption::Aes256)
                    .build()
                    .map_err(|e| self.error("PutBucketEncryption", e.to_string()))?;
                let rule = ServerSideEncryptionRule::builder()
                    .apply_server_side_encryption_by_default(default)
                    .bucket_key_enabled(true)
                    .build();
                let configuration = ServerSideEncryptionConfiguration::builder()
                    .rules(rule)
                    .build()
                    .map_err(|e| self.error("PutBucketEncryption", e.to_string()))?;
                s3.put_bucket_encryption()
                    .bucket(bucket)
                    .server_side_encryption_configuration(configuration)
                    .send()
                    .await
                    .map_err(|e| self.error("PutBucketEncryption", describe(&e)))?;
            }
            field::PUBLIC_ACCESS_BLOCK => {
                let configuration = PublicAccessBlockConfiguration::builder()
                    .block_public_acls(true)
                    .ignore_public_acls(true)
                    .block_public_policy(true)
                    .restrict_public_buckets(true)
                    .build();
                s3.put_public_access_block()
                    .bucket(bucket)
                    .public_access_block_configuration(configuration)
                    .send()
                    .await
                    .map_err(|e| self.error("PutPublicAccessBlock", describe(&e)))?;
            }
            field::POLICY => {
                s3.put_bucket_policy()
                    .bucket(bucket)
                    .policy(self.policy().to_string())
                    .send()
                    .await
                    .map_err(|e| self.error("PutBucketPolicy", describe(&e)))?;
            }
            field::LIFECYCLE if self.lake.lifecycle.is_empty() => {
                s3.delete_bucket_lifecycle()
                    .bucket(bucket)
                    .send()
                    .await
                    .map_err(|e| self.error("DeleteBucketLifecycle", describe(&e)))?;
            }
            field::LIFECYCLE => {
                let rules: Vec<S3Rule> = self
                    .lake
                    .lifecycle
                    .iter()
                    .enumerate()
                    .filter_map(|(i, r)| rule_to_s3(i, r))
                    .collect();
                let configuration = BucketLifecycleConfiguration::builder()
                    .set_rules(Some(rules))
                    .build()
                    .map_err(|e| self.error("PutBucketLifecycleConfiguration", e.to_string()))?;
                s3.put_bucket_lifecycle_configuration()
                    .bucket(bucket)
                    .lifecycle_configuration(configuration)
                    .send()
                    .await
                    .map_err(|e| self.error("PutBucketLifecycleConfiguration", describe(&e)))?;
            }
            field::OBJECT_OWNERSHIP => {
                self.revoke_acl_grants(aws).await?;
                self.enforce_bucket_owner(aws).await?;
            }
            field::REPLICATION => {
                s3.delete_bucket_replication()
                    .bucket(bucket)
                    .send()
                    .await
                    .map_err(|e| self.error("DeleteBucketReplication", describe(&e)))?;
            }
            other => {
                return Err(ResourceError::not_updatable(self.address(), other));
            }
        }
        Ok(())
    }

    /// Leaves the bucket's ACL with the owner's full control only. S3 refuses
    /// BucketOwnerEnforced while it grants anyone else (ACLs are on, or
    /// ownership would not have drifted).
    async fn revoke_acl_grants(&self, aws: &Aws) -> Result<(), ResourceError> {
        let bucket = &self.lake.bucket;
        let acl = aws
            .s3
            .get_bucket_acl()
            .bucket(bucket)
            .send()
            .await
            .map_err(|e| self.error("GetBucketAcl", describe(&e)))?;
        let owner = acl
            .owner()
            .filter(|o| o.id().is_some())
            .ok_or_else(|| self.error("GetBucketAcl", "the ACL names no owner".into()))?;
        let owner_only = |grant: &Grant| {
            grant.permission() == Some(&Permission::FullControl)
                && grant.grantee().and_then(|g| g.id()) == owner.id()
        };
        if acl.grants().iter().all(owner_only) {
            return Ok(());
        }
        let grantee = Grantee::builder()
            .r#type(Type::CanonicalUser)
            .set_id(owner.id().map(str::to_owned))
            .build()
            .map_err(|e| self.error("PutBucketAcl", e.to_string()))?;
        let policy = AccessControlPolicy::builder()
            .owner(owner.clone())
            .grants(
                Grant::builder()
                    .grantee(grantee)
                    .permission(Permission::FullControl)
                    .build(),
            )
            .build();
        aws.s3
            .put_bucket_acl()
            .bucket(bucket)
            .access_control_policy(policy)
            .send()
            .await
            .map_err(|e| self.error("PutBucketAcl", describe(&e)))?;
        Ok(())
    }

    /// Object Ownership BucketOwnerEnforced: ACLs off, every object the bucket owner's.
    async fn enforce_bucket_owner(&self, aws: &Aws) -> Result<(), ResourceError> {
        let rule = OwnershipControlsRule::builder()
            .object_ownership(ObjectOwnership::BucketOwnerEnforced)
            .build()
            .map_err(|e| self.error("PutBucketOwnershipControls", e.to_string()))?;
        let controls = OwnershipControls::builder()
            .rules(rule)
            .build()
            .map_err(|e| self.error("PutBucketOwnershipControls", e.to_string()))?;
        aws.s3
            .put_bucket_ownership_controls()
            .bucket(&self.lake.bucket)
            .ownership_controls(controls)
            .send()
            .await
            .map_err(|e| self.error("PutBucketOwnershipControls", describe(&e)))?;
        Ok(())
    }
}

fn lifecycle_field(rules: &[LifecycleRule]) -> FieldValue {
    FieldValue::Json(serde_json::Value::Array(
        rules
            .iter()
            .map(|r| {
                json!({
                    "prefix": r.prefix,
                    "expire_days": r.expire_days,
                    "noncurrent_expire_days": r.noncurrent_expire_days,
                    "abort_incomplete_upload_days": r.abort_incomplete_upload_days,
                })
            })
            .collect(),
    ))
}

fn rule_from_s3(rule: &S3Rule) -> LifecycleRule {
    let days = |d: Option<i32>| d.and_then(|d| u32::try_from(d).ok());
    LifecycleRule {
        prefix: rule
            .filter()
            .and_then(|f| f.prefix())
            .unwrap_or_default()
            .to_owned(),
        expire_days: days(rule.expiration().and_then(|e| e.days())),
        noncurrent_expire_days: days(
            rule.noncurrent_version_expiration()
                .and_then(|e| e.noncurrent_days()),
        ),
        abort_incomplete_upload_days: days(
            rule.abort_incomplete_multipart_upload()
                .and_then(|a| a.days_after_initiation()),
        ),
    }
}

fn rule_to_s3(index: usize, rule: &LifecycleRule) -> Option<S3Rule> {
    let days = |d: Option<u32>| d.map(|d| d as i32);
    S3Rule::builder()
        .id(format!("showcase-{index}"))
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix(&rule.prefix).build())
        .set_expiration(
            rule.expire_days
                .map(|d| LifecycleExpiration::builder().days(d as i32).build()),
        )
        .set_noncurrent_version_expiration(days(rule.noncurrent_expire_days).map(|d| {
            NoncurrentVersionExpiration::builder()
                .noncurrent_days(d)
                .build()
        }))
        .set_abort_incomplete_multipart_upload(days(rule.abort_incomplete_upload_days).map(|d| {
            AbortIncompleteMultipartUpload::builder()
                .days_after_initiation(d)
                .build()
        }))
        .build()
        .ok()
}

const FIELDS: &[FieldSpec] = &[
    FieldSpec::update(field::TAGS),
    FieldSpec::update(field::VERSIONING),
    FieldSpec::update(field::ENCRYPTION),
    FieldSpec::update(field::PUBLIC_ACCESS_BLOCK),
    FieldSpec::update(field::POLICY),
    FieldSpec::update(field::LIFECYCLE),
    FieldSpec::update(field::OBJECT_OWNERSHIP),
    FieldSpec::update(field::REPLICATION),
];

impl Resource for LakeBucket {
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
            field::VERSIONING,
            FieldValue::Text(
                if self.lake.versioning {
                    "Enabled"
                } else {
                    "Suspended"
                }
                .to_owned(),
            ),
        );
        fields.insert(field::ENCRYPTION, FieldValue::Text("AES256".to_owned()));
        fields.insert(
            field::PUBLIC_ACCESS_BLOCK,
            FieldValue::Text(ALL_BLOCKED.to_owned()),
        );
        fields.insert(field::POLICY, FieldValue::Json(self.policy()));
        fields.insert(field::LIFECYCLE, lifecycle_field(&self.lake.lifecycle));
        fields.insert(
            field::OBJECT_OWNERSHIP,
            FieldValue::Text(ObjectOwnership::BucketOwnerEnforced.as_str().to_owned()),
        );
        fields.insert(field::REPLICATION, FieldValue::Text(NONE.into()));
        fields
    }

    fn create<'a>(&'a self, aws: &'a Aws) -> BoxFuture<'a, Result<(), ResourceError>> {
        Box::pin(async move {
            // Tagged at creation (needs s3:TagResource), so even a crash right after
            // CreateBucket leaves a bucket the next run recognises as its own. Without
            // that permission S3 refuses the tags: create untagged, tag right after.
            let tags: Vec<Tag> = self
                .tags
                .iter()
                .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
                .collect();
            let configuration = |tags: Option<Vec<Tag>>| {
                let mut configuration = CreateBucketConfiguration::builder().set_tags(tags);
                if aws.region != "us-east-1" {
                    configuration = configuration
                        .location_constraint(BucketLocationConstraint::from(aws.region.as_str()));
                }
                configuration.build()
            };
            let create = |configuration| {
                aws.s3
                    .create_bucket()
                    .bucket(&self.lake.bucket)
                    .create_bucket_configuration(configuration)
                    .send()
            };
            let created = match create(configuration(Some(tags))).await {
                Err(e) if error_code(&e) == Some("AccessDenied") => {
                    create(configuration(None)).await
                }
                other => other,
            };
            match created {
                Ok(_) => {}
                // A crashed earlier `up` may have created it; the tag check already passed.
                Err(e) if error_code(&e) == Some("BucketAlreadyOwnedByYou") => {}
                Err(e) => return Err(self.error("CreateBucket", describe(&e))),
            }
            // The tag first: from here on the bucket is recognisably ours.
            for name in [
                field::TAGS,
                field::PUBLIC_ACCESS_BLOCK,
                field::ENCRYPTION,
                field::VERSIONING,
                field::POLICY,
                field::LIFECYCLE,
            ] {
                if name == field::LIFECYCLE && self.lake.lifecycle.is_empty() {
                    continue;
                }
                self.apply(aws, name).await?;
            }
            // New buckets already have it (S3's default since April 2023); said
            // explicitly so that every S3 (and moto) reads it back the same.
            // A new bucket's ACL is private: no reset first.
            self.enforce_bucket_owner(aws).await?;
            Ok(())
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
                self.apply(aws, change.field).await?;
            }
            Ok(())
        })
    }
}

fn bucket_arn(stack: &Stack, _account: &str) -> Vec<String> {
    vec![format!("arn:aws:s3:::{}", stack.lake.bucket)]
}

fn object_arns(stack: &Stack, _account: &str) -> Vec<String> {
    vec![format!("arn:aws:s3:::{}/*", stack.lake.bucket)]
}

fn discover<'a>(
    aws: &'a Aws,
    stack: &'a Stack,
) -> BoxFuture<'a, Result<Discovered, ResourceError>> {
    Box::pin(async move {
        Ok(names_tagged(aws, &stack.name)
            .await?
            .into_iter()
            .map(|bucket| {
                Box::new(BucketId {
                    bucket,
                    stack: stack.name.clone(),
                }) as Box<dyn Owned>
            })
            .collect())
    })
}

pub const SPEC: Kind = Kind {
    name: KIND,
    discover,
    permissions: &[
        PolicyGrant {
            sid: "LakeBucket",
            resources: bucket_arn,
            operations: &[
                read("S3", "HeadBucket", &["s3:ListBucket"]),
                read("S3", "GetBucketTagging", &["s3:GetBucketTagging"]),
                read("S3", "GetBucketVersioning", &["s3:GetBucketVersioning"]),
                read(
                    "S3",
                    "GetBucketEncryption",
                    &["s3:GetEncryptionConfiguration"],
                ),
                read(
                    "S3",
                    "GetPublicAccessBlock",
                    &["s3:GetBucketPublicAccessBlock"],
                ),
                read("S3", "GetBucketPolicy", &["s3:GetBucketPolicy"]),
                read(
                    "S3",
                    "GetBucketLifecycleConfiguration",
                    &["s3:GetLifecycleConfiguration"],
                ),
                read(
                    "S3",
                    "GetBucketOwnershipControls",
                    &["s3:GetBucketOwnershipControls"],
                ),
                read(
                    "S3",
                    "GetBucketReplication",
                    &["s3:GetReplicationConfiguration"],
                ),
                // Only up reads the ACL, to clear grants before enforcing the owner.
                read("S3", "GetBucketAcl", &["s3:GetBucketAcl"]),
                // Tags at creation need s3:TagResource (without it the tool tags just after).
                write("S3", "CreateBucket", &["s3:CreateBucket", "s3:TagResource"]),
                write("S3", "PutBucketTagging", &["s3:PutBucketTagging"]),
                write("S3", "PutBucketVersioning", &["s3:PutBucketVersioning"]),
                write(
                    "S3",
                    "PutBucketEncryption",
                    &["s3:PutEncryptionConfiguration"],
                ),
                write(
                    "S3",
                    "PutPublicAccessBlock",
                    &["s3:PutBucketPublicAccessBlock"],
                ),
                write("S3", "PutBucketPolicy", &["s3:PutBucketPolicy"]),
                write(
                    "S3",
                    "PutBucketLifecycleConfiguration",
                    &["s3:PutLifecycleConfiguration"],
                ),
                write(
                    "S3",
                    "DeleteBucketLifecycle",
                    &["s3:PutLifecycleConfiguration"],
                ),
                write(
                    "S3",
                    "PutBucketOwnershipControls",
                    &["s3:PutBucketOwnershipControls"],
                ),
                write("S3", "PutBucketAcl", &["s3:PutBucketAcl"]),
                write(
                    "S3",
                    "DeleteBucketReplication",
                    &["s3:PutReplicationConfiguration"],
                ),
                write("S3", "DeleteBucket", &["s3:DeleteBucket"]),
                // Only down --delete-data lists the lake's versions: the drift role need not see the data.
                write("S3", "ListObjectVersions", &["s3:ListBucketVersions"]),
            ],
        },
        PolicyGrant {
            sid: "LakeObjects",
            resources: object_arns,
            operations: &[write(
                "S3",
                "DeleteObjects",
                &["s3:DeleteObject", "s3:DeleteObjectVersion"],
            )],
        },
    ],
};
