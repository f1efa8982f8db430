//! The Review screen: what a reviewer needs to approve a shared project or send it back:
//! provenance and the stored segmentation (shown even without the data), the tamper-evident audit
//! log, the bias audit, comments and sign-off, disputes and opt-outs.

mod bias;

pub use bias::BiasView;

use eframe::egui::{self, RichText, Ui};

use crate::app::{Command, StrataApp};
use crate::engine::governance::audit;
use crate::engine::governance::review::{self as engine_review, pin_words, status_words};
use crate::engine::governance::{Decision, DisputeStatus, Pin, UnsignedPolicy, suppress};

/// A reviewer's act, done by the app (see `app/review.rs`).
#[derive(Clone, Debug, PartialEq)]
pub enum ReviewAction {
    /// A comment, or a reply to one.
    Comment {
        /// What it is about.
        pin: Pin,
        /// The words.
        text: String,
        /// The comment it answers.
        reply_to: Option<usize>,
    },
    /// Sign off the version shown.
    SignOff {
        /// The reviewer's role.
        role: String,
        /// Approve or request changes.
        decision: Decision,
        /// Why.
        comment: String,
    },
    /// File a dispute.
    Dispute {
        /// The customer's id.
        customer: String,
        /// The segment asked for.
        segment: String,
        /// Why.
        reason: String,
    },
    /// Approve or reject a dispute.
    Decide {
        /// Its number.
        id: usize,
        /// Approve (else reject).
        approve: bool,
        /// The decision's words.
        note: String,
    },
    /// Opt customers out (or back in).
    OptOut {
        /// Their ids.
        ids: Vec<String>,
        /// Back into targeting.
        remove: bool,
    },
    /// What exporting an unsigned version does.
    SetUnsigned(UnsignedPolicy),
}

/// The parts of the Review screen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReviewTab {
    /// Who made it, from what, with what; the stored segmentation.
    #[default]
    Provenance,
    /// The tamper-evident audit log.
    Audit,
    /// Segments against protected groups.
    Bias,
    /// Comments and sign-off.
    SignOff,
    /// Disputes and opt-outs.
    Disputes,
}

/// The forms of the Review screen, as typed.
#[derive(Default)]
pub struct ReviewForm {
    comment_on: usize,
    comment_text: String,
    reply_to: Option<usize>,
    role: String,
    signoff_comment: String,
    dispute_customer: String,
    dispute_segment: String,
    dispute_reason: String,
    decision_note: String,
    opt_out_ids: String,
}

/// Draws the Review screen.
pub fn review_ui(ui: &mut Ui, app: &mut StrataApp) {
    ui.horizontal_wrapped(|ui| {
        for (tab, label) in [
            (ReviewTab::Provenance, "Provenance"),
            (ReviewTab::Audit, "Audit log"),
            (ReviewTab::Bias, "Bias audit"),
            (ReviewTab::SignOff, "Comments and sign-off"),
            (ReviewTab::Disputes, "Disputes and opt-outs"),
        ] {
            ui.selectable_value(&mut app.view.review_tab, tab, label);
        }
    });
    ui.separator();
    egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| match app.view.review_tab {
        ReviewTab::Provenance => provenance_ui(ui, app),
        ReviewTab::Audit => audit_ui(ui, app),
        ReviewTab::Bias => bias::bias_ui(ui, app),
        ReviewTab::SignOff => signoff_ui(ui, app),
        ReviewTab::Disputes => disputes_ui(ui, app),
    });
}

fn heading(ui: &mut Ui, text: &str) {
    ui.add_space(8.0);
    ui.label(RichText::new(text).strong().size(16.0));
}

