//! File dialogs behind a small trait: the window uses rfd on a named thread (so the UI keeps
//! repainting while a dialog is open), tests substitute prepared answers.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};

/// What a dialog is asked for; the answer comes back tagged with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialogPurpose {
    /// Pick a project file to open.
    OpenProject,
    /// Pick where to save the project.
    SaveProjectAs,
    /// Pick a data file (customer table or transaction log).
    OpenData,
    /// Point to a project's data file that is not where the project expects it.
    LocateSource,
    /// Pick where to write the borderline customers.
    ExportBorderline,
    /// Pick where to write a table or chart.
    Export(ExportKind),
    /// Pick a file of new customers to score.
    ScoreData,
    /// Pick a new period's file to monitor.
    MonitorData,
}

impl DialogPurpose {
    /// Whether the dialog picks a file to write (else one to read).
    pub fn is_save(self) -> bool {
        matches!(self, Self::SaveProjectAs | Self::ExportBorderline | Self::Export(_))
    }

    /// What the dialog is for, in words ("save the project as").
    pub fn title(self) -> &'static str {
        match self {
            Self::OpenProject => "Open a Strata project",
            Self::SaveProjectAs => "Save the project as",
            Self::OpenData => "Open customer data or a transaction log",
            Self::LocateSource => "Where is this project's data?",
            Self::ExportBorderline => "Export the borderline customers",
            Self::Export(kind) => kind.title(),
            Self::ScoreData => "Score new customers: their data file",
            Self::MonitorData => "Monitor a new period: its data file",
        }
    }
}

/// What the window exports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportKind {
    /// Every customer's segment, with the columns `strata run --out` writes (CSV, Parquet, Excel).
    Assignments,
    /// The profile table of the Segments screen (CSV, Excel).
    Profiles,
    /// The k-choice table of the Model screen (CSV, Excel).
    KChoice,
    /// A chart, as PNG.
    Chart(ChartId),
    /// The TOWS strategies as a decision list (CSV: cell, action, owner, segments, pairs).
    DecisionList,
    /// The self-contained HTML report (`strata report`).
    Report,
    /// New customers scored by File > Score new customers... (the columns `strata score --out`
    /// writes; CSV, Parquet, Excel).
    Scores,
}

/// The charts that can be exported as pictures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChartId {
    /// Segments: the PCA projection.
    Projection,
    /// Segments: the silhouettes.
    Silhouettes,
    /// Compare: the alluvial view.
    Alluvial,
    /// Over time: segment sizes per window.
    SizesOverTime,
    /// Over time: who moved where between two windows.
    MovesOverTime,
    /// Model: inertia per k (the elbow).
    Elbow,
    /// Model: mean silhouette per k.
    SilhouetteByK,
    /// Model: Calinski-Harabasz per k.
    CalinskiHarabasz,
    /// Model: Davies-Bouldin per k.
    DaviesBouldin,
    /// Model: BIC and AIC per k (mixtures).
    Information,
}

impl ChartId {
    /// The chart's name: its menu entry and file name say it, and it is the engine chart it is
    /// exported as (the one `strata chart --chart NAME` and the report draw).
    pub fn label(self) -> &'static str {
        match self {
            Self::Projection => "projection",
            Self::Silhouettes => "silhouettes",
            Self::Alluvial => "alluvial",
            Self::SizesOverTime => "sizes-over-time",
            Self::MovesOverTime => "moves-over-time",
            Self::Elbow => "elbow",
            Self::SilhouetteByK => "silhouette",
            Self::CalinskiHarabasz => "calinski-harabasz",
            Self::DaviesBouldin => "davies-bouldin",
            Self::Information => "bic-aic",
        }
    }
}

impl ExportKind {
    /// The dialog's title.
    pub fn title(self) -> &'static str {
        match self {
            Self::Assignments => "Export the assignments",
            Self::Profiles => "Export the segment profiles",
            Self::KChoice => "Export the k-choice table",
            Self::Chart(_) => "Export the chart as PNG",
            Self::DecisionList => "Export the decision list",
            Self::Report => "Export the report",
            Self::Scores => "Save the scores of the new customers",
        }
    }

    /// The file formats offered, first the default: (filter name, extension).
    pub fn formats(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Self::Assignments | Self::Scores => &[("CSV", "csv"), ("Parquet", "parquet"), ("Excel", "xlsx")],
            Self::Profiles | Self::KChoice => &[("CSV", "csv"), ("Excel", "xlsx")],
            Self::Chart(_) => &[("PNG image", "png")],
            Self::DecisionList => &[("CSV", "csv")],
            Self::Report => &[("HTML report", "html")],
        }
    }

    /// The file name suggested.
    pub fn file_name(self) -> String {
        match self {
            Self::Assignments => "assignments.csv".to_string(),
            Self::Profiles => "segment-profiles.csv".to_string(),
            Self::KChoice => "k-choice.csv".to_string(),
            Self::Chart(chart) => format!("{}.png", chart.label()),
            Self::DecisionList => "decision-list.csv".to_string(),
            Self::Report => "report.html".to_string(),
            Self::Scores => "scores.csv".to_string(),
        }
    }
}

/// The answer of one dialog: its purpose and the chosen path (`Ok(None)` when the user cancelled,
/// `Err` with the reason when the dialog could not be shown).
pub type DialogAnswer = (DialogPurpose, Result<Option<PathBuf>, String>);

/// Where a dialog sends its answer; waking the window so it handles the answer at once.
pub struct DialogReply {
    purpose: DialogPurpose,
    sender: Sender<DialogAnswer>,
    wake: Arc<dyn Fn() + Send + Sync>,
}

