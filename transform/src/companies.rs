//! Contacts, companies, contact–company links, and the company/contact notes (asset register and merged person
//! records, whose bodies state the original time and actor because those endpoints take no timestamp).
//!
//! Company grouping (mapping `companies.grouping`): `domain` (email domain), `department` or `location` of the
//! person (for unknown requestors: of their first ticket). Assets join the company of their assigned person.

use crate::ctx::Ctx;
use crate::ledger::Lineage;
use crate::model::{Asset, Generic, User};
use crate::people::{domain, slug};
use crate::text::to_html;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use ti_shared::records::RecordKind;

/// An unknown requestor: one contact per normalised name.
#[derive(Debug, Clone, Default)]
pub struct UnknownRequestor {
    /// Name as first written.
    pub name: String,
    /// Department or location of the first ticket (company grouping).
    pub department: Option<String>,
    /// Location of the first ticket.
    pub location: Option<String>,
    /// Tickets.
    pub tickets: u64,
}

/// A company being assembled.
#[derive(Debug, Clone, Default)]
struct Company {
    name: String,
    assets: Vec<String>,
    serials: Vec<String>,
    models: Vec<String>,
    locations: Vec<String>,
}

fn company_of(
    grouping: &str,
    email: Option<&str>,
    dept: Option<&str>,
    loc: Option<&str>,
) -> Option<(String, String)> {
    let pick = |prefix: &str, v: Option<&str>| {
        v.map(str::trim).filter(|s| !s.is_empty()).map(|s| {
            (
                format!("ti-{prefix}-{}", slug(&s.to_lowercase())),
                s.to_string(),
            )
        })
    };
    match grouping {
        "domain" => email.map(|e| (format!("ti-domain-{}", domain(e)), domain(e).to_string())),
        "location" => pick("loc", loc),
        _ => pick("dept", dept),
    }
}

