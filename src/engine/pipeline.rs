//! Spec in, results out: load the source, build the customer table, apply the recipe, segment.
//!
//! The GUI's job runner and the CLI both call [`run`]; anything the window computes, a script can
//! reproduce.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::NaiveDate;
use polars::prelude::*;
use serde::{Deserialize, Serialize};

pub use crate::engine::cluster::Algorithm;
use crate::engine::cluster::hybrid::{HybridParams, fit_hybrid};
use crate::engine::cluster::rfm_rules::{RfmParams, fit_rfm};
use crate::engine::cluster::sweep::{SharedModel, SweepResult, sweep};
use crate::engine::cluster::{CentroidModel, FittedModel, Segmentation, assignment_fingerprint};
use crate::engine::data::quality::{QualityReport, duplicate_warning, find_duplicate_ids, quality_report};
use crate::engine::data::roles::{ColumnRole, RoleGuess, guess_roles};
use crate::engine::data::{self, LoadedTable, ReadOptions};
use crate::engine::error::{DataError, PipelineError, ProjectError};
use crate::engine::features::correlation::{Multicollinearity, multicollinearity};
use crate::engine::features::{
    FeatureMatrix, FeatureRecipe, FittedRecipe, TransactionColumns, aggregate_transactions, join_attributes,
};
use crate::engine::jobs::JobContext;
use crate::engine::metrics::{Indices, evaluate_with_silhouette};
use crate::engine::{DEMO_TRANSACTIONS, DEMO_TRANSACTIONS_NAME};

/// Where a table comes from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum DataSource {
    /// A file; relative paths are relative to the project file's folder.
    File(String),
    /// The CDNOW transaction log built into Strata.
    DemoTransactions,
}

/// A source with its reader options and the fingerprint of the content it was built from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceSpec {
    /// Where.
    pub source: DataSource,
    /// How to read it.
    pub read_options: ReadOptions,
    /// blake3 of the file's bytes when the project was last run.
    pub fingerprint: Option<String>,
}

/// What the main source holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum TableKind {
    /// One row per customer (duplicates handled by the duplicate-id rule).
    CustomerTable {
        /// The id column, if any; without one, a column guessed to be the id is still checked for
        /// repeated ids.
        id_column: Option<String>,
        /// The user said the table has no id column, so no column is guessed to be one.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        no_id: bool,
    },
    /// A transaction log aggregated to customers as of a date.
    TransactionLog(TransactionColumns),
}

/// What to do when a customer table repeats an id.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum DuplicateIdRule {
    /// Stop and report them, so the user chooses.
    #[default]
    Refuse,
    /// Keep the first row of each id.
    KeepFirst,
    /// One row per id: numeric columns averaged, others from the first row.
    Aggregate,
}

/// Model settings: the algorithm with its chosen k, and an optional k range to sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelSpec {
    /// Algorithm and parameters (including k and seed).
    pub algorithm: Algorithm,
    /// k range to sweep, inclusive.
    pub k_range: Option<(usize, usize)>,
    /// Business feasibility: the smallest share of customers a segment may have (0.05 = 5%); the
    /// k-choice view marks the k whose smallest segment is below it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_segment_share: Option<f64>,
    /// Bootstrap stability, checked with every run when set (the fit, and every k of the sweep).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stability: Option<crate::engine::cluster::stability::StabilityParams>,
    /// Depth of the decision tree that explains the segments on the Segments screen (default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explain_depth: Option<usize>,
}

/// Everything that defines a segmentation; small, comparable and stored in the project.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PipelineSpec {
    /// The main table.
    pub source: SourceSpec,
    /// What it holds.
    pub table: TableKind,
    /// A customer attribute table joined by id.
    pub attributes: Option<SourceSpec>,
    /// Duplicate-id rule for customer tables.
    pub duplicate_ids: DuplicateIdRule,
    /// Roles the user set, overriding the guesses.
    pub role_overrides: Vec<(String, ColumnRole)>,
    /// The feature recipe.
    pub recipe: FeatureRecipe,
    /// The model.
    pub model: ModelSpec,
}

impl PipelineSpec {
    /// The id column of the customer table, if known.
    pub fn id_column(&self) -> Option<&str> {
        match &self.table {
            TableKind::CustomerTable { id_column, .. } => id_column.as_deref(),
            TableKind::TransactionLog(t) => Some(&t.customer_id),
        }
    }
}

/// Paths are resolved against this folder; outside it, only when the user allowed it.
#[derive(Clone, Debug)]
pub struct SourceResolver {
    /// The project file's folder (or the working directory for CLI runs without a project).
    pub base_dir: PathBuf,
    /// Whether paths outside `base_dir` may be read (the user picked them).
    pub allow_outside: bool,
}

impl SourceResolver {
    /// A resolver for paths the user typed: anything may be read, relative to `base_dir`.
    pub fn user_chosen(base_dir: &Path) -> Self {
        Self { base_dir: base_dir.to_path_buf(), allow_outside: true }
    }

    /// The full path of a stored source path, refusing escapes from the project folder: by its text
    /// (absolute, `..`) and by where it leads once symbolic links are followed (a `customers.csv`
    /// that links to a file elsewhere, or a linked subfolder).
    pub fn resolve(&self, stored: &str) -> Result<PathBuf, ProjectError> {
        let path = Path::new(stored);
        let joined = self.base_dir.join(path);
        if self.allow_outside {
            return Ok(joined);
        }
        let escapes = path.is_absolute()
            || path
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir | std::path::Component::Prefix(_)));
        if escapes {
            return Err(ProjectError::OutsideProject { source_path: stored.to_string(), leads_to: None });
        }
        let Ok(real) = std::fs::canonicalize(&joined) else {
            // Nothing there (or a dangling link): reading it reports the missing file.
            return Ok(joined);
        };
        let folder = std::fs::canonicalize(&self.base_dir).unwrap_or_else(|_| self.base_dir.clone());
        if !real.starts_with(&folder) {
            return Err(ProjectError::OutsideProject { source_path: stored.to_string(), leads_to: Some(real) });
        }
        // The resolved path is read, so a link swapped after this check still cannot lead out.
        Ok(real)
    }
}

