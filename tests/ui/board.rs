//! The SWOT board screen: segments dragged (and placed by menu) onto quadrants, text items, notes,
//! undo in one step, the audit log, cards that follow their customers through a re-fit, hints,
//! small segments shown as "<10", the TOWS strategies and their decision list.

use super::*;
use strata::app::{BoardDrag, BoardTab, ExportKind, dropped};
use strata::engine::swot::{Board, Quadrant, SegmentRef, Subject};

fn board(app: &StrataApp) -> Board {
    app.board()
}

/// The demo on the SWOT screen with an empty board (whatever the demo project holds).
fn demo_board() -> (Harness<'static, StrataApp>, ScriptedDialogs) {
    let (mut harness, dialogs) = demo();
    harness.state_mut().push(Command::EditBoard { board: Box::new(Board::default()), what: "clear the board".into() });
    harness.run();
    tab(&harness, Screen::Board);
    harness.run();
    (harness, dialogs)
}

fn segment_cards(app: &StrataApp, quadrant: Quadrant) -> Vec<SegmentRef> {
    board(app)
        .cards_in(quadrant)
        .filter_map(|c| match &c.subject {
            Subject::Segment(r) => Some(r.clone()),
            Subject::Text(_) => None,
        })
        .collect()
}

/// Presses at `from`, moves in steps to `to` and releases there, as a hand on a mouse does.
fn drag(harness: &mut Harness<'static, StrataApp>, from: egui::Pos2, to: egui::Pos2) {
    harness.hover_at(from);
    harness.run();
    harness.drag_at(from);
    harness.run();
    for i in 1..=6 {
        harness.hover_at(from + (to - from) * (i as f32 / 6.0));
        harness.run();
    }
    // Released over the target (`drop_at` would also take the pointer away in the same frame).
    harness.event(egui::Event::PointerButton {
        pos: to,
        button: egui::PointerButton::Primary,
        pressed: false,
        modifiers: egui::Modifiers::NONE,
    });
    harness.run();
    harness.remove_cursor();
    harness.run();
}

#[test]
fn a_segment_is_dragged_onto_a_quadrant_and_a_card_is_dragged_to_another() {
    let (mut harness, _) = demo_board();
    let name = segment_name(harness.state(), 0);
    let from = harness.get_by_label(&name).rect().center();
    let to = harness.get_by_label("Strengths").rect().center() + egui::vec2(0.0, 40.0);
    drag(&mut harness, from, to);
    assert_eq!(segment_cards(harness.state(), Quadrant::Strengths), vec![SegmentRef::Segment(0)]);
    // The card shows the segment's name and its live evidence.
    assert_eq!(harness.query_all_by_label(&name).count(), 2, "the strip and the card");
    assert!(harness.query_all_by_label_contains("customers (").count() >= 1);

    // The card itself is dragged on to Threats: moved, not copied.
    let card_title = harness.get_all_by_label(&name).last().unwrap().rect().center();
    let to = harness.get_by_label("Threats").rect().center() + egui::vec2(0.0, 40.0);
    drag(&mut harness, card_title, to);
    assert!(segment_cards(harness.state(), Quadrant::Strengths).is_empty());
    assert_eq!(segment_cards(harness.state(), Quadrant::Threats), vec![SegmentRef::Segment(0)]);
    assert_eq!(harness.state().doc.as_ref().unwrap().undo_label(), Some(format!("move '{name}' to Threats").as_str()));
}

#[test]
fn the_drop_path_places_moves_and_never_doubles_a_segment_in_a_quadrant() {
    let name = |s: usize| format!("S{s}");
    let empty = Board::default();
    let (placed, what) = dropped(&empty, BoardDrag::Segment(2), Quadrant::Opportunities, &name).unwrap();
    assert_eq!(what, "place 'S2' in Opportunities");
    assert!(dropped(&placed, BoardDrag::Segment(2), Quadrant::Opportunities, &name).is_none(), "already there");
    let (both, _) = dropped(&placed, BoardDrag::Segment(2), Quadrant::Threats, &name).unwrap();
    assert_eq!(both.cards.len(), 2, "a segment may sit in several quadrants");
    // Dragging the Threats card onto Opportunities, where the segment sits already, leaves one card.
    let threat = both.cards_in(Quadrant::Threats).next().unwrap().id;
    let (merged, _) = dropped(&both, BoardDrag::Card(threat), Quadrant::Opportunities, &name).unwrap();
    assert_eq!(merged.cards.len(), 1);
    assert!(dropped(&merged, BoardDrag::Card(999), Quadrant::Strengths, &name).is_none());
}

