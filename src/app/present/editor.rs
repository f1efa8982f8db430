//! The Present screen: the steps in order (grouped under their group's header), the selected step's
//! caption, speaker notes, group and view, a preview of its slide, and the buttons that add,
//! capture, duplicate, delete and move steps. Every change is one undoable edit.

use eframe::egui::{self, RichText, Ui};

use super::PresentCommand;
use super::mode::slide_data;
use super::slide::{CHARTS, Canvas, slide_ui};
use crate::app::{Command, Screen, StrataApp};
use crate::engine::presentation::{PROJECTOR_SCALE, Presentation, SCALE_RANGE, View};
use crate::engine::swot::{Quadrant, SegmentRef};

/// The kinds of view a step can show, as the picker names them.
const KINDS: [&str; 8] = [
    "Title",
    "The k choice",
    "All segments",
    "One segment",
    "A chart",
    "The SWOT board",
    "TOWS strategies",
    "A screen",
];

fn kind_of(view: &View) -> usize {
    match view {
        View::Title => 0,
        View::KChoice { .. } => 1,
        View::Segments { .. } => 2,
        View::Segment { .. } => 3,
        View::Chart { .. } => 4,
        View::Board { .. } => 5,
        View::Tows => 6,
        View::Screen { .. } => 7,
    }
}

fn default_view(kind: usize) -> View {
    match kind {
        1 => View::KChoice { k: None },
        2 => View::Segments { highlight: None },
        3 => View::Segment { segment: SegmentRef::Segment(0) },
        4 => View::Chart { chart: "segment-sizes".to_string(), highlight: None },
        5 => View::Board { quadrant: None },
        6 => View::Tows,
        7 => View::Screen { screen: Screen::Data.label().to_string() },
        _ => View::Title,
    }
}

/// A caption to start from for a view.
fn default_caption(view: &View, name: &dyn Fn(&SegmentRef) -> String) -> String {
    match view {
        View::Title => "Our customer segments".to_string(),
        View::KChoice { k: Some(k) } => format!("Why {k} segments"),
        View::KChoice { k: None } => "How many segments".to_string(),
        View::Segments { .. } => "Our segments at a glance".to_string(),
        View::Segment { segment } => name(segment),
        View::Chart { chart, .. } => {
            CHARTS.iter().find(|(n, _)| n == chart).map_or(chart.clone(), |(_, l)| l.to_string())
        }
        View::Board { quadrant: Some(q) } => q.label().to_string(),
        View::Board { quadrant: None } => "Where each segment stands".to_string(),
        View::Tows => "What we will do".to_string(),
        View::Screen { screen } => screen.clone(),
    }
}

/// What the screen shown before this one captures as a view.
fn capture(screen: Screen, k: Option<usize>) -> View {
    match screen {
        Screen::Model => View::KChoice { k },
        Screen::Segments => View::Segments { highlight: None },
        other if other.label().contains("Board") || other.label().contains("SWOT") => View::Board { quadrant: None },
        other => View::Screen { screen: other.label().to_string() },
    }
}

