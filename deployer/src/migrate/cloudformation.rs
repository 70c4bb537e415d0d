//! The seed's CloudFormation stack as `migrate` sees it: its status, its
//! resources and its processed template (after the SAM transform: plain
//! CloudFormation, JSON); and the three things `migrate` asks CloudFormation
//! to do — retain resources (an UpdateStack that changes only their
//! `DeletionPolicy`), delete the stack, and wait until it settles.

use std::time::Duration;

use aws_sdk_cloudformation::types::{Capability, Parameter, StackStatus, TemplateStage};

use super::MigrateError;
use crate::aws::{Aws, describe, error_code};

/// One resource of the stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedResource {
    pub logical_id: String,
    /// The name or id AWS knows it by (empty when CloudFormation has none yet).
    pub physical_id: String,
    pub resource_type: String,
    pub status: String,
    pub reason: Option<String>,
}

/// The stack, read once.
#[derive(Debug, Clone)]
pub struct SeedStack {
    pub name: String,
    /// The stack's ARN: what finds it once it is deleted.
    pub id: String,
    pub status: String,
    pub reason: Option<String>,
    pub resources: Vec<SeedResource>,
    /// The processed template (JSON).
    pub template: serde_json::Value,
    capabilities: Vec<Capability>,
    parameter_keys: Vec<String>,
}

/// What DescribeStacks and ListStacks say about a name.
pub enum Found {
    Live(Box<SeedStack>),
    /// Deleted (CloudFormation lists deleted stacks for 90 days).
    Deleted,
    Never,
}

/// The most UpdateStack takes in `TemplateBody` (larger ones go through S3).
const TEMPLATE_BODY_MAX: usize = 51_200;
/// How long a stack operation may take before `migrate` stops waiting (it
/// goes on in CloudFormation; a rerun waits again).
const SETTLE_TIMEOUT: Duration = Duration::from_secs(60 * 60);

fn aws_error(operation: &'static str, detail: String) -> MigrateError {
    MigrateError::CloudFormation { operation, detail }
}

/// Reads the stack by name: status, resources and processed template.
pub async fn find(aws: &Aws, name: &str) -> Result<Found, MigrateError> {
    let cfn = &aws.cloudformation;
    let described = match cfn.describe_stacks().stack_name(name).send().await {
        Ok(out) => out,
        // CloudFormation answers a name it does not know with a ValidationError.
        Err(e)
            if error_code(&e) == Some("ValidationError")
                && describe(&e).contains("does not exist") =>
        {
            return Ok(if was_deleted(aws, name).await? {
                Found::Deleted
            } else {
                Found::Never
            });
        }
        Err(e) => return Err(aws_error("DescribeStacks", describe(&e))),
    };
    let Some(stack) = described.stacks().first() else {
        return Ok(Found::Never);
    };
    let id = stack.stack_id().unwrap_or(name).to_owned();
    let status = stack
        .stack_status()
        .map_or("UNKNOWN", StackStatus::as_str)
        .to_owned();
    let (resources, template) = tokio::join!(resources(aws, &id), template(aws, &id));
    Ok(Found::Live(Box::new(SeedStack {
        name: stack.stack_name().unwrap_or(name).to_owned(),
        id,
        status,
        reason: stack.stack_status_reason().map(str::to_owned),
        resources: resources?,
        template: template?,
        capabilities: stack.capabilities().to_vec(),
        parameter_keys: stack
            .parameters()
            .iter()
            .filter_map(|p| p.parameter_key().map(str::to_owned))
            .collect(),
    })))
}

async fn was_deleted(aws: &Aws, name: &str) -> Result<bool, MigrateError> {
    let mut pages = aws
        .cloudformation
        .list_stacks()
        .stack_status_filter(StackStatus::DeleteComplete)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| aws_error("ListStacks", describe(&e)))?;
        if page
            .stack_summaries()
            .iter()
            .any(|s| s.stack_name() == Some(name))
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Every resource of the stack (ListStackResources pages; DescribeStackResources stops at 100).
pub async fn resources(aws: &Aws, stack_id: &str) -> Result<Vec<SeedResource>, MigrateError> {
    let mut pages = aws
        .cloudformation
        .list_stack_resources()
        .stack_name(stack_id)
        .into_paginator()
        .send();
    let mut resources = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| aws_error("ListStackResources", describe(&e)))?;
        for r in page.stack_resource_summaries() {
            resources.push(SeedResource {
                logical_id: r.logical_resource_id().unwrap_or_default().to_owned(),
                physical_id: r.physical_resource_id().unwrap_or_default().to_owned(),
                resource_type: r.resource_type().unwrap_or_default().to_owned(),
                status: r
                    .resource_status()
                    .map_or("UNKNOWN", |s| s.as_str())
                    .to_owned(),
                reason: r.resource_status_reason().map(str::to_owned),
            });
        }
    }
    Ok(resources)
}

/// The processed template: what CloudFormation runs after the SAM transform.
async fn template(aws: &Aws, stack_id: &str) -> Result<serde_json::Value, MigrateError> {
    let out = aws
        .cloudformation
        .get_template()
        .stack_name(stack_id)
        .template_stage(TemplateStage::Processed)
        .send()
        .await
        .map_err(|e| aws_error("GetTemplate", describe(&e)))?;
    let body = out.template_body().unwrap_or_default();
    serde_json::from_str(body).map_err(|e| MigrateError::TemplateNotJson {
        detail: e.to_string(),
    })
}