#[test]
fn place_by_menu_add_an_item_write_a_note_and_undo_each_in_one_step_with_the_audit_log() {
    let (mut harness, _) = demo_board();
    let name = segment_name(harness.state(), 1);
    // "Place in..." of the second segment in the strip, then Weaknesses.
    harness.get_all_by_label("Place in...").nth(1).unwrap().click();
    harness.run();
    harness.get_by_role_and_label(Role::Button, "Weaknesses").click();
    harness.run();
    assert_eq!(segment_cards(harness.state(), Quadrant::Weaknesses), vec![SegmentRef::Segment(1)]);
    harness.get_by_label_contains(&format!("Note on {name} in Weaknesses"));

    // A text item in Opportunities.
    harness.get_by_label("Add item to Opportunities").click();
    harness.run();
    let field = harness.get_by_label("New item in Opportunities");
    field.focus();
    field.type_text("Competitor exits the region");
    harness.run();
    harness.get_by_label("Add").click();
    harness.run();
    let item = board(harness.state()).cards_in(Quadrant::Opportunities).next().cloned().unwrap();
    assert_eq!(item.subject, Subject::Text("Competitor exits the region".into()));

    // Its note, typed: one undo step and one audit line for the whole spell of typing.
    let audit_before = harness.state().doc.as_ref().unwrap().project.audit.len();
    let note = harness.get_by_label("Note on Competitor exits the region in Opportunities");
    note.focus();
    note.type_text("press, ");
    harness.run();
    harness.get_by_label("Note on Competitor exits the region in Opportunities").type_text("March");
    harness.run();
    let app = harness.state();
    assert_eq!(board(app).card(item.id).unwrap().note, "press, March");
    let doc = app.doc.as_ref().unwrap();
    assert_eq!(doc.project.audit.len(), audit_before + 1, "typing is one line of the audit log");
    assert_eq!(doc.project.audit.last().unwrap().what, "note on 'Competitor exits the region' in Opportunities");
    assert_eq!(doc.undo_label(), Some("note on 'Competitor exits the region' in Opportunities"));

    harness.state_mut().push(Command::Undo);
    harness.run();
    let app = harness.state();
    assert_eq!(board(app).card(item.id).unwrap().note, "", "the whole note goes in one step");
    assert!(app.doc.as_ref().unwrap().project.audit.last().unwrap().what.starts_with("undo note on"));
    harness.state_mut().push(Command::Undo);
    harness.run();
    assert!(board(harness.state()).card(item.id).is_none());
    assert_eq!(segment_cards(harness.state(), Quadrant::Weaknesses), vec![SegmentRef::Segment(1)]);
    harness.state_mut().push(Command::Undo);
    harness.run();
    assert!(board(harness.state()).cards.is_empty());
}

#[test]
fn a_refit_keeps_a_named_segments_card_on_the_segment_its_customers_went_to() {
    let dir = tempfile::tempdir().unwrap();
    let (mut harness, _) = three_groups_at_k3(dir.path());
    for (s, name) in ["Big", "Middle", "Small"].iter().enumerate() {
        harness.state_mut().push(Command::RenameSegment { segment: s, name: name.to_string() });
        harness.run();
    }
    let mut b = Board::default();
    b.place_segment(1, Quadrant::Strengths, "our core");
    b.place_segment(2, Quadrant::Threats, "");
    harness.state_mut().push(Command::EditBoard { board: Box::new(b), what: "place".into() });
    harness.run();
    // k = 4: the big group splits; Middle becomes segment 1 and Small segment 4 (renumbered by size).
    harness.state_mut().push(Command::SelectK(4));
    harness.run();
    let sizes = harness.state().output.as_ref().unwrap().result.fit.sizes.clone();
    let at = |size: usize| sizes.iter().position(|&n| n == size).unwrap();
    assert_eq!(segment_cards(harness.state(), Quadrant::Strengths), vec![SegmentRef::Segment(at(200))]);
    assert_eq!(segment_cards(harness.state(), Quadrant::Threats), vec![SegmentRef::Segment(at(100))]);
    assert_eq!(board(harness.state()).cards[0].note, "our core");
    tab(&harness, Screen::Board);
    harness.run();
    // The card shows the carried name, with the figures of its new segment.
    harness.get_by_label("Note on Middle in Strengths");
    harness.get_by_label("Note on Small in Threats");
    assert!(harness.query_all_by_label_contains("200 customers").count() >= 1);
}

