//! The Data screen's editor of derived columns: each `name = expression` with its formula, a draft
//! with a preview of the first rows (or its error, inline), and add, edit and remove as undoable
//! edits of the project.

use eframe::egui::{self, RichText, Ui};
use polars::prelude::DataFrame;

use crate::app::{Command, StrataApp};
use crate::engine::derive::{self, DerivedColumn, DerivedColumns};
use crate::engine::pipeline::PipelineSpec;

/// What the editor remembers between frames: the draft and its preview.
#[derive(Default)]
pub struct DeriveState {
    /// The draft's name as typed.
    pub name: String,
    /// The draft's expression as typed.
    pub expression: String,
    /// The derived column being edited (its index), or `None` for a new one.
    pub editing: Option<usize>,
    /// The preview of the draft: what it was computed from, and the rows or the error.
    preview: Option<(PreviewKey, Result<DataFrame, String>)>,
}

/// What a preview depends on: the derived columns with the draft in place, and the rows read.
#[derive(PartialEq)]
struct PreviewKey {
    derived: DerivedColumns,
    rows: usize,
    columns: Vec<String>,
}

impl DeriveState {
    /// The derived columns the draft would make, with the draft in place (`None` while it is empty).
    fn drafted(&self, current: &DerivedColumns) -> Option<DerivedColumns> {
        if self.name.trim().is_empty() && self.expression.trim().is_empty() {
            return None;
        }
        let draft =
            DerivedColumn { name: self.name.trim().to_string(), expression: self.expression.trim().to_string() };
        let mut next = current.clone();
        match self.editing.filter(|&i| i < next.columns.len()) {
            Some(i) => next.columns[i] = draft,
            None => next.columns.push(draft),
        }
        Some(next)
    }
}

/// The "Derived columns" section of the Data screen's settings.
pub fn derived_columns_ui(ui: &mut Ui, app: &mut StrataApp, spec: &PipelineSpec) {
    let count = spec.derived.columns.len();
    let title = if count == 0 { "Derived columns".to_string() } else { format!("Derived columns ({count})") };
    egui::CollapsingHeader::new(title).id_salt("derived-columns").default_open(count > 0).show(ui, |ui| {
        ui.label(
            RichText::new(
                "Columns computed from others with SQL: price * nights, CASE WHEN ... END, coalesce, ln, round, \
                 EXTRACT(month FROM date), lower, trim, LIKE, regexp_like. Computed on the rows as read, in order.",
            )
            .weak(),
        );
        list_ui(ui, app, spec);
        for lookup in &spec.derived.lookups {
            ui.label(RichText::new(format!("lookup {} on {}", lookup.path, lookup.on.join(", "))).monospace().weak())
                .on_hover_text("A table joined by its keys; its columns can be used in expressions (--lookup)");
        }
        ui.separator();
        draft_ui(ui, app, spec);
    });
}

fn list_ui(ui: &mut Ui, app: &mut StrataApp, spec: &PipelineSpec) {
    let mut remove = None;
    for (i, column) in spec.derived.columns.iter().enumerate() {
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(format!("{} = {}", column.name, column.expression)).monospace());
            if ui.small_button("Edit formula").on_hover_text(format!("Edit the formula of {}", column.name)).clicked() {
                app.view.derive.name = column.name.clone();
                app.view.derive.expression = column.expression.clone();
                app.view.derive.editing = Some(i);
            }
            if ui
                .small_button("Remove derived column")
                .on_hover_text(format!("Remove the derived column {}", column.name))
                .clicked()
            {
                remove = Some(i);
            }
        });
    }
    if let Some(i) = remove {
        let mut next = spec.clone();
        let gone = next.derived.columns.remove(i);
        if app.view.derive.editing == Some(i) {
            app.view.derive = DeriveState::default();
        }
        app.push(Command::EditSpec { spec: Box::new(next), what: format!("remove derived column {}", gone.name) });
    }
}

