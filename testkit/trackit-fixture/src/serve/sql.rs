//! T-SQL batches → SQLite statements. Parsing uses sqlparser's `MsSqlDialect`; the translator walks the AST and
//! emits SQLite text for the supported subset only (docs/extract-queries.md plus simple SELECTs). Everything else
//! is an error numbered as SQL Server numbers it.

use super::catalog::{CatColumn, Catalog, info_view, sql_ident};
use super::rpc::Param;
use super::sqlexpr::nocase;
use super::types::{Column, Conv};
use sqlparser::ast::{
    Distinct, GroupByExpr, JoinConstraint, JoinOperator, ObjectName, OrderByKind, OrderBySort,
    Query, SelectItem, SelectItemQualifiedWildcardKind, SetExpr, Statement, TableFactor,
    TableWithJoins, TopQuantity,
};
use sqlparser::dialect::MsSqlDialect;
use sqlparser::parser::Parser;

/// A SQL Server-style error raised while translating or running a statement.
#[derive(Debug, Clone, thiserror::Error)]
#[error("Msg {number}, Level {class}: {message}")]
pub struct SqlError {
    /// Error number (208, 207, 102, ...).
    pub number: i32,
    /// Severity.
    pub class: u8,
    /// Message text as SQL Server words it.
    pub message: String,
}

impl SqlError {
    /// An error at severity 16.
    pub fn new(number: i32, message: String) -> SqlError {
        SqlError {
            number,
            class: 16,
            message,
        }
    }
    /// Error 102 naming the offending text.
    pub fn syntax(near: &str) -> SqlError {
        let near: String = near.chars().take(60).collect();
        SqlError::new(102, format!("Incorrect syntax near '{near}'."))
    }
    /// Error 174: wrong number of arguments.
    pub fn args(f: &str, n: usize) -> SqlError {
        SqlError::new(174, format!("The {f} function requires {n} argument(s)."))
    }
}

/// One translated statement of a batch.
#[derive(Debug, Clone)]
pub enum Stmt {
    /// `SET …`: accepted, no result. `nocount` is `Some` for SET NOCOUNT ON/OFF.
    Set {
        /// New NOCOUNT state, if this is SET NOCOUNT.
        nocount: Option<bool>,
    },
    /// A SELECT to run on SQLite.
    Select(Select),
}

/// A translated SELECT.
#[derive(Debug, Clone)]
pub struct Select {
    /// The SQLite statement (parameters stay `@P1…`).
    pub sql: String,
    /// Result columns with SQL Server types.
    pub columns: Vec<Column>,
    /// For each result column, the SQLite result column holding its value (several result columns converted from
    /// the same plain column, like a LOB cell and its `DATALENGTH`, read it once).
    pub sources: Vec<usize>,
    /// Objects read, as `schema.object` (for faults).
    pub tables: Vec<String>,
}

/// A FROM source visible to column resolution.
#[derive(Debug, Clone)]
pub struct Source {
    /// Alias (or object name) used to qualify columns.
    pub alias: String,
    /// Its columns.
    pub columns: Vec<CatColumn>,
    /// `(schema, object)` of a user table (None for INFORMATION_SCHEMA and derived tables).
    pub table: Option<(String, String)>,
}

/// Translation context of one SELECT.
pub struct Translator<'a> {
    /// Served catalog.
    pub cat: &'a Catalog,
    /// RPC parameters.
    pub params: &'a [Param],
    /// FROM sources in scope.
    pub sources: Vec<Source>,
    tables: Vec<String>,
    /// Top-level query: select-list items may leave their conversion to the row encoder (`cellconv`).
    direct: bool,
}

