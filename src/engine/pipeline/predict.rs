//! New customers assigned to a fitted result, the way its method assigns them.

use super::*;

/// New customers assigned to a fitted segmentation.
pub struct Prediction {
    /// Segment per row of the new table (`None`: dropped by the recipe, or matched a rule whose
    /// segment had no customers when fitted).
    pub segments: Vec<Option<usize>>,
    /// Probability of the assigned segment, for mixtures.
    pub probability: Option<Vec<Option<f64>>>,
    /// How they were assigned, in words.
    pub method: &'static str,
    /// What the recipe said about the new data.
    pub warnings: Vec<String>,
}

/// Assigns the customers of `frame` (a customer table with the columns the recipe reads) to the
/// segments of `result`, the way its method assigns new customers; customers the recipe sends to
/// the fallback segment go there.
pub fn predict_customers(result: &PipelineResult, frame: &DataFrame) -> Result<Prediction, PipelineError> {
    let matrix = result.fitted_recipe.transform(frame)?;
    predict_matrix(result, frame, &matrix)
}

/// [`predict_customers`] with the recipe's matrix of `frame` already made.
pub fn predict_matrix(
    result: &PipelineResult,
    frame: &DataFrame,
    matrix: &crate::engine::features::recipe::FeatureMatrix,
) -> Result<Prediction, PipelineError> {
    let mut segments = vec![None; frame.height()];
    let mut probability = None;
    let k = result.fit.k();
    if !matrix.kept_rows.is_empty() {
        let x = matrix.values.view();
        let assigned: Vec<Option<usize>> = match &result.fit.model {
            FittedModel::Centroids(m) | FittedModel::SegmentMeans(m) => m.predict(x)?.into_iter().map(Some).collect(),
            FittedModel::Dbscan(m) => m.predict(x)?.into_iter().map(Some).collect(),
            FittedModel::Optics(m) => m.predict(x)?.into_iter().map(Some).collect(),
            FittedModel::Som(m) => m.predict(x)?.into_iter().map(Some).collect(),
            FittedModel::KPrototypes(m) => m.predict(x)?.into_iter().map(Some).collect(),
            FittedModel::Gmm(m) => {
                let p = m.predict_proba(x)?;
                let mut top = vec![None; frame.height()];
                let labels: Vec<Option<usize>> = p
                    .rows()
                    .into_iter()
                    .zip(&matrix.kept_rows)
                    .map(|(row, &r)| {
                        let (best, value) = row
                            .iter()
                            .enumerate()
                            .fold((0, f64::NEG_INFINITY), |b, (c, &v)| if v > b.1 { (c, v) } else { b });
                        top[r] = Some(value);
                        Some(best)
                    })
                    .collect();
                probability = Some(top);
                labels
            }
            FittedModel::Rfm(m) => {
                let [r, f, mo] = rfm_columns(frame, [&m.params.recency, &m.params.frequency, &m.params.monetary])?;
                matrix
                    .kept_rows
                    .iter()
                    .map(|&row| match (r[row], f[row], mo[row]) {
                        (Some(r), Some(f), Some(mo)) if r.is_finite() && f.is_finite() && mo.is_finite() => {
                            m.segment_of(m.scores(r, f, mo))
                        }
                        _ => None,
                    })
                    .collect()
            }
            FittedModel::Hybrid(m) => {
                let [r, f, mo] = rfm_columns(frame, [&m.params.recency, &m.params.frequency, &m.params.monetary])?;
                let mut out = Vec::with_capacity(matrix.kept_rows.len());
                for (i, &row) in matrix.kept_rows.iter().enumerate() {
                    out.push(match (r[row], f[row], mo[row]) {
                        (Some(r), Some(f), Some(mo)) if r.is_finite() && f.is_finite() && mo.is_finite() => {
                            m.segment_of(r, f, mo, x.slice(ndarray::s![i..i + 1, ..]))?
                        }
                        _ => None,
                    });
                }
                out
            }
        };
        for (&row, segment) in matrix.kept_rows.iter().zip(assigned) {
            segments[row] = segment;
        }
    }
    for &row in &matrix.fallback_rows {
        segments[row] = Some(k);
    }
    Ok(Prediction { segments, probability, method: result.fit.model.describe(), warnings: matrix.warnings.clone() })
}
