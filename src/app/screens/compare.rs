//! Compare: any two segmentations of the same customers side by side (runs of this session, or a
//! label column of the data such as a legacy segment): adjusted Rand index, adjusted mutual
//! information, the cross-tabulation, and an alluvial view of who goes where.

use std::sync::Arc;

use eframe::egui::{self, Color32, RichText, Ui};

use crate::app::StrataApp;
use crate::app::widgets::color32;
use crate::engine::chart::{Crossing, FlowNode, Flows};
use crate::engine::governance::suppress::Cell;
use crate::engine::jobs::JobContext;
use crate::engine::metrics::agreement::{Crosstab, named_crosstab, segment_labels};

/// One side of a comparison.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Side {
    /// A kept segmentation, by id.
    Run(u64),
    /// A column of the current customer table.
    Column(String),
}

/// A computed comparison.
pub struct Comparison {
    /// Which two.
    pub sides: (Side, Side),
    /// Rows: the first's segments; columns: the second's; with their display names.
    pub crosstab: Crosstab,
    /// Names of the rows and columns.
    pub row_names: Vec<String>,
    /// Names of the columns.
    pub column_names: Vec<String>,
    /// Adjusted Rand index.
    pub ari: f64,
    /// Adjusted mutual information.
    pub ami: f64,
    /// Customers without both labels.
    pub left_out: usize,
}

/// What the screen remembers.
#[derive(Default)]
pub struct CompareState {
    /// First segmentation.
    pub a: Option<Side>,
    /// Second segmentation.
    pub b: Option<Side>,
    /// The latest comparison computed, or why there is none.
    pub result: Option<Result<Arc<Comparison>, String>>,
    /// The two sides `result` is for.
    pub computed_for: Option<(Side, Side)>,
    /// The two sides being compared on a job.
    pub computing: Option<(Side, Side)>,
}

fn side_label(app: &StrataApp, side: &Side) -> String {
    match side {
        Side::Run(id) => {
            app.segmentations.iter().find(|s| s.id == *id).map_or_else(|| format!("Run {id} (gone)"), |s| s.label())
        }
        Side::Column(name) => format!("column {name}"),
    }
}

/// One side as the comparison job takes it: shared, so taking it on the UI thread costs nothing
/// however many customers there are.
enum SideData {
    /// A kept segmentation's segment per customer and its names.
    Run { segments: Arc<Vec<Option<usize>>>, names: Vec<String>, customers_key: String },
    /// A column of the customer table.
    Column { column: polars::prelude::Column, customers_key: String },
}

/// One side resolved: per customer the label (as text for the cross-tabulation), the names of the
/// segments in display order, and which customers it describes.
struct Labels {
    per_customer: Vec<Option<String>>,
    names: Vec<String>,
    customers_key: String,
}

fn side_data(app: &StrataApp, side: &Side) -> Result<SideData, String> {
    match side {
        Side::Run(id) => {
            let kept = app.segmentations.iter().find(|s| s.id == *id).ok_or("that run is no longer kept")?;
            Ok(SideData::Run {
                segments: kept.segments.clone(),
                names: kept.names.clone(),
                customers_key: kept.customers_key.clone(),
            })
        }
        Side::Column(name) => {
            let out = app.output.as_ref().ok_or("no data is loaded")?;
            let column = out.result.customers.column(name).map_err(|e| e.to_string())?.clone();
            Ok(SideData::Column { column, customers_key: crate::app::customers_key(&out.result) })
        }
    }
}

/// The labels of a side, one per customer (on the job: this grows with the customers).
fn side_labels(side: SideData) -> Result<Labels, String> {
    match side {
        SideData::Run { segments, names, customers_key } => {
            Ok(Labels { per_customer: segment_labels(&segments), names, customers_key })
        }
        SideData::Column { column, customers_key } => {
            let text = column.cast(&polars::prelude::DataType::String).map_err(|e| e.to_string())?;
            let values: Vec<Option<String>> =
                text.str().map_err(|e| e.to_string())?.iter().map(|v| v.map(str::to_string)).collect();
            Ok(Labels { per_customer: values, names: Vec::new(), customers_key })
        }
    }
}

