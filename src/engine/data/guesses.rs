//! First guesses a careful analyst would make on a new table: which column is the customer id and
//! which few columns are the default features, each with the reason it was (or was not) chosen.
//!
//! The rules, stated once:
//! - Never a default feature: a row key (a `rownames`/`index`/`Unnamed: 0`/`X` column, or integers
//!   that number the rows 1..n or 0..n-1), a date part (year, month, quarter, week, day, hour), an
//!   id-like column, a constant, a column more than half missing, text (numeric columns only are
//!   proposed; a categorical can be ticked by hand), whole numbers under a code's name (`region`,
//!   `store_type`, `status_code`: categories, see [`super::roles::name_is_code_like`]), and
//!   personal data. A 0/1 column may be proposed, and its reason says it is an indicator.
//! - The customer id of a transaction log has many distinct values ([`LOG_ID_MIN_DISTINCT`] or
//!   more) and several rows each (on average at least [`LOG_ID_MIN_ROWS_EACH`]); the id of a
//!   customer table is unique per row; without dates, an id-named column that repeats the same way
//!   (a panel) is taken when no unique column is named like an id. Columns whose name says customer/client/user come first,
//!   then those named like an id, then any other qualifying column.
//! - Default features: the remaining numeric columns ordered by fewest missing values, then most
//!   distinct values (counted up to [`DISTINCT_CAP`], so decimals do not outrank a count), then
//!   file order; taken greedily, leaving out a column whose |r| with one already taken exceeds
//!   [`REDUNDANT_R`]; at most [`MAX_SUGGESTED_FEATURES`]; listed in file order.

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::roles::{ColumnRole, RoleGuess, ZERO_ONE_REASON, is_zero_one, name_is_id_like};

/// At most this many default features.
pub const MAX_SUGGESTED_FEATURES: usize = 12;
/// |r| above which the second of two columns is left out as redundant.
pub const REDUNDANT_R: f64 = 0.9;
/// Distinct values are counted up to this many when ranking features.
pub const DISTINCT_CAP: usize = 20;
/// A log's customer id has at least this many distinct values.
pub const LOG_ID_MIN_DISTINCT: usize = 20;
/// A log's customer id has on average at least this many rows per value.
pub const LOG_ID_MIN_ROWS_EACH: f64 = 1.2;
/// Correlations for the redundancy check are computed on at most this many rows (the first ones).
const CORRELATION_ROWS: usize = 50_000;

/// One guessed column and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Guess {
    /// The column.
    pub column: String,
    /// Why it was chosen (or left out), one short sentence a business user can read.
    pub reason: String,
}

/// The guessed customer id, or why no column qualifies.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IdGuess {
    /// The column, when one qualifies.
    pub column: Option<String>,
    /// Why it was chosen, or why none was.
    pub reason: String,
    /// Whether the column repeats (several rows per customer): the table reads as a transaction log.
    pub repeats: bool,
}

/// Everything guessed about a new table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Suggestions {
    /// The proposed features, in file order.
    pub features: Vec<Guess>,
    /// Every other column, with why it is not proposed.
    pub left_out: Vec<Guess>,
    /// The customer id.
    pub id: IdGuess,
}

impl Suggestions {
    /// Why `column` was proposed or left out, when it was considered.
    pub fn reason_for(&self, column: &str) -> Option<&str> {
        self.features.iter().chain(&self.left_out).find(|g| g.column == column).map(|g| g.reason.as_str())
    }

    /// The proposed feature columns.
    pub fn feature_columns(&self) -> Vec<String> {
        self.features.iter().map(|g| g.column.clone()).collect()
    }
}

fn normalised(name: &str) -> String {
    name.trim().to_ascii_lowercase().replace([' ', '-', '.', ':'], "_")
}

fn tokens(name: &str) -> Vec<String> {
    normalised(name).split('_').filter(|t| !t.is_empty()).map(str::to_string).collect()
}

