//! `strata chart` and `strata report`: a project re-run as `strata run` does, then one chart drawn
//! as PNG or the whole self-contained HTML report written, without a display.

use super::*;
use crate::engine::chart::{self as charts, ChartInputs, SegmentColours};
use crate::engine::over_time::OverTime;
use crate::engine::profile::summary::ResultSummary;

/// Arguments of `strata chart`.
#[derive(Debug, Args)]
pub struct ChartArgs {
    /// The project file.
    pub project: PathBuf,
    /// Which chart: elbow, silhouette, calinski-harabasz, davies-bouldin, bic-aic, segment-sizes,
    /// projection, profile-heat, sizes-over-time.
    #[arg(long)]
    pub chart: String,
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
    let shown = run_for_show(&args.project, args.allow_outside_paths, args.accept_changed_data)?;
    let names = naming::segment_names(&shown.project.segments, &shown.result);
    let colours = SegmentColours::new(&shown.project.segments, shown.result.fit.k());
    let over_time_names = shown.over_time.as_ref().map(|o| o.names.clone()).unwrap_or_default();
    let over_time_colours = SegmentColours::new(&shown.project.segments, over_time_names.len());
    let inputs = ChartInputs {
        result: &shown.result,
        summary: Some(&shown.summary),
        names: &names,
        colours: &colours,
        over_time: shown.over_time.as_ref().map(|o| (o, &over_time_names[..], &over_time_colours)),
    };
    let chart = charts::build(&args.chart, &inputs).map_err(|e| CliError(e.to_string()))?;
    let png = charts::render_png(&chart, args.width, args.height).map_err(|e| CliError(e.to_string()))?;
    std::fs::write(&args.out, png)
        .map_err(|e| CliError(format!("could not write the chart ({e}): {}", args.out.display())))?;
    eprintln!("{} chart ({} x {} pixels) written to {}", args.chart, args.width, args.height, args.out.display());
    Ok(())
}

pub(crate) fn report_command(args: ReportArgs) -> Result<(), CliError> {
    let shown = run_for_show(&args.project, args.allow_outside_paths, args.accept_changed_data)?;
    let title =
        args.project.file_stem().map_or_else(|| "Strata project".to_string(), |s| s.to_string_lossy().to_string());
    let written = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string();
    let inputs = crate::engine::report::ReportInputs {
        title: &title,
        written: &written,
        project: &shown.project,
        result: &shown.result,
        summary: &shown.summary,
        over_time: shown.over_time.as_ref(),
    };
    let html = crate::engine::report::html(&inputs).map_err(|e| CliError(e.to_string()))?;
    std::fs::write(&args.out, &html)
        .map_err(|e| CliError(format!("could not write the report ({e}): {}", args.out.display())))?;
    eprintln!("report ({} bytes) written to {}", thousands_of(html.len()), args.out.display());
    Ok(())
}

fn thousands_of(n: usize) -> String {
    crate::engine::words::thousands(n)
}
