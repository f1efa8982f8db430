//! The headless `strata` command line: argument parsing and one function per subcommand, all calling
//! the engine. Errors are one line on stderr and a non-zero exit; with `--json`, stdout holds only the
//! JSON document.

use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};
use serde_json::json;

use crate::engine::DEMO_PROJECT;
use crate::engine::cluster::sweep::sweep_with_silhouette_rows;
use crate::engine::data::roles::ColumnRole;
use crate::engine::data::{self, Delimiter, ReadOptions, TextEncoding, read_table, write_table};
use crate::engine::error::{ClusterError, DataError, PipelineError, ProjectError};
use crate::engine::features::{
    FeatureKind, FeatureRecipe, MissingRule, NegativeAmounts, Scaling, TransactionColumns, aggregate_transactions,
};
use crate::engine::jobs::JobContext;
use crate::engine::metrics::{Indices, evaluate};
use crate::engine::pipeline::{
    self, Algorithm, DataSource, DuplicateIdRule, ModelSpec, PipelineResult, PipelineSpec, SourceResolver, SourceSpec,
    TableKind,
};
use crate::engine::project::{self, Project, SegmentNote, StoredResults};

/// Strata: customer segmentation. Without a command, opens the window on the built-in demo project
/// (or on PROJECT).
#[derive(Debug, Parser)]
#[command(name = "strata", version, about, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// A project file to open in the window.
    pub project: Option<PathBuf>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Aggregate a transaction log to one row per customer (recency, frequency, monetary value).
    Rfm(RfmArgs),
    /// Segment for every k in a range and report every index per k, with a suggested k.
    Sweep(SweepArgs),
    /// Segment at one k; write assignments and optionally a project file.
    Fit(FitArgs),
    /// Report the indices of an existing labeling (for example a legacy segment column).
    Evaluate(EvaluateArgs),
    /// Compare two segmentations of the same customers: cross-tabulation, adjusted Rand index and
    /// adjusted mutual information.
    Compare(CompareArgs),
    /// Report column types, guessed roles and data quality of a table, with the input policy's warnings.
    Quality(QualityArgs),
    /// Describe existing segments: size, mean and median per feature, and how strongly each feature
    /// separates them (ANOVA, Kruskal-Wallis, chi-square, with effect sizes).
    Profile(ProfileArgs),
    /// Explain existing segments as readable rules: a shallow decision tree on the original
    /// features, with its fidelity.
    Explain(ExplainArgs),
    /// Bootstrap stability of a segmentation: re-fit on resampled customers, per segment the mean
    /// Jaccard overlap and how often it dissolves, and the adjusted Rand index between re-fits.
    Stability(StabilityArgs),
    /// Segments over time: cut a transaction log into windows by date, segment each, and report
    /// segment sizes per window and how customers move between segments from one window to the next.
    OverTime(OverTimeArgs),
    /// Re-run a project headless; with --verify, fail unless it reproduces the stored assignment.
    Run(RunArgs),
    /// Assign new customers to a project's segments, the way its method assigns them.
    Predict(PredictArgs),
    /// Run the built-in demo project headless and print its sweep and segments.
    Demo(DemoArgs),
    /// Benchmark building blocks for benches/run: generate data, time one case (prints JSON).
    Bench(BenchArgs),
}

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
        /// Seed.
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// Time one case on one file and print a JSON report.
    Case {
        /// load-csv, load-parquet, rfm, lloyd, kmeans, minibatch, sweep or silhouette.
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
}

impl ReadArgs {
    fn options(&self) -> ReadOptions {
        ReadOptions {
            delimiter: self.delimiter,
            quote: self.quote,
            has_header: self.header,
            encoding: self.encoding,
            skip_bad_rows: self.skip_bad_rows,
            sample_rows: self.sample_rows,
        }
    }
}

fn parse_encoding(s: &str) -> Result<TextEncoding, String> {
    match s.to_ascii_lowercase().as_str() {
        "utf8" | "utf-8" => Ok(TextEncoding::Utf8),
        "windows-1252" | "cp1252" | "latin1" | "latin-1" | "iso-8859-1" => Ok(TextEncoding::Windows1252),
        "lossy" => Ok(TextEncoding::Lossy),
        _ => Err(format!("unknown encoding '{s}'; use utf8, windows-1252 or lossy")),
    }
}

fn parse_date(s: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| format!("'{s}' is not a date in YYYY-MM-DD form"))
}

fn parse_k_range(s: &str) -> Result<(usize, usize), String> {
    let (lo, hi) = s.split_once("..").ok_or_else(|| format!("'{s}' is not a k range like 2..10"))?;
    let lo: usize = lo.trim().parse().map_err(|_| format!("'{lo}' in '{s}' is not a whole number"))?;
    let hi: usize =
        hi.trim().trim_start_matches('=').parse().map_err(|_| format!("'{hi}' in '{s}' is not a whole number"))?;
    if lo < 1 || lo > hi {
        return Err(format!("k range '{s}' must go from at least 1 up to a k no smaller than its start"));
    }
    Ok((lo, hi))
}

/// Arguments of `strata rfm`.
#[derive(Debug, Args)]
pub struct RfmArgs {
    /// The transaction log.
    #[arg(long)]
    pub transactions: PathBuf,
    /// Customer id column.
    #[arg(long)]
    pub customer_id: String,
    /// Transaction date column.
    #[arg(long)]
    pub date: String,
    /// Transaction amount column.
    #[arg(long)]
    pub amount: String,
    /// Compute features as of this date (YYYY-MM-DD); default: the day after the last transaction.
    #[arg(long, value_parser = parse_date)]
    pub as_of: Option<chrono::NaiveDate>,
    /// Refuse negative amounts instead of keeping them.
    #[arg(long)]
    pub forbid_negative: bool,
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
    /// A transaction log, aggregated to customers first (needs --customer-id, --date, --amount).
    #[arg(long, conflicts_with = "demo", requires_all = ["customer_id", "date", "amount"])]
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
    /// Amount column of a transaction log.
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
    /// A customer attribute table joined onto the customers by id.
    #[arg(long)]
    pub attributes: Option<PathBuf>,
    /// Reader options.
    #[command(flatten)]
    pub read: ReadArgs,
}

fn parse_clip(s: &str) -> Result<(f64, f64), String> {
    let (lo, hi) = s.split_once(',').ok_or_else(|| format!("'{s}' is not two percentiles like 1,99"))?;
    let parse = |v: &str| v.trim().parse::<f64>().map_err(|_| format!("'{v}' in '{s}' is not a number"));
    Ok((parse(lo)?, parse(hi)?))
}

fn parse_weight(s: &str) -> Result<(String, f64), String> {
    let (column, weight) = s.split_once('=').ok_or_else(|| format!("'{s}' is not COL=WEIGHT"))?;
    let weight = weight.trim().parse().map_err(|_| format!("weight '{weight}' for '{column}' is not a number"))?;
    Ok((column.trim().to_string(), weight))
}

fn parse_role(s: &str) -> Result<(String, ColumnRole), String> {
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

fn parse_duplicates(s: &str) -> Result<DuplicateIdRule, String> {
    match s {
        "refuse" => Ok(DuplicateIdRule::Refuse),
        "keep-first" => Ok(DuplicateIdRule::KeepFirst),
        "aggregate" => Ok(DuplicateIdRule::Aggregate),
        _ => Err(format!("unknown duplicate rule '{s}'; use refuse, keep-first or aggregate")),
    }
}

impl DataArgs {
    /// The spec's source, table kind and recipe, paths stored relative to `base_dir` where possible.
    fn spec(&self, model: ModelSpec, base_dir: Option<&Path>) -> Result<PipelineSpec, String> {
        let stored_path = |p: &Path| -> String {
            match base_dir.and_then(|b| relative_path(p, b)) {
                Some(rel) => rel,
                None => std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()).to_string_lossy().into_owned(),
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
                amount: pick(&self.amount, "dollar_value", "--amount")?,
                as_of: self.as_of,
                negative_amounts: NegativeAmounts::Allow,
                since: None,
            };
            (source, TableKind::TransactionLog(columns))
        };
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
            duplicate_ids: self.duplicates,
            role_overrides: self.role.clone(),
            recipe,
            model,
        })
    }
}

/// `path` relative to `base` when it lies inside it.
fn relative_path(path: &Path, base: &Path) -> Option<String> {
    let path = std::path::absolute(path).ok()?;
    let base = std::path::absolute(base).ok()?;
    let rel = path.strip_prefix(&base).ok()?;
    Some(rel.to_string_lossy().replace('\\', "/"))
}

