//! Opening, saving and exporting: the project file, a data file, the demo, and the borderline
//! customers.

use std::path::{Path, PathBuf};

use super::document::missing_source;
use super::{Document, Screen, StrataApp, screens, widgets};
use crate::engine::features::FeatureRecipe;
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

    pub(super) fn open_project(&mut self, path: &Path) {
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

    pub(super) fn close_document(&mut self) {
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

    pub(super) fn save_to(&mut self, path: &Path) {
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
        // Every data path is stored relative to the new file's folder where it can be.
        let new_base = paths::project_folder(path);
        paths::rebase_sources(&mut project.spec, &doc.base_dir, &new_base);
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

    /// Writes the latest result's borderline customers to `path` (.csv or .parquet).
    pub(super) fn export_borderline(&mut self, path: &Path) {
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
}
