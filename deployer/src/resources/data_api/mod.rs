//! The data API: one API Gateway REST API with a GET method per route, each
//! requiring an API key and proxying to the data-api function; the invoke
//! permission scoped to this API; a deployment and stage with throttling; an
//! API key and a usage plan with throttling and quota. One resource, because
//! its parts only exist together and share the API's generated id.

mod delete;
mod live;
mod once;
mod write;

use std::collections::BTreeMap;

use futures_util::future::BoxFuture;
use serde_json::json;

use super::api_key_parameter::Secret;
use super::{
    Address, Deleted, FieldChange, FieldSpec, FieldValue, Fields, Handle, Live, Owned, Resource,
    ResourceError,
};
use super::{Discovered, Kind};
use crate::aws::Aws;
use crate::config::Stack;
use crate::config::{ApiConfig, QuotaPeriod};
use crate::permissions::{Grant, read, write};

pub const KIND: &str = "data_api";
/// The statement id of the invoke permission on the function.
pub const PERMISSION_ID: &str = "showcase-data-api-invoke";

/// The data API's fields, declared once.
mod field {
    pub const TAGS: &str = "tags";
    pub const ROUTES: &str = "routes";
    pub const STAGE: &str = "stage";
    pub const INVOKE_PERMISSION: &str = "invoke_permission";
    pub const API_KEY: &str = "api_key";
    pub const USAGE_PLAN: &str = "usage_plan";
    /// Tagged copies of the API, key or plan besides the ones in use: none.
    pub const COPIES: &str = "copies";
    /// The REST API's resource policy (who else may call it): none.
    pub const RESOURCE_POLICY: &str = "resource_policy";
    /// Every stage deployed: the configured one only (another, made by hand,
    /// would serve the API without its throttling).
    pub const STAGES: &str = "stages";
}

const FIELDS: &[FieldSpec] = &[
    FieldSpec::update(field::TAGS),
    FieldSpec::update(field::ROUTES),
    FieldSpec::update(field::STAGE),
    FieldSpec::update(field::INVOKE_PERMISSION),
    FieldSpec::update(field::API_KEY),
    FieldSpec::update(field::USAGE_PLAN),
    FieldSpec::update(field::COPIES),
    FieldSpec::update(field::RESOURCE_POLICY),
    FieldSpec::update(field::STAGES),
];

/// The data API by its identity: its name (which its key and plan share)
/// finds every part; what reads and deletes it.
pub struct DataApiId {
    /// `<stack>-data-api`; also the names of its key (`-key`) and usage plan (`-plan`).
    pub name: String,
    pub stack: String,
    /// Depends on the function it proxies to.
    pub function: Address,
}

/// What a read found: the REST API in use.
struct Found {
    api_id: String,
}

pub struct DataApi {
    pub id: DataApiId,
    pub api: ApiConfig,
    pub function_name: String,
    pub function_arn: String,
    pub account: String,
    pub tags: BTreeMap<String, String>,
}

/// A data API is its identity plus what stack.toml asks of it: the parts
/// found by name are read through the identity.
impl std::ops::Deref for DataApi {
    type Target = DataApiId;

    fn deref(&self) -> &DataApiId {
        &self.id
    }
}

/// Every REST API of the region, all pages: one listing per command's read
/// phase, shared by the context, the data API's read and the prune listing.
pub(crate) async fn all_rest_apis(
    aws: &Aws,
) -> Result<Vec<aws_sdk_apigateway::types::RestApi>, ResourceError> {
    crate::aws::shared("apigateway:GetRestApis".into(), async {
        let mut apis = Vec::new();
        let mut pages = aws
            .apigateway
            .get_rest_apis()
            .limit(500)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                ResourceError::listing(KIND, "GetRestApis", crate::aws::describe(&e))
            })?;
            apis.extend(page.items().iter().cloned());
        }
        Ok(apis)
    })
    .await
}

/// Names of the region's REST APIs that carry `stack`'s tag.
pub async fn names_tagged(aws: &Aws, stack: &str) -> Result<Vec<String>, ResourceError> {
    Ok(all_rest_apis(aws)
        .await?
        .iter()
        .filter(|api| {
            api.tags()
                .and_then(|tags| tags.get(crate::config::STACK_TAG))
                .is_some_and(|owner| owner == stack)
        })
        .filter_map(|api| api.name())
        .map(str::to_owned)
        .collect())
}

/// Where a deployed data API answers, and its key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Endpoint {
    pub api_id: String,
    pub url: String,
    pub stage: String,
    pub api_key_id: Option<String>,
    /// The key's value, for the SSM parameter the extractor reads: never shown.
    #[serde(skip)]
    pub api_key: Option<Secret>,
}

impl DataApiId {
    fn key_name(&self) -> String {
        format!("{}-key", self.name)
    }

    fn plan_name(&self) -> String {
        format!("{}-plan", self.name)
    }

