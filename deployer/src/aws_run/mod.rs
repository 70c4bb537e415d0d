//! `run` on the deployed stack: the same task graph `run --local` executes,
//! on AWS. Extracts invoke the extractor function; every SQL task runs its
//! file (`sql/redshift/load_stage_*.sql` for the loads: COPY from the lake)
//! through the Redshift Data API as one transaction; a check's row of
//! booleans must be all true, or the day stops there naming the check, before
//! any dimension or fact is touched. A day gives the same [`DayOutcome`] as
//! the local run, so it prints the same line.

mod data_api;
mod extract;
pub mod mwaa;
pub mod statements;
mod target;

use std::time::Instant;

use showcase_dataset::Day;
use showcase_extractor::{Entity, ExtractSummary};

pub use data_api::{
    Canceller, DataApi, Polling, Rows, SqlAuth, SqlEndpoint, SqlTarget, StatementError,
};
pub use extract::{ExtractError, LakeNames};
pub use statements::SqlNames;
pub use target::{TargetError, extractor_function, resolve, sql_names};

use crate::local::warehouse::DayFigures;
use crate::local::{DayOutcome, PhaseTimes};
use crate::pipeline::{GraphError, RenderError, Step, Task, execution_layers};

/// Everything the run needs to know about the deployed stack: names only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsTarget {
    /// The extractor function's name (`<stack>-extractor`).
    pub extractor_function: String,
    pub sql: SqlTarget,
    /// Schema, lake bucket and prefix, COPY role ARN.
    pub names: SqlNames,
}

impl AwsTarget {
    pub fn lake(&self) -> LakeNames {
        LakeNames {
            bucket: self.names.lake_bucket.clone(),
            prefix: self.names.lake_prefix.clone(),
        }
    }
}

