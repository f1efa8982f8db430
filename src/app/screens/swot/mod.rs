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
use crate::engine::swot::{Board, Card, MAX_CARDS, Quadrant, SegmentRef, Subject};

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
    /// An item's text as typed while its field has the focus (it may be empty for a moment: the
    /// board keeps the last words until new ones are typed).
    pub item_text: Option<(u32, String)>,
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

/// The hints in words: "strength candidate: revenue share 38% >= 30%; stability 0.91 >= 0.75".
fn hint_lines(hints: &Hints) -> Vec<(Quadrant, String)> {
    hints
        .hints
        .iter()
        .map(|h| {
            let one = h.quadrant.one();
            let word = one.split_once(' ').map_or(one, |(_, w)| w);
            (h.quadrant, format!("{word} candidate: {}", h.because))
        })
        .collect()
}

/// The hint rules no segment can be judged by yet, each once with what it needs: "not judged
/// ("when ... stable ..."): needs a stability check".
fn unjudged_lines(board: &Board, evidence: &BoardEvidence) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for e in &evidence.segments {
        for (rule, needs) in hints_for(&board.hints.rules, e).unjudged {
            let line = format!("Hint rule \"{rule}\" is not judged: it needs {needs}.");
            if !lines.contains(&line) {
                lines.push(line);
            }
        }
    }
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
    if board.hints.shown {
        for line in unjudged_lines(&board, &segments.evidence) {
            ui.label(RichText::new(line).weak().italics());
        }
    }
    if app.view.board.editing_rules {
        rules::rules_editor_ui(ui, app, &board);
    }
    ui.separator();
    match app.view.board.tab {
        BoardTab::Quadrants => {
            // What is in view: the quadrants share it (a scroll area's own height is not a bound).
            let visible = ui.available_height();
            let width = ui.available_width();
            egui::ScrollArea::vertical().id_salt("swot-board").auto_shrink([false, false]).show(ui, |ui| {
                // A vertical scroll area widens to content wider than the window: keep the board
                // to the window's width (what does not fit wraps, stacks or is cut with "…").
                ui.set_max_width(width);
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
            let row = ui.max_rect().width();
            for s in 0..segments.names.len() {
                // A framed chip is not one widget: the row cannot wrap it by itself. Its width from
                // the last frame says whether it still fits on this row.
                let width_id = ui.scope_id().with(("swot-chip-width", s));
                let width = ui.data(|d| d.get_temp::<f32>(width_id)).unwrap_or(180.0);
                // (`available_width` is the whole row's in a wrapping layout: ask for what is left.)
                if ui.available_size_before_wrap().x < width && ui.cursor().left() > ui.max_rect().left() + 1.0 {
                    ui.end_row();
                }
                let drawn = segment_chip_ui(ui, app, board, segments, s, row);
                ui.data_mut(|d| d.insert_temp(width_id, drawn.width()));
            }
        });
    });
}

