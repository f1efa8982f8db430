//! `strata bias`: the bias audit of a project's segments against protected groups, as the window's
//! Review screen shows it.

use super::*;
use crate::engine::governance::bias::{self, BiasAudit, ColumnAudit, SegmentAudit};
use crate::engine::governance::suppress::Cell;

/// The JSON `strata bias --json` prints, documented in its help.
pub const BIAS_JSON_HELP: &str = "\
JSON (--json): snake_case keys, stable. A count is a number, or the string \"<10\" (under the small-cell
threshold) or \"hidden\" (hidden so that a small one cannot be recovered); a rate, ratio or test made from a
hidden count is null.
  small_cells: {threshold}
  n_customers, n_without_segment, flagged (flags over every column)
  rule: {ratio_under, significance, fisher_expected_below, max_groups}
  segments: [{segment_number, name, customers}]
  columns: [{column, kind (text | numeric_codes | intersection), notes, flagged,
    groups: [{group, customers, counts (per segment)}],
    per_segment: [{segment_number, name, reference_group,
      test: {method (chi_square | fisher_exact), p_value, chi_square, df, chi_square_p, fisher_p,
             cramers_v, n, significant} or null, test_not_made, left_out_of_test,
      groups: [{group, count, rate, share_of_segment, ratio, ratio_under_four_fifths, significant,
                flagged}]}],
    overall: {chi_square, df, p_value, cramers_v, n, significant} or null, overall_not_made,
    overall_left_out,
    proxies: [{feature, measure (correlation_ratio | cramers_v), value, why}]}]
  skipped: [{column, why}]";

/// Runs the audit and prints it (text or JSON).
pub(crate) fn bias_command(args: BiasArgs) -> Result<(), CliError> {
    let opened = project::open(&args.project)?;
    let project = opened.project;
    let base_dir = project_dir(&args.project);
    let (result, _) = rerun_project(&project, &base_dir, args.allow_outside_paths, args.accept_changed_data)?;
    warn_all(&result.warnings);
    let sensitive: Vec<String> = if args.sensitive.is_empty() {
        bias::default_sensitive(&project.governance.sensitive, &result.roles)
    } else {
        args.sensitive.iter().map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect()
    };
    if sensitive.is_empty() {
        return Err(CliError(
            "no sensitive column to audit: name them with --sensitive COL,COL, list them in the project's governance \
             settings (sensitive: [\"COL\"]), or mark their role as sensitive on the window's Data screen"
                .to_string(),
        ));
    }
    let audit = bias::audit_result(
        &result,
        &project.segments,
        &project.spec.recipe.features,
        project.governance.small_cells,
        &sensitive,
    )
    .map_err(|e| CliError(e.to_string()))?;
    if args.json {
        return print_json(&audit_json(&audit));
    }
    print_audit(&audit);
    Ok(())
}

/// A count as JSON: the number, "<10" or "hidden".
fn cell_json(cell: Cell, threshold: usize) -> serde_json::Value {
    match cell {
        Cell::Count(n) => json!(n),
        other => json!(other.text(threshold)),
    }
}

/// The audit as the JSON documented in [`BIAS_JSON_HELP`].
fn audit_json(audit: &BiasAudit) -> serde_json::Value {
    let t = audit.threshold;
    json!({
        "small_cells": { "threshold": t },
        "n_customers": audit.n_customers,
        "n_without_segment": audit.n_without_segment,
        "flagged": audit.n_flagged(),
        "rule": {
            "ratio_under": bias::FOUR_FIFTHS,
            "significance": bias::SIGNIFICANCE,
            "fisher_expected_below": bias::FISHER_EXPECTED_BELOW,
            "max_groups": bias::MAX_GROUPS,
        },
        "segments": audit.segment_names.iter().zip(&audit.segment_sizes).enumerate().map(|(s, (name, size))| json!({
            "segment_number": s + 1,
            "name": name,
            "customers": cell_json(*size, t),
        })).collect::<Vec<_>>(),
        "columns": audit.columns.iter().map(|c| column_json(c, &audit.segment_names, t)).collect::<Vec<_>>(),
        "skipped": audit.skipped.iter().map(|s| json!({ "column": s.column, "why": s.why })).collect::<Vec<_>>(),
    })
}

