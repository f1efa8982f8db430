//! Spec in, results out: load the source, build the customer table, apply the recipe, segment.
//!
//! The GUI's job runner and the CLI both call [`run`]; anything the window computes, a script can
//! reproduce.

// The stages share the imports below through `use super::*`.
mod cache;
pub mod estimate;
mod predict;
mod provisional;
mod result;
pub mod several;
mod source;
mod spec;
mod table;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::NaiveDate;
use polars::prelude::*;
use serde::{Deserialize, Serialize};

pub use crate::engine::cluster::Algorithm;
use crate::engine::cluster::hybrid::{HybridParams, fit_hybrid};
use crate::engine::cluster::rfm_rules::{RfmParams, fit_rfm};
use crate::engine::cluster::sweep::{SharedModel, SweepResult, sweep_keeping_fits};
use crate::engine::cluster::{CentroidModel, FittedModel, Segmentation, assignment_fingerprint};
use crate::engine::data::quality::{QualityReport, duplicate_warning, find_duplicate_ids, quality_report};
use crate::engine::data::roles::{ColumnRole, RoleGuess, guess_roles};
use crate::engine::data::{self, LoadedTable, ReadOptions};
use crate::engine::error::{DataError, PipelineError, ProjectError};
use crate::engine::features::correlation::{Multicollinearity, multicollinearity};
use crate::engine::features::{
    FeatureMatrix, FeatureRecipe, FittedRecipe, TransactionColumns, aggregate_transactions_with, join_attributes,
};
use crate::engine::jobs::JobContext;
use crate::engine::metrics::{Indices, KnownIndices, SILHOUETTE_EXACT_MAX_ROWS, evaluate_with_known};
use crate::engine::{DEMO_ATTRIBUTES, DEMO_ATTRIBUTES_NAME, DEMO_TRANSACTIONS, DEMO_TRANSACTIONS_NAME};

pub use cache::*;
pub use predict::*;
pub use provisional::*;
pub use result::*;
pub use source::*;
pub use spec::*;
pub use table::*;

/// Runs the whole pipeline: customer table, recipe, optional sweep, fit at k.
pub fn run(spec: &PipelineSpec, resolver: &SourceResolver, ctx: &JobContext) -> Result<PipelineResult, PipelineError> {
    run_cached(spec, resolver, ctx, &StageCache::default())
}

/// What every run makes before the model: the customer table, the recipe's matrix, the algorithm as
/// the recipe adapts it, and the keys of the stages after.
#[derive(Clone)]
struct Prepared {
    table: CustomerTable,
    recipe: Arc<RecipeStage>,
    algorithm: Algorithm,
    warnings: Vec<String>,
    /// The sweep's cache key, when the spec sweeps.
    sweep_key: Option<String>,
    model_key: String,
}

