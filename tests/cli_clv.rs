//! `strata clv` end to end: the JSON contract, the per-customer file, the unit trap, value per
//! segment in `strata run`, and hostile inputs that get one clear line.

// Tests may unwrap: a failed unwrap is a failed test with its line (helpers included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn strata(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strata")).args(args).current_dir(dir).output().unwrap()
}

fn cdnow() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/CDNOW_master.txt")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> Value {
    assert!(o.status.success(), "{}", stderr(o));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn cdnow_args<'a>(path: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "clv",
        "--transactions",
        path,
        "--customer-id",
        "customer_id",
        "--date",
        "date",
        "--amount",
        "dollar_value",
        "--calibration-end",
        "1997-09-30",
    ];
    args.extend_from_slice(extra);
    args
}

#[test]
fn the_demo_prints_the_json_contract_at_full_precision() {
    let dir = tempfile::tempdir().unwrap();
    let out = json(&strata(&["clv", "--demo", "--json"], dir.path()));
    assert_eq!(out["model"], "bgnbd");
    assert_eq!(out["n_customers"], 23_570);
    assert!(out["n_repeat_customers"].as_u64().unwrap() > 9_000);
    for (key, names) in [
        ("bgnbd", ["r", "alpha", "a", "b"]),
        ("mbgnbd", ["r", "alpha", "a", "b"]),
        ("pareto_nbd", ["r", "alpha", "s", "beta"]),
    ] {
        for name in names {
            let v = out[key][name].as_f64().unwrap_or_else(|| panic!("{key}.{name}"));
            let se = out[key][format!("{name}_se")].as_f64().unwrap_or_else(|| panic!("{key}.{name}_se"));
            assert!(v > 0.0 && se > 0.0 && se < v, "{key}.{name} = {v} ± {se}");
        }
        assert!(out[key]["log_likelihood"].as_f64().unwrap() < 0.0);
        assert_eq!(out[key]["converged"], true, "{key}: {}", out[key]["issues"]);
    }
    for name in ["p", "q", "gamma"] {
        assert!(out["gamma_gamma"][name].as_f64().unwrap() > 0.0);
    }
    let a = &out["assumptions"];
    assert_eq!(a["time_unit"], "weeks");
    assert_eq!(a["calibration_end"], "1997-09-30");
    assert_eq!(a["holdout_end"], "1998-06-30");
    // Full double precision, never rounded for display.
    let rate = a["discount_rate_per_unit"].as_f64().unwrap();
    assert!((rate - (1.1f64.powf(7.0 / 365.25) - 1.0)).abs() < 1e-17, "{rate}");
    // Written with every digit: 0.0018282846336430403 is not rounded to 0.00183.
    assert!(
        String::from_utf8_lossy(&strata(&["clv", "--demo", "--json"], dir.path()).stdout)
            .contains("\"discount_rate_per_unit\": 0.00182828463364304")
    );
    assert!(a["discount_conversion"].as_str().unwrap().contains("0.1828% a week"));
    assert_eq!(a["data_fingerprint"].as_str().unwrap().len(), 64);
    let holdout = &out["holdout"];
    assert_eq!(holdout["groups"].as_array().unwrap().len(), 8);
    assert_eq!(holdout["groups"][7]["group"], "7+");
    let weekly = &holdout["weekly"];
    assert_eq!(weekly["actual"].as_array().unwrap().len(), 78);
    assert_eq!(weekly["calibration_weeks"], 39);
    assert!(holdout["verdict"].as_array().unwrap().iter().any(|v| v.as_str().unwrap().contains("under-predicts")));
    assert_eq!(out["comparison"]["models"].as_array().unwrap().len(), 3);
}

