use futures_util::future::join_all;

use super::plan::{Action, Plan};
use crate::aws::Aws;
use crate::layers::layers;
use crate::resources::{Address, Deleted, Ownership, Resource, ResourceError};

/// Progress of an apply or destroy, for the reporting layer.
#[derive(Debug, Clone)]
pub enum Event {
    Started {
        address: Address,
        action: &'static str,
    },
    Finished {
        address: Address,
        action: &'static str,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Resource(#[from] ResourceError),
    #[error("refusing to touch resources the stack does not own:\n  {}", .0.join("\n  "))]
    Refused(Vec<String>),
    #[error("the resource graph is broken: {0}")]
    Graph(String),
}

/// Resources in dependency layers (indexes into `resources`).
fn resource_layers(resources: &[Box<dyn Resource>]) -> Result<Vec<Vec<usize>>, EngineError> {
    let addresses: Vec<Address> = resources.iter().map(|r| r.address()).collect();
    let index = |address: &Address| addresses.iter().position(|a| a == address);
    let mut edges = Vec::new();
    for (i, resource) in resources.iter().enumerate() {
        for dependency in resource.depends_on() {
            let j = index(&dependency).ok_or_else(|| {
                EngineError::Graph(format!("{} depends on unknown {dependency}", addresses[i]))
            })?;
            edges.push((j, i));
        }
    }
    let nodes: Vec<usize> = (0..resources.len()).collect();
    layers(&nodes, &edges).map_err(|e| EngineError::Graph(e.to_string()))
}

/// Applies `plan`: dependencies first, independent resources concurrently.
/// Safe to rerun after a crash: a rerun plans from what exists.
pub async fn apply(
    aws: &Aws,
    resources: &[Box<dyn Resource>],
    plan: &Plan,
    on_event: &(dyn Fn(Event) + Sync),
) -> Result<(), EngineError> {
    let refused: Vec<String> = plan
        .refusals()
        .iter()
        .map(|c| match &c.action {
            Action::Refuse { reason } => reason.clone(),
            _ => c.address.to_string(),
        })
        .collect();
    if !refused.is_empty() {
        return Err(EngineError::Refused(refused));
    }
    for layer in resource_layers(resources)? {
        let work = layer.into_iter().filter_map(|i| {
            let resource = resources[i].as_ref();
            let change = plan
                .changes
                .iter()
                .find(|c| c.address == resource.address())?;
            let action = match &change.action {
                Action::NoChange | Action::Refuse { .. } => return None,
                Action::Create => "create",
                Action::Update { .. } => "update",
                Action::Replace { .. } => "replace",
            };
            Some(async move {
                on_event(Event::Started {
                    address: resource.address(),
                    action,
                });
                match &change.action {
                    Action::Create => resource.create(aws).await?,
                    Action::Update { fields } => resource.update(aws, fields).await?,
                    Action::Replace { .. } => {
                        resource.delete(aws, true).await?;
                        resource.create(aws).await?;
                    }
                    Action::NoChange | Action::Refuse { .. } => {}
                }
                on_event(Event::Finished {
                    address: resource.address(),
                    action,
                });
                Ok::<(), EngineError>(())
            })
        });
        for outcome in join_all(work).await {
            outcome?;
        }
    }
    Ok(())
}

/// What `down` did to one resource.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum DestroyOutcome {
    Deleted,
    /// Holds data and `--delete-data` was not given.
    Kept,
    /// Nothing of that name exists (already deleted).
    Absent,
    /// Exists but is not the stack's: untouched.
    NotOurs,
}

/// Deletes what the stack owns, dependents first. A second run finds nothing.
pub async fn destroy(
    aws: &Aws,
    resources: &[Box<dyn Resource>],
    delete_data: bool,
    on_event: &(dyn Fn(Event) + Sync),
) -> Result<Vec<(Address, DestroyOutcome)>, EngineError> {
    let mut outcomes = Vec::new();
    for layer in resource_layers(resources)?.into_iter().rev() {
        let work = layer.into_iter().map(|i| {
            let resource = resources[i].as_ref();
            async move {
                let address = resource.address();
                let outcome = match resource.read(aws).await? {
                    None => DestroyOutcome::Absent,
                    Some(live) if live.ownership != Ownership::Ours => DestroyOutcome::NotOurs,
                    Some(_) => {
                        on_event(Event::Started {
                            address: address.clone(),
                            action: "delete",
                        });
                        let outcome = match resource.delete(aws, delete_data).await? {
                            Deleted::Deleted => DestroyOutcome::Deleted,
                            Deleted::KeptData => DestroyOutcome::Kept,
                        };
                        on_event(Event::Finished {
                            address: address.clone(),
                            action: "delete",
                        });
                        outcome
                    }
                };
                Ok::<_, EngineError>((address, outcome))
            }
        });
        for outcome in join_all(work).await {
            outcomes.push(outcome?);
        }
    }
    Ok(outcomes)
}
