//! The window's frame (menus, screen tabs, status bar, toasts, the unsaved-changes question) and
//! one module per screen. Everything here draws and pushes commands; nothing computes.

pub mod compare;
mod data;
pub mod derive;
mod features;
pub mod help;
mod log_features;
mod model;
pub mod monitor;
mod over_time;
mod path_prompt;
pub mod review;
mod rules;
mod segments;
pub mod swot;
pub mod value;

use eframe::egui::{self, Color32, RichText, Ui};

use super::{Command, PromptChoice, Screen, StrataApp, ThemeChoice};

/// What the screens remember between frames that is not part of the project.
#[derive(Default)]
pub struct ViewState {
    /// Data screen: show the customer table rather than the file as read.
    pub show_customer_table: bool,
    /// Data screen: the small-cell threshold while its field is dragged (set when the drag ends,
    /// so a drag is one line of the audit log).
    pub small_cells_drag: Option<usize>,
    /// Features screen: the feature whose recipe is open.
    pub selected_feature: Option<String>,
    /// Features screen: the search typed over the column list.
    pub feature_search: String,
    /// Segments screen: the density image of the projection, made once per result.
    pub density_texture: Option<(usize, egui::TextureHandle)>,
    /// Data screen: the as-of date as typed, until the field loses focus.
    pub as_of_text: String,
    /// Compare screen: the two segmentations chosen, and their comparison once computed.
    pub compare: compare::CompareState,
    /// Model screen: the k-choice table instead of the charts.
    pub k_table: bool,
    /// Rules screen: the rule and override being written.
    pub rules: rules::RulesState,
    /// Over time screen: the transition shown (its earlier window).
    pub transition: Option<usize>,
    /// Whether the list of the run's warnings is open.
    pub show_warnings: bool,
    /// Data screen: the derived column being written and its preview.
    pub derive: derive::DeriveState,
    /// SWOT screen: the view chosen, forms being filled, and the evidence made once per result.
    pub board: swot::BoardView,
    /// Review screen: the part shown.
    pub review_tab: review::ReviewTab,
    /// Review screen: its forms as typed.
    pub review_form: review::ReviewForm,
    /// Review screen: the bias audit's state (columns chosen, the audit once computed).
    pub bias: review::BiasView,
    /// Value screen: dates as typed, the part shown, the prioritisation's axes.
    pub value: value::ValueView,
    /// Monitor screen: the period and feature shown, the forms as typed.
    pub monitor: monitor::MonitorView,
}

/// Offers "Export as PNG..." on a chart's context menu (right click): the engine draws it from the
/// data the screen shows, at a fixed size.
pub(crate) fn chart_export_menu(app: &mut StrataApp, response: &egui::Response, chart: crate::app::ChartId) {
    response.context_menu(|ui| {
        if ui.button("Export as PNG...").clicked() {
            app.push(Command::ExportDialog(crate::app::ExportKind::Chart(chart)));
            ui.close();
        }
    });
}

