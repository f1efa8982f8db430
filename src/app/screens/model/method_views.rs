//! The views each method adds on the Model screen: mixture certainty, RFM rules and score grid,
//! the dendrogram, k-distance and reachability plots, value tiers, prototypes and the SOM grid.

use crate::engine::governance::suppress::{self, Sizes};
use eframe::egui::{self, RichText, Ui};
use egui_plot::{Line, Plot, PlotPoints};

use crate::app::ticks::Ticks::{Integers, Numbers};

use crate::app::StrataApp;
use crate::engine::cluster::rfm_rules::{RfmRule, standard_rules};
use crate::engine::pipeline::Algorithm;

/// How sure a mixture is of each customer: the distribution of the probability of the segment each
/// customer is in, and the share below 0.8.
pub(super) fn certainty_ui(ui: &mut Ui, mixture: &crate::engine::cluster::Mixture) {
    const BINS: usize = 10;
    let k = mixture.probabilities.ncols().max(1);
    let floor = 1.0 / k as f32;
    let mut counts = [0usize; BINS];
    let mut unsure = 0usize;
    for row in mixture.probabilities.rows() {
        let top = row.iter().copied().fold(0.0f32, f32::max);
        if top < 0.8 {
            unsure += 1;
        }
        let bin = (((top - floor) / (1.0 - floor).max(1e-6)) * BINS as f32).floor() as usize;
        counts[bin.min(BINS - 1)] += 1;
    }
    let n = mixture.probabilities.nrows().max(1);
    ui.label(RichText::new("Membership certainty").strong()).on_hover_text(
        "Each customer's probability of the segment they are in. Near 1: clearly in it; near 1/k: between segments.",
    );
    ui.label(format!(
        "{:.1}% of customers have a probability below 0.8 for their segment; mean log-likelihood {:.3}, BIC {:.0}, AIC {:.0}.",
        100.0 * unsure as f64 / n as f64,
        mixture.mean_log_likelihood,
        mixture.bic,
        mixture.aic
    ));
    let bars: Vec<egui_plot::Bar> = counts
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let centre = floor + (1.0 - floor) * (i as f32 + 0.5) / BINS as f32;
            egui_plot::Bar::new(f64::from(centre), c as f64).width(f64::from((1.0 - floor) / BINS as f32) * 0.9)
        })
        .collect();
    crate::app::ticks::readable(Plot::new("certainty"), Numbers, Integers)
        .height(110.0)
        .allow_scroll(false)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_boxed_zoom(false)
        .x_axis_label("probability of the assigned segment")
        .show(ui, |plot| plot.bar_chart(egui_plot::BarChart::new("customers", bars)));
}

