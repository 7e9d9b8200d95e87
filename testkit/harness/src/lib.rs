//! Test support shared by every crate's integration tests (test equipment, never shipped).
//!
//! - [`binary`] finds a workspace binary, building it once per test process, so `cargo test` needs no setup.
//! - [`start_fixture_server`] and [`start_simulator`] start `trackit-fixture serve` and `intercom-sim` as child
//!   processes on `127.0.0.1` port 0, read the address from their first stdout line, capture their stderr to a
//!   log file and kill them on drop.
//! - [`generate_fixture`] runs `trackit-fixture generate`.
//!
//! Functions here panic with a clear message on failure: they run only inside tests.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Password the fixture server is started with (env `TRACKIT_FIXTURE_PASSWORD`) and the extractor uses.
pub const FIXTURE_PASSWORD: &str = "fixture";
/// Database name the fixture server reports.
pub const FIXTURE_DATABASE: &str = "TRACKIT_DATA";

/// The workspace root (the folder of the top-level Cargo.toml).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root exists")
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

fn check_known(name: &str) {
    if !matches!(
        name,
        "trackit-fixture" | "intercom-sim" | "ti-extract" | "ti-transform" | "ti-load"
    ) {
        panic!("testkit-harness: unknown binary {name}");
    }
}

/// Absolute path of a workspace binary (`trackit-fixture`, `intercom-sim`, `ti-extract`, `ti-transform`,
/// `ti-load`) in the debug profile, built with `cargo build --workspace --bins` the first time one is asked for in
/// this process (a no-op when up to date, as after `scripts/test`'s own first step). Building every binary with
/// one command keeps dependency features unified the same way each time, so no dependency is compiled twice.
///
/// # Panics
/// When the build fails (cargo's output is in the message).
pub fn binary(name: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let mut built = BUILT
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if let Some(path) = built.get(name) {
        return path.clone();
    }
    check_known(name);
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["build", "--quiet", "--workspace", "--bins"])
        .current_dir(workspace_root())
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "building {name} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let path = target_dir()
        .join("debug")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(path.exists(), "{} missing after build", path.display());
    built.insert(name.to_string(), path.clone());
    path
}

/// A server started as a child process; killed (and reaped) on drop.
pub struct ChildServer {
    /// What followed `listening on ` in the first stdout line: `127.0.0.1:PORT` or `http://127.0.0.1:PORT`.
    pub addr: String,
    /// File capturing the child's stderr.
    pub log: PathBuf,
    child: Child,
    _log_dir: TempDir,
}

impl ChildServer {
    /// The TCP port the server listens on.
    pub fn port(&self) -> u16 {
        let tail = self.addr.rsplit(':').next().unwrap_or_default();
        tail.trim_end_matches('/')
            .parse()
            .expect("address ends with a port")
    }

    /// Everything the server wrote to stderr so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The child's process id (to send signals in tests).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the server now.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and waits up to 10 s for a clean exit (for servers that write state on shutdown).
    pub fn terminate(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.kill();
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Starts `binary` with `args` and `envs`, waits (up to 30 s) for its `listening on ADDR` line.
///
/// # Panics
/// When the process cannot start or exits before announcing its address (its stderr is in the message).
pub fn start_server(binary_name: &str, args: &[&str], envs: &[(&str, &str)]) -> ChildServer {
    let log_dir = TempDir::new();
    let log = log_dir.path().join("stderr.log");
    let stderr = std::fs::File::create(&log).expect("log file");
    let mut child = Command::new(binary(binary_name))
        .args(args)
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {binary_name}: {e}"));
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next().and_then(|l| l.ok());
        let _ = tx.send(first);
        for _ in lines {} // keep draining so the child never blocks on a full pipe
    });
    let first = rx.recv_timeout(Duration::from_secs(30)).ok().flatten();
    let Some(addr) = first
        .as_deref()
        .and_then(|l| l.strip_prefix("listening on "))
    else {
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "{binary_name} did not announce its address (first line {first:?}); stderr:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    };
    ChildServer {
        addr: addr.trim().to_string(),
        log,
        child,
        _log_dir: log_dir,
    }
}

/// Starts `trackit-fixture serve --db DB --listen 127.0.0.1:0 <extra>` with the password
/// [`FIXTURE_PASSWORD`] in `TRACKIT_FIXTURE_PASSWORD`.
pub fn start_fixture_server(db: &Path, extra: &[&str]) -> ChildServer {
    let db = db.to_str().expect("utf-8 path");
    let mut args = vec!["serve", "--db", db, "--listen", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    start_server(
        "trackit-fixture",
        &args,
        &[("TRACKIT_FIXTURE_PASSWORD", FIXTURE_PASSWORD)],
    )
}

/// Starts `intercom-sim --listen 127.0.0.1:0 <extra>` with `token` in `INTERCOM_TOKEN`.
pub fn start_simulator(token: &str, extra: &[&str]) -> ChildServer {
    let mut args = vec!["--listen", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    start_server("intercom-sim", &args, &[("INTERCOM_TOKEN", token)])
}

/// ADO.NET connection string for a started fixture server (plaintext, SQL login `sa`; the password travels in
/// `TRACKIT_SQL_PASSWORD`, set it to [`FIXTURE_PASSWORD`]).
pub fn fixture_connection_string(server: &ChildServer) -> String {
    format!(
        "server=tcp:127.0.0.1,{};database={FIXTURE_DATABASE};user=sa;encrypt=DANGER_PLAINTEXT",
        server.port()
    )
}

/// Runs `trackit-fixture generate --profile P --tickets N --seed S --out DIR <extra>` and returns `DIR`.
///
/// # Panics
/// When the generator fails (its stderr is in the message).
pub fn generate_fixture(
    dir: &Path,
    profile: &str,
    tickets: u32,
    seed: u64,
    extra: &[&str],
) -> PathBuf {
    let output = Command::new(binary("trackit-fixture"))
        .args([
            "generate",
            "--profile",
            profile,
            "--tickets",
            &tickets.to_string(),
            "--seed",
            &seed.to_string(),
        ])
        .arg("--out")
        .arg(dir)
        .args(extra)
        .output()
        .expect("trackit-fixture runs");
    assert!(
        output.status.success(),
        "generate failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    dir.to_path_buf()
}

/// A temporary directory removed on drop (kept when `TI_KEEP_TEST_DIRS` is set, for debugging).
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates a fresh directory under the system temp dir.
    pub fn new() -> Self {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!(
            "ti-test-{}-{nanos}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).expect("temp dir");
        Self(path)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Default for TempDir {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("TI_KEEP_TEST_DIRS").is_none() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
