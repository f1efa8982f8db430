//! Bootstrap stability of a segmentation (Hennig's clusterboot): resample the customers with
//! replacement, fit the same method again on the resample, and for each original segment find the
//! re-fitted segment that overlaps it best (Jaccard of the two sets of distinct customers in the
//! resample). A segment that comes back as itself each time is stable; one whose best match falls
//! below 0.5 has dissolved in that re-fit. The adjusted Rand index of each re-fit against the
//! original, on the resampled customers, says how stable the segmentation is as a whole.
//!
//! Hennig's reading of the mean Jaccard: below 0.5 the segment has dissolved, 0.6 to 0.75 it shows
//! a pattern but its members are doubtful, above 0.75 it is a stable segment, above 0.85 highly
//! stable. Strata flags a segment below 0.75 as not stable.

use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{Algorithm, bounds};
use crate::engine::error::ClusterError;
use crate::engine::jobs::CancelToken;
use crate::engine::metrics::agreement::Crosstab;
use crate::engine::rng::SeededRng;

/// A mean Jaccard below this marks a segment as not stable (Hennig's threshold for a valid one).
pub const UNSTABLE_BELOW: f64 = 0.75;
/// A best match below this in one re-fit counts as the segment dissolving there.
pub const DISSOLVED_BELOW: f64 = 0.5;

/// Bootstrap settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StabilityParams {
    /// Re-fits on resamples.
    pub bootstrap: usize,
    /// Seed of the resamples (each re-fit's own seed is derived from it).
    pub seed: u64,
}

impl Default for StabilityParams {
    fn default() -> Self {
        Self { bootstrap: 50, seed: 42 }
    }
}

impl StabilityParams {
    /// Checks the settings: 2 to [`bounds::MAX_BOOTSTRAP`] re-fits (any seed).
    pub fn check(&self) -> Result<(), ClusterError> {
        if self.bootstrap < 2 {
            return Err(ClusterError::InvalidParameter {
                name: "bootstrap",
                problem: format!("is {}; it needs at least 2 re-fits to say anything", self.bootstrap),
            });
        }
        bounds::count_in("bootstrap", self.bootstrap, 2, bounds::MAX_BOOTSTRAP, "re-fits")
    }
}

/// One segment's stability.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SegmentStability {
    /// The segment's number in the original segmentation.
    pub segment: usize,
    /// Its customers.
    pub size: usize,
    /// Mean over the re-fits of its best Jaccard overlap.
    pub mean_jaccard: f64,
    /// Share of re-fits in which its best overlap was below 0.5.
    pub dissolved_share: f64,
    /// Whether the mean Jaccard is below 0.75.
    pub unstable: bool,
}

/// The stability of one segmentation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stability {
    /// Segments of the original segmentation.
    pub k: usize,
    /// Re-fits made.
    pub bootstrap: usize,
    /// Per segment.
    pub segments: Vec<SegmentStability>,
    /// Mean adjusted Rand index of the re-fits against the original, on the resampled customers.
    pub ari_mean: f64,
    /// Its standard deviation over the re-fits.
    pub ari_sd: f64,
}

/// The stability of one k, for the k-choice view.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KStability {
    /// Number of segments.
    pub k: usize,
    /// Mean adjusted Rand index of the re-fits against the fit.
    pub ari_mean: f64,
    /// Mean over the segments of their mean Jaccard.
    pub mean_jaccard: f64,
    /// The least stable segment's mean Jaccard.
    pub min_jaccard: f64,
    /// Segments below 0.75.
    pub unstable_segments: usize,
}

impl KStability {
    /// The summary of one k's stability.
    pub fn of(k: usize, s: &Stability) -> Self {
        let j: Vec<f64> = s.segments.iter().map(|g| g.mean_jaccard).collect();
        Self {
            k,
            ari_mean: s.ari_mean,
            mean_jaccard: j.iter().sum::<f64>() / j.len().max(1) as f64,
            min_jaccard: j.iter().copied().fold(f64::INFINITY, f64::min),
            unstable_segments: s.segments.iter().filter(|g| g.unstable).count(),
        }
    }
}

/// The stability of `labels` (segments `0..k` of the rows of `x`, as `algorithm` found them),
/// by re-fitting `algorithm` on `params.bootstrap` resamples.
pub fn bootstrap_stability(
    x: ArrayView2<f64>,
    labels: &[usize],
    algorithm: &Algorithm,
    params: &StabilityParams,
    cancel: &CancelToken,
) -> Result<Stability, ClusterError> {
    bootstrap_stability_reporting(x, labels, algorithm, params, cancel, &|_| {})
}

