//! The arguments of every command: how to read data, which features, and each command's own.

use super::*;

/// Arguments of `strata bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: BenchCommand,
}

/// `strata bench` subcommands.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Write deterministic customer tables and transaction logs (CSV and Parquet) into a folder.
    Gen {
        /// Folder to write into (existing files of the same size and seed are kept).
        #[arg(long)]
        out: PathBuf,
        /// Customer-table sizes, comma-separated (for example 100000,1000000).
        #[arg(long, value_delimiter = ',')]
        customers: Vec<usize>,
        /// Transaction-log sizes, comma-separated (for example 1000000,10000000).
        #[arg(long, value_delimiter = ',')]
        transactions: Vec<usize>,
        /// Sizes of the same transaction logs with a time of day on every purchase
        /// (`transactions_datetime_{n}_s{seed}.csv`), comma-separated.
        #[arg(long, value_delimiter = ',')]
        datetime_transactions: Vec<usize>,
        /// Sizes of transaction logs too large for memory (`transactions_large_{n}_s{seed}.csv`,
        /// text only), written a million rows at a time: for the streaming read.
        #[arg(long, value_delimiter = ',')]
        large_transactions: Vec<usize>,
        /// Seed.
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// Time one case on one file and print a JSON report.
    Case {
        /// load-csv, load-parquet, rfm, lloyd, kmeans, minibatch, sweep, silhouette, clv, ...
        case: String,
        /// Input file.
        #[arg(long)]
        input: PathBuf,
        /// Number of segments (lloyd, kmeans, minibatch).
        #[arg(long, default_value_t = 8)]
        k: usize,
        /// k range of the sweep, for example 2..12.
        #[arg(long, value_parser = parse_k_range, default_value = "2..12")]
        k_range: (usize, usize),
        /// Seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Use only the first N rows of the customer table.
        #[arg(long)]
        rows: Option<usize>,
        /// Silhouette: exact up to this many rows, on a seeded sample of this size above.
        #[arg(long, default_value_t = crate::engine::metrics::SILHOUETTE_EXACT_MAX_ROWS)]
        silhouette_rows: usize,
        /// Lloyd iterations to time (the median is reported).
        #[arg(long, default_value_t = 10)]
        iterations: usize,
        /// k-means initialisations (kmeans, minibatch, sweep).
        #[arg(long, default_value_t = 1)]
        n_init: usize,
        /// DBSCAN's radius (dbscan; default: the knee of the k-distance curve).
        #[arg(long)]
        eps: Option<f64>,
        /// Calibration end of the clv case (YYYY-MM-DD); the log's columns are customer_id, date
        /// and amount (or dollar_value, as in CDNOW).
        #[arg(long)]
        calibration_end: Option<chrono::NaiveDate>,
    },
    /// The CPU time of one frame of each screen with a customer table loaded (prints JSON).
    #[cfg(feature = "gui")]
    Frame {
        /// Customer table to open (as a user would, through the Data screen's open path).
        #[arg(long)]
        input: PathBuf,
        /// Feature columns, comma-separated (default: the numeric columns the window picks).
        #[arg(long, value_delimiter = ',')]
        features: Vec<String>,
        /// Number of segments.
        #[arg(long, default_value_t = 8)]
        k: usize,
        /// k range of the sweep shown on the Model screen.
        #[arg(long, value_parser = parse_k_range, default_value = "2..8")]
        k_range: (usize, usize),
        /// Frames timed per screen (after three unmeasured ones).
        #[arg(long, default_value_t = 30)]
        frames: usize,
    },
    /// Edit to redrawn screen through the window's job runner, stage cache and summary: the median
    /// per edit and customer count (a table, or JSON with --json).
    #[cfg(feature = "gui")]
    Latency {
        /// Customer tables to open; default: the generated tables of --customers sizes.
        #[arg(long)]
        input: Vec<PathBuf>,
        /// Sizes of the generated customer tables, comma-separated (when no --input is given).
        #[arg(long, value_delimiter = ',', default_value = "100000,1000000")]
        customers: Vec<usize>,
        /// Where the generated tables are kept (made once, then reused).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Repetitions of each edit (the median is reported).
        #[arg(long, default_value_t = 5)]
        repeats: usize,
        /// Only these edits, comma-separated: k, weight, off, scaling (default: all four).
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// How to read a data file.
#[derive(Debug, Args, Clone, Default)]
pub struct ReadArgs {
    /// Field delimiter (a character, 'tab' or 'whitespace'); sniffed when not given.
    #[arg(long)]
    pub delimiter: Option<Delimiter>,
    /// Quote character; sniffed when not given.
    #[arg(long)]
    pub quote: Option<char>,
    /// Whether the first row is a header; sniffed when not given.
    #[arg(long)]
    pub header: Option<bool>,
    /// Text encoding for files that are not UTF-8: utf8, windows-1252 or lossy.
    #[arg(long, default_value = "utf8", value_parser = parse_encoding)]
    pub encoding: TextEncoding,
    /// Skip malformed rows (ragged, unterminated quote) instead of refusing the file; reported.
    #[arg(long)]
    pub skip_bad_rows: bool,
    /// Read only the first N rows: a preview of a file too large to load whole (recorded).
    #[arg(long)]
    pub sample_rows: Option<usize>,
    /// How text dates are written, in strftime codes (%d/%m/%Y, %m/%d/%y %H:%M, %d-%b-%y), or
    /// epoch_s, epoch_ms, excel; detected from all values when not given (an ambiguous column is
    /// refused with both readings). COLUMN=FORMAT sets one column's format (repeatable), beside or
    /// instead of the file-wide FORMAT.
    #[arg(long, value_name = "[COLUMN=]FORMAT", value_parser = parse_column_value, action = clap::ArgAction::Append)]
    pub date_format: Vec<(Option<String>, String)>,
    /// Columns to read as dates (comma-separated), for epoch numbers and Excel serial days whose
    /// names do not say so.
    #[arg(long, value_delimiter = ',')]
    pub date_columns: Vec<String>,
    /// Whether numbers use a decimal comma (1.234,50): yes or no; detected when not given.
    /// COLUMN=yes|no sets it for one column (repeatable).
    #[arg(long, value_name = "[COLUMN=]yes|no", value_parser = parse_column_yes_no, action = clap::ArgAction::Append)]
    pub decimal_comma: Vec<(Option<String>, bool)>,
    /// What a column is read as, whatever its values look like: COLUMN=date, COLUMN=not-date
    /// (numbers or text, never dates) or COLUMN=text (as written); repeatable.
    #[arg(long, value_name = "COLUMN=date|not-date|text", value_parser = parse_read_as, action = clap::ArgAction::Append)]
    pub read_as: Vec<(String, data::ReadAs)>,
    /// Where rows go whose value in a date column does not parse as a date: refuse (the default:
    /// the file is refused with the count and examples), drop (left out, counted, shown) or
    /// fallback (kept, their customers in the fallback segment).
    #[arg(long, default_value = "refuse", value_parser = parse_unparsed_dates)]
    pub unparsed_dates: data::UnparsedDates,
    /// The fixed offset whose calendar day a date-time counts on (+02:00, -05:30, Z); default UTC.
    #[arg(long)]
    pub day_offset: Option<String>,
    /// Read dates before 1900 as dates (otherwise such text stays text, as a two-digit year read
    /// wrongly often gives them).
    #[arg(long)]
    pub allow_old_dates: bool,
    /// A derived column, NAME = SQL EXPRESSION over the data's columns (repeatable; computed in
    /// order, so a later one may use an earlier one), for example
    /// "amount = avg_price_per_room * (stays_in_weekend_nights + stays_in_week_nights)".
    #[arg(long, value_parser = crate::engine::derive::parse_derive_arg)]
    pub derive: Vec<DerivedColumn>,
    /// A small table (currency rates, codes) joined onto the data by the --lookup-on keys, whose
    /// columns --derive can use (repeatable; stored relative to the project, inside its folder).
    #[arg(long, requires = "lookup_on")]
    pub lookup: Vec<PathBuf>,
    /// The key columns of each --lookup, comma-separated (currency,month); one per --lookup, in order.
    #[arg(long)]
    pub lookup_on: Vec<String>,
}

impl ReadArgs {
    pub(crate) fn options(&self) -> ReadOptions {
        ReadOptions {
            delimiter: self.delimiter,
            quote: self.quote,
            has_header: self.header,
            encoding: self.encoding,
            skip_bad_rows: self.skip_bad_rows,
            sample_rows: self.sample_rows,
            formats: self.formats(),
        }
    }

    /// The reading choices: file-wide, then per column (a later one for the same column wins).
    fn formats(&self) -> data::ValueFormats {
        let mut formats = data::ValueFormats {
            date_format: self.date_format.iter().rev().find(|(c, _)| c.is_none()).map(|(_, f)| f.clone()),
            date_columns: self.date_columns.clone(),
            decimal_comma: self.decimal_comma.iter().rev().find(|(c, _)| c.is_none()).map(|(_, v)| *v),
            day_offset: self.day_offset.clone(),
            allow_old_dates: self.allow_old_dates,
            columns: Vec::new(),
            unparsed_dates: self.unparsed_dates,
        };
        for (column, format) in &self.date_format {
            if let Some(column) = column {
                formats.set_column(column, |c| c.date_format = Some(format.clone()));
            }
        }
        for (column, comma) in &self.decimal_comma {
            if let Some(column) = column {
                formats.set_column(column, |c| c.decimal_comma = Some(*comma));
            }
        }
        for (column, read_as) in &self.read_as {
            formats.set_column(column, |c| c.read_as = *read_as);
        }
        formats
    }
}

/// `VALUE` or `COLUMN=VALUE`.
fn split_column(s: &str) -> (Option<String>, &str) {
    match s.split_once('=') {
        Some((column, value)) if !column.trim().is_empty() => (Some(column.trim().to_string()), value.trim()),
        _ => (None, s),
    }
}

pub(crate) fn parse_column_value(s: &str) -> Result<(Option<String>, String), String> {
    let (column, value) = split_column(s);
    if value.is_empty() {
        return Err(format!("'{s}' has no format after the column; write COLUMN=FORMAT, e.g. order_date=%d/%m/%Y"));
    }
    Ok((column, value.to_string()))
}

pub(crate) fn parse_column_yes_no(s: &str) -> Result<(Option<String>, bool), String> {
    let (column, value) = split_column(s);
    Ok((column, parse_yes_no(value)?))
}

pub(crate) fn parse_read_as(s: &str) -> Result<(String, data::ReadAs), String> {
    let (Some(column), value) = split_column(s) else {
        return Err(format!("'{s}' names no column; write COLUMN=date, COLUMN=not-date or COLUMN=text"));
    };
    let read_as = match value.to_ascii_lowercase().as_str() {
        "date" | "dates" => data::ReadAs::Date,
        "not-date" | "not_date" | "no-date" => data::ReadAs::NotDate,
        "text" => data::ReadAs::Text,
        "detect" => data::ReadAs::Detect,
        _ => return Err(format!("'{value}' is not date, not-date, text or detect")),
    };
    Ok((column, read_as))
}

pub(crate) fn parse_unparsed_dates(s: &str) -> Result<data::UnparsedDates, String> {
    s.parse()
}

impl ReadArgs {
    /// The derived columns and lookups asked for; lookup paths stored relative to `base_dir` (a
    /// project's folder, which they may not leave), absolute without one.
    pub(crate) fn derived(&self, base_dir: Option<&Path>) -> Result<DerivedColumns, String> {
        if self.lookup.len() != self.lookup_on.len() {
            return Err(format!(
                "give one --lookup-on (its key columns) for each --lookup: {} --lookup and {} --lookup-on",
                self.lookup.len(),
                self.lookup_on.len()
            ));
        }
        let mut lookups = Vec::with_capacity(self.lookup.len());
        for (path, on) in self.lookup.iter().zip(&self.lookup_on) {
            let stored = match base_dir {
                Some(base) => {
                    let relative = project::paths::relative_to(path, base);
                    if Path::new(&relative).is_absolute() {
                        return Err(format!(
                            "the lookup table {} is outside the project's folder {}; copy it into that folder",
                            path.display(),
                            base.display()
                        ));
                    }
                    relative
                }
                None => project::paths::with_slashes(&std::path::absolute(path).unwrap_or_else(|_| path.clone())),
            };
            let on: Vec<String> = on.split(',').map(|k| k.trim().to_string()).filter(|k| !k.is_empty()).collect();
            lookups.push(crate::engine::derive::Lookup { path: stored, on, fingerprint: None });
        }
        let derived = DerivedColumns { lookups, columns: self.derive.clone() };
        derived.check().map_err(|e| e.to_string())?;
        Ok(derived)
    }

    /// Applies the asked derived columns and lookups to a table read for a command without a project.
    pub(crate) fn apply_derived(
        &self,
        frame: polars::prelude::DataFrame,
    ) -> Result<polars::prelude::DataFrame, CliError> {
        let derived = self.derived(None)?;
        if derived.is_empty() {
            return Ok(frame);
        }
        let (frame, warnings) = pipeline::apply_derived_columns(frame, &derived, &SourceResolver::user_chosen(&cwd()))?;
        warn_all(&warnings);
        Ok(frame)
    }
}

impl QualityArgs {
    /// The table, however it was given.
    pub(crate) fn table_path(&self) -> &std::path::Path {
        // clap requires one of the two.
        self.data.as_deref().or(self.file.as_deref()).unwrap_or(std::path::Path::new(""))
    }
}

pub(crate) fn parse_yes_no(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "yes" | "true" => Ok(true),
        "no" | "false" => Ok(false),
        _ => Err(format!("'{s}' is not yes or no")),
    }
}

pub(crate) fn parse_encoding(s: &str) -> Result<TextEncoding, String> {
    match s.to_ascii_lowercase().as_str() {
        "utf8" | "utf-8" => Ok(TextEncoding::Utf8),
        "windows-1252" | "cp1252" | "latin1" | "latin-1" | "iso-8859-1" => Ok(TextEncoding::Windows1252),
        "lossy" => Ok(TextEncoding::Lossy),
        _ => Err(format!("unknown encoding '{s}'; use utf8, windows-1252 or lossy")),
    }
}

pub(crate) fn parse_date(s: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| format!("'{s}' is not a date in YYYY-MM-DD form"))
}

