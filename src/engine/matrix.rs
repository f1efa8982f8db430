//! The checks every feature matrix and labelling passes before a method or an index sees it. They
//! sit below both clustering and the metrics, which use them alike.

use ndarray::ArrayView2;

use crate::engine::error::ClusterError;

/// Largest magnitude of a feature-matrix value: beyond it squared distances summed over customers
/// overflow to infinity (and the fit would come back NaN).
pub const MAX_ABS_VALUE: f64 = 1e100;

/// Checks a feature matrix before any algorithm sees it: rows present, every value finite and no
/// larger in magnitude than [`MAX_ABS_VALUE`] (beyond it squared distances overflow, and a
/// fit would come back NaN).
pub fn validate_matrix(x: ArrayView2<f64>) -> Result<(), ClusterError> {
    if x.nrows() == 0 || x.ncols() == 0 {
        return Err(ClusterError::EmptyInput);
    }
    // Every value at once, in parallel and without a branch per value (a NaN fails the comparison);
    // only a matrix with a bad value is walked row by row to name the first.
    if let Some(flat) = x.as_slice() {
        use rayon::prelude::*;
        let ok = |c: &[f64]| c.iter().fold(true, |ok, v| ok & (v.abs() <= MAX_ABS_VALUE));
        if flat.par_chunks(1 << 16).all(ok) {
            return Ok(());
        }
    }
    for (row, values) in x.rows().into_iter().enumerate() {
        if let Some(column) = values.iter().position(|v| !v.is_finite()) {
            return Err(ClusterError::NonFinite { row, column });
        }
        if let Some(column) = values.iter().position(|v| v.abs() > MAX_ABS_VALUE) {
            return Err(ClusterError::TooLargeValue { row, column, value: values[column] });
        }
    }
    Ok(())
}

/// Sizes of segments 0..k.
pub fn segment_sizes(labels: &[usize], k: usize) -> Vec<usize> {
    let mut sizes = vec![0; k];
    for &l in labels {
        if l < k {
            sizes[l] += 1;
        }
    }
    sizes
}
