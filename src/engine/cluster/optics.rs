//! OPTICS: DBSCAN's density-based groups without one fixed radius. Customers are put in an order
//! where each one is the closest reachable from those before it; the reachability plot (each
//! customer's reachability distance in that order) shows groups as valleys, dense groups as deep
//! ones, and groups of different densities side by side, which a single DBSCAN eps cannot separate.
//!
//! Groups are read from the plot by the xi method (Ankerst et al. 1999, with scikit-learn's
//! corrections): a valley between a steep drop and a steep rise of at least `xi` is a group, the
//! smallest groups kept where they nest. Customers in no valley are noise.
//!
//! The ordering follows scikit-learn's `compute_optics_graph`: the next customer is the unprocessed
//! one with the smallest reachability (ties to the lowest row), and distances are rounded to 15
//! decimals as there, so both give the same order. Without `max_eps` every customer is reachable
//! from every other and each step scans the unprocessed customers (O(n^2), in parallel); with it a
//! k-d tree finds the neighbours.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use ndarray::ArrayView2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::dbscan::KdTree;
use super::{bounds, check_new_data, validate_matrix};
use crate::engine::cluster::describe::{Kind, MethodInfo, MethodParams, Setting, Shown};
use crate::engine::error::ClusterError;
use crate::engine::jobs::CancelToken;

/// OPTICS settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OpticsParams {
    /// Customers (itself included) that make a neighbourhood dense.
    pub min_samples: usize,
    /// The largest radius considered; `None`: any (every scale, slower).
    pub max_eps: Option<f64>,
    /// The relative steepness that starts or ends a group in the reachability plot (0 to 1).
    pub xi: f64,
    /// Smallest group, in customers; `None`: 5% of the customers (at least `min_samples`).
    pub min_cluster_size: Option<usize>,
    /// Cut the plot at this reachability instead of the xi method (DBSCAN's groups at this eps,
    /// read from the same order); `None`: the xi method.
    pub eps: Option<f64>,
}

impl Default for OpticsParams {
    fn default() -> Self {
        Self { min_samples: 5, max_eps: None, xi: 0.05, min_cluster_size: None, eps: None }
    }
}

impl OpticsParams {
    /// Checks the settings.
    pub fn check(&self) -> Result<(), ClusterError> {
        let bad = |name, problem: &str| Err(ClusterError::InvalidParameter { name, problem: problem.into() });
        bounds::count_in("min_samples", self.min_samples, 2, bounds::MAX_MIN_SAMPLES, "customers")?;
        if let Some(eps) = self.max_eps {
            bounds::real_in("max_eps", eps, 0.0, true, bounds::MAX_EPS)?;
        }
        if !(self.xi > 0.0 && self.xi < 1.0) {
            return bad("xi", "must be between 0 and 1");
        }
        if let Some(eps) = self.eps {
            bounds::real_in("eps", eps, 0.0, true, bounds::MAX_EPS)?;
        }
        if let (Some(eps), Some(max_eps)) = (self.eps, self.max_eps)
            && eps > max_eps
        {
            return bad("eps", "must not be above max_eps (the order knows nothing farther)");
        }
        if let Some(m) = self.min_cluster_size {
            bounds::count_in("min_cluster_size", m, 2, bounds::MAX_MIN_CLUSTER_SIZE, "customers")?;
        }
        Ok(())
    }
}

/// The reachability plot, for the window: distances in the cluster order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReachabilityPlot {
    /// Reachability of each customer in the cluster order (infinite where a new region starts).
    pub reachability: Vec<f64>,
    /// Group of each customer in the cluster order; `None` for noise.
    pub groups: Vec<Option<usize>>,
    /// The settings it was made with.
    pub min_samples: usize,
    /// The steepness used (when groups come from the xi method).
    pub xi: f64,
    /// The cut height, when groups come from a cut instead.
    pub eps: Option<f64>,
}

