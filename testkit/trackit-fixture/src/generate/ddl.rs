//! SQL Server DDL as data: table and view definitions, their SQLite tables and catalog rows (FORMAT.md §1–2),
//! and a typed insert helper that stores values by the rules of FORMAT.md §3.

use super::GenError;
use super::text::{cp1252_lossy, truncate_chars};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, Statement, ToSql};

/// The database default collation written to `_ti_database` (Windows-1252 code page).
pub const DEFAULT_COLLATION: &str = "SQL_Latin1_General_CP1_CI_AS";

/// One column of a table or view, as SQL Server DDL declares it.
#[derive(Debug, Clone)]
pub struct ColDef {
    /// Column name, verbatim.
    pub name: String,
    /// Declared SQL Server type, e.g. `varchar(50)`, `decimal(19,4)`, `datetimeoffset(7)`.
    pub ty: String,
    /// Whether the column accepts NULL.
    pub nullable: bool,
    /// 1-based position in the primary key.
    pub pk: Option<u32>,
    /// Column collation; `None` = database default.
    pub collation: Option<String>,
}

/// Shorthand for a nullable column.
pub fn col(name: &str, ty: &str) -> ColDef {
    ColDef {
        name: name.into(),
        ty: ty.into(),
        nullable: true,
        pk: None,
        collation: None,
    }
}

/// Shorthand for a NOT NULL column.
pub fn nn(name: &str, ty: &str) -> ColDef {
    ColDef {
        nullable: false,
        ..col(name, ty)
    }
}

/// Shorthand for a NOT NULL primary-key column at key position `pos`.
pub fn pk(name: &str, ty: &str, pos: u32) -> ColDef {
    ColDef {
        pk: Some(pos),
        ..nn(name, ty)
    }
}

/// A table or view definition.
#[derive(Debug, Clone)]
pub struct TableDef {
    /// SQL Server schema, e.g. `dbo`.
    pub schema: String,
    /// Object name, e.g. `TASKS` or `Ticket Notes`.
    pub name: String,
    /// Columns in ordinal order.
    pub cols: Vec<ColDef>,
}

impl TableDef {
    /// New definition.
    pub fn new(schema: &str, name: &str, cols: Vec<ColDef>) -> Self {
        Self {
            schema: schema.into(),
            name: name.into(),
            cols,
        }
    }

    /// The SQLite object name `schema.object`, quoted.
    pub fn sqlite_name(&self) -> String {
        quote(&format!("{}.{}", self.schema, self.name))
    }
}

/// Quotes an SQLite identifier.
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Turns `varchar(n)` into `nvarchar(n)` and `text` into `ntext` (the `--text nvarchar` build switch).
pub fn widen_type(ty: &str) -> String {
    if let Some(rest) = ty.strip_prefix("varchar") {
        format!("nvarchar{rest}")
    } else if ty == "text" {
        "ntext".into()
    } else {
        ty.into()
    }
}

/// The parts of a declared type that `_ti_columns` records.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeInfo {
    /// Lower-case base type name.
    pub data_type: String,
    /// CHARACTER_MAXIMUM_LENGTH.
    pub max_length: Option<i64>,
    /// decimal/numeric precision.
    pub precision: Option<i64>,
    /// decimal/numeric scale or fractional-second digits.
    pub scale: Option<i64>,
}

