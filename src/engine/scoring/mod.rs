//! Scoring new customers as the project would: the stored recipe (imputation with the fitted
//! values, clipping, log, scaling, weights, one-hot), the model's assignment, the business rules
//! with their percentiles taken over the fitted customers (not recomputed on the new ones), the
//! overrides for known ids, and the fallback segment. Every customer gets a segment, and each one
//! says how it got it: the model's segment, what changed it, a reason code where a feature was
//! missing, unseen or outside the fitted range, its margin to the second-nearest segment, and
//! whether it lies beyond the fitted data.
//!
//! The rules of determinism every scoring target shares: distances are squared Euclidean distances
//! in the recipe's output space, in double precision; ties go to the lowest segment number.

pub mod batch;
pub mod definition;
pub mod pmml;
pub mod sql;

use polars::prelude::DataFrame;

use crate::engine::error::PipelineError;
use crate::engine::features::recipe::FittedFeature;
use crate::engine::naming::SegmentNote;
use crate::engine::pipeline::{self, PipelineResult, RulesCustomers};
use crate::engine::rules::{BusinessRules, SortedColumns};

/// How every scoring target assigns, so that all of them agree.
pub const DETERMINISM: &str = "squared Euclidean distances in the recipe's output space, in double precision; \
ties to the lowest segment number; business-rule percentiles taken over the fitted customers";

/// Why a customer's features are not like the fitted customers'.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    /// A feature the recipe reads has no value (imputed, or the customer went to the fallback).
    MissingFeature,
    /// A category the fitted customers never had (no one-hot column takes it).
    UnseenCategory,
    /// A number below the smallest or above the largest of the fitted customers'.
    OutsideFittedRange,
}

impl Reason {
    /// Its code in outputs.
    pub fn code(self) -> &'static str {
        match self {
            Reason::MissingFeature => "missing_feature",
            Reason::UnseenCategory => "unseen_category",
            Reason::OutsideFittedRange => "outside_fitted_range",
        }
    }
}

/// The fitted customers' quantile of the distance to their own segment's centre beyond which a
/// scored customer is flagged as lying beyond the fitted data.
pub const BEYOND_QUANTILE: f64 = 0.995;

/// A customer's first reason, with the column it concerns.
pub type RowReason = Option<(Reason, String)>;

/// New customers scored.
#[derive(Clone, Debug)]
pub struct Scored {
    /// Final segment per row: every customer has one. The fallback is the project's fallback
    /// segment when its fit had one, else a segment numbered after all others, named "Fallback".
    pub segments: Vec<Option<usize>>,
    /// The model's segment per row, before rules and overrides (the fallback for customers the
    /// recipe or the model could not place).
    pub model_segments: Vec<Option<usize>>,
    /// What changed the model's segment: `rule N`, `override`.
    pub changed_by: Vec<Option<String>>,
    /// The first reason per row, with the column it concerns.
    pub reasons: Vec<RowReason>,
    /// Squared distance to the second-nearest segment centre minus that to the nearest (`None`
    /// outside the model's space).
    pub margins: Vec<Option<f64>>,
    /// Farther from its segment's centre than [`BEYOND_QUANTILE`] of that segment's fitted
    /// customers, or a feature outside the fitted range.
    pub beyond_fitted: Vec<bool>,
    /// The probability of the model's segment, for mixtures.
    pub probability: Option<Vec<Option<f64>>>,
    /// Names of every segment a customer can be in, by number (the model's, the fallback, those the
    /// rules make).
    pub names: Vec<String>,
    /// What the recipe and the rules said about the new data.
    pub warnings: Vec<String>,
}

/// Scores the customers of `frame` (a customer table with the columns the recipe reads, built as
/// the project builds its own) with the segmentation `result` (business rules already applied to
/// its own customers), the project's `rules` and segment `notes`.
pub fn score(
    result: &PipelineResult,
    rules: &BusinessRules,
    notes: &[SegmentNote],
    id_column: Option<&str>,
    frame: &DataFrame,
) -> Result<Scored, PipelineError> {
    score_with(&FittedFacts::of(result)?, result, rules, notes, id_column, frame)
}

/// What scoring measures new customers against that depends only on the fitted customers: each
/// numeric feature's fitted range and each segment's beyond-the-fitted-data threshold. Computed
/// once by a caller that scores many batches (`strata serve`), instead of once per batch.
#[derive(Clone, Debug)]
pub struct FittedFacts {
    /// Per recipe feature, the fitted customers' smallest and largest finite value (numeric
    /// features with values only).
    ranges: Vec<Option<(f64, f64)>>,
    /// Per fitted segment, the [`BEYOND_QUANTILE`] squared distance.
    thresholds: Vec<Option<f64>>,
    /// The fitted customers' finite values, sorted, of every numeric column a business rule takes
    /// a percentile of.
    sorted: crate::engine::rules::SortedColumns,
}

