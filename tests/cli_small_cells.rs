//! Small cells and minimisation through the command line (issue 20): a segment under the threshold
//! is "<10" in every JSON summary with the counts that would give it away "hidden" and the shares
//! and means resting on it null; `--small-cells` sets the threshold of a command without a project,
//! and a project keeps its own (lowering it is in its audit log); a project file holds no raw
//! customer value; the report lists the columns nothing uses.

// Tests may unwrap: a failed unwrap is a failed test with its line (helpers included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

fn strata(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strata")).args(args).current_dir(dir).output().unwrap()
}

fn json(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// 60 customers: 55 light buyers and 5 heavy ones, each with a unique e-mail address, a tier that
/// says which, and a region.
fn customers(dir: &Path) {
    let mut text = String::from("id,email,spend,visits,tier,region\n");
    for i in 0..60 {
        let heavy = i >= 55;
        let (spend, visits) = if heavy { (500.0 + i as f64, 40 + i % 3) } else { (10.0 + (i % 7) as f64, 2 + i % 3) };
        let tier = if heavy { "heavy" } else { "light" };
        let region = if i % 2 == 0 { "north" } else { "south" };
        text.push_str(&format!(
            "cust{i:03},person{i}.x{}@example.org,{spend},{visits},{tier},{region}\n",
            i * 7919 % 1000
        ));
    }
    std::fs::write(dir.join("customers.csv"), text).unwrap();
}

/// Every number under a key that holds counts is zero or at least `threshold`.
fn no_small_count(value: &serde_json::Value, threshold: u64, key: &str, found: &mut Vec<String>) {
    const COUNTS: [&str; 8] =
        ["sizes", "counts", "size", "row_totals", "column_totals", "matrix", "n_left_out", "customers"];
    match value {
        serde_json::Value::Object(map) => map.iter().for_each(|(k, v)| no_small_count(v, threshold, k, found)),
        serde_json::Value::Array(items) => items.iter().for_each(|v| no_small_count(v, threshold, key, found)),
        serde_json::Value::Number(n) if COUNTS.contains(&key) => {
            if let Some(n) = n.as_u64().filter(|&n| n > 0 && n < threshold) {
                found.push(format!("{key}: {n}"));
            }
        }
        _ => {}
    }
}

fn assert_no_small_count(value: &serde_json::Value, threshold: u64) {
    let mut found = Vec::new();
    no_small_count(value, threshold, "", &mut found);
    assert!(found.is_empty(), "small counts shown: {found:?}\n{value:#}");
}

const FIT: [&str; 10] =
    ["fit", "--data", "customers.csv", "--id", "id", "--features", "spend,visits", "--k", "2", "--json"];

#[test]
fn a_small_segment_is_under_ten_in_the_json_with_the_count_that_would_give_it_away_hidden() {
    let dir = tempfile::tempdir().unwrap();
    customers(dir.path());
    let fit = json(&strata(&FIT, dir.path()));
    assert_eq!(fit["small_cells"], serde_json::json!({"threshold": 10}));
    let mut sizes: Vec<String> =
        fit["indices"]["sizes"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect();
    sizes.sort();
    assert_eq!(sizes, ["<10", "hidden"], "5 heavy buyers, and the 55 others that would give them away from 60");
    assert_eq!(fit["n_rows"], 60);
    assert_no_small_count(&fit, 10);

    // With the threshold at 1 every count is shown; 0 is refused.
    let mut args = FIT.to_vec();
    args.extend(["--small-cells", "1"]);
    let open = json(&strata(&args, dir.path()));
    let mut sizes: Vec<u64> =
        open["indices"]["sizes"].as_array().unwrap().iter().map(|s| s.as_u64().unwrap()).collect();
    sizes.sort();
    assert_eq!(sizes, [5, 55]);
    assert_eq!(open["small_cells"]["threshold"], 1);
    let mut args = FIT.to_vec();
    args.extend(["--small-cells", "0"]);
    assert!(!strata(&args, dir.path()).status.success());

    // The profile: no size, share, mean or median of the small segment; the other's size hidden.
    let profile = json(&strata(
        &[
            "profile",
            "--data",
            "customers.csv",
            "--id",
            "id",
            "--features",
            "spend,visits",
            "--labels",
            "tier",
            "--json",
        ],
        dir.path(),
    ));
    assert_no_small_count(&profile, 10);
    let segments = profile["segments"].as_array().unwrap();
    let heavy = segments.iter().find(|s| s["segment"] == "heavy").unwrap();
    assert_eq!(heavy["size"], "<10");
    assert!(heavy["share"].is_null());
    assert!(heavy["mean"]["spend"].is_null() && heavy["median"]["visits"].is_null());
    let light = segments.iter().find(|s| s["segment"] == "light").unwrap();
    assert_eq!(light["size"], "hidden");
    assert!(light["share"].is_null());
    assert!(light["mean"]["spend"].is_number(), "a hidden size still has its means");

    // A cross-tabulation of two label columns: its small cells and totals, and their complements.
    let compare = json(&strata(
        &["compare", "--data", "customers.csv", "--labels", "tier", "--labels", "region", "--json"],
        dir.path(),
    ));
    assert_no_small_count(&compare, 10);
    let text = compare["crosstab"].to_string();
    assert!(text.contains("\"<10\"") && text.contains("\"hidden\""), "{text}");
    assert_eq!(compare["n_customers"], 60);
}

#[test]
fn a_project_keeps_its_threshold_logs_lowering_it_and_holds_no_customer_value() {
    let dir = tempfile::tempdir().unwrap();
    customers(dir.path());
    let mut args = FIT.to_vec();
    args.extend(["--small-cells", "5", "--project", "p.strata", "--out", "assignments.csv"]);
    let fit = json(&strata(&args, dir.path()));
    assert_eq!(fit["small_cells"]["threshold"], 5);
    let opened = strata::engine::project::open(&dir.path().join("p.strata")).unwrap();
    assert_eq!(opened.project.governance.small_cells, 5);
    let entry = opened.project.audit.iter().find(|e| e.action == "threshold").expect("the lowering is logged");
    assert_eq!(entry.what, "small-cell threshold lowered from 10 to 5");
    assert_eq!((entry.before.as_str(), entry.after.as_str()), ("10", "5"));

    // The project's own threshold applies to the commands on it: 5 heavy buyers are not under 5.
    let run = json(&strata(&["run", "p.strata", "--json"], dir.path()));
    assert_eq!(run["small_cells"]["threshold"], 5);
    assert!(run["indices"]["sizes"].as_array().unwrap().iter().all(serde_json::Value::is_u64));

    // Per-customer assignments are not aggregates: every customer, as written.
    let assignments = std::fs::read_to_string(dir.path().join("assignments.csv")).unwrap();
    assert_eq!(assignments.lines().count(), 61);

    // No raw value of a unique text column (the ids, the e-mail addresses) is in the project file.
    let file = std::fs::read_to_string(dir.path().join("p.strata")).unwrap();
    let data = std::fs::read_to_string(dir.path().join("customers.csv")).unwrap();
    for row in data.lines().skip(1) {
        let cells: Vec<&str> = row.split(',').collect();
        for value in [cells[0], cells[1]] {
            assert!(!file.contains(value), "{value} is in the project file");
        }
    }
}

#[test]
fn the_report_lists_the_columns_nothing_uses_and_minimisation_keeps_them_out() {
    let dir = tempfile::tempdir().unwrap();
    customers(dir.path());
    let mut args = FIT.to_vec();
    args.extend(["--project", "p.strata"]);
    json(&strata(&args, dir.path()));
    let report = |dir: &Path| {
        let o = strata(&["report", "p.strata", "--out", "r.html"], dir);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::read_to_string(dir.join("r.html")).unwrap()
    };
    let html = report(dir.path());
    assert!(html.contains("Loaded but unused: email, tier, region"), "the report lists them");
    assert!(html.contains("&lt;10"), "the small segment's size is shown as <10");

    let path = dir.path().join("p.strata");
    let mut project = strata::engine::project::open(&path).unwrap().project;
    project.governance.minimise = true;
    strata::engine::governance::audit::save(&mut project, &path, "test").unwrap();
    let html = report(dir.path());
    assert!(
        html.contains(
            "kept out of everything Strata stores and exports (data minimisation is on): email, tier, region"
        )
    );
    assert!(!html.contains("example.org"));
}
