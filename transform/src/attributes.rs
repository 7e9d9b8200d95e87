//! Custom attributes: the conversation attributes of a ticket (standard `ti_*__c` ones plus the mapping's UDF
//! columns), the records that create them, and the 250-attribute limit check.
//!
//! Values: strings over 255 characters are truncated and listed (gaps/truncated_values.csv); datetimes are Unix
//! seconds; values that do not convert to the attribute's type are left out, counted and listed
//! (gaps/unconverted_values.csv).

use crate::conversations::TicketInputs;
use crate::ctx::Ctx;
use crate::error::{Result, TransformError};
use crate::ledger::Lineage;
use crate::model::Ticket;
use crate::source::{Cell, format_float};
use serde_json::{Map, Value, json};
use ti_shared::records::RecordKind;

/// Intercom's limit of custom attributes per model (intercom-api.md §7).
pub const MAX_ATTRIBUTES: usize = 250;

/// The conversation attributes of one ticket.
pub fn ticket_attributes(
    ctx: &Ctx,
    t: &Ticket,
    input: &TicketInputs<'_>,
    key: &str,
    lineage: &mut Lineage,
) -> Value {
    let mut m = Map::new();
    let put_str = |m: &mut Map<String, Value>, name: &str, desc: &str, v: Option<&str>| {
        if let Some(v) = v.map(str::trim).filter(|v| !v.is_empty()) {
            ctx.use_attribute(name, "string", desc);
            m.insert(name.into(), json!(ctx.attr_string(key, name, v)));
        }
    };
    put_str(
        &mut m,
        "ti_ticket_id__c",
        "Track-It! work order number",
        Some(&t.id.to_string()),
    );
    if let Some(raw) = t
        .priority
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let mapped = ctx.mapping.priority.get(raw).cloned().unwrap_or_else(|| {
            ctx.ledger.count("unmapped_priority_values", 1);
            raw.to_string()
        });
        if mapped != raw {
            lineage.rules.push(format!("priority {raw:?} → {mapped:?}"));
        }
        put_str(
            &mut m,
            "ti_priority__c",
            "Track-It! priority",
            Some(&mapped),
        );
    }
    put_str(
        &mut m,
        "ti_status__c",
        "Track-It! status",
        Some(&input.status.0),
    );
    let category = t.category.join(" > ");
    put_str(
        &mut m,
        "ti_category__c",
        "Track-It! category path",
        Some(&category),
    );
    put_str(
        &mut m,
        "ti_department__c",
        "Track-It! department",
        t.department.as_deref(),
    );
    put_str(
        &mut m,
        "ti_location__c",
        "Track-It! location",
        t.location.as_deref(),
    );
    put_str(
        &mut m,
        "ti_asset__c",
        "Track-It! asset name",
        t.asset.as_deref(),
    );
    put_str(
        &mut m,
        "ti_requestor__c",
        "Requestor as written on the Track-It! ticket",
        t.requestor.as_deref(),
    );
    if let Some(p) = input.parent {
        put_str(
            &mut m,
            "ti_parent_ticket_id__c",
            "Parent Track-It! work order (assignments)",
            Some(&p.to_string()),
        );
    }
    for (name, cell, desc) in [
        ("ti_due_at__c", &t.due, "Track-It! due date"),
        (
            "ti_closed_at__c",
            &t.closed,
            "Track-It! close date (Intercom cannot set the close time)",
        ),
        (
            "ti_completed_at__c",
            &t.completed,
            "Track-It! completion date",
        ),
    ] {
        if let Some(ts) = ctx.unix(cell) {
            ctx.use_attribute(name, "datetime", desc);
            m.insert(name.into(), json!(ts));
        }
    }
    if let Some(h) = t.hours {
        ctx.use_attribute("ti_hours__c", "decimal", "Track-It! hours worked");
        m.insert("ti_hours__c".into(), json!(h));
    }
    let enabled = ctx.mapping.attributes.iter().filter(|a| a.enabled);
    for (a, cell) in enabled.zip(&t.attributes) {
        let v = match (a.data_type.as_str(), cell) {
            (_, Cell::Null) => None,
            ("integer", c) => as_f64(c)
                .filter(|f| f.fract() == 0.0)
                .map(|f| json!(f as i64)),
            ("decimal", c) => as_f64(c).map(|f| json!(f)),
            ("boolean", Cell::Bool(b)) => Some(json!(b)),
            ("boolean", Cell::Int(i)) => Some(json!(*i != 0)),
            ("datetime", c) => ctx.unix(c).map(|t| json!(t)),
            ("string", c) => as_text(c)
                .filter(|s| !s.trim().is_empty())
                .map(|s| json!(ctx.attr_string(key, &a.name, s.trim()))),
            _ => None,
        };
        match v {
            Some(v) => {
                ctx.use_attribute(
                    &a.name,
                    &a.data_type,
                    &format!("Track-It! column {}", a.column),
                );
                m.insert(a.name.clone(), v);
            }
            None => {
                let shown = as_text(cell);
                // NULL, blank text and sentinel dates (time.rs, counted there) carry nothing; anything else that
                // does not convert is lost data: counted and listed per record in gaps/unconverted_values.csv.
                let sentinel =
                    matches!(cell, Cell::Local(t) | Cell::Utc(t) if crate::time::is_sentinel(t));
                if *cell != Cell::Null
                    && !sentinel
                    && !shown.as_deref().is_some_and(|s| s.trim().is_empty())
                {
                    ctx.ledger.count("attribute_values_not_converted", 1);
                    ctx.ledger.list(
                        "unconverted_values",
                        vec![
                            key.to_string(),
                            a.name.clone(),
                            shown.unwrap_or_else(|| "(binary value)".into()),
                            format!("not a valid {} (column {})", a.data_type, a.column),
                        ],
                    );
                }
            }
        }
    }
    Value::Object(m)
}