/// One segment of the strip; its name is cut with "…" where the chip would be wider than `row`.
fn segment_chip_ui(
    ui: &mut Ui,
    app: &mut StrataApp,
    board: &Board,
    segments: &Segments,
    s: usize,
    row: f32,
) -> egui::Rect {
    let colour = segments.colours.of(s);
    let name = segments.name(s);
    let size = segments.evidence(s).map(SegmentEvidence::size_words).unwrap_or_default();
    let chip = egui::Frame::group(ui.style()).stroke(egui::Stroke::new(1.5, colour)).inner_margin(4.0).show(ui, |ui| {
        ui.horizontal(|ui| {
            ui.dnd_drag_source(egui::Id::unique(("swot-segment", s)), BoardDrag::Segment(s), |ui| {
                swatch_ui(ui, colour);
                // Room for the swatch, the size, "Place in..." and the hints beside the name.
                let room = (row - 11.0 * ui.text_style_height(&egui::TextStyle::Body)).max(60.0);
                ui.scope(|ui| {
                    ui.set_max_width(room);
                    ui.add(egui::Label::new(RichText::new(&name).color(colour).strong()).truncate());
                });
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
                    ui.label(RichText::new(format!("{}?", q.letter())).color(quadrant_colour(q)).strong())
                        .on_hover_text(line);
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

/// Below this width (in points: a small window, or a projector's large scale) the quadrants stack
/// in one column instead of two, so a card's name and buttons still fit on its row.
const TWO_COLUMNS_FROM: f32 = 760.0;

fn quadrants_ui(ui: &mut Ui, app: &mut StrataApp, board: &Board, segments: &Segments, left: f32) {
    // Two rows that share the height left in view, but never so small a card cannot be read.
    // (Each row adds the frame's margins and stroke, about 30 points, to the height asked for.)
    let height = ((left - 8.0) / 2.0 - 30.0).max(230.0);
    if ui.available_width() < TWO_COLUMNS_FROM {
        for q in Quadrant::ALL {
            quadrant_ui(ui, app, board, segments, q, height);
            ui.add_space(4.0);
        }
        return;
    }
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
    let frame =
        egui::Frame::group(ui.style()).stroke(egui::Stroke::new(1.5, colour)).inner_margin(6.0).show(ui, |ui| {
            ui.set_width(ui.available_width());
            // The buttons first, from the right; the title takes what is left and is cut with "…"
            // (its full text on hover) so a long name never widens the card.
            // (In a row of its own: a right-to-left layout in a column takes all its height.)
            ui.horizontal(|ui| {
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    let remove = ui
                        .small_button("Remove")
                        .on_hover_text(format!("Take \"{title}\" off {}", card.quadrant.label()));
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
                        ui.separator();
                        for (step, label) in [(-1, "Up"), (1, "Down")] {
                            let mut next = board.clone();
                            let moves = next.nudge(card.id, step);
                            let what = format!("move '{title}' {} in {}", label.to_lowercase(), card.quadrant.label());
                            if ui.add_enabled(moves, egui::Button::new(label)).clicked() {
                                app.push(Command::EditBoard { board: Box::new(next), what });
                                ui.close();
                            }
                        }
                    });
                    ui.with_layout(egui::Layout::left_to_right(egui::Align::Center), |ui| {
                        ui.dnd_drag_source(egui::Id::unique(("swot-card", card.id)), BoardDrag::Card(card.id), |ui| {
                            swatch_ui(ui, colour);
                            let text = RichText::new(&title).strong();
                            let label = match &card.subject {
                                // Its words are in the field below, where they can be changed.
                                Subject::Text(_) => egui::Label::new(RichText::new("Item").weak()),
                                _ if detached => egui::Label::new(text.color(colour).italics()),
                                _ => egui::Label::new(text.color(colour)),
                            };
                            ui.add(label.truncate());
                        })
                        .response
                        .on_hover_text(format!("{title}: drag to another quadrant, or onto a card to put it before"));
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
                            // Rules that cannot be judged are said once above the board, not per card.
                            for (q, line) in hint_lines(&hints_for(&board.hints.rules, e)) {
                                ui.label(RichText::new(line).italics().color(quadrant_colour(q)));
                            }
                        }
                    }
                    None => {
                        ui.label(RichText::new("Not a segment of this run").weak().italics());
                    }
                },
                Subject::Text(text) => item_text_ui(ui, app, board, card, text),
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
    // A card or segment dropped on this card goes just before it.
    let response = frame.response;
    if response.dnd_hover_payload::<BoardDrag>().is_some_and(|d| *d != BoardDrag::Card(card.id)) {
        let y = response.rect.top() - 2.0;
        ui.painter().hline(response.rect.x_range(), y, egui::Stroke::new(3.0, ui.visuals().selection.stroke.color));
    }
    if let Some(drag) = response.dnd_release_payload::<BoardDrag>() {
        drop_before(app, board, segments, *drag, card);
    }
}

/// `drag` dropped on `target`: placed in (or moved to) its quadrant, just before it.
fn drop_before(app: &mut StrataApp, board: &Board, segments: &Segments, drag: BoardDrag, target: &Card) {
    let quadrant = target.quadrant;
    let (mut next, what, id) = match drag {
        BoardDrag::Card(id) if id == target.id => return,
        BoardDrag::Card(id) if board.card(id).is_some_and(|c| c.quadrant == quadrant) => {
            let moved = board.card(id).map(|c| card_title(c, &|s| segments.name(s))).unwrap_or_default();
            let what = format!(
                "move '{moved}' before '{}' in {}",
                card_title(target, &|s| segments.name(s)),
                quadrant.label()
            );
            (board.clone(), what, id)
        }
        _ => {
            let Some((next, what)) = dropped(board, drag, quadrant, &|s| segments.name(s)) else { return };
            let id = match drag {
                BoardDrag::Card(id) => id,
                BoardDrag::Segment(s) => {
                    let placed =
                        next.cards_in(quadrant).filter(|c| c.subject == Subject::Segment(SegmentRef::Segment(s)));
                    let Some(card) = placed.last() else { return };
                    card.id
                }
            };
            (next, what, id)
        }
    };
    let reordered = next.reorder(id, Some(target.id));
    if reordered || next != *board {
        app.push(Command::EditBoard { board: Box::new(next), what });
    }
}

/// An item's words, editable. Every change with words in it is an edit of the board; while the
/// field is empty the board keeps the last words (the project refuses an item without words) and
/// says so, and leaving the field empty puts them back.
fn item_text_ui(ui: &mut Ui, app: &mut StrataApp, board: &Board, card: &Card, text: &str) {
    let mut edited = match &app.view.board.item_text {
        Some((c, typed)) if *c == card.id => typed.clone(),
        _ => text.to_string(),
    };
    let response = ui.add(
        egui::TextEdit::singleline(&mut edited)
            .id_salt(("swot-item-text", card.id))
            .char_limit(MAX_NAME_CHARS)
            .desired_width(f32::INFINITY),
    );
    accessible_name(&response, &format!("Text of item {} in {}", card.id, card.quadrant.label()));
    if response.has_focus() {
        app.view.board.item_text = Some((card.id, edited.clone()));
    } else if app.view.board.item_text.as_ref().is_some_and(|(c, _)| *c == card.id) {
        app.view.board.item_text = None;
    }
    if edited.trim().is_empty() {
        ui.label(
            RichText::new(format!(
                "An item needs words: \"{text}\" stays until you type new ones (Remove takes it off)."
            ))
            .weak()
            .italics(),
        );
    } else if response.changed() && edited != text {
        let mut next = board.clone();
        if let Some(c) = next.cards.iter_mut().find(|c| c.id == card.id) {
            c.subject = Subject::Text(edited);
        }
        app.push(Command::EditBoard { board: Box::new(next), what: format!("text of item {}", card.id) });
    }
}
