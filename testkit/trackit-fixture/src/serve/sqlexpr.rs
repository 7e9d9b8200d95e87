//! T-SQL expressions → SQLite expressions, with the SQL Server type of each result (never SQLite affinity).

use super::catalog::{CatColumn, sql_ident, sql_str};
use super::sql::{SqlError, Translator};
use super::types::{ByteForm, Len, SqlType};
use sqlparser::ast::{
    BinaryOperator, CastKind, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArguments,
    Ident, UnaryOperator, Value,
};

/// A resolved column: source alias, catalog column, source table.
type Found<'a> = (&'a str, &'a CatColumn, &'a Option<(String, String)>);

/// A translated expression.
#[derive(Debug, Clone)]
pub struct TExpr {
    /// SQLite text.
    pub sql: String,
    /// SQL Server type of the value.
    pub ty: SqlType,
    /// Can it be NULL.
    pub nullable: bool,
    /// `(schema, object)` when the value is a plain column of a table (legacy LOB metadata).
    pub table: Option<(String, String)>,
    /// Column name when the expression is a plain column reference.
    pub column: Option<String>,
}

impl TExpr {
    fn new(sql: String, ty: SqlType, nullable: bool) -> TExpr {
        TExpr {
            sql,
            ty,
            nullable,
            table: None,
            column: None,
        }
    }
}

/// The `form` argument of the `ti_*` SQLite functions for a type.
pub fn form_arg(ty: &SqlType) -> String {
    match ty.byte_form() {
        ByteForm::CodePage(e) => sql_str(&format!("cp:{}", e.name())),
        ByteForm::Utf16 => "'utf16'".into(),
        ByteForm::Raw => "'raw'".into(),
        ByteForm::Fixed(n) => format!("'fixed:{n}'"),
    }
}

