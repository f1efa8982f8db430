//! Data: where the data comes from and what it holds. The file as read or the customer table (with
//! virtual scrolling), transaction-log columns and as-of date, column roles, and a quality report per
//! column with a small histogram and the input policy's warnings where they apply.

use eframe::egui::{self, RichText, Ui};
use egui_extras::{Column as TableColumn, TableBuilder};
use polars::prelude::{Column, DataFrame};

use crate::app::widgets::{format_count, format_number, mini_histogram_ui};
use crate::app::{Command, StrataApp};
use crate::engine::data::quality::QualityReport;
use crate::engine::data::roles::{ColumnRole, RoleGuess};
use crate::engine::features::TransactionColumns;
use crate::engine::pipeline::{DataSource, PipelineSpec, TableKind};
use crate::engine::profile::summary::Histogram;

const ROLES: [(ColumnRole, &str); 7] = [
    (ColumnRole::CustomerId, "customer id"),
    (ColumnRole::Numeric, "numeric feature"),
    (ColumnRole::Categorical, "categorical feature"),
    (ColumnRole::Date, "date"),
    (ColumnRole::Amount, "amount"),
    (ColumnRole::Sensitive, "sensitive"),
    (ColumnRole::Ignored, "ignored"),
];

/// How the file is read: its text encoding and whether malformed rows are skipped (the window's
/// side of the reader's advice, which the command line gives as --encoding and --skip-bad-rows).
fn reading_ui(ui: &mut Ui, app: &mut StrataApp, spec: &PipelineSpec) {
    use crate::engine::data::TextEncoding;
    let mut options = spec.source.read_options.clone();
    ui.collapsing("Reading", |ui| {
        let label = |e: TextEncoding| match e {
            TextEncoding::Utf8 => "UTF-8",
            TextEncoding::Windows1252 => "Windows-1252 / Latin-1",
            TextEncoding::Lossy => "UTF-8, replacing bad bytes",
        };
        egui::ComboBox::from_label("Text encoding").selected_text(label(options.encoding)).show_ui(ui, |ui| {
            for e in [TextEncoding::Utf8, TextEncoding::Windows1252, TextEncoding::Lossy] {
                ui.selectable_value(&mut options.encoding, e, label(e));
            }
        });
        ui.checkbox(&mut options.skip_bad_rows, "Skip malformed rows")
            .on_hover_text("Rows with the wrong number of fields are left out and counted in a warning");
    });
    if options != spec.source.read_options {
        let mut next = spec.clone();
        next.source.read_options = options;
        app.push(Command::EditSpec { spec: Box::new(next), what: "reading options".into() });
    }
}

/// The question for each column whose dates read both day-first and month-first ("03/04/2024:
/// 3 April or March 4?"); the answer is the column's date format, stored in the project.
fn date_question_ui(ui: &mut Ui, app: &mut StrataApp, spec: &PipelineSpec) {
    let Some(preview) = app.preview.clone() else { return };
    if preview.ambiguities.is_empty() {
        return;
    }
    let mut formats = spec.source.read_options.formats.clone();
    let mut answered = None;
    ui.group(|ui| {
        ui.strong("Dates that read two ways");
        for question in &preview.ambiguities {
            ui.label(format!(
                "Column '{}': {}: {} or {}?",
                question.column, question.example, question.day_first, question.month_first
            ));
            ui.horizontal(|ui| {
                let day_first = format!("{} (day/month)", question.day_first);
                let month_first = format!("{} (month/day)", question.month_first);
                if ui.button(&day_first).on_hover_text(format!("Read as {}", question.day_first_format)).clicked() {
                    answered = Some((question.column.clone(), question.day_first_format.clone()));
                }
                if ui.button(&month_first).on_hover_text(format!("Read as {}", question.month_first_format)).clicked() {
                    answered = Some((question.column.clone(), question.month_first_format.clone()));
                }
            });
        }
        ui.label(
            RichText::new("Until you answer, the column is shown as text and a run refuses it: Strata does not guess.")
                .small()
                .weak(),
        );
    });
    if let Some((column, format)) = answered {
        formats.set_column(&column, |c| {
            c.date_format = Some(format);
            c.read_as = crate::engine::data::ReadAs::Detect;
        });
        let mut next = spec.clone();
        next.source.read_options.formats = formats;
        app.push(Command::EditSpec { spec: Box::new(next), what: format!("date format of '{column}'") });
    }
}

