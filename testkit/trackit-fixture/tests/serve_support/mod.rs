//! Shared helpers of the `serve*` tests: a hand-built golden database (FORMAT.md, no generator involved), a server
//! child process on 127.0.0.1:0, and a tiberius client.
#![allow(dead_code, missing_docs)]

use rusqlite::{Connection, params};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use tiberius::{AuthMethod, Client, Config, EncryptionLevel};
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

pub const GUID: &str = "9C0C9EED-FEAC-474E-9AD7-C5B9280424D1";

/// One column of a golden table: name, SQLite declared type, catalog data_type, max_length, precision, scale,
/// nullable, collation.
pub struct Col(
    pub &'static str,
    pub &'static str,
    pub &'static str,
    pub Option<i64>,
    pub Option<i64>,
    pub Option<i64>,
    pub bool,
    pub Option<&'static str>,
);

pub fn create_table(
    conn: &Connection,
    schema: &str,
    name: &str,
    kind: &str,
    cols: &[Col],
    pk: &[&str],
) {
    let defs: Vec<String> = cols
        .iter()
        .map(|c| format!("\"{}\" \"{}\"", c.0, c.1))
        .collect();
    conn.execute_batch(&format!(
        "CREATE TABLE \"{schema}.{name}\" ({});",
        defs.join(", ")
    ))
    .unwrap();
    conn.execute(
        "INSERT INTO _ti_objects VALUES (?1, ?2, ?3)",
        params![schema, name, kind],
    )
    .unwrap();
    for (i, c) in cols.iter().enumerate() {
        let pk_ord = pk.iter().position(|p| *p == c.0).map(|p| p as i64 + 1);
        conn.execute(
            "INSERT INTO _ti_columns VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                schema,
                name,
                i as i64 + 1,
                c.0,
                c.2,
                c.3,
                c.4,
                c.5,
                c.6 as i64,
                c.7,
                pk_ord
            ],
        )
        .unwrap();
    }
}

pub fn catalog(conn: &Connection, time_zone: Option<&str>) {
    conn.execute_batch(
        "CREATE TABLE _ti_database (database_name TEXT NOT NULL, collation_name TEXT NOT NULL, \
         server_version TEXT NOT NULL, product_version TEXT NOT NULL, time_zone TEXT, utc_offset_minutes INTEGER NOT NULL);
         CREATE TABLE _ti_objects (schema_name TEXT NOT NULL, object_name TEXT NOT NULL, object_type TEXT NOT NULL,
           PRIMARY KEY (schema_name, object_name));
         CREATE TABLE _ti_columns (schema_name TEXT NOT NULL, object_name TEXT NOT NULL, ordinal INTEGER NOT NULL,
           column_name TEXT NOT NULL, data_type TEXT NOT NULL, max_length INTEGER, precision INTEGER, scale INTEGER,
           is_nullable INTEGER NOT NULL, collation_name TEXT, pk_ordinal INTEGER,
           PRIMARY KEY (schema_name, object_name, ordinal));",
    )
    .unwrap();
    conn.execute(
        "INSERT INTO _ti_database VALUES ('TRACKIT_DATA', 'SQL_Latin1_General_CP1_CI_AS', \
         'Microsoft SQL Server 2008 R2 (SP3) - 10.50.6000.34 (X64)', '10.50.6000.34', ?1, -300)",
        params![time_zone],
    )
    .unwrap();
}

