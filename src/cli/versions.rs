//! Model versions and the monitor: `strata versions`, `publish`, `diff`, `rollback` and
//! `monitor`, each on the versions stored in the project (format 11).

use super::*;
use crate::engine::governance::audit::{self, AuditEntry};
use crate::engine::monitor::{self, MonitorRun};
use crate::engine::project::verify::short;
use crate::engine::scoring::batch::NewData;

/// Opens a project to score with: its current version's spec, names and rules when one is
/// published (said on standard error), else the project as it is.
pub(crate) fn open_for_scoring(path: &Path) -> Result<project::OpenedProject, CliError> {
    let mut opened = project::open(path)?;
    let (view, version) = opened.project.scoring_view();
    if let Some(number) = version {
        if opened.project.differs_from_current() {
            eprintln!(
                "note: scoring with published version {number} (current); the project's working spec, names or \
                 rules have changed since, and are not used until published"
            );
        }
        opened.project = view;
    }
    Ok(opened)
}

/// `strata versions`.
pub(crate) fn versions_command(args: VersionsArgs) -> Result<(), CliError> {
    let opened = project::open(&args.project)?;
    let versions = &opened.project.versions;
    if args.json {
        let list: Vec<serde_json::Value> = versions
            .published
            .iter()
            .map(|v| {
                json!({
                    "version": v.number,
                    "current": versions.current == Some(v.number),
                    "published_at": v.published_at,
                    "published_by": v.published_by,
                    "note": v.note,
                    "method": v.spec.model.algorithm.label(),
                    "n_customers": v.results.n_customers,
                    "n_fitted": v.results.n_rows_fitted,
                    "sizes": v.results.sizes,
                    "segment_names": v.names,
                    "assignment_fingerprint": v.results.assignment_fingerprint,
                    "data_fingerprints": crate::engine::project::verify::stored_fingerprints(&mut v.spec.clone())
                        .into_iter()
                        .map(|(_, f)| f.clone())
                        .collect::<Vec<_>>(),
                })
            })
            .collect();
        return print_json(&json!({
            "current": versions.current,
            "working_differs_from_current": opened.project.differs_from_current(),
            "versions": list,
        }));
    }
    if versions.published.is_empty() {
        println!("no published versions: `strata publish {}` makes the current fit version 1", args.project.display());
        return Ok(());
    }
    println!("{:>3}  {:<1} {:<20} {:<16} {:<26} {:>9}  note", "", "", "published", "by", "method", "customers");
    for v in &versions.published {
        let mark = if versions.current == Some(v.number) { "*" } else { "" };
        println!(
            "{:>3}  {:<1} {:<20} {:<16} {:<26} {:>9}  {}",
            v.number,
            mark,
            v.published_at.get(..19).unwrap_or(&v.published_at),
            v.published_by,
            format!("{}, {} segments", v.spec.model.algorithm.label(), v.names.len()),
            v.results.n_customers,
            v.note
        );
    }
    println!("* current: scoring, exports and the monitor use it");
    if opened.project.differs_from_current() {
        println!("the working spec, names or rules have changed since the current version (publish to make them one)");
    }
    Ok(())
}

/// `strata publish`.
pub(crate) fn publish_command(args: PublishArgs) -> Result<(), CliError> {
    let actor = actor_or_login(&args.actor);
    let mut project = open_for_change(&args.project)?;
    let base_dir = project_dir(&args.project);
    let (result, _) = rerun_project(&project, &base_dir, args.allow_outside_paths, args.accept_changed_data)?;
    warn_all(&result.warnings);
    // Publish what the spec gives: a stored result that does not match (edited by hand, another
    // build) is replaced by the re-run's, and said.
    if let Some(stored) = &project.results
        && stored.assignment_fingerprint != result.assignment_fingerprint
    {
        eprintln!(
            "note: the stored results ({}) are not what the spec gives ({}); the spec was re-run and that result is \
             published",
            short(&stored.assignment_fingerprint),
            short(&result.assignment_fingerprint)
        );
    }
    project::verify::store_fingerprints(&mut project.spec, &result);
    project.results = Some(StoredResults::from_result(&result));
    let number = project.publish(&result, &actor, args.note.trim()).map_err(CliError)?;
    let what = format!("publish version {number}");
    project.audit.push(
        AuditEntry::new(&actor, "publish", &format!("version {number}"), &what)
            .change("", result.assignment_fingerprint.clone())
            .because(args.note.trim()),
    );
    audit::save(&mut project, &args.project, &actor)?;
    eprintln!(
        "version {number} published by {actor} ({} customers, assignment {}); it is current",
        result.customers.height(),
        short(&result.assignment_fingerprint)
    );
    Ok(())
}

