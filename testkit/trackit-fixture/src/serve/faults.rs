//! Faults on demand (`--fault SPEC`, repeatable):
//! - `delay-ms=N`: wait N ms before answering every request;
//! - `drop-after-rows=N[:table][@times]`: close the connection after N rows of a result reading `table`
//!   (`schema.object` or `object`, case-insensitive; any table when omitted), the first `times` times (default 1);
//! - `error-after-rows=N[:table][@times]`: after N rows send error 50000 and end the result (same matching);
//! - `refuse-logins=N`: close the first N connections right after accept, before PRELOGIN.

use std::sync::atomic::{AtomicU64, Ordering};

/// What to do mid-result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowFaultKind {
    /// Close the socket.
    Drop,
    /// Send an ERROR token and end the result.
    Error,
}

/// A row-count fault.
#[derive(Debug)]
pub struct RowFault {
    /// Drop or error.
    pub kind: RowFaultKind,
    /// Rows sent before the fault.
    pub after: u64,
    /// Table filter (lower-case), None = any.
    pub table: Option<String>,
    /// Remaining times it fires.
    pub remaining: AtomicU64,
}

/// All faults of a server.
#[derive(Debug, Default)]
pub struct Faults {
    /// Delay before each response, in ms.
    pub delay_ms: u64,
    /// Logins still to refuse.
    pub refuse_logins: AtomicU64,
    /// Row faults.
    pub rows: Vec<RowFault>,
}

/// A malformed `--fault`.
#[derive(Debug, thiserror::Error)]
#[error(
    "bad --fault '{0}': expected delay-ms=N, drop-after-rows=N[:table][@times], error-after-rows=N[:table][@times] or refuse-logins=N"
)]
pub struct FaultError(pub String);

impl Faults {
    /// Parses the `--fault` values.
    ///
    /// # Errors
    /// [`FaultError`] for an unknown or malformed spec.
    pub fn parse(specs: &[String]) -> Result<Faults, FaultError> {
        let mut f = Faults::default();
        for spec in specs {
            let bad = || FaultError(spec.clone());
            let (k, v) = spec.split_once('=').ok_or_else(bad)?;
            match k {
                "delay-ms" => f.delay_ms = v.parse().map_err(|_| bad())?,
                "refuse-logins" => f.refuse_logins = AtomicU64::new(v.parse().map_err(|_| bad())?),
                "drop-after-rows" | "error-after-rows" => {
                    let (v, times) = match v.rsplit_once('@') {
                        Some((a, t)) => (a, t.parse().map_err(|_| bad())?),
                        None => (v, 1),
                    };
                    let (n, table) = match v.split_once(':') {
                        Some((n, t)) => (n, Some(t.to_lowercase())),
                        None => (v, None),
                    };
                    f.rows.push(RowFault {
                        kind: if k == "drop-after-rows" {
                            RowFaultKind::Drop
                        } else {
                            RowFaultKind::Error
                        },
                        after: n.parse().map_err(|_| bad())?,
                        table,
                        remaining: AtomicU64::new(times),
                    });
                }
                _ => return Err(bad()),
            }
        }
        Ok(f)
    }

    /// True when this connection must be refused (consumes one refusal).
    pub fn refuse_login(&self) -> bool {
        self.refuse_logins
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }

    /// The row fault armed for a result reading `tables` (`schema.object`), if any: (index, kind, rows before it).
    pub fn arm(&self, tables: &[String]) -> Option<(usize, RowFaultKind, u64)> {
        for (i, r) in self.rows.iter().enumerate() {
            let hit = match &r.table {
                None => !tables.is_empty(),
                Some(t) => tables.iter().any(|x| {
                    let x = x.to_lowercase();
                    x == *t || x.split_once('.').is_some_and(|(_, o)| o == t)
                }),
            };
            if hit && r.remaining.load(Ordering::SeqCst) > 0 {
                return Some((i, r.kind, r.after));
            }
        }
        None
    }

    /// Consumes one of the fault's `times`; false when it is used up (then it does not fire).
    pub fn fire(&self, index: usize) -> bool {
        self.rows.get(index).is_some_and(|r| {
            r.remaining
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
        })
    }
}
