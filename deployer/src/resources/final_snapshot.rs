//! Whether deleting a warehouse (`down --delete-data`) leaves a final
//! snapshot of its data (the default) or not (`--skip-final-snapshot`).
//!
//! A scope around the destroy rather than a parameter of every kind's
//! `delete`: only the kinds that hold a warehouse's data (the cluster, the
//! serverless namespace) read it, and the engine stays unaware of snapshots.

use std::future::Future;

tokio::task_local! {
    static SKIP: bool;
}

/// Runs `work` (a destroy) with final snapshots skipped when `skip`.
pub async fn skipping<F: Future>(skip: bool, work: F) -> F::Output {
    SKIP.scope(skip, work).await
}

/// Whether the current destroy skips final snapshots (outside a scope: no,
/// the data is kept in one).
pub fn skipped() -> bool {
    SKIP.try_with(|skip| *skip).unwrap_or(false)
}

/// `YYYYMMDDHHMMSS` in UTC: snapshot names take letters, digits and `-`.
pub fn utc_stamp() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn snapshots_are_taken_unless_the_scope_skips_them() {
        assert!(!skipped());
        assert!(skipping(true, async { skipped() }).await);
        assert!(!skipping(false, async { skipped() }).await);
        assert_eq!(utc_stamp().len(), 14);
    }
}
