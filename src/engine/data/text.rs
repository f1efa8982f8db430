//! Delimited and whitespace-aligned text: decoding, tokenizing with line numbers, bad-row handling.

use std::path::Path;

use super::infer::{RawTable, build_frame};
use super::sniff::{Delimiter, Dialect, sniff_delimiter, sniff_header, sniff_quote};
use super::{LoadedTable, ReadOptions, TextEncoding};
use crate::engine::error::DataError;

/// How many bad line numbers an error or warning names.
const LINES_NAMED: usize = 5;

/// A record and the 1-based line it starts on.
struct Record {
    line: usize,
    fields: Vec<String>,
}

/// Decodes, sniffs, tokenizes and types a text file held in memory.
pub(super) fn read_text_bytes(
    bytes: &[u8],
    path: &Path,
    options: &ReadOptions,
    keep_columns: Option<&[String]>,
) -> Result<LoadedTable, DataError> {
    let mut warnings = Vec::new();
    let (text, replaced_chars) = decode(bytes, path, options.encoding)?;
    match options.encoding {
        TextEncoding::Lossy if replaced_chars > 0 => warnings
            .push(format!("{replaced_chars} invalid byte sequence(s) were replaced by '\u{FFFD}' while decoding")),
        TextEncoding::Windows1252 => warnings.push("decoded as Windows-1252".to_string()),
        _ => {}
    }
    let quote = options.quote.unwrap_or_else(|| sniff_quote(&text));
    let delimiter = options.delimiter.unwrap_or_else(|| sniff_delimiter(&text, quote));
    let (mut records, unterminated_at) = tokenize(&text, delimiter, quote);

    if records.is_empty() {
        return Err(DataError::NoDataRows { path: path.to_path_buf() });
    }
    let first = records.remove(0);
    let rest_fields: Vec<Vec<String>> = records.iter().take(100).map(|r| r.fields.clone()).collect();
    let has_header = options.has_header.unwrap_or_else(|| sniff_header(&first.fields, &rest_fields));
    let headers: Vec<String> = if has_header {
        unique_headers(&first.fields)
    } else {
        records.insert(0, first);
        let width = records.first().map_or(0, |r| r.fields.len());
        (1..=width).map(|i| format!("column_{i}")).collect()
    };
    if let Some(n) = options.sample_rows {
        records.truncate(n);
    }
    if records.is_empty() {
        return Err(DataError::NoDataRows { path: path.to_path_buf() });
    }

    let width = headers.len();
    let mut bad_lines: Vec<usize> = records.iter().filter(|r| r.fields.len() != width).map(|r| r.line).collect();
    let mut details = Vec::new();
    if !bad_lines.is_empty() {
        details.push(format!("expected {width} fields as in the header"));
    }
    if let Some(line) = unterminated_at {
        bad_lines.push(line);
        details.push(format!("unterminated quote starting at line {line}"));
    }
    let mut skipped_lines = Vec::new();
    if !bad_lines.is_empty() {
        if !options.skip_bad_rows {
            return Err(DataError::MalformedRows {
                path: path.to_path_buf(),
                first_lines: bad_lines.iter().copied().take(LINES_NAMED).collect(),
                count: bad_lines.len(),
                detail: details.join("; "),
            });
        }
        records.retain(|r| r.fields.len() == width && Some(r.line) != unterminated_at);
        warnings.push(format!(
            "{} malformed row(s) skipped at your request ({}), first at line(s) {}",
            bad_lines.len(),
            details.join("; "),
            bad_lines.iter().take(LINES_NAMED).map(|l| l.to_string()).collect::<Vec<_>>().join(", ")
        ));
        skipped_lines = bad_lines;
        if records.is_empty() {
            return Err(DataError::NoDataRows { path: path.to_path_buf() });
        }
    }

    let mut columns: Vec<Vec<String>> = vec![Vec::with_capacity(records.len()); width];
    for record in records {
        for (column, value) in columns.iter_mut().zip(record.fields) {
            column.push(value);
        }
    }
    let raw = RawTable { headers, columns }.project(keep_columns);
    let (frame, type_warnings) = build_frame(raw)?;
    warnings.extend(type_warnings);
    if options.sample_rows.is_some() {
        warnings.push(format!("only the first {} rows were read (sample)", frame.height()));
    }
    Ok(LoadedTable {
        frame,
        path: path.to_path_buf(),
        dialect: Some(Dialect { delimiter, quote, has_header }),
        skipped_lines,
        replaced_chars,
        is_sample: options.sample_rows.is_some(),
        warnings,
    })
}