#[test]
fn hints_are_shown_from_editable_rules_and_the_toggle_hides_them() {
    let (mut harness, _) = demo_board();
    harness.get_all_by_label("Place in...").next().unwrap().click();
    harness.run();
    harness.get_by_role_and_label(Role::Button, "Strengths").click();
    harness.run();
    // The default rules judge what the demo's evidence allows, and say what they need for the rest.
    let hints = |h: &Harness<'static, StrataApp>| {
        h.query_all_by_label_contains("candidate").count() + h.query_all_by_label_contains("not judged").count()
    };
    assert!(hints(&harness) >= 1);
    // A rule of one's own, and one with a mistake, whose error shows on its line.
    harness.get_by_label("Hint rules...").click();
    harness.run();
    harness.get_by_label("Add a rule").click();
    harness.run();
    let rules = board(harness.state()).hints.rules.len();
    let label = format!("Hint rule {rules}");
    let rule = harness.get_by_label(&label);
    rule.focus();
    rule.type_text(" or glory");
    harness.run();
    harness.get_by_label_contains(&format!("Line {rules}:"));
    harness.get_by_label("Add a rule").click();
    harness.run();
    let mut b = board(harness.state());
    b.hints.rules.push("when customer_share >= 1% then opportunity".into());
    harness.state_mut().push(Command::EditBoard { board: Box::new(b), what: "hint rule".into() });
    harness.run();
    harness.get_by_label_contains("opportunity candidate: customer share");
    let placed = harness.state().board().cards.clone();

    harness.get_by_label("Show placement hints").click();
    harness.run();
    assert!(!board(harness.state()).hints.shown);
    assert_eq!(hints(&harness), 0);
    assert_eq!(board(harness.state()).cards, placed, "hints never move a card");
}

#[test]
fn a_segment_of_fewer_than_ten_customers_shows_less_than_ten() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("customers.csv");
    let mut text = String::from("customer_id,visits,spend\n");
    for i in 0..206 {
        let (x, y) = match i {
            0..100 => (0.0, 0.0),
            100..200 => (40.0, 40.0),
            _ => (80.0, 0.0),
        };
        text.push_str(&format!("c{i},{},{}\n", x + (i % 7) as f64 * 0.05, y + (i % 5) as f64 * 0.05));
    }
    std::fs::write(&csv, text).unwrap();
    let dialogs = ScriptedDialogs::new();
    let mut harness = harness(StartProject::Empty, &dialogs);
    harness.input_mut().dropped_files.push(std::sync::Arc::new(Dropped(csv)));
    harness.run();
    harness.state_mut().push(Command::SelectK(3));
    harness.run();
    let sizes = harness.state().output.as_ref().unwrap().result.fit.sizes.clone();
    let small = sizes.iter().position(|&n| n == 6).expect("the six customers are a segment");
    let mut b = Board::default();
    b.place_segment(small, Quadrant::Threats, "");
    harness.state_mut().push(Command::EditBoard { board: Box::new(b), what: "place".into() });
    harness.run();
    tab(&harness, Screen::Board);
    harness.run();
    harness.get_by_label("<10 customers: too few to show its figures");
    assert!(harness.query_all_by_label("<10").count() >= 1, "the strip says <10 too");
    assert_eq!(harness.query_all_by_label("6").count(), 0);
    assert_eq!(harness.query_all_by_label_contains("6 customers (").count(), 0, "never the exact count");
}

