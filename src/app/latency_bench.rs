//! Edit to redrawn screen: the wall time from an edit an analyst makes (k within the swept range, one
//! feature's weight, a feature ticked off, the scaling) to the first frame that draws its result,
//! through the code the window runs: the app's commands, its job runner on a worker thread, the stage
//! cache, the business rules and the result summary, and the Segments screen drawn and tessellated
//! every frame while the job runs. The caches are warm: each edit follows a run of the settings it
//! changes, as in a session.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::frame_bench::{HEADLESS_SIZE, headless_app, headless_frame};
use super::{Command, Screen, StrataApp};
use crate::engine::features::recipe::Scaling;
use crate::engine::jobs::RunMode;
use crate::engine::pipeline::{Algorithm, PipelineSpec, StageHits};

/// The longest one edit may take before the benchmark gives up (a hang is an error, not a figure).
const TIMEOUT: Duration = Duration::from_secs(1800);

/// The edits timed, in the order they run, with the short names `--only` takes.
pub const EDITS: [(&str, &str); 4] = [
    ("k", "k within the sweep"),
    ("weight", "one feature weight"),
    ("off", "a feature ticked off"),
    ("scaling", "scaling"),
];

/// The edits named by their short names (all of them when none is named).
pub fn edits(only: &[String]) -> Result<Vec<&'static str>, String> {
    if only.is_empty() {
        return Ok(EDITS.iter().map(|e| e.1).collect());
    }
    only.iter()
        .map(|name| {
            EDITS
                .iter()
                .find(|e| e.0 == name.trim())
                .map(|e| e.1)
                .ok_or_else(|| format!("unknown edit '{name}'; use {}", EDITS.map(|e| e.0).join(", ")))
        })
        .collect()
}

