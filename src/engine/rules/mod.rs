//! Business rules and manual overrides, applied after the model has segmented the customers.
//!
//! A rule is one readable line, stored as typed in the project:
//!
//! ```text
//! when frequency < 2 then segment "Too new to tell"
//! when monetary_total > p90 then not low priority
//! when no segment then segment "Insufficient data"
//! when channel is "web" and recency_days >= 365 then segment "Lapsed online"
//! ```
//!
//! Conditions compare a column of the customer table with a number, a percentile of that column
//! over all customers (`p90`, linear interpolation as numpy's default), or a text; `is missing` and
//! `is not missing` test for a value; `no segment` holds for customers the model left without one.
//! Conditions are joined with `and`; a missing value fails every comparison.
//!
//! Actions: `segment "NAME"` puts the customers in the segment of that name (a segment of the model
//! or the fallback segment when one has that name, otherwise a segment the rules make, numbered
//! after the model's); `not low priority` moves customers out of segments marked low priority to
//! the nearest segment that is not (by distance to the segments' means in the model's space).
//!
//! Rules apply in order, each to the segments the rules before it left, so a later rule can move a
//! customer an earlier one placed. Overrides (one customer, a segment, a reason) come last.

// Parsing and applying share the imports below through `use super::*`.
mod apply;
mod parse;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::engine::data::quality::{numeric_values, quantile_sorted};

pub use apply::*;
pub use parse::*;

/// A rule as stored: its text and why it exists.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessRule {
    /// The rule, in the form the module documents.
    pub text: String,
    /// Why it exists.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub why: String,
}

/// One customer put in a segment by hand.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Override {
    /// The customer's id (the row number, from 1, when the table has no id column).
    pub customer: String,
    /// The segment's name.
    pub segment: String,
    /// Why.
    pub why: String,
}

/// The rules and overrides of a project.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessRules {
    /// Applied in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<BusinessRule>,
    /// Applied after the rules, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<Override>,
}

impl BusinessRules {
    /// Whether there is nothing to apply.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty() && self.overrides.is_empty()
    }

    /// A segment was renamed: rules and overrides that name it follow. Returns how many changed.
    pub fn rename_segment(&mut self, old: &str, new: &str) -> usize {
        let mut changed = 0;
        for rule in &mut self.rules {
            if let Ok(mut parsed) = parse_rule(&rule.text)
                && let Action::Segment(name) = &parsed.action
                && same_name(name, old)
            {
                parsed.action = Action::Segment(new.to_string());
                rule.text = parsed.to_string();
                changed += 1;
            }
        }
        for o in &mut self.overrides {
            if same_name(&o.segment, old) {
                o.segment = new.to_string();
                changed += 1;
            }
        }
        changed
    }
}

pub(crate) fn same_name(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// What the segments are before the rules: names to match `segment "NAME"` against, which are
/// marked low priority, and where each customer sits in the model's space.
pub struct RuleContext<'a> {
    /// The customer table.
    pub customers: &'a DataFrame,
    /// Its id column, for overrides (else overrides name row numbers from 1).
    pub id_column: Option<&'a str>,
    /// The model's segment per customer row.
    pub segments: &'a [Option<usize>],
    /// Names of the model's segments and the fallback segment, by number.
    pub names: Vec<String>,
    /// Which of them are marked low priority.
    pub low_priority: Vec<bool>,
    /// Segments a customer can be moved to by distance (the fitted ones: `0..n_fitted`).
    pub n_fitted: usize,
    /// Per customer row, the fitted segments from nearest to farthest (`None`: not in the model's
    /// space, such as a customer in the fallback segment).
    pub nearest: &'a (dyn Fn(usize) -> Option<Vec<usize>> + Sync),
    /// The customers percentiles are taken over (`p90`): the fitted population when new customers
    /// are scored, so a rule means what it meant when it was written; `None`: `customers`.
    pub reference: Option<&'a DataFrame>,
    /// The reference's finite values sorted, by column, where a caller that applies the rules to
    /// many batches has sorted them once (`strata serve`); other columns are sorted when needed.
    pub reference_sorted: Option<&'a SortedColumns>,
}

/// Finite values of some columns, sorted, by column name: what a percentile is taken over.
pub type SortedColumns = std::collections::HashMap<String, Vec<f64>>;

/// What one rule did.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RuleEffect {
    /// Customers matching its conditions.
    pub matched: usize,
    /// Customers whose segment it changed.
    pub changed: usize,
    /// The rule with each percentile's value ("monetary_total > p90 (245.3)").
    pub resolved: String,
    /// Why it could not be applied (a parse error, an unknown column).
    pub error: Option<String>,
}

/// What one override did.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OverrideEffect {
    /// Whether it changed the customer's segment (false: already there).
    pub changed: bool,
    /// Why it could not be applied (no such customer).
    pub error: Option<String>,
}

