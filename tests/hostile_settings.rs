//! A shared project's settings or values never hang, abort, panic or produce NaN with success
//! (issue 15): every method setting has a documented bound, products of settings that size an
//! allocation are checked before allocating, and values that overflow inside the recipe or the fit
//! are refused naming the feature.

// Tests may unwrap: a failed unwrap is a failed test with its line (helpers included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::mpsc;
use std::time::Duration;

use polars::prelude::*;
use strata::engine::cluster::bounds;
use strata::engine::cluster::dbscan::DbscanParams;
use strata::engine::cluster::gmm::GmmParams;
use strata::engine::cluster::hierarchical::HierarchicalParams;
use strata::engine::cluster::hybrid::HybridParams;
use strata::engine::cluster::kmeans::{KMeansFit, KMeansParams, MiniBatchParams};
use strata::engine::cluster::kprototypes::KPrototypesParams;
use strata::engine::cluster::optics::OpticsParams;
use strata::engine::cluster::rfm_rules::{RfmParams, RfmRule};
use strata::engine::cluster::som::{SomMap, SomParams};
use strata::engine::cluster::stability::{StabilityParams, bootstrap_stability};
use strata::engine::cluster::sweep::{sweep, sweep_with_silhouette_rows};
use strata::engine::cluster::{Algorithm, Segmentation};
use strata::engine::error::{ClusterError, FeatureError};
use strata::engine::features::recipe::{FittedFeature, MAX_FEATURE_WEIGHT, MAX_LEVELS};
use strata::engine::features::{FeatureKind, FeatureRecipe, FeatureSpec, Scaling};
use strata::engine::jobs::{CancelToken, JobContext};

const HUGE: usize = 1_000_000_000_000;

/// Runs `f` on its own thread and fails (rather than hangs) when it takes longer than a generous
/// minute; a refusal is expected to be instant.
fn within_a_minute<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name(format!("hostile-{what}"))
        .spawn(move || {
            let _ = tx.send(f());
        })
        .unwrap();
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(value) => value,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what}: still running after a minute (a hang)"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{what}: panicked"),
    }
}

/// Six customers in two groups, two features.
fn small() -> ndarray::Array2<f64> {
    ndarray::array![[0.0, 0.0], [0.1, 0.2], [0.2, 0.1], [5.0, 5.0], [5.1, 5.2], [5.2, 5.1]]
}

