//! Reading the number columns of a table in one visit of each row, while the row's text is in the
//! processor's cache, rather than one column after another through the whole file.

use polars::prelude::*;

use super::parse::{number, whole_number};
use super::{LEADING_ZERO, NOT_FINITE, is_missing, numeric_column};

/// A table's cells in runs of consecutive rows, each run stored row after row (as a reader
/// tokenized it, in parallel pieces).
pub(in crate::engine::data) trait RowRuns: Sync {
    /// Each run's rows, in order.
    fn run_rows(&self) -> Vec<usize>;
    /// Column `column` of row `row` of run `run`: its text and first eight bytes (see
    /// [`super::Cells::cell_word`]).
    fn run_cell(&self, run: usize, row: usize, column: usize) -> (&str, u64);
}

/// What typing's whole-number or number pass gives for a column (the column and the flags OR-ed
/// over its cells), found in advance.
#[derive(Clone)]
pub(in crate::engine::data) enum Numbers {
    Whole(Column, u8),
    Float(Column, u8),
}

/// Which pass a column is tried with, from its first present cell.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Whole,
    Float,
}

/// Where one run writes one column.
enum Out<'a> {
    Whole(&'a mut [i64]),
    Float(&'a mut [f64]),
}

/// What one run found in one column.
#[derive(Default)]
struct Found {
    flags: u8,
    missing: Vec<usize>,
    failed: bool,
}

/// For each of `columns` (with its name), the numbers typing would read in it, each row visited
/// once: a column is tried as whole numbers when its first present cell is one, as numbers when
/// it is a number with a point, and not at all otherwise; `None` where some cell is not such a
/// number (typing then reads that column its own way). The values, flags and missing rows are
/// exactly what typing's own passes give, as the same readers make them.
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
            if whole_number(s, word).is_some() { Some(Kind::Whole) } else { number(s, word).map(|_| Kind::Float) }
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
    let mut wholes: Vec<Vec<i64>> = Vec::new();
    let mut floats: Vec<Vec<f64>> = Vec::new();
    for &(_, _, kind) in &tried {
        match kind {
            Kind::Whole => wholes.push(vec![0; rows]),
            Kind::Float => floats.push(vec![0.0; rows]),
        }
    }
    for buffer in &mut wholes {
        super::super::advise_huge_pages(buffer);
    }
    for buffer in &mut floats {
        super::super::advise_huge_pages(buffer);
    }
    // Each run's part of every tried column's buffer.
    let mut outs: Vec<Vec<Out<'_>>> = run_rows.iter().map(|_| Vec::with_capacity(tried.len())).collect();
    {
        let mut whole_rest: Vec<&mut [i64]> = wholes.iter_mut().map(|b| b.as_mut_slice()).collect();
        let mut float_rest: Vec<&mut [f64]> = floats.iter_mut().map(|b| b.as_mut_slice()).collect();
        for (run, &n) in run_rows.iter().enumerate() {
            let (mut w, mut f) = (0, 0);
            for &(_, _, kind) in &tried {
                match kind {
                    Kind::Whole => {
                        let (mine, after) = std::mem::take(&mut whole_rest[w]).split_at_mut(n);
                        whole_rest[w] = after;
                        outs[run].push(Out::Whole(mine));
                        w += 1;
                    }
                    Kind::Float => {
                        let (mine, after) = std::mem::take(&mut float_rest[f]).split_at_mut(n);
                        float_rest[f] = after;
                        outs[run].push(Out::Float(mine));
                        f += 1;
                    }
                }
            }
        }
    }
    let rows_before: Vec<usize> =
        run_rows.iter().scan(0, |before, &n| Some(std::mem::replace(before, *before + n))).collect();
    let found: Vec<Vec<Found>> = outs
        .into_par_iter()
        .enumerate()
        .map(|(run, mut outs)| {
            let mut found: Vec<Found> = tried.iter().map(|_| Found::default()).collect();
            for row in 0..run_rows[run] {
                for ((out, &(_, column, _)), found) in outs.iter_mut().zip(&tried).zip(found.iter_mut()) {
                    if found.failed {
                        continue;
                    }
                    let (s, word) = table.run_cell(run, row, column);
                    if is_missing(s) {
                        found.missing.push(rows_before[run] + row);
                        continue;
                    }
                    let zero = |zero: bool| if zero { LEADING_ZERO } else { 0 };
                    match out {
                        Out::Whole(values) => match whole_number(s, word) {
                            Some((v, z)) => {
                                values[row] = v;
                                found.flags |= zero(z);
                            }
                            None => found.failed = true,
                        },
                        Out::Float(values) => match number(s, word) {
                            Some((v, z)) => {
                                values[row] = v;
                                found.flags |= zero(z) | if v.is_finite() { 0 } else { NOT_FINITE };
                            }
                            None => found.failed = true,
                        },
                    }
                }
            }
            found
        })
        .collect();
    let mut result = vec![None; columns.len()];
    let (mut wholes, mut floats) = (wholes.into_iter(), floats.into_iter());
    for (t, &(k, _, kind)) in tried.iter().enumerate() {
        let name = columns[k].1;
        let values = match kind {
            Kind::Whole => Ok(wholes.next()),
            Kind::Float => Err(floats.next()),
        };
        if found.iter().any(|run| run[t].failed) {
            continue;
        }
        let flags = found.iter().fold(0, |f, run| f | run[t].flags);
        let missing = found.iter().flat_map(|run| run[t].missing.iter().copied());
        result[k] = match values {
            Ok(Some(values)) => Some(Numbers::Whole(numeric_column(name, values, missing), flags)),
            Err(Some(values)) => Some(Numbers::Float(numeric_column(name, values, missing), flags)),
            _ => None,
        };
    }
    result
}
