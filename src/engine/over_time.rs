//! Segments over time: a transaction log cut into windows by date (rolling quarters, say), the
//! customers of each window built and segmented with the project's recipe and method, segments
//! aligned from window to window, and how customers move between segments from one window to the
//! next.
//!
//! Every window's customers get features as of its end. By default ([`WindowModel::Fixed`]) the
//! model fitted on the last window assigns every earlier window's customers the way it assigns new
//! customers, so a segment means the same throughout and a move is a change of behaviour. With
//! [`WindowModel::Refit`] each window is fitted on its own, as the analysis would have been run on
//! that date; its segments are then numbered as the last window's: each is matched to the next
//! window's segments by the customers they share (Hungarian assignment on the customers in common,
//! at least [`MIN_JACCARD`] Jaccard), working back from the last window, whose numbering is the
//! project's; methods that name their segments (RFM rules) are matched by name. A segment with no
//! match gets a number of its own after the last window's.
//!
//! A window either holds all history up to its end (`cumulative`, the default: features as of that
//! date, the way the project computes them) or only the transactions inside it.

use std::collections::HashMap;

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::engine::error::{ClusterError, PipelineError};
use crate::engine::jobs::JobContext;
use crate::engine::metrics::matching::match_segments;
use crate::engine::naming::SegmentNote;
use crate::engine::pipeline::{self, PipelineSpec, SourceResolver, TableKind};
use crate::engine::rules::{BusinessRules, RuleContext};

/// How the windows take a project's business rules. Said on the Over time screen and in
/// `strata run --json` (`over_time.business_rules_applied: true`, `over_time.note`).
pub const RULES_APPLIED: &str = "Every window takes this project's business rules and overrides after its model \
     segments, as the main result does; a percentile in a rule is taken over that window's customers.";

/// The business rules and overrides every window takes, with the segment notes whose names and
/// low-priority marks the rules refer to (numbered as the last window's segments).
#[derive(Clone, Copy, Debug, Default)]
pub struct WindowRules<'a> {
    /// The rules and overrides.
    pub rules: Option<&'a BusinessRules>,
    /// The project's segment notes.
    pub notes: &'a [SegmentNote],
}

/// Jaccard overlap below which a segment is not taken to be the same as one in the next window.
pub const MIN_JACCARD: f64 = 0.2;

/// How each window is segmented.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum WindowModel {
    /// The model fitted on the last window assigns every earlier window's customers, as it would
    /// assign new customers: the segments mean the same throughout, so a move is a change of
    /// behaviour, not of the model.
    #[default]
    Fixed,
    /// Every window fitted on its own, as the analysis would have been run on that date; segments
    /// are then matched from window to window by the customers they share.
    Refit,
}

/// How the log is cut.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WindowParams {
    /// Length of a window, and the step between window ends, in months (3: quarters).
    pub months: u32,
    /// How many windows, the last ending at `end`.
    pub windows: usize,
    /// All history up to each window's end (true), or only the transactions inside the window.
    pub cumulative: bool,
    /// The last window's end (an as-of date); `None`: the project's as-of date, else the day after
    /// the last transaction.
    pub end: Option<NaiveDate>,
    /// One model for all windows, or one per window.
    pub model: WindowModel,
}

/// Months one window may span.
pub const MAX_WINDOW_MONTHS: u32 = 120;
/// Windows the log may be cut into (at least two, to see anyone move).
pub const MAX_WINDOWS: usize = 60;

impl WindowParams {
    /// Checks the settings against their bounds; the message names the setting and the bound.
    pub fn check(&self) -> Result<(), String> {
        if self.months == 0 || self.months > MAX_WINDOW_MONTHS {
            return Err(format!("months is {}: a window of 1 to {MAX_WINDOW_MONTHS} months", self.months));
        }
        if !(2..=MAX_WINDOWS).contains(&self.windows) {
            return Err(format!(
                "windows is {}; use 2 to {MAX_WINDOWS} (two are needed to see anyone move)",
                self.windows
            ));
        }
        Ok(())
    }
}

