//! Axis ticks that stay readable at every size a chart is drawn: steps of 1, 2 or 5 times a power
//! of ten, spaced for their labels, so a small chart keeps two or three labelled ticks per numeric
//! axis. One rule for the window (egui_plot's grid spacers call it) and the drawn charts (PNG and
//! report), so both label the same ticks. Lengths are in points: the window's, or a drawn chart's
//! pixels divided by its text scale.

/// What an axis's values are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ticks {
    /// Any number: ticks at 1, 2 or 5 times a power of ten.
    Numbers,
    /// Counts, k, window numbers: ticks at whole numbers only.
    Integers,
}

/// One labelled tick: where it is and the step between its neighbours (which sets its decimals).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tick {
    /// The value at the tick.
    pub value: f64,
    /// The distance between two ticks.
    pub step: f64,
}

/// Points between two labels on the y axis (a line of body text and a gap).
const Y_LABEL_POINTS: f64 = 26.0;
/// Width of one character of a tick label, in points (a body-text digit, rounded up).
pub const CHAR_POINTS: f64 = 8.5;
/// Gap between two labels on the x axis, in points.
const X_LABEL_GAP: f64 = 14.0;

/// The labelled ticks for an axis showing `bounds`, drawn at `points_per_unit`: the smallest step
/// whose labels fit side by side, but never so large that fewer than two ticks remain in view.
/// `x_chars` is `Some(minimum label length)` for a horizontal axis, `None` for a vertical one.
pub fn marks(bounds: (f64, f64), points_per_unit: f64, ticks: Ticks, x_chars: Option<usize>) -> Vec<Tick> {
    let (lo, hi) = bounds;
    let range = hi - lo;
    if !(range.is_finite() && range > 0.0 && points_per_unit.is_finite() && points_per_unit > 0.0) {
        return Vec::new();
    }
    let fits = |step: f64| {
        let needed = match x_chars {
            Some(chars) => label_width(bounds, step).max(chars as f64 * CHAR_POINTS) + X_LABEL_GAP,
            None => Y_LABEL_POINTS,
        };
        step * points_per_unit >= needed
    };
    let floor = if ticks == Ticks::Integers { 1.0 } else { 0.0 };
    // The smallest nice step that fits its labels...
    let mut step = nice_at_least((Y_LABEL_POINTS.min(X_LABEL_GAP) / points_per_unit).max(floor));
    let mut guard = 0;
    while !fits(step) && guard < 64 {
        step = next_nice(step);
        guard += 1;
    }
    // ... unless that leaves fewer than two marks: then the largest step that keeps two (egui
    // still hides any label that cannot fit, so nothing overlaps).
    while count_in(bounds, step) < 2 && step > floor.max(f64::MIN_POSITIVE) && guard < 128 {
        let smaller = previous_nice(step);
        if smaller < floor {
            break;
        }
        step = smaller;
        guard += 1;
    }
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).take(1000).map(|i| Tick { value: i as f64 * step, step }).collect()
}

fn count_in((lo, hi): (f64, f64), step: f64) -> i64 {
    (hi / step).floor() as i64 - (lo / step).ceil() as i64 + 1
}

/// The smallest of 1, 2, 5 × 10^n that is at least `v` (`v` > 0).
fn nice_at_least(v: f64) -> f64 {
    let v = if v.is_finite() && v > 0.0 { v } else { 1.0 };
    let power = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        // A little slack, so 0.3 / 0.1 rounding does not skip a step.
        if m * power >= v * (1.0 - 1e-9) {
            return m * power;
        }
    }
    10.0 * power
}

fn next_nice(step: f64) -> f64 {
    nice_at_least(step * 1.5)
}

fn previous_nice(step: f64) -> f64 {
    // 1 → 0.5, 2 → 1, 5 → 2: the nice number just below.
    let below = step / 2.6;
    nice_at_least(below)
}

/// How many decimals a tick at `step` needs (0.5 → 1, 0.02 → 2, 5 → 0).
fn decimals(step: f64) -> usize {
    if step >= 1.0 || !step.is_finite() || step <= 0.0 { 0 } else { (-step.log10() - 1e-9).ceil().max(0.0) as usize }
}

