//! The versioned project file (`.strata`, RON): header first, then the spec, results and segment notes.
//!
//! Format versions: the header's `format_version` says which shape the body has, and
//! `min_reader_version` which Strata can still read it. The body is the engine's own serde types.
//!
//! - Version 1: k-means only.
//! - Version 2: more methods (`MiniBatchKMeans`, `Gmm`, `Rfm` besides `KMeans` in the
//!   model's algorithm) and `bic`/`aic` in sweep runs. It only adds to version 1, so a version 1 body
//!   reads as version 2 unchanged; and a version 2 file that still uses k-means says
//!   `min_reader_version: 1`, so a Strata that knows only version 1 opens it (read-only).
//! - Version 3: OPTICS (`Optics` in the model's algorithm) and `kept`, the segmentations
//!   kept for the Compare screen. Again only additions: older readers skip `kept`, and a file says
//!   `min_reader_version: 3` only when it uses OPTICS.
//! - Version 4: business rules and overrides (`rules`), the audit log (`audit`),
//!   segments marked `low_priority`, the windows of the Over time screen (`over_time`) and a
//!   transaction log's `since`. Only additions; a file says `min_reader_version: 4` when it
//!   has rules or overrides, since an older reader would show the model's segments without them.
//! - Version 5: how text dates and numbers are read (`read_options.formats`: a date
//!   format, date columns, decimal commas, the day offset, old dates allowed). Only additions; a
//!   file says `min_reader_version: 5` when a source sets them, since an older reader would read
//!   the same file into other values.
//! - Version 6: several files read as one (a source path that is a glob pattern), a
//!   transaction log's behavioural features (`behaviour`) and the attribute table's own key
//!   (`attributes_key`). Only additions; a file says `min_reader_version: 6` when it uses one,
//!   since an older reader would look for a file named like the pattern, or build another table.
//! - Version 7: a transaction log without an amount column (`amount: ""`). Nothing else
//!   changes, so a file with an amount is written byte for byte as in format 6 apart from the
//!   header; a file says `min_reader_version: 7` only when its log has no amount, since an older
//!   reader would look for a column with an empty name.
//! - Version 8: the SWOT board (`board`: cards, TOWS strategies, placement hints) and
//!   the presentation (`presentation`: steps with captions and notes). Only additions, written
//!   only when used; they change no segment, so an older reader opens such a file read-only
//!   (newer format) and shows the same segments.
//! - Version 9: governance (`governance`: the small-cell threshold, the unsigned-export
//!   policy, minimisation, sensitive columns, comments, sign-offs, disputes, opt-outs) and the
//!   audit log's chain (each entry's `seq`, `action`, `object`, `before`, `after`, `state`, `prev`,
//!   `hash`). Only additions, written only when used; a file says `min_reader_version: 9` when a
//!   setting would change what an older reader shows or exports (a threshold other than 10,
//!   minimisation, blocking unsigned exports, approved disputes, opt-outs) or the built-in
//!   synthetic demo attributes (`DemoAttributes`, the demo's attribute table for its bias audit).
//! - Version 10: customer lifetime value (a transaction log's `value`: calibration and
//!   holdout ends, time unit, purchase model, horizon, discount rate, margin, penalty). Only an
//!   addition, written only when used; a file that uses it says `min_reader_version: 10`, since an
//!   older reader would refuse the key (and show no value columns).
//! - Version 11: published model versions (`versions`: each with its spec, results,
//!   names, rules and the frozen reference the monitor compares with; which one is `current`),
//!   and the monitor (`monitor`: alert thresholds and the periods monitored). Only additions,
//!   written only when used; a file that uses them says `min_reader_version: 11`, since an older
//!   reader would score with the working spec instead of the current version.
//! - Version 12 (current): a k-means model's kernel (`kernel: Hamerly`; a file without the key was
//!   fitted with Lloyd's and re-runs with it). Written only for a kernel other than Lloyd's; a file
//!   that has one says `min_reader_version: 12`, since an older reader would refuse the key.
//!
//! The fixture `tests/fixtures/projects/v1.strata` must keep opening: when a change to an engine type
//! would break it, copy the old types into a frozen module, bump `FORMAT_VERSION`, and add a
//! migration step in `migrate`.