#[test]
fn tows_strategies_pair_cards_target_segments_and_export_as_a_decision_list() {
    let dir = tempfile::tempdir().unwrap();
    let (mut harness, dialogs) = demo_board();
    let names: Vec<String> = (0..2).map(|s| segment_name(harness.state(), s)).collect();
    let mut b = Board::default();
    b.place_segment(0, Quadrant::Strengths, "");
    b.add_text("Competitor exits the region", Quadrant::Opportunities, "");
    b.add_text("New privacy law", Quadrant::Threats, "");
    harness.state_mut().push(Command::EditBoard { board: Box::new(b), what: "place".into() });
    harness.run();
    harness.get_by_label("TOWS strategies").click();
    harness.run();
    assert_eq!(harness.state().view.board.tab, BoardTab::Tows);
    harness.get_by_label_contains("use strengths to take opportunities");
    harness.get_by_label("Add a strategy to SO").click();
    harness.run();
    let id = board(harness.state()).strategies[0].id;
    for (field, text) in [("Action", "Win their customers"), ("Owner", "CRM team")] {
        let label = format!("{field} of strategy {id}");
        let node = harness.get_by_label(&label);
        node.focus();
        node.type_text(text);
        harness.run();
    }
    // Only the cell's two quadrants can be paired: the Threats item is not offered.
    assert_eq!(harness.query_all_by_label_contains("T: New privacy law").count(), 0);
    harness.get_by_label("O: Competitor exits the region").click();
    harness.run();
    harness.get_by_label(&format!("S: {}", names[0])).click();
    harness.run();
    harness.get_all_by_label(&names[1]).next().unwrap().click();
    harness.run();
    let strategy = board(harness.state()).strategies[0].clone();
    assert_eq!((strategy.action.as_str(), strategy.owner.as_str()), ("Win their customers", "CRM team"));
    assert_eq!(strategy.cards.len(), 2);
    assert_eq!(strategy.segments, vec![SegmentRef::Segment(1)]);

    let path = dir.path().join("decisions.csv");
    dialogs.answer(&path);
    harness.get_by_label("Export decision list...").click();
    harness.run();
    assert_eq!(dialogs.asked().last(), Some(&strata::app::DialogPurpose::Export(ExportKind::DecisionList)));
    let csv = std::fs::read_to_string(&path).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("cell,action,owner,segments,pairs"));
    let row = lines.next().unwrap();
    assert!(row.starts_with("SO,Win their customers,CRM team,"), "{row}");
    assert!(row.contains(&names[1]) && row.contains("Opportunity: Competitor exits the region; Strength: "), "{row}");
    assert_eq!(lines.next(), None);
}

#[test]
fn the_evidence_is_made_once_per_change_not_per_frame_and_sixty_segments_lay_out() {
    let (mut harness, _) = demo_board();
    let made = harness.state().view.board.evidence_made;
    for _ in 0..5 {
        harness.step();
    }
    assert_eq!(harness.state().view.board.evidence_made, made, "drawing does not make the evidence again");
    let mut b = board(harness.state());
    b.revenue_column = Some("frequency".into());
    harness.state_mut().push(Command::EditBoard { board: Box::new(b), what: "revenue column".into() });
    harness.run();
    assert_eq!(harness.state().view.board.evidence_made, made + 1, "a new revenue column makes it once");
    // 60 segments at a projector's scale: the strip wraps and scrolls, the board still draws.
    harness.state_mut().push(Command::SetUiScale(2.0));
    let mut spec = harness.state().doc.as_ref().unwrap().project.spec.clone();
    spec.model.algorithm.set_k(60);
    harness.state_mut().push(Command::EditSpec { spec: Box::new(spec), what: "k = 60".into() });
    harness.run();
    assert_eq!(k_of(harness.state()), 60);
    harness.get_by_label("Strengths");
    assert!(harness.query_all_by_label("Place in...").count() >= 1);
    // Long words on cards and a long segment name: everything stays inside the window (a chip or
    // a card wider than the window once widened the whole board for good).
    let mut b = board(harness.state());
    b.add_text("A competitor with a very long name opened a very large store across the road", Quadrant::Strengths, "");
    b.place_segment(3, Quadrant::Strengths, "");
    harness.state_mut().push(Command::EditBoard { board: Box::new(b), what: "cards".into() });
    harness.state_mut().push(Command::RenameSegment {
        segment: 3,
        name: "Customers who bought twice in the spring and never again since".into(),
    });
    for _ in 0..4 {
        harness.run();
    }
    let right = harness.ctx.content_rect().right() + 1.0;
    for label in ["Place in...", "Add item to Strengths", "Add item to Threats", "Remove", "Move to..."] {
        for node in harness.query_all_by_label(label) {
            assert!(node.rect().right() <= right, "{label} at {:?} is outside the window ({right})", node.rect());
        }
    }
}