/// RFM rules and their result: one row per rule (editable: name, score ranges, order) with its
/// customers, share and mean scores; then the recency by frequency score grid coloured by the segment
/// most customers in each cell are in.
pub(super) fn rfm_view_ui(ui: &mut Ui, app: &mut StrataApp, out: &crate::app::RunOutput) {
    let result = &out.result;
    if result.fit.rfm_scores.is_none() {
        return;
    }
    // Summed over the customers once, on the run's job.
    let Some(tables) = &out.counts.scores else { return };
    let Some(spec) = app.doc.as_ref().map(|d| d.project.spec.clone()) else { return };
    let Algorithm::Rfm(params) = &spec.model.algorithm else {
        ui.label("Running...");
        return;
    };
    let colours = app.segment_colours_in(result);
    let threshold = app.small_cells();
    let sizes = Sizes::new(&result.fit.sizes, threshold);
    ui.heading("RFM segments");
    ui.label(
        "Recency, frequency and monetary value are each scored 1-5 by quantile (5: bought most recently, most \
         orders, most spent; equal values share a score). The rules are tried top to bottom: the first whose \
         three ranges all match names the customer.",
    );
    let sums = &tables.sums;
    let segment_of = |name: &str| result.fit.names.iter().position(|n| n == name);
    let mut rules = params.rules.clone();
    let mut remove = None;
    let mut raise = None;
    egui::Grid::new("rfm-rules").num_columns(9).striped(true).spacing([10.0, 4.0]).show(ui, |ui| {
        for title in ["", "Segment", "Recency", "Frequency", "Monetary", "Customers", "Share", "Mean R / F / M", ""] {
            ui.label(RichText::new(title).strong());
        }
        ui.end_row();
        for (i, rule) in rules.iter_mut().enumerate() {
            let segment = segment_of(&rule.name);
            match segment {
                Some(s) => crate::app::widgets::swatch_ui(ui, colours.of(s)),
                None => {
                    ui.label("");
                }
            }
            // A fixed size: inside a grid a text field would otherwise shrink to last frame's column.
            let name = ui.add_sized([150.0, 20.0], egui::TextEdit::singleline(&mut rule.name));
            crate::app::widgets::accessible_name(&name, &format!("Rule {} name", i + 1));
            for (what, range) in
                [("recency", &mut rule.recency), ("frequency", &mut rule.frequency), ("monetary", &mut rule.monetary)]
            {
                ui.horizontal(|ui| {
                    ui.spacing_mut().item_spacing.x = 2.0;
                    let from = ui.add(egui::DragValue::new(&mut range.0).range(1..=5));
                    crate::app::widgets::accessible_name(&from, &format!("Rule {} {what} from", i + 1));
                    ui.label("to");
                    let to = ui.add(egui::DragValue::new(&mut range.1).range(1..=5));
                    crate::app::widgets::accessible_name(&to, &format!("Rule {} {what} to", i + 1));
                });
                if range.0 > range.1 {
                    std::mem::swap(&mut range.0, &mut range.1);
                }
            }
            match segment {
                Some(s) => {
                    let size = result.fit.sizes[s];
                    ui.label(sizes.words(s));
                    ui.label(share_text(sizes.share(s)));
                    // No mean over fewer customers than the threshold.
                    let mean = |j: usize| sums[s][j] as f64 / size.max(1) as f64;
                    ui.label(if sizes.is_small(s) {
                        "-".to_string()
                    } else {
                        format!("{:.1} / {:.1} / {:.1}", mean(0), mean(1), mean(2))
                    });
                }
                None => {
                    ui.label(RichText::new("0").weak())
                        .on_hover_text("Nobody matched this rule (or every match was taken by a rule above it)");
                    ui.label("");
                    ui.label("");
                }
            }
            ui.horizontal(|ui| {
                if i > 0 && ui.small_button("Up").on_hover_text("Try this rule earlier").clicked() {
                    raise = Some(i);
                }
                if ui.small_button("Remove").clicked() {
                    remove = Some(i);
                }
            });
            ui.end_row();
        }
        if let Some(s) = segment_of(crate::engine::cluster::rfm_rules::UNMATCHED) {
            crate::app::widgets::swatch_ui(ui, colours.of(s));
            ui.label(crate::engine::cluster::rfm_rules::UNMATCHED).on_hover_text("Customers no rule matched");
            for _ in 0..3 {
                ui.label("");
            }
            ui.label(sizes.words(s));
            ui.label(share_text(sizes.share(s)));
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
            rules = standard_rules();
        }
    });
    if rules != params.rules {
        let mut new_spec = spec.clone();
        if let Algorithm::Rfm(p) = &mut new_spec.model.algorithm {
            p.rules = rules;
        }
        app.push(crate::app::Command::EditSpec { spec: Box::new(new_spec), what: "RFM rules".into() });
    }
    ui.add_space(12.0);
    ui.label(RichText::new("Customers by recency and frequency score").strong());
    // counts[r][f][segment]
    let cells = &tables.cells;
    let cell = 64.0;
    let (rect, _) = ui.allocate_exact_size(egui::vec2(cell * 5.0 + 40.0, cell * 5.0 + 36.0), egui::Sense::hover());
    let painter = ui.painter_at(rect);
    let origin = rect.min + egui::vec2(40.0, 0.0);
    let text_colour = ui.visuals().text_color();
    let max = cells.iter().map(|c| c.iter().sum::<usize>()).max().unwrap_or(1).max(1);
    for r in 0..5 {
        for f in 0..5 {
            let counts = &cells[r * 5 + f];
            let total: usize = counts.iter().sum();
            // Recency along x (5 on the right), frequency up the y axis (5 at the top).
            let min = origin + egui::vec2(r as f32 * cell, (4 - f) as f32 * cell);
            let area = egui::Rect::from_min_size(min, egui::vec2(cell - 2.0, cell - 2.0));
            if total == 0 {
                painter.rect_stroke(area, 2.0, (1.0, ui.visuals().weak_text_color()), egui::StrokeKind::Inside);
                continue;
            }
            let top = counts.iter().enumerate().max_by_key(|(_, c)| **c).map_or(0, |(s, _)| s);
            let strength = 0.35 + 0.65 * (total as f32 / max as f32).sqrt();
            painter.rect_filled(area, 2.0, colours.of(top).gamma_multiply(strength));
            painter.text(
                area.center(),
                egui::Align2::CENTER_CENTER,
                suppress::count_words(total, threshold),
                egui::FontId::proportional(12.0),
                egui::Color32::BLACK,
            );
        }
        painter.text(
            origin + egui::vec2((r as f32 + 0.5) * cell, 5.0 * cell + 4.0),
            egui::Align2::CENTER_TOP,
            format!("R {}", r + 1),
            egui::FontId::proportional(12.0),
            text_colour,
        );
    }
    for f in 0..5 {
        painter.text(
            rect.min + egui::vec2(2.0, (4.5 - f as f32) * cell),
            egui::Align2::LEFT_CENTER,
            format!("F {}", f + 1),
            egui::FontId::proportional(12.0),
            text_colour,
        );
    }
    ui.label(
        RichText::new(
            "Each cell is coloured by the segment most of its customers are in (monetary scores differ within a cell).",
        )
        .weak(),
    );
}

