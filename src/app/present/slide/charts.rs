//! The charts on a slide: the k-choice indices, one chart large, the projection.

use eframe::egui::{self, Align, Color32, Layout, Rect, RichText, Ui, UiBuilder, vec2};
use egui_plot::{Line, LineStyle, MarkerShape, Plot, PlotPoints, Points, VLine};

use super::segments::share_bars_ui;
use super::{CHARTS, Canvas, INK, SlideData, WEAK, note_ui};
use crate::engine::swot::SegmentRef;
use crate::engine::swot::evidence::percent;

/// The index charts of the sweep with `k` marked; `only` draws one of them, large.
pub(super) fn k_choice_ui(
    ui: &mut Ui,
    canvas: &Canvas,
    data: &SlideData,
    k: Option<usize>,
    body: Rect,
    salt: &str,
    only: Option<&str>,
) {
    type Value = fn(&crate::engine::cluster::sweep::SweepRun) -> Option<f64>;
    let indices: [(&str, &str, Value); 6] = [
        ("elbow", "Elbow (inertia): lower is tighter", |r| Some(r.inertia)),
        ("silhouette", "Silhouette: higher is better", |r| r.silhouette),
        ("calinski-harabasz", "Calinski-Harabasz: higher is better", |r| r.calinski_harabasz),
        ("davies-bouldin", "Davies-Bouldin: lower is better", |r| r.davies_bouldin),
        ("bic", "BIC: lower is better", |r| r.bic),
        ("aic", "AIC: lower is better", |r| r.aic),
    ];
    let Some(sweep) = data.output.as_ref().and_then(|o| o.result.sweep.as_ref()) else {
        return note_ui(
            ui,
            canvas,
            "No range of k was compared: tick \"Compare a range of k\" on the Model screen and run.",
        );
    };
    let shown: Vec<_> = indices
        .iter()
        .filter(|(name, _, value)| only.is_none_or(|o| o == *name) && sweep.runs.iter().any(|r| value(r).is_some()))
        .collect();
    if shown.is_empty() {
        return note_ui(ui, canvas, "This chart has no values for this method.");
    }
    let mut line = String::new();
    if let Some(k) = k {
        line.push_str(&format!("k = {k} marked. "));
    }
    if let Some(suggested) = sweep.suggested_k {
        line.push_str(&format!("Suggested k = {suggested}: {}", sweep.reason));
    }
    let note = ui.add(egui::Label::new(RichText::new(line).size(canvas.font(15.0)).color(WEAK)).wrap());
    let top = note.rect.bottom() + canvas.px(10.0);
    let cols = if shown.len() <= 1 {
        1
    } else if shown.len() <= 4 {
        2
    } else {
        3
    };
    let rows = shown.len().div_ceil(cols);
    let gap = canvas.px(24.0);
    let width = (body.width() - gap * (cols as f32 - 1.0)) / cols as f32;
    let height = (body.bottom() - top - gap * (rows as f32 - 1.0)) / rows as f32;
    let mark = egui::Color32::from_rgb(200, 60, 40);
    for (i, (name, title, value)) in shown.iter().enumerate() {
        let (row, col) = (i / cols, i % cols);
        let rect = Rect::from_min_size(
            egui::pos2(body.left() + col as f32 * (width + gap), top + row as f32 * (height + gap)),
            vec2(width, height),
        );
        ui.scope_builder(UiBuilder::new().max_rect(rect).layout(Layout::top_down(Align::Min)), |ui| {
            ui.label(RichText::new(*title).size(canvas.font(16.0)).strong());
            let points: Vec<[f64; 2]> = sweep.runs.iter().filter_map(|r| value(r).map(|v| [r.k as f64, v])).collect();
            let plot = crate::app::ticks::readable(
                Plot::new(("slide-plot", salt, *name)),
                crate::app::ticks::Ticks::Integers,
                crate::app::ticks::Ticks::Numbers,
            )
            .width(ui.available_width())
            .height(ui.available_height().max(canvas.px(60.0)))
            .allow_scroll(false)
            .allow_zoom(false)
            .allow_drag(false)
            .allow_boxed_zoom(false)
            .show_crosshair(false)
            .x_axis_label("k");
            plot.show(ui, |plot| {
                let width = canvas.px(3.0);
                plot.line(Line::new(*title, PlotPoints::from(points.clone())).color(INK).width(width));
                plot.points(Points::new(*title, PlotPoints::from(points.clone())).color(INK).radius(canvas.px(5.0)));
                if *name == "elbow"
                    && let Some(knee) = sweep.knee_k.and_then(|k| sweep.runs.iter().find(|r| r.k == k))
                {
                    plot.vline(VLine::new("knee", knee.k as f64).style(LineStyle::dashed_loose()).color(Color32::GRAY));
                }
                if let Some(k) = k {
                    plot.vline(VLine::new("k", k as f64).color(mark).width(canvas.px(3.0)));
                    if let Some(v) = sweep.runs.iter().find(|r| r.k == k).and_then(value) {
                        plot.points(
                            Points::new("k", PlotPoints::from(vec![[k as f64, v]]))
                                .shape(MarkerShape::Circle)
                                .color(mark)
                                .radius(canvas.px(9.0)),
                        );
                    }
                }
            });
        });
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) fn chart_ui(
    ui: &mut Ui,
    canvas: &Canvas,
    data: &SlideData,
    chart: &str,
    highlight: Option<&SegmentRef>,
    body: Rect,
    salt: &str,
) {
    let highlighted = highlight.and_then(SegmentRef::segment);
    match chart {
        "elbow" | "silhouette" | "calinski-harabasz" | "davies-bouldin" => {
            k_choice_ui(ui, canvas, data, data.k, body, salt, Some(chart))
        }
        "segment-sizes" => match &data.evidence {
            Some(evidence) => share_bars_ui(ui, canvas, data, evidence, highlighted, body),
            None => note_ui(ui, canvas, "Run the project to show its segments."),
        },
        "projection" => projection_ui(ui, canvas, data, highlighted, salt),
        other => {
            let names: Vec<&str> = CHARTS.iter().map(|(n, _)| *n).collect();
            note_ui(ui, canvas, &format!("There is no chart \"{other}\"; the charts are {}.", names.join(", ")))
        }
    }
}

fn projection_ui(ui: &mut Ui, canvas: &Canvas, data: &SlideData, highlight: Option<usize>, salt: &str) {
    let Some(scatter) = data.output.as_ref().and_then(|o| o.summary.scatter.as_ref()) else {
        return note_ui(ui, canvas, "This result has no projection.");
    };
    ui.label(
        RichText::new(format!(
            "The customers on the first two principal components ({} and {} of the variance; {} of {} customers drawn)",
            percent(scatter.explained[0]),
            percent(scatter.explained[1]),
            crate::app::widgets::format_count(scatter.points.len()),
            crate::app::widgets::format_count(scatter.n_rows)
        ))
        .size(canvas.font(14.0))
        .color(WEAK),
    );
    let n = data.names.len().max(1);
    let mut per: Vec<Vec<[f64; 2]>> = vec![Vec::new(); n];
    for &(x, y, s) in &scatter.points {
        if let Some(points) = per.get_mut(s as usize) {
            points.push([x as f64, y as f64]);
        }
    }
    Plot::new(("slide-projection", salt))
        .width(ui.available_width())
        .height(ui.available_height())
        .data_aspect(1.0)
        .allow_scroll(false)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_boxed_zoom(false)
        .show_crosshair(false)
        .legend(egui_plot::Legend::default().text_style(egui::TextStyle::Body))
        .show(ui, |plot| {
            for (s, points) in per.into_iter().enumerate() {
                let colour = data.colours.of(s);
                let colour = if highlight.is_some_and(|h| h != s) { colour.gamma_multiply(0.15) } else { colour };
                let name = data.names.get(s).cloned().unwrap_or_default();
                plot.points(Points::new(name, PlotPoints::from(points)).color(colour).radius(canvas.px(2.5)));
            }
        });
}
