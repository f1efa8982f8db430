//! Everything the Segments and Features screens show about one result, computed once off the UI
//! thread: profiles with distances from the population, histograms before and after the recipe,
//! a 2-D PCA projection drawn as a density grid with a sample of points, and per-member silhouettes.

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use crate::engine::data::quality::{numeric_values, quantile_sorted};
use crate::engine::error::PipelineError;
use crate::engine::features::recipe::FittedFeature;
use crate::engine::metrics::silhouette_samples;
use crate::engine::pipeline::PipelineResult;
use crate::engine::profile::explain::{ExplainParams, Explanation, explain_segments};
use crate::engine::profile::overlap::{Overlap, overlap_by_distance, overlap_by_probability};
use crate::engine::profile::separation::{FeatureSeparation, segment_modes, separation_of};
use crate::engine::profile::{SegmentProfile, profile_segments};
use crate::engine::rng::SeededRng;

mod parts;
use parts::{ModelParts, TableParts, explanation_of, separation_parts};

/// Bars of equal width over `lo..hi`; values above `hi` are counted in the last bar.
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    /// Left edge of the first bar (half a unit below the smallest value for whole numbers).
    pub lo: f64,
    /// Right edge of the last bar.
    pub hi: f64,
    /// Values per bar.
    pub counts: Vec<u32>,
    /// Values above `hi` (a long tail past the 99.5th percentile), folded into the last bar.
    pub n_above: usize,
    /// The smallest value.
    pub min: f64,
    /// The largest value.
    pub max: f64,
}

/// The top half-percent is folded into the last bar only when it reaches this many times further
/// past the minimum than the 99.5th percentile does: a long tail (one customer at a billion), not
/// the ordinary top of a uniform or bell-shaped column, whose last bar would otherwise grow a spike.
const LONG_TAIL: f64 = 1.5;

impl Histogram {
    /// A histogram of the finite `values` in at most `n_bins` bars of equal width, so a uniform
    /// column draws flat:
    /// - a long tail past the 99.5th percentile is folded into the last bar (one extreme
    ///   customer does not squash every other bar into one), an ordinary top is not;
    /// - whole numbers get bars a whole number of values wide with edges halfway between them
    ///   (1..10 in ten bars, one per value), so no bar holds more possible values than another;
    /// - otherwise bars are closed on the left, and the maximum falls in the last bar.
    pub fn of(values: &[f64], n_bins: usize) -> Option<Self> {
        // Kept by the values' bits: the histograms of a table and a recipe outlive a new k.
        static KEPT: crate::engine::memo::Memo<Option<Histogram>> = crate::engine::memo::Memo::new(1_024);
        let key = crate::engine::memo::values_key(&(n_bins as u64).to_le_bytes(), values);
        KEPT.get_or_compute(key, 1, || Self::compute(values, n_bins)).as_ref().clone()
    }

    fn compute(values: &[f64], n_bins: usize) -> Option<Self> {
        let mut finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        if finite.is_empty() || n_bins == 0 {
            return None;
        }
        // What a sort would give at its ends and at the 99.5% quantile, found without sorting: the
        // extremes in one pass, the quantile's two order statistics by selection.
        let (min, max) = finite.iter().fold((finite[0], finite[0]), |(lo, hi), &v| {
            (if v.total_cmp(&lo).is_lt() { v } else { lo }, if v.total_cmp(&hi).is_gt() { v } else { hi })
        });
        let q = quantile_selected(&mut finite, 0.995);
        let top = if q > min && max - min > LONG_TAIL * (q - min) { q } else { max };
        let whole = finite.iter().all(|v| v.fract() == 0.0) && top - min < 1e12;
        let (lo, hi, bins) = if whole {
            let top = top.ceil();
            let values_spanned = top - min + 1.0;
            let width = (values_spanned / n_bins as f64).ceil().max(1.0);
            let bins = ((values_spanned / width).ceil() as usize).clamp(1, n_bins);
            (min - 0.5, min - 0.5 + bins as f64 * width, bins)
        } else if top > min {
            (min, top, n_bins)
        } else {
            (min, min + 1.0, n_bins)
        };
        let width = (hi - lo) / bins as f64;
        let mut counts = vec![0u32; bins];
        let mut n_above = 0;
        for &v in &finite {
            if v > hi {
                n_above += 1;
            }
            let bin = (((v - lo) / width) as usize).min(bins - 1);
            counts[bin] += 1;
        }
        Some(Self { lo, hi, counts, n_above, min, max })
    }
}

