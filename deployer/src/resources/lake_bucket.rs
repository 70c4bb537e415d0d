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
    Address, Deleted, FieldChange, FieldValue, Fields, Live, Ownership, Resource, ResourceError,
};
use crate::aws::{Aws, describe, error_code};
use crate::config::{LakeConfig, LifecycleRule};

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

pub struct LakeBucket {
    pub lake: LakeConfig,
    pub stack: String,
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

    async fn read_live(&self, aws: &Aws) -> Result<Option<Live>, ResourceError> {
        let bucket = &self.lake.bucket;
        match aws.s3.head_bucket().bucket(bucket).send().await {
            Ok(_) => {}
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => {
                return Ok(None);
            }
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 403) => {
                return Err(self.error("HeadBucket", format!("the bucket name {bucket} is taken by another AWS account; choose another lake.bucket")));
            }
            Err(e) => return Err(self.error("HeadBucket", describe(&e))),
        }
        let tags = match aws.s3.get_bucket_tagging().bucket(bucket).send().await {
            Ok(out) => out
                .tag_set()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect(),
            Err(e) if error_code(&e) == Some("NoSuchTagSet") => BTreeMap::new(),
            Err(e) => return Err(self.error("GetBucketTagging", describe(&e))),
        };
        let mut fields = match claim(tags, &self.stack) {
            Ok(fields) => fields,
            Err(foreign) => return Ok(Some(foreign)),
        };
        let s3 = &aws.s3;
        let (versioning, encryption, access, policy, lifecycle, ownership, replication) = tokio::join!(
            s3.get_bucket_versioning().bucket(bucket).send(),
            s3.get_bucket_encryption().bucket(bucket).send(),
            s3.get_public_access_block().bucket(bucket).send(),
            s3.get_bucket_policy().bucket(bucket).send(),
            s3.get_bucket_lifecycle_configuration()
                .bucket(bucket)
                .send(),
            s3.get_bucket_ownership_controls().bucket(bucket).send(),
            s3.get_bucket_replication().bucket(bucket).send(),
        );
        let versioning = versioning.map_err(|e| self.error("GetBucketVersioning", describe(&e)))?;
        fields.insert(
            field::VERSIONING,
            FieldValue::Text(versioning.status().map_or("Off", |s| s.as_str()).to_owned()),
        );
        match encryption {
            Ok(out) => {
                let algorithm = out
                    .server_side_encryption_configuration()
                    .and_then(|c| c.rules().first())
                    .and_then(|r| r.apply_server_side_encryption_by_default())
                    .map(|d| d.sse_algorithm().as_str().to_owned());
                if let Some(algorithm) = algorithm {
                    fields.insert(field::ENCRYPTION, FieldValue::Text(algorithm));
                }
            }
            Err(e) if error_code(&e) == Some("ServerSideEncryptionConfigurationNotFoundError") => {}
            Err(e) => return Err(self.error("GetBucketEncryption", describe(&e))),
        }
        match access {
            Ok(out) => {
                if let Some(c) = out.public_access_block_configuration() {
                    let blocked: Vec<&str> = [
                        (c.block_public_acls(), "BlockPublicAcls"),
                        (c.ignore_public_acls(), "IgnorePublicAcls"),
                        (c.block_public_policy(), "BlockPublicPolicy"),
                        (c.restrict_public_buckets(), "RestrictPublicBuckets"),
                    ]
                    .into_iter()
                    .filter(|(on, _)| *on == Some(true))
                    .map(|(_, name)| name)
                    .collect();
                    fields.insert(
                        field::PUBLIC_ACCESS_BLOCK,
                        FieldValue::Text(blocked.join(", ")),
                    );
                }
            }
            Err(e) if error_code(&e) == Some("NoSuchPublicAccessBlockConfiguration") => {}
            Err(e) => return Err(self.error("GetPublicAccessBlock", describe(&e))),
        }
        match policy {
            Ok(out) => {
                if let Some(text) = out.policy() {
                    fields.insert(field::POLICY, FieldValue::json(text));
                }
            }
            Err(e) if error_code(&e) == Some("NoSuchBucketPolicy") => {}
            Err(e) => return Err(self.error("GetBucketPolicy", describe(&e))),
        }
        let rules = match lifecycle {
            Ok(out) => out.rules().iter().map(rule_from_s3).collect(),
            Err(e) if error_code(&e) == Some("NoSuchLifecycleConfiguration") => Vec::new(),
            Err(e) => return Err(self.error("GetBucketLifecycleConfiguration", describe(&e))),
        };
        fields.insert(field::LIFECYCLE, lifecycle_field(&rules));
        let ownership = match ownership {
            Ok(out) => out
                .ownership_controls()
                .and_then(|c| c.rules().first())
                .map_or(NONE, |r| r.object_ownership().as_str())
                .to_owned(),
            // No controls: ACLs apply (S3 behaves as ObjectWriter).
            Err(e) if error_code(&e) == Some("OwnershipControlsNotFoundError") => NONE.to_owned(),
            Err(e) => return Err(self.error("GetBucketOwnershipControls", describe(&e))),
        };
        fields.insert(field::OBJECT_OWNERSHIP, FieldValue::Text(ownership));
        let replication = match replication {
            Ok(out) => out
                .replication_configuration()
                .map_or_else(|| FieldValue::Text(NONE.into()), replication_field),
            Err(e) if error_code(&e) == Some("ReplicationConfigurationNotFoundError") => {
                FieldValue::Text(NONE.into())
            }
            Err(e) => return Err(self.error("GetBucketReplication", describe(&e))),
        };
        fields.insert(field::REPLICATION, replication);
        Ok(Some(Live {
            ownership: Ownership::Ours,
            fields,
        }))
    }

    async fn apply(&self, aws: &Aws, name: &str) -> Result<(), ResourceError> {
        let bucket = &self.lake.bucket;
        let s3 = &aws.s3;
        match name {
            field::TAGS => {
                let tags: Vec<Tag> = self
                    .tags
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

    /// Deletes every object version and delete marker, 1,000 at a time.
    /// Fails, naming the keys, when S3 refuses to delete any (object lock, a
    /// legal hold, a policy): listing again would find them again, for ever.
    async fn empty(&self, aws: &Aws) -> Result<(), ResourceError> {
        let bucket = &self.lake.bucket;
        loop {
            let listed = aws
                .s3
                .list_object_versions()
                .bucket(bucket)
                .send()
                .await
                .map_err(|e| self.error("ListObjectVersions", describe(&e)))?;
            let mut objects: Vec<ObjectIdentifier> = Vec::new();
            for (key, version) in listed
                .versions()
                .iter()
                .map(|v| (v.key(), v.version_id()))
                .chain(
                    listed
                        .delete_markers()
                        .iter()
                        .map(|m| (m.key(), m.version_id())),
                )
            {
                let id = key.and_then(|key| {
                    ObjectIdentifier::builder()
                        .key(key)
                        .set_version_id(version.map(str::to_owned))
                        .build()
                        .ok()
                });
                objects.extend(id);
            }
            if objects.is_empty() {
                return Ok(());
            }
            let delete = Delete::builder()
                .set_objects(Some(objects))
                .quiet(true)
                .build()
                .map_err(|e| self.error("DeleteObjects", e.to_string()))?;
            let deleted = aws
                .s3
                .delete_objects()
                .bucket(bucket)
                .delete(delete)
                .send()
                .await
                .map_err(|e| self.error("DeleteObjects", describe(&e)))?;
            refused(deleted.errors()).map_err(|detail| self.error("DeleteObjects", detail))?;
        }
    }
}

/// `Err` naming the keys S3 would not delete (the first ten, then a count),
/// with why; `Ok` when it deleted them all.
fn refused(errors: &[aws_sdk_s3::types::Error]) -> Result<(), String> {
    if errors.is_empty() {
        return Ok(());
    }
    let mut named: Vec<String> = errors
        .iter()
        .take(KEYS_NAMED)
        .map(|e| {
            let mut key = e.key().unwrap_or("(no key)").to_owned();
            if let Some(version) = e.version_id() {
                key.push_str(&format!(" (version {version})"));
            }
            let why = [e.code(), e.message()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(": ");
            if why.is_empty() {
                key
            } else {
                format!("{key}: {why}")
            }
        })
        .collect();
    if errors.len() > KEYS_NAMED {
        named.push(format!("and {} more", errors.len() - KEYS_NAMED));
    }
    Err(format!(
        "S3 refused to delete {} object version(s), so the bucket cannot be emptied (object lock or a legal hold keeps them?): {}",
        errors.len(),
        named.join("; ")
    ))
}

/// The `replication` field: the role and, per rule, its status and where it copies to.
fn replication_field(configuration: &ReplicationConfiguration) -> FieldValue {
    let mut rules: Vec<serde_json::Value> = configuration
        .rules()
        .iter()
        .map(|rule| {
            json!({
                "status": rule.status().as_str(),
                "destination_bucket": rule.destination().map(|d| d.bucket()),
                "destination_account": rule.destination().and_then(|d| d.account()),
            })
        })
        .collect();
    rules.sort_by_key(|rule| rule.to_string());
    FieldValue::Json(json!({"role": configuration.role(), "rules": rules}))
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

/// Names of the buckets that carry `stack`'s tag. S3 cannot list buckets by
/// tag, and reading every bucket's tags would cost a request per bucket in
/// the account: the Resource Groups Tagging API answers in one.
pub async fn names_tagged(aws: &Aws, stack: &str) -> Result<Vec<String>, ResourceError> {
    let filter = TagFilter::builder()
        .key(crate::config::STACK_TAG)
        .values(stack)
        .build();
    let mut names = Vec::new();
    let mut pages = aws
        .tagging
        .get_resources()
        .resource_type_filters("s3:bucket")
        .tag_filters(filter)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| ResourceError::listing(KIND, "GetResources", describe(&e)))?;
        names.extend(
            page.resource_tag_mapping_list()
                .iter()
                .filter_map(|mapping| mapping.resource_arn())
                // arn:<partition>:s3:::<bucket>
                .filter_map(|arn| arn.rsplit_once(":::").map(|(_, bucket)| bucket.to_owned())),
        );
    }
    Ok(names)
}

impl Resource for LakeBucket {
    fn address(&self) -> Address {
        Address {
            kind: KIND,
            name: self.lake.bucket.clone(),
        }
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

    fn read<'a>(&'a self, aws: &'a Aws) -> BoxFuture<'a, Result<Option<Live>, ResourceError>> {
        Box::pin(self.read_live(aws))
    }

    fn holds_data(&self) -> bool {
        true
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
        changes: &'a [FieldChange],
    ) -> BoxFuture<'a, Result<(), ResourceError>> {
        Box::pin(async move {
            for change in changes {
                self.apply(aws, change.field).await?;
            }
            Ok(())
        })
    }

    fn delete<'a>(
        &'a self,
        aws: &'a Aws,
        delete_data: bool,
    ) -> BoxFuture<'a, Result<Deleted, ResourceError>> {
        Box::pin(async move {
            if !delete_data {
                return Ok(Deleted::KeptData);
            }
            self.empty(aws).await?;
            aws.s3
                .delete_bucket()
                .bucket(&self.lake.bucket)
                .send()
                .await
                .map_err(|e| self.error("DeleteBucket", describe(&e)))?;
            Ok(Deleted::Deleted)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3::operation::delete_objects::DeleteObjectsOutput;
    use aws_sdk_s3::types::Error as KeyError;

    fn locked(key: &str) -> KeyError {
        KeyError::builder()
            .key(key)
            .version_id("v1")
            .code("AccessDenied")
            .message("Access Denied because object protected by object lock.")
            .build()
    }

    #[test]
    fn keys_s3_would_not_delete_are_named_and_end_the_emptying() {
        let all_deleted = DeleteObjectsOutput::builder().build();
        assert!(refused(all_deleted.errors()).is_ok());

        let output = DeleteObjectsOutput::builder()
            .errors(locked("raw/2024-01-01/sales.parquet"))
            .errors(KeyError::builder().key("raw/other.csv").build())
            .build();
        let error = refused(output.errors()).unwrap_err();
        assert!(
            error.contains("raw/2024-01-01/sales.parquet (version v1): AccessDenied: Access Denied because object protected by object lock.")
                && error.contains("raw/other.csv")
                && error.starts_with("S3 refused to delete 2 object version(s)"),
            "{error}"
        );

        let many = DeleteObjectsOutput::builder()
            .set_errors(Some((0..25).map(|i| locked(&format!("k{i:02}"))).collect()))
            .build();
        let error = refused(many.errors()).unwrap_err();
        assert!(error.contains("k09") && !error.contains("k10"), "{error}");
        assert!(error.ends_with("and 15 more"), "{error}");
    }
}
