//! Property tests: indices are invariant to how segments are numbered and rows ordered, stay in their
//! ranges, and k-means' labels are always the nearest centroid.

// Tests may unwrap: a failed unwrap is a failed test with its line (helpers included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ndarray::Array2;
use proptest::prelude::*;
use strata::engine::cluster::CentroidModel;
use strata::engine::cluster::kmeans::{KMeansParams, fit};
use strata::engine::jobs::CancelToken;
use strata::engine::metrics::evaluate;

/// A matrix of n rows, d columns and labels in 0..k with every segment present.
fn labeled_matrix() -> impl Strategy<Value = (Array2<f64>, Vec<usize>, usize)> {
    (2usize..5, 1usize..4).prop_flat_map(|(k, d)| {
        let n_min = k + 1;
        (n_min..40).prop_flat_map(move |n| {
            (prop::collection::vec(-100.0f64..100.0, n * d), prop::collection::vec(0..k, n - k), Just((n, d, k)))
                .prop_map(|(values, rest, (n, d, k))| {
                    // The first k rows cover every segment.
                    let labels: Vec<usize> = (0..k).chain(rest).collect();
                    (Array2::from_shape_vec((n, d), values).unwrap(), labels, k)
                })
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn indices_ignore_segment_numbering_and_row_order((x, labels, k) in labeled_matrix(), shift in 1usize..4) {
        let base = evaluate(x.view(), &labels, k, 0).unwrap();
        let renamed: Vec<usize> = labels.iter().map(|l| (l + shift) % k).collect();
        let again = evaluate(x.view(), &renamed, k, 0).unwrap();
        let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(1.0),
            (None, None) => true,
            _ => false,
        };
        prop_assert!((base.inertia - again.inertia).abs() <= 1e-9 * base.inertia.max(1.0));
        prop_assert!(close(base.silhouette.as_ref().map(|s| s.mean), again.silhouette.as_ref().map(|s| s.mean)));
        prop_assert!(close(base.calinski_harabasz, again.calinski_harabasz));
        prop_assert!(close(base.davies_bouldin, again.davies_bouldin));

        let order: Vec<usize> = (0..x.nrows()).rev().collect();
        let reversed = x.select(ndarray::Axis(0), &order);
        let reversed_labels: Vec<usize> = order.iter().map(|&i| labels[i]).collect();
        let flipped = evaluate(reversed.view(), &reversed_labels, k, 0).unwrap();
        prop_assert!(close(base.silhouette.as_ref().map(|s| s.mean), flipped.silhouette.as_ref().map(|s| s.mean)));
        prop_assert!(close(base.davies_bouldin, flipped.davies_bouldin));

        if let Some(s) = &base.silhouette {
            prop_assert!((-1.0..=1.0).contains(&s.mean));
        }
        prop_assert!(base.calinski_harabasz.unwrap_or(0.0) >= 0.0);
        prop_assert!(base.davies_bouldin.unwrap_or(0.0) >= 0.0);
    }

    #[test]
    fn kmeans_labels_are_the_nearest_centroid(values in prop::collection::vec(-50.0f64..50.0, 20..120), k in 1usize..6, seed in 0u64..1000) {
        let n = values.len() / 2;
        let x = Array2::from_shape_vec((n, 2), values[..n * 2].to_vec()).unwrap();
        match fit(x.view(), &KMeansParams::new(k).seed(seed).n_init(2), &CancelToken::new()) {
            Ok(fitted) => {
                let model = CentroidModel { centroids: fitted.centroids.rows().into_iter().map(|r| r.to_vec()).collect() };
                let predicted = model.predict(x.view()).unwrap();
                // Ties between equidistant centroids may go either way; compare distances instead.
                for (i, (&a, &b)) in fitted.labels.iter().zip(&predicted).enumerate() {
                    let dist = |c: usize| -> f64 { x.row(i).iter().zip(fitted.centroids.row(c)).map(|(p, q)| (p - q) * (p - q)).sum() };
                    prop_assert!((dist(a) - dist(b)).abs() <= 1e-9 * dist(b).max(1.0));
                }
                prop_assert_eq!(fitted.sizes.iter().sum::<usize>(), n);
                prop_assert!(fitted.sizes.windows(2).all(|w| w[0] >= w[1]), "canonical order is by size");
            }
            Err(e) => prop_assert!(matches!(e, strata::engine::error::ClusterError::KTooLarge { .. }), "{e}"),
        }
    }
}
