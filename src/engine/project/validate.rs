//! What a project file may hold: every setting has a documented upper bound, checked when the file
//! is read, and stored results must agree with their own model before anything shows them.
//!
//! A shared project is untrusted input: a bound keeps a hostile or damaged value from stalling or
//! killing whoever opens it (the window re-runs a project on opening), and the consistency check
//! keeps a hand-edited result from being shown as if Strata had computed it.

use crate::engine::cluster::sweep::SweepResult;
use crate::engine::features::recipe::FittedFeature;
use crate::engine::pipeline::{DataSource, PipelineSpec, SourceSpec, TableKind};

use super::{Project, StoredResults};

/// Characters in a segment's name.
pub const MAX_NAME_CHARS: usize = 200;
/// Characters in a note, a reason or an audit line's text.
pub const MAX_TEXT_CHARS: usize = 16 * 1024 * 1024;
/// Characters in a column name or a data path.
pub const MAX_COLUMN_NAME_CHARS: usize = 1_000;
/// Segments a project may name (a model's, the fallback, and those the rules make).
pub const MAX_SEGMENTS: usize = 2_000;
/// Values of k one sweep may try.
pub const MAX_SWEEP_VALUES: usize = 1_000;
/// Business rules.
pub const MAX_RULES: usize = 1_000;
/// Characters in one business rule.
pub const MAX_RULE_CHARS: usize = 2_000;
/// Manual overrides.
pub const MAX_OVERRIDES: usize = 1_000_000;
/// Lines of the audit log.
pub const MAX_AUDIT_ENTRIES: usize = 1_000_000;
/// Segmentations kept for Compare.
pub const MAX_KEPT: usize = 200;
/// Column roles set by the user.
pub const MAX_ROLE_OVERRIDES: usize = 100_000;
/// Customers a stored result may describe.
pub const MAX_CUSTOMERS: usize = 2_000_000_000;
/// Rows a preview (sample) read may ask for.
pub const MAX_SAMPLE_ROWS: usize = 1_000_000_000;
/// Depth of the explaining decision tree.
pub const MAX_EXPLAIN_DEPTH: usize = 6;

