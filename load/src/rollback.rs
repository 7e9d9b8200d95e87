//! `ti-load rollback`: undoes what the journal says this migration did, in reverse dependency order, and nothing
//! else. Created objects are deleted (attributes archived: Intercom cannot delete them); objects that existed
//! before are restored to the attribute values saved in the journal's snapshots and untagged. Notes cannot be
//! deleted through the API: they are listed in the rollback report. Without `--yes`, only the list is printed.

use crate::client::{ApiError, Client};
use crate::journal::{Journal, RecordRow};
use crate::run::{LoadError, client_from, out_dir};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use ti_shared::config::PipelineConfig;
use ti_shared::records::RecordKind;

/// Reverse dependency order of kinds.
const ORDER: [RecordKind; 10] = [
    RecordKind::CompanyNote,
    RecordKind::ContactNote,
    RecordKind::Article,
    RecordKind::Collection,
    RecordKind::Conversation,
    RecordKind::ContactCompany,
    RecordKind::Contact,
    RecordKind::Company,
    RecordKind::ConversationAttribute,
    RecordKind::DataAttribute,
];

fn gone(e: &ApiError) -> bool {
    e.status() == Some(404)
}

async fn ok_or_gone(r: Result<Value, ApiError>) -> Result<(), ApiError> {
    match r {
        Ok(_) => Ok(()),
        Err(e) if gone(&e) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Runs the rollback (or lists it without `yes`) and returns the report text, also written to
/// `rollback/rollback-report.txt` beside the journal.
///
/// # Errors
/// [`LoadError`]; records that could not be undone are listed and make the command fail.
pub async fn rollback(
    cfg: &PipelineConfig,
    journal_path: &Path,
    yes: bool,
) -> Result<String, LoadError> {
    if !journal_path.exists() {
        return Err(LoadError::Usage(format!(
            "no journal at {}",
            journal_path.display()
        )));
    }
    let journal = Journal::open(journal_path)?;
    let client = client_from(cfg, None)?;
    if yes {
        check_reachable(&client, &cfg.intercom.effective_base_url()).await?;
    }
    let tag_id = journal.meta("tag_id")?.unwrap_or_default();
    let snapshots: HashMap<String, Value> = journal
        .snapshots()?
        .into_iter()
        .map(|(k, _, _, v)| (k, v))
        .collect();
    let records = journal.records()?;
    let mut out = String::new();
    let mut failures = 0u64;
    let mut consecutive_unreachable = 0u32;
    let mut stopped: Option<LoadError> = None;
    let _ = writeln!(
        out,
        "rollback of journal {}{}",
        journal.path(),
        if yes {
            ""
        } else {
            " (dry run: pass --yes to do it)"
        }
    );
    'kinds: for kind in ORDER {
        for r in records
            .iter()
            .filter(|r| r.kind == kind.as_str() && r.status != "rolled_back")
        {
            let Some(id) = r.intercom_id.clone() else {
                continue;
            };
            let matched = r.outcome.as_deref() == Some("matched");
            let action = describe(kind, matched);
            let _ = writeln!(out, "{action} {} ({id})", r.key);
            if !yes || kind == RecordKind::ContactNote || kind == RecordKind::CompanyNote {
                continue;
            }
            match undo(
                &client,
                kind,
                r,
                &id,
                matched,
                snapshots.get(&r.key),
                (&tag_id, &cfg.load.migration_tag),
            )
            .await
            {
                Ok(()) => {
                    consecutive_unreachable = 0;
                    journal.set_record(
                        &r.key,
                        &r.kind,
                        None,
                        None,
                        "rolled_back",
                        None,
                        None,
                        r.bundle_id.as_deref().unwrap_or(""),
                    )?;
                }
                Err(e) => {
                    failures += 1;
                    let _ = writeln!(out, "  FAILED: {e}");
                    if matches!(e.status(), Some(401 | 403)) {
                        stopped = Some(LoadError::Usage(format!(
                            "rollback stopped: Intercom refused the token ({e}); check [intercom] token_env, then run the rollback again (the journal is intact: done steps are not repeated)"
                        )));
                        break 'kinds;
                    }
                    consecutive_unreachable = if e.is_unknown() {
                        consecutive_unreachable + 1
                    } else {
                        0
                    };
                    if consecutive_unreachable >= MAX_CONSECUTIVE_UNREACHABLE {
                        stopped = Some(LoadError::Failed(format!(
                            "rollback stopped after {consecutive_unreachable} consecutive requests without an answer from {} (last: {e}); run the rollback again when Intercom is reachable (the journal is intact: what was undone is not repeated)",
                            cfg.intercom.effective_base_url()
                        )));
                        break 'kinds;
                    }
                }
            }
        }
    }
    let dir = out_dir(journal_path).join("rollback");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join("rollback-report.txt"), &out);
    if let Some(e) = stopped {
        return Err(e);
    }
    if failures > 0 {
        return Err(LoadError::Failed(format!(
            "{failures} object(s) could not be rolled back:\n{out}"
        )));
    }
    Ok(out)
}