/// A fitted OPTICS.
#[derive(Clone, Debug, PartialEq)]
pub struct OpticsFit {
    /// Rows in the cluster order.
    pub ordering: Vec<usize>,
    /// Reachability distance of each row (infinite for the first of each region).
    pub reachability: Vec<f64>,
    /// Distance of each row to its `min_samples`-th nearest customer (infinite beyond `max_eps`).
    pub core_distances: Vec<f64>,
    /// Group of each row, numbered by size; `None` for noise.
    pub labels: Vec<Option<usize>>,
    /// Groups found.
    pub n_clusters: usize,
}

impl OpticsFit {
    /// The plot in the cluster order.
    pub fn plot(&self, params: &OpticsParams) -> ReachabilityPlot {
        ReachabilityPlot {
            reachability: self.ordering.iter().map(|&r| self.reachability[r]).collect(),
            groups: self.ordering.iter().map(|&r| self.labels[r]).collect(),
            min_samples: params.min_samples,
            xi: params.xi,
            eps: params.eps,
        }
    }
}

/// Assigns new customers: the group of the nearest grouped customer when it is no farther than that
/// group's own customers are from each other (its largest reachability inside), else noise.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OpticsModel {
    /// Features.
    pub d: usize,
    /// Grouped customers, row-major.
    pub points: Vec<f64>,
    /// Their groups.
    pub labels: Vec<usize>,
    /// Per group, the largest reachability inside it.
    pub reach: Vec<f64>,
    /// The segment number of noise.
    pub noise_segment: usize,
}

impl OpticsModel {
    /// The model of a fit on `x`.
    pub fn new(x: ArrayView2<f64>, fit: &OpticsFit, noise_segment: usize) -> Self {
        let d = x.ncols();
        let mut reach = vec![0.0f64; fit.n_clusters];
        let mut seen = vec![false; fit.n_clusters];
        for &r in &fit.ordering {
            if let Some(g) = fit.labels[r] {
                // The first customer of a group is reached from outside it.
                if seen[g] && fit.reachability[r].is_finite() {
                    reach[g] = reach[g].max(fit.reachability[r]);
                }
                seen[g] = true;
            }
        }
        let rows: Vec<usize> = (0..x.nrows()).filter(|&r| fit.labels[r].is_some()).collect();
        Self {
            d,
            points: rows.iter().flat_map(|&r| x.row(r).to_vec()).collect(),
            labels: rows.iter().filter_map(|&r| fit.labels[r]).collect(),
            reach,
            noise_segment,
        }
    }

    /// The segment of each row of `x` (noise as `noise_segment`).
    pub fn predict(&self, x: ArrayView2<f64>) -> Result<Vec<usize>, ClusterError> {
        check_new_data(x, self.d)?;
        let tree = KdTree::new(&self.points, self.d);
        let radius = self.reach.iter().copied().fold(0.0, f64::max);
        let rows: Vec<Vec<f64>> = x.rows().into_iter().map(|r| r.to_vec()).collect();
        Ok(rows
            .par_iter()
            .map(|point| {
                let mut best = (f64::INFINITY, usize::MAX);
                tree.within(point, radius, &mut |r, dist| {
                    if dist < best.0 || (dist == best.0 && r < best.1) {
                        best = (dist, r);
                    }
                });
                if best.1 == usize::MAX {
                    return self.noise_segment;
                }
                let group = self.labels[best.1];
                if best.0.sqrt() <= self.reach[group] { group } else { self.noise_segment }
            })
            .collect())
    }
}

/// Rounds as scikit-learn does (`np.around(..., decimals=15)`), so equal distances tie the same way.
fn round15(v: f64) -> f64 {
    if v.is_finite() { (v * 1e15).round_ties_even() / 1e15 } else { v }
}

/// Above this many unprocessed customers a step's scan runs in parallel.
const PARALLEL_SCAN: usize = 8_192;

