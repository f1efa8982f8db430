//! The commands that describe segments someone already has: `compare`, `evaluate`, `profile`,
//! `explain`, and `quality` for a table.

use super::*;

pub(crate) fn compare_command(args: CompareArgs) -> Result<(), CliError> {
    let usage = "compare needs --data FILE with --labels A --labels B, or --assignments A --assignments B";
    // Two labelings of the same customers, as pairs; customers without both are left out.
    let (names, pairs, n_left_out): ([String; 2], Vec<(String, String)>, usize) = match &args.data {
        Some(path) => {
            let [a, b] = <[String; 2]>::try_from(args.labels.clone()).map_err(|_| CliError(usage.to_string()))?;
            let mut table = read_table(path, &args.read.options())?;
            table.frame = args.read.apply_derived(table.frame)?;
            warn_all(&table.warnings);
            let (first, second) = (data::column_texts(&table.frame, &a)?, data::column_texts(&table.frame, &b)?);
            let pairs: Vec<(String, String)> =
                first.into_iter().zip(second).filter_map(|(x, y)| Some((x?, y?))).collect();
            let left_out = table.frame.height() - pairs.len();
            ([a, b], pairs, left_out)
        }
        None => {
            let [a, b] = <[PathBuf; 2]>::try_from(args.assignments.clone()).map_err(|_| CliError(usage.to_string()))?;
            if !args.labels.is_empty() {
                return Err(CliError(usage.to_string()));
            }
            let read = |path: &Path| -> Result<Vec<(String, Option<String>)>, CliError> {
                let mut table = read_table(path, &args.read.options())?;
                table.frame = args.read.apply_derived(table.frame)?;
                warn_all(&table.warnings);
                let columns = table.frame.get_column_names();
                let (Some(id), Some(label)) = (
                    columns.first().map(|c| c.to_string()),
                    // Named segments (RFM rules) by name, others by number.
                    columns
                        .iter()
                        .find(|c| c.as_str() == "segment_name")
                        .or_else(|| columns.iter().find(|c| c.as_str() == "segment"))
                        .or(columns.get(1))
                        .map(|c| c.to_string()),
                ) else {
                    return Err(CliError(format!(
                        "an assignment file needs an id column and a segment column: {}",
                        path.display()
                    )));
                };
                let ids = data::column_texts(&table.frame, &id)?;
                let labels = data::column_texts(&table.frame, &label)?;
                Ok(ids.into_iter().zip(labels).filter_map(|(id, l)| Some((id?, l))).collect())
            };
            let (first, second) = (read(&a)?, read(&b)?);
            let by_id: std::collections::HashMap<String, Option<String>> = second.into_iter().collect();
            let pairs: Vec<(String, String)> =
                first.iter().filter_map(|(id, x)| Some((x.clone()?, by_id.get(id)?.clone()?))).collect();
            let left_out = first.len().max(by_id.len()) - pairs.len();
            ([a.display().to_string(), b.display().to_string()], pairs, left_out)
        }
    };
    if n_left_out > 0 {
        eprintln!("warning: {n_left_out} customer(s) without both labels were left out");
    }
    let (a, b): (Vec<String>, Vec<String>) = pairs.into_iter().unzip();
    let table = crate::engine::metrics::agreement::Crosstab::of(&a, &b)?;
    let (ari, ami) = (table.adjusted_rand_index(), table.adjusted_mutual_information());
    let small_cells = args.cells.small_cells;
    let counts: Vec<Vec<usize>> = table
        .counts
        .iter()
        .map(|row| row.iter().map(|&c| usize::try_from(c).unwrap_or(usize::MAX)).collect())
        .collect();
    let shown = crate::engine::governance::suppress::table_with_totals(&counts, small_cells);
    let cells_json = |cells: &[crate::engine::governance::suppress::Cell]| -> Vec<serde_json::Value> {
        cells.iter().map(|c| c.json(small_cells)).collect()
    };
    if args.json {
        return print_json(&with_small_cells(
            json!({
                "ari": ari,
                "ami": ami,
                "crosstab": {
                    "rows": names[0],
                    "columns": names[1],
                    "row_labels": table.row_labels,
                    "column_labels": table.column_labels,
                    "counts": shown.cells.iter().map(|row| cells_json(row)).collect::<Vec<_>>(),
                    "row_totals": cells_json(&shown.row_totals),
                    "column_totals": cells_json(&shown.column_totals),
                },
                "n_customers": shown.total.json(small_cells),
                "n_left_out": crate::engine::governance::suppress::count_json(n_left_out, small_cells),
            }),
            small_cells,
        ));
    }
    println!("{} against {} on {} customers", names[0], names[1], shown.total.words(small_cells));
    println!("adjusted Rand index {ari:.4}, adjusted mutual information {ami:.4}");
    let width = table.column_labels.iter().map(|l| l.len()).max().unwrap_or(0).max(6) + 2;
    let header: String = table.column_labels.iter().map(|l| format!("{l:>width$}")).collect();
    let first = table.row_labels.iter().map(|l| l.len()).max().unwrap_or(0).max(6) + 2;
    println!("{:>first$}{header}", "");
    for (label, row) in table.row_labels.iter().zip(&shown.cells) {
        let cells: String = row.iter().map(|c| format!("{:>width$}", c.text(small_cells))).collect();
        println!("{label:>first$}{cells}");
    }
    Ok(())
}

