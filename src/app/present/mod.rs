//! Presenting: the step editor (the Present screen), presentation mode (a fixed 16:9 canvas, every
//! control hidden, the keys of a slide show), the presenter view in a second window, and the list
//! of what was changed while presenting with one "Undo all".
//!
//! Steps are the project's ([`crate::engine::presentation`]); this module keeps only what belongs
//! to the session: the selected step, where the show is, the black screen, the clock.

mod editor;
mod mode;
mod slide;

use eframe::egui;

pub use editor::editor_ui;
pub use mode::presenting_ui;

use super::document::DocState;
use super::{Command, Screen, StrataApp};
use crate::engine::presentation::{Presentation, SCALE_RANGE};
use crate::engine::swot::Quadrant;

/// What the step editor, the slide keys and the live edits on a slide ask for.
#[derive(Clone, Debug, PartialEq)]
pub enum PresentCommand {
    /// Enter presentation mode at the selected step (the first when none is selected).
    Start,
    /// Leave presentation mode (the list of changes made while presenting opens when there are any).
    Stop,
    /// The next step.
    Next,
    /// The previous step.
    Previous,
    /// Step `n` (0-based).
    Go(usize),
    /// A digit typed: jumps to that step, or with the digit typed just before it to a two-digit one.
    Digit(usize),
    /// Black the screen, or show the slide again.
    ToggleBlack,
    /// Show or hide the presenter view.
    TogglePresenterView,
    /// Make the slide text larger (`true`) or smaller, a step of 0.1 (saved with the presentation).
    TextSize(bool),
    /// Move a card of the SWOT board to another quadrant (a live edit).
    MoveCard {
        /// The card's id.
        card: u32,
        /// Where it goes.
        quadrant: Quadrant,
    },
    /// Set step `index`'s caption (a live edit).
    SetCaption {
        /// The step (0-based).
        index: usize,
        /// Its new caption.
        caption: String,
    },
    /// Undo every change made while presenting, as one step.
    UndoAll,
    /// Close the list of changes, keeping them.
    KeepChanges,
}

impl PresentCommand {
    /// Whether it changes the project (a live edit, or the text size saved with the presentation).
    pub fn changes_board(&self) -> bool {
        matches!(self, Self::MoveCard { .. } | Self::SetCaption { .. } | Self::UndoAll | Self::TextSize(_))
    }
}

/// A presentation under way.
pub struct Session {
    /// The step shown (0-based).
    pub step: usize,
    /// Whether the screen is black.
    pub black: bool,
    /// When presenting started (egui time, seconds).
    started_at: f64,
    /// The undoable state when presenting started, for "Undo all".
    start_state: DocState,
    /// The undo history's length when presenting started: later entries are changes made while presenting.
    start_depth: usize,
    /// The digit typed last and when, for two-digit jumps.
    digit: Option<(usize, f64)>,
}

/// The changes made while presenting, listed after leaving.
pub struct ChangesShown {
    /// One line per change.
    pub lines: Vec<String>,
    start_state: DocState,
}

/// The presenting state of the session (not saved in the project).
#[derive(Default)]
pub struct PresentState {
    /// The step selected in the editor.
    pub selected: Option<usize>,
    /// The show under way, if any.
    pub session: Option<Session>,
    /// Whether the presenter view (current and next step, notes, time) is shown.
    pub presenter_view: bool,
    /// What was changed during the last presentation, until kept or undone.
    pub changes: Option<ChangesShown>,
    /// The screen shown before the Present screen, for "Capture this view".
    pub last_screen: Option<Screen>,
    /// A segment being renamed on a slide, with the name as typed.
    pub(crate) rename: Option<(usize, String)>,
    /// The caption as typed while editing it on a slide.
    pub(crate) caption: Option<String>,
    /// The full screen presenting asked for (and must leave), if any.
    fullscreen: Option<FullScreen>,
}

/// The full screen asked for when presenting started. Where no window manager carries out the
/// request (a bare X server, some kiosk set-ups) the window is made to cover its monitor by hand
/// instead, and put back where it was on leaving.
#[derive(Clone, Copy, Debug)]
struct FullScreen {
    /// When it was asked for (egui time).
    since: f64,
    /// The window's position and inner size before (points).
    before: Option<(egui::Pos2, egui::Vec2)>,
    /// Whether the window was made to cover the monitor by hand.
    by_hand: bool,
}

/// How long a window manager gets to carry out the full-screen request before the window covers
/// the monitor by hand.
const FULL_SCREEN_GRACE_SECS: f64 = 0.5;

