//! First guesses on real-shaped tables (a wide table, a booking log) and the Features screen for
//! wide tables: search, select all/none, grouped warnings that scroll and never cover the controls.

use super::*;

fn features_of(app: &StrataApp) -> Vec<String> {
    app.doc.as_ref().unwrap().project.spec.recipe.features.iter().map(|f| f.column.clone()).collect()
}

/// A row key, then 86 measures; every fourth is a rescaled copy of the one before (r = 1).
fn wide_csv(dir: &Path) -> std::path::PathBuf {
    let n = 240;
    let mut text = String::from("rownames");
    for j in 0..86 {
        text.push_str(&format!(",M{j:02}"));
    }
    text.push('\n');
    for i in 0..n {
        text.push_str(&format!("{}", i + 1));
        for j in 0..86usize {
            let base = if j % 4 == 3 { j - 1 } else { j };
            let v = ((i * (base + 3) * 7919) % 97) as f64 + ((i * (base + 5)) % 13) as f64 + (i % 3) as f64 * 40.0;
            let v = if j % 4 == 3 { 2.0 * v + 1.0 } else { v };
            text.push_str(&format!(",{v}"));
        }
        text.push('\n');
    }
    let path = dir.join("wide.csv");
    std::fs::write(&path, text).unwrap();
    path
}

/// Steps until a tooltip containing `text` shows (tooltips wait for the pointer to rest).
fn wait_for_tooltip(harness: &mut Harness<'static, StrataApp>, text: &str) {
    for _ in 0..200 {
        if harness.query_by_label_contains(text).is_some() {
            return;
        }
        harness.step();
    }
    panic!("no tooltip with {text:?}");
}

fn open_dropped(path: std::path::PathBuf) -> Harness<'static, StrataApp> {
    let mut harness = harness(StartProject::Empty, &ScriptedDialogs::new());
    harness.input_mut().dropped_files.push(std::sync::Arc::new(Dropped(path)));
    harness.run();
    harness
}

#[test]
fn a_wide_table_opens_on_a_dozen_unredundant_features_that_say_why_and_undo_in_one_click() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = open_dropped(wide_csv(dir.path()));
    let first_guess = features_of(harness.state());
    assert!((6..=12).contains(&first_guess.len()), "{first_guess:?}");
    assert!(!first_guess.contains(&"rownames".to_string()));
    assert!(harness.state().output.is_some(), "{:?}", harness.state().last_error);
    harness.get_by_label_contains("of 87 columns proposed as features");

    tab(&harness, Screen::Features);
    harness.run();
    harness.get_by_label_contains(&format!("{} of 86 columns used", first_guess.len()));
    // The reason is the checkbox's tooltip.
    // The row key is the table's id, not a feature; a column that is a copy of another (M03 is
    // 2 x M02 + 1) is offered but not proposed, and says why.
    assert!(harness.query_by_label("rownames").is_none());
    harness.get_by_label("M03").hover();
    wait_for_tooltip(&mut harness, "Not proposed");

    // Search, then select all and none of what the search shows.
    harness.get_by_role_and_label(Role::TextInput, "Search").click();
    harness.run();
    harness.get_by_role_and_label(Role::TextInput, "Search").type_text("M1");
    harness.run();
    let used: Vec<String> = harness.query_all_by_label_contains("columns used").map(|n| format!("{:?}", n)).collect();
    assert!(used.iter().any(|l| l.contains("10 shown")), "{used:?}");
    harness.get_by_label("Select all").click();
    harness.run();
    let features = features_of(harness.state());
    assert!((10..20).all(|j| features.contains(&format!("M{j}"))), "{features:?}");
    harness.get_by_label("Select none").click();
    harness.run();
    let features = features_of(harness.state());
    assert!(!features.iter().any(|f| f.starts_with("M1")), "{features:?}");
    assert!(features.iter().all(|f| first_guess.contains(f)));

    // Undo of one click brings the M1x columns back; "Suggested" returns to the first guess.
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    harness.run();
    assert!(features_of(harness.state()).contains(&"M15".to_string()));
    harness.get_by_label("Suggested").click();
    harness.run();
    assert_eq!(features_of(harness.state()), first_guess);
}

