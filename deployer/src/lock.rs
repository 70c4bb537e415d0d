//! One `up` or `down` at a time on a stack. There is no state file to lock,
//! so the lock is an SSM parameter the stack owns, `/showcase/<stack>/lock`,
//! created with `Overwrite=false`: SSM lets exactly one of two concurrent
//! creators succeed. It names its holder and carries a lease, so a run that
//! was killed (a cancelled CI job) blocks the next one only until the lease
//! ends (on the machine that ran it, at once: its process is gone);
//! `showcase-deploy unlock` removes it for a person who knows that run is
//! gone. A no-op `up` never takes it: it stays read-only.
//!
//! A run that changes the stack keeps its lock renewed ([`Lock::renewed`]):
//! every third of the lease its end moves a whole lease ahead, so a run longer
//! than the lease (a new cluster takes up to 45 minutes) keeps it, and a
//! killed run's lock still expires one lease after its last renewal.
//!
//! Limits: two runs that find the same expired lock at the same instant may
//! both take it over (the window is one request long); a renewal that fails
//! (the network down for a third of the lease) is tried again at the next
//! tick, and if the lease runs out meanwhile another run may take the lock.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_ssm::types::{ParameterType, Tag};

use crate::aws::{Aws, describe, error_code};
use crate::config::Stack;

/// The lock's kind, in its `showcase:kind` tag (so prune never takes it for
/// a leftover of another kind).
pub const KIND: &str = "lock";
/// How long a lock holds without its holder (`SHOWCASE_LOCK_LEASE_SECS` overrides).
const DEFAULT_LEASE: Duration = Duration::from_secs(60 * 60);

/// `/showcase/<stack>/lock`.
pub fn name(stack: &Stack) -> String {
    format!("/showcase/{}/lock", stack.name)
}

/// Who holds the lock, since when, until when.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Holder {
    /// `user@host`, or the GitHub Actions run.
    pub who: String,
    /// The command holding it (`up`, `down`).
    pub command: String,
    /// Seconds since the epoch.
    pub since: u64,
    pub until: u64,
    /// Tells this holder's lock from a later one's.
    pub token: String,
    /// The machine and process holding it: a holder on this machine whose
    /// process is gone (killed) has let go, whatever its lease says.
    #[serde(default)]
    pub host: String,
    #[serde(default)]
    pub pid: u32,
}

impl Holder {
    /// Whether the holder is a process of this machine that no longer runs.
    fn is_dead_here(&self) -> bool {
        if self.host.is_empty() || self.host != hostname() || self.pid == 0 {
            return false;
        }
        let Ok(pid) = libc::pid_t::try_from(self.pid) else {
            return false;
        };
        // Signal 0 checks that the process exists without touching it.
        // SAFETY: kill(2) with signal 0 sends nothing; it only reports.
        let alive = unsafe { libc::kill(pid, 0) } == 0
            || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
        !alive
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_default()
}

impl Holder {
    fn describe(&self) -> String {
        format!(
            "{} ({}) since {} UTC, lease until {} UTC",
            self.who,
            self.command,
            utc(self.since),
            utc(self.until)
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "stack {stack} is being changed by {}: wait for it to finish, or if you know that run is gone, `showcase-deploy unlock`",
        holder.describe()
    )]
    Held { stack: String, holder: Holder },
    #[error("the stack's lock {name}: {operation} failed: {detail}")]
    Aws {
        name: String,
        operation: &'static str,
        detail: String,
    },
}

/// A lock this run holds; give it back with [`Lock::release`].
#[derive(Debug)]
pub struct Lock {
    name: String,
    holder: Holder,
    /// The task that renews the lease ([`Lock::renewed`]) and what stops it
    /// (dropped: the task ends before its next renewal).
    renewal: Option<(
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<()>,
    )>,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn utc(seconds: u64) -> String {
    let time = time::OffsetDateTime::from_unix_timestamp(i64::try_from(seconds).unwrap_or(0))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        time.year(),
        u8::from(time.month()),
        time.day(),
        time.hour(),
        time.minute(),
        time.second()
    )
}

fn lease() -> Duration {
    std::env::var("SHOWCASE_LOCK_LEASE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(DEFAULT_LEASE, Duration::from_secs)
}

/// Who this run is, as the lock names it.
fn who() -> String {
    if let (Ok(repository), Ok(run)) = (
        std::env::var("GITHUB_REPOSITORY"),
        std::env::var("GITHUB_RUN_ID"),
    ) {
        return format!("GitHub Actions run {run} of {repository}");
    }
    let user = std::env::var("USER").unwrap_or_else(|_| "someone".into());
    let host = Some(hostname())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "a machine".into());
    format!("{user}@{host}")
}

fn token() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.write_u32(std::process::id());
    format!("{:016x}", hasher.finish())
}

