//! SIGINT (Ctrl-C) and SIGTERM during `ti-transform run`: the run's output is removed as a failed run's would be
//! ([`crate::output::Output`]), a one-line message is printed and the process exits 130 (SIGINT) or 143 (SIGTERM),
//! the shell convention 128 + signal number. The signals are received by the `signal-hook` crate on a thread of
//! its own (no signal handler code here). SIGKILL and SIGXFSZ cannot be handled portably: what they leave is
//! recognised by the next run ([`crate::output::leftover_message`]).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// The output folder of the run in progress, if any: what a signal removes.
#[derive(Debug, Clone)]
pub(crate) struct Active {
    /// The `--out` folder.
    pub root: PathBuf,
    /// The run created it (it did not exist): removed whole, else emptied.
    pub created: bool,
}

static ACTIVE: Mutex<Option<Active>> = Mutex::new(None);

/// The registration of the run in progress (poisoning ignored: the value is a plain path).
pub(crate) fn active() -> MutexGuard<'static, Option<Active>> {
    ACTIVE.lock().unwrap_or_else(|p| p.into_inner())
}

/// Removes what a run wrote to `root`: the whole folder when the run created it, else everything in it.
pub(crate) fn remove_output(root: &Path, created: bool) {
    if created {
        let _ = std::fs::remove_dir_all(root);
    } else if let Ok(items) = std::fs::read_dir(root) {
        for item in items.flatten() {
            let path = item.path();
            let _ = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
        }
    }
}

/// Starts the thread that handles SIGINT and SIGTERM for the rest of the process (call once, from `main`, before
/// the run starts). On a signal: the output of the run in progress is removed (retried while the run's threads
/// may still be creating files in it), `error: interrupted by SIGTERM: …` is printed on stderr and the process
/// exits 130 or 143.
///
/// # Errors
/// When the signal handlers cannot be registered or the thread cannot be started.
#[cfg(unix)]
pub fn install() -> std::io::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
    std::thread::Builder::new()
        .name("ti-transform-signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                let name = if signal == SIGINT {
                    "SIGINT"
                } else {
                    "SIGTERM"
                };
                // Held until exit: a run that has not finished cannot write its manifest any more.
                let guard = active();
                let what = match guard.as_ref() {
                    Some(a) => {
                        for _ in 0..20 {
                            remove_output(&a.root, a.created);
                            let left = if a.created {
                                a.root.exists()
                            } else {
                                std::fs::read_dir(&a.root).is_ok_and(|mut d| d.next().is_some())
                            };
                            if !left {
                                break;
                            }
                            std::thread::sleep(std::time::Duration::from_millis(20));
                        }
                        format!(
                            ": removed what this run had written to {} (nothing was migrated)",
                            a.root.display()
                        )
                    }
                    None => String::new(),
                };
                eprintln!("error: interrupted by {name}{what}");
                std::process::exit(128 + signal);
            }
        })?;
    Ok(())
}

/// Test hook: when the environment variable `TI_TRANSFORM_TEST_HOLD` names a path, a run waits after creating its
/// staging folder until that path exists, so a test can signal a run that is surely in progress without timing.
/// Unset (always, outside tests), this does nothing.
pub(crate) fn test_hold() {
    if let Some(path) = std::env::var_os("TI_TRANSFORM_TEST_HOLD") {
        let path = PathBuf::from(path);
        while !path.exists() {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}

/// On Windows (no SIGTERM; signal-hook's iterator is Unix-only) nothing is installed: Ctrl-C ends the process and
/// the next run names the leftover folder ([`crate::output::leftover_message`]).
///
/// # Errors
/// Never.
#[cfg(not(unix))]
pub fn install() -> std::io::Result<()> {
    Ok(())
}
