//! Readers (CSV, delimited and whitespace-aligned text, Parquet, Excel), column roles and the quality
//! report.
//!
//! Every reader ends in a polars `DataFrame` plus the warnings the input policy asks for, so later
//! stages never care which format the data came from.

pub mod dates;
mod excel;
pub mod formats;
pub mod guesses;
mod infer;
pub mod numbers;
pub mod quality;
pub mod roles;
pub mod sniff;
mod text;
pub mod xlsx;

use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::engine::error::{DataError, quoted};

pub use formats::{ColumnFormat, ColumnReading, ReadAs, ReadingKind, UnparsedDates, ValueFormats};
pub use infer::MISSING_TOKENS;
pub(crate) use infer::{is_missing, is_missing_text, parse_float};
pub use sniff::{Delimiter, Dialect};

/// How to decode bytes that are not valid UTF-8.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TextEncoding {
    /// UTF-8; anything else is an error that offers the other choices.
    #[default]
    Utf8,
    /// Windows-1252 (a superset of Latin-1 for printable characters).
    Windows1252,
    /// UTF-8 with invalid sequences replaced by U+FFFD, counted in a warning.
    Lossy,
}

/// What the user asked of the reader; everything sniffed can be overridden here.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ReadOptions {
    /// Delimiter override; `None` sniffs it.
    pub delimiter: Option<Delimiter>,
    /// Quote character override; `None` sniffs it.
    pub quote: Option<char>,
    /// Whether the first row is a header; `None` sniffs it.
    pub has_header: Option<bool>,
    /// How to decode non-UTF-8 bytes.
    pub encoding: TextEncoding,
    /// Skip malformed rows (ragged, unterminated quote) instead of refusing the file; recorded.
    pub skip_bad_rows: bool,
    /// Read only the first rows, as a preview of a file too large to load whole.
    pub sample_rows: Option<usize>,
    /// How dates and numbers written as text are read when detection is not enough (a date
    /// format, decimal commas, the day offset); written only when set (format 5).
    #[serde(default, skip_serializing_if = "ValueFormats::is_default")]
    pub formats: ValueFormats,
}

/// The file formats Strata reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FileFormat {
    /// Delimited or whitespace-aligned text.
    Text,
    /// Apache Parquet.
    Parquet,
    /// Excel workbook (first sheet).
    Excel,
}

impl FileFormat {
    /// The format a path's extension names.
    pub fn from_path(path: &Path) -> Result<Self, DataError> {
        let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
        match extension.as_str() {
            "csv" | "tsv" | "txt" | "dat" | "tab" | "psv" => Ok(Self::Text),
            "parquet" | "pq" => Ok(Self::Parquet),
            "xlsx" | "xlsm" | "xls" => Ok(Self::Excel),
            _ => Err(DataError::UnknownFormat { path: path.to_path_buf(), extension }),
        }
    }
}

/// A table as read, with everything the reader changed or noticed on the way.
#[derive(Clone, Debug)]
pub struct LoadedTable {
    /// The data.
    pub frame: DataFrame,
    /// Where it came from.
    pub path: PathBuf,
    /// The dialect used for text files (sniffed or given).
    pub dialect: Option<Dialect>,
    /// Rows skipped because they were malformed (1-based line numbers), when the user asked to skip.
    pub skipped_lines: Vec<usize>,
    /// Characters replaced while decoding (lossy decoding only).
    pub replaced_chars: usize,
    /// Whether only a sample of the file was read.
    pub is_sample: bool,
    /// Human-readable warnings: what was changed and why.
    pub warnings: Vec<String>,
    /// How each column that looked like dates or formatted numbers was read (text files and
    /// Excel text cells), one sentence each, for the Data screen and the CLI.
    pub readings: Vec<ColumnReading>,
}

impl LoadedTable {
    /// The rows (0-based, sorted) whose value in a date column did not parse and that stay in the
    /// table for the fallback segment.
    pub fn unparsed_date_rows(&self) -> Vec<usize> {
        let mut rows: Vec<usize> = self.readings.iter().flat_map(|r| r.unparsed_rows.iter().copied()).collect();
        rows.sort_unstable();
        rows.dedup();
        rows
    }

