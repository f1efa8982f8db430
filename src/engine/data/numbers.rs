//! Numbers as real systems write them: thousands separators, decimal commas, currency symbols and
//! codes, percentages and accounting negatives. Detected per column from all its distinct values;
//! a column whose values disagree is kept as text with the values that conflict, never read at a
//! wrong magnitude.

use crate::engine::error::quoted;

/// The decimal mark of a column or a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecimalMark {
    /// `1,234.50`.
    Point,
    /// `1.234,50`.
    Comma,
}

impl DecimalMark {
    fn char(self) -> char {
        match self {
            DecimalMark::Point => '.',
            DecimalMark::Comma => ',',
        }
    }

    /// "a decimal point" / "a decimal comma".
    pub fn describe(self) -> &'static str {
        match self {
            DecimalMark::Point => "a decimal point",
            DecimalMark::Comma => "a decimal comma",
        }
    }
}

/// Characters that group thousands besides the point and the comma.
const GROUPING: [char; 4] = [' ', '\u{a0}', '\u{202f}', '\''];
/// Currency symbols recognised before or after a number.
const CURRENCY_SYMBOLS: [&str; 12] = ["US$", "R$", "$", "€", "£", "¥", "₹", "₽", "₩", "¢", "₺", "₪"];

/// A number's text with its decorations taken off.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decorated<'a> {
    /// A minus sign, a trailing minus or accounting parentheses.
    pub negative: bool,
    /// A trailing `%`.
    pub percent: bool,
    /// A currency symbol or three-letter code.
    pub currency: Option<&'a str>,
    /// Digits and separators.
    pub core: &'a str,
}

fn trim(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || c == '\u{a0}' || c == '\u{202f}')
}

fn strip_currency_prefix(t: &str) -> Option<(&str, &str)> {
    for symbol in CURRENCY_SYMBOLS {
        if let Some(rest) = t.strip_prefix(symbol) {
            return Some((symbol, rest));
        }
    }
    let code = t.get(..3)?;
    let rest = &t[3..];
    (code.bytes().all(|b| b.is_ascii_uppercase()) && !rest.starts_with(|c: char| c.is_ascii_alphabetic()))
        .then_some((code, rest))
}

fn strip_currency_suffix(t: &str) -> Option<(&str, &str)> {
    for symbol in CURRENCY_SYMBOLS {
        if let Some(rest) = t.strip_suffix(symbol) {
            return Some((symbol, rest));
        }
    }
    let at = t.len().checked_sub(3)?;
    let code = t.get(at..)?;
    let rest = &t[..at];
    (code.bytes().all(|b| b.is_ascii_uppercase()) && !rest.ends_with(|c: char| c.is_ascii_alphabetic()))
        .then_some((code, rest))
}

/// Takes the decorations off a value; `None` when what is left is not digits and separators.
pub fn decorate(s: &str) -> Option<Decorated<'_>> {
    let mut t = trim(s);
    if t.len() > 200 {
        return None;
    }
    let mut negatives = 0;
    let mut percent = false;
    let mut currency = None;
    if let Some(inner) = t.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        negatives += 1;
        t = trim(inner);
    }
    for _ in 0..3 {
        if let Some(rest) = t.strip_prefix('-').or_else(|| t.strip_prefix('\u{2212}')) {
            negatives += 1;
            t = trim(rest);
        } else if let Some(rest) = t.strip_prefix('+') {
            t = trim(rest);
        } else if currency.is_none()
            && let Some((symbol, rest)) = strip_currency_prefix(t)
        {
            currency = Some(symbol);
            t = trim(rest);
        }
    }
    for _ in 0..3 {
        if let Some(rest) = t.strip_suffix('%') {
            if percent {
                return None;
            }
            percent = true;
            t = trim(rest);
        } else if let Some(rest) = t.strip_suffix('-') {
            negatives += 1;
            t = trim(rest);
        } else if currency.is_none()
            && let Some((symbol, rest)) = strip_currency_suffix(t)
        {
            currency = Some(symbol);
            t = trim(rest);
        }
    }
    let first_digit = t.chars().next().is_some_and(|c| c.is_ascii_digit());
    let last_digit = t.chars().last().is_some_and(|c| c.is_ascii_digit());
    let allowed = t.chars().all(|c| c.is_ascii_digit() || c == '.' || c == ',' || GROUPING.contains(&c));
    if negatives > 1 || !first_digit || !last_digit || !allowed {
        return None;
    }
    Some(Decorated { negative: negatives == 1, percent, currency, core: t })
}

