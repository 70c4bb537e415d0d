//! The data API's key, kept for the extractor as an SSM SecureString: the
//! extractor reads it at start-up, so the value never sits in the function's
//! configuration, in stack.toml, in a plan or in a log. Plans compare a hash.
//!
//! Who can read the key, and whether it stays, is more than its value: a
//! plain String (readable without KMS), another KMS key (its owner decides
//! who decrypts), or the Advanced tier with policies (an expiration policy
//! deletes the parameter on a date) are drift. Type, tier and policies are
//! put back by replacing the parameter (SSM cannot take a parameter back to
//! Standard); the key by overwriting it.

use std::collections::BTreeMap;
use std::fmt;

use aws_sdk_ssm::types::{
    ParameterMetadata, ParameterStringFilter, ParameterTier, ParameterType, ResourceTypeForTagging,
    Tag,
};
use futures_util::future::BoxFuture;
use sha2::{Digest, Sha256};

use super::tags::{claim, tag_delta};
use super::{
    Address, Deleted, FieldChange, FieldSpec, FieldValue, Fields, Handle, Live, Owned, Resource,
    ResourceError,
};
use super::{Discovered, Kind};
use crate::aws::{Aws, describe, error_code};
use crate::config::Stack;
use crate::permissions::{Grant, listing, read, write};

pub const KIND: &str = "api_key_parameter";

/// The parameter's fields, declared once.
mod field {
    pub const TAGS: &str = "tags";
    /// A hash of the value.
    pub const VALUE: &str = "value";
    /// SecureString.
    pub const TYPE: &str = "parameter_type";
    /// The KMS key encrypting it: SSM's own.
    pub const KEY_ID: &str = "key_id";
    /// Standard.
    pub const TIER: &str = "tier";
    /// Parameter policies (expiration, notifications): none.
    pub const POLICIES: &str = "policies";
}

/// SSM's own key for SecureStrings, as DescribeParameters names it.
const DEFAULT_KEY: &str = "alias/aws/ssm";
const NONE: &str = "none";

/// A secret value: shown as `***` by `Debug`, never displayed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// The parameters under `path` (e.g. `/showcase/<stack>`), at any depth, all
/// pages: one listing per read phase, shared by prune's discovery and the
/// parameter's read (its key, tier and policies: GetParameter does not say).
async fn parameters_under(aws: &Aws, path: &str) -> Result<Vec<ParameterMetadata>, ResourceError> {
    crate::aws::shared(format!("ssm:DescribeParameters:{path}"), async {
        let filter = ParameterStringFilter::builder()
            .key("Path")
            .option("Recursive")
            .values(path)
            .build()
            .map_err(|e| ResourceError::listing(KIND, "DescribeParameters", e.to_string()))?;
        let mut parameters = Vec::new();
        let mut pages = aws
            .ssm
            .describe_parameters()
            .parameter_filters(filter)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| ResourceError::listing(KIND, "DescribeParameters", describe(&e)))?;
            parameters.extend(page.parameters().iter().cloned());
        }
        Ok(parameters)
    })
    .await
}

/// Names of the parameters under `path`, at any depth.
pub async fn names_under(aws: &Aws, path: &str) -> Result<Vec<String>, ResourceError> {
    Ok(parameters_under(aws, path)
        .await?
        .iter()
        .filter_map(|p| p.name())
        .map(str::to_owned)
        .collect())
}

/// The `policies` field: the policies' texts, sorted.
fn policies_field(mut policies: Vec<String>) -> FieldValue {
    policies.sort();
    FieldValue::Json(serde_json::Value::from(policies))
}

fn fingerprint(value: &str) -> FieldValue {
    if value == super::KNOWN_AFTER_APPLY {
        return FieldValue::Text(value.to_owned());
    }
    let digest = Sha256::digest(value.as_bytes());
    FieldValue::Text(format!(
        "sha256:{}",
        digest
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    ))
}

/// The parameter by its identity: what reads and deletes it.
pub struct ParameterId {
    /// e.g. `/showcase/<stack>/data-api-key`.
    pub name: String,
    pub stack: String,
    /// The API whose key this is.
    pub data_api: Address,
}

pub struct ApiKeyParameter {
    pub id: ParameterId,
    pub tags: BTreeMap<String, String>,
    pub value: Secret,
}

/// SSM changes neither a parameter's type back to SecureString with
/// certainty nor its tier back to Standard in place: a new parameter.
const FIELDS: &[FieldSpec] = &[
    FieldSpec::update(field::TAGS),
    FieldSpec::update(field::VALUE),
    FieldSpec::replace(field::TYPE),
    FieldSpec::update(field::KEY_ID),
    FieldSpec::replace(field::TIER),
    FieldSpec::replace(field::POLICIES),
];