/// Checks every bound of a project as read; the message names the key, the value and the bound.
pub fn check_bounds(project: &Project) -> Result<(), String> {
    check_spec(&project.spec)?;
    check_count("segments", project.segments.len(), MAX_SEGMENTS)?;
    let mut seen = std::collections::HashSet::new();
    for (i, note) in project.segments.iter().enumerate() {
        let key = format!("segments[{i}]");
        check_count(&format!("{key}.segment"), note.segment, MAX_SEGMENTS - 1)?;
        if let Some(colour) = note.colour {
            check_count(&format!("{key}.colour"), colour, MAX_SEGMENTS - 1)?;
        }
        check_chars(&format!("{key}.name"), &note.name, MAX_NAME_CHARS)?;
        check_chars(&format!("{key}.notes"), &note.notes, MAX_TEXT_CHARS)?;
        if !seen.insert(note.segment) {
            return Err(format!("{key}: segment {} is named twice; a segment has one name", note.segment));
        }
    }
    check_count("kept", project.kept.len(), MAX_KEPT)?;
    for (i, kept) in project.kept.iter().enumerate() {
        let key = format!("kept[{i}]");
        check_chars(&format!("{key}.label"), &kept.label, MAX_TEXT_CHARS)?;
        check_chars(&format!("{key}.description"), &kept.description, MAX_TEXT_CHARS)?;
        check_count(&format!("{key}.n_customers"), kept.n_customers, super::MAX_KEPT_CUSTOMERS)?;
        check_count(&format!("{key}.names"), kept.names.len(), MAX_SEGMENTS)?;
        for (j, name) in kept.names.iter().enumerate() {
            check_chars(&format!("{key}.names[{j}]"), name, MAX_NAME_CHARS)?;
        }
    }
    check_count("rules.rules", project.rules.rules.len(), MAX_RULES)?;
    for (i, rule) in project.rules.rules.iter().enumerate() {
        check_chars(&format!("rules.rules[{i}].text"), &rule.text, MAX_RULE_CHARS)?;
        check_chars(&format!("rules.rules[{i}].why"), &rule.why, MAX_TEXT_CHARS)?;
    }
    check_count("rules.overrides", project.rules.overrides.len(), MAX_OVERRIDES)?;
    for (i, o) in project.rules.overrides.iter().enumerate() {
        check_chars(&format!("rules.overrides[{i}].customer"), &o.customer, MAX_COLUMN_NAME_CHARS)?;
        check_chars(&format!("rules.overrides[{i}].segment"), &o.segment, MAX_NAME_CHARS)?;
        check_chars(&format!("rules.overrides[{i}].why"), &o.why, MAX_TEXT_CHARS)?;
    }
    check_count("audit", project.audit.len(), MAX_AUDIT_ENTRIES)?;
    for (i, entry) in project.audit.iter().enumerate() {
        for (field, text) in [("when", &entry.when), ("who", &entry.who), ("what", &entry.what), ("why", &entry.why)] {
            check_chars(&format!("audit[{i}].{field}"), text, MAX_TEXT_CHARS)?;
        }
    }
    if let Some(windows) = &project.over_time {
        windows.check().map_err(|e| format!("over_time.{e}"))?;
    }
    if let Some(board) = &project.board {
        board.check()?;
    }
    if let Some(presentation) = &project.presentation {
        presentation.check()?;
    }
    project.versions.check()?;
    for v in &project.versions.published {
        check_spec(&v.spec).map_err(|e| format!("versions: version {}: {e}", v.number))?;
        check_chars(&format!("versions: version {} note", v.number), &v.note, MAX_TEXT_CHARS)?;
        check_chars(&format!("versions: version {} published_by", v.number), &v.published_by, MAX_TEXT_CHARS)?;
        check_count(&format!("versions: version {} names", v.number), v.names.len(), MAX_SEGMENTS)?;
    }
    project.monitor.thresholds.check().map_err(|e| format!("monitor.thresholds: {e}"))?;
    check_count("monitor.runs", project.monitor.runs.len(), crate::engine::monitor::MAX_RUNS)?;
    if let Some(results) = &project.results {
        check_results(results)?;
        let asks_value = matches!(&project.spec.table, TableKind::TransactionLog(t) if t.value.is_some());
        if results.value.is_some() && !asks_value {
            return Err("its stored results hold value figures but its spec asks for no customer value \
                        (results.value without spec.table.value)"
                .into());
        }
    }
    Ok(())
}

