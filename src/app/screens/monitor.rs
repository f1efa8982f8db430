//! Monitor: the published versions (publish the fit shown, compare two, make an older one current
//! again) and new periods against the current version: per feature the PSI with its per-bin
//! table, band, p-value and verdict; the segment shares with their chi-square test; who moved
//! where (matrix and alluvial view) with retention and net flows; the alerts against the stored
//! thresholds; and every metric over the periods beside the band the earlier ones make. The
//! figures are the ones `strata monitor` prints: the same engine functions make them.

use eframe::egui::{self, RichText, Ui};
use egui_plot::{Legend, Line, LineStyle, Plot, PlotPoints, Points};

use crate::app::widgets::{SegmentColours, format_count};
use crate::app::{Command, StrataApp};
use crate::engine::chart::flows::Crossing;
use crate::engine::governance::suppress::count_words;
use crate::engine::monitor::drift::p_words;
use crate::engine::monitor::{Band, MonitorRun, Psi};

/// What the Monitor screen remembers between frames that is not part of the project.
#[derive(Default)]
pub struct MonitorView {
    /// The as-of date for a transaction log, as typed.
    pub as_of_text: String,
    /// The stored period shown (its index among the project's runs).
    pub run: Option<usize>,
    /// The feature whose per-bin table is open.
    pub feature: Option<String>,
    /// The note for the next published version, as typed.
    pub note: String,
    /// The versions chosen for comparison.
    pub diff: Option<(u32, u32)>,
    /// The metric drawn over the periods.
    pub metric: Option<String>,
    /// Why the last period could not be monitored.
    pub error: Option<String>,
    /// What reading and scoring the last period said.
    pub warnings: Vec<String>,
    /// The segment and points of the retention threshold being added.
    pub retention: (String, f64),
}

impl MonitorView {
    /// The as-of date typed, when it is one (YYYY-MM-DD).
    pub fn as_of(&self) -> Option<chrono::NaiveDate> {
        chrono::NaiveDate::parse_from_str(self.as_of_text.trim(), "%Y-%m-%d").ok()
    }
}

/// Draws the Monitor screen.
pub fn monitor_ui(ui: &mut Ui, app: &mut StrataApp) {
    ui.heading("Versions and monitoring");
    ui.label(
        "Publishing makes the fit shown an immutable version; scoring, exports and the monitor use the current one. \
         A new period is scored by it and compared with the customers it was fitted on.",
    );
    egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
        versions_ui(ui, app);
        diff_ui(ui, app);
        ui.separator();
        new_period_ui(ui, app);
        thresholds_ui(ui, app);
        ui.separator();
        runs_ui(ui, app);
        over_periods_ui(ui, app);
    });
}

fn section(ui: &mut Ui, title: &str) {
    ui.add_space(6.0);
    ui.label(RichText::new(title).strong().size(16.0));
}

