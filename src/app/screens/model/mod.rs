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
use egui_plot::{Line, LineStyle, MarkerShape, Plot, PlotPoints, Points, VLine};

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

/// The export of the index chart titled `title` (BIC and AIC are exported together).
fn chart_id(title: &str) -> crate::app::ChartId {
    use crate::app::ChartId;
    match title {
        t if t.starts_with("Elbow") => ChartId::Elbow,
        "Silhouette" => ChartId::SilhouetteByK,
        "Calinski-Harabasz" => ChartId::CalinskiHarabasz,
        "Davies-Bouldin" => ChartId::DaviesBouldin,
        _ => ChartId::Information,
    }
}

/// A kept run's colour: by its number, so a run keeps its colour while others come and go.
fn run_colour(id: u64) -> egui::Color32 {
    let palette = crate::engine::chart::palette::PALETTE_RGB.len();
    crate::app::widgets::color32(crate::engine::chart::palette::slot_colour(id.saturating_sub(1) as usize % palette))
}

/// The kept runs' short legend labels (what differs between them), in the order kept.
fn run_labels(app: &StrataApp) -> Vec<String> {
    let specs: Vec<(u64, &crate::engine::pipeline::PipelineSpec)> =
        app.runs.iter().map(|r| (r.id, &r.output.spec)).collect();
    k_choice::short_labels(&specs)
}

/// Whether `run` is the run whose result the screens show.
fn is_current(app: &StrataApp, run: &KeptRun) -> bool {
    app.output.as_ref().is_some_and(|o| std::sync::Arc::ptr_eq(o, &run.output))
}

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
        ui.label(RichText::new("Each run with a k range is kept here; tick runs to draw their curves.").weak());
        return;
    }
    ui.label(RichText::new("Tick the runs the charts draw (a re-run of the same settings replaces its entry).").weak());
    let labels = run_labels(app);
    let mut toggles = Vec::new();
    for (run, label) in app.runs.iter().zip(&labels).rev() {
        let mut visible = run.visible;
        let current = is_current(app, run);
        ui.horizontal(|ui| {
            crate::app::widgets::swatch_ui(ui, run_colour(run.id));
            let text =
                if current { format!("Run {}: {label} (current)", run.id) } else { format!("Run {}: {label}", run.id) };
            if ui.checkbox(&mut visible, text).on_hover_text(&run.label).changed() {
                toggles.push(run.id);
            }
        });
    }
    for id in toggles {
        app.push(Command::ToggleRunOverlay(id));
    }
}

