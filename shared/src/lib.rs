//! `ti-shared`: what the three stages of the Track-It! → Intercom migration share.
//!
//! - [`bundle`]: the on-disk bundle format (DESIGN.md §4), writer and verifying reader;
//! - [`config`]: `pipeline.toml` (DESIGN.md §9);
//! - [`records`]: load-bundle record lines (DESIGN.md §6);
//! - [`report`]: summary tables printed as text and saved as JSON;
//! - [`attachments`]: the restricted-extension list used by transform and the simulator;
//! - [`canonical`]: canonical JSON for ids and digests;
//! - [`cli`]: exit codes, common flags, logging and `verify`.

pub mod attachments;
pub mod bundle;
pub mod canonical;
pub mod cli;
pub mod config;
pub mod records;
pub mod report;
