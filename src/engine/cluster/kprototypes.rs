//! k-prototypes (Huang 1997) for customers described by numeric and categorical features together:
//! a segment's prototype is the mean of its numeric features and the mode of each categorical one;
//! the distance is the squared Euclidean distance on the numeric part plus gamma times the number of
//! categorical features that differ. Categorical features arrive one-hot encoded in the feature
//! matrix (one column per level); each group of columns is read back as one category.

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{bounds, count_distinct_rows, validate_matrix};
use crate::engine::cluster::describe::{Kind, MethodInfo, Setting, params_with_k};
use crate::engine::error::ClusterError;
use crate::engine::jobs::CancelToken;
use crate::engine::rng::SeededRng;

/// k-prototypes settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KPrototypesParams {
    /// Number of segments.
    pub k: usize,
    /// Weight of one differing category against squared numeric distance; `None`: half the mean
    /// standard deviation of the numeric features (Huang's suggestion).
    pub gamma: Option<f64>,
    /// Initialisations; the lowest cost is kept.
    pub n_init: usize,
    /// Iterations at most per initialisation.
    pub max_iter: usize,
    /// Seed.
    pub seed: u64,
    /// Which matrix columns are categories: filled in from the recipe for each run, never stored.
    #[serde(skip)]
    pub layout: Option<ColumnLayout>,
}

impl Default for KPrototypesParams {
    fn default() -> Self {
        Self { k: 4, gamma: None, n_init: 5, max_iter: 100, seed: 42, layout: None }
    }
}

impl KPrototypesParams {
    /// Checks every setting against its bound in [`bounds`]; fitting calls this first.
    pub fn check(&self) -> Result<(), ClusterError> {
        bounds::count_in("k", self.k, 1, bounds::MAX_K, "segments")?;
        bounds::count_in("n_init", self.n_init, 1, bounds::MAX_N_INIT, "initialisations")?;
        bounds::count_in("max_iter", self.max_iter, 1, bounds::MAX_ITER, "iterations")?;
        if let Some(g) = self.gamma {
            bounds::real_in("gamma", g, 0.0, false, bounds::MAX_GAMMA)?;
        }
        Ok(())
    }
}

/// Which matrix columns are numeric and which groups of one-hot columns are one category each.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ColumnLayout {
    /// Numeric columns.
    pub numeric: Vec<usize>,
    /// One group of indicator columns per categorical feature.
    pub categorical: Vec<Vec<usize>>,
}

impl ColumnLayout {
    /// Checks that every column the layout names exists in a matrix of `d` columns (a layout read
    /// from a file may name any).
    pub fn check(&self, d: usize) -> Result<(), ClusterError> {
        let named = self.numeric.iter().chain(self.categorical.iter().flatten());
        if let Some(&bad) = named.clone().find(|&&c| c >= d) {
            return Err(ClusterError::BadLabels(format!(
                "the k-prototypes layout names matrix column {bad} but the data has {d} features"
            )));
        }
        Ok(())
    }

    /// The numeric part and the category codes (the hot column's position in its group; the
    /// group's length when no column is hot, a missing category) of `x`.
    fn split(&self, x: ArrayView2<f64>) -> (Array2<f64>, Array2<u32>) {
        let n = x.nrows();
        let numeric = Array2::from_shape_fn((n, self.numeric.len()), |(i, j)| x[[i, self.numeric[j]]]);
        let codes = Array2::from_shape_fn((n, self.categorical.len()), |(i, g)| {
            let group = &self.categorical[g];
            group
                .iter()
                .enumerate()
                .filter(|(_, c)| x[[i, **c]] > 0.0)
                .max_by(|a, b| x[[i, *a.1]].total_cmp(&x[[i, *b.1]]).then(b.0.cmp(&a.0)))
                .map_or(group.len() as u32, |(pos, _)| pos as u32)
        });
        (numeric, codes)
    }
}

