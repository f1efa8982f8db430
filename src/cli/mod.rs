//! The headless `strata` command line: argument parsing and one function per subcommand, all calling
//! the engine. Errors are one line on stderr and a non-zero exit; with `--json`, stdout holds only the
//! JSON document.

// The commands share the imports below through `use super::*`.
mod args;
mod bench;
mod bias;
mod chart;
mod clv;
mod describe;
mod govern;
mod model_args;
mod output;
mod run;
mod score;
mod segment;
mod swot;
mod versions;

use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};
use serde_json::json;

use crate::engine::cluster::sweep::sweep_with_silhouette_rows;
use crate::engine::data::roles::ColumnRole;
use crate::engine::data::{self, Delimiter, ReadOptions, TextEncoding, read_table, write_table};
use crate::engine::derive::{DerivedColumn, DerivedColumns};
use crate::engine::error::{ClusterError, DataError, PipelineError, ProjectError};
use crate::engine::features::{
    FeatureKind, FeatureRecipe, MissingRule, NegativeAmounts, Scaling, TransactionColumns, aggregate_transactions_with,
};
use crate::engine::jobs::JobContext;
use crate::engine::metrics::{Indices, evaluate};
use crate::engine::naming;
use crate::engine::pipeline::{
    self, Algorithm, DataSource, DuplicateIdRule, ModelSpec, PipelineResult, PipelineSpec, SourceResolver, SourceSpec,
    TableKind,
};
use crate::engine::project::{self, Project, SegmentNote, StoredResults};

pub use crate::engine::DEMO_PROJECT;
pub use args::*;
pub use model_args::ModelArgs;

