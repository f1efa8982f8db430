//! Aggregating a transaction log (id, date, amount) into one row per customer, as of a date.

use chrono::NaiveDate;
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::engine::data::{self, ValueFormats, column_list, dates};
use crate::engine::error::DataError;

/// Whether negative amounts (returns, refunds) are accepted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum NegativeAmounts {
    /// Allowed, counted and reported.
    #[default]
    Allow,
    /// Refused with an error naming how many there are.
    Forbid,
}

/// Which columns of a transaction log hold what, and the as-of date.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TransactionColumns {
    /// Customer id column.
    pub customer_id: String,
    /// Transaction date column (a date, or YYYYMMDD numbers or text).
    pub date: String,
    /// Transaction amount column; `None` for a log without one (a clickstream, a visit log), whose
    /// customers get recency, frequency and tenure but no monetary features. Stored as the column's
    /// name, or as `""` for none, so files with an amount read exactly as before (format 7).
    #[serde(with = "optional_column")]
    pub amount: Option<String>,
    /// Features are computed as of this date; `None` means the day after the last transaction.
    pub as_of: Option<NaiveDate>,
    /// What to do with negative amounts.
    pub negative_amounts: NegativeAmounts,
    /// Only transactions on or after this date count (a window of the log); `None`: all history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<NaiveDate>,
    /// Behavioural features computed beside RFM from the same rows (mix per categorical column,
    /// trend, rhythm, returns, weekend share); written only when asked for.
    #[serde(default, skip_serializing_if = "super::behaviour::BehaviourSpec::is_empty")]
    pub behaviour: super::behaviour::BehaviourSpec,
    /// Customer lifetime value from the same log (format 10): the purchase and spend models' periods,
    /// model and value settings. With it, every customer gets `p_alive`, `expected_purchases`,
    /// `expected_spend` and `clv` columns, usable as features, in rules and in exports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<crate::engine::value::ValueSpec>,
}

impl TransactionColumns {
    /// The amount column's name, or `""` when the log has none (for messages and lists of columns).
    pub fn amount_name(&self) -> &str {
        self.amount.as_deref().unwrap_or("")
    }

    /// The id, date and amount columns (the amount only when there is one).
    pub fn key_columns(&self) -> Vec<String> {
        let mut columns = vec![self.customer_id.clone(), self.date.clone()];
        columns.extend(self.amount.clone());
        columns
    }
}

/// The amount column as the project file writes it: its name, or `""` for none. An empty name was
/// never a readable amount column, so no file written before format 7 changes meaning.
mod optional_column {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Option<String>, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(value.as_deref().unwrap_or(""))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
        let name = String::deserialize(deserializer)?;
        Ok((!name.is_empty()).then_some(name))
    }
}

/// The warning a log without an amount column gets, once.
pub const NO_AMOUNT_WARNING: &str = "the log has no amount column: customers get recency, frequency and tenure, \
     and the monetary features (monetary_total, monetary_mean) are left out";

/// The customer table and what was changed on the way.
#[derive(Clone, Debug)]
pub struct RfmResult {
    /// One row per customer: id, recency_days, frequency, monetary_total, monetary_mean, tenure_days,
    /// first_purchase, last_purchase; sorted by id. Without an amount column, the two monetary
    /// columns are left out.
    pub customers: DataFrame,
    /// The as-of date used.
    pub as_of: NaiveDate,
    /// Transactions used.
    pub n_transactions_used: usize,
    /// Transactions after the as-of date, ignored.
    pub n_after_as_of: usize,
    /// Rows without id, date or a finite amount, dropped.
    pub n_incomplete_dropped: usize,
    /// Transactions with a negative amount (kept).
    pub n_negative_amounts: usize,
    /// Warnings, one sentence each.
    pub warnings: Vec<String>,
}

/// The columns the aggregation produces besides the id, in order.
pub const RFM_COLUMNS: [&str; 7] =
    ["recency_days", "frequency", "monetary_total", "monetary_mean", "tenure_days", "first_purchase", "last_purchase"];