/// Fits OPTICS and extracts groups by the xi method.
pub fn fit_optics(x: ArrayView2<f64>, params: &OpticsParams, cancel: &CancelToken) -> Result<OpticsFit, ClusterError> {
    params.check()?;
    validate_matrix(x)?;
    let (n, d) = x.dim();
    if params.min_samples > n {
        return Err(ClusterError::InvalidParameter {
            name: "min_samples",
            problem: format!("is {} but there are only {n} customers", params.min_samples),
        });
    }
    let standard = x.as_standard_layout();
    let flat: &[f64] = standard.as_slice().unwrap_or_default();
    let row = |r: usize| &flat[r * d..(r + 1) * d];
    let dist =
        |a: usize, b: usize| -> f64 { row(a).iter().zip(row(b)).map(|(p, q)| (p - q) * (p - q)).sum::<f64>().sqrt() };
    let tree = KdTree::new(flat, d);
    let max_eps = params.max_eps.unwrap_or(f64::INFINITY);
    let core_distances: Vec<f64> = (0..n)
        .into_par_iter()
        .map(|r| {
            let c = tree.nearest(row(r), params.min_samples).last().copied().unwrap_or(0.0).sqrt();
            if c > max_eps { f64::INFINITY } else { round15(c) }
        })
        .collect();
    if cancel.is_cancelled() {
        return Err(ClusterError::Cancelled);
    }
    let mut reachability = vec![f64::INFINITY; n];
    let mut predecessor: Vec<Option<usize>> = vec![None; n];
    let mut ordering = Vec::with_capacity(n);
    if max_eps.is_infinite() {
        // Every customer is a neighbour: keep the unprocessed ones with their reachability side by
        // side and scan them once per step, updating and finding the next customer together.
        let mut unprocessed: Vec<usize> = (0..n).collect();
        let mut reach: Vec<f64> = vec![f64::INFINITY; n];
        let mut pred: Vec<Option<usize>> = vec![None; n];
        let mut next = 0usize; // position in `unprocessed` of the next customer
        while !unprocessed.is_empty() {
            if ordering.len() % 1024 == 0 && cancel.is_cancelled() {
                return Err(ClusterError::Cancelled);
            }
            let point = unprocessed.swap_remove(next);
            reachability[point] = reach.swap_remove(next);
            predecessor[point] = pred.swap_remove(next);
            ordering.push(point);
            if unprocessed.is_empty() {
                break;
            }
            let core = core_distances[point];
            // Updates a chunk and returns its smallest (reachability, row, position).
            let scan = |offset: usize, ids: &[usize], reach: &mut [f64], pred: &mut [Option<usize>]| {
                let mut best = (f64::INFINITY, usize::MAX, usize::MAX);
                for (i, (&q, (r, p))) in ids.iter().zip(reach.iter_mut().zip(pred.iter_mut())).enumerate() {
                    if core.is_finite() {
                        let rd = round15(dist(point, q).max(core));
                        if rd < *r {
                            *r = rd;
                            *p = Some(point);
                        }
                    }
                    if *r < best.0 || (*r == best.0 && q < best.1) {
                        best = (*r, q, offset + i);
                    }
                }
                best
            };
            let best = if unprocessed.len() >= PARALLEL_SCAN {
                const CHUNK: usize = 4096;
                unprocessed
                    .par_chunks(CHUNK)
                    .zip(reach.par_chunks_mut(CHUNK).zip(pred.par_chunks_mut(CHUNK)))
                    .enumerate()
                    .map(|(c, (ids, (r, p)))| scan(c * CHUNK, ids, r, p))
                    .reduce(
                        || (f64::INFINITY, usize::MAX, usize::MAX),
                        |a, b| if b.0 < a.0 || (b.0 == a.0 && b.1 < a.1) { b } else { a },
                    )
            } else {
                scan(0, &unprocessed, &mut reach, &mut pred)
            };
            // All remaining reachabilities infinite: the lowest row starts the next region.
            next = best.2;
        }
    } else {
        // Neighbours within max_eps from the tree; the next customer from a heap of improvements.
        let mut processed = vec![false; n];
        let mut heap: BinaryHeap<Reverse<(u64, usize)>> = BinaryHeap::new();
        let mut lowest_unprocessed = 0usize;
        while ordering.len() < n {
            if ordering.len() % 1024 == 0 && cancel.is_cancelled() {
                return Err(ClusterError::Cancelled);
            }
            let mut point = None;
            while let Some(Reverse((bits, q))) = heap.pop() {
                // Skip stale entries (processed, or since improved).
                if !processed[q] && f64::from_bits(bits) == reachability[q] {
                    point = Some(q);
                    break;
                }
            }
            let point = match point {
                Some(p) => p,
                None => {
                    while processed[lowest_unprocessed] {
                        lowest_unprocessed += 1;
                    }
                    lowest_unprocessed
                }
            };
            processed[point] = true;
            ordering.push(point);
            let core = core_distances[point];
            if core.is_finite() {
                tree.within(row(point), max_eps, &mut |q, sq| {
                    if !processed[q] {
                        let rd = round15(sq.sqrt().max(core));
                        if rd < reachability[q] {
                            reachability[q] = rd;
                            predecessor[q] = Some(point);
                            // Non-negative floats order like their bits.
                            heap.push(Reverse((rd.to_bits(), q)));
                        }
                    }
                });
            }
        }
    }
    if cancel.is_cancelled() {
        return Err(ClusterError::Cancelled);
    }
    let plot: Vec<f64> = ordering.iter().map(|&r| reachability[r]).collect();
    let (in_order, found) = match params.eps {
        Some(eps) => cut_at(&plot, &ordering, &core_distances, eps),
        None => {
            let min_cluster_size =
                params.min_cluster_size.unwrap_or((n / 20).max(params.min_samples)).max(params.min_samples.min(n));
            let pred_plot: Vec<Option<usize>> = ordering.iter().map(|&r| predecessor[r]).collect();
            let clusters = xi_clusters(&plot, &pred_plot, &ordering, params.xi, params.min_samples, min_cluster_size);
            // Smaller groups first: a position keeps the first group that covers it wholly unlabelled.
            let mut in_order: Vec<Option<usize>> = vec![None; n];
            let mut found = 0usize;
            for &(start, end) in &clusters {
                if in_order[start..=end].iter().all(Option::is_none) {
                    in_order[start..=end].iter_mut().for_each(|l| *l = Some(found));
                    found += 1;
                }
            }
            (in_order, found)
        }
    };
    let mut raw = vec![None; n];
    for (pos, &r) in ordering.iter().enumerate() {
        raw[r] = in_order[pos];
    }
    // Number groups by size (largest first), ties by their first row.
    let mut counts = vec![(0usize, usize::MAX); found];
    for (r, l) in raw.iter().enumerate() {
        if let Some(g) = l {
            counts[*g].0 += 1;
            counts[*g].1 = counts[*g].1.min(r);
        }
    }
    let mut by_size: Vec<usize> = (0..found).collect();
    by_size.sort_by(|&a, &b| counts[b].0.cmp(&counts[a].0).then(counts[a].1.cmp(&counts[b].1)));
    let mut number = vec![0usize; found];
    for (i, &g) in by_size.iter().enumerate() {
        number[g] = i;
    }
    let labels = raw.iter().map(|l| l.map(|g| number[g])).collect();
    Ok(OpticsFit { ordering, reachability, core_distances, labels, n_clusters: found })
}

