//! Names and notes belong to customers: the scenario on the demo, k 4 -> 5, method switches
//! and back, a business rule's own segment, and the labels the exported assignments carry.

use super::*;
use std::collections::{HashMap, HashSet};

/// Who is in each named segment (by customer id), with its notes.
fn named_groups(app: &StrataApp) -> HashMap<String, (HashSet<String>, String)> {
    let result = &app.output.as_ref().unwrap().result;
    let ids = result.customers.column("customer_id").unwrap().cast(&polars::prelude::DataType::String).unwrap();
    let ids = ids.str().unwrap();
    let doc = app.doc.as_ref().unwrap();
    let mut out = HashMap::new();
    for note in &doc.project.segments {
        // Names nobody wrote (the method's own, "Segment N") are not followed.
        if note.name == result.default_segment_name(note.segment)
            || note.name.starts_with("Segment ")
            || note.segment >= result.n_model_segments()
        {
            continue;
        }
        let members = (0..result.customers.height())
            .filter(|&r| result.segment_per_customer[r] == Some(note.segment))
            .map(|r| ids.get(r).unwrap().to_string())
            .collect();
        out.insert(note.name.clone(), (members, note.notes.clone()));
    }
    out
}

/// Every name of `before` sits on the segment now holding the majority of its customers, with its
/// note; or the list after the change says it was left unnamed. Returns how many were carried.
fn assert_names_followed(
    harness: &Harness<'static, StrataApp>,
    before: &HashMap<String, (HashSet<String>, String)>,
    when: &str,
) -> usize {
    let now = named_groups(harness.state());
    let mut carried = 0;
    for (name, (members, notes)) in before {
        let holder = now.iter().find(|(n, _)| *n == name || n.split(" + ").any(|part| part == name));
        match holder {
            Some((now_name, (now_members, now_notes))) => {
                let common = members.intersection(now_members).count();
                assert!(
                    2 * common >= members.len(),
                    "{when}: \"{name}\" is on \"{now_name}\", which holds only {common} of its {} customers",
                    members.len()
                );
                assert!(
                    now_notes.contains(notes.as_str()),
                    "{when}: the note of \"{name}\" did not follow: {now_notes:?}"
                );
                carried += 1;
            }
            None => {
                let shown = harness.state().doc.as_ref().unwrap().names_change.as_ref().map(|c| c.change.lines());
                let lines = shown.unwrap_or_default();
                let line = format!("Left unnamed: \"{name}\"");
                assert!(
                    lines.iter().any(|l| l.starts_with(&line)),
                    "{when}: \"{name}\" vanished; the list says {lines:?}; names now {:?}",
                    now.keys().collect::<Vec<_>>()
                );
                harness.get_by_label_contains(&line);
            }
        }
    }
    carried
}

/// Names segments 0, 1, ... as `names` and writes "note on NAME" on each, as an analyst would.
fn name_segments(harness: &mut Harness<'static, StrataApp>, names: &[&str]) {
    for (s, name) in names.iter().enumerate() {
        harness.state_mut().push(Command::RenameSegment { segment: s, name: name.to_string() });
        harness.run();
        harness.state_mut().push(Command::EditSegmentNotes { segment: s, notes: format!("note on {name}") });
        harness.run();
    }
}

fn algorithm_name(app: &StrataApp) -> &'static str {
    app.doc.as_ref().unwrap().project.spec.model.algorithm.name()
}