/// Dates of a column as days since 1970-01-01: Date columns as they are, date-times by their day,
/// integers as YYYYMMDD (or Unix epoch seconds/milliseconds in a column named or marked so), texts in
/// any layout the reader detects (ISO dates and date-times, day- or month-first, named months), read
/// as `formats` asks. An ambiguous column is refused; values that do not parse are counted and read
/// as missing (the row is then dropped as incomplete) with a warning, or refused when most do not.
pub(super) fn date_days(
    column: &Column,
    formats: &ValueFormats,
    warnings: &mut Vec<String>,
) -> Result<Series, DataError> {
    let name = column.name().to_string();
    let not_dates = |example: &str, why: &str| DataError::BadColumn {
        column: name.clone(),
        problem: format!(
            "is not a date column (value {}){why}; give dates such as YYYY-MM-DD, 2017-08-31 14:22:00, 31/08/2017 or pass --date-format",
            crate::engine::error::quoted(example)
        ),
    };
    let day_offset = formats.day_offset_minutes()?;
    let from_texts = |texts: Vec<Option<String>>,
                      warnings: &mut Vec<String>,
                      numeric: bool|
     -> Result<Series, DataError> {
        let mut index = std::collections::HashMap::new();
        let mut distinct: Vec<&str> = Vec::new();
        let codes: Vec<u32> = texts
            .iter()
            .map(|t| match t.as_deref().map(str::trim) {
                None | Some("") => u32::MAX,
                Some(t) => *index.entry(t).or_insert_with(|| {
                    distinct.push(t);
                    (distinct.len() - 1) as u32
                }),
            })
            .collect();
        let numeric_dates = numeric
            && (dates::name_suggests_epoch(&name)
                || formats.is_marked_date(&name)
                || formats
                    .date_format
                    .as_deref()
                    .is_some_and(|f| !matches!(dates::explicit_layout(f), dates::DateLayout::Explicit(_))));
        let detected = if numeric_dates {
            let marked = formats.is_marked_date(&name) || formats.date_format.is_some();
            dates::detect_numeric_dates(&name, &distinct, marked, formats)
        } else {
            // Old dates are judged here against the as-of date (the 100-year warning), not refused.
            let judged_later = ValueFormats { allow_old_dates: true, ..formats.clone() };
            dates::detect_text_dates(&name, &distinct, true, &judged_later)?
        };
        let (layout, parsed) = match detected {
            Ok(found) => found,
            Err(
                dates::NotDates::TwoDigitYears(line) | dates::NotDates::TooOld(line) | dates::NotDates::BadEpoch(line),
            ) => {
                let problem = line
                    .strip_prefix(&format!("column {} ", crate::engine::error::quoted(&name)))
                    .unwrap_or(&line)
                    .to_string();
                return Err(DataError::BadColumn { column: name.clone(), problem });
            }
            Err(dates::NotDates::No) => {
                let example = distinct.first().copied().unwrap_or("");
                return Err(not_dates(example, ""));
            }
        };
        let read = dates::to_rows(&codes, &distinct, &parsed, layout, day_offset);
        if read.n_unparsed > 0 {
            let sentence = dates::reading_sentence(&name, &read, formats.day_offset.as_deref());
            if formats.unparsed_dates == data::UnparsedDates::Refuse {
                let problem = sentence
                    .strip_prefix(&format!("column {} ", crate::engine::error::quoted(&name)))
                    .unwrap_or(&sentence)
                    .to_string();
                return Err(DataError::BadColumn {
                    column: name.clone(),
                    problem: format!(
                        "{problem}; say where those rows go (--unparsed-dates drop or fallback), or give the column's format (--date-format COLUMN=FORMAT)"
                    ),
                });
            }
            warnings.push(sentence.replace("are missing", "are missing: their transactions are left out"));
        }
        let days: Vec<Option<i32>> = read.stamps.iter().map(|s| s.and_then(|s| i32::try_from(s.days()).ok())).collect();
        Ok(Series::new(name.as_str().into(), days))
    };
    match column.dtype() {
        DataType::Date => Ok(column.as_materialized_series().cast(&DataType::Int32)?),
        DataType::Datetime(_, _) => {
            let as_date = column.as_materialized_series().cast(&DataType::Date)?;
            Ok(as_date.cast(&DataType::Int32)?)
        }
        dtype if dtype.is_integer() => {
            let epoch_like =
                dates::name_suggests_epoch(&name) || formats.is_marked_date(&name) || formats.date_format.is_some();
            if epoch_like {
                let values = column.as_materialized_series().cast(&DataType::Int64)?;
                let texts: Vec<Option<String>> = values.i64()?.iter().map(|v| v.map(|v| v.to_string())).collect();
                return from_texts(texts, warnings, true);
            }
            let values = column.as_materialized_series().cast(&DataType::Int64)?;
            let days: Vec<Option<i32>> = values
                .i64()?
                .iter()
                .map(|v| match v {
                    None => Ok(None),
                    Some(v) => parse_compact(v)
                        .map(Some)
                        .ok_or_else(|| not_dates(&v.to_string(), " (whole numbers are read as YYYYMMDD)")),
                })
                .collect::<Result<_, _>>()?;
            Ok(Series::new(name.as_str().into(), days))
        }
        DataType::String => {
            let texts: Vec<Option<String>> = column.str()?.iter().map(|v| v.map(str::to_string)).collect();
            from_texts(texts, warnings, false)
        }
        other => Err(DataError::BadColumn { column: name, problem: format!("has type {other}, not dates") }),
    }
}

/// A whole number written as YYYYMMDD, as days since 1970-01-01.
fn parse_compact(v: i64) -> Option<i32> {
    NaiveDate::parse_from_str(&v.to_string(), "%Y%m%d").ok().map(days_from_date)
}

pub(super) fn days_from_date(date: NaiveDate) -> i32 {
    (date - epoch()).num_days() as i32
}

/// The date `days` after 1970-01-01.
pub(super) fn date_from_days(days: i32) -> NaiveDate {
    epoch() + chrono::Duration::days(i64::from(days))
}

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()
}

/// Aggregates a transaction log to one row per customer as of a date.
pub fn aggregate_transactions(log: &DataFrame, spec: &TransactionColumns) -> Result<RfmResult, DataError> {
    aggregate_transactions_with(log, spec, &ValueFormats::default())
}

