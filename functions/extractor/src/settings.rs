//! The extractor's configuration, from the environment the deploy tool sets.

use std::path::PathBuf;

use showcase_dataset::Day;

use crate::request::Entity;
use crate::source::RetryPolicy;

/// Environment variables read by [`ExtractorSettings::from_env`].
pub mod env {
    pub const API_BASE_URL: &str = "API_BASE_URL";
    pub const API_KEY: &str = "API_KEY";
    pub const API_KEY_PARAMETER: &str = "API_KEY_PARAMETER";
    pub const LAKE_URL: &str = "LAKE_URL";
    pub const LAKE_KEY_LAYOUT: &str = "LAKE_KEY_LAYOUT";
    pub const PAGE_SIZE: &str = "PAGE_SIZE";

    /// What the deploy tool sets for the deployed extractor, so a stack file may not:
    /// the names must match what it deployed, and a plain `API_KEY` would put the
    /// secret in stack.toml (the tool passes `API_KEY_PARAMETER` instead).
    pub const SET_BY_DEPLOY: &[&str] = &[API_BASE_URL, API_KEY, API_KEY_PARAMETER, LAKE_URL];
}

#[derive(Debug, Clone)]
pub struct ExtractorSettings {
    /// e.g. `https://abc.execute-api.eu-west-1.amazonaws.com/prod` or `http://127.0.0.1:8080`.
    pub api_base_url: String,
    /// Sent as `x-api-key` when set. Never logged.
    pub api_key: Option<String>,
    /// An SSM SecureString holding the API key (how the deployed extractor gets
    /// it: the value never sits in the function's configuration).
    pub api_key_parameter: Option<String>,
    pub lake: LakeLocation,
    pub layout: KeyLayout,
    pub page_size: u64,
    pub retry: RetryPolicy,
}

/// Where the lake is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LakeLocation {
    /// `s3://bucket/prefix/` (prefix may be empty).
    S3 { bucket: String, prefix: String },
    /// A local directory (`file:///path` or a plain path).
    Directory(PathBuf),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("{name} is not set: {hint}")]
    Missing {
        name: &'static str,
        hint: &'static str,
    },
    #[error("{name}='{value}' is invalid: {why}")]
    Invalid {
        name: &'static str,
        value: String,
        why: String,
    },
}

impl LakeLocation {
    pub fn parse(text: &str) -> Result<LakeLocation, SettingsError> {
        let invalid = |why: &str| SettingsError::Invalid {
            name: env::LAKE_URL,
            value: text.to_owned(),
            why: why.to_owned(),
        };
        if let Some(rest) = text.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(invalid("the bucket name is missing (s3://BUCKET/prefix/)"));
            }
            let prefix = match prefix.trim_matches('/') {
                "" => String::new(),
                p => format!("{p}/"),
            };
            return Ok(LakeLocation::S3 {
                bucket: bucket.to_owned(),
                prefix,
            });
        }
        let path = text.strip_prefix("file://").unwrap_or(text);
        if path.is_empty() || text.contains("://") && !text.starts_with("file://") {
            return Err(invalid(
                "expected s3://BUCKET/prefix/, file:///path or a directory path",
            ));
        }
        Ok(LakeLocation::Directory(PathBuf::from(path)))
    }

    /// How to name an object of this lake in messages and summaries.
    pub fn display_key(&self, key: &str) -> String {
        match self {
            LakeLocation::S3 { bucket, prefix } => format!("s3://{bucket}/{prefix}{key}"),
            LakeLocation::Directory(root) => root.join(key).display().to_string(),
        }
    }
}

/// The object key of one entity and day, from a template with `{date}`,
/// `{entity}` and `{ext}`. The seed's layout, the default, is `{date}/{entity}.{ext}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyLayout(String);

impl Default for KeyLayout {
    fn default() -> Self {
        KeyLayout(KeyLayout::SEED.to_owned())
    }
}

impl KeyLayout {
    pub const SEED: &'static str = "{date}/{entity}.{ext}";

    pub fn parse(template: &str) -> Result<KeyLayout, SettingsError> {
        let invalid = |why: &str| SettingsError::Invalid {
            name: env::LAKE_KEY_LAYOUT,
            value: template.to_owned(),
            why: why.to_owned(),
        };
        // Each day and entity needs its own key, or one run would overwrite another's data.
        if !template.contains("{date}") || !template.contains("{entity}") {
            return Err(invalid("it must contain {date} and {entity}"));
        }
        let rest = template
            .replace("{date}", "")
            .replace("{entity}", "")
            .replace("{ext}", "");
        if rest.contains('{') || rest.contains('}') {
            return Err(invalid("only {date}, {entity} and {ext} are known"));
        }
        if template.starts_with('/') || template.split('/').any(|part| part == "..") {
            return Err(invalid(
                "keys are relative to the lake: no leading / and no ..",
            ));
        }
        Ok(KeyLayout(template.to_owned()))
    }

    pub fn key(&self, day: Day, entity: Entity) -> String {
        self.0
            .replace("{date}", &day.to_string())
            .replace("{entity}", entity.as_str())
            .replace("{ext}", entity.extension())
    }
}

