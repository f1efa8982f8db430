//! From a transaction log to each customer's calibration summary (`x`, `t_x`, `T`), their repeat
//! spend and their holdout purchases, by one written data contract.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::models::{RepeatSummary, SpendSummary};
use crate::engine::error::ValueError;

/// The data contract every figure on the Value screen and in `strata clv` rests on, shown with them.
pub const DATA_CONTRACT: &str = "Purchases on the same calendar day by the same customer are one purchase worth their sum; \
a repeat purchase is a later purchase day. The calibration period runs from the first transaction to the calibration \
end date inclusive. Per customer, x = repeat purchases in the calibration period, t_x = time from the first to the \
last purchase, T = time from the first purchase to the calibration end date, in the chosen unit. Gamma-Gamma is fitted \
on each repeat customer's mean value of its repeat purchases (the first purchase excluded), over customers with x > 0; \
purchase days with a total of zero or less are left out of that mean and counted.";

/// The model's time unit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimeUnit {
    /// Calendar days.
    Days,
    /// Weeks of 7 days.
    #[default]
    Weeks,
}

impl TimeUnit {
    /// Days in one unit.
    pub fn days(self) -> f64 {
        match self {
            TimeUnit::Days => 1.0,
            TimeUnit::Weeks => 7.0,
        }
    }

    /// The unit's name in the plural ("weeks").
    pub fn plural(self) -> &'static str {
        match self {
            TimeUnit::Days => "days",
            TimeUnit::Weeks => "weeks",
        }
    }

    /// The unit's name in the singular ("week").
    pub fn singular(self) -> &'static str {
        match self {
            TimeUnit::Days => "day",
            TimeUnit::Weeks => "week",
        }
    }
}

/// The periods of a summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Periods {
    /// The calibration period's last day (inclusive).
    pub calibration_end: NaiveDate,
    /// The holdout period's last day (inclusive), when there is one; it starts the day after the
    /// calibration end.
    pub holdout_end: Option<NaiveDate>,
    /// The unit `t_x`, `T` and every horizon are measured in.
    pub unit: TimeUnit,
}

/// One row per customer whose first purchase is in the calibration period, sorted by id.
#[derive(Clone, Debug, Default)]
pub struct CustomerSummary {
    /// Customer ids as text.
    pub ids: Vec<String>,
    /// Repeat purchase days in the calibration period.
    pub x: Vec<f64>,
    /// First to last purchase day, in the unit.
    pub t_x: Vec<f64>,
    /// First purchase day to the calibration end, in the unit.
    pub t_cal: Vec<f64>,
    /// Repeat purchase days with a positive total (the Gamma-Gamma `x`).
    pub n_spend: Vec<f64>,
    /// Mean total of those days; NaN when there are none.
    pub mean_spend: Vec<f64>,
    /// Revenue in the calibration period, every day counted (first purchase included).
    pub revenue: Vec<f64>,
    /// Purchase days in the holdout period (0 without one).
    pub x_holdout: Vec<f64>,
    /// Revenue in the holdout period.
    pub revenue_holdout: Vec<f64>,
    /// First purchase day, days since 1970-01-01.
    pub first_day: Vec<i32>,
    /// Every repeat purchase day (calibration and holdout) as days since the log's first day, for
    /// the weekly tracking chart.
    pub repeat_offsets: Vec<i32>,
    /// The log's first transaction day.
    pub log_start: NaiveDate,
    /// The periods.
    pub periods: Periods,
    /// Repeat purchase days with a total of zero or less, left out of the spend means.
    pub n_nonpositive_repeat_days: usize,
    /// Customers whose first purchase is after the calibration end (not in the summary).
    pub n_customers_after_calibration: usize,
    /// Transactions after the holdout end (or after the calibration end without a holdout), ignored.
    pub n_transactions_after_end: usize,
    /// Warnings, one sentence each.
    pub warnings: Vec<String>,
}

impl CustomerSummary {
    /// Customers in the summary.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Customers with at least one repeat purchase.
    pub fn n_repeat_customers(&self) -> usize {
        self.x.iter().filter(|x| **x > 0.0).count()
    }