/// As [`aggregate_transactions`], reading a date column still held as text as `formats` asks
/// (explicit format, day offset), and keeping transactions more than 100 years before the as-of
/// date without a warning when `formats.allow_old_dates` is set.
pub fn aggregate_transactions_with(
    log: &DataFrame,
    spec: &TransactionColumns,
    formats: &ValueFormats,
) -> Result<RfmResult, DataError> {
    let (mut base, mut warnings) = log_base(log, spec, formats)?;
    let id_name = spec.customer_id.as_str();
    let mut amounts = base.column("__amount")?.clone();
    if let Some(since) = spec.since {
        // A window of the log: earlier transactions do not count (missing dates go on to be
        // reported as incomplete).
        let since_days = days_from_date(since);
        let keep: BooleanChunked = base
            .column("__day")?
            .as_materialized_series()
            .i32()?
            .iter()
            .map(|d| Some(d.is_none_or(|d| d >= since_days)))
            .collect();
        let before = keep.iter().filter(|k| *k == Some(false)).count();
        base = base.filter(&keep)?;
        amounts = base.column("__amount")?.clone();
        if before > 0 {
            warnings.push(format!("{before} transaction(s) before {since}, the start of the window, were left out"));
        }
    }

    let n_negative_amounts =
        amounts.as_materialized_series().f64()?.iter().filter(|a| a.is_some_and(|a| a < 0.0)).count();
    if n_negative_amounts > 0 {
        if spec.negative_amounts == NegativeAmounts::Forbid {
            return Err(DataError::BadColumn {
                column: spec.amount_name().to_string(),
                problem: format!(
                    "has {n_negative_amounts} negative amount(s), which the column's rule forbids; allow them or clean the data"
                ),
            });
        }
        warnings.push(format!(
            "{n_negative_amounts} transaction(s) have a negative amount (returns or refunds); they are kept and reduce the customer's total"
        ));
    }

    let max_day = base
        .column("__day")?
        .as_materialized_series()
        .i32()?
        .max()
        .ok_or_else(|| DataError::BadColumn { column: spec.date.clone(), problem: "has no dates".into() })?;
    let as_of = spec.as_of.unwrap_or_else(|| epoch() + chrono::Duration::days(max_day as i64 + 1));
    let as_of_days = days_from_date(as_of);
    // Dates this old are usually a misread format; the user may say they are right.
    let oldest_plausible = if formats.allow_old_dates { i32::MIN } else { as_of_days - 36_525 };

    let (grouped, counts) = match aggregate_dense_ids(&base, id_name, as_of_days, oldest_plausible)? {
        Some((frame, counts)) => (frame.lazy(), counts),
        None => {
            let counts = row_counts(&base, id_name, as_of_days, oldest_plausible)?;
            let complete = complete_row(id_name);
            let grouped =
                base.lazy().filter(complete.and(col("__day").lt_eq(lit(as_of_days)))).group_by([col(id_name)]).agg([
                    col("__day").max().alias("__last"),
                    col("__day").min().alias("__first"),
                    len().cast(DataType::Int64).alias("frequency"),
                    col("__amount").sum().alias("monetary_total"),
                ]);
            (grouped, counts)
        }
    };
    let RowCounts { incomplete: n_incomplete_dropped, after: n_after_as_of, used, .. } = counts;
    let n_transactions_used = used;
    say_row_counts(spec, &counts, as_of, &mut warnings)?;

    let as_of_lit = lit(as_of_days as i64);
    let customers = grouped
        .with_columns([
            (as_of_lit.clone() - col("__last").cast(DataType::Int64)).alias("recency_days"),
            (col("monetary_total") / col("frequency").cast(DataType::Float64)).alias("monetary_mean"),
            (as_of_lit - col("__first").cast(DataType::Int64)).alias("tenure_days"),
            col("__first").cast(DataType::Date).alias("first_purchase"),
            col("__last").cast(DataType::Date).alias("last_purchase"),
        ])
        .select([
            col(id_name),
            col("recency_days"),
            col("frequency"),
            col("monetary_total"),
            col("monetary_mean"),
            col("tenure_days"),
            col("first_purchase"),
            col("last_purchase"),
        ])
        .sort([id_name], SortMultipleOptions::default())
        .collect()?;
    // Finite amounts can still sum past the largest number: caught here, where it happens, rather
    // than read later as a missing value.
    let totals = customers.column("monetary_total")?.as_materialized_series().f64()?.clone();
    let n_overflowed = totals.iter().filter(|t| t.is_some_and(|t| !t.is_finite())).count();
    if n_overflowed > 0 {
        let largest = amounts
            .as_materialized_series()
            .f64()?
            .iter()
            .flatten()
            .filter(|a| a.is_finite())
            .fold(0.0, |m: f64, a| m.max(a.abs()));
        return Err(DataError::BadColumn {
            column: spec.amount_name().to_string(),
            problem: format!(
                "sums to an infinite monetary_total for {n_overflowed} customer(s) (amounts up to {largest:.1e} overflow \
                 when added); correct or clip the amounts"
            ),
        });
    }

    let customers =
        if spec.amount.is_some() { customers } else { customers.drop_many(["monetary_total", "monetary_mean"]) };
    Ok(RfmResult {
        customers,
        as_of,
        n_transactions_used,
        n_after_as_of,
        n_incomplete_dropped,
        n_negative_amounts,
        warnings,
    })
}

