//! Features: which columns the model sees and how each is prepared (missing values, clipping, log,
//! scaling, weight), with distributions before and after and the correlation heatmap with
//! multicollinearity warnings.

use eframe::egui::{self, RichText, Ui};
use egui_plot::{Bar, BarChart, Plot};

use crate::app::widgets::{format_number, heat_colour};
use crate::app::{Command, StrataApp};
use crate::engine::data::roles::ColumnRole;
use crate::engine::features::{FeatureSpec, MissingRule, Scaling};
use crate::engine::profile::summary::Histogram;

/// Draws the Features screen.
pub fn features_ui(ui: &mut Ui, app: &mut StrataApp) {
    let Some(doc) = &app.doc else { return };
    let spec = doc.project.spec.clone();
    let mut new_spec = spec.clone();
    let candidates: Vec<(String, ColumnRole)> = match &app.output {
        Some(out) => out
            .result
            .roles
            .iter()
            // Sensitive columns are listed too, so they do not vanish without a word; they are kept
            // out of the features unless explicitly allowed (recorded in the project).
            .filter(|r| {
                r.role.is_feature_candidate()
                    || r.role == ColumnRole::Sensitive
                    || spec.recipe.features.iter().any(|f| f.column == r.column)
            })
            .map(|r| (r.column.clone(), r.role))
            .collect(),
        None => spec.recipe.features.iter().map(|f| (f.column.clone(), ColumnRole::Numeric)).collect(),
    };
    // The first guesses of this source (reasons for tooltips, the proposal to go back to).
    let suggestions = app
        .preview
        .as_ref()
        .filter(|p| p.source.source == spec.source.source)
        .map(|p| p.suggestions.clone())
        .filter(|_| matches!(spec.table, crate::engine::pipeline::TableKind::CustomerTable { .. }));
    egui::Panel::left("feature-list").resizable(true).default_size(260.0).show(ui, |ui| {
        ui.heading("Features");
        ui.label(RichText::new("Tick the columns the segmentation uses; click a name to set its recipe.").weak());
        ui.horizontal(|ui| {
            let label = ui.label("Search");
            ui.add(egui::TextEdit::singleline(&mut app.view.feature_search).hint_text("part of a column name"))
                .labelled_by(label.id)
                .on_hover_text("Show only the columns whose name contains this text");
        });
        let needle = app.view.feature_search.trim().to_lowercase();
        let shown: Vec<&(String, ColumnRole)> =
            candidates.iter().filter(|(c, _)| needle.is_empty() || c.to_lowercase().contains(&needle)).collect();
        ui.horizontal_wrapped(|ui| {
            if ui
                .button("Select all")
                .on_hover_text("Tick every column listed below (sensitive columns stay out)")
                .clicked()
            {
                for (column, role) in shown.iter().filter(|(_, role)| *role != ColumnRole::Sensitive) {
                    if !new_spec.recipe.features.iter().any(|f| &f.column == column) {
                        new_spec.recipe.features.push(new_feature(column, *role, &new_spec.recipe.features));
                    }
                }
            }
            if ui.button("Select none").on_hover_text("Untick every column listed below").clicked() {
                new_spec.recipe.features.retain(|f| !shown.iter().any(|(c, _)| *c == f.column));
            }
            if let Some(s) = &suggestions
                && ui
                    .button("Suggested")
                    .on_hover_text(format!(
                        "Back to the first guess: {} columns, at most {} chosen for low redundancy",
                        s.features.len(),
                        crate::engine::data::guesses::MAX_SUGGESTED_FEATURES
                    ))
                    .clicked()
            {
                let wanted = s.feature_columns();
                new_spec.recipe.features.retain(|f| wanted.contains(&f.column));
                for column in &wanted {
                    if !new_spec.recipe.features.iter().any(|f| &f.column == column) {
                        let role = candidates.iter().find(|(c, _)| c == column).map_or(ColumnRole::Numeric, |c| c.1);
                        new_spec.recipe.features.push(new_feature(column, role, &new_spec.recipe.features));
                    }
                }
            }
        });
        let n_used = candidates.iter().filter(|(c, _)| new_spec.recipe.features.iter().any(|f| &f.column == c)).count();
        let shown_note =
            if shown.len() < candidates.len() { format!(", {} shown", shown.len()) } else { String::new() };
        let n_sensitive = candidates.iter().filter(|(_, role)| *role == ColumnRole::Sensitive).count();
        let sensitive_note = if n_sensitive > 0 {
            format!(", {} kept out as sensitive", crate::engine::warnings::count(n_sensitive, "column", "columns"))
        } else {
            String::new()
        };
        ui.label(
            RichText::new(format!("{n_used} of {} columns used{shown_note}{sensitive_note}", candidates.len())).small(),
        );
        egui::ScrollArea::vertical().id_salt("feature-list-scroll").show(ui, |ui| {
            for (column, role) in shown {
                let position = new_spec.recipe.features.iter().position(|f| &f.column == column);
                let mut used = position.is_some();
                if *role == ColumnRole::Sensitive {
                    let is_text = app
                        .output
                        .as_ref()
                        .is_some_and(|out| out.result.customers.column(column).is_ok_and(|c| c.dtype().is_string()));
                    sensitive_row_ui(ui, column, is_text, position, &mut new_spec.recipe.features);
                    continue;
                }
                ui.horizontal(|ui| {
                    let mut checkbox = ui.checkbox(&mut used, column.as_str());
                    if let Some(reason) = suggestions.as_ref().and_then(|s| s.reason_for(column)) {
                        let verdict =
                            if suggestions.as_ref().is_some_and(|s| s.features.iter().any(|g| &g.column == column)) {
                                "Proposed"
                            } else {
                                "Not proposed"
                            };
                        checkbox = checkbox.on_hover_text(format!("{verdict}: {reason}"));
                    }
                    if checkbox.changed() {
                        match position {
                            Some(i) if !used => {
                                new_spec.recipe.features.remove(i);
                            }
                            None if used => {
                                let feature = new_feature(column, *role, &new_spec.recipe.features);
                                new_spec.recipe.features.push(feature);
                            }
                            _ => {}
                        }
                    }
                    let selected = app.view.selected_feature.as_deref() == Some(column.as_str());
                    if ui.selectable_label(selected, "recipe").on_hover_text(format!("Recipe of {column}")).clicked() {
                        app.view.selected_feature = Some(column.clone());
                    }
                });
            }
        });
    });
    // At most 45% of the height, so the recipe controls and the distributions always stay in view.
    let max_height = (ui.available_height() * 0.45).max(120.0);
    egui::Panel::bottom("correlations")
        .resizable(true)
        .default_size(300.0_f32.min(max_height))
        .size_range(80.0..=max_height)
        .show(ui, |ui| correlation_ui(ui, app));
    egui::CentralPanel::default().show(ui, |ui| {
        let selected = app
            .view
            .selected_feature
            .clone()
            .filter(|s| new_spec.recipe.features.iter().any(|f| &f.column == s))
            .or_else(|| new_spec.recipe.features.first().map(|f| f.column.clone()));
        let Some(column) = selected else {
            ui.label("No feature chosen yet.");
            return;
        };
        if let Some(feature) = new_spec.recipe.features.iter_mut().find(|f| f.column == column) {
            recipe_ui(ui, feature);
        }
        if ui.button("Use this scaling for every feature").clicked()
            && let Some(scaling) = new_spec.recipe.features.iter().find(|f| f.column == column).map(|f| f.scaling)
        {
            new_spec.recipe.features.iter_mut().for_each(|f| f.scaling = scaling);
        }
        ui.separator();
        distributions_ui(ui, app, &column);
    });
    if new_spec != spec {
        let what = describe_change(&spec.recipe.features, &new_spec.recipe.features);
        app.push(Command::EditSpec { spec: Box::new(new_spec), what });
    }
}