#[test]
fn names_and_notes_stay_on_their_customers_through_k_methods_and_rules_and_reach_the_export() {
    let dir = tempfile::tempdir().unwrap();
    let (mut harness, _) = demo();
    tab(&harness, Screen::Segments);
    harness.run();
    // k = 4, then the four segments named and described as an analyst would.
    harness.state_mut().push(Command::SelectK(4));
    harness.run();
    assert_eq!(k_of(harness.state()), 4);
    let names = ["Dormant", "Occasional", "Loyal", "Champions"];
    name_segments(&mut harness, &names);
    let at_k4 = named_groups(harness.state());
    assert_eq!(at_k4.len(), 4);

    // k = 5: each name on the segment holding most of its customers, and a list says what happened.
    harness.state_mut().push(Command::SelectK(5));
    harness.run();
    assert_eq!(k_of(harness.state()), 5);
    let carried = assert_names_followed(&harness, &at_k4, "k 4 -> 5");
    assert!(carried >= 3, "one new segment can take at most one name's majority away: {carried} of 4 carried");
    harness.get_by_label("Names after the change");
    let change = harness.state().doc.as_ref().unwrap().names_change.clone().unwrap();
    // k = 5 has a segment none of the k = 4 names went to: it is new, or it takes back the name it
    // had when the demo's k = 5 was last shown.
    match change.change.restored.first() {
        Some((name, segment)) => {
            harness.get_by_label_contains(&format!("Restored: \"{name}\" on segment {}", segment + 1));
        }
        None => {
            assert!(!change.change.new_segments.is_empty(), "k = 5 has a segment no name went to");
            harness.get_by_label_contains("New, not named yet: segment");
        }
    }
    // No note is left at a number without its name, and none sits on two cards.
    let doc_notes = harness.state().doc.as_ref().unwrap().project.segments.clone();
    let written: Vec<&str> = doc_notes.iter().map(|n| n.notes.as_str()).filter(|n| !n.is_empty()).collect();
    assert_eq!(written.len(), written.iter().collect::<HashSet<_>>().len(), "a note on two cards: {doc_notes:?}");

    // Undo on the list puts k and the names back as they were; redo returns to k = 5.
    harness.get_by_label("Undo this change").click();
    harness.run();
    assert_eq!(k_of(harness.state()), 4);
    assert_eq!(named_groups(harness.state()), at_k4, "the names as they were, on the same customers");
    assert!(harness.state().doc.as_ref().unwrap().names_change.is_none(), "the list closes with its undo");
    harness.state_mut().push(Command::Redo);
    harness.run();
    assert_eq!(k_of(harness.state()), 5);

    // Method switches and back: every step carries the names by customers, and k-means comes back
    // at its own k = 5 and seed (not the default k = 4).
    tab(&harness, Screen::Model);
    harness.run();
    let seed = harness.state().doc.as_ref().unwrap().project.spec.model.algorithm.seed();
    for (label, method) in
        [("Gaussian mixture", "gmm"), ("k-means", "kmeans"), ("DBSCAN", "dbscan"), ("k-means", "kmeans")]
    {
        let before = named_groups(harness.state());
        choose_algorithm(&mut harness, label);
        assert_eq!(algorithm_name(harness.state()), method);
        assert_eq!(harness.state().output.as_ref().unwrap().result.fit.method, method);
        assert_names_followed(&harness, &before, &format!("switch to {method}"));
    }
    let algorithm = harness.state().doc.as_ref().unwrap().project.spec.model.algorithm.clone();
    assert_eq!((algorithm.k(), algorithm.seed()), (Some(5), seed), "k-means returns to its own settings");
    assert_eq!(k_of(harness.state()), 5);

    // The rule: its segment is named after the rule and inherits no note.
    tab(&harness, Screen::Rules);
    harness.run();
    let field = harness.get_by_label("New rule");
    field.focus();
    field.type_text("when frequency >= 12 then segment \"VIP\"");
    harness.run();
    harness.get_by_label("Add rule").click();
    harness.run();
    let app = harness.state();
    let result = &app.output.as_ref().unwrap().result;
    let vip = result.n_model_segments();
    assert_eq!(result.n_segments(), vip + 1);
    let note = app.doc.as_ref().unwrap().project.segments.iter().find(|n| n.segment == vip).cloned().unwrap();
    assert_eq!((note.name.as_str(), note.notes.as_str()), ("VIP", ""), "the rule's segment is the rule's");
    let moved = result.segment_per_customer.iter().filter(|s| **s == Some(vip)).count();
    assert!(moved > 0, "the rule moves customers");
    let shown: Vec<Option<String>> = result
        .segment_per_customer
        .iter()
        .map(|s| {
            s.map(|s| app.doc.as_ref().unwrap().project.segments.iter().find(|n| n.segment == s).unwrap().name.clone())
        })
        .collect();

    // Saved and exported by `strata run --out`: every customer labelled as the window shows it.
    let path = dir.path().join("named.strata");
    harness.state_mut().push(Command::SaveAs(path.clone()));
    harness.run();
    assert!(path.is_file());
    let csv = dir.path().join("assignments.csv");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["run", path.to_str().unwrap(), "--out", csv.to_str().unwrap()])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let name_column = header.iter().position(|h| *h == "segment_name").unwrap();
    let changed_by = header.iter().position(|h| *h == "changed_by").unwrap();
    let mut vip_rows = 0;
    for (row, line) in lines.enumerate() {
        let fields: Vec<&str> = line.split(',').collect();
        let label = fields[name_column].trim_matches('"');
        assert_eq!(Some(label), shown[row].as_deref(), "row {row}: {line}");
        if fields[changed_by].contains("rule") {
            assert_eq!(label, "VIP", "a rule-moved customer is labelled VIP: {line}");
            vip_rows += 1;
        }
    }
    assert_eq!(vip_rows, moved);
}

#[test]
fn a_return_to_a_segmentation_shown_before_gives_its_names_back_exactly() {
    let (mut harness, _) = demo();
    tab(&harness, Screen::Segments);
    harness.run();
    harness.state_mut().push(Command::SelectK(5));
    harness.run();
    let names = ["Dormant", "Occasional", "Loyal", "Champions", "New"];
    name_segments(&mut harness, &names);
    let at_k5 = named_groups(harness.state());
    let notes_at_k5 = harness.state().doc.as_ref().unwrap().project.segments.clone();
    // To DBSCAN, whose few dense groups hold several of the names at once, and back.
    tab(&harness, Screen::Model);
    harness.run();
    choose_algorithm(&mut harness, "DBSCAN");
    assert_eq!(algorithm_name(harness.state()), "dbscan");
    let at_dbscan = named_groups(harness.state());
    assert_ne!(at_dbscan, at_k5, "DBSCAN's groups are not k-means'");
    choose_algorithm(&mut harness, "k-means");
    assert_eq!(algorithm_name(harness.state()), "kmeans");
    // The same customers in the same segments as before: every name and note exactly as written.
    assert_eq!(named_groups(harness.state()), at_k5);
    assert_eq!(harness.state().doc.as_ref().unwrap().project.segments, notes_at_k5);
    let change = harness.state().doc.as_ref().unwrap().names_change.clone().expect("the list says what happened");
    // What DBSCAN merged or left unnamed is given back, and the list says so.
    let (name, segment) = change.change.restored.first().cloned().expect("names given back");
    assert_eq!(name, names[segment], "{:?}", change.change.lines());
    harness.get_by_label_contains(&format!("Restored: \"{name}\" on segment {}", segment + 1));
    // Undo on the list returns to DBSCAN with the names it had there.
    harness.get_by_label("Undo this change").click();
    harness.run();
    assert_eq!(algorithm_name(harness.state()), "dbscan");
    assert_eq!(named_groups(harness.state()), at_dbscan);
}
