//! The workspace's records. Their `Serialize` form is the `/_sim/state` JSON (documented in README.md).

use serde::Serialize;
use serde_json::{Map, Value};

/// A teammate. Admins cannot be created through the API; they come from the seed file.
#[derive(Debug, Clone, Serialize)]
pub struct Admin {
    /// Intercom id (numeric string).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Email, when known.
    pub email: Option<String>,
    /// Teams the admin belongs to.
    pub team_ids: Vec<String>,
}

/// A team (read-only through the API).
#[derive(Debug, Clone, Serialize)]
pub struct Team {
    /// Intercom id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Member admin ids.
    pub admin_ids: Vec<String>,
}

/// A contact or company data attribute created through `POST /data_attributes`.
#[derive(Debug, Clone, Serialize)]
pub struct DataAttribute {
    /// Integer id (the spec types it integer).
    pub id: u64,
    /// `contact` or `company`.
    pub model: String,
    /// Name as written in `custom_attributes`.
    pub name: String,
    /// Stored type: `string`, `integer`, `float`, `boolean`, `date` (a list is `string` with `options`).
    pub data_type: String,
    /// List values, for list attributes.
    pub options: Vec<String>,
    /// Description.
    pub description: Option<String>,
    /// Archived attributes cannot be written but still count against the quota.
    pub archived: bool,
    /// Messenger may write it.
    pub messenger_writable: bool,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

/// One option of a list conversation attribute.
#[derive(Debug, Clone, Serialize)]
pub struct ConvAttrOption {
    /// Option id.
    pub id: String,
    /// Label (the value written in `custom_attributes`).
    pub label: String,
    /// Archived flag.
    pub archived: bool,
}

/// A conversation attribute (`/conversations/attributes`, 2.16).
#[derive(Debug, Clone, Serialize)]
pub struct ConversationAttribute {
    /// Integer id.
    pub id: u64,
    /// Name.
    pub name: String,
    /// `string`, `integer`, `list`, `decimal`, `boolean`, `datetime`, `relationship` or `files`.
    pub data_type: String,
    /// Description.
    pub description: Option<String>,
    /// Required to close.
    pub required: bool,
    /// Multi-line string.
    pub multiline: bool,
    /// Teams that see it (empty = all).
    pub visible_to_team_ids: Vec<String>,
    /// List options.
    pub options: Vec<ConvAttrOption>,
    /// Relationship reference, as sent.
    pub reference: Option<Value>,
    /// Archived (DELETE archives).
    pub archived: bool,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

/// A tag applied to something.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TagRef {
    /// Tag id.
    pub id: String,
    /// Tag name.
    pub name: String,
}

/// A contact (user or lead).
#[derive(Debug, Clone, Serialize)]
pub struct Contact {
    /// 24-hex-character id.
    pub id: String,
    /// `user` or `lead`.
    pub role: String,
    /// Caller's key.
    pub external_id: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Email verified flag.
    pub email_verified: Option<bool>,
    /// Phone.
    pub phone: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Avatar URL.
    pub avatar: Option<String>,
    /// Owner admin id.
    pub owner_id: Option<String>,
    /// Unix seconds.
    pub signed_up_at: Option<i64>,
    /// Unix seconds.
    pub last_seen_at: Option<i64>,
    /// Unsubscribed flag.
    pub unsubscribed_from_emails: bool,
    /// Custom attributes (validated against data attributes).
    pub custom_attributes: Map<String, Value>,
    /// Intercom ids of attached companies, in attach order.
    pub company_ids: Vec<String>,
    /// Tags.
    pub tags: Vec<TagRef>,
    /// Archived.
    pub archived: bool,
    /// Deleted through the API (kept in state, invisible to the API).
    pub deleted: bool,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
    /// Wall-clock milliseconds from which search sees it.
    #[serde(skip)]
    pub visible_at_ms: u128,
}

impl Contact {
    /// A `user` with only an id: created and updated at `t` (Unix seconds), visible to search from
    /// `visible_at_ms`.
    pub fn blank(id: String, t: i64, visible_at_ms: u128) -> Self {
        Self {
            id,
            role: "user".into(),
            external_id: None,
            email: None,
            email_verified: None,
            phone: None,
            name: None,
            avatar: None,
            owner_id: None,
            signed_up_at: None,
            last_seen_at: None,
            unsubscribed_from_emails: false,
            custom_attributes: Map::new(),
            company_ids: vec![],
            tags: vec![],
            archived: false,
            deleted: false,
            created_at: t,
            updated_at: t,
            visible_at_ms,
        }
    }
}

/// A company.
#[derive(Debug, Clone, Serialize)]
pub struct Company {
    /// 24-hex-character Intercom id.
    pub id: String,
    /// Caller's key (upsert key; cannot change).
    pub company_id: String,
    /// Name.
    pub name: Option<String>,
    /// Plan name.
    pub plan: Option<String>,
    /// Size.
    pub size: Option<i64>,
    /// Website.
    pub website: Option<String>,
    /// Industry.
    pub industry: Option<String>,
    /// Monthly spend (integer, truncated).
    pub monthly_spend: Option<i64>,
    /// Unix seconds.
    pub remote_created_at: Option<i64>,
    /// Custom attributes.
    pub custom_attributes: Map<String, Value>,
    /// Tags.
    pub tags: Vec<TagRef>,
    /// Deleted through the API.
    pub deleted: bool,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

/// Who wrote a part: `{"type": "admin"|"user"|"team", "id"}`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Author {
    /// `admin`, `user` (a contact) or `team`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Id.
    pub id: String,
}

/// A decoded `attachment_files` entry (bytes are not kept, only their size and hash).
#[derive(Debug, Clone, Serialize)]
pub struct Attachment {
    /// File name.
    pub name: String,
    /// Declared content type.
    pub content_type: String,
    /// Decoded size in bytes.
    pub size: u64,
    /// BLAKE3 of the decoded bytes, lowercase hex.
    pub blake3: String,
}

/// One conversation part, in arrival order.
#[derive(Debug, Clone, Serialize)]
pub struct Part {
    /// Part id.
    pub id: String,
    /// `comment`, `note`, `quick_reply`, `close`, `open`, `snoozed` or `assignment`.
    pub part_type: String,
    /// Body as sent.
    pub body: Option<String>,
    /// Author.
    pub author: Author,
    /// Unix seconds (the request's `created_at` for replies, else arrival time).
    pub created_at: i64,
    /// Decoded attachment files.
    pub attachments: Vec<Attachment>,
    /// Attachment URLs as sent.
    pub attachment_urls: Vec<String>,
    /// Assignee of an assignment part.
    pub assigned_to: Option<Author>,
    /// `skip_notifications` as sent on a reply.
    pub skip_notifications: bool,
}

/// The opening message of a conversation (`source` in the API; not a part).
#[derive(Debug, Clone, Serialize)]
pub struct Source {
    /// Message id returned by `POST /conversations`.
    pub id: String,
    /// Body as sent (plain text).
    pub body: String,
    /// Subject.
    pub subject: Option<String>,
    /// Author (the contact).
    pub author: Author,
    /// Attachment URLs.
    pub attachment_urls: Vec<String>,
    /// Unix seconds.
    pub created_at: i64,
}

/// A conversation.
#[derive(Debug, Clone, Serialize)]
pub struct Conversation {
    /// Numeric-string id.
    pub id: String,
    /// Unix seconds (the create request's `created_at` when given).
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
    /// Title.
    pub title: Option<String>,
    /// `open`, `closed` or `snoozed`.
    pub state: String,
    /// Read flag.
    pub read: bool,
    /// Snoozed until, Unix seconds.
    pub snoozed_until: Option<i64>,
    /// Assigned admin id (`None` = unassigned).
    pub admin_assignee_id: Option<String>,
    /// Assigned team id.
    pub team_assignee_id: Option<String>,
    /// Participating contacts.
    pub contact_ids: Vec<String>,
    /// Custom attributes (validated against conversation attributes).
    pub custom_attributes: Map<String, Value>,
    /// Tags.
    pub tags: Vec<TagRef>,
    /// Opening message.
    pub source: Source,
    /// Every part, in arrival order (all of them, not capped).
    pub parts: Vec<Part>,
    /// Deleted through the API.
    pub deleted: bool,
    /// Wall-clock milliseconds from which search sees it.
    #[serde(skip)]
    pub visible_at_ms: u128,
}

/// A note on a contact or company.
#[derive(Debug, Clone, Serialize)]
pub struct Note {
    /// Note id.
    pub id: String,
    /// `contact` or `company`.
    pub target_type: String,
    /// Intercom id of the contact/company.
    pub target_id: String,
    /// Body as sent.
    pub body: String,
    /// Author admin id.
    pub author_id: String,
    /// Unix seconds.
    pub created_at: i64,
}

/// A tag.
#[derive(Debug, Clone, Serialize)]
pub struct Tag {
    /// Id.
    pub id: String,
    /// Name (unique, case-insensitive).
    pub name: String,
    /// Unix seconds.
    pub created_at: i64,
}

/// A help center collection.
#[derive(Debug, Clone, Serialize)]
pub struct Collection {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Parent collection id.
    pub parent_id: Option<String>,
    /// Help center id.
    pub help_center_id: Option<i64>,
    /// Translations as sent.
    pub translated_content: Option<Value>,
    /// Deleted.
    pub deleted: bool,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

/// A help center article.
#[derive(Debug, Clone, Serialize)]
pub struct Article {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: Option<String>,
    /// HTML body as sent.
    pub body: Option<String>,
    /// Author admin id.
    pub author_id: String,
    /// `published` or `draft`.
    pub state: String,
    /// Parent collection id.
    pub parent_id: Option<String>,
    /// Parent type (`collection`).
    pub parent_type: Option<String>,
    /// Translations as sent.
    pub translated_content: Option<Value>,
    /// Deleted.
    pub deleted: bool,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

/// A message a customer would have received (admin comment without `skip_notifications`).
#[derive(Debug, Clone, Serialize)]
pub struct Notification {
    /// Conversation id.
    pub conversation_id: String,
    /// Part id.
    pub part_id: String,
    /// Recipient contact id.
    pub contact_id: String,
    /// Recipient email.
    pub email: String,
    /// Unix seconds of the part.
    pub part_created_at: i64,
    /// Unix seconds when it would have been sent (arrival time).
    pub sent_at: i64,
}

/// One state-changing request (POST/PUT/DELETE except searches), whatever its outcome. Kept compact (one
/// allocation, the path): a long load run logs millions of them.
#[derive(Debug, Clone, Serialize)]
pub struct RequestLog {
    /// Arrival order, from 1.
    pub seq: u64,
    /// HTTP method.
    pub method: &'static str,
    /// Path (no query).
    pub path: Box<str>,
    /// HTTP status answered (for `reset-after-apply` the status the handler produced, never delivered).
    pub status: u16,
    /// Injected fault: `5xx`, `reset-after-apply`, `429-storm`, or null.
    pub fault: Option<&'static str>,
    /// Unix seconds.
    pub at: i64,
}