/// A sensitive column's row: listed with why it is kept out; ticking it needs an explicit "Allow",
/// which the project records (and the recipe then warns about on every run). Once allowed it can be
/// unticked like any feature.
fn sensitive_row_ui(
    ui: &mut Ui,
    column: &str,
    is_text: bool,
    position: Option<usize>,
    features: &mut Vec<FeatureSpec>,
) {
    const WHY: &str = "sensitive: kept out of the features";
    ui.horizontal(|ui| {
        let allowed = position.is_some_and(|i| features[i].allow_sensitive);
        let mut used = position.is_some();
        // Ticked without the allowance (a project edited by hand), it can still be unticked.
        let checkbox = ui
            .add_enabled(allowed || used, egui::Checkbox::new(&mut used, column))
            .on_hover_text("Personal or protected data is kept out of the features unless you allow it")
            .on_disabled_hover_text(
                "Personal or protected data is kept out of the features; \"Allow\" uses it on purpose (recorded)",
            );
        if checkbox.changed()
            && !used
            && let Some(i) = position
        {
            features.remove(i);
        }
        if allowed {
            ui.label(
                RichText::new("sensitive: allowed as a feature (recorded)").small().color(ui.visuals().warn_fg_color),
            );
        } else {
            ui.label(RichText::new(WHY).small().weak());
            if ui
                .small_button("Allow")
                .on_hover_text(format!("Use {column} as a feature on purpose; the project records that you allowed it"))
                .clicked()
            {
                match position {
                    Some(i) => features[i].allow_sensitive = true,
                    None => {
                        let role = if is_text { ColumnRole::Categorical } else { ColumnRole::Numeric };
                        let mut feature = new_feature(column, role, features);
                        feature.allow_sensitive = true;
                        features.push(feature);
                    }
                }
            }
        }
    });
}

