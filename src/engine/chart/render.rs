//! Draws a [`Chart`] without a display: anti-aliased paths by tiny-skia, text by ab_glyph in the
//! font the window shows (Ubuntu Light, from `epaint_default_fonts`, built into the binary), at a
//! fixed size in pixels that no window influences. The result is a PNG.

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use tiny_skia::{
    FillRule, FilterQuality, LineCap, LineJoin, Mask, Paint, PathBuilder, Pattern, Pixmap, PixmapPaint,
    PremultipliedColorU8, Rect, SpreadMode, Stroke as SkStroke, StrokeDash, Transform,
};

use super::{Axis, AxisTicks, Body, Chart, ChartError, Flows, HeatTable, Mark, Rgba, Stroke, flows, ticks};

/// The smallest width or height a chart is drawn at, in pixels.
pub const MIN_SIDE: u32 = 200;
/// The largest width or height a chart is drawn at, in pixels.
pub const MAX_SIDE: u32 = 8000;

const BACKGROUND: Rgba = Rgba::rgb(255, 255, 255);
const TEXT: Rgba = Rgba::rgb(34, 34, 34);
const WEAK_TEXT: Rgba = Rgba::rgb(95, 95, 95);
const GRID: Rgba = Rgba::rgb(232, 232, 232);
const FRAME: Rgba = Rgba::rgb(180, 180, 180);

/// The chart as PNG bytes, `width` x `height` pixels (each within [`MIN_SIDE`]..=[`MAX_SIDE`]).
pub fn render_png(chart: &Chart, width: u32, height: u32) -> Result<Vec<u8>, ChartError> {
    let pixmap = render(chart, width, height)?;
    pixmap.encode_png().map_err(|e| ChartError::Draw(e.to_string()))
}

/// The chart drawn into a pixmap.
fn render(chart: &Chart, width: u32, height: u32) -> Result<Pixmap, ChartError> {
    for (what, side) in [("width", width), ("height", height)] {
        if !(MIN_SIDE..=MAX_SIDE).contains(&side) {
            return Err(ChartError::Draw(format!("the {what} must be {MIN_SIDE} to {MAX_SIDE} pixels (got {side})")));
        }
    }
    let font = FontRef::try_from_slice(epaint_default_fonts::UBUNTU_LIGHT)
        .map_err(|e| ChartError::Draw(format!("the built-in font could not be read: {e}")))?;
    let mut pixmap =
        Pixmap::new(width, height).ok_or_else(|| ChartError::Draw(format!("no room for {width} x {height}")))?;
    pixmap.fill(colour(BACKGROUND));
    let mut canvas = Canvas { pixmap, font, scale: text_scale(width, height) };
    canvas.chart(chart);
    Ok(canvas.pixmap)
}

/// Pixels per point of text: 1 at 1,000 pixels wide, growing with the picture (within limits) so a
/// large export is not all margins and a small one stays legible; a wide, low picture (a short
/// table) keeps its width's text unless it is lower than 400 pixels per point.
fn text_scale(width: u32, height: u32) -> f32 {
    (width as f32 / 1000.0).min(height as f32 / 400.0).clamp(0.6, 3.0)
}

fn colour(c: Rgba) -> tiny_skia::Color {
    let [r, g, b, a] = c.0;
    tiny_skia::Color::from_rgba8(r, g, b, a)
}

fn paint(c: Rgba) -> Paint<'static> {
    let mut p = Paint::default();
    p.set_color(colour(c));
    p.anti_alias = true;
    p
}

/// Where a plot's data land on the picture.
struct Frame {
    rect: Rect,
    x: (f64, f64),
    y: (f64, f64),
}

impl Frame {
    fn px(&self, x: f64) -> f32 {
        let (lo, hi) = self.x;
        self.rect.left() + ((x - lo) / (hi - lo)) as f32 * self.rect.width()
    }
    fn py(&self, y: f64) -> f32 {
        let (lo, hi) = self.y;
        self.rect.bottom() - ((y - lo) / (hi - lo)) as f32 * self.rect.height()
    }
}

