//! A sweep over a range of k: every index per k, the knee of the elbow curve and a suggested k with
//! its reason. k values run in parallel; the sweep stops between values when cancelled.

use std::sync::atomic::{AtomicUsize, Ordering};

use ndarray::ArrayView2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{Algorithm, bounds, count_distinct_rows};
use crate::engine::error::ClusterError;
use crate::engine::jobs::JobContext;
use crate::engine::metrics::{
    SILHOUETTE_EXACT_MAX_ROWS, SilhouetteResult, calinski_harabasz, davies_bouldin, silhouette_with_limit,
};

/// The indices of one k, under the keys of the CLI's JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepRun {
    /// Number of segments.
    pub k: usize,
    /// k-means inertia (sum of squared distances to the centroids).
    pub inertia: f64,
    /// Mean silhouette (None for k = 1).
    pub silhouette: Option<f64>,
    /// Calinski-Harabasz (None for k = 1).
    pub calinski_harabasz: Option<f64>,
    /// Davies-Bouldin (None for k = 1).
    pub davies_bouldin: Option<f64>,
    /// Segment sizes, largest first.
    pub sizes: Vec<usize>,
    /// How the silhouette was computed (exact, or sample size and 95% interval).
    pub silhouette_detail: Option<SilhouetteResult>,
    /// Iterations of the kept initialisation (Lloyd or EM).
    pub n_iter: usize,
    /// Bayesian information criterion, for mixtures (lower is better).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bic: Option<f64>,
    /// Akaike information criterion, for mixtures (lower is better).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aic: Option<f64>,
}

/// A whole sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepResult {
    /// Rows segmented.
    pub n_rows: usize,
    /// One entry per k, ascending.
    pub runs: Vec<SweepRun>,
    /// The k at the knee of the elbow (inertia) curve.
    pub knee_k: Option<usize>,
    /// The suggested k.
    pub suggested_k: Option<usize>,
    /// One sentence: why that k.
    pub reason: String,
    /// What was changed (a clamped range, ...).
    pub warnings: Vec<String>,
    /// The tree (hierarchical) or the map (self-organising map) the sweep cut at every k, so the fit
    /// at the chosen k cuts it too instead of building it again; not stored.
    #[serde(skip)]
    pub shared_model: Option<SharedModel>,
}

/// What one sweep builds once for every k.
#[derive(Clone, Debug, PartialEq)]
pub enum SharedModel {
    /// Hierarchical clustering's tree.
    Tree(std::sync::Arc<super::hierarchical::Dendrogram>),
    /// A self-organising map.
    Map(std::sync::Arc<super::som::SomMap>),
}

/// Fits `algorithm` for every k in `k_min..=k_max` with its other settings; silhouettes are exact up
/// to `SILHOUETTE_EXACT_MAX_ROWS` rows and sampled above.
pub fn sweep(
    x: ArrayView2<f64>,
    k_min: usize,
    k_max: usize,
    algorithm: &Algorithm,
    ctx: &JobContext,
) -> Result<SweepResult, ClusterError> {
    sweep_with_silhouette_rows(x, k_min, k_max, algorithm, SILHOUETTE_EXACT_MAX_ROWS, ctx)
}

/// As [`sweep`], with silhouettes exact up to `silhouette_rows` rows and on a seeded sample of that
/// many rows above it.
pub fn sweep_with_silhouette_rows(
    x: ArrayView2<f64>,
    k_min: usize,
    k_max: usize,
    algorithm: &Algorithm,
    silhouette_rows: usize,
    ctx: &JobContext,
) -> Result<SweepResult, ClusterError> {
    Ok(sweep_keeping_fits(x, k_min, k_max, algorithm, silhouette_rows, ctx)?.0)
}

/// Labels, centroids and the rest of a sweep's fits kept for the fit at a swept k are at most this
/// many values (about 400 MB); a larger sweep keeps none and the fit at k runs again.
const MAX_KEPT_FIT_VALUES: usize = 50_000_000;

