//! A value analysis as the project file keeps it: the assumptions every figure rests on, the
//! chosen purchase model's and the spend model's fits, and each segment's figures. Stored so a
//! reviewer who opens the project without the data sees what the author saw ("stored, not
//! re-run"), and so a re-run is checked against it figure by figure.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{FitSummary, PurchaseModelKind, SegmentValue, TimeUnit, ValueAnalysis, ValueSettings};

/// A fit as stored: its parameters with their standard errors, and its doubts in words.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredFit {
    /// Parameter names, in order.
    pub names: Vec<String>,
    /// The estimates.
    pub estimates: Vec<f64>,
    /// Standard errors, when the Hessian gave them.
    pub standard_errors: Option<Vec<f64>>,
    /// The log-likelihood at the estimates.
    pub log_likelihood: f64,
    /// Bayesian information criterion.
    pub bic: f64,
    /// Whether the optimiser converged.
    pub converged: bool,
    /// Every doubt about the fit, one sentence each.
    pub issues: Vec<String>,
    /// The penalty used.
    pub penalty: f64,
}

impl StoredFit {
    fn of(summary: &FitSummary) -> Self {
        StoredFit {
            names: summary.names.clone(),
            estimates: summary.estimates.clone(),
            standard_errors: summary.standard_errors.clone(),
            log_likelihood: summary.log_likelihood,
            bic: summary.bic,
            converged: summary.converged,
            issues: summary.issues.clone(),
            penalty: summary.penalty,
        }
    }

