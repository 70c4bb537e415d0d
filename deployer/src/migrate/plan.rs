//! The migration plan, decided from what was read (pure): which resource of
//! the CloudFormation stack becomes which of ours, what is kept, what is
//! retired, and the steps left from the state the stack and the bucket are in
//! (a rerun after a kill finds some already done).

use crate::config::{FunctionName, Stack};
use crate::resources::Resource as _;

use super::MigrateError;
use super::cloudformation::{SeedResource, SeedStack};
use super::seed_sql::SeedWarehouse;

/// What becomes of one resource of the CloudFormation stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// The bucket `lake.bucket` names: retained, then ours.
    Lake,
    /// Retained and left as it is (a resource that may hold data, or a type
    /// `migrate` does not know: never deleted on a guess).
    Kept,
    /// Deleted with the stack: the named resources of ours replace it.
    Retired { replaced_by: String },
}

/// Who the lake bucket belongs to, by its `showcase:stack` tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BucketOwner {
    /// No `showcase:stack` tag yet (the seed's bucket before `migrate`).
    Unclaimed,
    Ours,
    Other(String),
}

/// One thing `migrate` still has to do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// UpdateStack setting `DeletionPolicy: Retain` on these logical ids.
    Retain(Vec<String>),
    /// Tag the lake bucket with the stack's tags (its existing tags kept).
    Claim,
    /// Our `up`: the bucket gets our settings, everything else is created.
    Up,
    /// DeleteStack; `retain` are RetainResources (a DELETE_FAILED stack's kept resources).
    Delete { retain: Vec<String> },
}

pub struct MigrationPlan {
    pub cfn_stack: String,
    pub status: String,
    pub lake_bucket: String,
    pub lake_logical_id: String,
    pub resources: Vec<(SeedResource, Role)>,
    pub steps: Vec<Step>,
    pub warehouse: SeedWarehouse,
}

/// States UpdateStack (and so a `DeletionPolicy` change) is taken in.
const UPDATABLE: &[&str] = &[
    "CREATE_COMPLETE",
    "UPDATE_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE",
    "IMPORT_COMPLETE",
    "IMPORT_ROLLBACK_COMPLETE",
];

/// What replaces a resource of the seed's type, or `None` (kept).
fn replaced_by(resource_type: &str, stack: &Stack) -> Option<String> {
    let function = |f| crate::stack::function_name(stack, f);
    let functions = format!(
        "function.{} and function.{}",
        function(FunctionName::Extractor),
        function(FunctionName::DataApi)
    );
    let api = format!(
        "data_api.{}",
        crate::stack::data_api(stack, "").address().name
    );
    match resource_type {
        "AWS::Lambda::Function"
        | "AWS::Lambda::Version"
        | "AWS::Lambda::Alias"
        | "AWS::Lambda::Url"
        | "AWS::Lambda::EventInvokeConfig" => Some(functions),
        "AWS::IAM::Role" | "AWS::IAM::Policy" => Some(format!(
            "function_role.{} and function_role.{}",
            crate::stack::role_name(stack, FunctionName::Extractor),
            crate::stack::role_name(stack, FunctionName::DataApi)
        )),
        "AWS::Logs::LogGroup" => Some(format!(
            "log_group.{} and log_group.{}",
            crate::stack::log_group_name(stack, FunctionName::Extractor),
            crate::stack::log_group_name(stack, FunctionName::DataApi)
        )),
        "AWS::Lambda::Permission" => Some(api),
        t if t.starts_with("AWS::ApiGatewayV2::") || t.starts_with("AWS::ApiGateway::") => {
            Some(api)
        }
        _ => None,
    }
}

/// Assigns every resource a role; the lake bucket must be one of the stack's.
pub fn assign(seed: &SeedStack, stack: &Stack) -> Result<Vec<(SeedResource, Role)>, MigrateError> {
    let is_bucket = |r: &SeedResource| r.resource_type == "AWS::S3::Bucket";
    if !seed
        .resources
        .iter()
        .any(|r| is_bucket(r) && r.physical_id == stack.lake.bucket)
    {
        return Err(MigrateError::BucketNotInStack {
            bucket: stack.lake.bucket.clone(),
            cfn_stack: seed.name.clone(),
            buckets: seed
                .resources
                .iter()
                .filter(|r| is_bucket(r))
                .map(|r| format!("{} ({})", r.physical_id, r.logical_id))
                .collect(),
        });
    }
    Ok(seed
        .resources
        .iter()
        .map(|r| {
            let role = if is_bucket(r) && r.physical_id == stack.lake.bucket {
                Role::Lake
            } else {
                replaced_by(&r.resource_type, stack)
                    .map_or(Role::Kept, |replaced_by| Role::Retired { replaced_by })
            };
            (r.clone(), role)
        })
        .collect())
}

