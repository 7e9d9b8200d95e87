//! The schema inventory (Q2–Q7) written as `inventory.json` (docs/bundle-format.md). Content only: the server's
//! current time (Q2 `now`) varies between runs, so only its UTC offset and time zone are kept, and the snapshot
//! time goes to the manifest's `source` (provenance), so the same database gives the same bundle_id.

use crate::cells;
use crate::connect::SqlClient;
use crate::error::ExtractError;
use crate::queries;
use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};
use tiberius::ColumnData;
use tiberius::Row;

/// Server facts (Q2, Q3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerFacts {
    /// `@@VERSION`.
    pub version: String,
    /// `SERVERPROPERTY('ProductVersion')`, e.g. `10.50.6000.34`.
    pub product_version: String,
    /// `DB_NAME()`.
    pub database: String,
    /// Server default collation (`SERVERPROPERTY('Collation')`), the default for columns without one.
    pub collation: String,
    /// Offset of `SYSDATETIMEOFFSET()` at extract time, minutes east of UTC.
    pub utc_offset_minutes: i32,
    /// `CURRENT_TIMEZONE()` (SQL Server 2019+); null on older servers.
    pub time_zone: Option<String>,
}

/// One column (Q5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnInfo {
    /// Column name as SQL Server spells it.
    pub name: String,
    /// Lower-case SQL Server type name (`int`, `varchar`, `datetimeoffset`, …).
    pub data_type: String,
    /// `CHARACTER_MAXIMUM_LENGTH`: characters (char types), bytes (binary types), -1 for `(max)`.
    pub max_length: Option<i64>,
    /// Precision of decimal/numeric/money.
    pub precision: Option<i64>,
    /// Scale of decimal/numeric/money; fractional-second digits of time, datetime2, datetimeoffset.
    pub scale: Option<i64>,
    /// `IS_NULLABLE = 'YES'`.
    pub nullable: bool,
    /// Collation of character columns.
    pub collation: Option<String>,
}

impl ColumnInfo {
    /// True for the large-object types whose cells may go to `blobs/`: text, ntext, image, xml and the `(max)`
    /// types.
    pub fn is_lob(&self) -> bool {
        matches!(self.data_type.as_str(), "text" | "ntext" | "image" | "xml")
            || (matches!(
                self.data_type.as_str(),
                "varchar" | "nvarchar" | "varbinary"
            ) && self.max_length == Some(-1))
    }

    /// The type as DDL writes it: `varchar(50)`, `varchar(max)`, `decimal(19,4)`, `datetime2(7)`, `int`.
    pub fn sql_type(&self) -> String {
        let t = self.data_type.as_str();
        match t {
            "char" | "varchar" | "nchar" | "nvarchar" | "binary" | "varbinary" => {
                match self.max_length {
                    Some(-1) => format!("{t}(max)"),
                    Some(n) => format!("{t}({n})"),
                    None => t.to_string(),
                }
            }
            "decimal" | "numeric" => {
                format!(
                    "{t}({},{})",
                    self.precision.unwrap_or(18),
                    self.scale.unwrap_or(0)
                )
            }
            "time" | "datetime2" | "datetimeoffset" => format!("{t}({})", self.scale.unwrap_or(7)),
            _ => t.to_string(),
        }
    }
}

/// One table or view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectInfo {
    /// Schema (`dbo`, `_SMDBA_`).
    pub schema: String,
    /// Object name.
    pub name: String,
    /// `BASE TABLE` or `VIEW`.
    #[serde(rename = "type")]
    pub object_type: String,
    /// Bundle folder, `tables/<encoded>` or `views/<encoded>`.
    pub folder: String,
    /// Columns in ordinal order.
    pub columns: Vec<ColumnInfo>,
    /// Primary-key columns in key order (empty: none).
    pub primary_key: Vec<String>,
    /// `COUNT_BIG(*)` at extract time.
    pub row_count: u64,
    /// Rows written to the bundle (null in `discover`, which copies no data).
    pub extracted_rows: Option<u64>,
}

impl ObjectInfo {
    /// `schema.name`.
    pub fn full_name(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }

    /// True for views.
    pub fn is_view(&self) -> bool {
        self.object_type == "VIEW"
    }
}

/// `inventory.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inventory {
    /// Server facts.
    pub server: ServerFacts,
    /// Tables and views sorted by schema and name.
    pub objects: Vec<ObjectInfo>,
}

/// Q2 result that is not content: the server's clock, RFC 3339 UTC (goes to the manifest `source`).
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Server time of the inventory, RFC 3339 UTC.
    pub server_time: String,
}

/// `@@SERVERNAME` (Q14); empty when the server gives none.
///
/// # Errors
/// [`ExtractError::Query`] when the query fails.
pub async fn server_name(client: &mut SqlClient) -> Result<String, ExtractError> {
    let r = rows(client, queries::Q14_SERVER_NAME, "inventory: server name").await?;
    Ok(r.first()
        .and_then(|r| cells::text(cell(r, 0)))
        .unwrap_or_default())
}

async fn rows(client: &mut SqlClient, sql: &str, what: &str) -> Result<Vec<Row>, ExtractError> {
    let stream = client
        .query(sql, &[])
        .await
        .map_err(ExtractError::query(what))?;
    stream
        .into_row_stream()
        .try_collect()
        .await
        .map_err(ExtractError::query(what))
}

fn cell(row: &Row, i: usize) -> &ColumnData<'static> {
    static NULL: ColumnData<'static> = ColumnData::I32(None);
    row.get_column_data(i).unwrap_or(&NULL)
}

