//! `strata bench latency`: edit to redrawn screen through the window's job runner and stage cache.
//! Timings are never asserted; what is checked is that every edit ran, really computed, was
//! reported under its contracted keys, and that the stage cache did what each edit allows.
#![cfg(feature = "gui")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use serde_json::Value;

fn strata(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_strata")).args(args).output().unwrap()
}

#[test]
fn every_edit_is_timed_through_the_stage_cache_and_reported_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let out = strata(&["bench", "latency", "--customers", "3000", "--repeats", "2", "--data", data, "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["case"], "latency");
    let rows = report["rows"].as_array().unwrap();
    let edits: Vec<&str> = rows.iter().map(|r| r["edit"].as_str().unwrap()).collect();
    assert_eq!(edits, ["k within the sweep", "one feature weight", "a feature ticked off", "scaling"]);
    for row in rows {
        assert_eq!(row["customers"], 3000, "{row}");
        assert!(row["median_ms"].as_f64().unwrap() > 0.0, "{row}");
        assert_eq!(row["runs_ms"].as_array().unwrap().len(), 2, "{row}");
        assert_eq!(row["exact_runs_ms"].as_array().unwrap().len(), 2, "{row}");
        // Nothing provisional at 3,000 customers: what is drawn first is the exact result.
        assert_eq!(row["exact_median_ms"], row["median_ms"], "{row}");
        assert_eq!(row["model"], "k-means", "the window's default model: {row}");
        // 3,000 customers: every silhouette is exact, so nothing on screen is provisional.
        assert_eq!(row["provisional"], serde_json::json!([]), "{row}");
        for reused in row["stages_reused"].as_array().unwrap() {
            assert_eq!(reused["table"], 1, "no edit reads the file again: {row}");
            if row["edit"] == "k within the sweep" {
                assert_eq!((&reused["recipe"], &reused["sweep"]), (&1.into(), &1.into()), "k reuses the sweep: {row}");
            } else {
                assert_eq!(
                    (&reused["recipe"], &reused["sweep"]),
                    (&0.into(), &0.into()),
                    "a recipe edit recomputes: {row}"
                );
            }
        }
    }

    // The table form, and a subset of the edits; the tables generated above are reused.
    let out = strata(&["bench", "latency", "--customers", "3000", "--repeats", "1", "--data", data, "--only", "k,off"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().next().unwrap().contains("median"), "{text}");
    assert_eq!(text.lines().filter(|l| l.contains(" ms ")).count(), 2, "{text}");
    assert!(text.contains("k within the sweep") && text.contains("a feature ticked off"), "{text}");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("generating"), "the generated table is reused");
}

/// Above 20,000 customers a recipe edit draws a fit on a sample first, says so, and is timed both to
/// that frame and to the exact result's.
#[test]
fn a_recipe_edit_on_many_customers_is_drawn_provisional_first_then_exact() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let out = strata(&[
        "bench",
        "latency",
        "--customers",
        "25000",
        "--repeats",
        "1",
        "--data",
        data,
        "--only",
        "weight,k",
        "--json",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = report["rows"].as_array().unwrap();
    let weight = rows.iter().find(|r| r["edit"] == "one feature weight").unwrap();
    let on_screen: Vec<&str> = weight["provisional"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(on_screen.contains(&"segments (fitted on a sample of 5000, exact fit under way)"), "{weight}");
    assert!(weight["exact_median_ms"].as_f64().unwrap() > weight["median_ms"].as_f64().unwrap(), "{weight}");
    let stages: Vec<&str> =
        weight["stages_ms"][0].as_array().unwrap().iter().map(|s| s["stage"].as_str().unwrap()).collect();
    let drawn = stages.iter().position(|s| *s == "provisional drawn").expect("the provisional frame is timed");
    assert!(stages[drawn..].contains(&"sweep"), "the exact sweep comes after: {stages:?}");
    // Changing k within the sweep reuses the exact sweep: nothing provisional, nothing fitted.
    let k = rows.iter().find(|r| r["edit"] == "k within the sweep").unwrap();
    assert!(!k["provisional"].to_string().contains("segments (fitted on a sample"), "{k}");
    assert_eq!(k["stages_reused"][0]["sweep"], 1, "{k}");
}

#[test]
fn an_unknown_edit_or_a_missing_table_is_one_clear_line() {
    let out = strata(&["bench", "latency", "--only", "k,colour"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown edit 'colour'; use k, weight, off, scaling"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    let out = strata(&["bench", "latency", "--input", "/nonexistent/customers.parquet", "--repeats", "1"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("customers.parquet"), "names the file: {err}");
}