fn check_spec(spec: &PipelineSpec) -> Result<(), String> {
    check_source("spec.source", &spec.source)?;
    if let Some(attributes) = &spec.attributes {
        check_source("spec.attributes", attributes)?;
    }
    match &spec.table {
        TableKind::CustomerTable { id_column, .. } => {
            if let Some(id) = id_column {
                check_chars("spec.table.id_column", id, MAX_COLUMN_NAME_CHARS)?;
            }
        }
        TableKind::TransactionLog(t) => {
            for (field, name) in
                [("customer_id", &t.customer_id), ("date", &t.date), ("amount", &t.amount_name().to_string())]
            {
                check_chars(&format!("spec.table.{field}"), name, MAX_COLUMN_NAME_CHARS)?;
            }
            // "" is a log without an amount (format 7); only blanks is neither a column nor none.
            if t.amount.as_deref().is_some_and(|a| a.trim().is_empty()) {
                return Err(
                    "spec.table.amount is only blanks; name the amount column, or write \"\" for a log without one"
                        .into(),
                );
            }
            for (i, column) in t.behaviour.breakdown.iter().enumerate() {
                check_chars(&format!("spec.table.behaviour.breakdown[{i}]"), column, MAX_COLUMN_NAME_CHARS)?;
            }
            t.behaviour.check().map_err(|e| format!("spec.table.behaviour: {e}"))?;
        }
    }
    if let Some(key) = &spec.attributes_key {
        check_chars("spec.attributes_key", key, MAX_COLUMN_NAME_CHARS)?;
        if key.trim().is_empty() {
            return Err("spec.attributes_key is empty; name the attribute table's key column or leave it out".into());
        }
        if spec.attributes.is_none() {
            return Err("spec.attributes_key names a key but the project has no attribute table".into());
        }
    }
    check_count("spec.role_overrides", spec.role_overrides.len(), MAX_ROLE_OVERRIDES)?;
    for (i, (column, _)) in spec.role_overrides.iter().enumerate() {
        check_chars(&format!("spec.role_overrides[{i}]"), column, MAX_COLUMN_NAME_CHARS)?;
    }
    spec.recipe.check().map_err(|e| format!("spec.recipe: {e}"))?;
    spec.derived.check().map_err(|e| format!("spec.derived: {e}"))?;
    // A lookup table is read whenever the project runs: it must sit in the project's folder.
    for (i, lookup) in spec.derived.lookups.iter().enumerate() {
        let path = std::path::Path::new(&lookup.path);
        let escapes = path.is_absolute()
            || lookup.path.starts_with(['/', '\\'])
            || path
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir | std::path::Component::Prefix(_)));
        if escapes {
            return Err(format!(
                "spec.derived.lookups[{i}].path {} leads outside the project's folder; a lookup table must sit \
                 in the project's folder (or below it)",
                quoted(&lookup.path)
            ));
        }
    }
    let mut seen = std::collections::HashSet::new();
    for (i, feature) in spec.recipe.features.iter().enumerate() {
        let key = format!("spec.recipe.features[{i}]");
        check_chars(&format!("{key}.column"), &feature.column, MAX_COLUMN_NAME_CHARS)?;
        if !seen.insert(feature.column.as_str()) {
            return Err(format!(
                "{key}: the feature {} is listed twice; a recipe lists each column once",
                quoted(&feature.column)
            ));
        }
        if !feature.weight.is_finite() {
            return Err(format!("{key}.weight is {}; a weight must be a finite number", feature.weight));
        }
        if let Some((low, high)) = feature.clip_percentiles
            && !(low.is_finite() && high.is_finite() && 0.0 <= low && low < high && high <= 100.0)
        {
            return Err(format!(
                "{key}.clip_percentiles is ({low}, {high}); percentiles run from 0 to 100, the lower first"
            ));
        }
    }
    let model = &spec.model;
    let key = |k: &str| format!("spec.model.{k}");
    model.algorithm.check().map_err(|e| format!("{}: {e}", key("algorithm")))?;
    if let Some((low, high)) = model.k_range {
        if low == 0 || low > high {
            return Err(format!("{} is ({low}, {high}); the range runs from k = 1 or more up", key("k_range")));
        }
        let values = high - low + 1;
        if values > MAX_SWEEP_VALUES {
            return Err(format!(
                "{} is ({low}, {high}): {values} values of k; a sweep tries at most {MAX_SWEEP_VALUES}",
                key("k_range")
            ));
        }
        check_count(&key("k_range"), high, crate::engine::cluster::bounds::MAX_K)?;
    }
    if let Some(share) = model.min_segment_share
        && !(share.is_finite() && (0.0..=1.0).contains(&share))
    {
        return Err(format!("{} is {share}; a share runs from 0 to 1", key("min_segment_share")));
    }
    if let Some(stability) = &model.stability {
        stability.check().map_err(|e| format!("{}: {e}", key("stability")))?;
    }
    if let Some(depth) = model.explain_depth {
        check_range(&key("explain_depth"), depth, 1, MAX_EXPLAIN_DEPTH)?;
    }
    Ok(())
}

