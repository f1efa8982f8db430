//! Self-organising map: a grid of nodes whose weights are fitted to the customers (batch SOM: each
//! epoch every customer finds its best-matching node, then every node moves to the mean of the
//! customers matched near it on the grid, with a neighbourhood that shrinks from epoch to epoch).
//! Neighbouring nodes end up alike, so the grid is a map of the customer space; the U-matrix shows
//! where the map stretches (large distances between neighbouring nodes: borders between groups).
//! Segments are the nodes clustered by Ward's method (nodes without customers join their nearest
//! clustered node), so one trained map gives every k.

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::hierarchical::{Dendrogram, HierarchicalParams, Linkage};
use super::{bounds, check_new_data, validate_matrix};
use crate::engine::cluster::describe::{Kind, MethodInfo, Setting, params_with_k};
use crate::engine::error::ClusterError;
use crate::engine::jobs::CancelToken;
use crate::engine::rng::SeededRng;

/// SOM settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SomParams {
    /// Segments (the nodes are clustered into k groups).
    pub k: usize,
    /// Grid rows.
    pub rows: usize,
    /// Grid columns.
    pub cols: usize,
    /// Training passes over the customers.
    pub epochs: usize,
    /// Seed of the initial weights (customers drawn at random).
    pub seed: u64,
}

impl Default for SomParams {
    fn default() -> Self {
        Self { k: 4, rows: 10, cols: 10, epochs: 20, seed: 42 }
    }
}

impl SomParams {
    /// Checks every setting against its bound in [`bounds`]; training calls this first. The grid's
    /// size is multiplied with checked arithmetic, so no `rows × cols` wraps past the bound.
    pub fn check(&self) -> Result<(), ClusterError> {
        bounds::count_in("k", self.k, 1, bounds::MAX_K, "segments")?;
        bounds::count_in("rows", self.rows, 1, bounds::MAX_GRID_NODES, "grid rows")?;
        bounds::count_in("cols", self.cols, 1, bounds::MAX_GRID_NODES, "grid columns")?;
        bounds::product_within("rows × cols", &[self.rows, self.cols], bounds::MAX_GRID_NODES, "grid nodes")?;
        bounds::count_in("epochs", self.epochs, 1, bounds::MAX_EPOCHS, "epochs")?;
        Ok(())
    }
}

/// A trained map.
#[derive(Clone, Debug, PartialEq)]
pub struct SomMap {
    /// Grid rows and columns.
    pub rows: usize,
    /// Grid columns.
    pub cols: usize,
    /// Node weights, (rows x cols) x d, row-major by grid row.
    pub weights: Array2<f64>,
    /// Best-matching node of each customer.
    pub bmu: Vec<usize>,
    /// Customers per node.
    pub hits: Vec<usize>,
    /// Per node, the mean distance to its grid neighbours' weights.
    pub u_matrix: Vec<f64>,
    /// Ward's tree over the nodes with customers, and which nodes those are.
    tree: Dendrogram,
    hit_nodes: Vec<usize>,
}

/// The best-matching node of a point.
fn best_node(point: &[f64], weights: &[f64], d: usize) -> usize {
    let mut best = (f64::INFINITY, 0);
    for (node, w) in weights.chunks_exact(d).enumerate() {
        let dist: f64 = point.iter().zip(w).map(|(a, b)| (a - b) * (a - b)).sum();
        if dist < best.0 {
            best = (dist, node);
        }
    }
    best.1
}

/// Rows per parallel chunk of the epoch sums (fixed, so sums do not depend on the thread count).
const CHUNK: usize = 4096;

