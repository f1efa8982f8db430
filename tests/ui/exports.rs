//! Results out of the window (assignments, profiles, the k-choice table, charts), file dialogs that
//! cannot open, a failed open, and what Compare offers after another project is opened.

use super::*;

use strata::app::{ChartId, DialogPurpose, ExportKind};

/// Exports `kind` through its button on the current screen, the dialog answering `path`.
fn export_by_button(harness: &mut Harness<'static, StrataApp>, dialogs: &ScriptedDialogs, button: &str, path: &Path) {
    dialogs.answer(path);
    harness.get_by_label(button).click();
    harness.run();
    harness.run();
}

fn csv_rows(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().split(',').map(str::to_string).collect();
    // The demo's names and ids hold no commas or quotes.
    let rows = lines.map(|l| l.split(',').map(str::to_string).collect()).collect();
    (header, rows)
}

#[test]
fn assignments_are_exported_as_csv_parquet_and_excel_with_the_names_and_numbers_shown() {
    let dir = tempfile::tempdir().unwrap();
    let (mut harness, dialogs) = demo();
    // A name of the user's own, as the window shows it.
    harness.state_mut().push(Command::RenameSegment { segment: 1, name: "Second, renamed".replace(',', "") });
    harness.run();
    let shown_second = harness.get_by_role_and_label(Role::TextInput, "Segment 2 name").value().unwrap();
    assert_eq!(shown_second, "Second renamed");

    let csv = dir.path().join("assignments.csv");
    export_by_button(&mut harness, &dialogs, "Export assignments...", &csv);
    assert_eq!(dialogs.asked().last(), Some(&DialogPurpose::Export(ExportKind::Assignments)));
    harness.get_by_label_contains("assignments of 23,570 customers written to");
    let app = harness.state();
    let result = result(app);
    // The columns `strata run --out` writes, in its order.
    let cli_columns: Vec<String> = {
        let id = strata::engine::pipeline::override_id_column(&app.doc.as_ref().unwrap().project.spec, result);
        let mut frame = strata::engine::pipeline::assignments_frame(result, id).unwrap();
        if frame.column("segment_name").is_err() {
            frame.with_column(polars::prelude::Column::new("segment_name".into(), vec![""; frame.height()])).unwrap();
        }
        frame.get_column_names().iter().map(|n| n.to_string()).collect()
    };
    let (header, rows) = csv_rows(&csv);
    assert_eq!(header, cli_columns);
    assert_eq!(&header[..4], ["customer_id", "segment", "segment_number", "segment_name"]);
    assert_eq!(rows.len(), 23_570);
    // `segment` counts from 0 as `strata run --out` writes it; `segment_number` is the number the
    // window shows (from 1); each row has the name the window shows.
    let k = k_of(app);
    let mut sizes = vec![0usize; k];
    for row in &rows {
        let segment: usize = row[1].parse().unwrap();
        let number: usize = row[2].parse().unwrap();
        assert!(segment < k, "{row:?}");
        assert_eq!(number, segment + 1, "{row:?}");
        assert_eq!(row[3], app.segment_name_in(result, segment), "{row:?}");
        sizes[segment] += 1;
    }
    assert_eq!(sizes, result.fit.sizes);
    assert!(rows.iter().any(|r| r[2] == "2" && r[3] == "Second renamed"));

    // Parquet, read back.
    let parquet = dir.path().join("assignments.parquet");
    export_by_button(&mut harness, &dialogs, "Export assignments...", &parquet);
    let file = std::fs::File::open(&parquet).unwrap();
    use polars::prelude::SerReader;
    let frame = polars::prelude::ParquetReader::new(file).finish().unwrap();
    assert_eq!(frame.height(), 23_570);
    let segments = frame.column("segment_number").unwrap().cast(&polars::prelude::DataType::UInt32).unwrap();
    let segments = segments.u32().unwrap();
    let values: Vec<u32> = segments.into_no_null_iter().collect();
    assert_eq!(values.iter().min(), Some(&1));
    assert_eq!(values.iter().max(), Some(&(k as u32)));
    let names = frame.column("segment_name").unwrap();
    let first_name = names.str().unwrap().get(0).unwrap().to_string();
    let first_segment = segments.get(0).unwrap() as usize;
    assert_eq!(first_name, harness.state().segment_name_in(result_of(&harness), first_segment - 1));

    // Excel, read back with calamine.
    let xlsx = dir.path().join("assignments.xlsx");
    export_by_button(&mut harness, &dialogs, "Export assignments...", &xlsx);
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(&xlsx).unwrap();
    let range = book.worksheet_range("assignments").unwrap();
    assert_eq!(range.get_size().0, 23_571);
    assert_eq!(range.get((0, 1)), Some(&calamine::Data::String("segment".into())));
    assert_eq!(range.get((0, 2)), Some(&calamine::Data::String("segment_number".into())));
    assert_eq!(range.get((0, 3)), Some(&calamine::Data::String("segment_name".into())));
    assert_eq!(range.get((1, 2)), Some(&calamine::Data::Float(first_segment as f64)));
    assert_eq!(range.get((1, 3)), Some(&calamine::Data::String(first_name)));
    // Ids stay text (CDNOW ids written as they are).
    assert!(matches!(range.get((1, 0)), Some(calamine::Data::String(_))));

    // A format the table cannot be written in is refused with one line, and nothing is written.
    let wrong = dir.path().join("assignments.png");
    export_by_button(&mut harness, &dialogs, "Export assignments...", &wrong);
    assert!(!wrong.exists());
    assert!(harness.state().last_error.as_deref().unwrap().contains("must end in .csv, .parquet, .xlsx"));
}

