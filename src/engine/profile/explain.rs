//! Segments as rules people can read: a shallow decision tree (CART, Gini; see [`super::tree`],
//! which gives the same tree on every run) trained to predict
//! each customer's segment from the original, untransformed features, read back as one rule per
//! leaf ("recency_days under 45 and frequency above 4"), with its fidelity: the share of customers
//! the tree puts in their own segment.
//!
//! Categorical features enter as one indicator per category ("channel is web"). Inputs with nothing
//! to tell apart (no rows, one class) and customers with missing or non-finite values are refused
//! or left out before the tree is grown.

use ndarray::{Array1, Array2};
use polars::prelude::DataFrame;
use serde::{Deserialize, Serialize};

use super::tree::{Node, TreeParams};
use crate::engine::data::quality::numeric_values;
use crate::engine::error::{ClusterError, PipelineError};

/// The smallest decrease of the weighted Gini impurity worth a split (as linfa-trees' default, which
/// the rules were read with before).
const MIN_IMPURITY_DECREASE: f64 = 1e-5;

/// Tree settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExplainParams {
    /// Deepest split (a rule has at most this many conditions).
    pub max_depth: usize,
    /// Smallest leaf as a share of the customers (no rule about a handful of them).
    pub min_leaf_share: f64,
}

impl Default for ExplainParams {
    fn default() -> Self {
        Self { max_depth: 3, min_leaf_share: 0.01 }
    }
}

/// One condition of a rule on one feature: a range, or a category.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    /// The feature.
    pub feature: String,
    /// Lower bound (inclusive), for a numeric feature.
    pub at_least: Option<f64>,
    /// Upper bound (exclusive), for a numeric feature.
    pub below: Option<f64>,
    /// The category it must be, for a categorical one.
    pub is: Option<String>,
    /// Categories it must not be.
    pub is_not: Vec<String>,
    /// Whether the feature holds whole numbers only (counts), so bounds read as whole numbers.
    #[serde(default)]
    pub whole_numbers: bool,
}

impl Condition {
    /// The condition in words: "recency_days under 45", "frequency 2 to under 5", "channel is web".
    pub fn text(&self) -> String {
        let f = &self.feature;
        if let Some(c) = &self.is {
            return format!("{f} is {c}");
        }
        if !self.is_not.is_empty() {
            return format!("{f} is not {}", self.is_not.join(" or "));
        }
        if self.whole_numbers {
            // Whole numbers: at least 1.5 is at least 2, under 4.5 is at most 4.
            let lo = self.at_least.map(f64::ceil);
            let hi = self.below.map(|b| if b == b.ceil() { b - 1.0 } else { b.floor() });
            return match (lo, hi) {
                (Some(lo), Some(hi)) if lo == hi => format!("{f} {}", number(lo)),
                (Some(lo), Some(hi)) => format!("{f} {} to {}", number(lo), number(hi)),
                (Some(lo), None) => format!("{f} at least {}", number(lo)),
                (None, Some(hi)) => format!("{f} at most {}", number(hi)),
                (None, None) => format!("any {f}"),
            };
        }
        match (self.at_least, self.below) {
            (Some(lo), Some(hi)) => format!("{f} {} to under {}", number(lo), number(hi)),
            (Some(lo), None) => format!("{f} at least {}", number(lo)),
            (None, Some(hi)) => format!("{f} under {}", number(hi)),
            (None, None) => format!("any {f}"),
        }
    }
}

/// A number as people write it: few decimals, none for whole numbers.
fn number(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round())
    } else if v.abs() >= 100.0 {
        format!("{v:.1}").trim_end_matches('0').trim_end_matches('.').to_string()
    } else if v.abs() >= 1.0 {
        format!("{v:.2}").trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{v:.3}").trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// One leaf of the tree: its conditions and who is in it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// The segment the leaf predicts.
    pub segment: usize,
    /// Its conditions, all of which hold.
    pub conditions: Vec<Condition>,
    /// The conditions in words, joined by "and".
    pub text: String,
    /// Customers in the leaf.
    pub customers: usize,
    /// Share of them in the predicted segment.
    pub precision: f64,
    /// Share of the segment's customers this rule covers.
    pub coverage: f64,
}

/// The tree read as rules.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// Share of customers the tree puts in their own segment.
    pub fidelity: f64,
    /// Per segment, the share of its customers the tree gets right.
    pub fidelity_by_segment: Vec<f64>,
    /// One rule per leaf, grouped by segment (largest coverage first inside each).
    pub rules: Vec<Rule>,
    /// Customers explained (with a segment and every feature present).
    pub n: usize,
}

