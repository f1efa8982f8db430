//! Segments: a card per segment (size, share, means and medians in original units, how far each
//! feature sits from the population, colour, editable name and notes), the profile table with heat
//! colouring, the per-member silhouette plot and the 2-D PCA projection, drawn as a density image of
//! every customer with a sample of points on top.

use eframe::egui::{self, Color32, RichText, Ui};
use egui_plot::{HLine, Line, Plot, PlotImage, PlotPoint, PlotPoints, Points};

use crate::app::widgets::{SegmentColours, format_count, format_number, heat_fill, swatch_ui};
use crate::app::{Command, RunOutput, StrataApp};
use crate::engine::governance::suppress::{self, Cell};
use crate::engine::profile::summary::ScatterView;

/// Draws the Segments screen.
pub fn segments_ui(ui: &mut Ui, app: &mut StrataApp) {
    let Some(out) = app.output.clone() else {
        ui.label(if app.progress.is_some() { "Running..." } else { "Run to see the segments." });
        return;
    };
    // Nothing here depends on a size remembered for another k: the card column is resizable between
    // bounds (its handle is drawn), and the profile table takes the height its rows need up to
    // two fifths of the screen, scrolling visibly beyond, so the projection and silhouettes stay.
    let full = ui.available_rect_before_wrap();
    let card_width_max = (full.width() * 0.5).max(300.0);
    egui::Panel::left("segment-cards")
        .resizable(true)
        .show_separator_line(true)
        .default_size(380.0_f32.min(card_width_max))
        .min_size(260.0)
        .max_size(card_width_max)
        .show(ui, |ui| {
            // Solid bars: a floating bar is invisible until hovered, and the cards must show they scroll.
            ui.spacing_mut().scroll = egui::style::ScrollStyle::solid();
            egui::ScrollArea::vertical()
                .id_salt("segment-cards-scroll")
                .scroll_bar_visibility(egui::scroll_area::ScrollBarVisibility::AlwaysVisible)
                .show(ui, |ui| cards_ui(ui, app, &out));
        });
    // The table's rows are an interactive widget high, 4 points apart (profile_table_ui).
    let row_height = ui.spacing().interact_size.y + 4.0;
    let rows = out.summary.profiles.len() as f32 + 2.0;
    // The export buttons, the heading, the rows and a scroll bar's room.
    let buttons = ui.spacing().interact_size.y + ui.spacing().item_spacing.y;
    let wanted = buttons + ui.text_style_height(&egui::TextStyle::Heading) + 24.0 + rows * row_height + 16.0;
    let table_height = wanted.min((full.height() * 0.4).max(140.0));
    egui::Panel::top("profile-table").resizable(false).exact_size(table_height).show(ui, |ui| {
        ui.horizontal(|ui| {
            if ui.button("Export profiles...").on_hover_text("The profile table as CSV or Excel").clicked() {
                app.push(Command::ExportDialog(crate::app::ExportKind::Profiles));
            }
            if ui
                .button("Export assignments...")
                .on_hover_text("Every customer's segment and name, as CSV, Parquet or Excel")
                .clicked()
            {
                app.push(Command::ExportDialog(crate::app::ExportKind::Assignments));
            }
        });
        ui.spacing_mut().scroll = egui::style::ScrollStyle::solid();
        profile_table_ui(ui, app, &out);
    });
    egui::CentralPanel::default().show(ui, |ui| {
        let width = ((ui.available_width() - 16.0) / 2.0).max(160.0);
        // Each plot runs from under its title (one or two lines, by scale) to the panel's bottom.
        let bottom = ui.available_rect_before_wrap().bottom();
        ui.horizontal(|ui| {
            ui.vertical(|ui| {
                ui.set_max_width(width);
                scatter_ui(ui, app, &out, width, bottom);
            });
            ui.vertical(|ui| {
                ui.set_max_width(width);
                silhouette_ui(ui, app, &out, width, bottom);
            });
        });
    });
}

fn segment_name(app: &StrataApp, segment: usize) -> String {
    match &app.output {
        Some(out) => app.segment_name_in(&out.result, segment),
        None => format!("Segment {}", segment + 1),
    }
}