    /// The holdout length in the unit (0 without a holdout).
    pub fn holdout_length(&self) -> f64 {
        self.periods
            .holdout_end
            .map(|end| (end - self.periods.calibration_end).num_days() as f64 / self.periods.unit.days())
            .unwrap_or(0.0)
    }

    /// Customer `i`'s repeat summary.
    pub fn repeat(&self, i: usize) -> RepeatSummary {
        RepeatSummary { x: self.x[i], t_x: self.t_x[i], t_cal: self.t_cal[i], weight: 1.0 }
    }

    /// The customers compressed to unique (`x`, `t_x`, `T`) with weights: what the likelihood sums.
    pub fn unique_repeat(&self) -> Vec<RepeatSummary> {
        let mut counts: BTreeMap<(u64, u64, u64), f64> = BTreeMap::new();
        for i in 0..self.len() {
            *counts.entry((self.x[i].to_bits(), self.t_x[i].to_bits(), self.t_cal[i].to_bits())).or_default() += 1.0;
        }
        counts
            .into_iter()
            .map(|((x, t_x, t), weight)| RepeatSummary {
                x: f64::from_bits(x),
                t_x: f64::from_bits(t_x),
                t_cal: f64::from_bits(t),
                weight,
            })
            .collect()
    }

    /// The unique (`x`, `t_x`, `T`) (weights counted) and, per customer, the index of theirs: what
    /// per-customer figures that depend only on those are computed once for.
    pub fn unique_repeat_index(&self) -> (Vec<RepeatSummary>, Vec<usize>) {
        let mut position: std::collections::HashMap<(u64, u64, u64), usize> = std::collections::HashMap::new();
        let mut unique: Vec<RepeatSummary> = Vec::new();
        let index = (0..self.len())
            .map(|i| {
                let key = (self.x[i].to_bits(), self.t_x[i].to_bits(), self.t_cal[i].to_bits());
                *position.entry(key).or_insert_with(|| {
                    unique.push(RepeatSummary { weight: 0.0, ..self.repeat(i) });
                    unique.len() - 1
                })
            })
            .collect::<Vec<usize>>();
        for &u in &index {
            unique[u].weight += 1.0;
        }
        (unique, index)
    }

    /// The repeat customers' spend summaries (those with a positive repeat day), compressed.
    pub fn unique_spend(&self) -> Vec<SpendSummary> {
        let mut counts: BTreeMap<(u64, u64), f64> = BTreeMap::new();
        for i in 0..self.len() {
            if self.n_spend[i] > 0.0 && self.mean_spend[i].is_finite() {
                *counts.entry((self.n_spend[i].to_bits(), self.mean_spend[i].to_bits())).or_default() += 1.0;
            }
        }
        counts
            .into_iter()
            .map(|((x, m), weight)| SpendSummary { x: f64::from_bits(x), mean_spend: f64::from_bits(m), weight })
            .collect()
    }
}

