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
    auth: AuthMethod,
    /// Server, database and user for messages and the manifest.
    pub info: ConnInfo,
}

/// The connection-string keys ti-extract accepts (lower case): the ones tiberius 0.13's ADO.NET parser reads
/// (`server`/`data source`, the user, database, encryption and certificate keys, application and workstation
/// names, `applicationintent`, `multisubnetfailover`, integrated security) plus `trusted_connection`, which this
/// crate reads itself. `password`/`pwd` are refused separately (the password comes from `password_env`). Any other
/// key is refused: tiberius would ignore it silently.
pub const ACCEPTED_KEYS: &[&str] = &[
    "server",
    "data source",
    "database",
    "initial catalog",
    "databasename",
    "user",
    "uid",
    "user id",
    "username",
    "integrated security",
    "integratedsecurity",
    "trusted_connection",
    "encrypt",
    "trustservercertificate",
    "trustservercertificateca",
    "hostnameincertificate",
    "hostname in certificate",
    "application name",
    "applicationname",
    "workstationid",
    "workstation id",
    "applicationintent",
    "multisubnetfailover",
];

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
    /// The login is chosen by [`login_kind`]: `DOMAIN\user` is a Windows (NTLM) login (Windows build, or the
    /// `ntlm` feature), `integrated security=true` the current session, anything else a SQL login.
    ///
    /// # Errors
    /// [`ExtractError::Usage`] (exit 2) when the string is empty, holds a password, cannot be parsed, when the
    /// password variable is not set (SQL and Windows logins), or when this build lacks the login's method.
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
        let unknown: Vec<&str> = kv
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| !ACCEPTED_KEYS.contains(k))
            .collect();
        if !unknown.is_empty() {
            return Err(ExtractError::Usage(format!(
                "the connection string has unknown key(s) {} (a typing mistake would silently connect to the \
login's default database); accepted keys: {}",
                unknown.join(", "),
                ACCEPTED_KEYS.join(", ")
            )));
        }
        let server = get(&["server", "data source"]);
        if server.trim().is_empty() {
            return Err(ExtractError::Usage(
                "the connection string names no server: add server=<host>[,<port>] (or data source=…)".into(),
            ));
        }
        let info = ConnInfo {
            server: server.strip_prefix("tcp:").unwrap_or(&server).to_string(),
            database: get(&["database", "initial catalog"]),
            user: get(&["user", "uid", "user id", "username"]),
            plaintext: get(&["encrypt"]) == "DANGER_PLAINTEXT",
        };
        let mut config = Config::from_ado_string(conn).map_err(|e| {
            // tiberius's own hint speaks of quoting passwords: ours never are in the string.
            let text = e.to_string();
            let detail = text.split(". hint:").next().unwrap_or(&text);
            ExtractError::Usage(format!(
                "connection string cannot be read: {detail}; a value holding `;` or `=` must be quoted ('…', \"…\" \
or {{…}}). The password never goes in the string: it is read from the environment variable {password_env}"
            ))
        })?;
        let integrated = matches!(
            get(&["integrated security", "trusted_connection"])
                .to_ascii_lowercase()
                .as_str(),
            "true" | "yes" | "sspi"
        );
        let auth = match login_kind(&info.user, integrated) {
            LoginKind::Integrated => integrated_auth()?,
            kind => {
                if password_env.trim().is_empty() {
                    return Err(ExtractError::Usage(
                        "[source] password_env is empty: set it to the name of the environment variable that holds \
the password (e.g. password_env = \"TRACKIT_SQL_PASSWORD\")"
                            .into(),
                    ));
                }
                let Some(password) = password else {
                    return Err(ExtractError::Usage(format!(
                        "environment variable {password_env} (source.password_env) is not set; put the password \
of {} there",
                        if info.user.is_empty() {
                            "the login"
                        } else {
                            info.user.as_str()
                        }
                    )));
                };
                if kind == LoginKind::Windows {
                    windows_auth(&info.user, &password)?
                } else {
                    AuthMethod::sql_server(&info.user, password)
                }
            }
        };
        config.authentication(auth.clone());
        if info.plaintext {
            config.encryption(EncryptionLevel::NotSupported);
        }
        config.application_name("ti-extract");
        // TDS packet size: tiberius's default 4,096 bytes. 32,767 (`config.packet_size`) was measured in session 3
        // and not kept: no measurable gain on the fixture (docs/perf.md, extract).
        Ok(Source { config, auth, info })
    }

    /// The login method chosen from the connection string (for tests and diagnostics; never printed).
    pub fn auth(&self) -> &AuthMethod {
        &self.auth
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
                .map_err(|e| {
                    let hint = login_hint(&self.info.user, e.code());
                    fail(format!("{e}{}", hint.unwrap_or_default()))
                })?;
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

/// Which login a connection string asks for (docs/extract.md "Connection").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginKind {
    /// A SQL Server login (`user=sa`): name and password in the login packet.
    Sql,
    /// A Windows (NTLM) login, chosen by a backslash in the user name (`user=CORP\svc_trackit`); the password
    /// comes from `password_env` like a SQL login's.
    Windows,
    /// The current Windows session (`integrated security=true|sspi|yes` or `trusted_connection=yes`): no user,
    /// no password.
    Integrated,
}

