//! Pearson correlation between features and variance inflation factors, to catch features that say
//! the same thing twice (and so weigh double in a distance-based segmentation).

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

/// |r| at or above which a pair of features is flagged.
pub const CORRELATION_WARNING: f64 = 0.9;
/// VIF at or above which a feature is flagged (the usual rule of thumb).
pub const VIF_WARNING: f64 = 10.0;

/// Correlations, VIFs and the warnings they raise.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Multicollinearity {
    /// Feature names, in matrix order.
    pub names: Vec<String>,
    /// Pearson correlation matrix (NaN where a feature has no variance).
    pub correlation: Vec<Vec<f64>>,
    /// Variance inflation factor per feature (infinite for an exact linear dependence).
    pub vif: Vec<f64>,
    /// Warnings, one sentence each.
    pub warnings: Vec<String>,
}

/// Pearson correlation matrix of the columns of `x`.
pub fn correlation_matrix(x: ArrayView2<f64>) -> Array2<f64> {
    let (n, d) = x.dim();
    let means: Vec<f64> = (0..d).map(|j| x.column(j).sum() / n as f64).collect();
    // Row by row into the upper triangle of a flat d x d matrix: the same additions in the same
    // order as before, without a matrix index check in the inner loop.
    let mut flat_cov = vec![0.0; d * d];
    let mut centred = vec![0.0; d];
    for row in x.rows() {
        for ((c, &v), &m) in centred.iter_mut().zip(row.iter()).zip(&means) {
            *c = v - m;
        }
        for (a, &da) in centred.iter().enumerate() {
            for (cell, &db) in flat_cov[a * d + a..(a + 1) * d].iter_mut().zip(&centred[a..]) {
                *cell += da * db;
            }
        }
    }
    let mut r = Array2::<f64>::zeros((d, d));
    for a in 0..d {
        for b in a..d {
            let denominator = (flat_cov[a * d + a] * flat_cov[b * d + b]).sqrt();
            let value = if denominator > 0.0 { (flat_cov[a * d + b] / denominator).clamp(-1.0, 1.0) } else { f64::NAN };
            r[[a, b]] = value;
            r[[b, a]] = value;
        }
    }
    r
}

/// Inverse of a symmetric matrix by Gauss-Jordan with partial pivoting; `None` when singular.
fn invert(m: &Array2<f64>) -> Option<Array2<f64>> {
    let d = m.nrows();
    let mut a = m.clone();
    let mut inv = Array2::<f64>::eye(d);
    for col in 0..d {
        let pivot = (col..d).max_by(|&i, &j| a[[i, col]].abs().total_cmp(&a[[j, col]].abs()))?;
        if a[[pivot, col]].abs() < 1e-12 {
            return None;
        }
        for k in 0..d {
            a.swap([col, k], [pivot, k]);
            inv.swap([col, k], [pivot, k]);
        }
        let p = a[[col, col]];
        for k in 0..d {
            a[[col, k]] /= p;
            inv[[col, k]] /= p;
        }
        for i in 0..d {
            if i != col {
                let f = a[[i, col]];
                if f != 0.0 {
                    for k in 0..d {
                        a[[i, k]] -= f * a[[col, k]];
                        inv[[i, k]] -= f * inv[[col, k]];
                    }
                }
            }
        }
    }
    Some(inv)
}

