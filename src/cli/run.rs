//! The commands on a project file: `run`, `predict` and `demo`.

use super::*;

/// Re-runs a project (used by `strata run`, the demo and tests); returns the result and what it
/// did not reproduce of the stored results.
pub fn rerun_project(
    project: &Project,
    base_dir: &Path,
    allow_outside: bool,
    accept_changed_data: bool,
) -> Result<(PipelineResult, Option<Vec<String>>), CliError> {
    let resolver = SourceResolver { base_dir: base_dir.to_path_buf(), allow_outside };
    Ok(project::verify::rerun(project, &resolver, accept_changed_data)?)
}

/// A segment's name in a project: the one its notes give, else the run's default.
pub(crate) fn segment_name(project: &Project, result: &PipelineResult, segment: usize) -> String {
    project
        .segments
        .iter()
        .find(|n| n.segment == segment)
        .map_or_else(|| result.default_segment_name(segment), |n| n.name.clone())
}

pub(crate) fn run_project(args: RunArgs) -> Result<(), CliError> {
    let opened = project::open(&args.project)?;
    if let Some(banner) = &opened.banner {
        eprintln!("note: {banner}");
    }
    let base_dir = project_dir(&args.project);
    let (result, differences) =
        rerun_project(&opened.project, &base_dir, args.allow_outside_paths, args.accept_changed_data)?;
    warn_all(&result.warnings);
    // The windows of the Over time screen, when the project has used it.
    let over_time = match &opened.project.over_time {
        Some(params) => {
            let resolver = SourceResolver { base_dir: base_dir.clone(), allow_outside: args.allow_outside_paths };
            match crate::engine::over_time::segments_over_time(
                &opened.project.spec,
                &resolver,
                params,
                &JobContext::inline(),
            ) {
                Ok(windows) => {
                    warn_all(&windows.warnings);
                    Some(windows)
                }
                // The segmentation itself stands; only the windows could not be made.
                Err(e) => {
                    eprintln!("warning: segments over time: {e}");
                    None
                }
            }
        }
        None => None,
    };
    if let Some(path) = &args.out {
        let id_column = pipeline::override_id_column(&opened.project.spec, &result).map(str::to_string);
        let mut assignments = pipeline::assignments_frame(&result, id_column.as_deref())?;
        let names: Vec<Option<String>> =
            result.segment_per_customer.iter().map(|s| s.map(|s| segment_name(&opened.project, &result, s))).collect();
        assignments.with_column(polars::prelude::Column::new("segment_name".into(), names)).map_err(DataError::from)?;
        write_table(&mut assignments, path)?;
        eprintln!("assignments of {} customers written to {}", assignments.height(), path.display());
    }
    if args.json {
        let mut out = fit_json(&result);
        out["verified"] = json!(differences.as_ref().map(Vec::is_empty));
        if let Some(d) = differences.as_ref().filter(|d| !d.is_empty()) {
            out["differences"] = json!(d);
        }
        if let Some(rules) = rules_json(&result, &opened.project.rules) {
            out["business_rules"] = rules;
        }
        out["audit"] = json!(opened.project.audit);
        if let Some(windows) = &over_time {
            out["over_time"] = over_time_json(windows);
            if !opened.project.rules.is_empty() {
                out["over_time"]["business_rules_applied"] = json!(false);
                out["over_time"]["note"] = json!(crate::engine::over_time::RULES_NOT_APPLIED);
            }
        }
        print_json(&out)?;
    } else {
        print_fit_summary(&result, &opened.project.segments);
        print_rules(&result, &opened.project.rules);
        if let Some(windows) = &over_time {
            println!();
            print_over_time(windows);
        }
    }
    if args.verify {
        match &differences {
            Some(d) if d.is_empty() => {
                eprintln!(
                    "verified: the re-run reproduces every stored result (assignment, sizes, centroids, indices, sweep)"
                )
            }
            Some(d) => {
                let shown: Vec<&str> = d.iter().take(10).map(String::as_str).collect();
                let more = if d.len() > 10 { format!("; and {} more", d.len() - 10) } else { String::new() };
                return Err(CliError(format!(
                    "verification failed: {} stored {} not reproduced: {}{more}",
                    d.len(),
                    if d.len() == 1 { "result is" } else { "results are" },
                    shown.join("; ")
                )));
            }
            None => {
                return Err(CliError(
                    "nothing to verify: the project has no stored results; run `strata fit --project` first".into(),
                ));
            }
        }
    }
    Ok(())
}

