//! The feature recipe: per feature missing values, clipping, log1p, scaling and weight; one-hot
//! encoding for categoricals. Fitting keeps every learned parameter so new data is transformed the
//! same way.

use std::collections::{BTreeMap, HashMap};

use ndarray::Array2;
use polars::prelude::*;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::engine::cluster::bounds::MAX_ABS_VALUE;
use crate::engine::data::quality::{numeric_values, quantile_sorted};
use crate::engine::data::roles::ColumnRole;
use crate::engine::error::{DataError, FeatureError};
use crate::engine::memo::{Memo, values_key};

mod columns;
use columns::{FeatureColumns, feature_columns};

/// Largest weight a feature may have (in magnitude): beyond it one feature is the whole distance,
/// and scaled values times the weight soon overflow.
pub const MAX_FEATURE_WEIGHT: f64 = 1e6;
/// Most features in one recipe.
pub const MAX_FEATURES: usize = 1_000;
/// Most levels a categorical feature is one-hot encoded into (one matrix column each).
pub const MAX_LEVELS: usize = 1_000;
/// Most values of a feature matrix (customers × output columns): 2 GB of f64.
pub const MAX_MATRIX_VALUES: usize = 250_000_000;

/// What to do with a missing (or NaN/infinite) value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum MissingRule {
    /// Replace with the median of the observed values (mode for categoricals).
    #[default]
    ImputeMedian,
    /// Replace with the mean of the observed values (mode for categoricals).
    ImputeMean,
    /// Replace with the most frequent value.
    ImputeMode,
    /// Replace with a constant (categoricals get their own "(missing)" level).
    ImputeConstant(f64),
    /// Drop the customer from the segmentation (recorded as a count).
    DropRows,
    /// Keep the customer out of the fit and put them in the fallback segment.
    FallbackSegment,
}

/// How a numeric feature is put on a common scale.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scaling {
    /// (x - mean) / standard deviation (population, as scikit-learn's StandardScaler).
    #[default]
    ZScore,
    /// (x - median) / interquartile range (as scikit-learn's RobustScaler).
    Robust,
    /// (x - min) / (max - min).
    MinMax,
    /// Unchanged.
    None,
}

impl std::str::FromStr for Scaling {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "zscore" | "standard" => Ok(Scaling::ZScore),
            "robust" => Ok(Scaling::Robust),
            "minmax" => Ok(Scaling::MinMax),
            "none" => Ok(Scaling::None),
            _ => Err(format!("unknown scaling '{s}'; use zscore, robust, minmax or none")),
        }
    }
}

impl std::str::FromStr for MissingRule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "median" => Ok(MissingRule::ImputeMedian),
            "mean" => Ok(MissingRule::ImputeMean),
            "mode" => Ok(MissingRule::ImputeMode),
            "drop" => Ok(MissingRule::DropRows),
            "fallback" => Ok(MissingRule::FallbackSegment),
            other => other
                .strip_prefix("constant:")
                .and_then(|v| v.parse().ok())
                .map(MissingRule::ImputeConstant)
                .ok_or_else(|| {
                    format!(
                        "unknown missing-value rule '{s}'; use median, mean, mode, constant:VALUE, drop or fallback"
                    )
                }),
        }
    }
}

/// Whether a feature is numeric or one-hot encoded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum FeatureKind {
    /// A number per customer.
    #[default]
    Numeric,
    /// Levels, one-hot encoded.
    Categorical,
}

/// How one column becomes one (or, one-hot, several) feature matrix columns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeatureSpec {
    /// Source column.
    pub column: String,
    /// Numeric or categorical.
    pub kind: FeatureKind,
    /// Missing-value rule.
    pub missing: MissingRule,
    /// Clip to these percentiles (0..100) of the observed values, before log and scaling.
    pub clip_percentiles: Option<(f64, f64)>,
    /// Apply ln(1 + x) (sign-preserving for negative values) before scaling.
    pub log1p: bool,
    /// Scaling.
    pub scaling: Scaling,
    /// Multiplies the scaled values; 1 is neutral.
    pub weight: f64,
    /// The user explicitly allowed this sensitive column as a feature (recorded in the project).
    pub allow_sensitive: bool,
}

impl Default for FeatureSpec {
    fn default() -> Self {
        Self {
            column: String::new(),
            kind: FeatureKind::Numeric,
            missing: MissingRule::default(),
            clip_percentiles: None,
            log1p: false,
            scaling: Scaling::default(),
            weight: 1.0,
            allow_sensitive: false,
        }
    }
}

