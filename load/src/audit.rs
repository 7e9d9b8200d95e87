//! `ti-load audit`: reads every loaded record back from Intercom (or a seeded random `--sample N` per kind, see
//! [`Sample`]) and compares it field by field with the bundle; for conversations also the parts (order, `created_at`, author, type, attachment
//! count) against the bundle, the journal's part steps and the API. Writes `audit/audit.{json,html}` beside the
//! journal and refreshes the migration report.

use crate::client::{Client, encode};
use crate::context::id_str;
use crate::journal::Journal;
use crate::phases::read_kind;
use crate::resolve::{Admins, Resolution, originally_by, resolve};
use crate::run::{LoadError, client_from, out_dir};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use ti_shared::bundle::Bundle;
use ti_shared::config::PipelineConfig;
use ti_shared::records::{Record, RecordKind};

/// One difference.
#[derive(Debug, Clone, Serialize)]
pub struct Difference {
    /// Record key.
    pub key: String,
    /// Field path.
    pub field: String,
    /// What the bundle (or journal) says.
    pub expected: Value,
    /// What Intercom has.
    pub actual: Value,
}

/// The audit result.
#[derive(Debug, Clone, Serialize)]
pub struct Audit {
    /// Records compared.
    pub checked: u64,
    /// Number of differences.
    pub differences: u64,
    /// Records that cannot be read back through the API (company notes), counted but not compared.
    pub unverifiable: u64,
    /// Records per kind of a sampled audit (None: every record).
    pub sample: Option<usize>,
    /// Seed that chose the sample (print it: the same seed chooses the same records again).
    pub seed: Option<u64>,
    /// Every difference.
    pub items: Vec<Difference>,
    /// The HTML file written.
    #[serde(skip)]
    pub html: PathBuf,
}

/// A seeded random sample: `per_kind` records of each kind, the ones whose `blake3(seed ‖ key)` sorts first, so
/// the same seed on the same bundle always picks the same records (on any machine and version) and different
/// seeds pick independent samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// Records per kind.
    pub per_kind: usize,
    /// Seed; [`Sample::default_seed`] when the operator gives none.
    pub seed: u64,
}

impl Sample {
    /// The seed used without `--seed`: the first 8 bytes (little endian) of `blake3(bundle_id)`, so repeating an
    /// audit of the same bundle repeats its sample.
    pub fn default_seed(bundle_id: &str) -> u64 {
        let h = blake3::hash(bundle_id.as_bytes());
        let mut b = [0u8; 8];
        b.copy_from_slice(&h.as_bytes()[..8]);
        u64::from_le_bytes(b)
    }

    /// The records of one kind to audit, in key order.
    pub fn pick<'a>(&self, records: &'a [Record]) -> Vec<&'a Record> {
        let rank = |r: &Record| {
            let mut h = blake3::Hasher::new();
            h.update(&self.seed.to_le_bytes());
            h.update(r.key.as_bytes());
            *h.finalize().as_bytes()
        };
        let mut ranked: Vec<([u8; 32], &Record)> = records.iter().map(|r| (rank(r), r)).collect();
        ranked.sort_by_key(|a| a.0);
        let mut picked: Vec<&Record> = ranked
            .into_iter()
            .take(self.per_kind)
            .map(|(_, r)| r)
            .collect();
        picked.sort_by(|a, b| a.key.cmp(&b.key));
        picked
    }
}

struct Checker {
    key: String,
    items: Vec<Difference>,
}

impl Checker {
    fn eq(&mut self, field: &str, expected: &Value, actual: &Value) {
        let same = match (expected, actual) {
            (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
            (Value::String(a), Value::Number(b)) | (Value::Number(b), Value::String(a)) => {
                *a == b.to_string()
            }
            _ => expected == actual,
        };
        if !same {
            self.items.push(Difference {
                key: self.key.clone(),
                field: field.into(),
                expected: expected.clone(),
                actual: actual.clone(),
            });
        }
    }

    fn fields(&mut self, expected: &Value, actual: &Value, names: &[&str]) {
        for n in names {
            if let Some(e) = expected.get(*n).filter(|e| !e.is_null()) {
                self.eq(n, e, actual.get(*n).unwrap_or(&Value::Null));
            }
        }
    }

    fn custom(&mut self, expected: &Value, actual: &Value) {
        for (k, v) in expected
            .get("custom_attributes")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let a = actual
                .get("custom_attributes")
                .and_then(|c| c.get(k))
                .unwrap_or(&Value::Null);
            self.eq(&format!("custom_attributes.{k}"), v, a);
        }
    }

