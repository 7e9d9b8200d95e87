//! Parquet parts written while the next rows are read: a finished row group is encoded (Parquet pages, zstd) on a
//! thread of its own, so that on two cores tiberius's decoding of the next page overlaps the encoding of the last
//! row group. At most one part is in flight: it is committed (written, fsynced, renamed, recorded in the resume
//! state) before the next one is handed over, before the table is marked done, and before a retry, so the
//! resume state never names a part that is not on disk and the bytes are the same as an inline write.

use crate::error::ExtractError;
use crate::progress::TableProgress;
use crate::resume::{ResumeState, TableState};
use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_writer::{
    ArrowColumnChunk, ArrowColumnWriter, ArrowLeafColumn, compute_leaves,
};
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

/// The Parquet file of one row group: zstd (default level), the whole batch as one row group. The column chunks
/// are encoded by two threads (even and odd leaf columns) and appended in column order, which gives the same
/// bytes as `ArrowWriter::write` (the same column writers, the same order), in about half the time when a core
/// is free: the last part of a table is encoded while nothing else is left to do.
///
/// # Errors
/// Arrow or Parquet errors.
pub fn encode(schema: &SchemaRef, batch: &RecordBatch) -> Result<Vec<u8>, ExtractError> {
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_max_row_group_row_count(Some(batch.num_rows().max(1)))
        .build();
    let (mut file, factory) =
        ArrowWriter::try_new(Vec::new(), schema.clone(), Some(props))?.into_serialized_writer()?;
    let writers = factory.create_column_writers(0)?;
    let mut leaves = Vec::with_capacity(writers.len());
    for (field, array) in schema.fields().iter().zip(batch.columns()) {
        leaves.extend(compute_leaves(field, array)?);
    }
    let mut jobs: [Vec<(usize, ArrowColumnWriter, ArrowLeafColumn)>; 2] = [Vec::new(), Vec::new()];
    for (i, (w, leaf)) in writers.into_iter().zip(leaves).enumerate() {
        jobs[i % 2].push((i, w, leaf));
    }
    let [even, odd] = jobs;
    let run = |jobs: Vec<(usize, ArrowColumnWriter, ArrowLeafColumn)>| {
        jobs.into_iter()
            .map(|(i, mut w, leaf)| {
                w.write(&leaf)?;
                Ok((i, w.close()?))
            })
            .collect::<Result<Vec<(usize, ArrowColumnChunk)>, parquet::errors::ParquetError>>()
    };
    let (even_chunks, odd_chunks) = std::thread::scope(|s| {
        let helper = s.spawn(|| run(odd));
        let mine = run(even);
        (mine, helper.join())
    });
    let odd_chunks = odd_chunks
        .map_err(|_| ExtractError::Data("the Parquet encoder helper thread failed".into()))?;
    let mut chunks = even_chunks?;
    chunks.extend(odd_chunks?);
    chunks.sort_by_key(|(i, _)| *i);
    let mut row_group = file.next_row_group()?;
    for (_, chunk) in chunks {
        chunk.append_to_row_group(&mut row_group)?;
    }
    row_group.close()?;
    Ok(file.into_inner()?)
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
        let mut state = self.state;
        // The parts before this one were committed earlier: their records are in the saved state.
        let mut files = resume
            .tables
            .get(&self.table)
            .map(|t| t.part_files.clone())
            .unwrap_or_default();
        files.truncate(state.part_rows.len().saturating_sub(1));
        files.push(crate::resume::PartFile {
            blake3: entry.blake3.clone(),
            bytes: entry.bytes,
        });
        state.part_files = files;
        resume.tables.insert(self.table, state);
        resume.save(writer.root())?;
        progress.part_done(&self.rel, self.rows, written);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::encode;
    use arrow_array::RecordBatch;
    use arrow_array::{ArrayRef, BinaryArray, Int32Array, StringArray};
    use arrow_schema::{DataType, Field, Schema};
    use parquet::arrow::ArrowWriter;
    use parquet::basic::{Compression, ZstdLevel};
    use parquet::file::properties::WriterProperties;
    use std::sync::Arc;

    #[test]
    fn two_thread_encoding_gives_the_bytes_of_arrow_writer() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("Id", DataType::Int32, false),
            Field::new("Text", DataType::Utf8, true),
            Field::new("Text__raw", DataType::Binary, true),
            Field::new("Note", DataType::Utf8, true),
            Field::new("Count", DataType::Int32, true),
        ]));
        let n = 5000;
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int32Array::from_iter_values(0..n)),
            Arc::new(StringArray::from_iter(
                (0..n).map(|i| (i % 7 != 0).then(|| format!("ticket {i} café"))),
            )),
            Arc::new(BinaryArray::from_iter(
                (0..n).map(|i| (i == 4000).then_some(b"caf\xe9".as_slice())),
            )),
            Arc::new(StringArray::from_iter(
                (0..n).map(|i| Some("x".repeat((i % 50) as usize))),
            )),
            Arc::new(Int32Array::from_iter(
                (0..n).map(|i| (i % 3 == 0).then_some(i * 7)),
            )),
        ];
        let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .set_max_row_group_row_count(Some(batch.num_rows()))
            .build();
        let mut w = ArrowWriter::try_new(Vec::new(), schema.clone(), Some(props)).unwrap();
        w.write(&batch).unwrap();
        let inline = w.into_inner().unwrap();
        assert_eq!(encode(&schema, &batch).unwrap(), inline);
    }
}