/// What "Undo all" is called in the undo menu and the audit log.
pub const UNDO_ALL: &str = "undo the changes made while presenting";
/// What a text size change is called (kept out of the list of changes: it is how the room reads).
const TEXT_SIZE: &str = "presentation text size";

impl PresentState {
    /// Forgets what belongs to the project being closed (the presenter view setting and the full
    /// screen to leave stay).
    pub(crate) fn close_project(&mut self) {
        *self = PresentState { presenter_view: self.presenter_view, fullscreen: self.fullscreen, ..Default::default() };
    }

    /// Whether presentation mode is on.
    pub fn is_presenting(&self) -> bool {
        self.session.is_some()
    }

    /// The step shown while presenting.
    pub fn current_step(&self) -> Option<usize> {
        self.session.as_ref().map(|s| s.step)
    }

    /// Whether the screen is blacked.
    pub fn is_black(&self) -> bool {
        self.session.as_ref().is_some_and(|s| s.black)
    }

    /// Seconds since presenting started, at egui time `now`.
    pub fn elapsed_secs(&self, now: f64) -> Option<f64> {
        self.session.as_ref().map(|s| (now - s.started_at).max(0.0))
    }
}

impl StrataApp {
    /// The presentation of the open project, if it has one.
    pub fn presentation(&self) -> Option<&Presentation> {
        self.doc.as_ref().and_then(|d| d.project.presentation.as_ref())
    }

    fn step_count(&self) -> usize {
        self.presentation().map_or(0, |p| p.steps.len())
    }

    /// Applies a presentation command.
    pub(super) fn apply_presenting(&mut self, ctx: &egui::Context, command: PresentCommand) {
        let n = self.step_count();
        match command {
            PresentCommand::Start => {
                if n == 0 {
                    self.report_error("The presentation has no steps yet: add one on the Present screen (Ctrl+9).");
                    return;
                }
                let Some(doc) = &mut self.doc else { return };
                // A first live edit must not merge into the edit made before presenting.
                doc.merge_key = None;
                let step = self.present.selected.unwrap_or(0).min(n - 1);
                self.present.changes = None;
                self.present.session = Some(Session {
                    step,
                    black: false,
                    started_at: ctx.input(|i| i.time),
                    start_state: doc.state(),
                    start_depth: doc.undo.len(),
                    digit: None,
                });
                if self.present.fullscreen.is_none() {
                    let before = ctx.input(|i| {
                        let v = i.viewport();
                        v.outer_rect.zip(v.inner_rect).map(|(outer, inner)| (outer.min, inner.size()))
                    });
                    self.present.fullscreen = Some(FullScreen { since: ctx.input(|i| i.time), before, by_hand: false });
                }
                ctx.send_viewport_cmd(egui::ViewportCommand::Fullscreen(true));
            }
            PresentCommand::Stop => {
                let Some(session) = self.present.session.take() else { return };
                self.present.selected = Some(session.step);
                self.present.rename = None;
                self.present.caption = None;
                let Some(doc) = &mut self.doc else { return };
                doc.merge_key = None;
                if doc.state() == session.start_state {
                    return;
                }
                let mut lines: Vec<String> = doc
                    .undo
                    .get(session.start_depth..)
                    .unwrap_or_default()
                    .iter()
                    .map(|(_, what)| what.clone())
                    .filter(|what| what != TEXT_SIZE)
                    .collect();
                if doc.undo.len() < session.start_depth {
                    lines.push("an edit made before presenting was undone".to_string());
                }
                let mut without_size = doc.state();
                if let (Some(now), Some(then)) = (&mut without_size.presentation, &session.start_state.presentation) {
                    now.text_scale = then.text_scale;
                }
                if without_size != session.start_state {
                    self.present.changes = Some(ChangesShown { lines, start_state: session.start_state });
                }
            }
            PresentCommand::Next | PresentCommand::Previous | PresentCommand::Go(_) => {
                let Some(session) = &mut self.present.session else { return };
                if session.black {
                    // Back from black to the slide that was there, as slide shows do.
                    session.black = false;
                    return;
                }
                let last = n.saturating_sub(1);
                session.step = match command {
                    PresentCommand::Next => (session.step + 1).min(last),
                    PresentCommand::Previous => session.step.saturating_sub(1),
                    PresentCommand::Go(i) => i.min(last),
                    _ => session.step,
                };
                self.present.rename = None;
                self.present.caption = None;
            }
            PresentCommand::Digit(d) => {
                let now = ctx.input(|i| i.time);
                let Some(session) = &mut self.present.session else { return };
                session.black = false;
                // A second digit within a second makes a two-digit step number when there is one.
                let two = session.digit.filter(|(_, at)| now - at < 1.0).map(|(first, _)| first * 10 + d);
                let target = match two {
                    Some(t) if (1..=n).contains(&t) => Some(t),
                    _ => (1..=n).contains(&d).then_some(d),
                };
                session.digit = if two.is_some_and(|t| (1..=n).contains(&t)) { None } else { Some((d, now)) };
                if let Some(t) = target {
                    session.step = t - 1;
                }
            }
            PresentCommand::ToggleBlack => {
                if let Some(session) = &mut self.present.session {
                    session.black = !session.black;
                }
            }
            PresentCommand::TogglePresenterView => self.present.presenter_view = !self.present.presenter_view,
            PresentCommand::TextSize(larger) => {
                let Some(mut presentation) = self.presentation().cloned() else { return };
                let step = if larger { 0.1 } else { -0.1 };
                let scale = ((presentation.text_scale + step) * 10.0).round() / 10.0;
                presentation.text_scale = scale.clamp(SCALE_RANGE.0, SCALE_RANGE.1);
                self.edit(TEXT_SIZE, |state| state.presentation = Some(presentation));
            }
            PresentCommand::MoveCard { card, quadrant } => {
                let Some(mut board) = self.doc.as_ref().and_then(|d| d.project.board.clone()) else { return };
                let what = match board.card(card) {
                    Some(c) => format!("move {} to {}", self.card_title(&c.subject), quadrant.label()),
                    None => return,
                };
                board.move_card(card, quadrant);
                self.edit(&what, |state| state.board = Some(board));
            }
            PresentCommand::SetCaption { index, caption } => {
                let Some(mut presentation) = self.presentation().cloned() else { return };
                let Some(step) = presentation.steps.get_mut(index) else { return };
                step.caption = caption;
                self.edit(&format!("caption of step {}", index + 1), |state| state.presentation = Some(presentation));
            }
            PresentCommand::UndoAll => {
                let Some(shown) = self.present.changes.take() else { return };
                let Some(doc) = &self.doc else { return };
                let before = doc.state();
                let audited = doc.project.audit.len();
                let mut state = shown.start_state;
                // The text size stays as the room needed it.
                if let (Some(then), Some(now)) = (&mut state.presentation, &before.presentation) {
                    then.text_scale = now.text_scale;
                }
                self.edit(UNDO_ALL, |s| *s = state);
                // A rename alone is no rules edit: log it here so every "Undo all" is in the audit log.
                if self.doc.as_ref().is_some_and(|d| d.project.audit.len() == audited) {
                    self.audit(&before, UNDO_ALL, "", false);
                }
            }
            PresentCommand::KeepChanges => self.present.changes = None,
        }
    }

