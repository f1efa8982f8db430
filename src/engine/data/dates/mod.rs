//! Dates and date-times written as text: the layouts real systems export, detected per column from
//! all its (distinct) values, or read with an explicit strftime-style format.
//!
//! Parsing is by hand on bytes for the detected layouts (no general-purpose parser per row), over
//! distinct values where a column repeats them; explicit formats use chrono over distinct values.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike};

use super::formats::{ValueFormats, special_format};
use crate::engine::error::{DataError, DateAmbiguity, quoted};

/// The earliest year a date is read as written; earlier years are two-digit years read literally
/// (`03/05/03` as the year 3) or typos.
pub const EARLIEST_PLAUSIBLE_YEAR: i32 = 1900;

/// Milliseconds in a day.
pub(crate) const MS_PER_DAY: i64 = 86_400_000;
/// Excel's serial day of 1970-01-01 (1900 date system).
const EXCEL_EPOCH_SERIAL: i64 = 25_569;
/// The largest Excel serial day (9999-12-31).
const EXCEL_MAX_SERIAL: f64 = 2_958_466.0;
/// How many distinct values a quick look tries before a column is worth detecting at all.
const QUICK_LOOK: usize = 1_000;

/// A date or a date-time: milliseconds since 1970-01-01 as wall time (at the day offset where the
/// value had an offset), and whether a time of day was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// Milliseconds since 1970-01-01T00:00.
    pub ms: i64,
    /// Whether the value had a time of day.
    pub has_time: bool,
}

impl Stamp {
    /// The day, as days since 1970-01-01.
    pub fn days(self) -> i64 {
        self.ms.div_euclid(MS_PER_DAY)
    }
}

/// The order of the day, month and year in a numeric date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldOrder {
    /// Year, month, day (ISO).
    YearFirst,
    /// Day, month, year.
    DayFirst,
    /// Month, day, year (US).
    MonthFirst,
}

/// A way dates are written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DateLayout {
    /// Numeric fields with one separator and a four-digit year, optionally a time of day and offset.
    Numeric {
        /// Field order.
        order: FieldOrder,
        /// The separator: `-`, `/` or `.`.
        separator: u8,
    },
    /// `YYYYMMDD`.
    Compact,
    /// `31 Aug 2017`, `31-Aug-2017`, `31 August 2017`.
    DayMonthName,
    /// `Aug 31, 2017`, `August 31 2017`.
    MonthNameDay,
    /// Unix epoch seconds.
    EpochSeconds,
    /// Unix epoch milliseconds.
    EpochMillis,
    /// Excel serial days (1900 date system), with a fraction for the time of day.
    ExcelSerial,
    /// An explicit strftime-style format.
    Explicit(String),
}

impl DateLayout {
    /// The layout in strftime-style codes, as `--date-format` takes it.
    pub fn format_code(&self) -> String {
        match self {
            DateLayout::Numeric { order, separator } => {
                let s = *separator as char;
                match order {
                    FieldOrder::YearFirst => format!("%Y{s}%m{s}%d"),
                    FieldOrder::DayFirst => format!("%d{s}%m{s}%Y"),
                    FieldOrder::MonthFirst => format!("%m{s}%d{s}%Y"),
                }
            }
            DateLayout::Compact => "%Y%m%d".into(),
            DateLayout::DayMonthName => "%d %b %Y".into(),
            DateLayout::MonthNameDay => "%b %d, %Y".into(),
            DateLayout::EpochSeconds => "epoch_s".into(),
            DateLayout::EpochMillis => "epoch_ms".into(),
            DateLayout::ExcelSerial => "excel".into(),
            DateLayout::Explicit(format) => format.clone(),
        }
    }

