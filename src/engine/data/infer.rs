//! Column type inference over every value (not a prefix), and building the polars frame.

use chrono::NaiveDate;
use polars::prelude::*;

use crate::engine::error::DataError;

/// Cell texts read as missing values.
pub const MISSING_TOKENS: &[&str] = &["", "NA", "N/A", "na", "n/a", "NULL", "null", "None", "#N/A"];

/// A column of cell texts, however a reader holds them.
pub(super) trait Cells: Sync {
    /// Rows.
    fn len(&self) -> usize;
    /// The text of row `i`.
    fn cell(&self, i: usize) -> &str;
}

impl Cells for Vec<String> {
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn cell(&self, i: usize) -> &str {
        &self[i]
    }
}

/// Columns of cell texts with their names, as every reader produces them.
pub(super) struct RawTable<C> {
    pub headers: Vec<String>,
    pub columns: Vec<C>,
}

impl<C> RawTable<C> {
    /// Keeps only the named columns (all for `None`); names not present are left for the caller's
    /// own "missing column" error.
    pub fn project(mut self, keep: Option<&[String]>) -> Self {
        if let Some(keep) = keep {
            let mask: Vec<bool> = self.headers.iter().map(|h| keep.contains(h)).collect();
            let mut mask_iter = mask.iter();
            self.headers.retain(|_| *mask_iter.next().unwrap_or(&false));
            let mut mask_iter = mask.iter();
            self.columns.retain(|_| *mask_iter.next().unwrap_or(&false));
        }
        self
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum DateFormat {
    Iso,
    Slash,
    Compact,
}

fn is_missing(s: &str) -> bool {
    // No missing token starts with a digit, a sign or a point, as nearly every number does.
    if s.as_bytes().first().is_some_and(|&c| c.is_ascii_digit() || c == b'-' || c == b'+' || c == b'.') {
        return false;
    }
    MISSING_TOKENS.contains(&s.trim())
}

/// Parses a float the way users write them, including "inf", "-Infinity" and "NaN".
pub(crate) fn parse_float(s: &str) -> Option<f64> {
    let t = s.trim();
    t.parse::<f64>().ok().or_else(|| match t.to_ascii_lowercase().as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => Some(f64::INFINITY),
        "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
        "nan" => Some(f64::NAN),
        _ => None,
    })
}

fn parse_date(s: &str, format: DateFormat) -> Option<NaiveDate> {
    let t = s.trim();
    match format {
        DateFormat::Iso => fast_iso_date(t).or_else(|| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok()),
        DateFormat::Slash => NaiveDate::parse_from_str(t, "%Y/%m/%d").ok(),
        DateFormat::Compact => {
            if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
                NaiveDate::parse_from_str(t, "%Y%m%d").ok()
            } else {
                None
            }
        }
    }
}

