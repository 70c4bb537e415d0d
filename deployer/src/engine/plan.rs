use std::collections::BTreeMap;

use futures_util::future::join_all;

use crate::aws::Aws;
use crate::resources::{
    Address, FieldChange, FieldValue, Live, Owned, Ownership, Resource, ResourceError, diff,
};

/// What will happen to one resource.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    Create,
    Update {
        fields: Vec<FieldChange>,
    },
    /// A field that cannot change in place changed: delete, then create.
    /// `deletes_data`: the resource holds data, so `up` refuses it without
    /// `--delete-data` (and the plan says so first).
    Replace {
        fields: Vec<FieldChange>,
        deletes_data: bool,
    },
    NoChange,
    /// Something of this name exists but is not the stack's: never touched.
    Refuse {
        reason: String,
    },
    /// Carries the stack's tag but stack.toml no longer declares it (prune).
    /// `holds_data`: deleted only with `--delete-data`, kept otherwise.
    Delete {
        holds_data: bool,
    },
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PlannedChange {
    pub address: Address,
    #[serde(flatten)]
    pub action: Action,
    /// Desired fields whose value exists only once another resource is
    /// created: `up` applies this change in a later pass, when they are known.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub known_after_apply: Vec<&'static str>,
    /// What the change disrupts outside the stack (the kind's words): `up`
    /// applies it only with [`Consent::disruption`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disrupts: Option<&'static str>,
}

/// What the user allowed beyond a plain `up`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Consent {
    /// Deleting data: replacing a data-holding resource, deleting a leftover
    /// one (`--delete-data`).
    pub delete_data: bool,
    /// Changes that disrupt something outside the stack (`--allow-env-update`).
    pub disruption: bool,
}

impl Consent {
    /// Nothing beyond a plain `up`.
    pub const NONE: Consent = Consent {
        delete_data: false,
        disruption: false,
    };

    /// Consent to delete data, and nothing else.
    pub const DELETE_DATA: Consent = Consent {
        delete_data: true,
        disruption: false,
    };
}

impl PlannedChange {
    /// Decides one resource's change from its desired and live state (pure).
    pub fn decide(resource: &dyn Resource, live: Option<&Live>) -> PlannedChange {
        let action = Plan::decide(resource, live);
        let disrupts = match &action {
            Action::Create | Action::Replace { .. } => resource.disruption(None),
            Action::Update { fields } => resource.disruption(Some(fields)),
            _ => None,
        };
        let known_after_apply = match action {
            Action::Create | Action::Update { .. } | Action::Replace { .. } => resource
                .desired()
                .iter()
                .filter(|(_, value)| value.is_known_after_apply())
                .map(|(name, _)| *name)
                .collect(),
            _ => Vec::new(),
        };
        PlannedChange {
            address: resource.address(),
            action,
            known_after_apply,
            disrupts,
        }
    }

    /// Whether `up` must wait for a later pass to apply it.
    pub fn deferred(&self) -> bool {
        !self.known_after_apply.is_empty()
    }
}

/// Every resource of the stack and what will happen to it, in stack order.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Plan {
    pub changes: Vec<PlannedChange>,
    /// What each read found, for the writes to act on (never shown).
    #[serde(skip)]
    pub lives: BTreeMap<Address, Live>,
}

impl Plan {
    /// A plan of these changes, with nothing read.
    pub fn of(changes: Vec<PlannedChange>) -> Plan {
        Plan {
            changes,
            lives: BTreeMap::new(),
        }
    }

    /// What the read found of `address`.
    pub fn live(&self, address: &Address) -> Option<&Live> {
        self.lives.get(address)
    }
    /// Whether applying the plan would change anything.
    pub fn has_changes(&self) -> bool {
        self.changes
            .iter()
            .any(|c| !matches!(c.action, Action::NoChange))
    }

    pub fn refusals(&self) -> Vec<&PlannedChange> {
        self.changes
            .iter()
            .filter(|c| matches!(c.action, Action::Refuse { .. }))
            .collect()
    }

    /// Replacements that would delete data: refused unless `--delete-data`.
    pub fn data_losing_replacements(&self) -> Vec<&PlannedChange> {
        self.changes
            .iter()
            .filter(|c| {
                matches!(
                    c.action,
                    Action::Replace {
                        deletes_data: true,
                        ..
                    }
                )
            })
            .collect()
    }

