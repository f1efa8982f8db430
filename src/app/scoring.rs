//! File > Score new customers...: a file of new customers scored as the project scores its own
//! (the same scoring as `strata score`: recipe, model, business rules with the fitted customers'
//! percentiles, overrides, fallback), on a job; the scoring report in a window beside the fitted
//! population, and the scores saved as an export (CSV, Parquet, Excel) with their provenance.

use std::path::Path;
use std::sync::Arc;

use eframe::egui;

use super::dialogs::ExportKind;
use super::{Command, StrataApp};
use crate::engine::pipeline::SourceResolver;
use crate::engine::scoring::{self, ScoringReport};

/// New customers scored, as the window shows and saves them.
pub struct ScoredCustomers {
    /// The file they came from.
    pub data: std::path::PathBuf,
    /// What the scoring did, beside the fitted customers.
    pub report: ScoringReport,
    /// How the model assigns.
    pub method: String,
    /// One row per customer: the columns `strata score --out` writes (and `opted_out` when the
    /// project has opt-outs).
    pub frame: polars::prelude::DataFrame,
    /// What reading the file, the recipe and the rules said about the new data.
    pub warnings: Vec<String>,
}

impl StrataApp {
    /// Scores the customers of `data` with the segmentation shown, on the scoring job.
    pub(super) fn score_new_customers(&mut self, data: &Path) {
        let (Some(out), Some(doc)) = (self.output.clone(), self.doc.as_ref()) else {
            self.report_error("There is nothing to score with yet: run a segmentation first.");
            return;
        };
        if out.result.provisional.is_some() {
            self.report_error(
                "Not scored: the segments shown are provisional (fitted on a sample); score once the exact fit on \
                 every customer has replaced them.",
            );
            return;
        }
        let rules = doc.project.rules.clone();
        let notes = doc.project.segments.clone();
        let opt_outs = doc.project.governance.opt_outs.clone();
        let project_files = doc.resolver();
        let data = data.to_path_buf();
        let read_options = super::monitor::same_kind_options(&out.spec, &data);
        self.scored = None;
        self.score_runner.start("score new customers", move |_ctx| -> Result<ScoredCustomers, String> {
            let failed = |e: String| format!("Could not score the customers of {}: {e}", data.display());
            let spec = scoring::batch::spec_for_new_data(&out.spec, &data, read_options, &project_files)
                .map_err(|e| failed(e.to_string()))?;
            let table =
                crate::engine::pipeline::build_customer_table(&spec, &SourceResolver::user_chosen(&out.base_dir))
                    .map_err(|e| failed(e.to_string()))?;
            let id = spec.id_column();
            let scored =
                scoring::score(&out.result, &rules, &notes, id, &table.frame).map_err(|e| failed(e.to_string()))?;
            let report = ScoringReport::of(&scored, &out.result);
            let mut frame =
                scoring::batch::scored_frame(&scored, &table.frame, id).map_err(|e| failed(e.to_string()))?;
            if id.is_some() {
                crate::engine::governance::review::mark_opted_out(&mut frame, id, &opt_outs)
                    .map_err(|e| failed(e.to_string()))?;
            }
            let mut warnings = table.warnings.clone();
            warnings.extend(scored.warnings.iter().cloned());
            Ok(ScoredCustomers { data, report, method: out.result.fit.model.describe().to_string(), frame, warnings })
        });
    }

    /// Writes the scored customers to `path` on the export job, with their provenance.
    pub(super) fn export_scores(&mut self, path: &Path, provenance: super::exports::Provenance) {
        let Some(scored) = self.scored.clone() else {
            self.report_error("There are no scored customers to save: use File > Score new customers... first.");
            return;
        };
        let path = path.to_path_buf();
        self.start_export(provenance, move || -> Result<super::files::Exported, String> {
            let mut frame = scored.frame.clone();
            crate::engine::data::write_table(&mut frame, &path)
                .map_err(|e| format!("Could not save the scores: {e}"))?;
            Ok(super::files::Exported {
                message: format!(
                    "scores of {} new customers written to {}",
                    super::widgets::format_count(frame.height()),
                    path.display()
                ),
            })
        });
    }

    /// Whether new customers are being scored.
    pub fn scoring_busy(&self) -> bool {
        self.score_runner.running().is_some()
    }

    /// The new customers scored last (until the window is closed).
    pub fn scored_customers(&self) -> Option<&ScoredCustomers> {
        self.scored.as_deref()
    }

