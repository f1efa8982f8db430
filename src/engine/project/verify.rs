//! Reproduction check: every stored result of a project against a re-run of its spec, each
//! difference named, so that `--verify` and the window's "reproduced" mean every figure the file
//! shows, not only the assignment fingerprint.

use crate::engine::cluster::sweep::SweepResult;
use crate::engine::features::recipe::FittedFeature;
use crate::engine::metrics::Indices;

use super::{Project, SegmentNote, StoredResults};
use crate::engine::error::{PipelineError, ProjectError};
use crate::engine::jobs::JobContext;
use crate::engine::pipeline::{self, DataSource, PipelineResult, PipelineSpec, SourceResolver};

/// A data source whose bytes differ from the ones the project was made with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangedSource {
    /// The source as the project names it (its path, or the demo data's name).
    pub source_path: String,
    /// The fingerprint the project stores.
    pub stored: String,
    /// The fingerprint of the bytes read now.
    pub actual: String,
}

impl ChangedSource {
    /// The refusal a re-run gives unless the user accepts changed data.
    pub fn to_error(&self) -> ProjectError {
        ProjectError::FingerprintMismatch {
            source_path: self.source_path.clone(),
            stored: self.stored.chars().take(12).collect(),
            actual: self.actual.chars().take(12).collect(),
        }
    }
}

/// Every file a spec reads, in the order a run fingerprints them (the data, the attribute table,
/// then each lookup table), as its name and the fingerprint the spec stores for it.
pub fn stored_fingerprints(spec: &mut PipelineSpec) -> Vec<(String, &mut Option<String>)> {
    let name = |source: &DataSource| match source {
        DataSource::File(path) => path.clone(),
        built_in => built_in.built_in_name().unwrap_or_default().to_string(),
    };
    let mut all = vec![(name(&spec.source.source), &mut spec.source.fingerprint)];
    if let Some(attributes) = &mut spec.attributes {
        all.push((name(&attributes.source), &mut attributes.fingerprint));
    }
    all.extend(spec.derived.lookups.iter_mut().map(|l| (l.path.clone(), &mut l.fingerprint)));
    all
}

/// Stores in `spec` the fingerprint of every file `result` read (data, attribute table, lookups),
/// as a save does, so that a later run can tell whether any of them changed.
pub fn store_fingerprints(spec: &mut PipelineSpec, result: &PipelineResult) {
    for ((_, stored), actual) in stored_fingerprints(spec).into_iter().zip(&result.source_fingerprints) {
        *stored = Some(actual.clone());
    }
}

/// The files (the data, the attribute table, then each lookup table) whose fingerprint in `spec`
/// differs from the one `result` read: the one check behind `strata run`'s refusal and the
/// window's warning.
pub fn changed_sources(spec: &PipelineSpec, result: &PipelineResult) -> Vec<ChangedSource> {
    let mut spec = spec.clone();
    stored_fingerprints(&mut spec)
        .into_iter()
        .zip(&result.source_fingerprints)
        .filter_map(|((source_path, stored), actual)| {
            let stored = stored.as_ref()?;
            (stored != actual).then(|| ChangedSource { source_path, stored: stored.clone(), actual: actual.clone() })
        })
        .collect()
}

/// Re-runs a project as it was saved (its spec, then its business rules), refusing data that
/// changed since unless `accept_changed_data`; returns the result and what it did not reproduce of
/// the stored results (see [`verify_run`]). Used by `strata run`, `strata predict` and the demo.
pub fn rerun(
    project: &Project,
    resolver: &SourceResolver,
    accept_changed_data: bool,
) -> Result<(PipelineResult, Option<Vec<String>>), PipelineError> {
    let mut result = pipeline::run(&project.spec, resolver, &JobContext::inline())?;
    let id_column = pipeline::override_id_column(&project.spec, &result).map(str::to_string);
    pipeline::apply_business_rules(&mut result, &project.rules, &project.segments, id_column.as_deref());
    // A changed data file is reported, never silently used.
    if !accept_changed_data && let Some(changed) = changed_sources(&project.spec, &result).first() {
        return Err(changed.to_error().into());
    }
    let differences = verify_run(project, &result);
    Ok((result, differences))
}

/// Every difference between a project's stored results and a re-run of it (business rules already
/// applied, as when it was saved); `None` when the project stores no results to compare.
pub fn verify_run(project: &Project, result: &PipelineResult) -> Option<Vec<String>> {
    let stored = project.results.as_ref()?;
    Some(compare_results(stored, &StoredResults::from_result(result), &project.segments, result.n_segments()))
}

/// Relative tolerance for stored figures: a re-run on the same data gives the same numbers up to
/// the last bits of floating-point summation order, far below what any figure is read at.
pub const RELATIVE_TOLERANCE: f64 = 1e-9;

