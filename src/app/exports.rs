//! Results out of the window, as jobs: the assignments (the columns `strata run --out` writes, with
//! the names the window shows), the profile table, the k-choice table and charts as PNG (drawn by
//! the engine at a fixed size, as `strata chart` and the report draw them; a chart the engine does
//! not draw yet is cut out of a screenshot); and the path field offered when a file dialog cannot
//! be shown.

use std::path::{Path, PathBuf};

use eframe::egui;

use super::dialogs::{ChartId, DialogPurpose, ExportKind};
use super::{Command, StrataApp};
use crate::engine::data::write_table;
use crate::engine::export::{assignments_as_shown, k_choice_frame, profiles_frame};
use crate::engine::pipeline::override_id_column;

/// The size charts are exported at, in pixels: the same picture whatever the window's size (and
/// what `strata chart` draws by default).
pub const CHART_EXPORT_SIZE: (u32, u32) = (1600, 1000);

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

/// A chart waiting for the window's screenshot to be cut out and written.
#[derive(Clone, Debug)]
pub(super) struct PendingChart {
    pub(super) chart: ChartId,
    pub(super) path: PathBuf,
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
        let names: Vec<String> = (0..out.result.n_segments()).map(|s| self.segment_name_in(&out.result, s)).collect();
        let id_column =
            self.doc.as_ref().and_then(|d| override_id_column(&d.project.spec, &out.result).map(str::to_string));
        match kind {
            ExportKind::Report => self.export_report(out, path),
            ExportKind::Chart(chart) if chart.engine_chart().is_some() => {
                self.export_engine_chart(chart, out, names, path);
            }
            ExportKind::Chart(chart) => {
                if self.view.chart_rect(chart).is_none() {
                    self.report_error(format!(
                        "The {} chart is not on the screen: show it, then export it.",
                        chart.label()
                    ));
                    return;
                }
                self.pending_chart = Some(PendingChart { chart, path });
                self.wanted_screenshot = true;
            }
            ExportKind::DecisionList => self.export_decision_list(path, names),
            ExportKind::Assignments | ExportKind::Profiles | ExportKind::KChoice => {
                self.export_runner.start("export", move |_ctx| -> Result<super::files::Exported, String> {
                    let name = |s: usize| names.get(s).cloned().unwrap_or_else(|| out.result.default_segment_name(s));
                    let (frame, what) = match kind {
                        ExportKind::Assignments => (
                            assignments_as_shown(&out.result, id_column.as_deref(), &name).map(|f| {
                                let n = f.height();
                                (f, format!("assignments of {} customers", crate::app::widgets::format_count(n)))
                            }),
                            "the assignments",
                        ),
                        ExportKind::Profiles => {
                            let everyone = out.result.matrix.kept_rows.len() + out.result.matrix.fallback_rows.len();
                            (
                                profiles_frame(&out.summary, everyone, &name)
                                    .map(|f| (f, "segment profiles".to_string())),
                                "the profiles",
                            )
                        }
                        _ => match &out.result.sweep {
                            Some(sweep) => (
                                k_choice_frame(sweep, &out.result.k_stability)
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

    /// Writes the HTML report of the run shown (as `strata report` writes it) on the export job.
    fn export_report(&mut self, out: std::sync::Arc<super::session::RunOutput>, path: PathBuf) {
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
        self.export_runner.start("export", move |_ctx| -> Result<super::files::Exported, String> {
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
    /// [`CHART_EXPORT_SIZE`] whatever the window's size, on the export job.
    fn export_engine_chart(
        &mut self,
        chart: ChartId,
        out: std::sync::Arc<super::session::RunOutput>,
        names: Vec<String>,
        path: PathBuf,
    ) {
        let Some(name) = chart.engine_chart() else { return };
        let notes = self.doc.as_ref().map(|d| d.project.segments.clone()).unwrap_or_default();
        let colours = crate::engine::chart::SegmentColours::new(&notes, out.result.fit.k());
        // The windows over time, named and coloured as the Over time screen shows them.
        let over_time = self.over_time.clone().map(|o| {
            let same_model = o.spec.model == out.spec.model && o.spec.recipe == out.spec.recipe;
            let window_names: Vec<String> = o
                .result
                .names
                .iter()
                .enumerate()
                .map(|(s, default)| {
                    if same_model && s < o.result.n_last {
                        self.segment_name_in(&out.result, s)
                    } else {
                        default.clone()
                    }
                })
                .collect();
            let window_colours = if same_model {
                crate::engine::chart::SegmentColours::new(&notes, window_names.len())
            } else {
                crate::engine::chart::SegmentColours::by_number(window_names.len())
            };
            (o, window_names, window_colours)
        });
        self.export_runner.start("export", move |_ctx| -> Result<super::files::Exported, String> {
            use crate::engine::chart;
            let inputs = chart::ChartInputs {
                result: &out.result,
                summary: Some(&out.summary),
                names: &names,
                colours: &colours,
                over_time: over_time.as_ref().map(|(o, n, c)| (&o.result, &n[..], c)),
                transition: None,
                comparison: None,
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

    /// Asks the window for its picture for a chart export, and when it comes, cuts the chart out
    /// and writes it on the export job.
    pub(super) fn take_chart_screenshot(&mut self, ctx: &egui::Context) {
        if self.wanted_screenshot {
            self.wanted_screenshot = false;
            let sender = self.screenshot_sender.clone();
            let wake = self.wake.clone();
            ctx.request_screenshot(move |image| {
                let _ = sender.send(image);
                wake();
            });
            return;
        }
        let Some(pending) = self.pending_chart.clone() else { return };
        let Ok(image) = self.screenshot_receiver.try_recv() else { return };
        self.pending_chart = None;
        let Some(rect) = self.view.chart_rect(pending.chart) else {
            self.report_error("Could not export the chart: it left the screen before it was captured.");
            return;
        };
        let pixels_per_point = ctx.pixels_per_point();
        let path = pending.path;
        self.export_runner.start("export", move |_ctx| -> Result<super::files::Exported, String> {
            let cropped = crop(&image, rect, pixels_per_point)
                .ok_or_else(|| "Could not export the chart: it is outside the window.".to_string())?;
            let bytes = encode_png(&cropped).map_err(|e| format!("Could not export the chart: {e}"))?;
            std::fs::write(&path, bytes)
                .map_err(|e| format!("Could not export the chart ({e}): {}", path.display()))?;
            Ok(super::files::Exported { message: format!("Chart written to {}", path.display()) })
        });
    }
}

/// The part of `image` (a screenshot at `pixels_per_point`) under `rect` (in points); `None` when
/// nothing of it is inside the image.
pub fn crop(image: &egui::ColorImage, rect: egui::Rect, pixels_per_point: f32) -> Option<egui::ColorImage> {
    let [width, height] = image.size;
    let to_px = |v: f32, max: usize| ((v * pixels_per_point).round().max(0.0) as usize).min(max);
    let (x0, x1) = (to_px(rect.min.x, width), to_px(rect.max.x, width));
    let (y0, y1) = (to_px(rect.min.y, height), to_px(rect.max.y, height));
    if x1 <= x0 || y1 <= y0 {
        return None;
    }
    let mut pixels = Vec::with_capacity((x1 - x0) * (y1 - y0));
    for y in y0..y1 {
        pixels.extend_from_slice(&image.pixels[y * width + x0..y * width + x1]);
    }
    Some(egui::ColorImage::new([x1 - x0, y1 - y0], pixels))
}

/// `image` as PNG bytes (8-bit RGBA).
pub fn encode_png(image: &egui::ColorImage) -> Result<Vec<u8>, png::EncodingError> {
    let [width, height] = image.size;
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, width as u32, height as u32);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        let data: Vec<u8> = image.pixels.iter().flat_map(|c| c.to_srgba_unmultiplied()).collect();
        writer.write_image_data(&data)?;
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_is_cut_out_at_the_screen_scale_and_encoded() {
        // 4x3 pixels: the colour says where each pixel is.
        let pixels: Vec<egui::Color32> =
            (0..12).map(|i| egui::Color32::from_rgb((i % 4) as u8 * 10, (i / 4) as u8 * 10, 200)).collect();
        let image = egui::ColorImage::new([4, 3], pixels);
        // At 2 pixels per point, points (0.5,0.5)-(1.5,1.5) are pixels (1,1)-(3,3).
        let rect = egui::Rect::from_min_max(egui::pos2(0.5, 0.5), egui::pos2(1.5, 1.5));
        let cut = crop(&image, rect, 2.0).unwrap();
        assert_eq!(cut.size, [2, 2]);
        assert_eq!(cut.pixels[0], egui::Color32::from_rgb(10, 10, 200));
        assert_eq!(cut.pixels[3], egui::Color32::from_rgb(20, 20, 200));
        // Partly outside: cut at the edge; wholly outside: nothing.
        let edge = crop(&image, egui::Rect::from_min_max(egui::pos2(1.0, 0.0), egui::pos2(9.0, 9.0)), 2.0).unwrap();
        assert_eq!(edge.size, [2, 3]);
        assert!(crop(&image, egui::Rect::from_min_max(egui::pos2(5.0, 5.0), egui::pos2(9.0, 9.0)), 2.0).is_none());

        let bytes = encode_png(&cut).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (2, 2));
        assert_eq!(&buf[..4], &[10, 10, 200, 255]);
    }
}
