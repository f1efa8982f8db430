//! Model: algorithm and parameters, k range and seed; the elbow, silhouette, Calinski-Harabasz and
//! Davies-Bouldin charts side by side on one k axis, with the knee and the chosen k marked, the
//! suggested k with its reason, and kept runs overlaid for comparison. Clicking a k (on a chart or
//! its button) selects that solution everywhere.

mod k_choice;
mod method_views;
mod settings;

use k_choice::{feasibility_ui, k_choice_table};
use method_views::{
    certainty_ui, dendrogram_ui, hybrid_view_ui, k_distance_ui, prototypes_ui, reachability_ui, rfm_view_ui, som_ui,
};
use settings::settings_ui;

use eframe::egui::{self, RichText, Ui};
use egui_plot::{AxisHints, Corner, GridMark, Legend, Line, LineStyle, MarkerShape, Plot, PlotPoints, Points, VLine};

use crate::app::{Command, KeptRun, StrataApp};
use crate::engine::cluster::sweep::SweepRun;
use crate::engine::pipeline::Algorithm;

/// The four indices: title, how to read it, and the value of a run.
type Index = (&'static str, &'static str, fn(&SweepRun) -> Option<f64>);

const INDICES: [Index; 6] = [
    ("Elbow (inertia)", "lower is tighter; look for the bend", |r| Some(r.inertia)),
    ("Silhouette", "higher is better (-1 to 1)", |r| r.silhouette),
    ("Calinski-Harabasz", "higher is better", |r| r.calinski_harabasz),
    ("Davies-Bouldin", "lower is better", |r| r.davies_bouldin),
    ("BIC", "lower is better: fit penalised by the number of parameters and customers", |r| r.bic),
    ("AIC", "lower is better: fit penalised by the number of parameters", |r| r.aic),
];

const RUN_COLOURS: [egui::Color32; 6] = [
    egui::Color32::from_rgb(0, 114, 178),
    egui::Color32::from_rgb(213, 94, 0),
    egui::Color32::from_rgb(0, 158, 115),
    egui::Color32::from_rgb(204, 121, 167),
    egui::Color32::from_rgb(230, 159, 0),
    egui::Color32::from_rgb(86, 180, 233),
];

/// Draws the Model screen.
pub fn model_ui(ui: &mut Ui, app: &mut StrataApp) {
    egui::Panel::left("model-settings").resizable(true).default_size(280.0).max_size(420.0).show(ui, |ui| {
        egui::ScrollArea::vertical().show(ui, |ui| settings_ui(ui, app));
    });
    egui::CentralPanel::default().show(ui, |ui| charts_ui(ui, app));
}

pub(super) fn run_controls_ui(ui: &mut Ui, app: &mut StrataApp) {
    ui.separator();
    ui.horizontal(|ui| {
        if app.progress.is_some() {
            if ui.button("Cancel").clicked() {
                app.push(Command::CancelRun);
            }
        } else if ui.button("Run").clicked() {
            app.push(Command::Run);
        }
    });
    if let Some((stage, fraction)) = &app.progress {
        ui.add(egui::ProgressBar::new(*fraction as f32).text(format!("{stage}...")).animate(true));
    }
    ui.separator();
    runs_list_ui(ui, app);
}

fn runs_list_ui(ui: &mut Ui, app: &mut StrataApp) {
    ui.heading("Runs");
    if app.runs.is_empty() {
        ui.label(RichText::new("Each run with a k range is kept here; tick runs to overlay their curves.").weak());
    }
    let mut toggles = Vec::new();
    for (i, run) in app.runs.iter().enumerate() {
        let mut visible = run.visible;
        ui.horizontal_top(|ui| {
            crate::app::widgets::swatch_ui(ui, RUN_COLOURS[i % RUN_COLOURS.len()]);
            // In a vertical layout the long label wraps instead of running off the panel.
            ui.vertical(|ui| {
                if ui.checkbox(&mut visible, run.label.as_str()).changed() {
                    toggles.push(run.id);
                }
            });
        });
    }
    for id in toggles {
        app.push(Command::ToggleRunOverlay(id));
    }
}

