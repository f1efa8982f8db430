//! The workbench window (egui only): panels draw and push [`Command`]s, [`StrataApp::logic`] applies
//! them and drains job events, the job runner does the work, and results are immutable snapshots.
//!
//! The rooms: `command` (what a button, menu or shortcut asks for, and applying it), `document` (the
//! open project, its undo history and saved state), `session` (what the session made: runs, kept
//! segmentations, previews), `logic` (edits, runs and the jobs' events), `files` (opening, saving
//! and exporting, on jobs), `screens` (drawing).

mod board;
mod command;
pub mod dialogs;
mod document;
mod exports;
mod files;
pub mod frame_bench;
pub mod latency_bench;
mod logic;
mod monitor;
pub mod prefs;
pub mod present;
mod review;
mod run_job;
mod scoring;
mod screens;
mod session;
mod ticks;
mod widgets;
pub mod words;
pub use screens::swot::{BoardDrag, BoardTab, dropped};
pub use widgets::segment_colour;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender};

use eframe::egui;

use crate::engine::jobs::{JobRunner, RunMode};
use crate::engine::pipeline::StageCache;

use command::Pending;
pub use command::{Command, PromptChoice};
pub use dialogs::{
    ChartId, DialogAnswer, DialogPurpose, DialogReply, ExportKind, FileDialogs, NativeDialogs, ScriptedDialogs,
};
pub use document::{DocState, Document, RulesKey, rules_key};
pub use exports::{CHART_EXPORT_SIZE, PathPrompt};
use logic::UnreadableSource;
pub use prefs::{Prefs, ThemeChoice};
pub use session::{
    KeptRun, KeptSegmentation, OverTimeOutput, RunCounts, RunOutput, ScoreTables, SourcePreview, customers_key,
    describe_spec,
};

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
    /// What each customer and segment is worth: the value models, their diagnostics, value per
    /// segment and the prioritisation view.
    Value,
    /// The SWOT board: segments and other items in Strengths, Weaknesses, Opportunities and
    /// Threats, with live evidence, placement hints and the TOWS strategies.
    Board,
    /// The presentation's steps, and presentation mode.
    Presentation,
    /// What a reviewer needs: provenance, the stored segmentation, the audit log, the bias audit,
    /// comments, sign-off, disputes and opt-outs.
    Review,
    /// Published versions (publish, compare, roll back) and new periods against the current one:
    /// drift per feature, segment shares, migration, alerts, and every metric over the periods.
    Monitor,
}

impl Screen {
    /// All screens in workflow order.
    pub const ALL: [Screen; 12] = [
        Screen::Data,
        Screen::Features,
        Screen::Model,
        Screen::Segments,
        Screen::Compare,
        Screen::Rules,
        Screen::OverTime,
        Screen::Value,
        Screen::Board,
        Screen::Presentation,
        Screen::Review,
        Screen::Monitor,
    ];

    /// The number of its Ctrl+number shortcut, shown on its tab; the Value and Monitor screens,
    /// added after the keys were learned, have F7 and F8 instead rather than moving everyone else's.
    pub fn key(self) -> Option<usize> {
        match self {
            Screen::Data => Some(1),
            Screen::Features => Some(2),
            Screen::Model => Some(3),
            Screen::Segments => Some(4),
            Screen::Compare => Some(5),
            Screen::Rules => Some(6),
            Screen::OverTime => Some(7),
            Screen::Value | Screen::Monitor => None,
            Screen::Board => Some(8),
            Screen::Presentation => Some(9),
            Screen::Review => Some(0),
        }
    }

    /// The tab's text: the shortcut's number, then the label.
    pub fn tab_text(self) -> String {
        match self.key() {
            Some(key) => format!("{key}  {}", self.label()),
            None => self.label().to_string(),
        }
    }

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
            Screen::Value => "Value",
            Screen::Board => "SWOT",
            Screen::Presentation => "Present",
            Screen::Review => "Review",
            Screen::Monitor => "Monitor",
        }
    }
}

