//! File > Score new customers...: a file of new customers scored on a job as `strata score`
//! scores them, the report in its window beside the fitted customers, the scores saved through the
//! export path; a file that cannot be read says so and loses nothing.

use super::*;

use strata::app::{DialogPurpose, ExportKind};

fn cdnow() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/CDNOW_master.txt")
}

#[test]
fn new_customers_are_scored_from_the_file_menu_shown_beside_the_fitted_and_saved() {
    let dir = tempfile::tempdir().unwrap();
    let (mut harness, dialogs) = demo();
    // The demo's own log as new customers: each lands where the run put it.
    dialogs.answer(cdnow());
    harness.get_by_label("File").click();
    harness.run();
    harness.get_by_label("Score new customers...").click();
    harness.run();
    harness.run();
    assert_eq!(dialogs.asked().last(), Some(&DialogPurpose::ScoreData));
    assert_eq!(harness.state().last_error, None);
    harness.get_by_label("Scored new customers");
    harness.get_by_label_contains("23,570 customers from CDNOW_master.txt, scored by");
    harness.get_by_label_contains("moved by rules or overrides");
    let app = harness.state();
    let scored = app.scored_customers().expect("the scored customers");
    assert_eq!(scored.report.n, 23_570);
    // Per segment, the customers scored are the fitted customers: the same file, the same scoring.
    for (name, scored, fitted) in &scored.report.segments {
        assert_eq!(scored, fitted, "{name}");
    }
    let result = result(app);
    let segments = scored.frame.column("segment").unwrap().cast(&polars::prelude::DataType::Int64).unwrap();
    let segments: Vec<Option<i64>> = segments.i64().unwrap().iter().collect();
    let own: Vec<Option<i64>> = result.segment_per_customer.iter().map(|s| s.map(|s| s as i64)).collect();
    assert_eq!(segments, own);
    // The window shows a segment's name as the Segments screen names it.
    harness.get_by_label_contains(&format!("1  {}", segment_name(app, 0)));

    // Saved through the export path: the columns `strata score --out` writes.
    let out = dir.path().join("scores.csv");
    dialogs.answer(&out);
    harness.get_by_label("Save scores...").click();
    harness.run();
    harness.run();
    assert_eq!(dialogs.asked().last(), Some(&DialogPurpose::Export(ExportKind::Scores)));
    harness.get_by_label_contains("scores of 23,570 new customers written to");
    let text = std::fs::read_to_string(&out).unwrap();
    let header = text.lines().next().unwrap();
    assert!(
        header.starts_with(
            "customer_id,segment,segment_number,segment_name,model_segment,model_segment_number,changed_by,reason,\
             reason_column,margin,beyond_fitted"
        ),
        "{header}"
    );
    assert_eq!(text.lines().count(), 23_571);
    assert!(out.with_file_name("scores.csv.audit.json").exists());

    // Closing the window lets the scores go; a file that cannot be read is one clear error.
    harness.state_mut().push(Command::ScoreNewCustomers(dir.path().join("missing.csv")));
    harness.run();
    harness.run();
    let error = harness.state().last_error.clone().unwrap_or_default();
    assert!(error.contains("Could not score the customers of") && error.contains("missing.csv"), "{error}");
    assert!(harness.state().scored_customers().is_none());
    assert!(harness.state().output.is_some());
}
