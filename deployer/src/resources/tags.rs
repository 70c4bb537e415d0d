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
/// Tags under `aws:` (CloudFormation's `aws:cloudformation:*` on adopted
/// resources, say) are AWS's own: nobody can change them, so they are no part
/// of the comparison.
pub fn claim(mut tags: BTreeMap<String, String>, stack: &str) -> Result<Fields, Live> {
    match ownership(&tags, stack) {
        Ownership::Ours => {
            tags.retain(|key, _| !is_aws_reserved(key));
            let mut fields = Fields::new();
            fields.insert("tags", FieldValue::Map(tags));
            Ok(fields)
        }
        foreign => Err(Live {
            ownership: foreign,
            fields: Fields::new(),
            handle: super::Handle::default(),
        }),
    }
}

/// Tags as S3's `x-amz-tagging` header takes them with an object's write
/// (`k1=v1&k2=v2`, URL-encoded): the object is never without its tags.
pub fn query_string(tags: &BTreeMap<String, String>) -> String {
    let encode = |text: &str| {
        percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    tags.iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Whether AWS reserves the tag key (`aws:` prefix, any case): it refuses to
/// add, change or remove such tags.
pub fn is_aws_reserved(key: &str) -> bool {
    key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_tags_are_not_compared_and_never_removed() {
        let live: BTreeMap<String, String> = [
            ("showcase:stack", "demo"),
            ("aws:cloudformation:stack-name", "seed"),
            ("AWS:Foo", "x"),
            ("team", "data"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let fields = claim(live, "demo").unwrap();
        let FieldValue::Map(tags) = &fields["tags"] else {
            panic!("tags is a map")
        };
        assert_eq!(tags.keys().collect::<Vec<_>>(), ["showcase:stack", "team"]);
        let desired: BTreeMap<String, String> = [("showcase:stack", "demo")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let change = FieldChange {
            field: "tags",
            live: Some(FieldValue::Map(tags.clone())),
            desired: FieldValue::Map(desired),
        };
        let (_, removed) = tag_delta(&change);
        assert_eq!(removed, ["team"]);
    }

    #[test]
    fn another_stacks_resource_is_foreign_with_no_fields() {
        let live: BTreeMap<String, String> =
            [("showcase:stack".to_owned(), "other".to_owned())].into();
        let foreign = claim(live, "demo").unwrap_err();
        assert_eq!(
            foreign.ownership,
            Ownership::Foreign {
                found: Some("other".into())
            }
        );
        assert!(foreign.fields.is_empty());
    }
}
