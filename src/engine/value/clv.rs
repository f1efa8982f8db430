//! From fitted models to value: the discount conversion, each customer's probability alive,
//! expected purchases, expected spend and discounted value over a horizon, and the value of each
//! segment with a band from parameter draws.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::fit::FitSummary;
use super::models::{GammaGammaParams, PurchaseModelKind, PurchaseParams, RepeatSummary};
use super::numeric::{beta_expectation, cholesky};
use super::simulate::normal;
use super::summary::{CustomerSummary, TimeUnit};
use crate::engine::error::ValueError;
use crate::engine::rng::SeededRng;

/// Days in an average calendar month (365.25 / 12).
pub const DAYS_PER_MONTH: f64 = 30.4375;

/// Parameter draws behind each segment's band.
pub const N_DRAWS: usize = 100;

/// Customers (at most, over all segments) whose values are recomputed for every draw.
const DRAW_SAMPLE: usize = 1_200;

/// What the user says value means: the horizon, the discount rate and the margin.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ValueSettings {
    /// Annual discount rate (0.10 = 10% a year).
    pub annual_discount_rate: f64,
    /// Horizon in calendar months.
    pub horizon_months: u32,
    /// Contribution margin rate that turns revenue into profit (1.0 = revenue).
    pub margin: f64,
}

impl Default for ValueSettings {
    fn default() -> Self {
        ValueSettings { annual_discount_rate: 0.10, horizon_months: 12, margin: 1.0 }
    }
}

impl ValueSettings {
    /// Refuses settings that have no meaning, naming the setting.
    pub fn check(&self) -> Result<(), ValueError> {
        let bad = |setting: &str, problem: String| Err(ValueError::BadSetting { setting: setting.into(), problem });
        if !(self.annual_discount_rate.is_finite()
            && self.annual_discount_rate > -1.0
            && self.annual_discount_rate < 10.0)
        {
            return bad(
                "discount rate",
                format!(
                    "{} is not an annual rate; give a fraction such as 0.10 for 10% a year",
                    self.annual_discount_rate
                ),
            );
        }
        if self.horizon_months == 0 || self.horizon_months > 600 {
            return bad("horizon", format!("{} months is outside 1 to 600", self.horizon_months));
        }
        if !(self.margin.is_finite() && self.margin > 0.0 && self.margin <= 1.0) {
            return bad(
                "margin",
                format!("{} is not a margin rate; give a fraction in (0, 1], such as 0.3", self.margin),
            );
        }
        Ok(())
    }

    /// The annual rate and horizon in the model's unit, with the sentence that shows the conversion.
    pub fn convert(&self, unit: TimeUnit) -> DiscountConversion {
        let years_per_unit = unit.days() / 365.25;
        let rate_per_unit = (1.0 + self.annual_discount_rate).powf(years_per_unit) - 1.0;
        let horizon_units = self.horizon_months as f64 * DAYS_PER_MONTH / unit.days();
        let sentence = format!(
            "an annual discount rate of {} is {} a {} ((1 + {})^({} / 365.25) - 1), not {}; a horizon of {} month(s) is {:.2} {}",
            percent(self.annual_discount_rate),
            percent(rate_per_unit),
            unit.singular(),
            self.annual_discount_rate,
            unit.days(),
            percent(self.annual_discount_rate),
            self.horizon_months,
            horizon_units,
            unit.plural()
        );
        DiscountConversion { rate_per_unit, horizon_units, sentence }
    }
}

fn percent(rate: f64) -> String {
    let p = rate * 100.0;
    if p.abs() >= 1.0 { format!("{p:.2}%") } else { format!("{p:.4}%") }
}

/// The discount rate and horizon in the model's unit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DiscountConversion {
    /// Discount rate per unit of time.
    pub rate_per_unit: f64,
    /// The horizon in units.
    pub horizon_units: f64,
    /// The conversion in words.
    pub sentence: String,
}

