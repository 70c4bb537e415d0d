//! Deleting the data API's parts: its copies, its usage plan (keys first),
//! its key and its REST API. A delete answered `NotFoundException` is done:
//! the SDK's retry of a delete whose first answer was lost finds it gone.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::DataApiId;
use crate::aws::{Aws, describe, error_code};
use crate::resources::{Deleted, Owned, ResourceError};

/// A delete's outcome, a thing already gone counting as deleted.
fn deleted<T, E, R>(result: Result<T, SdkError<E, R>>) -> Result<(), SdkError<E, R>>
where
    E: ProvideErrorMetadata,
{
    match result {
        Ok(_) => Ok(()),
        Err(e) if error_code(&e) == Some("NotFoundException") => Ok(()),
        Err(e) => Err(e),
    }
}

impl DataApiId {
    /// Deletes the copies besides the ones in use: plans first (they name the
    /// keys and stages), then keys, then APIs.
    pub(super) async fn delete_copies(&self, aws: &Aws) -> Result<(), ResourceError> {
        let copies = self.copies(aws).await?;
        for plan_id in &copies.usage_plans {
            self.delete_plan(aws, plan_id).await?;
        }
        for key_id in &copies.api_keys {
            self.delete_key(aws, key_id).await?;
        }
        for api_id in &copies.rest_apis {
            self.delete_rest_api(aws, api_id).await?;
        }
        Ok(())
    }

    async fn delete_key(&self, aws: &Aws, key_id: &str) -> Result<(), ResourceError> {
        deleted(aws.apigateway.delete_api_key().api_key(key_id).send().await)
            .map_err(|e| self.error("DeleteApiKey", describe(&e)))?;
        Ok(())
    }

    async fn delete_rest_api(&self, aws: &Aws, api_id: &str) -> Result<(), ResourceError> {
        deleted(
            aws.apigateway
                .delete_rest_api()
                .rest_api_id(api_id)
                .send()
                .await,
        )
        .map_err(|e| self.error("DeleteRestApi", describe(&e)))?;
        Ok(())
    }

    pub(super) async fn delete_plan(&self, aws: &Aws, plan_id: &str) -> Result<(), ResourceError> {
        for key_id in self.usage_plan_key_ids(aws, plan_id).await? {
            deleted(
                aws.apigateway
                    .delete_usage_plan_key()
                    .usage_plan_id(plan_id)
                    .key_id(key_id)
                    .send()
                    .await,
            )
            .map_err(|e| self.error("DeleteUsagePlanKey", describe(&e)))?;
        }
        deleted(
            aws.apigateway
                .delete_usage_plan()
                .usage_plan_id(plan_id)
                .send()
                .await,
        )
        .map_err(|e| self.error("DeleteUsagePlan", describe(&e)))?;
        Ok(())
    }

    pub(super) async fn delete_all(&self, aws: &Aws) -> Result<Deleted, ResourceError> {
        self.delete_copies(aws).await?;
        if let Some(id) = self
            .usage_plan(aws)
            .await?
            .and_then(|plan| plan.id().map(str::to_owned))
        {
            self.delete_plan(aws, &id).await?;
        }
        if let Some((key_id, _, _)) = self.key_id(aws).await? {
            self.delete_key(aws, &key_id).await?;
        }
        if let Some((api_id, _)) = self.find_api(aws).await? {
            self.delete_rest_api(aws, &api_id).await?;
        }
        Ok(Deleted::Deleted)
    }
}
