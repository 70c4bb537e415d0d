//! Creating, changing and deleting the data API's parts. Each step is
//! idempotent, so a run killed half-way converges when rerun.

use std::collections::BTreeSet;

use aws_sdk_apigateway::types::{
    ApiStage, EndpointConfiguration, EndpointType, IntegrationType, Op, PatchOperation,
    QuotaPeriodType, QuotaSettings, ThrottleSettings,
};

use super::{DataApi, Found, PERMISSION_ID, field, once};
use crate::aws::{Aws, describe, error_code};
use crate::config::QuotaPeriod;
use crate::resources::{FieldChange, Live, Resource, ResourceError};

fn patch(path: &str, value: String) -> PatchOperation {
    PatchOperation::builder()
        .op(Op::Replace)
        .path(path)
        .value(value)
        .build()
}

impl DataApi {
    /// The REST API's id, as the read found it.
    fn api_id<'l>(&self, live: &'l Live) -> Result<&'l str, ResourceError> {
        live.handle
            .get::<Found>()
            .map(|found| found.api_id.as_str())
            .ok_or_else(|| self.error("GetRestApis", "the read found no REST API id".into()))
    }

    pub(super) async fn create_all(&self, aws: &Aws) -> Result<(), ResourceError> {
        let api_id = match self.find_api(aws).await? {
            // A crashed earlier run created it (tagged at creation, so it was adopted by the plan).
            Some((id, _)) => id,
            None => {
                once::create_once(
                    || async {
                        let created = aws
                            .apigateway
                            .create_rest_api()
                            .name(&self.name)
                            .description(format!(
                                "showcase-deploy: the data API of stack {}",
                                self.stack
                            ))
                            .endpoint_configuration(
                                EndpointConfiguration::builder()
                                    .types(EndpointType::Regional)
                                    .build(),
                            )
                            .set_tags(Some(self.tags.clone().into_iter().collect()))
                            .customize()
                            .config_override(once::no_retries())
                            .send()
                            .await
                            .map_err(|e| once::Failure::of(&e))?;
                        once::answered_id(created.id())
                    },
                    || async { Ok(self.find_api(aws).await?.map(|(id, _)| id)) },
                    |detail| self.error("CreateRestApi", detail),
                )
                .await?
            }
        };
        self.sync_routes(aws, &api_id).await?;
        self.grant_invoke(aws, &api_id).await?;
        self.deploy(aws, &api_id).await?;
        self.sync_usage_plan(aws, &api_id).await
    }

    pub(super) async fn update_fields(
        &self,
        aws: &Aws,
        live: &Live,
        changes: &[FieldChange],
    ) -> Result<(), ResourceError> {
        if let Some(unknown) = changes
            .iter()
            .find(|c| !super::FIELDS.iter().any(|f| f.name == c.field))
        {
            return Err(ResourceError::not_updatable(self.address(), unknown.field));
        }
        let api_id = self.api_id(live)?;
        let changed = |field: &str| changes.iter().any(|c| c.field == field);
        if changed(field::COPIES) {
            self.delete_copies(aws).await?;
        }
        if changed(field::ROUTES) {
            self.sync_routes(aws, api_id).await?;
        }
        if changed(field::INVOKE_PERMISSION) {
            self.grant_invoke(aws, api_id).await?;
        }
        if changed(field::ROUTES) || changed(field::STAGE) {
            self.deploy(aws, api_id).await?;
        }
        if changed(field::API_KEY) || changed(field::USAGE_PLAN) {
            self.sync_usage_plan(aws, api_id).await?;
        }
        if changed(field::RESOURCE_POLICY) {
            // No resource policy: only the API key and the stage's throttling decide.
            aws.apigateway
                .update_rest_api()
                .rest_api_id(api_id)
                .patch_operations(patch("/policy", String::new()))
                .send()
                .await
                .map_err(|e| self.error("UpdateRestApi", describe(&e)))?;
        }
        if changed(field::STAGES) {
            for stage in self.stage_names(aws, api_id).await? {
                if stage != self.api.stage {
                    aws.apigateway
                        .delete_stage()
                        .rest_api_id(api_id)
                        .stage_name(&stage)
                        .send()
                        .await
                        .map_err(|e| self.error("DeleteStage", describe(&e)))?;
                }
            }
        }
        if let Some(change) = changes.iter().find(|c| c.field == field::TAGS) {
            let arn = format!("arn:aws:apigateway:{}::/restapis/{api_id}", aws.region);
            let (set, removed) = crate::resources::tags::tag_delta(change);
            if !removed.is_empty() {
                aws.apigateway
                    .untag_resource()
                    .resource_arn(&arn)
                    .set_tag_keys(Some(removed))
                    .send()
                    .await
                    .map_err(|e| self.error("UntagResource", describe(&e)))?;
            }
            aws.apigateway
                .tag_resource()
                .resource_arn(&arn)
                .set_tags(Some(set.into_iter().collect()))
                .send()
                .await
                .map_err(|e| self.error("TagResource", describe(&e)))?;
        }
        Ok(())
    }

    /// Makes the API's routes exactly the configured ones: each a resource with a
    /// GET method that requires an API key and proxies to the function.
    async fn sync_routes(&self, aws: &Aws, api_id: &str) -> Result<(), ResourceError> {
        let gateway = &aws.apigateway;
        let resources = self.api_resources(aws, api_id).await?;
        let root = resources
            .iter()
            .find(|r| r.path() == Some("/"))
            .and_then(|r| r.id())
            .ok_or_else(|| self.error("GetResources", "the API has no root resource".into()))?
            .to_owned();
        let wanted: BTreeSet<&str> = self.api.routes.iter().map(String::as_str).collect();
        // A path the stack does not route, or a second resource of one it does
        // (a create sent twice): deleted; the first of each wanted path is kept.
        let mut kept = BTreeSet::new();
        for resource in &resources {
            let (Some(path), Some(id)) = (resource.path(), resource.id()) else {
                continue;
            };
            if path != "/" && (!wanted.contains(path) || !kept.insert(path)) {
                gateway
                    .delete_resource()
                    .rest_api_id(api_id)
                    .resource_id(id)
                    .send()
                    .await
                    .map_err(|e| self.error("DeleteResource", describe(&e)))?;
            }
        }
        let uri = self.integration_uri(&aws.region);
        for path in wanted {
            let existing = resources
                .iter()
                .find(|r| r.path() == Some(path))
                .and_then(|r| r.id())
                .map(str::to_owned);
            let id = match existing {
                Some(id) => id,
                None => {
                    once::create_once(
                        || async {
                            let created = gateway
                                .create_resource()
                                .rest_api_id(api_id)
                                .parent_id(&root)
                                .path_part(path.trim_start_matches('/'))
                                .customize()
                                .config_override(once::no_retries())
                                .send()
                                .await
                                .map_err(|e| once::Failure::of(&e))?;
                            once::answered_id(created.id())
                        },
                        || async {
                            Ok(self
                                .api_resources(aws, api_id)
                                .await?
                                .iter()
                                .find(|r| r.path() == Some(path))
                                .and_then(|r| r.id())
                                .map(str::to_owned))
                        },
                        |detail| self.error("CreateResource", detail),
                    )
                    .await?
                }
            };
            // PutMethod replaces a method only after it is deleted (UpdateMethod needs
            // patch paths per setting); a missing method is fine.
            match gateway
                .delete_method()
                .rest_api_id(api_id)
                .resource_id(&id)
                .http_method("GET")
                .send()
                .await
            {
                Ok(_) => {}
                Err(e) if error_code(&e) == Some("NotFoundException") => {}
                Err(e) => return Err(self.error("DeleteMethod", describe(&e))),
            }
            gateway
                .put_method()
                .rest_api_id(api_id)
                .resource_id(&id)
                .http_method("GET")
                .authorization_type("NONE")
                .api_key_required(true)
                .send()
                .await
                .map_err(|e| self.error("PutMethod", describe(&e)))?;
            gateway
                .put_integration()
                .rest_api_id(api_id)
                .resource_id(&id)
                .http_method("GET")
                .r#type(IntegrationType::AwsProxy)
                .integration_http_method("POST")
                .uri(&uri)
                .send()
                .await
                .map_err(|e| self.error("PutIntegration", describe(&e)))?;
        }
        Ok(())
    }

    /// Lets this API (and only this API's GET methods) invoke the function.
    async fn grant_invoke(&self, aws: &Aws, api_id: &str) -> Result<(), ResourceError> {
        match aws
            .lambda
            .remove_permission()
            .function_name(&self.function_name)
            .statement_id(PERMISSION_ID)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) if error_code(&e) == Some("ResourceNotFoundException") => {}
            Err(e) => return Err(self.error("RemovePermission", describe(&e))),
        }
        match aws
            .lambda
            .add_permission()
            .function_name(&self.function_name)
            .statement_id(PERMISSION_ID)
            .action("lambda:InvokeFunction")
            .principal("apigateway.amazonaws.com")
            .source_arn(self.source_arn(&aws.region, api_id))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            // Removed just before: the statement there is this call's own, a
            // retry whose first answer was lost.
            Err(e) if error_code(&e) == Some("ResourceConflictException") => Ok(()),
            Err(e) => Err(self.error("AddPermission", describe(&e))),
        }
    }

    /// A new deployment to the stage, then the stage's throttling.
    async fn deploy(&self, aws: &Aws, api_id: &str) -> Result<(), ResourceError> {
        aws.apigateway
            .create_deployment()
            .rest_api_id(api_id)
            .stage_name(&self.api.stage)
            .description("showcase-deploy")
            .send()
            .await
            .map_err(|e| self.error("CreateDeployment", describe(&e)))?;
        aws.apigateway
            .update_stage()
            .rest_api_id(api_id)
            .stage_name(&self.api.stage)
            .patch_operations(patch(
                "/*/*/throttling/rateLimit",
                self.api.rate_limit.to_string(),
            ))
            .patch_operations(patch(
                "/*/*/throttling/burstLimit",
                self.api.burst_limit.to_string(),
            ))
            .send()
            .await
            .map_err(|e| self.error("UpdateStage", describe(&e)))?;
        Ok(())
    }

    fn quota(&self) -> Option<QuotaSettings> {
        self.api.quota.map(|(limit, period)| {
            let period = match period {
                QuotaPeriod::Day => QuotaPeriodType::Day,
                QuotaPeriod::Week => QuotaPeriodType::Week,
                QuotaPeriod::Month => QuotaPeriodType::Month,
            };
            QuotaSettings::builder().limit(limit).period(period).build()
        })
    }

    /// The API key (value generated by AWS, never seen here) and the usage plan
    /// that throttles it, bound to this API's stage.
    async fn sync_usage_plan(&self, aws: &Aws, api_id: &str) -> Result<(), ResourceError> {
        let gateway = &aws.apigateway;
        let key_id = match self.key_id(aws).await? {
            Some((id, true, _)) => id,
            Some((id, false, _)) => {
                gateway
                    .update_api_key()
                    .api_key(&id)
                    .patch_operations(patch("/enabled", "true".into()))
                    .send()
                    .await
                    .map_err(|e| self.error("UpdateApiKey", describe(&e)))?;
                id
            }
            None => {
                once::create_once(
                    || async {
                        let created = gateway
                            .create_api_key()
                            .name(self.key_name())
                            .enabled(true)
                            .set_tags(Some(self.tags.clone().into_iter().collect()))
                            .customize()
                            .config_override(once::no_retries())
                            .send()
                            .await
                            .map_err(|e| once::Failure::of(&e))?;
                        once::answered_id(created.id())
                    },
                    || async { Ok(self.key_id(aws).await?.map(|(id, _, _)| id)) },
                    |detail| self.error("CreateApiKey", detail),
                )
                .await?
            }
        };
        let throttle = ThrottleSettings::builder()
            .rate_limit(self.api.rate_limit)
            .burst_limit(self.api.burst_limit)
            .build();
        let stage = ApiStage::builder()
            .api_id(api_id)
            .stage(&self.api.stage)
            .build();
        // An existing plan is recreated rather than patched: a plan is cheap, and
        // its stage list and limits then match exactly.
        if let Some(id) = self
            .usage_plan(aws)
            .await?
            .and_then(|plan| plan.id().map(str::to_owned))
        {
            self.delete_plan(aws, &id).await?;
        }
        let plan_id = once::create_once(
            || async {
                let created = gateway
                    .create_usage_plan()
                    .name(self.plan_name())
                    .api_stages(stage.clone())
                    .throttle(throttle.clone())
                    .set_quota(self.quota())
                    .set_tags(Some(self.tags.clone().into_iter().collect()))
                    .customize()
                    .config_override(once::no_retries())
                    .send()
                    .await
                    .map_err(|e| once::Failure::of(&e))?;
                once::answered_id(created.id())
            },
            || async {
                Ok(self
                    .usage_plan(aws)
                    .await?
                    .and_then(|plan| plan.id().map(str::to_owned)))
            },
            |detail| self.error("CreateUsagePlan", detail),
        )
        .await?;
        match gateway
            .create_usage_plan_key()
            .usage_plan_id(plan_id)
            .key_id(key_id)
            .key_type("API_KEY")
            .send()
            .await
        {
            Ok(_) => Ok(()),
            // The key is in the plan already: a retry whose first answer was lost.
            Err(e) if error_code(&e) == Some("ConflictException") => Ok(()),
            Err(e) => Err(self.error("CreateUsagePlanKey", describe(&e))),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_answer_without_an_id_is_an_error_at_that_call() {
        use crate::resources::Resource;
        let api = crate::stack::data_api(
            &crate::config::parse(
                "[stack]\nname = \"demo\"\nregion = \"eu-west-1\"\n[lake]\nbucket = \"demo-lake\"\n",
                std::path::Path::new("stack.toml"),
                &crate::config::Vars::default(),
            )
            .unwrap(),
            "123456789012",
        );
        for missing in [None, Some("")] {
            let Err(failure) = super::once::answered_id(missing) else {
                panic!("an id from {missing:?}");
            };
            assert!(!failure.transient, "not tried again");
            assert_eq!(
                api.error("CreateApiKey", failure.detail).to_string(),
                "data_api.demo-data-api: CreateApiKey failed: the answer carried no id"
            );
        }
        assert!(matches!(super::once::answered_id(Some("k1")), Ok(id) if id == "k1"));
    }
}
