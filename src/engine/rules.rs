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

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::engine::data::quality::{numeric_values, quantile_sorted};

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

/// One line of the project's audit log.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// When, RFC 3339 in UTC.
    pub when: String,
    /// Who (the name set in the window, else the login name).
    pub who: String,
    /// What changed, in words.
    pub what: String,
    /// Why, as the user gave it.
    pub why: String,
    /// Customers whose segment the change moved (`None` when it could not be counted: no run yet).
    pub customers: Option<usize>,
}

fn same_name(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// A comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `=` or `is`
    Eq,
    /// `!=` or `is not`
    Ne,
}

impl Op {
    fn symbol(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Eq => "=",
            Op::Ne => "!=",
        }
    }

    fn holds(self, ordering: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            Op::Lt => ordering == Less,
            Op::Le => ordering != Greater,
            Op::Gt => ordering == Greater,
            Op::Ge => ordering != Less,
            Op::Eq => ordering == Equal,
            Op::Ne => ordering != Equal,
        }
    }
}

/// What a column is compared with.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A number.
    Number(f64),
    /// A percentile (0 to 100) of the column over all customers with a value.
    Percentile(f64),
    /// A text.
    Text(String),
}

/// One condition of a rule.
#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    /// `column op value`.
    Compare {
        /// The customer table's column.
        column: String,
        /// The comparison.
        op: Op,
        /// With what.
        value: Value,
    },
    /// `column is missing` (or, negated, `is not missing`).
    Missing {
        /// The column.
        column: String,
        /// `is not missing`.
        negated: bool,
    },
    /// `no segment`: the model left the customer without a segment.
    NoSegment,
}

/// What a rule does to the customers it matches.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Into the segment of this name.
    Segment(String),
    /// Out of segments marked low priority.
    NotLowPriority,
}

/// A parsed rule.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedRule {
    /// All must hold.
    pub conditions: Vec<Condition>,
    /// What happens then.
    pub action: Action,
}

fn quote_if_needed(name: &str) -> String {
    let plain = !name.is_empty()
        && name.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.')
        && !KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(name))
        && name.parse::<f64>().is_err();
    if plain { name.to_string() } else { format!("\"{}\"", name.replace('"', "'")) }
}

/// A percentile's value as shown beside it: two decimals at most, no trailing zeros.
fn short_number(x: f64) -> String {
    let text = format!("{x:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn number_text(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 { format!("{}", x as i64) } else { format!("{x}") }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Number(x) => f.write_str(&number_text(*x)),
            Value::Percentile(p) => write!(f, "p{}", number_text(*p)),
            Value::Text(t) => write!(f, "\"{}\"", t.replace('"', "'")),
        }
    }
}

impl std::fmt::Display for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Condition::Compare { column, op, value } => {
                write!(f, "{} {} {value}", quote_if_needed(column), op.symbol())
            }
            Condition::Missing { column, negated } => {
                write!(f, "{} is {}missing", quote_if_needed(column), if *negated { "not " } else { "" })
            }
            Condition::NoSegment => f.write_str("no segment"),
        }
    }
}

impl std::fmt::Display for ParsedRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let conditions: Vec<String> = self.conditions.iter().map(ToString::to_string).collect();
        write!(f, "when {} then ", conditions.join(" and "))?;
        match &self.action {
            Action::Segment(name) => write!(f, "segment \"{}\"", name.replace('"', "'")),
            Action::NotLowPriority => f.write_str("not low priority"),
        }
    }
}

