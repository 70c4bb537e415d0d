//! A Lambda function from a built zip: `provided.al2023`, `bootstrap` handler,
//! architecture, memory, timeout, environment, role, optional reserved
//! concurrency. Code is uploaded only when the zip's sha256 differs from the
//! live `CodeSha256`.
//!
//! Settings stack.toml does not name still have a desired value: no layers
//! (a layer can add an extension that runs beside the code and reads its
//! environment), no VPC, no dead-letter target and no asynchronous
//! destinations (copies of events or results sent elsewhere), Lambda's own
//! KMS key, and logs to the function's own log group. One set by hand is
//! drift, and `up` puts it back.

mod policy;

pub use policy::policy_document;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use aws_sdk_lambda::client::Waiters;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    Architecture as LambdaArchitecture, DeadLetterConfig, Environment, FunctionCode, LoggingConfig,
    Runtime, VpcConfig,
};
use backon::{BackoffBuilder, ExponentialBuilder};
use futures_util::future::BoxFuture;

use super::tags::claim;
use super::{
    Address, Deleted, FieldChange, FieldSpec, FieldValue, Fields, Handle, Live, Owned, Resource,
    ResourceError,
};
use super::{Discovered, Kind};
use crate::aws::{Aws, describe, error_code};
use crate::config::{Architecture, FunctionConfig};
use crate::config::{FunctionName, Stack};
use crate::permissions::{Grant, listing, read, write};

pub const KIND: &str = "function";
const RUNTIME: &str = "provided.al2023";
const HANDLER: &str = "bootstrap";
const NONE: &str = "none";

/// The function's fields, declared once.
mod field {
    pub const TAGS: &str = "tags";
    /// Invoke grants besides the data API's: none.
    pub const OTHER_PERMISSIONS: &str = "other_permissions";
    pub const FUNCTION_URL: &str = "function_url";
    pub const CODE_SHA256: &str = "code_sha256";
    pub const RUNTIME: &str = "runtime";
    pub const HANDLER: &str = "handler";
    pub const ROLE: &str = "role";
    pub const MEMORY_MB: &str = "memory_mb";
    pub const TIMEOUT_S: &str = "timeout_s";
    pub const ARCHITECTURE: &str = "architecture";
    pub const ENVIRONMENT: &str = "environment";
    pub const RESERVED_CONCURRENCY: &str = "reserved_concurrency";
    /// Layer version ARNs: none.
    pub const LAYERS: &str = "layers";
    /// Subnets and security groups: none.
    pub const VPC: &str = "vpc";
    /// Where failed asynchronous events go: none.
    pub const DEAD_LETTER: &str = "dead_letter";
    /// The key encrypting the environment: none (Lambda's own).
    pub const KMS_KEY: &str = "kms_key";
    /// The log group the function writes to: its own.
    pub const LOGS_TO: &str = "logs_to";
    /// Destinations and retries of asynchronous invocations: none.
    pub const ASYNC_INVOKE: &str = "async_invoke";
}

/// Fields one UpdateFunctionConfiguration call sets.
const CONFIGURATION: &[&str] = &[
    field::MEMORY_MB,
    field::TIMEOUT_S,
    field::ROLE,
    field::ENVIRONMENT,
    field::RUNTIME,
    field::HANDLER,
    field::LAYERS,
    field::VPC,
    field::DEAD_LETTER,
    field::KMS_KEY,
    field::LOGS_TO,
];

/// Fields UpdateFunctionCode sets.
const CODE: &[&str] = &[field::CODE_SHA256, field::ARCHITECTURE];

/// Fields with a call of their own.
const OTHERS: &[&str] = &[
    field::TAGS,
    field::OTHER_PERMISSIONS,
    field::FUNCTION_URL,
    field::RESERVED_CONCURRENCY,
    field::ASYNC_INVOKE,
];

const FIELDS: &[FieldSpec] = &[
    FieldSpec::update(field::TAGS),
    FieldSpec::update(field::OTHER_PERMISSIONS),
    FieldSpec::update(field::FUNCTION_URL),
    FieldSpec::update(field::CODE_SHA256),
    FieldSpec::update(field::RUNTIME),
    FieldSpec::update(field::HANDLER),
    FieldSpec::update(field::ROLE),
    FieldSpec::update(field::MEMORY_MB),
    FieldSpec::update(field::TIMEOUT_S),
    FieldSpec::update(field::ARCHITECTURE),
    FieldSpec::update(field::ENVIRONMENT),
    FieldSpec::update(field::RESERVED_CONCURRENCY),
    FieldSpec::update(field::LAYERS),
    FieldSpec::update(field::VPC),
    FieldSpec::update(field::DEAD_LETTER),
    FieldSpec::update(field::KMS_KEY),
    FieldSpec::update(field::LOGS_TO),
    FieldSpec::update(field::ASYNC_INVOKE),
];