/// Non-missing finite values of a numeric column, or `None` for any other type.
fn numbers(column: &Column) -> Option<Vec<f64>> {
    if !column.dtype().is_primitive_numeric() {
        return None;
    }
    let cast = column.as_materialized_series().cast(&DataType::Float64).ok()?;
    let values = cast.f64().ok()?.iter().flatten().filter(|v| v.is_finite()).collect();
    Some(values)
}

fn all_integers(values: &[f64]) -> bool {
    values.iter().all(|v| v.fract() == 0.0)
}

/// Why a column is a row key, when it is one.
pub fn row_key_reason(column: &Column, n_rows: usize) -> Option<String> {
    let n = normalised(column.name());
    // "column_1" is the name the reader gives an empty first header (R's write.csv row names).
    let named = matches!(
        n.as_str(),
        "" | "rownames" | "row_names" | "rowname" | "index" | "unnamed_0" | "unnamed__0" | "___1" | "column_1"
    );
    let values = numbers(column)?;
    if values.len() != n_rows || n_rows < 2 || !all_integers(&values) {
        return None;
    }
    let (lo, hi) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let numbers_rows =
        (lo == 0.0 || lo == 1.0) && hi - lo == (n_rows - 1) as f64 && column.n_unique().ok() == Some(n_rows);
    match (named, numbers_rows) {
        (_, true) => {
            Some(format!("a row key: its values number the rows {lo}..{hi}, so it says nothing about a customer"))
        }
        // A name alone (integers, but not exactly 1..n: a filtered table) is enough for the names row
        // numbers get; an "x" (or "X") only when it numbers the rows, as it may be a real measure.
        (true, false) => Some(format!("a row key: '{}' is the name a table's row numbers get", column.name())),
        _ => None,
    }
}

/// Why a numeric column is a part of a date, when it is one.
pub fn date_part_reason(column: &Column) -> Option<String> {
    let t = tokens(column.name());
    let values = numbers(column)?;
    if values.is_empty() || !all_integers(&values) {
        return None;
    }
    let (lo, hi) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let has_date = t.iter().any(|x| x == "date" || x == "dt");
    // The part's word is the whole name, its last word, or any word of a name that says "date":
    // "year", "arrival_date_week_number", "order_month"; not "day_mins" or "year_built" alone.
    let part = |words: &[&str]| {
        t.iter().enumerate().any(|(i, x)| words.contains(&x.as_str()) && (i + 1 == t.len() || has_date))
    };
    let within = |a: f64, b: f64| lo >= a && hi <= b;
    let kind = if part(&["year", "yr", "yyyy", "years"]) && within(1700.0, 2200.0) {
        "a year"
    } else if part(&["month", "mon", "mm"]) && within(0.0, 12.0) {
        "a month"
    } else if part(&["quarter", "qtr"]) && within(0.0, 4.0) {
        "a quarter"
    } else if part(&["week", "wk", "weeknum", "weekday", "dow"]) && within(0.0, 53.0) {
        "a week or weekday"
    } else if part(&["day", "dd", "dom", "doy"]) && within(0.0, 366.0) {
        "a day"
    } else if part(&["hour", "hr", "minute"]) && within(0.0, 59.0) {
        "a time of day"
    } else {
        return None;
    };
    Some(format!("{kind} ({lo}..{hi}): a part of a date, not a measure of the customer"))
}

fn name_says_customer(name: &str) -> bool {
    let n = normalised(name);
    ["customer", "client", "user", "member", "account", "guest", "buyer", "household", "shopper", "patient"]
        .iter()
        .any(|w| n.contains(w))
}

