//! Charts as plain data: series, axes with labelled ticks, legends and colours by palette slot,
//! built from results by one function per chart. The window's chart export, `strata chart` and the
//! report draw the same structs ([`render`]), so what they show can never disagree.
//!
//! Every chart has a stable name ([`CHARTS`]): the CLI's `--chart`, the report's figures and the
//! window's export all use it.

pub mod flows;
pub mod palette;
pub mod render;
mod silhouettes;
pub mod ticks;

use crate::engine::cluster::sweep::{SweepResult, SweepRun};
use crate::engine::governance::suppress::Sizes;
use crate::engine::over_time::OverTime;
use crate::engine::pipeline::PipelineResult;
use crate::engine::profile::summary::{ResultSummary, ScatterView};

pub use flows::{Crossing, FlowLayout, FlowLink, FlowNode, Flows};
pub use palette::SegmentColours;
pub use render::{MAX_SIDE, MIN_SIDE, render_png};
use silhouettes::silhouettes_chart;
pub use silhouettes::{SILHOUETTE_POINTS, silhouette_band_starts, spaced_quantiles};
pub use ticks::Ticks;

/// A colour: 8-bit sRGB and alpha (not premultiplied).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rgba(pub [u8; 4]);

impl Rgba {
    /// An opaque colour.
    pub const fn rgb(r: u8, g: u8, b: u8) -> Self {
        Rgba([r, g, b, 255])
    }

    /// The colour as CSS (`#rrggbb`).
    pub fn css(self) -> String {
        let [r, g, b, _] = self.0;
        format!("#{r:02x}{g:02x}{b:02x}")
    }
}

/// The grey of reference lines (the knee).
pub const REFERENCE_GREY: Rgba = Rgba::rgb(120, 120, 120);
/// The colour of the chosen k's line.
pub const CHOSEN: Rgba = Rgba::rgb(46, 125, 210);

/// How an axis is labelled.
#[derive(Clone, Debug, PartialEq)]
pub enum AxisTicks {
    /// Numbers at readable steps (see [`ticks`]).
    Numeric(Ticks),
    /// Category `i` at value `i`, labelled with its text.
    Categories(Vec<String>),
}

/// One axis: its title, the range shown and its ticks.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    /// What the axis measures ("k", "Inertia").
    pub title: String,
    /// The values shown, low to high.
    pub range: (f64, f64),
    /// How ticks are placed and labelled.
    pub ticks: AxisTicks,
}

impl Axis {
    /// A numeric axis over `values`, padded by 5% of their spread (or 1 when they are all equal).
    pub fn numeric(title: &str, values: impl IntoIterator<Item = f64>, ticks: Ticks) -> Self {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for v in values.into_iter().filter(|v| v.is_finite()) {
            lo = lo.min(v);
            hi = hi.max(v);
        }
        if !(lo.is_finite() && hi.is_finite()) {
            (lo, hi) = (0.0, 1.0);
        }
        let pad = if hi > lo { (hi - lo) * 0.05 } else { 1.0 };
        Axis { title: title.to_string(), range: (lo - pad, hi + pad), ticks: AxisTicks::Numeric(ticks) }
    }

    /// A numeric axis from zero to the largest of `values` plus 5% (bars start at zero).
    pub fn from_zero(title: &str, values: impl IntoIterator<Item = f64>) -> Self {
        let hi = values.into_iter().filter(|v| v.is_finite()).fold(0.0, f64::max);
        let hi = if hi > 0.0 { hi * 1.05 } else { 1.0 };
        Axis { title: title.to_string(), range: (0.0, hi), ticks: AxisTicks::Numeric(Ticks::Numbers) }
    }

    /// A category axis: `labels[i]` at `i`.
    pub fn categories(title: &str, labels: Vec<String>) -> Self {
        let n = labels.len().max(1) as f64;
        Axis { title: title.to_string(), range: (-0.5, n - 0.5), ticks: AxisTicks::Categories(labels) }
    }
}