/// Draws the Present screen.
pub fn editor_ui(ui: &mut Ui, app: &mut StrataApp) {
    let presentation = app.presentation().cloned().unwrap_or_default();
    let n = presentation.steps.len();
    let selected = app.present.selected.filter(|i| *i < n).or((n > 0).then_some(0));
    app.present.selected = selected;
    let names: Vec<String> = match &app.output {
        Some(out) => (0..out.result.n_segments()).map(|s| app.segment_name_in(&out.result, s)).collect(),
        None => Vec::new(),
    };
    let name_of = |r: &SegmentRef| match r {
        SegmentRef::Segment(s) => names.get(*s).cloned().unwrap_or_else(|| format!("Segment {}", s + 1)),
        SegmentRef::Detached { name, .. } => format!("{name} (no longer a segment)"),
    };
    let k = app.doc.as_ref().and_then(|d| d.project.spec.model.algorithm.k());
    let edit = |app: &mut StrataApp, presentation: Presentation, what: String| {
        app.push(Command::EditPresentation { presentation: Box::new(presentation), what });
    };

    // The toolbar: present, presenter view, text size, add and capture.
    egui::Panel::top("present-toolbar").show(ui, |ui| {
        ui.horizontal_wrapped(|ui| {
            if ui
                .add_enabled(n > 0, egui::Button::new(RichText::new("Present").strong()))
                .on_hover_text("Full screen from the selected step (F6); Esc leaves")
                .on_disabled_hover_text("Add a step first")
                .clicked()
            {
                app.push(Command::Presenting(PresentCommand::Start));
            }
            let mut presenter = app.present.presenter_view;
            if ui
                .checkbox(&mut presenter, "Presenter view")
                .on_hover_text(
                    "Current and next step, speaker notes and the time, in a second window (P while presenting); \
                     where the platform has one window, a panel under the slide",
                )
                .changed()
            {
                app.push(Command::Presenting(PresentCommand::TogglePresenterView));
            }
            ui.separator();
            let label = ui.label("Text size");
            let mut scale = presentation.text_scale;
            let response = ui
                .add(egui::Slider::new(&mut scale, SCALE_RANGE.0..=SCALE_RANGE.1).step_by(0.1).fixed_decimals(1))
                .labelled_by(label.id)
                .on_hover_text("How large the slides' text is (+ and - while presenting); saved with the presentation");
            if response.changed() {
                let mut p = presentation.clone();
                p.text_scale = scale;
                edit(app, p, super::TEXT_SIZE.to_string());
            }
            if ui.button(format!("Projector preset ({PROJECTOR_SCALE})")).clicked() {
                let mut p = presentation.clone();
                p.text_scale = PROJECTOR_SCALE;
                edit(app, p, super::TEXT_SIZE.to_string());
            }
            ui.separator();
            ui.menu_button("Add a step", |ui| {
                for (kind, label) in KINDS.iter().enumerate() {
                    if ui.button(*label).clicked() {
                        let mut p = presentation.clone();
                        let view = if kind == 1 { View::KChoice { k } } else { default_view(kind) };
                        let caption = default_caption(&view, &name_of);
                        p.add(&caption, view);
                        app.present.selected = Some(p.steps.len() - 1);
                        edit(app, p, "add a step".to_string());
                        ui.close();
                    }
                }
            });
            if let Some(screen) = app.present.last_screen.filter(|s| *s != Screen::Presentation) {
                let view = capture(screen, k);
                if ui
                    .button(format!("Capture the {} screen", screen.label()))
                    .on_hover_text(format!("Add a step showing {}", view.describe(&name_of)))
                    .clicked()
                {
                    let mut p = presentation.clone();
                    let caption = default_caption(&view, &name_of);
                    p.add(&caption, view);
                    app.present.selected = Some(p.steps.len() - 1);
                    edit(app, p, "capture a view".to_string());
                }
            }
        });
    });

    egui::Panel::left("present-steps").resizable(true).default_size(340.0).min_size(240.0).show(ui, |ui| {
        ui.heading("Steps");
        if n == 0 {
            ui.label("No steps yet. Add one above, or capture the screen you came from.");
        }
        egui::ScrollArea::vertical().id_salt("present-steps-scroll").show(ui, |ui| {
            steps_list_ui(ui, app, &presentation, selected, &name_of);
        });
    });

    egui::CentralPanel::default().show(ui, |ui| {
        let Some(i) = selected else {
            ui.label("Select a step to edit it.");
            return;
        };
        let step = presentation.steps[i].clone();
        ui.horizontal_wrapped(|ui| {
            ui.heading(format!("Step {} of {n}", i + 1));
            if ui.button("Duplicate").clicked() {
                let mut p = presentation.clone();
                if let Some(copy) = p.duplicate(i) {
                    app.present.selected = Some(copy);
                    edit(app, p, format!("duplicate step {}", i + 1));
                }
            }
            if ui.add_enabled(i > 0, egui::Button::new("Move up")).clicked() {
                let mut p = presentation.clone();
                app.present.selected = p.reorder(i, i - 1);
                edit(app, p, format!("move step {}", i + 1));
            }
            if ui.add_enabled(i + 1 < n, egui::Button::new("Move down")).clicked() {
                let mut p = presentation.clone();
                app.present.selected = p.reorder(i, i + 1);
                edit(app, p, format!("move step {}", i + 1));
            }
            if ui.button("Delete").clicked() {
                let mut p = presentation.clone();
                p.steps.remove(i);
                app.present.selected = (!p.steps.is_empty()).then(|| i.min(p.steps.len() - 1));
                edit(app, p, format!("delete step {}", i + 1));
            }
        });
        ui.add_space(6.0);
        egui::Grid::new("step-fields").num_columns(2).spacing([12.0, 8.0]).show(ui, |ui| {
            let label = ui.label("Caption");
            let mut caption = step.caption.clone();
            let response =
                ui.add(egui::TextEdit::singleline(&mut caption).desired_width(520.0).id_salt(("caption", step.id)));
            if response.labelled_by(label.id).changed() {
                let mut p = presentation.clone();
                p.steps[i].caption = caption;
                edit(app, p, format!("caption of step {}", i + 1));
            }
            ui.end_row();

            let label = ui.label("Speaker notes");
            let mut notes = step.notes.clone();
            let response = ui.add(
                egui::TextEdit::multiline(&mut notes)
                    .desired_width(520.0)
                    .desired_rows(4)
                    .hint_text("What you will say: shown only in the presenter view")
                    .id_salt(("notes", step.id)),
            );
            if response.labelled_by(label.id).changed() {
                let mut p = presentation.clone();
                p.steps[i].notes = notes;
                edit(app, p, format!("speaker notes of step {}", i + 1));
            }
            ui.end_row();

            let label = ui.label("Group");
            ui.horizontal(|ui| {
                let mut group = step.group.clone();
                let response = ui.add(
                    egui::TextEdit::singleline(&mut group)
                        .desired_width(260.0)
                        .hint_text("a section, e.g. Model")
                        .id_salt(("group", step.id)),
                );
                if response.labelled_by(label.id).changed() {
                    let mut p = presentation.clone();
                    p.steps[i].group = group;
                    edit(app, p, format!("group of step {}", i + 1));
                }
                let groups: Vec<String> = presentation
                    .groups()
                    .into_iter()
                    .map(|(g, _)| g)
                    .filter(|g| !g.is_empty() && *g != step.group)
                    .fold(Vec::new(), |mut all, g| {
                        if !all.contains(&g) {
                            all.push(g);
                        }
                        all
                    });
                if !groups.is_empty() {
                    ui.menu_button("Existing groups", |ui| {
                        for g in groups {
                            if ui.button(&g).clicked() {
                                let mut p = presentation.clone();
                                p.steps[i].group = g;
                                edit(app, p, format!("group of step {}", i + 1));
                                ui.close();
                            }
                        }
                    });
                }
            });
            ui.end_row();

            let shows = ui.label("Shows").id;
            if let Some(view) = view_picker_ui(ui, &step.view, &names, k, app, shows) {
                let mut p = presentation.clone();
                p.steps[i].view = view;
                edit(app, p, format!("what step {} shows", i + 1));
            }
            ui.end_row();
        });
        if let Some(screen) = app.present.last_screen.filter(|s| *s != Screen::Presentation)
            && ui
                .button(format!("Capture the {} screen into this step", screen.label()))
                .on_hover_text("Replace what this step shows with the screen you came from")
                .clicked()
        {
            let mut p = presentation.clone();
            p.steps[i].view = capture(screen, k);
            edit(app, p, format!("what step {} shows", i + 1));
        }
        ui.add_space(8.0);
        ui.label(RichText::new(format!("Preview ({})", step.view.describe(&name_of))).weak());
        let avail = ui.available_rect_before_wrap();
        let width = avail.width().min(avail.height() * 16.0 / 9.0).max(160.0);
        let (rect, _) = ui.allocate_exact_size(egui::vec2(width, width * 9.0 / 16.0), egui::Sense::hover());
        ui.painter().rect_stroke(
            rect.expand(1.0),
            0.0,
            (1.0, ui.visuals().weak_text_color()),
            egui::StrokeKind::Outside,
        );
        let data = slide_data(app);
        let canvas = Canvas::fit(rect, presentation.text_scale);
        slide_ui(ui, &canvas, &data, &presentation, i, "preview", None);
    });
}