/// Reads server facts, every object, its columns, key and row count (Q2–Q7). `nolock` adds the hint to Q7.
///
/// # Errors
/// [`ExtractError::Query`] when a catalog query fails (Q3's error on servers before 2019 is expected).
pub async fn read(
    client: &mut SqlClient,
    nolock: bool,
) -> Result<(Inventory, Snapshot), ExtractError> {
    let q2 = rows(client, queries::Q2_SERVER, "inventory: server facts").await?;
    let r = q2
        .first()
        .ok_or_else(|| ExtractError::Data("Q2 returned no row".into()))?;
    let (now, offset) = match cell(r, 4) {
        ColumnData::DateTimeOffset(Some(dto)) => {
            let utc = crate::types::temporal::datetime2_micros(dto.datetime2()).0;
            (
                crate::types::temporal::rfc3339_utc(utc),
                i32::from(dto.offset()),
            )
        }
        _ => (String::new(), 0),
    };
    let mut server = ServerFacts {
        version: cells::text(cell(r, 0)).unwrap_or_default(),
        database: cells::text(cell(r, 1)).unwrap_or_default(),
        product_version: cells::text(cell(r, 2)).unwrap_or_default(),
        collation: cells::text(cell(r, 3)).unwrap_or_default(),
        utc_offset_minutes: offset,
        time_zone: None,
    };
    // Q3 fails with error 195 before SQL Server 2019: recorded as unknown.
    if let Ok(tz) = rows(client, queries::Q3_TIME_ZONE, "inventory: time zone").await {
        server.time_zone = tz.first().and_then(|r| cells::text(cell(r, 0)));
    }
    let mut objects = Vec::new();
    for r in rows(client, queries::Q4_OBJECTS, "inventory: objects").await? {
        let schema = cells::text(cell(&r, 0)).unwrap_or_default();
        let name = cells::text(cell(&r, 1)).unwrap_or_default();
        let object_type = cells::text(cell(&r, 2)).unwrap_or_default();
        let top = if object_type == "VIEW" {
            ti_shared::bundle::layout::VIEWS
        } else {
            ti_shared::bundle::layout::TABLES
        };
        let folder = format!(
            "{top}/{}",
            ti_shared::bundle::encode_object_name(&format!("{schema}.{name}"))
        );
        objects.push(ObjectInfo {
            schema,
            name,
            object_type,
            folder,
            columns: Vec::new(),
            primary_key: Vec::new(),
            row_count: 0,
            extracted_rows: None,
        });
    }
    let find = |objects: &mut Vec<ObjectInfo>, s: &str, t: &str| {
        objects.iter().position(|o| o.schema == s && o.name == t)
    };
    for r in rows(client, queries::Q5_COLUMNS, "inventory: columns").await? {
        let (s, t) = (
            cells::text(cell(&r, 0)).unwrap_or_default(),
            cells::text(cell(&r, 1)).unwrap_or_default(),
        );
        let Some(i) = find(&mut objects, &s, &t) else {
            continue;
        };
        let data_type = cells::text(cell(&r, 4))
            .unwrap_or_default()
            .to_ascii_lowercase();
        let exact = matches!(
            data_type.as_str(),
            "decimal" | "numeric" | "money" | "smallmoney"
        );
        let timed = matches!(data_type.as_str(), "time" | "datetime2" | "datetimeoffset");
        let scale = if timed {
            cells::int(cell(&r, 8)).or_else(|| cells::int(cell(&r, 7)))
        } else if exact {
            cells::int(cell(&r, 7))
        } else {
            None
        };
        objects[i].columns.push(ColumnInfo {
            name: cells::text(cell(&r, 2)).unwrap_or_default(),
            max_length: cells::int(cell(&r, 5)),
            precision: if exact { cells::int(cell(&r, 6)) } else { None },
            scale,
            nullable: cells::text(cell(&r, 9)).is_some_and(|v| v.eq_ignore_ascii_case("YES")),
            collation: cells::text(cell(&r, 10)),
            data_type,
        });
    }
    for r in rows(client, queries::Q6_PRIMARY_KEYS, "inventory: primary keys").await? {
        let (s, t) = (
            cells::text(cell(&r, 0)).unwrap_or_default(),
            cells::text(cell(&r, 1)).unwrap_or_default(),
        );
        if let Some(i) = find(&mut objects, &s, &t) {
            objects[i]
                .primary_key
                .push(cells::text(cell(&r, 2)).unwrap_or_default());
        }
    }
    for o in &mut objects {
        let table = queries::table_ref(&o.schema, &o.name, nolock);
        let what = format!("inventory: row count of {}", o.full_name());
        let r = rows(client, &queries::q7_count(&table), &what).await?;
        o.row_count = r
            .first()
            .and_then(|r| cells::int(cell(r, 0)))
            .unwrap_or(0)
            .max(0) as u64;
    }
    Ok((Inventory { server, objects }, Snapshot { server_time: now }))
}

/// Reserved sibling suffixes (docs/bundle-format.md): a source column must not end with one.
pub const RESERVED_SUFFIXES: &[&str] = &["__blake3", "__bytes", "__raw", "__offset_minutes"];

/// Checks that no column name ends with a reserved suffix.
///
/// # Errors
/// [`ExtractError::Usage`] naming the first offending column.
pub fn check_reserved(inv: &Inventory) -> Result<(), ExtractError> {
    for o in &inv.objects {
        for c in &o.columns {
            if let Some(s) = RESERVED_SUFFIXES.iter().find(|s| c.name.ends_with(*s)) {
                return Err(ExtractError::Usage(format!(
                    "{}.{} ends with the reserved suffix {s} (docs/bundle-format.md); the extract cannot represent it",
                    o.full_name(),
                    c.name
                )));
            }
        }
    }
    Ok(())
}
