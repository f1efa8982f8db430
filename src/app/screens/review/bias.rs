//! The bias audit on the Review screen: the user ticks the columns to group customers by, and the
//! audit of the latest run's segments (business rules applied) is shown as tables, flagged rows in
//! the warning colour. The audit is a counting pass over the customers, made once per run, choice
//! of columns and names, and kept until one of them changes.

use std::sync::Arc;

use eframe::egui::{self, RichText, Ui};

use crate::app::StrataApp;
use crate::app::widgets::format_count;
use crate::engine::governance::bias::{self, BiasAudit, ColumnAudit, SegmentAudit};
use crate::engine::governance::suppress::Cell;

/// What the audit was made from: it is made again only when one of these changes.
#[derive(Clone, Debug, PartialEq)]
struct AuditKey {
    output: usize,
    columns: Vec<String>,
    names: Vec<String>,
    small_cells: usize,
}

/// What the bias audit remembers between frames.
#[derive(Default)]
pub struct BiasView {
    /// The columns ticked, in the customer table's order.
    ticked: Vec<String>,
    /// The columns that could be ticked when `ticked` was set, and the project's defaults then: a
    /// new table or new defaults tick the defaults again.
    ticked_from: Option<(Vec<String>, Vec<String>)>,
    /// The columns that can group the customers of a run (by the run's address): counting a
    /// column's distinct values is not work for every frame.
    candidates: Option<(usize, Vec<String>)>,
    /// The latest audit and what it was made from.
    audit: Option<(AuditKey, Arc<Result<BiasAudit, String>>)>,
    /// How many times the audit was made (tests check it is not made every frame).
    pub audits_made: usize,
}

/// Draws the bias audit.
pub fn bias_ui(ui: &mut Ui, app: &mut StrataApp) {
    ui.heading("Bias audit");
    ui.label(RichText::new(bias::EXPLANATION).weak());
    ui.add_space(6.0);
    let Some(out) = app.output.clone() else {
        ui.label("Run the segmentation first: the audit reads its segments.");
        return;
    };
    let (listed, small_cells) =
        app.doc.as_ref().map_or((Vec::new(), crate::engine::governance::DEFAULT_SMALL_CELLS), |d| {
            (d.project.governance.sensitive.clone(), d.project.governance.small_cells)
        });
    let result = &out.result;
    let output = Arc::as_ptr(&out) as usize;
    let view = &mut app.view.bias;
    let candidates = match &view.candidates {
        Some((made_for, candidates)) if *made_for == output => candidates.clone(),
        _ => {
            let candidates = bias::candidate_columns(&result.customers, &result.roles);
            view.candidates = Some((output, candidates.clone()));
            candidates
        }
    };
    let defaults = bias::default_sensitive(&listed, &result.roles);
    if view.ticked_from.as_ref() != Some(&(candidates.clone(), defaults.clone())) {
        view.ticked = candidates.iter().filter(|c| defaults.contains(c)).cloned().collect();
        view.ticked_from = Some((candidates.clone(), defaults.clone()));
    }
    if candidates.is_empty() {
        ui.label(
            "The customer table has no text or categorical column to group customers by. Load an attribute table, \
             or mark a column's role as sensitive on the Data screen.",
        );
        return;
    }
    ui.label("Group customers by:");
    ui.horizontal_wrapped(|ui| {
        for column in &candidates {
            let mut on = view.ticked.contains(column);
            let hint = if defaults.contains(column) {
                "Sensitive in this project (its role or its governance settings)"
            } else {
                "A text or categorical column of the customer table"
            };
            if ui.checkbox(&mut on, column.as_str()).on_hover_text(hint).changed() {
                if on {
                    view.ticked.push(column.clone());
                    view.ticked.sort_by_key(|c| candidates.iter().position(|x| x == c));
                } else {
                    view.ticked.retain(|c| c != column);
                }
            }
        }
    });
    if view.ticked.is_empty() {
        ui.label("Tick one or more columns to audit the segments by them.");
        return;
    }
    let names: Vec<String> = (0..result.n_segments()).map(|s| app.segment_name_in(result, s)).collect();
    let view = &mut app.view.bias;
    let key = AuditKey { output, columns: view.ticked.clone(), names: names.clone(), small_cells };
    let audit = match &view.audit {
        Some((made_for, audit)) if *made_for == key => audit.clone(),
        _ => {
            let audit = Arc::new(
                bias::audit(&bias::BiasInput {
                    customers: &result.customers,
                    segments: &result.segment_per_customer,
                    segment_names: &names,
                    sensitive: &key.columns,
                    features: &out.spec.recipe.features,
                    small_cells,
                })
                .map_err(|e| e.to_string()),
            );
            view.audits_made += 1;
            view.audit = Some((key, audit.clone()));
            audit
        }
    };
    ui.separator();
    match audit.as_ref() {
        Ok(audit) => audit_ui(ui, audit),
        Err(e) => {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
    }
}

fn audit_ui(ui: &mut Ui, audit: &BiasAudit) {
    let t = audit.threshold;
    ui.label(format!(
        "{} in {}; counts under {t} show as \"<{t}\" and what rests on them is not shown. {} flagged.",
        crate::engine::words::count(audit.n_customers, "customer"),
        crate::engine::words::count(audit.segment_names.len(), "segment"),
        crate::engine::words::count(audit.n_flagged(), "group-segment pair"),
    ));
    if audit.n_without_segment > 0 {
        ui.label(format!(
            "{} without a segment are left out.",
            crate::engine::words::count(audit.n_without_segment, "customer")
        ));
    }
    for (i, column) in audit.columns.iter().enumerate() {
        let flagged = column.n_flagged();
        let title = format!(
            "{}: {}, {flagged} flagged",
            column.column,
            crate::engine::words::count(column.groups.len(), "group")
        );
        let title =
            if flagged > 0 { RichText::new(title).color(ui.visuals().warn_fg_color) } else { RichText::new(title) };
        egui::CollapsingHeader::new(title)
            .id_salt(("bias-column", i))
            .default_open(column.kind != bias::GroupingKind::Intersection)
            .show(ui, |ui| column_ui(ui, audit, column, i));
    }
    for skipped in &audit.skipped {
        ui.label(format!("{}: not audited: {}", skipped.column, skipped.why));
    }
}

fn cell_text(cell: Cell, threshold: usize) -> String {
    match cell {
        Cell::Count(n) => format_count(n),
        other => other.text(threshold),
    }
}

fn percent(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_string(), |x| format!("{:.1}%", 100.0 * x))
}

