//! A transaction log too large to hold in memory, aggregated to customers through polars' streaming
//! engine.
//!
//! The reader's rules stay in force: the file's first rows are read by Strata's own reader, which
//! decides the dialect and how each of the id, date and amount columns is read (the date layout,
//! the decimal mark, ids as numbers or text). Polars then streams the whole file as text in batches,
//! every cell is typed by those pinned rules in polars' worker threads, and the typed batches reach
//! the aggregation in file order, so each customer's total is summed in file order exactly as the
//! in-memory path sums it. A cell the pinned rules cannot read is counted with examples and refused
//! at the end (or dropped where the user asked for unparsed dates to be dropped), never read as
//! something else.

use std::collections::BTreeMap;
use std::hash::Hash;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use polars::prelude::*;

use super::rfm::{
    NO_AMOUNT_WARNING, NegativeAmounts, RfmResult, RowCounts, TransactionColumns, days_from_date, say_row_counts,
};
use crate::engine::data::dates::{self, DateLayout};
use crate::engine::data::numbers::{self, DecimalMark};
use crate::engine::data::{
    self, Delimiter, Dialect, ReadOptions, ReadingKind, TextEncoding, UnparsedDates, is_missing, is_missing_text,
    parse_float,
};
use crate::engine::error::{DataError, quoted};

/// How much of the file's start Strata's own reader reads to pin the dialect and the columns'
/// readings (cut at the last whole line).
pub const HEAD_BYTES: u64 = 16 << 20;

/// Rows per batch the streaming engine hands to the aggregation.
const BATCH_ROWS: usize = 1 << 18;

/// Aggregates the transaction log at `path` to one row per customer, as
/// [`super::aggregate_transactions_with`] does for a log held in memory, streaming the file through
/// polars so that only the per-customer totals are ever held. Text files only; the options the
/// streaming read cannot honour are refused in one line.
pub fn aggregate_log_streaming(
    path: &Path,
    spec: &TransactionColumns,
    options: &ReadOptions,
) -> Result<StreamedLog, DataError> {
    aggregate_log_streaming_with(path, spec, options, HEAD_BYTES)
}

/// As [`aggregate_log_streaming`], pinning the readings from the first `head_bytes` of the file.
pub fn aggregate_log_streaming_with(
    path: &Path,
    spec: &TransactionColumns,
    options: &ReadOptions,
    head_bytes: u64,
) -> Result<StreamedLog, DataError> {
    let formats = &options.formats;
    formats.check()?;
    refuse_unsupported(path, spec, options)?;
    let pins = pin_from_head(path, spec, options, head_bytes)?;
    let tallies = Tallies::default();
    let aggregation = Arc::new(Mutex::new(match pins.id {
        IdReading::Integer => Aggregation::Integer(Accumulator::new(spec)),
        IdReading::Text { .. } => Aggregation::Text(Accumulator::new(spec)),
    }));
    let drop_unparsed = formats.unparsed_dates == UnparsedDates::Drop;
    stream_typed(path, drop_unparsed, &pins, &tallies, Arc::clone(&aggregation))?;
    let aggregation = Arc::try_unwrap(aggregation)
        .map_err(|_| DataError::Polars("the streaming read did not release its batches".into()))?
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner);
    let read_warnings = tallies.check(spec, options, &pins)?;
    let warnings = if spec.amount.is_none() { vec![NO_AMOUNT_WARNING.to_string()] } else { Vec::new() };
    let result = match aggregation {
        Aggregation::Integer(acc) => acc
            .finish(spec, formats.allow_old_dates, warnings, |ids| Column::new(spec.customer_id.as_str().into(), ids)),
        Aggregation::Text(acc) => acc
            .finish(spec, formats.allow_old_dates, warnings, |ids| Column::new(spec.customer_id.as_str().into(), ids)),
    }?;
    let mut reading_warnings: Vec<String> =
        pins.head_warnings.iter().map(|w| format!("in the log's first rows: {w}")).collect();
    reading_warnings.extend(read_warnings);
    Ok(StreamedLog { result, reading_warnings })
}

