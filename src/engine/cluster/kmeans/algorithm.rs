//! k-means fits: k-means++ starts, the kernel the parameters name (kernel 1 in `lloyd.rs`, kernel 2
//! in `hamerly.rs`), the best of several initialisations, canonical segment numbers.

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use super::lloyd::{CHUNK_ROWS, SingleRun, lloyd};
use super::{KMeansKernel, KMeansParams, hamerly};
use crate::engine::cluster::{canonical_order, check_k, segment_sizes, validate_matrix};
use crate::engine::error::ClusterError;
use crate::engine::jobs::CancelToken;
use crate::engine::kernels::{self, Isa, Packed};
use crate::engine::rng::SeededRng;

/// A fitted k-means segmentation in canonical segment order.
#[derive(Clone, Debug, PartialEq)]
pub struct KMeansFit {
    /// Segment of each row.
    pub labels: Vec<usize>,
    /// k x d centroids.
    pub centroids: Array2<f64>,
    /// Sum of squared distances of rows to their centroid.
    pub inertia: f64,
    /// Rows per segment (descending, by construction).
    pub sizes: Vec<usize>,
    /// Iterations of the kept initialisation.
    pub n_iter: usize,
    /// Whether the kept initialisation converged before the iteration cap.
    pub converged: bool,
}

/// Sums `f(row)` over rows in a fixed chunk order (parallel inside chunks, ordered between them).
fn ordered_sum(values: &[f64]) -> f64 {
    let partials: Vec<f64> = values.par_chunks(CHUNK_ROWS).map(|c| c.iter().sum::<f64>()).collect();
    partials.iter().sum()
}

/// `min(old, squared distance to center)` for every row.
fn floored_distances(x: &Packed, center: &[f64], old: &[f64]) -> Vec<f64> {
    let (d, isa) = (x.d, Isa::detect());
    let mut out = vec![0.0; x.rows];
    out.par_chunks_mut(CHUNK_ROWS)
        .zip(old.par_chunks(CHUNK_ROWS))
        .zip(x.data.par_chunks(CHUNK_ROWS * d))
        .for_each(|((out, old), block)| kernels::min_distance_chunk(isa, block, d, center, old, out));
    out
}

/// Greedy k-means++ (as scikit-learn): each new centre is the best of 2 + ln(k) D²-sampled candidates.
pub(super) fn kmeans_plus_plus(x: &[f64], packed: &Packed, k: usize, rng: &mut SeededRng) -> Vec<f64> {
    let (n, d) = (packed.rows, packed.d);
    let mut centers = Vec::with_capacity(k * d);
    let first = rng.below(n);
    centers.extend_from_slice(&x[first * d..(first + 1) * d]);
    let mut closest = floored_distances(packed, &x[first * d..(first + 1) * d], &vec![f64::INFINITY; n]);
    let mut potential = ordered_sum(&closest);
    let n_trials = 2 + (k as f64).ln().floor() as usize;
    for _ in 1..k {
        let mut cumulative = Vec::with_capacity(n);
        let mut running = 0.0;
        for v in &closest {
            running += v;
            cumulative.push(running);
        }
        let mut best: Option<(f64, usize, Vec<f64>)> = None;
        for _ in 0..n_trials {
            let target = rng.next_f64() * potential;
            // First row whose cumulative weight exceeds the target: rows at distance 0 are never picked.
            let candidate = cumulative.partition_point(|&c| c <= target).min(n - 1);
            let updated = floored_distances(packed, &x[candidate * d..(candidate + 1) * d], &closest);
            let candidate_potential = ordered_sum(&updated);
            if best.as_ref().is_none_or(|b| candidate_potential < b.0) {
                best = Some((candidate_potential, candidate, updated));
            }
        }
        if let Some((p, candidate, updated)) = best {
            centers.extend_from_slice(&x[candidate * d..(candidate + 1) * d]);
            closest = updated;
            potential = p;
        }
    }
    centers
}

/// Fits k-means on a validated matrix; identical seed and data give identical results on any number
/// of threads.
pub fn fit(x: ArrayView2<f64>, params: &KMeansParams, cancel: &CancelToken) -> Result<KMeansFit, ClusterError> {
    params.check()?;
    fit_checked(x, params, cancel)
}

/// k-means as a building block of another method (hierarchical clustering's micro-clusters): k
/// may exceed the segments a user asks for, up to [`super::super::bounds::MAX_EXACT_ROWS`]; every
/// other setting has its usual bound.
pub fn fit_micro_clusters(
    x: ArrayView2<f64>,
    params: &KMeansParams,
    cancel: &CancelToken,
) -> Result<KMeansFit, ClusterError> {
    use super::super::bounds;
    bounds::count_in("micro_clusters", params.k, 1, bounds::MAX_EXACT_ROWS, "micro-clusters")?;
    KMeansParams { k: 1, ..params.clone() }.check()?;
    fit_checked(x, params, cancel)
}

