//! The IAM policy the tool itself needs, scoped to one stack's names:
//! read-only for `plan`, `drift` and `outputs` (a scheduled drift job), or
//! read-write for `up` and `down`. Generated from the table of the AWS
//! operations the tool calls — each kind declares its rows in its own module
//! ([`Grant`]) — so a test can prove that every request the tool makes is
//! covered, and that the read-only policy changes nothing.

use serde_json::json;

use crate::config::Stack;

/// Whether an operation changes anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// One SDK operation and the IAM actions it needs.
pub struct Operation {
    /// The SDK's service name, as in the request log (`Lambda`, `S3`, …).
    pub service: &'static str,
    pub name: &'static str,
    pub actions: &'static [&'static str],
    pub access: Access,
    /// `false` for listings and lookups IAM cannot scope to a resource.
    pub scoped: bool,
}

/// A read of the grant's resources.
pub const fn read(
    service: &'static str,
    name: &'static str,
    actions: &'static [&'static str],
) -> Operation {
    Operation {
        service,
        name,
        actions,
        access: Access::Read,
        scoped: true,
    }
}

/// A change to the grant's resources.
pub const fn write(
    service: &'static str,
    name: &'static str,
    actions: &'static [&'static str],
) -> Operation {
    Operation {
        service,
        name,
        actions,
        access: Access::Write,
        scoped: true,
    }
}

/// A listing that finds the stack: IAM allows nothing narrower than `*`.
pub const fn listing(
    service: &'static str,
    name: &'static str,
    actions: &'static [&'static str],
) -> Operation {
    Operation {
        service,
        name,
        actions,
        access: Access::Read,
        scoped: false,
    }
}

/// The operations a kind sends on a set of resources it names: one
/// statement of the policy (its listings go to the shared `FindTheStack`).
/// Each kind declares its own in its module; the registry collects them.
pub struct Grant {
    pub sid: &'static str,
    /// The resources' ARNs for a stack in an account.
    pub resources: fn(&Stack, &str) -> Vec<String>,
    pub operations: &'static [Operation],
}

/// What every command sends before any kind: who am I, and (for buckets)
/// what carries the stack's tag.
const SESSION: Grant = Grant {
    sid: "FindTheStack",
    resources: |_, _| vec!["*".into()],
    operations: &[
        listing("STS", "GetCallerIdentity", &[]),
        listing(
            "Resource Groups Tagging API",
            "GetResources",
            &["tag:GetResources"],
        ),
    ],
};

fn grants() -> impl Iterator<Item = &'static Grant> {
    std::iter::once(&SESSION).chain(
        crate::resources::KINDS
            .iter()
            .flat_map(|kind| kind.permissions.iter()),
    )
}

/// The IAM actions an SDK operation needs and whether it changes anything;
/// `None` for an operation no kind declares (a test keeps the table complete).
pub fn required(service: &str, operation: &str) -> Option<(Vec<&'static str>, Access)> {
    grants()
        // `migrate`'s rows: in its own policy (they need the seed stack's name).
        .chain(crate::migrate::permissions::GRANTS)
        .flat_map(|grant| grant.operations.iter())
        .find(|o| o.service == service && o.name == operation)
        .map(|o| (o.actions.to_vec(), o.access))
}

