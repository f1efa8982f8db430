//! The Data screen's parts for a transaction log beyond RFM: which behavioural features to compute
//! (a breakdown per categorical column, the spend trend, rhythm and returns), and how the attribute
//! table joined onto the customers (its key and the match rate). They edit the spec, which the
//! project stores and every run applies.

use eframe::egui::{self, RichText, Ui};

use crate::app::{Command, StrataApp};
use crate::engine::features::TransactionColumns;
use crate::engine::features::behaviour::{BehaviourSpec, MAX_BREAKDOWN_COLUMNS, MAX_TREND_DAYS};
use crate::engine::pipeline::PipelineSpec;

/// The trend window offered when the trend is first switched on, in days.
const DEFAULT_TREND_DAYS: u32 = 90;

/// Whether a column of the log is offered for a breakdown: a categorical column (channel,
/// category, country), text the guesses left aside, or the file each row came from; not an id, a
/// date, a number or a sensitive column (the command line still takes any column).
fn offered_for_breakdown(app: &StrataApp, column: &str) -> bool {
    use crate::engine::data::roles::ColumnRole;
    if column == crate::engine::pipeline::several::SOURCE_FILE_COLUMN {
        return true;
    }
    let Some(preview) = &app.preview else { return false };
    let text = preview.frame.column(column).is_ok_and(|c| c.dtype() == &polars::prelude::DataType::String);
    preview
        .roles
        .iter()
        .find(|r| r.column == column)
        .is_some_and(|r| r.role == ColumnRole::Categorical || (r.role == ColumnRole::Ignored && text))
}

/// The behavioural features of a transaction log: one checkbox per column that can be broken down
/// (its categorical columns, see [`offered_for_breakdown`]), the trend with its window, and rhythm,
/// returns and weekend share. Edits `t.behaviour` in place; the caller pushes the changed spec.
pub(super) fn behaviour_ui(ui: &mut Ui, app: &StrataApp, t: &mut TransactionColumns, columns: &[String]) {
    egui::CollapsingHeader::new("Behavioural features").default_open(true).show(ui, |ui| {
        ui.label(
            RichText::new("Computed per customer beside RFM, as of the same date, and offered on the Features screen.")
                .weak(),
        );
        let candidates: Vec<&String> = columns
            .iter()
            .filter(|c| !t.key_columns().contains(c))
            .filter(|c| offered_for_breakdown(app, c) || t.behaviour.breakdown.contains(c))
            .collect();
        let behaviour: &mut BehaviourSpec = &mut t.behaviour;
        if candidates.is_empty() {
            ui.label(RichText::new("The log has no categorical column to break down by.").weak());
        }
        for column in candidates {
            let mut on = behaviour.breakdown.contains(column);
            let full = !on && behaviour.breakdown.len() >= MAX_BREAKDOWN_COLUMNS;
            let response = ui
                .add_enabled(!full, egui::Checkbox::new(&mut on, format!("Break down by {column}")))
                .on_hover_text(format!(
                    "Per value of {column}: the share of spend and of orders, the number of distinct values and the first order's value"
                ));
            if response.changed() {
                if on {
                    behaviour.breakdown.push(column.clone());
                } else {
                    behaviour.breakdown.retain(|c| c != column);
                }
            }
        }
        // A column the spec names that the file no longer has stays listed, so it can be switched off.
        let missing: Vec<String> = behaviour.breakdown.iter().filter(|c| !columns.contains(c)).cloned().collect();
        for column in missing {
            let mut on = true;
            if ui
                .checkbox(&mut on, format!("Break down by {column} (not in the file)"))
                .on_hover_text("Untick to stop breaking the log down by a column it does not have")
                .changed()
            {
                behaviour.breakdown.retain(|c| *c != column);
            }
        }
        ui.horizontal(|ui| {
            let mut trend = behaviour.trend_days.is_some();
            if ui
                .checkbox(&mut trend, "Spend trend")
                .on_hover_text("Spend in the last N days against the N days before (spend_trend from -1 to 1)")
                .changed()
            {
                behaviour.trend_days = trend.then_some(DEFAULT_TREND_DAYS);
            }
            if let Some(days) = &mut behaviour.trend_days {
                ui.add(egui::DragValue::new(days).range(1..=MAX_TREND_DAYS).suffix(" days"))
                    .on_hover_text("Length of each of the two windows the trend compares");
            }
        });
        ui.checkbox(&mut behaviour.rhythm, "Rhythm, returns and weekend share").on_hover_text(
            "Mean and coefficient of variation of the days between purchases, the share and value of returns (negative amounts) and the share of weekend orders",
        );
    });
}

/// The attribute table joined onto the customers: its path, its key column (when not named like
/// the customer id) and, after a run, how many customers matched.
pub(super) fn join_ui(ui: &mut Ui, app: &mut StrataApp, spec: &PipelineSpec) {
    let Some(attributes) = &spec.attributes else { return };
    ui.separator();
    ui.heading("Attribute table");
    match &attributes.source {
        crate::engine::pipeline::DataSource::File(path) => {
            ui.label(RichText::new(path).monospace());
        }
        crate::engine::pipeline::DataSource::DemoAttributes => {
            ui.label("The demo customers' synthetic age group and region (drawn at random; not CDNOW data).");
        }
        crate::engine::pipeline::DataSource::DemoTransactions => {}
    }
    let id = egui::Id::unique("attributes-key");
    let mut text = if ui.memory(|m| m.has_focus(id)) {
        ui.data(|d| d.get_temp::<String>(id)).unwrap_or_default()
    } else {
        spec.attributes_key.clone().unwrap_or_default()
    };
    ui.horizontal(|ui| {
        let label = ui.label("Attribute table key");
        let response = ui
            .add(
                egui::TextEdit::singleline(&mut text)
                    .id(id)
                    .hint_text(spec.id_column().unwrap_or("customer id"))
                    .desired_width(140.0),
            )
            .labelled_by(label.id)
            .on_hover_text("The attribute table's key column, when it is not named like the customer id");
        ui.data_mut(|d| d.insert_temp(id, text.clone()));
        if response.lost_focus() {
            let key = text.trim();
            let key = (!key.is_empty() && Some(key) != spec.id_column()).then(|| key.to_string());
            if key != spec.attributes_key {
                let mut next = spec.clone();
                next.attributes_key = key;
                app.push(Command::EditSpec { spec: Box::new(next), what: "attribute table key".into() });
            }
        }
    });
    if let Some(join) = app.output.as_ref().and_then(|o| o.result.join.as_ref()) {
        let customers = join.matched + join.log_only;
        ui.label(format!(
            "Matched: {} of {} customers ({:.1}%)",
            crate::app::widgets::format_count(join.matched),
            crate::app::widgets::format_count(customers),
            join.match_rate() * 100.0
        ));
        let warn = ui.visuals().warn_fg_color;
        let line = |n: usize, what: &str, examples: &[String]| {
            let mut text = format!("{} {what}", crate::app::widgets::format_count(n));
            if !examples.is_empty() {
                text.push_str(&format!(" (e.g. {})", examples.join(", ")));
            }
            text
        };
        let log_only = line(join.log_only, "customers without attributes", &join.log_only_examples);
        ui.label(if join.log_only > 0 { RichText::new(log_only).color(warn) } else { RichText::new(log_only) });
        ui.label(line(join.attributes_only, "attribute rows without a customer", &join.attributes_only_examples));
    }
}