fn draft_ui(ui: &mut Ui, app: &mut StrataApp, spec: &PipelineSpec) {
    let state = &mut app.view.derive;
    ui.horizontal(|ui| {
        let label = ui.label("Derived column name");
        ui.add(egui::TextEdit::singleline(&mut state.name).hint_text("amount").desired_width(140.0))
            .labelled_by(label.id)
            .on_hover_text("Letters, digits and _, not the name of a column the data has");
    });
    let label = ui.label("Expression");
    ui.add(
        egui::TextEdit::multiline(&mut state.expression)
            .hint_text("price * (weekend_nights + week_nights)")
            .code_editor()
            .desired_rows(2)
            .desired_width(f32::INFINITY),
    )
    .labelled_by(label.id)
    .on_hover_text("A SQL expression over the columns of one row (double-quote names with spaces)");

    let drafted = state.drafted(&spec.derived);
    let frame = app.preview.as_ref().filter(|p| p.source.source == spec.source.source).map(|p| p.frame.clone());
    let preview = match (&drafted, &frame) {
        (Some(derived), Some(frame)) => Some(preview_of(&mut app.view.derive, derived, frame)),
        (Some(derived), None) => Some(derived.check().map(|_| DataFrame::empty()).map_err(|e| e.to_string())),
        _ => None,
    };
    let editing = app.view.derive.editing.filter(|&i| i < spec.derived.columns.len());
    ui.horizontal(|ui| {
        let state = &mut app.view.derive;
        let verb = if editing.is_some() { "Save derived column" } else { "Add derived column" };
        let ok = matches!(preview, Some(Ok(_)));
        let button = ui.add_enabled(ok, egui::Button::new(verb)).on_hover_text(if ok {
            "Store it in the project; the data is read again with it"
        } else {
            "Write a name and an expression that computes"
        });
        if button.clicked()
            && let Some(next_derived) = drafted.clone()
        {
            let name = state.name.trim().to_string();
            let what = match editing {
                Some(_) => format!("edit derived column {name}"),
                None => format!("add derived column {name}"),
            };
            *state = DeriveState::default();
            let mut next = spec.clone();
            next.derived = next_derived;
            app.push(Command::EditSpec { spec: Box::new(next), what });
        }
        let state = &mut app.view.derive;
        if (editing.is_some() || !state.name.is_empty() || !state.expression.is_empty())
            && ui.button("Clear").on_hover_text("Forget the draft").clicked()
        {
            *state = DeriveState::default();
        }
    });
    match preview {
        Some(Ok(rows)) if rows.width() > 0 => preview_table_ui(ui, &rows),
        Some(Ok(_)) => {
            ui.label(RichText::new("The preview shows once the data is read.").weak());
        }
        Some(Err(error)) => {
            let note = if spec.derived.lookups.is_empty() {
                String::new()
            } else {
                " (lookup columns are joined when the data is read, not in this preview)".to_string()
            };
            ui.colored_label(ui.visuals().error_fg_color, format!("{}{note}", crate::app::words::for_window(&error)));
        }
        None => {}
    }
}

/// The preview of `derived` on the first rows of `frame`, computed again only when either changed.
fn preview_of(state: &mut DeriveState, derived: &DerivedColumns, frame: &DataFrame) -> Result<DataFrame, String> {
    let key = PreviewKey {
        derived: derived.clone(),
        rows: frame.height(),
        columns: frame.get_column_names().iter().map(|c| c.to_string()).collect(),
    };
    if let Some((old, result)) = &state.preview
        && *old == key
    {
        return result.clone();
    }
    let result = derive::preview(frame, derived).map_err(|e| e.to_string());
    state.preview = Some((key, result.clone()));
    result
}

fn preview_table_ui(ui: &mut Ui, rows: &DataFrame) {
    ui.label(RichText::new(format!("First {} rows:", rows.height())).weak());
    egui::ScrollArea::horizontal().id_salt("derive-preview").show(ui, |ui| {
        egui::Grid::new("derive-preview-grid").striped(true).show(ui, |ui| {
            for column in rows.columns() {
                ui.strong(column.name().as_str());
            }
            ui.end_row();
            for i in 0..rows.height() {
                for column in rows.columns() {
                    let text = match column.get(i) {
                        Ok(polars::prelude::AnyValue::Null) | Err(_) => String::new(),
                        Ok(polars::prelude::AnyValue::String(s)) => s.to_string(),
                        Ok(v) => v.to_string(),
                    };
                    ui.label(RichText::new(text).monospace());
                }
                ui.end_row();
            }
        });
    });
}
