//! The TOWS strategies as a decision list: one row per strategy with its cell, action, owner, the
//! segments it targets and the cards it pairs, in words; written as CSV by the window's "Export
//! decision list...".

use super::{Board, Card, SegmentRef, Subject, TowsCell};

/// The decision list's columns, in order. Kept stable: scripts read them by name.
pub const COLUMNS: [&str; 5] = ["cell", "action", "owner", "segments", "pairs"];

/// One strategy as a row of the decision list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// The TOWS cell ("SO").
    pub cell: TowsCell,
    /// What will be done.
    pub action: String,
    /// Who owns it.
    pub owner: String,
    /// The segments it targets, by name.
    pub segments: Vec<String>,
    /// The cards it pairs, each as "S: its title".
    pub pairs: Vec<String>,
}

/// A segment reference in words: the segment's name now (`name`), or the name it had when it is
/// no longer a segment.
pub fn ref_title(r: &SegmentRef, name: &dyn Fn(usize) -> String) -> String {
    match r {
        SegmentRef::Segment(s) => name(*s),
        SegmentRef::Detached { name, .. } => format!("{name} (no longer a segment)"),
    }
}

/// A card's title: its segment's name or its text.
pub fn card_title(card: &Card, name: &dyn Fn(usize) -> String) -> String {
    match &card.subject {
        Subject::Segment(r) => ref_title(r, name),
        Subject::Text(text) => text.clone(),
    }
}

/// The strategies of `board` in the matrix's order (SO, ST, WO, WT, each in the order written),
/// segments named by `name`.
pub fn decision_list(board: &Board, name: &dyn Fn(usize) -> String) -> Vec<Decision> {
    TowsCell::ALL
        .into_iter()
        .flat_map(|cell| board.strategies.iter().filter(move |s| s.cell == cell))
        .map(|strategy| Decision {
            cell: strategy.cell,
            action: strategy.action.clone(),
            owner: strategy.owner.clone(),
            segments: strategy.segments.iter().map(|r| ref_title(r, name)).collect(),
            pairs: strategy
                .cards
                .iter()
                .filter_map(|id| board.card(*id))
                .map(|c| format!("{}: {}", c.quadrant.letter(), card_title(c, name)))
                .collect(),
        })
        .collect()
}

/// The decision list as CSV text (a header of [`COLUMNS`], then one row per strategy; several
/// segments or pairs in one cell are separated by "; ").
pub fn decision_list_csv(board: &Board, name: &dyn Fn(usize) -> String) -> String {
    let mut out = COLUMNS.join(",");
    out.push('\n');
    for d in decision_list(board, name) {
        let fields = [d.cell.code().to_string(), d.action, d.owner, d.segments.join("; "), d.pairs.join("; ")];
        let row: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

/// One CSV field: quoted when it holds a comma, a quote, a line break or edge spaces; text a
/// spreadsheet would run as a formula (`=`, `+`, `-`, `@` first, not a number) starts with `'`.
fn csv_field(text: &str) -> String {
    let formula = text.starts_with(['=', '+', '-', '@', '\t', '\r']) && text.trim().parse::<f64>().is_err();
    let text = if formula { format!("'{text}") } else { text.to_string() };
    if text.contains([',', '"', '\n', '\r']) || text.trim() != text {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Quadrant, Strategy};
    use super::*;

    #[test]
    fn the_decision_list_names_targets_and_pairs_and_quotes_what_needs_it() {
        let mut board = Board::default();
        let s = board.place_segment(0, Quadrant::Strengths, "");
        let o = board.add_text("Competitor exits, \"soon\"", Quadrant::Opportunities, "");
        let w = board.place_segment(1, Quadrant::Weaknesses, "");
        board.strategies.push(Strategy {
            id: 1,
            cell: TowsCell::WT,
            action: "=cmd()".into(),
            owner: String::new(),
            cards: vec![w],
            segments: vec![SegmentRef::Detached {
                name: "Gone".into(),
                why: "split".into(),
                fingerprint: "f".into(),
                segment: 3,
            }],
        });
        board.strategies.push(Strategy {
            id: 2,
            cell: TowsCell::SO,
            action: "Win their customers".into(),
            owner: "CRM team".into(),
            cards: vec![s, o],
            segments: vec![SegmentRef::Segment(0), SegmentRef::Segment(1)],
        });
        let name = |s: usize| ["Loyal", "Lapsing"][s].to_string();
        let csv = decision_list_csv(&board, &name);
        assert_eq!(
            csv,
            "cell,action,owner,segments,pairs\n\
             SO,Win their customers,CRM team,Loyal; Lapsing,\"S: Loyal; O: Competitor exits, \"\"soon\"\"\"\n\
             WT,'=cmd(),,Gone (no longer a segment),W: Lapsing\n"
        );
        assert_eq!(csv_field("-12.5"), "-12.5", "a negative number stays a number");
    }
}
