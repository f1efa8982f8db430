//! The bias audit: how a segmentation falls across protected groups.
//!
//! Fairlearn and Aequitas judge one yes/no decision; a segmentation puts every customer in one of
//! several segments, so each segment is judged against the rest ("in this segment or not"):
//!
//! - each group's **rate** in a segment is the share of the group's customers who are in it, and
//!   its **disparate-impact ratio** is that rate over the highest group's rate. A ratio under 0.8
//!   fails the four-fifths rule (29 CFR 1607.4(D)), the usual screen for adverse impact;
//! - a **chi-square test** of independence (groups x in or not) says whether the rates differ more
//!   than chance would make them, with **Cramér's V** for how much; where the table is 2 x 2 and an
//!   expected count is under 5, **Fisher's exact test** (two-sided) replaces its p-value;
//! - a group is **flagged** in a segment when its ratio is under 0.8 *and* the test is significant
//!   (p < 0.05); both signals are kept beside the flag, so a reviewer sees each;
//! - the **proxy check** measures how strongly each feature of the recipe goes with each sensitive
//!   column (the correlation ratio eta for numeric features, Cramér's V for categorical ones): a
//!   feature can carry a protected attribute into the segments without naming it;
//! - **intersections** of two sensitive columns ("35-49 x North") are audited as groups of their
//!   own when none of them is a small cell.
//!
//! Small cells: every count goes through [`suppress`], and every rate, ratio and test is computed
//! only from counts that are shown, so that a hidden count cannot be recovered from a percentage or
//! a test statistic. A group whose count is hidden gets no rate, no ratio and is left out of the
//! tests (and said so).

use std::collections::HashMap;

use polars::prelude::*;

use crate::engine::data;
use crate::engine::data::roles::{ColumnRole, RoleGuess};
use crate::engine::error::quoted;
use crate::engine::features::{FeatureKind, FeatureSpec};
use crate::engine::governance::suppress::{self, Cell};

mod contingency;
#[cfg(test)]
mod tests;
mod text;

pub use contingency::{ChiSquare, Degenerate, chi_square_independence, correlation_ratio, fisher_exact};
pub use text::{EXPLANATION, cell_text, p_text, percent_text, yes_no};

/// A group whose rate is under this share of the highest group's rate fails the four-fifths rule.
pub const FOUR_FIFTHS: f64 = 0.8;

/// A test whose p-value is under this is significant.
pub const SIGNIFICANCE: f64 = 0.05;

/// Fisher's exact test replaces the chi-square p-value of a 2 x 2 table when an expected count is
/// under this (the usual rule of thumb for the chi-square approximation).
pub const FISHER_EXPECTED_BELOW: f64 = 5.0;

/// The most groups a column is audited by: more values than this are pooled (text) or refused
/// (numbers, which need bands). An audit of 10,000 groups of one customer says nothing.
pub const MAX_GROUPS: usize = 30;

/// The group of customers whose value is missing.
pub const MISSING_GROUP: &str = "(missing)";

/// The group that pools a text column's least common values beyond [`MAX_GROUPS`].
pub const OTHER_GROUP: &str = "(other values)";

/// Why an audit could not be made at all.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BiasError {
    /// No sensitive column was named.
    #[error("no sensitive column to audit: name one, or mark a column's role as sensitive")]
    NoSensitiveColumns,
    /// A named column is not in the customer table.
    #[error("column {} is not in the customer table; columns are: {available}", quoted(column))]
    UnknownColumn {
        /// The column asked for.
        column: String,
        /// The columns there are.
        available: String,
    },
    /// The segments given are not one per customer row (a bug of the caller).
    #[error("the segments ({n_segments} rows) do not match the customer table ({n_rows} rows); run the project again")]
    SegmentsDoNotMatch {
        /// Rows of segments.
        n_segments: usize,
        /// Rows of the customer table.
        n_rows: usize,
    },
}

