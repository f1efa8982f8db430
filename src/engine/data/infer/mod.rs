//! Column type inference over every value (not a prefix), and building the polars frame.

use chrono::NaiveDate;
use polars::prelude::*;

use super::ColumnNote;
use super::dates::{self, DateColumn, NotDates};
use super::formats::{ColumnReading, ReadAs, ReadingKind, ValueFormats};
use super::numbers::{self, DecimalMark, NumberOutcome};
use crate::engine::error::{DataError, quoted};

mod missing;
pub use missing::MISSING_TOKENS;
pub(crate) use missing::{is_missing, is_missing_text};
use missing::{marker_notes, na_is_code};
mod frame;
mod parse;
mod rows;
pub(super) use frame::{build_frame_with, unique_headers};
pub(super) use parse::padded_word;
#[cfg(test)]
use parse::plain_decimal;
use parse::{fast_iso_date, has_leading_zero, iso_days, number, whole_number};
pub(crate) use parse::{parse_float, trim_cell};
pub(super) use rows::{Numbers, RowRuns, numbers_by_rows};

/// A column of cell texts, however a reader holds them.
pub(super) trait Cells: Sync {
    /// Rows.
    fn len(&self) -> usize;
    /// The text of row `i`.
    fn cell(&self, i: usize) -> &str;
    /// The text of row `i` and its first eight bytes as a little-endian word (what follows a
    /// shorter cell is unspecified), which number readers take short cells from whole.
    #[inline]
    fn cell_word(&self, i: usize) -> (&str, u64) {
        let s = self.cell(i);
        (s, padded_word(s))
    }
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
    /// Per column, its numbers where they were read in advance (see [`numbers_by_rows`]); empty
    /// when none were.
    pub numbers: Vec<Option<Numbers>>,
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
            let mut mask_iter = mask.iter();
            self.numbers.retain(|_| *mask_iter.next().unwrap_or(&false));
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

pub(crate) use super::dates::EARLIEST_PLAUSIBLE_YEAR;

/// Parses a date in one format, whatever its year (the caller judges the year).
fn parse_date(s: &str, format: DateFormat) -> Option<NaiveDate> {
    let t = trim_cell(s);
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
    T: NumericNative + Default,
    T::PolarsType: PolarsNumericType<Native = T>,
    Series: NamedFrom<Vec<Option<T>>, [Option<T>]>,
{
    parse_all_flagged(name, values, |s, _| parse(s).map(|v| (v, 0))).map(|(column, _)| column)
}

/// [`parse_all`] where each parse also gives flags (bits of a `u8`), OR-ed over every present cell
/// and returned with the column. One pass over the cells: each is fetched once, whether it is
/// missing, how it parses and what it says are all found in that one visit (on a 10M-row log a
/// pass over a column is a fetch of 10M scattered cells, so passes cost more than the parsing).
/// `parse` is given each cell's text and its first eight bytes (see [`Cells::cell_word`]).
fn parse_all_flagged<T>(
    name: &str,
    values: &impl Cells,
    parse: impl Fn(&str, u64) -> Option<(T, u8)> + Sync,
) -> Option<(Column, u8)>
where
    T: NumericNative + Default,
    T::PolarsType: PolarsNumericType<Native = T>,
    Series: NamedFrom<Vec<Option<T>>, [Option<T>]>,
{
    use rayon::prelude::*;
    let n = values.len();
    // A column whose first present cell does not parse (nearly every column tried for a type it
    // is not) is refused before any memory is touched for it.
    let first_present = (0..n).map(|i| values.cell_word(i)).find(|(s, _)| !is_missing(s));
    if let Some((s, word)) = first_present {
        parse(s, word)?;
    }
    // Parsed in place, block by block (a default where missing); per block the missing rows and
    // the flags.
    let mut parsed = vec![T::default(); n];
    super::advise_huge_pages(&mut parsed);
    let blocks: Vec<(Vec<usize>, u8)> = parsed
        .par_chunks_mut(PARSE_BLOCK)
        .enumerate()
        .map(|(block, out)| {
            let first = block * PARSE_BLOCK;
            let mut missing = Vec::new();
            let mut flags = 0u8;
            for (offset, slot) in out.iter_mut().enumerate() {
                let (s, word) = values.cell_word(first + offset);
                if is_missing(s) {
                    missing.push(first + offset);
                } else {
                    let (value, f) = parse(s, word)?;
                    flags |= f;
                    *slot = value;
                }
            }
            Some((missing, flags))
        })
        .collect::<Option<_>>()?;
    let flags = blocks.iter().fold(0, |f, b| f | b.1);
    let missing = blocks.iter().flat_map(|b| b.0.iter().copied());
    Some((numeric_column(name, parsed, missing), flags))
}

/// The column of `values`, missing at the rows `missing` gives (in any order).
fn numeric_column<T>(name: &str, values: Vec<T>, mut missing: impl Iterator<Item = usize>) -> Column
where
    T: NumericNative,
    T::PolarsType: PolarsNumericType<Native = T>,
    Series: NamedFrom<Vec<Option<T>>, [Option<T>]>,
{
    let Some(first) = missing.next() else {
        // The parsed values become the column as they are, not copied.
        return ChunkedArray::<T::PolarsType>::from_vec(name.into(), values).into_column();
    };
    let mut with_missing: Vec<Option<T>> = values.into_iter().map(Some).collect();
    for i in std::iter::once(first).chain(missing) {
        with_missing[i] = None;
    }
    Column::new(name.into(), with_missing)
}

/// The flag [`parse_all_flagged`] sets for a number written with leading zeros.
const LEADING_ZERO: u8 = 1;

/// The flag set for a number that is NaN or infinite.
const NOT_FINITE: u8 = 2;

/// Rows one parallel parsing task takes at least.
const PARSE_BLOCK: usize = 1 << 15;

/// Up to three distinct present cells for which `pick` holds, quoted, for a warning.
fn example_cells(values: &impl Cells, pick: impl Fn(&str) -> bool) -> String {
    let mut found: Vec<&str> = Vec::new();
    for i in 0..values.len() {
        let s = values.cell(i).trim();
        if !is_missing(s) && pick(s) && !found.contains(&s) {
            found.push(s);
            if found.len() == 3 {
                break;
            }
        }
    }
    found.iter().map(|s| quoted(s)).collect::<Vec<_>>().join(", ")
}

/// A column of texts as written, missing tokens as missing (except `.`, and `NA` among two-letter
/// codes: see [`MISSING_TOKENS`]).
fn text_column(name: &str, values: &impl Cells) -> Column {
    let na_is_code = na_is_code(values);
    let texts: Vec<Option<&str>> = (0..values.len())
        .map(|i| values.cell(i))
        .map(|s| if is_missing_text(s, na_is_code) { None } else { Some(s) })
        .collect();
    Column::new(name.into(), texts)
}

/// What typing one column gave: the column, its notes, how it was read, and what it says about the
/// file's decimal mark.
pub(super) struct Typed {
    pub column: Column,
    pub notes: Vec<ColumnNote>,
    pub reading: Option<ColumnReading>,
    /// The decimal mark the values show for sure, if any.
    pub evidence: Option<DecimalMark>,
    /// Formatted numbers whose separators read both ways: the file's mark decides (an example value).
    pub needs_mark: Option<String>,
    /// Plain numbers such as `1.234` that would be thousands in a decimal-comma file (an example).
    pub plain_ambiguous: Option<String>,
}

impl Typed {
    fn plain(column: Column, notes: Vec<ColumnNote>) -> Self {
        Typed { column, notes, reading: None, evidence: None, needs_mark: None, plain_ambiguous: None }
    }
}

/// The decimal mark to read with: the user's, the file's (from other columns), or none yet.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum MarkChoice {
    /// Detect from the column alone.
    Detect,
    /// The user chose it.
    Users(DecimalMark),
    /// The file's other columns show it.
    Files(DecimalMark),
}

/// Types one column by every value and builds it, parsing each cell once per candidate type.
#[cfg(test)]
fn type_column(name: &str, values: &impl Cells) -> Result<(Column, Vec<ColumnNote>), DataError> {
    let typed = type_column_with(name, values, &ValueFormats::default(), MarkChoice::Detect, None)?;
    Ok((typed.column, typed.notes))
}

/// A date column's reading, with the sentence.
fn date_reading(name: &str, read: &DateColumn, formats: &ValueFormats) -> ColumnReading {
    ColumnReading {
        column: name.to_string(),
        kind: if read.has_time { ReadingKind::DateTimes } else { ReadingKind::Dates },
        format: read.layout.format_code(),
        sentence: dates::reading_sentence(name, read, formats.day_offset.as_deref()),
        n_unparsed: read.n_unparsed,
        unparsed_examples: read.unparsed_examples.clone(),
        candidates: Vec::new(),
        unparsed_rows: read.unparsed_rows.clone(),
    }
}

/// A polars column of dates (days) or, where any value has a time of day, date-times (milliseconds).
fn stamps_column(name: &str, read: &DateColumn) -> Result<Column, DataError> {
    if read.has_time {
        let ms: Vec<Option<i64>> = read.stamps.iter().map(|s| s.map(|s| s.ms)).collect();
        Ok(Column::new(name.into(), ms).cast(&DataType::Datetime(TimeUnit::Milliseconds, None))?)
    } else {
        let days: Vec<Option<i32>> = read.stamps.iter().map(|s| s.and_then(|s| i32::try_from(s.days()).ok())).collect();
        Ok(Column::new(name.into(), days).cast(&DataType::Date)?)
    }
}

/// A column read from formatted dates: the column, its reading and, where values did not parse, a note.
fn dates_typed(name: &str, read: DateColumn, formats: &ValueFormats, plain: bool) -> Result<Typed, DataError> {
    let column = stamps_column(name, &read)?;
    let reading = date_reading(name, &read, formats);
    let mut notes = Vec::new();
    if read.n_unparsed > 0 {
        notes.push(ColumnNote {
            kind: "have values that are not dates in the column's format and are read as missing",
            column: name.to_string(),
            line: reading.sentence.clone(),
        });
    } else if !plain {
        notes.push(ColumnNote {
            kind: "were read from formatted text",
            column: name.to_string(),
            line: reading.sentence.clone(),
        });
    }
    Ok(Typed { reading: Some(reading), ..Typed::plain(column, notes) })
}

/// The distinct present values of a column (trimmed), in first-seen order, and each row's index
/// into them (`u32::MAX` for missing).
fn distinct_values(values: &impl Cells) -> (Vec<&str>, Vec<u32>) {
    let mut index: std::collections::HashMap<&str, u32> = std::collections::HashMap::new();
    let mut distinct = Vec::new();
    let codes = (0..values.len())
        .map(|i| {
            let s = values.cell(i);
            if is_missing(s) {
                return u32::MAX;
            }
            let t = s.trim();
            *index.entry(t).or_insert_with(|| {
                distinct.push(t);
                (distinct.len() - 1) as u32
            })
        })
        .collect();
    (distinct, codes)
}

/// Whether any of the first present cells could be a formatted date or number, so that a column of
/// names or categories is not hashed and parsed for nothing.
fn worth_detecting(values: &impl Cells) -> bool {
    const LOOK: usize = 1_000;
    let layouts_hint = |s: &str| {
        let b = s.as_bytes();
        b.first().is_some_and(|c| c.is_ascii_digit())
            || dates::month_from_name(s.split([' ', '-', '/', '.', ',']).next().unwrap_or("")).is_some()
    };
    (0..values.len())
        .map(|i| values.cell(i).trim())
        .filter(|s| !is_missing(s))
        .take(LOOK)
        .any(|s| layouts_hint(s) || numbers::decorate(s).is_some())
}

/// Types one column by every value and builds it: dates and date-times in the layouts systems write,
/// numbers plain or formatted, else text; `mark` is the decimal mark to read formatted numbers with.
/// The missing-value markers it read as missing are said in a note.
pub(super) fn type_column_with(
    name: &str,
    values: &impl Cells,
    formats: &ValueFormats,
    mark: MarkChoice,
    numbers: Option<&Numbers>,
) -> Result<Typed, DataError> {
    let mut typed = type_column_unsaid(name, values, formats, mark, numbers)?;
    typed.notes.extend(marker_notes(name, values, &typed.column));
    Ok(typed)
}

/// `numbers`: what the whole-number or number pass gives for this column, where it was found in
/// advance.
fn type_column_unsaid(
    name: &str,
    values: &impl Cells,
    formats: &ValueFormats,
    mark: MarkChoice,
    numbers: Option<&Numbers>,
) -> Result<Typed, DataError> {
    let column_name = || name.into();
    let note = |kind: &'static str, line: String| ColumnNote { kind, column: name.to_string(), line };
    if (0..values.len()).all(|i| is_missing(values.cell(i))) {
        return Ok(Typed::plain(Column::new(column_name(), vec![None::<f64>; values.len()]), Vec::new()));
    }
    let day_offset = formats.day_offset_minutes()?;
    let marked = formats.is_marked_date(name);
    // The user says the column holds no dates: numbers or text as its values are.
    let dates_allowed = formats.read_as(name) != ReadAs::NotDate;
    let date_named = dates_allowed && (name_suggests_date(name) || marked);
    let mut formats_list = vec![DateFormat::Iso, DateFormat::Slash];
    if date_named {
        formats_list.push(DateFormat::Compact);
    }
    if !dates_allowed {
        formats_list.clear();
    }
    // An explicit format goes first where it fits (numbers as epoch or Excel dates are read below).
    if let Some(format) = formats.date_format.as_deref()
        && let layout @ dates::DateLayout::Explicit(_) = dates::explicit_layout(format)
    {
        let (distinct, codes) = distinct_values(values);
        let parsed: Vec<Option<dates::Parsed>> = distinct.iter().map(|s| layout.parse(s)).collect();
        let ok = parsed.iter().filter(|p| p.is_some()).count();
        if ok > 0 && (date_named || ok * 2 >= distinct.len()) {
            let read = dates::to_rows(&codes, &distinct, &parsed, layout, day_offset);
            return dates_typed(name, read, formats, false);
        }
    }
    // The common layouts are read row by row, fast.
    for format in formats_list {
        let days_of = |s: &str| match format {
            DateFormat::Iso => iso_date_days(s),
            _ => parse_date(s, format).map(days_since_epoch),
        };
        let found = match (format, numbers) {
            (DateFormat::Iso, Some(Numbers::IsoDays(days))) => Some(days.clone()),
            _ => parse_all(name, values, days_of),
        };
        if let Some(days) = found {
            // Every value is a date in this format; but a year before 1900 is a two-digit year read
            // literally or a typo, and reading it as written would silently move it centuries.
            let earliest = days_since_epoch(NaiveDate::from_ymd_opt(EARLIEST_PLAUSIBLE_YEAR, 1, 1).unwrap_or_default());
            let min_days = days.as_materialized_series().i32()?.min();
            if !formats.allow_old_dates && min_days.is_some_and(|d| d < earliest) {
                let odd = example_cells(values, |s| {
                    parse_date(s, format).is_some_and(|d| chrono::Datelike::year(&d) < EARLIEST_PLAUSIBLE_YEAR)
                });
                let line = format!(
                    "column {} looks like dates but some have a two-digit or implausibly old year (before {EARLIEST_PLAUSIBLE_YEAR}), for example {odd}; kept as text: dates with two-digit years are read only with an explicit format (--date-format, for example %d/%m/%y) and years before 1900 only with --allow-old-dates; or give the dates as YYYY-MM-DD",
                    quoted(name)
                );
                return Ok(Typed::plain(
                    text_column(name, values),
                    vec![note(
                        "look like dates with two-digit or implausibly old years and are kept as text (give the dates as YYYY-MM-DD)",
                        line,
                    )],
                ));
            }
            let layout = match format {
                DateFormat::Iso => dates::DateLayout::Numeric { order: dates::FieldOrder::YearFirst, separator: b'-' },
                DateFormat::Slash => {
                    dates::DateLayout::Numeric { order: dates::FieldOrder::YearFirst, separator: b'/' }
                }
                DateFormat::Compact => dates::DateLayout::Compact,
            };
            let example = example_cells(values, |_| true);
            let example = example.split(", ").next().unwrap_or("").trim_matches('\'');
            let reading = ColumnReading {
                column: name.to_string(),
                kind: ReadingKind::Dates,
                format: layout.format_code(),
                sentence: format!("column {} read as {} ({example})", quoted(name), layout.describe()),
                n_unparsed: 0,
                unparsed_examples: Vec::new(),
                candidates: Vec::new(),
                unparsed_rows: Vec::new(),
            };
            return Ok(Typed { reading: Some(reading), ..Typed::plain(days.cast(&DataType::Date)?, Vec::new()) });
        }
    }
    if dates_allowed && let Some((column, read)) = iso_date_times(name, values, day_offset) {
        let earliest =
            i64::from(days_since_epoch(NaiveDate::from_ymd_opt(EARLIEST_PLAUSIBLE_YEAR, 1, 1).unwrap_or_default()));
        let min_ms = column.as_materialized_series().i64()?.min();
        if formats.allow_old_dates || min_ms.is_none_or(|ms| ms.div_euclid(dates::MS_PER_DAY) >= earliest) {
            let reading = date_reading(name, &read, formats);
            let column = if read.has_time {
                column.cast(&DataType::Datetime(TimeUnit::Milliseconds, None))?
            } else {
                let days = column.as_materialized_series().i64()?.apply_values(|ms| ms.div_euclid(dates::MS_PER_DAY));
                days.into_series().cast(&DataType::Int32)?.cast(&DataType::Date)?.into()
            };
            let notes = vec![ColumnNote {
                kind: "were read from formatted text",
                column: name.to_string(),
                line: reading.sentence.clone(),
            }];
            return Ok(Typed { reading: Some(reading), ..Typed::plain(column, notes) });
        }
    }
    // Numbers in a column named or marked as epoch (or Excel) dates.
    let explicit_numeric = formats.date_format.as_deref().is_some_and(|f| {
        matches!(
            dates::explicit_layout(f),
            dates::DateLayout::EpochSeconds | dates::DateLayout::EpochMillis | dates::DateLayout::ExcelSerial
        )
    });
    let mut epoch_note = None;
    if dates_allowed
        && (dates::name_suggests_epoch(name) || marked || (explicit_numeric && date_named))
        && (0..values.len())
            .all(|i| is_missing(values.cell(i)) || values.cell(i).trim().parse::<f64>().is_ok_and(f64::is_finite))
    {
        let (distinct, codes) = distinct_values(values);
        match dates::detect_numeric_dates(name, &distinct, marked || explicit_numeric, formats) {
            Ok((layout, parsed)) => {
                let read = dates::to_rows(&codes, &distinct, &parsed, layout, day_offset);
                return dates_typed(name, read, formats, false);
            }
            Err(NotDates::BadEpoch(line)) => {
                epoch_note = Some(note(
                    "are marked as dates but hold numbers of no date unit, and are kept as numbers",
                    format!("{line}; kept as numbers"),
                ))
            }
            Err(_) => {}
        }
    }
    // Numbers written with leading zeros are ids or codes: typed as numbers, `00042` would become 42
    // and collide with a `42`, and ids would no longer join back to the file. Whether any is so
    // written is found in the pass that parses the numbers (every whole number is also a float, so
    // "all whole with a leading zero" is "all numbers with a leading zero"); a pass that fails on
    // some cell leaves it unknown, and then no rule below needs it.
    // Short plain numbers (nearly every cell of a numeric column) are read whole from their first
    // eight bytes, exactly as the general readers would read them.
    let zero_flag = |zero: bool| if zero { LEADING_ZERO } else { 0 };
    let ints = match numbers {
        Some(Numbers::Whole(column, flags)) => Some((column.clone(), *flags)),
        // Its first present cell is not a whole number.
        Some(Numbers::Float(..)) => None,
        _ => parse_all_flagged(name, values, |s, word| whole_number(s, word).map(|(v, zero)| (v, zero_flag(zero)))),
    };
    let floats = match (&ints, numbers) {
        (Some(_), _) => None,
        (None, Some(Numbers::Float(column, flags))) => Some((column.clone(), *flags)),
        (None, _) => parse_all_flagged(name, values, |s, word| {
            number(s, word).map(|(v, zero)| (v, zero_flag(zero) | if v.is_finite() { 0 } else { NOT_FINITE }))
        }),
    };
    let leading_zero = ints.as_ref().or(floats.as_ref()).is_some_and(|(_, flags)| flags & LEADING_ZERO != 0);
    if leading_zero {
        let line = format!(
            "column {} has numbers written with leading zeros (for example {}); kept as text exactly as written, as ids and codes are",
            quoted(name),
            example_cells(values, has_leading_zero)
        );
        return Ok(Typed::plain(
            text_column(name, values),
            vec![note("have numbers written with leading zeros and are kept as text as written", line)],
        ));
    }
    let mut notes: Vec<ColumnNote> = epoch_note.into_iter().collect();
    if let Some((ints, _)) = ints {
        return Ok(Typed::plain(ints, notes));
    }
    // With a decimal comma chosen by the user, `1.234` is a thousand and more, not a plain float.
    let users_comma =
        mark == MarkChoice::Users(DecimalMark::Comma) && (0..values.len()).any(|i| values.cell(i).contains('.'));
    if !users_comma && let Some((floats, flags)) = floats {
        let non_finite = if flags & NOT_FINITE == 0 {
            0
        } else {
            floats.as_materialized_series().f64()?.iter().flatten().filter(|x| !x.is_finite()).count()
        };
        if non_finite > 0 {
            notes.push(note(
                "have NaN or infinite values, which are never passed to a fit",
                format!(
                    "column {} has {non_finite} NaN or infinite value(s); they are never passed to a fit (impute, drop rows or use the fallback segment)",
                    quoted(name)
                ),
            ));
        }
        let mut typed = Typed::plain(floats, notes);
        // What plain numbers say about the file's decimal mark (for other columns' sake): usually the
        // first value with a point settles it.
        let mut ambiguous_example = None;
        for i in 0..values.len() {
            let t = values.cell(i).trim().trim_start_matches(['-', '+']);
            if !t.contains('.') {
                continue;
            }
            match numbers::evidence(t) {
                numbers::Evidence::PointOnly => {
                    typed.evidence = Some(DecimalMark::Point);
                    ambiguous_example = None;
                    break;
                }
                numbers::Evidence::Ambiguous if ambiguous_example.is_none() => {
                    ambiguous_example = Some(values.cell(i).trim().to_string())
                }
                _ => {}
            }
        }
        typed.plain_ambiguous = ambiguous_example;
        return Ok(typed);
    }
    // Formatted dates and numbers, judged on the distinct values.
    let mut number_conflict = None;
    if worth_detecting(values) {
        let (distinct, codes) = distinct_values(values);
        let detected = if dates_allowed {
            dates::detect_text_dates(name, &distinct, date_named, formats)?
        } else {
            Err(NotDates::No)
        };
        match detected {
            Ok((layout, parsed)) => {
                let read = dates::to_rows(&codes, &distinct, &parsed, layout, day_offset);
                return dates_typed(name, read, formats, false);
            }
            Err(NotDates::TwoDigitYears(line)) => {
                notes.push(note(
                    "look like dates with two-digit years and are kept as text (pass an explicit date format)",
                    line,
                ));
                return Ok(Typed::plain(text_column(name, values), notes));
            }
            Err(NotDates::TooOld(line)) => {
                notes.push(note(
                    "look like dates with two-digit or implausibly old years and are kept as text (give the dates as YYYY-MM-DD)",
                    line,
                ));
                return Ok(Typed::plain(text_column(name, values), notes));
            }
            Err(_) => {}
        }
        let (choice, is_users) = match mark {
            MarkChoice::Detect => (None, false),
            MarkChoice::Users(m) => (Some(m), true),
            MarkChoice::Files(m) => (Some(m), false),
        };
        match numbers::detect_numbers(name, &distinct, choice, is_users) {
            NumberOutcome::Read { values: read, mark: used, style } => {
                let per_row: Vec<Option<f64>> =
                    codes.iter().map(|&c| if c == u32::MAX { None } else { read.get(c as usize).copied() }).collect();
                let example = distinct.first().copied().unwrap_or("");
                let sentence = format!(
                    "column {} read as {style} ({} -> {})",
                    quoted(name),
                    quoted(example).trim_matches('\''),
                    read.first().copied().unwrap_or(0.0)
                );
                notes.push(note("were read from formatted text", sentence.clone()));
                let reading = ColumnReading {
                    column: name.to_string(),
                    kind: ReadingKind::Numbers,
                    format: if used == DecimalMark::Comma { "decimal comma".into() } else { "decimal point".into() },
                    sentence,
                    n_unparsed: 0,
                    unparsed_examples: Vec::new(),
                    candidates: Vec::new(),
                    unparsed_rows: Vec::new(),
                };
                let evidence = (!matches!(mark, MarkChoice::Files(_))).then_some(used);
                return Ok(Typed {
                    column: Column::new(column_name(), per_row),
                    notes,
                    reading: Some(reading),
                    evidence,
                    needs_mark: None,
                    plain_ambiguous: None,
                });
            }
            NumberOutcome::NeedsMark { example } => {
                return Ok(Typed { needs_mark: Some(example), ..Typed::plain(text_column(name, values), notes) });
            }
            NumberOutcome::Conflict(line) => number_conflict = Some(line),
            NumberOutcome::No => {}
        }
    }
    if let Some(line) = number_conflict {
        notes.push(note("hold numbers whose formats disagree and are kept as text", line));
        return Ok(Typed::plain(text_column(name, values), notes));
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
            let example = quoted(s.trim());
            if examples.len() < 5 && !examples.contains(&example) {
                examples.push(example);
            }
        }
    }
    // Mostly numbers with a few stray texts: keep as text, but say which values block numbers.
    if blocking * 2 <= present {
        notes.push(note(
            "are mostly numeric but hold some values that are not numbers, and are kept as text",
            format!(
                "column {} is mostly numeric but {blocking} value(s) are not numbers (for example {}); kept as text",
                quoted(name),
                examples.join(", ")
            ),
        ));
    }
    Ok(Typed::plain(text_column(name, values), notes))
}

