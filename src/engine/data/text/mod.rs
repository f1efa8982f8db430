//! Delimited and whitespace-aligned text: decoding, tokenizing with line numbers, bad-row handling.

use std::borrow::Cow;
use std::path::Path;

use super::formats::{ReadAs, ValueFormats};
use super::infer::{Cells, RawTable, RowRuns, build_frame_with, numbers_by_rows, padded_word, unique_headers};
use super::sniff::{Dialect, sniff_delimiter, sniff_header, sniff_quote};
use super::{LoadedTable, ReadOptions, TextEncoding};
use crate::engine::error::DataError;

mod tokenize;
#[cfg(test)]
use tokenize::PARALLEL_PIECE;
use tokenize::{OFFSET_BITS, OWNED, Record, tokenize};

/// How many bad line numbers an error or warning names.
const LINES_NAMED: usize = 5;

/// Where a cell that is a slice of the text lies: its offset and length (meaningless for an
/// owned cell).
#[inline(always)]
fn slice_of(cell: u64) -> (usize, usize) {
    ((cell & ((1 << OFFSET_BITS) - 1)) as usize, (cell >> OFFSET_BITS) as usize)
}

/// The text of one cell.
#[inline]
fn cell_text<'t>(text: &'t str, owned: &'t [String], cell: u64) -> &'t str {
    if cell & OWNED != 0 {
        &owned[(cell & !OWNED) as usize]
    } else {
        let (start, len) = slice_of(cell);
        &text[start..start + len]
    }
}

/// The eight bytes of the text from where a borrowed cell starts, where there are eight.
#[inline(always)]
fn word_at(text: &str, cell: u64) -> Option<u64> {
    let start = slice_of(cell).0;
    let word = text.as_bytes().get(start..start + 8).and_then(|b| <[u8; 8]>::try_from(b).ok())?;
    (cell & OWNED == 0).then(|| u64::from_le_bytes(word))
}

/// A cell's text and its first eight bytes (see [`Cells::cell_word`]): read from the text where the
/// cell lies (past a short cell's end the word holds the text that follows), without copying.
#[inline(always)]
fn cell_and_word<'t>(text: &'t str, owned: &'t [String], cell: u64) -> (&'t str, u64) {
    let s = cell_text(text, owned, cell);
    (s, word_at(text, cell).unwrap_or_else(|| padded_word(s)))
}

/// Consecutive data records, each `width` cells stored row after row, as one piece of the file
/// was tokenized; `owned` are that piece's own strings.
struct Run<'t> {
    cells: &'t [u64],
    owned: &'t [String],
    first_row: usize,
}

/// The data records of a file, all `width` wide, in runs of consecutive rows where the pieces
/// read in parallel left them: typing reads them there (a row's cells side by side, as its text
/// is), without joining the pieces into one list first.
struct Records<'t> {
    text: &'t str,
    runs: Vec<Run<'t>>,
    width: usize,
    rows: usize,
    /// For every `1 << LOOKUP_SHIFT` rows, the run their first row is in.
    lookup: Vec<u32>,
}

const LOOKUP_SHIFT: u32 = 12;

impl<'t> Records<'t> {
    /// Runs given as (cells, owned strings), in order.
    fn new(text: &'t str, runs: Vec<(&'t [u64], &'t [String])>, width: usize) -> Self {
        let mut first_row = 0;
        let runs: Vec<Run<'t>> = runs
            .into_iter()
            .map(|(cells, owned)| {
                let run = Run { cells, owned, first_row };
                first_row += cells.len() / width.max(1);
                run
            })
            .collect();
        let rows = first_row;
        let mut lookup = Vec::with_capacity((rows >> LOOKUP_SHIFT) + 1);
        let mut k = 0;
        for block in 0..=(rows >> LOOKUP_SHIFT) {
            while k + 1 < runs.len() && runs[k + 1].first_row <= block << LOOKUP_SHIFT {
                k += 1;
            }
            lookup.push(k as u32);
        }
        Records { text, runs, width, rows, lookup }
    }

    /// The run row `row` is in.
    #[inline(always)]
    fn run_of(&self, row: usize) -> &Run<'t> {
        if self.runs.len() == 1 {
            return &self.runs[0];
        }
        let mut k = self.lookup[row >> LOOKUP_SHIFT] as usize;
        while k + 1 < self.runs.len() && self.runs[k + 1].first_row <= row {
            k += 1;
        }
        &self.runs[k]
    }

    #[inline(always)]
    fn cell(&self, row: usize, column: usize) -> (&[String], u64) {
        let run = self.run_of(row);
        (run.owned, run.cells[(row - run.first_row) * self.width + column])
    }
}

