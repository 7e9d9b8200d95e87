//! Test equipment: hand-made fixture databases (testkit/trackit-fixture/FORMAT.md), the fixture server as a
//! child process on 127.0.0.1 port 0, running `ti-extract`, reading Parquet back.
#![allow(dead_code, missing_docs)]

use arrow_array::RecordBatch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use rusqlite::Connection;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_path_buf()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target"))
}

/// The `trackit-fixture` binary, built once per test process (with every workspace binary, so dependency
/// features are unified as in `scripts/test` and nothing is compiled twice; the fixture alone when another
/// crate does not build).
pub fn fixture_binary() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let build = |args: &[&str]| {
                Command::new(env!("CARGO"))
                    .args(args)
                    .current_dir(workspace())
                    .output()
                    .expect("cargo runs")
            };
            let mut out = build(&["build", "--workspace", "--bins"]);
            if !out.status.success() {
                // Another crate of the shared working tree does not build right now: the fixture alone will do.
                out = build(&["build", "-p", "trackit-fixture", "--bin", "trackit-fixture"]);
            }
            assert!(
                out.status.success(),
                "building trackit-fixture failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            target_dir()
                .join("debug")
                .join(format!("trackit-fixture{}", std::env::consts::EXE_SUFFIX))
        })
        .clone()
}

/// The `ti-extract` binary under test.
pub fn extract_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_ti-extract"))
}

