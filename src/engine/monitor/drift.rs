//! Drift of one feature or of the segment shares between a frozen reference and a new period: the
//! population stability index with its per-bin table, the rule-of-thumb band, and a p-value that
//! knows the sample sizes.
//!
//! Bins are frozen when a version is published (the reference customers' deciles for a number;
//! its categories plus "missing" and "unseen" for a category), so a period's PSI depends only on
//! that period's customers, in any order. An empty bin counts as half a customer of its sample
//! (share 0.5 / n) before the logarithm, and the table says so. The p-value is Yurdakul's (2018):
//! when both samples come from the same distribution, PSI / (1/N + 1/M) is approximately
//! chi-square with B - 1 degrees of freedom (B the bins either sample fills).

use serde::{Deserialize, Serialize};

use crate::engine::data::quality::quantile_sorted;

/// The label of the bin for a missing (or not finite) value.
pub const MISSING: &str = "(missing)";
/// The label of the bin for a category the reference customers never had.
pub const UNSEEN: &str = "(unseen)";
/// The label of the bin for the reference's categories beyond [`MAX_LEVELS`].
pub const OTHER: &str = "(other reference levels)";
/// Categories kept as bins of their own, most frequent first.
pub const MAX_LEVELS: usize = 50;
/// The significance level of the plain verdict.
pub const ALPHA: f64 = 0.05;

/// One feature's frozen bins with the reference customers' counts in them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrozenBins {
    /// The input column.
    pub column: String,
    /// How a value finds its bin.
    pub kind: BinKind,
    /// The reference customers per bin (the order of [`FrozenBins::labels`]).
    pub counts: Vec<u64>,
}

/// Numbers by edges, or text by levels.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum BinKind {
    /// Bin i holds the values above edge i-1 and at most edge i (the first from minus infinity,
    /// the last to plus infinity), then a bin for missing values.
    Numeric {
        /// The rising, distinct reference deciles.
        edges: Vec<f64>,
    },
    /// One bin per level, then the reference's rarer levels, then missing, then unseen.
    Categorical {
        /// The levels with a bin of their own.
        levels: Vec<String>,
        /// Every other level the reference customers had (in the "other reference levels" bin).
        other: Vec<String>,
    },
}

impl FrozenBins {
    /// Bins of a numeric column frozen at the deciles of `values` (missing: `None` or not finite).
    pub fn numeric(column: &str, values: &[Option<f64>]) -> Self {
        let mut finite: Vec<f64> = values.iter().flatten().copied().filter(|v| v.is_finite()).collect();
        finite.sort_by(f64::total_cmp);
        let mut edges: Vec<f64> = Vec::new();
        if !finite.is_empty() {
            for q in 1..10 {
                let e = quantile_sorted(&finite, f64::from(q) / 10.0);
                if edges.last().is_none_or(|&last| e > last) {
                    edges.push(e);
                }
            }
        }
        let mut bins = Self { column: column.to_string(), kind: BinKind::Numeric { edges }, counts: Vec::new() };
        bins.counts = bins.count_numeric(values);
        bins
    }

    /// Bins of a text column: its levels (the [`MAX_LEVELS`] most frequent, ties by text), the
    /// rest together, missing (`None` or blank) and unseen.
    pub fn categorical(column: &str, values: &[Option<String>]) -> Self {
        let mut tally: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
        for v in values.iter().flatten() {
            let v = v.trim();
            if !v.is_empty() {
                *tally.entry(v).or_default() += 1;
            }
        }
        let mut levels: Vec<(&str, u64)> = tally.into_iter().collect();
        levels.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let other: Vec<String> = levels.iter().skip(MAX_LEVELS).map(|(l, _)| l.to_string()).collect();
        let mut other_sorted = other;
        other_sorted.sort();
        let levels = levels.iter().take(MAX_LEVELS).map(|(l, _)| l.to_string()).collect();
        let mut bins = Self {
            column: column.to_string(),
            kind: BinKind::Categorical { levels, other: other_sorted },
            counts: Vec::new(),
        };
        bins.counts = bins.count_text(values);
        bins
    }