/// The amount column as doubles named `__amount`; without an amount column, every transaction counts
/// as 1 (the sums are dropped before anyone sees them) and the log gets its warning.
fn amount_column(log: &DataFrame, spec: &TransactionColumns, warnings: &mut Vec<String>) -> Result<Column, DataError> {
    Ok(match &spec.amount {
        Some(amount) => {
            let amount_column = data::column(log, amount)?;
            if !amount_column.dtype().is_primitive_numeric() {
                return Err(DataError::BadColumn {
                    column: amount.clone(),
                    problem: format!(
                        "has type {} and cannot be summed as money; pick a numeric column, or read the log without an amount",
                        amount_column.dtype()
                    ),
                });
            }
            amount_column.cast(&DataType::Float64)?.with_name("__amount".into())
        }
        None => {
            warnings.push(NO_AMOUNT_WARNING.to_string());
            Column::new_scalar("__amount".into(), Scalar::new(DataType::Float64, AnyValue::Float64(1.0)), log.height())
        }
    })
}

/// The warnings for the rows left out (incomplete, after the as-of date) and the rows dated
/// implausibly early, or the error when no transaction is left: the same words for a log read in
/// memory and one streamed.
pub(super) fn say_row_counts(
    spec: &TransactionColumns,
    counts: &RowCounts,
    as_of: NaiveDate,
    warnings: &mut Vec<String>,
) -> Result<(), DataError> {
    if counts.incomplete > 0 {
        let what =
            if spec.amount.is_some() { "a customer id, a date or a finite amount" } else { "a customer id or a date" };
        warnings.push(format!("{} transaction(s) without {what} were dropped", counts.incomplete));
    }
    if counts.after > 0 {
        warnings.push(format!("{} transaction(s) after the as-of date {as_of} were ignored", counts.after));
    }
    if counts.old > 0 {
        warnings.push(format!(
            "{} transaction(s) are dated more than 100 years before the as-of date {as_of}; check the date format",
            counts.old
        ));
    }
    if counts.used == 0 {
        return Err(DataError::BadColumn {
            column: spec.date.clone(),
            problem: format!("has no transactions on or before the as-of date {as_of}; no rows left after filters"),
        });
    }
    Ok(())
}

/// The complete rows of a transaction log (an id, a date and a finite amount), read by the same
/// rules as the aggregation, for models that need every purchase rather than the totals.
#[derive(Clone, Debug)]
pub struct LogRows {
    /// Columns: the id column under its own name, `__day` (days since 1970-01-01, i32) and
    /// `__amount` (f64); incomplete rows removed.
    pub frame: DataFrame,
    /// Rows without an id, a date or a finite amount, dropped.
    pub n_incomplete_dropped: usize,
    /// Warnings from reading the dates and amounts, one sentence each.
    pub warnings: Vec<String>,
}

/// The log's id (under its own name), `__day` and `__amount` columns, every row kept, with the
/// warnings from reading the dates and amounts: where the aggregation and [`log_rows`] start.
fn log_base(
    log: &DataFrame,
    spec: &TransactionColumns,
    formats: &ValueFormats,
) -> Result<(DataFrame, Vec<String>), DataError> {
    formats.check()?;
    let id = data::column(log, &spec.customer_id)?;
    let mut warnings = Vec::new();
    let days = date_days(data::column(log, &spec.date)?, formats, &mut warnings)?;
    let amounts = amount_column(log, spec, &mut warnings)?;
    let base = DataFrame::new_infer_height(vec![
        id.clone().with_name(spec.customer_id.as_str().into()),
        days.with_name("__day".into()).into(),
        amounts,
    ])?;
    Ok((base, warnings))
}

/// Reads a log's id, date and amount columns into [`LogRows`].
pub fn log_rows(log: &DataFrame, spec: &TransactionColumns, formats: &ValueFormats) -> Result<LogRows, DataError> {
    let (base, mut warnings) = log_base(log, spec, formats)?;
    let id_name = spec.customer_id.as_str();
    let frame = base.lazy().filter(complete_row(id_name)).collect()?;
    let n_incomplete_dropped = log.height() - frame.height();
    if n_incomplete_dropped > 0 {
        let what =
            if spec.amount.is_some() { "a customer id, a date or a finite amount" } else { "a customer id or a date" };
        warnings.push(format!("{n_incomplete_dropped} transaction(s) without {what} were dropped"));
    }
    Ok(LogRows { frame, n_incomplete_dropped, warnings })
}

/// How the rows of a log were used.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(super) struct RowCounts {
    /// Without an id, a date or a finite amount.
    pub(super) incomplete: usize,
    /// Complete but after the as-of date.
    pub(super) after: usize,
    /// Used, but dated more than 100 years before the as-of date.
    pub(super) old: usize,
    /// Complete and on or before the as-of date.
    pub(super) used: usize,
}

fn complete_row(id_name: &str) -> Expr {
    col(id_name).is_not_null().and(col("__day").is_not_null()).and(col("__amount").is_finite().fill_null(lit(false)))
}

/// The row counts as whole-column expressions (for the hash group-by path).
fn row_counts(base: &DataFrame, id_name: &str, as_of_days: i32, oldest: i32) -> Result<RowCounts, DataError> {
    let count = |e: Expr| e.cast(DataType::UInt32).sum().cast(DataType::Int64);
    let in_window = || complete_row(id_name).and(col("__day").lt_eq(lit(as_of_days)));
    let stats = base
        .clone()
        .lazy()
        .select([
            count(complete_row(id_name).not()).alias("incomplete"),
            count(complete_row(id_name).and(col("__day").gt(lit(as_of_days)))).alias("after"),
            count(in_window().and(col("__day").lt(lit(oldest)))).alias("old"),
            count(in_window()).alias("used"),
        ])
        .collect()?;
    let get = |name: &str| -> Result<usize, DataError> {
        Ok(stats.column(name)?.as_materialized_series().i64()?.get(0).unwrap_or(0) as usize)
    };
    Ok(RowCounts { incomplete: get("incomplete")?, after: get("after")?, old: get("old")?, used: get("used")? })
}

