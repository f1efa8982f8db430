//! Segment colours, one table for the window, the PNG charts and the report: a segment has the same
//! colour wherever it is drawn (its palette slot comes from [`crate::engine::naming::colour_slots`]).

use super::Rgba;

/// The palette: first the seven Okabe-Ito hues and a violet (safe for the common kinds of colour
/// blindness, saturated enough for a projector, none too dark for the dark theme), then sixteen
/// Tableau-20 hues that differ from them in hue or lightness. Past these 24, [`slot_colour`] steps
/// round the hue circle, so 60 segments never repeat a colour.
pub const PALETTE_RGB: [[u8; 3]; 24] = [
    [0, 114, 178],
    [230, 159, 0],
    [0, 158, 115],
    [204, 121, 167],
    [213, 94, 0],
    [86, 180, 233],
    [240, 228, 66],
    [120, 94, 240],
    [214, 39, 40],
    [140, 86, 75],
    [188, 189, 34],
    [23, 190, 207],
    [174, 199, 232],
    [255, 187, 120],
    [152, 223, 138],
    [255, 152, 150],
    [197, 176, 213],
    [196, 156, 148],
    [247, 182, 210],
    [219, 219, 141],
    [158, 218, 229],
    [148, 103, 189],
    [44, 160, 44],
    [227, 119, 194],
];

/// The grey of the fallback segment and the business rules' segments.
pub const OUTSIDE_MODEL: Rgba = Rgba([150, 150, 150, 255]);

/// The grey of what is not a segment in a flows chart ("not present" in a window, the columns of a
/// comparison whose bands carry the rows' colours).
pub const NOT_A_SEGMENT: Rgba = Rgba([120, 120, 120, 255]);

/// The colour of palette slot `slot`: the palette, then hues a golden angle apart at alternating
/// lightness (hue, saturation and value in linear RGB, as egui's `Hsva` reads them).
pub fn slot_colour(slot: usize) -> Rgba {
    if let Some([r, g, b]) = PALETTE_RGB.get(slot) {
        return Rgba([*r, *g, *b, 255]);
    }
    let extra = slot - PALETTE_RGB.len();
    let hue = (0.07 + extra as f32 * 0.381_966) % 1.0;
    let (saturation, value) = if extra.is_multiple_of(2) { (0.75, 0.85) } else { (0.45, 0.95) };
    let [r, g, b] = hsv_to_linear(hue, saturation, value);
    Rgba([srgb_from_linear(r), srgb_from_linear(g), srgb_from_linear(b), 255])
}

/// The colours of one segmentation's segments: each model segment's palette slot; segments past the
/// model's (the fallback, the rules' segments) are grey.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SegmentColours {
    slots: Vec<usize>,
}

impl SegmentColours {
    /// The colours of `k` model segments named by `notes`: a named segment keeps its colour.
    pub fn new(notes: &[crate::engine::project::SegmentNote], k: usize) -> Self {
        SegmentColours { slots: crate::engine::naming::colour_slots(notes, k) }
    }

    /// Numbered colours, as before any re-fit.
    pub fn by_number(k: usize) -> Self {
        SegmentColours { slots: (0..k).collect() }
    }

    /// The colour of segment `segment`.
    pub fn of(&self, segment: usize) -> Rgba {
        self.slots.get(segment).map_or(OUTSIDE_MODEL, |&slot| slot_colour(slot))
    }
}

/// HSV to linear RGB (egui's `ecolor::rgb_from_hsv`).
fn hsv_to_linear(h: f32, s: f32, v: f32) -> [f32; 3] {
    let h = (h.fract() + 1.0).fract();
    let s = s.clamp(0.0, 1.0);
    let f = h * 6.0 - (h * 6.0).floor();
    let p = v * (1.0 - s);
    let q = v * (1.0 - f * s);
    let t = v * (1.0 - (1.0 - f) * s);
    match (h * 6.0).floor() as i32 % 6 {
        0 => [v, t, p],
        1 => [q, v, p],
        2 => [p, v, t],
        3 => [p, q, v],
        4 => [t, p, v],
        _ => [v, p, q],
    }
}

/// A linear value 0..1 as an sRGB byte (egui's `gamma_u8_from_linear_f32`).
fn srgb_from_linear(l: f32) -> u8 {
    if l <= 0.0 {
        0
    } else if l <= 0.0031308 {
        (3294.6 * l).round() as u8
    } else if l <= 1.0 {
        (269.025 * l.powf(1.0 / 2.4) - 14.025).round() as u8
    } else {
        255
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_past_the_palette_never_repeat_a_colour() {
        let colours: std::collections::HashSet<Rgba> = (0..60).map(slot_colour).collect();
        assert_eq!(colours.len(), 60);
        assert_eq!(slot_colour(0), Rgba([0, 114, 178, 255]));
        assert_eq!(SegmentColours::by_number(2).of(5), OUTSIDE_MODEL);
    }
}