/// As [`sweep_with_silhouette_rows`], also returning the fit of every k (ascending, as the runs), so
/// the fit at a swept k is taken rather than computed again: `algorithm.with_k(k)` is deterministic,
/// so it is the very fit. Empty when keeping them would take more than about 400 MB.
pub fn sweep_keeping_fits(
    x: ArrayView2<f64>,
    k_min: usize,
    k_max: usize,
    algorithm: &Algorithm,
    silhouette_rows: usize,
    ctx: &JobContext,
) -> Result<(SweepResult, Vec<std::sync::Arc<super::Segmentation>>), ClusterError> {
    if silhouette_rows < 2 {
        return Err(ClusterError::InvalidParameter {
            name: "silhouette rows",
            problem: format!("{silhouette_rows} is too few; the silhouette needs at least 2 rows"),
        });
    }
    if k_min == 0 || k_min > k_max {
        return Err(ClusterError::InvalidParameter {
            name: "k range",
            problem: format!("{k_min}..{k_max} must be a non-empty range starting at 1 or more"),
        });
    }
    if !algorithm.sweeps() {
        return Err(ClusterError::InvalidParameter {
            name: "k range",
            problem: format!("{} finds its own segments; there is no k to sweep", algorithm.label()),
        });
    }
    if silhouette_rows > bounds::MAX_SILHOUETTE_ROWS {
        return Err(ClusterError::OutOfBounds {
            name: "silhouette rows",
            value: silhouette_rows.to_string(),
            limit: format!("at most {} rows are allowed for an exact silhouette", bounds::MAX_SILHOUETTE_ROWS),
        });
    }
    algorithm.with_k(k_min).check()?;
    algorithm.with_k(k_max).check()?;
    bounds::product_within(
        "k range × n_init",
        &[k_max - k_min + 1, algorithm.n_init()],
        bounds::MAX_SWEEP_FITS,
        "fits per sweep",
    )?;
    super::validate_matrix(x)?;
    let mut warnings = Vec::new();
    let limit = x.nrows().min(count_distinct_rows(x, k_max));
    let k_top = k_max.min(limit);
    if k_top < k_max {
        warnings.push(format!("the k range was clamped to {k_min}..{k_top}: the data has only {limit} distinct rows"));
    }
    if k_top < k_min {
        return Err(ClusterError::KTooLarge { k: k_min, available: limit, what: "distinct rows" });
    }
    let ks: Vec<usize> = (k_min..=k_top).collect();
    // One tree gives every k.
    let tree = match algorithm {
        Algorithm::Hierarchical(p) => {
            Some(std::sync::Arc::new(super::hierarchical::Dendrogram::build(x, p, &ctx.cancel)?))
        }
        _ => None,
    };
    // One trained map gives every k, too.
    let map = match algorithm {
        Algorithm::Som(p) => Some(std::sync::Arc::new(super::som::SomMap::train(x, p, &ctx.cancel)?)),
        _ => None,
    };
    let done = AtomicUsize::new(0);
    // A mixture keeps every customer's probability of every segment.
    let per_row = 1 + if matches!(algorithm, Algorithm::Gmm(_)) { k_top } else { 0 };
    let keep_fits = x.nrows().saturating_mul(per_row).saturating_mul(ks.len()) <= MAX_KEPT_FIT_VALUES;
    let fitted_runs: Vec<(SweepRun, Option<std::sync::Arc<super::Segmentation>>)> = ks
        .par_iter()
        .map(|&k| {
            if ctx.cancel.is_cancelled() {
                return Err(ClusterError::Cancelled);
            }
            let fitted = match (&tree, &map) {
                (Some(tree), _) => super::Segmentation::from_tree(tree, x, k)?,
                (_, Some(map)) => super::Segmentation::from_som(map, x, k)?,
                _ => algorithm.with_k(k).fit_matrix(x, &ctx.cancel)?,
            };
            let defined = k >= 2 && k < x.nrows();
            let silhouette_detail = if defined {
                Some(silhouette_with_limit(x, &fitted.labels, k, algorithm.seed(), silhouette_rows)?)
            } else {
                None
            };
            let run = SweepRun {
                k,
                inertia: fitted.inertia,
                silhouette: silhouette_detail.as_ref().map(|s| s.mean),
                calinski_harabasz: if defined { Some(calinski_harabasz(x, &fitted.labels, k)?) } else { None },
                davies_bouldin: if defined { Some(davies_bouldin(x, &fitted.labels, k)?) } else { None },
                silhouette_detail,
                n_iter: fitted.n_iter,
                bic: fitted.mixture.as_ref().map(|m| m.bic),
                aic: fitted.mixture.as_ref().map(|m| m.aic),
                sizes: fitted.sizes.clone(),
            };
            let finished = done.fetch_add(1, Ordering::Relaxed) + 1;
            ctx.progress.report("sweep", finished as f64 / ks.len() as f64);
            Ok((run, keep_fits.then(|| std::sync::Arc::new(fitted))))
        })
        .collect::<Result<_, _>>()?;
    let (runs, fits): (Vec<SweepRun>, Vec<_>) = fitted_runs.into_iter().unzip();
    let fits = fits.into_iter().flatten().collect();
    let knee_k = knee(&runs);
    let (suggested_k, reason) = suggest(&runs, knee_k);
    warnings.extend(weak_structure(&runs));
    let shared_model = tree.map(SharedModel::Tree).or(map.map(SharedModel::Map));
    Ok((SweepResult { n_rows: x.nrows(), runs, knee_k, suggested_k, reason, warnings, shared_model }, fits))
}

