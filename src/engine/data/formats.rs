//! How text cells that hold dates, date-times and formatted numbers are read: the user's choices
//! ([`ValueFormats`]) and what the reader decided for each column ([`ColumnReading`]).

use serde::{Deserialize, Serialize};

use crate::engine::error::{DataError, quoted};

/// The longest explicit date format accepted (characters).
pub const MAX_DATE_FORMAT_CHARS: usize = 100;
/// The longest day offset accepted (characters), e.g. `+05:30`.
pub const MAX_DAY_OFFSET_CHARS: usize = 16;
/// How many columns may be marked as dates.
pub const MAX_DATE_COLUMNS: usize = 1_000;
/// The longest name of a column marked as a date (characters).
pub const MAX_COLUMN_NAME_CHARS: usize = 1_000;
/// The largest fixed offset from UTC accepted, in minutes (real offsets run from -12:00 to +14:00).
pub const MAX_OFFSET_MINUTES: i32 = 18 * 60;

/// The user's choices for reading dates and numbers written as text; the default detects
/// everything from the values.
///
/// Only fixed offsets from UTC are supported for the day a date-time counts on (no named time
/// zones with daylight-saving rules).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValueFormats {
    /// An explicit strftime-style date format (`%d/%m/%Y`, `%m/%d/%y %H:%M`, `%Y-%m-%dT%H:%M:%S%z`),
    /// or one of `epoch_s`, `epoch_ms`, `excel` for numbers; `None` detects the format per column.
    /// Applied to every column whose values it reads (at least half of them), or that is named or
    /// marked as a date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_format: Option<String>,
    /// Columns the user marks as dates, so that numbers in them are read as Unix epoch seconds or
    /// milliseconds or Excel serial days (by their size) and failures are reported, not typed away.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub date_columns: Vec<String>,
    /// Whether numbers use a decimal comma (`1.234,50`); `None` detects it from the values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decimal_comma: Option<bool>,
    /// The fixed offset from UTC (`+02:00`, `-05:30`, `Z`) at which a date-time written with an
    /// offset counts on its day; `None` is UTC. Date-times written without an offset are taken as
    /// written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day_offset: Option<String>,
    /// Read dates before 1900 as written (otherwise such a column is kept as text with examples)
    /// and keep transactions more than 100 years before the as-of date without a warning.
    #[serde(default, skip_serializing_if = "is_false")]
    pub allow_old_dates: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

impl ValueFormats {
    /// Whether nothing is chosen (everything is detected): such options are not written to a project.
    pub fn is_default(&self) -> bool {
        self == &Self::default()
    }

    /// Checks every choice against its bound, naming the key, the value and the bound.
    pub fn check(&self) -> Result<(), DataError> {
        let bad = |key: &str, problem: String| DataError::BadOption { key: key.to_string(), problem };
        if let Some(format) = &self.date_format {
            if format.chars().count() > MAX_DATE_FORMAT_CHARS {
                return Err(bad(
                    "date_format",
                    format!("{} is longer than {MAX_DATE_FORMAT_CHARS} characters", quoted(format)),
                ));
            }
            check_explicit_format(format).map_err(|problem| bad("date_format", problem))?;
        }
        if self.date_columns.len() > MAX_DATE_COLUMNS {
            return Err(bad(
                "date_columns",
                format!("lists {} columns, more than the {MAX_DATE_COLUMNS} allowed", self.date_columns.len()),
            ));
        }
        if let Some(long) = self.date_columns.iter().find(|c| c.chars().count() > MAX_COLUMN_NAME_CHARS) {
            return Err(bad(
                "date_columns",
                format!("names a column {} longer than {MAX_COLUMN_NAME_CHARS} characters", quoted(long)),
            ));
        }
        self.day_offset_minutes()?;
        Ok(())
    }

    /// The day offset in minutes east of UTC (0 when not set), or an error naming the value.
    pub fn day_offset_minutes(&self) -> Result<i32, DataError> {
        match &self.day_offset {
            None => Ok(0),
            Some(text) => parse_offset(text).ok_or_else(|| DataError::BadOption {
                key: "day_offset".into(),
                problem: format!(
                    "{} is not a fixed offset from UTC between -18:00 and +18:00 such as +02:00, -05:30 or Z (named time zones are not supported)",
                    quoted(text)
                ),
            }),
        }
    }

    /// Whether the user marked this column as a date.
    pub fn is_marked_date(&self, column: &str) -> bool {
        self.date_columns.iter().any(|c| c == column)
    }
}

/// A fixed offset (`Z`, `UTC`, `+02:00`, `+0200`, `+02`, `-05:30`) in minutes east of UTC.
pub fn parse_offset(text: &str) -> Option<i32> {
    let t = text.trim();
    if t.len() > MAX_DAY_OFFSET_CHARS {
        return None;
    }
    if t.eq_ignore_ascii_case("z") || t.eq_ignore_ascii_case("utc") || t.eq_ignore_ascii_case("gmt") {
        return Some(0);
    }
    let t = t.strip_prefix("UTC").or_else(|| t.strip_prefix("GMT")).unwrap_or(t);
    let (sign, rest) = match t.as_bytes().first()? {
        b'+' => (1, &t[1..]),
        b'-' => (-1, &t[1..]),
        _ => return None,
    };
    // Exactly HH, HHMM or HH:MM: `+1:00` is no offset rather than ten hours.
    let b = rest.as_bytes();
    let digits: String = match b.len() {
        2 | 4 if b.iter().all(u8::is_ascii_digit) => rest.to_string(),
        5 if b[2] == b':' && b[..2].iter().chain(&b[3..]).all(u8::is_ascii_digit) => rest.replace(':', ""),
        _ => return None,
    };
    let hours: i32 = digits.get(0..2)?.parse().ok()?;
    let minutes: i32 = if digits.len() == 4 { digits.get(2..4)?.parse().ok()? } else { 0 };
    if minutes >= 60 {
        return None;
    }
    let total = hours * 60 + minutes;
    (total <= MAX_OFFSET_MINUTES).then_some(sign * total)
}