/// The top of the tree (its last 29 merges over 30 groups) with the cut at the k in use; clicking
/// at a height cuts there. Returns the k clicked.
pub(super) fn dendrogram_ui(
    ui: &mut Ui,
    tree: &crate::engine::cluster::hierarchical::Dendrogram,
    k: usize,
    customers: usize,
    threshold: usize,
) -> Option<usize> {
    const GROUPS: usize = 30;
    ui.label(RichText::new("Dendrogram").strong()).on_hover_text(
        "How groups merge, bottom up: the higher the join, the more different the groups. Click at a height to cut \
         the tree there.",
    );
    if tree.leaf_of_row.is_some() {
        ui.label(
            RichText::new(format!(
                "Built on {} k-means micro-clusters of the {} customers (above the exact limit); each leaf below \
                 is a group of them.",
                crate::app::widgets::format_count(tree.n_leaves),
                crate::app::widgets::format_count(customers)
            ))
            .weak(),
        );
    }
    let top = tree.top(GROUPS);
    let n = tree.n_leaves;
    let cut = (k >= 2 && k < n).then(|| {
        let below = tree.merges[n - k - 1].height;
        let above = tree.merges[n - k].height;
        (below + above) / 2.0
    });
    let colour = ui.visuals().text_color();
    let weak = ui.visuals().weak_text_color();
    let chosen = ui.visuals().selection.bg_fill;
    let response = crate::app::ticks::readable(Plot::new("dendrogram"), Numbers, Numbers)
        .height(200.0)
        .allow_scroll(false)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_boxed_zoom(false)
        .show_x(false)
        .show_axes([false, true])
        .show_grid([false, true])
        .y_axis_label("height")
        .show(ui, |plot| {
            for (i, segment) in top.segments.iter().enumerate() {
                plot.line(Line::new(format!("merge {i}"), PlotPoints::from(segment.to_vec())).color(colour).width(1.5));
            }
            for (x, size) in &top.leaves {
                plot.text(
                    egui_plot::Text::new(
                        "size",
                        egui_plot::PlotPoint::new(*x, 0.0),
                        suppress::count_words(*size, threshold),
                    )
                    .anchor(egui::Align2::CENTER_TOP)
                    .color(weak),
                );
            }
            if let Some(h) = cut {
                plot.hline(egui_plot::HLine::new(format!("cut at k = {k}"), h).color(chosen).width(2.0));
            }
            plot.pointer_coordinate()
        });
    if response.response.clicked()
        && let Some(point) = response.inner
        && point.y > 0.0
    {
        return Some(tree.k_at_height(point.y).min(n));
    }
    None
}

