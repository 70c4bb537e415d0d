//! The warehouse through the Redshift Data API: a task's statements as one
//! `BatchExecuteStatement` (one transaction), a query's rows from
//! `GetStatementResult`, each call polled with `DescribeStatement` until it
//! finishes, fails or is aborted — with backoff, and within a bound.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use aws_sdk_redshiftdata::types::{Field, StatusString};

use crate::aws::describe;

/// Where the SQL runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlEndpoint {
    /// A provisioned cluster, by identifier.
    Cluster(String),
    /// A Redshift Serverless workgroup, by name.
    Workgroup(String),
}

/// Who the SQL runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlAuth {
    /// The Secrets Manager secret of the cluster's AWS-managed admin password.
    Secret(String),
    /// A database user with IAM temporary credentials (the Data API calls
    /// `GetClusterCredentials` for it; clusters only).
    DbUser(String),
    /// The caller's IAM identity (serverless workgroups).
    Iam,
}

/// The warehouse the SQL runs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlTarget {
    pub endpoint: SqlEndpoint,
    pub database: String,
    pub auth: SqlAuth,
}

/// How statements are waited for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Polling {
    /// The first wait before `DescribeStatement`.
    pub first: Duration,
    /// The longest wait between two.
    pub max: Duration,
    /// How long a statement may take before the run gives up on it (and cancels it).
    pub limit: Duration,
}

impl Default for Polling {
    fn default() -> Polling {
        Polling {
            first: Duration::from_millis(50),
            max: Duration::from_secs(2),
            limit: Duration::from_secs(60 * 60),
        }
    }
}

/// Why a statement did not give its result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatementError {
    /// Redshift (or PostgreSQL behind the stand-in) refused it: its message.
    #[error("{0}")]
    Failed(String),
    #[error("aborted: {0}")]
    Aborted(String),
    #[error("the Data API call {call} failed: {detail}")]
    Call { call: &'static str, detail: String },
    #[error("statement {id} not finished after {waited:?}: cancelled")]
    TimedOut { id: String, waited: Duration },
}

/// One value of a result row as text (`None`: NULL), as PostgreSQL's text
/// protocol gives it to the local runner.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Text(String),
}

impl Value {
    fn from_field(field: &Field) -> Value {
        match field {
            Field::IsNull(true) => Value::Null,
            Field::BooleanValue(b) => Value::Bool(*b),
            Field::LongValue(n) => Value::Text(n.to_string()),
            Field::DoubleValue(x) => Value::Text(x.to_string()),
            Field::StringValue(s) => Value::Text(s.clone()),
            Field::IsNull(false) => Value::Text(String::new()),
            other => Value::Text(format!("{other:?}")),
        }
    }

    pub fn text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            Value::Bool(true) => Some("t"),
            Value::Bool(false) => Some("f"),
            Value::Null => None,
        }
    }
}

/// A query's answer: column names and rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

/// The warehouse and credentials on a `BatchExecuteStatement` or
/// `ExecuteStatement` call (two builder types with the same setters).
macro_rules! on_target {
    ($call:expr, $target:expr) => {{
        let call = match &$target.endpoint {
            SqlEndpoint::Cluster(id) => $call.cluster_identifier(id),
            SqlEndpoint::Workgroup(name) => $call.workgroup_name(name),
        };
        match &$target.auth {
            SqlAuth::Secret(arn) => call.secret_arn(arn),
            SqlAuth::DbUser(user) => call.db_user(user),
            SqlAuth::Iam => call,
        }
    }};
}

#[derive(Debug, Clone)]
pub struct DataApi {
    client: aws_sdk_redshiftdata::Client,
    target: SqlTarget,
    polling: Polling,
    /// The statement being waited for, if any.
    active: Arc<Mutex<Option<String>>>,
}

/// Cancels the statement a run is waiting for (on Ctrl-C, say): the run's
/// process may end, Redshift's statement would not.
#[derive(Debug, Clone)]
pub struct Canceller {
    client: aws_sdk_redshiftdata::Client,
    active: Arc<Mutex<Option<String>>>,
}

impl Canceller {
    /// The id of the statement cancelled, if one was running.
    pub async fn cancel(&self) -> Option<String> {
        let id = self
            .active
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()?;
        // Best effort: a statement that just ended cannot be cancelled.
        let _ = self.client.cancel_statement().id(&id).send().await;
        Some(id)
    }
}

