//! Small cells: counts under the project's threshold are shown as "<10", and enough other cells
//! are hidden with them that no hidden count can be recovered from the totals shown.
//!
//! A count from 1 to `threshold - 1` is a primary cell, shown as "<10"; zero is shown (it says
//! nobody, which discloses no one). Complementary cells, shown as "hidden", are never zero and
//! never small, so a reader who knows how Strata works knows each "<10" is 1 to 9 and each
//! "hidden" is at least 10. Against that reader, who also sees every shown cell and total:
//!
//! - every primary cell can take at least two values consistent with everything shown, and
//! - in a line whose total is shown, the hidden cells never add up to a small count.
//!
//! How: a table with its row, column and grand totals is a bipartite graph (a node per row and per
//! column of the table with its totals, an edge per cell), every node's cells summing to zero once
//! the totals are counted negative. A hidden count can move exactly when some cycle of hidden cells
//! through it can all move by one, alternately up and down, within what the reader knows of them
//! (a difference between two tables that agree on everything shown splits into such cycles). So
//! each primary cell that cannot move gets the cheapest such cycle hidden with it (a shortest path,
//! cells costing their count, totals far more), and each line whose hidden cells add up to a
//! small count gets its cheapest other cell hidden, until nothing changes. A table's totals are
//! suppressed as the same counts are everywhere else ([`line_with_total`] of its row totals and of
//! its column totals), so two views of the same counts cannot be subtracted from each other.
//! When the counts are so few that nothing protects a cell (every count small, the total too),
//! every cell is hidden, zeros included.
//!
//! Percentages follow the counts: a share is shown only when its count and its total are
//! ([`share`], [`share_of`]).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// How a count is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Cell {
    /// Shown as it is.
    Count(usize),
    /// Under the threshold: shown as "<threshold".
    Small,
    /// Hidden so that a small one cannot be recovered: shown as "hidden". At least the threshold,
    /// unless every cell of its table is hidden.
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

    /// Whether the count is shown.
    pub fn is_shown(self) -> bool {
        matches!(self, Cell::Count(_))
    }

    /// The cell as text: the count, "<10", or "hidden".
    pub fn text(self, threshold: usize) -> String {
        match self {
            Cell::Count(n) => n.to_string(),
            Cell::Small => format!("<{threshold}"),
            Cell::Complement => "hidden".to_string(),
        }
    }

    /// The cell as people read it: the count with thousands separators, "<10", or "hidden".
    pub fn words(self, threshold: usize) -> String {
        match self {
            Cell::Count(n) => crate::engine::words::thousands(n),
            _ => self.text(threshold),
        }
    }

    /// The cell in a JSON document: the count as a number, else the string "<10" or "hidden".
    pub fn json(self, threshold: usize) -> serde_json::Value {
        match self {
            Cell::Count(n) => serde_json::Value::from(n),
            _ => serde_json::Value::from(self.text(threshold)),
        }
    }
}

/// Whether a count is a primary small cell.
pub fn is_small(count: usize, threshold: usize) -> bool {
    count > 0 && count < threshold
}

/// A count shown on its own, with no total beside it that it could be subtracted from: the count,
/// or `Small` under the threshold.
pub fn single(count: usize, threshold: usize) -> Cell {
    if is_small(count, threshold) { Cell::Small } else { Cell::Count(count) }
}

/// A count shown on its own as people read it: "1,234" or "<10".
pub fn count_words(count: usize, threshold: usize) -> String {
    single(count, threshold).words(threshold)
}

/// A count shown on its own in a JSON document: the number, or the string "<10".
pub fn count_json(count: usize, threshold: usize) -> serde_json::Value {
    single(count, threshold).json(threshold)
}

/// `part` of `whole` as a share, when both are shown and `whole` is not zero.
pub fn share(part: Cell, whole: Cell) -> Option<f64> {
    match (part, whole) {
        (Cell::Count(p), Cell::Count(w)) if w > 0 => Some(p as f64 / w as f64),
        _ => None,
    }
}

