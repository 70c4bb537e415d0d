//! The warehouse on PostgreSQL: runs the pipeline's SQL files (one transaction
//! each), loads staging from the lake with `COPY … FROM STDIN`, evaluates the
//! hard checks, and reads the day's figures for the report.

use std::path::Path;

use bytes::Bytes;
use futures_util::SinkExt;
use showcase_dataset::Day;
use showcase_extractor::Entity;
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

use crate::pipeline::{SqlFile, SqlParams, render};

#[derive(Debug, thiserror::Error)]
pub enum WarehouseError {
    #[error("cannot connect to PostgreSQL ({target}): {source}")]
    Connect {
        target: String,
        source: tokio_postgres::Error,
    },
    #[error("sql/{file}: {detail}")]
    Sql { file: &'static str, detail: String },
    #[error("loading {path} into staging: {detail}")]
    Load { path: String, detail: String },
    #[error("{file} failed: {}", failed.join(", "))]
    CheckFailed {
        file: &'static str,
        failed: Vec<String>,
    },
    #[error(transparent)]
    Render(#[from] crate::pipeline::RenderError),
}

/// The database error's own message and detail: tokio-postgres's `Display` says only "db error".
fn describe(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail) => format!("{} ({detail})", db.message()),
            None => db.message().to_owned(),
        },
        None => error.to_string(),
    }
}

pub struct Warehouse {
    client: Client,
    schema: String,
    connection: tokio::task::JoinHandle<()>,
}

impl Drop for Warehouse {
    fn drop(&mut self) {
        self.connection.abort();
    }
}

/// What a day left in the warehouse.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DayFigures {
    pub rejected: u64,
    pub duplicates_removed: u64,
    pub facts_loaded: u64,
    pub customer_versions_added: u64,
    pub products_written: u64,
    pub inferred_members: u64,
    pub total_quantity: String,
    pub total_revenue: String,
    pub transaction_count: u64,
}

impl Warehouse {
    /// `url` in libpq key=value or `postgres://` form.
    pub async fn connect(url: &str, schema: &str) -> Result<Warehouse, WarehouseError> {
        let redacted = redact(url);
        let (client, connection) = tokio_postgres::connect(url, NoTls)
            .await
            .map_err(|source| WarehouseError::Connect {
                target: redacted,
                source,
            })?;
        let connection = tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(Warehouse {
            client,
            schema: schema.to_owned(),
            connection,
        })
    }

    /// The process id of this connection's PostgreSQL backend (the bench
    /// reads its CPU time).
    pub async fn backend_pid(&self) -> Result<i32, WarehouseError> {
        let row = self
            .client
            .query_one("SELECT pg_backend_pid()", &[])
            .await
            .map_err(|e| WarehouseError::Sql {
                file: "(backend pid)",
                detail: describe(&e),
            })?;
        Ok(row.get(0))
    }

    /// Runs one file in one transaction: all of it or none of it.
    pub async fn run_sql(&mut self, file: &SqlFile, day: Day) -> Result<(), WarehouseError> {
        let sql = render(file, &SqlParams::local(day, &self.schema))?;
        let error = |e: tokio_postgres::Error| WarehouseError::Sql {
            file: file.path,
            detail: describe(&e),
        };
        let transaction = self.client.transaction().await.map_err(error)?;
        transaction.batch_execute(&sql).await.map_err(error)?;
        if let Some(entity) = cleans_stage(file) {
            // Statistics of today's cleaned staging table for the plans of the
            // checks and transforms that read it next; without them the planner
            // works from whatever autovacuum last saw (an empty stage_sales,
            // say) and picks nested loops over 100,000 staged rows. Row counts
            // and distinct keys are all the plans need: a sample of 3,000 rows
            // (statistics target 10) costs a fifth of the default 30,000.
            transaction
                .batch_execute(&format!(
                    "SET LOCAL default_statistics_target = 10; ANALYZE {}.stage_{}",
                    self.schema,
                    entity.as_str()
                ))
                .await
                .map_err(error)?;
        }
        transaction.commit().await.map_err(error)
    }

    /// Runs a check file; every column of its one row must be true.
    pub async fn check(&mut self, file: &SqlFile, day: Day) -> Result<(), WarehouseError> {
        let sql = render(file, &SqlParams::local(day, &self.schema))?;
        let messages = self
            .client
            .simple_query(&sql)
            .await
            .map_err(|e| WarehouseError::Sql {
                file: file.path,
                detail: describe(&e),
            })?;
        let row = messages.iter().find_map(|m| match m {
            SimpleQueryMessage::Row(row) => Some(row),
            _ => None,
        });
        let Some(row) = row else {
            return Err(WarehouseError::Sql {
                file: file.path,
                detail: "a check must return one row".into(),
            });
        };
        let failed: Vec<String> = row
            .columns()
            .iter()
            .enumerate()
            .filter(|(i, _)| row.get(*i) != Some("t"))
            .map(|(_, column)| column.name().to_owned())
            .collect();
        if failed.is_empty() {
            Ok(())
        } else {
            Err(WarehouseError::CheckFailed {
                file: file.path,
                failed,
            })
        }
    }

