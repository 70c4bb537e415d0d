//! Where COPY's objects come from: an S3 endpoint (moto's, in tests) or the
//! local lake directory (`showcase-deploy airflow --local`, where the
//! extractor writes files and the DAG still names `s3://bucket/prefix/…`).

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;

use bytes::Bytes;

use super::copy::error_chain;

/// The objects under a prefix, in key order; `Err` is the S3 error's text.
pub type ObjectsFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Vec<(String, Bytes)>, String>> + Send + 'a>>;

/// Where `COPY … FROM 's3://bucket/prefix'` reads.
pub trait ObjectSource: Send + Sync {
    /// Every object whose key starts with `prefix`, in key order, with its
    /// bytes; nothing there is an error, as on Redshift.
    fn objects<'a>(&'a self, bucket: &'a str, prefix: &'a str) -> ObjectsFuture<'a>;
}

fn nothing_under(prefix: &str) -> String {
    format!("The specified S3 prefix '{prefix}' does not exist")
}

/// An S3 endpoint, with test credentials and path-style addressing.
pub struct S3Objects {
    client: aws_sdk_s3::Client,
}

impl S3Objects {
    pub fn new(endpoint: &str) -> S3Objects {
        let config = aws_sdk_s3::config::Builder::new()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .endpoint_url(endpoint)
            .force_path_style(true)
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                "testing",
                "testing",
                None,
                None,
                "showcase-local-aws",
            ))
            .build();
        S3Objects {
            client: aws_sdk_s3::Client::from_conf(config),
        }
    }
}

impl ObjectSource for S3Objects {
    fn objects<'a>(&'a self, bucket: &'a str, prefix: &'a str) -> ObjectsFuture<'a> {
        Box::pin(async move {
            let s3 = &self.client;
            let s3_error = |e: &dyn std::error::Error| error_chain(e);
            let mut keys = Vec::new();
            let mut token = None;
            loop {
                let page = s3
                    .list_objects_v2()
                    .bucket(bucket)
                    .prefix(prefix)
                    .set_continuation_token(token)
                    .send()
                    .await
                    .map_err(|e| s3_error(&e))?;
                keys.extend(
                    page.contents()
                        .iter()
                        .filter_map(|object| object.key())
                        .filter(|key| !key.ends_with('/'))
                        .map(str::to_owned),
                );
                token = page.next_continuation_token().map(str::to_owned);
                if token.is_none() {
                    break;
                }
            }
            if keys.is_empty() {
                return Err(nothing_under(prefix));
            }
            let mut objects = Vec::new();
            for key in keys {
                let object = s3
                    .get_object()
                    .bucket(bucket)
                    .key(&key)
                    .send()
                    .await
                    .map_err(|e| s3_error(&e))?;
                let bytes = object
                    .body
                    .collect()
                    .await
                    .map_err(|e| s3_error(&e))?
                    .into_bytes();
                objects.push((key, bytes));
            }
            Ok(objects)
        })
    }
}

/// A directory standing for `s3://bucket/prefix`: the object `prefix` + `a/b`
/// is the file `dir/a/b`.
pub struct LakeDirectory {
    bucket: String,
    prefix: String,
    dir: PathBuf,
}

impl LakeDirectory {
    pub fn new(bucket: &str, prefix: &str, dir: &Path) -> LakeDirectory {
        LakeDirectory {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
            dir: dir.to_path_buf(),
        }
    }
}

/// Every file under `dir`, as `/`-separated paths relative to `root`.
fn files(root: &Path, dir: &Path, found: &mut Vec<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            files(root, &path, found)?;
        } else if let Ok(relative) = path.strip_prefix(root) {
            let parts: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            found.push(parts.join("/"));
        }
    }
    Ok(())
}

impl ObjectSource for LakeDirectory {
    fn objects<'a>(&'a self, bucket: &'a str, prefix: &'a str) -> ObjectsFuture<'a> {
        Box::pin(async move {
            if bucket != self.bucket {
                return Err(format!(
                    "NoSuchBucket: The specified bucket does not exist ({bucket}; the local lake is s3://{}/{})",
                    self.bucket, self.prefix
                ));
            }
            let mut keys = Vec::new();
            if self.dir.is_dir() {
                let mut relative = Vec::new();
                files(&self.dir, &self.dir, &mut relative)
                    .map_err(|e| format!("reading {}: {e}", self.dir.display()))?;
                keys = relative
                    .into_iter()
                    .map(|r| format!("{}{r}", self.prefix))
                    .filter(|key| key.starts_with(prefix))
                    .collect();
            }
            keys.sort();
            if keys.is_empty() {
                return Err(nothing_under(prefix));
            }
            let mut objects = Vec::new();
            for key in keys {
                let path = self.dir.join(&key[self.prefix.len()..]);
                let bytes = tokio::fs::read(&path)
                    .await
                    .map_err(|e| format!("reading {}: {e}", path.display()))?;
                objects.push((key, Bytes::from(bytes)));
            }
            Ok(objects)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_directory_answers_as_the_bucket_under_its_prefix() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("2024-03-01")).unwrap();
        std::fs::write(dir.path().join("2024-03-01/sales.parquet"), b"s").unwrap();
        std::fs::write(dir.path().join("2024-03-01/products.csv"), b"p").unwrap();
        let lake = LakeDirectory::new("lake", "raw/", dir.path());
        let found = lake.objects("lake", "raw/2024-03-01/").await.unwrap();
        let keys: Vec<&str> = found.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "raw/2024-03-01/products.csv",
                "raw/2024-03-01/sales.parquet"
            ]
        );
        assert_eq!(found[1].1, Bytes::from_static(b"s"));
        assert!(
            lake.objects("lake", "raw/2024-03-02/")
                .await
                .unwrap_err()
                .contains("does not exist")
        );
        assert!(
            lake.objects("other", "raw/")
                .await
                .unwrap_err()
                .contains("NoSuchBucket")
        );
    }
}
