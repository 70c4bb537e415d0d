//! `stack.toml` → the desired resources, in the user's words. The only place
//! that knows which resources a stack is made of and how they are named.

use std::collections::BTreeMap;

use serde_json::json;
use showcase_extractor::env as extractor_env;

use crate::config::{FunctionName, KIND_TAG, STACK_TAG, Stack, WarehouseConfig, WarehouseKind};
use crate::resources::api_key_parameter::{ApiKeyParameter, ParameterId, Secret};
use crate::resources::data_api::{DataApi, DataApiId};
use crate::resources::function::{Code, Function, FunctionId};
use crate::resources::lake_bucket::{BucketId, LakeBucket};
use crate::resources::log_group::{LogGroup, LogGroupId};
use crate::resources::{Address, KNOWN_AFTER_APPLY, Resource};

/// Tags every resource of the stack carries: the user's, plus ownership.
pub fn tags(stack: &Stack) -> BTreeMap<String, String> {
    let mut tags = stack.tags.clone();
    tags.insert(STACK_TAG.to_owned(), stack.name.clone());
    tags
}

/// The tags of one resource of `kind`: the stack's, plus its kind, so that
/// two kinds of one AWS type (two kinds of role, two kinds of bucket) never
/// take each other's resources for leftovers.
pub fn kind_tags(stack: &Stack, kind: &str) -> BTreeMap<String, String> {
    let mut tags = tags(stack);
    tags.insert(KIND_TAG.to_owned(), kind.to_owned());
    tags
}

mod leftovers;

pub use leftovers::leftovers;

pub use crate::resources::api_key_parameter::name as api_key_parameter_name;
pub use crate::resources::function::name as function_name;
pub use crate::resources::function_role::name as role_name;
pub use crate::resources::log_group::name as log_group_name;

/// The least privilege a function needs: its own log group, and for the
/// extractor writing (not reading, listing or deleting) under the lake prefix.
pub fn role_policy(stack: &Stack, function: FunctionName, account: &str) -> serde_json::Value {
    let log_group = format!(
        "arn:aws:logs:{}:{account}:log-group:{}:*",
        stack.region,
        log_group_name(stack, function)
    );
    let mut statements = vec![json!({
        "Sid": "OwnLogs",
        "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": log_group,
    })];
    if function == FunctionName::Extractor {
        statements.push(json!({
            "Sid": "WriteLake",
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:AbortMultipartUpload"],
            "Resource": format!("arn:aws:s3:::{}/{}*", stack.lake.bucket, stack.lake.prefix),
        }));
        statements.push(json!({
            "Sid": "ReadApiKey",
            "Effect": "Allow",
            "Action": "ssm:GetParameter",
            "Resource": format!("arn:aws:ssm:{}:{account}:parameter{}", stack.region, api_key_parameter_name(stack)),
        }));
    }
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// Where the stack is deployed and what code it runs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Context {
    pub account: String,
    /// The last build of each function (absent: not built yet).
    pub code: BTreeMap<FunctionName, Code>,
    /// The data API's URL once it exists (the extractor's `API_BASE_URL`).
    pub api_url: Option<String>,
    /// The data API's key once it exists (kept in SSM for the extractor).
    pub api_key: Option<Secret>,
    /// The DAG as the MWAA environment gets it, once its names are known
    /// (`None` without `[orchestrator] mwaa_environment`, or before the warehouse exists).
    pub dag: Option<DagContext>,
}

/// The rendered DAG and the Airflow version of the environment it goes to.
#[derive(Debug, Clone, PartialEq)]
pub struct DagContext {
    pub files: Vec<crate::dag::DagFile>,
    pub airflow_version: String,
    /// Where the files go: the environment's source bucket, and the stack's
    /// folder in its DAG path (`<DagS3Path>/<stack>/`).
    pub bucket: String,
    pub folder: String,
}

impl DagContext {
    /// Reads the environment and renders the DAG with the names `run`
    /// resolves; `None` while the warehouse it names is not there yet.
    async fn discover(
        aws: &crate::aws::Aws,
        stack: &Stack,
        environment: &str,
    ) -> Result<Option<DagContext>, String> {
        use crate::aws_run::TargetError;
        use crate::resources::dag_objects::{SCHEMA, environment};
        let (environment, target) = tokio::join!(
            environment::read(aws, environment),
            crate::aws_run::resolve(aws, stack, SCHEMA),
        );
        let environment = environment.map_err(|e| e.to_string())?;
        let target = match target {
            Ok(target) => target,
            Err(
                TargetError::NoCluster(_)
                | TargetError::NotAvailable { .. }
                | TargetError::NoWorkgroup(_)
                | TargetError::WorkgroupNotAvailable { .. },
            ) => return Ok(None),
            Err(e) => return Err(format!("[orchestrator]: the DAG needs the warehouse: {e}")),
        };
        let files = crate::dag::render(&crate::dag::DagInput {
            stack_name: &stack.name,
            region: &stack.region,
            target: &target,
            schedule: crate::dag::DagSchedule::of(stack),
        })
        .map_err(|e| e.to_string())?;
        Ok(Some(DagContext {
            files,
            folder: environment.stack_prefix(&stack.name),
            bucket: environment.bucket,
            airflow_version: environment.airflow_version,
        }))
    }
}

