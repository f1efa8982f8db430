//! Choosing k: the business floor on segment size and the table of every k of the sweep with its
//! indices, stability and feasibility.

use eframe::egui::{self, RichText, Ui};

use crate::app::{Command, StrataApp};
use crate::engine::cluster::sweep::SweepRun;
use crate::engine::features::recipe::Scaling;
use crate::engine::pipeline::{DataSource, PipelineSpec};

/// Marks a figure computed on a sample of the customers, not on every one.
const SAMPLED_MARK: &str = "≈";

/// For a silhouette computed on a sample: what it is, in words, with its 95% interval.
fn sampled_silhouette(run: &SweepRun) -> Option<String> {
    let detail = run.silhouette_detail.as_ref().filter(|d| !d.exact)?;
    let interval = detail.ci95.map_or(String::new(), |(lo, hi)| format!("; 95% interval {lo:.4} to {hi:.4}"));
    Some(format!(
        "From a sample: the mean silhouette of a seeded sample of {} customers{interval}",
        crate::app::widgets::format_count(detail.sample_size)
    ))
}

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
    threshold: usize,
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
    // The best value of a column is marked on every k that reaches it: the voted k's value for an
    // index with a vote (the elbow's knee only), the lowest AIC; ties are all marked.
    let is_best = |index: &str, value: &fn(&SweepRun) -> Option<f64>, run: &SweepRun| {
        let Some(mine) = value(run) else { return false };
        let reference = if index.is_empty() {
            let lowest = sweep.runs.iter().filter_map(value).fold(f64::INFINITY, f64::min);
            lowest.is_finite().then_some(lowest)
        } else if index == "elbow" {
            return best_of(index) == Some(run.k);
        } else {
            best_of(index).and_then(|k| sweep.runs.iter().find(|r| r.k == k)).and_then(value)
        };
        reference.is_some_and(|best| (mine - best).abs() <= 1e-9 * best.abs().max(1.0))
    };
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
            for (title, index, value, digits) in &columns {
                let mut text = value(run).map_or("-".to_string(), |v| format!("{v:.digits$}"));
                // A silhouette from a sample says so where it is read, with its interval.
                let sampled = (*index == "silhouette").then(|| sampled_silhouette(run)).flatten();
                if sampled.is_some() {
                    text = format!("{SAMPLED_MARK}{text}");
                }
                let response = if is_best(index, value, run) {
                    let what = if index.is_empty() { *title } else { *index };
                    egui::Frame::new()
                        .fill(highlight)
                        .inner_margin(egui::Margin::symmetric(4, 0))
                        .show(ui, |ui| ui.label(RichText::new(text).strong()).on_hover_text(format!("the best {what}")))
                        .inner
                } else {
                    ui.label(text)
                };
                if let Some(words) = sampled {
                    response.on_hover_text(words);
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
            // A smallest segment under the threshold is "<10", without its share.
            let text = if crate::engine::governance::suppress::is_small(smallest, threshold) {
                format!("<{threshold}")
            } else {
                format!("{} ({:.1}%)", crate::app::widgets::format_count(smallest), 100.0 * share)
            };
            ui.label(if ok { RichText::new(text) } else { RichText::new(text).color(warn) });
            if min_share.is_some() {
                ui.label(if ok { RichText::new("yes") } else { RichText::new("no: too small").color(warn) });
            }
            ui.end_row();
        }
    });
    if let Some(run) = sweep.runs.iter().find(|r| sampled_silhouette(r).is_some())
        && let Some(detail) = &run.silhouette_detail
    {
        ui.label(
            RichText::new(format!(
                "{SAMPLED_MARK} from a sample: each silhouette is the mean over a seeded sample of {} of the {} \
                 customers; hover a value for its 95% interval",
                crate::app::widgets::format_count(detail.sample_size),
                crate::app::widgets::format_count(sweep.n_rows),
            ))
            .small()
            .weak(),
        );
    }
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