/// Two principal components of the feature matrix.
#[derive(Clone, Debug, PartialEq)]
pub struct Projection {
    /// Share of the total variance each component explains.
    pub explained: [f64; 2],
    /// Per row of the matrix, its two coordinates.
    pub coords: Vec<[f32; 2]>,
}

/// How many customers fall in each cell of a grid over the projection, and which segment has most
/// of them there: drawn once as an image, so a million customers cost one texture per frame.
#[derive(Clone, Debug, PartialEq)]
pub struct DensityGrid {
    /// Cells across.
    pub width: usize,
    /// Cells down.
    pub height: usize,
    /// Range of the first component covered.
    pub x_range: (f64, f64),
    /// Range of the second component covered.
    pub y_range: (f64, f64),
    /// Customers per cell, row-major from the top (largest y) down.
    pub counts: Vec<u32>,
    /// The segment with most customers in each cell.
    pub dominant: Vec<u16>,
}

/// The scatter of the segments in the plane of the first two principal components.
#[derive(Clone, Debug, PartialEq)]
pub struct ScatterView {
    /// The projection's explained variance.
    pub explained: [f64; 2],
    /// All customers as a density grid.
    pub density: DensityGrid,
    /// Points drawn on top: (x, y, segment), a seeded sample when there are many.
    pub points: Vec<(f32, f32, u16)>,
    /// Customers projected.
    pub n_rows: usize,
}

/// Per-member silhouettes, sorted from best to worst within each segment.
#[derive(Clone, Debug, PartialEq)]
pub struct MemberSilhouettes {
    /// Per segment, its members' silhouettes in descending order.
    pub per_segment: Vec<Vec<f64>>,
    /// Customers the values are for (all, or a seeded sample).
    pub n_rows: usize,
    /// Whether these are a sample (distances within the sample, as scikit-learn's `sample_size`).
    pub sampled: bool,
}

/// Everything the screens show about one result beyond the result itself.
#[derive(Clone, Debug)]
pub struct ResultSummary {
    /// The numeric feature columns profiled, in original units.
    pub columns: Vec<String>,
    /// Profiles of the fitted segments (plus the fallback segment, last, when it has customers).
    pub profiles: Vec<SegmentProfile>,
    /// Population mean of each column.
    pub population_means: Vec<f64>,
    /// Population standard deviation of each column.
    pub population_sds: Vec<f64>,
    /// Per column: how many population standard deviations each segment's mean sits from the
    /// population mean, `[segment][column]`.
    pub distance_sd: Vec<Vec<f64>>,
    /// Histogram of each feature column before the recipe (customer table values).
    pub before: Vec<Option<Histogram>>,
    /// Histogram of each matrix column after the recipe (what the model saw).
    pub after: Vec<Option<Histogram>>,
    /// The PCA scatter.
    pub scatter: Option<ScatterView>,
    /// Per-member silhouettes.
    pub silhouettes: Option<MemberSilhouettes>,
    /// Like `distance_sd`, in the space the model saw (after logs and scaling): `[segment][column]`
    /// for the same numeric columns. On skewed data this is what sets segments apart.
    pub model_distance_sd: Vec<Vec<f64>>,
    /// How strongly each feature (original units; categorical ones too) separates the segments.
    pub separation: Vec<FeatureSeparation>,
    /// Per categorical feature, each segment's commonest category and the share of its customers in it.
    pub category_modes: Vec<CategoryModes>,
    /// The segments as decision-tree rules on the original features (`Err`: why there are none).
    pub explanation: Result<Explanation, String>,
    /// Customers the tree was trained on (a sample above [`EXPLAIN_ROWS`]).
    pub explained_rows: usize,
    /// The tree's depth.
    pub explain_depth: usize,
    /// Second-best segments, margins and the overlap matrix (rows of the model's matrix).
    pub overlap: Option<Overlap>,
    /// Each segment's value, when the run has a value analysis (named "Segment N"; the window
    /// shows its own names).
    pub value_segments: Option<Vec<crate::engine::value::SegmentValue>>,
}

/// A categorical feature and, per segment, its commonest category with the share of the segment in it.
pub type CategoryModes = (String, Vec<Option<(String, f64)>>);

