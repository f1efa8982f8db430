//! `strata score`: new customers scored as the project scores its own (recipe, model, business
//! rules with the fitted customers' percentiles, overrides, fallback), each with how it got its
//! segment, and a scoring report beside the output.

use super::*;
use crate::engine::scoring::{self, ScoringReport};

pub(crate) fn score_command(args: PredictArgs) -> Result<(), CliError> {
    let (opened, result, spec, table) = new_customers(&args)?;
    let project = &opened.project;
    let id_column = spec.id_column().map(str::to_string);
    let scored = scoring::score(&result, &project.rules, &project.segments, id_column.as_deref(), &table.frame)?;
    warn_all(&scored.warnings);
    let report = ScoringReport::of(&scored, &result);
    if let Some(out) = &args.out {
        let mut frame = scoring::batch::scored_frame(&scored, &table.frame, id_column.as_deref())?;
        let opted = match id_column.as_deref() {
            Some(id) => {
                crate::engine::governance::review::mark_opted_out(&mut frame, Some(id), &project.governance.opt_outs)?
            }
            None => 0,
        };
        if opted > 0 {
            eprintln!("{opted} opted-out customers marked in the opted_out column (leave them out of target lists)");
        }
        let export = cli_export_gate(&args.project, &result, "scores of new customers", out)?;
        write_table(&mut frame, out)?;
        export.finish()?;
        eprintln!("scores of {} new customers written to {}", frame.height(), out.display());
    }
    let small_cells = project.governance.small_cells;
    let counts: Vec<usize> = report.segments.iter().map(|s| s.1).collect();
    let fitted: Vec<usize> = report.segments.iter().map(|s| s.2).collect();
    let sizes = crate::engine::governance::suppress::Sizes::new(&counts, small_cells);
    let fitted_sizes = crate::engine::governance::suppress::Sizes::new(&fitted, small_cells);
    let fitted_total: usize = fitted.iter().sum();
    if args.json {
        let segments: Vec<serde_json::Value> = report
            .segments
            .iter()
            .enumerate()
            .map(|(s, (name, _, _))| {
                json!({
                    "segment": s,
                    "segment_number": s + 1,
                    "name": name,
                    "size": sizes.json(s),
                    "share": sizes.share(s),
                    "fitted_size": fitted_sizes.json(s),
                    "fitted_share": fitted_sizes.share(s),
                })
            })
            .collect();
        let reasons: serde_json::Map<String, serde_json::Value> = report
            .reasons
            .iter()
            .map(|(r, n)| (r.code().to_string(), crate::engine::governance::suppress::count_json(*n, small_cells)))
            .collect();
        return print_json(&with_small_cells(
            json!({
                "n_customers": sizes.line.total.json(small_cells),
                "n_fitted_customers": fitted_total,
                "assigned_by": result.fit.model.describe(),
                "segments": segments,
                "reasons": reasons,
                "near_ties": report.near_ties,
                "beyond_fitted": report.beyond_fitted,
                "changed_by_rules": report.changed,
                "determinism": scoring::DETERMINISM,
            }),
            small_cells,
        ));
    }
    println!("{} new customers scored by {}", sizes.total_words(), result.fit.model.describe());
    println!("{:>3}  {:<24} {:>8} {:>7}   {:>7} of the fitted", "", "segment", "scored", "share", "share");
    for (s, (name, _, _)) in report.segments.iter().enumerate() {
        let share = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| format!("{:.1}%", v * 100.0));
        println!(
            "{:>3}  {:<24} {:>8} {:>7}   {:>7}",
            s + 1,
            name,
            sizes.words(s),
            share(sizes.share(s)),
            share(fitted_sizes.share(s))
        );
    }
    for (reason, n) in &report.reasons {
        println!("{}: {}", reason.code(), crate::engine::governance::suppress::count_words(*n, small_cells));
    }
    println!(
        "{} near-ties, {} beyond the fitted data, {} moved by rules or overrides",
        report.near_ties, report.beyond_fitted, report.changed
    );
    Ok(())
}

pub(crate) fn export_model_command(args: ExportModelArgs) -> Result<(), CliError> {
    let opened = versions::open_for_scoring(&args.project)?;
    let base_dir = project_dir(&args.project);
    let (result, _) = rerun_project(&opened.project, &base_dir, args.allow_outside_paths, args.accept_changed_data)?;
    warn_all(&result.warnings);
    let document = scoring::definition::definition(&result, &opened.project.rules, &opened.project.segments)
        .map_err(|e| CliError(format!("no scoring definition: {e}")))?;
    let text = serde_json::to_string_pretty(&document).map_err(|e| CliError(e.to_string()))?;
    let export = cli_export_gate(&args.project, &result, "scoring definition", &args.out)?;
    project::save_atomically(&args.out, text.as_bytes())
        .map_err(|e| CliError(format!("could not write the scoring definition: {e}: {}", args.out.display())))?;
    export.finish()?;
    eprintln!("scoring definition written to {}", args.out.display());
    Ok(())
}

