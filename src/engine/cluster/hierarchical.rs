//! Agglomerative hierarchical clustering (Ward, average or complete linkage) by the nearest-neighbour
//! chain algorithm on a condensed distance matrix, as SciPy's `linkage`: O(n²) time and memory. One
//! tree gives every k (and every cut height), so a sweep builds it once.
//!
//! Above `max_exact_rows` customers the exact method would need too much memory and time, so the
//! customers are first pre-aggregated into micro-clusters by k-means and the tree is built on those
//! (each weighted by its size); the result says so.

use ndarray::ArrayView2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::kmeans::{self, KMeansKernel, KMeansParams};
use super::{bounds, check_k, validate_matrix};
use crate::engine::cluster::describe::{Kind, MethodInfo, Setting, params_with_k};
use crate::engine::error::ClusterError;
use crate::engine::jobs::CancelToken;

/// How the distance between two groups is measured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Linkage {
    /// The increase in within-segment variance when merging (compact, similar-sized segments).
    #[default]
    Ward,
    /// The mean distance between members.
    Average,
    /// The largest distance between members.
    Complete,
}

impl Linkage {
    /// Every linkage, for menus.
    pub const ALL: [Linkage; 3] = [Linkage::Ward, Linkage::Average, Linkage::Complete];

    /// The name on the command line and in menus.
    pub fn name(self) -> &'static str {
        match self {
            Linkage::Ward => "ward",
            Linkage::Average => "average",
            Linkage::Complete => "complete",
        }
    }
}

/// Hierarchical clustering settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HierarchicalParams {
    /// Number of segments (where the tree is cut).
    pub k: usize,
    /// Linkage.
    pub linkage: Linkage,
    /// Largest number of customers clustered exactly; above it, micro-clusters.
    pub max_exact_rows: usize,
    /// Number of micro-clusters above `max_exact_rows`.
    pub micro_clusters: usize,
    /// Seed of the micro-clusters' k-means.
    pub seed: u64,
}

impl Default for HierarchicalParams {
    fn default() -> Self {
        Self { k: 4, linkage: Linkage::Ward, max_exact_rows: 20_000, micro_clusters: 2_000, seed: 42 }
    }
}

impl HierarchicalParams {
    /// Defaults with the given k.
    pub fn new(k: usize) -> Self {
        Self { k, ..Self::default() }
    }

    /// Checks every setting against its bound in [`bounds`]; building the tree calls this first.
    pub fn check(&self) -> Result<(), ClusterError> {
        bounds::count_in("k", self.k, 1, bounds::MAX_K, "segments")?;
        bounds::count_in(
            "max_exact_rows",
            self.max_exact_rows,
            2,
            bounds::MAX_EXACT_ROWS,
            "customers clustered exactly",
        )?;
        if !(2..=self.max_exact_rows).contains(&self.micro_clusters) {
            return Err(ClusterError::InvalidParameter {
                name: "micro_clusters",
                problem: format!(
                    "is {}; it must be between 2 and max_exact_rows ({})",
                    self.micro_clusters, self.max_exact_rows
                ),
            });
        }
        Ok(())
    }
}

/// One merge: two groups (ids below n are leaves, n + i the group made by merge i) at a height.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Merge {
    /// The smaller id.
    pub a: usize,
    /// The larger id.
    pub b: usize,
    /// Linkage distance.
    pub height: f64,
    /// Customers in the merged group.
    pub size: usize,
}

/// A built tree over the leaves (customers, or micro-clusters).
#[derive(Clone, Debug, PartialEq)]
pub struct Dendrogram {
    /// Leaves.
    pub n_leaves: usize,
    /// n_leaves - 1 merges by increasing height (SciPy's linkage matrix).
    pub merges: Vec<Merge>,
    /// The micro-cluster of each customer, when the tree is over micro-clusters.
    pub leaf_of_row: Option<Vec<usize>>,
}

/// Index of (i, j), i < j, in a condensed n x n matrix.
#[inline]
fn condensed(n: usize, i: usize, j: usize) -> usize {
    let (i, j) = if i < j { (i, j) } else { (j, i) };
    n * i - i * (i + 1) / 2 + (j - i - 1)
}

