//! The deployment package: a zip with one `bootstrap` entry, written so that
//! the same binary always gives the same bytes (fixed 1980-01-01 time, mode
//! 0755, fixed compression, no extra fields).

use std::io::Write;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

pub fn bootstrap_zip(binary: &[u8]) -> std::io::Result<Vec<u8>> {
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(9))
        .last_modified_time(DateTime::default())
        .unix_permissions(0o755)
        .large_file(false);
    let mut zip = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("bootstrap", options)
        .map_err(std::io::Error::other)?;
    zip.write_all(binary)?;
    Ok(zip.finish().map_err(std::io::Error::other)?.into_inner())
}

/// base64(sha256(bytes)): the form of Lambda's `CodeSha256`.
pub fn code_sha256(bytes: &[u8]) -> String {
    STANDARD.encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_binary_same_zip_and_a_runnable_entry() {
        let binary = b"\x7fELF pretend binary".repeat(1000);
        let first = bootstrap_zip(&binary).unwrap();
        assert_eq!(first, bootstrap_zip(&binary).unwrap());
        assert_ne!(first, bootstrap_zip(b"other").unwrap());
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(first.clone())).unwrap();
        assert_eq!(archive.len(), 1);
        let entry = archive.by_index(0).unwrap();
        assert_eq!(entry.name().unwrap(), "bootstrap");
        assert_eq!(entry.unix_mode().map(|m| m & 0o777), Some(0o755));
        assert_eq!(
            entry
                .last_modified()
                .map(|t| (t.year(), t.month(), t.day())),
            Some((1980, 1, 1))
        );
        assert_eq!(
            code_sha256(b"abc"),
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
        );
    }
}
