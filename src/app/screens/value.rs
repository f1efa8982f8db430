//! Value: what each customer and segment is worth. The purchase and spend models fitted on the
//! transaction log, their diagnostics on a holdout period, the value per segment with its band,
//! and the prioritisation view. Everything is computed on the run's job; this draws it.

use eframe::egui::{self, Color32, RichText, Ui};
use egui_plot::{Bar, BarChart, Legend, Line, Plot, PlotPoint, PlotPoints, Points, Text, VLine};

use crate::app::{Command, StrataApp};
use crate::engine::pipeline::{PipelineSpec, TableKind};
use crate::engine::value::priority::{PriorityAxis, PriorityRow, growth_from_sizes, rank};
use crate::engine::value::{DATA_CONTRACT, PurchaseModelKind, SegmentValue, TimeUnit, ValueAnalysis, ValueSpec};

/// The Value screen's own state: dates as typed, the part shown, the prioritisation's axes.
#[derive(Clone, Debug)]
pub struct ValueView {
    /// The calibration end as typed, until it parses.
    pub calibration_text: String,
    /// The holdout end as typed ("" for none).
    pub holdout_text: String,
    /// The spec the texts were filled from.
    pub texts_for: Option<ValueSpec>,
    /// The part shown.
    pub tab: ValueTab,
    /// The prioritisation's horizontal axis.
    pub x_axis: PriorityAxis,
    /// Its vertical axis.
    pub y_axis: PriorityAxis,
    /// What the ranking is by.
    pub rank_by: PriorityAxis,
}

impl Default for ValueView {
    fn default() -> Self {
        ValueView {
            calibration_text: String::new(),
            holdout_text: String::new(),
            texts_for: None,
            tab: ValueTab::Segments,
            x_axis: PriorityAxis::Customers,
            y_axis: PriorityAxis::ValuePerCustomer,
            rank_by: PriorityAxis::TotalValue,
        }
    }
}

/// The parts of the Value screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueTab {
    /// Value per segment.
    Segments,
    /// Segments as bubbles, ranked.
    Prioritise,
    /// The fitted models and their comparison.
    Fit,
    /// Calibration histogram, holdout groups, weekly tracking, probability-alive heatmap.
    Diagnostics,
}

impl ValueTab {
    const ALL: [ValueTab; 4] = [ValueTab::Segments, ValueTab::Prioritise, ValueTab::Fit, ValueTab::Diagnostics];

    fn label(self) -> &'static str {
        match self {
            ValueTab::Segments => "Value per segment",
            ValueTab::Prioritise => "Prioritise",
            ValueTab::Fit => "Models",
            ValueTab::Diagnostics => "Diagnostics",
        }
    }
}