/// SQL Server's error number for a refused login (`Login failed for user '…'`).
pub const LOGIN_FAILED: u32 = 18456;

/// What is added to a refused login's message (error [`LOGIN_FAILED`]) when the user was written `user@domain`
/// (a UPN) without a backslash: it was sent as a SQL login, which is most likely not what was meant. The login is
/// not refused up front: SQL login names may contain `@`.
pub fn login_hint(user: &str, code: Option<u32>) -> Option<String> {
    (code == Some(LOGIN_FAILED) && user.contains('@') && !user.contains('\\')).then(|| {
        format!(
            " (hint: user {user} was sent as a SQL Server login; a Windows login is written DOMAIN\\user, e.g. \
user=CORP\\svc_trackit, not user@domain)"
        )
    })
}

/// The login a connection string asks for: `integrated` wins, then `DOMAIN\user` is Windows, else SQL.
pub fn login_kind(user: &str, integrated: bool) -> LoginKind {
    if integrated {
        LoginKind::Integrated
    } else if user.contains('\\') {
        LoginKind::Windows
    } else {
        LoginKind::Sql
    }
}

/// NTLM with the given `DOMAIN\user` and password: tiberius's `winauth` (Windows build) or `sspi-rs`
/// (this crate's `ntlm` feature, Linux and macOS). The `sspi-rs` path is tested against the fixture server's NTLMv2
/// check (tests/ntlm_login.rs, `--features ntlm`); the `winauth` path has not been run (no Windows machine).
#[cfg(any(windows, all(unix, feature = "ntlm")))]
fn windows_auth(user: &str, password: &str) -> Result<AuthMethod, ExtractError> {
    Ok(AuthMethod::windows(user, password))
}

#[cfg(not(any(windows, all(unix, feature = "ntlm"))))]
fn windows_auth(user: &str, _password: &str) -> Result<AuthMethod, ExtractError> {
    Err(ExtractError::Usage(format!(
        "user {user} is a Windows (NTLM) login: use the Windows build of ti-extract, or a build with \
`--features ntlm`"
    )))
}

/// The current session's credentials: SSPI on Windows, Kerberos through GSSAPI with this crate's `kerberos`
/// feature elsewhere.
#[cfg(any(windows, all(unix, feature = "kerberos")))]
fn integrated_auth() -> Result<AuthMethod, ExtractError> {
    Ok(AuthMethod::Integrated)
}