/// DBSCAN's groups at `eps` from the order (scikit-learn's `cluster_optics_dbscan`): a customer
/// farther than eps from those before it starts a new group if it is core at eps, else is noise.
fn cut_at(plot: &[f64], ordering: &[usize], core_distances: &[f64], eps: f64) -> (Vec<Option<usize>>, usize) {
    let mut groups = Vec::with_capacity(plot.len());
    let mut current: Option<usize> = None;
    let mut found = 0usize;
    for (pos, &r) in ordering.iter().enumerate() {
        let far = plot[pos] > eps;
        let near_core = core_distances[r] <= eps;
        if far && near_core {
            current = Some(found);
            found += 1;
        }
        groups.push(if far && !near_core { None } else { current });
    }
    (groups, found)
}

/// A steep area's start, end and the largest reachability seen after it (`mib`).
struct SteepDown {
    start: usize,
    end: usize,
    mib: f64,
}

/// The end of a steep area starting at `start`: it continues through steep points and at most
/// `min_samples` consecutive points that still go the same way (not against it).
fn extend_region(steep: &[bool], against: &[bool], start: usize, min_samples: usize) -> usize {
    let mut non_steep = 0;
    let mut end = start;
    for index in start..steep.len() {
        if steep[index] {
            non_steep = 0;
            end = index;
        } else if !against[index] {
            non_steep += 1;
            if non_steep > min_samples {
                break;
            }
        } else {
            return end;
        }
    }
    end
}

