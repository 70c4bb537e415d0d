//! `migrate --from-cloudformation STACK`: from the seed's SAM stack to ours
//! without putting a byte of the lake at risk.
//!
//! Each run reads where things stand and does only what is left, in an order
//! where the data is safe at every step (so a run killed anywhere is resumed
//! by the next): the lake bucket and anything that may hold data get
//! `DeletionPolicy: Retain` (an UpdateStack changing nothing else); the
//! bucket is claimed (tagged with the stack's tags); our `up` gives it our
//! settings and creates the rest; the CloudFormation stack is deleted, and
//! deletes only what it alone owned. Removing the bucket from the template
//! instead would keep it on AWS but delete it on moto (STAND-INS.md): Retain
//! then DeleteStack keeps it on both.

mod cloudformation;
pub mod permissions;
mod plan;
mod seed_sql;

use std::collections::BTreeMap;
use std::path::Path;

use aws_sdk_s3::types::{Tag, Tagging};

use crate::aws::{describe, error_code};
use crate::engine::{Event, Plan};
use crate::session::{Session, SessionError};

pub use cloudformation::{SeedResource, SeedStack};
pub use plan::{BucketOwner, MigrationPlan, Role, Step};
pub use seed_sql::SeedWarehouse;

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(
        "CloudFormation stack {name} does not exist in {region} (check the name and stack.region); nothing was changed"
    )]
    NoSuchStack { name: String, region: String },
    #[error(
        "CloudFormation stack {name} was deleted, and lake bucket {bucket} is not stack {stack}'s: there is nothing to migrate from; nothing was changed"
    )]
    DeletedWithoutUs {
        name: String,
        bucket: String,
        stack: String,
    },
    #[error("lake.bucket = \"{bucket}\" is not a bucket of CloudFormation stack {cfn_stack}; {}", buckets_hint(.buckets))]
    BucketNotInStack {
        bucket: String,
        cfn_stack: String,
        buckets: Vec<String>,
    },
    #[error(
        "bucket {bucket} carries showcase:stack = {other}: it is another stack's lake, and migrate will not take it; nothing was changed"
    )]
    BucketOfAnotherStack { bucket: String, other: String },
    #[error("CloudFormation stack {cfn_stack} is {status}{}: {what_to_do}.{} Nothing was changed.", .reason.as_ref().map(|r| format!(" ({r})")).unwrap_or_default(), failed_list(.failed))]
    Stuck {
        cfn_stack: String,
        status: String,
        reason: Option<String>,
        failed: Vec<String>,
        what_to_do: String,
    },
    #[error(
        "the update setting DeletionPolicy: Retain on CloudFormation stack {stack} ended in {status}: CloudFormation rolled it back and nothing was lost; see the stack's events, then rerun migrate"
    )]
    UpdateFailed { stack: String, status: String },
    #[error(
        "CloudFormation could not delete stack {stack} ({status}).{} Our stack is up and the lake is retained, so no data is at risk. Fix the cause above (a role with a policy attached by hand, say) and rerun migrate; or keep those resources as they are with `aws cloudformation delete-stack --stack-name {stack} --retain-resources ID…`, then rerun migrate", failed_list(.failed))]
    DeleteFailed {
        stack: String,
        status: String,
        failed: Vec<String>,
    },
    #[error(
        "CloudFormation stack {stack} is still {status} after an hour: it goes on in CloudFormation; rerun migrate to wait again"
    )]
    StillInProgress { stack: String, status: String },
    #[error(
        "CloudFormation's processed template is not JSON ({detail}): migrate edits the template the SAM transform produced, which is JSON; nothing was changed"
    )]
    TemplateNotJson { detail: String },
    #[error(
        "the stack's template is {bytes} bytes, more than UpdateStack takes inline (51,200); nothing was changed"
    )]
    TemplateTooLarge { bytes: usize },
    #[error("--seed-dags: {0}")]
    SeedDags(String),
    #[error("cloudformation:{operation}: {detail}")]
    CloudFormation {
        operation: &'static str,
        detail: String,
    },
    #[error("s3:{operation} on bucket {bucket}: {detail}")]
    Bucket {
        operation: &'static str,
        bucket: String,
        detail: String,
    },
    /// Boxed: the session's errors are large, and this one is rare.
    #[error(transparent)]
    Session(Box<SessionError>),
}

impl From<SessionError> for MigrateError {
    fn from(error: SessionError) -> MigrateError {
        MigrateError::Session(Box::new(error))
    }
}

