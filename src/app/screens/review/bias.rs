//! The bias audit on the Review screen.

use eframe::egui::Ui;

use crate::app::StrataApp;

/// What the bias audit remembers between frames.
#[derive(Default)]
pub struct BiasView {}

/// Draws the bias audit.
pub fn bias_ui(ui: &mut Ui, _app: &mut StrataApp) {
    ui.label("Bias audit");
}
