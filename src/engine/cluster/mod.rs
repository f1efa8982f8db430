//! Clustering algorithms, one folder per family, and what every segmentation has in common.

pub mod bounds;
pub mod dbscan;
pub mod describe;
pub mod gmm;
pub mod hierarchical;
pub mod hybrid;
pub mod kmeans;
pub mod kprototypes;
pub mod method;
pub mod optics;
pub mod rfm_rules;
pub mod som;
pub mod stability;
pub mod sweep;

pub use crate::engine::matrix::{segment_sizes, validate_matrix};
pub use method::{Algorithm, FittedModel, Mixture, Segmentation};

use std::collections::HashSet;

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use crate::engine::error::ClusterError;

/// Checks new customers against a fitted model: a valid matrix with the `d` features it was fitted on.
pub fn check_new_data(x: ArrayView2<f64>, d: usize) -> Result<(), ClusterError> {
    validate_matrix(x)?;
    if x.ncols() != d {
        return Err(ClusterError::BadLabels(format!(
            "the data has {} features but the model was fitted on {d}",
            x.ncols()
        )));
    }
    Ok(())
}

/// Distinct rows of a matrix (exact comparison of the bits), counted up to `cap`: which bounds how
/// many non-empty segments a centroid method can make. Stopping at the cap keeps the check cheap for
/// the usual k much smaller than n.
pub fn count_distinct_rows(x: ArrayView2<f64>, cap: usize) -> usize {
    let mut seen: HashSet<Vec<u64>> = HashSet::with_capacity(cap.min(x.nrows()));
    for row in x.rows() {
        // +0.0 and -0.0 are the same point.
        seen.insert(row.iter().map(|v| if *v == 0.0 { 0 } else { v.to_bits() }).collect());
        if seen.len() >= cap {
            break;
        }
    }
    seen.len()
}

/// Checks that a fixed k is possible for this matrix.
pub fn check_k(x: ArrayView2<f64>, k: usize) -> Result<(), ClusterError> {
    if k == 0 {
        return Err(ClusterError::InvalidParameter { name: "k", problem: "must be at least 1".into() });
    }
    if k > x.nrows() {
        return Err(ClusterError::KTooLarge { k, available: x.nrows(), what: "rows" });
    }
    let distinct = count_distinct_rows(x, k);
    if k > distinct {
        return Err(ClusterError::KTooLarge { k, available: distinct, what: "distinct rows" });
    }
    Ok(())
}

/// Renumbers segments canonically: by descending size, ties broken by the lexicographic order of the
/// centroids (then by the old number), so the same segmentation always gets the same numbers.
///
/// Returns the old-to-new mapping.
pub fn canonical_order(sizes: &[usize], centroids: ArrayView2<f64>) -> Vec<usize> {
    let k = sizes.len();
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&a, &b| {
        sizes[b]
            .cmp(&sizes[a])
            .then_with(|| {
                centroids
                    .row(a)
                    .iter()
                    .zip(centroids.row(b).iter())
                    .map(|(x, y)| x.total_cmp(y))
                    .find(|o| o.is_ne())
                    .unwrap_or(std::cmp::Ordering::Equal)
            })
            .then(a.cmp(&b))
    });
    let mut old_to_new = vec![0; k];
    for (new, &old) in order.iter().enumerate() {
        old_to_new[old] = new;
    }
    old_to_new
}

/// A fingerprint of an assignment (which row is in which segment), stored in the project so a re-run
/// can prove it reproduced the same segmentation.
pub fn assignment_fingerprint(labels: &[usize]) -> String {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"strata-assignment-v1");
    hasher.update(&(labels.len() as u64).to_le_bytes());
    for &label in labels {
        hasher.update(&(label as u32).to_le_bytes());
    }
    hasher.finalize().to_hex().to_string()
}

/// Rows [`CentroidModel::predict`] hands to one thread at a time.
const PREDICT_BLOCK_ROWS: usize = 4096;