/// A log aggregated by the streaming read.
#[derive(Clone, Debug)]
pub struct StreamedLog {
    /// The customer table, the counts and the aggregation's warnings, as the in-memory path gives them.
    pub result: RfmResult,
    /// What reading the log said, as Strata's reader says it beside the in-memory aggregation: about
    /// the first rows it read to pin the readings (values read as missing, formats read), each
    /// saying so, then the dates left out or read as missing in the whole log.
    pub reading_warnings: Vec<String>,
}

/// What the streaming read cannot do, refused before anything is read.
fn refuse_unsupported(path: &Path, spec: &TransactionColumns, options: &ReadOptions) -> Result<(), DataError> {
    let refuse = |what: &str| Err(DataError::Streaming(format!("{what}: {}", path.display())));
    if data::FileFormat::from_path(path)? != data::FileFormat::Text {
        return refuse(
            "the streaming read takes delimited text logs (.csv, .tsv, .txt); a Parquet or Excel log is read whole without --streaming",
        );
    }
    if crate::engine::pipeline::several::is_pattern(&path.to_string_lossy()) {
        return refuse(
            "the streaming read takes one file, not a pattern; read the files one by one or without --streaming",
        );
    }
    if options.encoding != TextEncoding::Utf8 {
        return refuse(
            "the streaming read takes UTF-8 text; convert the file to UTF-8 (iconv -f windows-1252 -t utf-8) or read it without --streaming",
        );
    }
    if options.skip_bad_rows {
        return refuse(
            "the streaming read refuses malformed rows and cannot skip them; read without --streaming to skip them",
        );
    }
    if options.sample_rows.is_some() {
        return refuse("--sample-rows reads a preview and --streaming reads everything; choose one");
    }
    if !spec.behaviour.is_empty() || spec.value.is_some() {
        return refuse(
            "behavioural features and lifetime value need every transaction in memory; compute them without --streaming",
        );
    }
    Ok(())
}

/// How ids are read: integers (with no leading zeros, which would merge `00042` into `42`) or text as
/// written, with `NA` kept as a value where the column holds two-letter codes.
#[derive(Clone, Copy, Debug)]
enum IdReading {
    Integer,
    Text { na_is_code: bool },
}

/// How amounts are read: plain numbers, or formatted ones with the head's decimal mark, currency and
/// percent sign.
#[derive(Clone, Debug)]
enum AmountReading {
    Plain,
    Formatted { mark: DecimalMark, currency: Option<String>, percent: bool },
}

/// The dialect and per-column readings the file's first rows decided.
#[derive(Clone, Debug)]
struct Pins {
    /// The id, date and amount columns' positions in the file (0-based).
    positions: Vec<usize>,
    /// What Strata's reader said reading the first rows (values read as missing, formats read).
    head_warnings: Vec<String>,
    dialect: Dialect,
    id: IdReading,
    layout: DateLayout,
    day_offset: i32,
    allow_old_dates: bool,
    amount: Option<AmountReading>,
}

