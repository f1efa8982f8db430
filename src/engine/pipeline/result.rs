//! The result of a run, with the business rules applied to it and the assignments it writes.

use super::*;

/// Everything a run produces.
pub struct PipelineResult {
    /// The customer table.
    pub customers: DataFrame,
    /// As-of date for transaction logs.
    pub as_of: Option<NaiveDate>,
    /// Column roles used.
    pub roles: Vec<RoleGuess>,
    /// Quality report of the customer table.
    pub quality: QualityReport,
    /// Fitted transform parameters.
    pub fitted_recipe: FittedRecipe,
    /// The matrix the model saw.
    pub matrix: FeatureMatrix,
    /// Correlations and VIFs of the features.
    pub multicollinearity: Multicollinearity,
    /// The sweep, when the spec has a k range.
    pub sweep: Option<SweepResult>,
    /// The fit at the spec's k (or the rules' segments).
    pub fit: Segmentation,
    /// Indices of that fit.
    pub indices: Indices,
    /// Segment per customer row: fitted segment, `k` for the fallback segment, `None` when dropped.
    pub segment_per_customer: Vec<Option<usize>>,
    /// Fingerprint of `segment_per_customer`.
    pub assignment_fingerprint: String,
    /// Fingerprints of the sources read.
    pub source_fingerprints: Vec<String>,
    /// Bootstrap stability of the fit, when the spec asks for it and the method is fitted.
    pub stability: Option<crate::engine::cluster::stability::Stability>,
    /// Bootstrap stability of every k of the sweep, when the spec asks for it.
    pub k_stability: Vec<crate::engine::cluster::stability::KStability>,
    /// The business rules and overrides applied after the model (see [`apply_business_rules`]):
    /// `segment_per_customer` is then their result and the model's is kept here.
    pub rules: Option<crate::engine::rules::RulesOutcome>,
    /// Every warning of every stage.
    pub warnings: Vec<String>,
    /// The value analysis of the log, when the spec asks for customer lifetime value.
    pub value: Option<std::sync::Arc<crate::engine::value::ValueAnalysis>>,
    /// How the customers and the attribute table matched on their keys, when one was joined.
    pub join: Option<crate::engine::features::JoinReport>,
    /// Columns data minimisation dropped from `customers` (nothing used them; see
    /// [`crate::engine::project::minimise`]).
    pub minimised: Vec<String>,
    /// Set on a result shown while the exact one is computed: the model was fitted on a sample and
    /// every customer assigned to its nearest centre ([`run_refining`]).
    pub provisional: Option<ProvisionalFit>,
}

/// How a provisional result was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProvisionalFit {
    /// Customers the model (and the sweep) was fitted on, drawn with the model's seed.
    pub sample_size: usize,
    /// Customers segmented (every one assigned to the nearest centre).
    pub customers: usize,
    /// The sample's sweep over k is still being made: the result has no sweep yet, and one with the
    /// same segments and the sample's sweep follows.
    pub sweep_pending: bool,
}

impl PipelineResult {
    /// Segments the model can put customers in: the fitted ones, plus the fallback segment when it
    /// has anyone.
    pub fn n_model_segments(&self) -> usize {
        self.fit.sizes.len() + usize::from(!self.matrix.fallback_rows.is_empty())
    }

    /// Segments customers can be in: the model's, then those the business rules made.
    pub fn n_segments(&self) -> usize {
        self.n_model_segments() + self.rules.as_ref().map_or(0, |r| r.rule_segments.len())
    }

    /// The model's segment per customer row, before any business rule or override.
    pub fn model_segments(&self) -> &[Option<usize>] {
        self.rules.as_ref().map_or(&self.segment_per_customer, |r| &r.model_segments)
    }

    /// The name a segment has before the user names it: the method's (rules name their segments),
    /// otherwise "Segment N"; the fallback segment is "Fallback"; a segment a business rule made
    /// has the rule's name.
    pub fn default_segment_name(&self, segment: usize) -> String {
        let base = self.n_model_segments();
        if segment >= base
            && let Some(name) = self.rules.as_ref().and_then(|r| r.rule_segments.get(segment - base))
        {
            return name.clone();
        }
        match self.fit.names.get(segment) {
            Some(name) => name.clone(),
            None if segment == self.fit.k() => "Fallback".to_string(),
            None => format!("Segment {}", segment + 1),
        }
    }

