//! `strata export-sql` run in real engines: SQLite (Python's sqlite3) and DuckDB (its Python
//! package) score every customer as `strata score` does, or the test names those that differ; the
//! other dialects are parsed by an independent SQL parser (sqlglot).
//!
//! The Python with duckdb and sqlglot is `$STRATA_SQL_PYTHON` (.ci/run makes one); without it only
//! SQLite runs, and the test says what it left out. With `STRATA_REQUIRE_SQL_ENGINES=1` (CI) a
//! missing engine fails the test.

// Tests may unwrap: a failed unwrap is a failed test with its line (helpers included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

#[path = "common/scoring.rs"]
mod common;
use common::*;

fn script() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scoring/run_sql.py")
}

/// Each customer's segment name as `engine` scores them with the statement in `sql`.
fn run(engine: &str, d: &Path, sql: &str) -> HashMap<String, String> {
    let o = Command::new(python()).arg(script()).args([engine, "new.csv", sql]).current_dir(d).output().unwrap();
    assert!(o.status.success(), "{engine}: {}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn the_exported_sql_scores_every_customer_as_strata_does_in_sqlite_and_duckdb() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let csv = fit_mixed(d, 900, 4, true);
    add_rules(d, &[NEWEST_HEAVY, BIG_ON_THE_PHONE], &[]);
    write_new_customers(d, &csv, 400);
    engines_agree(d, "k-means");
    let expected = by_id(&d.join("scores.csv"), "segment_name");
    assert_eq!(expected.len(), 410);
    assert_eq!(expected["n9"], "Fallback");
    assert!(expected.values().any(|s| s == "Newest heavy"));
    other_dialects_parse(d);
    let o = strata(&["export-sql", "p.strata", "--dialect", "oracle"], d);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("duckdb, postgres"), "{err}");
}

/// The other dialects of p.strata in `d`: written, and parsed by sqlglot.
fn other_dialects_parse(d: &Path) {
    if !has_module("sqlglot") {
        assert!(!require(), "STRATA_REQUIRE_SQL_ENGINES=1 but {} has no sqlglot", python());
        println!("the other dialects were not parsed: {} has no sqlglot", python());
        return;
    }
    for (dialect, sqlglot) in
        [("postgres", "postgres"), ("bigquery", "bigquery"), ("snowflake", "snowflake"), ("spark", "spark")]
    {
        let sql = format!("{dialect}.sql");
        ok(&strata(&["export-sql", "p.strata", "--dialect", dialect, "--table", "crm.customers", "--out", &sql], d));
        let o = Command::new(python()).arg(script()).args(["parse", sqlglot, &sql]).current_dir(d).output().unwrap();
        assert!(o.status.success(), "{dialect}: {}", String::from_utf8_lossy(&o.stderr));
    }
}

/// Each customer's segment name by `strata score` and by the DuckDB and SQLite statements
/// exported from p.strata in `d`, which name the customers that differ.
fn engines_agree(d: &Path, what: &str) {
    ok(&strata(&["score", "p.strata", "--data", "new.csv", "--out", "scores.csv"], d));
    let expected = by_id(&d.join("scores.csv"), "segment_name");
    let mut engines = vec!["sqlite"];
    if has_module("duckdb") {
        engines.push("duckdb");
    } else {
        assert!(!require(), "STRATA_REQUIRE_SQL_ENGINES=1 but {} has no duckdb", python());
        println!("DuckDB left out: {} has no duckdb module (set STRATA_SQL_PYTHON)", python());
    }
    for engine in engines {
        let sql = format!("{engine}.sql");
        ok(&strata(&["export-sql", "p.strata", "--dialect", engine, "--out", &sql], d));
        let got = run(engine, d, &sql);
        let mut differ: Vec<String> = expected
            .iter()
            .filter(|(id, s)| got.get(*id) != Some(s))
            .map(|(id, s)| format!("{id}: {s} by strata score, {:?} by {engine}", got.get(id)))
            .collect();
        differ.sort();
        assert!(
            differ.is_empty(),
            "{what}, {engine}: {} of {} differ: {:?}",
            differ.len(),
            expected.len(),
            &differ[..differ.len().min(10)]
        );
    }
}