impl SeedStack {
    /// Whether deleting the stack leaves the resource in place.
    pub fn retains(&self, logical_id: &str) -> bool {
        matches!(
            self.template["Resources"][logical_id]["DeletionPolicy"].as_str(),
            Some("Retain" | "RetainExceptOnCreate")
        )
    }

    /// The template with `DeletionPolicy: Retain` on `logical_ids`, nothing else changed.
    pub fn template_retaining(&self, logical_ids: &[&str]) -> serde_json::Value {
        let mut template = self.template.clone();
        for id in logical_ids {
            if let Some(resource) = template["Resources"]
                .get_mut(*id)
                .and_then(|r| r.as_object_mut())
            {
                resource.insert("DeletionPolicy".into(), "Retain".into());
            }
        }
        template
    }

    /// UpdateStack with `template`, the stack's parameters kept and its
    /// capabilities acknowledged; waits until it settles. `Ok(false)` when
    /// CloudFormation finds nothing to update.
    pub async fn update_template(
        &self,
        aws: &Aws,
        template: &serde_json::Value,
    ) -> Result<bool, MigrateError> {
        let body = template.to_string();
        if body.len() > TEMPLATE_BODY_MAX {
            return Err(MigrateError::TemplateTooLarge { bytes: body.len() });
        }
        let mut capabilities = self.capabilities.clone();
        for needed in [Capability::CapabilityIam, Capability::CapabilityNamedIam] {
            if !capabilities.contains(&needed) {
                capabilities.push(needed);
            }
        }
        let parameters = self
            .parameter_keys
            .iter()
            .map(|key| {
                Parameter::builder()
                    .parameter_key(key)
                    .use_previous_value(true)
                    .build()
            })
            .collect();
        let sent = aws
            .cloudformation
            .update_stack()
            .stack_name(&self.id)
            .template_body(body)
            .set_parameters(Some(parameters))
            .set_capabilities(Some(capabilities))
            .send()
            .await;
        match sent {
            Ok(_) => {}
            Err(e) if describe(&e).contains("No updates are to be performed") => return Ok(false),
            Err(e) => return Err(aws_error("UpdateStack", describe(&e))),
        }
        let status = settle(aws, &self.id).await?;
        if status == "UPDATE_COMPLETE" {
            Ok(true)
        } else {
            Err(MigrateError::UpdateFailed {
                stack: self.name.clone(),
                status,
            })
        }
    }

    /// DeleteStack (keeping `retain` when the stack is DELETE_FAILED, the
    /// only state CloudFormation takes RetainResources in); waits until it
    /// settles and returns the final status.
    pub async fn delete(&self, aws: &Aws, retain: &[String]) -> Result<String, MigrateError> {
        let mut request = aws.cloudformation.delete_stack().stack_name(&self.id);
        if self.status == "DELETE_FAILED" && !retain.is_empty() {
            request = request.set_retain_resources(Some(retain.to_vec()));
        }
        request
            .send()
            .await
            .map_err(|e| aws_error("DeleteStack", describe(&e)))?;
        settle(aws, &self.id).await
    }
}

/// Waits while the stack is in an `*_IN_PROGRESS` state; returns the status
/// it settles in (`DELETE_COMPLETE` once it is gone).
pub async fn settle(aws: &Aws, stack_id: &str) -> Result<String, MigrateError> {
    let started = std::time::Instant::now();
    let mut pause = Duration::from_millis(200);
    loop {
        let described = aws
            .cloudformation
            .describe_stacks()
            .stack_name(stack_id)
            .send()
            .await;
        let status = match described {
            Ok(out) => out
                .stacks()
                .first()
                .and_then(|s| s.stack_status())
                .map_or("DELETE_COMPLETE", StackStatus::as_str)
                .to_owned(),
            // By name a deleted stack is unknown; by id it says DELETE_COMPLETE.
            Err(e) if describe(&e).contains("does not exist") => "DELETE_COMPLETE".to_owned(),
            Err(e) => return Err(aws_error("DescribeStacks", describe(&e))),
        };
        if !status.ends_with("_IN_PROGRESS") {
            return Ok(status);
        }
        if started.elapsed() > SETTLE_TIMEOUT {
            return Err(MigrateError::StillInProgress {
                stack: stack_id.to_owned(),
                status,
            });
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(10));
    }
}

#[cfg(test)]
impl SeedStack {
    /// A stack as `find` would read it, for the plan's unit tests.
    pub fn for_tests(
        status: &str,
        resources: Vec<SeedResource>,
        template: serde_json::Value,
    ) -> SeedStack {
        SeedStack {
            name: "showcase-data-pipeline".into(),
            id: "arn:aws:cloudformation:us-east-1:123456789012:stack/showcase-data-pipeline/1"
                .into(),
            status: status.into(),
            reason: None,
            resources,
            template,
            capabilities: Vec::new(),
            parameter_keys: Vec::new(),
        }
    }
}