/// Integer ids spanning at most this many values per transaction row are aggregated into arrays indexed
/// by id, not hashed.
const DENSE_IDS_PER_ROW: i64 = 4;

/// How far ahead the dense aggregation prefetches its table.
const PREFETCH_ROWS: usize = 16;

/// The per-customer aggregation for integer ids in a compact range (customer numbers usually are):
/// one pass over the rows into a table indexed by id, counting the rows as it goes. Each customer's
/// total is the sum of their amounts in file order; ids come out ascending. `None` for other ids
/// (text, or too sparse), which go through polars' hash group-by.
fn aggregate_dense_ids(
    base: &DataFrame,
    id_name: &str,
    as_of_days: i32,
    oldest: i32,
) -> Result<Option<(DataFrame, RowCounts)>, DataError> {
    let id_column = base.column(id_name)?;
    let id_type = id_column.dtype().clone();
    if !id_type.is_integer() {
        return Ok(None);
    }
    let ids = id_column.as_materialized_series().cast(&DataType::Int64)?;
    let ids = ids.i64()?;
    let (Some(lo), Some(hi)) = (ids.min(), ids.max()) else { return Ok(None) };
    let span = hi.saturating_sub(lo).saturating_add(1);
    if span > (DENSE_IDS_PER_ROW * base.height() as i64).max(1 << 16) {
        return Ok(None);
    }
    let mut base = base.clone();
    base.align_chunks_par();
    let days = base.column("__day")?.as_materialized_series().i32()?.clone();
    let amounts = base.column("__amount")?.as_materialized_series().f64()?.clone();
    let ids = base.column(id_name)?.as_materialized_series().cast(&DataType::Int64)?;
    let ids = ids.i64()?;

    // One record per id, so a row touches one cache line, not four arrays.
    #[derive(Clone, Copy)]
    struct Slot {
        first: i32,
        last: i32,
        count: i64,
        total: f64,
    }
    let mut slots = vec![Slot { first: i32::MAX, last: i32::MIN, count: 0, total: 0.0 }; span as usize];
    let mut counts = RowCounts::default();
    let (slots_ptr, slots_len) = (slots.as_ptr(), slots.len());
    let mut add = |id: Option<i64>, day: Option<i32>, amount: Option<f64>| {
        let (Some(id), Some(day), Some(amount)) = (id, day, amount) else {
            counts.incomplete += 1;
            return;
        };
        if !amount.is_finite() {
            counts.incomplete += 1;
        } else if day > as_of_days {
            counts.after += 1;
        } else {
            counts.used += 1;
            if day < oldest {
                counts.old += 1;
            }
            let slot = &mut slots[(id - lo) as usize];
            slot.first = slot.first.min(day);
            slot.last = slot.last.max(day);
            slot.count += 1;
            slot.total += amount;
        }
    };
    // Chunk by chunk (aligned above), on plain slices where a chunk has no missing values.
    for ((id_chunk, day_chunk), amount_chunk) in
        ids.downcast_iter().zip(days.downcast_iter()).zip(amounts.downcast_iter())
    {
        let no_nulls = [id_chunk.validity(), day_chunk.validity(), amount_chunk.validity()]
            .iter()
            .all(|v| v.is_none_or(|b| b.unset_bits() == 0));
        if no_nulls {
            let ids = id_chunk.values().as_slice();
            for (i, ((&id, &day), &amount)) in
                ids.iter().zip(day_chunk.values().iter()).zip(amount_chunk.values().iter()).enumerate()
            {
                // Ids arrive in no order, so the table is read at random: ask for a slot a few rows
                // ahead while this one is added.
                #[cfg(target_arch = "x86_64")]
                if let Some(&ahead) = ids.get(i + PREFETCH_ROWS) {
                    let slot = ahead.wrapping_sub(lo) as usize;
                    if slot < slots_len {
                        // SAFETY: a prefetch only hints the cache; the address is inside `slots`.
                        unsafe {
                            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                                slots_ptr.add(slot) as *const i8
                            )
                        };
                    }
                }
                add(Some(id), Some(day), Some(amount));
            }
        } else {
            for ((id, day), amount) in id_chunk.iter().zip(day_chunk.iter()).zip(amount_chunk.iter()) {
                add(id.copied(), day.copied(), amount.copied());
            }
        }
    }
    let present: Vec<(i64, Slot)> =
        slots.iter().enumerate().filter(|(_, s)| s.count > 0).map(|(i, s)| (lo + i as i64, *s)).collect();
    let frame = DataFrame::new_infer_height(vec![
        Column::new(id_name.into(), present.iter().map(|p| p.0).collect::<Vec<i64>>()).cast(&id_type)?,
        Column::new("__last".into(), present.iter().map(|p| p.1.last).collect::<Vec<i32>>()),
        Column::new("__first".into(), present.iter().map(|p| p.1.first).collect::<Vec<i32>>()),
        Column::new("frequency".into(), present.iter().map(|p| p.1.count).collect::<Vec<i64>>()),
        Column::new("monetary_total".into(), present.iter().map(|p| p.1.total).collect::<Vec<f64>>()),
    ])?;
    Ok(Some((frame, counts)))
}

