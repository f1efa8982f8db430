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
        let mut frame = scored_frame(&scored, &table.frame, id_column.as_deref())?;
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

/// The per-customer output: id (or row number), `segment`, `segment_number`, `segment_name`,
/// `model_segment`, `model_segment_number`, `changed_by`, `reason`, `reason_column`, `margin`,
/// `beyond_fitted`, and `probability` for mixtures.
fn scored_frame(
    scored: &scoring::Scored,
    frame: &polars::prelude::DataFrame,
    id_column: Option<&str>,
) -> Result<polars::prelude::DataFrame, CliError> {
    use polars::prelude::{Column, DataFrame};
    let id = match id_column {
        Some(id) => data::column(frame, id)?.clone(),
        None => Column::new("row".into(), (1..=frame.height() as u64).collect::<Vec<_>>()),
    };
    let name = |s: &Option<usize>| s.and_then(|s| scored.names.get(s).cloned());
    let mut columns = vec![
        id,
        Column::new("segment".into(), pipeline::numbered(&scored.segments, 0)),
        Column::new("segment_number".into(), pipeline::numbered(&scored.segments, 1)),
        Column::new("segment_name".into(), scored.segments.iter().map(name).collect::<Vec<_>>()),
        Column::new("model_segment".into(), pipeline::numbered(&scored.model_segments, 0)),
        Column::new("model_segment_number".into(), pipeline::numbered(&scored.model_segments, 1)),
        Column::new("changed_by".into(), scored.changed_by.clone()),
        Column::new(
            "reason".into(),
            scored.reasons.iter().map(|r| r.as_ref().map(|(r, _)| r.code().to_string())).collect::<Vec<_>>(),
        ),
        Column::new(
            "reason_column".into(),
            scored.reasons.iter().map(|r| r.as_ref().map(|(_, c)| c.clone())).collect::<Vec<_>>(),
        ),
        Column::new("margin".into(), scored.margins.clone()),
        Column::new("beyond_fitted".into(), scored.beyond_fitted.clone()),
    ];
    if let Some(p) = &scored.probability {
        columns.push(Column::new("probability".into(), p.clone()));
    }
    Ok(DataFrame::new_infer_height(columns).map_err(DataError::from)?)
}

pub(crate) fn export_model_command(args: ExportModelArgs) -> Result<(), CliError> {
    let opened = project::open(&args.project)?;
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
    let opened = project::open(&args.project)?;
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
