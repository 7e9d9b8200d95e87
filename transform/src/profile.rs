//! Profiles: data files (transform/profiles/*.toml) mapping each logical object of DESIGN.md §3 (ticket, note,
//! user, asset, …) to a physical table or view and its columns, for Track-It! 11.x (`classic`), 20xx (`web`) and
//! the HD* names (`seed`). The code only ever reads logical names; a site with other names edits a profile.

use crate::error::{Result, TransformError};
use crate::source::Inventory;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Built-in profiles, in detection order.
pub const BUILT_IN: [(&str, &str); 3] = [
    ("classic", include_str!("../profiles/classic.toml")),
    ("web", include_str!("../profiles/web.toml")),
    ("seed", include_str!("../profiles/seed.toml")),
];

/// How source datetimes without zone are to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TimeBasis {
    /// Wall time of the source server's zone (the mapping's `source_time_zone`).
    #[default]
    Local,
    /// Already UTC (Track-It! 20xx).
    Utc,
}

/// One logical object's physical table and columns.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ObjectMap {
    /// `schema.table` (or view).
    pub table: String,
    /// Column holding the stable key (source pk of records).
    pub key: String,
    /// Logical field → physical column.
    pub columns: BTreeMap<String, String>,
    /// UDF columns proposed as custom attributes (tickets).
    pub udf: Vec<String>,
    /// Columns known and deliberately not migrated.
    pub known: Vec<String>,
    /// Constant values for logical fields the physical table does not carry.
    pub constants: BTreeMap<String, String>,
    /// Basis of this object's zone-less datetimes when it differs from the profile's `times` (only `utc` has an
    /// effect: its wall times are read as UTC, e.g. the `_SMDBA_` tables of Track-It! 20xx next to `dbo` tables
    /// that hold server wall time).
    pub times: Option<TimeBasis>,
    /// Columns of a second table with the same key, read alongside (e.g. the custom fields of 20xx's base table
    /// `_SMDBA_._TELMASTE_`, which the REAL view `_SMDBA_.Ticket` does not show).
    pub join: Option<Join>,
}

/// `[<object>.join]`: a table whose `key` column holds the object's key, and the columns it adds to every row
/// (a LEFT JOIN: rows without a match get NULLs; columns the object's table already has are not replaced).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Join {
    /// `schema.table` (or view).
    pub table: String,
    /// Its column equal to the object's key.
    pub key: String,
    /// The columns brought in.
    pub columns: Vec<String>,
}

impl ObjectMap {
    /// The physical column of a logical field, if the profile maps it.
    pub fn col(&self, field: &str) -> Option<&str> {
        self.columns.get(field).map(String::as_str)
    }
}

/// A profile file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Profile {
    /// `classic`, `web` or `seed`.
    pub name: String,
    /// Human description.
    pub description: String,
    /// Objects that must all exist for this profile to be detected.
    pub detect: Vec<String>,
    /// Basis of zone-less datetimes of every object without its own `times`.
    pub times: TimeBasis,
    /// Logical object → physical table; the rest of the file.
    #[serde(flatten)]
    pub objects: BTreeMap<String, ObjectMap>,
}

impl Profile {
    /// A built-in profile by name, or a site's profile file when `name` ends in `.toml` (a copy of a built-in
    /// profile with the site's table and column names).
    ///
    /// # Errors
    /// [`TransformError::Usage`] for an unknown name or a broken profile file.
    pub fn built_in(name: &str) -> Result<Self> {
        if name.ends_with(".toml") {
            let text = std::fs::read_to_string(name)
                .map_err(|e| TransformError::Usage(format!("profile file {name}: {e}")))?;
            return Self::parse(&text);
        }
        let text = BUILT_IN
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| *t)
            .ok_or_else(|| {
                TransformError::Usage(format!(
                    "unknown profile {name:?}: use classic, web or seed"
                ))
            })?;
        Self::parse(text)
    }

    /// Parses a profile file's text.
    ///
    /// # Errors
    /// [`TransformError::Usage`] naming the TOML problem.
    pub fn parse(text: &str) -> Result<Self> {
        toml::from_str(text).map_err(|e| TransformError::Usage(format!("profile: {e}")))
    }

    /// The first built-in profile whose `detect` objects all exist in the inventory.
    ///
    /// # Errors
    /// [`TransformError::Usage`] when none matches.
    pub fn detect(inventory: &Inventory) -> Result<Self> {
        for (name, _) in BUILT_IN {
            let profile = Self::built_in(name)?;
            if !profile.detect.is_empty()
                && profile.detect.iter().all(|o| inventory.object(o).is_some())
            {
                return Ok(profile);
            }
        }
        Err(TransformError::Usage(
            "no profile matches this extract (none of dbo.TASKS, _SMDBA_._TELMASTE_, dbo.HDTickets found): pass \
             --profile classic|web|seed"
                .into(),
        ))
    }

    /// The map of a logical object, if the profile has it.
    pub fn object(&self, logical: &str) -> Option<&ObjectMap> {
        self.objects.get(logical)
    }

    /// Every physical table the profile reads (lower case), for the "unmapped tables" list.
    pub fn tables(&self) -> Vec<String> {
        self.objects
            .values()
            .flat_map(|o| std::iter::once(&o.table).chain(o.join.as_ref().map(|j| &j.table)))
            .map(|t| t.to_lowercase())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_profiles_parse_and_name_a_ticket_table() {
        for (name, _) in BUILT_IN {
            let p = Profile::built_in(name).unwrap();
            assert_eq!(p.name, name);
            assert!(p.object("ticket").is_some(), "{name}");
        }
    }
}