impl Default for WindowParams {
    fn default() -> Self {
        Self { months: 3, windows: 4, cumulative: true, end: None, model: WindowModel::Fixed }
    }
}

/// One window's segments.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Window {
    /// First day of the window (the day after the previous window's end; with all history,
    /// earlier days count too).
    pub start: NaiveDate,
    /// The as-of date: features are computed as of this day.
    pub end: NaiveDate,
    /// Customers with transactions counted in the window.
    pub n_customers: usize,
    /// Customers per segment, in the aligned numbering (0 for segments not in this window).
    pub sizes: Vec<usize>,
    /// Mean silhouette of the window's fit, when computed.
    pub silhouette: Option<f64>,
}

impl Window {
    /// Its segments' sizes as they may be shown at `threshold`, with the customers it could not
    /// segment as a last count (so the sizes and the window's customers add up), their total the
    /// window's customers.
    pub fn sizes_shown(&self, threshold: usize) -> crate::engine::governance::suppress::Sizes {
        let segmented: usize = self.sizes.iter().sum();
        let mut counts = self.sizes.clone();
        counts.push(self.n_customers.saturating_sub(segmented));
        crate::engine::governance::suppress::Sizes::new(&counts, threshold)
    }
}

/// Customers moving from one window to the next.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Transition {
    /// The earlier window (index into `windows`).
    pub from: usize,
    /// The later window.
    pub to: usize,
    /// `counts[a][b]`: customers in segment `a` in the earlier window and `b` in the later one; the
    /// last row and column are "not present" (no transaction counted in that window).
    pub counts: Vec<Vec<usize>>,
    /// Of the customers present in both windows, the share in the same segment in both.
    pub stayed: f64,
}

impl Transition {
    /// Its counts as they may be shown at `threshold`, with their totals.
    pub fn shown(&self, threshold: usize) -> crate::engine::governance::suppress::Table {
        crate::engine::governance::suppress::table_with_totals(&self.counts, threshold)
    }

    /// The share of customers present in both windows who kept their segment, when neither they,
    /// the others nor all of them are a small count.
    pub fn stayed_shown(&self, threshold: usize) -> Option<f64> {
        let n = self.counts.len().saturating_sub(1);
        let both: usize = self.counts.iter().take(n).map(|row| row.iter().take(n).sum::<usize>()).sum();
        let kept: usize = (0..n).map(|s| self.counts[s].get(s).copied().unwrap_or(0)).sum();
        crate::engine::governance::suppress::share_of(kept, both, threshold)
            .map(|_| self.stayed)
            .filter(|s| s.is_finite())
    }
}

/// The whole analysis.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OverTime {
    /// How the log was cut.
    pub params: WindowParams,
    /// Names of the aligned segments: the last window's own names first, then segments of earlier
    /// windows that match none of the next window's.
    pub names: Vec<String>,
    /// Segments of the last window (names from the project apply to these).
    pub n_last: usize,
    /// The windows, oldest first.
    pub windows: Vec<Window>,
    /// From each window to the next.
    pub transitions: Vec<Transition>,
    /// Sentences for the user.
    pub warnings: Vec<String>,
}

impl OverTime {
    /// The aligned segments' names as the screens show them: the last window's segments are the
    /// run's when the windows were segmented by the run's model, so `run_names` (the run's, in
    /// segment order) name them; the others keep their own.
    pub fn names_with(&self, run_names: Option<&[String]>) -> Vec<String> {
        self.names
            .iter()
            .enumerate()
            .map(|(s, own)| match run_names.and_then(|n| n.get(s)) {
                Some(name) if s < self.n_last => name.clone(),
                _ => own.clone(),
            })
            .collect()
    }
}

fn invalid(problem: String) -> PipelineError {
    ClusterError::InvalidParameter { name: "windows", problem }.into()
}