/// Draws the Value screen.
pub fn value_ui(ui: &mut Ui, app: &mut StrataApp) {
    let Some(doc) = &app.doc else { return };
    ui.heading("What each segment is worth");
    let TableKind::TransactionLog(columns) = &doc.project.spec.table else {
        ui.label(
            "Customer lifetime value needs a transaction log (a customer id, a date and an amount per purchase): \
             the purchase models learn from when each customer bought. This project segments a customer table; \
             choose a transaction log on the Data screen.",
        );
        return;
    };
    if columns.amount.is_none() {
        ui.label("Customer lifetime value needs an amount column in the log; choose one on the Data screen.");
        return;
    }
    let spec = doc.project.spec.clone();
    let Some(value_spec) = columns.value.clone() else {
        ui.label(
            "Fit buy-till-you-die models (BG/NBD, MBG/NBD, Pareto/NBD) and the Gamma-Gamma spend model on the log, \
             and see each customer's probability of being alive, expected purchases and value over a horizon, \
             per segment with a band, validated on a holdout period.",
        );
        if ui.button("Compute customer value").clicked()
            && let Some(default) = default_spec(app)
        {
            push_value(app, &spec, Some(default), "turn customer value on");
        }
        return;
    };
    settings_ui(ui, app, &spec, &value_spec);
    let output = app.output.clone().filter(|o| app.doc.as_ref().is_some_and(|d| o.is_for(d)));
    let Some(out) = output else {
        ui.label(RichText::new("Run the analysis (F5) to fit the value models with these settings.").weak());
        return;
    };
    let Some(analysis) = out.result.value.clone() else {
        ui.label(RichText::new("The last run has no value analysis; run again (F5).").weak());
        return;
    };
    assumptions_ui(ui, &analysis, out.result.source_fingerprints.first().map(String::as_str).unwrap_or(""));
    ui.horizontal(|ui| {
        for tab in ValueTab::ALL {
            ui.selectable_value(&mut app.view.value.tab, tab, tab.label());
        }
    });
    ui.separator();
    let names: Vec<String> = (0..out.result.n_segments()).map(|s| app.segment_name_in(&out.result, s)).collect();
    let mut segments: Vec<SegmentValue> = out.summary.value_segments.clone().unwrap_or_default();
    for s in &mut segments {
        if let Some(name) = names.get(s.segment) {
            s.name = name.clone();
        }
    }
    let threshold = app.small_cells();
    egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| match app.view.value.tab {
        ValueTab::Segments => segments_ui(ui, &segments, &analysis, threshold),
        ValueTab::Prioritise => {
            let rows = priority_rows(app, &out.result, &segments);
            priority_ui(ui, app, &rows, threshold);
        }
        ValueTab::Fit => fit_ui(ui, &analysis),
        ValueTab::Diagnostics => diagnostics_ui(ui, &analysis),
    });
}

/// A first value spec from the log's dates: calibration on the first half, holdout on the second
/// (as Fader, Hardie and Lee split CDNOW's 78 weeks).
fn default_spec(app: &StrataApp) -> Option<ValueSpec> {
    let out = app.output.as_ref()?;
    let customers = &out.result.customers;
    use polars::prelude::ChunkAgg;
    let day = |name: &str, last: bool| -> Option<i32> {
        let column = customers.column(name).ok()?.cast(&polars::prelude::DataType::Int32).ok()?;
        let values = column.as_materialized_series().i32().ok()?.clone();
        if last { values.max() } else { values.min() }
    };
    let (start, end) = (day("first_purchase", false)?, day("last_purchase", true)?);
    let calibration = crate::engine::value::summary::date_from_days(start + (end - start) / 2);
    let holdout = (end > start + 1).then(|| crate::engine::value::summary::date_from_days(end));
    Some(ValueSpec {
        calibration_end: calibration,
        holdout_end: holdout,
        unit: TimeUnit::Weeks,
        model: PurchaseModelKind::BgNbd,
        settings: Default::default(),
        penalty: 0.0,
    })
}

fn push_value(app: &mut StrataApp, spec: &PipelineSpec, value: Option<ValueSpec>, what: &str) {
    let mut next = spec.clone();
    if let TableKind::TransactionLog(columns) = &mut next.table {
        columns.value = value;
    }
    app.push(Command::EditSpec { spec: Box::new(next), what: what.to_string() });
}

