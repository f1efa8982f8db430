//! Results out of the window, as jobs: the assignments (the columns `strata run --out` writes, with
//! the names the window shows), the profile table, the k-choice table, the SWOT board's decision list,
//! the report, and charts as PNG (drawn by the engine at a fixed size from the data the screen shows,
//! as `strata chart` and the report draw them); and the path field offered when a file dialog cannot
//! be shown.

use std::path::{Path, PathBuf};

use super::dialogs::{ChartId, DialogPurpose, ExportKind};
use super::{Command, StrataApp};
use crate::engine::data::write_table;
use crate::engine::export::{assignments_as_shown, k_choice_frame, profiles_frame};
use crate::engine::pipeline::override_id_column;

/// The size charts are exported at, in pixels: the same picture whatever the window's size (and
/// what `strata chart` draws by default).
pub const CHART_EXPORT_SIZE: (u32, u32) = (1600, 1000);

/// An export's provenance (`FILE.audit.json`): where it goes and what it says.
pub(super) struct Provenance {
    path: PathBuf,
    text: String,
}

/// A file dialog that could not be shown: why, and the path typed instead.
#[derive(Clone, Debug, PartialEq)]
pub struct PathPrompt {
    /// What the dialog was for.
    pub purpose: DialogPurpose,
    /// Why the dialog could not be shown (one line).
    pub reason: String,
    /// The path as typed.
    pub text: String,
}

impl StrataApp {
    /// The command a chosen path answers `purpose` with.
    pub(super) fn answer_dialog(&mut self, purpose: DialogPurpose, path: PathBuf) {
        let command = match purpose {
            // Open asked about unsaved changes before its dialog: asking again would ask twice.
            DialogPurpose::OpenProject => {
                self.proceed(super::command::Pending::Open(path));
                return;
            }
            DialogPurpose::SaveProjectAs => Command::SaveAs(path),
            DialogPurpose::OpenData => Command::OpenData(path),
            DialogPurpose::LocateSource => Command::LocateSource(path),
            DialogPurpose::ExportBorderline => Command::ExportBorderline(path),
            DialogPurpose::Export(kind) => Command::Export(kind, path),
            DialogPurpose::ScoreData => Command::ScoreNewCustomers(path),
            DialogPurpose::MonitorData => Command::MonitorData { data: path, as_of: self.view.monitor.as_of() },
        };
        self.push(command);
    }

    /// A dialog could not be shown: say so once and offer a path field instead.
    pub(super) fn dialog_failed(&mut self, purpose: DialogPurpose, reason: String, suggested: Option<String>) {
        let start =
            self.doc.as_ref().map(|d| d.base_dir.clone()).or_else(|| std::env::current_dir().ok()).unwrap_or_default();
        let text = match suggested {
            Some(name) if purpose.is_save() => start.join(name).display().to_string(),
            _ => format!("{}{}", start.display(), std::path::MAIN_SEPARATOR),
        };
        self.path_prompt = Some(PathPrompt { purpose, reason, text });
    }