/// The share of a tree's building reported done once its distances are computed.
const DISTANCE_SHARE: f64 = 0.3;

/// Builds the tree over weighted points (`weights` are customers per point); reports the share
/// done on `cancel` ([`CancelToken::step_done`]) as it goes, 1 at the end.
fn build(
    points: &[f64],
    d: usize,
    weights: &[f64],
    linkage: Linkage,
    cancel: &CancelToken,
) -> Result<Vec<Merge>, ClusterError> {
    let n = weights.len();
    if n < 2 {
        return Ok(Vec::new());
    }
    let len = n * (n - 1) / 2;
    let mut dist = Vec::new();
    dist.try_reserve_exact(len).map_err(|_| {
        ClusterError::Failed(format!(
            "{n} points need {} MB for exact hierarchical clustering; lower the exact limit so micro-clusters are used",
            len * 8 / 1_000_000
        ))
    })?;
    dist.resize(len, 0.0);
    // Ward works on squared distances (scaled so singletons' equal their squared Euclidean distance),
    // the others on Euclidean distances.
    let mut offset = 0;
    let mut rows: Vec<(usize, &mut [f64])> = Vec::with_capacity(n);
    let mut rest = dist.as_mut_slice();
    for i in 0..n - 1 {
        let (row, tail) = rest.split_at_mut(n - i - 1);
        rows.push((i, row));
        rest = tail;
        offset += n - i - 1;
    }
    debug_assert_eq!(offset, len);
    rows.into_par_iter().for_each(|(i, row)| {
        let xi = &points[i * d..(i + 1) * d];
        for (slot, j) in row.iter_mut().zip(i + 1..n) {
            let xj = &points[j * d..(j + 1) * d];
            let sq: f64 = xi.iter().zip(xj).map(|(a, b)| (a - b) * (a - b)).sum();
            *slot = match linkage {
                Linkage::Ward => 2.0 * weights[i] * weights[j] / (weights[i] + weights[j]) * sq,
                Linkage::Average | Linkage::Complete => sq.sqrt(),
            };
        }
    });
    cancel.step_done(DISTANCE_SHARE);
    let mut size: Vec<f64> = weights.to_vec();
    let mut active = vec![true; n];
    // The cluster id (leaf or n + merge) that each slot holds now.
    let mut id: Vec<usize> = (0..n).collect();
    let mut raw: Vec<(usize, usize, f64)> = Vec::with_capacity(n - 1);
    let mut chain: Vec<usize> = Vec::with_capacity(n);
    let mut next_start = 0;
    for merge in 0..n - 1 {
        if merge % 256 == 0 {
            if cancel.is_cancelled() {
                return Err(ClusterError::Cancelled);
            }
            // The distances are about a third of the work, the merges the rest.
            cancel.step_done(DISTANCE_SHARE + (1.0 - DISTANCE_SHARE) * merge as f64 / (n - 1) as f64);
        }
        if chain.is_empty() {
            while !active[next_start] {
                next_start += 1;
            }
            chain.push(next_start);
        }
        let (x, y) = loop {
            let x = *chain.last().unwrap_or(&0);
            let previous = if chain.len() >= 2 { Some(chain[chain.len() - 2]) } else { None };
            let best = nearest(&dist, n, x, &active, previous);
            if previous == Some(best) {
                chain.pop();
                chain.pop();
                break (x, best);
            }
            chain.push(best);
        };
        let dxy = dist[condensed(n, x, y)];
        let (sx, sy) = (size[x], size[y]);
        update(&mut dist, n, x, y, &active, &size, linkage);
        active[x] = false;
        size[y] = sx + sy;
        let height = if linkage == Linkage::Ward { dxy.max(0.0).sqrt() } else { dxy };
        raw.push((id[x], id[y], height));
        id[y] = n + merge; // provisional; renumbered after sorting below
    }
    // Merges by height (stable, as SciPy), with ids renumbered for that order.
    let mut order: Vec<usize> = (0..raw.len()).collect();
    order.sort_by(|&a, &b| raw[a].2.total_cmp(&raw[b].2));
    let mut new_id = vec![0; raw.len()];
    for (position, &m) in order.iter().enumerate() {
        new_id[m] = n + position;
    }
    let rename = |c: usize| if c < n { c } else { new_id[c - n] };
    let mut sizes = vec![0.0; raw.len()];
    let mut merges = Vec::with_capacity(raw.len());
    for &m in &order {
        let (a, b, height) = raw[m];
        let (a, b) = (rename(a), rename(b));
        let size_of = |c: usize| if c < n { weights[c] } else { sizes[c - n] };
        let s = size_of(a) + size_of(b);
        sizes[new_id[m] - n] = s;
        merges.push(Merge { a: a.min(b), b: a.max(b), height, size: s.round() as usize });
    }
    cancel.step_done(1.0);
    Ok(merges)
}

