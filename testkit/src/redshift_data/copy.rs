//! Redshift's `COPY table [(columns)] FROM 's3://bucket/prefix' … FORMAT AS
//! CSV|PARQUET` on PostgreSQL: every object under the prefix is read from the
//! S3 endpoint (moto), decoded here, and streamed into the table with
//! PostgreSQL's `COPY … FROM STDIN (FORMAT csv)`, inside the caller's
//! transaction.
//!
//! The decoding is this module's own, written to Redshift's rules: Parquet
//! columns map to the table's (or the listed) columns by position, whatever
//! their names; CSV fields likewise. (The local runner's decoding lives in
//! showcase-deploy and showcase-extractor, which dev-depend on testkit, and it
//! reads only the sales file; a test compares the two on a real extract.)
//!
//! Options served: `FORMAT [AS] CSV | PARQUET` (or bare `CSV`/`PARQUET`),
//! `CSV QUOTE [AS] 'c'`, `DELIMITER [AS] 'c'` (CSV only), `IGNOREHEADER [AS]
//! n`, `TRUNCATECOLUMNS` (to the column's length in bytes, as Redshift counts
//! VARCHAR), `EMPTYASNULL`, `BLANKSASNULL`, `NULL [AS] 'string'` (default
//! `\N`), `MAXERROR 0`, and, accepted but not checked: `IAM_ROLE 'arn' |
//! DEFAULT`, `CREDENTIALS 'string'`, `ACCESS_KEY_ID`/`SECRET_ACCESS_KEY`/
//! `SESSION_TOKEN`, `REGION`, `COMPUPDATE`, `STATUPDATE`. Anything else
//! (MANIFEST, GZIP, JSON, FIXEDWIDTH, Redshift's default pipe-delimited text
//! format, DATEFORMAT…) fails the statement saying the stand-in lacks it.
//!
//! As on Redshift, an empty CSV field loads as an empty string into a
//! CHAR/VARCHAR/TEXT column unless EMPTYASNULL, and as NULL into any other
//! type (PostgreSQL's own CSV COPY would load NULL into text columns too).

use std::fmt::Write as _;

use bytes::Bytes;
use futures_util::SinkExt;
use tokio_postgres::Client;

use super::sql::Token;

/// A parsed Redshift COPY.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopySpec {
    /// The table as written in the statement (SQL text).
    pub table: String,
    /// Listed columns: (SQL text, catalog name).
    pub columns: Option<Vec<(String, String)>>,
    pub bucket: String,
    pub prefix: String,
    pub format: Format,
    pub ignore_header: usize,
    pub truncate_columns: bool,
    pub empty_as_null: bool,
    pub blanks_as_null: bool,
    pub null_as: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    Csv { delimiter: u8, quote: u8 },
    Parquet,
}

const UNSUPPORTED: &str = "is not supported by the Redshift Data API stand-in";

