//! The journal: one SQLite file (WAL) outside the bundle that makes the load resumable (DESIGN.md §7).
//!
//! - `steps`: one row per API step of a record (`create`, `part:3`, `update:<digest>`, `tag`…). The intent is
//!   committed **before** the request (`state = 'intent'`), the Intercom id and outcome **after** it
//!   (`state = 'done'`). A row still in `intent` after a crash is a request whose outcome is unknown: it is
//!   reconciled by a lookup before anything is sent again.
//! - `records`: one row per record key: kind, digest of the body last loaded, Intercom id, status, outcome.
//! - `meta`: `bundle_id` and `migration_id` of the bundle the journal belongs to, plus run facts.
//! - `snapshots`: attribute values of pre-existing records before this migration overwrote them (rollback).
//! - `reconciliation`: the line each phase ends with.
//!
//! WAL with `synchronous = NORMAL`: every commit survives the process being killed (the case we guard against);
//! a power loss may lose the last commits, which the probes then reconcile like any in-flight step.

use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

mod rows;
pub use rows::{Reconciliation, RecordRow, StepRow};

/// A journal failure.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// SQLite failed.
    #[error("journal {path}: {source}")]
    Sqlite {
        /// The journal file.
        path: String,
        /// The SQLite error.
        source: rusqlite::Error,
    },
    /// `--journal` names something that is not a journal: a directory, a file that is not SQLite, or an SQLite
    /// database of something else. The operator's to fix (exit code 2).
    #[error("--journal {path}: {reason}")]
    NotAJournal {
        /// The path given.
        path: String,
        /// What was found and what was expected.
        reason: String,
    },
    /// The journal belongs to another migration.
    #[error(
        "journal {path} belongs to bundle {journal_bundle} of migration {}; bundle {bundle} is of migration {}: refusing (a delta must have the same migration_id; use a new journal for another migration)",
        describe_migration(journal_migration),
        describe_migration(bundle_migration)
    )]
    DifferentMigration {
        /// The journal file.
        path: String,
        /// Bundle id stored in the journal.
        journal_bundle: String,
        /// Migration id stored in the journal.
        journal_migration: Option<String>,
        /// The bundle offered.
        bundle: String,
        /// Its migration id.
        bundle_migration: Option<String>,
    },
}

/// A migration id for a message: quoted, or "(none)" when the bundle carries none.
fn describe_migration(id: &Option<String>) -> String {
    match id {
        Some(id) => format!("\"{id}\""),
        None => "(none)".to_string(),
    }
}

/// How a bundle relates to the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Binding {
    /// Fresh journal: bound to this bundle now.
    New,
    /// Same bundle as before: a resume.
    Same,
    /// A newer bundle of the same migration: a delta; holds the previous bundle id.
    Delta(String),
}

/// The open journal. Methods take `&self` (a mutex guards the connection), so workers share one `Arc<Journal>`.
#[derive(Debug)]
pub struct Journal {
    path: String,
    conn: Mutex<Connection>,
}