/// Rows of the distance matrix scanned per parallel task; below this many, one thread scans.
const SCAN_CHUNK: usize = 2048;

/// The nearest active neighbour of `x`, ties to the lowest index; `previous` (the chain's link
/// before x) wins ties so the chain can end. Parallel over fixed chunks, reduced in order, so the
/// answer is the sequential scan's.
fn nearest(dist: &[f64], n: usize, x: usize, active: &[bool], previous: Option<usize>) -> usize {
    let scan = |lo: usize, hi: usize| -> (f64, usize) {
        let mut best = (f64::INFINITY, usize::MAX);
        // Column part (j < x): scattered; row part (j > x): contiguous.
        for j in lo..hi.min(x) {
            if active[j] {
                let d = dist[n * j - j * (j + 1) / 2 + (x - j - 1)];
                if d < best.0 {
                    best = (d, j);
                }
            }
        }
        if hi > x + 1 {
            let base = condensed(n, x, x + 1) as isize - (x as isize + 1);
            for j in lo.max(x + 1)..hi {
                if active[j] {
                    let d = dist[(base + j as isize) as usize];
                    if d < best.0 {
                        best = (d, j);
                    }
                }
            }
        }
        best
    };
    let found = if n < 2 * SCAN_CHUNK {
        scan(0, n)
    } else {
        let parts: Vec<(f64, usize)> = (0..n.div_ceil(SCAN_CHUNK))
            .into_par_iter()
            .map(|c| scan(c * SCAN_CHUNK, ((c + 1) * SCAN_CHUNK).min(n)))
            .collect();
        parts.into_iter().fold((f64::INFINITY, usize::MAX), |best, part| if part.0 < best.0 { part } else { best })
    };
    match previous {
        Some(p) if dist[condensed(n, x, p)] <= found.0 => p,
        _ => found.1,
    }
}

/// The raw pointer of the distance matrix, shared by the update's parallel tasks.
struct SharedDistances(*mut f64);
// SAFETY: the update writes each entry (k, y) from exactly one task and reads only entries no task
// writes ((k, x) and the (k, y) it then overwrites itself).
unsafe impl Sync for SharedDistances {}

/// Lance-Williams: the distances of the group x + y (kept in slot y) to every other active group.
fn update(dist: &mut [f64], n: usize, x: usize, y: usize, active: &[bool], size: &[f64], linkage: Linkage) {
    let dxy = dist[condensed(n, x, y)];
    let (sx, sy) = (size[x], size[y]);
    let len = dist.len();
    let shared = SharedDistances(dist.as_mut_ptr());
    let shared = &shared;
    let work = |lo: usize, hi: usize| {
        for k in lo..hi {
            if !active[k] || k == x || k == y {
                continue;
            }
            let (ikx, iky) = (condensed(n, k, x), condensed(n, k, y));
            debug_assert!(ikx < len && iky < len);
            // SAFETY: both indices are in bounds, and (k, y) is written by this k only.
            unsafe {
                let (dkx, dky) = (*shared.0.add(ikx), *shared.0.add(iky));
                let sk = size[k];
                *shared.0.add(iky) = match linkage {
                    Linkage::Ward => ((sx + sk) * dkx + (sy + sk) * dky - sk * dxy) / (sx + sy + sk),
                    Linkage::Average => (sx * dkx + sy * dky) / (sx + sy),
                    Linkage::Complete => dkx.max(dky),
                };
            }
        }
    };
    if n < 2 * SCAN_CHUNK {
        work(0, n);
    } else {
        (0..n.div_ceil(SCAN_CHUNK)).into_par_iter().for_each(|c| work(c * SCAN_CHUNK, ((c + 1) * SCAN_CHUNK).min(n)));
    }
}

