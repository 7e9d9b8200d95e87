//! Errors of the extract stage. `main.rs` maps them to exit codes: [`ExtractError::Usage`] → 2, everything else
//! → 1 (ti_shared::cli::exit).

use ti_shared::bundle::BundleError;

/// Why an extract or discovery stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// The user's to fix: missing connection string, bad flag, inline password, reserved column name.
    #[error("{0}")]
    Usage(String),
    /// The server could not be reached or refused the login. Never holds the password.
    #[error(
        "cannot connect to SQL Server {server}, database {database:?}, user {user:?}: {reason}"
    )]
    Connect {
        /// Server as written in the connection string.
        server: String,
        /// Database name.
        database: String,
        /// Login name.
        user: String,
        /// tiberius's or the OS's message.
        reason: String,
    },
    /// A query failed (after the retries, for table dumps).
    #[error("{what}: {}", clean_server_error(&source.to_string()))]
    Query {
        /// What was being read (`inventory: columns`, `dbo.TASKS`).
        what: String,
        /// tiberius's error.
        source: tiberius::error::Error,
    },
    /// The table changed under the extract in a way the current attempt cannot absorb (a large cell the
    /// pre-pass did not see); retried like a dropped connection.
    #[error("{0}")]
    Changed(String),
    /// A value or result did not have the expected shape.
    #[error("{0}")]
    Data(String),
    /// Writing the bundle failed.
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// Writing Parquet failed.
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    /// Building Arrow arrays failed.
    #[error("arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    /// A local file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The operating system's error.
        source: std::io::Error,
    },
}

impl ExtractError {
    /// Wraps a tiberius error with what was being read.
    pub fn query(what: impl Into<String>) -> impl FnOnce(tiberius::error::Error) -> ExtractError {
        let what = what.into();
        move |source| ExtractError::Query { what, source }
    }

    /// True for errors worth retrying a table for: a dropped connection or a server error mid-result.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ExtractError::Query { .. } | ExtractError::Connect { .. } | ExtractError::Changed(_)
        )
    }
}

/// tiberius's text of a server error without the empty procedure name: `… executing  on line 1 …` (two spaces,
/// no procedure for a plain batch) becomes `… on line 1 …`.
pub fn clean_server_error(text: &str) -> String {
    text.replace(" executing  on line ", " on line ")
}

/// A retry warning's text: `<table>: <error>` without the table named twice when the error already starts with
/// it (`dbo.TASKS: dbo.TASKS: …`).
pub fn retry_text(table: &str, err: &ExtractError) -> String {
    let text = err.to_string();
    let prefix = format!("{table}: ");
    match text.strip_prefix(&prefix) {
        Some(rest) => format!("{table}: {rest}"),
        None => format!("{table}: {text}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_warnings_name_the_table_once_without_the_empty_procedure() {
        assert_eq!(
            clean_server_error(
                "Token error: 'boom' on server x executing  on line 1 (code: 50000)"
            ),
            "Token error: 'boom' on server x on line 1 (code: 50000)"
        );
        let e = ExtractError::Changed("dbo.TASKS: a cell grew".into());
        assert_eq!(retry_text("dbo.TASKS", &e), "dbo.TASKS: a cell grew");
        let e = ExtractError::Changed("connection reset".into());
        assert_eq!(retry_text("dbo.TASKS", &e), "dbo.TASKS: connection reset");
    }
}
