//! `[source]`: the SQL Server database to extract from.

use serde::{Deserialize, Serialize};

/// `[source]` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SourceConfig {
    /// ADO.NET connection string as tiberius reads it, without the password, e.g.
    /// `server=tcp:sql01,1433;database=TRACKIT_DATA;user=trackit_ro;encrypt=true;trustServerCertificate=false`.
    /// Default: empty (must be given here or with `--connection-string`).
    pub connection_string: String,
    /// Name of the environment variable holding the SQL password. Default `TRACKIT_SQL_PASSWORD`.
    pub password_env: String,
}

impl Default for SourceConfig {
    fn default() -> Self {
        Self {
            connection_string: String::new(),
            password_env: "TRACKIT_SQL_PASSWORD".into(),
        }
    }
}
