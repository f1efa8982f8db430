//! Small drawing helpers shared by the screens: segment colours, heat colours, mini histograms.

use eframe::egui::{self, Color32, Sense, Stroke, Ui, Vec2};

use crate::engine::chart::{Rgba, palette};
use crate::engine::profile::summary::Histogram;

/// An engine colour ([`Rgba`], the charts' and the report's) as egui's.
pub fn color32(colour: Rgba) -> Color32 {
    let [r, g, b, a] = colour.0;
    Color32::from_rgba_unmultiplied(r, g, b, a)
}

/// The colour of segment `segment` among `k` by its number (the fallback segment, `segment >= k`, is
/// grey), for segmentations without names (Compare's kept runs); the current one colours through
/// [`SegmentColours`], so a named segment keeps its colour across re-fits.
pub fn segment_colour(segment: usize, k: usize) -> Color32 {
    if segment >= k {
        return color32(palette::OUTSIDE_MODEL);
    }
    color32(palette::slot_colour(segment))
}

/// The colours of the current segmentation's segments: the engine's [`palette::SegmentColours`]
/// (so the PNG charts and the report colour a segment as the window does), as egui colours.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SegmentColours(palette::SegmentColours);

impl SegmentColours {
    /// The colours of `k` model segments named by `notes`.
    pub fn new(notes: &[crate::engine::project::SegmentNote], k: usize) -> Self {
        SegmentColours(palette::SegmentColours::new(notes, k))
    }

    /// Numbered colours, as before any re-fit.
    pub fn by_number(k: usize) -> Self {
        SegmentColours(palette::SegmentColours::by_number(k))
    }

    /// The colour of segment `segment`.
    pub fn of(&self, segment: usize) -> Color32 {
        color32(self.0.of(segment))
    }

    /// The same colours as the engine's charts take them.
    pub fn engine(&self) -> &palette::SegmentColours {
        &self.0
    }
}

/// A diverging colour for a value in -1..1 (blue below, red above), for heat-coloured tables.
pub fn heat_colour(value: f64) -> Color32 {
    let v = value.clamp(-1.0, 1.0) as f32;
    let alpha = (v.abs() * 160.0) as u8;
    let (r, g, b) = if v >= 0.0 { (214, 96, 77) } else { (67, 147, 195) };
    Color32::from_rgba_unmultiplied(r, g, b, alpha)
}

/// The background of a heat-coloured cell under text in `visuals`' theme: opaque, from the panel
/// colour at 0 to a red (above) or blue (below) at +-1 that keeps the theme's text readable (deep
/// hues under the dark theme's light text, pale ones under the light theme's dark text).
pub fn heat_fill(visuals: &egui::Visuals, value: f64) -> Color32 {
    let v = value.clamp(-1.0, 1.0) as f32;
    let base = visuals.panel_fill;
    let end = match (visuals.dark_mode, v >= 0.0) {
        (true, true) => Color32::from_rgb(165, 40, 30),
        (true, false) => Color32::from_rgb(25, 85, 160),
        (false, true) => Color32::from_rgb(244, 150, 120),
        (false, false) => Color32::from_rgb(130, 185, 225),
    };
    let t = v.abs();
    let mix = |a: u8, b: u8| (f32::from(a) + (f32::from(b) - f32::from(a)) * t).round() as u8;
    Color32::from_rgb(mix(base.r(), end.r()), mix(base.g(), end.g()), mix(base.b(), end.b()))
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
        format_number(histogram.min),
        format_number(if histogram.n_above > 0 { histogram.hi } else { histogram.max }),
        if histogram.n_above > 0 {
            format!(" ({} values above, up to {}, in the last bar)", histogram.n_above, format_number(histogram.max))
        } else {
            String::new()
        },
        histogram.counts.len()
    ))
}

/// A number with a sensible number of digits for a table cell: thousands separated and no
/// exponent between 0.0001 and a thousand million million, so a column of money reads 749,704
/// beside 1,856,012 rather than 1.856e6; three significant digits below 10.
pub fn format_number(v: f64) -> String {
    if !v.is_finite() {
        return "-".to_string();
    }
    let a = v.abs();
    if a == 0.0 {
        "0".to_string()
    } else if !(1e-4..1e15).contains(&a) {
        format!("{v:.2e}")
    } else if a >= 999.5 {
        let digits = format_count(a.round() as usize);
        if v < 0.0 { format!("-{digits}") } else { digits }
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else {
        // Three significant digits: 0.500, 0.0739, 0.00739.
        let decimals = (2 - a.log10().floor() as i32).max(0) as usize;
        format!("{v:.decimals$}")
    }
}

/// A count with thousands separators (the engine's, so window and reports write counts alike).
pub fn format_count(n: usize) -> String {
    crate::engine::words::thousands(n)
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
        assert_eq!(format_number(1234.5), "1,235");
        assert_eq!(format_number(1_856_012.0), "1,856,012");
        assert_eq!(format_number(-749_704.2), "-749,704");
        assert_eq!(format_number(0.00739), "0.00739");
        assert_eq!(format_number(0.0739), "0.0739");
        assert_eq!(format_number(1e-7), "1.00e-7");
        assert_eq!(format_number(2e20), "2.00e20");
        assert_eq!(format_number(12.345), "12.3");
        assert_eq!(format_number(0.5), "0.500");
    }
}