fn cards_ui(ui: &mut Ui, app: &mut StrataApp, out: &RunOutput) {
    let colours = app.segment_colours_in(&out.result);
    let summary = &out.summary;
    ui.heading(crate::engine::words::count(summary.profiles.len(), "segment"));
    match &summary.explanation {
        Ok(e) => {
            ui.label(format!(
                "Tree rules below: a decision tree of depth {} on the original features puts {:.0}% of customers in their \
                 own segment{}.",
                summary.explain_depth,
                100.0 * e.fidelity,
                if summary.explained_rows < out.result.customers.height() {
                    format!(" (trained on a sample of {})", format_count(summary.explained_rows))
                } else {
                    String::new()
                }
            ))
            .on_hover_text("Fidelity: the share of customers the rules put in the segment the model gave them");
        }
        Err(why) => {
            ui.label(RichText::new(crate::app::words::for_window(&format!("No rules: {why}"))).weak());
        }
    }
    // Deeper trees explain more customers with longer rules; stored in the project.
    if let Some(spec) = app.doc.as_ref().map(|d| d.project.spec.clone()) {
        let mut depth = spec.model.explain_depth.unwrap_or(3);
        ui.horizontal(|ui| {
            let label = ui.label("Tree depth");
            let response = ui.add(egui::DragValue::new(&mut depth).range(1..=6)).labelled_by(label.id).on_hover_text(
                "At most this many conditions per rule (1 to 6); deeper trees fit better and read worse",
            );
            if response.changed() {
                let mut spec = spec.clone();
                spec.model.explain_depth = Some(depth);
                app.push(Command::EditSpec { spec: Box::new(spec), what: "tree depth".to_string() });
            }
        });
    }
    // Effect size of each profiled feature (eta squared), to sort each card's features by.
    let effect = |name: &str| {
        summary
            .separation
            .iter()
            .find(|f| f.feature() == name)
            .map_or(f64::NAN, crate::engine::profile::separation::FeatureSeparation::effect_size)
    };
    let floor = app.doc.as_ref().and_then(|d| d.project.spec.model.min_segment_share);
    let threshold = app.small_cells();
    let sizes = summary.sizes_shown(threshold);
    let count = |n: usize| suppress::count_words(n, threshold);
    for (i, profile) in summary.profiles.iter().enumerate() {
        let s = profile.segment;
        let small = sizes.is_small(i);
        let colour = colours.of(s);
        egui::Frame::group(ui.style()).stroke(egui::Stroke::new(2.0, colour)).show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal(|ui| {
                swatch_ui(ui, colour);
                let label = ui.label(format!("Segment {} name", s + 1));
                let mut name = segment_name(app, s);
                let response = ui
                    .add(egui::TextEdit::singleline(&mut name).id_salt(("segment-name", s)).desired_width(180.0))
                    .labelled_by(label.id);
                if response.changed() {
                    app.push(Command::RenameSegment { segment: s, name });
                }
                // Named from the space the model saw, where a log or a scale makes skewed features fair.
                let distances = summary.model_distance_sd.get(s).cloned().unwrap_or_default();
                let suggestion = crate::engine::profile::suggest_name(&summary.columns, &distances);
                let button = ui.small_button("Suggest").on_hover_text(format!(
                    "Name it \"{suggestion}\", from the features that set it apart most (overwrite it as you like)"
                ));
                crate::app::widgets::accessible_name(&button, &format!("Suggest a name for segment {}", s + 1));
                if button.clicked() {
                    app.push(Command::RenameSegment { segment: s, name: suggestion });
                }
            });
            match (sizes.cell(i), sizes.share(i)) {
                (Cell::Count(n), Some(share)) => {
                    ui.label(format!(
                        "{}, {:.1}% of those segmented",
                        crate::engine::words::count(n, "customer"),
                        share * 100.0
                    ));
                }
                (Cell::Count(n), None) => {
                    ui.label(crate::engine::words::count(n, "customer"));
                }
                (Cell::Small, _) => {
                    ui.label(format!("<{threshold} customers: too few to show its figures"))
                        .on_hover_text(format!("Counts under {threshold} are not shown (Data screen, Privacy)"));
                }
                (Cell::Complement, _) => {
                    ui.label("Size hidden").on_hover_text(format!(
                        "With the other sizes and the total it would give away a segment of under {threshold} \
                         customers (Data screen, Privacy)"
                    ));
                }
            }
            if let Some(rules) = &out.result.rules {
                if out.result.is_rule_segment(s) {
                    ui.label(RichText::new("Made by the business rules (Rules screen)").italics());
                } else {
                    let moved_in = rules.moved_in.get(s).copied().unwrap_or(0);
                    let moved_out = rules.moved_out.get(s).copied().unwrap_or(0);
                    if moved_in + moved_out > 0 {
                        ui.label(format!(
                            "Business rules and overrides moved {} in, {} out",
                            count(moved_in),
                            count(moved_out)
                        ));
                    }
                }
            }
            // The features that separate the segments most first (eta squared), then by how many
            // population SDs this segment's mean sits away.
            let distances = summary.distance_sd.get(s).cloned().unwrap_or_default();
            let mut order: Vec<usize> = (0..summary.columns.len()).collect();
            let key = |j: usize| {
                let e = effect(&summary.columns[j]);
                (if e.is_nan() { -1.0 } else { e }, distances.get(j).map_or(0.0, |v| v.abs()))
            };
            order.sort_by(|&a, &b| {
                let (ea, da) = key(a);
                let (eb, db) = key(b);
                eb.total_cmp(&ea).then(db.total_cmp(&da))
            });
            // Nothing computed over fewer customers than the threshold is shown.
            egui::Grid::new(("card", s)).num_columns(4).spacing([10.0, 2.0]).show(ui, |ui| {
                if small {
                    return;
                }
                ui.label(RichText::new("feature").small().weak());
                ui.label(RichText::new("mean").small().weak());
                ui.label(RichText::new("median").small().weak());
                ui.label(RichText::new("vs all").small().weak());
                ui.end_row();
                for &j in &order {
                    let d = distances.get(j).copied().unwrap_or(0.0);
                    let stats = summary.separation.iter().find(|f| f.feature() == summary.columns[j]);
                    let hover = match stats {
                        Some(crate::engine::profile::separation::FeatureSeparation::Numeric(n)) => format!(
                            "Separates the segments: eta squared {:.2} (ANOVA F {:.1}, p {}); epsilon squared {:.2} \
                             (Kruskal-Wallis H {:.1}, p {})",
                            n.eta_squared,
                            n.anova_f,
                            p_value(n.anova_p),
                            n.epsilon_squared,
                            n.kruskal_h,
                            p_value(n.kruskal_p)
                        ),
                        _ => String::new(),
                    };
                    ui.label(&summary.columns[j]).on_hover_text(hover);
                    ui.label(format_number(profile.means[j]));
                    ui.label(format_number(profile.medians[j]));
                    // "0.00 sd below" would call a mean equal to everyone's lower.
                    let words = if format!("{:.2}", d.abs()) == "0.00" {
                        "at the mean".to_string()
                    } else {
                        format!("{:.2} sd {}", d.abs(), if d > 0.0 { "above" } else { "below" })
                    };
                    let text = RichText::new(words).background_color(heat_fill(ui.visuals(), d / 2.0));
                    ui.label(text).on_hover_text(format!(
                        "Population mean {}, sd {}",
                        format_number(summary.population_means[j]),
                        format_number(summary.population_sds[j])
                    ));
                    ui.end_row();
                }
            });
            // Categorical features: the commonest category, strongest separators (Cramer's V) first.
            let mut categories: Vec<&crate::engine::profile::summary::CategoryModes> =
                summary.category_modes.iter().collect();
            categories.sort_by(|a, b| effect(&b.0).total_cmp(&effect(&a.0)));
            for (feature, modes) in categories.into_iter().filter(|_| !small) {
                if let Some(Some((value, share))) = modes.get(s) {
                    // The commonest category's customers, and the rest, are counts of their own: a
                    // share that would give a small one away is left out, the category stays.
                    let n = (share * profile.size as f64).round() as usize;
                    let shown = suppress::share_of(n, profile.size, threshold).is_some();
                    // "Mostly" only for a majority; otherwise it is the commonest of several.
                    let how = if *share > 0.5 { "mostly" } else { "most often" };
                    let text = if shown {
                        format!("{feature}: {how} {value} ({:.0}%)", 100.0 * share)
                    } else {
                        format!("{feature}: {how} {value}")
                    };
                    ui.label(text).on_hover_text(format!(
                        "Separates the segments: Cramer's V {:.2} (chi-square test of segment against {feature})",
                        effect(feature)
                    ));
                }
            }
            if let Ok(e) = &summary.explanation {
                let mut mine: Vec<_> = e.rules.iter().filter(|r| r.segment == s).collect();
                mine.sort_by(|a, b| b.coverage.total_cmp(&a.coverage));
                if mine.is_empty() {
                    ui.label(RichText::new("No rule of this depth singles it out.").weak());
                }
                for r in mine.iter().take(2) {
                    let hits = (r.precision * r.customers as f64).round() as usize;
                    let percent = |shown: Option<f64>| {
                        shown.map_or_else(|| "a hidden share".to_string(), |v| format!("{:.0}%", 100.0 * v))
                    };
                    let precision = suppress::share_of(hits, r.customers, threshold).map(|_| r.precision);
                    let coverage = suppress::share_of(hits, profile.size, threshold).map(|_| r.coverage);
                    ui.label(format!("Tree rule: {}", r.text)).on_hover_text(format!(
                        "{} customers match the rule; {} of them are in this segment, and they are {} of it",
                        count(r.customers),
                        percent(precision),
                        percent(coverage)
                    ));
                }
            }
            if let Some(overlap) = &summary.overlap
                && s < overlap.matrix.len()
                && !small
            {
                // Shares of the segment's customers: each rests on a count that must not be small.
                let shown = |share: f64| {
                    let n = (share * profile.size as f64).round() as usize;
                    suppress::share_of(n, profile.size, threshold).is_some()
                };
                let row: Vec<f64> = overlap.matrix[s].iter().map(|&v| if shown(v) { v } else { 0.0 }).collect();
                let borderline = overlap.borderline_share[s];
                let mut text = card_overlap_words(&row, s, if shown(borderline) { borderline } else { 0.0 }, |o| {
                    segment_name(app, o)
                });
                if !shown(borderline) && borderline > 0.0 {
                    text = format!("the share of borderline customers is hidden (a count under {threshold})");
                }
                ui.label(RichText::new(text).small()).on_hover_text(format!(
                    "Margin: the {}. Borderline customers could as well be in their next-closest segment. Each \
                     customer's next-closest segment is the one it would join if this one did not exist; the \
                     table under the cards gives the shares for every pair.",
                    overlap.margin_kind
                ));
            }
            if let Some(stability) = &out.result.stability
                && let Some(g) = stability.segments.iter().find(|g| g.segment == s)
            {
                let text = format!(
                    "Stability: mean Jaccard {} over {}, dissolved in {:.0}% of them",
                    digits_beside(g.mean_jaccard, 0.75),
                    crate::engine::words::count(stability.bootstrap, "re-fit"),
                    100.0 * g.dissolved_share
                );
                if g.unstable {
                    ui.colored_label(
                        ui.visuals().warn_fg_color,
                        format!("Not stable: {text} (below 0.75 it does not reliably come back)"),
                    );
                } else {
                    ui.label(RichText::new(text).small()).on_hover_text(
                        "Re-fits on resampled customers: the best overlap of this segment with a re-fitted one \
                         (1 = the same customers every time); below 0.5 it dissolved",
                    );
                }
            }
            for flag in segment_flags(summary, s, profile.share, sizes.share(i).is_some(), small, floor) {
                ui.colored_label(ui.visuals().warn_fg_color, flag);
            }
            let label = ui.label(format!("Segment {} notes", s + 1));
            let mut notes = app
                .doc
                .as_ref()
                .and_then(|d| d.project.segments.iter().find(|n| n.segment == s))
                .map(|n| n.notes.clone())
                .unwrap_or_default();
            let response = ui
                .add(
                    egui::TextEdit::multiline(&mut notes)
                        .id_salt(("segment-notes", s))
                        .desired_rows(2)
                        .desired_width(f32::INFINITY)
                        .hint_text("Who they are, what to do"),
                )
                .labelled_by(label.id);
            if response.changed() {
                app.push(Command::EditSegmentNotes { segment: s, notes });
            }
        });
        ui.add_space(6.0);
    }
    overlap_ui(ui, app, out);
}