pub(crate) fn evaluate_command(args: EvaluateArgs) -> Result<(), CliError> {
    let (table, matrix) = features_for(&args.data)?;
    warn_all(&table.warnings);
    note_join(table.join.as_ref());
    warn_all(&matrix.warnings);
    let labels_column = data::column(&table.frame, &args.labels)?;
    let as_text = labels_column.cast(&polars::prelude::DataType::String).map_err(DataError::from)?;
    let texts = as_text.str().map_err(DataError::from)?;
    let numeric = labels_column.dtype().is_primitive_numeric();
    let mut rows = Vec::new();
    let mut values: Vec<String> = Vec::new();
    let mut n_missing = 0;
    for (matrix_row, &row) in matrix.kept_rows.iter().enumerate() {
        match texts.get(row) {
            Some(v) => {
                rows.push(matrix_row);
                values.push(v.to_string());
            }
            None => n_missing += 1,
        }
    }
    if n_missing > 0 {
        eprintln!("warning: {n_missing} row(s) without a label in '{}' were left out", args.labels);
    }
    let mut levels: Vec<String> = values.clone();
    levels.sort_by(|a, b| match (numeric, a.parse::<f64>(), b.parse::<f64>()) {
        (true, Ok(x), Ok(y)) => x.total_cmp(&y),
        _ => a.cmp(b),
    });
    levels.dedup();
    let labels: Vec<usize> = values.iter().map(|v| levels.iter().position(|l| l == v).unwrap_or(0)).collect();
    let x = matrix.values.select(ndarray::Axis(0), &rows);
    let indices = evaluate(x.view(), &labels, levels.len(), args.seed)?;
    let small_cells = args.cells.small_cells;
    let mut out = indices_json(&indices, small_cells);
    out["n_rows"] = json!(rows.len());
    out["labels"] = json!(levels);
    if args.json {
        return print_json(&with_small_cells(with_join(out, table.join.as_ref()), small_cells));
    }
    let sizes = crate::engine::governance::suppress::Sizes::new(&indices.sizes, small_cells);
    let sizes: Vec<String> = (0..indices.sizes.len()).map(|i| sizes.cell(i).text(small_cells)).collect();
    println!(
        "labeling '{}' on {} customers, {} segments: {}",
        args.labels,
        rows.len(),
        levels.len(),
        levels.join(", ")
    );
    let fmt = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.4}"));
    println!(
        "inertia {:.2}, silhouette {}, Calinski-Harabasz {}, Davies-Bouldin {}, sizes [{}]",
        indices.inertia,
        fmt(indices.silhouette.as_ref().map(|s| s.mean)),
        fmt(indices.calinski_harabasz),
        fmt(indices.davies_bouldin),
        sizes.join(", ")
    );
    Ok(())
}

