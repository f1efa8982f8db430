//! How columns were read, on the Data screen (issue 18): a log whose dates read both day-first and
//! month-first is asked about, the answer is stored in the project and the dates follow it; a
//! column's reading is changed from the screen; rows whose date does not parse go where the user
//! says.

use super::*;

use strata::engine::data::{ReadAs, UnparsedDates};
use strata::engine::pipeline::TableKind;

/// A transaction log whose every date has a day and a month of at most 12 (`03/04/2024`).
fn ambiguous_log(dir: &Path) -> std::path::PathBuf {
    let mut text = String::from("customer_id,order_date,amount\n");
    for i in 0..240usize {
        let customer = i % 40;
        let day = 1 + (i * 5 + customer) % 12;
        let month = 1 + (i / 20) % 12;
        text.push_str(&format!("c{customer},{day:02}/{month:02}/2024,{}.25\n", 5 + (customer % 7) * 20 + i % 3));
    }
    // The first row is the question's example: 3 April or March 4.
    text = text.replacen("c0,01/01/2024", "c0,03/04/2024", 1);
    let path = dir.join("orders.csv");
    std::fs::write(&path, text).unwrap();
    path
}

fn preview_dates(app: &StrataApp, column: &str) -> Vec<Option<chrono::NaiveDate>> {
    let preview = app.preview.as_ref().unwrap();
    let days = preview.frame.column(column).unwrap().cast(&polars::prelude::DataType::Date).unwrap();
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
    days.date().unwrap().physical().iter().map(|d| d.map(|d| epoch + chrono::Duration::days(i64::from(d)))).collect()
}

#[test]
fn an_ambiguous_date_column_is_asked_about_and_the_answer_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let log = ambiguous_log(dir.path());
    let dialogs = ScriptedDialogs::new();
    let mut harness = harness(StartProject::Empty, &dialogs);
    harness.state_mut().push(Command::OpenData(log));
    harness.run();
    tab(&harness, Screen::Data);
    harness.run();
    // Not guessed: the column waits as text, nothing is set up or run, and the window asks.
    {
        let app = harness.state();
        assert!(app.output.is_none());
        let preview = app.preview.as_ref().unwrap();
        assert_eq!(preview.ambiguities.len(), 1);
        assert_eq!(preview.frame.column("order_date").unwrap().dtype(), &polars::prelude::DataType::String);
    }
    harness.get_by_label("Dates that read two ways");
    harness.get_by_label("Column 'order_date': 03/04/2024: 3 April or March 4?");

    harness.get_by_label("3 April (day/month)").click();
    harness.run();
    let app = harness.state();
    let spec = &app.doc.as_ref().unwrap().project.spec;
    let own = spec.source.read_options.formats.column("order_date").unwrap();
    assert_eq!(own.date_format.as_deref(), Some("%d/%m/%Y"));
    // The dates follow the answer: 03/04/2024 is 3 April.
    assert!(app.preview.as_ref().unwrap().ambiguities.is_empty());
    let dates = preview_dates(app, "order_date");
    assert_eq!(dates[0], chrono::NaiveDate::from_ymd_opt(2024, 4, 3));
    assert_eq!(dates[1], chrono::NaiveDate::from_ymd_opt(2024, 1, 7));
    // Then the file is set up as the log it is, and runs.
    let TableKind::TransactionLog(columns) = &spec.table else { panic!("{:?}", spec.table) };
    assert_eq!(columns.date, "order_date");
    assert!(app.output.is_some(), "{:?}", app.last_error);
    assert_eq!(app.output.as_ref().unwrap().result.customers.height(), 40);
    assert!(harness.query_by_label("Dates that read two ways").is_none());

    // The answer is in the project file and comes back with it.
    let path = dir.path().join("orders.strata");
    dialogs.answer(&path);
    harness.state_mut().push(Command::Save);
    harness.run();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("order_date") && text.contains("%d/%m/%Y"), "{text}");
    let reopened = harness_for(&path);
    assert_eq!(preview_dates(reopened.state(), "order_date")[0], chrono::NaiveDate::from_ymd_opt(2024, 4, 3));
    assert!(reopened.state().output.is_some(), "{:?}", reopened.state().last_error);
}

#[test]
fn answering_month_first_reads_march_and_undo_asks_again() {
    let dir = tempfile::tempdir().unwrap();
    let log = ambiguous_log(dir.path());
    let mut harness = harness(StartProject::Empty, &ScriptedDialogs::new());
    harness.state_mut().push(Command::OpenData(log));
    harness.run();
    tab(&harness, Screen::Data);
    harness.run();
    harness.get_by_label("March 4 (month/day)").click();
    harness.run();
    assert_eq!(preview_dates(harness.state(), "order_date")[0], chrono::NaiveDate::from_ymd_opt(2024, 3, 4));
    harness.state_mut().push(Command::Undo);
    harness.run();
    harness.get_by_label("Column 'order_date': 03/04/2024: 3 April or March 4?");
}

#[test]
fn the_data_screen_says_how_each_column_was_read_and_changes_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("customers.csv");
    let mut text = String::from("id;signup_date;spend;visits\n");
    for i in 0..60 {
        let signup = if i == 7 { "not yet".to_string() } else { format!("{:02}.08.2017", 1 + i % 28) };
        text.push_str(&format!("c{i};{signup};\"{},{:02}\";{}\n", 1000 + i * 37, i % 100, 1 + i % 5));
    }
    std::fs::write(&path, text).unwrap();
    let mut harness = harness(StartProject::Empty, &ScriptedDialogs::new());
    harness.state_mut().push(Command::OpenData(path));
    harness.run();
    tab(&harness, Screen::Data);
    harness.run();
    // Each reading in words, the unparsed value counted with its example.
    for shown in ["read as day/month/year dates (01.08.2017)", "'not yet'", "read as numbers with a decimal comma"] {
        assert!(harness.query_all_by_label_contains(shown).next().is_some(), "{shown}");
    }
    harness.get_by_label("1 value not dates: a run refuses the file until you choose where they go.");
    // The run refuses, naming the column and the value.
    let error = harness.state().last_error.clone().unwrap_or_default();
    assert!(error.contains("signup_date") && error.contains("not yet"), "{error}");

    // Choose the fallback segment for such rows.
    harness.get_by_role_and_label(Role::ComboBox, "Values that are not dates").click();
    harness.run();
    harness.get_by_label("fallback segment").click();
    harness.run();
    let app = harness.state();
    let formats = &app.doc.as_ref().unwrap().project.spec.source.read_options.formats;
    assert_eq!(formats.unparsed_dates, UnparsedDates::Fallback);

    // Keep the date column as text (the first column read from formatted text is the one chosen).
    harness.get_by_role_and_label(Role::ComboBox, "Read as").click();
    harness.run();
    harness.get_by_label("text as written").click();
    harness.run();
    let app = harness.state();
    let formats = &app.doc.as_ref().unwrap().project.spec.source.read_options.formats;
    assert_eq!(formats.read_as("signup_date"), ReadAs::Text);
    let frame = &app.preview.as_ref().unwrap().frame;
    assert_eq!(frame.column("signup_date").unwrap().dtype(), &polars::prelude::DataType::String);
    assert!(harness.query_all_by_label_contains("kept as text as written (your choice)").next().is_some());
}
