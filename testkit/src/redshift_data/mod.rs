//! A Redshift Data API stand-in that runs the statements on PostgreSQL.
//!
//! moto's Redshift Data API never finishes a statement (STAND-INS.md), so the
//! tests of anything that runs SQL on Redshift through the Data API (the tool's
//! `run` on AWS, Airflow's `RedshiftDataOperator`, boto3) talk to this instead.
//! It speaks the service's real wire protocol, awsJson1_1: `POST /` with
//! `X-Amz-Target: RedshiftData.<Operation>`, a JSON body, JSON answers with
//! AWS's field names, errors as HTTP 400 `{"__type": "ValidationException",
//! "message": …}` (`ResourceNotFoundException` carries `ResourceId`). Served
//! behind moto's front (`MotoServer::serve_redshift_data`), so one endpoint
//! answers every AWS call.
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
//! `COPY … FROM 's3://…'` (see `copy`: CSV and Parquet, read from the S3
//! endpoint, moto's), and Redshift's physical-design `ALTER TABLE … ALTER
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
    s3_endpoint: Mutex<Option<String>>,
    s3: tokio::sync::OnceCell<aws_sdk_s3::Client>,
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
                s3_endpoint: Mutex::new(settings.s3_endpoint.clone()),
                settings,
                s3: tokio::sync::OnceCell::new(),
                statements: Mutex::default(),
                changed: Notify::new(),
            }),
        }
    }

    /// Sets where COPY reads S3 unless the settings named an endpoint.
    pub(crate) fn default_s3_endpoint(&self, endpoint: &str) {
        lock(&self.inner.s3_endpoint).get_or_insert_with(|| endpoint.to_owned());
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
    pub(crate) async fn handle(&self, target: &str, body: &[u8]) -> Response {
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
        if let Ok(id) = HeaderValue::from_str(&crate::tools::new_uuid()) {
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
                "RedshiftData.{operation} is not served by the Redshift Data API stand-in (testkit)"
            ))),
            _ => Err(ApiError {
                kind: "UnknownOperationException",
                message: format!("unknown operation {target}"),
                resource_id: None,
            }),
        }
    }

    async fn execute(&self, input: &Map<String, Value>, batch: bool) -> Result<Value, ApiError> {
        for unsupported in ["SessionId", "SessionKeepAliveSeconds"] {
            if input.contains_key(unsupported) {
                return Err(ApiError::validation(format!(
                    "{unsupported}: sessions are not served by the Redshift Data API stand-in (testkit)"
                )));
            }
        }
        if let Some(format) = string(input, "ResultFormat")?
            && format != "JSON"
        {
            return Err(ApiError::validation(format!(
                "ResultFormat {format} is not served by the Redshift Data API stand-in (testkit): JSON only"
            )));
        }
        let sqls = if batch {
            let Some(Value::Array(items)) = input.get("Sqls") else {
                return Err(ApiError::validation(
                    "1 validation error detected: Value null at 'sqls' failed to satisfy constraint: Member must not be null",
                ));
            };
            if items.is_empty() || items.len() > 40 {
                return Err(ApiError::validation(format!(
                    "1 validation error detected: Value at 'sqls' failed to satisfy constraint: Member must have length between 1 and 40 (it has {})",
                    items.len()
                )));
            }
            items
                .iter()
                .map(|item| match item {
                    Value::String(sql) => Ok(sql.clone()),
                    _ => Err(ApiError::validation("each of Sqls must be a string")),
                })
                .collect::<Result<Vec<_>, _>>()?
        } else {
            let sql = string(input, "Sql")?.ok_or_else(|| {
                ApiError::validation(
                    "1 validation error detected: Value null at 'sql' failed to satisfy constraint: Member must not be null",
                )
            })?;
            vec![sql]
        };
        if sqls.iter().any(|sql| sql.trim().is_empty()) {
            return Err(ApiError::validation("SQL text must not be empty"));
        }
        let cluster = string(input, "ClusterIdentifier")?.filter(|s| !s.is_empty());
        let workgroup = string(input, "WorkgroupName")?.filter(|s| !s.is_empty());
        match (&cluster, &workgroup) {
            (Some(_), Some(_)) => {
                return Err(ApiError::validation(
                    "ClusterIdentifier and WorkgroupName cannot both be specified",
                ));
            }
            (None, None) => {
                return Err(ApiError::validation(
                    "Either ClusterIdentifier or WorkgroupName must be specified",
                ));
            }
            _ => {}
        }
        let database = string(input, "Database")?
            .filter(|s| !s.is_empty())
            .ok_or_else(|| ApiError::validation("Database must be specified"))?;
        let parameters = match input.get("Parameters") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => {
                items.iter().map(parameter).collect::<Result<Vec<_>, _>>()?
            }
            Some(_) => return Err(ApiError::validation("Parameters must be a list")),
        };
        let auto_commit = match string(input, "ExecutionMode")?.as_deref() {
            None | Some("TRANSACTION") => false,
            Some("AUTO_COMMIT") if batch => true,
            Some(other) => {
                return Err(ApiError::validation(format!(
                    "ExecutionMode {other}: TRANSACTION or AUTO_COMMIT (batches only)"
                )));
            }
        };
        let wait = match input.get("WaitTimeSeconds") {
            None | Some(Value::Null) => Duration::ZERO,
            Some(Value::Number(n)) => match n.as_u64() {
                Some(seconds @ 0..=30) => Duration::from_secs(seconds),
                _ => {
                    return Err(ApiError::validation(
                        "WaitTimeSeconds must be between 0 and 30",
                    ));
                }
            },
            Some(_) => return Err(ApiError::validation("WaitTimeSeconds must be a number")),
        };
        let request = Request {
            cluster,
            workgroup,
            database,
            db_user: string(input, "DbUser")?,
            secret_arn: string(input, "SecretArn")?,
            name: string(input, "StatementName")?,
            parameters,
        };
        let now = SystemTime::now();
        let id = crate::tools::new_uuid();
        {
            let mut statements = lock(&self.inner.statements);
            let mut parts = Vec::new();
            for sql in sqls {
                statements.next_query_id += 1;
                parts.push(Part {
                    sql,
                    status: Status::Submitted,
                    error: None,
                    created: now,
                    updated: now,
                    duration: None,
                    query_id: statements.next_query_id,
                    outcome: None,
                });
            }
            statements.by_id.insert(
                id.clone(),
                Statement {
                    id: id.clone(),
                    batch,
                    auto_commit,
                    request: request.clone(),
                    created: now,
                    updated: now,
                    status: Status::Submitted,
                    error: None,
                    duration: None,
                    pid: None,
                    parts,
                    cancel: None,
                    cancel_requested: false,
                },
            );
            statements.order.push(id.clone());
        }
        tokio::spawn(run_statement(self.inner.clone(), id.clone()));
        let mut answer = json!({
            "Id": id,
            "CreatedAt": epoch_seconds(now),
            "Database": request.database,
        });
        for (key, value) in [
            ("ClusterIdentifier", &request.cluster),
            ("WorkgroupName", &request.workgroup),
            ("DbUser", &request.db_user),
            ("SecretArn", &request.secret_arn),
        ] {
            if let Some(value) = value {
                answer[key] = Value::String(value.clone());
            }
        }
        if !wait.is_zero() {
            let deadline = tokio::time::Instant::now() + wait;
            loop {
                let notified = self.inner.changed.notified();
                let (status, has_result) = {
                    let statements = lock(&self.inner.statements);
                    statements
                        .by_id
                        .get(&id)
                        .map_or((Status::Failed, false), |s| {
                            (s.status, s.parts.iter().any(|p| p.has_result()))
                        })
                };
                if status.done() || tokio::time::Instant::now() >= deadline {
                    answer["Status"] = Value::String(status.as_str().into());
                    answer["HasResultSet"] = Value::Bool(has_result);
                    break;
                }
                let _ = tokio::time::timeout_at(deadline, notified).await;
            }
        }
        Ok(answer)
    }

    fn describe(&self, input: &Map<String, Value>) -> Result<Value, ApiError> {
        let id = required_id(input)?;
        let (parent, sub) = split_id(&id)?;
        let statements = lock(&self.inner.statements);
        let statement = statements
            .by_id
            .get(parent)
            .ok_or_else(|| ApiError::not_found(&id))?;
        let mut answer = json!({
            "Id": id,
            "Database": statement.request.database,
            "ResultFormat": "JSON",
        });
        for (key, value) in [
            ("ClusterIdentifier", &statement.request.cluster),
            ("WorkgroupName", &statement.request.workgroup),
            ("DbUser", &statement.request.db_user),
            ("SecretArn", &statement.request.secret_arn),
        ] {
            if let Some(value) = value {
                answer[key] = Value::String(value.clone());
            }
        }
        if let Some(pid) = statement.pid {
            answer["RedshiftPid"] = json!(pid);
        }
        if !statement.request.parameters.is_empty() {
            answer["QueryParameters"] = Value::Array(
                statement
                    .request
                    .parameters
                    .iter()
                    .map(|(name, value)| json!({"name": name, "value": value}))
                    .collect(),
            );
        }
        match sub {
            Some(n) => {
                let part = statement
                    .parts
                    .get(n.wrapping_sub(1))
                    .filter(|_| statement.batch)
                    .ok_or_else(|| ApiError::not_found(&id))?;
                for (key, value) in part.describe(&id) {
                    answer[key] = value;
                }
            }
            None if statement.batch => {
                answer["Status"] = statement.status.as_str().into();
                answer["CreatedAt"] = epoch_seconds(statement.created);
                answer["UpdatedAt"] = epoch_seconds(statement.updated);
                answer["Duration"] = json!(nanos(statement.duration));
                answer["HasResultSet"] = json!(statement.parts.iter().any(Part::has_result));
                answer["ResultRows"] = json!(-1);
                answer["ResultSize"] = json!(-1);
                if let Some(first) = statement.parts.first() {
                    answer["RedshiftQueryId"] = json!(first.query_id);
                }
                if let Some(error) = &statement.error {
                    answer["Error"] = Value::String(error.clone());
                }
                answer["SubStatements"] = Value::Array(
                    statement
                        .parts
                        .iter()
                        .enumerate()
                        .map(|(i, part)| {
                            Value::Object(part.describe(&format!("{parent}:{}", i + 1)).collect())
                        })
                        .collect(),
                );
            }
            None => {
                if let Some(part) = statement.parts.first() {
                    for (key, value) in part.describe(&id) {
                        answer[key] = value;
                    }
                }
                // The statement's own state (a cancel may end it before its part ran).
                answer["Status"] = statement.status.as_str().into();
                answer["CreatedAt"] = epoch_seconds(statement.created);
                answer["UpdatedAt"] = epoch_seconds(statement.updated);
                match &statement.error {
                    Some(error) => answer["Error"] = Value::String(error.clone()),
                    None => {
                        if let Some(map) = answer.as_object_mut() {
                            map.remove("Error");
                        }
                    }
                }
            }
        }
        Ok(answer)
    }

    fn result(&self, input: &Map<String, Value>) -> Result<Value, ApiError> {
        let id = required_id(input)?;
        let (parent, sub) = split_id(&id)?;
        let offset = match string(input, "NextToken")? {
            None => 0,
            Some(token) => token
                .strip_prefix("testkit-page-")
                .and_then(|n| n.parse::<usize>().ok())
                .ok_or_else(|| ApiError::validation("NextToken is invalid"))?,
        };
        let statements = lock(&self.inner.statements);
        let statement = statements
            .by_id
            .get(parent)
            .ok_or_else(|| ApiError::not_found(&id))?;
        let part = match (sub, statement.batch) {
            (Some(n), true) => statement.parts.get(n.wrapping_sub(1)),
            (None, false) => statement.parts.first(),
            _ => None,
        }
        .ok_or_else(|| {
            if statement.batch {
                ApiError::validation(
                    "A batch has no result of its own: ask for a sub-statement (Id:N)",
                )
            } else {
                ApiError::not_found(&id)
            }
        })?;
        let result = part
            .outcome
            .as_ref()
            .and_then(|o| o.result.as_ref())
            .filter(|_| part.status == Status::Finished)
            .ok_or_else(|| {
                ApiError::validation(
                    "Query does not have result. Please check query status with DescribeStatement.",
                )
            })?;
        let total = result.records.len();
        let page_rows = self.inner.settings.page_rows.max(1);
        let end = offset.saturating_add(page_rows).min(total);
        let records = result.records.get(offset..end).unwrap_or_default();
        let mut answer = json!({
            "Records": records,
            "ColumnMetadata": result.columns,
            "TotalNumRows": total,
        });
        if end < total {
            answer["NextToken"] = Value::String(format!("testkit-page-{end}"));
        }
        Ok(answer)
    }

    fn cancel(&self, input: &Map<String, Value>) -> Result<Value, ApiError> {
        let id = required_id(input)?;
        let (parent, sub) = split_id(&id)?;
        if sub.is_some() {
            return Err(ApiError::validation(
                "Cancel the batch, not one of its sub-statements",
            ));
        }
        let token = {
            let mut statements = lock(&self.inner.statements);
            let statement = statements
                .by_id
                .get_mut(parent)
                .ok_or_else(|| ApiError::not_found(&id))?;
            if statement.status.done() {
                return Err(ApiError::validation(format!(
                    "Could not cancel a query that is already in {} state.",
                    statement.status.as_str()
                )));
            }
            statement.cancel_requested = true;
            statement.cancel.clone()
        };
        if let Some(token) = token {
            tokio::spawn(async move {
                let _ = token.cancel_query(NoTls).await;
            });
        }
        self.inner.changed.notify_waiters();
        Ok(json!({"Status": true}))
    }

    fn list(&self, input: &Map<String, Value>) -> Result<Value, ApiError> {
        let status = string(input, "Status")?.unwrap_or_else(|| "ALL".into());
        let name = string(input, "StatementName")?;
        let cluster = string(input, "ClusterIdentifier")?;
        let workgroup = string(input, "WorkgroupName")?;
        let database = string(input, "Database")?;
        let max = match input.get("MaxResults") {
            None | Some(Value::Null) => 100,
            Some(Value::Number(n)) => match n.as_u64() {
                Some(0) => 100,
                Some(n @ 1..=100) => n as usize,
                _ => return Err(ApiError::validation("MaxResults must be between 0 and 100")),
            },
            Some(_) => return Err(ApiError::validation("MaxResults must be a number")),
        };
        let offset = match string(input, "NextToken")? {
            None => 0,
            Some(token) => token
                .strip_prefix("testkit-list-")
                .and_then(|n| n.parse::<usize>().ok())
                .ok_or_else(|| ApiError::validation("NextToken is invalid"))?,
        };
        let statements = lock(&self.inner.statements);
        let matching: Vec<&Statement> = statements
            .order
            .iter()
            .rev()
            .filter_map(|id| statements.by_id.get(id))
            .filter(|s| status == "ALL" || s.status.as_str() == status)
            .filter(|s| {
                name.as_ref()
                    .is_none_or(|n| s.request.name.as_ref().is_some_and(|m| m.starts_with(n)))
            })
            .filter(|s| cluster.is_none() || s.request.cluster == cluster)
            .filter(|s| workgroup.is_none() || s.request.workgroup == workgroup)
            .filter(|s| database.as_ref().is_none_or(|d| &s.request.database == d))
            .collect();
        let end = offset.saturating_add(max).min(matching.len());
        let page = matching.get(offset..end).unwrap_or_default();
        let listed: Vec<Value> = page
            .iter()
            .map(|s| {
                let mut item = json!({
                    "Id": s.id,
                    "Status": s.status.as_str(),
                    "CreatedAt": epoch_seconds(s.created),
                    "UpdatedAt": epoch_seconds(s.updated),
                    "IsBatchStatement": s.batch,
                    "ResultFormat": "JSON",
                });
                if s.batch {
                    item["QueryStrings"] =
                        json!(s.parts.iter().map(|p| &p.sql).collect::<Vec<_>>());
                } else if let Some(part) = s.parts.first() {
                    item["QueryString"] = Value::String(part.sql.clone());
                }
                if let Some(name) = &s.request.name {
                    item["StatementName"] = Value::String(name.clone());
                }
                if let Some(secret) = &s.request.secret_arn {
                    item["SecretArn"] = Value::String(secret.clone());
                }
                item
            })
            .collect();
        let mut answer = json!({ "Statements": listed });
        if end < matching.len() {
            answer["NextToken"] = Value::String(format!("testkit-list-{end}"));
        }
        Ok(answer)
    }
}