pub(crate) fn export_sql_command(args: ExportSqlArgs) -> Result<(), CliError> {
    let dialect = scoring::sql::Dialect::parse(&args.dialect).map_err(CliError)?;
    let opened = versions::open_for_scoring(&args.project)?;
    let base_dir = project_dir(&args.project);
    let (result, _) = rerun_project(&opened.project, &base_dir, args.allow_outside_paths, args.accept_changed_data)?;
    warn_all(&result.warnings);
    let id = match args.id.clone().or_else(|| opened.project.spec.id_column().map(str::to_string)) {
        Some(id) => id,
        None => return Err(CliError("the project names no customer id column; give --id COL".into())),
    };
    let document = scoring::definition::definition(&result, &opened.project.rules, &opened.project.segments)
        .map_err(|e| CliError(format!("no SQL: {e}")))?;
    let sql =
        scoring::sql::statement(&document, dialect, &args.table, &id).map_err(|e| CliError(format!("no SQL: {e}")))?;
    match &args.out {
        Some(out) => {
            let export = cli_export_gate(&args.project, &result, "scoring SQL", out)?;
            project::save_atomically(out, sql.as_bytes())
                .map_err(|e| CliError(format!("could not write the SQL: {e}: {}", out.display())))?;
            export.finish()?;
            eprintln!("scoring SQL ({}) written to {}", args.dialect, out.display());
        }
        None => print!("{sql}"),
    }
    Ok(())
}

pub(crate) fn export_pmml_command(args: ExportPmmlArgs) -> Result<(), CliError> {
    let opened = versions::open_for_scoring(&args.project)?;
    let base_dir = project_dir(&args.project);
    let (result, _) = rerun_project(&opened.project, &base_dir, args.allow_outside_paths, args.accept_changed_data)?;
    warn_all(&result.warnings);
    let project = &opened.project;
    let document = scoring::definition::definition(&result, &project.rules, &project.segments)
        .map_err(|e| CliError(format!("no PMML: {e}")))?;
    let verification = scoring::pmml::verification(&result, &project.segments)?;
    let pmml = scoring::pmml::document(&document, &verification, args.model_only)
        .map_err(|e| CliError(format!("no PMML: {e}")))?;
    if args.model_only && !(project.rules.rules.is_empty() && project.rules.overrides.is_empty()) {
        eprintln!(
            "the PMML holds the model's assignment only: the project's business rules and overrides are not in it"
        );
    }
    let export = cli_export_gate(&args.project, &result, "scoring PMML", &args.out)?;
    project::save_atomically(&args.out, pmml.as_bytes())
        .map_err(|e| CliError(format!("could not write the PMML: {e}: {}", args.out.display())))?;
    export.finish()?;
    eprintln!(
        "PMML 4.4 clustering model written to {} ({} fitted customers to verify against)",
        args.out.display(),
        verification.expected.len()
    );
    Ok(())
}

pub(crate) fn serve_command(args: ServeArgs) -> Result<(), CliError> {
    if !(args.max_body_mb.is_finite() && args.max_body_mb > 0.0 && args.max_body_mb <= 1024.0) {
        return Err(CliError(format!("--max-body-mb is {}; give a size from 0.001 to 1024", args.max_body_mb)));
    }
    if args.max_batch == 0 {
        return Err(CliError("--max-batch is 0; give at least 1".into()));
    }
    let opened = versions::open_for_scoring(&args.project)?;
    let base_dir = project_dir(&args.project);
    let (result, _) = rerun_project(&opened.project, &base_dir, args.allow_outside_paths, args.accept_changed_data)?;
    warn_all(&result.warnings);
    let project = &opened.project;
    let name =
        args.project.file_name().map_or_else(|| args.project.display().to_string(), |n| n.to_string_lossy().into());
    let limits = crate::serve::Limits {
        max_body_bytes: (args.max_body_mb * 1024.0 * 1024.0).round() as usize,
        max_batch: args.max_batch,
    };
    // Serving is an export: refused where the project blocks unsigned exports, and logged.
    let url = format!("http://{}:{}", args.host, args.port);
    let export = cli_export_gate(&args.project, &result, "scoring service", Path::new(&url))?;
    let model = crate::serve::ServedModel::new(
        result,
        project.rules.clone(),
        project.segments.clone(),
        project.governance.opt_outs.clone(),
        project.spec.id_column().map(str::to_string),
        &name,
        limits,
    )
    .map_err(|e| CliError(format!("cannot serve the project: {e}")))?;
    export.finish_logged()?;
    crate::serve::serve(model, &args.host, args.port, |address| {
        use std::io::Write;
        println!("listening on http://{address}");
        eprintln!("serving {name}: POST /score, GET /model, GET /health; stop with Ctrl-C or SIGTERM");
        let _ = std::io::stdout().flush();
    })
    .map_err(CliError)?;
    eprintln!("stopped");
    Ok(())
}
