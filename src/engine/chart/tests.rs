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
}

#[test]
fn silhouette_bands_keep_their_order_ends_and_width_at_any_size() {
    let sorted: Vec<f64> = (0..1000).map(|i| 0.9 - i as f64 * 0.0015).collect();
    let summary = spaced_quantiles(&sorted, SILHOUETTE_POINTS);
    assert_eq!(summary.len(), SILHOUETTE_POINTS);
    // Best first, worst last, every value among the members' and in order.
    assert_eq!(summary.first(), Some(&(0.0, 0.9)));
    let (last_at, last) = *summary.last().unwrap();
    assert_eq!(last_at, 999.0);
    assert!((last - sorted[999]).abs() < 1e-12);
    assert!(summary.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 >= w[1].1));
    // A small band is drawn member by member.
    assert_eq!(spaced_quantiles(&[0.5, 0.2, -0.1], SILHOUETTE_POINTS), [(0.0, 0.5), (1.0, 0.2), (2.0, -0.1)]);
    // Bands stand side by side as the Segments screen lays them out, each as wide as its members.
    let (starts, end) = silhouette_band_starts(&[vec![0.5; 60], vec![], vec![0.1; 3]]);
    assert_eq!(starts, [0.0, 72.0, 82.0]);
    assert_eq!(end, 95.0);
}

fn two_by_three() -> Crossing {
    Crossing::of_segmentations(
        vec![vec![40, 0, 5], vec![3, 50, 2]],
        vec!["Loyal".into(), "Lapsed".into()],
        vec!["A".into(), "B".into(), "C".into()],
        ("Run 1: k-means, k = 2".into(), "column legacy".into()),
        7,
        10,
    )
}

#[test]
fn flows_have_a_band_per_customer_pair_sized_by_the_counts() {
    let crossing = two_by_three();
    let flows = crossing.flows();
    assert_eq!(
        flows.left.iter().map(|n| (n.name.as_str(), n.total)).collect::<Vec<_>>(),
        [("Loyal", 45), ("Lapsed", 55)]
    );
    assert_eq!(flows.right.iter().map(|n| n.total).collect::<Vec<_>>(), [43, 50, 7]);
    // The empty cell has no band; the bands hold every customer.
    let links: Vec<(usize, usize, u64)> = flows.links.iter().map(|l| (l.from, l.to, l.count)).collect();
    assert_eq!(links, [(0, 0, 40), (0, 2, 5), (1, 0, 3), (1, 1, 50), (1, 2, 2)]);
    assert_eq!(flows.links.iter().map(|l| l.count).sum::<u64>(), crossing.n());
    // Rows by their number's colour, columns grey: the bands carry the rows' colours across.
    assert_eq!(flows.left[1].colour, palette::slot_colour(1));
    assert!(flows.right.iter().all(|n| n.colour == palette::NOT_A_SEGMENT));
    assert_eq!((flows.left_title.as_str(), flows.right_title.as_str()), ("Run 1: k-means, k = 2", "column legacy"));

    // Laid out: each block is as high as its customers, its bands fill it exactly, gaps between.
    let layout = flows.layout(10.0, 200.0, 6.0);
    let band_heights = |side: usize, node: usize| -> f32 {
        flows
            .links
            .iter()
            .zip(&layout.links)
            .filter(|(l, _)| if side == 0 { l.from == node } else { l.to == node })
            .map(|(_, b)| if side == 0 { b[1] } else { b[3] })
            .sum()
    };
    for (i, &(_, h)) in layout.left.iter().enumerate() {
        assert!((band_heights(0, i) - h).abs() < 1e-3, "left {i}");
    }
    for (j, &(_, h)) in layout.right.iter().enumerate() {
        assert!((band_heights(1, j) - h).abs() < 1e-3, "right {j}");
    }
    let (top, h) = *layout.right.last().unwrap();
    assert!((top + h - 210.0).abs() < 1e-3, "the stack fills the height");
    assert_eq!(layout.right[1].0, layout.right[0].0 + layout.right[0].1 + layout.gaps.1);
    assert!((layout.left[0].1 / layout.left[1].1 - 45.0 / 55.0).abs() < 1e-4);

    let chart = flows::alluvial_chart(&crossing).unwrap();
    assert_eq!(chart.name, "alluvial");
    assert_eq!(chart.note, "100 customers in both. <10 without both labels left out.");
    // C's 7 customers are under 10; A's 43 hide with them (the columns' totals are a line of their
    // own), and so does a band of each row that holds a small cell.
    assert_eq!(flows::node_label(&flows.right[2], 10), "C (<10)");
    assert_eq!(flows::node_label(&flows.right[0], 10), "A (hidden)");
    assert_eq!(flows::node_label(&flows.left[1], 10), "Lapsed (55)");
    let empty = Crossing { counts: vec![vec![0]], ..two_by_three() };
    assert!(matches!(flows::alluvial_chart(&empty), Err(ChartError::NotAvailable { name: "alluvial", .. })));
}

