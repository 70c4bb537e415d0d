//! DescribeStatement, GetStatementResult, CancelStatement, ListStatements: answers from the recorded statements.

use super::*;

impl RedshiftData {
    pub(super) fn describe(&self, input: &Map<String, Value>) -> Result<Value, ApiError> {
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

    pub(super) fn result(&self, input: &Map<String, Value>) -> Result<Value, ApiError> {
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

    pub(super) fn cancel(&self, input: &Map<String, Value>) -> Result<Value, ApiError> {
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

    pub(super) fn list(&self, input: &Map<String, Value>) -> Result<Value, ApiError> {
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
    pub(super) fn has_result(&self) -> bool {
        self.outcome.as_ref().is_some_and(|o| o.result.is_some())
    }

    /// The fields DescribeStatement and SubStatements share.
    pub(super) fn describe(&self, id: &str) -> impl Iterator<Item = (String, Value)> {
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

pub(super) fn required_id(input: &Map<String, Value>) -> Result<String, ApiError> {
    string(input, "Id")?.ok_or_else(|| {
        ApiError::validation(
            "1 validation error detected: Value null at 'id' failed to satisfy constraint: Member must not be null",
        )
    })
}

/// `uuid` or `uuid:N`.
pub(super) fn split_id(id: &str) -> Result<(&str, Option<usize>), ApiError> {
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

pub(super) fn epoch_seconds(time: SystemTime) -> Value {
    let seconds = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_millis() as f64 / 1000.0);
    json!(seconds)
}

pub(super) fn nanos(duration: Option<Duration>) -> i64 {
    duration.map_or(-1, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}
