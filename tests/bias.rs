//! The bias audit: its statistics against scipy, ratios computed by hand, and `strata bias` end to
//! end on small tables (text and JSON), hostile columns included.

// Tests may unwrap: a failed unwrap is a failed test with its line (helpers included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use strata::engine::governance::bias::{chi_square_independence, correlation_ratio, fisher_exact};

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-300)
}

fn reference() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reference/bias_reference.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn table_of(v: &Value) -> Vec<Vec<usize>> {
    serde_json::from_value(v.clone()).unwrap()
}

#[test]
fn chi_square_and_cramers_v_match_scipy() {
    let reference = reference();
    let cases = reference["chi2"].as_array().unwrap();
    assert!(cases.len() >= 8);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let got = chi_square_independence(&table_of(&case["table"])).unwrap();
        for (what, got, want) in [
            ("statistic", got.statistic, &case["statistic"]),
            ("p_value", got.p_value, &case["p_value"]),
            ("cramers_v", got.cramers_v, &case["cramers_v"]),
            ("min_expected", got.min_expected, &case["min_expected"]),
        ] {
            let want = want.as_f64().unwrap();
            assert!(close(got, want, 1e-9), "{name} {what}: {got} vs scipy {want}");
        }
        assert_eq!(got.df as u64, case["df"].as_u64().unwrap(), "{name} df");
        // The segment-vs-rest tables read the same either way round.
        let transposed: Vec<Vec<usize>> = {
            let t = table_of(&case["table"]);
            (0..t[0].len()).map(|c| t.iter().map(|r| r[c]).collect()).collect()
        };
        let again = chi_square_independence(&transposed).unwrap();
        assert!(close(again.statistic, got.statistic, 1e-12) && close(again.p_value, got.p_value, 1e-9), "{name}");
    }
}

#[test]
fn fisher_exact_matches_scipy_two_sided() {
    let reference = reference();
    for case in reference["fisher"].as_array().unwrap() {
        let t = table_of(&case["table"]);
        let got = fisher_exact([[t[0][0], t[0][1]], [t[1][0], t[1][1]]]);
        let want = case["p_value"].as_f64().unwrap();
        assert!(close(got, want, 1e-9), "fisher_exact({t:?}) = {got}, scipy {want}");
    }
}

#[test]
fn the_correlation_ratio_matches_numpy() {
    let reference = reference();
    for case in reference["eta"].as_array().unwrap() {
        let groups: Vec<usize> = serde_json::from_value(case["groups"].clone()).unwrap();
        let values: Vec<f64> = serde_json::from_value(case["values"].clone()).unwrap();
        let got = correlation_ratio(&groups, &values).unwrap();
        let want = case["eta"].as_f64().unwrap();
        assert!(close(got, want, 1e-9), "{}: eta {got} vs {want}", case["name"]);
    }
}

fn strata(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strata")).args(args).current_dir(dir).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Customers in two clear clusters of spend (low: 112 and `n_more_low` more, high: 70), a
/// `sex` column with known counts per cluster, a `club` column that needs Fisher's test, and
/// whatever `extra` adds per row.
///
/// | sex | low | high |      | club | low | high |
/// | F   |  60 |   20 |      | no   | 100 |   70 |
/// | M   |  40 |   50 |      | yes  |  12 |    0 |
/// | ""  |  12 |    0 |
fn write_customers(
    dir: &Path,
    n_more_low: usize,
    extra: &dyn Fn(usize) -> Vec<String>,
    extra_names: &[&str],
) -> PathBuf {
    let mut rows: Vec<(f64, &str, &str)> = Vec::new();
    let push = |rows: &mut Vec<(f64, &str, &str)>, spend: f64, sex: &'static str, n: usize| {
        for i in 0..n {
            rows.push((spend + (i % 5) as f64, sex, ""));
        }
    };
    push(&mut rows, 10.0, "F", 60);
    push(&mut rows, 10.0, "M", 40);
    push(&mut rows, 10.0, "", 12);
    push(&mut rows, 1000.0, "F", 20);
    push(&mut rows, 1000.0, "M", 50);
    // club: the first 12 low customers are members.
    for (i, row) in rows.iter_mut().enumerate() {
        row.2 = if i < 12 { "yes" } else { "no" };
    }
    for i in 0..n_more_low {
        rows.push((10.0 + (i % 5) as f64, if i % 2 == 0 { "F" } else { "M" }, "no"));
    }
    let mut text = String::from("customer_id,spend,sex,club");
    for name in extra_names {
        text.push(',');
        text.push_str(name);
    }
    text.push('\n');
    for (i, (spend, sex, club)) in rows.iter().enumerate() {
        text.push_str(&format!("c{i:05},{spend},{sex},{club}"));
        for value in extra(i) {
            text.push(',');
            text.push_str(&value);
        }
        text.push('\n');
    }
    let path = dir.join("customers.csv");
    std::fs::write(&path, text).unwrap();
    path
}