    /// Ownership, and the REST API in use: what a leftover's delete needs.
    async fn read_owner(&self, aws: &Aws) -> Result<Option<Live>, ResourceError> {
        let Some((api_id, tags)) = self.find_api(aws).await? else {
            return Ok(None);
        };
        Ok(Some(match super::tags::claim(tags, &self.stack) {
            Ok(fields) => Live::ours(fields, Handle::new(Found { api_id })),
            Err(foreign) => foreign,
        }))
    }
}

impl DataApi {
    /// The live endpoint and key, if the stack's API exists. One round trip:
    /// the API and the key (with its value) are listed side by side.
    pub async fn endpoint(&self, aws: &Aws) -> Result<Option<Endpoint>, ResourceError> {
        let (api, keys) = tokio::try_join!(self.find_api(aws), self.keys(aws, true))?;
        let Some((api_id, _)) = api else {
            return Ok(None);
        };
        let key = keys.into_iter().next();
        Ok(Some(Endpoint {
            url: format!(
                "https://{api_id}.execute-api.{}.amazonaws.com/{}",
                aws.region, self.api.stage
            ),
            api_id,
            stage: self.api.stage.clone(),
            api_key_id: key.as_ref().and_then(|k| k.id()).map(str::to_owned),
            api_key: key.and_then(|k| k.value().map(|v| Secret(v.to_owned()))),
        }))
    }

    /// The API key's value: a secret, read only when the user asks to see it.
    pub async fn api_key_value(
        &self,
        aws: &Aws,
        key_id: &str,
    ) -> Result<Option<String>, ResourceError> {
        let key = aws
            .apigateway
            .get_api_key()
            .api_key(key_id)
            .include_value(true)
            .send()
            .await
            .map_err(|e| self.error("GetApiKey", crate::aws::describe(&e)))?;
        Ok(key.value().map(str::to_owned))
    }

    fn integration_uri(&self, region: &str) -> String {
        format!(
            "arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{}/invocations",
            self.function_arn
        )
    }

    fn source_arn(&self, region: &str, api_id: &str) -> String {
        format!(
            "arn:aws:execute-api:{region}:{}:{api_id}/*/GET/*",
            self.account
        )
    }

    fn routes_field(&self, region: &str) -> FieldValue {
        let mut routes: Vec<&String> = self.api.routes.iter().collect();
        routes.sort();
        FieldValue::Json(json!(routes
            .into_iter()
            .map(|path| json!({"path": path, "authorization": "NONE", "api_key_required": true, "integration": format!("AWS_PROXY {}", self.integration_uri(region))}))
            .collect::<Vec<_>>()))
    }

    fn stage_field(&self) -> FieldValue {
        FieldValue::Json(
            json!({"name": self.api.stage, "rate_limit": self.api.rate_limit, "burst_limit": self.api.burst_limit}),
        )
    }

    fn usage_plan_field(&self) -> FieldValue {
        let (quota_limit, quota_period) = self.api.quota.map_or((0, "none"), |(limit, period)| {
            (limit, QuotaPeriod::as_str(period))
        });
        FieldValue::Json(json!({
            "stage": self.api.stage,
            "rate_limit": self.api.rate_limit,
            "burst_limit": self.api.burst_limit,
            "quota_limit": quota_limit,
            "quota_period": quota_period,
            "key_linked": true,
        }))
    }

    /// The desired fields, given where the API lives (the region shapes ARNs).
    fn desired_in(&self, region: &str) -> Fields {
        let mut fields = Fields::new();
        fields.insert(field::TAGS, FieldValue::Map(self.tags.clone()));
        fields.insert(field::ROUTES, self.routes_field(region));
        fields.insert(field::STAGE, self.stage_field());
        fields.insert(
            field::INVOKE_PERMISSION,
            FieldValue::Text("granted to this API".into()),
        );
        fields.insert(field::API_KEY, FieldValue::Text("enabled".into()));
        fields.insert(field::USAGE_PLAN, self.usage_plan_field());
        fields.insert(field::COPIES, live::Copies::default().field());
        fields.insert(field::RESOURCE_POLICY, FieldValue::Text("none".into()));
        fields.insert(
            field::STAGES,
            FieldValue::Json(json!([self.api.stage.clone()])),
        );
        fields
    }
}

impl Owned for DataApiId {
    fn address(&self) -> Address {
        Address {
            kind: KIND,
            name: self.name.clone(),
        }
    }

    fn depends_on(&self) -> Vec<Address> {
        vec![self.function.clone()]
    }

    fn read<'a>(&'a self, aws: &'a Aws) -> BoxFuture<'a, Result<Option<Live>, ResourceError>> {
        Box::pin(self.read_owner(aws))
    }

    fn delete<'a>(
        &'a self,
        aws: &'a Aws,
        _live: &'a Live,
        _delete_data: bool,
    ) -> BoxFuture<'a, Result<Deleted, ResourceError>> {
        // Every part of the stack's, copies included, found by name.
        Box::pin(self.delete_all(aws))
    }
}

