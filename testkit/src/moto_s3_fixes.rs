//! moto 5.2.5's S3 answers where the Rust SDK needs S3's own (a test-side
//! workaround for the emulator: the product speaks real S3).

use axum::body::Bytes;

/// moto's generic roots and the ones S3 documents.
const ROOT_FIXES: &[(&str, &str)] = &[
    ("GetBucketVersioningResponse", "VersioningConfiguration"),
    ("GetBucketTaggingResponse", "Tagging"),
    ("GetObjectTaggingResponse", "Tagging"),
    (
        "GetBucketLifecycleConfigurationResponse",
        "LifecycleConfiguration",
    ),
    ("ListObjectVersionsResponse", "ListVersionsResult"),
];

/// The documented root for a generic one; the body unchanged otherwise.
pub(crate) fn fix_root(body: &Bytes) -> Bytes {
    let Ok(text) = std::str::from_utf8(body) else {
        return body.clone();
    };
    for (wrong, right) in ROOT_FIXES {
        if text.contains(&format!("<{wrong}")) {
            let fixed = text
                .replacen(&format!("<{wrong}"), &format!("<{right}"), 1)
                .replacen(&format!("</{wrong}>"), &format!("</{right}>"), 1);
            return Bytes::from(fixed);
        }
    }
    body.clone()
}

/// The `<Tag>`s of a CreateBucket (`PUT /{bucket}` whose configuration
/// carries `<Tags>`): S3 tags the bucket in the same call, moto 5.2.5 ignores
/// them, so the front applies them right after (else a run killed between
/// CreateBucket and PutBucketTagging leaves on moto an untagged bucket that it
/// would not leave on S3).
pub(crate) fn create_bucket_tags(
    parts: &axum::http::request::Parts,
    body: &Bytes,
) -> Option<String> {
    let path = parts.uri.path().trim_matches('/');
    if parts.method != axum::http::Method::PUT
        || parts.uri.query().is_some()
        || path.is_empty()
        || path.contains('/')
    {
        return None;
    }
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find("<Tags>")? + "<Tags>".len();
    let end = text[start..].find("</Tags>")? + start;
    Some(text[start..end].to_owned())
}
