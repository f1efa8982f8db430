//! The Monitor screen: published versions listed with the current one marked, published, compared
//! and rolled back from the window; a new period monitored on a job with the numbers
//! `strata monitor` prints for the same period; thresholds stored; all of it in the project file
//! after saving and reopening.

use super::*;

use serde_json::Value;
use strata::app::DialogPurpose;

fn fixture_copy(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("demo.strata");
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/projects/v11.strata"), &path).unwrap();
    path
}

fn cdnow() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/CDNOW_master.txt")
}

/// `strata monitor --json` on the project, without storing anything.
fn cli_monitor(project: &Path, as_of: &str) -> Value {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["monitor", project.to_str().unwrap(), "--data", cdnow().to_str().unwrap(), "--as-of", as_of])
        .args(["--json", "--no-save"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn the_window_monitors_a_period_with_the_numbers_the_cli_prints() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture_copy(dir.path());
    let cli = cli_monitor(&path, "1998-06-30");
    let dialogs = ScriptedDialogs::new();
    let mut harness = harness(StartProject::File(path.clone()), &dialogs);
    harness.run();
    tab(&harness, Screen::Monitor);
    harness.run();
    // The versions, the current one marked; the stored period is shown.
    harness.get_by_label("1 (current)");
    harness.get_by_label("Make version 2 current");
    harness.get_by_label_contains("CDNOW_master.txt as of 1998-06-30 against version 1: 23,570 customers");
    assert_eq!(harness.state().doc.as_ref().unwrap().project.monitor.runs.len(), 1);

    // The last quarter again, monitored in the window.
    field_typed(&mut harness, "As of", "1998-06-30");
    dialogs.answer(cdnow());
    harness.get_by_label("Monitor new data...").click();
    harness.run();
    harness.run();
    assert_eq!(dialogs.asked().last(), Some(&DialogPurpose::MonitorData));
    assert_eq!(harness.state().last_error, None);
    let app = harness.state();
    let doc = app.doc.as_ref().unwrap();
    assert_eq!(doc.project.monitor.runs.len(), 2);
    let run = doc.project.monitor.runs.last().unwrap();
    let period = &cli["periods"][0];
    assert_eq!(run.label, period["label"].as_str().unwrap());
    // Every figure equals the CLI's at full precision: the same engine functions made both.
    for (f, c) in run.features.iter().zip(period["features"].as_array().unwrap()) {
        assert_eq!(f.what, c["what"].as_str().unwrap());
        assert_eq!(f.psi, c["psi"].as_f64().unwrap(), "{}", f.what);
        assert_eq!(f.p_value, c["p_value"].as_f64().unwrap(), "{}", f.what);
        for (b, cb) in f.bins.iter().zip(c["bins"].as_array().unwrap()) {
            assert_eq!(b.actual_count, cb["actual_count"].as_u64().unwrap());
            assert_eq!(b.contribution, cb["contribution"].as_f64().unwrap());
        }
    }
    assert_eq!(run.segment_shares.psi, period["segment_shares"]["psi"].as_f64().unwrap());
    assert_eq!(run.segment_test.statistic, period["segment_test"]["statistic"].as_f64().unwrap());
    let m = run.migration.as_ref().unwrap();
    assert_eq!(serde_json::to_value(m).unwrap(), period["migration"]);
    let recent = m.from.iter().position(|n| n == "Recent regulars").unwrap();
    let repeat = m.to.iter().position(|n| n == "Repeat buyers").unwrap();
    assert_eq!(m.counts[recent][repeat], 1_081);
    // And the window shows them: each feature's PSI as the CLI prints it, the verdicts, the alert,
    // the migration's count.
    for c in period["features"].as_array().unwrap() {
        let shown = format!("{:.4}", c["psi"].as_f64().unwrap());
        assert!(harness.query_all_by_label(&shown).count() >= 1, "PSI {shown} of {}", c["what"]);
        harness.get_by_label(c["verdict"].as_str().unwrap());
    }
    harness.get_by_label_contains("Alert (act): recency_days: PSI 1.9759");
    harness.get_by_label_contains("Suggestion: re-fit");
    assert!(harness.query_all_by_label("1,081").count() >= 1, "the migration's count");
    harness.get_by_label("Over the periods");
    // A feature's bins open with their contributions.
    harness.get_by_label("recency_days").click();
    harness.run();
    let recency = &period["features"][0];
    for b in recency["bins"].as_array().unwrap() {
        let shown = format!("{:.4}", b["contribution"].as_f64().unwrap());
        assert!(harness.query_all_by_label(&shown).count() >= 1, "contribution {shown}");
    }
    assert!(harness.query_all_by_label_contains("half a customer").count() >= 2, "the smoothing, said");
    let audit = &harness.state().doc.as_ref().unwrap().project.audit;
    assert_eq!(audit.last().unwrap().what, "monitored CDNOW_master.txt as of 1998-06-30");
}

#[test]
fn versions_are_published_compared_and_rolled_back_from_the_window_and_kept_on_save() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture_copy(dir.path());
    let mut harness = harness_for(&path);
    tab(&harness, Screen::Monitor);
    harness.run();
    let version_1 = harness.state().doc.as_ref().unwrap().project.versions.get(1).unwrap().clone();
    // Publishing the fit shown: version 3, current, with its note, in the audit log.
    field_typed(&mut harness, "Note for the version", "after the Q2 review");
    harness.get_by_label("Publish version 3").click();
    harness.run();
    {
        let project = &harness.state().doc.as_ref().unwrap().project;
        assert_eq!(project.versions.current, Some(3));
        let v3 = project.versions.get(3).unwrap();
        assert_eq!(v3.note, "after the Q2 review");
        assert_eq!(v3.results.assignment_fingerprint, version_1.results.assignment_fingerprint);
        assert_eq!(v3.reference, version_1.reference, "frozen from the same customers");
        assert_eq!(project.audit.last().unwrap().what, "publish version 3");
        assert!(!project.differs_from_current());
    }
    harness.get_by_label("3 (current)");
    // Rolling back to version 2: its spec becomes the project's, and the project runs again.
    harness.get_by_label("Make version 2 current").click();
    harness.run();
    harness.run();
    {
        let app = harness.state();
        let project = &app.doc.as_ref().unwrap().project;
        assert_eq!(project.versions.current, Some(2));
        assert_eq!(project.spec.model, project.versions.get(2).unwrap().spec.model);
        assert_eq!(project.audit.last().unwrap().what, "roll back to version 2");
        let out = app.output.as_ref().unwrap();
        assert_eq!(out.result.assignment_fingerprint, project.versions.get(2).unwrap().results.assignment_fingerprint);
    }
    harness.get_by_label("2 (current)");
    // Comparing 2 with 3: the spec's changes, the sizes, who moved.
    harness.get_by_label("Compare versions").click();
    harness.run();
    harness.run();
    let diff = harness.state().version_diff().unwrap().clone();
    assert_eq!((diff.from, diff.to), (2, 3));
    assert!(!diff.spec_changes.is_empty());
    let m = diff.migration.as_ref().unwrap();
    assert_eq!(m.n_common, 23_570);
    harness.get_by_label("Version 2 -> version 3");
    // Thresholds: stored and logged; a warn above act is refused and changes nothing.
    let mut t = harness.state().doc.as_ref().unwrap().project.monitor.thresholds.clone();
    t.psi_warn = 0.05;
    t.retention.push(("Repeat buyers".into(), 5.0));
    harness.state_mut().push(Command::SetMonitorThresholds(t.clone()));
    harness.run();
    harness.get_by_label("Alert when the retention of Repeat buyers falls by more than");
    let mut bad = t.clone();
    bad.psi_warn = 0.5;
    harness.state_mut().push(Command::SetMonitorThresholds(bad));
    harness.run();
    assert!(harness.state().last_error.as_deref().unwrap_or_default().contains("warn at most act"));
    assert_eq!(harness.state().doc.as_ref().unwrap().project.monitor.thresholds, t);
    // Saved and reopened: the three versions, the one current, the thresholds, the stored period.
    harness.state_mut().push(Command::Save);
    harness.run();
    harness.run();
    assert!(!harness.state().doc.as_ref().unwrap().is_dirty());
    let reopened = strata::engine::project::open(&path).unwrap().project;
    assert_eq!(reopened.versions.current, Some(2));
    assert_eq!(reopened.versions.published.len(), 3);
    assert_eq!(reopened.monitor.thresholds, t);
    assert_eq!(reopened.monitor.runs.len(), 1);
}

