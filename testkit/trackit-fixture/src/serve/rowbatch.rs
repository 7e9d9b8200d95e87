//! A batch of result rows copied out of SQLite, so that one thread can step the statement while another encodes
//! the previous rows into TDS tokens (`session::stream_select`). Cells keep SQLite's storage classes; text and
//! blob bytes live in one buffer.

use rusqlite::types::ValueRef;

/// Rows handed over at once (fewer when [`BATCH_BYTES`] is reached first).
pub const BATCH_ROWS: usize = 256;
/// Bytes of text/blob data after which a batch is handed over.
pub const BATCH_BYTES: usize = 256 * 1024;

#[derive(Debug, Clone, Copy)]
enum Cell {
    Null,
    Integer(i64),
    Real(f64),
    /// Offset and length in `data`.
    Text(usize, usize),
    Blob(usize, usize),
}

/// Rows of `ncol` cells each.
#[derive(Debug, Default)]
pub struct RowBatch {
    ncol: usize,
    cells: Vec<Cell>,
    data: Vec<u8>,
}

impl RowBatch {
    /// An empty batch for rows of `ncol` cells (reusing `old`'s allocations when given).
    pub fn new(ncol: usize, old: Option<RowBatch>) -> RowBatch {
        let mut b = old.unwrap_or_default();
        b.ncol = ncol;
        b.cells.clear();
        b.data.clear();
        b
    }

    /// Number of rows held.
    pub fn rows(&self) -> usize {
        self.cells.len().checked_div(self.ncol).unwrap_or(0)
    }

    /// True when the batch should be handed over.
    pub fn full(&self) -> bool {
        self.rows() >= BATCH_ROWS || self.data.len() >= BATCH_BYTES
    }

    /// Copies the first `ncol` cells of a SQLite row.
    pub fn push(&mut self, row: &rusqlite::Row<'_>) {
        for i in 0..self.ncol {
            let cell = match row.get_ref(i).unwrap_or(ValueRef::Null) {
                ValueRef::Null => Cell::Null,
                ValueRef::Integer(v) => Cell::Integer(v),
                ValueRef::Real(v) => Cell::Real(v),
                ValueRef::Text(t) => {
                    self.data.extend_from_slice(t);
                    Cell::Text(self.data.len() - t.len(), t.len())
                }
                ValueRef::Blob(b) => {
                    self.data.extend_from_slice(b);
                    Cell::Blob(self.data.len() - b.len(), b.len())
                }
            };
            self.cells.push(cell);
        }
    }

    /// Row `r`'s cells into `vals` (cleared first), borrowing the batch's bytes: `vals[i]` is cell `sources[i]`.
    pub fn row<'a>(&'a self, r: usize, sources: &[usize], vals: &mut Vec<ValueRef<'a>>) {
        vals.clear();
        let cells = &self.cells[r * self.ncol..(r + 1) * self.ncol];
        for &i in sources {
            vals.push(match cells.get(i).copied().unwrap_or(Cell::Null) {
                Cell::Null => ValueRef::Null,
                Cell::Integer(v) => ValueRef::Integer(v),
                Cell::Real(v) => ValueRef::Real(v),
                Cell::Text(o, n) => ValueRef::Text(&self.data[o..o + n]),
                Cell::Blob(o, n) => ValueRef::Blob(&self.data[o..o + n]),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_come_back_as_stored() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let mut st = conn
            .prepare("SELECT 1, NULL, 2.5, 'café', x'00ff' UNION ALL SELECT -7, '', 0.0, NULL, x''")
            .unwrap();
        let mut rows = st.query([]).unwrap();
        let mut b = RowBatch::new(5, None);
        while let Some(r) = rows.next().unwrap() {
            b.push(r);
        }
        assert_eq!(b.rows(), 2);
        let mut vals = Vec::new();
        b.row(0, &[0, 1, 2, 3, 4], &mut vals);
        assert_eq!(
            vals,
            [
                ValueRef::Integer(1),
                ValueRef::Null,
                ValueRef::Real(2.5),
                ValueRef::Text("café".as_bytes()),
                ValueRef::Blob(&[0, 0xFF]),
            ]
        );
        b.row(1, &[0, 1, 2, 3, 4, 1], &mut vals);
        assert_eq!(vals[1], ValueRef::Text(b""));
        assert_eq!(vals[4], ValueRef::Blob(b""));
        assert_eq!(vals[5], ValueRef::Text(b""));
        let b = RowBatch::new(5, Some(b));
        assert_eq!(b.rows(), 0);
    }
}
