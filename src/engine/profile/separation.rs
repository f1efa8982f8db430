//! How strongly each feature separates the segments. For a numeric feature: one-way ANOVA (F, p and
//! eta squared, the share of the variance between segments) and Kruskal-Wallis (H with scipy's tie
//! correction, p and epsilon squared = H / (n - 1)), which does not assume normal segments. For a
//! categorical one: the chi-square test of the segment x category table with Cramer's V.
//!
//! Customers without a segment or without a value are left out of that feature's test. Values a
//! test cannot give (one segment, no variance at all) are NaN, written as null in JSON.

use polars::prelude::{DataFrame, DataType};
use serde::{Deserialize, Serialize};

use crate::engine::data::quality::numeric_values;
use crate::engine::error::DataError;
use crate::engine::stats::{chi_square_sf, f_sf};

/// A numeric feature's separation of the segments.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NumericSeparation {
    /// The feature.
    pub feature: String,
    /// Customers with a segment and a value.
    pub n: usize,
    /// ANOVA's F statistic.
    pub anova_f: f64,
    /// Its p-value.
    pub anova_p: f64,
    /// Between-segment sum of squares over the total: 0 (no separation) to 1.
    pub eta_squared: f64,
    /// Kruskal-Wallis H (ties corrected).
    pub kruskal_h: f64,
    /// Its p-value (chi-square with segments - 1 degrees of freedom).
    pub kruskal_p: f64,
    /// H / (n - 1): 0 to 1.
    pub epsilon_squared: f64,
}

/// A categorical feature's separation of the segments.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CategoricalSeparation {
    /// The feature.
    pub feature: String,
    /// Customers with a segment and a value.
    pub n: usize,
    /// Pearson's chi-square of the segment x category table.
    pub chi_square: f64,
    /// Its p-value.
    pub chi_square_p: f64,
    /// Degrees of freedom, (segments - 1) x (categories - 1).
    pub degrees_of_freedom: usize,
    /// sqrt(chi-square / (n x (min(segments, categories) - 1))): 0 to 1.
    pub cramers_v: f64,
}

/// Either kind, as `strata profile --json` writes it (flat).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FeatureSeparation {
    /// A numeric feature.
    Numeric(NumericSeparation),
    /// A categorical feature.
    Categorical(CategoricalSeparation),
}

impl FeatureSeparation {
    /// The feature's name.
    pub fn feature(&self) -> &str {
        match self {
            FeatureSeparation::Numeric(s) => &s.feature,
            FeatureSeparation::Categorical(s) => &s.feature,
        }
    }

    /// The effect size, 0 to 1, to sort features by: eta squared or Cramer's V.
    pub fn effect_size(&self) -> f64 {
        match self {
            FeatureSeparation::Numeric(s) => s.eta_squared,
            FeatureSeparation::Categorical(s) => s.cramers_v,
        }
    }
}

/// The separation of every feature of `frame` listed in `features`: categorical when the column is
/// not numeric or is listed in `categorical`, numeric otherwise. In the order given.
pub fn separation_of(
    frame: &DataFrame,
    features: &[String],
    categorical: &[String],
    segments: &[Option<usize>],
) -> Result<Vec<FeatureSeparation>, DataError> {
    // Features in parallel (each ranks every customer's value), collected in their order.
    use rayon::prelude::*;
    features
        .par_iter()
        .map(|name| {
            let column = crate::engine::data::column(frame, name)?;
            if categorical.contains(name) || !column.dtype().is_primitive_numeric() {
                let text = column.cast(&DataType::String)?;
                let values: Vec<Option<String>> = text.str()?.iter().map(|v| v.map(str::to_string)).collect();
                Ok(FeatureSeparation::Categorical(categorical_separation(name, &values, segments)))
            } else {
                let values = numeric_values(column)?;
                Ok(FeatureSeparation::Numeric(numeric_separation(name, &values, segments)))
            }
        })
        .collect()
}

/// Per segment `0..k`, the commonest value of a categorical feature and the share of the segment's
/// customers (with a value) that have it; `None` for a segment without values. Ties go to the
/// value first in text order.
pub fn segment_modes(values: &[Option<String>], segments: &[Option<usize>], k: usize) -> Vec<Option<(String, f64)>> {
    let mut counts: Vec<std::collections::BTreeMap<&str, usize>> = vec![Default::default(); k];
    for (s, v) in segments.iter().zip(values) {
        if let (Some(s), Some(v)) = (s, v)
            && *s < k
        {
            *counts[*s].entry(v.as_str()).or_default() += 1;
        }
    }
    counts
        .iter()
        .map(|c| {
            let total: usize = c.values().sum();
            let best = c.iter().fold(None::<(&str, usize)>, |best, (v, n)| match best {
                Some((_, m)) if m >= *n => best,
                _ => Some((v, *n)),
            });
            best.map(|(v, n)| (v.to_string(), n as f64 / total as f64))
        })
        .collect()
}

