//! One fitted feature's matrix columns over a table, made on their own so a recipe's features can
//! be transformed side by side (see `FittedRecipe::transform_with`).

use super::*;

/// One fitted feature's matrix columns, the rows it takes out of the fit and what it says.
pub(super) struct FeatureColumns {
    /// One column for a numeric feature, one per level for a categorical one.
    pub(super) columns: Vec<Vec<f64>>,
    /// The rule that takes the rows in `missing_rows` out of the fit.
    pub(super) missing: MissingRule,
    /// Rows with no value (nor an imputed one).
    pub(super) missing_rows: Vec<usize>,
    /// Rows whose value is too large to scale, when scoring: they go to the fallback segment.
    pub(super) too_large_rows: Vec<usize>,
    /// What the feature's columns say, in the order a feature-by-feature pass says it.
    pub(super) warnings: Vec<String>,
}

/// The matrix columns of one fitted feature over `frame`'s rows (see `transform_with`).
pub(super) fn feature_columns(
    feature: &FittedFeature,
    frame: &DataFrame,
    n_rows: usize,
    scoring: bool,
) -> Result<FeatureColumns, FeatureError> {
    let mut warnings = Vec::new();
    let mut missing_rows = Vec::new();
    let mut too_large_rows = Vec::new();
    match feature {
        FittedFeature::Numeric(f) => {
            let values = read_numeric(frame, &f.column)?;
            let n_missing = values.iter().filter(|v| v.is_none()).count();
            if n_missing > 0 {
                warnings.push(missing_warning(&f.column, n_missing, f.missing));
            }
            if f.log1p {
                let lowest = f.clip_bounds.map_or(f64::NEG_INFINITY, |(lo, _)| lo);
                let n_negative = values.iter().flatten().filter(|x| x.max(lowest) < 0.0).count();
                if n_negative > 0 {
                    warnings.push(format!(
                        "feature '{}': {n_negative} negative value(s) log-transformed as -log1p(|x|), keeping their sign",
                        f.column
                    ));
                }
            }
            let mut out = Vec::with_capacity(n_rows);
            for (row, v) in values.iter().enumerate() {
                let x = match v.or(f.impute_value) {
                    Some(x) => x,
                    None => {
                        missing_rows.push(row);
                        0.0
                    }
                };
                out.push((prepare(x, f.clip_bounds, f.log1p) - f.center) / f.scale * f.weight);
            }
            let too_large = |v: &f64| !(v.is_finite() && v.abs() <= MAX_ABS_VALUE);
            if scoring {
                for (row, v) in out.iter_mut().enumerate() {
                    if too_large(v) {
                        *v = 0.0;
                        too_large_rows.push(row);
                    }
                }
                if !too_large_rows.is_empty() {
                    warnings.push(format!(
                        "feature '{}': {} value(s) too large to scale (up to {:.1e}); those customers go to the fallback segment",
                        f.column,
                        too_large_rows.len(),
                        values.iter().flatten().fold(0.0, |m: f64, v| m.max(v.abs()))
                    ));
                }
            } else if let Some(row) = out.iter().position(too_large) {
                return Err(overflow(f, values[row].or(f.impute_value).unwrap_or(0.0), &values));
            }
            Ok(FeatureColumns { columns: vec![out], missing: f.missing, missing_rows, too_large_rows, warnings })
        }
        FittedFeature::Categorical(c) => {
            let values = read_categorical(frame, &c.column)?;
            let n_missing = values.iter().filter(|v| v.is_none()).count();
            if n_missing > 0 {
                warnings.push(missing_warning(&c.column, n_missing, c.missing));
            }
            let mut indicator = vec![vec![0.0; n_rows]; c.levels.len()];
            let mut n_unseen = 0;
            for (row, v) in values.iter().enumerate() {
                match v.as_ref().or(c.impute_level.as_ref()) {
                    Some(level) => match c.levels.iter().position(|l| l == level) {
                        Some(i) => indicator[i][row] = c.weight,
                        None => n_unseen += 1, // a level not seen when fitting: all zeros
                    },
                    None => missing_rows.push(row),
                }
            }
            if n_unseen > 0 {
                warnings.push(format!(
                    "feature '{}': {n_unseen} value(s) are levels not seen when the recipe was fitted; encoded as no level",
                    c.column
                ));
            }
            Ok(FeatureColumns { columns: indicator, missing: c.missing, missing_rows, too_large_rows, warnings })
        }
    }
}

/// The error for a numeric feature whose transform of `x` overflowed: which step did it, and from
/// which values.
fn overflow(f: &FittedNumeric, x: f64, values: &[Option<f64>]) -> FeatureError {
    let largest = values.iter().flatten().fold(0.0, |m: f64, v| m.max(v.abs()));
    let prepared = prepare(x, f.clip_bounds, f.log1p);
    let scaled = (prepared - f.center) / f.scale;
    let weighted = scaled * f.weight;
    let (step, value) = if !scaled.is_finite() {
        ("scaling", scaled)
    } else if !weighted.is_finite() {
        ("the weight", weighted)
    } else if scaled.abs() > MAX_ABS_VALUE {
        ("scaling", scaled)
    } else {
        ("the weight", weighted)
    };
    let problem = if value.is_finite() {
        format!(
            "{step} produced values up to {:.1e}, too large to segment with (their squares overflow above {MAX_ABS_VALUE:e}; the data has values up to {largest:.1e})",
            value.abs()
        )
    } else {
        format!("{step} produced infinite values (values up to {largest:.1e} overflow)")
    };
    FeatureError::Overflow { column: f.column.clone(), problem }
}

fn missing_warning(column: &str, n: usize, rule: MissingRule) -> String {
    let action = match rule {
        MissingRule::ImputeMedian => "replaced by the median".to_string(),
        MissingRule::ImputeMean => "replaced by the mean".to_string(),
        MissingRule::ImputeMode => "replaced by the most frequent value".to_string(),
        MissingRule::ImputeConstant(v) => format!("replaced by {v}"),
        MissingRule::DropRows => "dropped from the segmentation".to_string(),
        MissingRule::FallbackSegment => "put in the fallback segment".to_string(),
    };
    format!("feature '{column}': {n} missing, NaN or infinite value(s) {action}")
}