fn versions_ui(ui: &mut Ui, app: &mut StrataApp) {
    let Some(doc) = &app.doc else { return };
    let versions = doc.project.versions.clone();
    let differs = doc.project.differs_from_current();
    let locked = doc.read_only || doc.review;
    let fit_shown = app.output.as_ref().is_some_and(|o| o.is_for(doc));
    section(ui, "Published versions");
    if versions.published.is_empty() {
        ui.label("Nothing is published yet: scoring and exports use the project as it stands.");
    } else {
        egui::Grid::new("versions").striped(true).spacing([14.0, 4.0]).show(ui, |ui| {
            for title in ["Version", "Published", "By", "Method", "Customers", "Note", ""] {
                ui.strong(title);
            }
            ui.end_row();
            for v in &versions.published {
                let current = versions.current == Some(v.number);
                let number = if current { format!("{} (current)", v.number) } else { v.number.to_string() };
                ui.label(RichText::new(number).strong());
                ui.label(v.published_at.get(..16).unwrap_or(&v.published_at).replace('T', " "));
                ui.label(&v.published_by);
                ui.label(format!("{}, {} segments", v.spec.model.algorithm.label(), v.names.len()));
                ui.label(format_count(v.results.n_customers));
                ui.label(&v.note);
                if !current
                    && ui
                        .add_enabled(!locked, egui::Button::new(format!("Make version {} current", v.number)))
                        .on_hover_text("Its spec, names and rules become the project's again (one undo step, logged)")
                        .clicked()
                {
                    app.push(Command::RollBack(v.number));
                }
                ui.end_row();
            }
        });
        if let Some(current) = versions.current
            && differs
        {
            ui.label(
                RichText::new(format!(
                    "The working spec, names or rules have changed since version {current}: scoring uses version \
                     {current} until they are published."
                ))
                .color(ui.visuals().warn_fg_color),
            );
        }
    }
    ui.horizontal(|ui| {
        let label = ui.label("Note for the version");
        ui.add(
            egui::TextEdit::singleline(&mut app.view.monitor.note).desired_width(280.0).hint_text("why this version"),
        )
        .labelled_by(label.id);
        let next = versions.next_number();
        let why_not = if locked {
            Some("The project is open read-only")
        } else if !fit_shown {
            Some("Run the segmentation first: the fit shown is not this spec's")
        } else {
            None
        };
        let button = ui.add_enabled(why_not.is_none(), egui::Button::new(format!("Publish version {next}")));
        let button = match why_not {
            Some(why) => button.on_disabled_hover_text(why),
            None => button.on_hover_text("The fit shown becomes an immutable version, current from now (logged)"),
        };
        if button.clicked() {
            app.push(Command::Publish(app.view.monitor.note.clone()));
        }
    });
    if versions.published.len() >= 2 {
        let numbers: Vec<u32> = versions.published.iter().map(|v| v.number).collect();
        let last = numbers.len() - 1;
        let (mut from, mut to) = app.view.monitor.diff.unwrap_or((numbers[last - 1], numbers[last]));
        ui.horizontal(|ui| {
            for (label, value) in [("Compare version", &mut from), ("with version", &mut to)] {
                ui.label(label);
                let combo = egui::ComboBox::from_id_salt(label).selected_text(value.to_string()).show_ui(ui, |ui| {
                    for n in &numbers {
                        ui.selectable_value(value, *n, n.to_string());
                    }
                });
                crate::app::widgets::accessible_name(&combo.response, label);
            }
            let busy = app.diff_busy();
            if ui
                .add_enabled(!busy && from != to, egui::Button::new("Compare versions"))
                .on_hover_text("What changed in the spec, sizes and profiles, and who moved where (both re-run)")
                .clicked()
            {
                app.push(Command::DiffVersions { from, to });
            }
            if busy {
                ui.spinner();
            }
        });
        app.view.monitor.diff = Some((from, to));
    }
}

fn diff_ui(ui: &mut Ui, app: &mut StrataApp) {
    let Some(diff) = app.version_diff().cloned() else { return };
    let small_cells = app.small_cells();
    section(ui, &format!("Version {} -> version {}", diff.from, diff.to));
    if diff.spec_changes.is_empty() {
        ui.label("Spec, names and rules: no change.");
    } else {
        egui::CollapsingHeader::new(format!("Spec, names and rules: {} change(s)", diff.spec_changes.len()))
            .default_open(diff.spec_changes.len() <= 8)
            .show(ui, |ui| {
                for c in &diff.spec_changes {
                    ui.label(format!(
                        "{}: {} -> {}",
                        c.path,
                        c.from.as_deref().unwrap_or("(none)"),
                        c.to.as_deref().unwrap_or("(none)")
                    ));
                }
            });
    }
    egui::Grid::new("diff-sizes").striped(true).spacing([14.0, 3.0]).show(ui, |ui| {
        ui.strong("Segment");
        ui.strong(format!("Version {}", diff.from));
        ui.strong(format!("Version {}", diff.to));
        ui.end_row();
        let show = |v: Option<u64>| v.map_or_else(|| "-".to_string(), |v| count_words(v as usize, small_cells));
        for s in &diff.segments {
            ui.label(&s.name);
            ui.label(show(s.size_from));
            ui.label(show(s.size_to));
            ui.end_row();
        }
    });
    match (&diff.migration, &diff.migration_unavailable) {
        (Some(m), _) => {
            // Coloured by the older version's segments; "new" and "gone" stay grey.
            let names: Vec<String> =
                m.from.iter().filter(|n| *n != crate::engine::monitor::migration::NEW).cloned().collect();
            let titles = (format!("Version {}", diff.from), format!("Version {}", diff.to));
            ui.push_id("diff-migration", |ui| migration_ui(ui, app, "diff", m, &names, titles));
        }
        (None, Some(why)) => {
            ui.label(format!("Customers not matched: {why}"));
        }
        _ => {}
    }
}

