//! How engine text reads in the window. The engine's errors and warnings are shared with the command
//! line, where `--encoding windows-1252` is the way to act on them; in the window the same advice
//! names the window's own control. Every error, toast and warning passes through [`for_window`] on
//! its way to the screen, so the command line keeps its wording and the window never shows a flag,
//! a parser position, a type name or "row(s)".

use crate::engine::words::noun;

/// Command-line advice, as the engine writes it, and what the window says instead.
const CLI_ADVICE: &[(&str, &str)] = &[
    ("(--encoding windows-1252 or --encoding lossy)", "(Text encoding, under Reading on the Data screen)"),
    ("ask to skip bad rows (--skip-bad-rows)", "tick \"Skip malformed rows\" under Reading on the Data screen"),
    ("(--skip-bad-rows)", "(\"Skip malformed rows\" on the Data screen)"),
    ("load a sample (--sample-rows N reads a preview of the first N rows), ", "use a smaller file, "),
    ("(--duplicates keep-first|aggregate)", "(\"Repeated ids\" on the Data screen)"),
    (
        "pass --no-id or give the id with --id",
        "tick \"The table has no customer id column\" or pick the id under \"Customer id column\" on the Data screen",
    ),
    ("(--allow-outside-paths or the Locate button)", "(the Locate button)"),
    ("pass --decimal-comma yes or no", "choose the decimal mark when you open the file"),
    (
        "say where those rows go (--unparsed-dates drop or fallback), or give the column's format (--date-format COLUMN=FORMAT)",
        "say where those rows go (\"Values that are not dates\" under \"How columns were read\" on the Data screen), or give the column's date format there",
    ),
];

/// What the window calls a command-line option that is left after [`CLI_ADVICE`].
const FLAG_WORDS: &[(&str, &str)] = &[
    ("--date-format", "an explicit date format"),
    ("--allow-old-dates", "allowing old dates"),
    ("--decimal-comma", "the decimal mark"),
    ("--encoding", "the text encoding"),
    ("--skip-bad-rows", "skipping malformed rows"),
    ("--sample-rows", "a sample of the rows"),
    ("--duplicates", "the repeated-ids choice"),
    ("--id", "the customer id column"),
    ("--no-id", "no customer id column"),
];

/// Type and variant names as the code spells them, and in words.
const CODE_WORDS: &[(&str, &str)] = &[
    ("i8", "whole number"),
    ("i16", "whole number"),
    ("i32", "whole number"),
    ("i64", "whole number"),
    ("u8", "whole number"),
    ("u16", "whole number"),
    ("u32", "whole number"),
    ("u64", "whole number"),
    ("f32", "decimal number"),
    ("f64", "decimal number"),
    ("str", "text"),
    ("String", "text"),
    ("bool", "true/false"),
    ("ZScore", "z-score"),
    ("MinMax", "min-max"),
    ("KeepFirst", "keep the first row"),
    ("ImputeMedian", "fill with the median"),
    ("ImputeMean", "fill with the mean"),
    ("ImputeMode", "fill with the most common value"),
    ("DropRows", "leave the customer out"),
    ("FallbackSegment", "the fallback segment"),
    ("TransactionLog", "transaction log"),
    ("CustomerTable", "customer table"),
];

/// Engine text as the window shows it: command-line options replaced by the window's controls,
/// parser positions as "line L, column C", type names in words, "row(s)" with the right plural,
/// and "2 <= k <= n - 1" as a sentence.
pub fn for_window(text: &str) -> String {
    let mut out = text.to_string();
    for (cli, window) in CLI_ADVICE {
        out = out.replace(cli, window);
    }
    out = out
        .replace("needs 2 <= k <= n - 1", "needs at least 2 segments and fewer segments than customers")
        .replace("needs 2 <= k < n", "needs at least 2 segments and fewer segments than customers");
    out = flags_in_words(&out);
    out = positions_in_words(&out);
    out = code_words(&out);
    plurals(&out)
}

