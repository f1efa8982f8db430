//! The summary's parts, each computed on its own so [`super::ResultSummary::compute_with`] can make
//! them side by side: the customer table's, the separation tests', the model matrix's and the tree
//! rules.

use rayon::prelude::*;

use super::*;

/// The summary's parts read from the customer table's numeric columns.
pub(super) struct TableParts {
    pub(super) profiles: Vec<SegmentProfile>,
    pub(super) population_means: Vec<f64>,
    pub(super) population_sds: Vec<f64>,
    pub(super) distance_sd: Vec<Vec<f64>>,
    pub(super) before: Vec<Option<Histogram>>,
}

impl TableParts {
    pub(super) fn of(result: &PipelineResult, columns: &[String]) -> Result<Self, PipelineError> {
        let n_segments = result.n_segments();
        let (profiles, raw_columns) = rayon::join(
            || profile_segments(&result.customers, &result.segment_per_customer, n_segments, columns),
            || -> Result<Vec<Vec<f64>>, PipelineError> {
                columns
                    .par_iter()
                    .map(|name| {
                        let values = numeric_values(crate::engine::data::column(&result.customers, name)?)?;
                        Ok(values.into_iter().map(|v| v.unwrap_or(f64::NAN)).collect())
                    })
                    .collect()
            },
        );
        let (profiles, raw_columns) = (profiles?, raw_columns?);
        let (population_means, population_sds): (Vec<f64>, Vec<f64>) = raw_columns
            .iter()
            .map(|values| {
                let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
                let n = finite.len().max(1) as f64;
                let mean = finite.iter().sum::<f64>() / n;
                let var = finite.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0).max(1.0);
                (mean, var.sqrt())
            })
            .unzip();
        let distance_sd = distances_in_sd(&profiles, &population_means, &population_sds);
        let before = raw_columns.par_iter().map(|v| Histogram::of(v, HISTOGRAM_BARS)).collect();
        Ok(Self { profiles, population_means, population_sds, distance_sd, before })
    }
}

/// What separates the segments, on the features as the data has them (categorical ones included),
/// and each categorical feature's commonest category per segment. A provisional result (a fit on a
/// sample, shown while the exact one is made) goes without the tests, which take longest, and says
/// so: the exact result brings them.
pub(super) fn separation_parts(
    result: &PipelineResult,
) -> Result<(Vec<FeatureSeparation>, Vec<CategoryModes>), PipelineError> {
    let (features, categorical) = explained_features(result);
    let separation = if result.provisional.is_some() {
        Vec::new()
    } else {
        separation_of(&result.customers, &features, &categorical, &result.segment_per_customer)?
    };
    let mut category_modes = Vec::new();
    for name in &categorical {
        let values = crate::engine::data::column_texts(&result.customers, name)?;
        category_modes.push((name.clone(), segment_modes(&values, &result.segment_per_customer, result.n_segments())));
    }
    Ok((separation, category_modes))
}

/// The summary's parts read from the model's matrix and its fit.
pub(super) struct ModelParts {
    pub(super) after: Vec<Option<Histogram>>,
    pub(super) scatter: Option<ScatterView>,
    pub(super) silhouettes: Option<MemberSilhouettes>,
    pub(super) model_distance_sd: Vec<Vec<f64>>,
    pub(super) overlap: Option<Overlap>,
}

impl ModelParts {
    pub(super) fn of(result: &PipelineResult, seed: u64) -> Result<Self, PipelineError> {
        let matrix = result.matrix.values.view();
        let k = result.fit.sizes.len();
        let ((after, scatter), (silhouettes, (model_distance_sd, overlap))) = rayon::join(
            || {
                let after = (0..matrix.ncols())
                    .into_par_iter()
                    .map(|j| Histogram::of(&matrix.column(j).to_vec(), HISTOGRAM_BARS))
                    .collect();
                let labels: Vec<u16> = result.fit.labels.iter().map(|&l| l as u16).collect();
                (after, (matrix.nrows() >= 2).then(|| scatter_view(matrix, &labels, k, seed)))
            },
            || {
                rayon::join(
                    || {
                        // A provisional result's on fewer rows: it is shown for seconds, marked.
                        let rows = if result.provisional.is_some() {
                            PROVISIONAL_MEMBER_SILHOUETTE_ROWS
                        } else {
                            MEMBER_SILHOUETTE_ROWS
                        };
                        member_silhouettes(matrix, &result.fit.labels, k, seed, rows)
                    },
                    || {
                        rayon::join(
                            || model_distances_in_sd(result),
                            || {
                                (k >= 2).then(|| match &result.fit.mixture {
                                    Some(m) => overlap_by_probability(m.probabilities.view(), &result.fit.labels),
                                    None => overlap_by_distance(matrix, &result.fit.labels, &result.fit.centroids),
                                })
                            },
                        )
                    },
                )
            },
        );
        Ok(Self { after, scatter, silhouettes: silhouettes?, model_distance_sd, overlap })
    }
}