fn new_period_ui(ui: &mut Ui, app: &mut StrataApp) {
    let Some(doc) = &app.doc else { return };
    let is_log = matches!(doc.project.spec.table, crate::engine::pipeline::TableKind::TransactionLog(_));
    let published = doc.project.versions.current;
    let locked = doc.read_only || doc.review;
    section(ui, "Monitor a new period");
    let Some(current) = published else {
        ui.label("Publish a version first: the monitor compares new periods with the current version.");
        return;
    };
    ui.horizontal_wrapped(|ui| {
        let mut date_ok = true;
        if is_log {
            let label = ui.label("As of");
            ui.add(
                egui::TextEdit::singleline(&mut app.view.monitor.as_of_text)
                    .desired_width(110.0)
                    .hint_text("YYYY-MM-DD"),
            )
            .labelled_by(label.id)
            .on_hover_text("The log's customers as of this date (empty: the log's last day)");
            let typed = app.view.monitor.as_of_text.trim();
            date_ok = typed.is_empty() || app.view.monitor.as_of().is_some();
            if !date_ok {
                ui.colored_label(ui.visuals().error_fg_color, "not a date (YYYY-MM-DD)");
            }
        }
        let busy = app.monitor_busy();
        if ui
            .add_enabled(date_ok && !busy && !locked, egui::Button::new("Monitor new data..."))
            .on_hover_text(format!(
                "Score a file's customers with version {current} and compare them with the customers it was fitted on"
            ))
            .clicked()
        {
            app.push(Command::MonitorDialog);
        }
        if busy {
            ui.add(egui::Spinner::new());
            ui.label("monitoring...");
        }
    });
    if let Some(error) = &app.view.monitor.error {
        ui.colored_label(ui.visuals().error_fg_color, crate::app::words::for_window(error));
    }
    if !app.view.monitor.warnings.is_empty() {
        egui::CollapsingHeader::new(format!("Warnings of the last period ({})", app.view.monitor.warnings.len())).show(
            ui,
            |ui| {
                for line in crate::engine::warnings::summarise(&app.view.monitor.warnings) {
                    ui.label(crate::app::words::for_window(&line));
                }
            },
        );
    }
}

fn thresholds_ui(ui: &mut Ui, app: &mut StrataApp) {
    let Some(doc) = &app.doc else { return };
    let Some(version) = doc.project.versions.current().cloned() else { return };
    let locked = doc.read_only || doc.review;
    let was = doc.project.monitor.thresholds.clone();
    let mut next = was.clone();
    egui::CollapsingHeader::new("Alert thresholds").default_open(true).show(ui, |ui| {
        ui.add_enabled_ui(!locked, |ui| {
            ui.horizontal(|ui| {
                let label = ui.label("Warn at PSI");
                ui.add(
                    egui::DragValue::new(&mut next.psi_warn).range(0.001..=next.psi_act).speed(0.005).max_decimals(3),
                )
                .labelled_by(label.id);
                let label = ui.label("act at PSI");
                ui.add(
                    egui::DragValue::new(&mut next.psi_act).range(next.psi_warn..=10.0).speed(0.005).max_decimals(3),
                )
                .labelled_by(label.id);
                ui.label(
                    RichText::new("(the common 0.1 and 0.25; each PSI also gets a p-value for its sample size)").weak(),
                );
            });
            let mut remove = None;
            for (i, (name, points)) in next.retention.iter_mut().enumerate() {
                ui.horizontal(|ui| {
                    let label = ui.label(format!("Alert when the retention of {name} falls by more than"));
                    ui.add(egui::DragValue::new(points).range(0.0..=100.0).speed(0.5).suffix(" points"))
                        .labelled_by(label.id);
                    if ui.button(format!("Remove the {name} alert")).clicked() {
                        remove = Some(i);
                    }
                });
            }
            if let Some(i) = remove {
                next.retention.remove(i);
            }
            ui.horizontal(|ui| {
                let (segment, points) = &mut app.view.monitor.retention;
                let candidates: Vec<&String> =
                    version.names.iter().filter(|n| !next.retention.iter().any(|(r, _)| r == *n)).collect();
                if candidates.is_empty() {
                    return;
                }
                if !candidates.iter().any(|c| *c == segment) {
                    *segment = candidates[0].clone();
                }
                ui.label("Retention alert for");
                let combo = egui::ComboBox::from_id_salt("retention-segment").selected_text(segment.as_str()).show_ui(
                    ui,
                    |ui| {
                        for c in &candidates {
                            ui.selectable_value(segment, (*c).clone(), c.as_str());
                        }
                    },
                );
                crate::app::widgets::accessible_name(&combo.response, "Retention alert segment");
                let label = ui.label("falling by more than");
                if *points <= 0.0 {
                    *points = 5.0;
                }
                ui.add(egui::DragValue::new(points).range(0.0..=100.0).speed(0.5).suffix(" points"))
                    .labelled_by(label.id);
                if ui.button("Add the retention alert").clicked() {
                    next.retention.push((segment.clone(), *points));
                }
            });
        });
    });
    if next != was && next.check().is_ok() {
        app.push(Command::SetMonitorThresholds(next));
    }
}