/// How the customers and an attribute table matched on their keys.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinReport {
    /// The customers' key column.
    pub customer_key: String,
    /// The attribute table's key column.
    pub attributes_key: String,
    /// Customers with a row in the attribute table.
    pub matched: usize,
    /// Customers (of the log or the customer table) without a row in the attribute table: their
    /// attributes are missing.
    pub log_only: usize,
    /// Rows of the attribute table whose key no customer has (left out).
    pub attributes_only: usize,
    /// A few keys of each unmatched side, as written, for the user to look up.
    pub log_only_examples: Vec<String>,
    /// A few attribute-table keys no customer has.
    pub attributes_only_examples: Vec<String>,
}

impl JoinReport {
    /// The share of customers that found their attributes (0 to 1; 1 for no customers).
    pub fn match_rate(&self) -> f64 {
        let customers = self.matched + self.log_only;
        if customers == 0 { 1.0 } else { self.matched as f64 / customers as f64 }
    }

    /// One sentence for the CLI and the window.
    pub fn sentence(&self) -> String {
        let key = if self.customer_key == self.attributes_key {
            crate::engine::error::quoted(&self.customer_key)
        } else {
            format!(
                "{} = {}",
                crate::engine::error::quoted(&self.customer_key),
                crate::engine::error::quoted(&self.attributes_key)
            )
        };
        let examples = |keys: &[String]| {
            if keys.is_empty() { String::new() } else { format!(" (e.g. {})", data::quoted_list(keys, keys.len())) }
        };
        let words = crate::engine::words::count;
        format!(
            "attributes joined on {key}: {matched} of {customers} matched ({rate:.1}%); {log_only} without attributes{lo}; {attributes_only} without a customer{ao}",
            matched = crate::engine::words::thousands(self.matched),
            customers = words(self.matched + self.log_only, "customer"),
            rate = self.match_rate() * 100.0,
            log_only = words(self.log_only, "customer"),
            lo = examples(&self.log_only_examples),
            attributes_only = words(self.attributes_only, "attribute row"),
            ao = examples(&self.attributes_only_examples),
        )
    }
}

/// How many unmatched keys a [`JoinReport`] names.
const JOIN_EXAMPLES: usize = 3;

