//! Issue 17's window findings on real tables: charts keep labelled ticks at small sizes, wide
//! profile tables scroll sideways with the segment column pinned, card tooltips fit the window, and
//! every card word agrees with the number it sits on.

use super::*;

/// Every text painted in the last frame with its rectangle (tick labels are painted, not widgets).
fn painted_texts(harness: &Harness<'_, StrataApp>) -> Vec<(String, egui::Rect)> {
    fn walk(shape: &egui::Shape, out: &mut Vec<(String, egui::Rect)>) {
        match shape {
            egui::Shape::Text(t) => out.push((t.galley.text().to_string(), t.galley.rect.translate(t.pos.to_vec2()))),
            egui::Shape::Vec(shapes) => shapes.iter().for_each(|s| walk(s, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for clipped in &harness.output().shapes {
        // Only what is drawn inside its clip rectangle can be read.
        let mut mine = Vec::new();
        walk(&clipped.shape, &mut mine);
        out.extend(mine.into_iter().filter(|(_, r)| clipped.clip_rect.contains_rect(r.shrink(1.0))));
    }
    out
}

/// The numbers painted inside `area`, as (value, centre).
fn numbers_in(harness: &Harness<'_, StrataApp>, area: egui::Rect) -> Vec<(f64, egui::Pos2)> {
    painted_texts(harness)
        .into_iter()
        .filter(|(_, r)| area.contains(r.center()))
        .filter_map(|(text, r)| text.replace(',', "").parse::<f64>().ok().map(|v| (v, r.center())))
        .collect()
}

/// At least two labelled ticks on the chart under the title `title` (down to `bottom`, across
/// `left..right`), on the axis along which the labels spread: `across` for an x axis.
fn assert_ticks(harness: &Harness<'_, StrataApp>, title: &str, right: f32, bottom: f32, across: bool) -> usize {
    let head = harness.get_all_by_label(title).next().unwrap().rect();
    let area = egui::Rect::from_min_max(egui::pos2(head.min.x - 80.0, head.max.y), egui::pos2(right, bottom));
    let numbers = numbers_in(harness, area);
    let mut positions: Vec<f32> = numbers.iter().map(|(_, p)| if across { p.x } else { p.y }).collect();
    positions.sort_by(f32::total_cmp);
    positions.dedup_by(|a, b| (*a - *b).abs() < 2.0);
    assert!(positions.len() >= 2, "{title}: labelled ticks {numbers:?} in {area:?}");
    positions.len()
}

fn at_size(size: [f32; 2], pixels_per_point: f32, dark: bool) -> Harness<'static, StrataApp> {
    let dialogs = ScriptedDialogs::new();
    let mut harness = Harness::builder()
        .with_size(size)
        .with_pixels_per_point(pixels_per_point)
        .build_eframe(move |cc| StrataApp::new(cc, AppOptions::scripted(StartProject::Demo, dialogs)));
    harness.run();
    if dark {
        harness.state_mut().push(Command::SetTheme(strata::app::ThemeChoice::Dark));
        harness.run();
    }
    harness
}

#[test]
fn charts_keep_labelled_ticks_on_a_laptop_and_on_a_projector() {
    for (size, scale, dark) in [([1280.0, 720.0], 1.0, false), ([960.0, 540.0], 2.0, true)] {
        let mut harness = at_size(size, scale, dark);
        let window = egui::vec2(size[0], size[1]);
        tab(&harness, Screen::Segments);
        harness.run();
        let silhouette = harness.get_by_label("Silhouette of each member").rect();
        let bottom = window.y - 20.0;
        // The projection: numbers along both axes; the silhouettes: along their one (y) axis.
        assert_ticks(&harness, "Projection on the first two principal components", silhouette.min.x, bottom, true);
        assert_ticks(&harness, "Projection on the first two principal components", silhouette.min.x, bottom, false);
        assert_ticks(&harness, "Silhouette of each member", window.x, bottom, false);
        tab(&harness, Screen::Model);
        harness.run();
        for title in ["Elbow (inertia)", "Calinski-Harabasz"] {
            let head = harness.get_all_by_label(title).next().unwrap().rect();
            let right = head.min.x + (window.x - 40.0) / 2.0;
            let below = (head.max.y + window.y / 2.0).min(window.y);
            assert_ticks(&harness, title, right, below, true);
            assert_ticks(&harness, title, right, below, false);
        }
        tab(&harness, Screen::Features);
        harness.run();
        // The histograms before and after the recipe: counts up the side, values along the bottom.
        let numbers = numbers_in(&harness, egui::Rect::from_min_size(egui::Pos2::ZERO, window));
        assert!(numbers.len() >= 4, "{size:?}: the Features screen's charts label their axes: {numbers:?}");
    }
}

/// 400 customers in four groups, with `columns` measures each: a wide table.
fn wide_table(dir: &Path, columns: usize) -> std::path::PathBuf {
    let csv = dir.join("wide.csv");
    let mut text = String::from("customer_id");
    for c in 0..columns {
        text.push_str(&format!(",measure_{:02}", c + 1));
    }
    text.push('\n');
    for i in 0..400 {
        let group = i % 4;
        text.push_str(&format!("c{i}"));
        for c in 0..columns {
            let v = (group * 50 + (i * (c + 3)) % 17 + c * 2) as f64 * 1.5;
            text.push_str(&format!(",{v}"));
        }
        text.push('\n');
    }
    std::fs::write(&csv, text).unwrap();
    csv
}

/// The profile table's copy of `label` (the cards list the features too): the one right of the cards.
fn in_table(harness: &Harness<'_, StrataApp>, label: &str, cards_right: f32) -> egui::Rect {
    harness
        .get_all_by_label(label)
        .map(|n| n.rect())
        .find(|r| r.min.x > cards_right)
        .unwrap_or_else(|| panic!("{label} in the profile table"))
}

#[test]
fn a_wide_profile_table_scrolls_sideways_with_the_segment_column_pinned() {
    wide_profiles([1280.0, 720.0], 1.0, false, "view17_wide_profiles_1280x720");
}

#[test]
fn a_wide_profile_table_scrolls_sideways_on_a_projector_in_the_dark_theme() {
    wide_profiles([960.0, 540.0], 2.0, true, "view17_wide_profiles_1920x1080_200_dark");
}

/// 30 features at k = 4 in a window of `size` points: the table scrolls to its last column while
/// the segment column stays put; then a snapshot called `name`.
fn wide_profiles(size: [f32; 2], scale: f32, dark: bool, name: &str) {
    {
        let dir = tempfile::tempdir().unwrap();
        let csv = wide_table(dir.path(), 30);
        let dialogs = ScriptedDialogs::new();
        let mut harness = Harness::builder()
            .with_size(size)
            .with_pixels_per_point(scale)
            .build_eframe(move |cc| StrataApp::new(cc, AppOptions::scripted(StartProject::File(csv), dialogs)));
        harness.run();
        if dark {
            harness.state_mut().push(Command::SetTheme(strata::app::ThemeChoice::Dark));
        }
        let mut spec = harness.state().doc.as_ref().unwrap().project.spec.clone();
        spec.recipe.features = (1..=30)
            .map(|c| strata::engine::features::recipe::FeatureSpec::numeric(&format!("measure_{c:02}")))
            .collect();
        spec.model.algorithm.set_k(4);
        harness.state_mut().push(Command::EditSpec { spec: Box::new(spec), what: "all 30 measures".into() });
        harness.run();
        if k_of(harness.state()) != 4 {
            harness.state_mut().push(Command::Run);
            harness.run();
        }
        assert_eq!(k_of(harness.state()), 4);
        assert_eq!(harness.state().output.as_ref().unwrap().summary.columns.len(), 30);
        tab(&harness, Screen::Segments);
        harness.run();
        let window = egui::vec2(size[0], size[1]);
        let cards_right = harness.get_by_label("Profiles").rect().min.x - 1.0;
        let pinned = in_table(&harness, "segment", cards_right);
        let first_row = in_table(&harness, "Segment 1", cards_right);
        let size_header = in_table(&harness, "size", cards_right);
        let last = in_table(&harness, "measure_30", cards_right);
        assert!(last.min.x > window.x, "30 columns do not fit in {window:?}: the last is at {last:?}");
        assert!(size_header.min.x > pinned.max.x, "the scrolled columns start right of the pinned one");
        // Scroll the table sideways to its last column, as a user dragging the bar would.
        harness.get_all_by_label("measure_30").find(|n| n.rect().min.x > cards_right).unwrap().scroll_to_me();
        harness.run();
        let last = in_table(&harness, "measure_30", cards_right);
        assert!(last.max.x <= window.x + 1.0, "the last column scrolled into view: {last:?}");
        let size_after = harness.get_all_by_label("size").map(|n| n.rect()).find(|r| r.min.x > cards_right);
        assert!(
            size_after.is_none_or(|r| r.min.x < size_header.min.x - 50.0),
            "the columns moved left: {size_header:?} -> {size_after:?}"
        );
        assert_eq!(in_table(&harness, "segment", cards_right), pinned, "the segment column stays where it was");
        assert_eq!(in_table(&harness, "Segment 1", cards_right), first_row, "and so do the segment names");
        harness.remove_cursor();
        harness.run();
        harness.snapshot(name);
    }
}

#[test]
fn card_words_agree_with_the_numbers_beside_them() {
    let mut harness = at_size([1400.0, 900.0], 1.0, false);
    tab(&harness, Screen::Segments);
    harness.run();
    let app = harness.state();
    let out = app.output.as_ref().unwrap();
    let overlap = out.summary.overlap.as_ref().expect("the demo's cards show the overlap");
    let k = overlap.matrix.len();
    assert!(k > 2, "the demo has more than two segments: the line names the likeliest next one");
    assert!(harness.query_all_by_label_contains("next-closest segment of").next().is_none(), "the old wording is gone");
    for s in 0..k {
        // Every demo segment has borderline customers, so each line starts with its share.
        assert!(overlap.borderline_share[s] >= 0.0005, "{:?}", overlap.borderline_share);
        let row = &overlap.matrix[s];
        let o = (0..k).filter(|&o| o != s).max_by(|&a, &b| row[a].total_cmp(&row[b]).then(b.cmp(&a))).unwrap();
        let expected = format!(
            "{:.1}% of its customers are borderline (margin under 0.1); for {:.0}% of its customers the next-closest \
             segment is {}",
            100.0 * overlap.borderline_share[s],
            100.0 * row[o],
            app.segment_name_in(&out.result, o)
        );
        harness.get_by_label(&expected);
    }
    // A share shown as a whole per cent of a row that adds up to 100%.
    for row in &overlap.matrix {
        let total: f64 = row.iter().sum();
        assert!((total - 1.0).abs() < 1e-9 || total == 0.0, "{row:?}");
    }
    // "mostly" only for a majority, and no "0.00 sd below".
    assert!(harness.query_all_by_label_contains("0.00 sd").next().is_none());
}

#[test]
fn a_card_rule_tooltip_wraps_inside_a_projector_window() {
    let mut harness = at_size([960.0, 540.0], 2.0, true);
    tab(&harness, Screen::Segments);
    harness.run();
    let window = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(960.0, 540.0));
    let rules: Vec<egui::Rect> = harness.query_all_by_label_contains("Tree rule:").map(|n| n.rect()).collect();
    assert!(!rules.is_empty(), "the demo's cards show their tree rules");
    // The lowest rule in view: its tooltip has the least room below.
    let lowest = rules.iter().filter(|r| r.max.y < window.max.y - 10.0).max_by(|a, b| a.min.y.total_cmp(&b.min.y));
    let rule = *lowest.unwrap();
    harness.hover_at(rule.center());
    harness.run();
    // Tooltips open after a short delay: step a few frames with the pointer still.
    for _ in 0..30 {
        harness.step();
    }
    let tip = harness
        // "235 customers match the rule" (the verb agrees with the count, as a noun would not).
        .query_all_by_label_contains("customers match the rule;")
        .map(|n| n.rect())
        .find(|r| r.width() > 10.0)
        .expect("the rule's tooltip is open");
    assert!(window.expand(0.5).contains_rect(tip), "the tooltip {tip:?} fits in the window {window:?}");
    harness.snapshot("view17_rule_tooltip_1920x1080_200_dark");
}