/// Consecutive requests without an answer (connection refused, timeouts, resets) after which a rollback stops.
pub const MAX_CONSECUTIVE_UNREACHABLE: u32 = 3;

/// `GET /me` before undoing anything, as `run` does: an unreachable API is a runtime failure naming the address
/// (exit 1), a refused token a usage error (exit 2).
///
/// # Errors
/// [`LoadError::Failed`] or [`LoadError::Usage`].
async fn check_reachable(client: &Client, base_url: &str) -> Result<(), LoadError> {
    match client.get("/me").await {
        Ok(_) => Ok(()),
        Err(e) if matches!(e.status(), Some(401 | 403)) => Err(LoadError::Usage(format!(
            "Intercom at {base_url} refused the token ({e}); check [intercom] token_env; nothing was rolled back"
        ))),
        Err(e) => Err(LoadError::Failed(format!(
            "Intercom at {base_url} cannot be reached ({e}); nothing was rolled back; run again when it is reachable"
        ))),
    }
}

fn describe(kind: RecordKind, matched: bool) -> &'static str {
    match (kind, matched) {
        (RecordKind::ContactNote | RecordKind::CompanyNote, _) => {
            "KEEP (notes cannot be deleted through the API; delete by hand)"
        }
        (RecordKind::DataAttribute | RecordKind::ConversationAttribute, true) => {
            "LEAVE existing attribute"
        }
        (RecordKind::DataAttribute | RecordKind::ConversationAttribute, false) => "ARCHIVE",
        (RecordKind::Contact | RecordKind::Company, true) => "RESTORE attributes and untag",
        (RecordKind::ContactCompany, _) => "DETACH",
        _ => "DELETE",
    }
}

async fn undo(
    client: &Client,
    kind: RecordKind,
    r: &RecordRow,
    id: &str,
    matched: bool,
    snapshot: Option<&Value>,
    (tag_id, tag_name): (&str, &str),
) -> Result<(), ApiError> {
    match kind {
        RecordKind::Article => ok_or_gone(client.delete(&format!("/articles/{id}")).await).await,
        RecordKind::Collection => {
            ok_or_gone(
                client
                    .delete(&format!("/help_center/collections/{id}"))
                    .await,
            )
            .await
        }
        RecordKind::Conversation => {
            ok_or_gone(client.delete(&format!("/conversations/{id}")).await).await
        }
        RecordKind::ContactCompany => {
            let (contact, company) = id.split_once('/').unwrap_or((id, ""));
            ok_or_gone(
                client
                    .delete(&format!("/contacts/{contact}/companies/{company}"))
                    .await,
            )
            .await
        }
        RecordKind::Contact if matched => {
            let before = snapshot.cloned().unwrap_or_else(|| json!({}));
            if before
                .get("custom_attributes")
                .and_then(Value::as_object)
                .is_some_and(|m| !m.is_empty())
            {
                client
                    .put(
                        &format!("/contacts/{id}"),
                        &json!({"custom_attributes": before["custom_attributes"]}),
                    )
                    .await?;
            }
            ok_or_gone(
                client
                    .delete(&format!("/contacts/{id}/tags/{tag_id}"))
                    .await,
            )
            .await
        }
        RecordKind::Contact => ok_or_gone(client.delete(&format!("/contacts/{id}")).await).await,
        RecordKind::Company if matched => {
            let company = client.get(&format!("/companies/{id}")).await?;
            let company_id = company.get("company_id").cloned().unwrap_or(Value::Null);
            let before = snapshot.cloned().unwrap_or_else(|| json!({}));
            if before
                .get("custom_attributes")
                .and_then(Value::as_object)
                .is_some_and(|m| !m.is_empty())
            {
                client.post("/companies", &json!({"company_id": company_id, "custom_attributes": before["custom_attributes"]})).await?;
            }
            client
                .post(
                    "/tags",
                    &json!({"name": tag_name, "companies": [{"id": id, "untag": true}]}),
                )
                .await?;
            Ok(())
        }
        RecordKind::Company => ok_or_gone(client.delete(&format!("/companies/{id}")).await).await,
        RecordKind::DataAttribute if !matched => {
            ok_or_gone(
                client
                    .put(
                        &format!("/data_attributes/{id}"),
                        &json!({"archived": true}),
                    )
                    .await,
            )
            .await
        }
        RecordKind::ConversationAttribute if !matched => {
            ok_or_gone(
                client
                    .delete(&format!("/conversations/attributes/{id}"))
                    .await,
            )
            .await
        }
        _ => {
            let _ = r;
            Ok(())
        }
    }
}