/// Which method segments, with its settings; shared by sweep and fit. Settings a method does not
/// have are refused rather than ignored.
#[derive(Debug, Args, Clone)]
pub struct ModelArgs {
    /// Segmentation method.
    #[arg(long, default_value = "kmeans", value_parser = clap::builder::PossibleValuesParser::new(Algorithm::NAMES))]
    pub algorithm: String,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Initialisations per k, the best kept (default: 5 for kmeans, 3 for minibatch-kmeans, 1 for gmm).
    #[arg(long)]
    pub n_init: Option<usize>,
    /// Iteration cap per initialisation (default: 300 for kmeans, 100 for gmm).
    #[arg(long)]
    pub max_iter: Option<usize>,
    /// Convergence tolerance (default: 1e-4 of the mean feature variance for kmeans; 1e-3 change of
    /// the mean log-likelihood for gmm).
    #[arg(long)]
    pub tolerance: Option<f64>,
    /// Customers per batch (minibatch-kmeans).
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Covariance of each component (gmm): full, diag or spherical.
    #[arg(long, value_parser = ["full", "diag", "spherical"])]
    pub covariance: Option<String>,
    /// Added to every variance (gmm; default 1e-6).
    #[arg(long)]
    pub reg_covar: Option<f64>,
    /// Linkage (hierarchical): ward, average or complete.
    #[arg(long, value_parser = ["ward", "average", "complete"])]
    pub linkage: Option<String>,
    /// Customers clustered exactly (hierarchical; default 20000); above it, the tree is built on
    /// k-means micro-clusters.
    #[arg(long)]
    pub max_exact_rows: Option<usize>,
    /// Micro-clusters above --max-exact-rows (hierarchical; default 2000).
    #[arg(long)]
    pub micro_clusters: Option<usize>,
    /// Neighbourhood radius (dbscan; default: the knee of the k-distance curve). For optics: cut
    /// the reachability plot at this height instead of the xi method.
    #[arg(long)]
    pub eps: Option<f64>,
    /// Customers within eps, itself included, that make a core customer (dbscan, optics; default 5).
    #[arg(long)]
    pub min_samples: Option<usize>,
    /// The largest radius OPTICS looks (optics; default: any, every scale, slower).
    #[arg(long)]
    pub max_eps: Option<f64>,
    /// Relative steepness that starts or ends a group in the reachability plot (optics; default 0.05).
    #[arg(long)]
    pub xi: Option<f64>,
    /// Smallest group, in customers (optics; default 5% of the customers, at least --min-samples).
    #[arg(long)]
    pub min_cluster_size: Option<usize>,
    /// Weight of one differing category against squared numeric distance (kprototypes; default:
    /// half the mean standard deviation of the numeric features).
    #[arg(long)]
    pub gamma: Option<f64>,
    /// Map grid, rows x columns (som; default 10x10).
    #[arg(long, value_parser = parse_grid)]
    pub grid: Option<(usize, usize)>,
    /// Training passes (som; default 20).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Segments k-means finds inside each value tier (hybrid; default 2).
    #[arg(long)]
    pub k_per_tier: Option<usize>,
    /// Total RFM scores (3-15) where the mid and the high value tiers start (hybrid; default 8,12).
    #[arg(long, value_delimiter = ',')]
    pub tier_edges: Option<Vec<u8>>,
    /// Recency, frequency and monetary columns of the customer table (rfm, hybrid; default
    /// recency_days,frequency,monetary_total).
    #[arg(long, value_delimiter = ',')]
    pub rfm_columns: Option<Vec<String>>,
}

