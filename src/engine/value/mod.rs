//! What each customer and segment is worth: buy-till-you-die purchase models (BG/NBD, MBG/NBD,
//! Pareto/NBD), the Gamma-Gamma spend model, discounted value over a horizon, diagnostics on a
//! holdout period, and value per segment with a band from parameter draws.

pub mod clv;
pub mod diagnostics;
pub mod fit;
pub mod models;
pub mod numeric;
pub mod priority;
pub mod simulate;
pub mod stored;
pub mod summary;

use chrono::NaiveDate;
use polars::prelude::DataFrame;
use serde::{Deserialize, Serialize};

pub use clv::{CustomerValues, DiscountConversion, SegmentValue, ValueSettings, customer_values, segment_values};
pub use diagnostics::{AliveHeatmap, CalibrationHistogram, HoldoutResult, ModelComparison};
pub use fit::{FitOptions, FitSummary, PurchaseFit, SpendFit, fit_gamma_gamma, fit_purchase_model};
pub use models::{GammaGammaParams, PurchaseModelKind, PurchaseParams, RepeatSummary, SpendSummary};
pub use stored::{StoredFit, StoredValue};
pub use summary::{CustomerSummary, DATA_CONTRACT, Periods, TimeUnit, summarize};

use crate::engine::error::ValueError;

/// Everything a value analysis is asked to do: the periods, the model, and what value means.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ValueSpec {
    /// The calibration period's last day.
    pub calibration_end: NaiveDate,
    /// The holdout period's last day, if any.
    #[serde(default)]
    pub holdout_end: Option<NaiveDate>,
    /// The model's time unit.
    #[serde(default)]
    pub unit: TimeUnit,
    /// The purchase model whose figures are reported (all three are fitted and compared).
    pub model: PurchaseModelKind,
    /// Horizon, discount rate and margin.
    #[serde(default)]
    pub settings: ValueSettings,
    /// The optimiser's L2 penalty (0: plain maximum likelihood).
    #[serde(default)]
    pub penalty: f64,
}

impl ValueSpec {
    /// The periods the summary is made with.
    pub fn periods(&self) -> Periods {
        Periods { calibration_end: self.calibration_end, holdout_end: self.holdout_end, unit: self.unit }
    }

    /// Refuses settings that have no meaning.
    pub fn check(&self) -> Result<(), ValueError> {
        self.settings.check()?;
        if !(self.penalty.is_finite() && (0.0..=1e3).contains(&self.penalty)) {
            return Err(ValueError::BadSetting {
                setting: "penalty".into(),
                problem: format!(
                    "{} is not a penalty; give 0 (none) or a small positive number such as 0.001",
                    self.penalty
                ),
            });
        }
        Ok(())
    }
}

/// A whole value analysis.
#[derive(Clone, Debug)]
pub struct ValueAnalysis {
    /// What was asked.
    pub spec: ValueSpec,
    /// The customers' summaries.
    pub summary: CustomerSummary,
    /// The three purchase models, in [`PurchaseModelKind::ALL`] order.
    pub fits: Vec<PurchaseFit>,
    /// Their holdout figures (same order).
    pub holdouts: Vec<Option<HoldoutResult>>,
    /// The spend model.
    pub spend: SpendFit,
    /// The discount conversion.
    pub conversion: DiscountConversion,
    /// Each customer's figures under the chosen model.
    pub values: CustomerValues,
    /// The chosen model's calibration histogram.
    pub histogram: CalibrationHistogram,
    /// The chosen model's probability-alive heatmap.
    pub heatmap: AliveHeatmap,
    /// The comparison of the three models.
    pub comparison: Vec<ModelComparison>,
    /// Why one might choose one model over another.
    pub comparison_reasons: Vec<String>,
    /// Warnings from the log and the summary.
    pub warnings: Vec<String>,
    /// The customer id column the summary's ids come from.
    pub id_column: String,
}

impl ValueAnalysis {
    /// Every doubt about the fits, one line each (the summary's counts are not here: the Value
    /// screen and `strata clv` show them with the figures).
    pub fn fit_issues(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .fits
            .iter()
            .flat_map(|f| f.summary.issues.iter().map(move |issue| format!("{}: {issue}", f.params.kind.label())))
            .collect();
        lines.extend(self.spend.summary.issues.iter().map(|issue| format!("Gamma-Gamma: {issue}")));
        lines
    }