/// Reads (or reuses) the customer table and the recipe's matrix.
fn prepare(
    spec: &PipelineSpec,
    resolver: &SourceResolver,
    ctx: &JobContext,
    cache: &StageCache,
) -> Result<Prepared, PipelineError> {
    ctx.progress.report("load", 0.0);
    let mut fingerprints = vec![source_fingerprint(&spec.source, resolver)?];
    if let Some(attributes) = &spec.attributes {
        fingerprints.push(source_fingerprint(attributes, resolver)?);
    }
    let table_key = stage_key(spec, &ignores::TABLE, &fingerprints);
    let table =
        cache.table.get_or_build(&table_key, || build_customer_table_with(spec, resolver, Some(&fingerprints)))?;
    let mut warnings = table.warnings.clone();
    check_cancel(ctx)?;
    ctx.progress.report("features", 0.0);
    let recipe_key = stage_key(spec, &ignores::RECIPE, &fingerprints);
    let recipe = cache.recipe.get_or_build(&recipe_key, || {
        check_money_features(spec, &table.frame)?;
        let guessed = cache.roles.get_or_build(&table_key, || Ok(Arc::new(guess_roles(&table.frame))))?;
        let roles = with_overrides(guessed.as_ref().clone(), &spec.role_overrides);
        let quality_key = stage_key(spec, &ignores::TABLE, (&fingerprints, spec.id_column()));
        let quality = cache.quality.get_or_build(&quality_key, || {
            Ok(Arc::new(quality_report(&table.frame, spec.id_column(), table.as_of)?))
        })?;
        let role_map: HashMap<String, ColumnRole> = roles.iter().map(|g| (g.column.clone(), g.role)).collect();
        let (fitted_recipe, mut matrix) = spec.recipe.fit_transform(&table.frame, &role_map)?;
        to_fallback(&mut matrix, &table.fallback_rows)?;
        let multicollinearity =
            multicollinearity(matrix.values.view(), &matrix.names, &column_layout(&fitted_recipe).categorical);
        Ok(Arc::new(RecipeStage { roles, quality, fitted_recipe, matrix, multicollinearity }))
    })?;
    warnings.extend(recipe.matrix.warnings.iter().cloned());
    warnings.extend(recipe.multicollinearity.warnings.iter().cloned());
    check_cancel(ctx)?;

    // k-prototypes reads which matrix columns are one-hot categories from the recipe.
    let algorithm = for_recipe(&spec.model.algorithm, &recipe.fitted_recipe);
    if let Algorithm::KPrototypes(p) = &algorithm
        && p.layout.as_ref().is_some_and(|l| l.categorical.is_empty())
    {
        warnings.push(
            "k-prototypes: the recipe has no categorical feature, so it works as k-means here; mark categorical \
             columns as categorical features to use them"
                .to_string(),
        );
    }
    let sweep_key = match spec.model.k_range {
        // Everything the sweep depends on; k itself only picks the fit.
        Some((lo, _)) if algorithm.sweeps() => {
            Some(stage_key(spec, &ignores::SWEEP, (&fingerprints, &algorithm.with_k(lo))))
        }
        _ => None,
    };
    // Everything the fit depends on; a run that changes only the business rules reuses it.
    let model_key = stage_key(spec, &ignores::MODEL, (&fingerprints, &algorithm));
    Ok(Prepared { table, recipe, algorithm, warnings, sweep_key, model_key })
}

/// As [`run`], reusing and refreshing the stages kept in `cache`.
pub fn run_cached(
    spec: &PipelineSpec,
    resolver: &SourceResolver,
    ctx: &JobContext,
    cache: &StageCache,
) -> Result<PipelineResult, PipelineError> {
    let prepared = prepare(spec, resolver, ctx, cache)?;
    run_prepared(spec, prepared, ctx, cache)
}

/// As [`run_cached`], handing `show` provisional results first where the exact one will take a
/// while ([`show_provisional`]: the model fitted on a sample); the exact result is returned.
pub fn run_refining(
    spec: &PipelineSpec,
    resolver: &SourceResolver,
    ctx: &JobContext,
    cache: &StageCache,
    show: &dyn Fn(PipelineResult),
) -> Result<PipelineResult, PipelineError> {
    let prepared = prepare(spec, resolver, ctx, cache)?;
    match show_provisional(spec, &prepared, ctx, cache, show) {
        Ok(()) => {}
        Err(cancelled) if ctx.cancel.is_cancelled() => return Err(cancelled),
        // What failed on the sample (a k above its distinct points, say) is for the exact run to
        // say, or not: it runs on every customer.
        Err(_) => {}
    }
    run_prepared(spec, prepared, ctx, cache)
}

