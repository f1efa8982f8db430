//! The commands that segment: `rfm`, `sweep`, `fit`, `stability` and `over-time`.

use super::*;

pub(crate) fn rfm(args: RfmArgs) -> Result<(), CliError> {
    let behaviour = args.behaviour.spec();
    behaviour.check()?;
    let mut needed = vec![args.customer_id.clone(), args.date.clone()];
    needed.extend(args.amount.clone());
    needed.extend(behaviour.breakdown.iter().cloned());
    let options = args.read.options();
    options.formats.check()?;
    // A glob reads every file it matches as one log, as every other command that reads a log does.
    let source = SourceSpec {
        source: DataSource::File(project::paths::with_slashes(&args.transactions)),
        read_options: options.clone(),
        fingerprint: None,
    };
    let derived = args.read.derived(None)?;
    let columns = TransactionColumns {
        customer_id: args.customer_id.clone(),
        date: args.date.clone(),
        amount: args.amount.clone(),
        as_of: args.as_of,
        negative_amounts: if args.forbid_negative { NegativeAmounts::Forbid } else { NegativeAmounts::Allow },
        since: None,
        behaviour: Default::default(),
        value: None,
    };
    let streamable = behaviour.is_empty() && derived.is_empty();
    if args.streaming {
        if !streamable {
            return Err(CliError(
                "--streaming aggregates the log as it is: derived columns, lookups and behavioural features need it in memory; leave them out or --streaming".into(),
            ));
        }
        return rfm_streaming(&args, &columns, &options);
    }
    let read = pipeline::read_source(
        &source,
        &SourceResolver::user_chosen(&cwd()),
        derived.columns_to_read(&needed).as_deref(),
    );
    let mut table = match read {
        Err(PipelineError::Data(DataError::TooLarge { needed_mib, available_mib, .. })) if streamable => {
            eprintln!(
                "note: the log needs about {needed_mib} MiB to load and {available_mib} MiB is available; aggregating it with polars' streaming engine instead (--streaming)"
            );
            return rfm_streaming(&args, &columns, &options);
        }
        read => read?,
    };
    warn_all(&table.warnings);
    table.frame = args.read.apply_derived(table.frame)?;
    let mut result = aggregate_transactions_with(&table.frame, &columns, &options.formats)?;
    warn_all(&result.warnings);
    if !behaviour.is_empty() {
        let features = crate::engine::features::behaviour::behavioural_features(
            &table.frame,
            &columns,
            &options.formats,
            result.as_of,
            &behaviour,
        )?;
        warn_all(&features.warnings);
        result.customers = crate::engine::features::behaviour::join_features(
            &result.customers,
            &features.customers,
            &columns.customer_id,
        )?;
    }
    write_customers(&mut result, &args.out, "")
}

/// Writes the customer table of `strata rfm` and says what it holds (`how` after the as-of date).
fn write_customers(result: &mut crate::engine::features::RfmResult, out: &Path, how: &str) -> Result<(), CliError> {
    write_table(&mut result.customers, out)?;
    eprintln!(
        "{} customers from {} transactions as of {}{how}; written to {}",
        result.customers.height(),
        result.n_transactions_used,
        result.as_of,
        out.display()
    );
    Ok(())
}

/// `strata rfm --streaming`: the log streamed through polars, never loaded whole.
fn rfm_streaming(args: &RfmArgs, columns: &TransactionColumns, options: &ReadOptions) -> Result<(), CliError> {
    let path = project::paths::with_slashes(&args.transactions);
    let streamed = crate::engine::features::rfm_stream::aggregate_log_streaming(Path::new(&path), columns, options)?;
    warn_all(&streamed.reading_warnings);
    let mut result = streamed.result;
    warn_all(&result.warnings);
    write_customers(&mut result, &args.out, ", streamed")
}

/// The customer table of `args` (read, joined, aggregated as `fit` does), and the spec it came from.
pub(crate) fn customer_table(args: &DataArgs) -> Result<(PipelineSpec, pipeline::CustomerTable), CliError> {
    let model = ModelSpec {
        algorithm: Algorithm::KMeans(Default::default()),
        k_range: None,
        min_segment_share: None,
        stability: None,
        explain_depth: None,
    };
    let spec = args.spec(model, None)?;
    let table = pipeline::build_customer_table(&spec, &SourceResolver::user_chosen(&cwd()))?;
    Ok((spec, table))
}