/// `strata rollback`.
pub(crate) fn rollback_command(args: RollbackArgs) -> Result<(), CliError> {
    let actor = actor_or_login(&args.actor);
    let mut project = open_for_change(&args.project)?;
    let was = project.versions.current;
    project.roll_back(args.to).map_err(CliError)?;
    let was_words = was.map_or_else(|| "none".to_string(), |n| format!("version {n}"));
    project.audit.push(
        AuditEntry::new(
            &actor,
            "rollback",
            &format!("version {}", args.to),
            &format!("roll back to version {}", args.to),
        )
        .change(was_words.clone(), format!("version {}", args.to)),
    );
    audit::save(&mut project, &args.project, &actor)?;
    let newer = project.versions.published.iter().filter(|v| v.number > args.to).count();
    eprintln!(
        "version {} is current again (was {was_words}); the project's spec, names and rules are its own; {newer} newer \
         version(s) kept",
        args.to
    );
    Ok(())
}

/// `strata diff`.
pub(crate) fn diff_command(args: DiffArgs) -> Result<(), CliError> {
    let opened = project::open(&args.project)?;
    let project = &opened.project;
    let get = |n: u32| project.versions.get(n).ok_or_else(|| CliError(project.no_such_version(n)));
    let (from, to) = (get(args.from)?, get(args.to)?);
    let resolver = SourceResolver { base_dir: project_dir(&args.project), allow_outside: args.allow_outside_paths };
    let d = monitor::diff::diff(project, from, to, &resolver, args.accept_changed_data).map_err(CliError)?;
    if args.json {
        return print_json(&d.to_json());
    }
    println!("version {} -> version {}", d.from, d.to);
    if d.spec_changes.is_empty() {
        println!("spec, names and rules: no change");
    } else {
        println!("spec, names and rules: {} change(s)", d.spec_changes.len());
        for c in &d.spec_changes {
            println!(
                "  {}: {} -> {}",
                c.path,
                c.from.as_deref().unwrap_or("(none)"),
                c.to.as_deref().unwrap_or("(none)")
            );
        }
    }
    println!("segment sizes:");
    for s in &d.segments {
        let show = |v: Option<u64>| v.map_or_else(|| "-".to_string(), |v| v.to_string());
        println!("  {:<28} {:>9} -> {:>9}", s.name, show(s.size_from), show(s.size_to));
    }
    match (&d.migration, &d.migration_unavailable) {
        (Some(m), _) => print_migration(m),
        (None, Some(why)) => println!("customers not matched: {why}"),
        _ => {}
    }
    Ok(())
}

fn print_migration(m: &monitor::Migration) {
    println!(
        "migration ({} customers in both, {} new, {} gone; rows: before, columns: now)",
        m.n_common, m.n_new, m.n_gone
    );
    print!("  {:<24}", "");
    for to in &m.to {
        print!(" {:>10}", truncate(to, 10));
    }
    println!();
    for (r, from) in m.from.iter().enumerate() {
        print!("  {:<24}", truncate(from, 24));
        for c in &m.counts[r] {
            print!(" {c:>10}");
        }
        println!();
    }
    for r in &m.retention {
        println!(
            "  retention {:<24} {}",
            r.segment,
            if r.retention.is_nan() { "-".to_string() } else { format!("{:.1}%", r.retention * 100.0) }
        );
    }
    let flows: Vec<String> = m.net_flow.iter().map(|(n, f)| format!("{n} {f:+}")).collect();
    println!("  net flow: {}", flows.join(", "));
}

fn truncate(text: &str, n: usize) -> String {
    text.chars().take(n).collect()
}