impl Dendrogram {
    /// Builds the tree of `x`: exact up to `max_exact_rows` rows, on micro-clusters above.
    pub fn build(x: ArrayView2<f64>, params: &HierarchicalParams, cancel: &CancelToken) -> Result<Self, ClusterError> {
        params.check()?;
        validate_matrix(x)?;
        let (n, d) = x.dim();
        if n <= params.max_exact_rows {
            let standard = x.as_standard_layout();
            let flat: &[f64] = standard.as_slice().unwrap_or_default();
            let merges = build(flat, d, &vec![1.0; n], params.linkage, cancel)?;
            return Ok(Self { n_leaves: n, merges, leaf_of_row: None });
        }
        let micro = params.micro_clusters.min(super::count_distinct_rows(x, params.micro_clusters));
        // Lloyd's kernel: this method records no k-means kernel, and its fits must reproduce.
        let fit = kmeans::fit_micro_clusters(
            x,
            &KMeansParams::new(micro).n_init(1).seed(params.seed).kernel(KMeansKernel::Lloyd),
            cancel,
        )?;
        let weights: Vec<f64> = fit.sizes.iter().map(|&s| s as f64).collect();
        let centres: Vec<f64> = fit.centroids.iter().copied().collect();
        let merges = build(&centres, d, &weights, params.linkage, cancel)?;
        Ok(Self { n_leaves: micro, merges, leaf_of_row: Some(fit.labels) })
    }

    /// The segment of each leaf when the tree is cut into `k` groups, numbered by size (largest
    /// first, ties by smallest leaf).
    pub fn cut_leaves(&self, k: usize) -> Vec<usize> {
        let n = self.n_leaves;
        let k = k.clamp(1, n.max(1));
        let mut parent: Vec<usize> = (0..2 * n).collect();
        fn find(parent: &mut [usize], mut c: usize) -> usize {
            while parent[c] != c {
                parent[c] = parent[parent[c]];
                c = parent[c];
            }
            c
        }
        for (i, m) in self.merges.iter().take(n - k).enumerate() {
            let (ra, rb) = (find(&mut parent, m.a), find(&mut parent, m.b));
            parent[ra] = n + i;
            parent[rb] = n + i;
        }
        let roots: Vec<usize> = (0..n).map(|leaf| find(&mut parent, leaf)).collect();
        // Number groups by customers (largest first), then by first leaf.
        let leaf_weights: Vec<usize> = match &self.leaf_of_row {
            Some(rows) => {
                let mut w = vec![0; n];
                for &r in rows {
                    w[r] += 1;
                }
                w
            }
            None => vec![1; n],
        };
        let mut groups: Vec<(usize, usize, usize)> = Vec::new(); // (root, customers, first leaf)
        let mut weights_by_root = std::collections::HashMap::new();
        for (leaf, &root) in roots.iter().enumerate() {
            let entry = weights_by_root.entry(root).or_insert_with(|| {
                groups.push((root, 0, leaf));
                groups.len() - 1
            });
            groups[*entry].1 += leaf_weights[leaf];
        }
        let mut order: Vec<usize> = (0..groups.len()).collect();
        order.sort_by(|&a, &b| groups[b].1.cmp(&groups[a].1).then(groups[a].2.cmp(&groups[b].2)));
        let mut number = std::collections::HashMap::new();
        for (new, &g) in order.iter().enumerate() {
            number.insert(groups[g].0, new);
        }
        roots.iter().map(|r| number[r]).collect()
    }

    /// The segment of each customer row at `k`.
    pub fn cut(&self, k: usize) -> Vec<usize> {
        let leaves = self.cut_leaves(k);
        match &self.leaf_of_row {
            Some(rows) => rows.iter().map(|&leaf| leaves[leaf]).collect(),
            None => leaves,
        }
    }