/// What the audit reads.
pub struct BiasInput<'a> {
    /// The customer table (a run's `customers`).
    pub customers: &'a DataFrame,
    /// The final segment per customer row (business rules applied); `None`: no segment.
    pub segments: &'a [Option<usize>],
    /// The segments' names, by number.
    pub segment_names: &'a [String],
    /// The columns to audit by.
    pub sensitive: &'a [String],
    /// The recipe's features, for the proxy check.
    pub features: &'a [FeatureSpec],
    /// Counts from 1 to `small_cells - 1` are hidden.
    pub small_cells: usize,
}

/// How a column's values became groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupingKind {
    /// Text (or anything read as text): one group per value.
    Text,
    /// Numbers with few distinct values: one group per value.
    NumericCodes,
    /// Two sensitive columns together: one group per pair of values.
    Intersection,
}

impl GroupingKind {
    /// The kind as the JSON names it.
    pub fn key(self) -> &'static str {
        match self {
            GroupingKind::Text => "text",
            GroupingKind::NumericCodes => "numeric_codes",
            GroupingKind::Intersection => "intersection",
        }
    }
}

/// The test of one segment against the rest.
#[derive(Clone, Debug, PartialEq)]
pub struct SegmentTest {
    /// The chi-square test on groups x {in the segment, not}.
    pub chi_square: ChiSquare,
    /// Fisher's exact two-sided p-value, where the table is 2 x 2 with an expected count under 5.
    pub fisher_p: Option<f64>,
}

impl SegmentTest {
    /// The p-value the flag reads: Fisher's where it was made, else the chi-square's.
    pub fn p_value(&self) -> f64 {
        self.fisher_p.unwrap_or(self.chi_square.p_value)
    }

    /// Which test gave [`Self::p_value`], as the JSON names it.
    pub fn method(&self) -> &'static str {
        if self.fisher_p.is_some() { "fisher_exact" } else { "chi_square" }
    }

    /// Whether the p-value is under [`SIGNIFICANCE`].
    pub fn significant(&self) -> bool {
        self.p_value() < SIGNIFICANCE
    }
}

/// The two signals for one group in one segment, and the flag where both hold.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    /// The ratio is under 0.8 (`None`: no ratio).
    pub ratio_under: Option<bool>,
    /// The segment's test is significant (`None`: no test).
    pub significant: Option<bool>,
    /// Both: the ratio is under 0.8 and the test is significant.
    pub flagged: bool,
}

/// The flag logic: a group is flagged where its ratio is under [`FOUR_FIFTHS`] and the segment's
/// test is significant; each signal alone is kept, unknown where it could not be computed.
pub fn verdict(ratio: Option<f64>, p_value: Option<f64>) -> Verdict {
    let ratio_under = ratio.map(|r| r < FOUR_FIFTHS);
    let significant = p_value.map(|p| p < SIGNIFICANCE);
    Verdict { ratio_under, significant, flagged: ratio_under == Some(true) && significant == Some(true) }
}

/// One segment against the rest, per group.
#[derive(Clone, Debug, PartialEq)]
pub struct SegmentAudit {
    /// The segment's number (from 0).
    pub segment: usize,
    /// Per group: its customers in the segment over its customers (`None` where a count is hidden).
    pub rates: Vec<Option<f64>>,
    /// Per group: its customers in the segment over the segment's customers.
    pub shares: Vec<Option<f64>>,
    /// The group with the highest shown rate, which the ratios are taken against.
    pub reference: Option<usize>,
    /// Per group: its rate over the reference group's rate.
    pub ratios: Vec<Option<f64>>,
    /// Per group: the two signals and the flag.
    pub verdicts: Vec<Verdict>,
    /// The test, or why none could be made.
    pub test: Result<SegmentTest, String>,
    /// Groups left out of the test because a count of theirs is hidden.
    pub left_out: Vec<usize>,
}

impl SegmentAudit {
    /// The groups flagged in this segment.
    pub fn flagged(&self) -> impl Iterator<Item = usize> + '_ {
        self.verdicts.iter().enumerate().filter(|(_, v)| v.flagged).map(|(g, _)| g)
    }
}

