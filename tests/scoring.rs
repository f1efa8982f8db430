//! `strata score`: new customers scored as the project scores its own (recipe, model, business
//! rules with the fitted customers' percentiles, overrides, fallback), with reason codes, margins
//! and the beyond-the-fitted-data flag.

// Tests may unwrap: a failed unwrap is a failed test with its line (helpers included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

#[path = "common/scoring.rs"]
mod common;
use common::*;

/// The customers whose `column` differs between two outputs (every id of `part` must be in `whole`).
fn differing(whole: &HashMap<String, String>, part: &HashMap<String, String>) -> Vec<String> {
    let mut out: Vec<String> = part
        .iter()
        .filter(|(id, v)| whole.get(*id) != Some(v))
        .map(|(id, v)| format!("{id}: {v} against {:?}", whole.get(id)))
        .collect();
    out.sort();
    out
}

#[test]
fn scoring_the_demo_reproduces_its_segments_with_a_percentile_rule_fixed_on_the_fitted_customers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    demo_with_rule(d, "when monetary_total > p90 then segment \"Top tenth\"");
    ok(&strata(&["run", "demo.strata", "--out", "own.csv"], d));
    let log = cdnow();
    let own = by_id(&d.join("own.csv"), "segment_name");
    assert!(own.values().filter(|n| *n == "Top tenth").count() > 2_000);

    // The project's own customers as new ones: every one where the run put it.
    ok(&strata(&["score", "demo.strata", "--data", log.to_str().unwrap(), "--out", "all.csv"], d));
    let all = by_id(&d.join("all.csv"), "segment_name");
    assert_eq!(all.len(), own.len());
    let differ = differing(&own, &all);
    assert!(differ.is_empty(), "{} customers differ: {:?}", differ.len(), &differ[..differ.len().min(10)]);
    // The numbers too: a rule's segment has the number `strata run` gives it.
    let differ = differing(&by_id(&d.join("own.csv"), "segment_number"), &by_id(&d.join("all.csv"), "segment_number"));
    assert!(differ.is_empty(), "{} numbers differ: {:?}", differ.len(), &differ[..differ.len().min(10)]);
    let changed = by_id(&d.join("all.csv"), "changed_by");
    assert!(changed.values().filter(|c| *c == "rule 1").count() > 2_000);

    // A fifth of them, alone: the p90 is the fitted customers', not this batch's, so each still
    // lands where the run put it (a p90 of the batch would move about a tenth of them).
    let text = std::fs::read_to_string(&log).unwrap();
    let mut lines = text.lines();
    let mut part = String::from(lines.next().unwrap());
    part.push('\n');
    for line in lines
        .filter(|l| l.split_whitespace().next().and_then(|id| id.parse::<u32>().ok()).is_some_and(|id| id % 5 == 0))
    {
        part.push_str(line);
        part.push('\n');
    }
    std::fs::write(d.join("part.txt"), part).unwrap();
    ok(&strata(&["score", "demo.strata", "--data", "part.txt", "--as-of", "1998-07-01", "--out", "part.csv"], d));
    let scored = by_id(&d.join("part.csv"), "segment_name");
    assert!(scored.len() > 4_000, "{}", scored.len());
    let differ = differing(&own, &scored);
    assert!(differ.is_empty(), "{} customers differ: {:?}", differ.len(), &differ[..differ.len().min(10)]);
}

#[test]
fn every_new_customer_gets_a_segment_and_says_why_it_is_unlike_the_fitted_ones() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fit_mixed(d, 600, 3, false);
    // Like the fitted ones; a missing number; a number far outside; a channel never seen; every
    // kind of hostile cell at once; a long text id.
    let long_id = "x".repeat(5_000);
    std::fs::write(
        d.join("new.csv"),
        format!(
            "customer_id,recency,frequency,monetary,channel\nn1,15,13,910,web\nn2,,5,300,store\n\
             n3,200,1,1000000000,phone\nn4,60,5,300,fax\nn5,NaN,inf,-5,\n{long_id},65,6,310,store\n"
        ),
    )
    .unwrap();
    let o = strata(&["score", "p.strata", "--data", "new.csv", "--out", "s.csv", "--json"], d);
    ok(&o);
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["n_fitted_customers"], 600);
    assert_eq!(report["segments"].as_array().unwrap().len(), 3);
    assert!(report["determinism"].as_str().unwrap().contains("ties to the lowest segment number"));
    let segment = by_id(&d.join("s.csv"), "segment");
    assert_eq!(segment.len(), 6);
    assert!(segment.values().all(|s| !s.is_empty()), "every customer has a segment: {segment:?}");
    let reason = by_id(&d.join("s.csv"), "reason");
    let column = by_id(&d.join("s.csv"), "reason_column");
    let beyond = by_id(&d.join("s.csv"), "beyond_fitted");
    assert_eq!(reason["n1"], "");
    assert_eq!(beyond["n1"], "false");
    assert_eq!((reason["n2"].as_str(), column["n2"].as_str()), ("missing_feature", "recency"));
    assert_eq!((reason["n3"].as_str(), column["n3"].as_str()), ("outside_fitted_range", "monetary"));
    assert_eq!(beyond["n3"], "true", "outside the fitted range is beyond the fitted data");
    assert_eq!((reason["n4"].as_str(), column["n4"].as_str()), ("unseen_category", "channel"));
    assert_eq!(reason["n5"], "missing_feature");
    assert_eq!(reason[&long_id], "");
    // The same customers in the same segments as the model puts them: n1 with the web customers.
    let margin = by_id(&d.join("s.csv"), "margin");
    assert!(margin.values().all(|m| m.parse::<f64>().is_ok_and(|m| m >= 0.0)), "{margin:?}");

    // One customer whose value overflows once scaled does not stop the batch: it goes to the
    // fallback, numbered after the project's segments, with its reason; a batch of only such
    // customers is scored too.
    std::fs::write(
        d.join("big.csv"),
        "customer_id,recency,frequency,monetary,channel\nb1,15,13,910,web\nb2,1e300,5,300,store\n",
    )
    .unwrap();
    ok(&strata(&["score", "p.strata", "--data", "big.csv", "--out", "big_scores.csv"], d));
    let name = by_id(&d.join("big_scores.csv"), "segment_name");
    let number = by_id(&d.join("big_scores.csv"), "segment_number");
    let reason = by_id(&d.join("big_scores.csv"), "reason");
    assert_eq!((name["b2"].as_str(), number["b2"].as_str()), ("Fallback", "4"));
    assert_eq!(reason["b2"], "outside_fitted_range");
    assert_ne!(name["b1"], "Fallback");
    std::fs::write(d.join("only.csv"), "customer_id,recency,frequency,monetary,channel\nb2,-1e300,5,300,store\n")
        .unwrap();
    ok(&strata(&["score", "p.strata", "--data", "only.csv", "--out", "only_scores.csv"], d));
    assert_eq!(by_id(&d.join("only_scores.csv"), "segment_name")["b2"], "Fallback");

    // A file with none of the recipe's columns is refused in one line, naming the column.
    std::fs::write(d.join("bad.csv"), "customer_id,other\nz1,1\n").unwrap();
    let o = strata(&["score", "p.strata", "--data", "bad.csv"], d);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("recency") && !err.contains("panicked"), "{err}");
}
