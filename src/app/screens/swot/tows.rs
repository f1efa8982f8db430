//! The TOWS view: strengths and weaknesses paired with opportunities and threats in four strategy
//! cells (SO, ST, WO, WT), each strategy with an action, an owner, the cards it pairs and the
//! segments it targets.

use eframe::egui::{self, RichText, Ui};

use super::{Segments, card_title, quadrant_colour};
use crate::app::widgets::{accessible_name, swatch_ui};
use crate::app::{Command, StrataApp};
use crate::engine::project::validate::{MAX_NAME_CHARS, MAX_TEXT_CHARS};
use crate::engine::swot::{Board, MAX_STRATEGIES, SegmentRef, Strategy, TowsCell};

pub(super) fn tows_ui(ui: &mut Ui, app: &mut StrataApp, board: &Board, segments: &Segments) {
    ui.label(
        RichText::new(
            "Pair what is inside (strengths, weaknesses) with what is outside (opportunities, threats): each \
             strategy says what will be done, who owns it, which cards it pairs and which segments it targets.",
        )
        .weak(),
    );
    egui::ScrollArea::vertical().id_salt("swot-tows").auto_shrink([false, false]).show(ui, |ui| {
        for row in [[TowsCell::SO, TowsCell::ST], [TowsCell::WO, TowsCell::WT]] {
            ui.columns(2, |columns| {
                for (ui, cell) in columns.iter_mut().zip(row) {
                    cell_ui(ui, app, board, segments, cell);
                }
            });
            ui.add_space(6.0);
        }
    });
}

fn cell_ui(ui: &mut Ui, app: &mut StrataApp, board: &Board, segments: &Segments, cell: TowsCell) {
    let (internal, external) = cell.quadrants();
    egui::Frame::group(ui.style()).inner_margin(8.0).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.set_min_height(160.0);
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(cell.code()).heading().strong());
            ui.label(RichText::new(internal.label()).color(quadrant_colour(internal)).strong());
            ui.label("x");
            ui.label(RichText::new(external.label()).color(quadrant_colour(external)).strong());
        });
        ui.label(RichText::new(format!("Strategies that {}.", cell.meaning())).weak());
        for strategy in board.strategies.iter().filter(|s| s.cell == cell) {
            strategy_ui(ui, app, board, segments, strategy);
            ui.add_space(4.0);
        }
        let room = board.strategies.len() < MAX_STRATEGIES;
        if ui.add_enabled(room, egui::Button::new(format!("Add a strategy to {}", cell.code()))).clicked() {
            let mut next = board.clone();
            let id = next.next_strategy_id();
            next.strategies.push(Strategy {
                id,
                cell,
                action: String::new(),
                owner: String::new(),
                cards: Vec::new(),
                segments: Vec::new(),
            });
            app.push(Command::EditBoard { board: Box::new(next), what: format!("add a {} strategy", cell.code()) });
        }
    });
}

fn strategy_ui(ui: &mut Ui, app: &mut StrataApp, board: &Board, segments: &Segments, strategy: &Strategy) {
    let id = strategy.id;
    let mut next: Option<(Strategy, String)> = None;
    let mut remove = false;
    egui::Frame::group(ui.style()).inner_margin(6.0).show(ui, |ui| {
        ui.set_width(ui.available_width());
        egui::Grid::new(("swot-strategy", id)).num_columns(2).show(ui, |ui| {
            for (field, max, hint) in
                [("Action", MAX_TEXT_CHARS, "What will be done"), ("Owner", MAX_NAME_CHARS, "Who owns it")]
            {
                ui.label(field);
                let mut text = if field == "Action" { strategy.action.clone() } else { strategy.owner.clone() };
                let response = ui.add(
                    egui::TextEdit::singleline(&mut text)
                        .id_salt(("swot-strategy-field", id, field))
                        .char_limit(max)
                        .hint_text(hint)
                        .desired_width((ui.available_width() - 8.0).max(120.0)),
                );
                accessible_name(&response, &format!("{field} of strategy {id}"));
                if response.changed() {
                    let mut s = strategy.clone();
                    if field == "Action" {
                        s.action = text;
                    } else {
                        s.owner = text;
                    }
                    next = Some((s, format!("{} of strategy {id}", field.to_lowercase())));
                }
                ui.end_row();
            }
        });
        let (internal, external) = strategy.cell.quadrants();
        ui.label(RichText::new("Pairs").strong());
        ui.horizontal_wrapped(|ui| {
            let mut any = false;
            for card in board.cards.iter().filter(|c| c.quadrant == internal || c.quadrant == external) {
                any = true;
                let mut on = strategy.cards.contains(&card.id);
                let text = format!("{}: {}", card.quadrant.letter(), card_title(card, &|s| segments.name(s)));
                if ui.checkbox(&mut on, RichText::new(text).color(quadrant_colour(card.quadrant))).changed() {
                    let mut s = strategy.clone();
                    s.cards.retain(|c| *c != card.id);
                    if on {
                        s.cards.push(card.id);
                    }
                    next = Some((s, format!("pairs of strategy {id}")));
                }
            }
            if !any {
                ui.label(
                    RichText::new(format!(
                        "No card in {} or {} yet: place some on the board.",
                        internal.label(),
                        external.label()
                    ))
                    .weak(),
                );
            }
        });
        ui.label(RichText::new("Targets").strong());
        ui.horizontal_wrapped(|ui| {
            for s in 0..segments.names.len() {
                let r = SegmentRef::Segment(s);
                let mut on = strategy.segments.contains(&r);
                ui.horizontal(|ui| {
                    swatch_ui(ui, segments.colours.of(s));
                    if ui.checkbox(&mut on, segments.name(s)).changed() {
                        let mut st = strategy.clone();
                        st.segments.retain(|x| *x != r);
                        if on {
                            st.segments.push(r.clone());
                        }
                        next = Some((st, format!("targets of strategy {id}")));
                    }
                });
            }
            // Targets that no longer are segments stay until taken off.
            for r in strategy.segments.iter().filter(|r| matches!(r, SegmentRef::Detached { .. })) {
                let mut on = true;
                let name = crate::engine::swot::decisions::ref_name(r, &|s| segments.name(s));
                if ui.checkbox(&mut on, RichText::new(name).weak().italics()).changed() {
                    let mut st = strategy.clone();
                    st.segments.retain(|x| x != r);
                    next = Some((st, format!("targets of strategy {id}")));
                }
            }
        });
        if ui.small_button("Remove strategy").on_hover_text(format!("Remove strategy {id}")).clicked() {
            remove = true;
        }
    });
    if remove {
        let mut board = board.clone();
        board.strategies.retain(|s| s.id != id);
        app.push(Command::EditBoard { board: Box::new(board), what: format!("remove strategy {id}") });
    } else if let Some((strategy, what)) = next {
        let mut board = board.clone();
        if let Some(s) = board.strategies.iter_mut().find(|s| s.id == id) {
            *s = strategy;
        }
        app.push(Command::EditBoard { board: Box::new(board), what });
    }
}