/// blake3 of a file's bytes, hex.
pub fn fingerprint_bytes(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

/// A loaded source with its fingerprint.
pub struct LoadedSource {
    /// The table.
    pub table: LoadedTable,
    /// blake3 of the bytes read.
    pub fingerprint: String,
}

/// Reads a source's table (only `columns`, where given).
pub fn read_source(
    spec: &SourceSpec,
    resolver: &SourceResolver,
    columns: Option<&[String]>,
) -> Result<LoadedTable, PipelineError> {
    read_source_with(spec, resolver, columns, &[])
}

/// As [`read_source`], with `text_columns` (customer ids) kept as the text written, never typed as
/// numbers: `00042` keeps its zeros and stays apart from `42`.
pub fn read_source_with(
    spec: &SourceSpec,
    resolver: &SourceResolver,
    columns: Option<&[String]>,
    text_columns: &[String],
) -> Result<LoadedTable, PipelineError> {
    Ok(match &spec.source {
        DataSource::DemoTransactions => data::read_text_with(
            DEMO_TRANSACTIONS,
            Path::new(DEMO_TRANSACTIONS_NAME),
            &spec.read_options,
            columns,
            text_columns,
        )?,
        DataSource::File(stored) => {
            data::read_table_with(&resolver.resolve(stored)?, &spec.read_options, columns, text_columns)?
        }
    })
}

/// The fingerprint of a source's bytes, hashed as a stream: a file is never held in memory beside
/// the table parsed from it.
fn source_fingerprint(spec: &SourceSpec, resolver: &SourceResolver) -> Result<String, PipelineError> {
    match &spec.source {
        DataSource::DemoTransactions => Ok(fingerprint_bytes(DEMO_TRANSACTIONS)),
        DataSource::File(stored) => {
            let path = resolver.resolve(stored)?;
            let io = |source| DataError::Io { path: path.clone(), source };
            // A pipe or a device is refused before a byte is hashed (it would block or never end).
            let file = data::open_data_file(&path)?;
            Ok(blake3::Hasher::new().update_reader(file).map_err(io)?.finalize().to_hex().to_string())
        }
    }
}

/// The customer table and what happened building it.
#[derive(Clone)]
pub struct CustomerTable {
    /// One row per customer.
    pub frame: DataFrame,
    /// As-of date, for transaction logs.
    pub as_of: Option<NaiveDate>,
    /// Fingerprints of the sources, in order (main, attributes).
    pub fingerprints: Vec<String>,
    /// Warnings so far.
    pub warnings: Vec<String>,
}

/// Stage 1: sources to one row per customer.
pub fn build_customer_table(spec: &PipelineSpec, resolver: &SourceResolver) -> Result<CustomerTable, PipelineError> {
    build_customer_table_with(spec, resolver, None)
}

/// Stage 1 with the sources' fingerprints already known (main, then attributes), so they are not
/// hashed again; `None` hashes them here.
fn build_customer_table_with(
    spec: &PipelineSpec,
    resolver: &SourceResolver,
    known_fingerprints: Option<&[String]>,
) -> Result<CustomerTable, PipelineError> {
    let fingerprint_of = |source: &SourceSpec, index: usize| match known_fingerprints.and_then(|k| k.get(index)) {
        Some(known) => Ok(known.clone()),
        None => source_fingerprint(source, resolver),
    };
    // A transaction log needs three columns: the others are not typed (text) or not read (Parquet).
    let needed = match &spec.table {
        TableKind::TransactionLog(t) => Some(vec![t.customer_id.clone(), t.date.clone(), t.amount.clone()]),
        TableKind::CustomerTable { .. } => None,
    };
    let ids: Vec<String> = spec.id_column().map(str::to_string).into_iter().collect();
    let main = LoadedSource {
        fingerprint: fingerprint_of(&spec.source, 0)?,
        table: read_source_with(&spec.source, resolver, needed.as_deref(), &ids)?,
    };
    let mut warnings = main.table.warnings.clone();
    let mut fingerprints = vec![main.fingerprint];
    let (mut frame, as_of) = match &spec.table {
        TableKind::TransactionLog(columns) => {
            let rfm = aggregate_transactions(&main.table.frame, columns)?;
            warnings.extend(rfm.warnings);
            (rfm.customers, Some(rfm.as_of))
        }
        TableKind::CustomerTable { id_column, no_id } => {
            let mut frame = main.table.frame;
            match id_column {
                Some(id) => {
                    frame = apply_duplicate_rule(frame, id, spec.duplicate_ids, IdOrigin::Named, &mut warnings)?
                }
                // Repeated ids are found whether or not the id was named: segmenting a customer's
                // rows as several customers would silently change the result.
                None if !no_id => {
                    let guessed = effective_roles(&frame, &spec.role_overrides)
                        .into_iter()
                        .find(|g| g.role == ColumnRole::CustomerId)
                        .map(|g| g.column);
                    if let Some(id) = guessed {
                        frame = apply_duplicate_rule(frame, &id, spec.duplicate_ids, IdOrigin::Guessed, &mut warnings)?;
                    }
                }
                None => {}
            }
            (frame, None)
        }
    };
    if let Some(attributes) = &spec.attributes {
        let id = spec.id_column().ok_or_else(|| DataError::BadColumn {
            column: "(customer id)".into(),
            problem: "is needed to join an attribute table; set the customer id column".into(),
        })?;
        let loaded = LoadedSource {
            fingerprint: fingerprint_of(attributes, 1)?,
            table: read_source_with(attributes, resolver, None, &ids)?,
        };
        warnings.extend(loaded.table.warnings.iter().cloned());
        fingerprints.push(loaded.fingerprint);
        let (joined, join_warnings) = join_attributes(&frame, &loaded.table.frame, id)?;
        frame = joined;
        warnings.extend(join_warnings);
    }
    Ok(CustomerTable { frame, as_of, fingerprints, warnings })
}

/// Whether the user named the id column or it was guessed from its name and values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum IdOrigin {
    Named,
    Guessed,
}