fn band_text(ui: &Ui, band: Band) -> RichText {
    band_coloured(ui, band, band.word())
}

fn band_coloured(ui: &Ui, band: Band, text: impl Into<String>) -> RichText {
    let text = RichText::new(text);
    match band {
        Band::Stable => text,
        Band::Warn => text.color(ui.visuals().warn_fg_color).strong(),
        Band::Act => text.color(ui.visuals().error_fg_color).strong(),
    }
}

fn runs_ui(ui: &mut Ui, app: &mut StrataApp) {
    let Some(doc) = &app.doc else { return };
    let runs = doc.project.monitor.runs.clone();
    let names = doc.project.versions.current().map(|v| v.names.clone()).unwrap_or_default();
    section(ui, "Monitored periods");
    if runs.is_empty() {
        ui.label(RichText::new("No period monitored yet.").weak());
        return;
    }
    let last = runs.len() - 1;
    let mut shown = app.view.monitor.run.filter(|&r| r <= last).unwrap_or(last);
    let label = |r: &MonitorRun| format!("{} (version {}, {})", r.label, r.version, r.at.get(..10).unwrap_or(&r.at));
    let combo = egui::ComboBox::from_id_salt("monitor-run").selected_text(label(&runs[shown])).show_ui(ui, |ui| {
        for (i, r) in runs.iter().enumerate() {
            ui.selectable_value(&mut shown, i, label(r));
        }
    });
    crate::app::widgets::accessible_name(&combo.response, "Period shown");
    app.view.monitor.run = Some(shown);
    let run = &runs[shown];
    ui.label(format!(
        "{} against version {}: {} customers, monitored by {} at {}",
        run.label,
        run.version,
        format_count(run.n_customers as usize),
        run.by,
        run.at
    ));
    for alert in &run.alerts {
        ui.label(band_coloured(ui, alert.level, format!("Alert ({}): {}", alert.level.word(), alert.message)));
    }
    if let Some(s) = &run.suggestion {
        ui.label(RichText::new(format!("Suggestion: {s}")).strong());
    }
    if run.alerts.is_empty() {
        ui.label("No alert: every PSI is below the warn threshold.");
    }
    ui.add_space(4.0);
    ui.label(RichText::new("Drift per feature").strong());
    let small_cells = app.small_cells();
    egui::Grid::new("monitor-features").striped(true).spacing([14.0, 3.0]).show(ui, |ui| {
        for title in ["Feature", "PSI", "Band", "p-value", "Verdict"] {
            ui.strong(title);
        }
        ui.end_row();
        for p in &run.features {
            let open = app.view.monitor.feature.as_deref() == Some(p.what.as_str());
            if ui.selectable_label(open, &p.what).on_hover_text("Show its bins").clicked() {
                app.view.monitor.feature = if open { None } else { Some(p.what.clone()) };
            }
            ui.label(format!("{:.4}", p.psi));
            ui.label(band_text(ui, p.band));
            ui.label(p_words(p.p_value));
            ui.label(&p.verdict);
            ui.end_row();
        }
    });
    if let Some(p) = run.features.iter().find(|p| Some(&p.what) == app.view.monitor.feature.as_ref()) {
        bins_ui(ui, p, small_cells, "Bin");
    }
    ui.add_space(4.0);
    ui.label(RichText::new("Segment shares").strong());
    ui.label(format!(
        "PSI {:.4} ({}), chi-square {:.2} on {} df, p {}: {}",
        run.segment_shares.psi,
        run.segment_shares.band.word(),
        run.segment_test.statistic,
        run.segment_test.df,
        p_words(run.segment_test.p_value),
        run.segment_shares.verdict
    ));
    bins_ui(ui, &run.segment_shares, small_cells, "Segment");
    if let Some(m) = &run.migration {
        let titles = ("before".to_string(), run.label.clone());
        ui.push_id("period-migration", |ui| migration_ui(ui, app, "period", m, &names, titles));
    } else {
        ui.label(RichText::new("No migration: the customers could not be followed by id.").weak());
    }
}

