//! The SWOT board and the TOWS strategies on a slide.

use std::sync::Arc;

use eframe::egui::emath::GuiRounding as _;
use eframe::egui::text::{LayoutJob, TextFormat};
use eframe::egui::{self, Color32, FontId, Galley, Rect, RichText, Sense, StrokeKind, Ui, vec2};

use super::{Canvas, INK, Live, PAPER, SlideData, WEAK, boxed, cell, note_ui};
use crate::app::Command;
use crate::app::present::PresentCommand;
use crate::engine::swot::{Quadrant, SegmentRef, Subject, TowsCell};

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

pub(super) fn board_ui(
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
        let rect = cell(body.min, vec2(width, height), gap, cols, i);
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
                    let r = cell(area.min, vec2(cw, ch), cgap, card_cols, j);
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
                    let response =
                        ui.interact(r.round_ui(), ui.scope_id().with(("board-card", card.id)), Sense::click());
                    let pad = canvas.px(8.0);
                    ui.painter().rect(
                        r,
                        pad * 0.6,
                        PAPER,
                        egui::Stroke::new(canvas.px(3.0), colour),
                        StrokeKind::Inside,
                    );
                    let size = canvas.font(16.0) * fit;
                    card_text(ui, r.shrink(pad), size, &title, &lines, card.note.trim());
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

pub(super) fn tows_ui(ui: &mut Ui, canvas: &Canvas, data: &SlideData, body: Rect) {
    let Some(board) = data.board.as_ref().filter(|b| !b.strategies.is_empty()) else {
        return note_ui(ui, canvas, "No TOWS strategies yet: write them under TOWS on the Board screen.");
    };
    let gap = canvas.px(18.0);
    let width = (body.width() - gap) / 2.0;
    let height = (body.height() - gap) / 2.0;
    let most =
        TowsCell::ALL.iter().map(|c| board.strategies.iter().filter(|s| s.cell == *c).count()).max().unwrap_or(1);
    let fit = (3.0 / most.max(1) as f32).min(1.0).sqrt();
    for (i, tows) in TowsCell::ALL.into_iter().enumerate() {
        let rect = cell(body.min, vec2(width, height), gap, 2, i);
        boxed(
            ui,
            rect,
            Color32::from_gray(246),
            egui::Stroke::new(canvas.px(1.5), Color32::from_gray(150)),
            canvas.px(14.0),
            |ui| {
                ui.label(
                    RichText::new(format!("{}: {}", tows.code(), tows.meaning())).size(canvas.font(17.0)).strong(),
                );
                ui.add_space(canvas.px(6.0));
                let strategies: Vec<_> = board.strategies.iter().filter(|s| s.cell == tows).collect();
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

/// A card's text inside `rect`: the title at `size`, the evidence lines and the note smaller. The
/// text shrinks (to 70%) until all of it fits; what still does not fit is the note's end, cut at the
/// last row with "…" (the whole note is on the Board screen).
fn card_text(ui: &Ui, rect: Rect, size: f32, title: &str, lines: &[String], note: &str) {
    let painter = ui.painter();
    let layout = |text: &str, size: f32, colour: Color32, italics: bool, max_rows: usize| -> Arc<Galley> {
        let mut job = LayoutJob::default();
        job.wrap.max_width = rect.width();
        job.wrap.max_rows = max_rows;
        job.wrap.overflow_character = Some('…');
        let format = TextFormat { font_id: FontId::proportional(size), color: colour, italics, ..Default::default() };
        job.append(text, 0.0, format);
        painter.layout_job(job)
    };
    let mut chosen = Vec::new();
    for scale in [1.0, 0.9, 0.8, 0.7] {
        let gap = size * scale * 0.3;
        let mut galleys = vec![layout(title, size * scale, INK, false, usize::MAX)];
        galleys.extend(lines.iter().map(|l| layout(l, size * scale * 0.78, INK, false, usize::MAX)));
        let fixed: f32 = galleys.iter().map(|g| g.size().y + gap).sum();
        let room = rect.height() - fixed;
        if !note.is_empty() {
            let note_size = size * scale * 0.78;
            let row = layout("Ag", note_size, WEAK, true, 1).size().y.max(1.0);
            let full = layout(note, note_size, WEAK, true, usize::MAX);
            if full.size().y <= room {
                galleys.push(full);
            } else if scale == 0.7 && room >= row {
                galleys.push(layout(note, note_size, WEAK, true, (room / row).floor() as usize));
            } else {
                continue;
            }
        } else if room < 0.0 && scale > 0.7 {
            continue;
        }
        chosen = galleys.into_iter().map(|g| (g, gap)).collect();
        break;
    }
    if chosen.is_empty() {
        // Not even the title and the figures fit at 70%: show them cut by the card's edge.
        let gap = size * 0.7 * 0.3;
        chosen.push((layout(title, size * 0.7, INK, false, usize::MAX), gap));
        chosen.extend(lines.iter().map(|l| (layout(l, size * 0.7 * 0.78, INK, false, usize::MAX), gap)));
    }
    let painter = painter.with_clip_rect(rect.intersect(ui.clip_rect()));
    let mut y = rect.top();
    for (galley, gap) in chosen {
        let height = galley.size().y;
        painter.galley(egui::pos2(rect.left(), y), galley, INK);
        y += height + gap;
    }
}