impl DataApi {
    pub fn new(
        client: aws_sdk_redshiftdata::Client,
        target: SqlTarget,
        polling: Polling,
    ) -> DataApi {
        DataApi {
            client,
            target,
            polling,
            active: Arc::default(),
        }
    }

    pub fn canceller(&self) -> Canceller {
        Canceller {
            client: self.client.clone(),
            active: self.active.clone(),
        }
    }

    fn set_active(&self, id: Option<&str>) {
        *self.active.lock().unwrap_or_else(PoisonError::into_inner) = id.map(str::to_owned);
    }

    /// Runs `sqls` in one transaction: all of them or none.
    pub async fn batch(&self, name: &str, sqls: Vec<String>) -> Result<(), StatementError> {
        let call = self
            .client
            .batch_execute_statement()
            .database(&self.target.database)
            .statement_name(name)
            .set_sqls(Some(sqls));
        let call = on_target!(call, self.target);
        let answer = call.send().await.map_err(|e| StatementError::Call {
            call: "BatchExecuteStatement",
            detail: describe(&e),
        })?;
        let id = answer.id().ok_or_else(|| StatementError::Call {
            call: "BatchExecuteStatement",
            detail: "the answer has no statement id".into(),
        })?;
        self.wait(id).await.map(|_| ())
    }

    /// Runs one statement on its own (its own transaction).
    pub async fn execute(&self, name: &str, sql: &str) -> Result<String, StatementError> {
        let call = self
            .client
            .execute_statement()
            .database(&self.target.database)
            .statement_name(name)
            .sql(sql);
        let call = on_target!(call, self.target);
        let answer = call.send().await.map_err(|e| StatementError::Call {
            call: "ExecuteStatement",
            detail: describe(&e),
        })?;
        let id = answer.id().ok_or_else(|| StatementError::Call {
            call: "ExecuteStatement",
            detail: "the answer has no statement id".into(),
        })?;
        self.wait(id).await
    }

    /// Runs one query and reads every row of its result.
    pub async fn query(&self, name: &str, sql: &str) -> Result<Rows, StatementError> {
        let id = self.execute(name, sql).await?;
        let mut rows = Rows::default();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .get_statement_result()
                .id(&id)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| StatementError::Call {
                    call: "GetStatementResult",
                    detail: describe(&e),
                })?;
            if rows.columns.is_empty() {
                rows.columns = page
                    .column_metadata()
                    .iter()
                    .map(|c| c.name().or(c.label()).unwrap_or_default().to_owned())
                    .collect();
            }
            rows.rows.extend(
                page.records()
                    .iter()
                    .map(|record| record.iter().map(Value::from_field).collect()),
            );
            match page.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_owned()),
                _ => return Ok(rows),
            }
        }
    }

    /// Polls until the statement is done; returns its id when it finished.
    async fn wait(&self, id: &str) -> Result<String, StatementError> {
        self.set_active(Some(id));
        let outcome = self.poll(id).await;
        self.set_active(None);
        outcome
    }

    async fn poll(&self, id: &str) -> Result<String, StatementError> {
        let started = Instant::now();
        let mut delay = self.polling.first;
        loop {
            tokio::time::sleep(delay).await;
            let described = self
                .client
                .describe_statement()
                .id(id)
                .send()
                .await
                .map_err(|e| StatementError::Call {
                    call: "DescribeStatement",
                    detail: describe(&e),
                })?;
            let error = || described.error().unwrap_or("(no message)").to_owned();
            match described.status() {
                Some(StatusString::Finished) => return Ok(id.to_owned()),
                Some(StatusString::Failed) => return Err(StatementError::Failed(error())),
                Some(StatusString::Aborted) => return Err(StatementError::Aborted(error())),
                _ => {}
            }
            let waited = started.elapsed();
            if waited >= self.polling.limit {
                // Best effort: the run stops either way.
                let _ = self.client.cancel_statement().id(id).send().await;
                return Err(StatementError::TimedOut {
                    id: id.to_owned(),
                    waited,
                });
            }
            delay = (delay * 2).min(self.polling.max).min(
                self.polling
                    .limit
                    .saturating_sub(waited)
                    .max(self.polling.first),
            );
        }
    }
}