/// Guesses the customer id: for a transaction log (a `Date` role present), a column with many
/// distinct values and several rows each; else a column unique per row. `None` with the reason
/// when no column qualifies.
pub fn suggest_id(frame: &DataFrame, roles: &[RoleGuess]) -> IdGuess {
    let n_rows = frame.height();
    let is_log = roles.iter().any(|r| r.role == ColumnRole::Date);
    // (name rank, column, n_distinct, repeats); lower rank first.
    let mut unique: Vec<(u8, String, usize)> = Vec::new();
    let mut repeating: Vec<(u8, String, usize)> = Vec::new();
    let mut too_few: Vec<(String, usize)> = Vec::new();
    for column in frame.columns() {
        let name = column.name().to_string();
        let dtype = column.dtype();
        if !(dtype.is_integer() || dtype.is_string()) {
            continue;
        }
        let role = roles.iter().find(|r| r.column == name).map(|r| r.role);
        if matches!(role, Some(ColumnRole::Sensitive | ColumnRole::Date)) || date_part_reason(column).is_some() {
            continue;
        }
        let rank = if name_says_customer(&name) && (name_is_id_like(&name) || !dtype.is_integer()) {
            0
        } else if name_is_id_like(&name) || name_says_customer(&name) {
            1
        } else if role == Some(ColumnRole::CustomerId) {
            2
        } else {
            3
        };
        let n_missing = column.null_count();
        let n_distinct = column.n_unique().unwrap_or(0).saturating_sub(usize::from(n_missing > 0));
        if n_missing == 0 && n_distinct == n_rows && n_rows > 0 {
            let row_key = row_key_reason(column, n_rows).is_some();
            // Distinct integers without an id-like name may well be a measure (a year built).
            if row_key || rank < 3 || dtype.is_string() {
                unique.push((if row_key { 4 } else { rank }, name, n_distinct));
            }
        } else if n_distinct >= LOG_ID_MIN_DISTINCT && n_rows as f64 >= LOG_ID_MIN_ROWS_EACH * n_distinct as f64 {
            // A text or integer column without a customer-like or id-like name is only taken when it
            // looks like codes (rank 3 is skipped below unless nothing else qualifies).
            repeating.push((rank, name, n_distinct));
        } else if rank <= 1 {
            too_few.push((name, n_distinct));
        }
    }
    let best = |list: &mut Vec<(u8, String, usize)>| {
        list.sort_by(|a, b| a.0.cmp(&b.0).then(b.2.cmp(&a.2)));
        list.first().cloned()
    };
    let why_not = || {
        if too_few.is_empty() {
            String::new()
        } else {
            let named: Vec<String> = too_few
                .iter()
                .map(|(c, d)| format!("'{c}' has {}", crate::engine::warnings::count(*d, "value", "values")))
                .collect();
            format!(" ({})", named.join(", "))
        }
    };
    if is_log {
        if let Some((rank, column, n_distinct)) = best(&mut repeating)
            && rank <= 2
        {
            let each = n_rows as f64 / n_distinct.max(1) as f64;
            return IdGuess {
                reason: format!(
                    "the customer id of a log: {} with {each:.1} rows each on average{}",
                    crate::engine::warnings::count(n_distinct, "distinct value", "distinct values"),
                    if rank == 0 { ", and the name says customer" } else { ", and the name reads like an id" }
                ),
                column: Some(column),
                repeats: true,
            };
        }
        let no_log_id = format!(
            "no column looks like the customer id of a log: it needs a name like an id, at least \
             {LOG_ID_MIN_DISTINCT} distinct values and several rows each{}",
            why_not()
        );
        // A unique id-like column (an order or booking number) still names the rows.
        return match best(&mut unique) {
            Some((rank, column, _)) if rank <= 1 => IdGuess {
                reason: format!("{no_log_id}; '{column}' has one value per row, so each row is read as a customer"),
                column: Some(column),
                repeats: false,
            },
            _ => IdGuess { column: None, reason: format!("{no_log_id}; choose it on the Data screen"), repeats: false },
        };
    }
    // Without dates, an id-named column that repeats (a panel: one row per customer and year)
    // still names the customers, unless a unique id-named column does.
    if unique.iter().all(|u| u.0 > 1)
        && let Some((rank, column, n_distinct)) = best(&mut repeating)
        && rank <= 1
    {
        let each = n_rows as f64 / n_distinct.max(1) as f64;
        return IdGuess {
            reason: format!(
                "{} with {each:.1} rows each on average, and the name reads like an id: several rows per customer",
                crate::engine::warnings::count(n_distinct, "distinct value", "distinct values")
            ),
            column: Some(column),
            repeats: true,
        };
    }
    match best(&mut unique) {
        Some((rank, column, _)) => IdGuess {
            reason: match rank {
                0 | 1 => "one value per row, and the name reads like an id".to_string(),
                4 => "the row key: one value per row (no column is named like an id)".to_string(),
                _ => "one value per row: the only column that tells every customer apart".to_string(),
            },
            column: Some(column),
            repeats: false,
        },
        None => IdGuess {
            column: None,
            reason: format!(
                "no column has one value per row, so none is taken as the customer id{}; the rows are numbered instead",
                why_not()
            ),
            repeats: false,
        },
    }
}