/// How a line is stroked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stroke {
    /// A continuous line.
    Solid,
    /// A dashed line (reference lines such as the knee).
    Dashed,
}

/// One bar of a bar chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    /// Where the bar stands on the category axis.
    pub at: f64,
    /// Its length on the value axis.
    pub value: f64,
    /// Its colour.
    pub colour: Rgba,
    /// The text written at its end (the value as it should be read).
    pub text: String,
}

/// An image stretched over a rectangle of the plot (the density of a large scatter).
#[derive(Clone, Debug, PartialEq)]
pub struct Image {
    /// Pixels across.
    pub width: usize,
    /// Pixels down.
    pub height: usize,
    /// Row-major pixels from the top.
    pub pixels: Vec<Rgba>,
    /// The x range it covers.
    pub x_range: (f64, f64),
    /// The y range it covers.
    pub y_range: (f64, f64),
}

/// Something drawn in a plot.
#[derive(Clone, Debug, PartialEq)]
pub enum Mark {
    /// A polyline, with a dot at each point when `dots`.
    Line {
        /// What the line is (the legend's text).
        label: String,
        /// Its points, in order.
        points: Vec<[f64; 2]>,
        /// Its colour.
        colour: Rgba,
        /// Solid or dashed.
        stroke: Stroke,
        /// Whether each point gets a dot.
        dots: bool,
    },
    /// Dots.
    Points {
        /// What the points are.
        label: String,
        /// Their positions.
        points: Vec<[f64; 2]>,
        /// Their colour.
        colour: Rgba,
        /// Radius in points.
        radius: f32,
        /// Filled discs, or rings (a highlighted point).
        filled: bool,
    },
    /// Bars from zero.
    Bars {
        /// The bars.
        bars: Vec<Bar>,
        /// Bars lie along x (categories on y) when true.
        horizontal: bool,
        /// Thickness in category units (0..1).
        thickness: f64,
    },
    /// A vertical line across the plot at `x`.
    VLine {
        /// What it marks.
        label: String,
        /// Where.
        x: f64,
        /// Its colour.
        colour: Rgba,
        /// Solid or dashed.
        stroke: Stroke,
    },
    /// An image under the other marks.
    Image(Image),
    /// A polyline filled down to zero, translucent (one segment's band of silhouettes).
    Area {
        /// What the area is (the legend's text).
        label: String,
        /// The line's points, in order of x.
        points: Vec<[f64; 2]>,
        /// Its colour.
        colour: Rgba,
    },
}

/// One entry of a legend.
#[derive(Clone, Debug, PartialEq)]
pub struct LegendEntry {
    /// The text.
    pub label: String,
    /// The swatch's colour.
    pub colour: Rgba,
}

/// A table whose cells are coloured by how far a value sits from everyone's.
#[derive(Clone, Debug, PartialEq)]
pub struct HeatTable {
    /// Column headers (after the row label column).
    pub columns: Vec<String>,
    /// The rows.
    pub rows: Vec<HeatRow>,
}

/// One row of a [`HeatTable`].
#[derive(Clone, Debug, PartialEq)]
pub struct HeatRow {
    /// The row's label (a segment's name).
    pub label: String,
    /// The row's colour swatch, if any.
    pub colour: Option<Rgba>,
    /// Per column: the text and a heat from -1 (far below) to 1 (far above).
    pub cells: Vec<(String, f64)>,
}

/// What a chart draws.
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    /// Marks in a plot with two axes.
    Plot {
        /// The horizontal axis.
        x: Axis,
        /// The vertical axis.
        y: Axis,
        /// What is drawn, first underneath.
        marks: Vec<Mark>,
        /// Whether one unit is as long on both axes (a projection).
        equal_aspect: bool,
    },
    /// A heat-coloured table.
    Table(HeatTable),
    /// Two stacks of blocks joined by bands: who goes where.
    Flows(Flows),
}

