//! Response objects in the 2.16 shapes (schemas `contact`, `company`, `conversation`, `admin`, …).

use std::borrow::Cow;

use serde::{Serialize, Serializer};
use serde_json::{Map, Value, json};

use crate::model::*;
use crate::routes::RawJson;
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

/// An id written as an integer when it is numeric, else as a string (the serializing twin of [`int_id`]).
struct IntId<'a>(&'a str);

impl Serialize for IntId<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.parse::<i64>() {
            Ok(n) => s.serialize_i64(n),
            Err(_) => s.serialize_str(self.0),
        }
    }
}

/// `{"type": …, "id": …}`.
#[derive(Serialize)]
struct TypedRef<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    id: &'a str,
}

#[derive(Serialize)]
struct AuthorOut<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    id: &'a str,
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
}

fn author<'a>(ws: &'a Workspace, a: &'a Author) -> AuthorOut<'a> {
    let (name, email) = match a.kind.as_str() {
        "admin" => ws
            .admin(&a.id)
            .map(|x| (Some(x.name.as_str()), x.email.as_deref()))
            .unwrap_or((None, None)),
        "team" => (
            ws.teams
                .iter()
                .find(|t| t.id == a.id)
                .map(|t| t.name.as_str()),
            None,
        ),
        _ => ws
            .contacts
            .get(&a.id)
            .map(|c| (c.name.as_deref(), c.email.as_deref()))
            .unwrap_or((None, None)),
    };
    AuthorOut {
        kind: &a.kind,
        id: &a.id,
        name,
        email,
    }
}

/// Schema `part_attachment` (files carry type and size; URLs only name and url).
#[derive(Serialize)]
struct Upload<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    filesize: Option<u64>,
    url: Cow<'a, str>,
}

fn url_upload(u: &str) -> Upload<'_> {
    Upload {
        kind: "upload",
        name: u.rsplit('/').next().unwrap_or(u),
        content_type: None,
        filesize: None,
        url: Cow::Borrowed(u),
    }
}

/// Schema `conversation_part`.
#[derive(Serialize)]
struct PartOut<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
    part_type: &'a str,
    body: Option<Cow<'a, str>>,
    created_at: i64,
    updated_at: i64,
    notified_at: i64,
    assigned_to: Option<TypedRef<'a>>,
    author: AuthorOut<'a>,
    attachments: Vec<Upload<'a>>,
    external_id: (),
    redacted: bool,
}

fn part<'a>(ws: &'a Workspace, conv: &'a Conversation, p: &'a Part) -> PartOut<'a> {
    let body = match (&p.body, p.author.kind.as_str()) {
        (Some(b), "user") => Some(Cow::Owned(plain_text_html(b))),
        (b, _) => b.as_deref().map(Cow::Borrowed),
    };
    let files = p.attachments.iter().map(|a| Upload {
        kind: "upload",
        name: &a.name,
        content_type: Some(&a.content_type),
        filesize: Some(a.size),
        url: Cow::Owned(format!(
            "https://sim.invalid/conversations/{}/attachments/{}",
            conv.id, a.blake3
        )),
    });
    PartOut {
        kind: "conversation_part",
        id: &p.id,
        part_type: &p.part_type,
        body,
        created_at: p.created_at,
        updated_at: p.created_at,
        notified_at: p.created_at,
        assigned_to: p.assigned_to.as_ref().map(|a| TypedRef {
            kind: &a.kind,
            id: &a.id,
        }),
        author: author(ws, &p.author),
        attachments: files
            .chain(p.attachment_urls.iter().map(|u| url_upload(u)))
            .collect(),
        external_id: (),
        redacted: false,
    }
}

/// `{"type": "<kind>", "<key>": [...]}` lists inside a conversation.
#[derive(Serialize)]
struct TagOut<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
    name: &'a str,
}

#[derive(Serialize)]
struct TagList<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    tags: Vec<TagOut<'a>>,
}

#[derive(Serialize)]
struct ContactRef<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
    external_id: Option<&'a str>,
}

#[derive(Serialize)]
struct ContactList<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    contacts: Vec<ContactRef<'a>>,
}

#[derive(Serialize)]
struct Teammates<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    teammates: Vec<TypedRef<'a>>,
}

