//! Where segments overlap: per customer its second-best segment and the margin to it, the
//! segment-by-segment overlap matrix (the share of each segment whose second-best is each other),
//! and the borderline customers (margin below a threshold).
//!
//! The margin is the posterior margin (best probability minus second) for a mixture, and for every
//! other method the relative distance margin to the segment means in the model's feature space,
//! (d2 - d1) / d2: 0 halfway between two segments, 1 on a segment's mean.

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Below this margin a customer is borderline.
pub const BORDERLINE_MARGIN: f64 = 0.1;

/// Per customer (row of the model's matrix): the second-best segment and the margin to it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Overlap {
    /// The second-best segment of each row (`None` with a single segment).
    pub second: Vec<Option<usize>>,
    /// The margin of each row to its second-best segment (0..1).
    pub margin: Vec<f64>,
    /// How the margin was measured, in words.
    pub margin_kind: String,
    /// `[segment][other]`: share of the segment's customers whose second-best is `other`.
    pub matrix: Vec<Vec<f64>>,
    /// Per segment, the share of its customers below [`BORDERLINE_MARGIN`].
    pub borderline_share: Vec<f64>,
    /// Customers below [`BORDERLINE_MARGIN`] (counted once, so a frame does not scan them all).
    pub n_borderline: usize,
}

impl Overlap {
    /// Rows below the borderline margin.
    pub fn borderline_rows(&self) -> Vec<usize> {
        (0..self.margin.len()).filter(|&r| self.margin[r] < BORDERLINE_MARGIN).collect()
    }
}

fn finish(labels: &[usize], k: usize, second: Vec<Option<usize>>, margin: Vec<f64>, kind: &str) -> Overlap {
    let mut counts = vec![vec![0usize; k]; k];
    let mut sizes = vec![0usize; k];
    let mut borderline = vec![0usize; k];
    for ((&l, s), m) in labels.iter().zip(&second).zip(&margin) {
        if l >= k {
            continue;
        }
        sizes[l] += 1;
        if let Some(s) = s {
            counts[l][*s] += 1;
        }
        if *m < BORDERLINE_MARGIN {
            borderline[l] += 1;
        }
    }
    let share = |c: usize, s: usize| if s == 0 { 0.0 } else { c as f64 / s as f64 };
    Overlap {
        n_borderline: borderline.iter().sum(),
        matrix: counts.iter().zip(&sizes).map(|(row, &s)| row.iter().map(|&c| share(c, s)).collect()).collect(),
        borderline_share: borderline.iter().zip(&sizes).map(|(&b, &s)| share(b, s)).collect(),
        second,
        margin,
        margin_kind: kind.to_string(),
    }
}

/// Overlap by distance to the segment means (`centroids`, k x d) of rows of `x` in `labels`.
pub fn overlap_by_distance(x: ArrayView2<f64>, labels: &[usize], centroids: &Array2<f64>) -> Overlap {
    let k = centroids.nrows();
    let rows: Vec<(Option<usize>, f64)> = (0..x.nrows())
        .into_par_iter()
        .map(|r| {
            let row = x.row(r);
            let own = labels[r];
            let dist = |s: usize| -> f64 {
                row.iter().zip(centroids.row(s)).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt()
            };
            let d1 = dist(own);
            let best_other = (0..k).filter(|&s| s != own).map(|s| (s, dist(s))).min_by(|a, b| a.1.total_cmp(&b.1));
            match best_other {
                Some((s, d2)) => (Some(s), if d2 > 0.0 { ((d2 - d1) / d2).clamp(0.0, 1.0) } else { 0.0 }),
                None => (None, 1.0),
            }
        })
        .collect();
    let (second, margin) = rows.into_iter().unzip();
    finish(labels, k, second, margin, "relative distance margin to the next segment's mean")
}

/// Overlap by membership probabilities (rows x k): the margin is the best minus the second.
pub fn overlap_by_probability(probabilities: ArrayView2<f32>, labels: &[usize]) -> Overlap {
    let k = probabilities.ncols();
    let rows: Vec<(Option<usize>, f64)> = (0..probabilities.nrows())
        .into_par_iter()
        .map(|r| {
            let p = probabilities.row(r);
            let own = labels[r];
            let best_other = (0..k).filter(|&s| s != own).max_by(|&a, &b| p[a].total_cmp(&p[b]).then(b.cmp(&a)));
            match best_other {
                Some(s) => (Some(s), f64::from(p[own] - p[s]).clamp(0.0, 1.0)),
                None => (None, 1.0),
            }
        })
        .collect();
    let (second, margin) = rows.into_iter().unzip();
    finish(labels, k, second, margin, "posterior margin (probability of the segment minus the next)")
}

