//! One slide on the 16:9 canvas: the caption at the top, the step's view below it from the live
//! project, the slide number in a corner. Every size is given in design points of a 1600 x 900
//! canvas and scaled to the canvas on the screen, so a slide looks the same on any projector; text
//! sizes are also multiplied by the presentation's text scale.

use std::sync::Arc;

use eframe::egui::{self, Align, Align2, Color32, FontId, Layout, Rect, RichText, Sense, Ui, UiBuilder, Vec2, vec2};
use egui_plot::{Line, LineStyle, MarkerShape, Plot, PlotPoints, Points, VLine};

use super::PresentCommand;
use crate::app::widgets::SegmentColours;
use crate::app::{Command, RunOutput};
use crate::engine::presentation::{Presentation, Step, View};
use crate::engine::project::SegmentNote;
use crate::engine::swot::evidence::{BoardEvidence, percent};
use crate::engine::swot::{Board, Quadrant, SegmentRef, Subject, TowsCell, count_text};

/// The canvas's design size in points: every slide is laid out on it.
pub const DESIGN: Vec2 = vec2(1600.0, 900.0);

/// The charts a step can show by name.
pub const CHARTS: [(&str, &str); 6] = [
    ("elbow", "Elbow (inertia)"),
    ("silhouette", "Silhouette"),
    ("calinski-harabasz", "Calinski-Harabasz"),
    ("davies-bouldin", "Davies-Bouldin"),
    ("segment-sizes", "Segment sizes"),
    ("projection", "Projection (PCA)"),
];

const INK: Color32 = Color32::from_gray(25);
const WEAK: Color32 = Color32::from_gray(95);
const PAPER: Color32 = Color32::WHITE;

/// Where the slide is on the screen and how it is scaled.
#[derive(Clone, Copy, Debug)]
pub struct Canvas {
    /// The slide's rectangle on the screen.
    pub rect: Rect,
    /// Screen points per design point.
    pub s: f32,
    /// The presentation's text scale.
    pub ts: f32,
}

impl Canvas {
    /// The largest 16:9 canvas inside `outer`, centred (the rest is letterbox).
    pub fn fit(outer: Rect, ts: f32) -> Self {
        let s = (outer.width() / DESIGN.x).min(outer.height() / DESIGN.y).max(0.01);
        Canvas { rect: Rect::from_center_size(outer.center(), DESIGN * s), s, ts }
    }

    /// A rectangle given in design points from the canvas's corner.
    fn at(&self, x: f32, y: f32, w: f32, h: f32) -> Rect {
        Rect::from_min_size(self.rect.min + vec2(x, y) * self.s, vec2(w, h) * self.s)
    }

    /// A text size: design points at text scale 1.
    fn font(&self, design: f32) -> f32 {
        design * self.s * self.ts
    }

    fn px(&self, design: f32) -> f32 {
        design * self.s
    }
}

/// What the slides draw, read from the project and the latest run once per frame.
pub struct SlideData {
    /// The latest run, if any.
    pub output: Option<Arc<RunOutput>>,
    /// Every segment's name.
    pub names: Vec<String>,
    /// Every segment's colour.
    pub colours: SegmentColours,
    /// The live evidence per segment.
    pub evidence: Option<Arc<BoardEvidence>>,
    /// The SWOT board.
    pub board: Option<Board>,
    /// The segments' names and notes.
    pub notes: Vec<SegmentNote>,
    /// The project's title.
    pub title: String,
    /// The k the project uses.
    pub k: Option<usize>,
}

/// Live edits on a slide (presentation mode only): what was asked, and the texts being typed.
pub struct Live<'a> {
    /// Commands to push.
    pub commands: Vec<Command>,
    /// A segment being renamed, with the name as typed.
    pub rename: &'a mut Option<(usize, String)>,
    /// The caption as typed.
    pub caption: &'a mut Option<String>,
}