fn as_f64(c: &Cell) -> Option<f64> {
    match c {
        Cell::Int(i) => Some(*i as f64),
        Cell::Float(f) => Some(*f),
        Cell::Text(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn as_text(c: &Cell) -> Option<String> {
    match c {
        Cell::Text(s) => Some(s.clone()),
        Cell::Int(i) => Some(i.to_string()),
        Cell::Float(f) => Some(format_float(*f)),
        Cell::Bool(b) => Some(b.to_string()),
        Cell::Local(t) | Cell::Utc(t) => Some(t.format("%Y-%m-%d %H:%M:%S").to_string()),
        _ => None,
    }
}

/// Emits the conversation attribute records for every attribute the conversations used, and the contact and
/// company data attributes; checks the 250 limit per model.
///
/// # Errors
/// [`TransformError::AttributeLimit`] when a model would exceed 250 custom attributes.
pub fn emit_attribute_records(
    ctx: &Ctx,
    data_attributes: &[(&str, &str, &str, &str)],
) -> Result<()> {
    let conv = ctx
        .conversation_attributes
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    if conv.len() > MAX_ATTRIBUTES {
        return Err(TransformError::AttributeLimit {
            model: "conversation".into(),
            count: conv.len(),
        });
    }
    for model in ["contact", "company"] {
        let count = data_attributes.iter().filter(|(m, ..)| *m == model).count();
        if count > MAX_ATTRIBUTES {
            return Err(TransformError::AttributeLimit {
                model: model.into(),
                count,
            });
        }
    }
    for (name, (data_type, description)) in conv {
        ctx.emit(
            format!("conversation_attribute:{name}"),
            RecordKind::ConversationAttribute,
            vec![],
            ("mapping", &name),
            json!({"name": name, "data_type": data_type, "description": description}),
            Lineage {
                sources: vec![],
                rules: vec!["conversation attribute used by at least one ticket".into()],
            },
        );
    }
    for (model, name, data_type, description) in data_attributes {
        ctx.emit(
            format!("data_attribute:{model}:{name}"),
            RecordKind::DataAttribute,
            vec![],
            ("mapping", name),
            json!({"name": name, "model": model, "data_type": data_type, "description": description}),
            Lineage::default(),
        );
    }
    Ok(())
}
