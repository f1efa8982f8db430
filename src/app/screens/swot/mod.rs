//! The SWOT board screen: the current segments in a strip to drag from, four quadrants to drop them
//! in (or place them with "Place in..."), text items, a note on every card, live evidence and
//! placement hints; the TOWS strategies in [`tows`], the hint rules' editor in [`rules`]. Every
//! change is one [`Command::EditBoard`]: one undo step and one line of the audit log.

mod rules;
mod tows;

use std::sync::Arc;

use eframe::egui::{self, Color32, RichText, Ui};

use crate::app::widgets::{SegmentColours, accessible_name, swatch_ui};
use crate::app::{Command, StrataApp};
use crate::engine::project::validate::{MAX_NAME_CHARS, MAX_TEXT_CHARS};
use crate::engine::swot::evidence::{BoardEvidence, SegmentEvidence};
use crate::engine::swot::hints::{Hints, hints_for};
use crate::engine::swot::{Board, Card, MAX_CARDS, Quadrant, SegmentRef, Subject, count_text};

/// What is being dragged on the board: a segment from the strip, or a card already placed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BoardDrag {
    /// A segment (its number in the current run) from the strip.
    Segment(usize),
    /// A card on the board, by id.
    Card(u32),
}

/// Which view of the board is shown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BoardTab {
    /// The four quadrants.
    #[default]
    Quadrants,
    /// The TOWS strategy cells.
    Tows,
}

/// What the SWOT screen remembers between frames that is not part of the project.
#[derive(Default)]
pub struct BoardView {
    /// The view shown.
    pub tab: BoardTab,
    /// The quadrant whose "Add item" form is open, and the text typed.
    pub adding: Option<(Quadrant, String)>,
    /// Whether the hint rules' editor is open.
    pub editing_rules: bool,
    /// The evidence and what it was made from (see [`StrataApp::board_evidence`]).
    pub(crate) evidence: Option<(crate::app::board::EvidenceKey, Arc<BoardEvidence>)>,
    /// How many times the evidence was made this session (it is made once per change, never per frame).
    pub evidence_made: usize,
}

/// The board after `drag` was dropped on `quadrant`, and the change in words; `None` when nothing
/// changes (a card dropped where it is, a segment already there). The drop zone and the menus
/// both go through here.
pub fn dropped(
    board: &Board,
    drag: BoardDrag,
    quadrant: Quadrant,
    name: &dyn Fn(usize) -> String,
) -> Option<(Board, String)> {
    let mut board = board.clone();
    match drag {
        BoardDrag::Segment(s) => {
            let already = board.cards_in(quadrant).any(|c| c.subject == Subject::Segment(SegmentRef::Segment(s)));
            if already || board.cards.len() >= MAX_CARDS {
                return None;
            }
            board.place_segment(s, quadrant, "");
            Some((board, format!("place '{}' in {}", name(s), quadrant.label())))
        }
        BoardDrag::Card(id) => {
            let card = board.card(id)?.clone();
            if card.quadrant == quadrant {
                return None;
            }
            // A segment already in the target quadrant: the moved card would be a second one.
            if let Subject::Segment(r @ SegmentRef::Segment(_)) = &card.subject
                && board.cards_in(quadrant).any(|c| c.subject == Subject::Segment(r.clone()))
            {
                board.remove_card(id);
            } else {
                board.move_card(id, quadrant);
            }
            Some((board, format!("move '{}' to {}", card_title(&card, name), quadrant.label())))
        }
    }
}

/// A card's title: its segment's live name, the name a detached segment had, or its text.
fn card_title(card: &Card, name: &dyn Fn(usize) -> String) -> String {
    crate::engine::swot::decisions::card_title(&card.subject, name)
}

/// The colour of a quadrant's heading and frame.
fn quadrant_colour(quadrant: Quadrant) -> Color32 {
    match quadrant {
        Quadrant::Strengths => Color32::from_rgb(46, 160, 67),
        Quadrant::Weaknesses => Color32::from_rgb(224, 130, 30),
        Quadrant::Opportunities => Color32::from_rgb(52, 120, 220),
        Quadrant::Threats => Color32::from_rgb(210, 55, 60),
    }
}