/// A column's type (polars' name for it) in words: "i64" is "whole number".
pub fn type_in_words(dtype: &str) -> String {
    if let Some((_, words)) = CODE_WORDS.iter().find(|(code, _)| *code == dtype) {
        return (*words).to_string();
    }
    match dtype {
        "date" => "date".to_string(),
        d if d.starts_with("datetime") => "date and time".to_string(),
        d if d.starts_with("duration") => "duration".to_string(),
        d if d.starts_with("decimal") => "decimal number".to_string(),
        d if d.starts_with("cat") || d.starts_with("enum") => "category".to_string(),
        "null" => "empty".to_string(),
        other => other.to_string(),
    }
}

/// `--option value` left in the text, in words (the value is kept: it may be the format to use).
fn flags_in_words(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("--") {
        let (before, from) = rest.split_at(at);
        out.push_str(before);
        let name_len = from[2..].find(|c: char| !(c.is_ascii_alphanumeric() || c == '-')).map_or(from.len(), |n| n + 2);
        let flag = &from[..name_len];
        match FLAG_WORDS.iter().find(|(f, _)| *f == flag) {
            Some((_, words)) => {
                // "pass --date-format" reads "use an explicit date format".
                if out.ends_with("pass ") {
                    out.truncate(out.len() - "pass ".len());
                    out.push_str("use ");
                }
                out.push_str(words);
            }
            None if name_len > 2 => out.push_str(&flag[2..].replace('-', " ")),
            None => out.push_str(flag),
        }
        rest = &from[name_len..];
    }
    out.push_str(rest);
    out
}