/// Draws step `index` of `presentation` on `canvas`; `salt` keeps the plots of two canvases apart.
pub fn slide_ui(
    ui: &mut Ui,
    canvas: &Canvas,
    data: &SlideData,
    presentation: &Presentation,
    index: usize,
    salt: &str,
    mut live: Option<&mut Live<'_>>,
) {
    let Some(step) = presentation.steps.get(index) else { return };
    ui.scope_builder(UiBuilder::new().max_rect(canvas.rect).layout(Layout::top_down(Align::Min)), |ui| {
        ui.set_clip_rect(canvas.rect.intersect(ui.clip_rect()));
        *ui.visuals_mut() = egui::Visuals::light();
        style_for(ui, canvas);
        ui.painter().rect_filled(canvas.rect, 0.0, PAPER);
        let body_bottom = canvas.rect.bottom() - canvas.px(56.0);
        if step.view == View::Title {
            title_ui(ui, canvas, data, step, live.as_deref_mut(), index);
        } else {
            let caption_rect = canvas.at(60.0, 34.0, 1480.0, 200.0);
            let caption = ui
                .scope_builder(UiBuilder::new().max_rect(caption_rect), |ui| {
                    caption_label_ui(ui, step, canvas.font(32.0), live.as_deref_mut(), index)
                })
                .inner;
            let top = caption.rect.bottom() + canvas.px(24.0);
            let body = Rect::from_min_max(
                egui::pos2(canvas.at(60.0, 0.0, 0.0, 0.0).left(), top),
                egui::pos2(canvas.at(1540.0, 0.0, 0.0, 0.0).left(), body_bottom),
            );
            if body.height() > canvas.px(40.0) {
                ui.scope_builder(UiBuilder::new().max_rect(body).layout(Layout::top_down(Align::Min)), |ui| {
                    ui.set_clip_rect(body.intersect(ui.clip_rect()));
                    view_ui(ui, canvas, data, &step.view, body, &format!("{salt}-{index}"), live);
                });
            }
        }
        // The slide number, small, in the corner.
        let number = format!("{} / {}", index + 1, presentation.steps.len());
        let corner = canvas.at(1340.0, 850.0, 220.0, 40.0);
        ui.put(corner, egui::Label::new(RichText::new(number).size(canvas.font(13.0)).color(WEAK)));
    });
}

/// Text styles in screen points for this canvas (plots and labels read them).
fn style_for(ui: &mut Ui, canvas: &Canvas) {
    use egui::TextStyle;
    let style = ui.style_mut();
    for (text_style, size) in [
        (TextStyle::Small, 12.0),
        (TextStyle::Body, 16.0),
        (TextStyle::Button, 16.0),
        (TextStyle::Monospace, 14.0),
        (TextStyle::Heading, 26.0),
    ] {
        let family = if text_style == TextStyle::Monospace {
            egui::FontFamily::Monospace
        } else {
            egui::FontFamily::Proportional
        };
        style.text_styles.insert(text_style, FontId::new(canvas.font(size), family));
    }
    style.spacing.item_spacing = vec2(canvas.px(10.0), canvas.px(6.0));
    style.visuals.override_text_color = Some(INK);
    style.interaction.selectable_labels = false;
}

/// The caption; on a live slide a right click edits it.
fn caption_label_ui(ui: &mut Ui, step: &Step, size: f32, live: Option<&mut Live<'_>>, index: usize) -> egui::Response {
    let text = if step.caption.trim().is_empty() { "(no caption)" } else { step.caption.as_str() };
    let label = egui::Label::new(RichText::new(text).size(size).strong().color(INK)).wrap();
    let Some(live) = live else { return ui.add(label) };
    let response = ui.add(label.sense(Sense::click())).on_hover_text("Right-click to edit the caption");
    let menu = response.context_menu(|ui| {
        let buffer = live.caption.get_or_insert_with(|| step.caption.clone());
        let name = ui.label("Caption");
        let edit = ui.add(egui::TextEdit::singleline(buffer).desired_width(420.0)).labelled_by(name.id);
        let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if ui.button("Apply").clicked() || enter {
            live.commands.push(caption_command(index, buffer.clone()));
            *live.caption = None;
            ui.close();
        }
    });
    if menu.is_none() {
        *live.caption = None;
    }
    response
}

/// The edit that sets step `index`'s caption (built by the mode, which has the presentation).
fn caption_command(index: usize, caption: String) -> Command {
    Command::Presenting(PresentCommand::SetCaption { index, caption })
}

