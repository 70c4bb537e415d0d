//! Decoding CSV and Parquet objects into PostgreSQL CSV rows, by Redshift's rules.

use std::fmt::Write as _;

use bytes::Bytes;

use super::load::Target;
use super::{CopySpec, UNSUPPORTED};

/// Rows as PostgreSQL CSV: every value quoted, NULL as an unquoted empty field.
#[derive(Default)]
pub(super) struct CsvOut {
    chunks: Vec<Bytes>,
    current: Vec<u8>,
}

impl CsvOut {
    pub(super) fn row(&mut self, values: &[Option<String>]) {
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

    pub(super) fn finish(mut self) -> Vec<Bytes> {
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

pub(super) fn decode_csv(
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

pub(super) fn decode_parquet(
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
pub(super) fn decimal_text(data: &[u8], scale: i32) -> Result<String, String> {
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
pub(super) fn date_text(days: i64) -> String {
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

pub(super) fn timestamp_text(micros: i64) -> String {
    let days = micros.div_euclid(86_400_000_000);
    format!(
        "{} {}",
        date_text(days),
        time_text(micros.rem_euclid(86_400_000_000))
    )
}
