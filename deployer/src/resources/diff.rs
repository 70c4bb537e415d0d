//! Desired fields against live fields: the heart of `plan` and `drift`.

use super::fields::{FieldValue, Fields};

/// One setting that differs.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FieldChange {
    pub field: &'static str,
    /// `None`: the setting is absent in AWS (e.g. encryption removed).
    pub live: Option<FieldValue>,
    pub desired: FieldValue,
}

/// Every desired field whose live value differs or is missing, in field order.
/// Live fields the stack does not manage are ignored.
pub fn diff(desired: &Fields, live: &Fields) -> Vec<FieldChange> {
    desired
        .iter()
        .filter(|(name, value)| live.get(*name) != Some(*value))
        .map(|(name, value)| FieldChange {
            field: name,
            live: live.get(name).cloned(),
            desired: value.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_changed_and_missing_fields_only() {
        let desired: Fields = [
            ("memory", FieldValue::Number(256)),
            ("timeout", FieldValue::Number(30)),
            ("role", FieldValue::Text("r".into())),
        ]
        .into();
        let live: Fields = [
            ("memory", FieldValue::Number(128)),
            ("timeout", FieldValue::Number(30)),
            ("extra", FieldValue::Bool(true)),
        ]
        .into();
        let changes = diff(&desired, &live);
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0].field, "memory");
        assert_eq!(changes[0].live, Some(FieldValue::Number(128)));
        assert_eq!(changes[1].field, "role");
        assert_eq!(changes[1].live, None);
        assert!(diff(&desired, &desired).is_empty());
    }
}