fn provenance_ui(ui: &mut Ui, app: &mut StrataApp) {
    let Some(doc) = &app.doc else { return };
    let project = &doc.project;
    let live = app.output.as_ref().is_some_and(|o| o.is_for(doc));
    if doc.review {
        ui.label(RichText::new("Open for review: read-only.").color(ui.visuals().warn_fg_color));
    }
    heading(ui, "Who made it");
    let mut makers: Vec<(String, String)> = Vec::new();
    for e in &project.audit {
        if !makers.iter().any(|(w, _)| *w == e.who) {
            makers.push((e.who.clone(), e.when.clone()));
        }
    }
    if makers.is_empty() {
        ui.label("The audit log is empty: no change has been logged.");
    }
    for (who, first) in &makers {
        let n = project.audit.iter().filter(|e| &e.who == who).count();
        let last = project.audit.iter().rev().find(|e| &e.who == who).map(|e| e.when.as_str()).unwrap_or("");
        ui.label(format!("{who}: {n} {} from {first} to {last}", if n == 1 { "entry" } else { "entries" }));
    }
    for s in &project.governance.signoffs {
        let decision = if s.decision == Decision::Approve { "approved" } else { "requested changes" };
        ui.label(format!(
            "{} ({}) {decision} version {} on {}",
            s.reviewer,
            s.role,
            audit::short(&s.version_hash),
            s.when
        ));
    }
    heading(ui, "Data");
    let sources = std::iter::once(("customers", &project.spec.source))
        .chain(project.spec.attributes.as_ref().map(|a| ("attributes", a)));
    for (what, source) in sources {
        let name = match &source.source {
            crate::engine::pipeline::DataSource::File(p) => p.clone(),
            crate::engine::pipeline::DataSource::DemoTransactions => "the built-in CDNOW log".to_string(),
            crate::engine::pipeline::DataSource::DemoAttributes => "the built-in synthetic attributes".to_string(),
        };
        let fingerprint = source.fingerprint.as_deref().map(audit::short).unwrap_or("none stored");
        ui.label(format!("{what}: {name}, fingerprint {fingerprint}"));
    }
    let matches = match (&doc.missing_source, &doc.fingerprint_warning, live) {
        (Some(missing), _, _) => format!("The data is not at hand: {missing}"),
        (None, Some(w), _) => format!("The data at hand differs: {w}"),
        (None, None, true) => "The data at hand matches the stored fingerprints.".to_string(),
        (None, None, false) => "The data has not been read yet.".to_string(),
    };
    ui.label(matches);
    heading(ui, "Verification");
    match (&doc.reproduced, live) {
        (Some(d), _) if d.is_empty() => {
            ui.label(
                "Re-run from the data: every stored result (assignment, sizes, centroids, indices) was reproduced.",
            );
        }
        (Some(d), _) => {
            ui.label(
                RichText::new(format!("Re-run from the data: {} not reproduced:", d.len()))
                    .color(ui.visuals().warn_fg_color),
            );
            for line in d {
                ui.label(format!("  {line}"));
            }
            ui.label(verify_reason(project));
        }
        (None, _) => {
            ui.label("Not re-run yet (the data is not at hand, or the run is under way).");
        }
    }
    heading(ui, "Recipe and model");
    ui.label(crate::app::describe_spec(&project.spec));
    let producer = &project.producer;
    ui.label(format!(
        "Written by Strata {} (polars {}, ndarray {}, rayon {}); this is Strata {}.",
        producer.strata,
        producer.polars,
        producer.ndarray,
        producer.rayon,
        env!("CARGO_PKG_VERSION")
    ));
    let head = audit::head(&project.audit);
    ui.label(format!("Audit head: {}", head));
    stored_ui(ui, app, live);
}

/// Why a re-run can differ, in words.
fn verify_reason(project: &crate::engine::project::Project) -> String {
    let this = crate::engine::project::Producer::current();
    if project.producer != this {
        format!(
            "Likely reason: another build wrote it (Strata {}, polars {}), whose arithmetic can differ; or the data changed.",
            project.producer.strata, project.producer.polars
        )
    } else {
        "Likely reason: the data changed since the project was saved (same Strata build).".to_string()
    }
}

