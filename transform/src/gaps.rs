//! Gap datasets and handoff documents (`gaps/…`): what Intercom cannot hold, written for the customer.

use crate::ctx::Ctx;
use crate::ledger::csv;
use crate::model::Generic;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Source rows of the gap-only objects.
#[derive(Default)]
pub struct GapInputs {
    /// Change requests.
    pub changes: Vec<Generic>,
    /// Change approvals.
    pub approvals: Vec<Generic>,
    /// SLA policies.
    pub sla_policies: Vec<Generic>,
    /// SLA targets.
    pub sla_targets: Vec<Generic>,
    /// BCM relations.
    pub bcm: Vec<Generic>,
    /// Groups.
    pub groups: Vec<Generic>,
    /// Group members.
    pub members: Vec<Generic>,
    /// Asset names by id (for the BCM list).
    pub asset_names: BTreeMap<String, String>,
    /// Status names with their ticket counts and mapped state.
    pub statuses: Vec<(String, String)>,
    /// Note types and their use.
    pub note_types: Vec<(String, String)>,
    /// Tables no profile object reads.
    pub unmapped: Vec<String>,
    /// The ticket columns `propose` offers as attributes ([`crate::propose::attribute_columns`]).
    pub attribute_columns: Vec<String>,
    /// Cells the extractor did not read (`omitted_cells` of report/extract.json): table, column, row position,
    /// key, bytes, reason ([`crate::omitted`]).
    pub omitted_cells: Vec<Vec<String>>,
}

/// Rows of `gaps/unmapped_values.csv`: the status values and note types on migrated tickets that the mapping
/// does not map (with the number of tickets or notes and what they became), and the ticket columns the
/// `[[attribute]]` list does not mention (not migrated; a disabled entry is a decision and is not listed).
/// Empty for a mapping that maps every value (e.g. a proposal confirmed as it is), so no file is written then.
fn unmapped_values(ctx: &Ctx, attribute_columns: &[String]) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut tally = |list: &str, section: &str, became: &str| {
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        for r in ctx.ledger.list_rows(list) {
            *counts
                .entry(r.into_iter().next().unwrap_or_default())
                .or_default() += 1;
        }
        for (value, n) in counts {
            rows.push(vec![section.into(), value, n.to_string(), became.into()]);
        }
    };
    tally(
        "unmapped_status",
        "status",
        "open (statuses missing from [status] stay open)",
    );
    tally(
        "unmapped_note_type",
        "note_types",
        "internal note (types missing from [note_types])",
    );
    let mentioned: std::collections::BTreeSet<String> = ctx
        .mapping
        .attributes
        .iter()
        .map(|a| a.column.to_lowercase())
        .collect();
    let mut missing = 0;
    for c in attribute_columns {
        if !mentioned.contains(&c.to_lowercase()) {
            missing += 1;
            rows.push(vec![
                "attribute".into(),
                c.clone(),
                String::new(),
                "not migrated (column missing from the [[attribute]] list)".into(),
            ]);
        }
    }
    ctx.ledger.count("unmapped_attribute_columns", missing);
    rows
}

fn ts(t: Option<&i64>) -> String {
    t.and_then(|t| chrono::DateTime::from_timestamp(*t, 0))
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

fn f<'a>(g: &'a Generic, k: &str) -> &'a str {
    g.fields.get(k).map(String::as_str).unwrap_or("")
}