/// What the unparsed-dates rule is called in the window.
fn unparsed_label(rule: crate::engine::data::UnparsedDates) -> &'static str {
    use crate::engine::data::UnparsedDates::*;
    match rule {
        Refuse => "refuse the file",
        Drop => "leave the rows out",
        Fallback => "fallback segment",
    }
}

/// Date formats the picker offers besides the detected ones.
const COMMON_DATE_FORMATS: [&str; 12] = [
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S%z",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d.%m.%Y",
    "%d-%m-%Y",
    "%d %b %Y",
    "%b %d, %Y",
    "epoch_s",
    "epoch_ms",
    "excel",
];

/// How each column was read, in words, and the user's per-column choices: read as (detected,
/// a date, not a date, text), the date format (the detected candidates, common ones, or a custom
/// strftime format), the decimal mark; and where rows go whose date does not parse.
fn columns_read_ui(ui: &mut Ui, app: &mut StrataApp, spec: &PipelineSpec) {
    use crate::engine::data::{ReadAs, UnparsedDates};
    let Some(preview) = app.preview.clone() else { return };
    let mut formats = spec.source.read_options.formats.clone();
    let mut custom_error = None;
    egui::CollapsingHeader::new("How columns were read").default_open(true).show(ui, |ui| {
        if preview.readings.is_empty() {
            ui.label(RichText::new("Every column reads as plain numbers or text.").weak());
        }
        for reading in &preview.readings {
            let prefix = format!("column '{}' ", reading.column);
            let words = reading.sentence.strip_prefix(&prefix).unwrap_or(&reading.sentence);
            ui.horizontal_wrapped(|ui| {
                ui.strong(&reading.column);
                let text = crate::app::words::for_window(words);
                if reading.n_unparsed > 0 || reading.kind == crate::engine::data::ReadingKind::Text {
                    ui.label(RichText::new(text).color(ui.visuals().warn_fg_color));
                } else {
                    ui.label(text);
                }
            });
        }
        let n_unparsed: usize = preview.readings.iter().map(|r| r.n_unparsed).sum();
        egui::ComboBox::from_label("Values that are not dates")
            .selected_text(unparsed_label(formats.unparsed_dates))
            .show_ui(ui, |ui| {
                for rule in [UnparsedDates::Refuse, UnparsedDates::Drop, UnparsedDates::Fallback] {
                    ui.selectable_value(&mut formats.unparsed_dates, rule, unparsed_label(rule));
                }
            })
            .response
            .on_hover_text(
                "Rows whose value in a date column does not parse: the run refuses the file, leaves the rows out \
                 (counted in a warning), or keeps them and puts their customers in the fallback segment",
            );
        if n_unparsed > 0 && formats.unparsed_dates == UnparsedDates::Refuse {
            ui.label(
                RichText::new(format!(
                    "{} not dates: a run refuses the file until you choose where they go.",
                    crate::engine::words::count(n_unparsed, "value")
                ))
                .color(ui.visuals().warn_fg_color),
            );
        }
        ui.separator();
        let columns: Vec<String> = preview.frame.get_column_names().iter().map(|c| c.to_string()).collect();
        let chosen_id = egui::Id::unique("format-column");
        let mut chosen: String = ui.data_mut(|d| d.get_temp::<String>(chosen_id)).unwrap_or_default();
        if !columns.contains(&chosen) {
            chosen = preview
                .readings
                .first()
                .map(|r| r.column.clone())
                .or_else(|| columns.first().cloned())
                .unwrap_or_default();
        }
        egui::ComboBox::from_label("Change how a column is read").selected_text(chosen.as_str()).show_ui(ui, |ui| {
            for c in &columns {
                ui.selectable_value(&mut chosen, c.clone(), c.as_str());
            }
        });
        ui.data_mut(|d| d.insert_temp(chosen_id, chosen.clone()));
        if chosen.is_empty() {
            return;
        }
        let own = formats.column(&chosen).cloned().unwrap_or_else(|| crate::engine::data::ColumnFormat::new(&chosen));
        let reading = preview.readings.iter().find(|r| r.column == chosen);
        let read_as_label = |r: ReadAs| match r {
            ReadAs::Detect => "as detected",
            ReadAs::Date => "a date",
            ReadAs::NotDate => "not a date",
            ReadAs::Text => "text as written",
        };
        let mut read_as = own.read_as;
        egui::ComboBox::from_label("Read as").selected_text(read_as_label(read_as)).show_ui(ui, |ui| {
            for r in [ReadAs::Detect, ReadAs::Date, ReadAs::NotDate, ReadAs::Text] {
                ui.selectable_value(&mut read_as, r, read_as_label(r));
            }
        });
        let detected = reading.filter(|r| !r.format.is_empty() && r.kind != crate::engine::data::ReadingKind::Numbers);
        let mut date_format = own.date_format.clone();
        let shown = date_format.clone().unwrap_or_else(|| match detected {
            Some(r) => format!("detected: {}", r.format),
            None => "detected".to_string(),
        });
        egui::ComboBox::from_label("Date format").selected_text(shown).show_ui(ui, |ui| {
            ui.selectable_value(&mut date_format, None, "detected from the values");
            let mut offered: Vec<String> = Vec::new();
            if let Some(r) = detected {
                offered.push(r.format.clone());
                offered.extend(r.candidates.iter().cloned());
            }
            for f in COMMON_DATE_FORMATS {
                if !offered.iter().any(|o| o == f) {
                    offered.push(f.to_string());
                }
            }
            for f in offered {
                let fits = detected.is_some_and(|r| r.format == f || r.candidates.contains(&f));
                let label = if fits { format!("{f} (fits the values)") } else { f.clone() };
                ui.selectable_value(&mut date_format, Some(f), label);
            }
        });
        let custom_id = egui::Id::unique(("custom-date-format", chosen.as_str()));
        let mut custom: String = ui.data_mut(|d| d.get_temp::<String>(custom_id)).unwrap_or_default();
        ui.horizontal(|ui| {
            let label = ui.label("Custom date format");
            ui.add(egui::TextEdit::singleline(&mut custom).hint_text("%d/%m/%Y %H:%M").desired_width(140.0))
                .labelled_by(label.id)
                .on_hover_text("strftime codes: %Y year, %m month, %d day, %H:%M time, %b month name, %z offset");
            if ui.button("Use format").clicked() {
                match crate::engine::data::formats::check_explicit_format(custom.trim()) {
                    Ok(()) if !custom.trim().is_empty() => date_format = Some(custom.trim().to_string()),
                    Ok(()) => custom_error = Some("Type a date format first, such as %d/%m/%Y.".to_string()),
                    Err(problem) => custom_error = Some(format!("The date format {problem}.")),
                }
            }
        });
        ui.data_mut(|d| d.insert_temp(custom_id, custom));
        let mark_label = |m: Option<bool>| match m {
            None => "detected",
            Some(false) => "decimal point (1,234.50)",
            Some(true) => "decimal comma (1.234,50)",
        };
        let mut decimal_comma = own.decimal_comma;
        egui::ComboBox::from_label("Decimal mark").selected_text(mark_label(decimal_comma)).show_ui(ui, |ui| {
            for m in [None, Some(false), Some(true)] {
                ui.selectable_value(&mut decimal_comma, m, mark_label(m));
            }
        });
        if read_as != own.read_as || date_format != own.date_format || decimal_comma != own.decimal_comma {
            formats.set_column(&chosen, |c| {
                c.read_as = read_as;
                c.date_format = date_format;
                c.decimal_comma = decimal_comma;
            });
        }
    });
    if let Some(message) = custom_error {
        app.report_error(message);
    }
    if formats != spec.source.read_options.formats {
        let mut next = spec.clone();
        next.source.read_options.formats = formats;
        app.push(Command::EditSpec { spec: Box::new(next), what: "how columns are read".into() });
    }
}

