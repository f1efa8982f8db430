//! The report through File > Export report... and every chart exported as the engine draws it, at
//! a fixed size whatever the window's, from the data its screen shows (the compared segmentations,
//! the transition chosen).

use super::*;

use strata::app::{ChartId, DialogPurpose, ExportKind};

#[test]
fn the_report_is_exported_from_the_file_menu_through_the_dialog() {
    let dir = tempfile::tempdir().unwrap();
    let (mut harness, dialogs) = demo();
    let path = dir.path().join("report.html");
    dialogs.answer(&path);
    harness.get_by_label("File").click();
    harness.run();
    harness.get_by_label("Export report...").click();
    harness.run_steps(12);
    assert_eq!(dialogs.asked().last(), Some(&DialogPurpose::Export(ExportKind::Report)));
    assert!(harness.state().last_error.is_none(), "{:?}", harness.state().last_error);
    let html = std::fs::read_to_string(&path).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    for expected in ["Best customers", "Choosing k", "data:image/png;base64,", "Assumptions"] {
        assert!(html.contains(expected), "{expected}");
    }
    harness.get_by_label_contains("Report (");
    // A file that is not .html is refused before anything is written.
    let wrong = dir.path().join("report.pdf");
    harness.state_mut().push(Command::Export(ExportKind::Report, wrong.clone()));
    harness.run_steps(4);
    assert!(harness.state().last_error.as_deref().is_some_and(|e| e.contains(".html")));
    assert!(!wrong.exists());
}

#[test]
fn an_index_chart_is_exported_as_the_engine_draws_it_at_a_fixed_size() {
    let dir = tempfile::tempdir().unwrap();
    let (mut harness, dialogs) = demo();
    tab(&harness, Screen::Model);
    harness.run();
    let path = dir.path().join("elbow.png");
    dialogs.answer(&path);
    harness.state_mut().push(Command::ExportDialog(ExportKind::Chart(ChartId::Elbow)));
    harness.run_steps(12);
    assert!(harness.state().last_error.is_none(), "{:?}", harness.state().last_error);
    assert_eq!(png_size(&path), strata::app::CHART_EXPORT_SIZE);
}

fn png_size(path: &std::path::Path) -> (u32, u32) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let reader = decoder.read_info().unwrap();
    (reader.info().width, reader.info().height)
}

/// `chart` as the engine draws it at the window's export size.
fn drawn(chart: &strata::engine::chart::Chart) -> Vec<u8> {
    let (width, height) = strata::app::CHART_EXPORT_SIZE;
    strata::engine::chart::render_png(chart, width, height).unwrap()
}

/// Exports `chart` through the File menu's command, the dialog answering `path`.
fn export(harness: &mut Harness<'static, StrataApp>, dialogs: &ScriptedDialogs, chart: ChartId, path: &Path) {
    dialogs.answer(path);
    harness.state_mut().push(Command::ExportDialog(ExportKind::Chart(chart)));
    harness.run_steps(12);
    assert!(harness.state().last_error.is_none(), "{:?}", harness.state().last_error);
    assert_eq!(png_size(path), strata::app::CHART_EXPORT_SIZE);
}

#[test]
fn the_alluvial_view_is_exported_with_the_sides_compare_shows() {
    let dir = tempfile::tempdir().unwrap();
    let (mut harness, dialogs) = demo();
    tab(&harness, Screen::Model);
    harness.run();
    harness.get_by_label("k = 4").click();
    harness.run();
    tab(&harness, Screen::Compare);
    harness.run();
    // Swapped: the rows are now the second run, as the screen shows them.
    harness.get_by_label("Swap").click();
    harness.run();
    harness.run();
    let crossing = harness.state().shown_comparison().expect("the two runs compared");
    assert!(crossing.titles.0.starts_with("Run 2: "), "{:?}", crossing.titles);
    assert_eq!(crossing.row_names.len(), 4);
    let path = dir.path().join("alluvial.png");
    export(&mut harness, &dialogs, ChartId::Alluvial, &path);
    let expected = drawn(&strata::engine::chart::flows::alluvial_chart(&crossing).unwrap());
    assert!(std::fs::read(&path).unwrap() == expected, "the export is the engine's picture of the shown comparison");
}

#[test]
fn the_moves_over_time_are_exported_for_the_transition_chosen() {
    let dir = tempfile::tempdir().unwrap();
    let (mut harness, dialogs) = demo();
    tab(&harness, Screen::OverTime);
    harness.run();
    harness.get_by_label("Follow the customers").click();
    let waited = std::time::Instant::now();
    while !harness.state().over_time.as_ref().is_some_and(|o| o.is_for(harness.state().doc.as_ref().unwrap())) {
        assert!(harness.state().over_time_error.is_none(), "{:?}", harness.state().over_time_error);
        assert!(waited.elapsed().as_secs() < 300, "the windows never arrived");
        harness.run_steps(5);
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    harness.run();
    let out = harness.state().over_time.clone().unwrap();
    let transitions = out.result.transitions.len();
    assert!(transitions >= 2, "{transitions} transitions");
    assert_eq!(harness.state().shown_transition(), Some(transitions - 1), "the last by default");
    // The first pair of windows chosen on the screen: that is what is exported.
    harness.state_mut().view.transition = Some(0);
    harness.run();
    assert_eq!(harness.state().shown_transition(), Some(0));
    let path = dir.path().join("moves.png");
    export(&mut harness, &dialogs, ChartId::MovesOverTime, &path);
    let (names, colours) = harness.state().over_time_segments(&out);
    let chart =
        |t| strata::engine::chart::flows::moves_chart(&out.result, &names, colours.engine(), Some(t), 10).unwrap();
    let written = std::fs::read(&path).unwrap();
    assert!(written == drawn(&chart(0)), "the export is the engine's picture of the chosen transition");
    assert!(written != drawn(&chart(transitions - 1)));
    // The silhouettes of the Segments screen, too.
    let path = dir.path().join("silhouettes.png");
    export(&mut harness, &dialogs, ChartId::Silhouettes, &path);
}