/// The sweep and the model of a run, on the table and matrix `prepared` holds.
fn run_prepared(
    spec: &PipelineSpec,
    prepared: Prepared,
    ctx: &JobContext,
    cache: &StageCache,
) -> Result<PipelineResult, PipelineError> {
    let mut warnings = prepared.warnings.clone();
    let (algorithm, table, matrix) = (&prepared.algorithm, &prepared.table, &prepared.recipe.matrix);
    let (sweep, swept_fits) = match (spec.model.k_range, &prepared.sweep_key) {
        (Some((lo, hi)), Some(key)) => {
            let swept = cache.sweep.get_or_build(key, || {
                let (result, fits) =
                    sweep_keeping_fits(matrix.values.view(), lo, hi, algorithm, SILHOUETTE_EXACT_MAX_ROWS, ctx)?;
                Ok(SweptStage { result, fits: Arc::new(fits) })
            })?;
            warnings.extend(swept.result.warnings.iter().cloned());
            (Some(swept.result), Some(swept.fits))
        }
        _ => (None, None),
    };
    let model = cache.model.get_or_build(&prepared.model_key, || {
        let mut model_warnings = Vec::new();
        ctx.progress.report("fit", 0.0);
        // The sweep built the tree or the map once for every k: the fit at k cuts it rather than
        // building it again.
        let shared = sweep.as_ref().and_then(|s| s.shared_model.clone());
        // The sweep fitted this very k with these settings (`algorithm.with_k`, deterministic): take
        // its fit, as changing k within the swept range should cost no fit.
        let kept = swept_fits.as_ref().and_then(|fits| fits.iter().find(|f| Some(f.k()) == algorithm.k()).cloned());
        let took_the_sweeps_fit = kept.is_some();
        let fit = if let Some(kept) = kept {
            Arc::unwrap_or_clone(kept)
        } else {
            match (algorithm, shared) {
                (Algorithm::Rfm(params), _) => {
                    let fitted = rfm_segmentation(&table.frame, matrix, params)?;
                    if !fitted.1.is_empty() {
                        model_warnings.push(format!("no customer matched the RFM rules {}", fitted.1.join(", ")));
                    }
                    fitted.0
                }
                (Algorithm::Hybrid(params), _) => hybrid_segmentation(&table.frame, matrix, params, &ctx.cancel)?,
                (Algorithm::Hierarchical(p), Some(SharedModel::Tree(tree))) => {
                    Segmentation::from_tree(&tree, matrix.values.view(), p.k)?
                }
                (Algorithm::Som(p), Some(SharedModel::Map(map))) => {
                    Segmentation::from_som(&map, matrix.values.view(), p.k)?
                }
                _ => algorithm.fit_matrix(matrix.values.view(), &ctx.cancel)?,
            }
        };
        check_cancel(ctx)?;
        let k = fit.k();
        // The sweep fitted this k with the same parameters, and fits are deterministic, so its
        // silhouette belongs to these very labels: reuse it rather than pay O(n²) twice.
        // Calinski-Harabasz and Davies-Bouldin too, when the fit is the sweep's own.
        let known =
            sweep.as_ref().and_then(|s| s.runs.iter().find(|r| r.k == k && r.sizes == fit.sizes)).and_then(|r| {
                Some(KnownIndices {
                    silhouette: r.silhouette_detail.clone()?,
                    ch_db: r.calinski_harabasz.zip(r.davies_bouldin).filter(|_| took_the_sweeps_fit),
                })
            });
        let indices = evaluate_with_known(matrix.values.view(), &fit.labels, k, algorithm.seed(), known)?;

        // Stability, when asked for: re-fits on resamples, of the fit and of every k swept.
        let (stability, k_stability) = match &spec.model.stability {
            Some(params) if algorithm.uses_feature_matrix() && algorithm.rfm_columns().is_none() => {
                use crate::engine::cluster::stability::{KStability, bootstrap_stability_reporting};
                ctx.progress.report("stability", 0.0);
                let x = matrix.values.view();
                let ks: Vec<usize> = sweep
                    .as_ref()
                    .map(|s| s.runs.iter().map(|r| r.k).filter(|&k| k >= 2).collect())
                    .unwrap_or_default();
                // Progress counts re-fits: the fit's own, then every k's (one set each).
                let total = (params.bootstrap * (1 + ks.len())).max(1) as f64;
                let report_from = |set: usize| {
                    move |done: usize| {
                        ctx.progress.report("stability", ((set * params.bootstrap + done) as f64 / total).min(1.0))
                    }
                };
                let own =
                    bootstrap_stability_reporting(x, &fit.labels, algorithm, params, &ctx.cancel, &report_from(0))?;
                let mut per_k = Vec::new();
                if sweep.is_some() {
                    for (i, &sk) in ks.iter().enumerate() {
                        check_cancel(ctx)?;
                        ctx.progress.report("stability", ((1 + i) * params.bootstrap) as f64 / total);
                        let at = algorithm.with_k(sk);
                        let s = if sk == k && at == *algorithm {
                            own.clone()
                        } else {
                            let labels = at.fit_matrix(x, &ctx.cancel)?.labels;
                            bootstrap_stability_reporting(x, &labels, &at, params, &ctx.cancel, &report_from(1 + i))?
                        };
                        per_k.push(KStability::of(sk, &s));
                    }
                }
                (Some(own), per_k)
            }
            Some(_) => {
                model_warnings.push(format!(
                    "{} scores customers by rules, so there is no re-fit to check for stability",
                    algorithm.label()
                ));
                (None, Vec::new())
            }
            None => (None, Vec::new()),
        };

        Ok(ModelStage { fit, indices, stability, k_stability, warnings: model_warnings })
    })?;
    warnings.extend(model.warnings.iter().cloned());
    ctx.progress.report("done", 1.0);
    Ok(assemble(prepared, sweep, model, warnings, None))
}

