//! The ledger: what became of every source row (record or dropped with a reason), every record's lineage
//! (source rows and rules applied, for `explain`), and the lists behind the gap files. Shared by parallel
//! workers through a mutex; everything is sorted before it is written, so output does not depend on timing.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// Per logical object: rows read, migrated and dropped (by reason).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ObjectCount {
    /// Physical table.
    pub table: String,
    /// Rows in the source.
    pub source_rows: u64,
    /// Rows that became (part of) a record or an entry of a handoff file (technicians, gap datasets).
    pub migrated_rows: u64,
    /// Rows dropped, listed in gaps/dropped_records.csv.
    pub dropped_rows: u64,
    /// Dropped rows by reason.
    pub dropped_by_reason: BTreeMap<String, u64>,
}

/// One dropped row.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Dropped {
    /// Logical object.
    pub object: String,
    /// Physical table.
    pub table: String,
    /// Source pk.
    pub pk: String,
    /// Why.
    pub reason: String,
}

/// Lineage of one record.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Lineage {
    /// Source rows as `table:pk`.
    pub sources: Vec<String>,
    /// Rules applied, in order.
    pub rules: Vec<String>,
}

#[derive(Debug, Default)]
struct Inner {
    objects: BTreeMap<String, ObjectCount>,
    dropped: Vec<Dropped>,
    lists: BTreeMap<String, Vec<Vec<String>>>,
    counters: BTreeMap<String, u64>,
}

/// The ledger.
#[derive(Debug, Default)]
pub struct Ledger {
    inner: Mutex<Inner>,
}

impl Ledger {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The entry of `key`, allocating the key only when it is new (most calls hit an existing entry).
fn entry<'m, V: Default>(map: &'m mut BTreeMap<String, V>, key: &str) -> &'m mut V {
    if !map.contains_key(key) {
        map.insert(key.to_string(), V::default());
    }
    map.get_mut(key).expect("inserted above")
}

impl Ledger {
    /// Declares a logical object and its row count.
    pub fn source(&self, object: &str, table: &str, rows: u64) {
        let mut g = self.lock();
        let e = entry(&mut g.objects, object);
        e.table = table.to_string();
        e.source_rows += rows;
    }

    /// Counts a migrated row.
    pub fn migrated(&self, object: &str, n: u64) {
        entry(&mut self.lock().objects, object).migrated_rows += n;
    }

    /// Records a dropped row.
    pub fn drop_row(&self, object: &str, table: &str, pk: &str, reason: &str) {
        let mut g = self.lock();
        let e = entry(&mut g.objects, object);
        e.dropped_rows += 1;
        *entry(&mut e.dropped_by_reason, reason) += 1;
        g.dropped.push(Dropped {
            object: object.into(),
            table: table.into(),
            pk: pk.into(),
            reason: reason.into(),
        });
    }

    /// Adds a row to a named list (a gap CSV), e.g. `restricted_attachments`.
    pub fn list(&self, name: &str, row: Vec<String>) {
        entry(&mut self.lock().lists, name).push(row);
    }

    /// Adds to a named counter.
    pub fn count(&self, name: &str, n: u64) {
        if n > 0 {
            *entry(&mut self.lock().counters, name) += n;
        }
    }

    /// Per-object counts.
    pub fn objects(&self) -> BTreeMap<String, ObjectCount> {
        self.lock().objects.clone()
    }

    /// Dropped rows, sorted.
    pub fn dropped(&self) -> Vec<Dropped> {
        let mut d = self.lock().dropped.clone();
        d.sort();
        d
    }

    /// A named list, sorted.
    pub fn list_rows(&self, name: &str) -> Vec<Vec<String>> {
        let mut rows = self.lock().lists.get(name).cloned().unwrap_or_default();
        rows.sort();
        rows
    }

    /// Counters.
    pub fn counters(&self) -> BTreeMap<String, u64> {
        self.lock().counters.clone()
    }
}

/// Escapes one CSV field (RFC 4180: quoted when it holds a comma, quote or line break).
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A CSV document from a header and rows.
pub fn csv(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = header.join(",");
    out.push('\n');
    for r in rows {
        out.push_str(&r.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}