/// The card's overlap line in plain words, with each number beside what it counts: the share of
/// the segment's customers that are borderline, and the segment that is next-closest for most of
/// its customers, with that share (`row[o]`, the overlap matrix's row: a share of all the segment's
/// customers, not only of the borderline ones).
fn card_overlap_words(row: &[f64], s: usize, borderline: f64, name: impl Fn(usize) -> String) -> String {
    let margin = crate::engine::profile::overlap::BORDERLINE_MARGIN;
    let mut text = if borderline <= 0.0 {
        format!("none of its customers are borderline (margin under {margin})")
    } else if borderline < 0.0005 {
        format!("under 0.1% of its customers are borderline (margin under {margin})")
    } else {
        format!("{:.1}% of its customers are borderline (margin under {margin})", 100.0 * borderline)
    };
    let others: Vec<usize> = (0..row.len()).filter(|&o| o != s).collect();
    let leans = others.iter().copied().max_by(|&a, &b| row[a].total_cmp(&row[b]).then(b.cmp(&a)));
    match (others.len(), leans) {
        (1, Some(o)) => text += &format!("; the only other segment is {}", name(o)),
        (_, Some(o)) if row[o] > 0.0 => {
            text += &format!("; for {:.0}% of its customers the next-closest segment is {}", 100.0 * row[o], name(o));
        }
        _ => {}
    }
    text
}

