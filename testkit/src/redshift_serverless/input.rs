//! The stand-in's request side: AWS's error shapes, reading the JSON
//! input's members, the checks AWS makes, and the few formats it answers in.

use std::collections::BTreeMap;
use std::time::SystemTime;

use axum::http::HeaderMap;
use serde_json::{Map, Value};

pub(super) struct ApiError {
    pub(super) code: &'static str,
    pub(super) message: String,
}

pub(super) fn validation(message: impl Into<String>) -> ApiError {
    ApiError {
        code: "ValidationException",
        message: message.into(),
    }
}

pub(super) fn conflict(message: impl Into<String>) -> ApiError {
    ApiError {
        code: "ConflictException",
        message: message.into(),
    }
}

pub(super) fn not_found(message: impl Into<String>) -> ApiError {
    ApiError {
        code: "ResourceNotFoundException",
        message: message.into(),
    }
}

pub(super) type Input = Map<String, Value>;

pub(super) fn text(input: &Input, key: &str) -> Result<Option<String>, ApiError> {
    match input.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(validation(format!("{key} must be a string"))),
    }
}

pub(super) fn required(input: &Input, key: &str) -> Result<String, ApiError> {
    text(input, key)?.ok_or_else(|| {
        validation(format!(
            "1 validation error detected: Value null at '{key}' failed to satisfy constraint: Member must not be null"
        ))
    })
}

pub(super) fn number(input: &Input, key: &str) -> Result<Option<i64>, ApiError> {
    match input.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| validation(format!("{key} must be an integer"))),
    }
}

pub(super) fn flag(input: &Input, key: &str) -> Result<Option<bool>, ApiError> {
    match input.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(validation(format!("{key} must be a boolean"))),
    }
}

pub(super) fn strings(input: &Input, key: &str) -> Result<Option<Vec<String>>, ApiError> {
    match input.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| validation(format!("each of {key} must be a string")))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(validation(format!("{key} must be a list"))),
    }
}

pub(super) fn tags_of(input: &Input, key: &str) -> Result<BTreeMap<String, String>, ApiError> {
    let Some(Value::Array(items)) = input.get(key) else {
        return Ok(BTreeMap::new());
    };
    items
        .iter()
        .map(|t| {
            let key = t.get("key").and_then(Value::as_str);
            let value = t.get("value").and_then(Value::as_str);
            match (key, value) {
                (Some(k), Some(v)) => Ok((k.to_owned(), v.to_owned())),
                _ => Err(validation("a tag needs a key and a value")),
            }
        })
        .collect()
}

pub(super) fn check_name(kind: &str, name: &str) -> Result<(), ApiError> {
    let valid = (3..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if valid {
        Ok(())
    } else {
        Err(validation(format!(
            "{kind} name '{name}': 3 to 64 lowercase letters, digits or hyphens"
        )))
    }
}

pub(super) fn check_capacity(base: i64, max: Option<i64>) -> Result<(), ApiError> {
    if !(base == 4 || (8..=1024).contains(&base) && base % 8 == 0) {
        return Err(validation(format!(
            "base capacity {base} is not valid: 4, or 8 to 1024 in units of 8"
        )));
    }
    if let Some(max) = max
        && (max < base || max > 5632 || max % 8 != 0 && max != 4)
    {
        return Err(validation(format!(
            "max capacity {max} is not valid: at least the base capacity ({base}), at most 5632, in units of 8"
        )));
    }
    Ok(())
}

pub(super) fn check_port(port: i64) -> Result<(), ApiError> {
    if (5431..=5455).contains(&port) || (8191..=8215).contains(&port) {
        Ok(())
    } else {
        Err(validation(format!(
            "port {port} is not valid: 5431 to 5455 or 8191 to 8215"
        )))
    }
}

/// RFC 3339 in UTC (`2026-12-05T15:32:12.252Z`): the service's timestamps
/// are `date-time` strings, not epoch numbers.
pub(super) fn rfc3339(time: SystemTime) -> String {
    let since = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since.as_secs() as i64;
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        since.subsec_millis()
    )
}

/// The region a signed request is for (its credential scope), else us-east-1.
pub(super) fn region(headers: &HeaderMap) -> String {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|auth| auth.split("Credential=").nth(1))
        .and_then(|scope| scope.split('/').nth(2))
        .unwrap_or("us-east-1")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn timestamps_are_rfc3339_in_utc() {
        let time = SystemTime::UNIX_EPOCH + Duration::from_millis(1_796_484_732_252);
        assert_eq!(rfc3339(time), "2026-12-05T15:32:12.252Z");
        assert_eq!(rfc3339(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
    }
}