pub(crate) fn predict_command(args: PredictArgs) -> Result<(), CliError> {
    let opened = project::open(&args.project)?;
    let base_dir = project_dir(&args.project);
    let (result, _) = rerun_project(&opened.project, &base_dir, args.allow_outside_paths, args.accept_changed_data)?;
    // The new data, read as the project's own: same kind of table, same columns.
    let mut spec = opened.project.spec.clone();
    spec.source = SourceSpec {
        source: DataSource::File(std::path::absolute(&args.data).unwrap_or(args.data.clone()).display().to_string()),
        read_options: args.read.options(),
        fingerprint: None,
    };
    if let TableKind::TransactionLog(columns) = &mut spec.table {
        columns.as_of = args.as_of;
    } else if args.as_of.is_some() {
        return Err(CliError("--as-of is for transaction logs; the project segments a customer table".into()));
    }
    let table = pipeline::build_customer_table(&spec, &SourceResolver::user_chosen(&cwd()))?;
    warn_all(&table.warnings);
    let prediction = pipeline::predict_customers(&result, &table.frame)?;
    warn_all(&prediction.warnings);
    if !opened.project.rules.is_empty() {
        eprintln!(
            "note: new customers are assigned by the model; the project's business rules and overrides apply to \
             its own customers (`strata run`), not to these"
        );
    }
    let name_of = |s: usize| segment_name(&opened.project, &result, s);
    let n_segments = result.n_segments();
    let mut counts = vec![0usize; n_segments];
    for s in prediction.segments.iter().flatten() {
        counts[*s] += 1;
    }
    let unassigned = prediction.segments.iter().filter(|s| s.is_none()).count();
    if let Some(out) = &args.out {
        use polars::prelude::{Column, DataFrame};
        let id = match spec.id_column() {
            Some(id) => data::column(&table.frame, id)?.clone(),
            None => Column::new("row".into(), (1..=table.frame.height() as u64).collect::<Vec<_>>()),
        };
        let segment: Vec<Option<u32>> = prediction.segments.iter().map(|s| s.map(|s| s as u32)).collect();
        let names: Vec<Option<String>> = prediction.segments.iter().map(|s| s.map(name_of)).collect();
        let mut columns = vec![id, Column::new("segment".into(), segment), Column::new("segment_name".into(), names)];
        if let Some(p) = &prediction.probability {
            columns.push(Column::new("probability".into(), p.clone()));
        }
        let mut frame = DataFrame::new_infer_height(columns).map_err(DataError::from)?;
        write_table(&mut frame, out)?;
        eprintln!("assignments of {} new customers written to {}", frame.height(), out.display());
    }
    if args.json {
        return print_json(&json!({
            "n_customers": prediction.segments.len(),
            "n_unassigned": unassigned,
            "assigned_by": prediction.method,
            "segments": (0..n_segments).map(|s| json!({"segment": s, "name": name_of(s), "size": counts[s]})).collect::<Vec<_>>(),
        }));
    }
    println!("{} new customers assigned by {}", prediction.segments.len(), prediction.method);
    for (s, count) in counts.iter().enumerate() {
        println!("{s:>3}  {:<24} {count:>8}", name_of(s));
    }
    if unassigned > 0 {
        println!("     {:<24} {unassigned:>8}", "(not assigned)");
    }
    Ok(())
}

pub(crate) fn demo(args: DemoArgs) -> Result<(), CliError> {
    let opened = project::parse(DEMO_PROJECT)?;
    let (result, differences) = rerun_project(&opened.project, &cwd(), false, false)?;
    if args.json {
        let mut out = fit_json(&result);
        out["verified"] = json!(differences.as_ref().map(Vec::is_empty));
        if let Some(d) = differences.as_ref().filter(|d| !d.is_empty()) {
            out["differences"] = json!(d);
        }
        return print_json(&out);
    }
    println!(
        "Strata demo: CDNOW customers segmented on log-scaled, standardised recency, frequency and monetary value"
    );
    println!("(the same pipeline the window runs on its demo project, headless; `strata` alone opens the window)\n");
    print_fit_summary(&result, &opened.project.segments);
    if let Some(r) = &opened.project.results {
        println!(
            "stored fingerprint {} - {}",
            r.assignment_fingerprint,
            match differences.as_deref() {
                Some([]) => "reproduced".to_string(),
                Some(d) => format!("NOT reproduced ({})", d.join("; ")),
                None => "NOT reproduced".to_string(),
            }
        );
    }
    Ok(())
}
