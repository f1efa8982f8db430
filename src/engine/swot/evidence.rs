//! The live evidence on a segment card: size and share, revenue share, value when the value model
//! is fitted, stability, the trend over time windows, and what sets the segment apart in words.
//! Computed from the current results, so a card is never out of date; counts under the project's
//! small-cell threshold are never shown exactly, and neither are the complementary sizes that
//! would give them away (see [`crate::engine::governance::suppress`]).

use serde::Serialize;

use crate::engine::governance::suppress::{Cell, Sizes};
use crate::engine::over_time::OverTime;
use crate::engine::pipeline::PipelineResult;
use crate::engine::profile::summary::ResultSummary;
use crate::engine::words::thousands_f64;

/// The revenue column used when the board names none: a transaction log's monetary total.
pub const DEFAULT_REVENUE_COLUMN: &str = "monetary_total";

/// How a segment's share of the customers moved over the time windows.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Trend {
    /// Its share of each window's customers, oldest first (`None` where its size is not shown).
    pub shares: Vec<Option<f64>>,
    /// Its customers in each window, as they may be shown.
    pub sizes: Vec<Cell>,
    /// The relative change of its share from the first window to the last (0.1: grew by a tenth),
    /// when both are shown and the first is not zero.
    pub change: Option<f64>,
}

/// What a segment card shows, computed from the results.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SegmentEvidence {
    /// The segment (0-based).
    pub segment: usize,
    /// Its name.
    pub name: String,
    /// Customers in it (never shown as it is: see `size_shown`).
    pub size: usize,
    /// Its size as it may be shown.
    pub size_shown: Cell,
    /// The small-cell threshold it was suppressed with.
    pub threshold: usize,
    /// Its share of the customers with a segment, when its size is shown.
    pub share: Option<f64>,
    /// Its share of the revenue column's total, when there is one.
    pub revenue_share: Option<f64>,
    /// Its revenue per customer against everyone's (1.0: average), when there is a revenue column
    /// and its share is shown (with the revenue share it would give the share away).
    pub revenue_index: Option<f64>,
    /// Value per customer from the value model, when it is fitted: the median over the parameter
    /// draws (see [`crate::engine::value::SegmentValue`]).
    pub value_per_customer: Option<f64>,
    /// The 10th and 90th percentiles of the value per customer over the parameter draws.
    pub value_band: Option<(f64, f64)>,
    /// Total value from the value model, when it is fitted.
    pub total_value: Option<f64>,
    /// Its share of all segments' value, when the value model is fitted.
    pub value_share: Option<f64>,
    /// Its bootstrap stability (mean Jaccard), when "Check stability" ran.
    pub stability: Option<f64>,
    /// Its share over the time windows, when the Over time screen ran.
    pub trend: Option<Trend>,
    /// What sets it apart, in words ("recent, frequent, high-spend").
    pub words: String,
}

/// Every card's evidence and what it rests on.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BoardEvidence {
    /// Per segment, in segment order.
    pub segments: Vec<SegmentEvidence>,
    /// The revenue column used, if any.
    pub revenue_column: Option<String>,
    /// Customers with a segment, as it may be shown.
    pub n_customers: Cell,
    /// The small-cell threshold its counts were suppressed with.
    pub threshold: usize,
    /// What could not be shown and why (no revenue column, no stability run, no windows).
    pub notes: Vec<String>,
}

impl SegmentEvidence {
    /// Whether its figures come from fewer customers than the threshold (then only "<10" is shown).
    pub fn is_small(&self) -> bool {
        self.size < self.threshold
    }

    /// Its size as people read it: "4,120", "<10" or "hidden".
    pub fn size_words(&self) -> String {
        self.size_shown.words(self.threshold)
    }

    /// The card's lines in words, small counts suppressed: "4,120 customers (17.5%)", "38% of
    /// revenue (2.2x the average customer)", "stable (0.91)", "share 17% -> 21% over 4 windows",
    /// "recent, frequent, high-spend".
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.is_small() {
            out.push(format!("{} customers: too few to show its figures", self.size_words()));
            return out;
        }
        match self.share {
            Some(share) if self.size_shown.is_shown() => {
                out.push(format!("{} customers ({})", self.size_words(), percent(share)))
            }
            _ => out
                .push(format!("size hidden: with the others it would give away a segment of under {}", self.threshold)),
        }
        if let Some(revenue) = self.revenue_share {
            let index = self.revenue_index.map(|i| format!(" ({i:.1}x the average customer)")).unwrap_or_default();
            out.push(format!("{} of revenue{index}", percent(revenue)));
        }
        if let (Some(per), Some(total)) = (self.value_per_customer, self.total_value) {
            let band = self.value_band.map(|(lo, hi)| format!(" (10-90%: {lo:.2}-{hi:.2})")).unwrap_or_default();
            let share = self.value_share.map(|v| format!(" ({} of value)", percent(v))).unwrap_or_default();
            out.push(format!("value {per:.2} per customer{band}, {} in all{share}", thousands_f64(total)));
        }
        if let Some(j) = self.stability {
            let word = if j >= 0.85 {
                "stable"
            } else if j >= 0.75 {
                "fairly stable"
            } else {
                "unstable"
            };
            out.push(format!("{word} (Jaccard {j:.2})"));
        }
        if let Some(trend) = &self.trend
            && !trend.shares.is_empty()
        {
            let first = trend.shares.first().copied().flatten();
            let last = trend.shares.last().copied().flatten();
            match (first, last, trend.change) {
                (Some(first), Some(last), Some(change)) if trend.shares.iter().all(Option::is_some) => {
                    let word = if change >= 0.1 {
                        "growing"
                    } else if change <= -0.1 {
                        "shrinking"
                    } else {
                        "steady"
                    };
                    out.push(format!(
                        "{word}: {} -> {} of customers over {} windows",
                        percent(first),
                        percent(last),
                        trend.shares.len()
                    ));
                }
                _ => out.push(format!(
                    "over {} windows: a window's size is hidden (under {} customers, or beside such a size)",
                    trend.shares.len(),
                    self.threshold
                )),
            }
        }
        if !self.words.is_empty() {
            out.push(self.words.clone());
        }
        out
    }
}