/// How a proxy's association is measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyMeasure {
    /// The correlation ratio eta of a numeric feature over the groups.
    CorrelationRatio,
    /// Cramér's V between a categorical feature and the groups.
    CramersV,
}

impl ProxyMeasure {
    /// The measure as the JSON names it.
    pub fn key(self) -> &'static str {
        match self {
            ProxyMeasure::CorrelationRatio => "correlation_ratio",
            ProxyMeasure::CramersV => "cramers_v",
        }
    }
}

/// How strongly one feature goes with a sensitive column.
#[derive(Clone, Debug, PartialEq)]
pub struct Proxy {
    /// The feature's column.
    pub feature: String,
    /// Eta or Cramér's V.
    pub measure: ProxyMeasure,
    /// From 0 (no association) to 1, or why it could not be measured.
    pub value: Result<f64, String>,
}

/// Proxy associations at or above this are worth a reviewer's look (a "moderate" effect for eta
/// and Cramér's V by Cohen's conventions, 0.3).
pub const PROXY_NOTABLE: f64 = 0.3;

/// The audit by one sensitive column (or one intersection of two).
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnAudit {
    /// The column, or "A x B" for an intersection.
    pub column: String,
    /// How its values became groups.
    pub kind: GroupingKind,
    /// The groups' names, in order.
    pub groups: Vec<String>,
    /// The groups' customers, suppressed.
    pub group_sizes: Vec<Cell>,
    /// Customers per group (rows) and segment (columns), suppressed.
    pub counts: Vec<Vec<Cell>>,
    /// Each segment against the rest.
    pub segments: Vec<SegmentAudit>,
    /// The chi-square test of groups x segments, or why none could be made.
    pub overall: Result<ChiSquare, String>,
    /// What the overall test left out because a count of theirs is hidden (group and segment names).
    pub overall_left_out: Vec<String>,
    /// The proxy check (single columns only).
    pub proxies: Vec<Proxy>,
    /// What was done to the column's values, in words (pooled values, all missing, ...).
    pub notes: Vec<String>,
}

impl ColumnAudit {
    /// How many (segment, group) pairs are flagged.
    pub fn n_flagged(&self) -> usize {
        self.segments.iter().map(|s| s.flagged().count()).sum()
    }
}

/// A sensitive column or intersection that could not be audited, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// The column, or "A x B".
    pub column: String,
    /// Why, in words.
    pub why: String,
}

/// The whole audit.
#[derive(Clone, Debug, PartialEq)]
pub struct BiasAudit {
    /// The small-cell threshold used.
    pub threshold: usize,
    /// Customers audited: those with a segment.
    pub n_customers: usize,
    /// Customers without a segment, left out.
    pub n_without_segment: usize,
    /// The segments' names, by number.
    pub segment_names: Vec<String>,
    /// The segments' customers, suppressed.
    pub segment_sizes: Vec<Cell>,
    /// One audit per sensitive column, then per intersection of two.
    pub columns: Vec<ColumnAudit>,
    /// Columns and intersections not audited, with why.
    pub skipped: Vec<Skipped>,
}

impl BiasAudit {
    /// How many (column, segment, group) triples are flagged.
    pub fn n_flagged(&self) -> usize {
        self.columns.iter().map(ColumnAudit::n_flagged).sum()
    }
}

/// The columns a project audits by unless told otherwise: those its governance settings list, then
/// those whose role is sensitive, each once.
pub fn default_sensitive(listed: &[String], roles: &[RoleGuess]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let sensitive_roles = roles.iter().filter(|g| g.role == ColumnRole::Sensitive).map(|g| &g.column);
    for column in listed.iter().chain(sensitive_roles) {
        if !out.contains(column) {
            out.push(column.clone());
        }
    }
    out
}