fn settings_ui(ui: &mut Ui, app: &mut StrataApp, spec: &PipelineSpec, value: &ValueSpec) {
    let view = &mut app.view.value;
    if view.texts_for.as_ref() != Some(value) {
        view.calibration_text = value.calibration_end.to_string();
        view.holdout_text = value.holdout_end.map(|d| d.to_string()).unwrap_or_default();
        view.texts_for = Some(value.clone());
    }
    let mut next = value.clone();
    let mut date_problem = None;
    ui.horizontal_wrapped(|ui| {
        let label = ui.label("Model");
        egui::ComboBox::from_id_salt("value-model")
            .selected_text(next.model.label())
            .show_ui(ui, |ui| {
                for kind in PurchaseModelKind::ALL {
                    ui.selectable_value(&mut next.model, kind, kind.label());
                }
            })
            .response
            .labelled_by(label.id);
        ui.separator();
        let label = ui.label("Calibration ends");
        let field = ui
            .add(egui::TextEdit::singleline(&mut app.view.value.calibration_text).desired_width(90.0))
            .labelled_by(label.id)
            .on_hover_text("The last day (YYYY-MM-DD) the models learn from");
        if field.lost_focus() || field.changed() {
            match chrono::NaiveDate::parse_from_str(app.view.value.calibration_text.trim(), "%Y-%m-%d") {
                Ok(d) => next.calibration_end = d,
                Err(_) => date_problem = Some("the calibration end is not a date in YYYY-MM-DD form"),
            }
        }
        let label = ui.label("Holdout ends");
        let field = ui
            .add(egui::TextEdit::singleline(&mut app.view.value.holdout_text).desired_width(90.0))
            .labelled_by(label.id)
            .on_hover_text("Predictions are checked against purchases up to this day; leave empty for no holdout");
        if field.lost_focus() || field.changed() {
            let text = app.view.value.holdout_text.trim();
            if text.is_empty() {
                next.holdout_end = None;
            } else {
                match chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
                    Ok(d) => next.holdout_end = Some(d),
                    Err(_) => date_problem = Some("the holdout end is not a date in YYYY-MM-DD form"),
                }
            }
        }
        ui.separator();
        ui.radio_value(&mut next.unit, TimeUnit::Weeks, "weeks");
        ui.radio_value(&mut next.unit, TimeUnit::Days, "days");
    });
    ui.horizontal_wrapped(|ui| {
        let label = ui.label("Horizon");
        ui.add(egui::DragValue::new(&mut next.settings.horizon_months).range(1..=120).suffix(" months"))
            .labelled_by(label.id);
        let label = ui.label("Annual discount rate");
        let mut rate = next.settings.annual_discount_rate * 100.0;
        if ui
            .add(egui::DragValue::new(&mut rate).range(0.0..=100.0).speed(0.1).max_decimals(2).suffix("%"))
            .labelled_by(label.id)
            .changed()
        {
            next.settings.annual_discount_rate = rate / 100.0;
        }
        let label = ui.label("Margin");
        let mut margin = next.settings.margin * 100.0;
        if ui
            .add(egui::DragValue::new(&mut margin).range(1.0..=100.0).speed(0.5).max_decimals(1).suffix("%"))
            .labelled_by(label.id)
            .on_hover_text("Contribution margin: the share of revenue that is profit (100% reports revenue)")
            .changed()
        {
            next.settings.margin = margin / 100.0;
        }
        let label = ui.label("Penalty");
        ui.add(egui::DragValue::new(&mut next.penalty).range(0.0..=1.0).speed(0.0005).max_decimals(4))
            .labelled_by(label.id)
            .on_hover_text("An L2 penalty on the parameters; 0 is plain maximum likelihood");
        ui.separator();
        if ui.button("Turn value off").on_hover_text("Remove the value columns and settings from the project").clicked()
        {
            push_value(app, spec, None, "turn customer value off");
        }
    });
    if let Some(problem) = date_problem {
        ui.colored_label(ui.visuals().warn_fg_color, problem);
    } else if next != *value {
        push_value(app, spec, Some(next), "value settings");
    }
}

fn assumptions_ui(ui: &mut Ui, analysis: &ValueAnalysis, fingerprint: &str) {
    let spec = &analysis.spec;
    let s = &analysis.summary;
    ui.label(format!(
        "{} customers ({} bought again) from {} to the calibration end {}, by {}; value over {} month(s) at {:.0}% margin; {}.",
        crate::app::widgets::format_count(s.len()),
        crate::app::widgets::format_count(s.n_repeat_customers()),
        s.log_start,
        spec.calibration_end,
        spec.model.label(),
        spec.settings.horizon_months,
        spec.settings.margin * 100.0,
        analysis.conversion.sentence
    ));
    if spec.penalty > 0.0 {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            format!("Penalty {}: the estimates are not plain maximum likelihood.", spec.penalty),
        );
    }
    ui.collapsing("The data contract and the data fingerprint", |ui| {
        ui.label(DATA_CONTRACT);
        ui.label(format!("Data fingerprint {fingerprint}"));
    });
    for warning in analysis.warnings.iter().take(6) {
        ui.colored_label(ui.visuals().warn_fg_color, crate::app::words::for_window(warning));
    }
}

