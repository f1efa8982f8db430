//! What the session made: finished runs with their summaries, sweeps kept for the Model charts,
//! segmentations kept for Compare, source previews and segments over time.

use std::path::PathBuf;
use std::sync::Arc;

use polars::prelude::DataFrame;

use super::document::analysis_key;
use super::{Document, RulesKey, StrataApp, screens};
use crate::engine::data::quality::QualityReport;
use crate::engine::data::roles::RoleGuess;
use crate::engine::naming;
use crate::engine::over_time::WindowParams;
use crate::engine::pipeline::{PipelineResult, PipelineSpec, SourceSpec};
use crate::engine::profile::summary::{Histogram, ResultSummary};
use crate::engine::project;

/// A customer table or transaction log as read, with its quality report (Data screen).
pub struct SourcePreview {
    /// Which source.
    pub source: SourceSpec,
    /// The rows as read.
    pub frame: DataFrame,
    /// Guessed roles.
    pub roles: Vec<RoleGuess>,
    /// Quality per column.
    pub quality: QualityReport,
    /// Histogram per column (numeric columns).
    pub histograms: Vec<Option<Histogram>>,
    /// Reader warnings.
    pub warnings: Vec<String>,
    /// The first guesses (customer id, default features), each with its reason.
    pub suggestions: crate::engine::data::guesses::Suggestions,
    /// How each column that looked like dates or formatted numbers was read.
    pub readings: Vec<crate::engine::data::ColumnReading>,
    /// Columns whose dates read both day-first and month-first: read as text here until the user
    /// answers which (the run refuses them until then).
    pub ambiguities: Vec<crate::engine::error::DateAmbiguity>,
}

/// A finished run: the result, its summary for the screens, and the spec it ran.
pub struct RunOutput {
    /// The spec that produced it.
    pub spec: PipelineSpec,
    /// The folder its data paths were resolved against.
    pub base_dir: PathBuf,
    /// The pipeline's result, business rules applied.
    pub result: PipelineResult,
    /// The rules, overrides and low-priority marks applied.
    pub rules: RulesKey,
    /// Profiles, histograms, projection, silhouettes.
    pub summary: ResultSummary,
    /// Counts over every customer the screens show, made on the run's job.
    pub counts: RunCounts,
}

impl RunOutput {
    /// Whether this output is the analysis `doc` describes now: its spec (paths resolved against its
    /// folder), its business rules and low-priority marks, and exact (a provisional output is
    /// never saved, published or reviewed as the project's).
    pub fn is_for(&self, doc: &Document) -> bool {
        self.result.provisional.is_none() && self.describes(doc)
    }

    /// Whether this output is a provisional result of the analysis `doc` describes now (shown while
    /// the exact run goes on).
    pub fn is_provisional_for(&self, doc: &Document) -> bool {
        self.result.provisional.is_some() && self.describes(doc)
    }

    fn describes(&self, doc: &Document) -> bool {
        analysis_key(&self.spec, &self.base_dir) == analysis_key(&doc.project.spec, &doc.base_dir)
            && self.rules == doc.rules_key()
    }
}

/// What the RFM and hybrid views show of the customers' scores, counted once when the run finishes
/// (on its job) instead of over every customer on every frame.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScoreTables {
    /// Per segment: the sums of its customers' recency, frequency and monetary scores.
    pub sums: Vec<[usize; 3]>,
    /// Customers per recency x frequency score cell (index `(r - 1) * 5 + (f - 1)`), per segment.
    pub cells: Vec<Vec<usize>>,
}

