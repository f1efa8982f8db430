//! The whole scoring definition as one JSON document any program can implement (`strata
//! export-model`): the recipe step by step, the centres, the segments and the fallback, the
//! beyond-the-fitted-data thresholds, the business rules with every percentile resolved to the
//! number it was over the fitted customers, and the overrides. Versioned like the project file.
//!
//! How a consumer scores one customer, in order (README "The scoring definition"):
//! 1. per numeric feature: the value, or `impute` when it is missing or not finite (no `impute`:
//!    the customer goes to the fallback, or is dropped when `missing` is `drop_rows`); clamp to
//!    `clip`; with `log1p`, `sign(x) * ln(1 + |x|)`; then `(x - center) / scale * weight`;
//! 2. per categorical feature: one output per level, `weight` for the customer's level (or
//!    `impute`'s when missing) and 0 for the others; a level not in `levels` is all zeros;
//! 3. the nearest of `centres` by squared Euclidean distance, ties to the lowest number;
//! 4. the rules in order, each moving the customers matching all its conditions, then the
//!    overrides by id; a customer without a segment at the end is in `fallback`.

use serde_json::{Value, json};

use super::{BEYOND_QUANTILE, centres};
use crate::engine::cluster::method::FittedModel;
use crate::engine::data::quality::{numeric_values, quantile_sorted};
use crate::engine::features::recipe::{FittedFeature, MissingRule};
use crate::engine::naming::SegmentNote;
use crate::engine::pipeline::PipelineResult;
use crate::engine::rules::{Action, BusinessRules, Condition, Value as RuleValue, parse_rule};

/// The document's format name.
pub const FORMAT: &str = "strata-scoring-model";
/// Its version: a consumer refuses a newer one.
pub const FORMAT_VERSION: u32 = 1;

/// The scoring definition of `result` with the project's `rules` and segment `notes`; an error in
/// words when the method does not assign by nearest centre in this version.
pub fn definition(result: &PipelineResult, rules: &BusinessRules, notes: &[SegmentNote]) -> Result<Value, String> {
    let assign = match &result.fit.model {
        FittedModel::Centroids(_) => "nearest k-means centre",
        FittedModel::SegmentMeans(_) => "nearest segment mean",
        other => {
            return Err(format!(
                "the model assigns by {}, which this version of the scoring definition does not express (it \
                 writes methods that assign by the nearest centre: k-means, mini-batch k-means, hierarchical); \
                 score with `strata score`",
                other.describe()
            ));
        }
    };
    let facts = super::FittedFacts::of(result).map_err(|e| e.to_string())?;
    let features: Vec<Value> = result
        .fitted_recipe
        .features
        .iter()
        .enumerate()
        .map(|(at, f)| match f {
            FittedFeature::Numeric(f) => {
                let (lo, hi) = facts.range(at).unzip();
                json!({
                    "column": f.column,
                    "kind": "numeric",
                    "impute": f.impute_value,
                    "missing": missing_key(f.missing),
                    "clip": f.clip_bounds.map(|(a, b)| vec![a, b]),
                    "log1p": f.log1p,
                    "center": f.center,
                    "scale": f.scale,
                    "weight": f.weight,
                    "fitted_min": lo,
                    "fitted_max": hi,
                })
            }
            FittedFeature::Categorical(c) => json!({
                "column": c.column,
                "kind": "categorical",
                "levels": c.levels,
                "impute": c.impute_level,
                "missing": missing_key(c.missing),
                "weight": c.weight,
            }),
        })
        .collect();
    let centres = centres(result);
    let k = centres.nrows();
    let name = |s: usize| {
        notes.iter().find(|n| n.segment == s).map_or_else(|| result.default_segment_name(s), |n| n.name.clone())
    };
    let fitted_fallback = result.n_model_segments() > result.fit.k();
    let segments: Vec<Value> = (0..k)
        .map(|s| {
            json!({
                "segment": s,
                "segment_number": s + 1,
                "name": name(s),
                "low_priority": notes.iter().any(|n| n.segment == s && n.low_priority),
            })
        })
        .collect();
    Ok(json!({
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "strata": env!("CARGO_PKG_VERSION"),
        "assignment_fingerprint": result.assignment_fingerprint,
        "determinism": super::DETERMINISM,
        "method": result.fit.model.describe(),
        "assign": assign,
        "features": features,
        "output_columns": result.fitted_recipe.output_names(),
        "centres": centres.rows().into_iter().map(|r| r.to_vec()).collect::<Vec<_>>(),
        "segments": segments,
        "fallback": {
            "name": if fitted_fallback { name(k) } else { "Fallback".to_string() },
            "numbered": if fitted_fallback { "after the model's segments" } else { "after every other segment, rule segments included" },
        },
        "beyond_fitted": {
            "quantile": BEYOND_QUANTILE,
            "squared_distance": facts.thresholds(),
        },
        "rules": rules_json(result, rules)?,
        "overrides": rules.overrides.iter().map(|o| json!({"customer": o.customer, "segment": o.segment})).collect::<Vec<_>>(),
    }))
}

fn missing_key(rule: MissingRule) -> &'static str {
    match rule {
        MissingRule::DropRows => "drop_rows",
        MissingRule::FallbackSegment => "fallback",
        _ => "impute",
    }
}

/// The rules with every percentile resolved over the fitted customers, exactly as scoring
/// resolves it.
fn rules_json(result: &PipelineResult, rules: &BusinessRules) -> Result<Vec<Value>, String> {
    rules
        .rules
        .iter()
        .enumerate()
        .map(|(i, rule)| {
            let parsed = parse_rule(&rule.text).map_err(|e| format!("rule {}: {e}", i + 1))?;
            let conditions = parsed
                .conditions
                .iter()
                .map(|c| match c {
                    Condition::NoSegment => Ok(json!({"kind": "no_segment"})),
                    Condition::Missing { column, negated } => {
                        Ok(json!({"kind": "missing", "column": column, "negated": negated}))
                    }
                    Condition::Compare { column, op, value } => {
                        let value = match value {
                            RuleValue::Number(x) => json!(x),
                            RuleValue::Text(t) => json!(t),
                            RuleValue::Percentile(p) => {
                                let values = crate::engine::data::column(&result.customers, column)
                                    .map_err(|e| format!("rule {}: {e}", i + 1))
                                    .and_then(|c| numeric_values(c).map_err(|e| format!("rule {}: {e}", i + 1)))?;
                                let mut sorted: Vec<f64> =
                                    values.into_iter().flatten().filter(|x| x.is_finite()).collect();
                                if sorted.is_empty() {
                                    return Err(format!(
                                        "rule {}: '{column}' has no values to take a percentile of",
                                        i + 1
                                    ));
                                }
                                sorted.sort_by(f64::total_cmp);
                                json!(quantile_sorted(&sorted, p / 100.0))
                            }
                        };
                        Ok(json!({"kind": "compare", "column": column, "op": op.symbol(), "value": value}))
                    }
                })
                .collect::<Result<Vec<_>, String>>()?;
            let action = match &parsed.action {
                Action::Segment(name) => json!({"kind": "segment", "name": name.trim()}),
                Action::NotLowPriority => json!({"kind": "not_low_priority"}),
            };
            Ok(json!({"text": rule.text, "conditions": conditions, "action": action}))
        })
        .collect()
}
