//! Mini-batch k-means (Sculley 2010, as scikit-learn's `MiniBatchKMeans`): k-means++ on a seeded
//! sample, then centres moved by random batches with a per-centre learning rate of 1 / (customers
//! seen), stopped when the smoothed batch inertia has not improved for a while; every customer is
//! then assigned to its nearest centre. For data too large for full Lloyd iterations in a session.

use rayon::prelude::*;

use super::KMeansFit;
use super::algorithm::{canonical_fit, kmeans_plus_plus};
use crate::engine::cluster::describe::{Kind, MethodInfo, Setting, params_with_k};
use crate::engine::cluster::{bounds, check_k, validate_matrix};
use crate::engine::error::ClusterError;
use crate::engine::jobs::CancelToken;
use crate::engine::kernels::Packed;
use crate::engine::rng::SeededRng;

/// Settings of mini-batch k-means, checked by [`MiniBatchParams::check`] before fitting.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MiniBatchParams {
    /// Number of segments.
    pub k: usize,
    /// Customers per batch.
    pub batch_size: usize,
    /// Passes over the data at most (in batches: epochs x rows / batch size).
    pub max_epochs: usize,
    /// Stop after this many batches without a better smoothed inertia.
    pub max_no_improvement: usize,
    /// k-means++ initialisations on the initial sample; the tightest is kept.
    pub n_init: usize,
    /// Seed of every random choice.
    pub seed: u64,
}

impl Default for MiniBatchParams {
    fn default() -> Self {
        Self { k: 4, batch_size: 1024, max_epochs: 100, max_no_improvement: 10, n_init: 3, seed: 42 }
    }
}

impl MiniBatchParams {
    /// Defaults with the given k.
    pub fn new(k: usize) -> Self {
        Self { k, ..Self::default() }
    }

    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets the batch size.
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }

    /// Checks every setting against its bound in [`bounds`]; fitting calls this first.
    pub fn check(&self) -> Result<(), ClusterError> {
        bounds::count_in("k", self.k, 1, bounds::MAX_K, "segments")?;
        bounds::count_in("batch_size", self.batch_size, 1, bounds::MAX_BATCH_SIZE, "customers per batch")?;
        bounds::count_in("max_epochs", self.max_epochs, 1, bounds::MAX_EPOCHS, "epochs")?;
        bounds::count_in(
            "max_no_improvement",
            self.max_no_improvement,
            1,
            bounds::MAX_NO_IMPROVEMENT,
            "batches without improvement",
        )?;
        bounds::count_in("n_init", self.n_init, 1, bounds::MAX_N_INIT, "initialisations")?;
        Ok(())
    }
}

/// The nearest centre of `row` and its squared distance (ties to the lower segment).
fn nearest(row: &[f64], centers: &[f64], d: usize) -> (usize, f64) {
    let mut best = (0, f64::INFINITY);
    for (c, center) in centers.chunks_exact(d).enumerate() {
        let dist: f64 = row.iter().zip(center).map(|(a, b)| (a - b) * (a - b)).sum();
        if dist < best.1 {
            best = (c, dist);
        }
    }
    best
}

/// Rows per parallel chunk of the final assignment; the inertia is summed in chunk order, so the
/// result does not depend on the thread count.
const CHUNK_ROWS: usize = 4096;