/// `part` of `whole` as a share, when neither the part, the rest nor the whole is a small count
/// (with the whole known, a share of 98% of 300 says that 6 are not in the part).
pub fn share_of(part: usize, whole: usize, threshold: usize) -> Option<f64> {
    let rest = whole.checked_sub(part)?;
    (whole > 0 && ![part, rest, whole].iter().any(|&n| is_small(n, threshold))).then(|| part as f64 / whole as f64)
}

/// A list of counts and their total, as they may be shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// Each count.
    pub cells: Vec<Cell>,
    /// The total (hidden only when it is small itself, or when nothing else can protect a cell).
    pub total: Cell,
}

/// A table of counts with its row, column and grand totals, as they may be shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    /// `cells[row][column]`.
    pub cells: Vec<Vec<Cell>>,
    /// Each row's total.
    pub row_totals: Vec<Cell>,
    /// Each column's total.
    pub column_totals: Vec<Cell>,
    /// The grand total.
    pub total: Cell,
}

/// One list of counts whose total is shown (segment sizes and the number of customers); see
/// [`line_with_total`] for how to show the total.
pub fn line(counts: &[usize], threshold: usize) -> Vec<Cell> {
    line_with_total(counts, threshold).cells
}

/// One list of counts and its total.
pub fn line_with_total(counts: &[usize], threshold: usize) -> Line {
    let total: usize = counts.iter().sum();
    // Two nodes joined by every count and by the total (counted negative): the one equation a
    // reader has is that the counts add up to the total.
    let mut edges: Vec<Edge> = counts.iter().map(|&n| Edge::new(0, 1, false, n, 0, threshold)).collect();
    edges.push(Edge::new(0, 1, true, total, 1, threshold));
    let mut problem = Problem { nodes: 2, edges, threshold };
    if !problem.solve() {
        problem.hide_all();
    }
    let states: Vec<Cell> = problem.edges.iter().map(Edge::cell).collect();
    let (cells, total) = states.split_at(counts.len());
    Line { cells: cells.to_vec(), total: total.first().copied().unwrap_or(Cell::Count(0)) }
}

/// A table of counts whose row and column totals are shown; see [`table_with_totals`] for how to
/// show the totals.
pub fn table(counts: &[Vec<usize>], threshold: usize) -> Vec<Vec<Cell>> {
    table_with_totals(counts, threshold).cells
}

/// A table of counts with its totals (ragged rows are read with zeros). The row totals are
/// suppressed as [`line_with_total`] suppresses them, and so are the column totals, so a view of
/// the rows' sizes beside this table gives nothing away that the table hides; when that leaves a
/// small cell unprotectable, more totals are hidden.
pub fn table_with_totals(counts: &[Vec<usize>], threshold: usize) -> Table {
    let rows = counts.len();
    let columns = counts.iter().map(Vec::len).max().unwrap_or(0);
    let at = |r: usize, c: usize| counts[r].get(c).copied().unwrap_or(0);
    let row_totals: Vec<usize> = (0..rows).map(|r| (0..columns).map(|c| at(r, c)).sum()).collect();
    let column_totals: Vec<usize> = (0..columns).map(|c| (0..rows).map(|r| at(r, c)).sum()).collect();
    let grand: usize = row_totals.iter().sum();
    let row_line = line_with_total(&row_totals, threshold);
    let column_line = line_with_total(&column_totals, threshold);
    // Nodes: rows 0..=rows (the last the column totals), then columns 0..=columns (the last the
    // row totals). A total is counted negative in the equations, the grand total positive.
    let column_node = |c: usize| rows + 1 + c;
    let build = |aligned: bool| {
        let mut edges = Vec::with_capacity((rows + 1) * (columns + 1));
        for r in 0..=rows {
            for c in 0..=columns {
                let row_total = || (row_totals.get(r).copied().unwrap_or(0), row_line.cells.get(r).copied());
                let column_total = || (column_totals.get(c).copied().unwrap_or(0), column_line.cells.get(c).copied());
                let (value, tier, negative, given) = match (r == rows, c == columns) {
                    (false, false) => (at(r, c), 0, false, None),
                    (false, true) => (row_total().0, 1, true, row_total().1),
                    (true, false) => (column_total().0, 1, true, column_total().1),
                    (true, true) => {
                        let hidden = !(row_line.total.is_shown() && column_line.total.is_shown());
                        (grand, 2, false, Some(if hidden { Cell::Complement } else { Cell::Count(grand) }))
                    }
                };
                let mut edge = Edge::new(r, column_node(c), negative, value, tier, threshold);
                if aligned && let Some(given) = given {
                    edge.align(given);
                }
                edges.push(edge);
            }
        }
        Problem { nodes: rows + columns + 2, edges, threshold }
    };
    let mut problem = build(true);
    if !problem.solve() {
        problem = build(false);
        if !problem.solve() {
            problem.hide_all();
        }
    }
    let cell = |r: usize, c: usize| problem.edges[r * (columns + 1) + c].cell();
    Table {
        cells: (0..rows).map(|r| (0..columns).map(|c| cell(r, c)).collect()).collect(),
        row_totals: (0..rows).map(|r| cell(r, columns)).collect(),
        column_totals: (0..columns).map(|c| cell(rows, c)).collect(),
        total: cell(rows, columns),
    }
}

