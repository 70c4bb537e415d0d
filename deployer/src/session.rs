//! One deploy session: the sequence every verb shares — identify the account
//! and what the desired state depends on, declare the stack's resources, find
//! what it no longer declares, read, plan — then apply, destroy or report.
//! The CLI, the tests and the benches all call these; none has a copy.

use std::collections::BTreeMap;

use crate::aws::Aws;
use crate::config::{FunctionName, Stack};
use crate::engine::{self, Consent, DestroyOutcome, EngineError, Event, Plan};
use crate::lock::{Lock, LockError};
use crate::resources::function::Code;
use crate::resources::{Address, Owned, Resource, ResourceError};
use crate::stack::Context;

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The account or the data API could not be looked up (credentials, say).
    #[error("{0}")]
    Discover(String),
    #[error(transparent)]
    Resource(#[from] ResourceError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(
        "up made changes in {0} passes and still has more (values known after apply keep changing): rerun up, and report this if it persists"
    )]
    Unsettled(usize),
    #[error(transparent)]
    Lock(#[from] LockError),
}

/// How many passes `up` makes at most: the first creates the data API, the
/// second what needs its URL and key; the third is slack for a rerun that
/// finds a half-made API.
const MAX_PASSES: usize = 3;

/// The stack's resources as one command sees them.
pub struct Prepared {
    pub context: Context,
    /// What stack.toml asks for.
    pub declared: Vec<Box<dyn Resource>>,
    /// Live candidates it no longer declares (deleted only if they carry the tag).
    pub leftovers: Vec<Box<dyn Owned>>,
}

/// A stack, the clients to reach it, and the code its functions run.
pub struct Session {
    pub aws: Aws,
    pub stack: Stack,
    /// The last build of each function (absent: not built; `down` needs none).
    pub code: BTreeMap<FunctionName, Code>,
}

impl Session {
    pub fn new(aws: Aws, stack: Stack, code: BTreeMap<FunctionName, Code>) -> Session {
        Session { aws, stack, code }
    }

    /// Discovers the context and lists the leftovers side by side: neither
    /// needs the other (resources are found by name and tag; the context only
    /// shapes desired settings).
    pub async fn prepare(&self) -> Result<Prepared, SessionError> {
        let skeleton = Context::default().with_values_known_after_apply();
        let names = crate::stack::resources(&self.stack, &skeleton);
        let (context, leftovers) = tokio::join!(
            Context::discover(&self.aws, &self.stack, self.code.clone()),
            crate::stack::leftovers(&self.aws, &self.stack, &names),
        );
        let context = context
            .map_err(SessionError::Discover)?
            .with_values_known_after_apply();
        Ok(Prepared {
            declared: crate::stack::resources(&self.stack, &context),
            leftovers: leftovers?,
            context,
        })
    }

    /// What `up` would do (and what `drift` reports): every change, values
    /// that exist only after apply shown as such.
    pub async fn plan(&self) -> Result<Plan, SessionError> {
        Ok(self.read_plan().await?.1)
    }