fn money(v: f64) -> String {
    if v.is_finite() { format!("{v:.2}") } else { "-".into() }
}

fn segments_ui(ui: &mut Ui, segments: &[SegmentValue], analysis: &ValueAnalysis, threshold: usize) {
    ui.label(RichText::new("Segments by value").strong().size(16.0));
    ui.label(format!(
        "From the log (calibration period): revenue, orders, average order value, orders per month and margin. From the \
         model: value per customer over {} month(s), the median of {} parameter draws with its 10th to 90th percentile \
         band, total value and share, and the mean probability alive.",
        analysis.spec.settings.horizon_months,
        crate::engine::value::clv::N_DRAWS
    ));
    egui::Grid::new("value-segments").striped(true).spacing([12.0, 4.0]).show(ui, |ui| {
        for head in [
            "segment",
            "customers",
            "revenue",
            "share",
            "orders",
            "avg order",
            "orders / month",
            "margin",
            "value / customer",
            "band (p10 - p90)",
            "total value",
            "value share",
            "P(alive)",
        ] {
            ui.strong(head);
        }
        ui.end_row();
        for s in segments {
            ui.label(&s.name);
            if s.n_customers > 0 && s.n_customers < threshold {
                ui.label(format!("under {threshold}")).on_hover_text("Hidden: a count under the small-cell threshold");
                ui.end_row();
                continue;
            }
            ui.label(crate::app::widgets::format_count(s.n_customers));
            ui.label(money(s.revenue));
            ui.label(format!("{:.1}%", s.revenue_share * 100.0));
            ui.label(format!("{:.0}", s.orders));
            ui.label(money(s.average_order_value));
            ui.label(format!("{:.3}", s.orders_per_month));
            ui.label(money(s.margin_value));
            ui.label(money(s.value_per_customer_median));
            ui.label(format!("{} - {}", money(s.value_per_customer_p10), money(s.value_per_customer_p90)));
            ui.label(money(s.total_value));
            ui.label(format!("{:.1}%", s.value_share * 100.0));
            ui.label(format!("{:.3}", s.p_alive));
            ui.end_row();
        }
    });
}

fn priority_rows(
    app: &StrataApp,
    result: &crate::engine::pipeline::PipelineResult,
    segments: &[SegmentValue],
) -> Vec<PriorityRow> {
    let k = segments.len();
    let growth: Vec<Option<f64>> = app
        .over_time
        .as_ref()
        .filter(|o| app.doc.as_ref().is_some_and(|d| o.is_for(d)))
        .filter(|o| o.result.params.model == crate::engine::over_time::WindowModel::Fixed)
        .and_then(|o| {
            let first = o.result.windows.first()?;
            let last = o.result.windows.last()?;
            Some(growth_from_sizes(&first.sizes, &last.sizes, k))
        })
        .unwrap_or_else(|| vec![None; k]);
    let stability: Vec<Option<f64>> = (0..k)
        .map(|s| {
            result.stability.as_ref().and_then(|st| st.segments.iter().find(|x| x.segment == s)).map(|x| x.mean_jaccard)
        })
        .collect();
    segments
        .iter()
        .map(|v| PriorityRow {
            segment: v.segment,
            name: v.name.clone(),
            value: v.clone(),
            growth: growth.get(v.segment).copied().flatten(),
            stability: stability.get(v.segment).copied().flatten(),
        })
        .collect()
}

fn axis_combo(ui: &mut Ui, label: &str, id: &str, axis: &mut PriorityAxis) {
    let text = ui.label(label);
    egui::ComboBox::from_id_salt(id)
        .selected_text(axis.label())
        .show_ui(ui, |ui| {
            for a in PriorityAxis::ALL {
                ui.selectable_value(axis, a, a.label());
            }
        })
        .response
        .labelled_by(text.id);
}

