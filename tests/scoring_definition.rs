//! The scoring definition (`strata export-model`) implemented again here, from the JSON alone, in
//! a few dozen lines: it must give every customer the segment `strata score` gives, or the test
//! names the customers that differ.

// Tests may unwrap: a failed unwrap is a failed test with its line (helpers included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

#[path = "common/scoring.rs"]
mod common;
use common::*;

/// The definition applied to one customer: its segment's name.
fn score_one(model: &Value, customer: &HashMap<String, String>) -> String {
    let number =
        |column: &str| customer.get(column).and_then(|t| t.trim().parse::<f64>().ok()).filter(|x| x.is_finite());
    let mut point = Vec::new();
    let mut fallback = false;
    for f in model["features"].as_array().unwrap() {
        let column = f["column"].as_str().unwrap();
        let weight = f["weight"].as_f64().unwrap();
        if f["kind"] == "numeric" {
            let Some(mut x) = number(column).or(f["impute"].as_f64()) else {
                fallback = true;
                point.push(0.0);
                continue;
            };
            if let Some(clip) = f["clip"].as_array() {
                x = x.clamp(clip[0].as_f64().unwrap(), clip[1].as_f64().unwrap());
            }
            if f["log1p"].as_bool().unwrap() {
                x = x.signum() * x.abs().ln_1p();
            }
            point.push((x - f["center"].as_f64().unwrap()) / f["scale"].as_f64().unwrap() * weight);
        } else {
            let given = customer.get(column).map(|t| t.to_string()).filter(|t| !t.is_empty());
            let level = given.or(f["impute"].as_str().map(str::to_string));
            if level.is_none() {
                fallback = true;
            }
            for l in f["levels"].as_array().unwrap() {
                point.push(if level.as_deref() == l.as_str() { weight } else { 0.0 });
            }
        }
    }
    let mut segment: Option<String> = None;
    let numbers = |v: &Value| v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect::<Vec<f64>>();
    // RFM's three scores by the stored edges, none when a raw value is missing or not finite.
    let rfm_scores = |measures: &Value| -> Option<Vec<u64>> {
        measures
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                let v = number(m["column"].as_str().unwrap())?;
                let v = if m["lower_is_better"].as_bool().unwrap() { -v } else { v };
                Some(1 + numbers(&m["edges"]).iter().filter(|&&e| v > e).count() as u64)
            })
            .collect()
    };
    if !fallback {
        let distance = |p: &Value| numbers(p).iter().zip(&point).map(|(c, x)| (x - c).powi(2)).sum::<f64>();
        let lowest = |scores: Vec<f64>| {
            scores.iter().enumerate().fold((f64::INFINITY, 0), |b, (i, &s)| if s < b.0 { (s, i) } else { b })
        };
        let best = match model["assign"].as_str().unwrap() {
            "nearest map node" => {
                let node = lowest(model["nodes"].as_array().unwrap().iter().map(distance).collect()).1;
                (0.0, model["node_segments"][node].as_u64().unwrap() as usize)
            }
            "highest posterior" => lowest(
                model["components"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| {
                        let mean = numbers(&c["mean"]);
                        let p: Vec<Vec<f64>> = c["precision_factor"].as_array().unwrap().iter().map(numbers).collect();
                        let quadratic: f64 = (0..point.len())
                            .map(|i| (0..=i).map(|j| p[i][j] * (point[j] - mean[j])).sum::<f64>().powi(2))
                            .sum();
                        let log_det: f64 = (0..point.len()).map(|i| p[i][i].ln()).sum();
                        -(c["weight"].as_f64().unwrap().ln() + log_det - 0.5 * quadratic)
                    })
                    .collect(),
            ),
            "nearest prototype" => {
                let p = &model["prototypes"];
                let at =
                    |v: &Value| v.as_array().unwrap().iter().map(|i| i.as_u64().unwrap() as usize).collect::<Vec<_>>();
                // Per group, the position of its largest output above 0 (the first of equals).
                let codes: Vec<u64> = p["categorical_outputs"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|g| {
                        let g = at(g);
                        let mut hot: Option<(usize, f64)> = None;
                        for (pos, &c) in g.iter().enumerate() {
                            if point[c] > 0.0 && hot.is_none_or(|(_, v)| point[c] > v) {
                                hot = Some((pos, point[c]));
                            }
                        }
                        hot.map_or(g.len(), |(pos, _)| pos) as u64
                    })
                    .collect();
                let numeric = at(&p["numeric_outputs"]);
                let gamma = p["gamma"].as_f64().unwrap();
                let modes = p["modes"].as_array().unwrap();
                lowest(
                    p["means"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .zip(modes)
                        .map(|(mean, mode)| {
                            let distance: f64 =
                                numeric.iter().zip(numbers(mean)).map(|(&j, m)| (point[j] - m).powi(2)).sum();
                            let differ = codes.iter().zip(mode.as_array().unwrap()).filter(|(c, m)| m != *c).count();
                            distance + gamma * differ as f64
                        })
                        .collect(),
                )
            }
            "value tier, then nearest centroid" => {
                let h = &model["hybrid"];
                let tier = rfm_scores(&h["measures"]).map(|s| {
                    let total: u64 = s.iter().sum();
                    let edges = numbers(&h["tier_edges"]);
                    usize::from(total as f64 >= edges[0]) + usize::from(total as f64 >= edges[1])
                });
                match tier.map(|t| &h["tiers"][t]) {
                    Some(tier) if !tier.is_null() => {
                        let nearest = lowest(tier["centroids"].as_array().unwrap().iter().map(distance).collect()).1;
                        (0.0, tier["first_segment"].as_u64().unwrap() as usize + nearest)
                    }
                    _ => (0.0, usize::MAX),
                }
            }
            "rfm scores" => {
                let rfm = &model["rfm"];
                let name = rfm_scores(&rfm["measures"]).map(|s| {
                    let within = |r: &Value, s: u64| r[0].as_u64().unwrap() <= s && s <= r[1].as_u64().unwrap();
                    let rule = rfm["rules"].as_array().unwrap().iter().find(|r| {
                        within(&r["recency"], s[0]) && within(&r["frequency"], s[1]) && within(&r["monetary"], s[2])
                    });
                    rule.map_or(rfm["unmatched"].as_str().unwrap(), |r| r["name"].as_str().unwrap())
                });
                let names = rfm["segment_names"].as_array().unwrap();
                (0.0, name.and_then(|n| names.iter().position(|x| x == n)).unwrap_or(usize::MAX))
            }
            _ => lowest(model["centres"].as_array().unwrap().iter().map(distance).collect()),
        };
        segment = model["segments"].get(best.1).map(|s| s["name"].as_str().unwrap().to_string());
    }
    // `when no segment` is about the model's segment, whatever a rule before did.
    let placed = segment.is_some();
    for rule in model["rules"].as_array().unwrap() {
        let holds = rule["conditions"].as_array().unwrap().iter().all(|c| match c["kind"].as_str().unwrap() {
            "no_segment" => !placed,
            "missing" => number(c["column"].as_str().unwrap()).is_none() != c["negated"].as_bool().unwrap(),
            _ => {
                let x = number(c["column"].as_str().unwrap());
                let t = c["value"].as_f64().unwrap();
                x.is_some_and(|x| match c["op"].as_str().unwrap() {
                    "<" => x < t,
                    "<=" => x <= t,
                    ">" => x > t,
                    ">=" => x >= t,
                    "=" => x == t,
                    _ => x != t,
                })
            }
        });
        if holds {
            assert_eq!(rule["action"]["kind"], "segment", "this implementation moves customers to named segments");
            segment = Some(rule["action"]["name"].as_str().unwrap().to_string());
        }
    }
    segment.unwrap_or_else(|| model["fallback"]["name"].as_str().unwrap().to_string())
}

