//! What the segmenting commands print: JSON documents and the tables people read.

use super::*;

pub(crate) fn indices_json(indices: &Indices) -> serde_json::Value {
    json!({
        "k": indices.k,
        "inertia": indices.inertia,
        "silhouette": indices.silhouette.as_ref().map(|s| s.mean),
        "calinski_harabasz": indices.calinski_harabasz,
        "davies_bouldin": indices.davies_bouldin,
        "sizes": indices.sizes,
        "silhouette_detail": indices.silhouette,
    })
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

pub(crate) fn fit_json(result: &PipelineResult) -> serde_json::Value {
    let value = json!({
        "n_rows": result.matrix.kept_rows.len(),
        "n_customers": result.customers.height(),
        "n_fallback": result.matrix.fallback_rows.len(),
        "n_dropped": result.matrix.dropped_rows.len(),
        "features": result.matrix.names,
        "algorithm": result.fit.method,
        "segment_names": (0..result.n_segments()).map(|s| result.default_segment_name(s)).collect::<Vec<_>>(),
        "indices": indices_json(&result.indices),
        "mixture": result.fit.mixture.as_ref().map(|m| json!({
            "mean_log_likelihood": m.mean_log_likelihood, "bic": m.bic, "aic": m.aic,
        })),
        "assigns_new_customers_by": result.fit.model.describe(),
        "centroids": result.centroid_model().centroids,
        "assignment_fingerprint": result.assignment_fingerprint,
        "sweep": result.sweep,
        "multicollinearity": result.multicollinearity,
        "warnings": result.warnings,
    });
    with_join(value, result.join.as_ref())
}

/// What the business rules and overrides did, for `strata run --json`.
pub(crate) fn rules_json(
    result: &PipelineResult,
    rules: &crate::engine::rules::BusinessRules,
) -> Option<serde_json::Value> {
    let outcome = result.rules.as_ref()?;
    Some(json!({
        "customers_changed": outcome.n_changed(),
        "rule_segments": outcome.rule_segments,
        "rules": rules.rules.iter().zip(&outcome.rules).map(|(rule, effect)| json!({
            "rule": rule.text, "why": rule.why, "resolved": effect.resolved,
            "matched": effect.matched, "changed": effect.changed, "error": effect.error,
        })).collect::<Vec<_>>(),
        "overrides": rules.overrides.iter().zip(&outcome.overrides).map(|(o, effect)| json!({
            "customer": o.customer, "segment": o.segment, "why": o.why,
            "changed": effect.changed, "error": effect.error,
        })).collect::<Vec<_>>(),
    }))
}

/// What the business rules and overrides did, as text.
pub(crate) fn print_rules(result: &PipelineResult, rules: &crate::engine::rules::BusinessRules) {
    let Some(outcome) = &result.rules else { return };
    println!("\nbusiness rules and overrides moved {} customers from the model's segments", outcome.n_changed());
    for (i, (rule, effect)) in rules.rules.iter().zip(&outcome.rules).enumerate() {
        match &effect.error {
            Some(error) => println!("  rule {}: {}  -- not applied: {error}", i + 1, rule.text),
            None => println!(
                "  rule {}: {}  -- matched {}, moved {}",
                i + 1,
                effect.resolved,
                effect.matched,
                effect.changed
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

pub(crate) fn print_fit_summary(result: &PipelineResult, names: &[SegmentNote]) {
    if let Some(s) = &result.sweep {
        print_sweep_table(s);
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
    for (segment, size) in
        (0..n_segments).map(|s| (s, result.segment_per_customer.iter().filter(|&&x| x == Some(s)).count()))
    {
        let name = names
            .iter()
            .find(|s| s.segment == segment)
            .map_or_else(|| result.default_segment_name(segment), |s| s.name.clone());
        let means: String = match &profiles {
            Ok(p) => p[segment].means.iter().map(|m| format!("  {m:>16.2}")).collect(),
            Err(_) => String::new(),
        };
        println!("{segment:>3}  {name:<22} {size:>7} {:>5.1}%{means}", 100.0 * size as f64 / n.max(1) as f64);
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