/// A PSI's table: per bin the published and new customers and shares, and its contribution.
fn bins_ui(ui: &mut Ui, p: &Psi, small_cells: usize, first: &str) {
    egui::Grid::new(("bins", &p.what)).striped(true).spacing([14.0, 2.0]).show(ui, |ui| {
        for title in [first, "Published", "share", "Now", "share", "Contribution"] {
            ui.strong(title);
        }
        ui.end_row();
        // A share of a count too small to show would give it away.
        let share = |count: u64, share: f64| {
            if count > 0 && (count as usize) < small_cells { "-".to_string() } else { format!("{:.2}%", share * 100.0) }
        };
        for b in &p.bins {
            ui.label(&b.label);
            ui.label(count_words(b.expected_count as usize, small_cells));
            ui.label(share(b.expected_count, b.expected_share));
            ui.label(count_words(b.actual_count as usize, small_cells));
            ui.label(share(b.actual_count, b.actual_share));
            ui.label(format!("{:.4}", b.contribution));
            ui.end_row();
        }
    });
    ui.label(RichText::new(&p.smoothing).weak());
}

fn migration_ui(
    ui: &mut Ui,
    app: &mut StrataApp,
    salt: &str,
    m: &crate::engine::monitor::Migration,
    names: &[String],
    titles: (String, String),
) {
    let small_cells = app.small_cells();
    ui.add_space(4.0);
    ui.label(RichText::new("Who moved where").strong());
    ui.label(format!(
        "{} customers in both, {} new, {} gone (rows: {}, columns: {})",
        format_count(m.n_common as usize),
        format_count(m.n_new as usize),
        format_count(m.n_gone as usize),
        titles.0,
        titles.1
    ));
    let colours = match &app.doc {
        Some(doc) => SegmentColours::new(&doc.project.segments, names.len()),
        None => SegmentColours::by_number(names.len()),
    };
    let crossing = Crossing::of_migration(m, names, colours.engine(), titles, small_cells).without_empty();
    egui::ScrollArea::horizontal().id_salt(("migration-table", salt)).show(ui, |ui| {
        super::compare::crosstab_ui(ui, &crossing);
    });
    egui::Grid::new(("retention", salt)).striped(true).spacing([14.0, 2.0]).show(ui, |ui| {
        for title in ["Segment", "Before", "Still present", "Stayed", "Retention"] {
            ui.strong(title);
        }
        ui.end_row();
        for r in &m.retention {
            ui.label(&r.segment);
            ui.label(count_words(r.n_before as usize, small_cells));
            ui.label(count_words(r.n_present as usize, small_cells));
            ui.label(count_words(r.n_stayed as usize, small_cells));
            let hidden = (r.n_stayed as usize) < small_cells && r.n_stayed > 0;
            ui.label(if hidden || r.retention.is_nan() {
                "-".to_string()
            } else {
                format!("{:.1}%", r.retention * 100.0)
            });
            ui.end_row();
        }
    });
    let flows: Vec<String> =
        m.net_flow
            .iter()
            .filter(|(_, n)| *n != 0)
            .map(|(name, n)| {
                if n.unsigned_abs() as usize >= small_cells {
                    format!("{name} {n:+}")
                } else {
                    format!("{name} (a few)")
                }
            })
            .collect();
    if !flows.is_empty() {
        ui.label(format!("Net flow: {}", flows.join(", ")));
    }
    ui.push_id(("alluvial", salt), |ui| {
        ui.allocate_ui(egui::vec2(ui.available_width().min(900.0), 360.0), |ui| {
            super::compare::alluvial_ui(ui, &crossing.flows());
        });
    });
}