fn result_of<'a>(harness: &'a Harness<'static, StrataApp>) -> &'a strata::engine::pipeline::PipelineResult {
    result(harness.state())
}

#[test]
fn profiles_and_the_k_choice_table_are_exported_and_the_borderline_numbers_segments_from_one() {
    let dir = tempfile::tempdir().unwrap();
    let (mut harness, dialogs) = demo();
    let profiles = dir.path().join("profiles.csv");
    export_by_button(&mut harness, &dialogs, "Export profiles...", &profiles);
    let (header, rows) = csv_rows(&profiles);
    assert_eq!(&header[..4], ["segment", "segment_name", "size", "share"]);
    let app = harness.state();
    let k = k_of(app);
    let summary = &app.output.as_ref().unwrap().summary;
    assert!(header.contains(&format!("{}_mean", summary.columns[0])));
    assert_eq!(rows.len(), k + 1);
    for (s, row) in rows.iter().take(k).enumerate() {
        assert_eq!(row[0], (s + 1).to_string());
        assert_eq!(row[1], app.segment_name_in(result(app), s));
        assert_eq!(row[2], result(app).fit.sizes[s].to_string());
    }
    assert_eq!(rows[k][1], "everyone");
    assert_eq!(rows[k][2], "23570");
    // The same table in Excel.
    let xlsx = dir.path().join("profiles.xlsx");
    export_by_button(&mut harness, &dialogs, "Export profiles...", &xlsx);
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(&xlsx).unwrap();
    assert_eq!(book.worksheet_range("profiles").unwrap().get_size(), (k + 2, header.len()));

    // The k-choice table, from the Model screen.
    tab(&harness, Screen::Model);
    harness.run();
    let table = dir.path().join("k-choice.csv");
    export_by_button(&mut harness, &dialogs, "Export table...", &table);
    let (header, rows) = csv_rows(&table);
    assert_eq!(&header[..4], ["k", "suggested", "inertia", "silhouette"]);
    let sweep = result(harness.state()).sweep.as_ref().unwrap();
    assert_eq!(rows.len(), sweep.runs.len());
    assert_eq!(rows[0][0], sweep.runs[0].k.to_string());

    // The borderline customers: segments numbered from 1, as shown, with their names.
    tab(&harness, Screen::Segments);
    harness.run();
    let borderline = dir.path().join("borderline.csv");
    dialogs.answer(&borderline);
    harness.get_by_label("Export borderline customers...").scroll_to_me();
    harness.run();
    harness.get_by_label("Export borderline customers...").click();
    harness.run();
    harness.run();
    let (header, rows) = csv_rows(&borderline);
    assert_eq!(header, ["customer_id", "segment", "segment_name", "second_segment", "second_name", "margin"]);
    let app = harness.state();
    for row in &rows {
        let s: usize = row[1].parse().unwrap();
        let second: usize = row[3].parse().unwrap();
        assert!((1..=k).contains(&s) && (1..=k).contains(&second) && s != second, "{row:?}");
        assert_eq!(row[2], app.segment_name_in(result(app), s - 1));
        assert_eq!(row[4], app.segment_name_in(result(app), second - 1));
    }
}