/// The windows' (start, end) dates, oldest first.
pub fn window_dates(end: NaiveDate, params: &WindowParams) -> Result<Vec<(NaiveDate, NaiveDate)>, PipelineError> {
    params.check().map_err(invalid)?;
    let mut dates = Vec::with_capacity(params.windows);
    for i in (0..params.windows).rev() {
        let back = Months::new(params.months * i as u32);
        let window_end =
            end.checked_sub_months(back).ok_or_else(|| invalid("the windows start before any date".into()))?;
        // The day after the previous window's end: windows do not overlap.
        let start = window_end
            .checked_sub_months(Months::new(params.months))
            .and_then(|d| d.succ_opt())
            .ok_or_else(|| invalid("the windows start before any date".into()))?;
        dates.push((start, window_end));
    }
    Ok(dates)
}

/// Segments every window of the spec's transaction log, applies the business rules in `rules` to
/// each window's customers, and follows the customers through the windows.
pub fn segments_over_time(
    spec: &PipelineSpec,
    resolver: &SourceResolver,
    params: &WindowParams,
    rules: WindowRules<'_>,
    ctx: &JobContext,
) -> Result<OverTime, PipelineError> {
    let rules = rules.rules.filter(|r| !r.is_empty()).map(|r| (r, rules.notes));
    let TableKind::TransactionLog(columns) = &spec.table else {
        return Err(invalid(
            "segments over time need a transaction log (dates to cut into windows); this project segments a customer table"
                .into(),
        ));
    };
    let end = match params.end.or(columns.as_of) {
        Some(end) => end,
        None => pipeline::build_customer_table(spec, resolver)?
            .as_of
            .ok_or_else(|| invalid("the log has no dates".into()))?,
    };
    let dates = window_dates(end, params)?;
    let mut warnings = Vec::new();
    // Each window: customer ids, segment per customer, the fit's segment count and names.
    struct Fitted {
        ids: Vec<String>,
        segments: Vec<Option<usize>>,
        n_segments: usize,
        names: Vec<String>,
        named_by_method: bool,
        silhouette: Option<f64>,
        /// For the business rules: the window's customers and, per customer, its fitted segments
        /// from nearest to farthest (`None` when the project has no rules).
        for_rules: Option<(polars::prelude::DataFrame, Vec<Option<Vec<usize>>>)>,
    }
    // Customer value, when the recipe or the rules read it, is refitted as of each window's end
    // (no holdout: nothing after the window is seen); otherwise the windows skip it.
    let value_used = {
        use crate::engine::pipeline::VALUE_COLUMNS;
        let in_recipe = spec.recipe.features.iter().any(|f| VALUE_COLUMNS.contains(&f.column.as_str()));
        let in_rules = rules
            .as_ref()
            .is_some_and(|(r, _)| r.rules.iter().any(|rule| VALUE_COLUMNS.iter().any(|c| rule.text.contains(c))));
        in_recipe || in_rules
    };
    let window_spec = |&(start, window_end): &(NaiveDate, NaiveDate)| {
        let mut window_spec = spec.clone();
        if let TableKind::TransactionLog(c) = &mut window_spec.table {
            c.as_of = Some(window_end);
            c.since = (!params.cumulative).then_some(start);
            c.value = match c.value.take() {
                Some(mut value) if value_used => {
                    value.calibration_end = window_end;
                    value.holdout_end = None;
                    Some(value)
                }
                _ => None,
            };
        }
        window_spec.model.k_range = None;
        window_spec.model.stability = None;
        window_spec
    };
    let failed = |end: NaiveDate| {
        move |e: PipelineError| {
            let text = e.to_string();
            // A window before the log's first transaction: say how to keep the windows inside it.
            let hint = if text.contains("no transactions on or before") {
                "; fewer or shorter windows keep them inside the log"
            } else {
                ""
            };
            invalid(format!("the window ending {end} could not be segmented: {text}{hint}"))
        }
    };
    // The windows' own stages report nowhere; this loop reports windows done.
    let quiet = JobContext { cancel: ctx.cancel.clone(), progress: &crate::engine::jobs::NoProgress };
    let fit_window = |w: usize| -> Result<(Fitted, pipeline::PipelineResult), PipelineError> {
        let result = pipeline::run(&window_spec(&dates[w]), resolver, &quiet).map_err(failed(dates[w].1))?;
        let n_segments = result.n_segments();
        let fitted = Fitted {
            ids: text_column(&result.customers, &columns.customer_id)?,
            segments: result.segment_per_customer.clone(),
            n_segments,
            names: (0..n_segments).map(|s| result.default_segment_name(s)).collect(),
            named_by_method: !result.fit.names.is_empty(),
            silhouette: result.indices.silhouette.as_ref().map(|s| s.mean),
            for_rules: rules.is_some().then(|| {
                let m = &result.matrix;
                let nearest = nearest_orders(m.values.view(), &m.kept_rows, result.customers.height(), &result);
                (result.customers.clone(), nearest)
            }),
        };
        Ok((fitted, result))
    };
    let last_window = dates.len() - 1;
    let mut fitted: Vec<Fitted> = Vec::with_capacity(dates.len());
    // How many segments the last window's model fitted (the ones the rules move customers between).
    let mut last_k = 0;
    match params.model {
        WindowModel::Refit => {
            for w in 0..dates.len() {
                check(ctx, w, dates.len())?;
                let (window, result) = fit_window(w)?;
                last_k = result.fit.k();
                fitted.push(window);
            }
        }
        WindowModel::Fixed => {
            let (mut last, model) = fit_window(last_window)?;
            last_k = model.fit.k();
            // The model puts customers with missing features in the fallback segment (number k)
            // even when the last window had none.
            if last.names.len() == model.fit.k() {
                last.names.push("Fallback".to_string());
                last.n_segments += 1;
            }
            for w in 0..last_window {
                check(ctx, w, dates.len())?;
                let table =
                    pipeline::build_customer_table(&window_spec(&dates[w]), resolver).map_err(failed(dates[w].1))?;
                let prediction = pipeline::predict_customers(&model, &table.frame).map_err(failed(dates[w].1))?;
                let for_rules = match rules {
                    Some(_) => {
                        let m =
                            model.fitted_recipe.transform(&table.frame).map_err(|e| failed(dates[w].1)(e.into()))?;
                        let nearest = nearest_orders(m.values.view(), &m.kept_rows, table.frame.height(), &model);
                        Some((table.frame.clone(), nearest))
                    }
                    None => None,
                };
                fitted.push(Fitted {
                    ids: text_column(&table.frame, &columns.customer_id)?,
                    segments: prediction.segments,
                    n_segments: last.n_segments,
                    names: last.names.clone(),
                    named_by_method: true,
                    silhouette: None,
                    for_rules,
                });
            }
            fitted.push(last);
        }
    }
    ctx.progress.report("windows", 1.0);

    // Align, from the last window back: window w's segments take the numbers of the segments of
    // window w + 1 (already aligned) they share most customers with.
    let last = fitted.len() - 1;
    let mut names = fitted[last].names.clone();
    let n_last = names.len();
    let mut unmatched = 0;
    let mut aligned: Vec<Vec<Option<usize>>> = vec![Vec::new(); fitted.len()];
    aligned[last] = fitted[last].segments.clone();
    // Each window's segment numbers in the aligned numbering.
    let mut mappings: Vec<Vec<Option<usize>>> = vec![Vec::new(); fitted.len()];
    mappings[last] = (0..fitted[last].n_segments).map(Some).collect();
    for w in (0..last).rev() {
        let (this, next) = (&fitted[w], &fitted[w + 1]);
        let mapping: Vec<Option<usize>> = if this.named_by_method {
            (0..this.n_segments).map(|s| names.iter().position(|n| *n == this.names[s])).collect()
        } else {
            let position: HashMap<&str, usize> = next.ids.iter().enumerate().map(|(i, id)| (id.as_str(), i)).collect();
            let (old, new): (Vec<Option<usize>>, Vec<Option<usize>>) = this
                .ids
                .iter()
                .zip(&this.segments)
                .filter_map(|(id, &s)| position.get(id.as_str()).map(|&j| (s, aligned[w + 1][j])))
                .unzip();
            match_segments(&old, &new, this.n_segments, names.len(), MIN_JACCARD)
        };
        let mut mapping = mapping;
        for (s, m) in mapping.iter_mut().enumerate() {
            if m.is_none() {
                // A named segment (the fallback, an RFM rule's) keeps its name; a fitted one that
                // matches nothing says until when it was seen.
                if this.named_by_method {
                    names.push(this.names[s].clone());
                } else {
                    names.push(format!("{} (until {})", this.names[s], dates[w].1));
                    unmatched += 1;
                }
                *m = Some(names.len() - 1);
            }
        }
        aligned[w] = this.segments.iter().map(|s| s.and_then(|s| mapping[s])).collect();
        mappings[w] = mapping;
    }
    if unmatched > 0 {
        warnings.push(format!(
            "{unmatched} segment(s) of earlier windows match none of the next window's (less than {:.0}% of customers in common); \
             they keep numbers of their own",
            100.0 * MIN_JACCARD
        ));
    }
    if let Some((rules, notes)) = rules {
        // The rules see the aligned numbering: the last window's fitted segments first, named as
        // in the project (whose notes past them name its fallback and rule segments, numbered
        // differently here); a rule's own segment takes the same number in every window.
        let mut targets = names.clone();
        let named = last_k.min(targets.len());
        for note in notes.iter().filter(|n| n.segment < named) {
            targets[note.segment] = note.name.clone();
        }
        let low_priority: Vec<bool> =
            (0..targets.len()).map(|s| notes.iter().any(|n| n.segment == s && n.low_priority)).collect();
        let mut rule_names: Vec<String> = Vec::new();
        for (w, f) in fitted.iter().enumerate() {
            let Some((customers, nearest)) = &f.for_rules else { continue };
            let mapping = &mappings[w];
            let nearest_aligned = |row: usize| -> Option<Vec<usize>> {
                let order = nearest.get(row)?.as_ref()?;
                Some(order.iter().filter_map(|&s| mapping.get(s).copied().flatten()).filter(|&s| s < last_k).collect())
            };
            let ctx = RuleContext {
                customers,
                id_column: Some(&columns.customer_id),
                segments: &aligned[w],
                names: targets.clone(),
                low_priority: low_priority.clone(),
                n_fitted: last_k,
                nearest: &nearest_aligned,
                reference: None,
                reference_sorted: None,
            };
            let outcome = crate::engine::rules::apply(rules, &ctx);
            // A rule's segment, numbered after every aligned one, by its name across windows.
            let mut number_of = Vec::with_capacity(outcome.rule_segments.len());
            for name in &outcome.rule_segments {
                let at = match rule_names.iter().position(|n| n == name) {
                    Some(at) => at,
                    None => {
                        rule_names.push(name.clone());
                        rule_names.len() - 1
                    }
                };
                number_of.push(targets.len() + at);
            }
            aligned[w] = outcome
                .segments
                .iter()
                .map(|s| s.map(|s| if s < targets.len() { s } else { number_of[s - targets.len()] }))
                .collect();
            warnings.extend(outcome.warnings.iter().map(|x| format!("the window ending {}: {x}", dates[w].1)));
        }
        names.extend(rule_names);
    }
    // A segment nobody is in, in any window, at the end of the list (the fallback segment when no
    // window has missing data) is not shown.
    while let Some(top) = names.len().checked_sub(1) {
        if aligned.iter().flatten().any(|s| *s == Some(top)) {
            break;
        }
        names.pop();
    }
    let n_last = n_last.min(names.len());
    let n = names.len();
    let windows: Vec<Window> = dates
        .iter()
        .zip(&fitted)
        .zip(&aligned)
        .map(|((&(start, end), f), labels)| {
            let mut sizes = vec![0; n];
            for s in labels.iter().flatten() {
                sizes[*s] += 1;
            }
            Window { start, end, n_customers: f.ids.len(), sizes, silhouette: f.silhouette }
        })
        .collect();
    let mut transitions = Vec::with_capacity(last);
    for w in 0..last {
        let absent = n;
        let mut counts = vec![vec![0usize; n + 1]; n + 1];
        let later: HashMap<&str, Option<usize>> =
            fitted[w + 1].ids.iter().map(String::as_str).zip(aligned[w + 1].iter().copied()).collect();
        let mut seen = std::collections::HashSet::new();
        let (mut both, mut stayed) = (0usize, 0usize);
        for (id, &a) in fitted[w].ids.iter().zip(&aligned[w]) {
            seen.insert(id.as_str());
            let from = a.unwrap_or(absent);
            let to = later.get(id.as_str()).map_or(absent, |b| b.unwrap_or(absent));
            counts[from][to] += 1;
            if from != absent && to != absent {
                both += 1;
                stayed += usize::from(from == to);
            }
        }
        for (id, &b) in fitted[w + 1].ids.iter().zip(&aligned[w + 1]) {
            if !seen.contains(id.as_str()) {
                counts[absent][b.unwrap_or(absent)] += 1;
            }
        }
        transitions.push(Transition {
            from: w,
            to: w + 1,
            counts,
            stayed: if both > 0 { stayed as f64 / both as f64 } else { f64::NAN },
        });
    }
    Ok(OverTime {
        params: WindowParams { end: Some(end), ..params.clone() },
        names,
        n_last,
        windows,
        transitions,
        warnings,
    })
}