mod atomic;
pub mod audit_entry;
pub mod minimise;
pub mod paths;
pub mod validate;
pub mod verify;
pub mod versions;

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use crate::engine::naming::SegmentNote;
pub use atomic::{backup_path, save_atomically};

use crate::engine::cluster::sweep::SweepResult;
use crate::engine::error::{ProjectError, quoted};
use crate::engine::features::FittedRecipe;
use crate::engine::metrics::Indices;
use crate::engine::pipeline::{PipelineResult, PipelineSpec};
use crate::engine::rules::BusinessRules;
use audit_entry::AuditEntry;

/// The format name every project file's header carries.
pub const FORMAT_NAME: &str = "strata-project";
/// The format version this build writes.
pub const FORMAT_VERSION: u32 = 12;
/// The oldest format version this build opens (older ones are migrated step by step).
pub const OLDEST_READABLE_VERSION: u32 = 1;
/// Project files larger than this are refused before parsing.
pub const MAX_PROJECT_BYTES: u64 = 256 * 1024 * 1024;

/// The small header read before anything else.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// Always `strata-project`.
    pub format: String,
    /// Shape of the body.
    pub format_version: u32,
    /// The oldest reader version that can open this file (read-only if older than the format).
    pub min_reader_version: u32,
}

impl Header {
    /// The header this build writes for a project that needs format `min_reader_version` to read.
    pub fn current(min_reader_version: u32) -> Self {
        Self { format: FORMAT_NAME.to_string(), format_version: FORMAT_VERSION, min_reader_version }
    }
}

/// The oldest format whose reader understands everything in `project`.
fn min_reader_version(project: &Project) -> u32 {
    use crate::engine::cluster::Algorithm;
    // An older reader would refuse the kernel's key (and could only re-fit with Lloyd's).
    if uses_format_12(project) {
        return 12;
    }
    // An older reader would score with the working spec, not the current version.
    if !project.versions.is_empty() || !project.monitor.is_default() {
        return 11;
    }
    if uses_format_10(&project.spec) {
        return 10;
    }
    // An older reader would show small counts, export unsigned work, or ignore approved disputes
    // and opt-outs.
    if uses_format_9(project) {
        return 9;
    }
    // An older reader would look for an amount column with an empty name.
    if uses_format_7(&project.spec) {
        return 7;
    }
    // An older reader would refuse a carried colour's key, or read the other keys differently.
    if uses_format_6(&project.spec) || project.segments.iter().any(|n| n.colour.is_some()) {
        return 6;
    }
    // An older reader would read the same data file into other dates or numbers.
    let sources = std::iter::once(&project.spec.source).chain(project.spec.attributes.as_ref());
    if sources.into_iter().any(|s| !s.read_options.formats.is_default()) {
        return 5;
    }
    // An older reader would show the model's segments as if the rules did not exist.
    if !project.rules.is_empty() {
        return 4;
    }
    if matches!(project.spec.model.algorithm, Algorithm::Optics(_)) {
        return 3;
    }
    let new_in_2 = !matches!(project.spec.model.algorithm, Algorithm::KMeans(_))
        || project
            .results
            .as_ref()
            .and_then(|r| r.sweep.as_ref())
            .is_some_and(|s| s.runs.iter().any(|r| r.bic.is_some()));
    if new_in_2 { 2 } else { 1 }
}