#[test]
fn the_per_customer_file_has_the_contract_columns() {
    let dir = tempfile::tempdir().unwrap();
    let log = cdnow();
    let path = log.to_str().unwrap();
    let out = strata(
        &cdnow_args(path, &["--time-unit", "weeks", "--model", "pareto-nbd", "--out", "customers.csv"]),
        dir.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(dir.path().join("customers.csv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next().unwrap(), "customer_id,x,t_x,T,p_alive,expected_purchases,expected_spend,clv");
    let rows: Vec<Vec<String>> = lines.map(|l| l.split(',').map(str::to_string).collect()).collect();
    assert_eq!(rows.len(), 23_570);
    // Ids stay as written (leading zeros), in order.
    assert_eq!(rows[0][0], "00001");
    for row in &rows {
        let p: f64 = row[4].parse().unwrap();
        assert!((0.0..=1.0).contains(&p), "{row:?}");
        let clv: f64 = row[7].parse().unwrap();
        assert!(clv >= 0.0 && clv.is_finite(), "{row:?}");
    }
}

#[test]
fn value_does_not_depend_on_the_time_unit_and_the_rate_is_converted() {
    let dir = tempfile::tempdir().unwrap();
    let log = cdnow();
    let path = log.to_str().unwrap();
    let total = |unit: &'static str| -> f64 {
        let out =
            json(&strata(&cdnow_args(path, &["--time-unit", unit, "--discount-rate", "0.15", "--json"]), dir.path()));
        let conversion = out["assumptions"]["discount_conversion"].as_str().unwrap().to_string();
        if unit == "weeks" {
            assert!(conversion.contains("15.00% is 0.2682% a week"), "{conversion}");
        } else {
            assert!(conversion.contains("15.00% is 0.0383% a day"), "{conversion}");
        }
        out["value"]["total_clv"].as_f64().unwrap()
    };
    let (weeks, days) = (total("weeks"), total("days"));
    assert!((weeks - days).abs() < 5e-3 * weeks, "{weeks} vs {days}");
}

#[test]
fn strata_run_reports_the_value_per_segment_of_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("demo.strata"), strata::cli::DEMO_PROJECT).unwrap();
    let out = json(&strata(&["run", "demo.strata", "--json"], dir.path()));
    let value = &out["value"];
    assert_eq!(value["model"], "bgnbd");
    assert_eq!(value["assumptions"]["margin"], 0.3);
    assert_eq!(value["assumptions"]["horizon_months"], 12);
    let segments = value["segments"].as_array().unwrap();
    assert_eq!(segments.len(), 5);
    let share: f64 = segments.iter().map(|s| s["value_share"].as_f64().unwrap()).sum();
    assert!((share - 1.0).abs() < 1e-9);
    for s in segments {
        let (lo, mid, hi) = (
            s["value_per_customer_p10"].as_f64().unwrap(),
            s["value_per_customer_median"].as_f64().unwrap(),
            s["value_per_customer_p90"].as_f64().unwrap(),
        );
        assert!(lo <= mid && mid <= hi && lo < hi, "{s}");
        assert!(s["name"].as_str().unwrap().len() > 2);
    }
    let text = strata(&["run", "demo.strata"], dir.path());
    assert!(String::from_utf8_lossy(&text.stdout).contains("value over 12 month(s) by BG/NBD"));
}

#[test]
fn bad_settings_and_hostile_logs_get_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let log = cdnow();
    let path = log.to_str().unwrap();
    let refused = |args: Vec<&str>, expected: &str| {
        let out = strata(&args, dir.path());
        assert!(!out.status.success(), "{args:?} should fail");
        let err = stderr(&out);
        assert!(err.contains(expected), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    };
    // 15 meant as 15%: refused, not applied as 1,500% a year.
    refused(cdnow_args(path, &["--discount-rate", "15"]), "not an annual rate");
    refused(cdnow_args(path, &["--margin", "30"]), "not a margin rate");
    refused(cdnow_args(path, &["--horizon-months", "0"]), "horizon");
    refused(cdnow_args(path, &["--penalty=-1"]), "penalty");
    refused(cdnow_args(path, &["--holdout-end", "1997-01-01"]), "not after the calibration end");
    let mut early = cdnow_args(path, &[]);
    early[10] = "1990-01-01";
    refused(early, "no customer made a first purchase on or before the calibration end");
    let mut missing = cdnow_args(path, &[]);
    missing[8] = "price";
    refused(missing, "price");

    // Everyone bought once: nothing to learn a repeat rate from.
    let once = dir.path().join("once.csv");
    std::fs::write(&once, "id,day,amount\n1,2024-01-01,5\n2,2024-01-02,6\n3,2024-01-03,7\n").unwrap();
    let once_args = |end: &'static str| {
        vec![
            "clv",
            "--transactions",
            "once.csv",
            "--customer-id",
            "id",
            "--date",
            "day",
            "--amount",
            "amount",
            "--calibration-end",
            end,
        ]
    };
    refused(once_args("2024-02-01"), "no customer made a repeat purchase");
    // Text where the amount should be, dates that are not dates.
    let text = dir.path().join("text.csv");
    std::fs::write(&text, "id,day,amount\n1,2024-01-01,five\n1,2024-01-05,six\n").unwrap();
    refused(
        vec![
            "clv",
            "--transactions",
            "text.csv",
            "--customer-id",
            "id",
            "--date",
            "day",
            "--amount",
            "amount",
            "--calibration-end",
            "2024-02-01",
        ],
        "amount",
    );
    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, "id,day,amount\n").unwrap();
    let out = strata(
        &[
            "clv",
            "--transactions",
            "empty.csv",
            "--customer-id",
            "id",
            "--date",
            "day",
            "--amount",
            "amount",
            "--calibration-end",
            "2024-02-01",
        ],
        dir.path(),
    );
    assert!(!out.status.success() && !stderr(&out).contains("panicked"), "{}", stderr(&out));
}

