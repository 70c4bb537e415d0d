//! ExecuteStatement and BatchExecuteStatement: the request checked, the statement recorded, then run in the background.

use super::*;

impl RedshiftData {
    pub(super) async fn execute(
        &self,
        input: &Map<String, Value>,
        batch: bool,
    ) -> Result<Value, ApiError> {
        for unsupported in ["SessionId", "SessionKeepAliveSeconds"] {
            if input.contains_key(unsupported) {
                return Err(ApiError::validation(format!(
                    "{unsupported}: sessions are not served by the Redshift Data API stand-in (showcase-local-aws)"
                )));
            }
        }
        if let Some(format) = string(input, "ResultFormat")?
            && format != "JSON"
        {
            return Err(ApiError::validation(format!(
                "ResultFormat {format} is not served by the Redshift Data API stand-in (showcase-local-aws): JSON only"
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
        let id = crate::new_uuid();
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
}

pub(super) fn string(input: &Map<String, Value>, key: &str) -> Result<Option<String>, ApiError> {
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

pub(super) fn parameter(item: &Value) -> Result<(String, String), ApiError> {
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