/// The result of a run from its parts.
fn assemble(
    prepared: Prepared,
    sweep: Option<SweepResult>,
    model: ModelStage,
    warnings: Vec<String>,
    provisional: Option<ProvisionalFit>,
) -> PipelineResult {
    let Prepared { table, recipe, .. } = prepared;
    let RecipeStage { roles, quality, fitted_recipe, matrix, multicollinearity } = recipe.as_ref();
    let ModelStage { fit, indices, stability, k_stability, .. } = model;
    let k = fit.k();
    let mut segment_per_customer = vec![None; table.frame.height()];
    for (&row, &label) in matrix.kept_rows.iter().zip(&fit.labels) {
        segment_per_customer[row] = Some(label);
    }
    for &row in &matrix.fallback_rows {
        segment_per_customer[row] = Some(k);
    }
    let assignment_fingerprint = fingerprint_segments(&segment_per_customer);
    PipelineResult {
        customers: table.frame,
        as_of: table.as_of,
        roles: roles.clone(),
        quality: QualityReport::clone(quality),
        fitted_recipe: fitted_recipe.clone(),
        matrix: matrix.clone(),
        multicollinearity: multicollinearity.clone(),
        sweep,
        fit,
        indices,
        segment_per_customer,
        assignment_fingerprint,
        source_fingerprints: table.fingerprints,
        join: table.join,
        stability,
        k_stability,
        rules: None,
        warnings,
        minimised: Vec::new(),
        value: table.value,
        provisional,
    }
}

/// Moves `rows` (customers whose date did not parse, by the user's choice) out of the fit and into
/// the fallback segment.
fn to_fallback(matrix: &mut FeatureMatrix, rows: &[usize]) -> Result<(), PipelineError> {
    if rows.is_empty() {
        return Ok(());
    }
    let leaving = |row: &usize| rows.binary_search(row).is_ok();
    let keep: Vec<usize> = (0..matrix.kept_rows.len()).filter(|&i| !leaving(&matrix.kept_rows[i])).collect();
    if keep.is_empty() {
        return Err(crate::engine::error::FeatureError::NoRowsLeft.into());
    }
    matrix.values = matrix.values.select(ndarray::Axis(0), &keep);
    let moved: Vec<usize> = matrix.kept_rows.iter().copied().filter(leaving).collect();
    let dropped: Vec<usize> = matrix.dropped_rows.iter().copied().filter(leaving).collect();
    matrix.kept_rows = keep.iter().map(|&i| matrix.kept_rows[i]).collect();
    matrix.dropped_rows.retain(|r| !leaving(r));
    matrix.fallback_rows.extend(moved);
    matrix.fallback_rows.extend(dropped);
    matrix.fallback_rows.sort_unstable();
    matrix.fallback_rows.dedup();
    Ok(())
}

