//! Delimited and whitespace-aligned text: decoding, tokenizing with line numbers, bad-row handling.

use std::borrow::Cow;
use std::path::Path;

use super::formats::ValueFormats;
use super::infer::{Cells, RawTable, build_frame_with, unique_headers};
use super::sniff::{Delimiter, Dialect, sniff_delimiter, sniff_header, sniff_quote};
use super::{LoadedTable, ReadOptions, TextEncoding};
use crate::engine::error::DataError;

/// How many bad line numbers an error or warning names.
const LINES_NAMED: usize = 5;

/// A record: the 1-based line it starts on, and where its fields are in the flat cell list.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Record {
    line: usize,
    first: usize,
    fields: usize,
}

/// Every field of every record, in order, and the records. A field is one word: where it is a plain
/// slice of the text (unescaped fields are) its offset and length, otherwise the index of its own
/// string; a word per cell keeps a ten-million-row file's cells to a few hundred megabytes.
struct Tokens<'a> {
    text: &'a str,
    cells: Vec<u64>,
    owned: Vec<String>,
    records: Vec<Record>,
}

/// The top bit marks an owned field; otherwise the low 40 bits are the offset, the next 23 the length.
const OWNED: u64 = 1 << 63;
const OFFSET_BITS: u32 = 40;
const MAX_SLICE_LEN: usize = (1 << 23) - 1;

impl<'a> Tokens<'a> {
    fn new(text: &'a str, cells: usize, records: usize) -> Self {
        Tokens { text, cells: Vec::with_capacity(cells), owned: Vec::new(), records: Vec::with_capacity(records) }
    }

    /// Adds a field that is `text[start..end]`.
    fn push_slice(&mut self, start: usize, end: usize) {
        if start >> OFFSET_BITS == 0 && end - start <= MAX_SLICE_LEN {
            self.cells.push(start as u64 | ((end - start) as u64) << OFFSET_BITS);
        } else {
            self.push_owned(self.text[start..end].to_string());
        }
    }

    fn push_owned(&mut self, field: String) {
        self.cells.push(OWNED | self.owned.len() as u64);
        self.owned.push(field);
    }

    /// Ends a record whose first field is at `first`.
    fn end_record(&mut self, line: usize, first: usize) {
        self.records.push(Record { line, first, fields: self.cells.len() - first });
    }
}

/// The text of one cell.
#[inline]
fn cell_text<'t>(text: &'t str, owned: &'t [String], cell: u64) -> &'t str {
    if cell & OWNED != 0 {
        &owned[(cell & !OWNED) as usize]
    } else {
        let start = (cell & ((1 << OFFSET_BITS) - 1)) as usize;
        &text[start..start + (cell >> OFFSET_BITS) as usize]
    }
}

/// A record's fields as strings (for the header and the sniffer's sample).
fn owned_fields(tokens: &Tokens<'_>, record: &Record) -> Vec<String> {
    tokens.cells[record.first..record.first + record.fields]
        .iter()
        .map(|&c| cell_text(tokens.text, &tokens.owned, c).to_string())
        .collect()
}

/// One column of a table whose records all have `width` fields, stored row after row.
struct Strided<'t> {
    text: &'t str,
    owned: &'t [String],
    cells: &'t [u64],
    width: usize,
    column: usize,
}

impl Cells for Strided<'_> {
    fn len(&self) -> usize {
        self.cells.len() / self.width
    }
    #[inline]
    fn cell(&self, i: usize) -> &str {
        cell_text(self.text, self.owned, self.cells[i * self.width + self.column])
    }
}