/// What a kept run is made of, as (what, text) pairs: the method, its settings, seed, k range,
/// features and their transforms, and the data file. A short label shows the texts that differ.
fn facets(spec: &PipelineSpec) -> Vec<(String, String)> {
    use crate::engine::cluster::describe::{Kind, field};
    let algorithm = &spec.model.algorithm;
    let method = algorithm.label();
    let mut out = vec![("method".to_string(), method.to_string())];
    let params = algorithm.params_json();
    for setting in algorithm.info().settings {
        let fields: Vec<&str> = match &setting.kind {
            Kind::Count { field, .. }
            | Kind::Number { field, .. }
            | Kind::AutoCount { field, .. }
            | Kind::AutoNumber { field, .. }
            | Kind::SetNumber { field, .. }
            | Kind::Mode { field, .. }
            | Kind::Choice { field, .. }
            | Kind::Pair { field, .. } => vec![field],
            Kind::Grid { fields, .. } => fields.to_vec(),
            Kind::Columns { fields } => fields.to_vec(),
        };
        let absent = match setting.kind {
            Kind::Choice { absent: Some(name), .. } => Some(serde_json::Value::String(name.to_string())),
            _ => None,
        };
        let values: Vec<String> = fields
            .iter()
            .map(|f| match field(&params, f).or(absent.as_ref()) {
                None | Some(serde_json::Value::Null) => "auto".to_string(),
                Some(serde_json::Value::String(s)) => s.to_lowercase(),
                Some(serde_json::Value::Number(n)) => n.to_string(),
                Some(serde_json::Value::Array(a)) => a.iter().map(ToString::to_string).collect::<Vec<_>>().join("-"),
                Some(other) => other.to_string(),
            })
            .collect();
        // Keyed by method: another method's settings are not a difference worth a label.
        out.push((
            format!("{method}/{}", setting.label),
            format!("{} {}", setting.label.to_lowercase(), values.join("x")),
        ));
    }
    if algorithm.info().has_k {
        out.push(("seed".to_string(), format!("seed {}", algorithm.seed())));
    }
    if let Some((lo, hi)) = spec.model.k_range {
        out.push(("k range".to_string(), format!("k {lo}-{hi}")));
    }
    let columns: Vec<&str> = spec.recipe.features.iter().map(|f| f.column.as_str()).collect();
    out.push((
        "features".to_string(),
        if columns.len() <= 3 { columns.join(" + ") } else { format!("{} features", columns.len()) },
    ));
    let logged: Vec<&str> = spec.recipe.features.iter().filter(|f| f.log1p).map(|f| f.column.as_str()).collect();
    out.push((
        "log".to_string(),
        match logged.len() {
            0 => "no log".to_string(),
            n if n == columns.len() => "log scaling".to_string(),
            1..=2 => format!("log {}", logged.join(", ")),
            n => format!("{n} logged"),
        },
    ));
    let scalings: std::collections::BTreeSet<String> = spec
        .recipe
        .features
        .iter()
        .map(|f| match f.scaling {
            Scaling::ZScore => "standardised",
            Scaling::Robust => "robust scaling",
            Scaling::MinMax => "min-max scaling",
            Scaling::None => "unscaled",
        })
        .map(str::to_string)
        .collect();
    out.push(("scaling".to_string(), scalings.into_iter().collect::<Vec<_>>().join(" and ")));
    let weighted: Vec<String> = spec
        .recipe
        .features
        .iter()
        .filter(|f| (f.weight - 1.0).abs() > 1e-12)
        .map(|f| format!("{} x{}", f.column, f.weight))
        .collect();
    out.push((
        "weights".to_string(),
        if weighted.is_empty() { "equal weights".to_string() } else { weighted.join(", ") },
    ));
    let file = match &spec.source.source {
        DataSource::File(path) => {
            std::path::Path::new(path).file_name().map_or(path.clone(), |n| n.to_string_lossy().into_owned())
        }
        DataSource::DemoTransactions | DataSource::DemoAttributes => "demo data".to_string(),
    };
    out.push(("data".to_string(), file));
    out
}