/// Fits mini-batch k-means; the same seed and data give the same segments on any number of threads.
pub fn fit_minibatch(
    x: ndarray::ArrayView2<f64>,
    params: &MiniBatchParams,
    cancel: &CancelToken,
) -> Result<KMeansFit, ClusterError> {
    params.check()?;
    validate_matrix(x)?;
    check_k(x, params.k)?;
    let (n, d) = x.dim();
    let k = params.k;
    // Row-major rows, borrowed when the matrix already is (a copy only for other layouts).
    let standard = x.as_standard_layout();
    let flat: &[f64] = standard.as_slice().unwrap_or_default();
    let row = |r: usize| &flat[r * d..(r + 1) * d];

    // Initialisation on a sample of 3 batches (at least 3k rows), as scikit-learn does.
    let init_size = (3 * params.batch_size).max(3 * k).min(n);
    let mut centers: Option<(f64, Vec<f64>)> = None;
    for init in 0..params.n_init {
        let mut rng = SeededRng::derived(params.seed, init as u64);
        let mut sample = rng.sample_indices(n, init_size);
        sample.sort_unstable();
        let sub: Vec<f64> = sample.iter().flat_map(|&r| row(r).iter().copied()).collect();
        let candidate = kmeans_plus_plus(&sub, &Packed::new(&sub, d), k, &mut rng);
        let inertia: f64 = sub.chunks_exact(d).map(|r| nearest(r, &candidate, d).1).sum();
        if centers.as_ref().is_none_or(|(best, _)| inertia < *best) {
            centers = Some((inertia, candidate));
        }
    }
    let mut centers = centers.map(|(_, c)| c).unwrap_or_default();

    let batch = params.batch_size.min(n);
    let n_steps = params.max_epochs.saturating_mul(n.div_ceil(batch));
    let alpha = (2.0 * batch as f64 / (n as f64 + 1.0)).min(1.0);
    let mut rng = SeededRng::derived(params.seed, u64::MAX);
    let mut counts = vec![0.0f64; k];
    let mut sums = vec![0.0f64; k * d];
    let mut in_batch = vec![0usize; k];
    let (mut smoothed, mut best_smoothed) = (None::<f64>, f64::INFINITY);
    let (mut without_improvement, mut steps, mut converged) = (0, 0, false);
    for step in 0..n_steps {
        if step % 64 == 0 && cancel.is_cancelled() {
            return Err(ClusterError::Cancelled);
        }
        sums.iter_mut().for_each(|s| *s = 0.0);
        in_batch.iter_mut().for_each(|m| *m = 0);
        let mut batch_inertia = 0.0;
        for _ in 0..batch {
            let r = row(rng.below(n));
            let (c, dist) = nearest(r, &centers, d);
            batch_inertia += dist;
            in_batch[c] += 1;
            sums[c * d..(c + 1) * d].iter_mut().zip(r).for_each(|(s, v)| *s += v);
        }
        // Each centre moves to the mean of everything it has seen: learning rate 1 / count.
        for c in 0..k {
            if in_batch[c] == 0 {
                continue;
            }
            let total = counts[c] + in_batch[c] as f64;
            for j in 0..d {
                centers[c * d + j] = (centers[c * d + j] * counts[c] + sums[c * d + j]) / total;
            }
            counts[c] = total;
        }
        steps = step + 1;
        let mean_inertia = batch_inertia / batch as f64;
        let ewa = smoothed.map_or(mean_inertia, |s| s * (1.0 - alpha) + mean_inertia * alpha);
        smoothed = Some(ewa);
        if ewa < best_smoothed {
            best_smoothed = ewa;
            without_improvement = 0;
        } else {
            without_improvement += 1;
            if without_improvement >= params.max_no_improvement {
                converged = true;
                break;
            }
        }
    }

    let assigned: Vec<(Vec<usize>, f64)> = flat
        .par_chunks(CHUNK_ROWS * d)
        .map(|chunk| {
            let mut labels = Vec::with_capacity(chunk.len() / d);
            let mut inertia = 0.0;
            for r in chunk.chunks_exact(d) {
                let (c, dist) = nearest(r, &centers, d);
                labels.push(c);
                inertia += dist;
            }
            (labels, inertia)
        })
        .collect();
    let inertia = assigned.iter().map(|(_, i)| i).sum();
    let labels = assigned.into_iter().flat_map(|(l, _)| l).collect();
    canonical_fit(labels, centers, d, inertia, steps, converged)
}

/// Mini-batch k-means, described once for the CLI, the Model screen and the project file.
pub const METHOD: MethodInfo = MethodInfo {
    name: "minibatch-kmeans",
    label: "Mini-batch k-means",
    hint: "k-means on random batches: for millions of customers, slightly looser.",
    has_k: true,
    settings: &[
        Setting::new(
            "batch-size",
            "Batch size",
            "Customers per update; larger is steadier and slower",
            Kind::Count { field: "batch_size", min: 64, max: 65536, suffix: "", max_field: None },
        ),
        Setting::new(
            "n-init",
            "Initialisations",
            "Initialisations, the best kept",
            Kind::Count { field: "n_init", min: 1, max: 100, suffix: "", max_field: None },
        ),
    ],
};

