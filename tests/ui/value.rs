//! The Value screen on the demo: the fit, value per segment with its band, changing the horizon and
//! the rate (the figures follow), the diagnostics and the prioritisation view.

use super::*;

fn set_number(harness: &mut Harness<'static, StrataApp>, label: &str, value: &str) {
    let field = harness.get_by_label(label);
    field.focus();
    harness.run();
    harness.get_by_label(label).type_text(value);
    harness.key_press(egui::Key::Enter);
    harness.run();
}

fn value_spec(app: &StrataApp) -> strata::engine::value::ValueSpec {
    match &app.doc.as_ref().unwrap().project.spec.table {
        strata::engine::pipeline::TableKind::TransactionLog(t) => t.value.clone().expect("the demo computes value"),
        _ => panic!("the demo reads a transaction log"),
    }
}

fn total_value(app: &StrataApp) -> f64 {
    let out = app.output.as_ref().unwrap();
    out.summary.value_segments.as_ref().unwrap().iter().map(|s| s.total_value).sum()
}

#[test]
fn the_demo_shows_what_each_segment_is_worth_and_follows_the_horizon_and_the_rate() {
    let (mut harness, _) = demo();
    tab(&harness, Screen::Value);
    harness.run();
    harness.get_by_label("What each segment is worth");
    // The assumptions are named with the figures: the conversion of the annual rate to weeks.
    harness.get_by_label_contains("an annual discount rate of 10.00% is 0.1828% a week");
    harness.get_by_label("Segments by value");
    let app = harness.state();
    let out = app.output.as_ref().unwrap();
    let segments = out.summary.value_segments.clone().expect("value per segment");
    assert_eq!(segments.len(), out.result.n_segments());
    assert_eq!(segments.iter().map(|s| s.n_customers).sum::<usize>(), 23_570);
    let share: f64 = segments.iter().map(|s| s.value_share).sum();
    assert!((share - 1.0).abs() < 1e-9, "{share}");
    for s in &segments {
        assert!(s.value_per_customer_p10 <= s.value_per_customer_median + 1e-9);
        assert!(s.value_per_customer_median <= s.value_per_customer_p90 + 1e-9);
        // Each segment is shown under the project's name.
        harness.get_by_label(&segment_name(app, s.segment));
    }
    let before = total_value(app);

    // A longer horizon: more value; the project keeps the setting.
    set_number(&mut harness, "Horizon", "24");
    assert_eq!(value_spec(harness.state()).settings.horizon_months, 24);
    let longer = total_value(harness.state());
    assert!(longer > before * 1.3, "{longer} vs {before}");
    // A higher rate: less value, and the conversion shown follows.
    set_number(&mut harness, "Annual discount rate", "30");
    assert!((value_spec(harness.state()).settings.annual_discount_rate - 0.30).abs() < 1e-12);
    let discounted = total_value(harness.state());
    assert!(discounted < longer, "{discounted} vs {longer}");
    harness.get_by_label_contains("an annual discount rate of 30.00% is 0.5041% a week");
    // Undo brings the rate back.
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    harness.run();
    assert!((value_spec(harness.state()).settings.annual_discount_rate - 0.10).abs() < 1e-12);

    // The fitted models and their comparison.
    harness.get_by_label("Models").click();
    harness.run();
    harness.get_by_label("BG/NBD (reported)");
    assert!(harness.query_all_by_label("Pareto/NBD").count() >= 2, "its fit and its line in the comparison");
    harness.get_by_label_contains("has the lowest BIC");
    // The diagnostics: holdout groups, weekly tracking, the heatmap.
    harness.get_by_label("Diagnostics").click();
    harness.run();
    harness.get_by_label("Cumulative repeat purchases by week (calibration end marked)");
    harness.get_by_label_contains("a fit is not expected to match a holdout exactly");
    harness.get_by_label_contains("Probability alive by repeat purchases");
    harness.remove_cursor();
    harness.run();
    harness.snapshot("value_diagnostics");
    let map = &harness.state().output.as_ref().unwrap().result.value.as_ref().unwrap().heatmap;
    assert!(map.p_alive.len() <= 60 && map.p_alive[0].len() <= 60);
}

#[test]
fn the_prioritisation_view_ranks_segments_by_the_chosen_figure() {
    let (mut harness, _) = demo();
    tab(&harness, Screen::Value);
    harness.run();
    harness.get_by_label("Prioritise").click();
    harness.run();
    harness.get_by_label("Ranking by total value");
    // Growth needs the Over time windows: the view says so rather than showing nothing.
    harness.get_by_label("Rank by").click();
    harness.run();
    harness.get_by_label("growth (Over time)").click();
    harness.run();
    harness.get_by_label("Ranking by growth (Over time)");
    harness.get_by_label_contains("No growth (Over time) yet: follow the customers on the Over time screen");
    // Once the customers are followed, growth is known for every segment.
    tab(&harness, Screen::OverTime);
    harness.run();
    harness.get_by_label("Follow the customers").click();
    harness.run();
    tab(&harness, Screen::Value);
    harness.run();
    assert!(harness.query_by_label_contains("No growth (Over time) yet").is_none());
    let app = harness.state();
    let k = app.output.as_ref().unwrap().result.n_segments();
    let mut ranks = 0;
    for s in 0..k {
        if harness.query_all_by_label(&segment_name(app, s)).count() > 0 {
            ranks += 1;
        }
    }
    assert_eq!(ranks, k, "every segment is in the ranking");
    harness.remove_cursor();
    harness.run();
    harness.snapshot("value_prioritise");
}

#[test]
fn a_customer_table_project_says_value_needs_a_transaction_log() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("customers.csv");
    std::fs::write(&csv, four_groups_csv(80)).unwrap();
    let dialogs = ScriptedDialogs::new();
    let mut harness = harness(StartProject::File(csv), &dialogs);
    tab(&harness, Screen::Value);
    harness.run();
    harness.get_by_label_contains("Customer lifetime value needs a transaction log");
}
