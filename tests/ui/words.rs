//! Words and long work: the window never speaks the command line or the code, flags agree with
//! their numbers, the Help tour, stale results marked, long runs wait for Run.

use super::*;

/// Every label on the current screen that reads like a developer wrote it.
fn developer_words(harness: &Harness<'_, StrataApp>) -> Vec<String> {
    let mut found = Vec::new();
    for needle in ["--", " i64", " f64", " str ", "ZScore", "KeepFirst", "MinMax", "<=", "(s)", ":21-"] {
        for node in harness.query_all_by_label_contains(needle) {
            found.push(format!("{needle:?} in {node:?}"));
        }
    }
    found
}

#[test]
fn a_file_in_another_encoding_is_explained_in_the_windows_words_and_read_with_its_control() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin1.csv");
    let mut bytes = b"customer,spend,visits\n".to_vec();
    for i in 0..40 {
        bytes.extend_from_slice(format!("c{i},{},{}\n", 10 + i * 3, 1 + i % 5).as_bytes());
    }
    bytes.extend_from_slice(b"caf\xe9,12,3\n");
    std::fs::write(&path, &bytes).unwrap();
    let dialogs = ScriptedDialogs::new();
    let mut harness = harness(StartProject::Empty, &dialogs);
    harness.state_mut().push(Command::OpenData(path.clone()));
    harness.run();
    let error = harness.state().last_error.clone().expect("the encoding is reported");
    assert!(error.contains("Text encoding, under Reading on the Data screen"), "{error}");
    assert!(!error.contains("--"), "{error}");
    for screen in [Screen::Data, Screen::Features, Screen::Model, Screen::Segments] {
        tab(&harness, screen);
        harness.run();
        assert_eq!(developer_words(&harness), Vec::<String>::new(), "on {screen:?}");
    }
    // The window's own control reads the file.
    tab(&harness, Screen::Data);
    harness.run();
    harness.get_by_label("Reading").click();
    harness.run();
    harness.get_by_label("Text encoding").click();
    harness.run();
    harness.get_by_label("Windows-1252 / Latin-1").click();
    harness.run();
    let app = harness.state();
    let doc = app.doc.as_ref().unwrap();
    assert_eq!(doc.project.spec.source.read_options.encoding, strata::engine::data::TextEncoding::Windows1252);
    let preview = app.preview.as_ref().expect("the file reads now");
    assert_eq!(preview.frame.height(), 41);
    assert!(!doc.project.spec.recipe.features.is_empty(), "set up once it reads");
    // Column types in words, not polars' names.
    assert!(harness.query_all_by_label("whole number").count() >= 1);
    for screen in [Screen::Data, Screen::Features, Screen::Model, Screen::Segments] {
        tab(&harness, screen);
        harness.run();
        assert_eq!(developer_words(&harness), Vec::<String>::new(), "on {screen:?}");
    }
}

#[test]
fn the_demos_cards_flag_no_segment_whose_numbers_say_it_is_distinct() {
    let (harness, _) = demo();
    // Each demo segment has a mean well over a quarter of an sd from everyone's.
    let app = harness.state();
    let summary = &app.output.as_ref().unwrap().summary;
    for d in &summary.distance_sd {
        assert!(strata::engine::profile::is_distinct(d), "{d:?}");
    }
    assert_eq!(harness.query_all_by_label_contains("Not distinct").count(), 0);
    // The overlap is labelled as what it is, and counted words agree with their numbers.
    harness.get_by_label("Next-closest segment (share of each row's customers)");
    harness.get_by_label("5 segments");
    assert_eq!(developer_words(&harness), Vec::<String>::new());
}

