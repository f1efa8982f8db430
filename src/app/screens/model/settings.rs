//! The Model screen's settings panel: the method, its parameters, the k range and the seed. The
//! method's rows are drawn from its description (`engine::cluster::describe`), so a new method
//! brings its own panel.

use eframe::egui::{self, RichText, Ui};

use super::run_controls_ui;
use crate::app::{Command, StrataApp};
use serde_json::Value;

use crate::engine::cluster::describe::{Kind, Setting, Shown, field, field_mut, put_choice};
use crate::engine::pipeline::Algorithm;

pub(super) fn settings_ui(ui: &mut Ui, app: &mut StrataApp) {
    let Some(doc) = &app.doc else { return };
    let spec = doc.project.spec.clone();
    let mut new_spec = spec.clone();
    ui.heading("Model");
    let current = spec.model.algorithm.name();
    let mut chosen = current;
    // Tall enough that every method shows without scrolling.
    let combo = egui::ComboBox::from_label("Algorithm").selected_text(Algorithm::label_of(current)).height(400.0);
    combo.show_ui(ui, |ui| {
        for name in Algorithm::NAMES {
            ui.selectable_value(&mut chosen, name, Algorithm::label_of(name));
        }
    });
    if chosen != current
        && let Some(next) = Algorithm::switched_to(chosen, &spec.model.algorithm)
    {
        new_spec.model.algorithm = next;
    }
    ui.label(RichText::new(new_spec.model.algorithm.info().hint).weak());
    let numeric_columns: Vec<String> = app
        .output
        .as_ref()
        .map(|o| {
            o.result
                .customers
                .columns()
                .iter()
                .filter(|c| c.dtype().is_primitive_numeric())
                .map(|c| c.name().to_string())
                .collect()
        })
        .unwrap_or_default();
    egui::Grid::new("model-params").num_columns(2).spacing([12.0, 6.0]).show(ui, |ui| {
        method_settings_ui(ui, &mut new_spec.model.algorithm, &numeric_columns);
    });
    if matches!(new_spec.model.algorithm, Algorithm::Rfm(_)) {
        ui.label(RichText::new("The rules are edited beside their segments, on the right.").weak());
    }
    if new_spec.model.algorithm.uses_feature_matrix() && new_spec.model.algorithm.rfm_columns().is_none() {
        ui.separator();
        let mut check = new_spec.model.stability.is_some();
        ui.checkbox(&mut check, "Check stability").on_hover_text(
            "Re-fit on resampled customers with every run: how often each segment comes back (mean Jaccard), and \
             the adjusted Rand index between re-fits, for the fit and for every k compared",
        );
        if check {
            let mut params =
                new_spec.model.stability.clone().unwrap_or(crate::engine::cluster::stability::StabilityParams {
                    bootstrap: 20,
                    seed: new_spec.model.algorithm.seed(),
                });
            ui.horizontal(|ui| {
                let label = ui.label("Re-fits");
                ui.add(egui::DragValue::new(&mut params.bootstrap).range(2..=500)).labelled_by(label.id);
            });
            new_spec.model.stability = Some(params);
        } else {
            new_spec.model.stability = None;
        }
    }
    if !new_spec.model.algorithm.sweeps() {
        if new_spec != spec {
            let what = format!("{} settings", new_spec.model.algorithm.label());
            app.push(Command::EditSpec { spec: Box::new(new_spec), what });
        }
        run_controls_ui(ui, app);
        return;
    }
    ui.separator();
    let mut sweep = new_spec.model.k_range.is_some();
    ui.checkbox(&mut sweep, "Compare a range of k");
    if sweep {
        let (mut lo, mut hi) = new_spec.model.k_range.unwrap_or((2, 10));
        ui.horizontal(|ui| {
            let label = ui.label("k from");
            ui.add(egui::DragValue::new(&mut lo).range(2..=50)).labelled_by(label.id);
            let label = ui.label("to");
            ui.add(egui::DragValue::new(&mut hi).range(2..=60)).labelled_by(label.id);
        });
        new_spec.model.k_range = Some((lo.min(hi), hi.max(lo)));
    } else {
        new_spec.model.k_range = None;
    }
    if new_spec != spec {
        app.push(Command::EditSpec { spec: Box::new(new_spec), what: "model settings".into() });
    }
    run_controls_ui(ui, app);
}

