//! The path field offered when a file dialog could not be shown (no portal, no zenity).

use std::path::PathBuf;

use eframe::egui;

use crate::app::StrataApp;

/// Draws the path field offered when a file dialog could not be shown.
pub(super) fn path_prompt_ui(ctx: &egui::Context, app: &mut StrataApp) {
    let Some(prompt) = &mut app.path_prompt else { return };
    let mut submitted = None;
    let mut cancelled = false;
    egui::Modal::new(egui::Id::unique("path-prompt")).show(ctx, |ui| {
        ui.heading(prompt.purpose.title());
        ui.label(format!("The file dialog could not open: {}. Type the path instead.", prompt.reason));
        let entered = ui
            .horizontal(|ui| {
                let label = ui.label("Path");
                let field = ui
                    .add(egui::TextEdit::singleline(&mut prompt.text).desired_width(480.0).hint_text("/path/to/file"))
                    .labelled_by(label.id);
                field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter))
            })
            .inner;
        ui.horizontal(|ui| {
            let action = if prompt.purpose.is_save() { "Save" } else { "Open" };
            if ui.button(action).clicked() || entered {
                submitted = Some(PathBuf::from(prompt.text.trim()));
            }
            if ui.button("Cancel").clicked() {
                cancelled = true;
            }
        });
    });
    if let Some(path) = submitted.filter(|p| !p.as_os_str().is_empty()) {
        let purpose = prompt.purpose;
        app.path_prompt = None;
        app.answer_dialog(purpose, path);
    } else if cancelled {
        app.path_prompt = None;
    }
}
