//! Behavioural features from a transaction log, beside RFM and tenure: what customers buy (the mix
//! of a categorical column's values), how regularly, whether their spending grows, how often they
//! return goods, and when they shop. Computed as of the same date and over the same transactions as
//! [`super::rfm`] (complete rows on or before the as-of date, inside the window), one row per customer
//! sorted by id, so the table joins the RFM table row for row.

use std::collections::HashMap;

use chrono::NaiveDate;
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::engine::data::{self, ValueFormats, column_list};
use crate::engine::error::DataError;

use super::rfm::{TransactionColumns, date_days, days_from_date};

/// Values of a categorical column that get a share feature of their own; rarer ones are pooled as
/// `other` (said in a warning).
pub const MAX_VALUES_PER_COLUMN: usize = 20;

/// Categorical columns a log may be broken down by at once.
pub const MAX_BREAKDOWN_COLUMNS: usize = 10;

/// The longest trend window, in days (ten years).
pub const MAX_TREND_DAYS: u32 = 3_650;

/// The characters of a value kept in a feature's name.
const MAX_NAME_CHARS: usize = 40;

/// Which behavioural features to compute.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BehaviourSpec {
    /// Categorical columns of the log (channel, category, country): per value the share of spend and
    /// of orders, the number of distinct values, and the first order's value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub breakdown: Vec<String>,
    /// Spend in the last N days against the N before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trend_days: Option<u32>,
    /// Purchase rhythm (mean and coefficient of variation of the days between purchase days),
    /// returns (share and value of negative amounts) and the share of weekend orders.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rhythm: bool,
}

impl BehaviourSpec {
    /// Whether anything is asked for.
    pub fn is_empty(&self) -> bool {
        self.breakdown.is_empty() && self.trend_days.is_none() && !self.rhythm
    }

    /// Refuses settings no log can satisfy, with one line each.
    pub fn check(&self) -> Result<(), DataError> {
        let bad = DataError::BadBehaviour;
        if self.breakdown.len() > MAX_BREAKDOWN_COLUMNS {
            return Err(bad(format!(
                "{} columns to break down by; at most {MAX_BREAKDOWN_COLUMNS}",
                self.breakdown.len()
            )));
        }
        let mut seen = std::collections::HashSet::new();
        for column in &self.breakdown {
            if column.trim().is_empty() {
                return Err(bad("a column to break down by has no name".into()));
            }
            if !seen.insert(column) {
                return Err(bad(format!("column {} is named twice", crate::engine::error::quoted(column))));
            }
        }
        if let Some(days) = self.trend_days
            && !(1..=MAX_TREND_DAYS).contains(&days)
        {
            return Err(bad(format!("a trend window of {days} days; give 1 to {MAX_TREND_DAYS}")));
        }
        Ok(())
    }
}

/// The behavioural features and what was noticed on the way.
#[derive(Clone, Debug)]
pub struct BehaviourResult {
    /// One row per customer, sorted by id: the id, then the features in the order [`BehaviourSpec`]
    /// lists them.
    pub customers: DataFrame,
    /// Warnings, one sentence each.
    pub warnings: Vec<String>,
}

/// One categorical column, coded: per row the code of its value (`None`: missing), and the names of
/// the values that get features (the most frequent, then `other`).
struct Breakdown {
    column: String,
    codes: Vec<u32>,
    /// Feature name part per code (the kept values, then `other` when values were pooled).
    labels: Vec<String>,
    /// The value of each code as written (for `first_<column>`); pooled codes keep their own.
    values: Vec<String>,
    /// Feature slot per code (pooled codes share the last slot).
    slot: Vec<usize>,
}

/// A value as part of a feature name: trimmed, lower case, runs of other characters as one `_`,
/// at most [`MAX_NAME_CHARS`] characters; `missing` for an empty value.
fn name_part(value: &str) -> String {
    let mut out = String::new();
    for c in value.trim().chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
        if out.chars().count() >= MAX_NAME_CHARS {
            break;
        }
    }
    let out = out.trim_matches('_').to_string();
    if out.is_empty() { "missing".into() } else { out }
}

