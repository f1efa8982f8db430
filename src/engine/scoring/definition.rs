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
//! 3. the model's segment as `assign` says: the nearest of `centres` by squared Euclidean distance,
//!    ties to the lowest number (version 1), or by the section a version-2 `assign` names;
//! 4. the rules in order, each moving the customers matching all its conditions, then the
//!    overrides by id; a customer without a segment at the end is in `fallback`.

use serde_json::{Value, json};

use super::{BEYOND_QUANTILE, centres};
use crate::engine::cluster::hybrid::TIERS;
use crate::engine::cluster::method::FittedModel;
use crate::engine::cluster::rfm_rules::ScoreEdges;
use crate::engine::data::quality::quantile_sorted;
use crate::engine::features::recipe::{FittedFeature, MissingRule};
use crate::engine::naming::SegmentNote;
use crate::engine::pipeline::PipelineResult;
use crate::engine::rules::{
    Action, BusinessRules, Column_, Condition, Value as RuleValue, column_values, parse_rule, sorted_finite,
};

/// The document's format name.
pub const FORMAT: &str = "strata-scoring-model";
/// Its newest version: a consumer refuses a newer one. Version 1 documents assign by the nearest
/// of `centres`; version 2 adds `assign` kinds that need more (`nearest map node` with `nodes` and
/// `node_segments`, `highest posterior` with `components`, `rfm scores` with `rfm`, `nearest
/// prototype` with `prototypes`, `value tier, then nearest centroid` with `hybrid`), and is
/// written only for them.
pub const FORMAT_VERSION: u32 = 2;

