//! The self-contained HTML report: one file that opens offline in any browser, built from a run's
//! results and the same chart structs the window and `strata chart` draw. Charts are PNG data URIs
//! (drawn by [`crate::engine::chart::render`]); the CSS is inline; nothing is fetched from anywhere.
//! Every text that comes from the project (names, notes, rules, paths, captions) is HTML-escaped.

mod sections;

use crate::engine::chart::{self, Chart, ChartError, ChartInputs, SegmentColours};
use crate::engine::over_time::OverTime;
use crate::engine::pipeline::PipelineResult;
use crate::engine::profile::summary::ResultSummary;
use crate::engine::project::Project;

/// Width of the charts drawn into the report, in pixels.
pub const CHART_WIDTH: u32 = 1200;
/// Height of the charts drawn into the report, in pixels.
pub const CHART_HEIGHT: u32 = 720;
/// Rows of a long table shown per page (a folded section each).
pub const PAGE_ROWS: usize = 50;
/// Rows of a long table shown at most; past them a note says how many were left out.
pub const MAX_TABLE_ROWS: usize = 1000;

/// What a report is made from.
pub struct ReportInputs<'a> {
    /// The report's title (the project's file name).
    pub title: &'a str,
    /// When it was written, as the caller says it (the engine never reads the clock).
    pub written: &'a str,
    /// The project, with its names and notes as carried to this run.
    pub project: &'a Project,
    /// The run.
    pub result: &'a PipelineResult,
    /// What the screens compute from it (profiles, projection, explanations).
    pub summary: &'a ResultSummary,
    /// Segments over time, when the project follows its customers over windows.
    pub over_time: Option<&'a OverTime>,
}

/// HTML-escapes `text` for element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A count shown on its own in the report: under the project's small-cell threshold "<10", else
/// with thousands separators.
pub fn small_count(inputs: &ReportInputs, n: usize) -> String {
    crate::engine::governance::suppress::count_words(n, inputs.project.governance.small_cells)
}

/// `bytes` as a `data:` URI of `mime`.
pub fn data_uri(mime: &str, bytes: &[u8]) -> String {
    use base64::Engine;
    format!("data:{mime};base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// The chart as an `<img>` with its PNG inline, and its title as the alternative text.
pub fn figure(chart: &Chart) -> Result<String, ChartError> {
    // A table is as high as its rows need, not a plot's height.
    let height = match &chart.body {
        chart::Body::Table(table) => (140 + 40 * (table.rows.len() as u32 + 1)).clamp(chart::MIN_SIDE, CHART_HEIGHT),
        chart::Body::Plot { .. } | chart::Body::Flows(_) => CHART_HEIGHT,
    };
    let png = chart::render_png(chart, CHART_WIDTH, height)?;
    Ok(format!(
        "<figure id=\"chart-{}\"><img src=\"{}\" width=\"{CHART_WIDTH}\" height=\"{height}\" alt=\"{}\"></figure>\n",
        chart.name,
        data_uri("image/png", &png),
        escape(&chart.title)
    ))
}

/// The charts of the report, built from its inputs (the names and colours the project gives).
pub struct ReportCharts {
    /// Segment names in segment order.
    pub names: Vec<String>,
    /// Segment colours.
    pub colours: SegmentColours,
    /// Names of the aligned segments over time.
    pub over_time_names: Vec<String>,
    /// Their colours.
    pub over_time_colours: SegmentColours,
}

impl ReportCharts {
    /// The names and colours of `inputs`' segments.
    pub fn new(inputs: &ReportInputs) -> Self {
        let names = crate::engine::naming::segment_names(&inputs.project.segments, inputs.result);
        let colours = SegmentColours::new(&inputs.project.segments, inputs.result.fit.k());
        // The windows were segmented by the project's model: its names name the last window's segments.
        let over_time_names = inputs.over_time.map(|o| o.names_with(Some(&names))).unwrap_or_default();
        let over_time_colours = SegmentColours::new(&inputs.project.segments, over_time_names.len());
        ReportCharts { names, colours, over_time_names, over_time_colours }
    }

    /// The chart called `name`, if this run has it.
    pub fn chart(&self, inputs: &ReportInputs, name: &str) -> Option<Chart> {
        let chart_inputs = ChartInputs {
            result: inputs.result,
            summary: Some(inputs.summary),
            names: &self.names,
            colours: &self.colours,
            over_time: inputs.over_time.map(|o| (o, &self.over_time_names[..], &self.over_time_colours)),
            transition: None,
            comparison: None,
            small_cells: inputs.project.governance.small_cells,
        };
        chart::build(name, &chart_inputs).ok()
    }
}

/// The whole report as one HTML document.
pub fn html(inputs: &ReportInputs) -> Result<String, ChartError> {
    let charts = ReportCharts::new(inputs);
    let mut body = String::new();
    let mut contents: Vec<(&str, &str)> = Vec::new();
    for (id, title, section) in sections::SECTIONS {
        if let Some(text) = section(inputs, &charts)? {
            contents.push((id, title));
            body.push_str(&format!("<section id=\"{id}\"><h2>{title}</h2>\n{text}</section>\n"));
        }
    }
    let toc: String = contents.iter().map(|(id, title)| format!("<li><a href=\"#{id}\">{title}</a></li>")).collect();
    Ok(format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>{STYLE}</style></head>\n<body>\n\
         <header><h1>{title}</h1><p class=\"weak\">Segmentation report written by Strata {version} on {written}. \
         One self-contained file: it opens offline and fetches nothing.</p>\n\
         <nav><ol>{toc}</ol></nav></header>\n{body}</body></html>\n",
        title = escape(inputs.title),
        version = env!("CARGO_PKG_VERSION"),
        written = escape(inputs.written),
    ))
}

/// The report's style: readable on screen and on paper, no web fonts.
const STYLE: &str = "
body { font-family: system-ui, 'Segoe UI', Ubuntu, Helvetica, Arial, sans-serif; color: #222; max-width: 1240px;
  margin: 0 auto; padding: 24px; line-height: 1.45; background: #fff; }
h1 { margin-bottom: 4px; } h2 { border-bottom: 2px solid #ddd; padding-bottom: 4px; margin-top: 40px; }
h3 { margin: 0 0 6px 0; }
.weak { color: #666; } .small { font-size: 0.9em; }
table { border-collapse: collapse; margin: 8px 0 16px 0; font-size: 0.92em; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 12px 0; } figure img { max-width: 100%; height: auto; border: 1px solid #e4e4e4; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); gap: 12px; }
.card { border: 1px solid #ddd; border-left: 8px solid #999; border-radius: 6px; padding: 12px 16px; margin: 14px 0;
  break-inside: avoid; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 3px; margin-right: 6px; vertical-align: -1px; }
.quadrants { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; }
.quadrant { border: 1px solid #ccc; border-radius: 6px; padding: 8px 12px; }
.quadrant ul { padding-left: 18px; margin: 4px 0; }
.step { border-left: 4px solid #2e7dd2; padding: 4px 12px; margin: 10px 0; }
details { margin: 4px 0; } summary { cursor: pointer; color: #2e7dd2; }
code { background: #f4f4f4; padding: 1px 4px; border-radius: 3px; }
nav ol { columns: 2; }
@media print { details { display: block; } .charts { display: block; } }
";
