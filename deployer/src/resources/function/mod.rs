//! A Lambda function from a built zip: `provided.al2023`, `bootstrap` handler,
//! architecture, memory, timeout, environment, role, optional reserved
//! concurrency. Code is uploaded only when the zip's sha256 differs from the
//! live `CodeSha256`.

mod policy;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use aws_sdk_lambda::client::Waiters;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    Architecture as LambdaArchitecture, Environment, FunctionCode, Runtime,
};
use backon::{BackoffBuilder, ExponentialBuilder};
use futures_util::future::BoxFuture;

use super::tags::claim;
use super::{
    Address, Deleted, FieldChange, FieldValue, Fields, Live, Ownership, Resource, ResourceError,
};
use crate::aws::{Aws, describe, error_code};
use crate::config::{Architecture, FunctionConfig};

pub const KIND: &str = "function";
const RUNTIME: &str = "provided.al2023";
const HANDLER: &str = "bootstrap";
/// Fields one UpdateFunctionConfiguration call sets.
const CONFIGURATION: &[&str] = &[
    "memory_mb",
    "timeout_s",
    "role",
    "environment",
    "runtime",
    "handler",
];

/// A built deployment package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    pub zip: PathBuf,
    /// base64(sha256(zip)), as Lambda's `CodeSha256`.
    pub sha256: String,
}

pub struct Function {
    pub name: String,
    pub stack: String,
    pub config: FunctionConfig,
    pub role_arn: String,
    /// Dependencies, by address.
    pub role: Address,
    pub log_group: Address,
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

    async fn read_live(&self, aws: &Aws) -> Result<Option<Live>, ResourceError> {
        // Both at once: a plan's time is its slowest chain of requests.
        let (found, foreign_permissions, url_auth_type) = tokio::join!(
            aws.lambda.get_function().function_name(&self.name).send(),
            self.foreign_permissions(aws),
            self.url_auth_type(aws)
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
        fields.insert("other_permissions", policy::field(foreign_permissions?));
        fields.insert("function_url", policy::url_field(url_auth_type?.as_deref()));
        if let Some(c) = found.configuration() {
            let text = |v: Option<&str>| FieldValue::Text(v.unwrap_or_default().to_owned());
            fields.insert("code_sha256", text(c.code_sha256()));
            fields.insert("runtime", text(c.runtime().map(|r| r.as_str())));
            fields.insert("handler", text(c.handler()));
            fields.insert("role", text(c.role()));
            fields.insert(
                "memory_mb",
                FieldValue::Number(i64::from(c.memory_size().unwrap_or(0))),
            );
            fields.insert(
                "timeout_s",
                FieldValue::Number(i64::from(c.timeout().unwrap_or(0))),
            );
            let architecture = c.architectures().first().map_or("x86_64", |a| a.as_str());
            fields.insert("architecture", FieldValue::Text(architecture.to_owned()));
            let environment = c
                .environment()
                .and_then(|e| e.variables())
                .cloned()
                .unwrap_or_default();
            fields.insert(
                "environment",
                FieldValue::Map(environment.into_iter().collect()),
            );
        }
        let reserved = found
            .concurrency()
            .and_then(|c| c.reserved_concurrent_executions());
        fields.insert(
            "reserved_concurrency",
            reserved.map_or(FieldValue::Text("none".into()), |n| {
                FieldValue::Number(i64::from(n))
            }),
        );
        Ok(Some(Live {
            ownership: Ownership::Ours,
            fields,
        }))
    }

    async fn wait_until_updated(&self, aws: &Aws) -> Result<(), ResourceError> {
        aws.lambda
            .wait_until_function_updated_v2()
            .function_name(&self.name)
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
                    .function_name(&self.name)
                    .reserved_concurrent_executions(n as i32)
                    .send()
                    .await
                    .map_err(|e| self.error("PutFunctionConcurrency", describe(&e)))?;
            }
            None => {
                aws.lambda
                    .delete_function_concurrency()
                    .function_name(&self.name)
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
                .function_name(&self.name)
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
            .function_name(&self.name)
            .wait(Duration::from_secs(300))
            .await
            .map_err(|e| self.error("GetFunction (waiting for Active)", e.to_string()))?;
        if self.config.reserved_concurrency.is_some() {
            self.set_concurrency(aws).await?;
        }
        Ok(())
    }
}

impl Resource for Function {
    fn address(&self) -> Address {
        Address {
            kind: KIND,
            name: self.name.clone(),
        }
    }

