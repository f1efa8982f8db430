//! Placement hints: readable rules that suggest a quadrant for a segment from its evidence,
//! `when revenue_share >= 30% and stable then strength`. A hint is a suggestion shown beside a
//! card; it never moves one.
//!
//! The language: `when CONDITION [and CONDITION]... then QUADRANT`, where a condition is a measure
//! compared with a number (`revenue_share >= 30%`, `revenue_index < 0.5`, `customer_share >= 0.2`,
//! `stability >= 0.8`, `trend <= -10%`) or a word (`stable`: stability at least 0.75, `unstable`,
//! `growing`: share up 10% or more over the windows, `shrinking`: down 10% or more), and the
//! quadrant is strength, weakness, opportunity or threat.

use super::Quadrant;
use super::evidence::SegmentEvidence;

/// The rules a new board starts with (the facilitator can edit or switch them off).
pub const DEFAULT_RULES: [&str; 4] = [
    "when revenue_share >= 30% and stable then strength",
    "when revenue_index >= 1.5 and shrinking then threat",
    "when customer_share >= 20% and revenue_index < 0.5 then weakness",
    "when growing and revenue_index >= 1 then opportunity",
];

/// A measure of a segment's evidence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measure {
    /// Share of the customers (0..1).
    CustomerShare,
    /// Share of the revenue (0..1).
    RevenueShare,
    /// Revenue per customer against everyone's (1: average).
    RevenueIndex,
    /// Bootstrap stability, mean Jaccard (0..1).
    Stability,
    /// Relative change of its share over the windows (0.1: up a tenth).
    Trend,
    /// Share of the customers' value from the value model (0..1).
    ValueShare,
}

impl Measure {
    const NAMES: [(&'static str, Measure); 6] = [
        ("customer_share", Measure::CustomerShare),
        ("revenue_share", Measure::RevenueShare),
        ("revenue_index", Measure::RevenueIndex),
        ("stability", Measure::Stability),
        ("trend", Measure::Trend),
        ("value_share", Measure::ValueShare),
    ];

    /// Its name in rules.
    pub fn name(self) -> &'static str {
        Self::NAMES.iter().find(|(_, m)| *m == self).map_or("?", |(n, _)| n)
    }

    /// Its value for a segment, `None` when the evidence lacks it.
    pub fn of(self, e: &SegmentEvidence) -> Option<f64> {
        match self {
            Measure::CustomerShare => e.share,
            Measure::RevenueShare => e.revenue_share,
            Measure::RevenueIndex => e.revenue_index,
            Measure::Stability => e.stability,
            Measure::Trend => e.trend.as_ref().and_then(|t| t.change).filter(|c| c.is_finite()),
            Measure::ValueShare => e.value_share,
        }
    }

    /// What it needs when missing, in words.
    fn needs(self) -> &'static str {
        match self {
            Measure::CustomerShare => "sizes",
            Measure::RevenueShare | Measure::RevenueIndex => "a revenue column",
            Measure::Stability => "\"Check stability\" on the Model screen",
            Measure::Trend => "the Over time screen's windows",
            Measure::ValueShare => "the value model (a transaction log's Value screen)",
        }
    }

    /// Whether it is a share or change best written as a percentage.
    fn is_percent(self) -> bool {
        !matches!(self, Measure::RevenueIndex | Measure::Stability)
    }
}

/// A comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `<`
    Less,
    /// `<=`
    AtMost,
    /// `>`
    Greater,
    /// `>=`
    AtLeast,
}

impl Op {
    fn holds(self, a: f64, b: f64) -> bool {
        match self {
            Op::Less => a < b,
            Op::AtMost => a <= b,
            Op::Greater => a > b,
            Op::AtLeast => a >= b,
        }
    }

    fn symbol(self) -> &'static str {
        match self {
            Op::Less => "<",
            Op::AtMost => "<=",
            Op::Greater => ">",
            Op::AtLeast => ">=",
        }
    }
}

/// One condition of a rule.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Condition {
    /// What is compared.
    pub measure: Measure,
    /// How.
    pub op: Op,
    /// With what (shares as fractions: 30% is 0.3).
    pub value: f64,
}

/// A parsed hint rule.
#[derive(Clone, Debug, PartialEq)]
pub struct HintRule {
    /// Every condition must hold.
    pub conditions: Vec<Condition>,
    /// The quadrant it suggests.
    pub quadrant: Quadrant,
}

/// The words a condition may be, and what each means.
const WORDS: [(&str, Condition); 4] = [
    ("stable", Condition { measure: Measure::Stability, op: Op::AtLeast, value: 0.75 }),
    ("unstable", Condition { measure: Measure::Stability, op: Op::Less, value: 0.75 }),
    ("growing", Condition { measure: Measure::Trend, op: Op::AtLeast, value: 0.1 }),
    ("shrinking", Condition { measure: Measure::Trend, op: Op::AtMost, value: -0.1 }),
];

