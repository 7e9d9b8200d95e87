//! Every template of docs/extract-queries.md (Q1–Q12) runs against `trackit-fixture serve` with tiberius and
//! returns the types and values SQL Server would.

mod serve_support;

use serve_support::*;
use tiberius::ColumnType;

#[tokio::test]
async fn every_extract_template() {
    let dir = tempfile::tempdir().unwrap();
    let db = golden_db(
        dir.path(),
        25,
        Some("(UTC-05:00) Eastern Time (US & Canada)"),
    );
    let srv = start(&db, &[]);
    let mut c = connect(srv.port).await;

    // Q1 session options.
    c.simple_query(
        "SET NOCOUNT ON; SET TEXTSIZE 2147483647; SET TRANSACTION ISOLATION LEVEL READ COMMITTED",
    )
    .await
    .unwrap()
    .into_results()
    .await
    .unwrap();

    // Q2 server facts.
    let q2 = "SELECT @@VERSION AS [version], DB_NAME() AS [database_name], \
              CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128)) AS [product_version], \
              CAST(SERVERPROPERTY('Collation') AS nvarchar(128)) AS [collation], SYSDATETIMEOFFSET() AS [now]";
    let row = one_row(&mut c, q2, &[]).await;
    assert!(
        row.get::<&str, _>("version")
            .unwrap()
            .starts_with("Microsoft SQL Server 2008 R2")
    );
    assert_eq!(row.get::<&str, _>("database_name"), Some("TRACKIT_DATA"));
    assert_eq!(row.get::<&str, _>("product_version"), Some("10.50.6000.34"));
    assert_eq!(
        row.get::<&str, _>("collation"),
        Some("SQL_Latin1_General_CP1_CI_AS")
    );
    let now: chrono::DateTime<chrono::FixedOffset> = row.get("now").unwrap();
    assert_eq!(now.offset().local_minus_utc(), -300 * 60);
    assert_eq!(row.columns()[4].column_type(), ColumnType::DatetimeOffsetn);

    // Q3 time zone.
    let row = one_row(&mut c, "SELECT CURRENT_TIMEZONE() AS [time_zone]", &[]).await;
    assert_eq!(
        row.get::<&str, _>(0),
        Some("(UTC-05:00) Eastern Time (US & Canada)")
    );

    // Q4 objects.
    let rows = result_rows(&mut c, "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE FROM INFORMATION_SCHEMA.TABLES ORDER BY TABLE_SCHEMA, TABLE_NAME", &[]).await;
    let names: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{}.{}:{}",
                r.get::<&str, _>(0).unwrap(),
                r.get::<&str, _>(1).unwrap(),
                r.get::<&str, _>(2).unwrap()
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            "_SMDBA_.Ticket Notes:BASE TABLE",
            "dbo.TASKS:BASE TABLE",
            "dbo.TYPES:BASE TABLE",
            "dbo.vTASKS:VIEW"
        ]
    );

    // Q5 columns.
    let q5 = "SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, DATA_TYPE, CHARACTER_MAXIMUM_LENGTH, \
              NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION, IS_NULLABLE, COLLATION_NAME \
              FROM INFORMATION_SCHEMA.COLUMNS ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION";
    let rows = result_rows(&mut c, q5, &[]).await;
    let find = |t: &str, col: &str| {
        rows.iter()
            .find(|r| r.get::<&str, _>(1) == Some(t) && r.get::<&str, _>(2) == Some(col))
            .unwrap_or_else(|| panic!("{t}.{col}"))
    };
    let vmax = find("TYPES", "vmax");
    assert_eq!(vmax.get::<&str, _>("DATA_TYPE"), Some("varchar"));
    assert_eq!(vmax.get::<i32, _>("CHARACTER_MAXIMUM_LENGTH"), Some(-1));
    assert_eq!(
        vmax.get::<&str, _>("COLLATION_NAME"),
        Some("SQL_Latin1_General_CP1_CI_AS")
    );
    let d = find("TYPES", "d194");
    assert_eq!(d.get::<u8, _>("NUMERIC_PRECISION"), Some(19));
    assert_eq!(d.get::<i32, _>("NUMERIC_SCALE"), Some(4));
    assert_eq!(d.get::<&str, _>("IS_NULLABLE"), Some("YES"));
    assert_eq!(
        find("TYPES", "id").get::<&str, _>("IS_NULLABLE"),
        Some("NO")
    );
    assert_eq!(
        find("TYPES", "dto0").get::<i16, _>("DATETIME_PRECISION"),
        Some(0)
    );
    assert_eq!(
        find("TYPES", "vu").get::<&str, _>("COLLATION_NAME"),
        Some("Latin1_General_100_CI_AS_SC_UTF8")
    );
    assert_eq!(
        find("TYPES", "tx").get::<i32, _>("CHARACTER_MAXIMUM_LENGTH"),
        Some(2_147_483_647)
    );
    assert_eq!(
        find("TYPES", "ntx").get::<i32, _>("CHARACTER_MAXIMUM_LENGTH"),
        Some(1_073_741_823)
    );

    // Q6 primary keys.
    let q6 = "SELECT kcu.TABLE_SCHEMA, kcu.TABLE_NAME, kcu.COLUMN_NAME, kcu.ORDINAL_POSITION \
              FROM INFORMATION_SCHEMA.TABLE_CONSTRAINTS AS tc JOIN INFORMATION_SCHEMA.KEY_COLUMN_USAGE AS kcu \
              ON tc.CONSTRAINT_NAME = kcu.CONSTRAINT_NAME AND tc.TABLE_SCHEMA = kcu.TABLE_SCHEMA \
              AND tc.TABLE_NAME = kcu.TABLE_NAME WHERE tc.CONSTRAINT_TYPE = 'PRIMARY KEY' \
              ORDER BY kcu.TABLE_SCHEMA, kcu.TABLE_NAME, kcu.ORDINAL_POSITION";
    let rows = result_rows(&mut c, q6, &[]).await;
    let pks: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{}.{}",
                r.get::<&str, _>(1).unwrap(),
                r.get::<&str, _>(2).unwrap()
            )
        })
        .collect();
    assert_eq!(pks, ["Ticket Notes.Seq", "TASKS.WOID", "TYPES.id"]);

    // Q7 row count.
    let row = one_row(
        &mut c,
        "SELECT COUNT_BIG(*) AS [rows] FROM [dbo].[TASKS] WITH (NOLOCK)",
        &[],
    )
    .await;
    assert_eq!(row.columns()[0].column_type(), ColumnType::Int8);
    assert_eq!(row.get::<i64, _>(0), Some(25));

    // Q8/Q9 keyset pages with the TASKS select list (casts, LOB threshold).
    let list = "[WOID], CAST([TASK] AS varbinary(max)) AS [TASK], CAST([RESPONS] AS varbinary(max)) AS [RESPONS], \
                CASE WHEN DATALENGTH([DESCRIPT]) > @P3 THEN NULL ELSE CAST([DESCRIPT] AS varbinary(max)) END AS [DESCRIPT], \
                DATALENGTH([DESCRIPT]) AS [DESCRIPT__bytes], \
                CASE WHEN DATALENGTH([NOTE]) > @P3 THEN NULL ELSE CAST([NOTE] AS varbinary(max)) END AS [NOTE], \
                DATALENGTH([NOTE]) AS [NOTE__bytes], CAST([COST] AS decimal(19,4)) AS [COST], [DATE_ENT], [FLAG]";
    let q8 = format!(
        "SELECT TOP (@P1) {list} FROM [dbo].[TASKS] WITH (NOLOCK) WHERE 1 = 1 OR [WOID] > @P2 ORDER BY [WOID]"
    );
    let q8 = q8.replace("WHERE 1 = 1 OR [WOID] > @P2 ", "WHERE [WOID] > @P2 ");
    let mut last = 0i32;
    let mut seen = 0;
    loop {
        let rows = result_rows(&mut c, q8.as_str(), &[&10i32, &last, &70i32]).await;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            let id: i32 = r.get("WOID").unwrap();
            assert!(id > last);
            last = id;
            seen += 1;
            let task: &[u8] = r.get("TASK").unwrap();
            assert!(task.starts_with(format!("Task number {id} ").as_bytes()));
            let d_len: i32 = r.get("DESCRIPT__bytes").unwrap();
            assert!(d_len > 70);
            assert!(
                r.get::<&[u8], _>("DESCRIPT").is_none(),
                "over the threshold → NULL"
            );
            let note: &[u8] = r.get("NOTE").unwrap();
            let expect: Vec<u8> = format!("Note {id} ✓")
                .encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect();
            assert_eq!(note, expect.as_slice());
            assert_eq!(r.get::<i64, _>("NOTE__bytes"), Some(expect.len() as i64));
            let cost: tiberius::numeric::Numeric = r.get("COST").unwrap();
            assert_eq!(cost.to_string(), format!("{}.{:04}", id * 3, id));
            assert_eq!(r.get::<bool, _>("FLAG"), Some(id % 2 == 1));
            assert_eq!(r.get::<&[u8], _>("RESPONS").is_none(), id % 3 == 0);
        }
        assert_eq!(rows[0].columns()[7].column_type(), ColumnType::Decimaln);
        assert_eq!(rows[0].columns()[1].column_type(), ColumnType::BigVarBin);
    }
    assert_eq!(seen, 25);

    // Q10 full scan of a view and of a table with a composite/space name.
    let rows = result_rows(&mut c, "SELECT [WOID], CAST([TASK] AS varbinary(max)) AS [TASK] FROM [dbo].[vTASKS] WITH (NOLOCK) ORDER BY [WOID], [TASK]", &[]).await;
    assert_eq!(rows.len(), 13);
    let rows = result_rows(&mut c, "SELECT [Seq], CAST([Note Text] AS varbinary(max)) AS [Note Text] FROM [_SMDBA_].[Ticket Notes] WITH (NOLOCK)", &[]).await;
    assert_eq!(rows.len(), 2);

    // Q11 LOB length and Q12 LOB windows (1-based byte offsets).
    let row = one_row(
        &mut c,
        "SELECT DATALENGTH([vmax]) AS [len] FROM [dbo].[TYPES] WITH (NOLOCK) WHERE [id] = @P1",
        &[&1i32],
    )
    .await;
    assert_eq!(row.get::<i64, _>(0), Some(10_000));
    let row = one_row(
        &mut c,
        "SELECT DATALENGTH([img]) AS [len] FROM [dbo].[TYPES] WITH (NOLOCK) WHERE [id] = @P1",
        &[&1i32],
    )
    .await;
    assert_eq!(row.get::<i32, _>(0), Some(5 * 1024 * 1024));
    let mut got = Vec::new();
    let chunk = 1_000_000i64;
    let mut off = 1i64;
    loop {
        let row = one_row(&mut c, "SELECT SUBSTRING(CAST([img] AS varbinary(max)), @P2, @P3) AS [chunk] FROM [dbo].[TYPES] WITH (NOLOCK) WHERE [id] = @P1", &[&1i32, &off, &chunk]).await;
        let b: &[u8] = row.get(0).unwrap();
        if b.is_empty() {
            break;
        }
        got.extend_from_slice(b);
        off += chunk;
    }
    let expect: Vec<u8> = (0..5 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    assert!(got == expect, "image reassembled from windows");
    let row = one_row(&mut c, "SELECT SUBSTRING(CAST([ntx] AS varbinary(max)), @P2, @P3) AS [chunk] FROM [dbo].[TYPES] WITH (NOLOCK) WHERE [id] = @P1", &[&1i32, &3i64, &4i64]).await;
    assert_eq!(row.get::<&[u8], _>(0), Some(&[b't', 0, b'e', 0][..]));

    // Read-only: only SET and SELECT statements were received.
    let log = std::fs::read_to_string(&srv.log).unwrap();
    for l in log.lines().filter(|l| l.starts_with("stmt: ")) {
        let s = l.trim_start_matches("stmt: ").to_ascii_uppercase();
        assert!(s.starts_with("SET ") || s.starts_with("SELECT "), "{l}");
    }
}