/// Decodes, sniffs, tokenizes and types a text file held in memory.
pub(super) fn read_text_bytes(
    bytes: &[u8],
    path: &Path,
    options: &ReadOptions,
    formats: &ValueFormats,
    keep_columns: Option<&[String]>,
    text_columns: &[String],
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
    let (mut tokens, unterminated_at) = tokenize(&text, delimiter, quote);
    let mut records = std::mem::take(&mut tokens.records);

    if records.is_empty() {
        return Err(DataError::NoDataRows { path: path.to_path_buf() });
    }
    let first_fields = owned_fields(&tokens, &records[0]);
    let rest_fields: Vec<Vec<String>> = records.iter().skip(1).take(100).map(|r| owned_fields(&tokens, r)).collect();
    let has_header = options.has_header.unwrap_or_else(|| sniff_header(&first_fields, &rest_fields));
    let headers: Vec<String> = if has_header {
        let (headers, header_warnings) = unique_headers(&first_fields);
        warnings.extend(header_warnings);
        headers
    } else {
        (1..=records[0].fields).map(|i| format!("column_{i}")).collect()
    };
    // The records after the header (all of them without one), without moving every record down.
    let skip = usize::from(has_header);
    if let Some(n) = options.sample_rows {
        records.truncate(skip + n);
    }
    let mut records: Cow<'_, [Record]> = Cow::Borrowed(&records[skip..]);
    if records.is_empty() {
        return Err(DataError::NoDataRows { path: path.to_path_buf() });
    }

    let width = headers.len();
    let mut bad_lines: Vec<usize> = records.iter().filter(|r| r.fields != width).map(|r| r.line).collect();
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
        records = records.iter().filter(|r| r.fields == width && Some(r.line) != unterminated_at).copied().collect();
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

    // The kept records' cells, row after row: a slice of the token list when the records are
    // contiguous in it (the usual case), gathered otherwise.
    let start = records[0].first;
    let contiguous = records.iter().enumerate().all(|(i, r)| r.first == start + i * width);
    let gathered: Vec<u64>;
    let table: &[u64] = if contiguous {
        &tokens.cells[start..start + records.len() * width]
    } else {
        gathered = records.iter().flat_map(|r| tokens.cells[r.first..r.first + width].iter().copied()).collect();
        &gathered
    };
    let columns: Vec<Strided<'_>> = (0..width)
        .map(|column| Strided { text: tokens.text, owned: &tokens.owned, cells: table, width: width.max(1), column })
        .collect();
    let raw = RawTable { headers, columns }.project(keep_columns);
    let (frame, type_warnings, readings) = build_frame_with(raw, text_columns, formats)?;
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
        readings,
    })
}

/// Decodes bytes as asked; returns the text and how many characters were replaced.
fn decode<'b>(bytes: &'b [u8], path: &Path, encoding: TextEncoding) -> Result<(Cow<'b, str>, usize), DataError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match encoding {
        TextEncoding::Utf8 => match std::str::from_utf8(bytes) {
            Ok(text) => Ok((Cow::Borrowed(text), 0)),
            Err(e) => Err(DataError::NotUtf8 { path: path.to_path_buf(), offset: e.valid_up_to() }),
        },
        TextEncoding::Windows1252 => {
            let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
            Ok((Cow::Owned(text.into_owned()), 0))
        }
        TextEncoding::Lossy => {
            let before = count_replacement_chars(bytes);
            let text = String::from_utf8_lossy(bytes).into_owned();
            let after = text.chars().filter(|&c| c == '\u{FFFD}').count();
            Ok((Cow::Owned(text), after - before))
        }
    }
}

/// U+FFFD characters already present (validly encoded) in the input, so they are not counted as
/// replacements.
fn count_replacement_chars(bytes: &[u8]) -> usize {
    bytes.windows(3).filter(|w| *w == "\u{FFFD}".as_bytes()).count()
}

/// Splits text into records; returns them and the line of an unterminated quote, if any.
fn tokenize(text: &str, delimiter: Delimiter, quote: char) -> (Tokens<'_>, Option<usize>) {
    match delimiter {
        Delimiter::Whitespace => (tokenize_whitespace(text), None),
        Delimiter::Char(d) if d.is_ascii() && quote.is_ascii() => tokenize_delimited(text, d as u8, quote as u8),
        Delimiter::Char(d) => tokenize_delimited_chars(text, d, quote),
    }
}