/// Why a task failed.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    #[error(transparent)]
    Extract(#[from] ExtractError),
    #[error("sql/{file}: {source}")]
    Sql {
        file: &'static str,
        source: StatementError,
    },
    /// The same words as the local run's failed check.
    #[error("{file} failed: {}", failed.join(", "))]
    CheckFailed {
        file: &'static str,
        failed: Vec<String>,
    },
    #[error("sql/{file}: {problem}")]
    Answer { file: &'static str, problem: String },
    #[error(transparent)]
    Render(#[from] RenderError),
}

#[derive(Debug, thiserror::Error)]
pub enum AwsRunError {
    #[error("{day} {task}: {source}")]
    Task {
        day: Day,
        task: &'static str,
        source: TaskError,
    },
    #[error(transparent)]
    Graph(#[from] GraphError),
}

/// The deployed pipeline, run day by day.
pub struct AwsPipeline {
    lambda: aws_sdk_lambda::Client,
    sql: DataApi,
    target: AwsTarget,
    /// `tune.sql` runs once, after the setup that created the schema.
    tune_pending: Option<bool>,
}

impl AwsPipeline {
    pub fn new(
        lambda: aws_sdk_lambda::Client,
        redshiftdata: aws_sdk_redshiftdata::Client,
        target: AwsTarget,
        polling: Polling,
    ) -> AwsPipeline {
        AwsPipeline {
            lambda,
            sql: DataApi::new(redshiftdata, target.sql.clone(), polling),
            target,
            tune_pending: None,
        }
    }

    /// Cancels the statement the run is waiting for (Ctrl-C).
    pub fn canceller(&self) -> Canceller {
        self.sql.canceller()
    }

    pub fn target(&self) -> &AwsTarget {
        &self.target
    }

    /// Runs every task of `day`, in the graph's order; the extracts of a
    /// layer run concurrently (as the DAG runs them).
    pub async fn run_day(&mut self, day: Day) -> Result<DayOutcome, AwsRunError> {
        let mut times = PhaseTimes::default();
        let mut extracted = Vec::new();
        for layer in execution_layers()? {
            let extracts: Vec<&Task> = layer
                .iter()
                .copied()
                .filter(|t| matches!(t.step, Step::Extract(_)))
                .collect();
            if !extracts.is_empty() {
                let started = Instant::now();
                extracted.extend(self.extract_all(day, &extracts).await?);
                times.extract += started.elapsed();
            }
            for task in layer.iter().filter(|t| !matches!(t.step, Step::Extract(_))) {
                let started = Instant::now();
                self.run_task(day, task)
                    .await
                    .map_err(|source| AwsRunError::Task {
                        day,
                        task: task.id,
                        source,
                    })?;
                match task.step {
                    Step::LoadStage { .. } => times.load += started.elapsed(),
                    _ => times.transform += started.elapsed(),
                }
            }
        }
        let figures = self
            .figures(day)
            .await
            .map_err(|source| AwsRunError::Task {
                day,
                task: "report",
                source,
            })?;
        Ok(DayOutcome {
            day,
            extracted,
            figures,
            times,
        })
    }

    async fn run_task(&mut self, day: Day, task: &Task) -> Result<(), TaskError> {
        let Some(file) = statements::task_file(task) else {
            return Ok(());
        };
        let sqls = statements::rendered(&file, &self.target.names, day)?;
        let sql_error = |source| TaskError::Sql {
            file: file.path,
            source,
        };
        let name = format!("showcase-{}-{day}", task.id);
        if task.id == "setup_schema" && self.tune_pending.is_none() {
            self.tune_pending = Some(!self.schema_exists().await.map_err(sql_error)?);
        }
        match task.step {
            Step::Check(_) => {
                let sql = sqls.join(";\n");
                let rows = self.sql.query(&name, &sql).await.map_err(sql_error)?;
                check_row(file.path, &rows)?;
            }
            _ => self.sql.batch(&name, sqls).await.map_err(sql_error)?,
        }
        if task.id == "setup_schema" && self.tune_pending == Some(true) {
            self.tune(day).await?;
            self.tune_pending = Some(false);
        }
        Ok(())
    }

    async fn schema_exists(&self) -> Result<bool, StatementError> {
        let rows = self
            .sql
            .query(
                "showcase-schema-exists",
                &statements::schema_exists_query(&self.target.names.schema),
            )
            .await?;
        let count = rows
            .rows
            .first()
            .and_then(|r| r.first())
            .and_then(|v| v.text());
        Ok(count.is_some_and(|n| n != "0"))
    }

    /// `sql/redshift/tune.sql`, a statement at a time (Redshift alters
    /// distribution and sort keys outside transactions).
    async fn tune(&self, day: Day) -> Result<(), TaskError> {
        let file = crate::pipeline::files::TUNE;
        for (i, sql) in statements::tune(&self.target.names, day)?
            .iter()
            .enumerate()
        {
            self.sql
                .execute(&format!("showcase-tune-{i}"), sql)
                .await
                .map_err(|source| TaskError::Sql {
                    file: file.path,
                    source,
                })?;
        }
        Ok(())
    }

    async fn extract_all(
        &self,
        day: Day,
        tasks: &[&Task],
    ) -> Result<Vec<ExtractSummary>, AwsRunError> {
        let lake = self.target.lake();
        let lake = &lake;
        let runs = tasks.iter().filter_map(|task| match task.step {
            Step::Extract(entity) => Some(async move {
                self.extract(lake, day, entity)
                    .await
                    .map_err(|source| AwsRunError::Task {
                        day,
                        task: task.id,
                        source: source.into(),
                    })
            }),
            _ => None,
        });
        futures_util::future::join_all(runs)
            .await
            .into_iter()
            .collect()
    }

    async fn extract(
        &self,
        lake: &LakeNames,
        day: Day,
        entity: Entity,
    ) -> Result<ExtractSummary, ExtractError> {
        extract::invoke(
            &self.lambda,
            &self.target.extractor_function,
            lake,
            day,
            entity,
        )
        .await
    }

    /// The figures the day's line prints, read back from the warehouse.
    async fn figures(&self, day: Day) -> Result<DayFigures, TaskError> {
        let sql = crate::pipeline::figures_query(&self.target.names.schema, day);
        let rows = self
            .sql
            .query(&format!("showcase-report-{day}"), &sql)
            .await
            .map_err(|source| TaskError::Sql {
                file: "(report)",
                source,
            })?;
        let row = rows.rows.first();
        let text = |i: usize| {
            row.and_then(|r| r.get(i))
                .and_then(|v| v.text())
                .unwrap_or("0")
                .to_owned()
        };
        let number = |i: usize| text(i).parse::<u64>().unwrap_or(0);
        Ok(DayFigures {
            rejected: number(0),
            duplicates_removed: number(1),
            facts_loaded: number(2),
            customer_versions_added: number(3),
            products_written: number(4),
            inferred_members: number(5),
            total_quantity: text(6),
            total_revenue: text(7),
            transaction_count: number(8),
        })
    }
}

/// A check's one row: every column true, else the check fails naming the
/// false (or NULL) ones — the local run's semantics.
fn check_row(file: &'static str, rows: &Rows) -> Result<(), TaskError> {
    let Some(row) = rows.rows.first() else {
        return Err(TaskError::Answer {
            file,
            problem: "a check must return one row".into(),
        });
    };
    let failed: Vec<String> = rows
        .columns
        .iter()
        .enumerate()
        .filter(|(i, _)| row.get(*i).and_then(data_api::Value::text) != Some("t"))
        .map(|(_, column)| column.clone())
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(TaskError::CheckFailed { file, failed })
    }
}

#[cfg(test)]
mod tests {
    use super::data_api::Value;
    use super::*;

    #[test]
    fn a_check_fails_on_any_false_or_null_column_naming_them() {
        let rows = Rows {
            columns: vec!["a".into(), "b".into(), "c".into()],
            rows: vec![vec![Value::Bool(true), Value::Bool(false), Value::Null]],
        };
        let error = check_row("checks/sales.sql", &rows).unwrap_err();
        assert_eq!(error.to_string(), "checks/sales.sql failed: b, c");
        let fine = Rows {
            columns: vec!["a".into()],
            rows: vec![vec![Value::Bool(true)]],
        };
        assert!(check_row("checks/sales.sql", &fine).is_ok());
        assert!(check_row("checks/sales.sql", &Rows::default()).is_err());
    }
}