/// A built deployment package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    pub zip: PathBuf,
    /// base64(sha256(zip)), as Lambda's `CodeSha256`.
    pub sha256: String,
}

/// A function by its identity: what reads and deletes it.
pub struct FunctionId {
    pub name: String,
    pub stack: String,
    /// Dependencies, by address (its role and its log group).
    pub role: Address,
    pub log_group: Address,
}

impl FunctionId {
    /// A function of the stack named `name`, with the role and log group the
    /// stack names after it.
    pub fn named(name: String, stack: String) -> FunctionId {
        FunctionId {
            role: Address {
                kind: super::function_role::KIND,
                name: format!("{name}-role"),
            },
            log_group: Address {
                kind: super::log_group::KIND,
                name: format!("/aws/lambda/{name}"),
            },
            name,
            stack,
        }
    }
}

/// What a read found: the function's ARN (tags are set by ARN).
struct Found {
    arn: String,
}

pub struct Function {
    pub id: FunctionId,
    pub config: FunctionConfig,
    pub role_arn: String,
    /// The user's environment plus the variables the tool manages.
    pub environment: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    /// `None` when no build exists yet: the code is then neither compared nor deployable.
    pub code: Option<Code>,
}

/// Names of the account's functions that start with `prefix`.
pub async fn names_starting_with(aws: &Aws, prefix: &str) -> Result<Vec<String>, ResourceError> {
    let mut names = Vec::new();
    let mut pages = aws.lambda.list_functions().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| ResourceError::listing(KIND, "ListFunctions", describe(&e)))?;
        names.extend(
            page.functions()
                .iter()
                .filter_map(|f| f.function_name())
                .filter(|name| name.starts_with(prefix))
                .map(str::to_owned),
        );
    }
    Ok(names)
}

fn lambda_architecture(architecture: Architecture) -> LambdaArchitecture {
    match architecture {
        Architecture::X86_64 => LambdaArchitecture::X8664,
        Architecture::Arm64 => LambdaArchitecture::Arm64,
    }
}

/// A list of ARNs as a field value, sorted.
fn list_field(mut items: Vec<String>) -> FieldValue {
    items.sort();
    FieldValue::Json(serde_json::Value::from(items))
}

/// The `vpc` field: `none`, or the subnets and security groups.
fn vpc_field(vpc: Option<&aws_sdk_lambda::types::VpcConfigResponse>) -> FieldValue {
    match vpc {
        // Lambda answers a function outside any VPC with empty lists.
        Some(vpc) if !vpc.subnet_ids().is_empty() || !vpc.security_group_ids().is_empty() => {
            FieldValue::Json(serde_json::json!({
                "subnets": vpc.subnet_ids(),
                "security_groups": vpc.security_group_ids(),
            }))
        }
        _ => FieldValue::Text(NONE.into()),
    }
}

impl FunctionId {
    /// The `async_invoke` field: `none`, or the destinations and retries set.
    async fn async_invoke(&self, aws: &Aws) -> Result<FieldValue, ResourceError> {
        match aws
            .lambda
            .get_function_event_invoke_config()
            .function_name(&self.name)
            .send()
            .await
        {
            Ok(found) => {
                let destinations = found.destination_config();
                Ok(FieldValue::Json(serde_json::json!({
                    "on_success": destinations.and_then(|d| d.on_success()).and_then(|d| d.destination()),
                    "on_failure": destinations.and_then(|d| d.on_failure()).and_then(|d| d.destination()),
                    "maximum_retry_attempts": found.maximum_retry_attempts(),
                    "maximum_event_age_s": found.maximum_event_age_in_seconds(),
                })))
            }
            Err(e) if error_code(&e) == Some("ResourceNotFoundException") => {
                Ok(FieldValue::Text(NONE.into()))
            }
            Err(e) => Err(self.error("GetFunctionEventInvokeConfig", describe(&e))),
        }
    }