    /// A card's subject in words ("'Loyal'", "'Competitor exits'").
    fn card_title(&self, subject: &crate::engine::swot::Subject) -> String {
        match subject {
            crate::engine::swot::Subject::Text(text) => format!("'{text}'"),
            crate::engine::swot::Subject::Segment(r) => format!("'{}'", self.segment_ref_name(r)),
        }
    }

    /// A segment reference's name: the segment's name now, or the name it had when detached.
    pub(crate) fn segment_ref_name(&self, r: &crate::engine::swot::SegmentRef) -> String {
        match r {
            crate::engine::swot::SegmentRef::Segment(s) => match &self.output {
                Some(out) => self.segment_name_in(&out.result, *s),
                None => format!("Segment {}", s + 1),
            },
            crate::engine::swot::SegmentRef::Detached { name, .. } => format!("{name} (no longer a segment)"),
        }
    }

    /// Takes presentation mode's keys: Right, Space, Page Down (next), Left, Page Up (previous),
    /// Home, End, digits (jump), B (black), Esc (leave), + and - (text size), P (presenter view).
    pub(super) fn presenting_keys(&mut self, ctx: &egui::Context) {
        if self.screen != Screen::Presentation {
            self.present.last_screen = Some(self.screen);
        }
        if !self.present.is_presenting() {
            if let Some(full) = self.present.fullscreen.take() {
                ctx.send_viewport_cmd(egui::ViewportCommand::Fullscreen(false));
                if full.by_hand {
                    ctx.send_viewport_cmd(egui::ViewportCommand::Decorations(true));
                    if let Some((position, size)) = full.before {
                        ctx.send_viewport_cmd(egui::ViewportCommand::OuterPosition(position));
                        ctx.send_viewport_cmd(egui::ViewportCommand::InnerSize(size));
                    }
                }
            }
            return;
        }
        self.cover_monitor_if_not_full_screen(ctx);
        // A name or caption being typed on a slide keeps its keys.
        if ctx.memory(|m| m.focused().is_some()) {
            return;
        }
        let commands = slide_keys(ctx, self.step_count());
        self.commands.extend(commands.into_iter().map(Command::Presenting));
    }