    /// Writes `kind` to `path` on the export job.
    pub(super) fn export(&mut self, kind: ExportKind, path: &Path) {
        let Some(out) = self.output.clone() else {
            self.report_error("There is nothing to export yet: run a segmentation first.");
            return;
        };
        let path = path.to_path_buf();
        let allowed = kind.formats();
        let extension = path.extension().map(|e| e.to_string_lossy().to_lowercase()).unwrap_or_default();
        if !allowed.iter().any(|(_, e)| *e == extension) {
            let list: Vec<&str> = allowed.iter().map(|(_, e)| *e).collect();
            self.report_error(format!(
                "{}: the file must end in .{} ({})",
                kind.title(),
                list.join(", ."),
                path.display()
            ));
            return;
        }
        if matches!(kind, ExportKind::DecisionList) && self.board().strategies.is_empty() {
            self.report_error("There is no strategy to export: add one in the TOWS view of the SWOT board first.");
            return;
        }
        let Some(provenance) = self.export_gate(kind.title(), &path) else { return };
        let names: Vec<String> = (0..out.result.n_segments()).map(|s| self.segment_name_in(&out.result, s)).collect();
        let id_column =
            self.doc.as_ref().and_then(|d| override_id_column(&d.project.spec, &out.result).map(str::to_string));
        let small_cells = self.small_cells();
        let opt_outs = self.doc.as_ref().map(|d| d.project.governance.opt_outs.clone()).unwrap_or_default();
        match kind {
            ExportKind::Report => self.export_report(out, path, provenance),
            ExportKind::Scores => self.export_scores(&path, provenance),
            ExportKind::Chart(chart) => self.export_chart(chart, out, names, path, provenance),
            ExportKind::DecisionList => self.export_decision_list(path, names, provenance),
            ExportKind::Assignments | ExportKind::Profiles | ExportKind::KChoice => {
                self.start_export(provenance, move || -> Result<super::files::Exported, String> {
                    let name = |s: usize| names.get(s).cloned().unwrap_or_else(|| out.result.default_segment_name(s));
                    let (frame, what) = match kind {
                        ExportKind::Assignments => (
                            assignments_as_shown(&out.result, id_column.as_deref(), &name).and_then(|mut f| {
                                let n = f.height();
                                let opted = crate::engine::governance::review::mark_opted_out(
                                    &mut f,
                                    id_column.as_deref(),
                                    &opt_outs,
                                )?;
                                let opted = if opted > 0 {
                                    format!(" ({} marked opted_out)", crate::app::widgets::format_count(opted))
                                } else {
                                    String::new()
                                };
                                Ok((
                                    f,
                                    format!("assignments of {} customers{opted}", crate::app::widgets::format_count(n)),
                                ))
                            }),
                            "the assignments",
                        ),
                        ExportKind::Profiles => (
                            profiles_frame(&out.summary, small_cells, &name)
                                .map(|f| (f, "segment profiles".to_string())),
                            "the profiles",
                        ),
                        _ => match &out.result.sweep {
                            Some(sweep) => (
                                k_choice_frame(sweep, &out.result.k_stability, small_cells)
                                    .map(|f| (f, "k-choice table".to_string())),
                                "the k-choice table",
                            ),
                            None => {
                                return Err("Could not export the k-choice table: this run tried one k only.".into());
                            }
                        },
                    };
                    let (mut frame, message) = frame.map_err(|e| format!("Could not export {what}: {e}"))?;
                    write_table(&mut frame, &path).map_err(|e| format!("Could not export {what}: {e}"))?;
                    Ok(super::files::Exported { message: format!("{message} written to {}", path.display()) })
                });
            }
        }
    }

    /// Before an export: refused (an error shown) when the project blocks exports of unsigned
    /// versions; otherwise the export is logged and its provenance (the audit head and count, the
    /// version and its sign-off) returned, to be written beside the file as `FILE.audit.json` once
    /// the file itself is written ([`Self::start_export`]). `None` when the export must not go on.
    pub(super) fn export_gate(&mut self, kind: &str, path: &Path) -> Option<Provenance> {
        // What is exported is what the project stands for: never the fit on a sample shown while
        // the exact one is computed.
        if let Some(fit) = self.output.as_ref().and_then(|o| o.result.provisional) {
            let when = if self.progress.is_some() {
                "export once the exact fit on every customer has replaced them"
            } else {
                "press Run (F5) for the exact fit on every customer, then export"
            };
            self.report_error(format!(
                "Not exported: the segments shown are provisional (fitted on a sample of {} customers); {when}.",
                crate::engine::words::thousands(fit.sample_size)
            ));
            return None;
        }
        let actor = self.audit_name();
        let version = self.version_hash().unwrap_or_default();
        let doc = self.doc.as_mut()?;
        let file = path.display().to_string();
        match crate::engine::governance::review::before_export(&mut doc.project, &version, &actor, kind, &file) {
            Err(why) => {
                self.report_error(format!("Not exported: {why}"));
                None
            }
            Ok((provenance, warning)) => {
                if let Some(w) = warning {
                    self.info(format!("Exported unsigned: {w}"));
                }
                let text = serde_json::to_string_pretty(&provenance).unwrap_or_default();
                Some(Provenance { path: crate::engine::governance::review::provenance_path(path), text })
            }
        }
    }

    /// Runs `write` on the export job and, once it has written its file, the export's provenance
    /// beside it: a failed export leaves no provenance claiming a file that is not there.
    pub(super) fn start_export(
        &mut self,
        provenance: Provenance,
        write: impl FnOnce() -> Result<super::files::Exported, String> + Send + 'static,
    ) {
        self.export_runner.start("export", move |_ctx| -> Result<super::files::Exported, String> {
            let mut done = write()?;
            crate::engine::project::save_atomically(&provenance.path, provenance.text.as_bytes()).map_err(|e| {
                format!("{}, but not its provenance ({e}): {}", done.message, provenance.path.display())
            })?;
            done.message.push_str(" (provenance beside it, .audit.json)");
            Ok(done)
        });
    }

