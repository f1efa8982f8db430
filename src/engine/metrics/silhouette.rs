//! Silhouette: exact up to `SILHOUETTE_EXACT_MAX_ROWS` rows, on a seeded sample above that.
//!
//! Memory stays O(n d + n k): rows are sorted by segment and each row's distance sums per segment are
//! accumulated on the fly, never an n x n matrix.

use ndarray::ArrayView2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::engine::error::ClusterError;
use crate::engine::kernels::{self, Isa, LANES, Packed};
use crate::engine::matrix::segment_sizes;
use crate::engine::rng::SeededRng;

/// Rows whose distance sums one task computes together.
const ROW_TILE: usize = 32;
/// Rows of a segment read per pass over a row tile (128 KiB at 8 features: stays in L2).
const COLUMN_TILE: usize = 256 * LANES;

/// Up to this many rows the silhouette is exact; above it, computed on a seeded sample of this size.
pub const SILHOUETTE_EXACT_MAX_ROWS: usize = 50_000;

/// A mean silhouette and how it was obtained.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SilhouetteResult {
    /// Mean silhouette coefficient, -1..1.
    pub mean: f64,
    /// Whether every row was used.
    pub exact: bool,
    /// Rows used.
    pub sample_size: usize,
    /// 95% confidence interval of the mean, for a sample (normal approximation).
    pub ci95: Option<(f64, f64)>,
}

/// Silhouette coefficient of every row, as scikit-learn's `silhouette_samples` (Euclidean).
pub fn silhouette_samples(x: ArrayView2<f64>, labels: &[usize], k: usize) -> Result<Vec<f64>, ClusterError> {
    let n = x.nrows();
    if labels.len() != n {
        return Err(ClusterError::BadLabels(format!("{} labels for {n} rows", labels.len())));
    }
    // Labels at or above k would index past the segments' blocks. (A segment may be empty here:
    // silhouettes are drawn for a sample, which can miss a small segment.)
    if let Some(&bad) = labels.iter().find(|&&l| l >= k) {
        return Err(ClusterError::BadLabels(format!("label {bad} is not below k = {k}")));
    }
    if !(2..n).contains(&k) {
        return Err(ClusterError::BadLabels(format!("silhouette needs 2 <= k <= n - 1 (k = {k}, n = {n})")));
    }
    let d = x.ncols();
    let sizes = segment_sizes(labels, k);
    // Rows sorted by segment: each segment is one contiguous block, read sequentially.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| labels[i]);
    let mut sorted: Vec<f64> = Vec::with_capacity(n * d);
    for &i in &order {
        sorted.extend(x.row(i).iter());
    }
    let mut starts = vec![0; k + 1];
    for c in 0..k {
        starts[c + 1] = starts[c] + sizes[c];
    }
    // Each segment packed on its own, so its rows are whole blocks read with vector loads.
    let packed: Vec<Packed> = (0..k).map(|c| Packed::new(&sorted[starts[c] * d..starts[c + 1] * d], d)).collect();
    let isa = Isa::detect();
    let (order_ref, sizes_ref) = (&order, &sizes);
    // Tiles of rows (the parallel unit) against tiles of each segment small enough to stay in the
    // core's cache; the tile sizes are fixed, so the summation order never depends on the threads.
    let by_sorted: Vec<f64> = sorted
        .par_chunks(ROW_TILE * d)
        .enumerate()
        .flat_map_iter(|(t, tile)| {
            let first = t * ROW_TILE;
            let len = tile.len() / d;
            let mut per_segment = vec![0.0; len * k];
            let mut totals = vec![0.0; len];
            for (c, group) in packed.iter().enumerate() {
                totals.iter_mut().for_each(|v| *v = 0.0);
                for start in (0..group.rows).step_by(COLUMN_TILE) {
                    let count = COLUMN_TILE.min(group.rows - start);
                    kernels::distance_sums(isa, tile, d, group.rows_slice(start, count), count, &mut totals);
                }
                for r in 0..len {
                    per_segment[r * k + c] = totals[r];
                }
            }
            (0..len).map(move |r| {
                let (order, sizes) = (order_ref, sizes_ref);
                let own = labels[order[first + r]];
                if sizes[own] <= 1 {
                    return 0.0;
                }
                let mut a = 0.0;
                let mut b = f64::INFINITY;
                for c in 0..k {
                    let total = per_segment[r * k + c];
                    if c == own {
                        a = total / (sizes[c] - 1) as f64;
                    } else if sizes[c] > 0 {
                        b = b.min(total / sizes[c] as f64);
                    }
                }
                let denominator = a.max(b);
                if denominator > 0.0 { (b - a) / denominator } else { 0.0 }
            })
        })
        .collect();
    let mut out = vec![0.0; n];
    for (p, &i) in order.iter().enumerate() {
        out[i] = by_sorted[p];
    }
    Ok(out)
}

