//! One slide on the 16:9 canvas: the caption at the top, the step's view below it from the live
//! project, the slide number in a corner. Every size is given in design points of a 1600 x 900
//! canvas and scaled to the canvas on the screen, so a slide looks the same on any projector; text
//! sizes are also multiplied by the presentation's text scale.

use std::sync::Arc;

mod board;
mod charts;
mod segments;

use eframe::egui::emath::GuiRounding as _;
use eframe::egui::{self, Align, Color32, FontId, Layout, Rect, RichText, Sense, Ui, UiBuilder, Vec2, vec2};

use super::PresentCommand;
use crate::app::widgets::SegmentColours;
use crate::app::{Command, RunOutput};
use crate::engine::presentation::{Presentation, Step, View};
use crate::engine::project::SegmentNote;
use crate::engine::swot::Board;
use crate::engine::swot::evidence::BoardEvidence;
use board::{board_ui, tows_ui};
use charts::{chart_ui, k_choice_ui};
use segments::{segment_ui, segments_ui};

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
    // No tooltip: the audience sees the slide (the presenter view says what a right click does).
    let response = ui.add(label.sense(Sense::click()));
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

/// Grid of `n` cells in `body`: columns and rows.
fn grid(n: usize, max_cols: usize) -> (usize, usize) {
    let cols = if n <= max_cols { n.max(1) } else { n.div_ceil(n.div_ceil(max_cols)) };
    (cols, n.div_ceil(cols).max(1))
}

/// Cell `i` of a grid of `cols` columns of cells of `size`, `gap` apart, from `origin`.
fn cell(origin: egui::Pos2, size: Vec2, gap: f32, cols: usize, i: usize) -> Rect {
    Rect::from_min_size(origin + vec2((i % cols) as f32 * (size.x + gap), (i / cols) as f32 * (size.y + gap)), size)
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
    // On the GUI's grid, and filled to the bottom, so the box's extent is whole points (scaled
    // spacing inside it would leave its edge between pixels).
    let inner = rect.shrink(pad).round_ui();
    ui.scope_builder(UiBuilder::new().max_rect(inner).layout(Layout::top_down(Align::Min)), |ui| {
        ui.set_clip_rect(inner.intersect(ui.clip_rect()));
        let out = add(ui);
        ui.set_min_size(inner.size());
        out
    })
    .inner
}