/// `value` with two decimals, or as many more as it takes for the text to sit on the same side of
/// `limit` as the value (0.749 against 0.75 reads 0.749, not 0.75).
fn digits_beside(value: f64, limit: f64) -> String {
    for decimals in 2..=6 {
        let text = format!("{value:.decimals$}");
        if text.parse::<f64>().is_ok_and(|shown| (shown < limit) == (value < limit)) {
            return text;
        }
    }
    format!("{value}")
}

/// A p-value as text: "< 1e-300" where the double underflows.
fn p_value(p: f64) -> String {
    if p == 0.0 { "< 1e-300".to_string() } else { format!("{p:.2e}") }
}

/// Why a segment may not be usable: too small for the business floor, blurred into another segment
/// (low silhouette), or not distinct (`engine::profile::is_distinct`, on the numbers the card shows).
fn segment_flags(
    summary: &crate::engine::profile::summary::ResultSummary,
    s: usize,
    share: f64,
    share_shown: bool,
    small: bool,
    floor: Option<f64>,
) -> Vec<String> {
    let mut flags = Vec::new();
    if let Some(floor) = floor
        && share < floor
    {
        // A share hidden beside a small count is not said here either.
        if share_shown {
            flags.push(format!(
                "Too small: {:.1}% of customers, below the business floor of {:.1}%",
                100.0 * share,
                100.0 * floor
            ));
        } else {
            flags.push(format!("Too small: below the business floor of {:.1}% of customers", 100.0 * floor));
        }
    }
    if let Some(silhouettes) = &summary.silhouettes
        && let Some(values) = silhouettes.per_segment.get(s)
        && !values.is_empty()
    {
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        if mean < 0.1 {
            flags.push(format!(
                "Blurs into another segment: mean silhouette {} (under 0.10), its members are about as close \
                 to another segment",
                digits_beside(mean, 0.1)
            ));
        }
    }
    // The one rule for "distinct", judged on the distances this card shows (none for a small one).
    if let Some(flag) =
        summary.distance_sd.get(s).filter(|_| !small).and_then(|d| crate::engine::profile::not_distinct_flag(d))
    {
        flags.push(flag);
    }
    flags
}