impl FeatureSpec {
    /// A numeric feature with default settings.
    pub fn numeric(column: &str) -> Self {
        Self { column: column.to_string(), ..Self::default() }
    }
}

/// The whole recipe.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FeatureRecipe {
    /// Features in order.
    pub features: Vec<FeatureSpec>,
}

/// Learned parameters of one numeric feature.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FittedNumeric {
    /// Source column.
    pub column: String,
    /// Value that replaces missing ones, when the rule imputes.
    pub impute_value: Option<f64>,
    /// Clip bounds in original units.
    pub clip_bounds: Option<(f64, f64)>,
    /// Whether log1p is applied.
    pub log1p: bool,
    /// Subtracted after clipping and log.
    pub center: f64,
    /// Divided by after centring (never zero).
    pub scale: f64,
    /// Multiplied last.
    pub weight: f64,
    /// Missing-value rule.
    pub missing: MissingRule,
}

/// Learned parameters of one categorical feature.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FittedCategorical {
    /// Source column.
    pub column: String,
    /// Levels in output order (one matrix column each).
    pub levels: Vec<String>,
    /// Level that replaces missing values, when the rule imputes.
    pub impute_level: Option<String>,
    /// Multiplied into the 0/1 indicators.
    pub weight: f64,
    /// Missing-value rule.
    pub missing: MissingRule,
}

/// A fitted feature.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum FittedFeature {
    /// Numeric.
    Numeric(FittedNumeric),
    /// One-hot.
    Categorical(FittedCategorical),
}

/// All fitted parameters; `transform` applies them to any table with the same columns.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FittedRecipe {
    /// Fitted features in matrix order.
    pub features: Vec<FittedFeature>,
}

/// The matrix handed to the clustering, with the bookkeeping of which rows it holds.
#[derive(Clone, Debug)]
pub struct FeatureMatrix {
    /// One row per kept customer, one column per output feature.
    pub values: Array2<f64>,
    /// Output column names (`col` or `col=level`).
    pub names: Vec<String>,
    /// Row indices (into the source table) of the matrix rows.
    pub kept_rows: Vec<usize>,
    /// Rows routed to the fallback segment.
    pub fallback_rows: Vec<usize>,
    /// Rows dropped by a drop-rows rule.
    pub dropped_rows: Vec<usize>,
    /// Warnings, one sentence each.
    pub warnings: Vec<String>,
}

fn read_numeric(frame: &DataFrame, name: &str) -> Result<Vec<Option<f64>>, FeatureError> {
    let column = crate::engine::data::column(frame, name)?;
    if !column.dtype().is_primitive_numeric() {
        return Err(FeatureError::BadParameter {
            column: name.to_string(),
            problem: format!(
                "has type {} and is not numeric; treat it as categorical or clean the values that block numbers",
                column.dtype()
            ),
        });
    }
    // NaN and infinities are treated as missing: they are never passed to a fit.
    Ok(numeric_values(column)?.into_iter().map(|v| v.filter(|x| x.is_finite())).collect())
}

fn read_categorical(frame: &DataFrame, name: &str) -> Result<Vec<Option<String>>, FeatureError> {
    let column = crate::engine::data::column(frame, name)?;
    let text = column.cast(&DataType::String).map_err(DataError::from)?;
    let values = text.str().map_err(DataError::from)?;
    Ok(values.iter().map(|v| v.map(str::to_string)).collect())
}

fn signed_log1p(x: f64) -> f64 {
    x.signum() * x.abs().ln_1p()
}

fn mode_f64(values: &[f64]) -> f64 {
    let mut counts: BTreeMap<u64, usize> = BTreeMap::new();
    for v in values {
        *counts.entry(v.to_bits()).or_default() += 1;
    }
    // Highest count; ties go to the smallest value, so the choice is deterministic.
    let mut best: Option<(usize, f64)> = None;
    for (bits, n) in counts {
        let v = f64::from_bits(bits);
        if best.is_none_or(|(bn, bv)| n > bn || (n == bn && v < bv)) {
            best = Some((n, v));
        }
    }
    best.map_or(0.0, |(_, v)| v)
}

/// Why a feature cannot be fitted: excluded with a warning (constant, all missing), or a problem that
/// stops the run (an overflow).
enum Unusable {
    Excluded(String),
    Refused(FeatureError),
}

impl From<String> for Unusable {
    fn from(reason: String) -> Self {
        Unusable::Excluded(reason)
    }
}

