//! Over time: the transaction log cut into windows by date, every window's customers segmented,
//! segment sizes per window, and for a pair of consecutive windows who moved where (transition
//! matrix and alluvial view).

use eframe::egui::{self, RichText, Ui};
use egui_plot::{Legend, Line, Plot, PlotPoints};

use crate::app::widgets::SegmentColours;
use crate::app::{Command, OverTimeOutput, StrataApp};
use crate::engine::chart::flows::transition_crossing;
use crate::engine::over_time::{WindowModel, WindowParams};
use crate::engine::pipeline::TableKind;

/// Draws the Over time screen.
pub fn over_time_ui(ui: &mut Ui, app: &mut StrataApp) {
    let Some(doc) = &app.doc else { return };
    if !matches!(doc.project.spec.table, TableKind::TransactionLog(_)) {
        ui.heading("Segments over time");
        ui.label(
            "This needs a transaction log: its dates are cut into windows, and each window's customers are segmented. \
             This project segments a customer table (choose a transaction log on the Data screen).",
        );
        return;
    }
    let params = doc.project.over_time.clone().unwrap_or_default();
    let current = app.over_time.clone().filter(|o| o.is_for(doc));
    let shown = app.over_time.clone();
    ui.heading("Segments over time");
    ui.label(
        "The log is cut into windows ending at the as-of date; every window's customers get their features as of \
         the window's end and a segment, and the customers are followed from one window to the next.",
    );
    if app.doc.as_ref().is_some_and(|d| !d.project.rules.is_empty()) {
        ui.label(crate::engine::over_time::RULES_APPLIED);
    }
    settings_ui(ui, app, &params);
    if let Some(error) = &app.over_time_error {
        ui.colored_label(ui.visuals().error_fg_color, crate::app::words::for_window(error));
    }
    let Some(out) = shown else {
        ui.label(RichText::new("Press 'Follow the customers' to segment every window.").weak());
        return;
    };
    if current.is_none() {
        ui.label(
            RichText::new("Settings changed since these windows were segmented; follow the customers again to update.")
                .color(ui.visuals().warn_fg_color),
        );
    }
    let result = &out.result;
    let (names, colours) = app.over_time_segments(&out);
    for warning in &result.warnings {
        ui.label(RichText::new(crate::app::words::for_window(warning)).color(ui.visuals().warn_fg_color));
    }
    egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
        let shown = sizes_ui(ui, result, &names, &colours, app.small_cells());
        super::chart_export_menu(app, &shown, crate::app::ChartId::SizesOverTime);
        ui.add_space(8.0);
        transition_ui(ui, app, result, &names, &colours);
    });
}

fn settings_ui(ui: &mut Ui, app: &mut StrataApp, params: &WindowParams) {
    let mut next = params.clone();
    ui.horizontal_wrapped(|ui| {
        let label = ui.label("Windows of");
        ui.add(egui::DragValue::new(&mut next.months).range(1..=24).suffix(" months")).labelled_by(label.id);
        let label = ui.label("how many");
        ui.add(egui::DragValue::new(&mut next.windows).range(2..=24)).labelled_by(label.id);
        ui.separator();
        ui.radio_value(&mut next.cumulative, true, "All history up to each window's end")
            .on_hover_text("Features as of each date, the way the project computes them");
        ui.radio_value(&mut next.cumulative, false, "Only the window's own transactions")
            .on_hover_text("A customer without a purchase in a window is not present in it");
        ui.separator();
        ui.radio_value(&mut next.model, WindowModel::Fixed, "One model (fitted on the last window)")
            .on_hover_text("Segments mean the same in every window, so a move is a change of behaviour");
        ui.radio_value(&mut next.model, WindowModel::Refit, "Refit every window")
            .on_hover_text("As the analysis would have been run on each date; segments matched by shared customers");
    });
    if next != *params {
        app.push(Command::SetWindows(next));
    }
    ui.horizontal(|ui| {
        let running = app.over_time_progress();
        if ui.add_enabled(running.is_none(), egui::Button::new("Follow the customers")).clicked() {
            app.push(Command::FollowCustomers);
        }
        if let Some(fraction) = running {
            ui.add(
                egui::ProgressBar::new(fraction as f32)
                    .desired_width(160.0)
                    .text("segmenting windows...")
                    .animate(true),
            );
        }
    });
}

