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
//! - Version 4 (current): business rules and overrides (`rules`), the audit log (`audit`),
//!   segments marked `low_priority`, the windows of the Over time screen (`over_time`) and a
//!   transaction log's `since`. Only additions; a file says `min_reader_version: 4` when it
//!   has rules or overrides, since an older reader would show the model's segments without them.
//!
//! The fixture `tests/fixtures/projects/v1.strata` must keep opening: when a change to an engine type
//! would break it, copy the old types into a frozen module, bump `FORMAT_VERSION`, and add a
//! migration step in `migrate`.

mod atomic;

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use atomic::{backup_path, save_atomically};

use crate::engine::cluster::sweep::SweepResult;
use crate::engine::error::ProjectError;
use crate::engine::features::FittedRecipe;
use crate::engine::metrics::Indices;
use crate::engine::pipeline::{PipelineResult, PipelineSpec};
use crate::engine::rules::{AuditEntry, BusinessRules};

/// The format name every project file's header carries.
pub const FORMAT_NAME: &str = "strata-project";
/// The format version this build writes.
pub const FORMAT_VERSION: u32 = 4;
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

/// A segment's name and notes, kept by segment number.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentNote {
    /// Canonical segment number.
    pub segment: usize,
    /// Business name.
    pub name: String,
    /// Free notes.
    #[serde(default)]
    pub notes: String,
    /// Marked low priority: business rules can keep customers out of it (format 4).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub low_priority: bool,
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
        }
    }
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
    #[serde(default)]
    pub results: Option<StoredResults>,
    /// Segment names and notes.
    #[serde(default)]
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
        }
    }

    /// The project as RON text, stamped with this build's header and producer.
    pub fn to_ron(&self) -> Result<String, ProjectError> {
        let mut stamped = self.clone();
        stamped.header = Header::current(min_reader_version(self));
        stamped.producer = Producer::current();
        ron::ser::to_string_pretty(&stamped, ron::ser::PrettyConfig::new().struct_names(false))
            .map_err(|e| ProjectError::Corrupt { path: PathBuf::new(), message: format!("could not serialise: {e}") })
    }

    /// Saves atomically (the previous file kept as `.bak`).
    pub fn save(&self, path: &Path) -> Result<(), ProjectError> {
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

/// Opens a project file; never writes anything.
pub fn open(path: &Path) -> Result<OpenedProject, ProjectError> {
    let io = |source| ProjectError::Io { action: "reading", path: path.to_path_buf(), source };
    let size = std::fs::metadata(path).map_err(io)?.len();
    let corrupt = |message: String| ProjectError::Corrupt { path: path.to_path_buf(), message };
    if size > MAX_PROJECT_BYTES {
        return Err(corrupt(format!("{size} bytes is larger than any project file should be")));
    }
    let bytes = std::fs::read(path).map_err(io)?;
    let text = std::str::from_utf8(&bytes).map_err(|e| corrupt(format!("not UTF-8 text: {e}")))?;
    parse(text).map_err(|e| match e {
        ProjectError::Corrupt { message, .. } => corrupt(message),
        ProjectError::TooNew { format_version, min_reader, supported, .. } => {
            ProjectError::TooNew { path: path.to_path_buf(), format_version, min_reader, supported }
        }
        other => other,
    })
}

/// Parses project text (the path in errors is filled in by [`open`]).
pub fn parse(text: &str) -> Result<OpenedProject, ProjectError> {
    let corrupt = |message: String| ProjectError::Corrupt { path: PathBuf::new(), message };
    let header =
        ron_options().from_str::<HeaderOnly>(text).map_err(|e| corrupt(format!("no readable header: {e}")))?.header;
    if header.format != FORMAT_NAME {
        return Err(corrupt(format!("the format is '{}', not '{FORMAT_NAME}'", header.format)));
    }
    if header.format_version > FORMAT_VERSION {
        if header.min_reader_version > FORMAT_VERSION {
            return Err(ProjectError::TooNew {
                path: PathBuf::new(),
                format_version: header.format_version,
                min_reader: header.min_reader_version,
                supported: FORMAT_VERSION,
            });
        }
        // Newer, but declared readable by us: fields we do not know are ignored; saving over it would
        // lose them, so it opens read-only.
        let project = ron_options().from_str::<Project>(text).map_err(|e| {
            corrupt(format!("written by a newer Strata (format {}) and not readable here: {e}", header.format_version))
        })?;
        return Ok(OpenedProject {
            project,
            read_only: true,
            migrated_from: None,
            banner: Some(format!(
                "This project was written by a newer Strata (format {}). It is open read-only; use Save As to keep a copy in format {FORMAT_VERSION}.",
                header.format_version
            )),
        });
    }
    let project = migrate(text, header.format_version).map_err(corrupt)?;
    let migrated_from = (header.format_version < FORMAT_VERSION).then_some(header.format_version);
    Ok(OpenedProject {
        banner: migrated_from
            .map(|v| format!("This project was written in format {v}; it will be saved in format {FORMAT_VERSION}.")),
        project,
        read_only: false,
        migrated_from,
    })
}

/// Reads a body of format `version` and migrates it step by step to the current format.
fn migrate(text: &str, version: u32) -> Result<Project, String> {
    match version {
        // Formats 2 to 4 only added to format 1, so every body is the engine's current types.
        1..=4 => ron_options().from_str::<Project>(text).map_err(|e| format!("damaged format {version} body: {e}")),
        other => Err(format!(
            "format version {other} is not one Strata ever wrote (readable: {OLDEST_READABLE_VERSION} to {FORMAT_VERSION})"
        )),
    }
}
