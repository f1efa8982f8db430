//! New customers from a file, read as the project reads its own, and their scores as a table:
//! what `strata score` and the window's File > Score new customers share.

use std::path::Path;

use polars::prelude::{Column, DataFrame};

use super::Scored;
use crate::engine::data::{self, ReadOptions};
use crate::engine::error::{DataError, PipelineError};
use crate::engine::pipeline::{self, DataSource, PipelineSpec, SourceResolver, SourceSpec};

/// The project's `spec` reading `new_data` (with `read_options`) instead of its own source: the
/// same kind of table and the same columns, with the project's lookup tables still read from its
/// folder through `project_files` (the new data may be anywhere).
pub fn spec_for_new_data(
    spec: &PipelineSpec,
    new_data: &Path,
    read_options: ReadOptions,
    project_files: &SourceResolver,
) -> Result<PipelineSpec, PipelineError> {
    let mut spec = spec.clone();
    spec.source = SourceSpec {
        source: DataSource::File(std::path::absolute(new_data).unwrap_or(new_data.to_path_buf()).display().to_string()),
        read_options,
        fingerprint: None,
    };
    for lookup in &mut spec.derived.lookups {
        lookup.path = project_files.resolve(&lookup.path)?.display().to_string();
    }
    Ok(spec)
}

/// The scores as a table, one row per customer of `frame`: the id (or `row`, from 1), `segment`,
/// `segment_number`, `segment_name`, `model_segment`, `model_segment_number`, `changed_by`,
/// `reason`, `reason_column`, `margin`, `beyond_fitted`, and `probability` for mixtures.
pub fn scored_frame(scored: &Scored, frame: &DataFrame, id_column: Option<&str>) -> Result<DataFrame, DataError> {
    let id = match id_column {
        Some(id) => data::column(frame, id)?.clone(),
        None => Column::new("row".into(), (1..=frame.height() as u64).collect::<Vec<_>>()),
    };
    let name = |s: &Option<usize>| s.and_then(|s| scored.names.get(s).cloned());
    let mut columns = vec![
        id,
        Column::new("segment".into(), pipeline::numbered(&scored.segments, 0)),
        Column::new("segment_number".into(), pipeline::numbered(&scored.segments, 1)),
        Column::new("segment_name".into(), scored.segments.iter().map(name).collect::<Vec<_>>()),
        Column::new("model_segment".into(), pipeline::numbered(&scored.model_segments, 0)),
        Column::new("model_segment_number".into(), pipeline::numbered(&scored.model_segments, 1)),
        Column::new("changed_by".into(), scored.changed_by.clone()),
        Column::new(
            "reason".into(),
            scored.reasons.iter().map(|r| r.as_ref().map(|(r, _)| r.code().to_string())).collect::<Vec<_>>(),
        ),
        Column::new(
            "reason_column".into(),
            scored.reasons.iter().map(|r| r.as_ref().map(|(_, c)| c.clone())).collect::<Vec<_>>(),
        ),
        Column::new("margin".into(), scored.margins.clone()),
        Column::new("beyond_fitted".into(), scored.beyond_fitted.clone()),
    ];
    if let Some(p) = &scored.probability {
        columns.push(Column::new("probability".into(), p.clone()));
    }
    Ok(DataFrame::new_infer_height(columns)?)
}