/// The recency, frequency and monetary columns, each picked from the customer table's numeric
/// columns (grid rows).
fn rfm_column_pickers(ui: &mut Ui, columns: [&mut String; 3], numeric_columns: &[String]) {
    for (what, column) in ["Recency column", "Frequency column", "Monetary column"].into_iter().zip(columns) {
        let label = ui.label(what);
        egui::ComboBox::from_id_salt(what)
            .selected_text(column.as_str())
            .show_ui(ui, |ui| {
                for name in numeric_columns {
                    ui.selectable_value(column, name.clone(), name.as_str());
                }
            })
            .response
            .labelled_by(label.id);
        ui.end_row();
    }
}

/// The settings of the chosen method, drawn from its description (grid rows): k and the seed first
/// for methods with a k, then each setting the description lists, as it says to show it.
fn method_settings_ui(ui: &mut Ui, algorithm: &mut Algorithm, numeric_columns: &[String]) {
    let info = algorithm.info();
    if info.has_k {
        let (mut k, mut seed) = (algorithm.k().unwrap_or(1), algorithm.seed());
        let label = ui.label("Segments (k)");
        ui.add(egui::DragValue::new(&mut k).range(1..=100)).labelled_by(label.id);
        ui.end_row();
        let label = ui.label("Seed");
        ui.add(egui::DragValue::new(&mut seed))
            .labelled_by(label.id)
            .on_hover_text("Same seed, same segments, on any machine");
        ui.end_row();
        algorithm.set_k(k);
        algorithm.set_seed(seed);
    }
    let mut params = algorithm.params_json();
    let before = params.clone();
    for setting in info.settings {
        let visible = match setting.shown {
            Shown::Always => true,
            Shown::Never => false,
            Shown::Unset(f) => field(&params, f).is_none_or(Value::is_null),
            Shown::Set(f) => field(&params, f).is_some_and(|v| !v.is_null()),
        };
        if visible {
            setting_ui(ui, setting, &mut params, numeric_columns);
        }
    }
    if params != before
        && let Ok(next) = algorithm.with_params(params)
    {
        *algorithm = next;
    }
}