/// The customer table, the fitted recipe and the feature matrix, as `fit` builds them.
pub(crate) fn features_with_recipe(
    args: &DataArgs,
) -> Result<
    (pipeline::CustomerTable, crate::engine::features::FittedRecipe, crate::engine::features::FeatureMatrix),
    CliError,
> {
    let (spec, table) = customer_table(args)?;
    let roles = pipeline::effective_roles(&table.frame, &spec.role_overrides);
    let role_map = roles.iter().map(|g| (g.column.clone(), g.role)).collect();
    let (recipe, matrix) = spec.recipe.fit_transform(&table.frame, &role_map).map_err(PipelineError::from)?;
    Ok((table, recipe, matrix))
}

/// Loads the customer table and builds the feature matrix for sweep and evaluate.
pub(crate) fn features_for(
    args: &DataArgs,
) -> Result<(pipeline::CustomerTable, crate::engine::features::FeatureMatrix), CliError> {
    let (table, _, matrix) = features_with_recipe(args)?;
    Ok((table, matrix))
}

pub(crate) fn sweep_command(args: SweepArgs) -> Result<(), CliError> {
    let (table, matrix) = features_for(&args.data)?;
    warn_all(&table.warnings);
    note_join(table.join.as_ref());
    warn_all(&matrix.warnings);
    let (lo, hi) = args.k;
    let result = sweep_with_silhouette_rows(
        matrix.values.view(),
        lo,
        hi,
        &args.model.algorithm(lo)?,
        args.silhouette_rows,
        &JobContext::inline(),
    )?;
    warn_all(&result.warnings);
    let small_cells = args.cells.small_cells;
    if args.json {
        let mut value = sweep_json(&result, small_cells, true)?;
        if let Some(share) = args.min_segment_share {
            let (feasible, note) = crate::engine::cluster::sweep::feasibility(&result, share);
            value["feasibility"] = json!({"min_segment_share": share, "feasible_k": feasible, "note": note});
        }
        return print_json(&with_small_cells(value, small_cells));
    }
    print_sweep_table(&result, small_cells);
    if let Some(share) = args.min_segment_share {
        let (feasible, note) = crate::engine::cluster::sweep::feasibility(&result, share);
        println!(
            "feasible (every segment at least {:.1}% of the customers): {}",
            100.0 * share,
            if feasible.is_empty() {
                "no k".to_string()
            } else {
                feasible.iter().map(|k| format!("k = {k}")).collect::<Vec<_>>().join(", ")
            }
        );
        if let Some(note) = note {
            println!("{note}");
        }
    }
    Ok(())
}

pub(crate) fn print_sweep_table(result: &crate::engine::cluster::sweep::SweepResult, small_cells: usize) {
    let fmt = |v: Option<f64>, digits: usize| v.map_or("-".to_string(), |v| format!("{v:.digits$}"));
    println!("{} customers segmented", result.n_rows);
    println!(
        "{:>3}  {:>14}  {:>10}  {:>17}  {:>14}  sizes",
        "k", "inertia", "silhouette", "calinski_harabasz", "davies_bouldin"
    );
    for r in &result.runs {
        let mark = if Some(r.k) == result.suggested_k { "*" } else { " " };
        let criteria = match (r.bic, r.aic) {
            (Some(bic), Some(aic)) => format!("  BIC {bic:.1}  AIC {aic:.1}"),
            _ => String::new(),
        };
        let sizes = crate::engine::governance::suppress::Sizes::new(&r.sizes, small_cells);
        let sizes: Vec<String> = (0..r.sizes.len()).map(|i| sizes.cell(i).text(small_cells)).collect();
        println!(
            "{:>2}{mark}  {:>14.2}  {:>10}  {:>17}  {:>14}  [{}]{criteria}",
            r.k,
            r.inertia,
            fmt(r.silhouette, 4),
            fmt(r.calinski_harabasz, 1),
            fmt(r.davies_bouldin, 4),
            sizes.join(", ")
        );
    }
    if let Some(k) = result.knee_k {
        println!("elbow knee: k = {k}");
    }
    match result.suggested_k {
        Some(k) => println!("suggested k = {k}: {}", result.reason),
        None => println!("no suggestion: {}", result.reason),
    }
    // Under the table as well as among the warnings: it qualifies every row above.
    if let Some(weak) = crate::engine::cluster::sweep::weak_structure(&result.runs) {
        println!("no real structure: {weak}");
    }
}

