//! The bias audit on the Review screen: the demo's sensitive columns are ticked, the audit shows
//! its tables with flags, and it is made once per choice of columns, not every frame.

use super::*;
use egui_kittest::kittest::NodeT;

#[test]
fn the_demo_audits_its_sensitive_columns_and_remakes_the_audit_only_when_the_choice_changes() {
    let (mut harness, _) = demo();
    // The tenth tab, Ctrl+0.
    harness.get_by_label("0  Review").click();
    harness.run();
    harness.get_by_label("Bias audit").click();
    harness.run();
    // The project's sensitive columns are ticked; the id is no candidate.
    for column in ["age_group", "region"] {
        let checkbox = harness.get_by_role_and_label(Role::CheckBox, column);
        assert_eq!(checkbox.accesskit_node().toggled(), Some(egui::accesskit::Toggled::True), "{column}");
    }
    assert!(harness.query_by_role_and_label(Role::CheckBox, "customer_id").is_none());
    harness.get_by_label_contains("age_group: 6 groups,");
    harness.get_by_label_contains("age_group x region: 24 groups");
    assert!(harness.query_all_by_label("FLAG").count() > 0, "flagged rows are marked");
    harness.get_by_label_contains("four-fifths rule");
    let made = harness.state().view.bias.audits_made;
    harness.run();
    harness.run();
    assert_eq!(harness.state().view.bias.audits_made, made, "not made again while nothing changed");

    // Untick region: only age group is left, audited again once.
    harness.get_by_role_and_label(Role::CheckBox, "region").click();
    harness.run();
    harness.run();
    assert_eq!(harness.state().view.bias.audits_made, made + 1);
    assert!(harness.query_by_label_contains("region: 4 groups").is_none());
    assert!(harness.query_by_label_contains("age_group x region").is_none());
}
