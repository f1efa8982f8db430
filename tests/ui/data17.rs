//! Issue 17's data findings in the window: a log without an amount, sensitive columns listed on
//! the Features screen with why they are kept out, and the k choice saying when no k has structure.

use super::*;

fn spec_of(app: &StrataApp) -> &strata::engine::pipeline::PipelineSpec {
    &app.doc.as_ref().unwrap().project.spec
}

fn features_of(app: &StrataApp) -> Vec<String> {
    spec_of(app).recipe.features.iter().map(|f| f.column.clone()).collect()
}

fn log_columns(app: &StrataApp) -> strata::engine::features::TransactionColumns {
    match &spec_of(app).table {
        strata::engine::pipeline::TableKind::TransactionLog(t) => t.clone(),
        other => panic!("not a log: {other:?}"),
    }
}

fn open(path: std::path::PathBuf) -> Harness<'static, StrataApp> {
    let mut harness = harness(StartProject::Empty, &ScriptedDialogs::new());
    harness.state_mut().push(Command::OpenData(path));
    harness.run();
    harness
}

#[test]
fn a_clickstream_without_amount_opens_as_a_log_segmented_on_recency_frequency_and_tenure() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("visits.csv");
    let mut text = String::from("visitor_id,visited_at,page\n");
    for i in 0..600usize {
        let visitor = i % 80;
        let day = 1 + (i * 7 + visitor * 3) % 28;
        text.push_str(&format!(
            "v{visitor:03},2024-{:02}-{day:02},{}\n",
            1 + (i / 60) % 12,
            ["home", "cart", "faq"][i % 3]
        ));
    }
    std::fs::write(&path, text).unwrap();
    let mut harness = open(path);
    let app = harness.state();
    assert!(app.output.is_some(), "{:?}", app.last_error);
    let columns = log_columns(app);
    assert_eq!(
        (columns.customer_id.as_str(), columns.date.as_str(), columns.amount.as_deref()),
        ("visitor_id", "visited_at", None)
    );
    assert_eq!(features_of(app), ["recency_days", "frequency", "tenure_days"]);
    let result = &app.output.as_ref().unwrap().result;
    assert_eq!(result.customers.height(), 80);
    assert!(result.customers.column("monetary_total").is_err(), "no silent zero");
    assert_eq!(result.warnings.iter().filter(|w| w.contains("no amount column")).count(), 1, "{:?}", result.warnings);
    harness.get_by_label_contains("no amount column); segmenting on recency, frequency and tenure");

    // The Data screen says so where the amount is chosen.
    tab(&harness, Screen::Data);
    harness.run();
    let combo = harness.get_by_role_and_label(Role::ComboBox, "Amount column");
    assert_eq!(egui_kittest::kittest::NodeT::accesskit_node(&combo).value().as_deref(), Some("No amount column"));
}

#[test]
fn the_amount_column_can_be_set_to_none_and_a_money_feature_then_says_why_it_cannot_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orders.csv");
    let mut text = String::from("customer_id,order_date,amount\n");
    for i in 0..400usize {
        let customer = i % 90;
        text.push_str(&format!("{customer},2024-{:02}-{:02},{}.50\n", 1 + (i / 40) % 12, 1 + (i * 7) % 28, 5 + i % 30));
    }
    std::fs::write(&path, text).unwrap();
    let mut harness = open(path);
    assert_eq!(log_columns(harness.state()).amount.as_deref(), Some("amount"));
    tab(&harness, Screen::Data);
    harness.run();
    harness.get_by_role_and_label(Role::ComboBox, "Amount column").click();
    harness.run();
    harness.get_by_label("No amount column").click();
    harness.run();
    assert_eq!(log_columns(harness.state()).amount, None);
    let error = harness.state().last_error.clone().unwrap_or_default();
    assert!(error.contains("'monetary_total' needs an amount column"), "{error}");
    // Undo brings the amount back, and the run with it.
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    harness.run();
    assert_eq!(log_columns(harness.state()).amount.as_deref(), Some("amount"));
}