impl Resource for DataApi {
    fn id(&self) -> &dyn Owned {
        &self.id
    }

    fn fields(&self) -> &'static [FieldSpec] {
        FIELDS
    }

    fn desired(&self) -> Fields {
        let region = self
            .function_arn
            .split(':')
            .nth(3)
            .unwrap_or_default()
            .to_owned();
        self.desired_in(&region)
    }

    /// More than the identity reads: the stage, routes and grant stack.toml names.
    fn read<'a>(&'a self, aws: &'a Aws) -> BoxFuture<'a, Result<Option<Live>, ResourceError>> {
        Box::pin(self.read_live(aws))
    }

    fn create<'a>(&'a self, aws: &'a Aws) -> BoxFuture<'a, Result<(), ResourceError>> {
        Box::pin(self.create_all(aws))
    }

    fn update<'a>(
        &'a self,
        aws: &'a Aws,
        live: &'a Live,
        changes: &'a [FieldChange],
    ) -> BoxFuture<'a, Result<(), ResourceError>> {
        Box::pin(self.update_fields(aws, live, changes))
    }
}

/// `<stack>-data-api`: the REST API's name (its key and plan add `-key`, `-plan`).
pub fn name(stack: &Stack) -> String {
    super::function::name(stack, crate::config::FunctionName::DataApi)
}

/// REST API, key and usage plan ids are made by AWS: no narrower ARN exists.
fn arns(stack: &Stack, _account: &str) -> Vec<String> {
    [
        "/restapis",
        "/restapis/*",
        "/apikeys",
        "/apikeys/*",
        "/usageplans",
        "/usageplans/*",
        "/tags/*",
    ]
    .iter()
    .map(|path| format!("arn:aws:apigateway:{}::{path}", stack.region))
    .collect()
}

fn discover<'a>(
    aws: &'a Aws,
    stack: &'a Stack,
) -> BoxFuture<'a, Result<Discovered, ResourceError>> {
    Box::pin(async move {
        Ok(names_tagged(aws, &stack.name)
            .await?
            .into_iter()
            .map(|name| {
                Box::new(DataApiId {
                    function: Address {
                        kind: super::function::KIND,
                        name: name.clone(),
                    },
                    name,
                    stack: stack.name.clone(),
                }) as Box<dyn Owned>
            })
            .collect())
    })
}

/// API Gateway's IAM actions are HTTP verbs.
pub const SPEC: Kind = Kind {
    name: KIND,
    discover,
    permissions: &[Grant {
        sid: "DataApi",
        resources: arns,
        operations: &[
            read("API Gateway", "GetRestApis", &["apigateway:GET"]),
            read("API Gateway", "GetResources", &["apigateway:GET"]),
            read("API Gateway", "GetStage", &["apigateway:GET"]),
            read("API Gateway", "GetStages", &["apigateway:GET"]),
            read("API Gateway", "GetApiKeys", &["apigateway:GET"]),
            // The key's value: plans compare its hash with the parameter's.
            read("API Gateway", "GetApiKey", &["apigateway:GET"]),
            read("API Gateway", "GetUsagePlans", &["apigateway:GET"]),
            read("API Gateway", "GetUsagePlanKeys", &["apigateway:GET"]),
            write(
                "API Gateway",
                "CreateRestApi",
                &["apigateway:POST", "apigateway:PUT"],
            ),
            write("API Gateway", "CreateResource", &["apigateway:POST"]),
            write("API Gateway", "PutMethod", &["apigateway:PUT"]),
            write("API Gateway", "PutIntegration", &["apigateway:PUT"]),
            write("API Gateway", "CreateDeployment", &["apigateway:POST"]),
            write("API Gateway", "UpdateStage", &["apigateway:PATCH"]),
            write("API Gateway", "UpdateRestApi", &["apigateway:PATCH"]),
            write("API Gateway", "DeleteStage", &["apigateway:DELETE"]),
            write(
                "API Gateway",
                "CreateApiKey",
                &["apigateway:POST", "apigateway:PUT"],
            ),
            write("API Gateway", "UpdateApiKey", &["apigateway:PATCH"]),
            write(
                "API Gateway",
                "CreateUsagePlan",
                &["apigateway:POST", "apigateway:PUT"],
            ),
            write("API Gateway", "CreateUsagePlanKey", &["apigateway:POST"]),
            write("API Gateway", "TagResource", &["apigateway:PUT"]),
            write("API Gateway", "UntagResource", &["apigateway:DELETE"]),
            write("API Gateway", "DeleteMethod", &["apigateway:DELETE"]),
            write("API Gateway", "DeleteResource", &["apigateway:DELETE"]),
            write("API Gateway", "DeleteUsagePlanKey", &["apigateway:DELETE"]),
            write("API Gateway", "DeleteUsagePlan", &["apigateway:DELETE"]),
            write("API Gateway", "DeleteApiKey", &["apigateway:DELETE"]),
            write("API Gateway", "DeleteRestApi", &["apigateway:DELETE"]),
        ],
    }],
};