/// Ranks kept by the values they rank: up to 64 million of them (512 MB).
static RANKS: crate::engine::memo::Memo<(Vec<f64>, f64)> = crate::engine::memo::Memo::new(64 << 20);

/// Average ranks (1-based) of `values`, ties sharing their mean rank, and scipy's tie correction
/// 1 - sum(t^3 - t) / (n^3 - n).
fn ranks(values: &[f64]) -> (Vec<f64>, f64) {
    let n = values.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; n];
    let mut ties = 0.0f64;
    let mut i = 0;
    while i < n {
        let mut j = i + 1;
        while j < n && values[order[j]] == values[order[i]] {
            j += 1;
        }
        let mean_rank = (i + 1 + j) as f64 / 2.0;
        for &o in &order[i..j] {
            ranks[o] = mean_rank;
        }
        let t = (j - i) as f64;
        ties += t * t * t - t;
        i = j;
    }
    let nf = n as f64;
    let correction = if n > 1 { 1.0 - ties / (nf * nf * nf - nf) } else { f64::NAN };
    (ranks, correction)
}

/// ANOVA and Kruskal-Wallis of one numeric feature over the segments (`None` segment or value:
/// left out).
pub fn numeric_separation(feature: &str, values: &[Option<f64>], segments: &[Option<usize>]) -> NumericSeparation {
    let pairs: Vec<(usize, f64)> = segments
        .iter()
        .zip(values)
        .filter_map(|(s, v)| match (s, v) {
            (Some(s), Some(v)) if v.is_finite() => Some((*s, *v)),
            _ => None,
        })
        .collect();
    let n = pairs.len();
    let k_max = pairs.iter().map(|p| p.0 + 1).max().unwrap_or(0);
    let mut count = vec![0usize; k_max];
    let mut sum = vec![0.0f64; k_max];
    for &(s, v) in &pairs {
        count[s] += 1;
        sum[s] += v;
    }
    let groups = count.iter().filter(|&&c| c > 0).count();
    let nan = NumericSeparation {
        feature: feature.to_string(),
        n,
        anova_f: f64::NAN,
        anova_p: f64::NAN,
        eta_squared: f64::NAN,
        kruskal_h: f64::NAN,
        kruskal_p: f64::NAN,
        epsilon_squared: f64::NAN,
    };
    if groups < 2 || n <= groups {
        return nan;
    }
    let grand = sum.iter().sum::<f64>() / n as f64;
    let means: Vec<f64> = sum.iter().zip(&count).map(|(s, &c)| if c > 0 { s / c as f64 } else { 0.0 }).collect();
    let ss_between: f64 = means.iter().zip(&count).map(|(m, &c)| c as f64 * (m - grand) * (m - grand)).sum();
    let ss_within: f64 = pairs.iter().map(|&(s, v)| (v - means[s]) * (v - means[s])).sum();
    let ss_total = ss_between + ss_within;
    let (df1, df2) = ((groups - 1) as f64, (n - groups) as f64);
    let anova_f = (ss_between / df1) / (ss_within / df2);
    let anova_p = if anova_f.is_nan() { f64::NAN } else { f_sf(anova_f, df1, df2) };
    let eta_squared = if ss_total > 0.0 { ss_between / ss_total } else { f64::NAN };
    let values: Vec<f64> = pairs.iter().map(|p| p.1).collect();
    // The ranks depend on the values alone (in customer order): a new k or rule reuses them.
    let kept =
        RANKS.get_or_compute(crate::engine::memo::values_key(b"ranks", &values), values.len(), || ranks(&values));
    let (r, correction) = (&kept.0, kept.1);
    let mut rank_sum = vec![0.0f64; k_max];
    for (&(s, _), rank) in pairs.iter().zip(r) {
        rank_sum[s] += rank;
    }
    let nf = n as f64;
    let h_raw = 12.0 / (nf * (nf + 1.0))
        * rank_sum.iter().zip(&count).filter(|(_, c)| **c > 0).map(|(r, &c)| r * r / c as f64).sum::<f64>()
        - 3.0 * (nf + 1.0);
    let kruskal_h = if correction > 0.0 { h_raw / correction } else { f64::NAN };
    let kruskal_p = if kruskal_h.is_nan() { f64::NAN } else { chi_square_sf(kruskal_h, df1) };
    NumericSeparation {
        anova_f,
        anova_p,
        eta_squared,
        kruskal_h,
        kruskal_p,
        epsilon_squared: kruskal_h / (nf - 1.0),
        ..nan
    }
}

