//! The data quality report: one row per column, plus duplicate ids and date plausibility.

use chrono::NaiveDate;
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::infer::days_since_epoch;
use super::{ColumnNote, grouped_warnings};
use crate::engine::error::{DataError, quoted};

/// Quality figures for one column.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ColumnQuality {
    /// Column name.
    pub column: String,
    /// Polars type, as text.
    pub dtype: String,
    /// Missing values (null; NaN counts as non-finite, not missing).
    pub n_missing: usize,
    /// Missing values as a share of rows, 0..1.
    pub missing_share: f64,
    /// Distinct values, missing counted once.
    pub n_distinct: usize,
    /// Numeric summary over finite values, when the column is numeric.
    pub numeric: Option<NumericSummary>,
    /// Earliest and latest date, when the column holds dates.
    pub date_range: Option<(NaiveDate, NaiveDate)>,
    /// Dates after the as-of date.
    pub n_future_dates: usize,
    /// Dates implausibly long before the as-of date (over 100 years).
    pub n_implausibly_old_dates: usize,
    /// Every value is the same (excluded from features).
    pub is_constant: bool,
    /// Every value is missing (excluded from features).
    pub is_all_missing: bool,
    /// An earlier column holding exactly the same values, row for row (a copy adds nothing but
    /// weight to a segmentation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identical_to: Option<String>,
}

/// Summary statistics of a numeric column over its finite values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NumericSummary {
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Median (midpoint of the two middle values for even counts).
    pub median: f64,
    /// Sample skewness (adjusted Fisher-Pearson, as pandas' `skew`); 0 for fewer than 3 values.
    pub skew: f64,
    /// Values outside [Q1 - 1.5 IQR, Q3 + 1.5 IQR].
    pub n_outliers: usize,
    /// Values below zero (returns, refunds).
    pub n_negative: usize,
    /// NaN or infinite values.
    pub n_non_finite: usize,
}

/// Ids that occur on more than one row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DuplicateIds {
    /// The id column.
    pub column: String,
    /// Distinct ids that occur more than once.
    pub n_duplicated_ids: usize,
    /// Rows beyond the first for those ids.
    pub n_extra_rows: usize,
    /// A few ids with their counts, most frequent first.
    pub examples: Vec<(String, usize)>,
}

/// The whole report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QualityReport {
    /// Rows in the table.
    pub n_rows: usize,
    /// One entry per column, in table order.
    pub columns: Vec<ColumnQuality>,
    /// Duplicate ids, when an id column was given and has any.
    pub duplicate_ids: Option<DuplicateIds>,
    /// Warnings a user should read, one sentence each.
    pub warnings: Vec<String>,
}

/// Numeric values of a column as f64, nulls as `None`.
pub fn numeric_values(column: &Column) -> Result<Vec<Option<f64>>, DataError> {
    let cast = column.as_materialized_series().cast(&DataType::Float64)?;
    Ok(cast.f64()?.iter().collect())
}

/// The q-quantile (0..1) of sorted values with linear interpolation (numpy's default).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let position = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lower = position.floor() as usize;
    let upper = position.ceil() as usize;
    sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower as f64)
}

/// Summary of finite values; `None` when there are none.
pub fn summarise(values: &[Option<f64>]) -> Option<NumericSummary> {
    let mut finite: Vec<f64> = values.iter().flatten().copied().filter(|x| x.is_finite()).collect();
    let n_non_finite = values.iter().flatten().filter(|x| !x.is_finite()).count();
    if finite.is_empty() {
        return None;
    }
    finite.sort_by(f64::total_cmp);
    let n = finite.len() as f64;
    let mean = finite.iter().sum::<f64>() / n;
    let (m2, m3) = finite.iter().fold((0.0, 0.0), |(m2, m3), x| {
        let d = x - mean;
        (m2 + d * d, m3 + d * d * d)
    });
    let skew = if finite.len() < 3 || m2 == 0.0 {
        0.0
    } else {
        let g1 = (m3 / n) / (m2 / n).powf(1.5);
        g1 * (n * (n - 1.0)).sqrt() / (n - 2.0)
    };
    let q1 = quantile_sorted(&finite, 0.25);
    let q3 = quantile_sorted(&finite, 0.75);
    let iqr = q3 - q1;
    let (low, high) = (q1 - 1.5 * iqr, q3 + 1.5 * iqr);
    Some(NumericSummary {
        min: finite[0],
        max: finite[finite.len() - 1],
        mean,
        median: quantile_sorted(&finite, 0.5),
        skew,
        n_outliers: finite.iter().filter(|&&x| x < low || x > high).count(),
        n_negative: finite.iter().filter(|&&x| x < 0.0).count(),
        n_non_finite,
    })
}