/// Whether a project's spec, or one of its published versions, fits k-means with a kernel other
/// than Lloyd's (format 12 records the kernel).
fn uses_format_12(project: &Project) -> bool {
    use crate::engine::cluster::Algorithm;
    use crate::engine::cluster::kmeans::KMeansKernel;
    let specs = std::iter::once(&project.spec).chain(project.versions.published.iter().map(|v| &v.spec));
    specs.into_iter().any(|s| matches!(&s.model.algorithm, Algorithm::KMeans(p) if p.kernel != KMeansKernel::Lloyd))
}

/// Whether a spec uses what format 6 added: a pattern naming several files, behavioural features,
/// the attribute table's own key, or derived columns and lookup tables.
fn uses_format_6(spec: &PipelineSpec) -> bool {
    use crate::engine::pipeline::{DataSource, TableKind, several};
    let sources = std::iter::once(&spec.source).chain(spec.attributes.as_ref());
    let pattern = sources.into_iter().any(|s| matches!(&s.source, DataSource::File(p) if several::is_pattern(p)));
    let behaviour = matches!(&spec.table, TableKind::TransactionLog(t) if !t.behaviour.is_empty());
    pattern || behaviour || spec.attributes_key.is_some() || !spec.derived.is_empty()
}

/// Whether a project uses a governance setting an older reader would not honour, or the demo's
/// built-in synthetic attributes (an older reader has no such table).
fn uses_format_9(project: &Project) -> bool {
    use crate::engine::governance::{DEFAULT_SMALL_CELLS, DisputeStatus, UnsignedPolicy};
    use crate::engine::pipeline::DataSource;
    let spec = &project.spec;
    let sources = std::iter::once(&spec.source).chain(spec.attributes.as_ref());
    let g = &project.governance;
    sources.into_iter().any(|s| s.source == DataSource::DemoAttributes)
        || g.small_cells != DEFAULT_SMALL_CELLS
        || g.minimise
        || g.unsigned == UnsignedPolicy::Block
        || !g.opt_outs.is_empty()
        || g.disputes.iter().any(|d| d.status == DisputeStatus::Approved)
}

/// Whether a spec uses what format 10 added: customer lifetime value on a transaction log.
fn uses_format_10(spec: &PipelineSpec) -> bool {
    matches!(&spec.table, crate::engine::pipeline::TableKind::TransactionLog(t) if t.value.is_some())
}

/// Whether a spec uses what format 7 added: a transaction log without an amount column.
fn uses_format_7(spec: &PipelineSpec) -> bool {
    matches!(&spec.table, crate::engine::pipeline::TableKind::TransactionLog(t) if t.amount.is_none())
}

/// Which software wrote the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Producer {
    /// Strata's version.
    pub strata: String,
    /// polars' version.
    pub polars: String,
    /// ndarray's version.
    pub ndarray: String,
    /// rayon's version.
    pub rayon: String,
}

impl Producer {
    /// This build.
    pub fn current() -> Self {
        Self {
            strata: env!("CARGO_PKG_VERSION").to_string(),
            polars: env!("STRATA_POLARS_VERSION").to_string(),
            ndarray: env!("STRATA_NDARRAY_VERSION").to_string(),
            rayon: env!("STRATA_RAYON_VERSION").to_string(),
        }
    }
}

/// Results stored so the project shows without recomputing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredResults {
    /// Customers in the table.
    pub n_customers: usize,
    /// Customers the model was fitted on.
    pub n_rows_fitted: usize,
    /// As-of date used, for transaction logs.
    pub as_of: Option<NaiveDate>,
    /// Fitted transform parameters.
    pub fitted_recipe: FittedRecipe,
    /// Centroids in feature space, canonical order.
    pub centroids: Vec<Vec<f64>>,
    /// Segment sizes.
    pub sizes: Vec<usize>,
    /// Indices of the fit.
    pub indices: Indices,
    /// The sweep, when one was run.
    pub sweep: Option<SweepResult>,
    /// Fingerprint of the assignment of every customer.
    pub assignment_fingerprint: String,
    /// What each segment is worth, when the spec asks for customer value (format 10); absent in
    /// files written before value figures were stored, which then show none until re-run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<crate::engine::value::StoredValue>,
}

