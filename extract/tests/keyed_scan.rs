//! The keyed-scan path (module `scan`, plan `KeyedScan`): a primary key with columns keyset pages do not compare
//! (uniqueidentifier, date, decimal) is read by one ordered scan, its large cells first listed by the Q13
//! pre-pass and read in `SUBSTRING` windows addressed by every key column. Exact rows and blobs, the statements
//! sent, and a connection dropped mid-scan giving the same bundle.

mod common;

use arrow_array::{
    Array, BinaryArray, Date32Array, Decimal128Array, Int64Array, RecordBatch, StringArray,
};
use common::*;
use rusqlite::params;
use std::path::{Path, PathBuf};

fn column<'a, T: 'static>(batch: &'a RecordBatch, name: &str) -> &'a T {
    batch
        .column_by_name(name)
        .unwrap_or_else(|| panic!("column {name} missing"))
        .as_any()
        .downcast_ref::<T>()
        .unwrap_or_else(|| panic!("column {name} has another type"))
}

const G1: &str = "0E984725-C51C-4BF4-9960-E1C80E27ABA1";
const G2: &str = "0E984725-C51C-4BF4-9960-E1C80E27ABA2";

fn image() -> Vec<u8> {
    (0..1_500_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect()
}

fn body() -> String {
    "résumé ".repeat(200_000) // 1,800,000 bytes of UTF-8, 1,400,000 in CP1252
}

/// `dbo.Attach`: primary key (Id uniqueidentifier, Day date, Ref decimal(9,2)), an image and a text column; five
/// rows, the 1.5 MB image in the second (key order), the 1.4 MB text in the fourth.
fn make_db(dir: &Path) -> PathBuf {
    let db = dir.join("keyed.sqlite");
    let c = new_db(&db);
    table(
        &c,
        "Attach",
        &[
            col("Id", "uniqueidentifier").pk(),
            Col {
                pk: Some(2),
                ..col("Day", "date")
            },
            Col {
                pk: Some(3),
                ..col("Ref", "decimal").prec(9, 2)
            },
            col("Note", "varchar").len(20),
            col("Body", "text").len(2_147_483_647),
            col("Img", "image").len(2_147_483_647),
        ],
    );
    let (img, body) = (image(), body());
    // Inserted out of key order: the scan orders them. The two Refs of (G1, 2020-04-22) have as many digits as
    // each other: the fixture server orders decimal values stored as TEXT as text ('12.25' < '7.50'), SQL Server
    // numerically.
    let rows: [(
        &str,
        &str,
        &str,
        &str,
        rusqlite::types::Value,
        rusqlite::types::Value,
    ); 5] = [
        (
            G2,
            "2019-01-01",
            "1.00",
            "e",
            String::from("short e").into(),
            vec![5u8].into(),
        ),
        (
            G1,
            "2020-04-22",
            "7.50",
            "b",
            String::from("short b").into(),
            img.into(),
        ),
        (
            G1,
            "2020-04-21",
            "99.99",
            "a",
            String::from("short a").into(),
            vec![1u8, 2].into(),
        ),
        (
            G1,
            "2020-04-22",
            "9.25",
            "c",
            String::from("short c").into(),
            rusqlite::types::Value::Null,
        ),
        (G2, "2018-12-31", "0.01", "d", body.into(), vec![].into()),
    ];
    for (id, day, r, note, body, img) in rows {
        c.execute(
            "INSERT INTO \"dbo.Attach\" VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![id, day, r, note, body, img],
        )
        .unwrap();
    }
    db
}

fn run(server: &Server, dir: &Path, name: &str) -> PathBuf {
    let cfg = dir.join("pipeline.toml");
    std::fs::write(
        &cfg,
        "[extract]\nlob_chunk_bytes = 1048576\nrow_group_rows = 2\nretries = 2\n",
    )
    .unwrap();
    let out = dir.join(name);
    let (code, stdout, stderr) = extract(&[
        "run",
        "--config",
        cfg.to_str().unwrap(),
        "--connection-string",
        &server.conn(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let (code, _, stderr) = extract(&["verify", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    out
}

fn blob(out: &Path, hash: &str) -> Vec<u8> {
    std::fs::read(out.join(format!("blobs/{}/{hash}", &hash[..2]))).unwrap()
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date.
fn days(date: &str) -> i32 {
    let d = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
    (d - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days() as i32
}

#[test]
fn a_key_of_guid_date_and_decimal_is_scanned_with_its_large_cells_windowed() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&make_db(dir.path()), &[]);
    let out = run(&server, dir.path(), "bundle");

    // 5 rows in 3 parts of at most 2 rows, in key order (Id, Day, Ref).
    let batches = read_parts(&out, "tables/dbo.^Attach");
    assert_eq!(
        batches
            .iter()
            .map(RecordBatch::num_rows)
            .collect::<Vec<_>>(),
        [2, 2, 1]
    );
    let b = arrow_select::concat::concat_batches(&batches[0].schema(), &batches).unwrap();
    let ids = column::<StringArray>(&b, "Id");
    let day = column::<Date32Array>(&b, "Day");
    let refs = column::<Decimal128Array>(&b, "Ref");
    let notes = column::<StringArray>(&b, "Note");
    let keys: Vec<(String, i32, i128, String)> = (0..5)
        .map(|i| {
            (
                ids.value(i).to_string(),
                day.value(i),
                refs.value(i),
                notes.value(i).to_string(),
            )
        })
        .collect();
    assert_eq!(
        keys,
        [
            (G1.to_string(), days("2020-04-21"), 9999, "a".to_string()),
            (G1.to_string(), days("2020-04-22"), 750, "b".to_string()),
            (G1.to_string(), days("2020-04-22"), 925, "c".to_string()),
            (G2.to_string(), days("2018-12-31"), 1, "d".to_string()),
            (G2.to_string(), days("2019-01-01"), 100, "e".to_string()),
        ]
    );
    assert_eq!(refs.precision(), 9);
    assert_eq!(refs.scale(), 2);

    // The 1.5 MB image of row b and the 1.4 MB text of row d are in blobs/, read through windows.
    let img = column::<BinaryArray>(&b, "Img");
    let img_hash = column::<StringArray>(&b, "Img__blake3");
    let img_len = column::<Int64Array>(&b, "Img__bytes");
    assert!(img.is_null(1));
    assert_eq!(img_len.value(1), 1_500_000);
    assert_eq!(
        img_hash.value(1),
        blake3::hash(&image()).to_hex().to_string()
    );
    assert!(
        blob(&out, img_hash.value(1)) == image(),
        "image blob differs"
    );
    assert_eq!(img.value(0), [1, 2]);
    assert!(img_hash.is_null(0));
    assert!(img.is_null(2) && img_hash.is_null(2));
    assert_eq!(img.value(3), b"");
    assert_eq!(img.value(4), [5]);
    let text = column::<StringArray>(&b, "Body");
    let text_hash = column::<StringArray>(&b, "Body__blake3");
    assert!(text.is_null(3));
    // Character LOBs are stored as UTF-8 text; __bytes is the blob's length.
    assert_eq!(blob(&out, text_hash.value(3)), body().as_bytes());
    assert_eq!(
        column::<Int64Array>(&b, "Body__bytes").value(3),
        body().len() as i64
    );
    assert_eq!(text.value(0), "short a");
    assert_eq!(text.value(4), "short e");

    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report/extract.json")).unwrap()).unwrap();
    let t = &report["tables"][0];
    assert_eq!(t["name"], "dbo.Attach");
    assert_eq!(t["rows_written"], 5);
    assert_eq!(t["parts"], 3);
    assert_eq!(t["blob_cells"], 2);
    assert_eq!(t["omitted_cells"], 0);

    // One pre-pass, then probes and windows addressed by all three key columns, then one ordered scan.
    let log = server.log_text();
    let stmts: Vec<&str> = log
        .lines()
        .filter_map(|l| l.strip_prefix("stmt: "))
        .collect();
    let count = |needle: &str| stmts.iter().filter(|s| s.contains(needle)).count();
    assert_eq!(
        count(
            "SELECT [Id] AS [Id], [Day] AS [Day], [Ref] AS [Ref], DATALENGTH([Body]) AS [Body__bytes], \
DATALENGTH([Img]) AS [Img__bytes] FROM [dbo].[Attach] WITH (NOLOCK) WHERE DATALENGTH([Body]) > @P1 OR \
DATALENGTH([Img]) > @P1 ORDER BY [Id], [Day], [Ref]"
        ),
        1,
        "{log}"
    );
    let address =
        "FROM [dbo].[Attach] WITH (NOLOCK) WHERE [Id] = @P1 AND [Day] = @P2 AND [Ref] = @P3";
    // 1,500,000 bytes in 1 MiB windows = 2; 1,400,000 bytes of CP1252 text = 2.
    assert_eq!(
        count(&format!(
            "SELECT SUBSTRING(CAST([Img] AS varbinary(max)), @P4, @P5) AS [chunk] {address}"
        )),
        2,
        "{log}"
    );
    assert_eq!(
        count(&format!(
            "SELECT SUBSTRING(CAST([Body] AS varbinary(max)), @P4, @P5) AS [chunk] {address}"
        )),
        2,
        "{log}"
    );
    assert_eq!(
        count("FROM [dbo].[Attach] WITH (NOLOCK) ORDER BY [Id], [Day], [Ref]"),
        1,
        "{log}"
    );
    assert_eq!(count("TOP ("), 0, "no keyset page: {log}");
}

#[test]
fn a_connection_dropped_mid_scan_gives_the_same_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let db = make_db(dir.path());
    let server = Server::start(&db, &[]);
    let expected = bundle_id(&run(&server, dir.path(), "reference"));
    drop(server);

    // 3 rows into the scan (the pre-pass has 2 rows and each window 1, so only the scan reaches 3).
    let server = Server::start(&db, &["--fault", "drop-after-rows=3:Attach"]);
    let out = run(&server, dir.path(), "dropped");
    let log = server.log_text();
    assert!(log.contains("fault:"), "the fault did not fire: {log}");
    // The scan was restarted from nothing, pre-pass included.
    let scans = log
        .lines()
        .filter(|l| l.contains("FROM [dbo].[Attach] WITH (NOLOCK) ORDER BY [Id], [Day], [Ref]"))
        .count();
    assert_eq!(scans, 2, "{log}");
    assert_eq!(bundle_id(&out), expected);
    let batches = read_parts(&out, "tables/dbo.^Attach");
    assert_eq!(batches.iter().map(RecordBatch::num_rows).sum::<usize>(), 5);
}
