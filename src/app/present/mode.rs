//! Presentation mode: the slide on a black screen (letterbox bars where the screen is not 16:9),
//! nothing else, and the presenter view (current and next step, speaker notes, elapsed time) in a
//! second window, or as a panel of the main window where the platform has only one window.

use eframe::egui::{self, Color32, RichText, Ui};

use super::slide::{Canvas, Live, SlideData, slide_ui};
use super::{PresentCommand, slide_keys};
use crate::app::widgets::SegmentColours;
use crate::app::{Command, StrataApp};
use crate::engine::presentation::Presentation;

/// Seconds the pointer rests before it is hidden while presenting.
const POINTER_REST_SECS: f32 = 2.0;

/// What the slides need from the app this frame.
pub(super) fn slide_data(app: &mut StrataApp) -> SlideData {
    let evidence = app.board_evidence();
    let output = app.output.clone();
    let names = output
        .as_ref()
        .map(|o| (0..o.result.n_segments()).map(|s| app.segment_name_in(&o.result, s)).collect())
        .unwrap_or_default();
    let colours = output.as_ref().map_or_else(|| SegmentColours::by_number(0), |o| app.segment_colours_in(&o.result));
    let doc = app.doc.as_ref();
    SlideData {
        output,
        names,
        colours,
        evidence,
        board: doc.and_then(|d| d.project.board.clone()),
        notes: doc.map(|d| d.project.segments.clone()).unwrap_or_default(),
        title: doc.map(|d| d.title()).unwrap_or_default(),
        k: doc.and_then(|d| d.project.spec.model.algorithm.k()),
    }
}

/// Draws presentation mode: the slide alone on black, and the presenter view when it is on.
pub fn presenting_ui(ui: &mut Ui, app: &mut StrataApp) {
    let Some(step) = app.present.current_step() else { return };
    let Some(presentation) = app.presentation().cloned() else {
        app.push(Command::Presenting(PresentCommand::Stop));
        return;
    };
    let data = slide_data(app);
    let now = ui.input(|i| i.time);
    let elapsed = app.present.elapsed_secs(now).unwrap_or(0.0);
    let black = app.present.is_black();
    if app.present.presenter_view {
        let info = PresenterInfo { presentation: &presentation, step, elapsed, black, data: &data };
        if ui.ctx().embed_viewports() {
            // One window only: the presenter view is a panel under the slide, shown only when asked.
            egui::Panel::bottom("presenter-view").resizable(false).exact_size(260.0).show(ui, |ui| {
                presenter_ui(ui, &info);
            });
        } else {
            let mut commands = Vec::new();
            let n = presentation.steps.len();
            ui.ctx().show_viewport_immediate(
                egui::ViewportId::from_hash_of("strata-presenter-view"),
                egui::ViewportBuilder::default().with_title("Strata: presenter view").with_inner_size([960.0, 640.0]),
                |ui, _class| {
                    egui::CentralPanel::default().show(ui, |ui| presenter_ui(ui, &info));
                    if ui.input(|i| i.viewport().close_requested()) {
                        commands.push(PresentCommand::TogglePresenterView);
                    }
                    // The presenter steps from their own window too.
                    commands.extend(slide_keys(ui.ctx(), n));
                },
            );
            for command in commands {
                app.push(Command::Presenting(command));
            }
        }
        // The clock moves.
        ui.ctx().request_repaint_after(std::time::Duration::from_millis(500));
    }
    // The pointer hides when it rests (it would sit on the projected slide); a move brings it back.
    if ui.input(|i| i.pointer.time_since_last_movement()) > POINTER_REST_SECS {
        ui.ctx().set_cursor_icon(egui::CursorIcon::None);
    } else {
        ui.ctx().request_repaint_after(std::time::Duration::from_secs_f32(POINTER_REST_SECS));
    }
    egui::CentralPanel::default().frame(egui::Frame::NONE.fill(Color32::BLACK)).show(ui, |ui| {
        if black {
            return;
        }
        let canvas = Canvas::fit(ui.max_rect(), presentation.text_scale);
        let mut live =
            Live { commands: Vec::new(), rename: &mut app.present.rename, caption: &mut app.present.caption };
        slide_ui(ui, &canvas, &data, &presentation, step, "show", Some(&mut live));
        let commands = std::mem::take(&mut live.commands);
        for command in commands {
            app.push(command);
        }
    });
}

/// What the presenter view shows.
struct PresenterInfo<'a> {
    presentation: &'a Presentation,
    step: usize,
    elapsed: f64,
    black: bool,
    data: &'a SlideData,
}

/// Elapsed time as "12:05" (or "1:02:05").
fn clock(secs: f64) -> String {
    let secs = secs.max(0.0) as u64;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 { format!("{h}:{m:02}:{s:02}") } else { format!("{m}:{s:02}") }
}

fn presenter_ui(ui: &mut Ui, info: &PresenterInfo<'_>) {
    let steps = &info.presentation.steps;
    let Some(current) = steps.get(info.step) else { return };
    ui.horizontal(|ui| {
        ui.heading(format!("Step {} of {}", info.step + 1, steps.len()));
        ui.separator();
        ui.heading(format!("Elapsed {}", clock(info.elapsed)));
        if info.black {
            ui.separator();
            ui.heading(RichText::new("Screen blacked (B)").color(ui.visuals().warn_fg_color));
        }
    });
    ui.horizontal_top(|ui| {
        // The slide as the audience sees it, small.
        let width = (ui.available_width() * 0.4).min(480.0);
        let (rect, _) = ui.allocate_exact_size(egui::vec2(width, width * 9.0 / 16.0), egui::Sense::hover());
        let canvas = Canvas::fit(rect, info.presentation.text_scale);
        slide_ui(ui, &canvas, info.data, info.presentation, info.step, "presenter", None);
        ui.vertical(|ui| {
            ui.label(RichText::new(format!("Now: {}", current.caption)).strong().size(18.0));
            let next = match steps.get(info.step + 1) {
                Some(next) => format!("Next: {}", next.caption),
                None => "Next: this is the last step".to_string(),
            };
            ui.label(RichText::new(next).size(16.0));
            ui.separator();
            ui.label(RichText::new("Speaker notes").weak());
            egui::ScrollArea::vertical().id_salt("speaker-notes").show(ui, |ui| {
                let notes =
                    if current.notes.trim().is_empty() { "(no notes for this step)" } else { current.notes.as_str() };
                ui.label(RichText::new(notes).size(18.0));
            });
            ui.label(
                RichText::new(
                    "Right/Space next, Left back, 1-9 jump, B black, +/- text size, P this view, Esc leave. \
                     On the slide, right-click a caption or a segment's name to change it, a card to move it.",
                )
                .weak(),
            );
        });
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_clock_reads_minutes_and_hours() {
        assert_eq!(super::clock(0.0), "0:00");
        assert_eq!(super::clock(65.4), "1:05");
        assert_eq!(super::clock(3725.0), "1:02:05");
    }
}