#[test]
fn a_customer_with_hundreds_of_purchases_and_refunds_gives_finite_figures() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("id,day,amount\n");
    // One very frequent buyer (300 purchase days), a refund on a repeat day, and ordinary customers.
    let start = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    for d in 0..300 {
        csv.push_str(&format!("heavy,{},{}\n", start + chrono::Duration::days(d), 10 + d % 7));
    }
    csv.push_str(&format!("refund,{},20\nrefund,{},-20\n", start, start + chrono::Duration::days(10)));
    for c in 0..200 {
        let first = start + chrono::Duration::days(c % 60);
        csv.push_str(&format!("c{c},{first},{}\n", 5 + c % 13));
        for k in 1..=(c % 4) {
            csv.push_str(&format!("c{c},{},{}\n", first + chrono::Duration::days(k * 17 + c % 5), 7 + k));
        }
    }
    std::fs::write(dir.path().join("log.csv"), csv).unwrap();
    let out = strata(
        &[
            "clv",
            "--transactions",
            "log.csv",
            "--customer-id",
            "id",
            "--date",
            "day",
            "--amount",
            "amount",
            "--calibration-end",
            "2024-10-31",
            "--time-unit",
            "days",
            "--out",
            "c.csv",
            "--json",
        ],
        dir.path(),
    );
    let report = json(&out);
    assert!(stderr(&out).contains("total of zero or less"), "{}", stderr(&out));
    assert_eq!(report["assumptions"]["n_nonpositive_repeat_days"], 1);
    let text = std::fs::read_to_string(dir.path().join("c.csv")).unwrap();
    let heavy = text.lines().find(|l| l.starts_with("heavy,")).unwrap();
    let fields: Vec<f64> = heavy.split(',').skip(1).map(|v| v.parse().unwrap()).collect();
    assert_eq!(fields[0], 299.0);
    assert!(fields.iter().all(|v| v.is_finite()), "{heavy}");
}

#[test]
fn the_value_columns_are_customer_features_for_rules_and_exports() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("demo.strata"), strata::cli::DEMO_PROJECT).unwrap();
    let edit = strata(
        &["edit", "demo.strata", "--actor", "test", "--add-rule", "when clv > p90 then segment \"Keep close\""],
        dir.path(),
    );
    assert!(edit.status.success(), "{}", stderr(&edit));
    let out = strata(&["run", "demo.strata", "--out", "assignments.csv", "--json"], dir.path());
    let report = json(&out);
    let rules = report["business_rules"].to_string();
    assert!(rules.contains("Keep close"), "{rules}");
    let text = std::fs::read_to_string(dir.path().join("assignments.csv")).unwrap();
    let kept = text.lines().filter(|l| l.contains("Keep close")).count();
    // The top tenth by value, give or take ties at the edge.
    assert!((2_000..=2_500).contains(&kept), "{kept}");
}