/// Segment sizes (or any counts of one line) with their total, ready to show: each size as text, as
/// JSON, and each share only where it may be shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sizes {
    /// The threshold they were suppressed with.
    pub threshold: usize,
    /// The counts.
    pub counts: Vec<usize>,
    /// How each count and the total are shown.
    pub line: Line,
}

impl Sizes {
    /// `counts` suppressed at `threshold`.
    pub fn new(counts: &[usize], threshold: usize) -> Self {
        Sizes { threshold, counts: counts.to_vec(), line: line_with_total(counts, threshold) }
    }

    /// How count `i` is shown (a count past the end is shown as zero).
    pub fn cell(&self, i: usize) -> Cell {
        self.line.cells.get(i).copied().unwrap_or(Cell::Count(0))
    }

    /// Whether count `i` is under the threshold: then nothing computed from its customers alone
    /// (means, medians, shares of it) is shown either.
    pub fn is_small(&self, i: usize) -> bool {
        is_small(self.counts.get(i).copied().unwrap_or(0), self.threshold)
    }

    /// Count `i` as people read it: "1,234", "<10" or "hidden".
    pub fn words(&self, i: usize) -> String {
        self.cell(i).words(self.threshold)
    }

    /// Count `i` in a JSON document.
    pub fn json(&self, i: usize) -> serde_json::Value {
        self.cell(i).json(self.threshold)
    }

    /// Every count in a JSON document.
    pub fn json_all(&self) -> serde_json::Value {
        serde_json::Value::Array((0..self.counts.len()).map(|i| self.json(i)).collect())
    }

    /// Count `i`'s share of the total, when both are shown.
    pub fn share(&self, i: usize) -> Option<f64> {
        share(self.cell(i), self.line.total)
    }

    /// The total as people read it.
    pub fn total_words(&self) -> String {
        self.line.total.words(self.threshold)
    }

    /// Whether every count and the total are shown as they are.
    pub fn all_shown(&self) -> bool {
        self.line.total.is_shown() && self.line.cells.iter().all(|c| c.is_shown())
    }
}

/// The `small_cells` object every JSON summary carries: the threshold its counts were suppressed
/// with.
pub fn json_note(threshold: usize) -> serde_json::Value {
    serde_json::json!({ "threshold": threshold })
}

/// What a reader knows of a cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Shown; may be hidden as a complement if need be.
    Shown,
    /// Shown elsewhere as it is: never hidden here.
    Fixed,
    /// A primary cell: 1 to threshold - 1.
    Small,
    /// A complement: at least the threshold.
    Complement,
}