/// Assignment of new customers: the nearest prototype.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KPrototypesModel {
    /// The columns.
    pub layout: ColumnLayout,
    /// Numeric prototype per segment.
    pub means: Vec<Vec<f64>>,
    /// Category mode per segment.
    pub modes: Vec<Vec<u32>>,
    /// The category weight used.
    pub gamma: f64,
    /// Per segment and categorical feature, the share of the segment's customers in its mode
    /// category (1: every one).
    #[serde(default)]
    pub mode_share: Vec<Vec<f64>>,
    /// The share of the total cost that differing categories make up (the rest is numeric distance).
    #[serde(default)]
    pub categorical_cost_share: f64,
}

fn cost(num: &[f64], codes: &[u32], mean: &[f64], mode: &[u32], gamma: f64) -> f64 {
    let numeric: f64 = num.iter().zip(mean).map(|(a, b)| (a - b) * (a - b)).sum();
    let mismatches = codes.iter().zip(mode).filter(|(a, b)| a != b).count();
    numeric + gamma * mismatches as f64
}

fn nearest(num: &[f64], codes: &[u32], means: &[Vec<f64>], modes: &[Vec<u32>], gamma: f64) -> (usize, f64) {
    let mut best = (0, f64::INFINITY);
    for (s, (mean, mode)) in means.iter().zip(modes).enumerate() {
        let c = cost(num, codes, mean, mode, gamma);
        if c < best.1 {
            best = (s, c);
        }
    }
    best
}

impl KPrototypesModel {
    /// The segment of each row of `x` (a matrix with the fitted layout).
    pub fn predict(&self, x: ArrayView2<f64>) -> Result<Vec<usize>, ClusterError> {
        validate_matrix(x)?;
        self.layout.check(x.ncols())?;
        let (num, codes) = self.layout.split(x);
        Ok((0..x.nrows())
            .map(|i| {
                nearest(
                    num.row(i).as_slice().unwrap_or_default(),
                    codes.row(i).as_slice().unwrap_or_default(),
                    &self.means,
                    &self.modes,
                    self.gamma,
                )
                .0
            })
            .collect())
    }
}

/// A k-prototypes fit.
#[derive(Clone, Debug, PartialEq)]
pub struct KPrototypesFit {
    /// Segment of each row, numbered by size.
    pub labels: Vec<usize>,
    /// The model.
    pub model: KPrototypesModel,
    /// Total cost of the kept run.
    pub cost: f64,
    /// Iterations of the kept run.
    pub n_iter: usize,
    /// Whether the kept run stopped changing before the cap.
    pub converged: bool,
}

/// One initialisation's outcome: cost, labels, means, modes, iterations, converged.
type Run = (f64, Vec<usize>, Vec<Vec<f64>>, Vec<Vec<u32>>, usize, bool);

