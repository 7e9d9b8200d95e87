//! `discover`: what is in the database and what a migration of it involves, without copying data:
//! `inventory.json`, `discovery.json` (machine-readable) and `discovery.md` (for the customer).
//!
//! Generation: 11.x when `dbo.TASKS` exists, 20xx when `_SMDBA_._TELMASTE_` does, the seed document's HD* names
//! when `dbo.HDTickets` does. Known tables and columns come from ../shared/reference/trackit-schema.md and
//! trackit-fixture.md; anything else is listed as site-specific.

use crate::connect::SqlClient;
use crate::error::ExtractError;
use crate::inventory::{Inventory, ObjectInfo};
use crate::queries;
use crate::types::text::{TextEncoding, decode};
use futures_util::TryStreamExt;
use serde::Serialize;
use tiberius::ColumnData;

/// Known 11.x `dbo.TASKS` columns (trackit-schema.md §3.1).
const CLASSIC_TASKS: &[&str] = &[
    "WOID",
    "WO_NUM",
    "PARENTWOID",
    "TASK",
    "DESCRIPT",
    "NOTE",
    "REQUEST",
    "RESPONS",
    "RESPONDEDBY",
    "CLSDBY",
    "DEPT",
    "PRIORITY",
    "TYPE",
    "WOTYPE2",
    "WOTYPE3",
    "WorkOrderTypeId",
    "WorkOrderStatusId",
    "STATUS",
    "REQDATE",
    "OPENDATE",
    "DUEDATE",
    "MODIDATE",
    "ASSNDATE",
    "RESPONSEDATE",
    "RESPONDEDDATE",
    "CLSDDATE",
    "COMPLETED",
    "ELAPSETIME",
    "ELAPSEMIN",
    "HOURS",
    "LOOKUP1",
    "LOOKUP2",
    "TaskLookup3",
    "TaskLookup4",
    "TaskLookup5",
    "TaskLookup6",
    "TaskLookup7",
    "TaskLookup8",
    "WO_TEXT1",
    "WO_TEXT2",
    "WO_TEXT3",
    "WO_TEXT4",
    "WO_TEXT5",
    "WO_TEXT6",
    "WO_NUM1",
    "WO_INT1",
];

/// Tables and views known for each generation (real names plus the seed names the fixture uses).
const KNOWN_OBJECTS: &[&str] = &[
    "dbo.TASKS",
    "dbo.TaskNote",
    "dbo.TaskNoteType",
    "dbo.TaskNoteCategory",
    "dbo.WorkOrderStatus",
    "dbo.WorkOrderType",
    "dbo.vTASKS_BROWSE",
    "dbo.HDUsers",
    "dbo.HDGroups",
    "dbo.HDGroupMembers",
    "dbo.Assets",
    "dbo.ConfigItems",
    "dbo.ChangeRequests",
    "dbo.ChangeApprovals",
    "dbo.KBArticles",
    "dbo.SLAPolicies",
    "dbo.SLATargets",
    "dbo.BCMRelations",
    "dbo.Attachments",
    "dbo.HDTicketHistory",
    "dbo.Priority",
    "dbo.HDTickets",
    "_SMDBA_._TELMASTE_",
    "_SMDBA_._PERSONNEL_",
    "_SMDBA_.Ticket",
    "_SMDBA_.Ticket Notes",
];

/// Logical modules: (name, candidate objects, what the default mapping does with them, verdict).
const MODULES: &[(&str, &[&str], &str, &str)] = &[
    (
        "tickets",
        &["dbo.TASKS", "_SMDBA_._TELMASTE_", "dbo.HDTickets"],
        "Intercom conversations",
        "1:1",
    ),
    (
        "notes",
        &[
            "dbo.TaskNote",
            "_SMDBA_.Ticket Notes",
            "dbo.HDTicketHistory",
        ],
        "conversation parts",
        "1:1",
    ),
    (
        "people",
        &["dbo.HDUsers", "_SMDBA_._PERSONNEL_"],
        "contacts; technicians matched to admins",
        "1:1",
    ),
    (
        "assets",
        &["dbo.Assets"],
        "companies grouped by organisation",
        "lossy",
    ),
    (
        "tracked items",
        &["dbo.ConfigItems"],
        "company or contact attributes",
        "lossy",
    ),
    (
        "change requests",
        &["dbo.ChangeRequests"],
        "gap dataset",
        "gap report",
    ),
    (
        "articles",
        &["dbo.KBArticles"],
        "Help Center articles",
        "1:1",
    ),
    (
        "SLA rules",
        &["dbo.SLAPolicies", "dbo.SLATargets"],
        "SLA handoff specification",
        "gap report",
    ),
    (
        "BCM relations",
        &["dbo.BCMRelations"],
        "relation list for the customer",
        "gap report",
    ),
    (
        "attachments",
        &["dbo.Attachments"],
        "files on conversation parts",
        "1:1 (restricted types listed)",
    ),
];