/// DBSCAN's result: groups and noise, and the k-distance curve with the radius used; clicking on
/// the curve sets the radius there. Returns the radius clicked.
pub(super) fn k_distance_ui(
    ui: &mut Ui,
    density: &crate::engine::cluster::method::Density,
    sizes: &[usize],
    threshold: usize,
) -> Option<f64> {
    let groups = sizes.len() - usize::from(density.n_noise > 0);
    ui.heading("DBSCAN");
    let total: usize = sizes.iter().sum();
    ui.label(format!(
        "{groups} dense group{} and {} noise customer{} ({}); {} core customers. Radius eps = {:.4}{}, core: at \
         least {} customers within it.",
        if groups == 1 { "" } else { "s" },
        suppress::count_words(density.n_noise, threshold),
        if density.n_noise == 1 { "" } else { "s" },
        share_text(suppress::share_of(density.n_noise, total, threshold)),
        suppress::count_words(density.n_core, threshold),
        density.eps,
        if density.eps_from_curve { " (the knee of the k-distance curve)" } else { "" },
        density.min_samples
    ));
    ui.add_space(6.0);
    ui.label(RichText::new("k-distance curve").strong()).on_hover_text(
        "Each customer's distance to its k-th nearest neighbour (k = the core's neighbours), largest first. Below \
         the knee, customers sit in dense regions; click to set eps at that distance.",
    );
    let kd = &density.k_distance;
    if kd.distances.len() < kd.n_rows {
        ui.label(
            RichText::new(format!(
                "Drawn on a sample of {} of the {} customers.",
                crate::app::widgets::format_count(kd.distances.len()),
                crate::app::widgets::format_count(kd.n_rows)
            ))
            .weak(),
        );
    }
    let step = (kd.distances.len() / 2_000).max(1);
    let points: Vec<[f64; 2]> = kd
        .distances
        .iter()
        .enumerate()
        .step_by(step)
        .map(|(i, d)| [i as f64 / kd.distances.len() as f64, *d])
        .collect();
    let chosen = ui.visuals().selection.bg_fill;
    let response = crate::app::ticks::readable(Plot::new("k-distance"), Numbers, Numbers)
        .height((ui.available_height() - 40.0).clamp(200.0, 480.0))
        .allow_scroll(false)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_boxed_zoom(false)
        .x_axis_label("share of customers, by distance")
        .y_axis_label("distance to the k-th neighbour")
        .show(ui, |plot| {
            plot.line(Line::new("k-distance", PlotPoints::from(points)).width(2.0));
            plot.hline(egui_plot::HLine::new("eps", density.eps).color(chosen).width(2.0));
            plot.pointer_coordinate()
        });
    if response.response.clicked()
        && let Some(point) = response.inner
        && point.y > 0.0
    {
        return Some(point.y);
    }
    None
}

/// Bars drawn at most in the reachability plot (each the largest reachability of its customers).
const REACHABILITY_BARS: usize = 1_500;

