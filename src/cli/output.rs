//! What the segmenting commands print: JSON documents and the tables people read.

use super::*;

use crate::engine::governance::suppress::{self, Sizes};

pub(crate) fn indices_json(indices: &Indices, small_cells: usize) -> serde_json::Value {
    json!({
        "k": indices.k,
        "inertia": indices.inertia,
        "silhouette": indices.silhouette.as_ref().map(|s| s.mean),
        "calinski_harabasz": indices.calinski_harabasz,
        "davies_bouldin": indices.davies_bouldin,
        "sizes": Sizes::new(&indices.sizes, small_cells).json_all(),
        "silhouette_detail": indices.silhouette,
    })
}

/// `value` with the `small_cells` object beside its other keys: the threshold its counts were
/// suppressed with (a count under it is the string "<10", one that would give it away "hidden",
/// and a share resting on either null).
pub(crate) fn with_small_cells(mut value: serde_json::Value, small_cells: usize) -> serde_json::Value {
    value["small_cells"] = suppress::json_note(small_cells);
    value
}

/// A sweep as JSON, each k's segment sizes suppressed (and, with `smallest_share`, the share of its
/// smallest segment, null when that segment's size is not shown).
pub(crate) fn sweep_json(
    sweep: &crate::engine::cluster::sweep::SweepResult,
    small_cells: usize,
    smallest_share: bool,
) -> Result<serde_json::Value, CliError> {
    let mut value = serde_json::to_value(sweep).map_err(|e| CliError(e.to_string()))?;
    if let Some(runs) = value["runs"].as_array_mut() {
        for (run, stored) in runs.iter_mut().zip(&sweep.runs) {
            let sizes = Sizes::new(&stored.sizes, small_cells);
            run["sizes"] = sizes.json_all();
            if smallest_share {
                let smallest = (0..stored.sizes.len()).min_by_key(|&i| stored.sizes[i]);
                run["smallest_share"] = match smallest {
                    Some(i) if sizes.share(i).is_some() => {
                        json!(crate::engine::cluster::sweep::smallest_share(stored))
                    }
                    _ => serde_json::Value::Null,
                };
            }
        }
    }
    Ok(value)
}

/// `value` with the attribute join's match rate under stable keys (`join.matched`, `join.log_only`,
/// `join.attributes_only`, `join.match_rate`), added only when an attribute table was joined, so a
/// document without one stays as it was.
pub(crate) fn with_join(
    mut value: serde_json::Value,
    join: Option<&crate::engine::features::JoinReport>,
) -> serde_json::Value {
    if let Some(j) = join {
        value["join"] = json!({
            "customer_key": j.customer_key,
            "attributes_key": j.attributes_key,
            "matched": j.matched,
            "log_only": j.log_only,
            "attributes_only": j.attributes_only,
            "match_rate": j.match_rate(),
            "log_only_examples": j.log_only_examples,
            "attributes_only_examples": j.attributes_only_examples,
        });
    }
    value
}

/// The attribute join's match rate in words, on stderr beside the warnings.
pub(crate) fn note_join(join: Option<&crate::engine::features::JoinReport>) {
    if let Some(j) = join {
        eprintln!("note: {}", j.sentence());
    }
}

pub(crate) fn fit_json(result: &PipelineResult, small_cells: usize) -> Result<serde_json::Value, CliError> {
    let sweep = match &result.sweep {
        Some(s) => sweep_json(s, small_cells, false)?,
        None => serde_json::Value::Null,
    };
    let value = json!({
        "n_rows": result.matrix.kept_rows.len(),
        "n_customers": result.customers.height(),
        "n_fallback": result.matrix.fallback_rows.len(),
        "n_dropped": result.matrix.dropped_rows.len(),
        "features": result.matrix.names,
        "algorithm": result.fit.method,
        "segment_names": (0..result.n_segments()).map(|s| result.default_segment_name(s)).collect::<Vec<_>>(),
        "indices": indices_json(&result.indices, small_cells),
        "mixture": result.fit.mixture.as_ref().map(|m| json!({
            "mean_log_likelihood": m.mean_log_likelihood, "bic": m.bic, "aic": m.aic,
        })),
        "assigns_new_customers_by": result.fit.model.describe(),
        "centroids": result.centroid_model().centroids,
        "assignment_fingerprint": result.assignment_fingerprint,
        "sweep": sweep,
        "multicollinearity": result.multicollinearity,
        "warnings": result.warnings,
    });
    Ok(with_small_cells(with_join(value, result.join.as_ref()), small_cells))
}