/// Parses a rule; the error says what was expected and where.
pub fn parse(text: &str) -> Result<HintRule, String> {
    let lower = text.trim().to_ascii_lowercase();
    let body = lower.strip_prefix("when ").ok_or_else(|| {
        "a hint starts with \"when\", e.g. when revenue_share >= 30% and stable then strength".to_string()
    })?;
    let (conditions, quadrant) = body.rsplit_once(" then ").ok_or_else(|| {
        "a hint ends with \"then\" and a quadrant (strength, weakness, opportunity, threat)".to_string()
    })?;
    let quadrant = Quadrant::parse(quadrant).ok_or_else(|| {
        format!("\"{}\" is not a quadrant; write strength, weakness, opportunity or threat", quadrant.trim())
    })?;
    let conditions = conditions.split(" and ").map(parse_condition).collect::<Result<Vec<_>, _>>()?;
    Ok(HintRule { conditions, quadrant })
}

fn parse_condition(text: &str) -> Result<Condition, String> {
    let text = text.trim();
    if let Some((_, c)) = WORDS.iter().find(|(w, _)| *w == text) {
        return Ok(*c);
    }
    let ops = [(">=", Op::AtLeast), ("<=", Op::AtMost), (">", Op::Greater), ("<", Op::Less)];
    let Some((at, symbol, op)) = ops.iter().find_map(|(s, op)| text.find(s).map(|i| (i, *s, *op))) else {
        let words: Vec<&str> = WORDS.iter().map(|(w, _)| *w).collect();
        return Err(format!(
            "\"{text}\" is not a condition; compare a measure ({}) with a number, or use one of {}",
            Measure::NAMES.map(|(n, _)| n).join(", "),
            words.join(", ")
        ));
    };
    let name = text[..at].trim();
    let measure = Measure::NAMES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, m)| *m)
        .ok_or_else(|| format!("\"{name}\" is not a measure; use {}", Measure::NAMES.map(|(n, _)| n).join(", ")))?;
    let number = text[at + symbol.len()..].trim();
    let (digits, scale) = match number.strip_suffix('%') {
        Some(d) => (d.trim(), 0.01),
        None => (number, 1.0),
    };
    let value = digits
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| format!("\"{number}\" is not a number (write 0.3 or 30%)"))?;
    Ok(Condition { measure, op, value: value * scale })
}

/// A hint for a segment: the quadrant, the rule (as written) and why it holds, in words.
#[derive(Clone, Debug, PartialEq)]
pub struct Hint {
    /// The suggested quadrant.
    pub quadrant: Quadrant,
    /// The rule as written.
    pub rule: String,
    /// Why it holds ("revenue share 38% >= 30%; stability 0.91 >= 0.75").
    pub because: String,
}

/// What the rules say about one segment: the hints that hold, and rules that could not be judged
/// for want of evidence (rule and what it needs).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Hints {
    /// Rules that hold.
    pub hints: Vec<Hint>,
    /// Rules that could not be judged, with what they need.
    pub unjudged: Vec<(String, String)>,
}

/// The hints of `rules` (as written) for `evidence`; rules that do not parse are skipped here
/// (the editor shows their errors, see [`parse`]). A segment of fewer customers than the
/// small-cell threshold gets none: its figures are not shown.
pub fn hints_for(rules: &[String], evidence: &SegmentEvidence) -> Hints {
    let mut out = Hints::default();
    if evidence.is_small() {
        return out;
    }
    for text in rules {
        let Ok(rule) = parse(text) else { continue };
        let mut because = Vec::new();
        let mut holds = true;
        let mut missing = None;
        for c in &rule.conditions {
            match c.measure.of(evidence) {
                None => {
                    missing = Some(c.measure.needs());
                    holds = false;
                    break;
                }
                Some(v) if c.op.holds(v, c.value) => because.push(format!(
                    "{} {} {} {}",
                    c.measure.name().replace('_', " "),
                    show(c.measure, v),
                    c.op.symbol(),
                    show(c.measure, c.value)
                )),
                Some(_) => {
                    holds = false;
                    break;
                }
            }
        }
        if let Some(needs) = missing {
            out.unjudged.push((text.clone(), needs.to_string()));
        } else if holds {
            out.hints.push(Hint { quadrant: rule.quadrant, rule: text.clone(), because: because.join("; ") });
        }
    }
    out
}

fn show(measure: Measure, v: f64) -> String {
    if measure.is_percent() { format!("{:.0}%", v * 100.0) } else { format!("{v:.2}") }
}

#[cfg(test)]
mod tests {
    use super::super::evidence::Trend;
    use super::*;