#[test]
fn every_column_of_a_wide_table_groups_its_warnings_in_a_panel_that_leaves_the_controls_clickable() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = open_dropped(wide_csv(dir.path()));
    tab(&harness, Screen::Features);
    harness.run();
    harness.get_by_label("Select all").click();
    harness.run();
    // The row key is the customer id, so 86 columns are offered.
    assert_eq!(features_of(harness.state()).len(), 86);
    assert!(harness.state().output.is_some(), "{:?}", harness.state().last_error);
    // One line for dozens of pairs, opened on a click.
    let m = &harness.state().output.as_ref().unwrap().result.multicollinearity;
    let n_pairs = (0..m.names.len())
        .flat_map(|a| (a + 1..m.names.len()).map(move |b| (a, b)))
        .filter(|&(a, b)| m.correlation[a][b].abs() >= 0.9)
        .count();
    assert!(n_pairs >= 20, "{n_pairs}");
    harness
        .get_by_label(&format!("{n_pairs} pairs with |r| \u{2265} 0.9: each pair weighs double in the distance"))
        .click();
    harness.run();
    harness.get_by_label_contains("M02 and M03: r = 1.00");
    // The opened list scrolls inside the panel: the recipe controls keep their place and work.
    let window = harness.ctx.content_rect();
    let scaling = harness.get_by_label("Use this scaling for every feature");
    assert!(window.contains_rect(scaling.rect()), "{:?} outside {window:?}", scaling.rect());
    let panel_top = harness.get_by_label("Correlations").rect().top();
    assert!(scaling.rect().bottom() < panel_top, "the recipe controls sit above the correlations");
    harness.get_by_label("Select none").click();
    harness.run();
    assert!(features_of(harness.state()).is_empty());
}

fn booking_csv(dir: &Path, with_guest: bool) -> std::path::PathBuf {
    let kinds = ["Transient", "Contract", "Group", "Transient-Party"];
    let mut text = String::from(if with_guest {
        "booking_id,customer_type,arrival_date,price,guest_ref\n"
    } else {
        "booking_id,customer_type,arrival_date,price\n"
    });
    for i in 0..400 {
        text.push_str(&format!(
            "B{i:05},{},2024-{:02}-{:02},{}.5",
            kinds[i % 4],
            1 + i % 12,
            1 + i % 28,
            40 + (i * 31) % 200
        ));
        if with_guest {
            text.push_str(&format!(",G-{:03}", (i * 7) % 80));
        }
        text.push('\n');
    }
    let path = dir.join(if with_guest { "bookings_guests.csv" } else { "bookings.csv" });
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_booking_log_takes_its_many_valued_guest_id_never_the_four_value_customer_type() {
    let dir = tempfile::tempdir().unwrap();
    let harness = open_dropped(booking_csv(dir.path(), true));
    let app = harness.state();
    match &app.doc.as_ref().unwrap().project.spec.table {
        strata::engine::pipeline::TableKind::TransactionLog(t) => assert_eq!(t.customer_id, "guest_ref"),
        other => panic!("read as {other:?}"),
    }
    assert!(app.output.is_some(), "{:?}", app.last_error);

    // Without a guest id no column qualifies: one clear line, and the rows are the customers.
    let harness = open_dropped(booking_csv(dir.path(), false));
    let app = harness.state();
    let spec = &app.doc.as_ref().unwrap().project.spec;
    assert_eq!(spec.id_column(), Some("booking_id"));
    assert!(app.last_error.is_none(), "{:?}", app.last_error);
    let why = &app.preview.as_ref().unwrap().suggestions.id.reason;
    assert!(
        why.contains("'customer_type' has 4 values") && why.contains("'booking_id' has one value per row"),
        "{why}"
    );
    let mut harness = harness;
    tab(&harness, Screen::Data);
    harness.run();
    harness.get_by_label("(guessed)").hover();
    wait_for_tooltip(&mut harness, "no column looks like the customer id of a log");
}