/// A column of the tree's input: a numeric feature, or one category of a categorical feature.
#[derive(Clone, Debug)]
enum Column {
    /// A numeric feature, and whether it holds whole numbers only.
    Numeric(String, bool),
    Category(String, String),
}

/// Trains the tree on the features of `frame` (categorical when listed in `categorical` or not
/// numeric) to predict `segments` (`0..k`), and reads its rules.
pub fn explain_segments(
    frame: &DataFrame,
    features: &[String],
    categorical: &[String],
    segments: &[Option<usize>],
    k: usize,
    params: &ExplainParams,
) -> Result<Explanation, PipelineError> {
    if params.max_depth == 0 || params.max_depth > 10 {
        return Err(ClusterError::InvalidParameter { name: "max_depth", problem: "must be 1 to 10".into() }.into());
    }
    if !(0.0..0.5).contains(&params.min_leaf_share) {
        return Err(ClusterError::InvalidParameter {
            name: "min_leaf_share",
            problem: "must be at least 0 and below 0.5".into(),
        }
        .into());
    }
    // The input columns, and each customer's values (None when any is missing).
    let mut columns = Vec::new();
    let mut values: Vec<Vec<Option<f64>>> = Vec::new();
    for name in features {
        let column = crate::engine::data::column(frame, name)?;
        if categorical.contains(name) || !column.dtype().is_primitive_numeric() {
            let texts = crate::engine::data::column_texts(frame, name)?;
            let mut levels: Vec<String> = texts.iter().flatten().cloned().collect();
            levels.sort_unstable();
            levels.dedup();
            if levels.len() > 50 {
                return Err(ClusterError::BadLabels(format!(
                    "'{name}' has {} categories; a readable rule needs fewer (50 at most)",
                    levels.len()
                ))
                .into());
            }
            for level in levels {
                values.push(texts.iter().map(|t| t.as_ref().map(|t| f64::from(u8::from(*t == level)))).collect());
                columns.push(Column::Category(name.clone(), level));
            }
        } else {
            let v: Vec<Option<f64>> =
                numeric_values(column)?.into_iter().map(|v| v.filter(|x| x.is_finite())).collect();
            let whole = v.iter().flatten().all(|x| x.fract() == 0.0);
            values.push(v);
            columns.push(Column::Numeric(name.clone(), whole));
        }
    }
    let rows: Vec<usize> = (0..frame.height())
        .filter(|&r| segments.get(r).copied().flatten().is_some_and(|s| s < k) && values.iter().all(|v| v[r].is_some()))
        .collect();
    let n = rows.len();
    if n == 0 {
        return Err(ClusterError::EmptyInput.into());
    }
    let y: Vec<usize> = rows.iter().map(|&r| segments[r].unwrap_or(0)).collect();
    let mut present = vec![0usize; k];
    for &s in &y {
        present[s] += 1;
    }
    if present.iter().filter(|&&c| c > 0).count() < 2 {
        return Err(
            ClusterError::BadLabels("only one segment has customers; there is nothing to tell apart".into()).into()
        );
    }
    if columns.is_empty() {
        return Err(ClusterError::InvalidParameter { name: "features", problem: "none given".into() }.into());
    }
    let x = Array2::from_shape_fn((n, columns.len()), |(i, j)| values[j][rows[i]].unwrap_or(0.0));
    let min_leaf = ((params.min_leaf_share * n as f64).floor() as usize).max(1);
    let tree = super::tree::fit(
        x.view(),
        &y,
        k,
        TreeParams { max_depth: params.max_depth, min_leaf, min_impurity_decrease: MIN_IMPURITY_DECREASE },
    );
    let predicted: Array1<usize> = (0..n).map(|i| tree.predict(x.view(), i)).collect();
    let correct = predicted.iter().zip(&y).filter(|(p, t)| p == t).count();
    let fidelity_by_segment = (0..k)
        .map(|s| {
            let members = y.iter().filter(|&&t| t == s).count();
            let right = predicted.iter().zip(&y).filter(|&(p, t)| *t == s && p == t).count();
            if members == 0 { f64::NAN } else { right as f64 / members as f64 }
        })
        .collect();
    // Each leaf's path, then who lands in it (customers routed down the tree by those conditions).
    let mut leaves = Vec::new();
    collect_leaves(&tree, &mut Vec::new(), &mut leaves);
    let mut rules: Vec<Rule> = leaves
        .into_iter()
        .map(|(path, segment)| {
            let inside: Vec<usize> =
                (0..n).filter(|&i| path.iter().all(|&(j, v, left)| (x[[i, j]] < v) == left)).collect();
            let right = inside.iter().filter(|&&i| y[i] == segment).count();
            let conditions = conditions_of(&path, &columns);
            let text = conditions.iter().map(Condition::text).collect::<Vec<_>>().join(" and ");
            Rule {
                segment,
                text: if text.is_empty() { "every customer".to_string() } else { text },
                conditions,
                customers: inside.len(),
                precision: if inside.is_empty() { f64::NAN } else { right as f64 / inside.len() as f64 },
                coverage: right as f64 / present[segment].max(1) as f64,
            }
        })
        .collect();
    rules.sort_by(|a, b| a.segment.cmp(&b.segment).then(b.coverage.total_cmp(&a.coverage)));
    Ok(Explanation { fidelity: correct as f64 / n as f64, fidelity_by_segment, rules, n })
}