    /// Customers without a segment (dropped by the recipe, and given none by the rules).
    pub fn n_without_segment(&self) -> usize {
        self.rules.as_ref().map_or(self.matrix.dropped_rows.len(), |r| r.n_without_segment)
    }

    /// Whether a segment was made by the business rules rather than the model.
    pub fn is_rule_segment(&self, segment: usize) -> bool {
        segment >= self.n_model_segments() && segment < self.n_segments()
    }

    /// The segments' member means in the feature space, as nearest-centroid assignment.
    pub fn centroid_model(&self) -> CentroidModel {
        CentroidModel { centroids: self.fit.centroids.rows().into_iter().map(|r| r.to_vec()).collect() }
    }
}

/// What a project's business rules and overrides make of a run's model segments, with the names
/// and low-priority marks of its segment notes (`None` when there are none to apply). Leaves the
/// result as it is; [`apply_business_rules`] puts the outcome in.
pub fn business_rules_outcome(
    result: &PipelineResult,
    rules: &crate::engine::rules::BusinessRules,
    notes: &[crate::engine::naming::SegmentNote],
    id_column: Option<&str>,
) -> Option<crate::engine::rules::RulesOutcome> {
    let customers = RulesCustomers {
        frame: &result.customers,
        segments: result.model_segments(),
        kept_rows: &result.matrix.kept_rows,
        values: result.matrix.values.view(),
        reference: None,
        reference_sorted: None,
    };
    rules_outcome_for(result, rules, notes, id_column, &customers)
}

/// Customers the rules apply to: their table, the model's segment per row, where each sits in the
/// model's space (matrix row per table row), and the customers percentiles are taken over.
pub struct RulesCustomers<'a> {
    /// Their table.
    pub frame: &'a DataFrame,
    /// The model's segment per row.
    pub segments: &'a [Option<usize>],
    /// Table rows of the matrix rows.
    pub kept_rows: &'a [usize],
    /// Their transformed features.
    pub values: ndarray::ArrayView2<'a, f64>,
    /// The fitted population, when these are new customers (see [`crate::engine::rules::RuleContext::reference`]).
    pub reference: Option<&'a DataFrame>,
    /// The reference's columns already sorted (see [`crate::engine::rules::RuleContext::reference_sorted`]).
    pub reference_sorted: Option<&'a crate::engine::rules::SortedColumns>,
}

/// [`business_rules_outcome`] on any customers segmented by `result`'s model (its own, or new ones
/// being scored).
pub fn rules_outcome_for(
    result: &PipelineResult,
    rules: &crate::engine::rules::BusinessRules,
    notes: &[crate::engine::naming::SegmentNote],
    id_column: Option<&str>,
    customers: &RulesCustomers<'_>,
) -> Option<crate::engine::rules::RulesOutcome> {
    use crate::engine::rules::{RuleContext, apply};
    if rules.is_empty() {
        return None;
    }
    let n_model = result.n_model_segments();
    let note = |s: usize| notes.iter().find(|n| n.segment == s);
    let names =
        (0..n_model).map(|s| note(s).map_or_else(|| result.default_segment_name(s), |n| n.name.clone())).collect();
    let low_priority = (0..n_model).map(|s| note(s).is_some_and(|n| n.low_priority)).collect();
    // Where each customer sits in the model's space: its row of the matrix, and the fitted
    // segments' means from nearest to farthest.
    let mut matrix_row = vec![None; customers.frame.height()];
    for (i, &row) in customers.kept_rows.iter().enumerate() {
        if let Some(slot) = matrix_row.get_mut(row) {
            *slot = Some(i);
        }
    }
    let (x, centroids) = (customers.values, result.fit.centroids.view());
    let nearest = |row: usize| -> Option<Vec<usize>> {
        let i = matrix_row.get(row).copied().flatten()?;
        Some(nearest_segments(x.row(i), centroids))
    };
    let ctx = RuleContext {
        customers: customers.frame,
        id_column,
        segments: customers.segments,
        names,
        low_priority,
        n_fitted: result.fit.k(),
        nearest: &nearest,
        reference: customers.reference,
        reference_sorted: customers.reference_sorted,
    };
    Some(apply(rules, &ctx))
}