    fn evidence() -> SegmentEvidence {
        SegmentEvidence {
            segment: 0,
            name: "Loyal".into(),
            size: 4000,
            size_shown: crate::engine::governance::suppress::Cell::Count(4000),
            threshold: 10,
            share: Some(0.17),
            revenue_share: Some(0.38),
            revenue_index: Some(2.2),
            value_per_customer: None,
            value_band: None,
            total_value: None,
            value_share: None,
            stability: Some(0.91),
            trend: None,
            words: String::new(),
        }
    }

    #[test]
    fn the_default_rules_parse_and_a_valuable_stable_segment_is_a_strength_candidate() {
        for rule in DEFAULT_RULES {
            parse(rule).unwrap();
        }
        let rules: Vec<String> = DEFAULT_RULES.iter().map(|r| r.to_string()).collect();
        let hints = hints_for(&rules, &evidence());
        assert_eq!(hints.hints.len(), 1, "{hints:?}");
        assert_eq!(hints.hints[0].quadrant, Quadrant::Strengths);
        assert_eq!(hints.hints[0].because, "revenue share 38% >= 30%; stability 0.91 >= 0.75");
        // The threat and opportunity rules need windows: said, not guessed.
        assert_eq!(hints.unjudged.len(), 2, "{hints:?}");
        assert!(hints.unjudged.iter().all(|(_, needs)| needs.contains("Over time")));
    }

    #[test]
    fn every_default_rule_names_the_quadrant_it_means() {
        let quadrants: Vec<Quadrant> = DEFAULT_RULES.iter().map(|r| parse(r).unwrap().quadrant).collect();
        assert_eq!(quadrants, [Quadrant::Strengths, Quadrant::Threats, Quadrant::Weaknesses, Quadrant::Opportunities]);
        // Many customers, little revenue: a weakness candidate without any windows or stability.
        let mut e = evidence();
        e.share = Some(0.38);
        e.revenue_share = Some(0.063);
        e.revenue_index = Some(0.17);
        let rules: Vec<String> = DEFAULT_RULES.iter().map(|r| r.to_string()).collect();
        let hints = hints_for(&rules, &e);
        assert_eq!(hints.hints.iter().map(|h| h.quadrant).collect::<Vec<_>>(), vec![Quadrant::Weaknesses]);
        assert_eq!(hints.hints[0].because, "customer share 38% >= 20%; revenue index 0.17 < 0.50");
    }

    #[test]
    fn a_high_value_segment_shrinking_over_the_windows_is_a_threat_candidate() {
        let mut e = evidence();
        use crate::engine::governance::suppress::Cell;
        e.trend = Some(Trend {
            shares: vec![Some(0.2), Some(0.15)],
            sizes: vec![Cell::Count(900), Cell::Count(700)],
            change: Some(-0.25),
        });
        e.stability = Some(0.6);
        let rules: Vec<String> = DEFAULT_RULES.iter().map(|r| r.to_string()).collect();
        let hints = hints_for(&rules, &e);
        assert_eq!(hints.hints.iter().map(|h| h.quadrant).collect::<Vec<_>>(), vec![Quadrant::Threats]);
        // A small segment gets no hint at all.
        e.size = 9;
        assert_eq!(hints_for(&rules, &e), Hints::default());
    }

    #[test]
    fn a_rule_on_the_value_share_waits_for_the_value_model_then_judges_it() {
        let rules = vec!["when value_share >= 25% and stable then strength".to_string()];
        let mut e = evidence();
        let hints = hints_for(&rules, &e);
        assert!(hints.hints.is_empty());
        assert_eq!(hints.unjudged.len(), 1);
        assert!(hints.unjudged[0].1.contains("value model"), "{hints:?}");
        e.value_share = Some(0.31);
        let hints = hints_for(&rules, &e);
        assert_eq!(hints.hints.len(), 1, "{hints:?}");
        assert_eq!(hints.hints[0].because, "value share 31% >= 25%; stability 0.91 >= 0.75");
        e.value_share = Some(0.2);
        assert!(hints_for(&rules, &e).hints.is_empty());
    }

    #[test]
    fn bad_rules_are_refused_in_one_line_that_says_what_to_write() {
        assert!(parse("revenue_share > 1 then strength").unwrap_err().starts_with("a hint starts with"));
        assert!(parse("when revenue_share > 1").unwrap_err().contains("then"));
        assert!(parse("when revenue_share > 1 then glory").unwrap_err().contains("\"glory\" is not a quadrant"));
        assert!(parse("when profit > 1 then strength").unwrap_err().contains("\"profit\" is not a measure"));
        assert!(parse("when trend > lots then threat").unwrap_err().contains("\"lots\" is not a number"));
        assert!(parse("when trend > NaN then threat").is_err());
        assert!(parse("when shiny then threat").unwrap_err().contains("not a condition"));
        let rule = parse("WHEN Trend <= -10% and stable THEN T").unwrap();
        assert_eq!(rule.quadrant, Quadrant::Threats);
        assert_eq!(rule.conditions[0], Condition { measure: Measure::Trend, op: Op::AtMost, value: -0.1 });
    }
}
