//! Reading the data API's live state, part by part.

use std::collections::BTreeMap;

use serde_json::json;

use super::{DataApi, DataApiId, Found, PERMISSION_ID, field};
use crate::aws::{Aws, describe, error_code};
use crate::resources::tags::{claim, ownership};
use crate::resources::{FieldValue, Handle, Live, Owned, Ownership, ResourceError};

/// Same-name copies of the API, its key and its plan that carry the stack's
/// tag besides the ones in use. API Gateway names need not be unique, so two
/// `up`s run at once can each create one; the stack keeps one of each.
#[derive(Debug, Default)]
pub(super) struct Copies {
    pub rest_apis: Vec<String>,
    pub api_keys: Vec<String>,
    pub usage_plans: Vec<String>,
}

impl Copies {
    pub fn field(&self) -> FieldValue {
        FieldValue::Json(json!({
            "rest_apis": self.rest_apis.len(),
            "api_keys": self.api_keys.len(),
            "usage_plans": self.usage_plans.len(),
        }))
    }
}

/// Every id but the first (the one in use): the lists hold the stack's own only.
fn extra_ids<'a>(ids: impl Iterator<Item = &'a str>) -> Vec<String> {
    ids.skip(1).map(str::to_owned).collect()
}

impl DataApiId {
    /// The REST API of this name, with its tags (API Gateway names need not be unique).
    pub async fn find_api(
        &self,
        aws: &Aws,
    ) -> Result<Option<(String, BTreeMap<String, String>)>, ResourceError> {
        Ok(self.find_apis(aws).await?.into_iter().next())
    }

    /// Every REST API of this name that is the stack's, oldest first: the first
    /// is the one in use (the oldest, so a copy never displaces it). Same-named
    /// APIs without the stack's tag are someone else's (API Gateway names need
    /// not be unique): never adopted, changed or deleted.
    async fn find_apis(
        &self,
        aws: &Aws,
    ) -> Result<Vec<(String, BTreeMap<String, String>)>, ResourceError> {
        let mut listed: Vec<aws_sdk_apigateway::types::RestApi> = super::all_rest_apis(aws)
            .await?
            .into_iter()
            .filter(|api| api.name() == Some(self.name.as_str()))
            .collect();
        // Stable: copies made in the same second keep the service's order.
        listed.sort_by_key(|api| api.created_date().map(|d| d.as_nanos()));
        Ok(listed
            .into_iter()
            .filter_map(|api| {
                let tags: BTreeMap<String, String> = api
                    .tags()
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .collect();
                Some((api.id()?.to_owned(), tags))
            })
            .filter(|(_, tags)| ownership(tags, &self.stack) == Ownership::Ours)
            .collect())
    }

    /// The API key in use: `(id, enabled, tags)`.
    pub async fn key_id(
        &self,
        aws: &Aws,
    ) -> Result<Option<(String, bool, BTreeMap<String, String>)>, ResourceError> {
        Ok(self.key_ids(aws).await?.into_iter().next())
    }

