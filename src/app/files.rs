//! Opening, saving and exporting: the project file, a data file, the demo, and the borderline
//! customers.

use std::path::{Path, PathBuf};

use super::document::missing_source;
use super::{Document, Screen, StrataApp, screens, widgets};
use crate::engine::features::FeatureRecipe;
use crate::engine::jobs::JobEvent;
use crate::engine::pipeline::{Algorithm, DataSource, ModelSpec, PipelineSpec, SourceSpec, TableKind};
use crate::engine::project::{self, Project, StoredResults, paths};

impl StrataApp {
    pub(super) fn open_demo(&mut self) {
        match project::parse(crate::engine::DEMO_PROJECT) {
            Ok(opened) => {
                let base_dir = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
                self.set_document(Document::new(opened.project, None, base_dir, true));
            }
            Err(e) => self.report_error(format!("The built-in demo project could not be read (a bug): {e}")),
        }
    }

    /// Reads the project file at `path` on a job; [`Self::drain_file_jobs`] opens it.
    pub(super) fn open_project(&mut self, path: &Path) {
        let path = path.to_path_buf();
        self.open_runner.start("open", move |_ctx| -> Result<Opened, String> {
            use crate::engine::governance::pack;
            // A review pack is unpacked (every file checked against its manifest) and opened for
            // review from there; re-running checks the data's own fingerprints.
            let (path, packed) = if pack::is_pack(&path) {
                let folder = pack::unpack_folder(&path);
                (pack::unpack(&path, &folder).map_err(|e| format!("{}: {e}", path.display()))?, true)
            } else {
                (path, false)
            };
            let opened = project::open(&path).map_err(|e| e.to_string())?;
            Ok(Opened { path, packed, opened: std::sync::Mutex::new(Some(opened)) })
        });
    }

    /// Opens a project file read by [`Self::open_project`].
    fn finish_open(&mut self, read: &Opened) {
        let taken = read.opened.lock().map(|mut o| o.take()).unwrap_or_else(|poisoned| poisoned.into_inner().take());
        let Some(opened) = taken else { return };
        let path = &read.path;
        let base_dir = paths::project_folder(path);
        let mut doc = Document::new(opened.project, Some(path.clone()), base_dir, false);
        doc.banner = opened.banner;
        doc.read_only = opened.read_only;
        doc.review = std::mem::take(&mut self.review_next_open) || read.packed;
        if read.packed {
            doc.banner = Some(match doc.banner.take() {
                Some(b) => format!("Opened from a review pack: every file matched the pack's manifest. {b}"),
                None => "Opened from a review pack: every file matched the pack's manifest.".to_string(),
            });
        }
        if doc.review {
            doc.banner = Some(match doc.banner.take() {
                Some(b) => format!("Open for review: read-only. {b}"),
                None => "Open for review: read-only. Nothing that changes the segmentation can be done; comments, \
                         sign-off, disputes and opt-outs are on the Review screen (Ctrl+0)."
                    .to_string(),
            });
        }
        self.prefs.remember_project(path);
        let review = doc.review;
        self.set_document(doc);
        if review {
            self.screen = Screen::Review;
        }
    }

    pub(super) fn close_document(&mut self) {
        self.runner.cancel();
        self.preview_runner.cancel();
        self.over_time_runner.cancel();
        self.compare_runner.cancel();
        self.audit_runner.cancel();
        self.audit_pending.clear();
        self.export_runner.cancel();
        self.score_runner.cancel();
        self.scored = None;
        self.monitor_runner.cancel();
        self.diff_runner.cancel();
        self.version_diff = None;
        // A file still being read or written belongs to the document closed: its answer must not
        // land on the next one.
        self.open_runner.cancel();
        self.save_runner.cancel();
        self.over_time = None;
        self.over_time_error = None;
        self.doc = None;
        self.output = None;
        self.runs.clear();
        self.view = screens::ViewState::default();
        // A show, its changes and its selection belong to the project closed.
        self.present.close_project();
        self.preview = None;
        self.preview_error = None;
        self.progress = None;
        // Kept segmentations belong to the project closed: another project's cannot be compared.
        self.segmentations.clear();
        self.next_run_id = 0;
        self.screen = Screen::Data;
    }