#[test]
fn cards_are_reordered_in_their_quadrant_by_drag_and_by_menu() {
    let (mut harness, _) = demo_board();
    let mut b = Board::default();
    let first = b.add_text("First item", Quadrant::Strengths, "");
    let second = b.add_text("Second item", Quadrant::Strengths, "");
    let third = b.add_text("Third item", Quadrant::Strengths, "");
    harness.state_mut().push(Command::EditBoard { board: Box::new(b), what: "items".into() });
    harness.run();
    let order = |h: &Harness<'static, StrataApp>| {
        board(h.state()).cards_in(Quadrant::Strengths).map(|c| c.id).collect::<Vec<_>>()
    };
    // The third card's grip ("Item") dropped on the first card: it goes before it.
    let grip = harness.get_all_by_label("Item").nth(2).unwrap().rect().center();
    let target = harness.get_by_label("Text of item 1 in Strengths").rect().center();
    drag(&mut harness, grip, target);
    assert_eq!(order(&harness), [third, first, second]);
    assert_eq!(
        harness.state().doc.as_ref().unwrap().undo_label(),
        Some("move 'Third item' before 'First item' in Strengths")
    );
    // "Move to..." > "Down" on the card now first.
    harness.get_all_by_label("Move to...").next().unwrap().click();
    harness.run();
    harness.get_by_role_and_label(Role::Button, "Down").click();
    harness.run();
    assert_eq!(order(&harness), [first, third, second]);
    // A segment from the strip dropped on a card lands just before it.
    let name = segment_name(harness.state(), 0);
    let from = harness.get_by_label(&name).rect().center();
    let target = harness.get_by_label("Text of item 2 in Strengths").rect().center();
    drag(&mut harness, from, target);
    let placed =
        board(harness.state()).cards.iter().find(|c| c.subject == Subject::Segment(SegmentRef::Segment(0))).unwrap().id;
    assert_eq!(order(&harness), [first, third, placed, second]);
}

#[test]
fn an_items_words_can_be_retyped_but_never_left_empty() {
    let (mut harness, _) = demo_board();
    let mut b = Board::default();
    b.add_text("Old words", Quadrant::Threats, "");
    harness.state_mut().push(Command::EditBoard { board: Box::new(b), what: "item".into() });
    harness.run();
    let field = harness.get_by_label("Text of item 1 in Threats");
    field.focus();
    harness.run();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness.key_press(egui::Key::Backspace);
    harness.run();
    // Empty for a moment: the board keeps the old words and says so.
    assert_eq!(board(harness.state()).cards[0].subject, Subject::Text("Old words".into()));
    harness.get_by_label_contains("An item needs words");
    harness.get_by_label("Text of item 1 in Threats").type_text("New words");
    harness.run();
    assert_eq!(board(harness.state()).cards[0].subject, Subject::Text("New words".into()));
    assert!(harness.query_by_label_contains("An item needs words").is_none());
}

/// The board on the demo with cards, hints and a text item, rendered as the window draws it.
#[test]
fn snapshot_of_the_swot_board() {
    let (mut harness, _) = demo_board();
    let mut b = Board::default();
    b.place_segment(0, Quadrant::Strengths, "Our most valuable customers");
    b.place_segment(1, Quadrant::Weaknesses, "Many, but they spend little");
    b.add_text("Competitor exits the region", Quadrant::Opportunities, "Press, March");
    b.place_segment(2, Quadrant::Threats, "");
    harness.state_mut().push(Command::EditBoard { board: Box::new(b), what: "place".into() });
    harness.run();
    harness.remove_cursor();
    harness.run();
    harness.snapshot("board");
}