/// The steps left, from the stack's (settled) status and the bucket's owner.
pub fn steps(
    seed: &SeedStack,
    resources: &[(SeedResource, Role)],
    owner: &BucketOwner,
) -> Result<Vec<Step>, MigrateError> {
    if let BucketOwner::Other(other) = owner {
        return Err(MigrateError::BucketOfAnotherStack {
            bucket: resources
                .iter()
                .find(|(_, role)| *role == Role::Lake)
                .map(|(r, _)| r.physical_id.clone())
                .unwrap_or_default(),
            other: other.clone(),
        });
    }
    let kept: Vec<&SeedResource> = resources
        .iter()
        .filter(|(_, role)| !matches!(role, Role::Retired { .. }))
        .map(|(r, _)| r)
        .collect();
    let mut steps = Vec::new();
    let retain_in_delete = if UPDATABLE.contains(&seed.status.as_str()) {
        let missing: Vec<String> = kept
            .iter()
            .filter(|r| !seed.retains(&r.logical_id))
            .map(|r| r.logical_id.clone())
            .collect();
        if !missing.is_empty() {
            steps.push(Step::Retain(missing));
        }
        Vec::new()
    } else if seed.status == "DELETE_FAILED" {
        // No UpdateStack in this state: RetainResources keeps what failed to go.
        kept.iter()
            .filter(|r| r.status == "DELETE_FAILED" && !seed.retains(&r.logical_id))
            .map(|r| r.logical_id.clone())
            .collect()
    } else {
        return Err(stuck(seed));
    };
    if *owner == BucketOwner::Unclaimed {
        steps.push(Step::Claim);
    }
    steps.push(Step::Up);
    steps.push(Step::Delete {
        retain: retain_in_delete,
    });
    Ok(steps)
}

/// Why a stack in this state cannot be migrated as it is, and what to do.
pub fn stuck(seed: &SeedStack) -> MigrateError {
    let failed: Vec<String> = seed
        .resources
        .iter()
        .filter(|r| r.status.ends_with("_FAILED"))
        .map(|r| {
            format!(
                "{} ({} {}): {} — {}",
                r.logical_id,
                r.resource_type,
                r.physical_id,
                r.status,
                r.reason.as_deref().unwrap_or("no reason given")
            )
        })
        .collect();
    let what_to_do = match seed.status.as_str() {
        "UPDATE_ROLLBACK_FAILED" => format!(
            "an update failed and so did its rollback. CloudFormation takes no update in this state, and migrate does not delete a stack whose resources it cannot vouch for. Fix the cause named above (often a resource changed or deleted by hand), then run `aws cloudformation continue-update-rollback --stack-name {}` (add `--resources-to-skip ID` only for a resource that cannot be restored, never a bucket), wait for UPDATE_ROLLBACK_COMPLETE and rerun migrate",
            seed.name
        ),
        "REVIEW_IN_PROGRESS" => {
            "a change set was created and never executed: execute or delete it, then rerun migrate"
                .to_owned()
        }
        "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" | "CREATE_FAILED" => {
            "its creation failed: there is no deployed seed to migrate from".to_owned()
        }
        other => format!(
            "{other} is not a state migrate knows how to continue from; once the stack is *_COMPLETE, rerun migrate"
        ),
    };
    MigrateError::Stuck {
        cfn_stack: seed.name.clone(),
        status: seed.status.clone(),
        reason: seed.reason.clone(),
        failed,
        what_to_do,
    }
}