fn title_ui(ui: &mut Ui, canvas: &Canvas, data: &SlideData, step: &Step, live: Option<&mut Live<'_>>, index: usize) {
    let area = canvas.at(120.0, 200.0, 1360.0, 520.0);
    ui.scope_builder(UiBuilder::new().max_rect(area).layout(Layout::top_down(Align::Center)), |ui| {
        ui.add_space(canvas.px(90.0));
        caption_label_ui(ui, step, canvas.font(52.0), live, index);
        ui.add_space(canvas.px(28.0));
        let mut line = data.title.clone();
        if let Some(out) = &data.output {
            line.push_str(&format!(
                ": {} customers in {} segments",
                crate::app::widgets::format_count(out.result.customers.height()),
                out.result.fit.k()
            ));
        }
        ui.label(RichText::new(line).size(canvas.font(18.0)).color(WEAK));
    });
}

/// Draws what a view shows inside `body`.
fn view_ui(
    ui: &mut Ui,
    canvas: &Canvas,
    data: &SlideData,
    view: &View,
    body: Rect,
    salt: &str,
    live: Option<&mut Live<'_>>,
) {
    match view {
        View::Title => {}
        View::KChoice { k } => k_choice_ui(ui, canvas, data, k.or(data.k), body, salt, None),
        View::Segments { highlight } => segments_ui(ui, canvas, data, highlight.as_ref(), body, live),
        View::Segment { segment } => segment_ui(ui, canvas, data, segment, body, live),
        View::Chart { chart, highlight } => chart_ui(ui, canvas, data, chart, highlight.as_ref(), body, salt),
        View::Board { quadrant } => board_ui(ui, canvas, data, *quadrant, body, live),
        View::Tows => tows_ui(ui, canvas, data, body),
        View::Screen { screen } => match screen.as_str() {
            "Segments" => segments_ui(ui, canvas, data, None, body, live),
            "Model" => k_choice_ui(ui, canvas, data, data.k, body, salt, None),
            "Board" | "SWOT board" => board_ui(ui, canvas, data, None, body, live),
            "Data" => data_summary_ui(ui, canvas, data),
            other => note_ui(
                ui,
                canvas,
                &format!(
                    "The {other} screen is not drawn on a slide: leave presentation mode (Esc) to show it in the window."
                ),
            ),
        },
    }
}

fn note_ui(ui: &mut Ui, canvas: &Canvas, text: &str) {
    ui.add(egui::Label::new(RichText::new(text).size(canvas.font(18.0)).color(WEAK)).wrap());
}

fn data_summary_ui(ui: &mut Ui, canvas: &Canvas, data: &SlideData) {
    let Some(out) = &data.output else { return note_ui(ui, canvas, "Run the project to show its data.") };
    let r = &out.result;
    let lines = [
        format!(
            "{} customers, {} segmented",
            crate::app::widgets::format_count(r.customers.height()),
            crate::app::widgets::format_count(r.matrix.kept_rows.len())
        ),
        format!("Features: {}", r.matrix.names.join(", ")),
        format!("Model: {}", crate::app::describe_spec(&out.spec)),
    ];
    for line in lines {
        ui.add(egui::Label::new(RichText::new(line).size(canvas.font(20.0))).wrap());
        ui.add_space(canvas.px(10.0));
    }
}