/// The chi-square test of segment against one categorical feature's values.
pub fn categorical_separation(
    feature: &str,
    values: &[Option<String>],
    segments: &[Option<usize>],
) -> CategoricalSeparation {
    let mut categories: Vec<&str> = values.iter().flatten().map(String::as_str).collect();
    categories.sort_unstable();
    categories.dedup();
    let k_max = segments.iter().flatten().map(|s| s + 1).max().unwrap_or(0);
    let mut table = vec![vec![0u64; categories.len()]; k_max];
    let mut n = 0usize;
    for (s, v) in segments.iter().zip(values) {
        if let (Some(s), Some(v)) = (s, v)
            && let Ok(c) = categories.binary_search(&v.as_str())
        {
            table[*s][c] += 1;
            n += 1;
        }
    }
    let row_totals: Vec<u64> = table.iter().map(|r| r.iter().sum()).collect();
    let column_totals: Vec<u64> = (0..categories.len()).map(|c| table.iter().map(|r| r[c]).sum()).collect();
    let rows: Vec<usize> = (0..k_max).filter(|&s| row_totals[s] > 0).collect();
    let columns: Vec<usize> = (0..categories.len()).filter(|&c| column_totals[c] > 0).collect();
    let mut out = CategoricalSeparation {
        feature: feature.to_string(),
        n,
        chi_square: f64::NAN,
        chi_square_p: f64::NAN,
        degrees_of_freedom: 0,
        cramers_v: f64::NAN,
    };
    if rows.len() < 2 || columns.len() < 2 {
        return out;
    }
    let nf = n as f64;
    let mut chi = 0.0;
    for &s in &rows {
        for &c in &columns {
            let expected = row_totals[s] as f64 * column_totals[c] as f64 / nf;
            let diff = table[s][c] as f64 - expected;
            chi += diff * diff / expected;
        }
    }
    let df = (rows.len() - 1) * (columns.len() - 1);
    out.chi_square = chi;
    out.chi_square_p = chi_square_sf(chi, df as f64);
    out.degrees_of_freedom = df;
    out.cramers_v = (chi / (nf * (rows.len().min(columns.len()) - 1) as f64)).sqrt();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1e-300)
    }

    #[test]
    fn numeric_tests_match_scipy() {
        // scipy 1.17.1: f_oneway(a, b, c) and kruskal(a, b, c) on these three groups (with ties).
        let groups: [&[f64]; 3] = [&[1.0, 2.0, 2.0, 3.0, 4.0], &[2.0, 3.0, 5.0, 5.0, 6.0, 7.0], &[6.0, 7.0, 8.0, 9.0]];
        let mut values = Vec::new();
        let mut segments = Vec::new();
        for (s, g) in groups.iter().enumerate() {
            for &v in *g {
                values.push(Some(v));
                segments.push(Some(s));
            }
        }
        // A customer without a segment and one without a value are left out.
        values.extend([Some(100.0), None]);
        segments.extend([None, Some(0)]);
        let got = numeric_separation("x", &values, &segments);
        assert_eq!(got.n, 15);
        assert!(close(got.anova_f, 12.595641646489103), "{}", got.anova_f);
        assert!(close(got.anova_p, 0.0011283413192200015), "{}", got.anova_p);
        assert!(close(got.kruskal_h, 9.337983091787445), "{}", got.kruskal_h);
        assert!(close(got.kruskal_p, 0.009381725798001964), "{}", got.kruskal_p);
        // eta squared = SSB / SST, epsilon squared = H / (n - 1).
        assert!(close(got.eta_squared, 0.67734375), "{}", got.eta_squared);
        assert!(close(got.epsilon_squared, got.kruskal_h / 14.0));
    }

    #[test]
    fn categorical_test_matches_scipy() {
        // scipy.stats.chi2_contingency([[10, 20, 5], [30, 5, 5]], correction=False).
        let mut values = Vec::new();
        let mut segments = Vec::new();
        for (s, row) in [[10, 20, 5], [30, 5, 5]].iter().enumerate() {
            for (c, &count) in row.iter().enumerate() {
                for _ in 0..count {
                    values.push(Some(["a", "b", "c"][c].to_string()));
                    segments.push(Some(s));
                }
            }
        }
        let got = categorical_separation("channel", &values, &segments);
        assert_eq!((got.n, got.degrees_of_freedom), (75, 2));
        assert!(close(got.chi_square, 18.750000000000004), "{}", got.chi_square);
        assert!(close(got.chi_square_p, 8.481823524646903e-05), "{}", got.chi_square_p);
        assert!(close(got.cramers_v, (got.chi_square / 75.0).sqrt()));
    }

    #[test]
    fn what_cannot_be_tested_is_nan_not_a_panic() {
        let one_segment = numeric_separation("x", &[Some(1.0), Some(2.0)], &[Some(0), Some(0)]);
        assert!(one_segment.anova_f.is_nan() && one_segment.kruskal_h.is_nan());
        let constant = numeric_separation("x", &[Some(1.0); 4], &[Some(0), Some(0), Some(1), Some(1)]);
        assert!(constant.eta_squared.is_nan() && constant.kruskal_h.is_nan());
        let empty = numeric_separation("x", &[], &[]);
        assert_eq!(empty.n, 0);
        let one_category = categorical_separation("c", &[Some("a".into()), Some("a".into())], &[Some(0), Some(1)]);
        assert!(one_category.chi_square.is_nan());
        let json = serde_json::to_string(&FeatureSeparation::Numeric(constant)).unwrap();
        assert!(json.contains("\"eta_squared\":null"), "{json}");
    }
}
