//! How well a purchase model fits and predicts: the calibration histogram, the holdout by customer
//! group, cumulative purchases week by week, the probability-alive heatmap and the comparison of
//! models, each as plain numbers the window, the CLI and the report show alike.

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::fit::PurchaseFit;
use super::models::PurchaseParams;
use super::simulate::simulate_customer;
use super::summary::CustomerSummary;
use crate::engine::rng::SeededRng;

/// Customer groups by calibration repeat purchases: 0, 1, ..., 6 and "7+".
pub const N_GROUPS: usize = 8;

/// The heatmap's largest side, whatever the data.
pub const MAX_HEATMAP_BINS: usize = 60;

/// The label of group `g`.
pub fn group_label(g: usize) -> String {
    if g + 1 == N_GROUPS { format!("{g}+") } else { g.to_string() }
}

fn group_of(x: f64) -> usize {
    (x.max(0.0) as usize).min(N_GROUPS - 1)
}

/// Customers by calibration repeat purchases, as observed and as the model simulates them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalibrationHistogram {
    /// Group labels ("0" .. "7+").
    pub groups: Vec<String>,
    /// Customers observed in each group.
    pub actual: Vec<f64>,
    /// Customers in each group when the model is simulated over the same customers' `T` (mean of
    /// several seeded simulations).
    pub model: Vec<f64>,
}

/// Simulates the fitted model over each customer's `T` (5 seeded replications) and counts groups.
pub fn calibration_histogram(summary: &CustomerSummary, model: &PurchaseParams, seed: u64) -> CalibrationHistogram {
    const REPLICATIONS: usize = 5;
    let mut actual = vec![0.0; N_GROUPS];
    for &x in &summary.x {
        actual[group_of(x)] += 1.0;
    }
    let mut simulated = [0.0; N_GROUPS];
    for rep in 0..REPLICATIONS {
        let mut rng = SeededRng::derived(seed, 0xca1 + rep as u64);
        for &t in &summary.t_cal {
            simulated[group_of(simulate_customer(&mut rng, model, t).x)] += 1.0;
        }
    }
    let model = simulated.iter().map(|v| v / REPLICATIONS as f64).collect();
    CalibrationHistogram { groups: (0..N_GROUPS).map(group_label).collect(), actual, model }
}

/// Predicted against actual holdout purchases for one group of customers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HoldoutGroup {
    /// The group ("0" .. "7+" repeat purchases in calibration).
    pub group: String,
    /// Customers in it.
    pub n_customers: usize,
    /// Their mean purchases in the holdout period.
    pub actual: f64,
    /// The model's mean expectation for them.
    pub predicted: f64,
}

/// Cumulative repeat purchases by week.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WeeklyTracking {
    /// Week ends as days since the log's first day (7, 14, ...).
    pub week_end_day: Vec<i32>,
    /// Actual cumulative repeat purchases by each week's end.
    pub actual: Vec<f64>,
    /// The model's expectation, each customer from their own first purchase.
    pub predicted: Vec<f64>,
    /// The last week that ends within the calibration period (1-based count of weeks).
    pub calibration_weeks: usize,
}

/// One model's holdout figures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HoldoutResult {
    /// Per group.
    pub groups: Vec<HoldoutGroup>,
    /// Week by week.
    pub weekly: WeeklyTracking,
    /// Mean absolute error per customer, predicted against actual holdout purchases.
    pub mean_absolute_error: f64,
    /// Customer-weighted mean absolute error of the group means.
    pub group_error: f64,
    /// Total predicted and actual holdout purchases.
    pub total_predicted: f64,
    /// Total actual holdout purchases.
    pub total_actual: f64,
    /// Where the model under- or over-predicts, in words.
    pub verdict: Vec<String>,
}