/// OPTICS' result: the reachability plot coloured by group, noise grey, the cut height when one is
/// used; clicking on the plot cuts there. Returns the height clicked.
pub(super) fn reachability_ui(
    ui: &mut Ui,
    plot: &crate::engine::cluster::optics::ReachabilityPlot,
    sizes: &[usize],
    colours: &crate::app::widgets::SegmentColours,
    threshold: usize,
) -> Option<f64> {
    let n = plot.reachability.len();
    let n_noise = plot.groups.iter().filter(|g| g.is_none()).count();
    let groups = sizes.len() - usize::from(n_noise > 0);
    ui.heading("OPTICS");
    ui.label(format!(
        "{groups} group{} and {} noise customer{} ({}); {}.",
        if groups == 1 { "" } else { "s" },
        suppress::count_words(n_noise, threshold),
        if n_noise == 1 { "" } else { "s" },
        share_text(suppress::share_of(n_noise, n, threshold)),
        match plot.eps {
            Some(eps) => format!("groups where the plot stays below {eps:.4} (DBSCAN's groups at that radius)"),
            None => format!(
                "groups are the valleys between drops and rises of at least {:.0}% (xi = {})",
                100.0 * plot.xi,
                plot.xi
            ),
        }
    ));
    if plot.eps.is_none() && 2 * n_noise > n {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            "Most customers are noise by the xi method (its valleys need steep edges, and flat stretches have \
             none): click the plot to cut at a height instead, or lower the smallest group.",
        );
    }
    ui.add_space(6.0);
    ui.label(RichText::new("Reachability plot").strong()).on_hover_text(
        "Customers in OPTICS' order, each at its distance from the dense region before it. Valleys are groups: \
         deep ones dense, shallow ones sparse; the band under the axis shows each customer's group. Click to cut \
         at that height.",
    );
    let finite_max = plot.reachability.iter().copied().filter(|r| r.is_finite()).fold(0.0f64, f64::max);
    let top = if finite_max > 0.0 { finite_max * 1.1 } else { 1.0 };
    let per_bar = n.div_ceil(REACHABILITY_BARS).max(1);
    let band = top * 0.04;
    let noise_colour = ui.visuals().weak_text_color();
    let mut by_colour: Vec<(egui::Color32, Vec<egui_plot::Bar>)> = Vec::new();
    for (b, start) in (0..n).step_by(per_bar).enumerate() {
        let end = (start + per_bar).min(n);
        // The bucket's height is its largest reachability; its colour, its commonest group.
        let height =
            plot.reachability[start..end].iter().map(|r| if r.is_finite() { *r } else { top }).fold(0.0, f64::max);
        let mut counts: std::collections::BTreeMap<Option<usize>, usize> = std::collections::BTreeMap::new();
        for g in &plot.groups[start..end] {
            *counts.entry(*g).or_default() += 1;
        }
        let group = counts.into_iter().max_by_key(|(g, c)| (*c, std::cmp::Reverse(*g))).and_then(|(g, _)| g);
        let colour = group.map_or(noise_colour, |g| colours.of(g));
        let x = (b as f64 + 0.5) * per_bar as f64;
        let mut bars = vec![egui_plot::Bar::new(x, height).width(per_bar as f64)];
        // A band under the axis shows the groups even where reachability is near zero.
        if group.is_some() {
            bars.push(egui_plot::Bar::new(x, band).base_offset(-band).width(per_bar as f64));
        }
        match by_colour.iter_mut().find(|(c, _)| *c == colour) {
            Some((_, existing)) => existing.extend(bars),
            None => by_colour.push((colour, bars)),
        }
    }
    let chosen = ui.visuals().selection.bg_fill;
    let response = crate::app::ticks::readable(Plot::new("reachability"), Numbers, Numbers)
        .height((ui.available_height() - 40.0).clamp(200.0, 480.0))
        .allow_scroll(false)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_boxed_zoom(false)
        .include_y(0.0)
        .x_axis_label("customers in OPTICS' order")
        .y_axis_label("reachability distance")
        .show(ui, |p| {
            for (i, (colour, bars)) in by_colour.into_iter().enumerate() {
                p.bar_chart(egui_plot::BarChart::new(format!("reach-{i}"), bars).color(colour));
            }
            if let Some(eps) = plot.eps {
                p.hline(egui_plot::HLine::new("cut", eps).color(chosen).width(2.0));
            }
            p.pointer_coordinate()
        });
    if n > REACHABILITY_BARS {
        ui.label(
            RichText::new(format!(
                "Each bar is {} customers (their largest reachability); the tallest bars, at the plot's top, start a \
                 new region.",
                per_bar
            ))
            .weak(),
        );
    }
    if response.response.clicked()
        && let Some(point) = response.inner
        && point.y > 0.0
    {
        return Some(point.y);
    }
    None
}

