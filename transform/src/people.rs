//! People: requestors and technicians are free text on Track-It! tickets; this module matches them to person
//! rows by a stated normalisation and merges people who share an email.
//!
//! - **Name rule** ([`normalise_name`]): Unicode lower case, whitespace trimmed and collapsed, and
//!   `"Last, First"` read as `"First Last"`. "Smith, John", "John Smith" and "JOHN SMITH " all match.
//! - **Email rule** ([`normalise_email`]): trimmed; the domain always lower-cased; the local part lower-cased when
//!   the mapping's `people.email_local_part = "lowercase"` (the default), kept otherwise. An address is valid
//!   when it has exactly one `@`, a non-empty local part without spaces and a dotted domain; invalid addresses
//!   (`n/a`, `john.doe@`, `x@y`) are dropped from the contact, which is kept without email.
//! - **Merge**: people sharing a valid email become one contact, the lowest id surviving; the others are listed
//!   in `gaps/merged_contacts.csv` and their tickets point at the survivor.

use crate::model::User;
use std::collections::{BTreeMap, HashMap};

/// The name rule of the module documentation. Empty for names without letters or digits.
pub fn normalise_name(name: &str) -> String {
    let collapsed = name.split_whitespace().collect::<Vec<_>>().join(" ");
    let lower = collapsed.to_lowercase();
    let reordered = match lower.split_once(',') {
        Some((last, first)) if !first.trim().is_empty() && !last.trim().is_empty() => {
            format!("{} {}", first.trim(), last.trim())
        }
        _ => lower,
    };
    if reordered.chars().any(char::is_alphanumeric) {
        reordered
    } else {
        String::new()
    }
}

/// A key-safe slug of a normalised name: runs of letters and digits joined by `-`; names with no ASCII-safe
/// letters (e.g. `???` after a code page loss) get `h-` and 12 hex digits of their blake3.
pub fn slug(normalised: &str) -> String {
    let s: Vec<String> = normalised
        .split(|c: char| !c.is_alphanumeric())
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect();
    if s.is_empty() {
        format!("h-{}", &blake3::hash(normalised.as_bytes()).to_hex()[..12])
    } else {
        s.join("-")
    }
}

/// The email rule of the module documentation: `Ok(normalised)`, or `Err(())` for an invalid address.
#[allow(clippy::result_unit_err)]
pub fn normalise_email(raw: &str, lowercase_local: bool) -> Result<String, ()> {
    let t = raw.trim();
    let (local, domain) = t.split_once('@').ok_or(())?;
    if local.is_empty() || domain.contains('@') || t.chars().any(char::is_whitespace) {
        return Err(());
    }
    let domain = domain.to_lowercase();
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 || labels.iter().any(|l| l.is_empty()) {
        return Err(());
    }
    let local = if lowercase_local {
        local.to_lowercase()
    } else {
        local.to_string()
    };
    Ok(format!("{local}@{domain}"))
}

/// The domain part of a normalised email.
pub fn domain(email: &str) -> &str {
    email.rsplit_once('@').map(|(_, d)| d).unwrap_or("")
}

/// People indexed for matching.
#[derive(Debug, Default)]
pub struct Directory {
    /// People by id.
    pub users: BTreeMap<i64, User>,
    /// Normalised valid email per person.
    pub emails: HashMap<i64, String>,
    /// Persons whose stored email was invalid (id → raw).
    pub invalid_emails: BTreeMap<i64, String>,
    /// Merged person → surviving person.
    pub merged_into: BTreeMap<i64, i64>,
    by_name: HashMap<String, Vec<i64>>,
    by_login: HashMap<String, Vec<i64>>,
    by_email: HashMap<String, Vec<i64>>,
}

/// How a name was matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// Exactly one person (after merges).
    One(i64),
    /// Several different people carry this name; the lowest id was taken.
    Ambiguous(i64, usize),
    /// Nobody.
    None,
}

impl Directory {
    /// Indexes `users` and merges people sharing a valid email (lowest id survives).
    pub fn new(users: Vec<User>, lowercase_local: bool) -> Self {
        let mut d = Directory::default();
        for u in users {
            if let Some(raw) = u.email.as_deref().filter(|e| !e.trim().is_empty()) {
                match normalise_email(raw, lowercase_local) {
                    Ok(e) => {
                        d.by_email.entry(e.clone()).or_default().push(u.id);
                        d.emails.insert(u.id, e);
                    }
                    Err(()) => {
                        d.invalid_emails.insert(u.id, raw.to_string());
                    }
                }
            }
            // "First Last" too: 20xx views write the requestor as FNAME + ' ' + NAME, which differs from a
            // family-name-first full name such as "李雷".
            let first_last = match (u.first_name.as_deref(), u.last_name.as_deref()) {
                (Some(f), Some(l)) => Some(format!("{f} {l}")),
                _ => None,
            };
            for name in [u.full_name.clone(), u.display_name(), first_last]
                .into_iter()
                .flatten()
            {
                let n = normalise_name(&name);
                if !n.is_empty() {
                    let v = d.by_name.entry(n).or_default();
                    if !v.contains(&u.id) {
                        v.push(u.id);
                    }
                }
            }
            if let Some(l) = u
                .login
                .as_deref()
                .map(|l| l.trim().to_lowercase())
                .filter(|l| !l.is_empty())
            {
                d.by_login.entry(l).or_default().push(u.id);
            }
            d.users.insert(u.id, u);
        }
        for ids in d.by_email.values_mut() {
            ids.sort_unstable();
        }
        for ids in d.by_email.values() {
            // Only contacts merge: technician-only rows stay technicians.
            let contacts: Vec<i64> = ids
                .iter()
                .copied()
                .filter(|id| d.is_contact_role(*id))
                .collect();
            if let Some((&first, rest)) = contacts.split_first() {
                for &other in rest {
                    d.merged_into.insert(other, first);
                }
            }
        }
        for v in d.by_name.values_mut() {
            v.sort_unstable();
        }
        d
    }

