//! The gap files of the report: copied from the load bundle's `gaps/` into `report/gaps/` (so the report folder
//! can be handed to the customer on its own), each with its size and one plain sentence saying what it means for
//! the customer's admin (wording shared with docs/operator-guide.md §9).

use std::path::Path;
use ti_shared::bundle::Bundle;

/// One file listed in the report's "what was not migrated" section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GapFile {
    /// Path relative to the report folder, `/`-separated (`gaps/<name>`).
    pub link: String,
    /// File name.
    pub name: String,
    /// How big it is, in words ("12 rows", "document").
    pub size: String,
    /// What the file means for the customer's admin, one sentence.
    pub meaning: &'static str,
    /// Sort rank: the files the admin must act on come first.
    pub rank: u8,
}

/// Name of the file the report writes for technicians without a matching Intercom teammate (from preflight).
pub const NO_TEAMMATE_FILE: &str = "technicians_without_teammate.csv";

/// The sentence and rank for a gap file name; `None` for files that only repeat another in a different format
/// (listed next to it).
fn meaning(name: &str) -> (u8, &'static str) {
    let stem = name.split('.').next().unwrap_or(name);
    match stem {
        "technicians_without_teammate" => (
            0,
            "Track-It! technicians with no Intercom teammate of the same email address. Their replies and notes were posted by the migration's fallback teammate, starting with the line \u{201c}Originally by <name>\u{201d}. Invite them as teammates before the final migration so their work appears under their own name.",
        ),
        "unmatched_technicians" => (
            1,
            "Technician names written on tickets that match no Track-It! technician account. Those assignments and notes were posted by the fallback teammate, with the original name kept in the text.",
        ),
        "sla_spec" => (
            2,
            "Track-It! service-level agreements (SLA policies and targets). Intercom SLAs cannot be created automatically: your admin recreates these in Intercom (Settings \u{2192} SLAs). SLA timers restart at cutover.",
        ),
        "workflow_inventory" => (
            2,
            "The statuses, note types, rules and notifications your help desk relied on in Track-It!. Workflows cannot be moved automatically: your admin rebuilds the ones still needed as Intercom Workflows.",
        ),
        "team_structure" => (
            2,
            "Track-It! technician groups and their members. Intercom teams cannot be created automatically: your admin creates these teams in Intercom and invites the members.",
        ),
        "change_requests" => (
            3,
            "Every Track-It! change request with its approvals and dates. Intercom has no change management: keep this file as the audit record, or import it into your change-management tool.",
        ),
        "bcm_relations" => (
            3,
            "Links between assets found by BMC Client Management (which device is connected to, installed on or part of which). Intercom has no place for them: keep the file with your asset inventory.",
        ),
        "restricted_attachments" => (
            3,
            "Attachments that were not sent to Intercom: program files Intercom refuses (.exe, .js and similar), empty files, or files missing from the Track-It! file share. Each line names the ticket it belonged to; archive these files elsewhere if you need them.",
        ),
        "truncated_values" => (
            3,
            "Field values longer than Intercom allows were shortened in the custom fields; this file keeps the full original text (which is also in the conversation's first message).",
        ),
        "unconverted_values" => (
            3,
            "Track-It! field values that could not be converted to the type chosen for their Intercom custom field (for example text in a number field); the field was left empty on those records and this file keeps each original value.",
        ),
        "omitted_cells" => (
            3,
            "Track-It! values too large to read from tables that have no unique key (above the extract's keyless_cell_max_bytes limit); they are not in Intercom. Each line names the table, column, row and size: re-extract with a higher limit if they are needed.",
        ),
        "unmapped_values" => (
            3,
            "Track-It! statuses, note types and ticket fields the confirmed mapping deliberately left out, with how many tickets or notes carry each and how they were migrated instead (for example a status migrated as an open conversation).",
        ),
        "merged_contacts" => (
            4,
            "People who shared one email address in Track-It! were merged into a single Intercom contact (Intercom needs unique email addresses); a note on the contact records each merge.",
        ),
        "unknown_requestors" => (
            4,
            "Tickets whose requester is not in the Track-It! user list; a contact was created from the name written on the ticket. Your admin may merge these with the right people.",
        ),
        "hierarchy_issues" => (
            4,
            "Parent and child links between tickets that could not be kept, because a ticket pointed to itself or to a ticket that does not exist.",
        ),
        "clamped_parts" => (
            4,
            "Ticket notes dated before their ticket was opened (clock errors in Track-It!); they were placed at the ticket's opening time so the conversation reads in order.",
        ),
        "renamed_attachments" => (
            4,
            "Attachment file names containing characters that are not allowed in file names were cleaned; the file lists the original and the new name.",
        ),
        "dropped_records" => (
            5,
            "Every Track-It! row that was not migrated, with the reason (for example an empty note, or a note that only repeated the ticket's description). Nothing else was left out.",
        ),
        "technicians" => (
            6,
            "Every Track-It! technician with name, email and login, as used to match technicians to Intercom teammates.",
        ),
        _ => (7, "A supporting file produced during the migration."),
    }
}