/// The columns of a customer table that can group customers: text, booleans, whole numbers with at
/// most [`MAX_GROUPS`] values, and every column whose role is sensitive; never the customer id.
pub fn candidate_columns(customers: &DataFrame, roles: &[RoleGuess]) -> Vec<String> {
    let role_of = |name: &str| roles.iter().find(|g| g.column == name).map(|g| g.role);
    customers
        .columns()
        .iter()
        .filter(|c| {
            let role = role_of(c.name().as_str());
            let dtype = c.dtype();
            role == Some(ColumnRole::Sensitive)
                || role != Some(ColumnRole::CustomerId)
                    && (dtype.is_string()
                        || dtype.is_bool()
                        || dtype.is_integer() && c.n_unique().is_ok_and(|n| n <= MAX_GROUPS + 1))
        })
        .map(|c| c.name().to_string())
        .collect()
}

/// The audit of a run's final segments (business rules applied), named as `notes` name them, with
/// the recipe's `features` for the proxy check.
pub fn audit_result(
    result: &crate::engine::pipeline::PipelineResult,
    notes: &[crate::engine::naming::SegmentNote],
    features: &[FeatureSpec],
    small_cells: usize,
    sensitive: &[String],
) -> Result<BiasAudit, BiasError> {
    let names = crate::engine::naming::segment_names(notes, result);
    audit(&BiasInput {
        customers: &result.customers,
        segments: &result.segment_per_customer,
        segment_names: &names,
        sensitive,
        features,
        small_cells,
    })
}

/// Runs the audit.
pub fn audit(input: &BiasInput<'_>) -> Result<BiasAudit, BiasError> {
    let frame = input.customers;
    if input.sensitive.is_empty() {
        return Err(BiasError::NoSensitiveColumns);
    }
    if input.segments.len() != frame.height() {
        return Err(BiasError::SegmentsDoNotMatch { n_segments: input.segments.len(), n_rows: frame.height() });
    }
    let mut sensitive: Vec<String> = Vec::new();
    for column in input.sensitive {
        if frame.column(column).is_err() {
            return Err(BiasError::UnknownColumn { column: column.clone(), available: data::column_list(frame) });
        }
        if !sensitive.contains(column) {
            sensitive.push(column.clone());
        }
    }
    let threshold = input.small_cells.max(1);
    // Only customers with a segment are audited.
    let rows: Vec<usize> = (0..frame.height()).filter(|&r| input.segments[r].is_some()).collect();
    let segment_of: Vec<usize> = rows.iter().filter_map(|&r| input.segments[r]).collect();
    let n_segments = segment_of.iter().map(|s| s + 1).max().unwrap_or(0).max(input.segment_names.len());
    let segment_names: Vec<String> = (0..n_segments)
        .map(|s| input.segment_names.get(s).cloned().unwrap_or_else(|| format!("Segment {}", s + 1)))
        .collect();
    let mut sizes = vec![0usize; n_segments];
    for &s in &segment_of {
        sizes[s] += 1;
    }
    let segment_sizes = suppress::line(&sizes, threshold);
    let ctx =
        Context { threshold, segment_of: &segment_of, segment_names: &segment_names, segment_sizes: &segment_sizes };

    let mut columns = Vec::new();
    let mut skipped = Vec::new();
    let mut groupings: Vec<(String, Grouping)> = Vec::new();
    for column in &sensitive {
        match grouping(frame, column, &rows) {
            Ok(g) => {
                let mut audited = audit_grouping(&ctx, column, &g);
                audited.proxies = proxies(frame, column, &rows, &g, &audited.group_sizes, input.features);
                columns.push(audited);
                groupings.push((column.clone(), g));
            }
            Err(why) => skipped.push(Skipped { column: column.clone(), why }),
        }
    }
    for (i, (a, ga)) in groupings.iter().enumerate() {
        for (b, gb) in &groupings[i + 1..] {
            let name = format!("{a} x {b}");
            match intersection(ga, gb, threshold) {
                Ok(g) => columns.push(audit_grouping(&ctx, &name, &g)),
                Err(why) => skipped.push(Skipped { column: name, why }),
            }
        }
    }
    Ok(BiasAudit {
        threshold,
        n_customers: rows.len(),
        n_without_segment: frame.height() - rows.len(),
        segment_names,
        segment_sizes,
        columns,
        skipped,
    })
}

/// What every column's audit shares.
struct Context<'a> {
    threshold: usize,
    /// The segment of each audited customer.
    segment_of: &'a [usize],
    segment_names: &'a [String],
    segment_sizes: &'a [Cell],
}