impl From<&str> for Unusable {
    fn from(reason: &str) -> Self {
        Unusable::Excluded(reason.to_string())
    }
}

/// The largest magnitude among `values`, for messages.
fn largest_magnitude(values: &[f64]) -> f64 {
    values.iter().fold(0.0, |m: f64, v| m.max(v.abs()))
}

impl FeatureRecipe {
    /// Checks every setting of the recipe: at most [`MAX_FEATURES`] features, weights finite and
    /// within 0..=[`MAX_FEATURE_WEIGHT`], clip percentiles ordered within 0..=100, imputed constants
    /// finite and no larger than the matrix allows; fitting calls this first.
    pub fn check(&self) -> Result<(), FeatureError> {
        if self.features.len() > MAX_FEATURES {
            return Err(FeatureError::BadParameter {
                column: self.features[MAX_FEATURES].column.clone(),
                problem: format!("the recipe has {} features; at most {MAX_FEATURES} are allowed", self.features.len()),
            });
        }
        for spec in &self.features {
            let bad = |problem: String| Err(FeatureError::BadParameter { column: spec.column.clone(), problem });
            if !(spec.weight.is_finite() && spec.weight >= 0.0) {
                return bad(format!("weight {} must be a finite number of at least 0", spec.weight));
            }
            if spec.weight > MAX_FEATURE_WEIGHT {
                return bad(format!("weight is {:e}; at most {MAX_FEATURE_WEIGHT:e} is allowed", spec.weight));
            }
            if let Some((lo, hi)) = spec.clip_percentiles
                && !(0.0..=100.0).contains(&lo) | !(0.0..=100.0).contains(&hi) | (lo >= hi)
            {
                return bad(format!("clip percentiles {lo}..{hi} must satisfy 0 <= low < high <= 100"));
            }
            if let MissingRule::ImputeConstant(v) = spec.missing
                && v.is_finite()
                && v.abs() > MAX_ABS_VALUE
            {
                return bad(format!("the constant {v:e} used for missing values is larger than {MAX_ABS_VALUE:e}"));
            }
        }
        Ok(())
    }

    /// A recipe of numeric features with one scaling and the given columns log-transformed.
    pub fn numeric(columns: &[String], log1p: &[String], scaling: Scaling, missing: MissingRule) -> Self {
        Self {
            features: columns
                .iter()
                .map(|c| FeatureSpec {
                    column: c.clone(),
                    log1p: log1p.contains(c),
                    scaling,
                    missing,
                    ..FeatureSpec::default()
                })
                .collect(),
        }
    }

    /// Learns the transform parameters from `frame` and returns them with the transformed matrix.
    ///
    /// `roles` guards sensitive columns; constant and all-missing columns are excluded with a warning.
    pub fn fit_transform(
        &self,
        frame: &DataFrame,
        roles: &HashMap<String, ColumnRole>,
    ) -> Result<(FittedRecipe, FeatureMatrix), FeatureError> {
        if self.features.is_empty() {
            return Err(FeatureError::NoUsableFeature { detail: String::new() });
        }
        self.check()?;
        let mut warnings = Vec::new();
        let mut excluded = Vec::new();
        let mut fitted = Vec::new();
        // Every feature is fitted on its own (in parallel); what they say is then taken in the
        // recipe's order, so the first problem reported is the one a feature-by-feature fit meets.
        let fits: Vec<Result<Result<FittedFeature, Unusable>, FeatureError>> =
            self.features
                .par_iter()
                .map(|spec| {
                    Ok(match spec.kind {
                        FeatureKind::Numeric => {
                            fit_numeric(spec, &read_numeric(frame, &spec.column)?).map(FittedFeature::Numeric)
                        }
                        FeatureKind::Categorical => fit_categorical(spec, &read_categorical(frame, &spec.column)?)
                            .map(FittedFeature::Categorical),
                    })
                })
                .collect();
        for (spec, fitted_feature) in self.features.iter().zip(fits) {
            if roles.get(&spec.column) == Some(&ColumnRole::Sensitive) {
                if !spec.allow_sensitive {
                    return Err(FeatureError::SensitiveFeature { column: spec.column.clone() });
                }
                warnings.push(format!(
                    "sensitive column '{}' is used as a feature by explicit override (recorded in the project)",
                    spec.column
                ));
            }
            match fitted_feature? {
                Ok(f) => fitted.push(f),
                Err(Unusable::Excluded(reason)) => {
                    warnings.push(format!("feature '{}' excluded: {reason}", spec.column));
                    excluded.push(format!("'{}' {reason}", spec.column));
                }
                Err(Unusable::Refused(error)) => return Err(error),
            }
        }
        if fitted.is_empty() {
            return Err(FeatureError::NoUsableFeature { detail: format!("; {}", excluded.join("; ")) });
        }
        let fitted = FittedRecipe { features: fitted };
        let mut matrix = fitted.transform(frame)?;
        warnings.append(&mut matrix.warnings);
        matrix.warnings = warnings;
        Ok((fitted, matrix))
    }
}

