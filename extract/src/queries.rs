//! Every SQL statement `ti-extract` sends, as templates (docs/extract-queries.md, Q1–Q13). Nothing else in the
//! crate builds SQL text. The forms run on SQL Server 2008 R2 and later: keyset pagination with `TOP (@P1)`,
//! no `OFFSET … FETCH`, no `STRING_AGG`, no `TRY_CONVERT`, no `CONCAT`. Identifiers are bracket-quoted with `]`
//! doubled; values, and numbers that shape a query, are `@Pn` parameters sent through `sp_executesql`.
//!
//! Read-only by construction: the only statements are `SET` options (Q1) and `SELECT`s.

use crate::inventory::ColumnInfo;
use crate::types::{ColKind, kind_of};

/// Q1: session options, sent once per connection as a batch.
pub const Q1_SESSION: &str =
    "SET NOCOUNT ON; SET TEXTSIZE 2147483647; SET TRANSACTION ISOLATION LEVEL READ COMMITTED";

/// Q2: server facts (one row).
pub const Q2_SERVER: &str = "SELECT @@VERSION AS [version], DB_NAME() AS [database_name], \
CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128)) AS [product_version], \
CAST(SERVERPROPERTY('Collation') AS nvarchar(128)) AS [collation], SYSDATETIMEOFFSET() AS [now]";

/// Q14: the server's own name (`run` only): the identity of the source recorded in the resume state, so that a
/// `--resume` against another server is refused whatever address reached it.
pub const Q14_SERVER_NAME: &str = "SELECT @@SERVERNAME AS [server_name]";

/// Q3: the server's time zone (SQL Server 2019+; error 195 on older servers, recorded as unknown).
pub const Q3_TIME_ZONE: &str = "SELECT CURRENT_TIMEZONE() AS [time_zone]";

/// Q4: tables and views.
pub const Q4_OBJECTS: &str = "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE FROM INFORMATION_SCHEMA.TABLES ORDER BY TABLE_SCHEMA, TABLE_NAME";

/// Q5: columns of every table and view.
pub const Q5_COLUMNS: &str = "SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, DATA_TYPE, \
CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION, IS_NULLABLE, COLLATION_NAME \
FROM INFORMATION_SCHEMA.COLUMNS ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION";

/// Q6: primary-key columns in key order.
pub const Q6_PRIMARY_KEYS: &str = "SELECT kcu.TABLE_SCHEMA, kcu.TABLE_NAME, kcu.COLUMN_NAME, kcu.ORDINAL_POSITION \
FROM INFORMATION_SCHEMA.TABLE_CONSTRAINTS AS tc JOIN INFORMATION_SCHEMA.KEY_COLUMN_USAGE AS kcu \
ON tc.CONSTRAINT_NAME = kcu.CONSTRAINT_NAME AND tc.TABLE_SCHEMA = kcu.TABLE_SCHEMA AND tc.TABLE_NAME = kcu.TABLE_NAME \
WHERE tc.CONSTRAINT_TYPE = 'PRIMARY KEY' ORDER BY kcu.TABLE_SCHEMA, kcu.TABLE_NAME, kcu.ORDINAL_POSITION";

/// A bracket-quoted identifier: `[name]` with every `]` doubled.
pub fn ident(name: &str) -> String {
    format!("[{}]", name.replace(']', "]]"))
}

/// `[schema].[object]`, followed by ` WITH (NOLOCK)` when `nolock` (config `isolation = "nolock"`).
pub fn table_ref(schema: &str, object: &str, nolock: bool) -> String {
    let hint = if nolock { " WITH (NOLOCK)" } else { "" };
    format!("{}.{}{hint}", ident(schema), ident(object))
}

/// Q7: row count of one object.
pub fn q7_count(table: &str) -> String {
    format!("SELECT COUNT_BIG(*) AS [rows] FROM {table}")
}