    /// What a person calls the layout, e.g. "day/month/year dates".
    pub fn describe(&self) -> String {
        match self {
            DateLayout::Numeric { order: FieldOrder::YearFirst, separator: b'-' } => "ISO 8601 dates".into(),
            DateLayout::Numeric { order, .. } => match order {
                FieldOrder::YearFirst => "year/month/day dates".into(),
                FieldOrder::DayFirst => "day/month/year dates".into(),
                FieldOrder::MonthFirst => "month/day/year dates".into(),
            },
            DateLayout::Compact => "YYYYMMDD dates".into(),
            DateLayout::DayMonthName => "dates with named months (day month year)".into(),
            DateLayout::MonthNameDay => "dates with named months (month day, year)".into(),
            DateLayout::EpochSeconds => "Unix epoch seconds".into(),
            DateLayout::EpochMillis => "Unix epoch milliseconds".into(),
            DateLayout::ExcelSerial => "Excel serial day numbers".into(),
            DateLayout::Explicit(format) => format!("dates in the format {}", quoted(format)),
        }
    }

    /// Parses one (trimmed) value.
    pub fn parse(&self, s: &str) -> Option<Parsed> {
        match self {
            DateLayout::Numeric { order, separator } => parse_numeric(s.as_bytes(), *order, *separator),
            DateLayout::Compact => parse_compact(s),
            DateLayout::DayMonthName => parse_named(s, false),
            DateLayout::MonthNameDay => parse_named(s, true),
            DateLayout::EpochSeconds => parse_epoch(s, 1_000),
            DateLayout::EpochMillis => parse_epoch(s, 1),
            DateLayout::ExcelSerial => parse_excel(s),
            DateLayout::Explicit(format) => parse_explicit(s, format),
        }
    }
}

/// A parsed value before the day offset: wall-time milliseconds and the offset it was written with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parsed {
    /// Wall-time milliseconds since 1970-01-01 as written.
    pub ms: i64,
    /// Whether a time of day was written.
    pub has_time: bool,
    /// The offset written with it (minutes east of UTC); `None` when none was written.
    pub offset_minutes: Option<i32>,
}

impl Parsed {
    /// The stamp at `day_offset` minutes east of UTC: values with an offset are moved there,
    /// values without one stay as written.
    pub fn at_offset(self, day_offset: i32) -> Option<Stamp> {
        let ms = match self.offset_minutes {
            None => self.ms,
            Some(written) => {
                self.ms.checked_sub(i64::from(written) * 60_000)?.checked_add(i64::from(day_offset) * 60_000)?
            }
        };
        Some(Stamp { ms, has_time: self.has_time })
    }

    fn year(self) -> i32 {
        date_of(self.ms).map_or(i32::MIN, |d| d.year())
    }
}

fn date_of(ms: i64) -> Option<NaiveDate> {
    let days = i32::try_from(ms.div_euclid(MS_PER_DAY)).ok()?;
    NaiveDate::from_num_days_from_ce_opt(days.checked_add(719_163)?)
}

fn days_from_ymd(year: i32, month: u32, day: u32) -> Option<i64> {
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    Some(i64::from(date.num_days_from_ce()) - 719_163)
}

/// `n` ASCII digits at `b[at..]` as a number.
fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    b.get(at..at + n)?.iter().try_fold(0u32, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0')))
}

/// A run of 1 or 2 digits at `at`: its value and length.
fn short_number(b: &[u8], at: usize) -> Option<(u32, usize)> {
    match (b.get(at), b.get(at + 1)) {
        (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
            Some((u32::from(x - b'0') * 10 + u32::from(y - b'0'), 2))
        }
        (Some(x), _) if x.is_ascii_digit() => Some((u32::from(x - b'0'), 1)),
        _ => None,
    }
}