fn code_column(
    frame: &DataFrame,
    frame_column: &str,
    column: &str,
    warnings: &mut Vec<String>,
) -> Result<Breakdown, DataError> {
    let texts = frame.column(frame_column)?.cast(&DataType::String)?;
    let texts = texts.str()?;
    let mut index: HashMap<&str, u32> = HashMap::new();
    let mut values: Vec<String> = Vec::new();
    let mut counts: Vec<usize> = Vec::new();
    let codes: Vec<u32> = texts
        .iter()
        .map(|t| {
            let t = t.map_or("", str::trim);
            let code = *index.entry(t).or_insert_with(|| {
                values.push(t.to_string());
                counts.push(0);
                (values.len() - 1) as u32
            });
            counts[code as usize] += 1;
            code
        })
        .collect();
    // The most frequent values first (ties by value, so the order does not depend on the file's).
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| counts[b].cmp(&counts[a]).then_with(|| values[a].cmp(&values[b])));
    let kept = order.len().min(MAX_VALUES_PER_COLUMN);
    let pooled = order.len() - kept;
    let mut slot = vec![0; values.len()];
    let mut labels: Vec<String> = Vec::new();
    for (rank, &code) in order.iter().enumerate() {
        if rank < kept {
            let mut label = name_part(&values[code]);
            // Two values that read the same once cleaned ("E-mail", "e mail") stay two features.
            let base = label.clone();
            let mut n = 2;
            while labels.contains(&label) {
                label = format!("{base}_{n}");
                n += 1;
            }
            slot[code] = labels.len();
            labels.push(label);
        } else {
            slot[code] = kept;
        }
    }
    if pooled > 0 {
        let mut label = "other".to_string();
        while labels.contains(&label) {
            label.push('_');
        }
        labels.push(label);
        warnings.push(format!(
            "column {} has {} values; the {kept} most frequent get features of their own and the other {pooled} are pooled as 'other'",
            crate::engine::error::quoted(column),
            values.len()
        ));
    }
    Ok(Breakdown { column: column.to_string(), codes, labels, values, slot })
}

/// Per-customer accumulators, reset at each new customer.
#[derive(Default)]
struct Customer {
    orders: usize,
    spend: f64,
    returns: usize,
    return_value: f64,
    weekend: usize,
    /// Distinct purchase days in ascending order (rows come sorted by day).
    days: Vec<i32>,
    last_window: f64,
    previous_window: f64,
    /// Per breakdown column: spend and orders per slot, distinct codes, first order's code.
    spend_by: Vec<Vec<f64>>,
    orders_by: Vec<Vec<usize>>,
    distinct: Vec<std::collections::HashSet<u32>>,
    first: Vec<Option<u32>>,
}

/// The output columns, filled customer by customer.
#[derive(Default)]
struct Columns {
    gap_mean: Vec<Option<f64>>,
    gap_cv: Vec<Option<f64>>,
    return_share: Vec<f64>,
    return_value: Vec<f64>,
    weekend_share: Vec<f64>,
    last_window: Vec<f64>,
    previous_window: Vec<f64>,
    trend: Vec<Option<f64>>,
    spend_share: Vec<Vec<Vec<Option<f64>>>>,
    order_share: Vec<Vec<Vec<f64>>>,
    distinct: Vec<Vec<u32>>,
    first: Vec<Vec<Option<String>>>,
}

/// Day of the week of a day counted from 1970-01-01 (a Thursday), Monday = 0.
fn weekday(day: i32) -> i32 {
    (day + 3).rem_euclid(7)
}

