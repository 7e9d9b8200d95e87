//! Parquet parts written while the next rows are read: a finished row group is encoded (Parquet pages, zstd) on a
//! thread of its own, so that on two cores tiberius's decoding of the next page overlaps the encoding of the last
//! row group. At most one part is in flight: it is committed (written, fsynced, renamed, recorded in the resume
//! state) before the next one is handed over, before the table is marked done, and before a retry, so the
//! resume state never names a part that is not on disk and the bytes are the same as an inline write.

use crate::error::ExtractError;
use crate::progress::TableProgress;
use crate::resume::{ResumeState, TableState};
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use std::io::Write;
use std::thread::JoinHandle;
use ti_shared::bundle::BundleWriter;

/// One part being encoded.
pub(crate) struct InFlight {
    /// `schema.object` of its table.
    table: String,
    /// Bundle path of the part.
    rel: String,
    /// Rows in the part.
    rows: u64,
    /// The table's state once this part is committed.
    state: TableState,
    /// The encoder thread: the whole Parquet file.
    encoder: JoinHandle<Result<Vec<u8>, ExtractError>>,
}

/// The Parquet file of one row group: zstd (default level), the whole batch as one row group.
///
/// # Errors
/// Arrow or Parquet errors.
pub fn encode(schema: &SchemaRef, batch: &RecordBatch) -> Result<Vec<u8>, ExtractError> {
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_max_row_group_row_count(Some(batch.num_rows().max(1)))
        .build();
    let mut w = ArrowWriter::try_new(Vec::new(), schema.clone(), Some(props))?;
    w.write(batch)?;
    Ok(w.into_inner()?)
}

impl InFlight {
    /// Starts encoding `batch` as part `rel` of `table`; `state` is the table's state once it is committed.
    ///
    /// # Errors
    /// [`ExtractError::Io`] when the thread cannot be started.
    pub(crate) fn start(
        table: String,
        rel: String,
        schema: SchemaRef,
        batch: RecordBatch,
        state: TableState,
    ) -> Result<InFlight, ExtractError> {
        let rows = batch.num_rows() as u64;
        let encoder = std::thread::Builder::new()
            .name("parquet-encoder".into())
            .spawn(move || encode(&schema, &batch))
            .map_err(|source| ExtractError::Io {
                path: rel.clone(),
                source,
            })?;
        Ok(InFlight {
            table,
            rel,
            rows,
            state,
            encoder,
        })
    }

    /// Waits for the encoding, writes and commits the file, then records the part in the resume state (saved).
    ///
    /// # Errors
    /// Encoding, write or state-file errors.
    pub(crate) fn commit(
        self,
        writer: &BundleWriter,
        resume: &mut ResumeState,
        progress: &TableProgress,
    ) -> Result<(), ExtractError> {
        let bytes = self.encoder.join().map_err(|_| {
            ExtractError::Data(format!("{}: the Parquet encoder thread failed", self.rel))
        })??;
        let mut sink = writer.create_file(&self.rel)?;
        sink.write_all(&bytes).map_err(|source| ExtractError::Io {
            path: self.rel.clone(),
            source,
        })?;
        drop(bytes);
        let entry = writer.commit(sink, Some(self.rows))?;
        progress.add_bytes(entry.bytes);
        let written = self.state.rows();
        resume.tables.insert(self.table, self.state);
        resume.save(writer.root())?;
        progress.part_done(&self.rel, self.rows, written);
        Ok(())
    }
}