/// The overlap matrix (share of each segment whose next closest is each other) and the export of
/// the borderline customers.
fn overlap_ui(ui: &mut Ui, app: &mut StrataApp, out: &RunOutput) {
    let Some(overlap) = &out.summary.overlap else { return };
    let k = overlap.matrix.len();
    ui.add_space(8.0);
    ui.label(RichText::new("Next-closest segment (share of each row's customers)").strong()).on_hover_text(
        "Each row: a segment's customers by the segment that would be their second choice; a row adds up to 100%, \
         so with two segments it is always 100%. It says where customers would go, not how many are in doubt: the \
         borderline share says that.",
    );
    // Many segments make a wide matrix: it scrolls sideways instead of widening the card column.
    egui::ScrollArea::horizontal().id_salt("overlap-scroll").show(ui, |ui| overlap_grid_ui(ui, app, out, overlap, k));
    let n = overlap.n_borderline;
    ui.label(format!(
        "{} borderline customers (margin under {}).",
        suppress::count_words(n, app.small_cells()),
        crate::engine::profile::overlap::BORDERLINE_MARGIN
    ));
    if ui.add_enabled(n > 0, egui::Button::new("Export borderline customers...")).clicked() {
        app.push(Command::ExportBorderlineDialog);
    }
}

fn overlap_grid_ui(
    ui: &mut Ui,
    app: &StrataApp,
    out: &RunOutput,
    overlap: &crate::engine::profile::overlap::Overlap,
    k: usize,
) {
    let colours =
        app.output.as_ref().map_or_else(|| SegmentColours::by_number(k), |out| app.segment_colours_in(&out.result));
    let threshold = app.small_cells();
    let size_of = |s: usize| out.summary.profiles.iter().find(|p| p.segment == s).map_or(0, |p| p.size);
    egui::Grid::new("overlap-matrix").spacing([6.0, 2.0]).show(ui, |ui| {
        ui.label(RichText::new("second choice:").small().weak());
        for o in 0..k {
            ui.label(RichText::new(format!("{}", o + 1)).small()).on_hover_text(segment_name(app, o));
        }
        ui.end_row();
        for (s, row) in overlap.matrix.iter().enumerate() {
            ui.horizontal(|ui| {
                swatch_ui(ui, colours.of(s));
                ui.label(RichText::new(segment_name(app, s)).small());
            });
            for (o, share) in row.iter().enumerate() {
                // Each share is of the row's customers: the count it rests on must not be small.
                let size = size_of(s);
                let n = (share * size as f64).round() as usize;
                if o == s {
                    ui.label(RichText::new("-").small().weak());
                } else if suppress::share_of(n, size, threshold).is_none() {
                    ui.label(RichText::new("hidden").small().weak())
                        .on_hover_text(format!("A count under {threshold} customers, or beside one"));
                } else {
                    ui.label(
                        RichText::new(format!("{:.0}%", 100.0 * share))
                            .small()
                            .background_color(heat_fill(ui.visuals(), *share)),
                    );
                }
            }
            ui.end_row();
        }
    });
}