impl FittedFacts {
    /// The facts of `result`'s fitted customers.
    pub fn of(result: &PipelineResult) -> Result<Self, PipelineError> {
        use crate::engine::data;
        let fitted_rows = &result.matrix.kept_rows;
        let ranges = result
            .fitted_recipe
            .features
            .iter()
            .map(|feature| match feature {
                FittedFeature::Numeric(f) => {
                    let fitted = data::quality::numeric_values(data::column(&result.customers, &f.column)?)?;
                    let (lo, hi) = fitted_rows
                        .iter()
                        .filter_map(|&r| fitted.get(r).copied().flatten())
                        .filter(|v| v.is_finite())
                        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
                    Ok((lo <= hi).then_some((lo, hi)))
                }
                FittedFeature::Categorical(_) => Ok(None),
            })
            .collect::<Result<Vec<_>, PipelineError>>()?;
        Ok(FittedFacts { ranges, thresholds: beyond_thresholds(result), sorted: SortedColumns::default() })
    }

    /// [`Self::of`], with the columns `rules` take percentiles of sorted once, for a caller that
    /// applies the rules to many batches.
    pub fn with_rules(result: &PipelineResult, rules: &BusinessRules) -> Result<Self, PipelineError> {
        use crate::engine::rules::{Column_, Condition, Value, column_values, parse_rule, sorted_finite};
        let mut facts = Self::of(result)?;
        for rule in &rules.rules {
            let Ok(parsed) = parse_rule(&rule.text) else { continue };
            for condition in &parsed.conditions {
                // Read as the rules read them, so the percentile is the one they would take.
                if let Condition::Compare { column, value: Value::Percentile(_), .. } = condition
                    && !facts.sorted.contains_key(column)
                    && let Ok(Column_::Numeric(values)) = column_values(&result.customers, column)
                {
                    facts.sorted.insert(column.clone(), sorted_finite(&values));
                }
            }
        }
        Ok(facts)
    }

    /// The fitted range of the recipe's feature number `at` (numeric features with values).
    pub fn range(&self, at: usize) -> Option<(f64, f64)> {
        self.ranges.get(at).copied().flatten()
    }

    /// Per fitted segment, the squared distance beyond which a customer lies beyond the fitted data.
    pub fn thresholds(&self) -> &[Option<f64>] {
        &self.thresholds
    }
}

/// [`score`] with the fitted customers' facts already computed (`facts` must be `result`'s).
pub fn score_with(
    facts: &FittedFacts,
    result: &PipelineResult,
    rules: &BusinessRules,
    notes: &[SegmentNote],
    id_column: Option<&str>,
    frame: &DataFrame,
) -> Result<Scored, PipelineError> {
    let matrix = result.fitted_recipe.transform_for_scoring(frame)?;
    let prediction = pipeline::predict_matrix(result, frame, &matrix)?;
    let n = frame.height();
    let mut warnings = prediction.warnings.clone();
    let k = result.fit.k();
    let n_model = result.n_model_segments();
    // The fitted customers had no fallback segment: new customers the recipe or the model cannot
    // place are without a segment while the rules apply (`when no segment` matches them), and
    // those still without one afterwards get a fallback numbered after every other segment, so the
    // numbers of the project's own segments do not move.
    let fitted_fallback = n_model > k;
    let model_segments: Vec<Option<usize>> =
        prediction.segments.iter().map(|s| s.filter(|&s| fitted_fallback || s < k)).collect();
    let customers = RulesCustomers {
        frame,
        segments: &model_segments,
        kept_rows: &matrix.kept_rows,
        values: matrix.values.view(),
        reference: Some(&result.customers),
        reference_sorted: Some(&facts.sorted),
    };
    let outcome = pipeline::rules_outcome_for(result, rules, notes, id_column, &customers);
    // Segments are numbered as the project's own run numbers them (the model's, its fallback,
    // then the rule segments in the order the run made them), so a number means the same segment
    // in `strata run` and here; a rule segment only this batch fills comes after them.
    let mut names: Vec<String> = (0..result.n_segments())
        .map(|s| {
            notes.iter().find(|n| n.segment == s).map_or_else(|| result.default_segment_name(s), |n| n.name.clone())
        })
        .collect();
    // Then every segment the rules and overrides can make that the fitted customers did not fill,
    // in rule order: a segment only some batches fill has the same number in all of them.
    for name in rule_targets(rules) {
        if !names.iter().any(|n| crate::engine::rules::same_name(n, &name)) {
            names.push(name);
        }
    }
    let (mut segments, changed_by) = match outcome {
        Some(o) => {
            warnings.extend(o.warnings.iter().cloned());
            let number: Vec<usize> = o
                .rule_segments
                .iter()
                .map(|name| match names.iter().skip(n_model).position(|n| crate::engine::rules::same_name(n, name)) {
                    Some(at) => n_model + at,
                    None => {
                        names.push(name.clone());
                        names.len() - 1
                    }
                })
                .collect();
            let segments = o
                .segments
                .iter()
                .map(|s| s.map(|s| if s >= n_model { number.get(s - n_model).copied().unwrap_or(s) } else { s }))
                .collect();
            (segments, o.changed_by)
        }
        None => (model_segments.clone(), vec![None; n]),
    };
    let fallback = if fitted_fallback { k } else { names.len() };
    let mut model_segments = model_segments;
    let mut n_fallback = 0;
    for (segment, model) in segments.iter_mut().zip(model_segments.iter_mut()) {
        if segment.is_none() {
            *segment = Some(fallback);
            n_fallback += 1;
        }
        if model.is_none() {
            *model = Some(fallback);
        }
    }
    if n_fallback > 0 && !fitted_fallback {
        names.push("Fallback".to_string());
    }
    let (margins, distances) = margins_and_distances(result, &matrix.kept_rows, matrix.values.view(), n);
    let thresholds = &facts.thresholds;
    let (reasons, outside) = reasons(result, facts, frame)?;
    let beyond_fitted = (0..n)
        .map(|i| {
            outside[i]
                || match (prediction.segments[i].filter(|&s| s < k), distances[i]) {
                    (Some(s), Some(d)) => thresholds.get(s).copied().flatten().is_some_and(|t| d > t),
                    _ => false,
                }
        })
        .collect();
    Ok(Scored {
        segments,
        model_segments,
        changed_by,
        reasons,
        margins,
        beyond_fitted,
        probability: prediction.probability,
        names,
        warnings,
    })
}

