//! A presentation: the steps a facilitator builds in advance, each a captured view of the project
//! (a screen, the k choice, a segment, a chart, the SWOT board or one quadrant, the TOWS cells)
//! with a caption and speaker notes. Stored in the project (format 8); the views show live
//! figures, so a step always shows the project as it is now, never a stale picture.

use serde::{Deserialize, Serialize};

use crate::engine::swot::{Quadrant, SegmentMap, SegmentRef};

/// What a step shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum View {
    /// The caption alone, large: a title or a section break.
    Title,
    /// The k choice: the index charts, with `k` marked (`None`: the project's k).
    KChoice {
        /// The k marked on the charts.
        k: Option<usize>,
    },
    /// Every segment side by side (names, sizes, what sets each apart), one highlighted.
    Segments {
        /// The highlighted segment, if any.
        highlight: Option<SegmentRef>,
    },
    /// One segment's card, large.
    Segment {
        /// The segment.
        segment: SegmentRef,
    },
    /// One chart by its name (the names `strata chart` takes), a segment highlighted where the
    /// chart has segments.
    Chart {
        /// The chart's name.
        chart: String,
        /// The highlighted segment, if any.
        highlight: Option<SegmentRef>,
    },
    /// The SWOT board, or one quadrant of it.
    Board {
        /// The quadrant shown alone (`None`: all four).
        quadrant: Option<Quadrant>,
    },
    /// The TOWS strategy cells.
    Tows,
    /// A screen of the window as it is (its tab label: "Data", "Model", "Over time", ...).
    Screen {
        /// The screen's tab label.
        screen: String,
    },
}

impl View {
    /// What it shows, in a few words (for the step list and the report).
    pub fn describe(&self, segment_name: &dyn Fn(&SegmentRef) -> String) -> String {
        match self {
            View::Title => "Title".to_string(),
            View::KChoice { k: Some(k) } => format!("The k choice, k = {k} marked"),
            View::KChoice { k: None } => "The k choice".to_string(),
            View::Segments { highlight: Some(s) } => format!("All segments, {} highlighted", segment_name(s)),
            View::Segments { highlight: None } => "All segments".to_string(),
            View::Segment { segment } => format!("Segment card: {}", segment_name(segment)),
            View::Chart { chart, highlight: Some(s) } => format!("Chart {chart}, {} highlighted", segment_name(s)),
            View::Chart { chart, highlight: None } => format!("Chart {chart}"),
            View::Board { quadrant: Some(q) } => format!("SWOT board: {}", q.label()),
            View::Board { quadrant: None } => "SWOT board".to_string(),
            View::Tows => "TOWS strategies".to_string(),
            View::Screen { screen } => format!("The {screen} screen"),
        }
    }

    fn refs_mut(&mut self) -> Option<&mut SegmentRef> {
        match self {
            View::Segments { highlight } | View::Chart { highlight, .. } => highlight.as_mut(),
            View::Segment { segment } => Some(segment),
            _ => None,
        }
    }

    fn refs(&self) -> Option<&SegmentRef> {
        match self {
            View::Segments { highlight } | View::Chart { highlight, .. } => highlight.as_ref(),
            View::Segment { segment } => Some(segment),
            _ => None,
        }
    }
}

/// One step of a presentation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Unique among the steps (kept when steps are reordered).
    pub id: u32,
    /// What the audience reads, at the top of the slide.
    pub caption: String,
    /// What the presenter says: shown only in the presenter view and the report.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
    /// The group (section) it belongs to; consecutive steps with the same group form one.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub group: String,
    /// What it shows.
    pub view: View,
}

/// Text scale on the 16:9 canvas: 1.0 is the window's own size, [`PROJECTOR_SCALE`] the preset.
pub const PROJECTOR_SCALE: f32 = 1.6;
/// The bounds of the text scale.
pub const SCALE_RANGE: (f32, f32) = (0.5, 4.0);
/// Steps a presentation may hold.
pub const MAX_STEPS: usize = 500;

/// A presentation of the project.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Presentation {
    /// The steps in order.
    pub steps: Vec<Step>,
    /// The text scale on the canvas ([`PROJECTOR_SCALE`] by default).
    pub text_scale: f32,
}

impl Default for Presentation {
    fn default() -> Self {
        Self { steps: Vec::new(), text_scale: PROJECTOR_SCALE }
    }
}

impl Presentation {
    /// A step id no step has yet.
    pub fn next_id(&self) -> u32 {
        self.steps.iter().map(|s| s.id).max().map_or(1, |m| m.saturating_add(1))
    }

    /// Adds a step at the end; returns its id.
    pub fn add(&mut self, caption: &str, view: View) -> u32 {
        let id = self.next_id();
        self.steps.push(Step { id, caption: caption.to_string(), notes: String::new(), group: String::new(), view });
        id
    }

    /// A copy of step `index` right after it (with its own id); returns the copy's index.
    pub fn duplicate(&mut self, index: usize) -> Option<usize> {
        let mut copy = self.steps.get(index)?.clone();
        copy.id = self.next_id();
        self.steps.insert(index + 1, copy);
        Some(index + 1)
    }

    /// Moves step `from` to position `to` (both clamped); returns where it is now.
    pub fn reorder(&mut self, from: usize, to: usize) -> Option<usize> {
        if from >= self.steps.len() {
            return None;
        }
        let step = self.steps.remove(from);
        let to = to.min(self.steps.len());
        self.steps.insert(to, step);
        Some(to)
    }