/// A customer table, its segments' names, and each row's segment (`None`: no label).
type Labelled = (pipeline::CustomerTable, Vec<String>, Vec<Option<usize>>);

/// The customer table of `args` (no recipe fitted), and each row's segment from the `labels`
/// column (numbered in the labels' natural order; rows without one: `None`).
pub(crate) fn labelled_customers(args: &DataArgs, labels: &str) -> Result<Labelled, CliError> {
    let (_, table) = customer_table(args)?;
    for feature in &args.features {
        data::column(&table.frame, feature)?;
    }
    let texts = data::column_texts(&table.frame, labels)?;
    let present: Vec<String> = texts.iter().flatten().cloned().collect();
    let (names, index) = crate::engine::metrics::agreement::label_index(&present);
    if names.len() > 1_000 {
        return Err(CliError(format!(
            "'{labels}' has {} distinct values: that looks like an id, not a segment",
            names.len()
        )));
    }
    let segments = texts.iter().map(|t| t.as_deref().and_then(|t| index.get(t).copied())).collect();
    Ok((table, names, segments))
}

pub(crate) fn profile_command(args: ProfileArgs) -> Result<(), CliError> {
    use crate::engine::profile::separation::{FeatureSeparation, segment_modes, separation_of};
    let (table, names, segments) = labelled_customers(&args.data, &args.labels)?;
    warn_all(&table.warnings);
    note_join(table.join.as_ref());
    let frame = &table.frame;
    let features = &args.data.features;
    let separations = separation_of(frame, features, &args.data.categorical, &segments)?;
    let numeric: Vec<String> = separations
        .iter()
        .filter(|s| matches!(s, FeatureSeparation::Numeric(_)))
        .map(|s| s.feature().to_string())
        .collect();
    let profiles = crate::engine::profile::profile_segments(frame, &segments, names.len(), &numeric)?;
    let mut modes = Vec::new();
    for s in &separations {
        if let FeatureSeparation::Categorical(c) = s {
            modes.push((
                c.feature.clone(),
                segment_modes(&data::column_texts(frame, &c.feature)?, &segments, names.len()),
            ));
        }
    }
    let n_left_out = segments.iter().filter(|s| s.is_none()).count();
    if n_left_out > 0 {
        eprintln!("warning: {n_left_out} customer(s) without a value in '{}' were left out", args.labels);
    }
    let small_cells = args.cells.small_cells;
    use crate::engine::governance::suppress::{self, Sizes};
    let sizes = Sizes::new(&profiles.iter().map(|p| p.size).collect::<Vec<_>>(), small_cells);
    if args.json {
        let segments_json: Vec<serde_json::Value> = profiles
            .iter()
            .enumerate()
            .map(|(i, p)| {
                // Nothing computed over fewer customers than the threshold is shown.
                let small = sizes.is_small(i);
                let per = |values: &[f64]| -> serde_json::Map<String, serde_json::Value> {
                    numeric.iter().zip(values).map(|(f, v)| (f.clone(), if small { json!(null) } else { json!(v) })).collect()
                };
                let mut entry = json!({
                    "segment": names[p.segment],
                    "size": sizes.json(i),
                    "share": sizes.share(i),
                    "mean": per(&p.means),
                    "median": per(&p.medians),
                });
                if !modes.is_empty() {
                    let mode: serde_json::Map<String, serde_json::Value> = modes
                        .iter()
                        .map(|(f, m)| {
                            let value = m[p.segment].as_ref().filter(|_| !small).map(|(v, share)| {
                                // The commonest category's count is a count of its own, and so are the rest.
                                let count = (share * p.size as f64).round() as usize;
                                json!({"value": v, "share": suppress::share_of(count, p.size, small_cells).map(|_| share)})
                            });
                            (f.clone(), value.unwrap_or(serde_json::Value::Null))
                        })
                        .collect();
                    entry["mode"] = serde_json::Value::Object(mode);
                }
                entry
            })
            .collect();
        return print_json(&with_small_cells(
            with_join(
                json!({
                    "labels": args.labels,
                    "n_customers": frame.height(),
                    "n_left_out": suppress::count_json(n_left_out, small_cells),
                    "segments": segments_json,
                    "features": separations,
                }),
                table.join.as_ref(),
            ),
            small_cells,
        ));
    }
    println!("{} customers in {} segments of '{}'", sizes.total_words(), names.len(), args.labels);
    for (i, p) in profiles.iter().enumerate() {
        let share = sizes.share(i).map_or_else(|| "-".to_string(), |s| format!("{:.1}%", 100.0 * s));
        println!("  {:<24} {:>9} ({share})", names[p.segment], sizes.words(i));
    }
    println!("Features by how strongly they separate the segments:");
    let mut sorted: Vec<&FeatureSeparation> = separations.iter().collect();
    sorted.sort_by(|a, b| b.effect_size().total_cmp(&a.effect_size()));
    // Below the smallest double a p-value is 0: say so rather than print 0.
    let p = |p: f64| if p == 0.0 { "p < 1e-300".to_string() } else { format!("p {p:.2e}") };
    for s in sorted {
        match s {
            FeatureSeparation::Numeric(n) => println!(
                "  {:<24} eta2 {:.3}  F {:.1} ({})  eps2 {:.3}  H {:.1} ({})",
                n.feature,
                n.eta_squared,
                n.anova_f,
                p(n.anova_p),
                n.epsilon_squared,
                n.kruskal_h,
                p(n.kruskal_p)
            ),
            FeatureSeparation::Categorical(c) => println!(
                "  {:<24} Cramer's V {:.3}  chi2 {:.1} on {} df ({})",
                c.feature,
                c.cramers_v,
                c.chi_square,
                c.degrees_of_freedom,
                p(c.chi_square_p)
            ),
        }
    }
    Ok(())
}