fn now() -> f64 {
    crate::limiter::unix_now()
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records(key TEXT PRIMARY KEY, kind TEXT NOT NULL, digest TEXT, intercom_id TEXT,
  status TEXT NOT NULL, outcome TEXT, error TEXT, bundle_id TEXT, updated_at REAL);
CREATE TABLE IF NOT EXISTS steps(key TEXT NOT NULL, step TEXT NOT NULL, state TEXT NOT NULL, intercom_id TEXT,
  outcome TEXT, detail TEXT, attempts INTEGER NOT NULL DEFAULT 0, intent_at REAL, done_at REAL, bundle_id TEXT,
  first_intent_at REAL, PRIMARY KEY(key, step));
CREATE TABLE IF NOT EXISTS snapshots(key TEXT PRIMARY KEY, kind TEXT NOT NULL, intercom_id TEXT NOT NULL,
  before TEXT NOT NULL, taken_at REAL);
CREATE TABLE IF NOT EXISTS reconciliation(id INTEGER PRIMARY KEY AUTOINCREMENT, bundle_id TEXT, phase TEXT,
  line TEXT NOT NULL, at REAL);
";

impl Journal {
    /// Checks that `path` can be a journal without changing anything: absent (a new journal is created there),
    /// an empty file, or an SQLite file holding a journal (or nothing yet). Newcomer finding: a directory or a
    /// garbage file used to fail deep inside SQLite with exit 1.
    ///
    /// # Errors
    /// [`JournalError::NotAJournal`] naming what was found and what is expected.
    pub fn check_path(path: &Path) -> Result<(), JournalError> {
        let not = |reason: String| JournalError::NotAJournal {
            path: path.display().to_string(),
            reason,
        };
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(not(format!("cannot be read ({e})"))),
        };
        if meta.is_dir() {
            return Err(not(format!(
                "is a directory; expected the journal's SQLite file, e.g. {}",
                path.join("journal.sqlite").display()
            )));
        }
        if meta.len() == 0 {
            return Ok(());
        }
        let mut head = [0u8; 16];
        let read = std::fs::File::open(path)
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head));
        if read.is_err() || &head != b"SQLite format 3\0" {
            return Err(not(
                "is not a ti-load journal (not an SQLite file); expected an existing journal, or a path where a new one is created".into(),
            ));
        }
        Ok(())
    }

    /// Opens (creating when absent) the journal at `path`, in WAL mode.
    ///
    /// # Errors
    /// [`JournalError::NotAJournal`] ([`check_path`](Self::check_path), or an SQLite database holding tables
    /// but no journal), [`JournalError::Sqlite`].
    pub fn open(path: &Path) -> Result<Self, JournalError> {
        Self::check_path(path)?;
        let p = path.display().to_string();
        let err = |source| JournalError::Sqlite {
            path: p.clone(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = std::fs::create_dir_all(dir);
        }
        let conn = Connection::open(path).map_err(err)?;
        let tables: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
            .and_then(|mut st| {
                st.query_map([], |r| r.get::<_, String>(0))?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, _)
                    if f.code == rusqlite::ErrorCode::NotADatabase =>
                {
                    JournalError::NotAJournal {
                        path: p.clone(),
                        reason: "is not a ti-load journal (not an SQLite file); expected an existing journal, or a path where a new one is created".into(),
                    }
                }
                e => err(e),
            })?;
        if !tables.is_empty() && !tables.iter().any(|t| t == "meta") {
            return Err(JournalError::NotAJournal {
                path: p,
                reason: format!(
                    "is an SQLite database of something else (tables {}); expected a ti-load journal, or a path where a new one is created",
                    tables.join(", ")
                ),
            });
        }
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(err)?;
        conn.execute_batch(SCHEMA).map_err(err)?;
        Ok(Self {
            path: p,
            conn: Mutex::new(conn),
        })
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, JournalError> {
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&conn).map_err(|source| JournalError::Sqlite {
            path: self.path.clone(),
            source,
        })
    }

    /// The journal file.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// A `meta` value.
    ///
    /// # Errors
    /// [`JournalError::Sqlite`].
    pub fn meta(&self, key: &str) -> Result<Option<String>, JournalError> {
        self.with(|c| {
            c.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                .optional()
        })
    }

    /// Sets a `meta` value.
    ///
    /// # Errors
    /// [`JournalError::Sqlite`].
    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), JournalError> {
        self.with(|c| {
            c.execute("INSERT INTO meta(key, value) VALUES(?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [key, value])
                .map(|_| ())
        })
    }

    /// Binds the journal to a bundle: a fresh journal takes it; the same bundle is a resume; another bundle of the
    /// same `migration_id` is a delta (the journal then follows the new bundle); anything else is refused.
    ///
    /// # Errors
    /// [`JournalError::DifferentMigration`], [`JournalError::Sqlite`].
    pub fn bind(
        &self,
        bundle_id: &str,
        migration_id: Option<&str>,
    ) -> Result<Binding, JournalError> {
        let stored = self.meta("bundle_id")?;
        let stored_migration = self.meta("migration_id")?;
        match stored {
            None => {
                self.set_meta("bundle_id", bundle_id)?;
                if let Some(m) = migration_id {
                    self.set_meta("migration_id", m)?;
                }
                Ok(Binding::New)
            }
            Some(b) if b == bundle_id => Ok(Binding::Same),
            Some(b) => {
                if stored_migration.is_some() && stored_migration.as_deref() == migration_id {
                    self.set_meta("previous_bundle_id", &b)?;
                    self.set_meta("bundle_id", bundle_id)?;
                    Ok(Binding::Delta(b))
                } else {
                    Err(JournalError::DifferentMigration {
                        path: self.path.clone(),
                        journal_bundle: b,
                        journal_migration: stored_migration,
                        bundle: bundle_id.to_string(),
                        bundle_migration: migration_id.map(str::to_string),
                    })
                }
            }
        }
    }

    /// Checks, without changing anything, that a bundle may be read against this journal (audit): the journal's
    /// bundle, or another bundle of the same `migration_id`; a journal that never loaded a bundle takes none.
    ///
    /// # Errors
    /// [`JournalError::DifferentMigration`] (its `journal_bundle` is `(none)` for an unbound journal),
    /// [`JournalError::Sqlite`].
    pub fn check_bundle(
        &self,
        bundle_id: &str,
        migration_id: Option<&str>,
    ) -> Result<(), JournalError> {
        let stored = self.meta("bundle_id")?;
        let stored_migration = self.meta("migration_id")?;
        match stored {
            Some(b) if b == bundle_id => Ok(()),
            Some(_)
                if stored_migration.is_some() && stored_migration.as_deref() == migration_id =>
            {
                Ok(())
            }
            b => Err(JournalError::DifferentMigration {
                path: self.path.clone(),
                journal_bundle: b.unwrap_or_else(|| "(none)".into()),
                journal_migration: stored_migration,
                bundle: bundle_id.to_string(),
                bundle_migration: migration_id.map(str::to_string),
            }),
        }
    }

    /// The step row, when the step was ever started.
    ///
    /// # Errors
    /// [`JournalError::Sqlite`].
    pub fn step(&self, key: &str, step: &str) -> Result<Option<StepRow>, JournalError> {
        self.with(|c| {
            c.query_row(
                "SELECT key, step, state, intercom_id, outcome, detail, attempts, intent_at, first_intent_at FROM steps WHERE key = ?1 AND step = ?2",
                [key, step],
                step_row,
            )
            .optional()
        })
    }

    /// Every step of a record, in the order they were first started.
    ///
    /// # Errors
    /// [`JournalError::Sqlite`].
    pub fn steps_of(&self, key: &str) -> Result<Vec<StepRow>, JournalError> {
        self.with(|c| {
            let mut st = c.prepare(
                "SELECT key, step, state, intercom_id, outcome, detail, attempts, intent_at, first_intent_at FROM steps WHERE key = ?1 ORDER BY rowid",
            )?;
            st.query_map([key], step_row)?.collect()
        })
    }

    /// Commits the intent of a step (before its request is sent).
    ///
    /// # Errors
    /// [`JournalError::Sqlite`].
    pub fn intent(&self, key: &str, step: &str, bundle_id: &str) -> Result<(), JournalError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO steps(key, step, state, attempts, intent_at, first_intent_at, bundle_id) VALUES(?1, ?2, 'intent', 1, ?3, ?3, ?4)
                 ON CONFLICT(key, step) DO UPDATE SET state = 'intent', attempts = attempts + 1, intent_at = excluded.intent_at,
                 detail = NULL, bundle_id = excluded.bundle_id",
                params![key, step, now(), bundle_id],
            )
            .map(|_| ())
        })
    }

    /// Commits the outcome of a step (after its response): the Intercom id and `created`/`matched`/….
    ///
    /// # Errors
    /// [`JournalError::Sqlite`].
    pub fn step_done(
        &self,
        key: &str,
        step: &str,
        intercom_id: Option<&str>,
        outcome: &str,
    ) -> Result<(), JournalError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO steps(key, step, state, intercom_id, outcome, attempts, done_at) VALUES(?1, ?2, 'done', ?3, ?4, 0, ?5)
                 ON CONFLICT(key, step) DO UPDATE SET state = 'done', intercom_id = excluded.intercom_id, outcome = excluded.outcome,
                 detail = NULL, done_at = excluded.done_at",
                params![key, step, intercom_id, outcome, now()],
            )
            .map(|_| ())
        })
    }

    /// Forgets the intent of a step whose request Intercom certainly did not apply (401: the token was refused), so
    /// the next run sends it without a probe. A step in any other state is left alone.
    ///
    /// # Errors
    /// [`JournalError::Sqlite`].
    pub fn forget_intent(&self, key: &str, step: &str) -> Result<(), JournalError> {
        self.with(|c| {
            c.execute(
                "DELETE FROM steps WHERE key = ?1 AND step = ?2 AND state = 'intent'",
                params![key, step],
            )
            .map(|_| ())
        })
    }

    /// Marks a step failed with its reason (it is reconciled and retried on the next run).
    ///
    /// # Errors
    /// [`JournalError::Sqlite`].
    pub fn step_failed(&self, key: &str, step: &str, detail: &str) -> Result<(), JournalError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO steps(key, step, state, detail, attempts) VALUES(?1, ?2, 'failed', ?3, 0)
                 ON CONFLICT(key, step) DO UPDATE SET state = 'failed', detail = excluded.detail",
                params![key, step, detail],
            )
            .map(|_| ())
        })
    }

    /// The record row.
    ///
    /// # Errors
    /// [`JournalError::Sqlite`].
    pub fn record(&self, key: &str) -> Result<Option<RecordRow>, JournalError> {
        self.with(|c| {
            c.query_row(
                "SELECT key, kind, digest, intercom_id, status, outcome, error, bundle_id FROM records WHERE key = ?1",
                [key],
                record_row,
            )
            .optional()
        })
    }

    /// Every record row, by kind then key.
    ///
    /// # Errors
    /// [`JournalError::Sqlite`].
    pub fn records(&self) -> Result<Vec<RecordRow>, JournalError> {
        self.with(|c| {
            let mut st = c.prepare(
                "SELECT key, kind, digest, intercom_id, status, outcome, error, bundle_id FROM records ORDER BY kind, key",
            )?;
            st.query_map([], record_row)?.collect()
        })
    }

    /// Sets a record's row (status `done`/`failed`/`rolled_back`…).
    ///
    /// # Errors
    /// [`JournalError::Sqlite`].
    #[allow(clippy::too_many_arguments)]
    pub fn set_record(
        &self,
        key: &str,
        kind: &str,
        digest: Option<&str>,
        intercom_id: Option<&str>,
        status: &str,
        outcome: Option<&str>,
        error: Option<&str>,
        bundle_id: &str,
    ) -> Result<(), JournalError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO records(key, kind, digest, intercom_id, status, outcome, error, bundle_id, updated_at)
                 VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT(key) DO UPDATE SET kind = excluded.kind, digest = COALESCE(excluded.digest, records.digest),
                 intercom_id = COALESCE(excluded.intercom_id, records.intercom_id), status = excluded.status,
                 outcome = COALESCE(excluded.outcome, records.outcome), error = excluded.error, bundle_id = excluded.bundle_id,
                 updated_at = excluded.updated_at",
                params![key, kind, digest, intercom_id, status, outcome, error, bundle_id, now()],
            )
            .map(|_| ())
        })
    }

    /// Intercom ids of every done record, by key (the `$ref` table).
    ///
    /// # Errors
    /// [`JournalError::Sqlite`].
    pub fn done_ids(&self) -> Result<HashMap<String, String>, JournalError> {
        self.with(|c| {
            let mut st = c.prepare("SELECT key, intercom_id FROM records WHERE status = 'done' AND intercom_id IS NOT NULL")?;
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect()
        })
    }

    /// Stores the values a pre-existing object had before the migration changed them; an existing snapshot is
    /// kept (the first one is the true "before").
    ///
    /// # Errors
    /// [`JournalError::Sqlite`].
    pub fn snapshot(
        &self,
        key: &str,
        kind: &str,
        intercom_id: &str,
        before: &serde_json::Value,
    ) -> Result<(), JournalError> {
        self.with(|c| {
            c.execute(
                "INSERT OR IGNORE INTO snapshots(key, kind, intercom_id, before, taken_at) VALUES(?1, ?2, ?3, ?4, ?5)",
                params![key, kind, intercom_id, before.to_string(), now()],
            )
            .map(|_| ())
        })
    }

    /// Every snapshot: (key, kind, Intercom id, values before).
    ///
    /// # Errors
    /// [`JournalError::Sqlite`].
    pub fn snapshots(
        &self,
    ) -> Result<Vec<(String, String, String, serde_json::Value)>, JournalError> {
        self.with(|c| {
            let mut st =
                c.prepare("SELECT key, kind, intercom_id, before FROM snapshots ORDER BY key")?;
            st.query_map([], |r| {
                let before: String = r.get(3)?;
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    serde_json::from_str(&before).unwrap_or_default(),
                ))
            })?
            .collect()
        })
    }

    /// Appends a reconciliation line.
    ///
    /// # Errors
    /// [`JournalError::Sqlite`].
    pub fn add_reconciliation(
        &self,
        bundle_id: &str,
        line: &Reconciliation,
    ) -> Result<(), JournalError> {
        let text = serde_json::to_string(line).unwrap_or_default();
        self.with(|c| {
            c.execute(
                "INSERT INTO reconciliation(bundle_id, phase, line, at) VALUES(?1, ?2, ?3, ?4)",
                params![bundle_id, line.phase, text, now()],
            )
            .map(|_| ())
        })
    }

    /// Every reconciliation line written for `bundle_id`, oldest first.
    ///
    /// # Errors
    /// [`JournalError::Sqlite`].
    pub fn reconciliations(&self, bundle_id: &str) -> Result<Vec<Reconciliation>, JournalError> {
        self.with(|c| {
            let mut st =
                c.prepare("SELECT line FROM reconciliation WHERE bundle_id = ?1 ORDER BY id")?;
            st.query_map([bundle_id], |r| {
                let t: String = r.get(0)?;
                Ok(serde_json::from_str(&t).unwrap_or_default())
            })?
            .collect()
        })
    }

    /// Steps in a given state (e.g. `intent` = in flight, `failed`).
    ///
    /// # Errors
    /// [`JournalError::Sqlite`].
    pub fn steps_in_state(&self, state: &str) -> Result<Vec<StepRow>, JournalError> {
        self.with(|c| {
            let mut st = c.prepare(
                "SELECT key, step, state, intercom_id, outcome, detail, attempts, intent_at, first_intent_at FROM steps WHERE state = ?1 ORDER BY key, rowid",
            )?;
            st.query_map([state], step_row)?.collect()
        })
    }
}

