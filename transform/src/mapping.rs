//! `mapping.toml`: the site's reviewed decisions. `propose` writes it with every decision marked `proposed` and
//! a reason (as comments); the consultant edits it and sets `confirmed = true`; `run` refuses it otherwise, or
//! when its `schema_fingerprint` is not the extract's (docs/mapping.md).

use crate::error::{Result, TransformError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// `[people]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PeopleRules {
    /// `lowercase` (default) or `keep`: the local part of emails.
    pub email_local_part: String,
    /// Merge contacts that share an email (default true).
    pub merge_shared_email: bool,
}

impl Default for PeopleRules {
    fn default() -> Self {
        Self {
            email_local_part: "lowercase".into(),
            merge_shared_email: true,
        }
    }
}

/// `[companies]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CompanyRules {
    /// `domain`, `department` or `location`.
    pub grouping: String,
}

impl Default for CompanyRules {
    fn default() -> Self {
        Self {
            grouping: "department".into(),
        }
    }
}

/// `[attachments]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttachmentRules {
    /// Files over this size are listed, not sent (bytes).
    pub max_bytes: u64,
    /// Extensions listed, not sent (case-insensitive, no dot).
    pub restricted_extensions: Vec<String>,
}

impl Default for AttachmentRules {
    fn default() -> Self {
        let c = ti_shared::config::TransformConfig::default();
        Self {
            max_bytes: c.max_attachment_bytes,
            restricted_extensions: c.restricted_extensions,
        }
    }
}

/// `[conversations]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConversationRules {
    /// Parts per conversation before a split (default 400; Intercom reads at most 500).
    pub max_parts: usize,
}

impl Default for ConversationRules {
    fn default() -> Self {
        Self { max_parts: 400 }
    }
}

/// One `[[attribute]]`: a ticket column carried as a conversation attribute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeMap {
    /// Physical column of the ticket table.
    pub column: String,
    /// Intercom attribute name (sanitised, unique).
    pub name: String,
    /// `string`, `integer`, `decimal`, `boolean` or `datetime`.
    pub data_type: String,
    /// false = not migrated.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Up to 5 sample values (informational).
    #[serde(default)]
    pub samples: Vec<String>,
}

fn yes() -> bool {
    true
}

/// The whole mapping file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// Set to true by the consultant after review.
    #[serde(default)]
    pub confirmed: bool,
    /// Migration id carried into the load bundle and Intercom tags.
    pub migration_id: String,
    /// Schema fingerprint of the inventory this mapping was made for.
    pub schema_fingerprint: String,
    /// Profile name.
    pub profile: String,
    /// IANA zone of zone-less source datetimes.
    pub source_time_zone: String,
    /// `YYYY-MM-DD`: only tickets opened on or after it; empty = all.
    #[serde(default)]
    pub cutoff_date: String,
    /// People rules.
    #[serde(default)]
    pub people: PeopleRules,
    /// Company grouping.
    #[serde(default)]
    pub companies: CompanyRules,
    /// Attachment policy.
    #[serde(default)]
    pub attachments: AttachmentRules,
    /// Conversation split rule.
    #[serde(default)]
    pub conversations: ConversationRules,
    /// Status text → `open` | `closed`.
    #[serde(default)]
    pub status: BTreeMap<String, String>,
    /// Priority text (trimmed) → `ti_priority__c` value; empty value = none.
    #[serde(default)]
    pub priority: BTreeMap<String, String>,
    /// Note type → `comment` | `note` | `description`.
    #[serde(default)]
    pub note_types: BTreeMap<String, String>,
    /// Ticket columns carried as conversation attributes.
    #[serde(default, rename = "attribute")]
    pub attributes: Vec<AttributeMap>,
    /// Top-level keys and sections present in the file, recorded by [`Mapping::parse`]: tells a deleted section
    /// from an explicitly empty one ([`Mapping::check_sections`]). Not serialised, so not part of the digest.
    #[serde(skip)]
    pub present: BTreeSet<String>,
}

/// Sections `propose` always writes; a confirmed mapping without one of them is refused
/// ([`Mapping::check_sections`]). `[[attribute]]` is required as well when the ticket table has columns to carry.
pub const REQUIRED_SECTIONS: [&str; 7] = [
    "people",
    "companies",
    "attachments",
    "conversations",
    "status",
    "priority",
    "note_types",
];

impl Mapping {
    /// Parses a mapping file's text.
    ///
    /// # Errors
    /// [`TransformError::Usage`] naming the TOML problem.
    pub fn parse(text: &str, path: &str) -> Result<Self> {
        let mut m: Mapping = toml::from_str(text)
            .map_err(|e| TransformError::Usage(format!("mapping {path}: {e}")))?;
        m.present = toml::from_str::<toml::Table>(text)
            .map(|t| t.keys().cloned().collect())
            .unwrap_or_default();
        m.validate(path)?;
        Ok(m)
    }

