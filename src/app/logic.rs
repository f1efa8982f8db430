//! What the app does between frames: undoable edits and the audit log, starting runs and the other
//! jobs, and taking in what they send back.

use std::sync::Arc;

use eframe::egui;

use super::document::{DocState, NamesChangeShown, rules_key};
use super::run_job::RunJob;
use super::{OverTimeOutput, RunOutput, SourcePreview, StrataApp};
use crate::engine::data::quality::{numeric_values, quality_report};
use crate::engine::data::roles::{ColumnRole, guess_roles};
use crate::engine::error::PipelineError;
use crate::engine::features::{FeatureRecipe, FeatureSpec, TransactionColumns};
use crate::engine::governance::audit::{AuditEntry, Parts, classify};
use crate::engine::jobs::JobEvent;
use crate::engine::naming::{self, Fitted, NamesChange, SegmentNote};
use crate::engine::pipeline::{self, TableKind};
use crate::engine::profile::summary::Histogram;
use crate::engine::project;
use crate::engine::rules::BusinessRules;

impl StrataApp {
    /// Applies an undoable edit, then runs when the spec changed and runs are automatic.
    pub(super) fn edit(&mut self, what: &str, change: impl FnOnce(&mut DocState)) {
        let Some(doc) = &mut self.doc else { return };
        let mut state = doc.state();
        change(&mut state);
        // Each method keeps its own last settings: switching away remembers them, switching back
        // returns to them (k-means at k = 5, DBSCAN, k-means: k = 5 again).
        let from = &doc.project.spec.model.algorithm;
        if state.spec.model.algorithm.name() != from.name() {
            doc.method_settings.insert(from.name(), from.clone());
            if let Some(remembered) = doc.method_settings.get(state.spec.model.algorithm.name()) {
                state.spec.model.algorithm = remembered.clone();
            }
        }
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
        // The SWOT board and the presentation are the workshop's record: logged like the rules.
        let workshop_changed = state.board != doc.project.board || state.presentation != doc.project.presentation;
        // A file that could not be read (a wrong encoding) is set up once it reads.
        let source_changed = state.spec.source != doc.project.spec.source;
        let names = |notes: &[SegmentNote]| notes.iter().map(|n| (n.segment, n.name.clone())).collect::<Vec<_>>();
        let names_changed = names(&state.segments) != names(&doc.project.segments);
        doc.record(what);
        doc.restore(state);
        if source_changed && doc.project.spec.recipe.features.is_empty() {
            doc.needs_setup = true;
        }
        doc.merge_key = Some(what.to_string());
        // Every change of who is in which segment or what it is called is logged: the spec (k,
        // method, recipe, sources) and names besides the rules.
        if rules_changed
            || workshop_changed
            || spec_changed
            || names_changed
            || (merged && doc.project.audit.last().is_some_and(|e| e.what == what))
        {
            let why = self.audit_why.clone();
            self.audit(&before, what, &why, merged);
        }
        self.after_change(spec_changed, rules_changed);
        if spec_changed {
            self.maybe_refresh_preview();
        }
    }

    pub(super) fn undo_redo(&mut self, is_undo: bool) {
        let Some(doc) = &mut self.doc else { return };
        let current = doc.state();
        let (from, to) = if is_undo { (&mut doc.undo, &mut doc.redo) } else { (&mut doc.redo, &mut doc.undo) };
        let Some((state, what)) = from.pop() else { return };
        to.push((current.clone(), what.clone()));
        let spec_changed = state.spec != doc.project.spec;
        let rules_changed = rules_key(&state.rules, &state.segments) != doc.rules_key();
        // A board that differs only because a re-fit carried it comes back with the re-fit's undo:
        // that is not a workshop edit of its own.
        let workshop_changed = state.spec == doc.project.spec
            && (state.board != doc.project.board || state.presentation != doc.project.presentation);
        let names = |notes: &[SegmentNote]| notes.iter().map(|n| (n.segment, n.name.clone())).collect::<Vec<_>>();
        let names_changed = names(&state.segments) != names(&doc.project.segments);
        doc.restore(state);
        // The restored notes are numbered by the run before that edit, not by the latest one.
        doc.notes_numbered_by = None;
        // Logged as the edit was: an undo of a change of who is where, or of a name, is one too.
        if rules_changed || workshop_changed || spec_changed || names_changed {
            self.audit(&current, &format!("{} {what}", if is_undo { "undo" } else { "redo" }), "", false);
        }
        self.after_change(spec_changed, rules_changed);
        if spec_changed {
            self.maybe_refresh_preview();
        }
    }