    /// The number of groups when cut at `height` (merges above it are undone).
    pub fn k_at_height(&self, height: f64) -> usize {
        1 + self.merges.iter().filter(|m| m.height > height).count()
    }

    /// The top of the tree for drawing: the last `p - 1` merges over `p` groups (SciPy's
    /// truncate_mode "lastp"), as line segments (x, y) in leaf-order units, with each group's
    /// position and size.
    pub fn top(&self, p: usize) -> DendrogramTop {
        let n = self.n_leaves;
        let p = p.clamp(1, n.max(1));
        let mut walk =
            TopWalk { tree: self, first: self.merges.len().saturating_sub(p - 1), out: DendrogramTop::default() };
        if self.merges.is_empty() {
            walk.out.leaves.push((0.0, 1));
        } else {
            walk.place(n + self.merges.len() - 1);
        }
        walk.out
    }
}

/// Depth-first placement of the drawn merges, left to right.
struct TopWalk<'a> {
    tree: &'a Dendrogram,
    /// The first merge drawn.
    first: usize,
    out: DendrogramTop,
}

impl TopWalk<'_> {
    /// Places group `c` and what is drawn below it; returns its (x, height).
    fn place(&mut self, c: usize) -> (f64, f64) {
        let n = self.tree.n_leaves;
        if c < n || c - n < self.first {
            let x = self.out.leaves.len() as f64;
            let size = match (&self.tree.leaf_of_row, c < n) {
                (_, false) => self.tree.merges[c - n].size,
                (None, true) => 1,
                // A micro-cluster drawn on its own: its customers.
                (Some(rows), true) => rows.iter().filter(|&&r| r == c).count(),
            };
            self.out.leaves.push((x, size));
            return (x, 0.0);
        }
        let m = self.tree.merges[c - n];
        let (xa, ya) = self.place(m.a);
        let (xb, yb) = self.place(m.b);
        self.out.segments.push([[xa, ya], [xa, m.height]]);
        self.out.segments.push([[xb, yb], [xb, m.height]]);
        self.out.segments.push([[xa, m.height], [xb, m.height]]);
        ((xa + xb) / 2.0, m.height)
    }
}

/// The drawable top of a dendrogram.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DendrogramTop {
    /// Line segments [(x0, y0), (x1, y1)].
    pub segments: Vec<[[f64; 2]; 2]>,
    /// Each drawing leaf's x and customers.
    pub leaves: Vec<(f64, usize)>,
}

/// The segment of each row of `x` when its tree is cut at k (numbered by size).
pub fn labels_at(tree: &Dendrogram, x: ArrayView2<f64>, k: usize) -> Result<Vec<usize>, ClusterError> {
    check_k(x, k)?;
    let leaves = if tree.leaf_of_row.is_some() { tree.n_leaves } else { x.nrows() };
    if k > leaves {
        return Err(ClusterError::KTooLarge { k, available: leaves, what: "micro-clusters" });
    }
    Ok(tree.cut(k))
}

/// Hierarchical clustering, described once for the CLI, the Model screen and the project file.
pub const METHOD: MethodInfo = MethodInfo {
    name: "hierarchical",
    label: "Hierarchical",
    hint: "A tree of merges: cut it at any k or height; the dendrogram shows where groups join.",
    has_k: true,
    settings: &[
        Setting::new(
            "linkage",
            "Linkage",
            "ward: compact groups of similar size; average, complete: by member distances",
            Kind::Choice {
                field: "linkage",
                choices: &[("ward", "Ward"), ("average", "Average"), ("complete", "Complete")],
                salt: "linkage",
                absent: None,
            },
        ),
        Setting::new(
            "max-exact-rows",
            "Exact up to",
            "The exact tree needs memory and time growing with the square of the customers (1.6 GB at 20,000); \
             above this, it is built on k-means micro-clusters",
            Kind::Count { field: "max_exact_rows", min: 100, max: 40000, suffix: " customers", max_field: None },
        ),
        Setting::new(
            "micro-clusters",
            "Micro-clusters",
            "Micro-clusters the tree is built on above the exact size",
            Kind::Count {
                field: "micro_clusters",
                min: 2,
                max: 1000000,
                suffix: "",
                max_field: Some("max_exact_rows"),
            },
        ),
    ],
};

