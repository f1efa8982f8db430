//! How two segmentations of the same customers relate: their cross-tabulation, the adjusted Rand
//! index and the adjusted mutual information, each as scikit-learn defines it
//! (`adjusted_rand_score`, `adjusted_mutual_info_score` with the arithmetic mean).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::engine::error::ClusterError;

/// Customers per pair of labels: rows are the first segmentation's labels, columns the second's.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Crosstab {
    /// The first segmentation's labels, in natural order (numbers by value, then text).
    pub row_labels: Vec<String>,
    /// The second segmentation's labels, in the same order.
    pub column_labels: Vec<String>,
    /// `counts[row][column]`.
    pub counts: Vec<Vec<u64>>,
}

/// Two labelings of the same customers cross-tabulated, with the names their labels are shown by.
#[derive(Clone, Debug, PartialEq)]
pub struct NamedCrosstab {
    /// Customers per pair of labels.
    pub crosstab: Crosstab,
    /// The rows' names, in the cross-tabulation's order.
    pub row_names: Vec<String>,
    /// The columns' names.
    pub column_names: Vec<String>,
    /// Customers without both labels, left out.
    pub left_out: usize,
}

/// Cross-tabulates `a` against `b` (one label per customer, `None` without one; the same customers
/// in the same order): a label that is a segment number shows as its name in `names_a` or
/// `names_b` when it has one, any other label as itself.
pub fn named_crosstab(
    a: Vec<Option<String>>,
    names_a: &[String],
    b: Vec<Option<String>>,
    names_b: &[String],
) -> Result<NamedCrosstab, ClusterError> {
    if a.len() != b.len() {
        return Err(ClusterError::BadLabels(format!(
            "{} labels against {}: they must describe the same customers",
            a.len(),
            b.len()
        )));
    }
    let total = a.len();
    let (x, y): (Vec<String>, Vec<String>) = a.into_iter().zip(b).filter_map(|(x, y)| Some((x?, y?))).unzip();
    let crosstab = Crosstab::of(&x, &y)?;
    let display = |labels: &[String], names: &[String]| -> Vec<String> {
        labels
            .iter()
            .map(|l| l.parse::<usize>().ok().and_then(|s| names.get(s)).cloned().unwrap_or_else(|| l.clone()))
            .collect()
    };
    Ok(NamedCrosstab {
        row_names: display(&crosstab.row_labels, names_a),
        column_names: display(&crosstab.column_labels, names_b),
        left_out: total - x.len(),
        crosstab,
    })
}

/// Segment per customer as the labels [`named_crosstab`] takes (the segment's number as text).
pub fn segment_labels(segments: &[Option<usize>]) -> Vec<Option<String>> {
    segments.iter().map(|s| s.map(|s| s.to_string())).collect()
}

/// Cross-tabulations larger than this are refused (a column of ids compared by mistake).
const MAX_CELLS: usize = 4_000_000;

/// The distinct labels in natural order, and each label's position among them.
pub fn label_index(labels: &[String]) -> (Vec<String>, BTreeMap<&str, usize>) {
    let mut distinct: Vec<&str> = labels.iter().map(String::as_str).collect();
    distinct.sort_by(|x, y| natural_order(x, y));
    distinct.dedup();
    let position = distinct.iter().enumerate().map(|(i, l)| (*l, i)).collect();
    (distinct.iter().map(|s| s.to_string()).collect(), position)
}

/// Orders labels as a person reads them: numbers by value, before other text in text order.
fn natural_order(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.trim().parse::<f64>(), b.trim().parse::<f64>()) {
        (Ok(x), Ok(y)) => x.total_cmp(&y).then_with(|| a.cmp(b)),
        (Ok(_), Err(_)) => std::cmp::Ordering::Less,
        (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
        (Err(_), Err(_)) => a.cmp(b),
    }
}