/// Computes the comparison of two sides (the job's work).
fn compare(sides: (Side, Side), a: SideData, b: SideData, ctx: &JobContext<'_>) -> Result<Comparison, String> {
    ctx.progress.report("compare", 0.0);
    let Labels { per_customer: la, names: names_a, customers_key: key_a } = side_labels(a)?;
    let Labels { per_customer: lb, names: names_b, customers_key: key_b } = side_labels(b)?;
    if key_a != key_b || la.len() != lb.len() {
        return Err("These two segment different customer tables (other data, as-of date or rows); compare \
                    segmentations of the same customers."
            .to_string());
    }
    if ctx.cancel.is_cancelled() {
        return Err("cancelled".to_string());
    }
    ctx.progress.report("compare", 0.5);
    let table = named_crosstab(la, &names_a, lb, &names_b).map_err(|e| e.to_string())?;
    Ok(Comparison {
        sides,
        ari: table.crosstab.adjusted_rand_index(),
        ami: table.crosstab.adjusted_mutual_information(),
        row_names: table.row_names,
        column_names: table.column_names,
        left_out: table.left_out,
        crosstab: table.crosstab,
    })
}

impl StrataApp {
    /// The comparison the Compare screen shows now (its two sides' labels as titles), when it has
    /// been computed: what its alluvial view draws and exports.
    pub fn shown_comparison(&self) -> Option<Crossing> {
        let state = &self.view.compare;
        let (a, b) = (state.a.clone()?, state.b.clone()?);
        let comparison = match &state.result {
            Some(Ok(c)) if state.computed_for == Some((a.clone(), b.clone())) => c,
            _ => return None,
        };
        Some(Crossing::of_segmentations(
            comparison.crosstab.counts.clone(),
            comparison.row_names.clone(),
            comparison.column_names.clone(),
            (side_label(self, &a), side_label(self, &b)),
            comparison.left_out,
            self.small_cells(),
        ))
    }

    /// Starts comparing `a` with `b` on a job (the cross-tabulation goes over every customer); the
    /// screen shows it when [`CompareState::result`] is for them.
    pub(crate) fn start_compare(&mut self, a: Side, b: Side) {
        let sides = (a.clone(), b.clone());
        let inputs = side_data(self, &a).and_then(|a| Ok((a, side_data(self, &b)?)));
        let state = &mut self.view.compare;
        match inputs {
            Ok((data_a, data_b)) => {
                state.computing = Some(sides.clone());
                self.compare_runner.start("compare", move |ctx| compare(sides, data_a, data_b, ctx));
            }
            Err(message) => {
                self.compare_runner.cancel();
                state.computing = None;
                state.computed_for = Some(sides);
                state.result = Some(Err(message));
            }
        }
    }
}