impl Part {
    fn has_result(&self) -> bool {
        self.outcome.as_ref().is_some_and(|o| o.result.is_some())
    }

    /// The fields DescribeStatement and SubStatements share.
    fn describe(&self, id: &str) -> impl Iterator<Item = (String, Value)> {
        let mut fields = vec![
            ("Id", Value::String(id.to_owned())),
            ("Status", self.status.as_str().into()),
            ("CreatedAt", epoch_seconds(self.created)),
            ("UpdatedAt", epoch_seconds(self.updated)),
            ("Duration", json!(nanos(self.duration))),
            ("QueryString", Value::String(self.sql.clone())),
            ("RedshiftQueryId", json!(self.query_id)),
            ("HasResultSet", json!(self.has_result())),
            (
                "ResultRows",
                json!(self.outcome.as_ref().map_or(-1, |o| o.rows)),
            ),
            (
                "ResultSize",
                json!(
                    self.outcome
                        .as_ref()
                        .and_then(|o| o.result.as_ref())
                        .map_or(0, |r| r.size)
                ),
            ),
        ];
        if let Some(error) = &self.error {
            fields.push(("Error", Value::String(error.clone())));
        }
        fields.into_iter().map(|(k, v)| (k.to_owned(), v))
    }
}

fn string(input: &Map<String, Value>, key: &str) -> Result<Option<String>, ApiError> {
    match input.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError {
            kind: "SerializationException",
            message: format!("{key} must be a string"),
            resource_id: None,
        }),
    }
}