/// Walks the cluster back from its end while the end's predecessor is not inside it.
fn correct_predecessor(
    plot: &[f64],
    pred: &[Option<usize>],
    ordering: &[usize],
    s: usize,
    mut e: usize,
) -> Option<(usize, usize)> {
    while s < e {
        if plot[s] > plot[e] {
            return Some((s, e));
        }
        if let Some(p) = pred[e]
            && ordering[s..e].contains(&p)
        {
            return Some((s, e));
        }
        e -= 1;
    }
    None
}

/// The groups (start, end positions in the cluster order) the xi method finds, smaller ones first
/// where they nest. `plot` is the reachability in the cluster order.
fn xi_clusters(
    plot: &[f64],
    pred: &[Option<usize>],
    ordering: &[usize],
    xi: f64,
    min_samples: usize,
    min_cluster_size: usize,
) -> Vec<(usize, usize)> {
    let n = plot.len();
    // An infinite value after the end finds groups that reach the end of the plot.
    let mut r: Vec<f64> = plot.to_vec();
    r.push(f64::INFINITY);
    let keep = 1.0 - xi;
    let ratio: Vec<f64> = (0..n).map(|i| r[i] / r[i + 1]).collect(); // NaN for inf/inf
    let steep_up: Vec<bool> = ratio.iter().map(|&q| q <= keep).collect();
    let steep_down: Vec<bool> = ratio.iter().map(|&q| q >= 1.0 / keep).collect();
    let down: Vec<bool> = ratio.iter().map(|&q| q > 1.0).collect();
    let up: Vec<bool> = ratio.iter().map(|&q| q < 1.0).collect();
    let mut sdas: Vec<SteepDown> = Vec::new();
    let mut clusters = Vec::new();
    let mut index = 0usize;
    let mut mib = 0.0f64;
    let update = |sdas: Vec<SteepDown>, mib: f64, r: &[f64]| -> Vec<SteepDown> {
        if mib.is_infinite() {
            return Vec::new();
        }
        sdas.into_iter()
            .filter(|s| mib <= r[s.start] * keep)
            .map(|mut s| {
                s.mib = s.mib.max(mib);
                s
            })
            .collect()
    };
    for steep_index in 0..n {
        if !(steep_up[steep_index] || steep_down[steep_index]) || steep_index < index {
            continue;
        }
        mib = r[index..=steep_index].iter().copied().fold(mib, f64::max);
        sdas = update(std::mem::take(&mut sdas), mib, &r);
        if steep_down[steep_index] {
            let end = extend_region(&steep_down, &up, steep_index, min_samples);
            sdas.push(SteepDown { start: steep_index, end, mib: 0.0 });
            index = end + 1;
            mib = r[index];
        } else {
            let u_start = steep_index;
            let u_end = extend_region(&steep_up, &down, u_start, min_samples);
            index = u_end + 1;
            mib = r[index];
            let mut found = Vec::new();
            for sda in &sdas {
                let mut c_start = sda.start;
                let mut c_end = u_end;
                if r[c_end + 1] * keep < sda.mib {
                    continue;
                }
                let d_max = r[sda.start];
                if d_max * keep >= r[c_end + 1] {
                    while r[c_start + 1] > r[c_end + 1] && c_start < sda.end {
                        c_start += 1;
                    }
                } else if r[c_end + 1] * keep >= d_max {
                    while r[c_end - 1] > d_max && c_end > u_start {
                        c_end -= 1;
                    }
                }
                let Some((s, e)) = correct_predecessor(&r, pred, ordering, c_start, c_end) else {
                    continue;
                };
                if e - s + 1 < min_cluster_size || s > sda.end || e < u_start {
                    continue;
                }
                found.push((s, e));
            }
            found.reverse();
            clusters.extend(found);
        }
    }
    clusters
}