pub(crate) fn parse_k_range(s: &str) -> Result<(usize, usize), String> {
    let (lo, hi) = s.split_once("..").ok_or_else(|| format!("'{s}' is not a k range like 2..10"))?;
    let lo: usize = lo.trim().parse().map_err(|_| format!("'{lo}' in '{s}' is not a whole number"))?;
    let hi: usize =
        hi.trim().trim_start_matches('=').parse().map_err(|_| format!("'{hi}' in '{s}' is not a whole number"))?;
    if lo < 1 || lo > hi {
        return Err(format!("k range '{s}' must go from at least 1 up to a k no smaller than its start"));
    }
    Ok((lo, hi))
}

/// Behavioural features of a transaction log, on every command that reads one.
#[derive(Debug, Args, Clone)]
pub struct BehaviourArgs {
    /// Categorical columns (channel, category, country; source_file for several files) broken down
    /// per value into shares of spend and orders, the number of distinct values and the first
    /// order's value (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub features_from: Vec<String>,
    /// Spend in the last N days against the N before
    /// (spend_last_Nd, spend_previous_Nd, spend_trend).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub trend_days: Option<u32>,
    /// Purchase rhythm (gap_mean_days, gap_cv), returns
    /// (return_share, return_value) and weekend_share.
    #[arg(long, alias = "behavior")]
    pub behaviour: bool,
}