fn column_json(c: &ColumnAudit, names: &[String], t: usize) -> serde_json::Value {
    let groups: Vec<serde_json::Value> = c
        .groups
        .iter()
        .enumerate()
        .map(|(g, label)| {
            json!({
                "group": label,
                "customers": cell_json(c.group_sizes[g], t),
                "counts": c.counts[g].iter().map(|&cell| cell_json(cell, t)).collect::<Vec<_>>(),
            })
        })
        .collect();
    let (overall, overall_not_made) = match &c.overall {
        Ok(x) => (
            json!({
                "chi_square": x.statistic,
                "df": x.df,
                "p_value": x.p_value,
                "cramers_v": x.cramers_v,
                "n": x.n,
                "significant": x.p_value < bias::SIGNIFICANCE,
            }),
            None,
        ),
        Err(why) => (serde_json::Value::Null, Some(why.clone())),
    };
    json!({
        "column": c.column,
        "kind": c.kind.key(),
        "notes": c.notes,
        "flagged": c.n_flagged(),
        "groups": groups,
        "per_segment": c.segments.iter().map(|s| segment_json(c, s, names, t)).collect::<Vec<_>>(),
        "overall": overall,
        "overall_not_made": overall_not_made,
        "overall_left_out": c.overall_left_out,
        "proxies": c.proxies.iter().map(|p| json!({
            "feature": p.feature,
            "measure": p.measure.key(),
            "value": p.value.as_ref().ok(),
            "why": p.value.as_ref().err(),
        })).collect::<Vec<_>>(),
    })
}

fn segment_json(c: &ColumnAudit, s: &SegmentAudit, names: &[String], t: usize) -> serde_json::Value {
    let (test, test_not_made) = match &s.test {
        Ok(x) => (
            json!({
                "method": x.method(),
                "p_value": x.p_value(),
                "chi_square": x.chi_square.statistic,
                "df": x.chi_square.df,
                "chi_square_p": x.chi_square.p_value,
                "fisher_p": x.fisher_p,
                "cramers_v": x.chi_square.cramers_v,
                "n": x.chi_square.n,
                "significant": x.significant(),
            }),
            None,
        ),
        Err(why) => (serde_json::Value::Null, Some(why.clone())),
    };
    json!({
        "segment_number": s.segment + 1,
        "name": names.get(s.segment),
        "reference_group": s.reference.map(|g| &c.groups[g]),
        "test": test,
        "test_not_made": test_not_made,
        "left_out_of_test": s.left_out.iter().map(|&g| &c.groups[g]).collect::<Vec<_>>(),
        "groups": c.groups.iter().enumerate().map(|(g, label)| json!({
            "group": label,
            "count": cell_json(c.counts[g][s.segment], t),
            "rate": s.rates[g],
            "share_of_segment": s.shares[g],
            "ratio": s.ratios[g],
            "ratio_under_four_fifths": s.verdicts[g].ratio_under,
            "significant": s.verdicts[g].significant,
            "flagged": s.verdicts[g].flagged,
        })).collect::<Vec<_>>(),
    })
}

/// A share as a percentage, "-" when not shown.
fn percent(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_string(), |x| format!("{:.1}%", 100.0 * x))
}

fn yes_no(x: Option<bool>) -> &'static str {
    match x {
        Some(true) => "yes",
        Some(false) => "no",
        None => "-",
    }
}

fn cell_text(cell: Cell, t: usize) -> String {
    match cell {
        Cell::Count(n) => crate::engine::words::thousands(n),
        other => other.text(t),
    }
}