impl DialogReply {
    /// A reply channel for `purpose`.
    pub fn new(purpose: DialogPurpose, sender: Sender<DialogAnswer>, wake: Arc<dyn Fn() + Send + Sync>) -> Self {
        Self { purpose, sender, wake }
    }

    /// Sends the chosen path (or `None`) back to the window.
    pub fn send(self, path: Option<PathBuf>) {
        let _ = self.sender.send((self.purpose, Ok(path)));
        (self.wake)();
    }

    /// Tells the window the dialog could not be shown, and why (it then offers a path field).
    pub fn fail(self, reason: String) {
        let _ = self.sender.send((self.purpose, Err(reason)));
        (self.wake)();
    }
}

/// Asks the user for paths.
pub trait FileDialogs: Send {
    /// Shows the dialog for `purpose`, starting in `start_dir`, suggesting `file_name` when saving;
    /// the answer goes to `reply`, now or later.
    fn ask(
        &mut self,
        purpose: DialogPurpose,
        start_dir: Option<PathBuf>,
        file_name: Option<String>,
        reply: DialogReply,
    );
}

/// Native dialogs (rfd), each on its own named thread.
pub struct NativeDialogs;

const DATA_EXTENSIONS: &[&str] = &["csv", "tsv", "txt", "dat", "parquet", "pq", "xlsx", "xls", "xlsm", "ods"];

impl FileDialogs for NativeDialogs {
    fn ask(
        &mut self,
        purpose: DialogPurpose,
        start_dir: Option<PathBuf>,
        file_name: Option<String>,
        reply: DialogReply,
    ) {
        let work = move || {
            let mut dialog = rfd::FileDialog::new().set_title(purpose.title());
            if let Some(dir) = start_dir {
                dialog = dialog.set_directory(dir);
            }
            if purpose.is_save()
                && let Some(name) = file_name
            {
                dialog = dialog.set_file_name(name);
            }
            dialog = match purpose {
                DialogPurpose::OpenProject => {
                    dialog.add_filter("Strata project or review pack", &["strata", "stratapack"])
                }
                DialogPurpose::SaveProjectAs => dialog.add_filter("Strata project", &["strata"]),
                DialogPurpose::OpenData
                | DialogPurpose::LocateSource
                | DialogPurpose::ScoreData
                | DialogPurpose::MonitorData => dialog.add_filter("Data files", DATA_EXTENSIONS),
                DialogPurpose::ExportBorderline => {
                    dialog.add_filter("CSV", &["csv"]).add_filter("Parquet", &["parquet"])
                }
                DialogPurpose::Export(kind) => {
                    kind.formats().iter().fold(dialog, |d, (name, extension)| d.add_filter(*name, &[*extension]))
                }
            };
            if let Some(reason) = no_dialog_available() {
                reply.fail(reason);
                return;
            }
            let shown_at = std::time::Instant::now();
            let path = if purpose.is_save() { dialog.save_file() } else { dialog.pick_file() };
            // rfd answers "cancelled" both when the user cancels and when no dialog could be shown
            // (no desktop portal, no zenity); nobody cancels a file dialog within a quarter second.
            if path.is_none() && shown_at.elapsed() < std::time::Duration::from_millis(250) {
                reply.fail("the file dialog could not be shown (no desktop portal or zenity answered)".to_string());
            } else {
                reply.send(path);
            }
        };
        let spawned = std::thread::Builder::new().name("strata-dialog".into()).spawn(work);
        if let Err(e) = spawned {
            eprintln!("could not open a file dialog: {e}");
        }
    }
}

/// Why no native file dialog can be shown here, when that is known before trying: on Linux rfd
/// needs the desktop portal (over the session bus) or zenity.
fn no_dialog_available() -> Option<String> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let has_bus = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some_and(|v| !v.is_empty())
        || std::env::var_os("XDG_RUNTIME_DIR").is_some_and(|d| std::path::Path::new(&d).join("bus").exists());
    let has_zenity = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join("zenity").is_file()));
    (!has_bus && !has_zenity)
        .then(|| "no file dialog is available (no desktop session bus for the portal, and no zenity)".to_string())
}

/// One prepared answer: a path, a cancel (`None`), or a dialog that cannot be shown (`Err`).
type ScriptedAnswer = Result<Option<PathBuf>, String>;

/// Prepared answers, handed out in order (tests); a dialog with no answer left is cancelled.
#[derive(Clone, Default)]
pub struct ScriptedDialogs {
    answers: Arc<Mutex<VecDeque<ScriptedAnswer>>>,
    asked: Arc<Mutex<Vec<DialogPurpose>>>,
}

impl ScriptedDialogs {
    /// No answers yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The next dialog answers `path`.
    pub fn answer(&self, path: impl Into<PathBuf>) {
        if let Ok(mut answers) = self.answers.lock() {
            answers.push_back(Ok(Some(path.into())));
        }
    }

    /// The next dialog cannot be shown, for `reason` (as without a desktop portal).
    pub fn fail(&self, reason: impl Into<String>) {
        if let Ok(mut answers) = self.answers.lock() {
            answers.push_back(Err(reason.into()));
        }
    }

    /// The dialogs shown so far, in order.
    pub fn asked(&self) -> Vec<DialogPurpose> {
        self.asked.lock().map(|a| a.clone()).unwrap_or_default()
    }
}

impl FileDialogs for ScriptedDialogs {
    fn ask(
        &mut self,
        purpose: DialogPurpose,
        _start_dir: Option<PathBuf>,
        _file_name: Option<String>,
        reply: DialogReply,
    ) {
        if let Ok(mut asked) = self.asked.lock() {
            asked.push(purpose);
        }
        match self.answers.lock().ok().and_then(|mut a| a.pop_front()) {
            Some(Err(reason)) => reply.fail(reason),
            Some(Ok(path)) => reply.send(path),
            None => reply.send(None),
        }
    }
}