/// ISO 8601 date-times in every present value (`2017-08-31 14:22`, `2017-09-01T10:00:00.5Z`,
/// `...+02:00`), parsed row by row in parallel straight into milliseconds at the day offset (no
/// hashing, no intermediate per-row structs), in one pass that also finds what a reading needs:
/// whether any value has a time of day or an offset. `None` as soon as one value is not such a
/// date-time.
fn iso_date_times(name: &str, values: &impl Cells, day_offset: i32) -> Option<(Column, DateColumn)> {
    const TIME: u8 = 1;
    const OFFSET: u8 = 2;
    let (column, flags) = parse_all_flagged(name, values, |s, _| {
        let parsed = dates::parse_iso(s.trim())?;
        let flags = if parsed.has_time { TIME } else { 0 } | if parsed.offset_minutes.is_some() { OFFSET } else { 0 };
        Some((parsed.at_offset(day_offset)?.ms, flags))
    })?;
    let example = (0..values.len()).map(|i| values.cell(i)).find(|s| !is_missing(s)).unwrap_or("").trim().to_string();
    let read = DateColumn {
        has_time: flags & TIME != 0,
        had_offsets: flags & OFFSET != 0,
        stamps: Vec::new(),
        layout: dates::DateLayout::Numeric { order: dates::FieldOrder::YearFirst, separator: b'-' },
        n_unparsed: 0,
        unparsed_examples: Vec::new(),
        unparsed_rows: Vec::new(),
        example,
        candidates: Vec::new(),
    };
    Some((column, read))
}

/// A cell as a date written `YYYY-MM-DD`, in days from 1970-01-01.
fn iso_date_days(s: &str) -> Option<i32> {
    let t = trim_cell(s);
    iso_days(t).or_else(|| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok().map(days_since_epoch))
}

/// Days from 1970-01-01, polars' Date representation.
pub(crate) fn days_since_epoch(date: NaiveDate) -> i32 {
    // chrono counts days from 0001-01-01 (day 1); 1970-01-01 is day 719,163.
    use chrono::Datelike;
    date.num_days_from_ce() - 719_163
}

#[cfg(test)]
mod tests;
