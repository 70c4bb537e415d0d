//! Resources of the stack that stack.toml no longer declares. What the tool
//! finds with its tag is the stack: each kind is listed by the names the stack
//! gives (or, for buckets and APIs, by the tag itself), and the engine reads
//! every candidate and deletes only those that carry the stack's tag.

use std::collections::{BTreeMap, BTreeSet};

use super::{Context, function_name_prefix, log_group_name_prefix, parameters_path};
use crate::aws::Aws;
use crate::config::{Architecture, FunctionConfig, LakeConfig, Stack};
use crate::resources::api_key_parameter::{self, ApiKeyParameter, Secret};
use crate::resources::data_api::{self, DataApi};
use crate::resources::function::{self, Function};
use crate::resources::function_role::{self, FunctionRole};
use crate::resources::lake_bucket::{self, LakeBucket};
use crate::resources::log_group::{self, LogGroup};
use crate::resources::{Address, Resource, ResourceError};

/// Live candidates not in `declared`, built only to be read and deleted: their
/// desired settings are placeholders the engine never applies.
pub async fn leftovers(
    aws: &Aws,
    stack: &Stack,
    context: &Context,
    declared: &[Box<dyn Resource>],
) -> Result<Vec<Box<dyn Resource>>, ResourceError> {
    let prefix = function_name_prefix(stack);
    let log_prefix = log_group_name_prefix(stack);
    let path = parameters_path(stack);
    let (buckets, roles, log_groups, functions, apis, parameters) = tokio::try_join!(
        lake_bucket::names_tagged(aws, &stack.name),
        function_role::names_starting_with(aws, &prefix),
        log_group::names_starting_with(aws, &log_prefix),
        function::names_starting_with(aws, &prefix),
        data_api::names_tagged(aws, &stack.name),
        api_key_parameter::names_under(aws, &path),
    )?;
    let owner = || stack.name.clone();
    let no_tags = BTreeMap::new;
    let mut found: Vec<Box<dyn Resource>> = Vec::new();
    for bucket in buckets {
        found.push(Box::new(LakeBucket {
            lake: LakeConfig {
                bucket,
                prefix: String::new(),
                versioning: false,
                lifecycle: Vec::new(),
            },
            stack: owner(),
            tags: no_tags(),
        }));
    }
    for name in roles {
        found.push(Box::new(FunctionRole {
            name,
            stack: owner(),
            tags: no_tags(),
            policy: serde_json::Value::Null,
        }));
    }
    for name in log_groups {
        found.push(Box::new(LogGroup {
            name,
            stack: owner(),
            retention_days: 0,
            tags: no_tags(),
        }));
    }
    for name in functions {
        found.push(Box::new(Function {
            role: Address {
                kind: function_role::KIND,
                name: format!("{name}-role"),
            },
            log_group: Address {
                kind: log_group::KIND,
                name: format!("/aws/lambda/{name}"),
            },
            name,
            stack: owner(),
            config: FunctionConfig {
                memory_mb: 128,
                timeout_s: 3,
                architecture: Architecture::X86_64,
                reserved_concurrency: None,
                log_retention_days: 0,
                environment: BTreeMap::new(),
            },
            role_arn: String::new(),
            environment: BTreeMap::new(),
            tags: no_tags(),
            code: None,
        }));
    }
    for name in apis {
        found.push(Box::new(DataApi {
            function_arn: format!(
                "arn:aws:lambda:{}:{}:function:{name}",
                stack.region, context.account
            ),
            function_name: name.clone(),
            function: Address {
                kind: function::KIND,
                name: name.clone(),
            },
            name,
            stack: owner(),
            api: stack.api.clone(),
            account: context.account.clone(),
            tags: no_tags(),
        }));
    }
    for name in parameters {
        found.push(Box::new(ApiKeyParameter {
            name,
            stack: owner(),
            tags: no_tags(),
            value: Secret(String::new()),
            data_api: Address {
                kind: data_api::KIND,
                name: super::function_name(stack, crate::config::FunctionName::DataApi),
            },
        }));
    }
    let declared: BTreeSet<Address> = declared.iter().map(|r| r.address()).collect();
    found.retain(|resource| !declared.contains(&resource.address()));
    Ok(found)
}