fn yes_no(x: Option<bool>) -> &'static str {
    match x {
        Some(true) => "yes",
        Some(false) => "no",
        None => "-",
    }
}

fn column_ui(ui: &mut Ui, audit: &BiasAudit, column: &ColumnAudit, index: usize) {
    for note in &column.notes {
        ui.label(RichText::new(note).italics());
    }
    for segment in &column.segments {
        segment_ui(ui, audit, column, segment, index);
    }
    ui.add_space(4.0);
    match &column.overall {
        Ok(x) => ui.label(format!(
            "All segments together: chi-square {:.2}, df {}, p {}, Cramér's V {:.3}.",
            x.statistic,
            x.df,
            bias::p_text(x.p_value),
            x.cramers_v
        )),
        Err(why) => ui.label(format!("All segments together: no test ({why}).")),
    };
    if !column.overall_left_out.is_empty() {
        ui.label(format!("Left out of it, a count being hidden: {}.", column.overall_left_out.join(", ")));
    }
    if !column.proxies.is_empty() {
        ui.add_space(4.0);
        ui.label(RichText::new(format!("Proxy check: how strongly each feature goes with {}", column.column)).strong());
        egui::Grid::new(("bias-proxies", index)).striped(true).spacing([14.0, 2.0]).show(ui, |ui| {
            ui.label("feature");
            ui.label("measure");
            ui.label("value");
            ui.end_row();
            for p in &column.proxies {
                ui.label(p.feature.as_str());
                ui.label(match p.measure {
                    bias::ProxyMeasure::CorrelationRatio => "eta",
                    bias::ProxyMeasure::CramersV => "Cramér's V",
                });
                match &p.value {
                    Ok(v) if *v >= bias::PROXY_NOTABLE => {
                        ui.colored_label(ui.visuals().warn_fg_color, format!("{v:.3}, worth a look"));
                    }
                    Ok(v) => {
                        ui.label(format!("{v:.3}"));
                    }
                    Err(why) => {
                        ui.label(why.as_str());
                    }
                }
                ui.end_row();
            }
        });
    }
}

fn segment_ui(ui: &mut Ui, audit: &BiasAudit, column: &ColumnAudit, segment: &SegmentAudit, index: usize) {
    let t = audit.threshold;
    let s = segment.segment;
    let name = audit.segment_names.get(s).map_or("", String::as_str);
    let size = audit.segment_sizes.get(s).map_or_else(String::new, |&c| cell_text(c, t));
    let test = match &segment.test {
        Ok(x) => format!(
            "{}p {}, chi-square {:.2} (df {}), Cramér's V {:.3}: {}",
            if x.fisher_p.is_some() { "Fisher's exact " } else { "" },
            bias::p_text(x.p_value()),
            x.chi_square.statistic,
            x.chi_square.df,
            x.chi_square.cramers_v,
            if x.significant() { "significant" } else { "not significant" }
        ),
        Err(why) => format!("no test: {why}"),
    };
    ui.add_space(6.0);
    ui.label(RichText::new(format!("Segment {} \"{name}\" ({size} customers) against the rest", s + 1)).strong());
    ui.label(test);
    let warn = ui.visuals().warn_fg_color;
    egui::Grid::new(("bias-segment", index, s)).striped(true).spacing([14.0, 2.0]).show(ui, |ui| {
        for heading in
            ["group", "customers", "in segment", "rate", "share of segment", "ratio", "under 0.8", "significant", ""]
        {
            ui.label(RichText::new(heading).weak());
        }
        ui.end_row();
        for (g, label) in column.groups.iter().enumerate() {
            let v = segment.verdicts[g];
            let cells = [
                label.clone(),
                cell_text(column.group_sizes[g], t),
                cell_text(column.counts[g][s], t),
                percent(segment.rates[g]),
                percent(segment.shares[g]),
                segment.ratios[g].map_or_else(|| "-".to_string(), |r| format!("{r:.3}")),
                yes_no(v.ratio_under).to_string(),
                yes_no(v.significant).to_string(),
                if v.flagged { "FLAG".to_string() } else { String::new() },
            ];
            for text in cells {
                let text = if v.flagged { RichText::new(text).color(warn).strong() } else { RichText::new(text) };
                ui.label(text);
            }
            ui.end_row();
        }
    });
    if !segment.left_out.is_empty() {
        let left: Vec<&str> = segment.left_out.iter().map(|&g| column.groups[g].as_str()).collect();
        ui.label(RichText::new(format!("Left out of the test, a count being hidden: {}.", left.join(", "))).weak());
    }
}