    /// The bins' labels, in order.
    pub fn labels(&self) -> Vec<String> {
        match &self.kind {
            BinKind::Numeric { edges } => {
                let mut labels = Vec::with_capacity(edges.len() + 2);
                for i in 0..=edges.len() {
                    labels.push(match (i.checked_sub(1).map(|j| edges[j]), edges.get(i)) {
                        (None, Some(hi)) => format!("<= {hi}"),
                        (Some(lo), Some(hi)) => format!("({lo}, {hi}]"),
                        (Some(lo), None) => format!("> {lo}"),
                        (None, None) => "any number".to_string(),
                    });
                }
                labels.push(MISSING.to_string());
                labels
            }
            BinKind::Categorical { levels, other } => {
                let mut labels = levels.clone();
                if !other.is_empty() {
                    labels.push(OTHER.to_string());
                }
                labels.push(MISSING.to_string());
                labels.push(UNSEEN.to_string());
                labels
            }
        }
    }

    /// Customers per bin of numeric `values`.
    pub fn count_numeric(&self, values: &[Option<f64>]) -> Vec<u64> {
        let n_bins = self.labels().len();
        let mut counts = vec![0u64; n_bins];
        match &self.kind {
            BinKind::Numeric { edges } => {
                for v in values {
                    match v.filter(|v| v.is_finite()) {
                        Some(v) => counts[edges.partition_point(|&e| e < v)] += 1,
                        None => counts[n_bins - 1] += 1,
                    }
                }
            }
            // A categorical feature read from numbers: each number as its text.
            BinKind::Categorical { .. } => {
                let text: Vec<Option<String>> =
                    values.iter().map(|v| v.filter(|v| v.is_finite()).map(|v| v.to_string())).collect();
                return self.count_text(&text);
            }
        }
        counts
    }

    /// Customers per bin of text `values`.
    pub fn count_text(&self, values: &[Option<String>]) -> Vec<u64> {
        match &self.kind {
            BinKind::Categorical { levels, other } => {
                let n_bins = self.labels().len();
                let mut counts = vec![0u64; n_bins];
                let index: std::collections::HashMap<&str, usize> =
                    levels.iter().enumerate().map(|(i, l)| (l.as_str(), i)).collect();
                for v in values {
                    let v = v.as_deref().map(str::trim).filter(|v| !v.is_empty());
                    let bin = match v {
                        None => n_bins - 2,
                        Some(v) => match index.get(v) {
                            Some(&i) => i,
                            None if other.binary_search_by(|o| o.as_str().cmp(v)).is_ok() => levels.len(),
                            None => n_bins - 1,
                        },
                    };
                    counts[bin] += 1;
                }
                counts
            }
            // A numeric feature read from text: numbers parsed, the rest missing.
            BinKind::Numeric { .. } => {
                let numbers: Vec<Option<f64>> =
                    values.iter().map(|v| v.as_deref().and_then(|t| t.trim().parse::<f64>().ok())).collect();
                self.count_numeric(&numbers)
            }
        }
    }
}

/// One bin of a PSI table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BinRow {
    /// What the bin holds.
    pub label: String,
    /// Reference customers in it.
    pub expected_count: u64,
    /// Their share (as counted, before smoothing).
    pub expected_share: f64,
    /// New customers in it.
    pub actual_count: u64,
    /// Their share (as counted, before smoothing).
    pub actual_share: f64,
    /// (actual - expected) * ln(actual / expected), with the smoothed shares.
    pub contribution: f64,
}

/// The rule-of-thumb band of a PSI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Band {
    /// Below the warn threshold.
    Stable,
    /// From the warn threshold.
    Warn,
    /// From the act threshold.
    Act,
}

impl Band {
    /// The band of `psi` against the thresholds.
    pub fn of(psi: f64, thresholds: &Thresholds) -> Band {
        if psi >= thresholds.psi_act {
            Band::Act
        } else if psi >= thresholds.psi_warn {
            Band::Warn
        } else {
            Band::Stable
        }
    }

    /// Its word.
    pub fn word(self) -> &'static str {
        match self {
            Band::Stable => "stable",
            Band::Warn => "warn",
            Band::Act => "act",
        }
    }
}

/// A p-value for reading (the JSON has it at full precision).
pub fn p_words(p: f64) -> String {
    if p.is_nan() {
        "-".into()
    } else if p < 1e-300 {
        "< 1e-300".into()
    } else if p < 0.001 {
        format!("= {p:.1e}")
    } else {
        format!("= {p:.3}")
    }
}