impl SomMap {
    /// Trains a map on `x`.
    pub fn train(x: ArrayView2<f64>, params: &SomParams, cancel: &CancelToken) -> Result<Self, ClusterError> {
        params.check()?;
        validate_matrix(x)?;
        let (n, d) = x.dim();
        let (rows, cols) = (params.rows, params.cols);
        let nodes = bounds::product_within("rows × cols", &[rows, cols], bounds::MAX_GRID_NODES, "grid nodes")?;
        bounds::product_within("rows × cols × features", &[rows, cols, d], bounds::MAX_MODEL_VALUES, "map weights")?;
        let standard = x.as_standard_layout();
        let flat: &[f64] = standard.as_slice().unwrap_or_default();
        let mut rng = SeededRng::new(params.seed);
        let mut weights: Vec<f64> = (0..nodes).flat_map(|_| flat[rng.below(n) * d..][..d].to_vec()).collect();
        let position = |node: usize| ((node / cols) as f64, (node % cols) as f64);
        let start_sigma = (rows.max(cols) as f64 / 2.0).max(1.0);
        let end_sigma = 0.5f64;
        let mut bmu = vec![0usize; n];
        for epoch in 0..params.epochs {
            if cancel.is_cancelled() {
                return Err(ClusterError::Cancelled);
            }
            let t = if params.epochs > 1 { epoch as f64 / (params.epochs - 1) as f64 } else { 1.0 };
            let sigma = start_sigma * (end_sigma / start_sigma).powf(t);
            // Best-matching nodes, and per node the sum and count of its customers.
            let partials: Vec<(Vec<f64>, Vec<f64>)> = bmu
                .par_chunks_mut(CHUNK)
                .enumerate()
                .map(|(c, out)| {
                    let mut sums = vec![0.0; nodes * d];
                    let mut counts = vec![0.0; nodes];
                    for (i, slot) in out.iter_mut().enumerate() {
                        let r = c * CHUNK + i;
                        let point = &flat[r * d..(r + 1) * d];
                        let node = best_node(point, &weights, d);
                        *slot = node;
                        counts[node] += 1.0;
                        for (s, v) in sums[node * d..(node + 1) * d].iter_mut().zip(point) {
                            *s += v;
                        }
                    }
                    (sums, counts)
                })
                .collect();
            let mut sums = vec![0.0; nodes * d];
            let mut counts = vec![0.0; nodes];
            for (s, c) in partials {
                sums.iter_mut().zip(&s).for_each(|(a, b)| *a += b);
                counts.iter_mut().zip(&c).for_each(|(a, b)| *a += b);
            }
            // Each node: the neighbourhood-weighted mean of the nodes' customers.
            let mut next = vec![0.0; nodes * d];
            for node in 0..nodes {
                let (pr, pc) = position(node);
                let mut total = 0.0;
                let out = &mut next[node * d..(node + 1) * d];
                for other in 0..nodes {
                    if counts[other] == 0.0 {
                        continue;
                    }
                    let (or, oc) = position(other);
                    let h = (-((pr - or).powi(2) + (pc - oc).powi(2)) / (2.0 * sigma * sigma)).exp();
                    if h < 1e-12 {
                        continue;
                    }
                    total += h * counts[other];
                    for (o, s) in out.iter_mut().zip(&sums[other * d..(other + 1) * d]) {
                        *o += h * s;
                    }
                }
                if total > 0.0 {
                    out.iter_mut().for_each(|v| *v /= total);
                } else {
                    out.copy_from_slice(&weights[node * d..(node + 1) * d]);
                }
            }
            weights = next;
        }
        // Final matches against the final weights.
        bmu.par_iter_mut().enumerate().for_each(|(r, slot)| *slot = best_node(&flat[r * d..(r + 1) * d], &weights, d));
        let mut hits = vec![0usize; nodes];
        for &b in &bmu {
            hits[b] += 1;
        }
        let u_matrix = (0..nodes)
            .map(|node| {
                let (r, c) = (node / cols, node % cols);
                let mut neighbours = Vec::new();
                if r > 0 {
                    neighbours.push(node - cols);
                }
                if r + 1 < rows {
                    neighbours.push(node + cols);
                }
                if c > 0 {
                    neighbours.push(node - 1);
                }
                if c + 1 < cols {
                    neighbours.push(node + 1);
                }
                let w = &weights[node * d..(node + 1) * d];
                let total: f64 = neighbours
                    .iter()
                    .map(|&o| {
                        w.iter().zip(&weights[o * d..(o + 1) * d]).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt()
                    })
                    .sum();
                if neighbours.is_empty() { 0.0 } else { total / neighbours.len() as f64 }
            })
            .collect();
        let hit_nodes: Vec<usize> = (0..nodes).filter(|&node| hits[node] > 0).collect();
        let hit_weights = Array2::from_shape_fn((hit_nodes.len(), d), |(i, j)| weights[hit_nodes[i] * d + j]);
        let tree_params = HierarchicalParams {
            k: 1,
            linkage: Linkage::Ward,
            max_exact_rows: hit_nodes.len().max(2),
            micro_clusters: 2,
            seed: params.seed,
        };
        let tree = Dendrogram::build(hit_weights.view(), &tree_params, cancel)?;
        let weights = Array2::from_shape_vec((nodes, d), weights).map_err(|e| ClusterError::Failed(e.to_string()))?;
        Ok(Self { rows, cols, weights, bmu, hits, u_matrix, tree, hit_nodes })
    }

    /// Nodes with customers (at most that many segments).
    pub fn n_hit_nodes(&self) -> usize {
        self.hit_nodes.len()
    }

    /// The segment of every node at k (nodes without customers take their nearest clustered
    /// node's), numbered by customers.
    pub fn node_segments(&self, k: usize) -> Result<Vec<usize>, ClusterError> {
        if k > self.hit_nodes.len() {
            return Err(ClusterError::KTooLarge {
                k,
                available: self.hit_nodes.len(),
                what: "map nodes with customers",
            });
        }
        let groups = self.tree.cut(k);
        // Renumber by customers (the tree numbers by nodes).
        let mut customers = vec![0usize; k];
        for (i, &node) in self.hit_nodes.iter().enumerate() {
            customers[groups[i]] += self.hits[node];
        }
        let mut order: Vec<usize> = (0..k).collect();
        order.sort_by(|&a, &b| customers[b].cmp(&customers[a]).then(a.cmp(&b)));
        let mut renumber = vec![0; k];
        for (new, &old) in order.iter().enumerate() {
            renumber[old] = new;
        }
        let mut segment = vec![usize::MAX; self.hits.len()];
        for (i, &node) in self.hit_nodes.iter().enumerate() {
            segment[node] = renumber[groups[i]];
        }
        let d = self.weights.ncols();
        for node in 0..segment.len() {
            if segment[node] == usize::MAX {
                let w = self.weights.row(node);
                let nearest = self
                    .hit_nodes
                    .iter()
                    .min_by(|&&a, &&b| {
                        let da: f64 = (0..d).map(|j| (w[j] - self.weights[[a, j]]).powi(2)).sum();
                        let db: f64 = (0..d).map(|j| (w[j] - self.weights[[b, j]]).powi(2)).sum();
                        da.total_cmp(&db)
                    })
                    .copied()
                    .unwrap_or(0);
                segment[node] = segment[nearest];
            }
        }
        Ok(segment)
    }

