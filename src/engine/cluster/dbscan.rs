//! DBSCAN: groups of customers packed densely (each core customer has at least `min_samples`
//! customers, itself included, within `eps`), and noise, the customers in no dense region. The
//! number of segments is found, not chosen.
//!
//! Neighbours come from a k-d tree, queried in parallel. Core customers within `eps` of each other
//! join the same group (union-find); a border customer (not core, but within `eps` of a core one)
//! joins the group of its nearest core customer, which is also how new customers are assigned, so
//! the result does not depend on row order (scikit-learn gives a border customer to whichever group
//! reached it first).
//!
//! Without an `eps`, it is read from the k-distance curve (each customer's distance to its
//! `min_samples`-th nearest neighbour, sorted): the knee, where distances start to climb.

use ndarray::ArrayView2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{bounds, check_new_data, validate_matrix};
use crate::engine::cluster::describe::{Kind, MethodInfo, MethodParams, Setting};
use crate::engine::error::ClusterError;
use crate::engine::jobs::CancelToken;
use crate::engine::rng::SeededRng;

/// DBSCAN settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DbscanParams {
    /// Neighbourhood radius in the feature space; `None`: read from the k-distance curve.
    pub eps: Option<f64>,
    /// Customers (itself included) within `eps` that make a customer core.
    pub min_samples: usize,
    /// Seed of the sample the k-distance curve is drawn from.
    pub seed: u64,
}

impl Default for DbscanParams {
    fn default() -> Self {
        Self { eps: None, min_samples: 5, seed: 42 }
    }
}

impl DbscanParams {
    /// Checks every setting against its bound in [`bounds`]; fitting calls this first.
    pub fn check(&self) -> Result<(), ClusterError> {
        bounds::count_in("min_samples", self.min_samples, 1, bounds::MAX_MIN_SAMPLES, "customers")?;
        if let Some(eps) = self.eps {
            bounds::real_in("eps", eps, 0.0, true, bounds::MAX_EPS)?;
        }
        Ok(())
    }
}

/// Customers per leaf of the tree.
const LEAF: usize = 32;

/// A k-d tree over the rows of a row-major matrix.
pub struct KdTree<'a> {
    x: &'a [f64],
    d: usize,
    /// Row indices, permuted so each node's rows are contiguous.
    index: Vec<usize>,
    nodes: Vec<Node>,
}

enum Node {
    Leaf { start: usize, end: usize },
    Split { dim: usize, value: f64, left: usize, right: usize },
}

impl<'a> KdTree<'a> {
    /// Builds the tree (splitting at the median of the widest dimension).
    pub fn new(x: &'a [f64], d: usize) -> Self {
        let n = x.len().checked_div(d).unwrap_or(0);
        let mut tree = Self { x, d, index: (0..n).collect(), nodes: Vec::new() };
        if n > 0 {
            tree.build(0, n);
        }
        tree
    }