/// A time of day after a date, from `at` to the end: `[T| ]HH:MM[:SS[.fff]][ ][Z|±HH[:MM]]`; or
/// nothing at all. Returns milliseconds into the day (None for no time) and the offset written.
fn parse_time_tail(b: &[u8], at: usize) -> Option<(Option<i64>, Option<i32>)> {
    if at == b.len() {
        return Some((None, None));
    }
    let mut i = at;
    match b[i] {
        b'T' | b't' | b' ' => i += 1,
        _ => return None,
    }
    while b.get(i) == Some(&b' ') {
        i += 1;
    }
    let (hours, n) = short_number(b, i)?;
    i += n;
    if b.get(i) != Some(&b':') {
        return None;
    }
    let minutes = digits(b, i + 1, 2)?;
    i += 3;
    let mut seconds = 0;
    let mut millis = 0;
    if b.get(i) == Some(&b':') {
        seconds = digits(b, i + 1, 2)?;
        i += 3;
        if matches!(b.get(i), Some(b'.') | Some(b',')) {
            i += 1;
            let start = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                if i - start < 3 {
                    millis = millis * 10 + u32::from(b[i] - b'0');
                }
                i += 1;
            }
            let written = i - start;
            if written == 0 || written > 9 {
                return None;
            }
            for _ in written..3 {
                millis *= 10;
            }
        }
    }
    // 24:00 and leap seconds are not accepted: no system here writes them for purchases.
    if hours > 23 || minutes > 59 || seconds > 59 {
        return None;
    }
    let ms = i64::from(hours * 3_600_000 + minutes * 60_000 + seconds * 1_000 + millis);
    while b.get(i) == Some(&b' ') {
        i += 1;
    }
    if i == b.len() {
        return Some((Some(ms), None));
    }
    let offset = super::formats::parse_offset(std::str::from_utf8(&b[i..]).ok()?)?;
    Some((Some(ms), Some(offset)))
}

fn assemble(days: i64, tail: (Option<i64>, Option<i32>)) -> Option<Parsed> {
    let (time, offset_minutes) = tail;
    let ms = days.checked_mul(MS_PER_DAY)?.checked_add(time.unwrap_or(0))?;
    Some(Parsed { ms, has_time: time.is_some(), offset_minutes })
}

fn parse_numeric(b: &[u8], order: FieldOrder, separator: u8) -> Option<Parsed> {
    let (year, month, day, end) = match order {
        FieldOrder::YearFirst => {
            let year = digits(b, 0, 4)?;
            if b.get(4) != Some(&separator) {
                return None;
            }
            let (month, n) = short_number(b, 5)?;
            if b.get(5 + n) != Some(&separator) {
                return None;
            }
            let (day, m) = short_number(b, 6 + n)?;
            (year, month, day, 6 + n + m)
        }
        FieldOrder::DayFirst | FieldOrder::MonthFirst => {
            let (first, n) = short_number(b, 0)?;
            if b.get(n) != Some(&separator) {
                return None;
            }
            let (second, m) = short_number(b, n + 1)?;
            if b.get(n + 1 + m) != Some(&separator) {
                return None;
            }
            let at = n + m + 2;
            let year = digits(b, at, 4)?;
            if b.get(at + 4).is_some_and(u8::is_ascii_digit) {
                return None;
            }
            let (day, month) = if order == FieldOrder::DayFirst { (first, second) } else { (second, first) };
            (year, month, day, at + 4)
        }
    };
    let days = days_from_ymd(year as i32, month, day)?;
    assemble(days, parse_time_tail(b, end)?)
}

fn parse_compact(s: &str) -> Option<Parsed> {
    let b = s.as_bytes();
    if b.len() != 8 {
        return None;
    }
    let days = days_from_ymd(digits(b, 0, 4)? as i32, digits(b, 4, 2)?, digits(b, 6, 2)?)?;
    assemble(days, (None, None))
}

/// A month's number from its English name or abbreviation (`Aug`, `AUG`, `August`, `Sept`).
pub fn month_from_name(name: &str) -> Option<u32> {
    const NAMES: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    if name.len() < 3 || name.len() > 9 || !name.is_ascii() {
        return None;
    }
    let lower = name.to_ascii_lowercase();
    if lower == "sept" {
        return Some(9);
    }
    NAMES.iter().position(|full| *full == lower || (lower.len() == 3 && full.starts_with(&lower))).map(|i| i as u32 + 1)
}