/// Below this best mean silhouette, no k of a sweep is said to have real structure. Kaufman and
/// Rousseeuw (*Finding Groups in Data*, 1990, ch. 2) read an average silhouette width of 0.25 or less
/// as "no substantial structure has been found"; 0.26 to 0.50 as weak structure that could be
/// artificial, 0.51 to 0.70 as reasonable and above 0.70 as strong.
pub const WEAK_STRUCTURE_SILHOUETTE: f64 = 0.25;

/// The warning a sweep gets when even its best k has a mean silhouette below
/// [`WEAK_STRUCTURE_SILHOUETTE`]: the segments are then cuts through one continuous cloud, not groups
/// the data holds. `None` when some k reaches it, or no k has a silhouette.
pub fn weak_structure(runs: &[SweepRun]) -> Option<String> {
    let (best_k, best) = best_by(runs, |r| r.silhouette, true)?;
    if best >= WEAK_STRUCTURE_SILHOUETTE {
        return None;
    }
    let (lo, hi) = (runs.first()?.k, runs.last()?.k);
    Some(format!(
        "no k from {lo} to {hi} shows real structure: the best mean silhouette is {best:.2} (k = {best_k}), below \
         {WEAK_STRUCTURE_SILHOUETTE:.2}, where Kaufman and Rousseeuw find no substantial structure; the segments cut \
         one continuous cloud of customers, so use them as bands if they help, not as natural groups, or try other features"
    ))
}

/// The knee of the elbow curve: the k farthest from the straight line joining the first and last
/// points of the (normalised) inertia curve.
pub fn knee(runs: &[SweepRun]) -> Option<usize> {
    if runs.len() < 3 {
        return None;
    }
    let (first, last) = (&runs[0], &runs[runs.len() - 1]);
    let x_span = (last.k - first.k) as f64;
    let y_span = first.inertia - last.inertia;
    if x_span <= 0.0 || y_span <= 0.0 {
        return None;
    }
    runs.iter()
        .map(|r| {
            let x = (r.k - first.k) as f64 / x_span;
            let y = (first.inertia - r.inertia) / y_span;
            // Distance above the chord y = x (the curve is concave in this orientation).
            (y - x, r.k)
        })
        .filter(|(gap, _)| *gap > 0.0)
        .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)))
        .map(|(_, k)| k)
}

fn best_by(
    runs: &[SweepRun],
    value: impl Fn(&SweepRun) -> Option<f64>,
    higher_is_better: bool,
) -> Option<(usize, f64)> {
    runs.iter().filter_map(|r| value(r).filter(|v| v.is_finite()).map(|v| (r.k, v))).fold(None, |best, (k, v)| {
        match best {
            None => Some((k, v)),
            Some((bk, bv)) => {
                let better = if higher_is_better { v > bv } else { v < bv };
                if better { Some((k, v)) } else { Some((bk, bv)) }
            }
        }
    })
}