    fn build(&mut self, start: usize, end: usize) -> usize {
        let id = self.nodes.len();
        if end - start <= LEAF {
            self.nodes.push(Node::Leaf { start, end });
            return id;
        }
        let (x, d) = (self.x, self.d);
        let dim = (0..d)
            .map(|j| {
                let (lo, hi) =
                    self.index[start..end].iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &r| {
                        (lo.min(x[r * d + j]), hi.max(x[r * d + j]))
                    });
                (hi - lo, j)
            })
            .fold((f64::NEG_INFINITY, 0), |best, c| if c.0 > best.0 { c } else { best })
            .1;
        let mid = start + (end - start) / 2;
        self.index[start..end]
            .select_nth_unstable_by(mid - start, |&a, &b| x[a * d + dim].total_cmp(&x[b * d + dim]).then(a.cmp(&b)));
        let value = x[self.index[mid] * d + dim];
        self.nodes.push(Node::Leaf { start, end }); // placeholder
        let left = self.build(start, mid);
        let right = self.build(mid, end);
        self.nodes[id] = Node::Split { dim, value, left, right };
        id
    }

    fn sq(&self, a: &[f64], r: usize) -> f64 {
        a.iter().zip(&self.x[r * self.d..(r + 1) * self.d]).map(|(p, q)| (p - q) * (p - q)).sum()
    }

    /// Calls `f(row, squared distance)` for every row within `radius` of `point`.
    pub fn within(&self, point: &[f64], radius: f64, f: &mut impl FnMut(usize, f64)) {
        if self.nodes.is_empty() {
            return;
        }
        let r2 = radius * radius;
        let mut stack = vec![0usize];
        while let Some(node) = stack.pop() {
            match self.nodes[node] {
                Node::Leaf { start, end } => {
                    for &r in &self.index[start..end] {
                        let dist = self.sq(point, r);
                        if dist <= r2 {
                            f(r, dist);
                        }
                    }
                }
                Node::Split { dim, value, left, right } => {
                    let delta = point[dim] - value;
                    if delta <= radius {
                        stack.push(left);
                    }
                    if delta >= -radius {
                        stack.push(right);
                    }
                }
            }
        }
    }

    /// Whether at least `limit` rows lie within `radius` of `point` (stops counting at `limit`).
    pub fn has_at_least(&self, point: &[f64], radius: f64, limit: usize) -> bool {
        if limit == 0 {
            return true;
        }
        if self.nodes.is_empty() {
            return false;
        }
        let r2 = radius * radius;
        let mut count = 0;
        let mut stack = vec![0usize];
        while let Some(node) = stack.pop() {
            match self.nodes[node] {
                Node::Leaf { start, end } => {
                    for &r in &self.index[start..end] {
                        if self.sq(point, r) <= r2 {
                            count += 1;
                            if count >= limit {
                                return true;
                            }
                        }
                    }
                }
                Node::Split { dim, value, left, right } => {
                    let delta = point[dim] - value;
                    // The near side first: it is likelier to reach the limit early.
                    let (near, far) = if delta <= 0.0 { (left, right) } else { (right, left) };
                    if delta.abs() <= radius {
                        stack.push(far);
                    }
                    stack.push(near);
                }
            }
        }
        false
    }

    /// Squared distances to the `k` nearest rows of `point` (itself included when it is a row),
    /// ascending.
    pub fn nearest(&self, point: &[f64], k: usize) -> Vec<f64> {
        let mut best: Vec<f64> = Vec::with_capacity(k + 1); // sorted ascending, at most k
        if self.nodes.is_empty() || k == 0 {
            return best;
        }
        self.nearest_in(0, point, k, &mut best);
        best
    }

    fn nearest_in(&self, node: usize, point: &[f64], k: usize, best: &mut Vec<f64>) {
        match self.nodes[node] {
            Node::Leaf { start, end } => {
                for &r in &self.index[start..end] {
                    let dist = self.sq(point, r);
                    if best.len() < k || dist < best[best.len() - 1] {
                        let at = best.partition_point(|&b| b <= dist);
                        best.insert(at, dist);
                        best.truncate(k);
                    }
                }
            }
            Node::Split { dim, value, left, right } => {
                let delta = point[dim] - value;
                let (near, far) = if delta <= 0.0 { (left, right) } else { (right, left) };
                self.nearest_in(near, point, k, best);
                if best.len() < k || delta * delta <= best[best.len() - 1] {
                    self.nearest_in(far, point, k, best);
                }
            }
        }
    }
}

/// The k-distance curve: each sampled customer's distance to its `min_samples`-th nearest
/// neighbour (itself counted, as `min_samples` counts it), in descending order, and the eps at its
/// knee.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KDistance {
    /// Distances, descending.
    pub distances: Vec<f64>,
    /// The distance at the knee (the suggested eps).
    pub knee_eps: f64,
    /// Customers in the full data (the curve may be drawn on a sample).
    pub n_rows: usize,
}

/// Customers the k-distance curve is computed on at most.
pub const K_DISTANCE_SAMPLE: usize = 20_000;

