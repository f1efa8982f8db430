//! Small-cell suppression never leaks a count under the threshold through totals or percentages
//! (issue 20): over random small tables, a reader who sees every shown cell and total, and knows
//! how Strata suppresses (a "<10" is 1 to 9, a "hidden" cell at least 10, zero is always shown),
//! cannot pin any small count to one value, and no line's hidden cells add up to a small count.
//!
//! The reader's search is brute force, independent of the engine's: every table that agrees with
//! what is shown, each hidden cell within one of its true count. That window is enough: two tables
//! that agree on every total differ by a sum of cycles along which the cells move alternately up
//! and down, and moving one unit along one such cycle (the one through a cell whose count differs)
//! keeps every cell within what the reader knows of it; so if any other value is possible for a
//! cell, a neighbouring value is possible within the window.

// Tests may unwrap: a failed unwrap is a failed test with its line.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use strata::engine::governance::suppress::{
    Cell, Sizes, is_small, line_with_total, share, share_of, table_with_totals,
};

/// What a reader knows of a cell: exactly its count, or a range.
#[derive(Clone, Copy, Debug)]
struct Known {
    truth: i64,
    lo: i64,
    hi: i64,
    shown: bool,
    small: bool,
}

fn known(cell: Cell, truth: usize, threshold: usize, everything_hidden: bool) -> Known {
    let t = threshold as i64;
    let truth = truth as i64;
    // With a threshold of 2 the label "<2" itself says 1; such cells are checked against a reader
    // who knows only that hidden counts are not negative (recovery through the totals). So is a
    // table hidden as a whole (the last resort, when its counts are too few to protect).
    let weak = threshold < 3 || everything_hidden;
    match cell {
        Cell::Count(n) => Known { truth: n as i64, lo: n as i64, hi: n as i64, shown: true, small: false },
        Cell::Small if weak => Known { truth, lo: 0, hi: i64::MAX, shown: false, small: true },
        Cell::Small => Known { truth, lo: 1, hi: t - 1, shown: false, small: true },
        Cell::Complement if weak => Known { truth, lo: 0, hi: i64::MAX, shown: false, small: false },
        Cell::Complement => Known { truth, lo: t, hi: i64::MAX, shown: false, small: false },
    }
}

/// Equations over cells: each a list of (cell, coefficient) summing to zero.
struct Puzzle {
    cells: Vec<Known>,
    equations: Vec<Vec<(usize, i64)>>,
}

impl Puzzle {
    /// For each small cell, whether some table agreeing with what is shown gives it another value.
    fn movable(&self) -> Vec<(usize, bool)> {
        let hidden: Vec<usize> = (0..self.cells.len()).filter(|&i| !self.cells[i].shown).collect();
        let targets: Vec<usize> = hidden.iter().copied().filter(|&i| self.cells[i].small).collect();
        let mut moved = vec![false; self.cells.len()];
        let mut value: Vec<Option<i64>> =
            self.cells.iter().map(|c| if c.shown { Some(c.truth) } else { None }).collect();
        self.search(&hidden, 0, &mut value, &mut moved, &targets);
        targets.iter().map(|&i| (i, moved[i])).collect()
    }

    fn range(&self, i: usize) -> (i64, i64) {
        let c = &self.cells[i];
        ((c.truth - 1).max(c.lo), (c.truth + 1).min(c.hi))
    }

    fn consistent(&self, value: &[Option<i64>], touched: usize) -> bool {
        self.equations.iter().filter(|eq| eq.iter().any(|&(i, _)| i == touched)).all(|eq| {
            let (mut lo, mut hi) = (0i64, 0i64);
            for &(i, k) in eq {
                let (a, b) = match value[i] {
                    Some(v) => (v, v),
                    None => self.range(i),
                };
                let (a, b) = (a * k, b * k);
                lo += a.min(b);
                hi += a.max(b);
            }
            lo <= 0 && 0 <= hi
        })
    }