fn apply_duplicate_rule(
    frame: DataFrame,
    id: &str,
    rule: DuplicateIdRule,
    origin: IdOrigin,
    warnings: &mut Vec<String>,
) -> Result<DataFrame, PipelineError> {
    let Some(duplicates) = find_duplicate_ids(&frame, id)? else {
        return Ok(frame);
    };
    let described = duplicate_warning(&duplicates);
    match rule {
        DuplicateIdRule::Refuse => Err(DataError::BadColumn {
            column: id.to_string(),
            problem: format!(
                "repeats customer ids: {}; choose keep-first or aggregate (--duplicates keep-first|aggregate){}",
                described.trim_start_matches(&format!("column '{id}': ")),
                match origin {
                    IdOrigin::Named => "",
                    IdOrigin::Guessed => {
                        ", or, if it is not a customer id (it was guessed from its name and values), pass --no-id or give the id with --id"
                    }
                }
            ),
        }
        .into()),
        DuplicateIdRule::KeepFirst => {
            warnings.push(format!("{described}; kept the first row of each (your choice)"));
            Ok(frame
                .lazy()
                .unique_stable(Some(cols([id])), UniqueKeepStrategy::First)
                .collect()
                .map_err(DataError::from)?)
        }
        DuplicateIdRule::Aggregate => {
            warnings.push(format!(
                "{described}; rows aggregated per id: numbers averaged, other columns from the first row (your choice)"
            ));
            let aggregations: Vec<Expr> = frame
                .columns()
                .iter()
                .filter(|c| c.name().as_str() != id)
                .map(|c| {
                    if c.dtype().is_primitive_numeric() {
                        col(c.name().clone()).mean()
                    } else {
                        col(c.name().clone()).first()
                    }
                })
                .collect();
            Ok(frame.lazy().group_by_stable([col(id)]).agg(aggregations).collect().map_err(DataError::from)?)
        }
    }
}

/// Roles after the user's overrides.
pub fn effective_roles(frame: &DataFrame, overrides: &[(String, ColumnRole)]) -> Vec<RoleGuess> {
    let mut roles = guess_roles(frame);
    for guess in &mut roles {
        if let Some((_, role)) = overrides.iter().find(|(c, _)| *c == guess.column) {
            guess.role = *role;
            guess.reason = "set by you".to_string();
        }
    }
    roles
}

/// Everything a run produces.
pub struct PipelineResult {
    /// The customer table.
    pub customers: DataFrame,
    /// As-of date for transaction logs.
    pub as_of: Option<NaiveDate>,
    /// Column roles used.
    pub roles: Vec<RoleGuess>,
    /// Quality report of the customer table.
    pub quality: QualityReport,
    /// Fitted transform parameters.
    pub fitted_recipe: FittedRecipe,
    /// The matrix the model saw.
    pub matrix: FeatureMatrix,
    /// Correlations and VIFs of the features.
    pub multicollinearity: Multicollinearity,
    /// The sweep, when the spec has a k range.
    pub sweep: Option<SweepResult>,
    /// The fit at the spec's k (or the rules' segments).
    pub fit: Segmentation,
    /// Indices of that fit.
    pub indices: Indices,
    /// Segment per customer row: fitted segment, `k` for the fallback segment, `None` when dropped.
    pub segment_per_customer: Vec<Option<usize>>,
    /// Fingerprint of `segment_per_customer`.
    pub assignment_fingerprint: String,
    /// Fingerprints of the sources read.
    pub source_fingerprints: Vec<String>,
    /// Bootstrap stability of the fit, when the spec asks for it and the method is fitted.
    pub stability: Option<crate::engine::cluster::stability::Stability>,
    /// Bootstrap stability of every k of the sweep, when the spec asks for it.
    pub k_stability: Vec<crate::engine::cluster::stability::KStability>,
    /// The business rules and overrides applied after the model (see [`apply_business_rules`]):
    /// `segment_per_customer` is then their result and the model's is kept here.
    pub rules: Option<crate::engine::rules::RulesOutcome>,
    /// Every warning of every stage.
    pub warnings: Vec<String>,
}

impl PipelineResult {
    /// Segments the model can put customers in: the fitted ones, plus the fallback segment when it
    /// has anyone.
    pub fn n_model_segments(&self) -> usize {
        self.fit.sizes.len() + usize::from(!self.matrix.fallback_rows.is_empty())
    }

    /// Segments customers can be in: the model's, then those the business rules made.
    pub fn n_segments(&self) -> usize {
        self.n_model_segments() + self.rules.as_ref().map_or(0, |r| r.rule_segments.len())
    }

    /// The model's segment per customer row, before any business rule or override.
    pub fn model_segments(&self) -> &[Option<usize>] {
        self.rules.as_ref().map_or(&self.segment_per_customer, |r| &r.model_segments)
    }

    /// The name a segment has before the user names it: the method's (rules name their segments),
    /// otherwise "Segment N"; the fallback segment is "Fallback"; a segment a business rule made
    /// has the rule's name.
    pub fn default_segment_name(&self, segment: usize) -> String {
        let base = self.n_model_segments();
        if segment >= base
            && let Some(name) = self.rules.as_ref().and_then(|r| r.rule_segments.get(segment - base))
        {
            return name.clone();
        }
        match self.fit.names.get(segment) {
            Some(name) => name.clone(),
            None if segment == self.fit.k() => "Fallback".to_string(),
            None => format!("Segment {}", segment + 1),
        }
    }

    /// Customers without a segment (dropped by the recipe, and given none by the rules).
    pub fn n_without_segment(&self) -> usize {
        self.rules.as_ref().map_or(self.matrix.dropped_rows.len(), |r| r.n_without_segment)
    }

    /// Whether a segment was made by the business rules rather than the model.
    pub fn is_rule_segment(&self, segment: usize) -> bool {
        segment >= self.n_model_segments() && segment < self.n_segments()
    }

    /// The segments' member means in the feature space, as nearest-centroid assignment.
    pub fn centroid_model(&self) -> CentroidModel {
        CentroidModel { centroids: self.fit.centroids.rows().into_iter().map(|r| r.to_vec()).collect() }
    }
}