/// OPTICS, described once for the CLI, the Model screen and the project file.
pub const METHOD: MethodInfo = MethodInfo {
    name: "optics",
    label: "OPTICS",
    hint: "DBSCAN at every density at once: the reachability plot shows groups as valleys, dense and sparse \
           ones side by side.",
    has_k: false,
    settings: &[
        Setting::new(
            "min-samples",
            "Core: neighbours",
            "Customers, itself included, that make a neighbourhood dense",
            Kind::Count { field: "min_samples", min: 2, max: 1_000, suffix: "", max_field: None },
        ),
        Setting::new(
            "groups-from",
            "Groups from",
            "",
            Kind::Mode {
                field: "eps",
                unset: ("steepness (xi)", "Valleys of the reachability plot between steep edges"),
                set: ("a cut at height", "DBSCAN's groups at that radius, read from the same order", 0.5),
            },
        )
        .window_only(),
        Setting::new(
            "xi",
            "Steepness (xi)",
            "How sharply reachability must drop and rise around a group",
            Kind::Number { field: "xi", min: 0.001, max: 0.99, speed: 0.005, decimals: Some(3) },
        )
        .shown(Shown::Unset("eps")),
        Setting::new(
            "min-cluster-size",
            "Smallest group",
            "Smallest group, in customers",
            Kind::AutoCount {
                field: "min_cluster_size",
                auto: "5% of customers",
                auto_help: "",
                default: 50,
                min: 2,
                max: 1_000_000,
                suffix: " customers",
            },
        )
        .shown(Shown::Unset("eps")),
        Setting::new(
            "eps",
            "Cut height (eps)",
            "Cut the reachability plot at this height instead of the xi method (or click the plot)",
            Kind::SetNumber { field: "eps", default: 0.5, min: 1e-6, max: 1e6, decimals: Some(4) },
        )
        .shown(Shown::Set("eps")),
        Setting::new(
            "max-eps",
            "Largest radius",
            "The largest radius OPTICS looks",
            Kind::AutoNumber {
                field: "max_eps",
                auto: "any",
                auto_help: "Every scale (each customer measured against every other; slower above 100,000 customers)",
                default: 2.0,
                min: 1e-6,
                max: 1e6,
                decimals: Some(4),
            },
        ),
    ],
};

impl MethodParams for OpticsParams {
    fn check(&self) -> Result<(), ClusterError> {
        self.check()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::metrics::agreement::Crosstab;
    use crate::engine::rng::SeededRng;
    use ndarray::Array2;

    fn ari(a: &[usize], b: &[usize]) -> f64 {
        let text = |v: &[usize]| v.iter().map(|l| l.to_string()).collect::<Vec<_>>();
        Crosstab::of(&text(a), &text(b)).unwrap().adjusted_rand_index()
    }

    /// A standard normal draw (Box-Muller).
    fn normal(rng: &mut SeededRng) -> f64 {
        let u = rng.next_f64().max(1e-300);
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * rng.next_f64()).cos()
    }

