//! A Redshift Data API stand-in that runs the statements on PostgreSQL.
//!
//! moto's Redshift Data API never finishes a statement (STAND-INS.md), so the
//! tests of anything that runs SQL on Redshift through the Data API (the tool's
//! `run` on AWS, Airflow's `RedshiftDataOperator`, boto3) talk to this instead.
//! It speaks the service's real wire protocol, awsJson1_1: `POST /` with
//! `X-Amz-Target: RedshiftData.<Operation>`, a JSON body, JSON answers with
//! AWS's field names, errors as HTTP 400 `{"__type": "ValidationException",
//! "message": …}` (`ResourceNotFoundException` carries `ResourceId`). Served
//! behind testkit's front for moto in tests (`MotoServer::serve_redshift_data`),
//! so one endpoint answers every AWS call; on [`crate::front`] by `airflow --local`.
//!
//! **Calls:**
//! - `ExecuteStatement`: `Sql`, `ClusterIdentifier` xor `WorkgroupName`,
//!   `Database` (required), `SecretArn`/`DbUser`, `Parameters` (`:name` →
//!   the value as a quoted literal, typed by PostgreSQL from its context as
//!   Redshift converts implicitly; `::` casts untouched), `StatementName`,
//!   `WaitTimeSeconds` (0–30: answers with `Status` once done or when the time
//!   is up). Several `;`-separated statements in one `Sql` run in one
//!   transaction and the last one's result is the statement's; with
//!   `Parameters` that fails as Redshift's prepared statements do ("cannot
//!   insert multiple commands into a prepared statement").
//! - `BatchExecuteStatement`: `Sqls` (1–40) run in order in ONE transaction
//!   (`ExecutionMode` `TRANSACTION`, the default; `AUTO_COMMIT` commits each):
//!   the first failure rolls everything back; that sub-statement is FAILED with
//!   PostgreSQL's error, the ones before it stay FINISHED (rolled back), the ones
//!   after it are ABORTED, and the batch is FAILED with the same error.
//! - `DescribeStatement` (also `id:N` for a batch's Nth sub-statement):
//!   `Status` SUBMITTED → STARTED → FINISHED | FAILED | ABORTED, `Error`
//!   (`ERROR: <PostgreSQL's message>` — `FATAL:` for a connection refused, e.g.
//!   a missing database — then `\n  DETAIL: …` when it has one),
//!   `HasResultSet`, `ResultRows` (rows returned or affected, rows loaded by a
//!   COPY; -1 on a batch: read its `SubStatements`), `ResultSize`, `Duration`
//!   (ns), `CreatedAt`/`UpdatedAt`, `RedshiftPid` (the PostgreSQL backend),
//!   `RedshiftQueryId`, `QueryString`, `QueryParameters`, `SubStatements`.
//! - `GetStatementResult` (`id` or `id:N`): `Records` of typed fields
//!   (`longValue` for int2/int4/int8, `doubleValue` for float4/float8,
//!   `booleanValue`, `blobValue` for bytea, `stringValue` for everything else
//!   including numeric and dates, `isNull`), `ColumnMetadata` (name, label,
//!   PostgreSQL's `typeName`, precision/scale/length from the type modifier,
//!   schemaName/tableName/nullable for table columns), `TotalNumRows`, and
//!   paging: at most `page_rows` records per answer (default 1,000; Redshift
//!   pages by size, up to 100 MB) with an opaque `NextToken`.
//! - `CancelStatement`: a SUBMITTED or STARTED statement is cancelled on
//!   PostgreSQL (`pg_cancel_backend`'s protocol), rolled back, ABORTED;
//!   a finished one is a ValidationException.
//! - `ListStatements`: filters `Status`, `StatementName` (prefix),
//!   `ClusterIdentifier`, `WorkgroupName`, `Database`; `MaxResults`/`NextToken`;
//!   newest first.
//!
//! **How statements run:** each call gets its own connection (as each Data API
//! call is its own session: temporary tables do not outlive it) to the
//! PostgreSQL server the test gives, in the database named by `Database`
//! (which must exist there), as the connection string's user. A statement is
//! held in STARTED for at least `min_running` (default 20 ms), so pollers see
//! the asynchronous states. Redshift-only SQL the stand-in serves itself:
//! `COPY … FROM 's3://…'` (see `copy`: CSV and Parquet, read from the
//! stand-in's [`ObjectSource`]: moto's S3 in tests, the lake directory for
//! `airflow --local`), and Redshift's physical-design `ALTER TABLE … ALTER
//! DISTSTYLE/DISTKEY/SORTKEY/ENCODE` (no data change: checked to name an
//! existing table and columns, then a no-op). Everything else goes to
//! PostgreSQL as written: SQL that is Redshift-only fails here, and SQL that is
//! PostgreSQL-only passes here but would fail on Redshift (check it with
//! sqlfluff's redshift dialect). `TRUNCATE` does not commit the transaction as
//! it does on Redshift.
//!
//! **Not checked:** credentials (`SecretArn`, `DbUser`, IAM: anything goes and
//! everything runs as the connection string's user), that the cluster or
//! workgroup exists (any non-empty name; `statements()` shows what clients
//! sent), the COPY's IAM role (not looked up, not required to be attached),
//! `ClientToken` idempotency, `WithEvent`. **Not served:** sessions
//! (`SessionId`, `SessionKeepAliveSeconds`), `ResultFormat` CSV and
//! `GetStatementResultV2`, `DescribeTable`, `ListDatabases`, `ListSchemas`,
//! `ListTables`, `ListSessions` (each a ValidationException saying so), quotas
//! (active statements, result size), the 24-hour result retention.

