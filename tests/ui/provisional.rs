//! Above 20,000 customers an edit that needs a new sweep shows a fit on a sample first, marked as
//! provisional, and the exact fit replaces it; what the user does meanwhile follows the customers.

use super::*;

#[test]
fn a_provisional_fit_is_shown_marked_then_replaced_by_the_exact_one_and_names_follow() {
    // The run job waits at its provisional result while `hold` is set, until the test lets it go.
    let hold = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (release, released) = std::sync::mpsc::channel::<()>();
    let released = std::sync::Mutex::new(released);
    let holding = hold.clone();
    let probe: strata::app::JobProbe = std::sync::Arc::new(move |job: &str| {
        if job == "run refining" && holding.load(std::sync::atomic::Ordering::SeqCst) {
            let _ = released.lock().unwrap().recv_timeout(std::time::Duration::from_secs(60));
        }
    });
    let mut harness = Harness::builder().with_size([1400.0, 900.0]).build_eframe(move |cc| {
        let options = AppOptions {
            run_mode: strata::engine::jobs::RunMode::Threads,
            job_probe: Some(probe),
            ..AppOptions::scripted(StartProject::Demo, ScriptedDialogs::new())
        };
        StrataApp::new(cc, options)
    });
    let exact =
        |app: &StrataApp| app.progress.is_none() && app.output.as_ref().is_some_and(|o| o.result.provisional.is_none());
    step_until(&mut harness, "the demo's run", exact);
    let runs_before = harness.state().runs.len();

    // A new scaling needs a new sweep: the sample's fit comes first and the run holds there.
    hold.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut spec = harness.state().doc.as_ref().unwrap().project.spec.clone();
    spec.model.k_range = Some((2, 6));
    for feature in &mut spec.recipe.features {
        feature.scaling = strata::engine::features::Scaling::Robust;
    }
    harness.state_mut().push(Command::EditSpec { spec: Box::new(spec), what: "scaling".into() });
    harness.state_mut().push(Command::Run);
    step_until(&mut harness, "the provisional fit", |app| {
        app.output.as_ref().is_some_and(|o| o.result.provisional.is_some())
    });
    let app = harness.state();
    assert!(app.progress.is_some(), "the exact fit is still under way");
    let out = app.output.as_ref().unwrap();
    assert_eq!(out.result.fit.labels.len(), out.result.matrix.values.nrows(), "every customer is assigned");
    harness.get_by_label_contains("Provisional: segments fitted on a sample of 5,000 of the 23,570 customers");
    harness.get_by_label_contains("No rules: the tree rules come with the exact fit");
    assert!(harness.query_by_label_contains("Out of date").is_none(), "provisional, not out of date");
    assert_eq!(app.runs.len(), runs_before, "a provisional sweep is not kept as a run");
    assert!(!out.is_for(app.doc.as_ref().unwrap()), "never saved or published as the project's result");
    // The segments come before the sample's sweep: where k is chosen, the window says it is coming.
    assert!(out.result.sweep.is_none());
    // Its silhouettes are a smaller sample's, said as such: the sweep's rows for the figure at k.
    let members = out.summary.silhouettes.as_ref().unwrap();
    assert_eq!(
        (members.n_rows, members.sampled),
        (strata::engine::profile::summary::PROVISIONAL_MEMBER_SILHOUETTE_ROWS, true)
    );
    let silhouette = out.result.indices.silhouette.as_ref().unwrap();
    assert_eq!(
        (silhouette.sample_size, silhouette.exact),
        (strata::engine::pipeline::PROVISIONAL_SILHOUETTE_ROWS, false)
    );
    let first_segments = out.result.assignment_fingerprint.clone();
    tab(&harness, Screen::Model);
    harness.run_ok();
    harness.get_by_label_contains("Sweeping k = 2..6 on a sample of 5,000 of the 23,570 customers");
    assert!(harness.query_by_label_contains("Tick \"Compare a range of k\"").is_none());
    // Then the same segments with the sample's sweep.
    release.send(()).unwrap();
    step_until(&mut harness, "the provisional sweep", |app| {
        app.output.as_ref().is_some_and(|o| o.result.provisional.is_some() && o.result.sweep.is_some())
    });
    let app = harness.state();
    let swept = app.output.as_ref().unwrap();
    assert_eq!(swept.result.assignment_fingerprint, first_segments, "the same segments");
    assert!(harness.query_by_label_contains("Sweeping k =").is_none());
    // Where k is chosen, the sample's indices say so on the suggestion and on every chart.
    let suggested =
        format!("Suggested k = {} (provisional)", swept.result.sweep.as_ref().unwrap().suggested_k.unwrap());
    harness.get_by_label(&suggested);
    harness.get_by_label_contains("Provisional: the indices below are the sample's (5,000 of the 23,570 customers");
    // The sample's curves are drawn beside the kept run's, named as such in the legend.
    harness.get_by_label("this edit, provisional: sample of 5,000");
    harness.get_by_label("Drawn:");
    tab(&harness, Screen::Segments);
    harness.run_ok();
    // Exports wait for the exact fit: nothing is written, and the window says why.
    let dir = tempfile::tempdir().unwrap();
    let early = dir.path().join("early.csv");
    harness.state_mut().push(Command::Export(strata::app::ExportKind::Assignments, early.clone()));
    harness.run_ok();
    let error = harness.state().last_error.clone().unwrap_or_default();
    assert!(error.starts_with("Not exported: the segments shown are provisional"), "{error}");
    assert!(!early.exists());
    let out = harness.state().output.clone().unwrap();
    // The user names a segment while the exact fit is computed.
    let largest = (0..out.result.fit.sizes.len()).max_by_key(|&s| out.result.fit.sizes[s]).unwrap();
    let renamed_customers: Vec<usize> = (0..out.result.segment_per_customer.len())
        .filter(|&c| out.result.segment_per_customer[c] == Some(largest))
        .collect();
    harness.state_mut().push(Command::RenameSegment { segment: largest, name: "Named early".into() });
    harness.run_ok();

    release.send(()).unwrap();
    step_until(&mut harness, "the exact fit", exact);
    assert!(harness.query_by_label_contains("Provisional:").is_none());
    harness.state_mut().push(Command::Export(strata::app::ExportKind::Assignments, early.clone()));
    step_until(&mut harness, "the export", |_| early.exists());
    let app = harness.state();
    assert!(harness.query_by_label_contains("No rules: the tree rules come").is_none());
    assert_eq!(app.runs.len(), runs_before + 1, "the exact sweep is kept");
    let out = app.output.as_ref().unwrap();
    assert!(out.is_for(app.doc.as_ref().unwrap()));
    assert_eq!(
        out.summary.silhouettes.as_ref().unwrap().n_rows,
        strata::engine::profile::summary::MEMBER_SILHOUETTE_ROWS
    );
    let named: Vec<usize> = app
        .doc
        .as_ref()
        .unwrap()
        .project
        .segments
        .iter()
        .filter(|s| s.name == "Named early")
        .map(|s| s.segment)
        .collect();
    assert_eq!(named.len(), 1, "the name followed its customers to the exact fit");
    // ... to the segment that holds most of the customers it was given on the provisional fit.
    let kept = renamed_customers.iter().filter(|&&c| out.result.segment_per_customer[c] == Some(named[0])).count();
    assert!(2 * kept > renamed_customers.len(), "{kept} of {} customers", renamed_customers.len());

    // Cancelled at its provisional result: the screens say the exact fit did not finish.
    let mut spec = app.doc.as_ref().unwrap().project.spec.clone();
    for feature in &mut spec.recipe.features {
        feature.scaling = strata::engine::features::Scaling::MinMax;
    }
    // The exact sweep's charts are not marked.
    tab(&harness, Screen::Model);
    harness.run_ok();
    assert!(harness.query_by_label_contains("(provisional)").is_none());
    assert!(harness.query_by_label_contains("this edit, provisional").is_none());
    harness.get_by_label("Silhouette");
    tab(&harness, Screen::Segments);
    harness.run_ok();
    harness.state_mut().push(Command::EditSpec { spec: Box::new(spec), what: "scaling".into() });
    harness.state_mut().push(Command::Run);
    step_until(&mut harness, "the second provisional fit", |app| {
        app.output.as_ref().is_some_and(|o| o.result.provisional.is_some())
    });
    harness.get_by_label_contains("The exact fit on every customer is under way");
    harness.state_mut().push(Command::CancelRun);
    harness.run_ok();
    harness.get_by_label_contains("The exact fit on every customer did not finish: press Run (F5) to make it.");
    release.send(()).unwrap();
}
