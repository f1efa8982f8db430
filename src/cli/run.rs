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
    let (mut result, differences) = project::verify::rerun(project, &resolver, accept_changed_data)?;
    // With minimisation on, columns nothing uses leave the customer table before anything reads it.
    project::minimise::apply(project, &mut result);
    Ok((result, differences))
}

/// A project's windows over time, as its Over time screen cuts them, when it has used that screen.
/// A failure is a warning: the segmentation itself stands, only the windows could not be made.
pub(crate) fn over_time_of(
    project: &Project,
    base_dir: &Path,
    allow_outside: bool,
) -> Option<crate::engine::over_time::OverTime> {
    let params = project.over_time.as_ref()?;
    let resolver = SourceResolver { base_dir: base_dir.to_path_buf(), allow_outside };
    let rules = crate::engine::over_time::WindowRules { rules: Some(&project.rules), notes: &project.segments };
    match crate::engine::over_time::segments_over_time(&project.spec, &resolver, params, rules, &JobContext::inline()) {
        Ok(windows) => Some(windows),
        Err(e) => {
            eprintln!("warning: segments over time: {e}");
            None
        }
    }
}

/// A segment's name in a project: the one its notes give, else the run's default.
pub(crate) fn segment_name(project: &Project, result: &PipelineResult, segment: usize) -> String {
    project
        .segments
        .iter()
        .find(|n| n.segment == segment)
        .map_or_else(|| result.default_segment_name(segment), |n| n.name.clone())
}

/// The assignment a project's names and notes are numbered by: its kept segmentation with the
/// stored results' fingerprint (the window keeps every run it shows and saves them), seen as a fit.
pub(super) fn stored_assignment(project: &Project) -> Option<StoredAssignment> {
    let stored = project.results.as_ref()?;
    let kept = project.kept.iter().find(|k| k.fingerprint == stored.assignment_fingerprint)?;
    let segments = project::decode_segments(&kept.segments, kept.n_customers, kept.names.len()).ok()?;
    let k = stored.sizes.len();
    let fallback = kept.names.get(k).is_some_and(|n| n == naming::FALLBACK_NAME || n == "Fallback");
    Some(StoredAssignment {
        method: project.spec.model.algorithm.name(),
        fingerprint: stored.assignment_fingerprint.clone(),
        segments,
        k,
        n_model: k + usize::from(fallback),
        names: kept.names.clone(),
        customers_key: kept.customers_key.clone(),
    })
}

/// A stored assignment as names need it (see [`naming::Fitted`]); customers are matched by row, as
/// the project's customers are the same when their key is.
pub(super) struct StoredAssignment {
    method: &'static str,
    fingerprint: String,
    segments: Vec<Option<usize>>,
    k: usize,
    n_model: usize,
    names: Vec<String>,
    customers_key: String,
}

impl naming::Fitted for StoredAssignment {
    fn method(&self) -> &'static str {
        self.method
    }
    fn assignment_fingerprint(&self) -> &str {
        &self.fingerprint
    }
    fn model_segments(&self) -> &[Option<usize>] {
        &self.segments
    }
    fn k(&self) -> usize {
        self.k
    }
    fn n_segments(&self) -> usize {
        self.names.len().max(self.n_model)
    }
    fn n_model_segments(&self) -> usize {
        self.n_model
    }
    fn default_segment_name(&self, segment: usize) -> String {
        match segment {
            s if s >= self.n_model => self.names.get(s).cloned().unwrap_or_default(),
            s if s == self.k => naming::FALLBACK_NAME.to_string(),
            s => format!("Segment {}", s + 1),
        }
    }
    fn guessed_id_column(&self) -> Option<&str> {
        None
    }
    fn customer_ids(&self, _column: &str) -> Option<Vec<String>> {
        None
    }
    fn customers_key(&self) -> String {
        self.customers_key.clone()
    }
}

/// The project with `--method` and `--k` applied (a method switched to keeps k and seed, as in the
/// window).
fn with_run_settings(mut project: Project, args: &RunArgs) -> Result<Project, CliError> {
    let algorithm = &mut project.spec.model.algorithm;
    if let Some(name) = &args.method {
        *algorithm = Algorithm::switched_to(name, algorithm)
            .ok_or_else(|| CliError(format!("unknown method '{name}' (one of: {})", Algorithm::NAMES.join(", "))))?;
    }
    if let Some(k) = args.k {
        if algorithm.k().is_none() {
            return Err(CliError(format!(
                "--k is not a setting of {} ({}), which finds its own number of segments",
                algorithm.name(),
                algorithm.label()
            )));
        }
        algorithm.set_k(k);
        // A stored k range must still hold the chosen k.
        if let Some((lo, hi)) = project.spec.model.k_range {
            project.spec.model.k_range = Some((lo.min(k), hi.max(k)));
        }
    }
    algorithm.check()?;
    Ok(project)
}