pub mod copy;
mod execute;
pub mod objects;
mod queries;
mod results;
mod run;
pub mod sql;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use base64::Engine as _;
use serde_json::{Map, Value, json};
use tokio::sync::Notify;
use tokio_postgres::types::Type;
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

use self::copy::{CopyError, parse_copy, run_copy};
use self::execute::string;
pub use self::objects::{LakeDirectory, ObjectSource, S3Objects};
use self::queries::epoch_seconds;
use self::results::result_set;
use self::run::run_statement;
use self::sql::{bind_parameters, redshift_design_check, split_statements, tokens, verb};

/// How the stand-in behaves where a test may want to choose.
#[derive(Debug, Clone)]
pub struct RedshiftDataSettings {
    /// Where `COPY … FROM 's3://…'` reads; `None`: moto's, once served on a `MotoServer`.
    pub s3_endpoint: Option<String>,
    /// The least time a statement stays STARTED.
    pub min_running: Duration,
    /// Records per `GetStatementResult` answer.
    pub page_rows: usize,
}

impl Default for RedshiftDataSettings {
    fn default() -> RedshiftDataSettings {
        RedshiftDataSettings {
            s3_endpoint: None,
            min_running: Duration::from_millis(20),
            page_rows: 1000,
        }
    }
}

/// What a client asked for, for tests to check.
#[derive(Debug, Clone)]
pub struct StatementRecord {
    pub id: String,
    pub batch: bool,
    /// `Sql`, or `Sqls` of a batch.
    pub sqls: Vec<String>,
    pub cluster_identifier: Option<String>,
    pub workgroup_name: Option<String>,
    pub database: String,
    pub db_user: Option<String>,
    pub secret_arn: Option<String>,
    pub statement_name: Option<String>,
    pub parameters: Vec<(String, String)>,
    pub status: String,
    pub error: Option<String>,
}

/// The stand-in; clones share one state.
#[derive(Clone)]
pub struct RedshiftData {
    inner: Arc<Inner>,
}

struct Inner {
    postgres: tokio_postgres::Config,
    settings: RedshiftDataSettings,
    objects: Mutex<Option<Arc<dyn ObjectSource>>>,
    statements: Mutex<Statements>,
    changed: Notify,
}

#[derive(Default)]
struct Statements {
    by_id: HashMap<String, Statement>,
    order: Vec<String>,
    next_query_id: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Submitted,
    Started,
    Finished,
    Failed,
    Aborted,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Submitted => "SUBMITTED",
            Status::Started => "STARTED",
            Status::Finished => "FINISHED",
            Status::Failed => "FAILED",
            Status::Aborted => "ABORTED",
        }
    }

    fn done(self) -> bool {
        matches!(self, Status::Finished | Status::Failed | Status::Aborted)
    }
}

#[derive(Debug, Clone)]
struct Request {
    cluster: Option<String>,
    workgroup: Option<String>,
    database: String,
    db_user: Option<String>,
    secret_arn: Option<String>,
    name: Option<String>,
    parameters: Vec<(String, String)>,
}

struct Statement {
    id: String,
    batch: bool,
    auto_commit: bool,
    request: Request,
    created: SystemTime,
    updated: SystemTime,
    status: Status,
    error: Option<String>,
    duration: Option<Duration>,
    pid: Option<i32>,
    parts: Vec<Part>,
    cancel: Option<tokio_postgres::CancelToken>,
    cancel_requested: bool,
}

#[derive(Clone)]
struct Part {
    sql: String,
    status: Status,
    error: Option<String>,
    created: SystemTime,
    updated: SystemTime,
    duration: Option<Duration>,
    query_id: i64,
    outcome: Option<Outcome>,
}

/// What one statement left: its row count and result set.
#[derive(Debug, Clone, Default)]
struct Outcome {
    rows: i64,
    result: Option<ResultSet>,
}

#[derive(Debug, Clone, Default)]
struct ResultSet {
    columns: Vec<Value>,
    records: Vec<Value>,
    size: i64,
}

/// An answer in the service's error shape.
#[derive(Debug)]
struct ApiError {
    kind: &'static str,
    message: String,
    resource_id: Option<String>,
}