/// A chart, ready to draw.
#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    /// The stable name (`elbow`, `projection`, ...).
    pub name: &'static str,
    /// The title.
    pub title: String,
    /// One line under the title: how to read it.
    pub subtitle: String,
    /// The legend (empty: none).
    pub legend: Vec<LegendEntry>,
    /// What is drawn.
    pub body: Body,
    /// A note under the chart (a sentence or two; may be empty).
    pub note: String,
}

/// A chart's name and what it shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChartInfo {
    /// The name `--chart` takes.
    pub name: &'static str,
    /// What it shows, in a few words.
    pub about: &'static str,
}

/// Every chart, in the order the report shows them.
pub const CHARTS: [ChartInfo; 12] = [
    ChartInfo { name: "elbow", about: "inertia per k, with the knee" },
    ChartInfo { name: "silhouette", about: "mean silhouette per k" },
    ChartInfo { name: "calinski-harabasz", about: "Calinski-Harabasz index per k" },
    ChartInfo { name: "davies-bouldin", about: "Davies-Bouldin index per k" },
    ChartInfo { name: "bic-aic", about: "BIC and AIC per k (mixtures)" },
    ChartInfo { name: "segment-sizes", about: "customers per segment" },
    ChartInfo { name: "projection", about: "customers on the first two principal components" },
    ChartInfo { name: "silhouettes", about: "every member's silhouette, best to worst within each segment" },
    ChartInfo { name: "profile-heat", about: "each segment's mean per feature, coloured by distance" },
    ChartInfo { name: "alluvial", about: "who goes where between two segmentations of the same customers" },
    ChartInfo { name: "sizes-over-time", about: "customers per segment in each time window" },
    ChartInfo { name: "moves-over-time", about: "who moved where between two time windows" },
];

/// Every chart's name, in order.
pub fn chart_names() -> Vec<&'static str> {
    CHARTS.iter().map(|c| c.name).collect()
}

/// Why a chart could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ChartError {
    /// No chart has that name.
    #[error("unknown chart '{name}' (one of: {})", chart_names().join(", "))]
    Unknown {
        /// The name asked for.
        name: String,
    },
    /// The chart exists but this result has nothing for it.
    #[error("the {name} chart is not available for this project: {reason}")]
    NotAvailable {
        /// The chart.
        name: &'static str,
        /// Why (one sentence).
        reason: String,
    },
    /// The picture could not be drawn at the size asked.
    #[error("could not draw the chart: {0}")]
    Draw(String),
}

/// What the charts are built from: a run's result and what the screens compute from it, with the
/// segments' names and colours as the project gives them.
pub struct ChartInputs<'a> {
    /// The run.
    pub result: &'a PipelineResult,
    /// Its summary (profiles, projection), when computed.
    pub summary: Option<&'a ResultSummary>,
    /// Every segment's name, in segment order (`result.n_segments()` of them).
    pub names: &'a [String],
    /// The segments' colours.
    pub colours: &'a SegmentColours,
    /// Segments over time, with the names and colours of its aligned segments, when computed.
    pub over_time: Option<(&'a OverTime, &'a [String], &'a SegmentColours)>,
    /// Which pair of consecutive windows `moves-over-time` shows (`None`: the last).
    pub transition: Option<usize>,
    /// Two segmentations of the same customers cross-tabulated, for `alluvial`.
    pub comparison: Option<&'a Crossing>,
    /// The small-cell threshold counts are shown with (the project's).
    pub small_cells: usize,
}

impl ChartInputs<'_> {
    fn name_of(&self, segment: usize) -> String {
        self.names.get(segment).cloned().unwrap_or_else(|| self.result.default_segment_name(segment))
    }
}