/// Draws the whole window.
pub fn window_ui(ui: &mut Ui, app: &mut StrataApp) {
    // Presentation mode: the slide alone, every control hidden.
    if app.present.is_presenting() {
        crate::app::present::presenting_ui(ui, app);
        // Leaving with unsaved changes still asks.
        prompt_ui(ui.ctx(), app);
        return;
    }
    egui::Panel::top("menu").show(ui, |ui| menu_ui(ui, app));
    egui::Panel::top("tabs").show(ui, |ui| tabs_ui(ui, app));
    egui::Panel::bottom("status").show(ui, |ui| status_ui(ui, app));
    egui::CentralPanel::default().show(ui, |ui| {
        banners_ui(ui, app);
        if app.doc.is_none() {
            empty_ui(ui, app);
            return;
        }
        match app.screen {
            Screen::Data => data::data_ui(ui, app),
            Screen::Features => features::features_ui(ui, app),
            Screen::Model => model::model_ui(ui, app),
            Screen::Segments => segments::segments_ui(ui, app),
            Screen::Compare => compare::compare_ui(ui, app),
            Screen::Rules => rules::rules_ui(ui, app),
            Screen::OverTime => over_time::over_time_ui(ui, app),
            Screen::Value => value::value_ui(ui, app),
            Screen::Board => swot::board_ui(ui, app),
            Screen::Presentation => crate::app::present::editor_ui(ui, app),
            Screen::Review => review::review_ui(ui, app),
            Screen::Monitor => monitor::monitor_ui(ui, app),
        }
    });
    help::help_windows_ui(ui.ctx(), app);
    prompt_ui(ui.ctx(), app);
    path_prompt::path_prompt_ui(ui.ctx(), app);
    warnings_ui(ui.ctx(), app);
    crate::app::scoring::scored_window_ui(ui.ctx(), app);
    crate::app::present::changes_ui(ui.ctx(), app);
    toasts_ui(ui.ctx(), app);
}

fn menu_ui(ui: &mut Ui, app: &mut StrataApp) {
    egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button("File", |ui| {
            if ui.button("New").on_hover_text("Ctrl+N").clicked() {
                app.push(Command::NewProject);
            }
            if ui.button("Open project...").on_hover_text("Ctrl+O").clicked() {
                app.push(Command::OpenProjectDialog);
            }
            if ui
                .button("Open for review...")
                .on_hover_text("Open a project read-only, to review and sign it off")
                .clicked()
            {
                app.push(Command::OpenForReviewDialog);
            }
            if ui.button("Open data file...").clicked() {
                app.push(Command::OpenDataDialog);
            }
            if ui.button("Open the demo project").clicked() {
                app.push(Command::OpenDemo);
            }
            ui.menu_button("Recent", |ui| {
                if app.prefs.recent_projects.is_empty() && app.prefs.recent_data.is_empty() {
                    ui.label("Nothing yet");
                }
                for path in app.prefs.recent_projects.clone() {
                    if ui.button(path.display().to_string()).clicked() {
                        app.push(Command::OpenProject(path));
                    }
                }
                if !app.prefs.recent_data.is_empty() {
                    ui.separator();
                }
                for path in app.prefs.recent_data.clone() {
                    if ui.button(format!("Data: {}", path.display())).clicked() {
                        app.push(Command::OpenData(path));
                    }
                }
            });
            ui.separator();
            let has_doc = app.doc.is_some();
            if ui.add_enabled(has_doc, egui::Button::new("Save")).on_hover_text("Ctrl+S").clicked() {
                app.push(Command::Save);
            }
            if ui.add_enabled(has_doc, egui::Button::new("Save as...")).on_hover_text("Ctrl+Shift+S").clicked() {
                app.push(Command::SaveAsDialog);
            }
            ui.menu_button("Export", |ui| export_menu_ui(ui, app));
            let has_output = app.output.is_some();
            if ui
                .add_enabled(has_output, egui::Button::new("Export report..."))
                .on_hover_text("One self-contained HTML file: data, k choice, segments, rules, assumptions")
                .on_disabled_hover_text("Run a segmentation first")
                .clicked()
            {
                app.push(Command::ExportDialog(crate::app::ExportKind::Report));
                ui.close();
            }
            if ui
                .add_enabled(has_output && !app.scoring_busy(), egui::Button::new("Score new customers..."))
                .on_hover_text(
                    "Assign the customers of another file as this project assigns its own (recipe, model, rules, \
                     overrides, fallback), with a report beside the fitted customers",
                )
                .on_disabled_hover_text("Run a segmentation first")
                .clicked()
            {
                app.push(Command::ScoreNewCustomersDialog);
                ui.close();
            }
            ui.separator();
            if ui.button("Quit").clicked() {
                app.push(Command::Quit);
            }
        });
        ui.menu_button("Edit", |ui| {
            let undo = app.doc.as_ref().and_then(|d| d.undo_label().map(str::to_string));
            let redo = app.doc.as_ref().and_then(|d| d.redo_label().map(str::to_string));
            let undo_text = undo.as_ref().map_or("Undo".to_string(), |w| format!("Undo {w}"));
            if ui.add_enabled(undo.is_some(), egui::Button::new(undo_text)).on_hover_text("Ctrl+Z").clicked() {
                app.push(Command::Undo);
            }
            let redo_text = redo.as_ref().map_or("Redo".to_string(), |w| format!("Redo {w}"));
            if ui.add_enabled(redo.is_some(), egui::Button::new(redo_text)).on_hover_text("Ctrl+Shift+Z").clicked() {
                app.push(Command::Redo);
            }
        });
        ui.menu_button("View", |ui| {
            ui.label("Theme");
            for (theme, label) in
                [(ThemeChoice::Light, "Light"), (ThemeChoice::Dark, "Dark"), (ThemeChoice::System, "As the system")]
            {
                if ui.radio(app.prefs.theme == theme, label).clicked() {
                    app.push(Command::SetTheme(theme));
                }
            }
            ui.separator();
            ui.label("Interface scale (projectors: 1.5 or more)");
            for scale in [1.0f32, 1.25, 1.5, 2.0] {
                if ui.radio((app.prefs.ui_scale - scale).abs() < 1e-3, format!("{:.0}%", scale * 100.0)).clicked() {
                    app.push(Command::SetUiScale(scale));
                }
            }
            ui.separator();
            let mut auto = app.prefs.auto_run;
            if ui.checkbox(&mut auto, "Run after every change").changed() {
                app.push(Command::SetAutoRun(auto));
            }
        });
        ui.menu_button("Help", |ui| help::help_menu_ui(ui, app));
    });
}

