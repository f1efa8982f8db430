//! Derived columns: columns computed from others by SQL expressions (`amount = price * nights`),
//! and lookup tables joined by keys (currency rates by currency and month) that derived columns
//! can use.
//!
//! Each expression is evaluated by polars' SQL as `SELECT *, <expression> AS name FROM t`, in
//! order, so a later column may use an earlier one. A project file is untrusted, so before polars
//! sees an expression it is parsed with the same parser polars uses (sqlparser) and refused unless
//! it is one scalar expression over the table's columns: no subquery, no table, no aggregate or
//! window function (they would give a value that depends on which customers are in the table, so
//! new customers would not be assigned as the fitted ones were), only functions from a list of
//! row-by-row ones, with bounded length and nesting.

use std::ops::ControlFlow;

use polars::prelude::*;
use serde::{Deserialize, Serialize};
use sqlparser::ast::{
    Expr as SqlExpr, FunctionArg, FunctionArgExpr, FunctionArguments, ObjectName, Query, Spanned, Value as SqlValue,
    Visit, Visitor,
};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::Token;

use crate::engine::error::{DataError, quoted};

/// Most derived columns a project may hold.
pub const MAX_DERIVED_COLUMNS: usize = 64;
/// Longest expression, in characters.
pub const MAX_EXPRESSION_CHARS: usize = 2_000;
/// Longest derived column name, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// Deepest nesting of an expression (parentheses, function calls, operators).
pub const MAX_EXPRESSION_DEPTH: usize = 40;
/// Deepest expression tree: a chain `a + b + c` is parsed without nesting but evaluated as
/// `(a + b) + c`, so each operator counts; this keeps every later walk of the tree shallow.
pub const MAX_TREE_DEPTH: usize = 128;
/// Most lookup tables a project may join.
pub const MAX_LOOKUPS: usize = 8;
/// Most key columns of one lookup.
pub const MAX_LOOKUP_KEYS: usize = 4;
/// Most rows of a lookup table: it is a small table of rates or codes, not a second data set.
pub const MAX_LOOKUP_ROWS: usize = 100_000;
/// Longest stored lookup path, in characters.
pub const MAX_LOOKUP_PATH_CHARS: usize = 1_000;

/// Rows a preview computes.
pub const PREVIEW_ROWS: usize = 8;

/// Functions an expression may call: row-by-row ones of polars' SQL (math, conditionals, dates,
/// text). Aggregates, window, array and column-selecting functions are not on it.
pub const ALLOWED_FUNCTIONS: &[&str] = &[
    // math
    "abs",
    "cbrt",
    "ceil",
    "ceiling",
    "div",
    "exp",
    "floor",
    "ln",
    "log",
    "log10",
    "log1p",
    "log2",
    "mod",
    "pi",
    "pow",
    "power",
    "round",
    "trunc",
    "truncate",
    "sign",
    "sqrt",
    "cos",
    "cot",
    "sin",
    "tan",
    "acos",
    "asin",
    "atan",
    "atan2",
    "degrees",
    "radians", // conditionals
    "coalesce",
    "greatest",
    "if",
    "ifnull",
    "least",
    "nullif", // dates and times
    "date",
    "date_part",
    "strftime",
    "strptime",
    "timestamp",
    "datetime",
    "time", // text
    "bit_length",
    "concat",
    "concat_ws",
    "ends_with",
    "initcap",
    "left",
    "length",
    "char_length",
    "character_length",
    "lower",
    "lpad",
    "ltrim",
    "octet_length",
    "regexp_like",
    "replace",
    "reverse",
    "right",
    "rpad",
    "rtrim",
    "split_part",
    "starts_with",
    "strpos",
    "substr",
    "upper",
];

/// One derived column: `name = expression`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DerivedColumn {
    /// The new column's name (letters, digits and `_`, starting with a letter or `_`).
    pub name: String,
    /// A SQL expression over the table's columns (and earlier derived and lookup columns).
    pub expression: String,
}

/// A small table joined onto the data by key columns, whose other columns derived columns can use.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lookup {
    /// The table's path, relative to the project's folder (never outside it).
    pub path: String,
    /// The key columns, named the same in the data (or made by derived columns) and in the table.
    pub on: Vec<String>,
    /// The fingerprint of the table's bytes when the project was saved, so a changed lookup table is
    /// reported as a changed data file is; written only when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
}

/// The derived columns and lookups of a project, applied to the main table as read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DerivedColumns {
    /// Lookup tables; each is joined as soon as the data has all its key columns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lookups: Vec<Lookup>,
    /// Derived columns, computed in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<DerivedColumn>,
}

impl DerivedColumns {
    /// Whether there is nothing to derive or join.
    pub fn is_empty(&self) -> bool {
        self.lookups.is_empty() && self.columns.is_empty()
    }

    /// Checks counts, names, lengths and every expression (as a project file is read, and before
    /// anything is computed), without looking at data.
    pub fn check(&self) -> Result<(), DataError> {
        if self.columns.len() > MAX_DERIVED_COLUMNS {
            return Err(DataError::BadOption {
                key: "derived.columns".into(),
                problem: format!("lists {} columns; at most {MAX_DERIVED_COLUMNS}", self.columns.len()),
            });
        }
        if self.lookups.len() > MAX_LOOKUPS {
            return Err(DataError::BadOption {
                key: "derived.lookups".into(),
                problem: format!("lists {} tables; at most {MAX_LOOKUPS}", self.lookups.len()),
            });
        }
        for (i, column) in self.columns.iter().enumerate() {
            check_derived(column)?;
            if self.columns[..i].iter().any(|c| c.name == column.name) {
                return Err(derive_error(column, "is defined twice; give each derived column its own name"));
            }
        }
        for lookup in &self.lookups {
            check_lookup(lookup)?;
        }
        Ok(())
    }

