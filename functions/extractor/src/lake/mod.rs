//! The lake: an S3 bucket (AWS or a local endpoint via `AWS_ENDPOINT_URL`) or a
//! local directory. Objects are written as streams and appear only when
//! complete: a failed run leaves no partial object visible.

mod directory;
mod s3;

use crate::error::ExtractError;
use crate::settings::LakeLocation;

pub use directory::FileUpload;
pub use s3::{PART_SIZE, S3Upload, describe_sdk_error, error_chain, s3_client_from_env};

#[derive(Debug, Clone)]
pub enum Lake {
    /// `part_size` must be at least 5 MiB on AWS (S3's minimum for all but the last part).
    S3 {
        client: aws_sdk_s3::Client,
        bucket: String,
        prefix: String,
        part_size: usize,
    },
    Directory {
        root: std::path::PathBuf,
    },
}

impl Lake {
    /// Opens the lake; for S3 the client comes from the standard AWS chain.
    pub async fn open(location: &LakeLocation) -> Lake {
        match location {
            LakeLocation::S3 { bucket, prefix } => Lake::S3 {
                client: s3_client_from_env().await,
                bucket: bucket.clone(),
                prefix: prefix.clone(),
                part_size: PART_SIZE,
            },
            LakeLocation::Directory(root) => Lake::Directory { root: root.clone() },
        }
    }

    /// Starts writing `key`, replacing any object of that name once finished.
    pub async fn create(
        &self,
        key: &str,
        content_type: &'static str,
    ) -> Result<ObjectWriter, ExtractError> {
        Ok(match self {
            Lake::S3 {
                client,
                bucket,
                prefix,
                part_size,
            } => {
                let key = format!("{prefix}{key}");
                ObjectWriter::S3(S3Upload::new(
                    client.clone(),
                    bucket.clone(),
                    key,
                    content_type,
                    *part_size,
                ))
            }
            Lake::Directory { root } => {
                ObjectWriter::File(FileUpload::create(&root.join(key)).await?)
            }
        })
    }
}

/// One object being written.
pub enum ObjectWriter {
    S3(S3Upload),
    File(FileUpload),
}

impl ObjectWriter {
    pub async fn write(&mut self, bytes: Vec<u8>) -> Result<(), ExtractError> {
        match self {
            ObjectWriter::S3(upload) => upload.write(bytes).await,
            ObjectWriter::File(upload) => upload.write(&bytes).await,
        }
    }

    /// Makes the object visible; returns its size in bytes.
    pub async fn finish(self) -> Result<u64, ExtractError> {
        match self {
            ObjectWriter::S3(upload) => upload.finish().await,
            ObjectWriter::File(upload) => upload.finish().await,
        }
    }

    /// Drops what was written; the previous object of that key, if any, stays.
    pub async fn abort(self) {
        match self {
            ObjectWriter::S3(upload) => upload.abort().await,
            ObjectWriter::File(upload) => upload.abort().await,
        }
    }
}