/// The label of a tick at `value` among ticks `step` apart: thousands separated, as many
/// decimals as the step needs, never "-0".
pub fn tick_label(value: f64, step: f64) -> String {
    if !value.is_finite() {
        return String::new();
    }
    let d = decimals(step);
    let rounded = if value.abs() < step * 1e-6 { 0.0 } else { value };
    if d == 0 && rounded.abs() < 1e15 {
        let digits = crate::engine::words::thousands(rounded.abs().round() as usize);
        if rounded.round() < 0.0 { format!("-{digits}") } else { digits }
    } else if rounded.abs() >= 1e15 || (rounded != 0.0 && rounded.abs() < 1e-6) {
        format!("{rounded:.1e}")
    } else {
        format!("{rounded:.d$}")
    }
}

/// The widest label among the ticks in `bounds`, in points (estimated from its characters).
fn label_width((lo, hi): (f64, f64), step: f64) -> f64 {
    let widest = [lo, hi, (lo + hi) / 2.0]
        .iter()
        .map(|&v| tick_label((v / step).round() * step, step).chars().count())
        .max()
        .unwrap_or(1);
    widest as f64 * CHAR_POINTS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labelled(bounds: (f64, f64), length_points: f64, ticks: Ticks, horizontal: bool) -> Vec<Tick> {
        marks(bounds, length_points / (bounds.1 - bounds.0), ticks, horizontal.then_some(0))
    }

    #[test]
    fn every_axis_keeps_two_or_more_labelled_ticks_at_small_sizes() {
        let ranges = [(-0.05, 1.05), (0.0, 37.0), (-5.0, 105.0), (1.5, 60.5), (-3.2, 7.9), (0.0, 1_856_012.0)];
        for &bounds in &ranges {
            for length in [60.0, 80.0, 100.0, 140.0, 200.0, 400.0, 900.0, 2000.0] {
                for horizontal in [true, false] {
                    // A narrow x axis cannot hold two seven-digit labels; it keeps as many as fit.
                    if horizontal && length < 200.0 && bounds.1 > 1e6 {
                        continue;
                    }
                    let m = labelled(bounds, length, Ticks::Numbers, horizontal);
                    assert!(m.len() >= 2, "{bounds:?} over {length} points: {m:?}");
                    let spacing = m[0].step * length / (bounds.1 - bounds.0);
                    let needed = if horizontal { label_width(bounds, m[0].step) } else { 18.0 };
                    assert!(spacing >= needed, "{bounds:?} over {length}: {spacing} < {needed}");
                    assert!(m.iter().all(|g| g.value >= bounds.0 && g.value <= bounds.1));
                }
            }
        }
    }

    #[test]
    fn large_axes_get_more_ticks_and_integers_stay_whole() {
        let few = labelled((0.0, 100.0), 100.0, Ticks::Numbers, false).len();
        let many = labelled((0.0, 100.0), 800.0, Ticks::Numbers, false).len();
        assert!(many > few && few >= 2, "{few} {many}");
        for length in [80.0, 300.0, 1200.0] {
            let k = labelled((1.5, 60.5), length, Ticks::Integers, true);
            assert!(k.len() >= 2, "{length}: {k:?}");
            assert!(k.iter().all(|g| g.value.fract() == 0.0 && g.step >= 1.0));
        }
        // Two to three k on a wide axis: every k is labelled.
        assert_eq!(labelled((1.5, 3.5), 400.0, Ticks::Integers, true).len(), 2);
    }

    #[test]
    fn labels_show_the_digits_their_step_needs() {
        assert_eq!(tick_label(0.5, 0.5), "0.5");
        assert_eq!(tick_label(1.0, 0.5), "1.0");
        assert_eq!(tick_label(-1e-17, 0.2), "0.0");
        assert_eq!(tick_label(1_500_000.0, 500_000.0), "1,500,000");
        assert_eq!(tick_label(-2000.0, 1000.0), "-2,000");
        assert_eq!(tick_label(0.02, 0.02), "0.02");
        assert_eq!(nice_at_least(0.3), 0.5);
        assert_eq!(nice_at_least(3.0), 5.0);
        assert_eq!(nice_at_least(20.0), 20.0);
        assert_eq!(previous_nice(5.0), 2.0);
        assert_eq!(previous_nice(1.0), 0.5);
    }
}