impl BehaviourArgs {
    /// The features asked for, as a spec stores them.
    pub(crate) fn spec(&self) -> crate::engine::features::behaviour::BehaviourSpec {
        crate::engine::features::behaviour::BehaviourSpec {
            breakdown: self.features_from.iter().map(|c| c.trim().to_string()).collect(),
            trend_days: self.trend_days,
            rhythm: self.behaviour,
        }
    }
}

/// Arguments of `strata rfm`.
#[derive(Debug, Args)]
pub struct RfmArgs {
    /// The transaction log; a quoted glob ('exports/orders_2024-*.csv') reads every file it matches
    /// as one log, in sorted order, with a source_file column.
    #[arg(long)]
    pub transactions: PathBuf,
    /// Customer id column.
    #[arg(long)]
    pub customer_id: String,
    /// Transaction date column.
    #[arg(long)]
    pub date: String,
    /// Transaction amount column; leave it out for a log without one (visits, clicks): recency,
    /// frequency and tenure are computed and the monetary columns are left out.
    #[arg(long)]
    pub amount: Option<String>,
    /// Compute features as of this date (YYYY-MM-DD); default: the day after the last transaction.
    #[arg(long, value_parser = parse_date)]
    pub as_of: Option<chrono::NaiveDate>,
    /// Refuse negative amounts instead of keeping them.
    #[arg(long)]
    pub forbid_negative: bool,
    /// Stream the log through polars' streaming engine instead of loading it: for a text log
    /// larger than memory. Its first rows decide how every cell is read. Chosen by itself when
    /// the log would not fit in memory.
    #[arg(long)]
    pub streaming: bool,
    /// Behavioural features of a transaction log.
    #[command(flatten)]
    pub behaviour: BehaviourArgs,
    /// Output file (.csv or .parquet).
    #[arg(long)]
    pub out: PathBuf,
    /// Reader options.
    #[command(flatten)]
    pub read: ReadArgs,
}