/// The k-distance curve of `x` (on a seeded sample above `K_DISTANCE_SAMPLE` rows).
pub fn k_distance(x: ArrayView2<f64>, min_samples: usize, seed: u64) -> Result<KDistance, ClusterError> {
    validate_matrix(x)?;
    let (n, d) = x.dim();
    let standard = x.as_standard_layout();
    let flat: &[f64] = standard.as_slice().unwrap_or_default();
    let tree = KdTree::new(flat, d);
    let rows: Vec<usize> = if n > K_DISTANCE_SAMPLE {
        SeededRng::new(seed).sample_indices(n, K_DISTANCE_SAMPLE)
    } else {
        (0..n).collect()
    };
    let k = min_samples.clamp(1, n);
    let mut distances: Vec<f64> = rows
        .par_iter()
        .map(|&r| tree.nearest(&flat[r * d..(r + 1) * d], k).last().copied().unwrap_or(0.0).sqrt())
        .collect();
    distances.sort_by(|a, b| b.total_cmp(a));
    let knee_eps = knee_of_descending(&distances);
    Ok(KDistance { distances, knee_eps, n_rows: n })
}

/// The knee of a descending curve: the point farthest below the chord from its first to its last
/// point (on both axes scaled to 0..1). Falls back to the median when the curve is flat.
fn knee_of_descending(values: &[f64]) -> f64 {
    let m = values.len();
    if m < 3 {
        return values.first().copied().unwrap_or(1.0).max(f64::MIN_POSITIVE);
    }
    let (first, last) = (values[0], values[m - 1]);
    let span = first - last;
    if span <= 0.0 {
        return first.max(f64::MIN_POSITIVE);
    }
    // The curve drops steeply then flattens: the knee is farthest from the chord, below it.
    let (mut best, mut best_gap) = (m / 2, f64::NEG_INFINITY);
    for (i, &v) in values.iter().enumerate() {
        let t = i as f64 / (m - 1) as f64;
        let chord = 1.0 - t;
        let y = (v - last) / span;
        let gap = chord - y;
        if gap > best_gap {
            best_gap = gap;
            best = i;
        }
    }
    values[best].max(f64::MIN_POSITIVE)
}

/// A fitted DBSCAN.
#[derive(Clone, Debug, PartialEq)]
pub struct DbscanFit {
    /// Group of each row, numbered by size; `None` for noise.
    pub labels: Vec<Option<usize>>,
    /// Groups found.
    pub n_clusters: usize,
    /// The eps used.
    pub eps: f64,
    /// Whether eps was read from the k-distance curve.
    pub eps_from_curve: bool,
    /// The k-distance curve (when eps was read from it, or always for the window).
    pub k_distance: KDistance,
    /// Whether each row is a core customer.
    pub core: Vec<bool>,
}

/// Assigns new customers: the group of the nearest core customer within eps, else noise.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DbscanModel {
    /// The radius.
    pub eps: f64,
    /// Features.
    pub d: usize,
    /// Core customers, row-major.
    pub core_points: Vec<f64>,
    /// Their groups.
    pub core_labels: Vec<usize>,
    /// The segment number of noise.
    pub noise_segment: usize,
}

impl DbscanModel {
    /// The segment of each row of `x` (noise as `noise_segment`).
    pub fn predict(&self, x: ArrayView2<f64>) -> Result<Vec<usize>, ClusterError> {
        check_new_data(x, self.d)?;
        let tree = KdTree::new(&self.core_points, self.d);
        Ok(x.rows()
            .into_iter()
            .map(|row| {
                let point: Vec<f64> = row.to_vec();
                let mut best = (f64::INFINITY, usize::MAX);
                tree.within(&point, self.eps, &mut |r, dist| {
                    if dist < best.0 || (dist == best.0 && r < best.1) {
                        best = (dist, r);
                    }
                });
                if best.1 == usize::MAX { self.noise_segment } else { self.core_labels[best.1] }
            })
            .collect())
    }
}

fn find(parent: &mut [usize], mut c: usize) -> usize {
    while parent[c] != c {
        parent[c] = parent[parent[c]];
        c = parent[c];
    }
    c
}

