//! Tag changes shared by the resource kinds: what to add or overwrite, and
//! which keys to remove, from a `tags` field change.

use std::collections::BTreeMap;

use super::{FieldChange, FieldValue};

/// `(to set, keys to remove)` for a change of the `tags` field.
pub fn tag_delta(change: &FieldChange) -> (BTreeMap<String, String>, Vec<String>) {
    let desired = match &change.desired {
        FieldValue::Map(map) => map.clone(),
        _ => BTreeMap::new(),
    };
    let removed = match &change.live {
        Some(FieldValue::Map(live)) => live
            .keys()
            .filter(|k| !desired.contains_key(*k))
            .cloned()
            .collect(),
        _ => Vec::new(),
    };
    (desired, removed)
}

/// Whether live tags say the resource is `stack`'s.
pub fn ownership(tags: &BTreeMap<String, String>, stack: &str) -> super::Ownership {
    match tags.get(crate::config::STACK_TAG) {
        Some(owner) if owner == stack => super::Ownership::Ours,
        other => super::Ownership::Foreign {
            found: other.cloned(),
        },
    }
}
