//! Splitting text into records and fields: RFC 4180 quoting byte by byte (or character by
//! character for a delimiter outside ASCII), plain fields 64 bytes at a time, large texts in
//! parallel pieces; every field borrowed from the text where it can be.

use super::cell_text;
use crate::engine::data::sniff::Delimiter;

/// A record: the 1-based line it starts on, and where its fields are in the flat cell list.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Record {
    pub line: usize,
    pub first: usize,
    pub fields: usize,
}

/// Every field of every record, in order, and the records that are not of the usual width. A field
/// is one word: where it is a plain slice of the text (unescaped fields are) its offset and length,
/// otherwise the index of its own string; a word per cell keeps a ten-million-row file's cells to a
/// few hundred megabytes. A record of `width` fields (nearly every one in a well-formed file) is
/// only counted: it is the next `width` cells. The others (a short or long line, and every record
/// when no width is given) are kept with their lines, which is all a bad row needs to be named.
pub(super) struct Tokens<'a> {
    pub text: &'a str,
    pub cells: Vec<u64>,
    pub owned: Vec<String>,
    /// The records whose field count is not `width`, in order.
    pub odd: Vec<Record>,
    /// `None` until the first record ends, whose width it then takes; `usize::MAX` keeps every
    /// record.
    pub width: Option<usize>,
}

/// The top bit marks an owned field; otherwise the low 40 bits are the offset, the next 23 the length.
pub(super) const OWNED: u64 = 1 << 63;
pub(super) const OFFSET_BITS: u32 = 40;
const MAX_SLICE_LEN: usize = (1 << 23) - 1;

impl<'a> Tokens<'a> {
    fn new(text: &'a str, cells: usize, width: Option<usize>) -> Self {
        Tokens { text, cells: Vec::with_capacity(cells), owned: Vec::new(), odd: Vec::new(), width }
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
        let fields = self.cells.len() - first;
        if self.width.is_none() {
            self.width = Some(fields);
        } else if Some(fields) != self.width {
            self.odd.push(Record { line, first, fields });
        }
    }

    /// Every record in order, as (first cell, fields): the odd ones where they are, and runs of
    /// `width` cells between them.
    pub(super) fn spans(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        let mut at = 0;
        let mut odd = self.odd.iter().peekable();
        std::iter::from_fn(move || {
            if let Some(r) = odd.next_if(|r| r.first == at) {
                at += r.fields;
                return Some((r.first, r.fields));
            }
            let width = self.width.filter(|&w| w > 0 && w <= self.cells.len() - at)?;
            at += width;
            Some((at - width, width))
        })
    }

    /// A record's fields as strings (for the header and the sniffer's sample).
    pub(super) fn owned_fields(&self, (first, fields): (usize, usize)) -> Vec<String> {
        (first..first + fields).map(|k| cell_text(self.text, &self.owned, self.cells[k]).to_string()).collect()
    }
}

/// Splits text into records; returns them and the line of an unterminated quote, if any. The
/// records are in one list, or in several (the pieces read in parallel, in order) where every
/// record is as wide as the first.
pub(super) fn tokenize(text: &str, delimiter: Delimiter, quote: char) -> (Vec<Tokens<'_>>, Option<usize>) {
    match delimiter {
        Delimiter::Whitespace => (vec![tokenize_whitespace(text)], None),
        Delimiter::Char(d) if d.is_ascii() && quote.is_ascii() => tokenize_delimited(text, d as u8, quote as u8),
        Delimiter::Char(d) => {
            let (tokens, open) = tokenize_delimited_chars(text, d, quote);
            (vec![tokens], open)
        }
    }
}

fn tokenize_whitespace(text: &str) -> Tokens<'_> {
    let mut tokens = Tokens::new(text, 0, None);
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
/// A large text is read in pieces in parallel; where every record is as wide as the first, the
/// pieces' records are returned as they are, in order (typing reads them there), otherwise joined.
fn tokenize_delimited(text: &str, delimiter: u8, quote: u8) -> (Vec<Tokens<'_>>, Option<usize>) {
    use rayon::prelude::*;
    let b = text.as_bytes();
    // Pieces of about PARALLEL_PIECE bytes, each ending just after a line feed, tokenized in
    // parallel as if each began a record. That holds unless a piece ends inside a quoted field
    // (which spans lines); then the whole text is tokenized in one piece instead.
    let pieces = b.len() / PARALLEL_PIECE;
    if pieces >= 2 {
        // Every piece needs the width of the first record to know which records are odd: read from
        // the first line when a record ends there, otherwise every record is kept as odd.
        let first_line = memchr::memchr(b'\n', b).map_or(b.len(), |p| p + 1);
        let width = tokenize_range(text, 0, first_line, delimiter, quote, false, None).0.width;
        let width = Some(width.unwrap_or(usize::MAX));
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
            .map(|(i, w)| tokenize_range(text, w[0], w[1], delimiter, quote, i + 2 == bounds.len(), width))
            .collect();
        let last = parts.len() - 1;
        if parts.iter().take(last).all(|(_, end)| end.unterminated.is_none()) {
            let regular = width != Some(usize::MAX)
                && parts.iter().all(|(tokens, end)| tokens.odd.is_empty() && end.unterminated.is_none());
            if regular {
                return (parts.into_iter().map(|(tokens, _)| tokens).collect(), None);
            }
            let (tokens, open) = merge(text, parts);
            return (vec![tokens], open);
        }
    }
    let (tokens, end) = tokenize_range(text, 0, b.len(), delimiter, quote, true, None);
    (vec![tokens], end.unterminated)
}