#[test]
fn the_mixture_and_the_map_are_written_as_sql_that_scores_as_strata_does() {
    for (method, extra) in [
        ("gmm", &["--covariance", "full"][..]),
        ("gmm", &["--covariance", "diag"][..]),
        ("som", &["--grid", "4x4"][..]),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let csv = fit_mixed(d, 900, 4, true);
        fit_method(d, method, extra, "p.strata");
        add_rules(d, &[NEWEST_HEAVY, "when recency is missing then segment \"No recency\""], &[]);
        write_new_customers(d, &csv, 400);
        let json: serde_json::Value = {
            ok(&strata(&["export-model", "p.strata", "--out", "model.json"], d));
            serde_json::from_str(&std::fs::read_to_string(d.join("model.json")).unwrap()).unwrap()
        };
        assert_eq!(json["format_version"], 2, "{method}: assigned by more than the centres");
        engines_agree(d, method);
    }
}

#[test]
fn rules_in_order_out_of_low_priority_and_on_not_a_number_score_as_strata_does() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let csv = fit_mixed(d, 900, 4, true);
    // Segment 2 is low priority (marked in the file, as the window marks it).
    ok(&strata(&["edit", "p.strata", "--actor", "test", "--rename", "2=Thin"], d));
    let text = std::fs::read_to_string(d.join("p.strata")).unwrap();
    assert!(text.contains("name: \"Thin\","));
    std::fs::write(
        d.join("p.strata"),
        text.replace("name: \"Thin\",", "name: \"Thin\",\n            low_priority: true,"),
    )
    .unwrap();
    add_rules(
        d,
        &[
            "when recency is missing then segment \"No recency\"",
            "when no segment then segment \"Placed by rule\"",
            "when monetary > p5 then not low priority",
            "when channel is missing then segment \"No channel\"",
            "when no segment then segment \"Never seen\"",
        ],
        &["--override", "c3=Thin", "--reason", "account manager"],
    );
    write_new_customers(d, &csv, 400);
    engines_agree(d, "rules");
    let scores = rows(&d.join("scores.csv"));
    let by = |id: &str| scores.iter().find(|r| r["customer_id"] == id).unwrap()["segment_name"].clone();
    assert_eq!(by("n8"), "No recency", "not a number is missing");
    // `when no segment` means the model could not place the customer, whatever a rule before did:
    // both such rules match n9 (too large to scale), and the later one wins.
    assert_eq!(by("n9"), "Never seen");
    assert_eq!(by("c3"), "Thin");
    assert!(scores.iter().any(|r| r["changed_by"] == "rule 3"), "the not-low-priority rule moved someone");
}

#[test]
fn rfm_rules_are_written_as_sql_that_scores_as_strata_does() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // The CDNOW customers as of the demo's date, fitted with the standard RFM rules.
    let log = cdnow();
    let rfm = ["rfm", "--transactions", log.to_str().unwrap(), "--customer-id", "customer_id", "--date", "date"];
    ok(&strata(&[&rfm[..], &["--amount", "dollar_value", "--as-of", "1998-07-01", "--out", "all.csv"]].concat(), d));
    let all = std::fs::read_to_string(d.join("all.csv")).unwrap();
    let header = all.lines().next().unwrap();
    let fitted: Vec<&str> = all.lines().skip(1).step_by(4).collect();
    std::fs::write(d.join("customers.csv"), format!("{header}\n{}\n", fitted.join("\n"))).unwrap();
    let features = "recency_days,frequency,monetary_total";
    let fit = ["fit", "--data", "customers.csv", "--id", "customer_id", "--features", features];
    ok(&strata(&[&fit[..], &["--algorithm", "rfm", "--project", "p.strata"]].concat(), d));
    ok(&strata(&["edit", "p.strata", "--actor", "test", "--add-rule", "when no segment then segment \"Unscored\""], d));
    // New customers: every CDNOW customer, and some that cannot be scored or lie beyond the edges.
    let odd = ["x1,,3,50,,,,", "x2,10,NaN,50,,,,", "x3,0,400,99999,,,,", "x4,900,1,-5,,,,", "x5,1e300,2,20,,,,"];
    let rows: Vec<&str> = all.lines().skip(1).collect();
    std::fs::write(d.join("new.csv"), format!("{header}\n{}\n{}\n", odd.join("\n"), rows.join("\n"))).unwrap();
    ok(&strata(&["export-model", "p.strata", "--out", "model.json"], d));
    let model: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("model.json")).unwrap()).unwrap();
    assert_eq!((model["assign"].as_str(), model["format_version"].as_u64()), (Some("rfm scores"), Some(2)));
    engines_agree(d, "rfm");
    let scores = by_id(&d.join("scores.csv"), "segment_name");
    assert_eq!(scores.len(), 23_575);
    assert!(scores["x2"] == "Unscored" && scores["x3"] != "Unscored", "{:?} {:?}", scores["x2"], scores["x3"]);
}