fn fit_checked(x: ArrayView2<f64>, params: &KMeansParams, cancel: &CancelToken) -> Result<KMeansFit, ClusterError> {
    validate_matrix(x)?;
    check_k(x, params.k)?;
    let d = x.ncols();
    // Row-major rows, borrowed when the matrix already is (a copy only for other layouts).
    let standard = x.as_standard_layout();
    let flat: &[f64] = standard.as_slice().unwrap_or_default();
    let packed = Packed::new(flat, d);
    let mut iterate = kernel_runner(x, flat, params, Some(&packed));
    let mut best: Option<SingleRun> = None;
    for init in 0..params.n_init {
        let mut rng = SeededRng::derived(params.seed, init as u64);
        let start = kmeans_plus_plus(flat, &packed, params.k, &mut rng);
        let run = iterate(start, cancel)?;
        if best.as_ref().is_none_or(|b| run.inertia < b.inertia) {
            best = Some(run);
        }
    }
    let best = best.ok_or(ClusterError::InvalidParameter { name: "n_init", problem: "must be at least 1".into() })?;
    canonical_fit(best.labels, best.centers, d, best.inertia, best.n_iter, best.converged)
}

/// One initialisation of a kernel from given starting centres.
type Runner<'a> = dyn FnMut(Vec<f64>, &CancelToken) -> Result<SingleRun, ClusterError> + 'a;

/// The kernel's iterations from given starting centres, with what it prepares once per fit (the
/// tolerance, and the packed rows; kernel 1's are `packed` when given).
fn kernel_runner<'a>(
    x: ArrayView2<f64>,
    flat: &'a [f64],
    params: &'a KMeansParams,
    packed: Option<&'a Packed>,
) -> Box<Runner<'a>> {
    let (n, d) = x.dim();
    match params.kernel {
        KMeansKernel::Lloyd => {
            // Kernel 1's tolerance, column by column as every project before kernel 2 computed it.
            let mean_variance = (0..d)
                .map(|j| {
                    let column = x.column(j);
                    let mean = column.sum() / n as f64;
                    column.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n as f64
                })
                .sum::<f64>()
                / d as f64;
            let tol = params.tolerance * mean_variance;
            let packed = match packed {
                Some(p) => std::borrow::Cow::Borrowed(p),
                None => std::borrow::Cow::Owned(Packed::new(flat, d)),
            };
            Box::new(move |start, cancel| lloyd(flat, &packed, params, tol, start, cancel))
        }
        KMeansKernel::Hamerly => {
            let (single, mean_variance) = hamerly::SinglePacked::new(flat, d);
            let tol = params.tolerance * mean_variance;
            Box::new(move |start, cancel| hamerly::run(flat, &single, params.k, params.max_iter, tol, start, cancel))
        }
    }
}

/// One run of the kernel from the given starting centres (k x d), without k-means++ (`n_init` and
/// `seed` are not used): a benchmark's common start with another implementation.
pub fn fit_from_centres(
    x: ArrayView2<f64>,
    params: &KMeansParams,
    centres: ArrayView2<f64>,
    cancel: &CancelToken,
) -> Result<KMeansFit, ClusterError> {
    params.check()?;
    validate_matrix(x)?;
    check_k(x, params.k)?;
    let d = x.ncols();
    if centres.dim() != (params.k, d) {
        return Err(ClusterError::InvalidParameter {
            name: "centres",
            problem: format!(
                "{} x {} starting centres for k = {} and {d} columns",
                centres.nrows(),
                centres.ncols(),
                params.k
            ),
        });
    }
    validate_matrix(centres)?;
    let standard = x.as_standard_layout();
    let flat: &[f64] = standard.as_slice().unwrap_or_default();
    let run = kernel_runner(x, flat, params, None)(centres.iter().copied().collect(), cancel)?;
    canonical_fit(run.labels, run.centers, d, run.inertia, run.n_iter, run.converged)
}