/// The first three words of a value (split at spaces, `-`, `/`, `,` and `.`) and where the third
/// ends.
fn three_words(s: &str) -> Option<([&str; 3], usize)> {
    let b = s.as_bytes();
    let is_sep = |c: u8| matches!(c, b' ' | b'-' | b'/' | b',' | b'.');
    let mut words = [""; 3];
    let mut i = 0;
    for word in &mut words {
        while i < b.len() && is_sep(b[i]) {
            i += 1;
        }
        let start = i;
        while i < b.len() && !is_sep(b[i]) {
            i += 1;
        }
        if start == i {
            return None;
        }
        *word = s.get(start..i)?;
    }
    Some((words, i))
}

fn parse_named(s: &str, month_first: bool) -> Option<Parsed> {
    let (words, end) = three_words(s)?;
    let (day, month, year) = if month_first { (words[1], words[0], words[2]) } else { (words[0], words[1], words[2]) };
    let month = month_from_name(month)?;
    if day.is_empty() || day.len() > 2 || year.len() != 4 {
        return None;
    }
    let day: u32 = day.parse().ok()?;
    let year: i32 = year.parse().ok()?;
    let b = s.as_bytes();
    // After the year: a time of day, or a trailing comma before it ("Aug 31, 2017, 10:00").
    let mut at = end;
    if b.get(at) == Some(&b',') {
        at += 1;
    }
    assemble(days_from_ymd(year, month, day)?, parse_time_tail(b, at)?)
}

fn parse_epoch(s: &str, ms_per_unit: i64) -> Option<Parsed> {
    let ms = if let Ok(v) = s.parse::<i64>() {
        v.checked_mul(ms_per_unit)?
    } else {
        let v: f64 = s.parse().ok()?;
        let ms = v * ms_per_unit as f64;
        if !ms.is_finite() || ms.abs() > 1e17 {
            return None;
        }
        ms.round() as i64
    };
    // Beyond 9999-12-31 is no purchase date.
    date_of(ms).filter(|d| d.year() <= 9999)?;
    Some(Parsed { ms, has_time: true, offset_minutes: Some(0) })
}

fn parse_excel(s: &str) -> Option<Parsed> {
    let v: f64 = s.parse().ok()?;
    if !v.is_finite() || !(1.0..EXCEL_MAX_SERIAL).contains(&v) {
        return None;
    }
    let days = v.floor() as i64 - EXCEL_EPOCH_SERIAL;
    let fraction_ms = ((v - v.floor()) * MS_PER_DAY as f64).round() as i64;
    Some(Parsed { ms: days * MS_PER_DAY + fraction_ms, has_time: fraction_ms != 0, offset_minutes: None })
}

/// The special format names for numbers.
fn special_layout(format: &str) -> Option<DateLayout> {
    match special_format(format)? {
        "epoch_s" => Some(DateLayout::EpochSeconds),
        "epoch_ms" => Some(DateLayout::EpochMillis),
        _ => Some(DateLayout::ExcelSerial),
    }
}

/// The layout an explicit format names.
pub fn explicit_layout(format: &str) -> DateLayout {
    special_layout(format).unwrap_or_else(|| DateLayout::Explicit(format.to_string()))
}

fn parse_explicit(s: &str, format: &str) -> Option<Parsed> {
    if format.contains("%z") || format.contains("%:z") || format.contains("%#z") {
        let dt = DateTime::parse_from_str(s, format).ok()?;
        let naive = dt.naive_local();
        return Some(Parsed {
            ms: naive.and_utc().timestamp_millis(),
            has_time: true,
            offset_minutes: Some(dt.offset().local_minus_utc() / 60),
        });
    }
    if let Ok(dt) = NaiveDateTime::parse_from_str(s, format) {
        let has_time =
            dt.time().num_seconds_from_midnight() != 0 || dt.time().nanosecond() != 0 || format.contains("%H");
        return Some(Parsed { ms: dt.and_utc().timestamp_millis(), has_time, offset_minutes: None });
    }
    let date = NaiveDate::parse_from_str(s, format).ok()?;
    let days = i64::from(date.num_days_from_ce()) - 719_163;
    Some(Parsed { ms: days * MS_PER_DAY, has_time: false, offset_minutes: None })
}