/// A feature for `column` as ticked: categorical for a categorical column, with the scaling the
/// others use.
fn new_feature(column: &str, role: ColumnRole, others: &[FeatureSpec]) -> FeatureSpec {
    let mut feature = FeatureSpec::numeric(column);
    if role == ColumnRole::Categorical {
        feature.kind = crate::engine::features::FeatureKind::Categorical;
    }
    if let Some(first) = others.first() {
        feature.scaling = first.scaling;
    }
    feature
}

/// Names an edit of the feature list for the undo menu (and so that one drag is one undo step).
fn describe_change(old: &[FeatureSpec], new: &[FeatureSpec]) -> String {
    let n_added = new.iter().filter(|f| !old.iter().any(|o| o.column == f.column)).count();
    let n_dropped = old.iter().filter(|f| !new.iter().any(|n| n.column == f.column)).count();
    if n_added + n_dropped > 1 {
        return format!("features ({n_added} added, {n_dropped} dropped)");
    }
    if let Some(added) = new.iter().find(|f| !old.iter().any(|o| o.column == f.column)) {
        return format!("use {}", added.column);
    }
    if let Some(dropped) = old.iter().find(|f| !new.iter().any(|n| n.column == f.column)) {
        return format!("drop {}", dropped.column);
    }
    let changed: Vec<&str> = new.iter().filter(|f| !old.iter().any(|o| o == *f)).map(|f| f.column.as_str()).collect();
    match changed.as_slice() {
        [one] => format!("recipe of {one}"),
        _ => "recipe of every feature".to_string(),
    }
}

fn recipe_ui(ui: &mut Ui, feature: &mut FeatureSpec) {
    ui.heading(format!("Recipe of {}", feature.column));
    egui::Grid::new("recipe").num_columns(2).spacing([16.0, 6.0]).show(ui, |ui| {
        let label = ui.label("Missing values");
        egui::ComboBox::from_id_salt("missing")
            .selected_text(missing_label(&feature.missing))
            .show_ui(ui, |ui| {
                for rule in [
                    MissingRule::ImputeMedian,
                    MissingRule::ImputeMean,
                    MissingRule::ImputeMode,
                    MissingRule::ImputeConstant(0.0),
                    MissingRule::DropRows,
                    MissingRule::FallbackSegment,
                ] {
                    let label = missing_label(&rule);
                    ui.selectable_value(&mut feature.missing, rule, label);
                }
            })
            .response
            .labelled_by(label.id);
        ui.end_row();
        if let MissingRule::ImputeConstant(value) = &mut feature.missing {
            let label = ui.label("Constant");
            ui.add(egui::DragValue::new(value).speed(0.1)).labelled_by(label.id);
            ui.end_row();
        }
        ui.label("Clip to percentiles");
        let mut clip = feature.clip_percentiles.is_some();
        ui.horizontal(|ui| {
            if ui.checkbox(&mut clip, "clip").changed() {
                feature.clip_percentiles = clip.then_some((1.0, 99.0));
            }
            if let Some((lo, hi)) = &mut feature.clip_percentiles {
                ui.add(egui::DragValue::new(lo).range(0.0..=50.0).speed(0.5).suffix(" %").prefix("from "))
                    .on_hover_text("Lower percentile");
                ui.add(egui::DragValue::new(hi).range(50.0..=100.0).speed(0.5).suffix(" %").prefix("to "))
                    .on_hover_text("Upper percentile");
            }
        });
        ui.end_row();
        ui.label("Log transform");
        ui.checkbox(&mut feature.log1p, "log(1 + x)").on_hover_text("For skewed amounts and counts");
        ui.end_row();
        let label = ui.label("Scaling");
        egui::ComboBox::from_id_salt("scaling")
            .selected_text(scaling_label(feature.scaling))
            .show_ui(ui, |ui| {
                for s in [Scaling::ZScore, Scaling::Robust, Scaling::MinMax, Scaling::None] {
                    ui.selectable_value(&mut feature.scaling, s, scaling_label(s));
                }
            })
            .response
            .labelled_by(label.id);
        ui.end_row();
        let label = ui.label("Weight");
        ui.add(egui::DragValue::new(&mut feature.weight).range(0.0..=10.0).speed(0.05))
            .labelled_by(label.id)
            .on_hover_text("Multiplies the scaled feature: 2 counts it twice as much in distances");
        ui.end_row();
    });
}

