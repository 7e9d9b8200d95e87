//! tiberius round trips of every type the fixture serves, compared with what the golden SQLite file holds.

mod serve_support;

use chrono::{NaiveDate, NaiveTime};
use serve_support::*;
use tiberius::numeric::Numeric;
use tiberius::{ColumnType, Row, Uuid};

fn dt(s: &str) -> chrono::NaiveDateTime {
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").unwrap()
}

/// Decimal text of a Numeric (tiberius's Display prints scale 0 as "x.0").
fn num(r: &Row, c: &str) -> String {
    let n = r.get::<Numeric, _>(c).unwrap();
    let (v, s) = (n.value(), n.scale() as usize);
    let digits = format!("{:0>width$}", v.unsigned_abs(), width = s + 1);
    let (ip, fp) = digits.split_at(digits.len() - s);
    let sign = if v < 0 { "-" } else { "" };
    if s == 0 {
        format!("{sign}{ip}")
    } else {
        format!("{sign}{ip}.{fp}")
    }
}

#[tokio::test]
async fn every_type_round_trips() {
    let g = Golden::start(1, None, &[]);
    let mut c = g.connect().await;
    let rows = result_rows(&mut c, "SELECT * FROM [dbo].[TYPES] ORDER BY [id]", &[]).await;
    assert_eq!(rows.len(), 3);
    let (r1, r2, r3) = (&rows[0], &rows[1], &rows[2]);

    // tiberius reports INTN/FLTN by their size.
    let types: Vec<ColumnType> = r1.columns().iter().map(|c| c.column_type()).collect();
    use ColumnType::*;
    assert_eq!(
        types,
        [
            Int4,
            Int1,
            Int2,
            Int4,
            Int8,
            Bitn,
            Float4,
            Float8,
            Decimaln,
            Decimaln,
            Decimaln,
            Money,
            Money,
            Datetimen,
            Datetimen,
            Daten,
            Timen,
            Datetime2,
            DatetimeOffsetn,
            DatetimeOffsetn,
            Guid,
            BigChar,
            BigVarChar,
            BigVarChar,
            BigVarChar,
            Text,
            NChar,
            NVarchar,
            NVarchar,
            NText,
            BigBinary,
            BigVarBin,
            BigVarBin,
            Image,
            Xml
        ]
    );

    // Integers and bit.
    assert_eq!(r1.get::<u8, _>("ti"), Some(255));
    assert_eq!(r1.get::<i16, _>("si"), Some(-32768));
    assert_eq!(r1.get::<i32, _>("i"), Some(i32::MIN));
    assert_eq!(r1.get::<i64, _>("bi"), Some(i64::MIN));
    assert_eq!(r3.get::<i64, _>("bi"), Some(i64::MAX));
    assert_eq!(r1.get::<bool, _>("b"), Some(true));
    assert_eq!(r3.get::<bool, _>("b"), Some(false));
    assert_eq!(r1.get::<f32, _>("r"), Some(3.4e38));
    assert_eq!(r1.get::<f64, _>("f"), Some(-1.797_693_134_862_315_7e308));

    // Decimals: decimal(38,38) smallest positive, 38-digit extremes.
    assert_eq!(num(r1, "d38"), format!("0.{}1", "0".repeat(37)));
    assert_eq!(num(r3, "d38"), "0.12345678901234567890123456789012345678");
    assert_eq!(num(r1, "d194"), "123456789012345.6789");
    assert_eq!(num(r3, "d194"), "-0.0001");
    assert_eq!(num(r1, "n380"), "9".repeat(38));
    assert_eq!(num(r3, "n380"), format!("-{}", "9".repeat(38)));
    // money: tiberius decodes money to f64 (precision loss is tiberius's, see notes §2.3).
    assert_eq!(
        r1.get::<f64, _>("m"),
        Some("-922337203685477.5808".parse::<f64>().unwrap())
    );
    assert_eq!(r1.get::<f64, _>("sm"), Some(-214_748.364_8));
    assert_eq!(r3.get::<f64, _>("sm"), Some(214_748.364_7));
    // ... and exactly through CAST(... AS decimal(19,4)).
    let row = one_row(
        &mut c,
        "SELECT CAST([m] AS decimal(19,4)) AS [m] FROM [dbo].[TYPES] WHERE [id] = @P1",
        &[&1i32],
    )
    .await;
    assert_eq!(num(&row, "m"), "-922337203685477.5808");

    // Date and time family.
    assert_eq!(
        r1.get::<chrono::NaiveDateTime, _>("dt"),
        Some(dt("1753-01-01 00:00:00"))
    );
    // .997 is tick 299 of 1/300 s; tiberius turns ticks into nanoseconds by truncation.
    assert_eq!(
        r3.get::<chrono::NaiveDateTime, _>("dt"),
        Some(dt("9999-12-31 23:59:59.996666666"))
    );
    assert_eq!(
        r1.get::<chrono::NaiveDateTime, _>("sdt"),
        Some(dt("1900-01-01 00:00:00"))
    );
    assert_eq!(
        r3.get::<chrono::NaiveDateTime, _>("sdt"),
        Some(dt("2079-06-06 23:59:00"))
    );
    assert_eq!(
        r1.get::<NaiveDate, _>("da"),
        NaiveDate::from_ymd_opt(1, 1, 1)
    );
    assert_eq!(
        r3.get::<NaiveDate, _>("da"),
        NaiveDate::from_ymd_opt(9999, 12, 31)
    );
    assert_eq!(
        r1.get::<NaiveTime, _>("tm"),
        NaiveTime::from_hms_nano_opt(23, 59, 59, 999_999_900)
    );
    assert_eq!(
        r1.get::<chrono::NaiveDateTime, _>("dt2"),
        Some(dt("9999-12-31 23:59:59.9999999"))
    );
    assert_eq!(
        r3.get::<chrono::NaiveDateTime, _>("dt2"),
        Some(dt("0001-01-01 00:00:00"))
    );
    type Dto = chrono::DateTime<chrono::FixedOffset>;
    let dto: Dto = r1.get("dto").unwrap();
    assert_eq!(dto.offset().local_minus_utc(), 7200);
    assert_eq!(dto.naive_utc(), dt("2020-12-08 23:30:00"));
    assert_eq!(dto.naive_local(), dt("2020-12-09 01:30:00"));
    let dto7: Dto = r3.get("dto").unwrap();
    assert_eq!(dto7.naive_local(), dt("2020-12-09 01:30:00.1234567"));
    assert_eq!(dto7.offset().local_minus_utc(), -(5 * 3600 + 1800));
    let dto0: Dto = r3.get("dto0").unwrap();
    assert_eq!(dto0.naive_utc(), dt("0001-01-01 00:00:00"));
    assert_eq!(dto0.offset().local_minus_utc(), 14 * 3600);

    // GUID in SQL Server's mixed byte order decodes to the same text.
    assert_eq!(
        r1.get::<Uuid, _>("g").unwrap().to_string().to_uppercase(),
        GUID
    );

    // Characters: char padding, CP1252 café, NULL vs '' vs 'NULL', 10,000-char varchar(max).
    assert_eq!(r1.get::<&str, _>("c"), Some("abc       "));
    assert_eq!(r1.get::<&str, _>("vc"), Some("café"));
    assert_eq!(r1.get::<&str, _>("tx"), Some("NULL"));
    assert_eq!(r2.get::<&str, _>("tx"), None);
    assert_eq!(r3.get::<&str, _>("tx"), Some(""));
    assert_eq!(r3.get::<&str, _>("vc"), Some(""));
    assert_eq!(r2.get::<&str, _>("vc"), None);
    assert_eq!(r1.get::<&str, _>("vmax").map(str::len), Some(10_000));
    assert_eq!(r1.get::<&str, _>("nc"), Some("é    "));
    assert_eq!(r1.get::<&str, _>("nv"), Some("Grüße ✓"));
    assert_eq!(
        r1.get::<&str, _>("nvmax").map(|s| s.chars().count()),
        Some(10_000)
    );
    assert_eq!(r1.get::<&str, _>("ntx"), Some("ntext ✓"));
    assert_eq!(r3.get::<&str, _>("nvmax"), Some(""));

    // Binary: padding, empty vs NULL, 5 MB image and varbinary(max) (PLP in many chunks).
    assert_eq!(
        r1.get::<&[u8], _>("bn"),
        Some(&[0xDE, 0xAD, 0xBE, 0xEF][..])
    );
    assert_eq!(r3.get::<&[u8], _>("bn"), Some(&[0, 0, 0, 0][..]));
    assert_eq!(r1.get::<&[u8], _>("vb"), Some(&[][..]));
    assert_eq!(r2.get::<&[u8], _>("vb"), None);
    let five: Vec<u8> = (0..5 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    assert!(r1.get::<&[u8], _>("img") == Some(&five[..]));
    assert!(r1.get::<&[u8], _>("vbmax") == Some(&five[..]));
    assert_eq!(r3.get::<&[u8], _>("img"), Some(&[][..]));

    // xml.
    let x: &tiberius::xml::XmlData = r1.get("x").unwrap();
    assert_eq!(x.to_string(), "<a>1</a>");

    // Row 2 is all NULL except the key (sent as NBCROW).
    assert_eq!(r2.get::<i32, _>("i"), None);
    assert_eq!(r2.get::<Numeric, _>("d38"), None);
    assert_eq!(r2.get::<Dto, _>("dto"), None);
    assert_eq!(r2.get::<&[u8], _>("img"), None);
    assert_eq!(r2.get::<&[u8], _>("vbmax"), None);

    // Raw bytes through CAST(... AS varbinary(max)): CP1252, invalid UTF-8 under a UTF-8 collation, UTF-16LE.
    let row = one_row(&mut c, "SELECT CAST([vc] AS varbinary(max)) AS [vc], CAST([vu] AS varbinary(max)) AS [vu], \
             CAST([nv] AS varbinary(max)) AS [nv], CAST([tx] AS varbinary(max)) AS [tx], \
             CAST([x] AS varbinary(max)) AS [x], DATALENGTH([vc]) AS [vc_len], DATALENGTH([nvmax]) AS [nvmax_len] \
             FROM [dbo].[TYPES] WITH (NOLOCK) WHERE [id] = @P1", &[&1i32]).await;
    assert_eq!(row.get::<&[u8], _>("vc"), Some(&b"caf\xe9"[..]));
    assert_eq!(row.get::<&[u8], _>("vu"), Some(&[0x41, 0xFF, 0x42][..]));
    let nv: Vec<u8> = "Grüße ✓"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    assert_eq!(row.get::<&[u8], _>("nv"), Some(nv.as_slice()));
    assert_eq!(row.get::<&[u8], _>("tx"), Some(&b"NULL"[..]));
    let x: Vec<u8> = "<a>1</a>"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    assert_eq!(row.get::<&[u8], _>("x"), Some(x.as_slice()));
    assert_eq!(row.get::<i32, _>("vc_len"), Some(4));
    assert_eq!(row.get::<i64, _>("nvmax_len"), Some(20_000));

    // CAST(... AS nvarchar(max)).
    let row = one_row(
        &mut c,
        "SELECT CAST([vc] AS nvarchar(max)) AS [vc] FROM [dbo].[TYPES] WHERE [id] = 1",
        &[],
    )
    .await;
    assert_eq!(row.get::<&str, _>("vc"), Some("café"));
}

#[tokio::test]
async fn parameters_of_every_kind_bind() {
    let g = Golden::start(30, None, &[]);
    let mut c = g.connect().await;
    let g = Uuid::parse_str(GUID).unwrap();
    let bin: &[u8] = b"\x01";
    let when = dt("0001-01-01 00:00:00");
    let cases: Vec<(&str, Vec<&dyn tiberius::ToSql>, usize)> = vec![
        (
            "SELECT [WOID] FROM [dbo].[TASKS] WHERE [TASK] = @P1",
            vec![&"Task number 5 for the printer on floor 5"],
            1,
        ),
        (
            "SELECT [WOID] FROM [dbo].[TASKS] WHERE [WOID] > @P1 AND [FLAG] = @P2",
            vec![&20i64, &true],
            5,
        ),
        (
            "SELECT [id] FROM [dbo].[TYPES] WHERE [g] = @P1",
            vec![&g],
            1,
        ),
        (
            "SELECT [id] FROM [dbo].[TYPES] WHERE [vb] = @P1",
            vec![&bin],
            1,
        ),
        (
            "SELECT [id] FROM [dbo].[TYPES] WHERE [dt2] = @P1",
            vec![&when],
            1,
        ),
    ];
    for (sql, params, expect) in cases {
        let rows = c
            .query(sql, &params)
            .await
            .unwrap()
            .into_first_result()
            .await
            .unwrap();
        assert_eq!(rows.len(), expect, "{sql}");
    }
}