    /// The columns to read for a reader that reads only `wanted`: the wanted ones that are not made
    /// here, and those the derived columns read; `None` (read everything) with lookups, whose
    /// columns are not known before they are read.
    pub fn columns_to_read(&self, wanted: &[String]) -> Option<Vec<String>> {
        if !self.lookups.is_empty() {
            return None;
        }
        let mut needed: Vec<String> =
            wanted.iter().filter(|c| !self.columns.iter().any(|d| d.name == **c)).cloned().collect();
        for c in self.columns_read() {
            if !needed.contains(&c) {
                needed.push(c);
            }
        }
        Some(needed)
    }

    /// Every column the derived columns and lookups read from the data as read (not the ones
    /// they make), for readers that read only some columns.
    pub fn columns_read(&self) -> Vec<String> {
        let made: Vec<&str> = self.columns.iter().map(|c| c.name.as_str()).collect();
        let mut read: Vec<String> = Vec::new();
        let mut add = |name: &str| {
            if !made.contains(&name) && !read.iter().any(|r| r == name) {
                read.push(name.to_string());
            }
        };
        for column in &self.columns {
            if let Ok(parsed) = parse_expression(&column.expression) {
                parsed.columns.iter().for_each(|c| add(c));
            }
        }
        for lookup in &self.lookups {
            lookup.on.iter().for_each(|c| add(c));
        }
        read
    }
}

/// Parses `name = expression` as the command line writes a derived column.
pub fn parse_derive_arg(text: &str) -> Result<DerivedColumn, String> {
    let Some((name, expression)) = text.split_once('=') else {
        return Err(format!("{} is not NAME = EXPRESSION (for example amount = price * nights)", quoted(text)));
    };
    let column = DerivedColumn { name: name.trim().to_string(), expression: expression.trim().to_string() };
    check_derived(&column).map_err(|e| e.to_string())?;
    Ok(column)
}

fn derive_error(column: &DerivedColumn, problem: impl Into<String>) -> DataError {
    DataError::Derive { column: column.name.clone(), expression: column.expression.clone(), problem: problem.into() }
}

/// Checks a name: 1 to 64 letters, digits or `_`, not starting with a digit.
pub fn check_name(name: &str) -> Result<(), String> {
    let n_chars = name.chars().count();
    if n_chars == 0 {
        return Err("has no name; write NAME = EXPRESSION".into());
    }
    if n_chars > MAX_NAME_CHARS {
        return Err(format!("has a name of {n_chars} characters; at most {MAX_NAME_CHARS}"));
    }
    if let Some(bad) = name.chars().find(|c| !(c.is_alphanumeric() || *c == '_')) {
        return Err(format!(
            "has {} in its name; a name is letters, digits and _ (amount_eur)",
            quoted(&bad.to_string())
        ));
    }
    if name.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        return Err("has a name starting with a digit; start it with a letter".into());
    }
    Ok(())
}

/// Checks one derived column's name and expression without data.
pub fn check_derived(column: &DerivedColumn) -> Result<(), DataError> {
    check_name(&column.name).map_err(|problem| derive_error(column, problem))?;
    parse_expression(&column.expression).map_err(|problem| derive_error(column, problem))?;
    Ok(())
}

fn check_lookup(lookup: &Lookup) -> Result<(), DataError> {
    let bad = |problem: String| DataError::Lookup { path: lookup.path.clone(), problem };
    if lookup.path.is_empty() || lookup.path.chars().count() > MAX_LOOKUP_PATH_CHARS {
        return Err(bad(format!("needs a path of 1 to {MAX_LOOKUP_PATH_CHARS} characters")));
    }
    if lookup.on.is_empty() || lookup.on.len() > MAX_LOOKUP_KEYS {
        return Err(bad(format!("needs 1 to {MAX_LOOKUP_KEYS} key columns (--lookup-on currency,month)")));
    }
    for (i, key) in lookup.on.iter().enumerate() {
        if key.is_empty() || key.chars().count() > MAX_NAME_CHARS || key.chars().any(char::is_control) {
            return Err(bad(format!("has a key column name {} that cannot be a column", quoted(key))));
        }
        if lookup.on[..i].contains(key) {
            return Err(bad(format!("lists the key {} twice", quoted(key))));
        }
    }
    Ok(())
}

/// A checked expression and the columns it names.
#[derive(Debug)]
pub struct ParsedExpression {
    /// Column names the expression reads, in the order first named, with their 1-based line and
    /// column in the expression.
    pub columns: Vec<String>,
    positions: Vec<(u64, u64)>,
}

