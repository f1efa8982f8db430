//! The SWOT board: segments and other items placed in Strengths, Weaknesses, Opportunities and
//! Threats, each placement with a note on why; the TOWS strategies that pair them; and the
//! placement hints. Stored in the project (format 8); segment cards follow their customers through
//! re-fits exactly as names do ([`SegmentRef`], [`follow`]).

pub mod decisions;
pub mod evidence;
pub mod hints;

use serde::{Deserialize, Serialize};

/// One of the four quadrants of the board.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Quadrant {
    /// Internal, helpful.
    Strengths,
    /// Internal, harmful.
    Weaknesses,
    /// External, helpful.
    Opportunities,
    /// External, harmful.
    Threats,
}

impl Quadrant {
    /// The four, in the board's reading order (top left, top right, bottom left, bottom right).
    pub const ALL: [Quadrant; 4] =
        [Quadrant::Strengths, Quadrant::Weaknesses, Quadrant::Opportunities, Quadrant::Threats];

    /// Its heading ("Strengths").
    pub fn label(self) -> &'static str {
        match self {
            Quadrant::Strengths => "Strengths",
            Quadrant::Weaknesses => "Weaknesses",
            Quadrant::Opportunities => "Opportunities",
            Quadrant::Threats => "Threats",
        }
    }

    /// One item of it, in words ("a strength").
    pub fn one(self) -> &'static str {
        match self {
            Quadrant::Strengths => "a strength",
            Quadrant::Weaknesses => "a weakness",
            Quadrant::Opportunities => "an opportunity",
            Quadrant::Threats => "a threat",
        }
    }

    /// Its letter (S, W, O, T).
    pub fn letter(self) -> char {
        self.label().chars().next().unwrap_or('?')
    }

    /// Whether it is about the business itself (strengths, weaknesses) rather than its
    /// surroundings (opportunities, threats).
    pub fn is_internal(self) -> bool {
        matches!(self, Quadrant::Strengths | Quadrant::Weaknesses)
    }

    /// The quadrant a word names ("strength", "Threats", "o"), for hints and the CLI.
    pub fn parse(word: &str) -> Option<Quadrant> {
        let w = word.trim().to_ascii_lowercase();
        Quadrant::ALL.into_iter().find(|q| {
            let singular = q.one().rsplit(' ').next().unwrap_or_default();
            w == q.label().to_ascii_lowercase() || w == singular || w == q.letter().to_ascii_lowercase().to_string()
        })
    }
}

/// A segment as the board (or a presentation step) refers to it: by its number in the current
/// segmentation, carried to the segment its customers went to when a re-fit renumbers them, or,
/// when its customers no longer form one segment, kept detached with the name it had and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SegmentRef {
    /// A segment of the current segmentation (0-based, as the project's notes number them).
    Segment(usize),
    /// A segment that is no longer there as one.
    Detached {
        /// The name it had.
        name: String,
        /// Why it could not follow its customers, in words.
        why: String,
        /// The assignment fingerprint it was last attached under: a return to that segmentation
        /// attaches it again.
        fingerprint: String,
        /// Its number then.
        segment: usize,
    },
}

impl SegmentRef {
    /// The segment number, when attached.
    pub fn segment(&self) -> Option<usize> {
        match self {
            SegmentRef::Segment(s) => Some(*s),
            SegmentRef::Detached { .. } => None,
        }
    }
}

/// What a card is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Subject {
    /// A segment, with its live evidence.
    Segment(SegmentRef),
    /// An item that is not a segment (a competitor's move, a capability, a regulation).
    Text(String),
}

/// One placement on the board: a card in a quadrant with a note on why it is there. A segment may
/// sit in several quadrants (one card each).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Card {
    /// Unique on the board; strategies refer to cards by it.
    pub id: u32,
    /// Where it sits.
    pub quadrant: Quadrant,
    /// What it is about.
    pub subject: Subject,
    /// Why it sits there.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// The four TOWS strategy cells: an internal quadrant paired with an external one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum TowsCell {
    /// Use strengths to take opportunities.
    SO,
    /// Use strengths to meet threats.
    ST,
    /// Take opportunities to overcome weaknesses.
    WO,
    /// Reduce weaknesses to avoid threats.
    WT,
}