#[test]
fn a_project_open_for_review_shows_its_versions_but_cannot_publish_or_roll_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture_copy(dir.path());
    let mut harness = harness(StartProject::Review(path.clone()), &ScriptedDialogs::new());
    harness.run();
    tab(&harness, Screen::Monitor);
    harness.run();
    harness.get_by_label("1 (current)");
    harness.get_by_label_contains("CDNOW_master.txt as of 1998-06-30 against version 1");
    assert!(egui_kittest::kittest::NodeT::accesskit_node(&harness.get_by_label("Publish version 3")).is_disabled());
    assert!(
        egui_kittest::kittest::NodeT::accesskit_node(&harness.get_by_label("Make version 2 current")).is_disabled()
    );
    // Pushed anyway (a shortcut, a script): refused, nothing changes.
    harness.state_mut().push(Command::RollBack(2));
    harness.run();
    assert_eq!(harness.state().doc.as_ref().unwrap().project.versions.current, Some(1));
    let before = std::fs::read(&path).unwrap();
    drop(harness);
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_project_without_versions_says_what_publishing_does() {
    let (mut harness, _dialogs) = demo();
    tab(&harness, Screen::Monitor);
    harness.run();
    harness.get_by_label("Nothing is published yet: scoring and exports use the project as it stands.");
    harness.get_by_label("Publish a version first: the monitor compares new periods with the current version.");
    harness.get_by_label("Publish version 1").click();
    harness.run();
    harness.get_by_label("1 (current)");
    harness.get_by_label("Monitor new data...");
}