/// Customers grouped by one column's values.
#[derive(Clone, Debug)]
struct Grouping {
    labels: Vec<String>,
    /// The group of each audited customer.
    of_row: Vec<usize>,
    kind: GroupingKind,
    notes: Vec<String>,
}

/// A number as a group's name: whole numbers without a decimal point.
fn number_label(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 { format!("{x:.0}") } else { format!("{x}") }
}

/// Groups the audited `rows` by `column`'s values: numbers with few distinct values and text,
/// missing values as [`MISSING_GROUP`]; text beyond [`MAX_GROUPS`] values pooled, numbers refused.
fn grouping(frame: &DataFrame, column: &str, rows: &[usize]) -> Result<Grouping, String> {
    let series = frame.column(column).map_err(|e| e.to_string())?;
    let mut notes = Vec::new();
    let (mut labels, mut of_row, kind): (Vec<String>, Vec<Option<usize>>, GroupingKind) =
        if series.dtype().is_primitive_numeric() {
            let values = data::quality::numeric_values(series).map_err(|e| e.to_string())?;
            let value_of = |r: usize| values.get(r).copied().flatten().filter(|v| v.is_finite()).map(|v| v + 0.0);
            let mut distinct: Vec<f64> = rows.iter().filter_map(|&r| value_of(r)).collect();
            distinct.sort_by(f64::total_cmp);
            distinct.dedup();
            if distinct.len() > MAX_GROUPS {
                return Err(format!(
                    "{} is numeric with {} distinct values, too many to audit as groups (at most {MAX_GROUPS}); \
                     band it into groups first (a derived column)",
                    quoted(column),
                    distinct.len()
                ));
            }
            let of_row = rows
                .iter()
                .map(|&r| value_of(r).and_then(|v| distinct.binary_search_by(|d| d.total_cmp(&v)).ok()))
                .collect();
            (distinct.into_iter().map(number_label).collect(), of_row, GroupingKind::NumericCodes)
        } else {
            let texts = data::column_texts(frame, column).map_err(|e| e.to_string())?;
            let text_of = |r: usize| texts.get(r).and_then(|t| t.as_deref()).map(str::trim).filter(|t| !t.is_empty());
            let mut counts: HashMap<&str, usize> = HashMap::new();
            for &r in rows {
                if let Some(t) = text_of(r) {
                    *counts.entry(t).or_default() += 1;
                }
            }
            let mut by_count: Vec<(&str, usize)> = counts.into_iter().collect();
            by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            let pooled = by_count.len() > MAX_GROUPS;
            if pooled {
                let kept = MAX_GROUPS - 1;
                notes.push(format!(
                    "{} has {} distinct values, more than the {MAX_GROUPS} groups an audit reads: the {kept} most \
                     common are groups of their own and the other {} values are pooled as {OTHER_GROUP}",
                    quoted(column),
                    by_count.len(),
                    by_count.len() - kept
                ));
                by_count.truncate(kept);
            }
            let mut kept: Vec<&str> = by_count.into_iter().map(|(t, _)| t).collect();
            kept.sort_unstable();
            let index: HashMap<&str, usize> = kept.iter().enumerate().map(|(i, t)| (*t, i)).collect();
            let other = kept.len();
            let of_row = rows
                .iter()
                .map(|&r| text_of(r).map(|t| index.get(t).copied().unwrap_or(other)))
                .collect::<Vec<Option<usize>>>();
            let mut labels: Vec<String> = kept.into_iter().map(str::to_string).collect();
            if pooled {
                labels.push(OTHER_GROUP.to_string());
            }
            (labels, of_row, GroupingKind::Text)
        };
    if of_row.iter().any(Option::is_none) {
        let missing = labels.len();
        labels.push(MISSING_GROUP.to_string());
        of_row.iter_mut().filter(|g| g.is_none()).for_each(|g| *g = Some(missing));
    }
    if labels.len() == 1 && labels[0] == MISSING_GROUP {
        notes.push(format!("every value of {} is missing: there are no groups to compare", quoted(column)));
    } else if labels.len() == 1 {
        notes.push(format!("{} has one value only: there are no groups to compare", quoted(column)));
    }
    let of_row = of_row.into_iter().map(|g| g.unwrap_or(0)).collect();
    Ok(Grouping { labels, of_row, kind, notes })
}

