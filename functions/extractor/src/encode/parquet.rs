//! The sales file: Parquet with real types, so `COPY … FORMAT AS PARQUET` needs
//! no casts. Columns, in order: transaction_code VARCHAR, sale_date DATE,
//! product_id INT, customer_id INT, quantity_sold INT, revenue DECIMAL(12,2).

use std::sync::Arc;

use parquet::basic::{Compression, DecimalType, LogicalType, Repetition, Type as PhysicalType};
use parquet::data_type::{
    ByteArray, ByteArrayType, FixedLenByteArray, FixedLenByteArrayType, Int32Type,
};
use parquet::file::properties::{WriterProperties, WriterVersion};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::{ColumnPath, Type};
use showcase_dataset::Sale;

use super::RowEncoder;
use super::shared_buffer::SharedBuffer;

/// Rows per row group: big enough for good compression, small enough that the
/// buffered columns stay a few MB.
pub const ROW_GROUP_ROWS: usize = 128 * 1024;

/// Bytes of a DECIMAL(12,2) stored as FIXED_LEN_BYTE_ARRAY: the fewest that hold
/// 12 digits, as pyarrow (and so awswrangler, which Redshift reads) writes it.
const DECIMAL_BYTES: usize = 6;

#[derive(Default)]
struct Columns {
    transaction_code: Vec<ByteArray>,
    sale_date: Vec<i32>,
    product_id: Vec<i32>,
    customer_id: Vec<i32>,
    quantity_sold: Vec<i32>,
    revenue: Vec<FixedLenByteArray>,
}

impl Columns {
    fn len(&self) -> usize {
        self.sale_date.len()
    }
}

pub struct SalesParquetEncoder {
    writer: SerializedFileWriter<SharedBuffer>,
    output: SharedBuffer,
    columns: Columns,
}

fn schema() -> Result<Type, parquet::errors::ParquetError> {
    fn column(
        name: &str,
        physical: PhysicalType,
        logical: Option<LogicalType>,
    ) -> parquet::schema::types::PrimitiveTypeBuilder<'_> {
        Type::primitive_type_builder(name, physical)
            .with_repetition(Repetition::REQUIRED)
            .with_logical_type(logical)
    }
    let fields = vec![
        column(
            "transaction_code",
            PhysicalType::BYTE_ARRAY,
            Some(LogicalType::String),
        )
        .build()?,
        column("sale_date", PhysicalType::INT32, Some(LogicalType::Date)).build()?,
        column("product_id", PhysicalType::INT32, None).build()?,
        column("customer_id", PhysicalType::INT32, None).build()?,
        column("quantity_sold", PhysicalType::INT32, None).build()?,
        column(
            "revenue",
            PhysicalType::FIXED_LEN_BYTE_ARRAY,
            Some(LogicalType::Decimal(DecimalType {
                scale: 2,
                precision: 12,
            })),
        )
        .with_length(DECIMAL_BYTES as i32)
        .with_precision(12)
        .with_scale(2)
        .build()?,
    ];
    Type::group_type_builder("sales")
        .with_fields(fields.into_iter().map(Arc::new).collect())
        .build()
}

impl SalesParquetEncoder {
    pub fn new() -> Result<SalesParquetEncoder, String> {
        let properties = WriterProperties::builder()
            .set_writer_version(WriterVersion::PARQUET_1_0)
            .set_compression(Compression::SNAPPY)
            // Unique per row: a dictionary would only be built to be thrown away.
            .set_column_dictionary_enabled(ColumnPath::from("transaction_code"), false)
            .build();
        let output = SharedBuffer::default();
        let schema = schema().map_err(|e| e.to_string())?;
        let writer =
            SerializedFileWriter::new(output.clone(), Arc::new(schema), Arc::new(properties))
                .map_err(|e| e.to_string())?;
        Ok(SalesParquetEncoder {
            writer,
            output,
            columns: Columns::default(),
        })
    }

    fn write_row_group(&mut self) -> Result<(), parquet::errors::ParquetError> {
        if self.columns.len() == 0 {
            return Ok(());
        }
        let columns = std::mem::take(&mut self.columns);
        let mut group = self.writer.next_row_group()?;
        macro_rules! write_column {
            ($kind:ty, $values:expr) => {{
                let mut column = group.next_column()?.ok_or_else(|| {
                    parquet::errors::ParquetError::General(
                        "schema has fewer columns than rows".into(),
                    )
                })?;
                column.typed::<$kind>().write_batch(&$values, None, None)?;
                column.close()?;
            }};
        }
        write_column!(ByteArrayType, columns.transaction_code);
        write_column!(Int32Type, columns.sale_date);
        write_column!(Int32Type, columns.product_id);
        write_column!(Int32Type, columns.customer_id);
        write_column!(Int32Type, columns.quantity_sold);
        write_column!(FixedLenByteArrayType, columns.revenue);
        group.close()?;
        self.writer.flush()?;
        Ok(())
    }
}

/// Big-endian two's complement, as Parquet stores decimals.
fn decimal_bytes(cents: i64) -> FixedLenByteArray {
    let bytes = cents.to_be_bytes();
    FixedLenByteArray::from(bytes[8 - DECIMAL_BYTES..].to_vec())
}

fn int(value: u32, field: &str) -> Result<i32, String> {
    i32::try_from(value).map_err(|_| format!("{field} {value} does not fit a Parquet INT32"))
}

impl RowEncoder<Sale> for SalesParquetEncoder {
    fn push(&mut self, sale: Sale) -> Result<(), String> {
        if sale.revenue.0.abs() > showcase_dataset::money::DECIMAL_12_2_MAX {
            return Err(format!(
                "revenue {} of {} does not fit DECIMAL(12,2)",
                sale.revenue, sale.transaction_code
            ));
        }
        let columns = &mut self.columns;
        columns.product_id.push(int(sale.product_id, "product_id")?);
        columns
            .customer_id
            .push(int(sale.customer_id, "customer_id")?);
        columns
            .quantity_sold
            .push(int(sale.quantity_sold, "quantity_sold")?);
        columns.revenue.push(decimal_bytes(sale.revenue.0));
        columns.sale_date.push(sale.date.days_since_unix_epoch());
        columns.transaction_code.push(ByteArray::from(
            sale.transaction_code.trim().as_bytes().to_vec(),
        ));
        if columns.len() >= ROW_GROUP_ROWS {
            self.write_row_group().map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    fn take_ready(&mut self) -> Vec<u8> {
        self.output.take()
    }

    fn finish(mut self) -> Result<Vec<u8>, String> {
        self.write_row_group().map_err(|e| e.to_string())?;
        self.writer.close().map_err(|e| e.to_string())?;
        Ok(self.output.take())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_six_byte_twos_complement() {
        assert_eq!(decimal_bytes(1).data(), &[0, 0, 0, 0, 0, 1]);
        assert_eq!(decimal_bytes(-1).data(), &[0xFF; 6]);
        assert_eq!(
            decimal_bytes(999_999_999_999).data(),
            &[0x00, 0xE8, 0xD4, 0xA5, 0x0F, 0xFF]
        );
    }
}