impl Context {
    /// What the desired state depends on in AWS: the account, and the data
    /// API's URL and key once the API exists. One round trip: the lookups go
    /// by name (the account shapes ARNs, not lookups), side by side.
    pub async fn discover(
        aws: &crate::aws::Aws,
        stack: &Stack,
        code: BTreeMap<FunctionName, Code>,
    ) -> Result<Context, String> {
        let lookup = data_api(stack, "");
        let dag = async {
            match stack
                .orchestrator
                .as_ref()
                .and_then(|o| o.mwaa_environment.as_deref())
            {
                // Boxed: the SDK calls' futures are large, and this one is
                // inside every plan's (a debug build's test thread has 2 MB).
                Some(environment) => Box::pin(DagContext::discover(aws, stack, environment)).await,
                None => Ok(None),
            }
        };
        let (account, endpoint, dag) = tokio::join!(aws.account_id(), lookup.endpoint(aws), dag);
        let account = account?;
        let endpoint = endpoint.map_err(|e| e.to_string())?;
        Ok(Context {
            account,
            code,
            api_url: endpoint.as_ref().map(|e| e.url.clone()),
            api_key: endpoint.and_then(|e| e.api_key),
            dag: dag?,
        })
    }

    /// The context a plan shows: what does not exist yet (the API's URL, its
    /// key) is `(known after apply)`, so the plan lists everything `up` will
    /// do, and `up` applies what depends on it in a later pass.
    pub fn with_values_known_after_apply(mut self) -> Context {
        self.api_url
            .get_or_insert_with(|| KNOWN_AFTER_APPLY.to_owned());
        self.api_key
            .get_or_insert_with(|| Secret(KNOWN_AFTER_APPLY.to_owned()));
        self
    }
}

/// The environment a function gets: the user's, plus what the tool manages so
/// that names always match what it deployed.
pub fn environment(
    stack: &Stack,
    function: FunctionName,
    context: &Context,
) -> BTreeMap<String, String> {
    let mut environment = stack
        .functions
        .get(&function)
        .map(|f| f.environment.clone())
        .unwrap_or_default();
    match function {
        FunctionName::DataApi => {
            environment.insert(
                showcase_data_api::IGNORE_STAGE_IN_PATH.into(),
                "true".into(),
            );
        }
        FunctionName::Extractor => {
            environment.insert(
                extractor_env::LAKE_URL.into(),
                format!("s3://{}/{}", stack.lake.bucket, stack.lake.prefix),
            );
            // Known once the API exists: `up` sets it in a second pass after creating the API.
            if let Some(url) = &context.api_url {
                environment.insert(extractor_env::API_BASE_URL.into(), url.clone());
            }
            if context.api_key.is_some() {
                environment.insert(
                    extractor_env::API_KEY_PARAMETER.into(),
                    api_key_parameter_name(stack),
                );
            }
        }
    }
    environment
}

/// The data API resource of a stack (to look up its live endpoint).
pub fn data_api(stack: &Stack, account: &str) -> DataApi {
    let function = function_name(stack, FunctionName::DataApi);
    DataApi {
        id: DataApiId {
            name: crate::resources::data_api::name(stack),
            stack: stack.name.clone(),
            function: Address {
                kind: crate::resources::function::KIND,
                name: function.clone(),
            },
        },
        api: stack.api.clone(),
        function_arn: format!(
            "arn:aws:lambda:{}:{account}:function:{function}",
            stack.region
        ),
        function_name: function,
        account: account.to_owned(),
        // No kind tag: REST APIs are found by name and no other kind makes one
        // (and API Gateway's TagResource is the one tag call moto cannot test).
        tags: tags(stack),
    }
}

