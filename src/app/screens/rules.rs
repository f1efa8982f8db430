//! Rules: the business rules applied after the model (in order, each with what it matched and
//! moved), the segments marked low priority, manual overrides of single customers with their
//! reasons, and the audit log of every change to them.

use eframe::egui::{self, RichText, Ui};

use crate::app::{Command, StrataApp};
use crate::engine::rules::{BusinessRule, BusinessRules, Override, parse_rule};

/// What the screen remembers between frames.
#[derive(Default)]
pub struct RulesState {
    /// The rule being written.
    pub rule: String,
    /// Why it exists.
    pub rule_why: String,
    /// The rule being edited (its index), when the field holds an existing rule.
    pub editing: Option<usize>,
    /// The customer to override.
    pub customer: String,
    /// The segment to put them in.
    pub segment: String,
    /// Why.
    pub override_why: String,
}

/// The rule that leaves no customer without a segment.
const NO_SEGMENT_RULE: &str = "when no segment then segment \"Insufficient data\"";

/// Rules an analyst starts from, with what each does.
const EXAMPLES: [(&str, &str); 4] = [
    ("when frequency < 2 then segment \"Too new to tell\"", "one purchase is too little to segment on"),
    ("when monetary_total > p90 then not low priority", "top spenders are never in a low-priority segment"),
    (NO_SEGMENT_RULE, "every customer gets a segment"),
    ("when recency_days > 365 and frequency <= 2 then segment \"Lapsed\"", "gone for a year after one or two orders"),
];

/// Draws the Rules screen.
pub fn rules_ui(ui: &mut Ui, app: &mut StrataApp) {
    let Some(doc) = &app.doc else { return };
    let rules = doc.project.rules.clone();
    let output = app.output.clone().filter(|o| o.spec == doc.project.spec);
    // Borrowed from the run (an Arc held here), not copied: at a million customers the outcome holds
    // several per-customer vectors.
    let current = output.as_deref().filter(|o| o.is_for(doc));
    let outcome = current.and_then(|o| o.result.rules.as_ref());
    // Counted once with the run, not over every customer each frame.
    let n_changed = current.map_or(0, |o| o.counts.rules_changed);
    let n_customers = output.as_ref().map(|o| o.result.customers.height());
    egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
        ui.heading("Business rules and overrides");
        ui.label(
            "Applied after the model, in order: a later rule can move a customer an earlier one placed; overrides \
             come last. The model's own segments are kept beside them (exports add model_segment and changed_by).",
        );
        match (outcome, n_customers) {
            (Some(_), Some(n)) => {
                ui.label(
                    RichText::new(format!(
                        "Rules and overrides move {} of {} from the model's segments.",
                        crate::engine::governance::suppress::count_words(n_changed, app.small_cells()),
                        crate::engine::words::count(n, "customer")
                    ))
                    .strong(),
                );
            }
            _ if rules.is_empty() => {
                ui.label(RichText::new("No rules or overrides: every customer is in the model's segment.").weak());
            }
            _ => {
                ui.label(RichText::new("Run to see what the rules do.").weak());
            }
        }
        // Customers the model left without a segment (dropped by the recipe's missing-value rule):
        // one click gives them the fallback segment.
        if let Some(out) = &output {
            let without = out.result.n_without_segment();
            if without > 0 {
                ui.horizontal(|ui| {
                    ui.colored_label(
                        ui.visuals().warn_fg_color,
                        format!(
                            "{} {} no segment (the recipe dropped {}).",
                            crate::engine::words::count(without, "customer"),
                            if without == 1 { "has" } else { "have" },
                            if without == 1 { "it" } else { "them" }
                        ),
                    );
                    if ui.button("Give them a segment").on_hover_text(NO_SEGMENT_RULE).clicked() {
                        let mut next = rules.clone();
                        next.rules.push(BusinessRule {
                            text: NO_SEGMENT_RULE.to_string(),
                            why: "every customer gets a segment".to_string(),
                        });
                        edit(
                            app,
                            next.clone(),
                            format!("add rule {}: {NO_SEGMENT_RULE}", next.rules.len()),
                            "every customer gets a segment".to_string(),
                        );
                    }
                });
            }
        }
        ui.horizontal(|ui| {
            ui.label("Changes are logged under the name");
            let mut name = app.prefs.audit_name.clone();
            let hint = app.audit_name();
            let response = ui.add(egui::TextEdit::singleline(&mut name).hint_text(hint).desired_width(160.0));
            if response.changed() {
                app.push(Command::SetAuditName(name));
            }
        });
        ui.add_space(8.0);
        rules_table_ui(ui, app, &rules, outcome);
        ui.add_space(8.0);
        low_priority_ui(ui, app);
        ui.add_space(8.0);
        overrides_ui(ui, app, &rules, outcome);
        ui.add_space(8.0);
        audit_ui(ui, app);
    });
}