/// "100:21-100:27: Expected colon" (a parser's span) as "line 100, column 21: expected colon".
fn positions_in_words(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let at_word_start = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        if at_word_start
            && bytes[i].is_ascii_digit()
            && let Some((line, column, end)) = span_at(&text[i..])
        {
            out.push_str(&format!("line {line}, column {column}"));
            i += end;
            // The parser's message after the span starts lower case in a sentence.
            if text[i..].starts_with(": ") {
                out.push_str(": ");
                i += 2;
                if let Some(c) = text[i..].chars().next()
                    && c.is_uppercase()
                {
                    out.extend(c.to_lowercase());
                    i += c.len_utf8();
                }
            }
            continue;
        }
        let c = text[i..].chars().next().unwrap_or(' ');
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// `L:C` or `L:C-L:C` at the start of `text`: the line, the column and the bytes it takes.
fn span_at(text: &str) -> Option<(usize, usize, usize)> {
    fn number(s: &str) -> Option<(usize, usize)> {
        let len = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        (len > 0 && len <= 9).then(|| s[..len].parse().ok().map(|n| (n, len))).flatten()
    }
    let (line, a) = number(text)?;
    let rest = text[a..].strip_prefix(':')?;
    let (column, b) = number(rest)?;
    let mut end = a + 1 + b;
    if let Some(more) = text[end..].strip_prefix('-')
        && let Some((_, c)) = number(more)
        && let Some(after) = more[c..].strip_prefix(':')
        && let Some((_, d)) = number(after)
    {
        end += 1 + c + 1 + d;
    }
    // Only a span followed by the parser's message: "12:30" in a sentence is a time.
    text[end..].starts_with(": ").then_some((line, column, end))
}

/// Type and variant names, as whole words, in words.
fn code_words(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        match CODE_WORDS.iter().find(|(code, _)| *code == word.as_str()) {
            Some((_, words)) => out.push_str(words),
            None => out.push_str(word),
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// "1 row(s)" as "1 row", "3 row(s)" as "3 rows", "line(s) 3, 5" as "lines 3, 5".
fn plurals(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("(s)") {
        let (before, after) = rest.split_at(at);
        let after = &after[3..];
        let word_start = before.rfind(|c: char| !(c.is_alphanumeric() || c == '-')).map_or(0, |p| p + 1);
        let word = &before[word_start..];
        // The count before the word ("3 row(s)") or, failing that, the list after it ("line(s) 3, 5").
        let head = before[..word_start].trim_end();
        // "3 row(s)", or one word between the count and the noun ("1 malformed row(s)").
        let number = |t: &str| t.replace(',', "").parse::<usize>().ok();
        let mut tokens = head.rsplit(' ');
        let count_before = match (tokens.next(), tokens.next()) {
            (Some(last), _) if number(last).is_some() => number(last),
            (Some(last), Some(before_last)) if last.chars().all(char::is_alphabetic) => number(before_last),
            _ => None,
        }
        .filter(|_| before[..word_start].ends_with(' '));
        let count = count_before.or_else(|| {
            let list: &str = after.trim_start().split([';', ')', '(']).next().unwrap_or("");
            let items = list.split(", ").take_while(|t| t.trim().parse::<usize>().is_ok()).count();
            (items > 0).then_some(items)
        });
        out.push_str(&before[..word_start]);
        out.push_str(&noun(count.unwrap_or(2), word));
        rest = after;
        // The verb agrees: "1 transaction(s) have" is "1 transaction has".
        if count == Some(1) {
            for (plural, singular) in
                [(" have ", " has "), (" are ", " is "), (" were ", " was "), (" occur ", " occurs ")]
            {
                if let Some(tail) = rest.strip_prefix(plural) {
                    out.push_str(singular);
                    rest = tail;
                    break;
                }
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_advice_names_the_window_control() {
        let engine = "the file is not UTF-8 (first bad byte at offset 12); choose Windows-1252/Latin-1 or lossy \
                      decoding (--encoding windows-1252 or --encoding lossy): /tmp/a.csv";
        let window = for_window(engine);
        assert!(!window.contains("--"), "{window}");
        assert!(window.contains("Text encoding, under Reading on the Data screen"), "{window}");
        let dates = for_window("kept as text: pass --date-format %d/%m/%y or give YYYY-MM-DD");
        assert_eq!(dates, "kept as text: use an explicit date format %d/%m/%y or give YYYY-MM-DD");
        let unknown = for_window("or --frobnicate the file");
        assert!(!unknown.contains("--"), "{unknown}");
    }

    #[test]
    fn parser_positions_read_as_line_and_column() {
        assert_eq!(
            for_window("not readable here: 100:21-100:27: Expected colon"),
            "not readable here: line 100, column 21: expected colon"
        );
        assert_eq!(for_window("3:4: Unexpected end"), "line 3, column 4: unexpected end");
        // A time of day or a ratio is not a position.
        assert_eq!(for_window("at 12:30 the job ran 3:1"), "at 12:30 the job ran 3:1");
    }

    #[test]
    fn type_and_variant_names_read_as_words() {
        assert_eq!(for_window("column 'age' is i64, not str"), "column 'age' is whole number, not text");
        assert_eq!(for_window("scaled with ZScore"), "scaled with z-score");
        assert_eq!(type_in_words("f64"), "decimal number");
        assert_eq!(type_in_words("datetime[μs]"), "date and time");
        // Words that merely contain a type name stay.
        assert_eq!(for_window("strings and i64x"), "strings and i64x");
    }

    #[test]
    fn counted_words_get_the_right_plural() {
        assert_eq!(for_window("1 malformed row(s) (x), first at line(s) 3"), "1 malformed row (x), first at line 3");
        assert_eq!(
            for_window("10 malformed row(s) (x), first at line(s) 3, 5, 7"),
            "10 malformed rows (x), first at lines 3, 5, 7"
        );
        assert_eq!(for_window("1 transaction(s) have a negative amount"), "1 transaction has a negative amount");
        assert_eq!(for_window("2 customer(s)"), "2 customers");
        assert_eq!(
            for_window(
                "1 purchase day(s) are left out of the spend means: repeat purchases with a total of zero or less"
            ),
            "1 purchase day is left out of the spend means: repeat purchases with a total of zero or less"
        );
    }

    #[test]
    fn silhouette_bounds_read_as_a_sentence() {
        let text = for_window("labels: silhouette needs 2 <= k <= n - 1 (k = 1, n = 5)");
        assert!(text.contains("at least 2 segments and fewer segments than customers"), "{text}");
        assert!(!text.contains("<="), "{text}");
    }
}