/// Bytes per piece when tokenizing in parallel.
pub(super) const PARALLEL_PIECE: usize = 4 << 20;

/// How a range of text ended: lines it spanned, and the line of a quote still open at its end.
struct RangeEnd {
    lines: usize,
    unterminated: Option<usize>,
}

/// Joins the tokens of consecutive pieces (all tokenized with the same width) into one list, row
/// after row: cell and owned-string indices and line numbers are shifted by what came before. The
/// cells are copied in parallel, each piece into its own part of a list sized up front.
fn merge<'a>(text: &'a str, parts: Vec<(Tokens<'a>, RangeEnd)>) -> (Tokens<'a>, Option<usize>) {
    use rayon::prelude::*;
    let width = parts.first().and_then(|p| p.0.width);
    let mut out = Tokens::new(text, 0, width);
    let total: usize = parts.iter().map(|p| p.0.cells.len()).sum();
    let owned_offsets: Vec<u64> = parts
        .iter()
        .scan(0u64, |before, p| {
            let offset = *before;
            *before += p.0.owned.len() as u64;
            Some(offset)
        })
        .collect();
    let shift = |c: u64, offset: u64| if c & OWNED != 0 { c + offset } else { c };
    // Zeroed memory comes from the system untouched; each page is touched once, by its copy.
    let mut cells = vec![0; total];
    crate::engine::data::advise_huge_pages(&mut cells);
    let mut copies = Vec::with_capacity(parts.len());
    let mut rest = cells.as_mut_slice();
    for ((part, _), &offset) in parts.iter().zip(&owned_offsets) {
        let (into, after) = rest.split_at_mut(part.cells.len());
        copies.push((into, &part.cells, offset));
        rest = after;
    }
    copies.into_par_iter().for_each(|(into, cells, offset)| {
        for (to, &c) in into.iter_mut().zip(cells) {
            *to = shift(c, offset);
        }
    });
    out.cells = cells;
    let mut lines_before = 0;
    let mut cells_before = 0;
    let mut unterminated = None;
    for (part, end) in parts {
        out.owned.extend(part.owned);
        out.odd.extend(part.odd.iter().map(|r| Record {
            line: r.line + lines_before,
            first: r.first + cells_before,
            fields: r.fields,
        }));
        unterminated = end.unterminated.map(|l| l + lines_before);
        lines_before += end.lines;
        cells_before += part.cells.len();
    }
    (out, unterminated)
}