/// The stored segmentation: shown whether or not the data is at hand.
fn stored_ui(ui: &mut Ui, app: &StrataApp, live: bool) {
    let Some(doc) = &app.doc else { return };
    let project = &doc.project;
    heading(ui, if live { "Stored segmentation" } else { "Stored segmentation (stored, not re-run)" });
    let Some(results) = &project.results else {
        ui.label("The project holds no stored results.");
        return;
    };
    let threshold = project.governance.small_cells;
    let sizes = suppress::line(&results.sizes, threshold);
    let (features, centroids) = engine_review::stored_centroids(results);
    egui::Grid::new("stored segments").striped(true).show(ui, |ui| {
        ui.label(RichText::new("Segment").strong());
        ui.label(RichText::new("Name").strong());
        ui.label(RichText::new("Customers").strong());
        for f in &features {
            ui.label(RichText::new(f).strong());
        }
        ui.label(RichText::new("Notes").strong());
        ui.end_row();
        for (s, cell) in sizes.iter().enumerate() {
            let note = project.segments.iter().find(|n| n.segment == s);
            ui.label((s + 1).to_string());
            ui.label(note.map(|n| n.name.as_str()).unwrap_or(""));
            ui.label(cell.text(threshold));
            let small = cell.count().is_none();
            for value in centroids.get(s).into_iter().flatten() {
                // A small segment's centre describes too few customers to show.
                ui.label(if small { "hidden" } else { value.as_str() });
            }
            let notes = note.map(|n| n.notes.as_str()).unwrap_or("");
            ui.label(notes.chars().take(80).collect::<String>());
            ui.end_row();
        }
    });
    let i = &results.indices;
    let fmt = |v: Option<f64>| v.map(|v| format!("{v:.4}")).unwrap_or_else(|| "-".to_string());
    ui.label(format!(
        "Indices: silhouette {}, Calinski-Harabasz {}, Davies-Bouldin {}, inertia {:.4}. Assignment fingerprint {}.",
        fmt(i.silhouette.as_ref().map(|s| s.mean)),
        fmt(i.calinski_harabasz),
        fmt(i.davies_bouldin),
        i.inertia,
        audit::short(&results.assignment_fingerprint)
    ));
    stored_value_ui(ui, project, results, live);
    if !project.rules.rules.is_empty() || !project.rules.overrides.is_empty() {
        heading(ui, "Rules and overrides");
        for (n, r) in project.rules.rules.iter().enumerate() {
            ui.label(format!(
                "{}. {}{}",
                n + 1,
                r.text,
                if r.why.is_empty() { String::new() } else { format!("  ({})", r.why) }
            ));
        }
        ui.label(format!("{} overrides", project.rules.overrides.len()));
    }
    if let Some(board) = &project.board {
        heading(ui, "SWOT board");
        for q in crate::engine::swot::Quadrant::ALL {
            let titles: Vec<String> = board.cards_in(q).map(|c| card_title(&c.subject, &project.segments)).collect();
            ui.label(format!("{}: {}", q.label(), if titles.is_empty() { "-".to_string() } else { titles.join(", ") }));
        }
    }
}

/// The stored value per segment: what the author saw, with its assumptions, whether or not the
/// log is at hand.
fn stored_value_ui(
    ui: &mut Ui,
    project: &crate::engine::project::Project,
    results: &crate::engine::project::StoredResults,
    live: bool,
) {
    let asks_value =
        matches!(&project.spec.table, crate::engine::pipeline::TableKind::TransactionLog(t) if t.value.is_some());
    let Some(value) = &results.value else {
        if asks_value {
            ui.label("The project asks for customer value, but its stored results hold no value figures (saved before they were stored); re-run it to see them.");
        }
        return;
    };
    heading(ui, if live { "Stored value per segment" } else { "Stored value per segment (stored, not re-run)" });
    ui.label(format!("{}.", value.assumptions()));
    ui.label(&value.conversion);
    ui.label(format!(
        "{}: {}; log-likelihood {:.2}. Gamma-Gamma: {}. {} customers, {} with a repeat purchase; log fingerprint {}.",
        value.model.label(),
        value.purchase.parameters_words(),
        value.purchase.log_likelihood,
        value.spend.parameters_words(),
        crate::engine::words::thousands(value.n_customers),
        crate::engine::words::thousands(value.n_repeat_customers),
        audit::short(&value.data_fingerprint)
    ));
    for issue in value.purchase.issues.iter().chain(&value.spend.issues) {
        ui.colored_label(ui.visuals().warn_fg_color, issue);
    }
    let threshold = project.governance.small_cells;
    let money = |v: f64| if v.is_finite() { format!("{v:.2}") } else { "-".to_string() };
    egui::Grid::new("stored value").striped(true).show(ui, |ui| {
        for h in [
            "Segment",
            "Name",
            "Customers",
            "Revenue",
            "Value per customer",
            "10-90%",
            "Total value",
            "Value share",
            "P(alive)",
        ] {
            ui.label(RichText::new(h).strong());
        }
        ui.end_row();
        for s in &value.segments {
            let note = project.segments.iter().find(|n| n.segment == s.segment);
            ui.label((s.segment + 1).to_string());
            ui.label(note.map(|n| n.name.as_str()).unwrap_or(""));
            if s.n_customers > 0 && s.n_customers < threshold {
                ui.label(format!("<{threshold}"));
                ui.end_row();
                continue;
            }
            ui.label(crate::engine::words::thousands(s.n_customers));
            ui.label(crate::engine::words::thousands_f64(s.revenue));
            ui.label(money(s.value_per_customer_median));
            ui.label(format!("{} - {}", money(s.value_per_customer_p10), money(s.value_per_customer_p90)));
            ui.label(crate::engine::words::thousands_f64(s.total_value));
            ui.label(crate::engine::swot::evidence::percent(s.value_share));
            ui.label(format!("{:.3}", s.p_alive));
            ui.end_row();
        }
    });
}

