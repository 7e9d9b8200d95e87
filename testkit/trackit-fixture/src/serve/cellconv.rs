//! Select-list items whose conversion the row encoder does instead of SQLite: `CAST(c AS varbinary(..))`,
//! `DATALENGTH(c)` and `CASE WHEN DATALENGTH(c) > n THEN NULL ELSE CAST(c AS varbinary(max)) END` on a plain
//! column `c`. These make up the extractor's select list (docs/extract-queries.md); translated generically each
//! would call a `ti_*` SQLite function per cell, which costs more than reading the row. The item's type,
//! nullability and errors still come from the generic translation ([`Translator::expr`]); only the SQLite text
//! changes (the plain column) and the result column carries a [`Conv`] that `values::write_cell` applies, giving
//! the same bytes as the `ti_*` functions (both use `values::to_bytes` and `values::datalength`).

use super::sql::Translator;
use super::types::{ByteForm, Conv};
use rusqlite::types::Value as SqlValue;
use sqlparser::ast::{
    BinaryOperator, CastKind, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Value,
};

impl Translator<'_> {
    /// The plain-column SQLite text and the [`Conv`] that replace the generic translation of select-list item `e`,
    /// or `None` when `e` is not one of the forms above (it is then translated generically).
    pub fn direct(&self, e: &Expr) -> Option<(String, Conv)> {
        match e {
            Expr::Cast { .. } => {
                let (sql, form) = self.cast_to_binary(e)?;
                Some((sql, Conv::Bytes(form)))
            }
            Expr::Function(_) => {
                let (sql, form) = self.datalength_of_column(e)?;
                Some((sql, Conv::Length(form)))
            }
            Expr::Case {
                operand: None,
                conditions,
                else_result: Some(else_result),
                ..
            } => {
                let [when] = conditions.as_slice() else {
                    return None;
                };
                if !matches!(&when.result, Expr::Value(v) if v.value == Value::Null) {
                    return None;
                }
                let Expr::BinaryOp {
                    left,
                    op: BinaryOperator::Gt,
                    right,
                } = &when.condition
                else {
                    return None;
                };
                let (measured, form) = self.datalength_of_column(left)?;
                let max = self.integer(right)?;
                let (sql, else_form) = match self.cast_to_binary(else_result) {
                    Some(x) => x,
                    None => {
                        // `ELSE c` for a binary column.
                        let t = self.expr(else_result).ok()?;
                        t.column.as_ref()?;
                        (t.sql, t.ty.byte_form())
                    }
                };
                (sql == measured && else_form == form && !matches!(form, ByteForm::Fixed(_)))
                    .then_some((sql, Conv::BytesUpTo(form, max)))
            }
            _ => None,
        }
    }

    /// `CAST(c AS varbinary(..)/binary(..))` of a plain character or binary column: its SQLite text and form.
    fn cast_to_binary(&self, e: &Expr) -> Option<(String, ByteForm)> {
        let Expr::Cast {
            kind: CastKind::Cast,
            expr,
            data_type,
            format: None,
            ..
        } = e
        else {
            return None;
        };
        let target = data_type.to_string().to_ascii_lowercase();
        if !(target.starts_with("varbinary") || target.starts_with("binary")) {
            return None;
        }
        let src = self.expr(expr).ok()?;
        src.column.as_ref()?;
        match src.ty.byte_form() {
            ByteForm::Fixed(_) => None,
            form => Some((src.sql, form)),
        }
    }

    /// `DATALENGTH(c)` of a plain column: its SQLite text and form.
    fn datalength_of_column(&self, e: &Expr) -> Option<(String, ByteForm)> {
        let Expr::Function(f) = e else { return None };
        if !f.name.to_string().eq_ignore_ascii_case("DATALENGTH") {
            return None;
        }
        let FunctionArguments::List(l) = &f.args else {
            return None;
        };
        let [FunctionArg::Unnamed(FunctionArgExpr::Expr(arg))] = l.args.as_slice() else {
            return None;
        };
        if l.duplicate_treatment.is_some() || !l.clauses.is_empty() {
            return None;
        }
        let t = self.expr(arg).ok()?;
        t.column.as_ref()?;
        Some((t.sql, t.ty.byte_form()))
    }

    /// An integer literal or an integer-valued `@P` parameter.
    fn integer(&self, e: &Expr) -> Option<i64> {
        match e {
            Expr::Value(v) => match &v.value {
                Value::Number(n, _) => n.parse().ok(),
                Value::Placeholder(p) => self.param_integer(p),
                _ => None,
            },
            Expr::Identifier(id) if id.quote_style.is_none() && id.value.starts_with('@') => {
                self.param_integer(&id.value)
            }
            _ => None,
        }
    }

    fn param_integer(&self, name: &str) -> Option<i64> {
        match self
            .params
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))?
            .value
        {
            SqlValue::Integer(i) => Some(i),
            _ => None,
        }
    }
}
