//! The workbench window (egui only): panels draw and push [`Command`]s, [`StrataApp::logic`] applies
//! them and drains job events, the job runner does the work, and results are immutable snapshots.

pub mod dialogs;
pub mod frame_bench;
pub mod prefs;
mod screens;
mod widgets;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender};

use eframe::egui;
use polars::prelude::DataFrame;

use crate::engine::data::quality::{QualityReport, numeric_values, quality_report};
use crate::engine::data::roles::{ColumnRole, RoleGuess, guess_roles};
use crate::engine::error::PipelineError;
use crate::engine::features::{FeatureRecipe, FeatureSpec, TransactionColumns};
use crate::engine::jobs::{JobEvent, JobRunner, RunMode};
use crate::engine::over_time::WindowParams;
use crate::engine::pipeline::{
    self, Algorithm, DataSource, ModelSpec, PipelineResult, PipelineSpec, SourceResolver, SourceSpec, StageCache,
    TableKind,
};
use crate::engine::profile::summary::{Histogram, ResultSummary};
use crate::engine::project::{self, Project, SegmentNote, StoredResults};
use crate::engine::rules::BusinessRules;

pub use dialogs::{DialogAnswer, DialogPurpose, DialogReply, FileDialogs, NativeDialogs, ScriptedDialogs};
pub use prefs::{Prefs, ThemeChoice};

/// The built-in demo project's display name.
pub const DEMO_TITLE: &str = "CDNOW demo";

/// The screens of the workflow, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Screen {
    /// Sources, preview, roles, quality.
    Data,
    /// Feature choice and recipe, distributions, correlations.
    Features,
    /// Algorithm, k range, sweep charts, runs.
    Model,
    /// Segment cards, profiles, silhouettes, projection.
    Segments,
    /// Two segmentations side by side: cross-tabulation, ARI, AMI, alluvial view.
    Compare,
    /// Business rules, low-priority segments, overrides and the audit log.
    Rules,
    /// The transaction log cut into windows: segment sizes over time and who moves where.
    OverTime,
}

impl Screen {
    /// All screens in workflow order.
    pub const ALL: [Screen; 7] = [
        Screen::Data,
        Screen::Features,
        Screen::Model,
        Screen::Segments,
        Screen::Compare,
        Screen::Rules,
        Screen::OverTime,
    ];

    /// The tab label.
    pub fn label(self) -> &'static str {
        match self {
            Screen::Data => "Data",
            Screen::Features => "Features",
            Screen::Model => "Model",
            Screen::Segments => "Segments",
            Screen::Compare => "Compare",
            Screen::Rules => "Rules",
            Screen::OverTime => "Over time",
        }
    }
}

/// What the window opens first.
#[derive(Clone, Debug)]
pub enum StartProject {
    /// The built-in demo project.
    Demo,
    /// A project file.
    File(PathBuf),
    /// Nothing (New).
    Empty,
}

/// How the window is put together: real dialogs and threads, or scripted ones for tests.
pub struct AppOptions {
    /// What to open first.
    pub start: StartProject,
    /// Jobs on threads (the window) or inline (tests).
    pub run_mode: RunMode,
    /// The file dialogs.
    pub dialogs: Box<dyn FileDialogs>,
    /// Whether to read and write preferences through eframe's storage.
    pub use_storage: bool,
    /// Called at the start of every segmentation job with the job's name; tests use it to make a
    /// job fail as a bug would (a panic) and check the window keeps the open project.
    pub job_probe: Option<JobProbe>,
}

/// A function called with a job's name when the job starts (see [`AppOptions::job_probe`]).
pub type JobProbe = Arc<dyn Fn(&str) + Send + Sync>;

impl AppOptions {
    /// The real window: threads, native dialogs, remembered preferences.
    pub fn window(start: StartProject) -> Self {
        Self { start, run_mode: RunMode::Threads, dialogs: Box::new(NativeDialogs), use_storage: true, job_probe: None }
    }

    /// A test window: jobs run inline, dialogs answer from a script, nothing is remembered.
    pub fn scripted(start: StartProject, dialogs: ScriptedDialogs) -> Self {
        Self { start, run_mode: RunMode::Inline, dialogs: Box::new(dialogs), use_storage: false, job_probe: None }
    }
}

/// The undoable part of a project: the spec, the segments' names and notes, the business rules.
#[derive(Clone, Debug, PartialEq)]
pub struct DocState {
    /// The pipeline spec.
    pub spec: PipelineSpec,
    /// Names and notes.
    pub segments: Vec<SegmentNote>,
    /// Business rules and overrides.
    pub rules: BusinessRules,
    /// How the Over time screen cuts the log into windows.
    pub over_time: Option<WindowParams>,
}

/// What the business rules' outcome depends on besides the run: the rules and overrides, and the
/// segments marked low priority.
pub type RulesKey = (BusinessRules, Vec<usize>);

/// The rules key of a state.
pub fn rules_key(rules: &BusinessRules, notes: &[SegmentNote]) -> RulesKey {
    (rules.clone(), notes.iter().filter(|n| n.low_priority).map(|n| n.segment).collect())
}

/// Everything a button, menu entry or shortcut can ask for.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Close the project and start empty (asks first when there are unsaved changes).
    NewProject,
    /// Ask for a project file to open.
    OpenProjectDialog,
    /// Open this project file.
    OpenProject(PathBuf),
    /// Open the built-in demo project.
    OpenDemo,
    /// Save to the project's file (Save As when it has none).
    Save,
    /// Ask where to save.
    SaveAsDialog,
    /// Save to this file.
    SaveAs(PathBuf),
    /// Ask for a data file.
    OpenDataDialog,
    /// Start a project from this data file.
    OpenData(PathBuf),
    /// Ask where the project's missing data file is.
    LocateSourceDialog,
    /// The project's data file is here.
    LocateSource(PathBuf),
    /// Replace the spec (one undo step; consecutive edits with the same `what` merge into one).
    EditSpec {
        /// The new spec.
        spec: Box<PipelineSpec>,
        /// What changed, for merging and for the undo menu.
        what: String,
    },
    /// Ask where to export the borderline customers.
    ExportBorderlineDialog,
    /// Write the borderline customers (id, segment, second-best segment, margin) to this file.
    ExportBorderline(PathBuf),
    /// Rename a segment.
    RenameSegment {
        /// Segment number.
        segment: usize,
        /// New name.
        name: String,
    },
    /// Replace the business rules and overrides (one undo step, written to the audit log).
    EditRules {
        /// The new rules and overrides.
        rules: BusinessRules,
        /// What changed, in words, for the undo menu and the audit log.
        what: String,
        /// Why, as the user gave it.
        why: String,
    },
    /// Mark a segment low priority or not (written to the audit log).
    SetLowPriority {
        /// Segment number.
        segment: usize,
        /// Marked or not.
        low_priority: bool,
    },
    /// The name the audit log records changes under.
    SetAuditName(String),
    /// How the Over time screen cuts the log into windows (stored in the project).
    SetWindows(WindowParams),
    /// Segment every window and follow the customers through them (a job).
    FollowCustomers,
    /// Change a segment's notes.
    EditSegmentNotes {
        /// Segment number.
        segment: usize,
        /// New notes.
        notes: String,
    },
    /// Undo the last edit.
    Undo,
    /// Redo the last undone edit.
    Redo,
    /// Run the pipeline on the current spec.
    Run,
    /// Cancel the running job.
    CancelRun,
    /// Use the solution with this k everywhere (an edit of the spec, then a run).
    SelectK(usize),
    /// Show a screen.
    Show(Screen),
    /// Light, dark or follow the system.
    SetTheme(ThemeChoice),
    /// Zoom of the whole interface (projectors).
    SetUiScale(f32),
    /// Whether edits start a run by themselves.
    SetAutoRun(bool),
    /// Show or hide a kept run's curves on the Model charts.
    ToggleRunOverlay(u64),
    /// Close the window (asks first when there are unsaved changes).
    Quit,
    /// The answer to the unsaved-changes question.
    ResolvePrompt(PromptChoice),
}