/// The audit as readable tables, one block per column and segment.
fn print_audit(audit: &BiasAudit) {
    let t = audit.threshold;
    println!(
        "Bias audit: {} in {} (counts under {t} show as \"<{t}\"; what rests on them is not shown)",
        crate::engine::words::count(audit.n_customers, "customer"),
        crate::engine::words::count(audit.segment_names.len(), "segment"),
    );
    if audit.n_without_segment > 0 {
        println!(
            "{} without a segment are left out.",
            crate::engine::words::count(audit.n_without_segment, "customer")
        );
    }
    println!(
        "FLAG: a group's rate in a segment is under {} of the highest group's (four-fifths rule) and the test is \
         significant (p < {}).",
        bias::FOUR_FIFTHS,
        bias::SIGNIFICANCE
    );
    for c in &audit.columns {
        println!();
        println!(
            "== {} ({}, {} flagged) ==",
            c.column,
            crate::engine::words::count(c.groups.len(), "group"),
            c.n_flagged()
        );
        for note in &c.notes {
            println!("note: {note}");
        }
        let width = c.groups.iter().map(|g| g.chars().count()).max().unwrap_or(5).clamp(5, 40);
        for s in &c.segments {
            let name = audit.segment_names.get(s.segment).map_or("", String::as_str);
            let size = audit.segment_sizes.get(s.segment).map_or_else(String::new, |&cell| cell_text(cell, t));
            let test = match &s.test {
                Ok(x) => format!(
                    "chi-square {:.2}, df {}, {}p {}, Cramer's V {:.3}{}",
                    x.chi_square.statistic,
                    x.chi_square.df,
                    if x.fisher_p.is_some() { "Fisher's exact " } else { "" },
                    bias::p_text(x.p_value()),
                    x.chi_square.cramers_v,
                    if x.significant() { ": significant" } else { ": not significant" }
                ),
                Err(why) => format!("no test: {why}"),
            };
            println!();
            println!("Segment {} \"{name}\" ({size} customers) against the rest: {test}", s.segment + 1);
            println!(
                "  {:<width$} {:>10} {:>10} {:>7} {:>7} {:>6} {:>9} {:>11}  flag",
                "group", "customers", "in segment", "rate", "share", "ratio", "under 0.8", "significant"
            );
            for (g, label) in c.groups.iter().enumerate() {
                let v = s.verdicts[g];
                println!(
                    "  {:<width$} {:>10} {:>10} {:>7} {:>7} {:>6} {:>9} {:>11}  {}",
                    label,
                    cell_text(c.group_sizes[g], t),
                    cell_text(c.counts[g][s.segment], t),
                    percent(s.rates[g]),
                    percent(s.shares[g]),
                    s.ratios[g].map_or_else(|| "-".to_string(), |r| format!("{r:.3}")),
                    yes_no(v.ratio_under),
                    yes_no(v.significant),
                    if v.flagged { "FLAG" } else { "" }
                );
            }
            if !s.left_out.is_empty() {
                let left: Vec<&str> = s.left_out.iter().map(|&g| c.groups[g].as_str()).collect();
                println!("  left out of the test (a count is hidden): {}", left.join(", "));
            }
        }
        println!();
        match &c.overall {
            Ok(x) => println!(
                "All segments: chi-square {:.2}, df {}, p {}, Cramer's V {:.3}",
                x.statistic,
                x.df,
                bias::p_text(x.p_value),
                x.cramers_v
            ),
            Err(why) => println!("All segments: no test: {why}"),
        }
        if !c.overall_left_out.is_empty() {
            println!("  left out of it (a count is hidden): {}", c.overall_left_out.join(", "));
        }
        if !c.proxies.is_empty() {
            println!("Proxy check (how strongly each feature goes with {}; 0.3 or more is worth a look):", c.column);
            for p in &c.proxies {
                let measure = match p.measure {
                    bias::ProxyMeasure::CorrelationRatio => "eta",
                    bias::ProxyMeasure::CramersV => "Cramer's V",
                };
                match &p.value {
                    Ok(v) => println!(
                        "  {:<24} {measure} {v:.3}{}",
                        p.feature,
                        if *v >= bias::PROXY_NOTABLE { "  worth a look" } else { "" }
                    ),
                    Err(why) => println!("  {:<24} {measure}: {why}", p.feature),
                }
            }
        }
    }
    for s in &audit.skipped {
        println!();
        println!("== {} == not audited: {}", s.column, s.why);
    }
    println!();
    println!("{} flagged in all.", crate::engine::words::count(audit.n_flagged(), "group-segment pair"));
}