fn missing_label(rule: &MissingRule) -> String {
    match rule {
        MissingRule::ImputeMedian => "fill with the median".into(),
        MissingRule::ImputeMean => "fill with the mean".into(),
        MissingRule::ImputeMode => "fill with the most common value".into(),
        MissingRule::ImputeConstant(_) => "fill with a constant".into(),
        MissingRule::DropRows => "leave the customer out".into(),
        MissingRule::FallbackSegment => "put the customer in the fallback segment".into(),
    }
}

fn scaling_label(s: Scaling) -> &'static str {
    match s {
        Scaling::ZScore => "z-score (mean 0, sd 1)",
        Scaling::Robust => "robust (median, IQR)",
        Scaling::MinMax => "min-max (0 to 1)",
        Scaling::None => "none",
    }
}

fn distributions_ui(ui: &mut Ui, app: &StrataApp, column: &str) {
    let Some(out) = &app.output else {
        ui.label("Run to see the distributions.");
        return;
    };
    let Some(i) = out.summary.columns.iter().position(|c| c == column) else {
        ui.label("Run to see this feature's distribution.");
        return;
    };
    let after_index = out.result.matrix.names.iter().position(|n| n == column);
    let width = (ui.available_width() / 2.0 - 8.0).max(150.0);
    let height = (ui.available_height() - 40.0).clamp(120.0, 420.0);
    ui.horizontal(|ui| {
        ui.vertical(|ui| {
            ui.label(format!("Before: {column} as in the customer table"));
            histogram_plot_ui(ui, "before", out.summary.before.get(i).and_then(|h| h.as_ref()), width, height);
        });
        ui.vertical(|ui| {
            ui.label("After the recipe: what the model sees");
            let h = after_index.and_then(|j| out.summary.after.get(j)).and_then(|h| h.as_ref());
            histogram_plot_ui(ui, "after", h, width, height);
        });
    });
}

fn histogram_plot_ui(ui: &mut Ui, id: &str, histogram: Option<&Histogram>, width: f32, height: f32) {
    let Some(h) = histogram else {
        ui.label("No values");
        return;
    };
    let bar_width = (h.hi - h.lo) / h.counts.len().max(1) as f64;
    let bars: Vec<Bar> = h
        .counts
        .iter()
        .enumerate()
        .map(|(i, &c)| Bar::new(h.lo + (i as f64 + 0.5) * bar_width, c as f64).width(bar_width * 0.95))
        .collect();
    let colour = crate::app::widgets::segment_colour(0, 1);
    crate::app::ticks::readable(Plot::new(id), crate::app::ticks::Ticks::Numbers, crate::app::ticks::Ticks::Integers)
        .width(width)
        .height(height)
        .allow_scroll(false)
        .allow_zoom(false)
        .allow_drag(false)
        .show(ui, |plot| {
            plot.bar_chart(BarChart::new(id, bars).color(colour));
        });
    if h.n_above > 0 {
        ui.label(
            RichText::new(format!(
                "{} values above {} (up to {}) are in the last bar",
                h.n_above,
                format_number(h.hi),
                format_number(h.max)
            ))
            .small()
            .weak(),
        );
    }
}