/// Answers to "save your changes?".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PromptChoice {
    /// Save, then go on.
    Save,
    /// Go on without saving.
    Discard,
    /// Stay.
    Cancel,
}

/// What waits for the unsaved-changes question.
#[derive(Clone, Debug, PartialEq)]
enum Pending {
    New,
    OpenDialog,
    Open(PathBuf),
    OpenDemo,
    OpenData(PathBuf),
    Quit,
}

/// A project open in the window.
pub struct Document {
    /// The project: spec, segment names, stored results.
    pub project: Project,
    /// Its file, once saved or when opened from one.
    pub path: Option<PathBuf>,
    /// Whether this is the built-in demo.
    pub is_demo: bool,
    /// Folder that relative data paths are resolved against.
    pub base_dir: PathBuf,
    /// Whether data paths outside `base_dir` may be read (the user picked them).
    pub allow_outside: bool,
    /// A banner from opening (migrated, written by a newer version).
    pub banner: Option<String>,
    /// Written by a newer Strata: Save As only.
    pub read_only: bool,
    /// The data file is not where the project expects it.
    pub missing_source: Option<String>,
    /// The data differs from the data the project was made with.
    pub fingerprint_warning: Option<String>,
    /// What the first run did not reproduce of the stored results, one line per figure (empty:
    /// everything was; None before it or without stored results).
    pub reproduced: Option<Vec<String>>,
    /// Made from a data file: roles and features are guessed when its preview arrives.
    needs_setup: bool,
    saved: Option<DocState>,
    undo: Vec<(DocState, String)>,
    redo: Vec<(DocState, String)>,
    merge_key: Option<String>,
    first_run_checked: bool,
    /// Segment names and notes of the other methods used this session, so switching methods and
    /// back brings the names back (each method numbers its segments its own way).
    names_by_method: std::collections::HashMap<&'static str, Vec<SegmentNote>>,
    /// The assignment the segment notes are numbered by (the latest run's), so a re-fit can carry
    /// them to the segments their customers went to; `None` after an undo or redo, which restores
    /// notes numbered by an earlier run.
    notes_numbered_by: Option<String>,
    /// Lines of the audit log when the project was last opened or saved.
    audit_saved: usize,
}

impl Document {
    fn new(project: Project, path: Option<PathBuf>, base_dir: PathBuf, is_demo: bool) -> Self {
        let audit_saved = if path.is_some() || is_demo { project.audit.len() } else { usize::MAX };
        let saved = (path.is_some() || is_demo).then(|| DocState {
            spec: project.spec.clone(),
            segments: project.segments.clone(),
            rules: project.rules.clone(),
            over_time: project.over_time.clone(),
        });
        Self {
            project,
            path,
            is_demo,
            base_dir,
            allow_outside: is_demo,
            banner: None,
            read_only: false,
            missing_source: None,
            fingerprint_warning: None,
            reproduced: None,
            needs_setup: false,
            saved,
            undo: Vec::new(),
            redo: Vec::new(),
            merge_key: None,
            first_run_checked: false,
            names_by_method: Default::default(),
            notes_numbered_by: None,
            audit_saved,
        }
    }

    /// The undoable state now.
    pub fn state(&self) -> DocState {
        DocState {
            spec: self.project.spec.clone(),
            segments: self.project.segments.clone(),
            rules: self.project.rules.clone(),
            over_time: self.project.over_time.clone(),
        }
    }

    /// What the business rules' outcome depends on now.
    pub fn rules_key(&self) -> RulesKey {
        rules_key(&self.project.rules, &self.project.segments)
    }

    /// Whether there are changes not saved to a file (the audit log counts: an undo back to the
    /// saved state is itself logged).
    pub fn is_dirty(&self) -> bool {
        self.saved.as_ref() != Some(&self.state()) || self.project.audit.len() != self.audit_saved
    }

    /// The name shown in the title bar.
    pub fn title(&self) -> String {
        match (&self.path, self.is_demo) {
            (Some(p), _) => p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned()),
            (None, true) => DEMO_TITLE.to_string(),
            (None, false) => "Untitled".to_string(),
        }
    }

    /// What an undo would revert, if anything.
    pub fn undo_label(&self) -> Option<&str> {
        self.undo.last().map(|(_, what)| what.as_str())
    }

    /// What a redo would re-apply, if anything.
    pub fn redo_label(&self) -> Option<&str> {
        self.redo.last().map(|(_, what)| what.as_str())
    }

    fn resolver(&self) -> SourceResolver {
        SourceResolver { base_dir: self.base_dir.clone(), allow_outside: self.allow_outside }
    }

    /// Records the state before an edit; consecutive edits with the same key are one step.
    fn record(&mut self, what: &str) {
        if self.merge_key.as_deref() != Some(what) {
            self.undo.push((self.state(), what.to_string()));
            self.merge_key = Some(what.to_string());
        }
        self.redo.clear();
    }

    fn restore(&mut self, state: DocState) {
        self.project.spec = state.spec;
        self.project.segments = state.segments;
        self.project.rules = state.rules;
        self.project.over_time = state.over_time;
        self.merge_key = None;
    }
}

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
}

/// Segments over time as computed, with what they were computed for.
pub struct OverTimeOutput {
    /// The spec whose log was cut.
    pub spec: PipelineSpec,
    /// The folder its data paths were resolved against.
    pub base_dir: PathBuf,
    /// How it was cut.
    pub params: WindowParams,
    /// The windows, sizes and transitions.
    pub result: crate::engine::over_time::OverTime,
}

impl OverTimeOutput {
    /// Whether this is what `doc` asks for now.
    pub fn is_for(&self, doc: &Document) -> bool {
        analysis_key(&self.spec, &self.base_dir) == analysis_key(&doc.project.spec, &doc.base_dir)
            && Some(&self.params) == doc.project.over_time.as_ref().or(Some(&WindowParams::default()))
    }
}

/// A segmentation kept for the Compare screen: who is in which segment, and under what names.
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