/// Every method with one setting beyond its bound, and the key the refusal must name.
fn hostile_algorithms() -> Vec<(Algorithm, &'static str)> {
    let km = KMeansParams::default;
    let mb = MiniBatchParams::default;
    let gmm = GmmParams::default;
    let hc = HierarchicalParams::default;
    let db = DbscanParams::default;
    let op = OpticsParams::default;
    let kp = KPrototypesParams::default;
    let som = SomParams::default;
    let hy = HybridParams::default;
    let rules = |rules: Vec<RfmRule>| Algorithm::Rfm(RfmParams { rules, ..RfmParams::default() });
    let rule = |name: String| RfmRule { name, recency: (1, 5), frequency: (1, 5), monetary: (1, 5) };
    vec![
        (Algorithm::KMeans(KMeansParams { k: bounds::MAX_K + 1, ..km() }), "k"),
        (Algorithm::KMeans(KMeansParams { n_init: HUGE, ..km() }), "n_init"),
        (Algorithm::KMeans(KMeansParams { max_iter: HUGE, ..km() }), "max_iter"),
        (Algorithm::KMeans(KMeansParams { tolerance: f64::NAN, ..km() }), "tolerance"),
        (Algorithm::KMeans(KMeansParams { tolerance: f64::INFINITY, ..km() }), "tolerance"),
        (Algorithm::KMeans(KMeansParams { tolerance: -1.0, ..km() }), "tolerance"),
        (Algorithm::KMeans(KMeansParams { tolerance: 1e300, ..km() }), "tolerance"),
        (Algorithm::MiniBatchKMeans(MiniBatchParams { k: HUGE, ..mb() }), "k"),
        (Algorithm::MiniBatchKMeans(MiniBatchParams { batch_size: usize::MAX, ..mb() }), "batch_size"),
        (Algorithm::MiniBatchKMeans(MiniBatchParams { max_epochs: HUGE, ..mb() }), "max_epochs"),
        (Algorithm::MiniBatchKMeans(MiniBatchParams { max_no_improvement: HUGE, ..mb() }), "max_no_improvement"),
        (Algorithm::MiniBatchKMeans(MiniBatchParams { n_init: HUGE, ..mb() }), "n_init"),
        (Algorithm::Gmm(GmmParams { k: HUGE, ..gmm() }), "k"),
        (Algorithm::Gmm(GmmParams { n_init: HUGE, ..gmm() }), "n_init"),
        (Algorithm::Gmm(GmmParams { max_iter: HUGE, ..gmm() }), "max_iter"),
        (Algorithm::Gmm(GmmParams { tolerance: f64::INFINITY, ..gmm() }), "tolerance"),
        (Algorithm::Gmm(GmmParams { reg_covar: 1e300, ..gmm() }), "reg_covar"),
        (Algorithm::Gmm(GmmParams { reg_covar: f64::NAN, ..gmm() }), "reg_covar"),
        (Algorithm::Hierarchical(HierarchicalParams { k: HUGE, ..hc() }), "k"),
        (
            Algorithm::Hierarchical(HierarchicalParams { max_exact_rows: HUGE, micro_clusters: 10, ..hc() }),
            "max_exact_rows",
        ),
        (Algorithm::Hierarchical(HierarchicalParams { micro_clusters: HUGE, ..hc() }), "micro_clusters"),
        (Algorithm::Dbscan(DbscanParams { min_samples: HUGE, ..db() }), "min_samples"),
        (Algorithm::Dbscan(DbscanParams { eps: Some(f64::INFINITY), ..db() }), "eps"),
        (Algorithm::Dbscan(DbscanParams { eps: Some(1e300), ..db() }), "eps"),
        (Algorithm::Dbscan(DbscanParams { eps: Some(0.0), ..db() }), "eps"),
        (Algorithm::Optics(OpticsParams { min_samples: HUGE, ..op() }), "min_samples"),
        (Algorithm::Optics(OpticsParams { max_eps: Some(1e300), ..op() }), "max_eps"),
        (Algorithm::Optics(OpticsParams { eps: Some(f64::NAN), ..op() }), "eps"),
        (Algorithm::Optics(OpticsParams { min_cluster_size: Some(usize::MAX), ..op() }), "min_cluster_size"),
        (Algorithm::Optics(OpticsParams { xi: f64::NAN, ..op() }), "xi"),
        (Algorithm::KPrototypes(KPrototypesParams { k: HUGE, ..kp() }), "k"),
        (Algorithm::KPrototypes(KPrototypesParams { n_init: HUGE, ..kp() }), "n_init"),
        (Algorithm::KPrototypes(KPrototypesParams { max_iter: HUGE, ..kp() }), "max_iter"),
        (Algorithm::KPrototypes(KPrototypesParams { gamma: Some(1e300), ..kp() }), "gamma"),
        (Algorithm::Som(SomParams { k: HUGE, ..som() }), "k"),
        (Algorithm::Som(SomParams { epochs: HUGE, ..som() }), "epochs"),
        (Algorithm::Som(SomParams { rows: HUGE, ..som() }), "rows"),
        (Algorithm::Som(SomParams { cols: HUGE, ..som() }), "cols"),
        (Algorithm::Som(SomParams { rows: 101, cols: 100, ..som() }), "rows × cols"),
        (Algorithm::Hybrid(HybridParams { k_per_tier: HUGE, ..hy() }), "k_per_tier"),
        (rules((0..bounds::MAX_RFM_RULES + 1).map(|i| rule(format!("rule {i}"))).collect()), "RFM rules"),
        (rules(vec![rule("x".repeat(bounds::MAX_RULE_NAME_CHARS + 1))]), "RFM rules"),
    ]
}