    /// A table from a binary format (Parquet, Excel): no dialect, nothing skipped or decoded.
    fn binary(frame: DataFrame, path: &Path, options: &ReadOptions, warnings: Vec<String>) -> Self {
        Self {
            frame,
            path: path.to_path_buf(),
            dialect: None,
            skipped_lines: Vec::new(),
            replaced_chars: 0,
            is_sample: options.sample_rows.is_some(),
            warnings,
            readings: Vec::new(),
        }
    }
}

/// Reads a data file of any supported format.
pub fn read_table(path: &Path, options: &ReadOptions) -> Result<LoadedTable, DataError> {
    read_table_with(path, options, None, &[])
}

/// Reads only the named columns where the format allows (Parquet reads nothing else from disk; text
/// and Excel skip typing the others), or every column for `None`.
pub fn read_table_columns(
    path: &Path,
    options: &ReadOptions,
    columns: Option<&[String]>,
) -> Result<LoadedTable, DataError> {
    read_table_with(path, options, columns, &[])
}

/// As [`read_table_columns`], keeping the `text_columns` (such as the customer id) as the text
/// written in the file whatever they look like: `00042` stays `00042`, never the number 42.
pub fn read_table_with(
    path: &Path,
    options: &ReadOptions,
    columns: Option<&[String]>,
    text_columns: &[String],
) -> Result<LoadedTable, DataError> {
    read_table_formatted(path, options, &options.formats, columns, text_columns)
}

/// As [`read_table_with`], reading dates and numbers written as text as `formats` asks (an explicit
/// date format, marked date columns, the decimal mark, the day offset, old dates).
pub fn read_table_formatted(
    path: &Path,
    options: &ReadOptions,
    formats: &ValueFormats,
    columns: Option<&[String]>,
    text_columns: &[String],
) -> Result<LoadedTable, DataError> {
    formats.check()?;
    let format = FileFormat::from_path(path)?;
    let size = file_size(path)?;
    if options.sample_rows.is_none() {
        check_memory(path, size, format)?;
    }
    match format {
        FileFormat::Text => {
            let bytes = read_bytes(path, options.sample_rows.map(|_| SAMPLE_BYTES))?;
            text::read_text_bytes(&bytes, path, options, formats, columns, text_columns)
        }
        FileFormat::Parquet => read_parquet(path, options, columns, text_columns),
        FileFormat::Excel => excel::read_excel(path, options, formats, columns, text_columns),
    }
}

/// Reads text data already in memory (the built-in demo, tests); `name` stands in for the path.
pub fn read_text(bytes: &[u8], name: &Path, options: &ReadOptions) -> Result<LoadedTable, DataError> {
    read_text_with(bytes, name, options, None, &[])
}

/// As [`read_text`], typing only the named columns.
pub fn read_text_columns(
    bytes: &[u8],
    name: &Path,
    options: &ReadOptions,
    columns: Option<&[String]>,
) -> Result<LoadedTable, DataError> {
    read_text_with(bytes, name, options, columns, &[])
}

/// As [`read_text_columns`], keeping the `text_columns` as the text written, never typed.
pub fn read_text_with(
    bytes: &[u8],
    name: &Path,
    options: &ReadOptions,
    columns: Option<&[String]>,
    text_columns: &[String],
) -> Result<LoadedTable, DataError> {
    read_text_formatted(bytes, name, options, &options.formats, columns, text_columns)
}

/// As [`read_text_with`], reading dates and numbers written as text as `formats` asks.
pub fn read_text_formatted(
    bytes: &[u8],
    name: &Path,
    options: &ReadOptions,
    formats: &ValueFormats,
    columns: Option<&[String]>,
    text_columns: &[String],
) -> Result<LoadedTable, DataError> {
    formats.check()?;
    text::read_text_bytes(bytes, name, options, formats, columns, text_columns)
}