#[test]
fn the_help_tour_walks_the_demo_screen_by_screen() {
    let dialogs = ScriptedDialogs::new();
    let mut harness = harness(StartProject::Empty, &dialogs);
    harness.get_by_label("Help").click();
    harness.run();
    harness.get_by_label("Guided tour of the demo").click();
    harness.run();
    // The tour opens the demo and starts on its first screen.
    assert!(harness.state().doc.as_ref().is_some_and(|d| d.is_demo));
    assert_eq!(harness.state().screen, Screen::Data);
    harness.get_by_label("Step 1 of 7: Data");
    harness.get_by_label("Next").click();
    harness.run();
    assert_eq!(harness.state().screen, Screen::Features);
    harness.get_by_label("Step 2 of 7: Features");
    harness.get_by_label("Back").click();
    harness.run();
    assert_eq!(harness.state().screen, Screen::Data);
    for (i, screen) in
        [Screen::Features, Screen::Model, Screen::Segments, Screen::Compare, Screen::Rules, Screen::OverTime]
            .into_iter()
            .enumerate()
    {
        harness.get_by_label("Next").click();
        harness.run();
        assert_eq!(harness.state().screen, screen);
        harness.get_by_label(&format!("Step {} of 7: {}", i + 2, screen.label()));
    }
    assert!(harness.query_by_label("Next").is_none());
    harness.get_by_label("Finish").click();
    harness.run();
    assert!(harness.state().help.tour_step.is_none());
    assert!(harness.query_by_label_contains("Step 7 of 7").is_none());
    // Shortcuts and about.
    harness.get_by_label("Help").click();
    harness.run();
    harness.get_by_label("Keyboard shortcuts").click();
    harness.run();
    harness.get_by_label("Ctrl+Shift+S");
    harness.get_by_label("Run on the current settings");
}

/// The demo's spec with `change` applied, as an edit.
fn edit_spec(
    harness: &mut Harness<'static, StrataApp>,
    what: &str,
    change: impl FnOnce(&mut strata::engine::pipeline::PipelineSpec),
) {
    let mut spec = harness.state().doc.as_ref().unwrap().project.spec.clone();
    change(&mut spec);
    harness.state_mut().push(Command::EditSpec { spec: Box::new(spec), what: what.into() });
    harness.run();
}

#[test]
fn results_are_marked_out_of_date_after_an_edit_until_the_new_ones_arrive() {
    let (mut harness, _) = demo();
    harness.get_by_label_contains("was reproduced exactly");
    harness.state_mut().push(Command::SetAutoRun(false));
    harness.run();
    assert!(harness.query_by_label_contains("Out of date").is_none());
    edit_spec(&mut harness, "k", |spec| spec.model.algorithm.set_k(4));
    harness.get_by_label_contains("Out of date: the results shown are from before your last change");
    // The banner that vouched for the project as opened goes with the edit.
    assert!(harness.query_by_label_contains("was reproduced exactly").is_none());
    assert_eq!(k_of(harness.state()), 5, "no run started by itself");
    harness.get_all_by_label("Run").next().unwrap().click();
    harness.run();
    assert_eq!(k_of(harness.state()), 4);
    assert!(harness.query_by_label_contains("Out of date").is_none());
}

#[test]
fn a_long_method_waits_for_run_and_shows_its_estimate() {
    let (mut harness, _) = demo();
    assert!(harness.state().prefs.auto_run);
    let before = harness.state().output.clone().unwrap();
    edit_spec(&mut harness, "method", |spec| {
        spec.model.algorithm = strata::engine::pipeline::Algorithm::Hierarchical(Default::default());
    });
    let app = harness.state();
    assert!(app.progress.is_none());
    assert!(std::sync::Arc::ptr_eq(app.output.as_ref().unwrap(), &before), "hierarchical on 23,570 did not start");
    let estimate = app.long_run().expect("long");
    assert!(estimate.secs > 10.0, "{estimate:?}");
    harness.get_by_label_contains("Long run, waits for Run: about");
    harness.get_by_label_contains("23,570 customers)");
    harness.get_by_label_contains("Out of date");
    // Back to k-means: short again, so it runs by itself.
    edit_spec(&mut harness, "method", |spec| {
        spec.model.algorithm = strata::engine::pipeline::Algorithm::KMeans(Default::default());
    });
    assert!(harness.state().long_run().is_none());
    assert!(harness.query_by_label_contains("Long run").is_none());
}

#[test]
fn renaming_a_segment_does_not_restart_the_run() {
    let (mut harness, _) = demo();
    let before = harness.state().output.clone().unwrap();
    let name = harness.get_by_role_and_label(Role::TextInput, "Segment 2 name");
    name.focus();
    name.type_text(" (renamed)");
    harness.run();
    assert!(segment_name(harness.state(), 1).ends_with("(renamed)"));
    let app = harness.state();
    assert!(app.progress.is_none());
    assert!(std::sync::Arc::ptr_eq(app.output.as_ref().unwrap(), &before), "the rename left the result as it was");
    assert!(harness.query_by_label_contains("Out of date").is_none());
}