/// Two groupings together: one group per pair of values that occurs, when none is a small cell.
fn intersection(a: &Grouping, b: &Grouping, threshold: usize) -> Result<Grouping, String> {
    let mut pairs: Vec<(usize, usize)> = a.of_row.iter().copied().zip(b.of_row.iter().copied()).collect();
    let mut counts: HashMap<(usize, usize), usize> = HashMap::new();
    for &p in &pairs {
        *counts.entry(p).or_default() += 1;
    }
    if counts.len() > MAX_GROUPS {
        return Err(format!(
            "{} pairs of values, more than the {MAX_GROUPS} groups an audit reads; audit the columns one by one",
            counts.len()
        ));
    }
    let small = counts.values().filter(|&&n| suppress::is_small(n, threshold)).count();
    if small > 0 {
        return Err(format!(
            "{small} of its {} groups have fewer than {threshold} customers, so their counts would be hidden",
            counts.len()
        ));
    }
    let mut keys: Vec<(usize, usize)> = counts.into_keys().collect();
    keys.sort_unstable();
    let index: HashMap<(usize, usize), usize> = keys.iter().enumerate().map(|(i, k)| (*k, i)).collect();
    let labels = keys.iter().map(|&(x, y)| format!("{} x {}", a.labels[x], b.labels[y])).collect();
    let of_row = pairs.drain(..).map(|p| index.get(&p).copied().unwrap_or(0)).collect();
    Ok(Grouping { labels, of_row, kind: GroupingKind::Intersection, notes: Vec::new() })
}

/// Hides every non-zero shown count of a line whose total is hidden: shown counts would add up to it.
fn hide_line(cells: &mut [&mut Cell]) {
    for cell in cells.iter_mut() {
        if matches!(**cell, Cell::Count(n) if n > 0) {
            **cell = Cell::Complement;
        }
    }
}

/// The audit of one grouping: counts, rates, ratios, tests.
fn audit_grouping(ctx: &Context<'_>, column: &str, grouping: &Grouping) -> ColumnAudit {
    let n_groups = grouping.labels.len();
    let n_segments = ctx.segment_names.len();
    let mut raw = vec![vec![0usize; n_segments]; n_groups];
    for (&g, &s) in grouping.of_row.iter().zip(ctx.segment_of) {
        raw[g][s] += 1;
    }
    let totals: Vec<usize> = raw.iter().map(|r| r.iter().sum()).collect();
    let group_sizes = suppress::line(&totals, ctx.threshold);
    let mut counts = suppress::table(&raw, ctx.threshold);
    for (g, size) in group_sizes.iter().enumerate() {
        if size.count().is_none() {
            hide_line(&mut counts[g].iter_mut().collect::<Vec<_>>());
        }
    }
    for (s, size) in ctx.segment_sizes.iter().enumerate() {
        if size.count().is_none() {
            hide_line(&mut counts.iter_mut().filter_map(|row| row.get_mut(s)).collect::<Vec<_>>());
        }
    }
    // Only what is shown enters a rate, a ratio or a test.
    let shown = |g: usize, s: usize| counts[g][s].count().zip(group_sizes[g].count()).filter(|&(_, t)| t > 0);
    let segments: Vec<SegmentAudit> = (0..n_segments)
        .map(|s| {
            let rates: Vec<Option<f64>> =
                (0..n_groups).map(|g| shown(g, s).map(|(c, t)| c as f64 / t as f64)).collect();
            let shares: Vec<Option<f64>> = (0..n_groups)
                .map(|g| {
                    let size = ctx.segment_sizes[s].count().filter(|&n| n > 0)?;
                    counts[g][s].count().map(|c| c as f64 / size as f64)
                })
                .collect();
            let reference = (0..n_groups)
                .filter(|&g| rates[g].is_some())
                .max_by(|&a, &b| rates[a].unwrap_or(0.0).total_cmp(&rates[b].unwrap_or(0.0)).then(b.cmp(&a)));
            let top = reference.and_then(|g| rates[g]).filter(|&r| r > 0.0);
            let ratios: Vec<Option<f64>> = rates.iter().map(|r| r.zip(top).map(|(r, top)| r / top)).collect();
            let in_test: Vec<usize> = (0..n_groups).filter(|&g| shown(g, s).is_some()).collect();
            let left_out: Vec<usize> = (0..n_groups).filter(|&g| totals[g] > 0 && shown(g, s).is_none()).collect();
            let table: Vec<Vec<usize>> =
                in_test.iter().filter_map(|&g| shown(g, s)).map(|(c, t)| vec![c, t.saturating_sub(c)]).collect();
            let test = segment_test(&table, !left_out.is_empty());
            let p = test.as_ref().ok().map(SegmentTest::p_value);
            let verdicts = ratios.iter().map(|&r| verdict(r, p)).collect();
            SegmentAudit { segment: s, rates, shares, reference, ratios, verdicts, test, left_out }
        })
        .collect();
    let (overall, overall_left_out) = overall_test(&raw, &counts, &group_sizes, grouping, ctx.segment_names);
    ColumnAudit {
        column: column.to_string(),
        kind: grouping.kind,
        groups: grouping.labels.clone(),
        group_sizes,
        counts,
        segments,
        overall,
        overall_left_out,
        proxies: Vec::new(),
        notes: grouping.notes.clone(),
    }
}

