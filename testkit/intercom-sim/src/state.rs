//! The in-memory workspace, the shared application handle and the `/_sim/state` dump.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::config::SimConfig;
use crate::errors::SimError;
use crate::faults::Faults;
use crate::index::Indexes;
use crate::model::*;
use crate::ratelimit::RateLimiter;

/// Current Unix time in seconds.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Current Unix time in milliseconds.
pub fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

/// Admins and teams the workspace starts with.
#[derive(Debug, Clone)]
pub struct Seed {
    /// Id of the admin owning the token.
    pub me: String,
    /// All admins (including `me`).
    pub admins: Vec<Admin>,
    /// Teams.
    pub teams: Vec<Team>,
}

impl Seed {
    /// One admin `9000001` "Migration Admin", no teams.
    pub fn default_seed() -> Self {
        let me = Admin {
            id: "9000001".into(),
            name: "Migration Admin".into(),
            email: Some("migration.admin@example.com".into()),
            team_ids: vec![],
        };
        Self {
            me: me.id.clone(),
            admins: vec![me],
            teams: vec![],
        }
    }

    /// Parse the fixture generator's admins.json:
    /// `{"me": {id,name,email}, "admins": [{id,name,email}], "teams": [{id,name,admin_ids}]}`.
    ///
    /// # Errors
    /// [`SimError::SeedAdmins`] when the file is unreadable or not of that shape.
    pub fn from_file(path: &Path) -> Result<Self, SimError> {
        let err = |reason: String| SimError::SeedAdmins {
            path: path.display().to_string(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let v: Value = serde_json::from_str(&text).map_err(|e| err(e.to_string()))?;
        let id_of = |x: &Value| -> Option<String> {
            match x {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            }
        };
        let admin_of = |a: &Value| -> Result<Admin, SimError> {
            Ok(Admin {
                id: a
                    .get("id")
                    .and_then(id_of)
                    .ok_or_else(|| err("admin without id".into()))?,
                name: a
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                email: a.get("email").and_then(Value::as_str).map(str::to_string),
                team_ids: vec![],
            })
        };
        let me = admin_of(v.get("me").ok_or_else(|| err("missing \"me\"".into()))?)?;
        let mut admins = Vec::new();
        for a in v
            .get("admins")
            .and_then(Value::as_array)
            .ok_or_else(|| err("missing \"admins\" array".into()))?
        {
            admins.push(admin_of(a)?);
        }
        if !admins.iter().any(|a| a.id == me.id) {
            admins.insert(0, me.clone());
        }
        let mut teams = Vec::new();
        for t in v
            .get("teams")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
        {
            let team = Team {
                id: t
                    .get("id")
                    .and_then(id_of)
                    .ok_or_else(|| err("team without id".into()))?,
                name: t
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                admin_ids: t
                    .get("admin_ids")
                    .and_then(Value::as_array)
                    .map(|ids| ids.iter().filter_map(id_of).collect())
                    .unwrap_or_default(),
            };
            for a in admins.iter_mut().filter(|a| team.admin_ids.contains(&a.id)) {
                a.team_ids.push(team.id.clone());
            }
            teams.push(team);
        }
        Ok(Self {
            me: me.id,
            admins,
            teams,
        })
    }
}

/// Everything the workspace holds. Maps are keyed by id; ids are fixed-width so key order is creation order.
#[derive(Debug, Default)]
pub struct Workspace {
    /// Token owner.
    pub me: String,
    /// Admins.
    pub admins: Vec<Admin>,
    /// Teams.
    pub teams: Vec<Team>,
    /// Contact and company data attributes.
    pub data_attributes: Vec<DataAttribute>,
    /// Conversation attributes.
    pub conversation_attributes: Vec<ConversationAttribute>,
    /// Contacts. Read freely; change `email`, `external_id`, `company_ids` or `deleted` only through
    /// [`Workspace::put_contact`] / [`Workspace::update_contact`] (they keep the indexes current).
    pub contacts: BTreeMap<String, Contact>,
    /// Companies. Add or delete only through [`Workspace::put_company`] / [`Workspace::delete_company`].
    pub companies: BTreeMap<String, Company>,
    /// Conversations.
    pub conversations: BTreeMap<String, Conversation>,
    /// Notes on contacts and companies (append only through [`Workspace::add_note`]).
    pub notes: Vec<Note>,
    /// Tags.
    pub tags: Vec<Tag>,
    /// Collections.
    pub collections: BTreeMap<String, Collection>,
    /// Articles.
    pub articles: BTreeMap<String, Article>,
    /// Customer notifications that would have been sent.
    pub notifications: Vec<Notification>,
    /// State-changing requests.
    pub requests: Vec<RequestLog>,
    next_id: u64,
    idx: Indexes,
}

impl Workspace {
    /// A workspace holding only the seed admins and teams.
    pub fn new(seed: &Seed) -> Self {
        Self {
            me: seed.me.clone(),
            admins: seed.admins.clone(),
            teams: seed.teams.clone(),
            next_id: 100_000_001,
            ..Default::default()
        }
    }

    /// Next numeric id (9+ digits, shared by every numeric-id object).
    pub fn next_num(&mut self) -> u64 {
        let n = self.next_id;
        self.next_id += 1;
        n
    }

    /// Next numeric-string id.
    pub fn next_str(&mut self) -> String {
        self.next_num().to_string()
    }

    /// Next 24-hex-character id (contacts, companies), like Intercom's.
    pub fn next_hex(&mut self, prefix: u32) -> String {
        let n = self.next_num();
        format!("{prefix:08x}{n:016x}")
    }

    /// The admin with `id`.
    pub fn admin(&self, id: &str) -> Option<&Admin> {
        self.admins.iter().find(|a| a.id == id)
    }

    /// A live (not deleted) contact.
    pub fn contact(&self, id: &str) -> Option<&Contact> {
        self.contacts.get(id).filter(|c| !c.deleted)
    }

    /// A live company by Intercom id.
    pub fn company(&self, id: &str) -> Option<&Company> {
        self.companies.get(id).filter(|c| !c.deleted)
    }

    /// A live conversation.
    pub fn conversation(&self, id: &str) -> Option<&Conversation> {
        self.conversations.get(id).filter(|c| !c.deleted)
    }

    /// Tag by id.
    pub fn tag(&self, id: &str) -> Option<&Tag> {
        self.tags.iter().find(|t| t.id == id)
    }

    /// Number of live contacts attached to company `id` (indexed: O(1)).
    pub fn user_count(&self, company_id: &str) -> usize {
        self.idx.user_count(company_id)
    }

    /// The live contact whose email equals `email` ignoring ASCII case (indexed).
    pub fn contact_by_email(&self, email: &str) -> Option<&Contact> {
        self.idx
            .contact_by_email(email)
            .and_then(|id| self.contacts.get(id))
    }

    /// The live contact with this `external_id` (indexed).
    pub fn contact_by_external_id(&self, external_id: &str) -> Option<&Contact> {
        self.idx
            .contact_by_external_id(external_id)
            .and_then(|id| self.contacts.get(id))
    }

    /// The live company with this `company_id` (indexed).
    pub fn company_by_company_id(&self, company_id: &str) -> Option<&Company> {
        self.idx
            .company_by_company_id(company_id)
            .and_then(|id| self.companies.get(id))
    }

    /// Insert or replace a contact (by id), keeping the indexes current.
    pub fn put_contact(&mut self, c: Contact) {
        if let Some(old) = self.contacts.get(&c.id) {
            self.idx.remove_contact(old);
        }
        self.idx.add_contact(&c);
        self.contacts.insert(c.id.clone(), c);
    }

    /// Change contact `id` (deleted or not) with `f`, keeping the indexes current; `None` when unknown.
    pub fn update_contact<R>(&mut self, id: &str, f: impl FnOnce(&mut Contact) -> R) -> Option<R> {
        let c = self.contacts.get_mut(id)?;
        self.idx.remove_contact(c);
        let r = f(c);
        self.idx.add_contact(c);
        Some(r)
    }

    /// Insert or replace a company (by id; its `company_id` never changes), keeping the indexes current.
    pub fn put_company(&mut self, c: Company) {
        self.idx.add_company(&c);
        self.companies.insert(c.id.clone(), c);
    }

    /// Mark company `id` deleted and detach it from every contact; `false` when unknown.
    pub fn delete_company(&mut self, id: &str) -> bool {
        let Some(c) = self.companies.get_mut(id) else {
            return false;
        };
        self.idx.remove_company(c);
        c.deleted = true;
        c.updated_at = now();
        let linked: Vec<String> = self
            .contacts
            .values()
            .filter(|c| c.company_ids.iter().any(|x| x == id))
            .map(|c| c.id.clone())
            .collect();
        for contact in linked {
            self.update_contact(&contact, |c| c.company_ids.retain(|x| x != id));
        }
        true
    }

    /// Append a note, keeping the per-target index current.
    pub fn add_note(&mut self, n: Note) {
        self.idx.add_note(self.notes.len(), &n);
        self.notes.push(n);
    }

    /// The notes on `(target_type, target_id)` in arrival order (indexed).
    pub fn notes_of<'a>(
        &'a self,
        target_type: &str,
        target_id: &str,
    ) -> impl DoubleEndedIterator<Item = &'a Note> + 'a {
        self.idx
            .notes_of(target_type, target_id)
            .iter()
            .filter_map(|&i| self.notes.get(i))
    }

    /// True when the indexes equal ones rebuilt from the objects (a self-check for tests).
    pub fn indexes_consistent(&self) -> bool {
        self.idx == Indexes::rebuild(&self.contacts, &self.companies, &self.notes)
    }

    /// Log one state-changing request.
    pub fn log_request(
        &mut self,
        method: &'static str,
        path: &str,
        status: u16,
        fault: Option<&'static str>,
    ) {
        let seq = self.requests.len() as u64 + 1;
        self.requests.push(RequestLog {
            seq,
            method,
            path: path.into(),
            status,
            fault,
            at: now(),
        });
    }

    /// The `/_sim/state` document (shape in README.md). Debug builds (the tests) also check that the
    /// indexes agree with the objects, and panic when they do not.
    pub fn dump(&self) -> Value {
        debug_assert!(self.indexes_consistent(), "workspace indexes out of date");
        let notes_for = |kind: &str| -> Vec<&Note> {
            self.notes
                .iter()
                .filter(|n| n.target_type == kind)
                .collect()
        };
        json!({
            "me": self.me,
            "admins": self.admins,
            "teams": self.teams,
            "data_attributes": self.data_attributes,
            "conversation_attributes": self.conversation_attributes,
            "contacts": self.contacts.values().collect::<Vec<_>>(),
            "companies": self.companies.values().map(|c| {
                let mut v = serde_json::to_value(c).unwrap_or(Value::Null);
                v["user_count"] = json!(self.user_count(&c.id));
                v
            }).collect::<Vec<_>>(),
            "conversations": self.conversations.values().collect::<Vec<_>>(),
            "notes": self.notes,
            "contact_notes": notes_for("contact"),
            "company_notes": notes_for("company"),
            "tags": self.tags,
            "collections": self.collections.values().collect::<Vec<_>>(),
            "articles": self.articles.values().collect::<Vec<_>>(),
            "notifications": self.notifications,
            "requests": self.requests,
        })
    }
}

/// Shared application handle.
pub type Shared = Arc<App>;

/// The running simulator: settings, workspace, rate limiter and faults.
#[derive(Debug)]
pub struct App {
    /// Settings.
    pub cfg: SimConfig,
    /// Seed used by `/_sim/reset`.
    pub seed: Seed,
    ws: Mutex<Workspace>,
    /// Rate-limit windows.
    pub limiter: Mutex<RateLimiter>,
    /// Active faults and their RNG.
    pub faults: Mutex<Faults>,
}

impl App {
    /// Build from settings.
    ///
    /// # Errors
    /// Seed file or fault spec errors.
    pub fn new(cfg: SimConfig) -> Result<Shared, SimError> {
        let seed = match &cfg.seed_admins {
            Some(p) => Seed::from_file(p)?,
            None => Seed::default_seed(),
        };
        let faults =
            Faults::new(&cfg.faults, cfg.fault_seed, cfg.latency_ms).map_err(SimError::Fault)?;
        Ok(Arc::new(Self {
            ws: Mutex::new(Workspace::new(&seed)),
            limiter: Mutex::new(RateLimiter::new(cfg.rate_limit_per_minute)),
            faults: Mutex::new(faults),
            seed,
            cfg,
        }))
    }

    /// Lock the workspace (a poisoned lock is recovered: state stays usable after a handler panic).
    pub fn ws(&self) -> MutexGuard<'_, Workspace> {
        self.ws.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Lock the faults.
    pub fn faults(&self) -> MutexGuard<'_, Faults> {
        self.faults.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Lock the limiter.
    pub fn limiter(&self) -> MutexGuard<'_, RateLimiter> {
        self.limiter.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Forget every object and log, keep admins/teams, restart rate windows.
    pub fn reset(&self) {
        *self.ws() = Workspace::new(&self.seed);
        *self.limiter() = RateLimiter::new(self.cfg.rate_limit_per_minute);
    }
}
