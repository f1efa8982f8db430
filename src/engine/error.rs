//! One error enum per area. Messages say what was wrong, where, and what to do; a path goes last.

use std::path::PathBuf;

/// Problems reading a data file.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be opened or read at all.
    #[error("could not read the file ({source}): {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The file has a header, or nothing, but no rows of data.
    #[error("file has no data rows: {path}")]
    NoDataRows {
        /// The file.
        path: PathBuf,
    },
    /// The file is not UTF-8 and the user has not chosen how to decode it.
    #[error(
        "the file is not UTF-8 (first bad byte at offset {offset}); choose Windows-1252/Latin-1 or lossy decoding (--encoding windows-1252 or --encoding lossy): {path}"
    )]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// Byte offset of the first invalid sequence.
        offset: usize,
    },
    /// Rows whose field count differs from the header, or an unterminated quote.
    #[error(
        "{count} malformed row(s) ({detail}), first at line(s) {lines}; fix the file or ask to skip bad rows (--skip-bad-rows): {path}",
        lines = first_lines.iter().map(|l| l.to_string()).collect::<Vec<_>>().join(", ")
    )]
    MalformedRows {
        /// The file.
        path: PathBuf,
        /// The first few 1-based line numbers.
        first_lines: Vec<usize>,
        /// How many rows are malformed in total.
        count: usize,
        /// What is wrong with them.
        detail: String,
    },
    /// The file would not fit in the memory available.
    #[error(
        "the file needs about {needed_mib} MiB to load but only {available_mib} MiB of memory is available (the smallest limit is {limit}); load a sample (--sample-rows N reads a preview of the first N rows), raise that limit or free memory: {path}"
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Estimated memory needed.
        needed_mib: u64,
        /// Memory available now.
        available_mib: u64,
        /// Which limit was the smallest, e.g. "the process's address-space limit (RLIMIT_AS)".
        limit: &'static str,
    },
    /// The path leads to something that is not a regular file (a named pipe, a device, a folder).
    #[error(
        "the data source is {kind}, not a regular file, so it is not read (the path leads to {target}); give the path of a data file saved on disk: {path}"
    )]
    NotARegularFile {
        /// The path as given.
        path: PathBuf,
        /// What it is, with its article: "a named pipe (FIFO)", "a character device", "a folder".
        kind: &'static str,
        /// Where the path leads once symbolic links are followed.
        target: PathBuf,
    },
    /// The file extension is not one Strata reads.
    #[error("unknown file type {}; Strata reads .csv, .tsv, .txt, .dat, .parquet and .xlsx: {path}", quoted(extension))]
    UnknownFormat {
        /// The file.
        path: PathBuf,
        /// The extension seen.
        extension: String,
    },
    /// The file's structure could not be parsed by the format's reader.
    #[error("could not parse the {format} file ({message}): {path}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The format (Parquet, Excel, ...).
        format: &'static str,
        /// The reader's message.
        message: String,
    },
    /// A column named by the user is not in the table.
    #[error("column {} is not in the data; columns are: {available}", quoted(column))]
    MissingColumn {
        /// The column asked for.
        column: String,
        /// The columns that exist.
        available: String,
    },
    /// A column has the wrong type for the role asked of it.
    #[error("column {} {problem}", quoted(column))]
    BadColumn {
        /// The column.
        column: String,
        /// What is wrong, as a sentence fragment.
        problem: String,
    },
    /// A column of dates that every value fits both day-first and month-first: not guessed.
    #[error("{0}")]
    AmbiguousDates(Box<DateAmbiguity>),
    /// A behavioural feature setting that cannot be used (a column, a window).
    #[error("behavioural features: {0}")]
    BadBehaviour(String),
    /// A reading option (date format, day offset, ...) that cannot be used.
    #[error("the reading option {key} {problem}")]
    BadOption {
        /// The option's key, as in a project file.
        key: String,
        /// What is wrong, as a sentence fragment.
        problem: String,
    },
    /// A derived column whose name or expression cannot be used, or that failed on the data.
    #[error("derived column {} = {}: {problem}", quoted(column), quoted(expression))]
    Derive {
        /// The derived column's name.
        column: String,
        /// Its expression as written.
        expression: String,
        /// What is wrong (with the position in the expression where known), as a sentence fragment.
        problem: String,
    },
    /// A lookup table that cannot be joined (missing key columns, repeated keys, name clashes).
    #[error("lookup table {}: {problem}", quoted(path))]
    Lookup {
        /// The lookup table's path as stored.
        path: String,
        /// What is wrong, as a sentence fragment.
        problem: String,
    },
    /// Anything polars reported while computing on a table.
    #[error("data processing failed: {0}")]
    Polars(String),
    /// Several files read as one table (a glob pattern) that cannot be: no match, too many, or
    /// files that do not agree on their columns.
    #[error("{0}")]
    SeveralFiles(String),
    /// An attribute table that cannot be joined onto the customers (a key missing or repeated).
    #[error("{0}")]
    BadJoin(String),
    /// A log the streaming read cannot take as it is (its format, encoding, a malformed row).
    #[error("{0}")]
    Streaming(String),
}