    async fn delete_async_invoke(&self, aws: &Aws) -> Result<(), ResourceError> {
        match aws
            .lambda
            .delete_function_event_invoke_config()
            .function_name(&self.name)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if error_code(&e) == Some("ResourceNotFoundException") => Ok(()),
            Err(e) => Err(self.error("DeleteFunctionEventInvokeConfig", describe(&e))),
        }
    }

    async fn read_live(&self, aws: &Aws) -> Result<Option<Live>, ResourceError> {
        // Both at once: a plan's time is its slowest chain of requests.
        let (found, foreign_permissions, url_auth_type, async_invoke) = tokio::join!(
            aws.lambda.get_function().function_name(&self.name).send(),
            self.foreign_permissions(aws),
            self.url_auth_type(aws),
            self.async_invoke(aws),
        );
        let found = match found {
            Ok(found) => found,
            Err(e) if error_code(&e) == Some("ResourceNotFoundException") => return Ok(None),
            Err(e) => return Err(self.error("GetFunction", describe(&e))),
        };
        let tags: BTreeMap<String, String> = found
            .tags()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .collect();
        let mut fields = match claim(tags, &self.stack) {
            Ok(fields) => fields,
            Err(foreign) => return Ok(Some(foreign)),
        };
        fields.insert(
            field::OTHER_PERMISSIONS,
            policy::field(foreign_permissions?),
        );
        fields.insert(
            field::FUNCTION_URL,
            policy::url_field(url_auth_type?.as_deref()),
        );
        fields.insert(field::ASYNC_INVOKE, async_invoke?);
        if let Some(c) = found.configuration() {
            let text = |v: Option<&str>| FieldValue::Text(v.unwrap_or_default().to_owned());
            let text_or_none = |v: Option<&str>| {
                FieldValue::Text(v.filter(|v| !v.is_empty()).unwrap_or(NONE).to_owned())
            };
            fields.insert(field::CODE_SHA256, text(c.code_sha256()));
            fields.insert(field::RUNTIME, text(c.runtime().map(|r| r.as_str())));
            fields.insert(field::HANDLER, text(c.handler()));
            fields.insert(field::ROLE, text(c.role()));
            fields.insert(
                field::MEMORY_MB,
                FieldValue::Number(i64::from(c.memory_size().unwrap_or(0))),
            );
            fields.insert(
                field::TIMEOUT_S,
                FieldValue::Number(i64::from(c.timeout().unwrap_or(0))),
            );
            let architecture = c.architectures().first().map_or("x86_64", |a| a.as_str());
            fields.insert(
                field::ARCHITECTURE,
                FieldValue::Text(architecture.to_owned()),
            );
            let environment = c
                .environment()
                .and_then(|e| e.variables())
                .cloned()
                .unwrap_or_default();
            fields.insert(
                field::ENVIRONMENT,
                FieldValue::Map(environment.into_iter().collect()),
            );
            let layers: Vec<String> = c
                .layers()
                .iter()
                .map(|l| l.arn().unwrap_or("(a layer without an ARN)").to_owned())
                .collect();
            fields.insert(field::LAYERS, list_field(layers));
            fields.insert(field::VPC, vpc_field(c.vpc_config()));
            fields.insert(
                field::DEAD_LETTER,
                text_or_none(c.dead_letter_config().and_then(|d| d.target_arn())),
            );
            fields.insert(field::KMS_KEY, text_or_none(c.kms_key_arn()));
            // Without a logging configuration (older functions, moto) Lambda
            // writes to /aws/lambda/<name>.
            let logs_to = c
                .logging_config()
                .and_then(|l| l.log_group())
                .unwrap_or(&self.log_group.name);
            fields.insert(field::LOGS_TO, FieldValue::Text(logs_to.to_owned()));
        }
        let reserved = found
            .concurrency()
            .and_then(|c| c.reserved_concurrent_executions());
        fields.insert(
            field::RESERVED_CONCURRENCY,
            reserved.map_or(FieldValue::Text(NONE.into()), |n| {
                FieldValue::Number(i64::from(n))
            }),
        );
        let arn = found
            .configuration()
            .and_then(|c| c.function_arn())
            .ok_or_else(|| {
                self.error("GetFunction", "the answer carried no function ARN".into())
            })?;
        let handle = Handle::new(Found {
            arn: arn.to_owned(),
        });
        Ok(Some(Live::ours(fields, handle)))
    }
}

impl Function {
    fn zip(&self) -> Result<Vec<u8>, ResourceError> {
        let code = self.code.as_ref().ok_or_else(|| ResourceError::Invalid {
            address: self.address(),
            detail: "no build of this function: run `showcase-deploy build` (up builds on its own)"
                .into(),
        })?;
        std::fs::read(&code.zip).map_err(|e| ResourceError::Invalid {
            address: self.address(),
            detail: format!("{}: {e}", code.zip.display()),
        })
    }