/// The segment names the rules (in order) and then the overrides move customers into.
pub fn rule_targets(rules: &BusinessRules) -> Vec<String> {
    let mut targets: Vec<String> = Vec::new();
    let rule_names = rules.rules.iter().filter_map(|r| match crate::engine::rules::parse_rule(&r.text) {
        Ok(crate::engine::rules::ParsedRule { action: crate::engine::rules::Action::Segment(name), .. }) => Some(name),
        _ => None,
    });
    for name in rule_names.chain(rules.overrides.iter().map(|o| o.segment.clone())) {
        let name = name.trim().to_string();
        if !name.is_empty() && !targets.iter().any(|t| crate::engine::rules::same_name(t, &name)) {
            targets.push(name);
        }
    }
    targets
}

/// The centres the model assigns by (k-means' own centres, or the segment means for the methods
/// that assign by them), else the segment means in the recipe's space: what margins and distances
/// are measured to.
pub fn centres(result: &PipelineResult) -> ndarray::Array2<f64> {
    use crate::engine::cluster::method::FittedModel;
    match &result.fit.model {
        FittedModel::Centroids(m) | FittedModel::SegmentMeans(m) => {
            let k = m.centroids.len();
            let d = m.centroids.first().map_or(0, Vec::len);
            ndarray::Array2::from_shape_fn((k, d), |(i, j)| m.centroids[i][j])
        }
        _ => result.fit.centroids.clone(),
    }
}

/// Per row, the margin (second-nearest minus nearest squared distance to the segment centres)
/// and the squared distance to the nearest centre, for rows in the model's space.
fn margins_and_distances(
    result: &PipelineResult,
    kept_rows: &[usize],
    values: ndarray::ArrayView2<f64>,
    n: usize,
) -> (Vec<Option<f64>>, Vec<Option<f64>>) {
    let centres = centres(result);
    let centroids = centres.view();
    let mut margins = vec![None; n];
    let mut distances = vec![None; n];
    for (i, &row) in kept_rows.iter().enumerate() {
        let point = values.row(i);
        let mut d: Vec<f64> = centroids
            .rows()
            .into_iter()
            .map(|c| point.iter().zip(c).map(|(a, b)| (a - b) * (a - b)).sum::<f64>())
            .collect();
        d.sort_by(f64::total_cmp);
        distances[row] = d.first().copied();
        margins[row] = match d.as_slice() {
            [a, b, ..] => Some(b - a),
            _ => None,
        };
    }
    (margins, distances)
}

