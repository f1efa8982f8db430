//! Reviewer mode: a project opened for review cannot be changed through any command, shortcut or
//! menu; comments and a sign-off made on the Review screen survive save and reopen.

use super::*;
use strata::app::DocState;

fn demo_file(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("shared.strata");
    std::fs::write(&path, strata::engine::DEMO_PROJECT).unwrap();
    path
}

fn opened_for_review(path: &Path) -> Harness<'static, StrataApp> {
    let mut harness = harness(StartProject::Review(path.to_path_buf()), &ScriptedDialogs::new());
    step_until(&mut harness, "the project", |app| app.doc.is_some() && app.output.is_some());
    harness
}

#[test]
fn a_project_open_for_review_cannot_be_changed() {
    let dir = tempfile::tempdir().unwrap();
    let path = demo_file(dir.path());
    let mut harness = opened_for_review(&path);
    let doc = harness.state().doc.as_ref().unwrap();
    assert!(doc.review);
    let state = DocState::of(&doc.project);
    let audit = doc.project.audit.len();
    assert!(harness.query_all_by_label_contains("Open for review: read-only").count() >= 1);

    // Typing a new name into a segment card.
    tab(&harness, Screen::Segments);
    harness.run();
    let field = harness.get_by_label("Segment 1 name");
    field.focus();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness.get_by_label("Segment 1 name").type_text("Renamed by a reviewer");
    harness.key_press(egui::Key::Enter);
    harness.run();
    // Shortcuts: undo, redo, a screen's k.
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    harness.key_press_modifiers(egui::Modifiers::COMMAND | egui::Modifiers::SHIFT, egui::Key::Z);
    harness.run();
    // Menus: Edit > Undo is there and does nothing.
    harness.get_by_label("Edit").click();
    harness.run();
    if let Some(undo) = harness.query_all_by_label_contains("Undo").next() {
        undo.click();
    }
    harness.run();
    // Every command that changes the segmentation, pushed as the screens push them.
    let spec = harness.state().doc.as_ref().unwrap().project.spec.clone();
    let mut other_k = spec.clone();
    other_k.model.algorithm.set_k(3);
    for command in [
        Command::EditSpec { spec: Box::new(other_k), what: "k".into() },
        Command::SelectK(3),
        Command::RenameSegment { segment: 0, name: "X".into() },
        Command::EditRules {
            rules: strata::engine::rules::BusinessRules {
                rules: vec![strata::engine::rules::BusinessRule {
                    text: "when frequency > 5 then segment \"V\"".into(),
                    why: String::new(),
                }],
                overrides: Vec::new(),
            },
            what: "add rule".into(),
            why: String::new(),
        },
        Command::SetLowPriority { segment: 0, low_priority: true },
        Command::EditSegmentNotes { segment: 0, notes: "x".into() },
        Command::Undo,
        Command::Redo,
    ] {
        harness.state_mut().push(command);
        harness.run();
    }
    let doc = harness.state().doc.as_ref().unwrap();
    assert_eq!(DocState::of(&doc.project), state, "the project changed while open for review");
    assert_eq!(doc.project.audit.len(), audit);
    assert!(!doc.is_dirty());
    assert_eq!(k_of(harness.state()), 5);
}

#[test]
fn comments_and_a_signoff_survive_save_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = demo_file(dir.path());
    let mut harness = opened_for_review(&path);
    harness.state_mut().push(Command::SetAuditName("Rui".into()));
    harness.run();
    tab(&harness, Screen::Review);
    harness.run();
    harness.get_by_label("Comments and sign-off").click();
    harness.run();
    harness.get_by_role_and_label(Role::MultilineTextInput, "Comment").focus();
    harness.get_by_role_and_label(Role::MultilineTextInput, "Comment").type_text("Why is segment 5 so small?");
    harness.run();
    harness.get_by_label("Add comment").click();
    harness.run();
    let signed_before = harness.state().doc.as_ref().unwrap().project.governance.signoffs.len();
    harness.get_by_label("Approve").click();
    harness.run();
    let doc = harness.state().doc.as_ref().unwrap();
    assert_eq!(doc.project.governance.comments.len(), 1, "{:?}", harness.state().last_error);
    assert_eq!(doc.project.governance.signoffs.len(), signed_before + 1, "{:?}", harness.state().last_error);
    assert!(doc.is_dirty());
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::S);
    step_until(&mut harness, "the save", |app| !app.doc.as_ref().unwrap().is_dirty());

    let reopened = strata::engine::project::open(&path).unwrap().project;
    assert_eq!(reopened.governance.comments[0].text, "Why is segment 5 so small?");
    assert_eq!(reopened.governance.comments[0].author, "Rui");
    let signoff = reopened.governance.signoffs.last().unwrap();
    assert_eq!((signoff.reviewer.as_str(), signoff.decision), ("Rui", strata::engine::governance::Decision::Approve));
    let verified = strata::engine::governance::audit::verify(&reopened, None);
    assert!(verified.ok, "{:?}", verified.problems);
    // The window shows them again.
    let mut harness = opened_for_review(&path);
    tab(&harness, Screen::Review);
    harness.run();
    harness.get_by_label("Comments and sign-off").click();
    harness.run();
    harness.get_by_label_contains("Approved by Rui");
    harness.get_by_label("Why is segment 5 so small?");
    harness.state_mut().push(Command::Show(Screen::Review));
    harness.run();
}