impl StoredResults {
    /// What a pipeline run stores.
    pub fn from_result(result: &PipelineResult) -> Self {
        Self {
            n_customers: result.customers.height(),
            n_rows_fitted: result.matrix.kept_rows.len(),
            as_of: result.as_of,
            fitted_recipe: result.fitted_recipe.clone(),
            centroids: result.centroid_model().centroids,
            sizes: result.fit.sizes.clone(),
            indices: result.indices.clone(),
            sweep: result.sweep.clone(),
            assignment_fingerprint: result.assignment_fingerprint.clone(),
            value: stored_value(result),
        }
    }
}

/// The value figures a run stores: the analysis, each segment's value and the log's fingerprint.
fn stored_value(result: &PipelineResult) -> Option<crate::engine::value::StoredValue> {
    let analysis = result.value.as_ref()?;
    let segments = crate::engine::profile::summary::value_segments_of(result)?;
    let fingerprint = result.source_fingerprints.first().map(String::as_str).unwrap_or_default();
    Some(crate::engine::value::StoredValue::new(analysis, segments, fingerprint))
}

/// A segmentation kept for the Compare screen: who is in which segment, under what names, and what
/// made it. Stored so that a reviewer who opens the project compares what its author compared.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptSegmentation {
    /// What made it, in a few words ("Gaussian mixture, k = 5").
    pub label: String,
    /// The whole spec, in words.
    pub description: String,
    /// Which customers it segments (sources' fingerprints, as-of date, count).
    pub customers_key: String,
    /// Customers it covers (rows of the customer table).
    pub n_customers: usize,
    /// Segment names when it was made.
    pub names: Vec<String>,
    /// Its assignment fingerprint.
    pub fingerprint: String,
    /// Segment per customer row, see [`encode_segments`].
    pub segments: String,
}

/// Customers a kept segmentation may hold when read back (a damaged count cannot exhaust memory).
pub const MAX_KEPT_CUSTOMERS: usize = 50_000_000;

/// Segment per customer row as compact text: numbers separated by spaces, `-` for a customer
/// without a segment, and `NxC` for C customers in a row in segment (or `-`) N.
pub fn encode_segments(segments: &[Option<usize>]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < segments.len() {
        let run = segments[i..].iter().take_while(|s| **s == segments[i]).count();
        if !out.is_empty() {
            out.push(' ');
        }
        match segments[i] {
            Some(s) => out.push_str(&s.to_string()),
            None => out.push('-'),
        }
        if run > 1 {
            out.push_str(&format!("x{run}"));
        }
        i += run;
    }
    out
}

/// Reads [`encode_segments`]' text back, checking it describes `n` customers in fewer than
/// `n_segments` segments.
pub fn decode_segments(text: &str, n: usize, n_segments: usize) -> Result<Vec<Option<usize>>, String> {
    if n > MAX_KEPT_CUSTOMERS {
        return Err(format!("{n} customers is more than a kept segmentation may hold ({MAX_KEPT_CUSTOMERS})"));
    }
    let mut out = Vec::with_capacity(n);
    for token in text.split_ascii_whitespace() {
        let (value, count) = match token.split_once('x') {
            Some((v, c)) => (v, c.parse::<usize>().map_err(|_| format!("'{token}' is not a segment run"))?),
            None => (token, 1),
        };
        let segment = match value {
            "-" => None,
            v => {
                let s = v.parse::<usize>().map_err(|_| format!("'{token}' is not a segment number"))?;
                if s >= n_segments {
                    return Err(format!("segment {s} but only {n_segments} are named"));
                }
                Some(s)
            }
        };
        if count == 0 || count > n - out.len() {
            return Err(format!("more than the {n} customers it says it covers"));
        }
        out.extend(std::iter::repeat_n(segment, count));
    }
    if out.len() != n {
        return Err(format!("{} customers, but it says it covers {n}", out.len()));
    }
    Ok(out)
}