impl Crosstab {
    /// The cross-tabulation of two labelings of the same customers, in the same order.
    pub fn of(a: &[String], b: &[String]) -> Result<Self, ClusterError> {
        if a.len() != b.len() {
            return Err(ClusterError::BadLabels(format!(
                "{} labels against {}: they must describe the same customers",
                a.len(),
                b.len()
            )));
        }
        if a.is_empty() {
            return Err(ClusterError::BadLabels("no customer has both labels".to_string()));
        }
        let (row_labels, rows) = label_index(a);
        let (column_labels, columns) = label_index(b);
        if row_labels.len().saturating_mul(column_labels.len()) > MAX_CELLS {
            return Err(ClusterError::BadLabels(format!(
                "{} labels against {}: too many to cross-tabulate; these look like ids, not segments",
                row_labels.len(),
                column_labels.len()
            )));
        }
        let mut counts = vec![vec![0u64; column_labels.len()]; row_labels.len()];
        for (x, y) in a.iter().zip(b) {
            counts[rows[x.as_str()]][columns[y.as_str()]] += 1;
        }
        Ok(Self { row_labels, column_labels, counts })
    }

    /// Customers counted.
    pub fn n(&self) -> u64 {
        self.counts.iter().flatten().sum()
    }

    fn row_sums(&self) -> Vec<u64> {
        self.counts.iter().map(|r| r.iter().sum()).collect()
    }

    fn column_sums(&self) -> Vec<u64> {
        (0..self.column_labels.len()).map(|j| self.counts.iter().map(|r| r[j]).sum()).collect()
    }

    /// Adjusted Rand index: 1 for the same partition, about 0 for independent ones.
    pub fn adjusted_rand_index(&self) -> f64 {
        // scikit-learn's pair confusion matrix, in f64 (pair counts reach n^2).
        let n = self.n() as f64;
        let (row_sums, column_sums) = (self.row_sums(), self.column_sums());
        let mut sum_squares = 0.0;
        let mut by_column = 0.0;
        let mut by_row = 0.0;
        for (i, row) in self.counts.iter().enumerate() {
            for (j, &c) in row.iter().enumerate() {
                let c = c as f64;
                sum_squares += c * c;
                by_column += c * column_sums[j] as f64;
                by_row += c * row_sums[i] as f64;
            }
        }
        let tp = sum_squares - n;
        let fp = by_column - sum_squares;
        let fn_ = by_row - sum_squares;
        let tn = n * n - fp - fn_ - sum_squares;
        if fn_ == 0.0 && fp == 0.0 {
            return 1.0;
        }
        2.0 * (tp * tn - fn_ * fp) / ((tp + fn_) * (fn_ + tn) + (tp + fp) * (fp + tn))
    }

    /// Adjusted mutual information (arithmetic normalisation): 1 for the same partition, about 0
    /// for independent ones, corrected for the agreement chance alone gives.
    pub fn adjusted_mutual_information(&self) -> f64 {
        let (r, c) = (self.row_labels.len(), self.column_labels.len());
        if (r == 1 && c == 1) || (r == 0 && c == 0) {
            return 1.0;
        }
        let mi = self.mutual_information();
        let emi = self.expected_mutual_information();
        let (h_rows, h_columns) = (entropy(&self.row_sums()), entropy(&self.column_sums()));
        let normaliser = (h_rows + h_columns) / 2.0;
        let mut denominator = normaliser - emi;
        denominator = if denominator < 0.0 { denominator.min(-f64::EPSILON) } else { denominator.max(f64::EPSILON) };
        (mi - emi) / denominator
    }

    /// Mutual information in nats.
    pub fn mutual_information(&self) -> f64 {
        let n = self.n() as f64;
        let (row_sums, column_sums) = (self.row_sums(), self.column_sums());
        let mut mi = 0.0;
        for (i, row) in self.counts.iter().enumerate() {
            for (j, &count) in row.iter().enumerate() {
                if count == 0 {
                    continue;
                }
                let p = count as f64 / n;
                mi += p * ((count as f64).ln() - n.ln())
                    + p * (n.ln() + n.ln() - (row_sums[i] as f64 * column_sums[j] as f64).ln());
            }
        }
        mi.max(0.0)
    }