impl ParameterId {
    async fn read_live(&self, aws: &Aws) -> Result<Option<Live>, ResourceError> {
        // All three by name, at once: one round trip.
        let (parameter, listed, metadata) = tokio::join!(
            aws.ssm
                .get_parameter()
                .name(&self.name)
                .with_decryption(true)
                .send(),
            aws.ssm
                .list_tags_for_resource()
                .resource_type(ResourceTypeForTagging::Parameter)
                .resource_id(&self.name)
                .send(),
            self.metadata(aws),
        );
        let parameter = match parameter {
            Ok(out) => out.parameter,
            Err(e) if error_code(&e) == Some("ParameterNotFound") => return Ok(None),
            Err(e) => return Err(self.error("GetParameter", describe(&e))),
        };
        let Some(parameter) = parameter else {
            return Ok(None);
        };
        let listed = listed.map_err(|e| self.error("ListTagsForResource", describe(&e)))?;
        let tags: BTreeMap<String, String> = listed
            .tag_list()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect();
        let mut fields = match claim(tags, &self.stack) {
            Ok(fields) => fields,
            Err(foreign) => return Ok(Some(foreign)),
        };
        fields.insert(
            field::VALUE,
            fingerprint(parameter.value().unwrap_or_default()),
        );
        fields.insert(
            field::TYPE,
            FieldValue::Text(parameter.r#type().map_or(NONE, |t| t.as_str()).to_owned()),
        );
        let metadata = metadata?;
        let metadata = metadata.as_ref();
        fields.insert(
            field::KEY_ID,
            FieldValue::Text(metadata.and_then(|m| m.key_id()).unwrap_or(NONE).to_owned()),
        );
        fields.insert(
            field::TIER,
            FieldValue::Text(
                metadata
                    .and_then(|m| m.tier())
                    .map_or(ParameterTier::Standard.as_str(), |t| t.as_str())
                    .to_owned(),
            ),
        );
        let policies: Vec<String> = metadata
            .map(|m| m.policies())
            .unwrap_or_default()
            .iter()
            .map(|p| {
                p.policy_text()
                    .unwrap_or("(a policy without text)")
                    .to_owned()
            })
            .collect();
        fields.insert(field::POLICIES, policies_field(policies));
        Ok(Some(Live::ours(fields, Handle::default())))
    }

    /// What DescribeParameters says about the parameter (its key, tier and
    /// policies: GetParameter does not say). Its pages may come back empty
    /// before the match: followed to the end.
    async fn metadata(&self, aws: &Aws) -> Result<Option<ParameterMetadata>, ResourceError> {
        // The parameter's folder: the stack's (shared with prune's listing) or its own.
        let path = self
            .name
            .rsplit_once('/')
            .map_or(self.name.as_str(), |(folder, _)| folder);
        Ok(parameters_under(aws, path)
            .await?
            .into_iter()
            .find(|p| p.name() == Some(self.name.as_str())))
    }
}

impl ApiKeyParameter {
    /// Writes the value as a SecureString under SSM's own key.
    async fn overwrite(&self, aws: &Aws) -> Result<(), ResourceError> {
        aws.ssm
            .put_parameter()
            .name(&self.id.name)
            .r#type(ParameterType::SecureString)
            .key_id(DEFAULT_KEY)
            .value(&self.value.0)
            .overwrite(true)
            .send()
            .await
            .map_err(|e| self.error("PutParameter", describe(&e)))?;
        Ok(())
    }

    fn ssm_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
        tags.iter()
            .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
            .collect()
    }
}

impl Owned for ParameterId {
    fn address(&self) -> Address {
        Address {
            kind: KIND,
            name: self.name.clone(),
        }
    }

    fn depends_on(&self) -> Vec<Address> {
        vec![self.data_api.clone()]
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
            match aws.ssm.delete_parameter().name(&self.name).send().await {
                Ok(_) => Ok(Deleted::Deleted),
                Err(e) if error_code(&e) == Some("ParameterNotFound") => Ok(Deleted::Deleted),
                Err(e) => Err(self.error("DeleteParameter", describe(&e))),
            }
        })
    }
}

impl Resource for ApiKeyParameter {
    fn id(&self) -> &dyn Owned {
        &self.id
    }