    /// The segment of every customer at k.
    pub fn labels(&self, k: usize) -> Result<Vec<usize>, ClusterError> {
        let nodes = self.node_segments(k)?;
        Ok(self.bmu.iter().map(|&b| nodes[b]).collect())
    }
}

/// Assignment of new customers: their best-matching node's segment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SomModel {
    /// Node weights, row-major.
    pub weights: Vec<f64>,
    /// Features.
    pub d: usize,
    /// Segment of each node.
    pub node_segments: Vec<usize>,
}

impl SomModel {
    /// The segment of each row of `x`.
    pub fn predict(&self, x: ArrayView2<f64>) -> Result<Vec<usize>, ClusterError> {
        check_new_data(x, self.d)?;
        Ok(x.rows()
            .into_iter()
            .map(|row| self.node_segments[best_node(&row.to_vec(), &self.weights, self.d)])
            .collect())
    }
}

/// The self-organising map, described once for the CLI, the Model screen and the project file.
pub const METHOD: MethodInfo = MethodInfo {
    name: "som",
    label: "Self-organising map",
    hint: "A grid of nodes fitted to the customers, clustered into segments; the U-matrix shows the borders.",
    has_k: true,
    settings: &[
        Setting::new(
            "grid",
            "Map grid",
            "Map grid, rows x columns",
            Kind::Grid { fields: ["rows", "cols"], labels: ["Map rows", "Map columns"], min: 2, max: 60 },
        ),
        Setting::new(
            "epochs",
            "Epochs",
            "Training passes; the neighbourhood shrinks from half the map to half a node",
            Kind::Count { field: "epochs", min: 1, max: 500, suffix: "", max_field: None },
        ),
    ],
};

params_with_k!(SomParams);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::metrics::agreement::Crosstab;

    fn blobs() -> (Array2<f64>, Vec<usize>) {
        let mut rng = SeededRng::new(8);
        let centres = [[0.0, 0.0, 0.0], [8.0, 0.0, 0.0], [0.0, 8.0, 0.0], [0.0, 0.0, 8.0]];
        let mut values = Vec::new();
        let mut truth = Vec::new();
        for (g, c) in centres.iter().enumerate() {
            for _ in 0..200 {
                values.extend(c.iter().map(|v| v + rng.next_f64()));
                truth.push(g);
            }
        }
        (Array2::from_shape_vec((800, 3), values).unwrap(), truth)
    }

    #[test]
    fn recovers_planted_groups_and_the_u_matrix_marks_the_borders() {
        let (x, truth) = blobs();
        let params = SomParams { rows: 6, cols: 6, ..SomParams::default() };
        let map = SomMap::train(x.view(), &params, &CancelToken::new()).unwrap();
        let labels = map.labels(4).unwrap();
        let la: Vec<String> = labels.iter().map(|v| v.to_string()).collect();
        let lb: Vec<String> = truth.iter().map(|v| v.to_string()).collect();
        assert!(Crosstab::of(&la, &lb).unwrap().adjusted_rand_index() > 0.99);
        assert_eq!(map.hits.iter().sum::<usize>(), 800);
        // Nodes at a border between groups sit far from a neighbour; nodes inside a group do not.
        let (lo, hi) = map.u_matrix.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &u| (lo.min(u), hi.max(u)));
        assert!(hi > 5.0 * lo.max(1e-9), "{lo} .. {hi}");
        let nodes = map.node_segments(4).unwrap();
        let model = SomModel { weights: map.weights.iter().copied().collect(), d: 3, node_segments: nodes };
        assert_eq!(model.predict(x.view()).unwrap(), labels);
    }

    #[test]
    fn identical_on_one_and_three_threads_and_bad_settings_refused() {
        let (x, _) = blobs();
        let on = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| SomMap::train(x.view(), &SomParams::default(), &CancelToken::new()).unwrap())
        };
        assert_eq!(on(1), on(3));
        assert!(SomParams { rows: 0, ..SomParams::default() }.check().is_err());
        let map = on(1);
        assert!(matches!(map.labels(500), Err(ClusterError::KTooLarge { .. })));
        let cancel = CancelToken::new();
        cancel.cancel();
        assert_eq!(SomMap::train(x.view(), &SomParams::default(), &cancel), Err(ClusterError::Cancelled));
    }
}