#[derive(Serialize)]
struct SourceOut<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
    delivered_as: &'static str,
    subject: &'a str,
    body: String,
    author: AuthorOut<'a>,
    attachments: Vec<Upload<'a>>,
    url: (),
    redacted: bool,
}

#[derive(Serialize)]
struct PartList<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    conversation_parts: Vec<PartOut<'a>>,
    total_count: usize,
}

/// Schema `conversation` / `conversation_list_item`, borrowed from the workspace and serialized directly
/// (no `Value` tree: conversation responses are most of a migration's traffic).
#[derive(Serialize)]
struct ConversationOut<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
    title: Option<&'a str>,
    created_at: i64,
    updated_at: i64,
    waiting_since: (),
    snoozed_until: Option<i64>,
    open: bool,
    state: &'a str,
    read: bool,
    priority: &'static str,
    admin_assignee_id: IntId<'a>,
    team_assignee_id: IntId<'a>,
    tags: TagList<'a>,
    source: SourceOut<'a>,
    contacts: ContactList<'a>,
    teammates: Teammates<'a>,
    custom_attributes: &'a Map<String, Value>,
    first_contact_reply: (),
    statistics: (),
    ai_agent_participated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    conversation_parts: Option<PartList<'a>>,
}

fn conversation_out<'a>(
    ws: &'a Workspace,
    c: &'a Conversation,
    max_parts: Option<usize>,
) -> ConversationOut<'a> {
    let mut teammates: Vec<TypedRef<'a>> = Vec::new();
    for p in c.parts.iter().filter(|p| p.author.kind == "admin") {
        if !teammates.iter().any(|t| t.id == p.author.id) {
            teammates.push(TypedRef {
                kind: "admin",
                id: &p.author.id,
            });
        }
    }
    let src = &c.source;
    ConversationOut {
        kind: "conversation",
        id: &c.id,
        title: c.title.as_deref(),
        created_at: c.created_at,
        updated_at: c.updated_at,
        waiting_since: (),
        snoozed_until: c.snoozed_until,
        open: c.state == "open",
        state: &c.state,
        read: c.read,
        priority: "none",
        admin_assignee_id: IntId(c.admin_assignee_id.as_deref().unwrap_or("0")),
        team_assignee_id: IntId(c.team_assignee_id.as_deref().unwrap_or("0")),
        tags: TagList {
            kind: "tag.list",
            tags: c
                .tags
                .iter()
                .map(|t| TagOut {
                    kind: "tag",
                    id: &t.id,
                    name: &t.name,
                })
                .collect(),
        },
        source: SourceOut {
            kind: "conversation",
            id: &src.id,
            delivered_as: "customer_initiated",
            subject: src.subject.as_deref().unwrap_or_default(),
            body: plain_text_html(&src.body),
            author: author(ws, &src.author),
            attachments: src.attachment_urls.iter().map(|u| url_upload(u)).collect(),
            url: (),
            redacted: false,
        },
        contacts: ContactList {
            kind: "contact.list",
            contacts: c
                .contact_ids
                .iter()
                .map(|id| ContactRef {
                    kind: "contact",
                    id,
                    external_id: ws.contacts.get(id).and_then(|x| x.external_id.as_deref()),
                })
                .collect(),
        },
        teammates: Teammates {
            kind: "admin.list",
            teammates,
        },
        custom_attributes: &c.custom_attributes,
        first_contact_reply: (),
        statistics: (),
        ai_agent_participated: false,
        conversation_parts: max_parts.map(|max| {
            let skip = c.parts.len().saturating_sub(max);
            PartList {
                kind: "conversation_part.list",
                conversation_parts: c.parts[skip..].iter().map(|p| part(ws, c, p)).collect(),
                total_count: c.parts.len(),
            }
        }),
    }
}

/// Schema `conversation` (with the newest `max_parts` parts) or `conversation_list_item` (`max_parts = None`).
pub fn conversation(ws: &Workspace, c: &Conversation, max_parts: Option<usize>) -> Value {
    serde_json::to_value(conversation_out(ws, c, max_parts)).unwrap_or(Value::Null)
}

/// [`conversation`] serialized straight to JSON text (the fast path for single-conversation responses).
pub fn conversation_json(ws: &Workspace, c: &Conversation, max_parts: Option<usize>) -> RawJson {
    RawJson(serde_json::to_vec(&conversation_out(ws, c, max_parts)).unwrap_or_default())
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
