//! A monitor run end to end, as `strata monitor` and the Monitor screen both do it: the current
//! version re-run on its own data, each new period read as the project reads its data, scored by
//! the version (recipe, model, business rules with the fitted customers' percentiles, overrides,
//! fallback), and compared with the version's frozen reference; each period's assignment is the
//! next one's "previous".

use std::path::Path;

use crate::engine::data::ReadOptions;
use crate::engine::error::PipelineError;
use crate::engine::pipeline::{self, PipelineResult, PipelineSpec, SourceResolver};
use crate::engine::project::Project;
use crate::engine::project::verify::short;
use crate::engine::project::versions::ModelVersion;
use crate::engine::scoring::batch::{NewData, new_data_table};
use crate::engine::scoring::{self, FittedFacts};

use super::{MonitorRun, MonitorState, Period, texts};

/// Customers as (id, segment name).
pub type Pairs = Vec<(String, String)>;

/// Each customer of `result` with a segment as (id, segment name), when there is an id column.
pub fn assignment_pairs(
    spec: &PipelineSpec,
    result: &PipelineResult,
    names: &[String],
) -> Result<Option<Pairs>, PipelineError> {
    let Some(id) = pipeline::override_id_column(spec, result) else { return Ok(None) };
    let ids = texts(&result.customers, id)?;
    Ok(Some(
        ids.into_iter()
            .zip(&result.segment_per_customer)
            .filter_map(|(id, s)| Some((id?, names.get((*s)?)?.clone())))
            .collect(),
    ))
}

/// What monitoring some periods gave.
pub struct Monitored {
    /// One run per period, in the order given.
    pub runs: Vec<MonitorRun>,
    /// What reading and scoring the periods said.
    pub warnings: Vec<String>,
}

/// Monitors `sources` (in order) against `version`, whose re-run on its own data is `result`
/// (`view` is the project as the version scores: [`Project::scoring_view`]). `previous` is the
/// assignment the first period's customers are followed from; `state` holds the thresholds and
/// the runs before. `cancelled` is asked between periods.
#[allow(clippy::too_many_arguments)]
pub fn monitor_periods(
    view: &Project,
    version: &ModelVersion,
    result: &PipelineResult,
    sources: &[NewData],
    mut previous: Option<Pairs>,
    state: &MonitorState,
    who: &str,
    project_files: &SourceResolver,
    data_files: &SourceResolver,
    cancelled: &dyn Fn() -> bool,
) -> Result<Monitored, String> {
    let facts = FittedFacts::with_rules(result, &view.rules).map_err(|e| e.to_string())?;
    let mut state = state.clone();
    let mut runs = Vec::with_capacity(sources.len());
    let mut warnings = Vec::new();
    for source in sources {
        if cancelled() {
            return Err("monitoring was cancelled".into());
        }
        let failed = |e: String| format!("{}: {e}", source.data.display());
        let (spec, table) = new_data_table(&view.spec, source, project_files, data_files).map_err(failed)?;
        warnings.extend(table.warnings.iter().cloned());
        let id = spec.id_column().map(str::to_string);
        let scored = scoring::score_with(&facts, result, &view.rules, &view.segments, id.as_deref(), &table.frame)
            .map_err(|e| failed(e.to_string()))?;
        warnings.extend(scored.warnings.iter().cloned());
        let segments: Vec<String> = scored
            .segments
            .iter()
            .map(|s| s.and_then(|s| scored.names.get(s).cloned()).unwrap_or_else(|| "Fallback".to_string()))
            .collect();
        let ids = match &id {
            Some(id) => Some(
                texts(&table.frame, id)
                    .map_err(|e| failed(e.to_string()))?
                    .into_iter()
                    .map(Option::unwrap_or_default)
                    .collect::<Vec<_>>(),
            ),
            None => None,
        };
        let period = Period { label: source.label(), frame: &table.frame, segments, ids };
        let run = super::monitor(&version.reference, version.number, &period, previous.as_deref(), &state, who)?;
        previous = period.ids.clone().map(|ids| ids.into_iter().zip(period.segments.iter().cloned()).collect());
        state.runs.push(run.clone());
        runs.push(run);
    }
    Ok(Monitored { runs, warnings })
}

/// A version re-run on its own data (its spec, names and rules in `project`), checked against the
/// assignment it was published with; with each customer's (id, segment name).
pub fn rerun_version(
    project: &Project,
    version: &ModelVersion,
    resolver: &SourceResolver,
    accept_changed_data: bool,
) -> Result<(PipelineResult, Option<Pairs>), String> {
    let mut view = project.clone();
    view.spec = version.spec.clone();
    view.segments = version.segments.clone();
    view.rules = version.rules.clone();
    let (mut result, _) =
        crate::engine::project::verify::rerun(&view, resolver, accept_changed_data).map_err(|e| e.to_string())?;
    crate::engine::project::minimise::apply(&view, &mut result);
    if result.assignment_fingerprint != version.results.assignment_fingerprint {
        return Err(format!(
            "version {} re-run gives assignment {}, not the published {}",
            version.number,
            short(&result.assignment_fingerprint),
            short(&version.results.assignment_fingerprint)
        ));
    }
    let pairs = assignment_pairs(&view.spec, &result, &version.names).map_err(|e| e.to_string())?;
    Ok((result, pairs))
}

/// The previous assignment read from a table with an id column and `segment_name` (as
/// `strata score --out` writes it): the project's id column when present, else the first column.
pub fn read_previous(path: &Path, id_column: Option<&str>) -> Result<Pairs, String> {
    let frame = crate::engine::data::read_table(path, &ReadOptions::default()).map_err(|e| e.to_string())?.frame;
    let names: Vec<String> = frame.get_column_names().iter().map(|c| c.to_string()).collect();
    let id = id_column
        .filter(|c| names.iter().any(|n| n == c))
        .map(str::to_string)
        .or_else(|| names.first().cloned())
        .ok_or_else(|| format!("{}: no columns", path.display()))?;
    if !names.iter().any(|n| n == "segment_name") {
        return Err(format!(
            "{}: no segment_name column (the previous assignment as `strata score --out` writes it)",
            path.display()
        ));
    }
    let ids = texts(&frame, &id).map_err(|e| e.to_string())?;
    let segments = texts(&frame, "segment_name").map_err(|e| e.to_string())?;
    ids.into_iter()
        .zip(segments)
        .enumerate()
        .map(|(row, (id, s))| match (id, s) {
            (Some(id), Some(s)) => Ok((id, s)),
            _ => Err(format!("{}: row {} has no id or no segment_name", path.display(), row + 2)),
        })
        .collect()
}
