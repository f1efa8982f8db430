//! The open project: its undoable state (spec, names and notes, rules, windows), its history, and
//! what was last saved.

use std::path::{Path, PathBuf};

use super::DEMO_TITLE;
use crate::engine::naming::{NamesChange, SegmentNote};
use crate::engine::over_time::WindowParams;
use crate::engine::pipeline::{DataSource, PipelineSpec, SourceResolver};
use crate::engine::project::Project;
use crate::engine::rules::BusinessRules;

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
    /// The SWOT board.
    pub board: Option<crate::engine::swot::Board>,
    /// The presentation's steps.
    pub presentation: Option<crate::engine::presentation::Presentation>,
}

impl DocState {
    /// The undoable part of `project`.
    pub fn of(project: &Project) -> Self {
        Self {
            spec: project.spec.clone(),
            segments: project.segments.clone(),
            rules: project.rules.clone(),
            over_time: project.over_time.clone(),
            board: project.board.clone(),
            presentation: project.presentation.clone(),
        }
    }
}

/// What the business rules' outcome depends on besides the run: the rules and overrides, and the
/// segments marked low priority.
pub type RulesKey = (BusinessRules, Vec<usize>);

/// The rules key of a state.
pub fn rules_key(rules: &BusinessRules, notes: &[SegmentNote]) -> RulesKey {
    (rules.clone(), notes.iter().filter(|n| n.low_priority).map(|n| n.segment).collect())
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
    /// Opened for review: nothing that changes the segmentation can be done; comments, sign-offs,
    /// disputes and opt-outs can (they are the review).
    pub review: bool,
    /// The data file is not where the project expects it.
    pub missing_source: Option<String>,
    /// The data differs from the data the project was made with.
    pub fingerprint_warning: Option<String>,
    /// What the first run did not reproduce of the stored results, one line per figure (empty:
    /// everything was; None before it or without stored results).
    pub reproduced: Option<Vec<String>>,
    /// Made from a data file: roles and features are guessed when its preview arrives.
    pub(super) needs_setup: bool,
    pub(super) saved: Option<DocState>,
    pub(super) undo: Vec<(DocState, String)>,
    pub(super) redo: Vec<(DocState, String)>,
    pub(super) merge_key: Option<String>,
    pub(super) first_run_checked: bool,
    /// Each method's last settings this session (k, seed, options), so switching to another method
    /// and back returns to them (kept in the session, not in the project file).
    pub(super) method_settings: std::collections::HashMap<&'static str, crate::engine::pipeline::Algorithm>,
    /// What the latest change that re-assigned customers did to the names, shown as a list until
    /// closed or until the next edit.
    pub names_change: Option<NamesChangeShown>,
    /// The assignment the segment notes are numbered by (the latest run's), so a re-fit can carry
    /// them to the segments their customers went to; `None` after an undo or redo, which restores
    /// notes numbered by an earlier run.
    pub(super) notes_numbered_by: Option<String>,
    /// The names and notes of every segmentation shown in this session, by assignment, so a
    /// return to one gives its names back (kept in the session, not in the project file).
    pub(super) names_memory: crate::engine::naming::NamesMemory,
    /// Lines of the audit log when the project was last opened or saved.
    pub(super) audit_saved: usize,
}

impl Document {
    pub(super) fn new(project: Project, path: Option<PathBuf>, base_dir: PathBuf, is_demo: bool) -> Self {
        let audit_saved = if path.is_some() || is_demo { project.audit.len() } else { usize::MAX };
        let saved = (path.is_some() || is_demo).then(|| DocState::of(&project));
        Self {
            project,
            path,
            is_demo,
            base_dir,
            allow_outside: is_demo,
            banner: None,
            read_only: false,
            review: false,
            missing_source: None,
            fingerprint_warning: None,
            reproduced: None,
            needs_setup: false,
            saved,
            undo: Vec::new(),
            redo: Vec::new(),
            merge_key: None,
            first_run_checked: false,
            method_settings: Default::default(),
            names_change: None,
            notes_numbered_by: None,
            names_memory: Default::default(),
            audit_saved,
        }
    }

    /// The undoable state now.
    pub fn state(&self) -> DocState {
        DocState::of(&self.project)
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

    pub(super) fn resolver(&self) -> SourceResolver {
        SourceResolver { base_dir: self.base_dir.clone(), allow_outside: self.allow_outside }
    }

    /// Records the state before an edit; consecutive edits with the same key are one step.
    pub(super) fn record(&mut self, what: &str) {
        if self.merge_key.as_deref() != Some(what) {
            self.undo.push((self.state(), what.to_string()));
            self.merge_key = Some(what.to_string());
        }
        self.redo.clear();
    }

    pub(super) fn restore(&mut self, state: DocState) {
        self.project.spec = state.spec;
        self.project.segments = state.segments;
        self.project.rules = state.rules;
        self.project.over_time = state.over_time;
        self.project.board = state.board;
        self.project.presentation = state.presentation;
        self.merge_key = None;
    }
}

/// The list shown after a change re-assigned customers: what happened to the names, and the edit
/// that caused it (undone by the list's Undo, which restores the names as they were).
#[derive(Clone, Debug, PartialEq)]
pub struct NamesChangeShown {
    /// What happened to each name.
    pub change: NamesChange,
    /// The undo step that caused it (the label of the undo menu), if the change was an edit.
    pub edit: Option<String>,
    /// The undo history's length after that edit: Undo is offered while it is the latest step.
    pub undo_depth: usize,
}

pub(super) fn note_mut(state: &mut DocState, segment: usize) -> &mut SegmentNote {
    if let Some(i) = state.segments.iter().position(|n| n.segment == segment) {
        return &mut state.segments[i];
    }
    state.segments.push(SegmentNote { segment, name: format!("Segment {}", segment + 1), ..Default::default() });
    state.segments.sort_by_key(|n| n.segment);
    let i = state.segments.iter().position(|n| n.segment == segment).unwrap_or(0);
    &mut state.segments[i]
}

/// Why the project's data cannot be read where it is expected, if it cannot.
pub(super) fn missing_source(doc: &Document) -> Option<String> {
    let DataSource::File(stored) = &doc.project.spec.source.source else { return None };
    if crate::engine::pipeline::several::is_pattern(stored) {
        // A pattern names several files: missing when it matches none (or leads out of the folder).
        return crate::engine::pipeline::several::matched_files(stored, &doc.resolver())
            .err()
            .map(|e| format!("{e}. Point to a file with Locate to read it instead."));
    }
    match doc.resolver().resolve(stored) {
        Ok(path) if path.is_file() => None,
        Ok(path) => Some(format!(
            "This project expects its data at {} (stored as \"{stored}\"), and there is no file there. Point to it with Locate.",
            path.display()
        )),
        Err(e) => Some(format!("{e} Point to the file with Locate to read it anyway.")),
    }
}

/// The spec with what does not change the analysis left out: fingerprints (filled in on save) and
/// how a data path is written (relative to whichever folder the project was in).
pub(super) fn analysis_key(spec: &PipelineSpec, base_dir: &Path) -> PipelineSpec {
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