fn audit_ui(ui: &mut Ui, app: &mut StrataApp) {
    let Some(doc) = &app.doc else { return };
    let project = &doc.project;
    ui.label(RichText::new("Tamper-evident log").strong().size(16.0));
    ui.label(
        "Every change of who is in which segment or what it is called, every export, sign-off and threshold change \
         is an entry. Entries are chained by hash when the project is saved: an entry changed, deleted or inserted \
         breaks the chain, and the first broken entry is named. Tamper-evident is not tamper-proof: anyone who can \
         write the file can write a new log that chains; a log cut short or rewritten whole shows only against a head \
         kept elsewhere (each sign-off and export records the head and the count).",
    );
    let v = audit::verify_saved_part(project);
    let colour = if v.ok { ui.visuals().text_color() } else { ui.visuals().error_fg_color };
    ui.label(RichText::new(if v.ok { "Chain intact." } else { "Chain NOT intact." }).color(colour).strong());
    for line in v.problems.iter().chain(&v.checked) {
        ui.label(line);
    }
    let unsealed = project.audit.iter().filter(|e| !e.is_sealed()).count();
    if unsealed > 0 {
        ui.label(format!(
            "{unsealed} new {} will be sealed into the chain when the project is saved.",
            if unsealed == 1 { "entry" } else { "entries" }
        ));
    }
    ui.label(format!("Head: {}", v.head));
    ui.add_space(6.0);
    egui::Grid::new("audit entries").striped(true).show(ui, |ui| {
        for h in ["#", "When (UTC)", "Who", "Action", "What", "Before", "After", "Why", "Customers moved", "Hash"] {
            ui.label(RichText::new(h).strong());
        }
        ui.end_row();
        for (i, e) in project.audit.iter().enumerate() {
            ui.label(if e.seq > 0 { e.seq.to_string() } else { format!("({})", i + 1) });
            ui.label(&e.when);
            ui.label(&e.who);
            ui.label(&e.action);
            ui.label(&e.what);
            ui.label(&e.before);
            ui.label(&e.after);
            ui.label(&e.why);
            ui.label(e.customers.map(|c| c.to_string()).unwrap_or_default());
            ui.label(if e.is_sealed() { audit::short(&e.hash).to_string() } else { "not sealed yet".to_string() });
            ui.end_row();
        }
    });
}

/// A card's title with the project's names.
fn card_title(subject: &crate::engine::swot::Subject, notes: &[crate::engine::naming::SegmentNote]) -> String {
    let name = |s: usize| {
        notes.iter().find(|n| n.segment == s).map_or_else(|| format!("Segment {}", s + 1), |n| n.name.clone())
    };
    crate::engine::swot::decisions::card_title(subject, &name)
}

fn pins(app: &StrataApp) -> Vec<Pin> {
    let mut pins = vec![Pin::Project];
    if let Some(doc) = &app.doc {
        pins.extend(doc.project.segments.iter().map(|n| Pin::Segment(n.name.clone())));
        pins.extend(["elbow", "silhouette", "profiles", "projection"].map(|c| Pin::Chart(c.to_string())));
        pins.extend(doc.project.rules.rules.iter().map(|r| Pin::Rule(r.text.clone())));
        if let Some(board) = &doc.project.board {
            for q in crate::engine::swot::Quadrant::ALL {
                pins.extend(board.cards_in(q).map(|c| Pin::SwotItem(card_title(&c.subject, &doc.project.segments))));
            }
        }
    }
    pins
}