/// The hybrid's result: each value tier with the segments k-means found inside it.
pub(super) fn hybrid_view_ui(ui: &mut Ui, app: &StrataApp, out: &crate::app::RunOutput) {
    let result = &out.result;
    if result.fit.rfm_scores.is_none() {
        return;
    }
    let colours = app.segment_colours_in(result);
    let threshold = app.small_cells();
    let sizes = Sizes::new(&result.fit.sizes, threshold);
    ui.heading("Value tiers and the segments inside them");
    ui.label(
        "Each customer's recency, frequency and monetary scores (1-5 by quantile) are added up (3-15) to place \
         them in a value tier; k-means then finds segments inside each tier on the features of the recipe.",
    );
    // Summed over the customers once, on the run's job.
    let Some(tables) = &out.counts.scores else { return };
    let totals: Vec<usize> = tables.sums.iter().map(|s| s[0] + s[1] + s[2]).collect();
    let name_of = |s: usize| app.segment_name_in(result, s);
    let features = &result.matrix.names;
    egui::Grid::new("hybrid-tiers").striped(true).spacing([14.0, 4.0]).show(ui, |ui| {
        for title in ["", "Segment", "Customers", "Share", "Mean RFM total"] {
            ui.label(RichText::new(title).strong());
        }
        for f in features {
            ui.label(RichText::new(format!("{f} (mean)")).strong()).on_hover_text("In the model's feature space");
        }
        ui.end_row();
        for (s, (&size, &total)) in result.fit.sizes.iter().zip(&totals).enumerate() {
            crate::app::widgets::swatch_ui(ui, colours.of(s));
            ui.label(name_of(s));
            ui.label(sizes.words(s));
            ui.label(share_text(sizes.share(s)));
            ui.label(if sizes.is_small(s) {
                "-".to_string()
            } else {
                format!("{:.1}", total as f64 / size.max(1) as f64)
            });
            for j in 0..features.len() {
                ui.label(format!("{:+.2}", result.fit.centroids[[s, j]]));
            }
            ui.end_row();
        }
    });
}

/// k-prototypes' prototypes: per segment, the mode of each categorical feature and how many of the
/// segment's customers share it, with the category weight and how much of the cost categories make.
pub(super) fn prototypes_ui(
    ui: &mut Ui,
    app: &StrataApp,
    result: &crate::engine::pipeline::PipelineResult,
    model: &crate::engine::cluster::kprototypes::KPrototypesModel,
) {
    ui.label(RichText::new("Prototypes").strong()).on_hover_text(
        "Each segment's prototype is the mean of its numeric features (see the Segments screen) and the most \
         common category of each categorical one; customers join the prototype that costs least.",
    );
    let automatic = matches!(
        app.doc.as_ref().map(|d| &d.project.spec.model.algorithm),
        Some(Algorithm::KPrototypes(p)) if p.gamma.is_none()
    );
    if model.layout.categorical.is_empty() {
        ui.label(
            "The recipe has no categorical feature, so the prototypes are means only and the segments are \
             k-means'. Add a categorical column on the Features screen to use categories.",
        );
        ui.add_space(8.0);
        return;
    }
    ui.label(format!(
        "Category weight {:.3}{}: one differing category costs as much as that squared distance in the numeric \
         features. Differing categories make up {:.0}% of the total cost.",
        model.gamma,
        if automatic { " (automatic: half the numeric features' mean standard deviation)" } else { "" },
        100.0 * model.categorical_cost_share
    ));
    let names = &result.matrix.names;
    // A group's feature name and its levels, from the one-hot columns' "feature=level" names.
    let feature_of = |group: &[usize]| {
        group.first().and_then(|&c| names.get(c)).map_or_else(String::new, |n| {
            n.split_once('=').map_or_else(|| n.clone(), |(feature, _)| feature.to_string())
        })
    };
    let level_of = |group: &[usize], code: u32| match group.get(code as usize).and_then(|&c| names.get(c)) {
        Some(n) => n.split_once('=').map_or_else(|| n.clone(), |(_, level)| level.to_string()),
        None => "(missing)".to_string(),
    };
    let k = result.fit.k();
    let colours = app.segment_colours_in(result);
    let threshold = app.small_cells();
    let sizes = Sizes::new(&result.fit.sizes, threshold);
    egui::Grid::new("prototypes").striped(true).spacing([14.0, 4.0]).show(ui, |ui| {
        ui.label(RichText::new("Segment").strong());
        ui.label(RichText::new("Customers").strong());
        for group in &model.layout.categorical {
            ui.label(RichText::new(feature_of(group)).strong());
        }
        ui.end_row();
        for s in 0..k.min(model.modes.len()) {
            ui.horizontal(|ui| {
                crate::app::widgets::swatch_ui(ui, colours.of(s));
                ui.label(app.segment_name_in(result, s));
            });
            ui.label(sizes.words(s));
            for (g, group) in model.layout.categorical.iter().enumerate() {
                let share = model.mode_share.get(s).and_then(|m| m.get(g)).copied().unwrap_or(f64::NAN);
                // Nothing of a segment under the threshold; a share whose count (or rest) is small neither.
                let size = result.fit.sizes[s];
                let count = (share * size as f64).round() as usize;
                let text = if sizes.is_small(s) {
                    "-".to_string()
                } else if suppress::share_of(count, size, threshold).is_none() {
                    format!("{} (share hidden)", level_of(group, model.modes[s][g]))
                } else {
                    format!("{} ({:.0}%)", level_of(group, model.modes[s][g]), 100.0 * share)
                };
                ui.label(text).on_hover_text("The commonest category, and the share of the segment's customers in it");
            }
            ui.end_row();
        }
    });
    ui.add_space(8.0);
}