/// The two readings of an ambiguous date column, and the formats that pick one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateAmbiguity {
    /// The column.
    pub column: String,
    /// A value that reads both ways.
    pub example: String,
    /// The value read day-first, e.g. "3 May".
    pub day_first: String,
    /// The value read month-first, e.g. "March 5".
    pub month_first: String,
    /// The format that reads it day-first, e.g. `%d/%m/%Y`.
    pub day_first_format: String,
    /// The format that reads it month-first, e.g. `%m/%d/%Y`.
    pub month_first_format: String,
}

impl std::fmt::Display for DateAmbiguity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "column {} is ambiguous: {} is {} (day/month) or {} (month/day); pass --date-format {} or {}",
            quoted(&self.column),
            quoted(&self.example),
            self.day_first,
            self.month_first,
            self.day_first_format,
            self.month_first_format
        )
    }
}

/// How many characters of a value taken from a file a message quotes.
const QUOTED_CHARS: usize = 200;

/// A value from a file (a cell, a column name) in single quotes for a message: cut at 200
/// characters with how many more there were, and control characters escaped, so one hostile value
/// cannot make a message huge or break it over lines.
pub fn quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len().min(QUOTED_CHARS * 4) + 2);
    out.push('\'');
    let mut chars = value.chars();
    for c in chars.by_ref().take(QUOTED_CHARS) {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    let more = chars.count();
    if more > 0 {
        out.push_str(&format!("…' ({more} more characters)"));
    } else {
        out.push('\'');
    }
    out
}

impl From<polars::prelude::PolarsError> for DataError {
    fn from(e: polars::prelude::PolarsError) -> Self {
        // A polars message can embed a column name or a value from the file: keep it short.
        let message = e.to_string();
        DataError::Polars(match message.char_indices().nth(400) {
            Some((at, _)) => format!("{}…", &message[..at]),
            None => message,
        })
    }
}

/// Problems turning a table into a feature matrix.
#[derive(Debug, thiserror::Error)]
pub enum FeatureError {
    /// No feature was selected, or every selected one was excluded.
    #[error("no usable feature selected{detail}; pick at least one numeric or categorical column")]
    NoUsableFeature {
        /// Why the chosen ones were excluded, starting with "; ".
        detail: String,
    },
    /// Filters and missing-value rules removed every row.
    #[error("no rows left after filters")]
    NoRowsLeft,
    /// A sensitive column was chosen as a feature without an explicit override.
    #[error(
        "column '{column}' is marked sensitive (personal or protected data) and is not used as a feature unless you override that explicitly"
    )]
    SensitiveFeature {
        /// The column.
        column: String,
    },
    /// A parameter of the recipe is out of range.
    #[error("feature '{column}': {problem}")]
    BadParameter {
        /// The feature.
        column: String,
        /// What is wrong.
        problem: String,
    },
    /// A transform (log, clipping, scaling, weight) produced values too large to segment with.
    #[error("feature '{column}': {problem}; clip or log it")]
    Overflow {
        /// The feature.
        column: String,
        /// What overflowed, and from which values.
        problem: String,
    },
    /// The table could not be read for features.
    #[error(transparent)]
    Data(#[from] DataError),
}

/// Problems fitting or evaluating a segmentation.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ClusterError {
    /// The matrix has no rows.
    #[error("no rows to segment")]
    EmptyInput,
    /// A value is NaN or infinite.
    #[error(
        "row {row}, feature {column}: value is not finite; impute, drop the rows or route them to the fallback segment"
    )]
    NonFinite {
        /// Row index in the feature matrix.
        row: usize,
        /// Column index in the feature matrix.
        column: usize,
    },
    /// k is larger than the data allows.
    #[error("k = {k} is larger than the {available} {what}; choose a k of at most {available}")]
    KTooLarge {
        /// The requested k.
        k: usize,
        /// Rows or distinct rows.
        available: usize,
        /// "rows" or "distinct rows".
        what: &'static str,
    },
    /// A parameter is out of its valid range.
    #[error("invalid parameter {name}: {problem}")]
    InvalidParameter {
        /// Parameter name.
        name: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// A setting is beyond its documented bound (see `cluster::bounds`).
    #[error("{name} is {value}; {limit}")]
    OutOfBounds {
        /// The setting's key.
        name: &'static str,
        /// Its value, as given.
        value: String,
        /// The bound, as a sentence fragment ("at most 1000 initialisations are allowed").
        limit: String,
    },
    /// A fit produced values that are not finite (an overflow inside the computation).
    #[error("{what} came out not finite ({detail}); scale, clip or log the features with the largest values")]
    NotFiniteResult {
        /// What was computed ("the centroids").
        what: &'static str,
        /// Where, and what it was.
        detail: String,
    },
    /// A feature-matrix value so large that squared distances overflow.
    #[error(
        "row {row}, feature {column}: value {value:e} is too large to compute distances with (its square overflows); scale, clip or log the feature"
    )]
    TooLargeValue {
        /// Row index in the feature matrix.
        row: usize,
        /// Column index in the feature matrix.
        column: usize,
        /// The value.
        value: f64,
    },
    /// A labeling does not fit the data it is evaluated on.
    #[error("labels: {0}")]
    BadLabels(String),
    /// The algorithm could not finish on this data (with what to change).
    #[error("{0}")]
    Failed(String),
    /// The user cancelled the job.
    #[error("cancelled")]
    Cancelled,
}