/// The profile table: the segment column stays pinned at the left while the other columns scroll
/// sideways under a scroll bar that is always drawn when they do not fit; rows scroll together.
fn profile_table_ui(ui: &mut Ui, app: &StrataApp, out: &RunOutput) {
    let summary = &out.summary;
    let colours = app.segment_colours_in(&out.result);
    ui.horizontal_wrapped(|ui| {
        ui.heading("Profiles");
        ui.label(
            RichText::new(
                "Mean per feature in original units; colour: distance from the population mean (red above, blue below)",
            )
            .weak(),
        );
    });
    // Both halves have rows of one height, so they line up, and one vertical offset: whichever half
    // the wheel or the bar moved sets it for both (the other follows a frame later, repainted).
    let row_height = ui.spacing().interact_size.y;
    let offset_key = egui::Id::unique("profile-table-offset");
    let offset = ui.ctx().data(|d| d.get_temp::<f32>(offset_key)).unwrap_or(0.0);
    let height = ui.available_height();
    let (pinned_y, scrolled_y) = ui
        .horizontal_top(|ui| {
            let pinned = egui::ScrollArea::vertical()
                .id_salt("profile-table-pinned")
                .max_height(height)
                .auto_shrink([true, false])
                .vertical_scroll_offset(offset)
                .scroll_source(egui::scroll_area::ScrollSource::MOUSE_WHEEL)
                .scroll_bar_visibility(egui::scroll_area::ScrollBarVisibility::AlwaysHidden)
                .show(ui, |ui| {
                    egui::Grid::new("profile-grid-pinned")
                        .striped(true)
                        .spacing([14.0, 4.0])
                        .min_row_height(row_height)
                        .show(ui, |ui| {
                            ui.strong("segment");
                            ui.end_row();
                            for p in &summary.profiles {
                                ui.horizontal(|ui| {
                                    swatch_ui(ui, colours.of(p.segment));
                                    ui.label(segment_name(app, p.segment));
                                });
                                ui.end_row();
                            }
                            ui.label(RichText::new("everyone").italics());
                            ui.end_row();
                        });
                });
            let scrolled = egui::ScrollArea::both()
                .id_salt("profile-table-scroll")
                .auto_shrink([false, false])
                .max_height(height)
                .vertical_scroll_offset(offset)
                .scroll_bar_visibility(egui::scroll_area::ScrollBarVisibility::VisibleWhenNeeded)
                .show(ui, |ui| profile_columns_ui(ui, out, row_height, app.small_cells()));
            (pinned.state.clamped_offset().y, scrolled.state.clamped_offset().y)
        })
        .inner;
    let moved = if (scrolled_y - offset).abs() > 0.5 {
        Some(scrolled_y)
    } else {
        Some(pinned_y).filter(|y| (y - offset).abs() > 0.5)
    };
    if let Some(y) = moved {
        ui.ctx().data_mut(|d| d.insert_temp(offset_key, y));
        ui.ctx().request_repaint();
    }
}