    async fn wait_until_updated(&self, aws: &Aws) -> Result<(), ResourceError> {
        aws.lambda
            .wait_until_function_updated_v2()
            .function_name(&self.id.name)
            .wait(Duration::from_secs(300))
            .await
            .map_err(|e| self.error("GetFunction (waiting for the update)", e.to_string()))?;
        Ok(())
    }

    async fn set_concurrency(&self, aws: &Aws) -> Result<(), ResourceError> {
        match self.config.reserved_concurrency {
            Some(n) => {
                aws.lambda
                    .put_function_concurrency()
                    .function_name(&self.id.name)
                    .reserved_concurrent_executions(n as i32)
                    .send()
                    .await
                    .map_err(|e| self.error("PutFunctionConcurrency", describe(&e)))?;
            }
            None => {
                aws.lambda
                    .delete_function_concurrency()
                    .function_name(&self.id.name)
                    .send()
                    .await
                    .map_err(|e| self.error("DeleteFunctionConcurrency", describe(&e)))?;
            }
        }
        Ok(())
    }

    async fn create_function(&self, aws: &Aws) -> Result<(), ResourceError> {
        let zip = self.zip()?;
        // A role created seconds ago may not be assumable by Lambda yet (IAM is
        // eventually consistent): retry that one error with backoff.
        let mut delays = ExponentialBuilder::default()
            .with_min_delay(Duration::from_secs(1))
            .with_max_delay(Duration::from_secs(8))
            .with_max_times(6)
            .with_jitter()
            .build();
        loop {
            let created = aws
                .lambda
                .create_function()
                .function_name(&self.id.name)
                .runtime(Runtime::from(RUNTIME))
                .handler(HANDLER)
                .role(&self.role_arn)
                .architectures(lambda_architecture(self.config.architecture))
                .memory_size(self.config.memory_mb as i32)
                .timeout(self.config.timeout_s as i32)
                .environment(
                    Environment::builder()
                        .set_variables(Some(self.environment.clone().into_iter().collect()))
                        .build(),
                )
                .code(
                    FunctionCode::builder()
                        .zip_file(Blob::new(zip.clone()))
                        .build(),
                )
                .set_tags(Some(self.tags.clone().into_iter().collect()))
                .send()
                .await;
            match created {
                Ok(_) => break,
                Err(e) if error_code(&e) == Some("ResourceConflictException") => break, // a crashed earlier run created it
                Err(e) if describe(&e).contains("cannot be assumed") => match delays.next() {
                    Some(delay) => tokio::time::sleep(delay).await,
                    None => return Err(self.error("CreateFunction", describe(&e))),
                },
                Err(e) => return Err(self.error("CreateFunction", describe(&e))),
            }
        }
        aws.lambda
            .wait_until_function_active_v2()
            .function_name(&self.id.name)
            .wait(Duration::from_secs(300))
            .await
            .map_err(|e| self.error("GetFunction (waiting for Active)", e.to_string()))?;
        if self.config.reserved_concurrency.is_some() {
            self.set_concurrency(aws).await?;
        }
        Ok(())
    }
}

impl Owned for FunctionId {
    fn address(&self) -> Address {
        Address {
            kind: KIND,
            name: self.name.clone(),
        }
    }

    fn depends_on(&self) -> Vec<Address> {
        vec![self.role.clone(), self.log_group.clone()]
    }

    fn read<'a>(&'a self, aws: &'a Aws) -> BoxFuture<'a, Result<Option<Live>, ResourceError>> {
        Box::pin(self.read_live(aws))
    }

    fn delete<'a>(
        &'a self,
        aws: &'a Aws,
        _live: &'a Live,
        _delete_data: bool,
    ) -> BoxFuture<'a, Result<Deleted, ResourceError>> {
        Box::pin(async move {
            match aws
                .lambda
                .delete_function()
                .function_name(&self.name)
                .send()
                .await
            {
                Ok(_) => Ok(Deleted::Deleted),
                Err(e) if error_code(&e) == Some("ResourceNotFoundException") => {
                    Ok(Deleted::Deleted)
                }
                Err(e) => Err(self.error("DeleteFunction", describe(&e))),
            }
        })
    }
}

impl Resource for Function {
    fn id(&self) -> &dyn Owned {
        &self.id
    }