/// A repeated-ids rule as the window names it.
fn duplicate_rule_label(rule: crate::engine::pipeline::DuplicateIdRule) -> &'static str {
    use crate::engine::pipeline::DuplicateIdRule::*;
    match rule {
        Refuse => "stop and show them",
        KeepFirst => "keep the first row",
        Aggregate => "one row per id (numbers averaged)",
    }
}

fn role_label(role: ColumnRole) -> &'static str {
    ROLES.iter().find(|(r, _)| *r == role).map_or("?", |(_, l)| l)
}

/// Draws the Data screen.
pub fn data_ui(ui: &mut Ui, app: &mut StrataApp) {
    egui::Panel::left("data-settings").resizable(true).default_size(300.0).show(ui, |ui| {
        egui::ScrollArea::vertical().show(ui, |ui| source_ui(ui, app));
    });
    egui::Panel::bottom("data-quality").resizable(true).default_size(320.0).show(ui, |ui| quality_ui(ui, app));
    egui::CentralPanel::default().show(ui, |ui| table_ui(ui, app));
}

fn source_ui(ui: &mut Ui, app: &mut StrataApp) {
    let Some(doc) = &app.doc else { return };
    let spec = doc.project.spec.clone();
    ui.heading("Source");
    match &spec.source.source {
        DataSource::DemoTransactions => {
            ui.label("The built-in CDNOW transaction log (69,659 purchases by 23,570 customers, 1997-1998).");
        }
        DataSource::DemoAttributes => {
            ui.label("The demo customers' synthetic attributes (drawn at random; not CDNOW data).");
        }
        DataSource::File(path) => {
            ui.label(RichText::new(path).monospace()).on_hover_text(doc.base_dir.join(path).display().to_string());
        }
    }
    ui.horizontal(|ui| {
        if ui.button("Open data file...").on_hover_text("Or drop a file onto the window").clicked() {
            app.push(Command::OpenDataDialog);
        }
        if matches!(spec.source.source, DataSource::File(_))
            && ui.button("Locate...").on_hover_text("Point to the file when it moved").clicked()
        {
            app.push(Command::LocateSourceDialog);
        }
    });
    date_question_ui(ui, app, &spec);
    if matches!(spec.source.source, DataSource::File(_)) {
        reading_ui(ui, app, &spec);
        columns_read_ui(ui, app, &spec);
    }
    super::derive::derived_columns_ui(ui, app, &spec);
    if let Some(preview) = &app.preview {
        ui.label(format!(
            "{}, {} read",
            crate::engine::words::count(preview.frame.height(), "row"),
            crate::engine::words::count(preview.frame.width(), "column")
        ));
        for w in &preview.warnings {
            ui.label(RichText::new(crate::app::words::for_window(w)).color(ui.visuals().warn_fg_color));
        }
    }
    ui.separator();
    ui.heading("What the file holds");
    let columns: Vec<String> = app
        .preview
        .as_ref()
        .map(|p| p.frame.get_column_names().iter().map(|s| s.to_string()).collect())
        .unwrap_or_default();
    let is_log = matches!(spec.table, TableKind::TransactionLog(_));
    let mut new_spec = spec.clone();
    ui.horizontal(|ui| {
        if ui.radio(!is_log, "One row per customer").clicked() && is_log {
            let id = match &spec.table {
                TableKind::TransactionLog(t) => Some(t.customer_id.clone()),
                TableKind::CustomerTable { id_column, .. } => id_column.clone(),
            };
            new_spec.table = TableKind::CustomerTable { id_column: id, no_id: false };
        }
        if ui.radio(is_log, "Transaction log").clicked() && !is_log {
            let pick = |role: ColumnRole| {
                app.preview.as_ref().and_then(|p| p.roles.iter().find(|r| r.role == role).map(|r| r.column.clone()))
            };
            // Guessed roles first; otherwise the first columns, for the user to correct below.
            let nth = |i: usize| columns.get(i).or(columns.first()).cloned();
            let id = spec.id_column().map(str::to_string).or_else(|| pick(ColumnRole::CustomerId)).or_else(|| nth(0));
            let date = pick(ColumnRole::Date).or_else(|| nth(1));
            // No amount-like column: a log of visits or clicks, read without one (the user can pick one).
            let amount = pick(ColumnRole::Amount).or_else(|| pick(ColumnRole::Numeric));
            if let (Some(customer_id), Some(date)) = (id, date) {
                new_spec.table = TableKind::TransactionLog(TransactionColumns {
                    customer_id,
                    date,
                    amount,
                    as_of: None,
                    negative_amounts: crate::engine::features::NegativeAmounts::Allow,
                    since: None,
                    behaviour: Default::default(),
                    value: None,
                });
            }
        }
    });
    match &mut new_spec.table {
        TableKind::TransactionLog(t) => {
            column_choice_ui(ui, "Customer id column", &mut t.customer_id, &columns);
            id_guess_ui(ui, app, Some(&t.customer_id));
            column_choice_ui(ui, "Date column", &mut t.date, &columns);
            amount_choice_ui(ui, &mut t.amount, &columns);
            as_of_ui(ui, app, t);
            let mut allow = matches!(t.negative_amounts, crate::engine::features::NegativeAmounts::Allow);
            if ui
                .checkbox(&mut allow, "Negative amounts are returns")
                .on_hover_text("Otherwise they are refused")
                .changed()
            {
                t.negative_amounts = if allow {
                    crate::engine::features::NegativeAmounts::Allow
                } else {
                    crate::engine::features::NegativeAmounts::Forbid
                };
            }
            super::log_features::behaviour_ui(ui, app, t, &columns);
        }
        TableKind::CustomerTable { id_column, no_id } => {
            let mut id = id_column.clone().unwrap_or_default();
            let mut with_none = vec![String::new()];
            with_none.extend(columns.iter().cloned());
            column_choice_ui(ui, "Customer id column", &mut id, &with_none);
            *id_column = (!id.is_empty()).then_some(id);
            id_guess_ui(ui, app, id_column.as_deref());
            if id_column.is_none() {
                // Without a named id a column that looks like one is still checked for repeats.
                ui.checkbox(no_id, "The table has no customer id column")
                    .on_hover_text("Untick to have a column that looks like an id checked for repeated ids");
            } else {
                *no_id = false;
            }
            egui::ComboBox::from_label("Repeated ids")
                .selected_text(duplicate_rule_label(new_spec.duplicate_ids))
                .show_ui(ui, |ui| {
                    use crate::engine::pipeline::DuplicateIdRule::*;
                    for rule in [Refuse, KeepFirst, Aggregate] {
                        ui.selectable_value(&mut new_spec.duplicate_ids, rule, duplicate_rule_label(rule));
                    }
                });
        }
    }
    if new_spec != spec {
        app.push(Command::EditSpec { spec: Box::new(new_spec), what: "data settings".into() });
    }
    if let Some(out) = &app.output {
        ui.separator();
        ui.label(format!("Customer table: {}", crate::engine::words::count(out.result.customers.height(), "customer")));
        if let Some(as_of) = out.result.as_of {
            ui.label(format!("As of {as_of}"));
        }
    }
    super::log_features::join_ui(ui, app, &spec);
    privacy_ui(ui, app);
}