pub(crate) fn run_project(args: RunArgs) -> Result<(), CliError> {
    let opened = project::open(&args.project)?;
    if let Some(banner) = &opened.banner {
        eprintln!("note: {banner}");
    }
    if args.save && opened.read_only {
        return Err(CliError(
            "--save: the project was written by a newer Strata; it can be read but not written back".into(),
        ));
    }
    let base_dir = project_dir(&args.project);
    // The assignment the names and notes are numbered by: the stored one, kept in the project; or,
    // when --k or --method change the fit and none is kept, the project re-run as it is.
    let stored_fingerprint = opened.project.results.as_ref().map(|r| r.assignment_fingerprint.clone());
    let numbered_by: Option<Box<dyn naming::Fitted>> = match stored_assignment(&opened.project) {
        Some(stored) => Some(Box::new(stored)),
        None if args.k.is_some() || args.method.is_some() => {
            let (as_saved, _) =
                rerun_project(&opened.project, &base_dir, args.allow_outside_paths, args.accept_changed_data)?;
            (stored_fingerprint.is_none() || stored_fingerprint.as_deref() == Some(&as_saved.assignment_fingerprint))
                .then(|| Box::new(as_saved) as Box<dyn naming::Fitted>)
        }
        None => None,
    };
    let mut opened = opened;
    let before = opened.project.clone();
    opened.project = with_run_settings(opened.project, &args)?;
    if opened.project.spec != before.spec {
        // --k or --method: a change of who is in which segment, logged under the login name.
        use crate::engine::governance::audit::Parts;
        let (action, object, was, now) =
            crate::engine::governance::audit::classify(Parts::of(&before), Parts::of(&opened.project), "strata run");
        let who = crate::engine::governance::audit::login_name();
        opened.project.audit.push(
            crate::engine::governance::audit::AuditEntry::new(
                &who,
                &action,
                &object,
                &format!("{action} changed by strata run"),
            )
            .change(was, now),
        );
    }
    let (mut result, differences) =
        rerun_project(&opened.project, &base_dir, args.allow_outside_paths, args.accept_changed_data)?;
    warn_all(&result.warnings);
    note_join(result.join.as_ref());
    // Names and notes follow their customers when the assignment is not the stored one (another k
    // or method, given here or edited into the file by hand), exactly as in the window.
    let id_column = pipeline::override_id_column(&opened.project.spec, &result).map(str::to_string);
    let project_rules = opened.project.rules.clone();
    let names = pipeline::carry_names_to_rerun(
        &mut opened.project.segments,
        numbered_by.as_deref(),
        numbered_by.as_deref().map(|n| n.assignment_fingerprint()),
        &mut result,
        &project_rules,
        id_column.as_deref(),
    );
    let mut names = names;
    let not_followed = opened.project.follow_segments(
        names.carried.as_ref().map(|c| &c.map),
        result.n_segments(),
        &result.assignment_fingerprint,
    );
    if !not_followed.is_empty() {
        names.carried.get_or_insert_with(Default::default).elsewhere.extend(not_followed);
    }
    if let Some(change) = names.carried.as_ref().filter(|c| c.touched_names()) {
        eprintln!("names and notes followed their customers:");
        for line in change.lines() {
            eprintln!("  {line}");
        }
    } else if numbered_by.is_none()
        && opened.project.results.as_ref().is_some_and(|r| r.assignment_fingerprint != result.assignment_fingerprint)
        && opened.project.segments.iter().any(|n| !n.notes.is_empty())
    {
        eprintln!(
            "warning: the assignment differs from the stored one and the project keeps no copy of it, so names \
             and notes stay on their segment numbers (save the project from the window to keep it)"
        );
    }
    // The windows of the Over time screen, when the project has used it.
    let over_time = over_time_of(&opened.project, &base_dir, args.allow_outside_paths);
    if let Some(windows) = &over_time {
        warn_all(&windows.warnings);
    }
    if let Some(path) = &args.out {
        let export = cli_export_gate(&args.project, &result, "assignments", path)?;
        let mut assignments = pipeline::assignments_frame(&result, id_column.as_deref())?;
        let names: Vec<Option<String>> =
            result.segment_per_customer.iter().map(|s| s.map(|s| segment_name(&opened.project, &result, s))).collect();
        assignments.with_column(polars::prelude::Column::new("segment_name".into(), names)).map_err(DataError::from)?;
        let opted = crate::engine::governance::review::mark_opted_out(
            &mut assignments,
            id_column.as_deref(),
            &opened.project.governance.opt_outs,
        )?;
        if opted > 0 {
            eprintln!("{opted} opted-out customers marked in the opted_out column (leave them out of target lists)");
        }
        write_table(&mut assignments, path)?;
        let logged = export.finish()?;
        eprintln!("assignments of {} customers written to {}", assignments.height(), path.display());
        // The entry written is kept if this run also saves the project (after it, what this run
        // logged and has not sealed yet).
        let pending: Vec<_> = opened.project.audit.iter().filter(|e| !e.is_sealed()).cloned().collect();
        opened.project.audit = logged.audit;
        opened.project.audit.extend(pending);
    }
    let small_cells = opened.project.governance.small_cells;
    if args.json {
        let mut out = fit_json(&result, small_cells)?;
        out["verified"] = json!(differences.as_ref().map(Vec::is_empty));
        if let Some(d) = differences.as_ref().filter(|d| !d.is_empty()) {
            out["differences"] = json!(d);
        }
        if let Some(rules) = rules_json(&result, &opened.project.rules, small_cells) {
            out["business_rules"] = rules;
        }
        out["audit"] = json!(opened.project.audit);
        if let Some(windows) = &over_time {
            out["over_time"] = over_time_json(windows, small_cells);
            if !opened.project.rules.is_empty() {
                out["over_time"]["business_rules_applied"] = json!(true);
                out["over_time"]["note"] = json!(crate::engine::over_time::RULES_APPLIED);
            }
        }
        if let Some(value) = run_value_json(&opened.project, &result, small_cells) {
            out["value"] = value;
        }
        print_json(&out)?;
    } else {
        print_fit_summary(&result, &opened.project.segments, small_cells);
        print_rules(&result, &opened.project.rules, small_cells);
        if let Some(windows) = &over_time {
            println!();
            print_over_time(windows, small_cells);
        }
        print_run_value(&opened.project, &result, small_cells);
    }
    if args.save {
        save_rerun(&mut opened.project, &result, &args.project)?;
    }
    if args.verify {
        match &differences {
            Some(d) if d.is_empty() => {
                eprintln!(
                    "verified: the re-run reproduces every stored result (assignment, sizes, centroids, indices, sweep, value)"
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

/// Writes a re-run project back atomically: its settings, results and names as carried, and the
/// new assignment kept (so the next change carries names from it).
pub(super) fn save_rerun(project: &mut Project, result: &PipelineResult, path: &Path) -> Result<(), CliError> {
    project::verify::store_fingerprints(&mut project.spec, result);
    project.results = Some(StoredResults::from_result(result));
    if !project.kept.iter().any(|k| k.fingerprint == result.assignment_fingerprint) {
        let algorithm = &project.spec.model.algorithm;
        let label = match algorithm.k() {
            Some(k) => format!("{}, k = {k}", algorithm.label()),
            None => format!("{}, {} segments", algorithm.label(), result.fit.k()),
        };
        project.kept.push(project::KeptSegmentation {
            label,
            description: format!("strata run --save, {}", algorithm.label()),
            customers_key: naming::Fitted::customers_key(result),
            n_customers: result.segment_per_customer.len(),
            names: naming::segment_names(&project.segments, result),
            fingerprint: result.assignment_fingerprint.clone(),
            segments: project::encode_segments(&result.segment_per_customer),
        });
        let max = project::validate::MAX_KEPT;
        if project.kept.len() > max {
            project.kept.drain(..project.kept.len() - max);
        }
    }
    crate::engine::governance::audit::save(project, path, &crate::engine::governance::audit::login_name())?;
    eprintln!("project written to {}", path.display());
    Ok(())
}

/// New customers read as a project's own (same kind of table, same columns, the project's lookups
/// and derived columns, then any given here): the opened project, its re-run, the spec the new
/// table was built with and the table. Shared by `strata predict` and `strata score`.
pub(super) fn new_customers(
    args: &PredictArgs,
) -> Result<(project::OpenedProject, PipelineResult, PipelineSpec, pipeline::CustomerTable), CliError> {
    let opened = versions::open_for_scoring(&args.project)?;
    let base_dir = project_dir(&args.project);
    let (result, _) = rerun_project(&opened.project, &base_dir, args.allow_outside_paths, args.accept_changed_data)?;
    let (spec, table) = new_data_table(&opened.project, args)?;
    Ok((opened, result, spec, table))
}

/// The new data of `args` read as `project` reads its own: the same kind of table, the same
/// columns; the project's lookup tables from its folder (the new data may be anywhere), any
/// --derive given here computed after the project's own.
fn new_data_table(project: &Project, args: &PredictArgs) -> Result<(PipelineSpec, pipeline::CustomerTable), CliError> {
    if args.as_of.is_some() && !matches!(project.spec.table, TableKind::TransactionLog(_)) {
        return Err(CliError("--as-of is for transaction logs; the project segments a customer table".into()));
    }
    let project_files =
        SourceResolver { base_dir: project_dir(&args.project), allow_outside: args.allow_outside_paths };
    let new_data = crate::engine::scoring::batch::NewData {
        data: args.data.clone(),
        as_of: args.as_of,
        read_options: args.read.options(),
        extra_derived: args.read.derived(None)?,
    };
    let (spec, table) = crate::engine::scoring::batch::new_data_table(
        &project.spec,
        &new_data,
        &project_files,
        &SourceResolver::user_chosen(&cwd()),
    )
    .map_err(CliError)?;
    warn_all(&table.warnings);
    Ok((spec, table))
}

pub(crate) fn predict_command(args: PredictArgs) -> Result<(), CliError> {
    let (opened, result, spec, table) = new_customers(&args)?;
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
        let names: Vec<Option<String>> = prediction.segments.iter().map(|s| s.map(name_of)).collect();
        let mut columns = vec![
            id,
            Column::new("segment".into(), pipeline::numbered(&prediction.segments, 0)),
            Column::new("segment_number".into(), pipeline::numbered(&prediction.segments, 1)),
            Column::new("segment_name".into(), names),
        ];
        if let Some(p) = &prediction.probability {
            columns.push(Column::new("probability".into(), p.clone()));
        }
        let mut frame = DataFrame::new_infer_height(columns).map_err(DataError::from)?;
        // Opt-outs are customer ids: new customers without an id column cannot be matched to them
        // (their row numbers are not the project's).
        let opted = match spec.id_column() {
            Some(id) => crate::engine::governance::review::mark_opted_out(
                &mut frame,
                Some(id),
                &opened.project.governance.opt_outs,
            )?,
            None => 0,
        };
        if opted > 0 {
            eprintln!("{opted} opted-out customers marked in the opted_out column (leave them out of target lists)");
        }
        let export = cli_export_gate(&args.project, &result, "assignments of new customers", out)?;
        write_table(&mut frame, out)?;
        export.finish()?;
        eprintln!("assignments of {} new customers written to {}", frame.height(), out.display());
    }
    // The new customers' counts per segment, and those not assigned, add up to all of them.
    let small_cells = opened.project.governance.small_cells;
    let mut line = counts.clone();
    line.push(unassigned);
    let sizes = crate::engine::governance::suppress::Sizes::new(&line, small_cells);
    if args.json {
        return print_json(&with_small_cells(
            json!({
                "n_customers": sizes.line.total.json(small_cells),
                "n_unassigned": sizes.json(n_segments),
                "assigned_by": prediction.method,
                "segments": (0..n_segments).map(|s| json!({"segment": s, "segment_number": s + 1, "name": name_of(s), "size": sizes.json(s)})).collect::<Vec<_>>(),
            }),
            small_cells,
        ));
    }
    println!("{} new customers assigned by {}", sizes.total_words(), prediction.method);
    for s in 0..n_segments {
        println!("{:>3}  {:<24} {:>8}", s + 1, name_of(s), sizes.words(s));
    }
    if unassigned > 0 {
        println!("     {:<24} {:>8}", "(not assigned)", sizes.words(n_segments));
    }
    Ok(())
}

pub(crate) fn demo(args: DemoArgs) -> Result<(), CliError> {
    let opened = project::parse(DEMO_PROJECT)?;
    let (result, differences) = rerun_project(&opened.project, &cwd(), false, false)?;
    let small_cells = opened.project.governance.small_cells;
    if args.json {
        let mut out = fit_json(&result, small_cells)?;
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
    print_fit_summary(&result, &opened.project.segments, small_cells);
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
