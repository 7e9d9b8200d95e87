//! The search query grammar subset (`{field, operator, value}` filters, `AND`/`OR` groups at most two
//! levels deep, at most 15 items per group) and cursor pagination shared by search and list endpoints.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::errors::{ApiError, ApiResult};

/// Maximum items in one group (documented).
pub const MAX_GROUP_ITEMS: usize = 15;
/// Maximum nesting of groups (documented: 2).
pub const MAX_DEPTH: usize = 2;
/// Maximum `per_page` (documented).
pub const MAX_PER_PAGE: usize = 150;

/// A parsed query.
#[derive(Debug, Clone)]
pub enum Query {
    /// One comparison.
    Filter {
        /// Field path, e.g. `external_id`, `custom_attributes.trackit_id`.
        field: String,
        /// Operator.
        op: String,
        /// Value.
        value: Value,
    },
    /// `AND` (true) or `OR` (false) group.
    Group(bool, Vec<Query>),
}

const OPERATORS: &[&str] = &[
    "=", "!=", "IN", "NIN", "<", ">", "<=", ">=", "~", "!~", "^", "$",
];

/// Parse and check a query; `field_ok` says whether a field may be searched.
///
/// # Errors
/// 400 `parameter_invalid` for a malformed query, unknown operator or field, too deep or too wide groups.
pub fn parse(v: &Value, field_ok: &dyn Fn(&str) -> bool) -> ApiResult<Query> {
    parse_at(v, 0, field_ok)
}

fn parse_at(v: &Value, depth: usize, field_ok: &dyn Fn(&str) -> bool) -> ApiResult<Query> {
    let o = v
        .as_object()
        .ok_or_else(|| ApiError::invalid_field("query", "query must be an object"))?;
    let op = o
        .get("operator")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::missing("query.operator"))?;
    if op == "AND" || op == "OR" {
        if depth >= MAX_DEPTH {
            return Err(ApiError::invalid_field(
                "query",
                format!("queries may nest at most {MAX_DEPTH} levels"),
            ));
        }
        let items = o.get("value").and_then(Value::as_array).ok_or_else(|| {
            ApiError::invalid_field("query.value", "group value must be an array")
        })?;
        if items.is_empty() || items.len() > MAX_GROUP_ITEMS {
            return Err(ApiError::invalid_field(
                "query.value",
                format!("a group holds 1 to {MAX_GROUP_ITEMS} filters"),
            ));
        }
        let qs = items
            .iter()
            .map(|i| parse_at(i, depth + 1, field_ok))
            .collect::<ApiResult<Vec<_>>>()?;
        return Ok(Query::Group(op == "AND", qs));
    }
    if !OPERATORS.contains(&op) {
        return Err(ApiError::invalid_field(
            "query.operator",
            format!("operator {op:?} is not supported"),
        ));
    }
    let field = o
        .get("field")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::missing("query.field"))?;
    if !field_ok(field) {
        return Err(ApiError::invalid_field(
            "query.field",
            format!("{field} is not a searchable field"),
        ));
    }
    let value = o.get("value").cloned().unwrap_or(Value::Null);
    if matches!(op, "IN" | "NIN") && !value.is_array() {
        return Err(ApiError::invalid_field(
            "query.value",
            format!("{op} needs an array value"),
        ));
    }
    Ok(Query::Filter {
        field: field.to_string(),
        op: op.to_string(),
        value,
    })
}

fn scalar_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.eq_ignore_ascii_case(y),
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::String(x), Value::Number(y)) | (Value::Number(y), Value::String(x)) => {
            x == &y.to_string()
        }
        (Value::String(x), Value::Bool(y)) | (Value::Bool(y), Value::String(x)) => {
            x == &y.to_string()
        }
        _ => a == b,
    }
}

fn eq(actual: &Value, want: &Value) -> bool {
    match actual {
        Value::Array(items) => items.iter().any(|i| scalar_eq(i, want)),
        _ => scalar_eq(actual, want),
    }
}

fn cmp(actual: &Value, want: &Value) -> Option<std::cmp::Ordering> {
    match (actual, want) {
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        _ => actual.as_f64()?.partial_cmp(&want.as_f64()?),
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_lowercase(),
        other => other.to_string().to_lowercase(),
    }
}

/// Evaluate `q` with `lookup(field)` giving the object's value (`None`/null when absent).
pub fn matches(q: &Query, lookup: &dyn Fn(&str) -> Option<Value>) -> bool {
    match q {
        Query::Group(true, qs) => qs.iter().all(|x| matches(x, lookup)),
        Query::Group(false, qs) => qs.iter().any(|x| matches(x, lookup)),
        Query::Filter { field, op, value } => {
            let actual = lookup(field).unwrap_or(Value::Null);
            let list = || value.as_array().cloned().unwrap_or_default();
            match op.as_str() {
                "=" => {
                    if value.is_null() {
                        actual.is_null()
                    } else {
                        eq(&actual, value)
                    }
                }
                "!=" => {
                    if value.is_null() {
                        !actual.is_null()
                    } else {
                        !eq(&actual, value)
                    }
                }
                "IN" => list().iter().any(|w| eq(&actual, w)),
                "NIN" => !list().iter().any(|w| eq(&actual, w)),
                "<" => cmp(&actual, value) == Some(std::cmp::Ordering::Less),
                ">" => cmp(&actual, value) == Some(std::cmp::Ordering::Greater),
                "<=" => matches!(
                    cmp(&actual, value),
                    Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)
                ),
                ">=" => matches!(
                    cmp(&actual, value),
                    Some(std::cmp::Ordering::Greater | std::cmp::Ordering::Equal)
                ),
                "~" => !actual.is_null() && text(&actual).contains(&text(value)),
                "!~" => actual.is_null() || !text(&actual).contains(&text(value)),
                "^" => !actual.is_null() && text(&actual).starts_with(&text(value)),
                "$" => !actual.is_null() && text(&actual).ends_with(&text(value)),
                _ => false,
            }
        }
    }
}