fn fit_numeric(spec: &FeatureSpec, values: &[Option<f64>]) -> Result<FittedNumeric, Unusable> {
    // The observed values in ascending order, kept by the values they came from: a weight, a
    // scaling or another feature's edit sorts nothing again. Values equal by `total_cmp` are the
    // same bits, so an unstable sort gives the one order there is.
    static SORTED: Memo<Vec<f64>> = Memo::new(16 << 20);
    let observed: Vec<f64> = values.iter().flatten().copied().collect();
    if observed.is_empty() {
        return Err("every value is missing".into());
    }
    let key = values_key(b"recipe observed, sorted", &observed);
    let weight = observed.len();
    let observed = SORTED.get_or_compute(key, weight, || {
        let mut sorted = observed;
        sorted.sort_unstable_by(f64::total_cmp);
        sorted
    });
    if observed[0] == observed[observed.len() - 1] {
        return Err(format!("every value is {} (constant)", observed[0]).into());
    }
    let impute_value = match spec.missing {
        MissingRule::ImputeMedian => Some(quantile_sorted(&observed, 0.5)),
        MissingRule::ImputeMean => Some(observed.iter().sum::<f64>() / observed.len() as f64),
        MissingRule::ImputeMode => Some(mode_f64(&observed)),
        MissingRule::ImputeConstant(v) if v.is_finite() => Some(v),
        MissingRule::ImputeConstant(v) => {
            return Err(format!("the constant {v} used for missing values is not finite").into());
        }
        MissingRule::DropRows | MissingRule::FallbackSegment => None,
    };
    let clip_bounds = spec
        .clip_percentiles
        .map(|(lo, hi)| (quantile_sorted(&observed, lo / 100.0), quantile_sorted(&observed, hi / 100.0)));
    // Parameters are learned on what the fit sees: imputed, clipped, logged values.
    // In ascending order, without sorting again: clipping and the signed log keep the order of the
    // sorted observed values, and the imputed value's copies go where they sort. The order is
    // checked, and the values sorted outright should rounding ever break it.
    let mut prepared: Vec<f64> = observed.iter().map(|&x| prepare(x, clip_bounds, spec.log1p)).collect();
    if let Some(imputed) = impute_value {
        let imputed = prepare(imputed, clip_bounds, spec.log1p);
        let at = prepared.partition_point(|v| v.total_cmp(&imputed).is_lt());
        prepared.splice(at..at, std::iter::repeat_n(imputed, values.len() - observed.len()));
    }
    if !prepared.is_sorted_by(|a, b| a.total_cmp(b).is_le()) {
        prepared.sort_unstable_by(f64::total_cmp);
    }
    let n = prepared.len() as f64;
    let (center, spread) = match spec.scaling {
        Scaling::ZScore => {
            let mean = prepared.iter().sum::<f64>() / n;
            let var = prepared.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
            (mean, var.sqrt())
        }
        Scaling::Robust => {
            let median = quantile_sorted(&prepared, 0.5);
            (median, quantile_sorted(&prepared, 0.75) - quantile_sorted(&prepared, 0.25))
        }
        Scaling::MinMax => (prepared[0], prepared[prepared.len() - 1] - prepared[0]),
        Scaling::None => (0.0, 1.0),
    };
    // Sums and squares of huge values overflow: an infinite mean or spread would otherwise scale by 1
    // and hand the fit infinities (and the user a NaN segmentation).
    if !(center.is_finite() && spread.is_finite()) {
        let largest = largest_magnitude(&prepared);
        let what = if matches!(spec.scaling, Scaling::ZScore) { "squared" } else { "subtracted" };
        return Err(Unusable::Refused(FeatureError::Overflow {
            column: spec.column.clone(),
            problem: format!("scaling produced infinite values (values up to {largest:.1e} overflow when {what})"),
        }));
    }
    // A spread of zero (for example an IQR of 0 in a mostly-constant column) is scaled by 1, never
    // divided by zero.
    let scale = if spread > 0.0 { spread } else { 1.0 };
    Ok(FittedNumeric {
        column: spec.column.clone(),
        impute_value,
        clip_bounds,
        log1p: spec.log1p,
        center,
        scale,
        weight: spec.weight,
        missing: spec.missing,
    })
}

