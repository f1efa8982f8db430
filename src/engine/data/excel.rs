//! Excel workbooks (first sheet) through calamine; cells become texts and share the text inference.

use std::io::BufReader;
use std::path::Path;

use calamine::{Data, ExcelDateTime, ExcelDateTimeType, Reader, Sheets, Xls, Xlsx};
use chrono::{Datelike, Duration, NaiveDate};

use super::formats::ValueFormats;
use super::infer::{EARLIEST_PLAUSIBLE_YEAR, RawTable, build_frame_with, unique_headers};
use super::sniff::sniff_header;
use super::{LoadedTable, ReadOptions, open_data_file};
use crate::engine::error::DataError;

/// Days between the 1900 and the 1904 date systems' day 0.
const EXCEL_1904_OFFSET_DAYS: f64 = 1462.0;

/// Cells that could not be read as what they claim to be, counted with a few examples.
#[derive(Debug, Default)]
struct CellProblems {
    /// Error cells (#DIV/0!, #N/A, ...).
    error_cells: usize,
    /// Date cells whose serial is no date from 1900 to 9999 (or not a number at all).
    bad_dates: usize,
    /// A few of them as "B7 = 100000000".
    bad_date_examples: Vec<String>,
}

/// An A1-style reference: the column letters and the 1-based row.
fn cell_reference(row: usize, column: usize) -> String {
    let mut letters = Vec::new();
    let mut n = column + 1;
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    format!("{}{}", String::from_utf8_lossy(&letters), row + 1)
}

/// The calendar date of an Excel serial (days from 1899-12-30, or from 1904-01-01 in the 1904
/// system), when it is a finite number of a day from 1900-01-01 to 9999-12-31.
fn excel_serial_date(serial: f64, is_1904: bool) -> Option<NaiveDate> {
    let serial = if is_1904 { serial + EXCEL_1904_OFFSET_DAYS } else { serial };
    // 2,958,465 is 9999-12-31; checked before `as i64`, which would saturate silently.
    if !serial.is_finite() || !(0.0..2_958_466.0).contains(&serial) {
        return None;
    }
    // Excel serial days count from 1899-12-30 (the 1900 leap-year bug included).
    let base = NaiveDate::from_ymd_opt(1899, 12, 30)?;
    let date = base.checked_add_signed(Duration::try_days(serial.floor() as i64)?)?;
    (date.year() >= EARLIEST_PLAUSIBLE_YEAR).then_some(date)
}

/// Whether a date cell counts in the 1904 date system (calamine keeps that private, but compares it).
fn is_1904(dt: &ExcelDateTime) -> bool {
    *dt == ExcelDateTime::new(dt.as_f64(), ExcelDateTimeType::DateTime, true)
}

/// Renders a cell as the text the shared inference understands; error cells and impossible dates
/// become missing and are counted.
fn cell_text(cell: &Data, at: (usize, usize), problems: &mut CellProblems) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::Int(i) => i.to_string(),
        // Whole numbers print without a point (42.0 as "42"), as they were typed.
        Data::Float(f) => format!("{f}"),
        Data::String(s) => s.clone(),
        Data::Bool(b) => b.to_string(),
        // A duration (a time-of-day or elapsed-time format) is a number of days, not a date.
        Data::DateTime(dt) if dt.is_duration() => format!("{}", dt.as_f64()),
        Data::DateTime(dt) => match excel_serial_date(dt.as_f64(), is_1904(dt)) {
            Some(date) => date.format("%Y-%m-%d").to_string(),
            None => {
                problems.bad_dates += 1;
                if problems.bad_date_examples.len() < 3 {
                    problems.bad_date_examples.push(format!("{} = {}", cell_reference(at.0, at.1), dt.as_f64()));
                }
                String::new()
            }
        },
        Data::DateTimeIso(s) => s.get(..10).unwrap_or(s).to_string(),
        Data::DurationIso(s) => s.clone(),
        Data::Error(_) => {
            problems.error_cells += 1;
            String::new()
        }
    }
}

/// Opens the workbook through the checked file handle, so a pipe or a device behind an Excel name
/// is refused before a byte is read.
fn open_workbook(path: &Path) -> Result<Sheets<BufReader<std::fs::File>>, DataError> {
    let parse = |message: String| DataError::Parse { path: path.to_path_buf(), format: "Excel", message };
    let file = BufReader::new(open_data_file(path)?);
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    if extension == "xls" {
        Ok(Sheets::Xls(Xls::new(file).map_err(|e| parse(e.to_string()))?))
    } else {
        Ok(Sheets::Xlsx(Xlsx::new(file).map_err(|e| parse(e.to_string()))?))
    }
}