    /// The mutual information expected of two random labelings with these segment sizes
    /// (Vinh, Epps and Bailey 2009), as scikit-learn computes it.
    pub fn expected_mutual_information(&self) -> f64 {
        let (a, b) = (self.row_sums(), self.column_sums());
        if a.len() == 1 || b.len() == 1 {
            return 0.0;
        }
        let n = self.n();
        let n_f = n as f64;
        let gln_n = libm::lgamma(n_f + 1.0);
        let mut emi = 0.0;
        for &ai in &a {
            for &bj in &b {
                let start = (ai + bj).saturating_sub(n).max(1);
                let end = ai.min(bj);
                let (ai_f, bj_f) = (ai as f64, bj as f64);
                let fixed = libm::lgamma(ai_f + 1.0)
                    + libm::lgamma(bj_f + 1.0)
                    + libm::lgamma(n_f - ai_f + 1.0)
                    + libm::lgamma(n_f - bj_f + 1.0)
                    - gln_n;
                for nij in start..=end {
                    let nij_f = nij as f64;
                    let term1 = nij_f / n_f;
                    let term2 = (n_f.ln() + nij_f.ln()) - ai_f.ln() - bj_f.ln();
                    let gln = fixed
                        - libm::lgamma(nij_f + 1.0)
                        - libm::lgamma(ai_f - nij_f + 1.0)
                        - libm::lgamma(bj_f - nij_f + 1.0)
                        - libm::lgamma(n_f - ai_f - bj_f + nij_f + 1.0);
                    emi += term1 * term2 * gln.exp();
                }
            }
        }
        emi
    }
}

/// Entropy in nats of a labeling with these segment sizes.
fn entropy(sizes: &[u64]) -> f64 {
    let n: u64 = sizes.iter().sum();
    if n == 0 {
        return 1.0;
    }
    let n = n as f64;
    -sizes.iter().filter(|&&s| s > 0).map(|&s| (s as f64 / n) * ((s as f64).ln() - n.ln())).sum::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_same_partition_under_other_names_agrees_fully() {
        let a = labels(&["0", "0", "1", "1", "2", "2"]);
        let b = labels(&["x", "x", "y", "y", "z", "z"]);
        let t = Crosstab::of(&a, &b).unwrap();
        assert_eq!(t.adjusted_rand_index(), 1.0);
        assert!((t.adjusted_mutual_information() - 1.0).abs() < 1e-12);
        assert_eq!(t.counts, vec![vec![2, 0, 0], vec![0, 2, 0], vec![0, 0, 2]]);
    }

    /// Values from scikit-learn 1.9.1 (`adjusted_rand_score`, `adjusted_mutual_info_score`) on the
    /// same labelings, generated alike in Python.
    #[test]
    fn agrees_with_scikit_learn() {
        let strings = |v: Vec<usize>| v.into_iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let first = |n: usize| (0..n).map(|i| (i * 7 + i * i * 3) % 4).collect::<Vec<_>>();
        let cases: [(Vec<usize>, Vec<usize>, f64, f64); 3] = [
            (vec![0, 0, 1, 1, 1, 2, 2, 2, 2, 3], vec![1, 1, 0, 0, 2, 2, 2, 1, 0, 0], 0.04, 0.08763824985504956),
            (
                first(500),
                (0..500).map(|i| if i % 5 != 0 { (i * 7 + i * i * 3) % 4 } else { (i * 11 + i / 3) % 6 }).collect(),
                0.6423711680508402,
                0.48728385352483816,
            ),
            (
                first(2000),
                (0..2000).map(|i| (i * 13 + i / 7) % 6).collect(),
                -0.0008270268837283424,
                -0.001007952105604221,
            ),
        ];
        for (a, b, ari, ami) in cases {
            let t = Crosstab::of(&strings(a), &strings(b)).unwrap();
            assert!((t.adjusted_rand_index() - ari).abs() < 1e-12, "{} vs {ari}", t.adjusted_rand_index());
            assert!(
                (t.adjusted_mutual_information() - ami).abs() < 1e-9,
                "{} vs {ami}",
                t.adjusted_mutual_information()
            );
        }
    }

    #[test]
    fn labels_sort_numbers_by_value_before_text() {
        let t = Crosstab::of(&labels(&["10", "9", "b", "a"]), &labels(&["1", "1", "1", "1"])).unwrap();
        assert_eq!(t.row_labels, vec!["9", "10", "a", "b"]);
    }

    #[test]
    fn lengths_must_match_something_must_be_counted_and_ids_are_not_segments() {
        assert!(Crosstab::of(&labels(&["a"]), &labels(&[])).is_err());
        assert!(Crosstab::of(&[], &[]).is_err());
        let ids: Vec<String> = (0..3000).map(|i| i.to_string()).collect();
        let message = Crosstab::of(&ids, &ids).unwrap_err().to_string();
        assert!(message.contains("look like ids"), "{message}");
    }
}
