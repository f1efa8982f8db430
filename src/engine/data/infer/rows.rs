//! Reading the number and date columns of a table a block of rows at a time, while the rows' text
//! is in the processor's cache, rather than one column after another through the whole file.

use polars::prelude::*;

use super::parse::{number, short_float, short_whole, whole_number};
use super::{LEADING_ZERO, NOT_FINITE, is_missing, iso_date_days, numeric_column};

/// A table's cells in runs of consecutive rows, each run stored row after row (as a reader
/// tokenized it, in parallel pieces).
pub(in crate::engine::data) trait RowRuns: Sync {
    /// Each run's rows, in order.
    fn run_rows(&self) -> Vec<usize>;
    /// Column `column` of row `row` of run `run`: its text and first eight bytes (see
    /// [`super::Cells::cell_word`]).
    fn run_cell(&self, run: usize, row: usize, column: usize) -> (&str, u64);
    /// The same cell's first eight bytes and its length, where they can be had without making
    /// its text (short numbers are read from them alone); `None` otherwise.
    fn run_word(&self, run: usize, row: usize, column: usize) -> Option<(u64, usize)>;
}

/// What one of typing's passes gives for a column, found in advance: the whole-number or number
/// pass (the column and the flags OR-ed over its cells), or the `YYYY-MM-DD` dates pass (days).
#[derive(Clone)]
pub(in crate::engine::data) enum Numbers {
    Whole(Column, u8),
    Float(Column, u8),
    IsoDays(Column),
}

/// Which pass a column is tried with, from its first present cell.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Whole,
    Float,
    IsoDays,
}

/// A tried column's values, for every row.
enum Buffer {
    Whole(Vec<i64>),
    Float(Vec<f64>),
    IsoDays(Vec<i32>),
}

impl Buffer {
    /// The whole buffer to write, in fresh memory asked to come in huge pages.
    fn whole(&mut self) -> Out<'_> {
        use super::super::advise_huge_pages;
        match self {
            Buffer::Whole(v) => {
                advise_huge_pages(v);
                Out::Whole(v)
            }
            Buffer::Float(v) => {
                advise_huge_pages(v);
                Out::Float(v)
            }
            Buffer::IsoDays(v) => {
                advise_huge_pages(v);
                Out::IsoDays(v)
            }
        }
    }
}

/// Where one run writes one column (or what is left of a buffer to hand out).
enum Out<'a> {
    Whole(&'a mut [i64]),
    Float(&'a mut [f64]),
    IsoDays(&'a mut [i32]),
}

impl<'a> Out<'a> {
    /// The first `n` rows, which this no longer holds.
    fn take_front(&mut self, n: usize) -> Out<'a> {
        fn split<'a, T>(rest: &mut &'a mut [T], n: usize) -> &'a mut [T] {
            let (front, after) = std::mem::take(rest).split_at_mut(n);
            *rest = after;
            front
        }
        match self {
            Out::Whole(rest) => Out::Whole(split(rest, n)),
            Out::Float(rest) => Out::Float(split(rest, n)),
            Out::IsoDays(rest) => Out::IsoDays(split(rest, n)),
        }
    }
}

/// What one run found in one column.
#[derive(Default)]
struct Found {
    flags: u8,
    missing: Vec<usize>,
    failed: bool,
}

/// Rows read together: their text and cells stay in the processor's cache while every column is
/// read from them.
const BLOCK_ROWS: usize = 2048;