/// The first day of [`EARLIEST_PLAUSIBLE_YEAR`], as days since 1970-01-01.
pub fn earliest_plausible_day() -> i32 {
    days_from_ymd(EARLIEST_PLAUSIBLE_YEAR, 1, 1).and_then(|d| i32::try_from(d).ok()).unwrap_or(i32::MIN)
}

/// The layout a reading's format code names: the detected layouts by their own code (so a
/// detected layout reads later values exactly as it read the first), else as [`explicit_layout`].
pub fn layout_for_code(code: &str) -> DateLayout {
    text_layouts(true).into_iter().find(|layout| layout.format_code() == code).unwrap_or_else(|| explicit_layout(code))
}

/// Whether a column's name marks it as holding Unix epoch numbers.
pub fn name_suggests_epoch(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.contains("epoch") || n.contains("timestamp") || n.ends_with("_ts") || n == "ts" || n.ends_with("_unix")
}

/// The layouts detection tries on text, in order.
fn text_layouts(date_named: bool) -> Vec<DateLayout> {
    let mut layouts = Vec::new();
    for separator in [b'-', b'/', b'.'] {
        layouts.push(DateLayout::Numeric { order: FieldOrder::YearFirst, separator });
    }
    if date_named {
        layouts.push(DateLayout::Compact);
    }
    for separator in [b'/', b'-', b'.'] {
        layouts.push(DateLayout::Numeric { order: FieldOrder::DayFirst, separator });
        layouts.push(DateLayout::Numeric { order: FieldOrder::MonthFirst, separator });
    }
    layouts.push(DateLayout::DayMonthName);
    layouts.push(DateLayout::MonthNameDay);
    layouts
}

/// The formats among the layouts detection knows that read every one of `sample` (trimmed,
/// present values), for a picker to offer beside the format used.
pub fn fitting_formats(sample: &[&str]) -> Vec<String> {
    if sample.is_empty() {
        return Vec::new();
    }
    text_layouts(true)
        .into_iter()
        .filter(|layout| sample.iter().all(|s| layout.parse(s).is_some()))
        .map(|layout| layout.format_code())
        .collect()
}

/// A column's dates as read: stamps per row (`None` where missing or unparsed) and what was decided.
#[derive(Clone, Debug)]
pub struct DateColumn {
    /// One per row.
    pub stamps: Vec<Option<Stamp>>,
    /// The layout used.
    pub layout: DateLayout,
    /// Whether any value had a time of day.
    pub has_time: bool,
    /// Whether any value had an offset.
    pub had_offsets: bool,
    /// Rows whose value did not parse (read as missing).
    pub n_unparsed: usize,
    /// Up to three distinct values that did not parse, quoted.
    pub unparsed_examples: Vec<String>,
    /// The rows whose value did not parse (0-based).
    pub unparsed_rows: Vec<usize>,
    /// The first value, as an example for the sentence.
    pub example: String,
    /// Other layouts' formats that read as many values (empty when the layout was given).
    pub candidates: Vec<String>,
}

/// Why a column is not read as dates although it looks like them.
#[derive(Clone, Debug, PartialEq)]
pub enum NotDates {
    /// Nothing date-like about it.
    No,
    /// Dates with two-digit years: read only with an explicit format; the line says which.
    TwoDigitYears(String),
    /// Dates before 1900 (two-digit years read literally, typos): kept as text; the line has examples.
    TooOld(String),
    /// Numbers in a column marked or named as epoch/Excel dates that fit no unit; the line says so.
    BadEpoch(String),
}