impl TowsCell {
    /// The four, in the matrix's reading order.
    pub const ALL: [TowsCell; 4] = [TowsCell::SO, TowsCell::ST, TowsCell::WO, TowsCell::WT];

    /// The internal and the external quadrant it pairs.
    pub fn quadrants(self) -> (Quadrant, Quadrant) {
        match self {
            TowsCell::SO => (Quadrant::Strengths, Quadrant::Opportunities),
            TowsCell::ST => (Quadrant::Strengths, Quadrant::Threats),
            TowsCell::WO => (Quadrant::Weaknesses, Quadrant::Opportunities),
            TowsCell::WT => (Quadrant::Weaknesses, Quadrant::Threats),
        }
    }

    /// Its short name ("SO").
    pub fn code(self) -> &'static str {
        match self {
            TowsCell::SO => "SO",
            TowsCell::ST => "ST",
            TowsCell::WO => "WO",
            TowsCell::WT => "WT",
        }
    }

    /// What strategies of this cell do, in words.
    pub fn meaning(self) -> &'static str {
        match self {
            TowsCell::SO => "use strengths to take opportunities",
            TowsCell::ST => "use strengths to meet threats",
            TowsCell::WO => "take opportunities to overcome weaknesses",
            TowsCell::WT => "reduce weaknesses and avoid threats",
        }
    }
}

/// A strategy in a TOWS cell: an action, who owns it, the cards it pairs and the segments it targets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Strategy {
    /// Unique among the strategies.
    pub id: u32,
    /// Its cell.
    pub cell: TowsCell,
    /// What will be done.
    pub action: String,
    /// Who owns it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub owner: String,
    /// The cards it pairs (ids of cards in the cell's two quadrants).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cards: Vec<u32>,
    /// The segments it targets.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<SegmentRef>,
}

/// The placement hints: readable rules that suggest a quadrant for a segment, shown beside its card
/// when switched on. They never move a card.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HintSettings {
    /// Whether hints are shown.
    pub shown: bool,
    /// The rules, one per line, in the hint language ([`hints`]).
    pub rules: Vec<String>,
}

impl Default for HintSettings {
    fn default() -> Self {
        Self { shown: true, rules: hints::DEFAULT_RULES.iter().map(|r| r.to_string()).collect() }
    }
}

/// The SWOT board of a project.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Board {
    /// The placements, in the order they were made.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cards: Vec<Card>,
    /// The TOWS strategies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub strategies: Vec<Strategy>,
    /// The placement hints.
    #[serde(default)]
    pub hints: HintSettings,
    /// The customer table's column whose sum is a segment's revenue (`None`: `monetary_total` when
    /// the table has it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revenue_column: Option<String>,
}

/// Cards a board may hold.
pub const MAX_CARDS: usize = 2_000;
/// Strategies a board may hold.
pub const MAX_STRATEGIES: usize = 1_000;
/// Hint rules a board may hold.
pub const MAX_HINT_RULES: usize = 200;

impl Board {
    /// Whether nothing was placed or written.
    pub fn is_empty(&self) -> bool {
        self.cards.is_empty() && self.strategies.is_empty()
    }

    /// A card id no card has yet.
    pub fn next_card_id(&self) -> u32 {
        self.cards.iter().map(|c| c.id).max().map_or(1, |m| m.saturating_add(1))
    }

    /// A strategy id no strategy has yet.
    pub fn next_strategy_id(&self) -> u32 {
        self.strategies.iter().map(|s| s.id).max().map_or(1, |m| m.saturating_add(1))
    }

    /// The cards in `quadrant`, in the order they were placed.
    pub fn cards_in(&self, quadrant: Quadrant) -> impl Iterator<Item = &Card> {
        self.cards.iter().filter(move |c| c.quadrant == quadrant)
    }

    /// The card with `id`.
    pub fn card(&self, id: u32) -> Option<&Card> {
        self.cards.iter().find(|c| c.id == id)
    }