/// One module's line.
#[derive(Debug, Clone, Serialize)]
pub struct ModuleCount {
    /// Module name.
    pub module: String,
    /// The objects counted.
    pub objects: Vec<String>,
    /// Rows.
    pub rows: u64,
    /// Where it goes.
    pub target: String,
    /// `1:1`, `lossy` or `gap report`.
    pub verdict: String,
}

/// `discovery.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Discovery {
    /// `classic` (11.x), `web` (20xx), `seed` (HD* names) or `unknown`.
    pub generation: String,
    /// Server, database, collation, time zone.
    pub server: crate::inventory::ServerFacts,
    /// Tables and views.
    pub objects: usize,
    /// Rows per logical module.
    pub modules: Vec<ModuleCount>,
    /// Objects not known for this generation (`schema.object`).
    pub extra_objects: Vec<String>,
    /// Columns of the ticket table not known for this generation.
    pub custom_columns: Vec<String>,
    /// Attachment rows.
    pub attachments: u64,
    /// Their total size in bytes (`SizeBytes`, or the stored content's length).
    pub attachment_bytes: u64,
    /// Attachments with a restricted extension (ti_shared::attachments).
    pub restricted_attachments: u64,
    /// Rough Intercom API calls of a full migration.
    pub api_calls: u64,
    /// Their duration at the default 10,000 requests per minute, minutes.
    pub api_minutes: f64,
    /// `A` (simple), `B` (moderate) or `C` (complex).
    pub grade: String,
    /// Why.
    pub reasons: Vec<String>,
}

fn find<'a>(inv: &'a Inventory, full: &str) -> Option<&'a ObjectInfo> {
    inv.objects
        .iter()
        .find(|o| o.full_name().eq_ignore_ascii_case(full))
}

/// Reads attachment names and sizes (Q10 with the in-row threshold at 0, so no content is transferred).
async fn attachment_facts(
    client: &mut SqlClient,
    obj: &ObjectInfo,
    nolock: bool,
    collation: &str,
) -> Result<(u64, u64, u64), ExtractError> {
    let table = queries::table_ref(&obj.schema, &obj.name, nolock);
    let sql = queries::q10_scan(
        &queries::select_list(&obj.columns, 1),
        &table,
        &obj.primary_key,
    );
    let zero = 0i64;
    let what = format!("discover: {}", obj.full_name());
    let stream = client
        .query(sql.as_str(), &[&zero])
        .await
        .map_err(ExtractError::query(&what))?;
    let mut rows = stream.into_row_stream();
    let (mut n, mut bytes, mut restricted) = (0u64, 0u64, 0u64);
    while let Some(row) = rows.try_next().await.map_err(ExtractError::query(&what))? {
        let cells: Vec<ColumnData<'static>> = row.into_iter().collect();
        let mut i = 0;
        let (mut size, mut content, mut name) = (None, None, None);
        for col in &obj.columns {
            let cell = cells.get(i);
            match col.name.as_str() {
                "SizeBytes" => size = cell.and_then(crate::cells::int),
                "FileName" => {
                    if let Some(ColumnData::Binary(Some(b))) = cell {
                        let enc = crate::types::text_encoding(col, collation);
                        name = Some(decode(b, enc).0);
                    } else if let Some(ColumnData::String(Some(s))) = cell {
                        name = Some(
                            decode(s.as_bytes(), TextEncoding::CodePage(encoding_rs::UTF_8)).0,
                        );
                    }
                }
                _ => {}
            }
            i += 1;
            if col.is_lob() {
                content = content.or(cells.get(i).and_then(crate::cells::int));
                i += 1;
            }
        }
        n += 1;
        bytes += size.or(content).unwrap_or(0).max(0) as u64;
        restricted += u64::from(name.is_some_and(|f| ti_shared::attachments::is_restricted(&f)));
    }
    Ok((n, bytes, restricted))
}