fn make_project(dir: &Path) {
    let o = strata(
        &[
            "fit",
            "--data",
            "customers.csv",
            "--id",
            "customer_id",
            "--features",
            "spend",
            "--k",
            "2",
            "--project",
            "p.strata",
        ],
        dir,
    );
    assert!(o.status.success(), "{}", stderr(&o));
}

fn bias_json(dir: &Path, sensitive: &str) -> Value {
    let o = strata(&["bias", "p.strata", "--sensitive", sensitive, "--json"], dir);
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn column<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["columns"].as_array().unwrap().iter().find(|c| c["column"] == name).unwrap()
}

#[test]
fn the_cli_audits_a_small_table_with_ratios_computed_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    write_customers(dir.path(), 0, &|_| Vec::new(), &[]);
    make_project(dir.path());
    let v = bias_json(dir.path(), "sex,club");
    assert_eq!(v["small_cells"], serde_json::json!({ "threshold": 10 }));
    assert_eq!(v["n_customers"], 182);
    // The high cluster is the segment with 70 customers.
    let high = v["segments"].as_array().unwrap().iter().position(|s| s["customers"] == 70).unwrap();
    let low = 1 - high;
    let sex = column(&v, "sex");
    let groups: Vec<&str> = sex["groups"].as_array().unwrap().iter().map(|g| g["group"].as_str().unwrap()).collect();
    assert_eq!(groups, ["F", "M", "(missing)"]);
    let customers: Vec<u64> =
        sex["groups"].as_array().unwrap().iter().map(|g| g["customers"].as_u64().unwrap()).collect();
    assert_eq!(customers, [80, 90, 12]);

    // High: rates F 20/80, M 50/90, missing 0/12; the reference is M.
    let s = &sex["per_segment"][high];
    assert_eq!(s["reference_group"], "M");
    let g = |i: usize, key: &str| s["groups"][i][key].clone();
    assert!(close(g(0, "rate").as_f64().unwrap(), 0.25, 1e-12));
    assert!(close(g(0, "ratio").as_f64().unwrap(), 0.25 / (50.0 / 90.0), 1e-12));
    assert!(close(g(0, "share_of_segment").as_f64().unwrap(), 20.0 / 70.0, 1e-12));
    assert_eq!(g(1, "ratio").as_f64(), Some(1.0));
    assert_eq!(g(2, "ratio").as_f64(), Some(0.0));
    // scipy: chi2_contingency([[20, 60], [50, 40], [0, 12]], correction=False).
    assert!(close(s["test"]["chi_square"].as_f64().unwrap(), 24.73611111111111, 1e-9));
    assert!(close(s["test"]["p_value"].as_f64().unwrap(), 4.252278693415131e-06, 1e-9));
    assert_eq!(s["test"]["method"], "chi_square");
    let flagged: Vec<bool> = (0..3).map(|i| g(i, "flagged").as_bool().unwrap()).collect();
    assert_eq!(flagged, [true, false, true]);
    assert_eq!(g(1, "ratio_under_four_fifths"), false);
    assert_eq!(g(1, "significant"), true);

    // Low: rates F 60/80, M 40/90, missing 12/12; the reference is the missing group.
    let s = &sex["per_segment"][low];
    assert_eq!(s["reference_group"], "(missing)");
    assert!(close(s["groups"][0]["ratio"].as_f64().unwrap(), 0.75, 1e-12));
    assert!(close(s["groups"][1]["ratio"].as_f64().unwrap(), 40.0 / 90.0, 1e-12));

    // club: 12 members, none in the high segment (expected 12 x 70 / 182 = 4.6 < 5): Fisher's exact test.
    let club = column(&v, "club");
    let s = &club["per_segment"][high];
    assert_eq!(s["test"]["method"], "fisher_exact");
    // scipy: fisher_exact([[70, 100], [0, 12]]).pvalue.
    assert!(close(s["test"]["p_value"].as_f64().unwrap(), 0.0037483557877901127, 1e-9));
    assert!(close(s["test"]["fisher_p"].as_f64().unwrap(), 0.0037483557877901127, 1e-9));
    assert_eq!(s["groups"][1]["ratio"].as_f64(), Some(0.0));
    assert_eq!(s["groups"][1]["flagged"], true);
    // The intersection: sex x club has a pair of 12 and none small.
    let both = column(&v, "sex x club");
    assert_eq!(both["kind"], "intersection");
    assert_eq!(
        v["flagged"].as_u64().unwrap(),
        v["columns"].as_array().unwrap().iter().map(|c| c["flagged"].as_u64().unwrap()).sum::<u64>()
    );

    // The text says the same in tables.
    let o = strata(&["bias", "p.strata", "--sensitive", "sex"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("== sex (3 groups"), "{text}");
    assert!(text.contains("0.450") && text.contains("FLAG"), "{text}");
    assert!(text.contains("rate") && text.contains("under 0.8") && text.contains("significant"), "{text}");

    // Without --sensitive: the column whose role is sensitive by its name (sex).
    let o = strata(&["bias", "p.strata", "--json"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let names: Vec<&str> = v["columns"].as_array().unwrap().iter().map(|c| c["column"].as_str().unwrap()).collect();
    assert_eq!(names, ["sex"]);
}

#[test]
fn hostile_columns_are_capped_said_or_refused_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    // 10,000 more customers: a code unique per customer, a column with no value at all.
    write_customers(dir.path(), 10_000, &|i| vec![format!("k{i}"), String::new()], &["code", "nothing"]);
    make_project(dir.path());
    let v = bias_json(dir.path(), "code,nothing");
    let code = column(&v, "code");
    assert_eq!(code["groups"].as_array().unwrap().len(), 30, "capped at 30 groups");
    assert_eq!(code["groups"][29]["group"], "(other values)");
    assert!(code["notes"][0].as_str().unwrap().contains("10182 distinct values"), "{}", code["notes"]);
    // Groups of one customer: shown as "<10", and nothing computed from them.
    assert_eq!(code["groups"][0]["customers"], "<10");
    let s = &code["per_segment"][0];
    assert!(s["groups"][0]["rate"].is_null() && s["groups"][0]["ratio"].is_null());
    assert!(s["groups"][0]["count"].is_string());
    let nothing = column(&v, "nothing");
    assert_eq!(nothing["groups"][0]["group"], "(missing)");
    assert!(nothing["notes"][0].as_str().unwrap().contains("every value"), "{}", nothing["notes"]);
    assert!(nothing["per_segment"][0]["test"].is_null());
    assert_eq!(nothing["per_segment"][0]["test_not_made"], "fewer than two groups to compare");
    assert_eq!(v["skipped"][0]["column"], "code x nothing");

    // A column that does not exist: one line naming the columns there are.
    let o = strata(&["bias", "p.strata", "--sensitive", "sex,nope"], dir.path());
    assert!(!o.status.success());
    let err = stderr(&o);
    let last = err.lines().last().unwrap();
    assert!(
        last.starts_with("error: column 'nope' is not in the customer table; columns are: customer_id, spend, sex"),
        "{err}"
    );
    assert!(o.stdout.is_empty());

    // Named as empty: one line saying how to name them.
    let o = strata(&["bias", "p.strata", "--sensitive", ","], dir.path());
    assert!(!o.status.success());
    assert!(stderr(&o).lines().last().unwrap().contains("name them with --sensitive COL,COL"), "{}", stderr(&o));
}

#[test]
fn a_project_without_sensitive_columns_says_how_to_name_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("customer_id,spend\n");
    for i in 0..40 {
        text.push_str(&format!("c{i},{}\n", if i % 2 == 0 { 10 + i % 3 } else { 500 + i % 3 }));
    }
    std::fs::write(dir.path().join("customers.csv"), text).unwrap();
    make_project(dir.path());
    let o = strata(&["bias", "p.strata"], dir.path());
    assert!(!o.status.success());
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: no sensitive column to audit: name them with --sensitive COL,COL"), "{err}");
}

#[test]
fn the_demo_audits_its_synthetic_age_group_and_region() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("demo.strata"), strata::cli::DEMO_PROJECT).unwrap();
    let o = strata(&["bias", "demo.strata", "--json"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["n_customers"], 23_570);
    let names: Vec<&str> = v["columns"].as_array().unwrap().iter().map(|c| c["column"].as_str().unwrap()).collect();
    assert_eq!(names, ["age_group", "region", "age_group x region"]);
    // Age group leans on purchases by construction; region is drawn independently of everything.
    assert!(column(&v, "age_group")["flagged"].as_u64().unwrap() > 0);
    assert_eq!(column(&v, "region")["flagged"], 0);
    assert!(column(&v, "region")["overall"]["p_value"].as_f64().unwrap() > 0.05);
    let proxies = column(&v, "age_group")["proxies"].as_array().unwrap();
    let features: Vec<&str> = proxies.iter().map(|p| p["feature"].as_str().unwrap()).collect();
    assert_eq!(features, ["recency_days", "frequency", "monetary_total"]);
    assert!(proxies.iter().all(|p| p["measure"] == "correlation_ratio" && p["value"].as_f64().unwrap() > 0.0));
}