/// Parses a declared SQL Server type.
pub fn type_info(ty: &str) -> TypeInfo {
    let lower = ty.to_ascii_lowercase();
    let (base, args) = match lower.split_once('(') {
        Some((b, a)) => (
            b.trim().to_string(),
            Some(a.trim_end_matches(')').to_string()),
        ),
        None => (lower.trim().to_string(), None),
    };
    let nums: Vec<Option<i64>> = args
        .as_deref()
        .map(|a| {
            a.split(',')
                .map(|p| {
                    if p.trim() == "max" {
                        Some(-1)
                    } else {
                        p.trim().parse().ok()
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let first = nums.first().copied().flatten();
    let mut info = TypeInfo {
        data_type: base.clone(),
        max_length: None,
        precision: None,
        scale: None,
    };
    match base.as_str() {
        "char" | "varchar" | "nchar" | "nvarchar" | "binary" | "varbinary" => {
            info.max_length = first.or(Some(1))
        }
        "text" | "image" => info.max_length = Some(2_147_483_647),
        "ntext" => info.max_length = Some(1_073_741_823),
        "decimal" | "numeric" => {
            info.precision = first.or(Some(18));
            info.scale = nums.get(1).copied().flatten().or(Some(0));
        }
        "time" | "datetime2" | "datetimeoffset" => info.scale = first.or(Some(7)),
        _ => {}
    }
    info
}

fn is_char_type(dt: &str) -> bool {
    matches!(
        dt,
        "char" | "varchar" | "text" | "nchar" | "nvarchar" | "ntext" | "xml"
    )
}

/// Creates the catalog tables of FORMAT.md §2 and the `_ti_database` row.
pub fn create_catalog(
    conn: &Connection,
    database_name: &str,
    server_version: &str,
    product_version: &str,
    time_zone: Option<&str>,
    utc_offset_minutes: i64,
) -> Result<(), GenError> {
    conn.execute_batch(
        "CREATE TABLE _ti_database (database_name TEXT NOT NULL, collation_name TEXT NOT NULL, \
           server_version TEXT NOT NULL, product_version TEXT NOT NULL, time_zone TEXT, \
           utc_offset_minutes INTEGER NOT NULL);
         CREATE TABLE _ti_objects (schema_name TEXT NOT NULL, object_name TEXT NOT NULL, object_type TEXT NOT NULL, \
           PRIMARY KEY (schema_name, object_name));
         CREATE TABLE _ti_columns (schema_name TEXT NOT NULL, object_name TEXT NOT NULL, ordinal INTEGER NOT NULL, \
           column_name TEXT NOT NULL, data_type TEXT NOT NULL, max_length INTEGER, precision INTEGER, scale INTEGER, \
           is_nullable INTEGER NOT NULL, collation_name TEXT, pk_ordinal INTEGER, \
           PRIMARY KEY (schema_name, object_name, ordinal));",
    )?;
    conn.execute(
        "INSERT INTO _ti_database VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        rusqlite::params![
            database_name,
            DEFAULT_COLLATION,
            server_version,
            product_version,
            time_zone,
            utc_offset_minutes
        ],
    )?;
    Ok(())
}

fn write_catalog(conn: &Connection, def: &TableDef, object_type: &str) -> Result<(), GenError> {
    conn.execute(
        "INSERT INTO _ti_objects VALUES (?1, ?2, ?3)",
        rusqlite::params![def.schema, def.name, object_type],
    )?;
    let mut stmt =
        conn.prepare_cached("INSERT INTO _ti_columns VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)")?;
    for (i, c) in def.cols.iter().enumerate() {
        let info = type_info(&c.ty);
        let collation = if is_char_type(&info.data_type) {
            c.collation.clone()
        } else {
            None
        };
        stmt.execute(rusqlite::params![
            def.schema,
            def.name,
            (i + 1) as i64,
            c.name,
            info.data_type,
            info.max_length,
            info.precision,
            info.scale,
            c.nullable as i64,
            collation,
            c.pk.map(i64::from),
        ])?;
    }
    Ok(())
}

/// The SQLite declaration of a SQL Server type (FORMAT.md §5): the type as written, quoted when SQLite's
/// grammar needs it (`varbinary(max)`), and with ` TEXT` appended for decimal, numeric, money and smallmoney,
/// whose NUMERIC affinity would otherwise turn `'214748.3647'` into a lossy REAL.
pub fn sqlite_decl(ty: &str) -> String {
    let base = type_info(ty).data_type;
    if matches!(
        base.as_str(),
        "decimal" | "numeric" | "money" | "smallmoney"
    ) {
        format!("\"{ty} TEXT\"")
    } else if ty.contains('(') && ty.to_ascii_lowercase().contains("max") {
        format!("\"{ty}\"")
    } else {
        ty.to_string()
    }
}

/// Creates a base table (SQLite declared types = SQL Server types) and its catalog rows.
pub fn create_table(conn: &Connection, def: &TableDef) -> Result<(), GenError> {
    let mut parts: Vec<String> = def
        .cols
        .iter()
        .map(|c| {
            format!(
                "{} {}{}",
                quote(&c.name),
                sqlite_decl(&c.ty),
                if c.nullable { "" } else { " NOT NULL" }
            )
        })
        .collect();
    let mut keys: Vec<&ColDef> = def.cols.iter().filter(|c| c.pk.is_some()).collect();
    keys.sort_by_key(|c| c.pk);
    if !keys.is_empty() {
        let names: Vec<String> = keys.iter().map(|c| quote(&c.name)).collect();
        parts.push(format!("PRIMARY KEY ({})", names.join(", ")));
    }
    conn.execute_batch(&format!(
        "CREATE TABLE {} ({});",
        def.sqlite_name(),
        parts.join(", ")
    ))?;
    write_catalog(conn, def, "BASE TABLE")
}

/// Creates a view from its SELECT (whose result columns must be `def.cols`, in order) and its catalog rows.
pub fn create_view(conn: &Connection, def: &TableDef, select: &str) -> Result<(), GenError> {
    let names: Vec<String> = def.cols.iter().map(|c| quote(&c.name)).collect();
    conn.execute_batch(&format!(
        "CREATE VIEW {} ({}) AS {};",
        def.sqlite_name(),
        names.join(", "),
        select
    ))?;
    write_catalog(conn, def, "VIEW")
}

/// A value to insert. Text is fitted to the column (width, code page) by [`Inserter`].
#[derive(Debug, Clone, PartialEq)]
pub enum V {
    /// SQL NULL.
    Null,
    /// Integer (int family, bit).
    I(i64),
    /// Floating point (real, float).
    F(f64),
    /// Text (char family, decimal/money, dates, GUIDs).
    T(String),
    /// Raw bytes (binary family, or code-page / UTF-16LE bytes of a text column).
    B(Vec<u8>),
}

impl ToSql for V {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            V::Null => ValueRef::Null,
            V::I(i) => ValueRef::Integer(*i),
            V::F(f) => ValueRef::Real(*f),
            V::T(s) => ValueRef::Text(s.as_bytes()),
            V::B(b) => ValueRef::Blob(b),
        }))
    }
}

