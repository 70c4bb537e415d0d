//! The lake bucket by its identity: reading it, emptying it, deleting it,
//! and finding the stack's buckets for prune.

use super::*;

/// The bucket by its identity: what reads and deletes it.
pub struct BucketId {
    pub bucket: String,
    pub stack: String,
}

impl BucketId {
    async fn read_live(&self, aws: &Aws) -> Result<Option<Live>, ResourceError> {
        let bucket = &self.bucket;
        let s3 = &aws.s3;
        // Every read at once (one round trip); the answers are looked at in
        // order: a bucket that is missing or not ours is never compared.
        let (
            head,
            tagging,
            versioning,
            encryption,
            access,
            policy,
            lifecycle,
            ownership,
            replication,
        ) = tokio::join!(
            s3.head_bucket().bucket(bucket).send(),
            s3.get_bucket_tagging().bucket(bucket).send(),
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
        match head {
            Ok(_) => {}
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => {
                return Ok(None);
            }
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 403) => {
                return Err(self.error("HeadBucket", format!("the bucket name {bucket} is taken by another AWS account; choose another lake.bucket")));
            }
            Err(e) => return Err(self.error("HeadBucket", describe(&e))),
        }
        let tags = match tagging {
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
        Ok(Some(Live::ours(fields, Handle::default())))
    }

    /// Deletes every object version and delete marker, 1,000 at a time.
    /// Fails, naming the keys, when S3 refuses to delete any (object lock, a
    /// legal hold, a policy): listing again would find them again, for ever.
    async fn empty(&self, aws: &Aws) -> Result<(), ResourceError> {
        let bucket = &self.bucket;
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

impl Owned for BucketId {
    fn address(&self) -> Address {
        Address {
            kind: KIND,
            name: self.bucket.clone(),
        }
    }

    fn holds_data(&self) -> bool {
        true
    }

    fn read<'a>(&'a self, aws: &'a Aws) -> BoxFuture<'a, Result<Option<Live>, ResourceError>> {
        Box::pin(self.read_live(aws))
    }

    fn delete<'a>(
        &'a self,
        aws: &'a Aws,
        _live: &'a Live,
        delete_data: bool,
    ) -> BoxFuture<'a, Result<Deleted, ResourceError>> {
        Box::pin(async move {
            if !delete_data {
                return Ok(Deleted::KeptData);
            }
            self.empty(aws).await?;
            match aws.s3.delete_bucket().bucket(&self.bucket).send().await {
                Ok(_) => Ok(Deleted::Deleted),
                // Gone already: an earlier attempt took effect and its answer was lost.
                Err(e) if error_code(&e) == Some("NoSuchBucket") => Ok(Deleted::Deleted),
                Err(e) => Err(self.error("DeleteBucket", describe(&e))),
            }
        })
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