fn charts_ui(ui: &mut Ui, app: &mut StrataApp) {
    let current_k = app.doc.as_ref().and_then(|d| d.project.spec.model.algorithm.k());
    let Some(out) = app.output.clone() else {
        ui.label("Run to see the indices for each k.");
        return;
    };
    if out.result.fit.method == "hybrid" {
        egui::ScrollArea::vertical().show(ui, |ui| hybrid_view_ui(ui, app, &out));
        return;
    }
    if out.result.fit.rfm_scores.is_some() {
        egui::ScrollArea::vertical().show(ui, |ui| rfm_view_ui(ui, app, &out));
        return;
    }
    if let Some(density) = &out.result.fit.density {
        if let Some(eps) = k_distance_ui(ui, density, &out.result.fit.sizes)
            && let Some(doc) = &app.doc
        {
            let mut spec = doc.project.spec.clone();
            if let Algorithm::Dbscan(p) = &mut spec.model.algorithm {
                p.eps = Some(eps);
                app.push(Command::EditSpec { spec: Box::new(spec), what: "DBSCAN radius".into() });
                if !app.prefs.auto_run {
                    app.push(Command::Run);
                }
            }
        }
        return;
    }
    if let Some(plot) = &out.result.fit.reachability {
        if let Some(eps) = reachability_ui(ui, plot, &out.result.fit.sizes)
            && let Some(doc) = &app.doc
        {
            let mut spec = doc.project.spec.clone();
            if let Algorithm::Optics(p) = &mut spec.model.algorithm {
                p.eps = Some(eps);
                app.push(Command::EditSpec { spec: Box::new(spec), what: "OPTICS cut height".into() });
                if !app.prefs.auto_run {
                    app.push(Command::Run);
                }
            }
        }
        return;
    }
    if let Some(mixture) = &out.result.fit.mixture {
        certainty_ui(ui, mixture);
    }
    if let Some(map) = &out.result.fit.som {
        som_ui(ui, map, &out.result.fit);
    }
    if let crate::engine::cluster::FittedModel::KPrototypes(model) = &out.result.fit.model {
        prototypes_ui(ui, app, &out.result, model);
    }
    if let Some(tree) = &out.result.fit.tree
        && let Some(k) = dendrogram_ui(ui, tree, out.result.fit.k(), out.result.matrix.kept_rows.len())
    {
        app.push(Command::SelectK(k));
    }
    let Some(sweep) = &out.result.sweep else {
        ui.label("Tick \"Compare a range of k\" and run to see the indices for each k.");
        return;
    };
    // The likelihood criteria exist for mixtures only.
    let shown: Vec<&Index> =
        INDICES.iter().filter(|(_, _, value)| sweep.runs.iter().any(|r| value(r).is_some())).collect();
    if let Some(k) = sweep.suggested_k {
        ui.label(RichText::new(format!("Suggested k = {k}")).heading());
    }
    ui.label(&sweep.reason);
    let min_share = app.doc.as_ref().and_then(|d| d.project.spec.model.min_segment_share);
    let (feasible, note) = match min_share {
        Some(share) => crate::engine::cluster::sweep::feasibility(sweep, share),
        None => (sweep.runs.iter().map(|r| r.k).collect(), None),
    };
    if let Some(note) = &note {
        ui.colored_label(ui.visuals().warn_fg_color, note);
    }
    ui.horizontal_wrapped(|ui| {
        ui.label("Use the solution with");
        for run in &sweep.runs {
            let text = format!("k = {}", run.k);
            let mut label = RichText::new(text);
            if Some(run.k) == sweep.suggested_k {
                label = label.strong();
            }
            let mut tooltip = run_tooltip(run);
            if !feasible.contains(&run.k) {
                label = label.color(ui.visuals().warn_fg_color);
                tooltip.push_str("; a segment is smaller than the share set");
            }
            if ui.selectable_label(current_k == Some(run.k), label).on_hover_text(tooltip).clicked() {
                app.push(Command::SelectK(run.k));
            }
        }
    });
    ui.horizontal(|ui| {
        ui.selectable_value(&mut app.view.k_table, false, "Charts");
        ui.selectable_value(&mut app.view.k_table, true, "Every index per k");
        if ui.button("Export table...").on_hover_text("The k-choice table as CSV or Excel").clicked() {
            app.push(Command::ExportDialog(crate::app::ExportKind::KChoice));
        }
        ui.separator();
        feasibility_ui(ui, app, min_share);
    });
    if app.view.k_table {
        let mut clicked = None;
        let stability = &out.result.k_stability;
        egui::ScrollArea::both()
            .show(ui, |ui| clicked = k_choice_table(ui, sweep, stability, &feasible, min_share, current_k));
        if let Some(k) = clicked {
            app.push(Command::SelectK(k));
        }
        return;
    }
    let visible: Vec<(usize, &KeptRun)> = app.runs.iter().enumerate().filter(|(_, r)| r.visible).collect();
    let overlay = visible.len() > 1;
    let link = egui::Id::unique("k-axis");
    let chosen_colour = ui.visuals().selection.bg_fill;
    let width = ((ui.available_width() - 24.0) / 2.0).max(200.0);
    let rows = shown.len().div_ceil(2) as f32;
    let height = ((ui.available_height() - 40.0 * rows) / rows).clamp(120.0, 420.0);
    let mut clicked_k = None;
    for row in shown.chunks(2) {
        ui.horizontal(|ui| {
            for &&(title, hint, value) in row {
                ui.vertical(|ui| {
                    ui.label(RichText::new(title).strong()).on_hover_text(hint);
                    let mut plot = Plot::new(title)
                        .width(width)
                        .height(height)
                        .link_axis(link, [true, false])
                        .allow_scroll(false)
                        .allow_zoom(false)
                        .allow_drag(false)
                        .allow_boxed_zoom(false)
                        // Integer k every 20 points or more (the default spaces x labels 60+ apart).
                        .custom_x_axes(vec![AxisHints::new_x().label("k").label_spacing(18.0..=24.0)])
                        .x_grid_spacer(|input| {
                            // One mark per k: k is an integer.
                            let (lo, hi) = (input.bounds.0.ceil() as i64, input.bounds.1.floor() as i64);
                            (lo..=hi).map(|k| GridMark { value: k as f64, step_size: 1.0 }).collect()
                        })
                        .show_crosshair(false);
                    if overlay {
                        plot = plot.legend(Legend::default().position(Corner::RightTop));
                    }
                    let response = plot.show(ui, |plot| {
                        let series: Vec<(usize, &[SweepRun], String)> = if overlay {
                            visible
                                .iter()
                                .filter_map(|(i, r)| {
                                    r.output.result.sweep.as_ref().map(|s| (*i, s.runs.as_slice(), r.label.clone()))
                                })
                                .collect()
                        } else {
                            vec![(0, sweep.runs.as_slice(), "this run".to_string())]
                        };
                        for (i, runs, name) in series {
                            let points: Vec<[f64; 2]> =
                                runs.iter().filter_map(|r| value(r).map(|v| [r.k as f64, v])).collect();
                            let colour = RUN_COLOURS[i % RUN_COLOURS.len()];
                            plot.line(
                                Line::new(name.clone(), PlotPoints::from(points.clone())).color(colour).width(2.0),
                            );
                            plot.points(Points::new(name, PlotPoints::from(points)).color(colour).radius(3.5));
                        }
                        if let Some(knee) = sweep.knee_k.and_then(|k| sweep.runs.iter().find(|r| r.k == k))
                            && title.starts_with("Elbow")
                        {
                            plot.vline(
                                VLine::new("knee", knee.k as f64)
                                    .style(LineStyle::dashed_loose())
                                    .color(egui::Color32::GRAY),
                            );
                            plot.points(
                                Points::new("knee", PlotPoints::from(vec![[knee.k as f64, knee.inertia]]))
                                    .shape(MarkerShape::Circle)
                                    .filled(false)
                                    .radius(8.0)
                                    .color(egui::Color32::GRAY),
                            );
                        }
                        if let Some(k) = current_k {
                            plot.vline(VLine::new("chosen k", k as f64).color(chosen_colour).width(2.0));
                        }
                        plot.pointer_coordinate()
                    });
                    if response.response.clicked()
                        && let Some(point) = response.inner
                    {
                        clicked_k = nearest_k(&sweep.runs, point.x);
                    }
                });
            }
        });
    }
    if let Some(k) = clicked_k {
        app.push(Command::SelectK(k));
    }
    if let Some(k) = sweep.knee_k {
        ui.label(
            RichText::new(format!(
                "The ring and dashed line mark the knee of the elbow curve (k = {k}); the solid line, the k in use."
            ))
            .weak(),
        );
    }
}

fn nearest_k(runs: &[SweepRun], x: f64) -> Option<usize> {
    runs.iter().min_by(|a, b| (a.k as f64 - x).abs().total_cmp(&(b.k as f64 - x).abs())).map(|r| r.k)
}

fn run_tooltip(run: &SweepRun) -> String {
    let f = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.3}"));
    format!(
        "inertia {:.1}, silhouette {}, Calinski-Harabasz {}, Davies-Bouldin {}; sizes {:?}",
        run.inertia,
        f(run.silhouette),
        f(run.calinski_harabasz),
        f(run.davies_bouldin),
        run.sizes
    )
}
