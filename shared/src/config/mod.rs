//! `pipeline.toml`, parsed into one typed struct per section (DESIGN.md §9).
//!
//! Rules: unknown keys are errors naming the key and its line; secrets are never stored, only the names of the
//! environment variables that hold them (`password_env`, `token_env`); every key has a default, so an empty
//! file is a valid configuration. [`PipelineConfig::load`] returns every problem at once.

mod extract;
mod intercom;
mod load;
mod source;
mod transform;

pub use extract::{DEFAULT_KEYLESS_CELL_MAX_BYTES, ExtractConfig};
pub use intercom::{IntercomConfig, Region};
pub use load::LoadConfig;
pub use source::SourceConfig;
pub use transform::{DEFAULT_WINDOW_TICKETS, TransformConfig};

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The whole configuration file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineConfig {
    /// `[source]`: the SQL Server to extract from.
    pub source: SourceConfig,
    /// `[extract]`: how `ti-extract` reads.
    pub extract: ExtractConfig,
    /// `[transform]`: profile, mapping, sampling, attachment policy.
    pub transform: TransformConfig,
    /// `[intercom]`: target workspace and API pacing.
    pub intercom: IntercomConfig,
    /// `[load]`: journal and phases.
    pub load: LoadConfig,
}

/// A configuration problem: always the user's to fix (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("config {path}: cannot read: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// Syntax, unknown key, wrong type: the TOML parser's message, which names the key, line and column.
    #[error("config {path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// A secret written into the file instead of being named by an environment variable.
    #[error(
        "config {path}, line {line}: `{key}` looks like a secret written inline; secrets are never stored in pipeline.toml: put it in an environment variable and name that variable with `{hint}`"
    )]
    InlineSecret {
        /// The file.
        path: PathBuf,
        /// The offending key, with its section (`source.password`).
        key: String,
        /// 1-based line number.
        line: usize,
        /// The key to use instead (`password_env`, `token_env`).
        hint: &'static str,
    },
    /// Values that parse but cannot work together; every problem found, one per entry.
    #[error("config {path}: {}", problems.join("; "))]
    Rejected {
        /// The file.
        path: PathBuf,
        /// Every problem, each naming its key.
        problems: Vec<String>,
    },
}

/// Keys that must never hold a secret inline, and the `*_env` key that replaces each.
const SECRET_KEYS: &[(&str, &str)] = &[
    ("password", "password_env"),
    ("token", "token_env"),
    ("access_token", "token_env"),
    ("api_key", "token_env"),
    ("secret", "token_env"),
];

impl PipelineConfig {
    /// Reads and validates `path`.
    ///
    /// # Errors
    /// [`ConfigError::Read`] when the file cannot be read, [`ConfigError::InlineSecret`] for a secret written
    /// inline, [`ConfigError::Invalid`] for syntax errors, unknown keys and wrong types (the message names the
    /// key and line), [`ConfigError::Rejected`] listing every semantic problem.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.into(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Like [`load`](Self::load), but a missing file yields the defaults (so `--config` can default to
    /// `./pipeline.toml` without requiring one).
    ///
    /// # Errors
    /// As [`load`](Self::load), except for a missing file.
    pub fn load_or_default(path: &Path) -> Result<Self, ConfigError> {
        if path.exists() {
            Self::load(path)
        } else {
            Ok(Self::default())
        }
    }

    /// Parses configuration text; `path` is only used in messages.
    ///
    /// # Errors
    /// As [`load`](Self::load).
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        if let Some(err) = find_inline_secret(text, path) {
            return Err(err);
        }
        let config: PipelineConfig = toml::from_str(text).map_err(|e| ConfigError::Invalid {
            path: path.into(),
            message: e.to_string(),
        })?;
        let problems = config.validate();
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(ConfigError::Rejected {
                path: path.into(),
                problems,
            })
        }
    }

    /// Every semantic problem, each naming its key; empty when the configuration can work.
    pub fn validate(&self) -> Vec<String> {
        let mut problems = Vec::new();
        problems.extend(self.extract.validate());
        problems.extend(self.transform.validate());
        problems.extend(self.intercom.validate());
        problems.extend(self.load.validate());
        problems
    }

    /// blake3 hex of the configuration with connection details removed (secrets are never in it), recorded in
    /// bundle manifests as `config_digest`.
    pub fn digest(&self) -> String {
        let mut clean = self.clone();
        clean.source = SourceConfig::default();
        clean.intercom.base_url = None;
        let value = serde_json::to_value(&clean).unwrap_or_default();
        crate::canonical::digest(&value)
    }
}

fn find_inline_secret(text: &str, path: &Path) -> Option<ConfigError> {
    let mut section = String::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with('[') {
            section = line.trim_matches(['[', ']', ' ']).to_string();
            continue;
        }
        let Some((key, _)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim().trim_matches('"');
        if let Some((_, hint)) = SECRET_KEYS
            .iter()
            .find(|(k, _)| key.eq_ignore_ascii_case(k))
        {
            let full = if section.is_empty() {
                key.to_string()
            } else {
                format!("{section}.{key}")
            };
            return Some(ConfigError::InlineSecret {
                path: path.into(),
                key: full,
                line: index + 1,
                hint,
            });
        }
        if key.eq_ignore_ascii_case("connection_string") && connection_string_has_password(line) {
            let full = format!("{section}.connection_string");
            return Some(ConfigError::InlineSecret {
                path: path.into(),
                key: full,
                line: index + 1,
                hint: "password_env",
            });
        }
    }
    None
}

fn connection_string_has_password(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    lower.contains("password=") || lower.contains("pwd=")
}

#[cfg(test)]
mod tests;
