//! The silhouette of each member, per segment, best to worst: each band summarised to at most
//! [`SILHOUETTE_POINTS`] values so the picture is the same at any customer count.

use super::{Axis, AxisTicks, Body, Chart, ChartError, ChartInputs, LegendEntry, Mark, REFERENCE_GREY, Stroke, Ticks};

/// Points a segment's band of silhouettes is summarised to at most: the picture is the same at any
/// customer count.
pub const SILHOUETTE_POINTS: usize = 200;

/// `sorted` (ordered either way) summarised to at most `n` values at evenly spaced ranks, first and
/// last kept, each at its rank's position (linear between neighbours): `(position, value)`.
pub fn spaced_quantiles(sorted: &[f64], n: usize) -> Vec<(f64, f64)> {
    let len = sorted.len();
    if len <= n || n < 2 {
        return sorted.iter().enumerate().map(|(i, v)| (i as f64, *v)).collect();
    }
    (0..n)
        .map(|i| {
            let at = i as f64 * (len - 1) as f64 / (n - 1) as f64;
            let (below, t) = (at.floor() as usize, at.fract());
            let above = (below + 1).min(len - 1);
            (at, sorted[below] + (sorted[above] - sorted[below]) * t)
        })
        .collect()
}

/// Where each segment's band of silhouettes starts, as the Segments screen lays them out: one
/// customer per unit, a gap of a thirtieth of the band plus ten between bands.
pub fn silhouette_band_starts(per_segment: &[Vec<f64>]) -> (Vec<f64>, f64) {
    let mut x = 0usize;
    let starts = per_segment
        .iter()
        .map(|values| {
            let start = x as f64;
            x += values.len() + values.len() / 30 + 10;
            start
        })
        .collect();
    (starts, x as f64)
}

pub(super) fn silhouettes_chart(inputs: &ChartInputs) -> Result<Chart, ChartError> {
    let not = |reason: &str| ChartError::NotAvailable { name: "silhouettes", reason: reason.to_string() };
    let summary = inputs.summary.ok_or_else(|| not("the segments' summary was not computed"))?;
    let members = summary.silhouettes.as_ref().ok_or_else(|| not("silhouettes need at least two segments"))?;
    let (starts, end) = silhouette_band_starts(&members.per_segment);
    let mut marks = Vec::new();
    let mut legend = Vec::new();
    let mut values = vec![0.0];
    for (segment, sorted) in members.per_segment.iter().enumerate() {
        let colour = inputs.colours.of(segment);
        let label = inputs.name_of(segment);
        legend.push(LegendEntry { label: label.clone(), colour });
        let mut points: Vec<[f64; 2]> =
            spaced_quantiles(sorted, SILHOUETTE_POINTS).into_iter().map(|(at, v)| [starts[segment] + at, v]).collect();
        // A lone member is a sliver, not nothing.
        if let [only] = points[..] {
            points.push([only[0] + 0.8, only[1]]);
        }
        values.extend(points.iter().map(|p| p[1]));
        marks.push(Mark::Area { label, points, colour });
    }
    if let Some(mean) = inputs.result.indices.silhouette.as_ref().map(|s| s.mean).filter(|m| m.is_finite()) {
        let label = format!("mean {mean:.3}");
        values.push(mean);
        marks.push(Mark::Line {
            label: label.clone(),
            points: vec![[0.0, mean], [end, mean]],
            colour: REFERENCE_GREY,
            stroke: Stroke::Dashed,
            dots: false,
        });
        legend.push(LegendEntry { label, colour: REFERENCE_GREY });
    }
    let note = if members.sampled {
        format!(
            "Silhouettes of a seeded sample of {} customers (distances within the sample); below 0: closer to \
             another segment.",
            crate::engine::words::thousands(members.n_rows)
        )
    } else {
        format!(
            "Every one of the {} customers; below 0: closer to another segment.",
            crate::engine::words::thousands(members.n_rows)
        )
    };
    Ok(Chart {
        name: "silhouettes",
        title: "Silhouette of each member".into(),
        subtitle: "each segment's members from best to worst; a band's width is its members".into(),
        legend,
        body: Body::Plot {
            x: Axis {
                title: "members of each segment, best to worst".into(),
                range: (-0.01 * end, end * 1.01),
                ticks: AxisTicks::Categories(Vec::new()),
            },
            y: Axis::numeric("Silhouette", values, Ticks::Numbers),
            marks,
            equal_aspect: false,
        },
        note,
    })
}