    fn has_tag(&mut self, actual: &Value, tag_id: &str) {
        let tags = actual.get("tags");
        let list = tags
            .and_then(|t| t.get("tags"))
            .or_else(|| tags.and_then(|t| t.get("data")))
            .and_then(Value::as_array);
        let found = list
            .into_iter()
            .flatten()
            .any(|t| id_str(t.get("id")).as_deref() == Some(tag_id));
        if !found {
            self.items.push(Difference {
                key: self.key.clone(),
                field: "tags".into(),
                expected: Value::from(tag_id),
                actual: tags.cloned().unwrap_or(Value::Null),
            });
        }
    }
}

fn parts(conv: &Value) -> Vec<Value> {
    conv.get("conversation_parts")
        .and_then(|p| p.get("conversation_parts"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

#[allow(clippy::too_many_arguments)]
async fn check_record(
    client: &Client,
    journal: &Journal,
    admins: &Admins,
    ids: &HashMap<String, String>,
    tag_id: &str,
    rec: &Record,
    id: &str,
    c: &mut Checker,
) -> Result<bool, crate::client::ApiError> {
    let mut res = Resolution::default();
    let body = match rec.kind {
        RecordKind::Conversation => rec.body.clone(),
        _ => match resolve(&rec.body, ids, admins, &mut res) {
            Ok(b) => b,
            Err(e) => {
                c.eq("$ref", &Value::from(e.0), &Value::Null);
                return Ok(true);
            }
        },
    };
    let outcome = journal
        .record(&rec.key)
        .ok()
        .flatten()
        .and_then(|r| r.outcome)
        .unwrap_or_default();
    match rec.kind {
        RecordKind::DataAttribute | RecordKind::ConversationAttribute => {
            let path = match rec.kind {
                RecordKind::ConversationAttribute => {
                    "/conversations/attributes?include_archived=true".to_string()
                }
                _ => format!(
                    "/data_attributes?model={}&include_archived=true",
                    body.get("model")
                        .and_then(Value::as_str)
                        .unwrap_or("contact")
                ),
            };
            let list = client.get(&path).await?;
            let found = list
                .get("data")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find(|a| id_str(a.get("id")).as_deref() == Some(id))
                .cloned();
            c.eq(
                "name",
                body.get("name").unwrap_or(&Value::Null),
                found
                    .as_ref()
                    .and_then(|f| f.get("name"))
                    .unwrap_or(&Value::Null),
            );
        }
        RecordKind::Company => {
            let a = client.get(&format!("/companies/{id}")).await?;
            c.fields(
                &body,
                &a,
                &[
                    "company_id",
                    "name",
                    "website",
                    "industry",
                    "remote_created_at",
                ],
            );
            c.custom(&body, &a);
            c.has_tag(&a, tag_id);
        }
        RecordKind::Contact => {
            let a = client.get(&format!("/contacts/{id}")).await?;
            if outcome != "matched" {
                c.fields(
                    &body,
                    &a,
                    &[
                        "external_id",
                        "email",
                        "name",
                        "phone",
                        "signed_up_at",
                        "role",
                    ],
                );
            }
            c.custom(&body, &a);
            c.has_tag(&a, tag_id);
        }
        RecordKind::ContactCompany => {
            let contact = body
                .get("contact")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let company = body
                .get("company")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let a = client.get(&format!("/contacts/{contact}")).await?;
            let attached = a
                .get("companies")
                .and_then(|x| x.get("data"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .any(|x| id_str(x.get("id")).as_deref() == Some(company));
            c.eq("companies", &Value::Bool(true), &Value::Bool(attached));
        }
        RecordKind::Collection => {
            let a = client
                .get(&format!("/help_center/collections/{id}"))
                .await?;
            c.fields(&body, &a, &["name", "description"]);
            c.eq(
                "parent_id",
                &body.get("parent_id").cloned().unwrap_or(Value::Null),
                &a.get("parent_id").cloned().unwrap_or(Value::Null),
            );
        }
        RecordKind::Article => {
            let a = client.get(&format!("/articles/{id}")).await?;
            c.fields(
                &body,
                &a,
                &["title", "state", "parent_id", "author_id", "body"],
            );
        }
        RecordKind::ContactNote => {
            let contact = body
                .get("contact")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let a = client
                .get(&format!("/contacts/{}", encode(contact)))
                .await?;
            let listed = a
                .get("notes")
                .and_then(|x| x.get("data"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .any(|x| id_str(x.get("id")).as_deref() == Some(id));
            c.eq("notes", &Value::Bool(true), &Value::Bool(listed));
        }
        RecordKind::CompanyNote => return Ok(false),
        RecordKind::Conversation => {
            check_conversation(client, journal, admins, ids, tag_id, rec, id, c).await?
        }
    }
    Ok(true)
}

#[allow(clippy::too_many_arguments)]
async fn check_conversation(
    client: &Client,
    journal: &Journal,
    admins: &Admins,
    ids: &HashMap<String, String>,
    tag_id: &str,
    rec: &Record,
    id: &str,
    c: &mut Checker,
) -> Result<(), crate::client::ApiError> {
    let a = client.get(&format!("/conversations/{id}")).await?;
    let body = &rec.body;
    let mut res = Resolution::default();
    c.eq(
        "created_at",
        body.pointer("/create/created_at").unwrap_or(&Value::Null),
        a.get("created_at").unwrap_or(&Value::Null),
    );
    let expected_parts = body
        .get("parts")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let actual: Vec<Value> = parts(&a)
        .into_iter()
        .filter(|p| {
            matches!(
                p.get("part_type").and_then(Value::as_str),
                Some("comment" | "note" | "quick_reply")
            )
        })
        .collect();
    let journaled = journal
        .steps_of(&rec.key)
        .unwrap_or_default()
        .iter()
        .filter(|s| s.step.starts_with("part:") && s.state == "done")
        .count();
    c.eq(
        "parts.count",
        &Value::from(expected_parts.len()),
        &Value::from(actual.len()),
    );
    c.eq(
        "parts.journal",
        &Value::from(expected_parts.len()),
        &Value::from(journaled),
    );
    for (i, (e, got)) in expected_parts.iter().zip(actual.iter()).enumerate() {
        let Ok(reply) = resolve(
            e.get("reply").unwrap_or(&Value::Null),
            ids,
            admins,
            &mut res,
        ) else {
            continue;
        };
        c.eq(
            &format!("parts[{i}].created_at"),
            reply.get("created_at").unwrap_or(&Value::Null),
            got.get("created_at").unwrap_or(&Value::Null),
        );
        c.eq(
            &format!("parts[{i}].part_type"),
            reply.get("message_type").unwrap_or(&Value::Null),
            got.get("part_type").unwrap_or(&Value::Null),
        );
        let author = if reply.get("type").and_then(Value::as_str) == Some("admin") {
            reply.get("admin_id")
        } else {
            reply.get("intercom_user_id")
        };
        c.eq(
            &format!("parts[{i}].author"),
            author.unwrap_or(&Value::Null),
            got.pointer("/author/id").unwrap_or(&Value::Null),
        );
        if reply.get("type").and_then(Value::as_str) == Some("admin") {
            let (_, fallback) =
                admins.admin_for(e.pointer("/reply/admin_id/$admin").unwrap_or(&Value::Null));
            let text = reply
                .get("body")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let expected_body = if fallback {
                originally_by(
                    text,
                    e.get("author_name")
                        .and_then(Value::as_str)
                        .unwrap_or("unknown"),
                )
            } else {
                text.to_string()
            };
            c.eq(
                &format!("parts[{i}].body"),
                &Value::from(expected_body),
                got.get("body").unwrap_or(&Value::Null),
            );
        }
        let n = e
            .get("attachments")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        c.eq(
            &format!("parts[{i}].attachments"),
            &Value::from(n),
            &Value::from(
                got.get("attachments")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len),
            ),
        );
    }
    if let Some(update) = body.get("update").filter(|u| !u.is_null()) {
        c.fields(update, &a, &["title"]);
        c.custom(update, &a);
    }
    if body.get("close").is_some_and(|x| !x.is_null()) {
        c.eq(
            "state",
            &Value::from("closed"),
            a.get("state").unwrap_or(&Value::Null),
        );
    }
    if let Some(assignee) = body.get("assignee").filter(|x| !x.is_null()) {
        let (admin, _) = admins.admin_for(assignee.get("$admin").unwrap_or(&Value::Null));
        c.eq(
            "admin_assignee_id",
            &Value::from(admin),
            a.get("admin_assignee_id").unwrap_or(&Value::Null),
        );
    }
    c.has_tag(&a, tag_id);
    Ok(())
}

/// Runs the audit.
///
/// # Errors
/// [`LoadError`].
pub async fn audit(
    cfg: &PipelineConfig,
    bundle_path: &Path,
    journal_path: &Path,
    sample: Option<usize>,
    seed: Option<u64>,
) -> Result<Audit, LoadError> {
    if !journal_path.exists() {
        return Err(LoadError::Usage(format!(
            "no journal at {}",
            journal_path.display()
        )));
    }
    let bundle = Bundle::open_kind(bundle_path, ti_shared::bundle::BundleKind::Load)?;
    crate::consistency::check(&bundle).map_err(LoadError::InvalidBundle)?;
    let journal = Journal::open(journal_path)?;
    journal.check_bundle(bundle.id(), bundle.manifest().migration_id.as_deref())?;
    let client = client_from(cfg, None)?;
    let ws = crate::preflight::run(
        &client,
        &bundle,
        true,
        &cfg.load.fallback_admin_email,
        &cfg.load.migration_tag,
        true,
        |_| String::new(),
    )
    .await?;
    let tag_id = journal.meta("tag_id")?.unwrap_or_default();
    let ids = journal.done_ids()?;
    let sample = sample.map(|per_kind| Sample {
        per_kind,
        seed: seed.unwrap_or_else(|| Sample::default_seed(bundle.id())),
    });
    let mut result = Audit {
        checked: 0,
        differences: 0,
        unverifiable: 0,
        sample: sample.map(|s| s.per_kind),
        seed: sample.map(|s| s.seed),
        items: Vec::new(),
        html: PathBuf::new(),
    };
    for kind in RecordKind::ALL {
        let records = read_kind(&bundle, kind).map_err(LoadError::Failed)?;
        let chosen: Vec<&Record> = match &sample {
            Some(s) => s.pick(&records),
            None => records.iter().collect(),
        };
        for rec in chosen {
            let mut c = Checker {
                key: rec.key.clone(),
                items: Vec::new(),
            };
            match ids.get(&rec.key) {
                None => c.eq("intercom_id", &Value::from("loaded"), &Value::Null),
                Some(id) => match check_record(
                    &client, &journal, &ws.admins, &ids, &tag_id, rec, id, &mut c,
                )
                .await
                {
                    Ok(true) => {}
                    Ok(false) => {
                        result.unverifiable += 1;
                        continue;
                    }
                    Err(e) => c.eq(
                        "read",
                        &Value::from("readable"),
                        &Value::from(e.to_string()),
                    ),
                },
            }
            result.checked += 1;
            result.items.extend(c.items);
        }
    }
    result.differences = result.items.len() as u64;
    let dir = out_dir(journal_path).join("audit");
    std::fs::create_dir_all(&dir)
        .map_err(|e| LoadError::Failed(format!("{}: {e}", dir.display())))?;
    let json = serde_json::to_string_pretty(&result).unwrap_or_default();
    std::fs::write(dir.join("audit.json"), json + "\n")
        .map_err(|e| LoadError::Failed(e.to_string()))?;
    let mut h = String::from(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Audit</title><style>body{font-family:system-ui,sans-serif;margin:2em}td,th{border:1px solid #ccc;padding:4px}table{border-collapse:collapse}</style></head><body><h1>Audit</h1>",
    );
    let _ = write!(
        h,
        "<p>{} records compared field by field, {} difference(s), {} not readable through the API.</p>",
        result.checked, result.differences, result.unverifiable
    );
    if let Some(s) = sample {
        let _ = write!(
            h,
            "<p>Random sample of {} record(s) per kind, seed {} (<code>--sample {} --seed {}</code> repeats it).</p>",
            s.per_kind, s.seed, s.per_kind, s.seed
        );
    }
    if !result.items.is_empty() {
        h.push_str(
            "<table><tr><th>record</th><th>field</th><th>expected</th><th>in Intercom</th></tr>",
        );
        for d in &result.items {
            let e = |v: &Value| html_escape::encode_text(&v.to_string()).to_string();
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                html_escape::encode_text(&d.key),
                html_escape::encode_text(&d.field),
                e(&d.expected),
                e(&d.actual)
            );
        }
        h.push_str("</table>");
    }
    h.push_str("</body></html>\n");
    let html = dir.join("audit.html");
    std::fs::write(&html, h).map_err(|e| LoadError::Failed(e.to_string()))?;
    let _ = crate::report::write_html(&bundle, &journal, &out_dir(journal_path));
    result.html = html;
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ti_shared::records::RecordSource;

    fn records(n: usize) -> Vec<Record> {
        (0..n)
            .map(|i| {
                Record::new(
                    format!("contact:{i:03}"),
                    RecordKind::Contact,
                    vec![],
                    RecordSource {
                        table: "t".into(),
                        pk: i.to_string(),
                    },
                    serde_json::json!({}),
                )
            })
            .collect()
    }

    #[test]
    fn a_sample_is_repeatable_per_seed_and_random_across_seeds() {
        let recs = records(50);
        let keys = |seed| -> Vec<String> {
            Sample { per_kind: 5, seed }
                .pick(&recs)
                .iter()
                .map(|r| r.key.clone())
                .collect()
        };
        assert_eq!(keys(7), keys(7));
        assert_eq!(keys(7).len(), 5);
        assert_ne!(keys(7), keys(8));
        let first: Vec<String> = recs.iter().take(5).map(|r| r.key.clone()).collect();
        assert_ne!(keys(7), first, "not simply the first records");
        assert_eq!(
            Sample {
                per_kind: 80,
                seed: 1
            }
            .pick(&recs)
            .len(),
            50
        );
        assert_eq!(Sample::default_seed("b1"), Sample::default_seed("b1"));
        assert_ne!(Sample::default_seed("b1"), Sample::default_seed("b2"));
    }
}
