//! Silhouette: exact up to `SILHOUETTE_EXACT_MAX_ROWS` rows, on a seeded sample above that.
//!
//! Rows are sorted by segment and each row's distance sums per segment are accumulated tile by tile,
//! every pair of rows computed once for both of them (the square root is what costs); never an n x n
//! matrix: memory is O(n d + n k) plus at most 64 MiB of buffered sums.

use ndarray::ArrayView2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::engine::error::ClusterError;
use crate::engine::kernels::{self, Isa, LANES, Packed};
use crate::engine::matrix::segment_sizes;
use crate::engine::rng::SeededRng;

/// Rows per tile of the symmetric pass (a multiple of `LANES`): a tile is one task's rows and, packed,
/// the columns other tasks read (32 KiB at 8 features: stays in the core's cache).
const PAIR_TILE: usize = 64 * LANES;
/// The buffered sums of later rows are about n^2 / (2 x tile) values: above 50,000 rows the tile grows
/// so they stay under this many (64 MiB).
const MAX_BUFFERED: usize = 8 << 20;

/// A run of rows of one segment, in segment-sorted order.
struct Tile {
    segment: usize,
    /// First row, in sorted order.
    start: usize,
    len: usize,
    /// First row within its segment (a multiple of `LANES`).
    offset: usize,
}

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
    // Tiles never cross a segment. Every pair of rows is computed once: a tile's rows against itself
    // (one side) and against every later tile (both sides at once, the later rows' sums buffered).
    // The tiles are fixed by the data, so the summation order never depends on the threads.
    let tile_rows = PAIR_TILE.max((n * n / (2 * MAX_BUFFERED)).next_multiple_of(LANES));
    let mut tiles = Vec::new();
    for c in 0..k {
        for offset in (0..sizes[c]).step_by(tile_rows) {
            tiles.push(Tile { segment: c, start: starts[c] + offset, len: tile_rows.min(sizes[c] - offset), offset });
        }
    }
    let tiles_ref = &tiles;
    let parts: Vec<(Vec<f64>, Vec<f64>)> = (0..tiles.len())
        .into_par_iter()
        .map(|t| {
            let tile = &tiles_ref[t];
            let end = tile.start + tile.len;
            let rows = &sorted[tile.start * d..end * d];
            // This tile's rows: distance sums per segment, from this tile on.
            let mut own = vec![0.0; tile.len * k];
            // Rows after this tile: their distance sums to this tile's rows.
            let mut later = vec![0.0; n - end];
            let mut row_totals = vec![0.0; tile.len];
            let mut column_totals = vec![0.0; tile_rows];
            for (u, other) in tiles_ref.iter().enumerate().skip(t) {
                row_totals.iter_mut().for_each(|v| *v = 0.0);
                let block = packed[other.segment].rows_slice(other.offset, other.len);
                if u == t {
                    kernels::distance_sums(isa, rows, d, block, other.len, &mut row_totals);
                } else {
                    let columns = &mut column_totals[..other.len.div_ceil(LANES) * LANES];
                    columns.iter_mut().for_each(|v| *v = 0.0);
                    kernels::pair_sums(isa, rows, d, block, other.len, &mut row_totals, columns);
                    let at = other.start - end;
                    later[at..at + other.len].copy_from_slice(&columns[..other.len]);
                }
                for (r, total) in row_totals.iter().enumerate() {
                    own[r * k + other.segment] += total;
                }
            }
            (own, later)
        })
        .collect();
    // Sums per row and segment, in sorted order: the earlier tiles' buffered sums in tile order, then
    // the row's own tile's.
    let mut per_segment = vec![0.0; n * k];
    for (tile, (_, later)) in tiles.iter().zip(&parts) {
        let end = tile.start + tile.len;
        for (i, v) in later.iter().enumerate() {
            per_segment[(end + i) * k + tile.segment] += v;
        }
    }
    for (tile, (own, _)) in tiles.iter().zip(&parts) {
        for (to, from) in per_segment[tile.start * k..(tile.start + tile.len) * k].iter_mut().zip(own) {
            *to += from;
        }
    }
    let by_sorted: Vec<f64> = per_segment
        .par_chunks(k)
        .enumerate()
        .map(|(p, sums)| {
            let own = labels[order[p]];
            if sizes[own] <= 1 {
                return 0.0;
            }
            let mut a = 0.0;
            let mut b = f64::INFINITY;
            for (c, &total) in sums.iter().enumerate() {
                if c == own {
                    a = total / (sizes[c] - 1) as f64;
                } else if sizes[c] > 0 {
                    b = b.min(total / sizes[c] as f64);
                }
            }
            let denominator = a.max(b);
            if denominator > 0.0 { (b - a) / denominator } else { 0.0 }
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

    /// Several tiles per segment, segments not whole blocks, a segment of one customer and an empty
    /// one: every row's silhouette equals the direct O(n^2) definition, bit for bit on any number of
    /// threads.
    #[test]
    fn every_pair_once_gives_the_direct_silhouettes_on_any_thread_count() {
        let mut rng = SeededRng::new(11);
        let (n, d, k) = (2 * PAIR_TILE + 2 * 700 + 1 + 13, 3, 5);
        let mut values = Vec::with_capacity(n * d);
        let mut labels = Vec::with_capacity(n);
        for i in 0..n {
            // Segment 3 is left empty; segment 4 has one customer.
            let c = if i == n - 1 { 4 } else { [0, 1, 2, 0, 2][i % 5] };
            for j in 0..d {
                values.push(c as f64 * (j as f64 + 1.0) + rng.next_f64() * 3.0);
            }
            labels.push(c);
        }
        let x = ndarray::Array2::from_shape_vec((n, d), values).unwrap();
        let sizes = segment_sizes(&labels, k);
        let direct: Vec<f64> = (0..n)
            .map(|i| {
                let mut sums = vec![0.0; k];
                for j in 0..n {
                    let dd: f64 = (0..d).map(|c| (x[[i, c]] - x[[j, c]]).powi(2)).sum();
                    sums[labels[j]] += dd.sqrt();
                }
                let own = labels[i];
                if sizes[own] <= 1 {
                    return 0.0;
                }
                let a = sums[own] / (sizes[own] - 1) as f64;
                let b = (0..k)
                    .filter(|&c| c != own && sizes[c] > 0)
                    .map(|c| sums[c] / sizes[c] as f64)
                    .fold(f64::INFINITY, f64::min);
                (b - a) / a.max(b)
            })
            .collect();
        let on = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| silhouette_samples(x.view(), &labels, k).unwrap())
        };
        let one = on(1);
        for (i, (ours, theirs)) in one.iter().zip(&direct).enumerate() {
            assert!((ours - theirs).abs() <= 1e-12, "row {i}: {ours} vs {theirs}");
        }
        assert_eq!(one[n - 1], 0.0, "a segment of one customer has silhouette 0");
        for threads in [2, 3] {
            let other = on(threads);
            assert!(one.iter().zip(&other).all(|(a, b)| a.to_bits() == b.to_bits()), "{threads} threads differ");
        }
    }
}