    /// The read phase of `plan`, `drift` and each pass of `up`: every listing
    /// is sent once (see [`crate::aws::reading`]).
    ///
    /// Everything goes at once: resources are read by name, so the stack's
    /// resources are read (from a skeleton whose desired settings are not yet
    /// known) while the account and the data API are looked up and the
    /// leftovers listed and read; the plan is then decided with the real
    /// desired settings. A plan's time is its longest chain of reads.
    async fn read_plan(&self) -> Result<(Prepared, Plan), SessionError> {
        crate::aws::reading(async {
            let skeleton = Context::default().with_values_known_after_apply();
            let reading = crate::stack::resources(&self.stack, &skeleton);
            let leftovers = async {
                let leftovers = crate::stack::leftovers(&self.aws, &self.stack, &reading).await?;
                let reads = engine::read_leftovers(&self.aws, &leftovers).await?;
                Ok::<_, ResourceError>((leftovers, reads))
            };
            let (context, leftovers, declared_reads) = tokio::join!(
                Context::discover(&self.aws, &self.stack, self.code.clone()),
                leftovers,
                engine::read(&self.aws, &reading),
            );
            let context = context
                .map_err(SessionError::Discover)?
                .with_values_known_after_apply();
            let (leftovers, leftover_reads) = leftovers?;
            let declared = crate::stack::resources(&self.stack, &context);
            let same_resources = declared
                .iter()
                .map(|r| r.address())
                .eq(reading.iter().map(|r| r.address()));
            if !same_resources {
                // The context only shapes settings; a change of the set is a bug.
                return Err(SessionError::Discover(
                    "the stack's resources changed with what was discovered".into(),
                ));
            }
            let plan = engine::decide(&declared, declared_reads?, &leftovers, leftover_reads);
            Ok((
                Prepared {
                    context,
                    declared,
                    leftovers,
                },
                plan,
            ))
        })
        .await
    }

    /// Plans and applies until nothing is left for a later pass. `on_plan`
    /// sees each pass's plan before it is applied (the first is the whole
    /// plan; later ones hold what waited for values known after apply).
    /// Safe to rerun after a crash at any point: every pass plans from what
    /// exists.
    pub async fn up(
        &self,
        delete_data: bool,
        on_plan: &(dyn Fn(&Plan) + Sync),
        on_event: &(dyn Fn(Event) + Sync),
    ) -> Result<Vec<Plan>, SessionError> {
        let consent = Consent {
            delete_data,
            ..Consent::NONE
        };
        self.up_with(consent, on_plan, on_event).await
    }

    /// [`Session::up`] with all the user allowed: also changes that disrupt
    /// what runs outside the stack (`--allow-env-update`).
    pub async fn up_with(
        &self,
        consent: Consent,
        on_plan: &(dyn Fn(&Plan) + Sync),
        on_event: &(dyn Fn(Event) + Sync),
    ) -> Result<Vec<Plan>, SessionError> {
        let mut lock = None;
        let applied = self
            .apply_passes(consent, on_plan, on_event, &mut lock)
            .await;
        // Given back whatever happened (a killed run's lock expires on its own,
        // and a rerun with nothing to change removes it).
        let released = match lock {
            Some(lock) => self.locked(lock.release(&self.aws)).await,
            None if applied.is_ok() => self.clear_stale_lock().await.map(|_| ()),
            None => Ok(()),
        };
        let plans = applied?;
        released?;
        Ok(plans)
    }

    /// The passes of `up`; the lock is taken once a plan has changes (a no-op
    /// `up` stays read-only) and held until the last pass.
    async fn apply_passes(
        &self,
        consent: Consent,
        on_plan: &(dyn Fn(&Plan) + Sync),
        on_event: &(dyn Fn(Event) + Sync),
        lock: &mut Option<Lock>,
    ) -> Result<Vec<Plan>, SessionError> {
        let mut plans = Vec::new();
        for _pass in 0..MAX_PASSES {
            let (mut prepared, mut plan) = self.read_plan().await?;
            // Refused plans stop before the lock: nothing is written at all.
            engine::admissible(&plan, consent)?;
            if plan.has_changes() && lock.is_none() {
                *lock = Some(
                    self.locked(Lock::acquire(&self.aws, &self.stack, "up"))
                        .await?
                        .renewed(&self.aws),
                );
                // Read again under the lock: another run may have just finished.
                (prepared, plan) = self.read_plan().await?;
            }
            on_plan(&plan);
            engine::apply(
                &self.aws,
                &prepared.declared,
                &prepared.leftovers,
                &plan,
                consent,
                on_event,
            )
            .await?;
            let again = plan.has_deferred();
            plans.push(plan);
            if !again {
                return Ok(plans);
            }
        }
        Err(SessionError::Unsettled(MAX_PASSES))
    }