    /// A dense group, a group four times as spread, and scattered noise: no single DBSCAN eps
    /// separates both groups from the noise, OPTICS does.
    fn two_densities() -> (Array2<f64>, Vec<usize>) {
        let mut rng = SeededRng::new(5);
        let mut rows = Vec::new();
        let mut truth = Vec::new();
        for (g, (cx, cy, spread, count)) in [(0.0, 0.0, 0.3, 300), (12.0, 0.0, 1.2, 300)].into_iter().enumerate() {
            for _ in 0..count {
                rows.push([cx + spread * normal(&mut rng), cy + spread * normal(&mut rng)]);
                truth.push(g);
            }
        }
        for _ in 0..20 {
            rows.push([rng.next_f64() * 40.0 - 14.0, 20.0 + rng.next_f64() * 20.0]);
            truth.push(2);
        }
        let x = Array2::from_shape_vec((rows.len(), 2), rows.concat()).unwrap();
        (x, truth)
    }

    #[test]
    fn finds_groups_of_different_densities_and_their_noise() {
        let (x, truth) = two_densities();
        // scikit-learn's OPTICS(xi=0.1, min_cluster_size=0.05) finds exactly these groups here.
        let params = OpticsParams { xi: 0.1, ..OpticsParams::default() };
        let fit = fit_optics(x.view(), &params, &CancelToken::new()).unwrap();
        assert_eq!(fit.n_clusters, 2);
        let found: Vec<usize> = fit.labels.iter().map(|l| l.unwrap_or(2)).collect();
        assert_eq!(ari(&found, &truth), 1.0);
        // The ordering is a permutation and only region starts are unreachable.
        let mut sorted = fit.ordering.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..x.nrows()).collect::<Vec<_>>());
        assert!(fit.reachability[fit.ordering[0]].is_infinite());
        assert_eq!(fit.reachability.iter().filter(|r| r.is_infinite()).count(), 1);
    }

    #[test]
    fn a_max_eps_gives_the_same_order_as_scanning_everything_when_it_covers_all_distances() {
        let (x, _) = two_densities();
        let all = fit_optics(x.view(), &OpticsParams::default(), &CancelToken::new()).unwrap();
        let wide = OpticsParams { max_eps: Some(1e6), ..OpticsParams::default() };
        let tree = fit_optics(x.view(), &wide, &CancelToken::new()).unwrap();
        assert_eq!(all.ordering, tree.ordering);
        assert_eq!(all.labels, tree.labels);
        // A small max_eps cuts the far customers off: more regions start.
        let narrow = OpticsParams { max_eps: Some(1.0), ..OpticsParams::default() };
        let cut = fit_optics(x.view(), &narrow, &CancelToken::new()).unwrap();
        assert!(cut.reachability.iter().filter(|r| r.is_infinite()).count() > 1);
    }

    #[test]
    fn a_cut_at_eps_groups_core_customers_as_dbscan_does() {
        use crate::engine::cluster::dbscan::{DbscanParams, fit_dbscan};
        let (x, _) = two_densities();
        let eps = 0.6;
        let params = OpticsParams { eps: Some(eps), ..OpticsParams::default() };
        let fit = fit_optics(x.view(), &params, &CancelToken::new()).unwrap();
        let dbscan =
            fit_dbscan(x.view(), &DbscanParams { eps: Some(eps), ..DbscanParams::default() }, &CancelToken::new())
                .unwrap();
        assert_eq!(fit.n_clusters, dbscan.n_clusters);
        let core: Vec<usize> = (0..x.nrows()).filter(|&r| dbscan.core[r]).collect();
        let a: Vec<usize> = core.iter().map(|&r| fit.labels[r].unwrap()).collect();
        let b: Vec<usize> = core.iter().map(|&r| dbscan.labels[r].unwrap()).collect();
        assert_eq!(ari(&a, &b), 1.0);
        // Noise is the customers DBSCAN leaves out too.
        let noise = |labels: &[Option<usize>]| labels.iter().filter(|l| l.is_none()).count();
        assert_eq!(noise(&fit.labels), noise(&dbscan.labels));
    }

    #[test]
    fn matches_a_hand_worked_order_and_scikit_learns_groups() {
        // Points on a line; min_samples 2: each core distance is the gap to the nearest neighbour.
        // scikit-learn (1.9.1) gives ordering [0 1 2 3 4 5 6 7] and labels [0 0 0 0 1 1 1 1] here.
        let x = ndarray::array![[0.0], [1.0], [2.0], [3.0], [10.0], [11.0], [12.0], [13.0]];
        let params = OpticsParams { min_samples: 2, ..OpticsParams::default() };
        let fit = fit_optics(x.view(), &params, &CancelToken::new()).unwrap();
        assert_eq!(fit.ordering, (0..8).collect::<Vec<_>>());
        assert_eq!(fit.reachability[1..4], [1.0, 1.0, 1.0]);
        assert_eq!(fit.reachability[4], 7.0);
        let groups: Vec<Option<usize>> = fit.labels.clone();
        assert_eq!(groups[0..4], [groups[0]; 4]);
        assert_eq!(groups[4..8], [groups[4]; 4]);
        assert!(groups[0].is_some() && groups[4].is_some() && groups[0] != groups[4]);
    }

    #[test]
    fn same_answer_on_any_thread_count_and_new_customers_are_placed() {
        let (x, _) = two_densities();
        // Enough customers for the parallel scan.
        let big = ndarray::concatenate(ndarray::Axis(0), &vec![x.view(); 15]).unwrap();
        let big = &big + &Array2::from_shape_fn(big.dim(), |(r, c)| ((r * 7 + c * 3) % 11) as f64 * 1e-3);
        let run = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| fit_optics(big.view(), &OpticsParams::default(), &CancelToken::new()).unwrap())
        };
        let (one, four) = (run(1), run(4));
        assert_eq!(one.ordering, four.ordering);
        assert_eq!(one.labels, four.labels);
        let fit = fit_optics(x.view(), &OpticsParams::default(), &CancelToken::new()).unwrap();
        let model = OpticsModel::new(x.view(), &fit, fit.n_clusters);
        let placed = model.predict(x.view()).unwrap();
        for (r, l) in fit.labels.iter().enumerate() {
            if let Some(g) = l {
                assert_eq!(placed[r], *g, "row {r}");
            }
        }
        let far = ndarray::array![[500.0, 500.0]];
        assert_eq!(model.predict(far.view()).unwrap(), vec![fit.n_clusters]);
        assert!(model.predict(ndarray::array![[1.0]].view()).is_err());
    }

    #[test]
    fn bad_settings_and_inputs_are_refused() {
        let x = ndarray::array![[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]];
        let cancel = CancelToken::new();
        for params in [
            OpticsParams { min_samples: 1, ..OpticsParams::default() },
            OpticsParams { xi: 0.0, ..OpticsParams::default() },
            OpticsParams { xi: 1.0, ..OpticsParams::default() },
            OpticsParams { max_eps: Some(-1.0), ..OpticsParams::default() },
            OpticsParams { max_eps: Some(f64::NAN), ..OpticsParams::default() },
            OpticsParams { min_cluster_size: Some(1), ..OpticsParams::default() },
            OpticsParams { eps: Some(0.0), ..OpticsParams::default() },
            OpticsParams { eps: Some(2.0), max_eps: Some(1.0), ..OpticsParams::default() },
        ] {
            assert!(fit_optics(x.view(), &params, &cancel).is_err(), "{params:?}");
        }
        // More min_samples than customers.
        assert!(fit_optics(x.view(), &OpticsParams::default(), &cancel).is_err());
        let cancelled = CancelToken::new();
        cancelled.cancel();
        let (big, _) = two_densities();
        assert!(matches!(fit_optics(big.view(), &OpticsParams::default(), &cancelled), Err(ClusterError::Cancelled)));
    }
}
