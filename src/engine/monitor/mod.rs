//! Keeping a published segmentation honest on new periods: the reference frozen at publish time
//! (every input feature's bins, the segment shares), and a period's drift against it: per feature
//! the PSI with its table, band, p-value and verdict; the segment shares' PSI and chi-square test;
//! the migration from the previous assignment; alerts against the stored thresholds; and, over
//! several periods, each metric beside the band the earlier periods make (mean plus or minus 3 sd).

pub mod diff;
pub mod drift;
pub mod migration;
pub mod periods;

use polars::prelude::{DataFrame, DataType};
use serde::{Deserialize, Serialize};

pub use drift::{Band, BinRow, ChiSquare, FrozenBins, Psi, Thresholds};
pub use migration::{Migration, Retention};

use crate::engine::error::PipelineError;
use crate::engine::features::recipe::{FittedFeature, FittedRecipe};
use crate::engine::pipeline::PipelineResult;

/// What a version is monitored against, frozen when it is published.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reference {
    /// Customers in the fitted customer table.
    pub n_customers: u64,
    /// Per input feature of the recipe, its bins with the fitted customers' counts.
    pub features: Vec<FrozenBins>,
    /// The segments by number (names as published, rule segments and the fallback included).
    pub segments: Vec<String>,
    /// Fitted customers per segment (after the business rules).
    pub segment_counts: Vec<u64>,
}

/// A column's values as numbers (not numbers and blanks: missing).
fn numbers(frame: &DataFrame, column: &str) -> Result<Vec<Option<f64>>, PipelineError> {
    Ok(crate::engine::data::quality::numeric_values(crate::engine::data::column(frame, column)?)?)
}

/// A column's values as text (nulls: missing).
pub fn texts(frame: &DataFrame, column: &str) -> Result<Vec<Option<String>>, PipelineError> {
    let column = crate::engine::data::column(frame, column)?;
    let cast =
        column.as_materialized_series().cast(&DataType::String).map_err(crate::engine::error::DataError::from)?;
    let strings = cast.str().map_err(crate::engine::error::DataError::from)?;
    Ok(strings.iter().map(|v| v.map(str::to_string)).collect())
}

impl Reference {
    /// The reference of `result` (its customer table and final segments), with the segments'
    /// `names` by number.
    pub fn of(result: &PipelineResult, names: &[String]) -> Result<Self, PipelineError> {
        let features = input_columns(&result.fitted_recipe)
            .into_iter()
            .map(|(column, numeric)| {
                Ok(if numeric {
                    FrozenBins::numeric(&column, &numbers(&result.customers, &column)?)
                } else {
                    FrozenBins::categorical(&column, &texts(&result.customers, &column)?)
                })
            })
            .collect::<Result<Vec<_>, PipelineError>>()?;
        let mut segment_counts = vec![0u64; names.len()];
        for s in result.segment_per_customer.iter().flatten() {
            if let Some(c) = segment_counts.get_mut(*s) {
                *c += 1;
            }
        }
        Ok(Self { n_customers: result.customers.height() as u64, features, segments: names.to_vec(), segment_counts })
    }

    /// Checks a reference read from a file: bins that can count (rising finite edges, sorted
    /// rarer levels, one count per bin) and one count per segment.
    pub fn check(&self) -> Result<(), String> {
        for f in &self.features {
            if let drift::BinKind::Numeric { edges } = &f.kind
                && !(edges.iter().all(|e| e.is_finite()) && edges.windows(2).all(|w| w[0] < w[1]))
            {
                return Err(format!("the frozen edges of '{}' are not finite and rising", f.column));
            }
            if let drift::BinKind::Categorical { other, .. } = &f.kind
                && !other.windows(2).all(|w| w[0] < w[1])
            {
                return Err(format!("the rarer reference levels of '{}' are not sorted", f.column));
            }
            if f.counts.len() != f.labels().len() {
                return Err(format!("'{}' has {} counts for {} bins", f.column, f.counts.len(), f.labels().len()));
            }
        }
        if self.segments.len() != self.segment_counts.len() {
            return Err(format!("{} segments with {} counts", self.segments.len(), self.segment_counts.len()));
        }
        Ok(())
    }
}

/// The recipe's input columns, each with whether it is read as numbers.
pub fn input_columns(recipe: &FittedRecipe) -> Vec<(String, bool)> {
    recipe
        .features
        .iter()
        .map(|f| match f {
            FittedFeature::Numeric(f) => (f.column.clone(), true),
            FittedFeature::Categorical(c) => (c.column.clone(), false),
        })
        .collect()
}

/// One alert.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Warn or act.
    pub level: Band,
    /// What fired it (a column, "segment shares", "retention of <segment>").
    pub what: String,
    /// In words, with the figure and the threshold.
    pub message: String,
}

