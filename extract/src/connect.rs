//! Connecting to SQL Server: an ADO.NET connection string as tiberius reads it, the password only from the
//! environment variable named by `[source] password_env`, TLS by default. A failure gives one line naming
//! server, database and user, never the password.

use crate::error::ExtractError;
use tiberius::{AuthMethod, Client, Config, EncryptionLevel};
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

/// The tiberius client over a tokio TCP stream.
pub type SqlClient = Client<Compat<TcpStream>>;

/// Seconds allowed for TCP connect plus login before the server counts as unreachable.
const CONNECT_TIMEOUT_SECS: u64 = 30;

/// What the connection string says, for messages and provenance (never the password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnInfo {
    /// `server` as written, without `tcp:` (e.g. `sql01,1433`).
    pub server: String,
    /// `database` (or `initial catalog`), empty when not given.
    pub database: String,
    /// `user` (`uid`, `user id`, `username`), empty when not given.
    pub user: String,
    /// `encrypt=DANGER_PLAINTEXT`: no TLS at all (test fixtures only).
    pub plaintext: bool,
}

/// A prepared connection: tiberius configuration plus the facts for messages.
#[derive(Clone)]
pub struct Source {
    config: Config,
    /// Server, database and user for messages and the manifest.
    pub info: ConnInfo,
}

/// Splits an ADO.NET connection string into lower-cased keys and values (quotes and braces removed).
fn pairs(conn: &str) -> Vec<(String, String)> {
    conn.split(';')
        .filter_map(|part| part.split_once('='))
        .map(|(k, v)| {
            let v = v.trim();
            let v = v.trim_matches(|c| c == '\'' || c == '"' || c == '{' || c == '}');
            (k.trim().to_ascii_lowercase(), v.to_string())
        })
        .collect()
}

impl Source {
    /// Parses `conn` and attaches the password from `password` (the value of the `password_env` variable).
    /// A user written `DOMAIN\user` is a Windows (NTLM) login, available in the Windows build.
    ///
    /// # Errors
    /// [`ExtractError::Usage`] when the string is empty, holds a password, or tiberius cannot parse it.
    pub fn prepare(
        conn: &str,
        password: Option<String>,
        password_env: &str,
    ) -> Result<Source, ExtractError> {
        if conn.trim().is_empty() {
            return Err(ExtractError::Usage(
                "no connection string: set [source] connection_string in pipeline.toml or pass --connection-string"
                    .into(),
            ));
        }
        let kv = pairs(conn);
        let get = |names: &[&str]| {
            kv.iter()
                .find(|(k, _)| names.contains(&k.as_str()))
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        if kv.iter().any(|(k, _)| k == "password" || k == "pwd") {
            return Err(ExtractError::Usage(format!(
                "the connection string holds a password; remove it and put the password in the environment variable {password_env}"
            )));
        }
        let server = get(&[
            "server",
            "data source",
            "address",
            "addr",
            "network address",
        ]);
        let info = ConnInfo {
            server: server.strip_prefix("tcp:").unwrap_or(&server).to_string(),
            database: get(&["database", "initial catalog"]),
            user: get(&["user", "uid", "user id", "username"]),
            plaintext: get(&["encrypt"]) == "DANGER_PLAINTEXT",
        };
        let mut config = Config::from_ado_string(conn)
            .map_err(|e| ExtractError::Usage(format!("connection string cannot be read: {e}")))?;
        let integrated = matches!(
            get(&["integrated security", "trusted_connection"])
                .to_ascii_lowercase()
                .as_str(),
            "true" | "yes" | "sspi"
        );
        if !integrated {
            let password = password.unwrap_or_default();
            if info.user.contains('\\') {
                config.authentication(windows_auth(&info.user, &password)?);
            } else {
                config.authentication(AuthMethod::sql_server(&info.user, password));
            }
        }
        if info.plaintext {
            config.encryption(EncryptionLevel::NotSupported);
        }
        config.application_name("ti-extract");
        Ok(Source { config, info })
    }

    /// Opens a connection and sends the session options (Q1).
    ///
    /// # Errors
    /// [`ExtractError::Connect`]: unreachable server, TLS failure, wrong password or database (one line).
    pub async fn connect(&self) -> Result<SqlClient, ExtractError> {
        let fail = |reason: String| ExtractError::Connect {
            server: self.info.server.clone(),
            database: self.info.database.clone(),
            user: self.info.user.clone(),
            reason,
        };
        let attempt = async {
            let tcp = TcpStream::connect(self.config.get_addr())
                .await
                .map_err(|e| fail(e.to_string()))?;
            tcp.set_nodelay(true).map_err(|e| fail(e.to_string()))?;
            let mut client = Client::connect(self.config.clone(), tcp.compat_write())
                .await
                .map_err(|e| fail(e.to_string()))?;
            client
                .simple_query(crate::queries::Q1_SESSION)
                .await
                .map_err(|e| fail(e.to_string()))?
                .into_results()
                .await
                .map_err(|e| fail(e.to_string()))?;
            Ok(client)
        };
        match tokio::time::timeout(
            std::time::Duration::from_secs(CONNECT_TIMEOUT_SECS),
            attempt,
        )
        .await
        {
            Ok(result) => result,
            Err(_) => Err(fail(format!("no answer within {CONNECT_TIMEOUT_SECS} s"))),
        }
    }
}

#[cfg(windows)]
fn windows_auth(user: &str, password: &str) -> Result<AuthMethod, ExtractError> {
    Ok(AuthMethod::windows(user, password))
}

#[cfg(not(windows))]
fn windows_auth(user: &str, _password: &str) -> Result<AuthMethod, ExtractError> {
    Err(ExtractError::Usage(format!(
        "user {user} is a Windows (NTLM) login; run the Windows build of ti-extract for Windows logins"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_server_database_user_and_plaintext() {
        let s = Source::prepare(
            "server=tcp:127.0.0.1,1433;database=TRACKIT_DATA;user=sa;encrypt=DANGER_PLAINTEXT",
            Some("pw".into()),
            "X",
        )
        .unwrap();
        assert_eq!(
            s.info,
            ConnInfo {
                server: "127.0.0.1,1433".into(),
                database: "TRACKIT_DATA".into(),
                user: "sa".into(),
                plaintext: true
            }
        );
    }

    #[test]
    fn refuses_inline_passwords_and_empty_strings() {
        let err = Source::prepare(
            "server=tcp:a,1;user=sa;password=secret",
            None,
            "TRACKIT_SQL_PASSWORD",
        )
        .err()
        .unwrap()
        .to_string();
        assert!(
            err.contains("TRACKIT_SQL_PASSWORD") && !err.contains("secret"),
            "{err}"
        );
        assert!(Source::prepare(" ", None, "X").is_err());
    }
}