#[test]
fn sensitive_columns_are_listed_with_why_and_used_only_when_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("customers.csv");
    let mut text = String::from("customer_id,age,spend,visits,email\n");
    for i in 0..120 {
        text.push_str(&format!(
            "c{i},{},{:.2},{},p{i}@example.com\n",
            20 + i % 50,
            10.0 + (i * 37 % 101) as f64,
            i * 7 % 13
        ));
    }
    std::fs::write(&path, text).unwrap();
    let mut harness = open(path);
    assert!(harness.state().output.is_some(), "{:?}", harness.state().last_error);
    tab(&harness, Screen::Features);
    harness.run();
    // Both are listed, each with its reason, and counted.
    assert_eq!(harness.query_all_by_label("sensitive: kept out of the features").count(), 2);
    harness.get_by_label_contains("2 columns kept out as sensitive");
    assert!(egui_kittest::kittest::NodeT::accesskit_node(&harness.get_by_label("age")).is_disabled(), "not tickable");
    assert!(egui_kittest::kittest::NodeT::accesskit_node(&harness.get_by_label("email")).is_disabled());
    // Select all leaves them out.
    harness.get_by_label("Select all").click();
    harness.run();
    let features = features_of(harness.state());
    assert!(features.contains(&"spend".to_string()) && !features.contains(&"age".to_string()), "{features:?}");
    // Allowed on purpose: used, recorded, and said on every run.
    harness.query_all_by_label("Allow").next().unwrap().click();
    harness.run();
    let spec = spec_of(harness.state());
    let age = spec.recipe.features.iter().find(|f| f.column == "age").expect("age is used once allowed");
    assert!(age.allow_sensitive);
    let result = &harness.state().output.as_ref().unwrap().result;
    assert!(result.matrix.names.contains(&"age".to_string()), "{:?}", result.matrix.names);
    assert!(result.warnings.iter().any(|w| w.contains("sensitive column 'age' is used")), "{:?}", result.warnings);
    harness.get_by_label("sensitive: allowed as a feature (recorded)");
    assert_eq!(harness.query_all_by_label("sensitive: kept out of the features").count(), 1);
    // Unticked, it is out again.
    harness.get_by_role_and_label(Role::CheckBox, "age").click();
    harness.run();
    assert!(!features_of(harness.state()).contains(&"age".to_string()));
}

/// `n` rows of uniform noise in ten columns, or four far-apart blobs in two.
fn noise_or_blobs(dir: &Path, blobs: bool) -> std::path::PathBuf {
    let mut state = 7u64;
    let mut next = || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let columns = if blobs { 2 } else { 10 };
    let mut text = (0..columns).map(|c| format!("x{c}")).collect::<Vec<_>>().join(",") + "\n";
    for i in 0..300 {
        let row: Vec<String> = (0..columns)
            .map(|c| {
                let centre = if blobs { [[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]][i % 4][c] } else { 0.0 };
                format!("{:.4}", centre + next())
            })
            .collect();
        text.push_str(&row.join(","));
        text.push('\n');
    }
    let path = dir.join(if blobs { "blobs.csv" } else { "noise.csv" });
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn the_k_choice_says_when_no_k_has_real_structure() {
    let dir = tempfile::tempdir().unwrap();
    for blobs in [false, true] {
        let mut harness = open(noise_or_blobs(dir.path(), blobs));
        assert!(harness.state().output.is_some(), "{:?}", harness.state().last_error);
        tab(&harness, Screen::Model);
        harness.run();
        let mut spec = spec_of(harness.state()).clone();
        spec.model.k_range = Some((2, 8));
        harness.state_mut().push(Command::EditSpec { spec: Box::new(spec), what: "sweep 2..8".into() });
        harness.run();
        if harness.state().output.as_ref().is_none_or(|o| o.result.sweep.is_none()) {
            harness.state_mut().push(Command::Run);
            harness.run();
        }
        let sweep = harness.state().output.as_ref().unwrap().result.sweep.clone().expect("the sweep ran");
        let best = sweep.runs.iter().filter_map(|r| r.silhouette).fold(f64::MIN, f64::max);
        let shown = harness.query_by_label_contains("shows real structure").is_some();
        assert_eq!(shown, !blobs, "best silhouette {best:.3}");
        if !blobs {
            harness.get_by_label_contains(&format!(
                "no k from 2 to 8 shows real structure: the best mean silhouette is {best:.2}"
            ));
        }
    }
}