/// Each customer's value figures, aligned with the summary's rows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CustomerValues {
    /// Probability alive at the calibration end.
    pub p_alive: Vec<f64>,
    /// Expected purchases over the horizon (not discounted).
    pub expected_purchases: Vec<f64>,
    /// Expected spend per purchase (Gamma-Gamma); NaN when the spend model has no finite mean.
    pub expected_spend: Vec<f64>,
    /// Discounted value over the horizon at the margin: `Σ_months E[purchases in month] x spend x
    /// margin / (1 + rate)^t`.
    pub clv: Vec<f64>,
}

/// A customer's discounted expected purchases over the horizon, month by month, each month's
/// purchases discounted to its end; and the undiscounted total.
fn discounted_purchases(
    model: &PurchaseParams,
    c: &RepeatSummary,
    unit: TimeUnit,
    settings: &ValueSettings,
) -> (f64, f64) {
    let conversion = settings.convert(unit);
    let months: Vec<(f64, f64)> = (1..=settings.horizon_months)
        .map(|m| {
            let t = m as f64 * DAYS_PER_MONTH / unit.days();
            (t, (1.0 + conversion.rate_per_unit).powf(-t))
        })
        .collect();
    let horizon = conversion.horizon_units;
    let [r, alpha, p3, p4] = model.values;
    let (x, t_cal) = (c.x, c.t_cal);
    let alive = model.p_alive(c);
    // Σ_m w_m [G(t_m) - G(t_m-1)] with G the expected purchases by time t given alive.
    let weighted = |g: &dyn Fn(f64) -> f64| -> f64 {
        let mut previous = 0.0;
        let mut total = 0.0;
        for &(t, w) in &months {
            let now = g(t);
            total += w * (now - previous);
            previous = now;
        }
        total
    };
    match model.kind {
        PurchaseModelKind::BgNbd | PurchaseModelKind::MbgNbd => {
            let (r1, a1, b1) =
                (r + x, alpha + t_cal, p4 + x + if model.kind == PurchaseModelKind::MbgNbd { 1.0 } else { 0.0 });
            let g_of = |p: f64, t: f64| -> f64 {
                if p * t < 1e-12 * a1 {
                    return r1 * t / a1;
                }
                -(-r1 * (p * t / a1).ln_1p()).exp_m1() / p
            };
            // The closed form month by month where it holds; else one quadrature of the whole sum.
            let series: Option<Vec<f64>> =
                months.iter().map(|&(t, _)| super::models::bg_expected_series(r1, a1, p3, b1, t)).collect();
            let plain_series = super::models::bg_expected_series(r1, a1, p3, b1, horizon);
            let discounted = match series {
                Some(values) => {
                    let mut previous = 0.0;
                    values
                        .iter()
                        .zip(&months)
                        .map(|(v, (_, w))| {
                            let step = w * (v - previous);
                            previous = *v;
                            step
                        })
                        .sum()
                }
                None => beta_expectation(|p| weighted(&|t| g_of(p, t)), p3, b1, 1e-9),
            };
            let plain = plain_series.unwrap_or_else(|| beta_expectation(|p| g_of(p, horizon), p3, b1, 1e-9));
            (alive * discounted, alive * plain)
        }
        PurchaseModelKind::ParetoNbd => {
            let lambda = (r + x) / (alpha + t_cal);
            let b1 = p4 + t_cal;
            let k = p3 - 1.0;
            let g = |t: f64| {
                let log_ratio = -(t / b1).ln_1p();
                lambda * if k.abs() < 1e-10 { -b1 * log_ratio } else { b1 * -(k * log_ratio).exp_m1() / k }
            };
            (alive * weighted(&g), alive * g(horizon))
        }
    }
}