/// Where the customer table comes from and how features are made: shared by sweep, fit, evaluate.
#[derive(Debug, Args, Clone)]
pub struct DataArgs {
    /// A customer table (one row per customer).
    #[arg(long, conflicts_with_all = ["transactions", "demo"])]
    pub data: Option<PathBuf>,
    /// A transaction log, aggregated to customers first (needs --customer-id and --date; --amount
    /// when it has one, else the monetary features are left out); a
    /// quoted glob ('exports/orders_2024-*.csv', '{jan,feb}.csv') reads every file it matches as one
    /// log, in sorted order, with a source_file column.
    #[arg(long, conflicts_with = "demo", requires_all = ["customer_id", "date"])]
    pub transactions: Option<PathBuf>,
    /// Use the built-in CDNOW transaction log.
    #[arg(long)]
    pub demo: bool,
    /// Customer id column of a transaction log.
    #[arg(long)]
    pub customer_id: Option<String>,
    /// Date column of a transaction log.
    #[arg(long)]
    pub date: Option<String>,
    /// Amount column of a transaction log; without it, recency, frequency and tenure only.
    #[arg(long)]
    pub amount: Option<String>,
    /// As-of date for a transaction log (YYYY-MM-DD).
    #[arg(long, value_parser = parse_date)]
    pub as_of: Option<chrono::NaiveDate>,
    /// Id column of a customer table (written beside the segment).
    #[arg(long)]
    pub id: Option<String>,
    /// The customer table has no id column: no column is guessed to be one and checked for repeats.
    #[arg(long, conflicts_with = "id")]
    pub no_id: bool,
    /// What to do with repeated ids in a customer table: refuse, keep-first or aggregate.
    #[arg(long, default_value = "refuse", value_parser = parse_duplicates)]
    pub duplicates: DuplicateIdRule,
    /// Feature columns, comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    pub features: Vec<String>,
    /// Features to transform with log1p, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub log1p: Vec<String>,
    /// Scaling of every feature.
    #[arg(long, default_value = "zscore")]
    pub scale: Scaling,
    /// Missing values: median, mean, mode, constant:VALUE, drop or fallback.
    #[arg(long, default_value = "median")]
    pub missing: MissingRule,
    /// Sensitive columns you explicitly allow as features (recorded).
    #[arg(long, value_delimiter = ',')]
    pub allow_sensitive: Vec<String>,
    /// Features that are categorical (one-hot encoded), comma-separated; a subset of --features.
    #[arg(long, value_delimiter = ',')]
    pub categorical: Vec<String>,
    /// Clip every numeric feature to these percentiles of its values, for example 1,99.
    #[arg(long, value_parser = parse_clip)]
    pub clip: Option<(f64, f64)>,
    /// Feature weights as COL=WEIGHT, comma-separated (default 1).
    #[arg(long, value_delimiter = ',', value_parser = parse_weight)]
    pub weight: Vec<(String, f64)>,
    /// Column roles overriding the guesses, as COL=ROLE (id, numeric, categorical, date, amount,
    /// sensitive, ignored), comma-separated.
    #[arg(long, value_delimiter = ',', value_parser = parse_role)]
    pub role: Vec<(String, ColumnRole)>,
    /// A customer attribute table joined onto the customers by id (the match rate is reported).
    #[arg(long)]
    pub attributes: Option<PathBuf>,
    /// The attribute table's key column, when it is not named like the customer id (a table from
    /// another system: --customer-id cust_no --attributes crm.csv --attributes-key CustomerID).
    #[arg(long, requires = "attributes")]
    pub attributes_key: Option<String>,
    /// Behavioural features of a transaction log.
    #[command(flatten)]
    pub behaviour: BehaviourArgs,
    /// Reader options.
    #[command(flatten)]
    pub read: ReadArgs,
}

/// The small-cell threshold of a command on data rather than on a project (a project's own
/// threshold applies to the commands on a project).
#[derive(Debug, Args, Clone, Copy)]
pub struct SmallCellsArgs {
    /// Counts of 1 to N-1 customers are shown as "<N", and counts that would give them away as
    /// "hidden" (1 to 1000; 1 shows every count; assignment files are never suppressed).
    #[arg(
        long,
        value_name = "N",
        default_value_t = crate::engine::governance::DEFAULT_SMALL_CELLS,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1000)
    )]
    pub small_cells: usize,
}

pub(crate) fn parse_clip(s: &str) -> Result<(f64, f64), String> {
    let (lo, hi) = s.split_once(',').ok_or_else(|| format!("'{s}' is not two percentiles like 1,99"))?;
    let parse = |v: &str| v.trim().parse::<f64>().map_err(|_| format!("'{v}' in '{s}' is not a number"));
    Ok((parse(lo)?, parse(hi)?))
}