/// One setting's rows of the settings grid.
fn setting_ui(ui: &mut Ui, setting: &Setting, params: &mut Value, numeric_columns: &[String]) {
    let hover = |response: egui::Response| {
        if setting.help.is_empty() { response } else { response.on_hover_text(setting.help) }
    };
    let count = |params: &Value, f: &str| field(params, f).and_then(Value::as_u64).unwrap_or(0);
    let number = |params: &Value, f: &str| field(params, f).and_then(Value::as_f64);
    let put = |params: &mut Value, f: &str, value: Value| {
        if let Some(slot) = field_mut(params, f) {
            *slot = value;
        }
    };
    match &setting.kind {
        Kind::Count { field: f, min, max, suffix, max_field } => {
            let mut v = count(params, f);
            let most = max_field.map_or(*max, |limit| count(params, limit).max(*min).min(*max));
            let label = ui.label(setting.label);
            hover(ui.add(egui::DragValue::new(&mut v).range(*min..=most).suffix(*suffix)).labelled_by(label.id));
            put(params, f, v.into());
            ui.end_row();
        }
        Kind::Number { field: f, min, max, speed, decimals: d } => {
            let mut v = number(params, f).unwrap_or(*min);
            let label = ui.label(setting.label);
            let drag = with_decimals(egui::DragValue::new(&mut v).range(*min..=*max).speed(*speed), *d);
            hover(ui.add(drag).labelled_by(label.id));
            put(params, f, v.into());
            ui.end_row();
        }
        Kind::AutoCount { field: f, auto, auto_help, default, min, max, suffix } => {
            let label = ui.label(setting.label);
            let mut automatic = field(params, f).is_none_or(Value::is_null);
            let mut value = field(params, f).and_then(Value::as_u64).unwrap_or(*default);
            ui.horizontal(|ui| {
                let check = ui.checkbox(&mut automatic, *auto);
                if !auto_help.is_empty() {
                    check.on_hover_text(*auto_help);
                }
                if !automatic {
                    ui.add(egui::DragValue::new(&mut value).range(*min..=*max).suffix(*suffix)).labelled_by(label.id);
                }
            });
            put(params, f, if automatic { Value::Null } else { value.into() });
            ui.end_row();
        }
        Kind::AutoNumber { field: f, auto, auto_help, default, min, max, decimals: d } => {
            let label = ui.label(setting.label);
            let mut automatic = field(params, f).is_none_or(Value::is_null);
            let mut value = number(params, f).unwrap_or(*default);
            ui.horizontal(|ui| {
                let check = ui.checkbox(&mut automatic, *auto);
                if !auto_help.is_empty() {
                    check.on_hover_text(*auto_help);
                }
                if !automatic {
                    let drag = with_decimals(egui::DragValue::new(&mut value).range(*min..=*max).speed(0.01), *d);
                    ui.add(drag).labelled_by(label.id);
                }
            });
            put(params, f, if automatic { Value::Null } else { value.into() });
            ui.end_row();
        }
        Kind::SetNumber { field: f, default, min, max, decimals: d } => {
            let label = ui.label(setting.label);
            let mut value = number(params, f).unwrap_or(*default);
            let drag = with_decimals(egui::DragValue::new(&mut value).range(*min..=*max).speed(0.01), *d);
            hover(ui.add(drag).labelled_by(label.id));
            put(params, f, value.into());
            ui.end_row();
        }
        Kind::Mode { field: f, unset, set } => {
            let label = ui.label(setting.label);
            let mut is_unset = field(params, f).is_none_or(Value::is_null);
            ui.horizontal(|ui| {
                ui.radio_value(&mut is_unset, true, unset.0).on_hover_text(unset.1);
                ui.radio_value(&mut is_unset, false, set.0).on_hover_text(set.1);
            })
            .response
            .labelled_by(label.id);
            ui.end_row();
            if is_unset {
                put(params, f, Value::Null);
            } else if field(params, f).is_none_or(Value::is_null) {
                put(params, f, set.2.into());
            }
        }
        Kind::Choice { field: f, choices, salt, absent } => {
            let label = ui.label(setting.label);
            let mut stored = field(params, f).and_then(Value::as_str).or(*absent).unwrap_or_default().to_string();
            let shown = choices.iter().find(|(_, s)| *s == stored).map_or("", |(name, _)| *name);
            let combo = egui::ComboBox::from_id_salt(*salt).selected_text(shown).show_ui(ui, |ui| {
                for (name, value) in *choices {
                    ui.selectable_value(&mut stored, value.to_string(), *name);
                }
            });
            hover(combo.response.labelled_by(label.id));
            if !stored.is_empty() {
                put_choice(params, f, &stored);
            }
            ui.end_row();
        }
        Kind::Grid { fields, labels, min, max } => {
            for (f, text) in fields.iter().zip(labels) {
                let mut v = count(params, f);
                let label = ui.label(*text);
                ui.add(egui::DragValue::new(&mut v).range(*min..=*max)).labelled_by(label.id);
                put(params, f, v.into());
                ui.end_row();
            }
        }
        Kind::Pair { field: f, labels, ranges, .. } => {
            let mut pair = [0u64; 2];
            for (i, ((text, (min, max)), value)) in labels.iter().zip(ranges).zip(&mut pair).enumerate() {
                let path = format!("{f}.{i}");
                *value = count(params, &path);
                let label = ui.label(*text);
                let response = ui.add(egui::DragValue::new(value).range(*min..=*max)).labelled_by(label.id);
                if i == 0 {
                    hover(response);
                }
                ui.end_row();
            }
            // The second edge stays above the first.
            pair[1] = pair[1].max(pair[0] + 1);
            put(params, f, serde_json::json!(pair));
        }
        Kind::Columns { fields } => {
            let mut columns: [String; 3] =
                fields.map(|f| field(params, f).and_then(Value::as_str).unwrap_or_default().to_string());
            let [r, f, m] = &mut columns;
            rfm_column_pickers(ui, [r, f, m], numeric_columns);
            for (name, column) in fields.iter().zip(columns) {
                put(params, name, column.into());
            }
        }
    }
}

/// A drag value showing at most `decimals` decimals, when given.
fn with_decimals(drag: egui::DragValue<'_>, decimals: Option<usize>) -> egui::DragValue<'_> {
    match decimals {
        Some(d) => drag.max_decimals(d),
        None => drag,
    }
}
