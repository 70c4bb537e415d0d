//! The data API's key, kept for the extractor as an SSM SecureString: the
//! extractor reads it at start-up, so the value never sits in the function's
//! configuration, in stack.toml, in a plan or in a log. Plans compare a hash.

use std::collections::BTreeMap;
use std::fmt;

use aws_sdk_ssm::types::{ParameterStringFilter, ParameterType, ResourceTypeForTagging, Tag};
use futures_util::future::BoxFuture;
use sha2::{Digest, Sha256};

use super::tags::{claim, tag_delta};
use super::{
    Address, Deleted, FieldChange, FieldValue, Fields, Live, Ownership, Resource, ResourceError,
};
use crate::aws::{Aws, describe, error_code};

pub const KIND: &str = "api_key_parameter";

/// A secret value: shown as `***` by `Debug`, never displayed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Names of the parameters under `path` (e.g. `/showcase/<stack>`), at any depth.
pub async fn names_under(aws: &Aws, path: &str) -> Result<Vec<String>, ResourceError> {
    let filter = ParameterStringFilter::builder()
        .key("Path")
        .option("Recursive")
        .values(path)
        .build()
        .map_err(|e| ResourceError::listing(KIND, "DescribeParameters", e.to_string()))?;
    let mut names = Vec::new();
    let mut pages = aws
        .ssm
        .describe_parameters()
        .parameter_filters(filter)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page =
            page.map_err(|e| ResourceError::listing(KIND, "DescribeParameters", describe(&e)))?;
        names.extend(
            page.parameters()
                .iter()
                .filter_map(|p| p.name())
                .map(str::to_owned),
        );
    }
    Ok(names)
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

pub struct ApiKeyParameter {
    /// e.g. `/showcase/<stack>/data-api-key`.
    pub name: String,
    pub stack: String,
    pub tags: BTreeMap<String, String>,
    pub value: Secret,
    /// The API whose key this is.
    pub data_api: Address,
}

impl ApiKeyParameter {
    async fn read_live(&self, aws: &Aws) -> Result<Option<Live>, ResourceError> {
        let value = match aws
            .ssm
            .get_parameter()
            .name(&self.name)
            .with_decryption(true)
            .send()
            .await
        {
            Ok(out) => out
                .parameter()
                .and_then(|p| p.value())
                .map(str::to_owned)
                .unwrap_or_default(),
            Err(e) if error_code(&e) == Some("ParameterNotFound") => return Ok(None),
            Err(e) => return Err(self.error("GetParameter", describe(&e))),
        };
        let listed = aws
            .ssm
            .list_tags_for_resource()
            .resource_type(ResourceTypeForTagging::Parameter)
            .resource_id(&self.name)
            .send()
            .await
            .map_err(|e| self.error("ListTagsForResource", describe(&e)))?;
        let tags: BTreeMap<String, String> = listed
            .tag_list()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect();
        let mut fields = match claim(tags, &self.stack) {
            Ok(fields) => fields,
            Err(foreign) => return Ok(Some(foreign)),
        };
        fields.insert("value", fingerprint(&value));
        Ok(Some(Live {
            ownership: Ownership::Ours,
            fields,
        }))
    }

    fn ssm_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
        tags.iter()
            .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
            .collect()
    }
}

impl Resource for ApiKeyParameter {
    fn address(&self) -> Address {
        Address {
            kind: KIND,
            name: self.name.clone(),
        }
    }

    fn depends_on(&self) -> Vec<Address> {
        vec![self.data_api.clone()]
    }

    fn desired(&self) -> Fields {
        let mut fields = Fields::new();
        fields.insert("tags", FieldValue::Map(self.tags.clone()));
        fields.insert("value", fingerprint(&self.value.0));
        fields
    }

    fn read<'a>(&'a self, aws: &'a Aws) -> BoxFuture<'a, Result<Option<Live>, ResourceError>> {
        Box::pin(self.read_live(aws))
    }

    fn create<'a>(&'a self, aws: &'a Aws) -> BoxFuture<'a, Result<(), ResourceError>> {
        Box::pin(async move {
            let created = aws
                .ssm
                .put_parameter()
                .name(&self.name)
                .description("showcase-deploy: the data API key the extractor sends")
                .r#type(ParameterType::SecureString)
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
        changes: &'a [FieldChange],
    ) -> BoxFuture<'a, Result<(), ResourceError>> {
        Box::pin(async move {
            for change in changes {
                match change.field {
                    "value" => {
                        aws.ssm
                            .put_parameter()
                            .name(&self.name)
                            .r#type(ParameterType::SecureString)
                            .value(&self.value.0)
                            .overwrite(true)
                            .send()
                            .await
                            .map_err(|e| self.error("PutParameter", describe(&e)))?;
                    }
                    "tags" => {
                        let (set, removed) = tag_delta(change);
                        if !removed.is_empty() {
                            aws.ssm
                                .remove_tags_from_resource()
                                .resource_type(ResourceTypeForTagging::Parameter)
                                .resource_id(&self.name)
                                .set_tag_keys(Some(removed))
                                .send()
                                .await
                                .map_err(|e| self.error("RemoveTagsFromResource", describe(&e)))?;
                        }
                        aws.ssm
                            .add_tags_to_resource()
                            .resource_type(ResourceTypeForTagging::Parameter)
                            .resource_id(&self.name)
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

    fn delete<'a>(
        &'a self,
        aws: &'a Aws,
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