/// Every resource the stack is made of, in dependency-friendly order.
pub fn resources(stack: &Stack, context: &Context) -> Vec<Box<dyn Resource>> {
    let account = context.account.as_str();
    let tags = |kind| kind_tags(stack, kind);
    let mut resources: Vec<Box<dyn Resource>> = vec![Box::new(LakeBucket {
        id: BucketId {
            bucket: stack.lake.bucket.clone(),
            stack: stack.name.clone(),
        },
        lake: stack.lake.clone(),
        tags: tags(crate::resources::lake_bucket::KIND),
    })];
    for (function, config) in &stack.functions {
        let role = crate::resources::function_role::role(
            stack,
            *function,
            tags(crate::resources::function_role::KIND),
            role_policy(stack, *function, account),
        );
        let log_group = LogGroup {
            id: LogGroupId {
                name: log_group_name(stack, *function),
                stack: stack.name.clone(),
            },
            retention_days: config.log_retention_days,
            tags: tags(crate::resources::log_group::KIND),
        };
        let lambda = Function {
            id: FunctionId {
                name: function_name(stack, *function),
                stack: stack.name.clone(),
                role: role.address(),
                log_group: log_group.address(),
            },
            config: config.clone(),
            role_arn: format!("arn:aws:iam::{account}:role/{}", role.id.name),
            environment: environment(stack, *function, context),
            tags: tags(crate::resources::function::KIND),
            code: context.code.get(function).cloned(),
        };
        resources.push(Box::new(role));
        resources.push(Box::new(log_group));
        resources.push(Box::new(lambda));
        if *function == FunctionName::DataApi {
            let api = data_api(stack, account);
            let api_address = api.address();
            resources.push(Box::new(api));
            if let Some(key) = &context.api_key {
                resources.push(Box::new(ApiKeyParameter {
                    id: ParameterId {
                        name: api_key_parameter_name(stack),
                        stack: stack.name.clone(),
                        data_api: api_address,
                    },
                    tags: tags(crate::resources::api_key_parameter::KIND),
                    value: key.clone(),
                }));
            }
        }
    }
    if let Some(warehouse) = &stack.warehouse {
        resources.extend(warehouse_resources(stack, warehouse, account, &tags));
    }
    for object in crate::resources::dag_objects::objects(
        stack,
        context.dag.as_ref(),
        tags(crate::resources::dag_objects::KIND),
    ) {
        resources.push(Box::new(object));
    }
    if let Some(requirements) = crate::resources::mwaa_requirements::desired(
        stack,
        tags(crate::resources::mwaa_requirements::KIND),
    ) {
        resources.push(Box::new(requirements));
    }
    resources
}