/// A hint in words: "strength candidate: revenue share 38% >= 30%; stability 0.91 >= 0.75".
fn hint_lines(hints: &Hints) -> Vec<(Option<Quadrant>, String)> {
    let mut lines: Vec<(Option<Quadrant>, String)> = hints
        .hints
        .iter()
        .map(|h| {
            let one = h.quadrant.one();
            let word = one.split_once(' ').map_or(one, |(_, w)| w);
            (Some(h.quadrant), format!("{word} candidate: {}", h.because))
        })
        .collect();
    lines.extend(hints.unjudged.iter().map(|(rule, needs)| (None, format!("not judged (\"{rule}\"): needs {needs}"))));
    lines
}

/// What the screen draws from: the run's segments, named and coloured as now.
struct Segments {
    names: Vec<String>,
    colours: SegmentColours,
    evidence: Arc<BoardEvidence>,
}

impl Segments {
    fn name(&self, s: usize) -> String {
        self.names.get(s).cloned().unwrap_or_else(|| format!("Segment {} (not in this run)", s + 1))
    }

    fn evidence(&self, s: usize) -> Option<&SegmentEvidence> {
        self.evidence.segments.get(s)
    }
}

/// Draws the SWOT screen.
pub fn board_ui(ui: &mut Ui, app: &mut StrataApp) {
    let Some(out) = app.output.clone() else {
        ui.heading("SWOT board");
        ui.label(if app.progress.is_some() {
            "The board opens when the run under way finishes: its segment cards show live figures from the run."
        } else {
            "Run a segmentation first (F5): the board's segment cards show live figures from the run."
        });
        return;
    };
    let Some(evidence) = app.board_evidence() else { return };
    let segments = Segments {
        names: (0..out.result.n_segments()).map(|s| app.segment_name_in(&out.result, s)).collect(),
        colours: app.segment_colours_in(&out.result),
        evidence,
    };
    let board = app.board();
    header_ui(ui, app, &board, &out.result);
    // What the cards cannot show, and why: said once here, not on every card.
    for note in &segments.evidence.notes {
        ui.label(RichText::new(note).weak());
    }
    if app.view.board.editing_rules {
        rules::rules_editor_ui(ui, app, &board);
    }
    ui.separator();
    match app.view.board.tab {
        BoardTab::Quadrants => {
            // What is in view: the quadrants share it (a scroll area's own height is not a bound).
            let visible = ui.available_height();
            egui::ScrollArea::vertical().id_salt("swot-board").auto_shrink([false, false]).show(ui, |ui| {
                let top = ui.cursor().top();
                palette_ui(ui, app, &board, &segments);
                ui.add_space(6.0);
                let left = visible - (ui.cursor().top() - top);
                quadrants_ui(ui, app, &board, &segments, left);
            });
        }
        BoardTab::Tows => tows::tows_ui(ui, app, &board, &segments),
    }
}

fn header_ui(ui: &mut Ui, app: &mut StrataApp, board: &Board, result: &crate::engine::pipeline::PipelineResult) {
    ui.horizontal_wrapped(|ui| {
        ui.heading("SWOT board");
        ui.separator();
        for (tab, label) in [(BoardTab::Quadrants, "Board"), (BoardTab::Tows, "TOWS strategies")] {
            if ui.selectable_label(app.view.board.tab == tab, label).clicked() {
                app.view.board.tab = tab;
            }
        }
        ui.separator();
        let mut shown = board.hints.shown;
        if ui
            .checkbox(&mut shown, "Show placement hints")
            .on_hover_text("Suggestions from the hint rules beside each segment; they never move a card")
            .changed()
        {
            let mut next = board.clone();
            next.hints.shown = shown;
            let what = if shown { "show placement hints" } else { "hide placement hints" };
            app.push(Command::EditBoard { board: Box::new(next), what: what.into() });
        }
        let rules_label = if app.view.board.editing_rules { "Close the hint rules" } else { "Hint rules..." };
        if ui.button(rules_label).clicked() {
            app.view.board.editing_rules = !app.view.board.editing_rules;
        }
        ui.separator();
        revenue_column_ui(ui, app, board, result);
        ui.separator();
        if ui
            .add_enabled(!board.strategies.is_empty(), egui::Button::new("Export decision list..."))
            .on_hover_text("The TOWS strategies as CSV: cell, action, owner, segments, pairs")
            .on_disabled_hover_text("Add a strategy in the TOWS view first")
            .clicked()
        {
            app.push(Command::ExportDialog(crate::app::ExportKind::DecisionList));
        }
    });
}