/// Differences between the stored results and the re-run's, one line each, by the name of the
/// stored key; empty when everything was reproduced. `n_segments` counts the re-run's segments
/// (the model's, the fallback and those the rules made), which the names must refer to.
pub fn compare_results(
    stored: &StoredResults,
    rerun: &StoredResults,
    notes: &[SegmentNote],
    n_segments: usize,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut differ = |key: &str, stored: String, rerun: String| {
        out.push(format!("{key}: stored {stored}, re-run {rerun}"));
    };
    if stored.assignment_fingerprint != rerun.assignment_fingerprint {
        differ("assignment_fingerprint", short(&stored.assignment_fingerprint), short(&rerun.assignment_fingerprint));
    }
    if stored.n_customers != rerun.n_customers {
        differ("n_customers", stored.n_customers.to_string(), rerun.n_customers.to_string());
    }
    if stored.n_rows_fitted != rerun.n_rows_fitted {
        differ("n_rows_fitted", stored.n_rows_fitted.to_string(), rerun.n_rows_fitted.to_string());
    }
    if stored.as_of != rerun.as_of {
        differ("as_of", format!("{:?}", stored.as_of), format!("{:?}", rerun.as_of));
    }
    compare_recipe(stored, rerun, &mut differ);
    if stored.sizes != rerun.sizes {
        differ("sizes", format!("{:?}", stored.sizes), format!("{:?}", rerun.sizes));
    }
    compare_matrix("centroids", &stored.centroids, &rerun.centroids, &mut differ);
    compare_indices("indices", &stored.indices, &rerun.indices, &mut differ);
    match (&stored.sweep, &rerun.sweep) {
        (Some(a), Some(b)) => compare_sweep(a, b, &mut differ),
        (None, None) => {}
        (a, b) => differ(
            "sweep",
            if a.is_some() { "a sweep" } else { "none" }.to_string(),
            if b.is_some() { "a sweep" } else { "none" }.to_string(),
        ),
    }
    match (&stored.value, &rerun.value) {
        (Some(a), Some(b)) => {
            for (key, a, b) in a.differences(b, close) {
                differ(&key, a, b);
            }
        }
        (Some(_), None) => differ("value", "value per segment".into(), "none".into()),
        // Results stored before value figures were: nothing to compare.
        (None, _) => {}
    }
    for (i, note) in notes.iter().enumerate() {
        if note.segment >= n_segments {
            out.push(format!(
                "segments[{i}]: the name {} is stored for segment {}, but the re-run has {n_segments} segments",
                crate::engine::error::quoted(&note.name),
                note.segment
            ));
        }
    }
    out
}

fn compare_recipe(stored: &StoredResults, rerun: &StoredResults, differ: &mut impl FnMut(&str, String, String)) {
    let (a, b) = (&stored.fitted_recipe.features, &rerun.fitted_recipe.features);
    if a.len() != b.len() {
        differ("fitted_recipe.features", format!("{} features", a.len()), format!("{} features", b.len()));
        return;
    }
    for (i, (a, b)) in a.iter().zip(b).enumerate() {
        let key = format!("fitted_recipe.features[{i}]");
        match (a, b) {
            (FittedFeature::Numeric(a), FittedFeature::Numeric(b)) => {
                if a.column != b.column || a.log1p != b.log1p || a.missing != b.missing {
                    differ(&key, format!("{a:?}"), format!("{b:?}"));
                    continue;
                }
                compare_figure(&format!("{key}.center"), a.center, b.center, differ);
                compare_figure(&format!("{key}.scale"), a.scale, b.scale, differ);
                compare_figure(&format!("{key}.weight"), a.weight, b.weight, differ);
                compare_option(&format!("{key}.impute_value"), a.impute_value, b.impute_value, differ);
                compare_option(
                    &format!("{key}.clip_bounds.0"),
                    a.clip_bounds.map(|c| c.0),
                    b.clip_bounds.map(|c| c.0),
                    differ,
                );
                compare_option(
                    &format!("{key}.clip_bounds.1"),
                    a.clip_bounds.map(|c| c.1),
                    b.clip_bounds.map(|c| c.1),
                    differ,
                );
            }
            (FittedFeature::Categorical(a), FittedFeature::Categorical(b)) => {
                if a.column != b.column
                    || a.levels != b.levels
                    || a.impute_level != b.impute_level
                    || a.missing != b.missing
                {
                    differ(
                        &key,
                        format!("{} levels of '{}'", a.levels.len(), a.column),
                        format!("{} levels of '{}'", b.levels.len(), b.column),
                    );
                }
                compare_figure(&format!("{key}.weight"), a.weight, b.weight, differ);
            }
            _ => differ(&key, "another kind of feature".into(), "another kind of feature".into()),
        }
    }
}