/// The COPY role, and for a cluster the stack owns its subnet group and the
/// cluster itself; for serverless its namespace and workgroup.
fn warehouse_resources(
    stack: &Stack,
    warehouse: &WarehouseConfig,
    account: &str,
    tags: &dyn Fn(&'static str) -> BTreeMap<String, String>,
) -> Vec<Box<dyn Resource>> {
    use crate::resources::{cluster, copy_role, subnet_group};
    let role = copy_role::role(stack, tags(copy_role::KIND));
    let mut depends = vec![role.address()];
    let mut resources: Vec<Box<dyn Resource>> = vec![Box::new(role)];
    let config = match &warehouse.kind {
        WarehouseKind::Cluster(config) => config,
        WarehouseKind::Serverless(config) => {
            resources.extend(serverless_resources(
                stack, warehouse, config, account, tags,
            ));
            return resources;
        }
        // An existing warehouse is the user's: only the role is the stack's.
        WarehouseKind::Existing(_) => return resources,
    };
    let subnet_group = (!config.network.subnet_ids.is_empty()).then(|| subnet_group::SubnetGroup {
        id: subnet_group::SubnetGroupId {
            name: subnet_group::name(stack),
            stack: stack.name.clone(),
        },
        subnet_ids: config.network.subnet_ids.clone(),
        region: stack.region.clone(),
        account: account.to_owned(),
        tags: tags(subnet_group::KIND),
    });
    let subnet_group_name = subnet_group.as_ref().map(|g| g.id.name.clone());
    if let Some(group) = subnet_group {
        depends.push(group.address());
        resources.push(Box::new(group));
    }
    resources.push(Box::new(cluster::Cluster {
        id: cluster::ClusterId {
            name: cluster::name(stack),
            stack: stack.name.clone(),
            depends,
        },
        config: config.clone(),
        database: warehouse.database.clone(),
        copy_role_arn: copy_role::arn(stack, account),
        subnet_group: subnet_group_name,
        region: stack.region.clone(),
        account: account.to_owned(),
        tags: tags(cluster::KIND),
    }));
    resources
}

/// The namespace (with the COPY role attached) and its workgroup.
fn serverless_resources(
    stack: &Stack,
    warehouse: &WarehouseConfig,
    config: &crate::config::ServerlessConfig,
    account: &str,
    tags: &dyn Fn(&'static str) -> BTreeMap<String, String>,
) -> Vec<Box<dyn Resource>> {
    use crate::resources::copy_role;
    use crate::resources::serverless::{namespace, workgroup};
    let namespace = namespace::Namespace {
        id: namespace::id(stack),
        database: warehouse.database.clone(),
        admin_user: config.admin_user.clone(),
        copy_role_arn: copy_role::arn(stack, account),
        tags: tags(namespace::KIND),
    };
    let workgroup = workgroup::Workgroup {
        id: workgroup::id(stack),
        namespace: namespace.id.name.clone(),
        config: config.clone(),
        tags: tags(workgroup::KIND),
    };
    vec![Box::new(namespace), Box::new(workgroup)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack() -> Stack {
        let text = "[stack]\nname = \"demo\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"demo-lake\"\nprefix = \"raw\"\n";
        crate::config::parse(
            text,
            std::path::Path::new("stack.toml"),
            &crate::config::Vars::default(),
        )
        .unwrap()
    }

    #[test]
    fn the_extractor_may_only_write_under_the_lake_prefix() {
        let policy = role_policy(&stack(), FunctionName::Extractor, "123456789012");
        let statements = policy["Statement"].as_array().unwrap();
        let lake = statements.iter().find(|s| s["Sid"] == "WriteLake").unwrap();
        assert_eq!(lake["Resource"], "arn:aws:s3:::demo-lake/raw/*");
        assert_eq!(
            lake["Action"],
            json!(["s3:PutObject", "s3:AbortMultipartUpload"])
        );
        let logs = statements.iter().find(|s| s["Sid"] == "OwnLogs").unwrap();
        assert_eq!(
            logs["Resource"],
            "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/demo-extractor:*"
        );
        assert!(
            !policy.to_string().contains("s3:GetObject") && !policy.to_string().contains("\"*\"")
        );
    }

    #[test]
    fn the_api_function_may_only_write_its_logs() {
        let policy = role_policy(&stack(), FunctionName::DataApi, "123456789012");
        assert_eq!(policy["Statement"].as_array().unwrap().len(), 1);
        assert!(!policy.to_string().contains("s3:"));
    }

    /// Every kind declares its fields once: what it asks for is exactly the
    /// fields it declares (each updatable or marked replace-on-change), and
    /// it names every kind the registry knows.
    #[test]
    fn every_kind_desires_exactly_the_fields_it_declares() {
        let context = Context {
            account: "123456789012".into(),
            ..Context::default()
        }
        .with_values_known_after_apply();
        // With a warehouse cluster in a VPC, and with a serverless one, and MWAA: every kind there is.
        let base = "[stack]\nname = \"demo\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"demo-lake\"\n[warehouse]\nsubnet_ids = [\"subnet-1\"]\n";
        let resources: Vec<Box<dyn Resource>> = ["cluster", "serverless"]
            .into_iter()
            .flat_map(|kind| {
                let stack = crate::config::parse(
                    &format!(
                        "{base}kind = \"{kind}\"\n[orchestrator]\nmwaa_environment = \"env\"\nrequirements = [\"tomli\"]\n"
                    ),
                    std::path::Path::new("stack.toml"),
                    &crate::config::Vars::default(),
                )
                .unwrap();
                resources(&stack, &context)
            })
            .collect();
        let mut kinds: Vec<&str> = Vec::new();
        for resource in &resources {
            let desired: Vec<&str> = resource.desired().keys().copied().collect();
            let mut declared: Vec<&str> = resource.fields().iter().map(|f| f.name).collect();
            declared.sort_unstable();
            let mut unique = declared.clone();
            unique.dedup();
            assert_eq!(
                declared,
                unique,
                "{} declares a field twice",
                resource.address()
            );
            // A function without a build has no code to compare.
            let desired_or_code: Vec<&str> = if resource.address().kind == "function" {
                let mut with_code = desired.clone();
                with_code.push("code_sha256");
                with_code.sort_unstable();
                with_code
            } else {
                desired
            };
            assert_eq!(desired_or_code, declared, "{}", resource.address());
            kinds.push(resource.address().kind);
        }
        kinds.sort_unstable();
        kinds.dedup();
        let mut registered: Vec<&str> = crate::resources::KINDS.iter().map(|k| k.name).collect();
        registered.sort_unstable();
        assert_eq!(kinds, registered);
    }

    #[test]
    fn a_stack_is_a_bucket_and_a_role_log_group_and_function_per_function() {
        let context = Context {
            account: "1".into(),
            ..Context::default()
        };
        let addresses: Vec<String> = resources(&stack(), &context)
            .iter()
            .map(|r| r.address().to_string())
            .collect();
        assert_eq!(
            addresses,
            [
                "lake_bucket.demo-lake",
                "function_role.demo-data-api-role",
                "log_group./aws/lambda/demo-data-api",
                "function.demo-data-api",
                "data_api.demo-data-api",
                "function_role.demo-extractor-role",
                "log_group./aws/lambda/demo-extractor",
                "function.demo-extractor",
            ]
        );
    }
}