fn revenue_column_ui(
    ui: &mut Ui,
    app: &mut StrataApp,
    board: &Board,
    result: &crate::engine::pipeline::PipelineResult,
) {
    use crate::engine::swot::evidence::DEFAULT_REVENUE_COLUMN;
    // The table's columns, not its rows: cheap enough to list each frame.
    let numeric: Vec<String> = result
        .customers
        .columns()
        .iter()
        .filter(|c| c.dtype().is_primitive_numeric())
        .map(|c| c.name().to_string())
        .collect();
    let automatic = format!("Automatic ({DEFAULT_REVENUE_COLUMN} when there is one)");
    let shown = board.revenue_column.clone().unwrap_or_else(|| automatic.clone());
    let label = ui.label("Revenue column");
    let mut chosen = None;
    egui::ComboBox::from_id_salt("swot-revenue-column")
        .selected_text(shown)
        .show_ui(ui, |ui| {
            if ui.selectable_label(board.revenue_column.is_none(), &automatic).clicked() {
                chosen = Some(None);
            }
            for column in &numeric {
                if ui.selectable_label(board.revenue_column.as_ref() == Some(column), column).clicked() {
                    chosen = Some(Some(column.clone()));
                }
            }
        })
        .response
        .labelled_by(label.id)
        .on_hover_text("The customer table's column whose sum is a segment's revenue");
    if let Some(column) = chosen.filter(|c| *c != board.revenue_column) {
        let mut next = board.clone();
        let what = format!("revenue column: {}", column.as_deref().unwrap_or("automatic"));
        next.revenue_column = column;
        app.push(Command::EditBoard { board: Box::new(next), what });
    }
}

/// The strip of the run's segments to drag onto the board (or place with "Place in...").
fn palette_ui(ui: &mut Ui, app: &mut StrataApp, board: &Board, segments: &Segments) {
    ui.label(RichText::new("Segments: drag one onto a quadrant, or use \"Place in...\"").strong());
    // Many segments wrap, then scroll: the quadrants stay in view.
    let max_height = (ui.ctx().content_rect().height() * 0.22).max(70.0);
    egui::ScrollArea::vertical().id_salt("swot-palette").max_height(max_height).show(ui, |ui| {
        ui.horizontal_wrapped(|ui| {
            for s in 0..segments.names.len() {
                // A framed chip is not one widget: the row cannot wrap it by itself. Its width from
                // the last frame says whether it still fits on this row.
                let width_id = ui.scope_id().with(("swot-chip-width", s));
                let width = ui.data(|d| d.get_temp::<f32>(width_id)).unwrap_or(180.0);
                if ui.available_width() < width && ui.cursor().left() > ui.max_rect().left() + 1.0 {
                    ui.end_row();
                }
                let drawn = segment_chip_ui(ui, app, board, segments, s);
                ui.data_mut(|d| d.insert_temp(width_id, drawn.width()));
            }
        });
    });
}

fn segment_chip_ui(ui: &mut Ui, app: &mut StrataApp, board: &Board, segments: &Segments, s: usize) -> egui::Rect {
    let colour = segments.colours.of(s);
    let name = segments.name(s);
    let size = segments.evidence(s).map(|e| count_text(e.size)).unwrap_or_default();
    let chip = egui::Frame::group(ui.style()).stroke(egui::Stroke::new(1.5, colour)).inner_margin(4.0).show(ui, |ui| {
        ui.horizontal(|ui| {
            ui.dnd_drag_source(egui::Id::unique(("swot-segment", s)), BoardDrag::Segment(s), |ui| {
                swatch_ui(ui, colour);
                ui.label(RichText::new(&name).color(colour).strong());
                ui.label(RichText::new(size).weak());
            })
            .response
            .on_hover_text(format!("Drag \"{name}\" onto a quadrant"));
            ui.menu_button("Place in...", |ui| {
                for q in Quadrant::ALL {
                    let there = board.cards_in(q).any(|c| c.subject == Subject::Segment(SegmentRef::Segment(s)));
                    if ui.add_enabled(!there, egui::Button::new(q.label())).clicked() {
                        drop_on(app, board, segments, BoardDrag::Segment(s), q);
                        ui.close();
                    }
                }
            })
            .response
            .on_hover_text(format!("Place \"{name}\" in a quadrant"));
            if board.hints.shown
                && let Some(e) = segments.evidence(s)
            {
                for (q, line) in hint_lines(&hints_for(&board.hints.rules, e)) {
                    if let Some(q) = q {
                        ui.label(RichText::new(format!("{}?", q.letter())).color(quadrant_colour(q)).strong())
                            .on_hover_text(line);
                    }
                }
            }
        });
    });
    chip.response.rect
}