fn check_source(key: &str, source: &SourceSpec) -> Result<(), String> {
    if let DataSource::File(path) = &source.source {
        check_chars(&format!("{key}.source"), path, MAX_COLUMN_NAME_CHARS)?;
        if path.trim().is_empty() {
            return Err(format!("{key}.source is an empty path"));
        }
        if crate::engine::pipeline::several::is_pattern(path) {
            crate::engine::pipeline::several::check_pattern(path).map_err(|e| format!("{key}.source: {e}"))?;
        }
    }
    source.read_options.formats.check().map_err(|e| format!("{key}.read_options.formats: {e}"))?;
    if let Some(rows) = source.read_options.sample_rows {
        check_range(&format!("{key}.read_options.sample_rows"), rows, 1, MAX_SAMPLE_ROWS)?;
    }
    if let Some(fingerprint) = &source.fingerprint
        && !is_fingerprint(fingerprint)
    {
        return Err(format!("{key}.fingerprint is {}; a fingerprint is 64 hexadecimal digits", quoted(fingerprint)));
    }
    Ok(())
}

/// Whether `text` has the shape of a blake3 fingerprint.
fn is_fingerprint(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Checks that stored results agree with themselves: one centroid and one size per segment, every
/// centroid as wide as the fitted recipe's output, sizes adding up to the customers fitted, and
/// every figure finite and within its range.
pub fn check_results(results: &StoredResults) -> Result<(), String> {
    let bad = |message: String| Err(format!("its stored results contradict themselves: {message}"));
    check_count("results.n_customers", results.n_customers, MAX_CUSTOMERS)?;
    if results.n_rows_fitted > results.n_customers {
        return bad(format!(
            "{} customers fitted out of {} in the table (results.n_rows_fitted)",
            results.n_rows_fitted, results.n_customers
        ));
    }
    results.fitted_recipe.check().map_err(|e| format!("results.fitted_recipe: {e}"))?;
    let k = results.sizes.len();
    check_count("results.sizes", k, MAX_SEGMENTS)?;
    if results.centroids.len() != k {
        return bad(format!("{} centroids for {k} segment sizes (results.centroids)", results.centroids.len()));
    }
    let width: usize = results
        .fitted_recipe
        .features
        .iter()
        .map(|f| match f {
            FittedFeature::Numeric(_) => 1,
            FittedFeature::Categorical(c) => c.levels.len(),
        })
        .sum();
    for (s, centroid) in results.centroids.iter().enumerate() {
        if centroid.len() != width {
            return bad(format!(
                "segment {s}'s centroid has {} values but the fitted recipe makes {width} (results.centroids[{s}])",
                centroid.len()
            ));
        }
        if let Some(v) = centroid.iter().find(|v| !v.is_finite()) {
            return bad(format!("segment {s}'s centroid holds {v} (results.centroids[{s}])"));
        }
    }
    let total = results.sizes.iter().try_fold(0usize, |sum, &s| sum.checked_add(s));
    if total != Some(results.n_rows_fitted) {
        return bad(format!(
            "segment sizes add up to {} but {} customers were fitted (results.sizes)",
            total.map_or_else(|| "more than can be counted".to_string(), |t| t.to_string()),
            results.n_rows_fitted
        ));
    }
    let indices = &results.indices;
    if indices.k != k || indices.sizes != results.sizes {
        return bad(format!(
            "the indices describe k = {} with sizes {:?}, the results k = {k} with sizes {:?} (results.indices)",
            indices.k,
            short_list(&indices.sizes),
            short_list(&results.sizes)
        ));
    }
    check_figure("results.indices.inertia", Some(indices.inertia), 0.0, f64::MAX)?;
    check_figure("results.indices.silhouette", indices.silhouette.as_ref().map(|s| s.mean), -1.0, 1.0)?;
    check_figure("results.indices.calinski_harabasz", indices.calinski_harabasz, 0.0, f64::MAX)?;
    check_figure("results.indices.davies_bouldin", indices.davies_bouldin, 0.0, f64::MAX)?;
    if !is_fingerprint(&results.assignment_fingerprint) {
        return bad(format!(
            "the assignment fingerprint {} is not 64 hexadecimal digits (results.assignment_fingerprint)",
            quoted(&results.assignment_fingerprint)
        ));
    }
    if let Some(sweep) = &results.sweep {
        check_sweep(sweep)?;
    }
    if let Some(value) = &results.value {
        value
            .check(MAX_SEGMENTS)
            .map_err(|e| format!("its stored value figures are not usable: {e} (results.value)"))?;
    }
    Ok(())
}

fn check_sweep(sweep: &SweepResult) -> Result<(), String> {
    check_count("results.sweep.runs", sweep.runs.len(), MAX_SWEEP_VALUES)?;
    check_count("results.sweep.n_rows", sweep.n_rows, MAX_CUSTOMERS)?;
    let mut previous_k = 0;
    for (i, run) in sweep.runs.iter().enumerate() {
        let key = format!("results.sweep.runs[{i}]");
        if run.k <= previous_k || run.k > MAX_SEGMENTS {
            return Err(format!(
                "{key}.k is {}; the runs' k must rise from one run to the next and stay at most {MAX_SEGMENTS}",
                run.k
            ));
        }
        previous_k = run.k;
        let total = run.sizes.iter().try_fold(0usize, |sum, &s| sum.checked_add(s));
        if run.sizes.len() > run.k || total.is_none_or(|t| t > sweep.n_rows) {
            return Err(format!(
                "{key}.sizes do not fit k = {} and {} customers (its stored results contradict themselves)",
                run.k, sweep.n_rows
            ));
        }
        check_figure(&format!("{key}.inertia"), Some(run.inertia), 0.0, f64::MAX)?;
        check_figure(&format!("{key}.silhouette"), run.silhouette, -1.0, 1.0)?;
        check_figure(&format!("{key}.calinski_harabasz"), run.calinski_harabasz, 0.0, f64::MAX)?;
        check_figure(&format!("{key}.davies_bouldin"), run.davies_bouldin, 0.0, f64::MAX)?;
        check_figure(&format!("{key}.bic"), run.bic, f64::MIN, f64::MAX)?;
        check_figure(&format!("{key}.aic"), run.aic, f64::MIN, f64::MAX)?;
    }
    Ok(())
}

fn check_figure(key: &str, value: Option<f64>, low: f64, high: f64) -> Result<(), String> {
    match value {
        Some(v) if !(v.is_finite() && low <= v && v <= high) => {
            Err(format!("{key} is {v}, which no fit gives (its stored results contradict themselves)"))
        }
        _ => Ok(()),
    }
}

fn check_count(key: &str, value: usize, max: usize) -> Result<(), String> {
    if value > max {
        return Err(format!("{key} is {value}; at most {max} is allowed"));
    }
    Ok(())
}

fn check_range(key: &str, value: usize, min: usize, max: usize) -> Result<(), String> {
    if value < min || value > max {
        return Err(format!("{key} is {value}; it must be from {min} to {max}"));
    }
    Ok(())
}

fn check_chars(key: &str, text: &str, max: usize) -> Result<(), String> {
    // Bytes first: a long text is refused without counting a 200 MB string's characters.
    if text.len() > max && text.chars().nth(max).is_some() {
        return Err(format!("{key} is {} characters long; at most {max} are allowed", text.chars().count()));
    }
    Ok(())
}

/// Up to 8 numbers of a list, for a message.
fn short_list(values: &[usize]) -> String {
    let shown: Vec<String> = values.iter().take(8).map(|v| v.to_string()).collect();
    if values.len() > 8 {
        format!("[{}, … {} in all]", shown.join(", "), values.len())
    } else {
        format!("[{}]", shown.join(", "))
    }
}

/// A value from the file, quoted and cut short.
fn quoted(text: &str) -> String {
    crate::engine::error::quoted(text)
}
