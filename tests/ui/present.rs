//! The Present screen and presentation mode on the demo, at a projector's 1920 x 1080.

use super::*;

use strata::app::present::{PresentCommand, UNDO_ALL};
use strata::engine::presentation::{Presentation, View};
use strata::engine::swot::{Board, Quadrant, SegmentRef, Subject};

fn demo_1080p() -> Harness<'static, StrataApp> {
    let dialogs = ScriptedDialogs::new();
    let mut harness = Harness::builder()
        .with_size([1920.0, 1080.0])
        .build_eframe(move |cc| StrataApp::new(cc, AppOptions::scripted(StartProject::Demo, dialogs)));
    harness.run();
    harness
}

fn key(harness: &mut Harness<'static, StrataApp>, key: egui::Key) {
    harness.key_press(key);
    harness.run();
}

fn shown_step(harness: &Harness<'static, StrataApp>) -> Option<usize> {
    harness.state().present.current_step()
}

fn presentation(app: &StrataApp) -> &Presentation {
    app.doc.as_ref().unwrap().project.presentation.as_ref().unwrap()
}

/// Five more steps after the one added through the screen.
fn more_steps(p: &mut Presentation) {
    p.add("How many segments", View::KChoice { k: Some(5) });
    p.add("Our segments at a glance", View::Segments { highlight: Some(SegmentRef::Segment(1)) });
    p.add("The first segment up close", View::Segment { segment: SegmentRef::Segment(0) });
    p.add("Who is how many", View::Chart { chart: "segment-sizes".into(), highlight: None });
    p.add("Where each segment stands", View::Board { quadrant: None });
    p.steps[0].notes = "Thank everyone for coming and say why we are here".into();
    p.steps[1].group = "Model".into();
    p.steps[2].group = "Model".into();
}