    fn fields(&self) -> &'static [FieldSpec] {
        FIELDS
    }

    fn desired(&self) -> Fields {
        let mut fields = Fields::new();
        fields.insert(field::TAGS, FieldValue::Map(self.tags.clone()));
        fields.insert(field::VALUE, fingerprint(&self.value.0));
        fields.insert(
            field::TYPE,
            FieldValue::Text(ParameterType::SecureString.as_str().to_owned()),
        );
        fields.insert(field::KEY_ID, FieldValue::Text(DEFAULT_KEY.to_owned()));
        fields.insert(
            field::TIER,
            FieldValue::Text(ParameterTier::Standard.as_str().to_owned()),
        );
        fields.insert(field::POLICIES, policies_field(Vec::new()));
        fields
    }

    fn create<'a>(&'a self, aws: &'a Aws) -> BoxFuture<'a, Result<(), ResourceError>> {
        Box::pin(async move {
            let created = aws
                .ssm
                .put_parameter()
                .name(&self.id.name)
                .description("showcase-deploy: the data API key the extractor sends")
                .r#type(ParameterType::SecureString)
                .key_id(DEFAULT_KEY)
                .tier(ParameterTier::Standard)
                .value(&self.value.0)
                .set_tags(Some(Self::ssm_tags(&self.tags)))
                .send()
                .await;
            match created {
                Ok(_) => Ok(()),
                Err(e) if error_code(&e) == Some("ParameterAlreadyExists") => Ok(()),
                Err(e) => Err(self.error("PutParameter", describe(&e))),
            }
        })
    }

    fn update<'a>(
        &'a self,
        aws: &'a Aws,
        _live: &'a Live,
        changes: &'a [FieldChange],
    ) -> BoxFuture<'a, Result<(), ResourceError>> {
        Box::pin(async move {
            let mut overwritten = false;
            for change in changes {
                match change.field {
                    // One PutParameter sets both.
                    field::VALUE | field::KEY_ID if overwritten => {}
                    field::VALUE | field::KEY_ID => {
                        self.overwrite(aws).await?;
                        overwritten = true;
                    }
                    field::TAGS => {
                        let (set, removed) = tag_delta(change);
                        if !removed.is_empty() {
                            aws.ssm
                                .remove_tags_from_resource()
                                .resource_type(ResourceTypeForTagging::Parameter)
                                .resource_id(&self.id.name)
                                .set_tag_keys(Some(removed))
                                .send()
                                .await
                                .map_err(|e| self.error("RemoveTagsFromResource", describe(&e)))?;
                        }
                        aws.ssm
                            .add_tags_to_resource()
                            .resource_type(ResourceTypeForTagging::Parameter)
                            .resource_id(&self.id.name)
                            .set_tags(Some(Self::ssm_tags(&set)))
                            .send()
                            .await
                            .map_err(|e| self.error("AddTagsToResource", describe(&e)))?;
                    }
                    other => return Err(ResourceError::not_updatable(self.address(), other)),
                }
            }
            Ok(())
        })
    }
}

/// Where the stack's SSM parameters live.
fn parameters_path(stack: &Stack) -> String {
    format!("/showcase/{}", stack.name)
}

/// The SSM parameter that holds the data API's key for the extractor.
pub fn name(stack: &Stack) -> String {
    format!("{}/data-api-key", parameters_path(stack))
}

fn arns(stack: &Stack, account: &str) -> Vec<String> {
    vec![format!(
        "arn:aws:ssm:{}:{account}:parameter{}/*",
        stack.region,
        parameters_path(stack)
    )]
}

fn discover<'a>(
    aws: &'a Aws,
    stack: &'a Stack,
) -> BoxFuture<'a, Result<Discovered, ResourceError>> {
    Box::pin(async move {
        Ok(names_under(aws, &parameters_path(stack))
            .await?
            .into_iter()
            .map(|name| {
                Box::new(ParameterId {
                    name,
                    stack: stack.name.clone(),
                    data_api: Address {
                        kind: super::data_api::KIND,
                        name: super::data_api::name(stack),
                    },
                }) as Box<dyn Owned>
            })
            .collect())
    })
}

pub const SPEC: Kind = Kind {
    name: KIND,
    discover,
    permissions: &[Grant {
        sid: "ApiKeyParameter",
        resources: arns,
        operations: &[
            listing("SSM", "DescribeParameters", &["ssm:DescribeParameters"]),
            read("SSM", "GetParameter", &["ssm:GetParameter"]),
            read("SSM", "ListTagsForResource", &["ssm:ListTagsForResource"]),
            write(
                "SSM",
                "PutParameter",
                &["ssm:PutParameter", "ssm:AddTagsToResource"],
            ),
            write("SSM", "AddTagsToResource", &["ssm:AddTagsToResource"]),
            write(
                "SSM",
                "RemoveTagsFromResource",
                &["ssm:RemoveTagsFromResource"],
            ),
            write("SSM", "DeleteParameter", &["ssm:DeleteParameter"]),
        ],
    }],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_never_shows() {
        let secret = Secret("abcdefghijklmnopqrstuvwxyz".into());
        assert_eq!(format!("{secret:?}"), "***");
        let shown = fingerprint(&secret.0).display();
        assert!(
            shown.starts_with("\"sha256:") && !shown.contains("abcdef"),
            "{shown}"
        );
    }
}