/// The whole project file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Project {
    /// Format header.
    pub header: Header,
    /// Who wrote it.
    pub producer: Producer,
    /// The pipeline spec.
    pub spec: PipelineSpec,
    /// Results of the last run.
    pub results: Option<StoredResults>,
    /// Segment names and notes.
    pub segments: Vec<SegmentNote>,
    /// Segmentations kept for comparison (format 3; older readers ignore them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kept: Vec<KeptSegmentation>,
    /// Business rules and manual overrides applied after the model (format 4).
    #[serde(default, skip_serializing_if = "BusinessRules::is_empty")]
    pub rules: BusinessRules,
    /// Who changed a rule or an override, when, what and why, with the customers it moved (format 4).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audit: Vec<AuditEntry>,
    /// How the Over time screen cuts the transaction log into windows, once used (format 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub over_time: Option<crate::engine::over_time::WindowParams>,
    /// The SWOT board and its TOWS strategies (format 8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub board: Option<crate::engine::swot::Board>,
    /// The presentation's steps (format 8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presentation: Option<crate::engine::presentation::Presentation>,
    /// Small cells, minimisation, comments, sign-offs, disputes and opt-outs (format 9).
    #[serde(default, skip_serializing_if = "crate::engine::governance::Governance::is_default")]
    pub governance: crate::engine::governance::Governance,
    /// Published model versions and the current one (format 11).
    #[serde(default, skip_serializing_if = "versions::Versions::is_empty")]
    pub versions: versions::Versions,
    /// The monitor's thresholds and the periods monitored (format 11).
    #[serde(default, skip_serializing_if = "crate::engine::monitor::MonitorState::is_default")]
    pub monitor: crate::engine::monitor::MonitorState,
}

impl Project {
    /// A new project for a spec, without results.
    pub fn new(spec: PipelineSpec) -> Self {
        Self {
            header: Header::current(1),
            producer: Producer::current(),
            spec,
            results: None,
            segments: Vec::new(),
            kept: Vec::new(),
            rules: BusinessRules::default(),
            audit: Vec::new(),
            over_time: None,
            board: None,
            presentation: None,
            governance: Default::default(),
            versions: Default::default(),
            monitor: Default::default(),
        }
    }

    /// Carries what refers to segments besides the names (the SWOT board, the presentation's
    /// steps) to where their customers went (`map`, from the names' carry), then detaches what
    /// names a segment the segmentation with assignment `fingerprint` and `n_segments` segments
    /// does not have; returns one line per reference that could not follow.
    pub fn follow_segments(
        &mut self,
        map: Option<&crate::engine::naming::SegmentMap>,
        n_segments: usize,
        fingerprint: &str,
    ) -> Vec<String> {
        use crate::engine::swot::{detach_missing, follow};
        let mut lines = Vec::new();
        if let Some(map) = map {
            let board = self.board.iter_mut().flat_map(|b| b.refs_mut());
            let steps = self.presentation.iter_mut().flat_map(|p| p.refs_mut());
            lines.extend(follow(&mut board.chain(steps), map));
        }
        let board = self.board.iter_mut().flat_map(|b| b.refs_mut());
        let steps = self.presentation.iter_mut().flat_map(|p| p.refs_mut());
        for line in detach_missing(&mut board.chain(steps), n_segments, fingerprint) {
            if !lines.contains(&line) {
                lines.push(line);
            }
        }
        lines
    }

    /// The project as RON text, stamped with this build's header and producer.
    pub fn to_ron(&self) -> Result<String, ProjectError> {
        let mut stamped = self.clone();
        stamped.header = Header::current(min_reader_version(self));
        stamped.producer = Producer::current();
        ron::ser::to_string_pretty(&stamped, ron::ser::PrettyConfig::new().struct_names(false))
            .map_err(|e| ProjectError::Corrupt { path: PathBuf::new(), message: format!("could not serialise: {e}") })
    }

