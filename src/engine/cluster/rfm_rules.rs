//! Rule-based RFM segmentation: recency, frequency and monetary value each scored 1-5 by quantile
//! (5 is best: most recent, most frequent, highest spend), then named segments from an ordered list
//! of editable rules on the three scores (the first rule that matches wins).
//!
//! Scores are quantiles with ties kept together: a customer's score is 1 + floor(5 x (share of
//! customers strictly worse)), so everyone with the same value gets the same score. On data with many
//! ties (half of CDNOW's customers bought once) some scores are then unused rather than handed out
//! at random, and the result never depends on row order.

use serde::{Deserialize, Serialize};

use super::bounds;
use crate::engine::cluster::describe::{Kind, MethodInfo, MethodParams, Setting};
use crate::engine::error::ClusterError;

/// An inclusive range of scores, 1-5.
pub type ScoreRange = (u8, u8);

/// One named segment: customers whose three scores fall in the three ranges.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RfmRule {
    /// The segment's name.
    pub name: String,
    /// Recency scores (5 = bought most recently).
    pub recency: ScoreRange,
    /// Frequency scores (5 = most orders).
    pub frequency: ScoreRange,
    /// Monetary scores (5 = most spent).
    pub monetary: ScoreRange,
}

impl RfmRule {
    fn new(name: &str, recency: ScoreRange, frequency: ScoreRange, monetary: ScoreRange) -> Self {
        Self { name: name.to_string(), recency, frequency, monetary }
    }

    /// Whether scores (r, f, m) match.
    pub fn matches(&self, scores: [u8; 3]) -> bool {
        let within = |(lo, hi): ScoreRange, s: u8| lo <= s && s <= hi;
        within(self.recency, scores[0]) && within(self.frequency, scores[1]) && within(self.monetary, scores[2])
    }

    /// The rule as one line, for tables and reports: "R 4-5, F 4-5, M 4-5".
    pub fn describe(&self) -> String {
        let range = |(lo, hi): ScoreRange| if lo == hi { lo.to_string() } else { format!("{lo}-{hi}") };
        format!("R {}, F {}, M {}", range(self.recency), range(self.frequency), range(self.monetary))
    }
}

/// The name of the segment of customers no rule matches.
pub const UNMATCHED: &str = "Other";

/// The standard named segments, in the order they are tried. Together they cover every combination
/// of scores, so no customer falls to "Other" unless the rules are edited.
pub fn standard_rules() -> Vec<RfmRule> {
    vec![
        RfmRule::new("Champions", (4, 5), (4, 5), (4, 5)),
        RfmRule::new("Loyal", (3, 5), (3, 5), (3, 5)),
        RfmRule::new("Cannot Lose Them", (1, 1), (4, 5), (4, 5)),
        RfmRule::new("At Risk", (1, 2), (3, 5), (3, 5)),
        RfmRule::new("New", (5, 5), (1, 1), (1, 5)),
        RfmRule::new("Promising", (4, 4), (1, 1), (1, 5)),
        RfmRule::new("Potential Loyalist", (3, 5), (1, 5), (1, 5)),
        RfmRule::new("Need Attention", (2, 2), (2, 5), (1, 5)),
        RfmRule::new("About to Sleep", (2, 2), (1, 1), (1, 5)),
        RfmRule::new("Hibernating", (1, 1), (2, 5), (1, 5)),
        RfmRule::new("Lost", (1, 1), (1, 1), (1, 5)),
    ]
}

/// RFM segmentation settings: the three columns of the customer table and the rules.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RfmParams {
    /// Days since the last purchase (lower is better).
    pub recency: String,
    /// Number of orders.
    pub frequency: String,
    /// Money spent.
    pub monetary: String,
    /// Named segments, tried in order.
    pub rules: Vec<RfmRule>,
}

impl Default for RfmParams {
    fn default() -> Self {
        Self {
            recency: "recency_days".into(),
            frequency: "frequency".into(),
            monetary: "monetary_total".into(),
            rules: standard_rules(),
        }
    }
}