pub(crate) fn parse_weight(s: &str) -> Result<(String, f64), String> {
    let (column, weight) = s.split_once('=').ok_or_else(|| format!("'{s}' is not COL=WEIGHT"))?;
    let weight = weight.trim().parse().map_err(|_| format!("weight '{weight}' for '{column}' is not a number"))?;
    Ok((column.trim().to_string(), weight))
}

pub(crate) fn parse_role(s: &str) -> Result<(String, ColumnRole), String> {
    let (column, role) = s.split_once('=').ok_or_else(|| format!("'{s}' is not COL=ROLE"))?;
    let role = match role.trim() {
        "id" | "customer-id" => ColumnRole::CustomerId,
        "numeric" => ColumnRole::Numeric,
        "categorical" => ColumnRole::Categorical,
        "date" => ColumnRole::Date,
        "amount" => ColumnRole::Amount,
        "sensitive" => ColumnRole::Sensitive,
        "ignored" => ColumnRole::Ignored,
        other => {
            return Err(format!(
                "unknown role '{other}'; use id, numeric, categorical, date, amount, sensitive or ignored"
            ));
        }
    };
    Ok((column.trim().to_string(), role))
}

pub(crate) fn parse_duplicates(s: &str) -> Result<DuplicateIdRule, String> {
    match s {
        "refuse" => Ok(DuplicateIdRule::Refuse),
        "keep-first" => Ok(DuplicateIdRule::KeepFirst),
        "aggregate" => Ok(DuplicateIdRule::Aggregate),
        _ => Err(format!("unknown duplicate rule '{s}'; use refuse, keep-first or aggregate")),
    }
}

impl DataArgs {
    /// The spec's source, table kind and recipe, paths stored relative to `base_dir` where possible.
    pub(crate) fn spec(&self, model: ModelSpec, base_dir: Option<&Path>) -> Result<PipelineSpec, String> {
        let stored_path = |p: &Path| -> String {
            match base_dir {
                Some(base) => project::paths::relative_to(p, base),
                None => project::paths::with_slashes(&std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())),
            }
        };
        let (source, table) = if let Some(path) = &self.data {
            (
                DataSource::File(stored_path(path)),
                TableKind::CustomerTable { id_column: self.id.clone(), no_id: self.no_id },
            )
        } else {
            let source = match &self.transactions {
                Some(path) => DataSource::File(stored_path(path)),
                None if self.demo => DataSource::DemoTransactions,
                None => return Err("give --data, --transactions or --demo".to_string()),
            };
            let pick = |v: &Option<String>, default: &str, flag: &str| match (v, self.demo) {
                (Some(v), _) => Ok(v.clone()),
                (None, true) => Ok(default.to_string()),
                (None, false) => Err(format!("--transactions needs {flag}")),
            };
            let columns = TransactionColumns {
                customer_id: pick(&self.customer_id, "customer_id", "--customer-id")?,
                date: pick(&self.date, "date", "--date")?,
                amount: match (&self.amount, self.demo) {
                    (Some(amount), _) => Some(amount.clone()),
                    (None, true) => Some("dollar_value".to_string()),
                    (None, false) => None,
                },
                as_of: self.as_of,
                negative_amounts: NegativeAmounts::Allow,
                since: None,
                behaviour: self.behaviour.spec(),
                value: None,
            };
            columns.behaviour.check().map_err(|e| e.to_string())?;
            (source, TableKind::TransactionLog(columns))
        };
        if matches!(table, TableKind::CustomerTable { .. }) && !self.behaviour.spec().is_empty() {
            return Err(
                "--features-from, --trend-days and --behaviour are computed from a transaction log; give --transactions or --demo"
                    .to_string(),
            );
        }
        if let Some((i, name)) = self.features.iter().enumerate().find(|(i, name)| self.features[..*i].contains(*name))
        {
            return Err(format!(
                "--features lists {} twice (at {} and {}); list each column once",
                crate::engine::error::quoted(name),
                self.features.iter().position(|f| f == name).map_or(0, |p| p + 1),
                i + 1
            ));
        }
        let mut recipe = FeatureRecipe::numeric(&self.features, &self.log1p, self.scale, self.missing);
        for feature in &mut recipe.features {
            feature.allow_sensitive = self.allow_sensitive.contains(&feature.column);
            if self.categorical.contains(&feature.column) {
                feature.kind = FeatureKind::Categorical;
            } else {
                feature.clip_percentiles = self.clip;
            }
            if let Some((_, w)) = self.weight.iter().find(|(c, _)| *c == feature.column) {
                feature.weight = *w;
            }
        }
        let weighted = self.weight.iter().map(|(c, _)| c);
        for name in self.log1p.iter().chain(&self.allow_sensitive).chain(&self.categorical).chain(weighted) {
            if !self.features.contains(name) {
                return Err(format!("'{name}' is not among --features ({})", self.features.join(",")));
            }
        }
        Ok(PipelineSpec {
            source: SourceSpec { source, read_options: self.read.options(), fingerprint: None },
            table,
            attributes: self.attributes.as_ref().map(|path| SourceSpec {
                source: DataSource::File(stored_path(path)),
                read_options: ReadOptions::default(),
                fingerprint: None,
            }),
            attributes_key: self.attributes_key.as_ref().map(|k| k.trim().to_string()),
            duplicate_ids: self.duplicates,
            role_overrides: self.role.clone(),
            recipe,
            model,
            derived: self.read.derived(base_dir)?,
        })
    }
}