/// How one non-LOB cell is selected: character types cast to `varbinary` (decoded by the extractor), money
/// to `decimal(19,4)` (tiberius reads money as f64), anything else as it is. A character column that is not a LOB
/// holds at most 8,000 bytes (`varchar(n)`/`char(n)`: n ≤ 8,000 bytes; `nvarchar(n)`/`nchar(n)`: n ≤ 4,000
/// characters of 2 bytes), so `varbinary(8000)` never truncates, and it travels as a plain length-prefixed value
/// instead of a chunked `(max)` one (cheaper for server, wire and client alike).
pub fn cell_expr(col: &ColumnInfo) -> String {
    let c = ident(&col.name);
    match kind_of(col) {
        ColKind::Text { .. } if col.is_lob() => format!("CAST({c} AS varbinary(max))"),
        ColKind::Text { .. } => format!("CAST({c} AS varbinary(8000))"),
        ColKind::Decimal { money: true, .. } => format!("CAST({c} AS decimal(19,4))"),
        _ => c,
    }
}

/// One column of a row address (the primary key): its name and whether it is compared by its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCol {
    /// Column name.
    pub name: String,
    /// Character key: the value travels as the `varbinary` the select list read, and the predicate compares
    /// `CAST(col AS varbinary(max))`, exact whatever the collation (never a lossy round trip through text).
    pub binary: bool,
}

impl KeyCol {
    /// The address column for `col`.
    pub fn of(col: &ColumnInfo) -> KeyCol {
        KeyCol {
            name: col.name.clone(),
            binary: matches!(kind_of(col), ColKind::Text { .. }),
        }
    }
}

