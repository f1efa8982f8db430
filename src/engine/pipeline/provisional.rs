//! A provisional result: the model fitted on a sample, every customer assigned to its nearest
//! centre, shown within moments of an edit while the exact run goes on.

use super::*;
use crate::engine::metrics::{KnownIndices, evaluate_with_known, silhouette_with_limit};
use crate::engine::rng::SeededRng;
use rayon::prelude::*;

/// Customers above which a run that has to fit again shows a provisional result first.
pub const PROVISIONAL_ABOVE_ROWS: usize = 20_000;
/// Customers a provisional sweep and fit are made on.
pub const PROVISIONAL_SAMPLE_ROWS: usize = 5_000;
/// Customers the provisional sweep's silhouettes are computed on (drawn from the sample).
pub const PROVISIONAL_SILHOUETTE_ROWS: usize = 2_000;

/// Hands `show` a result to show until the exact one is made, or nothing when there is no need for
/// one (the exact run only reads its cache, the table is small, a stability check is asked for) or
/// no way to make one (a method that does not assign customers to centres, such as a tree or rules;
/// a sample that misses a segment).
///
/// The table and the recipe are the exact run's own; only the model is provisional: the fit is made
/// on [`PROVISIONAL_SAMPLE_ROWS`] customers drawn with the model's seed, every customer goes to the
/// nearest of the sample's centres, and sizes, centroids and inertia are then those of every
/// customer, while the silhouette, Calinski-Harabasz and Davies-Bouldin are the sample's.
///
/// Where the spec sweeps k and no exact sweep is kept, the segments are shown first with the sweep
/// marked pending ([`ProvisionalFit::sweep_pending`]): the sample's sweep over nine k takes several
/// times the one fit at k. It follows as a second result with the same segments. The fit at k is
/// `algorithm.fit_matrix` on the sample either way, the very fit the sample's sweep makes at k.
pub(super) fn show_provisional(
    spec: &PipelineSpec,
    prepared: &Prepared,
    ctx: &JobContext,
    cache: &StageCache,
    show: &dyn Fn(PipelineResult),
) -> Result<(), PipelineError> {
    if !matches!(spec.model.algorithm, Algorithm::KMeans(_)) {
        return Ok(());
    }
    let (algorithm, matrix) = (&prepared.algorithm, &prepared.recipe.matrix);
    let n = matrix.values.nrows();
    let Some(k) = algorithm.k() else { return Ok(()) };
    // The exact sweep, when this spec's is kept (another k than the swept ones was asked for).
    let kept_sweep = prepared.sweep_key.as_ref().and_then(|key| cache.sweep.peek(key));
    let exact_is_quick = cache.model.holds(&prepared.model_key)
        || kept_sweep.as_ref().is_some_and(|swept| swept.fits.iter().any(|f| f.k() == k));
    if exact_is_quick || n <= PROVISIONAL_ABOVE_ROWS || k < 2 || spec.model.stability.is_some() {
        return Ok(());
    }
    ctx.progress.report("sample", 0.0);
    let mut rows = SeededRng::new(algorithm.seed()).sample_indices(n, PROVISIONAL_SAMPLE_ROWS);
    rows.sort_unstable();
    let sample = matrix.values.select(ndarray::Axis(0), &rows);
    let on_sample = algorithm.fit_matrix(sample.view(), &ctx.cancel)?;
    check_cancel(ctx)?;
    let Some(model) = everyone_to_nearest(on_sample, matrix.values.view(), &sample, &rows, algorithm.seed())? else {
        return Ok(());
    };
    check_cancel(ctx)?;
    let mut warnings = prepared.warnings.clone();
    warnings.push(format!(
        "provisional: fitted on a sample of {} of the {n} customers and every customer assigned to its nearest \
         centre; the exact fit is under way",
        rows.len()
    ));
    let provisional = ProvisionalFit { sample_size: rows.len(), customers: n, sweep_pending: false };
    let result =
        |sweep, model, provisional| assemble(prepared.clone(), sweep, model, warnings.clone(), Some(provisional));
    match (spec.model.k_range, kept_sweep) {
        (_, Some(swept)) => show(result(Some(swept.result), model, provisional)),
        (Some((lo, hi)), None) if algorithm.sweeps() => {
            show(result(None, model.clone(), ProvisionalFit { sweep_pending: true, ..provisional }));
            let swept = sweep_keeping_fits(sample.view(), lo, hi, algorithm, PROVISIONAL_SILHOUETTE_ROWS, ctx);
            check_cancel(ctx)?;
            // A sweep that fails on the sample (a k above its distinct points, say) leaves the
            // segments shown, no longer waiting for it: the exact run says what failed, or not.
            let sweep = swept.ok().map(|(sweep, _)| sweep);
            show(result(sweep, model, provisional));
        }
        _ => show(result(None, model, provisional)),
    }
    Ok(())
}

