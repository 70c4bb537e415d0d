//! Dimension files: CSV with a header, quoted where needed (RFC 4180), which
//! Redshift reads with `COPY … CSV IGNOREHEADER 1`.

use serde::Serialize;

use super::RowEncoder;
use super::shared_buffer::SharedBuffer;

pub struct CsvEncoder {
    writer: csv::Writer<SharedBuffer>,
    output: SharedBuffer,
}

impl CsvEncoder {
    /// The header is written up front, so a day with no rows still gives a valid file.
    pub fn new(header: &[&str]) -> Result<CsvEncoder, String> {
        let output = SharedBuffer::default();
        let mut writer = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(output.clone());
        writer.write_record(header).map_err(|e| e.to_string())?;
        Ok(CsvEncoder { writer, output })
    }
}

impl<R: Serialize> RowEncoder<R> for CsvEncoder {
    fn push(&mut self, row: R) -> Result<(), String> {
        self.writer.serialize(row).map_err(|e| e.to_string())
    }

    fn take_ready(&mut self) -> Vec<u8> {
        // The csv writer buffers internally; flushing here only moves bytes into
        // the shared buffer, it cannot fail.
        let _ = self.writer.flush();
        self.output.take()
    }

    fn finish(mut self) -> Result<Vec<u8>, String> {
        self.writer.flush().map_err(|e| e.to_string())?;
        Ok(self.output.take())
    }
}