/// The project's privacy settings: the small-cell threshold, data minimisation, and the columns
/// loaded that nothing uses.
fn privacy_ui(ui: &mut Ui, app: &mut StrataApp) {
    let Some((current, minimise)) =
        app.doc.as_ref().map(|d| (d.project.governance.small_cells, d.project.governance.minimise))
    else {
        return;
    };
    ui.separator();
    ui.heading("Privacy");
    ui.horizontal(|ui| {
        let label = ui.label("Small-cell threshold");
        let mut value = app.view.small_cells_drag.unwrap_or(current);
        let response = ui
            .add(egui::DragValue::new(&mut value).range(1..=1000).update_while_editing(false))
            .labelled_by(label.id)
            .on_hover_text(
                "Counts under it are shown as \"<N\" everywhere (cards, tables, the report, charts, the CLI), and \
                 counts that would give them away as \"hidden\" (1 to 1000; 1 shows every count). Every change \
                 is written to the audit log.",
            );
        // A drag is one change, set when it ends; a typed value when the field is left.
        if response.dragged() {
            app.view.small_cells_drag = Some(value);
        } else if response.drag_stopped() || response.changed() {
            app.view.small_cells_drag = None;
            if value != current {
                app.push(Command::SetSmallCells(value));
            }
        }
    });
    let explained = if current <= 1 {
        "1: suppression is off, every count is shown as it is.".to_string()
    } else {
        format!(
            "Counts of 1 to {} customers show as \"<{current}\", and counts that would give them away as \"hidden\"; \
             assignment files are not suppressed.",
            current - 1
        )
    };
    ui.label(RichText::new(explained).weak().small());
    let mut on = minimise;
    if ui
        .checkbox(&mut on, "Keep unused columns out")
        .on_hover_text(
            "Columns that no feature, rule, id, value column or audited sensitive column uses are dropped from the \
             customer table, so nothing Strata stores or exports carries them",
        )
        .changed()
    {
        app.push(Command::SetMinimise(on));
    }
    // Loaded: the file as read, and the customer table of the latest run (minimised ones included).
    let mut loaded: Vec<String> = app
        .preview
        .as_ref()
        .map(|p| p.frame.get_column_names().iter().map(|c| c.to_string()).collect())
        .unwrap_or_default();
    if let Some(out) = &app.output {
        for c in crate::engine::project::minimise::loaded_columns(&out.spec, &out.result) {
            if !loaded.contains(&c) {
                loaded.push(c);
            }
        }
    }
    let Some(doc) = &app.doc else { return };
    let unused = crate::engine::project::minimise::unused_columns(&doc.project, &loaded);
    let text = match (unused.is_empty(), minimise) {
        (true, _) => "Every loaded column is used.".to_string(),
        (false, false) => format!("Loaded but unused: {}", unused.join(", ")),
        (false, true) => format!("Loaded but unused, kept out: {}", unused.join(", ")),
    };
    ui.label(text).on_hover_text(
        "Not a feature, not in a rule, not the id, not the log's date or amount, not read by a derived column, not a \
         sensitive column",
    );
}

