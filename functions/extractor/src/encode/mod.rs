//! Row encoders: rows go in, file bytes come out as soon as they are final, so
//! the caller can stream them to the lake instead of holding the whole file.

mod csv;
mod parquet;
mod sales_reader;
mod shared_buffer;

pub use self::csv::CsvEncoder;
pub use self::parquet::{ROW_GROUP_ROWS, SalesParquetEncoder};
pub use self::sales_reader::read_sales;

/// An encoder of one lake file.
pub trait RowEncoder<R> {
    /// Adds one row.
    fn push(&mut self, row: R) -> Result<(), String>;
    /// The bytes completed since the last call (may be empty).
    fn take_ready(&mut self) -> Vec<u8>;
    /// Completes the file and returns its remaining bytes.
    fn finish(self) -> Result<Vec<u8>, String>;
}