/// Opens a data file for reading, refusing anything that is not a regular file (a named pipe would
/// block forever, a device such as `/dev/zero` never ends) before a byte is read. Symbolic links are
/// followed: a link to a regular file is fine.
pub fn open_data_file(path: &Path) -> Result<std::fs::File, DataError> {
    let io = |source| DataError::Io { path: path.to_path_buf(), source };
    check_regular_file(path, &std::fs::metadata(path).map_err(io)?)?;
    let mut open = std::fs::OpenOptions::new();
    open.read(true);
    // Non-blocking, so that a path swapped for a named pipe after the check cannot block the open.
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        open.custom_flags(libc::O_NONBLOCK);
    }
    let file = open.open(path).map_err(io)?;
    // Checked again on what was opened: the path may have changed since it was looked at.
    check_regular_file(path, &file.metadata().map_err(io)?)?;
    Ok(file)
}

/// The size in bytes of a data file, refusing anything that is not a regular file as
/// [`open_data_file`] does.
pub fn file_size(path: &Path) -> Result<u64, DataError> {
    let metadata = std::fs::metadata(path).map_err(|source| DataError::Io { path: path.to_path_buf(), source })?;
    check_regular_file(path, &metadata)?;
    Ok(metadata.len())
}

/// Refuses metadata that is not a regular file's, naming what it is and where the path leads.
fn check_regular_file(path: &Path, metadata: &std::fs::Metadata) -> Result<(), DataError> {
    let file_type = metadata.file_type();
    if file_type.is_file() {
        return Ok(());
    }
    let kind = special_file_kind(&file_type);
    let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    Err(DataError::NotARegularFile { path: path.to_path_buf(), kind, target })
}

/// What a file that is not a regular file is, with its article.
fn special_file_kind(file_type: &std::fs::FileType) -> &'static str {
    if file_type.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if file_type.is_socket() {
            return "a socket";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
    }
    "not a regular file but a special file"
}

/// How much of a text file a sample reads.
const SAMPLE_BYTES: u64 = 16 * 1024 * 1024;

fn read_bytes(path: &Path, limit: Option<u64>) -> Result<Vec<u8>, DataError> {
    use std::io::Read;
    let io = |source| DataError::Io { path: path.to_path_buf(), source };
    let file = open_data_file(path)?;
    // Sized from the file's length, so reading never regrows (and recopies) the buffer.
    let size = file.metadata().map_or(0, |m| m.len());
    match limit {
        Some(limit) => {
            let mut bytes = Vec::with_capacity(limit.min(size) as usize + 1);
            file.take(limit).read_to_end(&mut bytes).map_err(io)?;
            // Cut at the last complete line so the sample ends on a whole row.
            if bytes.len() as u64 == limit
                && let Some(end) = bytes.iter().rposition(|&b| b == b'\n')
            {
                bytes.truncate(end + 1);
            }
            Ok(bytes)
        }
        None => read_whole(file, size).map_err(io),
    }
}