/// What a project's business rules and overrides make of a run's model segments, with the names
/// and low-priority marks of its segment notes (`None` when there are none to apply). Leaves the
/// result as it is; [`apply_business_rules`] puts the outcome in.
pub fn business_rules_outcome(
    result: &PipelineResult,
    rules: &crate::engine::rules::BusinessRules,
    notes: &[crate::engine::naming::SegmentNote],
    id_column: Option<&str>,
) -> Option<crate::engine::rules::RulesOutcome> {
    use crate::engine::rules::{RuleContext, apply};
    if rules.is_empty() {
        return None;
    }
    let n_model = result.n_model_segments();
    let note = |s: usize| notes.iter().find(|n| n.segment == s);
    let names =
        (0..n_model).map(|s| note(s).map_or_else(|| result.default_segment_name(s), |n| n.name.clone())).collect();
    let low_priority = (0..n_model).map(|s| note(s).is_some_and(|n| n.low_priority)).collect();
    // Where each customer sits in the model's space: its row of the matrix, and the fitted
    // segments' means from nearest to farthest.
    let mut matrix_row = vec![None; result.customers.height()];
    for (i, &row) in result.matrix.kept_rows.iter().enumerate() {
        matrix_row[row] = Some(i);
    }
    let (x, centroids) = (result.matrix.values.view(), result.fit.centroids.view());
    let nearest = |row: usize| -> Option<Vec<usize>> {
        let i = matrix_row.get(row).copied().flatten()?;
        let point = x.row(i);
        let mut order: Vec<(f64, usize)> = centroids
            .rows()
            .into_iter()
            .enumerate()
            .map(|(s, c)| (point.iter().zip(c).map(|(a, b)| (a - b) * (a - b)).sum::<f64>(), s))
            .collect();
        order.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        Some(order.into_iter().map(|(_, s)| s).collect())
    };
    let ctx = RuleContext {
        customers: &result.customers,
        id_column,
        segments: result.model_segments(),
        names,
        low_priority,
        n_fitted: result.fit.k(),
        nearest: &nearest,
    };
    Some(apply(rules, &ctx))
}

/// Applies a project's business rules and overrides to a run's segments (see
/// [`business_rules_outcome`]); the fingerprint then covers their result. Applying again starts
/// from the model's segments, so it can be called whenever the rules change.
pub fn apply_business_rules(
    result: &mut PipelineResult,
    rules: &crate::engine::rules::BusinessRules,
    notes: &[crate::engine::naming::SegmentNote],
    id_column: Option<&str>,
) {
    let outcome = business_rules_outcome(result, rules, notes, id_column);
    if let Some(previous) = result.rules.take() {
        result.segment_per_customer = previous.model_segments;
        result.warnings.retain(|w| !previous.warnings.contains(w));
    }
    if let Some(outcome) = outcome {
        result.warnings.extend(outcome.warnings.iter().cloned());
        result.segment_per_customer = outcome.segments.clone();
        result.rules = Some(outcome);
    }
    result.assignment_fingerprint = fingerprint_segments(&result.segment_per_customer);
}

/// The id column overrides name customers by: the spec's, else the column guessed to hold ids.
pub fn override_id_column<'a>(spec: &'a PipelineSpec, result: &'a PipelineResult) -> Option<&'a str> {
    spec.id_column()
        .or_else(|| result.roles.iter().find(|g| g.role == ColumnRole::CustomerId).map(|g| g.column.as_str()))
}

/// Label per customer row encoded for the fingerprint: dropped rows get `u32::MAX`.
pub fn fingerprint_segments(segments: &[Option<usize>]) -> String {
    let encoded: Vec<usize> = segments.iter().map(|s| s.unwrap_or(u32::MAX as usize)).collect();
    assignment_fingerprint(&encoded)
}

/// The results of the slow stages of the last run, each under a key of everything it depends on
/// (the sources' bytes, the spec's parts), so a run that changes only k reads no file and sweeps
/// nothing again, and one that changes only the recipe reads no file. Shared with jobs through `Arc`.
#[derive(Default)]
pub struct StageCache {
    table: CachedStage<CustomerTable>,
    sweep: CachedStage<SweepResult>,
    model: CachedStage<ModelStage>,
}

/// The fit at k with its indices and stability: what a run that changes only the business rules
/// (or nothing) reuses.
#[derive(Clone)]
struct ModelStage {
    fit: Segmentation,
    indices: Indices,
    stability: Option<crate::engine::cluster::stability::Stability>,
    k_stability: Vec<crate::engine::cluster::stability::KStability>,
    warnings: Vec<String>,
}

/// How often each cached stage was reused.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StageHits {
    /// Customer tables reused.
    pub table: usize,
    /// Sweeps reused.
    pub sweep: usize,
    /// Fits (with their indices and stability) reused.
    pub model: usize,
}

impl StageCache {
    /// Reuse counts so far.
    pub fn hits(&self) -> StageHits {
        StageHits {
            table: self.table.hits.load(Ordering::Relaxed),
            sweep: self.sweep.hits.load(Ordering::Relaxed),
            model: self.model.hits.load(Ordering::Relaxed),
        }
    }
}

/// One stage's last result under its key, and how often it was reused.
struct CachedStage<T> {
    entry: std::sync::Mutex<Option<(String, T)>>,
    hits: AtomicUsize,
}

impl<T> Default for CachedStage<T> {
    fn default() -> Self {
        Self { entry: std::sync::Mutex::new(None), hits: AtomicUsize::new(0) }
    }
}

impl<T: Clone> CachedStage<T> {
    /// The kept result when `key` matches, otherwise `build`'s, which is then kept.
    fn get_or_build(&self, key: &str, build: impl FnOnce() -> Result<T, PipelineError>) -> Result<T, PipelineError> {
        if let Ok(entry) = self.entry.lock()
            && let Some((cached_key, value)) = entry.as_ref()
            && cached_key == key
        {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(value.clone());
        }
        let value = build()?;
        if let Ok(mut entry) = self.entry.lock() {
            *entry = Some((key.to_string(), value.clone()));
        }
        Ok(value)
    }
}

/// A cache key: the JSON of everything a stage depends on (deterministic for these types).
fn stage_key(parts: impl Serialize) -> String {
    serde_json::to_string(&parts).unwrap_or_default()
}

/// Runs the whole pipeline: customer table, recipe, optional sweep, fit at k.
pub fn run(spec: &PipelineSpec, resolver: &SourceResolver, ctx: &JobContext) -> Result<PipelineResult, PipelineError> {
    run_cached(spec, resolver, ctx, &StageCache::default())
}