/// Reads the file's first [`HEAD_BYTES`] with Strata's reader and pins what it decided; a column the
/// head cannot decide (dates that are not dates there, amounts read as text) is refused with the
/// reader's own words where it has them.
fn pin_from_head(
    path: &Path,
    spec: &TransactionColumns,
    options: &ReadOptions,
    head_bytes: u64,
) -> Result<Pins, DataError> {
    use std::io::Read;
    let file = data::open_data_file(path)?;
    let mut head = Vec::new();
    file.take(head_bytes)
        .read_to_end(&mut head)
        .map_err(|source| DataError::Io { path: path.to_path_buf(), source })?;
    if head.len() as u64 == head_bytes
        && let Some(end) = last_line_end_outside_quotes(&head, options.quote.unwrap_or('"'))
    {
        head.truncate(end + 1);
    }
    let needed = spec.key_columns();
    let typed = data::read_text_formatted(&head, path, options, &options.formats, Some(&needed), &[])?;
    // Every column's name, in order, as Strata's reader names them (renamed repeats, blank headers,
    // trimmed names), to find the columns polars names by their own header reading.
    let all_names: Vec<String> = {
        let cut = last_line_end_outside_quotes(&head[..head.len().min(64 << 10)], options.quote.unwrap_or('"'))
            .map_or(head.len(), |end| end + 1);
        let first = data::read_text_formatted(&head[..cut], path, options, &options.formats, None, &[])?;
        first.frame.get_column_names().iter().map(|n| n.to_string()).collect()
    };
    let dialect = typed.dialect.ok_or_else(|| DataError::Streaming("the file's dialect was not found".into()))?;
    if dialect.delimiter == Delimiter::Whitespace {
        return Err(DataError::Streaming(format!(
            "the streaming read takes one delimiter character, and this file is aligned by whitespace; read it without --streaming: {}",
            path.display()
        )));
    }
    let id_column = data::column(&typed.frame, &spec.customer_id)?;
    let id = match id_column.dtype() {
        t if t.is_integer() => IdReading::Integer,
        DataType::String => IdReading::Text {
            // The reader kept `NA` as a value (a two-letter code) where the column holds codes.
            na_is_code: id_column
                .as_materialized_series()
                .str()?
                .iter()
                .flatten()
                .any(|t| matches!(t.trim(), "NA" | "na")),
        },
        other => {
            return Err(DataError::BadColumn {
                column: spec.customer_id.clone(),
                problem: format!(
                    "reads as {other} in the file's first rows; the streaming read takes ids that are whole numbers or text (--read-as {}=text)",
                    spec.customer_id
                ),
            });
        }
    };
    let reading = |column: &str| typed.readings.iter().find(|r| r.column == column);
    // A format the user gave is read as given, never as the detected layout of the same code (which
    // would also take times and offsets the format does not).
    let given = options.formats.for_column(&spec.date).date_format.clone();
    let layout = match reading(&spec.date) {
        Some(r) if matches!(r.kind, ReadingKind::Dates | ReadingKind::DateTimes) => match given {
            Some(format) => dates::explicit_layout(&format),
            None => dates::layout_for_code(&r.format),
        },
        _ => {
            return Err(DataError::BadColumn {
                column: spec.date.clone(),
                problem: format!(
                    "is not read as dates in the file's first rows (read as {}); the streaming read needs them read as dates there: give the layout with --date-format",
                    data::column(&typed.frame, &spec.date)?.dtype()
                ),
            });
        }
    };
    let amount = match &spec.amount {
        None => None,
        Some(name) => {
            let column = data::column(&typed.frame, name)?;
            if !column.dtype().is_primitive_numeric() {
                return Err(DataError::BadColumn {
                    column: name.clone(),
                    problem: format!(
                        "has type {} in the file's first rows and cannot be summed as money; pick a numeric column",
                        column.dtype()
                    ),
                });
            }
            Some(match reading(name) {
                Some(r) if r.kind == ReadingKind::Numbers => {
                    let mark = if r.format == "decimal comma" { DecimalMark::Comma } else { DecimalMark::Point };
                    // The texts as written, read again only here, where a currency or a percent sign
                    // is to be pinned.
                    let raw =
                        data::read_text_formatted(&head, path, options, &options.formats, Some(&needed), &needed)?;
                    let texts = data::column_texts(&raw.frame, name)?;
                    let decorated: Vec<numbers::Decorated<'_>> =
                        texts.iter().flatten().filter_map(|t| numbers::decorate(t.trim())).collect();
                    AmountReading::Formatted {
                        mark,
                        currency: decorated.iter().find_map(|d| d.currency).map(str::to_string),
                        percent: decorated.iter().any(|d| d.percent),
                    }
                }
                _ => AmountReading::Plain,
            })
        }
    };
    let position = |name: &str| all_names.iter().position(|n| n == name);
    let positions =
        spec.key_columns().iter().map(|name| position(name)).collect::<Option<Vec<usize>>>().ok_or_else(|| {
            DataError::Streaming(format!(
                "the key columns were not found among the file's first columns: {}",
                path.display()
            ))
        })?;
    Ok(Pins {
        positions,
        head_warnings: typed.warnings.clone(),
        dialect,
        id,
        layout,
        day_offset: options.formats.day_offset_minutes()?,
        allow_old_dates: options.formats.allow_old_dates,
        amount,
    })
}