/// The rules and overrides applied.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RulesOutcome {
    /// Segment per customer row after the rules and overrides.
    pub segments: Vec<Option<usize>>,
    /// The model's segment per customer row, before them.
    pub model_segments: Vec<Option<usize>>,
    /// Names of the segments the rules made, numbered from `names.len()` of the context.
    pub rule_segments: Vec<String>,
    /// Per rule.
    pub rules: Vec<RuleEffect>,
    /// Per override.
    pub overrides: Vec<OverrideEffect>,
    /// Per customer row, what last changed its segment: `rule N` (from 1) or `override`.
    pub changed_by: Vec<Option<String>>,
    /// Customers still without a segment.
    pub n_without_segment: usize,
    /// Per segment, customers the rules and overrides moved into it.
    pub moved_in: Vec<usize>,
    /// Per segment, customers they moved out of it.
    pub moved_out: Vec<usize>,
    /// Sentences for the user.
    pub warnings: Vec<String>,
}

impl RulesOutcome {
    /// Customers whose segment differs from the model's.
    pub fn n_changed(&self) -> usize {
        self.segments.iter().zip(&self.model_segments).filter(|(a, b)| a != b).count()
    }
}

/// Customers whose segment differs between two outcomes, segments compared by name (rule
/// segments are renumbered as rules change): how many customers a change of the rules moved.
pub fn customers_moved(before: &[Option<String>], after: &[Option<String>]) -> usize {
    before.iter().zip(after).filter(|(a, b)| a != b).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> DataFrame {
        df!(
            "id" => ["a", "b", "c", "d", "e", "f"],
            "frequency" => [Some(1.0), Some(5.0), Some(2.0), None, Some(8.0), Some(3.0)],
            "monetary_total" => [10.0, 500.0, 40.0, 0.0, 900.0, 60.0],
            "channel" => ["web", "store", "web", "web", "store", "store"],
        )
        .unwrap()
    }

    fn no_space(_: usize) -> Option<Vec<usize>> {
        None
    }

    fn ctx<'a>(
        frame: &'a DataFrame,
        segments: &'a [Option<usize>],
        nearest: &'a (dyn Fn(usize) -> Option<Vec<usize>> + Sync),
    ) -> RuleContext<'a> {
        RuleContext {
            customers: frame,
            id_column: Some("id"),
            segments,
            names: vec!["Loyal".into(), "Bargain".into(), "Segment 3".into()],
            low_priority: vec![false, true, false],
            n_fitted: 3,
            nearest,
            reference: None,
            reference_sorted: None,
        }
    }

    #[test]
    fn rules_read_back_as_written_and_bad_ones_say_where() {
        let rule = parse_rule("WHEN frequency < 2 and channel is 'web' then segment \"Too new to tell\"").unwrap();
        assert_eq!(rule.to_string(), "when frequency < 2 and channel = \"web\" then segment \"Too new to tell\"");
        assert_eq!(parse_rule(&rule.to_string()).unwrap(), rule);
        let rule = parse_rule("when monetary_total >= p90 then not low priority").unwrap();
        assert_eq!(
            rule.conditions,
            vec![Condition::Compare { column: "monetary_total".into(), op: Op::Ge, value: Value::Percentile(90.0) }]
        );
        assert_eq!(rule.action, Action::NotLowPriority);
        let rule = parse_rule("when no segment and \"last channel\" is not missing then segment Other").unwrap();
        assert_eq!(rule.to_string(), "when no segment and \"last channel\" is not missing then segment \"Other\"");
        for (text, says) in [
            ("frequency < 2 then segment x", "starts with 'when'"),
            ("when frequency 2 then segment x", "expected <, <="),
            ("when frequency < then segment x", "expected a number"),
            ("when frequency < 2 segment x", "expected 'and' or 'then' after '2'"),
            ("when frequency < 2 then", "after 'then'"),
            ("when frequency < 2 then segment \"x", "quote is not closed"),
            ("when frequency < 2 then segment x extra", "unexpected 'extra'"),
            ("when frequency < 2 ; then segment x", "';' is not part"),
            ("when frequency < inf then segment x", "not a finite number"),
        ] {
            let error = parse_rule(text).unwrap_err();
            assert!(error.contains(says), "{text}: {error}");
        }
    }

    #[test]
    fn rules_apply_in_order_and_overrides_last() {
        let frame = table();
        let model = [Some(1), Some(0), Some(1), None, Some(1), Some(2)];
        // Customer e (row 4) is nearest to segment 1 (low priority), then 2, then 0.
        let nearest = |i: usize| (i == 4).then(|| vec![1, 2, 0]);
        let rules = BusinessRules {
            rules: vec![
                BusinessRule {
                    text: "when frequency < 2 then segment \"Too new to tell\"".into(),
                    why: "one order".into(),
                },
                BusinessRule { text: "when no segment then segment \"Insufficient data\"".into(), why: String::new() },
                BusinessRule { text: "when monetary_total > p50 then not low priority".into(), why: String::new() },
                BusinessRule {
                    text: "when channel = store and frequency >= 100 then segment Nobody".into(),
                    why: String::new(),
                },
                BusinessRule { text: "when spend > 3 then segment x".into(), why: String::new() },
            ],
            overrides: vec![
                Override { customer: "c".into(), segment: "loyal".into(), why: "key account".into() },
                Override { customer: "zz".into(), segment: "Loyal".into(), why: String::new() },
                Override { customer: "f".into(), segment: "Watch list".into(), why: "complaint".into() },
            ],
        };
        let out = apply(&rules, &ctx(&frame, &model, &nearest));
        // a: frequency 1 -> rule segment 3 ("Too new to tell"); d: no segment -> "Insufficient data";
        // e: spend 900 > median 50 in low-priority segment 1 -> nearest allowed, 2;
        // c: override to Loyal (0); f: override to a new segment "Watch list".
        assert_eq!(out.segments, vec![Some(3), Some(0), Some(0), Some(4), Some(2), Some(5)]);
        assert_eq!(out.rule_segments, vec!["Too new to tell", "Insufficient data", "Watch list"]);
        assert_eq!(out.rules[0].matched, 1);
        assert_eq!(out.rules[2].resolved, "when monetary_total > p50 (50) then not low priority");
        assert_eq!((out.rules[2].matched, out.rules[2].changed), (3, 1));
        assert_eq!(out.rules[3].changed, 0, "nobody matches, and its segment is not kept");
        assert!(out.rules[4].error.as_ref().unwrap().contains("no column 'spend'"));
        assert_eq!(out.overrides[0], OverrideEffect { changed: true, error: None });
        assert!(out.overrides[1].error.as_ref().unwrap().contains("no customer has id 'zz'"));
        assert_eq!(out.changed_by[4].as_deref(), Some("rule 3"));
        assert_eq!(out.changed_by[2].as_deref(), Some("override"));
        assert_eq!(out.n_changed(), 5);
        assert_eq!(out.moved_in, vec![1, 0, 1, 1, 1, 1]);
        assert_eq!(out.n_without_segment, 0, "d had none and got one");
        assert_eq!(out.moved_out, vec![0, 3, 1, 0, 0, 0]);
        assert_eq!(out.warnings.len(), 2);
    }

    #[test]
    fn moving_out_of_low_priority_needs_a_place_and_somewhere_to_go() {
        let frame = table();
        let model = [Some(1); 6];
        let rules = BusinessRules {
            rules: vec![BusinessRule {
                text: "when monetary_total > 100 then not low priority".into(),
                why: String::new(),
            }],
            overrides: Vec::new(),
        };
        let out = apply(&rules, &ctx(&frame, &model, &no_space));
        assert_eq!(out.segments, model.to_vec());
        assert!(out.rules[0].error.as_ref().unwrap().contains("2 customers"));
        let mut all_low = ctx(&frame, &model, &no_space);
        all_low.low_priority = vec![true; 3];
        let out = apply(&rules, &all_low);
        assert!(out.rules[0].error.as_ref().unwrap().contains("every segment"));
    }

    #[test]
    fn text_and_number_columns_are_compared_only_as_they_can_be() {
        let frame = table();
        let model = [Some(0); 6];
        for (text, says) in [
            ("when channel > 3 then segment x", "holds text"),
            ("when channel < \"web\" then segment x", "compare it with ="),
            ("when frequency = web then segment x", "holds numbers"),
            ("when channel > p10 then segment x", "no percentiles"),
        ] {
            let rules = BusinessRules {
                rules: vec![BusinessRule { text: text.into(), why: String::new() }],
                overrides: vec![],
            };
            let out = apply(&rules, &ctx(&frame, &model, &no_space));
            assert!(out.rules[0].error.as_ref().unwrap().contains(says), "{text}: {:?}", out.rules[0].error);
            assert_eq!(out.segments, model.to_vec());
        }
    }

    #[test]
    fn renaming_a_segment_carries_rules_and_overrides_along() {
        let mut rules = BusinessRules {
            rules: vec![
                BusinessRule { text: "when frequency<2 then segment 'Too new'".into(), why: "w".into() },
                BusinessRule { text: "when frequency>2 then segment Other".into(), why: String::new() },
            ],
            overrides: vec![Override { customer: "a".into(), segment: "too new".into(), why: String::new() }],
        };
        assert_eq!(rules.rename_segment("Too New", "Newcomers"), 2);
        assert_eq!(rules.rules[0].text, "when frequency < 2 then segment \"Newcomers\"");
        assert_eq!(rules.rules[1].text, "when frequency>2 then segment Other");
        assert_eq!(rules.overrides[0].segment, "Newcomers");
    }
}