    /// Saves atomically as it is (the previous file kept as `.bak`), the audit log not sealed:
    /// [`crate::engine::governance::audit::save`] seals it first, and is what saving a user's work
    /// calls; this is for tests and hostile-file generators.
    pub fn save_unsealed(&self, path: &Path) -> Result<(), ProjectError> {
        let text = self.to_ron()?;
        save_atomically(path, text.as_bytes()).map_err(|source| ProjectError::Io {
            action: "saving",
            path: path.to_path_buf(),
            source,
        })
    }
}

/// A project as opened, with how it was opened.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenedProject {
    /// The project.
    pub project: Project,
    /// Written by a newer Strata: show a banner and only allow Save As.
    pub read_only: bool,
    /// The version it was migrated from, when older than the current one.
    pub migrated_from: Option<u32>,
    /// A banner text for the user, when there is something to say.
    pub banner: Option<String>,
}

#[derive(Deserialize)]
struct HeaderOnly {
    header: Header,
}

fn ron_options() -> ron::Options {
    // The default options keep RON's recursion limit, so a hostile file cannot exhaust the stack.
    ron::Options::default()
}

/// Opens a project file; never writes anything but the removal of temporary files an interrupted
/// save of this project left beside it.
pub fn open(path: &Path) -> Result<OpenedProject, ProjectError> {
    let io = |source| ProjectError::Io { action: "reading", path: path.to_path_buf(), source };
    let corrupt = |message: String| ProjectError::Corrupt { path: path.to_path_buf(), message };
    // Refused before it is opened: a named pipe would block for ever, a device never end.
    let metadata = std::fs::metadata(path).map_err(io)?;
    if !metadata.is_file() {
        return Err(corrupt("it is not a regular file (a folder, a pipe or a device)".to_string()));
    }
    if metadata.len() > MAX_PROJECT_BYTES {
        return Err(corrupt(format!("{} bytes is larger than any project file should be", metadata.len())));
    }
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    // Read no more than the bound even if the file grew after it was measured.
    std::io::Read::read_to_end(&mut std::io::Read::take(file, MAX_PROJECT_BYTES + 1), &mut bytes).map_err(io)?;
    if bytes.len() as u64 > MAX_PROJECT_BYTES {
        return Err(corrupt(format!("more than {MAX_PROJECT_BYTES} bytes, larger than any project file should be")));
    }
    let text = std::str::from_utf8(&bytes).map_err(|e| corrupt(format!("not UTF-8 text: {e}")))?;
    let opened = parse(text).map_err(|e| match e {
        ProjectError::Corrupt { message, .. } => corrupt(message),
        ProjectError::TooNew { format_version, min_reader, supported, .. } => {
            ProjectError::TooNew { path: path.to_path_buf(), format_version, min_reader, supported }
        }
        other => other,
    })?;
    atomic::remove_stale_temp_files(path);
    Ok(opened)
}