struct Canvas<'f> {
    pixmap: Pixmap,
    font: FontRef<'f>,
    scale: f32,
}

/// How a text is placed relative to its anchor.
#[derive(Clone, Copy)]
enum Align {
    Left,
    Centre,
    Right,
}

impl Canvas<'_> {
    fn width(&self) -> f32 {
        self.pixmap.width() as f32
    }
    fn height(&self) -> f32 {
        self.pixmap.height() as f32
    }

    /// The width of `text` at `size` points.
    fn measure(&self, text: &str, size: f32) -> f32 {
        let font = self.font.as_scaled(PxScale::from(size * self.scale));
        let mut width = 0.0;
        let mut previous = None;
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(p) = previous {
                width += font.kern(p, id);
            }
            width += font.h_advance(id);
            previous = Some(id);
        }
        width
    }

    /// `text` cut with an ellipsis to fit `max` pixels (the longest prefix that fits, found by
    /// halving, so a long hostile name costs a few measurements).
    fn fit(&self, text: &str, size: f32, max: f32) -> String {
        if self.measure(text, size) <= max {
            return text.to_string();
        }
        let chars: Vec<char> = text.chars().collect();
        let cut = |n: usize| chars[..n].iter().collect::<String>() + "…";
        let (mut lo, mut hi) = (0usize, chars.len());
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            if self.measure(&cut(mid), size) <= max {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        if lo == 0 { String::new() } else { cut(lo) }
    }

    /// `text` broken into lines of at most `max` pixels, at most `lines` of them.
    fn wrap(&self, text: &str, size: f32, max: f32, lines: usize) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut line = String::new();
        for word in text.split_whitespace() {
            let candidate = if line.is_empty() { word.to_string() } else { format!("{line} {word}") };
            if self.measure(&candidate, size) <= max || line.is_empty() {
                line = candidate;
            } else {
                out.push(std::mem::take(&mut line));
                line = word.to_string();
            }
        }
        if !line.is_empty() {
            out.push(line);
        }
        if out.len() > lines {
            let rest = out[lines - 1..].join(" ");
            out.truncate(lines - 1);
            out.push(rest);
        }
        out.into_iter().map(|l| self.fit(&l, size, max)).collect()
    }

    /// Writes `text` at `size` points with its baseline at `y`, anchored at `x`.
    fn text(&mut self, text: &str, size: f32, x: f32, y: f32, align: Align, c: Rgba) {
        if text.is_empty() || !(x.is_finite() && y.is_finite()) {
            return;
        }
        let px = PxScale::from(size * self.scale);
        let scaled = self.font.as_scaled(px);
        let width = self.measure(text, size);
        let left = match align {
            Align::Left => x,
            Align::Centre => x - width / 2.0,
            Align::Right => x - width,
        };
        let ascent = scaled.ascent();
        let descent = scaled.descent();
        if left > self.width() || left + width < 0.0 || y + ascent < 0.0 || y - ascent > self.height() {
            return;
        }
        let (w, h) = ((width.ceil() as u32 + 4).max(1), ((ascent - descent).ceil() as u32 + 4).max(1));
        let Some(mut glyphs) = Pixmap::new(w, h) else { return };
        let [r, g, b, a] = c.0;
        let mut caret = 2.0;
        let mut previous = None;
        {
            let pixels = glyphs.pixels_mut();
            for ch in text.chars() {
                let id = scaled.glyph_id(ch);
                if let Some(p) = previous {
                    caret += scaled.kern(p, id);
                }
                let glyph = id.with_scale_and_position(px, point(caret, 2.0 + ascent));
                caret += scaled.h_advance(id);
                previous = Some(id);
                let Some(outlined) = self.font.outline_glyph(glyph) else { continue };
                let bounds = outlined.px_bounds();
                outlined.draw(|gx, gy, coverage| {
                    let (x, y) = (bounds.min.x as i64 + gx as i64, bounds.min.y as i64 + gy as i64);
                    if x < 0 || y < 0 || x >= w as i64 || y >= h as i64 {
                        return;
                    }
                    let index = y as usize * w as usize + x as usize;
                    let alpha = (coverage.clamp(0.0, 1.0) * a as f32).round() as u8;
                    if alpha > pixels[index].alpha() {
                        let premultiply = |v: u8| ((v as u16 * alpha as u16 + 127) / 255) as u8;
                        if let Some(p) =
                            PremultipliedColorU8::from_rgba(premultiply(r), premultiply(g), premultiply(b), alpha)
                        {
                            pixels[index] = p;
                        }
                    }
                });
            }
        }
        let top = y - ascent - 2.0;
        self.pixmap.draw_pixmap(
            (left - 2.0).round() as i32,
            top.round() as i32,
            glyphs.as_ref(),
            &PixmapPaint::default(),
            Transform::identity(),
            None,
        );
    }

    fn line(&mut self, points: &[(f32, f32)], c: Rgba, width: f32, stroke: Stroke, mask: Option<&Mask>) {
        let mut path = PathBuilder::new();
        for (i, &(x, y)) in points.iter().enumerate() {
            if i == 0 {
                path.move_to(x, y);
            } else {
                path.line_to(x, y);
            }
        }
        let Some(path) = path.finish() else { return };
        let mut sk = SkStroke {
            width: width * self.scale,
            line_cap: LineCap::Round,
            line_join: LineJoin::Round,
            ..SkStroke::default()
        };
        if stroke == Stroke::Dashed {
            sk.line_cap = LineCap::Butt;
            sk.dash = StrokeDash::new(vec![7.0 * self.scale, 5.0 * self.scale], 0.0);
        }
        self.pixmap.stroke_path(&path, &paint(c), &sk, Transform::identity(), mask);
    }

    fn rect(&mut self, rect: Rect, c: Rgba, mask: Option<&Mask>) {
        self.pixmap.fill_rect(rect, &paint(c), Transform::identity(), mask);
    }

    fn chart(&mut self, chart: &Chart) {
        let s = self.scale;
        let margin = 16.0 * s;
        let inner = self.width() - 2.0 * margin;
        let mut y = margin + 18.0 * s;
        let title = self.fit(&chart.title, 18.0, inner);
        self.text(&title, 18.0, margin, y, Align::Left, TEXT);
        // A second pass a hair to the right: the light font reads as a heading.
        self.text(&title, 18.0, margin + 0.6 * s, y, Align::Left, TEXT);
        if !chart.subtitle.is_empty() {
            y += 20.0 * s;
            let subtitle = self.fit(&chart.subtitle, 12.5, inner);
            self.text(&subtitle, 12.5, margin, y, Align::Left, WEAK_TEXT);
        }
        y += 8.0 * s;
        if !chart.legend.is_empty() {
            y = self.legend(chart, margin, y, inner);
        }
        let note_lines = if chart.note.is_empty() { Vec::new() } else { self.wrap(&chart.note, 11.5, inner, 2) };
        let bottom = self.height() - margin - note_lines.len() as f32 * 16.0 * s;
        for (i, line) in note_lines.iter().enumerate() {
            let baseline = bottom + 16.0 * s * (i as f32 + 1.0) - 3.0 * s;
            self.text(line, 11.5, margin, baseline, Align::Left, WEAK_TEXT);
        }
        let area = Rect::from_ltrb(margin, y + 6.0 * s, self.width() - margin, bottom - 4.0 * s);
        let Some(area) = area.filter(|a| a.width() > 20.0 && a.height() > 20.0) else { return };
        match &chart.body {
            Body::Plot { x, y, marks, equal_aspect } => self.plot(area, x, y, marks, *equal_aspect),
            Body::Table(table) => self.table(area, table),
            Body::Flows(flows) => self.flows(area, flows),
        }
    }

    /// The legend's entries in rows under the title; returns where the rows end.
    fn legend(&mut self, chart: &Chart, left: f32, top: f32, width: f32) -> f32 {
        let s = self.scale;
        let size = 12.0;
        let row = 18.0 * s;
        let (mut x, mut y) = (left, top + row);
        let mut rows = 1;
        for entry in &chart.legend {
            let label = self.fit(&entry.label, size, width * 0.45);
            let needed = 14.0 * s + self.measure(&label, size) + 18.0 * s;
            if x > left && x + needed > left + width {
                if rows == 3 {
                    break;
                }
                rows += 1;
                x = left;
                y += row;
            }
            if let Some(swatch) = Rect::from_xywh(x, y - 10.0 * s, 10.0 * s, 10.0 * s) {
                self.rect(swatch, entry.colour, None);
            }
            self.text(&label, size, x + 14.0 * s, y, Align::Left, TEXT);
            x += needed;
        }
        y + 4.0 * s
    }

    fn tick_values(&self, axis: &Axis, length_px: f32, horizontal: bool) -> Vec<(f64, String)> {
        match &axis.ticks {
            AxisTicks::Categories(labels) => labels.iter().enumerate().map(|(i, l)| (i as f64, l.clone())).collect(),
            AxisTicks::Numeric(kind) => {
                let (lo, hi) = axis.range;
                let points_per_unit = length_px as f64 / self.scale as f64 / (hi - lo);
                ticks::marks(axis.range, points_per_unit, *kind, horizontal.then_some(0))
                    .into_iter()
                    .map(|t| (t.value, ticks::tick_label(t.value, t.step)))
                    .collect()
            }
        }
    }

    fn plot(&mut self, area: Rect, x_axis: &Axis, y_axis: &Axis, marks: &[Mark], equal_aspect: bool) {
        let s = self.scale;
        let tick_size = 12.0;
        // Room above for the y axis title, below for the x ticks and title.
        let top = area.top() + if y_axis.title.is_empty() { 4.0 * s } else { 20.0 * s };
        // No room for x tick labels where there are none (the silhouettes' bands).
        let x_tick_room = match &x_axis.ticks {
            AxisTicks::Categories(labels) if labels.is_empty() => 4.0 * s,
            _ => 18.0 * s,
        };
        let bottom = area.bottom() - x_tick_room - if x_axis.title.is_empty() { 0.0 } else { 18.0 * s };
        let height = bottom - top;
        if height < 20.0 {
            return;
        }
        let y_ticks = self.tick_values(y_axis, height, false);
        let max_label =
            if matches!(y_axis.ticks, AxisTicks::Categories(_)) { area.width() * 0.35 } else { area.width() };
        let y_labels: Vec<(f64, String)> =
            y_ticks.into_iter().map(|(v, l)| (v, self.fit(&l, tick_size, max_label))).collect();
        let label_width = y_labels.iter().map(|(_, l)| self.measure(l, tick_size)).fold(0.0, f32::max);
        let left = area.left() + label_width + 8.0 * s;
        let mut right = area.right() - 8.0 * s;
        let (mut x_range, mut y_range) = (x_axis.range, y_axis.range);
        if equal_aspect {
            // One unit as long on both axes: widen the range that would be stretched.
            let (w, h) = ((right - left) as f64, height as f64);
            let (dx, dy) = (x_range.1 - x_range.0, y_range.1 - y_range.0);
            if dx / w > dy / h {
                let grow = (dx / w * h - dy) / 2.0;
                y_range = (y_range.0 - grow, y_range.1 + grow);
            } else {
                let grow = (dy / h * w - dx) / 2.0;
                x_range = (x_range.0 - grow, x_range.1 + grow);
            }
        }
        right = right.max(left + 10.0);
        let Some(rect) = Rect::from_ltrb(left, top, right, bottom) else { return };
        let frame = Frame { rect, x: x_range, y: y_range };
        let x_shown = Axis { range: x_range, ..x_axis.clone() };
        let y_labels: Vec<(f64, String)> = if equal_aspect {
            let shown = Axis { range: y_range, ..y_axis.clone() };
            self.tick_values(&shown, height, false)
        } else {
            y_labels
        };
        // Grid and tick labels.
        for (v, label) in &y_labels {
            let py = frame.py(*v);
            if py < rect.top() - 0.5 || py > rect.bottom() + 0.5 {
                continue;
            }
            if matches!(y_axis.ticks, AxisTicks::Numeric(_)) {
                self.line(&[(rect.left(), py), (rect.right(), py)], GRID, 1.0, Stroke::Solid, None);
            }
            self.text(label, tick_size, rect.left() - 6.0 * s, py + 4.0 * s, Align::Right, WEAK_TEXT);
        }
        let x_ticks = self.tick_values(&x_shown, rect.width(), true);
        let slot = if x_ticks.is_empty() { rect.width() } else { rect.width() / x_ticks.len() as f32 };
        for (v, label) in &x_ticks {
            let px = frame.px(*v);
            if px < rect.left() - 0.5 || px > rect.right() + 0.5 {
                continue;
            }
            if matches!(x_axis.ticks, AxisTicks::Numeric(_)) {
                self.line(&[(px, rect.top()), (px, rect.bottom())], GRID, 1.0, Stroke::Solid, None);
            }
            let label = self.fit(label, tick_size, slot - 4.0 * s);
            self.text(&label, tick_size, px, rect.bottom() + 16.0 * s, Align::Centre, WEAK_TEXT);
        }
        if !x_axis.title.is_empty() {
            self.text(
                &x_axis.title,
                12.5,
                rect.left() + rect.width() / 2.0,
                area.bottom() - 2.0 * s,
                Align::Centre,
                TEXT,
            );
        }
        if !y_axis.title.is_empty() {
            let title = self.fit(&y_axis.title, 12.5, area.width());
            self.text(&title, 12.5, area.left(), area.top() + 13.0 * s, Align::Left, TEXT);
        }
        // The marks, clipped to the plot.
        let mut clip = Mask::new(self.pixmap.width(), self.pixmap.height());
        if let Some(clip) = clip.as_mut() {
            clip.fill_path(&PathBuilder::from_rect(rect), FillRule::Winding, false, Transform::identity());
        }
        let clip = clip.as_ref();
        for mark in marks {
            self.mark(&frame, mark, clip);
        }
        // The frame on top.
        let corners = [
            (rect.left(), rect.top()),
            (rect.right(), rect.top()),
            (rect.right(), rect.bottom()),
            (rect.left(), rect.bottom()),
            (rect.left(), rect.top()),
        ];
        self.line(&corners, FRAME, 1.0, Stroke::Solid, None);
    }

    fn mark(&mut self, frame: &Frame, mark: &Mark, clip: Option<&Mask>) {
        let s = self.scale;
        match mark {
            Mark::Line { points, colour, stroke, dots, .. } => {
                let screen: Vec<(f32, f32)> = points.iter().map(|p| (frame.px(p[0]), frame.py(p[1]))).collect();
                self.line(&screen, *colour, 2.2, *stroke, clip);
                if *dots {
                    for &(x, y) in &screen {
                        self.disc(x, y, 3.8 * s, *colour, clip);
                    }
                }
            }
            Mark::Points { points, colour, radius, filled, .. } => {
                for p in points {
                    let (x, y) = (frame.px(p[0]), frame.py(p[1]));
                    if *filled {
                        self.disc(x, y, radius * s, *colour, clip);
                    } else {
                        self.ring(x, y, radius * s, *colour, clip);
                    }
                }
            }
            Mark::VLine { x, colour, stroke, .. } => {
                let px = frame.px(*x);
                self.line(&[(px, frame.rect.top()), (px, frame.rect.bottom())], *colour, 1.8, *stroke, clip);
            }
            Mark::Bars { bars, horizontal, thickness } => {
                for bar in bars {
                    let half = *thickness / 2.0;
                    let rect = if *horizontal {
                        Rect::from_ltrb(
                            frame.px(0.0),
                            frame.py(bar.at + half),
                            frame.px(bar.value),
                            frame.py(bar.at - half),
                        )
                    } else {
                        Rect::from_ltrb(
                            frame.px(bar.at - half),
                            frame.py(bar.value),
                            frame.px(bar.at + half),
                            frame.py(0.0),
                        )
                    };
                    if let Some(rect) = rect {
                        self.rect(rect, bar.colour, clip);
                    }
                    if *horizontal {
                        let y = frame.py(bar.at) + 4.5 * s;
                        self.text(&bar.text, 12.0, frame.px(bar.value) + 6.0 * s, y, Align::Left, TEXT);
                    } else {
                        let y = frame.py(bar.value) - 5.0 * s;
                        self.text(&bar.text, 12.0, frame.px(bar.at), y, Align::Centre, TEXT);
                    }
                }
            }
            Mark::Image(image) => self.image(frame, image, clip),
            Mark::Area { points, colour, .. } => {
                let (Some(first), Some(last)) = (points.first(), points.last()) else { return };
                let zero = frame.py(0.0);
                let mut path = PathBuilder::new();
                path.move_to(frame.px(first[0]), zero);
                for p in points {
                    path.line_to(frame.px(p[0]), frame.py(p[1]));
                }
                path.line_to(frame.px(last[0]), zero);
                path.close();
                if let Some(path) = path.finish() {
                    let fill = translucent(*colour, 0.55);
                    self.pixmap.fill_path(&path, &paint(fill), FillRule::Winding, Transform::identity(), clip);
                }
                let line: Vec<(f32, f32)> = points.iter().map(|p| (frame.px(p[0]), frame.py(p[1]))).collect();
                self.line(&line, *colour, 1.2, Stroke::Solid, clip);
            }
        }
    }

    /// Two stacks of blocks with their names and counts, joined by a translucent band per pair.
    fn flows(&mut self, area: Rect, chart: &Flows) {
        let s = self.scale;
        let size = 12.0;
        let header = 20.0 * s;
        let label_width = (area.width() * 0.25).min(280.0 * s);
        let bar = 14.0 * s;
        let (left_x, right_x) = (area.left() + label_width, area.right() - label_width - bar);
        if right_x - left_x < 20.0 * s {
            return;
        }
        // Each side's title over its blocks, reaching out over its labels (and no further than the
        // middle).
        let title_room = (area.width() / 2.0 - 8.0 * s).max(0.0);
        let left_title = self.fit(&chart.left_title, 12.5, title_room);
        let width = self.measure(&left_title, 12.5);
        let left_at = (left_x + bar - width).max(area.left());
        self.text(&left_title, 12.5, left_at, area.top() + 13.0 * s, Align::Left, TEXT);
        let right_title = self.fit(&chart.right_title, 12.5, title_room);
        let width = self.measure(&right_title, 12.5);
        let right_at = (right_x + width).min(area.right());
        self.text(&right_title, 12.5, right_at, area.top() + 13.0 * s, Align::Right, TEXT);
        let top = area.top() + header;
        let layout = chart.layout(top, area.bottom() - top, 6.0 * s);
        let (x0, x1) = (left_x + bar, right_x);
        let (c0, c1) = (x0 + (x1 - x0) / 3.0, x0 + (x1 - x0) * 2.0 / 3.0);
        for (link, band) in chart.links.iter().zip(&layout.links) {
            let Some(from) = chart.left.get(link.from) else { continue };
            let [l0, hl, r0, hr] = *band;
            // Top and bottom edges as cubic curves flat at both ends (the window's smoothstep).
            let mut path = PathBuilder::new();
            path.move_to(x0, l0);
            path.cubic_to(c0, l0, c1, r0, x1, r0);
            path.line_to(x1, r0 + hr.max(0.5));
            path.cubic_to(c1, r0 + hr.max(0.5), c0, l0 + hl.max(0.5), x0, l0 + hl.max(0.5));
            path.close();
            if let Some(path) = path.finish() {
                let fill = paint(translucent(from.colour, 0.45));
                self.pixmap.fill_path(&path, &fill, FillRule::Winding, Transform::identity(), None);
            }
        }
        let bottom = area.bottom();
        for (nodes, blocks, x, side) in
            [(&chart.left, &layout.left, left_x, Align::Right), (&chart.right, &layout.right, right_x, Align::Left)]
        {
            for (node, &(y, h)) in nodes.iter().zip(blocks.iter()) {
                if let Some(block) = Rect::from_xywh(x, y, bar, h.max(1.0)) {
                    self.rect(block, node.colour, None);
                }
            }
            let labels: Vec<String> = nodes
                .iter()
                .map(|n| self.fit(&flows::node_label(n, chart.small_cells), size, label_width - 12.0 * s))
                .collect();
            let centres: Vec<f32> = blocks.iter().map(|&(y, h)| y + h / 2.0).collect();
            let heights: Vec<f32> = blocks.iter().map(|&(_, h)| h).collect();
            let placed = spread(&centres, &heights, 15.0 * s, top, bottom);
            for ((label, &centre), at) in labels.iter().zip(&centres).zip(placed) {
                let Some(at) = at else { continue };
                let (text_x, edge) = match side {
                    Align::Right => (x - 8.0 * s, x - 1.0 * s),
                    _ => (x + bar + 8.0 * s, x + bar + 1.0 * s),
                };
                // A label moved off its block's middle points at it.
                if (at - centre).abs() > 2.0 * s {
                    let bend = match side {
                        Align::Right => text_x + 2.0 * s,
                        _ => text_x - 2.0 * s,
                    };
                    self.line(&[(edge, centre), (bend, at)], WEAK_TEXT, 0.8, Stroke::Solid, None);
                }
                self.text(label, size, text_x, at + 4.0 * s, side, TEXT);
            }
        }
    }

    fn disc(&mut self, x: f32, y: f32, r: f32, c: Rgba, clip: Option<&Mask>) {
        if let Some(path) = PathBuilder::from_circle(x, y, r.max(0.5)) {
            self.pixmap.fill_path(&path, &paint(c), FillRule::Winding, Transform::identity(), clip);
        }
    }

    fn ring(&mut self, x: f32, y: f32, r: f32, c: Rgba, clip: Option<&Mask>) {
        if let Some(path) = PathBuilder::from_circle(x, y, r.max(0.5)) {
            let stroke = SkStroke { width: 1.8 * self.scale, ..SkStroke::default() };
            self.pixmap.stroke_path(&path, &paint(c), &stroke, Transform::identity(), clip);
        }
    }

    fn image(&mut self, frame: &Frame, image: &super::Image, clip: Option<&Mask>) {
        let (Ok(w), Ok(h)) = (u32::try_from(image.width), u32::try_from(image.height)) else { return };
        if image.pixels.len() != image.width * image.height {
            return;
        }
        let Some(mut source) = Pixmap::new(w, h) else { return };
        for (out, p) in source.pixels_mut().iter_mut().zip(&image.pixels) {
            let [r, g, b, a] = p.0;
            let premultiply = |v: u8| ((v as u16 * a as u16 + 127) / 255) as u8;
            if let Some(c) = PremultipliedColorU8::from_rgba(premultiply(r), premultiply(g), premultiply(b), a) {
                *out = c;
            }
        }
        let (left, right) = (frame.px(image.x_range.0), frame.px(image.x_range.1));
        let (top, bottom) = (frame.py(image.y_range.1), frame.py(image.y_range.0));
        let Some(target) = Rect::from_ltrb(left, top, right, bottom) else { return };
        let transform = Transform::from_row(target.width() / w as f32, 0.0, 0.0, target.height() / h as f32, left, top);
        let p = Paint {
            shader: Pattern::new(source.as_ref(), SpreadMode::Pad, FilterQuality::Bilinear, 1.0, transform),
            ..Paint::default()
        };
        self.pixmap.fill_rect(target, &p, Transform::identity(), clip);
    }

    fn table(&mut self, area: Rect, table: &HeatTable) {
        let s = self.scale;
        let n_rows = table.rows.len() + 1;
        let row_h = (area.height() / n_rows as f32).min(34.0 * s);
        let size = (row_h / s * 0.42).clamp(8.0, 13.0);
        let label_w = (area.width() * 0.28).min(260.0 * s);
        let n_cols = table.columns.len().max(1);
        let col_w = (area.width() - label_w) / n_cols as f32;
        let baseline = |row: usize| area.top() + row_h * row as f32 + row_h / 2.0 + size * s * 0.35;
        for (j, column) in table.columns.iter().enumerate() {
            let cx = area.left() + label_w + col_w * (j as f32 + 0.5);
            let text = self.fit(column, size, col_w - 6.0 * s);
            self.text(&text, size, cx, baseline(0), Align::Centre, TEXT);
        }
        for (i, row) in table.rows.iter().enumerate() {
            let top = area.top() + row_h * (i + 1) as f32;
            let mut x = area.left();
            if let Some(c) = row.colour
                && let Some(swatch) = Rect::from_xywh(x, top + row_h / 2.0 - 5.0 * s, 10.0 * s, 10.0 * s)
            {
                self.rect(swatch, c, None);
            }
            x += 14.0 * s;
            let label = self.fit(&row.label, size, label_w - 18.0 * s);
            self.text(&label, size, x, baseline(i + 1), Align::Left, TEXT);
            for (j, (text, heat)) in row.cells.iter().enumerate() {
                let left = area.left() + label_w + col_w * j as f32;
                if let Some(cell) = Rect::from_xywh(left + 1.0, top + 1.0, col_w - 2.0, row_h - 2.0) {
                    self.rect(cell, heat_colour(*heat), None);
                }
                let text = self.fit(text, size, col_w - 6.0 * s);
                self.text(&text, size, left + col_w / 2.0, baseline(i + 1), Align::Centre, TEXT);
            }
        }
    }
}