/// The method of `model` at `k`: refused when a method that finds its own segments is given a k
/// (or a k range to sweep), or one that needs k is not.
pub(crate) fn algorithm_at(model: &ModelArgs, k: Option<usize>, sweeping: bool) -> Result<Algorithm, CliError> {
    let name = model.algorithm.as_str();
    let finds_its_own = Algorithm::by_name(name).is_some_and(|a| a.k().is_none());
    match (k, finds_its_own) {
        (_, true) if sweeping => {
            Err(CliError(format!("{name} finds its own segments; there is no k range to --sweep")))
        }
        (Some(_), true) => Err(CliError(format!("{name} finds its own segments; leave out --k"))),
        (None, true) => model.algorithm(0),
        (Some(k), false) => model.algorithm(k),
        (None, false) => Err(CliError(format!("{name} needs --k, the number of segments"))),
    }
}

pub(crate) fn fit(args: FitArgs) -> Result<(), CliError> {
    let base_dir = args.project.as_deref().map_or_else(cwd, project_dir);
    let algorithm = algorithm_at(&args.model, args.k, args.sweep.is_some())?;
    let model = ModelSpec {
        algorithm,
        k_range: args.sweep,
        min_segment_share: args.min_segment_share,
        stability: None,
        explain_depth: None,
    };
    let mut spec = args.data.spec(model, Some(&base_dir))?;
    // Paths are stored relative to the project's folder (absolute when outside it), so they resolve
    // against that folder; the user typed them, so they may lie anywhere.
    let result = pipeline::run(&spec, &SourceResolver::user_chosen(&base_dir), &JobContext::inline())?;
    warn_all(&result.warnings);
    note_join(result.join.as_ref());
    let id_column = spec.id_column().map(str::to_string);
    if let Some(out) = &args.out {
        let mut assignments = pipeline::assignments_frame(&result, id_column.as_deref())?;
        write_table(&mut assignments, out)?;
        eprintln!("assignments of {} customers written to {}", assignments.height(), out.display());
    }
    let small_cells = args.cells.small_cells;
    if let Some(path) = &args.project {
        project::verify::store_fingerprints(&mut spec, &result);
        let mut project = Project::new(spec);
        project.results = Some(StoredResults::from_result(&result));
        project.segments = default_segment_notes(&result);
        let who = crate::engine::governance::audit::login_name();
        // The threshold the output was suppressed with is the project's; a change of it is logged.
        crate::engine::governance::review::set_small_cells(&mut project, &who, small_cells)?;
        crate::engine::governance::audit::save(&mut project, path, &who)?;
        eprintln!("project written to {}", path.display());
    }
    if args.json {
        return print_json(&fit_json(&result, small_cells)?);
    }
    print_fit_summary(&result, &[], small_cells);
    Ok(())
}

pub(crate) fn default_segment_notes(result: &PipelineResult) -> Vec<SegmentNote> {
    (0..result.n_segments())
        .map(|s| SegmentNote {
            segment: s,
            name: result.default_segment_name(s),
            notes: if s == result.fit.k() {
                "customers with missing data, kept out of the fit".to_string()
            } else {
                String::new()
            },
            ..Default::default()
        })
        .collect()
}

pub(crate) fn over_time_command(args: OverTimeArgs) -> Result<(), CliError> {
    use crate::engine::over_time::{WindowParams, segments_over_time};
    if args.k.is_none() && Algorithm::by_name(&args.model.algorithm).is_some_and(|a| a.k().is_some()) {
        return Err(CliError(format!("{} needs --k", args.model.algorithm)));
    }
    let algorithm = algorithm_at(&args.model, args.k, false)?;
    let model = ModelSpec { algorithm, k_range: None, min_segment_share: None, stability: None, explain_depth: None };
    let spec = args.data.spec(model, None)?;
    let params = WindowParams {
        months: args.window_months,
        windows: args.windows,
        cumulative: !args.window_only,
        end: args.data.as_of,
        model: if args.refit {
            crate::engine::over_time::WindowModel::Refit
        } else {
            crate::engine::over_time::WindowModel::Fixed
        },
    };
    let out = segments_over_time(
        &spec,
        &SourceResolver::user_chosen(&cwd()),
        &params,
        Default::default(),
        &JobContext::inline(),
    )?;
    warn_all(&out.warnings);
    let small_cells = args.cells.small_cells;
    if args.json {
        return print_json(&with_small_cells(over_time_json(&out, small_cells), small_cells));
    }
    print_over_time(&out, small_cells);
    Ok(())
}

