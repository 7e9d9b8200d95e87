//! `ti-transform`: the second stage of the Track-It! → Intercom migration (DESIGN.md §6, issue 7). Reads an
//! extract bundle, applies a profile (transform/profiles/*.toml) and the site's confirmed mapping, and writes a
//! load bundle: Intercom-shaped records (docs/records.md), attachment blobs, gap datasets and the migration
//! report. Deterministic: the same input and mapping give the same bundle_id.

pub mod articles;
pub mod attachments;
pub mod attributes;
pub mod codec;
pub mod companies;
pub mod conversations;
pub mod ctx;
pub mod error;
pub mod explain;
pub mod gaps;
pub mod gaps_parquet;
pub mod interrupt;
pub mod ledger;
pub mod line;
pub mod mapping;
pub mod model;
pub mod omitted;
pub mod output;
pub mod people;
pub mod profile;
pub mod propose;
pub mod read;
pub mod report;
pub mod run;
pub mod sample;
pub mod select;
pub mod source;
pub mod stream;
pub mod text;
pub mod ticket_text;
pub mod time;
pub mod windows;

pub use error::{Result, TransformError};

/// `propose`: opens and verifies the extract, picks the profile (`auto` detects it) and returns the mapping text.
///
/// # Errors
/// Bundle verification, an unknown or undetectable profile, read failures.
pub fn propose_file(extract: &std::path::Path, profile: &str) -> Result<String> {
    let bundle =
        ti_shared::bundle::Bundle::open_kind(extract, ti_shared::bundle::BundleKind::Extract)?;
    let source = source::SourceTables::from_bundle(&bundle)?;
    let profile_obj = if profile == "auto" {
        profile::Profile::detect(source.inventory())?
    } else {
        profile::Profile::built_in(profile)?
    };
    let profile_ref = if profile.ends_with(".toml") {
        profile.to_string()
    } else {
        profile_obj.name.clone()
    };
    propose::propose(&source, &profile_obj, &profile_ref)
}