/// One cell: an edge between a row node and a column node.
#[derive(Clone, Copy, Debug)]
struct Edge {
    row: usize,
    column: usize,
    /// A total: counted negative in its nodes' equations.
    negative: bool,
    value: usize,
    /// 0 for a cell, 1 for a total, 2 for the grand total: the dearer to hide.
    tier: u32,
    state: State,
}

impl Edge {
    fn new(row: usize, column: usize, negative: bool, value: usize, tier: u32, threshold: usize) -> Self {
        let state = if is_small(value, threshold) { State::Small } else { State::Shown };
        Edge { row, column, negative, value, tier, state }
    }

    /// Takes the state another view of the same count gives it.
    fn align(&mut self, given: Cell) {
        match (self.state, given) {
            (State::Shown, Cell::Count(_)) => self.state = State::Fixed,
            (State::Shown, _) if self.value > 0 => self.state = State::Complement,
            _ => {}
        }
    }

    fn is_hidden(&self) -> bool {
        matches!(self.state, State::Small | State::Complement)
    }

    /// Whether a shown cell could be hidden (zero never is: it would say "at least 10").
    fn can_hide(&self) -> bool {
        self.state == State::Shown && self.value > 0
    }

    /// Whether the count could move by one (`up` or down) within what a reader knows of it, once
    /// hidden.
    fn can_move(&self, up: bool, threshold: usize) -> bool {
        match self.state {
            State::Fixed => false,
            // With a threshold of 2 the label "<2" says 1 by itself: such a cell is protected at
            // least from recovery through the totals, as if a reader knew only that it is not negative.
            State::Small if threshold < 3 => up || self.value >= 1,
            State::Small => {
                if up {
                    self.value + 1 < threshold
                } else {
                    self.value >= 2
                }
            }
            // A shown cell is zero or at least the threshold, and it is hidden as a complement.
            State::Shown | State::Complement => up || self.value > threshold,
        }
    }

    /// Whether the edge's signed value (negative for a total) can move `up` by one.
    fn can_shift(&self, up: bool, threshold: usize) -> bool {
        self.can_move(up != self.negative, threshold)
    }

    fn cost(&self) -> Option<u128> {
        if self.is_hidden() {
            Some(0)
        } else if self.can_hide() {
            Some((u128::from(self.tier) << 64) + self.value as u128 + 1)
        } else {
            None
        }
    }

    fn cell(&self) -> Cell {
        match self.state {
            State::Small => Cell::Small,
            State::Complement => Cell::Complement,
            State::Shown | State::Fixed => Cell::Count(self.value),
        }
    }
}

struct Problem {
    nodes: usize,
    edges: Vec<Edge>,
    threshold: usize,
}

impl Problem {
    /// Hides complements until every small cell can move and no line's hidden cells add up to a
    /// small count; false when some cell could not be protected by any cell that may be hidden.
    fn solve(&mut self) -> bool {
        if self.threshold <= 1 {
            return true;
        }
        loop {
            let mut changed = false;
            for node in 0..self.nodes {
                changed |= self.small_sum_fix(node);
            }
            for e in 0..self.edges.len() {
                if self.edges[e].state != State::Small {
                    continue;
                }
                if let Some((cost, path)) = self.cheapest_cycle(e)
                    && cost > 0
                {
                    for f in path {
                        if self.edges[f].state == State::Shown {
                            self.edges[f].state = State::Complement;
                        }
                    }
                    changed = true;
                }
            }
            if !changed {
                return self.is_sound();
            }
        }
    }

    /// Hides every cell, zeros too: the last resort when the counts are so few that even "<10"
    /// and "hidden" would pin one (two customers, each "<3", in a total "<3"). A reader then knows
    /// only that no count is negative, and any table of counts twice as large fits what is shown.
    fn hide_all(&mut self) {
        for edge in &mut self.edges {
            edge.state = State::Complement;
        }
    }

    fn is_sound(&self) -> bool {
        (0..self.nodes).all(|n| self.small_sum(n).is_none())
            && (0..self.edges.len())
                .filter(|&e| self.edges[e].state == State::Small)
                .all(|e| matches!(self.cheapest_cycle(e), Some((0, _))))
    }