#[test]
fn k_prototypes_and_rfm_tiers_with_k_means_are_written_as_sql_that_scores_as_strata_does() {
    // k-prototypes on the table with holes (imputed recency, an unseen and a missing channel).
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let csv = fit_mixed(d, 900, 4, true);
    fit_method(d, "kprototypes", &[], "p.strata");
    add_rules(d, &[NEWEST_HEAVY, BIG_ON_THE_PHONE], &[]);
    write_new_customers(d, &csv, 400);
    engines_agree(d, "k-prototypes");
    other_dialects_parse(d);
    // The hybrid needs every fitted customer's recency; new customers without one get no segment.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let csv = fit_mixed(d, 900, 4, false);
    fit_method(d, "hybrid", &["--rfm-columns", "recency,frequency,monetary", "--k-per-tier", "3"], "p.strata");
    add_rules(d, &["when no segment then segment \"Unscored\""], &[]);
    write_new_customers(d, &csv, 400);
    engines_agree(d, "hybrid");
    other_dialects_parse(d);
    assert_eq!(by_id(&d.join("scores.csv"), "segment_name")["n2"], "Unscored", "no recency, no tier");
    // Two kinds of customer, each alike in all three measures, score all 1s and all 3s (totals 3
    // and 9): with tier edges at 4 and 7 the middle tier has no fitted customers, and a new
    // customer scoring 1, 1 and 3 (a total of 5) gets no segment.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut csv = String::from("customer_id,recency,frequency,monetary,channel\n");
    for i in 0..200 {
        let (r, f, m) = if i % 2 == 0 { (10, 20, 1000) } else { (300, 1, 20) };
        csv.push_str(&format!("c{i},{r},{f},{m},{}\n", ["web", "store", "phone"][i % 3]));
    }
    std::fs::write(d.join("customers.csv"), &csv).unwrap();
    let settings = ["--rfm-columns", "recency,frequency,monetary", "--tier-edges", "4,7"];
    fit_method(d, "hybrid", &settings, "p.strata");
    add_rules(d, &["when no segment then segment \"Unscored\""], &[]);
    write_new_customers(d, &csv, 50);
    let new = std::fs::read_to_string(d.join("new.csv")).unwrap();
    std::fs::write(d.join("new.csv"), format!("{new}m1,400,1,300,web\nm2,20,19,900,store\n")).unwrap();
    ok(&strata(&["export-model", "p.strata", "--out", "model.json"], d));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("model.json")).unwrap()).unwrap();
    let tiers = json["hybrid"]["tiers"].as_array().unwrap();
    assert!(tiers[1].is_null() && !tiers[0].is_null() && !tiers[2].is_null(), "{tiers:?}");
    engines_agree(d, "hybrid with an empty tier");
    let scores = by_id(&d.join("scores.csv"), "segment_name");
    assert_eq!(scores["m1"], "Unscored", "a total of 5: the empty middle tier");
    assert_ne!(scores["m2"], "Unscored");
}