/// What the business rules and overrides did, for `strata run --json` (counts of customers
/// suppressed as counts on their own).
pub(crate) fn rules_json(
    result: &PipelineResult,
    rules: &crate::engine::rules::BusinessRules,
    small_cells: usize,
) -> Option<serde_json::Value> {
    let outcome = result.rules.as_ref()?;
    let count = |n: usize| suppress::count_json(n, small_cells);
    Some(json!({
        "customers_changed": count(outcome.n_changed()),
        "rule_segments": outcome.rule_segments,
        "rules": rules.rules.iter().zip(&outcome.rules).map(|(rule, effect)| json!({
            "rule": rule.text, "why": rule.why, "resolved": effect.resolved,
            "matched": count(effect.matched), "changed": count(effect.changed), "error": effect.error,
        })).collect::<Vec<_>>(),
        "overrides": rules.overrides.iter().zip(&outcome.overrides).map(|(o, effect)| json!({
            "customer": o.customer, "segment": o.segment, "why": o.why,
            "changed": effect.changed, "error": effect.error,
        })).collect::<Vec<_>>(),
    }))
}

/// What the business rules and overrides did, as text.
pub(crate) fn print_rules(result: &PipelineResult, rules: &crate::engine::rules::BusinessRules, small_cells: usize) {
    let Some(outcome) = &result.rules else { return };
    let count = |n: usize| suppress::count_words(n, small_cells);
    println!("\nbusiness rules and overrides moved {} customers from the model's segments", count(outcome.n_changed()));
    for (i, (rule, effect)) in rules.rules.iter().zip(&outcome.rules).enumerate() {
        match &effect.error {
            Some(error) => println!("  rule {}: {}  -- not applied: {error}", i + 1, rule.text),
            None => println!(
                "  rule {}: {}  -- matched {}, moved {}",
                i + 1,
                effect.resolved,
                count(effect.matched),
                count(effect.changed)
            ),
        }
    }
    for (o, effect) in rules.overrides.iter().zip(&outcome.overrides) {
        let what = match &effect.error {
            Some(error) => format!("not applied: {error}"),
            None if effect.changed => "moved".to_string(),
            None => "already there".to_string(),
        };
        println!("  override: customer {} to '{}' ({}) -- {what}", o.customer, o.segment, o.why);
    }
}

pub(crate) fn print_fit_summary(result: &PipelineResult, names: &[SegmentNote], small_cells: usize) {
    if let Some(s) = &result.sweep {
        print_sweep_table(s, small_cells);
        println!();
    }
    let n = result.matrix.kept_rows.len();
    println!(
        "{}, k = {} on {n} customers ({} features: {})",
        crate::engine::cluster::Algorithm::label_of(result.fit.method),
        result.indices.k,
        result.matrix.names.len(),
        result.matrix.names.join(", ")
    );
    if let Some(m) = &result.fit.mixture {
        println!(
            "mean log-likelihood {:.4}, BIC {:.1}, AIC {:.1} ({} EM iterations{})",
            m.mean_log_likelihood,
            m.bic,
            m.aic,
            result.fit.n_iter,
            if result.fit.converged { "" } else { ", not converged" }
        );
    }
    // Profiles in original units, over the numeric source columns of the recipe.
    let columns = result.fitted_recipe.numeric_columns();
    let n_segments = result.n_segments();
    let profiles =
        crate::engine::profile::profile_segments(&result.customers, &result.segment_per_customer, n_segments, &columns);
    let header: String = columns.iter().map(|c| format!("  {c:>16}")).collect();
    println!("{:>3}  {:<22} {:>7} {:>6}{header}   (means)", "#", "name", "size", "share");
    let counts: Vec<usize> =
        (0..n_segments).map(|s| result.segment_per_customer.iter().filter(|&&x| x == Some(s)).count()).collect();
    let sizes = Sizes::new(&counts, small_cells);
    for segment in 0..n_segments {
        let name = names
            .iter()
            .find(|s| s.segment == segment)
            .map_or_else(|| result.default_segment_name(segment), |s| s.name.clone());
        // No mean over fewer customers than the threshold.
        let means: String = match &profiles {
            Ok(_) if sizes.is_small(segment) => columns.iter().map(|_| format!("  {:>16}", "-")).collect(),
            Ok(p) => p[segment].means.iter().map(|m| format!("  {m:>16.2}")).collect(),
            Err(_) => String::new(),
        };
        let share = sizes.share(segment).map_or_else(|| "-".to_string(), |s| format!("{:.1}%", 100.0 * s));
        println!("{segment:>3}  {name:<22} {:>7} {share:>6}{means}", sizes.words(segment));
    }
    let i = &result.indices;
    let fmt = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.4}"));
    println!(
        "inertia {:.2}, silhouette {}, Calinski-Harabasz {}, Davies-Bouldin {}",
        i.inertia,
        fmt(i.silhouette.as_ref().map(|s| s.mean)),
        fmt(i.calinski_harabasz),
        fmt(i.davies_bouldin)
    );
    println!("assignment fingerprint {}", result.assignment_fingerprint);
}