    /// Changes that disrupt something outside the stack: refused unless
    /// [`Consent::disruption`].
    pub fn disruptions(&self) -> Vec<&PlannedChange> {
        self.changes
            .iter()
            .filter(|c| c.disrupts.is_some())
            .collect()
    }

    /// What is left for a later pass of `up` (values known after apply).
    pub fn has_deferred(&self) -> bool {
        self.changes.iter().any(PlannedChange::deferred)
    }

    /// Decides one resource's action from its desired and live state (pure).
    pub fn decide(resource: &dyn Resource, live: Option<&Live>) -> Action {
        let Some(live) = live else {
            return Action::Create;
        };
        if let Some(refuse) = refusal(&resource.address(), live) {
            return refuse;
        }
        let fields = diff(&resource.desired(), &live.fields);
        if fields.is_empty() {
            Action::NoChange
        } else if fields
            .iter()
            .any(|f| resource.replaced_when_changed().contains(&f.field))
        {
            Action::Replace {
                fields,
                deletes_data: resource.id().holds_data(),
            }
        } else {
            Action::Update { fields }
        }
    }
}

/// `Refuse` when what exists under the address is not the stack's.
fn refusal(address: &Address, live: &Live) -> Option<Action> {
    let Ownership::Foreign { found } = &live.ownership else {
        return None;
    };
    let whose = match found {
        Some(other) => format!("it belongs to stack '{other}'"),
        None => format!("it exists without the {} tag", crate::config::STACK_TAG),
    };
    let mut reason = format!(
        "{address} already exists and {whose}; showcase-deploy will not adopt, change or delete it"
    );
    if found.is_none() {
        // Without s3:TagResource a bucket is tagged just after CreateBucket: an `up`
        // killed in between leaves it untagged.
        reason.push_str(&format!(
            ". If it is yours (an interrupted `up` may have created it just before tagging it), tag it {}=<stack name> and rerun",
            crate::config::STACK_TAG
        ));
    }
    Some(Action::Refuse { reason })
}

/// Reads every resource concurrently and decides what to do with each:
/// `declared` are the resources stack.toml asks for, `leftovers` live ones
/// found by name that it no longer declares (deleted only if they carry the
/// stack's tag).
pub async fn plan(
    aws: &Aws,
    declared: &[Box<dyn Resource>],
    leftovers: &[Box<dyn Owned>],
) -> Result<Plan, ResourceError> {
    let (declared_reads, leftover_reads) =
        futures_util::future::try_join(read(aws, declared), read_leftovers(aws, leftovers)).await?;
    Ok(decide(declared, declared_reads, leftovers, leftover_reads))
}

/// What each declared resource looks like live, in order, all at once.
/// Reads go by name: `declared` may be built before its desired settings
/// are known (the session reads while it looks up the account).
pub async fn read(
    aws: &Aws,
    declared: &[Box<dyn Resource>],
) -> Result<Vec<Option<Live>>, ResourceError> {
    futures_util::future::try_join_all(declared.iter().map(|r| r.read(aws))).await
}

/// What each leftover candidate looks like live, in order, all at once.
pub async fn read_leftovers(
    aws: &Aws,
    leftovers: &[Box<dyn Owned>],
) -> Result<Vec<Option<Live>>, ResourceError> {
    futures_util::future::try_join_all(leftovers.iter().map(|r| r.read(aws))).await
}

/// The plan from what was read (pure): per declared resource its action, per
/// leftover of the stack's a delete.
pub fn decide(
    declared: &[Box<dyn Resource>],
    declared_reads: Vec<Option<Live>>,
    leftovers: &[Box<dyn Owned>],
    leftover_reads: Vec<Option<Live>>,
) -> Plan {
    let mut plan = Plan::default();
    for (resource, live) in declared.iter().zip(declared_reads) {
        plan.changes
            .push(PlannedChange::decide(resource.as_ref(), live.as_ref()));
        if let Some(live) = live {
            plan.lives.insert(resource.address(), live);
        }
    }
    for (resource, live) in leftovers.iter().zip(leftover_reads) {
        let Some(live) = live else { continue };
        if is_leftover_of(&live, resource.address().kind) {
            plan.changes.push(PlannedChange {
                address: resource.address(),
                action: Action::Delete {
                    holds_data: resource.holds_data(),
                },
                known_after_apply: Vec::new(),
                disrupts: None,
            });
            plan.lives.insert(resource.address(), live);
        }
    }
    plan
}