impl ModelArgs {
    /// The method at `k` (ignored by rfm), with every setting given.
    fn algorithm(&self, k: usize) -> Result<Algorithm, CliError> {
        let mut algorithm = Algorithm::by_name(&self.algorithm)
            .ok_or_else(|| CliError(format!("unknown algorithm '{}'", self.algorithm)))?;
        algorithm.set_k(k);
        algorithm.set_seed(self.seed);
        if self.rfm_columns.as_ref().is_some_and(|c| c.len() != 3) {
            return Err(CliError("--rfm-columns takes three columns: recency,frequency,monetary".into()));
        }
        if self.tier_edges.as_ref().is_some_and(|e| e.len() != 2) {
            return Err(CliError("--tier-edges takes two total scores: MID,HIGH (for example 8,12)".into()));
        }
        let label = algorithm.label();
        let refuse =
            |option: &str| Err(CliError(format!("--{option} is not a setting of {} ({label})", self.algorithm)));
        match &mut algorithm {
            Algorithm::KMeans(p) => {
                p.n_init = self.n_init.unwrap_or(p.n_init);
                p.max_iter = self.max_iter.unwrap_or(p.max_iter);
                p.tolerance = self.tolerance.unwrap_or(p.tolerance);
            }
            Algorithm::MiniBatchKMeans(p) => {
                p.n_init = self.n_init.unwrap_or(p.n_init);
                p.batch_size = self.batch_size.unwrap_or(p.batch_size);
            }
            Algorithm::Gmm(p) => {
                p.n_init = self.n_init.unwrap_or(p.n_init);
                p.max_iter = self.max_iter.unwrap_or(p.max_iter);
                p.tolerance = self.tolerance.unwrap_or(p.tolerance);
                p.reg_covar = self.reg_covar.unwrap_or(p.reg_covar);
                if let Some(name) = &self.covariance {
                    p.covariance = crate::engine::cluster::gmm::CovarianceType::ALL
                        .into_iter()
                        .find(|c| c.name() == name)
                        .unwrap_or_default();
                }
            }
            Algorithm::Hierarchical(p) => {
                if let Some(name) = &self.linkage {
                    p.linkage = crate::engine::cluster::hierarchical::Linkage::ALL
                        .into_iter()
                        .find(|l| l.name() == name)
                        .unwrap_or_default();
                }
                p.max_exact_rows = self.max_exact_rows.unwrap_or(p.max_exact_rows);
                p.micro_clusters = self.micro_clusters.unwrap_or(p.micro_clusters).min(p.max_exact_rows);
            }
            Algorithm::Dbscan(p) => {
                p.eps = self.eps.or(p.eps);
                p.min_samples = self.min_samples.unwrap_or(p.min_samples);
            }
            Algorithm::Optics(p) => {
                p.eps = self.eps.or(p.eps);
                p.min_samples = self.min_samples.unwrap_or(p.min_samples);
                p.max_eps = self.max_eps.or(p.max_eps);
                p.xi = self.xi.unwrap_or(p.xi);
                p.min_cluster_size = self.min_cluster_size.or(p.min_cluster_size);
            }
            Algorithm::KPrototypes(p) => {
                p.n_init = self.n_init.unwrap_or(p.n_init);
                p.max_iter = self.max_iter.unwrap_or(p.max_iter);
                p.gamma = self.gamma.or(p.gamma);
            }
            Algorithm::Som(p) => {
                if let Some((rows, cols)) = self.grid {
                    (p.rows, p.cols) = (rows, cols);
                }
                p.epochs = self.epochs.unwrap_or(p.epochs);
            }
            Algorithm::Hybrid(p) => {
                if let Some([r, f, m]) = self.rfm_columns.as_deref() {
                    (p.recency, p.frequency, p.monetary) = (r.clone(), f.clone(), m.clone());
                }
                p.k_per_tier = self.k_per_tier.unwrap_or(p.k_per_tier);
                if let Some([mid, top]) = self.tier_edges.as_deref() {
                    p.tier_edges = (*mid, *top);
                }
            }
            Algorithm::Rfm(p) => {
                if let Some([r, f, m]) = self.rfm_columns.as_deref() {
                    (p.recency, p.frequency, p.monetary) = (r.clone(), f.clone(), m.clone());
                }
            }
        }
        // Each option and the methods that have it; given to another method, it is refused.
        let owners: [(bool, &str, &[&str]); 20] = [
            (self.n_init.is_some(), "n-init", &["kmeans", "minibatch-kmeans", "gmm", "kprototypes"]),
            (self.max_iter.is_some(), "max-iter", &["kmeans", "gmm", "kprototypes"]),
            (self.tolerance.is_some(), "tolerance", &["kmeans", "gmm"]),
            (self.batch_size.is_some(), "batch-size", &["minibatch-kmeans"]),
            (self.covariance.is_some(), "covariance", &["gmm"]),
            (self.reg_covar.is_some(), "reg-covar", &["gmm"]),
            (self.linkage.is_some(), "linkage", &["hierarchical"]),
            (self.max_exact_rows.is_some(), "max-exact-rows", &["hierarchical"]),
            (self.micro_clusters.is_some(), "micro-clusters", &["hierarchical"]),
            (self.eps.is_some(), "eps", &["dbscan", "optics"]),
            (self.min_samples.is_some(), "min-samples", &["dbscan", "optics"]),
            (self.max_eps.is_some(), "max-eps", &["optics"]),
            (self.xi.is_some(), "xi", &["optics"]),
            (self.min_cluster_size.is_some(), "min-cluster-size", &["optics"]),
            (self.gamma.is_some(), "gamma", &["kprototypes"]),
            (self.grid.is_some(), "grid", &["som"]),
            (self.epochs.is_some(), "epochs", &["som"]),
            (self.k_per_tier.is_some(), "k-per-tier", &["hybrid"]),
            (self.tier_edges.is_some(), "tier-edges", &["hybrid"]),
            (self.rfm_columns.is_some(), "rfm-columns", &["rfm", "hybrid"]),
        ];
        if let Some((_, option, _)) =
            owners.iter().find(|(given, _, methods)| *given && !methods.contains(&self.algorithm.as_str()))
        {
            return refuse(option);
        }
        algorithm.check()?;
        Ok(algorithm)
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
    /// Print JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

fn parse_grid(text: &str) -> Result<(usize, usize), String> {
    let parsed = text.split_once('x').and_then(|(r, c)| Some((r.trim().parse().ok()?, c.trim().parse().ok()?)));
    parsed.ok_or_else(|| format!("'{text}' is not a grid like 10x10"))
}

fn parse_share(text: &str) -> Result<f64, String> {
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
    /// Print JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `strata quality`.
#[derive(Debug, Args)]
pub struct QualityArgs {
    /// The table.
    #[arg(long)]
    pub data: PathBuf,
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
    /// Write the assignments here: id, `segment`, `segment_name` (the project's names), and with
    /// business rules `model_segment` and `changed_by`, as `fit --out` writes them.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Read data files outside the project's folder (only for projects you trust).
    #[arg(long)]
    pub allow_outside_paths: bool,
    /// Run even when a data file's fingerprint differs from the stored one.
    #[arg(long)]
    pub accept_changed_data: bool,
    /// Print JSON on stdout.
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
    /// Write the assignments (id, `segment`, `segment_name`, and `probability` for mixtures) here.
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

/// A CLI failure: already a sentence for the user.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CliError(String);

/// Every engine error reaches the user as its message, once.
macro_rules! cli_error_from {
    ($($error:ty),*) => {
        $(impl From<$error> for CliError {
            fn from(e: $error) -> Self {
                CliError(e.to_string())
            }
        })*
    };
}
cli_error_from!(PipelineError, DataError, ClusterError, ProjectError);

impl From<String> for CliError {
    fn from(e: String) -> Self {
        CliError(e)
    }
}

fn warn_all(warnings: &[String]) {
    for w in crate::engine::warnings::summarise(warnings) {
        eprintln!("warning: {w}");
    }
}

fn print_json(value: &serde_json::Value) -> Result<(), CliError> {
    use std::io::Write;
    let text = serde_json::to_string_pretty(value).map_err(|e| CliError(format!("could not write JSON: {e}")))?;
    // A reader that stops early (`| head`) is not an error of ours.
    match writeln!(std::io::stdout().lock(), "{text}") {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(CliError(format!("could not write JSON: {e}"))),
        _ => Ok(()),
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Some(Command::Rfm(args)) => rfm(args),
        Some(Command::Sweep(args)) => sweep_command(args),
        Some(Command::Fit(args)) => fit(args),
        Some(Command::Evaluate(args)) => evaluate_command(args),
        Some(Command::Compare(args)) => compare_command(args),
        Some(Command::Quality(args)) => quality(args),
        Some(Command::Profile(args)) => profile_command(args),
        Some(Command::Explain(args)) => explain_command(args),
        Some(Command::Stability(args)) => stability_command(args),
        Some(Command::OverTime(args)) => over_time_command(args),
        Some(Command::Run(args)) => run_project(args),
        Some(Command::Predict(args)) => predict_command(args),
        Some(Command::Demo(args)) => demo(args),
        Some(Command::Bench(args)) => bench(args),
        None => open_window(cli.project),
    }
}

#[cfg(feature = "gui")]
fn open_window(project: Option<PathBuf>) -> Result<(), CliError> {
    let start = project.map_or(crate::app::StartProject::Demo, crate::app::StartProject::File);
    crate::app::run_window(start).map_err(CliError)
}

/// Built without the window: the demo runs headless, and a project is re-run as `strata run` does.
#[cfg(not(feature = "gui"))]
fn open_window(project: Option<PathBuf>) -> Result<(), CliError> {
    match project {
        None => demo(DemoArgs::default()),
        Some(project) => Err(CliError(format!(
            "this strata was built without the window (the gui feature); re-run the project with `strata run {}`",
            project.display()
        ))),
    }
}

fn bench(args: BenchArgs) -> Result<(), CliError> {
    let failed = |e: crate::bench::BenchError| CliError(e.to_string());
    match args.command {
        BenchCommand::Gen { out, customers, transactions, seed } => {
            let written = crate::bench::generate(&out, &customers, &transactions, seed).map_err(failed)?;
            for path in written {
                eprintln!("wrote {}", path.display());
            }
            Ok(())
        }
        BenchCommand::Case { case, input, k, k_range, seed, rows, silhouette_rows, iterations, n_init, eps } => {
            let options = crate::bench::CaseOptions {
                eps,
                k,
                k_min: k_range.0,
                k_max: k_range.1,
                seed,
                rows,
                silhouette_rows,
                iterations,
                n_init,
            };
            let report = crate::bench::run_case(&case, &input, &options).map_err(failed)?;
            println!("{report}");
            Ok(())
        }
        #[cfg(feature = "gui")]
        BenchCommand::Frame { input, features, k, k_range, frames } => {
            let features = (!features.is_empty()).then_some(features.as_slice());
            let report = crate::app::frame_bench::measure(&input, features, k, k_range, frames).map_err(CliError)?;
            println!("{report}");
            Ok(())
        }
    }
}

/// The folder a project's data paths are relative to: the project file's own folder.
fn project_dir(project: &Path) -> PathBuf {
    project.parent().map(Path::to_path_buf).filter(|p| !p.as_os_str().is_empty()).unwrap_or_else(cwd)
}

fn cwd() -> PathBuf {
    std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))
}

fn rfm(args: RfmArgs) -> Result<(), CliError> {
    let needed = [args.customer_id.clone(), args.date.clone(), args.amount.clone()];
    let table = data::read_table_columns(&args.transactions, &args.read.options(), Some(&needed))?;
    warn_all(&table.warnings);
    let columns = TransactionColumns {
        customer_id: args.customer_id,
        date: args.date,
        amount: args.amount,
        as_of: args.as_of,
        negative_amounts: if args.forbid_negative { NegativeAmounts::Forbid } else { NegativeAmounts::Allow },
        since: None,
    };
    let mut result = aggregate_transactions(&table.frame, &columns)?;
    warn_all(&result.warnings);
    write_table(&mut result.customers, &args.out)?;
    eprintln!(
        "{} customers from {} transactions as of {}; written to {}",
        result.customers.height(),
        result.n_transactions_used,
        result.as_of,
        args.out.display()
    );
    Ok(())
}

/// The customer table of `args` (read, joined, aggregated as `fit` does), and the spec it came from.
fn customer_table(args: &DataArgs) -> Result<(PipelineSpec, pipeline::CustomerTable), CliError> {
    let model = ModelSpec {
        algorithm: Algorithm::KMeans(Default::default()),
        k_range: None,
        min_segment_share: None,
        stability: None,
        explain_depth: None,
    };
    let spec = args.spec(model, None)?;
    let table = pipeline::build_customer_table(&spec, &SourceResolver::user_chosen(&cwd()))?;
    Ok((spec, table))
}

/// The customer table, the fitted recipe and the feature matrix, as `fit` builds them.
fn features_with_recipe(
    args: &DataArgs,
) -> Result<
    (pipeline::CustomerTable, crate::engine::features::FittedRecipe, crate::engine::features::FeatureMatrix),
    CliError,
> {
    let (spec, table) = customer_table(args)?;
    let roles = pipeline::effective_roles(&table.frame, &spec.role_overrides);
    let role_map = roles.iter().map(|g| (g.column.clone(), g.role)).collect();
    let (recipe, matrix) = spec.recipe.fit_transform(&table.frame, &role_map).map_err(PipelineError::from)?;
    Ok((table, recipe, matrix))
}

/// Loads the customer table and builds the feature matrix for sweep and evaluate.
fn features_for(
    args: &DataArgs,
) -> Result<(pipeline::CustomerTable, crate::engine::features::FeatureMatrix), CliError> {
    let (table, _, matrix) = features_with_recipe(args)?;
    Ok((table, matrix))
}

fn sweep_command(args: SweepArgs) -> Result<(), CliError> {
    let (table, matrix) = features_for(&args.data)?;
    warn_all(&table.warnings);
    warn_all(&matrix.warnings);
    let (lo, hi) = args.k;
    let result = sweep_with_silhouette_rows(
        matrix.values.view(),
        lo,
        hi,
        &args.model.algorithm(lo)?,
        args.silhouette_rows,
        &JobContext::inline(),
    )?;
    warn_all(&result.warnings);
    if args.json {
        let mut value = serde_json::to_value(&result).map_err(|e| CliError(e.to_string()))?;
        if let Some(runs) = value["runs"].as_array_mut() {
            for (run, stored) in runs.iter_mut().zip(&result.runs) {
                run["smallest_share"] = json!(crate::engine::cluster::sweep::smallest_share(stored));
            }
        }
        if let Some(share) = args.min_segment_share {
            let (feasible, note) = crate::engine::cluster::sweep::feasibility(&result, share);
            value["feasibility"] = json!({"min_segment_share": share, "feasible_k": feasible, "note": note});
        }
        return print_json(&value);
    }
    print_sweep_table(&result);
    if let Some(share) = args.min_segment_share {
        let (feasible, note) = crate::engine::cluster::sweep::feasibility(&result, share);
        println!(
            "feasible (every segment at least {:.1}% of the customers): {}",
            100.0 * share,
            if feasible.is_empty() {
                "no k".to_string()
            } else {
                feasible.iter().map(|k| format!("k = {k}")).collect::<Vec<_>>().join(", ")
            }
        );
        if let Some(note) = note {
            println!("{note}");
        }
    }
    Ok(())
}

fn print_sweep_table(result: &crate::engine::cluster::sweep::SweepResult) {
    let fmt = |v: Option<f64>, digits: usize| v.map_or("-".to_string(), |v| format!("{v:.digits$}"));
    println!("{} customers segmented", result.n_rows);
    println!(
        "{:>3}  {:>14}  {:>10}  {:>17}  {:>14}  sizes",
        "k", "inertia", "silhouette", "calinski_harabasz", "davies_bouldin"
    );
    for r in &result.runs {
        let mark = if Some(r.k) == result.suggested_k { "*" } else { " " };
        let criteria = match (r.bic, r.aic) {
            (Some(bic), Some(aic)) => format!("  BIC {bic:.1}  AIC {aic:.1}"),
            _ => String::new(),
        };
        println!(
            "{:>2}{mark}  {:>14.2}  {:>10}  {:>17}  {:>14}  {:?}{criteria}",
            r.k,
            r.inertia,
            fmt(r.silhouette, 4),
            fmt(r.calinski_harabasz, 1),
            fmt(r.davies_bouldin, 4),
            r.sizes
        );
    }
    if let Some(k) = result.knee_k {
        println!("elbow knee: k = {k}");
    }
    match result.suggested_k {
        Some(k) => println!("suggested k = {k}: {}", result.reason),
        None => println!("no suggestion: {}", result.reason),
    }
}

/// The method of `model` at `k`: refused when a method that finds its own segments is given a k
/// (or a k range to sweep), or one that needs k is not.
fn algorithm_at(model: &ModelArgs, k: Option<usize>, sweeping: bool) -> Result<Algorithm, CliError> {
    let name = model.algorithm.as_str();
    let finds_its_own = Algorithm::by_name(name).is_some_and(|a| a.k().is_none());
    match (k, finds_its_own) {
        (_, true) if sweeping => {
            Err(CliError(format!("{name} finds its own segments; there is no k range to --sweep")))
        }
        (Some(_), true) => Err(CliError(format!("{name} finds its own segments; leave out --k"))),
        (None, true) => model.algorithm(0),
        (Some(k), false) => model.algorithm(k),
        (None, false) => Err(CliError(format!("{name} needs --k, the number of segments"))),
    }
}

fn fit(args: FitArgs) -> Result<(), CliError> {
    let base_dir = args.project.as_deref().map_or_else(cwd, project_dir);
    let algorithm = algorithm_at(&args.model, args.k, args.sweep.is_some())?;
    let model = ModelSpec {
        algorithm,
        k_range: args.sweep,
        min_segment_share: args.min_segment_share,
        stability: None,
        explain_depth: None,
    };
    let mut spec = args.data.spec(model, Some(&base_dir))?;
    // Paths are stored relative to the project's folder (absolute when outside it), so they resolve
    // against that folder; the user typed them, so they may lie anywhere.
    let result = pipeline::run(&spec, &SourceResolver::user_chosen(&base_dir), &JobContext::inline())?;
    warn_all(&result.warnings);
    let id_column = spec.id_column().map(str::to_string);
    if let Some(out) = &args.out {
        let mut assignments = pipeline::assignments_frame(&result, id_column.as_deref())?;
        write_table(&mut assignments, out)?;
        eprintln!("assignments of {} customers written to {}", assignments.height(), out.display());
    }
    if let Some(path) = &args.project {
        spec.source.fingerprint = result.source_fingerprints.first().cloned();
        if let Some(attributes) = &mut spec.attributes {
            attributes.fingerprint = result.source_fingerprints.get(1).cloned();
        }
        let mut project = Project::new(spec);
        project.results = Some(StoredResults::from_result(&result));
        project.segments = default_segment_notes(&result);
        project.save(path)?;
        eprintln!("project written to {}", path.display());
    }
    if args.json {
        return print_json(&fit_json(&result));
    }
    print_fit_summary(&result, &[]);
    Ok(())
}

fn default_segment_notes(result: &PipelineResult) -> Vec<SegmentNote> {
    (0..result.n_segments())
        .map(|s| SegmentNote {
            segment: s,
            name: result.default_segment_name(s),
            notes: if s == result.fit.k() {
                "customers with missing data, kept out of the fit".to_string()
            } else {
                String::new()
            },
            ..Default::default()
        })
        .collect()
}

fn indices_json(indices: &Indices) -> serde_json::Value {
    json!({
        "k": indices.k,
        "inertia": indices.inertia,
        "silhouette": indices.silhouette.as_ref().map(|s| s.mean),
        "calinski_harabasz": indices.calinski_harabasz,
        "davies_bouldin": indices.davies_bouldin,
        "sizes": indices.sizes,
        "silhouette_detail": indices.silhouette,
    })
}

fn fit_json(result: &PipelineResult) -> serde_json::Value {
    json!({
        "n_rows": result.matrix.kept_rows.len(),
        "n_customers": result.customers.height(),
        "n_fallback": result.matrix.fallback_rows.len(),
        "n_dropped": result.matrix.dropped_rows.len(),
        "features": result.matrix.names,
        "algorithm": result.fit.method,
        "segment_names": (0..result.n_segments()).map(|s| result.default_segment_name(s)).collect::<Vec<_>>(),
        "indices": indices_json(&result.indices),
        "mixture": result.fit.mixture.as_ref().map(|m| json!({
            "mean_log_likelihood": m.mean_log_likelihood, "bic": m.bic, "aic": m.aic,
        })),
        "assigns_new_customers_by": result.fit.model.describe(),
        "centroids": result.centroid_model().centroids,
        "assignment_fingerprint": result.assignment_fingerprint,
        "sweep": result.sweep,
        "multicollinearity": result.multicollinearity,
        "warnings": result.warnings,
    })
}

/// What the business rules and overrides did, for `strata run --json`.
fn rules_json(result: &PipelineResult, rules: &crate::engine::rules::BusinessRules) -> Option<serde_json::Value> {
    let outcome = result.rules.as_ref()?;
    Some(json!({
        "customers_changed": outcome.n_changed(),
        "rule_segments": outcome.rule_segments,
        "rules": rules.rules.iter().zip(&outcome.rules).map(|(rule, effect)| json!({
            "rule": rule.text, "why": rule.why, "resolved": effect.resolved,
            "matched": effect.matched, "changed": effect.changed, "error": effect.error,
        })).collect::<Vec<_>>(),
        "overrides": rules.overrides.iter().zip(&outcome.overrides).map(|(o, effect)| json!({
            "customer": o.customer, "segment": o.segment, "why": o.why,
            "changed": effect.changed, "error": effect.error,
        })).collect::<Vec<_>>(),
    }))
}

/// What the business rules and overrides did, as text.
fn print_rules(result: &PipelineResult, rules: &crate::engine::rules::BusinessRules) {
    let Some(outcome) = &result.rules else { return };
    println!("\nbusiness rules and overrides moved {} customers from the model's segments", outcome.n_changed());
    for (i, (rule, effect)) in rules.rules.iter().zip(&outcome.rules).enumerate() {
        match &effect.error {
            Some(error) => println!("  rule {}: {}  -- not applied: {error}", i + 1, rule.text),
            None => println!(
                "  rule {}: {}  -- matched {}, moved {}",
                i + 1,
                effect.resolved,
                effect.matched,
                effect.changed
            ),
        }
    }
    for (o, effect) in rules.overrides.iter().zip(&outcome.overrides) {
        let what = match &effect.error {
            Some(error) => format!("not applied: {error}"),
            None if effect.changed => "moved".to_string(),
            None => "already there".to_string(),
        };
        println!("  override: customer {} to '{}' ({}) -- {what}", o.customer, o.segment, o.why);
    }
}

fn print_fit_summary(result: &PipelineResult, names: &[SegmentNote]) {
    if let Some(s) = &result.sweep {
        print_sweep_table(s);
        println!();
    }
    let n = result.matrix.kept_rows.len();
    println!(
        "{}, k = {} on {n} customers ({} features: {})",
        crate::engine::cluster::Algorithm::label_of(result.fit.method),
        result.indices.k,
        result.matrix.names.len(),
        result.matrix.names.join(", ")
    );
    if let Some(m) = &result.fit.mixture {
        println!(
            "mean log-likelihood {:.4}, BIC {:.1}, AIC {:.1} ({} EM iterations{})",
            m.mean_log_likelihood,
            m.bic,
            m.aic,
            result.fit.n_iter,
            if result.fit.converged { "" } else { ", not converged" }
        );
    }
    // Profiles in original units, over the numeric source columns of the recipe.
    let columns = result.fitted_recipe.numeric_columns();
    let n_segments = result.n_segments();
    let profiles =
        crate::engine::profile::profile_segments(&result.customers, &result.segment_per_customer, n_segments, &columns);
    let header: String = columns.iter().map(|c| format!("  {c:>16}")).collect();
    println!("{:>3}  {:<22} {:>7} {:>6}{header}   (means)", "#", "name", "size", "share");
    for (segment, size) in
        (0..n_segments).map(|s| (s, result.segment_per_customer.iter().filter(|&&x| x == Some(s)).count()))
    {
        let name = names
            .iter()
            .find(|s| s.segment == segment)
            .map_or_else(|| result.default_segment_name(segment), |s| s.name.clone());
        let means: String = match &profiles {
            Ok(p) => p[segment].means.iter().map(|m| format!("  {m:>16.2}")).collect(),
            Err(_) => String::new(),
        };
        println!("{segment:>3}  {name:<22} {size:>7} {:>5.1}%{means}", 100.0 * size as f64 / n.max(1) as f64);
    }
    let i = &result.indices;
    let fmt = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.4}"));
    println!(
        "inertia {:.2}, silhouette {}, Calinski-Harabasz {}, Davies-Bouldin {}",
        i.inertia,
        fmt(i.silhouette.as_ref().map(|s| s.mean)),
        fmt(i.calinski_harabasz),
        fmt(i.davies_bouldin)
    );
    println!("assignment fingerprint {}", result.assignment_fingerprint);
}

fn compare_command(args: CompareArgs) -> Result<(), CliError> {
    let usage = "compare needs --data FILE with --labels A --labels B, or --assignments A --assignments B";
    // Two labelings of the same customers, as pairs; customers without both are left out.
    let (names, pairs, n_left_out): ([String; 2], Vec<(String, String)>, usize) = match &args.data {
        Some(path) => {
            let [a, b] = <[String; 2]>::try_from(args.labels.clone()).map_err(|_| CliError(usage.to_string()))?;
            let table = read_table(path, &args.read.options())?;
            warn_all(&table.warnings);
            let (first, second) = (data::column_texts(&table.frame, &a)?, data::column_texts(&table.frame, &b)?);
            let pairs: Vec<(String, String)> =
                first.into_iter().zip(second).filter_map(|(x, y)| Some((x?, y?))).collect();
            let left_out = table.frame.height() - pairs.len();
            ([a, b], pairs, left_out)
        }
        None => {
            let [a, b] = <[PathBuf; 2]>::try_from(args.assignments.clone()).map_err(|_| CliError(usage.to_string()))?;
            if !args.labels.is_empty() {
                return Err(CliError(usage.to_string()));
            }
            let read = |path: &Path| -> Result<Vec<(String, Option<String>)>, CliError> {
                let table = read_table(path, &args.read.options())?;
                warn_all(&table.warnings);
                let columns = table.frame.get_column_names();
                let (Some(id), Some(label)) = (
                    columns.first().map(|c| c.to_string()),
                    // Named segments (RFM rules) by name, others by number.
                    columns
                        .iter()
                        .find(|c| c.as_str() == "segment_name")
                        .or_else(|| columns.iter().find(|c| c.as_str() == "segment"))
                        .or(columns.get(1))
                        .map(|c| c.to_string()),
                ) else {
                    return Err(CliError(format!(
                        "an assignment file needs an id column and a segment column: {}",
                        path.display()
                    )));
                };
                let ids = data::column_texts(&table.frame, &id)?;
                let labels = data::column_texts(&table.frame, &label)?;
                Ok(ids.into_iter().zip(labels).filter_map(|(id, l)| Some((id?, l))).collect())
            };
            let (first, second) = (read(&a)?, read(&b)?);
            let by_id: std::collections::HashMap<String, Option<String>> = second.into_iter().collect();
            let pairs: Vec<(String, String)> =
                first.iter().filter_map(|(id, x)| Some((x.clone()?, by_id.get(id)?.clone()?))).collect();
            let left_out = first.len().max(by_id.len()) - pairs.len();
            ([a.display().to_string(), b.display().to_string()], pairs, left_out)
        }
    };
    if n_left_out > 0 {
        eprintln!("warning: {n_left_out} customer(s) without both labels were left out");
    }
    let (a, b): (Vec<String>, Vec<String>) = pairs.into_iter().unzip();
    let table = crate::engine::metrics::agreement::Crosstab::of(&a, &b)?;
    let (ari, ami) = (table.adjusted_rand_index(), table.adjusted_mutual_information());
    if args.json {
        return print_json(&json!({
            "ari": ari,
            "ami": ami,
            "crosstab": {
                "rows": names[0],
                "columns": names[1],
                "row_labels": table.row_labels,
                "column_labels": table.column_labels,
                "counts": table.counts,
            },
            "n_customers": table.n(),
            "n_left_out": n_left_out,
        }));
    }
    println!("{} against {} on {} customers", names[0], names[1], table.n());
    println!("adjusted Rand index {ari:.4}, adjusted mutual information {ami:.4}");
    let width = table.column_labels.iter().map(|l| l.len()).max().unwrap_or(0).max(6) + 2;
    let header: String = table.column_labels.iter().map(|l| format!("{l:>width$}")).collect();
    let first = table.row_labels.iter().map(|l| l.len()).max().unwrap_or(0).max(6) + 2;
    println!("{:>first$}{header}", "");
    for (label, row) in table.row_labels.iter().zip(&table.counts) {
        let cells: String = row.iter().map(|c| format!("{c:>width$}")).collect();
        println!("{label:>first$}{cells}");
    }
    Ok(())
}

fn evaluate_command(args: EvaluateArgs) -> Result<(), CliError> {
    let (table, matrix) = features_for(&args.data)?;
    warn_all(&table.warnings);
    warn_all(&matrix.warnings);
    let labels_column = data::column(&table.frame, &args.labels)?;
    let as_text = labels_column.cast(&polars::prelude::DataType::String).map_err(DataError::from)?;
    let texts = as_text.str().map_err(DataError::from)?;
    let numeric = labels_column.dtype().is_primitive_numeric();
    let mut rows = Vec::new();
    let mut values: Vec<String> = Vec::new();
    let mut n_missing = 0;
    for (matrix_row, &row) in matrix.kept_rows.iter().enumerate() {
        match texts.get(row) {
            Some(v) => {
                rows.push(matrix_row);
                values.push(v.to_string());
            }
            None => n_missing += 1,
        }
    }
    if n_missing > 0 {
        eprintln!("warning: {n_missing} row(s) without a label in '{}' were left out", args.labels);
    }
    let mut levels: Vec<String> = values.clone();
    levels.sort_by(|a, b| match (numeric, a.parse::<f64>(), b.parse::<f64>()) {
        (true, Ok(x), Ok(y)) => x.total_cmp(&y),
        _ => a.cmp(b),
    });
    levels.dedup();
    let labels: Vec<usize> = values.iter().map(|v| levels.iter().position(|l| l == v).unwrap_or(0)).collect();
    let x = matrix.values.select(ndarray::Axis(0), &rows);
    let indices = evaluate(x.view(), &labels, levels.len(), args.seed)?;
    let mut out = indices_json(&indices);
    out["n_rows"] = json!(rows.len());
    out["labels"] = json!(levels);
    if args.json {
        return print_json(&out);
    }
    println!(
        "labeling '{}' on {} customers, {} segments: {}",
        args.labels,
        rows.len(),
        levels.len(),
        levels.join(", ")
    );
    let fmt = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.4}"));
    println!(
        "inertia {:.2}, silhouette {}, Calinski-Harabasz {}, Davies-Bouldin {}, sizes {:?}",
        indices.inertia,
        fmt(indices.silhouette.as_ref().map(|s| s.mean)),
        fmt(indices.calinski_harabasz),
        fmt(indices.davies_bouldin),
        indices.sizes
    );
    Ok(())
}