    fn validate(&self, path: &str) -> Result<()> {
        let bad = |what: String| Err(TransformError::Usage(format!("mapping {path}: {what}")));
        for (k, v) in &self.status {
            if v != "open" && v != "closed" {
                return bad(format!("status {k:?} = {v:?}: use \"open\" or \"closed\""));
            }
        }
        for (k, v) in &self.note_types {
            if !matches!(v.as_str(), "comment" | "note" | "description") {
                return bad(format!(
                    "note_types {k:?} = {v:?}: use \"comment\", \"note\" or \"description\""
                ));
            }
        }
        if !matches!(
            self.companies.grouping.as_str(),
            "domain" | "department" | "location"
        ) {
            return bad(
                "companies.grouping must be \"domain\", \"department\" or \"location\"".into(),
            );
        }
        if !matches!(self.people.email_local_part.as_str(), "lowercase" | "keep") {
            return bad("people.email_local_part must be \"lowercase\" or \"keep\"".into());
        }
        if !(2..=500).contains(&self.conversations.max_parts) {
            return bad("conversations.max_parts must be between 2 and 500".into());
        }
        if !self.cutoff_date.is_empty()
            && chrono::NaiveDate::parse_from_str(&self.cutoff_date, "%Y-%m-%d").is_err()
        {
            return bad(format!(
                "cutoff_date {:?} is not YYYY-MM-DD",
                self.cutoff_date
            ));
        }
        let mut names: BTreeMap<&str, &str> = BTreeMap::new();
        for a in self.attributes.iter().filter(|a| a.enabled) {
            if let Some(first) = names.insert(a.name.as_str(), a.column.as_str()) {
                return bad(format!(
                    "attribute name {:?} is given to both column {first} and column {}: one would overwrite the \
                     other; rename one or set enabled = false",
                    a.name, a.column
                ));
            }
        }
        for a in &self.attributes {
            if !matches!(
                a.data_type.as_str(),
                "string" | "integer" | "decimal" | "boolean" | "datetime"
            ) {
                return bad(format!(
                    "attribute {}: data_type {:?} unknown",
                    a.name, a.data_type
                ));
            }
            if a.name.is_empty()
                || !a
                    .name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            {
                return bad(format!(
                    "attribute name {:?}: use only a-z, 0-9 and _",
                    a.name
                ));
            }
        }
        Ok(())
    }

    /// Refuses a mapping from which a section `propose` always writes was deleted ([`REQUIRED_SECTIONS`], and
    /// `[[attribute]]` when `attributes_expected`, i.e. the ticket table has columns to carry): without `[status]`
    /// every ticket would stay open, without `[note_types]` every public reply would become an internal note,
    /// without `[[attribute]]` the custom fields would vanish, all silently. An explicitly empty section
    /// (`[status]` with no entries, `attribute = []` before the first section) is a decision and is allowed; the
    /// values it leaves unmapped are listed in `gaps/unmapped_values.csv` (docs/mapping.md).
    ///
    /// # Errors
    /// [`TransformError::Usage`] (exit 2) naming the mapping file and every missing section.
    pub fn check_sections(&self, path: &str, attributes_expected: bool) -> Result<()> {
        let mut missing: Vec<String> = REQUIRED_SECTIONS
            .iter()
            .filter(|s| !self.present.contains(**s))
            .map(|s| format!("[{s}]"))
            .collect();
        if attributes_expected && !self.present.contains("attribute") {
            missing.push("[[attribute]]".into());
        }
        if missing.is_empty() {
            return Ok(());
        }
        Err(TransformError::Usage(format!(
            "mapping {path}: section(s) {} missing; `ti-transform propose` writes every one of them and a run \
             without them would lose data silently (tickets left open, replies made internal notes, custom fields \
             dropped): restore them from a new proposal, or keep an empty section (e.g. `[status]` with no entries, \
             `attribute = []` before the first section) to decide that deliberately",
            missing.join(", ")
        )))
    }