/// Builds the discovery from the inventory (reading attachment metadata rows only).
///
/// # Errors
/// A failed query on the attachments table.
pub async fn discover(
    client: &mut SqlClient,
    inv: &Inventory,
    nolock: bool,
) -> Result<Discovery, ExtractError> {
    let generation = if find(inv, "dbo.TASKS").is_some() {
        "classic"
    } else if find(inv, "_SMDBA_._TELMASTE_").is_some() {
        "web"
    } else if find(inv, "dbo.HDTickets").is_some() {
        "seed"
    } else {
        "unknown"
    };
    let mut modules = Vec::new();
    for (module, candidates, target, verdict) in MODULES {
        let found: Vec<&ObjectInfo> = candidates.iter().filter_map(|c| find(inv, c)).collect();
        let rows = match *module {
            // Tables of one module that are alternatives (notes in TaskNote or a history table): the first counts.
            "SLA rules" => found.iter().map(|o| o.row_count).sum(),
            _ => found.first().map_or(0, |o| o.row_count),
        };
        modules.push(ModuleCount {
            module: module.to_string(),
            objects: found.iter().map(|o| o.full_name()).collect(),
            rows,
            target: target.to_string(),
            verdict: verdict.to_string(),
        });
    }
    let extra_objects: Vec<String> = inv
        .objects
        .iter()
        .map(ObjectInfo::full_name)
        .filter(|n| !KNOWN_OBJECTS.iter().any(|k| k.eq_ignore_ascii_case(n)))
        .collect();
    let custom_columns: Vec<String> = match find(inv, "dbo.TASKS") {
        Some(t) if generation == "classic" => t
            .columns
            .iter()
            .filter(|c| {
                !CLASSIC_TASKS
                    .iter()
                    .any(|k| k.eq_ignore_ascii_case(&c.name))
            })
            .map(|c| format!("dbo.TASKS.{}", c.name))
            .collect(),
        _ => Vec::new(),
    };
    let (attachments, attachment_bytes, restricted) = match find(inv, "dbo.Attachments") {
        Some(a) => attachment_facts(client, a, nolock, &inv.server.collation).await?,
        None => (0, 0, 0),
    };
    let rows = |m: &str| modules.iter().find(|x| x.module == m).map_or(0, |x| x.rows);
    // One create per contact, company and article; create + close per conversation; one call per part and per
    // attachment batch (rough: one per attachment).
    let api_calls = rows("people")
        + rows("assets")
        + rows("articles")
        + 2 * rows("tickets")
        + rows("notes")
        + attachments;
    let api_minutes = api_calls as f64 / 10_000.0;
    let mut reasons = Vec::new();
    let mut score = 0;
    if !custom_columns.is_empty() {
        score += 1;
        reasons.push(format!(
            "{} site-specific column(s) on the ticket table",
            custom_columns.len()
        ));
    }
    if !extra_objects.is_empty() {
        score += 1;
        reasons.push(format!(
            "{} table(s) or view(s) not known for this generation",
            extra_objects.len()
        ));
    }
    if attachment_bytes > 10 << 30 {
        score += 1;
        reasons.push(format!(
            "{:.1} GB of attachments",
            attachment_bytes as f64 / 1e9
        ));
    }
    if restricted > 0 {
        reasons.push(format!(
            "{restricted} attachment(s) with a restricted extension will be listed, not sent"
        ));
    }
    if api_minutes > 600.0 {
        score += 1;
        reasons.push(format!(
            "about {api_calls} API calls, {:.0} hours at 10,000 requests/minute",
            api_minutes / 60.0
        ));
    }
    if generation == "unknown" {
        score += 2;
        reasons.push("no known Track-It! generation recognised".into());
    }
    let grade = match score {
        0 => "A",
        1 | 2 => "B",
        _ => "C",
    };
    Ok(Discovery {
        generation: generation.into(),
        server: inv.server.clone(),
        objects: inv.objects.len(),
        modules,
        extra_objects,
        custom_columns,
        attachments,
        attachment_bytes,
        restricted_attachments: restricted,
        api_calls,
        api_minutes,
        grade: grade.into(),
        reasons,
    })
}

/// `discovery.md`: the customer-readable scope summary.
pub fn markdown(d: &Discovery, inv: &Inventory) -> String {
    let mut s = String::new();
    let tz = d
        .server
        .time_zone
        .as_deref()
        .unwrap_or("unknown (server older than SQL Server 2019)");
    s.push_str(&format!(
        "# Track-It! database discovery: {}\n\n",
        d.server.database
    ));
    s.push_str(&format!(
        "- Server: {} ({})\n- Collation: {}\n- UTC offset: {} minutes; time zone: {tz}\n- Generation: **{}**\n- Objects: {} tables and views\n\n",
        d.server.product_version,
        d.server.version.lines().next().unwrap_or(""),
        d.server.collation,
        d.server.utc_offset_minutes,
        d.generation,
        d.objects
    ));
    s.push_str("## Modules\n\n| module | rows | becomes | mapping |\n|---|---:|---|---|\n");
    for m in &d.modules {
        s.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            m.module, m.rows, m.target, m.verdict
        ));
    }
    s.push_str(&format!(
        "\nAttachments: {} files, {:.1} MB, {} with a restricted extension.\n\n",
        d.attachments,
        d.attachment_bytes as f64 / 1e6,
        d.restricted_attachments
    ));
    s.push_str(&format!("## Complexity: grade {}\n\n", d.grade));
    for r in &d.reasons {
        s.push_str(&format!("- {r}\n"));
    }
    s.push_str(&format!(
        "- About {} Intercom API calls, {:.0} minutes at Intercom's documented 10,000 requests per minute.\n\n",
        d.api_calls, d.api_minutes
    ));
    if !d.custom_columns.is_empty() {
        s.push_str("## Site-specific columns\n\n");
        for c in &d.custom_columns {
            s.push_str(&format!("- {c}\n"));
        }
        s.push('\n');
    }
    if !d.extra_objects.is_empty() {
        s.push_str("## Other tables and views\n\n");
        for o in &d.extra_objects {
            let rows = find(inv, o).map_or(0, |x| x.row_count);
            s.push_str(&format!("- {o} ({rows} rows)\n"));
        }
        s.push('\n');
    }
    s
}