/// Draws the Compare screen.
pub fn compare_ui(ui: &mut Ui, app: &mut StrataApp) {
    // Found with the run (on its job), not while drawing.
    let columns = app.output.as_ref().map(|o| o.counts.label_columns.clone()).unwrap_or_default();
    let mut options: Vec<(Side, String)> = app.segmentations.iter().map(|s| (Side::Run(s.id), s.label())).collect();
    options.extend(columns.into_iter().map(|c| (Side::Column(c.clone()), format!("column {c}"))));
    ui.heading("Compare two segmentations");
    if options.len() < 2 {
        ui.label(
            "Every segmentation you run is kept here, and saved with the project, beside any label column of the data \
             (a legacy segment, say). Run a second one (another method, k or recipe) to compare it with the first.",
        );
        return;
    }
    // Defaults: the two most recent segmentations (a label column only when there is one run).
    let state = &mut app.view.compare;
    if state.a.is_none() || state.b.is_none() {
        let n_runs = app.segmentations.len();
        let (a, b) = if n_runs >= 2 { (n_runs - 2, n_runs - 1) } else { (0, 1) };
        state.a = Some(options[a].0.clone());
        state.b = Some(options[b].0.clone());
    }
    let mut a = state.a.clone();
    let mut b = state.b.clone();
    ui.horizontal(|ui| {
        for (title, side) in [("Rows", &mut a), ("Columns", &mut b)] {
            let shown = side.as_ref().map_or(String::new(), |s| side_label(app, s));
            egui::ComboBox::from_label(title).selected_text(shown).width(260.0).show_ui(ui, |ui| {
                for (option, label) in &options {
                    let tooltip = match option {
                        Side::Run(id) => app.segmentations.iter().find(|s| s.id == *id).map(|s| s.description.clone()),
                        Side::Column(_) => Some("a column of the customer table".to_string()),
                    };
                    let response = ui.selectable_value(side, Some(option.clone()), label.as_str());
                    if let Some(t) = tooltip {
                        response.on_hover_text(t);
                    }
                }
            });
            ui.add_space(16.0);
        }
        if ui.button("Swap").clicked() {
            std::mem::swap(&mut a, &mut b);
        }
        let mut forget = None;
        ui.menu_button("Forget...", |ui| {
            ui.label(RichText::new("Kept segmentations are saved with the project; forget one to drop it.").weak());
            for s in &app.segmentations {
                if ui.button(s.label()).on_hover_text(s.description.as_str()).clicked() {
                    forget = Some(s.id);
                    ui.close();
                }
            }
        });
        if let Some(id) = forget {
            app.forget_segmentation(id);
        }
    });
    if app.view.compare.a.is_none() {
        // A side was forgotten: choose again next frame.
        return;
    }
    let (Some(a), Some(b)) = (a, b) else { return };
    // Computed on a job (it goes over every customer), once per pair of sides.
    let wanted = (a.clone(), b.clone());
    let state = &app.view.compare;
    let current = state.computed_for.as_ref() == Some(&wanted);
    if !current && state.computing.as_ref() != Some(&wanted) {
        app.start_compare(a.clone(), b.clone());
    }
    app.view.compare.a = Some(a);
    app.view.compare.b = Some(b);
    if app.view.compare.computed_for.as_ref() != Some(&wanted) {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("Comparing...");
        });
        return;
    }
    let comparison = match &app.view.compare.result {
        Some(Ok(c)) => c.clone(),
        Some(Err(message)) => {
            ui.colored_label(ui.visuals().warn_fg_color, message);
            return;
        }
        None => return,
    };
    ui.add_space(6.0);
    ui.horizontal(|ui| {
        ui.label(RichText::new(format!("Adjusted Rand index {:.3}", comparison.ari)).heading()).on_hover_text(
            "Agreement on which pairs of customers are together: 1 = the same segmentation, 0 = no more than chance",
        );
        ui.add_space(24.0);
        ui.label(RichText::new(format!("Adjusted mutual information {:.3}", comparison.ami)).heading()).on_hover_text(
            "Information shared by the two segmentations, corrected for chance: 1 = the same, 0 = independent",
        );
    });
    let Some(crossing) = app.shown_comparison() else { return };
    let threshold = crossing.small_cells;
    let mut note = format!("{} customers in both", crossing.shown().total.words(threshold));
    if comparison.left_out > 0 {
        note.push_str(&format!(
            "; {} without both labels left out",
            crate::engine::governance::suppress::count_words(comparison.left_out, threshold)
        ));
    }
    ui.label(RichText::new(note).weak());
    ui.add_space(6.0);
    let height = ui.available_height();
    ui.horizontal_top(|ui| {
        let table_width = (ui.available_width() * 0.45).max(320.0);
        ui.allocate_ui(egui::vec2(table_width, height), |ui| {
            ui.label(RichText::new("Cross-tabulation").strong())
                .on_hover_text("Customers per pair of segments; the shading is the share of the row");
            egui::ScrollArea::both().id_salt("crosstab").show(ui, |ui| crosstab_ui(ui, &crossing));
        });
        ui.separator();
        ui.vertical(|ui| {
            ui.label(RichText::new("Who goes where").strong())
                .on_hover_text("Left: the rows' segments; right: the columns'; each band is the customers in both");
            let shown = alluvial_ui(ui, &crossing.flows());
            super::chart_export_menu(app, &shown, crate::app::ChartId::Alluvial);
        });
    });
}