/// A customer table, its segments' names, and each row's segment (`None`: no label).
type Labelled = (pipeline::CustomerTable, Vec<String>, Vec<Option<usize>>);

/// The customer table of `args` (no recipe fitted), and each row's segment from the `labels`
/// column (numbered in the labels' natural order; rows without one: `None`).
fn labelled_customers(args: &DataArgs, labels: &str) -> Result<Labelled, CliError> {
    let (_, table) = customer_table(args)?;
    for feature in &args.features {
        data::column(&table.frame, feature)?;
    }
    let texts = data::column_texts(&table.frame, labels)?;
    let present: Vec<String> = texts.iter().flatten().cloned().collect();
    let (names, index) = crate::engine::metrics::agreement::label_index(&present);
    if names.len() > 1_000 {
        return Err(CliError(format!(
            "'{labels}' has {} distinct values: that looks like an id, not a segment",
            names.len()
        )));
    }
    let segments = texts.iter().map(|t| t.as_deref().and_then(|t| index.get(t).copied())).collect();
    Ok((table, names, segments))
}

fn profile_command(args: ProfileArgs) -> Result<(), CliError> {
    use crate::engine::profile::separation::{FeatureSeparation, segment_modes, separation_of};
    let (table, names, segments) = labelled_customers(&args.data, &args.labels)?;
    warn_all(&table.warnings);
    let frame = &table.frame;
    let features = &args.data.features;
    let separations = separation_of(frame, features, &args.data.categorical, &segments)?;
    let numeric: Vec<String> = separations
        .iter()
        .filter(|s| matches!(s, FeatureSeparation::Numeric(_)))
        .map(|s| s.feature().to_string())
        .collect();
    let profiles = crate::engine::profile::profile_segments(frame, &segments, names.len(), &numeric)?;
    let mut modes = Vec::new();
    for s in &separations {
        if let FeatureSeparation::Categorical(c) = s {
            modes.push((
                c.feature.clone(),
                segment_modes(&data::column_texts(frame, &c.feature)?, &segments, names.len()),
            ));
        }
    }
    let n_left_out = segments.iter().filter(|s| s.is_none()).count();
    if n_left_out > 0 {
        eprintln!("warning: {n_left_out} customer(s) without a value in '{}' were left out", args.labels);
    }
    if args.json {
        let segments_json: Vec<serde_json::Value> = profiles
            .iter()
            .map(|p| {
                let per = |values: &[f64]| -> serde_json::Map<String, serde_json::Value> {
                    numeric.iter().zip(values).map(|(f, v)| (f.clone(), json!(v))).collect()
                };
                let mut entry = json!({
                    "segment": names[p.segment],
                    "size": p.size,
                    "share": p.share,
                    "mean": per(&p.means),
                    "median": per(&p.medians),
                });
                if !modes.is_empty() {
                    let mode: serde_json::Map<String, serde_json::Value> = modes
                        .iter()
                        .map(|(f, m)| {
                            let value = m[p.segment].as_ref().map(|(v, share)| json!({"value": v, "share": share}));
                            (f.clone(), value.unwrap_or(serde_json::Value::Null))
                        })
                        .collect();
                    entry["mode"] = serde_json::Value::Object(mode);
                }
                entry
            })
            .collect();
        return print_json(&json!({
            "labels": args.labels,
            "n_customers": frame.height(),
            "n_left_out": n_left_out,
            "segments": segments_json,
            "features": separations,
        }));
    }
    println!("{} customers in {} segments of '{}'", frame.height() - n_left_out, names.len(), args.labels);
    for p in &profiles {
        println!("  {:<24} {:>9} ({:.1}%)", names[p.segment], p.size, 100.0 * p.share);
    }
    println!("Features by how strongly they separate the segments:");
    let mut sorted: Vec<&FeatureSeparation> = separations.iter().collect();
    sorted.sort_by(|a, b| b.effect_size().total_cmp(&a.effect_size()));
    // Below the smallest double a p-value is 0: say so rather than print 0.
    let p = |p: f64| if p == 0.0 { "p < 1e-300".to_string() } else { format!("p {p:.2e}") };
    for s in sorted {
        match s {
            FeatureSeparation::Numeric(n) => println!(
                "  {:<24} eta2 {:.3}  F {:.1} ({})  eps2 {:.3}  H {:.1} ({})",
                n.feature,
                n.eta_squared,
                n.anova_f,
                p(n.anova_p),
                n.epsilon_squared,
                n.kruskal_h,
                p(n.kruskal_p)
            ),
            FeatureSeparation::Categorical(c) => println!(
                "  {:<24} Cramer's V {:.3}  chi2 {:.1} on {} df ({})",
                c.feature,
                c.cramers_v,
                c.chi_square,
                c.degrees_of_freedom,
                p(c.chi_square_p)
            ),
        }
    }
    Ok(())
}