/// Problems opening or saving a project file.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    /// The project file could not be read or written.
    #[error("{action} failed ({source}): {path}")]
    Io {
        /// "reading" / "saving" ...
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The file is not a Strata project or is damaged.
    #[error("not a readable Strata project ({message}); the file was left as it was: {path}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        message: String,
    },
    /// The file needs a newer Strata.
    #[error(
        "this project needs Strata format version {min_reader} or newer to open (it was written as version {format_version}; this Strata reads up to {supported}); update Strata: {path}"
    )]
    TooNew {
        /// The file.
        path: PathBuf,
        /// Format version of the file.
        format_version: u32,
        /// Minimum reader version it declares.
        min_reader: u32,
        /// Newest version this build reads.
        supported: u32,
    },
    /// A data source path points outside the project's folder.
    #[error(
        "data source {} {}outside the project's folder; it is not read unless you pick it yourself (--allow-outside-paths or the Locate button)",
        quoted(source_path),
        leads_to.as_ref().map_or_else(|| "lies ".to_string(), |p| format!("leads to {} (through a link), ", quoted(&p.display().to_string())))
    )]
    OutsideProject {
        /// The path as stored.
        source_path: String,
        /// Where the path leads once links are followed, when a link takes it out of the folder.
        leads_to: Option<PathBuf>,
    },
    /// A data file differs from the one the project was built from.
    #[error(
        "data file '{source_path}' has changed since the project was saved (fingerprint {stored} stored, {actual} now); re-run deliberately to accept the new data"
    )]
    FingerprintMismatch {
        /// The path as stored.
        source_path: String,
        /// Stored fingerprint (short).
        stored: String,
        /// Current fingerprint (short).
        actual: String,
    },
    /// A project opened read-only cannot be saved over.
    #[error(
        "this project was opened read-only (written by a newer Strata); use Save As to write a copy in this version"
    )]
    ReadOnly,
}

impl DataError {
    /// Whether choosing how the file is read can make it readable: another text encoding, or
    /// skipping its malformed rows (what the Data screen's Reading section and `--encoding` /
    /// `--skip-bad-rows` choose).
    pub fn answered_by_reading_options(&self) -> bool {
        matches!(self, Self::NotUtf8 { .. } | Self::MalformedRows { .. })
    }
}

/// Problems with the value models (purchase and spend models, customer lifetime value).
#[derive(Debug, thiserror::Error)]
pub enum ValueError {
    /// A transaction log that could not be read.
    #[error(transparent)]
    Data(#[from] DataError),
    /// Too few customers, or none with what a model needs.
    #[error("the value models cannot be fitted: {why}")]
    NoCustomers {
        /// What is missing, and what to do.
        why: String,
    },
    /// A setting outside what it can be.
    #[error("{setting}: {problem}")]
    BadSetting {
        /// The setting, as the user knows it.
        setting: String,
        /// What is wrong with it and what to give instead.
        problem: String,
    },
}

impl From<polars::error::PolarsError> for ValueError {
    fn from(error: polars::error::PolarsError) -> Self {
        ValueError::Data(DataError::from(error))
    }
}

/// Problems running a whole pipeline.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// Reading data.
    #[error(transparent)]
    Data(#[from] DataError),
    /// Building features.
    #[error(transparent)]
    Feature(#[from] FeatureError),
    /// Clustering.
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    /// The project file.
    #[error(transparent)]
    Project(#[from] ProjectError),
    /// The value models.
    #[error(transparent)]
    Value(#[from] ValueError),
}

impl PipelineError {
    /// Whether choosing how the data file is read can make it readable (see
    /// [`DataError::answered_by_reading_options`]).
    pub fn answered_by_reading_options(&self) -> bool {
        matches!(self, Self::Data(error) if error.answered_by_reading_options())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_the_reading_options_choose_is_answered_by_them_whatever_the_message_says() {
        let path = PathBuf::from("orders.csv");
        let malformed =
            DataError::MalformedRows { path: path.clone(), first_lines: vec![3], count: 1, detail: "4 fields".into() };
        assert!(DataError::NotUtf8 { path: path.clone(), offset: 7 }.answered_by_reading_options());
        assert!(PipelineError::from(malformed).answered_by_reading_options());
        // Words that once decided it by a string match, in errors no reading option fixes.
        let named_so = DataError::UnknownFormat { path: path.clone(), extension: "encoding-malformed".into() };
        assert!(named_so.to_string().contains("malformed"));
        assert!(!named_so.answered_by_reading_options());
        assert!(!PipelineError::from(DataError::NoDataRows { path }).answered_by_reading_options());
    }
}