#[tokio::test]
async fn current_timezone_missing_is_error_195() {
    let g = Golden::start(1, None, &[]);
    let mut c = g.connect().await;
    let e = c
        .query("SELECT CURRENT_TIMEZONE() AS [time_zone]", &[])
        .await
        .unwrap_err();
    assert_eq!(err_code(&e), 195, "{e}");
    assert!(e.to_string().contains("CURRENT_TIMEZONE"));
}

/// The extractor's select list is served with its conversions done by the row encoder; the same items inside a
/// derived table go through the `ti_*` SQLite functions. Both must give the same types, NULLs and bytes, for every
/// type of the golden tables, with a threshold that nulls some LOB cells and one that nulls none.
#[tokio::test]
async fn encoder_conversions_match_the_sqlite_functions() {
    let g = Golden::start(40, None, &[]);
    let mut c = g.connect().await;
    for (schema, object, key) in [("dbo", "TYPES", "id"), ("dbo", "TASKS", "WOID")] {
        let list = extract_select_list(&object_columns(&g.db, schema, object), 1);
        let direct = format!("SELECT {list} FROM [{schema}].[{object}] ORDER BY [{key}]");
        let generic = format!(
            "SELECT * FROM (SELECT {list} FROM [{schema}].[{object}]) AS x ORDER BY [{key}]"
        );
        for threshold in [40i64, i64::MAX] {
            let mut results = Vec::new();
            for sql in [&direct, &generic] {
                let rows = result_rows(&mut c, sql.as_str(), &[&threshold]).await;
                let types: Vec<_> = rows
                    .first()
                    .expect("rows")
                    .columns()
                    .iter()
                    .map(|c| (c.name().to_string(), c.column_type()))
                    .collect();
                let cells: Vec<Vec<String>> = rows
                    .into_iter()
                    .map(|r| r.into_iter().map(|v| format!("{v:?}")).collect())
                    .collect();
                results.push((types, cells));
            }
            assert_eq!(results[0], results[1], "{object}, threshold {threshold}");
            let nulls = |i: usize| {
                results[i]
                    .1
                    .iter()
                    .flatten()
                    .filter(|v| v.contains("(None)"))
                    .count()
            };
            if threshold == 40 {
                assert!(nulls(0) > 0, "some LOB cells are over the threshold");
            }
        }
    }
}
