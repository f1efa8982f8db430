//! Kernel 1: Lloyd's iterations in double precision over fixed-size row chunks whose partial sums
//! are reduced in chunk order, so the result is bit-identical whatever the number of threads; and
//! the final assignment both kernels can end with.

use ndarray::ArrayView2;
use rayon::prelude::*;

use super::KMeansParams;
use crate::engine::cluster::validate_matrix;
use crate::engine::error::ClusterError;
use crate::engine::jobs::CancelToken;
use crate::engine::kernels::{self, AssignPartial, Isa, Packed};

/// Rows per parallel chunk: fixed, so the reduction order never depends on the thread count.
pub(super) const CHUNK_ROWS: usize = 4096;

/// E-step: nearest centre for every row, with per-segment sums for the M-step; chunks in parallel,
/// their partial sums reduced in chunk order.
///
/// With `min_dist`, every row's squared distance to its centre is written and the inertia summed; the
/// Lloyd loop needs neither until the end (or a segment comes out empty), and skipping them saves
/// memory traffic every iteration (the inertia is then 0).
pub(super) fn assign(
    x: &Packed,
    centers: &[f64],
    k: usize,
    labels: &mut [u32],
    min_dist: Option<&mut [f64]>,
) -> AssignPartial {
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
pub(super) fn lloyd(
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
