//! Response objects in the 2.16 shapes (schemas `contact`, `company`, `conversation`, `admin`, …).

use serde_json::{Map, Value, json};

use crate::model::*;
use crate::state::Workspace;
use crate::validate::plain_text_html;

/// Workspace id reported in objects.
pub const WORKSPACE_ID: &str = "simws001";

/// An id as an integer when it is numeric (the spec types admin/team ids inside lists as integers).
pub fn int_id(id: &str) -> Value {
    id.parse::<i64>()
        .map(Value::from)
        .unwrap_or_else(|_| Value::from(id))
}

fn put_opt<T: Into<Value>>(m: &mut Map<String, Value>, k: &str, v: Option<T>) {
    if let Some(v) = v {
        m.insert(k.to_string(), v.into());
    }
}

/// Schema `admin`.
pub fn admin(a: &Admin) -> Value {
    let mut v = json!({
        "type": "admin", "id": a.id, "name": a.name, "job_title": "",
        "away_mode_enabled": false, "away_mode_reassign": false, "away_status_reason_id": null,
        "has_inbox_seat": true, "team_ids": a.team_ids.iter().map(|t| int_id(t)).collect::<Vec<_>>(),
        "avatar": null,
    });
    v["email"] = json!(a.email.clone().unwrap_or_default());
    v
}

/// Schema `team`.
pub fn team(t: &Team) -> Value {
    json!({"type": "team", "id": t.id, "name": t.name,
           "admin_ids": t.admin_ids.iter().map(|a| int_id(a)).collect::<Vec<_>>()})
}

/// Schema `data_attribute`.
pub fn data_attribute(a: &DataAttribute) -> Value {
    let mut v = json!({
        "type": "data_attribute", "id": a.id, "model": a.model, "name": a.name,
        "full_name": format!("custom_attributes.{}", a.name), "label": a.name, "data_type": a.data_type,
        "api_writable": true, "messenger_writable": a.messenger_writable, "ui_writable": true,
        "custom": true, "archived": a.archived, "created_at": a.created_at, "updated_at": a.updated_at,
    });
    if !a.options.is_empty() {
        v["options"] = json!(a.options);
    }
    if let Some(d) = &a.description {
        v["description"] = json!(d);
    }
    v
}

/// Schema `conversation_attribute`.
pub fn conversation_attribute(a: &ConversationAttribute) -> Value {
    let mut v = json!({
        "type": "conversation_attribute", "id": a.id, "name": a.name, "data_type": a.data_type,
        "required": a.required, "visible_to_team_ids": a.visible_to_team_ids, "archived": a.archived,
        "created_at": a.created_at, "updated_at": a.updated_at,
    });
    if let Some(d) = &a.description {
        v["description"] = json!(d);
    }
    match a.data_type.as_str() {
        "string" => v["multiline"] = json!(a.multiline),
        "list" => v["options"] = json!(a.options),
        "relationship" => v["reference"] = a.reference.clone().unwrap_or(Value::Null),
        _ => {}
    }
    v
}

fn tag_basic(t: &TagRef) -> Value {
    json!({"type": "tag", "id": t.id, "name": t.name})
}

fn addressable(kind: &str, ids: &[String], base: &str, owner: &str) -> Value {
    json!({
        "type": "list",
        "data": ids.iter().map(|id| json!({"type": kind, "id": id, "url": format!("/{base}/{id}")})).collect::<Vec<_>>(),
        "url": format!("/contacts/{owner}/{base}"),
        "total_count": ids.len(), "has_more": false,
    })
}

/// Schema `contact`.
pub fn contact(ws: &Workspace, c: &Contact) -> Value {
    let email = c.email.clone().unwrap_or_default();
    let domain = email
        .split_once('@')
        .map(|(_, d)| d.to_string())
        .unwrap_or_default();
    let tag_ids: Vec<String> = c.tags.iter().map(|t| t.id.clone()).collect();
    let note_ids: Vec<String> = ws
        .notes_of("contact", &c.id)
        .map(|n| n.id.clone())
        .collect();
    let mut companies = addressable("company", &c.company_ids, "companies", &c.id);
    companies.as_object_mut().map(|m| m.remove("type"));
    json!({
        "type": "contact", "id": c.id, "workspace_id": WORKSPACE_ID, "external_id": c.external_id,
        "role": c.role, "email": email, "email_domain": domain, "phone": c.phone, "name": c.name,
        "owner_id": c.owner_id, "has_hard_bounced": false, "marked_email_as_spam": false,
        "unsubscribed_from_emails": c.unsubscribed_from_emails, "created_at": c.created_at,
        "updated_at": c.updated_at, "signed_up_at": c.signed_up_at, "last_seen_at": c.last_seen_at,
        "last_replied_at": null, "last_contacted_at": null, "last_email_opened_at": null,
        "last_email_clicked_at": null, "language_override": null, "browser": null, "browser_version": null,
        "browser_language": null, "os": null,
        "custom_attributes": c.custom_attributes,
        "avatar": c.avatar.as_ref().map(|u| json!({"type": "avatar", "image_url": u})),
        "tags": addressable("tag", &tag_ids, "tags", &c.id),
        "notes": addressable("note", &note_ids, "notes", &c.id),
        "companies": companies,
        "location": {"type": "location", "country": null, "region": null, "city": null},
        "social_profiles": {"type": "list", "data": []},
    })
}