/// As [`run`], reusing and refreshing the stages kept in `cache`.
pub fn run_cached(
    spec: &PipelineSpec,
    resolver: &SourceResolver,
    ctx: &JobContext,
    cache: &StageCache,
) -> Result<PipelineResult, PipelineError> {
    ctx.progress.report("load", 0.0);
    let mut fingerprints = vec![source_fingerprint(&spec.source, resolver)?];
    if let Some(attributes) = &spec.attributes {
        fingerprints.push(source_fingerprint(attributes, resolver)?);
    }
    let table_key = stage_key((&fingerprints, &spec.source, &spec.table, &spec.attributes, &spec.duplicate_ids));
    let table =
        cache.table.get_or_build(&table_key, || build_customer_table_with(spec, resolver, Some(&fingerprints)))?;
    let mut warnings = table.warnings;
    check_cancel(ctx)?;
    ctx.progress.report("features", 0.0);
    let roles = effective_roles(&table.frame, &spec.role_overrides);
    let quality = quality_report(&table.frame, spec.id_column(), table.as_of)?;
    let role_map: HashMap<String, ColumnRole> = roles.iter().map(|g| (g.column.clone(), g.role)).collect();
    let (fitted_recipe, matrix) = spec.recipe.fit_transform(&table.frame, &role_map)?;
    warnings.extend(matrix.warnings.iter().cloned());
    let multicollinearity =
        multicollinearity(matrix.values.view(), &matrix.names, &column_layout(&fitted_recipe).categorical);
    warnings.extend(multicollinearity.warnings.iter().cloned());
    check_cancel(ctx)?;

    // k-prototypes reads which matrix columns are one-hot categories from the recipe.
    let algorithm = &for_recipe(&spec.model.algorithm, &fitted_recipe);
    if let Algorithm::KPrototypes(p) = algorithm
        && p.layout.as_ref().is_some_and(|l| l.categorical.is_empty())
    {
        warnings.push(
            "k-prototypes: the recipe has no categorical feature, so it works as k-means here; mark categorical \
             columns as categorical features to use them"
                .to_string(),
        );
    }
    let sweep = match spec.model.k_range {
        Some((lo, hi)) if algorithm.sweeps() => {
            // Everything the sweep depends on; k itself only picks the fit below.
            let sweep_algorithm = algorithm.with_k(lo);
            let key = stage_key((&table_key, &spec.role_overrides, &spec.recipe, (lo, hi), &sweep_algorithm));
            let result = cache.sweep.get_or_build(&key, || Ok(sweep(matrix.values.view(), lo, hi, algorithm, ctx)?))?;
            warnings.extend(result.warnings.iter().cloned());
            Some(result)
        }
        _ => None,
    };
    // Everything the fit depends on; a run that changes only the business rules reuses it.
    let model_key = stage_key((
        &table_key,
        &spec.role_overrides,
        &spec.recipe,
        spec.model.k_range,
        algorithm,
        &spec.model.stability,
    ));
    let model = cache.model.get_or_build(&model_key, || {
        let mut model_warnings = Vec::new();
        ctx.progress.report("fit", 0.0);
        // The sweep built the tree or the map once for every k: the fit at k cuts it rather than
        // building it again.
        let shared = sweep.as_ref().and_then(|s| s.shared_model.clone());
        let fit = match (algorithm, shared) {
            (Algorithm::Rfm(params), _) => {
                let fitted = rfm_segmentation(&table.frame, &matrix, params)?;
                if !fitted.1.is_empty() {
                    model_warnings.push(format!("no customer matched the RFM rules {}", fitted.1.join(", ")));
                }
                fitted.0
            }
            (Algorithm::Hybrid(params), _) => hybrid_segmentation(&table.frame, &matrix, params, &ctx.cancel)?,
            (Algorithm::Hierarchical(p), Some(SharedModel::Tree(tree))) => {
                Segmentation::from_tree(&tree, matrix.values.view(), p.k)?
            }
            (Algorithm::Som(p), Some(SharedModel::Map(map))) => {
                Segmentation::from_som(&map, matrix.values.view(), p.k)?
            }
            _ => algorithm.fit_matrix(matrix.values.view(), &ctx.cancel)?,
        };
        check_cancel(ctx)?;
        let k = fit.k();
        // The sweep fitted this k with the same parameters, and fits are deterministic, so its
        // silhouette belongs to these very labels: reuse it rather than pay O(n²) twice.
        let known_silhouette = sweep
            .as_ref()
            .and_then(|s| s.runs.iter().find(|r| r.k == k && r.sizes == fit.sizes))
            .and_then(|r| r.silhouette_detail.clone());
        let indices =
            evaluate_with_silhouette(matrix.values.view(), &fit.labels, k, algorithm.seed(), known_silhouette)?;

        // Stability, when asked for: re-fits on resamples, of the fit and of every k swept.
        let (stability, k_stability) = match &spec.model.stability {
            Some(params) if algorithm.uses_feature_matrix() && algorithm.rfm_columns().is_none() => {
                use crate::engine::cluster::stability::{KStability, bootstrap_stability};
                ctx.progress.report("stability", 0.0);
                let x = matrix.values.view();
                let own = bootstrap_stability(x, &fit.labels, algorithm, params, &ctx.cancel)?;
                let mut per_k = Vec::new();
                if let Some(sweep) = &sweep {
                    let ks: Vec<usize> = sweep.runs.iter().map(|r| r.k).filter(|&k| k >= 2).collect();
                    for (i, &sk) in ks.iter().enumerate() {
                        check_cancel(ctx)?;
                        ctx.progress.report("stability", i as f64 / ks.len() as f64);
                        let at = algorithm.with_k(sk);
                        let s = if sk == k && at == *algorithm {
                            own.clone()
                        } else {
                            let labels = at.fit_matrix(x, &ctx.cancel)?.labels;
                            bootstrap_stability(x, &labels, &at, params, &ctx.cancel)?
                        };
                        per_k.push(KStability::of(sk, &s));
                    }
                }
                (Some(own), per_k)
            }
            Some(_) => {
                model_warnings.push(format!(
                    "{} scores customers by rules, so there is no re-fit to check for stability",
                    algorithm.label()
                ));
                (None, Vec::new())
            }
            None => (None, Vec::new()),
        };

        Ok(ModelStage { fit, indices, stability, k_stability, warnings: model_warnings })
    })?;
    let ModelStage { fit, indices, stability, k_stability, warnings: model_warnings } = model;
    warnings.extend(model_warnings);
    let k = fit.k();
    let mut segment_per_customer = vec![None; table.frame.height()];
    for (&row, &label) in matrix.kept_rows.iter().zip(&fit.labels) {
        segment_per_customer[row] = Some(label);
    }
    for &row in &matrix.fallback_rows {
        segment_per_customer[row] = Some(k);
    }
    let assignment_fingerprint = fingerprint_segments(&segment_per_customer);
    ctx.progress.report("done", 1.0);
    Ok(PipelineResult {
        customers: table.frame,
        as_of: table.as_of,
        roles,
        quality,
        fitted_recipe,
        matrix,
        multicollinearity,
        sweep,
        fit,
        indices,
        segment_per_customer,
        assignment_fingerprint,
        source_fingerprints: table.fingerprints,
        stability,
        k_stability,
        rules: None,
        warnings,
    })
}