fn correlation_ui(ui: &mut Ui, app: &StrataApp) {
    ui.heading("Correlations");
    let Some(out) = &app.output else {
        ui.label("Run to see correlations.");
        return;
    };
    let m = &out.result.multicollinearity;
    let d = m.names.len();
    if d == 0 {
        return;
    }
    warnings_ui(ui, m);
    egui::ScrollArea::both().id_salt("correlation-grid-scroll").show(ui, |ui| {
        egui::Grid::new("correlation-grid").spacing([2.0, 2.0]).show(ui, |ui| {
            ui.label("");
            for name in &m.names {
                ui.label(RichText::new(short(name)).small()).on_hover_text(name);
            }
            ui.strong("VIF");
            ui.end_row();
            for (i, name) in m.names.iter().enumerate() {
                ui.label(short(name)).on_hover_text(name);
                for j in 0..d {
                    let r = m.correlation[i][j];
                    let (rect, response) = ui.allocate_exact_size(egui::vec2(64.0, 24.0), egui::Sense::hover());
                    ui.painter().rect_filled(rect, 2.0, heat_colour(r));
                    ui.painter().text(
                        rect.center(),
                        egui::Align2::CENTER_CENTER,
                        format!("{r:.2}"),
                        egui::FontId::proportional(13.0),
                        ui.visuals().text_color(),
                    );
                    response.on_hover_text(format!("{} and {}: r = {r:.3}", m.names[i], m.names[j]));
                }
                let vif = m.vif.get(i).copied().unwrap_or(f64::NAN);
                if vif.is_nan() {
                    ui.label(RichText::new("ref").weak()).on_hover_text(
                        "The reference level of its categorical feature: left out of the VIFs, as the levels always \
                         sum to one",
                    );
                } else {
                    let text = if vif.is_infinite() { "inf".to_string() } else { format!("{vif:.1}") };
                    let colour = if vif > 5.0 { ui.visuals().warn_fg_color } else { ui.visuals().text_color() };
                    ui.label(RichText::new(text).color(colour)).on_hover_text(
                        "Variance inflation factor: above 5, this feature is largely a mix of the others",
                    );
                }
                ui.end_row();
            }
        });
    });
}

/// The multicollinearity warnings grouped (pairs with a high |r|, features with a high VIF), each
/// group collapsed to one line, in a scrolling area of bounded height so a wide table's dozens of
/// warnings never push the heatmap (or anything else) out of view.
fn warnings_ui(ui: &mut Ui, m: &crate::engine::features::correlation::Multicollinearity) {
    use crate::engine::features::correlation::{CORRELATION_WARNING, VIF_WARNING};
    // The levels of one categorical ("col=level") always sum to one: not compared with each other,
    // as in the engine's warnings.
    let group = |name: &str| name.split_once('=').map(|(c, _)| c.to_string());
    let mut pairs: Vec<(usize, usize, f64)> = Vec::new();
    for a in 0..m.names.len() {
        for b in (a + 1)..m.names.len() {
            let r = m.correlation.get(a).and_then(|row| row.get(b)).copied().unwrap_or(f64::NAN);
            let same = group(&m.names[a]).is_some() && group(&m.names[a]) == group(&m.names[b]);
            if !same && r.abs() >= CORRELATION_WARNING {
                pairs.push((a, b, r));
            }
        }
    }
    pairs.sort_by(|x, y| y.2.abs().total_cmp(&x.2.abs()));
    let high_vif: Vec<(usize, f64)> = m.vif.iter().copied().enumerate().filter(|(_, v)| *v >= VIF_WARNING).collect();
    if pairs.is_empty() && high_vif.is_empty() {
        ui.label(RichText::new("No pair of features is strongly correlated.").weak());
        return;
    }
    let warn = ui.visuals().warn_fg_color;
    egui::ScrollArea::vertical().id_salt("multicollinearity-warnings").max_height(ui.available_height() * 0.4).show(
        ui,
        |ui| {
            if !pairs.is_empty() {
                let title = if pairs.len() == 1 {
                    format!(
                        "1 pair with |r| \u{2265} {CORRELATION_WARNING}: together they weigh double in the distance"
                    )
                } else {
                    format!(
                        "{} pairs with |r| \u{2265} {CORRELATION_WARNING}: each pair weighs double in the distance",
                        pairs.len()
                    )
                };
                egui::CollapsingHeader::new(RichText::new(title).color(warn)).id_salt("pairs").show(ui, |ui| {
                    for (a, b, r) in &pairs {
                        ui.label(format!("{} and {}: r = {r:.2}", m.names[*a], m.names[*b]));
                    }
                });
            }
            if !high_vif.is_empty() {
                let title = if high_vif.len() == 1 {
                    format!("1 feature with a variance inflation factor \u{2265} {VIF_WARNING}")
                } else {
                    format!("{} features with a variance inflation factor \u{2265} {VIF_WARNING}", high_vif.len())
                };
                egui::CollapsingHeader::new(RichText::new(title).color(warn)).id_salt("vifs").show(ui, |ui| {
                    ui.label(RichText::new("The other features almost determine each of these.").weak());
                    for (i, v) in &high_vif {
                        let v = if v.is_finite() { format!("{v:.1}") } else { "infinity".to_string() };
                        ui.label(format!("{}: {v}", m.names[*i]));
                    }
                });
            }
        },
    );
}

fn short(name: &str) -> String {
    if name.chars().count() > 14 {
        format!("{}...", name.chars().take(12).collect::<String>())
    } else {
        name.to_string()
    }
}