/// Arguments of `strata sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Data and features.
    #[command(flatten)]
    pub data: DataArgs,
    /// k range, for example 2..10 (inclusive).
    #[arg(long, value_parser = parse_k_range)]
    pub k: (usize, usize),
    /// The method and its settings.
    #[command(flatten)]
    pub model: ModelArgs,
    /// Silhouette: exact up to this many customers, on a seeded sample of this size above.
    #[arg(long, default_value_t = crate::engine::metrics::SILHOUETTE_EXACT_MAX_ROWS)]
    pub silhouette_rows: usize,
    /// Business feasibility: mark the k whose smallest segment holds less than this share of the
    /// customers (0.05 = 5%).
    #[arg(long, value_parser = parse_share)]
    pub min_segment_share: Option<f64>,
    /// The small-cell threshold.
    #[command(flatten)]
    pub cells: SmallCellsArgs,
    /// Print JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

pub(crate) fn parse_share(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if (0.0..1.0).contains(&v) => Ok(v),
        _ => Err(format!("'{text}' is not a share between 0 and 1 (0.05 is 5%)")),
    }
}

/// Arguments of `strata fit`.
#[derive(Debug, Args)]
pub struct FitArgs {
    /// Data and features.
    #[command(flatten)]
    pub data: DataArgs,
    /// Number of segments (not for dbscan, optics, rfm and hybrid, which find their own).
    #[arg(long)]
    pub k: Option<usize>,
    /// Also sweep this k range and store it in the project (for example 2..10).
    #[arg(long, value_parser = parse_k_range)]
    pub sweep: Option<(usize, usize)>,
    /// Business feasibility, stored in the project: the smallest share of customers a segment
    /// should have (0.05 = 5%).
    #[arg(long, value_parser = parse_share)]
    pub min_segment_share: Option<f64>,
    /// The method and its settings.
    #[command(flatten)]
    pub model: ModelArgs,
    /// Write the assignments (id and `segment`) to this .csv or .parquet file.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write a project file here.
    #[arg(long)]
    pub project: Option<PathBuf>,
    /// The small-cell threshold.
    #[command(flatten)]
    pub cells: SmallCellsArgs,
    /// Print JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `strata evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// Data and features.
    #[command(flatten)]
    pub data: DataArgs,
    /// The column holding the existing segment labels.
    #[arg(long)]
    pub labels: String,
    /// Seed of the silhouette sample (used above 50,000 rows).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// The small-cell threshold.
    #[command(flatten)]
    pub cells: SmallCellsArgs,
    /// Print JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `strata compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// A table holding both label columns (for example a legacy segment and a new one).
    #[arg(long, conflicts_with = "assignments")]
    pub data: Option<PathBuf>,
    /// A label column of --data; give it twice.
    #[arg(long)]
    pub labels: Vec<String>,
    /// An assignment file as `strata fit --out` writes it (an id column, then `segment`); give it
    /// twice. Customers are matched by the id; segments are read from `segment_name` when the file
    /// has one (RFM rules), from `segment` otherwise.
    #[arg(long)]
    pub assignments: Vec<PathBuf>,
    /// How to read the files.
    #[command(flatten)]
    pub read: ReadArgs,
    /// The small-cell threshold.
    #[command(flatten)]
    pub cells: SmallCellsArgs,
    /// Print JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `strata profile`.
#[derive(Debug, Args)]
pub struct ProfileArgs {
    /// Data and features (the features are profiled as they are in the data: the recipe options
    /// are not applied). A segment column from `strata fit --out` can be joined with --attributes.
    #[command(flatten)]
    pub data: DataArgs,
    /// The column holding the segment of each customer.
    #[arg(long)]
    pub labels: String,
    /// The small-cell threshold.
    #[command(flatten)]
    pub cells: SmallCellsArgs,
    /// Print JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `strata explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Data and features (as they are in the data; the recipe options are not applied).
    #[command(flatten)]
    pub data: DataArgs,
    /// The column holding the segment of each customer.
    #[arg(long)]
    pub labels: String,
    /// Deepest split: a rule has at most this many conditions (1 to 10).
    #[arg(long, default_value_t = 3)]
    pub max_depth: usize,
    /// Smallest leaf, as a share of the customers.
    #[arg(long, default_value_t = 0.01, value_parser = parse_share)]
    pub min_leaf_share: f64,
    /// The small-cell threshold.
    #[command(flatten)]
    pub cells: SmallCellsArgs,
    /// Print JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `strata stability`.
#[derive(Debug, Args)]
pub struct StabilityArgs {
    /// Data and features, as for `fit`.
    #[command(flatten)]
    pub data: DataArgs,
    /// Number of segments (not for dbscan and optics, which find their own).
    #[arg(long)]
    pub k: Option<usize>,
    /// Also the stability of every k in this range (for example 2..10), for choosing k.
    #[arg(long, value_parser = parse_k_range)]
    pub k_range: Option<(usize, usize)>,
    /// Re-fits on resampled customers.
    #[arg(long, default_value_t = 50)]
    pub bootstrap: usize,
    /// The method and its settings (--seed also seeds the resamples).
    #[command(flatten)]
    pub model: ModelArgs,
    /// Print JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `strata over-time`.
#[derive(Debug, Args)]
pub struct OverTimeArgs {
    /// Data and features, as for `fit` (a transaction log: --transactions or --demo).
    #[command(flatten)]
    pub data: DataArgs,
    /// Number of segments in every window (not for dbscan and optics, which find their own).
    #[arg(long)]
    pub k: Option<usize>,
    /// Length of a window and the step between windows, in months (3: quarters).
    #[arg(long, default_value_t = 3)]
    pub window_months: u32,
    /// Number of windows, the last ending at --as-of (default: the day after the last transaction).
    #[arg(long, default_value_t = 4)]
    pub windows: usize,
    /// Only the transactions inside each window, rather than all history up to its end.
    #[arg(long)]
    pub window_only: bool,
    /// Fit every window on its own (segments matched from window to window by shared customers)
    /// rather than assign every window with the model fitted on the last one.
    #[arg(long)]
    pub refit: bool,
    /// The method and its settings.
    #[command(flatten)]
    pub model: ModelArgs,
    /// The small-cell threshold.
    #[command(flatten)]
    pub cells: SmallCellsArgs,
    /// Print JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `strata quality`.
#[derive(Debug, Args)]
pub struct QualityArgs {
    /// The table (or give it as the first argument: `strata quality FILE`).
    #[arg(long, required_unless_present = "file", conflicts_with = "file")]
    pub data: Option<PathBuf>,
    /// The table, as `--data` gives it.
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Id column, checked for duplicates.
    #[arg(long)]
    pub id: Option<String>,
    /// Judge dates against this date (YYYY-MM-DD); default: no date check.
    #[arg(long, value_parser = parse_date)]
    pub as_of: Option<chrono::NaiveDate>,
    /// Column roles overriding the guesses, as COL=ROLE, comma-separated.
    #[arg(long, value_delimiter = ',', value_parser = parse_role)]
    pub role: Vec<(String, ColumnRole)>,
    /// Reader options.
    #[command(flatten)]
    pub read: ReadArgs,
    /// Print JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `strata run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The project file.
    pub project: PathBuf,
    /// Fail unless the re-run reproduces the stored assignment fingerprint.
    #[arg(long)]
    pub verify: bool,
    /// Write the assignments here: id, `segment` (from 0), `segment_number` (from 1, as the window
    /// shows it), `segment_name` (the project's names), and with business rules `model_segment`,
    /// `model_segment_number` and `changed_by`, as `fit --out` writes them.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Read data files outside the project's folder (only for projects you trust).
    #[arg(long)]
    pub allow_outside_paths: bool,
    /// Run even when a data file's (or a lookup table's) fingerprint differs from the stored one.
    #[arg(long)]
    pub accept_changed_data: bool,
    /// Print JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Re-fit at this number of segments (the project's method, or --method's); names and notes
    /// follow their customers as in the window.
    #[arg(long)]
    pub k: Option<usize>,
    /// Re-fit with this method (`strata methods` lists them; its settings as the window sets them
    /// when switching: k and seed kept); names and notes follow their customers.
    #[arg(long)]
    pub method: Option<String>,
    /// Write the project back (atomically, the previous file kept as .bak) with the new settings,
    /// results and the names as carried.
    #[arg(long)]
    pub save: bool,
}

/// Arguments of `strata swot`.
#[derive(Debug, Args)]
pub struct SwotArgs {
    /// The project (it is re-run first, as `strata run` does, so the evidence is live).
    pub project: PathBuf,
    /// Write the TOWS decision list here as CSV (`cell,action,owner,segments,pairs`).
    #[arg(long)]
    pub decisions: Option<PathBuf>,
    /// Read the project's data files outside its folder (only for projects you trust).
    #[arg(long)]
    pub allow_outside_paths: bool,
    /// Re-run even when the project's data fingerprint differs from the stored one.
    #[arg(long)]
    pub accept_changed_data: bool,
    /// Print JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `strata export-model`.
#[derive(Debug, Args)]
pub struct ExportModelArgs {
    /// The project (it is re-run first, as `strata run` does).
    pub project: PathBuf,
    /// Write the scoring definition here (JSON).
    #[arg(long)]
    pub out: PathBuf,
    /// Read the project's data files outside its folder (only for projects you trust).
    #[arg(long)]
    pub allow_outside_paths: bool,
    /// Re-run even when the project's data fingerprint differs from the stored one.
    #[arg(long)]
    pub accept_changed_data: bool,
}

/// Arguments of `strata export-sql`.
#[derive(Debug, Args)]
pub struct ExportSqlArgs {
    /// The project (it is re-run first, as `strata run` does).
    pub project: PathBuf,
    /// duckdb, postgres, sqlite, bigquery, snowflake or spark.
    #[arg(long)]
    pub dialect: String,
    /// The table to score (schema.table allowed): one row per customer with the columns the
    /// recipe and the rules read.
    #[arg(long, default_value = "customers")]
    pub table: String,
    /// Its customer id column (default: the project's).
    #[arg(long)]
    pub id: Option<String>,
    /// Write the statement here (default: print it).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Read the project's data files outside its folder (only for projects you trust).
    #[arg(long)]
    pub allow_outside_paths: bool,
    /// Re-run even when the project's data fingerprint differs from the stored one.
    #[arg(long)]
    pub accept_changed_data: bool,
}

/// Arguments of `strata export-pmml`.
#[derive(Debug, Args)]
pub struct ExportPmmlArgs {
    /// The project (it is re-run first, as `strata run` does).
    pub project: PathBuf,
    /// Write the PMML 4.4 document here.
    #[arg(long)]
    pub out: PathBuf,
    /// Export the model's assignment alone when the project has business rules or overrides
    /// (PMML's clustering model cannot express them; the document says they are left out).
    #[arg(long)]
    pub model_only: bool,
    /// Read the project's data files outside its folder (only for projects you trust).
    #[arg(long)]
    pub allow_outside_paths: bool,
    /// Re-run even when the project's data fingerprint differs from the stored one.
    #[arg(long)]
    pub accept_changed_data: bool,
}

/// Arguments of `strata serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The project (it is re-run first, as `strata run` does).
    pub project: PathBuf,
    /// Address to listen on: loopback unless you choose to bind elsewhere (0.0.0.0 is every
    /// interface; put a proxy with authentication in front of it).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Port (0: a free one, printed on start).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Largest request body, in megabytes.
    #[arg(long, default_value_t = 4.0)]
    pub max_body_mb: f64,
    /// Most customers in one batch.
    #[arg(long, default_value_t = crate::serve::DEFAULT_MAX_BATCH)]
    pub max_batch: usize,
    /// Read the project's data files outside its folder (only for projects you trust).
    #[arg(long)]
    pub allow_outside_paths: bool,
    /// Re-run even when the project's data fingerprint differs from the stored one.
    #[arg(long)]
    pub accept_changed_data: bool,
}

/// Arguments of `strata bias`.
#[derive(Debug, Args)]
pub struct BiasArgs {
    /// The project (it is re-run first, as `strata run` does, with its business rules applied).
    pub project: PathBuf,
    /// The columns to group customers by, comma-separated (default: the project's governance
    /// `sensitive` list and the columns whose role is sensitive).
    #[arg(long, value_delimiter = ',')]
    pub sensitive: Vec<String>,
    /// Read the project's data files outside its folder (only for projects you trust).
    #[arg(long)]
    pub allow_outside_paths: bool,
    /// Re-run even when the project's data fingerprint differs from the stored one.
    #[arg(long)]
    pub accept_changed_data: bool,
    /// Print JSON on stdout (its shape is described below, in --help).
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `strata predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// The project whose segmentation assigns (it is re-run first, as `strata run` does).
    pub project: PathBuf,
    /// The new customers: a table of the same kind as the project's (a customer table with the
    /// columns its recipe reads, or a transaction log with its columns).
    #[arg(long)]
    pub data: PathBuf,
    /// As-of date when the new data is a transaction log (default: its last purchase).
    #[arg(long, value_parser = parse_date)]
    pub as_of: Option<chrono::NaiveDate>,
    /// How to read the new data.
    #[command(flatten)]
    pub read: ReadArgs,
    /// Write the assignments (id, `segment` from 0, `segment_number` from 1, `segment_name`, and
    /// `probability` for mixtures) here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Read the project's data files outside its folder (only for projects you trust).
    #[arg(long)]
    pub allow_outside_paths: bool,
    /// Re-run even when the project's data fingerprint differs from the stored one.
    #[arg(long)]
    pub accept_changed_data: bool,
    /// Print JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `strata demo`.
#[derive(Debug, Args, Default)]
pub struct DemoArgs {
    /// Print JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `strata versions`.
#[derive(Debug, Args)]
pub struct VersionsArgs {
    /// The project.
    pub project: PathBuf,
    /// Print JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `strata publish`.
#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The project (re-run first; its result is what is published).
    pub project: PathBuf,
    /// Why this version, in a sentence.
    #[arg(long, default_value = "")]
    pub note: String,
    /// Who publishes (default: the login name).
    #[arg(long)]
    pub actor: Option<String>,
    /// Read the project's data files outside its folder (only for projects you trust).
    #[arg(long)]
    pub allow_outside_paths: bool,
    /// Re-run even when the project's data fingerprint differs from the stored one.
    #[arg(long)]
    pub accept_changed_data: bool,
}

/// Arguments of `strata diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The project.
    pub project: PathBuf,
    /// The older version's number.
    #[arg(long)]
    pub from: u32,
    /// The newer version's number.
    #[arg(long)]
    pub to: u32,
    /// Print JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Read the project's data files outside its folder (only for projects you trust).
    #[arg(long)]
    pub allow_outside_paths: bool,
    /// Re-run even when a version's data fingerprint differs from the stored one.
    #[arg(long)]
    pub accept_changed_data: bool,
}

/// Arguments of `strata rollback`.
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The project.
    pub project: PathBuf,
    /// The version to make current again.
    #[arg(long)]
    pub to: u32,
    /// Who rolls back (default: the login name).
    #[arg(long)]
    pub actor: Option<String>,
}

/// Arguments of `strata monitor`.
#[derive(Debug, Args)]
pub struct MonitorArgs {
    /// The project (its current version scores the new data).
    pub project: PathBuf,
    /// A new period's data, of the same kind as the project's (repeat for several periods, oldest
    /// first).
    #[arg(long, required = true)]
    pub data: Vec<PathBuf>,
    /// As-of date of a transaction log period (repeat: one per --data, or several for one log).
    #[arg(long, value_parser = parse_date)]
    pub as_of: Vec<chrono::NaiveDate>,
    /// The assignment before the first period (a CSV with the id column and `segment_name`, as
    /// `strata score --out` writes); default: the current version's own customers.
    #[arg(long)]
    pub previous: Option<PathBuf>,
    /// How to read the new data.
    #[command(flatten)]
    pub read: ReadArgs,
    /// Set and store the PSI from which an alert warns (default 0.1).
    #[arg(long)]
    pub psi_warn: Option<f64>,
    /// Set and store the PSI from which an alert calls for action (default 0.25).
    #[arg(long)]
    pub psi_act: Option<f64>,
    /// Set and store a retention alert: SEGMENT=POINTS fires when that segment's retention falls
    /// more than POINTS percentage points from the previous period (repeat for several).
    #[arg(long)]
    pub retention: Vec<String>,
    /// Do not store the periods in the project.
    #[arg(long)]
    pub no_save: bool,
    /// Who monitors (default: the login name).
    #[arg(long)]
    pub actor: Option<String>,
    /// Print JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Read the project's data files outside its folder (only for projects you trust).
    #[arg(long)]
    pub allow_outside_paths: bool,
    /// Re-run even when the project's data fingerprint differs from the stored one.
    #[arg(long)]
    pub accept_changed_data: bool,
}
