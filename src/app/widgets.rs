//! Small drawing helpers shared by the screens: segment colours, heat colours, mini histograms.

use eframe::egui::{self, Color32, Sense, Stroke, Ui, Vec2};

use crate::engine::profile::summary::Histogram;

/// Segment colours: Okabe-Ito and Tableau hues, distinguishable for most colour-blind viewers and
/// readable on a projector in both themes.
const PALETTE: [Color32; 12] = [
    Color32::from_rgb(0, 114, 178),
    Color32::from_rgb(230, 159, 0),
    Color32::from_rgb(0, 158, 115),
    Color32::from_rgb(204, 121, 167),
    Color32::from_rgb(213, 94, 0),
    Color32::from_rgb(86, 180, 233),
    Color32::from_rgb(120, 94, 240),
    Color32::from_rgb(140, 140, 140),
    Color32::from_rgb(170, 130, 60),
    Color32::from_rgb(60, 170, 60),
    Color32::from_rgb(200, 60, 90),
    Color32::from_rgb(40, 80, 120),
];

/// The colour of segment `segment` (the fallback segment is grey).
pub fn segment_colour(segment: usize, k: usize) -> Color32 {
    if segment >= k {
        return Color32::from_gray(150);
    }
    PALETTE[segment % PALETTE.len()]
}

/// A diverging colour for a value in -1..1 (blue below, red above), for heat-coloured tables.
pub fn heat_colour(value: f64) -> Color32 {
    let v = value.clamp(-1.0, 1.0) as f32;
    let alpha = (v.abs() * 160.0) as u8;
    let (r, g, b) = if v >= 0.0 { (214, 96, 77) } else { (67, 147, 195) };
    Color32::from_rgba_unmultiplied(r, g, b, alpha)
}

/// A small histogram drawn with the painter (no plot widget: dozens of these share one screen).
pub fn mini_histogram_ui(ui: &mut Ui, histogram: &Histogram, size: Vec2, colour: Color32) -> egui::Response {
    let (rect, response) = ui.allocate_exact_size(size, Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_stroke(
        rect,
        2.0,
        Stroke::new(1.0, ui.visuals().widgets.noninteractive.bg_stroke.color),
        egui::StrokeKind::Inside,
    );
    let max = histogram.counts.iter().copied().max().unwrap_or(0).max(1) as f32;
    let n = histogram.counts.len().max(1) as f32;
    let bar_width = rect.width() / n;
    for (i, &count) in histogram.counts.iter().enumerate() {
        if count == 0 {
            continue;
        }
        let height = (count as f32 / max) * (rect.height() - 2.0);
        let x = rect.left() + i as f32 * bar_width;
        let bar = egui::Rect::from_min_max(
            egui::pos2(x + 0.5, rect.bottom() - 1.0 - height),
            egui::pos2(x + bar_width - 0.5, rect.bottom() - 1.0),
        );
        painter.rect_filled(bar, 0.0, colour);
    }
    response.on_hover_text(format!(
        "{} to {}{} in {} bars",
        format_number(histogram.lo),
        format_number(histogram.hi),
        if histogram.n_above > 0 {
            format!(" ({} values above, up to {}, in the last bar)", histogram.n_above, format_number(histogram.max))
        } else {
            String::new()
        },
        histogram.counts.len()
    ))
}

/// A number with a sensible number of digits for a table cell.
pub fn format_number(v: f64) -> String {
    if !v.is_finite() {
        return "-".to_string();
    }
    let a = v.abs();
    if a == 0.0 {
        "0".to_string()
    } else if a >= 1e6 {
        format!("{:.3e}", v)
    } else if v.fract() == 0.0 || a >= 1000.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{:.1}", v)
    } else if a >= 0.01 {
        format!("{:.3}", v)
    } else {
        format!("{:.2e}", v)
    }
}

/// A count with thousands separators.
pub fn format_count(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A coloured square, for legends and segment cards.
pub fn swatch_ui(ui: &mut Ui, colour: Color32) {
    let (rect, _) = ui.allocate_exact_size(Vec2::splat(14.0), Sense::hover());
    ui.painter().rect_filled(rect, 3.0, colour);
}

/// Gives a widget without a visible label of its own (a cell of a table) the name a screen reader
/// reads, and that tests find it by.
pub fn accessible_name(response: &egui::Response, name: &str) {
    response.ctx.accesskit_node_builder(response.id, |node| node.set_label(name));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_get_thousands_separators() {
        assert_eq!(format_count(0), "0");
        assert_eq!(format_count(999), "999");
        assert_eq!(format_count(23_570), "23,570");
        assert_eq!(format_count(1_000_000), "1,000,000");
    }

    #[test]
    fn numbers_keep_readable_digits() {
        assert_eq!(format_number(f64::NAN), "-");
        assert_eq!(format_number(1234.5), "1234");
        assert_eq!(format_number(12.345), "12.3");
        assert_eq!(format_number(0.5), "0.500");
    }
}