    /// The sum of a node's hidden cells when they are all counted the same way (so a reader knows
    /// their sum) and it is a small count.
    fn small_sum(&self, node: usize) -> Option<usize> {
        let hidden: Vec<&Edge> =
            self.edges.iter().filter(|e| (e.row == node || e.column == node) && e.is_hidden()).collect();
        let first = hidden.first()?;
        if hidden.iter().any(|e| e.negative != first.negative) {
            return None;
        }
        let sum: usize = hidden.iter().map(|e| e.value).sum();
        is_small(sum, self.threshold).then_some(sum)
    }

    /// Hides the cheapest other cell of a node whose hidden cells add up to a small count; whether
    /// it hid one.
    fn small_sum_fix(&mut self, node: usize) -> bool {
        if self.small_sum(node).is_none() {
            return false;
        }
        let cheapest = (0..self.edges.len())
            .filter(|&e| {
                let edge = &self.edges[e];
                (edge.row == node || edge.column == node) && edge.can_hide()
            })
            .min_by_key(|&e| self.edges[e].cost());
        match cheapest {
            Some(e) => {
                self.edges[e].state = State::Complement;
                true
            }
            None => false,
        }
    }

    /// The cheapest set of cells whose hiding lets small cell `e` move (cost 0 when it already
    /// can), as a shortest path closing a cycle through it; `None` when no cycle can.
    fn cheapest_cycle(&self, e: usize) -> Option<(u128, Vec<usize>)> {
        let edge = &self.edges[e];
        let mut best: Option<(u128, Vec<usize>)> = None;
        for up in [true, false] {
            if !edge.can_shift(up, self.threshold) {
                continue;
            }
            // Up: e is crossed row -> column, so the cycle comes back column -> row.
            let (from, to) = if up { (edge.column, edge.row) } else { (edge.row, edge.column) };
            if let Some(found) = self.shortest_path(from, to, e)
                && best.as_ref().is_none_or(|b| found.0 < b.0)
            {
                best = Some(found);
            }
        }
        best
    }