/// [`bootstrap_stability`], calling `refit_done(n)` as each re-fit finishes (`n` of
/// `params.bootstrap` done so far), so a job shows real progress through long re-fits.
pub fn bootstrap_stability_reporting(
    x: ArrayView2<f64>,
    labels: &[usize],
    algorithm: &Algorithm,
    params: &StabilityParams,
    cancel: &CancelToken,
    refit_done: &(dyn Fn(usize) + Sync),
) -> Result<Stability, ClusterError> {
    let done = std::sync::atomic::AtomicUsize::new(0);
    let n = x.nrows();
    if n == 0 {
        return Err(ClusterError::EmptyInput);
    }
    if labels.len() != n {
        return Err(ClusterError::BadLabels(format!("{} labels for {n} customers", labels.len())));
    }
    params.check()?;
    algorithm.check()?;
    // Every re-fit copies a resample of the customers: bounded before anything is allocated.
    bounds::product_within(
        "bootstrap × customers",
        &[params.bootstrap, n],
        bounds::MAX_BOOTSTRAP_ROWS,
        "resampled customers",
    )?;
    if !algorithm.uses_feature_matrix() || algorithm.rfm_columns().is_some() {
        return Err(ClusterError::InvalidParameter {
            name: "algorithm",
            problem: format!(
                "{} scores customers by rules, not by fitting; its stability is not a resampling question",
                algorithm.label()
            ),
        });
    }
    let k = labels.iter().max().map_or(0, |m| m.saturating_add(1));
    if k > n {
        // Segments 0..k, each non-empty, cannot number more than the customers.
        return Err(ClusterError::BadLabels(format!("segment {} for {n} customers", k - 1)));
    }
    let mut sizes = vec![0usize; k];
    for &l in labels {
        sizes[l] += 1;
    }
    // Each re-fit on its own resample, in parallel; every draw comes from its own seeded stream.
    let refits: Vec<Result<(Vec<f64>, f64), ClusterError>> = (0..params.bootstrap)
        .into_par_iter()
        .map(|b| {
            if cancel.is_cancelled() {
                return Err(ClusterError::Cancelled);
            }
            let mut rng = SeededRng::derived(params.seed, b as u64);
            let rows: Vec<usize> = (0..n).map(|_| rng.below(n)).collect();
            let sample: Array2<f64> = x.select(Axis(0), &rows);
            let mut refit = algorithm.clone();
            refit.set_seed(params.seed.wrapping_add(1 + b as u64));
            let fitted = refit.fit_matrix(sample.view(), cancel)?;
            refit_done(done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1);
            // Each distinct customer once (a customer drawn twice is one member of its segment):
            // its original segment and its segment in the re-fit.
            let mut seen = vec![false; n];
            let mut original = Vec::new();
            let mut again = Vec::new();
            for (i, &r) in rows.iter().enumerate() {
                if !seen[r] {
                    seen[r] = true;
                    original.push(labels[r]);
                    again.push(fitted.labels[i]);
                }
            }
            let k_again = again.iter().max().map_or(0, |m| m + 1);
            let mut both = vec![vec![0usize; k_again]; k];
            let mut size_original = vec![0usize; k];
            let mut size_again = vec![0usize; k_again];
            for (&a, &b) in original.iter().zip(&again) {
                both[a][b] += 1;
                size_original[a] += 1;
                size_again[b] += 1;
            }
            let best: Vec<f64> = (0..k)
                .map(|s| {
                    if size_original[s] == 0 {
                        // Not drawn at all: it cannot be found, so it dissolved here.
                        return 0.0;
                    }
                    (0..k_again)
                        .map(|t| {
                            let inter = both[s][t] as f64;
                            inter / ((size_original[s] + size_again[t]) as f64 - inter)
                        })
                        .fold(0.0, f64::max)
                })
                .collect();
            let text = |v: &[usize]| v.iter().map(|l| l.to_string()).collect::<Vec<_>>();
            let ari = Crosstab::of(&text(&original), &text(&again))?.adjusted_rand_index();
            Ok((best, ari))
        })
        .collect();
    let mut jaccards = vec![Vec::with_capacity(params.bootstrap); k];
    let mut aris = Vec::with_capacity(params.bootstrap);
    for refit in refits {
        let (best, ari) = refit?;
        for (s, j) in best.into_iter().enumerate() {
            jaccards[s].push(j);
        }
        aris.push(ari);
    }
    let b = params.bootstrap as f64;
    let segments = (0..k)
        .map(|s| {
            let mean_jaccard = jaccards[s].iter().sum::<f64>() / b;
            SegmentStability {
                segment: s,
                size: sizes[s],
                mean_jaccard,
                dissolved_share: jaccards[s].iter().filter(|&&j| j < DISSOLVED_BELOW).count() as f64 / b,
                unstable: mean_jaccard < UNSTABLE_BELOW,
            }
        })
        .collect();
    let ari_mean = aris.iter().sum::<f64>() / b;
    let ari_sd = (aris.iter().map(|a| (a - ari_mean) * (a - ari_mean)).sum::<f64>() / (b - 1.0)).sqrt();
    Ok(Stability { k, bootstrap: params.bootstrap, segments, ari_mean, ari_sd })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::cluster::kmeans::KMeansParams;

    /// Three tight, far-apart groups and a ring that k = 6 must cut in three: any rotation of the
    /// cuts fits a ring as well as another, so its three arcs change from resample to resample.
    fn stable_and_unstable() -> Array2<f64> {
        let mut rng = SeededRng::new(11);
        let mut values = Vec::new();
        for (cx, cy) in [(0.0, 0.0), (30.0, 0.0), (0.0, 30.0)] {
            for _ in 0..150 {
                values.push(cx + 0.3 * (rng.next_f64() - 0.5));
                values.push(cy + 0.3 * (rng.next_f64() - 0.5));
            }
        }
        for _ in 0..450 {
            let angle = std::f64::consts::TAU * rng.next_f64();
            let radius = 6.0 + 0.2 * (rng.next_f64() - 0.5);
            values.push(30.0 + radius * angle.cos());
            values.push(30.0 + radius * angle.sin());
        }
        Array2::from_shape_vec((900, 2), values).unwrap()
    }

    #[test]
    fn planted_groups_are_stable_and_the_arcs_of_a_ring_are_flagged() {
        let x = stable_and_unstable();
        let algorithm = Algorithm::KMeans(KMeansParams::new(6));
        let fit = algorithm.fit_matrix(x.view(), &CancelToken::new()).unwrap();
        let params = StabilityParams { bootstrap: 30, seed: 3 };
        let stability = bootstrap_stability(x.view(), &fit.labels, &algorithm, &params, &CancelToken::new()).unwrap();
        assert_eq!(stability.k, 6);
        // The segments that hold a whole tight group (rows 0, 150 and 300 start them) are stable.
        let tight_segments = [fit.labels[0], fit.labels[150], fit.labels[300]];
        let tight: Vec<&SegmentStability> =
            stability.segments.iter().filter(|s| tight_segments.contains(&s.segment)).collect();
        assert_eq!(tight.len(), 3, "{:?}", stability.segments);
        for s in &tight {
            assert_eq!(s.size, 150);
            assert!(s.mean_jaccard > 0.95 && s.dissolved_share == 0.0 && !s.unstable, "{s:?}");
        }
        let arcs: Vec<&SegmentStability> =
            stability.segments.iter().filter(|s| !tight_segments.contains(&s.segment)).collect();
        assert_eq!(arcs.len(), 3);
        for s in &arcs {
            assert!(s.unstable && s.dissolved_share > 0.1, "{s:?}");
        }
        assert!(stability.ari_mean < 0.99 && stability.ari_mean > 0.5, "{}", stability.ari_mean);
        // Same seed, same answer, on any thread count.
        let one =
            rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap().install(|| {
                bootstrap_stability(x.view(), &fit.labels, &algorithm, &params, &CancelToken::new()).unwrap()
            });
        assert_eq!(one, stability);
    }

    #[test]
    fn bad_requests_are_refused() {
        let x = stable_and_unstable();
        let algorithm = Algorithm::KMeans(KMeansParams::new(3));
        let labels = vec![0; 900];
        let few = StabilityParams { bootstrap: 1, seed: 0 };
        assert!(bootstrap_stability(x.view(), &labels, &algorithm, &few, &CancelToken::new()).is_err());
        assert!(
            bootstrap_stability(x.view(), &labels[..5], &algorithm, &StabilityParams::default(), &CancelToken::new())
                .is_err()
        );
        let rules = Algorithm::by_name("rfm").unwrap();
        assert!(
            bootstrap_stability(x.view(), &labels, &rules, &StabilityParams::default(), &CancelToken::new()).is_err()
        );
        let cancelled = CancelToken::new();
        cancelled.cancel();
        assert!(matches!(
            bootstrap_stability(x.view(), &labels, &algorithm, &StabilityParams::default(), &cancelled),
            Err(ClusterError::Cancelled)
        ));
    }
}
