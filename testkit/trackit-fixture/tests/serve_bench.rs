//! Throughput benchmark (ignored by default): a full scan of 200,000 TASKS-width rows (48 columns) with the
//! extractor's select list, read with tiberius over loopback.
//! Run: `cargo test --release -p trackit-fixture --test serve_bench -- --ignored --nocapture`

mod serve_support;

use futures_util::TryStreamExt;
use rusqlite::Connection;
use serve_support::*;
use std::time::Instant;
use tiberius::QueryItem;

const ROWS: i64 = 200_000;

fn bench_db(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("bench.sqlite");
    let conn = Connection::open(&path).unwrap();
    catalog(&conn, None);
    let mut cols = vec![
        Col("WOID", "int", "int", None, None, None, false, None),
        Col("WO_NUM", "int", "int", None, None, None, true, None),
        Col("PARENTWOID", "int", "int", None, None, None, true, None),
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
            "text",
            "text",
            Some(2_147_483_647),
            None,
            None,
            true,
            None,
        ),
        Col("HOURS", "real", "real", None, None, None, true, None),
        Col(
            "WorkOrderStatusId",
            "int",
            "int",
            None,
            None,
            None,
            true,
            None,
        ),
        Col(
            "WorkOrderTypeId",
            "int",
            "int",
            None,
            None,
            None,
            true,
            None,
        ),
    ];
    let texts = [
        "REQUEST",
        "RESPONS",
        "RESPONDEDBY",
        "CLSDBY",
        "DEPT",
        "PRIORITY",
        "TYPE",
        "WOTYPE2",
        "WOTYPE3",
        "STATUS",
        "ELAPSETIME",
        "LOOKUP1",
        "LOOKUP2",
        "TaskLookup3",
        "TaskLookup4",
        "TaskLookup5",
        "TaskLookup6",
        "TaskLookup7",
        "TaskLookup8",
        "WO_TEXT1",
        "WO_TEXT2",
        "WO_TEXT3",
        "WO_TEXT4",
        "WO_TEXT5",
        "WO_TEXT6",
    ];
    for t in texts {
        cols.push(Col(
            t,
            "varchar(50)",
            "varchar",
            Some(50),
            None,
            None,
            true,
            None,
        ));
    }
    let dates = [
        "REQDATE",
        "OPENDATE",
        "DUEDATE",
        "MODIDATE",
        "ASSNDATE",
        "RESPONSEDATE",
        "RESPONDEDDATE",
        "CLSDDATE",
        "COMPLETED",
        "UdfDate1",
        "UdfDate2",
        "UdfDate3",
        "UdfDate4",
        "UdfDate5",
    ];
    for d in dates {
        cols.push(Col(d, "datetime", "datetime", None, None, None, true, None));
    }
    create_table(&conn, "dbo", "TASKS", "BASE TABLE", &cols, &["WOID"]);
    let n = cols.len();
    let placeholders: Vec<String> = (1..=n).map(|i| format!("?{i}")).collect();
    let tx = conn.unchecked_transaction().unwrap();
    {
        let mut st = tx
            .prepare(&format!(
                "INSERT INTO \"dbo.TASKS\" VALUES ({})",
                placeholders.join(",")
            ))
            .unwrap();
        for i in 1..=ROWS {
            let mut vals: Vec<rusqlite::types::Value> = vec![
                i.into(),
                i.into(),
                rusqlite::types::Value::Null,
                format!("Printer on floor {} is jammed again (ticket {i})", i % 9).into(),
                format!("The user reports that the printer on floor {} shows error {}. Restarted twice.", i % 9, i % 97)
                    .into(),
                if i % 4 == 0 { rusqlite::types::Value::Null } else { "Replaced the fuser unit.".to_string().into() },
                (i as f64 / 4.0).into(),
                (i % 7).into(),
                (i % 5).into(),
            ];
            for (k, _) in texts.iter().enumerate() {
                vals.push(if (i + k as i64) % 5 == 0 {
                    rusqlite::types::Value::Null
                } else {
                    format!("value {k} {}", i % 1000).into()
                });
            }
            for (k, _) in dates.iter().enumerate() {
                vals.push(
                    format!(
                        "2019-{:02}-{:02} 10:{:02}:00.000",
                        k % 12 + 1,
                        i % 28 + 1,
                        i % 60
                    )
                    .into(),
                );
            }
            st.execute(rusqlite::params_from_iter(vals)).unwrap();
        }
    }
    tx.commit().unwrap();
    path
}

#[tokio::test]
#[ignore = "benchmark: run with --release -- --ignored --nocapture"]
async fn full_scan_throughput() {
    let dir = tempfile::tempdir().unwrap();
    let db = bench_db(dir.path());
    let srv = start(&db, &[]);
    let mut c = connect(srv.port).await;
    let conn = Connection::open(&db).unwrap();
    let mut st = conn
        .prepare("SELECT column_name, data_type FROM _ti_columns WHERE object_name = 'TASKS' ORDER BY ordinal")
        .unwrap();
    let cols: Vec<(String, String)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut items = Vec::new();
    for (name, ty) in &cols {
        match ty.as_str() {
            "varchar" => items.push(format!("CAST([{name}] AS varbinary(max)) AS [{name}]")),
            "text" => {
                items.push(format!(
                    "CASE WHEN DATALENGTH([{name}]) > @P1 THEN NULL ELSE CAST([{name}] AS varbinary(max)) END AS [{name}]"
                ));
                items.push(format!("DATALENGTH([{name}]) AS [{name}__bytes]"));
            }
            _ => items.push(format!("[{name}]")),
        }
    }
    let sql = format!(
        "SELECT {} FROM [dbo].[TASKS] WITH (NOLOCK) ORDER BY [WOID]",
        items.join(", ")
    );
    let cpu0 = server_cpu_secs(srv.child.id());
    let start = Instant::now();
    let mut s = c.query(sql.as_str(), &[&65_536i32]).await.unwrap();
    let mut n = 0u64;
    while let Some(item) = s.try_next().await.unwrap() {
        if let QueryItem::Row(_) = item {
            n += 1;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(n, ROWS as u64);
    let cpu = server_cpu_secs(srv.child.id()) - cpu0;
    println!(
        "serve CPU: {cpu:.2} s for {n} rows = {:.0} rows per server CPU-second (client: tiberius, same machine)",
        n as f64 / cpu
    );
    println!(
        "serve throughput: {n} rows x {} columns in {secs:.2} s = {:.0} rows/s",
        items.len(),
        n as f64 / secs
    );
}

/// User + system CPU seconds of a process (Linux /proc; 100 ticks per second).
fn server_cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks: f64 = fields.get(11..13).map_or(0.0, |f| {
        f.iter().filter_map(|x| x.parse::<f64>().ok()).sum()
    });
    ticks / 100.0
}