/// One page request: `per_page` and the opaque `starting_after` cursor.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    /// Items per page.
    pub per_page: usize,
    /// Offset decoded from the cursor.
    pub offset: usize,
}

impl Page {
    /// From a search body's `pagination` object (`per_page`, `starting_after`), as [`Page::new`].
    ///
    /// # Errors
    /// 400 `parameter_invalid` when `pagination` is not an object, or as [`Page::new`].
    pub fn from_search(b: &crate::validate::Body, default: usize) -> ApiResult<Self> {
        let pagination = b.opt_obj("pagination")?;
        let field = |k: &str| pagination.and_then(|p| p.get(k));
        Self::new(
            field("per_page").and_then(Value::as_i64),
            field("starting_after").and_then(Value::as_str),
            default,
        )
    }

    /// From `per_page` (default `default`, 1..=150) and `starting_after`.
    ///
    /// # Errors
    /// 400 `parameter_invalid` for an out-of-range `per_page` or an unreadable cursor.
    pub fn new(
        per_page: Option<i64>,
        starting_after: Option<&str>,
        default: usize,
    ) -> ApiResult<Self> {
        let per_page = match per_page {
            None => default,
            Some(n) if (1..=MAX_PER_PAGE as i64).contains(&n) => n as usize,
            Some(_) => {
                return Err(ApiError::invalid_field(
                    "per_page",
                    format!("per_page must be between 1 and {MAX_PER_PAGE}"),
                ));
            }
        };
        let offset = match starting_after {
            None | Some("") => 0,
            Some(c) => URL_SAFE_NO_PAD
                .decode(c)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .and_then(|s| s.strip_prefix("off:").and_then(|n| n.parse().ok()))
                .ok_or_else(|| {
                    ApiError::invalid_field(
                        "starting_after",
                        "starting_after is not a valid cursor",
                    )
                })?,
        };
        Ok(Self { per_page, offset })
    }

    /// Slice `items` and build the `pages` object (schema `cursor_pages`; `next` absent on the last page).
    pub fn apply<T: Clone>(&self, items: &[T]) -> (Vec<T>, Value) {
        let total = items.len();
        let start = self.offset.min(total);
        let end = (start + self.per_page).min(total);
        let total_pages = total.div_ceil(self.per_page).max(1);
        let mut pages = json!({"type": "pages", "page": start / self.per_page + 1, "per_page": self.per_page, "total_pages": total_pages});
        if end < total {
            pages["next"] = json!({"per_page": self.per_page, "starting_after": URL_SAFE_NO_PAD.encode(format!("off:{end}"))});
        }
        (items[start..end].to_vec(), pages)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn any(_: &str) -> bool {
        true
    }

    #[test]
    fn nested_groups_and_operators() {
        let q = parse(
            &json!({"operator": "AND", "value": [
                {"field": "external_id", "operator": "=", "value": "TI-1"},
                {"operator": "OR", "value": [{"field": "n", "operator": ">", "value": 3}, {"field": "e", "operator": "$", "value": "@x.org"}]}
            ]}),
            &any,
        )
        .unwrap();
        let obj = |ext: &'static str, n: i64, e: &'static str| {
            move |f: &str| match f {
                "external_id" => Some(json!(ext)),
                "n" => Some(json!(n)),
                "e" => Some(json!(e)),
                _ => None,
            }
        };
        assert!(matches(&q, &obj("TI-1", 5, "a@y.org")));
        assert!(matches(&q, &obj("TI-1", 1, "a@x.org")));
        assert!(!matches(&q, &obj("TI-1", 1, "a@y.org")));
        assert!(!matches(&q, &obj("TI-2", 5, "a@x.org")));
    }

    #[test]
    fn depth_and_width_limits() {
        let leaf = json!({"field": "a", "operator": "=", "value": 1});
        let deep = json!({"operator": "AND", "value": [{"operator": "OR", "value": [{"operator": "AND", "value": [leaf]}]}]});
        assert!(parse(&deep, &any).is_err());
        let wide = json!({"operator": "AND", "value": vec![leaf.clone(); 16]});
        assert!(parse(&wide, &any).is_err());
        assert!(parse(&json!({"field": "a", "operator": "LIKE", "value": 1}), &any).is_err());
    }

    #[test]
    fn cursor_pages() {
        let items: Vec<u32> = (0..5).collect();
        let p = Page::new(Some(2), None, 50).unwrap();
        let (got, pages) = p.apply(&items);
        assert_eq!(got, vec![0, 1]);
        let next = pages["next"]["starting_after"]
            .as_str()
            .unwrap()
            .to_string();
        let (got, _) = Page::new(Some(2), Some(&next), 50).unwrap().apply(&items);
        assert_eq!(got, vec![2, 3]);
        assert!(Page::new(Some(151), None, 50).is_err());
    }
}