/// Reads the first worksheet of an .xlsx/.xlsm/.xls file.
pub(super) fn read_excel(
    path: &Path,
    options: &ReadOptions,
    formats: &ValueFormats,
    keep_columns: Option<&[String]>,
    text_columns: &[String],
) -> Result<LoadedTable, DataError> {
    let parse = |message: String| DataError::Parse { path: path.to_path_buf(), format: "Excel", message };
    let mut workbook = open_workbook(path)?;
    let range = workbook
        .worksheet_range_at(0)
        .ok_or_else(|| DataError::NoDataRows { path: path.to_path_buf() })?
        .map_err(|e| parse(e.to_string()))?;
    let (first_row, first_column) = range.start().map_or((0, 0), |(r, c)| (r as usize, c as usize));
    let mut problems = CellProblems::default();
    let mut rows: Vec<Vec<String>> = range
        .rows()
        .enumerate()
        .map(|(r, row)| {
            row.iter()
                .enumerate()
                .map(|(c, cell)| cell_text(cell, (first_row + r, first_column + c), &mut problems))
                .collect::<Vec<_>>()
        })
        .filter(|row: &Vec<String>| row.iter().any(|s| !s.trim().is_empty()))
        .collect();
    if rows.is_empty() {
        return Err(DataError::NoDataRows { path: path.to_path_buf() });
    }
    let first = rows.remove(0);
    let has_header = options.has_header.unwrap_or_else(|| sniff_header(&first, &rows));
    let mut warnings = Vec::new();
    let headers: Vec<String> = if has_header {
        let (headers, header_warnings) = unique_headers(&first);
        warnings.extend(header_warnings);
        headers
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
    let (frame, type_warnings, readings) = build_frame_with(
        RawTable { headers, columns, numbers: Vec::new() }.project(keep_columns),
        text_columns,
        formats,
    )?;
    warnings.extend(type_warnings);
    if problems.error_cells > 0 {
        warnings.push(format!("{} Excel error cell(s) (#DIV/0!, #N/A, ...) read as missing", problems.error_cells));
    }
    if problems.bad_dates > 0 {
        warnings.push(format!(
            "{} Excel date cell(s) hold no date from 1900-01-01 to 9999-12-31 (for example {}); read as missing: check those cells' values and formats",
            problems.bad_dates,
            problems.bad_date_examples.join(", ")
        ));
    }
    let mut table = LoadedTable::binary(frame, path, options, warnings);
    table.readings = readings;
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date_cell(serial: f64) -> Data {
        Data::DateTime(ExcelDateTime::new(serial, ExcelDateTimeType::DateTime, false))
    }

    #[test]
    fn huge_negative_and_non_finite_date_serials_are_counted_not_panics() {
        let mut problems = CellProblems::default();
        for serial in [1e8, 1e300, -1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.5, 2_958_466.0] {
            assert_eq!(cell_text(&date_cell(serial), (6, 1), &mut problems), "", "{serial}");
        }
        assert_eq!(problems.bad_dates, 8);
        assert_eq!(problems.bad_date_examples[0], "B7 = 100000000");
        // Ordinary and edge dates still read.
        assert_eq!(cell_text(&date_cell(45_306.0), (0, 0), &mut problems), "2024-01-15");
        assert_eq!(cell_text(&date_cell(2.0), (0, 0), &mut problems), "1900-01-01");
        assert_eq!(cell_text(&date_cell(2_958_465.9), (0, 0), &mut problems), "9999-12-31");
        let in_1904 = Data::DateTime(ExcelDateTime::new(0.0, ExcelDateTimeType::DateTime, true));
        assert_eq!(cell_text(&in_1904, (0, 0), &mut problems), "1904-01-01");
        assert_eq!(problems.bad_dates, 8);
    }

    #[test]
    fn cell_references_are_a1_style() {
        assert_eq!(cell_reference(0, 0), "A1");
        assert_eq!(cell_reference(9, 25), "Z10");
        assert_eq!(cell_reference(0, 26), "AA1");
        assert_eq!(cell_reference(0, 16_383), "XFD1");
    }
}