impl ScoreTables {
    /// The tables of a fit with RFM scores (RFM rules, the hybrid); `None` for other methods.
    pub fn of(result: &PipelineResult) -> Option<Self> {
        let scores = result.fit.rfm_scores.as_ref()?;
        let k = result.fit.k();
        let mut sums = vec![[0usize; 3]; k];
        let mut cells = vec![vec![0usize; k]; 25];
        for (&label, score) in result.fit.labels.iter().zip(scores) {
            let (Some(sum), Some(cell)) = (
                sums.get_mut(label),
                cells.get_mut(usize::from(score[0].clamp(1, 5) - 1) * 5 + usize::from(score[1].clamp(1, 5) - 1)),
            ) else {
                continue;
            };
            for j in 0..3 {
                sum[j] += usize::from(score[j]);
            }
            if let Some(count) = cell.get_mut(label) {
                *count += 1;
            }
        }
        Some(Self { sums, cells })
    }
}

/// Counts the Rules screen and the Compare screen would otherwise make over every customer while
/// drawing, made once with the run.
#[derive(Clone, Debug, Default)]
pub struct RunCounts {
    /// Customers the business rules and overrides moved from the model's segments.
    pub rules_changed: usize,
    /// Label columns of the customer table that could be segmentations (Compare offers them).
    pub label_columns: Vec<String>,
    /// The RFM and hybrid views' tables.
    pub scores: Option<ScoreTables>,
}

impl RunCounts {
    /// Counts `result` (made by `spec`).
    pub fn of(spec: &PipelineSpec, result: &PipelineResult) -> Self {
        Self {
            rules_changed: result.rules.as_ref().map_or(0, |r| r.n_changed()),
            label_columns: crate::engine::data::label_columns(&result.customers, spec.id_column()),
            scores: ScoreTables::of(result),
        }
    }
}

/// Segments over time as computed, with what they were computed for.
pub struct OverTimeOutput {
    /// The spec whose log was cut.
    pub spec: PipelineSpec,
    /// The folder its data paths were resolved against.
    pub base_dir: PathBuf,
    /// How it was cut.
    pub params: WindowParams,
    /// The business rules the windows took, with the names and marks of the notes they refer to.
    pub rules: OverTimeRulesKey,
    /// The windows, sizes and transitions.
    pub result: crate::engine::over_time::OverTime,
}

impl OverTimeOutput {
    /// Whether this is what `doc` asks for now.
    pub fn is_for(&self, doc: &Document) -> bool {
        analysis_key(&self.spec, &self.base_dir) == analysis_key(&doc.project.spec, &doc.base_dir)
            && Some(&self.params) == doc.project.over_time.as_ref().or(Some(&WindowParams::default()))
            && self.rules == over_time_rules_key(&doc.project.rules, &doc.project.segments)
    }
}

/// What of the rules and notes decides the windows' segments: the rules and overrides, and each
/// note's segment, name and low-priority mark (a rule names its target segment).
pub type OverTimeRulesKey = (crate::engine::rules::BusinessRules, Vec<(usize, String, bool)>);

/// The [`OverTimeRulesKey`] of a project's rules and notes.
pub fn over_time_rules_key(
    rules: &crate::engine::rules::BusinessRules,
    notes: &[crate::engine::naming::SegmentNote],
) -> OverTimeRulesKey {
    (rules.clone(), notes.iter().map(|n| (n.segment, n.name.clone(), n.low_priority)).collect())
}

/// A segmentation kept for the Compare screen: who is in which segment, and under what names.
#[derive(Clone)]
pub struct KeptSegmentation {
    /// Its number in this session.
    pub id: u64,
    /// What made it, in a few words, without its number (as stored in the project).
    pub title: String,
    /// The whole spec, for the tooltip.
    pub description: String,
    /// Which customers it segments (sources' fingerprints, as-of date, count): only segmentations
    /// of the same customers can be compared.
    pub customers_key: String,
    /// Segment per customer row (`None` when dropped).
    pub segments: Arc<Vec<Option<usize>>>,
    /// Segment names when it was made.
    pub names: Vec<String>,
    /// Its assignment fingerprint (one entry per distinct segmentation).
    pub fingerprint: String,
}

impl KeptSegmentation {
    /// It as the project stores it (encodes every customer's segment).
    pub fn record(&self) -> project::KeptSegmentation {
        project::KeptSegmentation {
            label: self.title.clone(),
            description: self.description.clone(),
            customers_key: self.customers_key.clone(),
            n_customers: self.segments.len(),
            names: self.names.clone(),
            fingerprint: self.fingerprint.clone(),
            segments: project::encode_segments(&self.segments),
        }
    }