/// Parses `COPY …` (the tokens of one statement). `Err` is the statement's error.
pub fn parse_copy(tokens: &[Token]) -> Result<CopySpec, String> {
    let mut rest = tokens.get(1..).unwrap_or_default();
    // The table: names and dots up to `(` or FROM.
    let name_len = rest
        .iter()
        .position(|t| matches!(t, Token::Punct('(')) || t.is("FROM"))
        .unwrap_or(rest.len());
    if name_len == 0 {
        return Err("syntax error at or near \"FROM\" (COPY needs a table)".into());
    }
    let table: String = rest[..name_len].iter().map(Token::sql).collect();
    rest = &rest[name_len..];
    let mut columns = None;
    if let Some(Token::Punct('(')) = rest.first() {
        let close = rest
            .iter()
            .position(|t| matches!(t, Token::Punct(')')))
            .ok_or("syntax error: unclosed column list in COPY")?;
        let mut listed = Vec::new();
        for token in rest[1..close]
            .iter()
            .filter(|t| !matches!(t, Token::Punct(',')))
        {
            let name = token
                .identifier()
                .ok_or_else(|| format!("syntax error at or near \"{}\"", token.sql()))?;
            listed.push((token.sql(), name));
        }
        columns = Some(listed);
        rest = &rest[close + 1..];
    }
    let source = match rest {
        [from, Token::Literal(source), tail @ ..] if from.is("FROM") => {
            rest = tail;
            source.clone()
        }
        [from, Token::Word(w), ..] if from.is("FROM") && w.eq_ignore_ascii_case("STDIN") => {
            return Err(format!("COPY FROM STDIN {UNSUPPORTED} (nor by Redshift)"));
        }
        _ => return Err("COPY needs FROM 's3://bucket/prefix'".into()),
    };
    let Some((bucket, prefix)) = source
        .strip_prefix("s3://")
        .and_then(|path| path.split_once('/'))
        .filter(|(bucket, _)| !bucket.is_empty())
    else {
        return Err(format!(
            "COPY from '{source}' {UNSUPPORTED}: only 's3://bucket/prefix' sources"
        ));
    };
    let mut spec = CopySpec {
        table,
        columns,
        bucket: bucket.to_owned(),
        prefix: prefix.to_owned(),
        format: Format::Csv {
            delimiter: b',',
            quote: b'"',
        },
        ignore_header: 0,
        truncate_columns: false,
        empty_as_null: false,
        blanks_as_null: false,
        null_as: "\\N".into(),
    };
    let mut format = None;
    let mut delimiter = None;
    let mut quote = None;
    let mut authorized = false;
    let mut i = 0;
    // `[AS] 'literal'` or `[AS] number` after an option word.
    let argument = |i: &mut usize| -> Option<Token> {
        if rest.get(*i).is_some_and(|t| t.is("AS")) {
            *i += 1;
        }
        let value = rest.get(*i).cloned();
        *i += 1;
        value
    };
    while i < rest.len() {
        let token = &rest[i];
        i += 1;
        let Token::Word(word) = token else {
            if matches!(token, Token::Punct(',')) {
                continue;
            }
            return Err(format!("syntax error at or near \"{}\"", token.sql()));
        };
        match word.to_uppercase().as_str() {
            "IAM_ROLE" => {
                match argument(&mut i) {
                    Some(Token::Literal(_)) => {}
                    Some(t) if t.is("DEFAULT") => {}
                    _ => return Err("IAM_ROLE needs 'arn' or DEFAULT".into()),
                }
                authorized = true;
            }
            "CREDENTIALS" | "ACCESS_KEY_ID" | "SECRET_ACCESS_KEY" | "SESSION_TOKEN" | "REGION" => {
                let Some(Token::Literal(_)) = argument(&mut i) else {
                    return Err(format!("{word} needs a quoted value"));
                };
                if !word.eq_ignore_ascii_case("REGION") {
                    authorized = true;
                }
            }
            "FORMAT" => {
                if rest.get(i).is_some_and(|t| t.is("AS")) {
                    i += 1;
                }
                let Some(Token::Word(kind)) = rest.get(i) else {
                    return Err("FORMAT needs CSV or PARQUET".into());
                };
                i += 1;
                format = Some(known_format(kind)?);
            }
            "CSV" | "PARQUET" | "JSON" | "AVRO" | "ORC" | "FIXEDWIDTH" | "SHAPEFILE" => {
                format = Some(known_format(word)?);
            }
            "QUOTE" => quote = Some(single_byte(word, argument(&mut i))?),
            "DELIMITER" => delimiter = Some(single_byte(word, argument(&mut i))?),
            "IGNOREHEADER" => match argument(&mut i) {
                Some(Token::Number(n)) => {
                    spec.ignore_header = n
                        .parse()
                        .map_err(|_| format!("IGNOREHEADER {n}: not a row count"))?;
                }
                _ => return Err("IGNOREHEADER needs a row count".into()),
            },
            "MAXERROR" => match argument(&mut i) {
                Some(Token::Number(n)) if n == "0" => {}
                _ => return Err(format!("MAXERROR other than 0 {UNSUPPORTED}")),
            },
            "NULL" => match argument(&mut i) {
                Some(Token::Literal(value)) => spec.null_as = value,
                _ => return Err("NULL AS needs a quoted string".into()),
            },
            "TRUNCATECOLUMNS" => spec.truncate_columns = true,
            "EMPTYASNULL" => spec.empty_as_null = true,
            "BLANKSASNULL" => spec.blanks_as_null = true,
            "COMPUPDATE" | "STATUPDATE" => {
                // Optional ON/OFF/TRUE/FALSE/PRESET: performance only.
                if rest.get(i).is_some_and(|t| {
                    ["ON", "OFF", "TRUE", "FALSE", "PRESET"]
                        .iter()
                        .any(|k| t.is(k))
                }) {
                    i += 1;
                }
            }
            other => return Err(format!("COPY option {other} {UNSUPPORTED}")),
        }
    }
    if !authorized {
        return Err(
            "COPY from S3 needs an authorization: IAM_ROLE, CREDENTIALS or ACCESS_KEY_ID".into(),
        );
    }
    spec.format = match format.as_deref() {
        Some("CSV") => Format::Csv {
            delimiter: delimiter.unwrap_or(b','),
            quote: quote.unwrap_or(b'"'),
        },
        Some("PARQUET") => {
            if delimiter.is_some() || quote.is_some() || spec.ignore_header > 0 {
                return Err(
                    "DELIMITER, QUOTE and IGNOREHEADER are not allowed with FORMAT AS PARQUET"
                        .into(),
                );
            }
            Format::Parquet
        }
        Some(other) => return Err(format!("FORMAT AS {other} {UNSUPPORTED}")),
        None => {
            return Err(format!(
                "Redshift's default pipe-delimited text format {UNSUPPORTED}: say FORMAT AS CSV or PARQUET"
            ));
        }
    };
    Ok(spec)
}