/// The borderline customers of `result` as a table: id (or row), segment, the second-best segment
/// (both numbered from 1, as the window shows them),
/// both names, and the margin; closest calls first.
pub fn borderline_frame(
    result: &crate::engine::pipeline::PipelineResult,
    overlap: &Overlap,
    id_column: Option<&str>,
    name: &dyn Fn(usize) -> String,
) -> Result<polars::prelude::DataFrame, crate::engine::error::DataError> {
    use polars::prelude::{Column, DataFrame, IdxCa, IdxSize};
    let mut rows = overlap.borderline_rows();
    rows.sort_by(|&a, &b| overlap.margin[a].total_cmp(&overlap.margin[b]).then(a.cmp(&b)));
    let customer_rows: Vec<usize> = rows.iter().map(|&i| result.matrix.kept_rows[i]).collect();
    let index = IdxCa::from_vec("rows".into(), customer_rows.iter().map(|&r| r as IdxSize).collect());
    let id = match id_column {
        Some(id) => crate::engine::data::column(&result.customers, id)?.take(&index)?,
        None => Column::new("row".into(), customer_rows.iter().map(|&r| r as u64 + 1).collect::<Vec<_>>()),
    };
    let segment: Vec<usize> = rows.iter().map(|&i| result.fit.labels[i]).collect();
    let second: Vec<Option<usize>> = rows.iter().map(|&i| overlap.second[i]).collect();
    // Numbered from 1, as every screen shows segments.
    let frame = DataFrame::new_infer_height(vec![
        id,
        Column::new("segment".into(), segment.iter().map(|&s| s as u32 + 1).collect::<Vec<_>>()),
        Column::new("segment_name".into(), segment.iter().map(|&s| name(s)).collect::<Vec<_>>()),
        Column::new("second_segment".into(), second.iter().map(|s| s.map(|s| s as u32 + 1)).collect::<Vec<_>>()),
        Column::new("second_name".into(), second.iter().map(|s| s.map(name)).collect::<Vec<_>>()),
        Column::new("margin".into(), rows.iter().map(|&i| overlap.margin[i]).collect::<Vec<_>>()),
    ])?;
    Ok(frame)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn margins_second_best_and_the_overlap_matrix() {
        // Three means on a line at 0, 10, 20; customers near and between them.
        let centroids = array![[0.0], [10.0], [20.0]];
        let x = array![[0.0], [4.0], [5.2], [10.0], [14.0], [19.0]];
        let labels = [0, 0, 1, 1, 1, 2];
        let o = overlap_by_distance(x.view(), &labels, &centroids);
        assert_eq!(o.second, vec![Some(1), Some(1), Some(0), Some(0), Some(2), Some(1)]);
        assert_eq!(o.margin[0], 1.0);
        assert!((o.margin[1] - 2.0 / 6.0).abs() < 1e-12);
        assert!((o.margin[2] - 0.4 / 5.2).abs() < 1e-12, "5.2: 4.8 from its mean, 5.2 from the other");
        assert_eq!(o.borderline_rows(), vec![2]);
        assert_eq!(o.n_borderline, 1);
        // Segment 1: 5.2 and 10 lean to 0, 14 to 2.
        assert!((o.matrix[1][0] - 2.0 / 3.0).abs() < 1e-12 && (o.matrix[1][2] - 1.0 / 3.0).abs() < 1e-12);
        assert!((o.borderline_share[1] - 1.0 / 3.0).abs() < 1e-12);
        // Probabilities: the margin is the difference.
        let p = array![[0.6f32, 0.3, 0.1], [0.2, 0.75, 0.05]];
        let o = overlap_by_probability(p.view(), &[0, 1]);
        assert_eq!(o.second, vec![Some(1), Some(0)]);
        assert!((o.margin[0] - 0.3).abs() < 1e-6 && (o.margin[1] - 0.55).abs() < 1e-6);
        // One segment: nobody has a second.
        let one = overlap_by_distance(x.view(), &[0; 6], &array![[1.0]]);
        assert!(one.second.iter().all(Option::is_none) && one.borderline_rows().is_empty());
    }
}