fn parameter(item: &Value) -> Result<(String, String), ApiError> {
    let name = item.get("name").and_then(Value::as_str);
    let value = item.get("value").and_then(Value::as_str);
    match (name, value) {
        (Some(name), Some(value))
            if !name.is_empty()
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                && !value.is_empty() =>
        {
            Ok((name.to_owned(), value.to_owned()))
        }
        _ => Err(ApiError::validation(format!(
            "a parameter needs a name matching [0-9a-zA-Z_]+ and a non-empty value: {item}"
        ))),
    }
}

fn required_id(input: &Map<String, Value>) -> Result<String, ApiError> {
    string(input, "Id")?.ok_or_else(|| {
        ApiError::validation(
            "1 validation error detected: Value null at 'id' failed to satisfy constraint: Member must not be null",
        )
    })
}

/// `uuid` or `uuid:N`.
fn split_id(id: &str) -> Result<(&str, Option<usize>), ApiError> {
    let (parent, sub) = match id.split_once(':') {
        Some((parent, n)) => match n.parse::<usize>() {
            Ok(n) if n >= 1 => (parent, Some(n)),
            _ => return Err(ApiError::validation(format!("Id {id} is not valid"))),
        },
        None => (id, None),
    };
    let valid = parent.len() == 36
        && parent.char_indices().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit() && !c.is_ascii_uppercase()
            }
        });
    if valid {
        Ok((parent, sub))
    } else {
        Err(ApiError::validation(format!(
            "Id {id} is not valid: a UUID, with :N for a batch's Nth statement"
        )))
    }
}