fn export_menu_ui(ui: &mut Ui, app: &mut StrataApp) {
    use crate::app::{ChartId, ExportKind};
    let has_output = app.output.is_some();
    let has_sweep = app.output.as_ref().is_some_and(|o| o.result.sweep.is_some());
    let entries = [
        ("Assignments (CSV, Parquet, Excel)...", ExportKind::Assignments, has_output),
        ("Segment profiles (CSV, Excel)...", ExportKind::Profiles, has_output),
        ("k-choice table (CSV, Excel)...", ExportKind::KChoice, has_sweep),
    ];
    for (label, kind, enabled) in entries {
        if ui.add_enabled(enabled, egui::Button::new(label)).clicked() {
            app.push(Command::ExportDialog(kind));
            ui.close();
        }
    }
    let has_overlap =
        app.output.as_ref().is_some_and(|o| o.summary.overlap.as_ref().is_some_and(|v| v.n_borderline > 0));
    if ui.add_enabled(has_overlap, egui::Button::new("Borderline customers (CSV, Parquet)...")).clicked() {
        app.push(Command::ExportBorderlineDialog);
        ui.close();
    }
    ui.separator();
    ui.label(RichText::new("Charts as PNG (or right-click a chart)").weak());
    let has_mixture = app
        .output
        .as_ref()
        .and_then(|o| o.result.sweep.as_ref())
        .is_some_and(|s| s.runs.iter().any(|r| r.bic.is_some()));
    for chart in [
        ChartId::Elbow,
        ChartId::SilhouetteByK,
        ChartId::CalinskiHarabasz,
        ChartId::DaviesBouldin,
        ChartId::Information,
        ChartId::Projection,
        ChartId::Silhouettes,
        ChartId::Alluvial,
        ChartId::SizesOverTime,
        ChartId::MovesOverTime,
    ] {
        // The engine draws every chart from the results and what the screens chose, shown or not.
        let shown = match chart {
            ChartId::Elbow | ChartId::SilhouetteByK | ChartId::CalinskiHarabasz | ChartId::DaviesBouldin => has_sweep,
            ChartId::Information => has_mixture,
            ChartId::Projection => true,
            ChartId::Silhouettes => app.output.as_ref().is_some_and(|o| o.summary.silhouettes.is_some()),
            ChartId::Alluvial => app.shown_comparison().is_some(),
            ChartId::SizesOverTime => app.over_time.is_some(),
            ChartId::MovesOverTime => app.shown_transition().is_some(),
        };
        let label = format!("Chart: {}...", chart.label().replace('-', " "));
        if ui
            .add_enabled(shown && has_output, egui::Button::new(label))
            .on_disabled_hover_text("Show the chart first")
            .clicked()
        {
            app.push(Command::ExportDialog(ExportKind::Chart(chart)));
            ui.close();
        }
    }
}