/// The model's holdout figures; `None` without a holdout period.
pub fn holdout(summary: &CustomerSummary, model: &PurchaseParams) -> Option<HoldoutResult> {
    let length = summary.holdout_length();
    if length <= 0.0 {
        return None;
    }
    let (unique, index) = summary.unique_repeat_index();
    let per_unique: Vec<f64> =
        unique.par_iter().with_min_len(16).map(|c| model.conditional_expected_purchases(c, length)).collect();
    let predicted: Vec<f64> = index.iter().map(|&u| per_unique[u]).collect();
    let mut sums = [(0usize, 0.0, 0.0); N_GROUPS];
    for i in 0..summary.len() {
        let g = &mut sums[group_of(summary.x[i])];
        g.0 += 1;
        g.1 += summary.x_holdout[i];
        g.2 += predicted[i];
    }
    let groups: Vec<HoldoutGroup> = sums
        .iter()
        .enumerate()
        .map(|(g, &(n, actual, pred))| HoldoutGroup {
            group: group_label(g),
            n_customers: n,
            actual: if n > 0 { actual / n as f64 } else { 0.0 },
            predicted: if n > 0 { pred / n as f64 } else { 0.0 },
        })
        .collect();
    let n = summary.len() as f64;
    let mean_absolute_error = predicted.iter().zip(&summary.x_holdout).map(|(p, a)| (p - a).abs()).sum::<f64>() / n;
    let group_error = groups.iter().map(|g| g.n_customers as f64 * (g.predicted - g.actual).abs()).sum::<f64>() / n;
    let total_predicted: f64 = predicted.iter().sum();
    let total_actual: f64 = summary.x_holdout.iter().sum();
    let mut verdict = Vec::new();
    for g in &groups {
        if g.n_customers < 10 || g.actual <= 0.0 {
            continue;
        }
        let off = g.predicted / g.actual - 1.0;
        if off.abs() >= 0.10 {
            let way = if off < 0.0 { "under-predicts" } else { "over-predicts" };
            verdict.push(format!(
                "{way} customers with {} repeat purchase(s) in calibration by {:.0}% ({:.2} predicted, {:.2} actual per customer)",
                g.group,
                off.abs() * 100.0,
                g.predicted,
                g.actual
            ));
        }
    }
    let total_off = if total_actual > 0.0 { total_predicted / total_actual - 1.0 } else { 0.0 };
    verdict.push(format!(
        "in all, {:.0} holdout purchases predicted against {:.0} actual ({}{:.1}%); a fit is not expected to match a holdout exactly",
        total_predicted,
        total_actual,
        if total_off >= 0.0 { "+" } else { "" },
        total_off * 100.0
    ));
    Some(HoldoutResult {
        groups,
        weekly: weekly_tracking(summary, model),
        mean_absolute_error,
        group_error,
        total_predicted,
        total_actual,
        verdict,
    })
}

/// Cumulative repeat purchases week by week from the log's first day to the holdout end.
pub fn weekly_tracking(summary: &CustomerSummary, model: &PurchaseParams) -> WeeklyTracking {
    let start = super::summary::days_since_epoch(summary.log_start);
    let cal_end = super::summary::days_since_epoch(summary.periods.calibration_end) - start + 1;
    let end = super::summary::days_since_epoch(summary.periods.holdout_end.unwrap_or(summary.periods.calibration_end))
        - start
        + 1;
    let weeks = ((end + 6) / 7).max(1) as usize;
    let week_end_day: Vec<i32> = (1..=weeks as i32).map(|w| (w * 7).min(end)).collect();
    let mut per_week = vec![0.0; weeks];
    for &offset in &summary.repeat_offsets {
        let w = ((offset / 7) as usize).min(weeks - 1);
        per_week[w] += 1.0;
    }
    let actual: Vec<f64> = per_week
        .iter()
        .scan(0.0, |acc, v| {
            *acc += v;
            Some(*acc)
        })
        .collect();
    let mut cohorts: BTreeMap<i32, f64> = BTreeMap::new();
    for &first in &summary.first_day {
        *cohorts.entry(first - start).or_default() += 1.0;
    }
    let unit = summary.periods.unit.days();
    let predicted: Vec<f64> = week_end_day
        .par_iter()
        .map(|&day| {
            cohorts.iter().map(|(&first, &n)| n * model.expected_purchases((day - first) as f64 / unit)).sum::<f64>()
        })
        .collect();
    let calibration_weeks = (cal_end / 7).max(0) as usize;
    WeeklyTracking { week_end_day, actual, predicted, calibration_weeks }
}

/// Probability alive over binned frequency and recency.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AliveHeatmap {
    /// Repeat purchases at the centre of each row bin.
    pub x_centres: Vec<f64>,
    /// Recency (`t_x`, in the unit) at the centre of each column bin.
    pub t_x_centres: Vec<f64>,
    /// `p_alive[row][column]` for a customer observed for the longest `T`; NaN where `t_x` is
    /// impossible (0 for x > 0 is allowed; t_x > T is not drawn).
    pub p_alive: Vec<Vec<f64>>,
    /// Customers whose (x, t_x) fall in each cell.
    pub customers: Vec<Vec<usize>>,
    /// The `T` the probabilities are computed at.
    pub t_cal: f64,
}

