//! The rule language: its values, conditions and actions, how a rule is read from its text and
//! written back.

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
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Eq => "=",
            Op::Ne => "!=",
        }
    }

    pub(crate) fn holds(self, ordering: std::cmp::Ordering) -> bool {
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

pub(crate) fn quote_if_needed(name: &str) -> String {
    let plain = !name.is_empty()
        && name.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.')
        && !KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(name))
        && name.parse::<f64>().is_err();
    if plain { name.to_string() } else { format!("\"{}\"", name.replace('"', "'")) }
}

/// A percentile's value as shown beside it: two decimals at most, no trailing zeros.
pub(crate) fn short_number(x: f64) -> String {
    let text = format!("{x:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

pub(crate) fn number_text(x: f64) -> String {
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

pub(crate) const KEYWORDS: [&str; 10] =
    ["when", "and", "then", "segment", "not", "low", "priority", "is", "missing", "no"];

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Token {
    Word(String),
    Quoted(String),
    Number(f64),
    Op(Op),
}

pub(crate) fn tokenize(text: &str) -> Result<Vec<Token>, String> {
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

pub(crate) fn is_keyword(token: Option<&Token>, keyword: &str) -> bool {
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

pub(crate) fn next_is_and(tokens: &[Token], pos: &mut usize) -> bool {
    if is_keyword(tokens.get(*pos), "and") {
        *pos += 1;
        true
    } else {
        false
    }
}

pub(crate) fn is_percentile(word: &str) -> Option<f64> {
    let rest = word.strip_prefix('p').or_else(|| word.strip_prefix('P'))?;
    rest.parse::<f64>().ok().filter(|p| (0.0..=100.0).contains(p))
}

pub(crate) fn token_text(token: &Token) -> String {
    match token {
        Token::Word(w) => w.clone(),
        Token::Quoted(q) => format!("\"{q}\""),
        Token::Number(x) => number_text(*x),
        Token::Op(op) => op.symbol().to_string(),
    }
}

pub(crate) fn word_before(tokens: &[Token], pos: usize) -> String {
    pos.checked_sub(1).and_then(|p| tokens.get(p)).map_or_else(|| "when".to_string(), token_text)
}