/// The chart called `name`, built from `inputs`.
pub fn build(name: &str, inputs: &ChartInputs) -> Result<Chart, ChartError> {
    let sweep = || {
        inputs.result.sweep.as_ref().ok_or_else(|| ChartError::NotAvailable {
            name: CHARTS.iter().find(|c| c.name == name).map_or("k-choice", |c| c.name),
            reason: "the run tried one k only (give the model a k range)".into(),
        })
    };
    let k = inputs.result.fit.k();
    match name {
        "elbow" => Ok(index_chart(sweep()?, Index::Elbow, Some(k))),
        "silhouette" => Ok(index_chart(sweep()?, Index::Silhouette, Some(k))),
        "calinski-harabasz" => Ok(index_chart(sweep()?, Index::CalinskiHarabasz, Some(k))),
        "davies-bouldin" => Ok(index_chart(sweep()?, Index::DaviesBouldin, Some(k))),
        "bic-aic" => information_chart(sweep()?, Some(k)),
        "segment-sizes" => Ok(sizes_chart(inputs)),
        "projection" => projection_chart(inputs),
        "silhouettes" => silhouettes_chart(inputs),
        "profile-heat" => profile_chart(inputs),
        "alluvial" => flows::alluvial_chart(inputs.comparison.ok_or(ChartError::NotAvailable {
            name: "alluvial",
            reason: "there is no second segmentation of the same customers to compare with".into(),
        })?),
        "sizes-over-time" => over_time_chart(inputs),
        "moves-over-time" => {
            let (over_time, names, colours) = inputs
                .over_time
                .ok_or(ChartError::NotAvailable { name: "moves-over-time", reason: NO_OVER_TIME.into() })?;
            flows::moves_chart(over_time, names, colours, inputs.transition, inputs.small_cells)
        }
        _ => Err(ChartError::Unknown { name: name.to_string() }),
    }
}

/// The charts `inputs` can make, in [`CHARTS`] order (the report's figures).
pub fn available(inputs: &ChartInputs) -> Vec<Chart> {
    CHARTS.iter().filter_map(|c| build(c.name, inputs).ok()).collect()
}

/// The k-choice indices drawn one per chart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Index {
    /// Inertia (the elbow).
    Elbow,
    /// Mean silhouette.
    Silhouette,
    /// Calinski-Harabasz.
    CalinskiHarabasz,
    /// Davies-Bouldin.
    DaviesBouldin,
}

impl Index {
    fn describe(self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            Index::Elbow => ("elbow", "Elbow (inertia)", "Inertia", "lower is tighter; look for the bend"),
            Index::Silhouette => ("silhouette", "Silhouette", "Mean silhouette", "higher is better (-1 to 1)"),
            Index::CalinskiHarabasz => {
                ("calinski-harabasz", "Calinski-Harabasz", "Calinski-Harabasz", "higher is better")
            }
            Index::DaviesBouldin => ("davies-bouldin", "Davies-Bouldin", "Davies-Bouldin", "lower is better"),
        }
    }

    /// This index's value in one run of the sweep.
    pub fn value(self, run: &SweepRun) -> Option<f64> {
        match self {
            Index::Elbow => Some(run.inertia),
            Index::Silhouette => run.silhouette,
            Index::CalinskiHarabasz => run.calinski_harabasz,
            Index::DaviesBouldin => run.davies_bouldin,
        }
    }
}

fn k_axis(sweep: &SweepResult) -> Axis {
    let ks = sweep.runs.iter().map(|r| r.k as f64);
    let (lo, hi) = ks.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), k| (lo.min(k), hi.max(k)));
    let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (1.0, 2.0) };
    Axis { title: "k".into(), range: (lo - 0.5, hi + 0.5), ticks: AxisTicks::Numeric(Ticks::Integers) }
}

fn chosen_line(k: Option<usize>, marks: &mut Vec<Mark>, legend: &mut Vec<LegendEntry>) {
    if let Some(k) = k {
        let label = format!("chosen k = {k}");
        marks.push(Mark::VLine { label: label.clone(), x: k as f64, colour: CHOSEN, stroke: Stroke::Solid });
        legend.push(LegendEntry { label, colour: CHOSEN });
    }
}