/// The legend of the drawn runs, above the charts (never inside a plot, where it would hide curves).
fn run_legend_ui(ui: &mut Ui, drawn: &[(egui::Color32, String)]) {
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new("Drawn:").weak());
        for (colour, label) in drawn {
            crate::app::widgets::swatch_ui(ui, *colour);
            ui.label(label);
            ui.add_space(8.0);
        }
    });
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
        if let Some(eps) = k_distance_ui(ui, density, &out.result.fit.sizes, app.small_cells())
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
        if let Some(eps) =
            reachability_ui(ui, plot, &out.result.fit.sizes, &app.segment_colours_in(&out.result), app.small_cells())
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
        som_ui(ui, map, &out.result.fit, &app.segment_colours_in(&out.result));
    }
    if let crate::engine::cluster::FittedModel::KPrototypes(model) = &out.result.fit.model {
        prototypes_ui(ui, app, &out.result, model);
    }
    if let Some(tree) = &out.result.fit.tree
        && let Some(k) =
            dendrogram_ui(ui, tree, out.result.fit.k(), out.result.matrix.kept_rows.len(), app.small_cells())
    {
        app.push(Command::SelectK(k));
    }
    let Some(sweep) = &out.result.sweep else {
        match (out.result.provisional, out.spec.model.k_range) {
            (Some(fit), Some((lo, hi))) if fit.sweep_pending => {
                ui.spinner();
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    format!(
                        "Sweeping k = {lo}..{hi} on a sample of {} of the {} customers: the provisional indices \
                         appear here in a moment, the exact ones when the fit on every customer is in.",
                        crate::engine::words::thousands(fit.sample_size),
                        crate::engine::words::thousands(fit.customers)
                    ),
                );
            }
            // The sample's sweep failed: the one on every customer follows (or says why not).
            (Some(_), Some((lo, hi))) => {
                ui.label(format!("The indices for k = {lo}..{hi} come with the fit on every customer."));
            }
            _ => {
                ui.label("Tick \"Compare a range of k\" and run to see the indices for each k.");
            }
        }
        return;
    };
    // The likelihood criteria exist for mixtures only.
    let shown: Vec<&Index> =
        INDICES.iter().filter(|(_, _, value)| sweep.runs.iter().any(|r| value(r).is_some())).collect();
    // A provisional result's sweep is the sample's unless the exact one was kept: said where it is read.
    let sampled = out.result.provisional.filter(|p| sweep.n_rows == p.sample_size);
    if let Some(k) = sweep.suggested_k {
        let mark = if sampled.is_some() { " (provisional)" } else { "" };
        ui.label(RichText::new(format!("Suggested k = {k}{mark}")).heading());
    }
    if let Some(fit) = sampled {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            format!(
                "Provisional: the indices below are the sample's ({} of the {} customers; the elbow's inertia is \
                 summed over the sample only). The exact sweep replaces them when it is in.",
                crate::engine::words::thousands(fit.sample_size),
                crate::engine::words::thousands(fit.customers)
            ),
        );
    }
    ui.label(&sweep.reason);
    // Visible where k is chosen, not only in the warnings list: also for sweeps stored before it.
    if let Some(weak) = crate::engine::cluster::sweep::weak_structure(&sweep.runs) {
        ui.colored_label(ui.visuals().warn_fg_color, crate::app::words::for_window(&weak));
    }
    let min_share = app.doc.as_ref().and_then(|d| d.project.spec.model.min_segment_share);
    let threshold = app.small_cells();
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
            let mut tooltip = run_tooltip(run, threshold);
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
            .show(ui, |ui| clicked = k_choice_table(ui, sweep, stability, &feasible, min_share, current_k, threshold));
        if let Some(k) = clicked {
            app.push(Command::SelectK(k));
        }
        return;
    }
    // The ticked runs (the current run alone when none is ticked), each with its colour and label.
    let labels = run_labels(app);
    let mut drawn: Vec<(egui::Color32, String, &[SweepRun])> = app
        .runs
        .iter()
        .zip(&labels)
        .filter(|(r, _)| r.visible)
        .filter_map(|(r, label)| {
            let runs = r.output.result.sweep.as_ref()?.runs.as_slice();
            // Numbered as in the picker and on Compare.
            let label = if is_current(app, r) {
                format!("Run {}: {label} (current)", r.id)
            } else {
                format!("Run {}: {label}", r.id)
            };
            Some((run_colour(r.id), label, runs))
        })
        .collect();
    if let Some(fit) = sampled {
        // Not a kept run: drawn beside the kept ones, in the warning colour, its legend saying what it is.
        let label = format!("this edit, provisional: sample of {}", crate::engine::words::thousands(fit.sample_size));
        drawn.push((ui.visuals().warn_fg_color, label, sweep.runs.as_slice()));
    } else if drawn.is_empty() {
        let colour = app.runs.iter().find(|r| is_current(app, r)).map_or(run_colour(1), |r| run_colour(r.id));
        drawn.push((colour, "this run".to_string(), sweep.runs.as_slice()));
    }
    if drawn.len() > 1 {
        let legend: Vec<(egui::Color32, String)> = drawn.iter().map(|(c, l, _)| (*c, l.clone())).collect();
        run_legend_ui(ui, &legend);
    }
    let link = egui::Id::unique("k-axis");
    let chosen_colour = ui.visuals().selection.bg_fill;
    let width = ((ui.available_width() - 24.0) / 2.0).max(200.0);
    let rows = shown.len().div_ceil(2) as f32;
    // Room for each row's title and k axis, and for the note under the charts.
    let height = ((ui.available_height() - 40.0 * rows - 24.0) / rows).clamp(120.0, 420.0);
    let mut clicked_k = None;
    let mut exportable = Vec::new();
    for row in shown.chunks(2) {
        ui.horizontal(|ui| {
            for &&(title, hint, value) in row {
                ui.vertical(|ui| {
                    ui.label(RichText::new(title).strong()).on_hover_text(hint);
                    let plot = crate::app::ticks::readable(
                        Plot::new(title),
                        crate::app::ticks::Ticks::Integers,
                        crate::app::ticks::Ticks::Numbers,
                    )
                    .width(width)
                    .height(height)
                    .link_axis(link, [true, false])
                    .allow_scroll(false)
                    .allow_zoom(false)
                    .allow_drag(false)
                    .allow_boxed_zoom(false)
                    // k is labelled at whole numbers, as many as fit (every k when there is room).
                    .x_axis_label("k")
                    .show_crosshair(false);
                    let response = plot.show(ui, |plot| {
                        for (colour, name, runs) in &drawn {
                            let (colour, name) = (*colour, name.clone());
                            let points: Vec<[f64; 2]> =
                                runs.iter().filter_map(|r| value(r).map(|v| [r.k as f64, v])).collect();
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
                    exportable.push((response.response.clone(), chart_id(title)));
                });
            }
        });
    }
    drop(drawn);
    // Right-click any index chart: exported as the engine draws it (`strata chart --chart NAME`).
    for (response, chart) in exportable {
        crate::app::screens::chart_export_menu(app, &response, chart);
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

fn run_tooltip(run: &SweepRun, threshold: usize) -> String {
    let f = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.3}"));
    let sizes = crate::engine::governance::suppress::Sizes::new(&run.sizes, threshold);
    let sizes: Vec<String> = (0..run.sizes.len()).map(|i| sizes.words(i)).collect();
    format!(
        "inertia {:.1}, silhouette {}, Calinski-Harabasz {}, Davies-Bouldin {}; sizes {}",
        run.inertia,
        f(run.silhouette),
        f(run.calinski_harabasz),
        f(run.davies_bouldin),
        sizes.join(", ")
    )
}
