//! One read of each listing per command. A plan reads some things from more
//! than one place (the REST APIs: the context, the data API and the prune
//! listing; a function's policy: the function and the data API). Inside
//! [`reading`], the first caller sends the request and the others share its
//! answer; outside it (while applying) every read goes to AWS, so a write
//! never acts on an answer from before another write.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::OnceCell;

type Slot = Arc<OnceCell<Arc<dyn Any + Send + Sync>>>;

#[derive(Default)]
struct Cache(Mutex<HashMap<String, Slot>>);

tokio::task_local! {
    static CACHE: Arc<Cache>;
}

/// Runs `work` (the read phase of a command) with answers shared by key.
pub async fn reading<F: Future>(work: F) -> F::Output {
    CACHE.scope(Arc::new(Cache::default()), work).await
}

/// The answer for `key`: loaded once per [`reading`] scope (errors are not
/// kept: the next caller tries again), loaded every time outside one.
pub async fn shared<T, E, F>(key: String, load: F) -> Result<T, E>
where
    T: Clone + Send + Sync + 'static,
    F: Future<Output = Result<T, E>>,
{
    let Ok(cache) = CACHE.try_with(Arc::clone) else {
        return load.await;
    };
    // The type is part of the key, so one key never holds two types of answer.
    let key = format!("{}:{key}", std::any::type_name::<T>());
    let slot: Slot = Arc::clone(
        cache
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key)
            .or_default(),
    );
    let value = slot
        .get_or_try_init(|| async {
            load.await
                .map(|v| Arc::new(v) as Arc<dyn Any + Send + Sync>)
        })
        .await?;
    match value.downcast_ref::<T>() {
        Some(value) => Ok(value.clone()),
        None => unreachable_type(),
    }
}

/// Cannot happen (the type is in the key); a panic rather than a wrong answer.
#[cold]
fn unreachable_type<T, E>() -> Result<T, E> {
    panic!("read cache: an answer of another type under the same key")
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn inside_a_read_phase_each_key_is_loaded_once_and_errors_are_retried() {
        let loads = AtomicUsize::new(0);
        let load = |fail: bool| {
            let loads = &loads;
            async move {
                loads.fetch_add(1, Ordering::SeqCst);
                if fail {
                    Err("throttled")
                } else {
                    Ok(vec![1, 2])
                }
            }
        };
        reading(async {
            assert_eq!(shared("k".into(), load(true)).await, Err("throttled"));
            let (a, b) = tokio::join!(
                shared("k".into(), load(false)),
                shared("k".into(), load(false))
            );
            assert_eq!(a, Ok(vec![1, 2]));
            assert_eq!(b, Ok(vec![1, 2]));
        })
        .await;
        assert_eq!(loads.load(Ordering::SeqCst), 2);
        // Outside a read phase: every call loads.
        let _ = shared("k".into(), load(false)).await;
        let _ = shared("k".into(), load(false)).await;
        assert_eq!(loads.load(Ordering::SeqCst), 4);
    }
}