#[test]
fn steps_are_built_on_the_present_screen_and_shown_full_screen_with_the_keys() {
    let mut harness = demo_1080p();
    // The demo comes with its own presentation; this one is built from nothing.
    assert_eq!(presentation(harness.state()).steps.len(), 8, "the demo's presentation");
    harness.state_mut().push(Command::EditPresentation {
        presentation: Box::new(strata::engine::presentation::Presentation::default()),
        what: "start over".into(),
    });
    harness.run();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Num9);
    harness.run();
    assert_eq!(harness.state().screen, Screen::Presentation);
    harness.get_by_label_contains("No steps yet");

    // Add a title step through the menu and write its caption.
    harness.get_by_label("Add a step").click();
    harness.run();
    harness.get_by_label("Title").click();
    harness.run();
    assert_eq!(presentation(harness.state()).steps.len(), 1);
    let caption = harness.get_by_role_and_label(Role::TextInput, "Caption");
    caption.focus();
    caption.type_text(" today");
    harness.run();
    assert_eq!(presentation(harness.state()).steps[0].caption, "Our customer segments today");
    // Typing is one undo step, and the step is the presentation's.
    let undo = harness.state().doc.as_ref().unwrap().undo_label().map(str::to_string);
    assert_eq!(undo.as_deref(), Some("caption of step 1"));

    let mut p = presentation(harness.state()).clone();
    more_steps(&mut p);
    harness.state_mut().push(Command::EditPresentation { presentation: Box::new(p), what: "more steps".into() });
    harness.run();
    // Groups are headers over their steps; each step says what it shows.
    harness.get_by_label("Model");
    harness.get_by_label_contains("The k choice, k = 5 marked");
    // Duplicate and move: undoable edits of the project.
    harness.get_by_label("2. How many segments").click();
    harness.run();
    harness.get_by_label("Duplicate").click();
    harness.run();
    assert_eq!(presentation(harness.state()).steps.len(), 7);
    harness.get_by_label("Move down").click();
    harness.run();
    assert_eq!(presentation(harness.state()).steps[3].caption, "How many segments");
    harness.get_by_label("Delete").click();
    harness.run();
    assert_eq!(presentation(harness.state()).steps.len(), 6);
    harness.get_by_label("1. Our customer segments today").click();
    harness.run();

    // F6 presents from the selected step, full screen, every control hidden.
    key(&mut harness, egui::Key::F6);
    assert_eq!(shown_step(&harness), Some(0));
    harness.get_by_label("Our customer segments today");
    harness.get_by_label("1 / 6");
    assert!(harness.query_by_label("Add a step").is_none(), "no control of the window is shown");
    assert!(harness.query_by_label("1  Data").is_none());
    // The speaker notes are never on the audience's canvas.
    assert!(harness.query_by_label_contains("Thank everyone").is_none());

    key(&mut harness, egui::Key::ArrowRight);
    assert_eq!(shown_step(&harness), Some(1));
    harness.get_by_label("How many segments");
    harness.get_by_label("2 / 6");
    harness.get_by_label("Elbow (inertia): lower is tighter");
    key(&mut harness, egui::Key::Space);
    harness.get_by_label("Our segments at a glance");
    key(&mut harness, egui::Key::ArrowLeft);
    harness.get_by_label("How many segments");
    key(&mut harness, egui::Key::Num4);
    assert_eq!(shown_step(&harness), Some(3));
    harness.get_by_label("The first segment up close");
    // The segment's card: its name and its share, live from the run.
    let name = segment_name(harness.state(), 0);
    assert!(harness.query_all_by_label(&name).count() >= 1, "{name}");
    assert!(harness.query_all_by_label_contains("customers (").count() >= 1);
    // Past the end stays on the last step.
    key(&mut harness, egui::Key::End);
    key(&mut harness, egui::Key::ArrowRight);
    assert_eq!(shown_step(&harness), Some(5));
    harness.get_by_label("Where each segment stands");

    // B blacks the screen: nothing is drawn but black.
    key(&mut harness, egui::Key::B);
    assert!(harness.state().present.is_black());
    assert!(harness.query_by_label("Where each segment stands").is_none());
    assert!(harness.query_by_label("6 / 6").is_none());
    key(&mut harness, egui::Key::B);
    harness.get_by_label("Where each segment stands");

    // The text size: + and -, saved with the presentation.
    key(&mut harness, egui::Key::Plus);
    assert!((presentation(harness.state()).text_scale - 1.7).abs() < 1e-4);
    key(&mut harness, egui::Key::Minus);
    assert!((presentation(harness.state()).text_scale - 1.6).abs() < 1e-4);

    // The presenter view (a panel here: the test has one window) has the notes, the next step and the time.
    key(&mut harness, egui::Key::Num1);
    key(&mut harness, egui::Key::P);
    harness.get_by_label_contains("Thank everyone for coming");
    harness.get_by_label("Next: How many segments");
    harness.get_by_label_contains("Elapsed ");
    key(&mut harness, egui::Key::P);
    assert!(harness.query_by_label_contains("Thank everyone").is_none());

    // Esc leaves, back on the Present screen at the step shown last; nothing changed, no list.
    key(&mut harness, egui::Key::Escape);
    assert!(!harness.state().present.is_presenting());
    assert_eq!(harness.state().present.selected, Some(0));
    assert!(harness.query_by_label("Changes made while presenting").is_none());
    harness.get_by_label("Add a step");
}