#[cfg(not(any(windows, all(unix, feature = "kerberos"))))]
fn integrated_auth() -> Result<AuthMethod, ExtractError> {
    Err(ExtractError::Usage(
        "integrated security (the current Windows session) needs the Windows build of ti-extract, or a build \
with `--features kerberos`"
            .into(),
    ))
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

    #[test]
    fn a_refused_upn_login_gets_the_windows_login_hint() {
        assert_eq!(
            login_hint("svc@corp.local", Some(18456)).as_deref(),
            Some(
                " (hint: user svc@corp.local was sent as a SQL Server login; a Windows login is written \
DOMAIN\\user, e.g. user=CORP\\svc_trackit, not user@domain)"
            )
        );
        assert_eq!(login_hint("svc@corp.local", Some(4060)), None);
        assert_eq!(login_hint("svc@corp.local", None), None);
        assert_eq!(login_hint("sa", Some(18456)), None);
        assert_eq!(login_hint("CORP\\svc@x", Some(18456)), None);
        // Still a SQL login: not refused.
        assert_eq!(login_kind("svc@corp.local", false), LoginKind::Sql);
    }

    #[test]
    fn login_kind_follows_the_user_name_and_integrated_security() {
        assert_eq!(login_kind("sa", false), LoginKind::Sql);
        assert_eq!(login_kind("CORP\\svc_trackit", false), LoginKind::Windows);
        assert_eq!(login_kind("", true), LoginKind::Integrated);
        assert_eq!(login_kind("CORP\\svc_trackit", true), LoginKind::Integrated);
    }

    #[test]
    fn connection_string_chooses_the_auth_method() {
        let conn = |s: &str, pw: Option<&str>| {
            Source::prepare(s, pw.map(String::from), "TRACKIT_SQL_PASSWORD")
        };
        let sql = conn("server=tcp:db,1433;user=sa", Some("pw")).unwrap();
        assert_eq!(
            sql.auth(),
            &AuthMethod::sql_server("sa", "pw"),
            "user=sa is a SQL login"
        );
        let win = conn("server=tcp:db,1433;user=CORP\\svc_trackit", Some("pw"));
        #[cfg(any(windows, all(unix, feature = "ntlm")))]
        assert_eq!(
            win.unwrap().auth(),
            &AuthMethod::windows("CORP\\svc_trackit", "pw")
        );
        #[cfg(not(any(windows, all(unix, feature = "ntlm"))))]
        {
            let e = win.err().unwrap().to_string();
            assert!(e.contains("CORP\\svc_trackit") && e.contains("ntlm"), "{e}");
        }
        // Integrated security needs no password variable.
        let integrated = conn("server=tcp:db,1433;integrated security=SSPI", None);
        #[cfg(any(windows, all(unix, feature = "kerberos")))]
        assert_eq!(integrated.unwrap().auth(), &AuthMethod::Integrated);
        #[cfg(not(any(windows, all(unix, feature = "kerberos"))))]
        assert!(integrated.err().unwrap().to_string().contains("kerberos"));
    }

    #[test]
    fn an_unset_password_variable_is_named() {
        let e = Source::prepare("server=tcp:db,1433;user=sa", None, "TRACKIT_SQL_PASSWORD")
            .err()
            .unwrap();
        assert!(matches!(e, ExtractError::Usage(_)));
        assert!(
            e.to_string().contains(
                "environment variable TRACKIT_SQL_PASSWORD (source.password_env) is not set"
            ),
            "{e}"
        );
    }

    #[test]
    fn unknown_keys_a_missing_server_and_unreadable_strings_are_refused() {
        let prep = |s: &str, env: &str| {
            Source::prepare(s, Some("pw".into()), env)
                .err()
                .map(|e| (matches!(e, ExtractError::Usage(_)), e.to_string()))
        };
        let (usage, e) = prep(
            "server=tcp:db,1433;databse=TRACKIT;frobnicate=1;user=sa",
            "TRACKIT_SQL_PASSWORD",
        )
        .unwrap();
        assert!(usage);
        assert!(
            e.starts_with(
                "the connection string has unknown key(s) databse, frobnicate (a typing mistake would silently \
connect to the login's default database); accepted keys: server, data source, database, initial catalog,"
            ),
            "{e}"
        );
        let (usage, e) = prep("database=TRACKIT;user=sa", "TRACKIT_SQL_PASSWORD").unwrap();
        assert!(usage);
        assert_eq!(
            e,
            "the connection string names no server: add server=<host>[,<port>] (or data source=…)"
        );
        let (usage, e) = prep(
            "server=db;user=sa;application name='ab",
            "TRACKIT_SQL_PASSWORD",
        )
        .unwrap();
        assert!(usage);
        assert!(e.starts_with("connection string cannot be read: "), "{e}");
        assert!(
            e.ends_with(
                "The password never goes in the string: it is read from the environment variable \
TRACKIT_SQL_PASSWORD"
            ),
            "{e}"
        );
        assert!(!e.contains("such as a password"), "{e}");
        let (usage, e) = prep("server=db;user=sa", "").unwrap();
        assert!(usage);
        assert!(e.starts_with("[source] password_env is empty: "), "{e}");
        // Every accepted key passes the check.
        assert!(
            Source::prepare(
                "Data Source=tcp:db,1433;Initial Catalog=T;User ID=sa;TrustServerCertificate=true;\
Application Name=x;Encrypt=true",
                Some("pw".into()),
                "P"
            )
            .is_ok()
        );
    }
}