fn column_choice_ui(ui: &mut Ui, label: &str, value: &mut String, columns: &[String]) {
    egui::ComboBox::from_label(label).selected_text(if value.is_empty() { "(none)" } else { value.as_str() }).show_ui(
        ui,
        |ui| {
            for c in columns {
                let shown = if c.is_empty() { "(none)" } else { c.as_str() };
                ui.selectable_value(value, c.clone(), shown);
            }
        },
    );
}

/// The amount column, or none: a log of visits or clicks is segmented without money.
fn amount_choice_ui(ui: &mut Ui, value: &mut Option<String>, columns: &[String]) {
    const NONE: &str = "No amount column";
    egui::ComboBox::from_label("Amount column")
        .selected_text(value.as_deref().unwrap_or(NONE))
        .show_ui(ui, |ui| {
            ui.selectable_value(value, None, NONE)
                .on_hover_text("A log of visits or clicks: recency, frequency and tenure, no monetary features");
            for c in columns.iter().filter(|c| !c.is_empty()) {
                ui.selectable_value(value, Some(c.clone()), c.as_str());
            }
        })
        .response
        .on_hover_text("The column summed as money; choose \"No amount column\" when the log has none");
}

fn as_of_ui(ui: &mut Ui, app: &mut StrataApp, t: &mut TransactionColumns) {
    let id = egui::Id::unique("as-of-date");
    // While the field has the keyboard it keeps what is typed; otherwise it shows the spec (undo).
    if !ui.memory(|m| m.has_focus(id)) {
        app.view.as_of_text = t.as_of.map(|d| d.to_string()).unwrap_or_default();
    }
    ui.horizontal(|ui| {
        let label = ui.label("As-of date");
        let response = ui
            .add(
                egui::TextEdit::singleline(&mut app.view.as_of_text)
                    .id(id)
                    .hint_text("day after the last purchase")
                    .desired_width(120.0),
            )
            .labelled_by(label.id)
            .on_hover_text(
                "Recency is counted back from this date (YYYY-MM-DD); empty: the day after the last purchase",
            );
        if response.lost_focus() {
            let trimmed = app.view.as_of_text.trim();
            if trimmed.is_empty() {
                t.as_of = None;
            } else if let Ok(date) = chrono::NaiveDate::parse_from_str(trimmed, "%Y-%m-%d") {
                t.as_of = Some(date);
            } else {
                let message = format!("\"{trimmed}\" is not a date; write the as-of date as YYYY-MM-DD.");
                app.report_error(message);
            }
        }
    });
}