const KEYWORDS: [&str; 10] = ["when", "and", "then", "segment", "not", "low", "priority", "is", "missing", "no"];

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
    Number(f64),
    Op(Op),
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '"' || c == '\'' {
            let end = chars[i + 1..].iter().position(|&d| d == c).ok_or("a quote is not closed")?;
            tokens.push(Token::Quoted(chars[i + 1..i + 1 + end].iter().collect()));
            i += end + 2;
        } else if "<>=!".contains(c) {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let (op, width) = match two.as_str() {
                "<=" => (Op::Le, 2),
                ">=" => (Op::Ge, 2),
                "!=" | "<>" => (Op::Ne, 2),
                "==" => (Op::Eq, 2),
                _ => match c {
                    '<' => (Op::Lt, 1),
                    '>' => (Op::Gt, 1),
                    '=' => (Op::Eq, 1),
                    _ => return Err("'!' must be followed by '=' (not equal)".into()),
                },
            };
            tokens.push(Token::Op(op));
            i += width;
        } else if c.is_alphanumeric() || c == '_' || c == '.' || c == '-' || c == '+' {
            let end = chars[i..]
                .iter()
                .position(|&d| !(d.is_alphanumeric() || d == '_' || d == '.' || d == '-' || d == '+'))
                .map_or(chars.len(), |p| i + p);
            let word: String = chars[i..end].iter().collect();
            match word.parse::<f64>() {
                Ok(x) if x.is_finite() => tokens.push(Token::Number(x)),
                Ok(_) => return Err(format!("'{word}' is not a finite number")),
                Err(_) => tokens.push(Token::Word(word)),
            }
            i = end;
        } else {
            return Err(format!("'{c}' is not part of a rule"));
        }
    }
    Ok(tokens)
}

fn is_keyword(token: Option<&Token>, keyword: &str) -> bool {
    matches!(token, Some(Token::Word(w)) if w.eq_ignore_ascii_case(keyword))
}

/// Reads a rule; the error says what was expected where.
pub fn parse_rule(text: &str) -> Result<ParsedRule, String> {
    const FORM: &str =
        "write it as: when <column> <op> <value> [and ...] then segment \"<name>\" (or: then not low priority)";
    let tokens = tokenize(text)?;
    let mut pos = 0;
    if !is_keyword(tokens.first(), "when") {
        return Err(format!("a rule starts with 'when'; {FORM}"));
    }
    pos += 1;
    let mut conditions = Vec::new();
    loop {
        if is_keyword(tokens.get(pos), "no") && is_keyword(tokens.get(pos + 1), "segment") {
            conditions.push(Condition::NoSegment);
            pos += 2;
        } else {
            let column = match tokens.get(pos) {
                Some(Token::Word(w)) if !KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(w)) => w.clone(),
                Some(Token::Quoted(q)) => q.clone(),
                _ => return Err(format!("expected a column name after '{}'", word_before(&tokens, pos))),
            };
            pos += 1;
            let op = match tokens.get(pos) {
                Some(Token::Op(op)) => {
                    pos += 1;
                    *op
                }
                Some(Token::Word(w)) if w.eq_ignore_ascii_case("is") => {
                    pos += 1;
                    let negated = is_keyword(tokens.get(pos), "not");
                    if negated {
                        pos += 1;
                    }
                    if is_keyword(tokens.get(pos), "missing") {
                        pos += 1;
                        conditions.push(Condition::Missing { column, negated });
                        if !next_is_and(&tokens, &mut pos) {
                            break;
                        }
                        continue;
                    }
                    if negated { Op::Ne } else { Op::Eq }
                }
                _ => return Err(format!("expected <, <=, >, >=, =, != or 'is' after '{column}'")),
            };
            let value = match tokens.get(pos) {
                Some(Token::Number(x)) => Value::Number(*x),
                Some(Token::Quoted(q)) => Value::Text(q.clone()),
                Some(Token::Word(w)) if is_percentile(w).is_some() => {
                    Value::Percentile(is_percentile(w).unwrap_or(0.0))
                }
                Some(Token::Word(w)) if !KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(w)) => Value::Text(w.clone()),
                _ => return Err(format!("expected a number, a percentile such as p90, or a text after '{column}'")),
            };
            pos += 1;
            conditions.push(Condition::Compare { column, op, value });
        }
        if !next_is_and(&tokens, &mut pos) {
            break;
        }
    }
    if !is_keyword(tokens.get(pos), "then") {
        return Err(format!("expected 'and' or 'then' after '{}'; {FORM}", word_before(&tokens, pos)));
    }
    pos += 1;
    let action = if is_keyword(tokens.get(pos), "segment") {
        let name = match tokens.get(pos + 1) {
            Some(Token::Quoted(q)) if !q.trim().is_empty() => q.trim().to_string(),
            Some(Token::Word(w)) => w.clone(),
            Some(Token::Number(x)) => number_text(*x),
            _ => return Err("expected a segment name after 'segment' (in quotes when it has spaces)".into()),
        };
        pos += 2;
        Action::Segment(name)
    } else if is_keyword(tokens.get(pos), "not")
        && is_keyword(tokens.get(pos + 1), "low")
        && is_keyword(tokens.get(pos + 2), "priority")
    {
        pos += 3;
        Action::NotLowPriority
    } else {
        return Err(format!("after 'then': segment \"<name>\" or not low priority; {FORM}"));
    };
    if pos < tokens.len() {
        return Err(format!("unexpected '{}' after the action", token_text(&tokens[pos])));
    }
    Ok(ParsedRule { conditions, action })
}