    /// Every API key of this name that is the stack's, oldest first (a
    /// same-named key without the tag is never enabled, linked or deleted).
    /// Values only when asked (`include_values`): they are secrets.
    pub(super) async fn keys(
        &self,
        aws: &Aws,
        include_values: bool,
    ) -> Result<Vec<aws_sdk_apigateway::types::ApiKey>, ResourceError> {
        let key = format!("apigateway:GetApiKeys:{}:{include_values}", self.key_name());
        let all = crate::aws::shared(key, async {
            let mut all: Vec<aws_sdk_apigateway::types::ApiKey> = Vec::new();
            let mut pages = aws
                .apigateway
                .get_api_keys()
                .name_query(self.key_name())
                .include_values(include_values)
                .limit(500)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| self.error("GetApiKeys", describe(&e)))?;
                all.extend(page.items().iter().cloned());
            }
            Ok::<_, ResourceError>(all)
        })
        .await?;
        let mut listed: Vec<aws_sdk_apigateway::types::ApiKey> = all
            .into_iter()
            .filter(|k| k.name() == Some(self.key_name().as_str()))
            .filter(|k| {
                let tags = k.tags().cloned().unwrap_or_default().into_iter().collect();
                ownership(&tags, &self.stack) == Ownership::Ours
            })
            .collect();
        listed.sort_by_key(|k| k.created_date().map(|d| d.as_nanos()));
        Ok(listed)
    }

    /// `(id, enabled, tags)` of every key of the stack's, the one in use first.
    async fn key_ids(
        &self,
        aws: &Aws,
    ) -> Result<Vec<(String, bool, BTreeMap<String, String>)>, ResourceError> {
        // With values, as the context lists them: one listing serves both.
        Ok(self
            .keys(aws, true)
            .await?
            .into_iter()
            .filter_map(|k| {
                let tags = k.tags().cloned().unwrap_or_default().into_iter().collect();
                Some((k.id()?.to_owned(), k.enabled(), tags))
            })
            .collect())
    }

    /// The usage plan in use.
    pub(super) async fn usage_plan(
        &self,
        aws: &Aws,
    ) -> Result<Option<aws_sdk_apigateway::types::UsagePlan>, ResourceError> {
        Ok(self.usage_plans(aws).await?.into_iter().next())
    }

    /// Every usage plan of this name that is the stack's, by id (plans have no
    /// creation date; the tool recreates its plan whenever it changes anyway).
    /// A same-named plan without the tag is never deleted or linked.
    async fn usage_plans(
        &self,
        aws: &Aws,
    ) -> Result<Vec<aws_sdk_apigateway::types::UsagePlan>, ResourceError> {
        let mut matching = Vec::new();
        let mut pages = aws
            .apigateway
            .get_usage_plans()
            .limit(500)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.error("GetUsagePlans", describe(&e)))?;
            matching.extend(
                page.items()
                    .iter()
                    .filter(|p| p.name() == Some(self.plan_name().as_str()))
                    .filter(|p| {
                        let tags = p.tags().cloned().unwrap_or_default().into_iter().collect();
                        ownership(&tags, &self.stack) == Ownership::Ours
                    })
                    .cloned(),
            );
        }
        matching.sort_by_key(|p| p.id().map(str::to_owned));
        Ok(matching)
    }

    /// The copies besides the ones in use (see [`Copies`]).
    pub(super) async fn copies(&self, aws: &Aws) -> Result<Copies, ResourceError> {
        let (apis, keys, plans) = tokio::try_join!(
            self.find_apis(aws),
            self.key_ids(aws),
            self.usage_plans(aws)
        )?;
        Ok(self.copies_of(&apis, &keys, &plans))
    }

    fn copies_of(
        &self,
        apis: &[(String, BTreeMap<String, String>)],
        keys: &[(String, bool, BTreeMap<String, String>)],
        plans: &[aws_sdk_apigateway::types::UsagePlan],
    ) -> Copies {
        Copies {
            rest_apis: extra_ids(apis.iter().map(|(id, _)| id.as_str())),
            api_keys: extra_ids(keys.iter().map(|(id, _, _)| id.as_str())),
            usage_plans: extra_ids(plans.iter().filter_map(|p| p.id())),
        }
    }

    /// Every resource (path) of the API, all pages.
    pub(super) async fn api_resources(
        &self,
        aws: &Aws,
        api_id: &str,
    ) -> Result<Vec<aws_sdk_apigateway::types::Resource>, ResourceError> {
        let mut resources = Vec::new();
        let mut pages = aws
            .apigateway
            .get_resources()
            .rest_api_id(api_id)
            // Each resource's methods with their integrations, in the same
            // answer: no GetMethod per route.
            .embed("methods")
            .limit(500)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.error("GetResources", describe(&e)))?;
            resources.extend(page.items().iter().cloned());
        }
        Ok(resources)
    }

    /// The names of the API's stages, sorted.
    pub(super) async fn stage_names(
        &self,
        aws: &Aws,
        api_id: &str,
    ) -> Result<Vec<String>, ResourceError> {
        let stages = aws
            .apigateway
            .get_stages()
            .rest_api_id(api_id)
            .send()
            .await
            .map_err(|e| self.error("GetStages", describe(&e)))?;
        let mut names: Vec<String> = stages
            .item()
            .iter()
            .filter_map(|s| s.stage_name())
            .map(str::to_owned)
            .collect();
        names.sort();
        Ok(names)
    }

    /// The ids of the keys linked to a usage plan, all pages.
    pub(super) async fn usage_plan_key_ids(
        &self,
        aws: &Aws,
        plan_id: &str,
    ) -> Result<Vec<String>, ResourceError> {
        let mut ids = Vec::new();
        let mut pages = aws
            .apigateway
            .get_usage_plan_keys()
            .usage_plan_id(plan_id)
            .limit(500)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.error("GetUsagePlanKeys", describe(&e)))?;
            ids.extend(
                page.items()
                    .iter()
                    .filter_map(|k| k.id())
                    .map(str::to_owned),
            );
        }
        Ok(ids)
    }
}