/// Builds the report; `id_column` enables the duplicate check, `as_of` the date plausibility check.
pub fn quality_report(
    frame: &DataFrame,
    id_column: Option<&str>,
    as_of: Option<NaiveDate>,
) -> Result<QualityReport, DataError> {
    let n_rows = frame.height();
    // Per-column warnings are grouped by kind (a wide file has hundreds of all-missing columns); the
    // per-column figures stay in `columns`, where the report shows them beside each column.
    let mut notes = Vec::new();
    let mut columns = Vec::new();
    for column in frame.columns() {
        let name = column.name().to_string();
        let q = quoted(&name);
        let mut note = |kind: &'static str, line: String| notes.push(ColumnNote { kind, column: name.clone(), line });
        let n_missing = column.null_count();
        let n_distinct = column.n_unique()?;
        let is_all_missing = n_missing == n_rows;
        let dtype = column.dtype().clone();
        let mut numeric = None;
        let mut date_range = None;
        let mut n_future_dates = 0;
        let mut n_implausibly_old_dates = 0;
        if dtype.is_primitive_numeric() {
            numeric = summarise(&numeric_values(column)?);
            if let Some(s) = &numeric {
                if s.n_non_finite > 0 {
                    note(
                        "have NaN or infinite values, which are never passed to a fit",
                        format!("column {q}: {} NaN or infinite value(s); never passed to a fit", s.n_non_finite),
                    );
                }
                if s.n_negative > 0 {
                    note(
                        "have negative values (returns or refunds?), allowed unless a rule forbids them",
                        format!(
                            "column {q}: {} negative value(s) (returns or refunds?); allowed unless a rule forbids them",
                            s.n_negative
                        ),
                    );
                }
            }
        } else if dtype == DataType::Date {
            let days: Vec<i32> =
                column.as_materialized_series().cast(&DataType::Int32)?.i32()?.iter().flatten().collect();
            if let (Some(&lo), Some(&hi)) = (days.iter().min(), days.iter().max()) {
                date_range = Some((date_from_days(lo), date_from_days(hi)));
            }
            if let Some(as_of) = as_of {
                let as_of_days = days_since_epoch(as_of);
                let oldest_plausible =
                    as_of.checked_sub_signed(chrono::Duration::days(36_525)).map_or(i32::MIN, days_since_epoch);
                n_future_dates = days.iter().filter(|&&d| d > as_of_days).count();
                n_implausibly_old_dates = days.iter().filter(|&&d| d < oldest_plausible).count();
                if n_future_dates > 0 {
                    note(
                        "have dates after the as-of date, ignored in features built as of that date",
                        format!(
                            "column {q}: {n_future_dates} date(s) after the as-of date {as_of}; they are ignored in features built as of that date"
                        ),
                    );
                }
                if n_implausibly_old_dates > 0 {
                    note(
                        "have dates more than 100 years before the as-of date (check the date format)",
                        format!(
                            "column {q}: {n_implausibly_old_dates} date(s) more than 100 years before the as-of date {as_of}; check the date format"
                        ),
                    );
                }
            }
        }
        let is_constant = !is_all_missing && n_distinct - usize::from(n_missing > 0) == 1;
        if is_all_missing {
            note(
                "are entirely missing and are excluded from features",
                format!("column {q} is entirely missing; it is excluded from features"),
            );
        } else if is_constant {
            note(
                "have a single value and are excluded from features",
                format!("column {q} has a single value; it is excluded from features"),
            );
        }
        columns.push(ColumnQuality {
            column: name,
            dtype: dtype.to_string(),
            n_missing,
            missing_share: if n_rows == 0 { 0.0 } else { n_missing as f64 / n_rows as f64 },
            n_distinct,
            numeric,
            date_range,
            n_future_dates,
            n_implausibly_old_dates,
            is_constant,
            is_all_missing,
            identical_to: None,
        });
    }
    for (copy, original) in identical_columns(frame, &columns)? {
        notes.push(ColumnNote {
            kind: "are copies of an earlier column",
            column: columns[copy].column.clone(),
            line: format!(
                "column {} holds exactly the values of {}; using both counts that information twice",
                quoted(&columns[copy].column),
                quoted(&columns[original].column)
            ),
        });
        columns[copy].identical_to = Some(columns[original].column.clone());
    }
    let mut warnings = grouped_warnings(notes);
    let duplicate_ids = match id_column {
        Some(id) => find_duplicate_ids(frame, id)?,
        None => None,
    };
    if let Some(d) = &duplicate_ids {
        warnings.push(duplicate_warning(d));
    }
    Ok(QualityReport { n_rows, columns, duplicate_ids, warnings })
}

/// Column comparisons the copy check makes at most (a hostile file with thousands of look-alike
/// columns cannot make it quadratic).
const MAX_COPY_COMPARISONS: usize = 20_000;