    /// Its run number and what made it: "Run 2: Gaussian mixture, k = 5" (the number the Model
    /// screen gives the same run).
    pub fn label(&self) -> String {
        format!("Run {}: {}", self.id, self.title)
    }
}

/// Which customers a result segments, as a key.
pub fn customers_key(result: &PipelineResult) -> String {
    naming::customers_key(&result.source_fingerprints, result.as_of, result.customers.height())
}

/// A sweep kept for comparison on the Model charts.
pub struct KeptRun {
    /// Its number in this session.
    pub id: u64,
    /// The legend's name for it.
    pub label: String,
    /// The output it comes from.
    pub output: Arc<RunOutput>,
    /// Whether its curves are drawn.
    pub visible: bool,
}

/// One line naming what a run did (features, transforms, algorithm), for legends.
pub fn describe_spec(spec: &PipelineSpec) -> String {
    let features: Vec<String> = spec
        .recipe
        .features
        .iter()
        .map(|f| {
            let mut name = f.column.clone();
            if f.log1p {
                name = format!("log {name}");
            }
            if (f.weight - 1.0).abs() > 1e-12 {
                name = format!("{name} x{}", f.weight);
            }
            name
        })
        .collect();
    let scaling = spec
        .recipe
        .features
        .first()
        .map(|f| match f.scaling {
            crate::engine::features::recipe::Scaling::ZScore => "z-score",
            crate::engine::features::recipe::Scaling::Robust => "robust",
            crate::engine::features::recipe::Scaling::MinMax => "min-max",
            crate::engine::features::recipe::Scaling::None => "unscaled",
        })
        .unwrap_or_default();
    let algorithm = &spec.model.algorithm;
    format!("{}, {} ({scaling}), seed {}", algorithm.label(), features.join(", "), algorithm.seed())
}

impl StrataApp {
    /// The colours of `result`'s segments: a named segment keeps the colour it came with.
    pub fn segment_colours_in(
        &self,
        result: &crate::engine::pipeline::PipelineResult,
    ) -> crate::app::widgets::SegmentColours {
        let notes = self.doc.as_ref().map_or(&[][..], |d| &d.project.segments[..]);
        crate::app::widgets::SegmentColours::new(notes, result.fit.k())
    }

    /// A segment's name: the one the user gave it, else the one `result` gives it.
    pub fn segment_name_in(&self, result: &crate::engine::pipeline::PipelineResult, segment: usize) -> String {
        let notes = self.doc.as_ref().map_or(&[][..], |d| &d.project.segments[..]);
        naming::segment_name(notes, result, segment)
    }

    /// Keeps the segmentation `output` made under run number `id`; false when it is kept already.
    pub(super) fn keep_segmentation(&mut self, output: &RunOutput, id: u64) -> bool {
        let result = &output.result;
        if self.segmentations.iter().any(|s| s.fingerprint == result.assignment_fingerprint) {
            return false;
        }
        let title = naming::segmentation_title(&output.spec, result);
        let notes = self.doc.as_ref().map_or(&[][..], |d| &d.project.segments[..]);
        let names = naming::segment_names(notes, result);
        self.segmentations.push(KeptSegmentation {
            id,
            title,
            description: describe_spec(&output.spec),
            customers_key: customers_key(result),
            segments: Arc::new(result.segment_per_customer.clone()),
            names,
            fingerprint: result.assignment_fingerprint.clone(),
        });
        true
    }

    /// The kept segmentations of the customers `result` segments (shared, not copied: the save job
    /// encodes them as the project stores them).
    pub(super) fn kept_to_save(&self, result: Option<&PipelineResult>) -> Vec<KeptSegmentation> {
        let key = result.map(customers_key);
        self.segmentations.iter().filter(|s| key.as_ref().is_none_or(|k| *k == s.customers_key)).cloned().collect()
    }