impl DataApi {
    pub(super) async fn read_live(&self, aws: &Aws) -> Result<Option<Live>, ResourceError> {
        // What goes by name (the API, its key, its plan, the function's
        // policy) at once; then what needs the API's id.
        let (apis, keys, plans, permission) = tokio::join!(
            self.find_apis(aws),
            self.key_ids(aws),
            self.usage_plans(aws),
            crate::resources::function::policy_document(aws, &self.function_name),
        );
        let apis = apis?;
        let Some((api_id, tags)) = apis.first().cloned() else {
            return Ok(None);
        };
        let mut fields = match claim(tags, &self.stack) {
            Ok(fields) => fields,
            Err(foreign) => return Ok(Some(foreign)),
        };
        let (keys, plans) = (keys?, plans?);
        let plan_id = plans.first().and_then(|p| p.id()).map(str::to_owned);
        let linked_keys = async {
            match &plan_id {
                Some(plan_id) => self.usage_plan_key_ids(aws, plan_id).await.map(Some),
                None => Ok(None),
            }
        };
        let (routes, stage, linked_keys, stages) = tokio::join!(
            self.api_resources(aws, &api_id),
            aws.apigateway
                .get_stage()
                .rest_api_id(&api_id)
                .stage_name(&self.api.stage)
                .send(),
            linked_keys,
            self.stage_names(aws, &api_id),
        );
        fields.insert(field::STAGES, FieldValue::Json(json!(stages?)));
        // The listing the API was found in carries its resource policy.
        let policy = super::all_rest_apis(aws)
            .await?
            .iter()
            .find(|api| api.id() == Some(api_id.as_str()))
            .and_then(|api| api.policy())
            .filter(|policy| !policy.is_empty())
            .map(str::to_owned);
        fields.insert(
            field::RESOURCE_POLICY,
            policy.map_or_else(|| FieldValue::Text("none".into()), |p| FieldValue::json(&p)),
        );
        let linked_keys = linked_keys?;
        fields.insert(field::COPIES, self.copies_of(&apis, &keys, &plans).field());
        let key = keys.into_iter().next();
        let plan = plans.into_iter().next();
        fields.insert(
            field::ROUTES,
            FieldValue::Json(serde_json::Value::Array(self.live_routes(&routes?))),
        );
        match stage {
            Ok(stage) => {
                let settings = stage.method_settings().and_then(|m| m.get("*/*"));
                fields.insert(
                    "stage",
                    FieldValue::Json(json!({
                        "name": stage.stage_name().unwrap_or_default(),
                        "rate_limit": settings.map_or(0.0, |s| s.throttling_rate_limit()),
                        "burst_limit": settings.map_or(0, |s| s.throttling_burst_limit()),
                    })),
                );
            }
            Err(e) if error_code(&e) == Some("NotFoundException") => {}
            Err(e) => return Err(self.error("GetStage", describe(&e))),
        }
        // The grant names this API, whose id is unique; the account is not
        // needed (a read goes by name, before the account is known).
        let source = format!(":execute-api:{}:", aws.region);
        let api = format!(":{api_id}/*/GET/*");
        let granted = permission
            .map_err(|detail| self.error("GetPolicy", detail))?
            .is_some_and(|p| p.contains(PERMISSION_ID) && p.contains(&source) && p.contains(&api));
        if granted {
            fields.insert(
                field::INVOKE_PERMISSION,
                FieldValue::Text("granted to this API".into()),
            );
        }
        if let Some((_, enabled, _)) = &key {
            fields.insert(
                field::API_KEY,
                FieldValue::Text(if *enabled { "enabled" } else { "disabled" }.into()),
            );
        }
        if let Some(plan) = plan {
            let key_linked = match (&key, &linked_keys) {
                (Some((key_id, _, _)), Some(linked)) => linked.contains(key_id),
                _ => false,
            };
            let stage = plan
                .api_stages()
                .iter()
                .find(|s| s.api_id() == Some(api_id.as_str()))
                .and_then(|s| s.stage())
                .unwrap_or_default();
            let quota = plan.quota();
            fields.insert(
                field::USAGE_PLAN,
                FieldValue::Json(json!({
                    "stage": stage,
                    "rate_limit": plan.throttle().map_or(0.0, |t| t.rate_limit()),
                    "burst_limit": plan.throttle().map_or(0, |t| t.burst_limit()),
                    "quota_limit": quota.map_or(0, |q| q.limit()),
                    "quota_period": quota.and_then(|q| q.period()).map_or("none", |p| p.as_str()),
                    "key_linked": key_linked,
                })),
            );
        }
        Ok(Some(Live::ours(fields, Handle::new(Found { api_id }))))
    }

    /// Every GET route of the API with its key requirement and integration.
    fn live_routes(
        &self,
        resources: &[aws_sdk_apigateway::types::Resource],
    ) -> Vec<serde_json::Value> {
        let mut routes: Vec<serde_json::Value> = resources
            .iter()
            .filter_map(|resource| {
                let path = resource.path().filter(|path| *path != "/")?;
                let method = resource.resource_methods().and_then(|m| m.get("GET"));
                let authorization = method
                    .and_then(|m| m.authorization_type())
                    .unwrap_or("NONE")
                    .to_owned();
                let (api_key_required, integration) = match method {
                    Some(method) => {
                        let integration = method.method_integration().map(|i| {
                            format!(
                                "{} {}",
                                i.r#type().map_or("NONE", |t| t.as_str()),
                                i.uri().unwrap_or_default()
                            )
                        });
                        (
                            method.api_key_required().unwrap_or(false),
                            integration.unwrap_or_else(|| "none".into()),
                        )
                    }
                    None => (false, "no GET method".into()),
                };
                Some(json!({"path": path, "authorization": authorization, "api_key_required": api_key_required, "integration": integration}))
            })
            .collect();
        routes.sort_by_key(|r| r["path"].to_string());
        routes
    }
}
