//! Column type inference over every value (not a prefix), and building the polars frame.

use chrono::NaiveDate;
use polars::prelude::*;

use crate::engine::error::DataError;

/// Cell texts read as missing values.
pub const MISSING_TOKENS: &[&str] = &["", "NA", "N/A", "na", "n/a", "NULL", "null", "None", "#N/A"];

/// Columns of cell texts with their names, as every reader produces them.
pub(super) struct RawTable {
    pub headers: Vec<String>,
    pub columns: Vec<Vec<String>>,
}

impl RawTable {
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

/// The type a column of texts is read as.
#[derive(Debug, PartialEq)]
enum Inferred {
    Int,
    Float,
    Date(DateFormat),
    Text,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum DateFormat {
    Iso,
    Slash,
    Compact,
}

fn is_missing(s: &str) -> bool {
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
        DateFormat::Iso => NaiveDate::parse_from_str(t, "%Y-%m-%d").ok(),
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

fn infer(name: &str, values: &[String]) -> (Inferred, Vec<String>) {
    let present: Vec<&str> = values.iter().map(|s| s.as_str()).filter(|s| !is_missing(s)).collect();
    if present.is_empty() {
        return (Inferred::Float, Vec::new());
    }
    for format in [DateFormat::Iso, DateFormat::Slash] {
        if present.iter().all(|s| parse_date(s, format).is_some()) {
            return (Inferred::Date(format), Vec::new());
        }
    }
    if name_suggests_date(name) && present.iter().all(|s| parse_date(s, DateFormat::Compact).is_some()) {
        return (Inferred::Date(DateFormat::Compact), Vec::new());
    }
    if present.iter().all(|s| s.trim().parse::<i64>().is_ok()) {
        return (Inferred::Int, Vec::new());
    }
    let blocking: Vec<&str> = present.iter().copied().filter(|s| parse_float(s).is_none()).collect();
    if blocking.is_empty() {
        return (Inferred::Float, Vec::new());
    }
    // Mostly numbers with a few stray texts: keep as text, but say which values block numbers.
    if blocking.len() * 2 <= present.len() {
        let mut examples: Vec<String> = Vec::new();
        for b in &blocking {
            let quoted = format!("'{}'", b.trim());
            if !examples.contains(&quoted) {
                examples.push(quoted);
            }
            if examples.len() == 5 {
                break;
            }
        }
        let warning = format!(
            "column '{name}' is mostly numeric but {} value(s) are not numbers (for example {}); kept as text",
            blocking.len(),
            examples.join(", ")
        );
        return (Inferred::Text, vec![warning]);
    }
    (Inferred::Text, Vec::new())
}

/// Days from 1970-01-01, polars' Date representation.
pub(crate) fn days_since_epoch(date: NaiveDate) -> i32 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    (date - epoch).num_days() as i32
}

/// Types every column and builds the frame; returns warnings about mixed columns and odd values.
pub(super) fn build_frame(raw: RawTable) -> Result<(DataFrame, Vec<String>), DataError> {
    let mut warnings = Vec::new();
    let mut columns = Vec::with_capacity(raw.headers.len());
    for (name, values) in raw.headers.iter().zip(raw.columns) {
        let (kind, column_warnings) = infer(name, &values);
        warnings.extend(column_warnings);
        let column = match kind {
            Inferred::Int => {
                let v: Vec<Option<i64>> =
                    values.iter().map(|s| if is_missing(s) { None } else { s.trim().parse().ok() }).collect();
                Column::new(name.as_str().into(), v)
            }
            Inferred::Float => {
                let v: Vec<Option<f64>> =
                    values.iter().map(|s| if is_missing(s) { None } else { parse_float(s) }).collect();
                let non_finite = v.iter().flatten().filter(|x| !x.is_finite()).count();
                if non_finite > 0 {
                    warnings.push(format!(
                        "column '{name}' has {non_finite} NaN or infinite value(s); they are never passed to a fit (impute, drop rows or use the fallback segment)"
                    ));
                }
                Column::new(name.as_str().into(), v)
            }
            Inferred::Date(format) => {
                let v: Vec<Option<i32>> = values
                    .iter()
                    .map(|s| if is_missing(s) { None } else { parse_date(s, format).map(days_since_epoch) })
                    .collect();
                Column::new(name.as_str().into(), v).cast(&DataType::Date)?
            }
            Inferred::Text => {
                let v: Vec<Option<String>> =
                    values.into_iter().map(|s| if is_missing(&s) { None } else { Some(s) }).collect();
                Column::new(name.as_str().into(), v)
            }
        };
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

    #[test]
    fn infers_numbers_dates_and_text() {
        assert_eq!(infer("x", &strings(&["1", "2", ""])).0, Inferred::Int);
        assert_eq!(infer("x", &strings(&["1", "2.5"])).0, Inferred::Float);
        assert_eq!(infer("x", &strings(&["1", "inf", "NaN"])).0, Inferred::Float);
        assert_eq!(infer("d", &strings(&["2024-01-31", "NA"])).0, Inferred::Date(DateFormat::Iso));
        assert_eq!(infer("date", &strings(&["19970101"])).0, Inferred::Date(DateFormat::Compact));
        // Without a date-like name, 8-digit numbers stay numbers.
        assert_eq!(infer("order_no", &strings(&["19970101"])).0, Inferred::Int);
        assert_eq!(infer("c", &strings(&["red", "blue"])).0, Inferred::Text);
    }

    #[test]
    fn mixed_column_stays_text_and_names_blocking_values() {
        let (kind, warnings) = infer("spend", &strings(&["1", "2", "3", "n.a.", "4", "?"]));
        assert_eq!(kind, Inferred::Text);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("'n.a.'") && warnings[0].contains("'?'"), "{}", warnings[0]);
    }

    #[test]
    fn the_whole_column_is_read_not_a_prefix() {
        let mut values = vec!["1".to_string(); 10_000];
        values.push("2.5".into());
        assert_eq!(infer("x", &values).0, Inferred::Float);
    }
}