/// The position of the last `\n` of `bytes` that ends a row: outside a quoted field.
fn last_line_end_outside_quotes(bytes: &[u8], quote: char) -> Option<usize> {
    let quote = u8::try_from(quote).ok().filter(u8::is_ascii)?;
    let mut quoted = false;
    let mut last = None;
    for (i, &b) in bytes.iter().enumerate() {
        if b == quote {
            quoted = !quoted;
        } else if b == b'\n' && !quoted {
            last = Some(i);
        }
    }
    last
}

/// Cells of one column the pinned reading could not read: how many, and up to three examples.
#[derive(Debug, Default)]
struct Unread {
    count: usize,
    examples: Vec<String>,
}

/// The unread cells of the id, date and amount columns, shared with polars' worker threads.
#[derive(Clone, Default)]
struct Tallies {
    ids: Arc<Mutex<Unread>>,
    dates: Arc<Mutex<Unread>>,
    amounts: Arc<Mutex<Unread>>,
}

/// Cells one batch could not read: counted, with the first three kept as examples.
#[derive(Default)]
struct Misread {
    count: usize,
    examples: Vec<String>,
}

impl Misread {
    fn note(&mut self, cell: &str) {
        self.count += 1;
        if self.examples.len() < 3 {
            self.examples.push(cell.to_string());
        }
    }

    fn into_tally(self, into: &Mutex<Unread>) {
        tally(into, self.count, self.examples);
    }
}

fn tally(into: &Mutex<Unread>, count: usize, examples: Vec<String>) {
    if count == 0 {
        return;
    }
    let mut unread = into.lock().unwrap_or_else(PoisonError::into_inner);
    unread.count += count;
    for example in examples {
        if unread.examples.len() < 3 && !unread.examples.contains(&example) {
            unread.examples.push(example);
        }
    }
}

fn take(from: &Mutex<Unread>) -> Unread {
    std::mem::take(&mut *from.lock().unwrap_or_else(PoisonError::into_inner))
}

impl Tallies {
    /// Refuses the log for ids or amounts the pinned readings could not read, and for dates unless
    /// the user asked to drop or keep them; the warnings for dates dropped.
    fn check(&self, spec: &TransactionColumns, options: &ReadOptions, pins: &Pins) -> Result<Vec<String>, DataError> {
        let examples = |u: &Unread| u.examples.iter().map(|e| quoted(e)).collect::<Vec<_>>().join(", ");
        let ids = take(&self.ids);
        if ids.count > 0 {
            let problem = match pins.id {
                IdReading::Integer => format!(
                    "is read as whole-number ids from the file's first rows, but {} later value(s) are not, or have leading zeros that would merge them with another id (for example {}). Read the ids as text (--read-as {}=text)",
                    ids.count,
                    examples(&ids),
                    spec.customer_id
                ),
                IdReading::Text { .. } => format!(
                    "has {} value(s) with spaces before a quoted id (for example {}), which the streaming read would take as other customers; remove the spaces or read the file without --streaming",
                    ids.count,
                    examples(&ids)
                ),
            };
            return Err(DataError::BadColumn { column: spec.customer_id.clone(), problem });
        }
        let amounts = take(&self.amounts);
        if amounts.count > 0 {
            let how = match &pins.amount {
                Some(AmountReading::Formatted { mark, .. }) => format!("numbers with {}", mark.describe()),
                _ => "plain numbers".to_string(),
            };
            return Err(DataError::BadColumn {
                column: spec.amount_name().to_string(),
                problem: format!(
                    "is read as {how} from the file's first rows, but {} later value(s) do not read so (for example {}); nothing is read at a wrong magnitude: correct the values or set the decimal mark (--decimal-comma)",
                    amounts.count,
                    examples(&amounts)
                ),
            });
        }
        let unread_dates = take(&self.dates);
        let mut warnings = Vec::new();
        if unread_dates.count > 0 {
            let old = if pins.allow_old_dates { "" } else { " (or are before 1900: --allow-old-dates)" };
            let line = format!(
                "{} value(s) do not read as {} as the file's first rows do{old} (for example {})",
                unread_dates.count,
                pins.layout.describe(),
                examples(&unread_dates)
            );
            match options.formats.unparsed_dates {
                UnparsedDates::Refuse => {
                    return Err(DataError::BadColumn {
                        column: spec.date.clone(),
                        problem: format!(
                            "has {line}; give the format (--date-format), or drop those rows (--unparsed-dates drop)"
                        ),
                    });
                }
                UnparsedDates::Drop => {
                    warnings.push(format!("column {}: {line}; those rows were left out", quoted(&spec.date)));
                }
                UnparsedDates::Fallback => {
                    warnings.push(format!("column {}: {line}; read as missing", quoted(&spec.date)));
                }
            }
        }
        Ok(warnings)
    }
}