/// Short legend labels for runs: the method, then only what differs between the runs (a setting,
/// the seed, the features, a transform, the file), e.g. "GMM, seed 7" or "k-means, log scaling".
/// Runs that differ in nothing named here get their run number.
pub(super) fn short_labels(runs: &[(u64, &PipelineSpec)]) -> Vec<String> {
    let all: Vec<Vec<(String, String)>> = runs.iter().map(|(_, spec)| facets(spec)).collect();
    let differs = |key: &str| {
        let texts: Vec<Option<&String>> =
            all.iter().map(|f| f.iter().find(|(k, _)| k == key).map(|(_, t)| t)).filter(Option::is_some).collect();
        texts.windows(2).any(|w| w[0] != w[1])
    };
    let mut labels: Vec<String> = all
        .iter()
        .map(|facets| {
            let mut parts: Vec<&str> = vec![facets[0].1.as_str()];
            parts.extend(facets.iter().skip(1).filter(|(k, _)| differs(k)).map(|(_, t)| t.as_str()));
            parts.join(", ")
        })
        .collect();
    let twins: Vec<bool> = labels.iter().map(|l| labels.iter().filter(|m| *m == l).count() > 1).collect();
    for ((label, twin), (id, _)) in labels.iter_mut().zip(twins).zip(runs) {
        if twin {
            label.push_str(&format!(" (run {id})"));
        }
    }
    labels
}

#[cfg(test)]
mod tests {
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;

    use super::*;
    use crate::engine::cluster::sweep::SweepResult;
    use crate::engine::metrics::SilhouetteResult;

    fn sweep(sampled: bool) -> SweepResult {
        let runs = (2..=4)
            .map(|k| {
                let mean = 0.1 * k as f64 + 0.0123;
                let detail = if sampled {
                    SilhouetteResult {
                        mean,
                        exact: false,
                        sample_size: 50_000,
                        ci95: Some((mean - 0.002, mean + 0.002)),
                    }
                } else {
                    SilhouetteResult { mean, exact: true, sample_size: 80_000, ci95: None }
                };
                SweepRun {
                    k,
                    inertia: 1000.0 / k as f64,
                    silhouette: Some(mean),
                    calinski_harabasz: Some(10.0),
                    davies_bouldin: Some(1.0),
                    sizes: vec![80_000 / k; k],
                    silhouette_detail: Some(detail),
                    n_iter: 10,
                    bic: None,
                    aic: None,
                }
            })
            .collect();
        SweepResult {
            n_rows: 80_000,
            runs,
            knee_k: Some(3),
            suggested_k: Some(3),
            reason: String::new(),
            warnings: Vec::new(),
            shared_model: None,
        }
    }

    fn table(sampled: bool) -> Harness<'static> {
        let sweep = sweep(sampled);
        let mut harness = Harness::new_ui(move |ui| {
            k_choice_table(ui, &sweep, &[], &[2, 3, 4], None, Some(3), 10);
        });
        harness.run();
        harness
    }

    #[test]
    fn a_silhouette_from_a_sample_is_marked_where_it_is_read_and_the_table_says_why() {
        let harness = table(true);
        harness.get_by_label("≈0.2123");
        harness.get_by_label("≈0.4123");
        harness.get_by_label_contains(
            "≈ from a sample: each silhouette is the mean over a seeded sample of 50,000 of the 80,000",
        );
        assert!(harness.query_by_label("0.2123").is_none(), "no sampled value reads as exact");
        assert_eq!(
            sampled_silhouette(&sweep(true).runs[0]).unwrap(),
            "From a sample: the mean silhouette of a seeded sample of 50,000 customers; 95% interval 0.2103 to 0.2143"
        );

        let exact = table(false);
        exact.get_by_label("0.2123");
        assert!(exact.query_by_label_contains("from a sample").is_none());
        assert!(exact.query_by_label("≈0.2123").is_none());
    }
}