#[test]
fn hostile_value_settings_in_a_shared_project_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &str, &str); 7] = [
        ("annual_discount_rate: 0.1,", "annual_discount_rate: 15.0,", "not an annual rate"),
        ("annual_discount_rate: 0.1,", "annual_discount_rate: NaN,", "not an annual rate"),
        ("horizon_months: 12,", "horizon_months: 0,", "horizon"),
        ("margin: 0.3,", "margin: -2.0,", "not a margin rate"),
        ("calibration_end: \"1997-09-30\",", "calibration_end: \"1990-01-01\",", "no customer made a first purchase"),
        ("holdout_end: Some(\"1998-06-30\"),", "holdout_end: Some(\"1997-01-01\"),", "not after the calibration end"),
        ("penalty: 0.0,", "penalty: 1e308,", "penalty"),
    ];
    for (from, to, expected) in cases {
        assert!(strata::cli::DEMO_PROJECT.contains(from), "{from}");
        let text = strata::cli::DEMO_PROJECT.replacen(from, to, 1);
        std::fs::write(dir.path().join("p.strata"), text).unwrap();
        let out = strata(&["run", "p.strata"], dir.path());
        assert!(!out.status.success(), "{to}");
        let err = stderr(&out);
        assert!(err.contains(expected) && !err.contains("panicked"), "{to}: {err}");
    }
    for (from, to, expected) in [
        // A date that is no date: the line and column of the value.
        ("calibration_end: \"1997-09-30\",", "calibration_end: \"1997-13-45\",", "out of range"),
        ("model: BgNbd,", "model: Gompertz,", "Gompertz"),
        ("unit: Weeks,", "unit: Fortnights,", "Fortnights"),
    ] {
        let text = strata::cli::DEMO_PROJECT.replacen(from, to, 1);
        std::fs::write(dir.path().join("p.strata"), text).unwrap();
        let out = strata(&["run", "p.strata"], dir.path());
        let err = stderr(&out);
        assert!(!out.status.success() && err.contains(expected) && !err.contains("panicked"), "{to}: {err}");
    }
}

/// `text` with the `n`th (0-based) occurrence of `from` replaced by `to`.
fn replace_nth(text: &str, from: &str, to: &str, n: usize) -> String {
    let (at, _) = text.match_indices(from).nth(n).unwrap_or_else(|| panic!("no occurrence {n} of {from}"));
    format!("{}{to}{}", &text[..at], &text[at + from.len()..])
}

#[test]
fn the_stored_value_figures_are_checked_against_a_re_run_and_hostile_ones_refused() {
    let dir = tempfile::tempdir().unwrap();
    let demo = strata::cli::DEMO_PROJECT;
    // The demo stores what each segment is worth, and a re-run reproduces it (any thread count).
    assert!(demo.contains("value: Some(("), "the demo stores its value figures");
    std::fs::write(dir.path().join("demo.strata"), demo).unwrap();
    for threads in ["1", "3"] {
        let out = Command::new(env!("CARGO_BIN_EXE_strata"))
            .args(["run", "demo.strata", "--verify"])
            .env("RAYON_NUM_THREADS", threads)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{threads} threads: {}", stderr(&out));
    }
    // A stored figure changed by hand is named by its key.
    let total = demo.split("total_value: ").nth(1).unwrap().split(',').next().unwrap();
    let tampered = replace_nth(demo, &format!("total_value: {total},"), "total_value: 1.0,", 0);
    std::fs::write(dir.path().join("t.strata"), tampered).unwrap();
    let out = strata(&["run", "t.strata", "--verify"], dir.path());
    assert!(!out.status.success());
    assert!(stderr(&out).contains("value.segments[0].total_value: stored 1, re-run"), "{}", stderr(&out));
    // Settings changed in the spec but not re-run: the stored figures rest on other assumptions.
    let changed = replace_nth(demo, "horizon_months: 12,", "horizon_months: 24,", 0);
    std::fs::write(dir.path().join("c.strata"), changed).unwrap();
    let out = strata(&["run", "c.strata", "--verify"], dir.path());
    assert!(!out.status.success() && stderr(&out).contains("value.assumptions"), "{}", stderr(&out));
    // Stored figures no analysis makes are refused when the file is opened, with the field.
    for (from, to, n, expected) in [
        ("annual_discount_rate: 0.1,", "annual_discount_rate: 15.0,", 1, "results.value"),
        ("n_repeat_customers: 9451,", "n_repeat_customers: 99999999,", 0, "repeat customers of"),
        (
            "segment: 0,\n                    name: \"Segment 1\"",
            "segment: 4000000,\n                    name: \"Segment 1\"",
            0,
            "segments[0].segment",
        ),
        (
            "holdout_end: Some(\"1998-06-30\"),\n            unit: Weeks,\n            settings",
            "holdout_end: Some(\"1990-06-30\"),\n            unit: Weeks,\n            settings",
            0,
            "holdout_end",
        ),
        ("\"gamma\",\n", "\"gamma\",\n\"delta\",\n", 0, "estimates for 4 parameter names"),
        ("model: BgNbd,\n            purchase", "model: ParetoNbd,\n            purchase", 0, "not Pareto/NBD's"),
    ] {
        let text = replace_nth(demo, from, to, n);
        std::fs::write(dir.path().join("h.strata"), text).unwrap();
        let out = strata(&["run", "h.strata"], dir.path());
        let err = stderr(&out);
        assert!(!out.status.success() && err.contains(expected) && !err.contains("panicked"), "{to}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
}