fn table_ui(ui: &mut Ui, app: &mut StrataApp) {
    ui.horizontal(|ui| {
        let raw = app.preview.as_ref().map(|p| p.frame.height());
        let customers = app.output.as_ref().map(|o| o.result.customers.height());
        if ui
            .selectable_label(
                !app.view.show_customer_table,
                format!("File as read ({} rows)", raw.map(format_count).unwrap_or("-".into())),
            )
            .clicked()
        {
            app.view.show_customer_table = false;
        }
        if ui
            .selectable_label(
                app.view.show_customer_table,
                format!("Customer table ({} customers)", customers.map(format_count).unwrap_or("-".into())),
            )
            .clicked()
        {
            app.view.show_customer_table = true;
        }
    });
    let frame = if app.view.show_customer_table {
        app.output.as_ref().map(|o| o.result.customers.clone())
    } else {
        app.preview.as_ref().map(|p| p.frame.clone())
    };
    match frame {
        Some(frame) => frame_table_ui(ui, &frame),
        None => match (&app.preview_error, app.view.show_customer_table) {
            (Some(error), false) => {
                ui.colored_label(
                    ui.visuals().error_fg_color,
                    format!("The file could not be read: {}", crate::app::words::for_window(error)),
                );
            }
            _ if app.doc.as_ref().is_some_and(|d| d.missing_source.is_some()) => {
                ui.label("The data file is missing: locate it to read it.");
            }
            _ => {
                ui.label("Reading...");
            }
        },
    }
}