/// The recency, frequency and monetary columns of the customers the recipe kept, as numbers;
/// refused with advice when a column is missing or a kept customer has no value.
fn rfm_values(frame: &DataFrame, matrix: &FeatureMatrix, columns: [&str; 3]) -> Result<[Vec<f64>; 3], PipelineError> {
    let invalid = |problem: String| {
        PipelineError::Cluster(crate::engine::error::ClusterError::InvalidParameter { name: "RFM column", problem })
    };
    let values = |name: &str| -> Result<Vec<f64>, PipelineError> {
        let column = data::column(frame, name).map_err(|_| {
            invalid(format!(
                "the customer table has no column '{name}'; choose the recency, frequency and monetary columns"
            ))
        })?;
        let cast = column.cast(&DataType::Float64).map_err(DataError::from)?;
        let all = cast.f64().map_err(DataError::from)?;
        let out: Vec<f64> = matrix.kept_rows.iter().map(|&row| all.get(row).unwrap_or(f64::NAN)).collect();
        let missing = out.iter().filter(|v| !v.is_finite()).count();
        if missing > 0 {
            return Err(invalid(format!(
                "'{name}' has no usable value for {missing} of the customers being segmented; add it to the \
                 features with the fallback missing rule so they go to the fallback segment"
            )));
        }
        Ok(out)
    };
    Ok([values(columns[0])?, values(columns[1])?, values(columns[2])?])
}

/// RFM rules over the customers the recipe kept, scored on the customer table's own recency,
/// frequency and monetary columns; also the names of rules nobody matched.
fn rfm_segmentation(
    frame: &DataFrame,
    matrix: &FeatureMatrix,
    params: &RfmParams,
) -> Result<(Segmentation, Vec<String>), PipelineError> {
    let [r, f, m] = rfm_values(frame, matrix, [&params.recency, &params.frequency, &params.monetary])?;
    let fitted = fit_rfm(&r, &f, &m, params)?;
    let k = fitted.model.segment_names.len();
    let names = fitted.model.segment_names.clone();
    let mut segmentation =
        Segmentation::from_labels(matrix.values.view(), fitted.labels, k, names, FittedModel::Rfm(fitted.model))?;
    segmentation.rfm_scores = Some(fitted.scores);
    segmentation.method = "rfm";
    Ok((segmentation, fitted.empty_rules))
}

/// RFM value tiers with k-means inside each, on the customers the recipe kept.
fn hybrid_segmentation(
    frame: &DataFrame,
    matrix: &FeatureMatrix,
    params: &HybridParams,
    cancel: &crate::engine::jobs::CancelToken,
) -> Result<Segmentation, PipelineError> {
    let [r, f, m] = rfm_values(frame, matrix, [&params.recency, &params.frequency, &params.monetary])?;
    let fitted = fit_hybrid(matrix.values.view(), [&r, &f, &m], params, cancel)?;
    let k = fitted.names.len();
    let mut segmentation = Segmentation::from_labels(
        matrix.values.view(),
        fitted.labels,
        k,
        fitted.names,
        FittedModel::Hybrid(fitted.model),
    )?;
    segmentation.rfm_scores = Some(fitted.scores);
    segmentation.method = "hybrid";
    Ok(segmentation)
}

/// New customers assigned to a fitted segmentation.
pub struct Prediction {
    /// Segment per row of the new table (`None`: dropped by the recipe, or matched a rule whose
    /// segment had no customers when fitted).
    pub segments: Vec<Option<usize>>,
    /// Probability of the assigned segment, for mixtures.
    pub probability: Option<Vec<Option<f64>>>,
    /// How they were assigned, in words.
    pub method: &'static str,
    /// What the recipe said about the new data.
    pub warnings: Vec<String>,
}

