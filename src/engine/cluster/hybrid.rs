//! A hybrid of rules and clustering: customers are first put in value tiers by their total RFM score
//! (recency, frequency and monetary scores 1-5 added up, 3-15), then k-means finds behavioural
//! segments inside each tier. The business keeps its tiers; the data says what differs within them.

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use super::kmeans::{self, KMeansKernel, KMeansParams};
use super::rfm_rules::ScoreEdges;
use super::rfm_rules::rfm_columns_chosen;
use super::{CentroidModel, bounds, count_distinct_rows};
use crate::engine::cluster::describe::{Kind, MethodInfo, MethodParams, Setting};
use crate::engine::error::ClusterError;
use crate::engine::jobs::CancelToken;

/// Hybrid settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HybridParams {
    /// Days since the last purchase (lower is better).
    pub recency: String,
    /// Number of orders.
    pub frequency: String,
    /// Money spent.
    pub monetary: String,
    /// Total RFM score (3-15) from which a customer is in the middle tier, and in the top tier.
    pub tier_edges: (u8, u8),
    /// Segments k-means finds inside each tier.
    pub k_per_tier: usize,
    /// Seed of k-means.
    pub seed: u64,
}

impl Default for HybridParams {
    fn default() -> Self {
        Self {
            recency: "recency_days".into(),
            frequency: "frequency".into(),
            monetary: "monetary_total".into(),
            tier_edges: (8, 12),
            k_per_tier: 2,
            seed: 42,
        }
    }
}

/// The tiers, lowest first.
pub const TIERS: [&str; 3] = ["Low value", "Mid value", "High value"];

impl HybridParams {
    /// Checks every setting: tier edges within the score range, k per tier within [`bounds::MAX_K`].
    pub fn check(&self) -> Result<(), ClusterError> {
        let (mid, top) = self.tier_edges;
        if !(4 <= mid && mid < top && top <= 15) {
            return Err(ClusterError::InvalidParameter {
                name: "tier edges",
                problem: format!("{mid} and {top} must rise within 4-15 (the total RFM score runs 3-15)"),
            });
        }
        bounds::count_in("k_per_tier", self.k_per_tier, 1, bounds::MAX_K, "segments per tier")?;
        rfm_columns_chosen([&self.recency, &self.frequency, &self.monetary])
    }

    /// The tier (0 low, 1 mid, 2 high) of a total score.
    pub fn tier_of(&self, total: u8) -> usize {
        usize::from(total >= self.tier_edges.0) + usize::from(total >= self.tier_edges.1)
    }
}

/// Assignment of new customers: their scores against the fitted customers, then the nearest
/// centroid of their tier.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HybridModel {
    /// The settings.
    pub params: HybridParams,
    /// Score cut points for recency, frequency and monetary value.
    pub edges: [ScoreEdges; 3],
    /// Per tier (low, mid, high): its centroids and its first segment number, when it had customers.
    pub tiers: Vec<Option<(CentroidModel, usize)>>,
}

impl HybridModel {
    /// The segment of one new customer (`row` in the fitted feature space).
    pub fn segment_of(&self, r: f64, f: f64, m: f64, row: ArrayView2<f64>) -> Result<Option<usize>, ClusterError> {
        let total = self.edges[0].score(r) + self.edges[1].score(f) + self.edges[2].score(m);
        // The model may come from a file: a missing tier is no segment, never an index out of bounds.
        match self.tiers.get(self.params.tier_of(total)) {
            Some(Some((centroids, first))) => Ok(centroids.predict(row)?.first().map(|s| first + s)),
            _ => Ok(None),
        }
    }
}

/// A hybrid segmentation.
#[derive(Clone, Debug, PartialEq)]
pub struct HybridFit {
    /// Segment of each row: tiers from high to low, segments by size inside each.
    pub labels: Vec<usize>,
    /// Segment names ("High value 1", ...).
    pub names: Vec<String>,
    /// (recency, frequency, monetary) scores of each row.
    pub scores: Vec<[u8; 3]>,
    /// The model for new customers.
    pub model: HybridModel,
}

/// Fits the hybrid: tiers by total RFM score, k-means on `x` inside each tier.
pub fn fit_hybrid(
    x: ArrayView2<f64>,
    rfm: [&[f64]; 3],
    params: &HybridParams,
    cancel: &CancelToken,
) -> Result<HybridFit, ClusterError> {
    params.check()?;
    let n = x.nrows();
    if n == 0 {
        return Err(ClusterError::EmptyInput);
    }
    for (column, values) in rfm.iter().enumerate() {
        if values.len() != n {
            return Err(ClusterError::BadLabels("recency, frequency and monetary value differ in length".into()));
        }
        if let Some(row) = values.iter().position(|v| !v.is_finite()) {
            return Err(ClusterError::NonFinite { row, column });
        }
    }
    let edges = [ScoreEdges::of(rfm[0], true), ScoreEdges::of(rfm[1], false), ScoreEdges::of(rfm[2], false)];
    let scores: Vec<[u8; 3]> =
        (0..n).map(|i| [edges[0].score(rfm[0][i]), edges[1].score(rfm[1][i]), edges[2].score(rfm[2][i])]).collect();
    let tier: Vec<usize> = scores.iter().map(|s| params.tier_of(s[0] + s[1] + s[2])).collect();
    let mut labels = vec![0usize; n];
    let mut names = Vec::new();
    let mut tiers: Vec<Option<(CentroidModel, usize)>> = vec![None, None, None];
    // High value first: the segments a business looks at first get the first numbers.
    for t in (0..3).rev() {
        let rows: Vec<usize> = (0..n).filter(|&i| tier[i] == t).collect();
        if rows.is_empty() {
            continue;
        }
        let sub = Array2::from_shape_fn((rows.len(), x.ncols()), |(i, j)| x[[rows[i], j]]);
        let k = params.k_per_tier.min(count_distinct_rows(sub.view(), params.k_per_tier));
        // Lloyd's kernel: this method records no k-means kernel, and its fits must reproduce.
        let fit = kmeans::fit(sub.view(), &KMeansParams::new(k).seed(params.seed).kernel(KMeansKernel::Lloyd), cancel)?;
        let first = names.len();
        for (&row, &label) in rows.iter().zip(&fit.labels) {
            labels[row] = first + label;
        }
        for s in 0..k {
            names.push(if k == 1 { TIERS[t].to_string() } else { format!("{} {}", TIERS[t], s + 1) });
        }
        tiers[t] =
            Some((CentroidModel { centroids: fit.centroids.rows().into_iter().map(|r| r.to_vec()).collect() }, first));
    }
    Ok(HybridFit { labels, names, scores, model: HybridModel { params: params.clone(), edges, tiers } })
}