/// The thresholds alerts fire at, stored in the project.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// PSI from which a feature or the segment shares warn.
    pub psi_warn: f64,
    /// PSI from which they call for action.
    pub psi_act: f64,
    /// Named segments whose retention may not fall more than this many percentage points from the
    /// previous monitored period.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retention: Vec<(String, f64)>,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self { psi_warn: 0.1, psi_act: 0.25, retention: Vec::new() }
    }
}

impl Thresholds {
    /// Checks the thresholds are usable numbers in order.
    pub fn check(&self) -> Result<(), String> {
        if !(self.psi_warn.is_finite()
            && self.psi_act.is_finite()
            && 0.0 < self.psi_warn
            && self.psi_warn <= self.psi_act)
        {
            return Err(format!(
                "PSI thresholds warn {} and act {} must be positive numbers with warn at most act",
                self.psi_warn, self.psi_act
            ));
        }
        for (name, points) in &self.retention {
            if !(points.is_finite() && (0.0..=100.0).contains(points)) || name.trim().is_empty() {
                return Err(format!("retention threshold '{name}={points}': a segment name and 0 to 100 points"));
            }
        }
        Ok(())
    }
}

/// A PSI with its table, band, p-value and verdict.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Psi {
    /// What was compared (a column, or "segment shares").
    pub what: String,
    /// Reference customers.
    pub n_expected: u64,
    /// New customers.
    pub n_actual: u64,
    /// The index.
    pub psi: f64,
    /// Per bin.
    pub bins: Vec<BinRow>,
    /// How empty bins were smoothed.
    pub smoothing: String,
    /// The band by the thresholds.
    pub band: Band,
    /// Degrees of freedom of the chi-square approximation.
    pub df: u64,
    /// P(PSI at least this large | same distribution), by the chi-square approximation.
    pub p_value: f64,
    /// A plain sentence: shifted or not, and where band and p-value disagree.
    pub verdict: String,
}

/// How empty bins are smoothed, in words.
pub const SMOOTHING: &str = "an empty bin counts as half a customer of its sample (share 0.5 / n) before the logarithm";

/// The PSI of `actual` counts against `expected` counts in the same bins (`labels`).
pub fn psi(what: &str, labels: &[String], expected: &[u64], actual: &[u64], thresholds: &Thresholds) -> Psi {
    let n_e: u64 = expected.iter().sum();
    let n_a: u64 = actual.iter().sum();
    let share = |c: u64, n: u64| if n == 0 { 0.0 } else { c as f64 / n as f64 };
    let smoothed = |c: u64, n: u64| if c == 0 { 0.5 / n.max(1) as f64 } else { c as f64 / n as f64 };
    let mut total = 0.0;
    let mut bins = Vec::with_capacity(labels.len());
    let mut filled = 0u64;
    for (i, label) in labels.iter().enumerate() {
        let (e, a) = (expected.get(i).copied().unwrap_or(0), actual.get(i).copied().unwrap_or(0));
        let contribution = if e == 0 && a == 0 {
            0.0
        } else {
            filled += 1;
            let (se, sa) = (smoothed(e, n_e), smoothed(a, n_a));
            (sa - se) * (sa / se).ln()
        };
        total += contribution;
        bins.push(BinRow {
            label: label.clone(),
            expected_count: e,
            expected_share: share(e, n_e),
            actual_count: a,
            actual_share: share(a, n_a),
            contribution,
        });
    }
    let df = filled.saturating_sub(1).max(1);
    let p_value = if n_e == 0 || n_a == 0 {
        f64::NAN
    } else {
        let scale = 1.0 / n_e as f64 + 1.0 / n_a as f64;
        crate::engine::stats::gamma_q(df as f64 / 2.0, total / scale / 2.0)
    };
    let band = Band::of(total, thresholds);
    let verdict = verdict(total, band, p_value, n_e, n_a);
    Psi {
        what: what.to_string(),
        n_expected: n_e,
        n_actual: n_a,
        psi: total,
        bins,
        smoothing: SMOOTHING.to_string(),
        band,
        df,
        p_value,
        verdict,
    }
}