fn next_is_and(tokens: &[Token], pos: &mut usize) -> bool {
    if is_keyword(tokens.get(*pos), "and") {
        *pos += 1;
        true
    } else {
        false
    }
}

fn is_percentile(word: &str) -> Option<f64> {
    let rest = word.strip_prefix('p').or_else(|| word.strip_prefix('P'))?;
    rest.parse::<f64>().ok().filter(|p| (0.0..=100.0).contains(p))
}

fn token_text(token: &Token) -> String {
    match token {
        Token::Word(w) => w.clone(),
        Token::Quoted(q) => format!("\"{q}\""),
        Token::Number(x) => number_text(*x),
        Token::Op(op) => op.symbol().to_string(),
    }
}

fn word_before(tokens: &[Token], pos: usize) -> String {
    pos.checked_sub(1).and_then(|p| tokens.get(p)).map_or_else(|| "when".to_string(), token_text)
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
}

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

enum Column_<'a> {
    Numeric(Vec<Option<f64>>),
    Text(Vec<Option<String>>, &'a str),
}

fn column_values<'a>(frame: &DataFrame, name: &'a str) -> Result<Column_<'a>, String> {
    let column = frame.column(name).map_err(|_| {
        format!("the customer table has no column '{name}' (it has {})", crate::engine::data::column_list(frame))
    })?;
    if column.dtype().is_primitive_numeric() || column.dtype().is_bool() {
        Ok(Column_::Numeric(numeric_values(column).map_err(|e| e.to_string())?))
    } else {
        Ok(Column_::Text(crate::engine::data::column_texts(frame, name).map_err(|e| e.to_string())?, name))
    }
}

/// Customers matching a condition, and its text with percentiles resolved.
fn evaluate(condition: &Condition, ctx: &RuleContext<'_>) -> Result<(Vec<bool>, String), String> {
    let n = ctx.customers.height();
    match condition {
        Condition::NoSegment => Ok((ctx.segments.iter().map(Option::is_none).collect(), condition.to_string())),
        Condition::Missing { column, negated } => {
            let missing: Vec<bool> = match column_values(ctx.customers, column)? {
                Column_::Numeric(v) => v.iter().map(|x| !x.is_some_and(f64::is_finite)).collect(),
                Column_::Text(v, _) => v.iter().map(|x| x.as_deref().is_none_or(|t| t.trim().is_empty())).collect(),
            };
            Ok((missing.into_iter().map(|m| m != *negated).collect(), condition.to_string()))
        }
        Condition::Compare { column, op, value } => match (column_values(ctx.customers, column)?, value) {
            (Column_::Numeric(v), Value::Number(_) | Value::Percentile(_)) => {
                let (threshold, text) = match value {
                    Value::Percentile(p) => {
                        let mut sorted: Vec<f64> = v.iter().flatten().copied().filter(|x| x.is_finite()).collect();
                        if sorted.is_empty() {
                            return Err(format!("'{column}' has no values to take a percentile of"));
                        }
                        sorted.sort_by(f64::total_cmp);
                        let t = quantile_sorted(&sorted, p / 100.0);
                        (t, format!("{condition} ({})", short_number(t)))
                    }
                    Value::Number(x) => (*x, condition.to_string()),
                    Value::Text(_) => unreachable!("matched above"),
                };
                let mask =
                    v.iter().map(|x| x.is_some_and(|x| x.is_finite() && op.holds(x.total_cmp(&threshold)))).collect();
                Ok((mask, text))
            }
            (Column_::Numeric(_), Value::Text(t)) => {
                Err(format!("'{column}' holds numbers, so it cannot be compared with the text \"{t}\""))
            }
            (Column_::Text(v, _), Value::Text(t)) => {
                if !matches!(op, Op::Eq | Op::Ne) {
                    return Err(format!("'{column}' holds text: compare it with = or != (or 'is', 'is not')"));
                }
                let mask =
                    v.iter().map(|x| x.as_deref().is_some_and(|x| (x.trim() == t.trim()) == (*op == Op::Eq))).collect();
                Ok((mask, condition.to_string()))
            }
            (Column_::Text(v, name), Value::Number(x)) => {
                // A text column of numbers written as text: compare as numbers where they read.
                let parsed: Vec<Option<f64>> =
                    v.iter().map(|t| t.as_deref().and_then(|t| t.trim().parse().ok())).collect();
                if parsed.iter().all(Option::is_none) && n > 0 {
                    return Err(format!("'{name}' holds text, so it cannot be compared with the number {x}"));
                }
                let mask = parsed.iter().map(|p| p.is_some_and(|p| op.holds(p.total_cmp(x)))).collect();
                Ok((mask, condition.to_string()))
            }
            (Column_::Text(_, name), Value::Percentile(_)) => {
                Err(format!("'{name}' holds text, so it has no percentiles"))
            }
        },
    }
}