/// The model fitted `on_sample` (the `rows` of `x` drawn, as `sample`) with every customer of `x`
/// assigned to its nearest centre, numbered by everyone's sizes; `None` when it has no centres or
/// the sample misses a segment its indices need.
fn everyone_to_nearest(
    on_sample: Segmentation,
    x: ndarray::ArrayView2<f64>,
    sample: &ndarray::Array2<f64>,
    rows: &[usize],
    seed: u64,
) -> Result<Option<ModelStage>, PipelineError> {
    let k = on_sample.k();
    let FittedModel::Centroids(centres) = &on_sample.model else { return Ok(None) };
    let labels = centres.predict(x)?;
    // The segments' means over every customer (a segment nobody joined keeps the sample's centre).
    let values = x.as_standard_layout();
    let values = values.as_slice().unwrap_or_default();
    let d = x.ncols();
    let (sums, sizes) = in_blocks(values, d, &labels, k, (vec![0.0; k * d], vec![0usize; k]), |acc, row, label| {
        acc.1[label] += 1;
        for (sum, v) in acc.0[label * d..(label + 1) * d].iter_mut().zip(row) {
            *sum += v;
        }
    });
    let mut centroids = ndarray::Array2::<f64>::zeros((k, d));
    for (segment, mut mean) in centroids.rows_mut().into_iter().enumerate() {
        if sizes[segment] == 0 {
            mean.assign(&on_sample.centroids.row(segment));
        } else {
            for (m, sum) in mean.iter_mut().zip(&sums[segment * d..(segment + 1) * d]) {
                *m = sum / sizes[segment] as f64;
            }
        }
    }
    let within = in_blocks(values, d, &labels, k, (vec![0.0], Vec::new()), |acc, row, label| {
        acc.0[0] += row.iter().zip(centroids.row(label)).map(|(a, b)| (a - b) * (a - b)).sum::<f64>();
    })
    .0[0];
    // Numbered as a fit on everyone would number them (by their sizes among everyone, not the
    // sample's), so names given by number land on the segments they would on the exact fit.
    let old_to_new = crate::engine::cluster::canonical_order(&sizes, centroids.view());
    let labels: Vec<usize> = labels.iter().map(|&l| old_to_new[l]).collect();
    let mut renumbered = centroids.clone();
    let mut centres_renumbered = centres.clone();
    let mut sizes_renumbered = sizes.clone();
    for (old, &new) in old_to_new.iter().enumerate() {
        renumbered.row_mut(new).assign(&centroids.row(old));
        centres_renumbered.centroids[new] = centres.centroids[old].clone();
        sizes_renumbered[new] = sizes[old];
    }
    let (centroids, sizes) = (renumbered, sizes_renumbered);
    let sample_labels: Vec<usize> = rows.iter().map(|&r| labels[r]).collect();
    // The indices on the sample, with every customer's labels there; inertia and sizes of everyone.
    // The silhouette on the rows of the sample the sample's sweep computes its silhouettes on, so
    // the figure at k is the sweep's own, in a fifth of the time of all of the sample's.
    let silhouette = match silhouette_with_limit(sample.view(), &sample_labels, k, seed, PROVISIONAL_SILHOUETTE_ROWS) {
        Ok(silhouette) => silhouette,
        Err(_) => return Ok(None),
    };
    let known = KnownIndices { silhouette, ch_db: None };
    let mut indices = match evaluate_with_known(sample.view(), &sample_labels, k, seed, Some(known)) {
        Ok(indices) => indices,
        // The sample misses a segment the indices need: the exact run says what they are.
        Err(_) => return Ok(None),
    };
    if let Some(silhouette) = &mut indices.silhouette {
        silhouette.exact = false;
    }
    indices.inertia = within;
    indices.sizes = sizes.clone();
    let model = FittedModel::Centroids(centres_renumbered);
    let fit = Segmentation { labels, centroids, inertia: indices.inertia, sizes, converged: false, model, ..on_sample };
    Ok(Some(ModelStage { fit, indices, stability: None, k_stability: Vec::new(), warnings: Vec::new() }))
}