/// The scoring definition of `result` with the project's `rules` and segment `notes`; an error in
/// words when the method does not assign by nearest centre in this version.
pub fn definition(result: &PipelineResult, rules: &BusinessRules, notes: &[SegmentNote]) -> Result<Value, String> {
    // How the model assigns, with what it needs beyond the centres. A document whose assignment is
    // not the nearest of `centres` is format version 2, so a consumer of version 1 (which knows
    // only the nearest centre) refuses it instead of scoring it wrongly.
    let (assign, format_version, extra) = match &result.fit.model {
        FittedModel::Centroids(_) => ("nearest k-means centre", 1, json!({})),
        FittedModel::SegmentMeans(_) => ("nearest segment mean", 1, json!({})),
        FittedModel::Som(m) => (
            "nearest map node",
            2,
            json!({
                "nodes": m.weights.chunks(m.d.max(1)).map(<[f64]>::to_vec).collect::<Vec<_>>(),
                "node_segments": m.node_segments,
            }),
        ),
        FittedModel::Gmm(m) => {
            let d = m.means.first().map_or(0, Vec::len);
            let components: Vec<Value> = m
                .weights
                .iter()
                .zip(&m.means)
                .zip(&m.precision_factors)
                .map(|((w, mean), p)| {
                    json!({
                        "weight": w,
                        "mean": mean,
                        "precision_factor": p.chunks(d.max(1)).map(<[f64]>::to_vec).collect::<Vec<_>>(),
                    })
                })
                .collect();
            (
                "highest posterior",
                2,
                json!({
                    "components": components,
                    "log_density": "ln(weight) + sum over i of ln(precision_factor[i][i]) - 0.5 * sum over i of \
                                    (sum over j <= i of precision_factor[i][j] * (x[j] - mean[j]))^2 (the constant \
                                    -d/2 ln(2 pi) left out); the segment is the component with the highest",
                }),
            )
        }
        FittedModel::KPrototypes(m) => (
            "nearest prototype",
            2,
            json!({
                "prototypes": {
                    "numeric_outputs": m.layout.numeric,
                    "categorical_outputs": m.layout.categorical,
                    "means": m.means,
                    "modes": m.modes,
                    "gamma": m.gamma,
                    "code": "per group of categorical_outputs, the position in the group of the output with the \
                             largest value above 0 (ties to the lowest position); the group's length when none is \
                             above 0",
                    "cost": "per prototype, the sum over numeric_outputs (in order) of (x - mean)^2, plus gamma times \
                             the number of groups whose code differs from the prototype's mode; the segment is the \
                             prototype with the lowest cost, ties to the lowest number",
                }
            }),
        ),
        FittedModel::Hybrid(m) => {
            let tiers: Vec<Value> = (0..3)
                .map(|t| match m.tiers.get(t) {
                    Some(Some((centroids, first))) => json!({
                        "name": TIERS[t],
                        "first_segment": first,
                        "centroids": centroids.centroids,
                    }),
                    _ => Value::Null,
                })
                .collect();
            (
                "value tier, then nearest centroid",
                2,
                json!({
                    "hybrid": {
                        "measures": measures([&m.params.recency, &m.params.frequency, &m.params.monetary], &m.edges),
                        "score": SCORE,
                        "tier_edges": [m.params.tier_edges.0, m.params.tier_edges.1],
                        "tier": "the total of the three scores (3-15): tier 0 (low value), plus 1 when it is at least \
                                 tier_edges[0], plus 1 when it is at least tier_edges[1]",
                        "tiers": tiers,
                        "assign": "the nearest of the customer's tier's centroids by squared Euclidean distance in \
                                   the recipe's outputs (ties to the lowest), numbered from the tier's first_segment; \
                                   no segment when the tier is null (it had no fitted customers)",
                    }
                }),
            )
        }
        FittedModel::Rfm(m) => {
            let range = |(lo, hi): (u8, u8)| vec![lo, hi];
            (
                "rfm scores",
                2,
                json!({
                    "rfm": {
                        "measures": measures([&m.params.recency, &m.params.frequency, &m.params.monetary], &m.edges),
                        "score": SCORE,
                        "rules": m.params.rules.iter().map(|r| json!({
                            "name": r.name,
                            "recency": range(r.recency),
                            "frequency": range(r.frequency),
                            "monetary": range(r.monetary),
                        })).collect::<Vec<_>>(),
                        "unmatched": crate::engine::cluster::rfm_rules::UNMATCHED,
                        "segment_names": m.segment_names,
                        "assign": "the first rule whose three ranges hold the scores names the segment (else `unmatched`); \
                                   the segment is that name's position in `segment_names`, none when it is not there",
                    }
                }),
            )
        }
        other => {
            return Err(format!(
                "the model assigns by {}, which this version of the scoring definition does not express (it \
                 writes k-means, mini-batch k-means, hierarchical, k-prototypes, the Gaussian mixture, the \
                 self-organising map, RFM rules and RFM tiers with k-means); score with `strata score`",
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
    let mut document = json!({
        "format": FORMAT,
        "format_version": format_version,
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
    });
    if let (Some(document), Value::Object(extra)) = (document.as_object_mut(), extra) {
        document.extend(extra);
    }
    Ok(document)
}

/// How RFM rules and the hybrid score a measure.
const SCORE: &str = "each measure's raw value v (its negative where lower is better) scores 1 + the number of edges \
                     it is strictly above; a customer with any of the three missing or not finite has no segment";

/// The recency, frequency and monetary measures with their stored edges.
fn measures(columns: [&str; 3], edges: &[ScoreEdges; 3]) -> Vec<Value> {
    columns
        .iter()
        .zip(edges)
        .map(|(column, e)| json!({"column": column, "edges": e.edges, "lower_is_better": e.lower_is_better}))
        .collect()
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
                        // Whether the fitted customers' column is read as numbers (a value that is
                        // not finite is missing) or as text (a blank is).
                        let values = match column_values(&result.customers, column) {
                            Ok(Column_::Numeric(_)) => "numbers",
                            _ => "text",
                        };
                        Ok(json!({"kind": "missing", "column": column, "negated": negated, "values": values}))
                    }
                    Condition::Compare { column, op, value } => {
                        let value = match value {
                            RuleValue::Number(x) => json!(x),
                            RuleValue::Text(t) => json!(t),
                            RuleValue::Percentile(p) => {
                                // Read as the rules read the column, so the percentile is theirs.
                                let sorted = match column_values(&result.customers, column) {
                                    Ok(Column_::Numeric(values)) => sorted_finite(&values),
                                    Ok(Column_::Text(..)) => Vec::new(),
                                    Err(e) => return Err(format!("rule {}: {e}", i + 1)),
                                };
                                if sorted.is_empty() {
                                    return Err(format!(
                                        "rule {}: '{column}' has no values to take a percentile of",
                                        i + 1
                                    ));
                                }
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