/// Why a column is never a default feature, before redundancy is looked at; `None` for a numeric
/// column that can be proposed.
fn exclusion(column: &Column, role: Option<ColumnRole>, n_rows: usize, id: Option<&str>) -> Option<String> {
    let name = column.name().as_str();
    if Some(name) == id {
        return Some(match row_key_reason(column, n_rows) {
            Some(row_key) => format!("the customer id, {row_key}"),
            None => "the customer id".to_string(),
        });
    }
    let n_missing = column.null_count();
    let n_distinct = column.n_unique().unwrap_or(0).saturating_sub(usize::from(n_missing > 0));
    match role {
        Some(ColumnRole::Sensitive) => return Some("personal or protected data: tick it only on purpose".to_string()),
        Some(ColumnRole::Date) => return Some("a date: recency and tenure come from it, not the date itself".into()),
        Some(ColumnRole::Ignored) => {}
        _ => {}
    }
    if n_missing == n_rows {
        return Some("every value is missing".to_string());
    }
    if n_distinct <= 1 {
        return Some("constant: the same value for every customer".to_string());
    }
    if let Some(reason) = row_key_reason(column, n_rows) {
        return Some(reason);
    }
    if let Some(reason) = date_part_reason(column) {
        return Some(reason);
    }
    if column.dtype().is_string() {
        return Some(if n_distinct * 10 >= n_rows * 9 {
            "text with a different value on (nearly) every row: a label or id, not a trait".to_string()
        } else if name_is_id_like(name) {
            "text named like an id or code".to_string()
        } else {
            format!(
                "text with {}: only numeric columns are proposed; tick it to use it as a category",
                crate::engine::warnings::count(n_distinct, "value", "values")
            )
        });
    }
    if !column.dtype().is_primitive_numeric() {
        return Some("neither a number nor text".to_string());
    }
    if role == Some(ColumnRole::CustomerId) || name_is_id_like(name) {
        return Some("named like an id or code: its numbers label, they do not measure".to_string());
    }
    if role == Some(ColumnRole::Categorical) {
        return Some(format!(
            "a code or category ({}): its numbers label groups, they do not measure; tick it to use it as a category",
            crate::engine::warnings::count(n_distinct, "value", "values")
        ));
    }
    if n_missing * 2 > n_rows {
        return Some(format!("{:.0}% missing", 100.0 * n_missing as f64 / n_rows.max(1) as f64));
    }
    None
}

