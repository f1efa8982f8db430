//! The report through File > Export report... and the index charts exported as the engine draws
//! them, at a fixed size whatever the window's.

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
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&path).unwrap()));
    let reader = decoder.read_info().unwrap();
    assert_eq!((reader.info().width, reader.info().height), strata::app::CHART_EXPORT_SIZE);
    // The Model screen's index charts registered their context menus.
    assert!(harness.state().view.chart_rect(ChartId::Elbow).is_some());
    assert!(harness.state().view.chart_rect(ChartId::DaviesBouldin).is_some());
}
