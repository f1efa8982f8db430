//! The CPU time of one frame of each screen with a large customer table loaded: the app is built
//! headless on an egui context, the data goes through the same open-data path a user takes, and each
//! screen is drawn and tessellated repeatedly (what a frame costs before the GPU). Business rules are
//! loaded (one of them moves customers) and two segmentations are kept, so the Rules and Compare
//! screens draw their full content.

use std::path::Path;

use eframe::egui;
use serde_json::{Value, json};

use super::{AppOptions, Command, Prefs, Screen, ScriptedDialogs, StartProject, StrataApp};
use crate::engine::features::FeatureSpec;
use crate::engine::pipeline::PipelineSpec;
use crate::engine::rules::{BusinessRule, BusinessRules};

/// The business rules loaded for the benchmark (on the generated customers' columns); the second
/// moves customers into a segment of its own.
const BENCH_RULES: [(&str, &str); 3] = [
    ("when monetary_total > p90 then not low priority", "top spenders are never low priority"),
    ("when recency_days > p75 and frequency <= p25 then segment \"Lapsed\"", "gone quiet after few orders"),
    ("when no segment then segment \"Insufficient data\"", "every customer gets a segment"),
];

/// Thread CPU time in seconds (wall time where the platform has no per-thread clock).
fn thread_cpu_secs() -> f64 {
    #[cfg(target_os = "linux")]
    {
        let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: `t` is a valid, writable timespec and the clock id is a constant libc defines.
        if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) } == 0 {
            return t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9;
        }
    }
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed().as_secs_f64()
}

/// The window size both benchmarks draw at.
pub(super) const HEADLESS_SIZE: egui::Vec2 = egui::vec2(1600.0, 1000.0);

/// A headless app with scripted dialogs and auto-run off (the benchmarks run when they choose), its
/// jobs run as `run_mode` says, and the context it draws on.
pub(super) fn headless_app(run_mode: crate::engine::jobs::RunMode) -> (egui::Context, StrataApp) {
    let ctx = egui::Context::default();
    let options = AppOptions { run_mode, ..AppOptions::scripted(StartProject::Empty, ScriptedDialogs::new()) };
    let prefs = Prefs { auto_run: false, ..Prefs::default() };
    let app = StrataApp::with_context(&ctx, options, prefs);
    (ctx, app)
}

/// One frame of `app` on a headless context of `size` at `time` seconds: its pending commands and
/// jobs applied, the screen laid out and tessellated (what the UI thread does before the GPU). No
/// renderer takes the texture uploads here; they are dropped on purpose.
pub(super) fn headless_frame(
    ctx: &egui::Context,
    app: &mut StrataApp,
    size: egui::Vec2,
    time: f64,
) -> (Vec<egui::ClippedPrimitive>, egui::FullOutput) {
    let input = egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, size)),
        time: Some(time),
        ..Default::default()
    };
    let mut output = ctx.run_ui(input, |ui| {
        app.apply_pending(ui.ctx());
        app.draw(ui);
    });
    let meshes = ctx.tessellate(std::mem::take(&mut output.shapes), output.pixels_per_point);
    output.textures_delta.clear();
    (meshes, output)
}