/// Refuses, in one line, a feature about money on a log read without an amount column (rather than
/// "column not in the data").
fn check_money_features(spec: &PipelineSpec, frame: &polars::prelude::DataFrame) -> Result<(), PipelineError> {
    let TableKind::TransactionLog(t) = &spec.table else { return Ok(()) };
    if t.amount.is_some() {
        return Ok(());
    }
    let about_money = |c: &str| {
        matches!(c, "monetary_total" | "monetary_mean" | "return_share" | "return_value" | "spend_trend")
            || c.starts_with("spend_")
    };
    match spec.recipe.features.iter().find(|f| about_money(&f.column) && frame.column(&f.column).is_err()) {
        Some(feature) => Err(crate::engine::error::DataError::BadColumn {
            column: feature.column.clone(),
            problem: "needs an amount column, and the log is read without one; choose the amount column (--amount) \
                      or leave this feature out"
                .to_string(),
        }
        .into()),
        None => Ok(()),
    }
}

/// The recency, frequency and monetary columns of the customers the recipe kept, as numbers;
/// refused with advice when a column is missing or a kept customer has no value.
pub(crate) fn rfm_values(
    frame: &DataFrame,
    matrix: &FeatureMatrix,
    columns: [&str; 3],
) -> Result<[Vec<f64>; 3], PipelineError> {
    let invalid = |problem: String| {
        PipelineError::Cluster(crate::engine::error::ClusterError::InvalidParameter { name: "RFM column", problem })
    };
    let values = |name: &str| -> Result<Vec<f64>, PipelineError> {
        let column = data::column(frame, name).map_err(|_| {
            invalid(format!(
                "the customer table has no column '{name}'; choose the recency, frequency and monetary columns"
            ))
        })?;
        let cast = column.cast(&DataType::Float64).map_err(DataError::from)?;
        let all = cast.f64().map_err(DataError::from)?;
        let out: Vec<f64> = matrix.kept_rows.iter().map(|&row| all.get(row).unwrap_or(f64::NAN)).collect();
        let missing = out.iter().filter(|v| !v.is_finite()).count();
        if missing > 0 {
            return Err(invalid(format!(
                "'{name}' has no usable value for {missing} of the customers being segmented; add it to the \
                 features with the fallback missing rule so they go to the fallback segment"
            )));
        }
        Ok(out)
    };
    Ok([values(columns[0])?, values(columns[1])?, values(columns[2])?])
}

/// RFM rules over the customers the recipe kept, scored on the customer table's own recency,
/// frequency and monetary columns; also the names of rules nobody matched.
pub(crate) fn rfm_segmentation(
    frame: &DataFrame,
    matrix: &FeatureMatrix,
    params: &RfmParams,
) -> Result<(Segmentation, Vec<String>), PipelineError> {
    let [r, f, m] = rfm_values(frame, matrix, [&params.recency, &params.frequency, &params.monetary])?;
    let fitted = fit_rfm(&r, &f, &m, params)?;
    let k = fitted.model.segment_names.len();
    let names = fitted.model.segment_names.clone();
    let mut segmentation =
        Segmentation::from_labels(matrix.values.view(), fitted.labels, k, names, FittedModel::Rfm(fitted.model))?;
    segmentation.rfm_scores = Some(fitted.scores);
    segmentation.method = "rfm";
    Ok((segmentation, fitted.empty_rules))
}