/// A cross-tabulation with row and column totals, each cell shaded by its share of the row;
/// counts under the small-cell threshold, and those that would give them away, are not shown (nor
/// their shares or shading).
pub(super) fn crosstab_ui(ui: &mut Ui, crossing: &Crossing) {
    let (row_names, column_names) = (&crossing.row_names, &crossing.column_names);
    let k_columns = column_names.len();
    let shown = crossing.shown();
    let threshold = crossing.small_cells;
    let words = |cell: crate::engine::governance::suppress::Cell| cell.words(threshold);
    egui::Grid::new("crosstab-grid").striped(false).spacing([10.0, 4.0]).show(ui, |ui| {
        ui.label("");
        // Long names would widen every column: shortened here, whole in the tooltip.
        for name in column_names {
            ui.label(RichText::new(shortened(name, 14)).strong()).on_hover_text(name);
        }
        ui.label(RichText::new("Total").strong());
        ui.end_row();
        for (i, name) in row_names.iter().enumerate() {
            ui.horizontal(|ui| {
                let colour =
                    crossing.row_colours.get(i).copied().unwrap_or(crate::engine::chart::palette::NOT_A_SEGMENT);
                crate::app::widgets::swatch_ui(ui, color32(colour));
                ui.label(RichText::new(shortened(name, 24)).strong()).on_hover_text(name);
            });
            let row_total = shown.row_totals.get(i).copied().unwrap_or(Cell::Complement);
            for (j, column_name) in column_names.iter().enumerate() {
                let cell = shown.cells.get(i).and_then(|r| r.get(j)).copied().unwrap_or(Cell::Complement);
                let share = crate::engine::governance::suppress::share(cell, row_total);
                let fill = ui.visuals().selection.bg_fill.gamma_multiply(share.unwrap_or(0.0) as f32);
                egui::Frame::new().fill(fill).inner_margin(egui::Margin::symmetric(4, 1)).show(ui, |ui| {
                    let hover = match share {
                        Some(share) => format!("{:.1}% of {} are in {}", 100.0 * share, name, column_name),
                        None => format!("Not shown: a count under {threshold}, or one that would give it away"),
                    };
                    ui.label(words(cell)).on_hover_text(hover);
                });
            }
            ui.label(words(row_total));
            ui.end_row();
        }
        ui.label(RichText::new("Total").strong());
        for j in 0..k_columns {
            ui.label(words(shown.column_totals.get(j).copied().unwrap_or(Cell::Complement)));
        }
        ui.label(words(shown.total));
        ui.end_row();
    });
}

