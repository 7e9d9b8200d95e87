//! `ti-load`: the third stage of the Track-It! → Intercom migration. It replays a verified load bundle
//! (docs/records.md) into an Intercom workspace, resumably and at the full allowed rate, then audits and can roll
//! back what it did (DESIGN.md §7, issue 8).
//!
//! Modules: [`client`] (HTTP, errors, retries) and [`limiter`] (shared rate limit); [`journal`] (SQLite WAL, one
//! row per step); [`context`] (the exactly-once step runner); [`resolve`] (`$ref`/`$admin`); [`preflight`]; [`consistency`] (record files against the transform's counts);
//! [`kinds`] and [`conversation`] (each record kind, with its probes); [`phases`] (order, workers,
//! reconciliation); [`run`]; [`plan`]; [`status`]; [`audit`]; [`rollback`]; [`report`] (crossref, HTML report);
//! [`progress`]; [`traces`] (an earlier run's traces, refused with a fresh journal).

pub mod audit;
pub mod client;
pub mod consistency;
pub mod context;
pub mod conversation;
pub mod dryrun;
pub mod journal;
pub mod kinds;
pub mod limiter;
pub mod phases;
pub mod plan;
pub mod preflight;
pub mod progress;
pub mod report;
pub mod resolve;
pub mod rollback;
pub mod run;
pub mod status;
pub mod traces;
pub mod verify;

/// The load phases in dependency order (DESIGN.md §7; same list as `[load] phases`).
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