/// Parses project text (the path in errors is filled in by [`open`]).
///
/// Strict: a key Strata does not know (a misspelt `kay`, a `rulez`) and a missing key are refused,
/// naming the key and its line, never replaced by a default; every setting is checked against its
/// bound and stored results against their own model ([`validate`]).
pub fn parse(text: &str) -> Result<OpenedProject, ProjectError> {
    let corrupt = |message: String| ProjectError::Corrupt { path: PathBuf::new(), message };
    let header = ron_options()
        .from_str::<HeaderOnly>(text)
        .map_err(|e| corrupt(format!("no readable header: {}", describe_ron_error(&e))))?
        .header;
    if header.format != FORMAT_NAME {
        return Err(corrupt(format!("the format is {}, not '{FORMAT_NAME}'", quoted(&header.format))));
    }
    // Honoured whatever the format version says: a file that needs a newer reader is never read.
    if header.min_reader_version > FORMAT_VERSION {
        return Err(ProjectError::TooNew {
            path: PathBuf::new(),
            format_version: header.format_version,
            min_reader: header.min_reader_version,
            supported: FORMAT_VERSION,
        });
    }
    if header.min_reader_version > header.format_version || header.min_reader_version == 0 {
        return Err(corrupt(format!(
            "header: min_reader_version is {} for a format {} file; it must be from 1 to the format version",
            header.min_reader_version, header.format_version
        )));
    }
    if header.format_version > FORMAT_VERSION {
        // Newer, but declared readable by us: keys we do not know are what the newer format added
        // for its own readers. Saving over it would lose them, so it opens read-only and says which.
        let (project, unknown) = deserialize_body(text).map_err(|e| {
            corrupt(format!("written by a newer Strata (format {}) and not readable here: {e}", header.format_version))
        })?;
        validate::check_bounds(&project).map_err(corrupt)?;
        let ignored = if unknown.is_empty() {
            String::new()
        } else {
            format!(
                " It holds {} this Strata does not show: {}.",
                crate::engine::warnings::count(unknown.len(), "setting", "settings"),
                key_list(&unknown)
            )
        };
        return Ok(OpenedProject {
            project,
            read_only: true,
            migrated_from: None,
            banner: Some(format!(
                "This project was written by a newer Strata (format {}). It is open read-only; use Save As to keep a copy in format {FORMAT_VERSION}.{ignored}",
                header.format_version
            )),
        });
    }
    let project = migrate(text, header.format_version).map_err(corrupt)?;
    validate::check_bounds(&project).map_err(corrupt)?;
    let migrated_from = (header.format_version < FORMAT_VERSION).then_some(header.format_version);
    Ok(OpenedProject {
        banner: migrated_from
            .map(|v| format!("This project was written in format {v}; it will be saved in format {FORMAT_VERSION}.")),
        project,
        read_only: false,
        migrated_from,
    })
}

/// An unknown key: its path in the project and the line it is on.
#[derive(Clone, Debug, PartialEq, Eq)]
struct UnknownKey {
    path: String,
    line: Option<usize>,
}

/// Reads the body as this build's types, listing every key they do not have.
fn deserialize_body(text: &str) -> Result<(Project, Vec<UnknownKey>), String> {
    let mut deserializer =
        ron::de::Deserializer::from_str_with_options(text, &ron_options()).map_err(|e| describe_ron_error(&e))?;
    let mut unknown = Vec::new();
    let project: Result<Project, _> =
        serde_ignored::deserialize(&mut deserializer, |path| unknown.push(key_path(&path)));
    let locate = |unknown: Vec<String>| -> Vec<UnknownKey> {
        unknown.into_iter().map(|path| UnknownKey { line: line_of_key(text, &path), path }).collect()
    };
    let project = match project {
        Ok(project) => project,
        Err(e) => {
            let error = describe_ron_error(&deserializer.span_error(e));
            // A misspelt required key is reported as missing where its struct ends; the unknown
            // key seen before it is the likely cause, so it is named too.
            let unknown = locate(unknown);
            return Err(if unknown.is_empty() {
                error
            } else {
                format!("{error}; before it, a key Strata does not know: {} (misspelt?)", key_list(&unknown))
            });
        }
    };
    deserializer.end().map_err(|e| describe_ron_error(&deserializer.span_error(e)))?;
    Ok((project, locate(unknown)))
}

/// A key's path as the project file reads: `spec.recipe.features[0].weight` (an `Option`'s or an
/// enum variant's wrapping adds nothing).
fn key_path(path: &serde_ignored::Path) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", key_path(parent)),
        Path::Map { parent, key } => match key_path(parent) {
            p if p.is_empty() => key.clone(),
            p => format!("{p}.{key}"),
        },
        Path::Some { parent } | Path::NewtypeStruct { parent } | Path::NewtypeVariant { parent } => key_path(parent),
    }
}

