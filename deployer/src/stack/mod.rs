//! `stack.toml` → the desired resources, in the user's words. The only place
//! that knows which resources a stack is made of and how they are named.

use std::collections::BTreeMap;

use serde_json::json;
use showcase_extractor::env as extractor_env;

use crate::config::{FunctionName, KIND_TAG, STACK_TAG, Stack};
use crate::resources::api_key_parameter::{ApiKeyParameter, Secret};
use crate::resources::data_api::DataApi;
use crate::resources::function::{Code, Function};
use crate::resources::function_role::FunctionRole;
use crate::resources::lake_bucket::LakeBucket;
use crate::resources::log_group::LogGroup;
use crate::resources::{KNOWN_AFTER_APPLY, Resource};

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

/// What every function's (and role's) name starts with.
fn function_name_prefix(stack: &Stack) -> String {
    format!("{}-", stack.name)
}

pub fn function_name(stack: &Stack, function: FunctionName) -> String {
    format!("{}{}", function_name_prefix(stack), function.as_str())
}

pub fn role_name(stack: &Stack, function: FunctionName) -> String {
    format!("{}-role", function_name(stack, function))
}

pub fn log_group_name(stack: &Stack, function: FunctionName) -> String {
    format!("/aws/lambda/{}", function_name(stack, function))
}

fn log_group_name_prefix(stack: &Stack) -> String {
    format!("/aws/lambda/{}", function_name_prefix(stack))
}

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
        let (account, endpoint) = tokio::join!(aws.account_id(), lookup.endpoint(aws));
        let account = account?;
        let endpoint = endpoint.map_err(|e| e.to_string())?;
        Ok(Context {
            account,
            code,
            api_url: endpoint.as_ref().map(|e| e.url.clone()),
            api_key: endpoint.and_then(|e| e.api_key),
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

/// Where the stack's SSM parameters live.
fn parameters_path(stack: &Stack) -> String {
    format!("/showcase/{}", stack.name)
}

/// The SSM parameter that holds the data API's key for the extractor.
pub fn api_key_parameter_name(stack: &Stack) -> String {
    format!("{}/data-api-key", parameters_path(stack))
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
        name: function.clone(),
        stack: stack.name.clone(),
        api: stack.api.clone(),
        function_arn: format!(
            "arn:aws:lambda:{}:{account}:function:{function}",
            stack.region
        ),
        function_name: function.clone(),
        account: account.to_owned(),
        tags: tags(stack),
        function: crate::resources::Address {
            kind: crate::resources::function::KIND,
            name: function,
        },
    }
}

/// Every resource the stack is made of, in dependency-friendly order.
pub fn resources(stack: &Stack, context: &Context) -> Vec<Box<dyn Resource>> {
    let account = context.account.as_str();
    let tags = |kind| kind_tags(stack, kind);
    let stack_tags = self::tags(stack);
    let mut resources: Vec<Box<dyn Resource>> = vec![Box::new(LakeBucket {
        lake: stack.lake.clone(),
        stack: stack.name.clone(),
        tags: tags(crate::resources::lake_bucket::KIND),
    })];
    for (function, config) in &stack.functions {
        let role = FunctionRole {
            name: role_name(stack, *function),
            stack: stack.name.clone(),
            tags: tags(crate::resources::function_role::KIND),
            policy: role_policy(stack, *function, account),
        };
        let log_group = LogGroup {
            name: log_group_name(stack, *function),
            stack: stack.name.clone(),
            retention_days: config.log_retention_days,
            tags: tags(crate::resources::log_group::KIND),
        };
        let lambda = Function {
            name: function_name(stack, *function),
            stack: stack.name.clone(),
            config: config.clone(),
            role_arn: format!("arn:aws:iam::{account}:role/{}", role.name),
            role: role.address(),
            log_group: log_group.address(),
            environment: environment(stack, *function, context),
            tags: tags(crate::resources::function::KIND),
            code: context.code.get(function).cloned(),
        };
        let proxied_by_api = (*function == FunctionName::DataApi).then(|| DataApi {
            name: function_name(stack, *function),
            stack: stack.name.clone(),
            api: stack.api.clone(),
            function_name: lambda.name.clone(),
            function_arn: format!(
                "arn:aws:lambda:{}:{account}:function:{}",
                stack.region, lambda.name
            ),
            account: account.to_owned(),
            // No kind tag: REST APIs are found by name and no other kind makes one
            // (and API Gateway's TagResource is the one tag call moto cannot test).
            tags: stack_tags.clone(),
            function: lambda.address(),
        });
        resources.push(Box::new(role));
        resources.push(Box::new(log_group));
        resources.push(Box::new(lambda));
        if let Some(api) = proxied_by_api {
            if let Some(key) = &context.api_key {
                let parameter = ApiKeyParameter {
                    name: api_key_parameter_name(stack),
                    stack: stack.name.clone(),
                    tags: tags(crate::resources::api_key_parameter::KIND),
                    value: key.clone(),
                    data_api: api.address(),
                };
                resources.push(Box::new(api));
                resources.push(Box::new(parameter));
            } else {
                resources.push(Box::new(api));
            }
        }
    }
    resources
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
