//! Local stand-ins for the AWS endpoints the pipeline's Airflow DAG calls,
//! each speaking the service's real wire protocol (see each module's limits):
//! Lambda `Invoke` ([`LambdaInvoke`]) and the Redshift Data API
//! ([`RedshiftData`], statements on PostgreSQL, COPY from an
//! [`ObjectSource`]). `showcase-deploy airflow --local` serves them on one
//! endpoint ([`front`]); testkit serves them behind its front for moto.

pub mod front;
mod lambda_invoke;
pub mod redshift_data;
mod runtime_api;

pub use lambda_invoke::{Handler, HandlerFuture, InvokeRecord, LambdaFunction, LambdaInvoke};
pub use redshift_data::{
    LakeDirectory, ObjectSource, RedshiftData, RedshiftDataSettings, S3Objects, StatementRecord,
};
pub use runtime_api::{Invocation, Outcome, RuntimeApi};

/// A random version-4 UUID (lower case, as the services' ids).
pub fn new_uuid() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut halves = [0u64; 2];
    for half in &mut halves {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        *half = hasher.finish();
    }
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&halves[0].to_be_bytes());
    bytes[8..].copy_from_slice(&halves[1].to_be_bytes());
    bytes[6] = (bytes[6] & 0x0F) | 0x40;
    bytes[8] = (bytes[8] & 0x3F) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}
