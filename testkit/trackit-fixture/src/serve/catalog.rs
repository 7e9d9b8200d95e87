//! The served database's catalog: `_ti_database`, `_ti_objects`, `_ti_columns` (FORMAT.md §2), and the
//! INFORMATION_SCHEMA views emulated over them.

use super::types::{Collation, Len, SqlType};
use rusqlite::Connection;
use std::collections::HashMap;

/// Facts from `_ti_database`.
#[derive(Debug, Clone)]
pub struct DbFacts {
    /// DB_NAME().
    pub name: String,
    /// Database default collation name.
    pub collation_name: String,
    /// @@VERSION text.
    pub server_version: String,
    /// SERVERPROPERTY('ProductVersion').
    pub product_version: String,
    /// CURRENT_TIMEZONE() text; None = pre-2019 server (error 195).
    pub time_zone: Option<String>,
    /// Offset SYSDATETIMEOFFSET() reports, in minutes.
    pub utc_offset_minutes: i32,
}

/// A column of a served object.
#[derive(Debug, Clone)]
pub struct CatColumn {
    /// Column name as in SQL Server.
    pub name: String,
    /// Its type.
    pub ty: SqlType,
    /// Nullability.
    pub nullable: bool,
}

/// A served table or view.
#[derive(Debug, Clone)]
pub struct Object {
    /// Schema name.
    pub schema: String,
    /// Object name.
    pub name: String,
    /// Columns in ordinal order.
    pub columns: Vec<CatColumn>,
}

/// The whole catalog, read once at start.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// Database facts.
    pub facts: DbFacts,
    /// Default collation.
    pub collation: Collation,
    /// Objects by lower-cased `schema.object`.
    pub objects: HashMap<String, Object>,
}

/// A catalog that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// SQLite error (missing catalog tables, ...).
    #[error("reading the catalog: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Bad catalog content.
    #[error("catalog: {0}")]
    Invalid(String),
}

impl Catalog {
    /// Reads the catalog tables.
    ///
    /// # Errors
    /// Missing tables, no `_ti_database` row, unknown data types.
    pub fn load(conn: &Connection) -> Result<Catalog, CatalogError> {
        let facts = conn.query_row(
            "SELECT database_name, collation_name, server_version, product_version, time_zone, utc_offset_minutes \
             FROM _ti_database",
            [],
            |r| {
                Ok(DbFacts {
                    name: r.get(0)?,
                    collation_name: r.get(1)?,
                    server_version: r.get(2)?,
                    product_version: r.get(3)?,
                    time_zone: r.get(4)?,
                    utc_offset_minutes: r.get(5)?,
                })
            },
        )?;
        let collation = Collation::from_name(&facts.collation_name);
        let mut objects = HashMap::new();
        let mut st = conn.prepare("SELECT schema_name, object_name FROM _ti_objects")?;
        let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for r in rows {
            let (schema, name) = r?;
            objects.insert(
                key(&schema, &name),
                Object {
                    schema,
                    name,
                    columns: Vec::new(),
                },
            );
        }
        let mut st = conn.prepare(
            "SELECT schema_name, object_name, column_name, data_type, max_length, precision, scale, is_nullable, \
             collation_name FROM _ti_columns ORDER BY schema_name, object_name, ordinal",
        )?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            let (s, o, c, dt): (String, String, String, String) =
                (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
            let coll = r
                .get::<_, Option<String>>(8)?
                .map_or(collation, |n| Collation::from_name(&n));
            let ty = SqlType::from_catalog(&dt, r.get(4)?, r.get(5)?, r.get(6)?, coll).ok_or_else(
                || CatalogError::Invalid(format!("{s}.{o}.{c}: unknown data_type '{dt}'")),
            )?;
            let obj = objects.get_mut(&key(&s, &o)).ok_or_else(|| {
                CatalogError::Invalid(format!("_ti_columns names unknown object {s}.{o}"))
            })?;
            obj.columns.push(CatColumn {
                name: c,
                ty,
                nullable: r.get::<_, i64>(7)? != 0,
            });
        }
        Ok(Catalog {
            facts,
            collation,
            objects,
        })
    }

    /// Looks an object up (case-insensitively, like a CI collation).
    pub fn object(&self, schema: &str, name: &str) -> Option<&Object> {
        self.objects.get(&key(schema, name))
    }
}