/// Fits DBSCAN.
pub fn fit_dbscan(x: ArrayView2<f64>, params: &DbscanParams, cancel: &CancelToken) -> Result<DbscanFit, ClusterError> {
    params.check()?;
    validate_matrix(x)?;
    let (n, d) = x.dim();
    let k_distance = k_distance(x, params.min_samples, params.seed)?;
    let (eps, eps_from_curve) = match params.eps {
        Some(eps) => (eps, false),
        None => (k_distance.knee_eps, true),
    };
    let standard = x.as_standard_layout();
    let flat: &[f64] = standard.as_slice().unwrap_or_default();
    let tree = KdTree::new(flat, d);
    let row = |r: usize| &flat[r * d..(r + 1) * d];
    // Core customers: enough neighbours (parallel counts).
    let core: Vec<bool> = (0..n).into_par_iter().map(|r| tree.has_at_least(row(r), eps, params.min_samples)).collect();
    if cancel.is_cancelled() {
        return Err(ClusterError::Cancelled);
    }
    // Core customers within eps of each other form one group: each core customer's core
    // neighbours (in parallel, chunk by chunk), joined in row order.
    let mut parent: Vec<usize> = (0..n).collect();
    const CHUNK: usize = 4096;
    for start in (0..n).step_by(CHUNK) {
        if cancel.is_cancelled() {
            return Err(ClusterError::Cancelled);
        }
        let end = (start + CHUNK).min(n);
        let links: Vec<Vec<usize>> = (start..end)
            .into_par_iter()
            .map(|r| {
                let mut out = Vec::new();
                if core[r] {
                    tree.within(row(r), eps, &mut |q, _| {
                        if q < r && core[q] {
                            out.push(q);
                        }
                    });
                }
                out
            })
            .collect();
        for (r, qs) in (start..end).zip(links) {
            for q in qs {
                let (a, b) = (find(&mut parent, r), find(&mut parent, q));
                if a != b {
                    parent[a.max(b)] = a.min(b);
                }
            }
        }
    }
    let roots: Vec<Option<usize>> = (0..n).map(|r| core[r].then(|| find(&mut parent, r))).collect();
    // Border customers: the group of the nearest core customer within eps.
    let attached: Vec<Option<usize>> = (0..n)
        .into_par_iter()
        .map(|r| {
            if core[r] {
                return roots[r];
            }
            let mut best = (f64::INFINITY, usize::MAX);
            tree.within(row(r), eps, &mut |q, dist| {
                if core[q] && (dist < best.0 || (dist == best.0 && q < best.1)) {
                    best = (dist, q);
                }
            });
            (best.1 != usize::MAX).then(|| roots[best.1]).flatten()
        })
        .collect();
    // Number groups by size (largest first), ties by their first row.
    let mut counts: std::collections::HashMap<usize, (usize, usize)> = std::collections::HashMap::new();
    for (r, root) in attached.iter().enumerate() {
        if let Some(root) = root {
            counts.entry(*root).or_insert((0, r)).0 += 1;
        }
    }
    let mut groups: Vec<(usize, usize, usize)> =
        counts.into_iter().map(|(root, (c, first))| (root, c, first)).collect();
    groups.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)));
    let number: std::collections::HashMap<usize, usize> = groups.iter().enumerate().map(|(i, g)| (g.0, i)).collect();
    let labels = attached.iter().map(|a| a.map(|root| number[&root])).collect();
    Ok(DbscanFit { labels, n_clusters: groups.len(), eps, eps_from_curve, k_distance, core })
}

/// DBSCAN, described once for the CLI, the Model screen and the project file.
pub const METHOD: MethodInfo = MethodInfo {
    name: "dbscan",
    label: "DBSCAN",
    hint: "Dense groups of any shape, and noise: customers like no others. Finds the number of groups itself.",
    has_k: false,
    settings: &[
        Setting::new(
            "eps",
            "Radius (eps)",
            "Neighbourhood radius",
            Kind::AutoNumber {
                field: "eps",
                auto: "from the curve",
                auto_help: "Read eps from the knee of the k-distance curve",
                default: 0.5,
                min: 1e-6,
                max: 1e6,
                decimals: Some(4),
            },
        ),
        Setting::new(
            "min-samples",
            "Core: neighbours",
            "Customers within eps, itself included, that make a customer core",
            Kind::Count { field: "min_samples", min: 1, max: 1_000, suffix: "", max_field: None },
        ),
    ],
};