/// RFM value tiers with k-means inside each, on the customers the recipe kept.
pub(crate) fn hybrid_segmentation(
    frame: &DataFrame,
    matrix: &FeatureMatrix,
    params: &HybridParams,
    cancel: &crate::engine::jobs::CancelToken,
) -> Result<Segmentation, PipelineError> {
    let [r, f, m] = rfm_values(frame, matrix, [&params.recency, &params.frequency, &params.monetary])?;
    let fitted = fit_hybrid(matrix.values.view(), [&r, &f, &m], params, cancel)?;
    let k = fitted.names.len();
    let mut segmentation = Segmentation::from_labels(
        matrix.values.view(),
        fitted.labels,
        k,
        fitted.names,
        FittedModel::Hybrid(fitted.model),
    )?;
    segmentation.rfm_scores = Some(fitted.scores);
    segmentation.method = "hybrid";
    Ok(segmentation)
}

/// Which matrix columns are numeric and which are the one-hot levels of each categorical feature.
/// `algorithm` ready to fit the matrix `recipe` makes: k-prototypes learns which columns are
/// one-hot categories.
pub fn for_recipe(algorithm: &Algorithm, recipe: &FittedRecipe) -> Algorithm {
    let mut algorithm = algorithm.clone();
    if let Algorithm::KPrototypes(p) = &mut algorithm {
        p.layout = Some(column_layout(recipe));
    }
    algorithm
}

pub(crate) fn column_layout(recipe: &FittedRecipe) -> crate::engine::cluster::kprototypes::ColumnLayout {
    let mut layout = crate::engine::cluster::kprototypes::ColumnLayout::default();
    let mut next = 0;
    for feature in &recipe.features {
        match feature {
            crate::engine::features::recipe::FittedFeature::Numeric(_) => {
                layout.numeric.push(next);
                next += 1;
            }
            crate::engine::features::recipe::FittedFeature::Categorical(c) => {
                layout.categorical.push((next..next + c.levels.len()).collect());
                next += c.levels.len();
            }
        }
    }
    layout
}

/// Three numeric columns of a table, whole (for scoring new customers).
pub(crate) fn rfm_columns(frame: &DataFrame, names: [&str; 3]) -> Result<[Vec<Option<f64>>; 3], PipelineError> {
    let column = |name: &str| -> Result<Vec<Option<f64>>, PipelineError> {
        let cast = data::column(frame, name)?.cast(&DataType::Float64).map_err(DataError::from)?;
        Ok(cast.f64().map_err(DataError::from)?.iter().collect())
    };
    Ok([column(names[0])?, column(names[1])?, column(names[2])?])
}

