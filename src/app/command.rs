//! Commands: everything a button, menu entry or shortcut can ask for, one enum for all of them, and
//! how the app applies each.

use std::path::{Path, PathBuf};

use eframe::egui;

use super::dialogs::{DialogPurpose, DialogReply, ExportKind};
use super::document::note_mut;
use super::{Document, Screen, StrataApp, ThemeChoice};
use crate::engine::over_time::WindowParams;
use crate::engine::pipeline::PipelineSpec;
use crate::engine::rules::BusinessRules;

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
    /// Ask for a project file to open for review (read-only).
    OpenForReviewDialog,
    /// Open this project file for review (read-only).
    OpenForReview(PathBuf),
    /// A reviewer's act: a comment, a sign-off, a dispute or its decision, an opt-out (each an
    /// audit entry; allowed when open for review).
    Review(crate::app::screens::review::ReviewAction),
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
    /// Ask where to export a table or chart.
    ExportDialog(ExportKind),
    /// Write a table or chart to this file (the format follows the extension).
    Export(ExportKind, PathBuf),
    /// Ask for a file of new customers to score with the segmentation shown.
    ScoreNewCustomersDialog,
    /// Score the customers of this file as the project scores its own (a job; the report opens in
    /// a window, from which the scores are saved).
    ScoreNewCustomers(PathBuf),
    /// Publish the fit shown as a new version, current from now (an audit entry, with this note).
    Publish(String),
    /// Make this published version current again (one undo step, an audit entry).
    RollBack(u32),
    /// Compare two published versions (a job; shown on the Monitor screen).
    DiffVersions {
        /// The older version's number.
        from: u32,
        /// The newer one's.
        to: u32,
    },
    /// The monitor's alert thresholds (stored in the project, an audit entry).
    SetMonitorThresholds(crate::engine::monitor::Thresholds),
    /// Ask for a file of a new period to monitor against the current version.
    MonitorDialog,
    /// Monitor the customers of this file against the current version (a job; the period is
    /// stored in the project).
    MonitorData {
        /// The file (a customer table, or a transaction log like the project's).
        data: PathBuf,
        /// For a log: the date its customers are taken as of.
        as_of: Option<chrono::NaiveDate>,
    },
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
    /// The project's small-cell threshold (1 to 1000; 1 shows every count), written to the audit
    /// log with the value before.
    SetSmallCells(usize),
    /// Whether columns nothing uses are kept out of everything the project stores and exports
    /// (written to the audit log; the project is run again so the customer table drops them).
    SetMinimise(bool),
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
    /// Replace the SWOT board (one undo step, written to the audit log; consecutive edits with the
    /// same `what`, typing one note, merge into one).
    EditBoard {
        /// The board after the change.
        board: Box<crate::engine::swot::Board>,
        /// What changed, in words, for the undo menu and the audit log.
        what: String,
    },
    /// Replace the presentation (one undo step, written to the audit log; consecutive edits with
    /// the same `what` merge into one).
    EditPresentation {
        /// The new presentation.
        presentation: Box<crate::engine::presentation::Presentation>,
        /// What changed, in words, for the undo menu and the audit log.
        what: String,
    },
    /// Start, step through or leave presentation mode, or act on what was changed while presenting.
    Presenting(super::present::PresentCommand),
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

impl Command {
    /// Whether it would change the project's segmentation, its names, notes, rules, board or
    /// presentation, or what is stored of them: refused when open for review.
    pub fn changes_segmentation(&self) -> bool {
        match self {
            Command::EditSpec { .. }
            | Command::RenameSegment { .. }
            | Command::EditRules { .. }
            | Command::SetLowPriority { .. }
            | Command::SetWindows(_)
            | Command::EditSegmentNotes { .. }
            | Command::EditBoard { .. }
            | Command::EditPresentation { .. }
            | Command::Undo
            | Command::Redo
            | Command::SelectK(_)
            | Command::SetSmallCells(_)
            | Command::SetMinimise(_)
            | Command::Publish(_)
            | Command::RollBack(_)
            | Command::SetMonitorThresholds(_)
            | Command::MonitorData { .. }
            | Command::LocateSourceDialog
            | Command::LocateSource(_) => true,
            Command::Presenting(p) => p.changes_board(),
            _ => false,
        }
    }
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
pub(super) enum Pending {
    New,
    OpenDialog,
    Open(PathBuf),
    OpenDemo,
    OpenData(PathBuf),
    Quit,
}

impl StrataApp {
    pub(super) fn ask(&mut self, purpose: DialogPurpose) {
        let start_dir = self
            .doc
            .as_ref()
            .and_then(|d| d.path.as_ref().map(|_| d.base_dir.clone()))
            .or_else(|| self.prefs.recent_projects.first().and_then(|p| p.parent().map(Path::to_path_buf)));
        let file_name = self.suggested_file_name(purpose);
        let reply = DialogReply::new(purpose, self.dialog_sender.clone(), self.wake.clone());
        self.dialogs.ask(purpose, start_dir, file_name, reply);
    }