/// A path from the root: (column, split value, went left = value below it) per split.
type Path = Vec<(usize, f64, bool)>;

/// Every leaf under `node`: its path (column, split value, went left = value below it) and its
/// predicted segment.
fn collect_leaves(node: &Node, path: &mut Path, out: &mut Vec<(Path, usize)>) {
    match node {
        Node::Leaf { class } => out.push((path.clone(), *class)),
        Node::Split { column, threshold, left, right } => {
            for (child, went_left) in [(left, true), (right, false)] {
                path.push((*column, *threshold, went_left));
                collect_leaves(child, path, out);
                path.pop();
            }
        }
    }
}

/// A path's splits merged per feature: one range per numeric feature, one category (or the
/// categories it is not) per categorical one; in the order features first appear on the path.
fn conditions_of(path: &[(usize, f64, bool)], columns: &[Column]) -> Vec<Condition> {
    let mut out: Vec<Condition> = Vec::new();
    for &(j, value, left) in path {
        let (feature, level, whole_numbers) = match &columns[j] {
            Column::Numeric(f, whole) => (f.clone(), None, *whole),
            Column::Category(f, l) => (f.clone(), Some(l.clone()), false),
        };
        let at = match out.iter().position(|c| c.feature == feature) {
            Some(at) => at,
            None => {
                out.push(Condition {
                    feature,
                    at_least: None,
                    below: None,
                    is: None,
                    is_not: Vec::new(),
                    whole_numbers,
                });
                out.len() - 1
            }
        };
        let c = &mut out[at];
        match level {
            // An indicator: below the split (0) is "not this category", above it (1) is "this one".
            Some(level) => {
                if left {
                    c.is_not.push(level);
                } else {
                    c.is = Some(level);
                }
            }
            None => {
                if left {
                    c.below = Some(c.below.map_or(value, |b| b.min(value)));
                } else {
                    c.at_least = Some(c.at_least.map_or(value, |a| a.max(value)));
                }
            }
        }
    }
    for c in &mut out {
        // "Not any but one" is that one.
        if c.is.is_none() && !c.is_not.is_empty() {
            let rest: Vec<&String> = columns
                .iter()
                .filter_map(|col| match col {
                    Column::Category(f, l) if *f == c.feature && !c.is_not.contains(l) => Some(l),
                    _ => None,
                })
                .collect();
            if let [only] = rest[..] {
                c.is = Some(only.clone());
            }
        }
        // A known category makes "is not" conditions on the same feature redundant.
        if c.is.is_some() {
            c.is_not.clear();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::*;

    /// Segments planted by rules: recent and frequent (0), lapsed (1), recent but rare (2); the
    /// channel decides nothing, except that every lapsed customer bought in store.
    fn planted() -> (DataFrame, Vec<Option<usize>>) {
        let (mut recency, mut frequency, mut channel, mut segments) = (vec![], vec![], vec![], vec![]);
        for i in 0..600u32 {
            let recent = i % 3 != 1;
            let frequent = i % 3 == 0;
            recency.push(f64::from(if recent { 10 + i % 31 } else { 50 + i % 41 }));
            frequency.push(f64::from(if frequent { 6 + i % 4 } else { 1 + i % 3 }));
            channel.push(if recent { ["web", "store"][(i % 2) as usize] } else { "store" });
            segments.push(Some(if !recent {
                1
            } else if frequent {
                0
            } else {
                2
            }));
        }
        let frame = df!("recency_days" => recency, "frequency" => frequency, "channel" => channel).unwrap();
        (frame, segments)
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn planted_rules_are_read_back_with_full_fidelity() {
        let (frame, segments) = planted();
        let features = names(&["recency_days", "frequency", "channel"]);
        let e = explain_segments(&frame, &features, &[], &segments, 3, &ExplainParams::default()).unwrap();
        assert_eq!(e.fidelity, 1.0);
        assert_eq!(e.n, 600);
        assert_eq!(e.fidelity_by_segment, vec![1.0, 1.0, 1.0]);
        let text_of = |s: usize| e.rules.iter().filter(|r| r.segment == s).map(|r| r.text.clone()).collect::<Vec<_>>();
        // Whole-number features read as whole numbers (the splits are at 45 and 4.5).
        assert_eq!(text_of(1), vec!["recency_days at least 45"]);
        assert_eq!(text_of(0), vec!["recency_days at most 44 and frequency at least 5"]);
        assert_eq!(text_of(2), vec!["recency_days at most 44 and frequency at most 4"]);
        let fractional = Condition {
            feature: "spend".into(),
            at_least: Some(2.5),
            below: Some(10.25),
            is: None,
            is_not: vec![],
            whole_numbers: false,
        };
        assert_eq!(fractional.text(), "spend 2.5 to under 10.25");
        let one_value = Condition { at_least: Some(1.5), below: Some(2.5), whole_numbers: true, ..fractional };
        assert_eq!(one_value.text(), "spend 2");
        for r in &e.rules {
            assert_eq!((r.precision, r.coverage), (1.0, 1.0), "{r:?}");
            assert_eq!(r.customers, 200);
        }
        // Depth 1: one split, so one segment has no rule and fidelity drops.
        let shallow = ExplainParams { max_depth: 1, ..ExplainParams::default() };
        let e1 = explain_segments(&frame, &features, &[], &segments, 3, &shallow).unwrap();
        assert!((e1.fidelity - 2.0 / 3.0).abs() < 1e-12, "{}", e1.fidelity);
        assert_eq!(e1.rules.len(), 2);
    }

    #[test]
    fn categories_become_readable_conditions() {
        let (frame, _) = planted();
        // Segment by channel alone.
        let channel: Vec<Option<usize>> = frame
            .column("channel")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|c| Some(usize::from(c == Some("web"))))
            .collect();
        let e =
            explain_segments(&frame, &names(&["channel", "frequency"]), &[], &channel, 2, &ExplainParams::default())
                .unwrap();
        assert_eq!(e.fidelity, 1.0);
        let texts: Vec<&str> = e.rules.iter().map(|r| r.text.as_str()).collect();
        assert!(texts.contains(&"channel is web") && texts.contains(&"channel is store"), "{texts:?}");
        // A numeric column named as categorical is treated as categories.
        let by_frequency: Vec<Option<usize>> = frame
            .column("frequency")
            .unwrap()
            .f64()
            .unwrap()
            .iter()
            .map(|f| Some(usize::from(f == Some(7.0))))
            .collect();
        let e = explain_segments(
            &frame,
            &names(&["frequency"]),
            &names(&["frequency"]),
            &by_frequency,
            2,
            &ExplainParams::default(),
        )
        .unwrap();
        assert!(e.rules.iter().any(|r| r.text == "frequency is 7.0"), "{:?}", e.rules);
    }

    #[test]
    fn inputs_with_nothing_to_tell_apart_are_refused() {
        let (frame, segments) = planted();
        let features = names(&["recency_days"]);
        let one = vec![Some(0); 600];
        assert!(explain_segments(&frame, &features, &[], &one, 1, &ExplainParams::default()).is_err());
        let none = vec![None; 600];
        assert!(explain_segments(&frame, &features, &[], &none, 3, &ExplainParams::default()).is_err());
        assert!(explain_segments(&frame, &[], &[], &segments, 3, &ExplainParams::default()).is_err());
        let deep = ExplainParams { max_depth: 0, ..ExplainParams::default() };
        assert!(explain_segments(&frame, &features, &[], &segments, 3, &deep).is_err());
        let missing = df!("x" => [Some(1.0), None, Some(f64::NAN), Some(2.0)]).unwrap();
        let e = explain_segments(
            &missing,
            &names(&["x"]),
            &[],
            &[Some(0), Some(1), Some(1), Some(1)],
            2,
            &ExplainParams { min_leaf_share: 0.0, ..ExplainParams::default() },
        )
        .unwrap();
        assert_eq!(e.n, 2, "customers with a missing or non-finite value are left out");
        assert!(explain_segments(&frame, &names(&["nope"]), &[], &segments, 3, &ExplainParams::default()).is_err());
    }
}
