//! The Data screen's Privacy section: the small-cell threshold changes what the cards show, and
//! every change of it, lowering above all, is in the audit log.

use super::*;

fn set_threshold(harness: &mut Harness<'static, StrataApp>, value: &str) {
    tab(harness, Screen::Data);
    harness.run();
    let field = harness.get_by_label("Small-cell threshold");
    field.focus();
    harness.run();
    harness.get_by_label("Small-cell threshold").type_text(value);
    harness.key_press(egui::Key::Enter);
    harness.run();
}

fn last_entry(app: &StrataApp) -> strata::engine::governance::audit::AuditEntry {
    app.doc.as_ref().unwrap().project.audit.last().cloned().unwrap()
}

#[test]
fn a_raised_threshold_hides_a_small_segment_on_its_card_and_lowering_it_is_logged() {
    let (mut harness, _) = demo();
    // A rule makes a segment of a few dozen heavy buyers: shown as it is at the default threshold.
    let rules = strata::engine::rules::BusinessRules {
        rules: vec![strata::engine::rules::BusinessRule {
            text: "when frequency > 40 then segment \"Heavy buyers\"".into(),
            why: "test".into(),
        }],
        overrides: Vec::new(),
    };
    harness.state_mut().push(Command::EditRules { rules, what: "add rule 1".into(), why: "test".into() });
    harness.run();
    tab(&harness, Screen::Segments);
    harness.run();
    let summary = &harness.state().output.as_ref().unwrap().summary;
    let heavy = summary.profiles.last().unwrap().size;
    assert!((10..50).contains(&heavy), "heavy buyers: {heavy}");
    harness.get_by_label_contains(&format!("{heavy} customers, "));

    // Raised to 50: the card says "<50", the segment beside it in size hides its size, and the
    // change is an entry of the audit log.
    set_threshold(&mut harness, "50");
    let app = harness.state();
    assert_eq!(app.doc.as_ref().unwrap().project.governance.small_cells, 50);
    let entry = last_entry(app);
    assert_eq!((entry.action.as_str(), entry.before.as_str(), entry.after.as_str()), ("threshold", "10", "50"));
    assert!(app.doc.as_ref().unwrap().is_dirty(), "a logged change is a change to save");
    harness.get_by_label_contains("Counts of 1 to 49 customers show as \"<50\"");
    tab(&harness, Screen::Segments);
    harness.run();
    harness.get_by_label("<50 customers: too few to show its figures");
    harness.get_by_label("Size hidden");
    assert!(harness.query_by_label_contains(&format!("{heavy} customers, ")).is_none());

    // Lowered to 5: said in the entry's words, and the count is back.
    set_threshold(&mut harness, "5");
    let entry = last_entry(harness.state());
    assert_eq!(entry.what, "small-cell threshold lowered from 50 to 5");
    assert_eq!((entry.before.as_str(), entry.after.as_str()), ("50", "5"));
    tab(&harness, Screen::Segments);
    harness.run();
    harness.get_by_label_contains(&format!("{heavy} customers, "));
    assert!(harness.query_by_label("Size hidden").is_none());
}

#[test]
fn the_privacy_section_lists_the_columns_nothing_uses_and_minimisation_is_logged() {
    let (mut harness, _) = demo();
    tab(&harness, Screen::Data);
    harness.run();
    // The demo log's quantity column is read but used by nothing.
    harness.get_by_label_contains("Loaded but unused: ");
    // The section is at the foot of the settings panel: scrolled to, as a person would.
    harness.get_by_label("Keep unused columns out").scroll_to_me();
    harness.run();
    harness.get_by_label("Keep unused columns out").click();
    harness.run();
    let app = harness.state();
    assert!(app.doc.as_ref().unwrap().project.governance.minimise);
    let entry = last_entry(app);
    assert_eq!((entry.action.as_str(), entry.before.as_str(), entry.after.as_str()), ("minimise", "off", "on"));
    harness.get_by_label_contains("Loaded but unused, kept out: ");
}
