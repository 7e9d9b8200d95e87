//! `[load]`: the journal and the phases of `ti-load`.

use serde::{Deserialize, Serialize};

/// The load phases in dependency order (DESIGN.md §7).
pub const ALL_PHASES: &[&str] = &[
    "preflight",
    "attributes",
    "companies",
    "contacts",
    "conversations",
    "collections",
    "articles",
    "notes",
    "verify",
];

/// `[load]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoadConfig {
    /// Journal file; everything `ti-load` writes goes into its folder. Default `state/journal.sqlite`.
    pub journal: String,
    /// Phases to run, a subset of `preflight, attributes, companies, contacts, conversations, collections,
    /// articles, notes, verify`, always run in that order. Default: all.
    pub phases: Vec<String>,
    /// The operator confirms the workspace checklist (workflows, CSAT surveys, SLAs and outbound messages paused;
    /// attachment types allowed). Default false: the run stops at preflight until confirmed.
    pub workspace_ready: bool,
    /// Email of the admin who posts parts whose author matched no admin; empty = unmatched technicians stop
    /// the run (default).
    pub fallback_admin_email: String,
    /// Tag put on every migrated contact, company and conversation. Default `Migrated from Track-It!`.
    pub migration_tag: String,
    /// Go on to the next phase even when a phase had failures. Default false.
    pub continue_on_failure: bool,
    /// Attempts per request before the record is marked failed (5xx, timeouts, resets). Default 5.
    pub max_attempts: u32,
}

impl Default for LoadConfig {
    fn default() -> Self {
        Self {
            journal: "state/journal.sqlite".into(),
            phases: ALL_PHASES.iter().map(|s| s.to_string()).collect(),
            workspace_ready: false,
            fallback_admin_email: String::new(),
            migration_tag: "Migrated from Track-It!".into(),
            continue_on_failure: false,
            max_attempts: 5,
        }
    }
}

impl LoadConfig {
    pub(super) fn validate(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for phase in &self.phases {
            if !ALL_PHASES.contains(&phase.as_str()) {
                problems.push(format!(
                    "load.phases: unknown phase {phase:?} (known: {})",
                    ALL_PHASES.join(", ")
                ));
            }
        }
        if self.max_attempts == 0 {
            problems.push("load.max_attempts must be at least 1".into());
        }
        problems
    }
}
