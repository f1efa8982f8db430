//! The k-choice charts and the layouts that must hold with many segments: the run picker with
//! short labels and no twins, the Segments screen at 60 segments and after 33 -> 5, and snapshots
//! of Segments and Model at 60 segments on a laptop and on a projector (200%, dark).

use super::*;

/// 1,200 customers in 60 well-separated groups of 20 on a 6 x 10 grid, with a third feature that
/// differs between groups too.
fn sixty_groups_csv(dir: &Path) -> std::path::PathBuf {
    let csv = dir.join("sixty.csv");
    let mut text = String::from("customer_id,reach,depth,tenure\n");
    for i in 0..1200 {
        let group = i / 20;
        let (x, y) = ((group % 6) as f64 * 100.0, (group / 6) as f64 * 100.0);
        let jitter = (i % 5) as f64 * 0.7;
        text.push_str(&format!("c{i},{},{},{}\n", x + jitter, y + (i % 3) as f64, (group % 7) as f64 * 10.0 + jitter));
    }
    std::fs::write(&csv, text).unwrap();
    csv
}

/// The sixty groups' file dropped on a window of `size` points at `pixels_per_point`, segmented by
/// k-means at `k` with a sweep over `k_range`.
fn sixty_groups(
    dir: &Path,
    size: [f32; 2],
    pixels_per_point: f32,
    k: usize,
    k_range: (usize, usize),
) -> Harness<'static, StrataApp> {
    let csv = sixty_groups_csv(dir);
    let dialogs = ScriptedDialogs::new();
    let mut harness = Harness::builder()
        .with_size(size)
        .with_pixels_per_point(pixels_per_point)
        .build_eframe(move |cc| StrataApp::new(cc, AppOptions::scripted(StartProject::Empty, dialogs)));
    harness.run();
    harness.input_mut().dropped_files.push(std::sync::Arc::new(Dropped(csv)));
    harness.run();
    refit(&mut harness, k, Some(k_range));
    harness
}

/// Edits the spec to k-means at `k` (and the sweep's range) and lets the edit run.
fn refit(harness: &mut Harness<'static, StrataApp>, k: usize, k_range: Option<(usize, usize)>) {
    let mut spec = harness.state().doc.as_ref().unwrap().project.spec.clone();
    spec.model.algorithm.set_k(k);
    if k_range.is_some() {
        spec.model.k_range = k_range;
    }
    harness.state_mut().push(Command::EditSpec { spec: Box::new(spec), what: "test".into() });
    harness.run();
    if k_of(harness.state()) != k {
        harness.state_mut().push(Command::Run);
        harness.run();
    }
    assert_eq!(k_of(harness.state()), k, "the run at k = {k} arrived");
}

/// The heading or label `text` is on screen: its rectangle lies inside the window and has room.
fn shown_inside(harness: &Harness<'_, StrataApp>, text: &str, window: egui::Vec2) -> egui::Rect {
    let rect = harness.get_by_label(text).rect();
    assert!(
        rect.min.x >= -1.0 && rect.min.y >= -1.0 && rect.max.x <= window.x + 1.0 && rect.max.y <= window.y + 1.0,
        "{text} at {rect:?} is outside the {window:?} window"
    );
    assert!(rect.width() > 20.0 && rect.height() > 5.0, "{text} is squeezed to {rect:?}");
    rect
}

#[test]
fn sixty_segments_keep_every_panel_on_a_laptop() {
    let dir = tempfile::tempdir().unwrap();
    // A laptop: 1280 x 720 at 100%, light.
    let mut harness = sixty_groups(dir.path(), [1280.0, 720.0], 1.0, 60, (55, 60));
    let window = egui::vec2(1280.0, 720.0);
    tab(&harness, Screen::Segments);
    harness.run();
    let projection = shown_inside(&harness, "Projection on the first two principal components", window);
    let silhouette = shown_inside(&harness, "Silhouette of each member", window);
    let profiles = shown_inside(&harness, "Profiles", window);
    // The cards keep to their column: the charts beside them have at least half the window.
    assert!(projection.min.x < window.x / 2.0, "the projection starts at {projection:?}");
    assert!(silhouette.min.x > projection.min.x);
    assert!(profiles.min.y < projection.min.y, "the profile table sits above the charts");
    // Sixty distinct colours: every segment its own.
    let colours: std::collections::HashSet<_> =
        (0..60).map(|s| strata::app::segment_colour(s, 60).to_array()).collect();
    assert_eq!(colours.len(), 60);
    harness.remove_cursor();
    harness.run();
    harness.snapshot("segments_60_1280x720");
    tab(&harness, Screen::Model);
    harness.run();
    harness.get_by_label("Silhouette");
    harness.remove_cursor();
    harness.run();
    harness.snapshot("model_60_1280x720");
}