/// For each of `columns` (with its name), what typing's pass for it would give, each block of rows
/// visited once: a column is tried as whole numbers when its first present cell is one, as
/// numbers when that is a number, as `YYYY-MM-DD` dates when it is such a date, and not at all
/// otherwise; `None` where some cell does not read so (typing then reads that column its own
/// way). The values, flags and missing rows are exactly what typing's own passes give, as the same
/// readers make them.
pub(in crate::engine::data) fn numbers_by_rows(
    table: &impl RowRuns,
    columns: &[(usize, &str)],
) -> Vec<Option<Numbers>> {
    use rayon::prelude::*;
    let run_rows = table.run_rows();
    let rows: usize = run_rows.iter().sum();
    let first_present = |column: usize| {
        run_rows
            .iter()
            .enumerate()
            .find_map(|(run, &n)| (0..n).map(|row| table.run_cell(run, row, column)).find(|(s, _)| !is_missing(s)))
    };
    let kinds: Vec<Option<Kind>> = columns
        .iter()
        .map(|&(column, _)| {
            let (s, word) = first_present(column)?;
            if whole_number(s, word).is_some() {
                Some(Kind::Whole)
            } else if number(s, word).is_some() {
                Some(Kind::Float)
            } else {
                iso_date_days(s).map(|_| Kind::IsoDays)
            }
        })
        .collect();
    let tried: Vec<(usize, usize, Kind)> = columns
        .iter()
        .zip(&kinds)
        .enumerate()
        .filter_map(|(k, (&(c, _), kind))| kind.map(|kind| (k, c, kind)))
        .collect();
    if tried.is_empty() {
        return vec![None; columns.len()];
    }
    // One buffer per tried column, of its kind, and each run's part of every one.
    let mut buffers: Vec<Buffer> = tried
        .iter()
        .map(|&(_, _, kind)| match kind {
            Kind::Whole => Buffer::Whole(vec![0; rows]),
            Kind::Float => Buffer::Float(vec![0.0; rows]),
            Kind::IsoDays => Buffer::IsoDays(vec![0; rows]),
        })
        .collect();
    let mut rest: Vec<Out<'_>> = buffers.iter_mut().map(Buffer::whole).collect();
    let outs: Vec<Vec<Out<'_>>> =
        run_rows.iter().map(|&n| rest.iter_mut().map(|column| column.take_front(n)).collect()).collect();
    let rows_before: Vec<usize> =
        run_rows.iter().scan(0, |before, &n| Some(std::mem::replace(before, *before + n))).collect();
    let zero = |zero: bool| if zero { LEADING_ZERO } else { 0 };
    let found: Vec<Vec<Found>> = outs
        .into_par_iter()
        .enumerate()
        .map(|(run, mut outs)| {
            let mut found: Vec<Found> = tried.iter().map(|_| Found::default()).collect();
            let n = run_rows[run];
            for block in (0..n).step_by(BLOCK_ROWS) {
                let block = block..(block + BLOCK_ROWS).min(n);
                for ((out, &(_, column, _)), found) in outs.iter_mut().zip(&tried).zip(found.iter_mut()) {
                    let at = Cell { cell: |row: usize| table.run_cell(run, row, column), first: rows_before[run] };
                    let word = |row: usize| table.run_word(run, row, column);
                    match out {
                        Out::Whole(values) => read_block(
                            at,
                            block.clone(),
                            values,
                            found,
                            |row| {
                                let (word, len) = word(row)?;
                                short_whole(word, len).map(|v| v.map(|(v, z)| (v, zero(z))))
                            },
                            |s, word| whole_number(s, word).map(|(v, z)| (v, zero(z))),
                        ),
                        // Short numbers are finite.
                        Out::Float(values) => read_block(
                            at,
                            block.clone(),
                            values,
                            found,
                            |row| {
                                let (word, len) = word(row)?;
                                short_float(word, len).map(|(v, z)| Some((v, zero(z))))
                            },
                            |s, word| {
                                number(s, word).map(|(v, z)| (v, zero(z) | if v.is_finite() { 0 } else { NOT_FINITE }))
                            },
                        ),
                        Out::IsoDays(values) => read_block(
                            at,
                            block.clone(),
                            values,
                            found,
                            |_| None,
                            |s, _| iso_date_days(s).map(|d| (d, 0)),
                        ),
                    }
                }
            }
            found
        })
        .collect();
    let mut result = vec![None; columns.len()];
    for (t, (&(k, _, _), buffer)) in tried.iter().zip(buffers).enumerate() {
        if found.iter().any(|run| run[t].failed) {
            continue;
        }
        let name = columns[k].1;
        let flags = found.iter().fold(0, |f, run| f | run[t].flags);
        let missing = found.iter().flat_map(|run| run[t].missing.iter().copied());
        result[k] = Some(match buffer {
            Buffer::Whole(v) => Numbers::Whole(numeric_column(name, v, missing), flags),
            Buffer::Float(v) => Numbers::Float(numeric_column(name, v, missing), flags),
            Buffer::IsoDays(v) => Numbers::IsoDays(numeric_column(name, v, missing)),
        });
    }
    result
}

/// One column of one run: a row's cell (its text and first eight bytes), and the run's first row
/// in the table.
struct Cell<F> {
    cell: F,
    first: usize,
}

/// Reads rows `rows` of one column of one run into `values` (the run's part of the column): with
/// `short` where it reads the cell from its first bytes alone (`Some(None)` refuses it), else with
/// `parse` from its text; the missing rows are noted (counted from the run's first row), the flags
/// OR-ed, and the column marked failed at a cell refused.
#[inline(always)]
fn read_block<'t, T>(
    at: Cell<impl Fn(usize) -> (&'t str, u64)>,
    rows: std::ops::Range<usize>,
    values: &mut [T],
    found: &mut Found,
    short: impl Fn(usize) -> Option<Option<(T, u8)>>,
    parse: impl Fn(&str, u64) -> Option<(T, u8)>,
) {
    if found.failed {
        return;
    }
    let mut flags = found.flags;
    for (row, slot) in rows.clone().zip(&mut values[rows]) {
        // A short plain number is never a missing-value marker (none starts with a digit, or a
        // sign and a digit).
        match short(row) {
            Some(Some((value, f))) => {
                *slot = value;
                flags |= f;
                continue;
            }
            Some(None) => {
                found.failed = true;
                break;
            }
            None => {}
        }
        let (s, word) = (at.cell)(row);
        if is_missing(s) {
            found.missing.push(at.first + row);
            continue;
        }
        match parse(s, word) {
            Some((value, f)) => {
                *slot = value;
                flags |= f;
            }
            None => {
                found.failed = true;
                break;
            }
        }
    }
    found.flags = flags;
}