fn drop_on(app: &mut StrataApp, board: &Board, segments: &Segments, drag: BoardDrag, quadrant: Quadrant) {
    if let Some((next, what)) = dropped(board, drag, quadrant, &|s| segments.name(s)) {
        app.push(Command::EditBoard { board: Box::new(next), what });
    }
}

fn quadrants_ui(ui: &mut Ui, app: &mut StrataApp, board: &Board, segments: &Segments, left: f32) {
    // Two rows that share the height left in view, but never so small a card cannot be read.
    // (Each row adds the frame's margins and stroke, about 30 points, to the height asked for.)
    let height = ((left - 8.0) / 2.0 - 30.0).max(230.0);
    for row in [[Quadrant::Strengths, Quadrant::Weaknesses], [Quadrant::Opportunities, Quadrant::Threats]] {
        ui.columns(2, |columns| {
            for (ui, q) in columns.iter_mut().zip(row) {
                quadrant_ui(ui, app, board, segments, q, height);
            }
        });
        ui.add_space(4.0);
    }
}

fn quadrant_ui(ui: &mut Ui, app: &mut StrataApp, board: &Board, segments: &Segments, quadrant: Quadrant, height: f32) {
    let colour = quadrant_colour(quadrant);
    let frame = egui::Frame::group(ui.style())
        .stroke(egui::Stroke::new(2.0, colour))
        .fill(colour.gamma_multiply(0.06))
        .inner_margin(8.0);
    let (_, payload) = ui.dnd_drop_zone::<BoardDrag, ()>(frame, |ui| {
        ui.set_width(ui.available_width());
        ui.set_min_height(height);
        ui.horizontal(|ui| {
            ui.label(RichText::new(quadrant.label()).heading().color(colour).strong());
            let n = board.cards_in(quadrant).count();
            ui.label(RichText::new(if n == 1 { "1 card".into() } else { format!("{n} cards") }).weak());
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let open = app.view.board.adding.as_ref().is_some_and(|(q, _)| *q == quadrant);
                if !open
                    && ui
                        .button(format!("Add item to {}", quadrant.label()))
                        .on_hover_text("A card that is not a segment: a competitor's move, a capability, a regulation")
                        .clicked()
                {
                    app.view.board.adding = Some((quadrant, String::new()));
                }
            });
        });
        add_item_ui(ui, app, board, quadrant);
        egui::ScrollArea::vertical()
            .id_salt(("swot-quadrant", quadrant))
            .max_height((height - 40.0).max(120.0))
            .auto_shrink([false, true])
            .show(ui, |ui| {
                let cards: Vec<Card> = board.cards_in(quadrant).cloned().collect();
                if cards.is_empty() {
                    ui.label(
                        RichText::new(format!(
                            "Drag a segment here, or use \"Place in...\", to mark it {}.",
                            quadrant.one()
                        ))
                        .weak(),
                    );
                }
                for card in &cards {
                    card_ui(ui, app, board, segments, card);
                    ui.add_space(4.0);
                }
            });
    });
    if let Some(drag) = payload {
        drop_on(app, board, segments, *drag, quadrant);
    }
}

fn add_item_ui(ui: &mut Ui, app: &mut StrataApp, board: &Board, quadrant: Quadrant) {
    let Some((q, text)) = &mut app.view.board.adding else { return };
    if *q != quadrant {
        return;
    }
    let mut add = false;
    let mut cancel = false;
    ui.horizontal(|ui| {
        let response = ui.add(
            egui::TextEdit::singleline(text)
                .id_salt(("swot-new-item", quadrant))
                .char_limit(MAX_NAME_CHARS)
                .hint_text("A competitor's move, a capability, a regulation...")
                .desired_width((ui.available_width() - 140.0).max(120.0)),
        );
        accessible_name(&response, &format!("New item in {}", quadrant.label()));
        let entered = response.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        add = ui.button("Add").clicked() || entered;
        cancel = ui.button("Cancel").clicked();
    });
    let text = text.trim().to_string();
    if cancel {
        app.view.board.adding = None;
    } else if add && !text.is_empty() && board.cards.len() < MAX_CARDS {
        let mut next = board.clone();
        next.add_text(&text, quadrant, "");
        app.view.board.adding = None;
        app.push(Command::EditBoard { board: Box::new(next), what: format!("add '{text}' to {}", quadrant.label()) });
    }
}

