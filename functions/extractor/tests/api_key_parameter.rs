#![cfg(feature = "ssm")]
//! The deployed extractor reads the API key from an SSM SecureString at start-up.

mod common;

use common::*;
use showcase_extractor::{LakeLocation, SettingsError};

#[tokio::test]
async fn the_api_key_comes_from_its_parameter() {
    let moto = moto();
    let config = moto.sdk_config("us-east-1").await;
    aws_sdk_ssm::Client::new(&config)
        .put_parameter()
        .name("/showcase/test/data-api-key")
        .value("k3y-value-from-ssm")
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .unwrap();
    let mut settings = settings("http://127.0.0.1:9", LakeLocation::Directory("/tmp".into()));
    settings.api_key_parameter = Some("/showcase/test/data-api-key".into());
    let resolved = settings
        .clone()
        .resolve_api_key_with(&config)
        .await
        .unwrap();
    assert_eq!(resolved.api_key.as_deref(), Some("k3y-value-from-ssm"));

    settings.api_key_parameter = Some("/showcase/test/missing".into());
    let error = settings.resolve_api_key_with(&config).await.unwrap_err();
    assert!(
        matches!(
            &error,
            SettingsError::Invalid {
                name: "API_KEY_PARAMETER",
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("/showcase/test/missing")
            && error.to_string().contains("ParameterNotFound"),
        "{error}"
    );
}
