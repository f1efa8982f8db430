//! Excel workbooks (first sheet) through calamine; cells become texts and share the text inference.

use std::path::Path;

use calamine::{Data, Reader, open_workbook_auto};
use chrono::{Duration, NaiveDate};

use super::infer::{RawTable, build_frame};
use super::sniff::sniff_header;
use super::{LoadedTable, ReadOptions};
use crate::engine::error::DataError;

/// Renders a cell as the text the shared inference understands; error cells become missing.
fn cell_text(cell: &Data, error_cells: &mut usize) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => format!("{f}"),
        Data::String(s) => s.clone(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => {
            // Excel serial days count from 1899-12-30 (the 1900 leap-year bug included).
            let base = NaiveDate::from_ymd_opt(1899, 12, 30).unwrap_or_default();
            let days = dt.as_f64().floor() as i64;
            (base + Duration::days(days)).format("%Y-%m-%d").to_string()
        }
        Data::DateTimeIso(s) => s.get(..10).unwrap_or(s).to_string(),
        Data::DurationIso(s) => s.clone(),
        Data::Error(_) => {
            *error_cells += 1;
            String::new()
        }
    }
}

/// Reads the first worksheet of an .xlsx/.xlsm/.xls file.
pub(super) fn read_excel(
    path: &Path,
    options: &ReadOptions,
    keep_columns: Option<&[String]>,
) -> Result<LoadedTable, DataError> {
    let parse = |message: String| DataError::Parse { path: path.to_path_buf(), format: "Excel", message };
    let mut workbook = open_workbook_auto(path).map_err(|e| parse(e.to_string()))?;
    let range = workbook
        .worksheet_range_at(0)
        .ok_or_else(|| DataError::NoDataRows { path: path.to_path_buf() })?
        .map_err(|e| parse(e.to_string()))?;
    let mut error_cells = 0;
    let mut rows: Vec<Vec<String>> = range
        .rows()
        .map(|row| row.iter().map(|c| cell_text(c, &mut error_cells)).collect::<Vec<_>>())
        .filter(|row: &Vec<String>| row.iter().any(|s| !s.trim().is_empty()))
        .collect();
    if rows.is_empty() {
        return Err(DataError::NoDataRows { path: path.to_path_buf() });
    }
    let first = rows.remove(0);
    let has_header = options.has_header.unwrap_or_else(|| sniff_header(&first, &rows));
    let headers: Vec<String> = if has_header {
        first
            .iter()
            .enumerate()
            .map(|(i, h)| if h.trim().is_empty() { format!("column_{}", i + 1) } else { h.trim().to_string() })
            .collect()
    } else {
        rows.insert(0, first.clone());
        (1..=first.len()).map(|i| format!("column_{i}")).collect()
    };
    if let Some(n) = options.sample_rows {
        rows.truncate(n);
    }
    if rows.is_empty() {
        return Err(DataError::NoDataRows { path: path.to_path_buf() });
    }
    let width = headers.len();
    let mut columns = vec![Vec::with_capacity(rows.len()); width];
    for row in rows {
        for (i, column) in columns.iter_mut().enumerate() {
            column.push(row.get(i).cloned().unwrap_or_default());
        }
    }
    let (frame, mut warnings) = build_frame(RawTable { headers, columns }.project(keep_columns))?;
    if error_cells > 0 {
        warnings.push(format!("{error_cells} Excel error cell(s) (#DIV/0!, #N/A, ...) read as missing"));
    }
    Ok(LoadedTable::binary(frame, path, options, warnings))
}