/// Schema `contact_deleted` / archived references.
pub fn contact_ref(c: &Contact) -> Value {
    json!({"type": "contact", "id": c.id, "external_id": c.external_id})
}

/// Schema `company`.
pub fn company(ws: &Workspace, c: &Company) -> Value {
    let mut m = Map::new();
    m.insert("type".into(), json!("company"));
    m.insert("id".into(), json!(c.id));
    m.insert("app_id".into(), json!(WORKSPACE_ID));
    m.insert("company_id".into(), json!(c.company_id));
    put_opt(&mut m, "name", c.name.clone());
    m.insert(
        "plan".into(),
        c.plan
            .as_ref()
            .map(|p| json!({"type": "plan", "id": format!("plan-{p}"), "name": p}))
            .unwrap_or(json!({})),
    );
    put_opt(&mut m, "remote_created_at", c.remote_created_at);
    m.insert("created_at".into(), json!(c.created_at));
    m.insert("updated_at".into(), json!(c.updated_at));
    put_opt(&mut m, "size", c.size);
    put_opt(&mut m, "website", c.website.clone());
    put_opt(&mut m, "industry", c.industry.clone());
    put_opt(&mut m, "monthly_spend", c.monthly_spend);
    m.insert("session_count".into(), json!(0));
    m.insert("user_count".into(), json!(ws.user_count(&c.id)));
    m.insert(
        "custom_attributes".into(),
        Value::Object(c.custom_attributes.clone()),
    );
    m.insert(
        "tags".into(),
        json!({"type": "tag.list", "tags": c.tags.iter().map(tag_basic).collect::<Vec<_>>()}),
    );
    m.insert(
        "segments".into(),
        json!({"type": "segment.list", "segments": []}),
    );
    Value::Object(m)
}

fn author(ws: &Workspace, a: &Author) -> Value {
    let mut v = json!({"type": a.kind, "id": a.id});
    let (name, email) = match a.kind.as_str() {
        "admin" => ws
            .admin(&a.id)
            .map(|x| (Some(x.name.clone()), x.email.clone()))
            .unwrap_or((None, None)),
        "team" => (
            ws.teams
                .iter()
                .find(|t| t.id == a.id)
                .map(|t| t.name.clone()),
            None,
        ),
        _ => ws
            .contacts
            .get(&a.id)
            .map(|c| (c.name.clone(), c.email.clone()))
            .unwrap_or((None, None)),
    };
    v["name"] = json!(name);
    if let Some(e) = email {
        v["email"] = json!(e);
    }
    v
}

fn part(ws: &Workspace, conv: &Conversation, p: &Part) -> Value {
    let body = match (&p.body, p.author.kind.as_str()) {
        (Some(b), "user") => Some(plain_text_html(b)),
        (b, _) => b.clone(),
    };
    json!({
        "type": "conversation_part", "id": p.id, "part_type": p.part_type, "body": body,
        "created_at": p.created_at, "updated_at": p.created_at, "notified_at": p.created_at,
        "assigned_to": p.assigned_to.as_ref().map(|a| json!({"type": a.kind, "id": a.id})),
        "author": author(ws, &p.author),
        "attachments": p.attachments.iter().map(|a| json!({
            "type": "upload", "name": a.name, "content_type": a.content_type, "filesize": a.size,
            "url": format!("https://sim.invalid/conversations/{}/attachments/{}", conv.id, a.blake3),
        })).chain(p.attachment_urls.iter().map(|u| json!({"type": "upload", "name": u.rsplit('/').next().unwrap_or(u), "url": u}))).collect::<Vec<_>>(),
        "external_id": null, "redacted": false,
    })
}

