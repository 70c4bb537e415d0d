use std::sync::{Arc, Mutex, PoisonError};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// One HTTP request sent to AWS (each retry attempt counts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub service: String,
    pub operation: String,
    /// The resource (`kind.name`) the engine was acting on when it was sent,
    /// if any: ties every write to the plan line that announced it.
    pub resource: Option<String>,
}

tokio::task_local! {
    static ACTING_ON: String;
}

/// Runs `work` with its requests attributed to `resource` in the log.
pub async fn acting_on<F: std::future::Future>(resource: String, work: F) -> F::Output {
    ACTING_ON.scope(resource, work).await
}

impl Request {
    /// Reads never change anything: Get*, List*, Describe*, Head*.
    pub fn is_read(&self) -> bool {
        ["Get", "List", "Describe", "Head"]
            .iter()
            .any(|p| self.operation.starts_with(p))
    }
}

/// Every request the clients sent, in order.
#[derive(Debug, Clone, Default)]
pub struct RequestLog(Arc<Mutex<Vec<Request>>>);

impl RequestLog {
    pub fn all(&self) -> Vec<Request> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn mutating(&self) -> Vec<Request> {
        self.all().into_iter().filter(|r| !r.is_read()).collect()
    }

    pub fn clear(&self) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

impl Intercept for RequestLog {
    fn name(&self) -> &'static str {
        "RequestLog"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (service, operation) = cfg
            .load::<Metadata>()
            .map(|m| (m.service().to_owned(), m.name().to_owned()))
            .unwrap_or_else(|| ("unknown".into(), "unknown".into()));
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Request {
                service,
                operation,
                resource: ACTING_ON.try_with(Clone::clone).ok(),
            });
        Ok(())
    }
}
