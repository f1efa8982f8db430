//! `strata chart` and `strata report`: a project re-run as `strata run` does, then one chart drawn
//! as PNG or the whole self-contained HTML report written, without a display.

use super::*;
use crate::engine::chart::{self as charts, ChartInputs, Crossing, SegmentColours};
use crate::engine::metrics::agreement::{named_crosstab, segment_labels};
use crate::engine::over_time::OverTime;
use crate::engine::profile::summary::ResultSummary;

/// Arguments of `strata chart`.
#[derive(Debug, Args)]
pub struct ChartArgs {
    /// The project file.
    pub project: PathBuf,
    /// Which chart: elbow, silhouette, calinski-harabasz, davies-bouldin, bic-aic, segment-sizes,
    /// projection, silhouettes, profile-heat, alluvial, sizes-over-time, moves-over-time.
    #[arg(long)]
    pub chart: String,
    /// For alluvial: the segmentation the project's segments are compared with, a kept
    /// segmentation's label (as Compare lists it, without "Run N: ") or a label column of the
    /// customer table. Default: the latest kept segmentation other than the project's own, else the
    /// first label column.
    #[arg(long, value_name = "NAME")]
    pub against: Option<String>,
    /// For moves-over-time: which pair of consecutive windows, 1 for the oldest (default: the last).
    #[arg(long, value_name = "N")]
    pub transition: Option<usize>,
    /// The PNG file to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Width in pixels (200 to 8000).
    #[arg(long, default_value_t = 1600)]
    pub width: u32,
    /// Height in pixels (200 to 8000).
    #[arg(long, default_value_t = 1000)]
    pub height: u32,
    /// Read the project's data files outside its folder (only for projects you trust).
    #[arg(long)]
    pub allow_outside_paths: bool,
    /// Re-run even when the project's data fingerprint differs from the stored one.
    #[arg(long)]
    pub accept_changed_data: bool,
}

/// Arguments of `strata report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The project file.
    pub project: PathBuf,
    /// The HTML file to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Read the project's data files outside its folder (only for projects you trust).
    #[arg(long)]
    pub allow_outside_paths: bool,
    /// Re-run even when the project's data fingerprint differs from the stored one.
    #[arg(long)]
    pub accept_changed_data: bool,
}

/// A project re-run as `strata run` does: names and notes carried to the run, business rules
/// applied, the summary the screens show, and the windows over time when the project has them.
pub(crate) struct ProjectRun {
    pub(crate) project: Project,
    pub(crate) result: PipelineResult,
    pub(crate) summary: ResultSummary,
    pub(crate) over_time: Option<OverTime>,
}

pub(crate) fn run_for_show(
    path: &Path,
    allow_outside: bool,
    accept_changed_data: bool,
) -> Result<ProjectRun, CliError> {
    let opened = project::open(path)?;
    if let Some(banner) = &opened.banner {
        eprintln!("note: {banner}");
    }
    let base_dir = project_dir(path);
    let numbered_by: Option<Box<dyn naming::Fitted>> =
        stored_assignment(&opened.project).map(|s| Box::new(s) as Box<dyn naming::Fitted>);
    let mut project = opened.project;
    let (mut result, _) = rerun_project(&project, &base_dir, allow_outside, accept_changed_data)?;
    warn_all(&result.warnings);
    let id_column = pipeline::override_id_column(&project.spec, &result).map(str::to_string);
    let rules = project.rules.clone();
    pipeline::carry_names_to_rerun(
        &mut project.segments,
        numbered_by.as_deref(),
        numbered_by.as_deref().map(|n| n.assignment_fingerprint()),
        &mut result,
        &rules,
        id_column.as_deref(),
    );
    let explain = crate::engine::profile::explain::ExplainParams {
        max_depth: project.spec.model.explain_depth.unwrap_or(3),
        ..Default::default()
    };
    let summary = ResultSummary::compute_with(&result, project.spec.model.algorithm.seed(), &explain)?;
    let over_time = over_time_of(&project, &base_dir, allow_outside);
    Ok(ProjectRun { project, result, summary, over_time })
}

pub(crate) fn chart_command(args: ChartArgs) -> Result<(), CliError> {
    // Refused before the project is re-run: a typo costs nothing.
    if !charts::CHARTS.iter().any(|c| c.name == args.chart) {
        return Err(CliError(charts::ChartError::Unknown { name: args.chart.clone() }.to_string()));
    }
    for (flag, side) in [("--width", args.width), ("--height", args.height)] {
        if !(charts::MIN_SIDE..=charts::MAX_SIDE).contains(&side) {
            return Err(CliError(format!(
                "{flag} {side}: a chart is {} to {} pixels wide and high",
                charts::MIN_SIDE,
                charts::MAX_SIDE
            )));
        }
    }
    if args.against.is_some() && args.chart != "alluvial" {
        return Err(CliError(format!("--against is for the alluvial chart, not {}", args.chart)));
    }
    if args.transition.is_some() && args.chart != "moves-over-time" {
        return Err(CliError(format!("--transition is for the moves-over-time chart, not {}", args.chart)));
    }
    if args.transition == Some(0) {
        return Err(CliError("--transition 0: transitions are numbered from 1 (the oldest pair of windows)".into()));
    }
    let shown = run_for_show(&args.project, args.allow_outside_paths, args.accept_changed_data)?;
    let names = naming::segment_names(&shown.project.segments, &shown.result);
    let colours = SegmentColours::new(&shown.project.segments, shown.result.fit.k());
    let comparison = match args.chart.as_str() {
        "alluvial" => Some(comparison_of(&shown, &names, args.against.as_deref())?),
        _ => None,
    };
    // The windows were segmented by the project's model: its names name the last window's segments.
    let over_time_names = shown.over_time.as_ref().map(|o| o.names_with(Some(&names))).unwrap_or_default();
    let over_time_colours = SegmentColours::new(&shown.project.segments, over_time_names.len());
    let inputs = ChartInputs {
        result: &shown.result,
        summary: Some(&shown.summary),
        names: &names,
        colours: &colours,
        over_time: shown.over_time.as_ref().map(|o| (o, &over_time_names[..], &over_time_colours)),
        transition: args.transition.map(|t| t - 1),
        comparison: comparison.as_ref(),
        small_cells: shown.project.governance.small_cells,
    };
    let chart = charts::build(&args.chart, &inputs).map_err(|e| CliError(e.to_string()))?;
    let png = charts::render_png(&chart, args.width, args.height).map_err(|e| CliError(e.to_string()))?;
    let export = cli_export_gate(&args.project, &shown.result, "chart", &args.out)?;
    std::fs::write(&args.out, png)
        .map_err(|e| CliError(format!("could not write the chart ({e}): {}", args.out.display())))?;
    export.finish()?;
    eprintln!("{} chart ({} x {} pixels) written to {}", args.chart, args.width, args.height, args.out.display());
    Ok(())
}

