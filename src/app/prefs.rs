//! Preferences remembered between runs, separately from any project: theme, interface scale,
//! recent files, whether edits run by themselves. (Panel sizes are kept by egui's own memory.)

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Light, dark, or as the system says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ThemeChoice {
    /// Light.
    #[default]
    Light,
    /// Dark.
    Dark,
    /// Follow the operating system.
    System,
}

/// Remembered preferences; unknown or missing fields fall back to the defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Prefs {
    /// Colour theme.
    pub theme: ThemeChoice,
    /// Zoom of the whole interface (1.0 = normal; 1.5-2.0 reads well on a projector).
    pub ui_scale: f32,
    /// Project files opened or saved, newest first.
    pub recent_projects: Vec<PathBuf>,
    /// Data files opened, newest first.
    pub recent_data: Vec<PathBuf>,
    /// Whether every edit starts a run (latest wins), as Orange does.
    pub auto_run: bool,
    /// The name the audit log records rule and override changes under (empty: the login name).
    pub audit_name: String,
}

impl Default for Prefs {
    fn default() -> Self {
        Self {
            theme: ThemeChoice::Light,
            ui_scale: 1.0,
            recent_projects: Vec::new(),
            recent_data: Vec::new(),
            auto_run: true,
            audit_name: String::new(),
        }
    }
}

const RECENT_MAX: usize = 10;

fn remember(list: &mut Vec<PathBuf>, path: &Path) {
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    list.retain(|p| p != &path);
    list.insert(0, path);
    list.truncate(RECENT_MAX);
}

impl Prefs {
    /// Puts a project file first in the recent list.
    pub fn remember_project(&mut self, path: &Path) {
        remember(&mut self.recent_projects, path);
    }

    /// Puts a data file first in the recent list.
    pub fn remember_data(&mut self, path: &Path) {
        remember(&mut self.recent_data, path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_lists_put_the_newest_first_without_repeats() {
        let mut prefs = Prefs::default();
        for p in ["a.strata", "b.strata", "a.strata"] {
            prefs.remember_project(Path::new(p));
        }
        assert_eq!(prefs.recent_projects, vec![PathBuf::from("a.strata"), PathBuf::from("b.strata")]);
    }

    #[test]
    fn missing_fields_take_defaults() {
        let prefs: Prefs = ron::from_str("(theme: Dark)").unwrap();
        assert_eq!(prefs.theme, ThemeChoice::Dark);
        assert!(prefs.auto_run);
        assert_eq!(prefs.ui_scale, 1.0);
    }
}
