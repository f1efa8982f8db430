//! `strata export-pmml` read by real consumers: the document is valid against the PMML 4.4 schema,
//! and PMML4S (pypmml) and JPMML-Evaluator (which first runs the document's ModelVerification
//! block) give every customer the model segment `strata score` gives it, or the test names those
//! that differ.
//!
//! The Python with lxml, pypmml and jpmml_evaluator (and a Java runtime) is `$STRATA_SQL_PYTHON`
//! (.ci/run makes one); without them the test says what it left out, and with
//! `STRATA_REQUIRE_SQL_ENGINES=1` (CI) a missing consumer fails it.

// Tests may unwrap: a failed unwrap is a failed test with its line (helpers included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

#[path = "common/scoring.rs"]
mod common;
use common::*;

fn script() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scoring/run_pmml.py")
}

fn consumers_present() -> bool {
    let present = ["lxml", "pypmml", "jpmml_evaluator"].iter().all(|m| has_module(m));
    if !present {
        assert!(!require(), "STRATA_REQUIRE_SQL_ENGINES=1 but {} lacks lxml, pypmml or jpmml_evaluator", python());
        println!("PMML consumers left out: {} lacks lxml, pypmml or jpmml_evaluator (set STRATA_SQL_PYTHON)", python());
    }
    present
}

fn run(what: &str, d: &Path, args: &[&str]) -> String {
    let o = Command::new(python()).arg(script()).arg(what).args(args).current_dir(d).output().unwrap();
    assert!(o.status.success(), "{what}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

/// Each customer's model segment as `strata score` wrote it, against each consumer's, in `d`. A
/// segment numbered after the model's `k` is the fallback, where a consumer gives no segment.
fn compare(d: &Path, pmml: &str, customers: &str, expected: &HashMap<String, String>, k: usize) {
    let expected: HashMap<&String, String> = expected
        .iter()
        .map(|(id, s)| (id, if s.parse::<usize>().is_ok_and(|s| s > k) { String::new() } else { s.clone() }))
        .collect();
    assert_eq!(run("validate", d, &[pmml]).trim(), "valid");
    for consumer in ["pypmml", "jpmml"] {
        let got: HashMap<String, Option<String>> = serde_json::from_str(&run(consumer, d, &[pmml, customers])).unwrap();
        let mut differ: Vec<String> = expected
            .iter()
            .filter(|(id, s)| got.get(id.as_str()).cloned().flatten().unwrap_or_default() != **s)
            .map(|(id, s)| format!("{id}: {s:?} by strata score, {:?} by {consumer}", got.get(id.as_str())))
            .collect();
        differ.sort();
        let shown = &differ[..differ.len().min(10)];
        assert!(differ.is_empty(), "{consumer}: {} of {} differ: {shown:?}", differ.len(), expected.len());
    }
}

#[test]
fn the_exported_pmml_is_valid_and_scores_every_customer_as_strata_does_in_two_consumers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let csv = fit_mixed(d, 900, 4, true);
    write_new_customers(d, &csv, 400);
    ok(&strata(&["score", "p.strata", "--data", "new.csv", "--out", "scores.csv"], d));
    let expected = by_id(&d.join("scores.csv"), "model_segment_number");
    assert_eq!(expected.len(), 410);
    ok(&strata(&["export-pmml", "p.strata", "--out", "model.pmml"], d));
    let text = std::fs::read_to_string(d.join("model.pmml")).unwrap();
    for part in [
        "<ClusteringModel",
        "<squaredEuclidean/>",
        r#"function="ln1p""#,
        r#"missingValueReplacement="#,
        r#"feature="affinity" value="4""#,
        r#"<ModelVerification recordCount="20""#,
    ] {
        assert!(text.contains(part), "no {part} in the PMML");
    }
    if !consumers_present() {
        return;
    }
    assert_eq!(expected["n9"], "5", "too large to place: the fitted fallback");
    compare(d, "model.pmml", "new.csv", &expected, 4);
}

#[test]
fn the_demo_exports_pmml_that_scores_its_own_customers_as_strata_does() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("demo.strata"), strata::cli::DEMO_PROJECT).unwrap();
    let log = cdnow();
    let log = log.to_str().unwrap();
    ok(&strata(&["score", "demo.strata", "--data", log, "--out", "scores.csv"], d));
    let expected = by_id(&d.join("scores.csv"), "model_segment_number");
    assert_eq!(expected.len(), 23_570);
    // The same customers' features, as the demo computes them (as of its stored date).
    let rfm = ["rfm", "--transactions", log, "--customer-id", "customer_id", "--date", "date"];
    let rfm = [&rfm[..], &["--amount", "dollar_value", "--as-of", "1998-07-01", "--out", "customers.csv"]].concat();
    ok(&strata(&rfm, d));
    ok(&strata(&["export-pmml", "demo.strata", "--out", "demo.pmml"], d));
    if !consumers_present() {
        return;
    }
    compare(d, "demo.pmml", "customers.csv", &expected, 5);
}

#[test]
fn what_pmml_cannot_say_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fit_mixed(d, 300, 3, false);
    add_rules(d, &[NEWEST_HEAVY], &[]);
    let o = strata(&["export-pmml", "p.strata", "--out", "model.pmml"], d);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("1 business rule(s)") && err.contains("--model-only"), "{err}");
    assert!(!d.join("model.pmml").exists());
    let o = strata(&["export-pmml", "p.strata", "--out", "model.pmml", "--model-only"], d);
    ok(&o);
    assert!(String::from_utf8_lossy(&o.stderr).contains("not in it"));
    let text = std::fs::read_to_string(d.join("model.pmml")).unwrap();
    assert!(text.contains("business rule(s)") && text.contains("are not applied"), "{text}");
    // Methods that do not assign by the nearest centre, each refused with its own reason.
    let hybrid = ["--rfm-columns", "recency,frequency,monetary"];
    for (method, extra, reason) in
        [("gmm", &[][..], "posterior"), ("kprototypes", &[], "gamma per category"), ("hybrid", &hybrid, "tiers")]
    {
        fit_method(d, method, extra, "g.strata");
        let o = strata(&["export-pmml", "g.strata", "--out", "g.pmml"], d);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && err.contains("no PMML") && err.contains(reason), "{method}: {err}");
        assert!(!d.join("g.pmml").exists());
    }
}