/// Whether a live candidate found by `kind`'s discovery is that kind's and
/// the stack's: it carries the stack's tag and, if it names a kind (older
/// resources do not), this one. Another kind's resource of the same AWS type
/// (a second kind of role or bucket) is never taken for a leftover.
fn is_leftover_of(live: &Live, kind: &str) -> bool {
    let kind_tag = match live.fields.get("tags") {
        Some(FieldValue::Map(tags)) => tags.get(crate::config::KIND_TAG),
        _ => None,
    };
    live.ownership == Ownership::Ours && kind_tag.is_none_or(|k| k == kind)
}

/// What `down` will do, read before it asks: every resource of the stack that
/// exists and carries its tag is deleted (a data-holding one only with
/// `--delete-data`, which the action says); one that exists without the tag is
/// refused (left alone, never blocking the rest); one that is gone is absent
/// from the plan.
pub async fn destroy_plan(
    aws: &Aws,
    declared: &[Box<dyn Resource>],
    leftovers: &[Box<dyn Owned>],
) -> Result<Plan, ResourceError> {
    // Only identities: whose it is and what to delete, not how it is set.
    let ids: Vec<&dyn Owned> = declared
        .iter()
        .map(|r| r.id())
        .chain(leftovers.iter().map(AsRef::as_ref))
        .collect();
    let reads = join_all(ids.iter().map(|r| r.read(aws))).await;
    let mut plan = Plan::default();
    for (index, (resource, live)) in ids.iter().zip(reads).enumerate() {
        let Some(live) = live? else { continue };
        let leftover = index >= declared.len();
        if leftover && !is_leftover_of(&live, resource.address().kind) {
            continue;
        }
        let action = match refusal(&resource.address(), &live) {
            Some(refuse) => refuse,
            None => Action::Delete {
                holds_data: resource.holds_data(),
            },
        };
        plan.changes.push(PlannedChange {
            address: resource.address(),
            action,
            known_after_apply: Vec::new(),
            disrupts: None,
        });
        plan.lives.insert(resource.address(), live);
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use futures_util::future::BoxFuture;

    use super::*;
    use crate::resources::{Deleted, FieldSpec, Fields, Handle, KNOWN_AFTER_APPLY};

    /// A resource with fixed desired fields; the engine's decisions need no AWS.
    struct Fake {
        desired: Fields,
        fields: &'static [FieldSpec],
        id: FakeId,
    }

    struct FakeId {
        holds_data: bool,
    }

    const SIZE_UPDATED: &[FieldSpec] =
        &[FieldSpec::update("size"), FieldSpec::update("environment")];
    const SIZE_REPLACED: &[FieldSpec] = &[FieldSpec::replace("size")];

    fn fake(desired: &[(&'static str, FieldValue)]) -> Fake {
        Fake {
            desired: desired.iter().cloned().collect(),
            fields: SIZE_UPDATED,
            id: FakeId { holds_data: false },
        }
    }

    impl Owned for FakeId {
        fn address(&self) -> Address {
            Address {
                kind: "fake",
                name: "one".into(),
            }
        }
        fn holds_data(&self) -> bool {
            self.holds_data
        }
        fn read<'a>(&'a self, _: &'a Aws) -> BoxFuture<'a, Result<Option<Live>, ResourceError>> {
            Box::pin(async { Ok(None) })
        }
        fn delete<'a>(
            &'a self,
            _: &'a Aws,
            _: &'a Live,
            _: bool,
        ) -> BoxFuture<'a, Result<Deleted, ResourceError>> {
            Box::pin(async { Ok(Deleted::Deleted) })
        }
    }

    impl Resource for Fake {
        fn id(&self) -> &dyn Owned {
            &self.id
        }
        fn fields(&self) -> &'static [FieldSpec] {
            self.fields
        }
        fn desired(&self) -> Fields {
            self.desired.clone()
        }
        fn create<'a>(&'a self, _: &'a Aws) -> BoxFuture<'a, Result<(), ResourceError>> {
            Box::pin(async { Ok(()) })
        }
        fn update<'a>(
            &'a self,
            _: &'a Aws,
            _: &'a Live,
            _: &'a [FieldChange],
        ) -> BoxFuture<'a, Result<(), ResourceError>> {
            Box::pin(async { Ok(()) })
        }
    }

    fn ours(fields: &[(&'static str, FieldValue)]) -> Live {
        Live::ours(fields.iter().cloned().collect(), Handle::default())
    }

    fn size(n: i64) -> (&'static str, FieldValue) {
        ("size", FieldValue::Number(n))
    }

    #[test]
    fn absent_is_created_equal_is_left_alone_different_is_updated() {
        let resource = fake(&[size(2)]);
        assert_eq!(Plan::decide(&resource, None), Action::Create);
        assert_eq!(
            Plan::decide(&resource, Some(&ours(&[size(2)]))),
            Action::NoChange
        );
        let Action::Update { fields } = Plan::decide(&resource, Some(&ours(&[size(1)]))) else {
            panic!("expected an update")
        };
        assert_eq!(fields[0].field, "size");
        assert_eq!(fields[0].live, Some(FieldValue::Number(1)));
    }

    #[test]
    fn what_is_not_ours_is_refused_and_says_whose_it_is() {
        let resource = fake(&[size(2)]);
        for (found, says) in [
            (None, "without the showcase:stack tag"),
            (Some("other".to_owned()), "belongs to stack 'other'"),
        ] {
            let live = Live {
                ownership: Ownership::Foreign { found },
                fields: Fields::new(),
                handle: Handle::default(),
            };
            let Action::Refuse { reason } = Plan::decide(&resource, Some(&live)) else {
                panic!("expected a refusal")
            };
            assert!(reason.contains(says), "{reason}");
        }
    }

    #[test]
    fn a_replacement_of_data_says_it_deletes_data() {
        let mut resource = fake(&[size(2)]);
        resource.fields = SIZE_REPLACED;
        let action = Plan::decide(&resource, Some(&ours(&[size(1)])));
        assert!(matches!(
            action,
            Action::Replace {
                deletes_data: false,
                ..
            }
        ));
        resource.id.holds_data = true;
        let change = PlannedChange::decide(&resource, Some(&ours(&[size(1)])));
        let plan = Plan::of(vec![change]);
        assert_eq!(plan.data_losing_replacements().len(), 1);
        let text = crate::report::plan_text(&plan);
        assert!(
            text.contains("± fake.one  replace: deletes data, refused without --delete-data"),
            "{text}"
        );
        let json = serde_json::to_value(&plan).unwrap();
        assert_eq!(json["changes"][0]["action"], "replace");
        assert_eq!(json["changes"][0]["deletes_data"], true);
    }

    #[test]
    fn values_known_after_apply_defer_the_change_and_are_named() {
        let resource = fake(&[
            size(2),
            (
                "environment",
                FieldValue::Map([("URL".to_owned(), KNOWN_AFTER_APPLY.to_owned())].into()),
            ),
        ]);
        let change = PlannedChange::decide(&resource, None);
        assert!(change.deferred());
        assert_eq!(change.known_after_apply, ["environment"]);
        let plan = Plan::of(vec![change]);
        assert!(plan.has_deferred());
        assert!(
            crate::report::plan_text(&plan)
                .contains("+ fake.one  create (environment known after apply)")
        );
        let json = serde_json::to_value(&plan).unwrap();
        assert_eq!(json["changes"][0]["known_after_apply"][0], "environment");
    }

    #[test]
    fn reports_count_what_happens() {
        let plan = Plan::of(vec![
            PlannedChange {
                address: Address {
                    kind: "bucket",
                    name: "lake".into(),
                },
                action: Action::Delete { holds_data: true },
                known_after_apply: Vec::new(),
                disrupts: None,
            },
            PlannedChange {
                address: Address {
                    kind: "role",
                    name: "r".into(),
                },
                action: Action::Delete { holds_data: false },
                known_after_apply: Vec::new(),
                disrupts: None,
            },
        ]);
        let down = crate::report::down_plan_text(&plan, false);
        assert!(down.contains("bucket.lake  kept: holds data"), "{down}");
        assert!(down.contains("  - role.r  delete\n"), "{down}");
        assert!(down.ends_with("Down: 1 to delete, 1 kept.\n"), "{down}");
        let all = crate::report::down_plan_text(&plan, true);
        assert!(
            all.contains("  - bucket.lake  delete with its data"),
            "{all}"
        );
        let drift = crate::report::drift_text(&plan);
        assert!(drift.contains("Drift in 2 resource(s)"), "{drift}");
        let empty = Plan::default();
        assert!(crate::report::plan_text(&empty).contains("No changes"));
        assert!(crate::report::drift_text(&empty).contains("No drift"));
    }
}