impl RowRuns for Records<'_> {
    fn run_rows(&self) -> Vec<usize> {
        self.runs.iter().map(|run| run.cells.len() / self.width.max(1)).collect()
    }
    #[inline(always)]
    fn run_cell(&self, run: usize, row: usize, column: usize) -> (&str, u64) {
        let run = &self.runs[run];
        cell_and_word(self.text, run.owned, run.cells[row * self.width + column])
    }
    #[inline(always)]
    fn run_word(&self, run: usize, row: usize, column: usize) -> Option<(u64, usize)> {
        let cell = self.runs[run].cells[row * self.width + column];
        Some((word_at(self.text, cell)?, slice_of(cell).1))
    }
}

/// One column of [`Records`].
struct Strided<'t> {
    records: &'t Records<'t>,
    column: usize,
}

impl Cells for Strided<'_> {
    fn len(&self) -> usize {
        self.records.rows
    }
    #[inline]
    fn cell(&self, i: usize) -> &str {
        let (owned, cell) = self.records.cell(i, self.column);
        cell_text(self.records.text, owned, cell)
    }
    #[inline(always)]
    fn cell_word(&self, i: usize) -> (&str, u64) {
        let (owned, cell) = self.records.cell(i, self.column);
        cell_and_word(self.records.text, owned, cell)
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
    let (pieces, unterminated_at) = tokenize(&text, delimiter, quote);
    // Every record in order, with the piece it is in.
    let spans = || pieces.iter().flat_map(|tokens| tokens.spans().map(move |span| (tokens, span)));
    let Some((first_tokens, first)) = spans().next() else {
        return Err(DataError::NoDataRows { path: path.to_path_buf() });
    };
    let first_fields = first_tokens.owned_fields(first);
    let rest_fields: Vec<Vec<String>> =
        spans().skip(1).take(100).map(|(tokens, span)| tokens.owned_fields(span)).collect();
    let has_header = options.has_header.unwrap_or_else(|| sniff_header(&first_fields, &rest_fields));
    let headers: Vec<String> = if has_header {
        let (headers, header_warnings) = unique_headers(&first_fields);
        warnings.extend(header_warnings);
        headers
    } else {
        (1..=first.1).map(|i| format!("column_{i}")).collect()
    };
    let width = headers.len();
    let mut skipped_lines = Vec::new();
    // The kept records' cells: slices of the pieces' cell lists where every data record has the
    // header's width (the usual case), gathered without the others when they are skipped.
    let gathered: Vec<u64>;
    let runs: Vec<(&[u64], &[String])> = match pieces.as_slice() {
        [tokens] => {
            // The data records are the cells from the one after the header (the first without
            // one) to the end, or to the record after the sample's last.
            let start = if has_header { first.1 } else { 0 };
            let end = match options.sample_rows {
                Some(n) => tokens.spans().nth(usize::from(has_header) + n).map_or(tokens.cells.len(), |(at, _)| at),
                None => tokens.cells.len(),
            };
            if start >= end {
                return Err(DataError::NoDataRows { path: path.to_path_buf() });
            }
            let odd = |r: &&Record| (start..end).contains(&r.first) && r.fields != width;
            let mut bad_lines: Vec<usize> = tokens.odd.iter().filter(odd).map(|r| r.line).collect();
            let mut details = Vec::new();
            if !bad_lines.is_empty() {
                details.push(format!("expected {width} fields as in the header"));
            }
            if let Some(line) = unterminated_at {
                bad_lines.push(line);
                details.push(format!("unterminated quote starting at line {line}"));
            }
            if bad_lines.is_empty() {
                vec![(&tokens.cells[start..end], tokens.owned.as_slice())]
            } else {
                if !options.skip_bad_rows {
                    return Err(DataError::MalformedRows {
                        path: path.to_path_buf(),
                        first_lines: bad_lines.iter().copied().take(LINES_NAMED).collect(),
                        count: bad_lines.len(),
                        detail: details.join("; "),
                    });
                }
                // (The record an unterminated quote opened never ended, so it has no cells.)
                gathered = tokens
                    .spans()
                    .filter(|&(at, fields)| (start..end).contains(&at) && fields == width)
                    .flat_map(|(at, fields)| tokens.cells[at..at + fields].iter().copied())
                    .collect();
                warnings.push(format!(
                    "{} malformed row(s) skipped at your request ({}), first at line(s) {}",
                    bad_lines.len(),
                    details.join("; "),
                    bad_lines.iter().take(LINES_NAMED).map(|l| l.to_string()).collect::<Vec<_>>().join(", ")
                ));
                skipped_lines = bad_lines;
                if gathered.is_empty() {
                    return Err(DataError::NoDataRows { path: path.to_path_buf() });
                }
                vec![(gathered.as_slice(), tokens.owned.as_slice())]
            }
        }
        // Pieces read in parallel, every record as wide as the first (see `tokenize_delimited`):
        // each piece's records after the header, up to the sample's last.
        _ => {
            let mut left = options.sample_rows.unwrap_or(usize::MAX);
            let mut runs = Vec::with_capacity(pieces.len());
            // The header is the first record, in the first piece that has any.
            let mut header = usize::from(has_header) * width;
            for tokens in &pieces {
                let skip = header.min(tokens.cells.len());
                header -= skip;
                let rows = ((tokens.cells.len() - skip) / width.max(1)).min(left);
                left -= rows;
                runs.push((&tokens.cells[skip..skip + rows * width], tokens.owned.as_slice()));
            }
            if runs.iter().all(|(cells, _)| cells.is_empty()) {
                return Err(DataError::NoDataRows { path: path.to_path_buf() });
            }
            runs
        }
    };
    let records = Records::new(&text, runs, width);
    let columns = (0..width).map(|column| Strided { records: &records, column }).collect();
    let mut raw = RawTable { headers, columns, numbers: Vec::new() }.project(keep_columns);
    // The number columns read in one visit of each row (columns kept as text are not tried).
    let tried_name = |name: &String| !text_columns.contains(name) && formats.read_as(name) != ReadAs::Text;
    let tried: Vec<(usize, &str)> = raw
        .columns
        .iter()
        .zip(&raw.headers)
        .filter(|(_, name)| tried_name(name))
        .map(|(values, name)| (values.column, name.as_str()))
        .collect();
    let mut found = numbers_by_rows(&records, &tried).into_iter();
    raw.numbers = raw.headers.iter().map(|name| if tried_name(name) { found.next().flatten() } else { None }).collect();
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
        // Checked with SIMD (a pass over the whole file); std's check only to say where it is not.
        TextEncoding::Utf8 => match simdutf8::basic::from_utf8(bytes) {
            Ok(text) => Ok((Cow::Borrowed(text), 0)),
            Err(_) => Err(DataError::NotUtf8 {
                path: path.to_path_buf(),
                offset: std::str::from_utf8(bytes).err().map_or(0, |e| e.valid_up_to()),
            }),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_read_in_parallel_pieces_gives_every_value_in_its_column() {
        use crate::engine::data::{ReadOptions, read_text};
        use polars::prelude::DataType;
        let n = 600_000;
        let mut text = String::from("id,when,amount,name\n");
        for i in 0..n {
            text.push_str(&format!(
                "{i},2024-{:02}-{:02},{}.{:02},n{}\n",
                i % 12 + 1,
                i % 28 + 1,
                i % 1000,
                i % 100,
                i % 7
            ));
        }
        assert!(text.len() > 2 * PARALLEL_PIECE);
        let check = |table: &crate::engine::data::LoadedTable, rows: usize| {
            let frame = &table.frame;
            assert_eq!(frame.height(), rows);
            let ids: Vec<i64> = frame.column("id").unwrap().i64().unwrap().into_no_null_iter().collect();
            assert_eq!(ids, (0..rows as i64).collect::<Vec<_>>());
            assert_eq!(frame.column("when").unwrap().dtype(), &DataType::Date);
            let amounts: Vec<f64> = frame.column("amount").unwrap().f64().unwrap().into_no_null_iter().collect();
            let expected: Vec<f64> =
                (0..rows).map(|i| format!("{}.{:02}", i % 1000, i % 100).parse().unwrap()).collect();
            assert_eq!(amounts, expected);
            let names = frame.column("name").unwrap();
            assert_eq!(names.str().unwrap().get(rows - 1), Some(format!("n{}", (rows - 1) % 7).as_str()));
        };
        let options = ReadOptions::default();
        check(&read_text(text.as_bytes(), Path::new("big.csv"), &options).unwrap(), n);
        check(
            &read_text(
                text.as_bytes(),
                Path::new("big.csv"),
                &ReadOptions { sample_rows: Some(1234), ..options.clone() },
            )
            .unwrap(),
            1234,
        );
        // A quote left open on the last line: refused, or that record skipped when asked.
        let open = format!("{text}{n},\"2024-01-01,1.5,open\n");
        let refused = read_text(open.as_bytes(), Path::new("big.csv"), &options).unwrap_err().to_string();
        assert!(refused.contains("unterminated quote starting at line 600002"), "{refused}");
        let skipped =
            read_text(open.as_bytes(), Path::new("big.csv"), &ReadOptions { skip_bad_rows: true, ..options }).unwrap();
        check(&skipped, n);
        assert_eq!(skipped.skipped_lines, vec![n + 2]);
    }

    #[test]
    fn duplicate_and_empty_headers_become_unique() {
        let (h, _) = unique_headers(&["a".into(), "a".into(), "".into()]);
        assert_eq!(h, vec!["a", "a_2", "column_3"]);
    }
}
