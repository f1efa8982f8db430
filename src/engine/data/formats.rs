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
    /// Choices for single columns (a date format, the decimal mark, date or not, text), which take
    /// precedence over the file-wide ones above for that column.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<ColumnFormat>,
    /// Where the rows go whose value in a column read as dates does not parse as a date.
    #[serde(default, skip_serializing_if = "UnparsedDates::is_refuse")]
    pub unparsed_dates: UnparsedDates,
}

/// How the user wants one column read, whatever the file-wide choices say.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnFormat {
    /// The column, by its name in the file.
    pub column: String,
    /// What the column is read as; `Detect` leaves it to the values.
    #[serde(default, skip_serializing_if = "ReadAs::is_detect")]
    pub read_as: ReadAs,
    /// An explicit date format for this column (strftime codes, or `epoch_s`, `epoch_ms`, `excel`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_format: Option<String>,
    /// Whether this column's numbers use a decimal comma; `None` detects it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decimal_comma: Option<bool>,
}

impl ColumnFormat {
    /// A choice for `column` with nothing chosen yet.
    pub fn new(column: &str) -> Self {
        Self { column: column.to_string(), ..Self::default() }
    }

    /// Whether nothing is chosen for the column (such an entry is not kept).
    pub fn is_empty(&self) -> bool {
        self.read_as == ReadAs::Detect && self.date_format.is_none() && self.decimal_comma.is_none()
    }
}

/// What a column is read as.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReadAs {
    /// Detected from the values.
    #[default]
    Detect,
    /// Dates (numbers in it as epoch seconds, milliseconds or Excel days by their size).
    Date,
    /// Never dates: numbers or text, as the values are.
    NotDate,
    /// Text exactly as written.
    Text,
}

impl ReadAs {
    fn is_detect(&self) -> bool {
        *self == ReadAs::Detect
    }
}

/// Where rows go whose value in a date column does not parse as a date.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum UnparsedDates {
    /// The file is refused, with the count and examples (the default: nothing silently).
    #[default]
    Refuse,
    /// The rows are left out, counted and shown with examples in a warning.
    Drop,
    /// The rows are kept with the date missing, and their customers go to the fallback segment.
    Fallback,
}

impl UnparsedDates {
    fn is_refuse(&self) -> bool {
        *self == UnparsedDates::Refuse
    }

    /// What happens to the values that did not parse, as the end of a sentence that begins
    /// "N value(s) ...".
    pub fn consequence(self) -> &'static str {
        match self {
            UnparsedDates::Refuse => "did not parse: a run refuses the file until you choose where those rows go",
            UnparsedDates::Drop => "did not parse and their rows are left out (your choice)",
            UnparsedDates::Fallback => {
                "did not parse and are missing; their customers go to the fallback segment (your choice)"
            }
        }
    }

    /// The word the command line and the project use: `refuse`, `drop` or `fallback`.
    pub fn word(self) -> &'static str {
        match self {
            UnparsedDates::Refuse => "refuse",
            UnparsedDates::Drop => "drop",
            UnparsedDates::Fallback => "fallback",
        }
    }
}

impl std::str::FromStr for UnparsedDates {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "refuse" => Ok(UnparsedDates::Refuse),
            "drop" => Ok(UnparsedDates::Drop),
            "fallback" => Ok(UnparsedDates::Fallback),
            _ => Err(format!("{} is not refuse, drop or fallback", quoted(s))),
        }
    }
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
        if self.columns.len() > MAX_DATE_COLUMNS {
            return Err(bad(
                "columns",
                format!("lists {} columns, more than the {MAX_DATE_COLUMNS} allowed", self.columns.len()),
            ));
        }
        for (i, chosen) in self.columns.iter().enumerate() {
            if chosen.column.chars().count() > MAX_COLUMN_NAME_CHARS {
                return Err(bad(
                    "columns",
                    format!("names a column {} longer than {MAX_COLUMN_NAME_CHARS} characters", quoted(&chosen.column)),
                ));
            }
            if self.columns[..i].iter().any(|c| c.column == chosen.column) {
                return Err(bad("columns", format!("names the column {} twice", quoted(&chosen.column))));
            }
            if let Some(format) = &chosen.date_format {
                let key = format!("columns ({}) date_format", quoted(&chosen.column));
                if format.chars().count() > MAX_DATE_FORMAT_CHARS {
                    return Err(bad(
                        &key,
                        format!("{} is longer than {MAX_DATE_FORMAT_CHARS} characters", quoted(format)),
                    ));
                }
                check_explicit_format(format).map_err(|problem| bad(&key, problem))?;
            }
        }
        Ok(())
    }

    /// The user's choices for one column, if any.
    pub fn column(&self, column: &str) -> Option<&ColumnFormat> {
        self.columns.iter().find(|c| c.column == column)
    }

    /// The choices that apply to `column`: the file-wide ones with the column's own on top (its
    /// date format, its decimal mark, marked as a date).
    pub fn for_column(&self, column: &str) -> std::borrow::Cow<'_, ValueFormats> {
        use std::borrow::Cow;
        let Some(own) = self.column(column) else { return Cow::Borrowed(self) };
        let mut merged = self.clone();
        if own.date_format.is_some() {
            merged.date_format = own.date_format.clone();
        }
        if own.decimal_comma.is_some() {
            merged.decimal_comma = own.decimal_comma;
        }
        // A format chosen for this very column reads it whatever share of its values fit.
        if (own.read_as == ReadAs::Date || own.date_format.is_some()) && !merged.is_marked_date(column) {
            merged.date_columns.push(column.to_string());
        }
        if own.read_as == ReadAs::NotDate {
            merged.date_format = None;
            merged.date_columns.retain(|c| c != column);
        }
        Cow::Owned(merged)
    }

    /// What the user says `column` is read as (`Detect` when nothing is chosen).
    pub fn read_as(&self, column: &str) -> ReadAs {
        self.column(column).map_or(ReadAs::Detect, |c| c.read_as)
    }

    /// Sets (or with `edit` leaving it empty, clears) the choices for one column.
    pub fn set_column(&mut self, column: &str, edit: impl FnOnce(&mut ColumnFormat)) {
        let mut chosen = self.column(column).cloned().unwrap_or_else(|| ColumnFormat::new(column));
        edit(&mut chosen);
        match self.columns.iter().position(|c| c.column == column) {
            Some(i) if chosen.is_empty() => {
                self.columns.remove(i);
            }
            Some(i) => self.columns[i] = chosen,
            None if !chosen.is_empty() => self.columns.push(chosen),
            None => {}
        }
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
    /// Up to three distinct values that did not parse, quoted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unparsed_examples: Vec<String>,
    /// Other formats that read every value of the column as well (a picker offers them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<String>,
    /// The rows (0-based, in the table as read) whose value did not parse; kept only when the
    /// rows stay in the table (the fallback segment), empty otherwise.
    #[serde(skip)]
    pub unparsed_rows: Vec<usize>,
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
            columns: vec![ColumnFormat {
                column: "paid".into(),
                read_as: ReadAs::Date,
                date_format: Some("%m/%d/%Y".into()),
                decimal_comma: Some(false),
            }],
            unparsed_dates: UnparsedDates::Drop,
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
