//! The rows the journal hands out: steps, records, reconciliation lines.

use serde::Serialize;

/// One step row.
#[derive(Debug, Clone, Serialize)]
pub struct StepRow {
    /// Record key.
    pub key: String,
    /// Step name.
    pub step: String,
    /// `intent`, `done` or `failed`.
    pub state: String,
    /// Intercom id produced by the step, when any.
    pub intercom_id: Option<String>,
    /// `created`, `matched`, `updated`, or a detail.
    pub outcome: Option<String>,
    /// Failure reason.
    pub detail: Option<String>,
    /// Requests started for this step.
    pub attempts: i64,
    /// Unix seconds when the last intent was committed.
    pub intent_at: Option<f64>,
    /// Unix seconds when the first intent was committed.
    pub first_intent_at: Option<f64>,
}

/// One record row.
#[derive(Debug, Clone, Serialize)]
pub struct RecordRow {
    /// Record key.
    pub key: String,
    /// Kind (`contact`…).
    pub kind: String,
    /// Digest of the body last loaded.
    pub digest: Option<String>,
    /// Intercom id.
    pub intercom_id: Option<String>,
    /// `done`, `failed`, `pending` or `rolled_back`.
    pub status: String,
    /// `created`, `matched`, `updated`, `unchanged`.
    pub outcome: Option<String>,
    /// Failure reason.
    pub error: Option<String>,
    /// Bundle that last touched the record.
    pub bundle_id: Option<String>,
}

/// One reconciliation line.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq)]
pub struct Reconciliation {
    /// Phase name.
    pub phase: String,
    /// Records the bundle holds for the phase.
    pub expected: u64,
    /// Created in Intercom (this run).
    pub created: u64,
    /// Matched to an object that already existed.
    pub matched: u64,
    /// Updated (delta: changed records).
    pub updated: u64,
    /// Skipped: already done in an earlier run, or unchanged in a delta.
    pub skipped: u64,
    /// Failed.
    pub failed: u64,
    /// Wall time, seconds.
    pub secs: f64,
    /// API requests made by the phase.
    pub requests: u64,
}

impl std::fmt::Display for Reconciliation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "phase {}: expected {}, created {}, matched existing {}, updated {}, skipped {}, failed {} ({} requests, {:.1}s)",
            self.phase,
            self.expected,
            self.created,
            self.matched,
            self.updated,
            self.skipped,
            self.failed,
            self.requests,
            self.secs
        )
    }
}