#[test]
fn every_bound_is_refused_naming_the_key() {
    for (algorithm, key) in hostile_algorithms() {
        let err = algorithm.check().expect_err(key);
        let message = err.to_string();
        assert!(message.contains(key), "{}: '{message}' does not name {key}", algorithm.name());
    }
    // The message names the key, the value and the bound.
    let err = Algorithm::KMeans(KMeansParams { n_init: HUGE, ..KMeansParams::default() }).check().unwrap_err();
    assert_eq!(err.to_string(), "n_init is 1000000000000; at most 1000 initialisations are allowed");
    // Defaults and values at the bound pass.
    for name in Algorithm::NAMES {
        assert!(Algorithm::by_name(name).unwrap().check().is_ok(), "{name}");
    }
    let at_bound = KMeansParams {
        k: bounds::MAX_K,
        n_init: bounds::MAX_N_INIT,
        max_iter: bounds::MAX_ITER,
        ..KMeansParams::default()
    };
    assert!(Algorithm::KMeans(at_bound).check().is_ok());
    assert!(Algorithm::Som(SomParams { rows: 100, cols: 100, ..SomParams::default() }).check().is_ok());
}

#[test]
fn huge_settings_of_every_method_are_refused_instantly_by_the_fit() {
    within_a_minute("fits", || {
        let x = small();
        let cancel = CancelToken::new();
        for (algorithm, key) in hostile_algorithms() {
            if !algorithm.uses_feature_matrix() || algorithm.rfm_columns().is_some() {
                continue; // rules and the hybrid read the customer table; check() covers them
            }
            let err = algorithm.fit_matrix(x.view(), &cancel).expect_err(key);
            assert!(err.to_string().contains(key), "{}: '{err}' does not name {key}", algorithm.name());
        }
    });
}

#[test]
fn the_som_grid_overflow_is_refused_without_a_panic() {
    let params = SomParams { rows: usize::MAX / 2 + 1, cols: 2, ..SomParams::default() };
    let err = params.check().unwrap_err();
    assert!(
        matches!(
            err,
            ClusterError::OutOfBounds { name: "rows", .. } | ClusterError::OutOfBounds { name: "rows × cols", .. }
        ),
        "{err:?}"
    );
    // The product on its own (each side within the bound) is multiplied with checked arithmetic.
    let product = bounds_product_message(100, 101);
    assert!(product.contains("rows × cols is 100 × 101 = 10100; at most 10000 grid nodes"), "{product}");
    let x = small();
    assert!(within_a_minute("som", move || SomMap::train(x.view(), &params, &CancelToken::new()).is_err()));
}

fn bounds_product_message(rows: usize, cols: usize) -> String {
    SomParams { rows, cols, ..SomParams::default() }.check().unwrap_err().to_string()
}

#[test]
fn stability_settings_are_bounded_before_anything_is_allocated() {
    let huge = StabilityParams { bootstrap: 1_000_000_000, seed: 1 };
    let err = huge.check().unwrap_err();
    assert!(err.to_string().starts_with("bootstrap is 1000000000; at most 1000"), "{err}");
    assert!(StabilityParams { bootstrap: 1, seed: 1 }.check().is_err());
    assert!(StabilityParams::default().check().is_ok());
    let err = within_a_minute("bootstrap", move || {
        let x = small();
        let labels = [0, 0, 0, 1, 1, 1];
        bootstrap_stability(x.view(), &labels, &Algorithm::KMeans(KMeansParams::new(2)), &huge, &CancelToken::new())
    })
    .unwrap_err();
    assert!(err.to_string().contains("bootstrap"), "{err}");
    // Labels numbering more segments than customers: refused, not a huge allocation.
    let x = small();
    let labels = [0, 0, 0, 1, 1, usize::MAX];
    let params = StabilityParams { bootstrap: 2, seed: 1 };
    let algorithm = Algorithm::KMeans(KMeansParams::new(2));
    assert!(bootstrap_stability(x.view(), &labels, &algorithm, &params, &CancelToken::new()).is_err());
    // The settings of the method re-fitted are checked too.
    let hostile = Algorithm::KMeans(KMeansParams { n_init: HUGE, ..KMeansParams::new(2) });
    let err = bootstrap_stability(x.view(), &[0, 0, 0, 1, 1, 1], &hostile, &params, &CancelToken::new()).unwrap_err();
    assert!(err.to_string().contains("n_init"), "{err}");
}

