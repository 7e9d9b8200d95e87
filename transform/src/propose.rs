//! `ti-transform propose`: a complete, commented mapping with every decision `proposed` and a reason.

use crate::error::Result;
use crate::mapping::attribute_name_for;
use crate::model::load;
use crate::people::{domain, normalise_email};
use crate::profile::Profile;
use crate::source::{Cell, SourceTables, format_float};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

fn q(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// Conversation attribute type of a SQL Server column type.
pub fn attribute_type(sql_type: &str) -> &'static str {
    match sql_type.to_lowercase().as_str() {
        "int" | "bigint" | "smallint" | "tinyint" => "integer",
        "real" | "float" | "decimal" | "numeric" | "money" | "smallmoney" => "decimal",
        "bit" => "boolean",
        "datetime" | "smalldatetime" | "datetime2" | "date" | "datetimeoffset" => "datetime",
        _ => "string",
    }
}

/// The proposed status of a status name: closed for closed/completed/resolved/cancelled wording, else open.
pub fn propose_status(name: &str) -> &'static str {
    let l = name.to_lowercase();
    if ["closed", "complete", "resolved", "cancel", "done"]
        .iter()
        .any(|w| l.contains(w))
    {
        "closed"
    } else {
        "open"
    }
}

/// The proposed priority label: `1-Low`, `2 - Medium`, `URGENT`, `high ` → `Low`, `Medium`, `Urgent`, `High`.
pub fn propose_priority(raw: &str) -> String {
    let t = raw
        .trim()
        .trim_start_matches(|c: char| c.is_ascii_digit() || c == '-' || c == ' ' || c == '.')
        .trim();
    let mut chars = t.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().collect::<String>() + &chars.as_str().to_lowercase(),
        None => String::new(),
    }
}

/// The proposed use of a note type: descriptions, emails/messages to the customer, internal notes.
pub fn propose_note_type(name: &str) -> &'static str {
    let l = name.to_lowercase();
    if l.contains("description") {
        "description"
    } else if l.contains("email")
        || l.contains("message")
        || l.contains("reply")
        || l.contains("customer")
    {
        "comment"
    } else {
        "note"
    }
}

