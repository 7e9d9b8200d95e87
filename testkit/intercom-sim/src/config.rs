//! Simulator settings. Every limit Intercom does not document is a field here with its default stated.

use std::path::PathBuf;

/// All settings of one simulator instance. `Default` gives the documented defaults.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Address to listen on; default `127.0.0.1:0` (any free loopback port).
    pub listen: String,
    /// The bearer token requests must carry (read from the `--token-env` variable; never printed).
    pub token: String,
    /// Admins/teams seed file (the fixture generator's admins.json); `None` seeds one default admin.
    pub seed_admins: Option<PathBuf>,
    /// Requests per minute; enforced per 10-second window as `ceil(n / 6)`. Default 10,000 (Intercom's
    /// documented private-app default). 0 disables rate limiting (headers are then not sent).
    pub rate_limit_per_minute: u32,
    /// Milliseconds before a new contact/conversation shows up in `/search` results. Default 2,000.
    pub search_lag_ms: u64,
    /// Extra latency added to every API response, in milliseconds. Default 0.
    pub latency_ms: u64,
    /// Fault specs active from the start (see `faults`). Default none.
    pub faults: Vec<String>,
    /// Seed of the fault RNG; default 1.
    pub fault_seed: u64,
    /// Where to write the state JSON on shutdown.
    pub state_out: Option<PathBuf>,
    /// Parts returned by `GET /conversations/{id}` (the newest ones). Default 500 (documented by Intercom).
    pub max_parts_returned: usize,
    /// Custom attributes allowed per model (contact, company, conversation); archived ones count.
    /// Default 250 (documented for people attributes; applied to every model as the conservative choice).
    pub attribute_quota: usize,
    /// Characters allowed in attribute names besides ASCII letters and digits. Default `_-`
    /// (undocumented by Intercom; spaces and punctuation are refused).
    pub attribute_name_extra_chars: String,
    /// Maximum characters of a string custom-attribute value. Default 255 (unconfirmed; values over it are
    /// rejected with 400, never truncated).
    pub max_string_attribute_len: usize,
    /// Maximum `attachment_files` and, separately, `attachment_urls` per reply. Default 10 (documented).
    pub max_attachments: usize,
    /// Maximum decoded size of one base64 attachment, in bytes. Default 100 MiB (Intercom's stated per-upload
    /// limit; the API limit itself is unconfirmed).
    pub max_attachment_bytes: usize,
    /// Maximum request body, in bytes. Default 256 MiB.
    pub max_body_bytes: usize,
    /// Refused attachment extensions (without dot, any case). Default: ti-shared's restricted list.
    pub restricted_extensions: Vec<String>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:0".into(),
            token: String::new(),
            seed_admins: None,
            rate_limit_per_minute: 10_000,
            search_lag_ms: 2_000,
            latency_ms: 0,
            faults: Vec::new(),
            fault_seed: 1,
            state_out: None,
            max_parts_returned: 500,
            attribute_quota: 250,
            attribute_name_extra_chars: "_-".into(),
            max_string_attribute_len: 255,
            max_attachments: 10,
            max_attachment_bytes: 100 * 1024 * 1024,
            max_body_bytes: 256 * 1024 * 1024,
            restricted_extensions: crate::attachments::default_restricted_extensions(),
        }
    }
}