/// Pairs (copy, original) of columns holding the same values row for row, the original being the
/// first such column. Only columns of the same type, missing count and distinct count are compared;
/// constant and all-missing columns are reported as such, not as copies.
fn identical_columns(frame: &DataFrame, columns: &[ColumnQuality]) -> Result<Vec<(usize, usize)>, DataError> {
    let mut pairs = Vec::new();
    let mut comparisons = 0;
    for copy in 0..columns.len() {
        let c = &columns[copy];
        if c.is_constant || c.is_all_missing {
            continue;
        }
        for (original, o) in columns.iter().enumerate().take(copy) {
            if o.identical_to.is_some()
                || pairs.iter().any(|&(p, _)| p == original)
                || (o.dtype.as_str(), o.n_missing, o.n_distinct) != (c.dtype.as_str(), c.n_missing, c.n_distinct)
            {
                continue;
            }
            comparisons += 1;
            if comparisons > MAX_COPY_COMPARISONS {
                return Ok(pairs);
            }
            let a = frame.column(&c.column)?.as_materialized_series();
            let b = frame.column(&o.column)?.as_materialized_series();
            if a.equals_missing(b) {
                pairs.push((copy, original));
                break;
            }
        }
    }
    Ok(pairs)
}

/// A sentence describing duplicate ids, with examples.
pub fn duplicate_warning(d: &DuplicateIds) -> String {
    let examples: Vec<String> = d.examples.iter().map(|(id, n)| format!("{} x{n}", quoted(id))).collect();
    format!(
        "column {}: {} id(s) occur on more than one row ({} extra rows; for example {})",
        quoted(&d.column),
        d.n_duplicated_ids,
        d.n_extra_rows,
        examples.join(", ")
    )
}

fn date_from_days(days: i32) -> NaiveDate {
    // Any i32 of days from 1970 is within chrono's range (about ±262,000 years); checked anyway.
    NaiveDate::from_ymd_opt(1970, 1, 1)
        .and_then(|epoch| epoch.checked_add_signed(chrono::Duration::days(i64::from(days))))
        .unwrap_or_default()
}

/// Ids occurring more than once, with counts and examples; `None` when every id is unique.
pub fn find_duplicate_ids(frame: &DataFrame, id_column: &str) -> Result<Option<DuplicateIds>, DataError> {
    super::column(frame, id_column)?;
    let counts = frame
        .clone()
        .lazy()
        .group_by([col(id_column)])
        .agg([len().alias("n")])
        .filter(col("n").gt(lit(1)))
        .sort_by_exprs(
            [col("n"), col(id_column).cast(DataType::String)],
            SortMultipleOptions::default().with_order_descending_multi([true, false]),
        )
        .collect()?;
    if counts.height() == 0 {
        return Ok(None);
    }
    let ids = counts.column(id_column)?.cast(&DataType::String)?;
    let ids = ids.str()?;
    let ns = counts.column("n")?.cast(&DataType::Int64)?;
    let ns = ns.i64()?;
    let mut examples = Vec::new();
    let mut n_extra_rows = 0;
    for (id, n) in ids.iter().zip(ns.iter()) {
        let n = n.unwrap_or(0) as usize;
        n_extra_rows += n.saturating_sub(1);
        if examples.len() < 5 {
            examples.push((id.unwrap_or("(missing)").to_string(), n));
        }
    }
    Ok(Some(DuplicateIds { column: id_column.to_string(), n_duplicated_ids: counts.height(), n_extra_rows, examples }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_matches_hand_computed_values() {
        let values: Vec<Option<f64>> = [1.0, 2.0, 3.0, 4.0, 100.0].into_iter().map(Some).collect();
        let s = summarise(&values).unwrap();
        assert_eq!((s.min, s.max, s.median), (1.0, 100.0, 3.0));
        assert!((s.mean - 22.0).abs() < 1e-12);
        // pandas: scipy.stats.skew([1, 2, 3, 4, 100], bias=False) = 2.232395911636458 (pandas agrees)
        assert!((s.skew - 2.232_395_911_636_458).abs() < 1e-9, "{}", s.skew);
        assert_eq!(s.n_outliers, 1);
    }

    #[test]
    fn copies_of_a_column_are_found_and_named_after_the_first() {
        let frame = df!(
            "price1" => [1.0, 2.0, 3.0],
            "price2" => [1.0, 2.0, 3.0],
            "price3" => [1.0, 2.0, 3.0],
            "other" => [1.0, 2.0, 4.0],
            "type1" => ["a", "b", "a"],
            "type2" => ["a", "b", "a"],
            "same1" => [7, 7, 7],
            "same2" => [7, 7, 7],
        )
        .unwrap();
        let report = quality_report(&frame, None, None).unwrap();
        let copies: Vec<(&str, Option<&str>)> =
            report.columns.iter().map(|c| (c.column.as_str(), c.identical_to.as_deref())).collect();
        assert_eq!(
            copies,
            [
                ("price1", None),
                ("price2", Some("price1")),
                ("price3", Some("price1")),
                ("other", None),
                ("type1", None),
                ("type2", Some("type1")),
                ("same1", None),
                ("same2", None),
            ]
        );
        assert!(
            report.warnings.iter().any(|w| w
                == "column 'price2' holds exactly the values of 'price1'; using both counts that information twice"),
            "{:?}",
            report.warnings
        );
    }

    #[test]
    fn quantiles_interpolate_like_numpy() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile_sorted(&v, 0.5), 2.5);
        assert_eq!(quantile_sorted(&v, 0.25), 1.75);
    }
}