fn priority_ui(ui: &mut Ui, app: &mut StrataApp, rows: &[PriorityRow], threshold: usize) {
    ui.label(RichText::new("Prioritise").strong().size(16.0));
    ui.label("Segments as bubbles sized by their total value; choose what the axes show and what the ranking is by.");
    let view = &mut app.view.value;
    ui.horizontal_wrapped(|ui| {
        axis_combo(ui, "Horizontal axis", "value-x-axis", &mut view.x_axis);
        axis_combo(ui, "Vertical axis", "value-y-axis", &mut view.y_axis);
        axis_combo(ui, "Rank by", "value-rank-by", &mut view.rank_by);
    });
    let (x_axis, y_axis, rank_by) = (view.x_axis, view.y_axis, view.rank_by);
    for axis in [x_axis, y_axis, rank_by] {
        if rows.iter().all(|r| r.get(axis).is_none())
            && let Some(needs) = axis.needs()
        {
            ui.colored_label(ui.visuals().warn_fg_color, format!("No {} yet: {needs}.", axis.label()));
        }
    }
    let shown: Vec<&PriorityRow> =
        rows.iter().filter(|r| !(r.value.n_customers > 0 && r.value.n_customers < threshold)).collect();
    let largest = shown.iter().map(|r| r.value.total_value.max(0.0)).fold(0.0, f64::max);
    let colours = app.output.as_ref().map(|o| app.segment_colours_in(&o.result));
    // Room around the bubbles so none is cut by the frame: a tenth of each axis's range either side.
    let padded = |axis: PriorityAxis| -> Option<(f64, f64)> {
        let values: Vec<f64> = shown.iter().filter_map(|r| r.get(axis)).filter(|v| v.is_finite()).collect();
        let (lo, hi) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(*v), b.max(*v)));
        let pad = ((hi - lo) * 0.12).max(hi.abs().max(lo.abs()) * 0.05).max(1e-9);
        lo.is_finite().then_some((lo - pad, hi + pad))
    };
    let (x_range, y_range) = (padded(x_axis), padded(y_axis));
    Plot::new("value-priority")
        .height(320.0)
        .x_axis_label(x_axis.label())
        .y_axis_label(y_axis.label())
        .legend(Legend::default())
        .include_x(x_range.map_or(0.0, |r| r.0))
        .include_x(x_range.map_or(1.0, |r| r.1))
        .include_y(y_range.map_or(0.0, |r| r.0))
        .include_y(y_range.map_or(1.0, |r| r.1))
        .show(ui, |plot| {
            for r in &shown {
                let (Some(x), Some(y)) = (r.get(x_axis), r.get(y_axis)) else { continue };
                let size =
                    if largest > 0.0 { 6.0 + 30.0 * (r.value.total_value.max(0.0) / largest).sqrt() } else { 8.0 };
                let colour = colours.as_ref().map_or(Color32::GRAY, |c| c.of(r.segment));
                plot.points(
                    Points::new(r.name.clone(), vec![[x, y]]).radius(size as f32).color(colour.gamma_multiply(0.7)),
                );
                // An empty name keeps the label out of the legend (the bubble is there already).
                plot.text(Text::new("", PlotPoint::new(x, y), r.name.clone()).id(("value-priority-label", r.segment)));
            }
        });
    ui.add_space(6.0);
    ui.label(RichText::new(format!("Ranking by {}", rank_by.label())).strong());
    let order = rank(rows, rank_by);
    egui::Grid::new("value-ranking").striped(true).spacing([12.0, 4.0]).show(ui, |ui| {
        for head in
            ["rank", "segment", "customers", "value / customer", "total value", "P(alive)", "growth", "stability"]
        {
            ui.strong(head);
        }
        ui.end_row();
        for (place, &i) in order.iter().enumerate() {
            let r = &rows[i];
            ui.label(format!("{}", place + 1));
            ui.label(&r.name);
            if r.value.n_customers > 0 && r.value.n_customers < threshold {
                ui.label(format!("under {threshold}"));
                ui.end_row();
                continue;
            }
            ui.label(crate::app::widgets::format_count(r.value.n_customers));
            ui.label(money(r.value.value_per_customer_median));
            ui.label(money(r.value.total_value));
            ui.label(format!("{:.3}", r.value.p_alive));
            ui.label(r.growth.map_or("-".into(), |g| format!("{:+.1}%", g * 100.0)));
            ui.label(r.stability.map_or("-".into(), |s| format!("{s:.2}")));
            ui.end_row();
        }
    });
}