fn epoch_seconds(time: SystemTime) -> Value {
    let seconds = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_millis() as f64 / 1000.0);
    json!(seconds)
}

fn nanos(duration: Option<Duration>) -> i64 {
    duration.map_or(-1, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// PostgreSQL's error as Redshift's `Error` field shows it.
fn pg_error(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => {
            let mut text = format!("{}: {}", db.severity(), db.message());
            if let Some(detail) = db.detail() {
                text.push_str("\n  DETAIL: ");
                text.push_str(detail);
            }
            text
        }
        None => format!("ERROR: {}", copy::error_chain(error)),
    }
}

// ---------------------------------------------------------------------------
// Running a statement

impl Inner {
    fn update(&self, id: &str, change: impl FnOnce(&mut Statement)) {
        {
            let mut statements = lock(&self.statements);
            if let Some(statement) = statements.by_id.get_mut(id) {
                change(statement);
                statement.updated = SystemTime::now();
            }
        }
        self.changed.notify_waiters();
    }

    fn cancelled(&self, id: &str) -> bool {
        lock(&self.statements)
            .by_id
            .get(id)
            .is_none_or(|s| s.cancel_requested)
    }

    async fn s3(&self) -> Result<&aws_sdk_s3::Client, String> {
        let endpoint = lock(&self.s3_endpoint).clone().ok_or(
            "COPY needs an S3 endpoint: serve the stand-in on a MotoServer or set RedshiftDataSettings::s3_endpoint",
        )?;
        Ok(self
            .s3
            .get_or_init(|| async move {
                let config = aws_sdk_s3::config::Builder::new()
                    .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
                    .region(aws_sdk_s3::config::Region::new("us-east-1"))
                    .endpoint_url(endpoint)
                    .force_path_style(true)
                    .credentials_provider(aws_sdk_s3::config::Credentials::new(
                        "testing", "testing", None, None, "testkit",
                    ))
                    .build();
                aws_sdk_s3::Client::from_conf(config)
            })
            .await)
    }
}

/// Runs statement `id` to its end, recording every state change.
async fn run_statement(inner: Arc<Inner>, id: String) {
    let started = Instant::now();
    let snapshot = {
        let statements = lock(&inner.statements);
        statements.by_id.get(&id).map(|s| {
            (
                s.request.clone(),
                s.parts.iter().map(|p| p.sql.clone()).collect::<Vec<_>>(),
                s.batch,
                s.auto_commit,
            )
        })
    };
    let Some((request, sqls, batch, auto_commit)) = snapshot else {
        return;
    };
    if inner.cancelled(&id) {
        return finish(&inner, &id, started, Err(Ended::Aborted));
    }
    inner.update(&id, |s| s.status = Status::Started);
    let mut config = inner.postgres.clone();
    config.dbname(&request.database);
    let client = match config.connect(NoTls).await {
        Ok((client, connection)) => {
            tokio::spawn(async move {
                let _ = connection.await;
            });
            client
        }
        Err(error) => return finish(&inner, &id, started, Err(Ended::Failed(pg_error(&error)))),
    };
    let pid = client
        .simple_query("SELECT pg_backend_pid()")
        .await
        .ok()
        .and_then(|messages| {
            messages.iter().find_map(|m| match m {
                SimpleQueryMessage::Row(row) => row.get(0).and_then(|p| p.parse::<i32>().ok()),
                _ => None,
            })
        });
    let token = client.cancel_token();
    inner.update(&id, |s| {
        s.pid = pid;
        s.cancel = Some(token);
    });
    tokio::time::sleep(inner.settings.min_running).await;
    if inner.cancelled(&id) {
        return finish(&inner, &id, started, Err(Ended::Aborted));
    }
    // The statements of each part, parameters bound.
    let mut parts = Vec::new();
    for sql in &sqls {
        let statements = split_statements(&bind_parameters(sql, &request.parameters));
        if statements.len() > 1 && !request.parameters.is_empty() {
            let error = "ERROR: cannot insert multiple commands into a prepared statement";
            return finish(&inner, &id, started, Err(Ended::Failed(error.into())));
        }
        parts.push(statements);
    }
    let whole_transaction = if batch {
        !auto_commit
    } else {
        parts.first().is_some_and(|p| p.len() > 1)
    };
    let outcome = run_parts(&inner, &id, &client, &parts, whole_transaction).await;
    finish(&inner, &id, started, outcome);
}

/// How a statement ended other than FINISHED.
enum Ended {
    Failed(String),
    Aborted,
}

fn finish(inner: &Inner, id: &str, started: Instant, outcome: Result<(), Ended>) {
    let cancelled = inner.cancelled(id);
    inner.update(id, |s| {
        s.duration = Some(started.elapsed());
        s.cancel = None;
        match outcome {
            Ok(()) if !cancelled => s.status = Status::Finished,
            Err(Ended::Failed(error)) if !cancelled => {
                s.status = Status::Failed;
                s.error = Some(error);
            }
            _ => s.status = Status::Aborted,
        }
        let status = s.status;
        for part in &mut s.parts {
            if !part.status.done() {
                part.status = if status == Status::Finished {
                    Status::Finished
                } else {
                    Status::Aborted
                };
                part.updated = SystemTime::now();
            }
        }
    });
}

async fn run_parts(
    inner: &Inner,
    id: &str,
    client: &Client,
    parts: &[Vec<String>],
    whole_transaction: bool,
) -> Result<(), Ended> {
    let simple = |sql: &'static str| async move {
        client
            .batch_execute(sql)
            .await
            .map_err(|e| Ended::Failed(pg_error(&e)))
    };
    if whole_transaction {
        simple("BEGIN").await?;
    }
    for (index, statements) in parts.iter().enumerate() {
        if inner.cancelled(id) {
            return Err(Ended::Aborted);
        }
        let part_started = Instant::now();
        inner.update(id, |s| {
            if let Some(part) = s.parts.get_mut(index) {
                part.status = Status::Started;
            }
        });
        let own_transaction = !whole_transaction && statements.len() > 1;
        if own_transaction {
            simple("BEGIN").await?;
        }
        let mut result = Ok(Outcome::default());
        for statement in statements {
            result = run_one(inner, client, statement).await;
            if result.is_err() {
                break;
            }
        }
        if result.is_ok() && own_transaction {
            result = client
                .batch_execute("COMMIT")
                .await
                .map(|()| Outcome::default())
                .map_err(|e| pg_error(&e))
                .and(result);
        }
        let failed = result.as_ref().err().cloned();
        inner.update(id, |s| {
            if let Some(part) = s.parts.get_mut(index) {
                part.duration = Some(part_started.elapsed());
                part.updated = SystemTime::now();
                match result {
                    Ok(outcome) => {
                        part.status = Status::Finished;
                        part.outcome = Some(outcome);
                    }
                    // A cancel shows as PostgreSQL's "canceling statement": the part was aborted.
                    Err(_) if s.cancel_requested => part.status = Status::Aborted,
                    Err(error) => {
                        part.status = Status::Failed;
                        part.error = Some(error);
                    }
                }
            }
        });
        if let Some(error) = failed {
            if whole_transaction || own_transaction {
                let _ = client.batch_execute("ROLLBACK").await;
            }
            // The failed part's error is the statement's; later parts never run.
            return Err(Ended::Failed(error));
        }
    }
    if whole_transaction {
        simple("COMMIT").await?;
    }
    Ok(())
}