/// Assigns the customers of `frame` (a customer table with the columns the recipe reads) to the
/// segments of `result`, the way its method assigns new customers; customers the recipe sends to
/// the fallback segment go there.
pub fn predict_customers(result: &PipelineResult, frame: &DataFrame) -> Result<Prediction, PipelineError> {
    let matrix = result.fitted_recipe.transform(frame)?;
    let mut segments = vec![None; frame.height()];
    let mut probability = None;
    let k = result.fit.k();
    if !matrix.kept_rows.is_empty() {
        let x = matrix.values.view();
        let assigned: Vec<Option<usize>> = match &result.fit.model {
            FittedModel::Centroids(m) | FittedModel::SegmentMeans(m) => m.predict(x)?.into_iter().map(Some).collect(),
            FittedModel::Dbscan(m) => m.predict(x)?.into_iter().map(Some).collect(),
            FittedModel::Optics(m) => m.predict(x)?.into_iter().map(Some).collect(),
            FittedModel::Som(m) => m.predict(x)?.into_iter().map(Some).collect(),
            FittedModel::KPrototypes(m) => m.predict(x)?.into_iter().map(Some).collect(),
            FittedModel::Gmm(m) => {
                let p = m.predict_proba(x)?;
                let mut top = vec![None; frame.height()];
                let labels: Vec<Option<usize>> = p
                    .rows()
                    .into_iter()
                    .zip(&matrix.kept_rows)
                    .map(|(row, &r)| {
                        let (best, value) = row
                            .iter()
                            .enumerate()
                            .fold((0, f64::NEG_INFINITY), |b, (c, &v)| if v > b.1 { (c, v) } else { b });
                        top[r] = Some(value);
                        Some(best)
                    })
                    .collect();
                probability = Some(top);
                labels
            }
            FittedModel::Rfm(m) => {
                let [r, f, mo] = rfm_columns(frame, [&m.params.recency, &m.params.frequency, &m.params.monetary])?;
                matrix
                    .kept_rows
                    .iter()
                    .map(|&row| match (r[row], f[row], mo[row]) {
                        (Some(r), Some(f), Some(mo)) if r.is_finite() && f.is_finite() && mo.is_finite() => {
                            m.segment_of(m.scores(r, f, mo))
                        }
                        _ => None,
                    })
                    .collect()
            }
            FittedModel::Hybrid(m) => {
                let [r, f, mo] = rfm_columns(frame, [&m.params.recency, &m.params.frequency, &m.params.monetary])?;
                let mut out = Vec::with_capacity(matrix.kept_rows.len());
                for (i, &row) in matrix.kept_rows.iter().enumerate() {
                    out.push(match (r[row], f[row], mo[row]) {
                        (Some(r), Some(f), Some(mo)) if r.is_finite() && f.is_finite() && mo.is_finite() => {
                            m.segment_of(r, f, mo, x.slice(ndarray::s![i..i + 1, ..]))?
                        }
                        _ => None,
                    });
                }
                out
            }
        };
        for (&row, segment) in matrix.kept_rows.iter().zip(assigned) {
            segments[row] = segment;
        }
    }
    for &row in &matrix.fallback_rows {
        segments[row] = Some(k);
    }
    Ok(Prediction { segments, probability, method: result.fit.model.describe(), warnings: matrix.warnings })
}

/// Which matrix columns are numeric and which are the one-hot levels of each categorical feature.
/// `algorithm` ready to fit the matrix `recipe` makes: k-prototypes learns which columns are
/// one-hot categories.
pub fn for_recipe(algorithm: &Algorithm, recipe: &FittedRecipe) -> Algorithm {
    let mut algorithm = algorithm.clone();
    if let Algorithm::KPrototypes(p) = &mut algorithm {
        p.layout = Some(column_layout(recipe));
    }
    algorithm
}

fn column_layout(recipe: &FittedRecipe) -> crate::engine::cluster::kprototypes::ColumnLayout {
    let mut layout = crate::engine::cluster::kprototypes::ColumnLayout::default();
    let mut next = 0;
    for feature in &recipe.features {
        match feature {
            crate::engine::features::recipe::FittedFeature::Numeric(_) => {
                layout.numeric.push(next);
                next += 1;
            }
            crate::engine::features::recipe::FittedFeature::Categorical(c) => {
                layout.categorical.push((next..next + c.levels.len()).collect());
                next += c.levels.len();
            }
        }
    }
    layout
}

/// Three numeric columns of a table, whole (for scoring new customers).
fn rfm_columns(frame: &DataFrame, names: [&str; 3]) -> Result<[Vec<Option<f64>>; 3], PipelineError> {
    let column = |name: &str| -> Result<Vec<Option<f64>>, PipelineError> {
        let cast = data::column(frame, name)?.cast(&DataType::Float64).map_err(DataError::from)?;
        Ok(cast.f64().map_err(DataError::from)?.iter().collect())
    };
    Ok([column(names[0])?, column(names[1])?, column(names[2])?])
}

fn check_cancel(ctx: &JobContext) -> Result<(), PipelineError> {
    if ctx.cancel.is_cancelled() {
        return Err(crate::engine::error::ClusterError::Cancelled.into());
    }
    Ok(())
}