/// Reads the distinct values of a column with one layout: the stamps per distinct value.
fn parse_distinct(distinct: &[&str], layout: &DateLayout) -> Vec<Option<Parsed>> {
    use rayon::prelude::*;
    distinct.par_iter().with_min_len(4_096).map(|s| layout.parse(s)).collect()
}

/// A detected layout and the parse of each distinct value.
pub type Detected = (DateLayout, Vec<Option<Parsed>>);

/// Detects and reads dates in a column of texts (trimmed, distinct), or says why not. `date_named`
/// is whether the column's name (or the user) marks it as dates. An ambiguous column is an error.
pub fn detect_text_dates(
    column: &str,
    distinct: &[&str],
    date_named: bool,
    formats: &ValueFormats,
) -> Result<Result<Detected, NotDates>, DataError> {
    if distinct.is_empty() {
        return Ok(Err(NotDates::No));
    }
    if let Some(format) = &formats.date_format {
        let layout = explicit_layout(format);
        let parsed = parse_distinct(distinct, &layout);
        let ok = parsed.iter().filter(|p| p.is_some()).count();
        let numeric_layout =
            matches!(layout, DateLayout::EpochSeconds | DateLayout::EpochMillis | DateLayout::ExcelSerial);
        // An explicit format reads a column it mostly fits, or one named or marked as dates; epoch and
        // Excel numbers only the latter, as any number column would fit them.
        if ok > 0 && (date_named || (!numeric_layout && ok * 2 >= distinct.len())) {
            return Ok(Ok((layout, parsed)));
        }
    }
    // A quick look first: a column none of whose first values is a date is not parsed further.
    let layouts = text_layouts(date_named);
    let sample = &distinct[..distinct.len().min(QUICK_LOOK)];
    if !sample.iter().any(|s| layouts.iter().any(|l| l.parse(s).is_some())) {
        return Ok(Err(two_digit_hint(column, sample).map_or(NotDates::No, NotDates::TwoDigitYears)));
    }
    let mut results: Vec<(DateLayout, Vec<Option<Parsed>>, usize)> = Vec::new();
    for layout in layouts {
        let parsed = parse_distinct(distinct, &layout);
        let ok = parsed.iter().filter(|p| p.is_some()).count();
        if ok > 0 {
            results.push((layout, parsed, ok));
        }
    }
    let best = results.iter().map(|r| r.2).max().unwrap_or(0);
    // All values must fit, or (for a column named or marked as dates) nine in ten, the rest then
    // counted and shown.
    let enough = best == distinct.len() || (date_named && best * 10 >= distinct.len() * 9);
    if !enough {
        return Ok(Err(two_digit_hint(column, sample).map_or(NotDates::No, NotDates::TwoDigitYears)));
    }
    let winners: Vec<&(DateLayout, Vec<Option<Parsed>>, usize)> = results.iter().filter(|r| r.2 == best).collect();
    if let [first, second, ..] = winners.as_slice()
        && let (DateLayout::Numeric { order: a, separator }, DateLayout::Numeric { order: b, .. }) =
            (&first.0, &second.0)
        && *a == FieldOrder::DayFirst
        && *b == FieldOrder::MonthFirst
    {
        let example = distinct.iter().zip(&first.1).find(|(_, p)| p.is_some()).map_or(distinct[0], |(s, _)| *s);
        return Err(ambiguous(column, example, *separator));
    }
    let Some(winner) = results.into_iter().find(|r| r.2 == best) else { return Ok(Err(NotDates::No)) };
    let (layout, parsed, _) = winner;
    if !formats.allow_old_dates && parsed.iter().flatten().any(|p| p.year() < EARLIEST_PLAUSIBLE_YEAR) {
        let old: Vec<String> = distinct
            .iter()
            .zip(&parsed)
            .filter(|(_, p)| p.is_some_and(|p| p.year() < EARLIEST_PLAUSIBLE_YEAR))
            .take(3)
            .map(|(s, _)| quoted(s))
            .collect();
        return Ok(Err(NotDates::TooOld(format!(
            "column {} looks like {} but some are before {}, for example {}; kept as text: check the dates, or allow old dates if they are right",
            quoted(column),
            layout.describe(),
            EARLIEST_PLAUSIBLE_YEAR,
            old.join(", ")
        ))));
    }
    Ok(Ok((layout, parsed)))
}