/// The plain verdict: the band and the test, and what to make of it when they disagree.
fn verdict(psi: f64, band: Band, p: f64, n_e: u64, n_a: u64) -> String {
    if n_a == 0 {
        return "no new customers to compare".into();
    }
    if n_e == 0 {
        return "no reference customers to compare with".into();
    }
    let p_words = if p < 0.001 { "p < 0.001".to_string() } else { format!("p = {p:.3}") };
    let significant = p < ALPHA;
    match (band, significant) {
        (Band::Stable, false) => {
            format!("stable: PSI {psi:.3} is below the warn band and no shift is detectable ({p_words})")
        }
        (Band::Stable, true) => format!(
            "a small but real shift: PSI {psi:.3} is below the warn band, yet with {n_a} new and {n_e} reference customers \
             it is not chance ({p_words}); the two disagree, watch it"
        ),
        (band, true) => format!("shifted: PSI {psi:.3} is in the {} band and not chance ({p_words})", band.word()),
        (band, false) => format!(
            "inconclusive: PSI {psi:.3} is in the {} band, but with {n_a} new and {n_e} reference customers a \
             difference this size arises by chance ({p_words}); the two disagree, wait for more customers before acting",
            band.word()
        ),
    }
}

/// A chi-square goodness-of-fit test of `actual` counts against `expected` shares (bins either
/// sample fills; an expected share of 0 smoothed as in [`psi`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChiSquare {
    /// The statistic.
    pub statistic: f64,
    /// Degrees of freedom.
    pub df: u64,
    /// Its upper tail.
    pub p_value: f64,
}