fn buckets_hint(buckets: &[String]) -> String {
    if buckets.is_empty() {
        "the stack has no bucket: there is no lake to migrate; nothing was changed".into()
    } else {
        format!(
            "its buckets: {}. Set lake.bucket to the seed's lake (in stack.toml, or --var) and rerun; nothing was changed",
            buckets.join(", ")
        )
    }
}

fn failed_list(failed: &[String]) -> String {
    if failed.is_empty() {
        String::new()
    } else {
        format!("\n  {}\n", failed.join("\n  "))
    }
}

/// Where things stand, read before anything is changed.
pub enum Survey {
    /// The CloudFormation stack is gone and the lake is ours.
    Done,
    Pending(Box<Pending>),
}

pub struct Pending {
    pub seed: SeedStack,
    pub plan: MigrationPlan,
}

/// Reads the CloudFormation stack (waiting while an operation on it is in
/// progress, as a killed run may have left one) and the lake bucket's owner,
/// and decides what is left. Changes nothing.
pub async fn survey(
    session: &Session,
    cfn_stack: &str,
    seed_dags: Option<&Path>,
) -> Result<Survey, MigrateError> {
    let aws = &session.aws;
    let stack = &session.stack;
    let warehouse = match seed_dags {
        Some(dir) => seed_sql::scan(dir).map_err(MigrateError::SeedDags)?,
        None => SeedWarehouse::default(),
    };
    // Gone: done if the lake is ours (a run deleted it after `up`), else nothing to migrate from.
    let gone = || async {
        match bucket_owner(session).await? {
            Some(BucketOwner::Ours) => Ok(Survey::Done),
            _ => Err(MigrateError::DeletedWithoutUs {
                name: cfn_stack.to_owned(),
                bucket: stack.lake.bucket.clone(),
                stack: stack.name.clone(),
            }),
        }
    };
    let mut seed = match cloudformation::find(aws, cfn_stack).await? {
        cloudformation::Found::Live(seed) => *seed,
        cloudformation::Found::Deleted => return gone().await,
        cloudformation::Found::Never => {
            return Err(MigrateError::NoSuchStack {
                name: cfn_stack.to_owned(),
                region: stack.region.clone(),
            });
        }
    };
    if seed.status.ends_with("_IN_PROGRESS") && seed.status != "REVIEW_IN_PROGRESS" {
        // A killed run's operation (or someone's) goes on in CloudFormation.
        if cloudformation::settle(aws, &seed.id).await? == "DELETE_COMPLETE" {
            return gone().await;
        }
        seed = match cloudformation::find(aws, &seed.id).await? {
            cloudformation::Found::Live(again) => *again,
            _ => return gone().await,
        };
    }
    let resources = plan::assign(&seed, stack)?;
    let owner = bucket_owner(session)
        .await?
        .ok_or_else(|| MigrateError::Bucket {
            operation: "HeadBucket",
            bucket: stack.lake.bucket.clone(),
            detail: "CloudFormation lists it, but it does not exist".into(),
        })?;
    let steps = plan::steps(&seed, &resources, &owner)?;
    let lake_logical_id = resources
        .iter()
        .find(|(_, role)| *role == Role::Lake)
        .map(|(r, _)| r.logical_id.clone())
        .unwrap_or_default();
    let plan = MigrationPlan {
        cfn_stack: seed.name.clone(),
        status: seed.status.clone(),
        lake_bucket: stack.lake.bucket.clone(),
        lake_logical_id,
        resources,
        steps,
        warehouse,
    };
    Ok(Survey::Pending(Box::new(Pending { seed, plan })))
}

/// The lake bucket's tags, `None` when it does not exist.
async fn bucket_tags(session: &Session) -> Result<Option<BTreeMap<String, String>>, MigrateError> {
    let bucket = &session.stack.lake.bucket;
    let error = |operation, detail| MigrateError::Bucket {
        operation,
        bucket: bucket.clone(),
        detail,
    };
    match session
        .aws
        .s3
        .get_bucket_tagging()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(out) => Ok(Some(
            out.tag_set()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect(),
        )),
        Err(e) if error_code(&e) == Some("NoSuchTagSet") => Ok(Some(BTreeMap::new())),
        Err(e) if error_code(&e) == Some("NoSuchBucket") => Ok(None),
        Err(e) => Err(error("GetBucketTagging", describe(&e))),
    }
}