impl ApiError {
    fn validation(message: impl Into<String>) -> ApiError {
        ApiError {
            kind: "ValidationException",
            message: message.into(),
            resource_id: None,
        }
    }

    fn not_found(id: &str) -> ApiError {
        ApiError {
            kind: "ResourceNotFoundException",
            message: "Query does not exist.".into(),
            resource_id: Some(id.to_owned()),
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl RedshiftData {
    /// Statements run on the PostgreSQL server of `postgres_url` (libpq
    /// key=value or `postgres://`), in the database each request names.
    pub fn new(postgres_url: &str) -> RedshiftData {
        RedshiftData::with_settings(postgres_url, RedshiftDataSettings::default())
    }

    pub fn with_settings(postgres_url: &str, settings: RedshiftDataSettings) -> RedshiftData {
        let postgres = postgres_url
            .parse()
            .unwrap_or_else(|e| panic!("not a PostgreSQL connection string ({postgres_url}): {e}"));
        RedshiftData {
            inner: Arc::new(Inner {
                postgres,
                objects: Mutex::new(
                    settings.s3_endpoint.as_deref().map(|endpoint| {
                        Arc::new(S3Objects::new(endpoint)) as Arc<dyn ObjectSource>
                    }),
                ),
                settings,
                statements: Mutex::default(),
                changed: Notify::new(),
            }),
        }
    }

    /// Sets where COPY reads S3 unless the settings named an endpoint or a
    /// source was set.
    pub fn default_s3_endpoint(&self, endpoint: &str) {
        lock(&self.inner.objects).get_or_insert_with(|| Arc::new(S3Objects::new(endpoint)));
    }

    /// COPY reads its objects from `source` from now on.
    pub fn read_objects_from(&self, source: Arc<dyn ObjectSource>) {
        *lock(&self.inner.objects) = Some(source);
    }

    /// Every statement clients submitted, oldest first.
    pub fn statements(&self) -> Vec<StatementRecord> {
        let statements = lock(&self.inner.statements);
        statements
            .order
            .iter()
            .filter_map(|id| statements.by_id.get(id))
            .map(|s| StatementRecord {
                id: s.id.clone(),
                batch: s.batch,
                sqls: s.parts.iter().map(|p| p.sql.clone()).collect(),
                cluster_identifier: s.request.cluster.clone(),
                workgroup_name: s.request.workgroup.clone(),
                database: s.request.database.clone(),
                db_user: s.request.db_user.clone(),
                secret_arn: s.request.secret_arn.clone(),
                statement_name: s.request.name.clone(),
                parameters: s.request.parameters.clone(),
                status: s.status.as_str().to_owned(),
                error: s.error.clone(),
            })
            .collect()
    }

    /// Answers one awsJson1_1 request (`target` is the `X-Amz-Target` value).
    pub async fn handle(&self, target: &str, body: &[u8]) -> Response {
        let answer = match self.dispatch(target, body).await {
            Ok(value) => (StatusCode::OK, value),
            Err(error) => {
                let mut body = json!({"__type": error.kind, "message": error.message});
                if let Some(id) = error.resource_id {
                    body["ResourceId"] = Value::String(id);
                }
                (StatusCode::BAD_REQUEST, body)
            }
        };
        let (status, value) = answer;
        let mut response = Response::new(Body::from(value.to_string()));
        *response.status_mut() = status;
        response.headers_mut().insert(
            "content-type",
            HeaderValue::from_static("application/x-amz-json-1.1"),
        );
        if let Ok(id) = HeaderValue::from_str(&crate::new_uuid()) {
            response.headers_mut().insert("x-amzn-requestid", id);
        }
        response
    }

    async fn dispatch(&self, target: &str, body: &[u8]) -> Result<Value, ApiError> {
        let operation = target.strip_prefix("RedshiftData.").unwrap_or(target);
        let input: Map<String, Value> = if body.is_empty() {
            Map::new()
        } else {
            match serde_json::from_slice(body) {
                Ok(Value::Object(map)) => map,
                _ => {
                    return Err(ApiError {
                        kind: "SerializationException",
                        message: "the request body is not a JSON object".into(),
                        resource_id: None,
                    });
                }
            }
        };
        match operation {
            "ExecuteStatement" => self.execute(&input, false).await,
            "BatchExecuteStatement" => self.execute(&input, true).await,
            "DescribeStatement" => self.describe(&input),
            "GetStatementResult" => self.result(&input),
            "CancelStatement" => self.cancel(&input),
            "ListStatements" => self.list(&input),
            "GetStatementResultV2"
            | "DescribeTable"
            | "ListDatabases"
            | "ListSchemas"
            | "ListTables"
            | "ListSessions" => Err(ApiError::validation(format!(
                "RedshiftData.{operation} is not served by the Redshift Data API stand-in (showcase-local-aws)"
            ))),
            _ => Err(ApiError {
                kind: "UnknownOperationException",
                message: format!("unknown operation {target}"),
                resource_id: None,
            }),
        }
    }
}