/// Counts the data rows of a CSV text (quote-aware: a quoted value may span lines), header excluded.
pub fn csv_rows(text: &str) -> u64 {
    let (mut lines, mut quoted, mut line_has_data) = (0u64, false, false);
    for c in text.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                line_has_data = true;
            }
            '\n' if !quoted => {
                if line_has_data {
                    lines += 1;
                }
                line_has_data = false;
            }
            '\r' => {}
            _ => line_has_data = true,
        }
    }
    if line_has_data {
        lines += 1;
    }
    lines.saturating_sub(1)
}

fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Describes the size of a gap file from its content.
fn size_of(name: &str, bytes: &[u8]) -> String {
    let ext = name.rsplit('.').next().unwrap_or_default();
    match ext {
        "csv" => plural(csv_rows(&String::from_utf8_lossy(bytes)), "row", "rows"),
        "json" => match serde_json::from_slice::<serde_json::Value>(bytes) {
            Ok(serde_json::Value::Object(m)) => m
                .values()
                .find_map(|v| {
                    v.as_array()
                        .map(|a| plural(a.len() as u64, "entry", "entries"))
                })
                .unwrap_or_else(|| "data file".into()),
            Ok(serde_json::Value::Array(a)) => plural(a.len() as u64, "entry", "entries"),
            _ => "data file".into(),
        },
        "md" => "document".into(),
        "parquet" => "same content, for spreadsheet and analysis tools".into(),
        _ => format!("{} bytes", bytes.len()),
    }
}

/// Copies the bundle's `gaps/` files into `report_dir/gaps/`, writes `technicians_without_teammate.csv` when
/// `no_teammate_csv` holds rows, and returns every file in the order the report lists them (action first, then
/// by name).
///
/// # Errors
/// I/O errors.
pub fn copy_gaps(
    bundle: &Bundle,
    report_dir: &Path,
    no_teammate_csv: Option<&str>,
) -> std::io::Result<Vec<GapFile>> {
    let out = report_dir.join("gaps");
    std::fs::create_dir_all(&out)?;
    let mut files = Vec::new();
    let mut add = |name: &str, bytes: &[u8]| -> std::io::Result<()> {
        std::fs::write(out.join(name), bytes)?;
        let (rank, meaning) = meaning(name);
        files.push(GapFile {
            link: format!("gaps/{name}"),
            name: name.to_string(),
            size: size_of(name, bytes),
            meaning,
            rank,
        });
        Ok(())
    };
    for f in bundle.files_under("gaps/") {
        let Some(name) = f.path.strip_prefix("gaps/").filter(|n| !n.contains('/')) else {
            continue;
        };
        let bytes = std::fs::read(bundle.path(&f.path))?;
        add(name, &bytes)?;
    }
    if let Some(csv) = no_teammate_csv.filter(|c| csv_rows(c) > 0) {
        add(NO_TEAMMATE_FILE, csv.as_bytes())?;
    }
    files.sort_by(|a, b| (a.rank, &a.name).cmp(&(b.rank, &b.name)));
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_counts_records_not_lines() {
        assert_eq!(csv_rows("a,b\n1,\"x\ny\"\n2,z\n"), 2);
        assert_eq!(csv_rows("a,b\n"), 0);
        assert_eq!(csv_rows("a,b\r\n1,2"), 1);
        assert_eq!(csv_rows(""), 0);
    }

    #[test]
    fn sizes_in_words() {
        assert_eq!(
            size_of("change_requests.json", br#"{"change_requests":[1,2]}"#),
            "2 entries"
        );
        assert_eq!(size_of("x.csv", b"h\n1\n"), "1 row");
        assert_eq!(size_of("sla_spec.md", b"# x"), "document");
    }
}