/// A fitted segmentation from a centroid method.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CentroidModel {
    /// k x d centroids in feature-matrix space, in canonical segment order.
    pub centroids: Vec<Vec<f64>>,
}

impl CentroidModel {
    /// The nearest centroid for each row of `x` (new customers are assigned the same way).
    pub fn predict(&self, x: ArrayView2<f64>) -> Result<Vec<usize>, ClusterError> {
        let d = self.centroids.first().map_or(0, Vec::len);
        check_new_data(x, d)?;
        let nearest = |row: &[f64]| {
            let mut best = (f64::INFINITY, 0);
            for (c, centroid) in self.centroids.iter().enumerate() {
                let dist: f64 = row.iter().zip(centroid).map(|(a, b)| (a - b) * (a - b)).sum();
                if dist < best.0 {
                    best = (dist, c);
                }
            }
            best.1
        };
        // Rows are independent: blocks of them in parallel, each row as it would be alone.
        if let Some(values) = x.as_slice() {
            use rayon::prelude::*;
            return Ok(values
                .par_chunks(d * PREDICT_BLOCK_ROWS)
                .flat_map_iter(|block| block.chunks_exact(d).map(nearest))
                .collect());
        }
        Ok(x.rows().into_iter().map(|row| nearest(&row.to_vec())).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn prediction_in_parallel_blocks_is_the_row_by_row_nearest_centre_on_any_thread_count() {
        // More rows than one block, values on a coarse grid so that many rows tie between centres.
        let n = 3 * PREDICT_BLOCK_ROWS + 17;
        let x = ndarray::Array2::from_shape_fn((n, 3), |(i, j)| ((i * 7 + j * 13) % 11) as f64 - 5.0);
        let model = CentroidModel { centroids: vec![vec![-2.0, 0.0, 1.0], vec![2.0, 0.0, -1.0], vec![0.0, 0.0, 0.0]] };
        let alone: Vec<usize> = x
            .rows()
            .into_iter()
            .map(|row| {
                let dist = |c: &Vec<f64>| row.iter().zip(c).map(|(a, b)| (a - b) * (a - b)).sum::<f64>();
                // The first of the nearest: ties go to the lowest segment.
                (0..3)
                    .fold(0, |best, c| if dist(&model.centroids[c]) < dist(&model.centroids[best]) { c } else { best })
            })
            .collect();
        for threads in [1, 3] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            assert_eq!(pool.install(|| model.predict(x.view())).unwrap(), alone, "{threads} threads");
        }
        // A view that is not row-major gives the same.
        let columns = x.t().to_owned();
        assert_eq!(model.predict(columns.t()).unwrap(), alone);
    }

    #[test]
    fn canonical_order_is_by_size_then_centroid() {
        let centroids = array![[5.0], [1.0], [3.0]];
        assert_eq!(canonical_order(&[2, 5, 2], centroids.view()), vec![2, 0, 1]);
    }

    #[test]
    fn validation_rejects_empty_and_non_finite_input() {
        let empty = ndarray::Array2::<f64>::zeros((0, 2));
        assert_eq!(validate_matrix(empty.view()), Err(ClusterError::EmptyInput));
        let bad = array![[1.0, 2.0], [f64::INFINITY, 0.0]];
        assert_eq!(validate_matrix(bad.view()), Err(ClusterError::NonFinite { row: 1, column: 0 }));
    }

    #[test]
    fn k_is_checked_against_rows_and_distinct_rows() {
        let x = array![[1.0], [1.0], [2.0]];
        assert!(check_k(x.view(), 2).is_ok());
        assert_eq!(check_k(x.view(), 3), Err(ClusterError::KTooLarge { k: 3, available: 2, what: "distinct rows" }));
        assert_eq!(check_k(x.view(), 4), Err(ClusterError::KTooLarge { k: 4, available: 3, what: "rows" }));
    }
}