/// A fit with its segments renumbered canonically (by size, ties by centroid), from raw labels and
/// row-major centres.
pub(super) fn canonical_fit(
    raw_labels: Vec<usize>,
    raw_centers: Vec<f64>,
    d: usize,
    inertia: f64,
    n_iter: usize,
    converged: bool,
) -> Result<KMeansFit, ClusterError> {
    let k = raw_centers.len() / d.max(1);
    let raw_sizes = segment_sizes(&raw_labels, k);
    let raw_centroids = Array2::from_shape_vec((k, d), raw_centers)
        .map_err(|e| ClusterError::InvalidParameter { name: "k", problem: e.to_string() })?;
    let old_to_new = canonical_order(&raw_sizes, raw_centroids.view());
    let labels: Vec<usize> = raw_labels.iter().map(|&l| old_to_new[l]).collect();
    let mut centroids = Array2::zeros((k, d));
    for (old, &new) in old_to_new.iter().enumerate() {
        centroids.row_mut(new).assign(&raw_centroids.row(old));
    }
    let sizes = segment_sizes(&labels, k);
    Ok(KMeansFit { labels, centroids, inertia, sizes, n_iter, converged })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    /// Three well-separated blobs of different sizes.
    pub(crate) fn blobs(seed: u64) -> (Array2<f64>, Vec<usize>) {
        let mut rng = SeededRng::new(seed);
        let centers = [(0.0, 0.0), (10.0, 10.0), (-10.0, 10.0)];
        let sizes = [300, 200, 100];
        let mut rows = Vec::new();
        let mut truth = Vec::new();
        for (c, (&(cx, cy), &size)) in centers.iter().zip(&sizes).enumerate() {
            for _ in 0..size {
                rows.push(cx + rng.next_f64() * 2.0 - 1.0);
                rows.push(cy + rng.next_f64() * 2.0 - 1.0);
                truth.push(c);
            }
        }
        (Array2::from_shape_vec((truth.len(), 2), rows).unwrap(), truth)
    }

    #[test]
    fn recovers_planted_blobs_in_canonical_order() {
        let (x, truth) = blobs(1);
        let fit = fit(x.view(), &KMeansParams::new(3).seed(7), &CancelToken::new()).unwrap();
        // Canonical numbering is by size, which here is the planted order.
        assert_eq!(fit.labels, truth);
        assert_eq!(fit.sizes, vec![300, 200, 100]);
        assert!((fit.centroids[[1, 0]] - 10.0).abs() < 0.2);
        assert!(fit.converged);
    }

    #[test]
    fn same_seed_same_result_on_one_and_two_threads() {
        let (x, _) = blobs(2);
        let params = KMeansParams::new(5).seed(11).n_init(3);
        let run = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| fit(x.view(), &params, &CancelToken::new()).unwrap())
        };
        let (one, two) = (run(1), run(2));
        assert_eq!(one.labels, two.labels);
        assert_eq!(one.inertia.to_bits(), two.inertia.to_bits());
        assert_eq!(one.centroids, two.centroids);
    }

    #[test]
    fn bad_inputs_are_errors_not_panics() {
        let cancel = CancelToken::new();
        let empty = Array2::<f64>::zeros((0, 2));
        assert_eq!(fit(empty.view(), &KMeansParams::new(2), &cancel), Err(ClusterError::EmptyInput));
        let inf = ndarray::array![[1.0, f64::INFINITY], [0.0, 0.0]];
        assert!(matches!(fit(inf.view(), &KMeansParams::new(1), &cancel), Err(ClusterError::NonFinite { .. })));
        let small = ndarray::array![[1.0], [2.0]];
        assert!(matches!(fit(small.view(), &KMeansParams::new(3), &cancel), Err(ClusterError::KTooLarge { .. })));
        assert!(matches!(
            fit(small.view(), &KMeansParams::new(0), &cancel),
            Err(ClusterError::InvalidParameter { .. })
        ));
        let dupes = ndarray::array![[1.0], [1.0], [1.0]];
        assert!(matches!(
            fit(dupes.view(), &KMeansParams::new(2), &cancel),
            Err(ClusterError::KTooLarge { what: "distinct rows", .. })
        ));
        let cancelled = CancelToken::new();
        cancelled.cancel();
        let (x, _) = blobs(3);
        assert_eq!(fit(x.view(), &KMeansParams::new(2), &cancelled), Err(ClusterError::Cancelled));
    }

    #[test]
    fn k_equal_to_distinct_rows_gives_zero_inertia() {
        let x = ndarray::array![[0.0], [0.0], [5.0], [9.0]];
        let fit = fit(x.view(), &KMeansParams::new(3), &CancelToken::new()).unwrap();
        assert_eq!(fit.inertia, 0.0);
        assert_eq!(fit.sizes, vec![2, 1, 1]);
    }

    #[test]
    fn more_inits_never_worsen_inertia() {
        let (x, _) = blobs(4);
        let one = fit(x.view(), &KMeansParams::new(6).n_init(1).seed(3), &CancelToken::new()).unwrap();
        let many = fit(x.view(), &KMeansParams::new(6).n_init(6).seed(3), &CancelToken::new()).unwrap();
        // The first initialisation of both runs is the same, and more can only keep a better one.
        assert!(many.inertia <= one.inertia);
    }
}
