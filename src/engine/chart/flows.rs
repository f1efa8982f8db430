//! Who goes where: two labelings of the same customers (two segmentations on Compare, or one
//! segmentation in two Over time windows) as two stacks of blocks joined by bands, one band per pair
//! of segments with customers in both. One layout for the window (egui) and the drawn charts, so
//! both place blocks and bands alike.

use super::{Body, Chart, ChartError, Rgba, SegmentColours, palette};
use crate::engine::governance::suppress::{self, Cell};
use crate::engine::over_time::OverTime;

/// A cross-tabulation as a flows chart takes it: counts, names and a colour per row and column.
#[derive(Clone, Debug, PartialEq)]
pub struct Crossing {
    /// `counts[row][column]`: customers in both.
    pub counts: Vec<Vec<u64>>,
    /// The rows' names (the left segmentation's segments).
    pub row_names: Vec<String>,
    /// The columns' names (the right segmentation's segments).
    pub column_names: Vec<String>,
    /// Each row's colour (a segment's, or [`palette::NOT_A_SEGMENT`] for "not present").
    pub row_colours: Vec<Rgba>,
    /// Each column's colour.
    pub column_colours: Vec<Rgba>,
    /// What the rows are and what the columns are ("Run 1: k-means, k = 5", "as of 1998-06-30").
    pub titles: (String, String),
    /// Customers without both labels, left out of the counts.
    pub left_out: usize,
    /// The small-cell threshold its counts are shown with.
    pub small_cells: usize,
}

impl Crossing {
    /// A comparison of two segmentations: rows coloured by their number (as Compare colours
    /// segmentations without names), columns grey (the bands carry the rows' colours across).
    pub fn of_segmentations(
        counts: Vec<Vec<u64>>,
        row_names: Vec<String>,
        column_names: Vec<String>,
        titles: (String, String),
        left_out: usize,
        small_cells: usize,
    ) -> Self {
        let row_colours = (0..row_names.len()).map(palette::slot_colour).collect();
        let column_colours = vec![palette::NOT_A_SEGMENT; column_names.len()];
        Crossing { counts, row_names, column_names, row_colours, column_colours, titles, left_out, small_cells }
    }

    /// A migration between two assignments of one version's segments: rows and columns coloured
    /// by the segment's number in `names` ("new", "gone" and names the version does not have are
    /// grey).
    pub fn of_migration(
        migration: &crate::engine::monitor::Migration,
        names: &[String],
        colours: &SegmentColours,
        titles: (String, String),
        small_cells: usize,
    ) -> Self {
        let colour =
            |name: &String| names.iter().position(|n| n == name).map_or(palette::NOT_A_SEGMENT, |s| colours.of(s));
        Crossing {
            counts: migration.counts.clone(),
            row_names: migration.from.clone(),
            column_names: migration.to.clone(),
            row_colours: migration.from.iter().map(colour).collect(),
            column_colours: migration.to.iter().map(colour).collect(),
            titles,
            left_out: 0,
            small_cells,
        }
    }

    /// The counts as they may be shown, with their totals.
    pub fn shown(&self) -> suppress::Table {
        let counts: Vec<Vec<usize>> = self
            .counts
            .iter()
            .map(|row| row.iter().map(|&c| usize::try_from(c).unwrap_or(usize::MAX)).collect())
            .collect();
        suppress::table_with_totals(&counts, self.small_cells)
    }

    /// Customers counted.
    pub fn n(&self) -> u64 {
        self.counts.iter().flatten().sum()
    }

    /// Without the rows and columns nobody is in.
    pub fn without_empty(self) -> Self {
        let rows: Vec<usize> = (0..self.row_names.len()).filter(|&i| self.row_total(i) > 0).collect();
        let columns: Vec<usize> = (0..self.column_names.len()).filter(|&j| self.column_total(j) > 0).collect();
        let pick = |all: &[String], keep: &[usize]| keep.iter().map(|&i| all[i].clone()).collect::<Vec<_>>();
        let pick_colour = |all: &[Rgba], keep: &[usize]| {
            keep.iter().map(|&i| all.get(i).copied().unwrap_or(palette::NOT_A_SEGMENT)).collect::<Vec<_>>()
        };
        Crossing {
            counts: rows
                .iter()
                .map(|&i| columns.iter().map(|&j| self.counts[i].get(j).copied().unwrap_or(0)).collect())
                .collect(),
            row_names: pick(&self.row_names, &rows),
            column_names: pick(&self.column_names, &columns),
            row_colours: pick_colour(&self.row_colours, &rows),
            column_colours: pick_colour(&self.column_colours, &columns),
            ..self
        }
    }