params_with_k!(MiniBatchParams, n_init);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::metrics::agreement::Crosstab;
    use ndarray::Array2;

    /// Five planted groups of 2,000 customers each, 3 features, unit noise around far-apart means.
    fn planted() -> (Array2<f64>, Vec<usize>) {
        let mut rng = SeededRng::new(11);
        let means = [[0.0, 0.0, 0.0], [12.0, 0.0, 0.0], [0.0, 12.0, 0.0], [0.0, 0.0, 12.0], [12.0, 12.0, 12.0]];
        let mut rows = Vec::new();
        let mut truth = Vec::new();
        for i in 0..10_000 {
            let g = i % 5;
            for m in means[g] {
                rows.push(m + (rng.next_f64() + rng.next_f64() + rng.next_f64() - 1.5) * 2.0);
            }
            truth.push(g);
        }
        (Array2::from_shape_vec((10_000, 3), rows).unwrap(), truth)
    }

    fn ari(a: &[usize], b: &[usize]) -> f64 {
        let text = |v: &[usize]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        Crosstab::of(&text(a), &text(b)).unwrap().adjusted_rand_index()
    }

    #[test]
    fn recovers_planted_groups() {
        let (x, truth) = planted();
        let fit = fit_minibatch(x.view(), &MiniBatchParams::new(5).batch_size(256), &CancelToken::new()).unwrap();
        assert!(ari(&fit.labels, &truth) > 0.99, "ARI {}", ari(&fit.labels, &truth));
        assert_eq!(fit.sizes.iter().sum::<usize>(), 10_000);
        assert!(fit.converged, "stopped by the no-improvement rule, not the cap");
        // Close to what full k-means reaches on the same data.
        let full = super::super::fit(x.view(), &super::super::KMeansParams::new(5), &CancelToken::new()).unwrap();
        assert!(fit.inertia <= full.inertia * 1.01, "{} vs {}", fit.inertia, full.inertia);
    }

    #[test]
    fn same_seed_same_segments_on_any_thread_count() {
        let (x, _) = planted();
        let params = MiniBatchParams::new(4).seed(3).batch_size(512);
        let run = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| fit_minibatch(x.view(), &params, &CancelToken::new()).unwrap())
        };
        let one = run(1);
        assert_eq!(one, run(2));
        assert_eq!(one, run(3));
        assert_ne!(one.labels, fit_minibatch(x.view(), &params.clone().seed(4), &CancelToken::new()).unwrap().labels);
    }

    #[test]
    fn bad_input_gets_errors_not_panics() {
        let cancel = CancelToken::new();
        let empty = Array2::<f64>::zeros((0, 2));
        assert!(fit_minibatch(empty.view(), &MiniBatchParams::new(2), &cancel).is_err());
        let x = Array2::from_shape_vec((3, 1), vec![1.0, f64::INFINITY, 2.0]).unwrap();
        assert!(fit_minibatch(x.view(), &MiniBatchParams::new(2), &cancel).is_err());
        let x = Array2::from_shape_vec((3, 1), vec![1.0, 2.0, 3.0]).unwrap();
        assert!(fit_minibatch(x.view(), &MiniBatchParams::new(5), &cancel).is_err(), "k above the rows");
        let zero_batch = MiniBatchParams { batch_size: 0, ..MiniBatchParams::new(2) };
        assert!(matches!(
            fit_minibatch(x.view(), &zero_batch, &cancel),
            Err(ClusterError::InvalidParameter { name: "batch_size", .. })
        ));
        let stop = CancelToken::new();
        stop.cancel();
        let (big, _) = planted();
        assert!(matches!(fit_minibatch(big.view(), &MiniBatchParams::new(3), &stop), Err(ClusterError::Cancelled)));
        // Fewer rows than a batch: the batch is the whole table.
        let small = Array2::from_shape_vec((6, 1), vec![0.0, 0.1, 0.2, 9.0, 9.1, 9.2]).unwrap();
        let fit = fit_minibatch(small.view(), &MiniBatchParams::new(2), &cancel).unwrap();
        assert_eq!(fit.sizes, vec![3, 3]);
    }
}