    /// The cheapest path from node `from` to node `to` without edge `skip`, each edge crossed
    /// row -> column only if its signed value can go up and column -> row only if it can go down.
    fn shortest_path(&self, from: usize, to: usize, skip: usize) -> Option<(u128, Vec<usize>)> {
        let mut distance = vec![u128::MAX; self.nodes];
        let mut came_by: Vec<Option<(usize, usize)>> = vec![None; self.nodes];
        let mut heap = BinaryHeap::new();
        distance[from] = 0;
        heap.push(Reverse((0u128, from)));
        while let Some(Reverse((d, node))) = heap.pop() {
            if d > distance[node] {
                continue;
            }
            if node == to {
                let mut path = Vec::new();
                let mut at = to;
                while let Some((previous, edge)) = came_by[at] {
                    path.push(edge);
                    at = previous;
                }
                return Some((d, path));
            }
            for (i, edge) in self.edges.iter().enumerate() {
                if i == skip {
                    continue;
                }
                let next = if edge.row == node && edge.can_shift(true, self.threshold) {
                    edge.column
                } else if edge.column == node && edge.can_shift(false, self.threshold) {
                    edge.row
                } else {
                    continue;
                };
                let Some(cost) = edge.cost() else { continue };
                let through = d.saturating_add(cost);
                if through < distance[next] {
                    distance[next] = through;
                    came_by[next] = Some((node, i));
                    heap.push(Reverse((through, next)));
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_segment_hides_the_next_smallest_and_keeps_the_total() {
        let line = line_with_total(&[9277, 6383, 5, 2775], 10);
        assert_eq!(line.cells, vec![Cell::Count(9277), Cell::Count(6383), Cell::Small, Cell::Complement]);
        assert_eq!(line.total, Cell::Count(18_440));
        assert_eq!(share(line.cells[2], line.total), None);
        assert_eq!(share(line.cells[3], line.total), None);
        assert!(share(line.cells[0], line.total).is_some());
    }

    #[test]
    fn two_small_cells_that_add_up_to_a_small_count_take_a_third() {
        let line = line_with_total(&[3, 4, 50, 60], 10);
        assert_eq!(line.cells, vec![Cell::Small, Cell::Small, Cell::Complement, Cell::Count(60)]);
        // Two small cells whose sum is not small protect each other.
        let line = line_with_total(&[6, 7, 50], 10);
        assert_eq!(line.cells, vec![Cell::Small, Cell::Small, Cell::Count(50)]);
    }

    #[test]
    fn a_line_of_small_counts_hides_its_total() {
        let line = line_with_total(&[3, 0, 4], 10);
        assert_eq!(line.cells, vec![Cell::Small, Cell::Count(0), Cell::Small]);
        assert_eq!(line.total, Cell::Small);
        // 1 and 1 in a total "<3" can only be 1 and 1: everything goes.
        let line = line_with_total(&[1, 0, 1], 3);
        assert!(line.cells.iter().chain([&line.total]).all(|c| *c == Cell::Complement), "{line:?}");
        let one = line_with_total(&[4], 10);
        assert_eq!((one.cells[0], one.total), (Cell::Small, Cell::Small));
    }

    #[test]
    fn a_complement_at_the_threshold_cannot_shield_a_one() {
        // 1 and 10: the reader knows "hidden" is at least 10, so the 1 would follow; the total goes.
        let line = line_with_total(&[1, 10], 10);
        assert_eq!(line.cells, vec![Cell::Small, Cell::Complement]);
        assert_eq!(line.total, Cell::Complement);
    }

    #[test]
    fn a_threshold_of_one_shows_everything() {
        let line = line_with_total(&[1, 2, 0], 1);
        assert_eq!(line.cells, vec![Cell::Count(1), Cell::Count(2), Cell::Count(0)]);
        assert_eq!(count_words(3, 1), "3");
    }

    #[test]
    fn a_table_hides_a_rectangle_around_a_small_cell() {
        let counts = vec![vec![5, 100, 200], vec![150, 300, 400], vec![120, 80, 90]];
        let t = table_with_totals(&counts, 10);
        assert_eq!(t.cells[0][0], Cell::Small);
        let hidden = t.cells.iter().flatten().filter(|c| !c.is_shown()).count();
        assert_eq!(hidden, 4, "{t:?}");
        assert!(t.row_totals.iter().chain(&t.column_totals).all(|c| c.is_shown()), "{t:?}");
        assert!(t.total.is_shown());
    }

    #[test]
    fn a_table_hides_its_totals_as_its_lines_do() {
        // Column 0 holds 7 customers: its total is small, and the row sizes' line hides one too.
        let counts = vec![vec![4, 100], vec![3, 200], vec![0, 5]];
        let t = table_with_totals(&counts, 10);
        let rows = line_with_total(&[104, 203, 5], 10);
        let columns = line_with_total(&[7, 305], 10);
        assert_eq!(t.row_totals, rows.cells);
        assert_eq!(t.column_totals, columns.cells);
    }

    #[test]
    fn texts_and_json_say_what_is_hidden() {
        assert_eq!(Cell::Small.text(10), "<10");
        assert_eq!(Cell::Complement.words(5), "hidden");
        assert_eq!(Cell::Count(12_345).words(10), "12,345");
        assert_eq!(Cell::Small.json(10), serde_json::json!("<10"));
        assert_eq!(Cell::Count(12).json(10), serde_json::json!(12));
        assert_eq!(share_of(6, 300, 10), None);
        assert_eq!(share_of(150, 300, 10), Some(0.5));
        assert_eq!(share_of(0, 300, 10), Some(0.0));
        let sizes = Sizes::new(&[100, 3, 40], 10);
        assert_eq!(sizes.words(1), "<10");
        assert_eq!(sizes.json_all(), serde_json::json!([100, "<10", "hidden"]));
        assert!(sizes.is_small(1) && !sizes.is_small(2));
        assert_eq!(sizes.share(0), Some(100.0 / 143.0));
    }
}
