//! Pages of rows, so that no response nears Lambda's 6 MB payload limit.
//!
//! A page token is opaque to clients; inside it names the entity, the date and
//! the offset it continues from, so a token can never be replayed against a
//! different query and silently skip or repeat rows.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use showcase_dataset::Day;

use crate::errors::ApiError;

/// Rows per page when the client does not say.
pub const DEFAULT_PAGE_SIZE: u64 = 10_000;
/// The largest page: a sales row is about 130 bytes of JSON, so 20,000 rows
/// stay near 2.6 MB, half of the 5 MB budget.
pub const MAX_PAGE_SIZE: u64 = 20_000;

/// One page of an entity for a date.
#[derive(Debug, Serialize)]
pub struct Page<R> {
    pub entity: &'static str,
    pub date: Day,
    pub total_rows: u64,
    pub rows: Vec<R>,
    pub next_page_token: Option<String>,
}

/// Where a page starts and how long it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub offset: u64,
    pub limit: u64,
}

impl PageRequest {
    pub fn parse(
        entity: &str,
        day: Day,
        limit: Option<&str>,
        token: Option<&str>,
    ) -> Result<PageRequest, ApiError> {
        let limit = match limit {
            None => DEFAULT_PAGE_SIZE,
            Some(text) => match text.parse::<u64>() {
                Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => n,
                _ => {
                    return Err(ApiError::bad_parameter(
                        "limit",
                        format!("'{text}' is not a valid page size"),
                        format!(
                            "an integer from 1 to {MAX_PAGE_SIZE} (default {DEFAULT_PAGE_SIZE})"
                        ),
                    ));
                }
            },
        };
        let offset = match token {
            None => 0,
            Some(token) => decode_token(entity, day, token)?,
        };
        Ok(PageRequest { offset, limit })
    }

    /// The token of the page after this one, if rows remain.
    pub fn next_token(&self, entity: &str, day: Day, total_rows: u64) -> Option<String> {
        let next = self.offset + self.limit;
        (next < total_rows).then(|| URL_SAFE_NO_PAD.encode(format!("{entity}|{day}|{next}")))
    }
}

fn decode_token(entity: &str, day: Day, token: &str) -> Result<u64, ApiError> {
    let bad = |why: &str| {
        ApiError::bad_parameter(
            "page_token",
            format!("'{token}' {why}"),
            "the next_page_token of the previous page of the same query, unchanged",
        )
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| bad("is not a page token"))?;
    let text = String::from_utf8(bytes).map_err(|_| bad("is not a page token"))?;
    let mut parts = text.split('|');
    let (Some(token_entity), Some(token_day), Some(offset), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("is not a page token"));
    };
    if token_entity != entity || token_day != day.to_string() {
        return Err(bad("belongs to a different query (another entity or date)"));
    }
    offset.parse().map_err(|_| bad("is not a page token"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_are_bound_to_their_query() {
        let day: Day = "2024-01-05".parse().unwrap();
        let first = PageRequest::parse("sales", day, Some("100"), None).unwrap();
        let token = first.next_token("sales", day, 250).unwrap();
        let second = PageRequest::parse("sales", day, Some("100"), Some(&token)).unwrap();
        assert_eq!(
            second,
            PageRequest {
                offset: 100,
                limit: 100
            }
        );
        assert!(PageRequest::parse("products", day, None, Some(&token)).is_err());
        let other_day: Day = "2024-01-06".parse().unwrap();
        assert!(PageRequest::parse("sales", other_day, None, Some(&token)).is_err());
        let last = PageRequest {
            offset: 200,
            limit: 100,
        };
        assert_eq!(last.next_token("sales", day, 250), None);
    }
}