impl MigrationPlan {
    /// The plan as a person reads it before saying yes.
    pub fn text(&self, stack: &Stack) -> String {
        let mut out = format!(
            "Migration of CloudFormation stack {} ({}) to stack {} in {}:\n",
            self.cfn_stack, self.status, stack.name, stack.region
        );
        out.push_str("\n  Becomes ours:\n");
        for (r, role) in &self.resources {
            if *role == Role::Lake {
                out.push_str(&format!(
                    "    {} {} ({}) → lake_bucket.{}: kept with every object and version; tagged {}={}, then given our settings (SSE-S3, TLS-only policy, public access block, versioning {}, lifecycle) — no object is read, copied, rewritten or deleted\n",
                    r.resource_type, r.physical_id, r.logical_id, self.lake_bucket,
                    crate::config::STACK_TAG, stack.name,
                    if stack.lake.versioning { "on" } else { "suspended" },
                ));
            }
        }
        let kept: Vec<_> = self
            .resources
            .iter()
            .filter(|(_, role)| *role == Role::Kept)
            .collect();
        if !kept.is_empty() {
            out.push_str(
                "\n  Kept as it is (retained: CloudFormation lets go of it, and so do we):\n",
            );
            for (r, _) in kept {
                out.push_str(&format!(
                    "    {} {} ({})\n",
                    r.resource_type, r.physical_id, r.logical_id
                ));
            }
        }
        out.push_str("\n  Retired (deleted by CloudFormation with the stack):\n");
        for (r, role) in &self.resources {
            if let Role::Retired { replaced_by } = role {
                out.push_str(&format!(
                    "    {} {} ({}) → replaced by {replaced_by}\n",
                    r.resource_type, r.physical_id, r.logical_id
                ));
            }
        }
        if !stack.lake.prefix.is_empty() {
            out.push_str(&format!(
                "\n  Note: lake.prefix = \"{}\", but the seed wrote at the bucket's root (YYYY-MM-DD/sales.parquet, …/products.csv, …/customers.csv): the new pipeline reads history only with lake.prefix = \"\".\n",
                stack.lake.prefix
            ));
        }
        out.push_str(&self.warehouse.hint(stack));
        out.push_str("\n  Steps:\n");
        for (n, step) in self.steps.iter().enumerate() {
            let text = match step {
                Step::Retain(ids) => format!(
                    "set DeletionPolicy: Retain on {} (an UpdateStack changing nothing else)",
                    ids.join(", ")
                ),
                Step::Claim => format!(
                    "tag bucket {} {}={} (its other tags kept)",
                    self.lake_bucket,
                    crate::config::STACK_TAG,
                    stack.name
                ),
                Step::Up => format!("up: stack {} brought up around the bucket", stack.name),
                Step::Delete { retain } if retain.is_empty() => format!(
                    "delete CloudFormation stack {}: it deletes what it alone owns",
                    self.cfn_stack
                ),
                Step::Delete { retain } => format!(
                    "delete CloudFormation stack {} again, retaining {}",
                    self.cfn_stack,
                    retain.join(", ")
                ),
            };
            out.push_str(&format!("    {}. {text}\n", n + 1));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack() -> Stack {
        let text = "[stack]\nname = \"demo\"\nregion = \"us-east-1\"\n[lake]\nbucket = \"showcase-data-pipeline\"\n";
        crate::config::parse(
            text,
            std::path::Path::new("stack.toml"),
            &crate::config::Vars::default(),
        )
        .unwrap()
    }

    fn resource(logical: &str, physical: &str, kind: &str, status: &str) -> SeedResource {
        SeedResource {
            logical_id: logical.into(),
            physical_id: physical.into(),
            resource_type: kind.into(),
            status: status.into(),
            reason: None,
        }
    }

    fn seed(status: &str, retained: bool, bucket_status: &str) -> SeedStack {
        let mut bucket = serde_json::json!({"Type": "AWS::S3::Bucket"});
        if retained {
            bucket["DeletionPolicy"] = "Retain".into();
        }
        SeedStack::for_tests(
            status,
            vec![
                resource(
                    "PipelineBucket",
                    "showcase-data-pipeline",
                    "AWS::S3::Bucket",
                    bucket_status,
                ),
                resource(
                    "SalesToS3",
                    "showcase_data_pipeline_sales_to_s3",
                    "AWS::Lambda::Function",
                    "CREATE_COMPLETE",
                ),
                resource(
                    "SalesToS3Role",
                    "seed-SalesToS3Role-X",
                    "AWS::IAM::Role",
                    "CREATE_COMPLETE",
                ),
                resource("Table", "orders", "AWS::DynamoDB::Table", "CREATE_COMPLETE"),
            ],
            serde_json::json!({"Resources": {
                "PipelineBucket": bucket,
                "SalesToS3": {"Type": "AWS::Lambda::Function"},
                "SalesToS3Role": {"Type": "AWS::IAM::Role"},
                "Table": {"Type": "AWS::DynamoDB::Table"},
            }}),
        )
    }

    #[test]
    fn the_bucket_becomes_the_lake_known_types_retire_and_the_rest_is_kept() {
        let roles = assign(&seed("CREATE_COMPLETE", false, "CREATE_COMPLETE"), &stack()).unwrap();
        let role = |id: &str| {
            roles
                .iter()
                .find(|(r, _)| r.logical_id == id)
                .unwrap()
                .1
                .clone()
        };
        assert_eq!(role("PipelineBucket"), Role::Lake);
        assert_eq!(role("Table"), Role::Kept);
        assert_eq!(
            role("SalesToS3"),
            Role::Retired {
                replaced_by: "function.demo-extractor and function.demo-data-api".into()
            }
        );
        assert!(matches!(role("SalesToS3Role"), Role::Retired { .. }));
    }

    #[test]
    fn a_bucket_the_stack_does_not_hold_is_refused_naming_those_it_does() {
        let mut other = stack();
        other.lake.bucket = "elsewhere".into();
        let error = assign(&seed("CREATE_COMPLETE", false, "CREATE_COMPLETE"), &other)
            .unwrap_err()
            .to_string();
        assert!(error.contains("elsewhere"), "{error}");
        assert!(
            error.contains("showcase-data-pipeline (PipelineBucket)"),
            "{error}"
        );
    }

    #[test]
    fn steps_continue_from_what_is_already_done() {
        let all = |status, retained, owner| {
            let seed = seed(status, retained, "CREATE_COMPLETE");
            let roles = assign(&seed, &stack()).unwrap();
            steps(&seed, &roles, &owner)
        };
        assert_eq!(
            all("CREATE_COMPLETE", false, BucketOwner::Unclaimed).unwrap(),
            [
                Step::Retain(vec!["PipelineBucket".into(), "Table".into()]),
                Step::Claim,
                Step::Up,
                Step::Delete { retain: vec![] }
            ]
        );
        // Killed after the UpdateStack (Table is already retained in the template here too).
        let seed_retained = {
            let mut s = seed("UPDATE_COMPLETE", true, "CREATE_COMPLETE");
            s.template["Resources"]["Table"]["DeletionPolicy"] = "Retain".into();
            s
        };
        let roles = assign(&seed_retained, &stack()).unwrap();
        assert_eq!(
            steps(&seed_retained, &roles, &BucketOwner::Unclaimed).unwrap(),
            [Step::Claim, Step::Up, Step::Delete { retain: vec![] }]
        );
        assert_eq!(
            steps(&seed_retained, &roles, &BucketOwner::Ours).unwrap(),
            [Step::Up, Step::Delete { retain: vec![] }]
        );
        assert!(matches!(
            all("CREATE_COMPLETE", true, BucketOwner::Other("x".into())),
            Err(MigrateError::BucketOfAnotherStack { .. })
        ));
    }

    #[test]
    fn a_stack_stuck_in_delete_failed_is_deleted_again_retaining_the_bucket() {
        let seed = seed("DELETE_FAILED", false, "DELETE_FAILED");
        let roles = assign(&seed, &stack()).unwrap();
        assert_eq!(
            steps(&seed, &roles, &BucketOwner::Unclaimed).unwrap(),
            [
                Step::Claim,
                Step::Up,
                Step::Delete {
                    retain: vec!["PipelineBucket".into()]
                }
            ]
        );
    }

    #[test]
    fn update_rollback_failed_is_explained_and_nothing_is_done() {
        let mut seed = seed("UPDATE_ROLLBACK_FAILED", false, "CREATE_COMPLETE");
        seed.resources[2].status = "UPDATE_FAILED".into();
        seed.resources[2].reason = Some("Role was deleted by hand".into());
        let roles = assign(&seed, &stack()).unwrap();
        let error = steps(&seed, &roles, &BucketOwner::Unclaimed)
            .unwrap_err()
            .to_string();
        assert!(error.contains("UPDATE_ROLLBACK_FAILED"), "{error}");
        assert!(
            error.contains("SalesToS3Role (AWS::IAM::Role seed-SalesToS3Role-X): UPDATE_FAILED — Role was deleted by hand"),
            "{error}"
        );
        assert!(error.contains("continue-update-rollback"), "{error}");
        assert!(error.contains("Nothing was changed"), "{error}");
    }
}