impl Translator<'_> {
    /// Translates an expression.
    ///
    /// # Errors
    /// Unknown columns (207), unsupported constructs (102), unknown functions (195), undeclared variables (137).
    pub fn expr(&self, e: &Expr) -> Result<TExpr, SqlError> {
        match e {
            Expr::Identifier(id) => self.ident(id),
            Expr::CompoundIdentifier(parts) => self.compound(parts),
            Expr::Value(v) => self.value(&v.value),
            Expr::Nested(inner) => {
                let t = self.expr(inner)?;
                Ok(TExpr {
                    sql: format!("({})", t.sql),
                    ..t
                })
            }
            Expr::IsNull(x) => Ok(TExpr::new(
                format!("({} IS NULL)", self.expr(x)?.sql),
                SqlType::Bit,
                false,
            )),
            Expr::IsNotNull(x) => Ok(TExpr::new(
                format!("({} IS NOT NULL)", self.expr(x)?.sql),
                SqlType::Bit,
                false,
            )),
            Expr::UnaryOp { op, expr } => {
                let t = self.expr(expr)?;
                let sql = match op {
                    UnaryOperator::Not => {
                        return Ok(TExpr::new(format!("(NOT {})", t.sql), SqlType::Bit, true));
                    }
                    UnaryOperator::Minus => format!("(-{})", t.sql),
                    UnaryOperator::Plus => t.sql.clone(),
                    _ => return Err(SqlError::syntax(&op.to_string())),
                };
                Ok(TExpr {
                    sql,
                    column: None,
                    table: None,
                    ..t
                })
            }
            Expr::BinaryOp { left, op, right } => self.binary(left, op, right),
            Expr::Between {
                expr,
                negated,
                low,
                high,
            } => {
                let (x, lo, hi) = (self.expr(expr)?, self.expr(low)?, self.expr(high)?);
                let not = if *negated { "NOT " } else { "" };
                Ok(TExpr::new(
                    format!("({} {not}BETWEEN {} AND {})", x.sql, lo.sql, hi.sql),
                    SqlType::Bit,
                    true,
                ))
            }
            Expr::Cast {
                kind: CastKind::Cast,
                expr,
                data_type,
                format: None,
                ..
            } => {
                let src = self.expr(expr)?;
                self.cast(src, &data_type.to_string())
            }
            Expr::Case {
                operand,
                conditions,
                else_result,
                ..
            } => {
                let mut sql = String::from("(CASE");
                if let Some(op) = operand {
                    sql.push(' ');
                    sql.push_str(&self.expr(op)?.sql);
                }
                let mut ty: Option<TExpr> = None;
                let mut results = Vec::new();
                for w in conditions {
                    let r = self.expr(&w.result)?;
                    sql.push_str(&format!(
                        " WHEN {} THEN {}",
                        self.expr(&w.condition)?.sql,
                        r.sql
                    ));
                    results.push(r);
                }
                if let Some(el) = else_result {
                    let r = self.expr(el)?;
                    sql.push_str(&format!(" ELSE {}", r.sql));
                    results.push(r);
                }
                sql.push_str(" END)");
                for r in results {
                    if r.sql != "NULL" && ty.is_none() {
                        ty = Some(r);
                    }
                }
                let t = ty.map_or(SqlType::Int, |t| t.ty);
                Ok(TExpr::new(sql, t, true))
            }
            Expr::Function(f) => self.function(f),
            Expr::Substring {
                expr,
                substring_from: Some(from),
                substring_for: Some(len),
                shorthand: false,
                ..
            } => self.substring(self.expr(expr)?, self.expr(from)?, self.expr(len)?),
            other => Err(SqlError::syntax(&first_word(&other.to_string()))),
        }
    }

    fn ident(&self, id: &Ident) -> Result<TExpr, SqlError> {
        let v = &id.value;
        if id.quote_style.is_none() && v.starts_with("@@") {
            return self.global_var(v);
        }
        if id.quote_style.is_none() && v.starts_with('@') {
            return self.param(v);
        }
        self.column(None, v)
    }

    fn compound(&self, parts: &[Ident]) -> Result<TExpr, SqlError> {
        match parts {
            [q, c] => self.column(Some(&q.value), &c.value),
            [_, q, c] | [_, _, q, c] => self.column(Some(&q.value), &c.value),
            _ => Err(SqlError::syntax(
                &parts
                    .iter()
                    .map(|p| p.value.as_str())
                    .collect::<Vec<_>>()
                    .join("."),
            )),
        }
    }

    /// Resolves a column against the FROM sources (case-insensitively, like a CI collation).
    fn column(&self, qualifier: Option<&str>, name: &str) -> Result<TExpr, SqlError> {
        let mut found: Option<Found<'_>> = None;
        let mut qualifier_known = qualifier.is_none();
        for s in &self.sources {
            if let Some(q) = qualifier {
                if !s.alias.eq_ignore_ascii_case(q) {
                    continue;
                }
                qualifier_known = true;
            }
            if let Some(c) = s.columns.iter().find(|c| c.name.eq_ignore_ascii_case(name)) {
                if found.is_some() {
                    return Err(SqlError::new(
                        209,
                        format!("Ambiguous column name '{name}'."),
                    ));
                }
                found = Some((&s.alias, c, &s.table));
            }
        }
        if !qualifier_known {
            let q = qualifier.unwrap_or_default();
            return Err(SqlError::new(
                4104,
                format!("The multi-part identifier \"{q}.{name}\" could not be bound."),
            ));
        }
        let (alias, c, table) =
            found.ok_or_else(|| SqlError::new(207, format!("Invalid column name '{name}'.")))?;
        Ok(TExpr {
            sql: format!("{}.{}", sql_ident(alias), sql_ident(&c.name)),
            ty: c.ty,
            nullable: c.nullable,
            table: table.clone(),
            column: Some(c.name.clone()),
        })
    }

    fn param(&self, name: &str) -> Result<TExpr, SqlError> {
        let p = self
            .params
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                SqlError::new(137, format!("Must declare the scalar variable \"{name}\"."))
            })?;
        Ok(TExpr::new(p.name.clone(), p.ty, true))
    }

    fn global_var(&self, v: &str) -> Result<TExpr, SqlError> {
        let f = &self.cat.facts;
        let nv = |n: u16| SqlType::NVarChar(Len::N(n), self.cat.collation);
        Ok(match v.to_ascii_uppercase().as_str() {
            "@@VERSION" => TExpr::new(sql_str(&f.server_version), nv(300), false),
            "@@SERVERNAME" => TExpr::new(sql_str(super::tokens::SERVER_NAME), nv(128), false),
            "@@SPID" => TExpr::new("51".into(), SqlType::SmallInt, false),
            "@@TRANCOUNT" => TExpr::new("0".into(), SqlType::Int, false),
            "@@LANGUAGE" => TExpr::new("'us_english'".into(), nv(128), false),
            "@@MAX_PRECISION" => TExpr::new("38".into(), SqlType::TinyInt, false),
            _ => {
                return Err(SqlError::new(
                    137,
                    format!("Must declare the scalar variable \"{v}\"."),
                ));
            }
        })
    }

    fn value(&self, v: &Value) -> Result<TExpr, SqlError> {
        let coll = self.cat.collation;
        Ok(match v {
            Value::Number(n, _) => {
                if let Ok(i) = n.parse::<i64>() {
                    let ty = if i32::try_from(i).is_ok() {
                        SqlType::Int
                    } else {
                        SqlType::BigInt
                    };
                    TExpr::new(n.clone(), ty, false)
                } else {
                    let (ip, fp) = n.split_once('.').unwrap_or((n, ""));
                    let p = (ip.trim_start_matches('-').len() + fp.len()).clamp(1, 38) as u8;
                    TExpr::new(
                        sql_str(n),
                        SqlType::Decimal(p, fp.len().min(p as usize) as u8),
                        false,
                    )
                }
            }
            Value::SingleQuotedString(s) => TExpr::new(
                sql_str(s),
                SqlType::VarChar(Len::N(s.len().clamp(1, 8000) as u16), coll),
                false,
            ),
            Value::NationalStringLiteral(s) => TExpr::new(
                sql_str(s),
                SqlType::NVarChar(Len::N(s.encode_utf16().count().clamp(1, 4000) as u16), coll),
                false,
            ),
            Value::Null => TExpr::new("NULL".into(), SqlType::Int, true),
            Value::Placeholder(p) => self.param(p)?,
            other => return Err(SqlError::syntax(&other.to_string())),
        })
    }

    fn binary(&self, left: &Expr, op: &BinaryOperator, right: &Expr) -> Result<TExpr, SqlError> {
        let (l, r) = (self.expr(left)?, self.expr(right)?);
        let cmp = |o: &str| {
            // Character comparisons follow the (case-insensitive) collation, approximated with NOCASE.
            let nc = if is_char(&l.ty) || is_char(&r.ty) {
                nocase(&l.ty)
            } else {
                ""
            };
            Ok(TExpr::new(
                format!("({}{nc} {o} {})", l.sql, r.sql),
                SqlType::Bit,
                true,
            ))
        };
        let arith = |o: &str| {
            let ty = if l.ty == SqlType::BigInt || r.ty == SqlType::BigInt {
                SqlType::BigInt
            } else {
                l.ty
            };
            Ok(TExpr::new(
                format!("({} {o} {})", l.sql, r.sql),
                ty,
                l.nullable || r.nullable,
            ))
        };
        match op {
            BinaryOperator::Eq => cmp("="),
            BinaryOperator::NotEq => cmp("<>"),
            BinaryOperator::Lt => cmp("<"),
            BinaryOperator::LtEq => cmp("<="),
            BinaryOperator::Gt => cmp(">"),
            BinaryOperator::GtEq => cmp(">="),
            BinaryOperator::And => Ok(TExpr::new(
                format!("({} AND {})", l.sql, r.sql),
                SqlType::Bit,
                true,
            )),
            BinaryOperator::Or => Ok(TExpr::new(
                format!("({} OR {})", l.sql, r.sql),
                SqlType::Bit,
                true,
            )),
            BinaryOperator::Plus if is_char(&l.ty) || is_char(&r.ty) => Ok(TExpr::new(
                format!("({} || {})", l.sql, r.sql),
                if is_char(&l.ty) { l.ty } else { r.ty },
                l.nullable || r.nullable,
            )),
            BinaryOperator::Plus => arith("+"),
            BinaryOperator::Minus => arith("-"),
            BinaryOperator::Multiply => arith("*"),
            BinaryOperator::Divide => arith("/"),
            BinaryOperator::Modulo => arith("%"),
            other => Err(SqlError::syntax(&other.to_string())),
        }
    }

    /// `CAST(src AS target)`: the SQLite expression producing FORMAT.md §3 storage of the target type.
    fn cast(&self, src: TExpr, target: &str) -> Result<TExpr, SqlError> {
        let t = target.to_ascii_lowercase().replace(' ', "");
        let (name, args) = match t.split_once('(') {
            Some((n, a)) => (
                n.to_string(),
                a.trim_end_matches(')')
                    .split(',')
                    .map(str::to_string)
                    .collect(),
            ),
            None => (t.clone(), Vec::<String>::new()),
        };
        let arg = |i: usize| {
            args.get(i)
                .map(|a| if a == "max" { Ok(-1) } else { a.parse::<i64>() })
        };
        let a0 = arg(0).transpose().map_err(|_| SqlError::syntax(target))?;
        let a1 = arg(1).transpose().map_err(|_| SqlError::syntax(target))?;
        let coll = src.ty.collation().unwrap_or(self.cat.collation);
        let (max_len, prec, scale) = match name.as_str() {
            "decimal" | "numeric" => (None, Some(a0.unwrap_or(18)), Some(a1.unwrap_or(0))),
            "time" | "datetime2" | "datetimeoffset" => (None, None, Some(a0.unwrap_or(7))),
            "char" | "varchar" | "nchar" | "nvarchar" | "binary" | "varbinary" => {
                (Some(a0.unwrap_or(30)), None, None)
            }
            _ => (None, None, None),
        };
        let ty = SqlType::from_catalog(&name, max_len, prec, scale, coll)
            .ok_or_else(|| SqlError::syntax(target))?;
        let s = &src.sql;
        let sql = match ty {
            SqlType::VarBinary(_) | SqlType::Binary(_) | SqlType::Image => match src.ty.byte_form()
            {
                ByteForm::Fixed(_) => return Err(SqlError::syntax(target)),
                _ => format!("ti_bin({s}, {})", form_arg(&src.ty)),
            },
            SqlType::VarChar(..)
            | SqlType::NVarChar(..)
            | SqlType::Char(..)
            | SqlType::NChar(..)
            | SqlType::Text(_)
            | SqlType::NText(_)
            | SqlType::Xml => format!("ti_txt({s}, {})", form_arg(&src.ty)),
            SqlType::Decimal(_, sc) => format!("ti_dec({s}, {sc})"),
            SqlType::Money | SqlType::SmallMoney => format!("ti_dec({s}, 4)"),
            SqlType::TinyInt | SqlType::SmallInt | SqlType::Int | SqlType::BigInt => {
                format!("CAST({s} AS INTEGER)")
            }
            SqlType::Bit => {
                format!("(CASE WHEN {s} IS NULL THEN NULL WHEN {s} <> 0 THEN 1 ELSE 0 END)")
            }
            SqlType::Real | SqlType::Float => format!("CAST({s} AS REAL)"),
            _ => s.clone(),
        };
        Ok(TExpr {
            sql,
            ty,
            nullable: src.nullable,
            table: None,
            column: None,
        })
    }

    /// `SUBSTRING(t, a, b)`: characters of character types, bytes of binary types (1-based).
    fn substring(&self, t: TExpr, a: TExpr, b: TExpr) -> Result<TExpr, SqlError> {
        let ty = match t.ty {
            SqlType::Text(c) => SqlType::VarChar(Len::Max, c),
            SqlType::NText(c) => SqlType::NVarChar(Len::Max, c),
            SqlType::Image => SqlType::VarBinary(Len::Max),
            other if is_char(&other) || matches!(other.byte_form(), ByteForm::Raw) => other,
            _ => {
                return Err(SqlError::new(
                    8116,
                    "Argument data type is invalid for argument 1 of substring function.".into(),
                ));
            }
        };
        Ok(TExpr::new(
            format!(
                "ti_sub({}, {}, {}, {})",
                t.sql,
                a.sql,
                b.sql,
                form_arg(&t.ty)
            ),
            ty,
            true,
        ))
    }

    fn function(&self, f: &Function) -> Result<TExpr, SqlError> {
        let fname = f.name.to_string();
        let upper = fname.to_ascii_uppercase();
        let not_builtin = || {
            SqlError::new(
                195,
                format!("'{fname}' is not a recognized built-in function name."),
            )
        };
        let mut star = false;
        let mut args = Vec::new();
        match &f.args {
            FunctionArguments::None => {}
            FunctionArguments::List(l) => {
                if l.duplicate_treatment.is_some() || !l.clauses.is_empty() {
                    return Err(SqlError::syntax(&fname));
                }
                for a in &l.args {
                    match a {
                        FunctionArg::Unnamed(FunctionArgExpr::Wildcard) => star = true,
                        FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => args.push(e),
                        _ => return Err(SqlError::syntax(&fname)),
                    }
                }
            }
            FunctionArguments::Subquery(_) => return Err(SqlError::syntax(&fname)),
        }
        let f = &self.cat.facts;
        let nv = |n: u16| SqlType::NVarChar(Len::N(n), self.cat.collation);
        let arity = |n: usize| {
            if args.len() == n && !star {
                Ok(())
            } else {
                Err(SqlError::args(&fname, n))
            }
        };
        let targ = |i: usize| self.expr(args[i]);
        Ok(match upper.as_str() {
            "COUNT" | "COUNT_BIG" => {
                let ty = if upper == "COUNT" {
                    SqlType::Int
                } else {
                    SqlType::BigInt
                };
                let inner = if star {
                    "*".to_string()
                } else {
                    arity(1).and_then(|_| targ(0))?.sql
                };
                TExpr::new(format!("COUNT({inner})"), ty, false)
            }
            "MIN" | "MAX" => {
                arity(1)?;
                let t = targ(0)?;
                TExpr::new(format!("{upper}({})", t.sql), t.ty, true)
            }
            "DATALENGTH" => {
                arity(1)?;
                let t = targ(0)?;
                let ty = if t.ty.is_max() {
                    SqlType::BigInt
                } else {
                    SqlType::Int
                };
                TExpr::new(format!("ti_len({}, {})", t.sql, form_arg(&t.ty)), ty, true)
            }
            "SUBSTRING" => {
                arity(3)?;
                self.substring(targ(0)?, targ(1)?, targ(2)?)?
            }
            "ISNULL" | "COALESCE" if args.len() >= 2 => {
                let ts: Result<Vec<_>, _> = args.iter().map(|a| self.expr(a)).collect();
                let ts = ts?;
                let sql = format!(
                    "COALESCE({})",
                    ts.iter()
                        .map(|t| t.sql.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                TExpr::new(sql, ts[0].ty, ts.iter().all(|t| t.nullable))
            }
            "LEN" => {
                arity(1)?;
                TExpr::new(
                    format!(
                        "length(rtrim(ti_txt({0}, {1})))",
                        targ(0)?.sql,
                        form_arg(&targ(0)?.ty)
                    ),
                    SqlType::Int,
                    true,
                )
            }
            "UPPER" | "LOWER" | "LTRIM" | "RTRIM" => {
                arity(1)?;
                let t = targ(0)?;
                TExpr::new(format!("{upper}({})", t.sql), t.ty, t.nullable)
            }
            "DB_NAME" if args.is_empty() => TExpr::new(sql_str(&f.name), nv(128), false),
            "SERVERPROPERTY" => {
                arity(1)?;
                let prop = match args[0] {
                    Expr::Value(v) => match &v.value {
                        Value::SingleQuotedString(s) | Value::NationalStringLiteral(s) => s.clone(),
                        _ => String::new(),
                    },
                    _ => String::new(),
                };
                let val = match prop.to_ascii_lowercase().as_str() {
                    "productversion" => sql_str(&f.product_version),
                    "collation" => sql_str(&f.collation_name),
                    "edition" => "'Standard Edition (64-bit)'".into(),
                    "productlevel" => "'RTM'".into(),
                    "servername" | "machinename" => sql_str(super::tokens::SERVER_NAME),
                    "engineedition" => "'2'".into(),
                    _ => "NULL".into(),
                };
                TExpr::new(val, nv(128), true)
            }
            "SYSDATETIMEOFFSET" if args.is_empty() => TExpr::new(
                sql_str(&now_text(f.utc_offset_minutes, true)),
                SqlType::DateTimeOffset(7),
                false,
            ),
            "SYSDATETIME" if args.is_empty() => TExpr::new(
                sql_str(&now_text(f.utc_offset_minutes, false)),
                SqlType::DateTime2(7),
                false,
            ),
            "GETDATE" if args.is_empty() => TExpr::new(
                sql_str(&now_text(f.utc_offset_minutes, false)[..23]),
                SqlType::DateTime,
                false,
            ),
            "GETUTCDATE" if args.is_empty() => {
                TExpr::new(sql_str(&now_text(0, false)[..23]), SqlType::DateTime, false)
            }
            "CURRENT_TIMEZONE" if args.is_empty() => match &f.time_zone {
                Some(tz) => TExpr::new(sql_str(tz), nv(256), false),
                None => return Err(not_builtin()),
            },
            _ => return Err(not_builtin()),
        })
    }
}

/// The collation an ORDER BY item needs to sort as SQL Server does: `COLLATE NOCASE` for character types of
/// case-insensitive collations (SQLite's stand-in for `_CI_`), and `COLLATE ti_decimal` for decimal, numeric and
/// money columns, which FORMAT.md stores as TEXT and SQLite would otherwise sort as text ('12.25' < '7.50').
pub fn nocase(ty: &SqlType) -> &'static str {
    match ty.collation() {
        Some(c) if c.info & 0x0010_0000 != 0 && is_char(ty) => " COLLATE NOCASE",
        _ if matches!(
            ty,
            SqlType::Decimal(..) | SqlType::Money | SqlType::SmallMoney
        ) =>
        {
            " COLLATE ti_decimal"
        }
        _ => "",
    }
}

fn is_char(ty: &SqlType) -> bool {
    matches!(ty.byte_form(), ByteForm::CodePage(_) | ByteForm::Utf16) && *ty != SqlType::Xml
}

fn first_word(s: &str) -> String {
    s.split_whitespace().next().unwrap_or(s).to_string()
}

/// The current time at `offset` minutes east of UTC as FORMAT.md datetimeoffset/datetime2 text.
fn now_text(offset: i32, with_offset: bool) -> String {
    let now = chrono::Utc::now() + chrono::Duration::minutes(offset as i64);
    let mut base = now.format("%Y-%m-%d %H:%M:%S%.9f").to_string();
    base.truncate(base.len() - 2);
    if with_offset {
        let sign = if offset < 0 { '-' } else { '+' };
        format!(
            "{base} {sign}{:02}:{:02}",
            offset.abs() / 60,
            offset.abs() % 60
        )
    } else {
        base
    }
}