/// Per fitted segment, the [`BEYOND_QUANTILE`] of its fitted customers' squared distances to its
/// centre (`None` for a segment without fitted customers).
fn beyond_thresholds(result: &PipelineResult) -> Vec<Option<f64>> {
    let k = result.fit.k();
    let centres = centres(result);
    let centroids = centres.view();
    let model = result.model_segments();
    let mut per: Vec<Vec<f64>> = vec![Vec::new(); k];
    for (i, &row) in result.matrix.kept_rows.iter().enumerate() {
        let Some(s) = model.get(row).copied().flatten().filter(|&s| s < k) else { continue };
        let d = result.matrix.values.row(i).iter().zip(centroids.row(s)).map(|(a, b)| (a - b) * (a - b)).sum::<f64>();
        per[s].push(d);
    }
    per.into_iter()
        .map(|mut d| {
            if d.is_empty() {
                return None;
            }
            d.sort_by(f64::total_cmp);
            Some(crate::engine::data::quality::quantile_sorted(&d, BEYOND_QUANTILE))
        })
        .collect()
}

/// Per row, the first reason its features are not like the fitted customers' (in recipe order),
/// and whether a number lies outside the fitted range.
fn reasons(
    result: &PipelineResult,
    facts: &FittedFacts,
    frame: &DataFrame,
) -> Result<(Vec<RowReason>, Vec<bool>), PipelineError> {
    use crate::engine::data;
    let n = frame.height();
    let mut reasons: Vec<RowReason> = vec![None; n];
    let mut outside = vec![false; n];
    for (at, feature) in result.fitted_recipe.features.iter().enumerate() {
        match feature {
            FittedFeature::Numeric(f) => {
                let range = facts.ranges.get(at).copied().flatten();
                let new = data::quality::numeric_values(data::column(frame, &f.column)?)?;
                for (i, v) in new.iter().enumerate() {
                    let reason = match v {
                        Some(v) if v.is_finite() => {
                            if range.is_some_and(|(lo, hi)| *v < lo || *v > hi) {
                                outside[i] = true;
                                Some(Reason::OutsideFittedRange)
                            } else {
                                None
                            }
                        }
                        _ => Some(Reason::MissingFeature),
                    };
                    if let (Some(reason), None) = (reason, &reasons[i]) {
                        reasons[i] = Some((reason, f.column.clone()));
                    }
                }
            }
            FittedFeature::Categorical(f) => {
                let new = data::column_texts(frame, &f.column)?;
                for (i, v) in new.iter().enumerate() {
                    let reason = match v.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                        None => Some(Reason::MissingFeature),
                        Some(t) if !f.levels.iter().any(|l| l == t) => Some(Reason::UnseenCategory),
                        Some(_) => None,
                    };
                    if let (Some(reason), None) = (reason, &reasons[i]) {
                        reasons[i] = Some((reason, f.column.clone()));
                    }
                }
            }
        }
    }
    Ok((reasons, outside))
}

/// What a scoring run did, beside its output.
#[derive(Clone, Debug, PartialEq)]
pub struct ScoringReport {
    /// Customers scored.
    pub n: usize,
    /// Per segment: name, customers scored into it, and the fitted customers in it.
    pub segments: Vec<(String, usize, usize)>,
    /// Customers per reason code.
    pub reasons: Vec<(Reason, usize)>,
    /// Customers whose two nearest segment centres are within [`NEAR_TIE`] in squared distance.
    pub near_ties: usize,
    /// Customers beyond the fitted data.
    pub beyond_fitted: usize,
    /// Customers whose segment a rule or override changed.
    pub changed: usize,
}

/// A margin (difference of squared distances, in the recipe's standardised units) this small
/// counts as a near-tie: the last bits of another implementation's arithmetic could flip it.
pub const NEAR_TIE: f64 = 1e-6;

impl ScoringReport {
    /// The report of `scored`, beside `result`'s own customers.
    pub fn of(scored: &Scored, result: &PipelineResult) -> Self {
        let k = scored.names.len();
        let mut counts = vec![0usize; k];
        for s in scored.segments.iter().flatten() {
            if *s < k {
                counts[*s] += 1;
            }
        }
        let mut fitted = vec![0usize; k];
        for s in result.segment_per_customer.iter().flatten() {
            if *s < k {
                fitted[*s] += 1;
            }
        }
        let mut reasons: std::collections::BTreeMap<Reason, usize> = Default::default();
        for (r, _) in scored.reasons.iter().flatten() {
            *reasons.entry(*r).or_default() += 1;
        }
        let near_ties = scored.margins.iter().flatten().filter(|m| m.abs() <= NEAR_TIE).count();
        ScoringReport {
            n: scored.segments.len(),
            segments: scored.names.iter().cloned().zip(counts).zip(fitted).map(|((a, b), c)| (a, b, c)).collect(),
            reasons: reasons.into_iter().collect(),
            near_ties,
            beyond_fitted: scored.beyond_fitted.iter().filter(|b| **b).count(),
            changed: scored.changed_by.iter().filter(|c| c.is_some()).count(),
        }
    }
}