    /// Brings back the segmentations a project kept (those not kept already); a damaged one is
    /// skipped with a message.
    pub(super) fn restore_kept(&mut self, records: &[project::KeptSegmentation]) {
        for record in records {
            if self.segmentations.iter().any(|s| s.fingerprint == record.fingerprint) {
                continue;
            }
            match project::decode_segments(&record.segments, record.n_customers, record.names.len()) {
                Ok(segments) => {
                    // Numbered as the runs are: one numbering on every screen.
                    self.next_run_id += 1;
                    let id = self.next_run_id;
                    self.segmentations.push(KeptSegmentation {
                        id,
                        title: record.label.clone(),
                        description: record.description.clone(),
                        customers_key: record.customers_key.clone(),
                        segments: Arc::new(segments),
                        names: record.names.clone(),
                        fingerprint: record.fingerprint.clone(),
                    });
                }
                Err(e) => self.report_error(format!("The kept segmentation '{}' is damaged: {e}", record.label)),
            }
        }
    }

    /// Forgets a kept segmentation (it is no longer offered on Compare or saved).
    pub fn forget_segmentation(&mut self, id: u64) {
        self.segmentations.retain(|s| s.id != id);
        let compare = &mut self.view.compare;
        let gone =
            |side: &Option<screens::compare::Side>| matches!(side, Some(screens::compare::Side::Run(i)) if *i == id);
        if gone(&compare.a) || gone(&compare.b) {
            compare.a = None;
            compare.b = None;
            compare.result = None;
            compare.computed_for = None;
            compare.computing = None;
            self.compare_runner.cancel();
        }
    }

    /// Keeps the sweep of `output` under run number `id` for the k-choice charts. A run that sweeps
    /// the same thing as a kept one (the spec differs only in k, the business floor, stability, the
    /// tree depth or the file's fingerprint, or its curves are the same numbers) replaces it instead
    /// of adding a twin, and takes the new number, so the number on the Model screen is the one
    /// Compare gives the segmentation it made. The new run is drawn beside the previous one; older
    /// runs stay kept but unticked.
    pub(super) fn keep_run(&mut self, output: Arc<RunOutput>, id: u64) {
        let sweep_key = |spec: &PipelineSpec| {
            let mut s = spec.clone();
            s.model.algorithm.set_k(0);
            // These only mark the view or check the fit; the sweep's curves are the same.
            s.model.min_segment_share = None;
            s.model.stability = None;
            s.model.explain_depth = None;
            s.source.fingerprint = None;
            if let Some(attributes) = &mut s.attributes {
                attributes.fingerprint = None;
            }
            s
        };
        let key = sweep_key(&output.spec);
        let same_curves = |run: &KeptRun| match (&run.output.result.sweep, &output.result.sweep) {
            (Some(a), Some(b)) => a.runs == b.runs,
            _ => false,
        };
        let replaced = self.runs.iter().position(|r| sweep_key(&r.output.spec) == key || same_curves(r));
        let existing = replaced.map(|i| self.runs.remove(i));
        // Another sweep can end on a segmentation already numbered (the same k and customers from
        // another k range): two entries never share a number, or a colour.
        let id = if self.runs.iter().any(|r| r.id == id) {
            self.next_run_id += 1;
            self.next_run_id
        } else {
            id
        };
        if let Some(mut existing) = existing {
            existing.label = format!("Run {id}: {}", describe_spec(&output.spec));
            existing.id = id;
            existing.output = output;
            existing.visible = true;
            self.runs.push(existing);
            return;
        }
        let label = format!("Run {id}: {}", describe_spec(&output.spec));
        let n = self.runs.len();
        for (i, run) in self.runs.iter_mut().enumerate() {
            run.visible = run.visible && i + 1 == n;
        }
        self.runs.push(KeptRun { id, label, output, visible: true });
        while self.runs.len() > 12 {
            self.runs.remove(0);
        }
    }
}
