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
        // The dimension files are CSV with a header line; the sales file is
        // Parquet, sent in COPY's binary format (no number or date printed by
        // us and parsed again by the server: a third less of its time).
        let format = if entity == Entity::Sales {
            "FORMAT binary"
        } else {
            "FORMAT csv, HEADER true"
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
            .copy_in::<_, Bytes>(&format!("COPY {table} FROM STDIN ({format})"))
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
                for chunk in sales_as_copy_binary(bytes).map_err(&load_error)? {
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
        let sql = crate::pipeline::figures_query(&self.schema, day);
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

/// The sales Parquet file as chunks of about 1 MB of COPY's binary format,
/// in staging column order: `transaction_code` text, `sale_date` date,
/// three integers and `revenue` numeric.
fn sales_as_copy_binary(
    parquet: Bytes,
) -> Result<impl Iterator<Item = Result<Bytes, String>>, String> {
    let mut rows = showcase_extractor::encode::read_sales(parquet)?.peekable();
    let mut header = Some(
        [
            &b"PGCOPY\n\xff\r\n\0"[..],
            &0i32.to_be_bytes(), // flags
            &0i32.to_be_bytes(), // header extension length
        ]
        .concat(),
    );
    let mut done = false;
    Ok(std::iter::from_fn(move || {
        if done {
            return None;
        }
        let mut out = header.take().unwrap_or_default();
        out.reserve(1 << 20);
        while out.len() < 1 << 20 {
            let Some(row) = rows.next() else {
                out.extend_from_slice(&(-1i16).to_be_bytes()); // trailer
                done = true;
                break;
            };
            if let Err(error) = row.and_then(|sale| copy_binary_row(&sale, &mut out)) {
                done = true;
                return Some(Err(error));
            }
        }
        Some(Ok(Bytes::from(out)))
    }))
}

/// Days from 1970-01-01 to 2000-01-01, PostgreSQL's date epoch.
const POSTGRES_EPOCH_DAYS: i32 = 10_957;

fn copy_binary_row(sale: &showcase_dataset::Sale, out: &mut Vec<u8>) -> Result<(), String> {
    let integer = |value: u32, name: &str| {
        i32::try_from(value).map_err(|_| {
            format!(
                "{name} {value} of {} is not an INTEGER",
                sale.transaction_code
            )
        })
    };
    out.extend_from_slice(&6i16.to_be_bytes());
    let code = sale.transaction_code.as_bytes();
    out.extend_from_slice(&(code.len() as i32).to_be_bytes());
    out.extend_from_slice(code);
    out.extend_from_slice(&4i32.to_be_bytes());
    out.extend_from_slice(&(sale.date.days_since_unix_epoch() - POSTGRES_EPOCH_DAYS).to_be_bytes());
    for (value, name) in [
        (sale.product_id, "product_id"),
        (sale.customer_id, "customer_id"),
        (sale.quantity_sold, "quantity_sold"),
    ] {
        out.extend_from_slice(&4i32.to_be_bytes());
        out.extend_from_slice(&integer(value, name)?.to_be_bytes());
    }
    numeric_cents(sale.revenue.0, out);
    Ok(())
}

/// A count of cents as a binary NUMERIC with two decimals, length first:
/// base-10000 digits, most significant first, `weight` the power of 10000 of
/// the first, no leading or trailing zero digits (zero has none).
fn numeric_cents(cents: i64, out: &mut Vec<u8>) {
    let magnitude = cents.unsigned_abs();
    let mut whole = magnitude / 100;
    let mut digits: Vec<i16> = Vec::with_capacity(6);
    while whole > 0 {
        digits.push((whole % 10_000) as i16);
        whole /= 10_000;
    }
    digits.reverse();
    let weight = digits.len() as i16 - 1;
    // Two decimals are the first base-10000 digit after the point: .83 is 8300.
    digits.push((magnitude % 100) as i16 * 100);
    while digits.last() == Some(&0) {
        digits.pop();
    }
    let (weight, sign) = match (digits.is_empty(), cents < 0) {
        (true, _) => (0, 0x0000),
        (false, negative) => (weight, if negative { 0x4000 } else { 0x0000 }),
    };
    out.extend_from_slice(&(8 + 2 * digits.len() as i32).to_be_bytes());
    out.extend_from_slice(&(digits.len() as i16).to_be_bytes());
    out.extend_from_slice(&weight.to_be_bytes());
    out.extend_from_slice(&(sign as i16).to_be_bytes());
    out.extend_from_slice(&2i16.to_be_bytes()); // dscale: two decimals
    for digit in digits {
        out.extend_from_slice(&digit.to_be_bytes());
    }
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
    use super::{numeric_cents, redact};

    /// (ndigits, weight, sign, dscale, digits) of a binary NUMERIC.
    fn numeric(cents: i64) -> (i16, i16, u16, i16, Vec<i16>) {
        let mut out = Vec::new();
        numeric_cents(cents, &mut out);
        let word = |i: usize| i16::from_be_bytes([out[4 + 2 * i], out[5 + 2 * i]]);
        let length = i32::from_be_bytes([out[0], out[1], out[2], out[3]]);
        assert_eq!(length as usize, out.len() - 4);
        let n = word(0);
        let digits = (0..n as usize).map(|i| word(4 + i)).collect();
        (n, word(1), word(2) as u16, word(3), digits)
    }

    #[test]
    fn cents_become_postgres_numerics() {
        assert_eq!(numeric(451_383), (2, 0, 0, 2, vec![4513, 8300]));
        assert_eq!(numeric(86_390), (2, 0, 0, 2, vec![863, 9000]));
        assert_eq!(numeric(5), (1, -1, 0, 2, vec![500]));
        assert_eq!(numeric(0), (0, 0, 0, 2, vec![]));
        assert_eq!(numeric(100), (1, 0, 0, 2, vec![1]));
        assert_eq!(numeric(1_000_000), (1, 1, 0, 2, vec![1]));
        assert_eq!(numeric(1_000_001), (3, 1, 0, 2, vec![1, 0, 100]));
        assert_eq!(numeric(-150), (2, 0, 0x4000, 2, vec![1, 5000]));
        // DECIMAL(12, 2)'s largest: 9,999,999,999.99.
        assert_eq!(
            numeric(999_999_999_999),
            (4, 2, 0, 2, vec![99, 9999, 9999, 9900])
        );
    }

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