/// Every warning of the latest run, opened from the status bar.
fn warnings_ui(ctx: &egui::Context, app: &mut StrataApp) {
    if !app.view.show_warnings {
        return;
    }
    let lines = app.output.as_ref().map(|o| crate::engine::warnings::summarise(&o.result.warnings)).unwrap_or_default();
    let mut open = true;
    egui::Window::new("Warnings of the run").open(&mut open).default_width(520.0).show(ctx, |ui| {
        if lines.is_empty() {
            ui.label("No warnings.");
        }
        egui::ScrollArea::vertical().max_height(420.0).show(ui, |ui| {
            for line in &lines {
                ui.label(crate::app::words::for_window(line));
                ui.separator();
            }
        });
    });
    app.view.show_warnings = open;
}

fn tabs_ui(ui: &mut Ui, app: &mut StrataApp) {
    // Wrapped: at a projector's 200% the tabs are wider than the window.
    ui.horizontal_wrapped(|ui| {
        for screen in Screen::ALL {
            let text = RichText::new(screen.tab_text()).size(16.0);
            let hover = match screen.key() {
                Some(key) => format!("Ctrl+{key}"),
                None if screen == Screen::Monitor => "F8".to_string(),
                None => "F7".to_string(),
            };
            let response = ui.selectable_label(app.screen == screen, text).on_hover_text(hover);
            if response.clicked() {
                app.push(Command::Show(screen));
            }
        }
        ui.separator();
        let has_doc = app.doc.is_some();
        if app.progress.is_some() {
            if ui.button("Cancel").on_hover_text("Stop the running job").clicked() {
                app.push(Command::CancelRun);
            }
        } else if ui
            .add_enabled(has_doc, egui::Button::new("Run"))
            .on_hover_text("Run the pipeline on the current settings (F5)")
            .clicked()
        {
            app.push(Command::Run);
        }
        if let Some((stage, fraction)) = &app.progress {
            let text = match app.step_fraction() {
                Some(step) => format!("{stage}: {:.0}% of this step", step * 100.0),
                None => format!("{stage}..."),
            };
            ui.add(egui::ProgressBar::new(*fraction as f32).desired_width(180.0).text(text).animate(true));
        }
        let stale = match (&app.doc, &app.output) {
            (Some(doc), Some(out)) => !out.is_for(doc) && !out.is_provisional_for(doc),
            _ => false,
        };
        if stale && app.progress.is_none() {
            ui.label(RichText::new("Settings changed since the last run").color(ui.visuals().warn_fg_color));
        }
        // A long run waits for Run, and says how long it will take.
        if app.progress.is_none()
            && let Some(estimate) = app.long_run()
            && (stale || app.output.is_none())
        {
            ui.label(RichText::new(format!(
                "Long run, waits for Run: {} ({})",
                crate::engine::pipeline::estimate::duration_in_words(estimate.secs),
                estimate.why
            )))
            .on_hover_text(
                "Estimated from the customers and the method: 2.2e-8 x n² s per exact hierarchical fit, 1e-6 x n x k \
                 s per fit of the other methods, times the fits (the fit, the sweep, and every re-fit of the stability \
                 check). Runs this long do not start on every change.",
            );
        }
    });
}

