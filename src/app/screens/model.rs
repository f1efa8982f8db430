//! Model: algorithm and parameters, k range and seed; the elbow, silhouette, Calinski-Harabasz and
//! Davies-Bouldin charts side by side on one k axis, with the knee and the chosen k marked, the
//! suggested k with its reason, and kept runs overlaid for comparison. Clicking a k (on a chart or
//! its button) selects that solution everywhere.

use eframe::egui::{self, RichText, Ui};
use egui_plot::{AxisHints, Corner, GridMark, Legend, Line, LineStyle, MarkerShape, Plot, PlotPoints, Points, VLine};

use crate::app::{Command, KeptRun, StrataApp};
use crate::engine::cluster::gmm::CovarianceType;
use crate::engine::cluster::rfm_rules::{RfmRule, standard_rules};
use crate::engine::cluster::sweep::SweepRun;
use crate::engine::pipeline::Algorithm;

/// The four indices: title, how to read it, and the value of a run.
type Index = (&'static str, &'static str, fn(&SweepRun) -> Option<f64>);

const INDICES: [Index; 4] = [
    ("Elbow (inertia)", "lower is tighter; look for the bend", |r| Some(r.inertia)),
    ("Silhouette", "higher is better (-1 to 1)", |r| r.silhouette),
    ("Calinski-Harabasz", "higher is better", |r| r.calinski_harabasz),
    ("Davies-Bouldin", "lower is better", |r| r.davies_bouldin),
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

fn settings_ui(ui: &mut Ui, app: &mut StrataApp) {
    let Some(doc) = &app.doc else { return };
    let spec = doc.project.spec.clone();
    let mut new_spec = spec.clone();
    ui.heading("Model");
    let current = spec.model.algorithm.name();
    let mut chosen = current;
    egui::ComboBox::from_label("Algorithm").selected_text(Algorithm::label_of(current)).show_ui(ui, |ui| {
        for name in Algorithm::NAMES {
            ui.selectable_value(&mut chosen, name, Algorithm::label_of(name));
        }
    });
    if chosen != current
        && let Some(next) = Algorithm::switched_to(chosen, &spec.model.algorithm)
    {
        new_spec.model.algorithm = next;
    }
    ui.label(RichText::new(algorithm_hint(new_spec.model.algorithm.name())).weak());
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
        let k_and_seed = |ui: &mut Ui, k: &mut usize, seed: &mut u64| {
            let label = ui.label("Segments (k)");
            ui.add(egui::DragValue::new(k).range(1..=100)).labelled_by(label.id);
            ui.end_row();
            let label = ui.label("Seed");
            ui.add(egui::DragValue::new(seed))
                .labelled_by(label.id)
                .on_hover_text("Same seed, same segments, on any machine");
            ui.end_row();
        };
        match &mut new_spec.model.algorithm {
            Algorithm::KMeans(params) => {
                k_and_seed(ui, &mut params.k, &mut params.seed);
                let label = ui.label("Initialisations");
                ui.add(egui::DragValue::new(&mut params.n_init).range(1..=100))
                    .labelled_by(label.id)
                    .on_hover_text("k-means++ starts; the tightest is kept");
                ui.end_row();
                let label = ui.label("Iteration cap");
                ui.add(egui::DragValue::new(&mut params.max_iter).range(1..=10_000)).labelled_by(label.id);
                ui.end_row();
            }
            Algorithm::MiniBatchKMeans(params) => {
                k_and_seed(ui, &mut params.k, &mut params.seed);
                let label = ui.label("Batch size");
                ui.add(egui::DragValue::new(&mut params.batch_size).range(64..=65_536))
                    .labelled_by(label.id)
                    .on_hover_text("Customers per update; larger is steadier and slower");
                ui.end_row();
                let label = ui.label("Initialisations");
                ui.add(egui::DragValue::new(&mut params.n_init).range(1..=100)).labelled_by(label.id);
                ui.end_row();
            }
            Algorithm::Gmm(params) => {
                k_and_seed(ui, &mut params.k, &mut params.seed);
                ui.label("Covariance");
                egui::ComboBox::from_id_salt("gmm-covariance").selected_text(params.covariance.name()).show_ui(
                    ui,
                    |ui| {
                        for c in CovarianceType::ALL {
                            ui.selectable_value(&mut params.covariance, c, c.name());
                        }
                    },
                );
                ui.end_row();
                let label = ui.label("Initialisations");
                ui.add(egui::DragValue::new(&mut params.n_init).range(1..=20))
                    .labelled_by(label.id)
                    .on_hover_text("Each from its own k-means run; the most likely is kept");
                ui.end_row();
                let label = ui.label("Iteration cap");
                ui.add(egui::DragValue::new(&mut params.max_iter).range(1..=10_000)).labelled_by(label.id);
                ui.end_row();
            }
            Algorithm::Rfm(params) => {
                for (what, column) in [
                    ("Recency column", &mut params.recency),
                    ("Frequency column", &mut params.frequency),
                    ("Monetary column", &mut params.monetary),
                ] {
                    ui.label(what);
                    egui::ComboBox::from_id_salt(what).selected_text(column.as_str()).show_ui(ui, |ui| {
                        for name in &numeric_columns {
                            ui.selectable_value(column, name.clone(), name.as_str());
                        }
                    });
                    ui.end_row();
                }
            }
        }
    });
    if let Algorithm::Rfm(params) = &mut new_spec.model.algorithm {
        rfm_rules_ui(ui, &mut params.rules);
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

/// One line on what the method is for.
fn algorithm_hint(name: &str) -> &'static str {
    match name {
        "kmeans" => "Compact, similar-sized segments; the usual first choice.",
        "minibatch-kmeans" => "k-means on random batches: for millions of customers, slightly looser.",
        "gmm" => "Soft membership: each customer's probability per segment; BIC and AIC choose k.",
        "rfm" => "Named segments from recency, frequency and monetary scores 1-5 and editable rules.",
        _ => "",
    }
}