/// `c` with its opacity multiplied by `alpha`.
fn translucent(c: Rgba, alpha: f32) -> Rgba {
    let [r, g, b, a] = c.0;
    Rgba([r, g, b, (a as f32 * alpha).round() as u8])
}

/// Where labels `row` apart go, each as near its wanted centre as it can without overlapping the
/// one above, all between `top` and `bottom`; `None` for the labels that do not fit (those of the
/// smallest `weight` first, so the large blocks keep theirs).
fn spread(wanted: &[f32], weight: &[f32], row: f32, top: f32, bottom: f32) -> Vec<Option<f32>> {
    let room = ((bottom - top) / row).floor().max(0.0) as usize;
    let mut by_weight: Vec<usize> = (0..wanted.len()).collect();
    by_weight.sort_by(|&a, &b| weight[b].total_cmp(&weight[a]).then(a.cmp(&b)));
    let mut chosen: Vec<usize> = by_weight.into_iter().take(room).collect();
    chosen.sort_unstable();
    // Down from the top, each at least a row below the one above; then up from the bottom.
    let mut at: Vec<f32> = Vec::with_capacity(chosen.len());
    for &i in &chosen {
        let floor = at.last().map_or(top + row / 2.0, |y| y + row);
        at.push(wanted[i].max(floor));
    }
    let mut ceiling = bottom - row / 2.0;
    for y in at.iter_mut().rev() {
        *y = y.min(ceiling);
        ceiling = *y - row;
    }
    let mut out = vec![None; wanted.len()];
    for (&i, y) in chosen.iter().zip(at) {
        out[i] = Some(y);
    }
    out
}

/// A cell's background: white at 0, towards red above and blue below (pale enough for dark text).
pub fn heat_colour(value: f64) -> Rgba {
    let t = value.clamp(-1.0, 1.0).abs() as f32;
    let end: [f32; 3] = if value >= 0.0 { [244.0, 150.0, 120.0] } else { [130.0, 185.0, 225.0] };
    let mix = |e: f32| (250.0 + (e - 250.0) * t).round() as u8;
    Rgba::rgb(mix(end[0]), mix(end[1]), mix(end[2]))
}