pub(crate) fn explain_command(args: ExplainArgs) -> Result<(), CliError> {
    use crate::engine::profile::explain::{ExplainParams, explain_segments};
    let (table, names, segments) = labelled_customers(&args.data, &args.labels)?;
    warn_all(&table.warnings);
    note_join(table.join.as_ref());
    let params = ExplainParams { max_depth: args.max_depth, min_leaf_share: args.min_leaf_share };
    let explanation =
        explain_segments(&table.frame, &args.data.features, &args.data.categorical, &segments, names.len(), &params)?;
    let left_out = table.frame.height() - explanation.n;
    if left_out > 0 {
        eprintln!("warning: {left_out} customer(s) without a segment or with a missing feature value were left out");
    }
    use crate::engine::governance::suppress;
    let small_cells = args.cells.small_cells;
    let mut sizes = vec![0usize; names.len()];
    for s in segments.iter().flatten() {
        if let Some(n) = sizes.get_mut(*s) {
            *n += 1;
        }
    }
    // A rule's customers are a count of their own; its precision and coverage rest on the customers
    // it puts in the segment, which must not be a small count either (nor their complements).
    let shown_rule = |r: &crate::engine::profile::explain::Rule| {
        let hits = (r.precision * r.customers as f64).round() as usize;
        // The segment's customers among those explained, as the coverage counts them.
        let size = if r.coverage > 0.0 {
            (hits as f64 / r.coverage).round() as usize
        } else {
            sizes.get(r.segment).copied().unwrap_or(0)
        };
        let precision = suppress::share_of(hits, r.customers, small_cells).map(|_| r.precision);
        let coverage = suppress::share_of(hits, size, small_cells).map(|_| r.coverage);
        (suppress::count_json(r.customers, small_cells), precision, coverage)
    };
    if args.json {
        let rules: Vec<serde_json::Value> = names
            .iter()
            .enumerate()
            .map(|(s, name)| {
                let mine: Vec<_> = explanation.rules.iter().filter(|r| r.segment == s).collect();
                json!({
                    "segment": name,
                    "fidelity": (!suppress::is_small(sizes[s], small_cells)).then_some(explanation.fidelity_by_segment[s]),
                    "rules": mine.iter().map(|r| {
                        let (customers, precision, coverage) = shown_rule(r);
                        json!({
                            "text": r.text,
                            "conditions": r.conditions,
                            "customers": customers,
                            "precision": precision,
                            "coverage": coverage,
                        })
                    }).collect::<Vec<_>>(),
                })
            })
            .collect();
        return print_json(&with_small_cells(
            with_join(
                json!({
                    "labels": args.labels,
                    "n_customers": explanation.n,
                    "max_depth": args.max_depth,
                    "fidelity": explanation.fidelity,
                    "rules": rules,
                }),
                table.join.as_ref(),
            ),
            small_cells,
        ));
    }
    println!(
        "A tree of depth {} puts {:.1}% of {} customers in their own segment.",
        args.max_depth,
        100.0 * explanation.fidelity,
        explanation.n
    );
    for (s, name) in names.iter().enumerate() {
        println!("{name} ({:.1}% recovered):", 100.0 * explanation.fidelity_by_segment[s]);
        let mine: Vec<_> = explanation.rules.iter().filter(|r| r.segment == s).collect();
        if mine.is_empty() {
            println!("  no rule at this depth predicts it");
        }
        for r in mine {
            let (_, precision, coverage) = shown_rule(r);
            let percent = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| format!("{:.0}%", 100.0 * v));
            println!(
                "  {}  ({} customers, {} of them in it, {} of the segment)",
                r.text,
                suppress::count_words(r.customers, small_cells),
                percent(precision),
                percent(coverage)
            );
        }
    }
    Ok(())
}

