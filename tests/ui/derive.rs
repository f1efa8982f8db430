//! Derived columns on the Data screen: written with the widgets, previewed on the first rows, an
//! error shown inline, and the new column offered as a feature once the data is read again.

use super::*;

fn bookings(dir: &Path) -> std::path::PathBuf {
    let mut text = String::from("guest,price_per_night,weekend_nights,week_nights,channel\n");
    for i in 0..80 {
        let channel = if i % 3 == 0 { "web" } else { "agent" };
        text.push_str(&format!("g{i:03},{},{},{},{channel}\n", 60 + (i * 7) % 90, i % 3, 1 + i % 5));
    }
    let path = dir.join("guests.csv");
    std::fs::write(&path, text).unwrap();
    path
}

fn type_into(harness: &mut Harness<'static, StrataApp>, label: &str, text: &str) {
    // The expression is a multi-line field, the name a single line.
    let role = if label == "Expression" { Role::MultilineTextInput } else { Role::TextInput };
    let field = harness.get_by_role_and_label(role, label);
    field.focus();
    field.type_text(text);
    harness.run();
}

fn clear(harness: &mut Harness<'static, StrataApp>) {
    harness.get_by_label("Clear").click();
    harness.run();
}

#[test]
fn a_derived_column_is_written_previewed_refused_inline_and_used_as_a_feature() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = harness(StartProject::Empty, &ScriptedDialogs::new());
    harness.input_mut().dropped_files.push(std::sync::Arc::new(Dropped(bookings(dir.path()))));
    harness.run();
    assert!(harness.state().output.is_some(), "{:?}", harness.state().last_error);
    tab(&harness, Screen::Data);
    harness.run();
    harness.get_by_label("Derived columns").click();
    harness.run();

    // A bad expression: the error is shown inline, naming the column and where it is, and it
    // cannot be added.
    type_into(&mut harness, "Derived column name", "amount");
    type_into(&mut harness, "Expression", "price_per_night * nights");
    harness.get_by_label_contains("column 'nights' (at line 1, column 19) is not in the data");
    harness.get_by_label("Add derived column").click();
    harness.run();
    assert!(harness.state().doc.as_ref().unwrap().project.spec.derived.columns.is_empty());
    clear(&mut harness);
    type_into(&mut harness, "Derived column name", "amount");
    type_into(&mut harness, "Expression", "sum(price_per_night)");
    harness.get_by_label_contains("is an aggregate over many rows");
    clear(&mut harness);

    // A good one: the preview shows its first values; adding it is an edit.
    type_into(&mut harness, "Derived column name", "amount");
    type_into(&mut harness, "Expression", "price_per_night * (weekend_nights + week_nights)");
    harness.get_by_label_contains("First 8 rows");
    // g001: 67 * (1 + 2) = 201, a value no other column of the preview has.
    assert!(
        harness.query_by_label("201").is_some() || harness.query_by_label("201.0").is_some(),
        "the preview shows g001's amount"
    );
    harness.get_by_label("amount");
    harness.get_by_label("Add derived column").click();
    harness.run();
    let spec = |app: &StrataApp| app.doc.as_ref().unwrap().project.spec.clone();
    assert_eq!(spec(harness.state()).derived.columns.len(), 1);
    harness.get_by_label("amount = price_per_night * (weekend_nights + week_nights)");
    assert!(harness.state().doc.as_ref().unwrap().is_dirty());

    // The customer table now has it, and the Features screen offers it.
    let customers = &harness.state().output.as_ref().unwrap().result.customers;
    assert!(customers.column("amount").is_ok(), "{:?}", customers.get_column_names());
    tab(&harness, Screen::Features);
    harness.run();
    let checkbox = harness.get_by_role_and_label(Role::CheckBox, "amount");
    checkbox.click();
    harness.run();
    let names = harness.state().output.as_ref().unwrap().result.matrix.names.clone();
    assert!(names.contains(&"amount".to_string()), "{names:?}");

    // Undo takes the feature back, then the derived column.
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    harness.run();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    harness.run();
    assert!(spec(harness.state()).derived.columns.is_empty());

    // Redo, then edit its formula through the list, then remove it.
    harness.key_press_modifiers(egui::Modifiers::COMMAND | egui::Modifiers::SHIFT, egui::Key::Z);
    harness.run();
    tab(&harness, Screen::Data);
    harness.run();
    harness.get_by_label("Edit formula").click();
    harness.run();
    type_into(&mut harness, "Expression", " * 2");
    assert!(harness.query_by_label("402").is_some() || harness.query_by_label("402.0").is_some(), "g001 doubled");
    harness.get_by_label("Save derived column").click();
    harness.run();
    assert_eq!(
        spec(harness.state()).derived.columns[0].expression,
        "price_per_night * (weekend_nights + week_nights) * 2"
    );
    harness.get_by_label("Remove derived column").click();
    harness.run();
    assert!(spec(harness.state()).derived.columns.is_empty());
}