fn known_format(kind: &str) -> Result<String, String> {
    let kind = kind.to_uppercase();
    if kind == "CSV" || kind == "PARQUET" {
        Ok(kind)
    } else {
        Err(format!("FORMAT AS {kind} {UNSUPPORTED}"))
    }
}

fn single_byte(option: &str, value: Option<Token>) -> Result<u8, String> {
    match value {
        Some(Token::Literal(text)) if text.len() == 1 => Ok(text.as_bytes()[0]),
        _ => Err(format!("{option} needs a single-character string")),
    }
}

/// One column the COPY fills.
#[derive(Debug, Clone)]
struct Target {
    sql: String,
    text_like: bool,
    /// VARCHAR(n)/CHAR(n): n.
    max_len: Option<usize>,
}

/// Runs the COPY on `client` (inside whatever transaction it is in); returns the rows loaded.
pub async fn run_copy(
    client: &Client,
    s3: &aws_sdk_s3::Client,
    spec: &CopySpec,
) -> Result<u64, CopyError> {
    let targets = targets(client, spec).await?;
    let objects = read_objects(s3, spec).await?;
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

/// Every object under the prefix, in key order.
async fn read_objects(
    s3: &aws_sdk_s3::Client,
    spec: &CopySpec,
) -> Result<Vec<(String, Bytes)>, CopyError> {
    let s3_error = |e: &dyn std::error::Error| CopyError::S3(error_chain(e));
    let mut keys = Vec::new();
    let mut token = None;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket(&spec.bucket)
            .prefix(&spec.prefix)
            .set_continuation_token(token)
            .send()
            .await
            .map_err(|e| s3_error(&e))?;
        keys.extend(
            page.contents()
                .iter()
                .filter_map(|object| object.key())
                .filter(|key| !key.ends_with('/'))
                .map(str::to_owned),
        );
        token = page.next_continuation_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    if keys.is_empty() {
        return Err(CopyError::S3(format!(
            "The specified S3 prefix '{}' does not exist",
            spec.prefix
        )));
    }
    let mut objects = Vec::new();
    for key in keys {
        let object = s3
            .get_object()
            .bucket(&spec.bucket)
            .key(&key)
            .send()
            .await
            .map_err(|e| s3_error(&e))?;
        let bytes = object
            .body
            .collect()
            .await
            .map_err(|e| s3_error(&e))?
            .into_bytes();
        objects.push((key, bytes));
    }
    Ok(objects)
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

/// Rows as PostgreSQL CSV: every value quoted, NULL as an unquoted empty field.
#[derive(Default)]
struct CsvOut {
    chunks: Vec<Bytes>,
    current: Vec<u8>,
}

impl CsvOut {
    fn row(&mut self, values: &[Option<String>]) {
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                self.current.push(b',');
            }
            if let Some(value) = value {
                self.current.push(b'"');
                for byte in value.bytes() {
                    if byte == b'"' {
                        self.current.push(b'"');
                    }
                    self.current.push(byte);
                }
                self.current.push(b'"');
            }
        }
        self.current.push(b'\n');
        if self.current.len() >= 1 << 20 {
            self.chunks
                .push(Bytes::from(std::mem::take(&mut self.current)));
        }
    }

    fn finish(mut self) -> Vec<Bytes> {
        if !self.current.is_empty() {
            self.chunks.push(Bytes::from(self.current));
        }
        self.chunks
    }
}

/// Applies TRUNCATECOLUMNS: at most `max` bytes, cut at a character boundary.
fn truncate(value: String, target: &Target, spec: &CopySpec) -> String {
    match target.max_len {
        Some(max) if spec.truncate_columns && value.len() > max => {
            let mut end = max;
            while !value.is_char_boundary(end) {
                end -= 1;
            }
            value[..end].to_owned()
        }
        _ => value,
    }
}