/// Decodes bytes as asked; returns the text and how many characters were replaced.
fn decode(bytes: &[u8], path: &Path, encoding: TextEncoding) -> Result<(String, usize), DataError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match encoding {
        TextEncoding::Utf8 => match std::str::from_utf8(bytes) {
            Ok(text) => Ok((text.to_string(), 0)),
            Err(e) => Err(DataError::NotUtf8 { path: path.to_path_buf(), offset: e.valid_up_to() }),
        },
        TextEncoding::Windows1252 => {
            let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
            Ok((text.into_owned(), 0))
        }
        TextEncoding::Lossy => {
            let before = count_replacement_chars(bytes);
            let text = String::from_utf8_lossy(bytes).into_owned();
            let after = text.chars().filter(|&c| c == '\u{FFFD}').count();
            Ok((text, after - before))
        }
    }
}

/// U+FFFD characters already present (validly encoded) in the input, so they are not counted as
/// replacements.
fn count_replacement_chars(bytes: &[u8]) -> usize {
    bytes.windows(3).filter(|w| *w == "\u{FFFD}".as_bytes()).count()
}

/// Header names made unique and non-empty, as later stages address columns by name.
fn unique_headers(fields: &[String]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    fields
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let base = if name.trim().is_empty() { format!("column_{}", i + 1) } else { name.trim().to_string() };
            let mut candidate = base.clone();
            let mut n = 2;
            while !seen.insert(candidate.clone()) {
                candidate = format!("{base}_{n}");
                n += 1;
            }
            candidate
        })
        .collect()
}

/// Splits text into records; returns them and the line of an unterminated quote, if any.
fn tokenize(text: &str, delimiter: Delimiter, quote: char) -> (Vec<Record>, Option<usize>) {
    match delimiter {
        Delimiter::Whitespace => (tokenize_whitespace(text), None),
        Delimiter::Char(d) => tokenize_delimited(text, d, quote),
    }
}

fn tokenize_whitespace(text: &str) -> Vec<Record> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| Record { line: i + 1, fields: l.split_whitespace().map(str::to_string).collect() })
        .collect()
}

/// RFC 4180 with a configurable delimiter and quote; quoted fields may span lines; `""` escapes.
fn tokenize_delimited(text: &str, delimiter: char, quote: char) -> (Vec<Record>, Option<usize>) {
    let mut records = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut line = 1;
    let mut record_line = 1;
    let mut quote_line = 0;
    let mut chars = text.chars().peekable();
    let mut record_has_content = false;
    while let Some(c) = chars.next() {
        if in_quotes {
            if c == quote {
                if chars.peek() == Some(&quote) {
                    field.push(quote);
                    chars.next();
                } else {
                    in_quotes = false;
                }
            } else {
                if c == '\n' {
                    line += 1;
                }
                field.push(c);
            }
            continue;
        }
        match c {
            _ if c == quote && field.trim().is_empty() => {
                field.clear();
                in_quotes = true;
                quote_line = line;
                record_has_content = true;
            }
            _ if c == delimiter => {
                fields.push(std::mem::take(&mut field));
                record_has_content = true;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                if record_has_content || !field.trim().is_empty() {
                    fields.push(std::mem::take(&mut field));
                    records.push(Record { line: record_line, fields: std::mem::take(&mut fields) });
                }
                field.clear();
                record_has_content = false;
                line += 1;
                record_line = line;
            }
            _ => {
                field.push(c);
            }
        }
    }
    if in_quotes {
        return (records, Some(quote_line));
    }
    if record_has_content || !field.trim().is_empty() {
        fields.push(field);
        records.push(Record { line: record_line, fields });
    }
    (records, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &str) -> Vec<Vec<String>> {
        tokenize_delimited(text, ',', '"').0.into_iter().map(|r| r.fields).collect()
    }

    #[test]
    fn quoted_fields_with_delimiters_newlines_and_escapes() {
        let rows = fields("a,b\n\"x, y\",\"say \"\"hi\"\"\"\n\"multi\nline\",2\n");
        assert_eq!(rows[1], vec!["x, y", "say \"hi\""]);
        assert_eq!(rows[2], vec!["multi\nline", "2"]);
    }

    #[test]
    fn line_numbers_follow_embedded_newlines() {
        let (records, _) = tokenize_delimited("a,b\n\"1\n2\",3\n4,5,6\n", ',', '"');
        assert_eq!(records.iter().map(|r| r.line).collect::<Vec<_>>(), vec![1, 2, 4]);
    }

    #[test]
    fn unterminated_quote_is_reported_with_its_line() {
        let (_, unterminated) = tokenize_delimited("a,b\n1,2\n\"open,3\n4,5\n", ',', '"');
        assert_eq!(unterminated, Some(3));
    }

    #[test]
    fn crlf_and_blank_lines() {
        assert_eq!(fields("a,b\r\n1,2\r\n\r\n3,4"), vec![vec!["a", "b"], vec!["1", "2"], vec!["3", "4"]]);
    }

    #[test]
    fn duplicate_and_empty_headers_become_unique() {
        let h = unique_headers(&["a".into(), "a".into(), "".into()]);
        assert_eq!(h, vec!["a", "a_2", "column_3"]);
    }
}