/// Computes the behavioural features `spec` asks for, per customer of `log` as of `as_of`.
pub fn behavioural_features(
    log: &DataFrame,
    columns: &TransactionColumns,
    formats: &ValueFormats,
    as_of: NaiveDate,
    spec: &BehaviourSpec,
) -> Result<BehaviourResult, DataError> {
    spec.check()?;
    for column in &spec.breakdown {
        if log.column(column).is_err() {
            return Err(DataError::MissingColumn { column: column.clone(), available: column_list(log) });
        }
        if columns.key_columns().contains(column) {
            return Err(DataError::BadBehaviour(format!(
                "column {} is the log's id, date or amount and cannot also be broken down by",
                crate::engine::error::quoted(column)
            )));
        }
    }
    let id_name = columns.customer_id.as_str();
    let mut warnings = Vec::new();
    // Date warnings were given by the RFM aggregation of the same log.
    let days = date_days(data::column(log, &columns.date)?, formats, &mut Vec::new())?;
    // Without an amount every order counts 1; the features about money are left out below.
    let amount = match &columns.amount {
        Some(amount) => data::column(log, amount)?.cast(&DataType::Float64)?,
        None => {
            Column::new_scalar("__amount".into(), Scalar::new(DataType::Float64, AnyValue::Float64(1.0)), log.height())
        }
    };
    let has_money = columns.amount.is_some();
    let mut frame_columns = vec![
        data::column(log, id_name)?.clone().with_name(id_name.into()),
        Column::from(days.with_name("__day".into())),
        amount.with_name("__amount".into()),
    ];
    for (i, column) in spec.breakdown.iter().enumerate() {
        frame_columns.push(data::column(log, column)?.clone().with_name(format!("__by{i}").into()));
    }
    let as_of_days = days_from_date(as_of);
    let mut used = col(id_name)
        .is_not_null()
        .and(col("__day").is_not_null())
        .and(col("__amount").is_finite().fill_null(lit(false)))
        .and(col("__day").lt_eq(lit(as_of_days)));
    if let Some(since) = columns.since {
        used = used.and(col("__day").gt_eq(lit(days_from_date(since))));
    }
    // Rows of a customer together, in date order (file order within a day).
    let sorted = DataFrame::new_infer_height(frame_columns)?
        .lazy()
        .filter(used)
        .sort([id_name, "__day"], SortMultipleOptions::default().with_maintain_order(true))
        .with_column(col(id_name).neq_missing(col(id_name).shift(lit(1))).alias("__new"))
        .collect()?;
    let breakdowns: Vec<Breakdown> = spec
        .breakdown
        .iter()
        .enumerate()
        .map(|(i, c)| code_column(&sorted, &format!("__by{i}"), c, &mut warnings))
        .collect::<Result<_, DataError>>()?;
    let day = sorted.column("__day")?.as_materialized_series().i32()?.clone();
    let amount = sorted.column("__amount")?.as_materialized_series().f64()?.clone();
    let new = sorted.column("__new")?.as_materialized_series().bool()?.clone();

    let mut out = Columns::default();
    for b in &breakdowns {
        out.spend_share.push(vec![Vec::new(); b.labels.len()]);
        out.order_share.push(vec![Vec::new(); b.labels.len()]);
        out.distinct.push(Vec::new());
        out.first.push(Vec::new());
    }
    let trend = spec.trend_days.map(|n| n as i32);
    let fresh = || Customer {
        spend_by: breakdowns.iter().map(|b| vec![0.0; b.labels.len()]).collect(),
        orders_by: breakdowns.iter().map(|b| vec![0; b.labels.len()]).collect(),
        distinct: vec![Default::default(); breakdowns.len()],
        first: vec![None; breakdowns.len()],
        ..Default::default()
    };
    let mut current = fresh();
    for row in 0..sorted.height() {
        if new.get(row) == Some(true) && current.orders > 0 {
            finish(&current, &breakdowns, &mut out);
            current = fresh();
        }
        let (Some(d), Some(a)) = (day.get(row), amount.get(row)) else { continue };
        current.orders += 1;
        current.spend += a;
        if a < 0.0 {
            current.returns += 1;
            current.return_value -= a;
        }
        if weekday(d) >= 5 {
            current.weekend += 1;
        }
        if current.days.last() != Some(&d) {
            current.days.push(d);
        }
        if let Some(n) = trend {
            if d > as_of_days - n {
                current.last_window += a;
            } else if d > as_of_days - 2 * n {
                current.previous_window += a;
            }
        }
        for (i, b) in breakdowns.iter().enumerate() {
            let code = b.codes[row];
            let slot = b.slot[code as usize];
            current.spend_by[i][slot] += a;
            current.orders_by[i][slot] += 1;
            // A missing value is no product or channel of its own.
            if !b.values[code as usize].is_empty() {
                current.distinct[i].insert(code);
            }
            current.first[i].get_or_insert(code);
        }
    }
    if current.orders > 0 {
        finish(&current, &breakdowns, &mut out);
    }

    let ids = sorted.lazy().filter(col("__new")).select([col(id_name)]).collect()?;
    let mut result = vec![ids.column(id_name)?.clone()];
    for (i, b) in breakdowns.iter().enumerate() {
        let name = name_part(&b.column);
        for (slot, label) in b.labels.iter().enumerate() {
            if has_money {
                result.push(Column::new(format!("spend_share_{name}_{label}").into(), &out.spend_share[i][slot]));
            }
            result.push(Column::new(format!("order_share_{name}_{label}").into(), &out.order_share[i][slot]));
        }
        result.push(Column::new(format!("distinct_{name}").into(), &out.distinct[i]));
        result.push(Column::new(format!("first_{name}").into(), &out.first[i]));
    }
    if let Some(n) = spec.trend_days.filter(|_| has_money) {
        result.push(Column::new(format!("spend_last_{n}d").into(), out.last_window));
        result.push(Column::new(format!("spend_previous_{n}d").into(), out.previous_window));
        result.push(Column::new("spend_trend".into(), out.trend));
    }
    if spec.rhythm {
        result.push(Column::new("gap_mean_days".into(), out.gap_mean));
        result.push(Column::new("gap_cv".into(), out.gap_cv));
        if has_money {
            result.push(Column::new("return_share".into(), out.return_share));
            result.push(Column::new("return_value".into(), out.return_value));
        }
        result.push(Column::new("weekend_share".into(), out.weekend_share));
    }
    if !has_money {
        let mut left_out = Vec::new();
        if !spec.breakdown.is_empty() {
            left_out.push("spend shares");
        }
        if spec.trend_days.is_some() {
            left_out.push("the spend trend");
        }
        if spec.rhythm {
            left_out.push("returns");
        }
        if !left_out.is_empty() {
            warnings.push(format!(
                "the log has no amount column, so {} are left out of the behavioural features",
                left_out.join(" and ")
            ));
        }
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(clash) = result.iter().map(|c| c.name().to_string()).find(|n| !seen.insert(n.clone())) {
        return Err(DataError::BadBehaviour(format!(
            "two features would both be called {}; rename a column",
            crate::engine::error::quoted(&clash)
        )));
    }
    Ok(BehaviourResult { customers: DataFrame::new_infer_height(result)?, warnings })
}

/// The RFM customer table with the behavioural features beside it. Both come from the same rows of
/// the same log, so they hold the same customers in the same order; that is checked, not assumed.
pub fn join_features(customers: &DataFrame, features: &DataFrame, id_column: &str) -> Result<DataFrame, DataError> {
    let same = customers.height() == features.height()
        && customers
            .column(id_column)?
            .as_materialized_series()
            .equals_missing(features.column(id_column)?.as_materialized_series());
    if !same {
        return Err(DataError::BadColumn {
            column: id_column.to_string(),
            problem:
                "gives the behavioural features other customers than the RFM table; this is a bug, please report it"
                    .into(),
        });
    }
    let mut out = customers.clone();
    for column in features.columns().iter().filter(|c| c.name().as_str() != id_column) {
        if out.column(column.name()).is_ok() {
            return Err(DataError::BadBehaviour(format!(
                "a feature would be called {} like an RFM column; rename a column",
                crate::engine::error::quoted(column.name())
            )));
        }
        out.with_column(column.clone())?;
    }
    Ok(out)
}

/// Appends one customer's features to the output columns.
fn finish(c: &Customer, breakdowns: &[Breakdown], out: &mut Columns) {
    let orders = c.orders as f64;
    // Days between purchase days: their mean is the span over the gaps; the coefficient of variation
    // needs two gaps (three purchase days).
    let gaps: Vec<f64> = c.days.windows(2).map(|w| f64::from(w[1] - w[0])).collect();
    let mean = (!gaps.is_empty()).then(|| gaps.iter().sum::<f64>() / gaps.len() as f64);
    out.gap_mean.push(mean);
    out.gap_cv.push(mean.filter(|m| gaps.len() >= 2 && *m > 0.0).map(|m| {
        let variance = gaps.iter().map(|g| (g - m).powi(2)).sum::<f64>() / gaps.len() as f64;
        variance.sqrt() / m
    }));
    out.return_share.push(c.returns as f64 / orders);
    out.return_value.push(c.return_value);
    out.weekend_share.push(c.weekend as f64 / orders);
    out.last_window.push(c.last_window);
    out.previous_window.push(c.previous_window);
    let both = c.last_window.abs() + c.previous_window.abs();
    out.trend.push((both > 0.0).then(|| (c.last_window - c.previous_window) / both));
    for (i, b) in breakdowns.iter().enumerate() {
        for slot in 0..b.labels.len() {
            // A share of spend needs something spent; returns can bring the total to zero or below.
            out.spend_share[i][slot].push((c.spend > 0.0).then(|| c.spend_by[i][slot] / c.spend));
            out.order_share[i][slot].push(c.orders_by[i][slot] as f64 / orders);
        }
        out.distinct[i].push(c.distinct[i].len() as u32);
        out.first[i].push(c.first[i].map(|code| b.values[code as usize].clone()).filter(|v| !v.is_empty()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log() -> DataFrame {
        // Customer 1: web, web and no channel on day 10, a return in the shop on day 30; customer 2:
        // one shop order.
        df!(
            "id" => [1i64, 1, 1, 2, 1],
            "date" => ["2024-01-01", "2024-01-11", "2024-01-31", "2024-01-06", "2024-01-11"],
            "amount" => [100.0, 50.0, -30.0, 20.0, 10.0],
            "channel" => [Some("Web"), Some(" Web "), Some("Shop"), Some("Shop"), None],
        )
        .unwrap()
    }

    fn columns() -> TransactionColumns {
        TransactionColumns {
            customer_id: "id".into(),
            date: "date".into(),
            amount: Some("amount".into()),
            as_of: None,
            negative_amounts: Default::default(),
            since: None,
            behaviour: Default::default(),
            value: None,
        }
    }

    fn value(frame: &DataFrame, column: &str, row: usize) -> AnyValue<'static> {
        frame.column(column).unwrap().get(row).unwrap().into_static()
    }

    #[test]
    fn without_an_amount_only_the_features_about_money_are_left_out_with_a_note() {
        let as_of = NaiveDate::from_ymd_opt(2024, 2, 1).unwrap();
        let spec = BehaviourSpec { breakdown: vec!["channel".into()], trend_days: Some(14), rhythm: true };
        let without = TransactionColumns { amount: None, ..columns() };
        let result = behavioural_features(&log(), &without, &ValueFormats::default(), as_of, &spec).unwrap();
        let names: Vec<String> = result.customers.get_column_names().iter().map(|n| n.to_string()).collect();
        assert!(names.iter().all(|n| !n.starts_with("spend") && !n.starts_with("return")), "{names:?}");
        for kept in ["order_share_channel_web", "distinct_channel", "first_channel", "gap_mean_days", "weekend_share"] {
            assert!(names.iter().any(|n| n == kept), "{kept} missing from {names:?}");
        }
        let with = behavioural_features(&log(), &columns(), &ValueFormats::default(), as_of, &spec).unwrap();
        for name in ["order_share_channel_web", "gap_mean_days", "weekend_share"] {
            assert!(
                result.customers.column(name).unwrap().equals_missing(with.customers.column(name).unwrap()),
                "{name}"
            );
        }
        let notes: Vec<&String> = result.warnings.iter().filter(|w| w.contains("no amount column")).collect();
        assert_eq!(notes.len(), 1, "{:?}", result.warnings);
        assert!(notes[0].contains("spend shares and the spend trend and returns"), "{}", notes[0]);
    }

    #[test]
    fn every_feature_by_hand() {
        let as_of = NaiveDate::from_ymd_opt(2024, 2, 1).unwrap();
        let spec = BehaviourSpec { breakdown: vec!["channel".into()], trend_days: Some(14), rhythm: true };
        let result = behavioural_features(&log(), &columns(), &ValueFormats::default(), as_of, &spec).unwrap();
        let c = &result.customers;
        assert_eq!(c.height(), 2);
        assert_eq!(value(c, "id", 0), AnyValue::Int64(1));
        // Customer 1 spent 100 + 50 + 10 - 30 = 130: web 150, shop -30, missing 10.
        assert_eq!(value(c, "spend_share_channel_web", 0), AnyValue::Float64(150.0 / 130.0));
        assert_eq!(value(c, "order_share_channel_web", 0), AnyValue::Float64(0.5));
        assert_eq!(value(c, "order_share_channel_shop", 1), AnyValue::Float64(1.0));
        assert_eq!(value(c, "spend_share_channel_missing", 0), AnyValue::Float64(10.0 / 130.0));
        assert_eq!(value(c, "distinct_channel", 0), AnyValue::UInt32(2), "a missing channel is not a channel");
        assert_eq!(value(c, "first_channel", 0), AnyValue::StringOwned("Web".into()));
        // Purchase days 0, 10, 30: gaps 10 and 20.
        assert_eq!(value(c, "gap_mean_days", 0), AnyValue::Float64(15.0));
        assert_eq!(value(c, "gap_cv", 0), AnyValue::Float64(5.0 / 15.0));
        assert_eq!(value(c, "gap_mean_days", 1), AnyValue::Null);
        assert_eq!(value(c, "return_share", 0), AnyValue::Float64(0.25));
        assert_eq!(value(c, "return_value", 0), AnyValue::Float64(30.0));
        // 2024-01-06 was a Saturday.
        assert_eq!(value(c, "weekend_share", 1), AnyValue::Float64(1.0));
        assert_eq!(value(c, "weekend_share", 0), AnyValue::Float64(0.0));
        // Last 14 days: Jan 19 to Feb 1 (-30); the 14 before: Jan 5 to 18 (60).
        assert_eq!(value(c, "spend_last_14d", 0), AnyValue::Float64(-30.0));
        assert_eq!(value(c, "spend_previous_14d", 0), AnyValue::Float64(60.0));
        assert_eq!(value(c, "spend_trend", 0), AnyValue::Float64(-90.0 / 90.0));
    }

    #[test]
    fn many_values_are_pooled_and_said() {
        let n = 30;
        let frame = df!(
            "id" => (0..n as i64).collect::<Vec<_>>(),
            "date" => vec!["2024-01-01"; n],
            "amount" => vec![1.0; n],
            "product" => (0..n).map(|i| format!("p{i}")).collect::<Vec<_>>(),
        )
        .unwrap();
        let spec = BehaviourSpec { breakdown: vec!["product".into()], ..Default::default() };
        let as_of = NaiveDate::from_ymd_opt(2024, 2, 1).unwrap();
        let result = behavioural_features(&frame, &columns(), &ValueFormats::default(), as_of, &spec).unwrap();
        let shares = result.customers.get_column_names().iter().filter(|n| n.starts_with("order_share_")).count();
        assert_eq!(shares, MAX_VALUES_PER_COLUMN + 1);
        assert!(result.warnings[0].contains("'product' has 30 values"), "{:?}", result.warnings);
        assert!(result.customers.column("order_share_product_other").is_ok());
    }

    #[test]
    fn hostile_settings_get_one_line() {
        let as_of = NaiveDate::from_ymd_opt(2024, 2, 1).unwrap();
        let run = |spec: BehaviourSpec| {
            behavioural_features(&log(), &columns(), &ValueFormats::default(), as_of, &spec).unwrap_err().to_string()
        };
        assert!(run(BehaviourSpec { trend_days: Some(0), ..Default::default() }).contains("1 to 3650"));
        assert!(run(BehaviourSpec { breakdown: vec!["nope".into()], ..Default::default() }).contains("nope"));
        assert!(run(BehaviourSpec { breakdown: vec!["amount".into()], ..Default::default() }).contains("amount"));
        assert!(
            run(BehaviourSpec { breakdown: vec!["channel".into(), "channel".into()], ..Default::default() })
                .contains("twice")
        );
        assert!(
            run(BehaviourSpec { breakdown: vec!["channel".into(); MAX_BREAKDOWN_COLUMNS + 1], ..Default::default() })
                .contains("at most")
        );
    }

    #[test]
    fn names_are_clean() {
        assert_eq!(name_part("  E-Mail / Phone "), "e_mail_phone");
        assert_eq!(name_part(""), "missing");
        assert_eq!(name_part("***"), "missing");
        assert_eq!(name_part(&"x".repeat(500)).len(), MAX_NAME_CHARS);
    }
}