/// Parses and checks an expression: one scalar SQL expression over columns, nothing else.
pub fn parse_expression(text: &str) -> Result<ParsedExpression, String> {
    let n_chars = text.chars().count();
    if text.trim().is_empty() {
        return Err("has no expression; write NAME = EXPRESSION".into());
    }
    if n_chars > MAX_EXPRESSION_CHARS {
        return Err(format!("is {n_chars} characters long; an expression has at most {MAX_EXPRESSION_CHARS}"));
    }
    if let Some(c) = text.chars().find(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r')) {
        return Err(format!("holds the control character {}; write plain text", c.escape_default()));
    }
    let dialect = GenericDialect {};
    let parser_error = |e: ParserError| match e {
        ParserError::RecursionLimitExceeded => {
            format!("nests too deeply; at most {MAX_EXPRESSION_DEPTH} levels of parentheses, calls and operators")
        }
        ParserError::TokenizerError(m) | ParserError::ParserError(m) => format!("is not valid SQL: {m}"),
    };
    let mut parser =
        Parser::new(&dialect).with_recursion_limit(MAX_EXPRESSION_DEPTH).try_with_sql(text).map_err(parser_error)?;
    let expr = parser.parse_expr().map_err(parser_error)?;
    let next = parser.peek_token();
    if next.token != Token::EOF {
        let at = next.span.start;
        let what = if next.token == Token::SemiColon {
            "a ';': a derived column is one expression, not statements".to_string()
        } else {
            format!(
                "{} after the expression; write one expression (use AND/OR to combine)",
                quoted(&next.token.to_string())
            )
        };
        return Err(format!("has {what} (at line {}, column {})", at.line, at.column));
    }
    let mut checker = Checker { depth: 0, columns: Vec::new(), positions: Vec::new() };
    if let ControlFlow::Break(problem) = expr.visit(&mut checker) {
        return Err(problem);
    }
    Ok(ParsedExpression { columns: checker.columns, positions: checker.positions })
}

/// Walks an expression and refuses anything that is not row-by-row over the table's columns.
struct Checker {
    depth: usize,
    columns: Vec<String>,
    positions: Vec<(u64, u64)>,
}

impl Visitor for Checker {
    type Break = String;

    fn pre_visit_query(&mut self, _query: &Query) -> ControlFlow<String> {
        ControlFlow::Break("holds a subquery; a derived column reads only the row's own columns".into())
    }

    fn pre_visit_relation(&mut self, relation: &ObjectName) -> ControlFlow<String> {
        ControlFlow::Break(format!(
            "names the table {}; a derived column reads only the row's own columns",
            quoted(&relation.to_string())
        ))
    }

    fn post_visit_expr(&mut self, _expr: &SqlExpr) -> ControlFlow<String> {
        self.depth = self.depth.saturating_sub(1);
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &SqlExpr) -> ControlFlow<String> {
        self.depth += 1;
        if self.depth > MAX_TREE_DEPTH {
            return ControlFlow::Break(format!(
                "nests too deeply; at most {MAX_TREE_DEPTH} operations inside one another (a long sum counts each +)"
            ));
        }
        let refuse = |what: &str| ControlFlow::Break(format!("uses {what}, which a derived column cannot"));
        match expr {
            SqlExpr::Identifier(ident) => {
                if !self.columns.contains(&ident.value) {
                    self.columns.push(ident.value.clone());
                    self.positions.push((ident.span.start.line, ident.span.start.column));
                }
                ControlFlow::Continue(())
            }
            SqlExpr::Value(value) => match value.value {
                SqlValue::Placeholder(_) => refuse("a placeholder"),
                _ => ControlFlow::Continue(()),
            },
            SqlExpr::Function(function) => {
                let name = function.name.to_string().to_lowercase();
                let at = function.name.0.first().map(|p| p.span().start);
                let at = at.map(|l| format!(" (at line {}, column {})", l.line, l.column)).unwrap_or_default();
                if !ALLOWED_FUNCTIONS.contains(&name.as_str()) {
                    let kind = if AGGREGATES.contains(&name.as_str()) {
                        "is an aggregate over many rows; a derived column is computed from each row alone, so new customers get the same value"
                    } else if name.starts_with("read_") || name.starts_with("scan_") {
                        "reads a file; a derived column reads only the row's own columns"
                    } else {
                        "is not a row-by-row function Strata allows (math, coalesce/case, dates, text)"
                    };
                    return ControlFlow::Break(format!("calls {}{at}, which {kind}", quoted(&name)));
                }
                if function.over.is_some() {
                    return refuse("a window (OVER)");
                }
                if function.filter.is_some() || !function.within_group.is_empty() || function.null_treatment.is_some() {
                    return refuse("an aggregate clause (FILTER, WITHIN GROUP, IGNORE NULLS)");
                }
                if !matches!(function.parameters, FunctionArguments::None) {
                    return refuse("function parameters");
                }
                match &function.args {
                    FunctionArguments::None => ControlFlow::Continue(()),
                    FunctionArguments::Subquery(_) => refuse("a subquery"),
                    FunctionArguments::List(list) => {
                        if list.duplicate_treatment.is_some() || !list.clauses.is_empty() {
                            return refuse("DISTINCT, ORDER BY or other clauses inside a call");
                        }
                        for arg in &list.args {
                            match arg {
                                FunctionArg::Unnamed(FunctionArgExpr::Expr(_)) => {}
                                FunctionArg::Unnamed(_) => return refuse("* as an argument"),
                                _ => return refuse("named arguments"),
                            }
                        }
                        ControlFlow::Continue(())
                    }
                }
            }
            SqlExpr::CompoundIdentifier(parts) => ControlFlow::Break(format!(
                "names {}; write the column's name alone (in \"double quotes\" if it has spaces)",
                quoted(&parts.iter().map(|p| p.value.as_str()).collect::<Vec<_>>().join("."))
            )),
            SqlExpr::Subquery(_) | SqlExpr::Exists { .. } | SqlExpr::InSubquery { .. } => refuse("a subquery"),
            SqlExpr::Wildcard(_) | SqlExpr::QualifiedWildcard(..) => refuse("*"),
            SqlExpr::IsFalse(_)
            | SqlExpr::IsNotFalse(_)
            | SqlExpr::IsTrue(_)
            | SqlExpr::IsNotTrue(_)
            | SqlExpr::IsNull(_)
            | SqlExpr::IsNotNull(_)
            | SqlExpr::IsDistinctFrom(..)
            | SqlExpr::IsNotDistinctFrom(..)
            | SqlExpr::InList { .. }
            | SqlExpr::Between { .. }
            | SqlExpr::BinaryOp { .. }
            | SqlExpr::Like { .. }
            | SqlExpr::ILike { .. }
            | SqlExpr::SimilarTo { .. }
            | SqlExpr::RLike { .. }
            | SqlExpr::UnaryOp { .. }
            | SqlExpr::Cast { .. }
            | SqlExpr::Extract { .. }
            | SqlExpr::Ceil { .. }
            | SqlExpr::Floor { .. }
            | SqlExpr::Position { .. }
            | SqlExpr::Substring { .. }
            | SqlExpr::Trim { .. }
            | SqlExpr::Nested(_)
            | SqlExpr::TypedString(_)
            | SqlExpr::Case { .. }
            | SqlExpr::Interval(_) => ControlFlow::Continue(()),
            _ => ControlFlow::Break(
                "uses a kind of SQL expression a derived column cannot (arrays, structs, maps, \
                                     time zones, ...); use arithmetic, comparisons, CASE, functions on the row"
                    .into(),
            ),
        }
    }
}