/// The policy document for `stack`: `Access::Read` for plan/drift/outputs,
/// `Access::Write` for everything (up and down too).
pub fn policy(stack: &Stack, account: &str, access: Access) -> serde_json::Value {
    let wanted = |o: &&Operation| access == Access::Write || o.access == Access::Read;
    let mut unscoped: Vec<&'static str> = Vec::new();
    // One statement per sid, in the registry's order (two grants may share a sid).
    let mut scoped: Vec<(&'static str, Vec<String>, Vec<&'static str>)> = Vec::new();
    for grant in grants() {
        for operation in grant.operations.iter().filter(wanted) {
            if !operation.scoped {
                unscoped.extend(operation.actions);
                continue;
            }
            let resources = (grant.resources)(stack, account);
            if resources.is_empty() {
                continue; // a kind this stack does not use
            }
            match scoped.iter_mut().find(|(sid, _, _)| *sid == grant.sid) {
                Some((_, _, actions)) => actions.extend(operation.actions),
                None => scoped.push((grant.sid, resources, operation.actions.to_vec())),
            }
        }
    }
    unscoped.sort_unstable();
    unscoped.dedup();
    let mut statements = Vec::new();
    if !unscoped.is_empty() {
        statements.push(json!({
            "Sid": SESSION.sid,
            "Effect": "Allow",
            "Action": unscoped,
            "Resource": "*",
        }));
    }
    for (sid, resources, mut actions) in scoped {
        actions.sort_unstable();
        actions.dedup();
        statements.push(json!({
            "Sid": sid,
            "Effect": "Allow",
            "Action": actions,
            "Resource": resources,
        }));
    }
    if let Some(statement) = read_existing_warehouse(stack, account) {
        statements.push(statement);
    }
    if access == Access::Write {
        // Not an API call: CreateFunction and UpdateFunctionConfiguration hand a
        // role to Lambda. Only the stack's roles, and only to Lambda.
        statements.push(json!({
            "Sid": "PassFunctionRoles",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": (crate::resources::function_role::arns)(stack, account),
            "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
        }));
        if let Some(crate::config::WarehouseConfig {
            kind:
                crate::config::WarehouseKind::Cluster(_) | crate::config::WarehouseKind::Serverless(_),
            ..
        }) = &stack.warehouse
        {
            // CreateCluster and ModifyClusterIamRoles (CreateNamespace and
            // UpdateNamespace) hand the COPY role to Redshift.
            statements.push(json!({
                "Sid": "PassCopyRole",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": crate::resources::copy_role::arn(stack, account),
                "Condition": {"StringEquals": {"iam:PassedToService": "redshift.amazonaws.com"}},
            }));
            // ManageMasterPassword: Redshift keeps the admin password in a
            // secret it makes under `redshift!`, as the caller.
            statements.push(json!({
                "Sid": "ManagedAdminPassword",
                "Effect": "Allow",
                "Action": [
                    "secretsmanager:CreateSecret",
                    "secretsmanager:DeleteSecret",
                    "secretsmanager:DescribeSecret",
                    "secretsmanager:RotateSecret",
                    "secretsmanager:TagResource",
                    "secretsmanager:UpdateSecret",
                ],
                "Resource": format!("arn:aws:secretsmanager:{}:{account}:secret:redshift!*", stack.region),
            }));
        }
    }
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// `kind = "existing"`: plan and drift read the user's cluster, or workgroup
/// and its namespace (whether the COPY role is attached), and nothing more.
fn read_existing_warehouse(stack: &Stack, account: &str) -> Option<serde_json::Value> {
    use crate::config::{ExistingWarehouse, WarehouseKind};
    let region = &stack.region;
    let (actions, resources) = match stack.warehouse.as_ref().map(|w| &w.kind) {
        Some(WarehouseKind::Existing(ExistingWarehouse::Cluster(id))) => (
            json!("redshift:DescribeClusters"),
            json!(format!("arn:aws:redshift:{region}:{account}:cluster:{id}")),
        ),
        // ARNs carry ids, not names: the account's workgroups and namespaces.
        Some(WarehouseKind::Existing(ExistingWarehouse::Workgroup(_))) => (
            json!([
                "redshift-serverless:GetNamespace",
                "redshift-serverless:GetWorkgroup"
            ]),
            json!([
                format!("arn:aws:redshift-serverless:{region}:{account}:namespace/*"),
                format!("arn:aws:redshift-serverless:{region}:{account}:workgroup/*"),
            ]),
        ),
        _ => return None,
    };
    Some(json!({
        "Sid": "ReadExistingWarehouse",
        "Effect": "Allow",
        "Action": actions,
        "Resource": resources,
    }))
}

/// What `run` on AWS needs (and an Airflow execution role running the same
/// graph): invoke the extractor, run statements on the warehouse and follow
/// them, read the credentials SQL runs with. Nothing that changes the stack.
pub fn run_policy(stack: &Stack, account: &str) -> serde_json::Value {
    use crate::config::{ExistingWarehouse, WarehouseKind};
    let region = &stack.region;
    let extractor = format!(
        "arn:aws:lambda:{region}:{account}:function:{}",
        crate::resources::function::name(stack, crate::config::FunctionName::Extractor)
    );
    let mut statements = vec![json!({
        "Sid": "InvokeExtractor",
        "Effect": "Allow",
        "Action": "lambda:InvokeFunction",
        "Resource": extractor,
    })];
    let cluster = match stack.warehouse.as_ref().map(|w| &w.kind) {
        Some(WarehouseKind::Cluster(_)) => Some(crate::resources::cluster::name(stack)),
        Some(WarehouseKind::Existing(ExistingWarehouse::Cluster(id))) => Some(id.clone()),
        _ => None,
    };
    let database = stack
        .warehouse
        .as_ref()
        .map_or("showcase", |w| w.database.as_str());
    if let Some(cluster) = &cluster {
        let cluster_arn = format!("arn:aws:redshift:{region}:{account}:cluster:{cluster}");
        statements.push(json!({
            "Sid": "RunStatements",
            "Effect": "Allow",
            "Action": ["redshift-data:BatchExecuteStatement", "redshift-data:ExecuteStatement"],
            "Resource": cluster_arn,
        }));
        statements.push(json!({
            "Sid": "FindTheWarehouse",
            "Effect": "Allow",
            "Action": "redshift:DescribeClusters",
            "Resource": cluster_arn,
        }));
        // SQL runs with the password AWS manages (its secret), or as the admin
        // user with IAM temporary credentials when there is no such secret.
        statements.push(json!({
            "Sid": "ManagedPassword",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": format!("arn:aws:secretsmanager:{region}:{account}:secret:redshift!{cluster}-*"),
        }));
        statements.push(json!({
            "Sid": "TemporaryCredentials",
            "Effect": "Allow",
            "Action": "redshift:GetClusterCredentials",
            "Resource": [
                format!("arn:aws:redshift:{region}:{account}:dbuser:{cluster}/*"),
                format!("arn:aws:redshift:{region}:{account}:dbname:{cluster}/{database}"),
            ],
        }));
    } else if let Some(
        WarehouseKind::Existing(ExistingWarehouse::Workgroup(_)) | WarehouseKind::Serverless(_),
    ) = stack.warehouse.as_ref().map(|w| &w.kind)
    {
        // A workgroup's ARN carries its id, not its name: the account's workgroups.
        statements.push(json!({
            "Sid": "RunStatements",
            "Effect": "Allow",
            "Action": [
                "redshift-data:BatchExecuteStatement",
                "redshift-data:ExecuteStatement",
                "redshift-serverless:GetCredentials",
                "redshift-serverless:GetWorkgroup",
            ],
            "Resource": format!("arn:aws:redshift-serverless:{region}:{account}:workgroup/*"),
        }));
        statements.push(json!({
            "Sid": "FindTheWarehouse",
            "Effect": "Allow",
            "Action": "redshift-serverless:GetNamespace",
            "Resource": format!("arn:aws:redshift-serverless:{region}:{account}:namespace/*"),
        }));
        if let Some(WarehouseKind::Serverless(_)) = stack.warehouse.as_ref().map(|w| &w.kind) {
            // SQL runs with the password AWS manages for the stack's namespace.
            statements.push(json!({
                "Sid": "ManagedPassword",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": format!(
                    "arn:aws:secretsmanager:{region}:{account}:secret:redshift!{}-*",
                    crate::resources::serverless::name(stack)
                ),
            }));
        }
    }
    // With an MWAA environment `run` triggers and follows the DAG's runs
    // there: Airflow's REST API as its `User` role (trigger and read DAG runs).
    if let Some(environment) = stack
        .orchestrator
        .as_ref()
        .and_then(|o| o.mwaa_environment.as_deref())
    {
        statements.push(json!({
            "Sid": "TriggerDagRuns",
            "Effect": "Allow",
            "Action": "airflow:InvokeRestApi",
            "Resource": format!("arn:aws:airflow:{region}:{account}:role/{environment}/User"),
        }));
    }
    // Statements have no ARN: follow only those this identity started.
    statements.push(json!({
        "Sid": "FollowOwnStatements",
        "Effect": "Allow",
        "Action": [
            "redshift-data:CancelStatement",
            "redshift-data:DescribeStatement",
            "redshift-data:GetStatementResult",
        ],
        "Resource": "*",
        "Condition": {"StringEquals": {"redshift-data:statement-owner-iam-userid": "${aws:userid}"}},
    }));
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// What the DAG needs on MWAA, to add to the environment's execution role
/// (which also needs what MWAA itself asks of it: its logs, bucket, queue):
/// `run`'s policy without the cluster lookup and the DAG runs' trigger, which
/// only `run` makes (the DAG names its cluster and credentials when it is rendered). The role is the
/// user's: the tool prints this and never attaches it.
pub fn mwaa_execution_policy(stack: &Stack, account: &str) -> serde_json::Value {
    let mut policy = run_policy(stack, account);
    if let Some(statements) = policy["Statement"].as_array_mut() {
        statements.retain(|s| s["Sid"] != "FindTheWarehouse" && s["Sid"] != "TriggerDagRuns");
    }
    policy
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack() -> Stack {
        let text =
            "[stack]\nname = \"demo\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"demo-lake\"\n";
        crate::config::parse(
            text,
            std::path::Path::new("stack.toml"),
            &crate::config::Vars::default(),
        )
        .unwrap()
    }

    fn statements(access: Access) -> Vec<serde_json::Value> {
        policy(&stack(), "123456789012", access)["Statement"]
            .as_array()
            .unwrap()
            .clone()
    }

    fn actions(statement: &serde_json::Value) -> Vec<String> {
        match &statement["Action"] {
            serde_json::Value::Array(list) => list
                .iter()
                .map(|a| a.as_str().unwrap().to_owned())
                .collect(),
            single => vec![single.as_str().unwrap().to_owned()],
        }
    }

    #[test]
    fn the_read_only_policy_reads_only() {
        for statement in statements(Access::Read) {
            for action in actions(&statement) {
                let verb = action.split(':').nth(1).unwrap();
                assert!(
                    ["Get", "List", "Describe", "GET"]
                        .iter()
                        .any(|read| verb.starts_with(read)),
                    "{action} in the read-only policy"
                );
            }
        }
    }

    #[test]
    fn only_listings_are_unscoped_and_everything_else_names_the_stack() {
        for statement in statements(Access::Write) {
            let resources = statement["Resource"].to_string();
            if resources.contains("\"*\"") {
                for action in actions(&statement) {
                    let verb = action.split(':').nth(1).unwrap();
                    assert!(
                        verb.starts_with("List")
                            || verb.starts_with("Describe")
                            || action == "tag:GetResources",
                        "{action} on every resource"
                    );
                }
            } else if resources.contains(":redshift-serverless:") {
                // A namespace's or workgroup's ARN carries an id AWS makes up,
                // never its name: the stack's region and account, no wider.
                assert!(
                    resources.contains(":redshift-serverless:eu-west-1:123456789012:"),
                    "{resources}"
                );
            } else {
                assert!(
                    resources.contains("demo") || resources.contains("apigateway"),
                    "{resources}"
                );
            }
        }
    }

    #[test]
    fn run_may_invoke_the_extractor_and_run_sql_on_the_stack_s_cluster_only() {
        let text = "[stack]\nname = \"demo\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"demo-lake\"\n[warehouse]\nkind = \"cluster\"\n";
        let stack = crate::config::parse(
            text,
            std::path::Path::new("stack.toml"),
            &crate::config::Vars::default(),
        )
        .unwrap();
        let policy = run_policy(&stack, "123456789012");
        let mwaa = mwaa_execution_policy(&stack, "123456789012");
        let mwaa_sids: Vec<&str> = mwaa["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["Sid"].as_str())
            .collect();
        assert_eq!(
            mwaa_sids,
            [
                "InvokeExtractor",
                "RunStatements",
                "ManagedPassword",
                "TemporaryCredentials",
                "FollowOwnStatements"
            ]
        );
        let statements = policy["Statement"].as_array().unwrap();
        let by_sid = |sid: &str| statements.iter().find(|s| s["Sid"] == sid).unwrap().clone();
        assert_eq!(
            by_sid("InvokeExtractor")["Resource"],
            "arn:aws:lambda:eu-west-1:123456789012:function:demo-extractor"
        );
        assert_eq!(
            by_sid("RunStatements")["Resource"],
            "arn:aws:redshift:eu-west-1:123456789012:cluster:demo-warehouse"
        );
        let follow = by_sid("FollowOwnStatements");
        assert_eq!(follow["Resource"], "*");
        assert!(
            follow["Condition"]
                .to_string()
                .contains("statement-owner-iam-userid")
        );
        let all = policy.to_string();
        for forbidden in ["Create", "Delete", "Put", "Modify", "iam:"] {
            assert!(!all.contains(forbidden), "{forbidden} in {all}");
        }
    }

    #[test]
    fn an_existing_warehouse_is_only_read_and_a_serverless_one_runs_as_its_secret() {
        let parse = |warehouse: &str| {
            let text = format!(
                "[stack]\nname = \"demo\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"demo-lake\"\n[warehouse]\n{warehouse}\n"
            );
            crate::config::parse(
                &text,
                std::path::Path::new("stack.toml"),
                &crate::config::Vars::default(),
            )
            .unwrap()
        };
        let existing = parse("kind = \"existing\"\ncluster = \"theirs\"");
        for access in [Access::Read, Access::Write] {
            let policy = policy(&existing, "123456789012", access);
            let read = policy["Statement"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["Sid"] == "ReadExistingWarehouse")
                .unwrap()
                .clone();
            assert_eq!(read["Action"], "redshift:DescribeClusters");
            assert_eq!(
                read["Resource"],
                "arn:aws:redshift:eu-west-1:123456789012:cluster:theirs"
            );
            // Their cluster is named once: in the read, never in a write.
            assert_eq!(policy.to_string().matches(":cluster:theirs").count(), 1);
        }
        let serverless = run_policy(&parse("kind = \"serverless\""), "123456789012").to_string();
        assert!(
            serverless.contains("secret:redshift!demo-warehouse-*")
                && serverless.contains("redshift-serverless:GetWorkgroup"),
            "{serverless}"
        );
    }

    #[test]
    fn roles_are_passed_to_lambda_only_and_only_the_stacks() {
        let pass = statements(Access::Write)
            .into_iter()
            .find(|s| s["Action"] == "iam:PassRole")
            .unwrap();
        assert_eq!(
            pass["Resource"],
            json!(["arn:aws:iam::123456789012:role/demo-*"])
        );
        assert_eq!(
            pass["Condition"]["StringEquals"]["iam:PassedToService"],
            "lambda.amazonaws.com"
        );
        assert!(
            !statements(Access::Read)
                .iter()
                .any(|s| s["Action"] == "iam:PassRole")
        );
    }
}