impl RfmParams {
    /// Checks the rules: at least one, names present and distinct, ranges within 1-5 and ordered.
    pub fn check(&self) -> Result<(), ClusterError> {
        let invalid = |problem: String| Err(ClusterError::InvalidParameter { name: "RFM rules", problem });
        if self.rules.is_empty() {
            return invalid("there are no rules; add at least one named segment".into());
        }
        bounds::count_in("RFM rules", self.rules.len(), 1, bounds::MAX_RFM_RULES, "rules")?;
        for (i, rule) in self.rules.iter().enumerate() {
            if rule.name.trim().is_empty() {
                return invalid(format!("rule {} has no name", i + 1));
            }
            let chars = rule.name.chars().count();
            if chars > bounds::MAX_RULE_NAME_CHARS {
                return invalid(format!(
                    "rule {} has a name of {chars} characters; at most {} are allowed",
                    i + 1,
                    bounds::MAX_RULE_NAME_CHARS
                ));
            }
            if rule.name == UNMATCHED {
                return invalid(format!("'{UNMATCHED}' is kept for customers no rule matches"));
            }
            if self.rules[..i].iter().any(|r| r.name == rule.name) {
                return invalid(format!("two rules are named '{}'", rule.name));
            }
            for (what, (lo, hi)) in
                [("recency", rule.recency), ("frequency", rule.frequency), ("monetary", rule.monetary)]
            {
                if !(1 <= lo && lo <= hi && hi <= 5) {
                    return invalid(format!(
                        "'{}': the {what} range {lo}-{hi} must lie within 1-5, low to high",
                        rule.name
                    ));
                }
            }
        }
        rfm_columns_chosen([&self.recency, &self.frequency, &self.monetary])
    }
}

/// Checks that the recency, frequency and monetary columns are named.
pub(crate) fn rfm_columns_chosen(columns: [&str; 3]) -> Result<(), ClusterError> {
    for (what, column) in ["recency", "frequency", "monetary"].into_iter().zip(columns) {
        if column.trim().is_empty() {
            return Err(ClusterError::InvalidParameter {
                name: "RFM rules",
                problem: format!("no {what} column is chosen"),
            });
        }
    }
    Ok(())
}

/// Score cut points of one measure, so new customers are scored against the fitted customers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoreEdges {
    /// Four values: a value strictly better than edge s (s = 1..4) scores above s.
    pub edges: [f64; 4],
    /// Whether lower values are better (recency).
    pub lower_is_better: bool,
}

impl ScoreEdges {
    /// Cut points of `values`.
    pub fn of(values: &[f64], lower_is_better: bool) -> Self {
        let mut sorted: Vec<f64> = values.iter().map(|&v| if lower_is_better { -v } else { v }).collect();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        // The score of v is 1 + #{s : count(< v) >= s n / 5}; count(< v) >= t exactly when v is above
        // the sorted value at position ceil(t) - 1.
        let edges = std::array::from_fn(|s| {
            let t = ((s + 1) * n).div_ceil(5);
            sorted[t.max(1) - 1]
        });
        Self { edges, lower_is_better }
    }

    /// The score (1-5) of one value.
    pub fn score(&self, value: f64) -> u8 {
        let v = if self.lower_is_better { -value } else { value };
        1 + self.edges.iter().filter(|&&e| v > e).count() as u8
    }
}

/// What scoring and the rules give.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RfmModel {
    /// The settings.
    pub params: RfmParams,
    /// Cut points for recency, frequency and monetary value.
    pub edges: [ScoreEdges; 3],
    /// Names of the segments customers are in, in rule order (rules nobody matched left out;
    /// "Other" last when anyone matched no rule).
    pub segment_names: Vec<String>,
}

/// A rule-based segmentation of customers.
#[derive(Clone, Debug, PartialEq)]
pub struct RfmFit {
    /// Segment of each customer (index into `model.segment_names`).
    pub labels: Vec<usize>,
    /// (recency, frequency, monetary) scores of each customer.
    pub scores: Vec<[u8; 3]>,
    /// Scoring and naming.
    pub model: RfmModel,
    /// Rules that matched nobody (named, for the user).
    pub empty_rules: Vec<String>,
}