/// Each segment's mean on each numeric matrix column, in standard deviations of the column
/// (`[segment][column]`): one pass over the rows per column for every segment's sum (each added in
/// row order).
fn model_distances_in_sd(result: &PipelineResult) -> Vec<Vec<f64>> {
    let matrix = result.matrix.values.view();
    let n_segments = result.n_segments();
    // The matrix column of each numeric feature (categorical ones take one column per level).
    let mut numeric_matrix_columns = Vec::new();
    let mut next = 0;
    for f in &result.fitted_recipe.features {
        match f {
            FittedFeature::Numeric(_) => {
                numeric_matrix_columns.push(next);
                next += 1;
            }
            FittedFeature::Categorical(c) => next += c.levels.len(),
        }
    }
    let per_column: Vec<Vec<f64>> = numeric_matrix_columns
        .par_iter()
        .map(|&j| {
            if j >= matrix.ncols() || matrix.nrows() < 2 {
                return vec![0.0; n_segments];
            }
            let column = matrix.column(j);
            let n = column.len() as f64;
            let mean = column.sum() / n;
            let sd = (column.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0)).sqrt();
            let mut sums = vec![0.0; n_segments];
            let mut counts = vec![0usize; n_segments];
            for (v, &l) in column.iter().zip(&result.fit.labels) {
                if l < n_segments {
                    sums[l] += v;
                    counts[l] += 1;
                }
            }
            (0..n_segments)
                .map(
                    |seg| {
                        if counts[seg] == 0 || sd <= 0.0 { 0.0 } else { (sums[seg] / counts[seg] as f64 - mean) / sd }
                    },
                )
                .collect()
        })
        .collect();
    (0..n_segments).map(|seg| per_column.iter().map(|column| column[seg]).collect()).collect()
}

/// The features the tree and the separation tests read, as the data has them (categorical ones
/// included), and which of them are categorical.
fn explained_features(result: &PipelineResult) -> (Vec<String>, Vec<String>) {
    let mut features = Vec::new();
    let mut categorical = Vec::new();
    for f in &result.fitted_recipe.features {
        match f {
            FittedFeature::Numeric(n) => features.push(n.column.clone()),
            FittedFeature::Categorical(c) => {
                features.push(c.column.clone());
                categorical.push(c.column.clone());
            }
        }
    }
    (features, categorical)
}

/// The segments as tree rules on a seeded sample of at most [`EXPLAIN_ROWS`] customers, and how
/// many the tree was trained on; a provisional result has none (the exact fit brings them).
pub(super) fn explanation_of(
    result: &PipelineResult,
    seed: u64,
    explain: &ExplainParams,
) -> (Result<Explanation, String>, usize) {
    if result.provisional.is_some() {
        return (Err("the tree rules come with the exact fit, which is under way".to_string()), 0);
    }
    let (features, categorical) = explained_features(result);
    let n_customers = result.customers.height();
    let (frame, segments_of) = if n_customers > EXPLAIN_ROWS {
        let rows = SeededRng::new(seed).sample_indices(n_customers, EXPLAIN_ROWS);
        let index = polars::prelude::IdxCa::from_vec(
            "rows".into(),
            rows.iter().map(|&r| r as polars::prelude::IdxSize).collect(),
        );
        match result.customers.take(&index) {
            Ok(frame) => (frame, rows.iter().map(|&r| result.segment_per_customer[r]).collect::<Vec<_>>()),
            Err(e) => return (Err(crate::engine::error::DataError::from(e).to_string()), 0),
        }
    } else {
        (result.customers.clone(), result.segment_per_customer.clone())
    };
    let explanation = explain_segments(&frame, &features, &categorical, &segments_of, result.n_segments(), explain)
        .map_err(|e| e.to_string());
    (explanation, frame.height())
}