/// The golden database: `dbo.TYPES` (one column per type; row 1 = extremes, row 2 = NULLs, row 3 = other
/// extremes), `dbo.TASKS` (keyset pagination, N rows), `_SMDBA_.Ticket Notes` (a name with a space) and a view.
/// Decimal-like values use TEXT-affinity declared types so SQLite keeps them exact (see README).
pub fn golden_db(dir: &Path, tasks: i64, time_zone: Option<&str>) -> PathBuf {
    let path = dir.join("golden.sqlite");
    let conn = Connection::open(&path).unwrap();
    catalog(&conn, time_zone);
    let utf8 = Some("Latin1_General_100_CI_AS_SC_UTF8");
    let cols = [
        Col("id", "int", "int", None, None, None, false, None),
        Col("ti", "tinyint", "tinyint", None, None, None, true, None),
        Col("si", "smallint", "smallint", None, None, None, true, None),
        Col("i", "int", "int", None, None, None, true, None),
        Col("bi", "bigint", "bigint", None, None, None, true, None),
        Col("b", "bit", "bit", None, None, None, true, None),
        Col("r", "real", "real", None, None, None, true, None),
        Col("f", "float", "float", None, None, None, true, None),
        Col(
            "d38",
            "text",
            "decimal",
            None,
            Some(38),
            Some(38),
            true,
            None,
        ),
        Col(
            "d194",
            "text",
            "decimal",
            None,
            Some(19),
            Some(4),
            true,
            None,
        ),
        Col(
            "n380",
            "text",
            "numeric",
            None,
            Some(38),
            Some(0),
            true,
            None,
        ),
        Col("m", "text", "money", None, None, None, true, None),
        Col("sm", "text", "smallmoney", None, None, None, true, None),
        Col("dt", "datetime", "datetime", None, None, None, true, None),
        Col(
            "sdt",
            "smalldatetime",
            "smalldatetime",
            None,
            None,
            None,
            true,
            None,
        ),
        Col("da", "date", "date", None, None, None, true, None),
        Col("tm", "time(7)", "time", None, None, Some(7), true, None),
        Col(
            "dt2",
            "datetime2(7)",
            "datetime2",
            None,
            None,
            Some(7),
            true,
            None,
        ),
        Col(
            "dto",
            "datetimeoffset(7)",
            "datetimeoffset",
            None,
            None,
            Some(7),
            true,
            None,
        ),
        Col(
            "dto0",
            "datetimeoffset(0)",
            "datetimeoffset",
            None,
            None,
            Some(0),
            true,
            None,
        ),
        Col(
            "g",
            "uniqueidentifier",
            "uniqueidentifier",
            None,
            None,
            None,
            true,
            None,
        ),
        Col("c", "char(10)", "char", Some(10), None, None, true, None),
        Col(
            "vc",
            "varchar(50)",
            "varchar",
            Some(50),
            None,
            None,
            true,
            None,
        ),
        Col(
            "vu",
            "varchar(50)",
            "varchar",
            Some(50),
            None,
            None,
            true,
            utf8,
        ),
        Col(
            "vmax",
            "varchar(max)",
            "varchar",
            Some(-1),
            None,
            None,
            true,
            None,
        ),
        Col(
            "tx",
            "text",
            "text",
            Some(2_147_483_647),
            None,
            None,
            true,
            None,
        ),
        Col("nc", "nchar(5)", "nchar", Some(5), None, None, true, None),
        Col(
            "nv",
            "nvarchar(50)",
            "nvarchar",
            Some(50),
            None,
            None,
            true,
            None,
        ),
        Col(
            "nvmax",
            "nvarchar(max)",
            "nvarchar",
            Some(-1),
            None,
            None,
            true,
            None,
        ),
        Col(
            "ntx",
            "ntext",
            "ntext",
            Some(1_073_741_823),
            None,
            None,
            true,
            None,
        ),
        Col("bn", "binary(4)", "binary", Some(4), None, None, true, None),
        Col(
            "vb",
            "varbinary(50)",
            "varbinary",
            Some(50),
            None,
            None,
            true,
            None,
        ),
        Col(
            "vbmax",
            "varbinary(max)",
            "varbinary",
            Some(-1),
            None,
            None,
            true,
            None,
        ),
        Col(
            "img",
            "image",
            "image",
            Some(2_147_483_647),
            None,
            None,
            true,
            None,
        ),
        Col("x", "xml", "xml", Some(-1), None, None, true, None),
    ];
    create_table(&conn, "dbo", "TYPES", "BASE TABLE", &cols, &["id"]);
    let tenk = "x".repeat(10_000);
    let five_mb: Vec<u8> = (0..5 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    conn.execute(
        "INSERT INTO \"dbo.TYPES\" VALUES (1, 255, -32768, -2147483648, -9223372036854775808, 1, 3.4e38, \
         -1.7976931348623157e308, '0.00000000000000000000000000000000000001', '123456789012345.6789', \
         '99999999999999999999999999999999999999', '-922337203685477.5808', '-214748.3648', \
         '1753-01-01 00:00:00', '1900-01-01 00:00:00', '0001-01-01', '23:59:59.9999999', \
         '9999-12-31 23:59:59.9999999', '2020-12-09 01:30:00 +02:00', '2020-12-09 01:30:00 +02:00', ?1, \
         'abc', 'café', X'41FF42', ?2, 'NULL', 'é', 'Grüße ✓', ?2, 'ntext ✓', X'DEADBEEF', X'', ?3, ?3, \
         '<a>1</a>')",
        params![GUID, tenk, five_mb],
    )
    .unwrap();
    conn.execute("INSERT INTO \"dbo.TYPES\" (id) VALUES (2)", [])
        .unwrap();
    conn.execute(
        "INSERT INTO \"dbo.TYPES\" VALUES (3, 0, 32767, 2147483647, 9223372036854775807, 0, -1.5, 2.5, \
         '0.12345678901234567890123456789012345678', '-0.0001', '-99999999999999999999999999999999999999', \
         '922337203685477.5807', '214748.3647', '9999-12-31 23:59:59.997', '2079-06-06 23:59:00', '9999-12-31', \
         '00:00:00', '0001-01-01 00:00:00', '2020-12-09 01:30:00.1234567 -05:30', '0001-01-01 14:00:00 +14:00', \
         '00000000-0000-0000-0000-000000000000', '', '', '', '', '', '', '', '', '', X'00', X'01', X'', X'', '')",
        [],
    )
    .unwrap();
    let tasks_cols = [
        Col("WOID", "int", "int", None, None, None, false, None),
        Col(
            "TASK",
            "varchar(100)",
            "varchar",
            Some(100),
            None,
            None,
            true,
            None,
        ),
        Col(
            "RESPONS",
            "varchar(50)",
            "varchar",
            Some(50),
            None,
            None,
            true,
            None,
        ),
        Col(
            "DESCRIPT",
            "text",
            "text",
            Some(2_147_483_647),
            None,
            None,
            true,
            None,
        ),
        Col(
            "NOTE",
            "nvarchar(max)",
            "nvarchar",
            Some(-1),
            None,
            None,
            true,
            None,
        ),
        Col("COST", "text", "money", None, None, None, true, None),
        Col(
            "DATE_ENT", "datetime", "datetime", None, None, None, true, None,
        ),
        Col("FLAG", "bit", "bit", None, None, None, true, None),
    ];
    create_table(&conn, "dbo", "TASKS", "BASE TABLE", &tasks_cols, &["WOID"]);
    {
        let tx = conn.unchecked_transaction().unwrap();
        let mut st = tx
            .prepare("INSERT INTO \"dbo.TASKS\" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
            .unwrap();
        for i in 1..=tasks {
            st.execute(params![
                i,
                format!("Task number {i} for the printer on floor {}", i % 7),
                if i % 3 == 0 { None } else { Some("JSMITH") },
                format!(
                    "Description of task {i}: the user reports that the printer is jammed again."
                ),
                format!("Note {i} ✓"),
                format!("{}.{:04}", i * 3, i % 10_000),
                format!("2020-04-{:02} 09:16:20.657", i % 28 + 1),
                i % 2
            ])
            .unwrap();
        }
        drop(st);
        tx.commit().unwrap();
    }
    create_table(
        &conn,
        "_SMDBA_",
        "Ticket Notes",
        "BASE TABLE",
        &[
            Col("Seq", "int", "int", None, None, None, false, None),
            Col(
                "Note Text",
                "varchar(200)",
                "varchar",
                Some(200),
                None,
                None,
                true,
                None,
            ),
        ],
        &["Seq"],
    );
    conn.execute(
        "INSERT INTO \"_SMDBA_.Ticket Notes\" VALUES (1, 'first'), (2, 'second')",
        [],
    )
    .unwrap();
    conn.execute_batch(
        "CREATE VIEW \"dbo.vTASKS\" AS SELECT WOID, TASK FROM \"dbo.TASKS\" WHERE FLAG = 1;",
    )
    .unwrap();
    conn.execute(
        "INSERT INTO _ti_objects VALUES ('dbo', 'vTASKS', 'VIEW')",
        [],
    )
    .unwrap();
    conn.execute_batch(
        "INSERT INTO _ti_columns VALUES ('dbo','vTASKS',1,'WOID','int',NULL,NULL,NULL,0,NULL,NULL);
         INSERT INTO _ti_columns VALUES ('dbo','vTASKS',2,'TASK','varchar',100,NULL,NULL,1,NULL,NULL);",
    )
    .unwrap();
    path
}

/// A running `trackit-fixture serve`; killed on drop.
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

pub fn start(db: &Path, extra: &[&str]) -> Server {
    let log = db.with_extension(format!("log{}", std::process::id() ^ rand_suffix()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_trackit-fixture"))
        .args(["serve", "--db"])
        .arg(db)
        .arg("--log")
        .arg(&log)
        .args(extra)
        .env_remove("TRACKIT_FIXTURE_PASSWORD")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn trackit-fixture serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .trim()
        .strip_prefix("listening on 127.0.0.1:")
        .expect(&line)
        .parse()
        .unwrap();
    Server { child, port, log }
}

fn rand_suffix() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    N.fetch_add(1, Ordering::SeqCst) << 20
}

pub fn config(port: u16, password: &str) -> Config {
    let mut c = Config::new();
    c.host("127.0.0.1");
    c.port(port);
    c.authentication(AuthMethod::sql_server("sa", password));
    c.encryption(EncryptionLevel::NotSupported);
    c.database("TRACKIT_DATA");
    c
}

pub async fn connect(port: u16) -> Client<Compat<TcpStream>> {
    try_connect(port, "fixture").await.expect("login")
}

pub async fn try_connect(port: u16, password: &str) -> tiberius::Result<Client<Compat<TcpStream>>> {
    let tcp = TcpStream::connect(("127.0.0.1", port)).await?;
    tcp.set_nodelay(true)?;
    Client::connect(config(port, password), tcp.compat_write()).await
}

/// Error number of a tiberius server error.
pub fn err_code(e: &tiberius::error::Error) -> u32 {
    match e {
        tiberius::error::Error::Server(t) => t.code(),
        other => panic!("not a server error: {other:?}"),
    }
}

/// The error a batch fails with (tiberius reports it either at send or while reading results).
pub async fn batch_err(c: &mut Client<Compat<TcpStream>>, sql: &str) -> tiberius::error::Error {
    match c.simple_query(sql).await {
        Err(e) => e,
        Ok(s) => s.into_results().await.expect_err("batch must fail"),
    }
}

/// `(name, data_type, max_length)` of an object's columns in ordinal order, from the catalog.
pub fn object_columns(db: &Path, schema: &str, object: &str) -> Vec<(String, String, Option<i64>)> {
    let conn = Connection::open(db).unwrap();
    let mut st = conn
        .prepare(
            "SELECT column_name, data_type, max_length FROM _ti_columns \
             WHERE schema_name = ?1 AND object_name = ?2 ORDER BY ordinal",
        )
        .unwrap();
    st.query_map(params![schema, object], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

/// The extractor's select list (extract/src/queries.rs `select_list`/`cell_expr`, restated: this crate does not
/// depend on ti-extract) with the in-row threshold as parameter `@P{threshold}`: non-LOB character columns as
/// `varbinary(8000)`, LOB ones as `varbinary(max)` nulled above the threshold plus their `DATALENGTH`.
pub fn extract_select_list(cols: &[(String, String, Option<i64>)], threshold: usize) -> String {
    let mut items = Vec::new();
    for (name, ty, max) in cols {
        let c = format!("[{}]", name.replace(']', "]]"));
        let text = matches!(
            ty.as_str(),
            "char" | "varchar" | "text" | "nchar" | "nvarchar" | "ntext" | "xml"
        );
        let lob = matches!(ty.as_str(), "text" | "ntext" | "image" | "xml")
            || (matches!(ty.as_str(), "varchar" | "nvarchar" | "varbinary") && *max == Some(-1));
        let bin = if text && lob {
            format!("CAST({c} AS varbinary(max))")
        } else if text {
            format!("CAST({c} AS varbinary(8000))")
        } else if matches!(ty.as_str(), "money" | "smallmoney") {
            format!("CAST({c} AS decimal(19,4))")
        } else {
            c.clone()
        };
        if lob {
            let cell = if text { bin } else { c.clone() };
            items.push(format!(
                "CASE WHEN DATALENGTH({c}) > @P{threshold} THEN NULL ELSE {cell} END AS {c}"
            ));
            items.push(format!(
                "DATALENGTH({c}) AS [{}__bytes]",
                name.replace(']', "]]")
            ));
        } else {
            items.push(format!("{bin} AS {c}"));
        }
    }
    items.join(", ")
}

/// A golden database in a temporary directory with a server on it (fields drop in order: the server is killed
/// before the directory goes).
pub struct Golden {
    pub srv: Server,
    pub db: PathBuf,
    pub dir: tempfile::TempDir,
}

impl Golden {
    /// [`golden_db`] with `tasks` TASKS rows and `time_zone`, served with the `extra` arguments.
    pub fn start(tasks: i64, time_zone: Option<&str>, extra: &[&str]) -> Golden {
        let dir = tempfile::tempdir().unwrap();
        let db = golden_db(dir.path(), tasks, time_zone);
        let srv = start(&db, extra);
        Golden { srv, db, dir }
    }

    /// A logged-in tiberius client.
    pub async fn connect(&self) -> Client<Compat<TcpStream>> {
        connect(self.srv.port).await
    }
}

/// The first result set of a query that must succeed.
pub async fn result_rows(
    c: &mut Client<Compat<TcpStream>>,
    sql: &str,
    params: &[&dyn tiberius::ToSql],
) -> Vec<tiberius::Row> {
    c.query(sql, params)
        .await
        .unwrap()
        .into_first_result()
        .await
        .unwrap()
}

/// The one row of a query that must succeed and return a row.
pub async fn one_row(
    c: &mut Client<Compat<TcpStream>>,
    sql: &str,
    params: &[&dyn tiberius::ToSql],
) -> tiberius::Row {
    c.query(sql, params)
        .await
        .unwrap()
        .into_row()
        .await
        .unwrap()
        .expect("a row")
}