/// Scores `customers` (id in `id`) by the definition and by `strata score`'s `scores`, and lists
/// the customers whose segments differ.
fn differences(model: &Value, customers: &Path, id: &str, scores: &Path) -> (usize, Vec<String>) {
    let strata_says: HashMap<String, String> =
        rows(scores).into_iter().map(|r| (r[id].clone(), r["segment_name"].clone())).collect();
    let customers = rows(customers);
    let mut differ = Vec::new();
    for c in &customers {
        let ours = score_one(model, c);
        if strata_says.get(&c[id]) != Some(&ours) {
            differ.push(format!("{}: {ours} here, {:?} by strata score", c[id], strata_says.get(&c[id])));
        }
    }
    (customers.len(), differ)
}

#[test]
fn the_demo_with_a_percentile_rule_scores_the_same_from_the_json_alone() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    demo_with_rule(d, "when monetary_total > p90 then segment \"Top tenth\"");
    ok(&strata(&["export-model", "demo.strata", "--out", "model.json"], d));
    let model: Value = serde_json::from_str(&std::fs::read_to_string(d.join("model.json")).unwrap()).unwrap();
    assert_eq!((model["format"].as_str(), model["format_version"].as_u64()), (Some("strata-scoring-model"), Some(1)));
    let log = cdnow();
    let log = log.to_str().unwrap();
    ok(&strata(&["score", "demo.strata", "--data", log, "--out", "scores.csv"], d));
    // The same customers' features, as the demo computes them (as of its stored date).
    ok(&strata(
        &[
            "rfm",
            "--transactions",
            log,
            "--customer-id",
            "customer_id",
            "--date",
            "date",
            "--amount",
            "dollar_value",
            "--as-of",
            "1998-07-01",
            "--out",
            "customers.csv",
        ],
        d,
    ));
    let (n, differ) = differences(&model, &d.join("customers.csv"), "customer_id", &d.join("scores.csv"));
    assert_eq!(n, 23_570);
    assert!(differ.is_empty(), "{} of {n} customers differ: {:?}", differ.len(), &differ[..differ.len().min(10)]);
}