/// The spec after edit `edit`'s `i`-th repetition, from the settled `base`: every repetition is a
/// setting not run just before it, so each one really computes.
fn edited(base: &PipelineSpec, edit: &str, i: usize) -> PipelineSpec {
    let mut spec = base.clone();
    match edit {
        "k within the sweep" => {
            let (lo, hi) = spec.model.k_range.unwrap_or((2, 10));
            let k = spec.model.algorithm.k().unwrap_or(lo);
            // Walk the range from the k in use, never landing on the k run just before.
            let span = hi - lo + 1;
            let next = lo + (k - lo + 1 + i) % span;
            spec.model.algorithm =
                spec.model.algorithm.with_k(if next == k { lo + (next - lo + 1) % span } else { next });
        }
        "one feature weight" => {
            if let Some(f) = spec.recipe.features.first_mut() {
                f.weight = 1.0 + 0.25 * (i + 1) as f64;
            }
        }
        "a feature ticked off" => {
            let n = spec.recipe.features.len();
            if n > 1 {
                spec.recipe.features.remove(i % n);
            }
        }
        _ => {
            let scaling = [Scaling::Robust, Scaling::MinMax, Scaling::None][i % 3];
            for f in &mut spec.recipe.features {
                f.scaling = scaling;
            }
        }
    }
    spec
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The figures on screen that come from a sample rather than every customer.
fn provisional(app: &StrataApp) -> Vec<String> {
    let Some(out) = &app.output else { return Vec::new() };
    let mut figures = Vec::new();
    if let Some(fit) = out.result.provisional {
        figures.push(format!("segments (fitted on a sample of {}, exact fit under way)", fit.sample_size));
        if fit.sweep_pending {
            figures.push(format!("k sweep (being swept on a sample of {})", fit.sample_size));
        }
    }
    if let Some(s) = out.result.indices.silhouette.as_ref().filter(|s| !s.exact) {
        figures.push(format!("silhouette (sample of {})", s.sample_size));
    }
    if out.summary.silhouettes.as_ref().is_some_and(|s| s.sampled) {
        figures.push("member silhouettes (sample)".to_string());
    }
    figures
}

fn hits_between(before: StageHits, after: StageHits) -> Value {
    json!({
        "table": after.table - before.table,
        "recipe": after.recipe - before.recipe,
        "sweep": after.sweep - before.sweep,
        "model": after.model - before.model,
    })
}

/// Opens `data` (a customer table) in a headless app whose jobs run on worker threads, as the
/// window's do, runs it with the window's default model, then times `repeats` repetitions of each
/// of `edits` (from [`EDITS`]); returns one JSON row per edit.
pub fn measure(data: &Path, edits: &[&str], repeats: usize) -> Result<Vec<Value>, String> {
    let (ctx, mut app) = headless_app(RunMode::Threads);
    let mut time = 0.0;
    let mut frame = |app: &mut StrataApp| {
        time += 1.0 / 60.0;
        headless_frame(&ctx, app, HEADLESS_SIZE, time);
    };
    // Frames until `done`, a few milliseconds apart (a window repaints as jobs report); returns the
    // stages the job reported (`engine::pipeline`'s progress), each with the milliseconds from the
    // first frame until it was first seen, then "drawn" when the result was.
    let mut settle = |app: &mut StrataApp, what: &str, done: &dyn Fn(&StrataApp) -> bool| {
        let start = Instant::now();
        let mut seen: Vec<(String, f64)> = Vec::new();
        loop {
            frame(app);
            if let Some((stage, _)) = &app.progress
                && seen.last().is_none_or(|(last, _)| last != stage)
            {
                seen.push((stage.clone(), start.elapsed().as_secs_f64() * 1e3));
            }
            if done(app) {
                seen.push(("drawn".to_string(), start.elapsed().as_secs_f64() * 1e3));
                return Ok(seen);
            }
            if let Some(error) = app.last_error.clone() {
                return Err(format!("{what}: {error}"));
            }
            if start.elapsed() > TIMEOUT {
                return Err(format!("{what}: no result after {} s", TIMEOUT.as_secs()));
            }
            std::thread::sleep(Duration::from_millis(4));
        }
    };
    app.push(Command::OpenData(data.to_path_buf()));
    settle(&mut app, "opening the data", &|app| app.doc.as_ref().is_some_and(|d| !d.needs_setup))?;
    app.push(Command::Show(Screen::Segments));
    // Shown: the result drawn is the project's settings' (provisional or exact).
    let shown =
        |app: &StrataApp| app.output.as_ref().zip(app.doc.as_ref()).is_some_and(|(o, d)| o.spec == d.project.spec);
    // Done: no run going, and the result drawn is the exact one.
    let ran = |app: &StrataApp| {
        app.runner.running().is_none()
            && shown(app)
            && app.output.as_ref().is_some_and(|o| o.result.provisional.is_none())
    };
    let mut base = app.doc.as_ref().map(|d| d.project.spec.clone()).ok_or("no project")?;
    if base.model.k_range.is_none() {
        base.model.k_range = Some((2, 10));
    }
    let model = base.model.algorithm.label().to_string();
    let n_init = match &base.model.algorithm {
        Algorithm::KMeans(p) => p.n_init,
        _ => 1,
    };
    let mut rows = Vec::new();
    for &edit in edits {
        // The settings the edit changes, run first: the caches hold them, as after any run.
        app.push(Command::EditSpec { spec: Box::new(base.clone()), what: "benchmark settings".into() });
        app.push(Command::Run);
        settle(&mut app, "the first run", &ran)?;
        let customers = app.output.as_ref().map_or(0, |o| o.result.customers.height());
        let mut ms = Vec::new();
        let mut exact_ms = Vec::new();
        let mut reused = Vec::new();
        let mut stages = Vec::new();
        let mut on_screen = Vec::new();
        for i in 0..repeats.max(1) {
            let spec = edited(&base, edit, i);
            let before = app.cache.hits();
            let start = Instant::now();
            app.push(Command::EditSpec { spec: Box::new(spec), what: edit.into() });
            app.push(Command::Run);
            let mut seen = settle(&mut app, edit, &shown)?;
            let first = start.elapsed().as_secs_f64() * 1e3;
            ms.push(first);
            on_screen = provisional(&app);
            if ran(&app) {
                exact_ms.push(first);
            } else {
                // The provisional result is on screen: on to the exact one, timed from the edit too.
                if let Some(last) = seen.last_mut() {
                    last.0 = "provisional drawn".to_string();
                }
                let later = settle(&mut app, edit, &ran)?;
                seen.extend(later.into_iter().map(|(stage, at)| (stage, at + first)));
                exact_ms.push(start.elapsed().as_secs_f64() * 1e3);
            }
            reused.push(hits_between(before, app.cache.hits()));
            // Milliseconds in each stage: from its first sight to the next stage's.
            let spent: Vec<Value> = seen.windows(2).map(|w| json!({"stage": w[0].0, "ms": w[1].1 - w[0].1})).collect();
            stages.push(spent);
        }
        rows.push(json!({
            "customers": customers,
            "edit": edit,
            "median_ms": median(&ms),
            "runs_ms": ms,
            "exact_median_ms": median(&exact_ms),
            "exact_runs_ms": exact_ms,
            "stages_reused": reused,
            "stages_ms": stages,
            "provisional": on_screen,
            "model": model,
            "n_init": n_init,
            "k_range": base.model.k_range,
            "features": base.recipe.features.len(),
        }));
    }
    Ok(rows)
}