/// The project's segments cross-tabulated against `against` (a kept segmentation's label or a label
/// column), or against the default the `--against` help names.
fn comparison_of(shown: &ProjectRun, names: &[String], against: Option<&str>) -> Result<Crossing, CliError> {
    let result = &shown.result;
    let key = naming::customers_key(&result.source_fingerprints, result.as_of, result.customers.height());
    let columns = data::label_columns(&result.customers, shown.project.spec.id_column());
    let others: Vec<&project::KeptSegmentation> = shown
        .project
        .kept
        .iter()
        .filter(|k| k.fingerprint != result.assignment_fingerprint && k.customers_key == key)
        .collect();
    let not_available =
        |reason: String| CliError(charts::ChartError::NotAvailable { name: "alluvial", reason }.to_string());
    let kept = match against {
        // The latest of that label, as the default is the latest.
        Some(name) => shown.project.kept.iter().rev().find(|k| k.label == name),
        None => others.last().copied(),
    };
    let (labels, other_names, title) = match (kept, against) {
        (Some(kept), _) => {
            if kept.customers_key != key {
                return Err(not_available(format!(
                    "the kept segmentation '{}' segments other customers (other data, as-of date or rows)",
                    kept.label
                )));
            }
            let segments = project::decode_segments(&kept.segments, kept.n_customers, kept.names.len())
                .map_err(|e| CliError(format!("the kept segmentation '{}' is damaged: {e}", kept.label)))?;
            (segment_labels(&segments), kept.names.clone(), kept.label.clone())
        }
        (None, Some(name)) if columns.iter().any(|c| c == name) => {
            (data::column_texts(&result.customers, name)?, Vec::new(), format!("column {name}"))
        }
        (None, Some(name)) => {
            let kept: Vec<String> = shown.project.kept.iter().map(|k| format!("'{}'", k.label)).collect();
            return Err(CliError(format!(
                "--against {name}: no kept segmentation or label column of that name (kept: {}; label columns: {})",
                if kept.is_empty() { "none".to_string() } else { kept.join(", ") },
                if columns.is_empty() { "none".to_string() } else { columns.join(", ") }
            )));
        }
        (None, None) => match columns.first() {
            Some(column) => (data::column_texts(&result.customers, column)?, Vec::new(), format!("column {column}")),
            None => {
                return Err(not_available(
                    "the project keeps no other segmentation of its customers and their table has no label column \
                     (keep a second run on the window's Compare screen and save, or give --against COLUMN)"
                        .into(),
                ));
            }
        },
    };
    let table = named_crosstab(segment_labels(&result.segment_per_customer), names, labels, &other_names)?;
    let titles = (naming::segmentation_title(&shown.project.spec, result), title);
    Ok(Crossing::of_segmentations(
        table.crosstab.counts,
        table.row_names,
        table.column_names,
        titles,
        table.left_out,
        shown.project.governance.small_cells,
    ))
}

pub(crate) fn report_command(args: ReportArgs) -> Result<(), CliError> {
    let shown = run_for_show(&args.project, args.allow_outside_paths, args.accept_changed_data)?;
    let title =
        args.project.file_stem().map_or_else(|| "Strata project".to_string(), |s| s.to_string_lossy().to_string());
    let written = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string();
    // The export is logged first, so the report carries the head that includes it.
    let export = cli_export_gate(&args.project, &shown.result, "report", &args.out)?;
    let mut project = shown.project.clone();
    project.audit = export.project().audit.clone();
    project.governance = export.project().governance.clone();
    let inputs = crate::engine::report::ReportInputs {
        title: &title,
        written: &written,
        project: &project,
        result: &shown.result,
        summary: &shown.summary,
        over_time: shown.over_time.as_ref(),
    };
    let html = crate::engine::report::html(&inputs).map_err(|e| CliError(e.to_string()))?;
    std::fs::write(&args.out, &html)
        .map_err(|e| CliError(format!("could not write the report ({e}): {}", args.out.display())))?;
    export.finish()?;
    eprintln!("report ({} bytes) written to {}", thousands_of(html.len()), args.out.display());
    Ok(())
}

fn thousands_of(n: usize) -> String {
    crate::engine::words::thousands(n)
}