fn edit(app: &mut StrataApp, rules: BusinessRules, what: String, why: String) {
    app.push(Command::EditRules { rules, what, why });
}

fn rules_table_ui(
    ui: &mut Ui,
    app: &mut StrataApp,
    rules: &BusinessRules,
    outcome: Option<&crate::engine::rules::RulesOutcome>,
) {
    section(ui, "Rules");
    let threshold = app.small_cells();
    if rules.rules.is_empty() {
        ui.label(RichText::new("None yet.").weak());
    } else {
        egui::Grid::new("rules-grid").striped(true).spacing([12.0, 4.0]).show(ui, |ui| {
            for header in ["#", "Rule", "Why", "Matched", "Moved", ""] {
                ui.strong(header);
            }
            ui.end_row();
            for (i, rule) in rules.rules.iter().enumerate() {
                let effect = outcome.and_then(|o| o.rules.get(i));
                ui.label(format!("{}", i + 1));
                match effect {
                    Some(e) if e.error.is_some() => {
                        ui.vertical(|ui| {
                            ui.monospace(&rule.text);
                            ui.colored_label(
                                ui.visuals().error_fg_color,
                                format!("Not applied: {}", e.error.as_deref().unwrap_or_default()),
                            );
                        });
                    }
                    Some(e) => {
                        ui.monospace(&rule.text).on_hover_text(format!("As applied: {}", e.resolved));
                    }
                    None => {
                        ui.monospace(&rule.text);
                    }
                }
                ui.label(&rule.why);
                match effect.filter(|e| e.error.is_none()) {
                    Some(e) => {
                        ui.label(crate::engine::governance::suppress::count_words(e.matched, threshold));
                        ui.label(crate::engine::governance::suppress::count_words(e.changed, threshold));
                    }
                    None => {
                        ui.label("-");
                        ui.label("-");
                    }
                }
                ui.horizontal(|ui| {
                    if ui
                        .add_enabled(i > 0, egui::Button::new("Up"))
                        .on_hover_text("Apply it before the rule above")
                        .clicked()
                    {
                        let mut next = rules.clone();
                        next.rules.swap(i, i - 1);
                        edit(app, next, format!("move rule {} up: {}", i + 1, rule.text), String::new());
                    }
                    let edit_button = ui.button("Edit").on_hover_text("Change it in the field below");
                    crate::app::widgets::accessible_name(&edit_button, &format!("Edit rule {}", i + 1));
                    if edit_button.clicked() {
                        app.view.rules.rule = rule.text.clone();
                        app.view.rules.rule_why = rule.why.clone();
                        app.view.rules.editing = Some(i);
                    }
                    let remove = ui.button("Remove");
                    if remove.clicked() {
                        let mut next = rules.clone();
                        next.rules.remove(i);
                        edit(app, next, format!("remove rule {}: {}", i + 1, rule.text), rule.why.clone());
                    }
                });
                ui.end_row();
            }
        });
    }
    ui.add_space(4.0);
    let mut command = None;
    let state = &mut app.view.rules;
    let parsed = (!state.rule.trim().is_empty()).then(|| parse_rule(&state.rule));
    ui.horizontal(|ui| {
        let label = ui.label("New rule");
        ui.add(
            egui::TextEdit::singleline(&mut state.rule)
                .hint_text("when frequency < 2 then segment \"Too new to tell\"")
                .desired_width(420.0)
                .font(egui::TextStyle::Monospace),
        )
        .labelled_by(label.id);
        let why = ui.label("why");
        ui.add(egui::TextEdit::singleline(&mut state.rule_why).desired_width(220.0))
            .labelled_by(why.id)
            .on_hover_text("Why the rule exists; kept with it and in the audit log");
        let ok = matches!(parsed, Some(Ok(_)));
        let editing = state.editing.filter(|&i| i < rules.rules.len());
        let button = match editing {
            Some(i) => format!("Replace rule {}", i + 1),
            None => "Add rule".to_string(),
        };
        if ui.add_enabled(ok, egui::Button::new(button)).clicked()
            && let Some(Ok(rule)) = &parsed
        {
            let mut next = rules.clone();
            let text = rule.to_string();
            let why = state.rule_why.trim().to_string();
            let new_rule = BusinessRule { text: text.clone(), why: why.clone() };
            let what = match editing {
                Some(i) => {
                    next.rules[i] = new_rule;
                    format!("edit rule {}: {} -> {text}", i + 1, rules.rules[i].text)
                }
                None => {
                    next.rules.push(new_rule);
                    format!("add rule {}: {text}", rules.rules.len() + 1)
                }
            };
            state.rule.clear();
            state.rule_why.clear();
            state.editing = None;
            command = Some(Command::EditRules { rules: next, what, why });
        }
        if editing.is_some() && ui.button("Cancel").clicked() {
            state.rule.clear();
            state.rule_why.clear();
            state.editing = None;
        }
    });
    if let Some(command) = command.take() {
        app.push(command);
    }
    if let Some(Err(error)) = &parsed {
        ui.colored_label(ui.visuals().error_fg_color, crate::app::words::for_window(&error.to_string()));
    }
    ui.collapsing("Examples", |ui| {
        ui.label(
            "Compare a column with a number, a percentile of it (p90) or a text; 'is missing', 'no segment'; join \
             conditions with 'and'. Then 'segment \"NAME\"' (a segment of the model by its name, or a new one) or \
             'not low priority'.",
        );
        for (text, what) in EXAMPLES {
            ui.horizontal(|ui| {
                if ui.small_button("Use").on_hover_text("Copy into the new rule").clicked() {
                    app.view.rules.rule = text.to_string();
                    app.view.rules.rule_why = what.to_string();
                }
                ui.monospace(text);
                ui.label(RichText::new(what).weak());
            });
        }
    });
}