    pub(super) fn set_document(&mut self, mut doc: Document) {
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

    pub(super) fn open_data(&mut self, path: &Path) {
        let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
        let spec = PipelineSpec {
            source: SourceSpec {
                source: DataSource::File(crate::engine::project::paths::with_slashes(path)),
                read_options: Default::default(),
                fingerprint: None,
            },
            table: TableKind::CustomerTable { id_column: None, no_id: false },
            attributes: None,
            attributes_key: None,
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
            derived: Default::default(),
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

    pub(super) fn locate_source(&mut self, path: &Path) {
        let Some(doc) = &mut self.doc else { return };
        doc.allow_outside = true;
        let mut spec = doc.project.spec.clone();
        spec.source.source = DataSource::File(paths::relative_to(path, &doc.base_dir));
        self.edit("locate the data file", |state| state.spec = spec);
        if let Some(doc) = &mut self.doc {
            doc.missing_source = missing_source(doc);
        }
        if !self.prefs.auto_run {
            self.start_run();
        }
        self.maybe_refresh_preview();
    }

    /// Writes the project to `path` on a job (with its results and kept segmentations, encoded
    /// there: they grow with the customers); [`Self::finish_save`] takes the saved project in.
    pub(super) fn save_to(&mut self, path: &Path) {
        let output = self.output.clone();
        let kept = self.kept_to_save(output.as_deref().map(|o| &o.result));
        let actor = self.audit_name();
        let Some(doc) = &mut self.doc else { return };
        let mut project = doc.project.clone();
        let state = doc.state();
        let audit_at_start = project.audit.len();
        // Results and fingerprints are stored only when they belong to the spec being saved.
        let output = output.filter(|out| out.is_for(doc));
        if let Some(out) = &output {
            crate::engine::project::verify::store_fingerprints(&mut project.spec, &out.result);
        }
        // Every data path is stored relative to the new file's folder where it can be.
        let old_base = doc.base_dir.clone();
        let new_base = paths::project_folder(path);
        paths::rebase_project(&mut project, &old_base, &new_base);
        let path = path.to_path_buf();
        self.save_runner.start("save", move |_ctx| -> Result<Saved, String> {
            project.results = output.as_deref().map(|out| StoredResults::from_result(&out.result));
            project.kept = kept.into_iter().map(|k| k.record()).collect();
            crate::engine::governance::audit::save(&mut project, &path, &actor).map_err(|e| e.to_string())?;
            Ok(Saved { path, project, state, audit_at_start, old_base, new_base })
        });
    }

    /// Takes in a project [`Self::save_to`] wrote.
    fn finish_save(&mut self, saved: &Saved) {
        let Some(doc) = &mut self.doc else { return };
        let path = &saved.path;
        // What was logged while the file was written (a comment, an export) is not in it yet.
        let later = doc.project.audit.split_off(saved.audit_at_start.min(doc.project.audit.len()));
        if doc.state() == saved.state {
            // A version published or a period monitored while it was written is kept (its audit
            // line is among the later ones, so the project stays unsaved).
            let (versions, monitor) = (doc.project.versions.clone(), doc.project.monitor.clone());
            doc.project = saved.project.clone();
            doc.project.audit.extend(later);
            if versions != doc.project.versions {
                let in_file = doc.project.versions.next_number();
                doc.project.versions = versions;
                for version in doc.project.versions.published.iter_mut().filter(|v| v.number >= in_file) {
                    paths::rebase_sources(&mut version.spec, &saved.old_base, &saved.new_base);
                }
            }
            doc.project.monitor = monitor;
        } else {
            // Edited while it was written: keep the edits, with the paths as the new file stores them.
            paths::rebase_project(&mut doc.project, &saved.old_base, &saved.new_base);
            // The log as sealed in the file, then what was logged while it was written.
            doc.project.audit = saved.project.audit.clone();
            doc.project.audit.extend(later);
        }
        doc.path = Some(path.clone());
        doc.base_dir = saved.new_base.clone();
        doc.is_demo = false;
        doc.read_only = false;
        doc.saved = Some(crate::app::DocState::of(&saved.project));
        doc.audit_saved = saved.project.audit.len();
        doc.merge_key = None;
        self.prefs.remember_project(path);
        self.info(format!("Saved to {}", path.display()));
        if let Some(next) = self.after_save.take() {
            self.proceed(next);
        }
    }

    /// Writes the latest result's borderline customers to `path` (.csv or .parquet), on a job.
    pub(super) fn export_borderline(&mut self, path: &Path) {
        let Some(out) = self.output.clone() else { return };
        if out.summary.overlap.is_none() {
            self.report_error("There is no overlap to export: the segmentation has one segment.".to_string());
            return;
        }
        let Some(provenance) = self.export_gate("borderline customers", path) else { return };
        let names: Vec<String> = (0..out.result.n_segments()).map(|s| self.segment_name_in(&out.result, s)).collect();
        let path = path.to_path_buf();
        self.start_export(provenance, move || -> Result<Exported, String> {
            let failed = |e: String| format!("Could not export the borderline customers: {e}");
            let Some(overlap) = &out.summary.overlap else { return Err(failed("there is no overlap".into())) };
            let name = |s: usize| names.get(s).cloned().unwrap_or_else(|| out.result.default_segment_name(s));
            let n_customers =
                crate::engine::profile::overlap::borderline_frame(&out.result, overlap, out.spec.id_column(), &name)
                    .and_then(|mut frame| {
                        crate::engine::data::write_table(&mut frame, &path)?;
                        Ok(frame.height())
                    })
                    .map_err(|e| failed(e.to_string()))?;
            Ok(Exported {
                message: format!(
                    "{} borderline customers written to {}",
                    widgets::format_count(n_customers),
                    path.display()
                ),
            })
        });
    }

    /// Takes in what the file jobs (open, save, export) sent back.
    pub(super) fn drain_file_jobs(&mut self) {
        for event in self.open_runner.poll() {
            match event {
                JobEvent::Finished { result, .. } => self.finish_open(&result),
                JobEvent::Failed { error, .. } => self.report_error(error),
                JobEvent::Progress { .. } | JobEvent::Provisional { .. } | JobEvent::Cancelled { .. } => {}
            }
        }
        for event in self.save_runner.poll() {
            match event {
                JobEvent::Finished { result, .. } => self.finish_save(&result),
                JobEvent::Failed { error, .. } => {
                    self.after_save = None;
                    self.report_error(error);
                }
                JobEvent::Progress { .. } | JobEvent::Provisional { .. } | JobEvent::Cancelled { .. } => {}
            }
        }
        for event in self.export_runner.poll() {
            match event {
                JobEvent::Finished { result, .. } => self.info(result.message.clone()),
                JobEvent::Failed { error, .. } => self.report_error(error),
                JobEvent::Progress { .. } | JobEvent::Provisional { .. } | JobEvent::Cancelled { .. } => {}
            }
        }
    }

    /// Whether a project file is being read or written.
    pub fn file_busy(&self) -> Option<&str> {
        [self.open_runner.running(), self.save_runner.running(), self.export_runner.running()]
            .into_iter()
            .flatten()
            .map(|(_, name)| name)
            .next()
    }
}

/// A project file read on a job (taken once by the window).
pub(super) struct Opened {
    path: PathBuf,
    /// Unpacked from a review pack.
    packed: bool,
    opened: std::sync::Mutex<Option<project::OpenedProject>>,
}

/// A project written on a job, as written.
pub(super) struct Saved {
    path: PathBuf,
    project: Project,
    /// The document's state when the save started.
    state: crate::app::DocState,
    /// Entries in the audit log when the save started (later ones are not in the file yet).
    audit_at_start: usize,
    old_base: PathBuf,
    new_base: PathBuf,
}

/// A table or chart written on a job: what was written where, in words.
pub(super) struct Exported {
    pub(super) message: String,
}
