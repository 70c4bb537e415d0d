//! Tag changes shared by the resource kinds: what to add or overwrite, and
//! which keys to remove, from a `tags` field change.

use std::collections::BTreeMap;

use super::{FieldChange, FieldValue, Fields, Live, Ownership};

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
pub fn ownership(tags: &BTreeMap<String, String>, stack: &str) -> Ownership {
    match tags.get(crate::config::STACK_TAG) {
        Some(owner) if owner == stack => Ownership::Ours,
        other => Ownership::Foreign {
            found: other.cloned(),
        },
    }
}

/// Where every read starts once it has the live tags: a resource that is not
/// the stack's is reported with its owner and no fields (it is never compared
/// or changed); the stack's own starts its fields with its tags.
pub fn claim(tags: BTreeMap<String, String>, stack: &str) -> Result<Fields, Live> {
    match ownership(&tags, stack) {
        Ownership::Ours => {
            let mut fields = Fields::new();
            fields.insert("tags", FieldValue::Map(tags));
            Ok(fields)
        }
        foreign => Err(Live {
            ownership: foreign,
            fields: Fields::new(),
        }),
    }
}