    /// Places segment `segment` in `quadrant` with `note`, unless it already sits there; returns the
    /// card's id.
    pub fn place_segment(&mut self, segment: usize, quadrant: Quadrant, note: &str) -> u32 {
        if let Some(card) = self
            .cards
            .iter()
            .find(|c| c.quadrant == quadrant && c.subject == Subject::Segment(SegmentRef::Segment(segment)))
        {
            return card.id;
        }
        let id = self.next_card_id();
        self.cards.push(Card {
            id,
            quadrant,
            subject: Subject::Segment(SegmentRef::Segment(segment)),
            note: note.to_string(),
        });
        id
    }

    /// Adds a card that is not a segment; returns its id.
    pub fn add_text(&mut self, text: &str, quadrant: Quadrant, note: &str) -> u32 {
        let id = self.next_card_id();
        self.cards.push(Card { id, quadrant, subject: Subject::Text(text.to_string()), note: note.to_string() });
        id
    }

    /// Moves a card to another quadrant; strategies that paired it where it no longer fits drop it.
    pub fn move_card(&mut self, id: u32, quadrant: Quadrant) {
        if let Some(card) = self.cards.iter_mut().find(|c| c.id == id) {
            card.quadrant = quadrant;
        }
        self.drop_stale_pairs();
    }

    /// Puts card `id` just before card `before` in its quadrant's order (cards keep their order on
    /// the board, the slides and the report); `before = None` puts it last. A `before` in another
    /// quadrant, or either card missing, changes nothing. Returns whether the order changed.
    pub fn reorder(&mut self, id: u32, before: Option<u32>) -> bool {
        let Some(from) = self.cards.iter().position(|c| c.id == id) else { return false };
        let quadrant = self.cards[from].quadrant;
        let old: Vec<u32> = self.cards.iter().map(|c| c.id).collect();
        let target = match before {
            Some(b) if b == id => return false,
            Some(b) => match self.cards.iter().find(|c| c.id == b) {
                Some(c) if c.quadrant == quadrant => Some(b),
                _ => return false,
            },
            None => None,
        };
        let card = self.cards.remove(from);
        let at = match target {
            Some(b) => self.cards.iter().position(|c| c.id == b).unwrap_or(self.cards.len()),
            // After the quadrant's last card (or where it was, when it was alone).
            None => self.cards.iter().rposition(|c| c.quadrant == quadrant).map_or(from, |i| i + 1),
        };
        self.cards.insert(at.min(self.cards.len()), card);
        self.cards.iter().map(|c| c.id).ne(old)
    }

    /// Moves card `id` one place up (`-1`) or down (`1`) among its quadrant's cards. Returns
    /// whether it moved (not at the top or the bottom already).
    pub fn nudge(&mut self, id: u32, step: i32) -> bool {
        let Some(card) = self.card(id) else { return false };
        let order: Vec<u32> = self.cards_in(card.quadrant).map(|c| c.id).collect();
        let Some(at) = order.iter().position(|c| *c == id) else { return false };
        match step {
            -1 if at > 0 => self.reorder(id, Some(order[at - 1])),
            1 if at + 2 < order.len() => self.reorder(id, Some(order[at + 2])),
            1 if at + 1 < order.len() => self.reorder(id, None),
            _ => false,
        }
    }

    /// Removes a card (and its pairing in strategies).
    pub fn remove_card(&mut self, id: u32) {
        self.cards.retain(|c| c.id != id);
        self.drop_stale_pairs();
    }

    fn drop_stale_pairs(&mut self) {
        let cards = self.cards.clone();
        for strategy in &mut self.strategies {
            let (internal, external) = strategy.cell.quadrants();
            strategy
                .cards
                .retain(|id| cards.iter().any(|c| c.id == *id && (c.quadrant == internal || c.quadrant == external)));
        }
    }

    /// Every segment reference on the board (cards and strategies' targets), to carry or check.
    pub(crate) fn refs_mut(&mut self) -> impl Iterator<Item = &mut SegmentRef> {
        let cards = self.cards.iter_mut().filter_map(|c| match &mut c.subject {
            Subject::Segment(r) => Some(r),
            Subject::Text(_) => None,
        });
        cards.chain(self.strategies.iter_mut().flat_map(|s| s.segments.iter_mut()))
    }