#[test]
fn a_table_with_categories_missing_values_and_clipping_scores_the_same_from_the_json_alone() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let csv = fit_mixed(d, 900, 4, true);
    add_rules(d, &[NEWEST_HEAVY], &[]);
    ok(&strata(&["export-model", "p.strata", "--out", "model.json"], d));
    let model: Value = serde_json::from_str(&std::fs::read_to_string(d.join("model.json")).unwrap()).unwrap();
    // New customers: like the fitted ones, missing values, unseen and empty channels, extremes.
    let new = "customer_id,recency,frequency,monetary,channel\nn1,15,13,910,web\nn2,,5,300,store\nn3,200,1,100000,phone\n\
               n4,60,5,300,fax\nn5,,,,\nn6,0,40,5000,web\nn7,-3,0,-20,store\n";
    std::fs::write(d.join("new.csv"), format!("{new}{}", csv.lines().skip(1).take(300).collect::<Vec<_>>().join("\n")))
        .unwrap();
    ok(&strata(&["score", "p.strata", "--data", "new.csv", "--out", "scores.csv"], d));
    let (n, differ) = differences(&model, &d.join("new.csv"), "customer_id", &d.join("scores.csv"));
    assert_eq!(n, 307);
    let scores = std::fs::read_to_string(d.join("scores.csv")).unwrap();
    assert!(scores.lines().filter(|l| l.contains("Newest heavy")).count() >= 2, "the rule moves some customers");
    assert!(differ.is_empty(), "{} of {n} customers differ: {:?}", differ.len(), &differ[..differ.len().min(10)]);
    // The mixture (full and diagonal) and the map: version 2, scored the same from the JSON alone.
    for (method, extra) in [
        ("gmm", &["--covariance", "full"][..]),
        ("gmm", &["--covariance", "diag"]),
        ("som", &["--grid", "4x4"]),
        ("kprototypes", &[]),
    ] {
        fit_method(d, method, extra, "m.strata");
        ok(&strata(&["export-model", "m.strata", "--out", "m.json"], d));
        let model: Value = serde_json::from_str(&std::fs::read_to_string(d.join("m.json")).unwrap()).unwrap();
        assert_eq!(model["format_version"], 2, "{method}");
        ok(&strata(&["score", "m.strata", "--data", "new.csv", "--out", "m.csv"], d));
        let (n, differ) = differences(&model, &d.join("new.csv"), "customer_id", &d.join("m.csv"));
        assert!(
            differ.is_empty(),
            "{method} {extra:?}: {} of {n} differ: {:?}",
            differ.len(),
            &differ[..differ.len().min(10)]
        );
    }
    // RFM rules on the same table's recency, frequency and monetary value, by their stored edges.
    let renamed = |file: &str| {
        let text = std::fs::read_to_string(d.join(file)).unwrap();
        text.replacen("recency,frequency,monetary", "recency_days,frequency,monetary_total", 1)
    };
    let complete: Vec<String> = renamed("customers.csv")
        .lines()
        .filter(|l| !l.contains(",,") && !l.ends_with(','))
        .map(str::to_string)
        .collect();
    std::fs::write(d.join("rfm-fit.csv"), complete.join("\n") + "\n").unwrap();
    std::fs::write(d.join("rfm.csv"), renamed("new.csv")).unwrap();
    let fit =
        ["fit", "--data", "rfm-fit.csv", "--id", "customer_id", "--features", "recency_days,frequency,monetary_total"];
    ok(&strata(&[&fit[..], &["--algorithm", "rfm", "--project", "r.strata"]].concat(), d));
    ok(&strata(&["export-model", "r.strata", "--out", "r.json"], d));
    let model: Value = serde_json::from_str(&std::fs::read_to_string(d.join("r.json")).unwrap()).unwrap();
    ok(&strata(&["score", "r.strata", "--data", "rfm.csv", "--out", "r.csv"], d));
    let (n, differ) = differences(&model, &d.join("rfm.csv"), "customer_id", &d.join("r.csv"));
    assert!(differ.is_empty(), "rfm: {} of {n} differ: {:?}", differ.len(), &differ[..differ.len().min(10)]);
    // RFM tiers with k-means inside, on the same measures and the channel.
    let hybrid = ["--features", "recency_days,frequency,monetary_total,channel", "--categorical", "channel"];
    let hybrid =
        [&fit[..5], &hybrid[..], &["--algorithm", "hybrid", "--k-per-tier", "3", "--project", "h.strata"]].concat();
    ok(&strata(&hybrid, d));
    ok(&strata(&["export-model", "h.strata", "--out", "h.json"], d));
    let model: Value = serde_json::from_str(&std::fs::read_to_string(d.join("h.json")).unwrap()).unwrap();
    assert_eq!(model["assign"], "value tier, then nearest centroid");
    ok(&strata(&["score", "h.strata", "--data", "rfm.csv", "--out", "h.csv"], d));
    let (n, differ) = differences(&model, &d.join("rfm.csv"), "customer_id", &d.join("h.csv"));
    assert!(differ.is_empty(), "hybrid: {} of {n} differ: {:?}", differ.len(), &differ[..differ.len().min(10)]);
    // A method the definition does not express is refused with the reason.
    let args = ["fit", "--data", "customers.csv", "--id", "customer_id", "--features", "frequency,monetary"];
    ok(&strata(&[&args[..], &["--algorithm", "dbscan", "--eps", "0.3", "--project", "g.strata"]].concat(), d));
    let o = strata(&["export-model", "g.strata", "--out", "g.json"], d);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("does not express") && !d.join("g.json").exists(), "{err}");
}
