//! Cluster validity indices, each as scikit-learn defines it: inertia, silhouette (exact, or on a
//! seeded sample with a confidence interval), Calinski-Harabasz and Davies-Bouldin.

pub mod agreement;
pub mod matching;
mod silhouette;

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

pub use silhouette::{
    SILHOUETTE_EXACT_MAX_ROWS, SilhouetteResult, silhouette, silhouette_samples, silhouette_with_limit,
};

use crate::engine::error::ClusterError;
use crate::engine::matrix::{segment_sizes, validate_matrix};

/// Every index of one labeling, under the keys the CLI's JSON uses.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Indices {
    /// Number of segments.
    pub k: usize,
    /// Sum of squared distances of rows to their segment mean.
    pub inertia: f64,
    /// Mean silhouette; `None` unless 2 <= k <= n - 1.
    pub silhouette: Option<SilhouetteResult>,
    /// Calinski-Harabasz index; `None` for k < 2.
    pub calinski_harabasz: Option<f64>,
    /// Davies-Bouldin index; `None` for k < 2.
    pub davies_bouldin: Option<f64>,
    /// Rows per segment.
    pub sizes: Vec<usize>,
}

/// Checks labels against the matrix: one per row, each below k, every segment non-empty.
pub(crate) fn check_labels(x: ArrayView2<f64>, labels: &[usize], k: usize) -> Result<(), ClusterError> {
    validate_matrix(x)?;
    if labels.len() != x.nrows() {
        return Err(ClusterError::BadLabels(format!("{} labels for {} rows", labels.len(), x.nrows())));
    }
    // Checked before the per-segment counts are allocated: k non-empty segments need k rows.
    if k > x.nrows() {
        return Err(ClusterError::KTooLarge { k, available: x.nrows(), what: "rows" });
    }
    if let Some(&bad) = labels.iter().find(|&&l| l >= k) {
        return Err(ClusterError::BadLabels(format!("label {bad} is not below k = {k}")));
    }
    if let Some(empty) = segment_sizes(labels, k).iter().position(|&s| s == 0) {
        return Err(ClusterError::BadLabels(format!("segment {empty} has no rows")));
    }
    Ok(())
}

/// Checks labels for an index that compares segments (2 <= k < n, as scikit-learn); returns n.
fn check_comparable(x: ArrayView2<f64>, labels: &[usize], k: usize, index: &str) -> Result<usize, ClusterError> {
    check_labels(x, labels, k)?;
    let n = x.nrows();
    if k < 2 || k >= n {
        return Err(ClusterError::BadLabels(format!("{index} needs 2 <= k < n (k = {k}, n = {n})")));
    }
    Ok(n)
}

/// Segment means (k x d); rows labelled k or above belong to no segment and are left out.
pub fn segment_means(x: ArrayView2<f64>, labels: &[usize], k: usize) -> Array2<f64> {
    let d = x.ncols();
    let mut sums = Array2::<f64>::zeros((k, d));
    let mut counts = vec![0usize; k];
    for (row, &l) in x.rows().into_iter().zip(labels) {
        if l >= k {
            continue;
        }
        counts[l] += 1;
        let mut target = sums.row_mut(l);
        target += &row;
    }
    for (c, &n) in counts.iter().enumerate() {
        if n > 0 {
            sums.row_mut(c).mapv_inplace(|v| v / n as f64);
        }
    }
    sums
}

/// Sum of squared distances of rows to their segment mean.
pub fn inertia(x: ArrayView2<f64>, labels: &[usize], k: usize) -> Result<f64, ClusterError> {
    check_labels(x, labels, k)?;
    let means = segment_means(x, labels, k);
    Ok(x.rows()
        .into_iter()
        .zip(labels)
        .map(|(row, &l)| row.iter().zip(means.row(l)).map(|(a, b)| (a - b) * (a - b)).sum::<f64>())
        .sum())
}

/// Calinski-Harabasz: between-segment over within-segment dispersion, each per degree of freedom.
pub fn calinski_harabasz(x: ArrayView2<f64>, labels: &[usize], k: usize) -> Result<f64, ClusterError> {
    let n = check_comparable(x, labels, k, "Calinski-Harabasz")?;
    let means = segment_means(x, labels, k);
    let overall: Vec<f64> = (0..x.ncols()).map(|j| x.column(j).sum() / n as f64).collect();
    let sizes = segment_sizes(labels, k);
    let between: f64 = (0..k)
        .map(|c| sizes[c] as f64 * means.row(c).iter().zip(&overall).map(|(a, b)| (a - b) * (a - b)).sum::<f64>())
        .sum();
    let within = inertia(x, labels, k)?;
    // scikit-learn returns 1.0 when every row sits on its segment mean.
    if within == 0.0 {
        return Ok(1.0);
    }
    Ok(between * (n - k) as f64 / (within * (k - 1) as f64))
}

