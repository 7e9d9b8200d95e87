//! A tiny classic extract bundle built by hand, with the column names and Arrow types of
//! docs/bundle-format.md and trackit-fixture.md §2.
#![allow(dead_code, missing_docs)]

pub mod cli;
pub mod fixture;

use arrow_array::{
    ArrayRef, BinaryArray, BooleanArray, Float32Array, Int32Array, Int64Array, RecordBatch,
    StringArray, TimestampMicrosecondArray,
};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use ti_shared::bundle::{BundleKind, BundleWriter, Producer, encode_object_name};

pub struct Table {
    pub schema: &'static str,
    pub name: &'static str,
    pub view: bool,
    /// (column, sql type)
    pub columns: Vec<(&'static str, &'static str)>,
    pub rows: Vec<Vec<Value>>,
    /// Columns whose cells are stored as blobs (LOB over threshold): (column, row index).
    pub blob_cells: Vec<(&'static str, usize)>,
}

fn arrow_type(sql: &str) -> DataType {
    match sql {
        "int" => DataType::Int32,
        "bigint" => DataType::Int64,
        "bit" => DataType::Boolean,
        "real" => DataType::Float32,
        "datetime" => DataType::Timestamp(TimeUnit::Microsecond, None),
        "varbinary" => DataType::Binary,
        _ => DataType::Utf8,
    }
}

fn ts(v: &Value) -> Option<i64> {
    v.as_str().map(|s| {
        chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
            .unwrap()
            .and_utc()
            .timestamp_micros()
    })
}

fn is_lob(sql: &str) -> bool {
    matches!(sql, "text" | "ntext" | "varbinary")
}

pub fn write_bundle(dir: &Path, tables: &[Table]) -> String {
    let w = BundleWriter::create(
        dir,
        BundleKind::Extract,
        Producer {
            name: "test".into(),
            version: "0".into(),
        },
    )
    .unwrap();
    let mut objects = Vec::new();
    for t in tables {
        let full = format!("{}.{}", t.schema, t.name);
        let folder = format!(
            "{}/{}",
            if t.view { "views" } else { "tables" },
            encode_object_name(&full)
        );
        let mut fields = Vec::new();
        let mut arrays: Vec<ArrayRef> = Vec::new();
        for (ci, (col, sql)) in t.columns.iter().enumerate() {
            let cells: Vec<&Value> = t.rows.iter().map(|r| &r[ci]).collect();
            let dt = arrow_type(sql);
            fields.push(Field::new(*col, dt.clone(), true));
            let blob_rows: Vec<usize> = t
                .blob_cells
                .iter()
                .filter(|(c, _)| c == col)
                .map(|(_, r)| *r)
                .collect();
            let mut hashes: Vec<Option<String>> = vec![None; cells.len()];
            let mut sizes: Vec<Option<i64>> = vec![None; cells.len()];
            let arr: ArrayRef = match dt {
                DataType::Int32 => Arc::new(Int32Array::from(
                    cells
                        .iter()
                        .map(|v| v.as_i64().map(|i| i as i32))
                        .collect::<Vec<_>>(),
                )),
                DataType::Int64 => Arc::new(Int64Array::from(
                    cells.iter().map(|v| v.as_i64()).collect::<Vec<_>>(),
                )),
                DataType::Boolean => Arc::new(BooleanArray::from(
                    cells.iter().map(|v| v.as_bool()).collect::<Vec<_>>(),
                )),
                DataType::Float32 => Arc::new(Float32Array::from(
                    cells
                        .iter()
                        .map(|v| v.as_f64().map(|f| f as f32))
                        .collect::<Vec<_>>(),
                )),
                DataType::Timestamp(..) => Arc::new(TimestampMicrosecondArray::from(
                    cells.iter().map(|v| ts(v)).collect::<Vec<_>>(),
                )),
                DataType::Binary => {
                    let vals: Vec<Option<Vec<u8>>> = cells
                        .iter()
                        .enumerate()
                        .map(|(i, v)| {
                            let bytes = v.as_str().map(|s| s.as_bytes().to_vec());
                            if blob_rows.contains(&i)
                                && let Some(b) = &bytes
                            {
                                let r = w.add_blob(b).unwrap();
                                hashes[i] = Some(r.blake3);
                                sizes[i] = Some(b.len() as i64);
                                return None;
                            }
                            bytes
                        })
                        .collect();
                    Arc::new(BinaryArray::from(
                        vals.iter().map(|v| v.as_deref()).collect::<Vec<_>>(),
                    ))
                }
                _ => {
                    let vals: Vec<Option<String>> = cells
                        .iter()
                        .enumerate()
                        .map(|(i, v)| {
                            let s = v.as_str().map(str::to_string);
                            if blob_rows.contains(&i)
                                && let Some(s) = &s
                            {
                                let r = w.add_blob(s.as_bytes()).unwrap();
                                hashes[i] = Some(r.blake3);
                                sizes[i] = Some(s.len() as i64);
                                return None;
                            }
                            s
                        })
                        .collect();
                    Arc::new(StringArray::from(vals))
                }
            };
            arrays.push(arr);
            if is_lob(sql) {
                fields.push(Field::new(format!("{col}__blake3"), DataType::Utf8, true));
                arrays.push(Arc::new(StringArray::from(hashes)));
                fields.push(Field::new(format!("{col}__bytes"), DataType::Int64, true));
                arrays.push(Arc::new(Int64Array::from(sizes)));
            }
        }
        let schema = Arc::new(Schema::new(fields));
        let batch = RecordBatch::try_new(schema.clone(), arrays).unwrap();
        let rel = format!("{folder}/part-00000.parquet");
        let mut sink = w.create_file(&rel).unwrap();
        {
            let mut pw = parquet::arrow::ArrowWriter::try_new(&mut sink, schema, None).unwrap();
            pw.write(&batch).unwrap();
            pw.close().unwrap();
        }
        w.commit(sink, Some(t.rows.len() as u64)).unwrap();
        objects.push(json!({
            "schema": t.schema, "name": t.name, "type": if t.view { "VIEW" } else { "BASE TABLE" }, "folder": folder,
            "columns": t.columns.iter().map(|(c, s)| json!({"name": c, "data_type": s, "max_length": null, "precision": null, "scale": null, "nullable": true, "collation": null})).collect::<Vec<_>>(),
            "primary_key": [t.columns[0].0], "row_count": t.rows.len(), "extracted_rows": t.rows.len(),
        }));
    }
    let inventory = json!({"server": {"version": "Microsoft SQL Server 2008 R2", "product_version": "10.50.6000.34", "database": "TRACKIT_DATA",
        "collation": "SQL_Latin1_General_CP1_CI_AS", "utc_offset_minutes": -300, "time_zone": "(UTC-05:00) Eastern Time (US & Canada)",
        "snapshot_time": "2026-11-29T15:00:00Z"}, "objects": objects});
    w.write_json("inventory.json", &inventory).unwrap();
    w.finish().unwrap().bundle_id
}

pub fn classic_tables() -> Vec<Table> {
    let n = Value::Null;
    let s = |x: &str| json!(x);
    vec![
        Table {
            schema: "dbo",
            name: "TASKS",
            view: false,
            blob_cells: vec![("DESCRIPT", 2)],
            columns: vec![
                ("WOID", "int"),
                ("WO_NUM", "int"),
                ("PARENTWOID", "int"),
                ("TASK", "varchar"),
                ("DESCRIPT", "text"),
                ("NOTE", "text"),
                ("REQUEST", "varchar"),
                ("RESPONS", "varchar"),
                ("DEPT", "varchar"),
                ("PRIORITY", "varchar"),
                ("TYPE", "varchar"),
                ("WOTYPE2", "varchar"),
                ("WorkOrderStatusId", "int"),
                ("STATUS", "varchar"),
                ("REQDATE", "datetime"),
                ("OPENDATE", "datetime"),
                ("DUEDATE", "datetime"),
                ("CLSDDATE", "datetime"),
                ("HOURS", "real"),
                ("WO_TEXT1", "varchar"),
                ("WO_INT1", "int"),
                ("ZZ_SITE_COSTCENTER", "nvarchar"),
            ],
            rows: vec![
                vec![
                    json!(1),
                    json!(1),
                    n.clone(),
                    s("Printer jams"),
                    s("The printer <none> jams\r\nwhen a < b"),
                    s("Replaced roller"),
                    s("Smith, John"),
                    s("jtech"),
                    s("Finance"),
                    s("high "),
                    s("Hardware"),
                    s("Printer"),
                    json!(2),
                    s("Closed"),
                    s("2021-03-14 01:00:00"),
                    s("2021-03-14 01:00:00"),
                    s("1900-01-01 00:00:00"),
                    s("2021-03-15 10:00:00"),
                    json!(1.5),
                    s("#3 Top 10 FY19"),
                    json!(7),
                    s("CC-100"),
                ],
                vec![
                    json!(2),
                    json!(2),
                    json!(1),
                    s("Child task"),
                    s(
                        "<html><body><p>Hello <b>team</b></p><img src=\"cid:shot.png@01D\"></body></html>",
                    ),
                    n.clone(),
                    s("Nobody Known"),
                    s("Jane Tech"),
                    s("Sales"),
                    s("1-Low"),
                    s("_Change Request"),
                    n.clone(),
                    json!(0),
                    s("Open"),
                    s("2021-03-14 02:30:00"),
                    s("2021-03-14 02:30:00"),
                    n.clone(),
                    n.clone(),
                    n.clone(),
                    n.clone(),
                    n.clone(),
                    n.clone(),
                ],
                vec![
                    json!(3),
                    json!(3),
                    json!(3),
                    s("Self parent"),
                    s("{\\rtf1\\ansi Long \\'93body\\'94\\par second}"),
                    n.clone(),
                    s(""),
                    n.clone(),
                    s("Finance"),
                    n.clone(),
                    n.clone(),
                    n.clone(),
                    n.clone(),
                    s("Open"),
                    n.clone(),
                    s("2021-04-01 09:00:00"),
                    n.clone(),
                    n.clone(),
                    n.clone(),
                    n.clone(),
                    n.clone(),
                    n.clone(),
                ],
            ],
        },
        Table {
            schema: "dbo",
            name: "TaskNote",
            view: false,
            blob_cells: vec![],
            columns: vec![
                ("TaskNoteId", "int"),
                ("woid", "int"),
                ("CreateDate", "datetime"),
                ("CreatedBy", "varchar"),
                ("NoteText", "text"),
                ("TaskNoteTypeId", "int"),
                ("IsPrivate", "bit"),
            ],
            rows: vec![
                vec![
                    json!(10),
                    json!(1),
                    s("2021-03-14 01:00:00"),
                    s("jtech"),
                    s("The printer <none> jams\r\nwhen a < b"),
                    json!(1),
                    json!(false),
                ],
                vec![
                    json!(11),
                    json!(1),
                    s("2021-03-14 03:30:00"),
                    s("jtech"),
                    s("Ordered roller\0 part"),
                    json!(2),
                    json!(false),
                ],
                vec![
                    json!(12),
                    json!(1),
                    s("2020-01-01 00:00:00"),
                    s("John Smith"),
                    s("Thanks!"),
                    json!(3),
                    json!(false),
                ],
                vec![
                    json!(13),
                    json!(99),
                    s("2021-01-01 00:00:00"),
                    s("jtech"),
                    s("orphan"),
                    json!(2),
                    json!(false),
                ],
                vec![
                    json!(14),
                    json!(2),
                    s("2021-03-15 00:00:00"),
                    s("Ghost Writer"),
                    s("Who am I"),
                    json!(77),
                    n.clone(),
                ],
            ],
        },
        Table {
            schema: "dbo",
            name: "TaskNoteType",
            view: false,
            blob_cells: vec![],
            columns: vec![("TaskNoteTypeId", "int"), ("TaskNoteTypeName", "varchar")],
            rows: vec![
                vec![json!(1), s("Incident Description")],
                vec![json!(2), s("Technician Note")],
                vec![json!(3), s("Email Message")],
            ],
        },
        Table {
            schema: "dbo",
            name: "WorkOrderStatus",
            view: false,
            blob_cells: vec![],
            columns: vec![
                ("WorkOrderStatusId", "int"),
                ("WorkOrderStatusName", "varchar"),
                ("StopsClock", "bit"),
            ],
            rows: vec![
                vec![json!(1), s("Open"), json!(false)],
                vec![json!(2), s("Closed"), json!(true)],
            ],
        },
        Table {
            schema: "dbo",
            name: "vTASKS_BROWSE",
            view: true,
            blob_cells: vec![],
            columns: vec![
                ("WO_NUM", "int"),
                ("woid", "int"),
                ("request_email", "varchar"),
            ],
            rows: vec![
                vec![json!(1), json!(1), s("JOHN.SMITH@Example.com ")],
                vec![json!(2), json!(2), n.clone()],
                vec![json!(3), json!(3), n.clone()],
            ],
        },
        Table {
            schema: "dbo",
            name: "HDUsers",
            view: false,
            blob_cells: vec![],
            columns: vec![
                ("UserId", "int"),
                ("LoginId", "varchar"),
                ("FullName", "varchar"),
                ("Email", "varchar"),
                ("Dept", "varchar"),
                ("Location", "varchar"),
                ("IsTechnician", "bit"),
                ("IsRequestor", "bit"),
                ("IsActive", "bit"),
                ("CreatedDate", "datetime"),
            ],
            rows: vec![
                vec![
                    json!(1),
                    s("jtech"),
                    s("Jane Tech"),
                    s("jane@example.com"),
                    s("IT"),
                    s("HQ"),
                    json!(true),
                    json!(false),
                    json!(true),
                    s("2019-01-01 00:00:00"),
                ],
                vec![
                    json!(2),
                    s("jsmith"),
                    s("John Smith"),
                    s(" John.Smith@EXAMPLE.com"),
                    s("Finance"),
                    s("HQ"),
                    json!(false),
                    json!(true),
                    json!(true),
                    s("2019-01-02 00:00:00"),
                ],
                vec![
                    json!(3),
                    s("jsmith2"),
                    s("JOHN SMITH "),
                    s("john.smith@example.com"),
                    s("Finance"),
                    s("HQ"),
                    json!(false),
                    json!(true),
                    json!(true),
                    n.clone(),
                ],
                vec![
                    json!(4),
                    s("bad"),
                    s("Bad Email"),
                    s("n/a"),
                    s("Sales"),
                    s("Branch"),
                    json!(false),
                    json!(true),
                    json!(true),
                    n.clone(),
                ],
            ],
        },
        Table {
            schema: "dbo",
            name: "Assets",
            view: false,
            blob_cells: vec![],
            columns: vec![
                ("AssetId", "int"),
                ("AssetName", "varchar"),
                ("AssetTag", "varchar"),
                ("SerialNo", "varchar"),
                ("Model", "varchar"),
                ("AssignedUser", "varchar"),
                ("PurchaseDate", "datetime"),
                ("IsManaged", "bit"),
            ],
            rows: vec![
                vec![
                    json!(1),
                    s("LAPTOP-1"),
                    s("T-1"),
                    s("SN1"),
                    s("X1"),
                    s("John Smith"),
                    s("2020-01-01 00:00:00"),
                    json!(true),
                ],
                vec![
                    json!(2),
                    s("ORPHAN"),
                    s("T-2"),
                    s("SN2"),
                    s("X2"),
                    s("Nobody"),
                    n.clone(),
                    json!(false),
                ],
            ],
        },
        Table {
            schema: "dbo",
            name: "KBArticles",
            view: false,
            blob_cells: vec![],
            columns: vec![
                ("ArticleId", "int"),
                ("Title", "varchar"),
                ("Body", "text"),
                ("Category", "varchar"),
                ("IsPublished", "bit"),
                ("CreatedBy", "varchar"),
            ],
            rows: vec![
                vec![
                    json!(1),
                    s("Reset password"),
                    s("<p>Go to <a href=\"https://x.example\">x</a></p>"),
                    s("Accounts/Passwords"),
                    json!(true),
                    s("jtech"),
                ],
                vec![
                    json!(2),
                    s("Draft"),
                    s("plain"),
                    n.clone(),
                    json!(false),
                    n.clone(),
                ],
            ],
        },
        Table {
            schema: "dbo",
            name: "Attachments",
            view: false,
            blob_cells: vec![("Content", 0), ("Content", 1)],
            columns: vec![
                ("AttachmentId", "int"),
                ("WOID", "int"),
                ("FileName", "nvarchar"),
                ("StoredPath", "nvarchar"),
                ("SizeBytes", "bigint"),
                ("AddedBy", "varchar"),
                ("AddedDate", "datetime"),
                ("Content", "varbinary"),
            ],
            rows: vec![
                vec![
                    json!(1),
                    json!(1),
                    s("..\\report.pdf"),
                    n.clone(),
                    json!(5),
                    s("jtech"),
                    s("2021-03-14 04:00:00"),
                    s("%PDF1"),
                ],
                vec![
                    json!(2),
                    json!(2),
                    s("shot.png"),
                    n.clone(),
                    json!(3),
                    s("Jane Tech"),
                    s("2021-03-15 00:00:00"),
                    s("PNG"),
                ],
                vec![
                    json!(3),
                    json!(1),
                    s("invoice.pdf.exe"),
                    n.clone(),
                    json!(2),
                    s("jtech"),
                    s("2021-03-14 04:00:00"),
                    s("MZ"),
                ],
                vec![
                    json!(4),
                    json!(1),
                    s("empty.txt"),
                    n.clone(),
                    json!(0),
                    s("jtech"),
                    s("2021-03-14 04:00:00"),
                    s(""),
                ],
            ],
        },
        Table {
            schema: "dbo",
            name: "zz_import_2016",
            view: false,
            blob_cells: vec![],
            columns: vec![("ImportRowId", "int"), ("RawLine", "varchar")],
            rows: vec![vec![json!(1), s("x")]],
        },
    ]
}