impl RfmModel {
    /// Scores of one customer.
    pub fn scores(&self, r: f64, f: f64, m: f64) -> [u8; 3] {
        [self.edges[0].score(r), self.edges[1].score(f), self.edges[2].score(m)]
    }

    /// The segment (index into `segment_names`) of scores; `None` when they match a rule whose
    /// segment had no customers at fitting time, or no rule when nobody fell to "Other".
    pub fn segment_of(&self, scores: [u8; 3]) -> Option<usize> {
        let name = self.params.rules.iter().find(|r| r.matches(scores)).map_or(UNMATCHED, |r| r.name.as_str());
        self.segment_names.iter().position(|n| n == name)
    }
}

/// Scores customers from their recency, frequency and monetary values and names them by the rules.
pub fn fit_rfm(
    recency: &[f64],
    frequency: &[f64],
    monetary: &[f64],
    params: &RfmParams,
) -> Result<RfmFit, ClusterError> {
    params.check()?;
    let n = recency.len();
    if n == 0 {
        return Err(ClusterError::EmptyInput);
    }
    if frequency.len() != n || monetary.len() != n {
        return Err(ClusterError::BadLabels("recency, frequency and monetary value differ in length".into()));
    }
    for (column, values) in [(0, recency), (1, frequency), (2, monetary)] {
        if let Some(row) = values.iter().position(|v| !v.is_finite()) {
            return Err(ClusterError::NonFinite { row, column });
        }
    }
    let edges = [ScoreEdges::of(recency, true), ScoreEdges::of(frequency, false), ScoreEdges::of(monetary, false)];
    let scores: Vec<[u8; 3]> = (0..n)
        .map(|i| [edges[0].score(recency[i]), edges[1].score(frequency[i]), edges[2].score(monetary[i])])
        .collect();
    let raw: Vec<usize> =
        scores.iter().map(|&s| params.rules.iter().position(|r| r.matches(s)).unwrap_or(params.rules.len())).collect();
    let mut counts = vec![0usize; params.rules.len() + 1];
    for &r in &raw {
        counts[r] += 1;
    }
    let mut segment_names = Vec::new();
    let mut rule_to_segment = vec![usize::MAX; params.rules.len() + 1];
    for (rule, &count) in counts.iter().enumerate() {
        if count > 0 {
            rule_to_segment[rule] = segment_names.len();
            segment_names.push(params.rules.get(rule).map_or(UNMATCHED.to_string(), |r| r.name.clone()));
        }
    }
    let empty_rules = params.rules.iter().zip(&counts).filter(|(_, c)| **c == 0).map(|(r, _)| r.name.clone()).collect();
    let labels = raw.iter().map(|&r| rule_to_segment[r]).collect();
    Ok(RfmFit { labels, scores, model: RfmModel { params: params.clone(), edges, segment_names }, empty_rules })
}

/// RFM rules, described once for the CLI, the Model screen and the project file.
pub const METHOD: MethodInfo = MethodInfo {
    name: "rfm",
    label: "RFM rules",
    hint: "Named segments from recency, frequency and monetary scores 1-5 and editable rules.",
    has_k: false,
    settings: &[Setting::new(
        "rfm-columns",
        "RFM columns",
        "Recency, frequency and monetary columns of the customer table",
        Kind::Columns { fields: ["recency", "frequency", "monetary"] },
    )],
};