/// The test of one segment against the rest on `table` (per group: in the segment, not).
fn segment_test(table: &[Vec<usize>], some_left_out: bool) -> Result<SegmentTest, String> {
    let chi_square = chi_square_independence(table).map_err(|d| match d {
        Degenerate::NoCustomers | Degenerate::OneRow if some_left_out => {
            "fewer than two groups with counts that can be shown".to_string()
        }
        Degenerate::NoCustomers | Degenerate::OneRow => "fewer than two groups to compare".to_string(),
        Degenerate::OneColumn if table.iter().all(|r| r[0] == 0) => {
            "no customer of the groups compared is in this segment".to_string()
        }
        Degenerate::OneColumn => "every customer of the groups compared is in this segment".to_string(),
    })?;
    let fisher_p = match table {
        [a, b] if chi_square.min_expected < FISHER_EXPECTED_BELOW => Some(fisher_exact([[a[0], a[1]], [b[0], b[1]]])),
        _ => None,
    };
    Ok(SegmentTest { chi_square, fisher_p })
}

/// The chi-square test of groups x segments over the shown counts: groups whose size is hidden are
/// left out, then either the segments or the groups with a hidden count, whichever keeps more
/// customers.
fn overall_test(
    raw: &[Vec<usize>],
    counts: &[Vec<Cell>],
    group_sizes: &[Cell],
    grouping: &Grouping,
    segment_names: &[String],
) -> (Result<ChiSquare, String>, Vec<String>) {
    let n_segments = segment_names.len();
    let groups: Vec<usize> = (0..raw.len()).filter(|&g| group_sizes[g].count().is_some_and(|n| n > 0)).collect();
    let mut left_out: Vec<String> = (0..raw.len())
        .filter(|g| !groups.contains(g) && raw[*g].iter().sum::<usize>() > 0)
        .map(|g| grouping.labels[g].clone())
        .collect();
    let hidden = |g: usize, s: usize| counts[g][s].count().is_none();
    let keep_segments: Vec<usize> = (0..n_segments).filter(|&s| groups.iter().all(|&g| !hidden(g, s))).collect();
    let keep_groups: Vec<usize> = groups.iter().copied().filter(|&g| (0..n_segments).all(|s| !hidden(g, s))).collect();
    let customers = |gs: &[usize], ss: &[usize]| -> usize {
        gs.iter().map(|&g| ss.iter().map(|&s| raw[g][s]).sum::<usize>()).sum()
    };
    let all_segments: Vec<usize> = (0..n_segments).collect();
    let (gs, ss) = if customers(&groups, &keep_segments) >= customers(&keep_groups, &all_segments) {
        left_out.extend(
            (0..n_segments).filter(|s| !keep_segments.contains(s)).map(|s| format!("segment {}", segment_names[s])),
        );
        (groups, keep_segments)
    } else {
        left_out.extend(groups.iter().filter(|g| !keep_groups.contains(g)).map(|&g| grouping.labels[g].clone()));
        (keep_groups, all_segments)
    };
    let table: Vec<Vec<usize>> = gs.iter().map(|&g| ss.iter().map(|&s| raw[g][s]).collect()).collect();
    let test = chi_square_independence(&table).map_err(|d| {
        match d {
            Degenerate::NoCustomers | Degenerate::OneRow => "fewer than two groups to compare",
            Degenerate::OneColumn => "fewer than two segments to compare",
        }
        .to_string()
            + if left_out.is_empty() { "" } else { " among the counts that can be shown" }
    });
    (test, left_out)
}