/// Every gap file: bundle-relative path → bytes.
pub fn files(ctx: &Ctx, g: &GapInputs) -> BTreeMap<String, Vec<u8>> {
    let mut out: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    // Change requests with approvals.
    let mut by_change: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
    for a in &g.approvals {
        by_change.entry(f(a, "change").to_string()).or_default().push(serde_json::json!({
            "approver": f(a, "approver"), "decision": f(a, "decision"), "decided_at": ts(a.times.get("decided")),
            "comment": f(a, "comment")}));
    }
    let changes: Vec<serde_json::Value> = g
        .changes
        .iter()
        .map(|c| {
            let mut v = serde_json::json!({"change_id": c.pk});
            for (k, val) in &c.fields {
                v[k] = serde_json::json!(val);
            }
            for (k, t) in &c.times {
                v[k] = serde_json::json!(ts(Some(t)));
            }
            v["approvals"] = serde_json::json!(by_change.get(&c.pk).cloned().unwrap_or_default());
            v
        })
        .collect();
    ctx.ledger
        .migrated("change_request", g.changes.len() as u64);
    ctx.ledger
        .migrated("change_approval", g.approvals.len() as u64);
    out.insert(
        "gaps/change_requests.json".into(),
        pretty(&serde_json::json!({"change_requests": changes})),
    );
    // SLA spec.
    let mut targets: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
    for t in &g.sla_targets {
        targets.entry(f(t, "policy").to_string()).or_default().push(serde_json::json!({
            "metric": f(t, "metric"), "target_minutes": f(t, "minutes"), "business_hours_only": f(t, "business_hours")}));
    }
    let policies: Vec<serde_json::Value> = g.sla_policies.iter().map(|p| serde_json::json!({
        "id": p.pk, "name": f(p, "name"), "applies_to_priority": f(p, "priority"), "active": f(p, "active"),
        "targets": targets.get(&p.pk).cloned().unwrap_or_default()})).collect();
    ctx.ledger
        .migrated("sla_policy", g.sla_policies.len() as u64);
    ctx.ledger
        .migrated("sla_target", g.sla_targets.len() as u64);
    out.insert("gaps/sla_spec.json".into(), pretty(&serde_json::json!({"note": "SLA timers are not migrated; they reset at cutover. Rebuild these as Intercom SLAs.", "policies": policies})));
    let mut md = String::from(
        "# SLA handoff specification\n\nTrack-It! SLA timers are not migrated (Intercom SLAs cannot be created by API and timers reset at cutover). Rebuild these policies in Intercom (Settings → SLAs).\n\n| Policy | Applies to priority | Active | Metric | Target (min) | Business hours only |\n|---|---|---|---|---|---|\n",
    );
    for p in &g.sla_policies {
        for t in targets.get(&p.pk).into_iter().flatten() {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} |",
                f(p, "name"),
                f(p, "priority"),
                f(p, "active"),
                t["metric"].as_str().unwrap_or(""),
                t["target_minutes"].as_str().unwrap_or(""),
                t["business_hours_only"].as_str().unwrap_or("")
            );
        }
    }
    out.insert("gaps/sla_spec.md".into(), md.into_bytes());
    // BCM relations.
    let rows: Vec<Vec<String>> = g
        .bcm
        .iter()
        .map(|b| {
            let from = f(b, "from").to_string();
            let to = f(b, "to").to_string();
            vec![
                from.clone(),
                g.asset_names.get(&from).cloned().unwrap_or_default(),
                to.clone(),
                g.asset_names.get(&to).cloned().unwrap_or_default(),
                f(b, "type").into(),
                f(b, "object").into(),
                ts(b.times.get("synced")),
            ]
        })
        .collect();
    ctx.ledger.migrated("bcm_relation", g.bcm.len() as u64);
    out.insert(
        "gaps/bcm_relations.csv".into(),
        csv(
            &[
                "from_asset_id",
                "from_asset",
                "to_asset_id",
                "to_asset",
                "relation_type",
                "bcm_object_id",
                "last_sync",
            ],
            &rows,
        )
        .into_bytes(),
    );
    // Team structure.
    let mut md = String::from(
        "# Recommended Intercom team structure\n\nTeams cannot be created through the Intercom API. These are the Track-It! groups and their members; create them as Intercom teams and invite the members as teammates.\n\n",
    );
    for grp in &g.groups {
        let _ = writeln!(md, "## {}\n", f(grp, "name"));
        let mut members: Vec<String> = g
            .members
            .iter()
            .filter(|m| f(m, "group") == grp.pk)
            .map(|m| {
                let id: i64 = f(m, "user").parse().unwrap_or(-1);
                match ctx.people.users.get(&id) {
                    Some(u) => format!(
                        "- {} <{}>{}",
                        u.display_name().unwrap_or_default(),
                        ctx.people.emails.get(&id).cloned().unwrap_or_default(),
                        if u.is_technician {
                            ""
                        } else {
                            " (not a technician)"
                        }
                    ),
                    None => format!("- user {id} (not in the people table)"),
                }
            })
            .collect();
        members.sort();
        if members.is_empty() {
            members.push("- (no members)".into());
        }
        let _ = writeln!(md, "{}\n", members.join("\n"));
    }
    ctx.ledger.migrated("group", g.groups.len() as u64);
    ctx.ledger.migrated("group_member", g.members.len() as u64);
    out.insert("gaps/team_structure.md".into(), md.into_bytes());
    // Workflow inventory.
    let mut md = String::from(
        "# Workflow and rule inventory\n\nTrack-It! workflows, business rules and notifications cannot be migrated; rebuild them as Intercom Workflows. This is what the data shows the helpdesk relies on.\n\n## Statuses\n\n| Track-It! status | Intercom state |\n|---|---|\n",
    );
    for (s, st) in &g.statuses {
        let _ = writeln!(md, "| {s} | {st} |");
    }
    md.push_str("\n## Note types\n\n| Type | Migrated as |\n|---|---|\n");
    for (t, u) in &g.note_types {
        let _ = writeln!(md, "| {t} | {u} |");
    }
    md.push_str("\n## Tables not migrated (unmapped)\n\n");
    for t in &g.unmapped {
        let _ = writeln!(md, "- {t}");
    }
    out.insert("gaps/workflow_inventory.md".into(), md.into_bytes());
    // Lists.
    out.insert(
        "gaps/technicians.csv".into(),
        csv(
            &["key", "name", "email", "login", "active"],
            &crate::companies::technicians(ctx),
        )
        .into_bytes(),
    );
    let lists: [(&str, &str, &[&str]); 9] = [
        (
            "restricted_attachments",
            "gaps/restricted_attachments.csv",
            &["conversation", "attachment_pk", "file_name", "reason"],
        ),
        (
            "truncated_values",
            "gaps/truncated_values.csv",
            &["record", "attribute", "original_chars", "original_value"],
        ),
        (
            "unconverted_values",
            "gaps/unconverted_values.csv",
            &["record", "attribute", "source_value", "reason"],
        ),
        (
            "merged_contacts",
            "gaps/merged_contacts.csv",
            &["person_id", "merged_into", "email", "name"],
        ),
        (
            "unknown_requestors",
            "gaps/unknown_requestors.csv",
            &["contact", "name", "tickets"],
        ),
        (
            "clamped_parts",
            "gaps/clamped_parts.csv",
            &[
                "conversation",
                "table",
                "pk",
                "original_unix",
                "clamped_to_unix",
            ],
        ),
        (
            "hierarchy_issues",
            "gaps/hierarchy_issues.csv",
            &["ticket", "parent", "issue"],
        ),
        (
            "unmatched_technicians",
            "gaps/unmatched_technicians.csv",
            &["technician_text", "conversation"],
        ),
        (
            "renamed_attachments",
            "gaps/renamed_attachments.csv",
            &["attachment_pk", "original_name", "sent_name"],
        ),
    ];
    for (name, path, header) in lists {
        out.insert(
            path.into(),
            csv(header, &ctx.ledger.list_rows(name)).into_bytes(),
        );
    }
    let unmapped = unmapped_values(ctx, &g.attribute_columns);
    if !unmapped.is_empty() {
        out.insert(
            "gaps/unmapped_values.csv".into(),
            csv(&["section", "value", "rows", "migrated_as"], &unmapped).into_bytes(),
        );
    }
    let omitted = &g.omitted_cells;
    if !omitted.is_empty() {
        ctx.ledger.count("omitted_cells", omitted.len() as u64);
        out.insert(
            "gaps/omitted_cells.csv".into(),
            csv(
                &["table", "column", "row", "key", "bytes", "reason"],
                omitted,
            )
            .into_bytes(),
        );
    }
    let dropped: Vec<Vec<String>> = ctx
        .ledger
        .dropped()
        .into_iter()
        .map(|d| vec![d.object, d.table, d.pk, d.reason])
        .collect();
    out.insert(
        "gaps/dropped_records.csv".into(),
        csv(&["object", "table", "pk", "reason"], &dropped).into_bytes(),
    );
    out
}

fn pretty(v: &serde_json::Value) -> Vec<u8> {
    let mut b = serde_json::to_vec_pretty(v).unwrap_or_default();
    b.push(b'\n');
    b
}