/// Customers the explaining tree is trained on at most (a seeded sample above).
pub const EXPLAIN_ROWS: usize = 50_000;

/// Points drawn over the density image at most.
pub const SCATTER_POINTS: usize = 4_000;
/// Rows whose silhouettes are shown at most (exact below this).
pub const MEMBER_SILHOUETTE_ROWS: usize = 6_000;
/// Customers a provisional result's member silhouettes are computed on (a sample as well).
pub const PROVISIONAL_MEMBER_SILHOUETTE_ROWS: usize = 2_000;
/// Density grid cells per side.
pub const DENSITY_CELLS: usize = 200;
const HISTOGRAM_BARS: usize = 30;

/// How many population standard deviations each segment's mean of each column sits from everyone's
/// (`[segment][column]`; 0 for a constant column): what the cards and the profile table show, and
/// what [`super::is_distinct`] judges.
pub fn distances_in_sd(profiles: &[SegmentProfile], population_means: &[f64], population_sds: &[f64]) -> Vec<Vec<f64>> {
    profiles
        .iter()
        .map(|p| {
            p.means
                .iter()
                .zip(population_means.iter().zip(population_sds))
                .map(|(m, (pm, sd))| if *sd > 0.0 { (m - pm) / sd } else { 0.0 })
                .collect()
        })
        .collect()
}

impl ResultSummary {
    /// The profiles' sizes (in `profiles` order) as they may be shown at `threshold`: a profile
    /// whose size [`crate::engine::governance::suppress::Sizes::is_small`] shows no mean, median or share either.
    pub fn sizes_shown(&self, threshold: usize) -> crate::engine::governance::suppress::Sizes {
        let sizes: Vec<usize> = self.profiles.iter().map(|p| p.size).collect();
        crate::engine::governance::suppress::Sizes::new(&sizes, threshold)
    }

    /// Computes the summary of `result` (seconds at a million customers; call it off the UI thread).
    pub fn compute(result: &PipelineResult, seed: u64) -> Result<Self, PipelineError> {
        Self::compute_with(result, seed, &ExplainParams::default())
    }

    /// As [`Self::compute`], with the explaining tree's settings. The tree rules, the customer
    /// table's parts, the separation tests and the model matrix's parts are made side by side (the
    /// tree takes longest at a hundred thousand customers), each on its own threads, so the summary
    /// is the same on any number of threads.
    pub fn compute_with(result: &PipelineResult, seed: u64, explain: &ExplainParams) -> Result<Self, PipelineError> {
        let columns = result.fitted_recipe.numeric_columns();
        let (((explanation, explained_rows), model), (table, separated)) = rayon::join(
            || rayon::join(|| explanation_of(result, seed, explain), || ModelParts::of(result, seed)),
            || rayon::join(|| TableParts::of(result, &columns), || separation_parts(result)),
        );
        let (table, (separation, category_modes), model) = (table?, separated?, model?);
        Ok(Self {
            columns,
            profiles: table.profiles,
            population_means: table.population_means,
            population_sds: table.population_sds,
            distance_sd: table.distance_sd,
            before: table.before,
            after: model.after,
            scatter: model.scatter,
            silhouettes: model.silhouettes,
            model_distance_sd: model.model_distance_sd,
            separation,
            category_modes,
            explanation,
            explained_rows,
            explain_depth: explain.max_depth,
            overlap: model.overlap,
            value_segments: value_segments_of(result),
        })
    }
}

/// [`quantile_sorted`] of `values` as if they were sorted by `total_cmp`, by selection (`values` is
/// reordered).
fn quantile_selected(values: &mut [f64], q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let position = q.clamp(0.0, 1.0) * (values.len() - 1) as f64;
    let (lower, upper) = (position.floor() as usize, position.ceil() as usize);
    let (_, &mut at_lower, above) = values.select_nth_unstable_by(lower, f64::total_cmp);
    let at_upper = if upper > lower {
        above.iter().copied().fold(f64::INFINITY, |m, v| if v.total_cmp(&m).is_lt() { v } else { m })
    } else {
        at_lower
    };
    at_lower + (at_upper - at_lower) * (position - lower as f64)
}