/// A table of any height: only the visible rows are formatted each frame.
fn frame_table_ui(ui: &mut Ui, frame: &DataFrame) {
    let columns: Vec<&Column> = frame.columns().iter().take(60).collect();
    egui::ScrollArea::horizontal().show(ui, |ui| {
        TableBuilder::new(ui)
            .id_salt("data-table")
            .striped(true)
            .resizable(true)
            .column(TableColumn::auto().at_least(50.0))
            .columns(TableColumn::initial(110.0).at_least(40.0).clip(true), columns.len())
            .header(22.0, |mut header| {
                header.col(|ui| {
                    ui.strong("row");
                });
                for c in &columns {
                    header.col(|ui| {
                        ui.strong(c.name().as_str());
                    });
                }
            })
            .body(|body| {
                body.rows(20.0, frame.height(), |mut row| {
                    let i = row.index();
                    row.col(|ui| {
                        ui.label(RichText::new(format!("{}", i + 1)).weak());
                    });
                    for c in &columns {
                        row.col(|ui| {
                            let text = match c.get(i) {
                                Ok(polars::prelude::AnyValue::Null) => String::new(),
                                Ok(polars::prelude::AnyValue::String(s)) => s.to_string(),
                                Ok(v) => v.to_string(),
                                Err(_) => String::new(),
                            };
                            ui.label(text);
                        });
                    }
                });
            });
    });
}