#[test]
fn an_export_writes_its_provenance_beside_it_only_once_the_file_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let (mut harness, dialogs) = demo();
    // A file that is written: its provenance names the log's head and count after the export entry.
    let csv = dir.path().join("assignments.csv");
    dialogs.answer(&csv);
    harness.get_by_label("Export assignments...").click();
    harness.run();
    harness.run();
    harness.get_by_label_contains("assignments of 23,570 customers written to");
    let sidecar = dir.path().join("assignments.csv.audit.json");
    let provenance: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&sidecar).unwrap()).unwrap();
    let log = &harness.state().doc.as_ref().unwrap().project.audit;
    assert_eq!(provenance["audit_head"], log.last().unwrap().hash.as_str());
    assert_eq!(provenance["audit_count"].as_u64().unwrap() as usize, log.len());

    // A file that cannot be written (its folder does not exist): an error, and no provenance
    // claiming a file that is not there.
    let missing = dir.path().join("no such folder").join("assignments.csv");
    dialogs.answer(&missing);
    harness.get_by_label("Export assignments...").click();
    harness.run();
    harness.run();
    assert!(harness.query_all_by_label_contains("Could not export the assignments").count() >= 1);
    assert!(!dir.path().join("no such folder").join("assignments.csv.audit.json").exists());
}

/// Every tab of the Review screen draws with every input named for a screen reader (the harness
/// fails on an unnamed one) and shows what it is for.
#[test]
fn every_review_tab_shows_and_names_its_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = opened_for_review(&demo_file(dir.path()));
    tab(&harness, Screen::Review);
    harness.run();
    for (tab_label, shows) in [
        ("Provenance", "Stored value per segment"),
        ("Audit log", "Chain intact."),
        ("Bias audit", "Group customers by:"),
        ("Comments and sign-off", "Approved by Rui Costa"),
        ("Disputes and opt-outs", "Customer ids to opt out"),
    ] {
        harness.get_by_label(tab_label).click();
        harness.run();
        harness.run();
        assert!(harness.query_all_by_label_contains(shows).count() >= 1, "{tab_label}: {shows}");
    }
    harness.get_by_label("Customer id").focus();
    harness.get_by_label("Customer id").type_text("00042");
    harness.run();
    assert_eq!(harness.get_by_label("Customer id").value().as_deref(), Some("00042"));
}

#[test]
fn a_reviewer_without_the_log_sees_the_stored_value_per_segment_and_its_assumptions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.strata");
    // The author's log is not beside the file: nothing can be re-run.
    let text = strata::engine::DEMO_PROJECT.replacen("source: DemoTransactions,", "source: File(\"cdnow.txt\"),", 1);
    std::fs::write(&path, text).unwrap();
    let mut harness = harness(StartProject::Review(path.clone()), &ScriptedDialogs::new());
    step_until(&mut harness, "the project", |app| app.doc.is_some());
    for _ in 0..20 {
        harness.run();
    }
    assert!(harness.state().output.is_none(), "nothing was re-run");
    tab(&harness, Screen::Review);
    harness.run();
    harness.get_by_label("Provenance").click();
    harness.run();
    harness.run();
    assert!(harness.query_all_by_label_contains("Stored value per segment (stored, not re-run)").count() == 1);
    assert!(
        harness
            .query_all_by_label_contains(
                "BG/NBD and Gamma-Gamma fitted on 1997-01-01 to 1997-09-30 in weeks; value over 12 month(s), discounted at 10% a year, margin 30%"
            )
            .count()
            == 1
    );
    assert!(harness.query_all_by_label_contains("0.1828% a week").count() >= 1);
    // The segments under the author's names, with the figures the file stores.
    let value = harness.state().doc.as_ref().unwrap().project.results.as_ref().unwrap().value.clone().unwrap();
    let best = &value.segments[4];
    assert!(harness.query_all_by_label(&format!("{:.2}", best.value_per_customer_median)).count() >= 1);
    assert!(harness.query_all_by_label("Best customers").count() >= 1);
}