/// Two stacks of bars joined by bands, one per band of `flows` (laid out as the drawn charts lay
/// them out), each bar named beside it and counted in its tooltip.
pub(super) fn alluvial_ui(ui: &mut Ui, flows: &Flows) -> egui::Response {
    let size = egui::vec2(ui.available_width().max(300.0), (ui.available_height() - 8.0).clamp(240.0, 900.0));
    let (rect, response) = ui.allocate_exact_size(size, egui::Sense::click());
    let painter = ui.painter_at(rect);
    let layout = flows.layout(rect.top(), rect.height(), 6.0);
    let label_width = (rect.width() * 0.22).min(180.0);
    let bar = 14.0;
    let (left_x, right_x) = (rect.left() + label_width, rect.right() - label_width - bar);
    let text = ui.visuals().text_color();
    let font = egui::FontId::proportional(12.0);
    let pointer = response.hover_pos();
    let mut hovered: Option<(String, Cell)> = None;
    // A stack of bars with their names: a name is shortened to the label room, and left out where
    // it would overlap the one above (the bar's tooltip names it).
    let mut stack = |nodes: &[FlowNode], blocks: &[(f32, f32)], gap: f32, x: f32, left: bool| {
        let mut free_from = f32::NEG_INFINITY;
        for (node, &(y, h)) in nodes.iter().zip(blocks) {
            let area = egui::Rect::from_min_size(egui::pos2(x, y), egui::vec2(bar, h.max(1.0)));
            painter.rect_filled(area, 1.0, color32(node.colour));
            if pointer.is_some_and(|p| area.expand2(egui::vec2(4.0, gap / 2.0)).contains(p)) {
                hovered = Some((node.name.clone(), node.shown));
            }
            let label = fitted(&painter, &node.name, &font, label_width - 10.0);
            let galley = painter.layout_no_wrap(label, font.clone(), text);
            let centre = y + h / 2.0;
            if centre - galley.size().y / 2.0 >= free_from {
                let anchor = if left {
                    egui::pos2(x - 6.0 - galley.size().x, centre - galley.size().y / 2.0)
                } else {
                    egui::pos2(x + bar + 6.0, centre - galley.size().y / 2.0)
                };
                free_from = centre + galley.size().y / 2.0;
                painter.galley(anchor, galley, text);
            }
        }
    };
    stack(&flows.left, &layout.left, layout.gaps.0, left_x, true);
    stack(&flows.right, &layout.right, layout.gaps.1, right_x, false);
    let response = match hovered {
        Some((name, total)) => response.on_hover_text(format!("{name}: {}", total.words(flows.small_cells))),
        None => response,
    };
    // Each band flat at both ends (smoothstep), in its left bar's colour.
    let mut mesh = egui::Mesh::default();
    for (link, &[l0, hl, r0, hr]) in flows.links.iter().zip(&layout.links) {
        let Some(from) = flows.left.get(link.from) else { continue };
        let colour = color32(from.colour).gamma_multiply(0.45);
        let (x0, x1) = (left_x + bar, right_x);
        const STEPS: usize = 24;
        let base = mesh.vertices.len() as u32;
        for step in 0..=STEPS {
            let t = step as f32 / STEPS as f32;
            let s = t * t * (3.0 - 2.0 * t);
            let x = x0 + (x1 - x0) * t;
            let top = l0 + (r0 - l0) * s;
            let bottom = (l0 + hl) + ((r0 + hr) - (l0 + hl)) * s;
            mesh.colored_vertex(egui::pos2(x, top), colour);
            mesh.colored_vertex(egui::pos2(x, bottom.max(top + 0.5)), colour);
        }
        for step in 0..STEPS as u32 {
            let v = base + 2 * step;
            mesh.add_triangle(v, v + 1, v + 2);
            mesh.add_triangle(v + 1, v + 3, v + 2);
        }
    }
    painter.add(egui::Shape::mesh(mesh));
    response
}

/// `name` cut to `max_chars` characters with an ellipsis.
fn shortened(name: &str, max_chars: usize) -> String {
    if name.chars().count() <= max_chars {
        name.to_string()
    } else {
        format!("{}...", name.chars().take(max_chars.saturating_sub(3)).collect::<String>())
    }
}

/// `name` shortened (with an ellipsis) until it fits `width` points in `font`.
fn fitted(painter: &egui::Painter, name: &str, font: &egui::FontId, width: f32) -> String {
    let fits = |text: &str| painter.layout_no_wrap(text.to_string(), font.clone(), Color32::WHITE).size().x <= width;
    if fits(name) {
        return name.to_string();
    }
    let chars: Vec<char> = name.chars().collect();
    let mut keep = chars.len();
    while keep > 1 {
        keep -= 1;
        let text = format!("{}...", chars[..keep].iter().collect::<String>());
        if fits(&text) {
            return text;
        }
    }
    String::new()
}
