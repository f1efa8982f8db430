//! Charts drawn without a display (`strata chart`), the self-contained report (`strata report`),
//! and the report opened in a real headless Chromium when one is installed.

// Tests may unwrap: a failed unwrap is a failed test with its line (helpers included).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use strata::engine::chart::{self, Body, ChartInputs, Mark, SegmentColours};
use strata::engine::pipeline::{PipelineResult, SourceResolver};
use strata::engine::profile::summary::ResultSummary;
use strata::engine::project::{self, Project};
use strata::engine::report::{self, ReportInputs};

fn strata(args: &[&str], dir: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_strata")).args(args).current_dir(dir).output().unwrap()
}

fn demo_project(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("demo.strata");
    std::fs::write(&path, strata::cli::DEMO_PROJECT).unwrap();
    path
}

/// The demo project re-run once for every test in this file.
fn demo() -> &'static (Project, PipelineResult, ResultSummary) {
    static DEMO: OnceLock<(Project, PipelineResult, ResultSummary)> = OnceLock::new();
    DEMO.get_or_init(|| {
        let project = project::parse(strata::cli::DEMO_PROJECT).unwrap().project;
        let resolver = SourceResolver { base_dir: std::env::temp_dir(), allow_outside: false };
        let (result, _) = project::verify::rerun(&project, &resolver, false).unwrap();
        let summary = ResultSummary::compute(&result, project.spec.model.algorithm.seed()).unwrap();
        (project, result, summary)
    })
}

fn decode(png: &[u8]) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

/// How many distinct pixel values a decoded picture has (a blank one has one or two).
fn colours_in(pixels: &[u8], channels: usize) -> usize {
    pixels.chunks(channels).collect::<std::collections::HashSet<_>>().len()
}

#[test]
fn every_chart_of_the_demo_draws_at_the_size_asked_and_shows_the_results() {
    let (project, result, summary) = demo();
    let names = strata::engine::naming::segment_names(&project.segments, result);
    let colours = SegmentColours::new(&project.segments, result.fit.k());
    let inputs = ChartInputs {
        result,
        summary: Some(summary),
        names: &names,
        colours: &colours,
        over_time: None,
        transition: None,
        comparison: None,
        small_cells: 10,
    };
    let drawn = chart::available(&inputs);
    let drawn_names: Vec<&str> = drawn.iter().map(|c| c.name).collect();
    // k-means, no Over time settings, nothing to compare with: every chart but the mixture's, the
    // windows' and the comparison's.
    assert_eq!(
        drawn_names,
        [
            "elbow",
            "silhouette",
            "calinski-harabasz",
            "davies-bouldin",
            "segment-sizes",
            "projection",
            "silhouettes",
            "profile-heat"
        ]
    );
    for (i, c) in drawn.iter().enumerate() {
        let (w, h) = (640 + 37 * i as u32, 400 + 23 * i as u32);
        let (dw, dh, pixels) = decode(&chart::render_png(c, w, h).unwrap());
        assert_eq!((dw, dh), (w, h), "{}", c.name);
        assert!(colours_in(&pixels, 4) > 50, "{} looks blank", c.name);
    }
    // The elbow's points are the sweep's inertias; the knee and the chosen k are marked.
    let sweep = result.sweep.as_ref().unwrap();
    let elbow = &drawn[0];
    let Body::Plot { marks, .. } = &elbow.body else { panic!("a plot") };
    let line = marks.iter().find_map(|m| match m {
        Mark::Line { points, .. } => Some(points.clone()),
        _ => None,
    });
    assert_eq!(line.unwrap(), sweep.runs.iter().map(|r| [r.k as f64, r.inertia]).collect::<Vec<_>>());
    let knee = sweep.knee_k.unwrap() as f64;
    assert!(marks.iter().any(|m| matches!(m, Mark::VLine { x, .. } if *x == knee)));
    // Segment sizes are the customers per segment, named as the project names them.
    let sizes = drawn.iter().find(|c| c.name == "segment-sizes").unwrap();
    let Body::Plot { marks, y, .. } = &sizes.body else { panic!("a plot") };
    let Mark::Bars { bars, .. } = &marks[0] else { panic!("bars") };
    let counted = chart::segment_sizes(result);
    assert_eq!(bars.iter().map(|b| b.value as usize).sum::<usize>(), counted.iter().sum::<usize>());
    assert_eq!(bars.iter().map(|b| b.value as usize).collect::<Vec<_>>(), counted);
    let chart::AxisTicks::Categories(labels) = &y.ticks else { panic!("categories") };
    assert!(labels.contains(&"Best customers".to_string()), "{labels:?}");
    // The projection's image is the density of every customer.
    let projection = drawn.iter().find(|c| c.name == "projection").unwrap();
    let Body::Plot { marks, equal_aspect, .. } = &projection.body else { panic!("a plot") };
    assert!(*equal_aspect);
    let Mark::Image(image) = &marks[0] else { panic!("the density first") };
    let scatter = summary.scatter.as_ref().unwrap();
    assert_eq!((image.width, image.height), (scatter.density.width, scatter.density.height));
    let colour_of_best = colours.of(4);
    assert!(projection.legend.iter().any(|e| e.label == "Best customers" && e.colour == colour_of_best));
}

