//! `strata run` carries names and notes to a re-fit as the window does: at another k (`--k`),
//! with another method (`--method`), after a k edited into the file by hand, and a business rule's
//! own segment is labelled with the rule's name in `--out`.

// Tests may unwrap: a failed unwrap is a failed test with its line (helpers included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Output};

use strata::engine::data::{ReadOptions, read_table};
use strata::engine::project::{self, SegmentNote};
use strata::engine::rules::BusinessRule;

fn strata(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strata")).args(args).current_dir(dir).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// 600 customers in three groups: `c0`..`c299` two halves close together (Big), `c300`..`c499`
/// (Middle), `c500`..`c599` (Small), far apart.
fn three_groups(dir: &Path) {
    let mut text = String::from("customer_id,visits,spend\n");
    for i in 0..600 {
        let (x, y) = match i {
            0..150 => (0.0, 0.0),
            150..300 => (3.0, 0.0),
            300..500 => (40.0, 40.0),
            _ => (80.0, 0.0),
        };
        text.push_str(&format!("c{i},{},{}\n", x + (i % 7) as f64 * 0.05, y + (i % 5) as f64 * 0.05));
    }
    std::fs::write(dir.join("customers.csv"), text).unwrap();
}

fn group_of(id: &str) -> &'static str {
    match id[1..].parse::<u32>().unwrap() {
        0..300 => "Big",
        300..500 => "Middle",
        _ => "Small",
    }
}

/// A project fitted at k = 3 by `strata fit`, its segments named and described (as the window or
/// a hand edit would), segment numbers by size: Big, Middle, Small.
fn named_project(dir: &Path) -> std::path::PathBuf {
    three_groups(dir);
    let o = strata(
        &[
            "fit",
            "--data",
            "customers.csv",
            "--id",
            "customer_id",
            "--features",
            "visits,spend",
            "--k",
            "3",
            "--seed",
            "1",
            "--project",
            "p.strata",
        ],
        dir,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let path = dir.join("p.strata");
    let mut project = project::open(&path).unwrap().project;
    assert_eq!(project.results.as_ref().unwrap().sizes, vec![300, 200, 100]);
    project.segments = ["Big", "Middle", "Small"]
        .iter()
        .enumerate()
        .map(|(segment, name)| SegmentNote {
            segment,
            name: name.to_string(),
            notes: format!("about {name}"),
            ..Default::default()
        })
        .collect();
    project.save_unsealed(&path).unwrap();
    path
}

/// The `segment_name` per customer id of an assignments file.
fn labels(path: &Path) -> HashMap<String, String> {
    let table = read_table(path, &ReadOptions::default()).unwrap().frame;
    let column = |name: &str| -> Vec<String> {
        let c = table.column(name).unwrap().cast(&polars::prelude::DataType::String).unwrap();
        c.str().unwrap().iter().map(|v| v.unwrap_or("").to_string()).collect()
    };
    column("customer_id").into_iter().zip(column("segment_name")).collect()
}

/// Middle and Small label exactly their customers; Big labels only Big customers.
fn assert_labels_follow(labels: &HashMap<String, String>, when: &str) {
    for (id, label) in labels {
        let group = group_of(id);
        if group == "Middle" || group == "Small" {
            assert_eq!(label, group, "{when}: customer {id}");
        } else {
            assert!(label == "Big" || label.starts_with("Segment "), "{when}: customer {id} labelled {label}");
        }
    }
    let big = labels.values().filter(|l| *l == "Big").count();
    assert!(big >= 150, "{when}: Big names at least the larger half of its customers ({big})");
}

#[test]
fn run_at_another_k_carries_names_saves_and_reopens_and_another_method_does_too() {
    let dir = tempfile::tempdir().unwrap();
    let path = named_project(dir.path());
    let o = strata(&["run", "p.strata", "--k", "4", "--save", "--out", "k4.csv"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("names and notes followed their customers"), "{}", stderr(&o));
    assert_labels_follow(&labels(&dir.path().join("k4.csv")), "--k 4");
    // Saved: k = 4, the names on their new numbers with their notes, and the re-run verifies.
    let project = project::open(&path).unwrap().project;
    assert_eq!(project.spec.model.algorithm.k(), Some(4));
    assert_eq!(project.results.as_ref().unwrap().sizes.len(), 4);
    let middle = project.segments.iter().find(|n| n.name == "Middle").unwrap();
    assert_eq!(middle.notes, "about Middle");
    assert_eq!(project.segments.iter().filter(|n| n.name == "Big").count(), 1, "{:?}", project.segments);
    let o = strata(&["run", "p.strata", "--verify"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stderr(&o).contains("followed"), "nothing to carry when the fit is the stored one: {}", stderr(&o));

    // Another method: the same names on the same customers.
    let o = strata(&["run", "p.strata", "--method", "gmm", "--out", "gmm.csv", "--json"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert_labels_follow(&labels(&dir.path().join("gmm.csv")), "--method gmm");
    // Bad input is one line.
    let o = strata(&["run", "p.strata", "--method", "nope"], dir.path());
    assert!(!o.status.success());
    assert!(stderr(&o).contains("unknown method 'nope'"), "{}", stderr(&o));
    let o = strata(&["run", "p.strata", "--method", "dbscan", "--k", "3"], dir.path());
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--k is not a setting of dbscan"), "{}", stderr(&o));
}

#[test]
fn a_k_edited_by_hand_carries_names_on_run_and_a_rule_segment_is_labelled_with_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    let path = named_project(dir.path());
    // Saved once by `run --save` (which keeps the assignment the names are numbered by), then
    // k = 4 edited into the file by hand.
    let o = strata(&["run", "p.strata", "--save"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let mut project = project::open(&path).unwrap().project;
    assert_eq!(project.kept.len(), 1);
    project.spec.model.algorithm.set_k(4);
    project.save_unsealed(&path).unwrap();
    let o = strata(&["run", "p.strata", "--out", "hand.csv"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("names and notes followed their customers"), "{}", stderr(&o));
    assert_labels_follow(&labels(&dir.path().join("hand.csv")), "k edited by hand");

    // Back at k = 3, a rule sends the far customers to "VIP"; an orphan note left at number 3 (the
    // number the rule's segment gets) is not inherited.
    let mut project = project::open(&path).unwrap().project;
    project.spec.model.algorithm.set_k(3);
    project.segments.push(SegmentNote {
        segment: 3,
        name: "Best customers".into(),
        notes: "protect and reward".into(),
        ..Default::default()
    });
    project.rules.rules.push(BusinessRule { text: "when visits > 70 then segment \"VIP\"".into(), why: "test".into() });
    project.save_unsealed(&path).unwrap();
    let o = strata(&["run", "p.strata", "--out", "vip.csv", "--save"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let labels = labels(&dir.path().join("vip.csv"));
    for (id, label) in &labels {
        let expected = if group_of(id) == "Small" { "VIP" } else { group_of(id) };
        if group_of(id) != "Big" {
            assert_eq!(label, expected, "customer {id}");
        }
    }
    assert!(!labels.values().any(|l| l == "Best customers"));
    let project = project::open(&path).unwrap().project;
    let vip = project.segments.iter().find(|n| n.segment == 3).unwrap();
    assert_eq!((vip.name.as_str(), vip.notes.as_str()), ("VIP", ""));
}