/// Joins `attributes` onto `customers` by the customers' `id_column` and the attribute table's
/// `attributes_key` (the same name when `None`); every customer is kept. Keys are compared as the
/// text written, so `00042` in one system meets `00042` in the other and an id typed as a
/// number in one file still meets its text in the other. A key repeated in the attribute table is
/// refused with examples, since the join would duplicate customers.
pub fn join_attributes(
    customers: &DataFrame,
    attributes: &DataFrame,
    id_column: &str,
    attributes_key: Option<&str>,
) -> Result<(DataFrame, JoinReport, Vec<String>), DataError> {
    let key = attributes_key.unwrap_or(id_column);
    data::column(customers, id_column)?;
    if attributes.column(key).is_err() {
        let flag =
            if attributes_key.is_some() { "" } else { " (name the attribute table's key with --attributes-key)" };
        return Err(DataError::BadJoin(format!(
            "the attribute table has no key column {}{flag}; its columns are: {}",
            crate::engine::error::quoted(key),
            column_list(attributes)
        )));
    }
    if let Some(d) = data::quality::find_duplicate_ids(attributes, key)? {
        return Err(DataError::BadJoin(format!(
            "the attribute table repeats keys in {}, so the join would duplicate customers: {}; keep one row per key",
            crate::engine::error::quoted(key),
            data::quality::duplicate_warning(&d)
        )));
    }
    // A column both tables have is kept twice, the attribute table's with `_right`: said.
    let mut warnings = Vec::new();
    let clashes: Vec<String> = attributes
        .get_column_names()
        .iter()
        .filter(|c| c.as_str() != key && customers.column(c.as_str()).is_ok())
        .map(|c| c.to_string())
        .collect();
    if !clashes.is_empty() {
        warnings.push(format!(
            "the attribute table and the customers both have {}; the attribute table's are named with _right",
            data::quoted_list(&clashes, 5)
        ));
    }
    const JOIN_KEY: &str = "__strata_join_key";
    let as_key = |name: &str| col(name).cast(DataType::String).alias(JOIN_KEY);
    let left = customers.clone().lazy().with_column(as_key(id_column));
    let right = attributes.clone().lazy().with_column(as_key(key)).drop(cols([key]));
    let right = right.with_column(lit(true).alias("__strata_matched"));
    let joined = left.join(right, [col(JOIN_KEY)], [col(JOIN_KEY)], JoinArgs::new(JoinType::Left)).collect()?;
    let matched_flags = joined.column("__strata_matched")?.as_materialized_series().bool()?.clone();
    let matched = matched_flags.iter().filter(|m| *m == Some(true)).count();
    let customer_keys = data::column_texts(customers, id_column)?;
    let log_only_examples: Vec<String> = customer_keys
        .iter()
        .zip(matched_flags.iter())
        .filter(|(_, m)| *m != Some(true))
        .filter_map(|(k, _)| k.clone())
        .take(JOIN_EXAMPLES)
        .collect();
    let known: std::collections::HashSet<String> = customer_keys.into_iter().flatten().collect();
    let attribute_keys = data::column_texts(attributes, key)?;
    let unmatched_attributes: Vec<String> =
        attribute_keys.into_iter().flatten().filter(|k| !known.contains(k)).collect();
    let report = JoinReport {
        customer_key: id_column.to_string(),
        attributes_key: key.to_string(),
        matched,
        log_only: customers.height() - matched,
        attributes_only: unmatched_attributes.len(),
        log_only_examples,
        attributes_only_examples: unmatched_attributes.into_iter().take(JOIN_EXAMPLES).collect(),
    };
    let joined = joined.drop_many([JOIN_KEY, "__strata_matched"]);
    if report.log_only > 0 {
        warnings.push(format!(
            "{} customer(s) have no row in the attribute table; their attributes are missing",
            report.log_only
        ));
    }
    Ok((joined, report, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A log with every kind of row the aggregation counts: missing id, date and amount, a NaN
    /// amount, a return, a purchase after the as-of date and one implausibly old.
    fn log(ids_as_text: bool) -> DataFrame {
        let ids = [Some(3), Some(1), None, Some(3), Some(2), Some(1), Some(2), Some(3), Some(1), Some(2)];
        let days = [
            Some(10_000),
            Some(10_005),
            Some(10_001),
            None,
            Some(10_003),
            Some(10_100),
            Some(-30_000),
            Some(10_002),
            Some(10_004),
            Some(10_006),
        ];
        let amounts = [
            Some(5.5),
            Some(1.25),
            Some(2.0),
            Some(4.0),
            Some(f64::NAN),
            Some(9.0),
            Some(3.0),
            Some(-1.5),
            None,
            Some(0.1),
        ];
        let id_column = if ids_as_text {
            Column::new("id".into(), ids.iter().map(|i| i.map(|i: i32| i.to_string())).collect::<Vec<_>>())
        } else {
            Column::new("id".into(), ids.to_vec())
        };
        DataFrame::new_infer_height(vec![
            id_column,
            Column::new("day".into(), days.to_vec()).cast(&DataType::Date).unwrap(),
            Column::new("amount".into(), amounts.to_vec()),
        ])
        .unwrap()
    }

    fn spec() -> TransactionColumns {
        TransactionColumns {
            customer_id: "id".into(),
            date: "day".into(),
            amount: Some("amount".into()),
            as_of: Some(epoch() + chrono::Duration::days(10_050)),
            negative_amounts: NegativeAmounts::Allow,
            since: None,
            behaviour: Default::default(),
            value: None,
        }
    }

    #[test]
    fn the_dense_id_table_and_the_hash_group_by_agree() {
        let dense = aggregate_transactions(&log(false), &spec()).unwrap();
        let hashed = aggregate_transactions(&log(true), &spec()).unwrap();
        // Rows: 1 missing id, 1 missing date, 1 NaN and 1 missing amount are incomplete; one is after
        // the as-of date; five remain, one of them more than 100 years old.
        for r in [&dense, &hashed] {
            assert_eq!((r.n_incomplete_dropped, r.n_after_as_of, r.n_transactions_used), (4, 1, 5));
            assert_eq!(r.n_negative_amounts, 1);
            assert_eq!(r.warnings.len(), 4, "{:?}", r.warnings);
        }
        assert_eq!(dense.warnings, hashed.warnings);
        let without_id = |f: &DataFrame| f.drop("id").unwrap();
        assert!(without_id(&dense.customers).equals_missing(&without_id(&hashed.customers)));
        let totals = dense.customers.column("monetary_total").unwrap().f64().unwrap().to_vec();
        assert_eq!(totals, vec![Some(1.25), Some(3.0 + 0.1), Some(5.5 - 1.5)]);
        assert_eq!(dense.customers.column("id").unwrap().dtype(), &DataType::Int32);
    }

    #[test]
    fn a_log_without_amount_gets_recency_frequency_and_tenure_and_says_money_is_left_out() {
        let without = TransactionColumns { amount: None, ..spec() };
        for ids_as_text in [false, true] {
            let r = aggregate_transactions(&log(ids_as_text), &without).unwrap();
            let names: Vec<&str> = r.customers.get_column_names().iter().map(|n| n.as_str()).collect();
            assert_eq!(
                names,
                ["id", "recency_days", "frequency", "tenure_days", "first_purchase", "last_purchase"],
                "no monetary column, never a silent zero"
            );
            // The NaN and missing amounts no longer make a row incomplete: only the missing id and date.
            assert_eq!((r.n_incomplete_dropped, r.n_after_as_of, r.n_transactions_used), (2, 1, 7));
            assert_eq!(r.n_negative_amounts, 0);
            assert_eq!(r.warnings.iter().filter(|w| w.as_str() == NO_AMOUNT_WARNING).count(), 1, "{:?}", r.warnings);
            assert!(r.warnings.iter().any(|w| w.contains("without a customer id or a date")), "{:?}", r.warnings);
            let frequency = r.customers.column("frequency").unwrap().i64().unwrap().to_vec();
            assert_eq!(frequency, vec![Some(2), Some(3), Some(2)]);
        }
    }

    #[test]
    fn the_amount_is_stored_as_its_name_or_as_empty_for_none() {
        let with = ron::to_string(&spec()).unwrap();
        assert!(with.contains("amount:\"amount\""), "{with}");
        let without = ron::to_string(&TransactionColumns { amount: None, ..spec() }).unwrap();
        assert!(without.contains("amount:\"\""), "{without}");
        let back: TransactionColumns = ron::from_str(&without).unwrap();
        assert_eq!(back.amount, None);
        let back: TransactionColumns = ron::from_str(&with).unwrap();
        assert_eq!(back.amount.as_deref(), Some("amount"));
    }

    #[test]
    fn amounts_whose_sum_overflows_are_refused_not_read_as_missing() {
        for ids_as_text in [false, true] {
            let id = if ids_as_text {
                Column::new("id".into(), ["a", "a", "b"])
            } else {
                Column::new("id".into(), [1i32, 1, 2])
            };
            let log = DataFrame::new_infer_height(vec![
                id,
                Column::new("day".into(), [10_000i32, 10_001, 10_002]).cast(&DataType::Date).unwrap(),
                Column::new("amount".into(), [1.5e308, 1.5e308, 3.0]),
            ])
            .unwrap();
            let err = aggregate_transactions(&log, &spec()).unwrap_err().to_string();
            assert!(err.starts_with("column 'amount' sums to an infinite monetary_total for 1 customer(s)"), "{err}");
        }
    }

    /// A two-row log with the given date column.
    fn dated(date: Column) -> DataFrame {
        let name = date.name().to_string();
        let frame = DataFrame::new_infer_height(vec![
            Column::new("id".into(), ["a", "b"]),
            date,
            Column::new("amount".into(), [1.0, 2.0]),
        ])
        .unwrap();
        frame.select(["id", name.as_str(), "amount"]).unwrap()
    }

    fn spec_for(date: &str) -> TransactionColumns {
        TransactionColumns { date: date.into(), as_of: NaiveDate::from_ymd_opt(2018, 1, 1), ..spec() }
    }

    fn last_purchases(result: &RfmResult) -> Vec<String> {
        let column = result.customers.column("last_purchase").unwrap();
        (0..column.len()).map(|i| column.get(i).unwrap().to_string()).collect()
    }

    #[test]
    fn text_dates_in_a_log_are_detected_and_ambiguity_is_refused() {
        let detect = ValueFormats::default();
        let log = dated(Column::new("day".into(), ["31/08/2017", "01/09/2017"]));
        let result = aggregate_transactions_with(&log, &spec_for("day"), &detect).unwrap();
        assert_eq!(last_purchases(&result), ["2017-08-31", "2017-09-01"]);
        let log = dated(Column::new("day".into(), ["03/05/2017", "04/06/2017"]));
        let err = aggregate_transactions_with(&log, &spec_for("day"), &detect).unwrap_err().to_string();
        assert!(err.starts_with("column 'day' is ambiguous: '03/05/2017' is 3 May (day/month)"), "{err}");
        let month_first = ValueFormats { date_format: Some("%m/%d/%Y".into()), ..ValueFormats::default() };
        let result = aggregate_transactions_with(&log, &spec_for("day"), &month_first).unwrap();
        assert_eq!(last_purchases(&result), ["2017-03-05", "2017-04-06"]);
        // Offsets: the UTC day, or the day at the chosen offset.
        let log = dated(Column::new("day".into(), ["2017-08-31T23:30:00Z", "2017-09-01T00:30:00+02:00"]));
        let result = aggregate_transactions_with(&log, &spec_for("day"), &detect).unwrap();
        assert_eq!(last_purchases(&result), ["2017-08-31", "2017-08-31"]);
        let east = ValueFormats { day_offset: Some("+02:00".into()), ..ValueFormats::default() };
        let result = aggregate_transactions_with(&log, &spec_for("day"), &east).unwrap();
        assert_eq!(last_purchases(&result), ["2017-09-01", "2017-09-01"]);
        // Not dates at all: one line with the value.
        let log = dated(Column::new("day".into(), ["soon", "later"]));
        let err = aggregate_transactions_with(&log, &spec_for("day"), &detect).unwrap_err().to_string();
        assert!(err.starts_with("column 'day' is not a date column (value 'soon')"), "{err}");
    }

    #[test]
    fn whole_numbers_are_yyyymmdd_or_epoch_by_the_column_name() {
        let detect = ValueFormats::default();
        let log = dated(Column::new("day".into(), [20170831i64, 20170901]));
        let result = aggregate_transactions_with(&log, &spec_for("day"), &detect).unwrap();
        assert_eq!(last_purchases(&result), ["2017-08-31", "2017-09-01"]);
        let log = dated(Column::new("event_epoch".into(), [1_504_188_000_000i64, 1_504_274_400_000]));
        let result = aggregate_transactions_with(&log, &spec_for("event_epoch"), &detect).unwrap();
        assert_eq!(last_purchases(&result), ["2017-08-31", "2017-09-01"]);
        let log = dated(Column::new("event_epoch".into(), [5i64, 7]));
        let err = aggregate_transactions_with(&log, &spec_for("event_epoch"), &detect).unwrap_err().to_string();
        assert!(err.contains("neither Unix epoch seconds") && err.contains("epoch_ms"), "{err}");
    }
}
