//! Reading a sales Parquet file of the lake back into rows (the local
//! warehouse load streams it into PostgreSQL's `COPY`).

use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::reader::RowIter;
use parquet::record::{Field, Row};
use showcase_dataset::{Cents, Day, Sale};

/// The rows of a sales file, in file order.
pub fn read_sales(
    bytes: bytes::Bytes,
) -> Result<impl Iterator<Item = Result<Sale, String>>, String> {
    let reader =
        SerializedFileReader::new(bytes).map_err(|e| format!("not a Parquet file: {e}"))?;
    let columns: Vec<String> = reader
        .metadata()
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .map(|c| c.name().to_owned())
        .collect();
    let expected = [
        "transaction_code",
        "sale_date",
        "product_id",
        "customer_id",
        "quantity_sold",
        "revenue",
    ];
    if columns != expected {
        return Err(format!("columns are {columns:?}, expected {expected:?}"));
    }
    let boxed: Box<dyn FileReader> = Box::new(reader);
    let rows = RowIter::from_file_into(boxed);
    Ok(rows.map(|row| row.map_err(|e| e.to_string()).and_then(|row| sale(&row))))
}

fn sale(row: &Row) -> Result<Sale, String> {
    let fields: Vec<&Field> = row.get_column_iter().map(|(_, field)| field).collect();
    let [
        Field::Str(code),
        Field::Date(days),
        Field::Int(product),
        Field::Int(customer),
        Field::Int(quantity),
        Field::Decimal(revenue),
    ] = fields.as_slice()
    else {
        return Err(format!("unexpected row {row}"));
    };
    let unsigned = |value: i32, name: &str| {
        u32::try_from(value).map_err(|_| format!("{name} {value} is negative in {code}"))
    };
    let data = revenue.data();
    if data.is_empty() || data.len() > 8 {
        return Err(format!("revenue of {code} has {} bytes", data.len()));
    }
    let mut wide = [if data[0] & 0x80 != 0 { 0xFF } else { 0 }; 8];
    wide[8 - data.len()..].copy_from_slice(data);
    Ok(Sale {
        transaction_code: code.clone(),
        date: Day::from_days_since_unix_epoch(*days)
            .map_err(|e| format!("sale_date of {code}: {e}"))?,
        product_id: unsigned(*product, "product_id")?,
        customer_id: unsigned(*customer, "customer_id")?,
        quantity_sold: unsigned(*quantity, "quantity_sold")?,
        revenue: Cents(i64::from_be_bytes(wide)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::{RowEncoder, SalesParquetEncoder};

    #[test]
    fn reads_back_what_the_encoder_wrote() {
        let day: Day = "2024-01-05".parse().unwrap();
        let sales: Vec<Sale> = showcase_dataset::SalesDay::new(day, 300)
            .unwrap()
            .rows(0..300)
            .collect();
        let mut encoder = SalesParquetEncoder::new().unwrap();
        let mut bytes = Vec::new();
        for sale in sales.clone() {
            encoder.push(sale).unwrap();
            bytes.extend(encoder.take_ready());
        }
        bytes.extend(encoder.finish().unwrap());
        let read: Vec<Sale> = read_sales(bytes.into())
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(read, sales);
        assert!(read_sales(bytes::Bytes::from_static(b"not parquet")).is_err());
    }
}