    /// Replaces the entity's staging table with the day's lake file; returns rows loaded.
    pub async fn load_stage(&mut self, entity: Entity, file: &Path) -> Result<u64, WarehouseError> {
        let path = file.display().to_string();
        let load_error = |detail: String| WarehouseError::Load {
            path: path.clone(),
            detail,
        };
        let bytes = Bytes::from(
            tokio::fs::read(file)
                .await
                .map_err(|e| load_error(e.to_string()))?,
        );
        let table = format!("{}.stage_{}", self.schema, entity.as_str());
        let header = if entity == Entity::Sales {
            ""
        } else {
            ", HEADER true"
        };
        let transaction = self
            .client
            .transaction()
            .await
            .map_err(|e| load_error(describe(&e)))?;
        // TRUNCATE, not the Redshift file's DELETE, which would leave every
        // previous day's dead rows for each scan to wade through. It also
        // forgets the row count, so the quality file is planned on the
        // table's size in pages until run_sql analyzes it.
        transaction
            .execute(&format!("TRUNCATE {table}"), &[])
            .await
            .map_err(|e| load_error(describe(&e)))?;
        let sink = transaction
            .copy_in::<_, Bytes>(&format!("COPY {table} FROM STDIN (FORMAT csv{header})"))
            .await
            .map_err(|e| load_error(describe(&e)))?;
        futures_util::pin_mut!(sink);
        match entity {
            // The dimension files are CSV already: streamed as they are.
            Entity::Products | Entity::Customers => sink
                .send(bytes)
                .await
                .map_err(|e| load_error(describe(&e)))?,
            Entity::Sales => {
                for chunk in sales_as_csv(bytes).map_err(&load_error)? {
                    sink.send(chunk.map_err(&load_error)?)
                        .await
                        .map_err(|e| load_error(describe(&e)))?;
                }
            }
        }
        let rows = sink.finish().await.map_err(|e| load_error(describe(&e)))?;
        transaction
            .commit()
            .await
            .map_err(|e| load_error(describe(&e)))?;
        Ok(rows)
    }

    /// The figures the report prints for `day`.
    pub async fn day_figures(&self, day: Day) -> Result<DayFigures, WarehouseError> {
        let s = &self.schema;
        let sql = format!(
            "SELECT
               (SELECT COALESCE(SUM(rows_rejected), 0) FROM {s}.quality_runs WHERE run_date = DATE '{day}'),
               (SELECT COALESCE(SUM(duplicates_removed), 0) FROM {s}.quality_runs WHERE run_date = DATE '{day}'),
               (SELECT COUNT(*) FROM {s}.fact_sales WHERE date_key = {key}),
               (SELECT COUNT(*) FROM {s}.dim_customers WHERE effective_date = DATE '{day}'),
               (SELECT COUNT(*) FROM {s}.dim_products WHERE updated_date = DATE '{day}'),
               (SELECT (SELECT COUNT(*) FROM {s}.dim_products WHERE is_inferred) + (SELECT COUNT(*) FROM {s}.dim_customers WHERE is_inferred)),
               (SELECT COALESCE(MAX(total_quantity), 0) FROM {s}.fact_sales_aggregate WHERE date_key = {key}),
               (SELECT COALESCE(MAX(total_revenue), 0) FROM {s}.fact_sales_aggregate WHERE date_key = {key}),
               (SELECT COALESCE(MAX(transaction_count), 0) FROM {s}.fact_sales_aggregate WHERE date_key = {key})",
            key = day.compact()
        );
        let messages = self
            .client
            .simple_query(&sql)
            .await
            .map_err(|e| WarehouseError::Sql {
                file: "(report)",
                detail: describe(&e),
            })?;
        let row = messages.iter().find_map(|m| match m {
            SimpleQueryMessage::Row(row) => Some(row),
            _ => None,
        });
        let text = |i: usize| row.and_then(|r| r.get(i)).unwrap_or("0").to_owned();
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

/// The staging table a pipeline file cleans, if any (the quality files).
fn cleans_stage(file: &SqlFile) -> Option<Entity> {
    use crate::pipeline::files;
    [
        (files::QUALITY_SALES, Entity::Sales),
        (files::QUALITY_PRODUCTS, Entity::Products),
        (files::QUALITY_CUSTOMERS, Entity::Customers),
    ]
    .into_iter()
    .find(|(quality, _)| quality.path == file.path)
    .map(|(_, entity)| entity)
}

/// The sales Parquet file as CSV chunks of about 1 MB, in staging column order.
fn sales_as_csv(parquet: Bytes) -> Result<impl Iterator<Item = Result<Bytes, String>>, String> {
    let mut rows = showcase_extractor::encode::read_sales(parquet)?.peekable();
    Ok(std::iter::from_fn(move || {
        rows.peek()?;
        let mut writer = csv::Writer::from_writer(Vec::with_capacity(1 << 20));
        for row in rows.by_ref() {
            let sale = match row {
                Ok(sale) => sale,
                Err(error) => return Some(Err(error)),
            };
            let record = (
                &sale.transaction_code,
                sale.date.to_string(),
                sale.product_id,
                sale.customer_id,
                sale.quantity_sold,
                sale.revenue.to_string(),
            );
            if let Err(error) = writer.serialize(record) {
                return Some(Err(error.to_string()));
            }
            if writer.get_ref().len() >= 1 << 20 {
                break;
            }
        }
        Some(
            writer
                .into_inner()
                .map(Bytes::from)
                .map_err(|e| e.to_string()),
        )
    }))
}

/// A connection string without its password, for messages.
fn redact(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        if let Some((credentials, host)) = rest.split_once('@') {
            let user = credentials.split(':').next().unwrap_or("");
            return format!("{scheme}://{user}:***@{host}");
        }
        return url.to_owned();
    }
    url.split_whitespace()
        .map(|part| {
            if part.starts_with("password=") {
                "password=***"
            } else {
                part
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact("postgres://me:s3cret@db:5432/x"),
            "postgres://me:***@db:5432/x"
        );
        assert_eq!(
            redact("host=db user=me password=s3cret"),
            "host=db user=me password=***"
        );
    }
}