/// A file's every byte, `size` of them expected. In pieces at their offsets, in parallel: copying
/// a large file out of the page cache is the kernel's work, which two threads do in half the time.
/// The buffer is zeroed memory the system hands over untouched; a file that grew since is read to
/// its end, one that shrank is an error.
#[cfg(unix)]
fn read_whole(file: std::fs::File, size: u64) -> std::io::Result<Vec<u8>> {
    use rayon::prelude::*;
    use std::io::{Read, Seek, SeekFrom};
    use std::os::unix::fs::FileExt;
    const PIECE: usize = 8 << 20;
    let mut bytes = vec![0; usize::try_from(size).map_err(std::io::Error::other)?];
    advise_huge_pages(&mut bytes);
    bytes.par_chunks_mut(PIECE).enumerate().try_for_each(|(k, piece)| file.read_exact_at(piece, (k * PIECE) as u64))?;
    let mut file = file;
    file.seek(SeekFrom::Start(size))?;
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Asks the kernel to back a large fresh buffer with 2 MB pages where it can (transparent huge
/// pages, where the system leaves them to the program to ask for): a buffer of hundreds of
/// megabytes is otherwise faulted in 4 KB at a time, and on a ten-million-row file those faults
/// were a quarter of the load's time. A hint on memory not yet touched: the contents never change,
/// and nothing does at all where the kernel declines or the system is not Linux.
pub(crate) fn advise_huge_pages<T>(buffer: &mut [T]) {
    #[cfg(target_os = "linux")]
    {
        const PAGE: usize = 4096;
        const WORTH: usize = 4 << 20;
        let (start, len) = (buffer.as_mut_ptr() as usize, std::mem::size_of_val(buffer));
        let first = start.next_multiple_of(PAGE);
        let end = (start + len) / PAGE * PAGE;
        if end > first && end - first >= WORTH {
            // SAFETY: the range lies within `buffer`, which this borrow holds; MADV_HUGEPAGE
            // changes how its pages are backed, never what they hold.
            unsafe { libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE) };
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = buffer;
}

#[cfg(not(unix))]
fn read_whole(mut file: std::fs::File, size: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::with_capacity(size as usize + 1);
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Refuses a file that would not fit in memory, before reading it.
fn check_memory(path: &Path, size_bytes: u64, format: FileFormat) -> Result<(), DataError> {
    match available_memory() {
        Some(limit) => check_memory_within(path, size_bytes, format, limit),
        None => Ok(()),
    }
}

/// Refuses a file of `size_bytes` when loading it would need more than `available_bytes`.
pub fn check_memory_against(
    path: &Path,
    size_bytes: u64,
    format: FileFormat,
    available_bytes: u64,
) -> Result<(), DataError> {
    check_memory_within(path, size_bytes, format, MemoryLimit { available_bytes, source: MEM_AVAILABLE })
}

/// Refuses a file of `size_bytes` when loading it would need more than the limit allows, naming it.
pub fn check_memory_within(
    path: &Path,
    size_bytes: u64,
    format: FileFormat,
    limit: MemoryLimit,
) -> Result<(), DataError> {
    // Text expands into per-cell strings before it becomes columns; Parquet decompresses.
    let factor = match format {
        FileFormat::Text => 6,
        FileFormat::Parquet => 10,
        FileFormat::Excel => 20,
    };
    let needed = size_bytes.saturating_mul(factor);
    if needed > limit.available_bytes {
        return Err(DataError::TooLarge {
            path: path.to_path_buf(),
            needed_mib: needed >> 20,
            available_mib: limit.available_bytes >> 20,
            limit: limit.source,
        });
    }
    Ok(())
}

/// Memory this process may still use under one limit, and which limit that is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryLimit {
    /// Bytes still available under the limit.
    pub available_bytes: u64,
    /// The limit, as a message names it, e.g. "the process's address-space limit (RLIMIT_AS)".
    pub source: &'static str,
}

const MEM_AVAILABLE: &str = "the memory the system has available (MemAvailable)";
const RLIMIT_AS_NAME: &str = "the process's address-space limit (RLIMIT_AS)";
const RLIMIT_DATA_NAME: &str = "the process's data-segment limit (RLIMIT_DATA)";
const CGROUP_V2_NAME: &str = "the container's memory limit (cgroup memory.max)";
const CGROUP_V1_NAME: &str = "the container's memory limit (cgroup memory.limit_in_bytes)";

/// Limits at or above this are "unlimited" written as a number (cgroup v1 writes 2^63 rounded down
/// to a page, 9223372036854771712).
const ABSURD_LIMIT_BYTES: u64 = 1 << 60;

/// A resource limit of this process in bytes; `None` when unlimited or unknown.
#[cfg(unix)]
macro_rules! rlimit_bytes {
    ($resource:expr) => {{
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit only writes the struct it is given.
        let status = unsafe { libc::getrlimit($resource, &mut limit) };
        if status != 0 || limit.rlim_cur == libc::RLIM_INFINITY {
            None
        } else {
            let bytes: u64 = limit.rlim_cur;
            (bytes < ABSURD_LIMIT_BYTES).then_some(bytes)
        }
    }};
}

/// Memory available to this process now, where the platform says: the smallest of what the system
/// has available, the process's address-space and data limits and its cgroup's limit.
pub fn available_memory_bytes() -> Option<u64> {
    available_memory().map(|limit| limit.available_bytes)
}

/// As [`available_memory_bytes`], with which limit is the smallest.
pub fn available_memory() -> Option<MemoryLimit> {
    let read = |path: &str| std::fs::read_to_string(path).ok();
    let status = read("/proc/self/status");
    let mut limits = Vec::new();
    if let Some(bytes) = read("/proc/meminfo").as_deref().and_then(parse_meminfo_available) {
        limits.push(MemoryLimit { available_bytes: bytes, source: MEM_AVAILABLE });
    }
    #[cfg(unix)]
    {
        // The address-space limit counts what is mapped already, the data limit what is allocated.
        let used = |key: &str| status.as_deref().and_then(|s| parse_status_kib(s, key)).unwrap_or(0);
        if let Some(limit) = rlimit_bytes!(libc::RLIMIT_AS) {
            limits.push(MemoryLimit { available_bytes: limit.saturating_sub(used("VmSize:")), source: RLIMIT_AS_NAME });
        }
        if let Some(limit) = rlimit_bytes!(libc::RLIMIT_DATA) {
            limits
                .push(MemoryLimit { available_bytes: limit.saturating_sub(used("VmData:")), source: RLIMIT_DATA_NAME });
        }
    }
    #[cfg(not(unix))]
    let _ = status;
    if let Some(cgroup) = read("/proc/self/cgroup").as_deref().and_then(parse_cgroup_v2_path) {
        let mut dir = Path::new("/sys/fs/cgroup").join(cgroup.trim_start_matches('/'));
        // A limit may be set on any ancestor; the tightest one counts.
        loop {
            let max = read(&dir.join("memory.max").to_string_lossy()).as_deref().and_then(parse_cgroup_limit);
            let current = read(&dir.join("memory.current").to_string_lossy()).as_deref().and_then(parse_cgroup_limit);
            if let Some(max) = max {
                limits.push(MemoryLimit {
                    available_bytes: max.saturating_sub(current.unwrap_or(0)),
                    source: CGROUP_V2_NAME,
                });
            }
            if dir == Path::new("/sys/fs/cgroup") || !dir.pop() {
                break;
            }
        }
    }
    let v1 = Path::new("/sys/fs/cgroup/memory");
    if let Some(max) = read(&v1.join("memory.limit_in_bytes").to_string_lossy()).as_deref().and_then(parse_cgroup_limit)
    {
        let usage = read(&v1.join("memory.usage_in_bytes").to_string_lossy()).as_deref().and_then(parse_cgroup_limit);
        limits.push(MemoryLimit { available_bytes: max.saturating_sub(usage.unwrap_or(0)), source: CGROUP_V1_NAME });
    }
    smallest_limit(&limits)
}

/// The smallest of several limits (the first of equals).
pub fn smallest_limit(limits: &[MemoryLimit]) -> Option<MemoryLimit> {
    limits.iter().copied().reduce(|a, b| if b.available_bytes < a.available_bytes { b } else { a })
}

/// `MemAvailable` from the text of `/proc/meminfo`, in bytes.
pub fn parse_meminfo_available(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// A `key` line (such as `VmSize:`) of `/proc/self/status`, in bytes.
pub fn parse_status_kib(status: &str, key: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// The cgroup v2 path (`0::/path`) from the text of `/proc/self/cgroup`.
pub fn parse_cgroup_v2_path(proc_cgroup: &str) -> Option<String> {
    let path = proc_cgroup.lines().find_map(|l| l.strip_prefix("0::"))?.trim();
    // Refuse anything that could climb out of /sys/fs/cgroup.
    if !path.starts_with('/') || path.split('/').any(|part| part == "..") {
        return None;
    }
    Some(path.to_string())
}

/// A cgroup memory file's value in bytes; `None` for "max", unreadable or absurdly large values.
pub fn parse_cgroup_limit(text: &str) -> Option<u64> {
    let value: u64 = text.trim().parse().ok()?;
    (value < ABSURD_LIMIT_BYTES).then_some(value)
}

fn read_parquet(
    path: &Path,
    options: &ReadOptions,
    columns: Option<&[String]>,
    text_columns: &[String],
) -> Result<LoadedTable, DataError> {
    let parse = |e: PolarsError| DataError::Parse {
        path: path.to_path_buf(),
        format: "Parquet",
        message: short_message(&e.to_string()),
    };
    let file = open_data_file(path)?;
    let mut reader = ParquetReader::new(file);
    if let Some(n) = options.sample_rows {
        reader = reader.with_slice(Some((0, n)));
    }
    if let Some(columns) = columns {
        reader = reader.with_columns(Some(columns.to_vec()));
    }
    let mut frame = reader.finish().map_err(parse)?;
    if frame.height() == 0 {
        return Err(DataError::NoDataRows { path: path.to_path_buf() });
    }
    let mut warnings = Vec::new();
    decimals_to_floats(&mut frame, &mut warnings)?;
    columns_as_text(&mut frame, text_columns)?;
    if options.sample_rows.is_some() {
        warnings.push(format!("only the first {} rows were read (sample)", frame.height()));
    }
    Ok(LoadedTable::binary(frame, path, options, warnings))
}

/// Turns decimal columns (how databases export money) into floating-point numbers, which the rest
/// of Strata computes with; says so where digits beyond a double's 15 may be rounded.
fn decimals_to_floats(frame: &mut DataFrame, warnings: &mut Vec<String>) -> Result<(), DataError> {
    let decimals: Vec<(String, usize)> = frame
        .columns()
        .iter()
        .filter_map(|c| match c.dtype() {
            DataType::Decimal(precision, _) => Some((c.name().to_string(), *precision)),
            _ => None,
        })
        .collect();
    let mut rounded = Vec::new();
    for (name, precision) in decimals {
        let floats = frame.column(&name)?.cast(&DataType::Float64)?;
        frame.with_column(floats)?;
        if precision > 15 {
            rounded.push(name);
        }
    }
    if !rounded.is_empty() {
        warnings.push(format!(
            "{} decimal column(s) with more than 15 digits ({}) were read as floating-point numbers; digits beyond the 15th may be rounded",
            rounded.len(),
            quoted_list(&rounded, 3)
        ));
    }
    Ok(())
}

/// Casts the named columns that exist to text; whole floating-point numbers are written without a
/// decimal point (42.0 as "42"), as an id would have been written.
fn columns_as_text(frame: &mut DataFrame, text_columns: &[String]) -> Result<(), DataError> {
    for name in text_columns {
        let Ok(column) = frame.column(name) else { continue };
        let text = if column.dtype().is_float() {
            let floats = column.cast(&DataType::Float64)?;
            let texts: Vec<Option<String>> = floats.f64()?.iter().map(|v| v.map(|x| format!("{x}"))).collect();
            Column::new(name.as_str().into(), texts)
        } else {
            column.cast(&DataType::String)?
        };
        frame.with_column(text)?;
    }
    Ok(())
}

/// A library's message cut to a few hundred characters: it may embed a value from the file.
fn short_message(message: &str) -> String {
    match message.char_indices().nth(400) {
        Some((at, _)) => format!("{}…", &message[..at]),
        None => message.to_string(),
    }
}

/// Up to `shown` names, quoted and comma-separated, with how many more there are.
pub(crate) fn quoted_list<S: AsRef<str>>(names: &[S], shown: usize) -> String {
    let mut list: Vec<String> = names.iter().take(shown).map(|n| quoted(n.as_ref())).collect();
    if names.len() > shown {
        list.push(format!("… ({} more)", names.len() - shown));
    }
    list.join(", ")
}

/// Per-column notes of one kind, grouped: a kind seen on a few columns keeps one line per column; on
/// more (a wide file), one line counts the columns and names the first few. Kinds stay in the order
/// they first appear.
pub(crate) fn grouped_warnings(notes: Vec<ColumnNote>) -> Vec<String> {
    const LINES_PER_KIND: usize = 3;
    let mut kinds: Vec<&'static str> = Vec::new();
    for note in &notes {
        if !kinds.contains(&note.kind) {
            kinds.push(note.kind);
        }
    }
    let mut out = Vec::new();
    for kind in kinds {
        let of_kind: Vec<&ColumnNote> = notes.iter().filter(|n| n.kind == kind).collect();
        if of_kind.len() <= LINES_PER_KIND {
            out.extend(of_kind.iter().map(|n| n.line.clone()));
        } else {
            let names: Vec<&str> = of_kind.iter().map(|n| n.column.as_str()).collect();
            out.push(format!("{} columns {kind}: {}", of_kind.len(), quoted_list(&names, LINES_PER_KIND)));
        }
    }
    out
}

/// One warning about one column, with its kind for grouping.
#[derive(Clone, Debug)]
pub(crate) struct ColumnNote {
    /// What the columns of this kind have in common, after "N columns ", e.g. "are all missing".
    pub kind: &'static str,
    /// The column.
    pub column: String,
    /// The full sentence for this column.
    pub line: String,
}

/// Writes a table as CSV, Parquet or Excel (.xlsx), chosen by the extension.
pub fn write_table(frame: &mut DataFrame, path: &Path) -> Result<(), DataError> {
    let io = |source| DataError::Io { path: path.to_path_buf(), source };
    let file = std::fs::File::create(path).map_err(io)?;
    match FileFormat::from_path(path)? {
        FileFormat::Parquet => {
            ParquetWriter::new(file).finish(frame)?;
        }
        FileFormat::Text => {
            CsvWriter::new(file).include_header(true).finish(frame)?;
        }
        FileFormat::Excel => {
            drop(file);
            let is_xlsx = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("xlsx"));
            if !is_xlsx {
                let _ = std::fs::remove_file(path);
                return Err(DataError::UnknownFormat {
                    path: path.to_path_buf(),
                    extension: "xls/xlsm/ods (writing); write .xlsx, .csv or .parquet".into(),
                });
            }
            let sheet = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            xlsx::write_xlsx(frame, path, &sheet)?;
        }
    }
    Ok(())
}

/// The names of a frame's columns, comma-separated, for error messages (the first 50 at most, each
/// cut to 200 characters).
pub fn column_list(frame: &DataFrame) -> String {
    const SHOWN: usize = 50;
    let names = frame.get_column_names();
    let mut list: Vec<String> = names
        .iter()
        .take(SHOWN)
        .map(|n| if n.chars().count() > 200 { quoted(n.as_str()) } else { n.to_string() })
        .collect();
    if names.len() > SHOWN {
        list.push(format!("… ({} more)", names.len() - SHOWN));
    }
    list.join(", ")
}

/// A column's values as text (`None` where missing), whatever its type.
pub fn column_texts(frame: &DataFrame, name: &str) -> Result<Vec<Option<String>>, DataError> {
    let as_text = column(frame, name)?.cast(&DataType::String)?;
    Ok(as_text.str()?.iter().map(|v| v.map(str::to_string)).collect())
}

/// Columns of `customers` that could be segmentations (a legacy segment, say): text, whole numbers
/// or booleans with 2 to 60 distinct values, other than the customer id (ids and amounts are not).
pub fn label_columns(customers: &DataFrame, id_column: Option<&str>) -> Vec<String> {
    customers
        .columns()
        .iter()
        .filter(|c| Some(c.name().as_str()) != id_column)
        .filter(|c| c.dtype().is_string() || c.dtype().is_integer() || c.dtype().is_bool())
        .filter(|c| c.n_unique().is_ok_and(|n| (2..=60).contains(&n)))
        .map(|c| c.name().to_string())
        .collect()
}

/// A column by name, or an error that lists the columns that exist.
pub fn column<'a>(frame: &'a DataFrame, name: &str) -> Result<&'a Column, DataError> {
    frame.column(name).map_err(|_| DataError::MissingColumn { column: name.to_string(), available: column_list(frame) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meminfo_and_status_are_parsed() {
        let meminfo = "MemTotal:       16303460 kB\nMemFree:         1170140 kB\nMemAvailable:    8155432 kB\n";
        assert_eq!(parse_meminfo_available(meminfo), Some(8_155_432 * 1024));
        assert_eq!(parse_meminfo_available("MemTotal: 1 kB\n"), None);
        assert_eq!(parse_meminfo_available("MemAvailable: lots kB\n"), None);
        assert_eq!(parse_meminfo_available("MemAvailable: 99999999999999999999 kB\n"), None);
        let status = "Name:\tstrata\nVmPeak:\t  300000 kB\nVmSize:\t  204800 kB\nVmData:\t   10240 kB\n";
        assert_eq!(parse_status_kib(status, "VmSize:"), Some(200 << 20));
        assert_eq!(parse_status_kib(status, "VmData:"), Some(10 << 20));
        assert_eq!(parse_status_kib(status, "VmRSS:"), None);
    }

    #[test]
    fn cgroup_files_are_parsed() {
        assert_eq!(
            parse_cgroup_v2_path("0::/user.slice/user-1000.slice/session-2.scope\n").as_deref(),
            Some("/user.slice/user-1000.slice/session-2.scope")
        );
        // A v1 hierarchy lists controllers; the v2 line is the one with the empty controller list.
        let mixed = "12:memory:/docker/abc\n1:name=systemd:/docker/abc\n0::/docker/abc\n";
        assert_eq!(parse_cgroup_v2_path(mixed).as_deref(), Some("/docker/abc"));
        assert_eq!(parse_cgroup_v2_path("12:memory:/docker/abc\n"), None);
        assert_eq!(parse_cgroup_v2_path("0::/../../etc\n"), None);
        assert_eq!(parse_cgroup_v2_path("0::relative\n"), None);
        assert_eq!(parse_cgroup_v2_path("0::/\n").as_deref(), Some("/"));
        assert_eq!(parse_cgroup_limit("max\n"), None);
        assert_eq!(parse_cgroup_limit("536870912\n"), Some(512 << 20));
        // cgroup v1's "unlimited".
        assert_eq!(parse_cgroup_limit("9223372036854771712\n"), None);
        assert_eq!(parse_cgroup_limit(""), None);
        assert_eq!(parse_cgroup_limit("-1"), None);
    }

    #[test]
    fn the_smallest_limit_wins_and_is_named() {
        let limits = [
            MemoryLimit { available_bytes: 8 << 30, source: MEM_AVAILABLE },
            MemoryLimit { available_bytes: 400 << 20, source: RLIMIT_AS_NAME },
            MemoryLimit { available_bytes: 1 << 30, source: CGROUP_V2_NAME },
        ];
        let smallest = smallest_limit(&limits).unwrap();
        assert_eq!(smallest.source, RLIMIT_AS_NAME);
        assert_eq!(smallest_limit(&[]), None);
        let err = check_memory_within(Path::new("big.csv"), 1 << 30, FileFormat::Parquet, smallest).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("address-space limit (RLIMIT_AS)"), "{message}");
        assert!(message.contains("--sample-rows N"), "{message}");
        assert!(message.ends_with("big.csv"), "{message}");
        // An absurd file size saturates rather than overflows.
        assert!(check_memory_within(Path::new("x.csv"), u64::MAX, FileFormat::Excel, smallest).is_err());
    }

    #[test]
    fn this_process_limits_are_read_without_panicking() {
        if let Some(limit) = available_memory() {
            assert!(limit.available_bytes < ABSURD_LIMIT_BYTES);
        }
    }

    #[test]
    fn repeated_column_warnings_are_grouped() {
        let note =
            |kind, column: &str| ColumnNote { kind, column: column.to_string(), line: format!("{column}: {kind}") };
        let few = grouped_warnings(vec![note("are odd", "a"), note("are odd", "b"), note("are even", "c")]);
        assert_eq!(few, ["a: are odd", "b: are odd", "c: are even"]);
        let many: Vec<ColumnNote> = (0..5).map(|i| note("are odd", &format!("c{i}"))).collect();
        assert_eq!(grouped_warnings(many), ["5 columns are odd: 'c0', 'c1', 'c2', … (2 more)"]);
    }
}