/// `WHERE` body addressing one row by its key columns, parameters `@P<first>`… in key order:
/// `[k1] = @P1 AND CAST([k2] AS varbinary(max)) = @P2`.
pub fn row_address(keys: &[KeyCol], first: usize) -> String {
    keys.iter()
        .enumerate()
        .map(|(i, k)| {
            let c = ident(&k.name);
            let lhs = if k.binary {
                format!("CAST({c} AS varbinary(max))")
            } else {
                c
            };
            format!("{lhs} = @P{}", first + i)
        })
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// The `<select list>` of Q8–Q10: one item per source column in ordinal order, aliased to its name; character
/// types cast to `varbinary(max)`, money to `decimal(19,4)`, LOB types followed by `DATALENGTH(..) AS [c__bytes]`
/// and nulled above the in-row threshold, which is parameter `@P<threshold_param>`.
pub fn select_list(columns: &[ColumnInfo], threshold_param: usize) -> String {
    let mut items = Vec::with_capacity(columns.len());
    for col in columns {
        let c = ident(&col.name);
        let kind = kind_of(col);
        let cell = cell_expr(col);
        if col.is_lob() {
            let bin = if matches!(kind, ColKind::Binary) {
                c.clone()
            } else {
                format!("CAST({c} AS varbinary(max))")
            };
            items.push(format!(
                "CASE WHEN DATALENGTH({c}) > @P{threshold_param} THEN NULL ELSE {bin} END AS {c}"
            ));
            items.push(format!(
                "DATALENGTH({c}) AS {}",
                ident(&format!("{}__bytes", col.name))
            ));
        } else {
            items.push(format!("{cell} AS {c}"));
        }
    }
    items.join(", ")
}

/// The expression a keyset page orders and compares key column `k` by: the column itself (integer and binary
/// keys, compared with a parameter of the value's own type), or `CAST([k] AS varbinary(8000))` for a character
/// key. Bytes, not the collation: the value travels back as exactly the `varbinary` the select list read (never
/// a lossy round trip through text, and no code page or Unicode-versus-SQL sort-order question), and a primary
/// key's values are distinct under its collation, so they are distinct as bytes too. The price: SQL Server
/// cannot seek the key's index on the cast, so each page of a character-keyed table sorts the rows after the
/// cursor (Track-It!'s character keys are on small lookup tables).
pub fn key_expr(k: &KeyCol) -> String {
    let c = ident(&k.name);
    if k.binary {
        format!("CAST({c} AS varbinary(8000))")
    } else {
        c
    }
}

/// `ORDER BY` list of a keyset read: [`key_expr`] of every key column, in key order.
pub fn key_order(keys: &[KeyCol]) -> String {
    keys.iter().map(key_expr).collect::<Vec<_>>().join(", ")
}

/// The keyset predicate "the row comes after the cursor" on the whole key, parameters `@P<first>`… in key order.
/// SQL Server 2008 R2 has no row-value comparison, so the tuple order is spelled out: one key column gives
/// `e1 > @P2`; two give `(e1 > @P2) OR (e1 = @P2 AND e2 > @P3)`; n give n such terms.
pub fn keyset_after(keys: &[KeyCol], first: usize) -> String {
    if keys.len() == 1 {
        return format!("{} > @P{first}", key_expr(&keys[0]));
    }
    (0..keys.len())
        .map(|i| {
            let mut terms: Vec<String> = (0..i)
                .map(|j| format!("{} = @P{}", key_expr(&keys[j]), first + j))
                .collect();
            terms.push(format!("{} > @P{}", key_expr(&keys[i]), first + i));
            format!("({})", terms.join(" AND "))
        })
        .collect::<Vec<_>>()
        .join(" OR ")
}

/// Q8: the first keyset page (`@P1` = rows; the select list's threshold is `@P2`).
pub fn q8_first_page(list: &str, table: &str, keys: &[KeyCol]) -> String {
    format!(
        "SELECT TOP (@P1) {list} FROM {table} ORDER BY {}",
        key_order(keys)
    )
}

/// Q9: the next keyset page (`@P1` = rows, `@P2`…`@P<n+1>` = the last key tuple read, see [`keyset_after`]; the
/// select list's threshold is `@P<n+2>`).
pub fn q9_next_page(list: &str, table: &str, keys: &[KeyCol]) -> String {
    format!(
        "SELECT TOP (@P1) {list} FROM {table} WHERE {} ORDER BY {}",
        keyset_after(keys, 2),
        key_order(keys)
    )
}

/// Q10: one ordered scan (no key, a view, or a primary key with a column that is not keyset-paged, see
/// `dump::plan`; the select list's threshold is `@P1`). With no
/// orderable column the `ORDER BY` is left out.
pub fn q10_scan(list: &str, table: &str, order: &[String]) -> String {
    if order.is_empty() {
        format!("SELECT {list} FROM {table}")
    } else {
        let cols: Vec<String> = order.iter().map(|c| ident(c)).collect();
        format!("SELECT {list} FROM {table} ORDER BY {}", cols.join(", "))
    }
}

/// Q11: the length in bytes of one LOB cell (`@P1`… = the row's key values, see [`row_address`]).
pub fn q11_lob_length(table: &str, column: &str, keys: &[KeyCol]) -> String {
    format!(
        "SELECT DATALENGTH({}) AS [len] FROM {table} WHERE {}",
        ident(column),
        row_address(keys, 1)
    )
}

/// Q12: one window of a LOB cell (`@P1`…`@Pn` = key values, `@Pn+1` = 1-based byte offset, `@Pn+2` = length
/// in bytes; with one key column: `@P1` key, `@P2` offset, `@P3` length).
pub fn q12_lob_window(table: &str, column: &str, keys: &[KeyCol]) -> String {
    let n = keys.len();
    format!(
        "SELECT SUBSTRING(CAST({} AS varbinary(max)), @P{}, @P{}) AS [chunk] FROM {table} WHERE {}",
        ident(column),
        n + 1,
        n + 2,
        row_address(keys, 1)
    )
}

/// Q13: the rows of a table read by an ordered scan on its primary key (a key with a column of a type keyset
/// pages do not compare: uniqueidentifier, date/time, decimal…) holding at least one LOB cell over the in-row threshold (`@P1`): their key values (as the
/// scan's select list reads them) and the `DATALENGTH` of every LOB column, in key order. Runs before the scan
/// (Q10), so the large cells can be read in windows (Q11, Q12) while the connection is free.
pub fn q13_large_cells(table: &str, keys: &[&ColumnInfo], lobs: &[&ColumnInfo]) -> String {
    let mut items: Vec<String> = keys
        .iter()
        .map(|k| format!("{} AS {}", cell_expr(k), ident(&k.name)))
        .collect();
    items.extend(lobs.iter().map(|l| {
        format!(
            "DATALENGTH({}) AS {}",
            ident(&l.name),
            ident(&format!("{}__bytes", l.name))
        )
    }));
    let cond: Vec<String> = lobs
        .iter()
        .map(|l| format!("DATALENGTH({}) > @P1", ident(&l.name)))
        .collect();
    let order: Vec<String> = keys.iter().map(|k| ident(&k.name)).collect();
    format!(
        "SELECT {} FROM {table} WHERE {} ORDER BY {}",
        items.join(", "),
        cond.join(" OR "),
        order.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composite_and_character_keys_address_a_row_exactly() {
        let keys = [col("WOID", "int", None), col("Code", "varchar", Some(20))];
        let lob = col("Body", "image", Some(2_147_483_647));
        let addr: Vec<KeyCol> = keys.iter().map(KeyCol::of).collect();
        assert_eq!(
            q11_lob_length("[dbo].[N]", "Body", &addr),
            "SELECT DATALENGTH([Body]) AS [len] FROM [dbo].[N] WHERE [WOID] = @P1 AND CAST([Code] AS varbinary(max)) = @P2"
        );
        assert_eq!(
            q12_lob_window("[dbo].[N]", "Body", &addr),
            "SELECT SUBSTRING(CAST([Body] AS varbinary(max)), @P3, @P4) AS [chunk] FROM [dbo].[N] \
WHERE [WOID] = @P1 AND CAST([Code] AS varbinary(max)) = @P2"
        );
        assert_eq!(
            q13_large_cells("[dbo].[N]", &[&keys[0], &keys[1]], &[&lob]),
            "SELECT [WOID] AS [WOID], CAST([Code] AS varbinary(8000)) AS [Code], DATALENGTH([Body]) AS [Body__bytes] \
FROM [dbo].[N] WHERE DATALENGTH([Body]) > @P1 ORDER BY [WOID], [Code]"
        );
    }

    #[test]
    fn composite_keyset_pages_spell_out_the_tuple_order() {
        let keys = [
            KeyCol::of(&col("WOID", "int", None)),
            KeyCol::of(&col("Code", "varchar", Some(20))),
            KeyCol::of(&col("Seq", "smallint", None)),
        ];
        assert_eq!(
            q8_first_page("x", "[dbo].[L]", &keys),
            "SELECT TOP (@P1) x FROM [dbo].[L] ORDER BY [WOID], CAST([Code] AS varbinary(8000)), [Seq]"
        );
        assert_eq!(
            q9_next_page("x", "[dbo].[L]", &keys),
            "SELECT TOP (@P1) x FROM [dbo].[L] WHERE ([WOID] > @P2) \
OR ([WOID] = @P2 AND CAST([Code] AS varbinary(8000)) > @P3) \
OR ([WOID] = @P2 AND CAST([Code] AS varbinary(8000)) = @P3 AND [Seq] > @P4) \
ORDER BY [WOID], CAST([Code] AS varbinary(8000)), [Seq]"
        );
        assert_eq!(
            keyset_after(&keys[1..2], 2),
            "CAST([Code] AS varbinary(8000)) > @P2"
        );
    }

    fn col(name: &str, ty: &str, len: Option<i64>) -> ColumnInfo {
        ColumnInfo {
            name: name.into(),
            data_type: ty.into(),
            max_length: len,
            precision: None,
            scale: None,
            nullable: true,
            collation: None,
        }
    }

    #[test]
    fn identifiers_are_bracketed_and_escaped() {
        assert_eq!(ident("a]b"), "[a]]b]");
        assert_eq!(
            table_ref("_SMDBA_", "Ticket Notes", true),
            "[_SMDBA_].[Ticket Notes] WITH (NOLOCK)"
        );
    }

    #[test]
    fn select_list_casts_text_money_and_guards_lobs() {
        let cols = vec![
            col("WOID", "int", None),
            col("TASK", "varchar", Some(100)),
            col("Cost", "money", None),
            col("NOTE", "text", Some(2_147_483_647)),
        ];
        let list = select_list(&cols, 3);
        assert_eq!(
            list,
            "[WOID] AS [WOID], CAST([TASK] AS varbinary(8000)) AS [TASK], CAST([Cost] AS decimal(19,4)) AS [Cost], \
CASE WHEN DATALENGTH([NOTE]) > @P3 THEN NULL ELSE CAST([NOTE] AS varbinary(max)) END AS [NOTE], \
DATALENGTH([NOTE]) AS [NOTE__bytes]"
        );
        let single = [KeyCol::of(&cols[0])];
        assert_eq!(
            q12_lob_window("[dbo].[T]", "NOTE", &single),
            "SELECT SUBSTRING(CAST([NOTE] AS varbinary(max)), @P2, @P3) AS [chunk] FROM [dbo].[T] WHERE [WOID] = @P1"
        );
        let q = q9_next_page("x", "[dbo].[TASKS]", &single);
        assert_eq!(
            q,
            "SELECT TOP (@P1) x FROM [dbo].[TASKS] WHERE [WOID] > @P2 ORDER BY [WOID]"
        );
    }
}