fn quality_ui(ui: &mut Ui, app: &mut StrataApp) {
    let use_customers = app.view.show_customer_table && app.output.is_some();
    // Borrowed from the shared results (no copies per frame).
    let (output, preview) = (app.output.clone(), app.preview.clone());
    let (quality, roles, histograms): (&QualityReport, &[RoleGuess], Vec<Option<&Histogram>>) =
        match (use_customers, output.as_deref(), preview.as_deref()) {
            (true, Some(out), _) => {
                let hist = out
                    .result
                    .quality
                    .columns
                    .iter()
                    .map(|c| {
                        let i = out.summary.columns.iter().position(|f| f == &c.column)?;
                        out.summary.before.get(i)?.as_ref()
                    })
                    .collect();
                (&out.result.quality, &out.result.roles, hist)
            }
            (false, _, Some(p)) => (&p.quality, &p.roles, p.histograms.iter().map(Option::as_ref).collect()),
            _ => return,
        };
    ui.horizontal(|ui| {
        ui.heading("Quality");
        ui.label(format!(
            "{}, {}",
            crate::engine::words::count(quality.n_rows, "row"),
            crate::engine::words::count(quality.columns.len(), "column")
        ));
        if let Some(d) = &quality.duplicate_ids {
            ui.label(
                RichText::new(format!(
                    "{} {} ({} extra)",
                    crate::engine::words::count(d.n_duplicated_ids, "id"),
                    crate::engine::words::noun(d.n_duplicated_ids, "repeat"),
                    crate::engine::words::count(d.n_extra_rows, "row")
                ))
                .color(ui.visuals().warn_fg_color),
            );
        }
    });
    if !use_customers && matches!(app.doc.as_ref().map(|d| &d.project.spec.table), Some(TableKind::TransactionLog(_))) {
        ui.label(RichText::new("Roles apply to the customer table: switch to it above to change them.").weak());
    }
    let spec: Option<PipelineSpec> = app.doc.as_ref().map(|d| d.project.spec.clone());
    let mut new_overrides = spec.as_ref().map(|s| s.role_overrides.clone()).unwrap_or_default();
    egui::ScrollArea::vertical().id_salt("quality-scroll").show(ui, |ui| {
        egui::Grid::new("quality-grid").striped(true).num_columns(9).spacing([12.0, 4.0]).show(ui, |ui| {
            for h in ["column", "type", "role", "missing", "distinct", "min", "median", "max", "distribution"] {
                ui.strong(h);
            }
            ui.end_row();
            for (i, c) in quality.columns.iter().enumerate() {
                let name_label = ui.label(&c.column);
                ui.label(crate::app::words::type_in_words(&c.dtype)).on_hover_text(format!("Stored as {}", c.dtype));
                let guess = roles.iter().find(|r| r.column == c.column);
                let current = guess.map(|g| g.role).unwrap_or(ColumnRole::Ignored);
                if use_customers {
                    let mut chosen = current;
                    egui::ComboBox::from_id_salt(("role", i))
                        .selected_text(role_label(current))
                        .show_ui(ui, |ui| {
                            for (role, label) in ROLES {
                                ui.selectable_value(&mut chosen, role, label);
                            }
                        })
                        .response
                        .labelled_by(name_label.id)
                        .on_hover_text(guess.map(|g| g.reason.clone()).unwrap_or_default());
                    if chosen != current {
                        new_overrides.retain(|(col, _)| col != &c.column);
                        new_overrides.push((c.column.clone(), chosen));
                    }
                } else {
                    ui.label(role_label(current)).on_hover_text(guess.map(|g| g.reason.clone()).unwrap_or_default());
                }
                let missing = format!("{:.1}%", c.missing_share * 100.0);
                if c.missing_share > 0.0 {
                    ui.label(RichText::new(missing).color(ui.visuals().warn_fg_color));
                } else {
                    ui.label(missing);
                }
                ui.label(format_count(c.n_distinct));
                match (&c.numeric, &c.date_range) {
                    (Some(n), _) => {
                        ui.label(format_number(n.min));
                        ui.label(format_number(n.median));
                        ui.label(format_number(n.max));
                    }
                    (None, Some((lo, hi))) => {
                        ui.label(lo.to_string());
                        ui.label("");
                        ui.label(hi.to_string());
                    }
                    _ => {
                        ui.label("");
                        ui.label("");
                        ui.label("");
                    }
                }
                match histograms.get(i).copied().flatten() {
                    Some(h) => {
                        mini_histogram_ui(ui, h, egui::vec2(120.0, 22.0), ui.visuals().selection.bg_fill);
                    }
                    None => {
                        ui.label("");
                    }
                }
                ui.end_row();
                let notes: Vec<&String> = quality.warnings.iter().filter(|w| mentions(w, &c.column)).collect();
                let mut flags = Vec::new();
                if c.is_constant {
                    flags.push("constant: carries no information".to_string());
                }
                if let Some(n) = &c.numeric {
                    if n.n_negative > 0 {
                        flags.push(format!("{} negative", crate::engine::words::count(n.n_negative, "value")));
                    }
                    if n.n_outliers > 0 {
                        flags.push(crate::engine::words::count(n.n_outliers, "outlier"));
                    }
                    if n.skew.abs() > 2.0 {
                        flags.push(format!("skewed ({:.1}): consider log", n.skew));
                    }
                }
                if c.n_future_dates > 0 {
                    flags.push(format!("{} in the future", crate::engine::words::count(c.n_future_dates, "date")));
                }
                if !notes.is_empty() || !flags.is_empty() {
                    ui.label("");
                    let text = notes
                        .iter()
                        .map(|s| s.as_str())
                        .chain(flags.iter().map(String::as_str))
                        .collect::<Vec<_>>()
                        .join("; ");
                    ui.label(
                        RichText::new(crate::app::words::for_window(&text)).small().color(ui.visuals().warn_fg_color),
                    );
                    ui.end_row();
                }
            }
        });
        let general: Vec<&String> =
            quality.warnings.iter().filter(|w| !quality.columns.iter().any(|c| mentions(w, &c.column))).collect();
        for w in general {
            ui.label(RichText::new(crate::app::words::for_window(w)).color(ui.visuals().warn_fg_color));
        }
    });
    if let Some(mut spec) = spec
        && new_overrides != spec.role_overrides
    {
        spec.role_overrides = new_overrides;
        app.push(Command::EditSpec { spec: Box::new(spec), what: "column roles".into() });
    }
}

/// Whether a warning sentence is about `column` (warnings quote column names).
fn mentions(warning: &str, column: &str) -> bool {
    warning.contains(&format!("'{column}'"))
        || warning.contains(&format!("\"{column}\""))
        || warning.contains(&format!("`{column}`"))
}

/// What the first guess of the customer id was and why, under the id chooser.
fn id_guess_ui(ui: &mut Ui, app: &StrataApp, chosen: Option<&str>) {
    let Some(guess) = app.preview.as_ref().map(|p| &p.suggestions.id) else { return };
    let text = match (&guess.column, chosen) {
        (Some(g), Some(c)) if g == c => "guessed".to_string(),
        (Some(g), _) => format!("guessed: {g}"),
        (None, None) => "no column guessed".to_string(),
        (None, Some(_)) => "chosen by you; no column was guessed".to_string(),
    };
    ui.label(RichText::new(format!("({text})")).small().weak()).on_hover_text(&guess.reason);
}