fn signoff_ui(ui: &mut Ui, app: &mut StrataApp) {
    let Some(doc) = &app.doc else { return };
    let governance = doc.project.governance.clone();
    let version = app.version_hash().unwrap_or_default();
    let actor = app.audit_name();
    heading(ui, "Sign-off");
    ui.label(format!(
        "Version {} (its definition and assignment). You sign as {actor} (Edit > Your name).",
        audit::short(&version)
    ));
    match governance.signoff_of(&version) {
        Some(s) => {
            let decision = if s.decision == Decision::Approve { "Approved" } else { "Changes requested" };
            ui.label(
                RichText::new(format!("{decision} by {} ({}) on {}: {}", s.reviewer, s.role, s.when, s.comment))
                    .strong(),
            );
        }
        None => {
            ui.label("No reviewer has signed this version.");
        }
    }
    let form = &mut app.view.review_form;
    ui.horizontal(|ui| {
        let label = ui.label("Role");
        ui.add(egui::TextEdit::singleline(&mut form.role).hint_text("Data protection officer").desired_width(220.0))
            .labelled_by(label.id);
    });
    let label = ui.label("Sign-off comment");
    ui.add(
        egui::TextEdit::multiline(&mut form.signoff_comment).hint_text("Required to request changes").desired_rows(2),
    )
    .labelled_by(label.id);
    let mut action = None;
    ui.horizontal(|ui| {
        if ui.button("Approve").clicked() {
            action = Some(Decision::Approve);
        }
        if ui.button("Request changes").clicked() {
            action = Some(Decision::RequestChanges);
        }
    });
    if let Some(decision) = action {
        let form = &mut app.view.review_form;
        let comment = std::mem::take(&mut form.signoff_comment);
        let role = form.role.clone();
        app.push(Command::Review(ReviewAction::SignOff { role, decision, comment }));
    }
    ui.horizontal(|ui| {
        ui.label("Exporting or scoring an unsigned version:");
        for (policy, label) in
            [(UnsignedPolicy::Allow, "allow"), (UnsignedPolicy::Warn, "warn"), (UnsignedPolicy::Block, "block")]
        {
            if ui.selectable_label(governance.unsigned == policy, label).clicked() && governance.unsigned != policy {
                app.push(Command::Review(ReviewAction::SetUnsigned(policy)));
            }
        }
    });
    for s in governance.signoffs.iter().rev() {
        let decision = if s.decision == Decision::Approve { "approved" } else { "requested changes" };
        ui.label(
            RichText::new(format!(
                "{} {} ({}) {decision} version {}: {} [audit head {} at {} entries]",
                s.when,
                s.reviewer,
                s.role,
                audit::short(&s.version_hash),
                s.comment,
                audit::short(&s.audit_head),
                s.audit_count
            ))
            .small(),
        );
    }
    heading(ui, "Comments");
    let pins = pins(app);
    let form = &mut app.view.review_form;
    form.comment_on = form.comment_on.min(pins.len().saturating_sub(1));
    ui.horizontal(|ui| {
        let label = ui.label("Comment on");
        egui::ComboBox::from_id_salt("comment on")
            .selected_text(pin_words(&pins[form.comment_on]))
            .show_ui(ui, |ui| {
                for (i, pin) in pins.iter().enumerate() {
                    ui.selectable_value(&mut form.comment_on, i, pin_words(pin));
                }
            })
            .response
            .labelled_by(label.id);
    });
    if let Some(parent) = form.reply_to {
        ui.horizontal(|ui| {
            ui.label(format!("Replying to comment {parent}"));
            if ui.small_button("Cancel reply").clicked() {
                form.reply_to = None;
            }
        });
    }
    let label = ui.label("Comment");
    ui.add(egui::TextEdit::multiline(&mut form.comment_text).desired_rows(2)).labelled_by(label.id);
    if ui.add_enabled(!form.comment_text.trim().is_empty(), egui::Button::new("Add comment")).clicked() {
        let text = std::mem::take(&mut form.comment_text);
        let reply_to = form.reply_to.take();
        let pin = pins[form.comment_on].clone();
        app.push(Command::Review(ReviewAction::Comment { pin, text, reply_to }));
    }
    let mut reply = None;
    for c in governance.comments.iter().filter(|c| c.reply_to.is_none()) {
        ui.separator();
        ui.label(RichText::new(format!("{}. {} on {} ({})", c.id, c.author, pin_words(&c.pin), c.when)).strong());
        ui.label(&c.text);
        for r in governance.comments.iter().filter(|r| r.reply_to == Some(c.id)) {
            ui.indent(("reply", r.id), |ui| {
                ui.label(RichText::new(format!("{}. {} ({})", r.id, r.author, r.when)).small());
                ui.label(&r.text);
            });
        }
        if ui.small_button(format!("Reply to {}", c.id)).clicked() {
            reply = Some(c.id);
        }
    }
    if reply.is_some() {
        app.view.review_form.reply_to = reply;
    }
}