fn low_priority_ui(ui: &mut Ui, app: &mut StrataApp) {
    let Some(out) = app.output.clone() else { return };
    section(ui, "Low priority segments");
    ui.label(RichText::new("Rules with 'not low priority' move customers out of these.").weak());
    ui.horizontal_wrapped(|ui| {
        for segment in 0..out.result.n_model_segments() {
            let name = app.segment_name_in(&out.result, segment);
            let marked = app
                .doc
                .as_ref()
                .and_then(|d| d.project.segments.iter().find(|n| n.segment == segment))
                .is_some_and(|n| n.low_priority);
            let mut on = marked;
            if ui.checkbox(&mut on, format!("{} {name}", segment + 1)).changed() {
                app.push(Command::SetLowPriority { segment, low_priority: on });
            }
        }
    });
}

fn overrides_ui(
    ui: &mut Ui,
    app: &mut StrataApp,
    rules: &BusinessRules,
    outcome: Option<&crate::engine::rules::RulesOutcome>,
) {
    section(ui, "Overrides");
    let id_column = app
        .output
        .as_ref()
        .and_then(|o| crate::engine::pipeline::override_id_column(&o.spec, &o.result).map(str::to_string));
    if rules.overrides.is_empty() {
        ui.label(RichText::new("None yet.").weak());
    } else {
        egui::Grid::new("overrides-grid").striped(true).spacing([12.0, 4.0]).show(ui, |ui| {
            for header in ["Customer", "Segment", "Why", "", ""] {
                ui.strong(header);
            }
            ui.end_row();
            for (i, o) in rules.overrides.iter().enumerate() {
                ui.label(&o.customer);
                ui.label(&o.segment);
                ui.label(&o.why);
                match outcome.and_then(|out| out.overrides.get(i)) {
                    Some(e) if e.error.is_some() => {
                        ui.colored_label(ui.visuals().error_fg_color, e.error.clone().unwrap_or_default());
                    }
                    Some(e) if e.changed => {
                        ui.label("moved");
                    }
                    Some(_) => {
                        ui.label("already there");
                    }
                    None => {
                        ui.label("-");
                    }
                }
                if ui.button("Remove").clicked() {
                    let mut next = rules.clone();
                    next.overrides.remove(i);
                    edit(
                        app,
                        next,
                        format!("remove override: customer {} to '{}'", o.customer, o.segment),
                        o.why.clone(),
                    );
                }
                ui.end_row();
            }
        });
    }
    let names: Vec<String> = match app.output.clone() {
        Some(out) => (0..out.result.n_segments()).map(|s| app.segment_name_in(&out.result, s)).collect(),
        None => Vec::new(),
    };
    let mut command = None;
    let state = &mut app.view.rules;
    ui.horizontal(|ui| {
        let label = ui.label(match &id_column {
            Some(id) => format!("Customer ({id})"),
            None => "Customer (row number)".to_string(),
        });
        ui.add(egui::TextEdit::singleline(&mut state.customer).desired_width(120.0)).labelled_by(label.id);
        let segment_label = ui.label("to segment");
        ui.add(egui::TextEdit::singleline(&mut state.segment).desired_width(160.0).hint_text("name"))
            .labelled_by(segment_label.id);
        let combo = egui::ComboBox::from_id_salt("override-segment").selected_text("pick").show_ui(ui, |ui| {
            for name in &names {
                if ui.selectable_label(state.segment == *name, name).clicked() {
                    state.segment = name.clone();
                }
            }
        });
        crate::app::widgets::accessible_name(&combo.response, "Pick the segment");
        let why = ui.label("because");
        ui.add(egui::TextEdit::singleline(&mut state.override_why).desired_width(200.0).hint_text("required"))
            .labelled_by(why.id);
        let ok = !state.customer.trim().is_empty()
            && !state.segment.trim().is_empty()
            && !state.override_why.trim().is_empty();
        if ui
            .add_enabled(ok, egui::Button::new("Add override"))
            .on_disabled_hover_text("Give the customer, the segment and why")
            .clicked()
        {
            let o = Override {
                customer: state.customer.trim().to_string(),
                segment: state.segment.trim().to_string(),
                why: state.override_why.trim().to_string(),
            };
            let mut next = rules.clone();
            // One override per customer: a new one replaces the old.
            next.overrides.retain(|x| x.customer != o.customer);
            next.overrides.push(o.clone());
            state.customer.clear();
            state.override_why.clear();
            command = Some(Command::EditRules {
                rules: next,
                what: format!("override: customer {} to '{}'", o.customer, o.segment),
                why: o.why,
            });
        }
    });
    if let Some(command) = command {
        app.push(command);
    }
}