/// Each index's favourite k, with what it says: (k, index, the value in words). Silhouette and
/// Calinski-Harabasz highest, Davies-Bouldin and BIC lowest, and the elbow's knee.
pub fn index_votes(runs: &[SweepRun], knee_k: Option<usize>) -> Vec<(usize, &'static str, String)> {
    let mut votes = Vec::new();
    if let Some((k, v)) = best_by(runs, |r| r.silhouette, true) {
        votes.push((k, "silhouette", format!("the highest silhouette ({v:.3})")));
    }
    if let Some((k, v)) = best_by(runs, |r| r.davies_bouldin, false) {
        votes.push((k, "Davies-Bouldin", format!("the lowest Davies-Bouldin ({v:.3})")));
    }
    if let Some((k, v)) = best_by(runs, |r| r.calinski_harabasz, true) {
        votes.push((k, "Calinski-Harabasz", format!("the highest Calinski-Harabasz ({v:.0})")));
    }
    if let Some(k) = knee_k {
        votes.push((k, "elbow", "the knee of the elbow curve".to_string()));
    }
    if let Some((k, v)) = best_by(runs, |r| r.bic, false) {
        votes.push((k, "BIC", format!("the lowest BIC ({v:.0})")));
    }
    votes
}

/// The k most indices favour (silhouette highest, Calinski-Harabasz highest, Davies-Bouldin lowest,
/// the elbow's knee, and BIC lowest for mixtures), ties going to the silhouette's choice, then the
/// smaller k; with the reason.
pub fn suggest(runs: &[SweepRun], knee_k: Option<usize>) -> (Option<usize>, String) {
    let votes = index_votes(runs, knee_k);
    if votes.is_empty() {
        return (None, "no k of at least 2 was evaluated, so no index can compare segmentations".to_string());
    }
    let mut candidates: Vec<usize> = votes.iter().map(|v| v.0).collect();
    candidates.sort_unstable();
    candidates.dedup();
    let count = |k: usize| votes.iter().filter(|v| v.0 == k).count();
    let top = candidates.iter().map(|&k| count(k)).max().unwrap_or(0);
    let tied: Vec<usize> = candidates.into_iter().filter(|&k| count(k) == top).collect();
    let silhouette = votes.iter().find(|v| v.1 == "silhouette").map(|v| v.0);
    let chosen = match silhouette {
        Some(k) if tied.contains(&k) => k,
        _ => tied[0],
    };
    let agree: Vec<&str> = votes.iter().filter(|v| v.0 == chosen).map(|v| v.2.as_str()).collect();
    let disagree: Vec<String> =
        votes.iter().filter(|v| v.0 != chosen).map(|v| format!("{} is at k = {}", v.2, v.0)).collect();
    let mut reason = format!("k = {chosen} has {}", join_words(&agree));
    if !disagree.is_empty() {
        reason.push_str(&format!("; {}", join_words(&disagree.iter().map(String::as_str).collect::<Vec<_>>())));
    }
    reason.push('.');
    (Some(chosen), reason)
}

/// Why an index may favour another k than the others, in one phrase (for the k-choice view).
pub fn index_tendency(index: &str) -> &'static str {
    match index {
        "silhouette" => "favours few, well-separated segments; often k = 2 on data without clear groups",
        "Davies-Bouldin" => "favours compact segments far from each other; like the silhouette, often small k",
        "Calinski-Harabasz" => "grows with the number of customers; on large data it often favours more segments",
        "elbow" => "marks diminishing returns in tightness, not separation; a judgment, not a test",
        "BIC" => "balances likelihood and parameters; with many customers it allows many components",
        _ => "",
    }
}

/// The share of the segmented customers in a run's smallest segment.
pub fn smallest_share(run: &SweepRun) -> f64 {
    let total: usize = run.sizes.iter().sum();
    run.sizes.iter().copied().min().map_or(0.0, |s| s as f64 / total.max(1) as f64)
}

