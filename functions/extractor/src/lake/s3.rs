//! A lake in S3. Small objects are one `PutObject`; larger ones a multipart
//! upload, which S3 shows only after `CompleteMultipartUpload` and which is
//! aborted on failure. Either way a reader sees the old object or the new one.

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};

use crate::error::ExtractError;

/// Bytes per multipart part (S3's minimum is 5 MiB for all but the last part).
pub const PART_SIZE: usize = 8 * 1024 * 1024;

/// An S3 client from the standard AWS configuration chain. A custom endpoint
/// (`AWS_ENDPOINT_URL`, e.g. a local S3) gets path-style addressing, which
/// local endpoints need and AWS accepts.
pub async fn s3_client_from_env() -> Client {
    let shared = aws_config::load_from_env().await;
    let custom_endpoint = shared.endpoint_url().is_some();
    let config = aws_sdk_s3::config::Builder::from(&shared)
        .force_path_style(custom_endpoint)
        .build();
    Client::from_conf(config)
}

pub struct S3Upload {
    client: Client,
    bucket: String,
    key: String,
    content_type: &'static str,
    part_size: usize,
    buffer: Vec<u8>,
    upload_id: Option<String>,
    parts: Vec<CompletedPart>,
    bytes: u64,
}

impl S3Upload {
    pub fn new(
        client: Client,
        bucket: String,
        key: String,
        content_type: &'static str,
        part_size: usize,
    ) -> S3Upload {
        S3Upload {
            client,
            bucket,
            key,
            content_type,
            part_size,
            buffer: Vec::new(),
            upload_id: None,
            parts: Vec::new(),
            bytes: 0,
        }
    }

    fn error(&self, detail: impl std::fmt::Display) -> ExtractError {
        ExtractError::lake(&format!("s3://{}/{}", self.bucket, self.key), detail)
    }

    pub async fn write(&mut self, bytes: Vec<u8>) -> Result<(), ExtractError> {
        self.bytes += bytes.len() as u64;
        if self.buffer.is_empty() {
            self.buffer = bytes;
        } else {
            self.buffer.extend_from_slice(&bytes);
        }
        if self.buffer.len() >= self.part_size {
            self.upload_part().await?;
        }
        Ok(())
    }

    async fn upload_part(&mut self) -> Result<(), ExtractError> {
        let upload_id = match &self.upload_id {
            Some(id) => id.clone(),
            None => {
                let started = self
                    .client
                    .create_multipart_upload()
                    .bucket(&self.bucket)
                    .key(&self.key)
                    .content_type(self.content_type)
                    .send()
                    .await
                    .map_err(|e| self.error(describe_sdk_error(&e)))?;
                let id = started
                    .upload_id()
                    .ok_or_else(|| self.error("S3 returned no upload id"))?
                    .to_owned();
                self.upload_id = Some(id.clone());
                id
            }
        };
        let part_number = self.parts.len() as i32 + 1;
        let body = std::mem::take(&mut self.buffer);
        let uploaded = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(upload_id)
            .part_number(part_number)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| self.error(describe_sdk_error(&e)))?;
        self.parts.push(
            CompletedPart::builder()
                .part_number(part_number)
                .set_e_tag(uploaded.e_tag().map(str::to_owned))
                .build(),
        );
        Ok(())
    }

    pub async fn finish(mut self) -> Result<u64, ExtractError> {
        let outcome = self.complete().await;
        if outcome.is_err() {
            self.abort_upload().await;
        }
        outcome.map(|()| self.bytes)
    }

    async fn complete(&mut self) -> Result<(), ExtractError> {
        if self.upload_id.is_none() {
            let body = std::mem::take(&mut self.buffer);
            self.client
                .put_object()
                .bucket(&self.bucket)
                .key(&self.key)
                .content_type(self.content_type)
                .body(ByteStream::from(body))
                .send()
                .await
                .map_err(|e| self.error(describe_sdk_error(&e)))?;
            return Ok(());
        }
        if !self.buffer.is_empty() {
            self.upload_part().await?;
        }
        let parts = CompletedMultipartUpload::builder()
            .set_parts(Some(self.parts.clone()))
            .build();
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(&self.key)
            .set_upload_id(self.upload_id.clone())
            .multipart_upload(parts)
            .send()
            .await
            .map_err(|e| self.error(describe_sdk_error(&e)))?;
        Ok(())
    }

    pub async fn abort(mut self) {
        self.abort_upload().await;
    }

    async fn abort_upload(&mut self) {
        if let Some(upload_id) = self.upload_id.take() {
            // Best effort: a leftover upload is invisible, and a lifecycle rule
            // (AbortIncompleteMultipartUpload) on the lake bucket removes it.
            let _ = self
                .client
                .abort_multipart_upload()
                .bucket(&self.bucket)
                .key(&self.key)
                .upload_id(upload_id)
                .send()
                .await;
        }
    }
}

/// An SDK error as a person reads it: the service's code and message, or the
/// chain of causes for a transport error (the SDK's own `Display` says only
/// "service error" or "dispatch failure"). Works for every AWS SDK crate's errors.
pub fn describe_sdk_error<E, R>(error: &aws_sdk_s3::error::SdkError<E, R>) -> String
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    if let Some(service) = error.as_service_error() {
        return format!(
            "{}: {}",
            service.code().unwrap_or("unknown error"),
            service.message().unwrap_or("no message")
        );
    }
    error_chain(error)
}

/// An error and each of its causes, `outer: inner: …` (the SDK's own text
/// stops at the outermost, e.g. "dispatch failure").
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