fn audit_ui(ui: &mut Ui, app: &mut StrataApp) {
    let Some(doc) = &app.doc else { return };
    section(ui, "Audit log");
    if doc.project.audit.is_empty() {
        ui.label(RichText::new("No change to the rules or overrides yet.").weak());
        return;
    }
    egui::Grid::new("audit-grid").striped(true).spacing([12.0, 4.0]).show(ui, |ui| {
        for header in ["When (UTC)", "Who", "What", "Why", "Customers moved"] {
            ui.strong(header);
        }
        ui.end_row();
        for (line, entry) in doc.project.audit.iter().enumerate().rev() {
            ui.label(entry.when.replace('T', " ").trim_end_matches('Z'));
            ui.label(&entry.who);
            ui.label(&entry.what);
            ui.label(&entry.why);
            match entry.customers {
                Some(n) => ui.label(crate::engine::governance::suppress::count_words(n, app.small_cells())),
                // Counted on a job: the rules go over every customer twice.
                None if app.is_audit_counting(line) => ui.label(RichText::new("counting...").weak()),
                None => ui.label("not counted (no run)"),
            };
            ui.end_row();
        }
    });
}

fn section(ui: &mut Ui, title: &str) {
    ui.separator();
    ui.label(RichText::new(title).strong().size(16.0));
}
