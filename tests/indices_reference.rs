//! Every index against scikit-learn's values on the same data and labels, committed as fixtures by
//! tests/fixtures/reference/gen_reference.py: agreement to 1e-9 relative.

// Tests may unwrap: a failed unwrap is a failed test with its line (helpers included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use ndarray::Array2;
use strata::engine::cluster::kmeans::{KMeansParams, fit};
use strata::engine::data::{ReadOptions, read_table};
use strata::engine::jobs::CancelToken;
use strata::engine::metrics::{calinski_harabasz, davies_bouldin, evaluate, inertia, silhouette_samples};

fn fixture_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reference")
}

fn load() -> (Array2<f64>, polars::prelude::DataFrame, serde_json::Value) {
    let table = read_table(&fixture_dir().join("indices_data.csv"), &ReadOptions::default()).unwrap();
    let frame = table.frame;
    let n = frame.height();
    let mut x = Array2::zeros((n, 4));
    for (j, name) in ["f1", "f2", "f3", "f4"].iter().enumerate() {
        let values = frame.column(name).unwrap().f64().unwrap();
        for (i, v) in values.into_no_null_iter().enumerate() {
            x[[i, j]] = v;
        }
    }
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture_dir().join("indices_reference.json")).unwrap()).unwrap();
    (x, frame, reference)
}

fn assert_close(ours: f64, theirs: f64, what: &str) {
    let relative = (ours - theirs).abs() / theirs.abs().max(f64::MIN_POSITIVE);
    assert!(relative <= 1e-9, "{what}: ours {ours} vs scikit-learn {theirs} (relative {relative:e})");
}

#[test]
fn indices_agree_with_scikit_learn_to_1e_9_relative() {
    let (x, frame, reference) = load();
    let labelings = reference["labelings"].as_object().unwrap();
    assert_eq!(labelings.len(), 3);
    for (name, expected) in labelings {
        let labels: Vec<usize> =
            frame.column(name).unwrap().i64().unwrap().into_no_null_iter().map(|v| v as usize).collect();
        let k = expected["k"].as_u64().unwrap() as usize;
        let get = |key: &str| expected[key].as_f64().unwrap();
        assert_close(inertia(x.view(), &labels, k).unwrap(), get("inertia"), &format!("{name} inertia"));
        assert_close(calinski_harabasz(x.view(), &labels, k).unwrap(), get("calinski_harabasz"), &format!("{name} CH"));
        assert_close(davies_bouldin(x.view(), &labels, k).unwrap(), get("davies_bouldin"), &format!("{name} DB"));
        let all = evaluate(x.view(), &labels, k, 0).unwrap();
        let s = all.silhouette.unwrap();
        assert!(s.exact);
        assert_close(s.mean, get("silhouette"), &format!("{name} silhouette"));
        let samples = silhouette_samples(x.view(), &labels, k).unwrap();
        for (i, theirs) in expected["silhouette_samples_first10"].as_array().unwrap().iter().enumerate() {
            let theirs = theirs.as_f64().unwrap();
            // Per-sample values near zero are compared absolutely.
            assert!((samples[i] - theirs).abs() <= 1e-9 * theirs.abs().max(1.0), "{name} sample {i}");
        }
    }
}

#[test]
fn kmeans_inertia_is_no_worse_than_scikit_learn_by_more_than_half_a_percent() {
    let (x, _, reference) = load();
    for (k, theirs) in reference["kmeans_inertia_median_of_20_seeds"].as_object().unwrap() {
        let k: usize = k.parse().unwrap();
        let theirs = theirs.as_f64().unwrap();
        let mut inertias: Vec<f64> = (0..20)
            .map(|seed| {
                fit(x.view(), &KMeansParams::new(k).n_init(10).seed(seed), &CancelToken::new()).unwrap().inertia
            })
            .collect();
        inertias.sort_by(f64::total_cmp);
        let median = (inertias[9] + inertias[10]) / 2.0;
        assert!(median <= theirs * 1.005, "k = {k}: our median {median} vs scikit-learn's {theirs}");
        let ours = fit(x.view(), &KMeansParams::new(k).n_init(10).seed(0), &CancelToken::new()).unwrap();
        // Segment means are the best centres for the final labels, so their inertia can only be lower.
        assert!(inertia(x.view(), &ours.labels, k).unwrap() <= ours.inertia * (1.0 + 1e-12));
    }
}

#[test]
fn skewness_matches_scipy() {
    let (_, _, reference) = load();
    let values: Vec<Option<f64>> = [1.0, 2.0, 3.0, 4.0, 100.0].into_iter().map(Some).collect();
    let s = strata::engine::data::quality::summarise(&values).unwrap();
    assert_close(s.skew, reference["skew_1_2_3_4_100"].as_f64().unwrap(), "skew");
}