/// The RFM rules: tried top to bottom, the first match names the customer.
fn rfm_rules_ui(ui: &mut Ui, rules: &mut Vec<RfmRule>) {
    ui.separator();
    ui.label(RichText::new("Rules").strong())
        .on_hover_text("Tried top to bottom; the first rule whose three score ranges all match names the customer");
    let mut remove = None;
    let mut raise = None;
    egui::Grid::new("rfm-rules").num_columns(5).spacing([4.0, 4.0]).striped(true).show(ui, |ui| {
        ui.label("Segment");
        ui.label("R");
        ui.label("F");
        ui.label("M");
        ui.label("");
        ui.end_row();
        for (i, rule) in rules.iter_mut().enumerate() {
            ui.add(egui::TextEdit::singleline(&mut rule.name).desired_width(110.0))
                .on_hover_text(format!("Rule {} name", i + 1));
            for range in [&mut rule.recency, &mut rule.frequency, &mut rule.monetary] {
                ui.horizontal(|ui| {
                    ui.spacing_mut().item_spacing.x = 1.0;
                    ui.add(egui::DragValue::new(&mut range.0).range(1..=5));
                    ui.label("-");
                    ui.add(egui::DragValue::new(&mut range.1).range(1..=5));
                });
                if range.0 > range.1 {
                    std::mem::swap(&mut range.0, &mut range.1);
                }
            }
            ui.horizontal(|ui| {
                if i > 0 && ui.small_button("^").on_hover_text("Try this rule earlier").clicked() {
                    raise = Some(i);
                }
                if ui.small_button("x").on_hover_text("Remove this rule").clicked() {
                    remove = Some(i);
                }
            });
            ui.end_row();
        }
    });
    if let Some(i) = raise {
        rules.swap(i - 1, i);
    }
    if let Some(i) = remove {
        rules.remove(i);
    }
    ui.horizontal(|ui| {
        if ui.button("Add rule").clicked() {
            let name = (1..).map(|n| format!("New segment {n}")).find(|n| rules.iter().all(|r| &r.name != n));
            rules.push(RfmRule {
                name: name.unwrap_or_default(),
                recency: (1, 5),
                frequency: (1, 5),
                monetary: (1, 5),
            });
        }
        if ui.button("Standard rules").on_hover_text("Replace the rules with the standard eleven segments").clicked() {
            *rules = standard_rules();
        }
    });
}

fn run_controls_ui(ui: &mut Ui, app: &mut StrataApp) {
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
    let Some(sweep) = &out.result.sweep else {
        ui.label("Tick \"Compare a range of k\" and run to see the indices for each k.");
        return;
    };
    if let Some(k) = sweep.suggested_k {
        ui.label(RichText::new(format!("Suggested k = {k}")).heading());
    }
    ui.label(&sweep.reason);
    ui.horizontal_wrapped(|ui| {
        ui.label("Use the solution with");
        for run in &sweep.runs {
            let text = format!("k = {}", run.k);
            let mut label = RichText::new(text);
            if Some(run.k) == sweep.suggested_k {
                label = label.strong();
            }
            if ui.selectable_label(current_k == Some(run.k), label).on_hover_text(run_tooltip(run)).clicked() {
                app.push(Command::SelectK(run.k));
            }
        }
    });
    let visible: Vec<(usize, &KeptRun)> = app.runs.iter().enumerate().filter(|(_, r)| r.visible).collect();
    let overlay = visible.len() > 1;
    let link = egui::Id::unique("k-axis");
    let chosen_colour = ui.visuals().selection.bg_fill;
    let width = ((ui.available_width() - 24.0) / 2.0).max(200.0);
    let height = ((ui.available_height() - 80.0) / 2.0).clamp(150.0, 420.0);
    let mut clicked_k = None;
    for row in INDICES.chunks(2) {
        ui.horizontal(|ui| {
            for (title, hint, value) in row {
                ui.vertical(|ui| {
                    ui.label(RichText::new(*title).strong()).on_hover_text(*hint);
                    let mut plot = Plot::new(*title)
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