fn tokenize_whitespace(text: &str) -> Tokens<'_> {
    let mut tokens = Tokens::new(text, 0, 0);
    let base = text.as_ptr() as usize;
    for (i, line) in text.lines().enumerate() {
        let first = tokens.cells.len();
        for field in line.split_whitespace() {
            let start = field.as_ptr() as usize - base;
            tokens.push_slice(start, start + field.len());
        }
        if tokens.cells.len() > first {
            tokens.end_record(i + 1, first);
        }
    }
    tokens
}

/// A field being read: a slice of the text while it is one, bytes of its own once it is not (an
/// escaped quote, or text after a closing quote).
enum Field {
    Slice(usize, usize),
    Owned(Vec<u8>),
}

impl Field {
    /// Appends the byte at `at`.
    fn push(&mut self, text: &[u8], at: usize) {
        self.extend(text, at, at + 1);
    }

    /// Appends the bytes `from..to`.
    fn extend(&mut self, text: &[u8], from: usize, to: usize) {
        match self {
            Field::Slice(_, end) if *end == from => *end = to,
            Field::Slice(start, end) => {
                let mut owned = text[*start..*end].to_vec();
                owned.extend_from_slice(&text[from..to]);
                *self = Field::Owned(owned);
            }
            Field::Owned(bytes) => bytes.extend_from_slice(&text[from..to]),
        }
    }

    fn is_blank(&self, text: &str) -> bool {
        match self {
            Field::Slice(start, end) => text[*start..*end].trim().is_empty(),
            Field::Owned(bytes) => String::from_utf8_lossy(bytes).trim().is_empty(),
        }
    }

    /// Adds the field to the tokens, leaving an empty one starting at `next`.
    fn finish(&mut self, tokens: &mut Tokens<'_>, next: usize) {
        match std::mem::replace(self, Field::Slice(next, next)) {
            Field::Slice(start, end) => tokens.push_slice(start, end),
            // Split only at ASCII bytes, so the bytes are whole UTF-8 characters.
            Field::Owned(bytes) => tokens.push_owned(
                String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            ),
        }
    }
}