/// Runs one statement; `Err` is the statement's `Error` text.
async fn run_one(inner: &Inner, client: &Client, statement: &str) -> Result<Outcome, String> {
    let tokens = tokens(statement);
    match verb(&tokens).as_str() {
        "COPY" => {
            let spec = parse_copy(&tokens).map_err(|e| format!("ERROR: {e}"))?;
            let s3 = inner.s3().await.map_err(|e| format!("ERROR: {e}"))?;
            let loaded = run_copy(client, s3, &spec)
                .await
                .map_err(|error| match error {
                    CopyError::Postgres(e) => pg_error(&e),
                    CopyError::Load(detail) => {
                        format!("ERROR: Load into table '{}' failed: {detail}", spec.table)
                    }
                    CopyError::S3(detail) => format!("ERROR: S3ServiceException: {detail}"),
                })?;
            return Ok(Outcome {
                rows: i64::try_from(loaded).unwrap_or(i64::MAX),
                result: None,
            });
        }
        "UNLOAD" => {
            return Err(
                "ERROR: UNLOAD is not served by the Redshift Data API stand-in (testkit)".into(),
            );
        }
        _ => {}
    }
    if let Some(check) = redshift_design_check(&tokens) {
        client
            .simple_query(&check)
            .await
            .map_err(|e| pg_error(&e))?;
        return Ok(Outcome::default());
    }
    let messages = client
        .simple_query(statement)
        .await
        .map_err(|e| pg_error(&e))?;
    let mut rows = Vec::new();
    let mut described = false;
    let mut count = 0u64;
    for message in messages {
        match message {
            SimpleQueryMessage::RowDescription(_) => {
                described = true;
                rows.clear();
            }
            SimpleQueryMessage::Row(row) => rows.push(row),
            SimpleQueryMessage::CommandComplete(n) => count = n,
            _ => {}
        }
    }
    let result = if described {
        Some(result_set(client, statement, &rows).await)
    } else {
        None
    };
    Ok(Outcome {
        rows: i64::try_from(count).unwrap_or(i64::MAX),
        result,
    })
}