/// The profile table's scrolled columns: size, share and one mean per feature (none over fewer
/// customers than the small-cell threshold).
fn profile_columns_ui(ui: &mut Ui, out: &RunOutput, row_height: f32, threshold: usize) {
    let summary = &out.summary;
    let sizes = summary.sizes_shown(threshold);
    egui::Grid::new("profile-grid").striped(true).spacing([14.0, 4.0]).min_row_height(row_height).show(ui, |ui| {
        ui.strong("size");
        ui.strong("share");
        for c in &summary.columns {
            ui.strong(c);
        }
        ui.end_row();
        for (i, p) in summary.profiles.iter().enumerate() {
            ui.label(sizes.words(i));
            ui.label(sizes.share(i).map_or_else(|| "-".to_string(), |share| format!("{:.1}%", share * 100.0)));
            if sizes.is_small(i) {
                for _ in &p.means {
                    ui.label(RichText::new("-").weak())
                        .on_hover_text(format!("Fewer than {threshold} customers: no mean is shown"));
                }
                ui.end_row();
                continue;
            }
            for (j, mean) in p.means.iter().enumerate() {
                let d = summary.distance_sd.get(p.segment).and_then(|v| v.get(j)).copied().unwrap_or(0.0);
                ui.label(RichText::new(format_number(*mean)).background_color(heat_fill(ui.visuals(), d / 2.0)))
                    .on_hover_text(format!("median {}; {d:+.2} sd from the population", format_number(p.medians[j])));
            }
            ui.end_row();
        }
        ui.label(sizes.total_words());
        ui.label("100%");
        for m in &summary.population_means {
            ui.label(RichText::new(format_number(*m)).italics());
        }
        ui.end_row();
    });
}

fn scatter_ui(ui: &mut Ui, app: &mut StrataApp, out: &RunOutput, width: f32, bottom: f32) {
    let Some(scatter) = &out.summary.scatter else {
        ui.label("Too few customers to project.");
        return;
    };
    let k = out.result.fit.sizes.len();
    let colours = app.segment_colours_in(&out.result);
    ui.label(RichText::new("Projection on the first two principal components").strong());
    let sampled = scatter.points.len() < scatter.n_rows;
    ui.label(
        RichText::new(if sampled {
            format!(
                "Shading: all {} customers (density, coloured by the commonest segment); dots: {} sampled customers. PC1 {:.0}%, PC2 {:.0}% of the variance.",
                format_count(scatter.n_rows),
                format_count(scatter.points.len()),
                scatter.explained[0] * 100.0,
                scatter.explained[1] * 100.0
            )
        } else {
            format!(
                "All {} customers, with their density shaded. PC1 {:.0}%, PC2 {:.0}% of the variance.",
                format_count(scatter.n_rows),
                scatter.explained[0] * 100.0,
                scatter.explained[1] * 100.0
            )
        })
        .small()
        .weak(),
    );
    // The texture belongs to this result and these colours (an undone rename can change them).
    let key = {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (std::ptr::from_ref(out) as usize, &colours).hash(&mut hasher);
        hasher.finish() as usize
    };
    if app.view.density_texture.as_ref().is_none_or(|(k, _)| *k != key) {
        let image = density_image(scatter, &colours);
        let texture = ui.ctx().load_texture("density", image, egui::TextureOptions::LINEAR);
        app.view.density_texture = Some((key, texture));
    }
    let texture = app.view.density_texture.as_ref().map(|(_, t)| t.id());
    let height = (bottom - ui.cursor().top() - 6.0).max(100.0);
    let shown = crate::app::ticks::readable(
        Plot::new("projection"),
        crate::app::ticks::Ticks::Numbers,
        crate::app::ticks::Ticks::Numbers,
    )
    .width(width)
    .height(height)
    .data_aspect(1.0)
    .x_axis_label("PC1")
    .y_axis_label("PC2")
    .show(ui, |plot| {
        let d = &scatter.density;
        if let Some(texture) = texture {
            let centre = PlotPoint::new((d.x_range.0 + d.x_range.1) / 2.0, (d.y_range.0 + d.y_range.1) / 2.0);
            let size = egui::vec2((d.x_range.1 - d.x_range.0) as f32, (d.y_range.1 - d.y_range.0) as f32);
            plot.image(PlotImage::new("density", texture, centre, size));
        }
        let mut per_segment: Vec<Vec<[f64; 2]>> = vec![Vec::new(); k.max(1)];
        for &(x, y, s) in &scatter.points {
            if let Some(v) = per_segment.get_mut(s as usize) {
                v.push([x as f64, y as f64]);
            }
        }
        for (s, points) in per_segment.into_iter().enumerate() {
            let name = segment_name(app, s);
            plot.points(Points::new(name, PlotPoints::from(points)).color(colours.of(s)).radius(1.5));
        }
    });
    super::chart_export_menu(app, &shown.response, crate::app::ChartId::Projection);
}