/// Fits k-prototypes on `x` with its column layout.
pub fn fit_kprototypes(
    x: ArrayView2<f64>,
    layout: &ColumnLayout,
    params: &KPrototypesParams,
    cancel: &CancelToken,
) -> Result<KPrototypesFit, ClusterError> {
    params.check()?;
    validate_matrix(x)?;
    layout.check(x.ncols())?;
    let n = x.nrows();
    let k = params.k;
    let distinct = count_distinct_rows(x, k);
    if k > distinct {
        return Err(ClusterError::KTooLarge { k, available: distinct, what: "distinct rows" });
    }
    let (num, codes) = layout.split(x);
    let p = num.ncols();
    let gamma = params.gamma.unwrap_or_else(|| {
        if p == 0 {
            return 1.0;
        }
        let sd: f64 = (0..p)
            .map(|j| {
                let column = num.column(j);
                let mean = column.sum() / n as f64;
                (column.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n as f64).sqrt()
            })
            .sum::<f64>()
            / p as f64;
        0.5 * sd
    });
    let row_num = |i: usize| num.row(i).to_vec();
    let row_codes = |i: usize| codes.row(i).to_vec();
    let mut best: Option<Run> = None;
    for init in 0..params.n_init {
        if cancel.is_cancelled() {
            return Err(ClusterError::Cancelled);
        }
        // Starts as k-means++ does, with the mixed cost: the first at random, each next one drawn
        // with probability proportional to its cost to the nearest start so far.
        let mut rng = SeededRng::derived(params.seed, init as u64);
        let mut starts: Vec<usize> = vec![rng.below(n)];
        let mut closest: Vec<f64> = (0..n)
            .map(|i| cost(&row_num(i), &row_codes(i), &row_num(starts[0]), &row_codes(starts[0]), gamma))
            .collect();
        while starts.len() < k {
            let total: f64 = closest.iter().sum();
            if total <= 0.0 || !total.is_finite() {
                return Err(ClusterError::KTooLarge { k, available: starts.len(), what: "distinct rows found" });
            }
            let mut target = rng.next_f64() * total;
            let mut pick = n - 1;
            for (i, c) in closest.iter().enumerate() {
                if target < *c {
                    pick = i;
                    break;
                }
                target -= c;
            }
            starts.push(pick);
            let (pn, pc) = (row_num(pick), row_codes(pick));
            for (i, c) in closest.iter_mut().enumerate() {
                *c = c.min(cost(&row_num(i), &row_codes(i), &pn, &pc, gamma));
            }
        }
        let mut means: Vec<Vec<f64>> = starts.iter().map(|&s| row_num(s)).collect();
        let mut modes: Vec<Vec<u32>> = starts.iter().map(|&s| row_codes(s)).collect();
        let mut labels = vec![usize::MAX; n];
        let mut converged = false;
        let mut n_iter = 0;
        for iteration in 1..=params.max_iter {
            n_iter = iteration;
            // Each customer's nearest prototype, in parallel (each row on its own: any thread count
            // gives the same labels).
            let changed = labels
                .par_iter_mut()
                .enumerate()
                .map(|(i, label)| {
                    let (s, _) = nearest(
                        num.row(i).as_slice().unwrap_or_default(),
                        codes.row(i).as_slice().unwrap_or_default(),
                        &means,
                        &modes,
                        gamma,
                    );
                    let moved = *label != s;
                    *label = s;
                    moved
                })
                .reduce(|| false, |a, b| a || b);
            // Prototypes: numeric means and category modes; an empty segment keeps its prototype.
            for s in 0..k {
                let members: Vec<usize> = (0..n).filter(|&i| labels[i] == s).collect();
                if members.is_empty() {
                    continue;
                }
                for j in 0..p {
                    means[s][j] = members.iter().map(|&i| num[[i, j]]).sum::<f64>() / members.len() as f64;
                }
                for (g, group) in layout.categorical.iter().enumerate() {
                    let mut counts = vec![0usize; group.len() + 1];
                    for &i in &members {
                        counts[codes[[i, g]] as usize] += 1;
                    }
                    modes[s][g] = counts
                        .iter()
                        .enumerate()
                        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0)))
                        .map_or(0, |c| c.0 as u32);
                }
            }
            if !changed {
                converged = true;
                break;
            }
        }
        let total: f64 =
            (0..n).map(|i| cost(&row_num(i), &row_codes(i), &means[labels[i]], &modes[labels[i]], gamma)).sum();
        if best.as_ref().is_none_or(|b| total < b.0) {
            best = Some((total, labels, means, modes, n_iter, converged));
        }
    }
    let (total, labels, means, modes, n_iter, converged) =
        best.ok_or(ClusterError::InvalidParameter { name: "n_init", problem: "must be at least 1".into() })?;
    // Drop empty segments and number the rest by size.
    let mut sizes = vec![0usize; k];
    for &l in &labels {
        sizes[l] += 1;
    }
    let mut order: Vec<usize> = (0..k).filter(|&s| sizes[s] > 0).collect();
    order.sort_by(|&a, &b| sizes[b].cmp(&sizes[a]).then(a.cmp(&b)));
    if order.len() < k {
        return Err(ClusterError::Failed(format!(
            "only {} of {k} segments kept customers; choose fewer segments or a smaller category weight",
            order.len()
        )));
    }
    let mut renumber = vec![0; k];
    for (new, &old) in order.iter().enumerate() {
        renumber[old] = new;
    }
    let groups = layout.categorical.len();
    let mut in_mode = vec![vec![0usize; groups]; k];
    let mut mismatches = 0usize;
    for (i, &l) in labels.iter().enumerate() {
        for g in 0..groups {
            if codes[[i, g]] == modes[l][g] {
                in_mode[l][g] += 1;
            } else {
                mismatches += 1;
            }
        }
    }
    let categorical_cost_share = if total > 0.0 { gamma * mismatches as f64 / total } else { 0.0 };
    Ok(KPrototypesFit {
        labels: labels.iter().map(|&l| renumber[l]).collect(),
        model: KPrototypesModel {
            layout: layout.clone(),
            means: order.iter().map(|&s| means[s].clone()).collect(),
            modes: order.iter().map(|&s| modes[s].clone()).collect(),
            gamma,
            mode_share: order
                .iter()
                .map(|&s| in_mode[s].iter().map(|&c| c as f64 / sizes[s] as f64).collect())
                .collect(),
            categorical_cost_share,
        },
        cost: total,
        n_iter,
        converged,
    })
}