/// A share as a percentage with one decimal under 10% ("4.2%", "38%").
pub fn percent(share: f64) -> String {
    let p = share * 100.0;
    if !p.is_finite() {
        "-".to_string()
    } else if p.abs() < 10.0 {
        format!("{p:.1}%")
    } else {
        format!("{p:.0}%")
    }
}

/// The evidence for every segment of `result`: `names` per segment, `summary` for what sets each
/// apart, the `revenue_column` (else [`DEFAULT_REVENUE_COLUMN`] when the table has it), and the
/// windows of `over_time` when their segments are these; counts suppressed at `small_cells`.
pub fn board_evidence(
    result: &PipelineResult,
    summary: Option<&ResultSummary>,
    names: &[String],
    revenue_column: Option<&str>,
    over_time: Option<&OverTime>,
    small_cells: usize,
) -> BoardEvidence {
    let n_segments = result.n_segments();
    let mut sizes = vec![0usize; n_segments];
    for s in result.segment_per_customer.iter().flatten() {
        if *s < n_segments {
            sizes[*s] += 1;
        }
    }
    let shown = Sizes::new(&sizes, small_cells);
    let mut notes = Vec::new();
    let column = revenue_column.map(str::to_string).or_else(|| {
        result.customers.column(DEFAULT_REVENUE_COLUMN).is_ok().then(|| DEFAULT_REVENUE_COLUMN.to_string())
    });
    let revenue = column.as_deref().and_then(|c| match revenue_per_segment(result, c, n_segments) {
        Ok(r) => Some(r),
        Err(e) => {
            notes.push(e);
            None
        }
    });
    if column.is_none() {
        notes.push(format!(
            "No revenue share: the table has no {DEFAULT_REVENUE_COLUMN} column; choose the column that holds revenue"
        ));
    }
    let value = summary.and_then(|sum| sum.value_segments.as_ref());
    if value.is_none() {
        notes.push(
            "No value per customer: the value model is not fitted (a transaction log's Value screen, F7)".to_string(),
        );
    }
    let stability: Option<Vec<f64>> = result.stability.as_ref().map(|s| {
        let mut per = vec![f64::NAN; n_segments];
        for seg in &s.segments {
            if seg.segment < n_segments {
                per[seg.segment] = seg.mean_jaccard;
            }
        }
        per
    });
    if stability.is_none() {
        notes.push("No stability: run \"Check stability\" on the Model screen".to_string());
    }
    let windows = over_time.filter(|o| o.names.len() == n_segments && o.windows.len() >= 2);
    if windows.is_none() {
        notes.push("No trend: the Over time screen has not followed these segments through windows".to_string());
    }
    let window_sizes: Vec<Sizes> =
        windows.map(|o| o.windows.iter().map(|w| w.sizes_shown(small_cells)).collect()).unwrap_or_default();
    let segments = (0..n_segments)
        .map(|s| {
            let share = shown.share(s);
            let (revenue_share, revenue_index) = match &revenue {
                Some((per, total)) if *total > 0.0 => {
                    let r = per[s] / total;
                    (Some(r), share.filter(|share| *share > 0.0).map(|share| r / share))
                }
                _ => (None, None),
            };
            let trend = windows.map(|_| {
                let sizes: Vec<Cell> = window_sizes.iter().map(|w| w.cell(s)).collect();
                let shares: Vec<Option<f64>> = window_sizes.iter().map(|w| w.share(s)).collect();
                let change = match (shares[0], shares[shares.len() - 1]) {
                    (Some(first), Some(last)) if first > 0.0 => Some(last / first - 1.0),
                    _ => None,
                };
                Trend { shares, sizes, change }
            });
            let words = summary
                .and_then(|sum| {
                    sum.distance_sd.get(s).map(|d| crate::engine::profile::distinguishing_words(&sum.columns, d, 3))
                })
                .map(|w| w.join(", "))
                .unwrap_or_default();
            // Value per segment counts the customers the value model saw (those who bought by the
            // calibration end); a segment none of them is in has no value figure.
            let value = value.and_then(|v| v.iter().find(|v| v.segment == s)).filter(|v| v.n_customers > 0);
            SegmentEvidence {
                segment: s,
                name: names.get(s).cloned().unwrap_or_else(|| format!("Segment {}", s + 1)),
                size: sizes[s],
                size_shown: shown.cell(s),
                threshold: small_cells,
                share,
                revenue_share,
                revenue_index,
                value_per_customer: value.map(|v| v.value_per_customer_median),
                value_band: value.map(|v| (v.value_per_customer_p10, v.value_per_customer_p90)),
                total_value: value.map(|v| v.total_value),
                value_share: value.map(|v| v.value_share).filter(|v| v.is_finite()),
                stability: stability.as_ref().and_then(|v| v.get(s).copied()).filter(|j| j.is_finite()),
                trend,
                words,
            }
        })
        .collect();
    BoardEvidence {
        segments,
        revenue_column: column.filter(|_| revenue.is_some()),
        n_customers: shown.line.total,
        threshold: small_cells,
        notes,
    }
}