fn status_ui(ui: &mut Ui, app: &mut StrataApp) {
    ui.horizontal(|ui| {
        match (&app.progress, app.runner_name()) {
            (Some((stage, fraction)), Some(name)) => {
                ui.spinner();
                let step = app.step_fraction().map(|s| format!(", {:.0}% of this step", s * 100.0)).unwrap_or_default();
                ui.label(format!("{name}: {stage} ({:.0}%{step})", fraction * 100.0));
            }
            _ => match app.file_busy() {
                // Files are read and written on jobs; say so while they are.
                Some(job) => {
                    ui.spinner();
                    ui.label(match job {
                        "open" => "Opening the project...",
                        "save" => "Saving...",
                        _ => "Exporting...",
                    });
                }
                None => {
                    ui.label("Ready");
                }
            },
        }
        ui.separator();
        if let Some(out) = &app.output {
            let r = &out.result;
            ui.label(format!(
                "{} customers, {} segmented, k = {}",
                super::widgets::format_count(r.customers.height()),
                super::widgets::format_count(r.matrix.kept_rows.len()),
                r.fit.sizes.len()
            ));
            let warnings = &r.warnings;
            if !warnings.is_empty() {
                ui.separator();
                let response = ui
                    .add(
                        egui::Label::new(
                            RichText::new(if warnings.len() == 1 {
                                "1 warning".to_string()
                            } else {
                                format!("{} warnings", warnings.len())
                            })
                            .color(ui.visuals().warn_fg_color)
                            .underline(),
                        )
                        .sense(egui::Sense::click()),
                    )
                    .on_hover_cursor(egui::CursorIcon::PointingHand)
                    .on_hover_ui(|ui| {
                        for w in crate::engine::warnings::summarise(warnings).iter().take(8) {
                            ui.label(crate::app::words::for_window(w));
                        }
                        ui.label(RichText::new("Click to see them all").weak());
                    });
                if response.clicked() {
                    app.view.show_warnings = !app.view.show_warnings;
                }
            }
        }
        if let Some(error) = &app.last_error {
            ui.separator();
            ui.label(RichText::new(error).color(ui.visuals().error_fg_color)).on_hover_text(error);
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if let Some(doc) = &app.doc {
                let dirty = if doc.is_dirty() { "unsaved changes" } else { "saved" };
                ui.label(format!("{} ({dirty})", doc.title()));
            }
        });
    });
}

fn banners_ui(ui: &mut Ui, app: &mut StrataApp) {
    let Some(doc) = &app.doc else { return };
    let mut messages: Vec<(String, bool)> = Vec::new();
    if let Some(b) = &doc.banner {
        messages.push((b.clone(), false));
    }
    if let Some(w) = &doc.fingerprint_warning {
        messages.push((w.clone(), true));
    }
    if let Some(m) = &doc.missing_source {
        messages.push((m.clone(), true));
    }
    match doc.reproduced.as_deref() {
        Some([]) => messages.push((
            "Re-run on open: every stored result (assignment, sizes, centroids, indices) was reproduced exactly."
                .to_string(),
            false,
        )),
        Some(differences) => messages.push((
            format!(
                "Re-run on open: {} of the stored results {} not reproduced: {}{}",
                differences.len(),
                if differences.len() == 1 { "was" } else { "were" },
                differences.iter().take(3).cloned().collect::<Vec<_>>().join("; "),
                if differences.len() > 3 { format!("; and {} more", differences.len() - 3) } else { String::new() }
            ),
            true,
        )),
        None => {}
    }
    // Results from a sample, and results from before the latest change, are marked until the exact
    // ones arrive.
    if let Some(out) = &app.output
        && let Some(fit) = out.result.provisional
        && out.is_provisional_for(doc)
    {
        let running = app.progress.is_some();
        messages.push((provisional_line(fit, running), !running));
    } else if let Some(out) = &app.output
        && !out.is_for(doc)
    {
        messages.push((
            if app.progress.is_some() {
                "Out of date: the results shown are from before your last change; they are replaced when the run \
                 under way finishes."
                    .to_string()
            } else {
                "Out of date: the results shown are from before your last change. Press Run (F5) to update them."
                    .to_string()
            },
            true,
        ));
    }
    let missing = doc.missing_source.is_some();
    for (text, is_warning) in messages {
        let colour = if is_warning { ui.visuals().warn_fg_color } else { ui.visuals().text_color() };
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(text).color(colour));
        });
    }
    if missing && ui.button("Locate the data file...").clicked() {
        app.push(Command::LocateSourceDialog);
    }
}