fn compare_matrix(key: &str, a: &[Vec<f64>], b: &[Vec<f64>], differ: &mut impl FnMut(&str, String, String)) {
    let shape = |m: &[Vec<f64>]| format!("{} rows of {:?} values", m.len(), m.iter().map(Vec::len).collect::<Vec<_>>());
    if a.len() != b.len() || a.iter().zip(b).any(|(x, y)| x.len() != y.len()) {
        differ(key, shape(a), shape(b));
        return;
    }
    let mut reported = 0;
    for (r, (x, y)) in a.iter().zip(b).enumerate() {
        for (c, (&u, &v)) in x.iter().zip(y).enumerate() {
            if !close(u, v) && reported < 5 {
                differ(&format!("{key}[{r}][{c}]"), u.to_string(), v.to_string());
                reported += 1;
            }
        }
    }
}

fn compare_indices(key: &str, a: &Indices, b: &Indices, differ: &mut impl FnMut(&str, String, String)) {
    if a.k != b.k {
        differ(&format!("{key}.k"), a.k.to_string(), b.k.to_string());
    }
    if a.sizes != b.sizes {
        differ(&format!("{key}.sizes"), format!("{:?}", a.sizes), format!("{:?}", b.sizes));
    }
    compare_figure(&format!("{key}.inertia"), a.inertia, b.inertia, differ);
    compare_option(
        &format!("{key}.silhouette"),
        a.silhouette.as_ref().map(|s| s.mean),
        b.silhouette.as_ref().map(|s| s.mean),
        differ,
    );
    compare_option(&format!("{key}.calinski_harabasz"), a.calinski_harabasz, b.calinski_harabasz, differ);
    compare_option(&format!("{key}.davies_bouldin"), a.davies_bouldin, b.davies_bouldin, differ);
}

fn compare_sweep(a: &SweepResult, b: &SweepResult, differ: &mut impl FnMut(&str, String, String)) {
    if a.n_rows != b.n_rows {
        differ("sweep.n_rows", a.n_rows.to_string(), b.n_rows.to_string());
    }
    let ks = |s: &SweepResult| format!("{:?}", s.runs.iter().map(|r| r.k).collect::<Vec<_>>());
    if a.runs.len() != b.runs.len() || a.runs.iter().zip(&b.runs).any(|(x, y)| x.k != y.k) {
        differ("sweep.runs (k)", ks(a), ks(b));
        return;
    }
    for (i, (x, y)) in a.runs.iter().zip(&b.runs).enumerate() {
        let key = format!("sweep.runs[{i}] (k = {})", x.k);
        if x.sizes != y.sizes {
            differ(&format!("{key}.sizes"), format!("{:?}", x.sizes), format!("{:?}", y.sizes));
        }
        compare_figure(&format!("{key}.inertia"), x.inertia, y.inertia, differ);
        compare_option(&format!("{key}.silhouette"), x.silhouette, y.silhouette, differ);
        compare_option(&format!("{key}.calinski_harabasz"), x.calinski_harabasz, y.calinski_harabasz, differ);
        compare_option(&format!("{key}.davies_bouldin"), x.davies_bouldin, y.davies_bouldin, differ);
        compare_option(&format!("{key}.bic"), x.bic, y.bic, differ);
        compare_option(&format!("{key}.aic"), x.aic, y.aic, differ);
    }
    if a.suggested_k != b.suggested_k {
        differ("sweep.suggested_k", format!("{:?}", a.suggested_k), format!("{:?}", b.suggested_k));
    }
    if a.knee_k != b.knee_k {
        differ("sweep.knee_k", format!("{:?}", a.knee_k), format!("{:?}", b.knee_k));
    }
}

fn compare_figure(key: &str, a: f64, b: f64, differ: &mut impl FnMut(&str, String, String)) {
    if !close(a, b) {
        differ(key, a.to_string(), b.to_string());
    }
}

fn compare_option(key: &str, a: Option<f64>, b: Option<f64>, differ: &mut impl FnMut(&str, String, String)) {
    match (a, b) {
        (Some(a), Some(b)) => compare_figure(key, a, b, differ),
        (None, None) => {}
        (a, b) => differ(key, format!("{a:?}"), format!("{b:?}")),
    }
}

/// Equal within the relative tolerance; a NaN equals nothing.
fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= RELATIVE_TOLERANCE * a.abs().max(b.abs()).max(1e-300)
}

/// The first 12 characters of a fingerprint, as messages show it.
pub fn short(fingerprint: &str) -> String {
    fingerprint.chars().take(12).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerance_is_relative_and_nan_never_matches() {
        assert!(close(1.0, 1.0 + 1e-12));
        assert!(!close(1.0, 1.0 + 1e-6));
        assert!(close(1e12, 1e12 + 1.0));
        assert!(!close(f64::NAN, f64::NAN));
        assert!(close(0.0, 0.0));
    }
}