/// Per customer row of a window, the fitted segments of `result`'s model from nearest to farthest
/// (by squared distance, ties to the lower number), for the rows in its matrix.
fn nearest_orders(
    values: ndarray::ArrayView2<f64>,
    kept_rows: &[usize],
    n_rows: usize,
    result: &pipeline::PipelineResult,
) -> Vec<Option<Vec<usize>>> {
    let mut out = vec![None; n_rows];
    for (point, &row) in values.rows().into_iter().zip(kept_rows) {
        if let Some(slot) = out.get_mut(row) {
            *slot = Some(pipeline::nearest_segments(point, result.fit.centroids.view()));
        }
    }
    out
}

fn check(ctx: &JobContext, w: usize, n: usize) -> Result<(), PipelineError> {
    if ctx.cancel.is_cancelled() {
        return Err(ClusterError::Cancelled.into());
    }
    ctx.progress.report("windows", w as f64 / n as f64);
    Ok(())
}

fn text_column(frame: &polars::prelude::DataFrame, name: &str) -> Result<Vec<String>, PipelineError> {
    Ok(crate::engine::data::column_texts(frame, name)?.into_iter().map(Option::unwrap_or_default).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::pipeline::{DataSource, ModelSpec, SourceSpec};

    #[test]
    fn windows_step_back_by_whole_months() {
        let end = NaiveDate::from_ymd_opt(1998, 7, 1).unwrap();
        let dates = window_dates(end, &WindowParams { months: 3, windows: 3, ..Default::default() }).unwrap();
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(
            dates,
            vec![(d(1997, 10, 2), d(1998, 1, 1)), (d(1998, 1, 2), d(1998, 4, 1)), (d(1998, 4, 2), d(1998, 7, 1))]
        );
        assert!(window_dates(end, &WindowParams { windows: 1, ..Default::default() }).is_err());
        assert!(window_dates(end, &WindowParams { months: 0, ..Default::default() }).is_err());
    }

    /// A log where customers `a*` buy often and much every month, `b*` rarely and little, and in
    /// the second half `a0..a9` turn into rare small buyers.
    fn planted_log(dir: &std::path::Path) -> std::path::PathBuf {
        let mut text = String::from("customer,date,amount\n");
        for month in 1..=12u32 {
            for i in 0..40 {
                let id = format!("a{i}");
                let lapsed = i < 10 && month > 6;
                let (purchases, amount) = if lapsed { (u32::from(month % 3 == 0), 5.0) } else { (4, 100.0) };
                for p in 0..purchases {
                    text.push_str(&format!("{id},2020-{month:02}-{:02},{}\n", 1 + p * 5, amount + i as f64 * 0.1));
                }
            }
            for i in 0..40 {
                if month % 3 == 0 {
                    text.push_str(&format!("b{i},2020-{month:02}-10,{}\n", 5.0 + i as f64 * 0.05));
                }
            }
        }
        let path = dir.join("log.csv");
        std::fs::write(&path, text).unwrap();
        path
    }

    fn spec(path: &std::path::Path) -> PipelineSpec {
        use crate::engine::features::{FeatureRecipe, FeatureSpec, NegativeAmounts, TransactionColumns};
        PipelineSpec {
            source: SourceSpec {
                source: DataSource::File(path.display().to_string()),
                read_options: Default::default(),
                fingerprint: None,
            },
            table: TableKind::TransactionLog(TransactionColumns {
                customer_id: "customer".into(),
                date: "date".into(),
                amount: Some("amount".into()),
                as_of: None,
                negative_amounts: NegativeAmounts::Allow,
                since: None,
                behaviour: Default::default(),
                value: None,
            }),
            attributes: None,
            attributes_key: None,
            duplicate_ids: Default::default(),
            role_overrides: Vec::new(),
            recipe: FeatureRecipe {
                features: ["frequency", "monetary_total"]
                    .iter()
                    .map(|c| FeatureSpec { log1p: true, ..FeatureSpec::numeric(c) })
                    .collect(),
            },
            model: ModelSpec {
                algorithm: crate::engine::cluster::Algorithm::by_name("kmeans").unwrap().with_k(2),
                k_range: None,
                min_segment_share: None,
                stability: None,
                explain_depth: None,
            },
            derived: Default::default(),
        }
    }

    #[test]
    fn customers_who_change_their_ways_move_and_the_rest_stay() {
        let dir = tempfile::tempdir().unwrap();
        let path = planted_log(dir.path());
        let resolver = SourceResolver::user_chosen(dir.path());
        let params = WindowParams {
            months: 3,
            windows: 4,
            cumulative: false,
            end: Some(NaiveDate::from_ymd_opt(2021, 1, 1).unwrap()),
            model: WindowModel::Refit,
        };
        let out = segments_over_time(&spec(&path), &resolver, &params, WindowRules::default(), &JobContext::inline())
            .unwrap();
        // One model for every window (fitted on the last) tells the same story.
        let fixed = WindowParams { model: WindowModel::Fixed, ..params.clone() };
        let same =
            segments_over_time(&spec(&path), &resolver, &fixed, WindowRules::default(), &JobContext::inline()).unwrap();
        assert_eq!(same.names, out.names);
        assert_eq!(
            same.transitions.iter().map(|t| t.counts.clone()).collect::<Vec<_>>(),
            out.transitions.iter().map(|t| t.counts.clone()).collect::<Vec<_>>()
        );
        assert_eq!(out.windows.len(), 4);
        assert_eq!(out.names.len(), 2, "two segments throughout: {:?} {:?}", out.names, out.warnings);
        assert!(out.windows.iter().all(|w| w.n_customers == 80));
        // The last window's numbering: the big buyers' segment is the one with 30 customers.
        let big = out.windows[3].sizes.iter().position(|&s| s == 30).unwrap();
        let small = 1 - big;
        assert_eq!(out.windows[0].sizes[big], 40, "{:?}", out.windows);
        assert_eq!(out.windows[1].sizes[big], 40);
        // July: a0..a9 move from big to small; nobody else moves.
        let t = &out.transitions[1];
        assert_eq!((t.from, t.to), (1, 2));
        assert_eq!(t.counts[big][small], 10);
        assert_eq!(t.counts[big][big], 30);
        assert_eq!(t.counts[small][small], 40);
        assert_eq!(t.counts[small][big], 0);
        assert!((t.stayed - 70.0 / 80.0).abs() < 1e-12);
        let first = &out.transitions[0];
        assert_eq!(first.stayed, 1.0);
        assert_eq!(first.counts[2].iter().sum::<usize>(), 0, "nobody appears from nowhere");

        // All history up to each end: every customer is present from the first window on.
        let cumulative = WindowParams { cumulative: true, ..params.clone() };
        let out =
            segments_over_time(&spec(&path), &resolver, &cumulative, WindowRules::default(), &JobContext::inline())
                .unwrap();
        assert!(out.windows.iter().all(|w| w.n_customers == 80));
        assert!(out.transitions.iter().all(|t| t.counts[2].iter().sum::<usize>() == 0));

        // One model for all windows puts a customer with a missing attribute in the fallback
        // segment, even when the last window has nobody there: c0 bought only in January.
        let mut log = std::fs::read_to_string(&path).unwrap();
        log.push_str("c0,2020-01-15,50\n");
        let with_c0 = dir.path().join("log_c0.csv");
        std::fs::write(&with_c0, log).unwrap();
        let mut attributes = String::from("customer,tier\n");
        for i in 0..40 {
            attributes.push_str(&format!("a{i},{}\nb{i},{}\n", 1 + i % 3, 1 + i % 2));
        }
        attributes.push_str("c0,\n");
        std::fs::write(dir.path().join("tiers.csv"), attributes).unwrap();
        let mut tiered = spec(&with_c0);
        tiered.attributes = Some(SourceSpec {
            source: DataSource::File(dir.path().join("tiers.csv").display().to_string()),
            read_options: Default::default(),
            fingerprint: None,
        });
        tiered.recipe.features.push(crate::engine::features::FeatureSpec {
            missing: crate::engine::features::MissingRule::FallbackSegment,
            ..crate::engine::features::FeatureSpec::numeric("tier")
        });
        let out =
            segments_over_time(&tiered, &resolver, &fixed, WindowRules::default(), &JobContext::inline()).unwrap();
        assert_eq!(out.names.last().map(String::as_str), Some("Fallback"), "{:?}", out.names);
        let fallback = out.names.len() - 1;
        assert_eq!(out.windows[0].sizes[fallback], 1);
        assert_eq!(out.windows[3].sizes[fallback], 0);
        assert_eq!(out.transitions[0].counts[fallback][out.names.len()], 1, "c0 is gone by the next window");
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);

        // Business rules and overrides apply in every window: a rule's own segment holds the
        // same customers under the same number throughout, and an override follows its customer.
        let rules = BusinessRules {
            rules: vec![crate::engine::rules::BusinessRule {
                text: "when frequency >= 4 and monetary_total > p90 then segment \"Top spenders\"".into(),
                why: String::new(),
            }],
            overrides: vec![crate::engine::rules::Override {
                customer: "b0".into(),
                segment: "Hand picked".into(),
                why: "a test".into(),
            }],
        };
        for model in [WindowModel::Fixed, WindowModel::Refit] {
            let p = WindowParams { model, ..params.clone() };
            let with = WindowRules { rules: Some(&rules), notes: &[] };
            let out = segments_over_time(&spec(&path), &resolver, &p, with, &JobContext::inline()).unwrap();
            let top = out.names.iter().position(|n| n == "Top spenders").expect("the rule's segment");
            let picked = out.names.iter().position(|n| n == "Hand picked").expect("the override's segment");
            for w in &out.windows {
                // Each window's top 10% of spend (8 of its 80 customers, all frequent), and b0 alone.
                assert_eq!(w.sizes[top], 8, "{model:?} {:?} {:?}", out.names, w.sizes);
                assert_eq!(w.sizes[picked], 1, "{model:?} {:?}", w.sizes);
                assert_eq!(w.sizes.iter().sum::<usize>(), 80);
            }
            // The rule-made segments are counted in the moves too.
            assert_eq!(out.transitions[0].counts[picked][picked], 1, "{model:?}");
            assert_eq!(out.transitions.len(), 3);
        }

        // A customer table has no dates to cut.
        let mut table = spec(&path);
        table.table = TableKind::CustomerTable { id_column: None, no_id: false };
        let error =
            segments_over_time(&table, &resolver, &params, WindowRules::default(), &JobContext::inline()).unwrap_err();
        assert!(error.to_string().contains("need a transaction log"), "{error}");

        // Windows reaching back before the log's first transaction say how to fit them in it.
        let too_many = WindowParams { windows: 12, months: 2, ..params.clone() };
        let error =
            segments_over_time(&spec(&path), &resolver, &too_many, WindowRules::default(), &JobContext::inline())
                .unwrap_err();
        assert!(error.to_string().contains("fewer or shorter windows"), "{error}");
    }
}