fn over_periods_ui(ui: &mut Ui, app: &mut StrataApp) {
    let Some(doc) = &app.doc else { return };
    let runs = &doc.project.monitor.runs;
    if runs.len() < 2 {
        return;
    }
    let over = crate::engine::monitor::over_periods(runs);
    section(ui, "Over the periods");
    ui.label(
        RichText::new(
            "Each period beside the band of the periods before it (mean plus or minus 3 standard deviations, from the \
             third period on).",
        )
        .weak(),
    );
    let mut metrics: Vec<String> = Vec::new();
    for m in &over {
        if !metrics.contains(&m.metric) {
            metrics.push(m.metric.clone());
        }
    }
    let mut chosen =
        app.view.monitor.metric.clone().filter(|m| metrics.contains(m)).unwrap_or_else(|| metrics[0].clone());
    let combo = egui::ComboBox::from_id_salt("monitor-metric").selected_text(chosen.as_str()).show_ui(ui, |ui| {
        for m in &metrics {
            ui.selectable_value(&mut chosen, m.clone(), m.as_str());
        }
    });
    crate::app::widgets::accessible_name(&combo.response, "Metric over the periods");
    let points: Vec<&crate::engine::monitor::PeriodMetric> = over.iter().filter(|m| m.metric == chosen).collect();
    for m in points.iter().filter(|m| m.outside) {
        let (lo, hi) = m.band.unwrap_or_default();
        ui.colored_label(
            ui.visuals().warn_fg_color,
            format!("{}: {:.4} is outside the earlier periods' band [{lo:.4}, {hi:.4}]", m.period, m.value),
        );
    }
    let labels: Vec<String> = runs.iter().map(|r| r.label.clone()).collect();
    let value_line: Vec<[f64; 2]> = points.iter().map(|m| [m.index as f64, m.value]).collect();
    let lower: Vec<[f64; 2]> = points.iter().filter_map(|m| Some([m.index as f64, m.band?.0])).collect();
    let upper: Vec<[f64; 2]> = points.iter().filter_map(|m| Some([m.index as f64, m.band?.1])).collect();
    let outside: Vec<[f64; 2]> = points.iter().filter(|m| m.outside).map(|m| [m.index as f64, m.value]).collect();
    let error = ui.visuals().error_fg_color;
    let widest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    crate::app::ticks::readable_with_x_labels(
        Plot::new("monitor-over-periods"),
        crate::app::ticks::Ticks::Integers,
        crate::app::ticks::Ticks::Numbers,
        widest,
    )
    .height(220.0)
    .legend(Legend::default())
    .x_axis_formatter(move |mark, _| {
        let i = mark.value.round();
        if (mark.value - i).abs() < 1e-6 && i >= 0.0 {
            labels.get(i as usize).cloned().unwrap_or_default()
        } else {
            String::new()
        }
    })
    .y_axis_label(chosen.clone())
    .allow_scroll(false)
    .show(ui, |plot| {
        plot.line(Line::new(chosen.clone(), PlotPoints::from(value_line)).width(2.0));
        if !lower.is_empty() {
            plot.line(Line::new("band", PlotPoints::from(lower)).style(LineStyle::dashed_loose()));
            plot.line(Line::new("band", PlotPoints::from(upper)).style(LineStyle::dashed_loose()));
        }
        if !outside.is_empty() {
            plot.points(Points::new("outside the band", PlotPoints::from(outside)).radius(5.0).color(error));
        }
    });
    app.view.monitor.metric = Some(chosen);
}