/// What the window opens first.
#[derive(Clone, Debug)]
pub enum StartProject {
    /// The built-in demo project.
    Demo,
    /// A project file (`.strata`), or a data file to start a new project from.
    File(PathBuf),
    /// Nothing (New).
    Empty,
    /// A project file opened for review: read-only (`strata --review FILE`).
    Review(PathBuf),
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
    /// Called at the start of every segmentation job with the job's name ("run"), and with "run
    /// refining" once a run has handed over a provisional result; tests use it to make a job fail
    /// as a bug would (a panic) and check the window keeps the open project, or to hold a run at its
    /// provisional result.
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
    /// Why the source could not be read for the preview.
    pub preview_error: Option<String>,
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
    preview_runner: JobRunner<Result<Arc<SourcePreview>, UnreadableSource>>,
    over_time_runner: JobRunner<OverTimeOutput>,
    /// The Compare screen's cross-tabulation.
    compare_runner: JobRunner<screens::compare::Comparison>,
    /// Customers moved by each rules edit still being counted, for the audit log.
    audit_runner: JobRunner<Vec<(u64, usize)>>,
    /// The audit log lines waiting for their count.
    audit_pending: Vec<logic::AuditCount>,
    next_audit_serial: u64,
    /// Reading a project file.
    open_runner: JobRunner<files::Opened>,
    /// Writing a project file.
    save_runner: JobRunner<files::Saved>,
    /// Writing the borderline customers.
    export_runner: JobRunner<files::Exported>,
    /// Scoring a file of new customers (File > Score new customers...).
    score_runner: JobRunner<scoring::ScoredCustomers>,
    /// The new customers scored last, shown in their window until it is closed.
    scored: Option<Arc<scoring::ScoredCustomers>>,
    /// Monitoring a new period against the current version.
    monitor_runner: JobRunner<monitor::Monitored>,
    /// Comparing two published versions.
    diff_runner: JobRunner<crate::engine::monitor::diff::VersionDiff>,
    /// The two versions compared last.
    version_diff: Option<Arc<crate::engine::monitor::diff::VersionDiff>>,
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
    /// Frames drawn, counted only when the window is to close after its first frame
    /// (`STRATA_EXIT_AFTER_FIRST_FRAME`, for measuring start-up time).
    exit_after_first_frame: Option<u32>,
    next_run_id: u64,
    applied_prefs: Option<(ThemeChoice, f32)>,
    shown_title: String,
    /// The reason of the rules edit being applied, for the audit log.
    audit_why: String,
    /// How far the segments over time are.
    over_time_fraction: f64,
    /// Draw state of the screens (selections, scroll positions) that is not part of the project.
    pub view: screens::ViewState,
    /// The path field shown when a file dialog could not be shown.
    pub path_prompt: Option<PathPrompt>,
    /// The spec of the run under way, if any.
    running_spec: Option<crate::engine::pipeline::PipelineSpec>,
    /// A rules-only change came while the fit for the same spec was running: run again (from the
    /// cache) when it lands.
    rerun_when_done: bool,
    /// What the Help menu has open (the guided tour outlives the project it opens).
    pub help: screens::help::HelpState,
    /// The step editor's selection and presentation mode (not part of the project).
    pub present: present::PresentState,
    /// The next project opened is opened for review (read-only).
    review_next_open: bool,
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
        let waker = |wake: &Arc<dyn Fn() + Send + Sync>| {
            let wake = wake.clone();
            move || wake()
        };
        let (dialog_sender, dialog_receiver) = std::sync::mpsc::channel();
        let mut app = Self {
            prefs,
            doc: None,
            screen: Screen::Segments,
            output: None,
            preview: None,
            preview_error: None,
            runs: Vec::new(),
            segmentations: Vec::new(),
            progress: None,
            last_error: None,
            toasts: Vec::new(),
            commands: Vec::new(),
            runner: JobRunner::new(options.run_mode).with_waker(waker(&wake)),
            preview_runner: JobRunner::new(options.run_mode).with_waker(waker(&wake)),
            over_time_runner: JobRunner::new(options.run_mode).with_waker(waker(&wake)),
            compare_runner: JobRunner::new(options.run_mode).with_waker(waker(&wake)),
            audit_runner: JobRunner::new(options.run_mode).with_waker(waker(&wake)),
            audit_pending: Vec::new(),
            next_audit_serial: 0,
            open_runner: JobRunner::new(options.run_mode).with_waker(waker(&wake)),
            save_runner: JobRunner::new(options.run_mode).with_waker(waker(&wake)),
            export_runner: JobRunner::new(options.run_mode).with_waker(waker(&wake)),
            score_runner: JobRunner::new(options.run_mode).with_waker(waker(&wake)),
            scored: None,
            monitor_runner: JobRunner::new(options.run_mode).with_waker(waker(&wake)),
            diff_runner: JobRunner::new(options.run_mode).with_waker(waker(&wake)),
            version_diff: None,
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
            exit_after_first_frame: None,
            next_run_id: 0,
            applied_prefs: None,
            shown_title: String::new(),
            audit_why: String::new(),
            over_time_fraction: 0.0,
            view: screens::ViewState::default(),
            path_prompt: None,
            help: Default::default(),
            present: Default::default(),
            running_spec: None,
            rerun_when_done: false,
            review_next_open: false,
        };
        match options.start {
            StartProject::Demo => app.open_demo(),
            // `strata FILE` (or "Open with") takes a data file as the drop does: only a .strata file
            // is read as a project.
            StartProject::File(path)
                if path.extension().is_some_and(|e| e == "strata")
                    || crate::engine::governance::pack::is_pack(&path) =>
            {
                app.open_project(&path)
            }
            StartProject::File(path) => app.open_data(&path),
            StartProject::Empty => app.screen = Screen::Data,
            StartProject::Review(path) => {
                app.review_next_open = true;
                app.open_project(&path);
            }
        }
        app
    }

    /// Queues a command for the next [`Self::logic`].
    pub fn push(&mut self, command: Command) {
        self.commands.push(command);
    }

    /// Applies queued commands and drains job and dialog events (no drawing).
    pub fn apply_pending(&mut self, ctx: &egui::Context) {
        while let Ok((purpose, answer)) = self.dialog_receiver.try_recv() {
            match answer {
                Ok(Some(path)) => self.answer_dialog(purpose, path),
                Ok(None) => {
                    if purpose == DialogPurpose::SaveProjectAs {
                        self.after_save = None;
                    }
                }
                Err(reason) => {
                    let suggested = self.suggested_file_name(purpose);
                    self.dialog_failed(purpose, reason, suggested);
                }
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

    /// How far the running pipeline's current step is, when one of its inner loops (a tree's
    /// merges, a mixture's initialisations) has said.
    pub fn step_fraction(&self) -> Option<f64> {
        self.runner.step_fraction().filter(|f| *f > 0.0)
    }

    /// The title the window shows (with `*` when there are unsaved changes).
    pub fn window_title(&self) -> &str {
        &self.shown_title
    }

    pub(super) fn apply_prefs(&mut self, ctx: &egui::Context) {
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

    /// Shows an error in the status bar and as a toast, in the window's words.
    pub fn report_error(&mut self, message: impl Into<String>) {
        let message = words::for_window(&message.into());
        self.last_error = Some(message.clone());
        self.toasts.push(Toast { text: message, is_error: true, shown_at: None });
    }

    /// The open project's small-cell threshold (the default without a project): counts under it
    /// are shown as "<10", with the counts that would give them away hidden.
    pub fn small_cells(&self) -> usize {
        self.doc.as_ref().map_or(crate::engine::governance::DEFAULT_SMALL_CELLS, |d| d.project.governance.small_cells)
    }

    pub(super) fn info(&mut self, message: impl Into<String>) {
        self.toasts.push(Toast { text: words::for_window(&message.into()), is_error: false, shown_at: None });
    }

    /// Saves preferences (eframe calls this on exit and now and then).
    pub fn save_prefs(&self, storage: &mut dyn eframe::Storage) {
        if self.use_storage {
            eframe::set_value(storage, eframe::APP_KEY, &self.prefs);
        }
    }

    /// Draws the whole window into `ui`.
    pub fn draw(&mut self, ui: &mut egui::Ui) {
        // Inside the pass: eframe calls `logic` outside it, where theme and zoom changes do not stick.
        self.apply_prefs(ui.ctx());
        // Tooltips wrap to the window: egui's 500 points are over half a 200% projector window, and
        // a long explanation beside a card would run off its edge.
        let tooltip_width = (ui.ctx().content_rect().width() * 0.6).clamp(240.0, 500.0);
        if (ui.ctx().global_style().spacing.tooltip_width - tooltip_width).abs() > 0.5 {
            ui.ctx().all_styles_mut(|style| style.spacing.tooltip_width = tooltip_width);
        }
        screens::window_ui(ui, self);
        self.names_change_ui(ui.ctx());
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
        // Presentation mode takes its keys (arrows, digits, B, Esc) before the window's shortcuts.
        self.presenting_keys(ctx);
        self.shortcuts(ctx);
        self.apply_pending(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.draw(ui);
        // The second frame starts once the first is on screen: that ends a start-up measurement.
        if let Some(frames) = &mut self.exit_after_first_frame {
            *frames += 1;
            if *frames >= 2 {
                ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
            }
            ui.ctx().request_repaint();
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        self.save_prefs(storage);
    }
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
        Box::new(move |cc| {
            let mut app = StrataApp::new(cc, AppOptions::window(start));
            // Start-up time is measured as the whole process, closed once its first frame is drawn
            // (README, "Release build").
            if std::env::var_os("STRATA_EXIT_AFTER_FIRST_FRAME").is_some() {
                app.exit_after_first_frame = Some(0);
            }
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| format!("could not open the window: {e}"))
}
