//! Loading: the objects read from their source, decoded, streamed into the
//! table with PostgreSQL's COPY FROM STDIN.

use std::fmt::Write as _;

use bytes::Bytes;
use futures_util::SinkExt;
use tokio_postgres::Client;

use super::decode::{CsvOut, decode_csv, decode_parquet};
use super::{CopySpec, Format};
use crate::redshift_data::objects::ObjectSource;

/// One column the COPY fills.
#[derive(Debug, Clone)]
pub(super) struct Target {
    pub(super) sql: String,
    pub(super) text_like: bool,
    /// VARCHAR(n)/CHAR(n): n.
    pub(super) max_len: Option<usize>,
}

/// Runs the COPY on `client` (inside whatever transaction it is in); returns the rows loaded.
pub async fn run_copy(
    client: &Client,
    objects: &dyn ObjectSource,
    spec: &CopySpec,
) -> Result<u64, CopyError> {
    let targets = targets(client, spec).await?;
    let objects = objects
        .objects(&spec.bucket, &spec.prefix)
        .await
        .map_err(CopyError::S3)?;
    let spec_for_decode = spec.clone();
    let targets_for_decode = targets.clone();
    let chunks = tokio::task::spawn_blocking(move || {
        let mut out = CsvOut::default();
        for (key, bytes) in objects {
            let decoded = match spec_for_decode.format {
                Format::Parquet => {
                    decode_parquet(bytes, &targets_for_decode, &spec_for_decode, &mut out)
                }
                Format::Csv { delimiter, quote } => decode_csv(
                    &bytes,
                    delimiter,
                    quote,
                    &targets_for_decode,
                    &spec_for_decode,
                    &mut out,
                ),
            };
            decoded.map_err(|detail| format!("s3://{}/{key}: {detail}", spec_for_decode.bucket))?;
        }
        Ok::<_, String>(out.finish())
    })
    .await
    .map_err(|e| CopyError::Load(format!("decoding stopped: {e}")))?
    .map_err(CopyError::Load)?;
    let columns: Vec<&str> = targets.iter().map(|t| t.sql.as_str()).collect();
    let statement = format!(
        "COPY {} ({}) FROM STDIN (FORMAT csv)",
        spec.table,
        columns.join(", ")
    );
    let sink = client
        .copy_in::<_, Bytes>(&statement)
        .await
        .map_err(CopyError::Postgres)?;
    futures_util::pin_mut!(sink);
    for chunk in chunks {
        sink.send(chunk).await.map_err(CopyError::Postgres)?;
    }
    sink.finish().await.map_err(CopyError::Postgres)
}

#[derive(Debug)]
pub enum CopyError {
    /// PostgreSQL refused (a missing table, a value that does not fit…).
    Postgres(tokio_postgres::Error),
    /// Reading or decoding the objects failed.
    Load(String),
    /// S3 said no (no such bucket, nothing under the prefix).
    S3(String),
}

async fn targets(client: &Client, spec: &CopySpec) -> Result<Vec<Target>, CopyError> {
    let rows = client
        .query(
            "SELECT a.attname::text, t.typcategory::text, a.atttypmod, t.typname::text
             FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
             WHERE a.attrelid = $1::text::regclass AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attnum",
            &[&spec.table],
        )
        .await
        .map_err(CopyError::Postgres)?;
    let all: Vec<(String, Target)> = rows
        .iter()
        .map(|row| {
            let name: String = row.get(0);
            let category: String = row.get(1);
            let typmod: i32 = row.get(2);
            let type_name: String = row.get(3);
            let max_len = (matches!(type_name.as_str(), "varchar" | "bpchar") && typmod >= 4)
                .then(|| usize::try_from(typmod - 4).ok())
                .flatten();
            let target = Target {
                sql: quote_identifier(&name),
                text_like: category == "S",
                max_len,
            };
            (name, target)
        })
        .collect();
    match &spec.columns {
        None => Ok(all.into_iter().map(|(_, target)| target).collect()),
        Some(listed) => listed
            .iter()
            .map(|(sql, name)| {
                all.iter()
                    .find(|(column, _)| column == name)
                    .map(|(_, target)| target.clone())
                    .ok_or_else(|| {
                        CopyError::Load(format!(
                            "column {sql} of relation {} does not exist",
                            spec.table
                        ))
                    })
            })
            .collect(),
    }
}

fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// An error and its causes on one line (the SDK's Display says only "service error").
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            let _ = write!(text, ": {cause_text}");
        }
        source = cause.source();
    }
    text
}
