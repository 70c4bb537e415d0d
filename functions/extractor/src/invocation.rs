//! One invocation, one log line: what was extracted (request id, date, entity,
//! rows, bytes, duration) or why not (the whole cause chain), as `tracing`
//! events. Only the binary installs a subscriber (JSON lines for CloudWatch Logs
//! Insights); the local run calls [`Extractor::run`] and logs nothing.

use std::time::Instant;

use crate::error::ExtractError;
use crate::extract::{ExtractSummary, Extractor};
use crate::lake::error_chain;
use crate::request::ExtractRequest;

impl Extractor {
    /// [`Extractor::run`], logged. `request_id` is Lambda's (none on the command line).
    pub async fn invoke(
        &self,
        request_id: Option<&str>,
        request: &ExtractRequest,
    ) -> Result<ExtractSummary, ExtractError> {
        let started = Instant::now();
        let outcome = self.run(request).await;
        // Whole microseconds: 0.168, not 0.16846999999999998.
        let duration_ms = started.elapsed().as_micros() as f64 / 1e3;
        let date = request.date.to_string();
        let entity = request.entity.as_str();
        match &outcome {
            Ok(summary) => tracing::info!(
                request_id,
                date,
                entity,
                rows = summary.rows,
                bytes = summary.bytes,
                duration_ms,
                "extracted"
            ),
            Err(error) => tracing::error!(
                request_id,
                date,
                entity,
                duration_ms,
                error = error_chain(error),
                "extraction failed"
            ),
        }
        outcome
    }

    /// A Lambda event: `{"date", "entity"}` then [`Extractor::invoke`]. An event
    /// that is not a request is logged too, and fails the invocation.
    pub async fn invoke_event(
        &self,
        request_id: Option<&str>,
        event: serde_json::Value,
    ) -> Result<ExtractSummary, lambda_runtime::Error> {
        match ExtractRequest::from_event(event) {
            Ok(request) => Ok(self.invoke(request_id, &request).await?),
            Err(message) => {
                tracing::error!(request_id, error = message, "extraction failed");
                Err(message.into())
            }
        }
    }
}