impl From<Option<String>> for V {
    fn from(v: Option<String>) -> Self {
        v.map_or(V::Null, V::T)
    }
}
impl From<&Option<String>> for V {
    fn from(v: &Option<String>) -> Self {
        v.clone().map_or(V::Null, V::T)
    }
}
impl From<&str> for V {
    fn from(v: &str) -> Self {
        V::T(v.into())
    }
}
impl From<String> for V {
    fn from(v: String) -> Self {
        V::T(v)
    }
}
impl From<i64> for V {
    fn from(v: i64) -> Self {
        V::I(v)
    }
}
impl From<Option<i64>> for V {
    fn from(v: Option<i64>) -> Self {
        v.map_or(V::Null, V::I)
    }
}
impl From<bool> for V {
    fn from(v: bool) -> Self {
        V::I(v as i64)
    }
}
impl From<Option<bool>> for V {
    fn from(v: Option<bool>) -> Self {
        v.map_or(V::Null, |b| V::I(b as i64))
    }
}
impl From<f64> for V {
    fn from(v: f64) -> Self {
        V::F(v)
    }
}
impl From<Option<f64>> for V {
    fn from(v: Option<f64>) -> Self {
        v.map_or(V::Null, V::F)
    }
}

#[derive(Debug, Clone, Copy)]
struct Fit {
    /// Maximum characters (None for text/ntext/(max)).
    max: Option<usize>,
    /// Single-byte code page column (char/varchar/text in a Windows-1252 collation).
    cp1252: bool,
}