fn empty_ui(ui: &mut Ui, app: &mut StrataApp) {
    ui.vertical_centered(|ui| {
        ui.add_space(80.0);
        ui.heading("No project open");
        ui.label("Open customer data or a transaction log (CSV, text, Parquet, Excel), a project, or the demo.");
        ui.label("You can also drop a file onto the window.");
        ui.add_space(12.0);
        if ui.button("Open data file...").clicked() {
            app.push(Command::OpenDataDialog);
        }
        if ui.button("Open project...").clicked() {
            app.push(Command::OpenProjectDialog);
        }
        if ui.button("Open the demo project").clicked() {
            app.push(Command::OpenDemo);
        }
    });
}

fn prompt_ui(ctx: &egui::Context, app: &mut StrataApp) {
    if !app.is_prompting() {
        return;
    }
    let title = app.doc.as_ref().map(|d| d.title()).unwrap_or_default();
    egui::Modal::new(egui::Id::unique("unsaved-changes")).show(ctx, |ui| {
        ui.heading("Unsaved changes");
        ui.label(format!("{title} has changes that are not saved. Save them first?"));
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            if ui.button("Save").clicked() {
                app.push(Command::ResolvePrompt(PromptChoice::Save));
            }
            if ui.button("Discard changes").clicked() {
                app.push(Command::ResolvePrompt(PromptChoice::Discard));
            }
            if ui.button("Keep editing").clicked() {
                app.push(Command::ResolvePrompt(PromptChoice::Cancel));
            }
        });
    });
}

fn toasts_ui(ctx: &egui::Context, app: &mut StrataApp) {
    if app.toasts.is_empty() {
        return;
    }
    egui::Area::new(egui::Id::unique("toasts")).anchor(egui::Align2::RIGHT_BOTTOM, [-12.0, -40.0]).show(ctx, |ui| {
        let mut dismissed = None;
        for (i, toast) in app.toasts.iter().enumerate().rev().take(4) {
            let fill = if toast.is_error { Color32::from_rgb(120, 30, 30) } else { Color32::from_rgb(40, 60, 90) };
            let response = egui::Frame::popup(ui.style()).fill(fill).show(ui, |ui| {
                ui.set_max_width(420.0);
                ui.label(RichText::new(&toast.text).color(Color32::WHITE));
            });
            if response.response.interact(egui::Sense::click()).clicked() {
                dismissed = Some(i);
            }
        }
        if let Some(i) = dismissed {
            app.toasts.remove(i);
        }
    });
}

/// What the screens say of a provisional result: while the exact fit is under way, or after it was
/// cancelled or failed.
pub(crate) fn provisional_line(fit: crate::engine::pipeline::ProvisionalFit, running: bool) -> String {
    format!(
        "Provisional: segments fitted on a sample of {} of the {} customers, every customer assigned to the \
         nearest centre; the silhouette and the other indices are the sample's. {}",
        crate::engine::words::thousands(fit.sample_size),
        crate::engine::words::thousands(fit.customers),
        if running {
            "The exact fit on every customer is under way and replaces these figures."
        } else {
            "The exact fit on every customer did not finish: press Run (F5) to make it."
        }
    )
}
