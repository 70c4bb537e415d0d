use futures_util::future::join_all;

use super::plan::{Action, Consent, Plan};
use crate::aws::Aws;
use crate::layers::layers;
use crate::resources::{Address, Deleted, Live, Owned, Resource, ResourceError};

/// Progress of an apply or destroy, for the reporting layer.
#[derive(Debug, Clone)]
pub enum Event {
    Started {
        address: Address,
        action: &'static str,
    },
    Finished {
        address: Address,
        /// What happened: `created`, `updated`, `replaced`, `deleted`, or why not.
        result: &'static str,
    },
}

/// The result line of a kept data-holding resource.
const KEPT: &str = "kept with its data (--delete-data deletes it and everything in it)";

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Resource(#[from] ResourceError),
    #[error("refusing to touch resources the stack does not own:\n  {}", .0.join("\n  "))]
    Refused(Vec<String>),
    #[error("refusing to replace resources that hold data without --delete-data (replacing deletes them and everything in them):\n  {}", .0.join("\n  "))]
    WouldDeleteData(Vec<String>),
    #[error("refusing changes that disrupt what runs outside the stack without --allow-env-update:\n  {}", .0.join("\n  "))]
    WouldDisrupt(Vec<String>),
    #[error("the resource graph is broken: {0}")]
    Graph(String),
}

/// Resources in dependency layers (indexes into `resources`). A declared
/// resource depending on one not in the list is a bug in the stack; leftovers
/// (`strict` false) may have lost what they depended on, which is ignored.
fn resource_layers(resources: &[&dyn Owned], strict: bool) -> Result<Vec<Vec<usize>>, EngineError> {
    let addresses: Vec<Address> = resources.iter().map(|r| r.address()).collect();
    let index = |address: &Address| addresses.iter().position(|a| a == address);
    let mut edges = Vec::new();
    for (i, resource) in resources.iter().enumerate() {
        for dependency in resource.depends_on() {
            match index(&dependency) {
                Some(j) => edges.push((j, i)),
                None if strict => {
                    return Err(EngineError::Graph(format!(
                        "{} depends on unknown {dependency}",
                        addresses[i]
                    )));
                }
                None => {}
            }
        }
    }
    let nodes: Vec<usize> = (0..resources.len()).collect();
    layers(&nodes, &edges).map_err(|e| EngineError::Graph(e.to_string()))
}

/// Deletes one resource of the stack, reporting it; `Kept` when it holds data
/// and `delete_data` was not given.
async fn delete_reported(
    aws: &Aws,
    resource: &dyn Owned,
    live: &Live,
    delete_data: bool,
    on_event: &(dyn Fn(Event) + Sync),
) -> Result<DestroyOutcome, EngineError> {
    let address = resource.address();
    on_event(Event::Started {
        address: address.clone(),
        action: "delete",
    });
    let deleted =
        crate::aws::acting_on(address.to_string(), resource.delete(aws, live, delete_data));
    let (outcome, result) = match deleted.await? {
        Deleted::Deleted => (DestroyOutcome::Deleted, "deleted"),
        Deleted::KeptData => (DestroyOutcome::Kept, KEPT),
    };
    on_event(Event::Finished { address, result });
    Ok(outcome)
}

/// Whether `plan` may be applied at all: nothing refused (what is not the
/// stack's), no replacement that deletes data and no disruptive change
/// without the user's consent. Checked before anything is written, the
/// stack's lock included.
pub fn admissible(plan: &Plan, consent: Consent) -> Result<(), EngineError> {
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
    let losing: Vec<String> = plan
        .data_losing_replacements()
        .iter()
        .map(|c| c.address.to_string())
        .collect();
    if !losing.is_empty() && !consent.delete_data {
        return Err(EngineError::WouldDeleteData(losing));
    }
    let disrupting: Vec<String> = plan
        .disruptions()
        .iter()
        .filter_map(|c| Some(format!("{}: {}", c.address, c.disrupts?)))
        .collect();
    if !disrupting.is_empty() && !consent.disruption {
        return Err(EngineError::WouldDisrupt(disrupting));
    }
    Ok(())
}