#[test]
fn sweep_ranges_are_bounded() {
    within_a_minute("sweep", || {
        let x = small();
        let ctx = JobContext::inline();
        let kmeans = Algorithm::KMeans(KMeansParams::default());
        let err = sweep(x.view(), 2, HUGE, &kmeans, &ctx).unwrap_err();
        assert!(err.to_string().starts_with("k is 1000000000000; at most 1000"), "{err}");
        let many = Algorithm::KMeans(KMeansParams { n_init: bounds::MAX_N_INIT, ..KMeansParams::default() });
        let err = sweep(x.view(), 1, bounds::MAX_K, &many, &ctx).unwrap_err();
        assert!(err.to_string().starts_with("k range × n_init is 1000 × 1000"), "{err}");
        let err = sweep_with_silhouette_rows(x.view(), 2, 3, &kmeans, usize::MAX, &ctx).unwrap_err();
        assert!(err.to_string().contains("silhouette rows"), "{err}");
    });
}

/// A customer table with a normal and a hostile column.
fn money(values: &[f64]) -> DataFrame {
    let n = values.len();
    df!(
        "monetary_total" => values,
        "frequency" => (0..n).map(|i| (i % 3) as f64 + 1.0).collect::<Vec<_>>(),
    )
    .unwrap()
}

fn recipe(monetary: FeatureSpec) -> FeatureRecipe {
    FeatureRecipe { features: vec![monetary, FeatureSpec::numeric("frequency")] }
}

#[test]
fn values_that_overflow_in_scaling_are_refused_naming_the_feature() {
    let frame = money(&[1e308, 2.0, 1e308, 3.0, 5.0, 1e308]);
    // Robust scaling divides by the spread before anything is squared: its values are fine.
    let robust = FeatureSpec { scaling: Scaling::Robust, ..FeatureSpec::numeric("monetary_total") };
    let (_, matrix) = recipe(robust).fit_transform(&frame, &HashMap::new()).unwrap();
    assert!(matrix.values.iter().all(|v| v.is_finite()));
    for scaling in [Scaling::ZScore, Scaling::MinMax, Scaling::None] {
        let spec = FeatureSpec { scaling, ..FeatureSpec::numeric("monetary_total") };
        let outcome = recipe(spec).fit_transform(&frame, &HashMap::new());
        if scaling == Scaling::MinMax
            && let Ok((_, matrix)) = &outcome
        {
            assert!(matrix.values.iter().all(|v| v.is_finite()), "{matrix:?}");
            continue;
        }
        let err = outcome.unwrap_err();
        assert!(
            matches!(err, FeatureError::Overflow { ref column, .. } if column == "monetary_total"),
            "{scaling:?}: {err:?}"
        );
        let message = err.to_string();
        assert!(message.starts_with("feature 'monetary_total': "), "{message}");
        assert!(message.ends_with("clip or log it"), "{message}");
    }
    let zscore = recipe(FeatureSpec::numeric("monetary_total")).fit_transform(&frame, &HashMap::new()).unwrap_err();
    assert_eq!(
        zscore.to_string(),
        "feature 'monetary_total': scaling produced infinite values (values up to 1.0e308 overflow when squared); \
         clip or log it"
    );
    // Values whose squares overflow though their sum does not (1e200): the variance is infinite.
    let err = recipe(FeatureSpec::numeric("monetary_total"))
        .fit_transform(&money(&[1e200, 1.0, 2.0, 3.0]), &HashMap::new())
        .unwrap_err();
    assert!(err.to_string().contains("monetary_total"), "{err}");
    // Logged, the same values are usable.
    let logged = FeatureSpec { log1p: true, ..FeatureSpec::numeric("monetary_total") };
    let (_, matrix) = recipe(logged).fit_transform(&frame, &HashMap::new()).unwrap();
    assert!(matrix.values.iter().all(|v| v.is_finite()));
}