/// Each segment's value when the result has a value analysis, by the customer ids.
pub fn value_segments_of(result: &PipelineResult) -> Option<Vec<crate::engine::value::SegmentValue>> {
    let analysis = result.value.as_ref()?;
    let ids = crate::engine::data::column(&result.customers, &analysis.id_column)
        .ok()?
        .cast(&polars::prelude::DataType::String)
        .ok()?;
    let ids: Vec<String> =
        ids.as_materialized_series().str().ok()?.iter().map(|s| s.unwrap_or_default().to_string()).collect();
    let names: Vec<String> = (0..result.n_segments()).map(|s| format!("Segment {}", s + 1)).collect();
    Some(crate::engine::value::segment_values_for(analysis, &ids, &result.segment_per_customer, &names))
}

/// The first two principal components of `x` (rows are observations).
pub fn pca_2d(x: ArrayView2<f64>) -> Projection {
    let (n, d) = x.dim();
    if n == 0 || d == 0 {
        return Projection { explained: [0.0, 0.0], coords: Vec::new() };
    }
    let means: Vec<f64> = (0..d).map(|j| x.column(j).sum() / n as f64).collect();
    // Covariance in parallel row blocks, summed in block order (deterministic for any thread count).
    let block_rows = 16_384;
    let partials: Vec<Array2<f64>> = (0..n.div_ceil(block_rows))
        .into_par_iter()
        .map(|b| {
            let mut c = Array2::<f64>::zeros((d, d));
            for row in x.rows().into_iter().skip(b * block_rows).take(block_rows) {
                for i in 0..d {
                    let a = row[i] - means[i];
                    for j in i..d {
                        c[[i, j]] += a * (row[j] - means[j]);
                    }
                }
            }
            c
        })
        .collect();
    let mut cov = Array2::<f64>::zeros((d, d));
    for p in &partials {
        cov += p;
    }
    for i in 0..d {
        for j in 0..i {
            cov[[i, j]] = cov[[j, i]];
        }
    }
    cov /= (n as f64 - 1.0).max(1.0);
    let (values, vectors) = symmetric_eigen(cov);
    let mut order: Vec<usize> = (0..d).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]));
    let total: f64 = values.iter().map(|v| v.max(0.0)).sum();
    let component = |rank: usize| -> Vec<f64> {
        let Some(&c) = order.get(rank) else { return vec![0.0; d] };
        let mut v: Vec<f64> = (0..d).map(|i| vectors[[i, c]]).collect();
        // A fixed sign, so the picture does not flip between runs.
        let largest = v.iter().copied().fold(0.0f64, |m, x| if x.abs() > m.abs() { x } else { m });
        if largest < 0.0 {
            v.iter_mut().for_each(|x| *x = -*x);
        }
        v
    };
    let (c1, c2) = (component(0), component(1));
    let explained =
        |rank: usize| order.get(rank).map_or(0.0, |&c| if total > 0.0 { values[c].max(0.0) / total } else { 0.0 });
    let coords = x
        .rows()
        .into_iter()
        .map(|row| {
            let (mut a, mut b) = (0.0, 0.0);
            for i in 0..d {
                let centred = row[i] - means[i];
                a += centred * c1[i];
                b += centred * c2[i];
            }
            [a as f32, b as f32]
        })
        .collect();
    Projection { explained: [explained(0), explained(1)], coords }
}

