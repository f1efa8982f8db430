//! Aggregating a transaction log (id, date, amount) into one row per customer, as of a date.

use chrono::NaiveDate;
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::engine::data::{self, column_list};
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
    /// Transaction amount column.
    pub amount: String,
    /// Features are computed as of this date; `None` means the day after the last transaction.
    pub as_of: Option<NaiveDate>,
    /// What to do with negative amounts.
    #[serde(default)]
    pub negative_amounts: NegativeAmounts,
}

/// The customer table and what was changed on the way.
#[derive(Clone, Debug)]
pub struct RfmResult {
    /// One row per customer: id, recency_days, frequency, monetary_total, monetary_mean, tenure_days,
    /// first_purchase, last_purchase; sorted by id.
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

/// Dates of a column as days since 1970-01-01: Date columns as they are, integers as YYYYMMDD, texts as
/// ISO dates or YYYYMMDD.
fn date_days(column: &Column) -> Result<Vec<Option<i32>>, DataError> {
    let name = column.name().to_string();
    let bad = |example: &str| DataError::BadColumn {
        column: name.clone(),
        problem: format!("is not a date column (value '{example}'); use YYYY-MM-DD or YYYYMMDD dates"),
    };
    let parse_text = |s: &str| -> Option<i32> {
        let t = s.trim();
        NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .or_else(|_| NaiveDate::parse_from_str(t, "%Y%m%d"))
            .or_else(|_| NaiveDate::parse_from_str(t, "%Y/%m/%d"))
            .ok()
            .map(days_from_date)
    };
    match column.dtype() {
        DataType::Date => Ok(column.as_materialized_series().cast(&DataType::Int32)?.i32()?.iter().collect()),
        DataType::Datetime(_, _) => {
            let as_date = column.as_materialized_series().cast(&DataType::Date)?;
            Ok(as_date.cast(&DataType::Int32)?.i32()?.iter().collect())
        }
        dtype if dtype.is_integer() => {
            let values = column.as_materialized_series().cast(&DataType::Int64)?;
            values
                .i64()?
                .iter()
                .map(|v| match v {
                    None => Ok(None),
                    Some(v) => parse_text(&v.to_string()).map(Some).ok_or_else(|| bad(&v.to_string())),
                })
                .collect()
        }
        DataType::String => column
            .str()?
            .iter()
            .map(|v| match v {
                None => Ok(None),
                Some(s) => parse_text(s).map(Some).ok_or_else(|| bad(s)),
            })
            .collect(),
        other => Err(DataError::BadColumn { column: name, problem: format!("has type {other}, not dates") }),
    }
}

fn days_from_date(date: NaiveDate) -> i32 {
    (date - epoch()).num_days() as i32
}

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()
}