/// Mean silhouette: exact up to `SILHOUETTE_EXACT_MAX_ROWS` rows, otherwise on a seeded sample of that
/// size with a 95% confidence interval.
pub fn silhouette(x: ArrayView2<f64>, labels: &[usize], k: usize, seed: u64) -> Result<SilhouetteResult, ClusterError> {
    silhouette_with_limit(x, labels, k, seed, SILHOUETTE_EXACT_MAX_ROWS)
}

/// As [`silhouette`], with the exact-size limit given (tests use a small one).
pub fn silhouette_with_limit(
    x: ArrayView2<f64>,
    labels: &[usize],
    k: usize,
    seed: u64,
    exact_max_rows: usize,
) -> Result<SilhouetteResult, ClusterError> {
    let n = x.nrows();
    if n <= exact_max_rows {
        let s = silhouette_samples(x, labels, k)?;
        return Ok(SilhouetteResult {
            mean: s.iter().sum::<f64>() / n as f64,
            exact: true,
            sample_size: n,
            ci95: None,
        });
    }
    let rows = SeededRng::derived(seed, 0x51_1407).sample_indices(n, exact_max_rows);
    let sample_x = x.select(ndarray::Axis(0), &rows);
    let sample_labels_raw: Vec<usize> = rows.iter().map(|&i| labels[i]).collect();
    // A small segment can miss the sample: renumber the segments present.
    let mut present: Vec<usize> = sample_labels_raw.clone();
    present.sort_unstable();
    present.dedup();
    let sample_labels: Vec<usize> = sample_labels_raw.iter().map(|l| present.binary_search(l).unwrap_or(0)).collect();
    let s = silhouette_samples(sample_x.view(), &sample_labels, present.len())?;
    let m = s.len() as f64;
    let mean = s.iter().sum::<f64>() / m;
    let variance = s.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (m - 1.0);
    let half_width = 1.96 * (variance / m).sqrt();
    Ok(SilhouetteResult {
        mean,
        exact: false,
        sample_size: s.len(),
        ci95: Some((mean - half_width, mean + half_width)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampled_silhouette_reports_size_and_interval_around_the_exact_value() {
        let mut rng = SeededRng::new(5);
        let n = 3000;
        let mut values = Vec::with_capacity(n * 2);
        let mut labels = Vec::with_capacity(n);
        for i in 0..n {
            let c = i % 3;
            values.push(c as f64 * 3.0 + rng.next_f64() * 2.0);
            values.push(rng.next_f64() * 2.0);
            labels.push(c);
        }
        let x = ndarray::Array2::from_shape_vec((n, 2), values).unwrap();
        let exact = silhouette_with_limit(x.view(), &labels, 3, 1, n).unwrap();
        let sampled = silhouette_with_limit(x.view(), &labels, 3, 1, 1000).unwrap();
        assert!(exact.exact && !sampled.exact);
        assert_eq!(sampled.sample_size, 1000);
        let (lo, hi) = sampled.ci95.unwrap();
        assert!(lo < sampled.mean && sampled.mean < hi);
        // The sample mean is close to the exact one (the interval is about +-0.01 wide here).
        assert!((sampled.mean - exact.mean).abs() < 0.05, "{} vs {}", sampled.mean, exact.mean);
        // Same seed, same sample.
        assert_eq!(sampled, silhouette_with_limit(x.view(), &labels, 3, 1, 1000).unwrap());
    }
}
