//! Readers (CSV, delimited and whitespace-aligned text, Parquet, Excel), column roles and the quality
//! report.
//!
//! Every reader ends in a polars `DataFrame` plus the warnings the input policy asks for, so later
//! stages never care which format the data came from.

mod excel;
mod infer;
pub mod quality;
pub mod roles;
pub mod sniff;
mod text;

use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::engine::error::DataError;

pub use infer::MISSING_TOKENS;
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
}

impl LoadedTable {
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
        }
    }
}

/// Reads a data file of any supported format.
pub fn read_table(path: &Path, options: &ReadOptions) -> Result<LoadedTable, DataError> {
    read_table_columns(path, options, None)
}

/// Reads only the named columns where the format allows (Parquet reads nothing else from disk; text
/// and Excel skip typing the others), or every column for `None`.
pub fn read_table_columns(
    path: &Path,
    options: &ReadOptions,
    columns: Option<&[String]>,
) -> Result<LoadedTable, DataError> {
    let format = FileFormat::from_path(path)?;
    let size = std::fs::metadata(path).map_err(|source| DataError::Io { path: path.to_path_buf(), source })?.len();
    if options.sample_rows.is_none() {
        check_memory(path, size, format)?;
    }
    match format {
        FileFormat::Text => {
            let bytes = read_bytes(path, options.sample_rows.map(|_| SAMPLE_BYTES))?;
            text::read_text_bytes(&bytes, path, options, columns)
        }
        FileFormat::Parquet => read_parquet(path, options, columns),
        FileFormat::Excel => excel::read_excel(path, options, columns),
    }
}

/// Reads text data already in memory (the built-in demo, tests); `name` stands in for the path.
pub fn read_text(bytes: &[u8], name: &Path, options: &ReadOptions) -> Result<LoadedTable, DataError> {
    text::read_text_bytes(bytes, name, options, None)
}

/// As [`read_text`], typing only the named columns.
pub fn read_text_columns(
    bytes: &[u8],
    name: &Path,
    options: &ReadOptions,
    columns: Option<&[String]>,
) -> Result<LoadedTable, DataError> {
    text::read_text_bytes(bytes, name, options, columns)
}

/// How much of a text file a sample reads.
const SAMPLE_BYTES: u64 = 16 * 1024 * 1024;

fn read_bytes(path: &Path, limit: Option<u64>) -> Result<Vec<u8>, DataError> {
    use std::io::Read;
    let io = |source| DataError::Io { path: path.to_path_buf(), source };
    let file = std::fs::File::open(path).map_err(io)?;
    // Sized from the file's length, so reading never regrows (and recopies) the buffer.
    let size = file.metadata().map_or(0, |m| m.len());
    let mut bytes = Vec::with_capacity(limit.map_or(size, |l| l.min(size)) as usize + 1);
    match limit {
        Some(limit) => {
            file.take(limit).read_to_end(&mut bytes).map_err(io)?;
            // Cut at the last complete line so the sample ends on a whole row.
            if bytes.len() as u64 == limit
                && let Some(end) = bytes.iter().rposition(|&b| b == b'\n')
            {
                bytes.truncate(end + 1);
            }
        }
        None => {
            let mut file = file;
            file.read_to_end(&mut bytes).map_err(io)?;
        }
    }
    Ok(bytes)
}

/// Refuses a file that would not fit in memory, before reading it.
fn check_memory(path: &Path, size_bytes: u64, format: FileFormat) -> Result<(), DataError> {
    match available_memory_bytes() {
        Some(available) => check_memory_against(path, size_bytes, format, available),
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
    // Text expands into per-cell strings before it becomes columns; Parquet decompresses.
    let factor = match format {
        FileFormat::Text => 6,
        FileFormat::Parquet => 10,
        FileFormat::Excel => 20,
    };
    let needed = size_bytes.saturating_mul(factor);
    if needed > available_bytes {
        return Err(DataError::TooLarge {
            path: path.to_path_buf(),
            needed_mib: needed >> 20,
            available_mib: available_bytes >> 20,
        });
    }
    Ok(())
}

/// Memory available to this process now, where the platform says.
pub fn available_memory_bytes() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn read_parquet(path: &Path, options: &ReadOptions, columns: Option<&[String]>) -> Result<LoadedTable, DataError> {
    let parse =
        |e: PolarsError| DataError::Parse { path: path.to_path_buf(), format: "Parquet", message: e.to_string() };
    let file = std::fs::File::open(path).map_err(|source| DataError::Io { path: path.to_path_buf(), source })?;
    let mut reader = ParquetReader::new(file);
    if let Some(n) = options.sample_rows {
        reader = reader.with_slice(Some((0, n)));
    }
    if let Some(columns) = columns {
        reader = reader.with_columns(Some(columns.to_vec()));
    }
    let frame = reader.finish().map_err(parse)?;
    if frame.height() == 0 {
        return Err(DataError::NoDataRows { path: path.to_path_buf() });
    }
    let mut warnings = Vec::new();
    if options.sample_rows.is_some() {
        warnings.push(format!("only the first {} rows were read (sample)", frame.height()));
    }
    Ok(LoadedTable::binary(frame, path, options, warnings))
}

/// Writes a table as CSV or Parquet, chosen by the extension.
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
            return Err(DataError::UnknownFormat {
                path: path.to_path_buf(),
                extension: "xlsx (writing); write .csv or .parquet".into(),
            });
        }
    }
    Ok(())
}

/// The names of a frame's columns, comma-separated, for error messages.
pub fn column_list(frame: &DataFrame) -> String {
    frame.get_column_names().iter().map(|n| n.as_str()).collect::<Vec<_>>().join(", ")
}

/// A column's values as text (`None` where missing), whatever its type.
pub fn column_texts(frame: &DataFrame, name: &str) -> Result<Vec<Option<String>>, DataError> {
    let as_text = column(frame, name)?.cast(&DataType::String)?;
    Ok(as_text.str()?.iter().map(|v| v.map(str::to_string)).collect())
}

/// A column by name, or an error that lists the columns that exist.
pub fn column<'a>(frame: &'a DataFrame, name: &str) -> Result<&'a Column, DataError> {
    frame.column(name).map_err(|_| DataError::MissingColumn { column: name.to_string(), available: column_list(frame) })
}
