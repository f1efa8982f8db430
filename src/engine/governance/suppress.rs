//! Small cells: counts under the project's threshold are shown as "<10", and enough other cells
//! are hidden with them that no hidden count can be recovered from the totals shown.
//!
//! The rule (CMS's cell-size suppression): a count from 1 to `threshold - 1` is a primary cell;
//! zero is shown (it says nobody, which discloses no one). Complementary cells are hidden until, in
//! every row and every column whose total is shown, the hidden cells are either none or at least
//! two whose sum is at least the threshold, so neither a single hidden count nor a small sum of
//! them follows by subtraction.

/// How a count is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cell {
    /// Shown as it is.
    Count(usize),
    /// Under the threshold: shown as "<threshold".
    Small,
    /// Hidden so that a small one cannot be recovered: shown as "hidden".
    Complement,
}

impl Cell {
    /// The count, when shown.
    pub fn count(self) -> Option<usize> {
        match self {
            Cell::Count(n) => Some(n),
            _ => None,
        }
    }

    /// The cell as text: the count, "<10", or "hidden".
    pub fn text(self, threshold: usize) -> String {
        match self {
            Cell::Count(n) => n.to_string(),
            Cell::Small => format!("<{threshold}"),
            Cell::Complement => "hidden".to_string(),
        }
    }
}

/// Whether a count is a primary small cell.
pub fn is_small(count: usize, threshold: usize) -> bool {
    count > 0 && count < threshold
}

/// One list of counts whose total is shown (segment sizes and the number of customers).
pub fn line(counts: &[usize], threshold: usize) -> Vec<Cell> {
    let table = table(&[counts.to_vec()], threshold);
    table.into_iter().next().unwrap_or_default()
}

/// A table of counts whose row and column totals are shown.
pub fn table(counts: &[Vec<usize>], threshold: usize) -> Vec<Vec<Cell>> {
    let rows = counts.len();
    let cols = counts.iter().map(Vec::len).max().unwrap_or(0);
    let at = |r: usize, c: usize| counts[r].get(c).copied().unwrap_or(0);
    let mut hidden: Vec<Vec<bool>> =
        (0..rows).map(|r| (0..cols).map(|c| is_small(at(r, c), threshold)).collect()).collect();
    // Hide the smallest shown non-zero cell of a line until the line is safe; repeat until no line
    // changes (hiding a cell of a row can make its column unsafe).
    loop {
        let mut changed = false;
        let lines: Vec<Vec<(usize, usize)>> = (0..rows)
            .map(|r| (0..cols).map(|c| (r, c)).collect())
            .chain(if rows > 1 { (0..cols).map(|c| (0..rows).map(|r| (r, c)).collect()).collect() } else { Vec::new() })
            .collect();
        for cells in lines {
            loop {
                let hidden_cells: Vec<(usize, usize)> = cells.iter().copied().filter(|&(r, c)| hidden[r][c]).collect();
                let sum: usize = hidden_cells.iter().map(|&(r, c)| at(r, c)).sum();
                if hidden_cells.is_empty() || (hidden_cells.len() >= 2 && sum >= threshold) {
                    break;
                }
                let next = cells
                    .iter()
                    .copied()
                    .filter(|&(r, c)| !hidden[r][c] && at(r, c) > 0)
                    .min_by_key(|&(r, c)| at(r, c));
                match next {
                    Some((r, c)) => {
                        hidden[r][c] = true;
                        changed = true;
                    }
                    // Every non-zero cell of the line is hidden: its total is the only way in, and
                    // the caller shows it as a small cell when it is one.
                    None => break,
                }
            }
        }
        if !changed {
            break;
        }
    }
    (0..rows)
        .map(|r| {
            (0..cols)
                .map(|c| {
                    let n = at(r, c);
                    if is_small(n, threshold) {
                        Cell::Small
                    } else if hidden[r][c] {
                        Cell::Complement
                    } else {
                        Cell::Count(n)
                    }
                })
                .collect()
        })
        .collect()
}
