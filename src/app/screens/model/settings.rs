//! The Model screen's settings panel: the method, its parameters, the k range and the seed, one
//! branch per method (moved here unchanged; a registry-driven panel replaces it).

use eframe::egui::{self, RichText, Ui};

use super::run_controls_ui;
use crate::app::{Command, StrataApp};
use crate::engine::cluster::gmm::CovarianceType;
use crate::engine::cluster::hierarchical::Linkage;
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
                let label = ui.label("Covariance");
                egui::ComboBox::from_id_salt("gmm-covariance")
                    .selected_text(params.covariance.name())
                    .show_ui(ui, |ui| {
                        for c in CovarianceType::ALL {
                            ui.selectable_value(&mut params.covariance, c, c.name());
                        }
                    })
                    .response
                    .labelled_by(label.id)
                    .on_hover_text("full: any ellipsoid; diag: axis-aligned; spherical: spheres");
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
            Algorithm::Hierarchical(params) => {
                k_and_seed(ui, &mut params.k, &mut params.seed);
                let label = ui.label("Linkage");
                egui::ComboBox::from_id_salt("linkage")
                    .selected_text(params.linkage.name())
                    .show_ui(ui, |ui| {
                        for l in Linkage::ALL {
                            ui.selectable_value(&mut params.linkage, l, l.name());
                        }
                    })
                    .response
                    .labelled_by(label.id)
                    .on_hover_text("ward: compact groups of similar size; average, complete: by member distances");
                ui.end_row();
                let label = ui.label("Exact up to");
                ui.add(egui::DragValue::new(&mut params.max_exact_rows).range(100..=40_000).suffix(" customers"))
                    .labelled_by(label.id)
                    .on_hover_text(
                        "The exact tree needs memory and time growing with the square of the customers (1.6 GB at \
                         20,000); above this, it is built on k-means micro-clusters",
                    );
                ui.end_row();
                let label = ui.label("Micro-clusters");
                let most = params.max_exact_rows.max(2);
                ui.add(egui::DragValue::new(&mut params.micro_clusters).range(2..=most)).labelled_by(label.id);
                ui.end_row();
            }
            Algorithm::KPrototypes(params) => {
                k_and_seed(ui, &mut params.k, &mut params.seed);
                let mut automatic = params.gamma.is_none();
                let label = ui.label("Category weight");
                ui.horizontal(|ui| {
                    ui.checkbox(&mut automatic, "automatic")
                        .on_hover_text("Half the mean standard deviation of the numeric features (Huang's suggestion)");
                    if automatic {
                        params.gamma = None;
                    } else {
                        let mut gamma = params.gamma.unwrap_or(0.5);
                        ui.add(egui::DragValue::new(&mut gamma).range(0.0..=1e6).speed(0.01)).labelled_by(label.id);
                        params.gamma = Some(gamma);
                    }
                });
                ui.end_row();
                let label = ui.label("Initialisations");
                ui.add(egui::DragValue::new(&mut params.n_init).range(1..=100)).labelled_by(label.id);
                ui.end_row();
            }
            Algorithm::Som(params) => {
                k_and_seed(ui, &mut params.k, &mut params.seed);
                let label = ui.label("Map rows");
                ui.add(egui::DragValue::new(&mut params.rows).range(2..=60)).labelled_by(label.id);
                ui.end_row();
                let label = ui.label("Map columns");
                ui.add(egui::DragValue::new(&mut params.cols).range(2..=60)).labelled_by(label.id);
                ui.end_row();
                let label = ui.label("Epochs");
                ui.add(egui::DragValue::new(&mut params.epochs).range(1..=500))
                    .labelled_by(label.id)
                    .on_hover_text("Training passes; the neighbourhood shrinks from half the map to half a node");
                ui.end_row();
            }
            Algorithm::Optics(params) => {
                let label = ui.label("Core: neighbours");
                ui.add(egui::DragValue::new(&mut params.min_samples).range(2..=1_000))
                    .labelled_by(label.id)
                    .on_hover_text("Customers, itself included, that make a neighbourhood dense");
                ui.end_row();
                let label = ui.label("Groups from");
                let mut by_xi = params.eps.is_none();
                ui.horizontal(|ui| {
                    ui.radio_value(&mut by_xi, true, "steepness (xi)")
                        .on_hover_text("Valleys of the reachability plot between steep edges");
                    ui.radio_value(&mut by_xi, false, "a cut at height")
                        .on_hover_text("DBSCAN's groups at that radius, read from the same order");
                })
                .response
                .labelled_by(label.id);
                ui.end_row();
                if by_xi {
                    params.eps = None;
                    let label = ui.label("Steepness (xi)");
                    ui.add(egui::DragValue::new(&mut params.xi).range(0.001..=0.99).speed(0.005).max_decimals(3))
                        .labelled_by(label.id)
                        .on_hover_text("How sharply reachability must drop and rise around a group");
                    ui.end_row();
                    let label = ui.label("Smallest group");
                    let mut automatic = params.min_cluster_size.is_none();
                    ui.horizontal(|ui| {
                        ui.checkbox(&mut automatic, "5% of customers");
                        if automatic {
                            params.min_cluster_size = None;
                        } else {
                            let mut size = params.min_cluster_size.unwrap_or(50);
                            ui.add(egui::DragValue::new(&mut size).range(2..=1_000_000).suffix(" customers"))
                                .labelled_by(label.id);
                            params.min_cluster_size = Some(size);
                        }
                    });
                    ui.end_row();
                } else {
                    let label = ui.label("Cut height (eps)");
                    let mut eps = params.eps.unwrap_or(0.5);
                    ui.add(egui::DragValue::new(&mut eps).range(1e-6..=1e6).speed(0.01).max_decimals(4))
                        .labelled_by(label.id)
                        .on_hover_text("Or click the reachability plot");
                    params.eps = Some(eps);
                    ui.end_row();
                }
                let label = ui.label("Largest radius");
                let mut any = params.max_eps.is_none();
                ui.horizontal(|ui| {
                    ui.checkbox(&mut any, "any").on_hover_text(
                        "Every scale (each customer measured against every other; slower above 100,000 customers)",
                    );
                    if any {
                        params.max_eps = None;
                    } else {
                        let mut max_eps = params.max_eps.unwrap_or(2.0);
                        ui.add(egui::DragValue::new(&mut max_eps).range(1e-6..=1e6).speed(0.01).max_decimals(4))
                            .labelled_by(label.id);
                        params.max_eps = Some(max_eps);
                    }
                });
                ui.end_row();
            }
            Algorithm::Dbscan(params) => {
                let mut from_curve = params.eps.is_none();
                let label = ui.label("Radius (eps)");
                ui.horizontal(|ui| {
                    ui.checkbox(&mut from_curve, "from the curve")
                        .on_hover_text("Read eps from the knee of the k-distance curve");
                    if !from_curve {
                        let mut eps = params.eps.unwrap_or(0.5);
                        ui.add(egui::DragValue::new(&mut eps).range(1e-6..=1e6).speed(0.01).max_decimals(4))
                            .labelled_by(label.id);
                        params.eps = Some(eps);
                    } else {
                        params.eps = None;
                    }
                });
                ui.end_row();
                let label = ui.label("Core: neighbours");
                ui.add(egui::DragValue::new(&mut params.min_samples).range(1..=1_000))
                    .labelled_by(label.id)
                    .on_hover_text("Customers within eps, itself included, that make a customer core");
                ui.end_row();
            }
            Algorithm::Hybrid(params) => {
                rfm_column_pickers(
                    ui,
                    [&mut params.recency, &mut params.frequency, &mut params.monetary],
                    &numeric_columns,
                );
                let label = ui.label("Mid tier from");
                ui.add(egui::DragValue::new(&mut params.tier_edges.0).range(4..=14))
                    .labelled_by(label.id)
                    .on_hover_text("Total RFM score (R + F + M, 3-15) from which a customer is mid value");
                ui.end_row();
                let label = ui.label("High tier from");
                ui.add(egui::DragValue::new(&mut params.tier_edges.1).range(5..=15)).labelled_by(label.id);
                ui.end_row();
                params.tier_edges.1 = params.tier_edges.1.max(params.tier_edges.0 + 1);
                let label = ui.label("Segments per tier");
                ui.add(egui::DragValue::new(&mut params.k_per_tier).range(1..=20)).labelled_by(label.id);
                ui.end_row();
                let label = ui.label("Seed");
                ui.add(egui::DragValue::new(&mut params.seed)).labelled_by(label.id);
                ui.end_row();
            }
            Algorithm::Rfm(params) => {
                rfm_column_pickers(
                    ui,
                    [&mut params.recency, &mut params.frequency, &mut params.monetary],
                    &numeric_columns,
                );
            }
        }
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

/// One line on what the method is for.
fn algorithm_hint(name: &str) -> &'static str {
    match name {
        "kmeans" => "Compact, similar-sized segments; the usual first choice.",
        "minibatch-kmeans" => "k-means on random batches: for millions of customers, slightly looser.",
        "gmm" => "Soft membership: each customer's probability per segment; BIC and AIC choose k.",
        "rfm" => "Named segments from recency, frequency and monetary scores 1-5 and editable rules.",
        "hierarchical" => "A tree of merges: cut it at any k or height; the dendrogram shows where groups join.",
        "dbscan" => {
            "Dense groups of any shape, and noise: customers like no others. Finds the number of groups itself."
        }
        "optics" => {
            "DBSCAN at every density at once: the reachability plot shows groups as valleys, dense and sparse \
             ones side by side."
        }
        "hybrid" => "Value tiers by total RFM score, then k-means inside each tier: the business keeps its tiers.",
        "som" => "A grid of nodes fitted to the customers, clustered into segments; the U-matrix shows the borders.",
        "kprototypes" => {
            "Mixed numeric and categorical features: means for numbers, the most common category for the rest."
        }
        _ => "",
    }
}