/// Aggregates a transaction log to one row per customer as of a date.
pub fn aggregate_transactions(log: &DataFrame, spec: &TransactionColumns) -> Result<RfmResult, DataError> {
    let id = data::column(log, &spec.customer_id)?;
    let days = date_days(data::column(log, &spec.date)?)?;
    let amount_column = data::column(log, &spec.amount)?;
    if !amount_column.dtype().is_primitive_numeric() {
        return Err(DataError::BadColumn {
            column: spec.amount.clone(),
            problem: format!("has type {} and cannot be summed as money; pick a numeric column", amount_column.dtype()),
        });
    }
    let amounts = data::quality::numeric_values(amount_column)?;

    let mut warnings = Vec::new();
    let n_negative_amounts = amounts.iter().flatten().filter(|a| **a < 0.0).count();
    if n_negative_amounts > 0 {
        if spec.negative_amounts == NegativeAmounts::Forbid {
            return Err(DataError::BadColumn {
                column: spec.amount.clone(),
                problem: format!(
                    "has {n_negative_amounts} negative amount(s), which the column's rule forbids; allow them or clean the data"
                ),
            });
        }
        warnings.push(format!(
            "{n_negative_amounts} transaction(s) have a negative amount (returns or refunds); they are kept and reduce the customer's total"
        ));
    }

    let max_day = days
        .iter()
        .flatten()
        .max()
        .copied()
        .ok_or_else(|| DataError::BadColumn { column: spec.date.clone(), problem: "has no dates".into() })?;
    let as_of = spec.as_of.unwrap_or_else(|| epoch() + chrono::Duration::days(max_day as i64 + 1));
    let as_of_days = days_from_date(as_of);

    let n_rows = log.height();
    let id_missing = id.is_null();
    let mut keep = Vec::with_capacity(n_rows);
    let (mut n_after_as_of, mut n_incomplete_dropped, mut n_implausibly_old) = (0, 0, 0);
    let oldest_plausible = as_of_days - 36_525;
    for row in 0..n_rows {
        let complete =
            !id_missing.get(row).unwrap_or(true) && days[row].is_some() && amounts[row].is_some_and(f64::is_finite);
        if !complete {
            n_incomplete_dropped += 1;
            keep.push(false);
            continue;
        }
        let day = days[row].unwrap_or(i32::MAX);
        if day > as_of_days {
            n_after_as_of += 1;
            keep.push(false);
            continue;
        }
        if day < oldest_plausible {
            n_implausibly_old += 1;
        }
        keep.push(true);
    }
    if n_incomplete_dropped > 0 {
        warnings.push(format!(
            "{n_incomplete_dropped} transaction(s) without a customer id, a date or a finite amount were dropped"
        ));
    }
    if n_after_as_of > 0 {
        warnings.push(format!("{n_after_as_of} transaction(s) after the as-of date {as_of} were ignored"));
    }
    if n_implausibly_old > 0 {
        warnings.push(format!(
            "{n_implausibly_old} transaction(s) are dated more than 100 years before the as-of date {as_of}; check the date format"
        ));
    }
    let n_transactions_used = keep.iter().filter(|k| **k).count();
    if n_transactions_used == 0 {
        return Err(DataError::BadColumn {
            column: spec.date.clone(),
            problem: format!("has no transactions on or before the as-of date {as_of}; no rows left after filters"),
        });
    }

    let id_name = spec.customer_id.as_str();
    let base = DataFrame::new_infer_height(vec![
        id.clone().with_name(id_name.into()),
        Column::new("__day".into(), days),
        Column::new("__amount".into(), amounts),
    ])?;
    let mask = BooleanChunked::from_slice("keep".into(), &keep);
    let filtered = base.filter(&mask)?;
    let as_of_lit = lit(as_of_days as i64);
    let customers = filtered
        .lazy()
        .group_by([col(id_name)])
        .agg([
            col("__day").max().alias("__last"),
            col("__day").min().alias("__first"),
            len().cast(DataType::Int64).alias("frequency"),
            col("__amount").sum().alias("monetary_total"),
        ])
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

/// Left-joins a customer attribute table onto a customer table by id.
///
/// Customers without attributes keep missing values (handled by the recipe's missing-value rule); an
/// attribute table with duplicate ids is refused, since the join would duplicate customers.
pub fn join_attributes(
    customers: &DataFrame,
    attributes: &DataFrame,
    id_column: &str,
) -> Result<(DataFrame, Vec<String>), DataError> {
    data::column(customers, id_column)?;
    if attributes.column(id_column).is_err() {
        return Err(DataError::MissingColumn {
            column: format!("{id_column} (in the attribute table)"),
            available: column_list(attributes),
        });
    }
    if let Some(d) = data::quality::find_duplicate_ids(attributes, id_column)? {
        return Err(DataError::BadColumn {
            column: id_column.to_string(),
            problem: format!(
                "repeats ids in the attribute table, so the join would duplicate customers: {}",
                data::quality::duplicate_warning(&d)
            ),
        });
    }
    let left_type = customers.column(id_column)?.dtype().clone();
    let attributes = attributes.clone().lazy().with_column(col(id_column).cast(left_type));
    let joined = customers
        .clone()
        .lazy()
        .join(attributes, [col(id_column)], [col(id_column)], JoinArgs::new(JoinType::Left))
        .collect()?;
    let mut warnings = Vec::new();
    let extra: Vec<String> = joined.get_column_names().iter().skip(customers.width()).map(|s| s.to_string()).collect();
    if let Some(first) = extra.first() {
        let unmatched = joined.column(first)?.null_count();
        if unmatched > 0 {
            warnings.push(format!(
                "{unmatched} customer(s) have no row in the attribute table; their attributes are missing"
            ));
        }
    }
    Ok((joined, warnings))
}
