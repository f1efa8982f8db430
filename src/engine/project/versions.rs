//! Published model versions inside the project (format 11): each an immutable copy of what made a
//! fit (the spec, the fitted recipe and model, the segment names, the rules) with its data and
//! assignment fingerprints, sizes, who and when, a note, and the reference a new period is
//! monitored against. One is current: scoring, exports and the monitor use it. Only publishing
//! makes a version; rolling back makes an older one current again without losing the newer ones.

use serde::{Deserialize, Serialize};

use super::{Project, StoredResults};
use crate::engine::monitor::Reference;
use crate::engine::naming::SegmentNote;
use crate::engine::pipeline::{PipelineResult, PipelineSpec};
use crate::engine::rules::BusinessRules;

/// Versions a project may hold.
pub const MAX_VERSIONS: usize = 1_000;

/// One published version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelVersion {
    /// Its number, from 1, never reused.
    pub number: u32,
    /// When it was published (RFC 3339, UTC).
    pub published_at: String,
    /// Who published it.
    pub published_by: String,
    /// Why, in the publisher's words.
    pub note: String,
    /// The spec it was fitted with (with the data fingerprints it was fitted on).
    pub spec: PipelineSpec,
    /// The fitted recipe, model summary, sizes and assignment fingerprint.
    pub results: StoredResults,
    /// Segment names and notes as published.
    pub segments: Vec<SegmentNote>,
    /// Business rules and overrides as published.
    pub rules: BusinessRules,
    /// Every segment's name by number, as published (rule segments and the fallback included).
    pub names: Vec<String>,
    /// What new periods are compared with.
    pub reference: Reference,
}

/// The versions of a project.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Versions {
    /// Every published version, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub published: Vec<ModelVersion>,
    /// The number of the current version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<u32>,
}

impl Versions {
    /// Whether nothing was published (not written to the file).
    pub fn is_empty(&self) -> bool {
        self.published.is_empty() && self.current.is_none()
    }

    /// The version numbered `number`.
    pub fn get(&self, number: u32) -> Option<&ModelVersion> {
        self.published.iter().find(|v| v.number == number)
    }

    /// The current version.
    pub fn current(&self) -> Option<&ModelVersion> {
        self.current.and_then(|n| self.get(n))
    }

    /// The number the next version gets.
    pub fn next_number(&self) -> u32 {
        self.published.iter().map(|v| v.number).max().unwrap_or(0) + 1
    }

    /// Checks versions read from a file: numbers unique, the current one exists, each reference
    /// can count.
    pub fn check(&self) -> Result<(), String> {
        if self.published.len() > MAX_VERSIONS {
            return Err(format!("versions: {} versions, at most {MAX_VERSIONS}", self.published.len()));
        }
        let mut seen = std::collections::HashSet::new();
        for v in &self.published {
            if v.number == 0 || !seen.insert(v.number) {
                return Err(format!("versions: version {} is numbered twice or 0", v.number));
            }
            super::validate::check_results(&v.results).map_err(|e| format!("versions: version {}: {e}", v.number))?;
            v.reference.check().map_err(|e| format!("versions: version {}: {e}", v.number))?;
        }
        if let Some(current) = self.current
            && self.get(current).is_none()
        {
            return Err(format!("versions: the current version {current} was never published"));
        }
        Ok(())
    }
}

/// Every segment's name by number in `result`, as `notes` name them (else the run's default).
pub fn segment_names(result: &PipelineResult, notes: &[SegmentNote]) -> Vec<String> {
    (0..result.n_segments())
        .map(|s| {
            notes.iter().find(|n| n.segment == s).map_or_else(|| result.default_segment_name(s), |n| n.name.clone())
        })
        .collect()
}

impl Project {
    /// Publishes `result` (the project's spec as just run) as a new version, current from now.
    pub fn publish(&mut self, result: &PipelineResult, who: &str, note: &str) -> Result<u32, String> {
        if self.versions.published.len() >= MAX_VERSIONS {
            return Err(format!("the project already holds {MAX_VERSIONS} versions"));
        }
        let names = segment_names(result, &self.segments);
        let reference = Reference::of(result, &names).map_err(|e| e.to_string())?;
        let number = self.versions.next_number();
        self.versions.published.push(ModelVersion {
            number,
            published_at: super::audit_entry::now(),
            published_by: who.to_string(),
            note: note.to_string(),
            spec: self.spec.clone(),
            results: StoredResults::from_result(result),
            segments: self.segments.clone(),
            rules: self.rules.clone(),
            names,
            reference,
        });
        self.versions.current = Some(number);
        Ok(number)
    }