/// RFM tiers with k-means inside, described once for the CLI, the Model screen and the project file.
pub const METHOD: MethodInfo = MethodInfo {
    name: "hybrid",
    label: "RFM tiers + k-means",
    hint: "Value tiers by total RFM score, then k-means inside each tier: the business keeps its tiers.",
    has_k: false,
    settings: &[
        Setting::new(
            "rfm-columns",
            "RFM columns",
            "Recency, frequency and monetary columns of the customer table",
            Kind::Columns { fields: ["recency", "frequency", "monetary"] },
        ),
        Setting::new(
            "tier-edges",
            "Tier edges",
            "Total RFM score (R + F + M, 3-15) from which a customer is mid value",
            Kind::Pair {
                field: "tier_edges",
                labels: ["Mid tier from", "High tier from"],
                ranges: [(4, 14), (5, 15)],
                example: "8,12",
            },
        ),
        Setting::new(
            "k-per-tier",
            "Segments per tier",
            "Segments k-means finds inside each value tier",
            Kind::Count { field: "k_per_tier", min: 1, max: 20, suffix: "", max_field: None },
        ),
        Setting::new(
            "seed",
            "Seed",
            "Same seed, same segments, on any machine",
            Kind::Count { field: "seed", min: 0, max: u64::MAX, suffix: "", max_field: None },
        )
        .window_only(),
    ],
};

impl MethodParams for HybridParams {
    fn seed(&self) -> u64 {
        self.seed
    }
    fn set_seed(&mut self, seed: u64) {
        self.seed = seed;
    }
    fn rfm_columns(&self) -> Option<[&str; 3]> {
        Some([&self.recency, &self.frequency, &self.monetary])
    }
    fn check(&self) -> Result<(), ClusterError> {
        self.check()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::metrics::agreement::Crosstab;

    #[test]
    fn tiers_by_score_and_planted_behaviour_inside_each() {
        // Two value levels (spend), and inside each two behaviours (feature 2: web or store).
        let mut rng = crate::engine::rng::SeededRng::new(5);
        let (mut r, mut f, mut m, mut values, mut truth) = (vec![], vec![], vec![], vec![], vec![]);
        for i in 0..400 {
            let high = i % 2 == 0;
            let web = (i / 2) % 2 == 0;
            r.push(if high { 5.0 + rng.next_f64() } else { 300.0 + rng.next_f64() });
            f.push(if high { 20.0 + rng.next_f64() } else { 1.0 });
            m.push(if high { 1000.0 + rng.next_f64() } else { 10.0 + rng.next_f64() });
            values.extend([if web { 5.0 } else { -5.0 } + rng.next_f64(), rng.next_f64()]);
            truth.push(usize::from(high) * 2 + usize::from(web));
        }
        let x = Array2::from_shape_vec((400, 2), values).unwrap();
        // Low spenders total 3-7, high ones 9-15: with the mid tier at exactly 8 it stays empty.
        let params = HybridParams { tier_edges: (8, 9), ..HybridParams::default() };
        let fit = fit_hybrid(x.view(), [&r, &f, &m], &params, &CancelToken::new()).unwrap();
        assert!(fit.model.tiers[1].is_none());
        assert_eq!(fit.names, vec!["High value 1", "High value 2", "Low value 1", "Low value 2"]);
        let la: Vec<String> = fit.labels.iter().map(|v| v.to_string()).collect();
        let lb: Vec<String> = truth.iter().map(|v| v.to_string()).collect();
        assert!(Crosstab::of(&la, &lb).unwrap().adjusted_rand_index() > 0.99);
        // The fitted customers, as new ones, land where they were.
        for i in [0usize, 1, 2, 3, 399] {
            let row = x.slice(ndarray::s![i..i + 1, ..]);
            assert_eq!(fit.model.segment_of(r[i], f[i], m[i], row).unwrap(), Some(fit.labels[i]));
        }
    }

    #[test]
    fn bad_settings_are_refused() {
        let x = ndarray::array![[1.0]];
        let one = [1.0];
        let bad = HybridParams { tier_edges: (12, 8), ..HybridParams::default() };
        assert!(fit_hybrid(x.view(), [&one, &one, &one], &bad, &CancelToken::new()).is_err());
        let zero = HybridParams { k_per_tier: 0, ..HybridParams::default() };
        assert!(fit_hybrid(x.view(), [&one, &one, &one], &zero, &CancelToken::new()).is_err());
        let nan = [f64::NAN];
        assert!(matches!(
            fit_hybrid(x.view(), [&one, &nan, &one], &HybridParams::default(), &CancelToken::new()),
            Err(ClusterError::NonFinite { row: 0, column: 1 })
        ));
    }
}