/// The segments whose means (`centroids`, one per row) lie nearest to `point`, nearest first, by
/// squared distance with ties to the lower number.
pub fn nearest_segments(point: ndarray::ArrayView1<f64>, centroids: ndarray::ArrayView2<f64>) -> Vec<usize> {
    let mut order: Vec<(f64, usize)> = centroids
        .rows()
        .into_iter()
        .enumerate()
        .map(|(s, c)| (point.iter().zip(c).map(|(a, b)| (a - b) * (a - b)).sum::<f64>(), s))
        .collect();
    order.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    order.into_iter().map(|(_, s)| s).collect()
}

/// Applies a project's business rules and overrides to a run's segments (see
/// [`business_rules_outcome`]); the fingerprint then covers their result. Applying again starts
/// from the model's segments, so it can be called whenever the rules change.
pub fn apply_business_rules(
    result: &mut PipelineResult,
    rules: &crate::engine::rules::BusinessRules,
    notes: &[crate::engine::naming::SegmentNote],
    id_column: Option<&str>,
) {
    let outcome = business_rules_outcome(result, rules, notes, id_column);
    if let Some(previous) = result.rules.take() {
        result.segment_per_customer = previous.model_segments;
        result.warnings.retain(|w| !previous.warnings.contains(w));
    }
    if let Some(outcome) = outcome {
        result.warnings.extend(outcome.warnings.iter().cloned());
        result.segment_per_customer = outcome.segments.clone();
        result.rules = Some(outcome);
    }
    result.assignment_fingerprint = fingerprint_segments(&result.segment_per_customer);
}

/// The id column overrides name customers by: the spec's, else the column guessed to hold ids.
pub fn override_id_column<'a>(spec: &'a PipelineSpec, result: &'a PipelineResult) -> Option<&'a str> {
    spec.id_column()
        .or_else(|| result.roles.iter().find(|g| g.role == ColumnRole::CustomerId).map(|g| g.column.as_str()))
}

/// Label per customer row encoded for the fingerprint: dropped rows get `u32::MAX`.
pub fn fingerprint_segments(segments: &[Option<usize>]) -> String {
    let encoded: Vec<usize> = segments.iter().map(|s| s.unwrap_or(u32::MAX as usize)).collect();
    assignment_fingerprint(&encoded)
}

/// The assignment table: id (or row number), `segment` (numbered from 0, empty for dropped customers)
/// and `segment_number` (the same segment numbered from 1, as the window shows it), then what the
/// method adds: `segment_name` when it names its segments (or business rules made some),
/// `probability` (of the assigned segment) for mixtures, `r_score`, `f_score` and `m_score` for RFM
/// rules; with business rules, `model_segment` (before them, from 0), `model_segment_number` (from 1)
/// and `changed_by` (`rule N`, `override`).
pub fn assignments_frame(result: &PipelineResult, id_column: Option<&str>) -> Result<DataFrame, DataError> {
    let segment = Column::new("segment".into(), numbered(&result.segment_per_customer, 0));
    let segment_number = Column::new("segment_number".into(), numbered(&result.segment_per_customer, 1));
    let first = match id_column {
        Some(id) => data::column(&result.customers, id)?.clone(),
        None => Column::new("row".into(), (1..=result.customers.height() as u64).collect::<Vec<_>>()),
    };
    let mut columns = vec![first, segment, segment_number];
    if !result.fit.names.is_empty() || result.rules.is_some() {
        let names: Vec<Option<String>> =
            result.segment_per_customer.iter().map(|s| s.map(|s| result.default_segment_name(s))).collect();
        columns.push(Column::new("segment_name".into(), names));
    }
    // Per fitted row, mapped back to customer rows.
    let per_customer = |value: &dyn Fn(usize) -> f64| {
        let mut out = vec![None; result.customers.height()];
        for (i, &row) in result.matrix.kept_rows.iter().enumerate() {
            out[row] = Some(value(i));
        }
        out
    };
    if let Some(mixture) = &result.fit.mixture {
        let p = per_customer(&|i| f64::from(mixture.probabilities[[i, result.fit.labels[i]]]));
        columns.push(Column::new("probability".into(), p));
    }
    if let Some(rules) = &result.rules {
        columns.push(Column::new("model_segment".into(), numbered(&rules.model_segments, 0)));
        columns.push(Column::new("model_segment_number".into(), numbered(&rules.model_segments, 1)));
        columns.push(Column::new("changed_by".into(), rules.changed_by.clone()));
    }
    if let Some(scores) = &result.fit.rfm_scores {
        for (j, name) in ["r_score", "f_score", "m_score"].into_iter().enumerate() {
            let values: Vec<Option<u32>> =
                per_customer(&|i| f64::from(scores[i][j])).into_iter().map(|v| v.map(|v| v as u32)).collect();
            columns.push(Column::new(name.into(), values));
        }
    }
    Ok(DataFrame::new_infer_height(columns)?)
}