/// Applies the rules, then the overrides, to the model's segments. Never fails: a rule or override
/// that cannot be applied changes nothing and says why in its effect.
pub fn apply(rules: &BusinessRules, ctx: &RuleContext<'_>) -> RulesOutcome {
    let n = ctx.customers.height();
    let mut segments = ctx.segments.to_vec();
    let mut changed_by: Vec<Option<String>> = vec![None; n];
    let mut rule_segments: Vec<String> = Vec::new();
    let base = ctx.names.len();
    // A name: a segment of the model's (or the fallback) by its name, else one the rules make.
    let target = |name: &str, rule_segments: &mut Vec<String>| -> usize {
        if let Some(i) = ctx.names.iter().position(|n| same_name(n, name)) {
            return i;
        }
        match rule_segments.iter().position(|n| same_name(n, name)) {
            Some(i) => base + i,
            None => {
                rule_segments.push(name.trim().to_string());
                base + rule_segments.len() - 1
            }
        }
    };
    let mut effects = Vec::with_capacity(rules.rules.len());
    for (r, rule) in rules.rules.iter().enumerate() {
        let parsed = match parse_rule(&rule.text) {
            Ok(p) => p,
            Err(e) => {
                effects.push(RuleEffect { error: Some(e), resolved: rule.text.clone(), ..Default::default() });
                continue;
            }
        };
        let mut mask = vec![true; n];
        let mut texts = Vec::new();
        let mut error = None;
        for condition in &parsed.conditions {
            match evaluate(condition, ctx) {
                Ok((m, text)) => {
                    for (a, b) in mask.iter_mut().zip(m) {
                        *a &= b;
                    }
                    texts.push(text);
                }
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
        }
        let resolved = format!(
            "when {} then {}",
            texts.join(" and "),
            parsed.to_string().split_once(" then ").map_or("", |(_, a)| a)
        );
        if let Some(error) = error {
            effects.push(RuleEffect { error: Some(error), resolved: rule.text.clone(), ..Default::default() });
            continue;
        }
        let matched = mask.iter().filter(|&&m| m).count();
        let mut changed = 0;
        let label = format!("rule {}", r + 1);
        match &parsed.action {
            Action::Segment(name) => {
                let s = target(name, &mut rule_segments);
                for (i, _) in mask.iter().enumerate().filter(|(_, m)| **m) {
                    if segments[i] != Some(s) {
                        segments[i] = Some(s);
                        changed_by[i] = Some(label.clone());
                        changed += 1;
                    }
                }
            }
            Action::NotLowPriority => {
                let allowed: Vec<bool> =
                    (0..ctx.n_fitted).map(|s| !ctx.low_priority.get(s).copied().unwrap_or(false)).collect();
                let mut stuck = 0;
                if !allowed.iter().any(|&a| a) && ctx.low_priority.iter().any(|&l| l) {
                    effects.push(RuleEffect {
                        matched,
                        error: Some(
                            "every segment of the model is marked low priority, so there is nowhere to move customers"
                                .into(),
                        ),
                        resolved,
                        ..Default::default()
                    });
                    continue;
                }
                for (i, _) in mask.iter().enumerate().filter(|(_, m)| **m) {
                    let Some(current) = segments[i] else { continue };
                    if !ctx.low_priority.get(current).copied().unwrap_or(false) {
                        continue;
                    }
                    match (ctx.nearest)(i).and_then(|order| order.into_iter().find(|&s| allowed[s])) {
                        Some(s) => {
                            segments[i] = Some(s);
                            changed_by[i] = Some(label.clone());
                            changed += 1;
                        }
                        None => stuck += 1,
                    }
                }
                if stuck > 0 {
                    effects.push(RuleEffect {
                        matched,
                        changed,
                        resolved,
                        error: Some(format!(
                            "{stuck} customers in a low-priority segment have no place in the model's space (no features), so they stayed"
                        )),
                    });
                    continue;
                }
            }
        }
        effects.push(RuleEffect { matched, changed, resolved, error: None });
    }

    // Overrides: by id, else by row number from 1.
    let ids: Option<Vec<Option<String>>> = ctx.id_column.and_then(|id| {
        let column = ctx.customers.column(id).ok()?.cast(&DataType::String).ok()?;
        Some(column.str().ok()?.iter().map(|v| v.map(|t| t.trim().to_string())).collect())
    });
    let position: std::collections::HashMap<&str, usize> = ids
        .as_ref()
        .map(|ids| ids.iter().enumerate().filter_map(|(i, id)| id.as_deref().map(|id| (id, i))).collect())
        .unwrap_or_default();
    let mut override_effects = Vec::with_capacity(rules.overrides.len());
    for o in &rules.overrides {
        let key = o.customer.trim();
        let row = match &ids {
            Some(_) => position.get(key).copied(),
            None => key.parse::<usize>().ok().filter(|&r| (1..=n).contains(&r)).map(|r| r - 1),
        };
        let Some(row) = row else {
            let error = match ctx.id_column {
                Some(id) if ids.is_some() => format!("no customer has {id} '{key}'"),
                _ => format!("'{key}' is not a row number from 1 to {n} (the table has no id column)"),
            };
            override_effects.push(OverrideEffect { changed: false, error: Some(error) });
            continue;
        };
        if o.segment.trim().is_empty() {
            override_effects.push(OverrideEffect { changed: false, error: Some("no segment named".into()) });
            continue;
        }
        let s = target(&o.segment, &mut rule_segments);
        let changed = segments[row] != Some(s);
        segments[row] = Some(s);
        if changed {
            changed_by[row] = Some("override".to_string());
        }
        override_effects.push(OverrideEffect { changed, error: None });
    }

    // Segments the rules made that ended with nobody are not kept, so every segment has customers.
    let mut count = vec![0usize; rule_segments.len()];
    for s in segments.iter().flatten() {
        if *s >= base {
            count[*s - base] += 1;
        }
    }
    let mut renumber = vec![None; rule_segments.len()];
    let mut kept_names = Vec::new();
    for (i, name) in rule_segments.iter().enumerate() {
        if count[i] > 0 {
            renumber[i] = Some(base + kept_names.len());
            kept_names.push(name.clone());
        }
    }
    for s in segments.iter_mut().flatten() {
        if *s >= base {
            *s = renumber[*s - base].unwrap_or(*s);
        }
    }
    let mut warnings = Vec::new();
    for (i, e) in effects.iter().enumerate() {
        if let Some(error) = &e.error {
            warnings.push(format!("rule {} ({}): {error}", i + 1, rules.rules[i].text));
        }
    }
    for (i, e) in override_effects.iter().enumerate() {
        if let Some(error) = &e.error {
            warnings.push(format!("override {} (customer {}): {error}", i + 1, rules.overrides[i].customer));
        }
    }
    let n_segments = base + kept_names.len();
    let (mut moved_in, mut moved_out) = (vec![0; n_segments], vec![0; n_segments]);
    for (now, before) in segments.iter().zip(ctx.segments) {
        if now != before {
            if let Some(s) = now {
                moved_in[*s] += 1;
            }
            if let Some(s) = before.filter(|&s| s < n_segments) {
                moved_out[s] += 1;
            }
        }
    }
    RulesOutcome {
        n_without_segment: segments.iter().filter(|s| s.is_none()).count(),
        moved_in,
        moved_out,
        segments,
        model_segments: ctx.segments.to_vec(),
        rule_segments: kept_names,
        rules: effects,
        overrides: override_effects,
        changed_by,
        warnings,
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