    fn search(&self, hidden: &[usize], at: usize, value: &mut Vec<Option<i64>>, moved: &mut [bool], targets: &[usize]) {
        if targets.iter().all(|&t| moved[t]) {
            return;
        }
        let Some(&i) = hidden.get(at) else {
            for &t in targets {
                if value[t] != Some(self.cells[t].truth) {
                    moved[t] = true;
                }
            }
            return;
        };
        let (lo, hi) = self.range(i);
        for v in lo..=hi {
            value[i] = Some(v);
            if self.consistent(value, i) {
                self.search(hidden, at + 1, value, moved, targets);
            }
        }
        value[i] = None;
    }
}

/// The table with its totals as one grid: row `rows` holds the column totals, column `columns` the
/// row totals; each row and column of the grid sums to zero with its total counted negative.
fn table_puzzle(counts: &[Vec<usize>], threshold: usize) -> (Puzzle, Vec<Vec<Cell>>, Vec<Vec<usize>>) {
    let t = table_with_totals(counts, threshold);
    let (rows, columns) = (counts.len(), counts[0].len());
    let mut truth = vec![vec![0usize; columns + 1]; rows + 1];
    let mut shown = vec![vec![Cell::Count(0); columns + 1]; rows + 1];
    for r in 0..rows {
        for c in 0..columns {
            truth[r][c] = counts[r][c];
            truth[r][columns] += counts[r][c];
            truth[rows][c] += counts[r][c];
            truth[rows][columns] += counts[r][c];
            shown[r][c] = t.cells[r][c];
        }
        shown[r][columns] = t.row_totals[r];
    }
    shown[rows][..columns].copy_from_slice(&t.column_totals);
    shown[rows][columns] = t.total;
    let id = |r: usize, c: usize| r * (columns + 1) + c;
    let everything_hidden = shown.iter().flatten().all(|c| !c.is_shown());
    let mut cells = Vec::new();
    for r in 0..=rows {
        for c in 0..=columns {
            cells.push(known(shown[r][c], truth[r][c], threshold, everything_hidden));
        }
    }
    let mut equations = Vec::new();
    for r in 0..=rows {
        equations.push((0..=columns).map(|c| (id(r, c), if c == columns { -1 } else { 1 })).collect());
    }
    for c in 0..=columns {
        equations.push((0..=rows).map(|r| (id(r, c), if r == rows { -1 } else { 1 })).collect());
    }
    (Puzzle { cells, equations }, shown, truth)
}

/// Every shown count is zero or at least the threshold; every "<10" is a small count, every
/// "hidden" one at least the threshold (unless everything is hidden).
fn labels_are_true(shown: &[Cell], truth: &[usize], threshold: usize) -> Result<(), String> {
    let everything_hidden = shown.iter().all(|c| !c.is_shown());
    for (cell, &n) in shown.iter().zip(truth) {
        let ok = match cell {
            Cell::Count(c) => *c == n && !is_small(n, threshold),
            Cell::Small => is_small(n, threshold),
            Cell::Complement => everything_hidden || n >= threshold,
        };
        if !ok {
            return Err(format!("{cell:?} shown for {n}"));
        }
    }
    Ok(())
}

/// In a line whose total is shown, the hidden cells do not add up to a small count.
fn hidden_sum_is_not_small(cells: &[Cell], truth: &[usize], total: Cell, threshold: usize) -> Result<(), String> {
    if !total.is_shown() {
        return Ok(());
    }
    let sum: usize = cells.iter().zip(truth).filter(|(c, _)| !c.is_shown()).map(|(_, n)| n).sum();
    if is_small(sum, threshold) {
        return Err(format!("hidden cells {cells:?} of {truth:?} add up to {sum}"));
    }
    Ok(())
}