fn fmt_time(ts: Option<i64>) -> String {
    ts.and_then(|t| chrono::DateTime::from_timestamp(t, 0))
        .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// Emits contacts, companies, links and notes. `unknown` maps contact keys of unknown requestors to their facts.
pub fn emit(
    ctx: &Ctx,
    unknown: &BTreeMap<String, UnknownRequestor>,
    assets: &[Asset],
    config_items: &[Generic],
) {
    let grouping = ctx.mapping.companies.grouping.clone();
    let user_table = ctx.table("user");
    let mut companies: BTreeMap<String, Company> = BTreeMap::new();
    let mut company_by_person: BTreeMap<i64, String> = BTreeMap::new();
    let mut links: Vec<(String, String, String, String)> = Vec::new();
    for (id, u) in &ctx.people.users {
        if let Some(&into) = ctx.people.merged_into.get(id) {
            let email = ctx.people.emails.get(id).cloned().unwrap_or_default();
            ctx.ledger.drop_row(
                "user",
                &user_table,
                &id.to_string(),
                "merged into another contact sharing its email (gaps/merged_contacts.csv)",
            );
            ctx.ledger.list(
                "merged_contacts",
                vec![
                    id.to_string(),
                    into.to_string(),
                    email.clone(),
                    u.display_name().unwrap_or_default(),
                ],
            );
            let body = to_html(&format!(
                "Track-It! person record {id} ({}, login {}) was merged into this contact because both use the email {email}.\nOriginal record created {} in the Track-It! user register.",
                u.display_name().unwrap_or_default(),
                u.login.as_deref().unwrap_or("-"),
                fmt_time(ctx.unix(&u.created)),
            ));
            let contact = format!("contact:person:{into}");
            ctx.emit(
                format!("contact_note:{user_table}:{id}"),
                RecordKind::ContactNote,
                vec![contact.clone()],
                (&user_table, &id.to_string()),
                json!({"contact": {"$ref": contact}, "body": body, "admin_id": {"$admin": null}}),
                Lineage {
                    sources: vec![format!("{user_table}:{id}")],
                    rules: vec!["merged person: note on the surviving contact".into()],
                },
            );
            continue;
        }
        if !ctx.people.is_contact_role(*id) {
            ctx.ledger.migrated("user", 1);
            continue;
        }
        ctx.ledger.migrated("user", 1);
        let key = format!("contact:person:{id}");
        let email = ctx.people.emails.get(id).cloned();
        let mut rules = vec![];
        let mut body = json!({"role": "user", "external_id": format!("ti-user-{id}")});
        if let Some(e) = &email {
            body["email"] = json!(e);
        } else if let Some(raw) = ctx.people.invalid_emails.get(id) {
            rules.push(format!("invalid email {raw:?} left out"));
        }
        if let Some(n) = u.display_name() {
            body["name"] = json!(n);
        }
        if let Some(p) = u.phone.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            body["phone"] = json!(p);
        }
        if let Some(t) = ctx.unix(&u.created) {
            body["signed_up_at"] = json!(t);
        }
        let mut custom = serde_json::Map::new();
        for (name, v) in [
            ("ti_login", &u.login),
            ("ti_department", &u.department),
            ("ti_location", &u.location),
        ] {
            if let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                custom.insert(name.into(), json!(ctx.attr_string(&key, name, v)));
            }
        }
        body["custom_attributes"] = Value::Object(custom);
        ctx.emit(
            key.clone(),
            RecordKind::Contact,
            vec![],
            (&user_table, &id.to_string()),
            body,
            Lineage {
                sources: vec![format!("{user_table}:{id}")],
                rules,
            },
        );
        if let Some((cid, name)) = company_of(
            &grouping,
            email.as_deref(),
            u.department.as_deref(),
            u.location.as_deref(),
        ) {
            companies.entry(cid.clone()).or_insert_with(|| Company {
                name,
                ..Default::default()
            });
            company_by_person.insert(*id, cid.clone());
            links.push((key, cid, user_table.clone(), id.to_string()));
        }
    }
    for (key, r) in unknown {
        let external = key.trim_start_matches("contact:requestor:");
        let mut body = json!({"role": "user", "external_id": format!("ti-requestor-{external}"), "custom_attributes": {}});
        if !r.name.trim().is_empty() {
            body["name"] = json!(r.name.trim());
        } else {
            body["name"] = json!("Unknown requestor");
        }
        ctx.ledger.list(
            "unknown_requestors",
            vec![key.clone(), r.name.clone(), r.tickets.to_string()],
        );
        ctx.emit(
            key.clone(),
            RecordKind::Contact,
            vec![],
            ("requestor", &r.name),
            body,
            Lineage {
                sources: vec![],
                rules: vec![
                    "requestor name matches no person: one contact per normalised name".into(),
                ],
            },
        );
        if let Some((cid, name)) = company_of(
            &grouping,
            None,
            r.department.as_deref(),
            r.location.as_deref(),
        ) {
            companies.entry(cid.clone()).or_insert_with(|| Company {
                name,
                ..Default::default()
            });
            links.push((key.clone(), cid, "requestor".into(), r.name.clone()));
        }
    }
    let asset_table = ctx.table("asset");
    let mut asset_company: BTreeMap<i64, String> = BTreeMap::new();
    for a in assets {
        let get = |k: &str| a.fields.get(k).cloned().unwrap_or_default();
        let person = a
            .fields
            .get("assigned_user")
            .and_then(|n| ctx.people.match_any(n))
            .map(|id| ctx.people.survivor(id));
        let Some(cid) = person.and_then(|p| company_by_person.get(&p).cloned()) else {
            ctx.ledger.drop_row(
                "asset",
                &asset_table,
                &a.pk,
                "assigned to no known person with a company",
            );
            continue;
        };
        ctx.ledger.migrated("asset", 1);
        asset_company.insert(a.id, cid.clone());
        let c = companies.entry(cid.clone()).or_default();
        let label = if get("tag").is_empty() {
            get("name")
        } else {
            get("tag")
        };
        c.assets.push(label.clone());
        for (list, v) in [
            (&mut c.serials, get("serial")),
            (&mut c.models, get("model")),
            (&mut c.locations, get("location")),
        ] {
            if !v.trim().is_empty() && !list.contains(&v) {
                list.push(v);
            }
        }
        let text = format!(
            "Track-It! asset {} (tag {}): {} {} {}, serial {}, location {}, assigned to {}.\nPurchased {}; retired {}. BCM managed: {}{}.\nFrom the Track-It! asset register (original time and actor as above; company notes carry no timestamp).",
            get("name"),
            get("tag"),
            get("type"),
            get("manufacturer"),
            get("model"),
            get("serial"),
            get("location"),
            get("assigned_user"),
            fmt_time(ctx.unix(&a.purchased)),
            fmt_time(ctx.unix(&a.retired)),
            if a.managed.unwrap_or(false) {
                "yes"
            } else {
                "no"
            },
            a.fields
                .get("bcm_device")
                .map(|d| format!(" (device {d})"))
                .unwrap_or_default(),
        );
        let company = format!("company:{cid}");
        ctx.emit(
            format!("company_note:{asset_table}:{}", a.pk),
            RecordKind::CompanyNote,
            vec![company.clone()],
            (&asset_table, &a.pk),
            json!({"company": {"$ref": company}, "body": to_html(&text), "admin_id": {"$admin": null}}),
            Lineage { sources: vec![format!("{asset_table}:{}", a.pk)], rules: vec!["asset → note on the company of its assigned person".into()] },
        );
    }
    let ci_table = ctx.table("config_item");
    for ci in config_items {
        let asset = ci.fields.get("asset").and_then(|a| a.parse::<i64>().ok());
        let Some(cid) = asset.and_then(|a| asset_company.get(&a)) else {
            ctx.ledger.drop_row(
                "config_item",
                &ci_table,
                &ci.pk,
                "tracked item of no migrated asset",
            );
            continue;
        };
        ctx.ledger.migrated("config_item", 1);
        let f = |k: &str| ci.fields.get(k).cloned().unwrap_or_default();
        let text = format!(
            "Track-It! tracked item {} ({}, status {}) of asset {}.\n{}",
            f("name"),
            f("type"),
            f("status"),
            f("asset"),
            f("notes")
        );
        let company = format!("company:{cid}");
        ctx.emit(
            format!("company_note:{ci_table}:{}", ci.pk),
            RecordKind::CompanyNote,
            vec![company.clone()],
            (&ci_table, &ci.pk),
            json!({"company": {"$ref": company}, "body": to_html(&crate::text::to_plain(&text, &ctx.text)), "admin_id": {"$admin": null}}),
            Lineage { sources: vec![format!("{ci_table}:{}", ci.pk)], rules: vec!["tracked item → company note (hierarchy flattened)".into()] },
        );
    }
    for (cid, c) in &companies {
        let key = format!("company:{cid}");
        let mut custom = serde_json::Map::new();
        if !c.assets.is_empty() {
            custom.insert("ti_asset_count".into(), json!(c.assets.len()));
            for (name, list) in [
                ("ti_asset_tags", &c.assets),
                ("ti_asset_serials", &c.serials),
                ("ti_asset_models", &c.models),
                ("ti_locations", &c.locations),
            ] {
                if !list.is_empty() {
                    custom.insert(
                        name.into(),
                        json!(ctx.attr_string(&key, name, &list.join(", "))),
                    );
                }
            }
        }
        let body = json!({"company_id": cid, "name": c.name, "custom_attributes": custom});
        ctx.emit(
            key,
            RecordKind::Company,
            vec![],
            ("grouping", cid),
            body,
            Lineage {
                sources: vec![],
                rules: vec![format!("company grouping by {grouping}")],
            },
        );
    }
    for (contact, cid, table, pk) in links {
        let company = format!("company:{cid}");
        ctx.emit(
            format!("contact_company:{contact}"),
            RecordKind::ContactCompany,
            vec![contact.clone(), company.clone()],
            (&table, &pk),
            json!({"contact": {"$ref": contact}, "company": {"$ref": company}}),
            Lineage::default(),
        );
    }
}

