//! The statistics of a table of counts the bias audit reads: the chi-square test of independence
//! with Cramér's V, Fisher's exact test of a 2 x 2 table, and the correlation ratio eta of a
//! number over groups (each as scipy computes it).

use crate::engine::stats::chi_square_sf;

/// Two tables whose probabilities differ by less than this (relative) are equally extreme in
/// Fisher's two-sided test: the same probability computed along two paths differs in its last bits.
const FISHER_TIE: f64 = 1e-7;

/// A chi-square test of independence on a table of counts.
#[derive(Clone, Debug, PartialEq)]
pub struct ChiSquare {
    /// The statistic, sum of (observed - expected)² / expected.
    pub statistic: f64,
    /// Degrees of freedom, (rows - 1)(columns - 1) over the rows and columns with anyone.
    pub df: usize,
    /// P(chi-square with `df` degrees of freedom > statistic).
    pub p_value: f64,
    /// Cramér's V, sqrt(statistic / (n (min(rows, columns) - 1))): 0 independent, 1 determined.
    pub cramers_v: f64,
    /// Customers in the table.
    pub n: usize,
    /// The smallest expected count.
    pub min_expected: f64,
}

/// Why a chi-square test cannot be made on a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Degenerate {
    /// Every count is zero.
    NoCustomers,
    /// Only one row has anyone.
    OneRow,
    /// Only one column has anyone.
    OneColumn,
}

/// The chi-square test of independence of a table of counts (as scipy's `chi2_contingency`
/// without continuity correction), over the rows and columns that have anyone.
pub fn chi_square_independence(table: &[Vec<usize>]) -> Result<ChiSquare, Degenerate> {
    let n_cols = table.iter().map(Vec::len).max().unwrap_or(0);
    let at = |r: usize, c: usize| table[r].get(c).copied().unwrap_or(0);
    let row_totals: Vec<usize> = (0..table.len()).map(|r| (0..n_cols).map(|c| at(r, c)).sum()).collect();
    let col_totals: Vec<usize> = (0..n_cols).map(|c| (0..table.len()).map(|r| at(r, c)).sum()).collect();
    let n: usize = row_totals.iter().sum();
    if n == 0 {
        return Err(Degenerate::NoCustomers);
    }
    let rows: Vec<usize> = (0..table.len()).filter(|&r| row_totals[r] > 0).collect();
    let cols: Vec<usize> = (0..n_cols).filter(|&c| col_totals[c] > 0).collect();
    if rows.len() < 2 {
        return Err(Degenerate::OneRow);
    }
    if cols.len() < 2 {
        return Err(Degenerate::OneColumn);
    }
    let total = n as f64;
    let mut statistic = 0.0;
    let mut min_expected = f64::INFINITY;
    for &r in &rows {
        for &c in &cols {
            let expected = row_totals[r] as f64 * col_totals[c] as f64 / total;
            min_expected = min_expected.min(expected);
            let d = at(r, c) as f64 - expected;
            statistic += d * d / expected;
        }
    }
    let df = (rows.len() - 1) * (cols.len() - 1);
    let k = rows.len().min(cols.len()) - 1;
    let cramers_v = (statistic / (total * k as f64)).sqrt().min(1.0);
    Ok(ChiSquare { statistic, df, p_value: chi_square_sf(statistic, df as f64), cramers_v, n, min_expected })
}

/// ln C(n, k).
fn ln_choose(n: usize, k: usize) -> f64 {
    libm::lgamma(n as f64 + 1.0) - libm::lgamma(k as f64 + 1.0) - libm::lgamma((n - k) as f64 + 1.0)
}

/// Fisher's exact test of a 2 x 2 table, two-sided as scipy's `fisher_exact`: the probability,
/// under fixed margins, of every table at most as likely as the one seen (hypergeometric
/// probabilities in log space). 1 when a row or column is empty.
pub fn fisher_exact(table: [[usize; 2]; 2]) -> f64 {
    let [[a, b], [c, d]] = table;
    let (row1, row2, col1) = (a + b, c + d, a + c);
    let n = row1 + row2;
    if row1 == 0 || row2 == 0 || col1 == 0 || col1 == n {
        return 1.0;
    }
    let ln_pmf = |x: usize| ln_choose(row1, x) + ln_choose(row2, col1 - x) - ln_choose(n, col1);
    let lo = col1.saturating_sub(row2);
    let hi = col1.min(row1);
    let seen = ln_pmf(a);
    let limit = seen + FISHER_TIE.ln_1p();
    let p: f64 = (lo..=hi).map(ln_pmf).filter(|&l| l <= limit).map(f64::exp).sum();
    p.min(1.0)
}

/// The correlation ratio eta of `values` over groups (`group_of` each value): the square root of
/// the between-group sum of squares over the total; `None` with fewer than two groups or no spread.
pub fn correlation_ratio(group_of: &[usize], values: &[f64]) -> Option<f64> {
    let n_groups = group_of.iter().map(|g| g + 1).max().unwrap_or(0);
    let mut sums = vec![0.0; n_groups];
    let mut ns = vec![0usize; n_groups];
    for (&g, &v) in group_of.iter().zip(values) {
        sums[g] += v;
        ns[g] += 1;
    }
    if ns.iter().filter(|&&n| n > 0).count() < 2 {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let total: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
    let between: f64 = sums
        .iter()
        .zip(&ns)
        .filter(|(_, n)| **n > 0)
        .map(|(s, &n)| {
            let d = s / n as f64 - mean;
            n as f64 * d * d
        })
        .sum();
    (total > 0.0 && total.is_finite()).then(|| (between / total).sqrt().min(1.0))
}