/// Schema `conversation` (with the newest `max_parts` parts) or `conversation_list_item` (`max_parts = None`).
pub fn conversation(ws: &Workspace, c: &Conversation, max_parts: Option<usize>) -> Value {
    let teammates: Vec<Value> = {
        let mut ids: Vec<&String> = Vec::new();
        for p in c.parts.iter().filter(|p| p.author.kind == "admin") {
            if !ids.contains(&&p.author.id) {
                ids.push(&p.author.id);
            }
        }
        ids.into_iter()
            .map(|id| json!({"type": "admin", "id": id}))
            .collect()
    };
    let mut v = json!({
        "type": "conversation", "id": c.id, "title": c.title, "created_at": c.created_at,
        "updated_at": c.updated_at, "waiting_since": null, "snoozed_until": c.snoozed_until,
        "open": c.state == "open", "state": c.state, "read": c.read, "priority": "none",
        "admin_assignee_id": c.admin_assignee_id.as_deref().map(int_id).unwrap_or(json!(0)),
        "team_assignee_id": c.team_assignee_id.as_deref().map(int_id).unwrap_or(json!(0)),
        "tags": {"type": "tag.list", "tags": c.tags.iter().map(tag_basic).collect::<Vec<_>>()},
        "source": {
            "type": "conversation", "id": c.source.id, "delivered_as": "customer_initiated",
            "subject": c.source.subject.clone().unwrap_or_default(), "body": plain_text_html(&c.source.body),
            "author": author(ws, &c.source.author),
            "attachments": c.source.attachment_urls.iter().map(|u| json!({"type": "upload", "name": u.rsplit('/').next().unwrap_or(u), "url": u})).collect::<Vec<_>>(),
            "url": null, "redacted": false,
        },
        "contacts": {"type": "contact.list", "contacts": c.contact_ids.iter().map(|id| {
            json!({"type": "contact", "id": id, "external_id": ws.contacts.get(id).and_then(|x| x.external_id.clone())})
        }).collect::<Vec<_>>()},
        "teammates": {"type": "admin.list", "teammates": teammates},
        "custom_attributes": c.custom_attributes,
        "first_contact_reply": null, "statistics": null, "ai_agent_participated": false,
    });
    if let Some(max) = max_parts {
        let skip = c.parts.len().saturating_sub(max);
        v["conversation_parts"] = json!({
            "type": "conversation_part.list",
            "conversation_parts": c.parts[skip..].iter().map(|p| part(ws, c, p)).collect::<Vec<_>>(),
            "total_count": c.parts.len(),
        });
    }
    v
}

/// Schema `note`.
pub fn note(ws: &Workspace, n: &Note) -> Value {
    let mut v = json!({"type": "note", "id": n.id, "created_at": n.created_at, "body": n.body,
                       "contact": null, "company": null});
    v[n.target_type.as_str()] = json!({"type": n.target_type, "id": n.target_id});
    if let Some(a) = ws.admin(&n.author_id) {
        v["author"] = admin(a);
    }
    v
}

/// Schema `tag`.
pub fn tag(t: &Tag) -> Value {
    json!({"type": "tag", "id": t.id, "name": t.name})
}

/// Schema `collection`.
pub fn collection(c: &Collection) -> Value {
    let mut v = json!({
        "id": c.id, "workspace_id": WORKSPACE_ID, "name": c.name, "description": c.description.clone().unwrap_or_default(),
        "created_at": c.created_at, "updated_at": c.updated_at,
        "url": format!("https://help.sim.invalid/collections/{}", c.id), "icon": "book-bookmark", "order": 1,
        "default_locale": "en", "parent_id": c.parent_id, "help_center_id": c.help_center_id,
    });
    if let Some(t) = &c.translated_content {
        v["translated_content"] = t.clone();
    }
    v
}

/// Schema `article`.
pub fn article(a: &Article) -> Value {
    let mut v = json!({
        "type": "article", "id": a.id, "workspace_id": WORKSPACE_ID, "title": a.title,
        "description": a.description.clone().unwrap_or_default(), "body": a.body.clone().unwrap_or_default(),
        "author_id": int_id(&a.author_id), "state": a.state, "created_at": a.created_at, "updated_at": a.updated_at,
        "url": if a.state == "published" { json!(format!("https://help.sim.invalid/articles/{}", a.id)) } else { Value::Null },
        "parent_id": a.parent_id.as_deref().map(int_id), "parent_type": a.parent_type,
        "parent_ids": a.parent_id.as_deref().map(|p| vec![int_id(p)]).unwrap_or_default(),
        "default_locale": "en", "statistics": null,
    });
    if let Some(t) = &a.translated_content {
        v["translated_content"] = t.clone();
    }
    v
}