/// A fixture server child process, killed on drop.
pub struct Server {
    pub child: Child,
    pub port: u16,
    pub log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// `trackit-fixture serve --db DB --listen 127.0.0.1:0 --log LOG <extra>`.
    pub fn start(db: &Path, extra: &[&str]) -> Server {
        let log = db.with_extension(format!("{}.log", std::process::id()));
        let _ = std::fs::remove_file(&log);
        let mut child = Command::new(fixture_binary())
            .args(["serve", "--db"])
            .arg(db)
            .args(["--listen", "127.0.0.1:0", "--log"])
            .arg(&log)
            .args(extra)
            .env("TRACKIT_FIXTURE_PASSWORD", "fixture")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("fixture server starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("first line");
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        let port = addr
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port");
        Server { child, port, log }
    }

    /// The connection string for this server.
    pub fn conn(&self) -> String {
        format!(
            "server=tcp:127.0.0.1,{};database=TRACKIT_DATA;user=sa;encrypt=DANGER_PLAINTEXT",
            self.port
        )
    }

    /// The statement log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// Runs `ti-extract ARGS` with the fixture password; returns (exit code, stdout, stderr).
pub fn extract(args: &[&str]) -> (i32, String, String) {
    extract_env(args, &[("TRACKIT_SQL_PASSWORD", "fixture")])
}

/// Runs `ti-extract ARGS` with the given environment; returns (exit code, stdout, stderr).
pub fn extract_env(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(extract_binary());
    // No pipeline.toml in the working directory: built-in defaults unless a test passes --config.
    cmd.args(args).current_dir(std::env::temp_dir());
    cmd.env_remove("TRACKIT_SQL_PASSWORD");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("ti-extract runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A column of a hand-made table: (name, SQL Server type, max_length, precision, scale, collation, pk ordinal).
pub struct Col<'a> {
    pub name: &'a str,
    pub ty: &'a str,
    pub max_length: Option<i64>,
    pub precision: Option<i64>,
    pub scale: Option<i64>,
    pub collation: Option<&'a str>,
    pub pk: Option<i64>,
}

/// Shorthand for a column.
pub fn col<'a>(name: &'a str, ty: &'a str) -> Col<'a> {
    Col {
        name,
        ty,
        max_length: None,
        precision: None,
        scale: None,
        collation: None,
        pk: None,
    }
}

impl<'a> Col<'a> {
    pub fn len(mut self, n: i64) -> Self {
        self.max_length = Some(n);
        self
    }
    pub fn prec(mut self, p: i64, s: i64) -> Self {
        self.precision = Some(p);
        self.scale = Some(s);
        self
    }
    pub fn scale(mut self, s: i64) -> Self {
        self.scale = Some(s);
        self
    }
    pub fn collate(mut self, c: &'a str) -> Self {
        self.collation = Some(c);
        self
    }
    pub fn pk(mut self) -> Self {
        self.pk = Some(1);
        self
    }
}

/// A new fixture database with the catalog tables and the `_ti_database` row.
pub fn new_db(path: &Path) -> Connection {
    let _ = std::fs::remove_file(path);
    let c = Connection::open(path).expect("sqlite");
    c.execute_batch(
        "CREATE TABLE _ti_database (database_name TEXT NOT NULL, collation_name TEXT NOT NULL, server_version TEXT NOT NULL, product_version TEXT NOT NULL, time_zone TEXT, utc_offset_minutes INTEGER NOT NULL);
         INSERT INTO _ti_database VALUES ('TRACKIT_DATA','SQL_Latin1_General_CP1_CI_AS','Microsoft SQL Server 2008 R2 (SP3) - 10.50.6000.34 (X64)','10.50.6000.34',NULL,-300);
         CREATE TABLE _ti_objects (schema_name TEXT NOT NULL, object_name TEXT NOT NULL, object_type TEXT NOT NULL, PRIMARY KEY (schema_name, object_name));
         CREATE TABLE _ti_columns (schema_name TEXT NOT NULL, object_name TEXT NOT NULL, ordinal INTEGER NOT NULL, column_name TEXT NOT NULL, data_type TEXT NOT NULL, max_length INTEGER, precision INTEGER, scale INTEGER, is_nullable INTEGER NOT NULL, collation_name TEXT, pk_ordinal INTEGER, PRIMARY KEY (schema_name, object_name, ordinal));",
    )
    .expect("catalog");
    c
}

/// Creates table `dbo.<name>` with `cols`.
pub fn table(c: &Connection, name: &str, cols: &[Col<'_>]) {
    let ddl: Vec<String> = cols
        .iter()
        .map(|k| {
            let ty = match (k.ty, k.max_length, k.precision) {
                (t, Some(-1), _) => format!("{t}(max)"),
                (t, Some(n), _) if !matches!(t, "text" | "ntext" | "image") => format!("{t}({n})"),
                (t, _, Some(p)) => format!("{t}({p},{})", k.scale.unwrap_or(0)),
                (t, _, _) => t.to_string(),
            };
            // No declared type (no SQLite affinity): values stay exactly as inserted (TEXT decimals would
            // otherwise become REAL under NUMERIC affinity and lose digits). The SQL Server type is in the
            // catalog, which is what the server trusts.
            let _ = ty;
            format!("\"{}\"", k.name)
        })
        .collect();
    c.execute_batch(&format!(
        "CREATE TABLE \"dbo.{name}\" ({});",
        ddl.join(", ")
    ))
    .expect("ddl");
    c.execute(
        "INSERT INTO _ti_objects VALUES ('dbo', ?1, 'BASE TABLE')",
        [name],
    )
    .expect("object");
    for (i, k) in cols.iter().enumerate() {
        c.execute(
            "INSERT INTO _ti_columns VALUES ('dbo', ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            rusqlite::params![
                name,
                i as i64 + 1,
                k.name,
                k.ty,
                k.max_length,
                k.precision,
                k.scale,
                i64::from(k.pk.is_none()),
                k.collation,
                k.pk
            ],
        )
        .expect("column");
    }
}

/// Every row of every part of `folder` in `bundle`.
pub fn read_parts(bundle: &Path, folder: &str) -> Vec<RecordBatch> {
    let dir = bundle.join(folder);
    let mut parts: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .collect();
    parts.sort();
    let mut out = Vec::new();
    for p in parts {
        let f = std::fs::File::open(&p).expect("part");
        for b in ParquetRecordBatchReaderBuilder::try_new(f)
            .expect("parquet")
            .build()
            .expect("reader")
        {
            out.push(b.expect("batch"));
        }
    }
    out
}

/// The `bundle_id` of a finished bundle.
pub fn bundle_id(bundle: &Path) -> String {
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bundle.join("manifest.json")).expect("manifest"))
            .expect("json");
    m["bundle_id"].as_str().expect("id").to_string()
}

/// `ti-extract run --config CFG --connection-string <server's> --out OUT EXTRA…`: exit code, stdout, stderr.
pub fn run(server: &Server, cfg: &Path, out: &Path, extra: &[&str]) -> (i32, String, String) {
    let conn = server.conn();
    let mut args = vec![
        "run",
        "--config",
        cfg.to_str().unwrap(),
        "--connection-string",
        &conn,
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(extra);
    extract(&args)
}

/// Writes `dir/pipeline.toml` with small keyset pages (50 rows), row groups of 200 rows and 3 retries, so a
/// table of a few hundred rows spans several parts and a fault in the middle of it is retried.
pub fn small_pages_config(dir: &Path) -> PathBuf {
    let cfg = dir.join("pipeline.toml");
    std::fs::write(
        &cfg,
        "[extract]\npage_rows = 50\nrow_group_rows = 200\nretries = 3\n",
    )
    .unwrap();
    cfg
}

/// Runs `ti-extract run` with `cfg` against a fixture server of `db` started with `--fault FAULT`, into
/// `dir/<FAULT with : = @ . as _>`; asserts exit 0 and that the fault fired (the server's `fault:` log line).
/// Returns the server (for its statement log), the bundle folder and stderr.
pub fn run_with_fault(dir: &Path, db: &Path, cfg: &Path, fault: &str) -> (Server, PathBuf, String) {
    let server = Server::start(db, &["--fault", fault]);
    let out = dir.join(fault.replace([':', '=', '@', '.'], "_"));
    let (code, stdout, stderr) = run(&server, cfg, &out, &[]);
    assert_eq!(code, 0, "{fault}: {stdout}\n{stderr}");
    assert!(server.log_text().contains("fault:"), "{fault} did not fire");
    (server, out, stderr)
}
