//! The Review screen: what a reviewer needs to approve a shared project or send it back.

mod bias;

pub use bias::BiasView;

use eframe::egui::{self, Ui};

use crate::app::StrataApp;

/// The parts of the Review screen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReviewTab {
    /// Who made it, from what, with what; the stored segmentation.
    #[default]
    Provenance,
    /// The tamper-evident audit log.
    Audit,
    /// Segments against protected groups.
    Bias,
}

/// Draws the Review screen.
pub fn review_ui(ui: &mut Ui, app: &mut StrataApp) {
    ui.horizontal(|ui| {
        for (tab, label) in
            [(ReviewTab::Provenance, "Provenance"), (ReviewTab::Audit, "Audit log"), (ReviewTab::Bias, "Bias audit")]
        {
            ui.selectable_value(&mut app.view.review_tab, tab, label);
        }
    });
    ui.separator();
    egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| match app.view.review_tab {
        ReviewTab::Provenance => {
            ui.label("Provenance");
        }
        ReviewTab::Audit => {
            ui.label("Audit log");
        }
        ReviewTab::Bias => bias::bias_ui(ui, app),
    });
}