/// The list of steps under their groups' headers; click selects, drag reorders.
fn steps_list_ui(
    ui: &mut Ui,
    app: &mut StrataApp,
    presentation: &Presentation,
    selected: Option<usize>,
    name_of: &dyn Fn(&SegmentRef) -> String,
) {
    let mut moved: Option<(usize, usize)> = None;
    for (group, range) in presentation.groups() {
        if !group.is_empty() {
            ui.add_space(6.0);
            ui.label(RichText::new(&group).strong().size(15.0));
        }
        for i in range {
            let step = &presentation.steps[i];
            let indent = if group.is_empty() { 0.0 } else { 12.0 };
            // The grip drags; the caption selects (a drag source over the caption would take its
            // clicks).
            let response = ui
                .horizontal(|ui| {
                    ui.add_space(indent);
                    ui.dnd_drag_source(egui::Id::unique(("present-step-drag", step.id)), i, |ui| {
                        ui.label(RichText::new("=").weak()).on_hover_text("Drag to move this step");
                    });
                    ui.vertical(|ui| {
                        let text = format!("{}. {}", i + 1, step.caption);
                        if ui.selectable_label(selected == Some(i), text).clicked() {
                            app.present.selected = Some(i);
                        }
                        ui.label(RichText::new(step.view.describe(name_of)).weak().small());
                    });
                })
                .response;
            if let Some(from) = response.dnd_release_payload::<usize>()
                && *from != i
            {
                moved = Some((*from, i));
            }
        }
    }
    if let Some((from, to)) = moved {
        let mut p = presentation.clone();
        app.present.selected = p.reorder(from, to);
        app.push(Command::EditPresentation { presentation: Box::new(p), what: format!("move step {}", from + 1) });
    }
}

