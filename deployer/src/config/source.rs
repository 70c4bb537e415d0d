//! Byte offsets of the stack file turned into line:column.

use std::ops::Range;
use std::path::{Path, PathBuf};

use super::error::ConfigError;

pub(crate) struct SourceFile<'a> {
    path: PathBuf,
    text: &'a str,
}

impl<'a> SourceFile<'a> {
    pub(crate) fn new(path: &Path, text: &'a str) -> SourceFile<'a> {
        SourceFile {
            path: path.to_owned(),
            text,
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub(crate) fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (line, before[line_start..].chars().count() + 1)
    }

    pub(crate) fn error(
        &self,
        span: Range<usize>,
        key: &str,
        message: impl Into<String>,
    ) -> ConfigError {
        let (line, column) = self.position(span.start);
        ConfigError {
            file: self.path.clone(),
            line,
            column,
            key: key.to_owned(),
            message: message.into(),
        }
    }

    /// A TOML syntax or shape error (unknown key, wrong type, missing field).
    pub(crate) fn toml_error(&self, error: &toml::de::Error) -> ConfigError {
        let span = error.span().unwrap_or(0..0);
        self.error(span, "", error.message().trim().to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_lines_and_columns() {
        let file = SourceFile::new(Path::new("stack.toml"), "a = 1\nbé = 2\n");
        assert_eq!(file.position(0), (1, 1));
        assert_eq!(file.position(6), (2, 1));
        assert_eq!(file.position(10), (2, 4));
    }
}