/// The typed result of a statement that returned rows (the column types come
/// from preparing the statement again: the simple protocol sends only text).
async fn result_set(
    client: &Client,
    statement: &str,
    rows: &[tokio_postgres::SimpleQueryRow],
) -> ResultSet {
    let prepared = client.prepare(statement).await.ok();
    let columns: Vec<(String, Type, Value)> = match &prepared {
        Some(prepared) => {
            let mut columns = Vec::new();
            for column in prepared.columns() {
                let meta = column_metadata(client, column).await;
                columns.push((column.name().to_owned(), column.type_().clone(), meta));
            }
            columns
        }
        None => rows
            .first()
            .map(|row| {
                row.columns()
                    .iter()
                    .map(|c| {
                        let meta = json!({
                            "name": c.name(), "label": c.name(), "typeName": "varchar",
                            "isCaseSensitive": true, "isCurrency": false, "isSigned": false,
                            "nullable": 2, "precision": 0, "scale": 0, "length": 0,
                            "schemaName": "", "tableName": "",
                        });
                        (c.name().to_owned(), Type::VARCHAR, meta)
                    })
                    .collect()
            })
            .unwrap_or_default(),
    };
    let mut size = 0i64;
    let records = rows
        .iter()
        .map(|row| {
            Value::Array(
                columns
                    .iter()
                    .enumerate()
                    .map(|(i, (_, type_, _))| {
                        let text = row.get(i);
                        size += text.map_or(0, |t| i64::try_from(t.len()).unwrap_or(0));
                        field(type_, text)
                    })
                    .collect(),
            )
        })
        .collect();
    ResultSet {
        columns: columns.into_iter().map(|(_, _, meta)| meta).collect(),
        records,
        size,
    }
}