/// Streams the file through polars: text batches, typed by the pinned readings in polars' threads,
/// handed to the aggregation in file order.
fn stream_typed(
    path: &Path,
    drop_unparsed: bool,
    pins: &Pins,
    tallies: &Tallies,
    aggregation: Arc<Mutex<Aggregation>>,
) -> Result<(), DataError> {
    let Delimiter::Char(delimiter) = pins.dialect.delimiter else {
        return Err(DataError::Streaming("the streaming read takes one delimiter character".into()));
    };
    let ascii = |c: char, what: &str| {
        u8::try_from(c).ok().filter(u8::is_ascii).ok_or_else(|| {
            DataError::Streaming(format!(
                "the streaming read takes an ASCII {what}, and this file's is {}; read it without --streaming",
                quoted(&c.to_string())
            ))
        })
    };
    let source = PlRefPath::try_from_path(path)?;
    let frame = LazyCsvReader::new(source)
        .with_glob(false)
        .with_has_header(pins.dialect.has_header)
        .with_separator(ascii(delimiter, "delimiter")?)
        .with_quote_char(Some(ascii(pins.dialect.quote, "quote character")?))
        // No types inferred: every cell reaches the pinned readings as the text written.
        .with_infer_schema_length(Some(0))
        .with_encoding(CsvEncoding::Utf8)
        // A row with fewer fields than the header reads as if they were empty (polars cannot tell
        // them apart): a missing id, date or amount is then counted as incomplete and dropped.
        .with_missing_is_null(true)
        .finish()?;
    let mut frame = frame;
    let polars_names: Vec<String> = frame.collect_schema()?.iter_names().map(|n| n.to_string()).collect();
    let polars_name = |at: usize| {
        polars_names.get(at).cloned().ok_or_else(|| {
            DataError::Streaming(format!(
                "polars reads {} columns in the header where Strata's reader reads more; read the file without --streaming: {}",
                polars_names.len(),
                path.display()
            ))
        })
    };
    let (id_name, date_name) = (polars_name(pins.positions[0])?, polars_name(pins.positions[1])?);
    let amount_name = match pins.positions.get(2) {
        Some(&at) => Some(polars_name(at)?),
        None => None,
    };

    let quote = pins.dialect.quote;
    let id = {
        let (reading, tally_into) = (pins.id, Arc::clone(&tallies.ids));
        let dtype = match reading {
            IdReading::Integer => DataType::Int64,
            IdReading::Text { .. } => DataType::String,
        };
        col(id_name.as_str())
            .map(
                move |c| read_ids(&c, reading, quote, &tally_into),
                move |_, f| Ok(Field::new(f.name().clone(), dtype.clone())),
            )
            .alias("__id")
    };
    let day = {
        let (layout, offset, old, tally_into) =
            (pins.layout.clone(), pins.day_offset, pins.allow_old_dates, Arc::clone(&tallies.dates));
        let unparsed = if drop_unparsed { Some(UNPARSED_DROPPED) } else { None };
        col(date_name.as_str())
            .map(
                move |c| read_days(&c, &layout, offset, old, unparsed, &tally_into),
                |_, f| Ok(Field::new(f.name().clone(), DataType::Int32)),
            )
            .alias("__day")
    };
    let amount = match (&amount_name, &pins.amount) {
        (Some(name), Some(reading)) => {
            let (reading, tally_into) = (reading.clone(), Arc::clone(&tallies.amounts));
            col(name.as_str())
                .map(
                    move |c| read_amounts(&c, &reading, &tally_into),
                    |_, f| Ok(Field::new(f.name().clone(), DataType::Float64)),
                )
                .alias("__amount")
        }
        _ => lit(1.0f64).alias("__amount"),
    };
    let failure: Arc<Mutex<Option<DataError>>> = Arc::default();
    let sink_failure = Arc::clone(&failure);
    let callback = PlanCallback::new(move |batch: DataFrame| {
        let mut aggregation = aggregation.lock().unwrap_or_else(PoisonError::into_inner);
        if let Err(e) = aggregation.add(&batch) {
            *sink_failure.lock().unwrap_or_else(PoisonError::into_inner) = Some(e);
            return Ok(true);
        }
        Ok(false)
    });
    frame
        .select([id, day, amount])
        .sink_batches(callback, true, std::num::NonZeroUsize::new(BATCH_ROWS))?
        .collect_with_engine(Engine::Streaming)
        .map_err(|e| streaming_error(path, e))?;
    match failure.lock().unwrap_or_else(PoisonError::into_inner).take() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Polars' words for a file it could not stream, with what to do.
fn streaming_error(path: &Path, error: PolarsError) -> DataError {
    let message = error.to_string();
    let first = message.lines().next().unwrap_or_default();
    let first: String = first.chars().take(300).collect();
    DataError::Streaming(format!(
        "the file could not be streamed ({first}); a malformed row (more fields than the header, an unterminated quote) or bytes that are not UTF-8 stop the streaming read: read it without --streaming to see the rows and skip them: {}",
        path.display()
    ))
}

fn strings(column: &Column) -> PolarsResult<StringChunked> {
    Ok(column.as_materialized_series().str()?.clone())
}

fn read_ids(column: &Column, reading: IdReading, quote: char, unread: &Mutex<Unread>) -> PolarsResult<Column> {
    let texts = strings(column)?;
    let name = column.name().clone();
    Ok(match reading {
        IdReading::Integer => {
            let mut misread = Misread::default();
            let ids: Int64Chunked = texts
                .iter()
                .map(|cell| {
                    let t = cell?.trim();
                    if is_missing(t) {
                        return None;
                    }
                    let leading_zero = t.len() >= 2 && t.starts_with('0') && t.bytes().all(|b| b.is_ascii_digit());
                    let id = t.parse::<i64>().ok().filter(|_| !leading_zero);
                    if id.is_none() {
                        misread.note(t);
                    }
                    id
                })
                .collect();
            misread.into_tally(unread);
            ids.with_name(name).into_column()
        }
        IdReading::Text { na_is_code } => {
            // Spaces before a quoted id: Strata's reader unquotes it, polars keeps the text as written,
            // which would make another customer of it; refused instead.
            let mut misread = Misread::default();
            let ids: StringChunked = texts
                .iter()
                .map(|cell| {
                    let cell = cell.filter(|s| !is_missing_text(s, na_is_code))?;
                    if cell.starts_with(char::is_whitespace) && cell.trim_start().starts_with(quote) {
                        misread.note(cell);
                        return None;
                    }
                    Some(cell)
                })
                .collect();
            misread.into_tally(unread);
            ids.with_name(name).into_column()
        }
    })
}

/// The day a date that did not parse is given when the user asked to drop such rows: the
/// aggregation leaves the row out entirely, as the in-memory read does.
const UNPARSED_DROPPED: i32 = i32::MIN;

fn read_days(
    column: &Column,
    layout: &DateLayout,
    day_offset: i32,
    allow_old_dates: bool,
    unparsed: Option<i32>,
    unread: &Mutex<Unread>,
) -> PolarsResult<Column> {
    let texts = strings(column)?;
    let earliest = dates::earliest_plausible_day();
    let mut misread = Misread::default();
    let days: Int32Chunked = texts
        .iter()
        .map(|cell| {
            let t = cell?.trim();
            if is_missing(t) {
                return None;
            }
            let day = layout
                .parse(t)
                .and_then(|p| p.at_offset(day_offset))
                .and_then(|s| i32::try_from(s.days()).ok())
                .filter(|&d| allow_old_dates || d >= earliest);
            if day.is_none() {
                misread.note(t);
                return unparsed;
            }
            day
        })
        .collect();
    misread.into_tally(unread);
    Ok(days.with_name(column.name().clone()).into_column())
}

fn read_amounts(column: &Column, reading: &AmountReading, unread: &Mutex<Unread>) -> PolarsResult<Column> {
    let texts = strings(column)?;
    let mut misread = Misread::default();
    let amounts: Float64Chunked = texts
        .iter()
        .map(|cell| {
            let t = cell?.trim();
            if is_missing(t) {
                return None;
            }
            let value = read_amount(t, reading);
            if value.is_none() {
                misread.note(t);
            }
            value
        })
        .collect();
    misread.into_tally(unread);
    Ok(amounts.with_name(column.name().clone()).into_column())
}

/// One amount by the pinned reading; `None` when it does not read so.
fn read_amount(t: &str, reading: &AmountReading) -> Option<f64> {
    match reading {
        AmountReading::Plain => parse_float(t),
        AmountReading::Formatted { mark, currency, percent } => {
            let d = numbers::decorate(t)?;
            if d.percent != *percent || !numbers::same_currency_or_none(d.currency, currency.as_deref()) {
                return None;
            }
            let v = numbers::core_value(d.core, *mark)?;
            let v = if d.negative { -v } else { v };
            Some(if d.percent { v / 100.0 } else { v })
        }
    }
}

/// A customer's running figures: first and last day, transactions and total, in file order.
#[derive(Clone, Copy, Debug)]
struct Figures {
    first: i32,
    last: i32,
    count: i64,
    total: f64,
}

/// Everything the aggregation keeps while the batches stream by: per-customer figures and counts of
/// transactions by day (for the as-of date and the dates too old to be right), no rows.
struct Accumulator<K> {
    customers: PlHashMap<K, Figures>,
    /// Complete transactions per day, on or before an explicit as-of date and after it.
    days: BTreeMap<i32, u64>,
    as_of: Option<i32>,
    since: Option<i32>,
    incomplete: usize,
    before_window: usize,
    negative: usize,
    /// The latest date of any row in the window, complete or not (the default as-of date follows it).
    latest: Option<i32>,
}

enum Aggregation {
    Integer(Accumulator<i64>),
    Text(Accumulator<String>),
}

impl Aggregation {
    fn add(&mut self, batch: &DataFrame) -> Result<(), DataError> {
        let days = batch.column("__day")?.as_materialized_series().i32()?.clone();
        let amounts = batch.column("__amount")?.as_materialized_series().f64()?.clone();
        let ids = batch.column("__id")?.as_materialized_series().clone();
        match self {
            Aggregation::Integer(acc) => acc.add(ids.i64()?.iter(), &days, &amounts),
            Aggregation::Text(acc) => acc.add(ids.str()?.iter().map(|s| s.map(str::to_string)), &days, &amounts),
        }
        Ok(())
    }
}

impl<K: Hash + Eq + Ord + Clone> Accumulator<K> {
    fn new(spec: &TransactionColumns) -> Self {
        Self {
            customers: PlHashMap::new(),
            days: BTreeMap::new(),
            as_of: spec.as_of.map(days_from_date),
            since: spec.since.map(days_from_date),
            incomplete: 0,
            before_window: 0,
            negative: 0,
            latest: None,
        }
    }

    fn add(&mut self, ids: impl Iterator<Item = Option<K>>, days: &Int32Chunked, amounts: &Float64Chunked) {
        for ((id, day), amount) in ids.zip(days.iter()).zip(amounts.iter()) {
            if day == Some(UNPARSED_DROPPED) {
                continue;
            }
            if let (Some(since), Some(d)) = (self.since, day)
                && d < since
            {
                self.before_window += 1;
                continue;
            }
            if let Some(d) = day {
                self.latest = Some(self.latest.map_or(d, |l| l.max(d)));
            }
            if amount.is_some_and(|a| a < 0.0) {
                self.negative += 1;
            }
            let (Some(id), Some(day), Some(amount)) = (id, day, amount.filter(|a| a.is_finite())) else {
                self.incomplete += 1;
                continue;
            };
            *self.days.entry(day).or_default() += 1;
            if self.as_of.is_some_and(|as_of| day > as_of) {
                continue;
            }
            self.customers
                .entry(id)
                .and_modify(|f| {
                    f.first = f.first.min(day);
                    f.last = f.last.max(day);
                    f.count += 1;
                    f.total += amount;
                })
                .or_insert(Figures { first: day, last: day, count: 1, total: amount });
        }
    }

    /// The customer table and the warnings, with the in-memory path's checks and words.
    fn finish<C>(
        self,
        spec: &TransactionColumns,
        allow_old_dates: bool,
        mut warnings: Vec<String>,
        id_column: impl FnOnce(Vec<K>) -> C,
    ) -> Result<RfmResult, DataError>
    where
        C: Into<Column>,
    {
        if self.before_window > 0
            && let Some(since) = spec.since
        {
            warnings.push(format!(
                "{} transaction(s) before {since}, the start of the window, were left out",
                self.before_window
            ));
        }
        if self.negative > 0 {
            if spec.negative_amounts == NegativeAmounts::Forbid {
                return Err(DataError::BadColumn {
                    column: spec.amount_name().to_string(),
                    problem: format!(
                        "has {} negative amount(s), which the column's rule forbids; allow them or clean the data",
                        self.negative
                    ),
                });
            }
            warnings.push(format!(
                "{} transaction(s) have a negative amount (returns or refunds); they are kept and reduce the customer's total",
                self.negative
            ));
        }
        let Some(max_day) = self.latest else {
            return Err(DataError::BadColumn { column: spec.date.clone(), problem: "has no dates".into() });
        };
        let as_of = spec.as_of.unwrap_or_else(|| super::rfm::date_from_days(max_day + 1));
        let as_of_days = days_from_date(as_of);
        let oldest = if allow_old_dates { i32::MIN } else { as_of_days - 36_525 };
        let after: u64 = self.days.range(as_of_days.saturating_add(1)..).map(|(_, n)| n).sum();
        let old: u64 = self.days.range(..oldest).map(|(_, n)| n).sum();
        let used: u64 = self.days.range(..=as_of_days).map(|(_, n)| n).sum();
        let counts =
            RowCounts { incomplete: self.incomplete, after: after as usize, old: old as usize, used: used as usize };
        say_row_counts(spec, &counts, as_of, &mut warnings)?;
        let mut customers: Vec<(K, Figures)> = self.customers.into_iter().collect();
        customers.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let n_overflowed = customers.iter().filter(|(_, f)| !f.total.is_finite()).count();
        if n_overflowed > 0 {
            return Err(DataError::BadColumn {
                column: spec.amount_name().to_string(),
                problem: format!(
                    "sums to an infinite monetary_total for {n_overflowed} customer(s) (amounts overflow when added); correct or clip the amounts"
                ),
            });
        }
        let figures: Vec<Figures> = customers.iter().map(|(_, f)| *f).collect();
        let ids: Vec<K> = customers.into_iter().map(|(k, _)| k).collect();
        let as_of_i64 = i64::from(as_of_days);
        let mut columns: Vec<Column> = vec![
            id_column(ids).into(),
            Column::new(
                "recency_days".into(),
                figures.iter().map(|f| as_of_i64 - i64::from(f.last)).collect::<Vec<_>>(),
            ),
            Column::new("frequency".into(), figures.iter().map(|f| f.count).collect::<Vec<_>>()),
        ];
        if spec.amount.is_some() {
            columns.push(Column::new("monetary_total".into(), figures.iter().map(|f| f.total).collect::<Vec<_>>()));
            columns.push(Column::new(
                "monetary_mean".into(),
                figures.iter().map(|f| f.total / f.count as f64).collect::<Vec<_>>(),
            ));
        }
        columns.push(Column::new(
            "tenure_days".into(),
            figures.iter().map(|f| as_of_i64 - i64::from(f.first)).collect::<Vec<_>>(),
        ));
        columns.push(
            Column::new("first_purchase".into(), figures.iter().map(|f| f.first).collect::<Vec<_>>())
                .cast(&DataType::Date)?,
        );
        columns.push(
            Column::new("last_purchase".into(), figures.iter().map(|f| f.last).collect::<Vec<_>>())
                .cast(&DataType::Date)?,
        );
        Ok(RfmResult {
            customers: DataFrame::new_infer_height(columns)?,
            as_of,
            n_transactions_used: used as usize,
            n_after_as_of: after as usize,
            n_incomplete_dropped: self.incomplete,
            n_negative_amounts: self.negative,
            warnings,
        })
    }
}

#[cfg(test)]
mod tests;