async fn bucket_owner(session: &Session) -> Result<Option<BucketOwner>, MigrateError> {
    Ok(bucket_tags(session)
        .await?
        .map(|tags| match tags.get(crate::config::STACK_TAG) {
            None => BucketOwner::Unclaimed,
            Some(owner) if *owner == session.stack.name => BucketOwner::Ours,
            Some(other) => BucketOwner::Other(other.clone()),
        }))
}

/// Tags the bucket with the stack's tags, keeping every tag it has (S3
/// refuses a tag set that drops CloudFormation's `aws:` tags).
async fn claim(session: &Session) -> Result<(), MigrateError> {
    let bucket = &session.stack.lake.bucket;
    let mut tags = bucket_tags(session).await?.unwrap_or_default();
    tags.extend(crate::stack::kind_tags(
        &session.stack,
        crate::resources::lake_bucket::KIND,
    ));
    let error = |detail| MigrateError::Bucket {
        operation: "PutBucketTagging",
        bucket: bucket.clone(),
        detail,
    };
    let tag_set = tags
        .iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| error(e.to_string()))?;
    let tagging = Tagging::builder()
        .set_tag_set(Some(tag_set))
        .build()
        .map_err(|e| error(e.to_string()))?;
    crate::aws::acting_on(
        format!("lake_bucket.{bucket}"),
        session
            .aws
            .s3
            .put_bucket_tagging()
            .bucket(bucket)
            .tagging(tagging)
            .send(),
    )
    .await
    .map_err(|e| error(describe(&e)))?;
    Ok(())
}

/// Carries out the plan's steps in order; `say` gets a line as each starts,
/// `on_plan` and `on_event` are `up`'s.
pub async fn carry_out(
    session: &Session,
    pending: &Pending,
    say: &(dyn Fn(&str) + Sync),
    on_plan: &(dyn Fn(&Plan) + Sync),
    on_event: &(dyn Fn(Event) + Sync),
) -> Result<(), MigrateError> {
    let seed = &pending.seed;
    for step in &pending.plan.steps {
        match step {
            Step::Retain(ids) => {
                say(&format!(
                    "Setting DeletionPolicy: Retain on {} in CloudFormation stack {}…",
                    ids.join(", "),
                    seed.name
                ));
                let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
                seed.update_template(&session.aws, &seed.template_retaining(&ids))
                    .await?;
            }
            Step::Claim => {
                say(&format!(
                    "Tagging bucket {} {}={}…",
                    session.stack.lake.bucket,
                    crate::config::STACK_TAG,
                    session.stack.name
                ));
                claim(session).await?;
            }
            Step::Up => {
                say(&format!("Bringing stack {} up…", session.stack.name));
                session.up(false, on_plan, on_event).await?;
            }
            Step::Delete { retain } => {
                say(&format!(
                    "Deleting CloudFormation stack {} (the lake is retained)…",
                    seed.name
                ));
                delete(session, seed, retain).await?;
            }
        }
    }
    Ok(())
}

/// DeleteStack; a DELETE_FAILED whose only failures are resources we keep is
/// retried once retaining them, anything else explained.
async fn delete(
    session: &Session,
    seed: &SeedStack,
    retain: &[String],
) -> Result<(), MigrateError> {
    let aws = &session.aws;
    let mut status = seed.delete(aws, retain).await?;
    if status == "DELETE_FAILED" {
        let resources = cloudformation::resources(aws, &seed.id).await?;
        let failed: Vec<&SeedResource> = resources
            .iter()
            .filter(|r| r.status == "DELETE_FAILED")
            .collect();
        let kept: Vec<String> = failed
            .iter()
            .filter(|r| r.resource_type == "AWS::S3::Bucket")
            .map(|r| r.logical_id.clone())
            .collect();
        if !kept.is_empty() && kept.len() == failed.len() {
            let mut again = seed.clone();
            again.status = status;
            status = again.delete(aws, &kept).await?;
        } else {
            return Err(MigrateError::DeleteFailed {
                stack: seed.name.clone(),
                status,
                failed: failed
                    .iter()
                    .map(|r| {
                        format!(
                            "{} ({} {}): {}",
                            r.logical_id,
                            r.resource_type,
                            r.physical_id,
                            r.reason.as_deref().unwrap_or("no reason given")
                        )
                    })
                    .collect(),
            });
        }
    }
    if status == "DELETE_COMPLETE" {
        Ok(())
    } else {
        Err(MigrateError::DeleteFailed {
            stack: seed.name.clone(),
            status,
            failed: Vec::new(),
        })
    }
}
