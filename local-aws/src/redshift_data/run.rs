//! Running a statement on PostgreSQL: its parts in one transaction (or each
//! committed), every state change recorded, COPY served here.

use super::*;

impl Inner {
    pub(super) fn update(&self, id: &str, change: impl FnOnce(&mut Statement)) {
        {
            let mut statements = lock(&self.statements);
            if let Some(statement) = statements.by_id.get_mut(id) {
                change(statement);
                statement.updated = SystemTime::now();
            }
        }
        self.changed.notify_waiters();
    }

    pub(super) fn cancelled(&self, id: &str) -> bool {
        lock(&self.statements)
            .by_id
            .get(id)
            .is_none_or(|s| s.cancel_requested)
    }

    pub(super) fn object_source(&self) -> Result<Arc<dyn ObjectSource>, &'static str> {
        lock(&self.objects).clone().ok_or(
            "COPY needs an object source: serve the stand-in on a MotoServer, set RedshiftDataSettings::s3_endpoint or call read_objects_from",
        )
    }
}

/// Runs statement `id` to its end, recording every state change.
pub(super) async fn run_statement(inner: Arc<Inner>, id: String) {
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
pub(super) enum Ended {
    Failed(String),
    Aborted,
}

pub(super) fn finish(inner: &Inner, id: &str, started: Instant, outcome: Result<(), Ended>) {
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

pub(super) async fn run_parts(
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
pub(super) async fn run_one(
    inner: &Inner,
    client: &Client,
    statement: &str,
) -> Result<Outcome, String> {
    let tokens = tokens(statement);
    match verb(&tokens).as_str() {
        "COPY" => {
            let spec = parse_copy(&tokens).map_err(|e| format!("ERROR: {e}"))?;
            let objects = inner.object_source().map_err(|e| format!("ERROR: {e}"))?;
            let loaded = run_copy(client, objects.as_ref(), &spec)
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
                "ERROR: UNLOAD is not served by the Redshift Data API stand-in (showcase-local-aws)".into(),
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

/// PostgreSQL's error as Redshift's `Error` field shows it.
pub(super) fn pg_error(error: &tokio_postgres::Error) -> String {
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