params_with_k!(HierarchicalParams);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::metrics::agreement::Crosstab;
    use crate::engine::rng::SeededRng;
    use ndarray::Array2;

    fn blobs(n_per: usize, seed: u64) -> (Array2<f64>, Vec<usize>) {
        let mut rng = SeededRng::new(seed);
        let centres = [[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]];
        let mut values = Vec::new();
        let mut truth = Vec::new();
        for (g, c) in centres.iter().enumerate() {
            for _ in 0..n_per {
                values.extend([c[0] + rng.next_f64() * 2.0, c[1] + rng.next_f64() * 2.0]);
                truth.push(g);
            }
        }
        (Array2::from_shape_vec((4 * n_per, 2), values).unwrap(), truth)
    }

    fn ari(a: &[usize], b: &[usize]) -> f64 {
        let la: Vec<String> = a.iter().map(|v| v.to_string()).collect();
        let lb: Vec<String> = b.iter().map(|v| v.to_string()).collect();
        Crosstab::of(&la, &lb).unwrap().adjusted_rand_index()
    }

    #[test]
    fn matches_scipy_on_a_small_example() {
        // Ward's height is sqrt(2 n_a n_b / (n_a + n_b)) times the distance between the means.
        let x = ndarray::array![[0.0, 0.0], [1.0, 0.0], [5.0, 0.0], [7.0, 0.0], [20.0, 0.0]];
        let cancel = CancelToken::new();
        let ward = Dendrogram::build(x.view(), &HierarchicalParams::new(2), &cancel).unwrap();
        let heights: Vec<f64> = ward.merges.iter().map(|m| m.height).collect();
        let expected_ward = [1.0, 2.0, 2.0f64.sqrt() * 5.5];
        assert!((heights[0] - expected_ward[0]).abs() < 1e-12);
        assert!((heights[1] - expected_ward[1]).abs() < 1e-12);
        assert!((heights[2] - expected_ward[2]).abs() < 1e-12, "{heights:?}");
        assert_eq!((ward.merges[0].a, ward.merges[0].b, ward.merges[0].size), (0, 1, 2));
        assert_eq!((ward.merges[1].a, ward.merges[1].b), (2, 3));
        assert_eq!((ward.merges[2].a, ward.merges[2].b, ward.merges[2].size), (5, 6, 4));
        // The last merge: 2 x 4 x 1 / 5 x |20 - 3.25|^2.
        let last = (2.0f64 * 4.0 * 1.0 / 5.0 * 16.75 * 16.75).sqrt();
        assert!((heights[3] - last).abs() < 1e-9, "{heights:?}");
        let complete = Dendrogram::build(
            x.view(),
            &HierarchicalParams { linkage: Linkage::Complete, ..HierarchicalParams::new(2) },
            &cancel,
        )
        .unwrap();
        assert_eq!(complete.merges.iter().map(|m| m.height).collect::<Vec<_>>(), vec![1.0, 2.0, 7.0, 20.0]);
        let average = Dendrogram::build(
            x.view(),
            &HierarchicalParams { linkage: Linkage::Average, ..HierarchicalParams::new(2) },
            &cancel,
        )
        .unwrap();
        let h: Vec<f64> = average.merges.iter().map(|m| m.height).collect();
        assert!((h[2] - 5.5).abs() < 1e-12 && (h[3] - 16.75).abs() < 1e-12, "{h:?}");
        assert_eq!(ward.cut(2), vec![0, 0, 0, 0, 1]);
        assert_eq!(ward.k_at_height(3.0), 3);
    }

    #[test]
    fn recovers_planted_groups_exactly_and_on_micro_clusters() {
        let (x, truth) = blobs(150, 4);
        for linkage in Linkage::ALL {
            let params = HierarchicalParams { linkage, ..HierarchicalParams::new(4) };
            let tree = Dendrogram::build(x.view(), &params, &CancelToken::new()).unwrap();
            assert_eq!(tree.merges.len(), 599);
            assert!(tree.merges.windows(2).all(|w| w[0].height <= w[1].height));
            assert_eq!(tree.merges.last().unwrap().size, 600);
            assert!(ari(&tree.cut(4), &truth) > 0.99, "{linkage:?}");
            // Micro-clusters: 60 of them for 600 rows.
            let micro = HierarchicalParams { max_exact_rows: 100, micro_clusters: 60, ..params };
            let tree = Dendrogram::build(x.view(), &micro, &CancelToken::new()).unwrap();
            assert_eq!(tree.n_leaves, 60);
            let labels = tree.cut(4);
            assert_eq!(labels.len(), 600);
            assert!(ari(&labels, &truth) > 0.99, "{linkage:?} on micro-clusters");
        }
    }

    #[test]
    fn the_parallel_scan_and_update_give_the_sequential_tree_on_any_number_of_threads() {
        // Above 2 x SCAN_CHUNK rows the scans and updates run in parallel chunks.
        let (x, truth) = blobs(1_100, 6);
        let on = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| Dendrogram::build(x.view(), &HierarchicalParams::new(4), &CancelToken::new()).unwrap())
        };
        let one = on(1);
        assert_eq!(one, on(2));
        assert_eq!(one, on(3));
        assert!(ari(&one.cut(4), &truth) > 0.99);
    }

    #[test]
    fn the_drawn_top_has_p_leaves_and_every_customer() {
        let (x, _) = blobs(50, 2);
        let tree = Dendrogram::build(x.view(), &HierarchicalParams::new(4), &CancelToken::new()).unwrap();
        let top = tree.top(12);
        assert_eq!(top.leaves.len(), 12);
        assert_eq!(top.leaves.iter().map(|l| l.1).sum::<usize>(), 200);
        assert_eq!(top.segments.len(), 3 * 11);
    }

    #[test]
    fn the_build_reports_how_far_it_is_on_its_token() {
        let x = Array2::from_shape_fn((600, 2), |(i, j)| ((i * 7 + j * 13) % 97) as f64);
        let token = CancelToken::new();
        assert_eq!(token.step_fraction(), 0.0);
        Dendrogram::build(x.view(), &HierarchicalParams::new(3), &token).unwrap();
        assert_eq!(token.step_fraction(), 1.0, "the whole step is done");
        // Distances, then every 256 merges, then the end: never backwards, several values midway.
        let steps = token.steps_reported();
        assert!(steps.windows(2).all(|w| w[0] <= w[1]), "{steps:?}");
        let mut midway: Vec<f64> = steps.iter().copied().filter(|&s| s > 0.0 && s < 1.0).collect();
        midway.dedup();
        assert!(midway.len() >= 3, "{steps:?}");
        // A cancel arriving midway stops the merges at their next report.
        let token = CancelToken::new();
        token.cancel_when_past(0.5);
        assert_eq!(Dendrogram::build(x.view(), &HierarchicalParams::new(3), &token), Err(ClusterError::Cancelled));
        assert!(token.steps_reported().iter().all(|&s| s < 1.0), "it stopped before the end");
    }

    #[test]
    fn bad_input_and_cancel() {
        let empty = Array2::<f64>::zeros((0, 2));
        assert_eq!(
            Dendrogram::build(empty.view(), &HierarchicalParams::new(2), &CancelToken::new()),
            Err(ClusterError::EmptyInput)
        );
        let x = ndarray::array![[1.0], [f64::NAN]];
        assert!(Dendrogram::build(x.view(), &HierarchicalParams::new(1), &CancelToken::new()).is_err());
        assert!(HierarchicalParams { micro_clusters: 1, ..HierarchicalParams::new(2) }.check().is_err());
        let (x, _) = blobs(300, 1);
        let cancel = CancelToken::new();
        cancel.cancel();
        assert_eq!(Dendrogram::build(x.view(), &HierarchicalParams::new(2), &cancel), Err(ClusterError::Cancelled));
        let one = ndarray::array![[1.0, 2.0]];
        let tree = Dendrogram::build(one.view(), &HierarchicalParams::new(1), &CancelToken::new()).unwrap();
        assert_eq!(tree.cut(1), vec![0]);
    }
}