fn disputes_ui(ui: &mut Ui, app: &mut StrataApp) {
    let Some(doc) = &app.doc else { return };
    let governance = doc.project.governance.clone();
    let names: Vec<String> = doc.project.segments.iter().map(|n| n.name.clone()).collect();
    let actor = app.audit_name();
    heading(ui, "Disputes");
    ui.label(format!(
        "A customer who questions their segment: the override it asks for applies only when someone other than \
         the requester approves it. You act as {actor}."
    ));
    let form = &mut app.view.review_form;
    ui.horizontal(|ui| {
        let label = ui.label("Customer id");
        ui.add(egui::TextEdit::singleline(&mut form.dispute_customer).desired_width(120.0)).labelled_by(label.id);
        egui::ComboBox::from_label("asks for")
            .selected_text(if form.dispute_segment.is_empty() { "a segment" } else { form.dispute_segment.as_str() })
            .show_ui(ui, |ui| {
                for n in &names {
                    ui.selectable_value(&mut form.dispute_segment, n.clone(), n);
                }
            });
    });
    ui.horizontal(|ui| {
        let label = ui.label("Reason");
        ui.add(egui::TextEdit::singleline(&mut form.dispute_reason).desired_width(400.0)).labelled_by(label.id);
    });
    let ready = !form.dispute_customer.trim().is_empty()
        && !form.dispute_segment.is_empty()
        && !form.dispute_reason.trim().is_empty();
    if ui.add_enabled(ready, egui::Button::new("File dispute")).clicked() {
        let action = ReviewAction::Dispute {
            customer: std::mem::take(&mut form.dispute_customer),
            segment: form.dispute_segment.clone(),
            reason: std::mem::take(&mut form.dispute_reason),
        };
        app.push(Command::Review(action));
    }
    let mut decided = None;
    egui::Grid::new("disputes").striped(true).show(ui, |ui| {
        for h in ["#", "Customer", "Asks for", "Requester", "Reason", "Status", ""] {
            ui.label(RichText::new(h).strong());
        }
        ui.end_row();
        for d in &governance.disputes {
            ui.label(d.id.to_string());
            ui.label(&d.customer);
            ui.label(&d.segment);
            ui.label(&d.requester);
            ui.label(&d.reason);
            let by = d.decided_by.as_deref().map(|b| format!(" by {b}")).unwrap_or_default();
            ui.label(format!("{}{by}", status_words(d.status)));
            if d.status == DisputeStatus::Pending {
                let own = d.requester.trim().eq_ignore_ascii_case(actor.trim());
                ui.horizontal(|ui| {
                    let why = "The requester cannot decide their own dispute";
                    if ui.add_enabled(!own, egui::Button::new("Approve")).on_disabled_hover_text(why).clicked() {
                        decided = Some((d.id, true));
                    }
                    if ui.add_enabled(!own, egui::Button::new("Reject")).on_disabled_hover_text(why).clicked() {
                        decided = Some((d.id, false));
                    }
                });
            } else {
                ui.label(&d.decision_note);
            }
            ui.end_row();
        }
    });
    ui.horizontal(|ui| {
        let label = ui.label("Decision note");
        ui.add(
            egui::TextEdit::singleline(&mut app.view.review_form.decision_note)
                .hint_text("Required to reject")
                .desired_width(400.0),
        )
        .labelled_by(label.id);
    });
    if let Some((id, approve)) = decided {
        let note = std::mem::take(&mut app.view.review_form.decision_note);
        app.push(Command::Review(ReviewAction::Decide { id, approve, note }));
    }
    heading(ui, "Opt-outs");
    ui.label(format!(
        "{} opted out. They keep their segment for reporting, are marked opted_out in every export and left out of \
         target lists. Ids are stored hashed, never in clear.",
        governance.opt_outs.hashed_ids.len()
    ));
    let form = &mut app.view.review_form;
    let label = ui.label("Customer ids to opt out");
    ui.add(
        egui::TextEdit::multiline(&mut form.opt_out_ids).hint_text("One per line or comma-separated").desired_rows(3),
    )
    .labelled_by(label.id);
    let ids: Vec<String> =
        form.opt_out_ids.split([',', '\n']).map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
    let mut act = None;
    ui.horizontal(|ui| {
        if ui.add_enabled(!ids.is_empty(), egui::Button::new("Opt out")).clicked() {
            act = Some(false);
        }
        if ui.add_enabled(!ids.is_empty(), egui::Button::new("Back into targeting")).clicked() {
            act = Some(true);
        }
    });
    if let Some(remove) = act {
        app.view.review_form.opt_out_ids.clear();
        app.push(Command::Review(ReviewAction::OptOut { ids, remove }));
    }
}