    /// The parameters in words: "r = 0.2426 (SE 0.0126), alpha = 4.414 (SE 0.378)".
    pub fn parameters_words(&self) -> String {
        self.names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let estimate = self.estimates.get(i).copied().unwrap_or(f64::NAN);
                match self.standard_errors.as_ref().and_then(|se| se.get(i)) {
                    Some(se) => format!("{name} = {estimate:.4} (SE {se:.4})"),
                    None => format!("{name} = {estimate:.4}"),
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// What a project stores of its value analysis.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredValue {
    /// The purchase model whose figures these are.
    pub model: PurchaseModelKind,
    /// Its fit.
    pub purchase: StoredFit,
    /// The Gamma-Gamma spend fit.
    pub spend: StoredFit,
    /// The first transaction's day.
    pub calibration_start: NaiveDate,
    /// The calibration period's last day.
    pub calibration_end: NaiveDate,
    /// The holdout period's last day, if any.
    pub holdout_end: Option<NaiveDate>,
    /// The models' time unit.
    pub unit: TimeUnit,
    /// Horizon, discount rate and margin.
    pub settings: ValueSettings,
    /// The discount conversion in words ("10% a year is 0.1835% a week ...").
    pub conversion: String,
    /// Fingerprint of the transaction log the figures come from.
    pub data_fingerprint: String,
    /// Customers the models saw.
    pub n_customers: usize,
    /// Those with a repeat purchase.
    pub n_repeat_customers: usize,
    /// Each segment's figures, in segment order (`name` is the segment's number label; the
    /// project's names name them).
    pub segments: Vec<SegmentValue>,
}

/// Parameters a stored fit may have (Pareto/NBD has the most, four).
const MAX_PARAMETERS: usize = 4;
/// Characters a stored sentence may have.
const MAX_SENTENCE_CHARS: usize = 4096;
/// Sentences a stored fit may list.
const MAX_ISSUES: usize = 64;

impl StoredValue {
    /// What a run's analysis and its value per segment store.
    pub fn new(analysis: &ValueAnalysis, segments: Vec<SegmentValue>, data_fingerprint: &str) -> Self {
        let spec = &analysis.spec;
        StoredValue {
            model: spec.model,
            purchase: StoredFit::of(&analysis.chosen().summary),
            spend: StoredFit::of(&analysis.spend.summary),
            calibration_start: analysis.summary.log_start,
            calibration_end: spec.calibration_end,
            holdout_end: spec.holdout_end,
            unit: spec.unit,
            settings: spec.settings,
            conversion: analysis.conversion.sentence.clone(),
            data_fingerprint: data_fingerprint.to_string(),
            n_customers: analysis.summary.len(),
            n_repeat_customers: analysis.summary.n_repeat_customers(),
            segments,
        }
    }

    /// The assumptions every figure rests on, in one sentence.
    pub fn assumptions(&self) -> String {
        format!(
            "{} and Gamma-Gamma fitted on {} to {} in {}; value over {} month(s), discounted at {}% a year, margin {}%{}",
            self.model.label(),
            self.calibration_start,
            self.calibration_end,
            self.unit.plural(),
            self.settings.horizon_months,
            self.settings.annual_discount_rate * 100.0,
            self.settings.margin * 100.0,
            if self.purchase.penalty > 0.0 { format!(", penalty {}", self.purchase.penalty) } else { String::new() }
        )
    }

    /// Refuses what a shared file could hold that no analysis makes: the error names the field.
    pub fn check(&self, max_segments: usize) -> Result<(), String> {
        self.settings.check().map_err(|e| format!("settings: {e}"))?;
        if self.calibration_start > self.calibration_end {
            return Err(format!(
                "calibration_start {} is after calibration_end {}",
                self.calibration_start, self.calibration_end
            ));
        }
        if self.holdout_end.is_some_and(|h| h <= self.calibration_end) {
            return Err("holdout_end is not after calibration_end".into());
        }
        if self.n_repeat_customers > self.n_customers {
            return Err(format!(
                "{} repeat customers of {} (n_repeat_customers)",
                self.n_repeat_customers, self.n_customers
            ));
        }
        for (key, fit) in [("purchase", &self.purchase), ("spend", &self.spend)] {
            let n = fit.names.len();
            if n == 0 || n > MAX_PARAMETERS || fit.estimates.len() != n {
                return Err(format!("{key}: {} estimates for {n} parameter names", fit.estimates.len()));
            }
            if fit.standard_errors.as_ref().is_some_and(|se| se.len() != n) {
                return Err(format!("{key}.standard_errors: not one per parameter"));
            }
            if fit.issues.len() > MAX_ISSUES {
                return Err(format!("{key}.issues: {} sentences (at most {MAX_ISSUES})", fit.issues.len()));
            }
            for text in fit.names.iter().chain(&fit.issues) {
                check_sentence(key, text)?;
            }
        }
        let expected = self.model.parameter_names();
        if self.purchase.names.len() != expected.len()
            || self.purchase.names.iter().zip(expected).any(|(a, b)| a.as_str() != b)
        {
            return Err(format!(
                "purchase: parameters {:?} are not {}'s ({})",
                self.purchase.names,
                self.model.label(),
                expected.join(", ")
            ));
        }
        check_sentence("conversion", &self.conversion)?;
        check_sentence("data_fingerprint", &self.data_fingerprint)?;
        if self.segments.len() > max_segments {
            return Err(format!("{} segments (at most {max_segments})", self.segments.len()));
        }
        for (i, s) in self.segments.iter().enumerate() {
            if s.segment >= max_segments {
                return Err(format!("segments[{i}].segment is {} (at most {})", s.segment, max_segments - 1));
            }
            check_sentence(&format!("segments[{i}].name"), &s.name)?;
            if s.n_customers > self.n_customers {
                return Err(format!(
                    "segments[{i}] has {} customers of the {} the models saw",
                    s.n_customers, self.n_customers
                ));
            }
        }
        Ok(())
    }

    /// Every difference from a re-run's, one `(key, stored, re-run)` each; figures equal within
    /// `close` (a figure that is not a number on both sides is the same).
    pub fn differences(&self, rerun: &StoredValue, close: impl Fn(f64, f64) -> bool) -> Vec<(String, String, String)> {
        let mut out = Vec::new();
        let same = |a: f64, b: f64| close(a, b) || (a.is_nan() && b.is_nan());
        let mut figure = |key: String, a: f64, b: f64| {
            if !same(a, b) {
                out.push((key, a.to_string(), b.to_string()));
            }
        };
        if self.assumptions() != rerun.assumptions() {
            return vec![("value.assumptions".into(), self.assumptions(), rerun.assumptions())];
        }
        for (key, a, b) in [("purchase", &self.purchase, &rerun.purchase), ("spend", &self.spend, &rerun.spend)] {
            for (i, (x, y)) in a.estimates.iter().zip(&b.estimates).enumerate() {
                figure(format!("value.{key}.{}", a.names.get(i).map_or("?", String::as_str)), *x, *y);
            }
            figure(format!("value.{key}.log_likelihood"), a.log_likelihood, b.log_likelihood);
        }
        let counts = |v: &StoredValue| (v.n_customers, v.n_repeat_customers, v.segments.len());
        if counts(self) != counts(rerun) {
            out.push(("value.n_customers".into(), format!("{:?}", counts(self)), format!("{:?}", counts(rerun))));
            return out;
        }
        let mut reported = 0;
        for (a, b) in self.segments.iter().zip(&rerun.segments) {
            let before = out.len();
            let key = |field: &str| format!("value.segments[{}].{field}", a.segment);
            if a.n_customers != b.n_customers {
                out.push((key("n_customers"), a.n_customers.to_string(), b.n_customers.to_string()));
            }
            for (field, x, y) in [
                ("revenue", a.revenue, b.revenue),
                ("value_per_customer_median", a.value_per_customer_median, b.value_per_customer_median),
                ("value_per_customer_p10", a.value_per_customer_p10, b.value_per_customer_p10),
                ("value_per_customer_p90", a.value_per_customer_p90, b.value_per_customer_p90),
                ("total_value", a.total_value, b.total_value),
                ("p_alive", a.p_alive, b.p_alive),
            ] {
                if !(close(x, y) || (x.is_nan() && y.is_nan())) {
                    out.push((key(field), x.to_string(), y.to_string()));
                }
            }
            if out.len() > before {
                reported += 1;
                if reported >= 5 {
                    break;
                }
            }
        }
        out
    }
}

fn check_sentence(key: &str, text: &str) -> Result<(), String> {
    if text.chars().count() > MAX_SENTENCE_CHARS {
        return Err(format!("{key}: longer than {MAX_SENTENCE_CHARS} characters"));
    }
    Ok(())
}