    fn row_total(&self, i: usize) -> u64 {
        self.counts.get(i).map_or(0, |r| r.iter().sum())
    }

    fn column_total(&self, j: usize) -> u64 {
        self.counts.iter().map(|r| r.get(j).copied().unwrap_or(0)).sum()
    }

    /// The blocks (one per row and column) and the bands (one per non-empty cell).
    pub fn flows(&self) -> Flows {
        let shown = self.shown();
        let node = |name: &String, total: u64, colour: Option<&Rgba>, cell: Option<&Cell>| FlowNode {
            name: name.clone(),
            total,
            colour: colour.copied().unwrap_or(palette::NOT_A_SEGMENT),
            shown: cell.copied().unwrap_or(Cell::Complement),
        };
        let left = (0..self.row_names.len())
            .map(|i| node(&self.row_names[i], self.row_total(i), self.row_colours.get(i), shown.row_totals.get(i)))
            .collect();
        let right = (0..self.column_names.len())
            .map(|j| {
                node(
                    &self.column_names[j],
                    self.column_total(j),
                    self.column_colours.get(j),
                    shown.column_totals.get(j),
                )
            })
            .collect();
        let mut links = Vec::new();
        for (from, row) in self.counts.iter().enumerate().take(self.row_names.len()) {
            for (to, &count) in row.iter().enumerate().take(self.column_names.len()) {
                if count > 0 {
                    links.push(FlowLink { from, to, count });
                }
            }
        }
        Flows {
            left_title: self.titles.0.clone(),
            right_title: self.titles.1.clone(),
            left,
            right,
            links,
            small_cells: self.small_cells,
        }
    }
}

/// One block of a [`Flows`] chart: a segment of one side.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowNode {
    /// The segment's name.
    pub name: String,
    /// Its customers (drawn as its height; see `shown` for the label).
    pub total: u64,
    /// Its colour.
    pub colour: Rgba,
    /// Its customers as a label may show them.
    pub shown: Cell,
}

/// One band of a [`Flows`] chart: the customers in left block `from` and right block `to`; it takes
/// the left block's colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowLink {
    /// The left block.
    pub from: usize,
    /// The right block.
    pub to: usize,
    /// Customers in both.
    pub count: u64,
}

/// Two stacks of blocks joined by bands (an alluvial view).
#[derive(Clone, Debug, PartialEq)]
pub struct Flows {
    /// What the left blocks are.
    pub left_title: String,
    /// What the right blocks are.
    pub right_title: String,
    /// The left blocks, top to bottom.
    pub left: Vec<FlowNode>,
    /// The right blocks, top to bottom.
    pub right: Vec<FlowNode>,
    /// The bands, by left block then right block.
    pub links: Vec<FlowLink>,
    /// The small-cell threshold its labels are shown with.
    pub small_cells: usize,
}

/// Where a [`Flows`] chart's blocks and bands are, in the units of the height it was laid out in.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowLayout {
    /// Each left block's top and height.
    pub left: Vec<(f32, f32)>,
    /// Each right block's top and height.
    pub right: Vec<(f32, f32)>,
    /// Each band's top and height on the left, then on the right.
    pub links: Vec<[f32; 4]>,
    /// The gaps between the left blocks and between the right blocks.
    pub gaps: (f32, f32),
}

impl Flows {
    /// The blocks stacked from `top` over `height`, with gaps of at most `max_gap` between blocks
    /// (shrinking with many blocks to a quarter of the height at most, so they never run past the
    /// bottom); each block's bands in order, the left's by right block, the right's by left block.
    pub fn layout(&self, top: f32, height: f32, max_gap: f32) -> FlowLayout {
        let n = self.links.iter().map(|l| l.count).sum::<u64>().max(1) as f32;
        let gap_of = |k: usize| if k > 1 { (height * 0.25 / (k - 1) as f32).min(max_gap) } else { 0.0 };
        let usable = |k: usize| (height - gap_of(k) * (k.saturating_sub(1)) as f32).max(10.0);
        let stack = |nodes: &[FlowNode]| -> (Vec<(f32, f32)>, f32) {
            let scale = usable(nodes.len()) / n;
            let gap = gap_of(nodes.len());
            let mut y = top;
            let blocks = nodes
                .iter()
                .map(|node| {
                    let h = node.total as f32 * scale;
                    let block = (y, h);
                    y += h + gap;
                    block
                })
                .collect();
            (blocks, scale)
        };
        let (left, scale_left) = stack(&self.left);
        let (right, scale_right) = stack(&self.right);
        let mut left_offset = vec![0.0f32; left.len()];
        let mut right_offset = vec![0.0f32; right.len()];
        let mut links = Vec::with_capacity(self.links.len());
        for link in &self.links {
            let (Some(&(l, _)), Some(&(r, _))) = (left.get(link.from), right.get(link.to)) else { continue };
            let count = link.count as f32;
            let (hl, hr) = (count * scale_left, count * scale_right);
            links.push([l + left_offset[link.from], hl, r + right_offset[link.to], hr]);
            left_offset[link.from] += hl;
            right_offset[link.to] += hr;
        }
        FlowLayout { left, right, links, gaps: (gap_of(self.left.len()), gap_of(self.right.len())) }
    }
}