/// One index per k, with the knee on the elbow and the chosen k.
pub fn index_chart(sweep: &SweepResult, index: Index, chosen_k: Option<usize>) -> Chart {
    let (name, title, axis_title, hint) = index.describe();
    let points: Vec<[f64; 2]> = sweep.runs.iter().filter_map(|r| index.value(r).map(|v| [r.k as f64, v])).collect();
    let colour = palette::slot_colour(0);
    let mut marks = Vec::new();
    let mut legend = vec![LegendEntry { label: axis_title.to_string(), colour }];
    if index == Index::Elbow
        && let Some(knee) = sweep.knee_k.and_then(|k| sweep.runs.iter().find(|r| r.k == k))
    {
        let label = format!("knee at k = {}", knee.k);
        marks.push(Mark::VLine {
            label: label.clone(),
            x: knee.k as f64,
            colour: REFERENCE_GREY,
            stroke: Stroke::Dashed,
        });
        marks.push(Mark::Points {
            label: label.clone(),
            points: vec![[knee.k as f64, knee.inertia]],
            colour: REFERENCE_GREY,
            radius: 8.0,
            filled: false,
        });
        legend.push(LegendEntry { label, colour: REFERENCE_GREY });
    }
    chosen_line(chosen_k, &mut marks, &mut legend);
    let y = Axis::numeric(axis_title, points.iter().map(|p| p[1]), Ticks::Numbers);
    marks.push(Mark::Line { label: axis_title.to_string(), points, colour, stroke: Stroke::Solid, dots: true });
    let sampled = sweep.runs.iter().filter_map(|r| r.silhouette_detail.as_ref()).find(|d| !d.exact);
    let note = match (index, sampled) {
        (Index::Silhouette, Some(d)) => format!(
            "Silhouettes of a seeded sample of {} customers per k (of {}). {}",
            crate::engine::words::thousands(d.sample_size),
            crate::engine::words::thousands(sweep.n_rows),
            sweep.reason
        ),
        _ => sweep.reason.clone(),
    };
    Chart {
        name,
        title: title.to_string(),
        subtitle: hint.to_string(),
        legend,
        body: Body::Plot { x: k_axis(sweep), y, marks, equal_aspect: false },
        note,
    }
}

/// BIC and AIC per k, for mixtures.
pub fn information_chart(sweep: &SweepResult, chosen_k: Option<usize>) -> Result<Chart, ChartError> {
    let bic: Vec<[f64; 2]> = sweep.runs.iter().filter_map(|r| r.bic.map(|v| [r.k as f64, v])).collect();
    let aic: Vec<[f64; 2]> = sweep.runs.iter().filter_map(|r| r.aic.map(|v| [r.k as f64, v])).collect();
    if bic.is_empty() && aic.is_empty() {
        return Err(ChartError::NotAvailable {
            name: "bic-aic",
            reason: "BIC and AIC are computed for Gaussian mixtures only".into(),
        });
    }
    let y = Axis::numeric("BIC, AIC", bic.iter().chain(&aic).map(|p| p[1]), Ticks::Numbers);
    let (bic_colour, aic_colour) = (palette::slot_colour(0), palette::slot_colour(1));
    let mut legend = vec![
        LegendEntry { label: "BIC".into(), colour: bic_colour },
        LegendEntry { label: "AIC".into(), colour: aic_colour },
    ];
    let mut marks = Vec::new();
    chosen_line(chosen_k, &mut marks, &mut legend);
    marks.push(Mark::Line { label: "BIC".into(), points: bic, colour: bic_colour, stroke: Stroke::Solid, dots: true });
    marks.push(Mark::Line { label: "AIC".into(), points: aic, colour: aic_colour, stroke: Stroke::Solid, dots: true });
    Ok(Chart {
        name: "bic-aic",
        title: "BIC and AIC".into(),
        subtitle: "lower is better: the fit penalised by the number of parameters (BIC also by the customers)".into(),
        legend,
        body: Body::Plot { x: k_axis(sweep), y, marks, equal_aspect: false },
        note: sweep.reason.clone(),
    })
}