/// Summarises complete log rows (columns: the id column, `__day` as days since 1970-01-01, and
/// `__amount`) by [`DATA_CONTRACT`].
pub fn summarize(rows: &DataFrame, id_name: &str, periods: Periods) -> Result<CustomerSummary, ValueError> {
    let cal_end = days_since_epoch(periods.calibration_end);
    let end = match periods.holdout_end {
        Some(h) if h <= periods.calibration_end => {
            return Err(ValueError::BadSetting {
                setting: "holdout end".into(),
                problem: format!(
                    "{h} is not after the calibration end {}; give a later date or leave the holdout out",
                    periods.calibration_end
                ),
            });
        }
        Some(h) => days_since_epoch(h),
        None => cal_end,
    };
    // Grouped and sorted by the id as it was read (numbers in numeric order), then written as text.
    let daily = DataFrame::new_infer_height(vec![
        rows.column(id_name)?.clone().with_name("__id".into()),
        rows.column("__day")?.clone(),
        rows.column("__amount")?.clone(),
    ])?
    .lazy()
    .group_by([col("__id"), col("__day")])
    .agg([col("__amount").sum()])
    .sort(["__id", "__day"], SortMultipleOptions::default())
    .with_column(col("__id").cast(DataType::String))
    .collect()?;
    let id_col = daily.column("__id")?.as_materialized_series().str()?.clone();
    let day_col = daily.column("__day")?.as_materialized_series().i32()?.clone();
    let amount_col = daily.column("__amount")?.as_materialized_series().f64()?.clone();
    let Some(log_start) = day_col.min() else {
        return Err(ValueError::NoCustomers { why: "the log has no complete transactions".into() });
    };

    let unit = periods.unit.days();
    let mut out = CustomerSummary { periods, log_start: date_from_days(log_start), ..CustomerSummary::default() };
    let n = daily.height();
    let mut i = 0;
    while i < n {
        let id = id_col.get(i).unwrap_or_default();
        let mut j = i;
        while j < n && id_col.get(j).unwrap_or_default() == id {
            j += 1;
        }
        let first = day_col.get(i).unwrap_or(0);
        let days_in = |k: usize| (day_col.get(k).unwrap_or(0), amount_col.get(k).unwrap_or(0.0));
        if first > cal_end {
            out.n_customers_after_calibration += 1;
            out.n_transactions_after_end += (i..j).filter(|&k| days_in(k).0 > end).count();
            i = j;
            continue;
        }
        let (mut x, mut last, mut n_spend, mut spend, mut revenue, mut x_h, mut rev_h) =
            (0.0, first, 0.0, 0.0, 0.0, 0.0, 0.0);
        for k in i..j {
            let (day, amount) = days_in(k);
            if day > end {
                out.n_transactions_after_end += 1;
                continue;
            }
            if k > i {
                out.repeat_offsets.push(day - log_start);
            }
            if day <= cal_end {
                revenue += amount;
                if k > i {
                    x += 1.0;
                    last = day;
                    if amount > 0.0 {
                        n_spend += 1.0;
                        spend += amount;
                    } else {
                        out.n_nonpositive_repeat_days += 1;
                    }
                }
            } else {
                x_h += 1.0;
                rev_h += amount;
            }
        }
        out.ids.push(id.to_string());
        out.x.push(x);
        out.t_x.push((last - first) as f64 / unit);
        out.t_cal.push((cal_end - first) as f64 / unit);
        out.n_spend.push(n_spend);
        out.mean_spend.push(if n_spend > 0.0 { spend / n_spend } else { f64::NAN });
        out.revenue.push(revenue);
        out.x_holdout.push(x_h);
        out.revenue_holdout.push(rev_h);
        out.first_day.push(first);
        i = j;
    }
    if out.is_empty() {
        return Err(ValueError::NoCustomers {
            why: format!(
                "no customer made a first purchase on or before the calibration end {}; choose a later date",
                periods.calibration_end
            ),
        });
    }
    if out.n_nonpositive_repeat_days > 0 {
        out.warnings.push(format!(
            "{} purchase day(s) are left out of the spend means: repeat purchases with a total of zero or less",
            out.n_nonpositive_repeat_days
        ));
    }
    if out.n_customers_after_calibration > 0 {
        out.warnings.push(format!(
            "{} customer(s) first bought after the calibration end {} and are not in the model",
            out.n_customers_after_calibration, periods.calibration_end
        ));
    }
    if out.n_transactions_after_end > 0 {
        let end_date = periods.holdout_end.unwrap_or(periods.calibration_end);
        out.warnings.push(format!("{} purchase day(s) after {end_date} were ignored", out.n_transactions_after_end));
    }
    Ok(out)
}

/// Days since 1970-01-01.
pub fn days_since_epoch(date: NaiveDate) -> i32 {
    (date - epoch()).num_days() as i32
}

/// The date `days` after 1970-01-01.
pub fn date_from_days(days: i32) -> NaiveDate {
    epoch() + chrono::Duration::days(days as i64)
}

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()
}