/// Splits a batch at `;` outside strings, brackets, quoted identifiers and comments.
pub fn split_batch(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' | '[' => {
                let close = if c == '[' { ']' } else { c };
                cur.push(c);
                while let Some(d) = chars.next() {
                    cur.push(d);
                    if d == close {
                        if chars.peek() == Some(&close) {
                            cur.push(chars.next().unwrap_or(close));
                        } else {
                            break;
                        }
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                for d in chars.by_ref() {
                    if d == '\n' {
                        cur.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut prev = ' ';
                for d in chars.by_ref() {
                    if prev == '*' && d == '/' {
                        break;
                    }
                    prev = d;
                }
                cur.push(' ');
            }
            ';' => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Translates one statement of a batch.
///
/// # Errors
/// Any [`SqlError`]: syntax (102), unknown objects (208) and columns (207), writes (3906), unsupported functions.
pub fn translate(text: &str, cat: &Catalog, params: &[Param]) -> Result<Stmt, SqlError> {
    let words: Vec<String> = text
        .split_whitespace()
        .take(3)
        .map(str::to_ascii_uppercase)
        .collect();
    if words.first().map(String::as_str) == Some("SET") {
        let nocount = match (
            words.get(1).map(String::as_str),
            words.get(2).map(String::as_str),
        ) {
            (Some("NOCOUNT"), Some("ON")) => Some(true),
            (Some("NOCOUNT"), Some("OFF")) => Some(false),
            (Some(_), _) => None,
            _ => return Err(SqlError::syntax("SET")),
        };
        return Ok(Stmt::Set { nocount });
    }
    let stmts = Parser::parse_sql(&MsSqlDialect {}, text).map_err(|e| {
        let m = e.to_string();
        let near = m
            .split("found: ")
            .nth(1)
            .map_or("", |r| r.split(" at Line").next().unwrap_or(r))
            .to_string();
        SqlError::syntax(if near.is_empty() { text } else { &near })
    })?;
    let [stmt] = stmts.as_slice() else {
        return Err(SqlError::syntax(text));
    };
    match stmt {
        Statement::Query(q) => {
            let mut t = Translator {
                cat,
                params,
                sources: Vec::new(),
                tables: Vec::new(),
                direct: true,
            };
            let (sql, columns, sources) = t.query(q)?;
            Ok(Stmt::Select(Select {
                sql,
                columns,
                sources,
                tables: t.tables,
            }))
        }
        Statement::Insert(_)
        | Statement::Update(_)
        | Statement::Delete(_)
        | Statement::CreateTable(_) => Err(SqlError::new(
            3906,
            format!(
                "Failed to update database \"{}\" because the database is read-only.",
                cat.facts.name
            ),
        )),
        other => Err(SqlError::syntax(
            other.to_string().split_whitespace().next().unwrap_or(""),
        )),
    }
}

impl Translator<'_> {
    /// Translates a query: returns the SQLite text and the result columns.
    fn query(&mut self, q: &Query) -> Result<(String, Vec<Column>, Vec<usize>), SqlError> {
        if q.with.is_some()
            || q.limit_clause.is_some()
            || q.fetch.is_some()
            || !q.locks.is_empty()
            || q.for_clause.is_some()
        {
            return Err(SqlError::syntax(&q.to_string()));
        }
        let SetExpr::Select(s) = q.body.as_ref() else {
            return Err(SqlError::syntax(&q.body.to_string()));
        };
        if s.into.is_some()
            || s.having.is_some()
            || !s.lateral_views.is_empty()
            || s.top_before_distinct && s.distinct.is_some()
        {
            return Err(SqlError::syntax(&s.to_string()));
        }
        let mut from_sql = Vec::new();
        for twj in &s.from {
            from_sql.push(self.from(twj)?);
        }
        let mut items = Vec::new();
        let mut columns = Vec::new();
        // Conversions move to the row encoder only where SQLite never looks at the converted value again: not
        // under DISTINCT or GROUP BY, and not for an alias that ORDER BY names.
        let direct_ok = self.direct
            && s.distinct.is_none()
            && matches!(&s.group_by, GroupByExpr::Expressions(l, _) if l.is_empty());
        let ordered = order_by_names(q);
        let direct = |t: &Translator<'_>, e: &sqlparser::ast::Expr, name: &str| {
            if direct_ok && !ordered.iter().any(|o| o.eq_ignore_ascii_case(name)) {
                t.direct(e)
            } else {
                None
            }
        };
        // The plain column behind each result column converted by the row encoder.
        let mut raws: Vec<Option<String>> = Vec::new();
        for item in &s.projection {
            match item {
                SelectItem::UnnamedExpr(e) => {
                    let mut t = self.expr(e)?;
                    let name = t.column.clone().unwrap_or_default();
                    let (sql, conv) = direct(self, e, &name).unwrap_or((t.sql, Conv::None));
                    t.sql = sql;
                    raws.push((conv != Conv::None).then(|| t.sql.clone()));
                    items.push(if name.is_empty() {
                        t.sql.clone()
                    } else {
                        format!("{} AS {}", t.sql, sql_ident(&name))
                    });
                    columns.push(Column {
                        name,
                        ty: t.ty,
                        nullable: t.nullable,
                        table: t.table,
                        conv,
                    });
                }
                SelectItem::ExprWithAlias { expr, alias } => {
                    let t = self.expr(expr)?;
                    let (sql, conv) =
                        direct(self, expr, &alias.value).unwrap_or((t.sql, Conv::None));
                    raws.push((conv != Conv::None).then(|| sql.clone()));
                    items.push(format!("{sql} AS {}", sql_ident(&alias.value)));
                    columns.push(Column {
                        name: alias.value.clone(),
                        ty: t.ty,
                        nullable: t.nullable,
                        table: t.table,
                        conv,
                    });
                }
                SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..) => {
                    let qual = match item {
                        SelectItem::QualifiedWildcard(
                            SelectItemQualifiedWildcardKind::ObjectName(n),
                            _,
                        ) => Some(
                            n.0.last()
                                .and_then(|p| p.as_ident())
                                .map(|i| i.value.clone())
                                .unwrap_or_default(),
                        ),
                        SelectItem::QualifiedWildcard(..) => return Err(SqlError::syntax("*")),
                        _ => None,
                    };
                    let mut any = false;
                    for src in &self.sources {
                        if qual
                            .as_ref()
                            .is_some_and(|q| !q.eq_ignore_ascii_case(&src.alias))
                        {
                            continue;
                        }
                        any = true;
                        for c in &src.columns {
                            raws.push(None);
                            items.push(format!("{}.{}", sql_ident(&src.alias), sql_ident(&c.name)));
                            columns.push(Column {
                                name: c.name.clone(),
                                ty: c.ty,
                                nullable: c.nullable,
                                table: src.table.clone(),
                                conv: Conv::None,
                            });
                        }
                    }
                    if !any {
                        return Err(SqlError::new(
                            263,
                            "Must specify table to select from.".into(),
                        ));
                    }
                }
                _ => return Err(SqlError::syntax(&item.to_string())),
            }
        }
        let distinct = match &s.distinct {
            None | Some(Distinct::All) => "",
            Some(Distinct::Distinct) => "DISTINCT ",
            Some(other) => return Err(SqlError::syntax(&other.to_string())),
        };
        // Converted result columns over the same plain column share one SQLite result column.
        let mut sqlite_items: Vec<String> = Vec::with_capacity(items.len());
        let mut sources = Vec::with_capacity(items.len());
        let mut seen: Vec<(String, usize)> = Vec::new();
        for (item, raw) in items.into_iter().zip(raws) {
            if let Some(r) = &raw
                && let Some((_, i)) = seen.iter().find(|(s, _)| s == r)
            {
                sources.push(*i);
                continue;
            }
            sources.push(sqlite_items.len());
            if let Some(r) = raw {
                seen.push((r, sqlite_items.len()));
            }
            sqlite_items.push(item);
        }
        let mut sql = format!("SELECT {distinct}{}", sqlite_items.join(", "));
        if !from_sql.is_empty() {
            sql.push_str(" FROM ");
            sql.push_str(&from_sql.join(", "));
        }
        if let Some(w) = &s.selection {
            sql.push_str(" WHERE ");
            sql.push_str(&self.expr(w)?.sql);
        }
        match &s.group_by {
            GroupByExpr::Expressions(list, mods) if mods.is_empty() => {
                if !list.is_empty() {
                    let g: Result<Vec<_>, _> =
                        list.iter().map(|e| self.expr(e).map(|t| t.sql)).collect();
                    sql.push_str(" GROUP BY ");
                    sql.push_str(&g?.join(", "));
                }
            }
            other => return Err(SqlError::syntax(&other.to_string())),
        }
        if let Some(ob) = &q.order_by {
            let OrderByKind::Expressions(list) = &ob.kind else {
                return Err(SqlError::syntax("ORDER BY"));
            };
            let mut parts = Vec::new();
            for o in list {
                let alias_hit = match &o.expr {
                    sqlparser::ast::Expr::Identifier(id) => columns
                        .iter()
                        .position(|c| c.name.eq_ignore_ascii_case(&id.value) && !c.name.is_empty()),
                    _ => None,
                };
                let mut p = match alias_hit {
                    Some(i)
                        if matches!(
                            s.projection[..].get(i),
                            Some(SelectItem::ExprWithAlias { .. })
                        ) =>
                    {
                        format!("{}{}", sql_ident(&columns[i].name), nocase(&columns[i].ty))
                    }
                    _ => {
                        let t = self.expr(&o.expr)?;
                        format!("{}{}", t.sql, nocase(&t.ty))
                    }
                };
                match o.options.sort {
                    Some(OrderBySort::Desc) => p.push_str(" DESC"),
                    Some(OrderBySort::Asc) | None => {}
                    _ => return Err(SqlError::syntax("ORDER BY")),
                }
                if o.options.nulls_first.is_some() {
                    return Err(SqlError::syntax("NULLS"));
                }
                parts.push(p);
            }
            sql.push_str(" ORDER BY ");
            sql.push_str(&parts.join(", "));
        }
        if let Some(top) = &s.top {
            if top.percent || top.with_ties {
                return Err(SqlError::syntax("TOP"));
            }
            match &top.quantity {
                Some(TopQuantity::Constant(n)) => sql.push_str(&format!(" LIMIT {n}")),
                Some(TopQuantity::Expr(e)) => {
                    sql.push_str(&format!(" LIMIT {}", self.expr(e)?.sql))
                }
                None => return Err(SqlError::syntax("TOP")),
            }
        }
        Ok((sql, columns, sources))
    }

    fn from(&mut self, twj: &TableWithJoins) -> Result<String, SqlError> {
        let mut sql = self.factor(&twj.relation)?;
        for j in &twj.joins {
            let (kw, c) = match &j.join_operator {
                JoinOperator::Join(c) | JoinOperator::Inner(c) => ("JOIN", c),
                JoinOperator::Left(c) | JoinOperator::LeftOuter(c) => ("LEFT JOIN", c),
                JoinOperator::CrossJoin(c) => ("CROSS JOIN", c),
                _ => return Err(SqlError::syntax("JOIN")),
            };
            let rel = self.factor(&j.relation)?;
            match c {
                JoinConstraint::On(e) => {
                    sql.push_str(&format!(" {kw} {rel} ON {}", self.expr(e)?.sql))
                }
                JoinConstraint::None => sql.push_str(&format!(" {kw} {rel}")),
                _ => return Err(SqlError::syntax("JOIN")),
            }
        }
        Ok(sql)
    }

    fn factor(&mut self, f: &TableFactor) -> Result<String, SqlError> {
        match f {
            TableFactor::Table {
                name,
                alias,
                args: None,
                with_hints,
                version: None,
                partitions,
                ..
            } if partitions.is_empty() => {
                for h in with_hints {
                    let h = h.to_string().to_ascii_uppercase();
                    if !matches!(
                        h.as_str(),
                        "NOLOCK" | "READUNCOMMITTED" | "READCOMMITTED" | "READPAST"
                    ) {
                        return Err(SqlError::new(
                            321,
                            format!("\"{h}\" is not a recognized table hints option."),
                        ));
                    }
                }
                if let Some(a) = alias
                    && !a.columns.is_empty()
                {
                    return Err(SqlError::syntax(&a.to_string()));
                }
                let (schema, object) = self.resolve_name(name)?;
                let alias_name = alias
                    .as_ref()
                    .map_or(object.clone(), |a| a.name.value.clone());
                if schema.eq_ignore_ascii_case("INFORMATION_SCHEMA") {
                    let v = info_view(&object, self.cat).ok_or_else(|| invalid_object(name))?;
                    self.sources.push(Source {
                        alias: alias_name.clone(),
                        columns: v.columns,
                        table: None,
                    });
                    return Ok(format!("({}) AS {}", v.sql, sql_ident(&alias_name)));
                }
                if object.starts_with("_ti_") {
                    return Err(invalid_object(name));
                }
                let obj = self
                    .cat
                    .object(&schema, &object)
                    .ok_or_else(|| invalid_object(name))?;
                self.tables.push(format!("{}.{}", obj.schema, obj.name));
                self.sources.push(Source {
                    alias: alias_name.clone(),
                    columns: obj.columns.clone(),
                    table: Some((obj.schema.clone(), obj.name.clone())),
                });
                Ok(format!(
                    "{} AS {}",
                    sql_ident(&format!("{}.{}", obj.schema, obj.name)),
                    sql_ident(&alias_name)
                ))
            }
            TableFactor::Derived {
                lateral: false,
                subquery,
                alias: Some(alias),
                ..
            } if alias.columns.is_empty() => {
                let mut inner = Translator {
                    cat: self.cat,
                    params: self.params,
                    sources: Vec::new(),
                    tables: Vec::new(),
                    direct: false,
                };
                let (sql, cols, _) = inner.query(subquery)?;
                self.tables.extend(inner.tables);
                if cols.iter().any(|c| c.name.is_empty()) {
                    return Err(SqlError::new(
                        8155,
                        format!(
                            "No column name was specified for a column of '{}'.",
                            alias.name.value
                        ),
                    ));
                }
                let columns = cols
                    .iter()
                    .map(|c| CatColumn {
                        name: c.name.clone(),
                        ty: c.ty,
                        nullable: c.nullable,
                    })
                    .collect();
                self.sources.push(Source {
                    alias: alias.name.value.clone(),
                    columns,
                    table: None,
                });
                Ok(format!("({sql}) AS {}", sql_ident(&alias.name.value)))
            }
            TableFactor::Derived { alias: None, .. } => Err(SqlError::new(
                102,
                "Incorrect syntax near ')'. (a derived table needs an alias)".into(),
            )),
            other => Err(SqlError::syntax(&other.to_string())),
        }
    }

    /// `[db].[schema].[object]`, `[schema].[object]` or `[object]` (schema dbo).
    fn resolve_name(&self, name: &ObjectName) -> Result<(String, String), SqlError> {
        let parts: Vec<&str> = name
            .0
            .iter()
            .map(|p| {
                p.as_ident()
                    .map(|i| i.value.as_str())
                    .ok_or_else(|| invalid_object(name))
            })
            .collect::<Result<_, _>>()?;
        match parts.as_slice() {
            [o] => Ok(("dbo".into(), (*o).into())),
            [s, o] => Ok(((*s).into(), (*o).into())),
            [db, s, o] if db.eq_ignore_ascii_case(&self.cat.facts.name) => Ok((
                if s.is_empty() {
                    "dbo".into()
                } else {
                    (*s).into()
                },
                (*o).into(),
            )),
            _ => Err(invalid_object(name)),
        }
    }
}

/// The plain names ORDER BY lists (they may be select-list aliases).
fn order_by_names(q: &Query) -> Vec<String> {
    let Some(ob) = &q.order_by else {
        return Vec::new();
    };
    let OrderByKind::Expressions(list) = &ob.kind else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|o| match &o.expr {
            sqlparser::ast::Expr::Identifier(id) => Some(id.value.clone()),
            _ => None,
        })
        .collect()
}

/// Error 208 naming the object as written (without brackets), like SQL Server.
fn invalid_object(name: &ObjectName) -> SqlError {
    let plain: Vec<String> = name
        .0
        .iter()
        .map(|p| p.as_ident().map_or(p.to_string(), |i| i.value.clone()))
        .collect();
    SqlError::new(208, format!("Invalid object name '{}'.", plain.join(".")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_batches() {
        assert_eq!(
            split_batch("SET NOCOUNT ON; SELECT ';' AS [a;b] -- x;y\n; "),
            vec!["SET NOCOUNT ON", "SELECT ';' AS [a;b] \n".trim()]
        );
    }
}