    /// The chosen model's fit.
    pub fn chosen(&self) -> &PurchaseFit {
        let i = PurchaseModelKind::ALL.iter().position(|k| *k == self.spec.model).unwrap_or(0);
        &self.fits[i]
    }

    /// The chosen model's holdout figures.
    pub fn chosen_holdout(&self) -> Option<&HoldoutResult> {
        let i = PurchaseModelKind::ALL.iter().position(|k| *k == self.spec.model).unwrap_or(0);
        self.holdouts[i].as_ref()
    }
}

/// Summarises the log rows, fits every model and computes the chosen one's figures.
pub fn analyse(rows: &DataFrame, id_name: &str, spec: &ValueSpec, seed: u64) -> Result<ValueAnalysis, ValueError> {
    spec.check()?;
    let summary = summarize(rows, id_name, spec.periods())?;
    let mut analysis = analyse_summary(summary, spec, seed)?;
    analysis.id_column = id_name.to_string();
    Ok(analysis)
}

/// As [`analyse`], from a summary already made.
pub fn analyse_summary(summary: CustomerSummary, spec: &ValueSpec, seed: u64) -> Result<ValueAnalysis, ValueError> {
    spec.check()?;
    let options = FitOptions { penalty: spec.penalty, ..FitOptions::default() };
    let unique = summary.unique_repeat();
    let fits = PurchaseModelKind::ALL
        .iter()
        .map(|&kind| fit_purchase_model(kind, &unique, options))
        .collect::<Result<Vec<_>, _>>()?;
    let spend = fit_gamma_gamma(&summary.unique_spend(), options)?;
    let holdouts: Vec<Option<HoldoutResult>> = fits.iter().map(|f| diagnostics::holdout(&summary, &f.params)).collect();
    let chosen = fits.iter().position(|f| f.params.kind == spec.model).unwrap_or(0);
    let model = fits[chosen].params;
    let values = customer_values(&summary, &model, &spend.params, &spec.settings);
    let histogram = diagnostics::calibration_histogram(&summary, &model, seed);
    let heatmap = diagnostics::alive_heatmap(&summary, &model);
    let one_time = summary.x.iter().filter(|x| **x == 0.0).count() as f64 / summary.len() as f64;
    let (comparison, comparison_reasons) = diagnostics::compare_models(&fits, &holdouts, one_time);
    let mut warnings = summary.warnings.clone();
    for f in &fits {
        for issue in &f.summary.issues {
            warnings.push(format!("{}: {issue}", f.params.kind.label()));
        }
    }
    for issue in &spend.summary.issues {
        warnings.push(format!("Gamma-Gamma: {issue}"));
    }
    Ok(ValueAnalysis {
        conversion: spec.settings.convert(spec.unit),
        spec: spec.clone(),
        summary,
        fits,
        holdouts,
        spend,
        values,
        histogram,
        heatmap,
        comparison,
        comparison_reasons,
        warnings,
        id_column: String::new(),
    })
}

/// Each segment's value from a segmentation of the same customers: `customer_ids[i]` is in segment
/// `segment_per_customer[i]`; customers the value models did not see count in no segment.
pub fn segment_values_for(
    analysis: &ValueAnalysis,
    customer_ids: &[String],
    segment_per_customer: &[Option<usize>],
    names: &[String],
) -> Vec<SegmentValue> {
    let segment_of: std::collections::HashMap<&str, Option<usize>> =
        customer_ids.iter().map(String::as_str).zip(segment_per_customer.iter().copied()).collect();
    let labels: Vec<Option<usize>> =
        analysis.summary.ids.iter().map(|id| segment_of.get(id.as_str()).copied().flatten()).collect();
    let chosen = analysis.chosen();
    segment_values(
        &analysis.summary,
        &analysis.values,
        &labels,
        names,
        (&chosen.params, &chosen.summary),
        (&analysis.spend.params, &analysis.spend.summary),
        &analysis.spec.settings,
        0,
    )
}