impl ExtractorSettings {
    pub fn from_env() -> Result<ExtractorSettings, SettingsError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let api_base_url = var(env::API_BASE_URL).ok_or(SettingsError::Missing {
            name: env::API_BASE_URL,
            hint: "the data API's base URL, e.g. https://ID.execute-api.REGION.amazonaws.com/prod",
        })?;
        if !(api_base_url.starts_with("http://") || api_base_url.starts_with("https://")) {
            return Err(SettingsError::Invalid {
                name: env::API_BASE_URL,
                value: api_base_url,
                why: "it must start with http:// or https://".into(),
            });
        }
        let lake = LakeLocation::parse(&var(env::LAKE_URL).ok_or(SettingsError::Missing {
            name: env::LAKE_URL,
            hint: "where to write, e.g. s3://my-lake/ or a directory",
        })?)?;
        let layout = match var(env::LAKE_KEY_LAYOUT) {
            Some(template) => KeyLayout::parse(&template)?,
            None => KeyLayout::default(),
        };
        let page_size = match var(env::PAGE_SIZE) {
            None => 10_000,
            Some(text) => match text.parse::<u64>() {
                Ok(n) if (1..=20_000).contains(&n) => n,
                _ => {
                    return Err(SettingsError::Invalid {
                        name: env::PAGE_SIZE,
                        value: text,
                        why: "an integer from 1 to 20000".into(),
                    });
                }
            },
        };
        Ok(ExtractorSettings {
            api_base_url: api_base_url.trim_end_matches('/').to_owned(),
            api_key: var(env::API_KEY),
            api_key_parameter: var(env::API_KEY_PARAMETER),
            lake,
            layout,
            page_size,
            retry: RetryPolicy::default(),
        })
    }
}

#[cfg(feature = "ssm")]
impl ExtractorSettings {
    /// Reads the API key from SSM when only its parameter name is configured.
    pub async fn resolve_api_key(self) -> Result<ExtractorSettings, SettingsError> {
        if self.api_key_parameter.is_none() || self.api_key.is_some() {
            return Ok(self);
        }
        let config = aws_config::load_from_env().await;
        self.resolve_api_key_with(&config).await
    }

    /// [`Self::resolve_api_key`] with a given AWS configuration.
    pub async fn resolve_api_key_with(
        mut self,
        config: &aws_config::SdkConfig,
    ) -> Result<ExtractorSettings, SettingsError> {
        let Some(name) = self
            .api_key_parameter
            .clone()
            .filter(|_| self.api_key.is_none())
        else {
            return Ok(self);
        };
        let found = aws_sdk_ssm::Client::new(config)
            .get_parameter()
            .name(&name)
            .with_decryption(true)
            .send()
            .await;
        let invalid = |why: String| SettingsError::Invalid {
            name: env::API_KEY_PARAMETER,
            value: name.clone(),
            why,
        };
        match found {
            Ok(out) => {
                let value = out
                    .parameter()
                    .and_then(|p| p.value())
                    .ok_or_else(|| invalid("the parameter has no value".into()))?;
                self.api_key = Some(value.to_owned());
                Ok(self)
            }
            Err(error) => Err(invalid(match error.as_service_error() {
                Some(service) => format!(
                    "cannot read it: {}",
                    aws_sdk_ssm::error::ProvideErrorMetadata::code(service).unwrap_or("error")
                ),
                None => format!("cannot read it: {error}"),
            })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lake_urls() {
        assert_eq!(
            LakeLocation::parse("s3://lake/raw").unwrap(),
            LakeLocation::S3 {
                bucket: "lake".into(),
                prefix: "raw/".into()
            }
        );
        assert_eq!(
            LakeLocation::parse("s3://lake").unwrap(),
            LakeLocation::S3 {
                bucket: "lake".into(),
                prefix: String::new()
            }
        );
        assert_eq!(
            LakeLocation::parse("file:///tmp/lake").unwrap(),
            LakeLocation::Directory("/tmp/lake".into())
        );
        assert_eq!(
            LakeLocation::parse("./lake").unwrap(),
            LakeLocation::Directory("./lake".into())
        );
        assert!(LakeLocation::parse("s3:///x").is_err());
        assert!(LakeLocation::parse("gs://bucket").is_err());
    }

    #[test]
    fn layouts() {
        let day: Day = "2024-01-05".parse().unwrap();
        assert_eq!(
            KeyLayout::default().key(day, Entity::Sales),
            "2024-01-05/sales.parquet"
        );
        assert_eq!(
            KeyLayout::parse("dt={date}/{entity}.{ext}")
                .unwrap()
                .key(day, Entity::Products),
            "dt=2024-01-05/products.csv"
        );
        for bad in [
            "{entity}.{ext}",
            "{date}/{ext}",
            "{date}/{entity}/{hour}",
            "/{date}/{entity}",
            "../{date}/{entity}",
        ] {
            assert!(KeyLayout::parse(bad).is_err(), "{bad}");
        }
    }
}