fn explain_command(args: ExplainArgs) -> Result<(), CliError> {
    use crate::engine::profile::explain::{ExplainParams, explain_segments};
    let (table, names, segments) = labelled_customers(&args.data, &args.labels)?;
    warn_all(&table.warnings);
    let params = ExplainParams { max_depth: args.max_depth, min_leaf_share: args.min_leaf_share };
    let explanation =
        explain_segments(&table.frame, &args.data.features, &args.data.categorical, &segments, names.len(), &params)?;
    let left_out = table.frame.height() - explanation.n;
    if left_out > 0 {
        eprintln!("warning: {left_out} customer(s) without a segment or with a missing feature value were left out");
    }
    if args.json {
        let rules: Vec<serde_json::Value> = names
            .iter()
            .enumerate()
            .map(|(s, name)| {
                let mine: Vec<_> = explanation.rules.iter().filter(|r| r.segment == s).collect();
                json!({
                    "segment": name,
                    "fidelity": explanation.fidelity_by_segment[s],
                    "rules": mine.iter().map(|r| json!({
                        "text": r.text,
                        "conditions": r.conditions,
                        "customers": r.customers,
                        "precision": r.precision,
                        "coverage": r.coverage,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        return print_json(&json!({
            "labels": args.labels,
            "n_customers": explanation.n,
            "max_depth": args.max_depth,
            "fidelity": explanation.fidelity,
            "rules": rules,
        }));
    }
    println!(
        "A tree of depth {} puts {:.1}% of {} customers in their own segment.",
        args.max_depth,
        100.0 * explanation.fidelity,
        explanation.n
    );
    for (s, name) in names.iter().enumerate() {
        println!("{name} ({:.1}% recovered):", 100.0 * explanation.fidelity_by_segment[s]);
        let mine: Vec<_> = explanation.rules.iter().filter(|r| r.segment == s).collect();
        if mine.is_empty() {
            println!("  no rule at this depth predicts it");
        }
        for r in mine {
            println!(
                "  {}  ({} customers, {:.0}% of them in it, {:.0}% of the segment)",
                r.text,
                r.customers,
                100.0 * r.precision,
                100.0 * r.coverage
            );
        }
    }
    Ok(())
}

fn over_time_command(args: OverTimeArgs) -> Result<(), CliError> {
    use crate::engine::over_time::{WindowParams, segments_over_time};
    if args.k.is_none() && Algorithm::by_name(&args.model.algorithm).is_some_and(|a| a.k().is_some()) {
        return Err(CliError(format!("{} needs --k", args.model.algorithm)));
    }
    let algorithm = algorithm_at(&args.model, args.k, false)?;
    let model = ModelSpec { algorithm, k_range: None, min_segment_share: None, stability: None, explain_depth: None };
    let spec = args.data.spec(model, None)?;
    let params = WindowParams {
        months: args.window_months,
        windows: args.windows,
        cumulative: !args.window_only,
        end: args.data.as_of,
        model: if args.refit {
            crate::engine::over_time::WindowModel::Refit
        } else {
            crate::engine::over_time::WindowModel::Fixed
        },
    };
    let out = segments_over_time(&spec, &SourceResolver::user_chosen(&cwd()), &params, &JobContext::inline())?;
    warn_all(&out.warnings);
    if args.json {
        return print_json(&over_time_json(&out));
    }
    print_over_time(&out);
    Ok(())
}

/// The JSON of `strata over-time` (and of a project's windows in `strata run --json`).
fn over_time_json(out: &crate::engine::over_time::OverTime) -> serde_json::Value {
    json!({
        "window_months": out.params.months,
        "cumulative": out.params.cumulative,
        "model": match out.params.model {
            crate::engine::over_time::WindowModel::Fixed => "fixed",
            crate::engine::over_time::WindowModel::Refit => "refit",
        },
        "segments": out.names,
        "windows": out.windows.iter().map(|w| json!({
            "start": w.start.to_string(), "end": w.end.to_string(), "n_customers": w.n_customers,
            "sizes": w.sizes, "silhouette": w.silhouette,
        })).collect::<Vec<_>>(),
        "transitions": out.transitions.iter().map(|t| json!({
            "from": out.windows[t.from].end.to_string(), "to": out.windows[t.to].end.to_string(),
            "matrix": t.counts, "stayed": if t.stayed.is_finite() { json!(t.stayed) } else { json!(null) },
        })).collect::<Vec<_>>(),
        "warnings": out.warnings,
    })
}

fn print_over_time(out: &crate::engine::over_time::OverTime) {
    let header: String = out.windows.iter().map(|w| format!(" {:>11}", w.end.to_string())).collect();
    println!(
        "segment sizes per window (as of each date; {} months each, {}):",
        out.params.months,
        if out.params.cumulative { "all history to date" } else { "transactions inside the window only" }
    );
    println!("{:<28}{header}", "segment");
    for (s, name) in out.names.iter().enumerate() {
        let sizes: String = out.windows.iter().map(|w| format!(" {:>11}", w.sizes[s])).collect();
        println!("{name:<28}{sizes}");
    }
    let totals: String = out.windows.iter().map(|w| format!(" {:>11}", w.n_customers)).collect();
    println!("{:<28}{totals}", "customers");
    for t in &out.transitions {
        println!(
            "\nfrom {} to {}: {:.1}% of customers present in both kept their segment",
            out.windows[t.from].end,
            out.windows[t.to].end,
            100.0 * t.stayed
        );
        let mut labels: Vec<String> = out.names.clone();
        labels.push("(not present)".into());
        let header: String = (0..labels.len())
            .map(|j| format!(" {:>8}", if j < out.names.len() { format!("-> {}", j + 1) } else { "-> none".into() }))
            .collect();
        println!("{:<28}{header}", "");
        for (i, row) in t.counts.iter().enumerate() {
            let cells: String = row.iter().map(|c| format!(" {c:>8}")).collect();
            println!("{:<28}{cells}", format!("{} {}", i + 1, labels[i]).chars().take(27).collect::<String>());
        }
    }
}

fn stability_command(args: StabilityArgs) -> Result<(), CliError> {
    use crate::engine::cluster::stability::{StabilityParams, bootstrap_stability};
    if args.k.is_none()
        && args.k_range.is_none()
        && Algorithm::by_name(&args.model.algorithm).is_some_and(|a| a.k().is_some())
    {
        return Err(CliError(format!("{} needs --k (or --k-range)", args.model.algorithm)));
    }
    let (table, recipe, matrix) = features_with_recipe(&args.data)?;
    warn_all(&table.warnings);
    warn_all(&matrix.warnings);
    let x = matrix.values.view();
    let params = StabilityParams { bootstrap: args.bootstrap, seed: args.model.seed };
    let cancel = crate::engine::jobs::CancelToken::new();
    let at = |k: Option<usize>| -> Result<_, CliError> {
        let algorithm = pipeline::for_recipe(&algorithm_at(&args.model, k, false)?, &recipe);
        let fitted = algorithm.fit_matrix(x, &cancel)?;
        let stability = bootstrap_stability(x, &fitted.labels, &algorithm, &params, &cancel)?;
        Ok((fitted, stability))
    };
    let finds_its_own = Algorithm::by_name(&args.model.algorithm).is_some_and(|a| a.k().is_none());
    let main = if args.k.is_some() || finds_its_own { Some(at(args.k)?) } else { None };
    let mut per_k = Vec::new();
    if let Some((lo, hi)) = args.k_range {
        if finds_its_own {
            return Err(CliError(format!("{} finds its own segments; there is no k range", args.model.algorithm)));
        }
        if lo < 2 || hi < lo {
            return Err(CliError("--k-range needs 2 <= A <= B".into()));
        }
        for k in lo..=hi {
            let (_, s) = at(Some(k))?;
            let jaccards: Vec<f64> = s.segments.iter().map(|g| g.mean_jaccard).collect();
            per_k.push(json!({
                "k": k,
                "ari_mean": s.ari_mean,
                "ari_sd": s.ari_sd,
                "mean_jaccard": jaccards.iter().sum::<f64>() / jaccards.len().max(1) as f64,
                "min_jaccard": jaccards.iter().copied().fold(f64::INFINITY, f64::min),
                "unstable_segments": s.segments.iter().filter(|g| g.unstable).count(),
            }));
        }
    }
    if args.json {
        let mut out = json!({
            "algorithm": args.model.algorithm,
            "bootstrap": args.bootstrap,
            "seed": args.model.seed,
            "n_customers": x.nrows(),
        });
        if let Some((fitted, s)) = &main {
            out["k"] = json!(fitted.k());
            out["segments"] = serde_json::to_value(&s.segments).map_err(|e| CliError(e.to_string()))?;
            out["ari_mean"] = json!(s.ari_mean);
            out["ari_sd"] = json!(s.ari_sd);
        }
        if !per_k.is_empty() {
            out["per_k"] = json!(per_k);
        }
        return print_json(&out);
    }
    if let Some((fitted, s)) = &main {
        println!(
            "{} at k = {}, {} re-fits on resampled customers: adjusted Rand index {:.3} (sd {:.3})",
            Algorithm::label_of(&args.model.algorithm),
            fitted.k(),
            args.bootstrap,
            s.ari_mean,
            s.ari_sd
        );
        for g in &s.segments {
            println!(
                "  segment {:<3} {:>8} customers  mean Jaccard {:.3}  dissolved in {:.0}% of re-fits{}",
                g.segment,
                g.size,
                g.mean_jaccard,
                100.0 * g.dissolved_share,
                if g.unstable { "  NOT STABLE" } else { "" }
            );
        }
    }
    for row in &per_k {
        println!(
            "k = {:<3} ARI {:.3}  mean Jaccard {:.3}  lowest {:.3}  {} not stable",
            row["k"],
            row["ari_mean"].as_f64().unwrap_or(f64::NAN),
            row["mean_jaccard"].as_f64().unwrap_or(f64::NAN),
            row["min_jaccard"].as_f64().unwrap_or(f64::NAN),
            row["unstable_segments"]
        );
    }
    Ok(())
}

fn quality(args: QualityArgs) -> Result<(), CliError> {
    let table = read_table(&args.data, &args.read.options())?;
    let roles = pipeline::effective_roles(&table.frame, &args.role);
    let id =
        args.id.clone().or_else(|| roles.iter().find(|r| r.role == ColumnRole::CustomerId).map(|r| r.column.clone()));
    let report = crate::engine::data::quality::quality_report(&table.frame, id.as_deref(), args.as_of)?;
    let mut warnings = table.warnings.clone();
    warnings.extend(report.warnings.iter().cloned());
    if args.json {
        return print_json(&json!({
            "n_rows": report.n_rows,
            "dialect": table.dialect,
            "roles": roles,
            "columns": report.columns,
            "duplicate_ids": report.duplicate_ids,
            "warnings": warnings,
        }));
    }
    println!("{} rows, {} columns: {}", report.n_rows, report.columns.len(), args.data.display());
    println!("{:<24} {:<12} {:<12} {:>8} {:>9}  summary", "column", "type", "role", "missing", "distinct");
    for (c, r) in report.columns.iter().zip(&roles) {
        let summary = match (&c.numeric, &c.date_range) {
            (Some(n), _) => format!(
                "min {:.4} median {:.4} mean {:.4} max {:.4} skew {:.2} outliers {}",
                n.min, n.median, n.mean, n.max, n.skew, n.n_outliers
            ),
            (None, Some((lo, hi))) => format!("{lo} to {hi}"),
            _ => String::new(),
        };
        println!(
            "{:<24} {:<12} {:<12} {:>7.1}% {:>9}  {summary}",
            c.column,
            c.dtype,
            format!("{:?}", r.role),
            100.0 * c.missing_share,
            c.n_distinct
        );
    }
    for w in &warnings {
        println!("warning: {w}");
    }
    Ok(())
}

/// Re-runs a project (used by `strata run`, the demo and tests); returns the result and whether the
/// assignment matched the stored fingerprint.
pub fn rerun_project(
    project: &Project,
    base_dir: &Path,
    allow_outside: bool,
    accept_changed_data: bool,
) -> Result<(PipelineResult, Option<Vec<String>>), CliError> {
    let resolver = SourceResolver { base_dir: base_dir.to_path_buf(), allow_outside };
    let mut result = pipeline::run(&project.spec, &resolver, &JobContext::inline())?;
    let id_column = pipeline::override_id_column(&project.spec, &result).map(str::to_string);
    pipeline::apply_business_rules(&mut result, &project.rules, &project.segments, id_column.as_deref());
    // A changed data file is reported, never silently used.
    let sources = std::iter::once(&project.spec.source).chain(project.spec.attributes.as_ref());
    for (spec, actual) in sources.zip(&result.source_fingerprints) {
        if let Some(stored) = &spec.fingerprint
            && stored != actual
            && !accept_changed_data
        {
            let source_path = match &spec.source {
                DataSource::File(path) => path.clone(),
                DataSource::DemoTransactions => crate::engine::DEMO_TRANSACTIONS_NAME.to_string(),
            };
            return Err(ProjectError::FingerprintMismatch {
                source_path,
                stored: stored.chars().take(12).collect(),
                actual: actual.chars().take(12).collect(),
            }
            .into());
        }
    }
    let differences = crate::engine::project::verify::verify_run(project, &result);
    Ok((result, differences))
}

/// A segment's name in a project: the one its notes give, else the run's default.
fn segment_name(project: &Project, result: &PipelineResult, segment: usize) -> String {
    project
        .segments
        .iter()
        .find(|n| n.segment == segment)
        .map_or_else(|| result.default_segment_name(segment), |n| n.name.clone())
}

fn run_project(args: RunArgs) -> Result<(), CliError> {
    let opened = project::open(&args.project)?;
    if let Some(banner) = &opened.banner {
        eprintln!("note: {banner}");
    }
    let base_dir = project_dir(&args.project);
    let (result, differences) =
        rerun_project(&opened.project, &base_dir, args.allow_outside_paths, args.accept_changed_data)?;
    warn_all(&result.warnings);
    // The windows of the Over time screen, when the project has used it.
    let over_time = match &opened.project.over_time {
        Some(params) => {
            let resolver = SourceResolver { base_dir: base_dir.clone(), allow_outside: args.allow_outside_paths };
            match crate::engine::over_time::segments_over_time(
                &opened.project.spec,
                &resolver,
                params,
                &JobContext::inline(),
            ) {
                Ok(windows) => {
                    warn_all(&windows.warnings);
                    Some(windows)
                }
                // The segmentation itself stands; only the windows could not be made.
                Err(e) => {
                    eprintln!("warning: segments over time: {e}");
                    None
                }
            }
        }
        None => None,
    };
    if let Some(path) = &args.out {
        let id_column = pipeline::override_id_column(&opened.project.spec, &result).map(str::to_string);
        let mut assignments = pipeline::assignments_frame(&result, id_column.as_deref())?;
        let names: Vec<Option<String>> =
            result.segment_per_customer.iter().map(|s| s.map(|s| segment_name(&opened.project, &result, s))).collect();
        assignments.with_column(polars::prelude::Column::new("segment_name".into(), names)).map_err(DataError::from)?;
        write_table(&mut assignments, path)?;
        eprintln!("assignments of {} customers written to {}", assignments.height(), path.display());
    }
    if args.json {
        let mut out = fit_json(&result);
        out["verified"] = json!(differences.as_ref().map(Vec::is_empty));
        if let Some(d) = differences.as_ref().filter(|d| !d.is_empty()) {
            out["differences"] = json!(d);
        }
        if let Some(rules) = rules_json(&result, &opened.project.rules) {
            out["business_rules"] = rules;
        }
        out["audit"] = json!(opened.project.audit);
        if let Some(windows) = &over_time {
            out["over_time"] = over_time_json(windows);
        }
        print_json(&out)?;
    } else {
        print_fit_summary(&result, &opened.project.segments);
        print_rules(&result, &opened.project.rules);
        if let Some(windows) = &over_time {
            println!();
            print_over_time(windows);
        }
    }
    if args.verify {
        match &differences {
            Some(d) if d.is_empty() => {
                eprintln!(
                    "verified: the re-run reproduces every stored result (assignment, sizes, centroids, indices, sweep)"
                )
            }
            Some(d) => {
                let shown: Vec<&str> = d.iter().take(10).map(String::as_str).collect();
                let more = if d.len() > 10 { format!("; and {} more", d.len() - 10) } else { String::new() };
                return Err(CliError(format!(
                    "verification failed: {} stored {} not reproduced: {}{more}",
                    d.len(),
                    if d.len() == 1 { "result is" } else { "results are" },
                    shown.join("; ")
                )));
            }
            None => {
                return Err(CliError(
                    "nothing to verify: the project has no stored results; run `strata fit --project` first".into(),
                ));
            }
        }
    }
    Ok(())
}

fn predict_command(args: PredictArgs) -> Result<(), CliError> {
    let opened = project::open(&args.project)?;
    let base_dir = project_dir(&args.project);
    let (result, _) = rerun_project(&opened.project, &base_dir, args.allow_outside_paths, args.accept_changed_data)?;
    // The new data, read as the project's own: same kind of table, same columns.
    let mut spec = opened.project.spec.clone();
    spec.source = SourceSpec {
        source: DataSource::File(std::path::absolute(&args.data).unwrap_or(args.data.clone()).display().to_string()),
        read_options: args.read.options(),
        fingerprint: None,
    };
    if let TableKind::TransactionLog(columns) = &mut spec.table {
        columns.as_of = args.as_of;
    } else if args.as_of.is_some() {
        return Err(CliError("--as-of is for transaction logs; the project segments a customer table".into()));
    }
    let table = pipeline::build_customer_table(&spec, &SourceResolver::user_chosen(&cwd()))?;
    warn_all(&table.warnings);
    let prediction = pipeline::predict_customers(&result, &table.frame)?;
    warn_all(&prediction.warnings);
    if !opened.project.rules.is_empty() {
        eprintln!(
            "note: new customers are assigned by the model; the project's business rules and overrides apply to \
             its own customers (`strata run`), not to these"
        );
    }
    let name_of = |s: usize| segment_name(&opened.project, &result, s);
    let n_segments = result.n_segments();
    let mut counts = vec![0usize; n_segments];
    for s in prediction.segments.iter().flatten() {
        counts[*s] += 1;
    }
    let unassigned = prediction.segments.iter().filter(|s| s.is_none()).count();
    if let Some(out) = &args.out {
        use polars::prelude::{Column, DataFrame};
        let id = match spec.id_column() {
            Some(id) => data::column(&table.frame, id)?.clone(),
            None => Column::new("row".into(), (1..=table.frame.height() as u64).collect::<Vec<_>>()),
        };
        let segment: Vec<Option<u32>> = prediction.segments.iter().map(|s| s.map(|s| s as u32)).collect();
        let names: Vec<Option<String>> = prediction.segments.iter().map(|s| s.map(name_of)).collect();
        let mut columns = vec![id, Column::new("segment".into(), segment), Column::new("segment_name".into(), names)];
        if let Some(p) = &prediction.probability {
            columns.push(Column::new("probability".into(), p.clone()));
        }
        let mut frame = DataFrame::new_infer_height(columns).map_err(DataError::from)?;
        write_table(&mut frame, out)?;
        eprintln!("assignments of {} new customers written to {}", frame.height(), out.display());
    }
    if args.json {
        return print_json(&json!({
            "n_customers": prediction.segments.len(),
            "n_unassigned": unassigned,
            "assigned_by": prediction.method,
            "segments": (0..n_segments).map(|s| json!({"segment": s, "name": name_of(s), "size": counts[s]})).collect::<Vec<_>>(),
        }));
    }
    println!("{} new customers assigned by {}", prediction.segments.len(), prediction.method);
    for (s, count) in counts.iter().enumerate() {
        println!("{s:>3}  {:<24} {count:>8}", name_of(s));
    }
    if unassigned > 0 {
        println!("     {:<24} {unassigned:>8}", "(not assigned)");
    }
    Ok(())
}

fn demo(args: DemoArgs) -> Result<(), CliError> {
    let opened = project::parse(DEMO_PROJECT)?;
    let (result, differences) = rerun_project(&opened.project, &cwd(), false, false)?;
    if args.json {
        let mut out = fit_json(&result);
        out["verified"] = json!(differences.as_ref().map(Vec::is_empty));
        if let Some(d) = differences.as_ref().filter(|d| !d.is_empty()) {
            out["differences"] = json!(d);
        }
        return print_json(&out);
    }
    println!(
        "Strata demo: CDNOW customers segmented on log-scaled, standardised recency, frequency and monetary value"
    );
    println!("(the same pipeline the window runs on its demo project, headless; `strata` alone opens the window)\n");
    print_fit_summary(&result, &opened.project.segments);
    if let Some(r) = &opened.project.results {
        println!(
            "stored fingerprint {} - {}",
            r.assignment_fingerprint,
            match differences.as_deref() {
                Some([]) => "reproduced".to_string(),
                Some(d) => format!("NOT reproduced ({})", d.join("; ")),
                None => "NOT reproduced".to_string(),
            }
        );
    }
    Ok(())
}
