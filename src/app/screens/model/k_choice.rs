//! Choosing k: the business floor on segment size and the table of every k of the sweep with its
//! indices, stability and feasibility.

use eframe::egui::{self, RichText, Ui};

use crate::app::{Command, StrataApp};
use crate::engine::cluster::sweep::SweepRun;

/// The business floor: the smallest share of customers a segment may have.
pub(super) fn feasibility_ui(ui: &mut Ui, app: &mut StrataApp, min_share: Option<f64>) {
    let mut on = min_share.is_some();
    let mut percent = min_share.unwrap_or(0.05) * 100.0;
    ui.checkbox(&mut on, "Smallest segment at least")
        .on_hover_text("Business feasibility: segments smaller than this are too small to act on");
    let drag = ui.add_enabled(on, egui::DragValue::new(&mut percent).range(0.1..=50.0).speed(0.1).suffix("%"));
    crate::app::widgets::accessible_name(&drag, "Smallest segment share");
    let wanted = on.then_some(percent / 100.0);
    if wanted != min_share
        && let Some(doc) = &app.doc
    {
        let mut spec = doc.project.spec.clone();
        spec.model.min_segment_share = wanted;
        app.push(Command::EditSpec { spec: Box::new(spec), what: "smallest segment share".into() });
    }
}

/// The k-choice table: every index for every k, the best of each marked, which indices favour each
/// k (and why an index may disagree), and the smallest segment against the business floor. Returns
/// the k clicked.
pub(super) fn k_choice_table(
    ui: &mut Ui,
    sweep: &crate::engine::cluster::sweep::SweepResult,
    stability: &[crate::engine::cluster::stability::KStability],
    feasible: &[usize],
    min_share: Option<f64>,
    current_k: Option<usize>,
) -> Option<usize> {
    use crate::engine::cluster::sweep::{index_tendency, index_votes, smallest_share};
    let votes = index_votes(&sweep.runs, sweep.knee_k);
    let best_of = |index: &str| votes.iter().find(|v| v.1 == index).map(|v| v.0);
    let has_bic = sweep.runs.iter().any(|r| r.bic.is_some());
    // (title, the index it votes as, value, decimals)
    type Column = (&'static str, &'static str, fn(&SweepRun) -> Option<f64>, usize);
    let mut columns: Vec<Column> = vec![
        ("Inertia", "elbow", |r| Some(r.inertia), 1),
        ("Silhouette", "silhouette", |r| r.silhouette, 4),
        ("Calinski-Harabasz", "Calinski-Harabasz", |r| r.calinski_harabasz, 1),
        ("Davies-Bouldin", "Davies-Bouldin", |r| r.davies_bouldin, 4),
    ];
    if has_bic {
        columns.push(("BIC", "BIC", |r| r.bic, 1));
        columns.push(("AIC", "", |r| r.aic, 1));
    }
    let mut clicked = None;
    let highlight = ui.visuals().selection.bg_fill;
    let warn = ui.visuals().warn_fg_color;
    egui::Grid::new("k-choice").striped(true).spacing([16.0, 4.0]).show(ui, |ui| {
        ui.label(RichText::new("k").strong());
        for (title, index, _, _) in &columns {
            let response = ui.label(RichText::new(*title).strong());
            if !index.is_empty() {
                response.on_hover_text(index_tendency(index));
            }
        }
        if !stability.is_empty() {
            ui.label(RichText::new("Stability (ARI)").strong()).on_hover_text(
                "Mean adjusted Rand index of re-fits on resampled customers against the fit: 1 = the same segments \
                 every time",
            );
            ui.label(RichText::new("Least stable segment").strong()).on_hover_text(
                "The lowest mean Jaccard of a segment with its best match in the re-fits; below 0.75 it is not stable \
                 (Hennig)",
            );
        }
        ui.label(RichText::new("Favoured by").strong());
        ui.label(RichText::new("Smallest segment").strong());
        if min_share.is_some() {
            ui.label(RichText::new("Feasible").strong());
        }
        ui.end_row();
        let most_stable = stability.iter().max_by(|a, b| a.ari_mean.total_cmp(&b.ari_mean)).map(|s| s.k);
        for run in &sweep.runs {
            let mut k_text = RichText::new(format!("k = {}", run.k));
            if Some(run.k) == sweep.suggested_k {
                k_text = k_text.strong();
            }
            if ui.selectable_label(current_k == Some(run.k), k_text).on_hover_text("Use this solution").clicked() {
                clicked = Some(run.k);
            }
            for (_, index, value, digits) in &columns {
                let text = value(run).map_or("-".to_string(), |v| format!("{v:.digits$}"));
                if !index.is_empty() && best_of(index) == Some(run.k) {
                    egui::Frame::new().fill(highlight).inner_margin(egui::Margin::symmetric(4, 0)).show(ui, |ui| {
                        ui.label(RichText::new(text).strong()).on_hover_text(format!("the best {index}"));
                    });
                } else {
                    ui.label(text);
                }
            }
            if !stability.is_empty() {
                match stability.iter().find(|s| s.k == run.k) {
                    Some(s) => {
                        let text = format!("{:.3}", s.ari_mean);
                        if most_stable == Some(run.k) {
                            egui::Frame::new().fill(highlight).inner_margin(egui::Margin::symmetric(4, 0)).show(
                                ui,
                                |ui| {
                                    ui.label(RichText::new(text).strong()).on_hover_text("the most stable k");
                                },
                            );
                        } else {
                            ui.label(text);
                        }
                        let least = format!("{:.2}", s.min_jaccard);
                        ui.label(if s.unstable_segments > 0 {
                            RichText::new(format!("{least} ({} not stable)", s.unstable_segments)).color(warn)
                        } else {
                            RichText::new(least)
                        });
                    }
                    None => {
                        ui.label("-");
                        ui.label("-");
                    }
                }
            }
            let favoured: Vec<&str> = votes.iter().filter(|v| v.0 == run.k).map(|v| v.1).collect();
            ui.label(if favoured.is_empty() { "-".to_string() } else { favoured.join(", ") });
            let smallest = run.sizes.iter().copied().min().unwrap_or(0);
            let share = smallest_share(run);
            let ok = feasible.contains(&run.k);
            let text = format!("{} ({:.1}%)", crate::app::widgets::format_count(smallest), 100.0 * share);
            ui.label(if ok { RichText::new(text) } else { RichText::new(text).color(warn) });
            if min_share.is_some() {
                ui.label(if ok { RichText::new("yes") } else { RichText::new("no: too small").color(warn) });
            }
            ui.end_row();
        }
    });
    let disagreeing: Vec<String> = votes
        .iter()
        .filter(|v| Some(v.0) != sweep.suggested_k)
        .map(|v| format!("{} (k = {}): {}", v.1, v.0, index_tendency(v.1)))
        .collect();
    if !disagreeing.is_empty() {
        ui.add_space(8.0);
        ui.label(RichText::new("Where the indices disagree").strong());
        for line in disagreeing {
            ui.label(line);
        }
    }
    clicked
}