    /// Covers the monitor by hand when the full-screen request was not carried out in time (no
    /// window manager): no decorations, at the monitor's origin, at the monitor's size.
    fn cover_monitor_if_not_full_screen(&mut self, ctx: &egui::Context) {
        let Some(full) = &mut self.present.fullscreen else { return };
        let (now, monitor, inner) = ctx.input(|i| (i.time, i.viewport().monitor_size, i.viewport().inner_rect));
        if full.by_hand || now - full.since < FULL_SCREEN_GRACE_SECS {
            if !full.by_hand {
                // Frame after frame for that half second (a delayed repaint was seen not to come).
                ctx.request_repaint();
            }
            return;
        }
        let (Some(monitor), Some(inner)) = (monitor, inner) else { return };
        if inner.width() + 2.0 >= monitor.x && inner.height() + 2.0 >= monitor.y {
            return;
        }
        full.by_hand = true;
        ctx.send_viewport_cmd(egui::ViewportCommand::Decorations(false));
        ctx.send_viewport_cmd(egui::ViewportCommand::OuterPosition(egui::Pos2::ZERO));
        ctx.send_viewport_cmd(egui::ViewportCommand::InnerSize(monitor));
    }
}

/// The slide-show keys pressed this frame, consumed, as commands (in `ctx`'s viewport).
pub(crate) fn slide_keys(ctx: &egui::Context, n_steps: usize) -> Vec<PresentCommand> {
    use egui::{Key, Modifiers};
    let mut out = Vec::new();
    ctx.input_mut(|i| {
        let none = Modifiers::NONE;
        for key in [Key::ArrowRight, Key::Space, Key::PageDown, Key::ArrowDown, Key::N] {
            while i.consume_key(none, key) {
                out.push(PresentCommand::Next);
            }
        }
        for key in [Key::ArrowLeft, Key::PageUp, Key::ArrowUp, Key::Backspace] {
            while i.consume_key(none, key) {
                out.push(PresentCommand::Previous);
            }
        }
        if i.consume_key(none, Key::Home) {
            out.push(PresentCommand::Go(0));
        }
        if i.consume_key(none, Key::End) {
            out.push(PresentCommand::Go(n_steps.saturating_sub(1)));
        }
        let digits = [
            Key::Num0,
            Key::Num1,
            Key::Num2,
            Key::Num3,
            Key::Num4,
            Key::Num5,
            Key::Num6,
            Key::Num7,
            Key::Num8,
            Key::Num9,
        ];
        for (d, key) in digits.into_iter().enumerate() {
            if i.consume_key(none, key) {
                out.push(PresentCommand::Digit(d));
            }
        }
        if i.consume_key(none, Key::B) {
            out.push(PresentCommand::ToggleBlack);
        }
        if i.consume_key(none, Key::P) {
            out.push(PresentCommand::TogglePresenterView);
        }
        if i.consume_key(none, Key::Plus) || i.consume_key(none, Key::Equals) {
            out.push(PresentCommand::TextSize(true));
        }
        if i.consume_key(none, Key::Minus) {
            out.push(PresentCommand::TextSize(false));
        }
        if i.consume_key(none, Key::Escape) {
            out.push(PresentCommand::Stop);
        }
    });
    out
}

/// The list "Changes made while presenting", with "Undo all" (one undo step) and "Keep them".
pub fn changes_ui(ctx: &egui::Context, app: &mut StrataApp) {
    let Some(shown) = &app.present.changes else { return };
    let lines = shown.lines.clone();
    let mut open = true;
    egui::Window::new("Changes made while presenting")
        .open(&mut open)
        .collapsible(false)
        .default_width(460.0)
        .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
        .show(ctx, |ui| {
            ui.label("These changes were made while presenting and are kept in the project:");
            for line in &lines {
                ui.label(format!("- {line}"));
            }
            ui.add_space(8.0);
            ui.horizontal(|ui| {
                if ui.button("Undo all").on_hover_text("Undo every change above, as one step").clicked() {
                    app.push(Command::Presenting(PresentCommand::UndoAll));
                }
                if ui.button("Keep them").clicked() {
                    app.push(Command::Presenting(PresentCommand::KeepChanges));
                }
            });
        });
    if !open {
        app.push(Command::Presenting(PresentCommand::KeepChanges));
    }
}