    pub(super) fn drain_score_jobs(&mut self) {
        for event in self.score_runner.poll() {
            match event {
                crate::engine::jobs::JobEvent::Finished { result, .. } => {
                    self.info(format!("{} new customers scored", super::widgets::format_count(result.report.n)));
                    self.scored = Some(Arc::clone(&result));
                }
                crate::engine::jobs::JobEvent::Failed { error, .. } => self.report_error(error),
                crate::engine::jobs::JobEvent::Progress { .. }
                | crate::engine::jobs::JobEvent::Provisional { .. }
                | crate::engine::jobs::JobEvent::Cancelled { .. } => {}
            }
        }
    }
}

/// The scoring report of the new customers scored last, in a window: per segment the customers
/// scored and their share beside the fitted customers' share, customers per reason code,
/// near-ties, customers beyond the fitted data and customers the rules moved; "Save scores..."
/// exports them.
pub(super) fn scored_window_ui(ctx: &egui::Context, app: &mut StrataApp) {
    let Some(scored) = app.scored.clone() else { return };
    let small_cells = app.small_cells();
    let report = &scored.report;
    let counts: Vec<usize> = report.segments.iter().map(|s| s.1).collect();
    let fitted: Vec<usize> = report.segments.iter().map(|s| s.2).collect();
    let sizes = crate::engine::governance::suppress::Sizes::new(&counts, small_cells);
    let fitted_sizes = crate::engine::governance::suppress::Sizes::new(&fitted, small_cells);
    let share = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| format!("{:.1}%", v * 100.0));
    let mut open = true;
    egui::Window::new("Scored new customers").open(&mut open).default_width(560.0).show(ctx, |ui| {
        let file = scored.data.file_name().map_or_else(|| scored.data.display().to_string(), |f| f.to_string_lossy().into());
        ui.label(format!("{} customers from {file}, scored by {}", sizes.total_words(), scored.method));
        ui.label(
            egui::RichText::new(
                "As the project scores its own: the recipe with its fitted values, the model, the business rules with \
                 the fitted customers' percentiles, the overrides, and the fallback for customers that cannot be placed.",
            )
            .weak(),
        );
        ui.add_space(6.0);
        egui::Grid::new("scored-segments").striped(true).num_columns(4).show(ui, |ui| {
            ui.strong("Segment");
            ui.strong("Scored");
            ui.strong("Share");
            ui.strong("Share of the fitted");
            ui.end_row();
            for (s, (name, _, _)) in report.segments.iter().enumerate() {
                ui.label(format!("{}  {name}", s + 1));
                ui.label(sizes.words(s));
                ui.label(share(sizes.share(s)));
                ui.label(share(fitted_sizes.share(s)));
                ui.end_row();
            }
        });
        ui.add_space(6.0);
        if report.reasons.is_empty() {
            ui.label("Every customer had every feature, in the fitted range and with categories the fit knew.");
        }
        for (reason, n) in &report.reasons {
            let what = match reason {
                scoring::Reason::MissingFeature => "a feature had no value (imputed, or the fallback)",
                scoring::Reason::UnseenCategory => "a category the fitted customers never had",
                scoring::Reason::OutsideFittedRange => "a number outside the fitted customers' range",
            };
            ui.label(format!(
                "{}: {} ({what})",
                reason.code(),
                crate::engine::governance::suppress::count_words(*n, small_cells)
            ));
        }
        ui.label(format!(
            "{} near-ties, {} beyond the fitted data, {} moved by rules or overrides",
            super::widgets::format_count(report.near_ties),
            super::widgets::format_count(report.beyond_fitted),
            super::widgets::format_count(report.changed)
        ));
        if !scored.warnings.is_empty() {
            egui::CollapsingHeader::new(format!("Warnings ({})", scored.warnings.len())).show(ui, |ui| {
                for line in crate::engine::warnings::summarise(&scored.warnings) {
                    ui.label(crate::app::words::for_window(&line));
                }
            });
        }
        ui.add_space(6.0);
        ui.horizontal(|ui| {
            if ui
                .button("Save scores...")
                .on_hover_text("Every new customer with its segment, how it got it, the margin and the flags (CSV, Parquet, Excel)")
                .clicked()
            {
                app.push(Command::ExportDialog(ExportKind::Scores));
            }
        });
    });
    if !open {
        app.scored = None;
    }
}