fn prepare(x: f64, clip_bounds: Option<(f64, f64)>, log1p: bool) -> f64 {
    let x = match clip_bounds {
        Some((lo, hi)) => x.clamp(lo, hi),
        None => x,
    };
    if log1p { signed_log1p(x) } else { x }
}

fn fit_categorical(spec: &FeatureSpec, values: &[Option<String>]) -> Result<FittedCategorical, Unusable> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for v in values.iter().flatten() {
        *counts.entry(v.as_str()).or_default() += 1;
    }
    if counts.is_empty() {
        return Err("every value is missing".into());
    }
    if counts.len() > MAX_LEVELS {
        return Err(Unusable::Refused(FeatureError::BadParameter {
            column: spec.column.clone(),
            problem: format!(
                "has {} distinct values; at most {MAX_LEVELS} levels can be one-hot encoded (is it an id or a \
                 free-text column?)",
                counts.len()
            ),
        }));
    }
    let has_missing = values.iter().any(Option::is_none);
    let mode = counts.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))).map(|(k, _)| k.to_string());
    let impute_level = match spec.missing {
        MissingRule::ImputeMedian | MissingRule::ImputeMean | MissingRule::ImputeMode => mode,
        MissingRule::ImputeConstant(_) => Some("(missing)".to_string()),
        MissingRule::DropRows | MissingRule::FallbackSegment => None,
    };
    let mut levels: Vec<String> = counts.keys().map(|s| s.to_string()).collect();
    if has_missing && impute_level.as_deref() == Some("(missing)") {
        levels.push("(missing)".to_string());
    }
    if levels.len() < 2 {
        return Err(format!("every value is '{}' (constant)", levels[0]).into());
    }
    Ok(FittedCategorical {
        column: spec.column.clone(),
        levels,
        impute_level,
        weight: spec.weight,
        missing: spec.missing,
    })
}

impl FittedRecipe {
    /// The numeric source columns, in recipe order (what segment profiles describe in original units).
    pub fn numeric_columns(&self) -> Vec<String> {
        self.features
            .iter()
            .filter_map(|f| match f {
                FittedFeature::Numeric(n) => Some(n.column.clone()),
                FittedFeature::Categorical(_) => None,
            })
            .collect()
    }

    /// Names of the matrix columns this recipe produces.
    pub fn output_names(&self) -> Vec<String> {
        self.features
            .iter()
            .flat_map(|f| match f {
                FittedFeature::Numeric(n) => vec![n.column.clone()],
                FittedFeature::Categorical(c) => c.levels.iter().map(|l| format!("{}={l}", c.column)).collect(),
            })
            .collect()
    }

    /// Checks the learned parameters (a fitted recipe may come from a file): centres, scales,
    /// weights, clip bounds and imputed values finite, scales not zero, clip bounds ordered, weights
    /// within [`MAX_FEATURE_WEIGHT`], at most [`MAX_FEATURES`] features of at most [`MAX_LEVELS`] levels.
    pub fn check(&self) -> Result<(), FeatureError> {
        if self.features.len() > MAX_FEATURES {
            return Err(FeatureError::BadParameter {
                column: String::from("(recipe)"),
                problem: format!("the recipe has {} features; at most {MAX_FEATURES} are allowed", self.features.len()),
            });
        }
        let weight_ok = |w: f64| w.is_finite() && w.abs() <= MAX_FEATURE_WEIGHT;
        for feature in &self.features {
            let (column, problem) = match feature {
                FittedFeature::Numeric(f) => {
                    let problem = if !(f.center.is_finite() && f.scale.is_finite() && f.scale != 0.0) {
                        Some(format!("its centre {} and scale {} must be finite, the scale not 0", f.center, f.scale))
                    } else if !weight_ok(f.weight) {
                        Some(format!("weight {:e} must be finite and at most {MAX_FEATURE_WEIGHT:e}", f.weight))
                    } else if f.impute_value.is_some_and(|v| !v.is_finite()) {
                        Some("the value imputed for missing values is not finite".to_string())
                    } else if let Some((lo, hi)) = f.clip_bounds
                        && !(lo.is_finite() && hi.is_finite() && lo <= hi)
                    {
                        Some(format!("clip bounds {lo}..{hi} must be finite and ordered"))
                    } else {
                        None
                    };
                    (&f.column, problem)
                }
                FittedFeature::Categorical(c) => {
                    let problem = if !weight_ok(c.weight) {
                        Some(format!("weight {:e} must be finite and at most {MAX_FEATURE_WEIGHT:e}", c.weight))
                    } else if c.levels.len() > MAX_LEVELS {
                        Some(format!("has {} levels; at most {MAX_LEVELS} are allowed", c.levels.len()))
                    } else {
                        None
                    };
                    (&c.column, problem)
                }
            };
            if let Some(problem) = problem {
                return Err(FeatureError::BadParameter { column: column.clone(), problem });
            }
        }
        Ok(())
    }