/// A prepared INSERT for one table that fits text to the column the way SQL Server would have stored it:
/// truncated to the declared width and, in Windows-1252 columns, unrepresentable characters replaced by `?`.
pub struct Inserter<'c> {
    stmt: Statement<'c>,
    fits: Vec<Option<Fit>>,
    /// Rows inserted so far.
    pub rows: u64,
}

impl<'c> Inserter<'c> {
    /// Prepares the INSERT for `def`.
    pub fn new(conn: &'c Connection, def: &TableDef) -> Result<Self, GenError> {
        let marks: Vec<String> = (1..=def.cols.len()).map(|i| format!("?{i}")).collect();
        let stmt = conn.prepare(&format!(
            "INSERT INTO {} VALUES ({})",
            def.sqlite_name(),
            marks.join(",")
        ))?;
        let fits = def.cols.iter().map(fit_for).collect();
        Ok(Self {
            stmt,
            fits,
            rows: 0,
        })
    }

    /// Inserts one row (values in column order).
    pub fn insert(&mut self, mut row: Vec<V>) -> Result<(), GenError> {
        if row.len() != self.fits.len() {
            return Err(GenError::Internal(format!(
                "row has {} values, table {}",
                row.len(),
                self.fits.len()
            )));
        }
        for (v, fit) in row.iter_mut().zip(&self.fits) {
            if let (V::T(s), Some(f)) = (&mut *v, fit) {
                fit_text(s, f.max, f.cp1252);
            }
        }
        self.stmt.execute(rusqlite::params_from_iter(row.iter()))?;
        self.rows += 1;
        Ok(())
    }
}

fn fit_for(c: &ColDef) -> Option<Fit> {
    let info = type_info(&c.ty);
    let single = matches!(info.data_type.as_str(), "char" | "varchar" | "text");
    let wide = matches!(info.data_type.as_str(), "nchar" | "nvarchar" | "ntext");
    if !single && !wide {
        return None;
    }
    let utf8 = c
        .collation
        .as_deref()
        .is_some_and(|n| n.to_ascii_uppercase().contains("_UTF8"));
    let max = info
        .max_length
        .filter(|m| *m > 0 && *m < 1_073_741_823)
        .map(|m| m as usize);
    Some(Fit {
        max,
        cp1252: single && !utf8,
    })
}

/// Fits a text value in place: truncation to `max` characters, then the Windows-1252 `?` loss.
pub fn fit_text(s: &mut String, max: Option<usize>, cp1252: bool) {
    if let Some(m) = max {
        truncate_chars(s, m);
    }
    if cp1252 && let Some(lossy) = cp1252_lossy(s) {
        *s = lossy;
    }
}

/// Fits a text value to `varchar(max)`/`nvarchar(max)` style columns of the given text mode, returning it.
pub fn fitted(s: &str, max: usize, cp1252: bool) -> String {
    let mut s = s.to_string();
    fit_text(&mut s, Some(max), cp1252);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_types() {
        assert_eq!(type_info("varchar(50)").max_length, Some(50));
        assert_eq!(type_info("varbinary(max)").max_length, Some(-1));
        assert_eq!(type_info("ntext").max_length, Some(1_073_741_823));
        let d = type_info("decimal(38,38)");
        assert_eq!((d.precision, d.scale), (Some(38), Some(38)));
        assert_eq!(type_info("datetimeoffset(7)").scale, Some(7));
        assert_eq!(type_info("datetime").scale, None);
        assert_eq!(widen_type("varchar(30)"), "nvarchar(30)");
        assert_eq!(widen_type("text"), "ntext");
    }
}