/// `strata monitor`.
pub(crate) fn monitor_command(args: MonitorArgs) -> Result<(), CliError> {
    let actor = actor_or_login(&args.actor);
    let opened = project::open(&args.project)?;
    if !args.no_save && opened.read_only {
        return Err(CliError("the project was written by a newer Strata; monitor it with --no-save".into()));
    }
    let mut stored = opened.project.clone();
    let Some(version) = stored.versions.current().cloned() else {
        return Err(CliError(format!(
            "nothing is published: `strata publish {}` first; the monitor compares new periods with the current version",
            args.project.display()
        )));
    };
    // Thresholds given here are stored (and logged).
    let mut thresholds = stored.monitor.thresholds.clone();
    if let Some(w) = args.psi_warn {
        thresholds.psi_warn = w;
    }
    if let Some(a) = args.psi_act {
        thresholds.psi_act = a;
    }
    for pair in &args.retention {
        let (name, points) = pair
            .rsplit_once('=')
            .and_then(|(n, p)| Some((n.trim().to_string(), p.trim().parse::<f64>().ok()?)))
            .ok_or_else(|| CliError(format!("--retention '{pair}': expected SEGMENT=POINTS")))?;
        if !version.names.contains(&name) {
            return Err(CliError(format!("--retention: version {} has no segment '{name}'", version.number)));
        }
        thresholds.retention.retain(|(n, _)| *n != name);
        thresholds.retention.push((name, points));
    }
    thresholds.check().map_err(CliError)?;
    let sources = period_inputs(&args)?;
    let (view, _) = stored.scoring_view();
    let base_dir = project_dir(&args.project);
    let project_files = SourceResolver { base_dir: base_dir.clone(), allow_outside: args.allow_outside_paths };
    let (result, _) = rerun_project(&view, &base_dir, args.allow_outside_paths, args.accept_changed_data)?;
    warn_all(&result.warnings);
    let previous = match &args.previous {
        Some(path) => Some(monitor::periods::read_previous(path, view.spec.id_column()).map_err(CliError)?),
        None => monitor::periods::assignment_pairs(&view.spec, &result, &version.names)?,
    };
    let mut state = stored.monitor.clone();
    state.thresholds = thresholds.clone();
    let monitored = monitor::periods::monitor_periods(
        &view,
        &version,
        &result,
        &sources,
        previous,
        &state,
        &actor,
        &project_files,
        &SourceResolver::user_chosen(&cwd()),
        &|| false,
    )
    .map_err(CliError)?;
    warn_all(&monitored.warnings);
    let runs = monitored.runs;
    state.runs.extend(runs.iter().cloned());
    // Each new period beside the band of every period before it, stored ones included.
    let over = monitor::over_periods(&state.runs);
    let first_new = state.runs.len() - runs.len();
    if !args.no_save {
        let mut project = stored.clone();
        let was = project.monitor.thresholds.clone();
        project.monitor = state.clone();
        let excess = project.monitor.runs.len().saturating_sub(monitor::MAX_RUNS);
        project.monitor.runs.drain(..excess);
        if was != thresholds {
            project.audit.push(
                AuditEntry::new(&actor, "set", "monitor thresholds", "monitor thresholds set")
                    .change(format!("{was:?}"), format!("{thresholds:?}")),
            );
        }
        let labels: Vec<&str> = runs.iter().map(|r| r.label.as_str()).collect();
        project.audit.push(AuditEntry::new(
            &actor,
            "monitor",
            &format!("version {}", version.number),
            &format!("monitored {}", labels.join(", ")),
        ));
        audit::save(&mut project, &args.project, &actor)?;
        stored = project;
    }
    let _ = &stored;
    if args.json {
        let over: Vec<&monitor::PeriodMetric> = over.iter().filter(|m| m.index >= first_new).collect();
        return print_json(&json!({
            "version": version.number,
            "thresholds": thresholds,
            "periods": runs,
            "over_periods": over,
        }));
    }
    for run in &runs {
        print_run(run);
    }
    let outside: Vec<&monitor::PeriodMetric> = over.iter().filter(|m| m.outside && m.index >= first_new).collect();
    for m in outside {
        let (lo, hi) = m.band.unwrap_or_default();
        println!("{}: {} = {:.4} is outside the earlier periods' band [{lo:.4}, {hi:.4}]", m.period, m.metric, m.value);
    }
    Ok(())
}

/// The periods to monitor: each --data with its --as-of (one --as-of for all, one per file, or
/// several for one log).
fn period_inputs(args: &MonitorArgs) -> Result<Vec<NewData>, CliError> {
    let pairs: Vec<(PathBuf, Option<chrono::NaiveDate>)> = match (args.data.len(), args.as_of.len()) {
        (_, 0) => args.data.iter().map(|d| (d.clone(), None)).collect(),
        (_, 1) => args.data.iter().map(|d| (d.clone(), Some(args.as_of[0]))).collect(),
        (1, _) => args.as_of.iter().map(|a| (args.data[0].clone(), Some(*a))).collect(),
        (d, a) if d == a => args.data.iter().cloned().zip(args.as_of.iter().map(|a| Some(*a))).collect(),
        (d, a) => {
            return Err(CliError(format!(
                "{d} --data and {a} --as-of: give one --as-of, one per --data, or one --data"
            )));
        }
    };
    let extra = args.read.derived(None).map_err(CliError)?;
    Ok(pairs
        .into_iter()
        .map(|(data, as_of)| NewData { data, as_of, read_options: args.read.options(), extra_derived: extra.clone() })
        .collect())
}

fn print_run(run: &MonitorRun) {
    println!("{} against version {} ({} customers)", run.label, run.version, run.n_customers);
    println!("  {:<28} {:>8} {:>6} {:>10}  verdict", "feature", "PSI", "band", "p");
    for p in run.features.iter().chain(std::iter::once(&run.segment_shares)) {
        println!(
            "  {:<28} {:>8.4} {:>6} {:>10}  {}",
            truncate(&p.what, 28),
            p.psi,
            p.band.word(),
            monitor::drift::p_words(p.p_value),
            p.verdict
        );
    }
    println!(
        "  segment shares: chi-square {:.2} on {} df, p {}",
        run.segment_test.statistic,
        run.segment_test.df,
        monitor::drift::p_words(run.segment_test.p_value)
    );
    for b in &run.segment_shares.bins {
        println!(
            "    {:<26} {:>6.1}% -> {:>6.1}%",
            truncate(&b.label, 26),
            b.expected_share * 100.0,
            b.actual_share * 100.0
        );
    }
    if let Some(m) = &run.migration {
        print_migration(m);
    }
    for a in &run.alerts {
        println!("  alert ({}): {}", a.level.word(), a.message);
    }
    if let Some(s) = &run.suggestion {
        println!("  suggestion: {s}");
    }
}
