//! The placement hint rules' editor: one rule per line, each line's parse error beside it.

use eframe::egui::{self, RichText, Ui};

use crate::app::widgets::accessible_name;
use crate::app::{Command, StrataApp};
use crate::engine::project::validate::MAX_RULE_CHARS;
use crate::engine::swot::hints::{DEFAULT_RULES, parse};
use crate::engine::swot::{Board, MAX_HINT_RULES};

/// What a rule may say, for the editor's help.
const HELP: &str = "when CONDITION [and CONDITION]... then strength | weakness | opportunity | threat\n\
    Measures: customer_share, revenue_share, revenue_index (1 = average customer), stability (Jaccard), \
    trend (change of the share over the time windows), compared with <, <=, >, >= and a number or a \
    percentage.\nWords: stable (stability >= 0.75), unstable, growing (trend >= 10%), shrinking (trend <= -10%).";

pub(super) fn rules_editor_ui(ui: &mut Ui, app: &mut StrataApp, board: &Board) {
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.horizontal(|ui| {
            ui.label(RichText::new("Placement hint rules, one per line").strong());
            ui.label(RichText::new("(?)").weak()).on_hover_text(HELP);
        });
        ui.label(RichText::new("Hints only suggest: the facilitator decides where a card goes.").weak());
        let mut next: Option<(Vec<String>, String)> = None;
        for (i, rule) in board.hints.rules.iter().enumerate() {
            ui.horizontal(|ui| {
                ui.label(format!("{}.", i + 1));
                let mut text = rule.clone();
                let response = ui.add(
                    egui::TextEdit::singleline(&mut text)
                        .id_salt(("swot-hint-rule", i))
                        .char_limit(MAX_RULE_CHARS)
                        .font(egui::TextStyle::Monospace)
                        .desired_width((ui.available_width() - 90.0).clamp(160.0, 720.0)),
                );
                accessible_name(&response, &format!("Hint rule {}", i + 1));
                if response.changed() {
                    let mut rules = board.hints.rules.clone();
                    rules[i] = text;
                    next = Some((rules, format!("hint rule {}", i + 1)));
                }
                if ui.small_button("Remove").on_hover_text(format!("Remove rule {}", i + 1)).clicked() {
                    let mut rules = board.hints.rules.clone();
                    rules.remove(i);
                    next = Some((rules, format!("remove hint rule {}", i + 1)));
                }
            });
            if let Err(e) = parse(rule) {
                ui.label(RichText::new(format!("Line {}: {e}", i + 1)).color(ui.visuals().error_fg_color));
            }
        }
        ui.horizontal(|ui| {
            let room = board.hints.rules.len() < MAX_HINT_RULES;
            if ui.add_enabled(room, egui::Button::new("Add a rule")).clicked() {
                let mut rules = board.hints.rules.clone();
                rules.push("when revenue_share >= 20% then strength".to_string());
                next = Some((rules, "add a hint rule".to_string()));
            }
            let defaults: Vec<String> = DEFAULT_RULES.iter().map(|r| r.to_string()).collect();
            if ui.add_enabled(board.hints.rules != defaults, egui::Button::new("Restore the default rules")).clicked() {
                next = Some((defaults, "restore the default hint rules".to_string()));
            }
        });
        if let Some((rules, what)) = next {
            let mut board = board.clone();
            board.hints.rules = rules;
            app.push(Command::EditBoard { board: Box::new(board), what });
        }
    });
}