/// Every customer's value figures; the purchase part computed once per unique (`x`, `t_x`, `T`).
pub fn customer_values(
    summary: &CustomerSummary,
    model: &PurchaseParams,
    spend: &GammaGammaParams,
    settings: &ValueSettings,
) -> CustomerValues {
    let unit = summary.periods.unit;
    let (unique, index) = summary.unique_repeat_index();
    let purchase: Vec<(f64, f64, f64)> = unique
        .par_iter()
        .with_min_len(16)
        .map(|c| {
            let (discounted, plain) = discounted_purchases(model, c, unit, settings);
            (model.p_alive(c), plain, discounted)
        })
        .collect();
    let mut out = CustomerValues::default();
    for (i, &u) in index.iter().enumerate() {
        let (alive, plain, discounted) = purchase[u];
        let spend_each = spend.expected_spend(summary.n_spend[i], summary.mean_spend[i]).unwrap_or(f64::NAN);
        out.p_alive.push(alive);
        out.expected_purchases.push(plain);
        out.expected_spend.push(spend_each);
        out.clv.push(discounted * spend_each * settings.margin);
    }
    out
}

/// One segment's value, from the log and from the model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SegmentValue {
    /// Segment number (0-based) as the segmentation numbers it.
    pub segment: usize,
    /// Its name.
    pub name: String,
    /// Customers of the segment found in the value summary.
    pub n_customers: usize,
    /// Revenue in the calibration period.
    pub revenue: f64,
    /// Its share of all segments' revenue.
    pub revenue_share: f64,
    /// Orders (purchase days) in the calibration period.
    pub orders: f64,
    /// Revenue per order.
    pub average_order_value: f64,
    /// Orders per customer per month observed.
    pub orders_per_month: f64,
    /// Revenue at the margin rate.
    pub margin_value: f64,
    /// Mean value per customer at the estimates.
    pub value_per_customer: f64,
    /// Median over the parameter draws of the value per customer.
    pub value_per_customer_median: f64,
    /// 10th percentile of the draws.
    pub value_per_customer_p10: f64,
    /// 90th percentile of the draws.
    pub value_per_customer_p90: f64,
    /// Total value at the estimates.
    pub total_value: f64,
    /// Its share of all segments' value.
    pub value_share: f64,
    /// Mean probability alive.
    pub p_alive: f64,
}