    /// The file name a save dialog suggests.
    pub(super) fn suggested_file_name(&self, purpose: DialogPurpose) -> Option<String> {
        match purpose {
            DialogPurpose::ExportBorderline => Some("borderline-customers.csv".to_string()),
            DialogPurpose::Export(kind) => Some(kind.file_name()),
            _ => self.doc.as_ref().map(|d| {
                let title = d.title();
                if title.ends_with(".strata") {
                    title
                } else {
                    format!("{}.strata", title.replace(' ', "-").to_lowercase())
                }
            }),
        }
    }

    /// Runs `pending` now, or asks first when the project has unsaved changes.
    pub(super) fn guard(&mut self, pending: Pending) {
        if self.doc.as_ref().is_some_and(Document::is_dirty) {
            self.pending = Some(pending);
        } else {
            self.proceed(pending);
        }
    }

    pub(super) fn proceed(&mut self, pending: Pending) {
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

    pub(super) fn apply(&mut self, ctx: &egui::Context, command: Command) {
        if self.doc.as_ref().is_some_and(|d| d.review) && command.changes_segmentation() {
            self.info("Open for review: read-only. Use Save As and open the copy to change it.".to_string());
            return;
        }
        match command {
            Command::OpenForReviewDialog => {
                self.review_next_open = true;
                self.guard(Pending::OpenDialog);
            }
            Command::OpenForReview(path) => {
                self.review_next_open = true;
                self.guard(Pending::Open(path));
            }
            Command::Review(action) => self.review_action(action),
            Command::NewProject => self.guard(Pending::New),
            Command::OpenProjectDialog => {
                self.review_next_open = false;
                self.guard(Pending::OpenDialog)
            }
            Command::OpenProject(path) => {
                self.review_next_open = false;
                self.guard(Pending::Open(path))
            }
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
            Command::ExportDialog(kind) => {
                if self.output.is_some() {
                    self.ask(DialogPurpose::Export(kind));
                }
            }
            Command::Export(kind, path) => self.export(kind, &path),
            Command::ScoreNewCustomersDialog => {
                if self.output.is_some() {
                    self.ask(DialogPurpose::ScoreData);
                } else {
                    self.report_error("There is nothing to score with yet: run a segmentation first.");
                }
            }
            Command::ScoreNewCustomers(path) => self.score_new_customers(&path),
            Command::Publish(note) => self.publish(&note),
            Command::RollBack(number) => self.roll_back(number),
            Command::DiffVersions { from, to } => self.diff_versions(from, to),
            Command::SetMonitorThresholds(thresholds) => self.set_monitor_thresholds(thresholds),
            Command::MonitorDialog => self.ask(DialogPurpose::MonitorData),
            Command::MonitorData { data, as_of } => self.monitor_data(&data, as_of),
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
            Command::SetSmallCells(threshold) => self.set_small_cells(threshold),
            Command::SetMinimise(on) => self.set_minimise(on),
            Command::SetWindows(params) => self.edit("windows over time", |state| state.over_time = Some(params)),
            Command::FollowCustomers => self.start_over_time(),
            Command::EditSegmentNotes { segment, notes } => {
                self.edit(&format!("notes of segment {}", segment + 1), |state| note_mut(state, segment).notes = notes)
            }
            Command::EditBoard { board, what } => self.edit(&what, |state| state.board = Some(*board)),
            Command::EditPresentation { presentation, what } => {
                self.edit(&what, |state| state.presentation = Some(*presentation))
            }
            Command::Presenting(command) => self.apply_presenting(ctx, command),
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

    pub(super) fn shortcuts(&mut self, ctx: &egui::Context) {
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
            (KeyboardShortcut::new(Modifiers::COMMAND, Key::Num8), Command::Show(Screen::Board)),
            (KeyboardShortcut::new(Modifiers::COMMAND, Key::Num9), Command::Show(Screen::Presentation)),
            (KeyboardShortcut::new(Modifiers::COMMAND, Key::Num0), Command::Show(Screen::Review)),
            (KeyboardShortcut::new(Modifiers::NONE, Key::F7), Command::Show(Screen::Value)),
            (KeyboardShortcut::new(Modifiers::NONE, Key::F8), Command::Show(Screen::Monitor)),
            (
                KeyboardShortcut::new(Modifiers::NONE, Key::F6),
                Command::Presenting(super::present::PresentCommand::Start),
            ),
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
            let is_project =
                path.extension().is_some_and(|e| e == "strata") || crate::engine::governance::pack::is_pack(&path);
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
}