/// A monitored period.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MonitorRun {
    /// When it was monitored (RFC 3339, UTC).
    pub at: String,
    /// Who monitored it.
    pub by: String,
    /// The period's name (its data file, or what the user called it).
    pub label: String,
    /// The published version it was scored and compared with.
    pub version: u32,
    /// New customers.
    pub n_customers: u64,
    /// Per input feature.
    pub features: Vec<Psi>,
    /// The segment shares.
    pub segment_shares: Psi,
    /// Chi-square test of the segment counts against the published shares.
    pub segment_test: ChiSquare,
    /// From the previous assignment, when there was one.
    pub migration: Option<Migration>,
    /// What the thresholds say.
    pub alerts: Vec<Alert>,
    /// Whether to re-fit, in words, when an alert calls for it.
    pub suggestion: Option<String>,
}

/// The monitor's settings and the periods monitored, stored in the project.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MonitorState {
    /// Alert thresholds.
    #[serde(default)]
    pub thresholds: Thresholds,
    /// Periods monitored, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runs: Vec<MonitorRun>,
}

/// Periods a project keeps (older ones are dropped first).
pub const MAX_RUNS: usize = 1_000;

impl MonitorState {
    /// Whether nothing was set or monitored (not written to the file).
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// New customers of one period, scored by the current version.
pub struct Period<'a> {
    /// The period's name.
    pub label: String,
    /// Its customer table (the columns the recipe reads).
    pub frame: &'a DataFrame,
    /// Each customer's final segment name, by row.
    pub segments: Vec<String>,
    /// Each customer's id, by row, when the project has an id column.
    pub ids: Option<Vec<String>>,
}

/// Monitors `period` against `reference` (of published version `version`), with `previous`
/// (customer id, segment name) pairs for the migration and the earlier runs for retention alerts.
pub fn monitor(
    reference: &Reference,
    version: u32,
    period: &Period<'_>,
    previous: Option<&[(String, String)]>,
    state: &MonitorState,
    who: &str,
) -> Result<MonitorRun, String> {
    let thresholds = &state.thresholds;
    let mut features = Vec::with_capacity(reference.features.len());
    for bins in &reference.features {
        let numeric = matches!(bins.kind, drift::BinKind::Numeric { .. });
        let counts = if numeric {
            bins.count_numeric(&numbers(period.frame, &bins.column).map_err(|e| e.to_string())?)
        } else {
            bins.count_text(&texts(period.frame, &bins.column).map_err(|e| e.to_string())?)
        };
        features.push(drift::psi(&bins.column, &bins.labels(), &bins.counts, &counts, thresholds));
    }
    // Segment shares by name: the published segments, then any the rules made only now.
    let mut labels = reference.segments.clone();
    for name in &period.segments {
        if !labels.contains(name) {
            labels.push(name.clone());
        }
    }
    let mut expected = reference.segment_counts.clone();
    expected.resize(labels.len(), 0);
    let mut actual = vec![0u64; labels.len()];
    for name in &period.segments {
        if let Some(at) = labels.iter().position(|l| l == name) {
            actual[at] += 1;
        }
    }
    let segment_shares = drift::psi("segment shares", &labels, &expected, &actual, thresholds);
    let segment_test = drift::chi_square(&expected, &actual);
    let migration = match (previous, &period.ids) {
        (Some(previous), Some(ids)) => {
            let current: Vec<(String, String)> = ids.iter().cloned().zip(period.segments.iter().cloned()).collect();
            Some(migration::migration(previous, &current, &reference.segments)?)
        }
        (Some(_), None) => {
            return Err("the project names no customer id column, so customers cannot be followed".into());
        }
        _ => None,
    };
    let mut alerts = Vec::new();
    for p in features.iter().chain(std::iter::once(&segment_shares)) {
        if p.band != Band::Stable {
            let threshold = if p.band == Band::Act { thresholds.psi_act } else { thresholds.psi_warn };
            alerts.push(Alert {
                level: p.band,
                what: p.what.clone(),
                message: format!("{}: PSI {:.4} is at or above {} ({})", p.what, p.psi, threshold, p.verdict),
            });
        }
    }
    let earlier = state.runs.iter().rev().find_map(|r| r.migration.as_ref());
    if let Some(m) = &migration {
        for (name, points) in &thresholds.retention {
            let now = m.retention.iter().find(|r| &r.segment == name).map(|r| r.retention);
            let before = earlier.and_then(|e| e.retention.iter().find(|r| &r.segment == name)).map(|r| r.retention);
            match (now, before) {
                (Some(now), Some(before)) if (before - now) * 100.0 > *points => alerts.push(Alert {
                    level: Band::Act,
                    what: format!("retention of {name}"),
                    message: format!(
                        "retention of {name} fell {:.1} points, from {:.1}% to {:.1}% (threshold {points} points)",
                        (before - now) * 100.0,
                        before * 100.0,
                        now * 100.0
                    ),
                }),
                _ => {}
            }
        }
    }
    let acts: Vec<&str> = alerts.iter().filter(|a| a.level == Band::Act).map(|a| a.what.as_str()).collect();
    let suggestion = (!acts.is_empty()).then(|| {
        format!(
            "re-fit: {} moved past the act threshold; the segments describe customers who have changed. Fit the \
             project on recent data, compare with `strata diff`, and publish when it holds up",
            acts.join(", ")
        )
    });
    Ok(MonitorRun {
        at: crate::engine::project::audit_entry::now(),
        by: who.to_string(),
        label: period.label.clone(),
        version,
        n_customers: period.frame.height() as u64,
        features,
        segment_shares,
        segment_test,
        migration,
        alerts,
        suggestion,
    })
}