/// Each segment's value. `labels[i]` is the segment of summary row `i` (`None`: not segmented);
/// the band comes from [`N_DRAWS`] parameter draws from the fitted covariances, recomputed on a
/// fixed seeded sample of each segment's customers and scaled to the whole segment's point value.
#[allow(clippy::too_many_arguments)]
pub fn segment_values(
    summary: &CustomerSummary,
    values: &CustomerValues,
    labels: &[Option<usize>],
    names: &[String],
    purchase: (&PurchaseParams, &FitSummary),
    spend: (&GammaGammaParams, &FitSummary),
    settings: &ValueSettings,
    seed: u64,
) -> Vec<SegmentValue> {
    let k = names.len();
    let months_observed = |i: usize| summary.t_cal[i] * summary.periods.unit.days() / DAYS_PER_MONTH;
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); k];
    for (i, label) in labels.iter().enumerate() {
        if let Some(s) = label.filter(|s| *s < k) {
            members[s].push(i);
        }
    }
    let finite = |v: f64| if v.is_finite() { v } else { 0.0 };
    let revenue_total: f64 = members.iter().flatten().map(|&i| summary.revenue[i]).sum();
    let value_total: f64 = members.iter().flatten().map(|&i| finite(values.clv[i])).sum();

    // The draws: one parameter set per draw for each model, shared by all segments.
    let mut rng = SeededRng::derived(seed, 0x05ee_dc1f);
    let purchase_draws = draw_parameters(&mut rng, &purchase.0.values, purchase.1);
    let spend_draws = draw_parameters(&mut rng, &[spend.0.p, spend.0.q, spend.0.gamma], spend.1);
    let per_segment = (DRAW_SAMPLE / k.max(1)).max(20);
    let samples: Vec<Vec<usize>> = members
        .iter()
        .map(|m| {
            if m.len() <= per_segment {
                m.clone()
            } else {
                rng.sample_indices(m.len(), per_segment).into_iter().map(|j| m[j]).collect()
            }
        })
        .collect();

    (0..k)
        .map(|s| {
            let rows = &members[s];
            let n = rows.len();
            let revenue: f64 = rows.iter().map(|&i| summary.revenue[i]).sum();
            let orders: f64 = rows.iter().map(|&i| summary.x[i] + 1.0).sum();
            let months: f64 = rows.iter().map(|&i| months_observed(i)).sum();
            let total_value: f64 = rows.iter().map(|&i| finite(values.clv[i])).sum();
            let value_per_customer = if n > 0 { total_value / n as f64 } else { 0.0 };
            let p_alive = if n > 0 { rows.iter().map(|&i| values.p_alive[i]).sum::<f64>() / n as f64 } else { 0.0 };
            let sample = &samples[s];
            let sample_point = sample.iter().map(|&i| finite(values.clv[i])).sum::<f64>() / sample.len().max(1) as f64;
            let mut draws: Vec<f64> = purchase_draws
                .iter()
                .zip(&spend_draws)
                .map(|(pv, sv)| {
                    let model = PurchaseParams { kind: purchase.0.kind, values: [pv[0], pv[1], pv[2], pv[3]] };
                    let gg = GammaGammaParams { p: sv[0], q: sv[1], gamma: sv[2] };
                    let mean = super::numeric::ordered_sum(sample, |&i| {
                        let (discounted, _) =
                            discounted_purchases(&model, &summary.repeat(i), summary.periods.unit, settings);
                        let each = gg.expected_spend(summary.n_spend[i], summary.mean_spend[i]).unwrap_or(f64::NAN);
                        finite(discounted * each * settings.margin)
                    }) / sample.len().max(1) as f64;
                    if sample_point > 0.0 { value_per_customer * mean / sample_point } else { value_per_customer }
                })
                .collect();
            draws.sort_by(f64::total_cmp);
            let q = |p: f64| crate::engine::data::quality::quantile_sorted(&draws, p);
            let (median, p10, p90) = if draws.is_empty() {
                (value_per_customer, value_per_customer, value_per_customer)
            } else {
                (q(0.5), q(0.1), q(0.9))
            };
            SegmentValue {
                segment: s,
                name: names[s].clone(),
                n_customers: n,
                revenue,
                revenue_share: if revenue_total > 0.0 { revenue / revenue_total } else { 0.0 },
                orders,
                average_order_value: if orders > 0.0 { revenue / orders } else { 0.0 },
                orders_per_month: if months > 0.0 { orders / months } else { 0.0 },
                margin_value: revenue * settings.margin,
                value_per_customer,
                value_per_customer_median: median,
                value_per_customer_p10: p10,
                value_per_customer_p90: p90,
                total_value,
                value_share: if value_total > 0.0 { total_value / value_total } else { 0.0 },
                p_alive,
            }
        })
        .collect()
}

/// Parameter sets drawn from the normal approximation on the log scale; none when the fit has no
/// covariance (the band then collapses onto the estimate, and the fit's issues say why).
fn draw_parameters(rng: &mut SeededRng, estimates: &[f64], fit: &FitSummary) -> Vec<Vec<f64>> {
    let Some(l) = fit.covariance_log.as_ref().and_then(|c| cholesky(c)) else {
        return vec![estimates.to_vec(); N_DRAWS];
    };
    (0..N_DRAWS)
        .map(|_| {
            let z: Vec<f64> = (0..estimates.len()).map(|_| normal(rng)).collect();
            estimates
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    let shift: f64 = (0..=i).map(|j| l[i][j] * z[j]).sum();
                    e * shift.exp()
                })
                .collect()
        })
        .collect()
}
