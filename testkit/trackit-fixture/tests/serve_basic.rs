//! Handshake, login, errors and simple SELECTs against `trackit-fixture serve`, with tiberius.

mod serve_support;

use serve_support::*;

#[tokio::test]
async fn login_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let db = golden_db(dir.path(), 10, None);
    let srv = start(&db, &[]);

    // Wrong password: 18456, login fails cleanly.
    let e = try_connect(srv.port, "wrong")
        .await
        .expect_err("bad password must fail");
    assert_eq!(err_code(&e), 18456, "{e:?}");

    let mut c = connect(srv.port).await;
    let row = c
        .simple_query("SELECT 1 AS one")
        .await
        .unwrap()
        .into_row()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.get::<i32, _>(0), Some(1));

    // 208 invalid object, naming it.
    let e = batch_err(&mut c, "SELECT * FROM [dbo].[NOPE]").await;
    assert_eq!(err_code(&e), 208);
    assert!(e.to_string().contains("dbo.NOPE"), "{e}");
    // 207 invalid column.
    let e = c
        .query("SELECT [nope] FROM [dbo].[TASKS]", &[])
        .await
        .unwrap_err();
    assert_eq!(err_code(&e), 207, "{e}");
    assert!(e.to_string().contains("nope"));
    // 102 syntax.
    let e = batch_err(&mut c, "SELEC 1").await;
    assert_eq!(err_code(&e), 102, "{e}");
    // Unknown function: 195. Catalog tables are not user objects: 208.
    let e = c.query("SELECT NEWID()", &[]).await.unwrap_err();
    assert_eq!(err_code(&e), 195, "{e}");
    let e = c
        .query("SELECT * FROM _ti_database", &[])
        .await
        .unwrap_err();
    assert_eq!(err_code(&e), 208, "{e}");
    // Writes are refused as on a read-only database.
    let e = c
        .execute("DELETE FROM [dbo].[TASKS]", &[])
        .await
        .unwrap_err();
    assert_eq!(err_code(&e), 3906, "{e}");

    // Still usable after the errors.
    let n: i64 = one_row(
        &mut c,
        "SELECT COUNT_BIG(*) AS [rows] FROM [dbo].[TASKS] WITH (NOLOCK)",
        &[],
    )
    .await
    .get(0)
    .unwrap();
    assert_eq!(n, 10);
    let n: i32 = one_row(
        &mut c,
        "SELECT COUNT(*) FROM [dbo].[TASKS] WHERE [WOID] > @P1",
        &[&5i32],
    )
    .await
    .get(0)
    .unwrap();
    assert_eq!(n, 5);

    // Names with spaces, schema-qualified, views.
    let rows = result_rows(
        &mut c,
        "SELECT [Seq], [Note Text] FROM [_SMDBA_].[Ticket Notes] ORDER BY [Seq] DESC",
        &[],
    )
    .await;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].get::<&str, _>("Note Text"), Some("second"));
    let rows = result_rows(&mut c, "SELECT * FROM dbo.vTASKS", &[]).await;
    assert_eq!(rows.len(), 5);

    // Several result sets in one batch.
    let sets = c
        .simple_query(
            "SET NOCOUNT ON; SELECT 1 AS a; SELECT [WOID] FROM [dbo].[TASKS] WHERE [WOID] <= 3",
        )
        .await
        .unwrap()
        .into_results()
        .await
        .unwrap();
    assert_eq!(sets.len(), 2);
    assert_eq!(sets[1].len(), 3);

    let log = std::fs::read_to_string(&srv.log).unwrap();
    assert!(
        log.lines()
            .any(|l| l.starts_with("stmt: SELECT COUNT_BIG(*)")),
        "{log}"
    );
}

#[tokio::test]
async fn multi_packet_request_and_long_parameter() {
    let g = Golden::start(3, None, &[]);
    let mut c = g.connect().await;
    // A statement over 4000 bytes goes as PLP and over several packets; so does a long parameter.
    let pad = " ".repeat(9000);
    let long = "y".repeat(20_000);
    let sql = format!("SELECT [WOID]{pad} FROM [dbo].[TASKS] WHERE [TASK] <> @P1 ORDER BY [WOID]");
    let rows = result_rows(&mut c, sql.as_str(), &[&long.as_str()]).await;
    assert_eq!(rows.len(), 3);
    let row = c
        .simple_query(format!("SELECT 2 AS two{pad}"))
        .await
        .unwrap()
        .into_row()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.get::<i32, _>(0), Some(2));
}