    /// Runs a lock request with its requests attributed to the lock in the log.
    async fn locked<T>(
        &self,
        work: impl std::future::Future<Output = Result<T, LockError>>,
    ) -> Result<T, SessionError> {
        let address = format!("lock.{}", crate::lock::name(&self.stack));
        Ok(crate::aws::acting_on(address, work).await?)
    }

    /// Removes a killed run's lock (see [`crate::lock::clear_stale`]); whose it was.
    pub async fn clear_stale_lock(&self) -> Result<Option<String>, SessionError> {
        self.locked(crate::lock::clear_stale(&self.aws, &self.stack))
            .await
    }

    /// What `down` will delete and keep, read before it asks.
    pub async fn down_plan(&self) -> Result<(Prepared, Plan), SessionError> {
        let prepared = self.prepare().await?;
        let plan = engine::destroy_plan(&self.aws, &prepared.declared, &prepared.leftovers).await?;
        Ok((prepared, plan))
    }

    /// Carries out a [`Session::down_plan`]; a warehouse deleted with
    /// `delete_data` leaves a final snapshot.
    pub async fn down(
        &self,
        prepared: &Prepared,
        plan: &Plan,
        delete_data: bool,
        on_event: &(dyn Fn(Event) + Sync),
    ) -> Result<Vec<(Address, DestroyOutcome)>, SessionError> {
        self.down_with(prepared, plan, delete_data, false, on_event)
            .await
    }

    /// [`Session::down`], and with `skip_final_snapshot` a warehouse deleted
    /// with `delete_data` leaves no final snapshot (`--skip-final-snapshot`).
    pub async fn down_with(
        &self,
        prepared: &Prepared,
        plan: &Plan,
        delete_data: bool,
        skip_final_snapshot: bool,
        on_event: &(dyn Fn(Event) + Sync),
    ) -> Result<Vec<(Address, DestroyOutcome)>, SessionError> {
        let lock = self
            .locked(Lock::acquire(&self.aws, &self.stack, "down"))
            .await?
            .renewed(&self.aws);
        let destroyed = crate::resources::final_snapshot::skipping(
            skip_final_snapshot,
            engine::destroy_planned(
                &self.aws,
                &prepared.declared,
                &prepared.leftovers,
                plan,
                delete_data,
                on_event,
            ),
        )
        .await;
        let released = self.locked(lock.release(&self.aws)).await;
        let outcomes = destroyed?;
        released?;
        Ok(outcomes)
    }

    /// What a user needs to use the stack, read from AWS. The API key's value
    /// only with `show_secrets`.
    pub async fn outputs(&self, show_secrets: bool) -> Result<serde_json::Value, SessionError> {
        let stack = &self.stack;
        let lookup = crate::stack::data_api(stack, "");
        let (account, endpoint) = tokio::join!(self.aws.account_id(), lookup.endpoint(&self.aws));
        let account = account.map_err(SessionError::Discover)?;
        let endpoint = endpoint?;
        let function_arn = |f| {
            format!(
                "arn:aws:lambda:{}:{account}:function:{}",
                stack.region,
                crate::stack::function_name(stack, f)
            )
        };
        let mut outputs = serde_json::json!({
            "stack": stack.name,
            "region": stack.region,
            "api_url": endpoint.as_ref().map(|e| e.url.clone()),
            "api_stage": stack.api.stage,
            "api_key_id": endpoint.as_ref().and_then(|e| e.api_key_id.clone()),
            "lake_bucket": stack.lake.bucket,
            "lake_url": format!("s3://{}/{}", stack.lake.bucket, stack.lake.prefix),
            "data_api_function": function_arn(FunctionName::DataApi),
            "extractor_function": function_arn(FunctionName::Extractor),
        });
        if show_secrets && let Some(key) = endpoint.and_then(|e| e.api_key) {
            outputs["api_key_value"] = serde_json::json!(key.0);
        }
        Ok(outputs)
    }
}