/// One metric of one period beside the band the periods before it make.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PeriodMetric {
    /// The metric ("PSI recency", "share Loyal").
    pub metric: String,
    /// The period.
    pub period: String,
    /// Its place among the periods monitored (0: the first).
    pub index: usize,
    /// Its value.
    pub value: f64,
    /// Mean minus and plus 3 standard deviations of the earlier periods (at least two of them).
    pub band: Option<(f64, f64)>,
    /// Whether the value lies outside that band.
    pub outside: bool,
}

/// Every metric of `runs` (oldest first) per period, each beside the band of the periods before it.
pub fn over_periods(runs: &[MonitorRun]) -> Vec<PeriodMetric> {
    // Per metric, its (period index, period, value) points.
    type Points = Vec<(usize, String, f64)>;
    let mut series: Vec<(String, Points)> = Vec::new();
    let mut push = |metric: String, at: usize, period: &str, value: f64| {
        let point = (at, period.to_string(), value);
        match series.iter_mut().find(|(m, _)| *m == metric) {
            Some((_, values)) => values.push(point),
            None => series.push((metric, vec![point])),
        }
    };
    for (at, run) in runs.iter().enumerate() {
        for f in &run.features {
            push(format!("PSI {}", f.what), at, &run.label, f.psi);
        }
        push("PSI segment shares".into(), at, &run.label, run.segment_shares.psi);
        for bin in &run.segment_shares.bins {
            push(format!("share {}", bin.label), at, &run.label, bin.actual_share);
        }
    }
    let mut out = Vec::new();
    for (metric, values) in series {
        for (i, (index, period, value)) in values.iter().enumerate() {
            let earlier: Vec<f64> = values[..i].iter().map(|(_, _, v)| *v).collect();
            let band = (earlier.len() >= 2).then(|| {
                let mean = earlier.iter().sum::<f64>() / earlier.len() as f64;
                let var = earlier.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (earlier.len() - 1) as f64;
                (mean - 3.0 * var.sqrt(), mean + 3.0 * var.sqrt())
            });
            let outside = band.is_some_and(|(lo, hi)| *value < lo || *value > hi);
            out.push(PeriodMetric {
                metric: metric.clone(),
                period: period.clone(),
                index: *index,
                value: *value,
                band,
                outside,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_come_from_the_periods_before() {
        let run = |label: &str, psi: f64| {
            let t = Thresholds::default();
            let mut p = drift::psi("x", &["a".into()], &[1], &[1], &t);
            p.psi = psi;
            MonitorRun {
                at: String::new(),
                by: String::new(),
                label: label.into(),
                version: 1,
                n_customers: 1,
                features: vec![p.clone()],
                segment_shares: p,
                segment_test: drift::chi_square(&[1], &[1]),
                migration: None,
                alerts: Vec::new(),
                suggestion: None,
            }
        };
        let runs = [run("m1", 0.01), run("m2", 0.03), run("m3", 0.02), run("m4", 0.5)];
        let rows: Vec<PeriodMetric> = over_periods(&runs).into_iter().filter(|r| r.metric == "PSI x").collect();
        assert_eq!(rows.len(), 4);
        assert!(rows[0].band.is_none() && rows[1].band.is_none());
        let (lo, hi) = rows[2].band.unwrap();
        let sd = (2.0f64 * 0.01f64.powi(2)).sqrt();
        assert!((lo - (0.02 - 3.0 * sd)).abs() < 1e-12 && (hi - (0.02 + 3.0 * sd)).abs() < 1e-12);
        assert!(!rows[2].outside && rows[3].outside);
    }
}