fn tags(stack: &Stack) -> Vec<Tag> {
    crate::stack::kind_tags(stack, KIND)
        .into_iter()
        .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
        .collect()
}

impl Lock {
    /// Takes the stack's lock for `command`, or says who holds it. An
    /// expired lock (its holder was killed) is taken over.
    pub async fn acquire(aws: &Aws, stack: &Stack, command: &str) -> Result<Lock, LockError> {
        let name = name(stack);
        let error = |operation, detail| LockError::Aws {
            name: name.clone(),
            operation,
            detail,
        };
        let since = now();
        let holder = Holder {
            who: who(),
            command: command.to_owned(),
            since,
            until: since + lease().as_secs(),
            token: token(),
            host: hostname(),
            pid: std::process::id(),
        };
        let value =
            serde_json::to_string(&holder).map_err(|e| error("PutParameter", e.to_string()))?;
        for _attempt in 0..2 {
            let created = aws
                .ssm
                .put_parameter()
                .name(&name)
                .description("showcase-deploy: who is changing this stack (removed when done)")
                .r#type(ParameterType::String)
                .value(&value)
                .overwrite(false)
                .set_tags(Some(tags(stack)))
                .send()
                .await;
            match created {
                Ok(_) => {
                    return Ok(Lock {
                        name,
                        holder,
                        renewal: None,
                    });
                }
                Err(e) if error_code(&e) == Some("ParameterAlreadyExists") => {}
                Err(e) => return Err(error("PutParameter", describe(&e))),
            }
            let Some(current) = Lock::holder(aws, &name).await? else {
                continue; // released in between: try again
            };
            if current.token == holder.token {
                // Our own create, whose answer was lost: the SDK's retry found it.
                return Ok(Lock {
                    name,
                    holder,
                    renewal: None,
                });
            }
            if current.until > now() && !current.is_dead_here() {
                return Err(LockError::Held {
                    stack: stack.name.clone(),
                    holder: current,
                });
            }
            // The holder's lease is over, or it was a process of this machine
            // that was killed: take the lock over.
            aws.ssm
                .delete_parameter()
                .name(&name)
                .send()
                .await
                .map_err(|e| error("DeleteParameter", describe(&e)))?;
        }
        match Lock::holder(aws, &name).await? {
            Some(holder) => Err(LockError::Held {
                stack: stack.name.clone(),
                holder,
            }),
            None => Err(error(
                "PutParameter",
                "another run took and released the lock twice meanwhile; rerun".into(),
            )),
        }
    }

    /// Who holds the lock named `name`, if anyone (an unreadable value counts
    /// as an expired lock: whoever wrote it is not this tool).
    async fn holder(aws: &Aws, name: &str) -> Result<Option<Holder>, LockError> {
        match aws.ssm.get_parameter().name(name).send().await {
            Ok(out) => Ok(Some(
                out.parameter()
                    .and_then(|p| p.value())
                    .and_then(|v| serde_json::from_str(v).ok())
                    .unwrap_or(Holder {
                        who: "an unknown holder".into(),
                        command: "?".into(),
                        since: 0,
                        until: 0,
                        token: String::new(),
                        host: String::new(),
                        pid: 0,
                    }),
            )),
            Err(e) if error_code(&e) == Some("ParameterNotFound") => Ok(None),
            Err(e) => Err(LockError::Aws {
                name: name.to_owned(),
                operation: "GetParameter",
                detail: describe(&e),
            }),
        }
    }