impl MethodParams for RfmParams {
    fn rfm_columns(&self) -> Option<[&str; 3]> {
        Some([&self.recency, &self.frequency, &self.monetary])
    }
    fn check(&self) -> Result<(), ClusterError> {
        self.check()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quintile_scores_keep_ties_together_and_reverse_recency() {
        let values: Vec<f64> = (1..=10).map(f64::from).collect();
        let edges = ScoreEdges::of(&values, false);
        let scores: Vec<u8> = values.iter().map(|&v| edges.score(v)).collect();
        assert_eq!(scores, vec![1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
        let recency = ScoreEdges::of(&values, true);
        assert_eq!(values.iter().map(|&v| recency.score(v)).collect::<Vec<_>>(), vec![5, 5, 4, 4, 3, 3, 2, 2, 1, 1]);
        // Six of ten tied at the lowest value: all score 1; the rest by their share below.
        let tied = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 3.0, 3.0, 9.0];
        let edges = ScoreEdges::of(&tied, false);
        assert_eq!(tied.iter().map(|&v| edges.score(v)).collect::<Vec<_>>(), vec![1, 1, 1, 1, 1, 1, 4, 4, 4, 5]);
        // New values: between and beyond the fitted ones.
        assert_eq!(edges.score(0.0), 1);
        assert_eq!(edges.score(100.0), 5);
    }

    #[test]
    fn the_standard_rules_cover_every_combination_of_scores() {
        let rules = standard_rules();
        for r in 1..=5 {
            for f in 1..=5 {
                for m in 1..=5 {
                    assert!(rules.iter().any(|rule| rule.matches([r, f, m])), "({r}, {f}, {m}) unmatched");
                }
            }
        }
        assert!(RfmParams::default().check().is_ok());
    }

    #[test]
    fn planted_customer_types_get_their_names() {
        // 100 customers per type: recent big spenders, long-gone one-off buyers, new one-off buyers.
        let mut recency = Vec::new();
        let mut frequency = Vec::new();
        let mut monetary = Vec::new();
        for i in 0..100 {
            let j = f64::from(i);
            recency.extend([5.0 + j * 0.1, 400.0 + j, 2.0 + j * 0.01]);
            frequency.extend([20.0 + j, 1.0, 1.0]);
            monetary.extend([1000.0 + j, 10.0 + j * 0.01, 12.0 + j * 0.01]);
        }
        let fit = fit_rfm(&recency, &frequency, &monetary, &RfmParams::default()).unwrap();
        let name = |i: usize| fit.model.segment_names[fit.labels[i]].as_str();
        assert_eq!(name(0), "Champions");
        // The longest gone of the one-off buyers (the most recent of them score 2: "About to Sleep").
        assert_eq!(name(3 * 99 + 1), "Lost");
        assert_eq!(name(1), "About to Sleep");
        assert_eq!(name(2), "New");
        assert!(fit.empty_rules.contains(&"Cannot Lose Them".to_string()));
        // Scores of the fitted customers are reproduced for them as new customers.
        for i in 0..fit.labels.len() {
            let s = fit.model.scores(recency[i], frequency[i], monetary[i]);
            assert_eq!(s, fit.scores[i]);
            assert_eq!(fit.model.segment_of(s), Some(fit.labels[i]));
        }
    }

    #[test]
    fn edited_rules_that_leave_gaps_send_customers_to_other() {
        let params = RfmParams { rules: vec![RfmRule::new("Best", (5, 5), (1, 5), (1, 5))], ..RfmParams::default() };
        let values: Vec<f64> = (0..10).map(f64::from).collect();
        let fit = fit_rfm(&values, &values, &values, &params).unwrap();
        assert_eq!(fit.model.segment_names, vec!["Best", "Other"]);
        assert_eq!(fit.labels.iter().filter(|&&l| l == 0).count(), 2);
    }

    #[test]
    fn bad_rules_and_values_are_refused() {
        let one = [1.0];
        let bad_range = RfmParams { rules: vec![RfmRule::new("A", (0, 3), (1, 5), (1, 5))], ..RfmParams::default() };
        assert!(fit_rfm(&one, &one, &one, &bad_range).is_err());
        let duplicate = RfmParams {
            rules: vec![RfmRule::new("A", (1, 5), (1, 5), (1, 5)), RfmRule::new("A", (1, 5), (1, 5), (1, 5))],
            ..RfmParams::default()
        };
        assert!(fit_rfm(&one, &one, &one, &duplicate).is_err());
        assert!(fit_rfm(&one, &one, &one, &RfmParams { rules: vec![], ..RfmParams::default() }).is_err());
        assert_eq!(fit_rfm(&[], &[], &[], &RfmParams::default()), Err(ClusterError::EmptyInput));
        assert_eq!(
            fit_rfm(&[1.0, f64::NAN], &[1.0, 1.0], &[1.0, 1.0], &RfmParams::default()),
            Err(ClusterError::NonFinite { row: 1, column: 0 })
        );
    }
}
