//! `run --dry-run`: after preflight, prints every request the run would send first (references not yet known
//! are shown as `<id of KEY>`), one line per record, without sending anything.

use crate::phases::read_kind;
use crate::resolve::{Admins, Resolution, resolve};
use serde_json::Value;
use std::collections::HashMap;
use ti_shared::bundle::Bundle;
use ti_shared::records::RecordKind;

fn placeholder_ids(v: &Value, out: &mut HashMap<String, String>) {
    match v {
        Value::Object(m) if m.len() == 1 && m.contains_key("$ref") => {
            let k = m["$ref"].as_str().unwrap_or_default().to_string();
            out.insert(k.clone(), format!("<id of {k}>"));
        }
        Value::Object(m) => m.values().for_each(|x| placeholder_ids(x, out)),
        Value::Array(a) => a.iter().for_each(|x| placeholder_ids(x, out)),
        _ => {}
    }
}

/// Prints what would be sent.
///
/// # Errors
/// A message when records cannot be read.
pub fn print(bundle: &Bundle, admins: &Admins) -> Result<(), String> {
    for kind in RecordKind::ALL {
        for rec in read_kind(bundle, kind)? {
            let mut ids = HashMap::new();
            placeholder_ids(&rec.body, &mut ids);
            let mut res = Resolution::default();
            let body = resolve(&rec.body, &ids, admins, &mut res).map_err(|e| e.to_string())?;
            println!("{} {} {}", kind.as_str(), rec.key, body);
        }
    }
    Ok(())
}