/// The JSON of `strata over-time` (and of a project's windows in `strata run --json`), counts
/// suppressed at `small_cells`: each window's sizes as a line (with the customers it could not
/// segment), each transition as a table with its totals.
pub(crate) fn over_time_json(out: &crate::engine::over_time::OverTime, small_cells: usize) -> serde_json::Value {
    let table = |t: &crate::engine::over_time::Transition| -> serde_json::Value {
        let shown = t.shown(small_cells);
        json!(
            shown
                .cells
                .iter()
                .map(|row| row.iter().map(|c| c.json(small_cells)).collect::<Vec<_>>())
                .collect::<Vec<_>>()
        )
    };
    let sizes = |w: &crate::engine::over_time::Window| -> serde_json::Value {
        let shown = w.sizes_shown(small_cells);
        json!((0..w.sizes.len()).map(|i| shown.json(i)).collect::<Vec<_>>())
    };
    json!({
        "window_months": out.params.months,
        "cumulative": out.params.cumulative,
        "model": match out.params.model {
            crate::engine::over_time::WindowModel::Fixed => "fixed",
            crate::engine::over_time::WindowModel::Refit => "refit",
        },
        "segments": out.names,
        "windows": out.windows.iter().map(|w| json!({
            "start": w.start.to_string(), "end": w.end.to_string(),
            "n_customers": w.sizes_shown(small_cells).line.total.json(small_cells),
            "sizes": sizes(w), "silhouette": w.silhouette,
        })).collect::<Vec<_>>(),
        "transitions": out.transitions.iter().map(|t| json!({
            "from": out.windows[t.from].end.to_string(), "to": out.windows[t.to].end.to_string(),
            "matrix": table(t), "stayed": t.stayed_shown(small_cells),
        })).collect::<Vec<_>>(),
        "warnings": out.warnings,
    })
}

pub(crate) fn print_over_time(out: &crate::engine::over_time::OverTime, small_cells: usize) {
    let shown: Vec<crate::engine::governance::suppress::Sizes> =
        out.windows.iter().map(|w| w.sizes_shown(small_cells)).collect();
    let header: String = out.windows.iter().map(|w| format!(" {:>11}", w.end.to_string())).collect();
    println!(
        "segment sizes per window (as of each date; {} months each, {}):",
        out.params.months,
        if out.params.cumulative { "all history to date" } else { "transactions inside the window only" }
    );
    println!("{:<28}{header}", "segment");
    for (s, name) in out.names.iter().enumerate() {
        let sizes: String = shown.iter().map(|w| format!(" {:>11}", w.cell(s).text(small_cells))).collect();
        println!("{name:<28}{sizes}");
    }
    let totals: String = shown.iter().map(|w| format!(" {:>11}", w.line.total.text(small_cells))).collect();
    println!("{:<28}{totals}", "customers");
    for t in &out.transitions {
        let stayed =
            t.stayed_shown(small_cells).map_or_else(|| "a hidden share".to_string(), |s| format!("{:.1}%", 100.0 * s));
        println!(
            "\nfrom {} to {}: {stayed} of customers present in both kept their segment",
            out.windows[t.from].end, out.windows[t.to].end,
        );
        let cells = t.shown(small_cells).cells;
        let mut labels: Vec<String> = out.names.clone();
        labels.push("(not present)".into());
        let header: String = (0..labels.len())
            .map(|j| format!(" {:>8}", if j < out.names.len() { format!("-> {}", j + 1) } else { "-> none".into() }))
            .collect();
        println!("{:<28}{header}", "");
        for (i, row) in cells.iter().enumerate() {
            let cells: String = row.iter().map(|c| format!(" {:>8}", c.text(small_cells))).collect();
            println!("{:<28}{cells}", format!("{} {}", i + 1, labels[i]).chars().take(27).collect::<String>());
        }
    }
}

