//! Exact values through the whole path: a hand-made fixture database, `trackit-fixture serve`, `ti-extract run`,
//! the Parquet read back (issue 6, "Tests that must exist").

mod common;

use arrow_array::{
    Array, BinaryArray, Decimal128Array, Int16Array, Int64Array, StringArray,
    TimestampMicrosecondArray,
};
use arrow_schema::DataType;
use common::*;
use rusqlite::params;

fn column<'a, T: 'static>(batch: &'a arrow_array::RecordBatch, name: &str) -> &'a T {
    batch
        .column_by_name(name)
        .unwrap_or_else(|| panic!("column {name} missing"))
        .as_any()
        .downcast_ref::<T>()
        .unwrap_or_else(|| panic!("column {name} has another type"))
}

#[test]
fn type_extremes_survive_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("probe.sqlite");
    let c = new_db(&db);
    table(
        &c,
        "zz_type_probe",
        &[
            col("ProbeId", "int").pk(),
            col("DtoValue", "datetimeoffset").scale(7),
            col("DecimalValue", "decimal").prec(38, 38),
            col("MoneyValue", "money"),
            col("SmallMoneyValue", "smallmoney"),
            col("VarcharValue", "varchar").len(100),
            col("NVarcharValue", "nvarchar").len(50),
            col("BigText", "varchar").len(-1),
            col("Img", "image").len(2_147_483_647),
            col("GuidValue", "uniqueidentifier"),
            col("BinValue", "varbinary").len(50),
        ],
    );
    let big: String = (0..10_000)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let image: Vec<u8> = (0..5_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let ins = "INSERT INTO \"dbo.zz_type_probe\" (ProbeId, DtoValue, DecimalValue, MoneyValue, SmallMoneyValue, VarcharValue, NVarcharValue, BigText, Img, GuidValue, BinValue) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)";
    type V = rusqlite::types::Value;
    let t = |s: &str| V::Text(s.into());
    let rows: Vec<Vec<V>> = vec![
        vec![
            V::Integer(1),
            t("2020-12-09 01:30:00 +02:00"),
            t("0.00000000000000000000000000000000000001"),
            t("-922337203685477.5808"),
            t("214748.3647"),
            t("café"),
            V::Blob(vec![0x3D, 0xD8]),
            V::Text(big.clone()),
            V::Blob(image.clone()),
            t("9C0C9EED-FEAC-474E-9AD7-C5B9280424D1"),
            V::Blob(vec![]),
        ],
        vec![
            V::Integer(2),
            t("2020-04-22 09:16:20.6566667 +00:00"),
            V::Null,
            t("922337203685477.5807"),
            V::Null,
            t("NULL"),
            t("😀"),
            V::Null,
            V::Null,
            V::Null,
            V::Null,
        ],
        vec![
            V::Integer(3),
            V::Null,
            V::Null,
            V::Null,
            V::Null,
            t(""),
            V::Null,
            t(""),
            V::Blob(vec![]),
            V::Null,
            V::Blob(vec![0, 255]),
        ],
        vec![
            V::Integer(4),
            V::Null,
            V::Null,
            V::Null,
            V::Null,
            V::Null,
            t(""),
            V::Null,
            V::Null,
            V::Null,
            V::Null,
        ],
    ];
    for r in &rows {
        c.execute(ins, rusqlite::params_from_iter(r.iter()))
            .unwrap();
    }
    drop(c);

    let server = Server::start(&db, &[]);
    let out = dir.path().join("bundle");
    let cfg = dir.path().join("pipeline.toml");
    std::fs::write(
        &cfg,
        "[extract]\nlob_chunk_bytes = 1048576\npage_rows = 3\n",
    )
    .unwrap();
    let (code, stdout, stderr) = extract(&[
        "run",
        "--config",
        cfg.to_str().unwrap(),
        "--connection-string",
        &server.conn(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "stdout {stdout}\nstderr {stderr}");
    assert!(
        stderr.contains("DANGER_PLAINTEXT"),
        "plaintext warning expected: {stderr}"
    );
    let (code, _, stderr) = extract(&["verify", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");

    let batches = read_parts(&out, "tables/dbo.zz_type_probe");
    let b = arrow_select::concat::concat_batches(&batches[0].schema(), &batches).unwrap();
    assert_eq!(b.num_rows(), 4);

    // datetimeoffset → UTC instant + offset minutes; the 7th digit is rounded and counted.
    let dto = column::<TimestampMicrosecondArray>(&b, "DtoValue");
    assert_eq!(
        b.schema().field_with_name("DtoValue").unwrap().data_type(),
        &DataType::Timestamp(arrow_schema::TimeUnit::Microsecond, Some("UTC".into()))
    );
    let utc = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .timestamp_micros()
    };
    assert_eq!(dto.value(0), utc("2020-12-08T23:30:00Z"));
    assert_eq!(
        column::<Int16Array>(&b, "DtoValue__offset_minutes").value(0),
        120
    );
    assert_eq!(dto.value(1), utc("2020-04-22T09:16:20.656667Z"));
    assert_eq!(
        column::<Int16Array>(&b, "DtoValue__offset_minutes").value(1),
        0
    );
    assert!(dto.is_null(2));

    // decimal(38,38), money, smallmoney: exact.
    let dec = column::<Decimal128Array>(&b, "DecimalValue");
    assert_eq!((dec.precision(), dec.scale()), (38, 38));
    assert_eq!(dec.value(0), 1);
    let money = column::<Decimal128Array>(&b, "MoneyValue");
    assert_eq!((money.precision(), money.scale()), (19, 4));
    assert_eq!(money.value(0), -9_223_372_036_854_775_808);
    assert_eq!(money.value_as_string(0), "-922337203685477.5808");
    assert_eq!(money.value(1), 9_223_372_036_854_775_807);
    let small = column::<Decimal128Array>(&b, "SmallMoneyValue");
    assert_eq!((small.precision(), small.scale()), (10, 4));
    assert_eq!(small.value_as_string(0), "214748.3647");

    // varchar CP1252; NULL, '' and 'NULL' distinct.
    let v = column::<StringArray>(&b, "VarcharValue");
    assert_eq!(v.value(0), "café");
    assert_eq!(v.value(1), "NULL");
    assert_eq!(v.value(2), "");
    assert!(v.is_null(3));
    assert!(column::<BinaryArray>(&b, "VarcharValue__raw").is_null(0));

    // nvarchar lone surrogate → U+FFFD, raw bytes kept; a surrogate pair decodes.
    let n = column::<StringArray>(&b, "NVarcharValue");
    assert_eq!(n.value(0), "\u{FFFD}");
    assert_eq!(
        column::<BinaryArray>(&b, "NVarcharValue__raw").value(0),
        &[0x3D, 0xD8]
    );
    assert_eq!(n.value(1), "😀");
    assert!(column::<BinaryArray>(&b, "NVarcharValue__raw").is_null(1));
    assert!(n.is_null(2));
    assert_eq!(n.value(3), "");

    // varchar(max) of 10,000 characters byte-identical; '' stays ''.
    let big_col = column::<StringArray>(&b, "BigText");
    assert_eq!(big_col.value(0), big);
    assert!(big_col.is_null(1));
    assert_eq!(big_col.value(2), "");
    assert!(column::<StringArray>(&b, "BigText__blake3").is_null(0));

    // 5 MB image → blobs/ by blake3 hash; zero-length image ≠ NULL.
    let hash = blake3::hash(&image).to_hex().to_string();
    let img = column::<BinaryArray>(&b, "Img");
    assert!(img.is_null(0));
    assert_eq!(column::<StringArray>(&b, "Img__blake3").value(0), hash);
    assert_eq!(column::<Int64Array>(&b, "Img__bytes").value(0), 5_000_000);
    let blob = std::fs::read(out.join(format!("blobs/{}/{hash}", &hash[..2]))).unwrap();
    assert!(blob == image, "blob bytes differ");
    assert!(img.is_null(1));
    assert_eq!(img.value(2), b"");
    assert!(!img.is_null(2));

    // uniqueidentifier as CONVERT(char(36)) prints it; varbinary empty vs NULL.
    assert_eq!(
        column::<StringArray>(&b, "GuidValue").value(0),
        "9C0C9EED-FEAC-474E-9AD7-C5B9280424D1"
    );
    let bin = column::<BinaryArray>(&b, "BinValue");
    assert_eq!(bin.value(0), b"");
    assert!(!bin.is_null(0));
    assert!(bin.is_null(1));
    assert_eq!(bin.value(2), &[0, 255]);

    // Field metadata carries the SQL Server type.
    let schema = b.schema();
    let f = schema.field_with_name("MoneyValue").unwrap();
    assert_eq!(
        f.metadata().get("sqlserver.type").map(String::as_str),
        Some("money")
    );
    assert_eq!(
        schema
            .field_with_name("VarcharValue")
            .unwrap()
            .metadata()
            .get("sqlserver.collation")
            .map(String::as_str),
        Some("SQL_Latin1_General_CP1_CI_AS")
    );

    // The report counts the raw cell and the rounded value.
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report/extract.json")).unwrap()).unwrap();
    let t = &report["tables"][0];
    assert_eq!(t["raw_cells"], 1);
    assert_eq!(t["rounded_values"], 1);
    assert_eq!(t["blob_cells"], 1);
    assert_eq!(t["raw_samples"][0]["column"], "NVarcharValue");

    // Read-only: the server saw only SET and SELECT statements.
    let log = server.log_text();
    let stmts: Vec<&str> = log
        .lines()
        .filter_map(|l| l.strip_prefix("stmt: "))
        .collect();
    assert!(stmts.len() > 8, "{log}");
    for s in &stmts {
        let head = s
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        assert!(
            head == "SELECT" || head == "SET",
            "non-read statement sent: {s}"
        );
    }
    assert!(
        stmts.iter().any(|s| s.contains("SUBSTRING(")),
        "LOB windows expected"
    );
}

#[test]
fn one_invalid_utf8_value_in_a_thousand_rows() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("utf8.sqlite");
    let c = new_db(&db);
    table(
        &c,
        "Notes",
        &[
            col("Id", "int").pk(),
            col("Body", "varchar")
                .len(200)
                .collate("Latin1_General_100_CI_AS_SC_UTF8"),
        ],
    );
    let bad: &[u8] = b"caf\xC3 \xFF\xFE bad";
    for i in 1..=1000i64 {
        if i == 500 {
            c.execute("INSERT INTO \"dbo.Notes\" VALUES (?1, ?2)", params![i, bad])
                .unwrap();
        } else {
            c.execute(
                "INSERT INTO \"dbo.Notes\" VALUES (?1, ?2)",
                params![i, format!("日本語 ok ✓ {i}")],
            )
            .unwrap();
        }
    }
    drop(c);
    let server = Server::start(&db, &[]);
    let out = dir.path().join("bundle");
    let (code, stdout, stderr) = extract(&[
        "run",
        "--connection-string",
        &server.conn(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let batches = read_parts(&out, "tables/dbo.^Notes");
    let b = arrow_select::concat::concat_batches(&batches[0].schema(), &batches).unwrap();
    assert_eq!(b.num_rows(), 1000);
    let body = column::<StringArray>(&b, "Body");
    let raw = column::<BinaryArray>(&b, "Body__raw");
    assert_eq!(body.value(0), "日本語 ok ✓ 1");
    assert_eq!(raw.null_count(), 999);
    assert_eq!(raw.value(499), bad);
    assert!(body.value(499).starts_with("caf") && body.value(499).contains('\u{FFFD}'));
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report/extract.json")).unwrap()).unwrap();
    let t = &report["tables"][0];
    assert_eq!(t["rows_written"], 1000);
    assert_eq!(t["raw_cells"], 1);
    assert_eq!(t["raw_samples"].as_array().unwrap().len(), 1);
    assert_eq!(t["raw_samples"][0]["row"], "Id=500");
    // The sample holds the original bytes' length and head in hex.
    let hex: String = bad.iter().take(32).map(|b| format!("{b:02x}")).collect();
    assert_eq!(t["raw_samples"][0]["bytes"], bad.len());
    assert_eq!(t["raw_samples"][0]["head_hex"], hex);
}