    fn depends_on(&self) -> Vec<Address> {
        vec![self.role.clone(), self.log_group.clone()]
    }

    fn desired(&self) -> Fields {
        let mut fields = Fields::new();
        fields.insert("tags", FieldValue::Map(self.tags.clone()));
        fields.insert("other_permissions", policy::field(Vec::new()));
        fields.insert("function_url", policy::url_field(None));
        if let Some(code) = &self.code {
            fields.insert("code_sha256", FieldValue::Text(code.sha256.clone()));
        }
        fields.insert("runtime", FieldValue::Text(RUNTIME.into()));
        fields.insert("handler", FieldValue::Text(HANDLER.into()));
        fields.insert("role", FieldValue::Text(self.role_arn.clone()));
        fields.insert(
            "memory_mb",
            FieldValue::Number(i64::from(self.config.memory_mb)),
        );
        fields.insert(
            "timeout_s",
            FieldValue::Number(i64::from(self.config.timeout_s)),
        );
        fields.insert(
            "architecture",
            FieldValue::Text(self.config.architecture.lambda_name().into()),
        );
        fields.insert("environment", FieldValue::Map(self.environment.clone()));
        let reserved = self.config.reserved_concurrency;
        fields.insert(
            "reserved_concurrency",
            reserved.map_or(FieldValue::Text("none".into()), |n| {
                FieldValue::Number(i64::from(n))
            }),
        );
        fields
    }

    fn read<'a>(&'a self, aws: &'a Aws) -> BoxFuture<'a, Result<Option<Live>, ResourceError>> {
        Box::pin(self.read_live(aws))
    }

    fn create<'a>(&'a self, aws: &'a Aws) -> BoxFuture<'a, Result<(), ResourceError>> {
        Box::pin(self.create_function(aws))
    }

    fn update<'a>(
        &'a self,
        aws: &'a Aws,
        changes: &'a [FieldChange],
    ) -> BoxFuture<'a, Result<(), ResourceError>> {
        Box::pin(async move {
            let changed = |field: &str| changes.iter().any(|c| c.field == field);
            if changed("code_sha256") || changed("architecture") {
                aws.lambda
                    .update_function_code()
                    .function_name(&self.name)
                    .zip_file(Blob::new(self.zip()?))
                    .architectures(lambda_architecture(self.config.architecture))
                    .send()
                    .await
                    .map_err(|e| self.error("UpdateFunctionCode", describe(&e)))?;
                self.wait_until_updated(aws).await?;
            }
            if CONFIGURATION.iter().any(|field| changed(field)) {
                aws.lambda
                    .update_function_configuration()
                    .function_name(&self.name)
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
                    .send()
                    .await
                    .map_err(|e| self.error("UpdateFunctionConfiguration", describe(&e)))?;
                self.wait_until_updated(aws).await?;
            }
            if changed("reserved_concurrency") {
                self.set_concurrency(aws).await?;
            }
            if changed("function_url") {
                self.delete_url(aws).await?;
            }
            if changed("other_permissions") {
                self.revoke_foreign_permissions(aws).await?;
            }
            if let Some(change) = changes.iter().find(|c| c.field == "tags") {
                let arn = format!(
                    "arn:aws:lambda:{}:{}:function:{}",
                    aws.region,
                    self.role_arn.split(':').nth(4).unwrap_or_default(),
                    self.name
                );
                let (set, removed) = super::tags::tag_delta(change);
                if !removed.is_empty() {
                    aws.lambda
                        .untag_resource()
                        .resource(&arn)
                        .set_tag_keys(Some(removed))
                        .send()
                        .await
                        .map_err(|e| self.error("UntagResource", describe(&e)))?;
                }
                aws.lambda
                    .tag_resource()
                    .resource(&arn)
                    .set_tags(Some(set.into_iter().collect()))
                    .send()
                    .await
                    .map_err(|e| self.error("TagResource", describe(&e)))?;
            }
            Ok(())
        })
    }

    fn delete<'a>(
        &'a self,
        aws: &'a Aws,
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