/// Correlations and VIFs of a feature matrix, with warnings for multicollinear features.
///
/// VIF_j = 1 / (1 - R²_j), where R²_j regresses feature j on the others; it equals the j-th diagonal
/// element of the inverse correlation matrix.
///
/// `groups` are the one-hot columns of each categorical feature: its levels always sum to one, so
/// they are not compared with each other, and the last level of each is left out of the VIFs (the
/// reference level, as in a regression; its VIF is NaN), else every feature would read as fully
/// determined by the others.
pub fn multicollinearity(x: ArrayView2<f64>, names: &[String], groups: &[Vec<usize>]) -> Multicollinearity {
    let r = correlation_matrix(x);
    let d = r.nrows();
    let group_of: Vec<Option<usize>> = (0..d).map(|c| groups.iter().position(|g| g.contains(&c))).collect();
    let reference: Vec<bool> = (0..d).map(|c| groups.iter().any(|g| g.len() >= 2 && g.last() == Some(&c))).collect();
    let mut warnings = Vec::new();
    for a in 0..d {
        for b in (a + 1)..d {
            if group_of[a].is_some() && group_of[a] == group_of[b] {
                continue;
            }
            if r[[a, b]].abs() >= CORRELATION_WARNING {
                warnings.push(format!(
                    "features '{}' and '{}' are strongly correlated (r = {:.2}); together they weigh double in the distance",
                    names[a], names[b], r[[a, b]]
                ));
            }
        }
    }
    let kept: Vec<usize> = (0..d).filter(|&c| !reference[c]).collect();
    let sub = Array2::from_shape_fn((kept.len(), kept.len()), |(i, j)| r[[kept[i], kept[j]]]);
    let usable = sub.iter().all(|v| v.is_finite());
    let kept_vif: Vec<f64> = match (kept.len(), usable.then(|| invert(&sub)).flatten()) {
        (0, _) => Vec::new(),
        (1, _) => vec![1.0],
        (m, Some(inv)) => (0..m).map(|j| inv[[j, j]]).collect(),
        (m, None) => vec![f64::INFINITY; m],
    };
    let mut vif = vec![f64::NAN; d];
    for (&c, v) in kept.iter().zip(kept_vif) {
        vif[c] = v;
    }
    for (name, v) in names.iter().zip(&vif) {
        if *v >= VIF_WARNING {
            warnings.push(format!(
                "feature '{name}' has a variance inflation factor of {}; the other features almost determine it",
                if v.is_finite() { format!("{v:.1}") } else { "infinity".to_string() }
            ));
        }
    }
    Multicollinearity {
        names: names.to_vec(),
        correlation: r.rows().into_iter().map(|row| row.to_vec()).collect(),
        vif,
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flat_covariance_gives_the_indexed_one_bit_for_bit() {
        let mut rng = crate::engine::rng::SeededRng::new(9);
        let x = Array2::from_shape_fn((5_000, 6), |(r, c)| rng.next_f64() * (c + 1) as f64 + (r % 7) as f64 * 0.3);
        let (n, d) = x.dim();
        let means: Vec<f64> = (0..d).map(|j| x.column(j).sum() / n as f64).collect();
        let mut cov = Array2::<f64>::zeros((d, d));
        for row in x.rows() {
            for a in 0..d {
                let da = row[a] - means[a];
                for b in a..d {
                    cov[[a, b]] += da * (row[b] - means[b]);
                }
            }
        }
        let r = correlation_matrix(x.view());
        for a in 0..d {
            for b in a..d {
                let expected = (cov[[a, b]] / (cov[[a, a]] * cov[[b, b]]).sqrt()).clamp(-1.0, 1.0);
                assert_eq!(r[[a, b]].to_bits(), expected.to_bits(), "({a}, {b})");
            }
        }
    }
    use ndarray::array;

    #[test]
    fn correlation_and_vif_match_hand_computation() {
        // x2 = x1 + small noise pattern; x3 independent-ish.
        let x = array![[1.0, 2.0, 5.0], [2.0, 4.1, 3.0], [3.0, 5.9, 4.0], [4.0, 8.0, 1.0], [5.0, 10.1, 2.0]];
        let names: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let m = multicollinearity(x.view(), &names, &[]);
        assert!((m.correlation[0][0] - 1.0).abs() < 1e-12);
        // numpy.corrcoef: r(a, c) = -0.8
        assert!((m.correlation[0][2] + 0.8).abs() < 1e-12, "{}", m.correlation[0][2]);
        assert!(m.vif[0] > 10.0 && m.vif[1] > 10.0);
        assert!(m.warnings.iter().any(|w| w.contains("'a' and 'b'")));
        // For two features VIF = 1 / (1 - r^2).
        let two = multicollinearity(x.slice(ndarray::s![.., ..;2]).view(), &["a".into(), "c".into()], &[]);
        assert!((two.vif[0] - 1.0 / (1.0 - 0.64)).abs() < 1e-9);
    }

    #[test]
    fn exact_dependence_gives_infinite_vif() {
        let x = array![[1.0, 2.0, 0.0], [2.0, 4.0, 1.0], [3.0, 6.0, 0.0], [4.0, 8.0, 1.0]];
        let m = multicollinearity(x.view(), &["a".into(), "b".into(), "c".into()], &[]);
        assert!(m.vif[0].is_infinite());
    }

    #[test]
    fn one_hot_levels_are_not_flagged_against_each_other() {
        // A numeric feature and a three-level category (its levels sum to one on every row).
        let x = array![
            [1.0, 1.0, 0.0, 0.0],
            [2.5, 0.0, 1.0, 0.0],
            [2.0, 0.0, 0.0, 1.0],
            [4.0, 1.0, 0.0, 0.0],
            [3.0, 0.0, 1.0, 0.0],
            [7.0, 0.0, 0.0, 1.0],
            [5.0, 1.0, 0.0, 0.0]
        ];
        let names: Vec<String> = ["spend", "region=a", "region=b", "region=c"].iter().map(|s| s.to_string()).collect();
        let naive = multicollinearity(x.view(), &names, &[]);
        assert!(naive.vif.iter().all(|v| v.is_infinite()), "without the groups every VIF is infinite");
        let m = multicollinearity(x.view(), &names, &[vec![1, 2, 3]]);
        assert!(m.vif[3].is_nan(), "the reference level");
        assert!(m.vif[..3].iter().all(|v| v.is_finite() && *v < 10.0), "{:?}", m.vif);
        assert!(m.warnings.is_empty(), "{:?}", m.warnings);
        // VIF of spend = 1 / (1 - R²) of spend on the two kept levels (ordinary least squares by
        // hand: group means 3.333, 2.75, 4.5; R² = 0.1052).
        let mean = x.column(0).mean().unwrap();
        let fitted = [10.0 / 3.0, 2.75, 4.5, 10.0 / 3.0, 2.75, 4.5, 10.0 / 3.0];
        let ss_res: f64 = x.column(0).iter().zip(fitted).map(|(y, f)| (y - f) * (y - f)).sum();
        let ss_tot: f64 = x.column(0).iter().map(|y| (y - mean) * (y - mean)).sum();
        let want = 1.0 / (ss_res / ss_tot);
        assert!((m.vif[0] - want).abs() < 1e-9, "{} vs {want}", m.vif[0]);
    }
}