/// Customers per segment (every segment with customers: the model's, the fallback, the rules').
pub fn segment_sizes(result: &PipelineResult) -> Vec<usize> {
    let mut sizes = vec![0usize; result.n_segments()];
    for s in result.segment_per_customer.iter().flatten() {
        if let Some(n) = sizes.get_mut(*s) {
            *n += 1;
        }
    }
    sizes
}

fn sizes_chart(inputs: &ChartInputs) -> Chart {
    let sizes = segment_sizes(inputs.result);
    let suppressed = Sizes::new(&sizes, inputs.small_cells);
    let shown: Vec<usize> = (0..sizes.len()).filter(|&s| s < inputs.result.fit.k() || sizes[s] > 0).collect();
    let n = shown.len();
    // The first segment at the top.
    let labels: Vec<String> = shown.iter().rev().map(|&s| inputs.name_of(s)).collect();
    let bars = shown
        .iter()
        .enumerate()
        .map(|(i, &s)| {
            // A hidden size has no bar: its length would tell the count.
            let (text, value) = match suppressed.share(s) {
                Some(share) => (format!("{} ({:.1}%)", suppressed.words(s), share * 100.0), sizes[s] as f64),
                None if suppressed.cell(s).is_shown() => (suppressed.words(s), sizes[s] as f64),
                None => (suppressed.words(s), 0.0),
            };
            Bar { at: (n - 1 - i) as f64, value, colour: inputs.colours.of(s), text }
        })
        .collect::<Vec<_>>();
    let x = Axis::from_zero("Customers", bars.iter().map(|b| b.value * 1.15));
    let unassigned = inputs.result.n_without_segment();
    let mut note = format!("{} customers in segments.", suppressed.total_words());
    if unassigned > 0 {
        note.push_str(&format!(
            " {} without a segment.",
            crate::engine::governance::suppress::count_words(unassigned, inputs.small_cells)
        ));
    }
    if !suppressed.all_shown() {
        note.push_str(&format!(
            " Sizes under {} are shown as \"<{}\", with a size beside them hidden, and drawn without a bar.",
            inputs.small_cells, inputs.small_cells
        ));
    }
    Chart {
        name: "segment-sizes",
        title: "Segment sizes".into(),
        subtitle: "customers per segment and their share".into(),
        legend: Vec::new(),
        body: Body::Plot {
            x,
            y: Axis::categories("", labels),
            marks: vec![Mark::Bars { bars, horizontal: true, thickness: 0.7 }],
            equal_aspect: false,
        },
        note,
    }
}

/// The density of all customers as an image, each cell in the colour of its commonest segment and
/// more opaque where there are more customers (as the window draws it).
pub fn density_image(scatter: &ScatterView, colours: &SegmentColours) -> Image {
    let d = &scatter.density;
    let max = d.counts.iter().copied().max().unwrap_or(0).max(1) as f32;
    let pixels = d
        .counts
        .iter()
        .zip(&d.dominant)
        .map(|(&count, &segment)| {
            if count == 0 {
                return Rgba([0, 0, 0, 0]);
            }
            let [r, g, b, _] = colours.of(segment as usize).0;
            let alpha = 0.15 + 0.75 * ((1.0 + count as f32).ln() / (1.0 + max).ln());
            Rgba([r, g, b, (alpha * 255.0) as u8])
        })
        .collect();
    Image { width: d.width, height: d.height, pixels, x_range: d.x_range, y_range: d.y_range }
}