impl MethodParams for DbscanParams {
    fn seed(&self) -> u64 {
        self.seed
    }
    fn set_seed(&mut self, seed: u64) {
        self.seed = seed;
    }
    fn check(&self) -> Result<(), ClusterError> {
        self.check()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn two_blobs_and_noise() -> (Array2<f64>, Vec<Option<usize>>) {
        // Two dense blobs and a few isolated points far from both.
        let mut rng = SeededRng::new(3);
        let mut values = Vec::new();
        let mut truth = Vec::new();
        // Different sizes, so the numbering (by size) does not depend on row order.
        for (g, (c, size)) in [([0.0, 0.0], 300), ([5.0, 5.0], 250)].iter().enumerate() {
            for _ in 0..*size {
                values.extend([c[0] + rng.next_f64(), c[1] + rng.next_f64()]);
                truth.push(Some(g));
            }
        }
        for p in [[20.0, 20.0], [-20.0, 10.0], [15.0, -15.0]] {
            values.extend(p);
            truth.push(None);
        }
        (Array2::from_shape_vec((553, 2), values).unwrap(), truth)
    }

    #[test]
    fn finds_planted_groups_and_noise_with_a_given_eps_and_from_the_curve() {
        let (x, truth) = two_blobs_and_noise();
        for eps in [Some(0.3), None] {
            let fit = fit_dbscan(x.view(), &DbscanParams { eps, ..Default::default() }, &CancelToken::new()).unwrap();
            assert_eq!(fit.n_clusters, 2, "eps {eps:?} -> {}", fit.eps);
            assert_eq!(fit.labels, truth, "eps {eps:?} -> {}", fit.eps);
            assert_eq!(fit.eps_from_curve, eps.is_none());
        }
    }

    #[test]
    fn matches_brute_force_neighbours() {
        let mut rng = SeededRng::new(11);
        let values: Vec<f64> = (0..3000).map(|_| rng.next_f64()).collect();
        let tree = KdTree::new(&values, 3);
        for r in [0usize, 17, 999] {
            let p = &values[r * 3..r * 3 + 3];
            let mut found = Vec::new();
            tree.within(p, 0.2, &mut |q, _| found.push(q));
            found.sort_unstable();
            let brute: Vec<usize> = (0..1000)
                .filter(|&q| (0..3).map(|j| (values[q * 3 + j] - p[j]).powi(2)).sum::<f64>() <= 0.04)
                .collect();
            assert_eq!(found, brute);
            let mut all: Vec<f64> =
                (0..1000).map(|q| (0..3).map(|j| (values[q * 3 + j] - p[j]).powi(2)).sum::<f64>()).collect();
            all.sort_by(f64::total_cmp);
            assert_eq!(tree.nearest(p, 5), all[..5].to_vec());
        }
    }

    #[test]
    fn labels_do_not_depend_on_row_order_or_threads_and_new_customers_are_placed() {
        let (x, _) = two_blobs_and_noise();
        let params = DbscanParams { eps: Some(0.3), ..Default::default() };
        let fit = fit_dbscan(x.view(), &params, &CancelToken::new()).unwrap();
        let reversed = Array2::from_shape_fn(x.dim(), |(i, j)| x[[x.nrows() - 1 - i, j]]);
        let back = fit_dbscan(reversed.view(), &params, &CancelToken::new()).unwrap();
        let back: Vec<Option<usize>> = back.labels.into_iter().rev().collect();
        assert_eq!(back, fit.labels);
        let single = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| fit_dbscan(x.view(), &params, &CancelToken::new()).unwrap());
        assert_eq!(single, fit);
    }

    #[test]
    fn bad_settings_are_refused() {
        let x = ndarray::array![[1.0, 2.0]];
        assert!(
            fit_dbscan(x.view(), &DbscanParams { min_samples: 0, ..Default::default() }, &CancelToken::new()).is_err()
        );
        assert!(
            fit_dbscan(x.view(), &DbscanParams { eps: Some(-1.0), ..Default::default() }, &CancelToken::new()).is_err()
        );
        let empty = Array2::<f64>::zeros((0, 2));
        assert_eq!(
            fit_dbscan(empty.view(), &DbscanParams::default(), &CancelToken::new()),
            Err(ClusterError::EmptyInput)
        );
    }
}