fn fit_ui(ui: &mut Ui, analysis: &ValueAnalysis) {
    ui.label(RichText::new("The purchase models, fitted by maximum likelihood").strong().size(16.0));
    for fit in &analysis.fits {
        let f = &fit.summary;
        let chosen = fit.params.kind == analysis.spec.model;
        let title = format!("{}{}", fit.params.kind.label(), if chosen { " (reported)" } else { "" });
        ui.label(RichText::new(title).strong());
        let params: Vec<String> = f
            .names
            .iter()
            .enumerate()
            .map(|(i, n)| match &f.standard_errors {
                Some(se) => format!("{n} = {:.4} (se {:.4})", f.estimates[i], se[i]),
                None => format!("{n} = {:.4}", f.estimates[i]),
            })
            .collect();
        ui.label(format!("{}; log-likelihood {:.2}, BIC {:.1}", params.join(", "), f.log_likelihood, f.bic));
        if f.issues.is_empty() {
            ui.label(RichText::new("converged cleanly").weak());
        }
        for issue in &f.issues {
            ui.colored_label(ui.visuals().warn_fg_color, issue);
        }
    }
    let g = &analysis.spend.summary;
    ui.label(RichText::new("Gamma-Gamma (spend per purchase)").strong());
    ui.label(format!(
        "p = {:.4}, q = {:.4}, gamma = {:.4}; log-likelihood {:.2} over {} repeat customers",
        g.estimates[0], g.estimates[1], g.estimates[2], g.log_likelihood, g.n_customers
    ));
    for issue in &g.issues {
        ui.colored_label(ui.visuals().warn_fg_color, issue);
    }
    ui.add_space(6.0);
    ui.label(RichText::new("Comparison").strong());
    egui::Grid::new("value-comparison").striped(true).spacing([12.0, 4.0]).show(ui, |ui| {
        for head in ["model", "log-likelihood", "BIC", "holdout group error", "holdout error per customer"] {
            ui.strong(head);
        }
        ui.end_row();
        for row in &analysis.comparison {
            ui.label(&row.label);
            ui.label(format!("{:.2}", row.log_likelihood));
            ui.label(format!("{:.1}", row.bic));
            ui.label(if row.group_error.is_finite() { format!("{:.4}", row.group_error) } else { "-".into() });
            ui.label(if row.mean_absolute_error.is_finite() {
                format!("{:.4}", row.mean_absolute_error)
            } else {
                "-".into()
            });
            ui.end_row();
        }
    });
    for reason in &analysis.comparison_reasons {
        ui.label(format!("- {reason}"));
    }
}

