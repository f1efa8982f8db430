//! Missing-value markers in text files: which cell texts read as missing, where `NA` and `.` stay
//! values, and the note that says which markers a column read as missing.

use polars::prelude::Column;

use super::{Cells, PARSE_BLOCK};
use crate::engine::data::ColumnNote;
use crate::engine::error::quoted;

/// Cell texts read as missing values.
///
/// The rule, stated once (also in the README): in a column of numbers or dates, every one of these
/// and a lone `.` (SAS's and Stata's missing value) is missing. In a text column they are missing
/// too, except that `NA`/`na` stays a value when the column's other values are two-letter codes
/// ([`NA_AS_CODE_SHARE`]), where it is Namibia or North America, and `.` stays a value. `NaN`
/// is not a marker: in a number column it is a number that is not finite, counted and never passed
/// to a fit. Each marker other than the empty cell is said once per column, with its count.
pub const MISSING_TOKENS: &[&str] = &["", "NA", "N/A", "na", "n/a", "NULL", "null", "None", "#N/A"];

/// `NA` in a text column is a value, not a marker, when at least this share of the column's other
/// distinct present values are two letters (country, state or continent codes).
pub const NA_AS_CODE_SHARE: f64 = 0.8;

pub(crate) fn is_missing(s: &str) -> bool {
    // No missing token starts with a digit or a sign, as nearly every number does; of those starting
    // with a point, only the point alone.
    match s.as_bytes().first() {
        Some(&c) if c.is_ascii_digit() || c == b'-' || c == b'+' => false,
        Some(b'.') => super::trim_cell(s) == ".",
        _ => MISSING_TOKENS.contains(&super::trim_cell(s)),
    }
}

/// Whether a cell of a text column is missing: as [`is_missing`], but `.` is a value there, and so is
/// `NA` when `na_is_code` (the column holds two-letter codes).
pub(crate) fn is_missing_text(s: &str, na_is_code: bool) -> bool {
    let t = s.trim();
    if t == "." || (na_is_code && (t == "NA" || t == "na")) {
        return false;
    }
    is_missing(s)
}

/// Whether `NA` in this text column reads as a two-letter code: most other distinct present values
/// (of the first 10,000 rows) are two letters.
pub(super) fn na_is_code(values: &impl Cells) -> bool {
    let mut distinct: std::collections::HashSet<&str> = std::collections::HashSet::new();
    let mut has_na = false;
    for i in 0..values.len().min(10_000) {
        let t = values.cell(i).trim();
        if t == "NA" || t == "na" {
            has_na = true;
        } else if !is_missing(t) {
            distinct.insert(t);
        }
    }
    let codes = distinct.iter().filter(|t| t.len() == 2 && t.bytes().all(|b| b.is_ascii_alphabetic())).count();
    has_na && !distinct.is_empty() && codes as f64 >= NA_AS_CODE_SHARE * distinct.len() as f64
}

/// The markers read as missing in a column as typed (a text column keeps `.`, and `NA` among codes),
/// each with its count, in [`MISSING_TOKENS`] order then `.`; the empty cell is not listed.
fn markers_read_as_missing(values: &impl Cells, text: Option<bool>) -> Vec<(&'static str, usize)> {
    use rayon::prelude::*;
    const MARKERS: [&str; 9] = ["NA", "N/A", "na", "n/a", "NULL", "null", "None", "#N/A", "."];
    let counts = (0..values.len())
        .into_par_iter()
        .with_min_len(PARSE_BLOCK)
        .fold(
            || [0usize; MARKERS.len()],
            |mut counts, i| {
                let s = values.cell(i);
                let missing = match text {
                    Some(na_is_code) => is_missing_text(s, na_is_code),
                    None => is_missing(s),
                };
                if missing && let Some(k) = MARKERS.iter().position(|m| *m == s.trim()) {
                    counts[k] += 1;
                }
                counts
            },
        )
        .reduce(
            || [0usize; MARKERS.len()],
            |mut a, b| {
                a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                a
            },
        );
    MARKERS.iter().zip(counts).filter(|(_, n)| *n > 0).map(|(m, n)| (*m, n)).collect()
}

/// The note that says which markers a column read as missing (and an `NA` kept as a code), once.
pub(super) fn marker_notes(name: &str, values: &impl Cells, column: &Column) -> Vec<ColumnNote> {
    let text = column.dtype().is_string().then(|| na_is_code(values));
    let mut notes = Vec::new();
    // Every marker read as missing is a missing value of the column: without any, no pass over the
    // cells to count them (on a 10M-row log that pass costs as much as typing the column).
    let found = if column.null_count() > 0 { markers_read_as_missing(values, text) } else { Vec::new() };
    if !found.is_empty() {
        let said: Vec<String> = found
            .iter()
            .map(|(m, n)| format!("`{m}` read as missing ({})", crate::engine::warnings::count(*n, "value", "values")))
            .collect();
        notes.push(ColumnNote {
            kind: "have missing-value markers (such as NA) read as missing",
            column: name.to_string(),
            line: format!("column {}: {}", quoted(name), said.join(", ")),
        });
    }
    if text == Some(true) {
        notes.push(ColumnNote {
            kind: "hold NA among two-letter codes and keep it as a value",
            column: name.to_string(),
            line: format!(
                "column {}: `NA` kept as a value, as the column holds two-letter codes (Namibia, North America)",
                quoted(name)
            ),
        });
    }
    notes
}