/// Davies-Bouldin: the mean over segments of the worst ratio of summed spreads to centroid distance.
pub fn davies_bouldin(x: ArrayView2<f64>, labels: &[usize], k: usize) -> Result<f64, ClusterError> {
    check_comparable(x, labels, k, "Davies-Bouldin")?;
    let means = segment_means(x, labels, k);
    let sizes = segment_sizes(labels, k);
    let mut spread = vec![0.0; k];
    for (row, &l) in x.rows().into_iter().zip(labels) {
        spread[l] += row.iter().zip(means.row(l)).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt();
    }
    for c in 0..k {
        spread[c] /= sizes[c] as f64;
    }
    if spread.iter().all(|&s| s == 0.0) {
        return Ok(0.0);
    }
    let mut total = 0.0;
    for i in 0..k {
        let mut worst: f64 = 0.0;
        for j in 0..k {
            if i == j {
                continue;
            }
            let distance = means.row(i).iter().zip(means.row(j)).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt();
            // Coincident centroids count as infinitely far apart, as in scikit-learn.
            if distance > 0.0 {
                worst = worst.max((spread[i] + spread[j]) / distance);
            }
        }
        total += worst;
    }
    Ok(total / k as f64)
}

/// All indices of a labeling with labels 0..k.
pub fn evaluate(x: ArrayView2<f64>, labels: &[usize], k: usize, seed: u64) -> Result<Indices, ClusterError> {
    evaluate_with_known(x, labels, k, seed, None)
}

/// Indices already computed for these very labels (by a sweep that fitted the same k with the same
/// settings), so they are not computed twice.
#[derive(Clone, Debug)]
pub struct KnownIndices {
    /// The silhouette.
    pub silhouette: SilhouetteResult,
    /// Calinski-Harabasz and Davies-Bouldin, when known.
    pub ch_db: Option<(f64, f64)>,
}

/// As [`evaluate`], taking every index in `known` as it is (the silhouette is the one that costs
/// O(n²)).
pub fn evaluate_with_known(
    x: ArrayView2<f64>,
    labels: &[usize],
    k: usize,
    seed: u64,
    known: Option<KnownIndices>,
) -> Result<Indices, ClusterError> {
    check_labels(x, labels, k)?;
    let n = x.nrows();
    let defined = k >= 2 && k < n;
    let (silhouette, ch_db) = match (defined, known) {
        (false, _) => (None, None),
        (true, Some(known)) => (Some(known.silhouette), known.ch_db),
        (true, None) => (Some(silhouette(x, labels, k, seed)?), None),
    };
    let (calinski_harabasz, davies_bouldin) = match (defined, ch_db) {
        (false, _) => (None, None),
        (true, Some((ch, db))) => (Some(ch), Some(db)),
        (true, None) => (Some(calinski_harabasz(x, labels, k)?), Some(davies_bouldin(x, labels, k)?)),
    };
    Ok(Indices {
        k,
        inertia: inertia(x, labels, k)?,
        silhouette,
        calinski_harabasz,
        davies_bouldin,
        sizes: segment_sizes(labels, k),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn hand_computed_indices_on_a_tiny_example() {
        // Segment 0: (0,0), (0,2); segment 1: (4,0), (4,2). Means (0,1) and (4,1).
        let x = array![[0.0, 0.0], [0.0, 2.0], [4.0, 0.0], [4.0, 2.0]];
        let labels = [0, 0, 1, 1];
        assert_eq!(inertia(x.view(), &labels, 2).unwrap(), 4.0);
        // Between: 2 * 4 + 2 * 4 = 16; CH = 16 * (4 - 2) / (4 * 1) = 8.
        assert_eq!(calinski_harabasz(x.view(), &labels, 2).unwrap(), 8.0);
        // Spread 1 each, centroid distance 4: DB = (1 + 1) / 4 = 0.5.
        assert_eq!(davies_bouldin(x.view(), &labels, 2).unwrap(), 0.5);
        // Row 0: a = 2, b = (4 + sqrt(20)) / 2; s = (b - a) / b.
        let b = (4.0 + 20f64.sqrt()) / 2.0;
        let s = silhouette_samples(x.view(), &labels, 2).unwrap();
        assert!((s[0] - (b - 2.0) / b).abs() < 1e-15);
    }

    #[test]
    fn bad_labels_are_errors() {
        let x = array![[0.0], [1.0], [2.0]];
        assert!(matches!(evaluate(x.view(), &[0, 1], 2, 0), Err(ClusterError::BadLabels(_))));
        assert!(matches!(evaluate(x.view(), &[0, 2, 0], 2, 0), Err(ClusterError::BadLabels(_))));
        assert!(matches!(evaluate(x.view(), &[0, 0, 0], 2, 0), Err(ClusterError::BadLabels(_))));
        // A k beyond the rows is refused before anything of size k is allocated.
        assert!(matches!(evaluate(x.view(), &[0, 1, 2], usize::MAX, 0), Err(ClusterError::KTooLarge { .. })));
        assert!(matches!(inertia(x.view(), &[0, 1, 2], 1 << 60), Err(ClusterError::KTooLarge { .. })));
        assert!(silhouette_samples(x.view(), &[0, 5, 1], 2).is_err(), "a label above k is an error, not a panic");
        // A sample that misses a segment still has silhouettes (the window draws them on a sample).
        let four = array![[0.0], [0.1], [5.0], [5.1]];
        assert_eq!(silhouette_samples(four.view(), &[0, 0, 2, 2], 3).unwrap().len(), 4);
        assert_eq!(segment_means(x.view(), &[0, 9, 0], 1), array![[1.0]]);
        // One segment: inertia is defined, the rest are not.
        let one = evaluate(x.view(), &[0, 0, 0], 1, 0).unwrap();
        assert_eq!((one.silhouette, one.calinski_harabasz, one.davies_bouldin), (None, None, None));
    }
}
