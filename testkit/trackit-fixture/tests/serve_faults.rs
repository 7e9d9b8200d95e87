//! Faults on demand, Attention (cancel) and streaming of large results.

mod serve_support;

use futures_util::TryStreamExt;
use serve_support::*;
use tiberius::QueryItem;

const ALL_TASKS: &str = "SELECT [WOID], [TASK] FROM [dbo].[TASKS] WITH (NOLOCK) ORDER BY [WOID]";

#[tokio::test]
async fn refuse_drop_error_and_delay() {
    let dir = tempfile::tempdir().unwrap();
    let db = golden_db(dir.path(), 20, None);
    let srv = start(
        &db,
        &[
            "--fault",
            "refuse-logins=1",
            "--fault",
            "drop-after-rows=5:TASKS",
            "--fault",
            "error-after-rows=3:dbo.tasks@2",
            "--fault",
            "delay-ms=1",
        ],
    );
    assert!(
        try_connect(srv.port, "fixture").await.is_err(),
        "first login is refused"
    );

    // Drop: the connection closes after 5 rows.
    let mut c = connect(srv.port).await;
    let mut rows = 0;
    let res: tiberius::Result<()> = async {
        let mut s = c.query(ALL_TASKS, &[]).await?;
        while let Some(item) = s.try_next().await? {
            if let QueryItem::Row(_) = item {
                rows += 1;
            }
        }
        Ok(())
    }
    .await;
    assert!(
        res.is_err(),
        "stream must fail when the server drops the connection"
    );
    assert_eq!(rows, 5);

    // Error after 3 rows, twice; other tables are not affected; then the fault is used up.
    let mut c = connect(srv.port).await;
    for _ in 0..2 {
        let e = c
            .query(ALL_TASKS, &[])
            .await
            .unwrap()
            .into_first_result()
            .await
            .unwrap_err();
        assert_eq!(err_code(&e), 50000, "{e}");
        let n = c
            .query("SELECT [Seq] FROM [_SMDBA_].[Ticket Notes]", &[])
            .await
            .unwrap()
            .into_first_result()
            .await;
        assert_eq!(n.unwrap().len(), 2);
    }
    let all = result_rows(&mut c, ALL_TASKS, &[]).await;
    assert_eq!(all.len(), 20);
}

#[tokio::test]
async fn attention_cancels_a_running_result() {
    let g = Golden::start(50_000, None, &[]);
    let mut c = g.connect().await;
    {
        let mut s = c.query(ALL_TASKS, &[]).await.unwrap();
        let mut n = 0;
        while let Some(item) = s.try_next().await.unwrap() {
            if let QueryItem::Row(_) = item {
                n += 1;
                if n == 10 {
                    break;
                }
            }
        }
    }
    c.cancel_query().await.unwrap();
    // The connection is usable afterwards.
    let row = one_row(&mut c, "SELECT COUNT(*) FROM [dbo].[TASKS]", &[]).await;
    assert_eq!(row.get::<i32, _>(0), Some(50_000));
    // A cancel with nothing running is acknowledged too.
    c.cancel_query().await.unwrap();
    let all = result_rows(&mut c, ALL_TASKS, &[]).await;
    assert_eq!(all.len(), 50_000);
}