fn windows_over_time(transitions: usize) -> crate::engine::over_time::OverTime {
    use crate::engine::over_time::{OverTime, Transition, Window, WindowParams};
    let day = |m: u32| chrono::NaiveDate::from_ymd_opt(1997, m, 28).unwrap();
    OverTime {
        params: WindowParams::default(),
        names: vec!["Best".into(), "Rest".into(), "Gone".into()],
        n_last: 2,
        windows: (0..=transitions)
            .map(|w| Window {
                start: day(1 + 2 * w as u32),
                end: day(2 + 2 * w as u32),
                n_customers: 100,
                sizes: vec![30, 70, 0],
                silhouette: None,
            })
            .collect(),
        transitions: (0..transitions)
            .map(|t| Transition {
                from: t,
                to: t + 1,
                // Rows and columns: Best, Rest, Gone (nobody), not present.
                counts: vec![vec![20 + t, 5, 0, 5], vec![4, 60, 0, 6], vec![0, 0, 0, 0], vec![6, 5, 0, 0]],
                stayed: 0.8,
            })
            .collect(),
        warnings: Vec::new(),
    }
}

#[test]
fn moves_over_time_show_the_chosen_transition_without_empty_segments() {
    let over_time = windows_over_time(2);
    let colours = SegmentColours::by_number(3);
    let crossing = flows::transition_crossing(&over_time, &over_time.names, &colours, 0, 10).unwrap();
    // "Gone" had nobody on either side: left out, and the colours stay with their segments.
    assert_eq!(crossing.row_names, ["Best", "Rest", "not present"]);
    assert_eq!(crossing.column_names, ["Best", "Rest", "not present"]);
    assert_eq!(crossing.row_colours, [colours.of(0), colours.of(1), palette::NOT_A_SEGMENT]);
    assert_eq!(crossing.counts, [vec![20, 5, 5], vec![4, 60, 6], vec![6, 5, 0]]);
    assert_eq!(crossing.titles, ("as of 1997-02-28".to_string(), "as of 1997-04-28".to_string()));

    let last = flows::moves_chart(&over_time, &over_time.names, &colours, None, 10).unwrap();
    let first = flows::moves_chart(&over_time, &over_time.names, &colours, Some(0), 10).unwrap();
    let Body::Flows(last_flows) = &last.body else { panic!("flows") };
    let Body::Flows(first_flows) = &first.body else { panic!("flows") };
    assert_eq!(last_flows.links[0].count, 21, "the last transition by default");
    assert_eq!(first_flows.links[0].count, 20);
    assert_eq!(first_flows.links.iter().map(|l| l.count).sum::<u64>(), 111);
    // 9 of the 89 present in both moved: a count under 10, so the share is not said at 10.
    assert_eq!(first.note, "The share who kept their segment is not shown: it would give away a count under 10.");
    let at_five = flows::moves_chart(&over_time, &over_time.names, &colours, Some(0), 5).unwrap();
    assert_eq!(at_five.note, "80.0% of the customers present in both windows kept their segment.");
    let error = flows::moves_chart(&over_time, &over_time.names, &colours, Some(5), 10).unwrap_err().to_string();
    assert!(error.contains("no transition 6") && error.contains("1 to 2"), "{error}");
    let alone = windows_over_time(0);
    assert!(matches!(
        flows::moves_chart(&alone, &alone.names, &colours, None, 10),
        Err(ChartError::NotAvailable { name: "moves-over-time", .. })
    ));
}

#[test]
fn flows_draw_at_the_size_asked_with_hostile_names_and_many_segments() {
    let long = "</script><img src=x onerror=alert(1)> ".repeat(20);
    let k = 60;
    let counts: Vec<Vec<u64>> = (0..k).map(|i| (0..k).map(|j| ((i * 7 + j * 3) % 11) as u64).collect()).collect();
    let crossing =
        Crossing::of_segmentations(counts, vec![long.clone(); k], vec![long.clone(); k], (long.clone(), long), 0, 10);
    let chart = flows::alluvial_chart(&crossing).unwrap();
    for (w, h) in [(200, 200), (1600, 1000)] {
        let (dw, dh, pixels) = decoded_size(&render_png(&chart, w, h).unwrap());
        assert_eq!((dw, dh), (w, h));
        let distinct: std::collections::HashSet<&[u8]> = pixels.chunks(4).collect();
        assert!(distinct.len() > 20, "{w}x{h}: {} colours", distinct.len());
    }
    let chart = flows::alluvial_chart(&two_by_three()).unwrap();
    assert!(render_png(&chart, 640, 400).is_ok());
}