pub(crate) fn check_cancel(ctx: &JobContext) -> Result<(), PipelineError> {
    if ctx.cancel.is_cancelled() {
        return Err(crate::engine::error::ClusterError::Cancelled.into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::features::Scaling;

    fn demo_spec() -> PipelineSpec {
        let mut spec = crate::engine::project::parse(crate::engine::DEMO_PROJECT).unwrap().project.spec;
        spec.model.k_range = Some((2, 4));
        spec
    }

    #[test]
    fn a_hierarchical_or_som_fit_cuts_the_tree_or_map_its_sweep_built() {
        let resolver = SourceResolver::user_chosen(Path::new("."));
        let mut spec = demo_spec();
        spec.model.algorithm = Algorithm::by_name("hierarchical").unwrap().with_k(3);
        let result = run(&spec, &resolver, &JobContext::inline()).unwrap();
        let Some(SharedModel::Tree(swept)) = result.sweep.as_ref().unwrap().shared_model.clone() else {
            panic!("the sweep keeps its tree")
        };
        assert!(std::sync::Arc::ptr_eq(&swept, result.fit.tree.as_ref().unwrap()), "one tree, not two");
        // And cutting it gives what building it afresh gives.
        let fresh = spec.model.algorithm.fit_matrix(result.matrix.values.view(), &Default::default()).unwrap();
        assert_eq!(fresh.labels, result.fit.labels);

        spec.model.algorithm = Algorithm::by_name("som").unwrap().with_k(3);
        let result = run(&spec, &resolver, &JobContext::inline()).unwrap();
        let Some(SharedModel::Map(swept)) = result.sweep.as_ref().unwrap().shared_model.clone() else {
            panic!("the sweep keeps its map")
        };
        assert!(std::sync::Arc::ptr_eq(&swept, result.fit.som.as_ref().unwrap()), "one map, not two");
    }

    #[test]
    fn changing_k_reuses_the_table_and_the_sweep_and_gives_what_a_fresh_run_gives() {
        let (cache, resolver, ctx) =
            (StageCache::default(), SourceResolver::user_chosen(Path::new(".")), JobContext::inline());
        let spec = demo_spec();
        let first = run_cached(&spec, &resolver, &ctx, &cache).unwrap();
        assert_eq!(cache.hits(), StageHits::default());

        let mut other_k = spec.clone();
        other_k.model.algorithm.set_k(3);
        let cached = run_cached(&other_k, &resolver, &ctx, &cache).unwrap();
        assert_eq!(cache.hits(), StageHits { table: 1, recipe: 1, sweep: 1, model: 0 });
        assert_eq!(cached.sweep, first.sweep);
        let fresh = run(&other_k, &resolver, &ctx).unwrap();
        assert_eq!(cached.assignment_fingerprint, fresh.assignment_fingerprint);
        assert_eq!(cached.sweep, fresh.sweep);
        assert_eq!(cached.fit.sizes.len(), 3);
        // The fit at k is the sweep's own, and a run without a sweep fits the very same segments.
        let mut unswept = other_k.clone();
        unswept.model.k_range = None;
        let fitted = run(&unswept, &resolver, &ctx).unwrap();
        assert_eq!(cached.fit.labels, fitted.fit.labels);
        assert_eq!(cached.fit.centroids, fitted.fit.centroids);
        assert_eq!(cached.fit.inertia.to_bits(), fitted.fit.inertia.to_bits());
        assert_eq!(cached.assignment_fingerprint, fitted.assignment_fingerprint);
        assert_eq!(cached.indices, fitted.indices);

        // Another scaling: the table is reused, the sweep is not.
        let mut other_recipe = other_k.clone();
        for feature in &mut other_recipe.recipe.features {
            feature.scaling = Scaling::Robust;
        }
        let rescaled = run_cached(&other_recipe, &resolver, &ctx, &cache).unwrap();
        assert_eq!(cache.hits(), StageHits { table: 2, recipe: 1, sweep: 1, model: 0 });
        assert_ne!(rescaled.sweep, first.sweep);

        // The same spec again (as after an edit of the business rules): nothing is fitted again.
        let again = run_cached(&other_recipe, &resolver, &ctx, &cache).unwrap();
        assert_eq!(cache.hits(), StageHits { table: 3, recipe: 2, sweep: 2, model: 1 });
        assert_eq!(again.assignment_fingerprint, rescaled.assignment_fingerprint);
    }

    #[test]
    fn every_part_of_the_spec_is_in_a_stage_key_unless_the_stage_is_said_to_ignore_it() {
        let spec = demo_spec();
        let keys = |s: &PipelineSpec| {
            [&ignores::TABLE[..], &ignores::RECIPE, &ignores::SWEEP, &ignores::MODEL].map(|i| stage_key(s, i, ()))
        };
        let before = keys(&spec);
        let changed = |edit: &dyn Fn(&mut PipelineSpec)| {
            let mut other = spec.clone();
            edit(&mut other);
            let after = keys(&other);
            [0, 1, 2, 3].map(|i| before[i] != after[i])
        };
        // [table, recipe, sweep, model]: which stages must run again.
        assert_eq!(changed(&|s| s.duplicate_ids = DuplicateIdRule::KeepFirst), [true; 4]);
        assert_eq!(changed(&|s| s.source.read_options.skip_bad_rows = true), [true; 4]);
        assert_eq!(
            changed(&|s| s.source.fingerprint = Some("other".into())),
            [false; 4],
            "the bytes' own fingerprints key the stages"
        );
        assert_eq!(changed(&|s| s.role_overrides.push(("x".into(), ColumnRole::Ignored))), [true; 4]);
        assert_eq!(changed(&|s| s.recipe.features[0].scaling = Scaling::Robust), [false, true, true, true]);
        assert_eq!(
            changed(&|s| s.model.algorithm.set_k(7)),
            [false, false, false, false],
            "the algorithm as run is keyed apart"
        );
        assert_eq!(changed(&|s| s.model.k_range = Some((2, 9))), [false, false, true, true]);
        assert_eq!(changed(&|s| s.model.min_segment_share = Some(0.1)), [false; 4]);
        assert_eq!(changed(&|s| s.model.explain_depth = Some(4)), [false; 4]);
    }

    #[test]
    fn business_rules_move_customers_and_keep_the_models_segments() {
        use crate::engine::rules::{BusinessRule, BusinessRules, Override};
        let resolver = SourceResolver::user_chosen(Path::new("."));
        let mut spec = demo_spec();
        spec.model.k_range = None;
        let mut result = run(&spec, &resolver, &JobContext::inline()).unwrap();
        let model = result.segment_per_customer.clone();
        let model_fingerprint = result.assignment_fingerprint.clone();
        let k = result.fit.k();
        let frequency =
            crate::engine::data::quality::numeric_values(result.customers.column("frequency").unwrap()).unwrap();
        let one_timers = frequency.iter().filter(|f| f.is_some_and(|f| f < 2.0)).count();
        let first_id = result.customers.column("customer_id").unwrap().get(0).unwrap().to_string();
        let rules = BusinessRules {
            rules: vec![BusinessRule {
                text: "when frequency < 2 then segment \"One-timers\"".into(),
                why: "test".into(),
            }],
            overrides: vec![Override {
                customer: first_id.trim_matches('"').to_string(),
                segment: "Segment 1".into(),
                why: "test".into(),
            }],
        };
        let id = override_id_column(&spec, &result).map(str::to_string);
        assert_eq!(id.as_deref(), Some("customer_id"));
        apply_business_rules(&mut result, &rules, &[], id.as_deref());
        let outcome = result.rules.as_ref().unwrap();
        assert_eq!(outcome.rules[0].matched, one_timers);
        assert_eq!(outcome.overrides[0].error, None);
        assert_eq!(result.model_segments(), &model[..]);
        assert_eq!(result.n_segments(), k + 1);
        assert_eq!(result.default_segment_name(k), "One-timers");
        assert_eq!(result.segment_per_customer[0], Some(0), "the override comes after the rule");
        let in_rule_segment = result.segment_per_customer.iter().filter(|s| **s == Some(k)).count();
        assert_eq!(in_rule_segment, one_timers - usize::from(frequency[0].is_some_and(|f| f < 2.0)));
        assert_ne!(result.assignment_fingerprint, model_fingerprint);
        let frame = assignments_frame(&result, Some("customer_id")).unwrap();
        assert!(frame.column("model_segment").is_ok() && frame.column("changed_by").is_ok());
        // `segment` counts from 0 as it always has; `segment_number` is the number the window shows.
        let from = |name: &str| -> Vec<Option<u32>> { frame.column(name).unwrap().u32().unwrap().iter().collect() };
        let shown: Vec<Option<u32>> = from("segment").iter().map(|s| s.map(|s| s + 1)).collect();
        assert_eq!(from("segment_number"), shown);
        assert_eq!(from("segment")[0], Some(0));
        let model_shown: Vec<Option<u32>> = from("model_segment").iter().map(|s| s.map(|s| s + 1)).collect();
        assert_eq!(from("model_segment_number"), model_shown);
        // No rules: the model's segments and fingerprint again.
        apply_business_rules(&mut result, &BusinessRules::default(), &[], id.as_deref());
        assert_eq!(result.segment_per_customer, model);
        assert_eq!(result.assignment_fingerprint, model_fingerprint);
        assert!(result.rules.is_none());
    }
}
