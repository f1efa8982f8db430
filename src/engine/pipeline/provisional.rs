//! A provisional result: the model fitted on a sample, every customer assigned to its nearest
//! centre, shown within moments of an edit while the exact run goes on.

use super::*;
use crate::engine::matrix::segment_sizes;
use crate::engine::metrics::{evaluate_with_known, inertia};
use crate::engine::rng::SeededRng;

/// Customers above which a run that has to fit again shows a provisional result first.
pub const PROVISIONAL_ABOVE_ROWS: usize = 20_000;
/// Customers a provisional sweep and fit are made on.
pub const PROVISIONAL_SAMPLE_ROWS: usize = 5_000;
/// Customers the provisional sweep's silhouettes are computed on (drawn from the sample).
pub const PROVISIONAL_SILHOUETTE_ROWS: usize = 2_000;

/// A result to show until the exact one is made, or `None` when there is no need for one (the
/// exact run only reads its cache, the table is small, a stability check is asked for) or no way to
/// make one (a method that does not assign customers to centres, such as a tree or rules; a sample
/// that misses a segment).
///
/// The table and the recipe are the exact run's own; only the model is provisional: the sweep and
/// the fit are made on
/// [`PROVISIONAL_SAMPLE_ROWS`] customers drawn with the model's seed, every customer goes to the
/// nearest of the sample's centres, and sizes, centroids and inertia are then those of every
/// customer, while the silhouette, Calinski-Harabasz and Davies-Bouldin are the sample's.
pub(super) fn provisional_result(
    spec: &PipelineSpec,
    prepared: &Prepared,
    ctx: &JobContext,
    cache: &StageCache,
) -> Result<Option<PipelineResult>, PipelineError> {
    if !matches!(spec.model.algorithm, Algorithm::KMeans(_)) {
        return Ok(None);
    }
    let (algorithm, matrix) = (&prepared.algorithm, &prepared.recipe.matrix);
    let n = matrix.values.nrows();
    let Some(k) = algorithm.k() else { return Ok(None) };
    // The exact sweep, when this spec's is kept (another k than the swept ones was asked for).
    let kept_sweep = prepared.sweep_key.as_ref().and_then(|key| cache.sweep.peek(key));
    let exact_is_quick = cache.model.holds(&prepared.model_key)
        || kept_sweep.as_ref().is_some_and(|swept| swept.fits.iter().any(|f| f.k() == k));
    if exact_is_quick || n <= PROVISIONAL_ABOVE_ROWS || k < 2 || spec.model.stability.is_some() {
        return Ok(None);
    }
    ctx.progress.report("sample", 0.0);
    let mut rows = SeededRng::new(algorithm.seed()).sample_indices(n, PROVISIONAL_SAMPLE_ROWS);
    rows.sort_unstable();
    let sample = matrix.values.select(ndarray::Axis(0), &rows);
    let mut warnings = prepared.warnings.clone();
    let (sweep, fits) = match (spec.model.k_range, kept_sweep) {
        (_, Some(swept)) => (Some(swept.result), Vec::new()),
        (Some((lo, hi)), None) if algorithm.sweeps() => {
            let (result, fits) =
                sweep_keeping_fits(sample.view(), lo, hi, algorithm, PROVISIONAL_SILHOUETTE_ROWS, ctx)?;
            (Some(result), fits)
        }
        _ => (None, Vec::new()),
    };
    check_cancel(ctx)?;
    let on_sample = match fits.iter().find(|f| f.k() == k) {
        Some(fit) => Segmentation::clone(fit),
        None => algorithm.fit_matrix(sample.view(), &ctx.cancel)?,
    };
    let FittedModel::Centroids(centres) = &on_sample.model else { return Ok(None) };
    let x = matrix.values.view();
    let labels = centres.predict(x)?;
    check_cancel(ctx)?;
    // The segments' means over every customer (a segment nobody joined keeps the sample's centre).
    let sizes = segment_sizes(&labels, k);
    let mut centroids = ndarray::Array2::<f64>::zeros((k, x.ncols()));
    for (row, &label) in x.rows().into_iter().zip(&labels) {
        let mut sum = centroids.row_mut(label);
        sum += &row;
    }
    for (segment, mut mean) in centroids.rows_mut().into_iter().enumerate() {
        if sizes[segment] == 0 {
            mean.assign(&on_sample.centroids.row(segment));
        } else {
            mean /= sizes[segment] as f64;
        }
    }
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
    let mut indices = match evaluate_with_known(sample.view(), &sample_labels, k, algorithm.seed(), None) {
        Ok(indices) => indices,
        // The sample misses a segment the indices need: the exact run says what they are.
        Err(_) => return Ok(None),
    };
    if let Some(silhouette) = &mut indices.silhouette {
        silhouette.exact = false;
    }
    indices.inertia = inertia(x, &labels, k)?;
    indices.sizes = sizes.clone();
    let model = FittedModel::Centroids(centres_renumbered);
    let fit = Segmentation { labels, centroids, inertia: indices.inertia, sizes, converged: false, model, ..on_sample };
    warnings.push(format!(
        "provisional: fitted on a sample of {} of the {n} customers and every customer assigned to its nearest \
         centre; the exact fit is under way",
        rows.len()
    ));
    let model = ModelStage { fit, indices, stability: None, k_stability: Vec::new(), warnings: Vec::new() };
    let provisional = ProvisionalFit { sample_size: rows.len(), customers: n };
    Ok(Some(assemble(prepared.clone(), sweep, model, warnings, Some(provisional))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::features::Scaling;

    /// The provisional result a run of `spec` would show first.
    fn run_provisional(
        spec: &PipelineSpec,
        resolver: &SourceResolver,
        ctx: &JobContext,
        cache: &StageCache,
    ) -> Result<Option<PipelineResult>, PipelineError> {
        provisional_result(spec, &prepare(spec, resolver, ctx, cache)?, ctx, cache)
    }

    #[test]
    fn a_provisional_result_assigns_every_customer_and_leaves_the_exact_run_its_table_and_recipe() {
        let (cache, resolver, ctx) =
            (StageCache::default(), SourceResolver::user_chosen(Path::new(".")), JobContext::inline());
        let mut spec = crate::engine::project::parse(crate::engine::DEMO_PROJECT).unwrap().project.spec;
        spec.model.k_range = Some((2, 5));
        spec.model.algorithm.set_k(4);
        let quick = run_provisional(&spec, &resolver, &ctx, &cache).unwrap().expect("the demo has 23,570 customers");
        let n = quick.matrix.values.nrows();
        assert!(n > PROVISIONAL_ABOVE_ROWS);
        assert_eq!(quick.provisional, Some(ProvisionalFit { sample_size: PROVISIONAL_SAMPLE_ROWS, customers: n }));
        // Every customer is in the segment of the nearest of the sample's centres.
        let FittedModel::Centroids(centres) = &quick.fit.model else { panic!("k-means has centres") };
        assert_eq!(quick.fit.labels, centres.predict(quick.matrix.values.view()).unwrap());
        assert_eq!(quick.fit.sizes.iter().sum::<usize>(), n);
        assert_eq!(quick.indices.sizes, quick.fit.sizes);
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
        assert_eq!(shown.len(), 1);
        assert!(shown[0].provisional.is_some() && exact.provisional.is_none());
        assert_eq!(fresh_cache.hits(), StageHits::default(), "one table, one recipe, built once");
        assert_eq!(exact.assignment_fingerprint, run(&spec, &resolver, &ctx).unwrap().assignment_fingerprint);
    }
}