pub(crate) fn quality(args: QualityArgs) -> Result<(), CliError> {
    let mut table = read_table(args.table_path(), &args.read.options())?;
    table.frame = args.read.apply_derived(table.frame)?;
    let roles = pipeline::effective_roles(&table.frame, &args.role);
    let id =
        args.id.clone().or_else(|| roles.iter().find(|r| r.role == ColumnRole::CustomerId).map(|r| r.column.clone()));
    let report = crate::engine::data::quality::quality_report(&table.frame, id.as_deref(), args.as_of)?;
    let mut warnings = table.warnings.clone();
    warnings.extend(report.warnings.iter().cloned());
    // What the window would propose for this table: the same engine guesses.
    let suggestions = crate::engine::data::guesses::suggest(&table.frame, &roles);
    let suggested_id = suggestions.id.column.as_ref().map(|c| json!({"column": c, "reason": suggestions.id.reason}));
    if args.json {
        let mut document = json!({
            "n_rows": report.n_rows,
            "dialect": table.dialect,
            "roles": roles,
            "columns": report.columns,
            "duplicate_ids": report.duplicate_ids,
            "warnings": warnings,
            "suggested_features": suggestions.features,
            "suggested_id": suggested_id,
            // Every other column with why it is not proposed (a code, an id, personal data, ...).
            "left_out_features": suggestions.left_out,
        });
        if suggested_id.is_none() {
            document["suggested_id_reason"] = json!(suggestions.id.reason);
        }
        return print_json(&document);
    }
    println!("{} rows, {} columns: {}", report.n_rows, report.columns.len(), args.table_path().display());
    println!("{:<24} {:<12} {:<12} {:>8} {:>9}  summary", "column", "type", "role", "missing", "distinct");
    for (c, r) in report.columns.iter().zip(&roles) {
        let summary = match (&c.numeric, &c.date_range) {
            (Some(n), _) => format!(
                "min {:.4} median {:.4} mean {:.4} max {:.4} skew {:.2} outliers {}",
                n.min, n.median, n.mean, n.max, n.skew, n.n_outliers
            ),
            (None, Some((lo, hi))) => format!("{lo} to {hi}"),
            _ => String::new(),
        };
        println!(
            "{:<24} {:<12} {:<12} {:>7.1}% {:>9}  {summary}",
            c.column,
            c.dtype,
            format!("{:?}", r.role),
            100.0 * c.missing_share,
            c.n_distinct
        );
    }
    for w in &warnings {
        println!("warning: {w}");
    }
    match &suggestions.id.column {
        Some(c) => println!("suggested id: {c} ({})", suggestions.id.reason),
        None => println!("suggested id: none ({})", suggestions.id.reason),
    }
    println!("suggested features: {}", suggestions.feature_columns().join(","));
    Ok(())
}