/// Applies `plan`: dependencies first, independent resources concurrently;
/// then deletes the leftovers it marked (dependents first). Data-holding
/// leftovers are kept unless `consent.delete_data`. Safe to rerun after a
/// crash: a rerun plans from what exists.
pub async fn apply(
    aws: &Aws,
    declared: &[Box<dyn Resource>],
    leftovers: &[Box<dyn Owned>],
    plan: &Plan,
    consent: Consent,
    on_event: &(dyn Fn(Event) + Sync),
) -> Result<(), EngineError> {
    admissible(plan, consent)?;
    let delete_data = consent.delete_data;
    // Changes waiting for a value known after apply are left to a later pass.
    let action_of = |address: &Address| {
        plan.changes
            .iter()
            .find(|c| &c.address == address && !c.deferred())
            .map(|c| &c.action)
    };
    let declared_ids: Vec<&dyn Owned> = declared.iter().map(|r| r.id()).collect();
    for layer in resource_layers(&declared_ids, true)? {
        let work = layer.into_iter().filter_map(|i| {
            let resource = declared[i].as_ref();
            let action = action_of(&resource.address())?;
            let live = plan.live(&resource.address());
            let (verb, result) = match action {
                Action::NoChange | Action::Refuse { .. } | Action::Delete { .. } => return None,
                Action::Create => ("create", "created"),
                Action::Update { .. } => ("update", "updated"),
                Action::Replace { .. } => ("replace", "replaced"),
            };
            let work = async move {
                match (action, live) {
                    (Action::Create, _) => resource.create(aws).await?,
                    (Action::Update { fields }, Some(live)) => {
                        resource.update(aws, live, fields).await?
                    }
                    (Action::Replace { .. }, Some(live)) => {
                        // Checked above: a data-holding resource gets here only with --delete-data.
                        if resource.id().delete(aws, live, delete_data).await? == Deleted::KeptData
                        {
                            return Err(EngineError::WouldDeleteData(vec![
                                resource.address().to_string(),
                            ]));
                        }
                        resource.create(aws).await?;
                    }
                    (Action::Update { .. } | Action::Replace { .. }, None) => {
                        return Err(EngineError::Graph(format!(
                            "{}: planned as changed but never read",
                            resource.address()
                        )));
                    }
                    (Action::NoChange | Action::Refuse { .. } | Action::Delete { .. }, _) => {}
                }
                Ok::<(), EngineError>(())
            };
            Some(async move {
                on_event(Event::Started {
                    address: resource.address(),
                    action: verb,
                });
                crate::aws::acting_on(resource.address().to_string(), work).await?;
                on_event(Event::Finished {
                    address: resource.address(),
                    result,
                });
                Ok::<(), EngineError>(())
            })
        });
        for outcome in join_all(work).await {
            outcome?;
        }
    }
    let leftover_ids: Vec<&dyn Owned> = leftovers.iter().map(AsRef::as_ref).collect();
    for layer in resource_layers(&leftover_ids, false)?.into_iter().rev() {
        let work = layer.into_iter().filter_map(|i| {
            let resource = leftovers[i].as_ref();
            let live = plan.live(&resource.address())?;
            matches!(action_of(&resource.address()), Some(Action::Delete { .. }))
                .then(|| delete_reported(aws, resource, live, delete_data, on_event))
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

/// Carries out a [`destroy_plan`](super::destroy_plan): deletes what it
/// marks, dependents first (the leftovers stack.toml no longer declares, then
/// the declared resources), and says what became of every resource. A second
/// run finds nothing.
pub async fn destroy_planned(
    aws: &Aws,
    declared: &[Box<dyn Resource>],
    leftovers: &[Box<dyn Owned>],
    plan: &Plan,
    delete_data: bool,
    on_event: &(dyn Fn(Event) + Sync),
) -> Result<Vec<(Address, DestroyOutcome)>, EngineError> {
    let mut outcomes = Vec::new();
    let declared_ids: Vec<&dyn Owned> = declared.iter().map(|r| r.id()).collect();
    let leftover_ids: Vec<&dyn Owned> = leftovers.iter().map(AsRef::as_ref).collect();
    for (resources, strict) in [(&leftover_ids, false), (&declared_ids, true)] {
        for layer in resource_layers(resources, strict)?.into_iter().rev() {
            let work = layer.into_iter().map(|i| {
                let resource = resources[i];
                let action = plan
                    .changes
                    .iter()
                    .find(|c| c.address == resource.address())
                    .map(|c| &c.action);
                let live = plan.live(&resource.address());
                async move {
                    let outcome = match (action, live) {
                        (None, _) => DestroyOutcome::Absent,
                        (Some(Action::Delete { .. }), Some(live)) => {
                            delete_reported(aws, resource, live, delete_data, on_event).await?
                        }
                        (Some(_), _) => DestroyOutcome::NotOurs,
                    };
                    Ok::<_, EngineError>((resource.address(), outcome))
                }
            });
            for outcome in join_all(work).await {
                outcomes.push(outcome?);
            }
        }
    }
    Ok(outcomes)
}

/// Reads, then deletes what the stack owns: [`destroy_plan`](super::destroy_plan)
/// and [`destroy_planned`] in one call, for callers that need not show the plan.
pub async fn destroy(
    aws: &Aws,
    declared: &[Box<dyn Resource>],
    leftovers: &[Box<dyn Owned>],
    delete_data: bool,
    on_event: &(dyn Fn(Event) + Sync),
) -> Result<Vec<(Address, DestroyOutcome)>, EngineError> {
    let plan = super::destroy_plan(aws, declared, leftovers).await?;
    destroy_planned(aws, declared, leftovers, &plan, delete_data, on_event).await
}