fn step_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StepRow> {
    Ok(StepRow {
        key: r.get(0)?,
        step: r.get(1)?,
        state: r.get(2)?,
        intercom_id: r.get(3)?,
        outcome: r.get(4)?,
        detail: r.get(5)?,
        attempts: r.get(6)?,
        intent_at: r.get(7)?,
        first_intent_at: r.get(8)?,
    })
}

fn record_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RecordRow> {
    Ok(RecordRow {
        key: r.get(0)?,
        kind: r.get(1)?,
        digest: r.get(2)?,
        intercom_id: r.get(3)?,
        status: r.get(4)?,
        outcome: r.get(5)?,
        error: r.get(6)?,
        bundle_id: r.get(7)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intent_then_done_and_bundle_binding() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(&dir.path().join("j.sqlite")).unwrap();
        assert_eq!(j.bind("b1", Some("m1")).unwrap(), Binding::New);
        assert_eq!(j.bind("b1", Some("m1")).unwrap(), Binding::Same);
        j.intent("contact:1", "create", "b1").unwrap();
        assert_eq!(
            j.step("contact:1", "create").unwrap().unwrap().state,
            "intent"
        );
        j.step_done("contact:1", "create", Some("abc"), "created")
            .unwrap();
        let s = j.step("contact:1", "create").unwrap().unwrap();
        assert_eq!(
            (s.state.as_str(), s.intercom_id.as_deref(), s.attempts),
            ("done", Some("abc"), 1)
        );
        j.set_record(
            "contact:1",
            "contact",
            Some("d"),
            Some("abc"),
            "done",
            Some("created"),
            None,
            "b1",
        )
        .unwrap();
        assert_eq!(j.done_ids().unwrap()["contact:1"], "abc");
        assert_eq!(
            j.bind("b2", Some("m1")).unwrap(),
            Binding::Delta("b1".into())
        );
        assert!(matches!(
            j.bind("b3", Some("other")),
            Err(JournalError::DifferentMigration { .. })
        ));
        j.snapshot("contact:1", "contact", "abc", &serde_json::json!({"a": 1}))
            .unwrap();
        j.snapshot("contact:1", "contact", "abc", &serde_json::json!({"a": 2}))
            .unwrap();
        assert_eq!(j.snapshots().unwrap()[0].3["a"], 1);
    }

    #[test]
    fn check_bundle_changes_nothing_and_refuses_other_migrations() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(&dir.path().join("j.sqlite")).unwrap();
        assert!(j.check_bundle("b1", Some("m1")).is_err(), "unbound journal");
        assert_eq!(j.meta("bundle_id").unwrap(), None);
        j.bind("b1", Some("m1")).unwrap();
        j.check_bundle("b1", Some("m1")).unwrap();
        j.check_bundle("b0", Some("m1")).unwrap();
        assert!(matches!(
            j.check_bundle("s1", Some("seed")),
            Err(JournalError::DifferentMigration { .. })
        ));
        assert_eq!(j.meta("bundle_id").unwrap().as_deref(), Some("b1"));
    }
}