/// What a column was read as.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReadingKind {
    /// Calendar dates (a polars `Date` column).
    Dates,
    /// Date-times (a polars `Datetime` column in milliseconds, UTC or at the day offset).
    DateTimes,
    /// Numbers written with separators, currency, percent signs or accounting negatives.
    Numbers,
    /// Kept as text, although it looked like dates or numbers (the sentence says why).
    Text,
}

/// How the reader read one column: what the window's Data screen and the CLI show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnReading {
    /// The column.
    pub column: String,
    /// What it became.
    pub kind: ReadingKind,
    /// The format in strftime-style codes (`%d/%m/%Y`, `%Y-%m-%dT%H:%M:%S%z`, `epoch_ms`) for
    /// dates, or a description of the number style (`1.234,56`) for numbers; what a picker
    /// preselects and what `--date-format` would reproduce.
    pub format: String,
    /// One sentence for a person, e.g. "column 'order_date' read as day/month/year dates (31/08/2017)".
    pub sentence: String,
    /// Values that did not parse and were read as missing (0 when all parsed).
    pub n_unparsed: usize,
}

/// The date formats that are not strftime codes, by their canonical name: epoch seconds
/// (`epoch_s`), epoch milliseconds (`epoch_ms`) and Excel serial days (`excel`).
pub(crate) fn special_format(format: &str) -> Option<&'static str> {
    match format.trim().to_ascii_lowercase().as_str() {
        "epoch" | "epoch_s" | "%s" => Some("epoch_s"),
        "epoch_ms" => Some("epoch_ms"),
        "excel" => Some("excel"),
        _ => None,
    }
}

/// Refuses a format that could not read a date: unknown codes, or no year, month and day.
pub fn check_explicit_format(format: &str) -> Result<(), String> {
    use chrono::format::{Item, StrftimeItems};
    if special_format(format).is_some() {
        return Ok(());
    }
    let items: Vec<Item<'_>> = StrftimeItems::new(format).collect();
    if items.iter().any(|i| matches!(i, Item::Error)) {
        return Err(format!(
            "{} has a code strftime does not know; use codes such as %d/%m/%Y or %Y-%m-%d %H:%M",
            quoted(format)
        ));
    }
    let has = |codes: &[&str]| codes.iter().any(|c| format.contains(c));
    let named = has(&["%Y", "%y", "%G", "%C"]) && has(&["%m", "%b", "%B", "%h"]) && has(&["%d", "%e"]);
    if !named && !has(&["%F", "%D", "%s"]) {
        return Err(format!(
            "{} does not name a year, a month and a day (such as %d/%m/%Y), or epoch_s, epoch_ms or excel",
            quoted(format)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_fixed_and_bounded() {
        for (text, minutes) in [("Z", 0), ("UTC", 0), ("+02:00", 120), ("+0200", 120), ("+02", 120), ("-05:30", -330)] {
            assert_eq!(parse_offset(text), Some(minutes), "{text}");
        }
        for text in ["", "+2", "+25:00", "+02:60", "Europe/Berlin", "+02:00:00", "++02", "+0a:00", "+02;00"] {
            assert_eq!(parse_offset(text), None, "{text}");
        }
        for text in ["+1:00", "+1:30", "UTC+1:00", "+12:3", "+123", "+1", "+01:000"] {
            assert_eq!(parse_offset(text), None, "{text} is not an offset");
        }
    }

    #[test]
    fn only_chosen_options_are_written_and_bounds_are_checked() {
        assert_eq!(serde_json::to_string(&ValueFormats::default()).unwrap(), "{}");
        let chosen = ValueFormats {
            date_format: Some("%d/%m/%Y".into()),
            decimal_comma: Some(true),
            day_offset: Some("+02:00".into()),
            allow_old_dates: true,
            date_columns: vec!["when".into()],
        };
        let text = serde_json::to_string(&chosen).unwrap();
        assert_eq!(serde_json::from_str::<ValueFormats>(&text).unwrap(), chosen);
        assert!(chosen.check().is_ok());
        let long =
            ValueFormats { date_columns: vec!["x".repeat(MAX_COLUMN_NAME_CHARS + 1)], ..ValueFormats::default() };
        let err = long.check().unwrap_err().to_string();
        assert!(err.starts_with("the reading option date_columns names a column 'xxx") && err.len() < 400, "{err}");
        let many = ValueFormats { date_columns: vec!["x".into(); MAX_DATE_COLUMNS + 1], ..ValueFormats::default() };
        assert!(many.check().is_err());
    }
}
