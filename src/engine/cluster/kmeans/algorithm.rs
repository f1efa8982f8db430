//! Lloyd iterations over fixed-size row chunks whose partial sums are reduced in chunk order, so the
//! result is bit-identical whatever the number of threads.

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use super::{KMeansKernel, KMeansParams, hamerly};
use crate::engine::cluster::{canonical_order, check_k, segment_sizes, validate_matrix};
use crate::engine::error::ClusterError;
use crate::engine::jobs::CancelToken;
use crate::engine::kernels::{self, AssignPartial, Isa, Packed};
use crate::engine::rng::SeededRng;

/// Rows per parallel chunk: fixed, so the reduction order never depends on the thread count.
pub(super) const CHUNK_ROWS: usize = 4096;

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

/// E-step: nearest centre for every row, with per-segment sums for the M-step; chunks in parallel,
/// their partial sums reduced in chunk order.
///
/// With `min_dist`, every row's squared distance to its centre is written and the inertia summed; the
/// Lloyd loop needs neither until the end (or a segment comes out empty), and skipping them saves
/// memory traffic every iteration (the inertia is then 0).
fn assign(x: &Packed, centers: &[f64], k: usize, labels: &mut [u32], min_dist: Option<&mut [f64]>) -> AssignPartial {
    let (d, isa) = (x.d, Isa::detect());
    let empty = || AssignPartial { sums: vec![0.0; k * d], counts: vec![0; k], inertia: 0.0, changed: 0 };
    let chunk = |block: &[f64], labels: &mut [u32], dists: &mut [f64]| {
        let mut part = empty();
        kernels::assign_chunk(isa, block, labels.len(), d, centers, labels, dists, &mut part);
        part
    };
    let partials: Vec<AssignPartial> = match min_dist {
        Some(min_dist) => x
            .data
            .par_chunks(CHUNK_ROWS * d)
            .zip(labels.par_chunks_mut(CHUNK_ROWS))
            .zip(min_dist.par_chunks_mut(CHUNK_ROWS))
            .map(|((block, labels), dists)| chunk(block, labels, dists))
            .collect(),
        None => x
            .data
            .par_chunks(CHUNK_ROWS * d)
            .zip(labels.par_chunks_mut(CHUNK_ROWS))
            .map(|(block, labels)| chunk(block, labels, &mut []))
            .collect(),
    };
    let mut total = empty();
    for p in partials {
        for (t, s) in total.sums.iter_mut().zip(&p.sums) {
            *t += s;
        }
        for (t, c) in total.counts.iter_mut().zip(&p.counts) {
            *t += c;
        }
        total.inertia += p.inertia;
        total.changed += p.changed;
    }
    total
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

/// One initialisation's result, in the kernel's segment numbers.
pub(super) struct SingleRun {
    pub labels: Vec<usize>,
    pub centers: Vec<f64>,
    pub inertia: f64,
    pub n_iter: usize,
    pub converged: bool,
}

/// Kernel 1 from `centers`: Lloyd iterations on the row-major `x` (also packed), every distance
/// every time and the sums added afresh, then the final assignment.
fn lloyd(
    x: &[f64],
    packed: &Packed,
    params: &KMeansParams,
    tol: f64,
    mut centers: Vec<f64>,
    cancel: &CancelToken,
) -> Result<SingleRun, ClusterError> {
    let (n, d, k) = (packed.rows, packed.d, params.k);
    let mut labels = vec![u32::MAX; n];
    let mut min_dist = vec![0.0; n];
    let mut n_iter = 0;
    let mut converged = false;
    while n_iter < params.max_iter {
        if cancel.is_cancelled() {
            return Err(ClusterError::Cancelled);
        }
        n_iter += 1;
        let a = assign(packed, &centers, k, &mut labels, None);
        if a.counts.contains(&0) {
            // The distances an empty segment's relocation needs: same centres, same assignment.
            assign(packed, &centers, k, &mut labels, Some(&mut min_dist));
        }
        let new_centers = update_centers(x, d, &a, &min_dist);
        let shift = squared_shift(&centers, &new_centers);
        centers = new_centers;
        if a.changed == 0 || shift <= tol {
            converged = true;
            break;
        }
    }
    Ok(finish(x, packed, k, centers, n_iter, converged))
}

/// The summed squared move of every centre (the convergence test, scikit-learn's).
pub(super) fn squared_shift(old: &[f64], new: &[f64]) -> f64 {
    old.iter().zip(new).map(|(a, b)| (a - b) * (a - b)).sum()
}

/// A last E-step so labels and inertia belong to the final centres. Should a segment come out
/// empty, its centre moves onto a far row (which then belongs to it) and rows are assigned again;
/// k <= distinct rows guarantees such rows exist.
pub(super) fn finish(
    x: &[f64],
    packed: &Packed,
    k: usize,
    mut centers: Vec<f64>,
    n_iter: usize,
    converged: bool,
) -> SingleRun {
    let (n, d) = (packed.rows, packed.d);
    let mut labels = vec![u32::MAX; n];
    let mut min_dist = vec![0.0; n];
    let mut a = assign(packed, &centers, k, &mut labels, Some(&mut min_dist));
    for _ in 0..k {
        if a.counts.iter().all(|&c| c > 0) {
            break;
        }
        relocate_empty(x, d, &a.counts, &min_dist, &mut centers);
        a = assign(packed, &centers, k, &mut labels, Some(&mut min_dist));
    }
    let labels = labels.into_iter().map(|l| l as usize).collect();
    SingleRun { labels, centers, inertia: a.inertia, n_iter, converged }
}

/// M-step: each centre moves to the mean of its rows; an empty segment's centre to a far row.
fn update_centers(x: &[f64], d: usize, a: &AssignPartial, min_dist: &[f64]) -> Vec<f64> {
    let k = a.counts.len();
    let mut new_centers = vec![0.0; k * d];
    for c in 0..k {
        if a.counts[c] > 0 {
            for j in 0..d {
                new_centers[c * d + j] = a.sums[c * d + j] / a.counts[c] as f64;
            }
        }
    }
    relocate_empty(x, d, &a.counts, min_dist, &mut new_centers);
    new_centers
}

/// A matrix prepared for repeated Lloyd iterations (the benchmark's unit of work).
pub struct LloydState {
    x: Vec<f64>,
    packed: Packed,
    labels: Vec<u32>,
    min_dist: Vec<f64>,
}

impl LloydState {
    /// Copies and packs a finite matrix.
    pub fn new(x: ArrayView2<f64>) -> Result<LloydState, ClusterError> {
        validate_matrix(x)?;
        let flat: Vec<f64> = x.iter().copied().collect();
        let packed = Packed::new(&flat, x.ncols());
        let n = x.nrows();
        Ok(LloydState { x: flat, packed, labels: vec![u32::MAX; n], min_dist: vec![0.0; n] })
    }

    /// One Lloyd iteration from `centers` (k x d, row-major): assigns every row and returns the new
    /// centres.
    pub fn iterate(&mut self, centers: &[f64]) -> Vec<f64> {
        let k = centers.len() / self.packed.d;
        let a = assign(&self.packed, centers, k, &mut self.labels, None);
        if a.counts.contains(&0) {
            assign(&self.packed, centers, k, &mut self.labels, Some(&mut self.min_dist));
        }
        update_centers(&self.x, self.packed.d, &a, &self.min_dist)
    }

    /// The inertia of assigning every row to its nearest centre.
    pub fn inertia(&mut self, centers: &[f64]) -> f64 {
        let k = centers.len() / self.packed.d;
        assign(&self.packed, centers, k, &mut self.labels, Some(&mut self.min_dist)).inertia
    }
}

/// Moves each empty segment's centre onto one of the rows farthest from their own centre.
pub(super) fn relocate_empty(x: &[f64], d: usize, counts: &[usize], min_dist: &[f64], centers: &mut [f64]) {
    let empty: Vec<usize> = (0..counts.len()).filter(|&c| counts[c] == 0).collect();
    if empty.is_empty() {
        return;
    }
    let mut far: Vec<usize> = (0..min_dist.len()).collect();
    far.sort_by(|&a, &b| min_dist[b].total_cmp(&min_dist[a]).then(a.cmp(&b)));
    for (c, row) in empty.into_iter().zip(far) {
        centers[c * d..(c + 1) * d].copy_from_slice(&x[row * d..(row + 1) * d]);
    }
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
pub(super) mod tests {
    use super::*;
    use ndarray::Array2;

    /// Kernel 1 from `centers` on row-major `x`, as a fit runs it.
    pub(in crate::engine::cluster::kmeans) fn lloyd_from(
        x: &[f64],
        d: usize,
        k: usize,
        centers: Vec<f64>,
    ) -> SingleRun {
        let view = ndarray::ArrayView2::from_shape((x.len() / d, d), x).unwrap();
        let params = KMeansParams::new(k).kernel(KMeansKernel::Lloyd);
        kernel_runner(view, x, &params, None)(centers, &CancelToken::new()).unwrap()
    }

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