    /// The same lock, its lease renewed every third of the lease until it is
    /// released or dropped (what a run that changes the stack holds). A
    /// renewal first checks that the lock is still this run's: after an
    /// `unlock` and another run's take-over it stops.
    pub fn renewed(mut self, aws: &Aws) -> Lock {
        let lease = lease();
        let every = (lease / 3).max(Duration::from_secs(1));
        let (aws, name, mut holder) = (aws.clone(), self.name.clone(), self.holder.clone());
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let renew = async move {
            loop {
                tokio::select! {
                    _ = &mut stopped => return,
                    () = tokio::time::sleep(every) => {}
                }
                match Lock::holder(&aws, &name).await {
                    Ok(Some(current)) if current.token == holder.token => {}
                    Ok(_) => return,    // no longer ours
                    Err(_) => continue, // tried again at the next tick
                }
                holder.until = now() + lease.as_secs();
                let Ok(value) = serde_json::to_string(&holder) else {
                    return;
                };
                // Overwrite keeps the parameter's tags (SSM takes none with it).
                let _ = aws
                    .ssm
                    .put_parameter()
                    .name(&name)
                    .r#type(ParameterType::String)
                    .value(value)
                    .overwrite(true)
                    .send()
                    .await;
            }
        };
        let address = format!("lock.{}", self.name);
        self.renewal = Some((stop, tokio::spawn(crate::aws::acting_on(address, renew))));
        self
    }

    /// Gives the lock back, unless it is no longer this run's (its lease ran
    /// out and another run took it over).
    pub async fn release(mut self, aws: &Aws) -> Result<(), LockError> {
        // Stopped and waited for, so that no renewal lands after the delete.
        if let Some((stop, renewal)) = self.renewal.take() {
            drop(stop);
            let _ = renewal.await;
        }
        match Lock::holder(aws, &self.name).await? {
            Some(current) if current.token == self.holder.token => {}
            _ => return Ok(()),
        }
        match aws.ssm.delete_parameter().name(&self.name).send().await {
            Ok(_) => Ok(()),
            Err(e) if error_code(&e) == Some("ParameterNotFound") => Ok(()),
            Err(e) => Err(LockError::Aws {
                name: self.name.clone(),
                operation: "DeleteParameter",
                detail: describe(&e),
            }),
        }
    }
}

/// Removes the stack's lock if its holder has let go without giving it back
/// (a killed run: its lease is over, or its process on this machine is
/// gone); says whose it was. A live holder's lock is left alone. What a
/// rerun that finds nothing else to do (a no-op `up`, a `down` with nothing
/// left) does, so that no killed run's lock outlives the stack.
pub async fn clear_stale(aws: &Aws, stack: &Stack) -> Result<Option<String>, LockError> {
    let name = name(stack);
    let Some(holder) = Lock::holder(aws, &name).await? else {
        return Ok(None);
    };
    if holder.until > now() && !holder.is_dead_here() {
        return Ok(None);
    }
    match aws.ssm.delete_parameter().name(&name).send().await {
        Ok(_) => Ok(Some(holder.describe())),
        Err(e) if error_code(&e) == Some("ParameterNotFound") => Ok(None),
        Err(e) => Err(LockError::Aws {
            name,
            operation: "DeleteParameter",
            detail: describe(&e),
        }),
    }
}

/// Removes the stack's lock whoever holds it; says whose it was.
pub async fn unlock(aws: &Aws, stack: &Stack) -> Result<Option<String>, LockError> {
    let name = name(stack);
    let Some(holder) = Lock::holder(aws, &name).await? else {
        return Ok(None);
    };
    match aws.ssm.delete_parameter().name(&name).send().await {
        Ok(_) => Ok(Some(holder.describe())),
        Err(e) if error_code(&e) == Some("ParameterNotFound") => Ok(None),
        Err(e) => Err(LockError::Aws {
            name,
            operation: "DeleteParameter",
            detail: describe(&e),
        }),
    }
}