fn decode_csv(
    bytes: &[u8],
    delimiter: u8,
    quote: u8,
    targets: &[Target],
    spec: &CopySpec,
    out: &mut CsvOut,
) -> Result<(), String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .quote(quote)
        .from_reader(bytes);
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|e| e.to_string())?;
        if index < spec.ignore_header {
            continue;
        }
        let line = record.position().map_or(0, csv::Position::line);
        if record.len() != targets.len() {
            return Err(format!(
                "line {line}: {} fields, the COPY fills {} columns",
                record.len(),
                targets.len()
            ));
        }
        let values: Vec<Option<String>> = record
            .iter()
            .zip(targets)
            .map(|(field, target)| {
                let blank = field.trim().is_empty();
                if field == spec.null_as
                    || (spec.blanks_as_null && blank)
                    || (field.is_empty() && (spec.empty_as_null || !target.text_like))
                {
                    None
                } else {
                    Some(truncate(field.to_owned(), target, spec))
                }
            })
            .collect();
        out.row(&values);
    }
    Ok(())
}

fn decode_parquet(
    bytes: Bytes,
    targets: &[Target],
    spec: &CopySpec,
    out: &mut CsvOut,
) -> Result<(), String> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let reader =
        SerializedFileReader::new(bytes).map_err(|e| format!("not a Parquet file: {e}"))?;
    let columns = reader
        .metadata()
        .file_metadata()
        .schema_descr()
        .num_columns();
    if columns != targets.len() {
        return Err(format!(
            "the file has {columns} columns, the COPY fills {} (Parquet columns map by position)",
            targets.len()
        ));
    }
    let boxed: Box<dyn FileReader> = Box::new(reader);
    for (index, row) in parquet::record::reader::RowIter::from_file_into(boxed).enumerate() {
        let row = row.map_err(|e| format!("row {index}: {e}"))?;
        let mut values = Vec::with_capacity(targets.len());
        for ((name, field), target) in row.get_column_iter().zip(targets) {
            let value =
                parquet_text(field).map_err(|e| format!("row {index}, column {name}: {e}"))?;
            values.push(value.map(|v| truncate(v, target, spec)));
        }
        out.row(&values);
    }
    Ok(())
}

/// A Parquet value as PostgreSQL input text; `None` for NULL.
fn parquet_text(field: &parquet::record::Field) -> Result<Option<String>, String> {
    use parquet::record::Field;
    let float = |value: f64| {
        if value.is_nan() {
            "NaN".to_owned()
        } else if value.is_infinite() {
            if value > 0.0 { "Infinity" } else { "-Infinity" }.to_owned()
        } else {
            value.to_string()
        }
    };
    Ok(Some(match field {
        Field::Null => return Ok(None),
        Field::Bool(value) => value.to_string(),
        Field::Byte(value) => value.to_string(),
        Field::Short(value) => value.to_string(),
        Field::Int(value) => value.to_string(),
        Field::Long(value) => value.to_string(),
        Field::UByte(value) => value.to_string(),
        Field::UShort(value) => value.to_string(),
        Field::UInt(value) => value.to_string(),
        Field::ULong(value) => value.to_string(),
        Field::Float16(value) => float(f64::from(f32::from(*value))),
        Field::Float(value) => float(f64::from(*value)),
        Field::Double(value) => float(*value),
        Field::Decimal(decimal) => decimal_text(decimal.data(), decimal.scale())?,
        Field::Str(value) => value.clone(),
        Field::Bytes(value) => {
            let mut hex = String::from("\\x");
            for byte in value.data() {
                let _ = write!(hex, "{byte:02x}");
            }
            hex
        }
        Field::Date(days) => date_text(i64::from(*days)),
        Field::TimeMillis(ms) => time_text(i64::from(*ms) * 1000),
        Field::TimeMicros(us) => time_text(*us),
        Field::TimestampMillis(ms) => timestamp_text(ms.saturating_mul(1000)),
        Field::TimestampMicros(us) => timestamp_text(*us),
        Field::Group(_) | Field::ListInternal(_) | Field::MapInternal(_) => {
            return Err(format!("nested Parquet values {UNSUPPORTED}"));
        }
    }))
}