    /// Makes version `number` current again: the project's spec, results, names and rules become
    /// the version's. Newer versions stay.
    pub fn roll_back(&mut self, number: u32) -> Result<(), String> {
        let version = self.versions.get(number).cloned().ok_or_else(|| self.no_such_version(number))?;
        self.spec = version.spec;
        self.results = Some(version.results);
        self.segments = version.segments;
        self.rules = version.rules;
        self.versions.current = Some(number);
        Ok(())
    }

    /// The project as the current version scores it (its spec, names and rules), or the project
    /// itself when nothing is published; with the version's number.
    pub fn scoring_view(&self) -> (Project, Option<u32>) {
        match self.versions.current() {
            Some(v) => {
                let mut view = self.clone();
                view.spec = v.spec.clone();
                view.results = Some(v.results.clone());
                view.segments = v.segments.clone();
                view.rules = v.rules.clone();
                (view, Some(v.number))
            }
            None => (self.clone(), None),
        }
    }

    /// Whether the working spec, names or rules differ from the current version's.
    pub fn differs_from_current(&self) -> bool {
        self.versions
            .current()
            .is_some_and(|v| v.spec != self.spec || v.segments != self.segments || v.rules != self.rules)
    }

    /// The message for a version number that was never published.
    pub fn no_such_version(&self, number: u32) -> String {
        let numbers: Vec<String> = self.versions.published.iter().map(|v| v.number.to_string()).collect();
        if numbers.is_empty() {
            format!("there is no version {number}: nothing has been published (strata publish)")
        } else {
            format!("there is no version {number}: the project has versions {}", numbers.join(", "))
        }
    }
}

/// One difference between two specs: where, and the value on each side (JSON text).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpecChange {
    /// The key's path ("model.algorithm.KMeans.k").
    pub path: String,
    /// Its value in the older version (absent: not there).
    pub from: Option<String>,
    /// Its value in the newer one.
    pub to: Option<String>,
}

/// Every key that differs between two values, by path.
pub fn changes(from: &serde_json::Value, to: &serde_json::Value) -> Vec<SpecChange> {
    let mut flat_from = std::collections::BTreeMap::new();
    let mut flat_to = std::collections::BTreeMap::new();
    flatten("", from, &mut flat_from);
    flatten("", to, &mut flat_to);
    let mut keys: Vec<&String> = flat_from.keys().chain(flat_to.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| flat_from.get(*k) != flat_to.get(*k))
        .map(|k| SpecChange { path: k.clone(), from: flat_from.get(k).cloned(), to: flat_to.get(k).cloned() })
        .collect()
}

fn flatten(path: &str, value: &serde_json::Value, out: &mut std::collections::BTreeMap<String, String>) {
    let join = |key: &str| if path.is_empty() { key.to_string() } else { format!("{path}.{key}") };
    match value {
        serde_json::Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                flatten(&join(k), v, out);
            }
        }
        serde_json::Value::Array(items) if !items.is_empty() => {
            for (i, v) in items.iter().enumerate() {
                flatten(&format!("{path}[{i}]"), v, out);
            }
        }
        other => {
            out.insert(path.to_string(), other.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn changes_name_every_differing_key() {
        let a = json!({"model": {"k": 4, "seed": 1}, "features": ["a", "b"]});
        let b = json!({"model": {"k": 5, "seed": 1}, "features": ["a", "b", "c"]});
        let c = changes(&a, &b);
        assert_eq!(c.len(), 2, "{c:?}");
        assert_eq!(
            (c[0].path.as_str(), c[0].from.as_deref(), c[0].to.as_deref()),
            ("features[2]", None, Some("\"c\""))
        );
        assert_eq!((c[1].path.as_str(), c[1].from.as_deref(), c[1].to.as_deref()), ("model.k", Some("4"), Some("5")));
        assert!(changes(&a, &a).is_empty());
    }
}