/// The data attributes the contact and company records use: (model, name, type, description).
pub const DATA_ATTRIBUTES: &[(&str, &str, &str, &str)] = &[
    ("contact", "ti_login", "string", "Track-It! login"),
    ("contact", "ti_department", "string", "Track-It! department"),
    ("contact", "ti_location", "string", "Track-It! location"),
    (
        "company",
        "ti_asset_count",
        "integer",
        "Track-It! assets of this organisation",
    ),
    (
        "company",
        "ti_asset_tags",
        "string",
        "Track-It! asset tags (truncated to 255 characters)",
    ),
    (
        "company",
        "ti_asset_serials",
        "string",
        "Track-It! asset serial numbers",
    ),
    (
        "company",
        "ti_asset_models",
        "string",
        "Track-It! asset models",
    ),
    (
        "company",
        "ti_locations",
        "string",
        "Track-It! asset locations",
    ),
];

/// People rows for technicians.csv: (key, name, email, login, active).
pub fn technicians(ctx: &Ctx) -> Vec<Vec<String>> {
    let mut rows: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (id, key) in &ctx.tech_keys {
        let u: &User = &ctx.people.users[id];
        rows.entry(key.trim_start_matches("technician:").to_string())
            .or_insert_with(|| {
                vec![
                    key.trim_start_matches("technician:").to_string(),
                    u.display_name().unwrap_or_default(),
                    ctx.people.emails.get(id).cloned().unwrap_or_default(),
                    u.login.clone().unwrap_or_default(),
                    u.active.map(|a| a.to_string()).unwrap_or_default(),
                ]
            });
    }
    rows.into_values().collect()
}