/// The picker of what a step shows and its settings; returns the new view when it changed.
fn view_picker_ui(
    ui: &mut Ui,
    view: &View,
    names: &[String],
    k: Option<usize>,
    app: &StrataApp,
    shows: egui::Id,
) -> Option<View> {
    let mut out = None;
    ui.vertical(|ui| {
        let mut kind = kind_of(view);
        egui::ComboBox::from_id_salt("view-kind")
            .selected_text(KINDS[kind])
            .show_ui(ui, |ui| {
                for (i, label) in KINDS.iter().enumerate() {
                    ui.selectable_value(&mut kind, i, *label);
                }
            })
            .response
            .labelled_by(shows);
        if kind != kind_of(view) {
            out = Some(if kind == 1 { View::KChoice { k } } else { default_view(kind) });
            return;
        }
        let segment_label = |r: Option<&SegmentRef>| match r {
            None => "none".to_string(),
            Some(SegmentRef::Segment(s)) => names.get(*s).cloned().unwrap_or_else(|| format!("Segment {}", s + 1)),
            Some(SegmentRef::Detached { name, .. }) => format!("{name} (no longer a segment)"),
        };
        let segment_picker =
            |ui: &mut Ui, id: &str, current: Option<&SegmentRef>, allow_none: bool, label: egui::Id| {
                let mut chosen: Option<Option<SegmentRef>> = None;
                egui::ComboBox::from_id_salt(id)
                    .selected_text(segment_label(current))
                    .show_ui(ui, |ui| {
                        if allow_none && ui.selectable_label(current.is_none(), "none").clicked() {
                            chosen = Some(None);
                        }
                        for (s, name) in names.iter().enumerate() {
                            let is = current.and_then(SegmentRef::segment) == Some(s);
                            if ui.selectable_label(is, name).clicked() {
                                chosen = Some(Some(SegmentRef::Segment(s)));
                            }
                        }
                    })
                    .response
                    .labelled_by(label);
                chosen
            };
        match view {
            View::KChoice { k: marked } => {
                ui.horizontal(|ui| {
                    let label = ui.label("k marked").id;
                    let ks: Vec<usize> = app
                        .output
                        .as_ref()
                        .and_then(|o| o.result.sweep.as_ref())
                        .map(|s| s.runs.iter().map(|r| r.k).collect())
                        .unwrap_or_else(|| (2..=10).collect());
                    let text = marked.map_or("the project's k".to_string(), |k| format!("k = {k}"));
                    egui::ComboBox::from_id_salt("view-k")
                        .selected_text(text)
                        .show_ui(ui, |ui| {
                            if ui.selectable_label(marked.is_none(), "the project's k").clicked() {
                                out = Some(View::KChoice { k: None });
                            }
                            for k in ks {
                                if ui.selectable_label(*marked == Some(k), format!("k = {k}")).clicked() {
                                    out = Some(View::KChoice { k: Some(k) });
                                }
                            }
                        })
                        .response
                        .labelled_by(label);
                });
            }
            View::Segments { highlight } => {
                ui.horizontal(|ui| {
                    let label = ui.label("Highlight").id;
                    if let Some(h) = segment_picker(ui, "view-highlight", highlight.as_ref(), true, label) {
                        out = Some(View::Segments { highlight: h });
                    }
                });
            }
            View::Segment { segment } => {
                ui.horizontal(|ui| {
                    let label = ui.label("Segment").id;
                    if let Some(Some(s)) = segment_picker(ui, "view-segment", Some(segment), false, label) {
                        out = Some(View::Segment { segment: s });
                    }
                });
            }
            View::Chart { chart, highlight } => {
                ui.horizontal(|ui| {
                    let label = ui.label("Chart").id;
                    let text = CHARTS.iter().find(|(n, _)| n == chart).map_or(chart.as_str(), |(_, l)| *l);
                    egui::ComboBox::from_id_salt("view-chart")
                        .selected_text(text)
                        .show_ui(ui, |ui| {
                            for (name, label) in CHARTS {
                                if ui.selectable_label(chart == name, label).clicked() {
                                    out = Some(View::Chart { chart: name.to_string(), highlight: highlight.clone() });
                                }
                            }
                        })
                        .response
                        .labelled_by(label);
                    if matches!(chart.as_str(), "segment-sizes" | "projection") {
                        let label = ui.label("Highlight").id;
                        if let Some(h) = segment_picker(ui, "view-chart-highlight", highlight.as_ref(), true, label) {
                            out = Some(View::Chart { chart: chart.clone(), highlight: h });
                        }
                    }
                });
            }
            View::Board { quadrant } => {
                ui.horizontal(|ui| {
                    let label = ui.label("Quadrant").id;
                    let text = quadrant.map_or("all four", Quadrant::label);
                    egui::ComboBox::from_id_salt("view-quadrant")
                        .selected_text(text)
                        .show_ui(ui, |ui| {
                            if ui.selectable_label(quadrant.is_none(), "all four").clicked() {
                                out = Some(View::Board { quadrant: None });
                            }
                            for q in Quadrant::ALL {
                                if ui.selectable_label(*quadrant == Some(q), q.label()).clicked() {
                                    out = Some(View::Board { quadrant: Some(q) });
                                }
                            }
                        })
                        .response
                        .labelled_by(label);
                });
            }
            View::Screen { screen } => {
                ui.horizontal(|ui| {
                    let label = ui.label("Screen").id;
                    egui::ComboBox::from_id_salt("view-screen")
                        .selected_text(screen.as_str())
                        .show_ui(ui, |ui| {
                            for s in Screen::ALL.into_iter().filter(|s| *s != Screen::Presentation) {
                                if ui.selectable_label(screen == s.label(), s.label()).clicked() {
                                    out = Some(View::Screen { screen: s.label().to_string() });
                                }
                            }
                        })
                        .response
                        .labelled_by(label);
                });
                let drawn = matches!(screen.as_str(), "Data" | "Model" | "Segments") || screen.contains("Board");
                if !drawn {
                    ui.label(
                        RichText::new("This screen is not drawn on a slide: the slide shows the caption and a note.")
                            .weak(),
                    );
                }
            }
            View::Title | View::Tows => {}
        }
    });
    out
}