    /// True when the person is (also) a requestor: flagged requestor, or not flagged technician.
    pub fn is_contact_role(&self, id: i64) -> bool {
        self.users
            .get(&id)
            .is_some_and(|u| u.is_requestor || !u.is_technician)
    }

    /// The surviving id of a person (itself unless merged).
    pub fn survivor(&self, id: i64) -> i64 {
        self.merged_into.get(&id).copied().unwrap_or(id)
    }

    /// Matches a requestor: by email first (when given and valid), else by normalised name, among contacts.
    pub fn match_requestor(
        &self,
        name: Option<&str>,
        email: Option<&str>,
        lowercase_local: bool,
    ) -> Match {
        if let Some(e) = email.and_then(|e| normalise_email(e, lowercase_local).ok())
            && let Some(ids) = self.by_email.get(&e)
            && let Some(&id) = ids.iter().find(|id| self.is_contact_role(**id))
        {
            return Match::One(self.survivor(id));
        }
        let n = name.map(normalise_name).unwrap_or_default();
        if n.is_empty() {
            return Match::None;
        }
        let mut ids: Vec<i64> = self
            .by_name
            .get(&n)
            .into_iter()
            .flatten()
            .copied()
            .filter(|id| self.is_contact_role(*id))
            .map(|id| self.survivor(id))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        match ids.as_slice() {
            [] => Match::None,
            [one] => Match::One(*one),
            [first, ..] => Match::Ambiguous(*first, ids.len()),
        }
    }

    /// Matches a technician text (login or name, either order) among technicians.
    pub fn match_technician(&self, text: &str) -> Option<i64> {
        let login = text.trim().to_lowercase();
        let techs = |ids: Option<&Vec<i64>>| -> Option<i64> {
            ids.into_iter()
                .flatten()
                .copied()
                .find(|id| self.users.get(id).is_some_and(|u| u.is_technician))
        };
        techs(self.by_login.get(&login)).or_else(|| techs(self.by_name.get(&normalise_name(text))))
    }

    /// Matches any person by name (a note author who is not a technician).
    pub fn match_any(&self, text: &str) -> Option<i64> {
        self.by_name
            .get(&normalise_name(text))
            .and_then(|ids| ids.first().copied())
    }
}

/// The technician key of a person: `technician:<login, lower case>`, or `technician:user-<id>` without login.
pub fn technician_key(user: &User) -> String {
    match user
        .login
        .as_deref()
        .map(|l| l.trim().to_lowercase())
        .filter(|l| !l.is_empty())
    {
        Some(l) => format!("technician:{l}"),
        None => format!("technician:user-{}", user.id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_normalise_across_forms() {
        assert_eq!(normalise_name("Smith, John"), "john smith");
        assert_eq!(normalise_name("  JOHN   SMITH "), "john smith");
        assert_eq!(normalise_name("John Smith"), "john smith");
        assert_eq!(normalise_name("  "), "");
        assert_eq!(slug("anne-marie o'brien"), "anne-marie-o-brien");
    }

    #[test]
    fn emails_normalise_and_invalid_ones_are_refused() {
        assert_eq!(
            normalise_email("  John.Doe+x@Example.COM ", true),
            Ok("john.doe+x@example.com".into())
        );
        assert_eq!(
            normalise_email("John@Example.COM", false),
            Ok("John@example.com".into())
        );
        for bad in ["n/a", "john.doe@", "x@y", "a b@c.d", "@c.d"] {
            assert_eq!(normalise_email(bad, true), Err(()), "{bad}");
        }
    }

    #[test]
    fn shared_emails_merge_into_the_lowest_id() {
        let u = |id, name: &str, email: &str| User {
            id,
            full_name: Some(name.into()),
            email: Some(email.into()),
            is_requestor: true,
            ..Default::default()
        };
        let d = Directory::new(
            vec![
                u(3, "A B", "x@e.com"),
                u(2, "C D", "X@E.COM "),
                u(4, "A B", "n/a"),
            ],
            true,
        );
        assert_eq!(d.survivor(3), 2);
        assert_eq!(
            d.match_requestor(Some("b, a"), None, true),
            Match::Ambiguous(2, 2)
        );
        assert_eq!(
            d.match_requestor(Some("nobody"), Some("x@e.com"), true),
            Match::One(2)
        );
        assert!(d.invalid_emails.contains_key(&4));
    }
}
