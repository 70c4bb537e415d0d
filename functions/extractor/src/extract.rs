//! One extraction: pages from the API → encoder → lake object.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use showcase_dataset::{Customer, Day, Product, Sale};

use crate::encode::{CsvEncoder, RowEncoder, SalesParquetEncoder};
use crate::error::ExtractError;
use crate::lake::{Lake, ObjectWriter};
use crate::request::{Entity, ExtractRequest};
use crate::settings::{ExtractorSettings, KeyLayout, LakeLocation};
use crate::source::ApiClient;

/// What an invocation returns on success.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtractSummary {
    pub date: Day,
    pub entity: Entity,
    pub rows: u64,
    pub bytes: u64,
    pub keys: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Extractor {
    api: ApiClient,
    lake: Lake,
    location: LakeLocation,
    layout: KeyLayout,
}

const PRODUCT_HEADER: [&str; 4] = ["product_id", "product_name", "category", "product_rating"];
const CUSTOMER_HEADER: [&str; 4] = [
    "customer_id",
    "company_name",
    "industry",
    "customer_satisfaction_rating",
];

impl Extractor {
    /// An extractor whose S3 client (if any) comes from the standard AWS chain.
    pub async fn new(settings: ExtractorSettings) -> Extractor {
        let lake = Lake::open(&settings.lake).await;
        Extractor::with_lake(settings, lake)
    }

    /// An extractor writing to an already opened lake (e.g. with a custom S3 client).
    pub fn with_lake(settings: ExtractorSettings, lake: Lake) -> Extractor {
        Extractor {
            api: ApiClient::new(
                &settings.api_base_url,
                settings.api_key,
                settings.page_size,
                settings.retry,
            ),
            lake,
            location: settings.lake,
            layout: settings.layout,
        }
    }

    pub async fn run(&self, request: &ExtractRequest) -> Result<ExtractSummary, ExtractError> {
        let key = self.layout.key(request.date, request.entity);
        let content_type = match request.entity {
            Entity::Sales => "application/vnd.apache.parquet",
            Entity::Products | Entity::Customers => "text/csv",
        };
        let mut writer = self.lake.create(&key, content_type).await?;
        let rows = match self.copy_entity(request, &mut writer).await {
            Ok(rows) => rows,
            Err(error) => {
                writer.abort().await;
                return Err(error);
            }
        };
        let bytes = writer.finish().await?;
        Ok(ExtractSummary {
            date: request.date,
            entity: request.entity,
            rows,
            bytes,
            keys: vec![self.location.display_key(&key)],
        })
    }

    async fn copy_entity(
        &self,
        request: &ExtractRequest,
        writer: &mut ObjectWriter,
    ) -> Result<u64, ExtractError> {
        let entity = request.entity.as_str();
        let encode_error = |detail| ExtractError::Encode { entity, detail };
        match request.entity {
            Entity::Sales => {
                let encoder = SalesParquetEncoder::new().map_err(encode_error)?;
                self.copy::<Sale, _>(request, encoder, writer).await
            }
            Entity::Products => {
                let encoder = CsvEncoder::new(&PRODUCT_HEADER).map_err(encode_error)?;
                self.copy::<Product, _>(request, encoder, writer).await
            }
            Entity::Customers => {
                let encoder = CsvEncoder::new(&CUSTOMER_HEADER).map_err(encode_error)?;
                self.copy::<Customer, _>(request, encoder, writer).await
            }
        }
    }

    /// Streams every page through `encoder` into `writer`; returns the row count.
    async fn copy<R, E>(
        &self,
        request: &ExtractRequest,
        mut encoder: E,
        writer: &mut ObjectWriter,
    ) -> Result<u64, ExtractError>
    where
        R: DeserializeOwned + Send + 'static,
        E: RowEncoder<R>,
    {
        let entity = request.entity.as_str();
        let encode_error = |detail| ExtractError::Encode { entity, detail };
        let mut pages = self.api.pages::<R>(request.entity, request.date);
        let mut rows = 0u64;
        while let Some(page) = pages.recv().await {
            for row in page? {
                encoder.push(row).map_err(encode_error)?;
                rows += 1;
            }
            let ready = encoder.take_ready();
            if !ready.is_empty() {
                writer.write(ready).await?;
            }
        }
        writer
            .write(encoder.finish().map_err(encode_error)?)
            .await?;
        Ok(rows)
    }
}