    /// Status of a ticket's status text: the mapped value (exact, then case-insensitive), `None` when unmapped.
    pub fn status_of(&self, text: &str) -> Option<&str> {
        let t = text.trim();
        self.status
            .get(t)
            .or_else(|| {
                self.status
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(t))
                    .map(|(_, v)| v)
            })
            .map(String::as_str)
    }

    /// Refuses an unconfirmed mapping or one made for another schema.
    ///
    /// # Errors
    /// [`TransformError::Unconfirmed`] or [`TransformError::Fingerprint`].
    pub fn check(&self, path: &str, fingerprint: &str) -> Result<()> {
        if !self.confirmed {
            return Err(TransformError::Unconfirmed { path: path.into() });
        }
        if self.schema_fingerprint != fingerprint {
            return Err(TransformError::Fingerprint {
                path: path.into(),
                mapping: self.schema_fingerprint.clone(),
                bundle: fingerprint.into(),
            });
        }
        Ok(())
    }

    /// Checks the mapping against the extract it is run on, before anything is written (issue 7): the profile
    /// exists and its ticket table is in the inventory (else the extract is of another Track-It! version), the
    /// sections `propose` writes are there ([`Mapping::check_sections`]), the time zone is valid, every enabled
    /// attribute column is a column of the ticket table (or of its join), and
    /// every table the profile reads is in the bundle whole ([`SourceTables::check_complete`]).
    ///
    /// # Errors
    /// [`TransformError::Usage`] naming the mapping file; [`TransformError::Incomplete`] or
    /// [`TransformError::Inconsistent`] from the bundle check.
    pub fn check_source(&self, path: &str, source: &crate::source::SourceTables) -> Result<()> {
        let usage = |what: String| TransformError::Usage(format!("mapping {path}: {what}"));
        let profile = crate::profile::Profile::built_in(&self.profile).map_err(|e| match e {
            TransformError::Usage(m) => usage(m),
            other => other,
        })?;
        let inventory = source.inventory();
        check_profile_fits(&profile, inventory).map_err(|m| {
            usage(format!(
                "{m}, or run `ti-transform propose` with that profile and carry your decisions over"
            ))
        })?;
        self.check_sections(
            path,
            !crate::propose::attribute_columns(&profile, inventory).is_empty(),
        )?;
        crate::time::Clock::new(&self.source_time_zone, false).map_err(usage)?;
        let ticket = profile.object("ticket").cloned().unwrap_or_default();
        let table = inventory.object(&ticket.table);
        let joined = ticket
            .join
            .as_ref()
            .filter(|j| inventory.object(&j.table).is_some());
        for a in self.attributes.iter().filter(|a| a.enabled) {
            let in_table = table.is_some_and(|t| t.column(&a.column).is_some());
            let in_join = joined.is_some_and(|j| {
                j.columns.iter().any(|c| c.eq_ignore_ascii_case(&a.column))
                    && inventory
                        .object(&j.table)
                        .is_some_and(|t| t.column(&a.column).is_some())
            });
            if !in_table && !in_join {
                return Err(usage(format!(
                    "attribute {}: column {:?} is not a column of {}{}: correct the column name or set \
                     enabled = false",
                    a.name,
                    a.column,
                    ticket.table,
                    joined.map_or_else(String::new, |j| format!(" (nor of its join {})", j.table))
                )));
            }
        }
        source.check_complete(&profile.tables())
    }

    /// The canonical digest of the mapping's decisions (recorded in the report).
    pub fn digest(&self) -> String {
        ti_shared::canonical::digest(&serde_json::to_value(self).unwrap_or_default())
    }
}

/// `Err(reason)` when the profile's ticket table is not in the inventory: the extract is of another Track-It!
/// version than the profile describes. The reason names the table the profile expects and, when another built-in
/// profile fits, that profile ("…: use --profile classic").
pub fn check_profile_fits(
    profile: &crate::profile::Profile,
    inventory: &crate::source::Inventory,
) -> std::result::Result<(), String> {
    let Some(ticket) = profile.object("ticket") else {
        return Ok(());
    };
    if inventory.object(&ticket.table).is_some() {
        return Ok(());
    }
    let hint = match crate::profile::Profile::detect(inventory) {
        Ok(other) => format!(
            "this extract looks like {} ({}): use --profile {}",
            other.name,
            other
                .object("ticket")
                .map(|o| o.table.as_str())
                .unwrap_or(""),
            other.name
        ),
        Err(_) => {
            "this extract has no ticket table any built-in profile knows: pass a site profile file"
                .into()
        }
    };
    Err(format!(
        "profile {} expects tickets in {}, which this extract does not have; {hint}",
        profile.name, ticket.table
    ))
}

/// Intercom-safe attribute name: ASCII lower-case letters, digits and `_` (the safe subset of
/// intercom-api.md §7), runs of anything else as one `_`, no leading/trailing `_`.
pub fn sanitise_attribute_name(raw: &str) -> String {
    let mut out = String::new();
    for c in raw.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let trimmed = out.trim_start_matches('_').to_string();
    // Keep the `__c` suffix convention intact.
    if trimmed.ends_with("__c") {
        trimmed
    } else {
        trimmed.trim_end_matches('_').to_string()
    }
}

/// The conversation attribute name of a ticket column: `ti_<sanitised column>__c`, made unique against `taken`.
pub fn attribute_name_for(column: &str, taken: &mut std::collections::BTreeSet<String>) -> String {
    let base = format!(
        "ti_{}",
        sanitise_attribute_name(column).trim_end_matches('_')
    );
    let mut name = format!("{base}__c");
    let mut n = 2;
    while taken.contains(&name) {
        name = format!("{base}_{n}__c");
        n += 1;
    }
    taken.insert(name.clone());
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_names_are_sanitised_and_unique() {
        let mut taken = std::collections::BTreeSet::new();
        assert_eq!(attribute_name_for("WO_TEXT1", &mut taken), "ti_wo_text1__c");
        assert_eq!(
            attribute_name_for("wo text1", &mut taken),
            "ti_wo_text1_2__c"
        );
        assert_eq!(
            attribute_name_for("Cost €/Centre", &mut taken),
            "ti_cost_centre__c"
        );
    }
}
