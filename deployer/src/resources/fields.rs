//! Settings of a resource as comparable values.

use std::collections::BTreeMap;

/// A setting's value. `Json` compares by meaning (key order, number form and,
/// for IAM/S3 policies, statement order do not matter); `Text` literally.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(untagged)]
pub enum FieldValue {
    Text(String),
    Number(i64),
    Bool(bool),
    Map(BTreeMap<String, String>),
    Json(serde_json::Value),
}

pub type Fields = BTreeMap<&'static str, FieldValue>;

/// Stands for a value that exists only once another resource is created (the
/// data API's URL, its key): a plan shows it, `up` applies the resource in a
/// later pass, when the value is real.
pub const KNOWN_AFTER_APPLY: &str = "(known after apply)";

impl FieldValue {
    pub fn json(text: &str) -> FieldValue {
        serde_json::from_str(text)
            .map(FieldValue::Json)
            .unwrap_or_else(|_| FieldValue::Text(text.to_owned()))
    }

    /// Whether the value (or part of it) is only known after apply.
    pub fn is_known_after_apply(&self) -> bool {
        match self {
            FieldValue::Text(text) => text == KNOWN_AFTER_APPLY,
            FieldValue::Map(map) => map.values().any(|v| v == KNOWN_AFTER_APPLY),
            FieldValue::Json(value) => value.to_string().contains(KNOWN_AFTER_APPLY),
            FieldValue::Number(_) | FieldValue::Bool(_) => false,
        }
    }

    /// How a plan shows the value.
    pub fn display(&self) -> String {
        match self {
            FieldValue::Text(text) => format!("{text:?}"),
            FieldValue::Number(n) => n.to_string(),
            FieldValue::Bool(b) => b.to_string(),
            FieldValue::Map(map) => format!("{map:?}"),
            FieldValue::Json(value) => normalize(value).to_string(),
        }
    }
}

impl PartialEq for FieldValue {
    fn eq(&self, other: &FieldValue) -> bool {
        match (self, other) {
            (FieldValue::Json(a), FieldValue::Json(b)) => normalize(a) == normalize(b),
            (FieldValue::Text(a), FieldValue::Text(b)) => a == b,
            (FieldValue::Number(a), FieldValue::Number(b)) => a == b,
            (FieldValue::Bool(a), FieldValue::Bool(b)) => a == b,
            (FieldValue::Map(a), FieldValue::Map(b)) => a == b,
            _ => false,
        }
    }
}

/// A canonical form of a JSON document: object keys are ordered by
/// serde_json's map, arrays of statements are sorted, a one-element array
/// equals its element (IAM reads `"Action": "s3:GetObject"` and
/// `"Action": ["s3:GetObject"]` alike), numbers compare as numbers.
pub fn normalize(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), normalize(v))).collect())
        }
        Value::Array(items) if items.len() == 1 => normalize(&items[0]),
        Value::Array(items) => {
            let mut normalized: Vec<Value> = items.iter().map(normalize).collect();
            normalized.sort_by_key(|v| v.to_string());
            Value::Array(normalized)
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_documents_compare_by_meaning() {
        let a = FieldValue::json(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:PutObject"],"Resource":"arn:x"}]}"#,
        );
        let b = FieldValue::json(
            r#"{"Statement":{"Resource":["arn:x"],"Action":"s3:PutObject","Effect":"Allow"},"Version":"2012-10-17"}"#,
        );
        assert_eq!(a, b);
        let c = FieldValue::json(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:x"}]}"#,
        );
        assert_ne!(a, c);
        let two = FieldValue::json(r#"{"A":["x","y"]}"#);
        let swapped = FieldValue::json(r#"{"A":["y","x"]}"#);
        assert_eq!(two, swapped);
    }
}