#[test]
fn a_file_dialog_that_cannot_open_says_so_and_offers_a_path_field() {
    let dir = tempfile::tempdir().unwrap();
    let (mut harness, dialogs) = demo();
    dialogs.fail("no desktop portal answered");
    harness.get_by_label("Export profiles...").click();
    harness.run();
    harness.get_by_label("The file dialog could not open: no desktop portal answered. Type the path instead.");
    let field = harness.get_by_role_and_label(Role::TextInput, "Path");
    assert!(field.value().unwrap().ends_with("segment-profiles.csv"), "{:?}", field.value());
    let path = dir.path().join("typed.csv");
    field.focus();
    harness.run();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness.get_by_role_and_label(Role::TextInput, "Path").type_text(path.to_str().unwrap());
    harness.run();
    harness.get_by_label("Save").click();
    harness.run();
    harness.run();
    assert!(harness.state().path_prompt.is_none());
    let (header, _) = csv_rows(&path);
    assert_eq!(header[0], "segment");

    // Cancel closes it and writes nothing.
    dialogs.fail("no desktop portal answered");
    harness.get_by_label("Export profiles...").click();
    harness.run();
    harness.get_by_label("Cancel").click();
    harness.run();
    assert!(harness.state().path_prompt.is_none());
}

#[test]
fn a_data_file_that_cannot_be_read_leaves_no_empty_project_and_the_next_open_asks_once() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, "a,b\n").unwrap();
    let dialogs = ScriptedDialogs::new();
    let mut harness = harness(StartProject::Empty, &dialogs);
    dialogs.answer(&empty);
    harness.get_by_label("Open data file...").click();
    harness.run();
    harness.run();
    let app = harness.state();
    assert!(app.doc.is_none(), "nothing opened");
    assert!(app.last_error.as_deref().unwrap().contains("empty.csv"), "{:?}", app.last_error);
    assert!(harness.query_by_label("Reading...").is_none());
    assert_eq!(harness.state().window_title(), "Strata", "no unsaved project");

    // A project with unsaved changes: Open asks once, and after "Discard" opens the file chosen.
    harness.state_mut().push(Command::OpenDemo);
    harness.run();
    harness.state_mut().push(Command::RenameSegment { segment: 0, name: "Changed".into() });
    harness.run();
    let project = Path::new(env!("CARGO_MANIFEST_DIR")).join("projects/cdnow-demo.strata");
    dialogs.answer(&project);
    harness.state_mut().push(Command::OpenProjectDialog);
    harness.run();
    harness.get_by_label("Unsaved changes");
    harness.get_by_label("Discard changes").click();
    harness.run();
    harness.run();
    assert!(!harness.state().is_prompting(), "asked a second time");
    assert_eq!(harness.state().doc.as_ref().unwrap().path.as_deref(), Some(project.as_path()));
    assert_eq!(dialogs.asked(), vec![DialogPurpose::OpenData, DialogPurpose::OpenProject]);
}

#[test]
fn compare_offers_only_the_open_projects_segmentations_numbered_as_the_runs() {
    let dir = tempfile::tempdir().unwrap();
    let (mut harness, _) = demo();
    tab(&harness, Screen::Model);
    harness.run();
    harness.get_by_label("k = 4").click();
    harness.run();
    // One numbering: every kept sweep's run number is the number of the segmentation it made.
    let app = harness.state();
    assert_eq!(app.segmentations.len(), 2);
    for run in &app.runs {
        let kept = app.segmentations.iter().find(|s| s.id == run.id).expect("a segmentation of the same number");
        assert_eq!(kept.fingerprint, run.output.result.assignment_fingerprint, "{}", run.label);
        assert!(run.label.starts_with(&format!("Run {}: ", run.id)));
    }
    // Compare opens on the two most recent segmentations, labelled "Run N: ...".
    tab(&harness, Screen::Compare);
    harness.run();
    let compare = &harness.state().view.compare;
    assert_eq!(format!("{:?}", (&compare.a, &compare.b)), "(Some(Run(1)), Some(Run(2)))");
    harness.get_by_role_and_label(Role::ComboBox, "Rows").click();
    harness.run();
    harness.get_by_label("Run 1: k-means, k = 5");
    harness.get_by_label("Run 2: k-means, k = 4");
    harness.key_press(egui::Key::Escape);
    harness.run();

    // Another project: its own segmentations only.
    let data = dir.path().join("groups.csv");
    std::fs::write(&data, four_groups_csv(120)).unwrap();
    let other = fit_project(dir.path(), "groups.csv", "other.strata");
    harness.state_mut().push(Command::OpenProject(other));
    harness.run();
    harness.get_by_label("Discard changes").click();
    harness.run();
    harness.run();
    let app = harness.state();
    let key = strata::app::customers_key(result(app));
    assert!(!app.segmentations.is_empty());
    assert!(app.segmentations.iter().all(|s| s.customers_key == key), "only the open project's customers");
    tab(&harness, Screen::Compare);
    harness.run();
    harness.get_by_role_and_label(Role::ComboBox, "Rows").click();
    harness.run();
    assert!(harness.query_by_label_contains("k = 5").is_none(), "the demo's runs are gone");
    assert!(harness.query_by_label_contains("Run 1: k-means, k = 3").is_some());
}