#[test]
fn live_edits_while_presenting_are_listed_on_leaving_and_undone_in_one_step() {
    let mut harness = demo_1080p();
    let mut board = Board::default();
    let loyal = board.place_segment(0, Quadrant::Strengths, "they buy often");
    board.add_text("A competitor opens nearby", Quadrant::Threats, "");
    harness.state_mut().doc.as_mut().unwrap().project.board = Some(board);
    let mut p = Presentation::default();
    p.add("Our customer segments", View::Title);
    more_steps(&mut p);
    harness.state_mut().push(Command::EditPresentation { presentation: Box::new(p), what: "steps".into() });
    harness.state_mut().push(Command::Show(Screen::Presentation));
    harness.run();
    let before = harness.state().doc.as_ref().unwrap().state();
    let depth = harness.state().doc.as_ref().unwrap().undo_label().map(str::to_string);
    assert_eq!(depth.as_deref(), Some("steps"));
    let old_name = segment_name(harness.state(), 0);

    harness.state_mut().push(Command::Presenting(PresentCommand::Start));
    harness.run();
    // On the segment's slide, rename it from its card (right click).
    key(&mut harness, egui::Key::Num4);
    harness.get_by_label(&old_name).click_secondary();
    harness.run();
    let field = harness.get_by_role_and_label(Role::TextInput, "New name");
    field.focus();
    field.type_text(" (VIP)");
    harness.run();
    harness.get_by_label("Rename").click();
    harness.run();
    let new_name = format!("{old_name} (VIP)");
    assert_eq!(segment_name(harness.state(), 0), new_name);
    harness.get_by_label(&new_name);
    // On the board's slide, move the segment's card to Opportunities.
    key(&mut harness, egui::Key::Num6);
    harness.get_by_label(&format!("Card {new_name} in Strengths")).click_secondary();
    harness.run();
    harness.get_by_label("Move to Opportunities").click();
    harness.run();
    let board = harness.state().doc.as_ref().unwrap().project.board.clone().unwrap();
    assert_eq!(board.card(loyal).unwrap().quadrant, Quadrant::Opportunities);
    assert!(harness.state().present.is_presenting(), "live edits keep the show going");
    // A text size change is how the room reads, not a change to undo.
    key(&mut harness, egui::Key::Plus);

    key(&mut harness, egui::Key::Escape);
    assert!(!harness.state().present.is_presenting());
    harness.get_by_label("Changes made while presenting");
    harness.get_by_label("- rename segment 1");
    harness.get_by_label(&format!("- move '{new_name}' to Opportunities"));
    assert!(harness.query_by_label_contains("text size").is_none());
    // Kept in the project until undone.
    assert_eq!(segment_name(harness.state(), 0), new_name);

    harness.get_by_label("Undo all").click();
    harness.run();
    let app = harness.state();
    let doc = app.doc.as_ref().unwrap();
    assert_eq!(segment_name(app, 0), old_name);
    assert_eq!(doc.project.board.as_ref().unwrap().card(loyal).unwrap().quadrant, Quadrant::Strengths);
    assert!(matches!(&doc.project.board.as_ref().unwrap().cards[0].subject, Subject::Segment(SegmentRef::Segment(0))));
    assert!((presentation(app).text_scale - 1.7).abs() < 1e-4, "the text size stays");
    let mut expected = before.clone();
    expected.presentation.as_mut().unwrap().text_scale = presentation(app).text_scale;
    assert_eq!(doc.state(), expected);
    assert_eq!(doc.undo_label(), Some(UNDO_ALL), "one undo step");
    assert_eq!(doc.project.audit.last().unwrap().what, UNDO_ALL);
    assert!(harness.query_by_label("Changes made while presenting").is_none());
    // Undoing "Undo all" brings every change back at once.
    harness.state_mut().push(Command::Undo);
    harness.run();
    assert_eq!(segment_name(harness.state(), 0), new_name);
}

#[test]
fn two_digits_typed_quickly_jump_to_a_step_past_nine() {
    let mut harness = demo_1080p();
    let mut p = Presentation::default();
    for i in 1..=12 {
        p.add(&format!("Slide number {i}"), View::Title);
    }
    harness.state_mut().push(Command::EditPresentation { presentation: Box::new(p), what: "steps".into() });
    harness.state_mut().push(Command::Presenting(PresentCommand::Start));
    harness.run();
    harness.key_press(egui::Key::Num1);
    harness.key_press(egui::Key::Num2);
    harness.run();
    assert_eq!(shown_step(&harness), Some(11));
    harness.get_by_label("Slide number 12");
    harness.get_by_label("12 / 12");
    // Without steps there is nothing to present: said, not shown.
    harness.state_mut().push(Command::Presenting(PresentCommand::Stop));
    harness.state_mut().push(Command::EditPresentation { presentation: Box::default(), what: "none".into() });
    harness.state_mut().push(Command::Presenting(PresentCommand::Start));
    harness.run();
    assert!(!harness.state().present.is_presenting());
    assert!(harness.state().last_error.as_deref().unwrap_or_default().contains("no steps"));
}
