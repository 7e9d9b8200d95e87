//! What every phase shares ([`Ctx`]) and the step runner that makes each API step exactly-once: intent committed
//! before the request, outcome after it, and a step found in flight reconciled by its probe before any resend.

use crate::client::{ApiError, Client, backoff};
use crate::journal::{Journal, JournalError};
use crate::resolve::{Admins, MissingRef, Resolution, resolve};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use ti_shared::bundle::Bundle;

/// Options of a run that phases need.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Workers for parallel phases (conversations in parallel, parts in order).
    pub workers: usize,
    /// Attempts of a step before its record is marked failed.
    pub max_attempts: u32,
    /// How long search results may lag creation; probes that search wait this long after the intent.
    pub search_lag: Duration,
    /// Tag name put on contacts, companies, conversations.
    pub migration_tag: String,
}

/// The shared state of a run.
#[derive(Debug)]
pub struct Ctx {
    /// API client.
    pub client: Client,
    /// Journal.
    pub journal: Arc<Journal>,
    /// The verified load bundle.
    pub bundle: Bundle,
    /// Its id.
    pub bundle_id: String,
    /// Admin matching.
    pub admins: Admins,
    /// Intercom id of every loaded record, by key.
    pub ids: RwLock<HashMap<String, String>>,
    /// Id of the migration tag.
    pub tag_id: String,
    /// Options.
    pub opts: RunOptions,
    /// Set at the first 401 (the token was refused): no later request can succeed, so workers take no new
    /// record and the run ends with exit code 2. Holds the refused request's error.
    pub stop: std::sync::Mutex<Option<String>>,
}