    fn fields(&self) -> &'static [FieldSpec] {
        FIELDS
    }

    fn desired(&self) -> Fields {
        let mut fields = Fields::new();
        fields.insert(field::TAGS, FieldValue::Map(self.tags.clone()));
        fields.insert(field::OTHER_PERMISSIONS, policy::field(Ok(Vec::new())));
        fields.insert(field::FUNCTION_URL, policy::url_field(None));
        if let Some(code) = &self.code {
            fields.insert(field::CODE_SHA256, FieldValue::Text(code.sha256.clone()));
        }
        fields.insert(field::RUNTIME, FieldValue::Text(RUNTIME.into()));
        fields.insert(field::HANDLER, FieldValue::Text(HANDLER.into()));
        fields.insert(field::ROLE, FieldValue::Text(self.role_arn.clone()));
        fields.insert(
            field::MEMORY_MB,
            FieldValue::Number(i64::from(self.config.memory_mb)),
        );
        fields.insert(
            field::TIMEOUT_S,
            FieldValue::Number(i64::from(self.config.timeout_s)),
        );
        fields.insert(
            field::ARCHITECTURE,
            FieldValue::Text(self.config.architecture.lambda_name().into()),
        );
        fields.insert(
            field::ENVIRONMENT,
            FieldValue::Map(self.environment.clone()),
        );
        let reserved = self.config.reserved_concurrency;
        fields.insert(
            field::RESERVED_CONCURRENCY,
            reserved.map_or(FieldValue::Text(NONE.into()), |n| {
                FieldValue::Number(i64::from(n))
            }),
        );
        fields.insert(field::LAYERS, list_field(Vec::new()));
        fields.insert(field::VPC, FieldValue::Text(NONE.into()));
        fields.insert(field::DEAD_LETTER, FieldValue::Text(NONE.into()));
        fields.insert(field::KMS_KEY, FieldValue::Text(NONE.into()));
        fields.insert(
            field::LOGS_TO,
            FieldValue::Text(self.id.log_group.name.clone()),
        );
        fields.insert(field::ASYNC_INVOKE, FieldValue::Text(NONE.into()));
        fields
    }

    fn create<'a>(&'a self, aws: &'a Aws) -> BoxFuture<'a, Result<(), ResourceError>> {
        Box::pin(self.create_function(aws))
    }

    fn update<'a>(
        &'a self,
        aws: &'a Aws,
        live: &'a Live,
        changes: &'a [FieldChange],
    ) -> BoxFuture<'a, Result<(), ResourceError>> {
        Box::pin(async move {
            if let Some(unknown) = changes.iter().find(|c| {
                ![CODE, CONFIGURATION, OTHERS]
                    .iter()
                    .any(|known| known.contains(&c.field))
            }) {
                return Err(ResourceError::not_updatable(self.address(), unknown.field));
            }
            let changed = |field: &str| changes.iter().any(|c| c.field == field);
            if CODE.iter().any(|field| changed(field)) {
                aws.lambda
                    .update_function_code()
                    .function_name(&self.id.name)
                    .zip_file(Blob::new(self.zip()?))
                    .architectures(lambda_architecture(self.config.architecture))
                    .send()
                    .await
                    .map_err(|e| self.error("UpdateFunctionCode", describe(&e)))?;
                self.wait_until_updated(aws).await?;
            }
            if CONFIGURATION.iter().any(|field| changed(field)) {
                // What the stack never sets is sent only to take away what was set by hand.
                let no_vpc = || {
                    VpcConfig::builder()
                        .set_subnet_ids(Some(Vec::new()))
                        .set_security_group_ids(Some(Vec::new()))
                        .build()
                };
                let no_dead_letter = || DeadLetterConfig::builder().target_arn("").build();
                let own_logs = || {
                    LoggingConfig::builder()
                        .log_group(&self.id.log_group.name)
                        .build()
                };
                aws.lambda
                    .update_function_configuration()
                    .function_name(&self.id.name)
                    .runtime(Runtime::from(RUNTIME))
                    .handler(HANDLER)
                    .role(&self.role_arn)
                    .memory_size(self.config.memory_mb as i32)
                    .timeout(self.config.timeout_s as i32)
                    .environment(
                        Environment::builder()
                            .set_variables(Some(self.environment.clone().into_iter().collect()))
                            .build(),
                    )
                    .set_layers(changed(field::LAYERS).then(Vec::new))
                    .set_vpc_config(changed(field::VPC).then(no_vpc))
                    .set_dead_letter_config(changed(field::DEAD_LETTER).then(no_dead_letter))
                    .set_kms_key_arn(changed(field::KMS_KEY).then(String::new))
                    .set_logging_config(changed(field::LOGS_TO).then(own_logs))
                    .send()
                    .await
                    .map_err(|e| self.error("UpdateFunctionConfiguration", describe(&e)))?;
                self.wait_until_updated(aws).await?;
            }
            if changed(field::RESERVED_CONCURRENCY) {
                self.set_concurrency(aws).await?;
            }
            if changed(field::FUNCTION_URL) {
                self.id.delete_url(aws).await?;
            }
            if changed(field::OTHER_PERMISSIONS) {
                self.id.revoke_foreign_permissions(aws).await?;
            }
            if changed(field::ASYNC_INVOKE) {
                self.id.delete_async_invoke(aws).await?;
            }
            if let Some(change) = changes.iter().find(|c| c.field == field::TAGS) {
                let arn = &live
                    .handle
                    .get::<Found>()
                    .ok_or_else(|| self.error("TagResource", "read found no ARN".into()))?
                    .arn;
                let (set, removed) = super::tags::tag_delta(change);
                if !removed.is_empty() {
                    aws.lambda
                        .untag_resource()
                        .resource(arn)
                        .set_tag_keys(Some(removed))
                        .send()
                        .await
                        .map_err(|e| self.error("UntagResource", describe(&e)))?;
                }
                aws.lambda
                    .tag_resource()
                    .resource(arn)
                    .set_tags(Some(set.into_iter().collect()))
                    .send()
                    .await
                    .map_err(|e| self.error("TagResource", describe(&e)))?;
            }
            Ok(())
        })
    }
}