/// The heatmap, with at most [`MAX_HEATMAP_BINS`] bins on each side whatever the data.
pub fn alive_heatmap(summary: &CustomerSummary, model: &PurchaseParams) -> AliveHeatmap {
    let max_x = summary.x.iter().cloned().fold(0.0, f64::max);
    let t_cal = summary.t_cal.iter().cloned().fold(0.0, f64::max);
    let x_bins = ((max_x as usize) + 1).clamp(1, MAX_HEATMAP_BINS);
    let x_width = (max_x + 1.0) / x_bins as f64;
    let t_bins = MAX_HEATMAP_BINS.min(((t_cal.ceil() as usize) + 1).max(1));
    let t_width = if t_cal > 0.0 { t_cal / t_bins as f64 } else { 1.0 };
    let x_centres: Vec<f64> = (0..x_bins).map(|b| ((b as f64 + 0.5) * x_width - 0.5).round().max(0.0)).collect();
    let t_x_centres: Vec<f64> = (0..t_bins).map(|b| (b as f64 + 0.5) * t_width).collect();
    let p_alive = x_centres
        .iter()
        .map(|&x| {
            t_x_centres
                .iter()
                .map(|&t_x| {
                    let t_x = if x == 0.0 { 0.0 } else { t_x };
                    model.p_alive(&super::models::RepeatSummary { x, t_x, t_cal, weight: 1.0 })
                })
                .collect()
        })
        .collect();
    let mut customers = vec![vec![0usize; t_bins]; x_bins];
    for i in 0..summary.len() {
        let row = ((summary.x[i] / x_width) as usize).min(x_bins - 1);
        let column = ((summary.t_x[i] / t_width) as usize).min(t_bins - 1);
        customers[row][column] += 1;
    }
    AliveHeatmap { x_centres, t_x_centres, p_alive, customers, t_cal }
}

/// One model's line in the comparison.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelComparison {
    /// The model's key ("bgnbd", ...).
    pub model: String,
    /// Its name.
    pub label: String,
    /// Log-likelihood on the calibration period.
    pub log_likelihood: f64,
    /// BIC.
    pub bic: f64,
    /// Customer-weighted error of the holdout group means (NaN without a holdout).
    pub group_error: f64,
    /// Mean absolute error per customer on the holdout (NaN without a holdout).
    pub mean_absolute_error: f64,
    /// Whether the fit converged cleanly.
    pub converged: bool,
}

/// The comparison rows and the reasons to choose among them.
pub fn compare_models(
    fits: &[PurchaseFit],
    holdouts: &[Option<HoldoutResult>],
    share_one_time: f64,
) -> (Vec<ModelComparison>, Vec<String>) {
    let rows: Vec<ModelComparison> = fits
        .iter()
        .zip(holdouts)
        .map(|(f, h)| ModelComparison {
            model: f.params.kind.key().into(),
            label: f.params.kind.label().into(),
            log_likelihood: f.summary.log_likelihood,
            bic: f.summary.bic,
            group_error: h.as_ref().map_or(f64::NAN, |h| h.group_error),
            mean_absolute_error: h.as_ref().map_or(f64::NAN, |h| h.mean_absolute_error),
            converged: f.summary.converged,
        })
        .collect();
    let mut reasons = Vec::new();
    let usable: Vec<&ModelComparison> = rows.iter().filter(|r| r.converged && r.bic.is_finite()).collect();
    if let Some(best) = usable.iter().min_by(|a, b| a.bic.total_cmp(&b.bic)) {
        reasons.push(format!("{} has the lowest BIC ({:.1}) on the calibration period", best.label, best.bic));
    }
    if let Some(best) =
        usable.iter().filter(|r| r.group_error.is_finite()).min_by(|a, b| a.group_error.total_cmp(&b.group_error))
    {
        reasons.push(format!(
            "{} predicts the holdout groups best (mean error {:.3} purchases per customer)",
            best.label, best.group_error
        ));
    }
    if share_one_time > 0.5 {
        reasons.push(format!(
            "{:.0}% of customers bought only once: MBG/NBD lets them be gone from the start, where BG/NBD counts every one of them alive",
            share_one_time * 100.0
        ));
    }
    for r in rows.iter().filter(|r| !r.converged) {
        reasons.push(format!("{} did not fit cleanly; see its issues before choosing it", r.label));
    }
    (rows, reasons)
}