    /// Every segment reference on the board.
    pub fn refs(&self) -> Vec<&SegmentRef> {
        let cards = self.cards.iter().filter_map(|c| match &c.subject {
            Subject::Segment(r) => Some(r),
            Subject::Text(_) => None,
        });
        cards.chain(self.strategies.iter().flat_map(|s| s.segments.iter())).collect()
    }

    /// Checks the board's bounds and references as read from a file; the message names the key.
    pub fn check(&self) -> Result<(), String> {
        use crate::engine::project::validate::{MAX_NAME_CHARS, MAX_SEGMENTS, MAX_TEXT_CHARS};
        if self.cards.len() > MAX_CARDS {
            return Err(format!("board.cards has {} cards; a board holds at most {MAX_CARDS}", self.cards.len()));
        }
        if self.strategies.len() > MAX_STRATEGIES {
            return Err(format!(
                "board.strategies has {} strategies; a board holds at most {MAX_STRATEGIES}",
                self.strategies.len()
            ));
        }
        if self.hints.rules.len() > MAX_HINT_RULES {
            return Err(format!("board.hints.rules has {} rules; at most {MAX_HINT_RULES}", self.hints.rules.len()));
        }
        let text = |key: String, t: &str, max: usize| {
            let n = t.chars().count();
            if n > max { Err(format!("{key} has {n} characters; at most {max}")) } else { Ok(()) }
        };
        let check_ref = |key: String, r: &SegmentRef| -> Result<(), String> {
            match r {
                SegmentRef::Segment(s) | SegmentRef::Detached { segment: s, .. } if *s >= MAX_SEGMENTS => {
                    Err(format!("{key} is segment {s}; a project has at most {MAX_SEGMENTS} segments"))
                }
                SegmentRef::Segment(_) => Ok(()),
                SegmentRef::Detached { name, why, fingerprint, .. } => {
                    text(format!("{key}.name"), name, MAX_NAME_CHARS)?;
                    text(format!("{key}.why"), why, MAX_TEXT_CHARS)?;
                    text(format!("{key}.fingerprint"), fingerprint, MAX_NAME_CHARS)
                }
            }
        };
        let mut ids = std::collections::HashSet::new();
        for (i, card) in self.cards.iter().enumerate() {
            let key = format!("board.cards[{i}]");
            if !ids.insert(card.id) {
                return Err(format!("{key}: card id {} is used twice; each card has its own id", card.id));
            }
            text(format!("{key}.note"), &card.note, MAX_TEXT_CHARS)?;
            match &card.subject {
                Subject::Segment(r) => check_ref(format!("{key}.subject"), r)?,
                Subject::Text(t) => {
                    text(format!("{key}.subject"), t, MAX_NAME_CHARS)?;
                    if t.trim().is_empty() {
                        return Err(format!("{key}.subject is an empty text card; write what it is"));
                    }
                }
            }
        }
        let mut strategy_ids = std::collections::HashSet::new();
        for (i, strategy) in self.strategies.iter().enumerate() {
            let key = format!("board.strategies[{i}]");
            if !strategy_ids.insert(strategy.id) {
                return Err(format!("{key}: strategy id {} is used twice", strategy.id));
            }
            text(format!("{key}.action"), &strategy.action, MAX_TEXT_CHARS)?;
            text(format!("{key}.owner"), &strategy.owner, MAX_NAME_CHARS)?;
            if strategy.cards.len() > MAX_CARDS || strategy.segments.len() > MAX_SEGMENTS {
                return Err(format!("{key} pairs more cards or segments than a board holds"));
            }
            let (internal, external) = strategy.cell.quadrants();
            for id in &strategy.cards {
                match self.card(*id) {
                    None => return Err(format!("{key}.cards names card {id}, which the board does not have")),
                    Some(c) if c.quadrant != internal && c.quadrant != external => {
                        return Err(format!(
                            "{key}.cards names card {id}, which sits in {}; a {} strategy pairs {} with {}",
                            c.quadrant.label(),
                            strategy.cell.code(),
                            internal.label(),
                            external.label()
                        ));
                    }
                    Some(_) => {}
                }
            }
            for (j, r) in strategy.segments.iter().enumerate() {
                check_ref(format!("{key}.segments[{j}]"), r)?;
            }
        }
        for (i, rule) in self.hints.rules.iter().enumerate() {
            text(format!("board.hints.rules[{i}]"), rule, crate::engine::project::validate::MAX_RULE_CHARS)?;
        }
        if let Some(column) = &self.revenue_column {
            text("board.revenue_column".into(), column, crate::engine::project::validate::MAX_COLUMN_NAME_CHARS)?;
        }
        Ok(())
    }
}