/// RFC 4180 with a configurable ASCII delimiter and quote; quoted fields may span lines; `""`
/// escapes. Byte by byte (UTF-8 never puts an ASCII byte inside a character), with fields borrowed
/// from the text. The same rules as `tokenize_delimited_chars`, which the tests compare it with.
fn tokenize_delimited(text: &str, delimiter: u8, quote: u8) -> (Tokens<'_>, Option<usize>) {
    use rayon::prelude::*;
    let b = text.as_bytes();
    // Pieces of about PARALLEL_PIECE bytes, each ending just after a line feed, tokenized in
    // parallel as if each began a record. That holds unless a piece ends inside a quoted field
    // (which spans lines); then the whole text is tokenized in one piece instead.
    let pieces = b.len() / PARALLEL_PIECE;
    if pieces >= 2 {
        let mut bounds = vec![0];
        for p in 1..pieces {
            let target = (p * b.len() / pieces).max(*bounds.last().unwrap_or(&0));
            if let Some(offset) = b[target..].iter().position(|&c| c == b'\n') {
                let at = target + offset + 1;
                if at > *bounds.last().unwrap_or(&0) && at < b.len() {
                    bounds.push(at);
                }
            }
        }
        bounds.push(b.len());
        let parts: Vec<(Tokens<'_>, RangeEnd)> = bounds
            .par_windows(2)
            .enumerate()
            .map(|(i, w)| tokenize_range(text, w[0], w[1], delimiter, quote, i + 2 == bounds.len()))
            .collect();
        let last = parts.len() - 1;
        if parts.iter().take(last).all(|(_, end)| end.unterminated.is_none()) {
            return merge(text, parts);
        }
    }
    let (tokens, end) = tokenize_range(text, 0, b.len(), delimiter, quote, true);
    (tokens, end.unterminated)
}

/// Bytes per piece when tokenizing in parallel.
const PARALLEL_PIECE: usize = 4 << 20;

/// How a range of text ended: lines it spanned, and the line of a quote still open at its end.
struct RangeEnd {
    lines: usize,
    unterminated: Option<usize>,
}

/// Joins the tokens of consecutive pieces: cell and owned-string indices and line numbers are
/// shifted by what came before.
fn merge<'a>(text: &'a str, parts: Vec<(Tokens<'a>, RangeEnd)>) -> (Tokens<'a>, Option<usize>) {
    let cells = parts.iter().map(|p| p.0.cells.len()).sum();
    let records = parts.iter().map(|p| p.0.records.len()).sum();
    let mut out = Tokens::new(text, cells, records);
    let mut lines_before = 0;
    let mut unterminated = None;
    for (part, end) in parts {
        let (cell_offset, owned_offset) = (out.cells.len(), out.owned.len() as u64);
        out.cells.extend(part.cells.iter().map(|&c| if c & OWNED != 0 { c + owned_offset } else { c }));
        out.owned.extend(part.owned);
        out.records.extend(part.records.iter().map(|r| Record {
            line: r.line + lines_before,
            first: r.first + cell_offset,
            fields: r.fields,
        }));
        unterminated = end.unterminated.map(|l| l + lines_before);
        lines_before += end.lines;
    }
    (out, unterminated)
}

/// Tokenizes `text[from..to]` as if a record began at `from`; `last` when the range ends the text
/// (otherwise it ends just after a line feed). Line numbers count from 1 at `from`.
fn tokenize_range(text: &str, from: usize, to: usize, delimiter: u8, quote: u8, last: bool) -> (Tokens<'_>, RangeEnd) {
    let b = text.as_bytes();
    // Sized up front from the line count and the first line's fields: growing a vector of tens of
    // millions of cells by doubling spends more time copying and faulting in pages than tokenizing.
    let lines = memchr::memchr_iter(b'\n', &b[from..to]).count() + 1;
    let first_line = memchr::memchr(b'\n', &b[from..to]).map_or(to, |p| from + p);
    let per_line = memchr::memchr_iter(delimiter, &b[from..first_line]).count() + 1;
    let mut tokens = Tokens::new(text, lines * per_line, lines);
    // Runs of ordinary bytes end at a delimiter, a quote or a line end; a carriage return, when the
    // range has one at all, is looked for as well.
    let has_cr = memchr::memchr(b'\r', &b[from..to]).is_some();
    let run_end = |i: usize| run_end(b, i, to, [delimiter, quote, b'\n', if has_cr { b'\r' } else { b'\n' }]);
    let mut field = Field::Slice(from, from);
    let mut in_quotes = false;
    let (mut line, mut record_line, mut quote_line) = (1, 1, 0);
    let mut record_first = 0;
    let mut record_has_content = false;
    let mut i = from;
    while i < to {
        let c = b[i];
        if in_quotes {
            if c == quote {
                if i + 1 < to && b[i + 1] == quote {
                    field.push(b, i);
                    i += 2;
                    continue;
                }
                in_quotes = false;
            } else {
                if c == b'\n' {
                    line += 1;
                }
                field.push(b, i);
            }
            i += 1;
            continue;
        }
        if c == quote && field.is_blank(text) {
            field = Field::Slice(i + 1, i + 1);
            in_quotes = true;
            quote_line = line;
            record_has_content = true;
        } else if c == delimiter {
            field.finish(&mut tokens, i + 1);
            record_has_content = true;
        } else if c == b'\r' && i + 1 < to && b[i + 1] == b'\n' {
            // The \n ends the record.
        } else if c == b'\n' || c == b'\r' {
            if record_has_content || !field.is_blank(text) {
                field.finish(&mut tokens, i + 1);
                tokens.end_record(record_line, record_first);
            }
            field = Field::Slice(i + 1, i + 1);
            record_first = tokens.cells.len();
            record_has_content = false;
            line += 1;
            record_line = line;
        } else {
            // This byte (ordinary, or a quote inside an unquoted field, which is kept as text) and
            // the run of ordinary bytes after it, whole.
            let end = run_end(i + 1);
            field.extend(b, i, end);
            i = end;
            continue;
        }
        i += 1;
    }
    if in_quotes {
        tokens.cells.truncate(record_first);
        return (tokens, RangeEnd { lines: line - 1, unterminated: Some(quote_line) });
    }
    if last && (record_has_content || !field.is_blank(text)) {
        field.finish(&mut tokens, to);
        tokens.end_record(record_line, record_first);
    }
    (tokens, RangeEnd { lines: line - 1, unterminated: None })
}

/// The first byte of `b[i..to]` that is one of `stops`, or `to`. Eight bytes at a time in a
/// machine word: most fields are a few bytes long, so the run nearly always ends in the first word,
/// where a SIMD search would spend more setting up than searching.
fn run_end(b: &[u8], i: usize, to: usize, stops: [u8; 4]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // The high bit of each byte of `x` that equals `byte`, exactly (no borrow between bytes).
    let equal = |x: u64, byte: u8| {
        let y = x ^ (ONES * u64::from(byte));
        !(((y & !HIGH) + !HIGH) | y) & HIGH
    };
    let mut at = i;
    while at + 8 <= to {
        let mut word = [0u8; 8];
        word.copy_from_slice(&b[at..at + 8]);
        let x = u64::from_le_bytes(word);
        let found = stops.iter().fold(0, |m, &stop| m | equal(x, stop));
        if found != 0 {
            return at + (found.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    b[at..to].iter().position(|c| stops.contains(c)).map_or(to, |p| at + p)
}

/// The same tokenizer character by character, for a delimiter or quote outside ASCII.
fn tokenize_delimited_chars(text: &str, delimiter: char, quote: char) -> (Tokens<'_>, Option<usize>) {
    let mut tokens = Tokens::new(text, 0, 0);
    let mut record: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut line = 1;
    let mut record_line = 1;
    let mut quote_line = 0;
    let mut chars = text.chars().peekable();
    let mut record_has_content = false;
    let finish = |tokens: &mut Tokens<'_>, record: &mut Vec<String>, line: usize| {
        let first = tokens.cells.len();
        for field in record.drain(..) {
            tokens.push_owned(field);
        }
        tokens.end_record(line, first);
    };
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
                record.push(std::mem::take(&mut field));
                record_has_content = true;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                if record_has_content || !field.trim().is_empty() {
                    record.push(std::mem::take(&mut field));
                    finish(&mut tokens, &mut record, record_line);
                }
                record.clear();
                field.clear();
                record_has_content = false;
                line += 1;
                record_line = line;
            }
            _ => field.push(c),
        }
    }
    if in_quotes {
        return (tokens, Some(quote_line));
    }
    if record_has_content || !field.trim().is_empty() {
        record.push(field);
        finish(&mut tokens, &mut record, record_line);
    }
    (tokens, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(tokens: &Tokens<'_>) -> Vec<Vec<String>> {
        tokens.records.iter().map(|r| owned_fields(tokens, r)).collect()
    }

    fn fields(text: &str) -> Vec<Vec<String>> {
        records(&tokenize_delimited(text, b',', b'"').0)
    }

    #[test]
    fn quoted_fields_with_delimiters_newlines_and_escapes() {
        let rows = fields("a,b\n\"x, y\",\"say \"\"hi\"\"\"\n\"multi\nline\",2\n");
        assert_eq!(rows[1], vec!["x, y", "say \"hi\""]);
        assert_eq!(rows[2], vec!["multi\nline", "2"]);
    }

    #[test]
    fn line_numbers_follow_embedded_newlines() {
        let (tokens, _) = tokenize_delimited("a,b\n\"1\n2\",3\n4,5,6\n", b',', b'"');
        assert_eq!(tokens.records.iter().map(|r| r.line).collect::<Vec<_>>(), vec![1, 2, 4]);
    }

    #[test]
    fn unterminated_quote_is_reported_with_its_line() {
        let (_, unterminated) = tokenize_delimited("a,b\n1,2\n\"open,3\n4,5\n", b',', b'"');
        assert_eq!(unterminated, Some(3));
    }

    #[test]
    fn crlf_and_blank_lines() {
        assert_eq!(fields("a,b\r\n1,2\r\n\r\n3,4"), vec![vec!["a", "b"], vec!["1", "2"], vec!["3", "4"]]);
    }

    #[test]
    fn plain_fields_are_borrowed_not_copied() {
        let (tokens, _) = tokenize_delimited("id,name\n1,\"Ann\"\n2,\"B\"\"o\"\n", b',', b'"');
        let borrowed: Vec<bool> = tokens.cells.iter().map(|c| c & OWNED == 0).collect();
        assert_eq!(borrowed, vec![true, true, true, true, true, false]);
    }

    /// The byte and the character tokenizers give the same records, lines and open quote.
    fn tokenizers_agree(text: &str) -> Result<(), proptest::test_runner::TestCaseError> {
        let (bytes, bytes_open) = tokenize_delimited(text, b',', b'"');
        let (chars, chars_open) = tokenize_delimited_chars(text, ',', '"');
        proptest::prop_assert_eq!(bytes_open, chars_open);
        proptest::prop_assert_eq!(records(&bytes), records(&chars));
        let lines = |t: &Tokens<'_>| t.records.iter().map(|r| r.line).collect::<Vec<_>>();
        proptest::prop_assert_eq!(lines(&bytes), lines(&chars));
        Ok(())
    }

    proptest::proptest! {
        /// The byte tokenizer and the character tokenizer agree on any text over a small alphabet
        /// full of delimiters, quotes, line ends and spaces.
        #[test]
        fn byte_and_char_tokenizers_agree(text in "[a,\"\\r\\n é;]{0,40}") {
            tokenizers_agree(&text)?;
        }
    }

    proptest::proptest! {
        /// As above on longer texts of longer fields, where runs of ordinary bytes span several
        /// machine words.
        #[test]
        fn byte_and_char_tokenizers_agree_on_long_fields(text in "([a-z0-9.é ]{0,19}[,\"\r\n;]?){0,40}") {
            tokenizers_agree(&text)?;
        }
    }

    #[test]
    fn a_run_ends_at_the_first_stop_byte_in_any_word_position() {
        for len in 0..40 {
            for at in 0..=len {
                let mut text = vec![b'x'; len];
                if at < len {
                    text[at] = b',';
                }
                // Bytes that differ from a stop by one bit, or only in the high bit, are not stops.
                text.iter_mut()
                    .filter(|c| **c == b'x')
                    .enumerate()
                    .for_each(|(i, c)| *c = [b'x', b'-', 0xAC, b'.'][i % 4]);
                for from in 0..=at.min(len) {
                    assert_eq!(run_end(&text, from, len, [b',', b'"', b'\n', b'\n']), at.min(len), "{len} {at} {from}");
                }
            }
        }
    }

    #[test]
    fn pieces_tokenized_in_parallel_join_into_the_sequential_result() {
        let mut text = String::from("id,name,amount\n");
        for i in 0..400_000 {
            match i % 7 {
                0 => text.push_str(&format!("{i},\"multi\nline {i}\",1.5\r\n")),
                1 => text.push_str(&format!("{i},\"say \"\"{i}\"\"\",2\n\n")),
                _ => text.push_str(&format!("{i},plain {i},{}\n", i % 13)),
            }
        }
        assert!(text.len() > 2 * PARALLEL_PIECE);
        let (parallel, open) = tokenize_delimited(&text, b',', b'"');
        let (sequential, end) = tokenize_range(&text, 0, text.len(), b',', b'"', true);
        assert_eq!((open, end.unterminated), (None, None));
        assert_eq!(parallel.records, sequential.records);
        assert_eq!(records(&parallel), records(&sequential));
        // An unterminated quote far down is reported at its line either way.
        let broken = format!("{text}1,\"open\n2,3\n");
        let (_, open) = tokenize_delimited(&broken, b',', b'"');
        assert_eq!(open, Some(sequential.records.last().unwrap().line + 1));
    }

    #[test]
    fn duplicate_and_empty_headers_become_unique() {
        let (h, _) = unique_headers(&["a".into(), "a".into(), "".into()]);
        assert_eq!(h, vec!["a", "a_2", "column_3"]);
    }
}