/// The density grid as an image, as the engine's charts draw it (each cell in its commonest
/// segment's colour, opacity by log count).
fn density_image(scatter: &ScatterView, colours: &SegmentColours) -> egui::ColorImage {
    let image = crate::engine::chart::density_image(scatter, colours.engine());
    let pixels = image.pixels.into_iter().map(crate::app::widgets::color32).collect();
    egui::ColorImage::new([image.width, image.height], pixels)
}

fn silhouette_ui(ui: &mut Ui, app: &mut StrataApp, out: &RunOutput, width: f32, bottom: f32) {
    ui.label(RichText::new("Silhouette of each member").strong());
    let Some(s) = &out.summary.silhouettes else {
        ui.label("Needs at least two segments.");
        return;
    };
    let colours = app.segment_colours_in(&out.result);
    let mean = out.result.indices.silhouette.as_ref().map(|r| r.mean);
    ui.label(
        RichText::new(if s.sampled {
            format!(
                "{} sampled customers (distances within the sample), best to worst within each segment",
                format_count(s.n_rows)
            )
        } else {
            "Every customer, best to worst within each segment; below 0: closer to another segment".to_string()
        })
        .small()
        .weak(),
    );
    let height = (bottom - ui.cursor().top() - 6.0).max(100.0);
    let shown = crate::app::ticks::readable(
        Plot::new("member-silhouettes"),
        crate::app::ticks::Ticks::Integers,
        crate::app::ticks::Ticks::Numbers,
    )
    .width(width)
    .height(height)
    .y_axis_label("silhouette")
    .show_axes([false, true])
    .include_y(0.0)
    .show(ui, |plot| {
        let mut x = 0usize;
        for (segment, values) in s.per_segment.iter().enumerate() {
            let points: Vec<[f64; 2]> = values.iter().enumerate().map(|(i, v)| [(x + i) as f64, *v]).collect();
            x += values.len() + values.len() / 30 + 10;
            plot.line(
                Line::new(segment_name(app, segment), PlotPoints::from(points))
                    .color(colours.of(segment))
                    .fill(0.0)
                    .fill_alpha(0.55),
            );
        }
        if let Some(m) = mean {
            plot.hline(HLine::new(format!("mean {m:.3}"), m).color(Color32::GRAY));
        }
    });
    super::chart_export_menu(app, &shown.response, crate::app::ChartId::Silhouettes);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_overlap_line_says_what_its_numbers_count() {
        let name = |o: usize| format!("Segment {}", o + 1);
        let three = card_overlap_words(&[0.0, 0.62, 0.38], 0, 0.031, name);
        assert_eq!(
            three,
            "3.1% of its customers are borderline (margin under 0.1); for 62% of its customers the next-closest \
             segment is Segment 2"
        );
        // No borderline customer: said in words, not as "0.0%" followed by a share "of them".
        let none = card_overlap_words(&[0.0, 0.7, 0.3], 0, 0.0, name);
        assert_eq!(
            none,
            "none of its customers are borderline (margin under 0.1); for 70% of its customers the next-closest \
             segment is Segment 2"
        );
        let few = card_overlap_words(&[0.0, 0.7, 0.3], 0, 0.0002, name);
        assert!(few.starts_with("under 0.1% of its customers are borderline"), "{few}");
        // With one other segment the share is always 100%: name it, without a number that says nothing.
        let two = card_overlap_words(&[0.0, 1.0], 0, 0.0, name);
        assert_eq!(two, "none of its customers are borderline (margin under 0.1); the only other segment is Segment 2");
        let alone = card_overlap_words(&[0.0], 0, 0.0, name);
        assert_eq!(alone, "none of its customers are borderline (margin under 0.1)");
    }

    #[test]
    fn a_number_beside_a_limit_is_shown_on_its_side_of_it() {
        assert_eq!(digits_beside(0.749, 0.75), "0.749");
        assert_eq!(digits_beside(0.7499, 0.75), "0.7499");
        assert_eq!(digits_beside(0.82, 0.75), "0.82");
        assert_eq!(digits_beside(0.0996, 0.1), "0.0996");
        assert_eq!(digits_beside(0.04, 0.1), "0.04");
    }
}