fn projection_chart(inputs: &ChartInputs) -> Result<Chart, ChartError> {
    let not = |reason: &str| ChartError::NotAvailable { name: "projection", reason: reason.to_string() };
    let summary = inputs.summary.ok_or_else(|| not("the segments' summary was not computed"))?;
    let scatter = summary.scatter.as_ref().ok_or_else(|| not("too few customers or features to project"))?;
    let image = density_image(scatter, inputs.colours);
    let d = &scatter.density;
    let mut marks = vec![Mark::Image(image)];
    let k = inputs.result.fit.k().max(1);
    let mut per_segment: Vec<Vec<[f64; 2]>> = vec![Vec::new(); k];
    for &(x, y, s) in &scatter.points {
        if let Some(v) = per_segment.get_mut(s as usize) {
            v.push([x as f64, y as f64]);
        }
    }
    let mut legend = Vec::new();
    for (s, points) in per_segment.into_iter().enumerate() {
        let colour = inputs.colours.of(s);
        legend.push(LegendEntry { label: inputs.name_of(s), colour });
        marks.push(Mark::Points { label: inputs.name_of(s), points, colour, radius: 1.5, filled: true });
    }
    let sampled = scatter.points.len() < scatter.n_rows;
    let note = if sampled {
        format!(
            "Shading: all {} customers (density, coloured by the commonest segment); dots: {} sampled customers.",
            crate::engine::words::thousands(scatter.n_rows),
            crate::engine::words::thousands(scatter.points.len())
        )
    } else {
        format!("All {} customers, with their density shaded.", crate::engine::words::thousands(scatter.n_rows))
    };
    Ok(Chart {
        name: "projection",
        title: "Projection on the first two principal components".into(),
        subtitle: format!(
            "PC1 explains {:.0}% and PC2 {:.0}% of the variance the model saw",
            scatter.explained[0] * 100.0,
            scatter.explained[1] * 100.0
        ),
        legend,
        body: Body::Plot {
            x: Axis { title: "PC1".into(), range: d.x_range, ticks: AxisTicks::Numeric(Ticks::Numbers) },
            y: Axis { title: "PC2".into(), range: d.y_range, ticks: AxisTicks::Numeric(Ticks::Numbers) },
            marks,
            equal_aspect: true,
        },
        note,
    })
}

/// A value as the tables show it: thousands separated, three significant digits below 1,000.
pub fn format_value(v: f64) -> String {
    if !v.is_finite() {
        return "-".to_string();
    }
    let a = v.abs();
    if a == 0.0 {
        "0".to_string()
    } else if !(1e-4..1e15).contains(&a) {
        format!("{v:.2e}")
    } else if a >= 999.5 {
        let digits = crate::engine::words::thousands(a.round() as usize);
        if v < 0.0 { format!("-{digits}") } else { digits }
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else {
        let decimals = (2 - a.log10().floor() as i32).max(0) as usize;
        format!("{v:.decimals$}")
    }
}

fn profile_chart(inputs: &ChartInputs) -> Result<Chart, ChartError> {
    let summary = inputs.summary.ok_or(ChartError::NotAvailable {
        name: "profile-heat",
        reason: "the segments' summary was not computed".into(),
    })?;
    if summary.columns.is_empty() {
        return Err(ChartError::NotAvailable { name: "profile-heat", reason: "no numeric feature to profile".into() });
    }
    let mut columns = vec!["Customers".to_string(), "Share".to_string()];
    columns.extend(summary.columns.iter().cloned());
    let sizes = summary.sizes_shown(inputs.small_cells);
    let mut rows: Vec<HeatRow> = summary
        .profiles
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let share = sizes.share(i).map_or_else(|| "-".to_string(), |s| format!("{:.1}%", s * 100.0));
            let mut cells = vec![(sizes.words(i), 0.0), (share, 0.0)];
            for (j, mean) in p.means.iter().enumerate() {
                // A mean over fewer customers than the threshold is not shown.
                if sizes.is_small(i) {
                    cells.push(("-".to_string(), 0.0));
                    continue;
                }
                let d = summary.distance_sd.get(p.segment).and_then(|v| v.get(j)).copied().unwrap_or(0.0);
                cells.push((format_value(*mean), (d / 2.0).clamp(-1.0, 1.0)));
            }
            HeatRow { label: inputs.name_of(p.segment), colour: Some(inputs.colours.of(p.segment)), cells }
        })
        .collect();
    let mut cells = vec![(sizes.total_words(), 0.0), ("100%".to_string(), 0.0)];
    cells.extend(summary.population_means.iter().map(|m| (format_value(*m), 0.0)));
    rows.push(HeatRow { label: "Everyone".into(), colour: None, cells });
    Ok(Chart {
        name: "profile-heat",
        title: "Segment profiles".into(),
        subtitle: "mean per feature in original units; red above everyone's mean, blue below (2 SD = full colour)"
            .into(),
        legend: Vec::new(),
        body: Body::Table(HeatTable { columns, rows }),
        note: String::new(),
    })
}

