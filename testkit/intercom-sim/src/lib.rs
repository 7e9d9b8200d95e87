//! `intercom-sim`: a strict, stateful stand-in for an Intercom workspace (REST API 2.16), for testing the
//! loader. It checks the bearer token and `Intercom-Version`, validates request bodies like Intercom does
//! (custom attributes must exist, 255-character strings, ≤ 10 attachments, blocked file types, 409 on
//! duplicate contacts…), rate-limits in 10-second windows with the real headers, delays search visibility,
//! caps conversation reads at 500 parts, injects faults on demand, and dumps everything it received at
//! `GET /_sim/state`. See README.md for the endpoint list, the state JSON and every deliberate deviation.
//!
//! ```no_run
//! # async fn demo() -> Result<(), intercom_sim::SimError> {
//! let cfg = intercom_sim::SimConfig { token: "secret".into(), ..Default::default() };
//! let sim = intercom_sim::start(cfg).await?;
//! println!("serving on {}", sim.addr);
//! sim.stop().await;
//! # Ok(()) }
//! ```

pub mod attachments;
pub mod auth;
pub mod config;
pub mod errors;
pub mod faults;
pub mod index;
pub mod model;
pub mod ratelimit;
pub mod render;
pub mod routes;
pub mod search;
pub mod server;
pub mod state;
pub mod validate;

use std::io::Write;
use std::net::SocketAddr;

pub use config::SimConfig;
pub use errors::SimError;
pub use state::{App, Shared};

/// A simulator serving in the background of the current tokio runtime.
#[derive(Debug)]
pub struct Running {
    /// The bound address (port resolved).
    pub addr: SocketAddr,
    /// The shared state (for in-process inspection).
    pub app: Shared,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Stop accepting connections and wait for the accept loop to end.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// Bind `cfg.listen` and serve in a background task.
///
/// # Errors
/// Seed/fault errors, or the bind failing.
pub async fn start(cfg: SimConfig) -> Result<Running, SimError> {
    let app = App::new(cfg)?;
    let listener = tokio::net::TcpListener::bind(&app.cfg.listen)
        .await
        .map_err(|source| SimError::Io {
            context: format!("binding {}", app.cfg.listen),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| SimError::Io {
        context: "local address".into(),
        source,
    })?;
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let router = server::router(app.clone());
    let task = tokio::spawn(server::serve(listener, router, async move {
        let _ = rx.await;
    }));
    Ok(Running {
        addr,
        app,
        stop,
        task,
    })
}

/// Write the state JSON to `path`.
///
/// # Errors
/// [`SimError::Io`].
pub fn write_state(app: &App, path: &std::path::Path) -> Result<(), SimError> {
    let text = serde_json::to_string_pretty(&app.ws().dump()).unwrap_or_default();
    std::fs::write(path, text).map_err(|source| SimError::Io {
        context: format!("writing {}", path.display()),
        source,
    })
}

/// Resolves on SIGTERM or Ctrl-C. The handlers are installed when this is called, not when it is awaited,
/// so a signal arriving right after the "listening" line is not lost.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let ctrl_c = tokio::spawn(async {
        let _ = tokio::signal::ctrl_c().await;
    });
    async move {
        #[cfg(unix)]
        if let Some(mut term) = term {
            tokio::select! {
                _ = term.recv() => {},
                _ = ctrl_c => {},
            }
            return;
        }
        let _ = ctrl_c.await;
    }
}

/// Run until SIGTERM or Ctrl-C: print `listening on http://ADDR` as the first stdout line (flushed), then on
/// shutdown write `cfg.state_out` when set.
///
/// # Errors
/// Startup failures and the state file write.
pub async fn run(cfg: SimConfig) -> Result<(), SimError> {
    let running = start(cfg).await?;
    let signal = shutdown_signal();
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on http://{}", running.addr);
        let _ = out.flush();
    }
    signal.await;
    let app = running.app.clone();
    running.stop().await;
    if let Some(p) = &app.cfg.state_out {
        write_state(&app, p)?;
    }
    Ok(())
}