#[test]
fn the_cli_draws_a_chart_and_refuses_unknown_names_and_sizes() {
    let tmp = tempfile::tempdir().unwrap();
    let project = demo_project(tmp.path());
    let project = project.to_str().unwrap();
    let unknown = strata(&["chart", project, "--chart", "pie", "--out", "x.png"], tmp.path());
    assert!(!unknown.status.success());
    let error = String::from_utf8_lossy(&unknown.stderr);
    assert_eq!(error.lines().count(), 1, "{error}");
    for name in chart::chart_names() {
        assert!(error.contains(name), "{error}");
    }
    let small = strata(&["chart", project, "--chart", "elbow", "--out", "x.png", "--width", "50"], tmp.path());
    assert!(!small.status.success());
    let error = String::from_utf8_lossy(&small.stderr);
    assert!(error.contains("--width 50") && error.contains("200 to 8000"), "{error}");
    assert!(!tmp.path().join("x.png").exists());

    let out = strata(
        &["chart", project, "--chart", "elbow", "--out", "elbow.png", "--width", "900", "--height", "500"],
        tmp.path(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (w, h, pixels) = decode(&std::fs::read(tmp.path().join("elbow.png")).unwrap());
    assert_eq!((w, h), (900, 500));
    assert!(colours_in(&pixels, 4) > 50);
    // A k-means project has no BIC: said in one line, nothing written.
    let bic = strata(&["chart", project, "--chart", "bic-aic", "--out", "bic.png"], tmp.path());
    assert!(!bic.status.success());
    let error = String::from_utf8_lossy(&bic.stderr);
    assert!(error.contains("not available") && error.contains("mixtures"), "{error}");
}

/// The demo as the window saves it after following its customers over three windows and running a
/// second segmentation (k = 4) on Compare: both segmentations kept beside the Over time settings.
fn demo_with_windows_and_a_second_run(dir: &Path) -> (std::path::PathBuf, PipelineResult) {
    let (project, result, _) = demo();
    let mut four = project.clone();
    four.spec.model.algorithm.set_k(4);
    four.spec.model.k_range = None;
    four.results = None;
    let resolver = SourceResolver { base_dir: std::env::temp_dir(), allow_outside: false };
    let (other, _) = project::verify::rerun(&four, &resolver, false).unwrap();
    let kept =
        |r: &PipelineResult, label: &str, notes: &[strata::engine::project::SegmentNote]| project::KeptSegmentation {
            label: label.into(),
            description: label.into(),
            customers_key: strata::engine::naming::customers_key(&r.source_fingerprints, r.as_of, r.customers.height()),
            n_customers: r.segment_per_customer.len(),
            names: strata::engine::naming::segment_names(notes, r),
            fingerprint: r.assignment_fingerprint.clone(),
            segments: project::encode_segments(&r.segment_per_customer),
        };
    let mut saved = project.clone();
    saved.over_time = Some(strata::engine::over_time::WindowParams { windows: 3, ..Default::default() });
    saved.kept = vec![kept(result, "k-means, k = 5", &project.segments), kept(&other, "k-means, k = 4", &[])];
    let path = dir.join("followed.strata");
    saved.save_unsealed(&path).unwrap();
    (path, other)
}

#[test]
fn the_cli_draws_silhouettes_alluvial_and_moves_or_says_why_not() {
    let tmp = tempfile::tempdir().unwrap();
    let keep = std::env::var("STRATA_KEEP_CHARTS").ok();
    let draw = |project: &Path, chart: &str, extra: &[&str]| {
        let out = format!("{chart}{}.png", extra.join("").replace([' ', ','], ""));
        let mut args = vec!["chart", project.to_str().unwrap(), "--chart", chart, "--out", &out];
        args.extend_from_slice(&["--width", "900", "--height", "600"]);
        args.extend_from_slice(extra);
        let o = strata(&args, tmp.path());
        assert!(o.status.success(), "{chart}: {}", String::from_utf8_lossy(&o.stderr));
        let bytes = std::fs::read(tmp.path().join(&out)).unwrap();
        let (w, h, pixels) = decode(&bytes);
        assert_eq!((w, h), (900, 600), "{chart}");
        assert!(colours_in(&pixels, 4) > 50, "{chart} looks blank");
        if let Some(dir) = &keep {
            std::fs::copy(tmp.path().join(&out), Path::new(dir).join(&out)).unwrap();
        }
        bytes
    };
    let refused = |project: &Path, args: &[&str], expected: &[&str]| {
        let mut all = vec!["chart", project.to_str().unwrap(), "--out", "refused.png"];
        all.extend_from_slice(args);
        let o = strata(&all, tmp.path());
        assert!(!o.status.success(), "{args:?}");
        let error = String::from_utf8_lossy(&o.stderr);
        assert_eq!(error.lines().count(), 1, "{error}");
        for e in expected {
            assert!(error.contains(e), "{args:?}: {error}");
        }
        assert!(!tmp.path().join("refused.png").exists());
    };

    // The demo as it ships: silhouettes; no windows, said in one line. Its customers have label
    // columns (the synthetic age group and region), so the alluvial chart crosses the segments with
    // the first; without its attribute table there is nothing to compare with, said in one line.
    let demo_path = demo_project(tmp.path());
    draw(&demo_path, "silhouettes", &[]);
    draw(&demo_path, "alluvial", &[]);
    refused(&demo_path, &["--chart", "moves-over-time"], &["not available", "Over time"]);
    let bare_path = tmp.path().join("bare.strata");
    let mut bare = project::parse(strata::cli::DEMO_PROJECT).unwrap().project;
    bare.spec.attributes = None;
    bare.spec.role_overrides.clear();
    bare.save_unsealed(&bare_path).unwrap();
    refused(&bare_path, &["--chart", "alluvial"], &["alluvial chart is not available", "--against"]);

    // Saved with windows and a second run: the run is compared with it by default, or by its label.
    let (followed, other) = demo_with_windows_and_a_second_run(tmp.path());
    if let Some(dir) = &keep {
        std::fs::copy(&followed, Path::new(dir).join("followed.strata")).unwrap();
    }
    let by_default = draw(&followed, "alluvial", &[]);
    let by_label = draw(&followed, "alluvial", &["--against", "k-means, k = 4"]);
    assert!(by_default == by_label, "the default is the latest other kept segmentation");
    // What it draws is the cross-tabulation of the two segmentations, named as the project names them.
    let (project, result, _) = demo();
    let names = strata::engine::naming::segment_names(&project.segments, result);
    let other_names = strata::engine::naming::segment_names(&[], &other);
    use strata::engine::metrics::agreement::{named_crosstab, segment_labels};
    let table = named_crosstab(
        segment_labels(&result.segment_per_customer),
        &names,
        segment_labels(&other.segment_per_customer),
        &other_names,
    )
    .unwrap();
    assert_eq!(table.crosstab.n(), 23_570);
    let crossing = chart::Crossing::of_segmentations(
        table.crosstab.counts,
        table.row_names,
        table.column_names,
        ("k-means, k = 5".into(), "k-means, k = 4".into()),
        table.left_out,
        10,
    );
    let expected = chart::render_png(&chart::flows::alluvial_chart(&crossing).unwrap(), 900, 600).unwrap();
    assert!(by_default == expected, "the CLI draws the engine's alluvial view of the two runs");
    refused(
        &followed,
        &["--chart", "alluvial", "--against", "legacy"],
        &["--against legacy", "'k-means, k = 4'", "label columns: age_group, region"],
    );
    refused(&followed, &["--chart", "elbow", "--against", "k-means, k = 4"], &["--against is for the alluvial"]);

    // Moves: the last pair of windows by default, or the one asked for.
    let last = draw(&followed, "moves-over-time", &[]);
    let first = draw(&followed, "moves-over-time", &["--transition", "1"]);
    assert!(last != first);
    assert!(last == draw(&followed, "moves-over-time", &["--transition", "2"]));
    refused(&followed, &["--chart", "moves-over-time", "--transition", "3"], &["no transition 3", "1 to 2"]);
    refused(&followed, &["--chart", "moves-over-time", "--transition", "0"], &["numbered from 1"]);
}

/// Every `src=`, `href=` and `url(` in `html`, with what it points at.
fn references(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for marker in ["src=", "href=", "url("] {
        let mut rest = html;
        while let Some(at) = rest.find(marker) {
            let after = rest[at + marker.len()..].trim_start_matches(['"', '\'', ' ']);
            found.push(after.chars().take(40).collect::<String>());
            rest = &rest[at + marker.len()..];
        }
    }
    found
}

/// The report's text with its data URIs taken out.
fn without_data_uris(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(at) = rest.find("data:") {
        out.push_str(&rest[..at]);
        let end = rest[at..].find('"').map_or(rest.len(), |e| at + e);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn the_demo_report_is_one_file_under_budget_and_opens_in_a_real_browser() {
    let tmp = tempfile::tempdir().unwrap();
    let project = demo_project(tmp.path());
    let out = strata(&["report", project.to_str().unwrap(), "--out", "report.html"], tmp.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let path = tmp.path().join("report.html");
    let html = std::fs::read_to_string(&path).unwrap();
    assert!(html.len() < 10 * 1024 * 1024, "{} bytes", html.len());
    let refs = references(&html);
    assert!(refs.len() >= 8, "{refs:?}");
    for r in &refs {
        assert!(r.starts_with("data:") || r.starts_with('#'), "a reference outside the file: {r}");
    }
    let text = without_data_uris(&html);
    // "file:" as a word is prose ("One self-contained file: ..."); as a URL it is "file:/".
    for outside in ["http:", "https:", "file:/", "<script", "@import", "//"] {
        assert!(!text.contains(outside), "the report mentions {outside}");
    }
    for section in ["The data and how it was prepared", "Choosing k", "Best customers", "Assumptions"] {
        assert!(html.contains(section), "{section}");
    }
    // What each segment is worth, with the assumptions and the unit conversion beside the figures,
    // and on the SWOT cards.
    for value in [
        "<section id=\"value\"><h2>What each segment is worth</h2>",
        "over the next 12 month(s) after 1997-09-30, discounted at 10% a year and taken at a margin of 30%",
        "is 0.1828% a week",
        "On the holdout period (to 1998-06-30)",
        "Purchases on the same calendar day",
    ] {
        assert!(html.contains(value), "{value}");
    }
    assert!(html.contains("per customer (10-90%: "), "the SWOT cards carry the segments' value");
    // The TOWS table says its pairs in the decision list's words (`strata swot --decisions`).
    let decisions = strata(&["swot", project.to_str().unwrap(), "--decisions", "decisions.csv"], tmp.path());
    assert!(decisions.status.success(), "{}", String::from_utf8_lossy(&decisions.stderr));
    let csv = std::fs::read_to_string(tmp.path().join("decisions.csv")).unwrap();
    for pair in ["Strength: Best customers", "Threat: A large online bookseller opened a music store"] {
        assert!(csv.contains(pair), "{csv}");
        assert!(html.contains(pair), "the report's TOWS pairs: {pair}");
    }
    assert!(
        html.contains("c50b6050bc1be1da0cf13c637f49ea1d082f961f79dc21405ddaba3a1bbe9136"),
        "the source's fingerprint"
    );

    let Some(chromium) = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|c| Command::new(c).arg("--version").output().is_ok_and(|o| o.status.success()))
    else {
        println!("skipped the browser check: no chromium is installed (.ci/run installs Debian's chromium)");
        return;
    };
    let profile = tempfile::tempdir().unwrap();
    let shot = tmp.path().join("report.png");
    let status = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            &format!("--user-data-dir={}", profile.path().display()),
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,4000",
            &format!("file://{}", path.display()),
        ])
        .output()
        .unwrap();
    assert!(shot.exists(), "no screenshot: {}", String::from_utf8_lossy(&status.stderr));
    let (w, h, pixels) = decode(&std::fs::read(&shot).unwrap());
    assert_eq!((w, h), (1280, 4000));
    let channels = pixels.len() / (w * h) as usize;
    assert!(colours_in(&pixels, channels) > 200, "the browser drew a blank page");
    if let Ok(keep) = std::env::var("STRATA_KEEP_REPORT") {
        std::fs::copy(&shot, Path::new(&keep).with_extension("png")).unwrap();
        std::fs::copy(&path, Path::new(&keep).with_extension("html")).unwrap();
    }
}

#[test]
fn hostile_project_text_is_shown_as_text() {
    let (project, result, summary) = demo();
    let hostile = "</script><img src=x onerror=alert(1)>";
    let mut project = project.clone();
    for note in &mut project.segments {
        note.name = format!("{hostile} {}", note.segment);
        note.notes = hostile.to_string();
    }
    project.audit.push(strata::engine::governance::audit::AuditEntry {
        when: hostile.into(),
        who: hostile.into(),
        what: hostile.into(),
        why: hostile.into(),
        customers: Some(3),
        ..Default::default()
    });
    use strata::engine::presentation::{Presentation, Step, View};
    use strata::engine::swot::{Board, Card, Quadrant, SegmentRef, Strategy, Subject, TowsCell};
    project.board = Some(Board {
        cards: vec![
            Card { id: 1, quadrant: Quadrant::Threats, subject: Subject::Text(hostile.into()), note: hostile.into() },
            Card {
                id: 2,
                quadrant: Quadrant::Strengths,
                subject: Subject::Segment(SegmentRef::Segment(4)),
                note: hostile.into(),
            },
        ],
        strategies: vec![Strategy {
            id: 1,
            cell: TowsCell::ST,
            action: hostile.into(),
            owner: hostile.into(),
            cards: vec![1, 2],
            segments: vec![SegmentRef::Segment(4)],
        }],
        ..Board::default()
    });
    project.presentation = Some(Presentation {
        steps: vec![
            Step { id: 1, caption: hostile.into(), notes: hostile.into(), group: hostile.into(), view: View::Title },
            Step {
                id: 2,
                caption: "Sizes".into(),
                notes: String::new(),
                group: String::new(),
                view: View::Chart { chart: hostile.into(), highlight: None },
            },
            Step {
                id: 3,
                caption: "The elbow".into(),
                notes: String::new(),
                group: String::new(),
                view: View::Chart { chart: "elbow".into(), highlight: None },
            },
        ],
        ..Presentation::default()
    });
    let html = report::html(&ReportInputs {
        title: hostile,
        written: hostile,
        project: &project,
        result,
        summary,
        over_time: None,
    })
    .unwrap();
    assert!(!html.contains("<img src=x"), "raw markup from the project reached the page");
    assert!(!html.contains("</script>"));
    assert!(html.contains("&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"));
    for heading in ["SWOT board and TOWS strategies", "Threats", "Step 3: The elbow", "href=\"#chart-elbow\""] {
        assert!(html.contains(heading), "{heading}");
    }
    // The audit entry's three customers are a small cell.
    assert!(html.contains("&lt;10"));
}

#[test]
fn the_report_names_the_k_means_kernel_a_project_was_fitted_with() {
    // The demo is a format-10 project: no kernel is stored, which means kernel 1 (Lloyd).
    let (project, result, summary) = demo();
    let inputs = |project| ReportInputs { title: "t", written: "w", project, result, summary, over_time: None };
    let html = report::html(&inputs(project)).unwrap();
    let settings = html.split("<h3>Model and settings</h3>").nth(1).unwrap().split("</table>").next().unwrap();
    assert!(
        settings.contains("kernel = ") && settings.contains("Lloyd") && settings.contains("not stored"),
        "{settings}"
    );
    // Stored, it is shown as stored.
    let mut hamerly = project.clone();
    if let strata::engine::cluster::method::Algorithm::KMeans(params) = &mut hamerly.spec.model.algorithm {
        params.kernel = strata::engine::cluster::kmeans::KMeansKernel::Hamerly;
    }
    let html = report::html(&inputs(&hamerly)).unwrap();
    let settings = html.split("<h3>Model and settings</h3>").nth(1).unwrap().split("</table>").next().unwrap();
    assert!(
        settings.contains("kernel = ") && settings.contains("Hamerly") && !settings.contains("not stored"),
        "{settings}"
    );
}