/// Pearson correlation of two columns over the rows where both have a finite value.
fn correlation(a: &[Option<f64>], b: &[Option<f64>]) -> f64 {
    let pairs: Vec<(f64, f64)> = a
        .iter()
        .zip(b)
        .filter_map(|(x, y)| Some(((*x)?, (*y)?)))
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    let n = pairs.len() as f64;
    if n < 3.0 {
        return 0.0;
    }
    let (mx, my) = pairs.iter().fold((0.0, 0.0), |(sx, sy), (x, y)| (sx + x, sy + y));
    let (mx, my) = (mx / n, my / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in &pairs {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
    }
    let d = (sxx * syy).sqrt();
    if d > 0.0 { sxy / d } else { 0.0 }
}

/// A column that may be proposed: name, values (first rows, as numbers), missing count, distinct
/// count (capped), position in the file, whether it holds only 0 and 1.
type Candidate = (String, Vec<Option<f64>>, usize, usize, usize, bool);

/// Guesses the customer id and the default features of a table whose roles were guessed (or set).
pub fn suggest(frame: &DataFrame, roles: &[RoleGuess]) -> Suggestions {
    let id = suggest_id(frame, roles);
    let n_rows = frame.height();
    let mut left_out = Vec::new();
    let mut candidates: Vec<Candidate> = Vec::new();
    for (position, column) in frame.columns().iter().enumerate() {
        let name = column.name().to_string();
        let role = roles.iter().find(|r| r.column == name).map(|r| r.role);
        if let Some(reason) = exclusion(column, role, n_rows, id.column.as_deref()) {
            left_out.push(Guess { column: name, reason });
            continue;
        }
        let Ok(cast) = column.as_materialized_series().head(Some(CORRELATION_ROWS)).cast(&DataType::Float64) else {
            left_out.push(Guess { column: name, reason: "its values could not be read as numbers".into() });
            continue;
        };
        let Ok(values) = cast.f64().map(|v| v.iter().collect::<Vec<_>>()) else { continue };
        let n_distinct = column.n_unique().unwrap_or(0).min(DISTINCT_CAP);
        candidates.push((name, values, column.null_count(), n_distinct, position, is_zero_one(column)));
    }
    candidates.sort_by(|a, b| a.2.cmp(&b.2).then(b.3.cmp(&a.3)).then(a.4.cmp(&b.4)));
    let mut features: Vec<Guess> = Vec::new();
    let mut taken: Vec<usize> = Vec::new();
    for (i, (name, values, n_missing, _, _, zero_one)) in candidates.iter().enumerate() {
        let twin =
            taken.iter().map(|&j| (j, correlation(values, &candidates[j].1))).find(|(_, r)| r.abs() > REDUNDANT_R);
        if let Some((j, r)) = twin {
            left_out.push(Guess {
                column: name.clone(),
                reason: format!("says almost the same as '{}' (r = {r:.2}), which is proposed", candidates[j].0),
            });
            continue;
        }
        if taken.len() >= MAX_SUGGESTED_FEATURES {
            left_out.push(Guess {
                column: name.clone(),
                reason: format!(
                    "usable, but only the first {MAX_SUGGESTED_FEATURES} are proposed (ranked by fewest missing, then \
                     most distinct values, then file order)"
                ),
            });
            continue;
        }
        taken.push(i);
        let missing = if *n_missing == 0 {
            "no missing values".to_string()
        } else {
            format!("{:.0}% missing", 100.0 * *n_missing as f64 / n_rows.max(1) as f64)
        };
        let what = if *zero_one { ZERO_ONE_REASON } else { "numeric" };
        features.push(Guess {
            column: name.clone(),
            reason: format!(
                "{what}, {missing}, and no |r| above {REDUNDANT_R} with another proposed feature (taken {} of at \
                 most {MAX_SUGGESTED_FEATURES}, ranked by fewest missing, then most distinct values)",
                features.len() + 1
            ),
        });
    }
    // Both lists in file order, so the recipe and a long list read like the table.
    let order: Vec<String> = frame.get_column_names().iter().map(|c| c.to_string()).collect();
    left_out.sort_by_key(|g| order.iter().position(|c| *c == g.column));
    features.sort_by_key(|g| order.iter().position(|c| *c == g.column));
    Suggestions { features, left_out, id }
}

#[cfg(test)]
mod tests;