    /// Writes a change of the rules, overrides or low-priority marks to the audit log, with the
    /// customers it moves (counted on a job, on the latest run when it is this project's; the state
    /// after the change is the document's now).
    pub(super) fn audit(&mut self, before: &DocState, what: &str, why: &str, replaces_last: bool) {
        let output = self.output.clone();
        let who = self.audit_name();
        let Some(doc) = &mut self.doc else { return };
        // A sealed entry is in a saved file: never taken back.
        if replaces_last && doc.project.audit.last().is_some_and(|e| e.what == what && !e.is_sealed()) {
            doc.project.audit.pop();
            // Its count, if still being made, is for a line that is gone.
            let gone = doc.project.audit.len();
            self.audit_pending.retain(|p| p.line != gone);
        }
        let line = doc.project.audit.len();
        let workshop_changed = before.board != doc.project.board || before.presentation != doc.project.presentation;
        fn parts(s: &DocState, workshop_changed: bool) -> Parts<'_> {
            Parts { spec: &s.spec, rules: &s.rules, segments: &s.segments, workshop_changed }
        }
        let after = doc.state();
        let (action, object, was, now) =
            classify(parts(before, workshop_changed), parts(&after, workshop_changed), what);
        doc.project.audit.push(AuditEntry::new(&who, &action, &object, what).change(was, now).because(why));
        // A change of the board or the presentation alone moves no customer: nothing to count.
        let moves_customers = rules_key(&before.rules, &before.segments) != doc.rules_key();
        // Counted on the exact result only: a provisional one's labels come from a sample.
        let Some(output) =
            output.filter(|o| o.spec == doc.project.spec && o.result.provisional.is_none() && moves_customers)
        else {
            return;
        };
        self.next_audit_serial += 1;
        self.audit_pending.push(AuditCount {
            serial: self.next_audit_serial,
            line,
            output,
            before: (before.rules.clone(), before.segments.clone()),
            after: (doc.project.rules.clone(), doc.project.segments.clone()),
        });
        self.start_audit_counts();
    }

    /// Counts every audit line still waiting, on one job: a newer job replaces an older one, so it
    /// takes all of them, not only the newest.
    fn start_audit_counts(&mut self) {
        let requests: Vec<AuditCount> = self.audit_pending.clone();
        self.audit_runner.start("audit count", move |ctx| -> Result<Vec<(u64, usize)>, String> {
            let mut counts = Vec::with_capacity(requests.len());
            for (i, request) in requests.iter().enumerate() {
                if ctx.cancel.is_cancelled() {
                    break;
                }
                ctx.progress.report("audit count", i as f64 / requests.len().max(1) as f64);
                counts.push((request.serial, request.customers_moved()));
            }
            Ok(counts)
        });
    }

    /// Whether the audit log's line `line` is still being counted.
    pub fn is_audit_counting(&self, line: usize) -> bool {
        self.audit_pending.iter().any(|p| p.line == line)
    }

    /// Writes the counts a job made into their audit lines.
    fn finish_audit_counts(&mut self, counts: &[(u64, usize)]) {
        for &(serial, customers) in counts {
            let Some(i) = self.audit_pending.iter().position(|p| p.serial == serial) else { continue };
            let request = self.audit_pending.remove(i);
            // A count that arrives after the entry was sealed by a save stays out of it.
            if let Some(entry) =
                self.doc.as_mut().and_then(|d| d.project.audit.get_mut(request.line)).filter(|e| !e.is_sealed())
            {
                entry.customers = Some(customers);
            }
        }
        if !self.audit_pending.is_empty() && self.audit_runner.running().is_none() {
            self.start_audit_counts();
        }
    }

    /// Sets the project's small-cell threshold (clamped to 1..=1000) and writes the change to the
    /// audit log, lowering it in so many words; the screens show counts with it from the next frame.
    pub(super) fn set_small_cells(&mut self, threshold: usize) {
        let who = self.audit_name();
        let Some(doc) = &mut self.doc else { return };
        let before = doc.project.audit.len();
        match crate::engine::governance::review::set_small_cells(&mut doc.project, &who, threshold.clamp(1, 1000)) {
            Ok(()) if doc.project.audit.len() > before => {
                let what = doc.project.audit.last().map(|e| e.what.clone()).unwrap_or_default();
                self.info(what);
            }
            Ok(()) => {}
            Err(e) => self.report_error(e),
        }
    }

    /// Turns data minimisation on or off, writes it to the audit log, and runs again so the
    /// customer table keeps (or drops) the columns nothing uses.
    pub(super) fn set_minimise(&mut self, on: bool) {
        let who = self.audit_name();
        let Some(doc) = &mut self.doc else { return };
        if doc.project.governance.minimise == on {
            return;
        }
        doc.project.governance.minimise = on;
        let what = if on {
            "data minimisation on: columns nothing uses are kept out of everything stored and exported"
        } else {
            "data minimisation off: every loaded column is kept"
        };
        let (was, now) = if on { ("off", "on") } else { ("on", "off") };
        doc.project.audit.push(AuditEntry::new(&who, "minimise", "unused columns", what).change(was, now));
        if self.output.is_some() {
            self.start_run();
        }
    }

    /// The name changes are logged under: the one set in the window, else the login name.
    pub fn audit_name(&self) -> String {
        let set = self.prefs.audit_name.trim();
        if !set.is_empty() {
            return set.to_string();
        }
        std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_else(|_| "unknown".to_string())
    }

    /// What an edit or an undo starts: nothing when runs wait for Run; a rules-only change while
    /// the fit for this very spec is under way waits for it (its fit stays good, and the rules are
    /// applied again from the cache when it lands) instead of cancelling it; a long run (see
    /// [`Self::long_run`]) waits for Run.
    pub(super) fn after_change(&mut self, spec_changed: bool, rules_changed: bool) {
        if let Some(doc) = &mut self.doc
            && (spec_changed || rules_changed)
        {
            // "Reproduced exactly" was said of the project as opened, not as edited.
            doc.reproduced = None;
        }
        if !(spec_changed || rules_changed) || !self.prefs.auto_run {
            return;
        }
        let running_this_spec = self.progress.is_some()
            && self.running_spec.is_some()
            && self.running_spec.as_ref() == self.doc.as_ref().map(|d| &d.project.spec);
        if !spec_changed && running_this_spec {
            self.rerun_when_done = true;
            return;
        }
        if spec_changed && self.long_run().is_some() {
            // Cancel what the change made stale; the screens say the results are out of date.
            if self.progress.is_some() {
                self.runner.cancel();
                self.progress = None;
                self.running_spec = None;
            }
            return;
        }
        self.start_run();
    }

    /// The estimate of the next run when it is long enough to wait for Run (hierarchical above
    /// 10,000 customers, any stability check: `engine::pipeline::estimate`), counted on the
    /// customers of the latest result, else of the stored results, else of the file as read.
    pub fn long_run(&self) -> Option<crate::engine::pipeline::estimate::RunEstimate> {
        let doc = self.doc.as_ref()?;
        let n = self
            .output
            .as_ref()
            .map(|o| o.result.customers.height())
            .or_else(|| doc.project.results.as_ref().map(|r| r.n_customers))
            .or_else(|| self.preview.as_ref().map(|p| p.frame.height()))?;
        let estimate = crate::engine::pipeline::estimate::estimate_run(&doc.project.spec, n);
        estimate.is_long.then_some(estimate)
    }

    pub(super) fn start_run(&mut self) {
        let Some(doc) = &self.doc else { return };
        if doc.needs_setup {
            return;
        }
        if doc.project.spec.recipe.features.is_empty() {
            self.report_error("Pick at least one feature on the Features screen, then run.");
            return;
        }
        let spec = doc.project.spec.clone();
        self.running_spec = Some(spec.clone());
        self.rerun_when_done = false;
        // With minimisation on, the columns nothing uses leave the customer table on the job.
        let job = RunJob {
            rules: doc.project.rules.clone(),
            notes: doc.project.segments.clone(),
            used: doc.project.governance.minimise.then(|| crate::engine::project::minimise::used_columns(&doc.project)),
            key: doc.rules_key(),
            resolver: doc.resolver(),
            base_dir: doc.base_dir.clone(),
            cache: self.cache.clone(),
            probe: self.job_probe.clone(),
            spec,
        };
        self.last_error = None;
        self.progress = Some(("starting".to_string(), 0.0));
        // Where a fit on every customer takes long, a fit on a sample is shown first
        // (`pipeline::run_refining`, marked on screen) and replaced when the exact one is done.
        self.runner.start_refining("run", move |ctx, provisional| job.run(ctx, provisional));
    }

    /// Reads the main source again when it changed (or nothing was read yet).
    pub(super) fn maybe_refresh_preview(&mut self) {
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
        self.preview_error = None;
        self.preview_runner.start("preview", move |_ctx| -> Result<_, PipelineError> {
            let (table, ambiguities) = match read_for_preview(&source, &resolver) {
                Ok(read) => read,
                // A file that does not read is an answer, typed, not a failed job: whether the
                // Reading section can fix it decides what the window does with it.
                Err(error) => {
                    let fixable = error.answered_by_reading_options();
                    return Ok(Err(UnreadableSource { error: error.to_string(), fixable }));
                }
            };
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
            let suggestions = crate::engine::data::guesses::suggest(&table.frame, &roles);
            Ok(Ok(Arc::new(SourcePreview {
                source,
                frame: table.frame,
                roles,
                quality,
                histograms,
                warnings: table.warnings,
                suggestions,
                readings: table.readings,
                ambiguities,
            })))
        });
    }

    /// Segments every window of the log over time, off the UI thread.
    pub(super) fn start_over_time(&mut self) {
        let Some(doc) = &self.doc else { return };
        let spec = doc.project.spec.clone();
        let params = doc.project.over_time.clone().unwrap_or_default();
        let resolver = doc.resolver();
        let base_dir = doc.base_dir.clone();
        let (rules, notes) = (doc.project.rules.clone(), doc.project.segments.clone());
        self.over_time_error = None;
        self.over_time_runner.start("over time", move |ctx| -> Result<OverTimeOutput, PipelineError> {
            let with = crate::engine::over_time::WindowRules { rules: Some(&rules), notes: &notes };
            let result = crate::engine::over_time::segments_over_time(&spec, &resolver, &params, with, ctx)?;
            let rules = super::session::over_time_rules_key(&rules, &notes);
            Ok(OverTimeOutput { spec, base_dir, params, rules, result })
        });
    }

    /// Whether segments over time are being computed, and how far.
    pub fn over_time_progress(&self) -> Option<f64> {
        self.over_time_runner.running().map(|_| self.over_time_fraction)
    }

    pub(super) fn drain_jobs(&mut self) {
        for event in self.audit_runner.poll() {
            match event {
                JobEvent::Finished { result, .. } => self.finish_audit_counts(&result),
                JobEvent::Failed { error, .. } => {
                    self.audit_pending.clear();
                    self.report_error(format!("Could not count the customers the change moved: {error}"));
                }
                JobEvent::Progress { .. } | JobEvent::Provisional { .. } | JobEvent::Cancelled { .. } => {}
            }
        }
        for event in self.compare_runner.poll() {
            let state = &mut self.view.compare;
            match event {
                JobEvent::Finished { result, .. } => {
                    state.computing = None;
                    state.computed_for = Some(result.sides.clone());
                    state.result = Some(Ok(result));
                }
                JobEvent::Failed { error, .. } => {
                    state.computed_for = state.computing.take();
                    state.result = Some(Err(error));
                }
                JobEvent::Cancelled { .. } => state.computing = None,
                JobEvent::Progress { .. } | JobEvent::Provisional { .. } => {}
            }
        }
        self.drain_file_jobs();
        self.drain_score_jobs();
        self.drain_monitor_jobs();
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
                JobEvent::Provisional { .. } => {}
            }
        }
        for event in self.preview_runner.poll() {
            let outcome = match event {
                JobEvent::Finished { result, .. } => match &*result {
                    Ok(preview) => Ok(Arc::clone(preview)),
                    Err(unreadable) => Err(unreadable.clone()),
                },
                // The job itself broke (an internal error): nothing the Reading section can fix.
                JobEvent::Failed { error, .. } => Err(UnreadableSource { error, fixable: false }),
                JobEvent::Progress { .. } | JobEvent::Provisional { .. } | JobEvent::Cancelled { .. } => continue,
            };
            match outcome {
                Ok(result) => {
                    let setup = self.doc.as_ref().is_some_and(|d| d.needs_setup);
                    // A new file whose dates read two ways is set up once the user has answered
                    // which (on the Data screen): set up now, the date column would be text.
                    if setup && !result.ambiguities.is_empty() {
                        self.info(format!(
                            "The dates in {} read two ways: answer which on the Data screen.",
                            result.ambiguities.iter().map(|a| format!("'{}'", a.column)).collect::<Vec<_>>().join(", ")
                        ));
                    } else if setup {
                        self.set_up_from_preview(&result);
                    }
                    self.preview = Some(result);
                }
                Err(UnreadableSource { error, fixable }) => {
                    // A data file that cannot be read opens nothing: no empty, unsaved project left
                    // behind waiting for a preview that will never come.
                    // But a file the Data screen's Reading section can read (another text encoding,
                    // malformed rows to skip) stays open, unchanged and so not unsaved, with the error
                    // beside that section; it sets itself up once it reads.
                    let just_opened = self.doc.as_ref().is_some_and(|d| d.needs_setup && d.undo.is_empty());
                    if just_opened && !fixable {
                        self.close_document();
                        self.report_error(format!("Could not open the data file: {error}"));
                    } else {
                        if let Some(doc) = &mut self.doc {
                            if just_opened {
                                doc.saved = Some(doc.state());
                            } else {
                                doc.needs_setup = false;
                            }
                        }
                        self.preview_error = Some(error.clone());
                        self.report_error(error);
                    }
                }
            }
        }
        for event in self.runner.poll() {
            match event {
                JobEvent::Progress { stage, fraction_done, .. } => {
                    let overall = overall_progress(&stage, fraction_done);
                    self.progress = Some((stage, overall));
                }
                // Shown at once; the run goes on to the exact result, which replaces it.
                JobEvent::Provisional { result, .. } => self.finish_run(result),
                JobEvent::Finished { result, .. } => {
                    self.progress = None;
                    self.running_spec = None;
                    self.finish_run(result);
                    if std::mem::take(&mut self.rerun_when_done) {
                        self.start_run();
                    }
                }
                JobEvent::Failed { error, .. } => {
                    self.progress = None;
                    self.running_spec = None;
                    self.rerun_when_done = false;
                    self.report_error(error);
                }
                JobEvent::Cancelled { .. } => {
                    self.progress = None;
                    self.running_spec = None;
                }
            }
        }
    }

    pub(super) fn finish_run(&mut self, output: Arc<RunOutput>) {
        let mut rules_again = false;
        if let Some(doc) = &mut self.doc {
            let result = &output.result;
            // Names not yet tied to a segmentation (a project just opened, an undo) are tied by
            // number to the exact result, never to a provisional one numbered from a sample.
            let names_wait = result.provisional.is_some() && doc.notes_numbered_by.is_none();
            if !names_wait {
                let previous = self.output.as_ref().map(|o| &o.result as &dyn Fitted);
                // Names the run sets by itself leave a saved project saved (but not a project with
                // renames of the user's own that are not saved yet).
                let names_were_saved = doc.saved.as_ref().is_some_and(|s| s.segments == doc.project.segments);
                // The names as they stand on the segmentation shown until now, and those this one had
                // when it was last shown (a return to a setting tried before).
                let returning = match &doc.notes_numbered_by {
                    Some(shown) if *shown != result.assignment_fingerprint => {
                        doc.names_memory.remember(shown, &doc.project.segments);
                        doc.names_memory.recall(&result.assignment_fingerprint).map(<[SegmentNote]>::to_vec)
                    }
                    _ => None,
                };
                let mut names = naming::names_after_run(
                    &mut doc.project.segments,
                    previous,
                    doc.notes_numbered_by.as_deref(),
                    result,
                    output.spec.id_column(),
                );
                // The board and the presentation refer to segments too: they follow the same customers.
                let follow_map = names.carried.as_ref().map(|c| c.map.clone());
                let not_followed = doc.project.follow_segments(
                    follow_map.as_ref(),
                    result.n_segments(),
                    &result.assignment_fingerprint,
                );
                if let Some(remembered) = returning {
                    let mut change = names.carried.take().unwrap_or_default();
                    names.renamed |= naming::restore_names(&mut doc.project.segments, &remembered, result, &mut change);
                    names.carried = Some(change).filter(NamesChange::touched_names);
                }
                if !not_followed.is_empty() {
                    let change = names.carried.get_or_insert_with(NamesChange::default);
                    change.elsewhere.extend(not_followed);
                }
                let renamed = names.renamed;
                // The user's own names moved: that is a change to save (unlike names the run fills in).
                let carried = names.carried.as_ref().is_some_and(NamesChange::touched_names);
                if let Some(change) = names.carried {
                    // Rules put customers in segments by name: with names on other numbers now, they
                    // are applied again (the model's fit is cached, so this is quick).
                    rules_again = change.renumbered() && !doc.project.rules.is_empty();
                    let same_edit = doc.names_change.as_ref().is_some_and(|s| s.undo_depth == doc.undo.len());
                    let worth_showing = change.touched_names()
                        && (change.renumbered() || !change.new_segments.is_empty() || !change.elsewhere.is_empty());
                    if worth_showing && (change.renumbered() || !same_edit) {
                        doc.names_change = Some(NamesChangeShown {
                            change,
                            edit: doc.undo_label().map(str::to_string),
                            undo_depth: doc.undo.len(),
                        });
                    }
                }
                doc.notes_numbered_by = Some(result.assignment_fingerprint.clone());
                if renamed
                    && !carried
                    && names_were_saved
                    && let Some(saved) = &mut doc.saved
                {
                    saved.segments = doc.project.segments.clone();
                }
            }
            doc.fingerprint_warning =
                project::verify::changed_sources(&doc.project.spec, result).first().map(|changed| {
                    format!(
                        "The data differs from the data this project was made with (fingerprint {} stored, {} now): \
                         the results shown are from the data as it is now.",
                        changed.stored.chars().take(12).collect::<String>(),
                        changed.actual.chars().take(12).collect::<String>()
                    )
                });
            if !doc.first_run_checked && result.provisional.is_none() {
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
        // One run number for the sweep the Model screen keeps and the segmentation Compare keeps: a
        // run that remade a kept segmentation is known by that segmentation's number.
        let fingerprint = &output.result.assignment_fingerprint;
        let known = self.segmentations.iter().find(|s| &s.fingerprint == fingerprint).map(|s| s.id);
        let number = known.unwrap_or(self.next_run_id + 1);
        // A provisional result is shown, never kept: the exact one that replaces it is.
        let provisional = output.result.provisional.is_some();
        if output.result.sweep.is_some() && !provisional {
            self.keep_run(output.clone(), number);
        }
        if !provisional && self.keep_segmentation(&output, number) {
            self.next_run_id = number;
        }
        self.output = Some(output);
        // Names moved under the rules: they are applied again, on the names as they now stand (after
        // the exact result, when this one is provisional: its job took the names as they were).
        if rules_again && provisional {
            self.rerun_when_done = true;
        } else if rules_again {
            self.start_run();
        }
    }

    /// The list of what the latest change that re-assigned customers did to the names: what moved,
    /// what was merged, what was left unnamed, with Undo (which undoes that change, restoring the
    /// names and the settings as they were) while it is the latest edit.
    pub(super) fn names_change_ui(&mut self, ctx: &egui::Context) {
        let Some(doc) = &self.doc else { return };
        let Some(shown) = doc.names_change.clone() else { return };
        let undo_label =
            shown.edit.as_deref().filter(|edit| doc.undo.len() == shown.undo_depth && doc.undo_label() == Some(*edit));
        let (mut undo, mut close) = (false, false);
        egui::Window::new("Names after the change")
            .id(egui::Id::unique("names-after-the-change"))
            .anchor(egui::Align2::RIGHT_BOTTOM, [-16.0, -48.0])
            .collapsible(false)
            .resizable(false)
            .show(ctx, |ui| {
                ui.label(
                    egui::RichText::new(
                        "Names and notes follow their customers: a name goes to the segment that holds at least \
                         half of its customers, when they make at least a third of that segment.",
                    )
                    .weak(),
                );
                egui::ScrollArea::vertical().max_height(240.0).show(ui, |ui| {
                    for line in shown.change.lines() {
                        ui.label(line);
                    }
                });
                ui.horizontal(|ui| {
                    if let Some(edit) = undo_label
                        && ui
                            .button("Undo this change")
                            .on_hover_text(format!("Undo \"{edit}\": the names and settings as they were before it"))
                            .clicked()
                    {
                        undo = true;
                    }
                    if ui.button("Close").clicked() {
                        close = true;
                    }
                });
            });
        if undo {
            self.undo_redo(true);
        }
        if (undo || close)
            && let Some(doc) = &mut self.doc
        {
            doc.names_change = None;
        }
    }

    pub(super) fn set_up_from_preview(&mut self, preview: &SourcePreview) {
        let Some(doc) = &mut self.doc else { return };
        doc.needs_setup = false;
        let spec = &mut doc.project.spec;
        let role_of = |role: ColumnRole| preview.roles.iter().find(|r| r.role == role).map(|r| r.column.clone());
        // The customer id is the engine's guess (a log's id has many values with several rows each),
        // never merely the first column whose name mentions a customer.
        let guesses = &preview.suggestions;
        let id = guesses.id.column.clone();
        let date = role_of(ColumnRole::Date);
        let amount = role_of(ColumnRole::Amount);
        let repeats = guesses.id.repeats;
        match (id, date, amount) {
            (Some(id), Some(date), amount) if repeats => {
                // A log without an amount (visits, clicks) is segmented on recency, frequency and
                // tenure; the aggregation says the monetary features are left out.
                let features: &[&str] = if amount.is_some() {
                    &["recency_days", "frequency", "monetary_total"]
                } else {
                    &["recency_days", "frequency", "tenure_days"]
                };
                spec.table = TableKind::TransactionLog(TransactionColumns {
                    customer_id: id,
                    date,
                    amount,
                    as_of: None,
                    negative_amounts: crate::engine::features::NegativeAmounts::Allow,
                    since: None,
                    behaviour: Default::default(),
                    value: None,
                });
                spec.recipe = FeatureRecipe {
                    features: features.iter().map(|c| FeatureSpec { log1p: true, ..FeatureSpec::numeric(c) }).collect(),
                };
            }
            (id, _, _) => {
                // An id that repeats without a date and an amount (one row per customer and season,
                // say): the rows are averaged per customer rather than refused.
                if repeats {
                    spec.duplicate_ids = crate::engine::pipeline::DuplicateIdRule::Aggregate;
                }
                spec.table = TableKind::CustomerTable { no_id: id.is_none(), id_column: id };
                spec.recipe = FeatureRecipe {
                    features: guesses.features.iter().map(|g| FeatureSpec::numeric(&g.column)).collect(),
                };
            }
        }
        let n_columns = preview.frame.width();
        let message = match &spec.table {
            TableKind::TransactionLog(t) => match &t.amount {
                Some(amount) => format!(
                    "Read as a transaction log (customer {}, date {}, amount {amount}); segmenting on recency, frequency and monetary value.",
                    t.customer_id, t.date
                ),
                None => format!(
                    "Read as a transaction log (customer {}, date {}, no amount column); segmenting on recency, frequency and tenure.",
                    t.customer_id, t.date
                ),
            },
            TableKind::CustomerTable { id_column, .. } => {
                let id = match id_column {
                    Some(id) if repeats => format!(" Customer id {id}; its repeated rows are averaged per customer."),
                    Some(id) => format!(" Customer id {id}."),
                    None => format!(" No customer id: {}.", guesses.id.reason),
                };
                format!(
                    "Read as a customer table; {} of {n_columns} columns proposed as features (hover one on the \
                     Features screen for why; \"Select all\" there takes every column).{id}",
                    spec.recipe.features.len()
                )
            }
        };
        self.info(message);
        if self.prefs.auto_run {
            self.start_run();
        }
    }
}

/// An audit log line waiting for the customers its change moved.
#[derive(Clone)]
pub(super) struct AuditCount {
    /// Tells this request from a later one for the same line.
    serial: u64,
    /// Its line in the audit log.
    pub(super) line: usize,
    /// The run the customers are counted on.
    output: Arc<RunOutput>,
    /// Rules and notes before the change.
    before: (BusinessRules, Vec<SegmentNote>),
    /// Rules and notes after it.
    after: (BusinessRules, Vec<SegmentNote>),
}

impl AuditCount {
    /// Customers in another segment after the change than before (applies the rules twice over
    /// every customer: a job's work).
    fn customers_moved(&self) -> usize {
        crate::engine::governance::review::customers_moved(
            &self.output.result,
            &self.output.spec,
            (&self.before.0, &self.before.1),
            (&self.after.0, &self.after.1),
        )
    }
}

/// A stage's fraction as a fraction of the whole run (the sweep is most of it).
fn overall_progress(stage: &str, fraction_done: f64) -> f64 {
    let (start, width) = match stage {
        "load" => (0.0, 0.1),
        "features" => (0.1, 0.05),
        "sweep" => (0.15, 0.65),
        "fit" => (0.8, 0.05),
        // Re-fits on resamples: often the longest stage when asked for.
        "stability" => (0.85, 0.12),
        "summary" => (0.97, 0.03),
        _ => (1.0, 0.0),
    };
    (start + width * fraction_done.clamp(0.0, 1.0)).clamp(0.0, 1.0)
}

/// A data file the Data screen's preview could not read: the error line, and whether choosing how
/// the file is read (the Reading section: text encoding, skipping malformed rows) can fix it.
#[derive(Clone, Debug)]
pub(super) struct UnreadableSource {
    /// What went wrong, as one line.
    pub error: String,
    /// Whether the Reading section's choices can make the file readable.
    pub fixable: bool,
}

/// Reads a source for the Data screen: rows whose date does not parse stay (the screen shows them
/// and the rule the run applies), and a column whose dates read both day-first and month-first is
/// read as text, with the question kept for the screen to ask.
fn read_for_preview(
    source: &crate::engine::pipeline::SourceSpec,
    resolver: &crate::engine::pipeline::SourceResolver,
) -> Result<(crate::engine::data::LoadedTable, Vec<crate::engine::error::DateAmbiguity>), PipelineError> {
    use crate::engine::data::{ReadAs, UnparsedDates};
    use crate::engine::error::DataError;
    let mut lenient = source.clone();
    lenient.read_options.formats.unparsed_dates = UnparsedDates::Fallback;
    let mut ambiguities = Vec::new();
    loop {
        match pipeline::read_source(&lenient, resolver, None) {
            Err(PipelineError::Data(DataError::AmbiguousDates(question)))
                if ambiguities.len() < 100
                    && lenient.read_options.formats.read_as(&question.column) != ReadAs::Text =>
            {
                lenient.read_options.formats.set_column(&question.column, |c| c.read_as = ReadAs::Text);
                ambiguities.push(*question);
            }
            Err(error) => return Err(error),
            Ok(mut table) => {
                table.readings.retain(|r| !ambiguities.iter().any(|a| a.column == r.column));
                // Read leniently here; the sentences say what the run will do.
                let rule = source.read_options.formats.unparsed_dates;
                let sentences = table.readings.iter_mut().map(|r| &mut r.sentence).chain(table.warnings.iter_mut());
                for sentence in sentences {
                    *sentence = sentence.replace(UnparsedDates::Fallback.consequence(), rule.consequence());
                }
                return Ok((table, ambiguities));
            }
        }
    }
}