/// Aggregate functions, named so their refusal says why.
const AGGREGATES: &[&str] = &[
    "avg",
    "corr",
    "count",
    "covar_pop",
    "covar_samp",
    "covar",
    "first",
    "last",
    "max",
    "median",
    "min",
    "quantile_cont",
    "quantile_disc",
    "stdev",
    "stddev",
    "stdev_samp",
    "stddev_samp",
    "string_agg",
    "listagg",
    "group_concat",
    "sum",
    "total",
    "var",
    "variance",
    "var_samp",
    "array_agg",
    "rank",
    "dense_rank",
    "row_number",
    "lag",
    "lead",
    "first_value",
    "last_value",
];

/// A lookup table as read, with the path it was stored under.
pub struct LoadedLookup<'a> {
    /// The lookup as stored.
    pub lookup: &'a Lookup,
    /// Its table.
    pub frame: DataFrame,
}

/// Applies lookups and derived columns to `frame`: each lookup is joined as soon as the data has
/// all its key columns, each derived column is computed in order. Returns the new table and what
/// to tell the user (match rates, values that came out empty).
pub fn apply_derived(
    frame: DataFrame,
    derived: &DerivedColumns,
    lookups: Vec<LoadedLookup<'_>>,
) -> Result<(DataFrame, Vec<String>), DataError> {
    derived.check()?;
    let mut frame = frame;
    let mut warnings = Vec::new();
    let mut pending: Vec<Option<LoadedLookup<'_>>> = lookups.into_iter().map(Some).collect();
    let join_ready = |frame: DataFrame,
                      pending: &mut [Option<LoadedLookup<'_>>],
                      warnings: &mut Vec<String>|
     -> Result<DataFrame, DataError> {
        let mut frame = frame;
        for slot in pending.iter_mut() {
            let ready = slot.as_ref().is_some_and(|l| l.lookup.on.iter().all(|k| frame.column(k).is_ok()));
            if ready && let Some(loaded) = slot.take() {
                let (joined, note) = join_lookup(frame, &loaded)?;
                frame = joined;
                warnings.push(note);
            }
        }
        Ok(frame)
    };
    frame = join_ready(frame, &mut pending, &mut warnings)?;
    for column in &derived.columns {
        frame = derive_column(frame, column, &mut warnings)?;
        frame = join_ready(frame, &mut pending, &mut warnings)?;
    }
    if let Some(loaded) = pending.into_iter().flatten().next() {
        let missing: Vec<&String> = loaded.lookup.on.iter().filter(|k| frame.column(k).is_err()).collect();
        return Err(DataError::Lookup {
            path: loaded.lookup.path.clone(),
            problem: format!(
                "is joined on {}, which the data does not have (make it with a derived column, e.g. month = strftime(date, '%Y-%m'))",
                missing.iter().map(|k| quoted(k)).collect::<Vec<_>>().join(", ")
            ),
        });
    }
    Ok((frame, warnings))
}

/// Computes one derived column on `frame`.
pub fn derive_column(
    frame: DataFrame,
    column: &DerivedColumn,
    warnings: &mut Vec<String>,
) -> Result<DataFrame, DataError> {
    let parsed = parse_expression(&column.expression).map_err(|p| derive_error(column, p))?;
    check_name(&column.name).map_err(|p| derive_error(column, p))?;
    if frame.column(&column.name).is_ok() {
        return Err(derive_error(
            column,
            format!("{} is already a column of the data; choose another name", quoted(&column.name)),
        ));
    }
    let names: Vec<String> = frame.get_column_names().iter().map(|c| c.to_string()).collect();
    for (name, (line, col)) in parsed.columns.iter().zip(&parsed.positions) {
        if !names.iter().any(|n| n == name || n.eq_ignore_ascii_case(name)) {
            let listed: Vec<String> = names.iter().take(30).map(|n| quoted(n)).collect();
            return Err(derive_error(
                column,
                format!(
                    "column {} (at line {line}, column {col}) is not in the data; columns are: {}{}",
                    quoted(name),
                    listed.join(", "),
                    if names.len() > 30 { ", ..." } else { "" }
                ),
            ));
        }
    }
    let height = frame.height();
    let width = frame.width();
    let mut context = polars::sql::SQLContext::new();
    context.register("t", frame.lazy());
    // The name is letters, digits and _ (checked), so quoting it cannot end the identifier early.
    let query = format!("SELECT *, {} AS \"{}\" FROM t", column.expression, column.name);
    let polars_problem = |e: PolarsError| {
        let text = e.to_string();
        let first = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("failed").to_string();
        derive_error(column, polars_words(&first))
    };
    let out = context.execute(&query).and_then(|lf| lf.collect()).map_err(polars_problem)?;
    if out.height() != height || out.width() != width + 1 {
        return Err(derive_error(
            column,
            format!(
                "gives {} rows where the data has {height}; a derived column gives one value per row",
                out.height()
            ),
        ));
    }
    let made = out.column(&column.name).map_err(polars_problem)?.clone();
    match made.dtype() {
        DataType::List(_) | DataType::Struct(_) | DataType::Binary | DataType::BinaryOffset => {
            return Err(derive_error(
                column,
                format!("gives a {} per row; a derived column gives one number, text, date or yes/no", made.dtype()),
            ));
        }
        _ => {}
    }
    let mut out = out;
    // A difference of dates or date-times is given in days (fractional when the times differ), the
    // unit recency and tenure use, rather than as a duration no feature can use.
    if let DataType::Duration(unit) = made.dtype() {
        let per_day = match unit {
            TimeUnit::Nanoseconds => 86_400e9,
            TimeUnit::Microseconds => 86_400e6,
            TimeUnit::Milliseconds => 86_400e3,
        };
        let name = column.name.as_str();
        out = out
            .lazy()
            .with_column((col(name).cast(DataType::Int64).cast(DataType::Float64) / lit(per_day)).alias(name))
            .collect()
            .map_err(polars_problem)?;
    }
    let made = out.column(&column.name).map_err(polars_problem)?.clone();
    if made.dtype().is_float() {
        let values = made.cast(&DataType::Float64).map_err(polars_problem)?;
        let values = values.f64().map_err(polars_problem)?;
        let n_bad = values.iter().filter(|v| v.is_some_and(|v| !v.is_finite())).count();
        if n_bad > 0 {
            let cleaned: Float64Chunked = values.iter().map(|v| v.filter(|v| v.is_finite())).collect();
            let cleaned = cleaned.with_name(column.name.as_str().into()).into_column();
            out.with_column(cleaned).map_err(polars_problem)?;
            warnings.push(format!(
                "derived column {}: {n_bad} of {height} rows gave no finite value (a division by zero, the log of \
                 zero or an overflow) and are left empty",
                quoted(&column.name)
            ));
        }
    }
    Ok(out)
}

/// polars' words for a failure, with its SQL jargon made plainer.
fn polars_words(message: &str) -> String {
    let message = message.trim_start_matches("SQL interface error: ").trim_start_matches("sql parser error: ");
    let short: String = message.chars().take(300).collect();
    format!("cannot be computed: {short}")
}

/// Joins a lookup table onto `frame` by its keys (left join, the data's rows kept in order) and
/// reports how many rows found a match.
pub fn join_lookup(frame: DataFrame, loaded: &LoadedLookup<'_>) -> Result<(DataFrame, String), DataError> {
    let lookup = loaded.lookup;
    let bad = |problem: String| DataError::Lookup { path: lookup.path.clone(), problem };
    let table = &loaded.frame;
    if table.height() > MAX_LOOKUP_ROWS {
        return Err(bad(format!("has {} rows; a lookup table has at most {MAX_LOOKUP_ROWS}", table.height())));
    }
    for key in &lookup.on {
        if table.column(key).is_err() {
            return Err(bad(format!("has no key column {}", quoted(key))));
        }
    }
    let clashes: Vec<String> = table
        .get_column_names()
        .iter()
        .filter(|c| !lookup.on.iter().any(|k| k == c.as_str()) && frame.column(c.as_str()).is_ok())
        .map(|c| quoted(c.as_str()))
        .collect();
    if !clashes.is_empty() {
        return Err(bad(format!(
            "has columns the data already has ({}); rename them in the lookup table",
            clashes.join(", ")
        )));
    }
    let polars = |e: PolarsError| bad(format!("could not be joined: {e}"));
    // Keys of different types (a month as text in one, a number in the other) are compared as text.
    let mut left = frame.clone().lazy();
    let mut right = table.clone().lazy();
    for key in &lookup.on {
        let (l, r) = (frame.column(key).map_err(polars)?.dtype(), table.column(key).map_err(polars)?.dtype());
        if l != r {
            left = left.with_column(col(key.as_str()).cast(DataType::String));
            right = right.with_column(col(key.as_str()).cast(DataType::String));
        }
    }
    let keys: Vec<Expr> = lookup.on.iter().map(|k| col(k.as_str())).collect();
    let repeated = right
        .clone()
        .group_by(keys.clone())
        .agg([len().alias("__strata_n")])
        .filter(col("__strata_n").gt(lit(1u32)))
        .collect()
        .map_err(polars)?;
    if repeated.height() > 0 {
        let example = describe_keys(&repeated, &lookup.on, 0);
        return Err(bad(format!(
            "repeats {} key(s) (for example {example}); each key may appear once",
            repeated.height()
        )));
    }
    const MATCHED: &str = "__strata_lookup_matched";
    let right = right.with_column(lit(true).alias(MATCHED));
    let joined = left
        .join(
            right,
            keys.clone(),
            keys,
            JoinArgs { maintain_order: MaintainOrderJoin::Left, ..JoinArgs::new(JoinType::Left) },
        )
        .collect()
        .map_err(polars)?;
    if joined.height() != frame.height() {
        return Err(bad("changed the number of rows when joined; report this as a bug".into()));
    }
    let matched = joined.column(MATCHED).map_err(polars)?;
    let n_unmatched = matched.null_count();
    let n = frame.height();
    let mut note = format!(
        "lookup {} on {}: {} of {n} rows matched ({:.1}%)",
        quoted(&lookup.path),
        lookup.on.join(", "),
        n - n_unmatched,
        if n == 0 { 100.0 } else { 100.0 * (n - n_unmatched) as f64 / n as f64 }
    );
    if n_unmatched > 0 {
        let first = matched.is_null().iter().position(|m| m == Some(true)).unwrap_or(0);
        note.push_str(&format!(
            "; {n_unmatched} rows found no match and get empty values, for example {}",
            describe_keys(&joined, &lookup.on, first)
        ));
    }
    let joined = joined.drop(MATCHED).map_err(polars)?;
    // Keys compared as text go back to the data's own values and types.
    let mut joined = joined;
    for key in &lookup.on {
        let original = frame.column(key).map_err(polars)?.clone();
        joined.with_column(original).map_err(polars)?;
    }
    Ok((joined, note))
}

fn describe_keys(frame: &DataFrame, keys: &[String], row: usize) -> String {
    keys.iter()
        .map(|k| {
            let value = frame.column(k).ok().and_then(|c| c.get(row).ok()).map(|v| v.to_string());
            format!("{k}={}", value.unwrap_or_else(|| "?".into()))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The first rows of `frame` with the derived columns applied (lookups left out), for the editor's
/// preview: the new columns and the columns they read.
pub fn preview(frame: &DataFrame, derived: &DerivedColumns) -> Result<DataFrame, DataError> {
    let head = frame.head(Some(PREVIEW_ROWS));
    let mut warnings = Vec::new();
    let mut out = head;
    for column in &derived.columns {
        out = derive_column(out, column, &mut warnings)?;
    }
    let mut shown: Vec<String> = Vec::new();
    for column in &derived.columns {
        if let Ok(parsed) = parse_expression(&column.expression) {
            for c in parsed.columns {
                if !shown.contains(&c) && out.column(&c).is_ok() {
                    shown.push(c);
                }
            }
        }
        shown.retain(|c| *c != column.name);
        shown.push(column.name.clone());
    }
    out.select(shown).map_err(|e| DataError::Polars(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn derived(name: &str, expression: &str) -> DerivedColumn {
        DerivedColumn { name: name.into(), expression: expression.into() }
    }

    fn bookings() -> DataFrame {
        df![
            "guest" => ["a", "b", "a", "c"],
            "price" => [100.0, 80.5, 120.0, 0.0],
            "nights_weekend" => [1i64, 0, 2, 1],
            "nights_week" => [2i64, 3, 0, 0],
            "channel" => ["  Web Direct", "Travel AGENT", "web", "phone"],
            "currency" => ["EUR", "USD", "USD", "GBP"],
        ]
        .unwrap()
    }

    fn apply(frame: DataFrame, columns: &[DerivedColumn]) -> Result<(DataFrame, Vec<String>), DataError> {
        apply_derived(frame, &DerivedColumns { lookups: vec![], columns: columns.to_vec() }, vec![])
    }

    fn floats(frame: &DataFrame, name: &str) -> Vec<Option<f64>> {
        frame.column(name).unwrap().cast(&DataType::Float64).unwrap().f64().unwrap().iter().collect()
    }

    fn texts(frame: &DataFrame, name: &str) -> Vec<Option<String>> {
        frame.column(name).unwrap().str().unwrap().iter().map(|v| v.map(str::to_string)).collect()
    }

    #[test]
    fn arithmetic_case_text_and_later_columns_using_earlier_ones() {
        let (out, warnings) = apply(
            bookings(),
            &[
                derived("nights", "nights_weekend + nights_week"),
                derived("amount", "price * nights"),
                derived("big", "CASE WHEN amount >= 300 THEN 'big' WHEN amount > 0 THEN 'small' ELSE 'none' END"),
                derived("web", "lower(trim(channel)) LIKE 'web%'"),
                derived("agent", "regexp_like(channel, '(?i)agent')"),
                derived("starts", "starts_with(lower(channel), 'phone')"),
                derived("log_amount", "round(ln(amount + 1), 3)"),
                derived("log1p_amount", "log1p(amount)"),
                derived("grown", "exp(0) * pow(2, 3)"),
                derived("safe", "coalesce(nullif(price, 0), -1)"),
            ],
        )
        .unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(floats(&out, "amount"), [Some(300.0), Some(241.5), Some(240.0), Some(0.0)]);
        assert_eq!(
            texts(&out, "big"),
            [Some("big".into()), Some("small".into()), Some("small".into()), Some("none".into())]
        );
        let bools = |name: &str| out.column(name).unwrap().bool().unwrap().iter().collect::<Vec<_>>();
        assert_eq!(bools("web"), [Some(true), Some(false), Some(true), Some(false)]);
        assert_eq!(bools("agent"), [Some(false), Some(true), Some(false), Some(false)]);
        assert_eq!(bools("starts"), [Some(false), Some(false), Some(false), Some(true)]);
        assert_eq!(floats(&out, "log_amount")[0], Some(((301.0f64).ln() * 1000.0).round() / 1000.0));
        assert_eq!(floats(&out, "log1p_amount")[1], Some(241.5f64.ln_1p()));
        assert_eq!(floats(&out, "grown")[0], Some(8.0));
        assert_eq!(floats(&out, "safe"), [Some(100.0), Some(80.5), Some(120.0), Some(-1.0)]);
        assert_eq!(out.height(), 4);
    }

    #[test]
    fn date_parts_and_day_differences() {
        let frame = df![
            "ordered" => ["2024-03-01 14:30:00", "2024-12-31 08:00:00"],
            "shipped" => ["2024-03-04", "2025-01-02"],
        ]
        .unwrap()
        .lazy()
        .with_columns([
            col("ordered").str().to_datetime(
                Some(TimeUnit::Microseconds),
                None,
                StrptimeOptions::default(),
                lit("raise"),
            ),
            col("shipped").str().to_date(StrptimeOptions::default()),
        ])
        .collect()
        .unwrap();
        let (out, _) = apply(
            frame,
            &[
                derived("y", "EXTRACT(year FROM ordered)"),
                derived("m", "date_part('month', ordered)"),
                derived("wd", "EXTRACT(isodow FROM ordered)"),
                derived("h", "EXTRACT(hour FROM ordered)"),
                derived("days", "shipped - CAST(ordered AS DATE)"),
                derived("hours_left", "(shipped - ordered) * 24"),
                derived(
                    "late",
                    "shipped > DATE '2024-12-01' AND ordered < CAST(shipped AS TIMESTAMP) - INTERVAL '2 days'",
                ),
                derived("month", "strftime(ordered, '%Y-%m')"),
            ],
        )
        .unwrap();
        assert_eq!(floats(&out, "y"), [Some(2024.0), Some(2024.0)]);
        assert_eq!(floats(&out, "m"), [Some(3.0), Some(12.0)]);
        assert_eq!(floats(&out, "wd"), [Some(5.0), Some(2.0)]);
        assert_eq!(floats(&out, "h"), [Some(14.0), Some(8.0)]);
        assert_eq!(floats(&out, "days"), [Some(3.0), Some(2.0)], "a date difference is in days");
        assert_eq!(floats(&out, "hours_left")[0], Some(57.5));
        let late: Vec<Option<bool>> = out.column("late").unwrap().bool().unwrap().iter().collect();
        assert_eq!(late, [Some(false), Some(false)]);
        assert_eq!(texts(&out, "month"), [Some("2024-03".into()), Some("2024-12".into())]);
    }

    fn refused(expression: &str) -> String {
        let err = apply(bookings(), &[derived("x", expression)]).unwrap_err().to_string();
        assert!(!err.contains('\n'), "one line: {err}");
        assert!(err.starts_with("derived column 'x' = "), "{err}");
        err
    }

    #[test]
    fn hostile_expressions_are_refused_before_polars_sees_them() {
        assert!(refused("(SELECT 1)").contains("subquery"));
        assert!(refused("price IN (SELECT price FROM t)").contains("subquery"));
        assert!(refused("EXISTS (SELECT * FROM read_csv('/etc/passwd'))").contains("subquery"));
        assert!(refused("read_csv('/etc/passwd')").contains("reads a file"));
        assert!(refused("read_parquet('x.parquet')").contains("reads a file"));
        assert!(refused("price; DROP TABLE t").contains("';'"));
        assert!(refused("price FROM t").contains("after the expression"));
        assert!(refused("sum(price)").contains("aggregate"));
        assert!(refused("price / avg(price)").contains("aggregate"));
        assert!(refused("row_number() OVER ()").contains("aggregate"));
        assert!(refused("abs(price) OVER (PARTITION BY guest)").contains("window"));
        assert!(refused("unnest(price)").contains("row-by-row"));
        assert!(refused("t.price").contains("write the column's name alone"));
        assert!(refused("*").contains("'*'") || refused("*").contains("uses *"));
        assert!(refused("").contains("no expression"));
        assert!(refused("price +").contains("not valid SQL"));
        assert!(refused("'unterminated").contains("not valid SQL"));
        assert!(refused("price \u{0} 1").contains("control character"));
        assert!(
            refused("\u{202e}price").contains("not valid SQL") || refused("\u{202e}price").contains("not in the data")
        );
        let deep = format!("{}price{}", "(".repeat(500), ")".repeat(500));
        assert!(refused(&deep).contains("nests too deeply"));
        let deep_calls = format!("{}price{}", "abs(".repeat(100), ")".repeat(100));
        assert!(refused(&deep_calls).contains("nests too deeply"));
        let long = format!("price{}", " + price".repeat(400));
        assert!(refused(&long).contains("at most 2000"));
        // A long sum is deep too (a + b + c is (a + b) + c): 100 terms are fine, 200 are not.
        let wide = |n: usize| (0..n).map(|_| "price").collect::<Vec<_>>().join(" + ");
        assert!(apply(bookings(), &[derived("x", &wide(100))]).is_ok());
        assert!(refused(&wide(200)).contains("nests too deeply"));
    }

    #[test]
    fn unknown_columns_collisions_and_bad_names_say_where() {
        let err = refused("price * nigths");
        assert!(err.contains("column 'nigths' (at line 1, column 9) is not in the data"), "{err}");
        assert!(err.contains("'price'"), "lists the columns: {err}");
        let err = apply(bookings(), &[derived("price", "price * 2")]).unwrap_err().to_string();
        assert!(err.contains("already a column of the data"), "{err}");
        for bad in ["", "has space", "1st", "a;b", "x\"y", &"n".repeat(65)] {
            let err = apply(bookings(), &[derived(bad, "price")]).unwrap_err().to_string();
            assert!(err.starts_with("derived column"), "{bad}: {err}");
        }
        let twice = DerivedColumns { lookups: vec![], columns: vec![derived("a", "price"), derived("a", "price")] };
        assert!(twice.check().unwrap_err().to_string().contains("defined twice"));
        let many = DerivedColumns {
            lookups: vec![],
            columns: (0..=MAX_DERIVED_COLUMNS).map(|i| derived(&format!("c{i}"), "price")).collect(),
        };
        assert!(many.check().unwrap_err().to_string().contains("at most 64"));
        assert!(parse_derive_arg("no equals sign").unwrap_err().contains("NAME = EXPRESSION"));
        let parsed = parse_derive_arg(" amount = price * (a + b) ").unwrap();
        assert_eq!((parsed.name.as_str(), parsed.expression.as_str()), ("amount", "price * (a + b)"));
    }

    #[test]
    fn type_errors_are_one_line_and_non_finite_values_are_emptied_with_a_warning() {
        let err = refused("channel * 2");
        assert!(err.contains("cannot be computed"), "{err}");
        let (out, warnings) = apply(bookings(), &[derived("l", "ln(price)")]).unwrap();
        assert_eq!(floats(&out, "l")[3], None);
        assert!(warnings[0].contains("1 of 4 rows gave no finite value"), "{warnings:?}");
    }

    #[test]
    fn a_lookup_joins_by_keys_keeps_rows_in_order_and_reports_the_match_rate() {
        let rates = df!["currency" => ["EUR", "USD"], "rate" => [1.0, 0.9]].unwrap();
        let lookup = Lookup { path: "rates.csv".into(), on: vec!["currency".into()], fingerprint: None };
        let spec = DerivedColumns { lookups: vec![lookup.clone()], columns: vec![derived("eur", "price * rate")] };
        let (out, warnings) =
            apply_derived(bookings(), &spec, vec![LoadedLookup { lookup: &lookup, frame: rates.clone() }]).unwrap();
        assert_eq!(texts(&out, "guest"), ["a", "b", "a", "c"].map(|g| Some(g.to_string())));
        assert_eq!(floats(&out, "eur"), [Some(100.0), Some(80.5 * 0.9), Some(120.0 * 0.9), None]);
        assert!(warnings[0].contains("3 of 4 rows matched (75.0%)"), "{warnings:?}");
        assert!(warnings[0].contains("currency=\"GBP\""), "{warnings:?}");

        // Keys made by a derived column are joined once they exist.
        let by_code = Lookup { path: "rates.csv".into(), on: vec!["code".into()], fingerprint: None };
        let rates_by_code = df!["code" => ["eur", "usd", "gbp"], "rate" => [1.0, 0.9, 1.2]].unwrap();
        let spec = DerivedColumns {
            lookups: vec![by_code.clone()],
            columns: vec![derived("code", "lower(currency)"), derived("eur", "price * rate")],
        };
        let (out, warnings) =
            apply_derived(bookings(), &spec, vec![LoadedLookup { lookup: &by_code, frame: rates_by_code }]).unwrap();
        assert_eq!(floats(&out, "eur")[3], Some(0.0));
        assert!(warnings[0].contains("4 of 4 rows matched (100.0%)"), "{warnings:?}");

        let repeated = df!["currency" => ["EUR", "EUR"], "rate" => [1.0, 0.9]].unwrap();
        let err =
            apply_derived(bookings(), &spec_with(&lookup), vec![LoadedLookup { lookup: &lookup, frame: repeated }])
                .unwrap_err()
                .to_string();
        assert!(err.contains("repeats 1 key(s)") && err.contains("EUR"), "{err}");
        let clash = df!["currency" => ["EUR"], "price" => [1.0]].unwrap();
        let err = apply_derived(bookings(), &spec_with(&lookup), vec![LoadedLookup { lookup: &lookup, frame: clash }])
            .unwrap_err()
            .to_string();
        assert!(err.contains("columns the data already has ('price')"), "{err}");
        let missing = Lookup { path: "rates.csv".into(), on: vec!["month".into()], fingerprint: None };
        let err = apply_derived(
            bookings(),
            &spec_with(&missing),
            vec![LoadedLookup { lookup: &missing, frame: df!["month" => ["2024-01"]].unwrap() }],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("which the data does not have"), "{err}");
    }

    fn spec_with(lookup: &Lookup) -> DerivedColumns {
        DerivedColumns { lookups: vec![lookup.clone()], columns: vec![] }
    }

    #[test]
    fn the_preview_shows_the_columns_read_and_made() {
        let spec = DerivedColumns { lookups: vec![], columns: vec![derived("amount", "price * nights_week")] };
        let preview = preview(&bookings(), &spec).unwrap();
        let names: Vec<String> = preview.get_column_names().iter().map(|c| c.to_string()).collect();
        assert_eq!(names, ["price", "nights_week", "amount"]);
        assert_eq!(
            spec.columns_to_read(&["guest".into(), "amount".into()]).unwrap(),
            ["guest", "price", "nights_week"]
        );
    }
}