    /// Writes the HTML report of the run shown (as `strata report` writes it) on the export job.
    fn export_report(&mut self, out: std::sync::Arc<super::session::RunOutput>, path: PathBuf, provenance: Provenance) {
        let Some(doc) = self.doc.as_ref() else {
            self.report_error("There is no project to report on.");
            return;
        };
        let mut project = doc.project.clone();
        // The spec of the run shown, which is what the report's numbers come from.
        project.spec = out.spec.clone();
        let title = doc
            .path
            .as_ref()
            .and_then(|p| p.file_stem())
            .map_or_else(|| "Strata project".to_string(), |s| s.to_string_lossy().to_string());
        let over_time =
            self.over_time.clone().filter(|o| o.spec.model == out.spec.model && o.spec.recipe == out.spec.recipe);
        self.start_export(provenance, move || -> Result<super::files::Exported, String> {
            let written = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string();
            let inputs = crate::engine::report::ReportInputs {
                title: &title,
                written: &written,
                project: &project,
                result: &out.result,
                summary: &out.summary,
                over_time: over_time.as_ref().map(|o| &o.result),
            };
            let html = crate::engine::report::html(&inputs).map_err(|e| format!("Could not write the report: {e}"))?;
            std::fs::write(&path, &html)
                .map_err(|e| format!("Could not write the report ({e}): {}", path.display()))?;
            Ok(super::files::Exported {
                message: format!(
                    "Report ({} bytes) written to {}",
                    crate::engine::words::thousands(html.len()),
                    path.display()
                ),
            })
        });
    }

    /// Draws `chart` as the engine draws it for `strata chart` and the report, at
    /// [`CHART_EXPORT_SIZE`] whatever the window's size, from what its screen shows (the compared
    /// segmentations, the transition chosen), on the export job.
    fn export_chart(
        &mut self,
        chart: ChartId,
        out: std::sync::Arc<super::session::RunOutput>,
        names: Vec<String>,
        path: PathBuf,
        provenance: Provenance,
    ) {
        let colours = self.segment_colours_in(&out.result).engine().clone();
        // The windows over time, named and coloured as the Over time screen shows them.
        let over_time = self.over_time.clone().map(|o| {
            let (window_names, window_colours) = self.over_time_segments(&o);
            (o, window_names, window_colours.engine().clone())
        });
        let transition = self.shown_transition();
        let comparison = self.shown_comparison();
        let small_cells = self.small_cells();
        let name = chart.label();
        self.start_export(provenance, move || -> Result<super::files::Exported, String> {
            use crate::engine::chart;
            let inputs = chart::ChartInputs {
                result: &out.result,
                summary: Some(&out.summary),
                names: &names,
                colours: &colours,
                over_time: over_time.as_ref().map(|(o, n, c)| (&o.result, &n[..], c)),
                transition,
                comparison: comparison.as_ref(),
                small_cells,
            };
            let (width, height) = CHART_EXPORT_SIZE;
            let drawn = chart::build(name, &inputs).and_then(|c| chart::render_png(&c, width, height));
            let bytes = drawn.map_err(|e| format!("Could not export the chart: {e}"))?;
            std::fs::write(&path, bytes)
                .map_err(|e| format!("Could not export the chart ({e}): {}", path.display()))?;
            Ok(super::files::Exported {
                message: format!("Chart ({width} x {height} pixels) written to {}", path.display()),
            })
        });
    }

    /// Writes the TOWS strategies as a decision list (CSV) to `path` on the export job; segments are
    /// named by `names` (the names the window shows).
    fn export_decision_list(&mut self, path: PathBuf, names: Vec<String>, provenance: Provenance) {
        let board = self.board();
        let name = move |s: usize| names.get(s).cloned().unwrap_or_else(|| format!("Segment {}", s + 1));
        let text =
            crate::engine::swot::decisions::decisions_csv(&crate::engine::swot::decisions::decisions(&board, &name));
        let n = board.strategies.len();
        self.start_export(provenance, move || -> Result<super::files::Exported, String> {
            std::fs::write(&path, text)
                .map_err(|e| format!("Could not export the decision list: {e} ({})", path.display()))?;
            let what = if n == 1 { "1 strategy".to_string() } else { format!("{n} strategies") };
            Ok(super::files::Exported { message: format!("Decision list of {what} written to {}", path.display()) })
        });
    }
}