/// One value as the Data API's typed `Field`.
fn field(type_: &Type, text: Option<&str>) -> Value {
    let Some(text) = text else {
        return json!({"isNull": true});
    };
    match *type_ {
        Type::BOOL => json!({"booleanValue": text == "t"}),
        Type::INT2 | Type::INT4 | Type::INT8 | Type::OID => match text.parse::<i64>() {
            Ok(n) => json!({"longValue": n}),
            Err(_) => json!({"stringValue": text}),
        },
        Type::FLOAT4 | Type::FLOAT8 => match text.parse::<f64>() {
            Ok(x) if x.is_finite() => json!({"doubleValue": x}),
            _ => json!({"stringValue": text}),
        },
        Type::BYTEA => {
            let hex = text.strip_prefix("\\x").unwrap_or(text);
            let bytes: Vec<u8> = (0..hex.len() / 2)
                .filter_map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
                .collect();
            json!({"blobValue": base64::engine::general_purpose::STANDARD.encode(bytes)})
        }
        _ => json!({"stringValue": text}),
    }
}

async fn column_metadata(client: &Client, column: &tokio_postgres::Column) -> Value {
    let type_ = column.type_();
    let modifier = column.type_modifier();
    let (mut precision, mut scale, mut length) = (0, 0, 0);
    match *type_ {
        Type::NUMERIC if modifier >= 4 => {
            precision = ((modifier - 4) >> 16) & 0xFFFF;
            scale = (modifier - 4) & 0xFFFF;
        }
        Type::VARCHAR | Type::BPCHAR if modifier >= 4 => {
            length = modifier - 4;
            precision = length;
        }
        _ => {}
    }
    let signed = matches!(
        *type_,
        Type::INT2 | Type::INT4 | Type::INT8 | Type::FLOAT4 | Type::FLOAT8 | Type::NUMERIC
    );
    let text_like = matches!(
        *type_,
        Type::VARCHAR | Type::BPCHAR | Type::TEXT | Type::NAME
    );
    // nullable: 0 no nulls, 1 nullable, 2 unknown (JDBC's convention, which Redshift follows).
    let (mut schema, mut table, mut nullable) = (String::new(), String::new(), 2);
    if let (Some(oid), Some(attnum)) = (column.table_oid(), column.column_id())
        && oid != 0
        && let Ok(row) = client
            .query_one(
                "SELECT n.nspname::text, c.relname::text, a.attnotnull
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = $2
                 WHERE c.oid = $1",
                &[&oid, &attnum],
            )
            .await
    {
        schema = row.get(0);
        table = row.get(1);
        let not_null: bool = row.get(2);
        nullable = if not_null { 0 } else { 1 };
    }
    json!({
        "name": column.name(),
        "label": column.name(),
        "typeName": type_.name(),
        "isCaseSensitive": text_like,
        "isCurrency": false,
        "isSigned": signed,
        "nullable": nullable,
        "precision": precision,
        "scale": scale,
        "length": length,
        "schemaName": schema,
        "tableName": table,
    })
}
