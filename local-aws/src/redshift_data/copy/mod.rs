//! Redshift's `COPY table [(columns)] FROM 's3://bucket/prefix' … FORMAT AS
//! CSV|PARQUET` on PostgreSQL: every object under the prefix is read from the
//! stand-in's object source (moto's S3 in tests, the local lake directory for
//! `airflow --local`: see `objects`), decoded here, and streamed into the table with
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

use super::sql::Token;

mod decode;
mod load;

pub use load::{CopyError, error_chain, run_copy};

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

#[cfg(test)]
mod tests {
    use super::super::sql::tokens;
    use super::decode::{date_text, decimal_text, timestamp_text};
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
