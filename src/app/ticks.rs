//! Axis ticks that stay readable at every size a chart is drawn (egui_plot's default steps jump
//! tenfold and hide every label once they crowd): the rule is the engine's
//! ([`crate::engine::chart::ticks`]), so the window labels the ticks the PNG and the report label.

use egui_plot::{AxisHints, GridInput, GridMark, Plot};

pub use crate::engine::chart::ticks::{Ticks, tick_label};

/// egui_plot's default `grid_spacing` minimum: `GridInput::base_step_size` is this many points in
/// plot units (the charts here do not change it).
const GRID_SPACING_MIN: f64 = 8.0;

/// `plot` with readable ticks on both axes. Call it first: later `x_axis_label`, `y_axis_label`
/// and `*_axis_formatter` calls still apply to the axes it sets.
pub fn readable(plot: Plot<'_>, x: Ticks, y: Ticks) -> Plot<'_> {
    readable_with_x_labels(plot, x, y, 0)
}

/// [`readable`], for an x axis whose own formatter writes labels up to `x_label_chars` long
/// (dates, names): its ticks are spaced for those labels rather than for numbers.
pub fn readable_with_x_labels(plot: Plot<'_>, x: Ticks, y: Ticks, x_label_chars: usize) -> Plot<'_> {
    plot.custom_x_axes(vec![
        AxisHints::new_x().label_spacing(10.0..=12.0).formatter(|mark, _| tick_label(mark.value, mark.step_size)),
    ])
    .custom_y_axes(vec![
        AxisHints::new_y().label_spacing(10.0..=12.0).formatter(|mark, _| tick_label(mark.value, mark.step_size)),
    ])
    .x_grid_spacer(move |input| marks_for(&input, x, Axis::X(x_label_chars)))
    .y_grid_spacer(move |input| marks_for(&input, y, Axis::Y))
}

/// Which way an axis runs: x labels need their width between them, y labels their height.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Axis {
    /// Horizontal, with labels at least this many characters long.
    X(usize),
    Y,
}

fn marks_for(input: &GridInput, ticks: Ticks, axis: Axis) -> Vec<GridMark> {
    let points_per_unit = GRID_SPACING_MIN / input.base_step_size;
    let x_chars = match axis {
        Axis::X(chars) => Some(chars),
        Axis::Y => None,
    };
    crate::engine::chart::ticks::marks(input.bounds, points_per_unit, ticks, x_chars)
        .into_iter()
        .map(|t| GridMark { value: t.value, step_size: t.step })
        .collect()
}