/// `<stack>-<function>`: what every other name of a function starts from.
pub fn name(stack: &Stack, function: FunctionName) -> String {
    format!("{}-{}", stack.name, function.as_str())
}

fn arns(stack: &Stack, account: &str) -> Vec<String> {
    vec![format!(
        "arn:aws:lambda:{}:{account}:function:{}-*",
        stack.region, stack.name
    )]
}

fn discover<'a>(
    aws: &'a Aws,
    stack: &'a Stack,
) -> BoxFuture<'a, Result<Discovered, ResourceError>> {
    Box::pin(async move {
        let prefix = format!("{}-", stack.name);
        Ok(names_starting_with(aws, &prefix)
            .await?
            .into_iter()
            .map(|name| Box::new(FunctionId::named(name, stack.name.clone())) as Box<dyn Owned>)
            .collect())
    })
}

pub const SPEC: Kind = Kind {
    name: KIND,
    discover,
    permissions: &[Grant {
        sid: "Functions",
        resources: arns,
        operations: &[
            listing("Lambda", "ListFunctions", &["lambda:ListFunctions"]),
            read("Lambda", "GetFunction", &["lambda:GetFunction"]),
            read("Lambda", "GetPolicy", &["lambda:GetPolicy"]),
            read(
                "Lambda",
                "GetFunctionUrlConfig",
                &["lambda:GetFunctionUrlConfig"],
            ),
            read(
                "Lambda",
                "GetFunctionEventInvokeConfig",
                &["lambda:GetFunctionEventInvokeConfig"],
            ),
            write(
                "Lambda",
                "CreateFunction",
                &["lambda:CreateFunction", "lambda:TagResource"],
            ),
            write(
                "Lambda",
                "UpdateFunctionCode",
                &["lambda:UpdateFunctionCode"],
            ),
            write(
                "Lambda",
                "UpdateFunctionConfiguration",
                &["lambda:UpdateFunctionConfiguration"],
            ),
            write(
                "Lambda",
                "PutFunctionConcurrency",
                &["lambda:PutFunctionConcurrency"],
            ),
            write(
                "Lambda",
                "DeleteFunctionConcurrency",
                &["lambda:DeleteFunctionConcurrency"],
            ),
            write("Lambda", "AddPermission", &["lambda:AddPermission"]),
            write("Lambda", "RemovePermission", &["lambda:RemovePermission"]),
            write("Lambda", "TagResource", &["lambda:TagResource"]),
            write("Lambda", "UntagResource", &["lambda:UntagResource"]),
            write("Lambda", "DeleteFunction", &["lambda:DeleteFunction"]),
            write(
                "Lambda",
                "DeleteFunctionUrlConfig",
                &["lambda:DeleteFunctionUrlConfig"],
            ),
            write(
                "Lambda",
                "DeleteFunctionEventInvokeConfig",
                &["lambda:DeleteFunctionEventInvokeConfig"],
            ),
        ],
    }],
};
