//! An S3 object a kind owns as a whole (a DAG file, the requirements file):
//! read with its content hash, version and tags, for the kind's fields.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::ResourceError;
use crate::aws::{Aws, describe, error_code};

/// What the kind compares of its object.
pub struct TaggedObject {
    /// Of the content, as read back (so an edit by hand shows).
    pub sha256: String,
    /// The current version (`None`: the bucket is not versioned).
    pub version: Option<String>,
    pub tags: BTreeMap<String, String>,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The object and its tags, `None` if there is none; `fail` names the failed call.
pub async fn read(
    aws: &Aws,
    bucket: &str,
    key: &str,
    fail: impl Fn(&'static str, String) -> ResourceError,
) -> Result<Option<TaggedObject>, ResourceError> {
    let object = match aws.s3.get_object().bucket(bucket).key(key).send().await {
        Ok(object) => object,
        Err(e) if error_code(&e) == Some("NoSuchKey") => return Ok(None),
        Err(e) => return Err(fail("GetObject", describe(&e))),
    };
    let version = object.version_id().map(str::to_owned);
    let body = object
        .body
        .collect()
        .await
        .map_err(|e| fail("GetObject", e.to_string()))?
        .into_bytes();
    let tagging = aws
        .s3
        .get_object_tagging()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| fail("GetObjectTagging", describe(&e)))?;
    Ok(Some(TaggedObject {
        sha256: sha256_hex(&body),
        version,
        tags: tagging
            .tag_set()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect(),
    }))
}
