use super::*;
use crate::engine::cluster::sweep::{SweepResult, SweepRun};

fn run(k: usize, inertia: f64, silhouette: f64, bic: Option<f64>) -> SweepRun {
    SweepRun {
        k,
        inertia,
        silhouette: Some(silhouette),
        calinski_harabasz: Some(100.0 + k as f64),
        davies_bouldin: Some(1.0 / k as f64),
        sizes: vec![],
        silhouette_detail: None,
        n_iter: 1,
        bic,
        aic: bic.map(|b| b - 10.0),
    }
}

fn sweep(bic: bool) -> SweepResult {
    SweepResult {
        n_rows: 100,
        runs: (2..=6).map(|k| run(k, 1000.0 / k as f64, 0.1 * k as f64, bic.then_some(500.0 - k as f64))).collect(),
        knee_k: Some(4),
        suggested_k: Some(3),
        reason: "because".into(),
        warnings: vec![],
        shared_model: None,
    }
}

fn decoded_size(png: &[u8]) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

#[test]
fn the_elbow_is_the_sweeps_inertias_with_the_knee_and_the_chosen_k() {
    let s = sweep(false);
    let chart = index_chart(&s, Index::Elbow, Some(5));
    let Body::Plot { x, marks, .. } = &chart.body else { panic!("a plot") };
    let line = marks.iter().find_map(|m| match m {
        Mark::Line { points, .. } => Some(points.clone()),
        _ => None,
    });
    let expected: Vec<[f64; 2]> = s.runs.iter().map(|r| [r.k as f64, r.inertia]).collect();
    assert_eq!(line.unwrap(), expected);
    let vlines: Vec<(f64, Stroke)> = marks
        .iter()
        .filter_map(|m| match m {
            Mark::VLine { x, stroke, .. } => Some((*x, *stroke)),
            _ => None,
        })
        .collect();
    assert_eq!(vlines, [(4.0, Stroke::Dashed), (5.0, Stroke::Solid)]);
    assert_eq!(x.ticks, AxisTicks::Numeric(Ticks::Integers));
    assert!(chart.legend.iter().any(|e| e.label == "knee at k = 4"));
}

#[test]
fn information_criteria_exist_only_for_mixtures() {
    assert!(matches!(information_chart(&sweep(false), None), Err(ChartError::NotAvailable { .. })));
    let chart = information_chart(&sweep(true), None).unwrap();
    let Body::Plot { marks, .. } = &chart.body else { panic!("a plot") };
    assert_eq!(marks.iter().filter(|m| matches!(m, Mark::Line { .. })).count(), 2);
}

#[test]
fn every_chart_draws_at_the_size_asked_and_is_not_blank() {
    let chart = index_chart(&sweep(false), Index::Silhouette, Some(3));
    for (w, h) in [(200, 200), (640, 400), (1600, 1000)] {
        let png = render_png(&chart, w, h).unwrap();
        let (dw, dh, pixels) = decoded_size(&png);
        assert_eq!((dw, dh), (w, h));
        let distinct: std::collections::HashSet<&[u8]> = pixels.chunks(4).collect();
        assert!(distinct.len() > 20, "{w}x{h}: {} colours", distinct.len());
    }
    for (w, h) in [(199, 500), (500, 8001)] {
        let error = render_png(&chart, w, h).unwrap_err().to_string();
        assert!(error.contains("200 to 8000 pixels"), "{error}");
    }
}

#[test]
fn a_heat_table_and_bars_draw_hostile_long_text_without_panicking() {
    let long = "</script><img src=x onerror=alert(1)> ".repeat(20);
    let table = Chart {
        name: "profile-heat",
        title: long.clone(),
        subtitle: long.clone(),
        legend: vec![LegendEntry { label: long.clone(), colour: Rgba::rgb(1, 2, 3) }; 30],
        body: Body::Table(HeatTable {
            columns: vec![long.clone(); 12],
            rows: vec![HeatRow { label: long.clone(), colour: None, cells: vec![(long.clone(), 5.0); 12] }; 40],
        }),
        note: long.clone(),
    };
    let (w, h, _) = decoded_size(&render_png(&table, 300, 200).unwrap());
    assert_eq!((w, h), (300, 200));
    let bars = Chart {
        body: Body::Plot {
            x: Axis::from_zero("n", [f64::NAN, 3.0]),
            y: Axis::categories("", vec![long.clone()]),
            marks: vec![Mark::Bars {
                bars: vec![Bar { at: 0.0, value: f64::INFINITY, colour: Rgba::rgb(0, 0, 0), text: long }],
                horizontal: true,
                thickness: 0.7,
            }],
            equal_aspect: true,
        },
        ..table
    };
    assert!(render_png(&bars, 400, 300).is_ok());
}

#[test]
fn unknown_names_are_refused_naming_every_chart() {
    let error = ChartError::Unknown { name: "pie".into() }.to_string();
    for info in CHARTS {
        assert!(error.contains(info.name), "{error}");
    }
    assert_eq!(small_count(3), "<10");
    assert_eq!(small_count(12_345), "12,345");
}