fn key(s: &str, o: &str) -> String {
    format!("{}.{}", s.to_lowercase(), o.to_lowercase())
}

/// An INFORMATION_SCHEMA view: the SQLite subquery that computes it and its columns.
pub struct InfoView {
    /// SQLite `SELECT` over the catalog tables.
    pub sql: String,
    /// Columns with their SQL Server types.
    pub columns: Vec<CatColumn>,
}

/// The INFORMATION_SCHEMA view of this name (TABLES, COLUMNS, TABLE_CONSTRAINTS, KEY_COLUMN_USAGE).
pub fn info_view(name: &str, cat: &Catalog) -> Option<InfoView> {
    let sysname = SqlType::NVarChar(Len::N(128), cat.collation);
    let vc = |n: u16| SqlType::VarChar(Len::N(n), cat.collation);
    let col = |name: &str, ty: SqlType, nullable: bool| CatColumn {
        name: name.into(),
        ty,
        nullable,
    };
    let db = sql_str(&cat.facts.name);
    let dcoll = sql_str(&cat.facts.collation_name);
    let (sql, columns) = match name.to_ascii_uppercase().as_str() {
        "TABLES" => (
            format!(
                "SELECT {db} AS TABLE_CATALOG, schema_name AS TABLE_SCHEMA, object_name AS TABLE_NAME, \
                 object_type AS TABLE_TYPE FROM _ti_objects"
            ),
            vec![
                col("TABLE_CATALOG", sysname, true),
                col("TABLE_SCHEMA", sysname, true),
                col("TABLE_NAME", sysname, false),
                col("TABLE_TYPE", vc(10), true),
            ],
        ),
        "COLUMNS" => (
            format!(
                "SELECT {db} AS TABLE_CATALOG, schema_name AS TABLE_SCHEMA, object_name AS TABLE_NAME, \
                 column_name AS COLUMN_NAME, ordinal AS ORDINAL_POSITION, NULL AS COLUMN_DEFAULT, \
                 CASE WHEN is_nullable THEN 'YES' ELSE 'NO' END AS IS_NULLABLE, data_type AS DATA_TYPE, \
                 CASE WHEN data_type IN ('char','varchar','nchar','nvarchar','binary','varbinary','text','ntext','image','xml') \
                   THEN COALESCE(max_length, CASE data_type WHEN 'xml' THEN -1 WHEN 'text' THEN 2147483647 \
                   WHEN 'image' THEN 2147483647 WHEN 'ntext' THEN 1073741823 END) END AS CHARACTER_MAXIMUM_LENGTH, \
                 CASE WHEN max_length = -1 THEN -1 WHEN data_type IN ('nchar','nvarchar') THEN max_length * 2 \
                   WHEN data_type = 'ntext' THEN 2147483646 WHEN data_type IN ('text','image') THEN 2147483647 \
                   WHEN data_type = 'xml' THEN -1 \
                   WHEN data_type IN ('char','varchar','binary','varbinary') THEN max_length END AS CHARACTER_OCTET_LENGTH, \
                 CASE data_type WHEN 'tinyint' THEN 3 WHEN 'smallint' THEN 5 WHEN 'int' THEN 10 WHEN 'bigint' THEN 19 \
                   WHEN 'real' THEN 24 WHEN 'float' THEN 53 WHEN 'money' THEN 19 WHEN 'smallmoney' THEN 10 \
                   WHEN 'decimal' THEN precision WHEN 'numeric' THEN precision END AS NUMERIC_PRECISION, \
                 CASE WHEN data_type IN ('tinyint','smallint','int','bigint','money','smallmoney','decimal','numeric') \
                   THEN 10 WHEN data_type IN ('real','float') THEN 2 END AS NUMERIC_PRECISION_RADIX, \
                 CASE WHEN data_type IN ('tinyint','smallint','int','bigint') THEN 0 \
                   WHEN data_type IN ('money','smallmoney') THEN 4 \
                   WHEN data_type IN ('decimal','numeric') THEN scale END AS NUMERIC_SCALE, \
                 CASE data_type WHEN 'datetime' THEN 3 WHEN 'smalldatetime' THEN 0 WHEN 'date' THEN 0 \
                   WHEN 'time' THEN COALESCE(scale, 7) WHEN 'datetime2' THEN COALESCE(scale, 7) \
                   WHEN 'datetimeoffset' THEN COALESCE(scale, 7) END AS DATETIME_PRECISION, \
                 CASE WHEN data_type IN ('char','varchar','text') THEN 'iso_1' \
                   WHEN data_type IN ('nchar','nvarchar','ntext') THEN 'UNICODE' END AS CHARACTER_SET_NAME, \
                 CASE WHEN data_type IN ('char','varchar','text','nchar','nvarchar','ntext') \
                   THEN COALESCE(collation_name, {dcoll}) END AS COLLATION_NAME \
                 FROM _ti_columns"
            ),
            vec![
                col("TABLE_CATALOG", sysname, true),
                col("TABLE_SCHEMA", sysname, true),
                col("TABLE_NAME", sysname, false),
                col("COLUMN_NAME", sysname, true),
                col("ORDINAL_POSITION", SqlType::Int, true),
                col(
                    "COLUMN_DEFAULT",
                    SqlType::NVarChar(Len::N(4000), cat.collation),
                    true,
                ),
                col("IS_NULLABLE", vc(3), true),
                col("DATA_TYPE", sysname, true),
                col("CHARACTER_MAXIMUM_LENGTH", SqlType::Int, true),
                col("CHARACTER_OCTET_LENGTH", SqlType::Int, true),
                col("NUMERIC_PRECISION", SqlType::TinyInt, true),
                col("NUMERIC_PRECISION_RADIX", SqlType::SmallInt, true),
                col("NUMERIC_SCALE", SqlType::Int, true),
                col("DATETIME_PRECISION", SqlType::SmallInt, true),
                col("CHARACTER_SET_NAME", sysname, true),
                col("COLLATION_NAME", sysname, true),
            ],
        ),
        "TABLE_CONSTRAINTS" => (
            format!(
                "SELECT DISTINCT {db} AS CONSTRAINT_CATALOG, schema_name AS CONSTRAINT_SCHEMA, \
                 'PK_' || object_name AS CONSTRAINT_NAME, {db} AS TABLE_CATALOG, schema_name AS TABLE_SCHEMA, \
                 object_name AS TABLE_NAME, 'PRIMARY KEY' AS CONSTRAINT_TYPE, 'NO' AS IS_DEFERRABLE, \
                 'NO' AS INITIALLY_DEFERRED FROM _ti_columns WHERE pk_ordinal IS NOT NULL"
            ),
            vec![
                col("CONSTRAINT_CATALOG", sysname, true),
                col("CONSTRAINT_SCHEMA", sysname, true),
                col("CONSTRAINT_NAME", sysname, false),
                col("TABLE_CATALOG", sysname, true),
                col("TABLE_SCHEMA", sysname, true),
                col("TABLE_NAME", sysname, false),
                col("CONSTRAINT_TYPE", vc(11), true),
                col("IS_DEFERRABLE", vc(2), false),
                col("INITIALLY_DEFERRED", vc(2), false),
            ],
        ),
        "KEY_COLUMN_USAGE" => (
            format!(
                "SELECT {db} AS CONSTRAINT_CATALOG, schema_name AS CONSTRAINT_SCHEMA, \
                 'PK_' || object_name AS CONSTRAINT_NAME, {db} AS TABLE_CATALOG, schema_name AS TABLE_SCHEMA, \
                 object_name AS TABLE_NAME, column_name AS COLUMN_NAME, pk_ordinal AS ORDINAL_POSITION \
                 FROM _ti_columns WHERE pk_ordinal IS NOT NULL"
            ),
            vec![
                col("CONSTRAINT_CATALOG", sysname, true),
                col("CONSTRAINT_SCHEMA", sysname, true),
                col("CONSTRAINT_NAME", sysname, false),
                col("TABLE_CATALOG", sysname, true),
                col("TABLE_SCHEMA", sysname, true),
                col("TABLE_NAME", sysname, false),
                col("COLUMN_NAME", sysname, true),
                col("ORDINAL_POSITION", SqlType::Int, false),
            ],
        ),
        _ => return None,
    };
    Some(InfoView { sql, columns })
}

/// A SQLite string literal.
pub fn sql_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A SQLite quoted identifier.
pub fn sql_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}
