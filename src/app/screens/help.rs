//! The Help menu: keyboard shortcuts, about, and a short guided tour of the demo that switches the
//! screen as it goes.

use eframe::egui::{self, RichText, Ui};

use crate::app::{Command, Screen, StrataApp};

/// What the Help menu has open.
#[derive(Default)]
pub struct HelpState {
    /// The keyboard shortcuts window.
    pub shortcuts: bool,
    /// The about window.
    pub about: bool,
    /// The guided tour's step, while it is open.
    pub tour_step: Option<usize>,
}

/// One step of the tour: the screen it shows, a title, and what to look at and do.
pub struct TourStep {
    /// The screen the step switches to.
    pub screen: Screen,
    /// A few words.
    pub title: &'static str,
    /// What to look at and what to do.
    pub text: &'static str,
}

/// The guided tour of the demo, one step per screen in the order of work.
pub const TOUR: [TourStep; 7] = [
    TourStep {
        screen: Screen::Data,
        title: "Where the customers come from",
        text: "The demo is the CDNOW transaction log: 69,659 purchases by 23,570 customers. Strata turns it into one \
               row per customer (recency, frequency, money spent). Look at the Quality panel at the bottom for \
               anything odd before you trust a model.",
    },
    TourStep {
        screen: Screen::Features,
        title: "What the model sees",
        text: "Tick the features the model uses. Skewed amounts read better on a log scale; each feature is scaled \
               so none dominates by its units. Click a feature to see it before and after.",
    },
    TourStep {
        screen: Screen::Model,
        title: "How many segments",
        text: "Choose a method and k. The charts compare every k tried: look for the elbow of the inertia and the \
               highest silhouette, then click a \"k = ...\" button to use that k everywhere.",
    },
    TourStep {
        screen: Screen::Segments,
        title: "Who is in each segment",
        text: "One card per segment: its size, its means, and how many standard deviations each sits from \
               everyone. Type a name and a note on a card: they stay with the same customers when you re-fit.",
    },
    TourStep {
        screen: Screen::Compare,
        title: "Two segmentations side by side",
        text: "Pick two segmentations you made (another k, another method) and see which customers moved, with the \
               adjusted Rand index for how much they agree.",
    },
    TourStep {
        screen: Screen::Rules,
        title: "Business rules on top",
        text: "Write a rule such as monetary_total > p99 then segment \"VIP\" to override the model for customers \
               the business treats apart. Every change is written to the audit log with who and why.",
    },
    TourStep {
        screen: Screen::OverTime,
        title: "Customers over time",
        text: "Cut the log into windows and follow the customers from one segment to the next. When you are done, \
               save the project (Ctrl+S): it re-runs and checks itself when opened again.",
    },
];

/// The Help menu's entries.
pub fn help_menu_ui(ui: &mut Ui, app: &mut StrataApp) {
    if ui.button("Guided tour of the demo").clicked() {
        start_tour(app);
    }
    if ui.button("Keyboard shortcuts").clicked() {
        app.help.shortcuts = true;
    }
    if ui.button("About Strata").clicked() {
        app.help.about = true;
    }
}

/// Opens the tour on its first step, opening the demo first when another project is open.
fn start_tour(app: &mut StrataApp) {
    if !app.doc.as_ref().is_some_and(|d| d.is_demo) {
        app.push(Command::OpenDemo);
    }
    app.help.tour_step = Some(0);
    app.push(Command::Show(TOUR[0].screen));
}

/// Draws whatever the Help menu has open.
pub fn help_windows_ui(ctx: &egui::Context, app: &mut StrataApp) {
    tour_ui(ctx, app);
    let mut open = app.help.shortcuts;
    egui::Window::new("Keyboard shortcuts").open(&mut open).collapsible(false).resizable(false).show(ctx, |ui| {
        egui::Grid::new("shortcuts").spacing([24.0, 4.0]).striped(true).show(ui, |ui| {
            for (keys, what) in SHORTCUTS {
                ui.label(RichText::new(*keys).monospace());
                ui.label(*what);
                ui.end_row();
            }
        });
    });
    app.help.shortcuts = open;
    let mut open = app.help.about;
    egui::Window::new("About Strata").open(&mut open).collapsible(false).resizable(false).show(ctx, |ui| {
        ui.heading(format!("Strata {}", env!("CARGO_PKG_VERSION")));
        ui.label(env!("CARGO_PKG_DESCRIPTION"));
        ui.label(
            "Everything the window computes, the command line reproduces: run `strata --help` in a terminal. A \
             project file stores the data's fingerprint, the settings and the results, and re-runs itself when \
             opened.",
        );
    });
    app.help.about = open;
}

/// Every keyboard shortcut, as the Help menu lists them.
const SHORTCUTS: &[(&str, &str)] = &[
    ("Ctrl+1 ... Ctrl+7", "Show Data, Features, Model, Segments, Compare, Rules, Over time"),
    ("F5", "Run on the current settings"),
    ("Ctrl+Z", "Undo"),
    ("Ctrl+Shift+Z, Ctrl+Y", "Redo"),
    ("Ctrl+N", "New project"),
    ("Ctrl+O", "Open a project"),
    ("Ctrl+S", "Save"),
    ("Ctrl+Shift+S", "Save as"),
];

/// The tour's window: where we are, what to do, Back and Next.
fn tour_ui(ctx: &egui::Context, app: &mut StrataApp) {
    let Some(step) = app.help.tour_step else { return };
    let step = step.min(TOUR.len() - 1);
    let current = &TOUR[step];
    let mut open = true;
    let mut go_to = None;
    egui::Window::new("Guided tour")
        .open(&mut open)
        .collapsible(false)
        .resizable(false)
        .default_width(380.0)
        .anchor(egui::Align2::RIGHT_TOP, [-16.0, 80.0])
        .show(ctx, |ui| {
            ui.label(RichText::new(format!("Step {} of {}: {}", step + 1, TOUR.len(), current.screen.label())).weak());
            ui.heading(current.title);
            ui.label(current.text);
            ui.add_space(8.0);
            ui.horizontal(|ui| {
                if ui.add_enabled(step > 0, egui::Button::new("Back")).clicked() {
                    go_to = Some(step - 1);
                }
                if step + 1 < TOUR.len() {
                    if ui.button("Next").clicked() {
                        go_to = Some(step + 1);
                    }
                } else if ui.button("Finish").clicked() {
                    app.help.tour_step = None;
                }
            });
        });
    if !open {
        app.help.tour_step = None;
    }
    if let Some(next) = go_to {
        app.help.tour_step = Some(next);
        app.push(Command::Show(TOUR[next].screen));
    }
}