/// Why a step or record failed.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// The API refused or the outcome stayed unknown after every attempt.
    #[error("{0}")]
    Api(#[from] ApiError),
    /// Journal failure (stops the run).
    #[error("{0}")]
    Journal(#[from] JournalError),
    /// A `$ref` without an Intercom id.
    #[error("{0}")]
    Missing(#[from] MissingRef),
    /// Record body not as docs/records.md describes.
    #[error("bad record body: {0}")]
    Body(String),
}

/// What a send or probe found: the Intercom id the step produced (when any) and its outcome word.
#[derive(Debug, Clone, PartialEq)]
pub struct Sent {
    /// Intercom id.
    pub id: Option<String>,
    /// `created`, `matched`, `updated`, `sent`, `reconciled`….
    pub outcome: String,
}

impl Sent {
    /// A step that produced `id` with `outcome`.
    pub fn new(id: Option<String>, outcome: &str) -> Self {
        Self {
            id,
            outcome: outcome.to_string(),
        }
    }
}

/// True when Intercom refused the token (HTTP 401): no later request of the run can succeed.
pub fn token_refused(e: &ApiError) -> bool {
    e.status() == Some(401)
}

impl Ctx {
    /// Stops the run: the first refusal is kept (see [`Ctx::stop`]).
    pub fn stop_run(&self, why: &str) {
        let mut s = self.stop.lock().unwrap_or_else(|p| p.into_inner());
        if s.is_none() {
            *s = Some(why.to_string());
        }
    }

    /// Why the run stopped, when it did.
    pub fn stopped(&self) -> Option<String> {
        self.stop.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Resolves `$ref`/`$admin` in `body` with the ids known now.
    ///
    /// # Errors
    /// [`MissingRef`].
    pub fn resolve(&self, body: &Value) -> Result<(Value, Resolution), MissingRef> {
        let ids = self.ids.read().unwrap_or_else(|p| p.into_inner());
        let mut res = Resolution::default();
        let v = resolve(body, &ids, &self.admins, &mut res)?;
        Ok((v, res))
    }

    /// The Intercom id of a loaded record.
    pub fn id_of(&self, key: &str) -> Option<String> {
        self.ids
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned()
    }

    /// Records the Intercom id of a loaded record.
    pub fn set_id(&self, key: &str, id: &str) {
        self.ids
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key.to_string(), id.to_string());
    }

    /// True when `id` is the Intercom id of some record other than `key` (probes must not claim it).
    pub fn claimed_by_other(&self, key: &str, id: &str) -> bool {
        self.ids
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .any(|(k, v)| v == id && k != key)
    }

    /// Runs an idempotent `POST path body` (tagging) as a journalled step: sending it twice changes nothing in
    /// Intercom, so a step left in flight is simply sent again (no probe needed).
    ///
    /// # Errors
    /// As [`step`](Self::step).
    pub async fn idempotent_post(
        &self,
        key: &str,
        step: &str,
        path: &str,
        body: &Value,
    ) -> Result<(), StepError> {
        self.step(
            key,
            step,
            async || {
                self.client
                    .post(path, body)
                    .await
                    .map(|_| Sent::new(None, "sent"))
            },
            async || Ok(None),
        )
        .await
        .map(|_| ())
    }

    /// Runs one step exactly once across crashes and retries:
    /// 1. already `done` in the journal → its id, nothing sent;
    /// 2. found in flight (`intent` or `failed`) → `probe` first; found → done without sending;
    /// 3. otherwise commit the intent, `send`, commit the outcome. A send whose outcome is unknown is probed before
    ///    it is tried again (at most `max_attempts` sends); a definite refusal fails the step, except a 401 (the
    ///    token refused: nothing was applied), which forgets the intent and records no failure.
    ///
    /// `probe` returns `None` when the effect is certainly absent (idempotent steps can always return `None`).
    ///
    /// # Errors
    /// [`StepError::Api`] after a refusal or when attempts run out; [`StepError::Journal`].
    pub async fn step(
        &self,
        key: &str,
        step: &str,
        send: impl AsyncFn() -> Result<Sent, ApiError>,
        probe: impl AsyncFn() -> Result<Option<Sent>, ApiError>,
    ) -> Result<Option<String>, StepError> {
        if let Some(row) = self.journal.step(key, step)? {
            if row.state == "done" {
                return Ok(row.intercom_id);
            }
            match probe().await {
                Ok(Some(found)) => {
                    tracing::info!(key, step, "in-flight step reconciled: already applied");
                    self.journal
                        .step_done(key, step, found.id.as_deref(), &found.outcome)?;
                    return Ok(found.id);
                }
                Ok(None) => {}
                Err(e) if token_refused(&e) => return Err(e.into()),
                Err(e) => {
                    self.journal
                        .step_failed(key, step, &format!("reconciling: {e}"))?;
                    return Err(e.into());
                }
            }
        }
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            self.journal.intent(key, step, &self.bundle_id)?;
            match send().await {
                Ok(sent) => {
                    self.journal
                        .step_done(key, step, sent.id.as_deref(), &sent.outcome)?;
                    return Ok(sent.id);
                }
                Err(e) if e.is_unknown() && attempts < self.opts.max_attempts => {
                    tracing::warn!(key, step, error = %e, "outcome unknown; reconciling before any retry");
                    tokio::time::sleep(backoff(attempts)).await;
                    match probe().await {
                        Ok(Some(found)) => {
                            self.journal.step_done(
                                key,
                                step,
                                found.id.as_deref(),
                                &found.outcome,
                            )?;
                            return Ok(found.id);
                        }
                        Ok(None) => continue,
                        Err(pe) if token_refused(&pe) => return Err(pe.into()),
                        Err(pe) => {
                            self.journal
                                .step_failed(key, step, &format!("reconciling: {pe}"))?;
                            return Err(pe.into());
                        }
                    }
                }
                Err(e) if token_refused(&e) => {
                    // Not applied: the step is as if never started (no failure recorded).
                    self.journal.forget_intent(key, step)?;
                    return Err(e.into());
                }
                Err(e) => {
                    self.journal.step_failed(key, step, &e.to_string())?;
                    return Err(e.into());
                }
            }
        }
    }

    /// Sleeps until `search_lag` has passed since the step's last intent, so a search sees whatever that request
    /// created (DESIGN.md §7: search lags creation; waiting out the lag is the documented remedy).
    pub async fn wait_out_search_lag(&self, key: &str, step: &str) {
        let intent_at = self
            .journal
            .step(key, step)
            .ok()
            .flatten()
            .and_then(|r| r.intent_at)
            .unwrap_or(0.0);
        let ready = intent_at + self.opts.search_lag.as_secs_f64();
        let now = crate::limiter::unix_now();
        if ready > now {
            tokio::time::sleep(Duration::from_secs_f64(ready - now)).await;
        }
    }
}

/// The first 12 hex characters of the digest of a JSON value: names steps whose content may change in a delta.
pub fn short_digest(v: &Value) -> String {
    ti_shared::canonical::digest(v)[..12].to_string()
}

/// A string id from a JSON value that may be a string or a number.
pub fn id_str(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