/// Segment numbers counted from `first` (0 for the `segment` column scripts have always read, 1 for
/// the `segment_number` the window shows).
pub fn numbered(segments: &[Option<usize>], first: u32) -> Vec<Option<u32>> {
    segments.iter().map(|s| s.map(|v| v as u32 + first)).collect()
}

/// What names need of a result: the pipeline's result seen by [`crate::engine::naming`] (which sits
/// below the pipeline).
impl crate::engine::naming::Fitted for PipelineResult {
    fn method(&self) -> &'static str {
        self.fit.method
    }
    fn assignment_fingerprint(&self) -> &str {
        &self.assignment_fingerprint
    }
    fn model_segments(&self) -> &[Option<usize>] {
        PipelineResult::model_segments(self)
    }
    fn k(&self) -> usize {
        self.fit.k()
    }
    fn n_segments(&self) -> usize {
        PipelineResult::n_segments(self)
    }
    fn n_model_segments(&self) -> usize {
        PipelineResult::n_model_segments(self)
    }
    fn default_segment_name(&self, segment: usize) -> String {
        PipelineResult::default_segment_name(self, segment)
    }
    fn guessed_id_column(&self) -> Option<&str> {
        self.roles.iter().find(|g| g.role == ColumnRole::CustomerId).map(|g| g.column.as_str())
    }
    fn customer_ids(&self, column: &str) -> Option<Vec<String>> {
        crate::engine::naming::customer_ids(&self.customers, column)
    }
    fn customers_key(&self) -> String {
        crate::engine::naming::customers_key(&self.source_fingerprints, self.as_of, self.customers.height())
    }
    fn id_values(&self, column: &str) -> Option<&polars::prelude::Column> {
        self.customers.column(column).ok()
    }
}

/// Brings `notes` up to date with a re-run `result` (business rules already applied with the old
/// notes), carrying them from `previous` as the window does ([`crate::engine::naming::names_after_run`]);
/// when names moved and the project has rules (which put customers in segments by name), the rules
/// are applied again with the carried names, so they reach the segments the names now sit on.
pub fn carry_names_to_rerun(
    notes: &mut Vec<crate::engine::naming::SegmentNote>,
    previous: Option<&dyn crate::engine::naming::Fitted>,
    numbered_by: Option<&str>,
    result: &mut PipelineResult,
    rules: &crate::engine::rules::BusinessRules,
    id_column: Option<&str>,
) -> crate::engine::naming::NamesAfterRun {
    use crate::engine::naming::names_after_run;
    let after = names_after_run(notes, previous, numbered_by, result, id_column);
    if !rules.is_empty() && after.carried.as_ref().is_some_and(|c| c.renumbered()) {
        apply_business_rules(result, rules, notes, id_column);
        names_after_run(notes, None, None, result, id_column);
    }
    after
}