fn counts() -> impl Strategy<Value = usize> {
    prop_oneof![0usize..4, 0usize..15, 0usize..31]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn no_small_count_can_be_recovered_from_a_table(
        shape in (1usize..=4, 1usize..=4),
        pool in proptest::collection::vec(counts(), 16),
        threshold in 2usize..=12,
    ) {
        let (rows, columns) = shape;
        let counts: Vec<Vec<usize>> = (0..rows).map(|r| pool[r * columns..(r + 1) * columns].to_vec()).collect();
        let (puzzle, shown, truth) = table_puzzle(&counts, threshold);
        let flat_shown: Vec<Cell> = shown.iter().flatten().copied().collect();
        let flat_truth: Vec<usize> = truth.iter().flatten().copied().collect();
        labels_are_true(&flat_shown, &flat_truth, threshold).map_err(TestCaseError::fail)?;
        for (i, movable) in puzzle.movable() {
            prop_assert!(movable, "cell {} ({}) of {:?} is pinned: shown {:?}", i, flat_truth[i], counts, shown);
        }
        for r in 0..rows {
            hidden_sum_is_not_small(&shown[r][..columns], &truth[r][..columns], shown[r][columns], threshold)
                .map_err(TestCaseError::fail)?;
        }
        for c in 0..=columns {
            let cells: Vec<Cell> = (0..rows).map(|r| shown[r][c]).collect();
            let values: Vec<usize> = (0..rows).map(|r| truth[r][c]).collect();
            hidden_sum_is_not_small(&cells, &values, shown[rows][c], threshold).map_err(TestCaseError::fail)?;
        }
        hidden_sum_is_not_small(&shown[rows][..columns], &truth[rows][..columns], shown[rows][columns], threshold)
            .map_err(TestCaseError::fail)?;
    }

    #[test]
    fn no_small_count_can_be_recovered_from_a_line(
        counts in proptest::collection::vec(counts(), 1..8),
        threshold in 2usize..=12,
    ) {
        let line = line_with_total(&counts, threshold);
        let total: usize = counts.iter().sum();
        let everything_hidden = line.cells.iter().chain([&line.total]).all(|c| !c.is_shown());
        let mut cells: Vec<Known> =
            line.cells.iter().zip(&counts).map(|(c, &n)| known(*c, n, threshold, everything_hidden)).collect();
        cells.push(known(line.total, total, threshold, everything_hidden));
        let mut equation: Vec<(usize, i64)> = (0..counts.len()).map(|i| (i, 1)).collect();
        equation.push((counts.len(), -1));
        let puzzle = Puzzle { cells, equations: vec![equation] };
        let mut shown = line.cells.clone();
        shown.push(line.total);
        let mut truth = counts.clone();
        truth.push(total);
        labels_are_true(&shown, &truth, threshold).map_err(TestCaseError::fail)?;
        for (i, movable) in puzzle.movable() {
            prop_assert!(movable, "cell {} of {:?} is pinned: shown {:?}", i, truth, shown);
        }
        hidden_sum_is_not_small(&line.cells, &counts, line.total, threshold).map_err(TestCaseError::fail)?;
        // Percentages come only from shown counts: a share is there exactly when both counts are.
        let sizes = Sizes::new(&counts, threshold);
        for (i, cell) in line.cells.iter().enumerate() {
            prop_assert_eq!(sizes.share(i).is_some(), cell.is_shown() && line.total.is_shown() && total > 0);
            prop_assert_eq!(sizes.share(i), share(*cell, line.total));
            if let Some(s) = share_of(counts[i], total, threshold) {
                prop_assert!(!is_small(counts[i], threshold) && !is_small(total - counts[i], threshold));
                prop_assert!((s * total as f64 - counts[i] as f64).abs() < 1e-9);
            }
        }
    }
}

#[test]
fn the_reader_finds_a_count_left_unprotected() {
    // The checker itself: a small cell whose only partner is shown is found pinned.
    let cells = vec![
        Known { truth: 3, lo: 1, hi: 9, shown: false, small: true },
        Known { truth: 40, lo: 40, hi: 40, shown: true, small: false },
        Known { truth: 43, lo: 43, hi: 43, shown: true, small: false },
    ];
    let puzzle = Puzzle { cells, equations: vec![vec![(0, 1), (1, 1), (2, -1)]] };
    assert_eq!(puzzle.movable(), vec![(0, false)]);
}
