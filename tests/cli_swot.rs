//! `strata swot` on the demo project: the board with live evidence, hints, the decision list, and
//! cards following their customers through a re-fit.

// Tests may unwrap: a failed unwrap is a failed test with its line (helpers included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn strata(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strata")).args(args).current_dir(dir).output().unwrap()
}

fn demo_copy(dir: &Path) -> PathBuf {
    let path = dir.join("demo.strata");
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("projects/cdnow-demo.strata"), &path).unwrap();
    path
}

fn json(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn the_demo_board_shows_live_evidence_and_writes_its_decision_list() {
    let dir = tempfile::tempdir().unwrap();
    let project = demo_copy(dir.path());
    let decisions = dir.path().join("decisions.csv");
    let o =
        strata(&["swot", project.to_str().unwrap(), "--json", "--decisions", decisions.to_str().unwrap()], dir.path());
    let doc = json(&o);
    let quadrants = doc["quadrants"].as_array().unwrap();
    let labels: Vec<&str> = quadrants.iter().map(|q| q["quadrant"].as_str().unwrap()).collect();
    assert_eq!(labels, ["Strengths", "Weaknesses", "Opportunities", "Threats"]);
    let cards: Vec<&serde_json::Value> = quadrants.iter().flat_map(|q| q["cards"].as_array().unwrap()).collect();
    assert_eq!(cards.iter().filter(|c| c["kind"] == "segment").count(), 6);
    assert_eq!(cards.iter().filter(|c| c["kind"] == "text").count(), 2);
    assert!(cards.iter().all(|c| !c["note"].as_str().unwrap().is_empty()), "every placement says why");
    // Every segment of the demo is placed, and its evidence is the run's: sizes add up to the
    // customers, the revenue shares to one.
    let segments = doc["segments"].as_array().unwrap();
    assert_eq!(segments.len(), 5);
    let sizes: u64 = segments.iter().map(|s| s["size"].as_u64().unwrap()).sum();
    assert_eq!(sizes, 23_570);
    let revenue: f64 = segments.iter().map(|s| s["revenue_share"].as_f64().unwrap()).sum();
    assert!((revenue - 1.0).abs() < 1e-9, "{revenue}");
    assert_eq!(doc["revenue_column"], "monetary_total");
    let best = segments.iter().find(|s| s["name"] == "Best customers").unwrap();
    assert!(best["revenue_share"].as_f64().unwrap() > best["share"].as_f64().unwrap() * 2.0, "{best}");
    assert!(best["words"].as_str().unwrap().contains("frequent"), "{best}");
    // The demo's value model puts each segment's worth on its card, as the Value screen gives it.
    let value: f64 = segments.iter().map(|s| s["value_share"].as_f64().unwrap()).sum();
    assert!((value - 1.0).abs() < 1e-9, "{value}");
    let (lo, mid, hi) = (
        best["value_per_customer_p10"].as_f64().unwrap(),
        best["value_per_customer"].as_f64().unwrap(),
        best["value_per_customer_p90"].as_f64().unwrap(),
    );
    assert!(lo < mid && mid < hi, "{best}");
    assert!(best["value_share"].as_f64().unwrap() > best["share"].as_f64().unwrap() * 2.0, "{best}");
    // Without stability or windows the notes say what is missing instead of guessing.
    let notes = doc["notes"].to_string();
    assert!(notes.contains("No stability") && notes.contains("No trend"), "{notes}");
    assert!(!notes.contains("No value"), "{notes}");
    let strategies = doc["strategies"].as_array().unwrap();
    let cells: Vec<&str> = strategies.iter().map(|s| s["cell"].as_str().unwrap()).collect();
    assert_eq!(cells, ["SO", "ST", "WO", "WT"]);
    let csv = std::fs::read_to_string(&decisions).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("cell,action,owner,segments,pairs"));
    assert_eq!(lines.count(), 4);
    assert!(csv.contains("Best customers"), "{csv}");
}

#[test]
fn cards_follow_their_customers_through_a_refit() {
    let dir = tempfile::tempdir().unwrap();
    let project = demo_copy(dir.path());
    let p = project.to_str().unwrap();
    let o = strata(&["run", p, "--k", "6", "--save"], dir.path());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let doc = json(&strata(&["swot", p, "--json"], dir.path()));
    let cards: Vec<serde_json::Value> =
        doc["quadrants"].as_array().unwrap().iter().flat_map(|q| q["cards"].as_array().unwrap().clone()).collect();
    let names: Vec<String> =
        doc["segments"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_string()).collect();
    // Each segment card either shows the segment its customers went to, under the name that
    // followed them, or says it is no longer a segment and why; none points at a stranger.
    for card in cards.iter().filter(|c| c["kind"] != "text") {
        match card["kind"].as_str().unwrap() {
            "segment" => {
                let n = card["segment_number"].as_u64().unwrap() as usize;
                assert_eq!(card["title"].as_str().unwrap(), names[n - 1], "{card}");
            }
            "detached" => assert!(card["detached_why"].as_str().unwrap().contains("no longer"), "{card}"),
            other => panic!("{other}"),
        }
    }
    let titles: Vec<&str> = cards.iter().map(|c| c["title"].as_str().unwrap()).collect();
    assert!(titles.contains(&"Best customers"), "the best customers stay one segment at k = 6: {titles:?}");
    // The saved file still opens (the board was checked on the way in).
    let o = strata(&["run", p, "--verify"], dir.path());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn a_project_without_a_board_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let project = demo_copy(dir.path());
    let text = std::fs::read_to_string(&project).unwrap();
    let cut = text.find("    board: Some((").unwrap();
    std::fs::write(&project, format!("{})\n", &text[..cut])).unwrap();
    let o = strata(&["swot", project.to_str().unwrap()], dir.path());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("The board is empty"));
}