/// The map: the U-matrix (dark where neighbouring nodes are far apart: borders) and the nodes
/// coloured by segment, each with its customers.
pub(super) fn som_ui(
    ui: &mut Ui,
    map: &crate::engine::cluster::som::SomMap,
    fit: &crate::engine::cluster::Segmentation,
    colours: &crate::app::widgets::SegmentColours,
) {
    let crate::engine::cluster::FittedModel::Som(model) = &fit.model else { return };
    ui.label(RichText::new("Self-organising map").strong()).on_hover_text(
        "Left: the U-matrix, each node's mean distance to its neighbours (dark: a border between groups). Right: \
         the nodes by segment. The numbers are customers per node.",
    );
    let (rows, cols) = (map.rows, map.cols);
    let cell = ((ui.available_width() / 2.0 - 24.0) / cols as f32).min(190.0 / rows as f32).clamp(6.0, 30.0);
    let size = egui::vec2(cell * cols as f32 * 2.0 + 24.0, cell * rows as f32);
    let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
    let painter = ui.painter_at(rect);
    let max_u = map.u_matrix.iter().copied().fold(0.0f64, f64::max).max(1e-12);
    let right = rect.min + egui::vec2(cell * cols as f32 + 24.0, 0.0);
    for node in 0..rows * cols {
        let (r, c) = (node / cols, node % cols);
        let offset = egui::vec2(c as f32 * cell, r as f32 * cell);
        let u = (map.u_matrix[node] / max_u) as f32;
        let grey = (235.0 - 200.0 * u) as u8;
        let left_cell = egui::Rect::from_min_size(rect.min + offset, egui::vec2(cell - 1.0, cell - 1.0));
        painter.rect_filled(left_cell, 1.0, egui::Color32::from_gray(grey));
        let colour = colours.of(model.node_segments[node]);
        let hits = map.hits[node];
        let right_cell = egui::Rect::from_min_size(right + offset, egui::vec2(cell - 1.0, cell - 1.0));
        painter.rect_filled(right_cell, 1.0, if hits == 0 { colour.gamma_multiply(0.3) } else { colour });
        if cell >= 18.0 && hits > 0 {
            let text = if hits >= 1000 { format!("{}k", hits / 1000) } else { hits.to_string() };
            let font = egui::FontId::proportional(9.0);
            painter.text(right_cell.center(), egui::Align2::CENTER_CENTER, &text, font.clone(), egui::Color32::BLACK);
            let ink = if grey < 120 { egui::Color32::WHITE } else { egui::Color32::BLACK };
            painter.text(left_cell.center(), egui::Align2::CENTER_CENTER, text, font, ink);
        }
    }
}

/// A share as a percentage with one decimal, or "-" where it is not shown.
fn share_text(share: Option<f64>) -> String {
    share.map_or_else(|| "-".to_string(), |s| format!("{:.1}%", 100.0 * s))
}
