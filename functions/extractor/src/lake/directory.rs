//! A lake in a local directory: each object is written to a hidden temporary
//! file beside its final name and renamed into place, which is atomic on POSIX.

use std::path::{Path, PathBuf};

use tokio::io::AsyncWriteExt;

use crate::error::ExtractError;

pub struct FileUpload {
    file: tokio::fs::File,
    temporary: PathBuf,
    target: PathBuf,
    bytes: u64,
}

impl FileUpload {
    pub async fn create(target: &Path) -> Result<FileUpload, ExtractError> {
        let error = |e: std::io::Error| ExtractError::lake(&target.display().to_string(), e);
        let parent = target.parent().ok_or_else(|| {
            ExtractError::lake(&target.display().to_string(), "has no parent directory")
        })?;
        tokio::fs::create_dir_all(parent).await.map_err(error)?;
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // Unique per upload, not only per process: one process may extract the
        // same object twice at once (`airflow --local` serves every invocation).
        static UPLOADS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let upload = UPLOADS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let temporary = parent.join(format!(".{name}.partial-{}-{upload}", std::process::id()));
        let file = tokio::fs::File::create(&temporary).await.map_err(error)?;
        Ok(FileUpload {
            file,
            temporary,
            target: target.to_owned(),
            bytes: 0,
        })
    }

    fn error(&self, e: std::io::Error) -> ExtractError {
        ExtractError::lake(&self.target.display().to_string(), e)
    }

    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), ExtractError> {
        self.file
            .write_all(bytes)
            .await
            .map_err(|e| self.error(e))?;
        self.bytes += bytes.len() as u64;
        Ok(())
    }

    pub async fn finish(mut self) -> Result<u64, ExtractError> {
        let outcome = async {
            self.file.flush().await?;
            self.file.sync_all().await?;
            tokio::fs::rename(&self.temporary, &self.target).await
        }
        .await;
        match outcome {
            Ok(()) => Ok(self.bytes),
            Err(e) => {
                let error = self.error(e);
                self.abort().await;
                Err(error)
            }
        }
    }

    pub async fn abort(self) {
        drop(self.file);
        let _ = tokio::fs::remove_file(&self.temporary).await;
    }
}