/// The error for a column every value of which reads both day-first and month-first.
fn ambiguous(column: &str, example: &str, separator: u8) -> DataError {
    let reading = |order| {
        DateLayout::Numeric { order, separator }
            .parse(example)
            .and_then(|p| date_of(p.ms))
            .map_or_else(String::new, |d| {
                d.format(if order == FieldOrder::DayFirst { "%-d %B" } else { "%B %-d" }).to_string()
            })
    };
    let s = separator as char;
    DataError::AmbiguousDates(Box::new(DateAmbiguity {
        column: column.to_string(),
        example: example.to_string(),
        day_first: reading(FieldOrder::DayFirst),
        month_first: reading(FieldOrder::MonthFirst),
        day_first_format: format!("%d{s}%m{s}%Y"),
        month_first_format: format!("%m{s}%d{s}%Y"),
    }))
}

/// A line for a column of dates with two-digit years (`31/08/17`, `31-AUG-17`), naming a format
/// that would read them; `None` when the values do not look so.
fn two_digit_hint(column: &str, sample: &[&str]) -> Option<String> {
    let value = sample.iter().find(|s| two_digit_shape(s).is_some())?;
    let format = two_digit_shape(value)?;
    let fits = sample.iter().filter(|s| two_digit_shape(s).is_some()).count();
    (fits * 10 >= sample.len() * 9).then(|| {
        format!(
            "column {} looks like dates with two-digit years (for example {}); kept as text: two-digit years are read only with an explicit format, e.g. --date-format {format}",
            quoted(column),
            quoted(value)
        )
    })
}

/// The format for a value such as `31/08/17` or `31-AUG-17`, if it has that shape.
fn two_digit_shape(s: &str) -> Option<&'static str> {
    let b = s.as_bytes();
    let (words, end) = three_words(s)?;
    if end != b.len() || words[2].len() != 2 || !words[2].bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let separator = b.get(words[0].len())?;
    if month_from_name(words[1]).is_some() && words[0].len() <= 2 && words[0].bytes().all(|c| c.is_ascii_digit()) {
        return Some(match separator {
            b'-' => "%d-%b-%y",
            b'/' => "%d/%b/%y",
            _ => "'%d %b %y'",
        });
    }
    if [words[0], words[1]].iter().all(|w| (1..=2).contains(&w.len()) && w.bytes().all(|c| c.is_ascii_digit())) {
        return Some(match separator {
            b'/' => "%d/%m/%y",
            b'-' => "%d-%m-%y",
            b'.' => "%d.%m.%y",
            _ => return None,
        });
    }
    None
}