/// [`ChiSquare`] of `actual` counts against the shares of `expected` counts.
pub fn chi_square(expected: &[u64], actual: &[u64]) -> ChiSquare {
    let n_e: u64 = expected.iter().sum();
    let n_a: u64 = actual.iter().sum();
    let mut statistic = 0.0;
    let mut filled = 0u64;
    for (i, &e) in expected.iter().enumerate() {
        let a = actual.get(i).copied().unwrap_or(0);
        if e == 0 && a == 0 {
            continue;
        }
        filled += 1;
        let share = if e == 0 { 0.5 / n_e.max(1) as f64 } else { e as f64 / n_e.max(1) as f64 };
        let want = share * n_a as f64;
        statistic += (a as f64 - want).powi(2) / want;
    }
    let df = filled.saturating_sub(1).max(1);
    let p_value =
        if n_e == 0 || n_a == 0 { f64::NAN } else { crate::engine::stats::gamma_q(df as f64 / 2.0, statistic / 2.0) };
    ChiSquare { statistic, df, p_value }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("b{i}")).collect()
    }

    #[test]
    fn psi_matches_a_hand_computed_example_with_an_empty_bin() {
        // Expected 50/30/20 of 100, actual 40/40/0 of 80: the empty bin counts as 0.5/80.
        let t = Thresholds::default();
        let p = psi("x", &labels(3), &[50, 30, 20], &[40, 40, 0], &t);
        let by_hand = (0.5 - 0.5f64) * (0.5f64 / 0.5).ln()
            + (0.5 - 0.3) * (0.5f64 / 0.3).ln()
            + (0.5 / 80.0 - 0.2) * ((0.5 / 80.0) / 0.2f64).ln();
        assert!((p.psi - by_hand).abs() < 1e-15, "{} vs {by_hand}", p.psi);
        assert_eq!(p.bins[2].actual_share, 0.0);
        assert_eq!(p.band, Band::Act);
        assert_eq!(p.df, 2);
        // PSI / (1/100 + 1/80) is chi-square with 2 df: the tail is exp(-x/2).
        let x = by_hand / (1.0 / 100.0 + 1.0 / 80.0);
        assert!((p.p_value - (-x / 2.0).exp()).abs() < 1e-12);
        assert!(p.verdict.starts_with("shifted"), "{}", p.verdict);
    }

    #[test]
    fn identical_shares_have_no_psi_and_the_verdicts_say_when_band_and_test_disagree() {
        let t = Thresholds::default();
        let same = psi("x", &labels(2), &[10, 30], &[20, 60], &t);
        assert_eq!(same.psi, 0.0);
        assert!(same.verdict.starts_with("stable"));
        // A big PSI from a handful of customers: the band says act, the test cannot tell.
        let few = psi("x", &labels(2), &[3, 3], &[1, 4], &t);
        assert!(few.psi >= 0.25 && few.p_value > ALPHA, "{} {}", few.psi, few.p_value);
        assert!(few.verdict.starts_with("inconclusive"), "{}", few.verdict);
        // A small PSI from millions: below the band, not chance.
        let many = psi("x", &labels(2), &[5_000_000, 5_000_000], &[5_100_000, 4_900_000], &t);
        assert!(many.psi < 0.1 && many.p_value < ALPHA, "{} {}", many.psi, many.p_value);
        assert!(many.verdict.starts_with("a small but real shift"), "{}", many.verdict);
    }

    #[test]
    fn frozen_edges_bin_every_value_the_same_in_any_order_with_missing_and_unseen() {
        let values: Vec<Option<f64>> = (0..100).map(|i| Some(f64::from(i))).chain([None, Some(f64::NAN)]).collect();
        let bins = FrozenBins::numeric("x", &values);
        let BinKind::Numeric { edges } = &bins.kind else { panic!() };
        assert_eq!(edges.len(), 9);
        assert_eq!(bins.counts.len(), 11);
        assert_eq!(bins.counts.iter().sum::<u64>(), 102);
        assert_eq!(*bins.counts.last().unwrap(), 2, "None and NaN are missing");
        let new: Vec<Option<f64>> = vec![Some(-5.0), Some(1e9), Some(f64::INFINITY), Some(50.0), Some(edges[3])];
        let mut reversed = new.clone();
        reversed.reverse();
        assert_eq!(bins.count_numeric(&new), bins.count_numeric(&reversed));
        let counts = bins.count_numeric(&new);
        assert_eq!((counts[0], counts[9], counts[10], counts[3]), (1, 1, 1, 1), "{counts:?}");
        // Categories: levels, missing and unseen.
        let text: Vec<Option<String>> =
            ["a", "b", "a", "", "c"].iter().map(|s| Some(s.to_string())).chain([None]).collect();
        let cat = FrozenBins::categorical("c", &text);
        assert_eq!(cat.labels(), vec!["a", "b", "c", MISSING, UNSEEN]);
        assert_eq!(cat.counts, vec![2, 1, 1, 2, 0]);
        let new = vec![Some("z".to_string()), Some("a".to_string()), None];
        assert_eq!(cat.count_text(&new), vec![1, 0, 0, 1, 1]);
        // The same values in another order give the same PSI.
        let t = Thresholds::default();
        let a = psi("c", &cat.labels(), &cat.counts, &cat.count_text(&new), &t);
        let mut other = new.clone();
        other.rotate_left(1);
        let b = psi("c", &cat.labels(), &cat.counts, &cat.count_text(&other), &t);
        assert_eq!(a.psi.to_bits(), b.psi.to_bits());
    }

    #[test]
    fn a_constant_reference_and_a_huge_number_of_levels_still_bin() {
        let bins = FrozenBins::numeric("x", &[Some(1.0); 20]);
        assert_eq!(bins.labels(), vec!["<= 1", "> 1", MISSING]);
        assert_eq!(bins.counts, vec![20, 0, 0]);
        let none = FrozenBins::numeric("x", &[None, None]);
        assert_eq!(none.labels(), vec!["any number", MISSING]);
        let text: Vec<Option<String>> = (0..500).map(|i| Some(format!("l{}", i % 200))).collect();
        let cat = FrozenBins::categorical("c", &text);
        assert_eq!(cat.labels().len(), MAX_LEVELS + 3);
        assert_eq!(cat.count_text(&[Some("l199".into())])[MAX_LEVELS], 1, "a rarer reference level is not unseen");
    }

    #[test]
    fn chi_square_of_shares_matches_by_hand() {
        let c = chi_square(&[50, 50], &[30, 70]);
        // (30 - 50)^2 / 50 + (70 - 50)^2 / 50; with 1 df the tail is erfc(sqrt(x / 2)).
        assert!((c.statistic - 16.0).abs() < 1e-12);
        assert_eq!(c.df, 1);
        assert!((c.p_value - libm::erfc(8f64.sqrt())).abs() < 1e-12, "{}", c.p_value);
    }
}