/// The value of digits and separators read with `mark` as the decimal mark; `None` when they do
/// not read so (two decimal marks, groups not of three, mixed grouping characters).
pub fn core_value(core: &str, mark: DecimalMark) -> Option<f64> {
    let decimal = mark.char();
    let mut parts = core.split(decimal);
    let integer = parts.next()?;
    let fraction = parts.next();
    if parts.next().is_some() {
        return None;
    }
    if let Some(fraction) = fraction
        && (fraction.is_empty() || !fraction.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let mut group_char = None;
    for c in integer.chars().filter(|c| !c.is_ascii_digit()) {
        if c == decimal || group_char.is_some_and(|g| g != c) {
            return None;
        }
        group_char = Some(c);
    }
    let mut digits = String::with_capacity(core.len() + 1);
    match group_char {
        None => digits.push_str(integer),
        Some(g) => {
            for (i, group) in integer.split(g).enumerate() {
                let ok = if i == 0 { (1..=3).contains(&group.len()) } else { group.len() == 3 };
                if !ok || !group.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                digits.push_str(group);
            }
        }
    }
    if digits.is_empty() {
        return None;
    }
    if let Some(fraction) = fraction {
        digits.push('.');
        digits.push_str(fraction);
    }
    digits.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// What one value says about the decimal mark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Evidence {
    /// Reads the same either way (`1234`, `$10`, `1 234`).
    Neutral,
    /// Reads both ways with different values (`1,234`, `1.234`).
    Ambiguous,
    /// Reads only with a decimal point (`1,234.50`, `12.5`).
    PointOnly,
    /// Reads only with a decimal comma (`1.234,50`, `12,5`).
    CommaOnly,
    /// Not a number.
    Invalid,
}

/// What a value says about the decimal mark.
pub fn evidence(core: &str) -> Evidence {
    match (core_value(core, DecimalMark::Point), core_value(core, DecimalMark::Comma)) {
        (None, None) => Evidence::Invalid,
        (Some(_), None) => Evidence::PointOnly,
        (None, Some(_)) => Evidence::CommaOnly,
        (Some(a), Some(b)) if a == b => Evidence::Neutral,
        _ => Evidence::Ambiguous,
    }
}

/// Whether two currencies are the same one written two ways (`$` and `USD`, `€` and `EUR`).
pub fn same_currency(a: &str, b: &str) -> bool {
    a == b
        || matches!(
            (a, b),
            ("$", "USD")
                | ("USD", "$")
                | ("US$", "USD")
                | ("USD", "US$")
                | ("€", "EUR")
                | ("EUR", "€")
                | ("£", "GBP")
                | ("GBP", "£")
        )
}

/// Whether a value's currency may stand beside the column's: none, or the same one. A currency
/// where the column had none is not assumed to be the column's.
pub fn same_currency_or_none(value: Option<&str>, column: Option<&str>) -> bool {
    match (value, column) {
        (None, _) => true,
        (Some(v), Some(c)) => same_currency(v, c),
        (Some(_), None) => false,
    }
}

/// How a column of formatted numbers was decided.
#[derive(Clone, Debug, PartialEq)]
pub enum NumberOutcome {
    /// Read: one value per distinct text, and the sentence's description of the style.
    Read {
        /// Values per distinct text (all present).
        values: Vec<f64>,
        /// The decimal mark used.
        mark: DecimalMark,
        /// What the sentence says after "read as numbers".
        style: String,
    },
    /// Every value with separators reads both ways: the file's mark decides, or the user.
    NeedsMark {
        /// A value that reads both ways.
        example: String,
    },
    /// The values disagree (or some are not numbers): kept as text, with this line.
    Conflict(String),
    /// Not formatted numbers.
    No,
}

/// Reads a column's distinct values (trimmed, present) as formatted numbers with `mark` (given by
/// the user or the file), or detects the mark from the values.
pub fn detect_numbers(
    column: &str,
    distinct: &[&str],
    mark: Option<DecimalMark>,
    mark_is_users: bool,
) -> NumberOutcome {
    const QUICK_LOOK: usize = 1_000;
    if distinct.is_empty() || !distinct.iter().take(QUICK_LOOK).any(|s| decorate(s).is_some()) {
        return NumberOutcome::No;
    }
    let decorated: Vec<Option<Decorated<'_>>> = distinct.iter().map(|s| decorate(s)).collect();
    let not_numbers: Vec<&str> =
        distinct.iter().zip(&decorated).filter(|(_, d)| d.is_none()).map(|(s, _)| *s).collect();
    let example = distinct.iter().zip(&decorated).find(|(_, d)| d.is_some()).map_or("", |(s, _)| *s);
    if !not_numbers.is_empty() {
        // Mostly formatted numbers: say which values block them. Plain numbers with stray texts are
        // the reader's usual "mostly numeric" case; anything else is plain text.
        let all_plain = distinct.iter().zip(&decorated).all(|(s, d)| d.is_none() || s.parse::<f64>().is_ok());
        if !all_plain && not_numbers.len() * 2 <= distinct.len() {
            return NumberOutcome::Conflict(format!(
                "column {} is mostly numeric (written like {}) but {} distinct value(s) are not numbers (for example {}); kept as text",
                quoted(column),
                quoted(example),
                not_numbers.len(),
                examples(&not_numbers)
            ));
        }
        return NumberOutcome::No;
    }
    let decorated: Vec<Decorated<'_>> = decorated.into_iter().flatten().collect();
    let mut currencies: Vec<&str> = Vec::new();
    for d in &decorated {
        if let Some(c) = d.currency
            && !currencies.contains(&c)
        {
            currencies.push(c);
        }
    }
    if currencies.iter().any(|a| currencies.iter().any(|b| !same_currency(a, b))) {
        return NumberOutcome::Conflict(format!(
            "column {} holds amounts in more than one currency ({}); kept as text: convert them to one currency first",
            quoted(column),
            examples(&currencies)
        ));
    }
    let n_percent = decorated.iter().filter(|d| d.percent).count();
    if n_percent > 0 && n_percent < decorated.len() {
        let with: Vec<&str> = distinct.iter().zip(&decorated).filter(|(_, d)| d.percent).map(|(s, _)| *s).collect();
        let without: Vec<&str> = distinct.iter().zip(&decorated).filter(|(_, d)| !d.percent).map(|(s, _)| *s).collect();
        return NumberOutcome::Conflict(format!(
            "column {} mixes percentages ({}) with plain numbers ({}), which differ by a factor of 100; kept as text",
            quoted(column),
            examples(&with),
            examples(&without)
        ));
    }
    let kinds: Vec<Evidence> = decorated.iter().map(|d| evidence(d.core)).collect();
    let of = |kind: Evidence| -> Vec<&str> {
        distinct.iter().zip(&kinds).filter(|(_, k)| **k == kind).map(|(s, _)| *s).collect()
    };
    let (point_only, comma_only, ambiguous) =
        (of(Evidence::PointOnly), of(Evidence::CommaOnly), of(Evidence::Ambiguous));
    let mark = match mark {
        Some(mark) if mark_is_users => {
            let against = if mark == DecimalMark::Comma { &point_only } else { &comma_only };
            let invalid = of(Evidence::Invalid);
            if !against.is_empty() || !invalid.is_empty() {
                let bad: Vec<&str> = against.iter().chain(&invalid).copied().collect();
                return NumberOutcome::Conflict(format!(
                    "column {} has {} value(s) that do not read as numbers with {} as asked (for example {}); kept as text",
                    quoted(column),
                    bad.len(),
                    mark.describe(),
                    examples(&bad)
                ));
            }
            mark
        }
        _ => {
            if !point_only.is_empty() && !comma_only.is_empty() {
                return NumberOutcome::Conflict(format!(
                    "column {} mixes numbers with a decimal point ({}) and with a decimal comma ({}); kept as text: nothing is read at a wrong magnitude, so correct the values or choose the decimal mark",
                    quoted(column),
                    examples(&point_only),
                    examples(&comma_only)
                ));
            }
            let invalid = of(Evidence::Invalid);
            if !invalid.is_empty() {
                return NumberOutcome::Conflict(format!(
                    "column {} holds numbers written like {} but {} value(s) have separators that read neither way (for example {}); kept as text",
                    quoted(column),
                    quoted(example),
                    invalid.len(),
                    examples(&invalid)
                ));
            }
            if !point_only.is_empty() {
                DecimalMark::Point
            } else if !comma_only.is_empty() {
                DecimalMark::Comma
            } else if !ambiguous.is_empty() {
                match mark {
                    Some(file_mark) => file_mark,
                    None => return NumberOutcome::NeedsMark { example: ambiguous[0].to_string() },
                }
            } else {
                DecimalMark::Point
            }
        }
    };
    let mut values = Vec::with_capacity(decorated.len());
    for d in &decorated {
        let Some(v) = core_value(d.core, mark) else {
            return NumberOutcome::Conflict(format!(
                "column {} has values that do not read with {} (for example {}); kept as text",
                quoted(column),
                mark.describe(),
                quoted(d.core)
            ));
        };
        let v = if d.negative { -v } else { v };
        values.push(if d.percent { v / 100.0 } else { v });
    }
    let mut style = format!("numbers with {}", mark.describe());
    let grouping: Vec<char> = decorated
        .iter()
        .flat_map(|d| d.core.chars().filter(|c| !c.is_ascii_digit() && *c != mark.char()))
        .fold(Vec::new(), |mut v, c| {
            if !v.contains(&c) {
                v.push(c);
            }
            v
        });
    if let Some(g) = grouping.first() {
        let name = match g {
            ' ' | '\u{a0}' | '\u{202f}' => "a space".to_string(),
            other => format!("'{other}'"),
        };
        style.push_str(&format!(" and {name} between thousands"));
    }
    if let Some(c) = currencies.first() {
        style.push_str(&format!(", in {c}"));
    }
    if n_percent > 0 {
        style.push_str(", percentages divided by 100 (12% -> 0.12)");
    }
    let accounting = distinct.iter().any(|s| trim(s).starts_with('(') || trim(s).ends_with('-'));
    if accounting {
        style.push_str(", (12.50) and 12.50- as negatives");
    }
    NumberOutcome::Read { values, mark, style }
}

/// Up to three values, quoted, comma-separated.
fn examples<S: AsRef<str>>(values: &[S]) -> String {
    values.iter().take(3).map(|v| quoted(v.as_ref())).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(values: &[&str], mark: Option<DecimalMark>) -> Vec<f64> {
        match detect_numbers("x", values, mark, mark.is_some()) {
            NumberOutcome::Read { values, .. } => values,
            other => panic!("{values:?}: {other:?}"),
        }
    }

    #[test]
    fn styles_real_systems_write() {
        assert_eq!(read(&["1,234.50", "12.5"], None), [1234.5, 12.5]);
        assert_eq!(read(&["1.234,50", "12,5"], None), [1234.5, 12.5]);
        assert_eq!(read(&["1 234,50", "7,25"], None), [1234.5, 7.25]);
        assert_eq!(read(&["1'234.50", "3.5"], None), [1234.5, 3.5]);
        assert_eq!(read(&["$1,200.50", "$3"], None), [1200.5, 3.0]);
        assert_eq!(read(&["12,50 €", "1.000,00 €"], None), [12.5, 1000.0]);
        assert_eq!(read(&["USD 10", "USD 1,000.25"], None), [10.0, 1000.25]);
        assert_eq!(read(&["12%", "7.5%"], None), [0.12, 0.075]);
        assert_eq!(read(&["(12.50)", "3.25-", "-$4.00", "$-1.00"], None), [-12.5, -3.25, -4.0, -1.0]);
        assert_eq!(read(&["1.234"], Some(DecimalMark::Comma)), [1234.0]);
        assert_eq!(read(&["1,234"], Some(DecimalMark::Point)), [1234.0]);
    }

    #[test]
    fn disagreements_are_shown_not_guessed() {
        let conflict =
            |values: &[&str], mark: Option<DecimalMark>| match detect_numbers("x", values, mark, mark.is_some()) {
                NumberOutcome::Conflict(line) => line,
                other => panic!("{values:?}: {other:?}"),
            };
        let line = conflict(&["1,5", "1.5"], None);
        assert!(line.contains("'1.5'") && line.contains("'1,5'"), "{line}");
        let line = conflict(&["1.5", "2,25"], Some(DecimalMark::Comma));
        assert!(line.contains("'1.5'") && line.contains("decimal comma"), "{line}");
        assert!(conflict(&["$1", "€2"], None).contains("more than one currency"));
        assert!(conflict(&["12%", "0.5"], None).contains("factor of 100"));
        assert_eq!(
            detect_numbers("x", &["1,234", "5,678"], None, false),
            NumberOutcome::NeedsMark { example: "1,234".into() }
        );
        assert_eq!(detect_numbers("x", &["red", "blue"], None, false), NumberOutcome::No);
        assert_eq!(detect_numbers("x", &["1e400", "--", ""], None, false), NumberOutcome::No);
        assert!(decorate(&"9".repeat(10_000)).is_none());
        assert_eq!(core_value(&"9".repeat(400), DecimalMark::Point), None);
    }
}