/// The line of the first `key:` of a key path's last part (RON keeps no positions for ignored keys).
fn line_of_key(text: &str, path: &str) -> Option<usize> {
    let key = path.rsplit('.').next()?;
    text.lines()
        .position(|line| line.trim_start().strip_prefix(key).is_some_and(|rest| rest.trim_start().starts_with(':')))
        .map(|i| i + 1)
}

/// Up to five keys with their lines, for a message.
fn key_list(keys: &[UnknownKey]) -> String {
    let mut shown: Vec<String> = keys
        .iter()
        .take(5)
        .map(|k| match k.line {
            Some(line) => format!("{} (line {line})", quoted(&k.path)),
            None => quoted(&k.path),
        })
        .collect();
    if keys.len() > 5 {
        shown.push(format!("and {} more", keys.len() - 5));
    }
    shown.join(", ")
}

/// A RON error as "line L, column C: what", its quoted parts cut short.
fn describe_ron_error(error: &ron::error::SpannedError) -> String {
    let what = error.code.to_string();
    let what = if what.chars().count() > 300 { quoted(&what) } else { what };
    format!("line {}, column {}: {what}", error.span.start.line, error.span.start.col)
}

/// Reads a body of format `version` and migrates it step by step to the current format.
///
/// Formats 2 to 4 only added to format 1, and every key they added is optional by design (written
/// only when used: `kept`, `rules`, `audit`, `over_time`, `low_priority`, a log's `since`, a
/// mixture's `bic`/`aic`); its absence means none. Every other key is required in every version.
fn migrate(text: &str, version: u32) -> Result<Project, String> {
    match version {
        1..=12 => {
            let (project, unknown) =
                deserialize_body(text).map_err(|e| format!("damaged format {version} body: {e}"))?;
            if !unknown.is_empty() {
                return Err(format!(
                    "{} that format {version} does not have: {} (misspelt? a key Strata does not know is never ignored)",
                    if unknown.len() == 1 { "a key".to_string() } else { format!("{} keys", unknown.len()) },
                    key_list(&unknown)
                ));
            }
            let sources = std::iter::once(&project.spec.source).chain(project.spec.attributes.as_ref());
            if version < 5 && sources.into_iter().any(|s| !s.read_options.formats.is_default()) {
                return Err(format!(
                    "a key that format {version} does not have: read_options.formats (new in format 5)"
                ));
            }
            if version < 6 && project.segments.iter().any(|n| n.colour.is_some()) {
                return Err(format!("a key that format {version} does not have: segments' colour (new in format 6)"));
            }
            if version < 6 && uses_format_6(&project.spec) {
                return Err(format!(
                    "format {version} has no file patterns, behaviour, attributes_key or derived columns (new in format 6)"
                ));
            }
            if version < 7 && uses_format_7(&project.spec) {
                return Err(format!(
                    "format {version} has no transaction log without an amount (amount is empty; new in format 7)"
                ));
            }
            if version < 8 && (project.board.is_some() || project.presentation.is_some()) {
                return Err(format!("format {version} has no board or presentation (new in format 8)"));
            }
            if version < 9 && (!project.governance.is_default() || project.audit.iter().any(|e| e.is_sealed())) {
                return Err(format!("format {version} has no governance or chained audit log (new in format 9)"));
            }
            if version < 10 && uses_format_10(&project.spec) {
                return Err(format!("format {version} has no customer lifetime value (value; new in format 10)"));
            }
            if version < 11 && (!project.versions.is_empty() || !project.monitor.is_default()) {
                return Err(format!("format {version} has no model versions or monitor (new in format 11)"));
            }
            if version < 12 && uses_format_12(&project) {
                return Err(format!("format {version} has no k-means kernel (kernel; new in format 12)"));
            }
            Ok(project)
        }
        other => Err(format!(
            "format version {other} is not one Strata ever wrote (readable: {OLDEST_READABLE_VERSION} to {FORMAT_VERSION})"
        )),
    }
}