fn sizes_ui(
    ui: &mut Ui,
    result: &crate::engine::over_time::OverTime,
    names: &[String],
    colours: &SegmentColours,
    threshold: usize,
) -> egui::Response {
    ui.label(RichText::new("Segment sizes per window").strong().size(16.0));
    let ends: Vec<String> = result.windows.iter().map(|w| w.end.to_string()).collect();
    // Each window's sizes with its customers not segmented: one line, suppressed as a line.
    let shown: Vec<crate::engine::governance::suppress::Sizes> =
        result.windows.iter().map(|w| w.sizes_shown(threshold)).collect();
    egui::Grid::new("sizes-grid").striped(true).spacing([14.0, 3.0]).show(ui, |ui| {
        ui.strong("segment");
        for end in &ends {
            ui.strong(end).on_hover_text("As of this date");
        }
        ui.end_row();
        for (s, name) in names.iter().enumerate() {
            ui.horizontal(|ui| {
                crate::app::widgets::swatch_ui(ui, colours.of(s));
                ui.label(name);
            });
            for sizes in &shown {
                let label = ui.label(sizes.words(s));
                match sizes.share(s) {
                    Some(share) => label.on_hover_text(format!("{:.1}% of the window's customers", 100.0 * share)),
                    None => label.on_hover_text(format!("A count under {threshold}, or one that would give it away")),
                };
            }
            ui.end_row();
        }
        if shown.iter().any(|sizes| sizes.counts.last().is_some_and(|&n| n > 0)) {
            ui.label(RichText::new("without a segment").italics());
            for sizes in &shown {
                ui.label(RichText::new(sizes.words(sizes.counts.len() - 1)).italics());
            }
            ui.end_row();
        }
        ui.label(RichText::new("customers").italics());
        for sizes in &shown {
            ui.label(RichText::new(sizes.total_words()).italics());
        }
        ui.end_row();
    });
    let plot_ends = ends.clone();
    let widest_end = ends.iter().map(|e| e.chars().count()).max().unwrap_or(0);
    let shown = crate::app::ticks::readable_with_x_labels(
        Plot::new("sizes-over-time"),
        crate::app::ticks::Ticks::Integers,
        crate::app::ticks::Ticks::Integers,
        widest_end,
    )
    .height(220.0)
    .legend(Legend::default())
    .x_axis_formatter(move |mark, _| {
        let i = mark.value.round();
        if (mark.value - i).abs() < 1e-6 && i >= 0.0 {
            plot_ends.get(i as usize).cloned().unwrap_or_default()
        } else {
            String::new()
        }
    })
    .y_axis_label("customers")
    .allow_scroll(false)
    .show(ui, |plot| {
        // A size not shown is no point (its height would tell it): the line breaks there.
        for (s, name) in names.iter().enumerate() {
            let mut run: Vec<[f64; 2]> = Vec::new();
            let mut runs = Vec::new();
            for (i, sizes) in shown.iter().enumerate() {
                match sizes.cell(s).count() {
                    Some(n) => run.push([i as f64, n as f64]),
                    None => runs.push(std::mem::take(&mut run)),
                }
            }
            runs.push(run);
            for points in runs.into_iter().filter(|r| !r.is_empty()) {
                plot.line(Line::new(name.clone(), PlotPoints::from(points)).color(colours.of(s)).width(2.0));
            }
        }
    });
    shown.response
}

impl StrataApp {
    /// The names and colours of the aligned segments of `over_time`: the last window's segments are
    /// the project's, so its names and colours apply to them when the windows were segmented by the
    /// model the screens show.
    pub fn over_time_segments(&self, over_time: &OverTimeOutput) -> (Vec<String>, SegmentColours) {
        let result = &over_time.result;
        let shown = self
            .output
            .as_ref()
            .filter(|o| o.spec.model == over_time.spec.model && o.spec.recipe == over_time.spec.recipe);
        let run_names: Option<Vec<String>> = shown.map(|o| {
            (0..result.n_last.min(o.result.n_segments())).map(|s| self.segment_name_in(&o.result, s)).collect()
        });
        let names = result.names_with(run_names.as_deref());
        // Colours follow the names under the same condition: a named segment keeps its colour.
        let colours = match (&self.doc, shown) {
            (Some(doc), Some(_)) => SegmentColours::new(&doc.project.segments, names.len()),
            _ => SegmentColours::by_number(names.len()),
        };
        (names, colours)
    }

    /// The transition the Over time screen shows: the one chosen, else the last (`None` without
    /// windows over time or with fewer than two).
    pub fn shown_transition(&self) -> Option<usize> {
        let last = self.over_time.as_ref()?.result.transitions.len().checked_sub(1)?;
        Some(self.view.transition.filter(|&t| t <= last).unwrap_or(last))
    }
}

fn transition_ui(
    ui: &mut Ui,
    app: &mut StrataApp,
    result: &crate::engine::over_time::OverTime,
    names: &[String],
    colours: &SegmentColours,
) {
    let Some(mut chosen) = app.shown_transition() else { return };
    let threshold = app.small_cells();
    let last = result.transitions.len() - 1;
    ui.label(RichText::new("Who moved where").strong().size(16.0));
    let label = |t: usize| {
        let tr = &result.transitions[t];
        format!("from {} to {}", result.windows[tr.from].end, result.windows[tr.to].end)
    };
    ui.horizontal(|ui| {
        let combo = egui::ComboBox::from_id_salt("transition").selected_text(label(chosen)).show_ui(ui, |ui| {
            for t in 0..=last {
                ui.selectable_value(&mut chosen, t, label(t));
            }
        });
        crate::app::widgets::accessible_name(&combo.response, "Transition shown");
        let t = &result.transitions[chosen];
        match t.stayed_shown(threshold) {
            Some(stayed) => {
                ui.label(format!("{:.1}% of the customers present in both windows kept their segment", 100.0 * stayed));
            }
            None if t.stayed.is_finite() => {
                ui.label(format!(
                    "The share who kept their segment is hidden: it would give away a count under {threshold}"
                ));
            }
            None => {}
        }
    });
    app.view.transition = Some(chosen);
    let t = &result.transitions[chosen];
    // Rows and columns nobody is in are left out of the views.
    let Some(crossing) = transition_crossing(result, names, colours.engine(), chosen, threshold) else { return };
    ui.label(
        RichText::new(format!(
            "Rows: segment as of {}; columns: segment as of {}",
            result.windows[t.from].end, result.windows[t.to].end
        ))
        .weak(),
    );
    egui::ScrollArea::horizontal().id_salt("transition-table").show(ui, |ui| {
        super::compare::crosstab_ui(ui, &crossing);
    });
    ui.add_space(6.0);
    ui.allocate_ui(egui::vec2(ui.available_width().min(900.0), 380.0), |ui| {
        let shown = super::compare::alluvial_ui(ui, &crossing.flows());
        super::chart_export_menu(app, &shown, crate::app::ChartId::MovesOverTime);
    });
}