/// Eigenvalues and eigenvectors (columns) of a small symmetric matrix, by cyclic Jacobi rotations.
fn symmetric_eigen(mut a: Array2<f64>) -> (Vec<f64>, Array2<f64>) {
    let d = a.nrows();
    let mut v = Array2::<f64>::eye(d);
    for _sweep in 0..100 {
        let off: f64 = (0..d)
            .flat_map(|i| (0..d).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[[i, j]].powi(2))
            .sum();
        if off < 1e-22 {
            break;
        }
        for p in 0..d {
            for q in p + 1..d {
                if a[[p, q]].abs() < 1e-300 {
                    continue;
                }
                let theta = (a[[q, q]] - a[[p, p]]) / (2.0 * a[[p, q]]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..d {
                    let (akp, akq) = (a[[k, p]], a[[k, q]]);
                    a[[k, p]] = c * akp - s * akq;
                    a[[k, q]] = s * akp + c * akq;
                }
                for k in 0..d {
                    let (apk, aqk) = (a[[p, k]], a[[q, k]]);
                    a[[p, k]] = c * apk - s * aqk;
                    a[[q, k]] = s * apk + c * aqk;
                }
                for k in 0..d {
                    let (vkp, vkq) = (v[[k, p]], v[[k, q]]);
                    v[[k, p]] = c * vkp - s * vkq;
                    v[[k, q]] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..d).map(|i| a[[i, i]]).collect(), v)
}

/// The projection as a density grid over the central 99.8% of each axis, plus a seeded sample of
/// points.
fn scatter_view(x: ArrayView2<f64>, labels: &[u16], k: usize, seed: u64) -> ScatterView {
    let framed = framed_projection(x);
    let (projection, x_range, y_range) = (&framed.0, framed.1, framed.2);
    let coords = &projection.coords;
    let (w, h) = (DENSITY_CELLS, DENSITY_CELLS);
    let k = k.max(1);
    let mut per_segment = vec![0u32; w * h * k];
    for (c, &label) in coords.iter().zip(labels) {
        let fx = (c[0] as f64 - x_range.0) / (x_range.1 - x_range.0);
        let fy = (y_range.1 - c[1] as f64) / (y_range.1 - y_range.0);
        if !(0.0..1.0).contains(&fx) || !(0.0..1.0).contains(&fy) {
            continue;
        }
        let cell = (fy * h as f64) as usize * w + (fx * w as f64) as usize;
        per_segment[cell * k + (label as usize).min(k - 1)] += 1;
    }
    let mut counts = vec![0u32; w * h];
    let mut dominant = vec![0u16; w * h];
    for cell in 0..w * h {
        let slice = &per_segment[cell * k..(cell + 1) * k];
        counts[cell] = slice.iter().sum();
        dominant[cell] =
            slice.iter().enumerate().max_by_key(|(s, n)| (**n, std::cmp::Reverse(*s))).map_or(0, |(s, _)| s as u16);
    }
    let rows = if coords.len() > SCATTER_POINTS {
        let mut picked = SeededRng::derived(seed, 0x5ca7).sample_indices(coords.len(), SCATTER_POINTS);
        picked.sort_unstable();
        picked
    } else {
        (0..coords.len()).collect()
    };
    let points = rows.into_iter().map(|r| (coords[r][0], coords[r][1], labels[r])).collect();
    ScatterView {
        explained: projection.explained,
        density: DensityGrid { width: w, height: h, x_range, y_range, counts, dominant },
        points,
        n_rows: coords.len(),
    }
}

/// A projection and the ranges of its two axes the density grid covers.
type Framed = (Projection, (f64, f64), (f64, f64));

/// The projection of `x` and the ranges of its two axes that the density grid covers (the central
/// 99.8% of each, padded), kept by the matrix's bits: they do not depend on the segments.
fn framed_projection(x: ArrayView2<f64>) -> std::sync::Arc<Framed> {
    static KEPT: crate::engine::memo::Memo<Framed> = crate::engine::memo::Memo::new(32 << 20);
    let (n, d) = x.dim();
    let mut shape = (n as u64).to_le_bytes().to_vec();
    shape.extend((d as u64).to_le_bytes());
    let key = match x.as_slice() {
        Some(values) => crate::engine::memo::values_key(&shape, values),
        None => crate::engine::memo::values_key(&shape, &x.iter().copied().collect::<Vec<f64>>()),
    };
    KEPT.get_or_compute(key, n, || {
        let projection = pca_2d(x);
        let range = |axis: usize| {
            let mut v: Vec<f64> = projection.coords.iter().map(|c| c[axis] as f64).filter(|v| v.is_finite()).collect();
            v.sort_unstable_by(f64::total_cmp);
            let (lo, hi) = (quantile_sorted(&v, 0.001), quantile_sorted(&v, 0.999));
            let pad = ((hi - lo) * 0.02).max(1e-9);
            (lo - pad, hi + pad)
        };
        let (x_range, y_range) = (range(0), range(1));
        (projection, x_range, y_range)
    })
}

/// Silhouettes of every member, or of a seeded sample above [`MEMBER_SILHOUETTE_ROWS`].
fn member_silhouettes(
    x: ArrayView2<f64>,
    labels: &[usize],
    k: usize,
    seed: u64,
    at_most: usize,
) -> Result<Option<MemberSilhouettes>, PipelineError> {
    if k < 2 || x.nrows() < 3 {
        return Ok(None);
    }
    let sampled = x.nrows() > at_most;
    let rows: Vec<usize> = if sampled {
        let mut r = SeededRng::derived(seed, 0x5117).sample_indices(x.nrows(), at_most);
        r.sort_unstable();
        r
    } else {
        (0..x.nrows()).collect()
    };
    let sub = x.select(ndarray::Axis(0), &rows);
    let sub_labels: Vec<usize> = rows.iter().map(|&r| labels[r]).collect();
    let present = {
        let mut seen = vec![false; k];
        sub_labels.iter().for_each(|&l| seen[l] = true);
        seen.iter().filter(|s| **s).count()
    };
    if present < 2 {
        return Ok(None);
    }
    let values = silhouette_samples(sub.view(), &sub_labels, k)?;
    let mut per_segment = vec![Vec::new(); k];
    for (&l, v) in sub_labels.iter().zip(values) {
        per_segment[l].push(v);
    }
    per_segment.iter_mut().for_each(|s| s.sort_unstable_by(|a: &f64, b| b.total_cmp(a)));
    Ok(Some(MemberSilhouettes { per_segment, n_rows: rows.len(), sampled }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn pca_finds_the_direction_of_most_variance() {
        // Points along y = 2x with a little noise across: the first component explains nearly all.
        let x = array![[0.0, 0.0], [1.0, 2.1], [2.0, 3.9], [3.0, 6.0], [4.0, 8.1], [5.0, 9.9]];
        let p = pca_2d(x.view());
        assert!(p.explained[0] > 0.99, "{:?}", p.explained);
        assert!((p.explained[0] + p.explained[1] - 1.0).abs() < 1e-9);
        // Coordinates along the first component grow with x (fixed sign) and are centred.
        assert!(p.coords.windows(2).all(|w| w[1][0] > w[0][0]));
        let mean: f32 = p.coords.iter().map(|c| c[0]).sum::<f32>() / 6.0;
        assert!(mean.abs() < 1e-5);
    }

    #[test]
    fn the_quantile_by_selection_is_the_sorted_ones_bit_for_bit() {
        let mut rng = crate::engine::rng::SeededRng::new(7);
        for n in [1, 2, 3, 10, 199, 200, 201, 1_000, 12_345] {
            // Ties, signed zeros, whole numbers and a long tail.
            let values: Vec<f64> = (0..n)
                .map(|i| match i % 7 {
                    0 => 0.0,
                    1 => -0.0,
                    2 => (rng.next_f64() * 10.0).floor(),
                    3 => rng.next_f64().powi(8) * 1e6,
                    _ => rng.next_f64() * 2.0 - 1.0,
                })
                .collect();
            let mut sorted = values.clone();
            sorted.sort_unstable_by(f64::total_cmp);
            for q in [0.0, 0.5, 0.995, 1.0] {
                let mut scratch = values.clone();
                assert_eq!(
                    quantile_selected(&mut scratch, q).to_bits(),
                    quantile_sorted(&sorted, q).to_bits(),
                    "{n} {q}"
                );
            }
        }
    }

    #[test]
    fn jacobi_matches_a_known_decomposition() {
        let (values, vectors) = symmetric_eigen(array![[2.0, 1.0], [1.0, 2.0]]);
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        assert!((sorted[0] - 1.0).abs() < 1e-12 && (sorted[1] - 3.0).abs() < 1e-12);
        let big = if values[0] > values[1] { 0 } else { 1 };
        assert!((vectors[[0, big]].abs() - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-12);
    }

    #[test]
    fn histogram_folds_the_extreme_tail_into_the_last_bar() {
        let mut values: Vec<f64> = (0..1000).map(|i| i as f64 / 10.0).collect();
        values.push(1e9);
        values.push(f64::NAN);
        let h = Histogram::of(&values, 10).unwrap();
        assert_eq!(h.counts.iter().sum::<u32>(), 1001);
        assert_eq!(h.max, 1e9);
        assert!(h.hi < 100.0 && h.n_above >= 1);
        assert_eq!(Histogram::of(&[f64::NAN], 10), None);
        let constant = Histogram::of(&[3.0, 3.0], 4).unwrap();
        assert_eq!(constant.counts, vec![2], "one whole number, one bar");
        let constant = Histogram::of(&[0.25, 0.25], 4).unwrap();
        assert_eq!(constant.counts, vec![2, 0, 0, 0]);
    }

    fn flat(h: &Histogram) -> bool {
        let (lo, hi) = (h.counts.iter().min(), h.counts.iter().max());
        // Evenly spaced values land a value either way of a bar's edge by rounding.
        lo.zip(hi).is_some_and(|(lo, hi)| *hi - *lo <= 2)
    }

    #[test]
    fn uniform_whole_numbers_give_a_flat_histogram_with_no_spike_at_the_top() {
        // 1..10, a thousand times each: one bar per value, however many bars were asked for.
        let values: Vec<f64> = (0..10_000).map(|i| (i % 10 + 1) as f64).collect();
        for bars in [24, 30, 10] {
            let h = Histogram::of(&values, bars).unwrap();
            assert_eq!(h.counts, vec![1000; 10], "{bars} bars");
            assert_eq!((h.lo, h.hi, h.min, h.max, h.n_above), (0.5, 10.5, 1.0, 10.0, 0));
        }
        // 1..60 in 30 bars: two values a bar; 0..=99 in 24 bars: five values a bar, 20 bars.
        let values: Vec<f64> = (0..6_000).map(|i| (i % 60 + 1) as f64).collect();
        let h = Histogram::of(&values, 30).unwrap();
        assert_eq!(h.counts, vec![200; 30]);
        let values: Vec<f64> = (0..10_000).map(|i| (i % 100) as f64).collect();
        let h = Histogram::of(&values, 24).unwrap();
        assert_eq!(h.counts, vec![500; 20]);
        // Fewer bars than values asked for but not a divisor: no bar holds more values than another.
        let values: Vec<f64> = (0..4_100).map(|i| (i % 41) as f64).collect();
        let h = Histogram::of(&values, 30).unwrap();
        let last = *h.counts.last().unwrap();
        assert!(h.counts[..h.counts.len() - 1].iter().all(|&c| c == 200) && last <= 200, "{:?}", h.counts);
    }

    #[test]
    fn uniform_continuous_values_give_a_flat_histogram_and_long_tails_still_fold() {
        let values: Vec<f64> = (0..30_000).map(|i| (i as f64 + 0.5) / 30_000.0).collect();
        let h = Histogram::of(&values, 30).unwrap();
        assert_eq!(h.n_above, 0, "the top of a uniform column is not a tail");
        assert!(flat(&h), "{:?}", h.counts);
        assert_eq!(h.counts.iter().sum::<u32>(), 30_000);
        // The same with the maximum itself in the data (a closed last bar, not a bar of its own).
        let values: Vec<f64> = (0..=3_000).map(|i| i as f64 / 3_000.0 * 0.7 + 0.1).collect();
        let h = Histogram::of(&values, 30).unwrap();
        assert!(flat(&h), "{:?}", h.counts);
        // A peaked shape (the sum of two uniforms) keeps its top too; a cubed exponential's tail folds.
        let peak: Vec<f64> = (0..10_000).map(|i| ((i / 100) + (i % 100)) as f64 / 100.0 + 0.003).collect();
        assert_eq!(Histogram::of(&peak, 30).unwrap().n_above, 0);
        let tail: Vec<f64> = (1..2_000).map(|i| -(1.0 - i as f64 / 2_000.0).ln().powi(3)).collect();
        assert!(Histogram::of(&tail, 30).unwrap().n_above > 0);
    }

    #[test]
    fn density_grid_counts_every_customer_inside_its_range_once() {
        let x = Array2::from_shape_fn((500, 3), |(i, j)| {
            ((i * 7 + j * 13) % 17) as f64 + if i % 2 == 0 { 40.0 } else { 0.0 }
        });
        let labels: Vec<u16> = (0..500).map(|i| (i % 2) as u16).collect();
        let view = scatter_view(x.view(), &labels, 2, 1);
        let counted: u32 = view.density.counts.iter().sum();
        assert!((490..=500).contains(&counted), "{counted}");
        assert_eq!(view.points.len(), 500);
        // Two well separated groups: each occupied cell belongs to one of them.
        for (c, d) in view.density.counts.iter().zip(&view.density.dominant) {
            if *c > 0 {
                assert!(*d < 2);
            }
        }
    }
}