/// The proxy check of one sensitive column against each feature, over the groups whose size is
/// shown.
fn proxies(
    frame: &DataFrame,
    column: &str,
    rows: &[usize],
    grouping: &Grouping,
    group_sizes: &[Cell],
    features: &[FeatureSpec],
) -> Vec<Proxy> {
    let counted: Vec<bool> = group_sizes.iter().map(|c| c.count().is_some_and(|n| n > 0)).collect();
    features
        .iter()
        .filter(|f| f.column != column)
        .map(|f| {
            let measure = match f.kind {
                FeatureKind::Numeric => ProxyMeasure::CorrelationRatio,
                FeatureKind::Categorical => ProxyMeasure::CramersV,
            };
            let value = proxy_value(frame, &f.column, measure, rows, grouping, &counted);
            Proxy { feature: f.column.clone(), measure, value }
        })
        .collect()
}

fn proxy_value(
    frame: &DataFrame,
    feature: &str,
    measure: ProxyMeasure,
    rows: &[usize],
    grouping: &Grouping,
    counted: &[bool],
) -> Result<f64, String> {
    let series = frame.column(feature).map_err(|_| "not in the customer table".to_string())?;
    let too_few = || "fewer than two groups with values to compare".to_string();
    match measure {
        ProxyMeasure::CorrelationRatio => {
            let values = data::quality::numeric_values(series).map_err(|_| "not numeric".to_string())?;
            let (groups, xs): (Vec<usize>, Vec<f64>) = rows
                .iter()
                .zip(&grouping.of_row)
                .filter(|(_, g)| counted[**g])
                .filter_map(|(&r, &g)| values.get(r).copied().flatten().filter(|v| v.is_finite()).map(|v| (g, v)))
                .unzip();
            if groups.iter().collect::<std::collections::HashSet<_>>().len() < 2 {
                return Err(too_few());
            }
            correlation_ratio(&groups, &xs).ok_or_else(|| "the feature has one value only".to_string())
        }
        ProxyMeasure::CramersV => {
            let texts = data::column_texts(frame, feature).map_err(|e| e.to_string())?;
            let mut levels: HashMap<&str, usize> = HashMap::new();
            let mut table = vec![Vec::new(); grouping.labels.len()];
            for (&r, &g) in rows.iter().zip(&grouping.of_row) {
                if !counted[g] {
                    continue;
                }
                let level = texts.get(r).and_then(|t| t.as_deref()).map(str::trim).filter(|t| !t.is_empty());
                let next = levels.len();
                let l = *levels.entry(level.unwrap_or(MISSING_GROUP)).or_insert(next);
                if table[g].len() <= l {
                    table[g].resize(l + 1, 0);
                }
                table[g][l] += 1;
            }
            match chi_square_independence(&table) {
                Ok(t) => Ok(t.cramers_v),
                Err(Degenerate::OneColumn) => Err("the feature has one value only".to_string()),
                Err(_) => Err(too_few()),
            }
        }
    }
}