pub use crate::engine::naming::SegmentMap;

/// What following the customers did to references that could not follow, one line each (for the
/// "Names after the change" list and `strata run`).
pub fn follow(refs: &mut dyn Iterator<Item = &mut SegmentRef>, map: &SegmentMap) -> Vec<String> {
    let mut lines = Vec::new();
    for r in refs {
        match r {
            SegmentRef::Segment(s) => match map.to.get(*s) {
                Some(Ok(t)) => *r = SegmentRef::Segment(*t),
                other => {
                    let why = match other {
                        Some(Err(why)) => why.clone(),
                        _ => "its segment is no longer there".to_string(),
                    };
                    let name = map.old_names.get(*s).cloned().unwrap_or_else(|| format!("Segment {}", *s + 1));
                    let line = format!(
                        "\"{name}\" on the board or in the presentation: {why}; kept there, marked as no longer a segment"
                    );
                    if !lines.contains(&line) {
                        lines.push(line);
                    }
                    *r = SegmentRef::Detached { name, why, fingerprint: map.from_fingerprint.clone(), segment: *s };
                }
            },
            SegmentRef::Detached { fingerprint, segment, .. } if *fingerprint == map.to_fingerprint => {
                // A return to the segmentation it was attached under.
                *r = SegmentRef::Segment(*segment);
            }
            SegmentRef::Detached { .. } => {}
        }
    }
    lines
}

impl Board {
    /// Carries every segment reference to where its customers went ([`follow`]).
    pub fn follow(&mut self, map: &SegmentMap) -> Vec<String> {
        let mut refs = self.refs_mut();
        follow(&mut refs, map)
    }
}