/// Carries the notes numbered by `previous` to the segments of `result` their customers went to
/// (customers matched by `id_column` when both tables have it, else by row when the tables have the
/// same rows; segments matched by the Hungarian method on customers in common, at least 30%
/// Jaccard). Names nobody changed are left for the new defaults. Returns what moved, in words, or
/// `None` when the customers cannot be matched or nothing moved.
fn carry_names(
    notes: &mut Vec<SegmentNote>,
    previous: &crate::engine::pipeline::PipelineResult,
    result: &crate::engine::pipeline::PipelineResult,
    id_column: Option<&str>,
) -> Option<String> {
    use crate::engine::metrics::matching::match_segments;
    // Each customer's old and new segment, customers matched by the project's id column, else the
    // column guessed to hold ids.
    let guessed = result.roles.iter().find(|g| g.role == ColumnRole::CustomerId).map(|g| g.column.as_str());
    let id_column = id_column.or(guessed);
    let ids = |r: &crate::engine::pipeline::PipelineResult| -> Option<Vec<String>> {
        let column = r.customers.column(id_column?).ok()?.cast(&polars::prelude::DataType::String).ok()?;
        let texts = column.str().ok()?;
        texts.iter().map(|t| t.map(str::to_string)).collect()
    };
    let (old, new): (Vec<Option<usize>>, Vec<Option<usize>>) = match (ids(previous), ids(result)) {
        (Some(old_ids), Some(new_ids)) => {
            let position: std::collections::HashMap<&str, usize> =
                new_ids.iter().enumerate().map(|(i, id)| (id.as_str(), i)).collect();
            old_ids
                .iter()
                .enumerate()
                .filter_map(|(i, id)| {
                    position.get(id.as_str()).map(|&j| (previous.model_segments()[i], result.model_segments()[j]))
                })
                .unzip()
        }
        _ if customers_key(previous) == customers_key(result) => {
            (previous.model_segments().to_vec(), result.model_segments().to_vec())
        }
        _ => return None,
    };
    let (k_old, k_new) = (previous.fit.k(), result.fit.k());
    let matched = match_segments(&old, &new, k_old, k_new, 0.3);
    let is_default = |note: &SegmentNote| {
        note.notes.is_empty()
            && (note.name == format!("Segment {}", note.segment + 1)
                || note.name == "Fallback (missing data)"
                || note.name == previous.default_segment_name(note.segment))
    };
    let mut moved = Vec::new();
    let mut lost = Vec::new();
    let mut carried = Vec::new();
    for note in notes.drain(..) {
        if note.segment == k_old {
            // The fallback segment stays the fallback segment.
            carried.push(SegmentNote { segment: k_new, ..note });
            continue;
        }
        if is_default(&note) {
            continue;
        }
        match matched.get(note.segment).copied().flatten() {
            Some(n) => {
                if n != note.segment {
                    moved.push(format!("'{}' from segment {} to {}", note.name, note.segment + 1, n + 1));
                }
                carried.push(SegmentNote { segment: n, ..note });
            }
            None => lost.push(format!("'{}'", note.name)),
        }
    }
    *notes = carried;
    let new_segments: Vec<String> =
        (0..k_new).filter(|n| !matched.contains(&Some(*n))).map(|n| format!("{}", n + 1)).collect();
    let mut parts = Vec::new();
    if !moved.is_empty() {
        parts.push(format!("Names followed their customers: {}.", moved.join(", ")));
    }
    if !lost.is_empty() {
        parts.push(format!(
            "No segment is like the one named {} any more; the name was dropped (Undo brings it back).",
            lost.join(", ")
        ));
    }
    if !new_segments.is_empty() && (!moved.is_empty() || !lost.is_empty()) {
        parts.push(format!("New: segment {}.", new_segments.join(", ")));
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

impl KeptSegmentation {
    /// Its number and what made it: "#2 Gaussian mixture, k = 5".
    pub fn label(&self) -> String {
        format!("#{} {}", self.id, self.title)
    }
}

/// Which customers a result segments, as a key.
pub fn customers_key(result: &crate::engine::pipeline::PipelineResult) -> String {
    format!("{:?} {:?} {}", result.source_fingerprints, result.as_of, result.customers.height())
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

/// A short message in the corner.
pub struct Toast {
    /// The text.
    pub text: String,
    /// Whether it reports an error.
    pub is_error: bool,
    /// When it appeared (egui time, seconds).
    pub shown_at: Option<f64>,
}

/// The application.
pub struct StrataApp {
    /// Remembered between runs.
    pub prefs: Prefs,
    /// The open project, if any.
    pub doc: Option<Document>,
    /// The screen shown.
    pub screen: Screen,
    /// The latest finished run.
    pub output: Option<Arc<RunOutput>>,
    /// The latest source preview.
    pub preview: Option<Arc<SourcePreview>>,
    /// Sweeps kept for comparison.
    pub runs: Vec<KeptRun>,
    /// The latest segments over time (Over time screen).
    pub over_time: Option<Arc<OverTimeOutput>>,
    /// Why the latest segments over time could not be computed.
    pub over_time_error: Option<String>,
    /// Every segmentation made this session, for the Compare screen.
    pub segmentations: Vec<KeptSegmentation>,
    /// The running job's stage and fraction done.
    pub progress: Option<(String, f64)>,
    /// The last error, for the status bar.
    pub last_error: Option<String>,
    /// Messages in the corner.
    pub toasts: Vec<Toast>,
    commands: Vec<Command>,
    runner: JobRunner<RunOutput>,
    preview_runner: JobRunner<SourcePreview>,
    over_time_runner: JobRunner<OverTimeOutput>,
    cache: Arc<StageCache>,
    dialogs: Box<dyn FileDialogs>,
    dialog_sender: Sender<DialogAnswer>,
    dialog_receiver: Receiver<DialogAnswer>,
    wake: Arc<dyn Fn() + Send + Sync>,
    pending: Option<Pending>,
    after_save: Option<Pending>,
    allow_close: bool,
    use_storage: bool,
    job_probe: Option<JobProbe>,
    next_run_id: u64,
    applied_prefs: Option<(ThemeChoice, f32)>,
    shown_title: String,
    /// The reason of the rules edit being applied, for the audit log.
    audit_why: String,
    /// How far the segments over time are.
    over_time_fraction: f64,
    /// Draw state of the screens (selections, scroll positions) that is not part of the project.
    pub view: screens::ViewState,
}

impl RunOutput {
    /// Whether this output is the analysis `doc` describes now: its spec (paths resolved against its
    /// folder), its business rules and low-priority marks.
    pub fn is_for(&self, doc: &Document) -> bool {
        analysis_key(&self.spec, &self.base_dir) == analysis_key(&doc.project.spec, &doc.base_dir)
            && self.rules == doc.rules_key()
    }
}

impl StrataApp {
    /// The app as eframe creates it; `storage` holds remembered preferences.
    pub fn new(cc: &eframe::CreationContext<'_>, options: AppOptions) -> Self {
        let prefs = if options.use_storage {
            cc.storage.and_then(|s| eframe::get_value::<Prefs>(s, eframe::APP_KEY)).unwrap_or_default()
        } else {
            Prefs::default()
        };
        Self::with_context(&cc.egui_ctx, options, prefs)
    }

    /// The app on a given egui context (benchmarks draw frames without a window).
    pub fn with_context(ctx: &egui::Context, options: AppOptions, prefs: Prefs) -> Self {
        let repaint = ctx.clone();
        let wake: Arc<dyn Fn() + Send + Sync> = Arc::new(move || repaint.request_repaint());
        let (wake_run, wake_preview, wake_windows) = (wake.clone(), wake.clone(), wake.clone());
        let (dialog_sender, dialog_receiver) = std::sync::mpsc::channel();
        let mut app = Self {
            prefs,
            doc: None,
            screen: Screen::Segments,
            output: None,
            preview: None,
            runs: Vec::new(),
            segmentations: Vec::new(),
            progress: None,
            last_error: None,
            toasts: Vec::new(),
            commands: Vec::new(),
            runner: JobRunner::new(options.run_mode).with_waker(move || wake_run()),
            preview_runner: JobRunner::new(options.run_mode).with_waker(move || wake_preview()),
            over_time_runner: JobRunner::new(options.run_mode).with_waker(move || wake_windows()),
            over_time: None,
            over_time_error: None,
            cache: Arc::new(StageCache::default()),
            dialogs: options.dialogs,
            dialog_sender,
            dialog_receiver,
            wake,
            pending: None,
            after_save: None,
            allow_close: false,
            use_storage: options.use_storage,
            job_probe: options.job_probe,
            next_run_id: 0,
            applied_prefs: None,
            shown_title: String::new(),
            audit_why: String::new(),
            over_time_fraction: 0.0,
            view: screens::ViewState::default(),
        };
        match options.start {
            StartProject::Demo => app.open_demo(),
            StartProject::File(path) => app.open_project(&path),
            StartProject::Empty => app.screen = Screen::Data,
        }
        app
    }

    /// Queues a command for the next [`Self::logic`].
    pub fn push(&mut self, command: Command) {
        self.commands.push(command);
    }

    /// Applies queued commands and drains job and dialog events (no drawing).
    pub fn apply_pending(&mut self, ctx: &egui::Context) {
        while let Ok((purpose, path)) = self.dialog_receiver.try_recv() {
            if let Some(path) = path {
                let command = match purpose {
                    DialogPurpose::OpenProject => Command::OpenProject(path),
                    DialogPurpose::SaveProjectAs => Command::SaveAs(path),
                    DialogPurpose::OpenData => Command::OpenData(path),
                    DialogPurpose::LocateSource => Command::LocateSource(path),
                    DialogPurpose::ExportBorderline => Command::ExportBorderline(path),
                };
                self.commands.push(command);
            } else if purpose == DialogPurpose::SaveProjectAs {
                self.after_save = None;
            }
        }
        // Commands may queue more commands (a dialog answered inline); bounded so a loop cannot hang.
        for _ in 0..16 {
            if self.commands.is_empty() {
                break;
            }
            for command in std::mem::take(&mut self.commands) {
                self.apply(ctx, command);
            }
            self.drain_jobs();
        }
        self.drain_jobs();
        let now = ctx.input(|i| i.time);
        for toast in &mut self.toasts {
            toast.shown_at.get_or_insert(now);
        }
        self.toasts.retain(|t| now - t.shown_at.unwrap_or(now) < if t.is_error { 10.0 } else { 5.0 });
        if !self.toasts.is_empty() {
            ctx.request_repaint_after(std::time::Duration::from_millis(500));
        }
        let title = match &self.doc {
            Some(doc) => format!("{}{} - Strata", doc.title(), if doc.is_dirty() { " *" } else { "" }),
            None => "Strata".to_string(),
        };
        if title != self.shown_title {
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.shown_title = title;
        }
    }

    /// The name of the running job, if any.
    pub fn runner_name(&self) -> Option<&str> {
        self.runner.running().map(|(_, name)| name)
    }

    /// The title the window shows (with `*` when there are unsaved changes).
    pub fn window_title(&self) -> &str {
        &self.shown_title
    }

    fn apply_prefs(&mut self, ctx: &egui::Context) {
        let wanted = (self.prefs.theme, self.prefs.ui_scale);
        if self.applied_prefs != Some(wanted) {
            ctx.set_theme(match self.prefs.theme {
                ThemeChoice::Light => egui::ThemePreference::Light,
                ThemeChoice::Dark => egui::ThemePreference::Dark,
                ThemeChoice::System => egui::ThemePreference::System,
            });
            ctx.set_zoom_factor(self.prefs.ui_scale.clamp(0.5, 3.0));
            self.applied_prefs = Some(wanted);
        }
    }

    /// Shows an error in the status bar and as a toast.
    pub fn report_error(&mut self, message: impl Into<String>) {
        let message = message.into();
        self.last_error = Some(message.clone());
        self.toasts.push(Toast { text: message, is_error: true, shown_at: None });
    }

    fn info(&mut self, message: impl Into<String>) {
        self.toasts.push(Toast { text: message.into(), is_error: false, shown_at: None });
    }

    fn ask(&mut self, purpose: DialogPurpose) {
        let start_dir = self
            .doc
            .as_ref()
            .and_then(|d| d.path.as_ref().map(|_| d.base_dir.clone()))
            .or_else(|| self.prefs.recent_projects.first().and_then(|p| p.parent().map(Path::to_path_buf)));
        let file_name = match purpose {
            DialogPurpose::ExportBorderline => Some("borderline-customers.csv".to_string()),
            _ => self.doc.as_ref().map(|d| {
                let title = d.title();
                if title.ends_with(".strata") {
                    title
                } else {
                    format!("{}.strata", title.replace(' ', "-").to_lowercase())
                }
            }),
        };
        let reply = DialogReply::new(purpose, self.dialog_sender.clone(), self.wake.clone());
        self.dialogs.ask(purpose, start_dir, file_name, reply);
    }

    /// Runs `pending` now, or asks first when the project has unsaved changes.
    fn guard(&mut self, pending: Pending) {
        if self.doc.as_ref().is_some_and(Document::is_dirty) {
            self.pending = Some(pending);
        } else {
            self.proceed(pending);
        }
    }

    fn proceed(&mut self, pending: Pending) {
        match pending {
            Pending::New => self.close_document(),
            Pending::OpenDialog => self.ask(DialogPurpose::OpenProject),
            Pending::Open(path) => self.open_project(&path),
            Pending::OpenDemo => self.open_demo(),
            Pending::OpenData(path) => self.open_data(&path),
            Pending::Quit => {
                self.allow_close = true;
                self.commands.push(Command::Quit);
            }
        }
    }

    /// Whether the unsaved-changes question is showing.
    pub fn is_prompting(&self) -> bool {
        self.pending.is_some()
    }

    fn apply(&mut self, ctx: &egui::Context, command: Command) {
        match command {
            Command::NewProject => self.guard(Pending::New),
            Command::OpenProjectDialog => self.guard(Pending::OpenDialog),
            Command::OpenProject(path) => self.guard(Pending::Open(path)),
            Command::OpenDemo => self.guard(Pending::OpenDemo),
            Command::OpenDataDialog => self.ask(DialogPurpose::OpenData),
            Command::OpenData(path) => self.guard(Pending::OpenData(path)),
            Command::Save => match self.doc.as_ref().and_then(|d| (!d.read_only).then_some(d.path.clone()).flatten()) {
                Some(path) => self.save_to(&path),
                None if self.doc.is_some() => self.ask(DialogPurpose::SaveProjectAs),
                None => {}
            },
            Command::SaveAsDialog => {
                if self.doc.is_some() {
                    self.ask(DialogPurpose::SaveProjectAs);
                }
            }
            Command::SaveAs(path) => self.save_to(&path),
            Command::LocateSourceDialog => self.ask(DialogPurpose::LocateSource),
            Command::LocateSource(path) => self.locate_source(&path),
            Command::ExportBorderlineDialog => self.ask(DialogPurpose::ExportBorderline),
            Command::ExportBorderline(path) => self.export_borderline(&path),
            Command::EditSpec { spec, what } => self.edit(&what, |state| state.spec = *spec),
            Command::RenameSegment { segment, name } => {
                // Rules and overrides that put customers in it by name follow the new name.
                self.edit(&format!("rename segment {}", segment + 1), |state| {
                    let old = note_mut(state, segment).name.clone();
                    state.rules.rename_segment(&old, &name);
                    note_mut(state, segment).name = name;
                })
            }
            Command::EditRules { rules, what, why } => {
                self.audit_why = why;
                self.edit(&what, |state| state.rules = rules);
                self.audit_why.clear();
            }
            Command::SetLowPriority { segment, low_priority } => {
                let name = self.doc.as_ref().map(|d| {
                    d.project.segments.iter().find(|n| n.segment == segment).map_or_else(
                        || format!("segment {}", segment + 1),
                        |n| format!("segment {} '{}'", segment + 1, n.name),
                    )
                });
                let what = format!(
                    "{} {}",
                    if low_priority { "mark low priority:" } else { "unmark low priority:" },
                    name.unwrap_or_default()
                );
                self.edit(&what, |state| note_mut(state, segment).low_priority = low_priority);
            }
            Command::SetAuditName(name) => self.prefs.audit_name = name,
            Command::SetWindows(params) => self.edit("windows over time", |state| state.over_time = Some(params)),
            Command::FollowCustomers => self.start_over_time(),
            Command::EditSegmentNotes { segment, notes } => {
                self.edit(&format!("notes of segment {}", segment + 1), |state| note_mut(state, segment).notes = notes)
            }
            Command::Undo => self.undo_redo(true),
            Command::Redo => self.undo_redo(false),
            Command::Run => self.start_run(),
            Command::CancelRun => {
                self.runner.cancel();
                self.progress = None;
                self.info("Run cancelled");
            }
            Command::SelectK(k) => {
                if let Some(doc) = &self.doc {
                    let mut spec = doc.project.spec.clone();
                    if spec.model.algorithm.k().is_some_and(|current| current != k) {
                        spec.model.algorithm.set_k(k);
                        self.apply(ctx, Command::EditSpec { spec: Box::new(spec), what: format!("choose k = {k}") });
                        if !self.prefs.auto_run {
                            self.start_run();
                        }
                    }
                }
            }
            Command::Show(screen) => self.screen = screen,
            Command::SetTheme(theme) => self.prefs.theme = theme,
            Command::SetUiScale(scale) => self.prefs.ui_scale = scale.clamp(0.5, 3.0),
            Command::SetAutoRun(on) => self.prefs.auto_run = on,
            Command::ToggleRunOverlay(id) => {
                if let Some(run) = self.runs.iter_mut().find(|r| r.id == id) {
                    run.visible = !run.visible;
                }
            }
            Command::Quit => {
                if self.allow_close || !self.doc.as_ref().is_some_and(Document::is_dirty) {
                    self.allow_close = true;
                    ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                } else {
                    self.pending = Some(Pending::Quit);
                }
            }
            Command::ResolvePrompt(choice) => {
                let Some(pending) = self.pending.take() else { return };
                match choice {
                    PromptChoice::Cancel => {}
                    PromptChoice::Discard => self.proceed(pending),
                    PromptChoice::Save => {
                        self.after_save = Some(pending);
                        self.apply(ctx, Command::Save);
                    }
                }
            }
        }
    }

    /// Applies an undoable edit, then runs when the spec changed and runs are automatic.
    fn edit(&mut self, what: &str, change: impl FnOnce(&mut DocState)) {
        let Some(doc) = &mut self.doc else { return };
        let mut state = doc.state();
        change(&mut state);
        if state == doc.state() {
            return;
        }
        // Edits merged into one undo step (typing a name) are one line of the audit log, counted
        // from the state before the first of them.
        let merged = doc.merge_key.as_deref() == Some(what);
        let before = match doc.undo.last() {
            Some((state, _)) if merged => state.clone(),
            _ => doc.state(),
        };
        let spec_changed = state.spec != doc.project.spec;
        let rules_changed = rules_key(&state.rules, &state.segments) != doc.rules_key();
        doc.record(what);
        doc.restore(state);
        doc.merge_key = Some(what.to_string());
        if rules_changed || (merged && doc.project.audit.last().is_some_and(|e| e.what == what)) {
            let why = self.audit_why.clone();
            self.audit(&before, what, &why, merged);
        }
        if (spec_changed || rules_changed) && self.prefs.auto_run {
            self.start_run();
        }
        if spec_changed {
            self.maybe_refresh_preview();
        }
    }

    fn undo_redo(&mut self, is_undo: bool) {
        let Some(doc) = &mut self.doc else { return };
        let current = doc.state();
        let (from, to) = if is_undo { (&mut doc.undo, &mut doc.redo) } else { (&mut doc.redo, &mut doc.undo) };
        let Some((state, what)) = from.pop() else { return };
        to.push((current.clone(), what.clone()));
        let spec_changed = state.spec != doc.project.spec;
        let rules_changed = rules_key(&state.rules, &state.segments) != doc.rules_key();
        doc.restore(state);
        // The restored notes are numbered by the run before that edit, not by the latest one.
        doc.notes_numbered_by = None;
        if rules_changed {
            self.audit(&current, &format!("{} {what}", if is_undo { "undo" } else { "redo" }), "", false);
        }
        if (spec_changed || rules_changed) && self.prefs.auto_run {
            self.start_run();
        }
        if spec_changed {
            self.maybe_refresh_preview();
        }
    }

    /// Writes a change of the rules, overrides or low-priority marks to the audit log, with the
    /// customers it moves (counted on the latest run when it is this project's; the state after the
    /// change is the document's now).
    fn audit(&mut self, before: &DocState, what: &str, why: &str, replaces_last: bool) {
        let output = self.output.clone();
        let who = self.audit_name();
        let Some(doc) = &mut self.doc else { return };
        let customers = output.as_deref().filter(|o| o.spec == doc.project.spec).map(|o| {
            let result = &o.result;
            let id_column = pipeline::override_id_column(&doc.project.spec, result);
            let keys = |rules: &BusinessRules, notes: &[SegmentNote]| -> Vec<Option<String>> {
                let outcome = pipeline::business_rules_outcome(result, rules, notes, id_column);
                let segments = outcome.as_ref().map_or(result.model_segments(), |o| &o.segments);
                let base = result.n_model_segments();
                // Segments the rules make are renumbered as rules change: compare them by name.
                segments
                    .iter()
                    .map(|s| {
                        s.map(|s| {
                            match outcome
                                .as_ref()
                                .and_then(|o| s.checked_sub(base).and_then(|i| o.rule_segments.get(i)))
                            {
                                Some(name) => format!("rule segment {}", name.to_lowercase()),
                                None => s.to_string(),
                            }
                        })
                    })
                    .collect()
            };
            crate::engine::rules::customers_moved(
                &keys(&before.rules, &before.segments),
                &keys(&doc.project.rules, &doc.project.segments),
            )
        });
        if replaces_last && doc.project.audit.last().is_some_and(|e| e.what == what) {
            doc.project.audit.pop();
        }
        doc.project.audit.push(crate::engine::rules::AuditEntry {
            when: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            who,
            what: what.to_string(),
            why: why.to_string(),
            customers,
        });
    }

    /// The name changes are logged under: the one set in the window, else the login name.
    pub fn audit_name(&self) -> String {
        let set = self.prefs.audit_name.trim();
        if !set.is_empty() {
            return set.to_string();
        }
        std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_else(|_| "unknown".to_string())
    }

    fn open_demo(&mut self) {
        match project::parse(crate::engine::DEMO_PROJECT) {
            Ok(opened) => {
                let base_dir = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
                self.set_document(Document::new(opened.project, None, base_dir, true));
            }
            Err(e) => self.report_error(format!("The built-in demo project could not be read (a bug): {e}")),
        }
    }

    fn open_project(&mut self, path: &Path) {
        match project::open(path) {
            Ok(opened) => {
                let base_dir = path
                    .parent()
                    .map(Path::to_path_buf)
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or_else(|| PathBuf::from("."));
                let mut doc = Document::new(opened.project, Some(path.to_path_buf()), base_dir, false);
                doc.banner = opened.banner;
                doc.read_only = opened.read_only;
                self.prefs.remember_project(path);
                self.set_document(doc);
            }
            Err(e) => self.report_error(e.to_string()),
        }
    }

    fn close_document(&mut self) {
        self.runner.cancel();
        self.preview_runner.cancel();
        self.over_time_runner.cancel();
        self.over_time = None;
        self.over_time_error = None;
        self.doc = None;
        self.output = None;
        self.runs.clear();
        self.view = screens::ViewState::default();
        self.preview = None;
        self.progress = None;
        self.screen = Screen::Data;
    }

    fn set_document(&mut self, mut doc: Document) {
        self.close_document();
        let kept = std::mem::take(&mut doc.project.kept);
        self.restore_kept(&kept);
        doc.missing_source = missing_source(&doc);
        let has_results = doc.project.results.is_some();
        let missing = doc.missing_source.is_some();
        self.doc = Some(doc);
        self.screen = if has_results && !missing { Screen::Segments } else { Screen::Data };
        self.maybe_refresh_preview();
        if !missing {
            self.start_run();
        }
    }

    fn open_data(&mut self, path: &Path) {
        let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
        let spec = PipelineSpec {
            source: SourceSpec {
                source: DataSource::File(path.display().to_string()),
                read_options: Default::default(),
                fingerprint: None,
            },
            table: TableKind::CustomerTable { id_column: None, no_id: false },
            attributes: None,
            duplicate_ids: Default::default(),
            role_overrides: Vec::new(),
            recipe: FeatureRecipe { features: Vec::new() },
            model: ModelSpec {
                algorithm: Algorithm::KMeans(Default::default()),
                k_range: Some((2, 10)),
                min_segment_share: None,
                stability: None,
                explain_depth: None,
            },
        };
        let mut doc = Document::new(Project::new(spec), None, base_dir, false);
        doc.allow_outside = true;
        doc.needs_setup = true;
        self.prefs.remember_data(path);
        self.close_document();
        self.doc = Some(doc);
        self.screen = Screen::Data;
        self.maybe_refresh_preview();
    }

    fn locate_source(&mut self, path: &Path) {
        let Some(doc) = &mut self.doc else { return };
        doc.allow_outside = true;
        let mut spec = doc.project.spec.clone();
        spec.source.source = DataSource::File(relative_to(path, &doc.base_dir));
        self.edit("locate the data file", |state| state.spec = spec);
        if let Some(doc) = &mut self.doc {
            doc.missing_source = missing_source(doc);
        }
        if !self.prefs.auto_run {
            self.start_run();
        }
        self.maybe_refresh_preview();
    }

    fn save_to(&mut self, path: &Path) {
        let output = self.output.clone();
        let kept = self.kept_records(output.as_deref().map(|o| &o.result));
        let Some(doc) = &mut self.doc else { return };
        let mut project = doc.project.clone();
        // Results and fingerprints are stored only when they belong to the spec being saved.
        match output.as_deref() {
            Some(out) if out.is_for(doc) => {
                project.spec.source.fingerprint = out.result.source_fingerprints.first().cloned();
                if let Some(attributes) = &mut project.spec.attributes {
                    attributes.fingerprint = out.result.source_fingerprints.get(1).cloned();
                }
                project.results = Some(StoredResults::from_result(&out.result));
            }
            _ => project.results = None,
        }
        project.kept = kept;
        // Data paths are stored relative to the new file's folder where they can be.
        let new_base = path
            .parent()
            .map(Path::to_path_buf)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."));
        if let DataSource::File(stored) = &project.spec.source.source {
            let absolute = doc.base_dir.join(stored);
            project.spec.source.source = DataSource::File(relative_to(&absolute, &new_base));
        }
        match project.save(path) {
            Ok(()) => {
                doc.project = project;
                doc.path = Some(path.to_path_buf());
                doc.base_dir = new_base;
                doc.is_demo = false;
                doc.read_only = false;
                doc.saved = Some(doc.state());
                doc.audit_saved = doc.project.audit.len();
                doc.merge_key = None;
                self.prefs.remember_project(path);
                self.info(format!("Saved to {}", path.display()));
                if let Some(next) = self.after_save.take() {
                    self.proceed(next);
                }
            }
            Err(e) => {
                self.after_save = None;
                self.report_error(e.to_string());
            }
        }
    }

    fn start_run(&mut self) {
        let Some(doc) = &self.doc else { return };
        if doc.needs_setup {
            return;
        }
        if doc.project.spec.recipe.features.is_empty() {
            self.report_error("Pick at least one feature on the Features screen, then run.");
            return;
        }
        let spec = doc.project.spec.clone();
        let (rules, notes) = (doc.project.rules.clone(), doc.project.segments.clone());
        let key = doc.rules_key();
        let resolver = doc.resolver();
        let base_dir = doc.base_dir.clone();
        let cache = self.cache.clone();
        self.last_error = None;
        self.progress = Some(("starting".to_string(), 0.0));
        let probe = self.job_probe.clone();
        self.runner.start("run", move |ctx| -> Result<RunOutput, PipelineError> {
            if let Some(probe) = &probe {
                probe("run");
            }
            let mut result = pipeline::run_cached(&spec, &resolver, ctx, &cache)?;
            let id_column = pipeline::override_id_column(&spec, &result).map(str::to_string);
            pipeline::apply_business_rules(&mut result, &rules, &notes, id_column.as_deref());
            ctx.progress.report("summary", 0.0);
            let explain = crate::engine::profile::explain::ExplainParams {
                max_depth: spec.model.explain_depth.unwrap_or(3),
                ..Default::default()
            };
            let summary = ResultSummary::compute_with(&result, spec.model.algorithm.seed(), &explain)?;
            Ok(RunOutput { spec, base_dir, result, rules: key, summary })
        });
    }

    /// Reads the main source again when it changed (or nothing was read yet).
    fn maybe_refresh_preview(&mut self) {
        let Some(doc) = &self.doc else { return };
        let source = doc.project.spec.source.clone();
        if self
            .preview
            .as_ref()
            .is_some_and(|p| p.source.source == source.source && p.source.read_options == source.read_options)
            || doc.missing_source.is_some()
        {
            return;
        }
        let resolver = doc.resolver();
        self.preview_runner.start("preview", move |_ctx| -> Result<SourcePreview, PipelineError> {
            let table = pipeline::read_source(&source, &resolver, None)?;
            let roles = guess_roles(&table.frame);
            let quality = quality_report(&table.frame, None, None)?;
            let histograms = table
                .frame
                .columns()
                .iter()
                .map(|c| {
                    if c.dtype().is_primitive_numeric() {
                        numeric_values(c).ok().and_then(|v| {
                            let values: Vec<f64> = v.into_iter().flatten().collect();
                            Histogram::of(&values, 24)
                        })
                    } else {
                        None
                    }
                })
                .collect();
            Ok(SourcePreview { source, frame: table.frame, roles, quality, histograms, warnings: table.warnings })
        });
    }

    /// Segments every window of the log over time, off the UI thread.
    fn start_over_time(&mut self) {
        let Some(doc) = &self.doc else { return };
        let spec = doc.project.spec.clone();
        let params = doc.project.over_time.clone().unwrap_or_default();
        let resolver = doc.resolver();
        let base_dir = doc.base_dir.clone();
        self.over_time_error = None;
        self.over_time_runner.start("over time", move |ctx| -> Result<OverTimeOutput, PipelineError> {
            let result = crate::engine::over_time::segments_over_time(&spec, &resolver, &params, ctx)?;
            Ok(OverTimeOutput { spec, base_dir, params, result })
        });
    }

    /// Whether segments over time are being computed, and how far.
    pub fn over_time_progress(&self) -> Option<f64> {
        self.over_time_runner.running().map(|_| self.over_time_fraction)
    }

    fn drain_jobs(&mut self) {
        for event in self.over_time_runner.poll() {
            match event {
                JobEvent::Progress { fraction_done, .. } => self.over_time_fraction = fraction_done,
                JobEvent::Finished { result, .. } => {
                    self.over_time_fraction = 0.0;
                    self.over_time = Some(result);
                }
                JobEvent::Failed { error, .. } => {
                    self.over_time_fraction = 0.0;
                    self.over_time_error = Some(error);
                }
                JobEvent::Cancelled { .. } => self.over_time_fraction = 0.0,
            }
        }
        for event in self.preview_runner.poll() {
            match event {
                JobEvent::Finished { result, .. } => {
                    let setup = self.doc.as_ref().is_some_and(|d| d.needs_setup);
                    if setup {
                        self.set_up_from_preview(&result);
                    }
                    self.preview = Some(result);
                }
                JobEvent::Failed { error, .. } => {
                    if let Some(doc) = &mut self.doc {
                        doc.needs_setup = false;
                    }
                    self.report_error(error);
                }
                JobEvent::Progress { .. } | JobEvent::Cancelled { .. } => {}
            }
        }
        for event in self.runner.poll() {
            match event {
                JobEvent::Progress { stage, fraction_done, .. } => {
                    let overall = overall_progress(&stage, fraction_done);
                    self.progress = Some((stage, overall));
                }
                JobEvent::Finished { result, .. } => {
                    self.progress = None;
                    self.finish_run(result);
                }
                JobEvent::Failed { error, .. } => {
                    self.progress = None;
                    self.report_error(error);
                }
                JobEvent::Cancelled { .. } => self.progress = None,
            }
        }
    }

    fn finish_run(&mut self, output: Arc<RunOutput>) {
        if let Some(doc) = &mut self.doc {
            let result = &output.result;
            // Fill in names for segments that have none yet (the fallback segment is named so), and
            // replace names the user never changed (the previous result's defaults) by this result's:
            // rules name their segments, and a renumbered segment should not keep another's name.
            let k = result.fit.k();
            let mut previous = self.output.as_ref().map(|o| &o.result);
            let mut renamed = false;
            let mut carried = false;
            // Names the run sets by itself leave a saved project saved (but not a project with
            // renames of the user's own that are not saved yet).
            let names_were_saved = doc.saved.as_ref().is_some_and(|s| s.segments == doc.project.segments);
            // Another method: its segments are not the previous method's; put those names aside
            // and bring back this method's from earlier in the session, if any.
            if let Some(p) = previous
                && p.fit.method != result.fit.method
            {
                let restored = doc.names_by_method.remove(result.fit.method).unwrap_or_default();
                let put_aside = std::mem::replace(&mut doc.project.segments, restored);
                doc.names_by_method.insert(p.fit.method, put_aside);
                previous = None;
                renamed = true;
            }
            // The same method re-fitted (another k, recipe, seed or data order): names and notes
            // follow their customers to the segments they are in now.
            if let Some(p) = previous
                && p.assignment_fingerprint != result.assignment_fingerprint
                && doc.notes_numbered_by.as_deref() == Some(p.assignment_fingerprint.as_str())
                && let Some(message) = carry_names(&mut doc.project.segments, p, result, output.spec.id_column())
            {
                // The user's own names moved: that is a change to save (unlike names the run fills in).
                carried = true;
                self.toasts.push(Toast { text: message, is_error: false, shown_at: None });
            }
            for segment in 0..result.n_segments() {
                let name = if segment == k && result.n_model_segments() > k {
                    "Fallback (missing data)".to_string()
                } else {
                    result.default_segment_name(segment)
                };
                match doc.project.segments.iter_mut().find(|n| n.segment == segment) {
                    None => {
                        doc.project.segments.push(SegmentNote { segment, name, ..Default::default() });
                        renamed = true;
                    }
                    Some(note) => {
                        let untouched = note.notes.is_empty()
                            && (note.name == format!("Segment {}", segment + 1)
                                || note.name == "Fallback (missing data)"
                                || previous.is_some_and(|p| p.default_segment_name(segment) == note.name));
                        if untouched && note.name != name {
                            note.name = name;
                            renamed = true;
                        }
                    }
                }
            }
            doc.project.segments.sort_by_key(|n| n.segment);
            doc.notes_numbered_by = Some(result.assignment_fingerprint.clone());
            if renamed
                && !carried
                && names_were_saved
                && let Some(saved) = &mut doc.saved
            {
                saved.segments = doc.project.segments.clone();
            }
            let stored = std::iter::once(&doc.project.spec.source).chain(doc.project.spec.attributes.as_ref());
            doc.fingerprint_warning = stored.zip(&result.source_fingerprints).find_map(|(spec, actual)| {
                let expected = spec.fingerprint.as_ref()?;
                (expected != actual).then(|| {
                    format!(
                        "The data differs from the data this project was made with (fingerprint {} stored, {} now): \
                         the results shown are from the data as it is now.",
                        expected.chars().take(12).collect::<String>(),
                        actual.chars().take(12).collect::<String>()
                    )
                })
            });
            if !doc.first_run_checked {
                doc.first_run_checked = true;
                doc.reproduced =
                    output.is_for(doc).then(|| project::verify::verify_run(&doc.project, result)).flatten();
            }
        }
        // A project that used the Over time screen shows it again without being asked.
        if let Some(doc) = &self.doc
            && doc.project.over_time.is_some()
            && self.over_time_runner.running().is_none()
            && !self.over_time.as_ref().is_some_and(|o| o.is_for(doc))
            && matches!(doc.project.spec.table, TableKind::TransactionLog(_))
        {
            self.start_over_time();
        }
        if output.result.sweep.is_some() {
            self.keep_run(output.clone());
        }
        self.keep_segmentation(&output);
        self.output = Some(output);
    }

    /// A segment's name: the one the user gave it, else the one `result` gives it.
    pub fn segment_name_in(&self, result: &crate::engine::pipeline::PipelineResult, segment: usize) -> String {
        self.doc
            .as_ref()
            .and_then(|d| d.project.segments.iter().find(|n| n.segment == segment))
            .map_or_else(|| result.default_segment_name(segment), |n| n.name.clone())
    }

    fn keep_segmentation(&mut self, output: &RunOutput) {
        let result = &output.result;
        if self.segmentations.iter().any(|s| s.fingerprint == result.assignment_fingerprint) {
            return;
        }
        let id = self.segmentations.last().map_or(1, |s| s.id + 1);
        let algorithm = &output.spec.model.algorithm;
        let title = match algorithm.k() {
            Some(k) => format!("{}, k = {k}", algorithm.label()),
            None => format!("{}, {} segments", algorithm.label(), result.fit.k()),
        };
        let names = (0..result.n_segments()).map(|s| self.segment_name_in(result, s)).collect();
        self.segmentations.push(KeptSegmentation {
            id,
            title,
            description: describe_spec(&output.spec),
            customers_key: customers_key(result),
            segments: Arc::new(result.segment_per_customer.clone()),
            names,
            fingerprint: result.assignment_fingerprint.clone(),
        });
    }

    /// The kept segmentations of the customers `result` segments, as the project stores them.
    fn kept_records(&self, result: Option<&crate::engine::pipeline::PipelineResult>) -> Vec<project::KeptSegmentation> {
        let key = result.map(customers_key);
        self.segmentations
            .iter()
            .filter(|s| key.as_ref().is_none_or(|k| *k == s.customers_key))
            .map(|s| project::KeptSegmentation {
                label: s.title.clone(),
                description: s.description.clone(),
                customers_key: s.customers_key.clone(),
                n_customers: s.segments.len(),
                names: s.names.clone(),
                fingerprint: s.fingerprint.clone(),
                segments: project::encode_segments(&s.segments),
            })
            .collect()
    }

    /// Brings back the segmentations a project kept (those not kept already); a damaged one is
    /// skipped with a message.
    fn restore_kept(&mut self, records: &[project::KeptSegmentation]) {
        for record in records {
            if self.segmentations.iter().any(|s| s.fingerprint == record.fingerprint) {
                continue;
            }
            match project::decode_segments(&record.segments, record.n_customers, record.names.len()) {
                Ok(segments) => {
                    let id = self.segmentations.last().map_or(1, |s| s.id + 1);
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

    /// Writes the latest result's borderline customers to `path` (.csv or .parquet).
    fn export_borderline(&mut self, path: &Path) {
        let Some(out) = self.output.clone() else { return };
        let Some(overlap) = &out.summary.overlap else {
            self.report_error("There is no overlap to export: the segmentation has one segment.".to_string());
            return;
        };
        let name = |s: usize| self.segment_name_in(&out.result, s);
        let written =
            crate::engine::profile::overlap::borderline_frame(&out.result, overlap, out.spec.id_column(), &name)
                .and_then(|mut frame| {
                    crate::engine::data::write_table(&mut frame, path)?;
                    Ok(frame.height())
                });
        match written {
            Ok(n) => {
                self.info(format!("{} borderline customers written to {}", widgets::format_count(n), path.display()))
            }
            Err(e) => self.report_error(format!("Could not export the borderline customers: {e}")),
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
        }
    }

    fn keep_run(&mut self, output: Arc<RunOutput>) {
        let sweep_key = |spec: &PipelineSpec| {
            let mut s = spec.clone();
            s.model.algorithm.set_k(0);
            // The business floor only marks the view; the sweep is the same.
            s.model.min_segment_share = None;
            s
        };
        let key = sweep_key(&output.spec);
        if let Some(existing) = self.runs.iter_mut().find(|r| sweep_key(&r.output.spec) == key) {
            existing.output = output;
            return;
        }
        self.next_run_id += 1;
        let label = format!("Run {}: {}", self.next_run_id, describe_spec(&output.spec));
        self.runs.push(KeptRun { id: self.next_run_id, label, output, visible: true });
        while self.runs.len() > 12 {
            self.runs.remove(0);
        }
    }

    fn set_up_from_preview(&mut self, preview: &SourcePreview) {
        let Some(doc) = &mut self.doc else { return };
        doc.needs_setup = false;
        let spec = &mut doc.project.spec;
        let role_of = |role: ColumnRole| preview.roles.iter().find(|r| r.role == role).map(|r| r.column.clone());
        let id = role_of(ColumnRole::CustomerId);
        let date = role_of(ColumnRole::Date);
        let amount = role_of(ColumnRole::Amount);
        let repeats = id
            .as_ref()
            .and_then(|id| preview.quality.columns.iter().find(|c| &c.column == id))
            .is_some_and(|c| c.n_distinct < preview.quality.n_rows);
        match (id, date, amount) {
            (Some(id), Some(date), Some(amount)) if repeats => {
                spec.table = TableKind::TransactionLog(TransactionColumns {
                    customer_id: id,
                    date,
                    amount,
                    as_of: None,
                    negative_amounts: crate::engine::features::NegativeAmounts::Allow,
                    since: None,
                });
                spec.recipe = FeatureRecipe {
                    features: ["recency_days", "frequency", "monetary_total"]
                        .iter()
                        .map(|c| FeatureSpec { log1p: true, ..FeatureSpec::numeric(c) })
                        .collect(),
                };
            }
            (id, _, _) => {
                spec.table = TableKind::CustomerTable { id_column: id, no_id: false };
                spec.recipe = FeatureRecipe {
                    features: preview
                        .roles
                        .iter()
                        .filter(|r| matches!(r.role, ColumnRole::Numeric | ColumnRole::Amount))
                        .map(|r| FeatureSpec::numeric(&r.column))
                        .collect(),
                };
            }
        }
        let message = match &spec.table {
            TableKind::TransactionLog(t) => format!(
                "Read as a transaction log (customer {}, date {}, amount {}); segmenting on recency, frequency and monetary value.",
                t.customer_id, t.date, t.amount
            ),
            TableKind::CustomerTable { .. } => {
                format!("Read as a customer table; {} numeric columns chosen as features.", spec.recipe.features.len())
            }
        };
        self.info(message);
        if self.prefs.auto_run {
            self.start_run();
        }
    }

    /// Saves preferences (eframe calls this on exit and now and then).
    pub fn save_prefs(&self, storage: &mut dyn eframe::Storage) {
        if self.use_storage {
            eframe::set_value(storage, eframe::APP_KEY, &self.prefs);
        }
    }

    fn shortcuts(&mut self, ctx: &egui::Context) {
        use egui::{Key, KeyboardShortcut, Modifiers};
        let shift_cmd = Modifiers::COMMAND | Modifiers::SHIFT;
        let table = [
            (KeyboardShortcut::new(shift_cmd, Key::S), Command::SaveAsDialog),
            (KeyboardShortcut::new(shift_cmd, Key::Z), Command::Redo),
            (KeyboardShortcut::new(Modifiers::COMMAND, Key::Y), Command::Redo),
            (KeyboardShortcut::new(Modifiers::COMMAND, Key::N), Command::NewProject),
            (KeyboardShortcut::new(Modifiers::COMMAND, Key::O), Command::OpenProjectDialog),
            (KeyboardShortcut::new(Modifiers::COMMAND, Key::S), Command::Save),
            (KeyboardShortcut::new(Modifiers::COMMAND, Key::Z), Command::Undo),
            (KeyboardShortcut::new(Modifiers::NONE, Key::F5), Command::Run),
            (KeyboardShortcut::new(Modifiers::COMMAND, Key::Num1), Command::Show(Screen::Data)),
            (KeyboardShortcut::new(Modifiers::COMMAND, Key::Num2), Command::Show(Screen::Features)),
            (KeyboardShortcut::new(Modifiers::COMMAND, Key::Num3), Command::Show(Screen::Model)),
            (KeyboardShortcut::new(Modifiers::COMMAND, Key::Num4), Command::Show(Screen::Segments)),
            (KeyboardShortcut::new(Modifiers::COMMAND, Key::Num5), Command::Show(Screen::Compare)),
            (KeyboardShortcut::new(Modifiers::COMMAND, Key::Num6), Command::Show(Screen::Rules)),
            (KeyboardShortcut::new(Modifiers::COMMAND, Key::Num7), Command::Show(Screen::OverTime)),
        ];
        // A text field keeps its own Ctrl+Z.
        let editing_text = ctx.memory(|m| m.focused().is_some()) && ctx.egui_wants_keyboard_input();
        for (shortcut, command) in table {
            if editing_text && matches!(command, Command::Undo | Command::Redo) {
                continue;
            }
            if ctx.input_mut(|i| i.consume_shortcut(&shortcut)) {
                self.commands.push(command);
            }
        }
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw.dropped_files.iter().map(|f| f.path().to_path_buf()).filter(|p| !p.as_os_str().is_empty()).collect()
        });
        for path in dropped {
            let is_project = path.extension().is_some_and(|e| e == "strata");
            self.commands.push(if is_project { Command::OpenProject(path) } else { Command::OpenData(path) });
        }
        if ctx.input(|i| i.viewport().close_requested())
            && !self.allow_close
            && self.doc.as_ref().is_some_and(Document::is_dirty)
        {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.pending = Some(Pending::Quit);
        }
    }

    /// Draws the whole window into `ui`.
    pub fn draw(&mut self, ui: &mut egui::Ui) {
        // Inside the pass: eframe calls `logic` outside it, where theme and zoom changes do not stick.
        self.apply_prefs(ui.ctx());
        screens::window_ui(ui, self);
    }
}

impl eframe::App for StrataApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        // One drag or one spell of typing is one undo step: merging ends when the pointer is up and
        // no text field has the keyboard.
        let settled = !ctx.input(|i| i.pointer.any_down()) && ctx.memory(|m| m.focused().is_none());
        if settled && let Some(doc) = &mut self.doc {
            doc.merge_key = None;
        }
        self.shortcuts(ctx);
        self.apply_pending(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.draw(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        self.save_prefs(storage);
    }
}

/// A stage's fraction as a fraction of the whole run (the sweep is most of it).
fn overall_progress(stage: &str, fraction_done: f64) -> f64 {
    let (start, width) = match stage {
        "load" => (0.0, 0.1),
        "features" => (0.1, 0.05),
        "sweep" => (0.15, 0.7),
        "fit" => (0.85, 0.1),
        "summary" => (0.95, 0.05),
        _ => (1.0, 0.0),
    };
    (start + width * fraction_done.clamp(0.0, 1.0)).clamp(0.0, 1.0)
}

fn note_mut(state: &mut DocState, segment: usize) -> &mut SegmentNote {
    if let Some(i) = state.segments.iter().position(|n| n.segment == segment) {
        return &mut state.segments[i];
    }
    state.segments.push(SegmentNote { segment, name: format!("Segment {}", segment + 1), ..Default::default() });
    state.segments.sort_by_key(|n| n.segment);
    let i = state.segments.iter().position(|n| n.segment == segment).unwrap_or(0);
    &mut state.segments[i]
}

/// Why the project's data cannot be read where it is expected, if it cannot.
fn missing_source(doc: &Document) -> Option<String> {
    let DataSource::File(stored) = &doc.project.spec.source.source else { return None };
    match doc.resolver().resolve(stored) {
        Ok(path) if path.is_file() => None,
        Ok(path) => Some(format!(
            "This project expects its data at {} (stored as \"{stored}\"), and there is no file there. Point to it with Locate.",
            path.display()
        )),
        Err(e) => Some(format!("{e} Point to the file with Locate to read it anyway.")),
    }
}

/// `path` relative to `base` when it lies inside it, otherwise absolute.
fn relative_to(path: &Path, base: &Path) -> String {
    let absolute = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let (path_abs, base_abs) = (absolute(path), absolute(base));
    match path_abs.strip_prefix(&base_abs) {
        Ok(rel) if !rel.as_os_str().is_empty() => rel.display().to_string(),
        _ => path_abs.display().to_string(),
    }
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
    let scaling = spec.recipe.features.first().map(|f| format!("{:?}", f.scaling)).unwrap_or_default();
    let algorithm = &spec.model.algorithm;
    format!("{}, {} ({scaling}), seed {}", algorithm.label(), features.join(", "), algorithm.seed())
}

/// The spec with what does not change the analysis left out: fingerprints (filled in on save) and
/// how a data path is written (relative to whichever folder the project was in).
fn analysis_key(spec: &PipelineSpec, base_dir: &Path) -> PipelineSpec {
    let mut key = spec.clone();
    let sources = std::iter::once(&mut key.source).chain(key.attributes.as_mut());
    for source in sources {
        source.fingerprint = None;
        if let DataSource::File(stored) = &source.source {
            source.source = DataSource::File(base_dir.join(stored).display().to_string());
        }
    }
    key
}

/// Opens the window on `start`.
pub fn run_window(start: StartProject) -> Result<(), String> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Strata")
            .with_inner_size([1400.0, 900.0])
            .with_drag_and_drop(true),
        renderer: eframe::Renderer::Glow,
        ..Default::default()
    };
    eframe::run_native(
        "strata",
        options,
        Box::new(move |cc| Ok(Box::new(StrataApp::new(cc, AppOptions::window(start))))),
    )
    .map_err(|e| format!("could not open the window: {e}"))
}