fn diagnostics_ui(ui: &mut Ui, analysis: &ValueAnalysis) {
    let model = analysis.spec.model.label();
    ui.label(RichText::new("Customers by repeat purchases in calibration").strong());
    let h = &analysis.histogram;
    let bars = |values: &[f64], offset: f64| -> Vec<Bar> {
        values.iter().enumerate().map(|(i, v)| Bar::new(i as f64 + offset, *v).width(0.38)).collect()
    };
    Plot::new("value-histogram").height(200.0).legend(Legend::default()).show(ui, |plot| {
        plot.bar_chart(BarChart::new("actual", bars(&h.actual, -0.2)));
        plot.bar_chart(BarChart::new(format!("{model} (simulated)"), bars(&h.model, 0.2)));
    });
    let Some(holdout) = analysis.chosen_holdout() else {
        ui.label(RichText::new("Set a holdout end to check the predictions against what customers did next.").weak());
        heatmap_ui(ui, analysis);
        return;
    };
    ui.label(RichText::new("Holdout: mean purchases per customer, by repeat purchases in calibration").strong());
    let actual: Vec<f64> = holdout.groups.iter().map(|g| g.actual).collect();
    let predicted: Vec<f64> = holdout.groups.iter().map(|g| g.predicted).collect();
    // The groups' means grow to the right: the legend goes where the bars are low.
    Plot::new("value-holdout").height(200.0).legend(Legend::default().position(egui_plot::Corner::LeftTop)).show(
        ui,
        |plot| {
            plot.bar_chart(BarChart::new("actual", bars(&actual, -0.2)));
            plot.bar_chart(BarChart::new(format!("{model} predicted"), bars(&predicted, 0.2)));
        },
    );
    for line in &holdout.verdict {
        ui.label(format!("{model} {line}"));
    }
    ui.label(RichText::new("Cumulative repeat purchases by week (calibration end marked)").strong());
    let w = &holdout.weekly;
    let points = |values: &[f64]| -> PlotPoints {
        values.iter().enumerate().map(|(i, v)| [(i + 1) as f64, *v]).collect::<Vec<[f64; 2]>>().into()
    };
    Plot::new("value-weekly").height(220.0).legend(Legend::default()).x_axis_label("week").show(ui, |plot| {
        plot.line(Line::new("actual", points(&w.actual)));
        plot.line(Line::new(format!("{model} expected"), points(&w.predicted)));
        plot.vline(VLine::new("calibration end", w.calibration_weeks as f64));
    });
    heatmap_ui(ui, analysis);
}

/// The probability-alive heatmap: at most 60 x 60 cells, painted directly.
fn heatmap_ui(ui: &mut Ui, analysis: &ValueAnalysis) {
    let map = &analysis.heatmap;
    ui.label(
        RichText::new(format!(
            "Probability alive by repeat purchases (rows, top = most) and recency t_x (columns), for a customer of T = {:.1} {}",
            map.t_cal,
            analysis.spec.unit.plural()
        ))
        .strong(),
    );
    let rows = map.x_centres.len();
    let columns = map.t_x_centres.len();
    if rows == 0 || columns == 0 {
        return;
    }
    let cell = (360.0 / columns.max(rows) as f32).clamp(4.0, 24.0);
    let (rect, response) =
        ui.allocate_exact_size(egui::vec2(cell * columns as f32, cell * rows as f32), egui::Sense::hover());
    let painter = ui.painter_at(rect);
    for (r, row) in map.p_alive.iter().enumerate() {
        for (c, p) in row.iter().enumerate() {
            let top = rect.top() + cell * (rows - 1 - r) as f32;
            let cell_rect =
                egui::Rect::from_min_size(egui::pos2(rect.left() + cell * c as f32, top), egui::vec2(cell, cell));
            painter.rect_filled(cell_rect, 0.0, alive_colour(*p));
        }
    }
    if let Some(pos) = response.hover_pos() {
        let c = (((pos.x - rect.left()) / cell) as usize).min(columns - 1);
        let r = rows - 1 - (((pos.y - rect.top()) / cell) as usize).min(rows - 1);
        response.on_hover_text(format!(
            "x = {:.0}, t_x = {:.1}: P(alive) {:.3}; {} customer(s) here",
            map.x_centres[r], map.t_x_centres[c], map.p_alive[r][c], map.customers[r][c]
        ));
    }
    ui.label(RichText::new("dark: probably gone; bright: probably alive").weak());
}

fn alive_colour(p: f64) -> Color32 {
    let p = if p.is_finite() { p.clamp(0.0, 1.0) } else { 0.0 } as f32;
    let lerp = |a: f32, b: f32| (a + (b - a) * p) as u8;
    Color32::from_rgb(lerp(30.0, 250.0), lerp(20.0, 220.0), lerp(80.0, 60.0))
}