/// The canonical `YYYY-MM-DD` (ten bytes) without chrono's general parser; anything else is left
/// to it, so what is accepted does not change.
fn fast_iso_date(t: &str) -> Option<NaiveDate> {
    let b = t.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| {
        b[range].iter().try_fold(0u32, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0')))
    };
    NaiveDate::from_ymd_opt(number(0..4)? as i32, number(5..7)?, number(8..10)?)
}

/// Whether a column name suggests dates, so that 8-digit numbers such as 19970101 are read as dates.
pub(crate) fn name_suggests_date(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.contains("date")
        || n.ends_with("_day")
        || n == "day"
        || n.ends_with("_time")
        || n.contains("timestamp")
        || n.ends_with("_at")
}

/// Parses every present cell with `parse` (in parallel, in blocks of rows) into a column; `None` as
/// soon as one cell fails.
fn parse_all<T>(name: &str, values: &impl Cells, parse: impl Fn(&str) -> Option<T> + Sync) -> Option<Column>
where
    T: Copy + Default + Send + Sync,
    Series: NamedFrom<Vec<T>, [T]> + NamedFrom<Vec<Option<T>>, [Option<T>]>,
{
    use rayon::prelude::*;
    let n = values.len();
    let parsed: Vec<T> = (0..n)
        .into_par_iter()
        .with_min_len(PARSE_BLOCK)
        .map(|i| {
            let s = values.cell(i);
            if is_missing(s) { Some(T::default()) } else { parse(s) }
        })
        .collect::<Option<_>>()?;
    let any_missing = (0..n).into_par_iter().with_min_len(PARSE_BLOCK).any(|i| is_missing(values.cell(i)));
    if !any_missing {
        return Some(Column::new(name.into(), parsed));
    }
    let with_missing: Vec<Option<T>> =
        parsed.into_iter().enumerate().map(|(i, v)| (!is_missing(values.cell(i))).then_some(v)).collect();
    Some(Column::new(name.into(), with_missing))
}

/// Rows one parallel parsing task takes at least.
const PARSE_BLOCK: usize = 1 << 15;

/// Types one column by every value and builds it, parsing each cell once per candidate type.
fn type_column(name: &str, values: &impl Cells) -> Result<(Column, Vec<String>), DataError> {
    let column_name = || name.into();
    if (0..values.len()).all(|i| is_missing(values.cell(i))) {
        return Ok((Column::new(column_name(), vec![None::<f64>; values.len()]), Vec::new()));
    }
    let mut formats = vec![DateFormat::Iso, DateFormat::Slash];
    if name_suggests_date(name) {
        formats.push(DateFormat::Compact);
    }
    for format in formats {
        if let Some(days) = parse_all(name, values, |s| parse_date(s, format).map(days_since_epoch)) {
            return Ok((days.cast(&DataType::Date)?, Vec::new()));
        }
    }
    if let Some(ints) = parse_all(name, values, |s| s.trim().parse::<i64>().ok()) {
        return Ok((ints, Vec::new()));
    }
    if let Some(floats) = parse_all(name, values, parse_float) {
        let mut warnings = Vec::new();
        let non_finite = floats.as_materialized_series().f64()?.iter().flatten().filter(|x| !x.is_finite()).count();
        if non_finite > 0 {
            warnings.push(format!(
                "column '{name}' has {non_finite} NaN or infinite value(s); they are never passed to a fit (impute, drop rows or use the fallback segment)"
            ));
        }
        return Ok((floats, warnings));
    }
    // Text. Count what blocks reading it as numbers, for the warning below.
    let (mut present, mut blocking) = (0usize, 0usize);
    let mut examples: Vec<String> = Vec::new();
    for i in 0..values.len() {
        let s = values.cell(i);
        if is_missing(s) {
            continue;
        }
        present += 1;
        if parse_float(s).is_none() {
            blocking += 1;
            let quoted = format!("'{}'", s.trim());
            if examples.len() < 5 && !examples.contains(&quoted) {
                examples.push(quoted);
            }
        }
    }
    let mut warnings = Vec::new();
    // Mostly numbers with a few stray texts: keep as text, but say which values block numbers.
    if blocking * 2 <= present {
        warnings.push(format!(
            "column '{name}' is mostly numeric but {blocking} value(s) are not numbers (for example {}); kept as text",
            examples.join(", ")
        ));
    }
    let texts: Vec<Option<&str>> =
        (0..values.len()).map(|i| values.cell(i)).map(|s| if is_missing(s) { None } else { Some(s) }).collect();
    Ok((Column::new(column_name(), texts), warnings))
}

/// Days from 1970-01-01, polars' Date representation.
pub(crate) fn days_since_epoch(date: NaiveDate) -> i32 {
    // chrono counts days from 0001-01-01 (day 1); 1970-01-01 is day 719,163.
    use chrono::Datelike;
    date.num_days_from_ce() - 719_163
}

/// Types every column (in parallel) and builds the frame; returns warnings about mixed columns and
/// odd values, in column order.
pub(super) fn build_frame<C: Cells>(raw: RawTable<C>) -> Result<(DataFrame, Vec<String>), DataError> {
    use rayon::prelude::*;
    let typed: Vec<(Column, Vec<String>)> = raw
        .headers
        .par_iter()
        .zip(raw.columns.par_iter())
        .map(|(name, values)| type_column(name, values))
        .collect::<Result<_, _>>()?;
    let mut warnings = Vec::new();
    let mut columns = Vec::with_capacity(typed.len());
    for (column, column_warnings) in typed {
        warnings.extend(column_warnings);
        columns.push(column);
    }
    let frame = DataFrame::new_infer_height(columns)?;
    Ok((frame, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    /// The type a column of texts gets, and its warnings.
    fn infer(name: &str, values: &Vec<String>) -> (DataType, Vec<String>) {
        let (column, warnings) = type_column(name, values).unwrap();
        (column.dtype().clone(), warnings)
    }

    #[test]
    fn infers_numbers_dates_and_text() {
        assert_eq!(infer("x", &strings(&["1", "2", ""])).0, DataType::Int64);
        assert_eq!(infer("x", &strings(&["1", "2.5"])).0, DataType::Float64);
        assert_eq!(infer("x", &strings(&["1", "inf", "NaN"])).0, DataType::Float64);
        assert_eq!(infer("d", &strings(&["2024-01-31", "NA"])).0, DataType::Date);
        assert_eq!(infer("d", &strings(&["2024/01/31", "NA"])).0, DataType::Date);
        assert_eq!(infer("date", &strings(&["19970101"])).0, DataType::Date);
        // Without a date-like name, 8-digit numbers stay numbers.
        assert_eq!(infer("order_no", &strings(&["19970101"])).0, DataType::Int64);
        assert_eq!(infer("c", &strings(&["red", "blue"])).0, DataType::String);
        assert_eq!(infer("x", &strings(&["", "NA"])).0, DataType::Float64);
        // Impossible dates are not dates, whichever parser looks at them.
        assert_eq!(infer("d", &strings(&["2024-02-30"])).0, DataType::String);
        assert_eq!(fast_iso_date("2024-02-29"), NaiveDate::from_ymd_opt(2024, 2, 29));
        assert_eq!(fast_iso_date(" 2024-02-29"), None);
    }

    #[test]
    fn mixed_column_stays_text_and_names_blocking_values() {
        let (kind, warnings) = infer("spend", &strings(&["1", "2", "3", "n.a.", "4", "?"]));
        assert_eq!(kind, DataType::String);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("'n.a.'") && warnings[0].contains("'?'"), "{}", warnings[0]);
    }

    #[test]
    fn the_whole_column_is_read_not_a_prefix() {
        let mut values = vec!["1".to_string(); 10_000];
        values.push("2.5".into());
        assert_eq!(infer("x", &values).0, DataType::Float64);
    }
}