/// A block's label on a drawn chart: its name and its customers ("<10" for a small cell, "hidden"
/// beside one).
pub fn node_label(node: &FlowNode, small_cells: usize) -> String {
    format!("{} ({})", node.name, node.shown.words(small_cells))
}

/// The alluvial view of two segmentations of the same customers (the Compare screen's).
pub fn alluvial_chart(crossing: &Crossing) -> Result<Chart, ChartError> {
    let n = crossing.n();
    if n == 0 {
        return Err(ChartError::NotAvailable { name: "alluvial", reason: "no customer has both labels".into() });
    }
    let t = crossing.small_cells;
    let mut note = format!("{} customers in both.", crossing.shown().total.words(t));
    if crossing.left_out > 0 {
        note.push_str(&format!(" {} without both labels left out.", suppress::count_words(crossing.left_out, t)));
    }
    Ok(Chart {
        name: "alluvial",
        title: "Who goes where".into(),
        subtitle: "each band is the customers in a segment of the left segmentation and one of the right".into(),
        legend: Vec::new(),
        body: Body::Flows(crossing.flows()),
        note,
    })
}

/// Customers from one Over time window to the next as a [`Crossing`]: rows the segments as of the
/// earlier window's end, columns as of the later's, each with "not present" last; `None` when there
/// is no transition `transition`.
pub fn transition_crossing(
    over_time: &OverTime,
    names: &[String],
    colours: &SegmentColours,
    transition: usize,
    small_cells: usize,
) -> Option<Crossing> {
    let t = over_time.transitions.get(transition)?;
    let end = |w: usize| over_time.windows.get(w).map_or_else(String::new, |w| w.end.format("%Y-%m-%d").to_string());
    let n = t.counts.len();
    let name = |s: usize| {
        if s + 1 == n {
            "not present".to_string()
        } else {
            names.get(s).cloned().unwrap_or_else(|| format!("Segment {}", s + 1))
        }
    };
    let colour = |s: usize| if s + 1 == n { palette::NOT_A_SEGMENT } else { colours.of(s) };
    Some(
        Crossing {
            counts: t.counts.iter().map(|r| r.iter().map(|&c| c as u64).collect()).collect(),
            row_names: (0..n).map(name).collect(),
            column_names: (0..n).map(name).collect(),
            row_colours: (0..n).map(colour).collect(),
            column_colours: (0..n).map(colour).collect(),
            titles: (format!("as of {}", end(t.from)), format!("as of {}", end(t.to))),
            left_out: 0,
            small_cells,
        }
        .without_empty(),
    )
}

/// Who moved where between two Over time windows (`transition`, or the last when `None`).
pub fn moves_chart(
    over_time: &OverTime,
    names: &[String],
    colours: &SegmentColours,
    transition: Option<usize>,
    small_cells: usize,
) -> Result<Chart, ChartError> {
    let not = |reason: String| ChartError::NotAvailable { name: "moves-over-time", reason };
    let count = over_time.transitions.len();
    if count == 0 {
        return Err(not("fewer than two windows were segmented".into()));
    }
    let chosen = transition.unwrap_or(count - 1);
    let crossing = transition_crossing(over_time, names, colours, chosen, small_cells)
        .ok_or_else(|| not(format!("there is no transition {} (the windows make 1 to {count})", chosen + 1)))?;
    let t = &over_time.transitions[chosen];
    let note = match t.stayed_shown(small_cells) {
        Some(stayed) => format!("{:.1}% of the customers present in both windows kept their segment.", 100.0 * stayed),
        None if t.stayed.is_finite() => {
            format!("The share who kept their segment is not shown: it would give away a count under {small_cells}.")
        }
        None => String::new(),
    };
    Ok(Chart {
        name: "moves-over-time",
        title: "Who moved where".into(),
        subtitle: "each customer's segment in the earlier window (left) and the later (right); each band is the \
                   customers who went that way"
            .into(),
        legend: Vec::new(),
        body: Body::Flows(crossing.flows()),
        note,
    })
}
