//! Large cells in tables without a single integer key (issue 6): a composite key and a character key are
//! keyset-paged on the whole key and read their large cells in `DATALENGTH` + `SUBSTRING` windows addressed by
//! every key column (Q11, Q12), also after a dropped connection; a keyless table reads them whole up to the
//! keyless cap and reports the larger ones.

mod common;

use arrow_array::{Array, BinaryArray, Int64Array, StringArray};
use common::*;
use rusqlite::params;
use std::path::{Path, PathBuf};

fn column<'a, T: 'static>(batch: &'a arrow_array::RecordBatch, name: &str) -> &'a T {
    batch
        .column_by_name(name)
        .unwrap_or_else(|| panic!("column {name} missing"))
        .as_any()
        .downcast_ref::<T>()
        .unwrap_or_else(|| panic!("column {name} has another type"))
}

fn bytes(n: usize, seed: u32) -> Vec<u8> {
    (0..n as u32)
        .map(|i| (i.wrapping_add(seed).wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

/// 3 MB image of (7, 2); 2.5 MB text of (7, 3) with `é` (CP1252 byte E9); 2 MB varbinary(max) keyed 'café';
/// 1.5 MB and 3 MB images in the keyless table.
struct Data {
    img: Vec<u8>,
    body: String,
    doc: Vec<u8>,
    mid: Vec<u8>,
    huge: Vec<u8>,
}

fn make_db(dir: &Path) -> (PathBuf, Data) {
    let db = dir.join("large.sqlite");
    let c = new_db(&db);
    table(
        &c,
        "NoteFiles",
        &[
            col("TicketId", "int").pk(),
            Col {
                pk: Some(2),
                ..col("Seq", "smallint")
            },
            col("Body", "text").len(2_147_483_647),
            col("Img", "image").len(2_147_483_647),
        ],
    );
    table(
        &c,
        "Docs",
        &[
            col("Code", "varchar").len(20).pk(),
            col("Doc", "varbinary").len(-1),
        ],
    );
    table(
        &c,
        "Dump",
        &[col("Line", "int"), col("Blob", "image").len(2_147_483_647)],
    );
    let d = Data {
        img: bytes(3_000_000, 1),
        body: "é-note ".repeat(2_500_000 / 8),
        doc: bytes(2_000_000, 2),
        mid: bytes(1_500_000, 3),
        huge: bytes(3_000_000, 4),
    };
    c.execute_batch("BEGIN").unwrap();
    for t in 1..=4i64 {
        for s in 1..=3i64 {
            let (body, img): (rusqlite::types::Value, rusqlite::types::Value) = match (t, s) {
                (2, 2) => (d.body.clone().into(), d.img.clone().into()),
                _ => (
                    format!("short {t}/{s}").into(),
                    vec![t as u8, s as u8].into(),
                ),
            };
            c.execute(
                "INSERT INTO \"dbo.NoteFiles\" VALUES (?1, ?2, ?3, ?4)",
                params![t, s, body, img],
            )
            .unwrap();
        }
    }
    for (code, doc) in [
        ("abc", b"small".to_vec()),
        ("café", d.doc.clone()),
        ("CAFE", vec![]),
    ] {
        c.execute(
            "INSERT INTO \"dbo.Docs\" VALUES (?1, ?2)",
            params![code, doc],
        )
        .unwrap();
    }
    for (line, blob) in [
        (1, b"tiny".to_vec()),
        (2, d.mid.clone()),
        (3, d.huge.clone()),
        (4, vec![]),
    ] {
        c.execute(
            "INSERT INTO \"dbo.Dump\" VALUES (?1, ?2)",
            params![line, blob],
        )
        .unwrap();
    }
    c.execute_batch("COMMIT").unwrap();
    (db, d)
}

fn run(server: &Server, dir: &Path, out: &Path) -> (i32, String, String) {
    let cfg = dir.join("pipeline.toml");
    std::fs::write(
        &cfg,
        "[extract]\nlob_chunk_bytes = 1048576\nrow_group_rows = 5\nretries = 2\n",
    )
    .unwrap();
    extract(&[
        "run",
        "--config",
        cfg.to_str().unwrap(),
        "--connection-string",
        &server.conn(),
        "--keyless-cell-max-bytes",
        "2000000",
        "--out",
        out.to_str().unwrap(),
    ])
}

fn blob(out: &Path, hash: &str) -> Vec<u8> {
    std::fs::read(out.join(format!("blobs/{}/{hash}", &hash[..2]))).unwrap()
}

#[test]
fn large_cells_without_an_integer_key_are_windowed_or_capped() {
    let dir = tempfile::tempdir().unwrap();
    let (db, d) = make_db(dir.path());
    let server = Server::start(&db, &[]);
    let out = dir.path().join("bundle");
    let (code, stdout, stderr) = run(&server, dir.path(), &out);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let (code, _, stderr) = extract(&["verify", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");

    // Composite key: the 3 MB image and the 2.5 MB text went to blobs/ through windows.
    let batches = read_parts(&out, "tables/dbo.^Note^Files");
    let b = arrow_select::concat::concat_batches(&batches[0].schema(), &batches).unwrap();
    assert_eq!(b.num_rows(), 12);
    let row = 4; // (2, 2) in key order
    let img_hash = column::<StringArray>(&b, "Img__blake3").value(row);
    assert!(column::<BinaryArray>(&b, "Img").is_null(row));
    assert_eq!(column::<Int64Array>(&b, "Img__bytes").value(row), 3_000_000);
    assert_eq!(img_hash, blake3::hash(&d.img).to_hex().to_string());
    assert!(blob(&out, img_hash) == d.img, "image blob differs");
    let body_hash = column::<StringArray>(&b, "Body__blake3").value(row);
    assert!(column::<StringArray>(&b, "Body").is_null(row));
    // Character LOBs are stored as UTF-8 text; __bytes is the blob's length.
    assert_eq!(blob(&out, body_hash), d.body.as_bytes());
    assert_eq!(
        column::<Int64Array>(&b, "Body__bytes").value(row),
        d.body.len() as i64
    );
    assert_eq!(column::<StringArray>(&b, "Body").value(0), "short 1/1");
    assert!(column::<StringArray>(&b, "Img__blake3").is_null(0));

    // Character key: addressed by its bytes ('café' in CP1252, next to 'CAFE' and 'abc').
    let batches = read_parts(&out, "tables/dbo.^Docs");
    let b = arrow_select::concat::concat_batches(&batches[0].schema(), &batches).unwrap();
    assert_eq!(b.num_rows(), 3);
    let codes = column::<StringArray>(&b, "Code");
    let i = (0..3).find(|&i| codes.value(i) == "café").unwrap();
    let h = column::<StringArray>(&b, "Doc__blake3").value(i);
    assert!(blob(&out, h) == d.doc, "doc blob differs");

    // Keyless: 1.5 MB read whole then stored in blobs/; 3 MB over the 2,000,000-byte cap not read, reported.
    let batches = read_parts(&out, "tables/dbo.^Dump");
    let b = arrow_select::concat::concat_batches(&batches[0].schema(), &batches).unwrap();
    assert_eq!(b.num_rows(), 4);
    let blobs = column::<BinaryArray>(&b, "Blob");
    let hashes = column::<StringArray>(&b, "Blob__blake3");
    let lens = column::<Int64Array>(&b, "Blob__bytes");
    assert_eq!(blobs.value(0), b"tiny");
    assert!(blobs.is_null(1));
    assert_eq!(hashes.value(1), blake3::hash(&d.mid).to_hex().to_string());
    assert!(blob(&out, hashes.value(1)) == d.mid);
    assert_eq!(lens.value(1), 1_500_000);
    assert!(blobs.is_null(2) && hashes.is_null(2));
    assert_eq!(lens.value(2), 3_000_000);
    assert_eq!(blobs.value(3), b"");
    assert!(!d.huge.is_empty());

    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report/extract.json")).unwrap()).unwrap();
    let t = |name: &str| {
        report["tables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("{name} not in report"))
            .clone()
    };
    assert_eq!(t("dbo.NoteFiles")["blob_cells"], 2);
    assert_eq!(t("dbo.NoteFiles")["omitted_cells"], 0);
    assert_eq!(t("dbo.Docs")["blob_cells"], 1);
    let dump = t("dbo.Dump");
    assert_eq!(dump["blob_cells"], 1);
    assert_eq!(dump["omitted_cells"], 1);
    let notes = dump["notes"].to_string();
    assert!(notes.contains("Blob of row 3: 3000000 bytes"), "{notes}");

    // The statements: pre-pass, probes and windows addressed by every key column; no window for the keyless
    // table; only SELECT and SET.
    let log = server.log_text();
    let stmts: Vec<&str> = log
        .lines()
        .filter_map(|l| l.strip_prefix("stmt: "))
        .collect();
    for s in &stmts {
        let head = s
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        assert!(head == "SELECT" || head == "SET", "non-read statement: {s}");
    }
    let count = |needle: &str| stmts.iter().filter(|s| s.contains(needle)).count();
    // Composite and character keys are keyset-paged on the whole key (no pre-pass), their large cells read after
    // each page.
    assert_eq!(
        count("DATALENGTH([Body]) > @P1 OR DATALENGTH([Img]) > @P1"),
        0
    );
    assert_eq!(
        count(
            "FROM [dbo].[NoteFiles] WITH (NOLOCK) WHERE ([TicketId] > @P2) OR ([TicketId] = @P2 AND [Seq] > @P3) \
ORDER BY [TicketId], [Seq]"
        ),
        2,
        "{log}"
    );
    assert_eq!(
        count("FROM [dbo].[Docs] WITH (NOLOCK) ORDER BY CAST([Code] AS varbinary(8000))"),
        1,
        "{log}"
    );
    // 3 MB in 1 MiB windows = 3, 2.5 MB of text = 3.
    assert_eq!(
        count(
            "SUBSTRING(CAST([Img] AS varbinary(max)), @P3, @P4) AS [chunk] FROM [dbo].[NoteFiles] WITH (NOLOCK) WHERE [TicketId] = @P1 AND [Seq] = @P2"
        ),
        3,
        "{log}"
    );
    assert_eq!(count("SUBSTRING(CAST([Body] AS varbinary(max))"), 3);
    assert_eq!(
        count(
            "SUBSTRING(CAST([Doc] AS varbinary(max)), @P2, @P3) AS [chunk] FROM [dbo].[Docs] WITH (NOLOCK) WHERE CAST([Code] AS varbinary(max)) = @P1"
        ),
        2
    );
    assert_eq!(count("FROM [dbo].[Dump] WITH (NOLOCK) WHERE"), 0);
}

#[test]
fn a_dropped_connection_during_a_composite_key_read_gives_the_same_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = make_db(dir.path());
    let server = Server::start(&db, &[]);
    let out = dir.path().join("reference");
    let (code, stdout, stderr) = run(&server, dir.path(), &out);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let expected = bundle_id(&out);
    drop(server);

    let server = Server::start(&db, &["--fault", "drop-after-rows=3:NoteFiles"]);
    let out = dir.path().join("dropped");
    let (code, stdout, stderr) = run(&server, dir.path(), &out);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        server.log_text().contains("fault:"),
        "the fault did not fire"
    );
    assert_eq!(bundle_id(&out), expected);
}