/// Rows of a block [`in_blocks`] adds up on one thread.
const BLOCK_ROWS: usize = 4096;

/// Sums `add(accumulator, row, label)` over the rows of `values` (row-major, `d` per row) in blocks
/// of [`BLOCK_ROWS`] in parallel, the blocks' sums then added in block order, so the result is the
/// same on any number of threads. An accumulator is a vector of sums and one of counts.
fn in_blocks(
    values: &[f64],
    d: usize,
    labels: &[usize],
    k: usize,
    zero: (Vec<f64>, Vec<usize>),
    add: impl Fn(&mut (Vec<f64>, Vec<usize>), &[f64], usize) + Sync,
) -> (Vec<f64>, Vec<usize>) {
    let blocks: Vec<(Vec<f64>, Vec<usize>)> = values
        .par_chunks(d * BLOCK_ROWS)
        .zip(labels.par_chunks(BLOCK_ROWS))
        .map(|(block, labels)| {
            let mut acc = zero.clone();
            for (row, &label) in block.chunks_exact(d).zip(labels) {
                if label < k {
                    add(&mut acc, row, label);
                }
            }
            acc
        })
        .collect();
    blocks.into_iter().fold(zero, |mut total, block| {
        total.0.iter_mut().zip(&block.0).for_each(|(t, b)| *t += b);
        total.1.iter_mut().zip(&block.1).for_each(|(t, b)| *t += b);
        total
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::features::Scaling;

    /// The provisional results a run of `spec` would show, in order.
    fn shown(
        spec: &PipelineSpec,
        resolver: &SourceResolver,
        ctx: &JobContext,
        cache: &StageCache,
    ) -> Result<Vec<PipelineResult>, PipelineError> {
        let shown = std::sync::Mutex::new(Vec::new());
        show_provisional(spec, &prepare(spec, resolver, ctx, cache)?, ctx, cache, &|quick| {
            shown.lock().unwrap().push(quick)
        })?;
        Ok(shown.into_inner().unwrap())
    }

    /// The last provisional result a run of `spec` would show, if any.
    fn run_provisional(
        spec: &PipelineSpec,
        resolver: &SourceResolver,
        ctx: &JobContext,
        cache: &StageCache,
    ) -> Result<Option<PipelineResult>, PipelineError> {
        Ok(shown(spec, resolver, ctx, cache)?.pop())
    }

    #[test]
    fn a_provisional_result_assigns_every_customer_and_leaves_the_exact_run_its_table_and_recipe() {
        let (cache, resolver, ctx) =
            (StageCache::default(), SourceResolver::user_chosen(Path::new(".")), JobContext::inline());
        let mut spec = crate::engine::project::parse(crate::engine::DEMO_PROJECT).unwrap().project.spec;
        spec.model.k_range = Some((2, 5));
        spec.model.algorithm.set_k(4);
        // The segments come first, with the sweep pending; then the same segments with the sample's sweep.
        let mut both = shown(&spec, &resolver, &ctx, &cache).unwrap();
        assert_eq!(both.len(), 2, "the demo has 23,570 customers and no sweep kept");
        let quick = both.pop().unwrap();
        let first = both.pop().unwrap();
        let n = quick.matrix.values.nrows();
        assert!(n > PROVISIONAL_ABOVE_ROWS);
        let made = ProvisionalFit { sample_size: PROVISIONAL_SAMPLE_ROWS, customers: n, sweep_pending: false };
        assert_eq!(quick.provisional, Some(made));
        assert_eq!(first.provisional, Some(ProvisionalFit { sweep_pending: true, ..made }));
        assert!(first.sweep.is_none());
        assert_eq!(first.fit.labels, quick.fit.labels);
        assert_eq!(first.fit.centroids, quick.fit.centroids);
        assert_eq!(first.indices, quick.indices);
        assert_eq!(first.assignment_fingerprint, quick.assignment_fingerprint);
        // Every customer is in the segment of the nearest of the sample's centres.
        let FittedModel::Centroids(centres) = &quick.fit.model else { panic!("k-means has centres") };
        assert_eq!(quick.fit.labels, centres.predict(quick.matrix.values.view()).unwrap());
        assert_eq!(quick.fit.sizes.iter().sum::<usize>(), n);
        assert_eq!(quick.indices.sizes, quick.fit.sizes);
        // Means and inertia over every customer, summed in blocks (as the one-pass sums, to rounding).
        let x = quick.matrix.values.view();
        let means = crate::engine::metrics::segment_means(x, &quick.fit.labels, 4);
        assert!(means.iter().zip(&quick.fit.centroids).all(|(a, b)| (a - b).abs() <= 1e-12 * a.abs().max(1.0)));
        let inertia = crate::engine::metrics::inertia(x, &quick.fit.labels, 4).unwrap();
        assert!((quick.indices.inertia - inertia).abs() <= 1e-9 * inertia, "{} {inertia}", quick.indices.inertia);
        assert_eq!(quick.fit.inertia, quick.indices.inertia);
        assert_eq!(quick.fit.sizes.len(), 4);
        assert!(
            quick.fit.sizes.windows(2).all(|w| w[0] >= w[1]),
            "numbered by everyone's sizes: {:?}",
            quick.fit.sizes
        );
        assert_eq!(quick.segment_per_customer.iter().filter(|s| s.is_some()).count(), quick.customers.height());
        let silhouette = quick.indices.silhouette.as_ref().unwrap();
        assert!(!silhouette.exact && silhouette.sample_size <= PROVISIONAL_SAMPLE_ROWS, "{silhouette:?}");
        let sweep = quick.sweep.as_ref().unwrap();
        assert_eq!(sweep.n_rows, PROVISIONAL_SAMPLE_ROWS);
        // The segments shown are the sample's sweep's own fit at k (k-means is deterministic for a seed).
        let mut rows = SeededRng::new(spec.model.algorithm.seed()).sample_indices(n, PROVISIONAL_SAMPLE_ROWS);
        rows.sort_unstable();
        let sample = quick.matrix.values.select(ndarray::Axis(0), &rows);
        let algorithm = prepare(&spec, &resolver, &ctx, &StageCache::default()).unwrap().algorithm;
        let (_, fits) = sweep_keeping_fits(sample.view(), 2, 5, &algorithm, PROVISIONAL_SILHOUETTE_ROWS, &ctx).unwrap();
        let at_k = fits.iter().find(|f| f.k() == 4).unwrap();
        assert_eq!(at_k.inertia, sweep.runs[2].inertia);
        let sample_labels: Vec<usize> = rows.iter().map(|&r| quick.fit.labels[r]).collect();
        let same = crate::engine::metrics::agreement::Crosstab::of(
            &sample_labels.iter().map(usize::to_string).collect::<Vec<_>>(),
            &at_k.labels.iter().map(usize::to_string).collect::<Vec<_>>(),
        );
        let ari = same.unwrap().adjusted_rand_index();
        assert!(ari > 1.0 - 1e-12, "the same partition of the sample, up to numbering: {ari}");
        assert!(quick.warnings.iter().any(|w| w.starts_with("provisional: fitted on a sample of 5000")));

        // The exact run reuses the table and the recipe, and gives what a run without it gives.
        let exact = run_cached(&spec, &resolver, &ctx, &cache).unwrap();
        assert_eq!(cache.hits(), StageHits { table: 1, recipe: 1, sweep: 0, model: 0 });
        let fresh = run(&spec, &resolver, &ctx).unwrap();
        assert_eq!(exact.provisional, None);
        assert_eq!(exact.assignment_fingerprint, fresh.assignment_fingerprint);
        assert_eq!(exact.indices, fresh.indices);
        assert_eq!(exact.sweep, fresh.sweep);
        // The provisional segments are near the exact ones (the same blobs, found on a sample).
        let text = |labels: &[usize]| labels.iter().map(usize::to_string).collect::<Vec<_>>();
        let table = crate::engine::metrics::agreement::Crosstab::of(&text(&quick.fit.labels), &text(&exact.fit.labels));
        let ari = table.unwrap().adjusted_rand_index();
        assert!(ari > 0.5, "adjusted Rand index {ari}");

        // Nothing provisional when the exact run only reads its cache: another k within the sweep.
        spec.model.algorithm.set_k(3);
        assert!(run_provisional(&spec, &resolver, &ctx, &cache).unwrap().is_none());
        // A k outside the sweep needs a fit on every customer: provisional, beside the exact sweep.
        spec.model.algorithm.set_k(7);
        let outside = run_provisional(&spec, &resolver, &ctx, &cache).unwrap().expect("a fit at k = 7 is needed");
        assert_eq!(outside.sweep, exact.sweep, "the kept exact sweep, not one on the sample");
        assert_eq!(outside.fit.sizes.len(), 7);
        spec.model.algorithm.set_k(3);
        // A new recipe needs a new sweep: provisional again.
        for feature in &mut spec.recipe.features {
            feature.scaling = Scaling::Robust;
        }
        assert!(run_provisional(&spec, &resolver, &ctx, &cache).unwrap().is_some());
        // Methods without centres to assign to, and small tables, get none.
        let mut tree = spec.clone();
        tree.model.algorithm = Algorithm::by_name("hierarchical").unwrap().with_k(3);
        assert!(run_provisional(&tree, &resolver, &ctx, &StageCache::default()).unwrap().is_none());
        let mut checked = spec.clone();
        checked.model.stability = Some(Default::default());
        assert!(run_provisional(&checked, &resolver, &ctx, &StageCache::default()).unwrap().is_none());

        // A run shows it once, reads the table once, and returns the exact result.
        let shown = std::sync::Mutex::new(Vec::new());
        let fresh_cache = StageCache::default();
        let exact =
            run_refining(&spec, &resolver, &ctx, &fresh_cache, &|quick| shown.lock().unwrap().push(quick)).unwrap();
        let shown = shown.into_inner().unwrap();
        assert_eq!(shown.len(), 2, "the segments, then the sample's sweep");
        assert!(shown.iter().all(|quick| quick.provisional.is_some()) && exact.provisional.is_none());
        assert_eq!(fresh_cache.hits(), StageHits::default(), "one table, one recipe, built once");
        assert_eq!(exact.assignment_fingerprint, run(&spec, &resolver, &ctx).unwrap().assignment_fingerprint);
    }
}