/// The assignment table: id (or row number) and `segment` (empty for dropped customers), then what
/// the method adds: `segment_name` when it names its segments (or business rules made some),
/// `probability` (of the assigned segment) for mixtures, `r_score`, `f_score` and `m_score` for RFM
/// rules; with business rules, `model_segment` (before them) and `changed_by` (`rule N`, `override`).
pub fn assignments_frame(result: &PipelineResult, id_column: Option<&str>) -> Result<DataFrame, DataError> {
    let segments: Vec<Option<u32>> = result.segment_per_customer.iter().map(|s| s.map(|v| v as u32)).collect();
    let segment = Column::new("segment".into(), segments);
    let first = match id_column {
        Some(id) => data::column(&result.customers, id)?.clone(),
        None => Column::new("row".into(), (1..=result.customers.height() as u64).collect::<Vec<_>>()),
    };
    let mut columns = vec![first, segment];
    if !result.fit.names.is_empty() || result.rules.is_some() {
        let names: Vec<Option<String>> =
            result.segment_per_customer.iter().map(|s| s.map(|s| result.default_segment_name(s))).collect();
        columns.push(Column::new("segment_name".into(), names));
    }
    // Per fitted row, mapped back to customer rows.
    let per_customer = |value: &dyn Fn(usize) -> f64| {
        let mut out = vec![None; result.customers.height()];
        for (i, &row) in result.matrix.kept_rows.iter().enumerate() {
            out[row] = Some(value(i));
        }
        out
    };
    if let Some(mixture) = &result.fit.mixture {
        let p = per_customer(&|i| f64::from(mixture.probabilities[[i, result.fit.labels[i]]]));
        columns.push(Column::new("probability".into(), p));
    }
    if let Some(rules) = &result.rules {
        let model: Vec<Option<u32>> = rules.model_segments.iter().map(|s| s.map(|v| v as u32)).collect();
        columns.push(Column::new("model_segment".into(), model));
        columns.push(Column::new("changed_by".into(), rules.changed_by.clone()));
    }
    if let Some(scores) = &result.fit.rfm_scores {
        for (j, name) in ["r_score", "f_score", "m_score"].into_iter().enumerate() {
            let values: Vec<Option<u32>> =
                per_customer(&|i| f64::from(scores[i][j])).into_iter().map(|v| v.map(|v| v as u32)).collect();
            columns.push(Column::new(name.into(), values));
        }
    }
    Ok(DataFrame::new_infer_height(columns)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::features::Scaling;

    fn demo_spec() -> PipelineSpec {
        let mut spec = crate::engine::project::parse(crate::engine::DEMO_PROJECT).unwrap().project.spec;
        spec.model.k_range = Some((2, 4));
        spec
    }

    #[test]
    fn a_hierarchical_or_som_fit_cuts_the_tree_or_map_its_sweep_built() {
        let resolver = SourceResolver::user_chosen(Path::new("."));
        let mut spec = demo_spec();
        spec.model.algorithm = Algorithm::by_name("hierarchical").unwrap().with_k(3);
        let result = run(&spec, &resolver, &JobContext::inline()).unwrap();
        let Some(SharedModel::Tree(swept)) = result.sweep.as_ref().unwrap().shared_model.clone() else {
            panic!("the sweep keeps its tree")
        };
        assert!(std::sync::Arc::ptr_eq(&swept, result.fit.tree.as_ref().unwrap()), "one tree, not two");
        // And cutting it gives what building it afresh gives.
        let fresh = spec.model.algorithm.fit_matrix(result.matrix.values.view(), &Default::default()).unwrap();
        assert_eq!(fresh.labels, result.fit.labels);

        spec.model.algorithm = Algorithm::by_name("som").unwrap().with_k(3);
        let result = run(&spec, &resolver, &JobContext::inline()).unwrap();
        let Some(SharedModel::Map(swept)) = result.sweep.as_ref().unwrap().shared_model.clone() else {
            panic!("the sweep keeps its map")
        };
        assert!(std::sync::Arc::ptr_eq(&swept, result.fit.som.as_ref().unwrap()), "one map, not two");
    }

    #[test]
    fn changing_k_reuses_the_table_and_the_sweep_and_gives_what_a_fresh_run_gives() {
        let (cache, resolver, ctx) =
            (StageCache::default(), SourceResolver::user_chosen(Path::new(".")), JobContext::inline());
        let spec = demo_spec();
        let first = run_cached(&spec, &resolver, &ctx, &cache).unwrap();
        assert_eq!(cache.hits(), StageHits::default());

        let mut other_k = spec.clone();
        other_k.model.algorithm.set_k(3);
        let cached = run_cached(&other_k, &resolver, &ctx, &cache).unwrap();
        assert_eq!(cache.hits(), StageHits { table: 1, sweep: 1, model: 0 });
        assert_eq!(cached.sweep, first.sweep);
        let fresh = run(&other_k, &resolver, &ctx).unwrap();
        assert_eq!(cached.assignment_fingerprint, fresh.assignment_fingerprint);
        assert_eq!(cached.sweep, fresh.sweep);
        assert_eq!(cached.fit.sizes.len(), 3);

        // Another scaling: the table is reused, the sweep is not.
        let mut other_recipe = other_k.clone();
        for feature in &mut other_recipe.recipe.features {
            feature.scaling = Scaling::Robust;
        }
        let rescaled = run_cached(&other_recipe, &resolver, &ctx, &cache).unwrap();
        assert_eq!(cache.hits(), StageHits { table: 2, sweep: 1, model: 0 });
        assert_ne!(rescaled.sweep, first.sweep);

        // The same spec again (as after an edit of the business rules): nothing is fitted again.
        let again = run_cached(&other_recipe, &resolver, &ctx, &cache).unwrap();
        assert_eq!(cache.hits(), StageHits { table: 3, sweep: 2, model: 1 });
        assert_eq!(again.assignment_fingerprint, rescaled.assignment_fingerprint);
    }

    #[test]
    fn business_rules_move_customers_and_keep_the_models_segments() {
        use crate::engine::rules::{BusinessRule, BusinessRules, Override};
        let resolver = SourceResolver::user_chosen(Path::new("."));
        let mut spec = demo_spec();
        spec.model.k_range = None;
        let mut result = run(&spec, &resolver, &JobContext::inline()).unwrap();
        let model = result.segment_per_customer.clone();
        let model_fingerprint = result.assignment_fingerprint.clone();
        let k = result.fit.k();
        let frequency =
            crate::engine::data::quality::numeric_values(result.customers.column("frequency").unwrap()).unwrap();
        let one_timers = frequency.iter().filter(|f| f.is_some_and(|f| f < 2.0)).count();
        let first_id = result.customers.column("customer_id").unwrap().get(0).unwrap().to_string();
        let rules = BusinessRules {
            rules: vec![BusinessRule {
                text: "when frequency < 2 then segment \"One-timers\"".into(),
                why: "test".into(),
            }],
            overrides: vec![Override {
                customer: first_id.trim_matches('"').to_string(),
                segment: "Segment 1".into(),
                why: "test".into(),
            }],
        };
        let id = override_id_column(&spec, &result).map(str::to_string);
        assert_eq!(id.as_deref(), Some("customer_id"));
        apply_business_rules(&mut result, &rules, &[], id.as_deref());
        let outcome = result.rules.as_ref().unwrap();
        assert_eq!(outcome.rules[0].matched, one_timers);
        assert_eq!(outcome.overrides[0].error, None);
        assert_eq!(result.model_segments(), &model[..]);
        assert_eq!(result.n_segments(), k + 1);
        assert_eq!(result.default_segment_name(k), "One-timers");
        assert_eq!(result.segment_per_customer[0], Some(0), "the override comes after the rule");
        let in_rule_segment = result.segment_per_customer.iter().filter(|s| **s == Some(k)).count();
        assert_eq!(in_rule_segment, one_timers - usize::from(frequency[0].is_some_and(|f| f < 2.0)));
        assert_ne!(result.assignment_fingerprint, model_fingerprint);
        let frame = assignments_frame(&result, Some("customer_id")).unwrap();
        assert!(frame.column("model_segment").is_ok() && frame.column("changed_by").is_ok());
        // No rules: the model's segments and fingerprint again.
        apply_business_rules(&mut result, &BusinessRules::default(), &[], id.as_deref());
        assert_eq!(result.segment_per_customer, model);
        assert_eq!(result.assignment_fingerprint, model_fingerprint);
        assert!(result.rules.is_none());
    }
}