/// Reads numbers in a column marked (or named) as epoch or Excel dates: the unit from their size
/// (epoch seconds 1e8..1e11, milliseconds 1e11..1e14; Excel serial days only when the user marked
/// the column), or the explicit format's.
pub fn detect_numeric_dates(
    column: &str,
    distinct: &[&str],
    marked: bool,
    formats: &ValueFormats,
) -> Result<(DateLayout, Vec<Option<Parsed>>), NotDates> {
    let explicit = formats.date_format.as_deref().and_then(special_layout);
    let layout = match explicit {
        Some(layout) => layout,
        None => {
            let values: Vec<f64> =
                distinct.iter().filter_map(|s| s.parse::<f64>().ok()).filter(|v| v.is_finite()).collect();
            let (lo, hi) =
                values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
            if values.is_empty() {
                return Err(NotDates::No);
            } else if lo >= 1e8 && hi < 1e11 {
                DateLayout::EpochSeconds
            } else if lo >= 1e11 && hi < 1e14 {
                DateLayout::EpochMillis
            } else if marked && lo >= 1.0 && hi < 100_000.0 {
                DateLayout::ExcelSerial
            } else {
                return Err(NotDates::BadEpoch(format!(
                    "column {} is marked as dates but its numbers (from {lo} to {hi}) are neither Unix epoch seconds (1e8 to 1e11) nor milliseconds (1e11 to 1e14){} (pass --date-format epoch_s, epoch_ms or excel to choose the unit)",
                    quoted(column),
                    if marked { " nor Excel serial days (1 to 100000)" } else { "" }
                )));
            }
        }
    };
    let parsed = parse_distinct(distinct, &layout);
    Ok((layout, parsed))
}

/// Maps distinct results back to rows, at the day offset, with counts and examples of failures.
pub fn to_rows(
    codes: &[u32],
    distinct: &[&str],
    parsed: &[Option<Parsed>],
    layout: DateLayout,
    day_offset: i32,
) -> DateColumn {
    use rayon::prelude::*;
    let stamps_distinct: Vec<Option<Stamp>> = parsed.iter().map(|p| p.and_then(|p| p.at_offset(day_offset))).collect();
    let stamps: Vec<Option<Stamp>> = codes
        .par_iter()
        .with_min_len(1 << 15)
        .map(|&c| if c == u32::MAX { None } else { stamps_distinct[c as usize] })
        .collect();
    let failed: Vec<usize> = (0..distinct.len()).filter(|&i| stamps_distinct[i].is_none()).collect();
    let unparsed_rows: Vec<usize> = if failed.is_empty() {
        Vec::new()
    } else {
        (0..codes.len()).filter(|&i| codes[i] != u32::MAX && stamps_distinct[codes[i] as usize].is_none()).collect()
    };
    let n_unparsed = unparsed_rows.len();
    DateColumn {
        has_time: parsed.iter().flatten().any(|p| p.has_time),
        had_offsets: parsed.iter().flatten().any(|p| p.offset_minutes.is_some()),
        stamps,
        layout,
        n_unparsed,
        unparsed_examples: failed.iter().take(3).map(|&i| quoted(distinct[i])).collect(),
        unparsed_rows,
        candidates: Vec::new(),
        example: distinct
            .iter()
            .zip(parsed)
            .find(|(_, p)| p.is_some())
            .map_or_else(String::new, |(s, _)| s.to_string()),
    }
}

/// Fast ISO 8601 date-time for the common case, row by row without hashing: `YYYY-MM-DD`, then `T`
/// or a space and a time, optional offset.
pub fn parse_iso(s: &str) -> Option<Parsed> {
    parse_numeric(s.as_bytes(), FieldOrder::YearFirst, b'-')
}

/// The sentence saying how a column of dates was read.
pub fn reading_sentence(column: &str, read: &DateColumn, day_offset: Option<&str>) -> String {
    let what = if read.has_time && !read.layout.describe().contains("epoch") {
        read.layout.describe().replace(" dates", " date-times")
    } else {
        read.layout.describe()
    };
    let mut sentence = format!(
        "column {} read as {what} ({})",
        quoted(column),
        crate::engine::error::quoted(&read.example).trim_matches('\'')
    );
    if read.had_offsets {
        match day_offset {
            Some(offset) => sentence.push_str(&format!(", counted on the day at {offset}")),
            None => sentence.push_str(", counted on the UTC day"),
        }
    }
    if read.n_unparsed > 0 {
        sentence.push_str(&format!(
            "; {} value(s) did not parse and are missing, for example {}",
            read.n_unparsed,
            read.unparsed_examples.join(", ")
        ));
    }
    sentence
}

#[cfg(test)]
mod tests;