#[test]
fn the_warnings_count_opens_the_list_of_warnings() {
    let dir = tempfile::tempdir().unwrap();
    // Every tenth customer without a value of a: replaced by the median, with a warning.
    let mut text = String::from("id,a,b\n");
    for i in 0..120 {
        let a = if i % 10 == 0 { String::new() } else { ((i % 4) * 10 + i % 3).to_string() };
        text.push_str(&format!("{i},{a},{}\n", (i % 4) * 5));
    }
    std::fs::write(dir.path().join("gaps.csv"), text).unwrap();
    let project = fit_project(dir.path(), "gaps.csv", "gaps.strata");
    let mut harness = harness_for(&project);
    let warnings = result(harness.state()).warnings.clone();
    assert!(warnings.len() >= 2, "{warnings:?}");
    assert!(!harness.state().view.show_warnings);
    harness.get_by_label(&format!("{} warnings", warnings.len())).click();
    harness.run();
    harness.get_by_label("Warnings of the run");
    assert!(harness.state().view.show_warnings);
    harness.get_by_label_contains("replaced by the median");
}

#[test]
fn a_chart_is_exported_as_png_from_the_file_menu() {
    let dir = tempfile::tempdir().unwrap();
    let (mut harness, dialogs) = demo();
    let open_export_menu = |harness: &mut Harness<'static, StrataApp>| {
        harness.get_by_label("File").click();
        harness.run();
        harness.get_by_label("Export").hover();
        harness.run();
        harness.get_by_label("Assignments (CSV, Parquet, Excel)...");
    };
    let png_size = |path: &Path| {
        let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
        let reader = decoder.read_info().unwrap();
        (reader.info().width, reader.info().height)
    };
    // The projection is drawn by the engine at a fixed size, whatever the window's.
    open_export_menu(&mut harness);
    let path = dir.path().join("projection.png");
    dialogs.answer(&path);
    harness.get_by_label("Chart: projection...").click();
    harness.run_steps(12);
    assert_eq!(dialogs.asked().last(), Some(&DialogPurpose::Export(ExportKind::Chart(ChartId::Projection))));
    assert!(harness.state().last_error.is_none(), "{:?}", harness.state().last_error);
    assert_eq!(png_size(&path), strata::app::CHART_EXPORT_SIZE);
    harness.get_by_label_contains("Chart (1600 x 1000 pixels) written to");
    // The silhouettes too: drawn by the engine, not cut out of the window's picture.
    open_export_menu(&mut harness);
    let path = dir.path().join("silhouettes.png");
    dialogs.answer(&path);
    harness.get_by_label("Chart: silhouettes...").click();
    harness.run_steps(12);
    assert!(harness.state().last_error.is_none(), "{:?}", harness.state().last_error);
    assert_eq!(png_size(&path), strata::app::CHART_EXPORT_SIZE);
}

#[test]
fn over_time_applies_the_business_rules_in_every_window() {
    let (mut harness, _) = demo();
    tab(&harness, Screen::OverTime);
    harness.run();
    assert!(harness.query_by_label(strata::engine::over_time::RULES_APPLIED).is_none(), "no rules, no note");
    let rules = strata::engine::rules::BusinessRules {
        rules: vec![strata::engine::rules::BusinessRule {
            text: "when monetary_total > p90 then segment \"Top tenth\"".into(),
            why: "test".into(),
        }],
        overrides: Vec::new(),
    };
    harness.state_mut().push(Command::EditRules { rules, what: "top tenth".into(), why: "test".into() });
    harness.run();
    harness.get_by_label(strata::engine::over_time::RULES_APPLIED);
    harness.get_by_label("Follow the customers").click();
    // The windows are segmented on a job of their own; wait for the ones made with the rule.
    let waited = std::time::Instant::now();
    while !harness.state().over_time.as_ref().is_some_and(|o| o.is_for(harness.state().doc.as_ref().unwrap())) {
        assert!(harness.state().over_time_error.is_none(), "{:?}", harness.state().over_time_error);
        assert!(waited.elapsed().as_secs() < 300, "the windows with the rule never arrived");
        harness.run_steps(5);
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = harness.state().over_time.clone().expect("the windows arrived");
    let top = out.result.names.iter().position(|n| n == "Top tenth");
    let top = top.unwrap_or_else(|| panic!("no rule segment in {:?}: {:?}", out.result.names, out.result.warnings));
    for window in &out.result.windows {
        // About a tenth of each window's customers (the percentile is the window's own).
        let share = window.sizes[top] as f64 / window.n_customers as f64;
        assert!((0.05..=0.15).contains(&share), "{share} of {window:?}");
    }
    harness.run();
    assert!(harness.query_all_by_label_contains("Top tenth").count() > 0, "the screen names the rule's segment");
}