/// k-prototypes, described once for the CLI, the Model screen and the project file.
pub const METHOD: MethodInfo = MethodInfo {
    name: "kprototypes",
    label: "k-prototypes",
    hint: "Mixed numeric and categorical features: means for numbers, the most common category for the rest.",
    has_k: true,
    settings: &[
        Setting::new(
            "gamma",
            "Category weight",
            "Weight of one differing category against squared numeric distance",
            Kind::AutoNumber {
                field: "gamma",
                auto: "automatic",
                auto_help: "Half the mean standard deviation of the numeric features (Huang's suggestion)",
                default: 0.5,
                min: 0.0,
                max: 1e6,
                decimals: None,
            },
        ),
        Setting::new(
            "n-init",
            "Initialisations",
            "Initialisations, the best kept",
            Kind::Count { field: "n_init", min: 1, max: 100, suffix: "", max_field: None },
        ),
        Setting::new(
            "max-iter",
            "Iteration cap",
            "Iterations per initialisation at most",
            Kind::Count { field: "max_iter", min: 1, max: 10000, suffix: "", max_field: None },
        )
        .cli_only(),
    ],
};

params_with_k!(KPrototypesParams, n_init);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::metrics::agreement::Crosstab;

    #[test]
    fn recovers_groups_that_differ_in_category_and_in_numbers() {
        // Four planted groups: two channels (one-hot, columns 1-2) x two spend levels (column 0).
        let mut rng = SeededRng::new(2);
        let mut values = Vec::new();
        let mut truth = Vec::new();
        for i in 0..400 {
            let (web, big) = (i % 2 == 0, (i / 2) % 2 == 0);
            let spend = if big { 3.0 } else { -3.0 } + rng.next_f64();
            values.extend([spend, f64::from(u8::from(web)), f64::from(u8::from(!web))]);
            truth.push(usize::from(web) * 2 + usize::from(big));
        }
        let x = Array2::from_shape_vec((400, 3), values).unwrap();
        let layout = ColumnLayout { numeric: vec![0], categorical: vec![vec![1, 2]] };
        let params = KPrototypesParams { gamma: Some(10.0), ..KPrototypesParams { k: 4, ..Default::default() } };
        let fit = fit_kprototypes(x.view(), &layout, &params, &CancelToken::new()).unwrap();
        let la: Vec<String> = fit.labels.iter().map(|v| v.to_string()).collect();
        let lb: Vec<String> = truth.iter().map(|v| v.to_string()).collect();
        assert!(Crosstab::of(&la, &lb).unwrap().adjusted_rand_index() > 0.99);
        assert!(fit.model.modes.iter().all(|m| m[0] < 2));
        assert_eq!(fit.model.predict(x.view()).unwrap(), fit.labels);
    }

    #[test]
    fn bad_settings_and_too_large_k_are_refused() {
        let x = ndarray::array![[1.0, 1.0, 0.0], [1.0, 1.0, 0.0]];
        let layout = ColumnLayout { numeric: vec![0], categorical: vec![vec![1, 2]] };
        let params = KPrototypesParams { k: 2, ..Default::default() };
        assert!(matches!(
            fit_kprototypes(x.view(), &layout, &params, &CancelToken::new()),
            Err(ClusterError::KTooLarge { .. })
        ));
        assert!(KPrototypesParams { gamma: Some(-1.0), ..Default::default() }.check().is_err());
    }
}
