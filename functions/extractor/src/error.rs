/// Why an extraction failed. Every variant names where (URL, lake key) and what.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("cannot reach the data API at {url} after {attempts} attempts: {detail}")]
    ApiUnreachable {
        url: String,
        attempts: usize,
        detail: String,
    },
    #[error("the data API answered {status} for {url} after {attempts} attempts: {body}")]
    ApiStatus {
        url: String,
        status: u16,
        attempts: usize,
        body: String,
    },
    #[error("malformed response from the data API at {url}: {detail}")]
    MalformedResponse { url: String, detail: String },
    #[error("writing {key} to the lake failed: {detail}")]
    Lake { key: String, detail: String },
    #[error("encoding {entity} failed: {detail}")]
    Encode {
        entity: &'static str,
        detail: String,
    },
}

impl ExtractError {
    pub(crate) fn lake(key: &str, detail: impl std::fmt::Display) -> ExtractError {
        ExtractError::Lake {
            key: key.to_owned(),
            detail: detail.to_string(),
        }
    }
}
