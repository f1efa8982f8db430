//! The segments on a slide: every segment as a card, one segment alone, the share bars.

use eframe::egui::{self, Align2, Color32, FontId, Rect, RichText, Sense, Ui, vec2};

use super::{Canvas, INK, Live, SlideData, WEAK, boxed, cell, grid, note_ui};
use crate::app::Command;
use crate::engine::swot::SegmentRef;
use crate::engine::swot::evidence::{BoardEvidence, percent};

pub(super) fn segments_ui(
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
        let rect = cell(body.min, vec2(width, height), gap, cols, i);
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
    let response = ui.add(label.sense(Sense::click()));
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

pub(super) fn segment_ui(
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
pub(super) fn share_bars_ui(
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
    let max_share = evidence.segments.iter().filter_map(|e| e.share).fold(0.0, f64::max).max(1e-9);
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
        // A share not shown has no bar: its length would tell it.
        let w = seg.share.map_or(0.0, |share| (share / max_share) as f32 * full);
        painter.rect_filled(
            Rect::from_min_size(egui::pos2(rect.left(), bar_top), vec2(w.max(2.0), bar_h)),
            2.0,
            colour,
        );
        let text = match seg.share {
            Some(share) if !seg.is_small() => percent(share),
            _ => seg.size_words(),
        };
        painter.text(
            egui::pos2(rect.left() + w + canvas.px(8.0), bar_top + bar_h / 2.0),
            Align2::LEFT_CENTER,
            text,
            FontId::proportional(label_size),
            INK,
        );
    }
}