/// The index charts of the sweep with `k` marked; `only` draws one of them, large.
fn k_choice_ui(
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

/// Grid of `n` cells in `body`: columns and rows.
fn grid(n: usize, max_cols: usize) -> (usize, usize) {
    let cols = if n <= max_cols { n.max(1) } else { n.div_ceil(n.div_ceil(max_cols)) };
    (cols, n.div_ceil(cols).max(1))
}

/// A rectangle with a background and a border, its contents in a child ui inside the padding.
fn boxed<R>(
    ui: &mut Ui,
    rect: Rect,
    fill: Color32,
    stroke: egui::Stroke,
    pad: f32,
    add: impl FnOnce(&mut Ui) -> R,
) -> R {
    ui.painter().rect(rect, pad * 0.6, fill, stroke, egui::StrokeKind::Inside);
    let inner = rect.shrink(pad);
    ui.scope_builder(UiBuilder::new().max_rect(inner).layout(Layout::top_down(Align::Min)), |ui| {
        ui.set_clip_rect(inner.intersect(ui.clip_rect()));
        add(ui)
    })
    .inner
}

fn segments_ui(
    ui: &mut Ui,
    canvas: &Canvas,
    data: &SlideData,
    highlight: Option<&SegmentRef>,
    body: Rect,
    mut live: Option<&mut Live<'_>>,
) {
    let Some(evidence) = &data.evidence else { return note_ui(ui, canvas, "Run the project to show its segments.") };
    let n = evidence.segments.len();
    if n == 0 {
        return note_ui(ui, canvas, "No segments yet.");
    }
    let (cols, rows) = grid(n, 6);
    let gap = canvas.px(20.0);
    let width = (body.width() - gap * (cols as f32 - 1.0)) / cols as f32;
    let height = (body.height() - gap * (rows as f32 - 1.0)) / rows as f32;
    // Long names and many segments need smaller type to fit a card.
    let fit = (5.0 / cols.max(1) as f32).min(1.0).sqrt() / (rows as f32).sqrt();
    let highlighted = highlight.and_then(SegmentRef::segment);
    for (i, seg) in evidence.segments.iter().enumerate() {
        let rect = Rect::from_min_size(
            egui::pos2(
                body.left() + (i % cols) as f32 * (width + gap),
                body.top() + (i / cols) as f32 * (height + gap),
            ),
            vec2(width, height),
        );
        let colour = data.colours.of(seg.segment);
        let faded = highlighted.is_some_and(|h| h != seg.segment);
        let stroke_width = if highlighted == Some(seg.segment) { canvas.px(6.0) } else { canvas.px(2.0) };
        ui.scope(|ui| {
            if faded {
                ui.set_opacity(0.3);
            }
            boxed(ui, rect, Color32::from_gray(248), egui::Stroke::new(stroke_width, colour), canvas.px(16.0), |ui| {
                let bar = Rect::from_min_size(ui.max_rect().min, vec2(ui.max_rect().width(), canvas.px(10.0)));
                ui.painter().rect_filled(bar, 2.0, colour);
                ui.add_space(canvas.px(18.0));
                segment_name_ui(ui, canvas, data, seg.segment, canvas.font(22.0) * fit, live.as_deref_mut());
                ui.add_space(canvas.px(8.0));
                for (j, line) in seg.lines().iter().enumerate() {
                    let size = if j == 0 { 17.0 } else { 14.5 };
                    ui.add(egui::Label::new(RichText::new(line).size(canvas.font(size) * fit)).wrap());
                }
            });
        });
    }
}

/// A segment's name on a card; on a live slide a right click renames it.
fn segment_name_ui(
    ui: &mut Ui,
    canvas: &Canvas,
    data: &SlideData,
    segment: usize,
    size: f32,
    live: Option<&mut Live<'_>>,
) {
    let name = data.names.get(segment).cloned().unwrap_or_else(|| format!("Segment {}", segment + 1));
    let label = egui::Label::new(RichText::new(&name).size(size).strong()).wrap();
    let Some(live) = live else {
        ui.add(label);
        return;
    };
    let response = ui.add(label.sense(Sense::click())).on_hover_text("Right-click to rename");
    let menu = response.context_menu(|ui| {
        ui.style_mut().text_styles.insert(egui::TextStyle::Body, FontId::proportional(canvas.px(16.0).max(14.0)));
        if live.rename.as_ref().is_none_or(|(s, _)| *s != segment) {
            *live.rename = Some((segment, name.clone()));
        }
        let Some((_, buffer)) = live.rename.as_mut() else { return };
        let label = ui.label("New name");
        let edit = ui.add(egui::TextEdit::singleline(buffer).desired_width(320.0)).labelled_by(label.id);
        let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if ui.button("Rename").clicked() || enter {
            let name = buffer.trim().to_string();
            if !name.is_empty() {
                live.commands.push(Command::RenameSegment { segment, name });
            }
            *live.rename = None;
            ui.close();
        }
    });
    if menu.is_none() && live.rename.as_ref().is_some_and(|(s, _)| *s == segment) {
        *live.rename = None;
    }
}

fn segment_ui(
    ui: &mut Ui,
    canvas: &Canvas,
    data: &SlideData,
    segment: &SegmentRef,
    body: Rect,
    live: Option<&mut Live<'_>>,
) {
    let s = match segment {
        SegmentRef::Segment(s) => *s,
        SegmentRef::Detached { name, why, .. } => {
            return note_ui(ui, canvas, &format!("\"{name}\" is no longer a segment: {why}."));
        }
    };
    let Some(evidence) = &data.evidence else { return note_ui(ui, canvas, "Run the project to show its segments.") };
    let Some(seg) = evidence.segments.iter().find(|e| e.segment == s) else {
        return note_ui(ui, canvas, &format!("Segment {} is not in the current segmentation.", s + 1));
    };
    let colour = data.colours.of(s);
    let left = Rect::from_min_size(body.min, vec2(body.width() * 0.58, body.height()));
    boxed(ui, left, Color32::from_gray(248), egui::Stroke::new(canvas.px(5.0), colour), canvas.px(26.0), |ui| {
        let bar = Rect::from_min_size(ui.max_rect().min, vec2(ui.max_rect().width(), canvas.px(14.0)));
        ui.painter().rect_filled(bar, 3.0, colour);
        ui.add_space(canvas.px(26.0));
        segment_name_ui(ui, canvas, data, s, canvas.font(34.0), live);
        ui.add_space(canvas.px(12.0));
        for (j, line) in seg.lines().iter().enumerate() {
            let size = if j == 0 { 24.0 } else { 19.0 };
            ui.add(egui::Label::new(RichText::new(line).size(canvas.font(size))).wrap());
            ui.add_space(canvas.px(4.0));
        }
        if let Some(note) = data.notes.iter().find(|n| n.segment == s).filter(|n| !n.notes.trim().is_empty()) {
            ui.add_space(canvas.px(10.0));
            ui.add(egui::Label::new(RichText::new(&note.notes).size(canvas.font(16.0)).italics().color(WEAK)).wrap());
        }
    });
    // Its share beside every other segment's.
    let right = Rect::from_min_max(egui::pos2(left.right() + canvas.px(40.0), body.top()), body.max);
    share_bars_ui(ui, canvas, data, evidence, Some(s), right);
}

/// Horizontal bars of every segment's share of the customers, `highlight` in full colour.
fn share_bars_ui(
    ui: &mut Ui,
    canvas: &Canvas,
    data: &SlideData,
    evidence: &BoardEvidence,
    highlight: Option<usize>,
    rect: Rect,
) {
    let title = ui.put(
        Rect::from_min_size(rect.min, vec2(rect.width(), canvas.font(22.0))),
        egui::Label::new(RichText::new("Share of the customers").size(canvas.font(15.0)).strong()),
    );
    let top = title.rect.bottom() + canvas.px(12.0);
    let n = evidence.segments.len().max(1);
    let row = ((rect.bottom() - top) / n as f32).min(canvas.px(90.0));
    let max_share = evidence.segments.iter().map(|e| e.share).fold(0.0, f64::max).max(1e-9);
    let painter = ui.painter();
    for (i, seg) in evidence.segments.iter().enumerate() {
        let y = top + i as f32 * row;
        let colour = data.colours.of(seg.segment);
        let colour = if highlight.is_some_and(|h| h != seg.segment) { colour.gamma_multiply(0.3) } else { colour };
        let name = data.names.get(seg.segment).cloned().unwrap_or_default();
        let label_size = canvas.font(13.0).min(row * 0.35);
        painter.text(egui::pos2(rect.left(), y), Align2::LEFT_TOP, name, FontId::proportional(label_size), INK);
        let bar_top = y + label_size * 1.3;
        let bar_h = (row - label_size * 1.3 - canvas.px(8.0)).max(canvas.px(6.0));
        let full = rect.width() * 0.75;
        let w = (seg.share / max_share) as f32 * full;
        painter.rect_filled(
            Rect::from_min_size(egui::pos2(rect.left(), bar_top), vec2(w.max(2.0), bar_h)),
            2.0,
            colour,
        );
        let text = if seg.is_small() { count_text(seg.size) } else { percent(seg.share) };
        painter.text(
            egui::pos2(rect.left() + w + canvas.px(8.0), bar_top + bar_h / 2.0),
            Align2::LEFT_CENTER,
            text,
            FontId::proportional(label_size),
            INK,
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn chart_ui(
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

fn quadrant_tint(q: Quadrant) -> Color32 {
    match q {
        Quadrant::Strengths => Color32::from_rgb(232, 245, 233),
        Quadrant::Weaknesses => Color32::from_rgb(255, 243, 224),
        Quadrant::Opportunities => Color32::from_rgb(227, 242, 253),
        Quadrant::Threats => Color32::from_rgb(252, 228, 236),
    }
}

fn quadrant_ink(q: Quadrant) -> Color32 {
    match q {
        Quadrant::Strengths => Color32::from_rgb(27, 94, 32),
        Quadrant::Weaknesses => Color32::from_rgb(191, 54, 12),
        Quadrant::Opportunities => Color32::from_rgb(13, 71, 161),
        Quadrant::Threats => Color32::from_rgb(136, 14, 79),
    }
}

fn board_ui(
    ui: &mut Ui,
    canvas: &Canvas,
    data: &SlideData,
    only: Option<Quadrant>,
    body: Rect,
    mut live: Option<&mut Live<'_>>,
) {
    let Some(board) = data.board.as_ref().filter(|b| !b.cards.is_empty()) else {
        return note_ui(ui, canvas, "The SWOT board is empty: place segments and items on it on the Board screen.");
    };
    let quadrants: Vec<Quadrant> = match only {
        Some(q) => vec![q],
        None => Quadrant::ALL.to_vec(),
    };
    let (cols, rows) = if quadrants.len() == 1 { (1, 1) } else { (2, 2) };
    let gap = canvas.px(18.0);
    let width = (body.width() - gap * (cols as f32 - 1.0)) / cols as f32;
    let height = (body.height() - gap * (rows as f32 - 1.0)) / rows as f32;
    let most = quadrants.iter().map(|q| board.cards_in(*q).count()).max().unwrap_or(0);
    // One quadrant alone gets larger cards; a crowded board smaller type.
    let (card_cols, base) = if quadrants.len() == 1 { (3usize, 1.25f32) } else { (2, 0.8) };
    let card_rows = most.div_ceil(card_cols).max(1);
    let fit = base * (2.0 / card_rows as f32).min(1.0).sqrt();
    for (i, q) in quadrants.iter().enumerate() {
        let rect = Rect::from_min_size(
            egui::pos2(
                body.left() + (i % cols) as f32 * (width + gap),
                body.top() + (i / cols) as f32 * (height + gap),
            ),
            vec2(width, height),
        );
        boxed(
            ui,
            rect,
            quadrant_tint(*q),
            egui::Stroke::new(canvas.px(1.5), quadrant_ink(*q)),
            canvas.px(12.0),
            |ui| {
                ui.label(
                    RichText::new(q.label()).size(canvas.font(20.0) * base.min(1.2)).strong().color(quadrant_ink(*q)),
                );
                ui.add_space(canvas.px(4.0));
                let area = ui.available_rect_before_wrap();
                let cards: Vec<_> = board.cards_in(*q).collect();
                if cards.is_empty() {
                    ui.label(RichText::new("Nothing placed here").size(canvas.font(13.0) * fit).color(WEAK));
                    return;
                }
                let cgap = canvas.px(10.0);
                let cw = (area.width() - cgap * (card_cols as f32 - 1.0)) / card_cols as f32;
                let ch = ((area.height() - cgap * (card_rows as f32 - 1.0)) / card_rows as f32).max(canvas.px(30.0));
                for (j, card) in cards.iter().enumerate() {
                    let r = Rect::from_min_size(
                        egui::pos2(
                            area.left() + (j % card_cols) as f32 * (cw + cgap),
                            area.top() + (j / card_cols) as f32 * (ch + cgap),
                        ),
                        vec2(cw, ch),
                    );
                    let (colour, title, lines) = match &card.subject {
                        Subject::Segment(r) => match r {
                            SegmentRef::Segment(s) => {
                                let evidence =
                                    data.evidence.as_ref().and_then(|e| e.segments.iter().find(|x| x.segment == *s));
                                let lines: Vec<String> =
                                    evidence.map(|e| e.lines().into_iter().take(2).collect()).unwrap_or_default();
                                (
                                    data.colours.of(*s),
                                    data.names.get(*s).cloned().unwrap_or_else(|| format!("Segment {}", s + 1)),
                                    lines,
                                )
                            }
                            SegmentRef::Detached { name, .. } => {
                                (Color32::GRAY, format!("{name} (no longer a segment)"), Vec::new())
                            }
                        },
                        Subject::Text(text) => (Color32::from_gray(120), text.clone(), Vec::new()),
                    };
                    let response = ui.interact(r, ui.scope_id().with(("board-card", card.id)), Sense::click());
                    boxed(ui, r, PAPER, egui::Stroke::new(canvas.px(3.0), colour), canvas.px(8.0), |ui| {
                        ui.add(egui::Label::new(RichText::new(&title).size(canvas.font(16.0) * fit).strong()).wrap());
                        for line in &lines {
                            ui.add(egui::Label::new(RichText::new(line).size(canvas.font(12.5) * fit)).wrap());
                        }
                        if !card.note.trim().is_empty() {
                            ui.add(
                                egui::Label::new(
                                    RichText::new(&card.note).size(canvas.font(12.5) * fit).italics().color(WEAK),
                                )
                                .wrap(),
                            );
                        }
                    });
                    if let Some(live) = live.as_deref_mut() {
                        crate::app::widgets::accessible_name(&response, &format!("Card {title} in {}", q.label()));
                        response.context_menu(|ui| {
                            for target in Quadrant::ALL.into_iter().filter(|t| t != q) {
                                if ui.button(format!("Move to {}", target.label())).clicked() {
                                    live.commands.push(Command::Presenting(PresentCommand::MoveCard {
                                        card: card.id,
                                        quadrant: target,
                                    }));
                                    ui.close();
                                }
                            }
                        });
                    }
                }
            },
        );
    }
}

fn tows_ui(ui: &mut Ui, canvas: &Canvas, data: &SlideData, body: Rect) {
    let Some(board) = data.board.as_ref().filter(|b| !b.strategies.is_empty()) else {
        return note_ui(ui, canvas, "No TOWS strategies yet: write them under TOWS on the Board screen.");
    };
    let gap = canvas.px(18.0);
    let width = (body.width() - gap) / 2.0;
    let height = (body.height() - gap) / 2.0;
    let most =
        TowsCell::ALL.iter().map(|c| board.strategies.iter().filter(|s| s.cell == *c).count()).max().unwrap_or(1);
    let fit = (3.0 / most.max(1) as f32).min(1.0).sqrt();
    for (i, cell) in TowsCell::ALL.into_iter().enumerate() {
        let rect = Rect::from_min_size(
            egui::pos2(body.left() + (i % 2) as f32 * (width + gap), body.top() + (i / 2) as f32 * (height + gap)),
            vec2(width, height),
        );
        boxed(
            ui,
            rect,
            Color32::from_gray(246),
            egui::Stroke::new(canvas.px(1.5), Color32::from_gray(150)),
            canvas.px(14.0),
            |ui| {
                ui.label(
                    RichText::new(format!("{}: {}", cell.code(), cell.meaning())).size(canvas.font(17.0)).strong(),
                );
                ui.add_space(canvas.px(6.0));
                let strategies: Vec<_> = board.strategies.iter().filter(|s| s.cell == cell).collect();
                if strategies.is_empty() {
                    ui.label(RichText::new("No strategy yet").size(canvas.font(13.0)).color(WEAK));
                }
                for strategy in strategies {
                    let mut text = strategy.action.clone();
                    if !strategy.owner.trim().is_empty() {
                        text.push_str(&format!(" ({})", strategy.owner));
                    }
                    ui.add(egui::Label::new(RichText::new(format!("• {text}")).size(canvas.font(15.0) * fit)).wrap());
                    let targets: Vec<String> = strategy
                        .segments
                        .iter()
                        .map(|r| match r {
                            SegmentRef::Segment(s) => {
                                data.names.get(*s).cloned().unwrap_or_else(|| format!("Segment {}", s + 1))
                            }
                            SegmentRef::Detached { name, .. } => format!("{name} (no longer a segment)"),
                        })
                        .collect();
                    if !targets.is_empty() {
                        ui.add(
                            egui::Label::new(
                                RichText::new(format!("   for {}", targets.join(", ")))
                                    .size(canvas.font(12.5) * fit)
                                    .color(WEAK),
                            )
                            .wrap(),
                        );
                    }
                }
            },
        );
    }
}