/// Business feasibility: the k whose every segment holds at least `min_share` of the customers, and
/// a sentence when the suggested k is not one of them (with the best-supported feasible k).
pub fn feasibility(result: &SweepResult, min_share: f64) -> (Vec<usize>, Option<String>) {
    let feasible: Vec<usize> = result.runs.iter().filter(|r| smallest_share(r) >= min_share).map(|r| r.k).collect();
    let suggested = result.suggested_k.and_then(|k| result.runs.iter().find(|r| r.k == k));
    let note = match suggested {
        Some(run) if !feasible.contains(&run.k) => {
            let votes = index_votes(&result.runs, result.knee_k);
            let best = feasible
                .iter()
                .copied()
                .max_by_key(|&k| (votes.iter().filter(|v| v.0 == k).count(), std::cmp::Reverse(k)));
            Some(match best {
                Some(k) => format!(
                    "k = {} has a segment of only {:.1}% of the customers, below the {:.1}% set; k = {k} is the feasible \
                     k most indices support.",
                    run.k,
                    100.0 * smallest_share(run),
                    100.0 * min_share
                ),
                None => format!(
                    "no k in the range keeps every segment at {:.1}% of the customers or more.",
                    100.0 * min_share
                ),
            })
        }
        _ => None,
    };
    (feasible, note)
}