    /// The groups in order, each with the range of its steps (a step without a group is its own).
    pub fn groups(&self) -> Vec<(String, std::ops::Range<usize>)> {
        let mut out: Vec<(String, std::ops::Range<usize>)> = Vec::new();
        for (i, step) in self.steps.iter().enumerate() {
            match out.last_mut() {
                Some((group, range)) if !step.group.is_empty() && *group == step.group => range.end = i + 1,
                _ => out.push((step.group.clone(), i..i + 1)),
            }
        }
        out
    }

    /// Carries every segment a step refers to where its customers went ([`crate::engine::swot::follow`]).
    pub fn follow(&mut self, map: &SegmentMap) -> Vec<String> {
        crate::engine::swot::follow(&mut self.refs_mut(), map)
    }

    /// Every segment reference of the steps, to carry.
    pub(crate) fn refs_mut(&mut self) -> impl Iterator<Item = &mut SegmentRef> {
        self.steps.iter_mut().filter_map(|s| s.view.refs_mut())
    }

    /// Every segment reference of the steps.
    pub fn refs(&self) -> Vec<&SegmentRef> {
        self.steps.iter().filter_map(|s| s.view.refs()).collect()
    }

    /// Checks bounds as read from a file; the message names the key.
    pub fn check(&self) -> Result<(), String> {
        use crate::engine::project::validate::{MAX_NAME_CHARS, MAX_SEGMENTS, MAX_TEXT_CHARS};
        if self.steps.len() > MAX_STEPS {
            return Err(format!("presentation.steps has {} steps; at most {MAX_STEPS}", self.steps.len()));
        }
        if !(self.text_scale.is_finite() && (SCALE_RANGE.0..=SCALE_RANGE.1).contains(&self.text_scale)) {
            return Err(format!(
                "presentation.text_scale is {}; use {} to {}",
                self.text_scale, SCALE_RANGE.0, SCALE_RANGE.1
            ));
        }
        let text = |key: String, t: &str, max: usize| {
            let n = t.chars().count();
            if n > max { Err(format!("{key} has {n} characters; at most {max}")) } else { Ok(()) }
        };
        let mut ids = std::collections::HashSet::new();
        for (i, step) in self.steps.iter().enumerate() {
            let key = format!("presentation.steps[{i}]");
            if !ids.insert(step.id) {
                return Err(format!("{key}: step id {} is used twice", step.id));
            }
            text(format!("{key}.caption"), &step.caption, MAX_TEXT_CHARS)?;
            text(format!("{key}.notes"), &step.notes, MAX_TEXT_CHARS)?;
            text(format!("{key}.group"), &step.group, MAX_NAME_CHARS)?;
            match &step.view {
                View::Chart { chart, .. } => text(format!("{key}.view.chart"), chart, MAX_NAME_CHARS)?,
                View::Screen { screen } => text(format!("{key}.view.screen"), screen, MAX_NAME_CHARS)?,
                View::KChoice { k: Some(k) } if *k > crate::engine::cluster::bounds::MAX_K => {
                    return Err(format!("{key}.view.k is {k}; k runs up to {}", crate::engine::cluster::bounds::MAX_K));
                }
                _ => {}
            }
            if let Some(r) = step.view.refs() {
                match r {
                    SegmentRef::Segment(s) | SegmentRef::Detached { segment: s, .. } if *s >= MAX_SEGMENTS => {
                        return Err(format!("{key}.view names segment {s}; a project has at most {MAX_SEGMENTS}"));
                    }
                    SegmentRef::Detached { name, why, fingerprint, .. } => {
                        text(format!("{key}.view.name"), name, MAX_NAME_CHARS)?;
                        text(format!("{key}.view.why"), why, MAX_TEXT_CHARS)?;
                        text(format!("{key}.view.fingerprint"), fingerprint, MAX_NAME_CHARS)?;
                    }
                    SegmentRef::Segment(_) => {}
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_reorder_duplicate_and_group() {
        let mut p = Presentation::default();
        p.add("Welcome", View::Title);
        p.add("How many segments", View::KChoice { k: Some(5) });
        p.add("Our best customers", View::Segment { segment: SegmentRef::Segment(0) });
        p.steps[1].group = "Model".into();
        p.steps[2].group = "Model".into();
        assert_eq!(p.groups(), vec![(String::new(), 0..1), ("Model".to_string(), 1..3)]);
        assert_eq!(p.duplicate(2), Some(3));
        assert_eq!(p.steps[3].id, 4);
        assert_eq!(p.reorder(3, 0), Some(0));
        assert_eq!(p.steps[0].caption, "Our best customers");
        assert_eq!(p.reorder(9, 0), None);
        assert_eq!(p.check(), Ok(()));
        p.steps[1].id = p.steps[0].id;
        assert!(p.check().unwrap_err().contains("used twice"));
    }

    #[test]
    fn hostile_scales_and_segments_are_refused() {
        let mut p = Presentation { text_scale: f32::NAN, ..Default::default() };
        assert!(p.check().unwrap_err().contains("text_scale"));
        p.text_scale = 1.0;
        p.add("x", View::Segment { segment: SegmentRef::Segment(usize::MAX) });
        assert!(p.check().unwrap_err().contains("at most"));
    }
}
