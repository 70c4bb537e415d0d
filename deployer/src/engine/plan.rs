use futures_util::future::join_all;

use crate::aws::Aws;
use crate::resources::{Address, FieldChange, Live, Ownership, Resource, ResourceError, diff};

/// What will happen to one resource.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    Create,
    Update {
        fields: Vec<FieldChange>,
    },
    /// A field that cannot change in place changed: delete, then create.
    Replace {
        fields: Vec<FieldChange>,
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
}

/// Every resource of the stack and what will happen to it, in stack order.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Plan {
    pub changes: Vec<PlannedChange>,
}

impl Plan {
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

    /// Decides one resource's action from its desired and live state (pure).
    pub fn decide(resource: &dyn Resource, live: Option<&Live>) -> Action {
        let Some(live) = live else {
            return Action::Create;
        };
        if let Ownership::Foreign { found } = &live.ownership {
            let whose = match found {
                Some(other) => format!("it belongs to stack '{other}'"),
                None => format!("it exists without the {} tag", crate::config::STACK_TAG),
            };
            let mut reason = format!(
                "{} already exists and {whose}; showcase-deploy will not adopt, change or delete it",
                resource.address()
            );
            if found.is_none() {
                // Without s3:TagResource a bucket is tagged just after CreateBucket: an `up`
                // killed in between leaves it untagged.
                reason.push_str(&format!(
                    ". If it is yours (an interrupted `up` may have created it just before tagging it), tag it {}=<stack name> and rerun",
                    crate::config::STACK_TAG
                ));
            }
            return Action::Refuse { reason };
        }
        let fields = diff(&resource.desired(), &live.fields);
        if fields.is_empty() {
            Action::NoChange
        } else if fields
            .iter()
            .any(|f| resource.replaced_when_changed().contains(&f.field))
        {
            Action::Replace { fields }
        } else {
            Action::Update { fields }
        }
    }
}

/// Reads every resource concurrently and decides what to do with each:
/// `declared` are the resources stack.toml asks for, `leftovers` live ones
/// found by name that it no longer declares (deleted only if they carry the
/// stack's tag).
pub async fn plan(
    aws: &Aws,
    declared: &[Box<dyn Resource>],
    leftovers: &[Box<dyn Resource>],
) -> Result<Plan, ResourceError> {
    let (declared_reads, leftover_reads) = futures_util::future::join(
        join_all(declared.iter().map(|r| r.read(aws))),
        join_all(leftovers.iter().map(|r| r.read(aws))),
    )
    .await;
    let mut changes = Vec::with_capacity(declared.len());
    for (resource, live) in declared.iter().zip(declared_reads) {
        let action = Plan::decide(resource.as_ref(), live?.as_ref());
        changes.push(PlannedChange {
            address: resource.address(),
            action,
        });
    }
    for (resource, live) in leftovers.iter().zip(leftover_reads) {
        if live?.is_some_and(|live| live.ownership == Ownership::Ours) {
            changes.push(PlannedChange {
                address: resource.address(),
                action: Action::Delete {
                    holds_data: resource.holds_data(),
                },
            });
        }
    }
    Ok(Plan { changes })
}