#[test]
fn sixty_segments_on_a_projector_at_200_percent_in_the_dark_theme() {
    let dir = tempfile::tempdir().unwrap();
    // A projector: 1920 x 1080 pixels at 200% (960 x 540 points), dark.
    let mut harness = sixty_groups(dir.path(), [960.0, 540.0], 2.0, 60, (55, 60));
    harness.state_mut().push(Command::SetTheme(strata::app::ThemeChoice::Dark));
    harness.run();
    let window = egui::vec2(960.0, 540.0);
    tab(&harness, Screen::Segments);
    harness.run();
    shown_inside(&harness, "Projection on the first two principal components", window);
    shown_inside(&harness, "Silhouette of each member", window);
    shown_inside(&harness, "Profiles", window);
    harness.remove_cursor();
    harness.run();
    harness.snapshot("segments_60_1920x1080_200_dark");
    tab(&harness, Screen::Model);
    harness.run();
    harness.remove_cursor();
    harness.run();
    harness.snapshot("model_60_1920x1080_200_dark");
}

#[test]
fn after_33_segments_then_5_the_profile_table_and_the_charts_are_back_in_full() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = sixty_groups(dir.path(), [1280.0, 720.0], 1.0, 33, (3, 6));
    let window = egui::vec2(1280.0, 720.0);
    tab(&harness, Screen::Segments);
    harness.run();
    shown_inside(&harness, "Projection on the first two principal components", window);
    let table_at_33 = shown_inside(&harness, "Profiles", window);
    refit(&mut harness, 5, None);
    harness.run();
    let projection = shown_inside(&harness, "Projection on the first two principal components", window);
    shown_inside(&harness, "Silhouette of each member", window);
    let table = shown_inside(&harness, "Profiles", window);
    assert_eq!(table.min.y, table_at_33.min.y);
    // The table shrank to its five rows: the charts start higher than with 33 rows' table, and
    // every segment's row is on screen (its name beside its swatch, in the table above the charts).
    assert!(projection.min.y < window.y * 0.5, "the projection starts at {projection:?}");
    let app = harness.state();
    for s in 0..5 {
        let name = app.segment_name_in(result(app), s);
        let rows = harness.query_all_by_label(&name).filter(|n| n.rect().max.y < projection.min.y).count();
        assert!(rows >= 1, "the profile row of {name} is above the charts");
    }
}

#[test]
fn kept_runs_have_short_labels_no_twins_and_a_picker_of_what_is_drawn() {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = sixty_groups(dir.path(), [1400.0, 900.0], 1.0, 4, (2, 10));
    tab(&harness, Screen::Model);
    harness.run();
    assert_eq!(harness.state().runs.len(), 1);
    // The same sweep again (another k, stability on, a business floor): still one entry.
    refit(&mut harness, 5, None);
    let mut spec = harness.state().doc.as_ref().unwrap().project.spec.clone();
    spec.model.min_segment_share = Some(0.02);
    harness.state_mut().push(Command::EditSpec { spec: Box::new(spec), what: "floor".into() });
    harness.run();
    assert_eq!(harness.state().runs.len(), 1, "identical sweeps are one entry");
    // Another seed and then log scaling: new entries, labelled by what differs.
    let mut spec = harness.state().doc.as_ref().unwrap().project.spec.clone();
    spec.model.algorithm.set_seed(7);
    harness.state_mut().push(Command::EditSpec { spec: Box::new(spec), what: "seed".into() });
    harness.run();
    let mut spec = harness.state().doc.as_ref().unwrap().project.spec.clone();
    for feature in &mut spec.recipe.features {
        feature.log1p = true;
    }
    harness.state_mut().push(Command::EditSpec { spec: Box::new(spec), what: "log".into() });
    harness.run();
    let app = harness.state();
    assert_eq!(app.runs.len(), 3);
    let seed = app.runs[0].output.spec.model.algorithm.seed();
    let first = format!("Run {}: k-means, seed {seed}, no log", app.runs[0].id);
    let second = format!("Run {}: k-means, seed 7, no log", app.runs[1].id);
    let third = format!("Run {}: k-means, seed 7, log scaling (current)", app.runs[2].id);
    // The newest run is drawn beside the previous one; the oldest stays kept, unticked.
    assert_eq!(app.runs.iter().map(|r| r.visible).collect::<Vec<_>>(), vec![false, true, true]);
    for label in [&first, &second, &third] {
        harness.get_by_role_and_label(Role::CheckBox, label);
    }
    // The legend above the charts names the drawn runs only, numbered as in the picker.
    harness.get_by_role_and_label(Role::Label, &third);
    harness.get_by_role_and_label(Role::Label, &second);
    assert_eq!(harness.query_all_by_label(&first).count(), 1, "the oldest run is only in the picker");
    // Ticking the oldest draws it too; unticking the current leaves two.
    harness.get_by_role_and_label(Role::CheckBox, &first).click();
    harness.run();
    harness.get_by_role_and_label(Role::CheckBox, &third).click();
    harness.run();
    let app = harness.state();
    assert_eq!(app.runs.iter().map(|r| r.visible).collect::<Vec<_>>(), vec![true, true, false]);
    harness.get_by_role_and_label(Role::Label, &first);
    assert!(harness.query_by_role_and_label(Role::Label, &third).is_none());
}