/// Tokenizes `text[from..to]` as if a record began at `from`; `last` when the range ends the text
/// (otherwise it ends just after a line feed). Line numbers count from 1 at `from`. Records of
/// `width` fields are only counted (the first record's width when `None`).
fn tokenize_range(
    text: &str,
    from: usize,
    to: usize,
    delimiter: u8,
    quote: u8,
    last: bool,
    width: Option<usize>,
) -> (Tokens<'_>, RangeEnd) {
    let b = text.as_bytes();
    // Sized up front from the line count and the first line's fields: growing a vector of tens of
    // millions of cells by doubling spends more time copying and faulting in pages than tokenizing.
    let lines = memchr::memchr_iter(b'\n', &b[from..to]).count() + 1;
    let first_line = memchr::memchr(b'\n', &b[from..to]).map_or(to, |p| from + p);
    let per_line = memchr::memchr_iter(delimiter, &b[from..first_line]).count() + 1;
    let mut tokens = Tokens::new(text, lines * per_line, width);
    crate::engine::data::advise_huge_pages(tokens.cells.spare_capacity_mut());
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
    // Blocks of 64 bytes before this are read byte by byte (they hold a quote or a lone carriage return).
    let mut bytewise_until = from;
    while i < to {
        // A plain field in progress and a block without quotes ahead: its fields end at its
        // delimiters and line ends, found all at once (as the byte-by-byte rules below would).
        if !in_quotes
            && i >= bytewise_until
            && let Field::Slice(start, end) = field
            && end == i
            && let Some(block) = b[..to].get(i..i + BLOCK).and_then(|block| <&[u8; BLOCK]>::try_from(block).ok())
        {
            let (delimiters, line_feeds, returns, quotes) = block_masks(block, delimiter, quote);
            // A carriage return just before a line feed only ends the field.
            if quotes | (returns & !(line_feeds >> 1)) == 0 {
                let mut field_start = start;
                let mut ends = delimiters | line_feeds;
                while ends != 0 {
                    let at = i + ends.trailing_zeros() as usize;
                    ends &= ends - 1;
                    if delimiters >> (at - i) & 1 != 0 {
                        tokens.push_slice(field_start, at);
                        record_has_content = true;
                    } else {
                        let field_end = if at > field_start && b[at - 1] == b'\r' { at - 1 } else { at };
                        if record_has_content || !text[field_start..field_end].trim().is_empty() {
                            tokens.push_slice(field_start, field_end);
                            tokens.end_record(record_line, record_first);
                        }
                        record_first = tokens.cells.len();
                        record_has_content = false;
                        line += 1;
                        record_line = line;
                    }
                    field_start = at + 1;
                }
                field = Field::Slice(field_start, i + BLOCK);
                i += BLOCK;
                continue;
            }
            bytewise_until = i + BLOCK;
        }
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

/// Bytes the tokenizer looks at together for the ends of plain fields.
const BLOCK: usize = 64;

/// Bit `j` of each mask is set where byte `j` of the block is the delimiter, a line feed, a carriage
/// return or the quote.
#[inline]
fn block_masks(block: &[u8; BLOCK], delimiter: u8, quote: u8) -> (u64, u64, u64, u64) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8};
        let mut masks = [0u64; 4];
        for (k, lane) in block.chunks_exact(16).enumerate() {
            // SAFETY: SSE2 is part of every x86-64 processor, and `lane` is 16 readable bytes,
            // which an unaligned load reads.
            unsafe {
                let v = _mm_loadu_si128(lane.as_ptr().cast::<__m128i>());
                for (mask, byte) in masks.iter_mut().zip([delimiter, b'\n', b'\r', quote]) {
                    let equal = _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(byte as i8)));
                    *mask |= u64::from(equal as u16) << (16 * k);
                }
            }
        }
        (masks[0], masks[1], masks[2], masks[3])
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let mask = |byte: u8| block.iter().rev().fold(0u64, |m, &c| m << 1 | u64::from(c == byte));
        (mask(delimiter), mask(b'\n'), mask(b'\r'), mask(quote))
    }
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
    let mut tokens = Tokens::new(text, 0, None);
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
        tokens.spans().map(|span| tokens.owned_fields(span)).collect()
    }

    /// The records of pieces, in order.
    fn records_of(pieces: &[Tokens<'_>]) -> Vec<Vec<String>> {
        pieces.iter().flat_map(records).collect()
    }

    /// A text small enough to be tokenized in one piece.
    fn one_piece(text: &str) -> (Tokens<'_>, Option<usize>) {
        let (mut pieces, open) = tokenize_delimited(text, b',', b'"');
        assert_eq!(pieces.len(), 1);
        (pieces.remove(0), open)
    }

    /// Every record with its line: the text tokenized in one piece, keeping every record.
    fn every_record(text: &str) -> Vec<Record> {
        tokenize_range(text, 0, text.len(), b',', b'"', true, Some(usize::MAX)).0.odd
    }

    fn fields(text: &str) -> Vec<Vec<String>> {
        records(&one_piece(text).0)
    }

    #[test]
    fn quoted_fields_with_delimiters_newlines_and_escapes() {
        let rows = fields("a,b\n\"x, y\",\"say \"\"hi\"\"\"\n\"multi\nline\",2\n");
        assert_eq!(rows[1], vec!["x, y", "say \"hi\""]);
        assert_eq!(rows[2], vec!["multi\nline", "2"]);
    }

    #[test]
    fn line_numbers_follow_embedded_newlines() {
        let text = "a,b\n\"1\n2\",3\n4,5,6\n";
        assert_eq!(every_record(text).iter().map(|r| r.line).collect::<Vec<_>>(), vec![1, 2, 4]);
        // Only the record not as wide as the first is kept, with its line.
        let (tokens, _) = one_piece(text);
        assert_eq!(tokens.odd, vec![Record { line: 4, first: 4, fields: 3 }]);
        assert_eq!(tokens.spans().collect::<Vec<_>>(), vec![(0, 2), (2, 2), (4, 3)]);
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
        let (tokens, _) = one_piece("id,name\n1,\"Ann\"\n2,\"B\"\"o\"\n");
        let borrowed: Vec<bool> = tokens.cells.iter().map(|c| c & OWNED == 0).collect();
        assert_eq!(borrowed, vec![true, true, true, true, true, false]);
    }

    /// The byte and the character tokenizers give the same records, lines and open quote; both
    /// keep the same records as odd (not as wide as the first), at the same lines, and keeping
    /// every record gives every line the same.
    fn tokenizers_agree(text: &str) -> Result<(), proptest::test_runner::TestCaseError> {
        let (bytes, bytes_open) = one_piece(text);
        let (chars, chars_open) = tokenize_delimited_chars(text, ',', '"');
        proptest::prop_assert_eq!(bytes_open, chars_open);
        proptest::prop_assert_eq!(records(&bytes), records(&chars));
        proptest::prop_assert_eq!(&bytes.odd, &chars.odd);
        let every = tokenize_range(text, 0, text.len(), b',', b'"', true, Some(usize::MAX)).0;
        proptest::prop_assert_eq!(records(&every), records(&chars));
        let lines = |t: &Tokens<'_>| t.odd.iter().map(|r| r.line).collect::<Vec<_>>();
        let first_width = chars.spans().next().map(|(_, fields)| fields);
        let odd_lines: Vec<usize> =
            every_record(text).iter().filter(|r| Some(r.fields) != first_width).map(|r| r.line).collect();
        proptest::prop_assert_eq!(lines(&bytes), odd_lines);
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
        /// On long texts of plain fields with line ends of every kind (read 64 bytes at a time)
        /// and now and then a quote (where blocks are read byte by byte).
        #[test]
        fn byte_and_char_tokenizers_agree_on_blocks(
            text in "([a-z0-9 é]{0,12}(,|,|,|\n|\r\n|\r|\"|\n\n| \n)){0,400}"
        ) {
            tokenizers_agree(&text)?;
        }

        /// As above without quotes or lone carriage returns, so that every block is read whole.
        #[test]
        fn byte_and_char_tokenizers_agree_on_plain_blocks(
            text in "([a-z0-9 é]{0,12}(,|,|,|\n|\r\n|\n\n| \n|\t\r\n)){0,400}"
        ) {
            tokenizers_agree(&text)?;
        }

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
        let mut odd_rows = String::from("id,name,amount\n");
        for i in 0..400_000 {
            // A few short and long rows, far apart.
            match i {
                100_000 => odd_rows.push_str("7,8\n"),
                200_000 | 399_990 => odd_rows.push_str("1,2,3,4\n"),
                _ => {}
            }
            let before = text.len();
            match i % 7 {
                0 => text.push_str(&format!("{i},\"multi\nline {i}\",1.5\r\n")),
                1 => text.push_str(&format!("{i},\"say \"\"{i}\"\"\",2\n\n")),
                _ => text.push_str(&format!("{i},plain {i},{}\n", i % 13)),
            }
            odd_rows.push_str(&text[before..]);
        }
        assert!(text.len() > 2 * PARALLEL_PIECE);
        // Every record as wide as the first: the pieces are kept as they are, in order.
        let (pieces, open) = tokenize_delimited(&text, b',', b'"');
        let (sequential, end) = tokenize_range(&text, 0, text.len(), b',', b'"', true, None);
        assert_eq!((open, end.unterminated), (None, None));
        assert!(pieces.len() >= 2 && pieces.iter().all(|p| p.odd.is_empty() && p.width == Some(3)));
        assert!(sequential.odd.is_empty());
        assert_eq!(records_of(&pieces), records(&sequential));
        // With odd records, the pieces are joined into one list, row after row.
        let text = odd_rows;
        let (mut pieces, open) = tokenize_delimited(&text, b',', b'"');
        assert_eq!(pieces.len(), 1);
        let parallel = pieces.remove(0);
        let (sequential, end) = tokenize_range(&text, 0, text.len(), b',', b'"', true, None);
        assert_eq!((open, end.unterminated), (None, None));
        assert_eq!(parallel.width, Some(3));
        assert_eq!(parallel.odd, sequential.odd);
        assert_eq!(parallel.odd.len(), 3);
        assert_eq!(records(&parallel), records(&sequential));
        let every = every_record(&text);
        assert_eq!(parallel.odd, every.iter().filter(|r| r.fields != 3).copied().collect::<Vec<_>>());
        // An unterminated quote far down is reported at its line either way.
        let broken = format!("{text}1,\"open\n2,3\n");
        let (_, open) = tokenize_delimited(&broken, b',', b'"');
        assert_eq!(open, Some(every.last().unwrap().line + 1));
    }
}