/// Opens `data` (a customer table) in a headless app, segments it on `features` (default: the
/// numeric columns the app picks) with `k` segments over the sweep `k_range`, then times `frames`
/// frames of each screen; returns the JSON report.
pub fn measure(
    data: &Path,
    features: Option<&[String]>,
    k: usize,
    k_range: (usize, usize),
    frames: usize,
) -> Result<Value, String> {
    let (ctx, mut app) = headless_app(crate::engine::jobs::RunMode::Inline);
    let size = HEADLESS_SIZE;
    let mut time = 0.0;
    let mut frame = |app: &mut StrataApp| {
        time += 1.0 / 60.0;
        let start = thread_cpu_secs();
        let (meshes, _) = headless_frame(&ctx, app, size, time);
        let seconds = thread_cpu_secs() - start;
        // Vertices drawn: evidence that the screen really drew its content.
        let vertices: usize = meshes
            .iter()
            .map(|m| match &m.primitive {
                egui::epaint::Primitive::Mesh(mesh) => mesh.vertices.len(),
                egui::epaint::Primitive::Callback(_) => 0,
            })
            .sum();
        (seconds, vertices)
    };
    let setup_start = std::time::Instant::now();
    app.push(Command::OpenData(data.to_path_buf()));
    frame(&mut app);
    let Some(doc) = &app.doc else {
        return Err(app.last_error.unwrap_or_else(|| "the data did not open".into()));
    };
    let mut spec: PipelineSpec = doc.project.spec.clone();
    if let Some(features) = features {
        spec.recipe.features = features.iter().map(|c| FeatureSpec::numeric(c)).collect();
    }
    let mut params = crate::engine::cluster::kmeans::KMeansParams::new(k).n_init(1);
    params.seed = spec.model.algorithm.seed();
    spec.model.algorithm = crate::engine::pipeline::Algorithm::KMeans(params);
    spec.model.k_range = Some(k_range);
    app.push(Command::EditSpec { spec: Box::new(spec), what: "benchmark settings".into() });
    app.push(Command::Run);
    frame(&mut app);
    if app.output.is_none() {
        return Err(app.last_error.unwrap_or_else(|| "the run gave no result".into()));
    }
    // Business rules, a low-priority mark and a re-run: the Rules screen has its table, counts and
    // audit log, and the segmentation with the rules applied is kept beside the model's (Compare).
    let rules =
        BENCH_RULES.iter().map(|(text, why)| BusinessRule { text: text.to_string(), why: why.to_string() }).collect();
    app.push(Command::SetLowPriority { segment: 0, low_priority: true });
    app.push(Command::EditRules {
        rules: BusinessRules { rules, overrides: Vec::new() },
        what: "benchmark rules".into(),
        why: "frame benchmark".into(),
    });
    app.push(Command::Run);
    frame(&mut app);
    let Some(out) = app.output.clone() else {
        return Err(app.last_error.unwrap_or_else(|| "the run with rules gave no result".into()));
    };
    let rules_moved = out.counts.rules_changed;
    if rules_moved == 0 {
        return Err("the benchmark's business rules moved no customer".into());
    }
    let kept_segmentations = app.segmentations.len();
    if kept_segmentations < 2 {
        return Err(format!("{kept_segmentations} segmentation kept; the Compare screen needs two"));
    }
    let customers = out.result.customers.height();
    let setup_secs = setup_start.elapsed().as_secs_f64();
    let mut screens = Vec::new();
    for screen in Screen::ALL {
        app.push(Command::Show(screen));
        // Warm-up frames: the first draw of a screen lays out fonts and makes textures.
        for _ in 0..3 {
            frame(&mut app);
        }
        let timed: Vec<(f64, usize)> = (0..frames.max(1)).map(|_| frame(&mut app)).collect();
        let drawn = timed.last().map_or(0, |t| t.1);
        let mut ms: Vec<f64> = timed.iter().map(|t| t.0 * 1e3).collect();
        ms.sort_by(f64::total_cmp);
        let median = ms[ms.len() / 2];
        let p90 = ms[(ms.len() * 9 / 10).min(ms.len() - 1)];
        screens.push(json!({
            "screen": screen.label(),
            "cpu_ms_median": median,
            "cpu_ms_p90": p90,
            "cpu_ms_max": ms[ms.len() - 1],
            "frames": ms.len(),
            "vertices": drawn,
        }));
    }
    // Evidence that Compare drew its table: the customers its cross-tabulation counted.
    let compared_customers = match &app.view.compare.result {
        Some(Ok(comparison)) => comparison.crosstab.n(),
        _ => 0,
    };
    Ok(json!({
        "case": "gui-frame",
        "customers": customers,
        "features": out.result.matrix.names.len(),
        "k": k,
        "window": [size.x, size.y],
        "business_rules": BENCH_RULES.len(),
        "customers_moved_by_rules": rules_moved,
        "kept_segmentations": kept_segmentations,
        "compared_customers": compared_customers,
        "setup_secs": setup_secs,
        "screens": screens,
    }))
}