    /// Applies the fitted parameters to a table (the one fitted on, or new customers). Every output
    /// value is checked where it is made: one that log, clipping, scaling or the weight made infinite,
    /// or too large for squared distances ([`MAX_ABS_VALUE`]), is refused naming the feature.
    pub fn transform(&self, frame: &DataFrame) -> Result<FeatureMatrix, FeatureError> {
        self.transform_with(frame, false)
    }

    /// [`Self::transform`] for scoring new customers, where one customer must not stop the batch:
    /// a customer whose value would overflow once scaled goes to the fallback segment (said in a
    /// warning) instead of failing the whole table, and a batch in which no customer is left in
    /// the model's space is not an error (every one of them is in the fallback or dropped).
    pub fn transform_for_scoring(&self, frame: &DataFrame) -> Result<FeatureMatrix, FeatureError> {
        self.transform_with(frame, true)
    }

    fn transform_with(&self, frame: &DataFrame, scoring: bool) -> Result<FeatureMatrix, FeatureError> {
        self.check()?;
        let n_rows = frame.height();
        let names = self.output_names();
        // Checked before the columns are allocated: one-hot levels multiply the width.
        if n_rows.checked_mul(names.len()).is_none_or(|cells| cells > MAX_MATRIX_VALUES) {
            return Err(FeatureError::BadParameter {
                column: String::from("(recipe)"),
                problem: format!(
                    "{n_rows} customers × {} matrix columns is more than {MAX_MATRIX_VALUES} values; use fewer \
                     categorical levels or features, or a sample",
                    names.len()
                ),
            });
        }
        // Every feature's columns are made on their own (in parallel), then taken in the recipe's
        // order: the first problem, the warnings' order and the rule that takes a row out of the
        // fit (the first feature's) are what a feature-by-feature pass gives.
        let parts: Vec<Result<FeatureColumns, FeatureError>> =
            self.features.par_iter().map(|feature| feature_columns(feature, frame, n_rows, scoring)).collect();
        let mut columns: Vec<Vec<f64>> = Vec::with_capacity(names.len());
        // Per row: None = usable, Some(rule) = the first rule that takes it out of the fit.
        let mut removed: Vec<Option<MissingRule>> = vec![None; n_rows];
        let mut warnings = Vec::new();
        for part in parts {
            let mut part = part?;
            for &row in &part.missing_rows {
                removed[row].get_or_insert(part.missing);
            }
            for &row in &part.too_large_rows {
                removed[row] = Some(MissingRule::FallbackSegment);
            }
            warnings.append(&mut part.warnings);
            columns.append(&mut part.columns);
        }
        let mut kept_rows = Vec::new();
        let mut fallback_rows = Vec::new();
        let mut dropped_rows = Vec::new();
        for (row, r) in removed.iter().enumerate() {
            match r {
                None => kept_rows.push(row),
                Some(MissingRule::FallbackSegment) => fallback_rows.push(row),
                Some(_) => dropped_rows.push(row),
            }
        }
        if kept_rows.is_empty() && !scoring {
            return Err(FeatureError::NoRowsLeft);
        }
        let width = columns.len();
        let mut flat = Vec::with_capacity(kept_rows.len() * width);
        for &row in &kept_rows {
            flat.extend(columns.iter().map(|column| column[row]));
        }
        let values =
            Array2::from_shape_vec((kept_rows.len(), width), flat).map_err(|e| FeatureError::BadParameter {
                column: String::from("(recipe)"),
                problem: format!("the matrix could not be shaped: {e}"),
            })?;
        Ok(FeatureMatrix { values, names, kept_rows, fallback_rows, dropped_rows, warnings })
    }
}

#[cfg(test)]
mod tests;
