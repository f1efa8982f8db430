//! New customers from a file, read as the project reads its own, and their scores as a table:
//! what `strata score` and the window's File > Score new customers share.

use std::path::{Path, PathBuf};

use polars::prelude::{Column, DataFrame};

use super::Scored;
use crate::engine::data::{self, ReadOptions};
use crate::engine::derive::DerivedColumns;
use crate::engine::error::{DataError, PipelineError};
use crate::engine::pipeline::{self, CustomerTable, DataSource, PipelineSpec, SourceResolver, SourceSpec, TableKind};

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

/// A file of new customers to read as the project reads its own data.
#[derive(Clone, Debug, PartialEq)]
pub struct NewData {
    /// The file (a customer table or a transaction log, as the project's own data).
    pub data: PathBuf,
    /// For a transaction log: the date its customers are taken as of (the log's last day when
    /// `None`).
    pub as_of: Option<chrono::NaiveDate>,
    /// How to read it.
    pub read_options: ReadOptions,
    /// Derived columns computed after the project's own.
    pub extra_derived: DerivedColumns,
}

impl NewData {
    /// A file read with `read_options` and nothing derived beyond the project's own columns.
    pub fn new(data: PathBuf, as_of: Option<chrono::NaiveDate>, read_options: ReadOptions) -> Self {
        Self { data, as_of, read_options, extra_derived: DerivedColumns::default() }
    }

    /// Its name in reports: the file's name, and the as-of date when one is given.
    pub fn label(&self) -> String {
        let file =
            self.data.file_name().map_or_else(|| self.data.display().to_string(), |n| n.to_string_lossy().into());
        match self.as_of {
            Some(d) => format!("{file} as of {d}"),
            None => file,
        }
    }
}

/// New customers' table, built as the project builds its own (same kind of table, same
/// columns, the project's lookup tables read from `project_files`, the new file from
/// `data_files`).
pub fn new_data_table(
    spec: &PipelineSpec,
    source: &NewData,
    project_files: &SourceResolver,
    data_files: &SourceResolver,
) -> Result<(PipelineSpec, CustomerTable), String> {
    let mut spec =
        spec_for_new_data(spec, &source.data, source.read_options.clone(), project_files).map_err(|e| e.to_string())?;
    spec.derived.lookups.extend(source.extra_derived.lookups.iter().cloned());
    spec.derived.columns.extend(source.extra_derived.columns.iter().cloned());
    if let TableKind::TransactionLog(columns) = &mut spec.table {
        columns.as_of = source.as_of;
    } else if source.as_of.is_some() {
        return Err("an as-of date is for transaction logs; the project segments a customer table".into());
    }
    let table = pipeline::build_customer_table(&spec, data_files).map_err(|e| e.to_string())?;
    Ok((spec, table))
}