fn join_words(parts: &[&str]) -> String {
    match parts {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::jobs::{CancelToken, NoProgress};

    fn run(k: usize, inertia: f64, s: f64, ch: f64, db: f64) -> SweepRun {
        SweepRun {
            k,
            inertia,
            silhouette: Some(s),
            calinski_harabasz: Some(ch),
            davies_bouldin: Some(db),
            sizes: vec![],
            silhouette_detail: None,
            n_iter: 1,
            bic: None,
            aic: None,
        }
    }

    #[test]
    fn a_sweep_is_identical_on_one_two_and_three_threads_exact_and_sampled() {
        // Skewed data (cubes of uniforms), so k-means takes many iterations, with more rows than
        // the silhouette sample, so the sampled path and the parallel kernels are all exercised.
        let mut rng = crate::engine::rng::SeededRng::new(9);
        let n = 9_000;
        let values: Vec<f64> = (0..n * 3).map(|_| rng.next_f64().powi(3) * 10.0).collect();
        let x = ndarray::Array2::from_shape_vec((n, 3), values).unwrap();
        let params = Algorithm::KMeans(crate::engine::cluster::kmeans::KMeansParams::new(2).seed(4).n_init(2));
        let on = |threads: usize, silhouette_rows: usize| {
            rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(|| {
                sweep_with_silhouette_rows(x.view(), 2, 6, &params, silhouette_rows, &JobContext::inline()).unwrap()
            })
        };
        for silhouette_rows in [n, 2_000] {
            let one = on(1, silhouette_rows);
            assert_eq!(one, on(2, silhouette_rows));
            assert_eq!(one, on(3, silhouette_rows));
            assert_eq!(one.runs[0].silhouette_detail.as_ref().unwrap().exact, silhouette_rows == n);
        }
    }

    #[test]
    fn a_uniform_table_is_said_to_have_no_structure_and_separated_blobs_are_not() {
        let mut rng = crate::engine::rng::SeededRng::new(17);
        let params = Algorithm::KMeans(crate::engine::cluster::kmeans::KMeansParams::new(2).seed(3).n_init(3));
        // Uniform in ten dimensions: every k cuts one cloud.
        let (n, d) = (600, 10);
        let uniform: Vec<f64> = (0..n * d).map(|_| rng.next_f64()).collect();
        let x = ndarray::Array2::from_shape_vec((n, d), uniform).unwrap();
        let result = sweep(x.view(), 2, 8, &params, &JobContext::inline()).unwrap();
        let best = result.runs.iter().filter_map(|r| r.silhouette).fold(f64::MIN, f64::max);
        assert!(best < WEAK_STRUCTURE_SILHOUETTE, "best silhouette {best}");
        let weak: Vec<&String> = result.warnings.iter().filter(|w| w.contains("no k from 2 to 8")).collect();
        assert_eq!(weak.len(), 1, "{:?}", result.warnings);
        assert!(weak[0].contains(&format!("{best:.2}")) && weak[0].contains("Kaufman"), "{}", weak[0]);
        // Four tight blobs far apart: k = 4 has a silhouette near 1, and nothing is said.
        let blobs: Vec<f64> = (0..400)
            .flat_map(|i| {
                let centre = [(0.0, 0.0), (10.0, 0.0), (0.0, 10.0), (10.0, 10.0)][i % 4];
                [centre.0 + rng.next_f64() * 0.5, centre.1 + rng.next_f64() * 0.5]
            })
            .collect();
        let x = ndarray::Array2::from_shape_vec((400, 2), blobs).unwrap();
        let result = sweep(x.view(), 2, 8, &params, &JobContext::inline()).unwrap();
        assert!(result.warnings.iter().all(|w| !w.contains("structure")), "{:?}", result.warnings);
        assert_eq!(weak_structure(&result.runs), None);
        // Exactly at the threshold is not below it; no silhouette at all says nothing.
        assert_eq!(weak_structure(&[run(2, 1.0, WEAK_STRUCTURE_SILHOUETTE, 1.0, 1.0)]), None);
        assert!(weak_structure(&[run(2, 1.0, 0.249, 1.0, 1.0)]).is_some());
        let mut none = run(2, 1.0, 0.1, 1.0, 1.0);
        none.silhouette = None;
        assert_eq!(weak_structure(&[none]), None);
    }

    #[test]
    fn knee_of_a_clear_elbow() {
        let runs: Vec<SweepRun> = [100.0, 40.0, 12.0, 10.0, 9.0, 8.5]
            .iter()
            .enumerate()
            .map(|(i, &w)| run(i + 1, w, 0.0, 0.0, 0.0))
            .collect();
        assert_eq!(knee(&runs), Some(3));
    }

    #[test]
    fn suggestion_counts_votes_and_explains_disagreement() {
        let runs =
            vec![run(2, 100.0, 0.40, 500.0, 0.9), run(3, 50.0, 0.55, 450.0, 0.7), run(4, 45.0, 0.50, 700.0, 0.8)];
        let (k, reason) = suggest(&runs, Some(3));
        assert_eq!(k, Some(3));
        // A business floor of 30% per segment: k = 3's smallest segment is below it.
        let mut sized = runs.clone();
        sized[0].sizes = vec![60, 40];
        sized[1].sizes = vec![50, 30, 20];
        sized[2].sizes = vec![30, 25, 25, 20];
        let result = SweepResult {
            n_rows: 100,
            runs: sized,
            knee_k: Some(3),
            suggested_k: k,
            reason: reason.clone(),
            warnings: vec![],
            shared_model: None,
        };
        let (feasible, note) = feasibility(&result, 0.3);
        assert_eq!(feasible, vec![2]);
        assert!(note.unwrap().starts_with("k = 3 has a segment of only 20.0%"));
        assert_eq!(feasibility(&result, 0.1).1, None);
        assert!(reason.starts_with("k = 3 has the highest silhouette (0.550)"), "{reason}");
        assert!(reason.contains("the highest Calinski-Harabasz (700) is at k = 4"), "{reason}");
    }

    #[test]
    fn sweep_clamps_the_range_and_can_be_cancelled() {
        let x = ndarray::array![[0.0], [0.1], [5.0], [5.1], [9.0]];
        let ctx = JobContext { cancel: CancelToken::new(), progress: &NoProgress };
        let result = sweep(x.view(), 2, 10, &Algorithm::KMeans(Default::default()), &ctx).unwrap();
        // Five distinct rows: k = 5 is still possible (every row its own segment), but the indices
        // that need k < n are not defined there.
        assert_eq!(result.runs.iter().map(|r| r.k).collect::<Vec<_>>(), vec![2, 3, 4, 5]);
        assert_eq!(result.warnings, vec!["the k range was clamped to 2..5: the data has only 5 distinct rows"]);
        assert_eq!(result.runs[3].silhouette, None);
        assert_eq!(result.runs[3].inertia, 0.0);
        let cancel = CancelToken::new();
        cancel.cancel();
        let ctx = JobContext { cancel, progress: &NoProgress };
        assert_eq!(sweep(x.view(), 2, 3, &Algorithm::KMeans(Default::default()), &ctx), Err(ClusterError::Cancelled));
    }
}