/// The sum of `column` per segment and over everyone with a segment; an error in words when the
/// column is missing, not numeric, or has a negative total.
fn revenue_per_segment(result: &PipelineResult, column: &str, n_segments: usize) -> Result<(Vec<f64>, f64), String> {
    use polars::prelude::DataType;
    let values = result
        .customers
        .column(column)
        .map_err(|_| format!("No revenue share: the table has no column {}", crate::engine::error::quoted(column)))?
        .cast(&DataType::Float64)
        .map_err(|_| format!("No revenue share: {} is not numeric", crate::engine::error::quoted(column)))?;
    let values = values.f64().map_err(|e| format!("No revenue share: {e}"))?;
    let mut per = vec![0.0; n_segments];
    for (v, s) in values.iter().zip(&result.segment_per_customer) {
        if let (Some(v), Some(s)) = (v, s)
            && *s < n_segments
            && v.is_finite()
        {
            per[*s] += v;
        }
    }
    let total: f64 = per.iter().sum();
    if total <= 0.0 {
        return Err(format!(
            "No revenue share: {} sums to {total} over the segmented customers",
            crate::engine::error::quoted(column)
        ));
    }
    Ok((per, total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::governance::suppress;

    fn evidence(size: usize) -> SegmentEvidence {
        SegmentEvidence {
            segment: 0,
            name: "Loyal".into(),
            size,
            size_shown: suppress::single(size, 10),
            threshold: 10,
            share: Some(0.176),
            revenue_share: Some(0.38),
            revenue_index: Some(2.17),
            value_per_customer: None,
            value_band: None,
            total_value: None,
            value_share: None,
            stability: Some(0.91),
            trend: Some(Trend {
                shares: vec![Some(0.17), Some(0.21)],
                sizes: vec![Cell::Count(4000), Cell::Count(4600)],
                change: Some(0.235),
            }),
            words: "recent, frequent".into(),
        }
    }

    #[test]
    fn a_card_says_its_figures_in_words() {
        let lines = evidence(4120).lines();
        assert_eq!(
            lines,
            vec![
                "4,120 customers (18%)",
                "38% of revenue (2.2x the average customer)",
                "stable (Jaccard 0.91)",
                "growing: 17% -> 21% of customers over 2 windows",
                "recent, frequent"
            ]
        );
    }

    #[test]
    fn a_card_gives_the_segments_value_with_its_band_and_share() {
        let mut e = evidence(4120);
        e.value_per_customer = Some(41.237);
        e.value_band = Some((35.5, 48.25));
        e.total_value = Some(169_896.4);
        e.value_share = Some(0.412);
        let lines = e.lines();
        assert!(
            lines
                .contains(&"value 41.24 per customer (10-90%: 35.50-48.25), 169,896 in all (41% of value)".to_string()),
            "{lines:?}"
        );
        // A small segment's value is not shown either.
        e.size = 7;
        assert!(!e.lines().iter().any(|l| l.contains("value")));
    }

    #[test]
    fn a_segment_of_fewer_than_ten_shows_no_figure_exactly() {
        let lines = evidence(7).lines();
        assert_eq!(lines, vec!["<10 customers: too few to show its figures"]);
        let mut e = evidence(500);
        e.trend =
            Some(Trend { shares: vec![None, Some(0.2)], sizes: vec![Cell::Small, Cell::Count(100)], change: None });
        let lines = e.lines();
        assert!(lines.iter().any(|l| l.starts_with("over 2 windows: a window's size is hidden")), "{lines:?}");
        // Neither the window's count nor its share (3 of 300, 1.0%) appears.
        assert!(!lines.iter().any(|l| l.contains("1.0%") || l.contains(" 3 ")), "{lines:?}");
        // A size hidden beside a small one shows no share either.
        let mut e = evidence(500);
        e.size_shown = Cell::Complement;
        e.share = None;
        let lines = e.lines();
        assert!(lines[0].starts_with("size hidden"), "{lines:?}");
        assert!(!lines.iter().any(|l| l.contains("500")), "{lines:?}");
    }
}
