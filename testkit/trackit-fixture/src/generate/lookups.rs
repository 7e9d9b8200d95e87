//! Lookup tables (`WorkOrderStatus`, `WorkOrderType`, `TaskNoteType`, `TaskNoteCategory`, trackit-fixture.md
//! §2.3) and the view `dbo.vTASKS_BROWSE`.

use super::ddl::{Inserter, V, create_view};
use super::schema::Defs;
use super::{Ctx, GenError};

/// Status ids that mean "closed" (Closed, Completed).
pub const CLOSED_IDS: [i64; 2] = [2, 3];

const CUSTOM_STATUSES: &[&str] = &[
    "Hold",
    "Waiting on Vendor",
    "Scheduled",
    "Waiting on User",
    "In Progress",
    "Escalated",
    "Pending Approval",
    "Reopened",
    "Waiting on Parts",
    "Research",
    "On Site Visit",
    "Awaiting Budget",
];

/// The status rows: (id, name, stops the clock). Status id 0 is deliberately absent.
pub fn statuses(ctx: &Ctx) -> Vec<(i64, String, bool)> {
    let mut v = vec![
        (1, "Open".to_string(), false),
        (2, "Closed".into(), true),
        (3, "Completed".into(), true),
    ];
    for i in 0..ctx.scale.custom_statuses {
        let name = CUSTOM_STATUSES
            .get(i)
            .map_or_else(|| format!("Custom Status {}", i + 1), |s| s.to_string());
        let stops = matches!(
            name.as_str(),
            "Hold" | "Waiting on Vendor" | "Waiting on User" | "Waiting on Parts"
        );
        v.push((106 + i as i64, name, stops));
    }
    v
}

const TYPES: &[&str] = &[
    "Hardware",
    "Software",
    "Network",
    "Account",
    "Email",
    "Printer",
    "Phone",
    "Facilities",
    "Security",
    "_Change Request",
    "Access Request",
    "New Hire",
    "Termination",
    "Training",
    "Project",
    "Report",
    "Database",
    "Website",
    "Mobile Device",
    "Purchasing",
    "Backup",
    "Server",
    "Virus",
    "Scanner",
    "Audio Visual",
];

/// WorkOrderType rows: (id, name); ids 1.., names from a fixed list, then "Category N".
pub fn types(ctx: &Ctx) -> Vec<(i64, String)> {
    (0..ctx.scale.types)
        .map(|i| {
            (
                i as i64 + 1,
                TYPES
                    .get(i)
                    .map_or_else(|| format!("Category {}", i + 1), |s| s.to_string()),
            )
        })
        .collect()
}

/// Subtypes (WOTYPE2) that belong under a type.
pub fn subtypes(type_name: &str) -> &'static [&'static str] {
    match type_name {
        "Hardware" => &["Laptop", "Desktop", "Monitor", "Docking Station"],
        "Software" => &["Install", "License", "Crash", "Upgrade"],
        "Network" => &["VPN", "Wifi", "Cabling", "Firewall"],
        "Account" => &["Password Reset", "Unlock", "New Account", "Permissions"],
        "Email" => &["Mailbox Full", "Spam", "Distribution List", "Calendar"],
        "Printer" => &["Jam", "Toner", "Driver", "Queue"],
        _ => &["General", "Question", "Issue"],
    }
}

/// Third-level categories (WOTYPE3).
pub const WOTYPE3: &[&str] = &["Dell", "HP", "Lenovo", "Microsoft", "Cisco", "Other"];

/// TaskNoteType ids: 1 is the REAL 'Incident Description'.
pub mod note_types {
    /// 'Incident Description' (REAL).
    pub const INCIDENT_DESCRIPTION: i64 = 1;
    /// 'Technician Note'.
    pub const TECHNICIAN: i64 = 2;
    /// 'Resolution'.
    pub const RESOLUTION: i64 = 3;
    /// 'Email Message'.
    pub const EMAIL: i64 = 4;
    /// 'Status Change'.
    pub const STATUS_CHANGE: i64 = 5;
    /// 'Phone Call'.
    pub const PHONE: i64 = 6;
    /// An id missing from the lookup (dirty).
    pub const MISSING: i64 = 99;
}

/// TaskNoteType rows.
pub fn note_type_rows(ctx: &Ctx) -> Vec<(i64, String)> {
    let names = [
        "Incident Description",
        "Technician Note",
        "Resolution",
        "Email Message",
        "Status Change",
        "Phone Call",
    ];
    (0..ctx.scale.note_types)
        .map(|i| {
            (
                i as i64 + 1,
                names
                    .get(i)
                    .map_or_else(|| format!("Note Type {}", i + 1), |s| s.to_string()),
            )
        })
        .collect()
}

/// TaskNoteCategory rows.
pub fn note_category_rows(ctx: &Ctx) -> Vec<(i64, String)> {
    let names = [
        "General",
        "Research",
        "Follow-up",
        "Customer Contact",
        "Escalation",
        "Vendor",
    ];
    (0..ctx.scale.note_categories)
        .map(|i| {
            (
                i as i64 + 1,
                names
                    .get(i)
                    .map_or_else(|| format!("Category {}", i + 1), |s| s.to_string()),
            )
        })
        .collect()
}

/// Inserts the lookup tables.
pub fn insert(conn: &rusqlite::Connection, ctx: &Ctx, defs: &Defs) -> Result<(), GenError> {
    let mut ins = Inserter::new(conn, &defs.status)?;
    for (id, name, stops) in statuses(ctx) {
        ins.insert(vec![V::I(id), name.into(), stops.into()])?;
    }
    let mut ins = Inserter::new(conn, &defs.wo_type)?;
    for (id, name) in types(ctx) {
        ins.insert(vec![V::I(id), name.into()])?;
    }
    let mut ins = Inserter::new(conn, &defs.note_type)?;
    for (id, name) in note_type_rows(ctx) {
        ins.insert(vec![V::I(id), name.into()])?;
    }
    let mut ins = Inserter::new(conn, &defs.note_category)?;
    for (id, name) in note_category_rows(ctx) {
        ins.insert(vec![V::I(id), name.into()])?;
    }
    Ok(())
}

/// Creates `dbo.vTASKS_BROWSE`: TASKS LEFT JOIN HDUsers by name LEFT JOIN WorkOrderStatus.
///
/// The name join compares like a SQL Server CI collation would for our data: trailing spaces ignored, ASCII
/// case folded. When two people share a full name the view takes the lowest UserId, so it has exactly one
/// row per ticket.
pub fn create_views(conn: &rusqlite::Connection, defs: &Defs) -> Result<(), GenError> {
    conn.execute_batch(
        "CREATE INDEX \"_ti_ix_users_fullname\" ON \"dbo.HDUsers\" (rtrim(FullName) COLLATE NOCASE, UserId);",
    )?;
    let select = "SELECT t.WO_NUM, t.WOID, t.TASK, u.FullName, u.Email, t.RESPONS, t.STATUS, \
        s.WorkOrderStatusName, t.LOOKUP1, t.LOOKUP2, t.TaskLookup3, t.TaskLookup4, t.WO_TEXT2 \
        FROM \"dbo.TASKS\" t \
        LEFT JOIN \"dbo.HDUsers\" u ON u.UserId = (SELECT MIN(x.UserId) FROM \"dbo.HDUsers\" x \
            WHERE rtrim(x.FullName) COLLATE NOCASE = rtrim(t.REQUEST)) \
        LEFT JOIN \"dbo.WorkOrderStatus\" s ON s.WorkOrderStatusId = t.WorkOrderStatusId";
    create_view(conn, &defs.browse, select)
}
