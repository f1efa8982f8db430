//! Sniffing a text file's dialect: delimiter (including runs of spaces), quote and header.

use serde::{Deserialize, Serialize};

/// How fields are separated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Delimiter {
    /// One character, such as `,`, `;`, tab or `|`.
    Char(char),
    /// One or more spaces or tabs, as in whitespace-aligned (fixed-width) exports.
    Whitespace,
}

impl std::fmt::Display for Delimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Delimiter::Char('\t') => write!(f, "tab"),
            Delimiter::Char(c) => write!(f, "'{c}'"),
            Delimiter::Whitespace => write!(f, "runs of spaces"),
        }
    }
}

impl std::str::FromStr for Delimiter {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "whitespace" | "space" | "spaces" => Ok(Delimiter::Whitespace),
            "tab" | "\\t" => Ok(Delimiter::Char('\t')),
            "comma" => Ok(Delimiter::Char(',')),
            "semicolon" => Ok(Delimiter::Char(';')),
            "pipe" => Ok(Delimiter::Char('|')),
            _ => {
                let mut chars = s.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => Ok(Delimiter::Char(c)),
                    _ => Err(format!("delimiter '{s}' is not one character; use a character, 'tab' or 'whitespace'")),
                }
            }
        }
    }
}

/// The dialect of a delimited text file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dialect {
    /// Field separator.
    pub delimiter: Delimiter,
    /// Quote character (fields may contain the delimiter inside quotes).
    pub quote: char,
    /// Whether the first row names the columns.
    pub has_header: bool,
}

/// How many non-empty lines the sniffer looks at.
const SNIFF_LINES: usize = 100;

/// Guesses the delimiter from the first lines of text.
pub fn sniff_delimiter(text: &str, quote: char) -> Delimiter {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).take(SNIFF_LINES).collect();
    if lines.is_empty() {
        return Delimiter::Char(',');
    }
    let mut best: Option<(Delimiter, usize, usize)> = None; // (delimiter, consistent lines, fields)
    for candidate in [',', ';', '\t', '|'] {
        let counts: Vec<usize> = lines.iter().map(|l| count_fields(l, candidate, quote)).collect();
        let fields = counts[0];
        if fields < 2 {
            continue;
        }
        let consistent = counts.iter().filter(|&&c| c == fields).count();
        // A delimiter must split most lines into the header's field count.
        if consistent * 10 < lines.len() * 9 {
            continue;
        }
        let better = match best {
            None => true,
            Some((_, best_consistent, best_fields)) => (consistent, fields) > (best_consistent, best_fields),
        };
        if better {
            best = Some((Delimiter::Char(candidate), consistent, fields));
        }
    }
    if let Some((delimiter, _, _)) = best {
        return delimiter;
    }
    let counts: Vec<usize> = lines.iter().map(|l| l.split_whitespace().count()).collect();
    if counts[0] >= 2 && counts.iter().filter(|&&c| c == counts[0]).count() * 10 >= lines.len() * 9 {
        return Delimiter::Whitespace;
    }
    Delimiter::Char(',')
}

/// Guesses the quote character: `'` only when fields clearly start with it and `"` never appears.
pub fn sniff_quote(text: &str) -> char {
    let head: String = text.chars().take(64 * 1024).collect();
    if !head.contains('"') && (head.contains(",'") || head.starts_with('\'') || head.contains("\n'")) {
        '\''
    } else {
        '"'
    }
}

/// Fields on one line for a single-character delimiter, honouring quotes.
fn count_fields(line: &str, delimiter: char, quote: char) -> usize {
    let mut in_quotes = false;
    let mut fields = 1;
    for c in line.chars() {
        if c == quote {
            in_quotes = !in_quotes;
        } else if c == delimiter && !in_quotes {
            fields += 1;
        }
    }
    fields
}

/// Guesses whether the first record is a header: some column is numeric below it but not in it, or
/// every field of it is a non-numeric, distinct, non-empty name while the data has numbers somewhere.
pub fn sniff_header(first: &[String], rest: &[Vec<String>]) -> bool {
    if rest.is_empty() {
        return true;
    }
    let looks_numeric = |s: &str| {
        let t = s.trim();
        !t.is_empty() && t.parse::<f64>().is_ok()
    };
    for (column, name) in first.iter().enumerate() {
        let below: Vec<&str> = rest
            .iter()
            .take(SNIFF_LINES)
            .filter_map(|r| r.get(column).map(|s| s.as_str()))
            .filter(|s| !s.trim().is_empty())
            .collect();
        if !below.is_empty() && below.iter().all(|s| looks_numeric(s)) && !looks_numeric(name) {
            return true;
        }
    }
    let all_names = first.iter().all(|s| !s.trim().is_empty() && !looks_numeric(s));
    let mut distinct: Vec<&String> = first.iter().collect();
    distinct.sort();
    distinct.dedup();
    if !all_names || distinct.len() != first.len() {
        return false;
    }
    // All-text tables: a header row usually differs from every data row in each column.
    rest.iter().take(SNIFF_LINES).all(|row| row.iter().zip(first).all(|(a, b)| a != b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_common_delimiters() {
        assert_eq!(sniff_delimiter("a,b,c\n1,2,3\n", '"'), Delimiter::Char(','));
        assert_eq!(sniff_delimiter("a;b;c\n1,5;2;3\n", '"'), Delimiter::Char(';'));
        assert_eq!(sniff_delimiter("a\tb\n1\t2\n", '"'), Delimiter::Char('\t'));
        assert_eq!(sniff_delimiter("a|b\n1|2\n", '"'), Delimiter::Char('|'));
    }

    #[test]
    fn finds_whitespace_aligned_columns() {
        let text = " customer_id  date number_of_cds  dollar_value\n 00001 19970101  1   11.77\n";
        assert_eq!(sniff_delimiter(text, '"'), Delimiter::Whitespace);
    }

    #[test]
    fn quoted_delimiters_do_not_count() {
        let text = "name,city\n\"Smith, J\",Oslo\n\"Doe, A\",Rome\n";
        assert_eq!(sniff_delimiter(text, '"'), Delimiter::Char(','));
    }

    #[test]
    fn header_detection() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(sniff_header(&s(&["id", "x"]), &[s(&["1", "2.5"])]));
        assert!(!sniff_header(&s(&["1", "2.5"]), &[s(&["3", "4"])]));
        assert!(sniff_header(&s(&["name", "city"]), &[s(&["Ann", "Oslo"])]));
    }
}