/// Builds the mapping text for `source` with `profile`.
///
/// `profile_ref` is what the mapping's `profile` key names: a built-in name or a site profile file path.
///
/// # Errors
/// [`crate::TransformError::Usage`] when the profile's ticket table is not in the extract (a mapping of it would
/// migrate no tickets; [`crate::mapping::check_profile_fits`]); Parquet read failures.
pub fn propose(source: &SourceTables, profile: &Profile, profile_ref: &str) -> Result<String> {
    let inv = source.inventory();
    crate::mapping::check_profile_fits(profile, inv).map_err(crate::TransformError::Usage)?;
    let fingerprint = inv.fingerprint();
    let (zone, zone_reason) = crate::time::propose_zone(
        inv.server.time_zone.as_deref(),
        inv.server.utc_offset_minutes,
    );

    // Status names: lookup table, then the text on tickets.
    let (status_rows, _) = load(source, profile, "status_lookup", |r| r.text("name"))?;
    let mut statuses: BTreeMap<String, u64> = BTreeMap::new();
    for s in status_rows.into_iter().flatten() {
        statuses.entry(s.trim().to_string()).or_insert(0);
    }
    let mut priorities: BTreeMap<String, u64> = BTreeMap::new();
    let udf_cols = attribute_columns(profile, inv);
    let mut samples: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut filled: BTreeMap<String, u64> = BTreeMap::new();
    let (_, _) = load(source, profile, "ticket", |r| {
        if let Some(s) = r.text("status") {
            *statuses.entry(s.trim().to_string()).or_insert(0) += 1;
        }
        if let Some(p) = r.text("priority")
            && !p.trim().is_empty()
        {
            *priorities.entry(p.trim().to_string()).or_insert(0) += 1;
        }
        for (col, _, _) in &udf_cols {
            let text = match r.column(col) {
                Cell::Null => None,
                Cell::Float(f) => Some(format_float(f)),
                Cell::Local(t) | Cell::Utc(t) => Some(t.format("%Y-%m-%d %H:%M").to_string()),
                _ => r.column_text(col),
            };
            if let Some(t) = text.filter(|t| !t.trim().is_empty()) {
                *filled.entry(col.clone()).or_insert(0) += 1;
                let set = samples.entry(col.clone()).or_default();
                if set.len() < 5 {
                    set.insert(t.chars().take(60).collect());
                }
            }
        }
    })?;
    let (note_types, _) = load(source, profile, "note_type", |r| r.text("name"))?;
    let mut note_types: BTreeSet<String> = note_types
        .into_iter()
        .flatten()
        .map(|s| s.trim().to_string())
        .collect();
    if note_types.is_empty() {
        let (names, _) = load(source, profile, "note", |r| r.text("type_name"))?;
        note_types = names
            .into_iter()
            .flatten()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
    }
    let (users, _) = load(source, profile, "user", |r| {
        (
            r.text("email"),
            r.text("department"),
            r.bool("is_requestor"),
        )
    })?;
    let mut domains: BTreeMap<String, u64> = BTreeMap::new();
    let mut with_dept = 0u64;
    for (email, dept, _) in &users {
        if let Some(e) = email.as_deref().and_then(|e| normalise_email(e, true).ok()) {
            *domains.entry(domain(&e).to_string()).or_insert(0) += 1;
        }
        if dept.as_deref().is_some_and(|d| !d.trim().is_empty()) {
            with_dept += 1;
        }
    }
    let total_emails: u64 = domains.values().sum();
    let top = domains.values().max().copied().unwrap_or(0);
    let (grouping, grouping_reason) = if total_emails > 0
        && domains.len() > 1
        && top * 10 < total_emails * 9
    {
        (
            "domain",
            format!(
                "requestor emails span {} domains (largest holds {top} of {total_emails})",
                domains.len()
            ),
        )
    } else if with_dept > 0 {
        (
            "department",
            format!(
                "one email domain for most requestors (an internal helpdesk): group by department ({with_dept} people have one)"
            ),
        )
    } else {
        (
            "location",
            "one email domain and no departments: group by location".to_string(),
        )
    };

    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(
        w,
        "# ti-transform mapping, proposed from extract {} (profile {}).",
        source.bundle_id(),
        profile.name
    );
    let _ = writeln!(
        w,
        "# Every decision below is `proposed`, with its reason in a comment. Review and edit them, then set"
    );
    let _ = writeln!(
        w,
        "# `confirmed = true`. The mapping is bound to the schema fingerprint: a later (delta) extract of the"
    );
    let _ = writeln!(
        w,
        "# same database reuses it; a changed schema needs a new proposal. Reference: docs/mapping.md.\n"
    );
    let _ = writeln!(w, "confirmed = false\n");
    let _ = writeln!(
        w,
        "# proposed: derived from the schema fingerprint, so it is stable for this database."
    );
    let _ = writeln!(
        w,
        "migration_id = {}",
        q(&format!("ti-{}", &fingerprint[..12]))
    );
    let _ = writeln!(
        w,
        "# tables, columns and types of the extract (not row counts)."
    );
    let _ = writeln!(w, "schema_fingerprint = {}", q(&fingerprint));
    let _ = writeln!(
        w,
        "# proposed: detected from the inventory ({}).",
        profile.detect.join(", ")
    );
    let _ = writeln!(w, "profile = {}", q(profile_ref));
    let _ = writeln!(
        w,
        "# proposed: {zone_reason}. Source datetimes without zone are read in it (DST gap: moved forward by the gap; overlap: first occurrence)."
    );
    let _ = writeln!(w, "source_time_zone = {}", q(&zone));
    let _ = writeln!(
        w,
        "# proposed: no cut-off. \"YYYY-MM-DD\" migrates only tickets opened on or after that date (the rest are listed as dropped)."
    );
    let _ = writeln!(w, "cutoff_date = \"\"\n");
    let _ = writeln!(w, "[people]");
    let _ = writeln!(
        w,
        "# proposed: emails trimmed, domain lower-cased always; local part lower-cased (\"lowercase\") or kept (\"keep\")."
    );
    let _ = writeln!(w, "email_local_part = \"lowercase\"");
    let _ = writeln!(
        w,
        "# proposed: people sharing an email become one contact (lowest id survives; gaps/merged_contacts.csv)."
    );
    let _ = writeln!(
        w,
        "# Names match by the rule of docs/mapping.md: case, whitespace, \"Last, First\" = \"First Last\"."
    );
    let _ = writeln!(w, "merge_shared_email = true\n");
    let _ = writeln!(w, "[companies]");
    let _ = writeln!(
        w,
        "# proposed: {grouping_reason}. One of \"domain\", \"department\", \"location\"."
    );
    let _ = writeln!(w, "grouping = {}\n", q(grouping));
    let a = crate::mapping::AttachmentRules::default();
    let _ = writeln!(w, "[attachments]");
    let _ = writeln!(
        w,
        "# proposed: files over 20 MiB and executables/scripts are listed in gaps/restricted_attachments.csv, not sent."
    );
    let _ = writeln!(w, "max_bytes = {}", a.max_bytes);
    let _ = writeln!(
        w,
        "restricted_extensions = [{}]\n",
        a.restricted_extensions
            .iter()
            .map(|e| q(e))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(w, "[conversations]");
    let _ = writeln!(
        w,
        "# proposed: tickets with more parts are split into linked conversations (Intercom shows the last 500)."
    );
    let _ = writeln!(w, "max_parts = 400\n");
    let _ = writeln!(
        w,
        "# Status name -> \"open\" | \"closed\". proposed: closed for closed/completed/resolved/cancelled wording."
    );
    let _ = writeln!(
        w,
        "# Ticket counts in comments; statuses missing here stay open and are counted in the report."
    );
    let _ = writeln!(w, "[status]");
    for (s, n) in &statuses {
        let _ = writeln!(w, "{} = {}  # {n} tickets", q(s), q(propose_status(s)));
    }
    let _ = writeln!(
        w,
        "\n# Priority text (trimmed) -> value of the conversation attribute ti_priority__c (the 2.16 API has no"
    );
    let _ = writeln!(
        w,
        "# priority field). proposed: numbering stripped, capitalised; \"\" = no value."
    );
    let _ = writeln!(w, "[priority]");
    for (p, n) in &priorities {
        let _ = writeln!(w, "{} = {}  # {n} tickets", q(p), q(&propose_priority(p)));
    }
    let _ = writeln!(
        w,
        "\n# Note type -> \"comment\" (customer-visible reply), \"note\" (internal note) or \"description\" (skipped when"
    );
    let _ = writeln!(
        w,
        "# it repeats the ticket description, else an internal note). proposed from the type's wording."
    );
    let _ = writeln!(w, "[note_types]");
    for t in &note_types {
        let _ = writeln!(w, "{} = {}", q(t), q(propose_note_type(t)));
    }
    let _ = writeln!(
        w,
        "\n# Ticket columns carried as conversation attributes (UDF and site-specific columns). Set enabled = false"
    );
    let _ = writeln!(
        w,
        "# to leave one out; at most 250 custom attributes in total."
    );
    let mut taken = BTreeSet::new();
    for (col, ty, is_udf) in &udf_cols {
        let name = attribute_name_for(col, &mut taken);
        let n = filled.get(col).copied().unwrap_or(0);
        let why = if *is_udf {
            "UDF column of the profile"
        } else {
            "site-specific column, not in the profile"
        };
        let _ = writeln!(w, "\n[[attribute]]");
        let _ = writeln!(
            w,
            "# proposed: {why}; SQL type {ty}; {n} tickets have a value."
        );
        let _ = writeln!(w, "column = {}", q(col));
        let _ = writeln!(w, "name = {}", q(&name));
        let _ = writeln!(w, "data_type = {}", q(attribute_type(ty)));
        let _ = writeln!(w, "enabled = {}", n > 0);
        let s: Vec<String> = samples
            .get(col)
            .into_iter()
            .flatten()
            .map(|s| q(s))
            .collect();
        let _ = writeln!(w, "samples = [{}]", s.join(", "));
    }
    let unmapped: Vec<String> = unmapped_tables(source, profile);
    let _ = writeln!(
        w,
        "\n# Gap reports (always written): change requests, SLA spec, workflow inventory, BCM relations, technicians,"
    );
    let _ = writeln!(
        w,
        "# team structure, restricted attachments, truncated values, dropped records. Tables no profile object reads"
    );
    let _ = writeln!(
        w,
        "# are listed in the report as unmapped: {}",
        if unmapped.is_empty() {
            "none".into()
        } else {
            unmapped.join(", ")
        }
    );
    Ok(out)
}

/// Tables and views of the extract that the profile does not read.
pub fn unmapped_tables(source: &SourceTables, profile: &Profile) -> Vec<String> {
    let used = profile.tables();
    source
        .inventory()
        .objects
        .iter()
        .map(|o| o.full_name())
        .filter(|n| !used.contains(&n.to_lowercase()))
        .collect()
}

/// The ticket columns `propose` writes an `[[attribute]]` for: (column, SQL type, is a UDF column of the profile).
/// The ticket table's columns the profile does not map, then those its `join` brings in (20xx: the custom fields
/// of `_TELMASTE_`). Empty when the ticket table is not in the inventory.
pub fn attribute_columns(
    profile: &Profile,
    inv: &crate::source::Inventory,
) -> Vec<(String, String, bool)> {
    let ticket_map = profile.object("ticket").cloned().unwrap_or_default();
    let ticket_obj = inv.object(&ticket_map.table).cloned().unwrap_or_default();
    let mapped: BTreeSet<String> = ticket_map
        .columns
        .values()
        .chain(ticket_map.known.iter())
        .chain(std::iter::once(&ticket_map.key))
        .map(|c| c.to_lowercase())
        .collect();
    // The ticket table's columns, then those a `join` brings in (20xx: the custom fields of `_TELMASTE_`).
    let joined: Vec<crate::source::InvColumn> = ticket_map
        .join
        .as_ref()
        .and_then(|j| {
            let obj = inv.object(&j.table)?;
            Some(
                j.columns
                    .iter()
                    .filter_map(|c| obj.column(c).cloned())
                    .filter(|c| ticket_obj.column(&c.name).is_none())
                    .collect(),
            )
        })
        .unwrap_or_default();
    ticket_obj
        .columns
        .iter()
        .chain(joined.iter())
        .filter(|c| !mapped.contains(&c.name.to_lowercase()))
        .map(|c| {
            let is_udf = ticket_map
                .udf
                .iter()
                .any(|u| u.eq_ignore_ascii_case(&c.name));
            (c.name.clone(), c.data_type.clone(), is_udf)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proposals_follow_the_stated_wording_rules() {
        assert_eq!(propose_priority("1-Low"), "Low");
        assert_eq!(propose_priority("2 - Medium"), "Medium");
        assert_eq!(propose_priority("URGENT"), "Urgent");
        assert_eq!(propose_priority("high "), "High");
        assert_eq!(propose_status("Completed"), "closed");
        assert_eq!(propose_status("Waiting on Vendor"), "open");
        assert_eq!(propose_note_type("Incident Description"), "description");
        assert_eq!(propose_note_type("Email Message"), "comment");
        assert_eq!(propose_note_type("Technician Note"), "note");
        assert_eq!(attribute_type("real"), "decimal");
        assert_eq!(attribute_type("datetime"), "datetime");
        assert_eq!(attribute_type("nvarchar"), "string");
    }
}
