//! `[transform]`: profile, mapping, sampling and attachment policy of `ti-transform`.

use serde::{Deserialize, Serialize};

/// `[transform]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TransformConfig {
    /// `auto` (default: detected from the inventory), `classic` (11.x), `web` (20xx) or `seed` (HD* names).
    pub profile: String,
    /// Path of the confirmed mapping. Default `mapping.toml`.
    pub mapping: String,
    /// Take only this many tickets (with what they reference) for a pilot; 0 = all (default).
    pub sample: u64,
    /// Attachment extensions listed instead of sent (case-insensitive, without dot). Default: the executables and
    /// scripts of `ti_shared::attachments::DEFAULT_RESTRICTED_EXTENSIONS`.
    pub restricted_extensions: Vec<String>,
    /// Attachments larger than this are listed instead of sent, bytes. Default 20 MiB.
    pub max_attachment_bytes: u64,
    /// Conversations with more parts are split into linked conversations. Default 400 (Intercom shows 500).
    pub max_parts_per_conversation: u64,
    /// Tickets per window: bounds the memory held for notes, history rows and attachments while conversations
    /// are built (issue 7); the output does not change. `ti-transform run --window-tickets` overrides it; 0
    /// counts as 1. Default [`DEFAULT_WINDOW_TICKETS`] (10,000).
    pub window_tickets: usize,
}

/// Default of [`TransformConfig::window_tickets`]. At about 4 notes and a few KiB of text per ticket, 10,000
/// tickets hold some tens of MiB of rows.
pub const DEFAULT_WINDOW_TICKETS: usize = 10_000;

impl Default for TransformConfig {
    fn default() -> Self {
        Self {
            profile: "auto".into(),
            mapping: "mapping.toml".into(),
            sample: 0,
            restricted_extensions: crate::attachments::DEFAULT_RESTRICTED_EXTENSIONS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            max_attachment_bytes: 20 << 20,
            max_parts_per_conversation: 400,
            window_tickets: DEFAULT_WINDOW_TICKETS,
        }
    }
}

impl TransformConfig {
    pub(super) fn validate(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !matches!(self.profile.as_str(), "auto" | "classic" | "web" | "seed") {
            problems.push(format!(
                "transform.profile must be auto, classic, web or seed, not {:?}",
                self.profile
            ));
        }
        if self.window_tickets == 0 {
            problems.push("transform.window_tickets must be at least 1".into());
        }
        if !(2..=500).contains(&self.max_parts_per_conversation) {
            problems.push("transform.max_parts_per_conversation must be between 2 and 500".into());
        }
        problems
    }
}