#[test]
fn absurd_weights_are_refused_naming_the_feature() {
    let frame = money(&[1.0, 2.0, 3.0, 4.0]);
    for weight in [1e308, f64::INFINITY, f64::NAN, -1.0, MAX_FEATURE_WEIGHT * 2.0] {
        let spec = FeatureSpec { weight, ..FeatureSpec::numeric("monetary_total") };
        let recipe = recipe(spec);
        let err = recipe.check().unwrap_err();
        assert!(err.to_string().starts_with("feature 'monetary_total': weight"), "{weight}: {err}");
        assert!(recipe.fit_transform(&frame, &HashMap::new()).is_err(), "{weight}");
    }
    // The largest weight allowed, on values scaling brings back to a few units: fine.
    let spec = FeatureSpec { weight: MAX_FEATURE_WEIGHT, ..FeatureSpec::numeric("monetary_total") };
    let (_, matrix) = recipe(spec).fit_transform(&money(&[1e90, 1.0, 2.0, 3.0]), &HashMap::new()).unwrap();
    assert!(matrix.values.iter().all(|v| v.is_finite()));
    // Unscaled values times a large weight beyond what squared distances can hold: refused.
    let spec = FeatureSpec { weight: 1e6, scaling: Scaling::None, ..FeatureSpec::numeric("monetary_total") };
    let err = recipe(spec).fit_transform(&money(&[1e96, 1.0, 2.0, 3.0]), &HashMap::new()).unwrap_err();
    assert!(
        matches!(&err, FeatureError::Overflow { column, problem } if column == "monetary_total" && problem.starts_with("the weight")),
        "{err:?}"
    );
}

#[test]
fn a_hostile_fitted_recipe_is_refused_not_divided_by_zero() {
    let frame = money(&[1.0, 2.0, 3.0, 4.0]);
    let (fitted, _) = recipe(FeatureSpec::numeric("monetary_total")).fit_transform(&frame, &HashMap::new()).unwrap();
    let mut hostile = fitted.clone();
    if let FittedFeature::Numeric(f) = &mut hostile.features[0] {
        f.scale = 0.0;
    }
    let err = hostile.transform(&frame).unwrap_err();
    assert!(err.to_string().starts_with("feature 'monetary_total'"), "{err}");
    let mut reversed = fitted.clone();
    if let FittedFeature::Numeric(f) = &mut reversed.features[0] {
        f.clip_bounds = Some((5.0, 1.0)); // f64::clamp panics on these
    }
    assert!(reversed.transform(&frame).is_err());
    let mut heavy = fitted;
    if let FittedFeature::Numeric(f) = &mut heavy.features[0] {
        f.weight = f64::INFINITY;
    }
    assert!(heavy.transform(&frame).is_err());
}

#[test]
fn a_categorical_with_more_levels_than_one_hot_allows_is_refused() {
    let n = MAX_LEVELS + 1;
    let frame = df!("customer_code" => (0..n).map(|i| format!("c{i}")).collect::<Vec<_>>(), "x" => (0..n).map(|i| i as f64).collect::<Vec<_>>()).unwrap();
    let spec = FeatureSpec { kind: FeatureKind::Categorical, ..FeatureSpec::numeric("customer_code") };
    let err = FeatureRecipe { features: vec![spec, FeatureSpec::numeric("x")] }
        .fit_transform(&frame, &HashMap::new())
        .unwrap_err();
    assert!(err.to_string().starts_with("feature 'customer_code': has 1001 distinct values"), "{err}");
}

#[test]
fn a_matrix_with_values_whose_squares_overflow_never_reaches_a_fit() {
    let cancel = CancelToken::new();
    let x = ndarray::array![[1e200, 0.0], [0.0, 1.0], [1.0, 0.0], [-1e200, 1.0]];
    for name in ["kmeans", "minibatch-kmeans", "gmm", "hierarchical", "dbscan", "optics", "kprototypes", "som"] {
        let algorithm = Algorithm::by_name(name).unwrap().with_k(2);
        let err = algorithm.fit_matrix(x.view(), &cancel).unwrap_err();
        assert!(matches!(err, ClusterError::TooLargeValue { row: 0, column: 0, .. }), "{name}: {err:?}");
    }
}

#[test]
fn a_result_with_non_finite_values_is_an_error_not_a_success() {
    let fit = KMeansFit {
        labels: vec![0, 1],
        centroids: ndarray::array![[0.0], [f64::NAN]],
        inertia: 0.0,
        sizes: vec![1, 1],
        n_iter: 1,
        converged: true,
    };
    let err = Segmentation::from_kmeans(fit.clone()).check_finite().unwrap_err();
    assert!(matches!(err, ClusterError::NotFiniteResult { what: "the segment means", .. }), "{err:?}");
    let infinite = KMeansFit { centroids: ndarray::array![[0.0], [1.0]], inertia: f64::INFINITY, ..fit };
    assert!(Segmentation::from_kmeans(infinite).check_finite().is_err());
}