fn card_ui(ui: &mut Ui, app: &mut StrataApp, board: &Board, segments: &Segments, card: &Card) {
    let title = card_title(card, &|s| segments.name(s));
    let (colour, detached) = match &card.subject {
        Subject::Segment(SegmentRef::Segment(s)) if *s < segments.names.len() => (segments.colours.of(*s), false),
        Subject::Segment(_) => (Color32::from_gray(140), true),
        Subject::Text(_) => (ui.visuals().weak_text_color(), false),
    };
    egui::Frame::group(ui.style()).stroke(egui::Stroke::new(1.5, colour)).inner_margin(6.0).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.horizontal(|ui| {
            ui.dnd_drag_source(egui::Id::unique(("swot-card", card.id)), BoardDrag::Card(card.id), |ui| {
                swatch_ui(ui, colour);
                let text = RichText::new(&title).strong();
                match &card.subject {
                    // Its words are in the field below, where they can be changed.
                    Subject::Text(_) => ui.label(RichText::new("Item").weak()),
                    _ if detached => ui.label(text.color(colour).italics()),
                    _ => ui.label(text.color(colour)),
                };
            })
            .response
            .on_hover_text("Drag to another quadrant");
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let remove =
                    ui.small_button("Remove").on_hover_text(format!("Take \"{title}\" off {}", card.quadrant.label()));
                if remove.clicked() {
                    let mut next = board.clone();
                    next.remove_card(card.id);
                    let what = format!("remove '{title}' from {}", card.quadrant.label());
                    app.push(Command::EditBoard { board: Box::new(next), what });
                }
                ui.menu_button("Move to...", |ui| {
                    for q in Quadrant::ALL.into_iter().filter(|q| *q != card.quadrant) {
                        if ui.button(q.label()).clicked() {
                            drop_on(app, board, segments, BoardDrag::Card(card.id), q);
                            ui.close();
                        }
                    }
                });
            });
        });
        match &card.subject {
            Subject::Segment(SegmentRef::Detached { why, .. }) => {
                ui.label(RichText::new(format!("No longer a segment: {why}.")).weak().italics());
            }
            Subject::Segment(SegmentRef::Segment(s)) => match segments.evidence(*s) {
                Some(e) => {
                    for line in e.lines() {
                        ui.label(line);
                    }
                    if board.hints.shown {
                        for (q, line) in hint_lines(&hints_for(&board.hints.rules, e)) {
                            let text = RichText::new(line).italics();
                            ui.label(match q {
                                Some(q) => text.color(quadrant_colour(q)),
                                None => text.weak(),
                            });
                        }
                    }
                }
                None => {
                    ui.label(RichText::new("Not a segment of this run").weak().italics());
                }
            },
            Subject::Text(text) => {
                let mut edited = text.clone();
                let response = ui.add(
                    egui::TextEdit::singleline(&mut edited)
                        .id_salt(("swot-item-text", card.id))
                        .char_limit(MAX_NAME_CHARS)
                        .desired_width(f32::INFINITY),
                );
                accessible_name(&response, &format!("Text of item {} in {}", card.id, card.quadrant.label()));
                // An item is never left without words: the project refuses an empty one.
                if response.changed() && !edited.trim().is_empty() {
                    let mut next = board.clone();
                    if let Some(c) = next.cards.iter_mut().find(|c| c.id == card.id) {
                        c.subject = Subject::Text(edited);
                    }
                    app.push(Command::EditBoard { board: Box::new(next), what: format!("text of item {}", card.id) });
                }
            }
        }
        let mut note = card.note.clone();
        let response = ui.add(
            egui::TextEdit::multiline(&mut note)
                .id_salt(("swot-note", card.id))
                .char_limit(MAX_TEXT_CHARS)
                .desired_rows(1)
                .desired_width(f32::INFINITY)
                .hint_text("Why is it here?"),
        );
        accessible_name(&response, &format!("Note on {title} in {}", card.quadrant.label()));
        if response.changed() {
            let mut next = board.clone();
            if let Some(c) = next.cards.iter_mut().find(|c| c.id == card.id) {
                c.note = note;
            }
            let what = format!("note on '{title}' in {}", card.quadrant.label());
            app.push(Command::EditBoard { board: Box::new(next), what });
        }
    });
}