pub(crate) fn stability_command(args: StabilityArgs) -> Result<(), CliError> {
    use crate::engine::cluster::stability::{StabilityParams, bootstrap_stability};
    if args.k.is_none()
        && args.k_range.is_none()
        && Algorithm::by_name(&args.model.algorithm).is_some_and(|a| a.k().is_some())
    {
        return Err(CliError(format!("{} needs --k (or --k-range)", args.model.algorithm)));
    }
    let (table, recipe, matrix) = features_with_recipe(&args.data)?;
    warn_all(&table.warnings);
    warn_all(&matrix.warnings);
    let x = matrix.values.view();
    let params = StabilityParams { bootstrap: args.bootstrap, seed: args.model.seed };
    let cancel = crate::engine::jobs::CancelToken::new();
    let at = |k: Option<usize>| -> Result<_, CliError> {
        let algorithm = pipeline::for_recipe(&algorithm_at(&args.model, k, false)?, &recipe);
        let fitted = algorithm.fit_matrix(x, &cancel)?;
        let stability = bootstrap_stability(x, &fitted.labels, &algorithm, &params, &cancel)?;
        Ok((fitted, stability))
    };
    let finds_its_own = Algorithm::by_name(&args.model.algorithm).is_some_and(|a| a.k().is_none());
    let main = if args.k.is_some() || finds_its_own { Some(at(args.k)?) } else { None };
    let mut per_k = Vec::new();
    if let Some((lo, hi)) = args.k_range {
        if finds_its_own {
            return Err(CliError(format!("{} finds its own segments; there is no k range", args.model.algorithm)));
        }
        if lo < 2 || hi < lo {
            return Err(CliError("--k-range needs 2 <= A <= B".into()));
        }
        for k in lo..=hi {
            let (_, s) = at(Some(k))?;
            let jaccards: Vec<f64> = s.segments.iter().map(|g| g.mean_jaccard).collect();
            per_k.push(json!({
                "k": k,
                "ari_mean": s.ari_mean,
                "ari_sd": s.ari_sd,
                "mean_jaccard": jaccards.iter().sum::<f64>() / jaccards.len().max(1) as f64,
                "min_jaccard": jaccards.iter().copied().fold(f64::INFINITY, f64::min),
                "unstable_segments": s.segments.iter().filter(|g| g.unstable).count(),
            }));
        }
    }
    if args.json {
        let mut out = json!({
            "algorithm": args.model.algorithm,
            "bootstrap": args.bootstrap,
            "seed": args.model.seed,
            "n_customers": x.nrows(),
        });
        if let Some((fitted, s)) = &main {
            out["k"] = json!(fitted.k());
            out["segments"] = serde_json::to_value(&s.segments).map_err(|e| CliError(e.to_string()))?;
            out["ari_mean"] = json!(s.ari_mean);
            out["ari_sd"] = json!(s.ari_sd);
        }
        if !per_k.is_empty() {
            out["per_k"] = json!(per_k);
        }
        return print_json(&out);
    }
    if let Some((fitted, s)) = &main {
        println!(
            "{} at k = {}, {} re-fits on resampled customers: adjusted Rand index {:.3} (sd {:.3})",
            Algorithm::label_of(&args.model.algorithm),
            fitted.k(),
            args.bootstrap,
            s.ari_mean,
            s.ari_sd
        );
        for g in &s.segments {
            println!(
                "  segment {:<3} {:>8} customers  mean Jaccard {:.3}  dissolved in {:.0}% of re-fits{}",
                g.segment,
                g.size,
                g.mean_jaccard,
                100.0 * g.dissolved_share,
                if g.unstable { "  NOT STABLE" } else { "" }
            );
        }
    }
    for row in &per_k {
        println!(
            "k = {:<3} ARI {:.3}  mean Jaccard {:.3}  lowest {:.3}  {} not stable",
            row["k"],
            row["ari_mean"].as_f64().unwrap_or(f64::NAN),
            row["mean_jaccard"].as_f64().unwrap_or(f64::NAN),
            row["min_jaccard"].as_f64().unwrap_or(f64::NAN),
            row["unstable_segments"]
        );
    }
    Ok(())
}