/// Detaches references to segments at or beyond `n_segments` (a project whose segmentation has
/// fewer segments than its board or steps name), with the reason; returns one line per name.
pub fn detach_missing(
    refs: &mut dyn Iterator<Item = &mut SegmentRef>,
    n_segments: usize,
    fingerprint: &str,
) -> Vec<String> {
    let map = SegmentMap {
        to: (0..n_segments).map(Ok).collect(),
        old_names: Vec::new(),
        from_fingerprint: fingerprint.to_string(),
        to_fingerprint: String::new(),
    };
    follow(refs, &map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cards_reorder_within_their_quadrant_only() {
        let mut board = Board::default();
        let a = board.add_text("a", Quadrant::Strengths, "");
        let t = board.add_text("t", Quadrant::Threats, "");
        let b = board.add_text("b", Quadrant::Strengths, "");
        let c = board.add_text("c", Quadrant::Strengths, "");
        let order = |board: &Board| board.cards_in(Quadrant::Strengths).map(|c| c.id).collect::<Vec<_>>();
        assert!(board.reorder(c, Some(a)));
        assert_eq!(order(&board), [c, a, b]);
        assert!(board.reorder(c, None), "last");
        assert_eq!(order(&board), [a, b, c]);
        assert!(!board.reorder(c, None), "already last");
        assert!(!board.reorder(a, Some(t)), "before a card of another quadrant: nothing");
        assert!(!board.reorder(a, Some(a)) && !board.reorder(99, None) && !board.reorder(a, Some(99)));
        assert!(board.nudge(b, -1));
        assert_eq!(order(&board), [b, a, c]);
        assert!(!board.nudge(b, -1), "already first");
        assert!(board.nudge(b, 1) && board.nudge(b, 1));
        assert_eq!(order(&board), [a, c, b]);
        assert!(!board.nudge(b, 1), "already last");
        assert_eq!(board.cards_in(Quadrant::Threats).map(|c| c.id).collect::<Vec<_>>(), [t]);
        assert_eq!(board.cards.len(), 4);
    }

    #[test]
    fn quadrants_parse_from_the_words_people_write() {
        assert_eq!(Quadrant::parse("strength"), Some(Quadrant::Strengths));
        assert_eq!(Quadrant::parse(" Threats "), Some(Quadrant::Threats));
        assert_eq!(Quadrant::parse("o"), Some(Quadrant::Opportunities));
        assert_eq!(Quadrant::parse("weakness"), Some(Quadrant::Weaknesses));
        assert_eq!(Quadrant::parse("Opportunity"), Some(Quadrant::Opportunities));
        assert_eq!(Quadrant::parse("weaknesse"), None);
        assert_eq!(Quadrant::parse("weak"), None);
    }

    #[test]
    fn cards_follow_their_customers_and_detach_when_they_scatter() {
        let mut board = Board::default();
        let a = board.place_segment(0, Quadrant::Strengths, "loyal core");
        board.place_segment(1, Quadrant::Threats, "");
        assert_eq!(board.place_segment(0, Quadrant::Strengths, "again"), a, "one card per segment and quadrant");
        board.place_segment(0, Quadrant::Opportunities, "upsell");
        board.strategies.push(Strategy {
            id: 1,
            cell: TowsCell::SO,
            action: "Loyalty tier".into(),
            owner: "CRM".into(),
            cards: vec![a],
            segments: vec![SegmentRef::Segment(0)],
        });
        let map = SegmentMap {
            to: vec![Ok(2), Err("its customers split over segments 1 and 3".into())],
            old_names: vec!["Loyal".into(), "Lapsing".into()],
            from_fingerprint: "f1".into(),
            to_fingerprint: "f2".into(),
        };
        let lines = board.follow(&map);
        assert_eq!(board.cards[0].subject, Subject::Segment(SegmentRef::Segment(2)));
        assert_eq!(board.cards[2].subject, Subject::Segment(SegmentRef::Segment(2)));
        assert_eq!(board.strategies[0].segments, vec![SegmentRef::Segment(2)]);
        assert!(
            matches!(&board.cards[1].subject, Subject::Segment(SegmentRef::Detached { name, .. }) if name == "Lapsing")
        );
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].contains("Lapsing") && lines[0].contains("split"), "{lines:?}");
        // A return to the first segmentation attaches the detached card again.
        let back = SegmentMap {
            to: vec![Ok(0), Ok(1), Ok(0)],
            old_names: vec![],
            from_fingerprint: "f2".into(),
            to_fingerprint: "f1".into(),
        };
        board.follow(&back);
        assert_eq!(board.cards[1].subject, Subject::Segment(SegmentRef::Segment(1)));
        assert_eq!(board.cards[0].subject, Subject::Segment(SegmentRef::Segment(0)));
    }

    #[test]
    fn moving_a_card_out_of_a_cell_unpairs_it_and_checks_catch_damaged_boards() {
        let mut board = Board::default();
        let s = board.place_segment(0, Quadrant::Strengths, "");
        let o = board.add_text("Competitor exits the region", Quadrant::Opportunities, "press, March");
        board.strategies.push(Strategy {
            id: 1,
            cell: TowsCell::SO,
            action: "Win their customers".into(),
            owner: String::new(),
            cards: vec![s, o],
            segments: vec![],
        });
        assert_eq!(board.check(), Ok(()));
        board.move_card(o, Quadrant::Weaknesses);
        assert_eq!(board.strategies[0].cards, vec![s]);
        let mut damaged = board.clone();
        damaged.cards[1].id = damaged.cards[0].id;
        assert!(damaged.check().unwrap_err().contains("used twice"));
        let mut damaged = board.clone();
        damaged.strategies[0].cards.push(99);
        assert!(damaged.check().unwrap_err().contains("card 99"));
        let mut damaged = board.clone();
        damaged.cards[0].subject = Subject::Segment(SegmentRef::Segment(usize::MAX));
        assert!(damaged.check().unwrap_err().contains("at most"));
        let mut damaged = board;
        damaged.cards[1].subject = Subject::Text("  ".into());
        assert!(damaged.check().unwrap_err().contains("empty text card"));
    }
}