const NO_OVER_TIME: &str = "the project has no Over time settings (a transaction log followed over windows)";

fn over_time_chart(inputs: &ChartInputs) -> Result<Chart, ChartError> {
    let (over_time, names, colours) =
        inputs.over_time.ok_or(ChartError::NotAvailable { name: "sizes-over-time", reason: NO_OVER_TIME.into() })?;
    let windows = &over_time.windows;
    if windows.is_empty() {
        return Err(ChartError::NotAvailable { name: "sizes-over-time", reason: "no window was segmented".into() });
    }
    let labels: Vec<String> = windows.iter().map(|w| w.end.format("%Y-%m-%d").to_string()).collect();
    let n_segments = windows.iter().map(|w| w.sizes.len()).max().unwrap_or(0);
    let mut marks = Vec::new();
    let mut legend = Vec::new();
    let mut all = Vec::new();
    let shown: Vec<Sizes> = windows.iter().map(|w| w.sizes_shown(inputs.small_cells)).collect();
    let mut hidden = false;
    for s in 0..n_segments {
        let label = names.get(s).cloned().unwrap_or_else(|| format!("Segment {}", s + 1));
        let colour = colours.of(s);
        legend.push(LegendEntry { label: label.clone(), colour });
        // A size not shown is no point: the line breaks there (its height would tell the count).
        let mut run: Vec<[f64; 2]> = Vec::new();
        for (i, sizes) in shown.iter().enumerate() {
            match sizes.cell(s).count() {
                Some(n) => {
                    run.push([i as f64, n as f64]);
                    all.push(n as f64);
                }
                None => {
                    hidden = true;
                    if !run.is_empty() {
                        let points = std::mem::take(&mut run);
                        marks.push(Mark::Line {
                            label: label.clone(),
                            points,
                            colour,
                            stroke: Stroke::Solid,
                            dots: true,
                        });
                    }
                }
            }
        }
        if !run.is_empty() {
            marks.push(Mark::Line { label, points: run, colour, stroke: Stroke::Solid, dots: true });
        }
    }
    let mut note = over_time.warnings.first().cloned().unwrap_or_default();
    if hidden {
        if !note.is_empty() {
            note.push(' ');
        }
        note.push_str(&format!(
            "Sizes under {} customers, and sizes beside them that would give them away, are left out of the lines.",
            inputs.small_cells
        ));
    }
    let mut x = Axis::categories("Window ending", labels);
    x.range = (-0.3, windows.len() as f64 - 0.7);
    Ok(Chart {
        name: "sizes-over-time",
        title: "Segment sizes over time".into(),
        subtitle: "customers per segment in each window, oldest first".into(),
        legend,
        body: Body::Plot { x, y: Axis::from_zero("Customers", all), marks, equal_aspect: false },
        note,
    })
}

#[cfg(test)]
mod tests;