/// A big-endian two's-complement unscaled value with `scale` digits after the point.
fn decimal_text(data: &[u8], scale: i32) -> Result<String, String> {
    if data.is_empty() || data.len() > 16 {
        return Err(format!("a decimal of {} bytes", data.len()));
    }
    let fill = if data[0] & 0x80 != 0 { 0xFF } else { 0 };
    let mut wide = [fill; 16];
    wide[16 - data.len()..].copy_from_slice(data);
    let value = i128::from_be_bytes(wide);
    let scale = usize::try_from(scale)
        .ok()
        .filter(|s| *s <= 38)
        .ok_or_else(|| format!("a decimal with scale {scale}"))?;
    let digits = value.unsigned_abs().to_string();
    let digits = format!("{digits:0>width$}", width = scale + 1);
    let (whole, fraction) = digits.split_at(digits.len() - scale);
    let sign = if value < 0 { "-" } else { "" };
    Ok(if scale == 0 {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{fraction}")
    })
}

/// Days since 1970-01-01 as YYYY-MM-DD (proleptic Gregorian; H. Hinnant's civil_from_days).
fn date_text(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

fn time_text(micros: i64) -> String {
    let micros = micros.rem_euclid(86_400_000_000);
    let (seconds, fraction) = (micros / 1_000_000, micros % 1_000_000);
    format!(
        "{:02}:{:02}:{:02}.{fraction:06}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

fn timestamp_text(micros: i64) -> String {
    let days = micros.div_euclid(86_400_000_000);
    format!(
        "{} {}",
        date_text(days),
        time_text(micros.rem_euclid(86_400_000_000))
    )
}

#[cfg(test)]
mod tests {
    use super::super::sql::tokens;
    use super::*;

    #[test]
    fn parses_the_copies_the_pipeline_emits() {
        let csv = parse_copy(&tokens(
            "COPY showcase.stage_products (\n    product_id, product_name, category, product_rating\n)\n\
             FROM 's3://lake/prefix/2024-03-01/products.csv'\nIAM_ROLE 'arn:aws:iam::123456789012:role/copy'\n\
             FORMAT AS CSV\nIGNOREHEADER 1\nTRUNCATECOLUMNS",
        ))
        .unwrap();
        assert_eq!(csv.table, "showcase.stage_products");
        assert_eq!(
            csv.columns.as_ref().unwrap()[3],
            ("product_rating".to_owned(), "product_rating".to_owned())
        );
        assert_eq!(csv.bucket, "lake");
        assert_eq!(csv.prefix, "prefix/2024-03-01/products.csv");
        assert_eq!(
            csv.format,
            Format::Csv {
                delimiter: b',',
                quote: b'"'
            }
        );
        assert_eq!(csv.ignore_header, 1);
        assert!(csv.truncate_columns);

        let parquet = parse_copy(&tokens(
            "COPY showcase.stage_sales FROM 's3://lake/2024-03-01/sales.parquet' \
             IAM_ROLE 'arn:aws:iam::123456789012:role/copy' FORMAT AS PARQUET",
        ))
        .unwrap();
        assert_eq!(parquet.format, Format::Parquet);
        assert_eq!(parquet.columns, None);
    }

    #[test]
    fn refuses_what_it_cannot_serve() {
        let error = |sql: &str| parse_copy(&tokens(sql)).unwrap_err();
        assert!(
            error("COPY t FROM 's3://b/k' IAM_ROLE default FORMAT AS JSON 'auto'").contains("JSON")
        );
        assert!(error("COPY t FROM 's3://b/k' IAM_ROLE default CSV GZIP").contains("GZIP"));
        assert!(error("COPY t FROM 's3://b/k' CSV").contains("authorization"));
        assert!(error("COPY t FROM 's3://b/k' IAM_ROLE default").contains("pipe-delimited"));
        assert!(error("COPY t FROM 'dynamodb://x' IAM_ROLE default CSV").contains("s3://"));
    }

    #[test]
    fn values_print_as_postgresql_reads_them() {
        assert_eq!(date_text(0), "1970-01-01");
        assert_eq!(date_text(19_783), "2024-03-01");
        assert_eq!(date_text(-1), "1969-12-31");
        assert_eq!(decimal_text(&[0x30, 0x39], 2).unwrap(), "123.45");
        assert_eq!(decimal_text(&[0xFF, 0xFB], 2).unwrap(), "-0.05");
        assert_eq!(decimal_text(&[7], 0).unwrap(), "7");
        assert_eq!(
            timestamp_text(1_709_251_200_000_000 + 3_723_000_004),
            "2024-03-01 01:02:03.000004"
        );
    }
}
