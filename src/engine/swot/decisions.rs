//! The TOWS strategies as a decision list: one row per strategy with its cell, action, owner, the
//! segments it targets (by name) and the cards it pairs (in words). The window's export, the report
//! and `strata swot --decisions` write this one list.

use serde::Serialize;

use super::{Board, SegmentRef, Subject, TowsCell};

/// One decision.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Decision {
    /// The cell's code ("SO").
    pub cell: &'static str,
    /// What will be done.
    pub action: String,
    /// Who owns it.
    pub owner: String,
    /// The segments it targets, by name.
    pub segments: Vec<String>,
    /// The cards it pairs, in words ("Strength: Best customers").
    pub pairs: Vec<String>,
}

/// The column names of the decision list's CSV (a contract: scripts read them).
pub const DECISION_COLUMNS: [&str; 5] = ["cell", "action", "owner", "segments", "pairs"];

/// A segment reference in words: its name now, or the name it had and that it is no longer a
/// segment.
pub fn ref_name(r: &SegmentRef, name: &dyn Fn(usize) -> String) -> String {
    match r {
        SegmentRef::Segment(s) => name(*s),
        SegmentRef::Detached { name, .. } => format!("{name} (no longer a segment)"),
    }
}

/// A card in words: what it is about ("Best customers", "A rival opened nearby").
pub fn card_title(subject: &Subject, name: &dyn Fn(usize) -> String) -> String {
    match subject {
        Subject::Segment(r) => ref_name(r, name),
        Subject::Text(t) => t.clone(),
    }
}

/// The decisions in matrix order (SO, ST, WO, WT), each cell's in the order they were written;
/// segments named by `name` (the names the window shows).
pub fn decisions(board: &Board, name: &dyn Fn(usize) -> String) -> Vec<Decision> {
    TowsCell::ALL
        .iter()
        .flat_map(|cell| board.strategies.iter().filter(move |s| s.cell == *cell))
        .map(|s| Decision {
            cell: s.cell.code(),
            action: s.action.clone(),
            owner: s.owner.clone(),
            segments: s.segments.iter().map(|r| ref_name(r, name)).collect(),
            pairs: s
                .cards
                .iter()
                .filter_map(|id| board.card(*id))
                .map(|c| {
                    let one = c.quadrant.one();
                    let kind = one.split_whitespace().last().unwrap_or(one);
                    let mut kind = kind.to_string();
                    if let Some(first) = kind.get_mut(0..1) {
                        first.make_ascii_uppercase();
                    }
                    format!("{kind}: {}", card_title(&c.subject, name))
                })
                .collect(),
        })
        .collect()
}

/// The decision list as CSV (RFC 4180 quoting; a list inside a cell joined with "; "). A cell that
/// starts like a formula (`=`, `+`, `-`, `@`) gets a leading `'` so a spreadsheet shows it as text.
pub fn decisions_csv(decisions: &[Decision]) -> String {
    let mut out = DECISION_COLUMNS.join(",");
    out.push_str("\r\n");
    for d in decisions {
        let fields = [d.cell.to_string(), d.action.clone(), d.owner.clone(), d.segments.join("; "), d.pairs.join("; ")];
        let row: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) { format!("'{text}") } else { text.to_string() };
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text }
}

#[cfg(test)]
mod tests {
    use super::super::{Quadrant, Strategy};
    use super::*;

    #[test]
    fn the_decision_list_names_segments_and_pairs_and_quotes_what_needs_it() {
        let mut board = Board::default();
        let s = board.place_segment(1, Quadrant::Strengths, "");
        let t = board.add_text("Rival opens, \"big\"", Quadrant::Threats, "");
        board.strategies.push(Strategy {
            id: 1,
            cell: TowsCell::WT,
            action: "=HYPERLINK(\"x\")".into(),
            owner: "Ops".into(),
            cards: vec![],
            segments: vec![SegmentRef::Segment(0)],
        });
        board.strategies.push(Strategy {
            id: 2,
            cell: TowsCell::ST,
            action: "Loyalty tier".into(),
            owner: "CRM".into(),
            cards: vec![s, t],
            segments: vec![SegmentRef::Segment(1)],
        });
        let names = ["Lapsed".to_string(), "Best".to_string()];
        let list = decisions(&board, &|s| names[s].clone());
        assert_eq!(list[0].cell, "ST", "matrix order, not writing order");
        assert_eq!(list[0].pairs, vec!["Strength: Best", "Threat: Rival opens, \"big\""]);
        let csv = decisions_csv(&list);
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines[0], "cell,action,owner,segments,pairs");
        assert_eq!(lines[1], "ST,Loyalty tier,CRM,Best,\"Strength: Best; Threat: Rival opens, \"\"big\"\"\"");
        assert_eq!(lines[2], "WT,\"'=HYPERLINK(\"\"x\"\")\",Ops,Lapsed,");
    }
}