use bench::*;
use bias::*;
use chart::*;
use clv::*;
use describe::*;
use govern::*;
pub use govern::{
    AuditArgs, AuditCommand, CommentArgs, DisputeArgs, EditArgs, OptOutArgs, PackArgs, SignoffArgs, UnpackArgs,
};
use output::*;
use run::*;
use segment::*;
use swot::*;

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
    /// Open the project for review: read-only, with the Review screen (provenance, audit log,
    /// bias audit, comments, sign-off).
    #[arg(long, requires = "project")]
    pub review: bool,
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
    /// Score new customers as the project scores its own: recipe, model, business rules (with the
    /// fitted customers' percentiles), overrides and fallback, each customer with its model segment,
    /// what changed it, a reason code, its margin and whether it lies beyond the fitted data.
    Score(PredictArgs),
    /// Write the project's whole scoring definition (recipe, centres, segments, fallback, rules
    /// with resolved percentiles, overrides) as a documented, versioned JSON file.
    ExportModel(ExportModelArgs),
    /// Write one SQL statement that scores a customer table where it lives (recipe, nearest
    /// centre, rules, overrides, fallback, reason codes) for duckdb, postgres, sqlite, bigquery,
    /// snowflake or spark.
    ExportSql(ExportSqlArgs),
    /// Write the project's model as a PMML 4.4 clustering model (recipe as transformations,
    /// centres, segment names, an affinity per segment, fitted customers to verify against).
    ExportPmml(ExportPmmlArgs),
    /// Serve the project's scoring over HTTP on this machine: POST /score (one customer or a
    /// batch as JSON), GET /model, GET /health; stops cleanly on SIGTERM or Ctrl-C.
    Serve(ServeArgs),
    /// List a project's published model versions, the current one marked.
    Versions(VersionsArgs),
    /// Publish the current fit as an immutable model version (re-run first), current from now.
    Publish(PublishArgs),
    /// Compare two versions: spec changes, segment sizes and profiles, and the migration matrix of
    /// the customers in common, by id.
    Diff(DiffArgs),
    /// Make an older version current again (logged), keeping the newer ones.
    Rollback(RollbackArgs),
    /// Score new periods with the current version and compare them with it: per-feature PSI with
    /// its bins, band, p-value and verdict; segment shares; migration; alerts; bands over periods.
    Monitor(MonitorArgs),
    /// A project's SWOT board: each segment card with its live evidence and placement hints, the
    /// other items, and the TOWS decision list (--decisions writes it as CSV).
    Swot(SwotArgs),
    /// Audit a project's segments against protected groups: each group's rate per segment, the
    /// four-fifths rule, chi-square and Fisher's exact tests, a proxy check of the features, small
    /// counts hidden (re-run as `run` does, business rules applied).
    #[command(after_long_help = BIAS_JSON_HELP)]
    Bias(BiasArgs),
    /// Customer lifetime value from a transaction log: BG/NBD, MBG/NBD and Pareto/NBD purchase
    /// models and the Gamma-Gamma spend model fitted by maximum likelihood, value over a horizon,
    /// validation on a holdout period (--demo: the CDNOW log).
    Clv(ClvArgs),
    /// Run the built-in demo project headless and print its sweep and segments.
    Demo(DemoArgs),
    /// Draw one chart of a project (re-run as `run` does) as a PNG, without a display.
    Chart(ChartArgs),
    /// Write a project's self-contained HTML report (re-run as `run` does).
    Report(ReportArgs),
    /// Change a project headless, each change an audit entry: rename, notes, rules, overrides,
    /// the small-cell threshold, the unsigned-export policy; the project is re-run and saved.
    Edit(EditArgs),
    /// The tamper-evident audit log: `verify` walks its chain and anchors, `show` lists it.
    Audit(AuditArgs),
    /// Sign off a project's version: approve it or request changes (chained into the audit log).
    Signoff(SignoffArgs),
    /// Comment on a project, a segment, a chart, a rule or a SWOT item, or reply; --list lists them.
    Comment(CommentArgs),
    /// File a dispute of a customer's segment, or approve or reject one (another person must).
    Dispute(DisputeArgs),
    /// Take customers out of targeting (stored hashed; they keep their segment for reporting).
    OptOut(OptOutArgs),
    /// Write a review pack: the project and its data in one file, with every file's fingerprint.
    Pack(PackArgs),
    /// Unpack a review pack and verify it: every file, the data's fingerprints, a re-run, the audit log.
    Unpack(UnpackArgs),
    /// Benchmark building blocks for benches/run: generate data, time one case (prints JSON).
    Bench(BenchArgs),
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
        Some(Command::Score(args)) => score::score_command(args),
        Some(Command::ExportModel(args)) => score::export_model_command(args),
        Some(Command::ExportSql(args)) => score::export_sql_command(args),
        Some(Command::ExportPmml(args)) => score::export_pmml_command(args),
        Some(Command::Serve(args)) => score::serve_command(args),
        Some(Command::Versions(args)) => versions::versions_command(args),
        Some(Command::Publish(args)) => versions::publish_command(args),
        Some(Command::Diff(args)) => versions::diff_command(args),
        Some(Command::Rollback(args)) => versions::rollback_command(args),
        Some(Command::Monitor(args)) => versions::monitor_command(args),
        Some(Command::Swot(args)) => swot_command(args),
        Some(Command::Bias(args)) => bias_command(args),
        Some(Command::Clv(args)) => clv_command(args),
        Some(Command::Demo(args)) => demo(args),
        Some(Command::Chart(args)) => chart_command(args),
        Some(Command::Report(args)) => report_command(args),
        Some(Command::Edit(args)) => edit_command(args),
        Some(Command::Audit(args)) => audit_command(args),
        Some(Command::Signoff(args)) => signoff_command(args),
        Some(Command::Comment(args)) => comment_command(args),
        Some(Command::Dispute(args)) => dispute_command(args),
        Some(Command::OptOut(args)) => opt_out_command(args),
        Some(Command::Pack(args)) => pack_command(args),
        Some(Command::Unpack(args)) => unpack_command(args),
        Some(Command::Bench(args)) => bench(args),
        None => open_window(cli.project, cli.review),
    }
}

#[cfg(feature = "gui")]
fn open_window(project: Option<PathBuf>, review: bool) -> Result<(), CliError> {
    let start = match project {
        Some(path) if review => crate::app::StartProject::Review(path),
        Some(path) => crate::app::StartProject::File(path),
        None => crate::app::StartProject::Demo,
    };
    crate::app::run_window(start).map_err(CliError)
}

/// Built without the window: the demo runs headless, and a project is re-run as `strata run` does.
#[cfg(not(feature = "gui"))]
fn open_window(project: Option<PathBuf>, _review: bool) -> Result<(), CliError> {
    match project {
        None => demo(DemoArgs::default()),
        Some(project) => Err(CliError(format!(
            "this strata was built without the window (the gui feature); re-run the project with `strata run {}`",
            project.display()
        ))),
    }
}

/// The folder a project's data paths are relative to: the project file's own folder.
pub(crate) fn project_dir(project: &Path) -> PathBuf {
    project.parent().map(Path::to_path_buf).filter(|p| !p.as_os_str().is_empty()).unwrap_or_else(cwd)
}

pub(crate) fn cwd() -> PathBuf {
    std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))
}
